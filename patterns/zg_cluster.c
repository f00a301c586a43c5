/*  =========================================================================
    zg_cluster - the cluster actor: one zgate node's connections to Redis

    One thread polls the pipe, the bridges' inproc sockets and the fds of
    the Redis connections (zmq_poll takes plain fds beside zsocks), so
    nothing here blocks: the connections write and read only what the
    kernel is ready for. A node's id is random at each start; it names the
    node's messages in Redis, so the node knows its own when they come back.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_redis.h"
#include "zg_redis_ring.h"
#include "zg_redis_server.h"
#include "zg_topics_cluster.h"
#include "zg_queues_cluster.h"
#include "zg_rooms_cluster.h"
#include "zg_history_cluster.h"

//  Longest poll, ms (the connections' timers are usually sooner)
#define ZG_CLUSTER_TICK 1000
//  Separators of the addresses in cluster/redis
#define ZG_CLUSTER_SEPARATORS " \t,"

typedef struct {
    int64_t verbose;                //  Log decisions
    int64_t connect_timeout;        //  Longest connect, ms
    int64_t timeout;                //  Longest silence of a Redis that owes an answer, ms
    int64_t reconnect_max;          //  Longest wait between reconnection attempts, ms
    int64_t node_timeout;           //  Silence after which other nodes take a node for dead, ms
} s_settings_t;

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (s_settings_t, verbose), 0, 1 },
    { "connect-timeout", offsetof (s_settings_t, connect_timeout), 10, 60000 },
    { "timeout", offsetof (s_settings_t, timeout), 30, 600000 },
    { "reconnect-max", offsetof (s_settings_t, reconnect_max), 100, 600000 },
    { "node-timeout", offsetof (s_settings_t, node_timeout), 300, 600000 },
    { NULL }
};

//  One Redis shard: a plain connection and a subscriber's
typedef struct {
    zg_redis_t *plain;              //  Commands (PUBLISH)
    zg_redis_t *subscriber;         //  PSUBSCRIBE and the messages it brings
    uint64_t subscriber_connects;   //  Its connections seen so far
} s_shard_t;

typedef struct {
    zsock_t *pipe;                  //  Actor command pipe
    s_settings_t settings;          //  Current settings
    char *key_prefix;               //  Of every key and channel
    char node [ZG_TOPICS_CLUSTER_NODE_SIZE + 1];   //  This node's id
    zg_redis_ring_t *ring;          //  Names to shards
    s_shard_t *shards;              //  The shards, in ring index order
    size_t shard_count;             //  0: a node alone
    size_t home;                    //  Shard this node publishes on
    zg_redis_t **subscribers;       //  Each shard's subscriber connection
    zg_redis_t **plains;            //  Each shard's plain connection
    zg_topics_cluster_t *topics;    //  Topics bridge (cluster mode only)
    zg_queues_cluster_t *queues;    //  Queues bridge (cluster mode only)
    zg_rooms_cluster_t *rooms;      //  Rooms bridge, with connections of its own (cluster mode only)
    zg_history_cluster_t *history;  //  Remembered topics in Redis (cluster mode only)
    zmq_pollitem_t *items;          //  Poll set: pipe, bridge sockets, connections
    uint64_t redis_errors;          //  Error replies to our commands
    bool terminated;                //  $TERM received
} self_t;

//  Poll items before the connections' fds
#define ZG_CLUSTER_FIXED_ITEMS 4

//  --------------------------------------------------------------------------

static self_t *
s_self_new (zsock_t *pipe)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    zg_actor_defaults (s_int_settings, &self->settings, "cluster");
    //  The embedded config/zgate.cfg is the one source of defaults
    self->key_prefix = strdup (zg_actor_default ("cluster/key-prefix"));
    zuuid_t *uuid = zuuid_new ();
    memcpy (self->node, zuuid_str (uuid), ZG_TOPICS_CLUSTER_NODE_SIZE);
    for (char *character = self->node; *character; character++)
        *character = (char) tolower ((unsigned char) *character);
    zuuid_destroy (&uuid);
    self->ring = zg_redis_ring_new ();
    self->items = (zmq_pollitem_t *) zmalloc (ZG_CLUSTER_FIXED_ITEMS * sizeof (zmq_pollitem_t));
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_destroy (&self->shards [shard].plain);
        zg_redis_destroy (&self->shards [shard].subscriber);
    }
    free (self->shards);
    free (self->subscribers);
    free (self->plains);
    zg_history_cluster_destroy (&self->history);
    zg_topics_cluster_destroy (&self->topics);
    zg_queues_cluster_destroy (&self->queues);
    zg_rooms_cluster_destroy (&self->rooms);
    zg_redis_ring_destroy (&self->ring);
    free (self->items);
    free (self->key_prefix);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Give every connection the timeouts

static void
s_self_apply_timeouts (self_t *self)
{
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_set_timeouts (self->shards [shard].plain, self->settings.connect_timeout,
                               self->settings.timeout, self->settings.reconnect_max);
        zg_redis_set_timeouts (self->shards [shard].subscriber, self->settings.connect_timeout,
                               self->settings.timeout, self->settings.reconnect_max);
    }
    if (self->queues)
        zg_queues_cluster_set_timeouts (self->queues, self->settings.connect_timeout, self->settings.timeout,
                                        self->settings.reconnect_max);
    if (self->rooms)
        zg_rooms_cluster_set_timeouts (self->rooms, self->settings.connect_timeout, self->settings.timeout,
                                       self->settings.reconnect_max, self->settings.node_timeout);
}

//  --------------------------------------------------------------------------
//  Check the addresses of cluster/redis: each host:port, none twice.
//  Returns how many there are, or -1 with a reason

static int
s_check_addresses (const char *value, char *error, size_t size)
{
    zg_redis_ring_t *ring = zg_redis_ring_new ();
    char *copy = strdup (value);
    char *state = NULL;
    int count = 0;
    for (char *address = strtok_r (copy, ZG_CLUSTER_SEPARATORS, &state); address && count >= 0;
         address = strtok_r (NULL, ZG_CLUSTER_SEPARATORS, &state)) {
        zg_redis_t *redis = zg_redis_new (address, error, size);
        if (!redis)
            count = -1;
        else
        if (zg_redis_ring_add (ring, address) == -1) {
            snprintf (error, size, "the Redis address '%s' is listed twice", address);
            count = -1;
        }
        else
            count++;
        zg_redis_destroy (&redis);
    }
    free (copy);
    zg_redis_ring_destroy (&ring);
    return count;
}

//  --------------------------------------------------------------------------
//  A history read waits while its topic's subscriptions are unconfirmed

static bool
s_unconfirmed (void *topics, size_t shard, const char *topic)
{
    return zg_topics_cluster_unconfirmed ((zg_topics_cluster_t *) topics, shard, topic);
}

//  --------------------------------------------------------------------------
//  cluster/redis: the shards (once; empty leaves the node alone)

static int
s_self_set_redis (self_t *self, const char *value, char *error, size_t size)
{
    int count = s_check_addresses (value, error, size);
    if (count <= 0)
        return count;
    if (self->shard_count) {
        snprintf (error, size, "the Redis servers are set already (they change on a restart only)");
        return -1;
    }
    self->shard_count = (size_t) count;
    self->shards = (s_shard_t *) zmalloc (self->shard_count * sizeof (s_shard_t));
    self->subscribers = (zg_redis_t **) zmalloc (self->shard_count * sizeof (zg_redis_t *));
    self->plains = (zg_redis_t **) zmalloc (self->shard_count * sizeof (zg_redis_t *));
    char *copy = strdup (value);
    char *state = NULL;
    for (char *address = strtok_r (copy, ZG_CLUSTER_SEPARATORS, &state); address;
         address = strtok_r (NULL, ZG_CLUSTER_SEPARATORS, &state)) {
        size_t shard = (size_t) zg_redis_ring_add (self->ring, address);
        self->shards [shard].plain = zg_redis_new (address, error, size);
        self->shards [shard].subscriber = zg_redis_new (address, error, size);
        zg_redis_set_subscriber (self->shards [shard].subscriber);
        self->subscribers [shard] = self->shards [shard].subscriber;
        self->plains [shard] = self->shards [shard].plain;
    }
    free (copy);
    const char **addresses = (const char **) zmalloc (self->shard_count * sizeof (char *));
    for (size_t shard = 0; shard < self->shard_count; shard++)
        addresses [shard] = zg_redis_address (self->shards [shard].plain);
    self->queues = zg_queues_cluster_new (self->node, self->key_prefix, self->ring, addresses, self->shard_count);
    self->rooms = zg_rooms_cluster_new (self->node, self->key_prefix, addresses, self->shard_count, self->ring);
    free (addresses);
    s_self_apply_timeouts (self);
    self->home = zg_redis_ring_pick (self->ring, self->node, strlen (self->node));
    self->topics = zg_topics_cluster_new (self->node, self->key_prefix, self->shard_count);
    self->history = zg_history_cluster_new (self->key_prefix, self->ring, self->plains, self->shard_count,
                                            s_unconfirmed, self->topics);
    zg_topics_cluster_set_history (self->topics, self->history);
    self->items = (zmq_pollitem_t *) realloc (self->items, (ZG_CLUSTER_FIXED_ITEMS + 2 * self->shard_count
                                                            + zg_queues_cluster_items (self->queues)
                                                            + ZG_ROOMS_CLUSTER_ITEMS (self->shard_count))
                                                            * sizeof (zmq_pollitem_t));
    assert (self->items);
    zsys_info ("zg_cluster: node %s on %zu Redis shard%s (%s)", self->node, self->shard_count,
               self->shard_count == 1? "": "s", value);
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply one setting

static int
s_self_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "redis"))
        return s_self_set_redis (self, value, error, size);
    if (streq (key, "key-prefix")) {
        if (!*value || self->shard_count) {
            snprintf (error, size, *value? "key-prefix must come before redis (it changes on a restart only)"
                                         : "key-prefix may not be empty");
            return -1;
        }
        free (self->key_prefix);
        self->key_prefix = strdup (value);
        return 0;
    }
    if (streq (key, "inproc-topics"))
        //  A node alone has no bridge, and zgate does not link its topics
        return !self->topics? 0: zg_topics_cluster_bind (self->topics, value, error, size)
                              || zg_history_cluster_bind (self->history, value, error, size)? -1: 0;
    if (streq (key, "inproc-queues"))
        return self->queues? zg_queues_cluster_bind (self->queues, value, error, size): 0;
    if (streq (key, "inproc-rooms"))
        return self->rooms? zg_rooms_cluster_bind (self->rooms, value, error, size): 0;
    int rc = zg_actor_set_int (s_int_settings, &self->settings, key, value, error, size);
    if (rc == 0)
        s_self_apply_timeouts (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  Every connection is up (a node alone is always healthy)

static bool
s_self_healthy (self_t *self)
{
    for (size_t shard = 0; shard < self->shard_count; shard++)
        if (!zg_redis_up (self->shards [shard].plain) || !zg_redis_up (self->shards [shard].subscriber))
            return false;
    return (!self->queues || zg_queues_cluster_healthy (self->queues))
        && (!self->rooms || zg_rooms_cluster_healthy (self->rooms));
}

//  --------------------------------------------------------------------------
//  STATS as a JSON object

static json_object *
s_self_stats (self_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "enabled", json_object_new_boolean (self->shard_count > 0));
    json_object_object_add (root, "healthy", json_object_new_boolean (s_self_healthy (self)));
    json_object_object_add (root, "node", json_object_new_string (self->node));
    json_object_object_add (root, "redis-errors", json_object_new_uint64 (self->redis_errors));
    json_object *shards = json_object_new_array ();
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        s_shard_t *entry = &self->shards [shard];
        json_object *item = json_object_new_object ();
        json_object_object_add (item, "address", json_object_new_string (zg_redis_address (entry->plain)));
        json_object_object_add (item, "up", json_object_new_boolean (zg_redis_up (entry->plain)
                                                                     && zg_redis_up (entry->subscriber)));
        json_object_object_add (item, "error", json_object_new_string (zg_redis_error (entry->plain)));
        json_object_object_add (item, "connects", json_object_new_uint64 (zg_redis_connects (entry->plain)));
        //  A lost connection's subscriptions are gone with it
        size_t prefixes = zg_redis_up (entry->subscriber)? zg_topics_cluster_confirmed (self->topics, shard): 0;
        json_object_object_add (item, "prefixes", json_object_new_uint64 (prefixes));
        json_object_array_add (shards, item);
    }
    json_object_object_add (root, "shards", shards);
    if (self->topics) {
        zg_topics_cluster_stats (self->topics, root);
        zg_history_cluster_stats (self->history, root);
    }
    if (self->queues)
        zg_queues_cluster_stats (self->queues, root);
    if (self->rooms)
        zg_rooms_cluster_stats (self->rooms, root);
    return root;
}

static const zg_actor_handlers_t s_handlers = {
    "zg_cluster", (zg_actor_set_fn *) s_self_set, (zg_actor_stats_fn *) s_self_stats, NULL
};

//  --------------------------------------------------------------------------
//  Fill the poll set; returns its size and sets the wait in ms

static int
s_self_poll_set (self_t *self, int64_t now, long *wait)
{
    memset (self->items, 0, ZG_CLUSTER_FIXED_ITEMS * sizeof (zmq_pollitem_t));
    self->items [0].socket = zsock_resolve (self->pipe);
    self->items [0].events = ZMQ_POLLIN;
    if (!self->shard_count) {
        *wait = -1;
        return 1;
    }
    self->items [1].socket = zsock_resolve (zg_topics_cluster_messages (self->topics));
    self->items [1].events = ZMQ_POLLIN;
    self->items [2].socket = zsock_resolve (zg_topics_cluster_events (self->topics));
    self->items [2].events = ZMQ_POLLIN;
    self->items [3].socket = zsock_resolve (zg_history_cluster_socket (self->history));
    self->items [3].events = ZMQ_POLLIN;
    int64_t next = now + ZG_CLUSTER_TICK;
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        zg_redis_t *connections [] = { self->shards [shard].plain, self->shards [shard].subscriber };
        for (int index = 0; index < 2; index++) {
            zg_redis_tick (connections [index], now);
            zg_redis_poll_item (connections [index], &self->items [ZG_CLUSTER_FIXED_ITEMS + 2 * shard + (size_t) index]);
            int64_t tick = zg_redis_next_tick (connections [index]);
            next = tick < next? tick: next;
        }
    }
    zg_queues_cluster_poll_items (self->queues, &self->items [ZG_CLUSTER_FIXED_ITEMS + 2 * self->shard_count], now,
                                  &next);
    size_t rooms = ZG_CLUSTER_FIXED_ITEMS + 2 * self->shard_count + zg_queues_cluster_items (self->queues);
    zg_rooms_cluster_poll_items (self->rooms, &self->items [rooms], now, &next);
    *wait = next > now? (long) (next - now): 0;
    return (int) (rooms + ZG_ROOMS_CLUSTER_ITEMS (self->shard_count));
}

//  --------------------------------------------------------------------------
//  Read and write what the connections are ready for, and take the replies

static void
s_self_handle_redis (self_t *self, int64_t now)
{
    for (size_t shard = 0; shard < self->shard_count; shard++) {
        s_shard_t *entry = &self->shards [shard];
        zmq_pollitem_t *items = &self->items [ZG_CLUSTER_FIXED_ITEMS + 2 * shard];
        if (items [0].revents)
            zg_redis_handle (entry->plain, items [0].revents, now);
        if (items [1].revents)
            zg_redis_handle (entry->subscriber, items [1].revents, now);
        redisReply *reply;
        while ((reply = zg_redis_reply (entry->plain))) {
            if (zg_history_cluster_reply (self->history, shard, reply))
                continue;
            if (reply->type == REDIS_REPLY_ERROR && self->redis_errors++ == 0)
                zsys_warning ("zg_cluster: %s answered %s", zg_redis_address (entry->plain), reply->str);
            freeReplyObject (reply);
        }
        if (zg_redis_connects (entry->subscriber) != entry->subscriber_connects) {
            entry->subscriber_connects = zg_redis_connects (entry->subscriber);
            zg_topics_cluster_resubscribe (self->topics, shard, entry->subscriber);
        }
        while ((reply = zg_redis_reply (entry->subscriber))) {
            zg_topics_cluster_handle_reply (self->topics, shard, reply);
            freeReplyObject (reply);
        }
    }
}

//  --------------------------------------------------------------------------
//  The actor

void
zg_cluster (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = s_self_new (pipe);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        long wait;
        int count = s_self_poll_set (self, zclock_mono (), &wait);
        if (zg_actor_poll (self->items, count, wait) == -1)
            break;              //  Context terminated
        if (self->items [0].revents & ZMQ_POLLIN) {
            //  A new setting may change the poll set: build it again
            self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
            continue;
        }
        if (count == 1)
            continue;
        s_self_handle_redis (self, zclock_mono ());
        if (self->items [2].revents & ZMQ_POLLIN)
            zg_topics_cluster_handle_events (self->topics, self->subscribers);
        //  After the events: a read waits for the subscriptions they ask for
        if (self->items [3].revents & ZMQ_POLLIN)
            zg_history_cluster_handle (self->history);
        zg_history_cluster_tick (self->history, zclock_mono ());
        if (self->items [1].revents & ZMQ_POLLIN)
            zg_topics_cluster_handle_messages (self->topics, self->shards [self->home].plain);
        size_t queues = ZG_CLUSTER_FIXED_ITEMS + 2 * self->shard_count;
        zg_queues_cluster_handle (self->queues, &self->items [queues], zclock_mono ());
        zg_rooms_cluster_handle (self->rooms, &self->items [queues + zg_queues_cluster_items (self->queues)],
                                 zclock_mono ());
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A node: a topics actor linked to a cluster actor
typedef struct {
    zactor_t *topics;
    zactor_t *cluster;
    char subscribers [64];          //  Its topics' XPUB endpoint
    char publishers [64];           //  Its topics' XSUB endpoint
} s_test_node_t;

static void
s_test_node_start (s_test_node_t *node, const char *name, const char *redis)
{
    char error [256], link [64];
    snprintf (node->subscribers, sizeof node->subscribers, "inproc://zg-cluster-test-%s-sub", name);
    snprintf (node->publishers, sizeof node->publishers, "inproc://zg-cluster-test-%s-pub", name);
    snprintf (link, sizeof link, "inproc://zg-cluster-test-%s", name);
    node->cluster = zactor_new (zg_cluster, NULL);
    assert (zg_actor_set (node->cluster, "key-prefix", "zg*test", error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "timeout", "600", error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "reconnect-max", "200", error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "redis", redis, error, sizeof error) == 0);
    assert (zg_actor_set (node->cluster, "inproc-topics", link, error, sizeof error) == 0);
    node->topics = zg_topics_new (NULL, NULL);
    assert (zg_actor_set (node->topics, "subscribers", node->subscribers, error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "publishers", node->publishers, error, sizeof error) == 0);
    assert (zg_actor_set (node->topics, "cluster", link, error, sizeof error) == 0);
}

static void
s_test_node_stop (s_test_node_t *node)
{
    zactor_destroy (&node->topics);
    zactor_destroy (&node->cluster);
}

//  A field of a node's cluster STATS, by a path of keys ("shards" then an
//  index is the first shard's); -1 if it is not a number or boolean
static int64_t
s_test_stat (zactor_t *cluster, const char *group, const char *field)
{
    char *text = zg_actor_stats (cluster);
    json_object *root = json_tokener_parse (text);
    zstr_free (&text);
    json_object *object = root;
    if (group && streq (group, "shards"))
        object = json_object_array_get_idx (json_object_object_get (root, "shards"), 0);
    else
    if (group)
        object = json_object_object_get (root, group);
    json_object *value = object? json_object_object_get (object, field): NULL;
    int64_t result = value && (json_object_is_type (value, json_type_int)
                           ||  json_object_is_type (value, json_type_boolean))? json_object_get_int64 (value): -1;
    json_object_put (root);
    return result;
}

//  Wait until a cluster stat has a value; returns whether it got there
static bool
s_test_wait_stat (zactor_t *cluster, const char *group, const char *field, int64_t value)
{
    for (int attempt = 0; attempt < 300; attempt++) {
        if (s_test_stat (cluster, group, field) == value)
            return true;
        zclock_sleep (10);
    }
    return false;
}

//  Take what a subscriber has until it gets nothing for 200 ms
static void
s_test_drain (zsock_t *subscriber)
{
    zsock_set_rcvtimeo (subscriber, 200);
    zmsg_t *msg;
    while ((msg = zmsg_recv (subscriber)))
        zmsg_destroy (&msg);
    zsock_set_rcvtimeo (subscriber, 2000);
}

//  Publish probes on a topic until a subscriber gets one
static void
s_test_reach (zsock_t *publisher, const char *topic, zsock_t *subscriber)
{
    zsock_set_rcvtimeo (subscriber, 20);
    zmsg_t *msg = NULL;
    for (int attempt = 0; attempt < 250 && !msg; attempt++) {
        zstr_sendx (publisher, topic, "probe", NULL);
        msg = zmsg_recv (subscriber);
    }
    assert (msg);
    zmsg_destroy (&msg);
    zsock_set_rcvtimeo (subscriber, 2000);
}

//  Receive count messages numbered from 0 on a topic prefix, in order;
//  then nothing more for a moment
static void
s_test_receive_all (zsock_t *subscriber, const char *prefix, int count)
{
    for (int index = 0; index < count; index++) {
        char *topic = NULL, *payload = NULL;
        assert (zstr_recvx (subscriber, &topic, &payload, NULL) == 2);
        assert (strncmp (topic, prefix, strlen (prefix)) == 0);
        assert (atoi (payload) == index);
        zstr_free (&topic);
        zstr_free (&payload);
    }
    zsock_set_rcvtimeo (subscriber, 100);
    zmsg_t *extra = zmsg_recv (subscriber);
    assert (extra == NULL);
    zsock_set_rcvtimeo (subscriber, 2000);
}

//  Publish count numbered messages on a topic
static void
s_test_publish (zsock_t *publisher, const char *topic, int count)
{
    for (int index = 0; index < count; index++) {
        char payload [16];
        snprintf (payload, sizeof payload, "%d", index);
        zstr_sendx (publisher, topic, payload, NULL);
    }
}

void
zg_cluster_test (bool verbose)
{
    printf (" * zg_cluster: ");
    //  @selftest
    //  Settings: a node alone, and the errors that change nothing
    zactor_t *alone = zactor_new (zg_cluster, NULL);
    char error [256];
    assert (zg_actor_set (alone, "redis", "", error, sizeof error) == 0);
    assert (zg_actor_set (alone, "inproc-topics", "inproc://zg-cluster-test-alone", error, sizeof error) == 0);
    assert (zg_actor_set (alone, "redis", "localhost", error, sizeof error) == -1);
    assert (strstr (error, "not a Redis address"));
    assert (zg_actor_set (alone, "redis", "127.0.0.1:7001, 127.0.0.1:7001", error, sizeof error) == -1);
    assert (strstr (error, "listed twice"));
    assert (zg_actor_set (alone, "key-prefix", "", error, sizeof error) == -1);
    assert (zg_actor_set (alone, "timeout", "0", error, sizeof error) == -1);
    assert (zg_actor_set (alone, "no-such-key", "1", error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (s_test_stat (alone, NULL, "enabled") == 0);
    assert (s_test_stat (alone, NULL, "healthy") == 1);
    zactor_destroy (&alone);
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED the nodes: no redis-server on PATH (Debian's redis-server package)\n");
        return;
    }
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);

    //  Two nodes on one Redis; the key prefix has a glob character
    s_test_node_t node_a, node_b;
    s_test_node_start (&node_a, "a", zg_redis_server_address (server));
    s_test_node_start (&node_b, "b", zg_redis_server_address (server));
    assert (zg_actor_set (node_a.cluster, "key-prefix", "other", error, sizeof error) == -1);
    assert (zg_actor_set (node_a.cluster, "redis", zg_redis_server_address (server), error, sizeof error) == -1);
    assert (s_test_wait_stat (node_a.cluster, NULL, "healthy", 1));
    assert (s_test_wait_stat (node_b.cluster, NULL, "healthy", 1));
    assert (s_test_stat (node_a.cluster, NULL, "enabled") == 1);

    //  Subscribers on B with overlapping prefixes and a glob character; one
    //  on A, the publishers' node
    zsock_t *news_b = zsock_new (ZMQ_SUB);
    zsock_t *news_a_b = zsock_new (ZMQ_SUB);
    zsock_t *glob_b = zsock_new (ZMQ_SUB);
    zsock_t *news_a = zsock_new (ZMQ_SUB);
    zsock_t *publisher = zsock_new (ZMQ_PUB);
    zsock_set_subscribe (news_b, "news.");
    zsock_set_subscribe (news_a_b, "news.a");
    zsock_set_subscribe (glob_b, "a*b");
    zsock_set_subscribe (news_a, "news.");
    assert (zsock_connect (news_b, "%s", node_b.subscribers) == 0);
    assert (zsock_connect (news_a_b, "%s", node_b.subscribers) == 0);
    assert (zsock_connect (glob_b, "%s", node_b.subscribers) == 0);
    assert (zsock_connect (news_a, "%s", node_a.subscribers) == 0);
    assert (zsock_connect (publisher, "%s", node_a.publishers) == 0);
    assert (news_b && news_a_b && glob_b && news_a && publisher);
    assert (s_test_wait_stat (node_b.cluster, "shards", "prefixes", 3));
    assert (s_test_wait_stat (node_a.cluster, "shards", "prefixes", 1));
    s_test_reach (publisher, "news.a.probe", news_a_b);
    s_test_reach (publisher, "news.probe", news_b);
    s_test_reach (publisher, "news.probe", news_a);
    s_test_reach (publisher, "a*b.probe", glob_b);
    zsock_t *all [] = { news_b, news_a_b, glob_b, news_a };
    for (int index = 0; index < 4; index++)
        s_test_drain (all [index]);

    //  Every subscriber gets every message once, in publish order
    int64_t duplicates = s_test_stat (node_b.cluster, "topics", "duplicates");
    s_test_publish (publisher, "news.a.x", 1000);
    s_test_receive_all (news_b, "news.a.x", 1000);
    s_test_receive_all (news_a_b, "news.a.x", 1000);
    s_test_receive_all (news_a, "news.a.x", 1000);
    //  B received each once though two of its patterns matched; A skipped
    //  its own
    assert (s_test_stat (node_b.cluster, "topics", "duplicates") - duplicates == 1000);
    assert (s_test_stat (node_a.cluster, "topics", "echoes") >= 1000);
    //  Glob characters in a prefix stand for themselves
    zstr_sendx (publisher, "axbc", "0", NULL);
    zstr_sendx (publisher, "a*bc", "0", NULL);
    s_test_receive_all (glob_b, "a*bc", 1);
    //  Reserved topics stay on their node
    int64_t sent = s_test_stat (node_a.cluster, "topics", "sent");
    zstr_sendx (publisher, "$zgate.x", "0", NULL);
    zstr_sendx (publisher, "news.last", "0", NULL);
    s_test_receive_all (news_b, "news.last", 1);
    assert (s_test_stat (node_a.cluster, "topics", "sent") == sent + 1);

    //  Redis restarts: both nodes are unhealthy meanwhile, then subscribe
    //  again, and messages flow as before
    zg_redis_server_stop (server);
    assert (s_test_wait_stat (node_a.cluster, NULL, "healthy", 0));
    assert (s_test_wait_stat (node_b.cluster, NULL, "healthy", 0));
    assert (zg_redis_server_start (server) == 0);
    assert (s_test_wait_stat (node_a.cluster, NULL, "healthy", 1));
    assert (s_test_wait_stat (node_b.cluster, NULL, "healthy", 1));
    assert (s_test_wait_stat (node_b.cluster, "shards", "prefixes", 3));
    s_test_reach (publisher, "news.probe", news_b);
    for (int index = 0; index < 4; index++)
        s_test_drain (all [index]);
    s_test_publish (publisher, "news.a.y", 100);
    s_test_receive_all (news_b, "news.a.y", 100);
    s_test_receive_all (news_a_b, "news.a.y", 100);

    //  B's last subscribers go: B unsubscribes in Redis
    zsock_destroy (&news_b);
    zsock_destroy (&news_a_b);
    zsock_destroy (&glob_b);
    assert (s_test_wait_stat (node_b.cluster, "shards", "prefixes", 0));
    assert (s_test_wait_stat (node_b.cluster, "topics", "prefixes", 0));

    zsock_destroy (&publisher);
    zsock_destroy (&news_a);
    s_test_node_stop (&node_a);
    s_test_node_stop (&node_b);
    zg_redis_server_destroy (&server);
    //  @end
    printf ("OK\n");
}
