/*  =========================================================================
    zg_redis_server - a redis-server of a self test's own, on a free port

    For the self tests of the cluster classes: nothing assumes a Redis is
    running, each test starts one (Debian's redis-server, found on PATH)
    on a free loopback port, without persistence, and stops it at the end.
    A test can stop and start it again on the same port to see how its
    clients live through a Redis restart.
    =========================================================================
*/

#ifndef ZG_REDIS_SERVER_H_INCLUDED
#define ZG_REDIS_SERVER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_redis_server_t zg_redis_server_t;

//  Start a redis-server on a free port and wait until it answers; NULL if
//  there is no redis-server on PATH (the test says so and skips) or it
//  did not start (an error)
zg_redis_server_t *
    zg_redis_server_new (void);

//  Stop the server (SIGKILL) and destroy the object
void
    zg_redis_server_destroy (zg_redis_server_t **self_p);

//  Whether redis-server is on PATH
bool
    zg_redis_server_available (void);

//  Its address, "127.0.0.1:port"
const char *
    zg_redis_server_address (zg_redis_server_t *self);

//  Stop the server (SIGKILL: its clients see the connection close)
void
    zg_redis_server_stop (zg_redis_server_t *self);

//  Start it again on the same port; returns 0, or -1 if it did not answer
int
    zg_redis_server_start (zg_redis_server_t *self);

//  Freeze the server (SIGSTOP) or thaw it (SIGCONT): frozen, it keeps its
//  connections open and accepts new ones but answers nothing, as a Redis
//  beyond a network partition looks to its clients
void
    zg_redis_server_pause (zg_redis_server_t *self, bool paused);

//  Self test of this class
void
    zg_redis_server_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
