/*  =========================================================================
    zg_gw_accept - where a gateway thread's connections come from: with
    gateway/threads above 1 the first thread listens itself, looks at each
    new connection's request line before lws reads it, and keeps it or hands
    it to another thread; every thread adopts what was handed to it. Also
    the raw protocol that answers a request lws cannot take as HTTP.

    Only WebSocket upgrades of /ws are spread over the threads, each thread
    in turn: a session lives its whole life in one thread, whose inproc
    sockets keep its order. Everything else stays in the first thread, where
    the state that spans connections lives: gophermq pull subscribers (a
    fetch comes on a new connection), the HTTP request metrics, go-wsqueue's
    endpoints (one envelope id per message for all their sessions) and, with
    gateway/room-proxy, the room proxy's one membership per room. With TLS
    the request line is not readable before lws, so every connection stays
    in the first thread. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_GW_ACCEPT_H_INCLUDED
#define ZG_GW_ACCEPT_H_INCLUDED

#include "zg_gw_threads.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_accept_t zg_gw_accept_t;

//  Create the connections' source of thread index; threads and settings
//  stay the caller's
zg_gw_accept_t *
    zg_gw_accept_new (zg_gw_threads_t *threads, size_t index, const zg_gw_settings_t *settings);

//  Destroy it
void
    zg_gw_accept_destroy (zg_gw_accept_t **self_p);

//  Fill the lws protocols it serves, for the context's table: the listening
//  socket, a connection being looked at, a connection that is not HTTP
void
    zg_gw_accept_protocols (zg_gw_accept_t *self, struct lws_protocols *listener, struct lws_protocols *peek,
                            struct lws_protocols *not_http);

//  Serve from context: adopt the listening socket fd (this thread listens
//  itself; -1 if not) and take connections handed over. tls: connections
//  are not looked at. Returns 0, or -1 if lws refused the socket.
int
    zg_gw_accept_start (zg_gw_accept_t *self, struct lws_context *context, int fd, bool tls);

//  Draining: new connections are closed at once
void
    zg_gw_accept_refuse (zg_gw_accept_t *self);

//  Adopt the connections handed to this thread (after each lws pass)
void
    zg_gw_accept_adopt_handed (zg_gw_accept_t *self);

//  Whether a connection whose first bytes are head may go to any thread:
//  a GET of /ws (an upgrade) without room_proxy
bool
    zg_gw_accept_spreads (const char *head, size_t size, bool room_proxy);

//  Self test of this class
void
    zg_gw_accept_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
