/*  =========================================================================
    zg_roomset - the rooms actor's rooms: found by name, by ack deadline and
    by backlog, moved in lockstep, with the events that tell the members

    Private to zg_rooms. The actor parses a request and names the room, the
    client or the membership; the room set changes the rooms and sends the
    events that follow (DELIVER at a release, EVICTED and TIMEOUT at an
    eviction, OOB) on the actor's ROUTER. It never answers a request: that
    is the actor's. Rooms with a message in flight are in a heap by ack
    deadline (zg_heap), so expiry looks only at its head; a room with no
    members, no messages and default options is forgotten.
    =========================================================================
*/

#ifndef ZG_ROOMSET_H_INCLUDED
#define ZG_ROOMSET_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_room.h"
#include "zg_holder.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_roomset_t zg_roomset_t;

//  Create an empty room set that sends events on this ROUTER (a libzmq
//  handle with ROUTER_MANDATORY; the caller keeps it)
zg_roomset_t *
    zg_roomset_new (void *handle);

//  Destroy the room set, its rooms, their messages and memberships
void
    zg_roomset_destroy (zg_roomset_t **self_p);

//  Options of new rooms (a room that keeps them is forgotten when empty; one
//  with options of its own once it has been empty for idle_timeout ms), the
//  rooms one holder may have made (zg_roomset_get), and whether to log
//  evictions
void
    zg_roomset_configure (zg_roomset_t *self, const zg_room_options_t *defaults, int64_t idle_timeout,
                          int64_t max_per_holder, bool verbose);

//  Options of new rooms
zg_room_options_t
    zg_roomset_defaults (zg_roomset_t *self);

//  The room of this name, or NULL
zg_room_t *
    zg_roomset_lookup (zg_roomset_t *self, const char *name);

//  Add an empty room with the default options (it must not exist; the
//  caller checks the limits)
zg_room_t *
    zg_roomset_add (zg_roomset_t *self, const char *name);

//  Rooms in the set
size_t
    zg_roomset_size (zg_roomset_t *self);

//  Whether the room of this name (that may not exist yet) may queue one more
//  message of size bytes: at most max_backlog messages and max_bytes bytes (0: no limit but
//  the memory budget). Returns 0, or the code of the refusal with its reason
//  written (ZG_WIRE_REASON_SIZE bytes); a refusal changes nothing
int
    zg_roomset_admit (zg_roomset_t *self, const char *name, size_t size, int64_t max_backlog, int64_t max_bytes,
                      char *reason);

//  Queue a message of this priority in a room from a producer (the name PEEK
//  shows, or NULL or empty for none); the payload is moved into it and its bytes charged to
//  the room and the memory budget until it is done. Returns its seq. The
//  caller settles the room.
uint64_t
    zg_roomset_queue (zg_roomset_t *self, zg_room_t *room, int64_t priority, zmq_msg_t *payload,
                      const zg_wire_part_t *producer);

//  Queue a message as zg_roomset_queue does, with the seq another node gave
//  it (cluster mode: the room's seq in Redis)
void
    zg_roomset_queue_seq (zg_roomset_t *self, zg_room_t *room, uint64_t seq, int64_t priority, zmq_msg_t *payload,
                          const zg_wire_part_t *producer);

//  What a node linked to the cluster hears of its rooms: done, a room's
//  message in flight is over (every local holder acked, left or was
//  evicted); settled, a room's members may have changed (told before an
//  empty room is forgotten)
typedef void (zg_roomset_done_fn) (void *arg, zg_room_t *room, uint64_t seq);
typedef void (zg_roomset_settled_fn) (void *arg, zg_room_t *room);

//  Set (or, with NULLs, clear) those hooks
void
    zg_roomset_set_link (zg_roomset_t *self, zg_roomset_done_fn *done, zg_roomset_settled_fn *settled, void *arg);

//  The room of this name, made with the default options if there are fewer
//  than max_rooms and its holder (zg_holder, NULL: nobody) holds fewer than
//  the bound set by zg_roomset_configure, charged to it until forgotten;
//  NULL past a bound, with a code (503 past max_rooms, 429 past the
//  holder's) and a reason (ZG_WIRE_REASON_SIZE bytes)
zg_room_t *
    zg_roomset_get (zg_roomset_t *self, const char *name, int64_t max_rooms, const zg_holder_t *holder, int *code,
                    char *reason);

//  JOIN: the client joins the room of this name (made within max_rooms) in
//  a mode, or switches mode if a member already. Returns 0 with the room in
//  *room_p (the caller settles it), or a ZG_ERR_* code with a reason (429
//  past max_rooms_per_client, 503 past max_rooms) and nothing changed
int
    zg_roomset_enter (zg_roomset_t *self, zg_rclient_t *client, const char *name, bool async, int64_t max_rooms,
                      int64_t max_rooms_per_client, const zg_holder_t *holder, zg_room_t **room_p, char *reason);

