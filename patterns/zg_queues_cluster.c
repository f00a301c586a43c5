/*  =========================================================================
    zg_queues_cluster - the queues bridge in the cluster actor

    Each shard's script connection answers in order, so each command pushes
    what its answer is for (a call) on the shard's FIFO, and each answer
    pops one. A connection that is lost owes its answers no more: its calls
    fail (a SEND with ERROR 507, not stored; a GET with 503; a claim as an
    empty claim) and a FINISH or a requeue that was lost leaves the task
    leased, so the sweep puts it back: a task is delivered at least once.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_queues_cluster.h"
#include "zg_qscripts.h"
#include "zg_wire.h"
#include "zg_heap.h"
#include "zg_redis.h"
#include "zg_redis_server.h"

//  Wake every queue this often, in case a wake-up crossed a claim, ms
#define S_WAKE_INTERVAL 1000

typedef enum { S_LOAD, S_SEND, S_CLAIM, S_FINISH, S_REQUEUE, S_RENEW, S_SWEEP, S_GET } s_kind_t;

//  What an answer is for
typedef struct {
    s_kind_t kind;
    zframe_t *producer;             //  SEND, GET: who asked
    zframe_t *req;                  //  Its req
    char *name;                     //  SEND, CLAIM: the queue; GET: the id
    size_t asked;                   //  CLAIM: tasks asked for
    int64_t timeout;                //  SEND: reply timeout, ms (0: none), if reply
    bool reply;                     //  SEND: the producer waits for the outcome
} s_call_t;

//  A producer of this node waiting for a task's outcome
typedef struct {
    char *id;
    zframe_t *producer;
    zframe_t *req;
    zg_heap_node_t deadline;        //  Reply timeout, if any
} s_wait_t;

//  A task this node's workers hold
typedef struct {
    char tag [256];                 //  Its queue's tag
    size_t shard;
} s_held_t;

typedef struct {
    zg_redis_t *plain;              //  Scripts
    zg_redis_t *subscriber;         //  Wake-ups and outcomes
    uint64_t plain_connects;        //  Connections seen (scripts loaded)
    uint64_t subscriber_connects;   //  Connections seen (subscribed)
    zlist_t *calls;                 //  What the plain connection's answers are for
} s_shard_t;

struct _zg_queues_cluster_t {
    char *node;                     //  This node's id
    char *prefix;                   //  Key prefix
    zg_redis_ring_t *ring;          //  Names to shards
    s_shard_t *shards;
    size_t shard_count;
    zsock_t *socket;                //  PAIR to the queues actor's link
    zhashx_t *waits;                //  Task id -> s_wait_t
    zg_heap_t *deadlines;           //  Waits by reply deadline
    zhashx_t *held;                 //  Task id -> s_held_t
    int64_t settings [5];           //  max-pending max-deliveries result-ttl max-name-size lease
    int64_t next_renew, next_sweep, next_wake;
    uint64_t calls, sent, claimed, finished, requeued, replies, timeouts, stale, late, errors;
};

//  The settings, as the link's O message gives them
enum { S_MAX_PENDING, S_MAX_DELIVERIES, S_RESULT_TTL, S_MAX_NAME, S_LEASE };

//  --------------------------------------------------------------------------

static void
s_call_destroy (s_call_t **self_p)
{
    s_call_t *self = *self_p;
    if (self) {
        zframe_destroy (&self->producer);
        zframe_destroy (&self->req);
        zstr_free (&self->name);
        free (self);
        *self_p = NULL;
    }
}

static void
s_wait_destroy (s_wait_t **self_p)
{
    s_wait_t *self = *self_p;
    if (self) {
        zstr_free (&self->id);
        zframe_destroy (&self->producer);
        zframe_destroy (&self->req);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create the bridge

zg_queues_cluster_t *
zg_queues_cluster_new (const char *node, const char *key_prefix, zg_redis_ring_t *ring,
                       const char **addresses, size_t shards)
{
    assert (node && key_prefix && ring && addresses && shards);
    zg_queues_cluster_t *self = (zg_queues_cluster_t *) zmalloc (sizeof (zg_queues_cluster_t));
    assert (self);
    self->node = strdup (node);
    self->prefix = strdup (key_prefix);
    self->ring = ring;
    self->shard_count = shards;
    self->shards = (s_shard_t *) zmalloc (shards * sizeof (s_shard_t));
    char error [256];
    for (size_t shard = 0; shard < shards; shard++) {
        self->shards [shard].plain = zg_redis_new (addresses [shard], error, sizeof error);
        self->shards [shard].subscriber = zg_redis_new (addresses [shard], error, sizeof error);
        assert (self->shards [shard].plain && self->shards [shard].subscriber);
        zg_redis_set_subscriber (self->shards [shard].subscriber);
        self->shards [shard].calls = zlist_new ();
    }
    self->socket = zsock_new (ZMQ_PAIR);
    assert (self->socket);
    zsock_set_sndhwm (self->socket, 0);
    zsock_set_rcvhwm (self->socket, 0);
    self->waits = zhashx_new ();
    zhashx_set_destructor (self->waits, (zhashx_destructor_fn *) s_wait_destroy);
    self->deadlines = zg_heap_new ();
    self->held = zhashx_new ();
    zhashx_set_destructor (self->held, (zhashx_destructor_fn *) zstr_free);
    //  The queues' defaults until the link tells its own
    int64_t defaults [] = { 100000, 5, 60000, 255, 5000 };
    memcpy (self->settings, defaults, sizeof defaults);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge

void
zg_queues_cluster_destroy (zg_queues_cluster_t **self_p)
{
    assert (self_p);
    zg_queues_cluster_t *self = *self_p;
    if (!self)
        return;
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_destroy (&self->shards [shard].plain);
        zg_redis_destroy (&self->shards [shard].subscriber);
        s_call_t *call;
        while ((call = (s_call_t *) zlist_pop (self->shards [shard].calls)))
            s_call_destroy (&call);
        zlist_destroy (&self->shards [shard].calls);
    }
    free (self->shards);
    zsock_destroy (&self->socket);
    zhashx_destroy (&self->waits);
    zg_heap_destroy (&self->deadlines);
    zhashx_destroy (&self->held);
    free (self->node);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Timeouts of every connection

void
zg_queues_cluster_set_timeouts (zg_queues_cluster_t *self, int64_t connect_timeout, int64_t timeout,
                                int64_t backoff_max)
{
    assert (self);
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_set_timeouts (self->shards [shard].plain, connect_timeout, timeout, backoff_max);
        zg_redis_set_timeouts (self->shards [shard].subscriber, connect_timeout, timeout, backoff_max);
    }
}

//  --------------------------------------------------------------------------
//  Bind the link's endpoint

int
zg_queues_cluster_bind (zg_queues_cluster_t *self, const char *endpoint, char *error, size_t size)
{
    assert (self && endpoint);
    if (zsock_bind (self->socket, "%s", endpoint) == -1) {
        snprintf (error, size, "cannot bind the queues' cluster link '%s'", endpoint);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Send frames to the link; nothing waits while no link is connected (a
//  PAIR without its peer would block), and with its peer there is no
//  high-water mark to stop them

static void
s_send_link (zg_queues_cluster_t *self, const zg_wire_part_t *parts, size_t count)
{
    void *handle = zsock_resolve (self->socket);
    for (size_t index = 0; index < count; index++)
        if (zmq_send (handle, parts [index].data, parts [index].size,
                      ZMQ_DONTWAIT | (index + 1 < count? ZMQ_SNDMORE: 0)) == -1)
            break;
}

static zg_wire_part_t
s_frame_part (zframe_t *frame)
{
    zg_wire_part_t part = { zframe_data (frame), zframe_size (frame) };
    return part;
}

//  An answer for a producer: P producer verb req fields...
static void
s_answer (zg_queues_cluster_t *self, zframe_t *producer, const char *verb, zframe_t *req,
          const zg_wire_part_t *fields, size_t count)
{
    zg_wire_part_t parts [8] = {
        zg_wire_str ("P"), s_frame_part (producer), zg_wire_str (verb), s_frame_part (req)
    };
    assert (count <= 4);
    for (size_t index = 0; index < count; index++)
        parts [4 + index] = fields [index];
    s_send_link (self, parts, 4 + count);
}

//  An ERROR for a producer
static void
s_error (zg_queues_cluster_t *self, zframe_t *producer, zframe_t *req, int code, const char *reason)
{
    char text [16];
    snprintf (text, sizeof text, "%d", code);
    zg_wire_part_t fields [] = { zg_wire_str (text), zg_wire_str (reason) };
    s_answer (self, producer, "ERROR", req, fields, 2);
}

//  --------------------------------------------------------------------------
//  A call's answer will not come (the connection is down or was lost)

static void
s_call_failed (zg_queues_cluster_t *self, s_call_t *call)
{
    if (call->kind == S_SEND)
        s_error (self, call->producer, call->req, ZG_ERR_STORAGE, "not stored: the cluster's Redis is unreachable");
    else
    if (call->kind == S_GET)
        s_error (self, call->producer, call->req, ZG_ERR_UNAVAILABLE, "the cluster's Redis is unreachable");
    else
    if (call->kind == S_CLAIM) {
        char asked [24];
        snprintf (asked, sizeof asked, "%zu", call->asked);
        zg_wire_part_t parts [] = { zg_wire_str ("T"), zg_wire_str (call->name), zg_wire_str (asked) };
        s_send_link (self, parts, 3);
    }
}

//  --------------------------------------------------------------------------
//  The shard's script connection is up with the scripts loaded; a new
//  connection first fails what the old one owed, then loads them

static bool
s_shard_ready (zg_queues_cluster_t *self, s_shard_t *shard)
{
    if (zg_redis_connects (shard->plain) != shard->plain_connects) {
        s_call_t *call;
        while ((call = (s_call_t *) zlist_pop (shard->calls))) {
            s_call_failed (self, call);
            s_call_destroy (&call);
        }
        if (!zg_redis_up (shard->plain))
            return false;
        shard->plain_connects = zg_redis_connects (shard->plain);
        for (int script = 0; script < ZG_QSCRIPT_COUNT; script++) {
            const char *argv [] = { "SCRIPT", "LOAD", zg_qscripts_source ((zg_qscript_t) script) };
            size_t sizes [] = { 6, 4, strlen (argv [2]) };
            zg_redis_command (shard->plain, 3, argv, sizes);
            s_call_t *load = (s_call_t *) zmalloc (sizeof (s_call_t));
            load->kind = S_LOAD;
            zlist_append (shard->calls, load);
        }
    }
    return zg_redis_up (shard->plain);
}

//  --------------------------------------------------------------------------
//  Run a script on a shard: args after the prefix; the call (owned from
//  now on) says what the answer is for. A shard that is down fails it.

static void
s_run (zg_queues_cluster_t *self, size_t index, zg_qscript_t script, zg_wire_part_t *args, size_t count,
       s_call_t *call)
{
    s_shard_t *shard = &self->shards [index];
    const char *argv [32];
    size_t sizes [32];
    assert (count + 4 <= 32);
    argv [0] = "EVALSHA";
    argv [1] = zg_qscripts_sha (script);
    argv [2] = "0";
    argv [3] = self->prefix;
    for (size_t arg = 0; arg < 4; arg++)
        sizes [arg] = strlen (argv [arg]);
    for (size_t arg = 0; arg < count; arg++) {
        argv [4 + arg] = (const char *) args [arg].data;
        sizes [4 + arg] = args [arg].size;
    }
    if (s_shard_ready (self, shard) && zg_redis_command (shard->plain, (int) count + 4, argv, sizes) == 0) {
        zlist_append (shard->calls, call);
        self->calls++;
    }
    else {
        s_call_failed (self, call);
        s_call_destroy (&call);
    }
}

static s_call_t *
s_call_new (s_kind_t kind)
{
    s_call_t *call = (s_call_t *) zmalloc (sizeof (s_call_t));
    assert (call);
    call->kind = kind;
    return call;
}

//  A setting as an argument
static zg_wire_part_t
s_setting (zg_queues_cluster_t *self, int which, char *buffer)
{
    sprintf (buffer, "%" PRId64, self->settings [which]);
    return zg_wire_str (buffer);
}

//  The shard of a queue (by its tag)
static size_t
s_queue_shard (zg_queues_cluster_t *self, const char *queue, char *tag, size_t size)
{
    size_t length = zg_qscripts_tag (queue, tag, size);
    return zg_redis_ring_pick (self->ring, tag, length);
}

//  --------------------------------------------------------------------------
//  From the link: S producer req queue priority ack reply timeout payload

static void
s_link_send (zg_queues_cluster_t *self, zmsg_t *msg)
{
    if (zmsg_size (msg) != 8)
        return;
    s_call_t *call = s_call_new (S_SEND);
    call->producer = zmsg_pop (msg);
    call->req = zmsg_pop (msg);
    call->name = zmsg_popstr (msg);
    char *priority = zmsg_popstr (msg);
    char *ack = zmsg_popstr (msg);
    char *reply = zmsg_popstr (msg);
    char *timeout = zmsg_popstr (msg);
    zframe_t *payload = zmsg_pop (msg);
    call->reply = streq (reply, "1");
    call->timeout = atoll (timeout);
    char tag [256], buffers [2][24], shards [24], shard_text [24];
    size_t shard = s_queue_shard (self, call->name, tag, sizeof tag);
    snprintf (shards, sizeof shards, "%zu", self->shard_count);
    snprintf (shard_text, sizeof shard_text, "%zu", shard);
    zg_wire_part_t args [] = {
        zg_wire_str (call->name), zg_wire_str (self->node), zg_wire_str (priority), zg_wire_str (ack),
        s_setting (self, S_MAX_DELIVERIES, buffers [0]), zg_wire_str (reply), s_frame_part (payload),
        s_setting (self, S_MAX_PENDING, buffers [1]), zg_wire_str (shards), zg_wire_str (shard_text)
    };
    s_run (self, shard, ZG_QSCRIPT_SEND, args, 10, call);
    self->sent++;
    zstr_free (&priority);
    zstr_free (&ack);
    zstr_free (&reply);
    zstr_free (&timeout);
    zframe_destroy (&payload);
}

//  C queue count
static void
s_link_claim (zg_queues_cluster_t *self, zmsg_t *msg)
{
    if (zmsg_size (msg) != 2)
        return;
    s_call_t *call = s_call_new (S_CLAIM);
    call->name = zmsg_popstr (msg);
    char *count = zmsg_popstr (msg);
    call->asked = (size_t) atol (count);
    char tag [256], lease [24];
    size_t shard = s_queue_shard (self, call->name, tag, sizeof tag);
    zg_wire_part_t args [] = {
        zg_wire_str (call->name), zg_wire_str (self->node), zg_wire_str (count), s_setting (self, S_LEASE, lease)
    };
    s_run (self, shard, ZG_QSCRIPT_CLAIM, args, 4, call);
    zstr_free (&count);
}

//  F id attempt state result, or R id attempt: the task is no longer held
static void
s_link_outcome (zg_queues_cluster_t *self, zmsg_t *msg, bool finish)
{
    if (zmsg_size (msg) != (finish? 4u: 2u))
        return;
    char *id = zmsg_popstr (msg);
    char *attempt = zmsg_popstr (msg);
    s_held_t *held = (s_held_t *) zhashx_lookup (self->held, id);
    if (held) {
        char buffers [3][24];
        if (finish) {
            char *state = zmsg_popstr (msg);
            zframe_t *result = zmsg_pop (msg);
            zg_wire_part_t args [] = {
                zg_wire_str (held->tag), zg_wire_str (id), zg_wire_str (self->node), zg_wire_str (attempt),
                zg_wire_str (state), s_frame_part (result), s_setting (self, S_RESULT_TTL, buffers [0])
            };
            s_run (self, held->shard, ZG_QSCRIPT_FINISH, args, 7, s_call_new (S_FINISH));
            self->finished++;
            zstr_free (&state);
            zframe_destroy (&result);
        }
        else {
            zg_wire_part_t args [] = {
                zg_wire_str (held->tag), zg_wire_str (id), zg_wire_str (self->node), zg_wire_str (attempt),
                s_setting (self, S_MAX_PENDING, buffers [0]), s_setting (self, S_MAX_NAME, buffers [1]),
                s_setting (self, S_RESULT_TTL, buffers [2])
            };
            s_run (self, held->shard, ZG_QSCRIPT_REQUEUE, args, 7, s_call_new (S_REQUEUE));
            self->requeued++;
        }
        zhashx_delete (self->held, id);
    }
    zstr_free (&id);
    zstr_free (&attempt);
}

//  G producer req id: on the shard the id names
static void
s_link_get (zg_queues_cluster_t *self, zmsg_t *msg)
{
    if (zmsg_size (msg) != 3)
        return;
    s_call_t *call = s_call_new (S_GET);
    call->producer = zmsg_pop (msg);
    call->req = zmsg_pop (msg);
    call->name = zmsg_popstr (msg);
    char *end = NULL;
    uint64_t id = strtoull (call->name, &end, 10);
    if (!*call->name || *end || id == 0) {
        char reason [ZG_WIRE_REASON_SIZE];
        zg_wire_reason (reason, "unknown task '%.64s'", call->name);
        s_error (self, call->producer, call->req, ZG_ERR_NOT_FOUND, reason);
        s_call_destroy (&call);
        return;
    }
    zg_wire_part_t args [] = { zg_wire_str (call->name) };
    s_run (self, (size_t) (id % self->shard_count), ZG_QSCRIPT_GET, args, 1, call);
}

//  O settings...
static void
s_link_settings (zg_queues_cluster_t *self, zmsg_t *msg)
{
    for (int index = 0; index < 5 && zmsg_size (msg); index++) {
        char *value = zmsg_popstr (msg);
        self->settings [index] = atoll (value);
        zstr_free (&value);
    }
}

static void
s_handle_link (zg_queues_cluster_t *self)
{
    zmsg_t *msg;
    while ((msg = zmsg_recv_nowait (self->socket))) {
        char *kind = zmsg_popstr (msg);
        if (kind && streq (kind, "S"))
            s_link_send (self, msg);
        else
        if (kind && streq (kind, "C"))
            s_link_claim (self, msg);
        else
        if (kind && (streq (kind, "F") || streq (kind, "R")))
            s_link_outcome (self, msg, streq (kind, "F"));
        else
        if (kind && streq (kind, "G"))
            s_link_get (self, msg);
        else
        if (kind && streq (kind, "O"))
            s_link_settings (self, msg);
        zstr_free (&kind);
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Answers of the scripts

//  SEND stored the task: OK id, and the producer waits for its outcome
static void
s_sent (zg_queues_cluster_t *self, s_call_t *call, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        char *end = NULL;
        long code = strtol (reply->str, &end, 10);
        char reason [ZG_WIRE_REASON_SIZE];
        if (code >= 400 && code < 600 && end && *end == ' ')
            zg_wire_reason (reason, "%s", end + 1);
        else {
            code = ZG_ERR_STORAGE;
            zg_wire_reason (reason, "not stored: %s", reply->str);
        }
        s_error (self, call->producer, call->req, (int) code, reason);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING)
        return;
    if (call->reply) {
        s_wait_t *wait = (s_wait_t *) zmalloc (sizeof (s_wait_t));
        wait->id = strdup (reply->str);
        wait->producer = zframe_dup (call->producer);
        wait->req = zframe_dup (call->req);
        if (zhashx_insert (self->waits, wait->id, wait) == -1)
            s_wait_destroy (&wait);
        else
        if (call->timeout)
            zg_heap_set (self->deadlines, &wait->deadline, zclock_mono () + call->timeout);
    }
    if (zframe_size (call->req)) {
        zg_wire_part_t fields [] = { zg_wire_str (reply->str) };
        s_answer (self, call->producer, "OK", call->req, fields, 1);
    }
}

//  CLAIM: T queue asked tasks..., and this node holds them
static void
s_claimed (zg_queues_cluster_t *self, size_t shard, s_call_t *call, redisReply *reply)
{
    size_t count = reply->type == REDIS_REPLY_ARRAY? reply->elements / 6 * 6: 0;
    zg_wire_part_t *parts = (zg_wire_part_t *) zmalloc ((3 + count) * sizeof (zg_wire_part_t));
    char asked [24], tag [256];
    snprintf (asked, sizeof asked, "%zu", call->asked);
    zg_qscripts_tag (call->name, tag, sizeof tag);
    parts [0] = zg_wire_str ("T");
    parts [1] = zg_wire_str (call->name);
    parts [2] = zg_wire_str (asked);
    for (size_t index = 0; index < count; index++) {
        redisReply *element = reply->element [index];
        bool text = element->type == REDIS_REPLY_STRING;
        parts [3 + index].data = text? element->str: "";
        parts [3 + index].size = text? element->len: 0;
        if (index % 6 == 0 && text) {
            s_held_t *held = (s_held_t *) zmalloc (sizeof (s_held_t));
            snprintf (held->tag, sizeof held->tag, "%s", tag);
            held->shard = shard;
            zhashx_update (self->held, element->str, held);
        }
    }
    s_send_link (self, parts, 3 + count);
    self->claimed += count / 6;
    free (parts);
}

//  GET: the task as GET answers it on one node
static void
s_got (zg_queues_cluster_t *self, s_call_t *call, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 9) {
        char reason [ZG_WIRE_REASON_SIZE];
        zg_wire_reason (reason, "unknown task '%s'", call->name);
        s_error (self, call->producer, call->req, ZG_ERR_NOT_FOUND, reason);
        return;
    }
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    zg_qscripts_pack_task (reply, call->name, &packer);
    zg_wire_part_t fields [] = { { buffer.data, buffer.size } };
    s_answer (self, call->producer, "OK", call->req, fields, 1);
    msgpack_sbuffer_destroy (&buffer);
}

static void
s_handle_answer (zg_queues_cluster_t *self, size_t shard, s_call_t *call, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR && call->kind != S_SEND && self->errors++ == 0)
        zsys_warning ("zg_queues_cluster: a script failed: %s", reply->str);
    if (call->kind == S_SEND)
        s_sent (self, call, reply);
    else
    if (call->kind == S_CLAIM)
        s_claimed (self, shard, call, reply);
    else
    if (call->kind == S_GET)
        s_got (self, call, reply);
    else
    if ((call->kind == S_FINISH || call->kind == S_REQUEUE)
    &&  reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
        self->stale++;              //  Not ours any more: its lease had expired
}

//  --------------------------------------------------------------------------
//  The subscriber's messages: wake-ups and this node's outcomes

static void
s_handle_message (zg_queues_cluster_t *self, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || !streq (reply->element [0]->str, "message"))
        return;
    const char *channel = reply->element [1]->str;
    redisReply *payload = reply->element [2];
    size_t prefix = strlen (self->prefix);
    if (streq (channel + prefix, ":q:ready")) {
        zg_wire_part_t parts [] = { zg_wire_str ("W"), { payload->str, payload->len } };
        s_send_link (self, parts, 2);
        return;
    }
    //  "<id> <code> <text>"
    char *space = (char *) memchr (payload->str, ' ', payload->len);
    if (!space || space - payload->str > 24)
        return;
    char id [32];
    snprintf (id, sizeof id, "%.*s", (int) (space - payload->str), payload->str);
    int code = atoi (space + 1);
    const char *text = strchr (space + 1, ' ');
    text = text? text + 1: payload->str + payload->len;
    size_t text_size = payload->len - (size_t) (text - payload->str);
    s_wait_t *wait = (s_wait_t *) zhashx_lookup (self->waits, id);
    if (!wait) {
        self->late++;               //  Its producer stopped waiting (timeout)
        return;
    }
    if (code == 200) {
        zg_wire_part_t fields [] = { zg_wire_str (id), { text, text_size } };
        s_answer (self, wait->producer, "REPLY", wait->req, fields, 2);
    }
    else {
        char reason [ZG_WIRE_REASON_SIZE];
        zg_wire_reason (reason, "task %s %.*s", id, (int) text_size, text);
        s_error (self, wait->producer, wait->req, code, reason);
    }
    self->replies++;
    zg_heap_remove (self->deadlines, &wait->deadline);
    zhashx_delete (self->waits, id);
}

//  --------------------------------------------------------------------------
//  Timers: reply timeouts, lease renewals, the sweep, the periodic wake-up

static void
s_renew (zg_queues_cluster_t *self)
{
    //  One call per tag: its ids
    zhashx_t *groups = zhashx_new ();
    zhashx_set_destructor (groups, (zhashx_destructor_fn *) zlist_destroy);
    for (s_held_t *held = (s_held_t *) zhashx_first (self->held); held; held = (s_held_t *) zhashx_next (self->held)) {
        zlist_t *ids = (zlist_t *) zhashx_lookup (groups, held->tag);
        if (!ids) {
            ids = zlist_new ();
            zhashx_insert (groups, held->tag, ids);
        }
        zlist_append (ids, (void *) zhashx_cursor (self->held));
    }
    for (zlist_t *ids = (zlist_t *) zhashx_first (groups); ids; ids = (zlist_t *) zhashx_next (groups)) {
        const char *tag = (const char *) zhashx_cursor (groups);
        s_held_t *first = (s_held_t *) zhashx_lookup (self->held, (const char *) zlist_first (ids));
        while (zlist_size (ids)) {
            char lease [24];
            zg_wire_part_t args [28] = {
                zg_wire_str (tag), zg_wire_str (self->node), s_setting (self, S_LEASE, lease)
            };
            size_t count = 3;
            const char *id;
            while (count < 28 && (id = (const char *) zlist_pop (ids)))
                args [count++] = zg_wire_str (id);
            s_run (self, first->shard, ZG_QSCRIPT_RENEW, args, count, s_call_new (S_RENEW));
        }
    }
    zhashx_destroy (&groups);
}

static void
s_timers (zg_queues_cluster_t *self, int64_t now)
{
    zg_heap_node_t *node;
    while ((node = zg_heap_first (self->deadlines)) && node->key <= now) {
        s_wait_t *wait = ZG_ITEM_OF (node, s_wait_t, deadline);
        char reason [ZG_WIRE_REASON_SIZE];
        zg_wire_reason (reason, "task %s timed out waiting for its reply", wait->id);
        s_error (self, wait->producer, wait->req, ZG_ERR_TIMEOUT, reason);
        self->timeouts++;
        zg_heap_remove (self->deadlines, node);
        zhashx_delete (self->waits, wait->id);
    }
    int64_t lease = self->settings [S_LEASE];
    if (now >= self->next_renew) {
        s_renew (self);
        self->next_renew = now + lease / 3;
    }
    if (now >= self->next_sweep) {
        char buffers [4][24];
        for (size_t shard = 0; shard < self->shard_count; shard++) {
            snprintf (buffers [0], sizeof buffers [0], "%" PRId64, lease / 4);
            zg_wire_part_t args [] = {
                zg_wire_str (self->node), zg_wire_str (buffers [0]), s_setting (self, S_MAX_PENDING, buffers [1]),
                s_setting (self, S_MAX_NAME, buffers [2]), s_setting (self, S_RESULT_TTL, buffers [3])
            };
            s_run (self, shard, ZG_QSCRIPT_SWEEP, args, 5, s_call_new (S_SWEEP));
        }
        self->next_sweep = now + lease / 4;
    }
    if (now >= self->next_wake) {
        zg_wire_part_t parts [] = { zg_wire_str ("W"), zg_wire_str ("") };
        s_send_link (self, parts, 2);
        self->next_wake = now + S_WAKE_INTERVAL;
    }
}

//  --------------------------------------------------------------------------
//  Poll items

size_t
zg_queues_cluster_items (zg_queues_cluster_t *self)
{
    assert (self);
    return 1 + 2 * self->shard_count;
}

void
zg_queues_cluster_poll_items (zg_queues_cluster_t *self, zmq_pollitem_t *items, int64_t now, int64_t *next)
{
    assert (self && items && next);
    s_timers (self, now);
    memset (items, 0, zg_queues_cluster_items (self) * sizeof (zmq_pollitem_t));
    items [0].socket = zsock_resolve (self->socket);
    items [0].events = ZMQ_POLLIN;
    int64_t deadlines [] = {
        zg_heap_first_key (self->deadlines), self->next_renew, self->next_sweep, self->next_wake
    };
    for (size_t index = 0; index < 4; index++)
        *next = deadlines [index] < *next? deadlines [index]: *next;
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_t *connections [] = { self->shards [shard].plain, self->shards [shard].subscriber };
        for (int index = 0; index < 2; index++) {
            zg_redis_tick (connections [index], now);
            zg_redis_poll_item (connections [index], &items [1 + 2 * shard + (size_t) index]);
            int64_t tick = zg_redis_next_tick (connections [index]);
            *next = tick < *next? tick: *next;
        }
    }
}

//  --------------------------------------------------------------------------
//  Handle what the poll reported

void
zg_queues_cluster_handle (zg_queues_cluster_t *self, zmq_pollitem_t *items, int64_t now)
{
    assert (self && items);
    for (size_t index = 0; index < self->shard_count; index++) {
        s_shard_t *shard = &self->shards [index];
        if (items [1 + 2 * index].revents)
            zg_redis_handle (shard->plain, items [1 + 2 * index].revents, now);
        if (items [2 + 2 * index].revents)
            zg_redis_handle (shard->subscriber, items [2 + 2 * index].revents, now);
        redisReply *reply;
        while ((reply = zg_redis_reply (shard->plain))) {
            s_call_t *call = (s_call_t *) zlist_pop (shard->calls);
            if (call)
                s_handle_answer (self, index, call, reply);
            s_call_destroy (&call);
            freeReplyObject (reply);
        }
        s_shard_ready (self, shard);
        if (zg_redis_up (shard->subscriber) && zg_redis_connects (shard->subscriber) != shard->subscriber_connects) {
            shard->subscriber_connects = zg_redis_connects (shard->subscriber);
            char ready [256], outcomes [256];
            snprintf (ready, sizeof ready, "%s:q:ready", self->prefix);
            snprintf (outcomes, sizeof outcomes, "%s:n:%s", self->prefix, self->node);
            const char *argv [] = { "SUBSCRIBE", ready, outcomes };
            size_t sizes [] = { 9, strlen (ready), strlen (outcomes) };
            zg_redis_command (shard->subscriber, 3, argv, sizes);
            //  What was published meanwhile is lost: every queue may have tasks
            zg_wire_part_t parts [] = { zg_wire_str ("W"), zg_wire_str ("") };
            s_send_link (self, parts, 2);
        }
        while ((reply = zg_redis_reply (shard->subscriber))) {
            s_handle_message (self, reply);
            freeReplyObject (reply);
        }
    }
    if (items [0].revents & ZMQ_POLLIN)
        s_handle_link (self);
}

//  --------------------------------------------------------------------------
//  Every connection is up

bool
zg_queues_cluster_healthy (zg_queues_cluster_t *self)
{
    assert (self);
    for (size_t shard = 0; shard < self->shard_count; shard++)
        if (!zg_redis_up (self->shards [shard].plain) || !zg_redis_up (self->shards [shard].subscriber))
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Counters

void
zg_queues_cluster_stats (zg_queues_cluster_t *self, json_object *root)
{
    assert (self && root);
    json_object *queues = json_object_new_object ();
    uint64_t values [] = {
        self->calls, self->sent, self->claimed, self->finished, self->requeued, self->replies, self->timeouts,
        self->stale, self->late, self->errors, zhashx_size (self->waits), zhashx_size (self->held)
    };
    const char *names [] = {
        "calls", "sent", "claimed", "finished", "requeued", "replies", "timeouts", "stale", "late", "errors",
        "waiting-replies", "held"
    };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++)
        json_object_object_add (queues, names [index], json_object_new_uint64 (values [index]));
    json_object_object_add (root, "queues", queues);
}

//  --------------------------------------------------------------------------
//  Self test: the test plays the queues actor's link on the PAIR

//  Poll the bridge until the link gets a message of this kind; returns it
//  (its kind popped), or NULL after wait ms
static zmsg_t *
s_test_wait (zg_queues_cluster_t *bridge, zsock_t *link, const char *kind, int64_t wait)
{
    int64_t end = zclock_mono () + wait;
    zmq_pollitem_t items [8];
    assert (zg_queues_cluster_items (bridge) <= 8);
    while (zclock_mono () < end) {
        zmsg_t *msg = zmsg_recv_nowait (link);
        if (msg) {
            char *first = zmsg_popstr (msg);
            bool match = streq (first, kind);
            zstr_free (&first);
            if (match)
                return msg;
            zmsg_destroy (&msg);
            continue;
        }
        int64_t now = zclock_mono (), next = now + 20;
        zg_queues_cluster_poll_items (bridge, items, now, &next);
        zmq_poll (items, (int) zg_queues_cluster_items (bridge), next > now? (long) (next - now): 0);
        zg_queues_cluster_handle (bridge, items, zclock_mono ());
    }
    return NULL;
}

static zmsg_t *
s_test_expect (zg_queues_cluster_t *bridge, zsock_t *link, const char *kind)
{
    return s_test_wait (bridge, link, kind, 3000);
}

//  The frames of a message after its kind, joined by '|', as a string
static char *
s_test_text (zmsg_t *msg)
{
    char *text = (char *) zmalloc (1024);
    const char *separator = "";
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg), separator = "|")
        snprintf (text + strlen (text), 1024 - strlen (text), "%s%.*s", separator,
                  (int) (zframe_size (frame) < 64? zframe_size (frame): 64), (char *) zframe_data (frame));
    return text;
}

void
zg_queues_cluster_test (bool verbose)
{
    printf (" * zg_queues_cluster: ");
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED: no redis-server on PATH\n");
        return;
    }
    //  @selftest
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    const char *addresses [] = { zg_redis_server_address (server) };
    zg_redis_ring_t *ring = zg_redis_ring_new ();
    zg_redis_ring_add (ring, addresses [0]);
    zg_queues_cluster_t *bridge = zg_queues_cluster_new ("0123456789abcdef", "zqc", ring, addresses, 1);
    char error [256];
    assert (zg_queues_cluster_bind (bridge, "inproc://zg-queues-cluster-test", error, sizeof error) == 0);
    zsock_t *link = zsock_new_pair (">inproc://zg-queues-cluster-test");
    assert (link);
    //  Settings: max-pending 2, max-deliveries 5, result-ttl 60 s, names
    //  255, lease 5 s
    zstr_sendx (link, "O", "2", "5", "60000", "255", "5000", NULL);
    //  The first wake-up says every queue may have tasks; then both
    //  connections are up
    zmsg_t *msg = s_test_expect (bridge, link, "W");
    assert (msg);
    zmsg_destroy (&msg);
    for (int attempt = 0; attempt < 300 && !zg_queues_cluster_healthy (bridge); attempt++)
        assert (!s_test_wait (bridge, link, "none", 10));

    //  SEND: OK with the id; max-pending refuses the third with 429
    zstr_sendx (link, "S", "prod", "r1", "jobs", "0", "1000", "1", "0", "hello", NULL);
    msg = s_test_expect (bridge, link, "P");
    char *text = s_test_text (msg);
    if (verbose)
        fprintf (stderr, "%s ", text);
    assert (streq (text, "prod|OK|r1|1"));
    zstr_free (&text);
    zmsg_destroy (&msg);
    zstr_sendx (link, "S", "prod", "r2", "jobs", "0", "1000", "1", "200", "late", NULL);
    zstr_sendx (link, "S", "prod", "r3", "jobs", "0", "1000", "0", "0", "full", NULL);
    msg = s_test_expect (bridge, link, "P");
    zmsg_destroy (&msg);
    msg = s_test_expect (bridge, link, "P");
    text = s_test_text (msg);
    assert (streq (text, "prod|ERROR|r3|429|queue full (max-pending 2)"));
    zstr_free (&text);
    zmsg_destroy (&msg);

    //  CLAIM: both, in order; FINISH: the producer gets REPLY through its
    //  node's channel; the second's producer gave up (408) before its end
    zstr_sendx (link, "C", "jobs", "5", NULL);
    msg = s_test_expect (bridge, link, "T");
    text = s_test_text (msg);
    assert (strncmp (text, "jobs|5|1|1|0|1000|", 18) == 0 && strstr (text, "|hello|2|1|0|1000|"));
    zstr_free (&text);
    zmsg_destroy (&msg);
    zstr_sendx (link, "F", "1", "1", "done", "HELLO", NULL);
    msg = s_test_expect (bridge, link, "P");
    text = s_test_text (msg);
    assert (streq (text, "prod|REPLY|r1|1|HELLO"));
    zstr_free (&text);
    zmsg_destroy (&msg);
    msg = s_test_expect (bridge, link, "P");
    text = s_test_text (msg);
    assert (streq (text, "prod|ERROR|r2|408|task 2 timed out waiting for its reply"));
    zstr_free (&text);
    zmsg_destroy (&msg);
    zstr_sendx (link, "F", "2", "1", "failed", "bad", NULL);

    //  GET from any node: the task's map; an unknown id is 404
    zstr_sendx (link, "G", "prod", "r4", "1", NULL);
    msg = s_test_expect (bridge, link, "P");
    assert (msg && zmsg_size (msg) == 4);
    zframe_t *map = zmsg_last (msg);
    bool found = false;
    for (size_t at = 0; at + 5 <= zframe_size (map) && !found; at++)
        found = memcmp (zframe_data (map) + at, "HELLO", 5) == 0;
    assert (found);
    zmsg_destroy (&msg);
    zstr_sendx (link, "G", "prod", "r5", "77", NULL);
    msg = s_test_expect (bridge, link, "P");
    text = s_test_text (msg);
    assert (streq (text, "prod|ERROR|r5|404|unknown task '77'"));
    zstr_free (&text);
    zmsg_destroy (&msg);

    //  Redis goes away: a SEND is not stored (507), and the bridge is
    //  unhealthy until it is back
    zg_redis_server_stop (server);
    for (int attempt = 0; attempt < 300 && zg_queues_cluster_healthy (bridge); attempt++)
        assert (!s_test_wait (bridge, link, "none", 10));
    assert (!zg_queues_cluster_healthy (bridge));
    zstr_sendx (link, "S", "prod", "r6", "jobs", "0", "1000", "0", "0", "lost", NULL);
    msg = s_test_expect (bridge, link, "P");
    text = s_test_text (msg);
    assert (strncmp (text, "prod|ERROR|r6|507|", 18) == 0);
    zstr_free (&text);
    zmsg_destroy (&msg);
    json_object *root = json_object_new_object ();
    zg_queues_cluster_stats (bridge, root);
    json_object *queues = json_object_object_get (root, "queues");
    assert (json_object_get_int64 (json_object_object_get (queues, "timeouts")) == 1);
    assert (json_object_get_int64 (json_object_object_get (queues, "claimed")) == 2);
    json_object_put (root);

    zsock_destroy (&link);
    zg_queues_cluster_destroy (&bridge);
    zg_redis_ring_destroy (&ring);
    zg_redis_server_destroy (&server);
    //  @end
    printf ("OK\n");
}
