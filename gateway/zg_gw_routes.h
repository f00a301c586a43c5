/*  =========================================================================
    zg_gw_routes - where a web request goes: the WebSocket op table and the
    HTTP route table, each entry naming the bridge that serves it, and the
    gateway's own routes (/ready, /api/stats, /metrics)

    It sits above the three bridges and below the actor: the actor hands it
    each complete WebSocket message and each HTTP request, and asks it for
    the gateway's stats, which /api/stats and /metrics serve too. Private to
    the gateway.
    =========================================================================
*/

#ifndef ZG_GW_ROUTES_H_INCLUDED
#define ZG_GW_ROUTES_H_INCLUDED

#include "zg_gw_topics.h"
#include "zg_gw_queues.h"
#include "zg_gw_rooms.h"
#include "zg_gw_guard.h"
#include "zg_gw_threads.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_routes_t zg_gw_routes_t;

//  Create the routes to the bridges, through the guard; all stay the
//  caller's and must outlive it
zg_gw_routes_t *
    zg_gw_routes_new (zg_gw_answers_t *answers, zg_gw_topics_t *topics, zg_gw_queues_t *queues,
                      zg_gw_rooms_t *rooms, zg_gw_guard_t *guard);

//  Destroy the routes and the request metrics
void
    zg_gw_routes_destroy (zg_gw_routes_t **self_p);

//  Handle one complete WebSocket message of a session: decode it, and
//  answer it or hand it to the bridge of its op
void
    zg_gw_routes_message (zg_gw_routes_t *self, zg_session_t *session, const byte *data, size_t size,
                          bool binary);

//  Route an HTTP request whose body (if any) has arrived
void
    zg_gw_routes_http (zg_gw_routes_t *self, zg_http_t *http);

//  An HTTP transaction ended: count it in the request metrics if answered
void
    zg_gw_routes_finished (zg_gw_routes_t *self, zg_http_t *http);

//  Keep another actor's STATS JSON text (taking it) for /api/stats and
//  /metrics
void
    zg_gw_routes_peer_stats (zg_gw_routes_t *self, const char *section, char **stats_p);

//  Sum every gateway thread's counters in the stats (threads stays the
//  caller's); without it the stats are this thread's
void
    zg_gw_routes_share (zg_gw_routes_t *self, zg_gw_threads_t *threads);

//  Copy this thread's gauges (sessions, subscriptions, ...) into its
//  counters, where the other threads read them
void
    zg_gw_routes_gauges (zg_gw_routes_t *self);

//  The gateway's own stats, a new object, the caller's
json_object *
    zg_gw_routes_stats (zg_gw_routes_t *self);

//  Append the Prometheus text of every actor's counters (what /metrics
//  answers) to out; self is the routes (a zg_gw_mport_render_fn)
void
    zg_gw_routes_metrics (void *self, msgpack_sbuffer *out);

//  Self test of this class
void
    zg_gw_routes_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
