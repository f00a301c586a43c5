/*  =========================================================================
    zg_queues - work queues actor: producers and workers over two ROUTERs,
    with credit, acks, redelivery, dead letters, replies and command mode

    Producers connect DEALERs to the producers endpoint and SEND tasks to
    named queues (or CALL commands); workers connect DEALERs to the workers
    endpoint, announce what they serve and their prefetch with READY, and
    ACK, NACK or FAIL each DELIVERed task. One connection may carry many
    logical workers and many outstanding requests. The wire protocol is
    docs/PROTOCOL.md, section 2.

    Pipe commands (see zg_actor.h): SET / BIND with the keys of the [queues]
    section of config/zgate.cfg, STATS (JSON), $TERM. Endpoint keys:

        producers, inproc-producers     ROUTER endpoints for producers
        workers,   inproc-workers       ROUTER endpoints for workers
        cluster                         the cluster actor's inproc-queues
                                        endpoint (cluster mode: queues in Redis)
    =========================================================================
*/

#ifndef ZG_QUEUES_H_INCLUDED
#define ZG_QUEUES_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Create a queues actor
zactor_t *
    zg_queues_new (void);

//  The actor function, for zactor_new (zg_queues, NULL)
void
    zg_queues (zsock_t *pipe, void *args);

//  Self test of this class
void
    zg_queues_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
