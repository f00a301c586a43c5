/*  =========================================================================
    zg_room - one room's lockstep state: its members, its priority queue and
    the message in flight with the holders still to ack it

    Private to zg_rooms. A room releases one message at a time to every
    member present; the sync members present at release are its holders, and
    the room counts those that have not acked (waiting), so an ack is O(1)
    and no member list is scanned to decide that the room may advance. The
    room sends nothing: the actor releases, then delivers to the members.

    Fields: only zg_room writes a room and its memberships, except the
    deadline node, which belongs to the actor's heap of ack deadlines
    (zg_heap). The actor reads the rest.
    =========================================================================
*/

#ifndef ZG_ROOM_H_INCLUDED
#define ZG_ROOM_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include "zg_roomq.h"
#include "zg_rclients.h"
#include "zg_heap.h"
#include "zg_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Bounds of a room's ack-timeout, milliseconds
#define ZG_ROOM_MIN_ACK_TIMEOUT 100
#define ZG_ROOM_MAX_ACK_TIMEOUT 86400000
//  Default ack-timeout of new rooms (config rooms/ack-timeout), milliseconds
#define ZG_ROOM_DEFAULT_ACK_TIMEOUT 30000

typedef struct _zg_room_t zg_room_t;

//  A room message
typedef struct {
    uint64_t seq;                   //  Room sequence number, unique over all rooms
    int64_t priority;               //  Higher first, or lower first by the room's option
    int64_t queued;                 //  ms since the epoch
    char *producer;                 //  Who sent it, as SEND named it, or NULL
    zmq_msg_t payload;              //  Shared by every copy sent
} zg_rmessage_t;

//  A client's membership of a room
struct _zg_rmember_t {
    zg_rclient_t *client;           //  The member
    zg_room_t *room;                //  The room
    bool async;                     //  Observer: no token, never waited for
    uint64_t seq;                   //  Room message it last received as a holder
    bool acked;                     //  It acked that message
    int64_t acked_at;               //  When, ms since the epoch
    uint64_t batch;                 //  zg_racks: the last ACKS batch naming it, so
                                    //  that one naming it twice is refused
    zg_rmember_t *prev;             //  Client's previous membership
    zg_rmember_t *next;             //  Client's next membership
};

//  A room's options, as the ROOM command sets them
typedef struct {
    bool hold;                      //  Keep messages while no sync member
    int64_t ack_timeout;            //  Ack timeout, ms
    bool lowest_first;              //  Release the lowest priority first
} zg_room_options_t;

struct _zg_room_t {
    char *name;                     //  Room name
    char *holder;                   //  Who made it (zg_holder key), or NULL: nobody
    size_t name_size;               //  Its length, sent with every DELIVER
    zhashx_t *members;              //  Client id -> zg_rmember_t
    size_t sync_members;            //  Members that gate the room
    size_t async_members;           //  Observers
    zg_roomq_t *queue;              //  Pending messages
    zg_rmessage_t *inflight;        //  Message released and not done, or NULL
    char token [ZG_WIRE_NUMBER_SIZE];   //  Ack token of the in-flight message: its seq
    size_t token_size;              //  Its length
    int64_t released;               //  When it was released, ms since the epoch
    size_t waiting;                 //  Holders that have not acked it
    zg_room_options_t options;      //  Hold, ack-timeout, priority order
    zg_heap_node_t deadline;        //  Actor: monotonic ms when the holders time out
    int64_t bytes;                  //  Room set: payload bytes queued and in flight, charged to the budget
};

//  Create an empty room with these options
zg_room_t *
    zg_room_new (const char *name, const zg_room_options_t *options);

//  Destroy a room, its messages and its memberships; the members' clients
//  are not told, so only for an empty room or at shutdown
void
    zg_room_destroy (zg_room_t **self_p);

//  Destroy a message
void
    zg_rmessage_destroy (zg_rmessage_t **self_p);

