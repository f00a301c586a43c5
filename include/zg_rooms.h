/*  =========================================================================
    zg_rooms - lockstep fan-out rooms actor (ROUTER for members and producers)

    Logical clients (ids issued by the actor, many per connection) join rooms
    and keep themselves alive with pings; each room releases one message at
    a time, from its priority queue, to every member present, and releases
    the next only when every member that received it has acked, left or been
    evicted. Out-of-band messages bypass the queue. The wire protocol is
    docs/PROTOCOL.md, "Rooms".

    Pipe commands (see zg_actor.h): SET / BIND with the keys of the [rooms]
    section of config/zgate.cfg, STATS, $TERM. Endpoint keys:

        clients, inproc-clients             ROUTER endpoints
        cluster                             the cluster actor's inproc-rooms
                                            endpoint (cluster mode: zg_cluster.h;
                                            rooms across nodes on Redis)
    =========================================================================
*/

#ifndef ZG_ROOMS_H_INCLUDED
#define ZG_ROOMS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Create a rooms actor
zactor_t *
    zg_rooms_new (void);

//  The actor function, for zactor_new (zg_rooms, NULL)
void
    zg_rooms (zsock_t *pipe, void *args);

//  The actor's state without its thread, for a caller that runs it in its
//  own (the fuzz targets): the same code the actor runs, which reads each
//  request from its ROUTER as the actor does. SET its keys (endpoints bind)
//  with zg_rooms_core_set, as the actor's pipe does.
typedef struct _zg_rooms_core_t zg_rooms_core_t;

zg_rooms_core_t *
    zg_rooms_core_new (void);

void
    zg_rooms_core_destroy (zg_rooms_core_t **self_p);

//  Apply a key of the [rooms] section; 0, or -1 with the error written
int
    zg_rooms_core_set (zg_rooms_core_t *self, const char *key, const char *value, char *error, size_t size);

//  One pass of the actor's loop: wait up to timeout ms (0: not at all) for
//  its socket, then handle what came and the timers due; the sockets that
//  had something, or -1 if the context ended
int
    zg_rooms_core_pass (zg_rooms_core_t *self, long timeout);

//  Self test of this class
void
    zg_rooms_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
