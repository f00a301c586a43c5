/*  =========================================================================
    zg_gateway - the web gateway actor: HTTP and WebSocket on one port, run
    by libwebsockets inside this czmq actor's thread. It is libzgate-gateway,
    apart from libzgate so that only programs with web clients link lws.

    Web clients (WebSocket /ws, JSON or msgpack; HTTP /api/...) reach the
    pattern actors over inproc, through the same protocols native clients
    speak (docs/PROTOCOL.md section 4), so both kinds of client meet.

    Pipe commands (see zg_actor.h): SET / BIND with the keys of the [gateway]
    section of config/zgate.cfg (http-port starts listening, so it comes
    last), plus the inproc endpoints of the pattern actors:

        topics-subscribers, topics-publishers   (topics' inproc XPUB, XSUB)
        queues-producers, queues-workers        (queues' inproc ROUTERs)
        rooms-clients                           (rooms' inproc ROUTER)

    and PEER-STATS section json (no answer): the owner hands over another
    actor's STATS for /api/stats and /metrics. STATS, $TERM as usual.

    threads (gateway/threads, before http-port) runs the gateway in that
    many threads, each an actor of this function listening on the same port
    (gateway/zg_gw_threads.h); the one made with NULL starts the others.
    =========================================================================
*/

#ifndef ZG_GATEWAY_H_INCLUDED
#define ZG_GATEWAY_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The actor function, for zactor_new (zg_gateway, NULL)
void
    zg_gateway (zsock_t *pipe, void *args);

//  Self test of this class
void
    zg_gateway_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
