/*  =========================================================================
    zg_rooms_link - the rooms actor's side of its link to the cluster

    Private to zg_rooms. In cluster mode (cluster/redis set) the rooms actor
    connects to the cluster actor's rooms bridge (zg_rooms_cluster) over one
    inproc PAIR. SEND and OOB go to the bridge as they came (the answer
    comes back from Redis and the link sends it to the client), and so do
    PEEK, STATE and METRICS, which read Redis; every other request stays on
    the node. The room set's hooks tell the bridge when a
    room's local members change (count, whether one is sync) and when a
    message released from Redis is over on this node (the node's ack for
    all its members); messages released by Redis come back through the
    link and are queued in the local room with the seq Redis gave them, so
    the local room, never holding, fans each out at once.
    =========================================================================
*/

#ifndef ZG_ROOMS_LINK_H_INCLUDED
#define ZG_ROOMS_LINK_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_roomset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_rooms_link_t zg_rooms_link_t;

//  Create a link, not yet connected
zg_rooms_link_t *
    zg_rooms_link_new (void);

//  Destroy the link
void
    zg_rooms_link_destroy (zg_rooms_link_t **self_p);

//  Connect to the bridge's endpoint (inproc) and set the room set's hooks.
//  Returns 0, or -1 with a reason (not inproc, or already connected)
int
    zg_rooms_link_connect (zg_rooms_link_t *self, const char *endpoint, zg_roomset_t *rooms,
                           char *error, size_t size);

//  Whether the link is connected
bool
    zg_rooms_link_on (zg_rooms_link_t *self);

//  Tell the bridge the settings it applies in Redis and shows in STATE
//  (no-op while off)
void
    zg_rooms_link_settings (zg_rooms_link_t *self, int64_t max_backlog, bool hold, int64_t ack_timeout);

//  In cluster mode, pass a request on to Redis: its first frames as
//  received (routing id, command, req, fields), then numbers the actor
//  checked or added (PEEK's offset, limit and byte bound, METRICS' top and
//  clients), as decimals. Returns whether it did (false while off: the
//  actor answers itself)
bool
    zg_rooms_link_forward (zg_rooms_link_t *self, zg_wire_request_t *request, size_t frames,
                           const int64_t *numbers, size_t count);

//  Fill a poll item for the link's socket; false while off
bool
    zg_rooms_link_poll_item (zg_rooms_link_t *self, zmq_pollitem_t *item);

//  Handle what the bridge sent: answers go out on the actor's ROUTER
//  (handle), room messages into rooms
void
    zg_rooms_link_handle (zg_rooms_link_t *self, zg_roomset_t *rooms, void *handle, int64_t now);

//  Add the link's counters to a STATS object: cluster-forwarded,
//  cluster-received, cluster-acks, cluster-dropped (only when the link is on)
void
    zg_rooms_link_stats (zg_rooms_link_t *self, json_object *root);

//  Self test of this class
void
    zg_rooms_link_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
