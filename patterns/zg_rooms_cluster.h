/*  =========================================================================
    zg_rooms_cluster - rooms across nodes: the bridge between one node's
    rooms actor and Redis

    Private to the cluster actor (zg_cluster), which runs it in its thread
    beside the topics bridge. Its other side is the rooms actor's
    zg_rooms_link (one inproc PAIR it binds). It keeps connections of its
    own to each shard (a plain one for the script, whose answers it matches
    to the requests in order, and a subscriber's for the node's channel),
    so the topics bridge's streams stay as they were.

    Every key of room r has the hash tag {r}: <p>:r:{r}:q (pending, a ZSET
    by priority then seq), :h and :d (each message's header and payload),
    :nodes (node -> its local members), :gate (nodes with a sync member),
    :fl and :holders (the message in flight and the nodes still to ack it).
    Each operation is one EVALSHA of zg_rooms_script.lua on the room's
    shard; a released message is PUBLISHed on <p>:r:n:<node> to each node of
    :nodes, which hands it to its rooms actor, which fans it out to the
    local members and acks for them all once they all did. Each node
    refreshes its presence (<p>:r:alive) every node-timeout / 3 and asks
    for a sweep every node-timeout / 2: under a SET NX PX lock, the nodes
    silent for node-timeout leave all their rooms, which move on.
    =========================================================================
*/

#ifndef ZG_ROOMS_CLUSTER_H_INCLUDED
#define ZG_ROOMS_CLUSTER_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_redis_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_rooms_cluster_t zg_rooms_cluster_t;

//  Poll items the bridge fills: its link socket, then two per shard
#define ZG_ROOMS_CLUSTER_ITEMS(shards) (1 + 2 * (shards))

//  Create the bridge of a node over the shards at addresses (in ring index
//  order), its keys starting with key_prefix; ring picks a room's shard
zg_rooms_cluster_t *
    zg_rooms_cluster_new (const char *node, const char *key_prefix, const char **addresses, size_t shards,
                          zg_redis_ring_t *ring);

//  Destroy the bridge
void
    zg_rooms_cluster_destroy (zg_rooms_cluster_t **self_p);

//  Connect and answer timeouts, reconnection backoff (as zg_redis), and how
//  long a node may be silent before the others take it for dead, ms
void
    zg_rooms_cluster_set_timeouts (zg_rooms_cluster_t *self, int64_t connect_timeout, int64_t timeout,
                                   int64_t backoff_max, int64_t node_timeout);

//  Bind the link's endpoint (inproc). Returns 0, or -1 with a reason
int
    zg_rooms_cluster_bind (zg_rooms_cluster_t *self, const char *endpoint, char *error, size_t size);

//  Fill ZG_ROOMS_CLUSTER_ITEMS poll items; lowers *next (monotonic ms) to
//  when the bridge has something to do
void
    zg_rooms_cluster_poll_items (zg_rooms_cluster_t *self, zmq_pollitem_t *items, int64_t now, int64_t *next);

//  Handle what the poll reported on those items, and the timers
void
    zg_rooms_cluster_handle (zg_rooms_cluster_t *self, zmq_pollitem_t *items, int64_t now);

//  Whether every connection of the bridge is up
bool
    zg_rooms_cluster_healthy (zg_rooms_cluster_t *self);

//  Add the bridge's counters to a STATS object, as "rooms"
void
    zg_rooms_cluster_stats (zg_rooms_cluster_t *self, json_object *root);

//  Self test of this class; starts its own redis-server
void
    zg_rooms_cluster_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
