/*  =========================================================================
    zg_rooms - lockstep fan-out rooms actor (ROUTER for members and producers)

    All state lives in this actor's thread. The costs that matter:
    - an ACK is one hash lookup (its client; the client's last membership is
      cached, else two more) and a counter decrement: each room counts the
      holders of its in-flight message that have not acked (waiting), so no
      member list is scanned to decide that a room may advance;
    - a release sends one DELIVER per member, and the payload is shared by
      every copy (zmq_msg_copy is a reference count, not a memcpy);
    - keepalive deadlines are an LRU list (every touch moves a client to the
      newest end, so the oldest client is always at the head) and ack
      deadlines a binary heap of rooms: the poll timeout is the earlier of
      the two heads and nothing is swept.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_roomq.h"
#include "zg_mpreader.h"

//  Frames in the largest request, routing id included
#define ZG_ROOMS_MAX_FRAMES 7
//  Requests handled per wake-up before timers and the pipe get a turn
#define ZG_ROOMS_BATCH 1024
//  Rooms listed in the STATS top list
#define ZG_ROOMS_STATS_TOP 10
//  Released messages whose queue latency STATS summarises
#define ZG_ROOMS_LATENCIES 100
//  Frames this size or smaller are kept after a request: they own no memory
#define ZG_ROOMS_SMALL_FRAME 32
//  Finished messages kept for reuse: each round would otherwise free one
//  and allocate the next
#define ZG_ROOMS_SPARE_MESSAGES 64
//  Longest client id we issue, plus its terminator
#define ZG_ROOMS_CLIENT_ID_SIZE 48
//  Bounds of a room's ack-timeout, milliseconds
#define ZG_ROOMS_MIN_ACK_TIMEOUT 100
#define ZG_ROOMS_MAX_ACK_TIMEOUT 86400000

//  Error codes of the wire protocol (docs/PROTOCOL.md, 3.3)
#define ZG_ROOMS_BAD_REQUEST 400
#define ZG_ROOMS_NOT_FOUND 404
#define ZG_ROOMS_CONFLICT 409
#define ZG_ROOMS_TOO_LARGE 413
#define ZG_ROOMS_LIMIT 429

typedef struct {
    int64_t verbose;                //  Log joins, leaves and evictions
    int64_t client_timeout;         //  Silence before a client is evicted, ms
    int64_t ack_timeout;            //  Default ack timeout of a room, ms
    int64_t hold;                   //  Default: rooms hold messages without members
    int64_t max_clients;            //  Logical clients alive at once
    int64_t max_rooms;              //  Rooms that exist at once
    int64_t max_rooms_per_client;   //  Rooms one client may be a member of
    int64_t max_backlog;            //  Pending messages per room
    int64_t max_name_size;          //  Longest room name or correlation id
    int64_t max_message_size;       //  Largest message libzmq accepts
    int64_t max_peek;               //  Most messages one PEEK returns
    int64_t max_top_rooms;          //  Most rooms one METRICS lists
    int64_t sndhwm;                 //  Events queued per connection
    int64_t rcvhwm;                 //  Requests queued per connection
} s_settings_t;

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (s_settings_t, verbose), 0, 1 },
    { "client-timeout", offsetof (s_settings_t, client_timeout), 1000, 86400000 },
    { "ack-timeout", offsetof (s_settings_t, ack_timeout), ZG_ROOMS_MIN_ACK_TIMEOUT, ZG_ROOMS_MAX_ACK_TIMEOUT },
    { "hold", offsetof (s_settings_t, hold), 0, 1 },
    { "max-clients", offsetof (s_settings_t, max_clients), 1, 100000000 },
    { "max-rooms", offsetof (s_settings_t, max_rooms), 1, 100000000 },
    { "max-rooms-per-client", offsetof (s_settings_t, max_rooms_per_client), 1, 1000000 },
    { "max-backlog", offsetof (s_settings_t, max_backlog), 1, 100000000 },
    { "max-name-size", offsetof (s_settings_t, max_name_size), 1, 4096 },
    { "max-message-size", offsetof (s_settings_t, max_message_size), 1, INT32_MAX },
    { "max-peek", offsetof (s_settings_t, max_peek), 1, 100000 },
    { "max-top-rooms", offsetof (s_settings_t, max_top_rooms), 1, 100000 },
    { "sndhwm", offsetof (s_settings_t, sndhwm), 0, INT32_MAX },
    { "rcvhwm", offsetof (s_settings_t, rcvhwm), 0, INT32_MAX },
    { NULL }
};

typedef struct _s_client_t s_client_t;
typedef struct _s_room_t s_room_t;
typedef struct _s_member_t s_member_t;

//  A client's membership of a room
struct _s_member_t {
    s_client_t *client;             //  The member
    s_room_t *room;                 //  The room
    bool async;                     //  Observer: no token, never waited for
    uint64_t seq;                   //  Room message it last received as a holder
    bool acked;                     //  It acked that message
    s_member_t *prev;               //  Client's previous membership
    s_member_t *next;               //  Client's next membership
};

//  A logical client
struct _s_client_t {
    char *id;                       //  Issued by HELLO
    size_t id_size;                 //  Its length, sent with every event
    byte *routing;                  //  Routing id of the connection last heard from
    size_t routing_size;            //  Its size
    int64_t last_seen;              //  Monotonic ms of the last command naming it
    int64_t last_seen_wall;         //  The same, ms since the epoch
    s_client_t *older;              //  LRU list: heard from before this one
    s_client_t *newer;              //  LRU list: heard from after this one
    s_member_t *members;            //  Its memberships
    size_t rooms;                   //  Number of memberships
    s_member_t *last_member;        //  Membership it last named, or NULL: acks
                                    //  name the same one round after round
};

//  A room message
typedef struct {
    uint64_t seq;                   //  Room sequence number
    int64_t priority;               //  Lower first
    int64_t queued;                 //  ms since the epoch
    zmq_msg_t payload;              //  Shared by every copy sent
} s_message_t;

//  A room
struct _s_room_t {
    char *name;                     //  Room name
    size_t name_size;               //  Its length, sent with every DELIVER
    zhashx_t *members;              //  Client id -> s_member_t
    size_t sync_members;            //  Members that gate the room
    size_t async_members;           //  Observers
    zg_roomq_t *queue;              //  Pending messages
    s_message_t *inflight;          //  Message released and not done, or NULL
    char token [24];                //  Ack token of the in-flight message
    int64_t released;               //  When it was released, ms since the epoch
    int64_t deadline;               //  Monotonic ms when its holders time out
    size_t waiting;                 //  Holders that have not acked it
    size_t heap_index;              //  Position in the deadline heap, or SIZE_MAX
    bool hold;                      //  Keep messages while no sync member
    int64_t ack_timeout;            //  Ack timeout, ms
};

//  One outgoing frame given by address
typedef struct {
    const void *data;               //  Bytes
    size_t size;                    //  Their number
} s_part_t;

typedef struct {
    zsock_t *pipe;                  //  Actor command pipe
    zsock_t *router;                //  Clients' side
    void *handle;                   //  Its libzmq socket, resolved once
    s_settings_t settings;          //  Current settings
    zhashx_t *clients;              //  Client id -> s_client_t
    zhashx_t *rooms;                //  Room name -> s_room_t
    s_client_t *oldest;             //  LRU head: next to time out
    s_client_t *newest;             //  LRU tail
    s_room_t **heap;                //  Rooms with a message in flight, by deadline
    size_t heap_size;               //  Rooms in the heap
    size_t heap_capacity;           //  Allocated heap slots
    char tag [16];                  //  Process tag that prefixes client ids
    uint64_t next_client;           //  Counter that ends client ids
    uint64_t last_seq;              //  Last message sequence number, over all rooms
    int64_t now;                    //  Monotonic ms of the request being handled
    zmq_msg_t frames [ZG_ROOMS_MAX_FRAMES];    //  The request being handled
    size_t frame_count;             //  Frames in it
    char *room_key;                 //  Room name as a string key
    msgpack_sbuffer buffer;         //  Reused for msgpack answers
    uint64_t members;               //  Memberships
    uint64_t backlog;               //  Pending messages in all rooms
    uint64_t rooms_in_flight;       //  Rooms with a message in flight
    uint64_t sent;                  //  SEND accepted
    uint64_t released;              //  Messages released
    uint64_t delivered;             //  DELIVER events sent
    uint64_t acked;                 //  Acks counted
    uint64_t oob;                   //  OOB messages
    uint64_t evicted;               //  Members evicted
    uint64_t errors;                //  ERROR answers
    uint64_t dropped;               //  Events and answers libzmq refused
    int64_t latencies [ZG_ROOMS_LATENCIES];    //  Queued-to-released ms of the last releases
    s_message_t *spare [ZG_ROOMS_SPARE_MESSAGES];   //  Finished messages to reuse
    size_t spare_count;             //  Messages in spare
    bool terminated;                //  $TERM received
} self_t;

static void s_room_destroy (s_room_t **self_p);

//  --------------------------------------------------------------------------

static void
s_client_destroy (s_client_t **self_p)
{
    s_client_t *self = *self_p;
    free (self->id);
    free (self->routing);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------

static self_t *
s_self_new (zsock_t *pipe)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->settings = (s_settings_t) {
        .client_timeout = 15000, .ack_timeout = 30000, .max_clients = 100000, .max_rooms = 100000,
        .max_rooms_per_client = 1000, .max_backlog = 100000, .max_name_size = 255,
        .max_message_size = 1048576, .max_peek = 1000, .max_top_rooms = 1000,
        .sndhwm = 100000, .rcvhwm = 100000
    };
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    self->handle = zsock_resolve (self->router);
    //  Refused sends are counted instead of silently vanishing
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_sndhwm (self->router, (int) self->settings.sndhwm);
    zsock_set_rcvhwm (self->router, (int) self->settings.rcvhwm);
    zsock_set_maxmsgsize (self->router, self->settings.max_message_size);
    self->clients = zhashx_new ();
    zhashx_set_destructor (self->clients, (zhashx_destructor_fn *) s_client_destroy);
    self->rooms = zhashx_new ();
    zhashx_set_destructor (self->rooms, (zhashx_destructor_fn *) s_room_destroy);
    //  Ids stay unique across restarts that reuse the counter
    snprintf (self->tag, sizeof self->tag, "%08x", (unsigned) (randof (UINT32_MAX) ^ (uint32_t) zclock_time ()));
    self->room_key = (char *) zmalloc ((size_t) self->settings.max_name_size + 1);
    msgpack_sbuffer_init (&self->buffer);
    for (size_t index = 0; index < ZG_ROOMS_MAX_FRAMES; index++)
        zmq_msg_init (&self->frames [index]);
    return self;
}

//  --------------------------------------------------------------------------

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    //  Rooms first: their members point at clients
    zhashx_destroy (&self->rooms);
    zhashx_destroy (&self->clients);
    zsock_destroy (&self->router);
    free (self->heap);
    while (self->spare_count > 0)
        free (self->spare [--self->spare_count]);
    free (self->room_key);
    msgpack_sbuffer_destroy (&self->buffer);
    for (size_t index = 0; index < ZG_ROOMS_MAX_FRAMES; index++)
        zmq_msg_close (&self->frames [index]);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Messages and rooms

static void
s_message_destroy (void **item_p)
{
    s_message_t *message = (s_message_t *) *item_p;
    zmq_msg_close (&message->payload);
    free (message);
    *item_p = NULL;
}

//  --------------------------------------------------------------------------

static s_room_t *
s_room_new (const char *name, self_t *self)
{
    s_room_t *room = (s_room_t *) zmalloc (sizeof (s_room_t));
    assert (room);
    room->name = strdup (name);
    room->name_size = strlen (name);
    room->members = zhashx_new ();
    room->queue = zg_roomq_new (s_message_destroy);
    room->heap_index = SIZE_MAX;
    room->hold = self->settings.hold != 0;
    room->ack_timeout = self->settings.ack_timeout;
    return room;
}

//  --------------------------------------------------------------------------
//  Only at shutdown or when the room is empty: members are freed, not removed

static void
s_room_destroy (s_room_t **self_p)
{
    s_room_t *self = *self_p;
    for (s_member_t *member = (s_member_t *) zhashx_first (self->members); member;
         member = (s_member_t *) zhashx_next (self->members))
        free (member);
    zhashx_destroy (&self->members);
    zg_roomq_destroy (&self->queue);
    if (self->inflight) {
        void *item = self->inflight;
        s_message_destroy (&item);
    }
    free (self->name);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Deadline heap of rooms with a message in flight

static void
s_heap_swap (self_t *self, size_t a, size_t b)
{
    s_room_t *room = self->heap [a];
    self->heap [a] = self->heap [b];
    self->heap [b] = room;
    self->heap [a]->heap_index = a;
    self->heap [b]->heap_index = b;
}

//  --------------------------------------------------------------------------

static void
s_heap_sift (self_t *self, size_t index)
{
    while (index > 0 && self->heap [(index - 1) / 2]->deadline > self->heap [index]->deadline) {
        s_heap_swap (self, index, (index - 1) / 2);
        index = (index - 1) / 2;
    }
    while (true) {
        size_t smallest = index, left = 2 * index + 1, right = left + 1;
        if (left < self->heap_size && self->heap [left]->deadline < self->heap [smallest]->deadline)
            smallest = left;
        if (right < self->heap_size && self->heap [right]->deadline < self->heap [smallest]->deadline)
            smallest = right;
        if (smallest == index)
            break;
        s_heap_swap (self, index, smallest);
        index = smallest;
    }
}

//  --------------------------------------------------------------------------

static void
s_heap_push (self_t *self, s_room_t *room)
{
    assert (room->heap_index == SIZE_MAX);
    if (self->heap_size == self->heap_capacity) {
        self->heap_capacity = self->heap_capacity? self->heap_capacity * 2: 64;
        self->heap = (s_room_t **) realloc (self->heap, self->heap_capacity * sizeof (s_room_t *));
        assert (self->heap);
    }
    room->heap_index = self->heap_size;
    self->heap [self->heap_size++] = room;
    s_heap_sift (self, room->heap_index);
}

//  --------------------------------------------------------------------------

static void
s_heap_remove (self_t *self, s_room_t *room)
{
    size_t index = room->heap_index;
    if (index == SIZE_MAX)
        return;
    room->heap_index = SIZE_MAX;
    self->heap_size--;
    if (index < self->heap_size) {
        self->heap [index] = self->heap [self->heap_size];
        self->heap [index]->heap_index = index;
        s_heap_sift (self, index);
    }
}

//  --------------------------------------------------------------------------
//  Send [routing][parts...][payload] without blocking; counts what libzmq refuses

static void
s_self_send (self_t *self, const void *routing, size_t routing_size,
             const s_part_t *parts, size_t count, zmq_msg_t *payload)
{
    void *router = self->handle;
    //  With ROUTER_MANDATORY the routing frame fails for a gone or full peer
    if (zmq_send (router, routing, routing_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        self->dropped++;
        return;
    }
    for (size_t index = 0; index < count; index++)
        zmq_send (router, parts [index].data, parts [index].size,
                  index + 1 < count || payload? ZMQ_SNDMORE: 0);
    if (payload) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, payload);
        if (zmq_msg_send (&copy, router, 0) == -1)
            zmq_msg_close (&copy);
    }
}

//  --------------------------------------------------------------------------

static s_part_t
s_part_str (const char *string)
{
    return (s_part_t) { string, strlen (string) };
}

//  --------------------------------------------------------------------------

static s_part_t
s_part_frame (zmq_msg_t *frame)
{
    return (s_part_t) { zmq_msg_data (frame), zmq_msg_size (frame) };
}

//  --------------------------------------------------------------------------
//  A number in decimal into text (room for 21 bytes); returns its length.
//  Every round formats a seq, and snprintf costs ten times as much.

static size_t
s_decimal (uint64_t value, char *text)
{
    char digits [20];
    size_t size = 0;
    do {
        digits [size++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t index = 0; index < size; index++)
        text [index] = digits [size - 1 - index];
    text [size] = 0;
    return size;
}

//  --------------------------------------------------------------------------
//  An event to a client

static void
s_self_send_client (self_t *self, s_client_t *client, const s_part_t *parts, size_t count,
                    zmq_msg_t *payload)
{
    s_self_send (self, client->routing, client->routing_size, parts, count, payload);
}

//  --------------------------------------------------------------------------
//  Answers to the request being handled

static s_part_t
s_self_req (self_t *self)
{
    if (self->frame_count < 3 || (int64_t) zmq_msg_size (&self->frames [2]) > self->settings.max_name_size)
        return (s_part_t) { "", 0 };
    return s_part_frame (&self->frames [2]);
}

//  --------------------------------------------------------------------------

static void
s_self_ok (self_t *self, const s_part_t *results, size_t count)
{
    s_part_t req = s_self_req (self);
    if (req.size == 0)
        return;                     //  The client asked for no answer
    s_part_t parts [4] = { s_part_str ("OK"), req };
    assert (count <= 2);
    for (size_t index = 0; index < count; index++)
        parts [2 + index] = results [index];
    s_self_send (self, zmq_msg_data (&self->frames [0]), zmq_msg_size (&self->frames [0]),
                 parts, 2 + count, NULL);
}

//  --------------------------------------------------------------------------

static void
s_self_ok_buffer (self_t *self)
{
    s_part_t result = { self->buffer.data, self->buffer.size };
    s_self_ok (self, &result, 1);
}

//  --------------------------------------------------------------------------

static int
s_self_error (self_t *self, int code, const char *format, ...)
{
    char reason [256];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    //  Reasons quote room names, which may hold any byte: keep them one line
    for (char *next = reason; *next; next++)
        if ((byte) *next < 0x20 || *next == 0x7f)
            *next = '?';
    char code_text [8];
    snprintf (code_text, sizeof code_text, "%d", code);
    s_part_t parts [] = { s_part_str ("ERROR"), s_self_req (self), s_part_str (code_text), s_part_str (reason) };
    s_self_send (self, zmq_msg_data (&self->frames [0]), zmq_msg_size (&self->frames [0]), parts, 4, NULL);
    self->errors++;
    if (self->settings.verbose)
        zsys_info ("zg_rooms: ERROR %d %s", code, reason);
    return -1;
}

//  --------------------------------------------------------------------------
//  Request fields

//  A frame as a strict decimal integer; returns 0, or -1

static int
s_frame_int (zmq_msg_t *frame, int64_t min, int64_t max, int64_t *value)
{
    char text [24];
    size_t size = zmq_msg_size (frame);
    if (size == 0 || size >= sizeof text)
        return -1;
    memcpy (text, zmq_msg_data (frame), size);
    text [size] = 0;
    char *end = NULL;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || *end || !(isdigit ((byte) text [0]) || (text [0] == '-' && size > 1))
    ||  number < min || number > max)
        return -1;
    *value = number;
    return 0;
}

//  --------------------------------------------------------------------------

static bool
s_frame_is (zmq_msg_t *frame, const char *text)
{
    size_t size = strlen (text);
    return zmq_msg_size (frame) == size && memcmp (zmq_msg_data (frame), text, size) == 0;
}

//  --------------------------------------------------------------------------
//  The room name in a frame, as self->room_key; answers an ERROR if invalid

static const char *
s_self_room_name (self_t *self, zmq_msg_t *frame)
{
    size_t size = zmq_msg_size (frame);
    if ((int64_t) size > self->settings.max_name_size) {
        s_self_error (self, ZG_ROOMS_TOO_LARGE, "room name longer than %" PRId64 " bytes",
                      self->settings.max_name_size);
        return NULL;
    }
    if (size == 0 || memchr (zmq_msg_data (frame), 0, size)) {
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "room name must be 1 or more bytes, without NUL");
        return NULL;
    }
    memcpy (self->room_key, zmq_msg_data (frame), size);
    self->room_key [size] = 0;
    return self->room_key;
}

//  --------------------------------------------------------------------------
//  The client was heard from on the current request's connection

static void
s_self_touch (self_t *self, s_client_t *client)
{
    //  Events follow the client to the connection it last spoke on
    zmq_msg_t *routing = &self->frames [0];
    if (client->routing_size != zmq_msg_size (routing)
    ||  memcmp (client->routing, zmq_msg_data (routing), client->routing_size)) {
        client->routing_size = zmq_msg_size (routing);
        client->routing = (byte *) realloc (client->routing, client->routing_size);
        assert (client->routing);
        memcpy (client->routing, zmq_msg_data (routing), client->routing_size);
    }
    client->last_seen = self->now;
    client->last_seen_wall = zclock_time ();
    if (client == self->newest)
        return;
    //  Unlink, then append as newest: the list stays ordered by last_seen
    if (client->older)
        client->older->newer = client->newer;
    else
    if (client == self->oldest)
        self->oldest = client->newer;
    if (client->newer)
        client->newer->older = client->older;
    client->older = self->newest;
    client->newer = NULL;
    if (self->newest)
        self->newest->newer = client;
    else
        self->oldest = client;
    self->newest = client;
}

//  --------------------------------------------------------------------------
//  The client a frame names, touched; answers an ERROR if unknown

static s_client_t *
s_self_client (self_t *self, zmq_msg_t *frame)
{
    char id [ZG_ROOMS_CLIENT_ID_SIZE];
    size_t size = zmq_msg_size (frame);
    s_client_t *client = NULL;
    //  A NUL would end the key early and let "<id>\0junk" pass for <id>
    if (size < sizeof id && !memchr (zmq_msg_data (frame), 0, size)) {
        memcpy (id, zmq_msg_data (frame), size);
        id [size] = 0;
        client = (s_client_t *) zhashx_lookup (self->clients, id);
    }
    if (client)
        s_self_touch (self, client);
    else
        s_self_error (self, ZG_ROOMS_NOT_FOUND, "unknown client");
    return client;
}

//  --------------------------------------------------------------------------
//  Room life cycle

static s_room_t *
s_self_room_get (self_t *self, const char *name, bool create)
{
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    if (!room && create) {
        if ((int64_t) zhashx_size (self->rooms) >= self->settings.max_rooms) {
            s_self_error (self, ZG_ROOMS_LIMIT, "too many rooms (max-rooms %" PRId64 ")",
                          self->settings.max_rooms);
            return NULL;
        }
        room = s_room_new (name, self);
        zhashx_insert (self->rooms, name, room);
    }
    return room;
}

//  --------------------------------------------------------------------------
//  The in-flight message is done: every holder acked, left or was evicted

static void
s_self_complete (self_t *self, s_room_t *room)
{
    s_heap_remove (self, room);
    s_message_t *message = room->inflight;
    if (self->spare_count < ZG_ROOMS_SPARE_MESSAGES) {
        zmq_msg_close (&message->payload);
        self->spare [self->spare_count++] = message;
    }
    else {
        void *item = message;
        s_message_destroy (&item);
    }
    room->inflight = NULL;
    self->rooms_in_flight--;
}

//  --------------------------------------------------------------------------
//  Put the head of the queue in flight and send it to every member; the sync
//  members are its holders

static void
s_self_release (self_t *self, s_room_t *room)
{
    s_message_t *message = (s_message_t *) zg_roomq_pop (room->queue);
    self->backlog--;
    room->inflight = message;
    room->released = zclock_time ();
    room->waiting = 0;
    self->latencies [self->released % ZG_ROOMS_LATENCIES] = room->released - message->queued;
    self->released++;
    self->rooms_in_flight++;
    //  The token is the seq, so a late ack cannot count for the next message;
    //  the one text serves as both frames
    s_part_t seq = { room->token, s_decimal (message->seq, room->token) };
    s_part_t parts [] = {
        s_part_str ("DELIVER"), { NULL, 0 }, { room->name, room->name_size }, seq, { NULL, 0 }
    };
    for (s_member_t *member = (s_member_t *) zhashx_first (room->members); member;
         member = (s_member_t *) zhashx_next (room->members)) {
        parts [1] = (s_part_t) { member->client->id, member->client->id_size };
        parts [4] = member->async? (s_part_t) { "", 0 }: seq;
        s_self_send_client (self, member->client, parts, 5, &message->payload);
        self->delivered++;
        if (!member->async) {
            member->seq = message->seq;
            member->acked = false;
            room->waiting++;
        }
    }
}

//  --------------------------------------------------------------------------
//  Release messages while the room is free to take one; a message without
//  holders is done as soon as it is sent

static void
s_self_dispatch (self_t *self, s_room_t *room)
{
    while (!room->inflight && zg_roomq_size (room->queue) > 0 && !(room->hold && room->sync_members == 0)) {
        s_self_release (self, room);
        if (room->waiting == 0)
            s_self_complete (self, room);
        else {
            room->deadline = self->now + room->ack_timeout;
            s_heap_push (self, room);
        }
    }
}

//  --------------------------------------------------------------------------
//  After any change to a room: finish its message if it can, release the next,
//  and forget the room if nothing is left in it. The room may be gone after.

static void
s_self_settle (self_t *self, s_room_t *room)
{
    if (room->inflight && room->waiting == 0)
        s_self_complete (self, room);
    s_self_dispatch (self, room);
    if (zhashx_size (room->members) == 0 && zg_roomq_size (room->queue) == 0 && !room->inflight
    &&  room->hold == (self->settings.hold != 0) && room->ack_timeout == self->settings.ack_timeout)
        zhashx_delete (self->rooms, room->name);
}

//  --------------------------------------------------------------------------
//  Memberships

static s_member_t *
s_self_member_add (self_t *self, s_client_t *client, s_room_t *room, bool async)
{
    s_member_t *member = (s_member_t *) zmalloc (sizeof (s_member_t));
    assert (member);
    member->client = client;
    member->room = room;
    member->async = async;
    member->next = client->members;
    if (client->members)
        client->members->prev = member;
    client->members = member;
    client->rooms++;
    zhashx_insert (room->members, client->id, member);
    if (async)
        room->async_members++;
    else
        room->sync_members++;
    self->members++;
    return member;
}

//  --------------------------------------------------------------------------
//  A holder of the in-flight message that has not acked it

static bool
s_member_is_waited_for (s_member_t *member)
{
    s_room_t *room = member->room;
    return !member->async && room->inflight && member->seq == room->inflight->seq && !member->acked;
}

//  --------------------------------------------------------------------------
//  A holder of the in-flight message that has acked it

static bool
s_member_has_acked (s_member_t *member)
{
    s_room_t *room = member->room;
    return !member->async && room->inflight && member->seq == room->inflight->seq && member->acked;
}

//  --------------------------------------------------------------------------
//  Make a member sync or async; the caller settles the room

static void
s_member_set_mode (s_member_t *member, bool async)
{
    s_room_t *room = member->room;
    if (member->async == async)
        return;
    //  A holder that turns observer is no longer waited for, and an observer
    //  that turns sync holds nothing until the next release
    if (s_member_is_waited_for (member))
        room->waiting--;
    member->seq = 0;
    member->async = async;
    room->async_members += async? 1: -1;
    room->sync_members += async? -1: 1;
}

//  --------------------------------------------------------------------------
//  Remove a membership; the caller settles the room

static void
s_self_member_remove (self_t *self, s_member_t *member)
{
    s_room_t *room = member->room;
    s_client_t *client = member->client;
    if (s_member_is_waited_for (member))
        room->waiting--;
    if (member->async)
        room->async_members--;
    else
        room->sync_members--;
    zhashx_delete (room->members, client->id);
    if (client->last_member == member)
        client->last_member = NULL;
    if (member->prev)
        member->prev->next = member->next;
    else
        client->members = member->next;
    if (member->next)
        member->next->prev = member->prev;
    client->rooms--;
    self->members--;
    free (member);
}

//  --------------------------------------------------------------------------
//  Evict a member from its room: tell it, tell the room's observers, settle

static void
s_self_member_evict (self_t *self, s_member_t *member, const char *reason)
{
    s_room_t *room = member->room;
    s_client_t *client = member->client;
    s_part_t evicted [] = { s_part_str ("EVICTED"), s_part_str (client->id), s_part_str (room->name),
                            s_part_str (reason) };
    s_self_send_client (self, client, evicted, 4, NULL);
    s_self_member_remove (self, member);
    self->evicted++;
    if (self->settings.verbose)
        zsys_info ("zg_rooms: evicted %s from '%s' (%s)", client->id, room->name, reason);
    if (room->async_members > 0) {
        s_part_t event [] = { s_part_str ("TIMEOUT"), { NULL, 0 }, s_part_str (room->name),
                              s_part_str (client->id), s_part_str (reason) };
        for (s_member_t *observer = (s_member_t *) zhashx_first (room->members); observer;
             observer = (s_member_t *) zhashx_next (room->members))
            if (observer->async) {
                event [1] = s_part_str (observer->client->id);
                s_self_send_client (self, observer->client, event, 5, NULL);
            }
    }
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------
//  Forget a client; with a reason, its memberships are evictions

static void
s_self_client_forget (self_t *self, s_client_t *client, const char *reason)
{
    while (client->members) {
        s_member_t *member = client->members;
        if (reason)
            s_self_member_evict (self, member, reason);
        else {
            s_room_t *room = member->room;
            s_self_member_remove (self, member);
            s_self_settle (self, room);
        }
    }
    if (client->older)
        client->older->newer = client->newer;
    else
        self->oldest = client->newer;
    if (client->newer)
        client->newer->older = client->older;
    else
        self->newest = client->older;
    zhashx_delete (self->clients, client->id);
}

//  --------------------------------------------------------------------------
//  Timers: evict clients silent for client-timeout; the LRU head is the oldest

static void
s_self_expire_clients (self_t *self)
{
    while (self->oldest && self->oldest->last_seen + self->settings.client_timeout <= self->now)
        s_self_client_forget (self, self->oldest, "timeout");
}

//  --------------------------------------------------------------------------
//  Timers: evict the holders that have not acked a message within the room's
//  ack-timeout; the heap head is the earliest deadline

static void
s_self_expire_acks (self_t *self)
{
    while (self->heap_size > 0 && self->heap [0]->deadline <= self->now) {
        s_room_t *room = self->heap [0];
        s_heap_remove (self, room);
        //  Collect first: each eviction changes the member table
        zlistx_t *late = zlistx_new ();
        for (s_member_t *member = (s_member_t *) zhashx_first (room->members); member;
             member = (s_member_t *) zhashx_next (room->members))
            if (s_member_is_waited_for (member))
                zlistx_add_end (late, member);
        assert (zlistx_size (late) == room->waiting);
        //  The last eviction settles the room, which releases the next message
        for (s_member_t *member = (s_member_t *) zlistx_first (late); member;
             member = (s_member_t *) zlistx_next (late))
            s_self_member_evict (self, member, "ack-timeout");
        zlistx_destroy (&late);
    }
}

//  --------------------------------------------------------------------------

static void
s_self_expire (self_t *self)
{
    self->now = zclock_mono ();
    s_self_expire_clients (self);
    s_self_expire_acks (self);
}

//  --------------------------------------------------------------------------
//  Milliseconds until the next deadline, or -1 for none

static long
s_self_poll_timeout (self_t *self)
{
    int64_t next = INT64_MAX;
    if (self->oldest)
        next = self->oldest->last_seen + self->settings.client_timeout;
    if (self->heap_size > 0 && self->heap [0]->deadline < next)
        next = self->heap [0]->deadline;
    if (next == INT64_MAX)
        return -1;
    int64_t wait = next - zclock_mono ();
    return wait < 0? 0: (long) wait;
}

//  --------------------------------------------------------------------------
//  msgpack helpers for the answers

static void
s_pack_str (msgpack_packer *packer, const char *string)
{
    size_t size = strlen (string);
    msgpack_pack_str (packer, size);
    msgpack_pack_str_body (packer, string, size);
}

//  --------------------------------------------------------------------------

static void
s_pack_key_int (msgpack_packer *packer, const char *key, int64_t value)
{
    s_pack_str (packer, key);
    msgpack_pack_int64 (packer, value);
}

//  --------------------------------------------------------------------------

static void
s_pack_key_str (msgpack_packer *packer, const char *key, const char *value)
{
    s_pack_str (packer, key);
    s_pack_str (packer, value);
}

//  --------------------------------------------------------------------------

static void
s_pack_key_bool (msgpack_packer *packer, const char *key, bool value)
{
    s_pack_str (packer, key);
    if (value)
        msgpack_pack_true (packer);
    else
        msgpack_pack_false (packer);
}

//  --------------------------------------------------------------------------

static msgpack_packer
s_self_packer (self_t *self)
{
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->buffer, msgpack_sbuffer_write);
    return packer;
}

//  --------------------------------------------------------------------------
//  Rooms with a backlog, largest first; returns how many, up to limit

static int
s_compare_backlog (const void *a, const void *b)
{
    s_room_t *room_a = *(s_room_t **) a, *room_b = *(s_room_t **) b;
    size_t size_a = zg_roomq_size (room_a->queue), size_b = zg_roomq_size (room_b->queue);
    if (size_a != size_b)
        return size_a < size_b? 1: -1;
    return strcmp (room_a->name, room_b->name);
}

//  --------------------------------------------------------------------------

static size_t
s_self_top_rooms (self_t *self, size_t limit, s_room_t ***rooms_p, size_t *with_backlog)
{
    s_room_t **rooms = (s_room_t **) malloc ((zhashx_size (self->rooms) + 1) * sizeof (s_room_t *));
    assert (rooms);
    size_t count = 0;
    for (s_room_t *room = (s_room_t *) zhashx_first (self->rooms); room;
         room = (s_room_t *) zhashx_next (self->rooms))
        if (zg_roomq_size (room->queue) > 0)
            rooms [count++] = room;
    qsort (rooms, count, sizeof (s_room_t *), s_compare_backlog);
    *rooms_p = rooms;
    *with_backlog = count;
    return count < limit? count: limit;
}

//  --------------------------------------------------------------------------
//  The requests (docs/PROTOCOL.md, 3.2); frames [0] routing, [1] command, [2] req

static void
s_self_hello (self_t *self)
{
    if ((int64_t) zhashx_size (self->clients) >= self->settings.max_clients) {
        s_self_error (self, ZG_ROOMS_LIMIT, "too many clients (max-clients %" PRId64 ")",
                      self->settings.max_clients);
        return;
    }
    s_client_t *client = (s_client_t *) zmalloc (sizeof (s_client_t));
    assert (client);
    char id [ZG_ROOMS_CLIENT_ID_SIZE];
    snprintf (id, sizeof id, "%s-%" PRIu64, self->tag, ++self->next_client);
    client->id = strdup (id);
    client->id_size = strlen (id);
    zhashx_insert (self->clients, id, client);
    s_self_touch (self, client);
    s_part_t result = s_part_str (id);
    s_self_ok (self, &result, 1);
}

//  --------------------------------------------------------------------------

static void
s_self_join (self_t *self)
{
    bool async = false;
    if (self->frame_count == 6) {
        if (s_frame_is (&self->frames [5], "async"))
            async = true;
        else
        if (!s_frame_is (&self->frames [5], "sync")) {
            s_self_error (self, ZG_ROOMS_BAD_REQUEST, "mode must be 'sync' or 'async'");
            return;
        }
    }
    s_client_t *client = s_self_client (self, &self->frames [3]);
    const char *name = client? s_self_room_name (self, &self->frames [4]): NULL;
    if (!name)
        return;
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    s_member_t *member = room? (s_member_t *) zhashx_lookup (room->members, client->id): NULL;
    if (member)
        s_member_set_mode (member, async);
    else {
        if ((int64_t) client->rooms >= self->settings.max_rooms_per_client) {
            s_self_error (self, ZG_ROOMS_LIMIT, "too many rooms for one client (max-rooms-per-client %" PRId64 ")",
                          self->settings.max_rooms_per_client);
            return;
        }
        room = s_self_room_get (self, name, true);
        if (!room)
            return;
        s_self_member_add (self, client, room, async);
        if (self->settings.verbose)
            zsys_info ("zg_rooms: %s joins '%s'%s", client->id, name, async? " (async)": "");
    }
    s_self_ok (self, NULL, 0);
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------
//  The membership named by [client][room] frames; answers an ERROR if none

static s_member_t *
s_self_member (self_t *self, size_t client_frame)
{
    s_client_t *client = s_self_client (self, &self->frames [client_frame]);
    if (!client)
        return NULL;
    //  The cached membership saves two hash lookups; a name it matches is
    //  valid unless max-name-size shrank since the room was made
    zmq_msg_t *frame = &self->frames [client_frame + 1];
    s_member_t *member = client->last_member;
    if (member && member->room->name_size == zmq_msg_size (frame)
    &&  (int64_t) member->room->name_size <= self->settings.max_name_size
    &&  memcmp (member->room->name, zmq_msg_data (frame), member->room->name_size) == 0)
        return member;
    const char *name = s_self_room_name (self, frame);
    if (!name)
        return NULL;
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    member = room? (s_member_t *) zhashx_lookup (room->members, client->id): NULL;
    if (member)
        client->last_member = member;
    else
        s_self_error (self, ZG_ROOMS_NOT_FOUND, "not a member of '%s'", name);
    return member;
}

//  --------------------------------------------------------------------------

static void
s_self_leave (self_t *self)
{
    s_member_t *member = s_self_member (self, 3);
    if (!member)
        return;
    s_room_t *room = member->room;
    if (self->settings.verbose)
        zsys_info ("zg_rooms: %s leaves '%s'", member->client->id, room->name);
    s_self_member_remove (self, member);
    s_self_ok (self, NULL, 0);
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------

static void
s_self_ack (self_t *self)
{
    s_member_t *member = s_self_member (self, 3);
    if (!member)
        return;
    s_room_t *room = member->room;
    if (!room->inflight || !s_frame_is (&self->frames [5], room->token)) {
        s_self_error (self, ZG_ROOMS_CONFLICT, "stale ack token");
        return;
    }
    if (member->async || member->seq != room->inflight->seq) {
        s_self_error (self, ZG_ROOMS_CONFLICT, "not a holder of message %s", room->token);
        return;
    }
    if (member->acked) {
        s_self_error (self, ZG_ROOMS_CONFLICT, "duplicate ack");
        return;
    }
    member->acked = true;
    room->waiting--;
    self->acked++;
    s_self_ok (self, NULL, 0);
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------

static void
s_self_ping (self_t *self)
{
    if (s_self_client (self, &self->frames [3]))
        s_self_ok (self, NULL, 0);
}

//  --------------------------------------------------------------------------

static void
s_self_bye (self_t *self)
{
    s_client_t *client = s_self_client (self, &self->frames [3]);
    if (!client)
        return;
    s_self_ok (self, NULL, 0);
    s_self_client_forget (self, client, NULL);
}

//  --------------------------------------------------------------------------

static void
s_self_send_message (self_t *self)
{
    int64_t priority;
    if (s_frame_int (&self->frames [4], INT64_MIN, INT64_MAX, &priority)) {
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "priority must be a decimal integer");
        return;
    }
    const char *name = s_self_room_name (self, &self->frames [3]);
    s_room_t *existing = name? (s_room_t *) zhashx_lookup (self->rooms, name): NULL;
    if (existing && (int64_t) zg_roomq_size (existing->queue) >= self->settings.max_backlog) {
        s_self_error (self, ZG_ROOMS_LIMIT, "room '%s' is full (max-backlog %" PRId64 ")",
                      name, self->settings.max_backlog);
        return;
    }
    s_room_t *room = existing? existing: name? s_self_room_get (self, name, true): NULL;
    if (!room)
        return;
    s_message_t *message = self->spare_count > 0? self->spare [--self->spare_count]:
                           (s_message_t *) malloc (sizeof (s_message_t));
    assert (message);
    message->seq = ++self->last_seq;
    message->priority = priority;
    message->queued = zclock_time ();
    zmq_msg_init (&message->payload);
    zmq_msg_move (&message->payload, &self->frames [5]);
    zg_roomq_push (room->queue, priority, message);
    self->backlog++;
    self->sent++;
    //  Producers that send without req get no answer: nothing to format
    if (s_self_req (self).size > 0) {
        char seq [24];
        s_part_t result = { seq, s_decimal (message->seq, seq) };
        s_self_ok (self, &result, 1);
    }
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------

static void
s_self_oob (self_t *self)
{
    const char *name = s_self_room_name (self, &self->frames [3]);
    if (!name)
        return;
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    size_t count = 0;
    if (room) {
        s_part_t parts [] = { s_part_str ("OOB"), { NULL, 0 }, { room->name, room->name_size } };
        for (s_member_t *member = (s_member_t *) zhashx_first (room->members); member;
             member = (s_member_t *) zhashx_next (room->members)) {
            parts [1] = (s_part_t) { member->client->id, member->client->id_size };
            s_self_send_client (self, member->client, parts, 3, &self->frames [4]);
            count++;
        }
    }
    self->oob++;
    char text [24];
    s_part_t result = { text, s_decimal (count, text) };
    s_self_ok (self, &result, 1);
}

//  --------------------------------------------------------------------------

static void
s_self_peek (self_t *self)
{
    int64_t offset = 0, limit = self->settings.max_peek;
    if ((self->frame_count > 4 && s_frame_int (&self->frames [4], 0, INT64_MAX, &offset))
    ||  (self->frame_count > 5 && s_frame_int (&self->frames [5], 0, INT64_MAX, &limit))) {
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "offset and limit must be decimal integers >= 0");
        return;
    }
    const char *name = s_self_room_name (self, &self->frames [3]);
    if (!name)
        return;
    if (limit > self->settings.max_peek)
        limit = self->settings.max_peek;
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    size_t backlog = room? zg_roomq_size (room->queue): 0;
    size_t count = (size_t) offset >= backlog? 0: backlog - (size_t) offset;
    if ((int64_t) count > limit)
        count = (size_t) limit;
    //  Bound the answer by bytes too: max-peek messages of max-message-size
    //  each would be one enormous frame. The first message always fits.
    size_t bytes = 0, fitting = 0;
    s_message_t *message = count? (s_message_t *) zg_roomq_first (room->queue, (size_t) offset): NULL;
    for (; fitting < count; fitting++, message = (s_message_t *) zg_roomq_next (room->queue)) {
        bytes += zmq_msg_size (&message->payload);
        if (fitting > 0 && bytes > (size_t) self->settings.max_message_size)
            break;
    }
    count = fitting;
    msgpack_packer packer = s_self_packer (self);
    msgpack_pack_map (&packer, 4);
    s_pack_key_str (&packer, "room", name);
    s_pack_key_int (&packer, "backlog", (int64_t) backlog);
    s_pack_key_int (&packer, "offset", offset);
    s_pack_str (&packer, "messages");
    msgpack_pack_array (&packer, count);
    message = count? (s_message_t *) zg_roomq_first (room->queue, (size_t) offset): NULL;
    for (size_t index = 0; index < count; index++) {
        msgpack_pack_map (&packer, 4);
        s_pack_key_int (&packer, "seq", (int64_t) message->seq);
        s_pack_key_int (&packer, "priority", message->priority);
        s_pack_key_int (&packer, "queued", message->queued);
        s_pack_str (&packer, "data");
        msgpack_pack_bin_with_body (&packer, zmq_msg_data (&message->payload), zmq_msg_size (&message->payload));
        message = (s_message_t *) zg_roomq_next (room->queue);
    }
    s_self_ok_buffer (self);
}

//  --------------------------------------------------------------------------

static void
s_self_state (self_t *self)
{
    const char *name = s_self_room_name (self, &self->frames [3]);
    if (!name)
        return;
    s_room_t *room = (s_room_t *) zhashx_lookup (self->rooms, name);
    msgpack_packer packer = s_self_packer (self);
    msgpack_pack_map (&packer, 7);
    s_pack_key_str (&packer, "room", name);
    s_pack_key_int (&packer, "backlog", room? (int64_t) zg_roomq_size (room->queue): 0);
    s_pack_key_bool (&packer, "hold", room? room->hold: self->settings.hold != 0);
    s_pack_key_int (&packer, "ack_timeout", room? room->ack_timeout: self->settings.ack_timeout);
    s_pack_str (&packer, "in_flight");
    if (room && room->inflight) {
        msgpack_pack_map (&packer, 4);
        s_pack_key_int (&packer, "seq", (int64_t) room->inflight->seq);
        s_pack_key_int (&packer, "priority", room->inflight->priority);
        s_pack_key_int (&packer, "released", room->released);
        s_pack_key_int (&packer, "waiting", (int64_t) room->waiting);
    }
    else
        msgpack_pack_nil (&packer);
    s_pack_str (&packer, "members");
    size_t acked = 0;
    msgpack_pack_array (&packer, room? zhashx_size (room->members): 0);
    for (s_member_t *member = room? (s_member_t *) zhashx_first (room->members): NULL; member;
         member = (s_member_t *) zhashx_next (room->members)) {
        bool has_acked = s_member_has_acked (member);
        acked += has_acked;
        msgpack_pack_map (&packer, 4);
        s_pack_key_str (&packer, "client", member->client->id);
        s_pack_key_bool (&packer, "async", member->async);
        s_pack_key_int (&packer, "last_seen", member->client->last_seen_wall);
        s_pack_key_bool (&packer, "acked", has_acked);
    }
    s_pack_str (&packer, "acked");
    msgpack_pack_array (&packer, acked);
    for (s_member_t *member = room? (s_member_t *) zhashx_first (room->members): NULL; member;
         member = (s_member_t *) zhashx_next (room->members))
        if (s_member_has_acked (member))
            s_pack_str (&packer, member->client->id);
    s_self_ok_buffer (self);
}

//  --------------------------------------------------------------------------

static void
s_self_metrics (self_t *self)
{
    int64_t top = 10;
    if (self->frame_count > 3 && s_frame_int (&self->frames [3], 0, INT64_MAX, &top)) {
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "top must be a decimal integer >= 0");
        return;
    }
    if (top > self->settings.max_top_rooms)
        top = self->settings.max_top_rooms;
    s_room_t **rooms;
    size_t with_backlog;
    size_t count = s_self_top_rooms (self, (size_t) top, &rooms, &with_backlog);
    msgpack_packer packer = s_self_packer (self);
    msgpack_pack_map (&packer, 8);
    s_pack_key_int (&packer, "rooms", (int64_t) zhashx_size (self->rooms));
    s_pack_key_int (&packer, "rooms_with_backlog", (int64_t) with_backlog);
    s_pack_str (&packer, "top_rooms");
    msgpack_pack_array (&packer, count);
    int64_t top_backlog = 0;
    for (size_t index = 0; index < count; index++) {
        int64_t backlog = (int64_t) zg_roomq_size (rooms [index]->queue);
        msgpack_pack_map (&packer, 2);
        s_pack_key_str (&packer, "room", rooms [index]->name);
        s_pack_key_int (&packer, "backlog", backlog);
        top_backlog += backlog;
    }
    free (rooms);
    s_pack_key_int (&packer, "top_backlog", top_backlog);
    s_pack_key_int (&packer, "backlog", (int64_t) self->backlog);
    s_pack_key_int (&packer, "clients", (int64_t) zhashx_size (self->clients));
    s_pack_key_int (&packer, "members", (int64_t) self->members);
    s_pack_key_int (&packer, "in_flight", (int64_t) self->rooms_in_flight);
    s_self_ok_buffer (self);
}

//  --------------------------------------------------------------------------
//  ROOM: options are a msgpack map of hold (bool) and ack_timeout (int). It
//  is read in place (zg_mpreader), so no size the client declares is ever
//  allocated, and the whole map is checked before anything changes.

static void
s_self_room_options (self_t *self)
{
    zmq_msg_t *frame = &self->frames [4];
    zg_mpreader_t reader = zg_mpreader_init (zmq_msg_data (frame), zmq_msg_size (frame));
    bool hold = false, set_hold = false, set_timeout = false;
    int64_t ack_timeout = 0;
    uint64_t entries = 0;
    bool valid = zg_mpreader_container (&reader, true, &entries);
    for (uint64_t index = 0; valid && index < entries; index++) {
        const char *key;
        size_t size;
        valid = zg_mpreader_string (&reader, &key, &size);
        if (valid && size == 4 && memcmp (key, "hold", 4) == 0)
            valid = set_hold = zg_mpreader_boolean (&reader, &hold);
        else
        if (valid && size == 11 && memcmp (key, "ack_timeout", 11) == 0)
            valid = set_timeout = zg_mpreader_integer (&reader, &ack_timeout)
                 && ack_timeout >= ZG_ROOMS_MIN_ACK_TIMEOUT && ack_timeout <= ZG_ROOMS_MAX_ACK_TIMEOUT;
        else
            valid = false;
    }
    if (!valid || !zg_mpreader_done (&reader)) {
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "options must be a msgpack map of hold (bool) "
                      "and ack_timeout (%d to %d)", ZG_ROOMS_MIN_ACK_TIMEOUT, ZG_ROOMS_MAX_ACK_TIMEOUT);
        return;
    }
    const char *name = s_self_room_name (self, &self->frames [3]);
    s_room_t *room = name? s_self_room_get (self, name, true): NULL;
    if (!room)
        return;
    if (set_hold)
        room->hold = hold;
    if (set_timeout)
        room->ack_timeout = ack_timeout;
    s_self_ok (self, NULL, 0);
    s_self_settle (self, room);
}

//  --------------------------------------------------------------------------
//  Dispatch one request by its command and frame count

typedef struct {
    const char *command;            //  Command frame
    size_t min_frames;              //  Frames including routing id, command and req
    size_t max_frames;              //  Most frames
    void (*handler) (self_t *self); //  Handler
} s_command_t;

static const s_command_t s_commands [] = {
    { "ACK", 6, 6, s_self_ack },
    { "PING", 4, 4, s_self_ping },
    { "SEND", 6, 6, s_self_send_message },
    { "OOB", 5, 5, s_self_oob },
    { "HELLO", 3, 3, s_self_hello },
    { "JOIN", 5, 6, s_self_join },
    { "LEAVE", 5, 5, s_self_leave },
    { "BYE", 4, 4, s_self_bye },
    { "PEEK", 4, 6, s_self_peek },
    { "STATE", 4, 4, s_self_state },
    { "METRICS", 3, 4, s_self_metrics },
    { "ROOM", 5, 5, s_self_room_options },
    { NULL }
};

//  --------------------------------------------------------------------------

static void
s_self_handle_request (self_t *self)
{
    zmq_msg_t *command = &self->frames [1];
    if (self->frame_count > 2 && (int64_t) zmq_msg_size (&self->frames [2]) > self->settings.max_name_size) {
        s_self_error (self, ZG_ROOMS_TOO_LARGE, "req longer than %" PRId64 " bytes", self->settings.max_name_size);
        return;
    }
    for (const s_command_t *entry = s_commands; entry->command; entry++)
        if (s_frame_is (command, entry->command)) {
            if (self->frame_count < entry->min_frames || self->frame_count > entry->max_frames)
                s_self_error (self, ZG_ROOMS_BAD_REQUEST, "%s takes %zu to %zu fields after req",
                              entry->command, entry->min_frames - 3, entry->max_frames - 3);
            else
                entry->handler (self);
            return;
        }
    s_self_error (self, ZG_ROOMS_BAD_REQUEST, "unknown command");
}

//  --------------------------------------------------------------------------
//  Receive and handle one request; returns -1 when none is waiting

static int
s_self_recv_one (self_t *self)
{
    void *router = self->handle;
    size_t count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t *frame = &self->frames [count < ZG_ROOMS_MAX_FRAMES? count: ZG_ROOMS_MAX_FRAMES - 1];
        if (zmq_msg_recv (frame, router, count == 0? ZMQ_DONTWAIT: 0) == -1) {
            if (count == 0)
                return -1;
            break;              //  Context terminated mid-message
        }
        more = zmq_msg_more (frame);
        count++;
    }
    self->frame_count = count;
    self->now = zclock_mono ();
    if (count < 2 || count > ZG_ROOMS_MAX_FRAMES) {
        //  Answer with what we can: the req, if there is one, is frame 2
        if (count > ZG_ROOMS_MAX_FRAMES)
            self->frame_count = 3;
        s_self_error (self, ZG_ROOMS_BAD_REQUEST, "malformed request: %zu frames", count - 1);
    }
    else
        s_self_handle_request (self);
    //  Release what the request held (a payload may be large) until the next
    //  one; small frames hold no memory, and the next receive closes them
    for (size_t index = 0; index < count && index < ZG_ROOMS_MAX_FRAMES; index++)
        if (zmq_msg_size (&self->frames [index]) > ZG_ROOMS_SMALL_FRAME) {
            zmq_msg_close (&self->frames [index]);
            zmq_msg_init (&self->frames [index]);
        }
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply one setting; endpoint keys bind at once

static int
s_self_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "clients") || streq (key, "inproc-clients"))
        return zg_actor_bind (self->router, value, error, size);
    int rc = zg_actor_set_int (s_int_settings, &self->settings, key, value, error, size);
    if (rc)
        return rc;
    //  Socket options apply to endpoints bound from now on
    zsock_set_sndhwm (self->router, (int) self->settings.sndhwm);
    zsock_set_rcvhwm (self->router, (int) self->settings.rcvhwm);
    zsock_set_maxmsgsize (self->router, self->settings.max_message_size);
    self->room_key = (char *) realloc (self->room_key, (size_t) self->settings.max_name_size + 1);
    assert (self->room_key);
    return rc;
}

//  --------------------------------------------------------------------------
//  The STATS top list: the largest backlogs, as METRICS lists them

static json_object *
s_self_top_rooms_json (self_t *self, size_t *with_backlog)
{
    s_room_t **rooms;
    size_t count = s_self_top_rooms (self, ZG_ROOMS_STATS_TOP, &rooms, with_backlog);
    json_object *top = json_object_new_array ();
    for (size_t index = 0; index < count; index++) {
        json_object *entry = json_object_new_object ();
        json_object_object_add (entry, "room", json_object_new_string (rooms [index]->name));
        json_object_object_add (entry, "backlog", json_object_new_uint64 (zg_roomq_size (rooms [index]->queue)));
        json_object_array_add (top, entry);
    }
    free (rooms);
    return top;
}

//  --------------------------------------------------------------------------
//  How long the last releases waited in their queues: count, min, max, average

static json_object *
s_self_latency_json (self_t *self)
{
    size_t samples = self->released < ZG_ROOMS_LATENCIES? (size_t) self->released: ZG_ROOMS_LATENCIES;
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
    json_object_object_add (latency, "avg", json_object_new_double (samples? (double) sum / samples: 0));
    return latency;
}

//  --------------------------------------------------------------------------
//  STATS as a JSON object

static json_object *
s_self_stats (self_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "rooms", json_object_new_uint64 (zhashx_size (self->rooms)));
    json_object_object_add (root, "clients", json_object_new_uint64 (zhashx_size (self->clients)));
    json_object_object_add (root, "members", json_object_new_uint64 (self->members));
    json_object_object_add (root, "backlog", json_object_new_uint64 (self->backlog));
    json_object_object_add (root, "in_flight", json_object_new_uint64 (self->rooms_in_flight));
    json_object_object_add (root, "sent", json_object_new_uint64 (self->sent));
    json_object_object_add (root, "released", json_object_new_uint64 (self->released));
    json_object_object_add (root, "delivered", json_object_new_uint64 (self->delivered));
    json_object_object_add (root, "acked", json_object_new_uint64 (self->acked));
    json_object_object_add (root, "oob", json_object_new_uint64 (self->oob));
    json_object_object_add (root, "evicted", json_object_new_uint64 (self->evicted));
    json_object_object_add (root, "errors", json_object_new_uint64 (self->errors));
    json_object_object_add (root, "dropped", json_object_new_uint64 (self->dropped));
    size_t with_backlog;
    json_object *top = s_self_top_rooms_json (self, &with_backlog);
    json_object_object_add (root, "rooms_with_backlog", json_object_new_uint64 (with_backlog));
    json_object_object_add (root, "top_rooms", top);
    json_object_object_add (root, "latency_ms", s_self_latency_json (self));
    return root;
}

static const zg_actor_handlers_t s_handlers = {
    "zg_rooms", (zg_actor_set_fn *) s_self_set, (zg_actor_stats_fn *) s_self_stats, NULL
};

//  --------------------------------------------------------------------------
//  The actor

void
zg_rooms (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = s_self_new (pipe);
    zsock_signal (pipe, 0);
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
        { self->handle, 0, ZMQ_POLLIN, 0 }
    };
    while (!self->terminated) {
        if (zg_actor_poll (items, 2, s_self_poll_timeout (self)) == -1)
            break;              //  Context terminated
        if (items [0].revents & ZMQ_POLLIN)
            self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
        if (items [1].revents & ZMQ_POLLIN)
            for (int count = 0; count < ZG_ROOMS_BATCH; count++)
                if (s_self_recv_one (self) == -1)
                    break;
        s_self_expire (self);
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Create a rooms actor

zactor_t *
zg_rooms_new (void)
{
    return zactor_new (zg_rooms, NULL);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Send a request and return the answer's frames

static zmsg_t *
s_test_request (zsock_t *client, const char *first, ...)
{
    zmsg_t *request = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (request, frame);
    va_end (args);
    zmsg_send (&request, client);
    return zmsg_recv (client);
}

//  --------------------------------------------------------------------------
//  Expect [command][frame 1]...; frames given as NULL are not checked

static void
s_test_expect (zmsg_t **msg_p, const char *first, ...)
{
    zmsg_t *msg = *msg_p;
    assert (msg);
    va_list args;
    va_start (args, first);
    zframe_t *frame = zmsg_first (msg);
    for (const char *expected = first; expected; expected = va_arg (args, const char *)) {
        assert (frame);
        if (*expected && !zframe_streq (frame, expected)) {
            char *actual = zframe_strdup (frame);
            zsys_error ("zg_rooms test: expected '%s', got '%s'", expected, actual);
            free (actual);
            assert (false);
        }
        frame = zmsg_next (msg);
    }
    va_end (args);
    zmsg_destroy (msg_p);
}

//  --------------------------------------------------------------------------
//  An integer field of a msgpack map answer (an array's length, 0 for nil)

static int64_t
s_test_map_int (zmsg_t *msg, const char *key)
{
    zframe_t *frame = zmsg_last (msg);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    int rc = msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &offset);
    assert (rc == MSGPACK_UNPACK_SUCCESS);
    assert (unpacked.data.type == MSGPACK_OBJECT_MAP);
    int64_t value = -1;
    msgpack_object_map *map = &unpacked.data.via.map;
    for (uint32_t index = 0; index < map->size; index++) {
        msgpack_object *name = &map->ptr [index].key;
        if (name->via.str.size == strlen (key) && memcmp (name->via.str.ptr, key, name->via.str.size) == 0) {
            msgpack_object *item = &map->ptr [index].val;
            if (item->type == MSGPACK_OBJECT_POSITIVE_INTEGER || item->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                value = item->via.i64;
            else
            if (item->type == MSGPACK_OBJECT_ARRAY)
                value = item->via.array.size;
            else
            if (item->type == MSGPACK_OBJECT_NIL)
                value = 0;
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return value;
}

//  --------------------------------------------------------------------------

void
zg_rooms_test (bool verbose)
{
    printf (" * zg_rooms: ");
    //  @selftest
    zactor_t *rooms = zg_rooms_new ();
    assert (rooms);
    char error [256];
    assert (zg_actor_set (rooms, "client-timeout", "999", error, sizeof error) == -1);
    assert (zg_actor_set (rooms, "no-such-key", "1", error, sizeof error) == -1);
    assert (zg_actor_set (rooms, "client-timeout", "1000", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "ack-timeout", "300", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "max-backlog", "3", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "clients", "inproc://zg-rooms-test", error, sizeof error) == 0);

    zsock_t *member = zsock_new_dealer (">inproc://zg-rooms-test");
    zsock_t *producer = zsock_new_dealer (">inproc://zg-rooms-test");
    zsock_set_rcvtimeo (member, 2000);
    zsock_set_rcvtimeo (producer, 2000);

    //  Two logical clients on one connection
    zmsg_t *answer = s_test_request (member, "HELLO", "1", NULL);
    assert (answer && zmsg_size (answer) == 3);
    char *alice = zframe_strdup (zmsg_last (answer));
    zmsg_destroy (&answer);
    answer = s_test_request (member, "HELLO", "2", NULL);
    char *bob = zframe_strdup (zmsg_last (answer));
    zmsg_destroy (&answer);
    assert (strneq (alice, bob));

    answer = s_test_request (member, "JOIN", "3", alice, "lobby", NULL);
    s_test_expect (&answer, "OK", "3", NULL);
    answer = s_test_request (member, "JOIN", "4", alice, "lobby", NULL);
    s_test_expect (&answer, "OK", "4", NULL);
    answer = s_test_request (member, "JOIN", "5", bob, "lobby", "async", NULL);
    s_test_expect (&answer, "OK", "5", NULL);
    answer = s_test_request (member, "LEAVE", "6", bob, "elsewhere", NULL);
    s_test_expect (&answer, "ERROR", "6", "404", NULL);
    answer = s_test_request (member, "JOIN", "7", "nobody", "lobby", NULL);
    s_test_expect (&answer, "ERROR", "7", "404", NULL);
    answer = s_test_request (member, "JOIN", "8", alice, "lobby", "sometimes", NULL);
    s_test_expect (&answer, "ERROR", "8", "400", NULL);

    //  Two messages: the second waits for alice's ack of the first
    answer = s_test_request (producer, "SEND", "a", "lobby", "5", "first", NULL);
    s_test_expect (&answer, "OK", "a", "1", NULL);
    answer = s_test_request (producer, "SEND", "b", "lobby", "5", "second", NULL);
    s_test_expect (&answer, "OK", "b", "2", NULL);
    answer = s_test_request (producer, "SEND", "c", "lobby", "x", "bad", NULL);
    s_test_expect (&answer, "ERROR", "c", "400", NULL);
    //  Alice gets a token, bob (async) none
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event && zmsg_size (event) == 6);
        assert (zframe_streq (zmsg_first (event), "DELIVER"));
        char *client = zframe_strdup (zmsg_next (event));
        zmsg_next (event);
        zmsg_next (event);
        zframe_t *token = zmsg_next (event);
        assert (zframe_size (token) == (streq (client, alice)? 1: 0));
        assert (zframe_streq (zmsg_last (event), "first"));
        free (client);
        zmsg_destroy (&event);
    }
    answer = s_test_request (producer, "PEEK", "p", "lobby", NULL);
    assert (s_test_map_int (answer, "backlog") == 1);
    assert (s_test_map_int (answer, "messages") == 1);
    zmsg_destroy (&answer);
    answer = s_test_request (producer, "STATE", "s", "lobby", NULL);
    assert (s_test_map_int (answer, "members") == 2);
    assert (s_test_map_int (answer, "acked") == 0);
    zmsg_destroy (&answer);
    //  Wrong tokens change nothing
    answer = s_test_request (member, "ACK", "9", alice, "lobby", "2", NULL);
    s_test_expect (&answer, "ERROR", "9", "409", NULL);
    //  The last command naming bob: a refused ack is still a sign of life
    int64_t bob_last_heard = zclock_mono ();
    answer = s_test_request (member, "ACK", "10", bob, "lobby", "1", NULL);
    s_test_expect (&answer, "ERROR", "10", "409", NULL);
    //  An ack without req gets no answer; the next message follows
    zstr_sendx (member, "ACK", "", alice, "lobby", "1", NULL);
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event);
        assert (zframe_streq (zmsg_first (event), "DELIVER"));
        assert (zframe_streq (zmsg_last (event), "second"));
        zmsg_destroy (&event);
    }
    answer = s_test_request (member, "ACK", "11", alice, "lobby", "1", NULL);
    s_test_expect (&answer, "ERROR", "11", "409", NULL);

    //  OOB reaches both members at once
    answer = s_test_request (producer, "OOB", "o", "lobby", "urgent", NULL);
    s_test_expect (&answer, "OK", "o", "2", NULL);
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event && zframe_streq (zmsg_first (event), "OOB"));
        zmsg_destroy (&event);
    }
    //  The backlog is bounded
    for (int count = 0; count < 3; count++) {
        answer = s_test_request (producer, "SEND", "f", "lobby", "0", "fill", NULL);
        s_test_expect (&answer, "OK", NULL);
    }
    answer = s_test_request (producer, "SEND", "g", "lobby", "0", "full", NULL);
    s_test_expect (&answer, "ERROR", "g", "429", NULL);
    answer = s_test_request (producer, "METRICS", "m", "1", NULL);
    assert (s_test_map_int (answer, "top_rooms") == 1);
    assert (s_test_map_int (answer, "backlog") == 3);
    zmsg_destroy (&answer);
    //  Room options: a malformed map is refused
    answer = s_test_request (producer, "ROOM", "r", "lobby", "\x81\xa4hold\x01", NULL);
    s_test_expect (&answer, "ERROR", "r", "400", NULL);
    answer = s_test_request (producer, "ROOM", "r", "lobby", "\x81\xa4hold\xc3", NULL);
    s_test_expect (&answer, "OK", "r", NULL);
    //  Malformed requests
    answer = s_test_request (producer, "NOPE", "n", NULL);
    s_test_expect (&answer, "ERROR", "n", "400", NULL);
    answer = s_test_request (producer, "SEND", NULL);
    s_test_expect (&answer, "ERROR", "", "400", NULL);
    //  A membership an ACK named, then left, is no longer found
    answer = s_test_request (producer, "HELLO", "h", NULL);
    char *carol = zframe_strdup (zmsg_last (answer));
    zmsg_destroy (&answer);
    answer = s_test_request (producer, "JOIN", "j", carol, "side", NULL);
    s_test_expect (&answer, "OK", "j", NULL);
    answer = s_test_request (producer, "ACK", "k", carol, "side", "1", NULL);
    s_test_expect (&answer, "ERROR", "k", "409", NULL);
    answer = s_test_request (producer, "ACK", "k", carol, "lobby", "1", NULL);
    s_test_expect (&answer, "ERROR", "k", "404", NULL);
    answer = s_test_request (producer, "LEAVE", "l", carol, "side", NULL);
    s_test_expect (&answer, "OK", "l", NULL);
    answer = s_test_request (producer, "ACK", "k", carol, "side", "1", NULL);
    s_test_expect (&answer, "ERROR", "k", "404", NULL);
    answer = s_test_request (producer, "BYE", "y", carol, NULL);
    s_test_expect (&answer, "OK", "y", NULL);
    free (carol);

    //  Alice never acks "second": the ack-timeout evicts her and bob is told
    zmsg_t *event = zmsg_recv (member);
    assert (event && zframe_streq (zmsg_first (event), "EVICTED"));
    zmsg_destroy (&event);
    event = zmsg_recv (member);
    assert (event && zframe_streq (zmsg_first (event), "TIMEOUT"));
    zmsg_destroy (&event);
    //  Silence evicts bob at the client timeout, well within 1.5 times it
    event = zmsg_recv (member);
    s_test_expect (&event, "EVICTED", bob, "lobby", "timeout", NULL);
    int64_t silence = zclock_mono () - bob_last_heard;
    assert (silence >= 1000 && silence <= 1500);
    char *stats = zg_actor_stats (rooms);
    assert (strstr (stats, "\"evicted\":2"));
    if (verbose)
        printf ("%s ", stats);
    free (stats);

    free (alice);
    free (bob);
    zsock_destroy (&member);
    zsock_destroy (&producer);
    zactor_destroy (&rooms);
    //  @end
    printf ("OK\n");
}
