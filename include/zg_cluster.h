/*  =========================================================================
    zg_cluster - the cluster actor: one zgate node's connections to Redis,
    through which several zgate nodes serve as one system

    With cluster/redis empty (the default) the actor does nothing and zgate
    is one node alone. With one or more Redis addresses (the shards) it
    keeps two connections to each, a plain one and a subscriber's, and runs
    the bridges of the patterns that work across nodes (zg_topics_cluster,
    zg_queues_cluster, zg_rooms_cluster) in its thread. It reports itself healthy only while
    every connection is up; the gateway's /ready answers 503 otherwise.

    Pipe commands (see zg_actor.h): SET / BIND with the keys of the
    [cluster] section of config/zgate.cfg, STATS, $TERM. key-prefix and the
    timeouts come before redis, which is set once; the endpoint keys
    inproc-topics, inproc-queues and inproc-rooms (which the topics,
    queues and rooms actors' "cluster" keys connect to) come last.
    =========================================================================
*/

#ifndef ZG_CLUSTER_H_INCLUDED
#define ZG_CLUSTER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The actor function, for zactor_new (zg_cluster, NULL)
void
    zg_cluster (zsock_t *pipe, void *args);

//  Self test of this class; starts its own redis-server
void
    zg_cluster_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
