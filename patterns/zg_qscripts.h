/*  =========================================================================
    zg_qscripts - the Lua scripts that keep queues across nodes in Redis

    Private to the cluster actor's queues bridge (zg_queues_cluster). Every
    change of a queue's state in Redis is one script, so it is atomic: no
    node ever reads, decides and writes in separate steps. Keys of queue q
    carry the hash tag {q} (a dead-letter queue q.dead has q's tag, so a
    task moves to its dead letters within one shard and one script):

        P:q:{t}:pending:<queue>   ZSET of waiting task ids, by priority
                                  (higher first), then arrival (FIFO;
                                  a task put back goes before its equals)
        P:q:{t}:seq               the arrival counter of that order
        P:q:{t}:task:<id>         HASH: queue, priority, ack, maxd, reply,
                                  node (the producer's), payload, attempt,
                                  state, holder (node delivering it),
                                  created, started, finished, result
        P:q:{t}:leases            ZSET of ids in progress, by lease expiry
        P:q:ids                   the shard's id counter
        P:q:id:<id>               the tag of a task (GET from any node)
        P:q:tags                  tags with leases (what the sweep visits)
        P:q:sweep                 the sweep's lock (SET NX PX)
        P:q:ready                 channel: a queue got a task while empty
        P:n:<node>                channel: outcomes for the producers of
                                  a node, "<id> <code> <text>"

    Every script takes the key prefix P as its first argument (no KEYS:
    the ring, not Redis Cluster, routes a queue to its shard). Times come
    from Redis' clock (TIME), so the nodes' clocks never meet.
    =========================================================================
*/

#ifndef ZG_QSCRIPTS_H_INCLUDED
#define ZG_QSCRIPTS_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The scripts and their arguments after P
typedef enum {
    ZG_QSCRIPT_SEND,        //  queue node priority ack maxd reply payload max-pending shards shard
                            //  -> id, or an error "429 ..."
    ZG_QSCRIPT_CLAIM,       //  queue node count lease -> flat array: id attempt priority ack created payload...
    ZG_QSCRIPT_FINISH,      //  tag id node attempt state(done|failed) result result-ttl -> 1, or 0 (not its holder)
    ZG_QSCRIPT_REQUEUE,     //  tag id node attempt max-pending max-name result-ttl -> 1, or 0 (not its holder)
    ZG_QSCRIPT_RENEW,       //  tag node lease id... -> leases renewed
    ZG_QSCRIPT_SWEEP,       //  node lock-ms max-pending max-name result-ttl -> tasks put back, -1 if locked
    ZG_QSCRIPT_GET,         //  id -> queue state priority attempt created started finished payload result, or nil
    ZG_QSCRIPT_COUNT
} zg_qscript_t;

//  A script's Lua source
const char *
    zg_qscripts_source (zg_qscript_t script);

//  Its SHA-1, 40 lowercase hex digits (for EVALSHA)
const char *
    zg_qscripts_sha (zg_qscript_t script);

//  The tag of a queue's keys: its name, less a ".dead" suffix
//  (writes at most size bytes, returns the tag's length)
size_t
    zg_qscripts_tag (const char *name, char *tag, size_t size);

//  The GET script's answer (an array of 9) for task id, packed as GET
//  answers it on one node (zg_task_pack's map)
void
    zg_qscripts_pack_task (redisReply *reply, const char *id, msgpack_packer *packer);

//  Self test of this class; starts its own redis-server
void
    zg_qscripts_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
