/*  =========================================================================
    zg_roomproxy - a room proxy: many local clients share one upstream
    membership of each room (docs/PROTOCOL.md, "Room proxy")

    The redis-sync-fanout seed's RoomProxyManager: the first local client in
    a room makes the one upstream JOIN; every room message the upstream
    member receives goes to all the room's local clients; the upstream ACK
    is due only once every local client that got the message has acked it,
    and a local client that leaves (or is removed) counts as having acked.
    So N local clients of one room cost zgate's rooms actor one member.

    The proxy holds no socket: it is the bookkeeping, and each call says
    what the caller must send upstream (ZG_ROOMPROXY_JOIN, _ACK, _LEAVE),
    so a program that owns its connection (zg_member, or the gateway's
    rooms DEALER) drives it. Local ids are the caller's names (any
    non-empty strings); a local client gets the upstream token as its own.

        zg_roomproxy_t *proxy = zg_roomproxy_new ();
        if (zg_roomproxy_join (proxy, "lobby", "web-1") & ZG_ROOMPROXY_JOIN)
            zg_member_join (upstream, "lobby", false);
        ...  on a DELIVER for "lobby" with token t:
        if (zg_roomproxy_deliver (proxy, "lobby", t) == 0)
            zg_member_ack (upstream, "lobby", t);
        for (const char *local = zg_roomproxy_first (proxy, "lobby"); local;
             local = zg_roomproxy_next (proxy))
            ... give the message to local
        ...  when local "web-1" acks:
        if (zg_roomproxy_ack (proxy, "lobby", "web-1", t, &reason) == ZG_ROOMPROXY_ACK)
            zg_member_ack (upstream, "lobby", t);
    =========================================================================
*/

#ifndef ZG_ROOMPROXY_H_INCLUDED
#define ZG_ROOMPROXY_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_roomproxy_t zg_roomproxy_t;

//  What the caller must send upstream after a call (flags)
#define ZG_ROOMPROXY_JOIN  1        //  JOIN the room (sync)
#define ZG_ROOMPROXY_ACK   2        //  ACK the room's message (zg_roomproxy_token)
#define ZG_ROOMPROXY_LEAVE 4        //  LEAVE the room

//  Create an empty proxy
zg_roomproxy_t *
    zg_roomproxy_new (void);

//  Destroy the proxy
void
    zg_roomproxy_destroy (zg_roomproxy_t **self_p);

//  A local client joins a room; it holds nothing until the next message.
//  Returns ZG_ROOMPROXY_JOIN if it is the room's first local client, 0 if
//  the room is joined upstream already, -1 if it is a local member already
//  or a name is empty (nothing changes)
int
    zg_roomproxy_join (zg_roomproxy_t *self, const char *room, const char *local);

//  A local client leaves a room (or is removed): that counts as its ack.
//  Returns ZG_ROOMPROXY_LEAVE if it was the last (no ACK then: leaving
//  releases the upstream holder), ZG_ROOMPROXY_ACK if it was the last to
//  ack the message in flight, 0 otherwise, or -1 if it is not a member
int
    zg_roomproxy_leave (zg_roomproxy_t *self, const char *room, const char *local);

//  The upstream member received a room message with this ack token (empty
//  for an observer's copy, which nobody acks): every local client of the
//  room holds it. Returns how many local clients get it (0: ack upstream
//  now, nobody will), or -1 if the room is not proxied
int
    zg_roomproxy_deliver (zg_roomproxy_t *self, const char *room, const char *token);

//  A local client acks the room's message in flight with its token.
//  Returns ZG_ROOMPROXY_ACK if that was the last ack the upstream ACK
//  waited for, 0 if others are still waited for, or -1 and a reason (not a
//  member, stale token, duplicate ack, not a holder) with nothing changed
int
    zg_roomproxy_ack (zg_roomproxy_t *self, const char *room, const char *local, const char *token,
                      const char **reason);

//  The upstream membership of a room was evicted (reason "ack-timeout" or
//  "timeout", as EVICTED says): the local clients still to ack (all of them
//  for "timeout") are removed and added to removed (a list of strings the
//  caller frees, e.g. zlistx with a string destructor). Returns
//  ZG_ROOMPROXY_JOIN if local clients remain (join upstream again), 0 if
//  none do, -1 if the room is not proxied
int
    zg_roomproxy_evicted (zg_roomproxy_t *self, const char *room, const char *reason, zlistx_t *removed);

//  The ack token of the room's message in flight, or NULL
const char *
    zg_roomproxy_token (zg_roomproxy_t *self, const char *room);

//  Whether the local client is a member of the room
bool
    zg_roomproxy_has (zg_roomproxy_t *self, const char *room, const char *local);

//  Local clients of a room (0 if not proxied), and rooms proxied
size_t
    zg_roomproxy_size (zg_roomproxy_t *self, const char *room);
size_t
    zg_roomproxy_rooms (zg_roomproxy_t *self);

//  Local clients of a room still to ack its message in flight
size_t
    zg_roomproxy_waiting (zg_roomproxy_t *self, const char *room);

//  First local client of a room, or NULL; then next until NULL. Changing
//  the proxy ends an iteration.
const char *
    zg_roomproxy_first (zg_roomproxy_t *self, const char *room);
const char *
    zg_roomproxy_next (zg_roomproxy_t *self);

//  The rooms a local client is in, as a new list of strings the caller
//  destroys (to leave them all when it goes)
zlistx_t *
    zg_roomproxy_rooms_of (zg_roomproxy_t *self, const char *local);

//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_roomproxy_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
