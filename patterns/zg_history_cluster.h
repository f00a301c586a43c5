/*  =========================================================================
    zg_history_cluster - topic history across nodes: remembered topics'
    messages numbered and kept in Redis streams

    Private to the cluster actor (zg_cluster), which owns the Redis
    connections and runs this in its thread. In cluster mode a remembered
    topic (topics/history) is numbered by Redis, not by a node, so that its
    sequence numbers and epoch are the same on every node and a client can
    recover on any node from a position it got on another.

    Keys of topic T, on the shard of T (consistent hashing of the topic):

        <key-prefix>:h:{T}          a stream: one entry per message, its id
                                    "<seq>-0", fields p (payload) and t
                                    (the publishing node's wall clock, ms),
                                    trimmed with MAXLEN ~ to the rule's
                                    count (ZG_HISTORY_CLUSTER_MAXLEN without
                                    one)
        <key-prefix>:h:{T}:meta     a hash: epoch and seq (the newest)

    A local publisher's message of a remembered topic goes from the topics
    actor to the topics bridge as [topic][payload][count bound] and from
    there here: one script (EVAL, atomic) draws the next seq, sets the
    epoch if the topic has none (a new one, or its keys were lost), adds the
    stream entry and PUBLISHes "<seq> <epoch> <payload>" on the topic's
    channel with the node id ZG_HISTORY_CLUSTER_NUMBERED, so every node,
    the publisher's too, hands it to its subscribers with its [seq epoch]
    frame (zg_topics_cluster passes such a message on as three frames).

    HISTORY and LAST requests for remembered topics come from the topics
    actor over the PAIR at "<link endpoint>.history" as the request's own
    frames, [routing][verb][req][topic]...; the answer is those frames
    followed by [OK][epoch][top] and [seq][time][payload] per entry kept in
    the stream (LAST: the newest only), or by [ERROR][reason]. The topics
    actor applies the rule's bounds and answers its client. A read waits
    (up to ZG_HISTORY_CLUSTER_WAIT ms) until every prefix of the topic that
    local subscribers hold is confirmed in Redis on the topic's shard: then
    what the stream lacks was published after the subscription took effect,
    and reaches the node live, so a subscriber that reads after it
    subscribed misses nothing.
    =========================================================================
*/

#ifndef ZG_HISTORY_CLUSTER_H_INCLUDED
#define ZG_HISTORY_CLUSTER_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_redis.h"
#include "zg_redis_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The node id of the channels Redis publishes numbered messages on (no
//  node's id: those are hex digits)
#define ZG_HISTORY_CLUSTER_NUMBERED "history-numbered"
//  Stream length for a rule without a count bound
#define ZG_HISTORY_CLUSTER_MAXLEN 10000
//  Longest wait for a subscription to be confirmed before a read, ms
#define ZG_HISTORY_CLUSTER_WAIT 2000
//  Longest wait for Redis' answer to a read, ms
#define ZG_HISTORY_CLUSTER_TIMEOUT 5000

typedef struct _zg_history_cluster_t zg_history_cluster_t;

//  Whether a prefix of topic that local subscribers hold is not confirmed
//  on a shard yet: a read of the topic's history there waits for it
typedef bool (zg_history_cluster_unconfirmed_fn) (void *arg, size_t shard, const char *topic);

//  Create the history bridge over shards Redis shards: plains are their
//  plain connections (the caller's, in ring index order), ring picks a
//  topic's shard, unconfirmed (called with arg) tells whether a read waits
zg_history_cluster_t *
    zg_history_cluster_new (const char *key_prefix, zg_redis_ring_t *ring, zg_redis_t **plains, size_t shards,
                            zg_history_cluster_unconfirmed_fn *unconfirmed, void *arg);

//  Destroy the bridge
void
    zg_history_cluster_destroy (zg_history_cluster_t **self_p);

//  Bind the requests' PAIR at "<endpoint>.history". Returns 0, or -1 with a
//  reason
int
    zg_history_cluster_bind (zg_history_cluster_t *self, const char *endpoint, char *error, size_t size);

//  The requests' PAIR, to poll
zsock_t *
    zg_history_cluster_socket (zg_history_cluster_t *self);

//  Requests are waiting on the PAIR: read them and ask Redis
void
    zg_history_cluster_handle (zg_history_cluster_t *self);

//  Number, keep and publish a local message of a remembered topic; bound is
//  its rule's count bound in decimal ("0" for none). Returns 0, or -1 if
//  the topic's shard is out of reach or too far behind (nothing sent).
int
    zg_history_cluster_publish (zg_history_cluster_t *self, zmq_msg_t *topic, zmq_msg_t *payload,
                                zmq_msg_t *bound);

//  A reply arrived on a shard's plain connection: returns true if it was
//  the answer to a read (taken and freed), false if it is the caller's
bool
    zg_history_cluster_reply (zg_history_cluster_t *self, size_t shard, redisReply *reply);

//  Let time pass: send the reads whose subscriptions are confirmed, fail
//  those whose connection was lost or that waited too long
void
    zg_history_cluster_tick (zg_history_cluster_t *self, int64_t now);

//  Split a numbered message, "<seq> <epoch> <payload>": returns the length
//  of "<seq> <epoch>" (the payload starts one byte after it), or -1 if the
//  text is not of that form
int
    zg_history_cluster_split (const char *text, size_t size);

//  Add the bridge's counters to a STATS object
void
    zg_history_cluster_stats (zg_history_cluster_t *self, json_object *root);

//  Self test of this class
void
    zg_history_cluster_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
