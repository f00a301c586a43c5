/*  =========================================================================
    zg_gw_listen - where and how the gateway listens: its address, checked
    bindable before libwebsockets is asked, the context options that keep
    it on that address family, and its TLS certificate and key, loaded
    again into the running context on request (SIGHUP)

    Private to the gateway actor, which owns the lws context.
    =========================================================================
*/

#ifndef ZG_GW_LISTEN_H_INCLUDED
#define ZG_GW_LISTEN_H_INCLUDED

#include <czmq.h>
#include <libwebsockets.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_listen_t zg_gw_listen_t;

//  Create it: plain HTTP until a certificate is set
zg_gw_listen_t *
    zg_gw_listen_new (void);

//  Destroy it
void
    zg_gw_listen_destroy (zg_gw_listen_t **self_p);

//  Apply tls-cert or tls-key (PEM files). Before listening (context NULL)
//  they name the files to start with, which must be readable; once
//  listening, the same paths load the files again into context (new
//  handshakes get them, sessions stay open), after checking that the
//  certificate and key belong together. Returns 0, 1 if the key is not
//  one of these, -1 with a reason (nothing changed).
int
    zg_gw_listen_set (zg_gw_listen_t *self, struct lws_context *context, const char *key, const char *value,
                      char *error, size_t size);

//  Whether it serves HTTPS and WSS
bool
    zg_gw_listen_tls (zg_gw_listen_t *self);

//  Who listens on the port
typedef enum {
    ZG_GW_LISTEN_LWS,               //  lws itself (one gateway thread, the default)
    ZG_GW_LISTEN_OWN,               //  this object: prepare binds and listens, the caller accepts
    ZG_GW_LISTEN_NONE               //  no one: lws serves connections handed to it
} zg_gw_listen_mode_t;

//  Set who listens, before prepare
void
    zg_gw_listen_set_mode (zg_gw_listen_t *self, zg_gw_listen_mode_t mode);

//  In ZG_GW_LISTEN_OWN mode, the listening socket prepare made (the caller
//  adopts it into its lws loop); else -1
int
    zg_gw_listen_fd (zg_gw_listen_t *self);

//  Check that interface (an IPv4 or IPv6 address) and port can be bound and
//  that the certificate and key (if any) belong together, then fill info's
//  address, port, TLS and address-family options. interface must outlive
//  info. Returns 0, or -1 with a reason.
int
    zg_gw_listen_prepare (zg_gw_listen_t *self, const char *interface, long port,
                          struct lws_context_creation_info *info, char *error, size_t size);

//  Self test of this class
void
    zg_gw_listen_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
