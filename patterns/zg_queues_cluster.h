/*  =========================================================================
    zg_queues_cluster - the queues bridge in the cluster actor

    Private to the cluster actor. It binds the inproc PAIR the queues
    actor's link (zg_queues_link, which has the frames) connects to, and
    keeps its own two connections per shard: one for the scripts
    (zg_qscripts, by EVALSHA, loaded again on each new connection before
    anything else), one subscribed to the channels "a queue got tasks"
    and this node's outcomes. It keeps, for the producers of this node,
    who waits for which task's outcome (with the reply timeout), and, for
    the workers of this node, which tasks it holds, whose leases it renews
    every third of the lease (the queues' worker-timeout). Every node runs
    the sweep on every shard every quarter of the lease, and one of them
    at a time (a SET NX PX lock in the script) puts back the tasks whose
    lease expired: those of a dead node.
    =========================================================================
*/

#ifndef ZG_QUEUES_CLUSTER_H_INCLUDED
#define ZG_QUEUES_CLUSTER_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_redis_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_queues_cluster_t zg_queues_cluster_t;

//  Create the bridge of a node: its id, the key prefix, the ring (the
//  caller's, alive as long) and the shards' addresses in ring index order
zg_queues_cluster_t *
    zg_queues_cluster_new (const char *node, const char *key_prefix, zg_redis_ring_t *ring,
                           const char **addresses, size_t shards);

//  Destroy the bridge
void
    zg_queues_cluster_destroy (zg_queues_cluster_t **self_p);

//  Set the connections' timeouts, ms (as zg_redis_set_timeouts)
void
    zg_queues_cluster_set_timeouts (zg_queues_cluster_t *self, int64_t connect_timeout, int64_t timeout,
                                    int64_t backoff_max);

//  Bind the link's endpoint; returns 0, or -1 with a reason
int
    zg_queues_cluster_bind (zg_queues_cluster_t *self, const char *endpoint, char *error, size_t size);

//  Poll items the bridge uses: its socket, then two per shard
size_t
    zg_queues_cluster_items (zg_queues_cluster_t *self);

//  Run the timers due and fill that many items; lowers *next to the
//  monotonic ms when it has something to do
void
    zg_queues_cluster_poll_items (zg_queues_cluster_t *self, zmq_pollitem_t *items, int64_t now, int64_t *next);

//  Handle what the poll reported on those items
void
    zg_queues_cluster_handle (zg_queues_cluster_t *self, zmq_pollitem_t *items, int64_t now);

//  Every connection is up
bool
    zg_queues_cluster_healthy (zg_queues_cluster_t *self);

//  Add the counters to a STATS object, as "queues"
void
    zg_queues_cluster_stats (zg_queues_cluster_t *self, json_object *root);

//  Self test of this class; starts its own redis-server
void
    zg_queues_cluster_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
