/*  =========================================================================
    zg_metrics - Prometheus text exposition for the gateway

    Counts HTTP requests and their latency by endpoint and status code (and
    renders the gophermq names for gophermq's endpoints), and turns any
    actor's STATS object into gauges. Private to the gateway.
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

//  Append the request counters and histograms
void
    zg_metrics_render_requests (zg_metrics_t *self, msgpack_sbuffer *out);

//  Append one sample line, with one optional label (label may be NULL);
//  declares the metric with its type when type is not NULL
void
    zg_metrics_sample (msgpack_sbuffer *out, const char *type, const char *name,
                       const char *label, const char *label_value, double value);

//  Append an actor's STATS object as gauges: numbers as zgate_<actor>_<key>,
//  maps of numbers as zgate_<actor>_<key>{name=...}, and maps of objects as
//  zgate_<actor>_<key>_<field>{name=...}
void
    zg_metrics_render_stats (msgpack_sbuffer *out, const char *actor, json_object *stats);

//  Self test of this class
void
    zg_metrics_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
