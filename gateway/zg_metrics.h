/*  =========================================================================
    zg_metrics - Prometheus text exposition for the gateway

    Counts HTTP requests and their latency by endpoint and status code, and
    renders /metrics: build info, process_* figures, the request histograms
    (also under gophermq's names for gophermq's endpoints), and the
    counters of every actor's STATS object, each mapped to a named, typed
    and documented family in base units. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_METRICS_H_INCLUDED
#define ZG_METRICS_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_metrics_t zg_metrics_t;

//  Create an empty set of request series
zg_metrics_t *
    zg_metrics_new (void);

//  Destroy it
void
    zg_metrics_destroy (zg_metrics_t **self_p);

//  Count one request to endpoint (a route name, not a raw path) that ended
//  with code after seconds
void
    zg_metrics_request (zg_metrics_t *self, const char *endpoint, int code, double seconds);

//  Append the whole exposition to out. stats is the /api/stats object,
//  {"gateway": {...}, "topics": {...}, "queues": {...}, "rooms": {...}};
//  a section that is missing renders its families without samples
void
    zg_metrics_render (zg_metrics_t *self, msgpack_sbuffer *out, json_object *stats);

//  Self test of this class
void
    zg_metrics_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
