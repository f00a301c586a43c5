/*  =========================================================================
    zg_rooms_cluster - rooms across nodes: the bridge between one node's
    rooms actor and Redis

    Link messages (one PAIR, no high-water mark: each is one request, one
    membership change or one room message, all bounded by the rooms actor):
      rooms -> bridge  [SEND][routing][req][room][priority][payload][producer]
                       [OOB][routing][req][room][payload]
                       [PEEK][routing][req][room][offset][limit][max bytes]
                       [STATE][routing][req][room]
                       [METRICS][routing][req][top][clients]
                       [ACK][room][seq]          the node's members are done
                       [MEMBERS][room][count][sync 0|1]
                       [SETTINGS][max-backlog][hold 0|1][ack-timeout]
      bridge -> rooms  [ANSWER][routing][frames of the answer...]
                       [DELIVER][room][seq][priority][payload]
                       [OOB][room][payload]
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_redis.h"
#include "zg_redis_server.h"
#include "zg_rtest.h"
#include "zg_rooms_cluster.h"
#include "zg_wire.h"
#include "zg_rooms_cdescribe.h"
#include <msgpack.h>

//  The Lua of zg_rooms_script.lua, compiled in by CMake
extern const char zg_rooms_script [];

//  What a reply answers: nothing, a number (SEND, OOB), a map, or (S_ALIVE)
//  whether this node must announce its rooms again
typedef enum { S_NONE, S_NUMBER, S_PEEK, S_STATE, S_METRICS, S_ALIVE } s_kind_t;

//  A command whose reply is due, in the order sent
typedef struct {
    s_kind_t kind;
    zframe_t *routing;              //  The client's routing id
    zframe_t *req;                  //  Its req
    char *room;                     //  PEEK, STATE: the room
    uint64_t offset;                //  PEEK: the first message's place
    size_t max_bytes;               //  PEEK: message data in one answer
    size_t shard;                   //  S_ALIVE: the shard it ran on
    zg_rooms_cmetrics_t *metrics;   //  METRICS: shared by one entry per shard
} s_pending_t;

typedef struct {
    zg_redis_t *plain;              //  EVALSHA and its replies
    zg_redis_t *subscriber;         //  The node's channel
    uint64_t plain_connects;        //  Connections seen so far
    uint64_t subscriber_connects;
    zlistx_t *pending;              //  s_pending_t, replies due
} s_shard_t;

struct _zg_rooms_cluster_t {
    char *node;                     //  This node's id
    char *prefix;                   //  <key-prefix>:r, of every key and channel
    char *channel;                  //  <prefix>:n:<node>, where released messages come
    char sha [41];                  //  The script's SHA1, as Redis names it
    zg_redis_ring_t *ring;          //  Rooms to shards (the cluster actor's)
    s_shard_t *shards;
    size_t shard_count;
    zsock_t *link;                  //  PAIR to the rooms actor
    zhashx_t *reported;             //  Room -> "count sync" last told to Redis
    int64_t node_timeout;           //  Ms of silence after which a node is dead
    int64_t next_alive;             //  Monotonic ms of the next presence refresh
    int64_t next_sweep;             //  And of the next sweep request
    char max_backlog [24];          //  The rooms' max-backlog, as text
    char hold [2];                  //  "1" if rooms hold messages without sync members
    int64_t ack_timeout;            //  The rooms' ack-timeout, which STATE shows
    msgpack_sbuffer buffer;         //  Map answers
    msgpack_packer packer;          //  Packs into buffer
    uint64_t sent;                  //  SENDs passed on
    uint64_t released;              //  Room messages received from Redis
    uint64_t oob;                   //  OOB messages received
    uint64_t acks;                  //  Acks passed on
    uint64_t refused;               //  Requests answered 503 (Redis out of reach)
    uint64_t errors;                //  Error replies
    uint64_t malformed;             //  Unreadable messages from Redis
};

//  --------------------------------------------------------------------------

static void
s_pending_destroy (s_pending_t **self_p)
{
    s_pending_t *self = *self_p;
    if (self) {
        zframe_destroy (&self->routing);
        zframe_destroy (&self->req);
        free (self->room);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create the bridge

zg_rooms_cluster_t *
zg_rooms_cluster_new (const char *node, const char *key_prefix, const char **addresses, size_t shards,
                      zg_redis_ring_t *ring)
{
    zg_rooms_cluster_t *self = (zg_rooms_cluster_t *) zmalloc (sizeof (zg_rooms_cluster_t));
    assert (self);
    self->node = strdup (node);
    self->prefix = zsys_sprintf ("%s:r", key_prefix);
    self->channel = zsys_sprintf ("%s:n:%s", self->prefix, node);
    zdigest_t *digest = zdigest_new ();
    zdigest_update (digest, (const byte *) zg_rooms_script, strlen (zg_rooms_script));
    snprintf (self->sha, sizeof self->sha, "%s", zdigest_string (digest));
    zdigest_destroy (&digest);
    for (char *character = self->sha; *character; character++)
        *character = (char) tolower ((unsigned char) *character);
    self->ring = ring;
    self->shard_count = shards;
    self->shards = (s_shard_t *) zmalloc (shards * sizeof (s_shard_t));
    char error [256];
    for (size_t shard = 0; shard < shards; shard++) {
        self->shards [shard].plain = zg_redis_new (addresses [shard], error, sizeof error);
        self->shards [shard].subscriber = zg_redis_new (addresses [shard], error, sizeof error);
        assert (self->shards [shard].plain && self->shards [shard].subscriber);
        zg_redis_set_subscriber (self->shards [shard].subscriber);
        self->shards [shard].pending = zlistx_new ();
        zlistx_set_destructor (self->shards [shard].pending, (zlistx_destructor_fn *) s_pending_destroy);
    }
    self->link = zsock_new (ZMQ_PAIR);
    assert (self->link);
    zsock_set_sndhwm (self->link, 0);
    zsock_set_rcvhwm (self->link, 0);
    self->reported = zhashx_new ();
    zhashx_set_destructor (self->reported, (zhashx_destructor_fn *) zstr_free);
    self->node_timeout = 5000;
    snprintf (self->max_backlog, sizeof self->max_backlog, "%d", INT32_MAX);
    snprintf (self->hold, sizeof self->hold, "0");
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge

void
zg_rooms_cluster_destroy (zg_rooms_cluster_t **self_p)
{
    assert (self_p);
    zg_rooms_cluster_t *self = *self_p;
    if (self) {
        for (size_t shard = 0; shard < self->shard_count; shard++) {
            //  A METRICS' collection goes with the last entry that shares it
            zlistx_t *pending = self->shards [shard].pending;
            for (s_pending_t *entry = (s_pending_t *) zlistx_first (pending); entry;
                 entry = (s_pending_t *) zlistx_next (pending))
                if (entry->metrics && zg_rooms_cmetrics_add (entry->metrics, NULL))
                    zg_rooms_cmetrics_destroy (&entry->metrics);
            zg_redis_destroy (&self->shards [shard].plain);
            zg_redis_destroy (&self->shards [shard].subscriber);
            zlistx_destroy (&self->shards [shard].pending);
        }
        free (self->shards);
        zsock_destroy (&self->link);
        zhashx_destroy (&self->reported);
        msgpack_sbuffer_destroy (&self->buffer);
        free (self->node);
        free (self->prefix);
        free (self->channel);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

void
zg_rooms_cluster_set_timeouts (zg_rooms_cluster_t *self, int64_t connect_timeout, int64_t timeout,
                               int64_t backoff_max, int64_t node_timeout)
{
    assert (self);
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_set_timeouts (self->shards [shard].plain, connect_timeout, timeout, backoff_max);
        zg_redis_set_timeouts (self->shards [shard].subscriber, connect_timeout, timeout, backoff_max);
    }
    self->node_timeout = node_timeout;
}

//  --------------------------------------------------------------------------

int
zg_rooms_cluster_bind (zg_rooms_cluster_t *self, const char *endpoint, char *error, size_t size)
{
    assert (self);
    if (strncmp (endpoint, "inproc://", 9) != 0) {
        snprintf (error, size, "'%s' is not an inproc endpoint", endpoint);
        return -1;
    }
    if (zsock_bind (self->link, "%s", endpoint) == -1) {
        snprintf (error, size, "cannot bind '%s': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Answer a client through the rooms actor: [ANSWER][routing][parts...]

static void
s_answer (zg_rooms_cluster_t *self, zframe_t *routing, const zg_wire_part_t *parts, size_t count)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "ANSWER");
    zmsg_addmem (msg, zframe_data (routing), zframe_size (routing));
    for (size_t index = 0; index < count; index++)
        zmsg_addmem (msg, parts [index].data, parts [index].size);
    zmsg_send (&msg, self->link);
}

//  An ERROR answer with a code and a reason
static void
s_answer_error (zg_rooms_cluster_t *self, zframe_t *routing, zframe_t *req, const char *code, const char *reason)
{
    zg_wire_part_t parts [] = {
        zg_wire_str ("ERROR"), { zframe_data (req), zframe_size (req) }, zg_wire_str (code), zg_wire_str (reason)
    };
    s_answer (self, routing, parts, 4);
}

//  --------------------------------------------------------------------------
//  Run the script on a room's shard (or, with room NULL, a node-wide
//  operation on shard): EVALSHA sha 1 key op prefix name hold args...
//  The shard's pending list takes *pending_p (an entry that answers
//  nothing if NULL); returns -1, leaving it, if the shard is down

static int
s_eval (zg_rooms_cluster_t *self, size_t shard, const char *room, const char *op, const char **args,
        const size_t *sizes, size_t count, s_pending_t **pending_p)
{
    char *key = room? zsys_sprintf ("%s:{%s}", self->prefix, room): zsys_sprintf ("%s:alive", self->prefix);
    const char *argv [16] = { "EVALSHA", self->sha, "1", key, op, self->prefix, room? room: self->node, self->hold };
    size_t argv_size [16];
    for (size_t index = 0; index < 8; index++)
        argv_size [index] = strlen (argv [index]);
    assert (count <= 8);
    for (size_t index = 0; index < count; index++) {
        argv [8 + index] = args [index];
        argv_size [8 + index] = sizes? sizes [index]: strlen (args [index]);
    }
    int rc = zg_redis_command (self->shards [shard].plain, (int) (8 + count), argv, argv_size);
    zstr_free (&key);
    if (rc == 0) {
        s_pending_t *pending = pending_p? *pending_p: (s_pending_t *) zmalloc (sizeof (s_pending_t));
        assert (pending);
        zlistx_add_end (self->shards [shard].pending, pending);
        if (pending_p)
            *pending_p = NULL;
    }
    return rc;
}

//  Run the script for no client, its reply read as kind says (S_ALIVE:
//  whether to announce again on shard)
static void
s_eval_noted (zg_rooms_cluster_t *self, size_t shard, const char *room, const char *op, const char **args,
              size_t count, s_kind_t kind)
{
    s_pending_t *pending = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    assert (pending);
    *pending = (s_pending_t) { .kind = kind, .shard = shard };
    if (s_eval (self, shard, room, op, args, NULL, count, &pending) == -1)
        s_pending_destroy (&pending);
}

//  A pending entry that answers a client; it takes routing and req
static s_pending_t *
s_pending_new (s_kind_t kind, zframe_t **routing, zframe_t **req)
{
    s_pending_t *self = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    assert (self);
    self->kind = kind;
    self->routing = *routing;
    self->req = *req;
    *routing = *req = NULL;
    return self;
}

//  The shard of a room
static size_t
s_shard_of (zg_rooms_cluster_t *self, const char *room)
{
    return zg_redis_ring_pick (self->ring, room, strlen (room));
}

//  --------------------------------------------------------------------------
//  Tell Redis a room's local members (again: after a lost connection). A
//  change's reply is read like a presence refresh's: the change may be
//  the first thing a swept node tells Redis on waking

static void
s_report (zg_rooms_cluster_t *self, const char *room, const char *state, bool again)
{
    char count [24];
    const char *space = strchr (state, ' ');
    snprintf (count, sizeof count, "%.*s", (int) (space - state), state);
    const char *args [] = { self->node, count, space + 1, again? "1": "0" };
    s_eval_noted (self, s_shard_of (self, room), room, "members", args, 4, again? S_NONE: S_ALIVE);
}

//  --------------------------------------------------------------------------
//  Tell a shard again every room of it this node has members in: after a
//  lost connection, what the node owed acks for is over (a message it
//  missed meanwhile would hold its room for good)

static void
s_announce (zg_rooms_cluster_t *self, size_t shard)
{
    for (char *state = (char *) zhashx_first (self->reported); state; state = (char *) zhashx_next (self->reported)) {
        const char *room = (const char *) zhashx_cursor (self->reported);
        if (s_shard_of (self, room) == shard)
            s_report (self, room, state, true);
    }
}

//  --------------------------------------------------------------------------
//  A request Redis answers for a client: queue it, or answer 503 now

static void
s_request (zg_rooms_cluster_t *self, size_t shard, const char *room, const char *op, const char **args,
           const size_t *sizes, size_t count, s_pending_t *pending)
{
    if (s_eval (self, shard, room, op, args, sizes, count, &pending) == 0)
        return;
    self->refused++;
    if (!pending->metrics || zg_rooms_cmetrics_add (pending->metrics, NULL)) {
        s_answer_error (self, pending->routing, pending->req, "503", "the cluster's Redis is out of reach; try later");
        zg_rooms_cmetrics_destroy (&pending->metrics);
    }
    s_pending_destroy (&pending);
}

//  --------------------------------------------------------------------------
//  [SEND|OOB][routing][req][room]...: SEND's fields are priority, payload,
//  [producer]; OOB's the payload

static void
s_handle_message_request (zg_rooms_cluster_t *self, zframe_t **routing, zframe_t **req, zmsg_t *msg, bool send)
{
    char *room = zmsg_popstr (msg);
    zframe_t *fields [3] = { zmsg_pop (msg), zmsg_pop (msg), zmsg_pop (msg) };
    zframe_t *empty = zframe_new_empty ();
    zframe_t *order [] = { fields [0], fields [2]? fields [2]: empty, fields [1] };
    const char *args [4];
    size_t sizes [4];
    size_t count = send? 3: 1;
    for (size_t index = 0; index < count; index++) {
        zframe_t *frame = send? order [index]: fields [0];
        args [index] = frame? (const char *) zframe_data (frame): "";
        sizes [index] = frame? zframe_size (frame): 0;
    }
    if (send) {
        args [count] = self->max_backlog;
        sizes [count++] = strlen (self->max_backlog);
        self->sent++;
    }
    if (room)
        s_request (self, s_shard_of (self, room), room, send? "send": "oob", args, sizes, count,
                   s_pending_new (S_NUMBER, routing, req));
    for (size_t index = 0; index < 3; index++)
        zframe_destroy (&fields [index]);
    zframe_destroy (&empty);
    zstr_free (&room);
}

//  --------------------------------------------------------------------------
//  [PEEK|STATE][routing][req][room]...: PEEK's fields are offset, limit and
//  the byte bound

static void
s_handle_describe (zg_rooms_cluster_t *self, zframe_t **routing, zframe_t **req, zmsg_t *msg, bool peek)
{
    char *room = zmsg_popstr (msg);
    char *offset = peek? zmsg_popstr (msg): NULL;
    char *limit = peek? zmsg_popstr (msg): NULL;
    char *max_bytes = peek? zmsg_popstr (msg): NULL;
    if (room && (!peek || (offset && limit && max_bytes))) {
        s_pending_t *pending = s_pending_new (peek? S_PEEK: S_STATE, routing, req);
        pending->room = strdup (room);
        pending->offset = peek? strtoull (offset, NULL, 10): 0;
        pending->max_bytes = peek? (size_t) strtoull (max_bytes, NULL, 10): 0;
        const char *args [] = { offset, limit };
        s_request (self, s_shard_of (self, room), room, peek? "peek": "state", args, NULL, peek? 2: 0, pending);
    }
    zstr_free (&room);
    zstr_free (&offset);
    zstr_free (&limit);
    zstr_free (&max_bytes);
}

//  --------------------------------------------------------------------------
//  [METRICS][routing][req][top][clients]: every shard answers its part

static void
s_handle_metrics (zg_rooms_cluster_t *self, zframe_t **routing, zframe_t **req, zmsg_t *msg)
{
    char *top = zmsg_popstr (msg);
    char *clients = zmsg_popstr (msg);
    if (top && clients) {
        zg_rooms_cmetrics_t *metrics = zg_rooms_cmetrics_new (self->shard_count, (size_t) strtoull (top, NULL, 10),
                                                              strtoull (clients, NULL, 10));
        const char *args [] = { top };
        for (size_t shard = 0; shard < self->shard_count; shard++) {
            zframe_t *routing_copy = zframe_dup (*routing), *req_copy = zframe_dup (*req);
            s_pending_t *pending = s_pending_new (S_METRICS, &routing_copy, &req_copy);
            pending->metrics = metrics;
            s_request (self, shard, NULL, "metrics", args, NULL, 1, pending);
        }
    }
    zstr_free (&top);
    zstr_free (&clients);
}

//  --------------------------------------------------------------------------
//  A request the rooms actor passed on: [COMMAND][routing][req]...

static void
s_handle_request (zg_rooms_cluster_t *self, const char *command, zmsg_t *msg)
{
    zframe_t *routing = zmsg_pop (msg);
    zframe_t *req = zmsg_pop (msg);
    if (routing && req) {
        if (streq (command, "SEND") || streq (command, "OOB"))
            s_handle_message_request (self, &routing, &req, msg, streq (command, "SEND"));
        else
        if (streq (command, "PEEK") || streq (command, "STATE"))
            s_handle_describe (self, &routing, &req, msg, streq (command, "PEEK"));
        else
            s_handle_metrics (self, &routing, &req, msg);
    }
    zframe_destroy (&routing);
    zframe_destroy (&req);
}

//  --------------------------------------------------------------------------
//  [MEMBERS][room][count][sync]: tell Redis if it changed

static void
s_handle_members (zg_rooms_cluster_t *self, zmsg_t *msg)
{
    char *room = zmsg_popstr (msg);
    char *count = zmsg_popstr (msg);
    char *sync = zmsg_popstr (msg);
    if (room && count && sync) {
        char *state = zsys_sprintf ("%s %s", count, sync);
        if (streq (count, "0"))
            zhashx_delete (self->reported, room);
        else
            zhashx_update (self->reported, room, strdup (state));
        s_report (self, room, state, false);
        zstr_free (&state);
    }
    zstr_free (&room);
    zstr_free (&count);
    zstr_free (&sync);
}

//  --------------------------------------------------------------------------
//  The rooms actor's messages

static void
s_handle_link (zg_rooms_cluster_t *self)
{
    zmsg_t *msg;
    while ((msg = zmsg_recv_nowait (self->link))) {
        char *command = zmsg_popstr (msg);
        if (command && (streq (command, "SEND") || streq (command, "OOB") || streq (command, "PEEK")
                    ||  streq (command, "STATE") || streq (command, "METRICS")))
            s_handle_request (self, command, msg);
        else
        if (command && streq (command, "MEMBERS"))
            s_handle_members (self, msg);
        else
        if (command && streq (command, "ACK") && zmsg_size (msg) == 2) {
            char *room = zmsg_popstr (msg);
            char *seq = zmsg_popstr (msg);
            char padded [24];
            snprintf (padded, sizeof padded, "%020" PRIu64, (uint64_t) strtoull (seq, NULL, 10));
            const char *args [] = { self->node, padded };
            s_eval (self, s_shard_of (self, room), room, "ack", args, NULL, 2, NULL);
            self->acks++;
            zstr_free (&room);
            zstr_free (&seq);
        }
        else
        if (command && streq (command, "SETTINGS") && zmsg_size (msg) == 3) {
            char *max_backlog = zmsg_popstr (msg);
            char *hold = zmsg_popstr (msg);
            char *ack_timeout = zmsg_popstr (msg);
            snprintf (self->max_backlog, sizeof self->max_backlog, "%s", max_backlog);
            snprintf (self->hold, sizeof self->hold, "%s", streq (hold, "1")? "1": "0");
            self->ack_timeout = strtoll (ack_timeout, NULL, 10);
            zstr_free (&max_backlog);
            zstr_free (&hold);
            zstr_free (&ack_timeout);
        }
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Answer [OK][req][map] with the packed map, or, if packing failed, the
//  error

static void
s_answer_map (zg_rooms_cluster_t *self, s_pending_t *pending, int rc)
{
    if (rc == -1) {
        self->malformed++;
        s_answer_error (self, pending->routing, pending->req, "503", "unexpected reply from Redis");
    }
    else
    if (zframe_size (pending->req) > 0) {
        zg_wire_part_t parts [] = {
            zg_wire_str ("OK"), { zframe_data (pending->req), zframe_size (pending->req) },
            { self->buffer.data, self->buffer.size }
        };
        s_answer (self, pending->routing, parts, 3);
    }
    msgpack_sbuffer_clear (&self->buffer);
}

//  Whether an error reply is one of the script's, "<code> <reason>"
static bool
s_coded (const char *text)
{
    return strlen (text) > 4 && isdigit ((unsigned char) text [0]) && text [3] == ' ';
}

//  --------------------------------------------------------------------------
//  A reply to a command, matched to its pending entry; reply NULL if the
//  connection was lost before it came

static void
s_handle_reply (zg_rooms_cluster_t *self, s_pending_t *pending, redisReply *reply)
{
    //  The script's refusals ("<code> <reason>") are answers, not errors
    if (reply && reply->type == REDIS_REPLY_ERROR && !s_coded (reply->str) && self->errors++ == 0)
        zsys_warning ("zg_rooms_cluster: Redis answered %s", reply->str);
    if (pending->kind == S_NONE)
        return;
    if (pending->kind == S_ALIVE) {
        if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
            s_announce (self, pending->shard);
        return;
    }
    if (pending->kind == S_METRICS) {
        bool error = !reply || reply->type != REDIS_REPLY_ARRAY;
        if (zg_rooms_cmetrics_add (pending->metrics, error? NULL: reply)) {
            if (zg_rooms_cmetrics_complete (pending->metrics)) {
                zg_rooms_cmetrics_pack (pending->metrics, &self->packer);
                s_answer_map (self, pending, 0);
            }
            else
                s_answer_error (self, pending->routing, pending->req, "503", "the cluster's Redis was lost; try later");
            zg_rooms_cmetrics_destroy (&pending->metrics);
        }
        return;
    }
    if (!reply) {
        self->refused++;
        s_answer_error (self, pending->routing, pending->req, "503", "the cluster's Redis was lost; try later");
    }
    else
    if (pending->kind == S_PEEK && reply->type == REDIS_REPLY_ARRAY)
        s_answer_map (self, pending, zg_rooms_cdescribe_peek (reply, pending->room, pending->offset, pending->max_bytes,
                                                              &self->packer));
    else
    if (pending->kind == S_STATE && reply->type == REDIS_REPLY_ARRAY)
        s_answer_map (self, pending, zg_rooms_cdescribe_state (reply, pending->room, streq (self->hold, "1"),
                                                               self->ack_timeout, &self->packer));
    else
    if (pending->kind == S_NUMBER && reply->type == REDIS_REPLY_INTEGER) {
        if (zframe_size (pending->req) == 0)
            return;             //  No req, no OK
        char number [24];
        snprintf (number, sizeof number, "%lld", reply->integer);
        zg_wire_part_t parts [] = {
            zg_wire_str ("OK"), { zframe_data (pending->req), zframe_size (pending->req) }, zg_wire_str (number)
        };
        s_answer (self, pending->routing, parts, 3);
    }
    else {
        //  The script's errors are "<code> <reason>"; any other is Redis'
        const char *text = reply->type == REDIS_REPLY_ERROR? reply->str: "unexpected reply from Redis";
        char code [4] = "503";
        if (s_coded (text)) {
            memcpy (code, text, 3);
            text += 4;
        }
        s_answer_error (self, pending->routing, pending->req, code, text);
    }
}

//  --------------------------------------------------------------------------
//  A released or out-of-band message from the node's channel: the msgpack
//  array [kind, room, seq, header "priority\nqueued\nproducer", payload]

static void
s_handle_message (zg_rooms_cluster_t *self, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element [0]->type != REDIS_REPLY_STRING
    ||  !streq (reply->element [0]->str, "message"))
        return;                 //  Subscription confirmations
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    redisReply *data = reply->element [2];
    msgpack_object *items = NULL;
    if (msgpack_unpack_next (&unpacked, data->str, data->len, NULL) == MSGPACK_UNPACK_SUCCESS
    &&  unpacked.data.type == MSGPACK_OBJECT_ARRAY && unpacked.data.via.array.size == 5) {
        items = unpacked.data.via.array.ptr;
        for (size_t index = 0; index < 5; index++)
            if (items [index].type != MSGPACK_OBJECT_STR && items [index].type != MSGPACK_OBJECT_BIN)
                items = NULL;
    }
    if (!items || items [0].via.str.size != 1) {
        self->malformed++;
        msgpack_unpacked_destroy (&unpacked);
        return;
    }
    zmsg_t *msg = zmsg_new ();
    bool deliver = items [0].via.str.ptr [0] == 'D';
    zmsg_addstr (msg, deliver? "DELIVER": "OOB");
    zmsg_addmem (msg, items [1].via.str.ptr, items [1].via.str.size);
    if (deliver) {
        char text [24];
        snprintf (text, sizeof text, "%.*s", (int) items [2].via.str.size, items [2].via.str.ptr);
        zmsg_addstrf (msg, "%" PRIu64, (uint64_t) strtoull (text, NULL, 10));
        //  The header's first line is the priority
        const char *header = items [3].via.str.ptr;
        const char *line = memchr (header, '\n', items [3].via.str.size);
        zmsg_addmem (msg, header, line? (size_t) (line - header): items [3].via.str.size);
        self->released++;
    }
    else
        self->oob++;
    zmsg_addmem (msg, items [4].via.str.ptr, items [4].via.str.size);
    zmsg_send (&msg, self->link);
    msgpack_unpacked_destroy (&unpacked);
}

//  --------------------------------------------------------------------------
//  A shard's plain connection is new or lost: what was due is lost with
//  it (answered 503); a new one loads the script and tells Redis again
//  which rooms this node has members in

static void
s_check_plain (zg_rooms_cluster_t *self, size_t shard_index)
{
    s_shard_t *shard = &self->shards [shard_index];
    bool renewed = zg_redis_connects (shard->plain) != shard->plain_connects;
    if (!renewed && zg_redis_up (shard->plain))
        return;
    for (s_pending_t *pending = (s_pending_t *) zlistx_first (shard->pending); pending;
         pending = (s_pending_t *) zlistx_next (shard->pending))
        s_handle_reply (self, pending, NULL);
    zlistx_purge (shard->pending);
    if (!renewed || !zg_redis_up (shard->plain))
        return;
    shard->plain_connects = zg_redis_connects (shard->plain);
    const char *load [] = { "SCRIPT", "LOAD", zg_rooms_script };
    zg_redis_command (shard->plain, 3, load, NULL);
    zlistx_add_end (shard->pending, zmalloc (sizeof (s_pending_t)));
    s_announce (self, shard_index);
}

//  --------------------------------------------------------------------------

void
zg_rooms_cluster_poll_items (zg_rooms_cluster_t *self, zmq_pollitem_t *items, int64_t now, int64_t *next)
{
    assert (self);
    memset (items, 0, ZG_ROOMS_CLUSTER_ITEMS (self->shard_count) * sizeof (zmq_pollitem_t));
    items [0].socket = zsock_resolve (self->link);
    items [0].events = ZMQ_POLLIN;
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_t *connections [] = { self->shards [shard].plain, self->shards [shard].subscriber };
        for (size_t index = 0; index < 2; index++) {
            zg_redis_tick (connections [index], now);
            zg_redis_poll_item (connections [index], &items [1 + 2 * shard + index]);
            int64_t tick = zg_redis_next_tick (connections [index]);
            *next = tick < *next? tick: *next;
        }
    }
    int64_t timer = self->next_alive < self->next_sweep? self->next_alive: self->next_sweep;
    *next = timer < *next? timer: *next;
}

//  --------------------------------------------------------------------------
//  Presence and sweep on every shard, when due

static void
s_timers (zg_rooms_cluster_t *self, int64_t now)
{
    if (now >= self->next_alive) {
        for (size_t shard = 0; shard < self->shard_count; shard++)
            s_eval_noted (self, shard, NULL, "alive", NULL, 0, S_ALIVE);
        self->next_alive = now + self->node_timeout / 3;
    }
    if (now >= self->next_sweep) {
        char timeout [24];
        snprintf (timeout, sizeof timeout, "%" PRId64, self->node_timeout);
        const char *args [] = { timeout };
        for (size_t shard = 0; shard < self->shard_count; shard++)
            s_eval (self, shard, NULL, "sweep", args, NULL, 1, NULL);
        self->next_sweep = now + self->node_timeout / 2;
    }
}

//  --------------------------------------------------------------------------

void
zg_rooms_cluster_handle (zg_rooms_cluster_t *self, zmq_pollitem_t *items, int64_t now)
{
    assert (self);
    for (size_t index = 0; index < self->shard_count; index++) {
        s_shard_t *shard = &self->shards [index];
        if (items [1 + 2 * index].revents)
            zg_redis_handle (shard->plain, items [1 + 2 * index].revents, now);
        if (items [2 + 2 * index].revents)
            zg_redis_handle (shard->subscriber, items [2 + 2 * index].revents, now);
        redisReply *reply;
        while ((reply = zg_redis_reply (shard->plain))) {
            s_pending_t *pending = (s_pending_t *) zlistx_first (shard->pending);
            if (pending) {
                s_handle_reply (self, pending, reply);
                zlistx_delete (shard->pending, zlistx_cursor (shard->pending));
            }
            freeReplyObject (reply);
        }
        s_check_plain (self, index);
        if (zg_redis_connects (shard->subscriber) != shard->subscriber_connects && zg_redis_up (shard->subscriber)) {
            shard->subscriber_connects = zg_redis_connects (shard->subscriber);
            const char *subscribe [] = { "SUBSCRIBE", self->channel };
            zg_redis_command (shard->subscriber, 2, subscribe, NULL);
            //  Messages released while it was down never came
            if (zg_redis_up (shard->plain))
                s_announce (self, index);
        }
        while ((reply = zg_redis_reply (shard->subscriber))) {
            s_handle_message (self, reply);
            freeReplyObject (reply);
        }
    }
    if (items [0].revents & ZMQ_POLLIN)
        s_handle_link (self);
    s_timers (self, now);
}

//  --------------------------------------------------------------------------

bool
zg_rooms_cluster_healthy (zg_rooms_cluster_t *self)
{
    assert (self);
    for (size_t shard = 0; shard < self->shard_count; shard++)
        if (!zg_redis_up (self->shards [shard].plain) || !zg_redis_up (self->shards [shard].subscriber))
            return false;
    return true;
}

//  --------------------------------------------------------------------------

void
zg_rooms_cluster_stats (zg_rooms_cluster_t *self, json_object *root)
{
    assert (self);
    json_object *rooms = json_object_new_object ();
    json_object_object_add (rooms, "rooms", json_object_new_uint64 (zhashx_size (self->reported)));
    json_object_object_add (rooms, "sent", json_object_new_uint64 (self->sent));
    json_object_object_add (rooms, "released", json_object_new_uint64 (self->released));
    json_object_object_add (rooms, "oob", json_object_new_uint64 (self->oob));
    json_object_object_add (rooms, "acks", json_object_new_uint64 (self->acks));
    json_object_object_add (rooms, "refused", json_object_new_uint64 (self->refused));
    json_object_object_add (rooms, "errors", json_object_new_uint64 (self->errors));
    json_object_object_add (rooms, "malformed", json_object_new_uint64 (self->malformed));
    json_object_object_add (root, "rooms", rooms);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A node's bridge and the rooms actor's side of its link
typedef struct {
    zg_rooms_cluster_t *bridge;
    zsock_t *rooms;
    zmq_pollitem_t items [ZG_ROOMS_CLUSTER_ITEMS (1)];
} s_test_node_t;

static void
s_test_node_start (s_test_node_t *node, const char *id, const char *address, zg_redis_ring_t *ring)
{
    char endpoint [64], error [256];
    snprintf (endpoint, sizeof endpoint, "inproc://zg-rooms-cluster-test-%s", id);
    node->bridge = zg_rooms_cluster_new (id, "zg-rc-test", &address, 1, ring);
    zg_rooms_cluster_set_timeouts (node->bridge, 1000, 600, 200, 600);
    assert (zg_rooms_cluster_bind (node->bridge, "tcp://127.0.0.1:5555", error, sizeof error) == -1);
    assert (zg_rooms_cluster_bind (node->bridge, endpoint, error, sizeof error) == 0);
    node->rooms = zsock_new (ZMQ_PAIR);
    assert (zsock_connect (node->rooms, "%s", endpoint) == 0);
}

//  Run the nodes' loops (those not frozen) for up to ms, or until the node
//  watched has a message from its bridge; returns it as text frames
//  joined by '|' (the payload last), or NULL
static char *
s_test_run (s_test_node_t **nodes, size_t count, s_test_node_t *watched, int64_t ms)
{
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        if (watched && zsock_events (watched->rooms) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (watched->rooms);
            return zg_rtest_text (&msg);
        }
        for (size_t index = 0; index < count; index++) {
            int64_t now = zclock_mono (), next = now + 10;
            zg_rooms_cluster_poll_items (nodes [index]->bridge, nodes [index]->items, now, &next);
            zmq_poll (nodes [index]->items, ZG_ROOMS_CLUSTER_ITEMS (1), 5);
            zg_rooms_cluster_handle (nodes [index]->bridge, nodes [index]->items, zclock_mono ());
        }
    }
    return NULL;
}

//  Run until the watched node gets exactly the expected message
static void
s_test_expect (s_test_node_t **nodes, size_t count, s_test_node_t *watched, const char *expected)
{
    char *text = s_test_run (nodes, count, watched, 3000);
    if (!text || !streq (text, expected))
        fprintf (stderr, "\ngot %s, expected %s\n", text? text: "nothing", expected);
    assert (text && streq (text, expected));
    zstr_free (&text);
}

void
zg_rooms_cluster_test (bool verbose)
{
    printf (" * zg_rooms_cluster: ");
    //  @selftest
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED: no redis-server on PATH (Debian's redis-server package)\n");
        return;
    }
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    zg_redis_ring_t *ring = zg_redis_ring_new ();
    zg_redis_ring_add (ring, zg_redis_server_address (server));
    s_test_node_t node_a, node_b;
    s_test_node_start (&node_a, "aaaaaaaaaaaaaaaa", zg_redis_server_address (server), ring);
    s_test_node_start (&node_b, "bbbbbbbbbbbbbbbb", zg_redis_server_address (server), ring);
    s_test_node_t *both [] = { &node_a, &node_b };
    for (int attempt = 0; attempt < 300 && !(zg_rooms_cluster_healthy (node_a.bridge)
                                          && zg_rooms_cluster_healthy (node_b.bridge)); attempt++)
        s_test_run (both, 2, NULL, 10);
    assert (zg_rooms_cluster_healthy (node_a.bridge) && zg_rooms_cluster_healthy (node_b.bridge));

    //  A sync member on each node; two messages sent on A: the first goes to
    //  both nodes, the second only once both acked it
    zstr_sendx (node_a.rooms, "SETTINGS", "2", "0", "30000", NULL);
    zstr_sendx (node_b.rooms, "SETTINGS", "2", "0", "30000", NULL);
    zstr_sendx (node_a.rooms, "MEMBERS", "lobby", "2", "1", NULL);
    zstr_sendx (node_b.rooms, "MEMBERS", "lobby", "1", "1", NULL);
    s_test_run (both, 2, NULL, 100);
    zstr_sendx (node_a.rooms, "SEND", "client", "r1", "lobby", "0", "one", "maker", NULL);
    s_test_expect (both, 2, &node_a, "ANSWER|client|OK|r1|1");
    s_test_expect (both, 2, &node_a, "DELIVER|lobby|1|0|one");
    s_test_expect (both, 2, &node_b, "DELIVER|lobby|1|0|one");
    zstr_sendx (node_a.rooms, "SEND", "client", "r2", "lobby", "5", "two", NULL);
    s_test_expect (both, 2, &node_a, "ANSWER|client|OK|r2|2");
    zstr_sendx (node_a.rooms, "ACK", "lobby", "1", NULL);
    assert (s_test_run (both, 2, &node_b, 200) == NULL);
    zstr_sendx (node_b.rooms, "ACK", "lobby", "1", NULL);
    s_test_expect (both, 2, &node_a, "DELIVER|lobby|2|5|two");
    s_test_expect (both, 2, &node_b, "DELIVER|lobby|2|5|two");

    //  max-backlog (2 here) counts every node's sends; an OOB reaches both
    //  nodes at once and counts their members
    zstr_sendx (node_a.rooms, "SEND", "client", "r3", "lobby", "0", "three", NULL);
    s_test_expect (both, 2, &node_a, "ANSWER|client|OK|r3|3");
    zstr_sendx (node_b.rooms, "SEND", "client", "r4", "lobby", "0", "four", NULL);
    zstr_sendx (node_b.rooms, "SEND", "client", "r5", "lobby", "0", "five", NULL);
    s_test_expect (both, 2, &node_b, "ANSWER|client|OK|r4|4");
    s_test_expect (both, 2, &node_b, "ANSWER|client|ERROR|r5|429|room 'lobby' is full (max-backlog 2)");
    //  A PEEK past the backlog reads nothing, however far (ZRANGE refuses
    //  the offsets past 2^53 that Lua's numbers cannot say exactly)
    zstr_sendx (node_a.rooms, "PEEK", "client", "r8", "lobby", "9223372036854775807", "5", "65536", NULL);
    char *peeked = s_test_run (both, 2, &node_a, 3000);
    assert (peeked && strncmp (peeked, "ANSWER|client|OK|r8|", 20) == 0);
    zstr_free (&peeked);
    zstr_sendx (node_b.rooms, "OOB", "client", "r6", "lobby", "now", NULL);
    //  The answer (plain connection) and the message (subscriber's) race
    char *first = s_test_run (both, 2, &node_b, 3000), *second = s_test_run (both, 2, &node_b, 3000);
    assert (first && second);
    bool answered_first = streq (first, "ANSWER|client|OK|r6|3");
    assert (streq (answered_first? first: second, "ANSWER|client|OK|r6|3"));
    assert (streq (answered_first? second: first, "OOB|lobby|now"));
    zstr_free (&first);
    zstr_free (&second);
    s_test_expect (both, 2, &node_a, "OOB|lobby|now");

    //  B goes silent (its loop frozen): past the node timeout A's sweep takes
    //  it out of the room, which moves on without it
    zstr_sendx (node_a.rooms, "ACK", "lobby", "2", NULL);
    s_test_node_t *only_a [] = { &node_a };
    s_test_expect (only_a, 1, &node_a, "DELIVER|lobby|3|0|three");
    if (verbose)
        printf ("(B swept) ");

    //  B wakes up: Redis no longer knows it, so it announces its rooms
    //  again and holds the next message with A, even when a change of
    //  members (queued while it slept) tells Redis of it before its presence
    zstr_sendx (node_b.rooms, "MEMBERS", "side", "1", "1", NULL);
    s_test_run (both, 2, NULL, 400);
    zstr_sendx (node_a.rooms, "ACK", "lobby", "3", NULL);
    s_test_expect (both, 2, &node_a, "DELIVER|lobby|4|0|four");
    s_test_expect (both, 2, &node_b, "DELIVER|lobby|4|0|four");

    //  A lost connection answers what was due with 503, and the rooms a
    //  node has members in are told to Redis again on the new one
    zg_rooms_cluster_destroy (&node_b.bridge);
    zsock_destroy (&node_b.rooms);
    zg_redis_server_pause (server, true);
    zstr_sendx (node_a.rooms, "STATE", "client", "r7", "lobby", NULL);
    s_test_expect (only_a, 1, &node_a, "ANSWER|client|ERROR|r7|503|the cluster's Redis was lost; try later");
    assert (!zg_rooms_cluster_healthy (node_a.bridge));
    zg_redis_server_pause (server, false);
    zg_redis_server_stop (server);
    assert (zg_redis_server_start (server) == 0);
    //  A new, empty Redis: A's member is announced again, so a message
    //  sent now goes to it
    for (int attempt = 0; attempt < 300 && !zg_rooms_cluster_healthy (node_a.bridge); attempt++)
        s_test_run (only_a, 1, NULL, 10);
    s_test_run (only_a, 1, NULL, 100);
    zstr_sendx (node_a.rooms, "SEND", "client", "", "lobby", "0", "again", NULL);
    s_test_expect (only_a, 1, &node_a, "DELIVER|lobby|1|0|again");
    json_object *stats = json_object_new_object ();
    zg_rooms_cluster_stats (node_a.bridge, stats);
    json_object *rooms = json_object_object_get (stats, "rooms");
    assert (json_object_get_int64 (json_object_object_get (rooms, "released")) == 5);
    assert (json_object_get_int64 (json_object_object_get (rooms, "refused")) == 1);
    assert (json_object_get_int64 (json_object_object_get (rooms, "malformed")) == 0);
    json_object_put (stats);
    zg_rooms_cluster_destroy (&node_a.bridge);
    zsock_destroy (&node_a.rooms);
    zg_redis_ring_destroy (&ring);
    zg_redis_server_destroy (&server);
    //  @end
    printf ("OK\n");
}
