/*  =========================================================================
    zg_history_cluster - topic history across nodes: remembered topics'
    messages numbered and kept in Redis streams

    Both scripts go as EVAL (Redis caches them by their text): nothing to
    load again after a Redis restart. A read's answer is found among the
    replies of its shard's plain connection, which also carries the topics
    bridge's PUBLISHes and the numbering scripts, by its position: the
    replies due before it when it was sent, counted from the connection's
    start (a new connection fails the reads still waiting on the old one).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_history_cluster.h"
#include "zg_redis_server.h"

//  Bytes waiting to be written to a shard past which messages are dropped
#define ZG_HISTORY_CLUSTER_MAX_BUFFERED (64 * 1024 * 1024)

//  KEYS stream, meta; ARGV candidate epoch, count bound, payload, wall
//  clock ms, channel. Returns the seq. A new epoch starts a new stream: a
//  meta lost without its stream (an eviction) would leave entries past seq
//  1, and XADD refuses an id below the stream's top.
static const char *s_number_script =
    "if redis.call('HSETNX', KEYS[2], 'epoch', ARGV[1]) == 1 then redis.call('DEL', KEYS[1]) end "
    "local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1) "
    "local epoch = redis.call('HGET', KEYS[2], 'epoch') "
    "local id = string.format('%d-0', seq) "
    "redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], id, 'p', ARGV[3], 't', ARGV[4]) "
    "redis.call('PUBLISH', ARGV[5], string.format('%d', seq) .. ' ' .. epoch .. ' ' .. ARGV[3]) "
    "return seq";

//  KEYS stream, meta; ARGV "1" for the newest entry only. Returns
//  {epoch, seq, entries} (epoch and seq false if the topic has none).
static const char *s_read_script =
    "local meta = redis.call('HMGET', KEYS[2], 'epoch', 'seq') "
    "local entries "
    "if ARGV[1] == '1' then entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1) "
    "else entries = redis.call('XRANGE', KEYS[1], '-', '+') end "
    "return {meta[1], meta[2], entries}";

//  A read on its way: the request's frames, and where its answer is
typedef struct {
    zmsg_t *request;                //  [routing][verb][req][topic]...
    size_t shard;                   //  The topic's shard
    bool sent;                      //  Asked of Redis
    uint64_t position;              //  Its reply's number on the connection
    int64_t deadline;               //  Wait for subscriptions, then for Redis, until
} s_read_t;

//  A shard's plain connection as the reads see it
typedef struct {
    uint64_t connects;              //  Its connection's number
    uint64_t replies;               //  Replies taken from it since
} s_shard_t;

struct _zg_history_cluster_t {
    sds key_base;                   //  "<key-prefix>:h:{"
    sds channel_head;               //  "<key-prefix>:t:<NUMBERED>:"
    zg_redis_ring_t *ring;          //  Topic to shard (the caller's)
    zg_redis_t **plains;            //  Plain connections (the caller's)
    s_shard_t *shards;              //  Per shard
    size_t shard_count;
    zg_history_cluster_unconfirmed_fn *unconfirmed;
    void *unconfirmed_arg;          //  Its argument (the caller's)
    zsock_t *requests;              //  PAIR to the topics actor
    zlistx_t *reads;                //  s_read_t, oldest first
    uint64_t candidates;            //  Epochs drawn
    uint64_t seed;                  //  Of the candidate epochs
    uint64_t numbered;              //  Messages sent to be numbered
    uint64_t dropped;               //  Messages not sent (shard down or behind)
    uint64_t answered;              //  Reads answered from Redis
    uint64_t failed;                //  Reads answered with ERROR
};

//  --------------------------------------------------------------------------

static void
s_read_destroy (s_read_t **read_p)
{
    zmsg_destroy (&(*read_p)->request);
    free (*read_p);
    *read_p = NULL;
}

zg_history_cluster_t *
zg_history_cluster_new (const char *key_prefix, zg_redis_ring_t *ring, zg_redis_t **plains, size_t shards,
                        zg_history_cluster_unconfirmed_fn *unconfirmed, void *arg)
{
    assert (key_prefix && ring && plains && shards && unconfirmed);
    zg_history_cluster_t *self = (zg_history_cluster_t *) zmalloc (sizeof (zg_history_cluster_t));
    assert (self);
    self->key_base = sdscatprintf (sdsempty (), "%s:h:{", key_prefix);
    self->channel_head = sdscatprintf (sdsempty (), "%s:t:%s:", key_prefix, ZG_HISTORY_CLUSTER_NUMBERED);
    self->ring = ring;
    self->plains = plains;
    self->shard_count = shards;
    self->shards = (s_shard_t *) zmalloc (shards * sizeof (s_shard_t));
    self->unconfirmed = unconfirmed;
    self->unconfirmed_arg = arg;
    self->requests = zsock_new (ZMQ_PAIR);
    assert (self->requests);
    self->reads = zlistx_new ();
    zlistx_set_destructor (self->reads, (zlistx_destructor_fn *) s_read_destroy);
    //  A random seed: epochs must differ from every earlier one of a topic,
    //  drawn by any node in any run
    zuuid_t *uuid = zuuid_new ();
    memcpy (&self->seed, zuuid_data (uuid), sizeof self->seed);
    zuuid_destroy (&uuid);
    return self;
}

void
zg_history_cluster_destroy (zg_history_cluster_t **self_p)
{
    assert (self_p);
    zg_history_cluster_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->reads);
        zsock_destroy (&self->requests);
        free (self->shards);
        sdsfree (self->key_base);
        sdsfree (self->channel_head);
        free (self);
        *self_p = NULL;
    }
}

int
zg_history_cluster_bind (zg_history_cluster_t *self, const char *endpoint, char *error, size_t size)
{
    assert (self && endpoint);
    if (zsock_bind (self->requests, "%s.history", endpoint) == -1) {
        snprintf (error, size, "cannot bind '%s.history': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

zsock_t *
zg_history_cluster_socket (zg_history_cluster_t *self)
{
    assert (self);
    return self->requests;
}

//  --------------------------------------------------------------------------
//  The keys of a topic: its stream and its meta hash

static void
s_self_keys (zg_history_cluster_t *self, const void *topic, size_t size, sds *stream, sds *meta)
{
    *stream = sdscatlen (sdsdup (self->key_base), topic, size);
    *stream = sdscatlen (*stream, "}", 1);
    *meta = sdscatlen (sdsdup (*stream), ":meta", 5);
}

//  A fresh candidate epoch, 16 lowercase hex digits (splitmix64 of a
//  counter from the random seed: one per message, no two alike)
static void
s_self_candidate (zg_history_cluster_t *self, char *epoch)
{
    uint64_t value = self->seed + ++self->candidates * 0x9e3779b97f4a7c15ULL;
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    value ^= value >> 31;
    snprintf (epoch, 17, "%016" PRIx64, value);
}

//  --------------------------------------------------------------------------
//  Numbering a local message

int
zg_history_cluster_publish (zg_history_cluster_t *self, zmq_msg_t *topic, zmq_msg_t *payload, zmq_msg_t *bound)
{
    assert (self && topic && payload && bound);
    const char *name = (const char *) zmq_msg_data (topic);
    size_t shard = (size_t) zg_redis_ring_pick (self->ring, name, zmq_msg_size (topic));
    zg_redis_t *plain = self->plains [shard];
    if (!zg_redis_up (plain) || zg_redis_buffered (plain) > ZG_HISTORY_CLUSTER_MAX_BUFFERED) {
        self->dropped++;
        return -1;
    }
    sds stream, meta;
    s_self_keys (self, name, zmq_msg_size (topic), &stream, &meta);
    sds channel = sdscatlen (sdsdup (self->channel_head), name, zmq_msg_size (topic));
    char epoch [17], now [ZG_WIRE_NUMBER_SIZE], maxlen [ZG_WIRE_NUMBER_SIZE];
    s_self_candidate (self, epoch);
    uint64_t count = 0;
    if (zg_wire_parse_uint (zmq_msg_data (bound), zmq_msg_size (bound), UINT64_MAX, &count) || count == 0)
        count = ZG_HISTORY_CLUSTER_MAXLEN;
    const char *argv [] = { "EVAL", s_number_script, "2", stream, meta, epoch, maxlen,
                            (const char *) zmq_msg_data (payload), now, channel };
    size_t sizes [] = { 4, strlen (s_number_script), 1, sdslen (stream), sdslen (meta), 16,
                        zg_wire_format_uint (count, maxlen), zmq_msg_size (payload),
                        zg_wire_format_uint ((uint64_t) zclock_time (), now), sdslen (channel) };
    int rc = zg_redis_command (plain, 10, argv, sizes);
    if (rc == 0)
        self->numbered++;
    else
        self->dropped++;
    sdsfree (stream);
    sdsfree (meta);
    sdsfree (channel);
    return rc;
}

//  --------------------------------------------------------------------------
//  Reads

//  A frame of a read's request as a string (the topic, the verb)
static char *
s_read_frame (s_read_t *read, size_t index)
{
    zframe_t *frame = zmsg_first (read->request);
    for (size_t step = 0; step < index && frame; step++)
        frame = zmsg_next (read->request);
    return frame? zframe_strdup (frame): strdup ("");
}

//  Answer a read with ERROR and forget it
static void
s_self_fail (zg_history_cluster_t *self, s_read_t *read, const char *reason)
{
    zmsg_addstr (read->request, "ERROR");
    zmsg_addstr (read->request, reason);
    zmsg_send (&read->request, self->requests);
    self->failed++;
}

//  Ask Redis for a read's entries if its topic's subscriptions are
//  confirmed or it waited long enough; false if it still waits
static bool
s_self_send (zg_history_cluster_t *self, s_read_t *read, int64_t now)
{
    char *topic = s_read_frame (read, 3);
    char *verb = s_read_frame (read, 1);
    bool waits = now < read->deadline && self->unconfirmed (self->unconfirmed_arg, read->shard, topic);
    if (!waits) {
        zg_redis_t *plain = self->plains [read->shard];
        sds stream, meta;
        s_self_keys (self, topic, strlen (topic), &stream, &meta);
        const char *argv [] = { "EVAL", s_read_script, "2", stream, meta, streq (verb, "LAST")? "1": "0" };
        size_t sizes [] = { 4, strlen (s_read_script), 1, sdslen (stream), sdslen (meta), 1 };
        size_t due = zg_redis_pending (plain);
        if (zg_redis_command (plain, 6, argv, sizes) == 0) {
            read->sent = true;
            read->position = self->shards [read->shard].replies + due;
            read->deadline = now + ZG_HISTORY_CLUSTER_TIMEOUT;
        }
        else
            s_self_fail (self, read, "the history's Redis shard is out of reach");
        sdsfree (stream);
        sdsfree (meta);
    }
    zstr_free (&topic);
    zstr_free (&verb);
    return !waits;
}

void
zg_history_cluster_handle (zg_history_cluster_t *self)
{
    assert (self);
    zmsg_t *request;
    int64_t now = zclock_mono ();
    while ((request = zmsg_recv_nowait (self->requests))) {
        s_read_t *read = (s_read_t *) zmalloc (sizeof (s_read_t));
        assert (read);
        read->request = request;
        read->deadline = now + ZG_HISTORY_CLUSTER_WAIT;
        char *topic = s_read_frame (read, 3);
        read->shard = (size_t) zg_redis_ring_pick (self->ring, topic, strlen (topic));
        zstr_free (&topic);
        //  A read answered at once (ERROR) has given its request away
        if (!s_self_send (self, read, now) || read->request)
            zlistx_add_end (self->reads, read);
        else
            s_read_destroy (&read);
    }
}

//  A reply's bulk string (or integer) as a frame; "" for nil
static void
s_add_reply (zmsg_t *msg, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)
        zmsg_addmem (msg, reply->str, reply->len);
    else
    if (reply->type == REDIS_REPLY_INTEGER)
        zmsg_addstrf (msg, "%lld", reply->integer);
    else
        zmsg_addmem (msg, "", 0);
}

//  The value of a field of a stream entry's field list, or NULL
static redisReply *
s_field (redisReply *fields, const char *name)
{
    for (size_t index = 0; index + 1 < fields->elements; index += 2)
        if (fields->element [index]->type == REDIS_REPLY_STRING && streq (fields->element [index]->str, name))
            return fields->element [index + 1];
    return NULL;
}

//  Answer a read from Redis' reply {epoch, seq, entries}: [OK][epoch][top]
//  then [seq][time][payload] per entry, oldest first
static void
s_self_answer (zg_history_cluster_t *self, s_read_t *read, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element [2]->type != REDIS_REPLY_ARRAY) {
        s_self_fail (self, read, reply->type == REDIS_REPLY_ERROR? reply->str: "Redis answered the read oddly");
        return;
    }
    zmsg_addstr (read->request, "OK");
    s_add_reply (read->request, reply->element [0]);
    s_add_reply (read->request, reply->element [1]);
    redisReply *entries = reply->element [2];
    for (size_t index = 0; index < entries->elements; index++) {
        redisReply *entry = entries->element [index];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element [1]->type != REDIS_REPLY_ARRAY)
            continue;
        redisReply *payload = s_field (entry->element [1], "p");
        redisReply *time = s_field (entry->element [1], "t");
        const char *id = entry->element [0]->str;
        if (!payload || !time || entry->element [0]->type != REDIS_REPLY_STRING || !strchr (id, '-'))
            continue;
        zmsg_addmem (read->request, id, (size_t) (strchr (id, '-') - id));
        s_add_reply (read->request, time);
        s_add_reply (read->request, payload);
    }
    zmsg_send (&read->request, self->requests);
    self->answered++;
}

//  A shard's connection is new: the reads sent on the old one get no answer
static void
s_self_check_connection (zg_history_cluster_t *self, size_t shard)
{
    uint64_t connects = zg_redis_connects (self->plains [shard]);
    if (connects == self->shards [shard].connects)
        return;
    self->shards [shard].connects = connects;
    self->shards [shard].replies = 0;
    s_read_t *read = (s_read_t *) zlistx_first (self->reads);
    while (read) {
        void *handle = zlistx_cursor (self->reads);
        bool lost = read->shard == shard && read->sent;
        if (lost)
            s_self_fail (self, read, "the history's Redis shard was lost during the read");
        read = (s_read_t *) zlistx_next (self->reads);
        if (lost)
            zlistx_delete (self->reads, handle);
    }
}

bool
zg_history_cluster_reply (zg_history_cluster_t *self, size_t shard, redisReply *reply)
{
    assert (self && reply);
    assert (shard < self->shard_count);
    s_self_check_connection (self, shard);
    uint64_t position = self->shards [shard].replies++;
    for (s_read_t *read = (s_read_t *) zlistx_first (self->reads); read; read = (s_read_t *) zlistx_next (self->reads))
        if (read->sent && read->shard == shard && read->position == position) {
            s_self_answer (self, read, reply);
            zlistx_delete (self->reads, zlistx_cursor (self->reads));
            freeReplyObject (reply);
            return true;
        }
    return false;
}

void
zg_history_cluster_tick (zg_history_cluster_t *self, int64_t now)
{
    assert (self);
    for (size_t shard = 0; shard < self->shard_count; shard++)
        s_self_check_connection (self, shard);
    s_read_t *read = (s_read_t *) zlistx_first (self->reads);
    while (read) {
        void *handle = zlistx_cursor (self->reads);
        bool done = false;
        if (!read->sent)
            done = s_self_send (self, read, now) && !read->request;
        else
        if (now >= read->deadline) {
            s_self_fail (self, read, "the history's Redis shard did not answer in time");
            done = true;
        }
        read = (s_read_t *) zlistx_next (self->reads);
        if (done)
            zlistx_delete (self->reads, handle);
    }
}

//  --------------------------------------------------------------------------
//  "<seq> <epoch> <payload>": the length of "<seq> <epoch>", or -1

int
zg_history_cluster_split (const char *text, size_t size)
{
    assert (text);
    size_t digits = 0;
    while (digits < size && digits < 20 && isdigit ((unsigned char) text [digits]))
        digits++;
    size_t mark = digits + 1 + 16;
    if (digits == 0 || size <= mark || text [digits] != ' ' || text [mark] != ' ')
        return -1;
    for (size_t index = digits + 1; index < mark; index++)
        if (!isxdigit ((unsigned char) text [index]))
            return -1;
    return (int) mark;
}

void
zg_history_cluster_stats (zg_history_cluster_t *self, json_object *root)
{
    assert (self && root);
    json_object *history = json_object_new_object ();
    json_object_object_add (history, "numbered", json_object_new_uint64 (self->numbered));
    json_object_object_add (history, "dropped", json_object_new_uint64 (self->dropped));
    json_object_object_add (history, "answered", json_object_new_uint64 (self->answered));
    json_object_object_add (history, "failed", json_object_new_uint64 (self->failed));
    json_object_object_add (history, "reading", json_object_new_uint64 (zlistx_size (self->reads)));
    json_object_object_add (root, "history", history);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A node of the test: a cluster actor and a topics actor that remembers
//  news.* (5 messages), linked
typedef struct {
    zactor_t *cluster;
    zactor_t *topics;
    char endpoint [3][96];          //  Publishers, subscribers, history requests
} s_test_node_t;

static void
s_test_node_start (s_test_node_t *node, const char *name, const char *redis)
{
    char error [256], link [64];
    snprintf (link, sizeof link, "inproc://zg-hc-test-%s", name);
    const char *kinds [] = { "pub", "sub", "history" };
    for (int index = 0; index < 3; index++)
        snprintf (node->endpoint [index], sizeof node->endpoint [index], "%s-%s", link, kinds [index]);
    node->cluster = zactor_new (zg_cluster, NULL);
    assert (zg_actor_set (node->cluster, "key-prefix", "zg-hc-test", error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "redis", redis, error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "inproc-topics", link, error, sizeof error) == 0);
    node->topics = zg_topics_new (NULL, NULL);
    assert (zg_actor_set (node->topics, "history", "news.* 5", error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "publishers", node->endpoint [0], error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "subscribers", node->endpoint [1], error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "inproc-history-requests", node->endpoint [2], error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "cluster", link, error, sizeof error) == 0);
}

static void
s_test_node_stop (s_test_node_t *node)
{
    zactor_destroy (&node->topics);
    zactor_destroy (&node->cluster);
}

//  Receive one message, its frames joined by '|', and a NUL shown as '|'
//  too (in-process subscribers get [topic NUL seq epoch][payload])
static char *
s_test_recv (zsock_t *socket)
{
    zmsg_t *msg = zmsg_recv (socket);
    assert (msg);
    char text [512] = "";
    size_t length = 0;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        assert (length + 1 + zframe_size (frame) < sizeof text);
        if (length)
            text [length++] = '|';
        for (size_t index = 0; index < zframe_size (frame); index++)
            text [length++] = zframe_data (frame) [index]? (char) zframe_data (frame) [index]: '|';
    }
    text [length] = 0;
    zmsg_destroy (&msg);
    return strdup (text);
}

void
zg_history_cluster_test (bool verbose)
{
    printf (" * zg_history_cluster: ");
    //  @selftest
    //  A numbered message: "<seq> <epoch> <payload>"
    assert (zg_history_cluster_split ("12 0123456789abcdef hello", 25) == 19);
    assert (zg_history_cluster_split ("1 0123456789abcdef ", 19) == 18);
    const char *bad [] = { "", "x 0123456789abcdef a", "1 0123456789abcdeg a", "1 0123456789abcdef", "10123456789abcdef a",
                           NULL };
    for (int index = 0; bad [index]; index++)
        assert (zg_history_cluster_split (bad [index], strlen (bad [index])) == -1);
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED the nodes: no redis-server on PATH (Debian's redis-server package)\n");
        return;
    }
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    s_test_node_t node_a, node_b;
    s_test_node_start (&node_a, "a", zg_redis_server_address (server));
    s_test_node_start (&node_b, "b", zg_redis_server_address (server));
    //  A subscriber on each node; the publisher on A
    zsock_t *sub_a = zsock_new_sub (node_a.endpoint [1], "news.");
    zsock_t *sub_b = zsock_new_sub (node_b.endpoint [1], "news.");
    zsock_t *publisher = zsock_new (ZMQ_PUB);
    assert (zsock_connect (publisher, "%s", node_a.endpoint [0]) == 0);
    assert (sub_a && sub_b && publisher);
    zsock_set_rcvtimeo (sub_a, 100);
    zsock_set_rcvtimeo (sub_b, 100);
    //  Probe until both subscribers hear from A through Redis: a
    //  remembered topic's messages reach A's own subscribers from Redis too
    bool reached = false;
    for (int attempt = 0; attempt < 100 && !reached; attempt++) {
        zstr_sendx (publisher, "news.probe", "p", NULL);
        zmsg_t *got_a = zmsg_recv (sub_a), *got_b = zmsg_recv (sub_b);
        reached = got_a && got_b;
        zmsg_destroy (&got_a);
        zmsg_destroy (&got_b);
    }
    assert (reached);
    zsock_set_rcvtimeo (sub_a, 2000);
    zsock_set_rcvtimeo (sub_b, 2000);
    zclock_sleep (200);
    zsock_set_rcvtimeo (sub_b, 0);
    zmsg_t *stale;
    while ((stale = zmsg_recv (sub_b)))
        zmsg_destroy (&stale);
    zsock_set_rcvtimeo (sub_b, 2000);
    //  Both nodes see the same numbers and epoch
    for (int index = 1; index <= 8; index++)
        zstr_sendx (publisher, "news.a", index % 2? "odd": "even", NULL);
    char epoch [17] = "";
    for (int index = 1; index <= 8; index++) {
        char *on_b = s_test_recv (sub_b);
        char *on_a = NULL;
        do {
            zstr_free (&on_a);
            on_a = s_test_recv (sub_a);
        } while (strncmp (on_a, "news.probe", 10) == 0);
        assert (streq (on_a, on_b) && strncmp (on_b, "news.a|", 7) == 0);
        //  news.a|seq epoch|payload
        char *space = strchr (on_b, ' ');
        assert (atoi (on_b + 7) == index && space && space [17] == '|');
        if (!*epoch)
            memcpy (epoch, space + 1, 16);
        assert (memcmp (space + 1, epoch, 16) == 0 && streq (space + 18, index % 2? "odd": "even"));
        zstr_free (&on_a);
        zstr_free (&on_b);
    }
    //  Either node reads the topic's history from Redis, bounded by the rule
    zsock_t *reader = zsock_new (ZMQ_DEALER);
    assert (zsock_connect (reader, "%s", node_b.endpoint [2]) == 0);
    zsock_set_rcvtimeo (reader, 5000);
    zstr_sendx (reader, "HISTORY", "r1", "news.a", "5", epoch, NULL);
    char *answer = s_test_recv (reader);
    char expected [256];
    snprintf (expected, sizeof expected, "HISTORY|r1|%s|8|1|6|even|7|odd|8|even", epoch);
    if (verbose)
        printf ("\n   %s", answer);
    assert (streq (answer, expected));
    zstr_free (&answer);
    //  A gap older than the 5 kept is not recovered
    zstr_sendx (reader, "HISTORY", "r2", "news.a", "1", epoch, NULL);
    answer = s_test_recv (reader);
    assert (strncmp (answer, "HISTORY|r2|", 11) == 0 && strstr (answer, "|8|0|4|even|"));
    zstr_free (&answer);
    zstr_sendx (reader, "LAST", "r3", "news.a", NULL);
    answer = s_test_recv (reader);
    snprintf (expected, sizeof expected, "LAST|r3|%s|8|1|8|even", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    //  Redis loses the topic's meta but keeps its stream (an eviction): the
    //  next message starts a new epoch at seq 1, in a new stream
    const char *address = zg_redis_server_address (server);
    redisContext *evictor = redisConnect ("127.0.0.1", atoi (strrchr (address, ':') + 1));
    assert (evictor && !evictor->err);
    redisReply *deleted = (redisReply *) redisCommand (evictor, "DEL zg-hc-test:h:{news.a}:meta");
    assert (deleted && deleted->type == REDIS_REPLY_INTEGER && deleted->integer == 1);
    freeReplyObject (deleted);
    redisFree (evictor);
    zstr_sendx (publisher, "news.a", "fresh", NULL);
    answer = s_test_recv (sub_b);
    assert (strncmp (answer, "news.a|1 ", 9) == 0 && strncmp (answer + 9, epoch, 16) && streq (answer + 25, "|fresh"));
    zstr_free (&answer);
    //  A topic with nothing yet has no epoch
    zstr_sendx (reader, "HISTORY", "r4", "news.none", "0", "", NULL);
    answer = s_test_recv (reader);
    assert (streq (answer, "HISTORY|r4||0|1"));
    zstr_free (&answer);
    //  Redis away: a read is refused with 503
    zg_redis_server_stop (server);
    zclock_sleep (300);
    zstr_sendx (reader, "LAST", "r5", "news.a", NULL);
    answer = s_test_recv (reader);
    assert (strncmp (answer, "ERROR|r5|503|", 13) == 0);
    zstr_free (&answer);
    zsock_destroy (&reader);
    zsock_destroy (&publisher);
    zsock_destroy (&sub_a);
    zsock_destroy (&sub_b);
    s_test_node_stop (&node_a);
    s_test_node_stop (&node_b);
    zg_redis_server_destroy (&server);
    //  @end
    printf ("OK\n");
}
