/*  =========================================================================
    zg_topics_cluster - topics across nodes: the bridge between one node's
    topics actor and Redis pub/sub

    Private to the cluster actor (zg_cluster), which owns the Redis
    connections and runs this in its thread. Its other side is the topics
    actor's zg_topics_link (the two inproc PAIRs it binds).

    A message a local publisher sent is PUBLISHed on the channel
    "<key-prefix>:t:<node>:<topic>", where node is this node's 16-character
    id, always on the same shard (the node's own, by consistent hashing of
    its id): one connection to one Redis keeps each publisher's order
    across all its topics, as ZeroMQ does. Every subscription prefix that a
    local subscriber holds is one PSUBSCRIBE, on every shard, of
    "<key-prefix>:t:????????????????:<prefix>*" (glob characters * ? [ \ of
    the prefix escaped); a message that arrives from Redis goes to the
    topics actor, which hands it to the local subscribers only. The node
    drops its own messages as they come back (by the id in the channel),
    and when several of its patterns match one message, only the shortest
    prefix's copy goes on: the prefixes confirmed on each connection are
    known exactly at every point of its stream (Redis answers PSUBSCRIBE and
    PUNSUBSCRIBE in the same stream as the messages), so every message
    reaches each node once.

    Reserved "$zgate." topics (the gateway's probes) stay on their node.
    While Redis is out of reach, or a backlog of 64 MiB waits to be written,
    local messages are not sent to other nodes (counted as dropped).
    =========================================================================
*/

#ifndef ZG_TOPICS_CLUSTER_H_INCLUDED
#define ZG_TOPICS_CLUSTER_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_redis.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Length of a node id, in characters
#define ZG_TOPICS_CLUSTER_NODE_SIZE 16

typedef struct _zg_topics_cluster_t zg_topics_cluster_t;

//  Create the bridge of a node (its id, ZG_TOPICS_CLUSTER_NODE_SIZE
//  characters) over shards Redis shards, using keys and channels that
//  start with key_prefix
zg_topics_cluster_t *
    zg_topics_cluster_new (const char *node, const char *key_prefix, size_t shards);

//  Destroy the bridge
void
    zg_topics_cluster_destroy (zg_topics_cluster_t **self_p);

//  Bind the link's endpoint (inproc) and its ".events" twin. Returns 0, or
//  -1 with a reason
int
    zg_topics_cluster_bind (zg_topics_cluster_t *self, const char *endpoint, char *error, size_t size);

//  The link's messages socket and events socket, to poll
zsock_t *
    zg_topics_cluster_messages (zg_topics_cluster_t *self);
zsock_t *
    zg_topics_cluster_events (zg_topics_cluster_t *self);

//  Local messages are waiting: PUBLISH them on publisher (this node's shard)
void
    zg_topics_cluster_handle_messages (zg_topics_cluster_t *self, zg_redis_t *publisher);

//  Prefix events are waiting: (un)subscribe each shard's subscriber
//  connection (an array of shards, those down catch up when they are back)
void
    zg_topics_cluster_handle_events (zg_topics_cluster_t *self, zg_redis_t **subscribers);

//  A shard's subscriber connection is new: subscribe it to every prefix
void
    zg_topics_cluster_resubscribe (zg_topics_cluster_t *self, size_t shard, zg_redis_t *subscriber);

//  A reply arrived on a shard's subscriber connection (the caller frees it)
void
    zg_topics_cluster_handle_reply (zg_topics_cluster_t *self, size_t shard, redisReply *reply);

//  Whether a prefix of topic that local subscribers hold is not confirmed
//  on a shard yet (a read of the topic's history waits for it)
bool
    zg_topics_cluster_unconfirmed (zg_topics_cluster_t *self, size_t shard, const char *topic);

//  Pass the messages the topics actor sends to be numbered (remembered
//  topics, as [topic][payload][count bound]) to history (the caller's)
typedef struct _zg_history_cluster_t zg_history_cluster_t;
void
    zg_topics_cluster_set_history (zg_topics_cluster_t *self, zg_history_cluster_t *history);

//  Prefixes that a shard's subscriber connection has confirmed
size_t
    zg_topics_cluster_confirmed (zg_topics_cluster_t *self, size_t shard);

//  Add the bridge's counters to a STATS object
void
    zg_topics_cluster_stats (zg_topics_cluster_t *self, json_object *root);

//  Self test of this class
void
    zg_topics_cluster_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
