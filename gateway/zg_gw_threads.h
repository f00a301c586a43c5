/*  =========================================================================
    zg_gw_threads - the gateway's threads (gateway/threads): what the first
    gateway thread (the actor zgate starts) shares with the others

    Each gateway thread is a whole zg_gateway actor: its own lws context on
    the shared port (SO_REUSEPORT, so the kernel spreads the connections),
    its own bridges and inproc sockets to the pattern actors, its own
    sessions. The first one, the primary, owns this object: it starts the
    others once it listens, hands each the settings it got so far and then
    every SET and PEER-STATS as they come, and stops them on $TERM. What the
    threads must agree on lives here, behind a mutex or in atomics: the
    WebSocket sessions in all (max-sessions) and per client address
    (max-sessions-per-address), every thread's counters, which any
    thread sums for /api/stats and /metrics, and the bytes their publishes
    hold until the topics actor reads them (gateway/max-publish-queued).
    =========================================================================
*/

#ifndef ZG_GW_THREADS_H_INCLUDED
#define ZG_GW_THREADS_H_INCLUDED

#include "zg_gw_answers.h"
#include "zg_inflight.h"
#include <libwebsockets.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Most gateway threads
#define ZG_GW_THREADS_MAX 64

typedef struct _zg_gw_threads_t zg_gw_threads_t;

//  Create the shared part, for one thread until zg_gw_threads_set_count
zg_gw_threads_t *
    zg_gw_threads_new (void);

//  Destroy it: stops the other threads first (each drains as the primary did)
void
    zg_gw_threads_destroy (zg_gw_threads_t **self_p);

//  gateway/threads: a count, 0 for the number of cores. Only before the
//  threads start. Returns 0, or -1 with a reason.
int
    zg_gw_threads_set_count (zg_gw_threads_t *self, const char *value, char *error, size_t size);

//  Threads the gateway runs (or will run once listening)
size_t
    zg_gw_threads_count (zg_gw_threads_t *self);

//  The account of the bytes every thread published and the topics actor
//  has not read yet (each thread's topics bridge shares it)
zg_inflight_t *
    zg_gw_threads_publishes (zg_gw_threads_t *self);

//  A SET the primary applied: kept for the threads that are not started
//  yet, sent on to the running ones. Returns 0, or -1 with a reason.
int
    zg_gw_threads_set (zg_gw_threads_t *self, const char *key, const char *value, char *error, size_t size);

//  The primary listens: start the other threads, each an actor made by
//  gateway with this object as its argument, hand them the settings so far,
//  then http-port. Returns 0, or -1 with a reason.
int
    zg_gw_threads_start (zg_gw_threads_t *self, zactor_fn *gateway, const char *port, char *error, size_t size);

//  Pass another actor's counters on to the other threads
void
    zg_gw_threads_peer_stats (zg_gw_threads_t *self, const char *section, const char *stats);

//  $TERM came: the other threads begin their drain too (not waited for)
void
    zg_gw_threads_terminate (zg_gw_threads_t *self);

//  A thread joins with its counters; returns its index (0: the primary)
size_t
    zg_gw_threads_join (zg_gw_threads_t *self, zg_gw_counters_t *counters);

//  A thread leaves; its counters are no longer read, and the connections
//  handed to it and not taken are closed
void
    zg_gw_threads_leave (zg_gw_threads_t *self, size_t index);

//  May a WebSocket session from address open? 0, or the ZG_ERR_* code that
//  refuses it: ZG_ERR_UNAVAILABLE at max_sessions in all,
//  ZG_ERR_TOO_MANY at max_per_address from the address. With take, a 0
//  also counts the session, in the same step: another thread's upgrade
//  cannot pass between the check and the count.
int
    zg_gw_threads_admit (zg_gw_threads_t *self, const char *address, int64_t max_sessions,
                         int64_t max_per_address, bool take);

//  A session that admit counted ended (or never opened)
void
    zg_gw_threads_closed (zg_gw_threads_t *self, const char *address);

//  A thread listens: connections handed to it wake context (index as join
//  returned it)
void
    zg_gw_threads_serve (zg_gw_threads_t *self, size_t index, struct lws_context *context);

//  The thread to give the next WebSocket session to: each in turn
size_t
    zg_gw_threads_next (zg_gw_threads_t *self);

//  Hand a new connection to thread index, and wake it. -1 (the caller
//  keeps fd) if that thread does not serve.
int
    zg_gw_threads_hand (zg_gw_threads_t *self, size_t index, int fd);

//  A connection handed to thread index, or -1 if none waits
int
    zg_gw_threads_take (zg_gw_threads_t *self, size_t index);

//  Every thread's counters added up into total
void
    zg_gw_threads_sum (zg_gw_threads_t *self, zg_gw_counters_t *total);

//  Self test of this class
void
    zg_gw_threads_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
