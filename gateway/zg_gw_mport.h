/*  =========================================================================
    zg_gw_mport - the metrics port: Prometheus' /metrics on a port of its
    own (gateway/metrics-port), as gophermq served it on :9001

    Private to the gateway actor. A ZeroMQ STREAM socket speaks the little
    HTTP a scraper needs (GET /metrics, one answer, then close), so the
    port is one more zsock the actor adopts into its lws loop: no second
    lws vhost, and the page is the one /metrics renders (zg_gw_routes).
    =========================================================================
*/

#ifndef ZG_GW_MPORT_H_INCLUDED
#define ZG_GW_MPORT_H_INCLUDED

#include <czmq.h>
#include "zg_gw_routes.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_mport_t zg_gw_mport_t;

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
//  GET /metrics with routes' Prometheus text, anything else 404 or 405.
//  Returns the number of messages read; sets *more if some may be left.
int
    zg_gw_mport_drain (zg_gw_mport_t *self, zg_gw_routes_t *routes, bool *more);

//  Self test of this class
void
    zg_gw_mport_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
