/*  =========================================================================
    zg_rwatch - who hears that a member left a room: the room's observers,
    and the watchers (WATCH) that hear of every room

    Private to zg_rooms. The redis-sync-fanout seed hands every removal
    (timeout or unsubscribe) to one delivery worker, whichever room it is
    in; zgate tells a room's async members, and a watcher hears of removals
    in all rooms without joining them. Each removal is one TIMEOUT event
    [TIMEOUT][listener][room][client][reason] per listener; a watcher that
    also observes the room hears of it once.
    =========================================================================
*/

#ifndef ZG_RWATCH_H_INCLUDED
#define ZG_RWATCH_H_INCLUDED

#include <czmq.h>
#include "zg_room.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_rwatch_t zg_rwatch_t;

//  Create an empty set of watchers that sends events on this ROUTER (a
//  libzmq handle with ROUTER_MANDATORY; the caller keeps it)
zg_rwatch_t *
    zg_rwatch_new (void *handle);

//  Destroy the set (the clients are not touched)
void
    zg_rwatch_destroy (zg_rwatch_t **self_p);

//  A client starts (on) or stops watching every room; stopping a client
//  that does not watch changes nothing
void
    zg_rwatch_set (zg_rwatch_t *self, zg_rclient_t *client, bool on);

//  Whether the client watches
bool
    zg_rwatch_has (zg_rwatch_t *self, zg_rclient_t *client);

//  Watchers
size_t
    zg_rwatch_size (zg_rwatch_t *self);

//  A client was removed from a room for a reason ("timeout", "ack-timeout",
//  "leave", "bye"): tell the room's observers and the watchers. Returns the
//  events libzmq refused.
size_t
    zg_rwatch_removed (zg_rwatch_t *self, zg_room_t *room, zg_rclient_t *client, const char *reason);

//  Self test of this class
void
    zg_rwatch_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
