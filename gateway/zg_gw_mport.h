/*  =========================================================================
    zg_gw_mport - the metrics port: Prometheus' /metrics on a port of its
    own (gateway/metrics-port), as gophermq served it on :9001

    Private to the gateway actor. A ZeroMQ STREAM socket speaks the little
    HTTP a scraper needs (GET /metrics, one answer, then close), so the
    port is one more zsock the actor adopts into its lws loop: no second
    lws vhost, and the page is the one /metrics renders (the actor passes
    zg_gw_routes_metrics as the render function).
    =========================================================================
*/

#ifndef ZG_GW_MPORT_H_INCLUDED
#define ZG_GW_MPORT_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_mport_t zg_gw_mport_t;

//  Appends the Prometheus text to out
typedef void (zg_gw_mport_render_fn) (void *arg, msgpack_sbuffer *out);

//  Content type of the Prometheus text
#define ZG_GW_MPORT_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

//  Create it, listening nowhere
zg_gw_mport_t *
    zg_gw_mport_new (void);

//  Destroy it, closing its connections
void
    zg_gw_mport_destroy (zg_gw_mport_t **self_p);

//  Apply metrics-port: 0 listens nowhere, 1 to 65535 on that port of
//  interface (an IPv4 or IPv6 address). Once listening it does not change
//  (restart-only). Returns 0, 1 if key is not metrics-port, -1 with a reason.
int
    zg_gw_mport_set (zg_gw_mport_t *self, const char *interface, const char *key, const char *value,
                     char *error, size_t size);

//  Its socket to poll, or NULL when it listens nowhere
zsock_t *
    zg_gw_mport_socket (zg_gw_mport_t *self);

//  Read what arrived, a batch at most, and answer each complete request:
//  GET /metrics with render's text, anything else 404 or 405. Returns the
//  number of messages read; sets *more if some may be left.
int
    zg_gw_mport_drain (zg_gw_mport_t *self, zg_gw_mport_render_fn *render, void *arg, bool *more);

//  Self test of this class
void
    zg_gw_mport_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