//  ROOM: apply an options map (zg_room_options_parse) to the room of this
//  name, made within max_rooms. Returns 0 with the room in *room_p (the
//  caller settles it), or a ZG_ERR_* code with a reason (400 a bad map, 503
//  past max_rooms, 409 a new priority order under a backlog) and nothing
//  changed
int
    zg_roomset_set_options (zg_roomset_t *self, const char *name, const void *map, size_t size, int64_t max_rooms,
                            const zg_holder_t *holder, zg_room_t **room_p, char *reason);

//  A client joins a room; the caller settles the room
void
    zg_roomset_join (zg_roomset_t *self, zg_room_t *room, zg_rclient_t *client, bool async);

//  Remove a membership; the caller settles the room
void
    zg_roomset_leave (zg_roomset_t *self, zg_rmember_t **member_p);

//  After any change to a room at now (monotonic ms): finish its message if
//  it can, release the next while it may, and forget the room if nothing is
//  left in it. The room may be gone after.
void
    zg_roomset_settle (zg_roomset_t *self, zg_room_t *room, int64_t now);

//  Send a message out of band to every member of a room; returns how many
size_t
    zg_roomset_oob (zg_roomset_t *self, zg_room_t *room, zmq_msg_t *payload);

//  Tell the room's observers and the watchers that a client left it for a
//  reason ("leave", "bye", "timeout", "ack-timeout"): a TIMEOUT event each
void
    zg_roomset_removed (zg_roomset_t *self, zg_room_t *room, zg_rclient_t *client, const char *reason);

//  A client starts (on) or stops watching the removals of every room
void
    zg_roomset_watch (zg_roomset_t *self, zg_rclient_t *client, bool on);

//  A client is gone: with a reason (timeout), each membership is an
//  eviction the member is told of; without (BYE), its memberships end
//  without EVICTED. Observers and watchers hear of each ("bye" without a
//  reason), and it watches no more. Its rooms are settled; the caller
//  removes the client.
void
    zg_roomset_forget_client (zg_roomset_t *self, zg_rclient_t *client, const char *reason, int64_t now);

//  An admin deletes a room: each member gets EVICTED "deleted", its messages
//  (queued and in flight) are dropped, and it is forgotten; returns the
//  number of messages dropped
size_t
    zg_roomset_delete (zg_roomset_t *self, zg_room_t *room);

//  Evict from every room, and remove, the clients silent for timeout ms at now
void
    zg_roomset_expire_clients (zg_roomset_t *self, zg_rclients_t *clients, int64_t now, int64_t timeout);

//  Evict the holders that have not acked within their room's ack-timeout
void
    zg_roomset_expire (zg_roomset_t *self, int64_t now);

//  Monotonic ms of the earliest ack deadline, or INT64_MAX
int64_t
    zg_roomset_next_deadline (zg_roomset_t *self);

//  Rooms with a backlog, largest first (ties by name), up to limit, in a
//  new array the caller frees; *count is how many it holds and
//  *with_backlog how many rooms have a backlog at all
zg_room_t **
    zg_roomset_top (zg_roomset_t *self, size_t limit, size_t *count, size_t *with_backlog);

//  Memberships, and messages queued, over all rooms
uint64_t
    zg_roomset_members (zg_roomset_t *self);
uint64_t
    zg_roomset_backlog (zg_roomset_t *self);

//  Rooms with a message in flight
size_t
    zg_roomset_in_flight (zg_roomset_t *self);

//  Pack the PEEK answer (peek: messages from offset, up to limit, their
//  payloads up to max_size bytes in all) or the STATE answer of a room; a
//  room that does not exist is described as an empty one with the default
//  options
void
    zg_roomset_pack_room (zg_roomset_t *self, const char *name, msgpack_packer *packer, bool peek,
                          size_t offset, size_t limit, size_t max_size);

//  Pack the METRICS answer: rooms, rooms_with_backlog, top_rooms (up to
//  top), top_backlog, backlog, clients (as given), members, in_flight
void
    zg_roomset_pack_metrics (zg_roomset_t *self, msgpack_packer *packer, size_t top, size_t clients);

//  Add the room set's counters to a STATS object: rooms, members, backlog,
//  in_flight, released, delivered, evicted, rooms_with_backlog, top_rooms
//  (top), latency_ms (queued to released, the last releases); events
//  libzmq refused are added to *dropped
void
    zg_roomset_stats (zg_roomset_t *self, json_object *root, size_t top, uint64_t *dropped);

//  Self test of this class
void
    zg_roomset_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
