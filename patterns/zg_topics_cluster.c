/*  =========================================================================
    zg_topics_cluster - topics across nodes: the bridge between one node's
    topics actor and Redis pub/sub

    Strings are hiredis' sds (binary-safe, growable), which Redis' own
    commands are built from anyway. Each shard's confirmed prefixes are a
    set; a message from Redis is passed on only if no shorter confirmed
    prefix matches its topic, which takes one lookup per shorter length.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_topics_cluster.h"
#include "zg_history_cluster.h"
#include "zg_redis_server.h"

//  Messages taken from the link per wake-up before the other sockets get a turn
#define ZG_TOPICS_CLUSTER_BATCH 4096
//  Bytes waiting to be written to Redis past which local messages are dropped
#define ZG_TOPICS_CLUSTER_MAX_BUFFERED (64 * 1024 * 1024)
//  Patterns per PSUBSCRIBE when a connection subscribes to all it needs
#define ZG_TOPICS_CLUSTER_CHUNK 256
//  Topics only zgate itself publishes: they stay on their node
#define ZG_TOPICS_CLUSTER_RESERVED "$zgate."
//  What Redis glob patterns give a meaning to, escaped in prefixes
#define ZG_TOPICS_CLUSTER_GLOB "*?[\\"

struct _zg_topics_cluster_t {
    char node [ZG_TOPICS_CLUSTER_NODE_SIZE + 1];   //  This node's id
    sds channel_base;               //  "<key-prefix>:t:"
    sds channel;                    //  Channel being built: base, node, ':', topic
    size_t channel_head;            //  Length of "<key-prefix>:t:<node>:"
    sds pattern_head;               //  Escaped base, then one '?' per node character and ':'
    zsock_t *messages;              //  PAIR: local messages in, remote ones out
    zsock_t *events;                //  PAIR: local prefix events in
    zhashx_t *wanted;               //  Prefixes local subscribers hold
    zhashx_t **confirmed;           //  Per shard: prefixes Redis confirmed
    size_t shards;                  //  Shard count
    sds scratch;                    //  A topic cut to shorter prefixes
    uint64_t sent;                  //  Local messages published
    uint64_t dropped;               //  Local messages not published (Redis out of reach or behind)
    uint64_t received;              //  Remote messages passed to the topics actor
    uint64_t refused;               //  Remote messages the topics actor was too far behind for
    uint64_t echoes;                //  Own messages back from Redis, skipped
    uint64_t duplicates;            //  Second copies (several patterns matched), skipped
    uint64_t malformed;             //  Messages from Redis not in our form
    zg_history_cluster_t *history;  //  Numbers remembered topics' messages, or NULL
};

//  --------------------------------------------------------------------------
//  Append text to a pattern with Redis' glob characters escaped

static sds
s_escape (sds pattern, const char *text, size_t size)
{
    for (size_t index = 0; index < size; index++) {
        if (strchr (ZG_TOPICS_CLUSTER_GLOB, text [index]) && text [index])
            pattern = sdscatlen (pattern, "\\", 1);
        pattern = sdscatlen (pattern, text + index, 1);
    }
    return pattern;
}

//  --------------------------------------------------------------------------
//  Create the bridge of a node

zg_topics_cluster_t *
zg_topics_cluster_new (const char *node, const char *key_prefix, size_t shards)
{
    assert (node && strlen (node) == ZG_TOPICS_CLUSTER_NODE_SIZE);
    assert (key_prefix);
    assert (shards > 0);
    zg_topics_cluster_t *self = (zg_topics_cluster_t *) zmalloc (sizeof (zg_topics_cluster_t));
    assert (self);
    memcpy (self->node, node, ZG_TOPICS_CLUSTER_NODE_SIZE);
    self->channel_base = sdscatprintf (sdsempty (), "%s:t:", key_prefix);
    self->channel = sdscatprintf (sdsempty (), "%s%s:", self->channel_base, node);
    self->channel_head = sdslen (self->channel);
    self->pattern_head = s_escape (sdsempty (), self->channel_base, sdslen (self->channel_base));
    for (int index = 0; index < ZG_TOPICS_CLUSTER_NODE_SIZE; index++)
        self->pattern_head = sdscatlen (self->pattern_head, "?", 1);
    self->pattern_head = sdscatlen (self->pattern_head, ":", 1);
    self->messages = zsock_new (ZMQ_PAIR);
    self->events = zsock_new (ZMQ_PAIR);
    assert (self->messages && self->events);
    zsock_set_rcvhwm (self->events, 0);
    self->wanted = zhashx_new ();
    self->shards = shards;
    self->confirmed = (zhashx_t **) zmalloc (shards * sizeof (zhashx_t *));
    for (size_t shard = 0; shard < shards; shard++)
        self->confirmed [shard] = zhashx_new ();
    self->scratch = sdsempty ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge

void
zg_topics_cluster_destroy (zg_topics_cluster_t **self_p)
{
    assert (self_p);
    zg_topics_cluster_t *self = *self_p;
    if (self) {
        sdsfree (self->channel_base);
        sdsfree (self->channel);
        sdsfree (self->pattern_head);
        sdsfree (self->scratch);
        zsock_destroy (&self->messages);
        zsock_destroy (&self->events);
        zhashx_destroy (&self->wanted);
        for (size_t shard = 0; shard < self->shards; shard++)
            zhashx_destroy (&self->confirmed [shard]);
        free (self->confirmed);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Bind the link's endpoints

int
zg_topics_cluster_bind (zg_topics_cluster_t *self, const char *endpoint, char *error, size_t size)
{
    assert (self);
    if (strncmp (endpoint, "inproc://", 9) != 0) {
        snprintf (error, size, "'%s' is not an inproc endpoint", endpoint);
        return -1;
    }
    if (zsock_bind (self->messages, "%s", endpoint) == -1
    ||  zsock_bind (self->events, "%s.events", endpoint) == -1) {
        snprintf (error, size, "cannot bind '%s': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The link's sockets

zsock_t *
zg_topics_cluster_messages (zg_topics_cluster_t *self)
{
    assert (self);
    return self->messages;
}

zsock_t *
zg_topics_cluster_events (zg_topics_cluster_t *self)
{
    assert (self);
    return self->events;
}

//  --------------------------------------------------------------------------
//  Whether size bytes of data start with the reserved topic prefix

static bool
s_reserved (const void *data, size_t size)
{
    size_t reserved_size = strlen (ZG_TOPICS_CLUSTER_RESERVED);
    return size >= reserved_size && memcmp (data, ZG_TOPICS_CLUSTER_RESERVED, reserved_size) == 0;
}

//  --------------------------------------------------------------------------
//  Publish one local message, or count it dropped

static void
s_publish (zg_topics_cluster_t *self, zg_redis_t *publisher, zmq_msg_t *topic, zmq_msg_t *payload)
{
    if (s_reserved (zmq_msg_data (topic), zmq_msg_size (topic)))
        return;
    if (!zg_redis_up (publisher) || zg_redis_buffered (publisher) > ZG_TOPICS_CLUSTER_MAX_BUFFERED) {
        self->dropped++;
        return;
    }
    sdssetlen (self->channel, self->channel_head);
    self->channel = sdscatlen (self->channel, zmq_msg_data (topic), zmq_msg_size (topic));
    const char *argv [] = { "PUBLISH", self->channel, (const char *) zmq_msg_data (payload) };
    size_t sizes [] = { 7, sdslen (self->channel), zmq_msg_size (payload) };
    if (zg_redis_command (publisher, 3, argv, sizes) == 0)
        self->sent++;
    else
        self->dropped++;
}

//  --------------------------------------------------------------------------
//  Local messages are waiting: PUBLISH them

void
zg_topics_cluster_handle_messages (zg_topics_cluster_t *self, zg_redis_t *publisher)
{
    assert (self);
    void *socket = zsock_resolve (self->messages);
    for (int count = 0; count < ZG_TOPICS_CLUSTER_BATCH; count++) {
        zmq_msg_t topic, payload;
        zmq_msg_init (&topic);
        if (zmq_msg_recv (&topic, socket, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&topic);
            break;
        }
        //  The topics actor sends [topic][payload], and a remembered
        //  topic's [count bound] for Redis to number it (zg_history_cluster)
        assert (zmq_msg_more (&topic));
        zmq_msg_init (&payload);
        zmq_msg_recv (&payload, socket, 0);
        if (zmq_msg_more (&payload)) {
            zmq_msg_t bound;
            zmq_msg_init (&bound);
            zmq_msg_recv (&bound, socket, 0);
            assert (!zmq_msg_more (&bound) && self->history);
            if (zg_history_cluster_publish (self->history, &topic, &payload, &bound) == 0)
                self->sent++;
            else
                self->dropped++;
            zmq_msg_close (&bound);
        }
        else
            s_publish (self, publisher, &topic, &payload);
        zmq_msg_close (&topic);
        zmq_msg_close (&payload);
    }
}

//  --------------------------------------------------------------------------
//  (Un)subscribe one connection to patterns for count prefixes

static void
s_subscribe (zg_topics_cluster_t *self, zg_redis_t *subscriber, bool subscribed, const char **prefixes,
             size_t count)
{
    const char *argv [ZG_TOPICS_CLUSTER_CHUNK + 1];
    size_t sizes [ZG_TOPICS_CLUSTER_CHUNK + 1];
    sds patterns [ZG_TOPICS_CLUSTER_CHUNK];
    assert (count <= ZG_TOPICS_CLUSTER_CHUNK);
    argv [0] = subscribed? "PSUBSCRIBE": "PUNSUBSCRIBE";
    sizes [0] = strlen (argv [0]);
    for (size_t index = 0; index < count; index++) {
        patterns [index] = s_escape (sdsdup (self->pattern_head), prefixes [index], strlen (prefixes [index]));
        patterns [index] = sdscatlen (patterns [index], "*", 1);
        argv [index + 1] = patterns [index];
        sizes [index + 1] = sdslen (patterns [index]);
    }
    zg_redis_command (subscriber, (int) count + 1, argv, sizes);
    for (size_t index = 0; index < count; index++)
        sdsfree (patterns [index]);
}

//  --------------------------------------------------------------------------
//  Prefix events are waiting: (un)subscribe every shard

void
zg_topics_cluster_handle_events (zg_topics_cluster_t *self, zg_redis_t **subscribers)
{
    assert (self);
    zframe_t *frame;
    while ((frame = zframe_recv_nowait (self->events))) {
        //  The topics actor sends [1 prefix] or [0 prefix]
        assert (zframe_size (frame) >= 1 && zframe_data (frame) [0] <= 1);
        bool subscribed = zframe_data (frame) [0] == 1;
        char *prefix = (char *) zmalloc (zframe_size (frame));
        memcpy (prefix, zframe_data (frame) + 1, zframe_size (frame) - 1);
        zframe_destroy (&frame);
        if (!s_reserved (prefix, strlen (prefix))) {
            if (subscribed)
                zhashx_insert (self->wanted, prefix, (void *) 1);
            else
                zhashx_delete (self->wanted, prefix);
            const char *prefixes [] = { prefix };
            for (size_t shard = 0; shard < self->shards; shard++)
                if (zg_redis_up (subscribers [shard]))
                    s_subscribe (self, subscribers [shard], subscribed, prefixes, 1);
        }
        free (prefix);
    }
}

//  --------------------------------------------------------------------------
//  A shard's subscriber connection is new: subscribe it to every prefix

void
zg_topics_cluster_resubscribe (zg_topics_cluster_t *self, size_t shard, zg_redis_t *subscriber)
{
    assert (self);
    assert (shard < self->shards);
    zhashx_purge (self->confirmed [shard]);
    const char *prefixes [ZG_TOPICS_CLUSTER_CHUNK];
    size_t count = 0;
    for (void *item = zhashx_first (self->wanted); item; item = zhashx_next (self->wanted)) {
        prefixes [count++] = (const char *) zhashx_cursor (self->wanted);
        if (count == ZG_TOPICS_CLUSTER_CHUNK) {
            s_subscribe (self, subscriber, true, prefixes, count);
            count = 0;
        }
    }
    if (count)
        s_subscribe (self, subscriber, true, prefixes, count);
}

//  --------------------------------------------------------------------------
//  The prefix a pattern of ours stands for, in self->scratch; -1 if the
//  pattern is not one of ours

static int
s_prefix_of (zg_topics_cluster_t *self, redisReply *pattern)
{
    size_t head = sdslen (self->pattern_head);
    if (pattern->type != REDIS_REPLY_STRING || pattern->len <= head || pattern->str [pattern->len - 1] != '*'
    ||  memcmp (pattern->str, self->pattern_head, head) != 0)
        return -1;
    sdsclear (self->scratch);
    for (size_t index = head; index < pattern->len - 1; index++) {
        if (pattern->str [index] == '\\' && index + 1 < pattern->len - 1)
            index++;
        self->scratch = sdscatlen (self->scratch, pattern->str + index, 1);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Whether a shorter confirmed prefix than length also matches the topic in
//  self->scratch (then that prefix's copy of the message is the one passed on)

static bool
s_shorter_match (zg_topics_cluster_t *self, size_t shard, size_t length)
{
    zhashx_t *confirmed = self->confirmed [shard];
    if (zhashx_size (confirmed) < 2)
        return false;
    bool found = false;
    for (size_t cut = 0; cut < length && !found; cut++) {
        char kept = self->scratch [cut];
        self->scratch [cut] = 0;
        found = zhashx_lookup (confirmed, self->scratch) != NULL;
        self->scratch [cut] = kept;
    }
    return found;
}

//  --------------------------------------------------------------------------
//  A message from Redis: pass it on once, unless it is our own

static void
s_deliver (zg_topics_cluster_t *self, size_t shard, redisReply *pattern, redisReply *channel,
           redisReply *payload)
{
    size_t base = sdslen (self->channel_base);
    size_t head = base + ZG_TOPICS_CLUSTER_NODE_SIZE + 1;
    if (s_prefix_of (self, pattern) || channel->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING
    ||  channel->len < head || channel->str [head - 1] != ':' || memcmp (channel->str, self->channel_base, base)
    ||  memchr (channel->str + head, 0, channel->len - head)) {
        self->malformed++;
        return;
    }
    if (memcmp (channel->str + base, self->node, ZG_TOPICS_CLUSTER_NODE_SIZE) == 0) {
        self->echoes++;
        return;
    }
    //  Redis numbered it (a remembered topic): "<seq> <epoch> <payload>"
    bool numbered = memcmp (channel->str + base, ZG_HISTORY_CLUSTER_NUMBERED, ZG_TOPICS_CLUSTER_NODE_SIZE) == 0;
    int mark = numbered? zg_history_cluster_split (payload->str, payload->len): 0;
    if (mark == -1) {
        self->malformed++;
        return;
    }
    size_t prefix_size = sdslen (self->scratch);
    const char *topic = channel->str + head;
    size_t topic_size = channel->len - head;
    if (topic_size < prefix_size || memcmp (topic, self->scratch, prefix_size)
    ||  s_reserved (topic, topic_size)) {
        self->malformed++;
        return;
    }
    sdsclear (self->scratch);
    self->scratch = sdscatlen (self->scratch, topic, topic_size);
    if (s_shorter_match (self, shard, prefix_size)) {
        self->duplicates++;
        return;
    }
    void *socket = zsock_resolve (self->messages);
    if (zmq_send (socket, topic, topic_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        self->refused++;
        return;
    }
    if (numbered) {
        zmq_send (socket, payload->str + mark + 1, payload->len - (size_t) mark - 1, ZMQ_SNDMORE);
        zmq_send (socket, payload->str, (size_t) mark, 0);
    }
    else
        zmq_send (socket, payload->str, payload->len, 0);
    self->received++;
}

//  --------------------------------------------------------------------------
//  A reply arrived on a shard's subscriber connection

void
zg_topics_cluster_handle_reply (zg_topics_cluster_t *self, size_t shard, redisReply *reply)
{
    assert (self);
    assert (shard < self->shards);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 || reply->element [0]->type != REDIS_REPLY_STRING) {
        self->malformed++;
        return;
    }
    const char *kind = reply->element [0]->str;
    if (streq (kind, "pmessage") && reply->elements == 4)
        s_deliver (self, shard, reply->element [1], reply->element [2], reply->element [3]);
    else
    if (streq (kind, "psubscribe") && s_prefix_of (self, reply->element [1]) == 0)
        zhashx_insert (self->confirmed [shard], self->scratch, (void *) 1);
    else
    if (streq (kind, "punsubscribe") && s_prefix_of (self, reply->element [1]) == 0)
        zhashx_delete (self->confirmed [shard], self->scratch);
    else
        self->malformed++;
}

//  --------------------------------------------------------------------------
//  Whether a prefix of topic that local subscribers hold is not confirmed
//  on a shard yet

bool
zg_topics_cluster_unconfirmed (zg_topics_cluster_t *self, size_t shard, const char *topic)
{
    assert (self && topic);
    assert (shard < self->shards);
    sdsclear (self->scratch);
    self->scratch = sdscat (self->scratch, topic);
    bool unconfirmed = false;
    for (size_t cut = 0; cut <= strlen (topic) && !unconfirmed; cut++) {
        char kept = self->scratch [cut];
        self->scratch [cut] = 0;
        unconfirmed = zhashx_lookup (self->wanted, self->scratch) && !zhashx_lookup (self->confirmed [shard], self->scratch);
        self->scratch [cut] = kept;
    }
    return unconfirmed;
}

//  --------------------------------------------------------------------------
//  Remembered topics' messages go to Redis to be numbered

void
zg_topics_cluster_set_history (zg_topics_cluster_t *self, zg_history_cluster_t *history)
{
    assert (self);
    self->history = history;
}

//  --------------------------------------------------------------------------
//  Prefixes a shard's subscriber connection has confirmed

size_t
zg_topics_cluster_confirmed (zg_topics_cluster_t *self, size_t shard)
{
    assert (self);
    assert (shard < self->shards);
    return zhashx_size (self->confirmed [shard]);
}

//  --------------------------------------------------------------------------
//  Add the bridge's counters to a STATS object

void
zg_topics_cluster_stats (zg_topics_cluster_t *self, json_object *root)
{
    assert (self);
    json_object *topics = json_object_new_object ();
    json_object_object_add (topics, "prefixes", json_object_new_uint64 (zhashx_size (self->wanted)));
    json_object_object_add (topics, "sent", json_object_new_uint64 (self->sent));
    json_object_object_add (topics, "dropped", json_object_new_uint64 (self->dropped));
    json_object_object_add (topics, "received", json_object_new_uint64 (self->received));
    json_object_object_add (topics, "refused", json_object_new_uint64 (self->refused));
    json_object_object_add (topics, "echoes", json_object_new_uint64 (self->echoes));
    json_object_object_add (topics, "duplicates", json_object_new_uint64 (self->duplicates));
    json_object_object_add (topics, "malformed", json_object_new_uint64 (self->malformed));
    json_object_object_add (root, "topics", topics);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Hand the bridge a reply made of string elements, as Redis sends it
static void
s_test_reply (zg_topics_cluster_t *bridge, const char **elements, size_t count)
{
    sds resp = sdscatprintf (sdsempty (), "*%zu\r\n", count);
    for (size_t index = 0; index < count; index++)
        resp = sdscatprintf (resp, "$%zu\r\n%s\r\n", strlen (elements [index]), elements [index]);
    redisReader *reader = redisReaderCreate ();
    assert (redisReaderFeed (reader, resp, sdslen (resp)) == REDIS_OK);
    void *reply = NULL;
    assert (redisReaderGetReply (reader, &reply) == REDIS_OK && reply);
    zg_topics_cluster_handle_reply (bridge, 0, (redisReply *) reply);
    freeReplyObject (reply);
    redisReaderFree (reader);
    sdsfree (resp);
}

//  A counter of the bridge's STATS
static uint64_t
s_test_counter (zg_topics_cluster_t *bridge, const char *name)
{
    json_object *root = json_object_new_object ();
    zg_topics_cluster_stats (bridge, root);
    uint64_t value = json_object_get_uint64 (json_object_object_get (json_object_object_get (root, "topics"), name));
    json_object_put (root);
    return value;
}

void
zg_topics_cluster_test (bool verbose)
{
    printf (" * zg_topics_cluster: ");
    //  @selftest
    zg_topics_cluster_t *bridge = zg_topics_cluster_new ("0123456789abcdef", "zg", 1);
    char error [256];
    assert (zg_topics_cluster_bind (bridge, "tcp://127.0.0.1:5555", error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_topics_cluster_bind (bridge, "inproc://zg-topics-cluster-test", error, sizeof error) == 0);
    //  The topics actor's side, as zg_topics_link connects it
    zsock_t *messages = zsock_new_pair (">inproc://zg-topics-cluster-test");
    zsock_t *events = zsock_new_pair (">inproc://zg-topics-cluster-test.events");
    zsock_set_rcvtimeo (messages, 100);

    //  Prefix events while Redis is out of reach: wanted, nothing sent
    char address [] = "127.0.0.1:1";
    zg_redis_t *redis = zg_redis_new (address, error, sizeof error);
    zg_redis_t *subscribers [] = { redis };
    zmq_send (zsock_resolve (events), "\001news", 5, 0);
    zmq_send (zsock_resolve (events), "\001$zgate.gateway.barrier", 23, 0);
    zmq_send (zsock_resolve (events), "\001gone", 5, 0);
    zmq_send (zsock_resolve (events), "\000gone", 5, 0);
    zclock_sleep (50);
    zg_topics_cluster_handle_events (bridge, subscribers);
    assert (s_test_counter (bridge, "prefixes") == 1);
    //  Local messages while Redis is out of reach are dropped; reserved
    //  topics are never sent
    zstr_sendx (messages, "news.a", "x", NULL);
    zstr_sendx (messages, "$zgate.gateway.barrier", "1", NULL);
    zclock_sleep (50);
    zg_topics_cluster_handle_messages (bridge, redis);
    assert (s_test_counter (bridge, "dropped") == 1);
    assert (s_test_counter (bridge, "sent") == 0);
    zg_redis_destroy (&redis);

    //  Confirmed prefixes come from Redis' answers, escapes undone
    const char *news [] = { "psubscribe", "zg:t:????????????????:news*", "1" };
    const char *news_a [] = { "psubscribe", "zg:t:????????????????:news.a*", "2" };
    const char *glob [] = { "psubscribe", "zg:t:????????????????:a\\*\\?b*", "3" };
    s_test_reply (bridge, news, 3);
    s_test_reply (bridge, news_a, 3);
    s_test_reply (bridge, glob, 3);
    assert (zg_topics_cluster_confirmed (bridge, 0) == 3);

    //  A message that two patterns matched goes on once: with the shortest
    const char *by_news [] = { "pmessage", "zg:t:????????????????:news*", "zg:t:fedcba9876543210:news.a.1", "m1" };
    const char *by_news_a [] = { "pmessage", "zg:t:????????????????:news.a*", "zg:t:fedcba9876543210:news.a.1", "m1" };
    s_test_reply (bridge, by_news_a, 4);
    s_test_reply (bridge, by_news, 4);
    char *topic = NULL, *payload = NULL;
    assert (zstr_recvx (messages, &topic, &payload, NULL) == 2);
    assert (streq (topic, "news.a.1") && streq (payload, "m1"));
    zstr_free (&topic);
    zstr_free (&payload);
    assert (zstr_recv (messages) == NULL);
    assert (s_test_counter (bridge, "duplicates") == 1);
    assert (s_test_counter (bridge, "received") == 1);
    //  A glob character in a prefix
    const char *by_glob [] = { "pmessage", "zg:t:????????????????:a\\*\\?b*", "zg:t:fedcba9876543210:a*?bc", "g" };
    s_test_reply (bridge, by_glob, 4);
    assert (zstr_recvx (messages, &topic, &payload, NULL) == 2);
    assert (streq (topic, "a*?bc"));
    zstr_free (&topic);
    zstr_free (&payload);
    //  Our own messages come back and are skipped
    const char *own [] = { "pmessage", "zg:t:????????????????:news*", "zg:t:0123456789abcdef:news.b", "m" };
    s_test_reply (bridge, own, 4);
    assert (s_test_counter (bridge, "echoes") == 1);
    //  Once news is gone, news.a's copy is the one passed on
    const char *unnews [] = { "punsubscribe", "zg:t:????????????????:news*", "2" };
    s_test_reply (bridge, unnews, 3);
    assert (zg_topics_cluster_confirmed (bridge, 0) == 2);
    s_test_reply (bridge, by_news_a, 4);
    assert (zstr_recvx (messages, &topic, &payload, NULL) == 2);
    assert (streq (topic, "news.a.1"));
    zstr_free (&topic);
    zstr_free (&payload);
    assert (s_test_counter (bridge, "received") == 3);

    //  What is not in our form is counted and dropped
    const char *foreign [] = { "pmessage", "other*", "other.x", "m" };
    const char *short_channel [] = { "pmessage", "zg:t:????????????????:news.a*", "zg:t:abc", "m" };
    const char *reserved [] = { "pmessage", "zg:t:????????????????:*", "zg:t:fedcba9876543210:$zgate.x", "m" };
    const char *mismatch [] = { "pmessage", "zg:t:????????????????:news.a*", "zg:t:fedcba9876543210:sports", "m" };
    const char *stranger [] = { "message", "zg:t:x", "m" };
    s_test_reply (bridge, foreign, 4);
    s_test_reply (bridge, short_channel, 4);
    s_test_reply (bridge, reserved, 4);
    s_test_reply (bridge, mismatch, 4);
    s_test_reply (bridge, stranger, 3);
    assert (s_test_counter (bridge, "malformed") == 5);
    assert (zstr_recv (messages) == NULL);
    assert (s_test_counter (bridge, "received") == 3);

    zsock_destroy (&messages);
    zsock_destroy (&events);
    zg_topics_cluster_destroy (&bridge);
    assert (bridge == NULL);
    //  @end
    printf ("OK\n");
}
