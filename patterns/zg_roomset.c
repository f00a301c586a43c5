/*  =========================================================================
    zg_roomset - the rooms actor's rooms, moved in lockstep

    A release sends one DELIVER per version 1 member and one DELIVERS per
    connection of version 2 members (zg_rbatch); the payload is shared by
    every copy (zmq_msg_copy is a reference count, not a memcpy). Finished
    messages are kept for reuse: each round would otherwise free one and
    allocate the next.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_roomset.h"
#include "zg_rwatch.h"
#include "zg_rbatch.h"

//  Released messages whose queue latency STATS summarises
#define ZG_ROOMSET_LATENCIES 100
//  Finished messages kept for reuse
#define ZG_ROOMSET_SPARE_MESSAGES 64

struct _zg_roomset_t {
    void *handle;                   //  The actor's ROUTER, for events
    zhashx_t *rooms;                //  Room name -> zg_room_t
    zg_heap_t *deadlines;           //  Rooms with a message in flight, by ack deadline
    zg_room_options_t defaults;     //  Options of new rooms
    bool verbose;                   //  Log evictions
    uint64_t last_seq;              //  Last message sequence number, over all rooms
    uint64_t members;               //  Memberships
    uint64_t backlog;               //  Pending messages in all rooms
    uint64_t released;              //  Messages released
    uint64_t delivered;             //  Members a release reached (DELIVER or DELIVERS)
    uint64_t evicted;               //  Members evicted
    uint64_t expired;               //  Rooms with options of their own forgotten once idle
    int64_t idle_timeout;           //  Ms such a room may stay empty
    zg_slots_t *holders;            //  Rooms per holder that made them (zg_holder)
    int64_t max_per_holder;         //  Of them, per holder
    uint64_t dropped;               //  Events libzmq refused
    int64_t latencies [ZG_ROOMSET_LATENCIES];  //  Queued-to-released ms of the last releases
    zg_rmessage_t *spare [ZG_ROOMSET_SPARE_MESSAGES];  //  Finished messages to reuse
    size_t spare_count;             //  Messages in spare
    zg_budget_t *budget;            //  The memory budget payloads are charged to
    zg_rwatch_t *watch;             //  Who hears of members removed
    zg_rbatch_t *batch;             //  A release's version 2 members, by connection
    zg_roomset_done_fn *done;       //  Cluster mode: a message is over
    zg_roomset_settled_fn *settled; //  Cluster mode: a room's members may have changed
    void *link;                     //  The hooks' argument
};

//  --------------------------------------------------------------------------
//  Create an empty room set

zg_roomset_t *
zg_roomset_new (void *handle)
{
    assert (handle);
    zg_roomset_t *self = (zg_roomset_t *) zmalloc (sizeof (zg_roomset_t));
    assert (self);
    self->handle = handle;
    self->rooms = zhashx_new ();
    zhashx_set_destructor (self->rooms, (zhashx_destructor_fn *) zg_room_destroy);
    self->deadlines = zg_heap_new ();
    self->watch = zg_rwatch_new (handle);
    self->batch = zg_rbatch_new ();
    self->budget = zg_budget_process ();
    self->holders = zg_slots_new ();
    self->max_per_holder = INT64_MAX;
    self->defaults = (zg_room_options_t) { false, ZG_ROOM_DEFAULT_ACK_TIMEOUT, false };
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the room set

void
zg_roomset_destroy (zg_roomset_t **self_p)
{
    assert (self_p);
    zg_roomset_t *self = *self_p;
    if (!self)
        return;
    //  The heap first: it marks the rooms' nodes out of it
    zg_heap_destroy (&self->deadlines);
    //  What the rooms still hold goes back to the process's budget
    int64_t bytes = 0;
    for (zg_room_t *room = (zg_room_t *) zhashx_first (self->rooms); room;
         room = (zg_room_t *) zhashx_next (self->rooms))
        bytes += room->bytes;
    zg_budget_release (self->budget, &bytes, (size_t) bytes);
    zhashx_destroy (&self->rooms);
    zg_slots_destroy (&self->holders);
    zg_rwatch_destroy (&self->watch);
    zg_rbatch_destroy (&self->batch);
    while (self->spare_count > 0)
        free (self->spare [--self->spare_count]);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Options of new rooms, and logging

void
zg_roomset_configure (zg_roomset_t *self, const zg_room_options_t *defaults, int64_t idle_timeout,
                      int64_t max_per_holder, bool verbose)
{
    assert (self);
    assert (defaults);
    self->defaults = *defaults;
    self->idle_timeout = idle_timeout;
    self->max_per_holder = max_per_holder;
    self->verbose = verbose;
}

//  --------------------------------------------------------------------------

zg_room_options_t
zg_roomset_defaults (zg_roomset_t *self)
{
    assert (self);
    return self->defaults;
}

//  --------------------------------------------------------------------------
//  The room of this name, or NULL

zg_room_t *
zg_roomset_lookup (zg_roomset_t *self, const char *name)
{
    assert (self);
    return (zg_room_t *) zhashx_lookup (self->rooms, name);
}

//  --------------------------------------------------------------------------
//  Add an empty room with the default options

zg_room_t *
zg_roomset_add (zg_roomset_t *self, const char *name)
{
    assert (self);
    assert (!zg_roomset_lookup (self, name));
    zg_room_t *room = zg_room_new (name, &self->defaults);
    zhashx_insert (self->rooms, name, room);
    return room;
}

//  --------------------------------------------------------------------------

size_t
zg_roomset_size (zg_roomset_t *self)
{
    assert (self);
    return zhashx_size (self->rooms);
}

//  --------------------------------------------------------------------------
//  Whether a room may queue one more message

int
zg_roomset_admit (zg_roomset_t *self, const char *name, size_t size, int64_t max_backlog, int64_t max_bytes,
                  char *reason)
{
    assert (self);
    assert (name && reason);
    zg_room_t *room = zg_roomset_lookup (self, name);
    if (room && (int64_t) zg_room_backlog (room) >= max_backlog) {
        zg_wire_reason (reason, "room '%s' is full (max-backlog %" PRId64 ")", name, max_backlog);
        return ZG_ERR_TOO_MANY;
    }
    int code = zg_budget_admit (self->budget, room? room->bytes: 0, max_bytes, size);
    if (code == ZG_ERR_TOO_MANY)
        zg_wire_reason (reason, "room '%s' is full (max-backlog-bytes %" PRId64 ")", name, max_bytes);
    else
    if (code)
        zg_wire_reason (reason, "memory budget exhausted (%" PRId64 " bytes); try later",
                        zg_budget_limit (self->budget));
    return code;
}

//  --------------------------------------------------------------------------
//  Queue a message in a room; returns its seq

uint64_t
zg_roomset_queue (zg_roomset_t *self, zg_room_t *room, int64_t priority, zmq_msg_t *payload,
                  const zg_wire_part_t *producer)
{
    assert (self);
    zg_roomset_queue_seq (self, room, ++self->last_seq, priority, payload, producer);
    return self->last_seq;
}

void
zg_roomset_queue_seq (zg_roomset_t *self, zg_room_t *room, uint64_t seq, int64_t priority, zmq_msg_t *payload,
                      const zg_wire_part_t *producer)
{
    assert (self);
    assert (room);
    zg_rmessage_t *message = self->spare_count > 0? self->spare [--self->spare_count]:
                             (zg_rmessage_t *) malloc (sizeof (zg_rmessage_t));
    assert (message);
    message->seq = seq;
    message->priority = priority;
    message->queued = zclock_time ();
    message->producer = producer && producer->size? strndup ((const char *) producer->data, producer->size): NULL;
    zmq_msg_init (&message->payload);
    zg_budget_charge (self->budget, &room->bytes, zmq_msg_size (payload));
    zmq_msg_move (&message->payload, payload);
    zg_room_push (room, &message);
    self->backlog++;
}

//  --------------------------------------------------------------------------
//  Set the cluster hooks

void
zg_roomset_set_link (zg_roomset_t *self, zg_roomset_done_fn *done, zg_roomset_settled_fn *settled, void *arg)
{
    assert (self);
    self->done = done;
    self->settled = settled;
    self->link = arg;
}

//  --------------------------------------------------------------------------
//  The room of this name, made if need be within max_rooms

zg_room_t *
zg_roomset_get (zg_roomset_t *self, const char *name, int64_t max_rooms, const zg_holder_t *holder, int *code,
                char *reason)
{
    assert (self && code);
    zg_room_t *room = zg_roomset_lookup (self, name);
    if (room)
        return room;
    if ((int64_t) zhashx_size (self->rooms) >= max_rooms) {
        *code = ZG_ERR_UNAVAILABLE;
        zg_wire_reason (reason, "too many rooms (max-rooms %" PRId64 ")", max_rooms);
        return NULL;
    }
    char *key = zg_holder_key (holder);
    *code = zg_holder_admit (self->holders, key, 1, self->max_per_holder, "rooms", "max-rooms-per-connection",
                             reason);
    if (*code == 0) {
        room = zg_roomset_add (self, name);
        zg_holder_charge (self->holders, key, &room->holder);
    }
    free (key);
    return room;
}

//  --------------------------------------------------------------------------
//  Forget a room, and its holder's charge

static void
s_forget (zg_roomset_t *self, zg_room_t *room)
{
    zg_holder_release (self->holders, &room->holder);
    zhashx_delete (self->rooms, room->name);
}

//  --------------------------------------------------------------------------
//  JOIN: a client joins a room in a mode, or a member switches mode

int
zg_roomset_enter (zg_roomset_t *self, zg_rclient_t *client, const char *name, bool async, int64_t max_rooms,
                  int64_t max_rooms_per_client, const zg_holder_t *holder, zg_room_t **room_p, char *reason)
{
    assert (self);
    assert (room_p);
    zg_room_t *room = zg_roomset_lookup (self, name);
    zg_rmember_t *member = room? zg_room_member (room, client): NULL;
    if (member)
        zg_room_member_set_mode (room, member, async);
    else {
        if ((int64_t) client->rooms >= max_rooms_per_client) {
            zg_wire_reason (reason, "too many rooms for one client (max-rooms-per-client %" PRId64 ")",
                            max_rooms_per_client);
            return ZG_ERR_TOO_MANY;
        }
        int code;
        room = zg_roomset_get (self, name, max_rooms, holder, &code, reason);
        if (!room)
            return code;
        zg_roomset_join (self, room, client, async);
        if (self->verbose)
            zsys_info ("zg_rooms: %s joins '%s'%s", client->id, name, async? " (async)": "");
    }
    *room_p = room;
    return 0;
}

//  --------------------------------------------------------------------------
//  ROOM: set a room's options; the map is checked whole before anything
//  changes

int
zg_roomset_set_options (zg_roomset_t *self, const char *name, const void *map, size_t size, int64_t max_rooms,
                        const zg_holder_t *holder, zg_room_t **room_p, char *reason)
{
    assert (self);
    assert (room_p);
    zg_room_t *room = zg_roomset_lookup (self, name);
    zg_room_options_t options = room? room->options: self->defaults;
    if (zg_room_options_parse (map, size, &options)) {
        zg_wire_reason (reason, "options must be a msgpack map of hold (bool), ack-timeout (%d to %d) and "
                        "priority-order ('highest-first' or 'lowest-first')",
                        ZG_ROOM_MIN_ACK_TIMEOUT, ZG_ROOM_MAX_ACK_TIMEOUT);
        return ZG_ERR_BAD_REQUEST;
    }
    int code;
    room = room? room: zg_roomset_get (self, name, max_rooms, holder, &code, reason);
    if (!room)
        return code;
    if (zg_room_configure (room, &options)) {
        zg_wire_reason (reason, "priority-order of '%s' can change only while its backlog is empty", name);
        return ZG_ERR_CONFLICT;
    }
    *room_p = room;
    return 0;
}

//  --------------------------------------------------------------------------
//  A client joins a room

void
zg_roomset_join (zg_roomset_t *self, zg_room_t *room, zg_rclient_t *client, bool async)
{
    assert (self);
    zg_room_member_add (room, client, async);
    self->members++;
}

//  --------------------------------------------------------------------------
//  Remove a membership

void
zg_roomset_leave (zg_roomset_t *self, zg_rmember_t **member_p)
{
    assert (self);
    assert (member_p && *member_p);
    zg_room_member_remove ((*member_p)->room, member_p);
    self->members--;
}

//  --------------------------------------------------------------------------
//  An event to a client, on the connection it last spoke on

static void
s_send_client (zg_roomset_t *self, zg_rclient_t *client, const zg_wire_part_t *parts, size_t count,
               zmq_msg_t *payload)
{
    zg_wire_part_t routing = { client->routing, client->routing_size };
    if (zg_wire_send (self->handle, routing, parts, count, payload) == -1)
        self->dropped++;
}

//  --------------------------------------------------------------------------
//  The in-flight message is done: every holder acked, left or was evicted

static void
s_complete (zg_roomset_t *self, zg_room_t *room)
{
    zg_heap_remove (self->deadlines, &room->deadline);
    zg_rmessage_t *message = zg_room_complete (room);
    if (self->done)
        self->done (self->link, room, message->seq);
    zg_budget_release (self->budget, &room->bytes, zmq_msg_size (&message->payload));
    if (self->spare_count < ZG_ROOMSET_SPARE_MESSAGES) {
        zmq_msg_close (&message->payload);
        zstr_free (&message->producer);
        self->spare [self->spare_count++] = message;
    }
    else
        zg_rmessage_destroy (&message);
}

//  --------------------------------------------------------------------------
//  Release the head of the room's queue and send it to every member; the
//  holders get its token, the observers an empty one (version 2 members:
//  their lists, one DELIVERS per connection)

static void
s_release (zg_roomset_t *self, zg_room_t *room)
{
    zg_rmessage_t *message = zg_room_release (room, zclock_time ());
    self->backlog--;
    self->latencies [self->released % ZG_ROOMSET_LATENCIES] = room->released - message->queued;
    self->released++;
    //  The token is the seq: the one text serves as both frames
    zg_wire_part_t seq = { room->token, room->token_size };
    zg_wire_part_t parts [] = {
        zg_wire_str ("DELIVER"), { NULL, 0 }, { room->name, room->name_size }, seq, { NULL, 0 }
    };
    for (zg_rmember_t *member = zg_room_first_member (room); member; member = zg_room_next_member (room)) {
        self->delivered++;
        if (member->client->version > 1) {
            zg_rbatch_add (self->batch, member->client, member->async);
            continue;
        }
        parts [1] = (zg_wire_part_t) { member->client->id, member->client->id_size };
        parts [4] = member->async? zg_wire_str (""): seq;
        s_send_client (self, member->client, parts, 5, &message->payload);
    }
    if (zg_rbatch_members (self->batch))
        self->dropped += zg_rbatch_send (self->batch, self->handle, parts [2], seq, &message->payload);
}

//  --------------------------------------------------------------------------
//  Settle a room: a message without holders is done as soon as it is sent

void
zg_roomset_settle (zg_roomset_t *self, zg_room_t *room, int64_t now)
{
    assert (self);
    assert (room);
    if (zg_room_is_done (room))
        s_complete (self, room);
    while (zg_room_can_release (room)) {
        s_release (self, room);
        if (zg_room_is_done (room))
            s_complete (self, room);
        else
            zg_heap_set (self->deadlines, &room->deadline, now + room->options.ack_timeout);
    }
    if (self->settled)
        self->settled (self->link, room);
    //  An empty room with options of its own waits for room-idle-timeout in
    //  the deadline heap, which holds no ack deadline for it now
    if (zg_room_is_idle (room, &self->defaults))
        s_forget (self, room);
    else
    if (zg_room_is_empty (room))
        zg_heap_set (self->deadlines, &room->deadline, now + self->idle_timeout);
}

//  --------------------------------------------------------------------------
//  Send a message out of band to every member of a room

size_t
zg_roomset_oob (zg_roomset_t *self, zg_room_t *room, zmq_msg_t *payload)
{
    assert (self);
    assert (room);
    zg_wire_part_t parts [] = { zg_wire_str ("OOB"), { NULL, 0 }, { room->name, room->name_size } };
    size_t count = 0;
    for (zg_rmember_t *member = zg_room_first_member (room); member; member = zg_room_next_member (room)) {
        parts [1] = (zg_wire_part_t) { member->client->id, member->client->id_size };
        s_send_client (self, member->client, parts, 3, payload);
        count++;
    }
    return count;
}

//  --------------------------------------------------------------------------
//  Evict a member from its room: tell it, tell the room's observers, settle

static void
s_evict (zg_roomset_t *self, zg_rmember_t *member, const char *reason, int64_t now)
{
    zg_room_t *room = member->room;
    zg_rclient_t *client = member->client;
    zg_wire_part_t evicted [] = {
        zg_wire_str ("EVICTED"), { client->id, client->id_size }, { room->name, room->name_size },
        zg_wire_str (reason)
    };
    s_send_client (self, client, evicted, 4, NULL);
    zg_roomset_leave (self, &member);
    self->evicted++;
    if (self->verbose)
        zsys_info ("zg_rooms: evicted %s from '%s' (%s)", client->id, room->name, reason);
    zg_roomset_removed (self, room, client, reason);
    zg_roomset_settle (self, room, now);
}

//  --------------------------------------------------------------------------
//  Tell the room's observers and the watchers that a client left the room

void
zg_roomset_removed (zg_roomset_t *self, zg_room_t *room, zg_rclient_t *client, const char *reason)
{
    assert (self);
    self->dropped += zg_rwatch_removed (self->watch, room, client, reason);
}

//  --------------------------------------------------------------------------
//  A client watches every room's removals, or stops

void
zg_roomset_watch (zg_roomset_t *self, zg_rclient_t *client, bool on)
{
    assert (self);
    zg_rwatch_set (self->watch, client, on);
}

//  --------------------------------------------------------------------------
//  A client is gone: evictions with a reason, leaves told as "bye" without

void
zg_roomset_forget_client (zg_roomset_t *self, zg_rclient_t *client, const char *reason, int64_t now)
{
    assert (self);
    assert (client);
    while (client->members) {
        zg_rmember_t *member = client->members;
        if (reason)
            s_evict (self, member, reason, now);
        else {
            zg_room_t *room = member->room;
            zg_roomset_leave (self, &member);
            zg_roomset_removed (self, room, client, "bye");
            zg_roomset_settle (self, room, now);
        }
    }
    zg_rwatch_set (self->watch, client, false);
}

//  --------------------------------------------------------------------------
//  Evict the holders that have not acked within their room's ack-timeout

void
zg_roomset_expire (zg_roomset_t *self, int64_t now)
{
    assert (self);
    while (zg_heap_first_key (self->deadlines) <= now) {
        zg_room_t *room = ZG_ITEM_OF (zg_heap_first (self->deadlines), zg_room_t, deadline);
        zg_heap_remove (self->deadlines, &room->deadline);
        if (!room->inflight) {
            //  An idle deadline: the room is forgotten if it is still empty
            if (zg_room_is_empty (room)) {
                self->expired++;
                s_forget (self, room);
            }
            continue;
        }
        //  Collect first: each eviction changes the member table
        zlistx_t *late = zlistx_new ();
        for (zg_rmember_t *member = zg_room_first_member (room); member; member = zg_room_next_member (room))
            if (zg_rmember_is_waited_for (member))
                zlistx_add_end (late, member);
        assert (zlistx_size (late) == room->waiting);
        //  The last eviction settles the room, which releases the next message
        for (zg_rmember_t *member = (zg_rmember_t *) zlistx_first (late); member;
             member = (zg_rmember_t *) zlistx_next (late))
            s_evict (self, member, "ack-timeout", now);
        zlistx_destroy (&late);
    }
}

//  --------------------------------------------------------------------------
//  Monotonic ms of the earliest ack deadline, or INT64_MAX

int64_t
zg_roomset_next_deadline (zg_roomset_t *self)
{
    assert (self);
    return zg_heap_first_key (self->deadlines);
}

//  --------------------------------------------------------------------------
//  Rooms with a backlog, largest first

static int
s_compare_backlog (const void *a, const void *b)
{
    zg_room_t *room_a = *(zg_room_t **) a, *room_b = *(zg_room_t **) b;
    size_t size_a = zg_room_backlog (room_a), size_b = zg_room_backlog (room_b);
    if (size_a != size_b)
        return size_a < size_b? 1: -1;
    return strcmp (room_a->name, room_b->name);
}

zg_room_t **
zg_roomset_top (zg_roomset_t *self, size_t limit, size_t *count, size_t *with_backlog)
{
    assert (self);
    assert (count && with_backlog);
    zg_room_t **rooms = (zg_room_t **) malloc ((zhashx_size (self->rooms) + 1) * sizeof (zg_room_t *));
    assert (rooms);
    size_t found = 0;
    for (zg_room_t *room = (zg_room_t *) zhashx_first (self->rooms); room;
         room = (zg_room_t *) zhashx_next (self->rooms))
        if (zg_room_backlog (room) > 0)
            rooms [found++] = room;
    qsort (rooms, found, sizeof (zg_room_t *), s_compare_backlog);
    *with_backlog = found;
    *count = found < limit? found: limit;
    return rooms;
}

//  --------------------------------------------------------------------------
//  Totals

uint64_t
zg_roomset_members (zg_roomset_t *self)
{
    assert (self);
    return self->members;
}

uint64_t
zg_roomset_backlog (zg_roomset_t *self)
{
    assert (self);
    return self->backlog;
}

size_t
zg_roomset_in_flight (zg_roomset_t *self)
{
    assert (self);
    return zg_heap_size (self->deadlines);
}

//  --------------------------------------------------------------------------

static void
s_pack_key_int (msgpack_packer *packer, const char *key, int64_t value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_int64 (packer, value);
}

//  --------------------------------------------------------------------------
//  An admin deletes a room: its members hear they are evicted ("deleted"),
//  its messages are dropped and it is forgotten at once

size_t
zg_roomset_delete (zg_roomset_t *self, zg_room_t *room)
{
    assert (self && room);
    zg_rmember_t *member;
    //  No settling between leaves: nothing more is released to anyone
    while ((member = zg_room_first_member (room))) {
        zg_wire_part_t evicted [] = {
            zg_wire_str ("EVICTED"), { member->client->id, member->client->id_size },
            { room->name, room->name_size }, zg_wire_str ("deleted")
        };
        s_send_client (self, member->client, evicted, 4, NULL);
        zg_roomset_leave (self, &member);
        self->evicted++;
    }
    size_t dropped = zg_room_backlog (room) + (room->inflight? 1: 0);
    self->backlog -= zg_room_backlog (room);
    zg_heap_remove (self->deadlines, &room->deadline);
    zg_budget_release (self->budget, &room->bytes, (size_t) room->bytes);
    if (self->settled)
        self->settled (self->link, room);
    s_forget (self, room);
    return dropped;
}

//  --------------------------------------------------------------------------
//  Evict from every room, and remove, the clients silent for timeout ms

void
zg_roomset_expire_clients (zg_roomset_t *self, zg_rclients_t *clients, int64_t now, int64_t timeout)
{
    assert (self);
    zg_rclient_t *client;
    while ((client = zg_rclients_expired (clients, now, timeout))) {
        zg_roomset_forget_client (self, client, "timeout", now);
        zg_rclients_remove (clients, &client);
    }
}

//  --------------------------------------------------------------------------
//  Pack the PEEK or STATE answer of a room, existing or not

void
zg_roomset_pack_room (zg_roomset_t *self, const char *name, msgpack_packer *packer, bool peek,
                      size_t offset, size_t limit, size_t max_size)
{
    assert (self);
    zg_room_t *room = zg_roomset_lookup (self, name);
    zg_room_t *absent = NULL;
    if (!room) {
        zg_room_options_t defaults = zg_roomset_defaults (self);
        room = absent = zg_room_new (name, &defaults);
    }
    if (peek)
        zg_room_pack_peek (room, packer, offset, limit, max_size, zclock_time ());
    else
        zg_room_pack_state (room, packer);
    zg_room_destroy (&absent);
}

//  --------------------------------------------------------------------------
//  Pack the METRICS answer

void
zg_roomset_pack_metrics (zg_roomset_t *self, msgpack_packer *packer, size_t top, size_t clients)
{
    assert (self);
    assert (packer);
    size_t count, with_backlog;
    zg_room_t **rooms = zg_roomset_top (self, top, &count, &with_backlog);
    msgpack_pack_map (packer, 8);
    s_pack_key_int (packer, "rooms", (int64_t) zhashx_size (self->rooms));
    s_pack_key_int (packer, "rooms_with_backlog", (int64_t) with_backlog);
    msgpack_pack_str_with_body (packer, "top_rooms", 9);
    msgpack_pack_array (packer, count);
    int64_t top_backlog = 0;
    for (size_t index = 0; index < count; index++) {
        int64_t backlog = (int64_t) zg_room_backlog (rooms [index]);
        msgpack_pack_map (packer, 2);
        msgpack_pack_str_with_body (packer, "room", 4);
        msgpack_pack_str_with_body (packer, rooms [index]->name, rooms [index]->name_size);
        s_pack_key_int (packer, "backlog", backlog);
        top_backlog += backlog;
    }
    free (rooms);
    s_pack_key_int (packer, "top_backlog", top_backlog);
    s_pack_key_int (packer, "backlog", (int64_t) self->backlog);
    s_pack_key_int (packer, "clients", (int64_t) clients);
    s_pack_key_int (packer, "members", (int64_t) self->members);
    s_pack_key_int (packer, "in_flight", (int64_t) zg_heap_size (self->deadlines));
}

//  --------------------------------------------------------------------------
//  How long the last releases waited in their queues: count, min, max, average

static json_object *
s_latency_json (zg_roomset_t *self)
{
    size_t samples = self->released < ZG_ROOMSET_LATENCIES? (size_t) self->released: ZG_ROOMSET_LATENCIES;
    int64_t least = samples? INT64_MAX: 0, most = 0, sum = 0;
    for (size_t index = 0; index < samples; index++) {
        least = self->latencies [index] < least? self->latencies [index]: least;
        most = self->latencies [index] > most? self->latencies [index]: most;
        sum += self->latencies [index];
    }
    json_object *latency = json_object_new_object ();
    json_object_object_add (latency, "count", json_object_new_uint64 (samples));
    json_object_object_add (latency, "min", json_object_new_int64 (least));
    json_object_object_add (latency, "max", json_object_new_int64 (most));
    json_object_object_add (latency, "avg", json_object_new_double (samples? (double) sum / (double) samples: 0));
    return latency;
}

//  --------------------------------------------------------------------------
//  Add the room set's counters to a STATS object

void
zg_roomset_stats (zg_roomset_t *self, json_object *root, size_t top, uint64_t *dropped)
{
    assert (self);
    assert (root && dropped);
    json_object_object_add (root, "rooms", json_object_new_uint64 (zhashx_size (self->rooms)));
    json_object_object_add (root, "members", json_object_new_uint64 (self->members));
    json_object_object_add (root, "backlog", json_object_new_uint64 (self->backlog));
    json_object_object_add (root, "in_flight", json_object_new_uint64 (zg_heap_size (self->deadlines)));
    json_object_object_add (root, "released", json_object_new_uint64 (self->released));
    json_object_object_add (root, "delivered", json_object_new_uint64 (self->delivered));
    json_object_object_add (root, "evicted", json_object_new_uint64 (self->evicted));
    json_object_object_add (root, "expired", json_object_new_uint64 (self->expired));
    size_t count, with_backlog;
    zg_room_t **rooms = zg_roomset_top (self, top, &count, &with_backlog);
    json_object *list = json_object_new_array ();
    for (size_t index = 0; index < count; index++) {
        json_object *entry = json_object_new_object ();
        json_object_object_add (entry, "room", json_object_new_string (rooms [index]->name));
        json_object_object_add (entry, "backlog", json_object_new_uint64 (zg_room_backlog (rooms [index])));
        json_object_array_add (list, entry);
    }
    free (rooms);
    json_object_object_add (root, "rooms_with_backlog", json_object_new_uint64 (with_backlog));
    json_object_object_add (root, "top_rooms", list);
    json_object_object_add (root, "latency_ms", s_latency_json (self));
    *dropped += self->dropped;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Expect the next event's first frames; NULL ends the list, "" is not checked

static void
s_test_event (zsock_t *peer, const char *first, ...)
{
    zmsg_t *event = zmsg_recv (peer);
    assert (event);
    va_list args;
    va_start (args, first);
    zframe_t *frame = zmsg_first (event);
    for (const char *expected = first; expected; expected = va_arg (args, const char *)) {
        assert (frame);
        assert (*expected == 0 || zframe_streq (frame, expected));
        frame = zmsg_next (event);
    }
    va_end (args);
    zmsg_destroy (&event);
}

//  --------------------------------------------------------------------------

void
zg_roomset_test (bool verbose)
{
    printf (" * zg_roomset: ");
    //  @selftest
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    assert (zsock_bind (router, "inproc://zg-roomset-test") == 0);
    zsock_t *peer = zsock_new (ZMQ_DEALER);
    zsock_set_identity (peer, "peer");
    zsock_set_rcvtimeo (peer, 1000);
    assert (zsock_connect (peer, "inproc://zg-roomset-test") == 0);
    //  Once the router has heard from the peer, it can route to it
    zstr_send (peer, "hello");
    zmsg_t *hello = zmsg_recv (router);
    zmsg_destroy (&hello);

    int64_t used_before = zg_budget_used (zg_budget_process ());
    zg_roomset_t *rooms = zg_roomset_new (zsock_resolve (router));
    zg_room_options_t defaults = { false, 500, false };
    zg_roomset_configure (rooms, &defaults, 100, INT64_MAX, verbose);
    assert (zg_roomset_defaults (rooms).ack_timeout == 500);
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *alice = zg_rclients_add (clients, "peer", 4, 0);
    zg_rclient_t *bob = zg_rclients_add (clients, "peer", 4, 0);

    //  A release goes to every member, highest priority first
    zg_room_t *room = zg_roomset_add (rooms, "lobby");
    assert (zg_roomset_lookup (rooms, "lobby") == room && zg_roomset_size (rooms) == 1);
    zg_roomset_join (rooms, room, alice, false);
    zg_roomset_join (rooms, room, bob, true);
    zmq_msg_t payload;
    zg_wire_part_t maker = zg_wire_str ("bob");
    zmq_msg_init_data (&payload, "low", 3, NULL, NULL);
    assert (zg_roomset_queue (rooms, room, 1, &payload, NULL) == 1);
    zmq_msg_init_data (&payload, "high", 4, NULL, NULL);
    assert (zg_roomset_queue (rooms, room, 5, &payload, &maker) == 2);
    assert (zg_roomset_backlog (rooms) == 2 && zg_roomset_members (rooms) == 2);
    zg_roomset_settle (rooms, room, 1000);
    for (int count = 0; count < 2; count++)
        s_test_event (peer, "DELIVER", "", "lobby", "2", "", "high", NULL);
    assert (zg_roomset_backlog (rooms) == 1 && zg_roomset_in_flight (rooms) == 1);
    assert (zg_roomset_next_deadline (rooms) == 1500);

    //  Alice never acks: at the deadline she is evicted, bob (an observer)
    //  is told, and the next message goes to bob alone and is done at once
    zg_roomset_expire (rooms, 1499);
    assert (zg_roomset_members (rooms) == 2);
    zg_roomset_expire (rooms, 1500);
    s_test_event (peer, "EVICTED", alice->id, "lobby", "ack-timeout", NULL);
    s_test_event (peer, "TIMEOUT", bob->id, "lobby", alice->id, "ack-timeout", NULL);
    s_test_event (peer, "DELIVER", bob->id, "lobby", "1", "", "low", NULL);
    assert (zg_roomset_members (rooms) == 1 && alice->rooms == 0);
    assert (zg_roomset_backlog (rooms) == 0 && zg_roomset_in_flight (rooms) == 0);
    assert (zg_roomset_next_deadline (rooms) == INT64_MAX);

    //  OOB reaches the members at once
    zmq_msg_init_data (&payload, "now", 3, NULL, NULL);
    assert (zg_roomset_oob (rooms, room, &payload) == 1);
    zmq_msg_close (&payload);
    s_test_event (peer, "OOB", bob->id, "lobby", "now", NULL);

    //  A holding room keeps its messages: the top list shows it
    zg_room_t *kept = zg_roomset_add (rooms, "kept");
    zg_room_options_t hold = { true, 500, false };
    assert (zg_room_configure (kept, &hold) == 0);
    for (int count = 0; count < 2; count++) {
        zmq_msg_init_data (&payload, "x", 1, NULL, NULL);
        zg_roomset_queue (rooms, kept, 0, &payload, NULL);
        zg_roomset_settle (rooms, kept, 2000);
    }
    //  Its bytes are charged: a room is full by count or by bytes
    assert (kept->bytes == 2 && zg_budget_used (zg_budget_process ()) == used_before + 2);
    char reason [ZG_WIRE_REASON_SIZE];
    assert (zg_roomset_admit (rooms, "kept", 1, 2, 0, reason) == ZG_ERR_TOO_MANY);
    assert (strstr (reason, "(max-backlog 2)"));
    assert (zg_roomset_admit (rooms, "kept", 2, 10, 3, reason) == ZG_ERR_TOO_MANY);
    assert (strstr (reason, "max-backlog-bytes 3"));
    assert (zg_roomset_admit (rooms, "kept", 1, 10, 3, reason) == 0);
    assert (zg_roomset_admit (rooms, "fresh", 3, 10, 3, reason) == 0);
    assert (zg_roomset_admit (rooms, "fresh", 4, 10, 3, reason) == ZG_ERR_TOO_MANY);
    size_t count, with_backlog;
    zg_room_t **top = zg_roomset_top (rooms, 5, &count, &with_backlog);
    assert (count == 1 && with_backlog == 1 && top [0] == kept);
    free (top);
    top = zg_roomset_top (rooms, 0, &count, &with_backlog);
    assert (count == 0 && with_backlog == 1);
    free (top);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    zg_roomset_pack_metrics (rooms, &packer, 5, 2);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL) == MSGPACK_UNPACK_SUCCESS);
    msgpack_object_map *metrics = &unpacked.data.via.map;
    assert (metrics->size == 8 && metrics->ptr [2].val.via.array.size == 1);
    assert (metrics->ptr [3].val.via.u64 == 2 && metrics->ptr [5].val.via.u64 == 2);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    json_object *stats = json_object_new_object ();
    uint64_t dropped = 0;
    zg_roomset_stats (rooms, stats, 10, &dropped);
    json_object *value;
    assert (json_object_object_get_ex (stats, "released", &value) && json_object_get_int64 (value) == 2);
    assert (json_object_object_get_ex (stats, "evicted", &value) && json_object_get_int64 (value) == 1);
    assert (json_object_object_get_ex (stats, "latency_ms", &value));
    assert (dropped == 0);
    json_object_put (stats);

    //  A client that says BYE: a watcher hears of it ("bye"), its room,
    //  empty with default options, is forgotten; the holding room stays
    zg_roomset_watch (rooms, alice, true);
    zg_roomset_forget_client (rooms, bob, NULL, 3000);
    s_test_event (peer, "TIMEOUT", alice->id, "lobby", bob->id, "bye", NULL);
    zg_roomset_watch (rooms, alice, false);
    assert (zg_roomset_lookup (rooms, "lobby") == NULL && zg_roomset_size (rooms) == 1);
    assert (zg_roomset_members (rooms) == 0 && bob->rooms == 0);

    //  Events to a gone peer are counted, not blocking
    zg_roomset_join (rooms, kept, bob, false);
    zg_rclients_touch (clients, bob, "gone", 4, 3000);
    zg_roomset_settle (rooms, kept, 3000);
    dropped = 0;
    stats = json_object_new_object ();
    zg_roomset_stats (rooms, stats, 10, &dropped);
    assert (dropped == 1);
    json_object_put (stats);

    //  A room with options of its own is forgotten once empty for the idle
    //  timeout (100 ms here); activity in it starts the wait again
    zg_room_t *custom = zg_roomset_add (rooms, "custom");
    zg_room_options_t lowest = { false, 500, true };
    assert (zg_room_configure (custom, &lowest) == 0);
    zg_roomset_settle (rooms, custom, 10000);
    zg_roomset_settle (rooms, custom, 10050);
    zg_roomset_expire (rooms, 10149);
    assert (zg_roomset_lookup (rooms, "custom") == custom);
    zg_roomset_expire (rooms, 10150);
    assert (zg_roomset_lookup (rooms, "custom") == NULL);
    stats = json_object_new_object ();
    zg_roomset_stats (rooms, stats, 10, &dropped);
    assert (json_object_object_get_ex (stats, "expired", &value) && json_object_get_int64 (value) == 1);
    json_object_put (stats);

    //  An admin deletes the holding room: its member is evicted, its
    //  messages (one in flight, one queued) dropped and their bytes released
    zmq_msg_init_data (&payload, "y", 1, NULL, NULL);
    zg_roomset_queue (rooms, kept, 0, &payload, NULL);
    zg_roomset_join (rooms, kept, bob, false);
    zg_roomset_settle (rooms, kept, 20000);
    assert (zg_roomset_in_flight (rooms) == 1 && zg_roomset_backlog (rooms) == 1);
    assert (zg_roomset_delete (rooms, kept) == 2);
    assert (zg_roomset_lookup (rooms, "kept") == NULL && bob->rooms == 0 && zg_roomset_members (rooms) == 0);
    assert (zg_roomset_in_flight (rooms) == 0 && zg_roomset_backlog (rooms) == 0);
    assert (zg_budget_used (zg_budget_process ()) == used_before);

    //  ROOM and JOIN check everything before they change anything
    zg_room_t *made;
    assert (zg_roomset_set_options (rooms, "opts", "\x81\xa4hold\x01", 7, 10, NULL, &made, reason)
            == ZG_ERR_BAD_REQUEST);
    assert (zg_roomset_set_options (rooms, "opts", "\x81\xa4hold\xc3", 7, (int64_t) zg_roomset_size (rooms), NULL,
                                    &made, reason) == ZG_ERR_UNAVAILABLE);
    assert (!zg_roomset_lookup (rooms, "opts") && strstr (reason, "max-rooms"));
    assert (zg_roomset_set_options (rooms, "opts", "\x81\xa4hold\xc3", 7, 10, NULL, &made, reason) == 0);
    assert (made->options.hold && zg_roomset_lookup (rooms, "opts") == made);
    assert (zg_roomset_enter (rooms, bob, "opts", false, 10, 0, NULL, &made, reason) == ZG_ERR_TOO_MANY);
    assert (zg_roomset_enter (rooms, bob, "new", false, 1, 10, NULL, &made, reason) == ZG_ERR_UNAVAILABLE);
    assert (zg_roomset_members (rooms) == 0 && !zg_roomset_lookup (rooms, "new"));
    //  A version 2 member gets one DELIVERS for its connection
    bob->version = 2;
    zg_rclients_touch (clients, bob, "peer", 4, 30000);
    assert (zg_roomset_enter (rooms, bob, "opts", true, 10, 10, NULL, &made, reason) == 0);
    assert (zg_roomset_enter (rooms, alice, "opts", false, 10, 10, NULL, &made, reason) == 0);
    assert (zg_roomset_enter (rooms, bob, "opts", false, 10, 10, NULL, &made, reason) == 0);
    assert (zg_roomset_members (rooms) == 2 && !zg_room_member (made, bob)->async);
    zmq_msg_init_data (&payload, "v2", 2, NULL, NULL);
    uint64_t seq = zg_roomset_queue (rooms, made, 0, &payload, NULL);
    zg_roomset_settle (rooms, made, 30000);
    char *token = zsys_sprintf ("%" PRIu64, seq);
    s_test_event (peer, "DELIVER", alice->id, "opts", token, token, "v2", NULL);
    s_test_event (peer, "DELIVERS", "opts", token, bob->id, "", "v2", NULL);
    zstr_free (&token);

    //  Rooms first, then the clients their members point at
    zg_roomset_destroy (&rooms);
    assert (rooms == NULL);
    assert (zg_budget_used (zg_budget_process ()) == used_before);
    zg_roomset_destroy (&rooms);
    zg_rclients_destroy (&clients);
    zsock_destroy (&peer);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