//  Parse a ROOM options map (msgpack: hold bool, ack-timeout int,
//  priority-order "highest-first" or "lowest-first") over the current
//  options; returns 0, or -1 with options unchanged
int
    zg_room_options_parse (const void *data, size_t size, zg_room_options_t *options);

//  Apply options; returns 0, or -1 and changes nothing if they change the
//  priority order while messages are queued
int
    zg_room_configure (zg_room_t *self, const zg_room_options_t *options);

//  The client's membership, or NULL
zg_rmember_t *
    zg_room_member (zg_room_t *self, zg_rclient_t *client);

//  The membership the client last named (rclient's last_member) if it is
//  of the room of this name (bytes), else NULL: acks name the same room
//  round after round, and the cache spares them two hash lookups
zg_rmember_t *
    zg_room_last_member (zg_rclient_t *client, const void *name, size_t size);

//  Add a membership (the client must not be a member yet)
zg_rmember_t *
    zg_room_member_add (zg_room_t *self, zg_rclient_t *client, bool async);

//  Make a member sync or async: a holder that turns observer is no longer
//  waited for, an observer that turns sync holds nothing until the next
//  release
void
    zg_room_member_set_mode (zg_room_t *self, zg_rmember_t *member, bool async);

//  Remove and free a membership
void
    zg_room_member_remove (zg_room_t *self, zg_rmember_t **member_p);

//  First member, or NULL; then next until NULL. Changing the members ends
//  an iteration.
zg_rmember_t *
    zg_room_first_member (zg_room_t *self);
zg_rmember_t *
    zg_room_next_member (zg_room_t *self);

//  The member holds the in-flight message and has not acked it
bool
    zg_rmember_is_waited_for (zg_rmember_t *self);

//  The member holds the in-flight message and has acked it
bool
    zg_rmember_has_acked (zg_rmember_t *self);

//  Queue a message (the room takes it)
void
    zg_room_push (zg_room_t *self, zg_rmessage_t **message_p);

//  Messages queued
size_t
    zg_room_backlog (zg_room_t *self);

//  Nothing in flight, a message queued, and not holding it for members
bool
    zg_room_can_release (zg_room_t *self);

//  Put the head of the queue in flight, released at now (ms since the
//  epoch): the sync members are its holders. Returns the message, which the
//  room keeps until complete.
zg_rmessage_t *
    zg_room_release (zg_room_t *self, int64_t now);

//  Why the member may not ack the in-flight message with this token (a
//  conflict), or NULL if it may; changes nothing
const char *
    zg_room_ack_refusal (zg_room_t *self, zg_rmember_t *member, const void *token, size_t token_size);

//  A holder acks the in-flight message with a token; returns 0, or -1 with
//  the reason (zg_room_ack_refusal) and nothing changed
int
    zg_room_ack (zg_room_t *self, zg_rmember_t *member, const void *token, size_t token_size,
                 const char **reason);

//  A message is in flight and no holder is waited for
bool
    zg_room_is_done (zg_room_t *self);

//  End the in-flight message; the caller takes it
zg_rmessage_t *
    zg_room_complete (zg_room_t *self);

//  No members and no messages
bool
    zg_room_is_empty (zg_room_t *self);

//  No members, no messages, and these options: nothing to keep
bool
    zg_room_is_idle (zg_room_t *self, const zg_room_options_t *defaults);

//  Pack the STATE answer: options, in-flight message, members, who acked
//  and when
void
    zg_room_pack_state (zg_room_t *self, msgpack_packer *packer);

//  Pack the PEEK answer: up to limit pending messages from offset, in
//  release order, and fewer if they would pass max_bytes (the first always
//  fits); each with its producer and its latency so far (now, ms since the
//  epoch, minus queued)
void
    zg_room_pack_peek (zg_room_t *self, msgpack_packer *packer, size_t offset, size_t limit,
                       size_t max_bytes, int64_t now);

//  Self test of this class
void
    zg_room_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
