/*  =========================================================================
    zg_security - one native actor's security: CURVE on the endpoints it
    binds, and the permissions it asks before it acts

    Private to the pattern actors (topics, queues, rooms). The daemon gives
    each actor the keys `security-server-cert`, `security-client-certs`
    and `security-permissions` before its endpoints (libzmq takes a
    socket's CURVE options when an endpoint is bound). With a server
    certificate, every endpoint but inproc runs CURVE through the ZAP
    domain "zgate", which the daemon's zauth actor serves; inproc endpoints
    run no handshake, so a message that arrived over inproc carries no
    identity: it comes from the gateway (which authorized its web session
    itself) or from the embedding program, and is trusted.

    Who sent a message is zg_wire_identity: the client's public key, which
    zauth returns as the ZAP User-Id, "" for a networked peer with no ZAP
    identity, NULL over inproc. The permissions name identities by the
    `name` in each client's certificate: this class maps keys to names from
    the certificates in security-client-certs, read when the key is set
    (and again on SIGHUP). It does not take the name from the message's
    properties: libzmq merges the peer's own handshake properties with the
    ZAP ones, so a client whose certificate has no name could claim one.
    =========================================================================
*/

#ifndef ZG_SECURITY_H_INCLUDED
#define ZG_SECURITY_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_routebytes.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The ZAP domain of zgate's CURVE endpoints
#define ZG_SECURITY_ZAP_DOMAIN "zgate"

typedef struct _zg_security_t zg_security_t;

//  Create an actor's security: off until a server certificate is set
zg_security_t *
    zg_security_new (void);

//  Destroy it
void
    zg_security_destroy (zg_security_t **self_p);

//  Apply a key without its "security-" prefix: "server-cert" (a czmq
//  certificate file with its secret key, or "" for none; only before the
//  first network endpoint), "client-certs" (the directory of the clients'
//  public certificates, read again at each SET, for their names) or
//  "permissions" (a zg_acl file, or "" for none: every authenticated client
//  may do everything). Returns 0, or -1
//  with a reason (the old value stays), or 1 if key is not one of these.
int
    zg_security_set (zg_security_t *self, const char *key, const char *value, char *error, size_t size);

//  Bind socket to endpoint; a network endpoint runs CURVE if a server
//  certificate is set, and the watchdog watches its connections (the
//  socket must outlive this object). Returns 0, or -1 with a reason.
int
    zg_security_bind (zg_security_t *self, zsock_t *socket, const char *endpoint, char *error, size_t size);

//  The watchdog over the input of the bound sockets' TCP connections: the
//  actor polls with it (zg_connwatch_poll)
zg_connwatch_t *
    zg_security_watch (zg_security_t *self);

//  Count the output of the watched ROUTER sockets' connections with routes
//  (the caller's): its held output is shared with what the actor charges
//  to the budget, so it is not charged again
void
    zg_security_watch_routes (zg_security_t *self, zg_routebytes_t *routes);

//  Receive a request from a bound socket (zg_wire_recv) and tell the
//  watchdog it was consumed. Returns 0, or -1 if none was waiting
int
    zg_security_recv (zg_security_t *self, zg_wire_request_t *request, void *handle);

//  The name of the certificate with this public key (an identity of
//  zg_wire_identity), or the identity itself if no certificate names it
const char *
    zg_security_name (zg_security_t *self, const char *identity);

//  Whether a server certificate is set (the endpoints run CURVE)
bool
    zg_security_on (zg_security_t *self);

//  Whether the sender identity (zg_wire_identity) may do action on name,
//  or on every name starting with it when prefix: with security off or
//  over inproc (identity NULL) anything goes, else the permissions decide
//  (no permissions file: every authenticated identity may)
bool
    zg_security_allows (zg_security_t *self, const char *identity, const char *pattern,
                        const char *action, const char *name, bool prefix);

//  Whether the sender identity may see stats, metrics and other clients'
//  state: the same rules, with the admin grant
bool
    zg_security_admin (zg_security_t *self, const char *identity);

//  Whether an endpoint stays on this host (inproc, ipc, tcp on a loopback
//  address), so that it may run without security
bool
    zg_security_endpoint_is_local (const char *endpoint);

//  Self test of this class
void
    zg_security_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
