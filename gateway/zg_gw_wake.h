/*  =========================================================================
    zg_gw_wake - how a gateway thread learns that its zsocks hold messages,
    and the drain that reads them

    Private to the gateway actor. Debian's lws has no external poll, so a
    dup() of each zsock's ZMQ_FD is adopted into the lws loop as a raw file
    of the "zgate-zmq" protocol, tagged with its source (the actor pipe or
    one bridge, whose drain reads all of that bridge's zsocks). ZMQ_FD is
    edge-triggered: a zsock can hold messages without a new wake-up until a
    ZMQ_EVENTS query (or a read) re-arms it, so a source is drained until
    it says it is empty, and again after anything that may have sent on its
    zsocks (a send can take in the commands that make it readable); and the
    fd stays readable until its zsock is asked, so a wake-up asks it.
    =========================================================================
*/

#ifndef ZG_GW_WAKE_H_INCLUDED
#define ZG_GW_WAKE_H_INCLUDED

#include <czmq.h>
#include <libwebsockets.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_wake_t zg_gw_wake_t;

//  Reads what one source's zsocks hold, a run at most: returns the number
//  of messages handled and sets *more if some may be left
typedef size_t (zg_gw_wake_drain_fn) (void *arg, bool *more);

//  Sources a thread has at most (the pipe, the bridges, the metrics port)
#define ZG_GW_WAKE_SOURCES 8
//  Zsocks adopted at most, over all sources
#define ZG_GW_WAKE_SOCKETS 32

//  Create it with no source; a drain stops early once *stop is true
zg_gw_wake_t *
    zg_gw_wake_new (const bool *stop);

//  Destroy it (lws closes the adopted descriptors with its context)
void
    zg_gw_wake_destroy (zg_gw_wake_t **self_p);

//  Add a source and its drain; returns its number, in the order drains run
int
    zg_gw_wake_source (zg_gw_wake_t *self, zg_gw_wake_drain_fn *drain, void *arg);

//  Adopt a dup() of socket's ZMQ_FD into the default vhost of context as a
//  "zgate-zmq" raw file whose wake-ups mark source. Returns 0, or -1
int
    zg_gw_wake_adopt (zg_gw_wake_t *self, struct lws_context *context, zsock_t *socket, int source);

//  The "zgate-zmq" protocol's callback: a wake-up of a zsock that has
//  messages marks its source
int
    zg_gw_wake_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

//  Mark one source, or every source (something may have sent on any zsock)
void
    zg_gw_wake_mark (zg_gw_wake_t *self, int source);
void
    zg_gw_wake_mark_all (zg_gw_wake_t *self);

//  Whether a source is marked
bool
    zg_gw_wake_pending (zg_gw_wake_t *self);

//  Drain the marked sources, each until empty, batch messages at most in
//  all. Returns true if it stopped at the batch with messages left (they
//  stay marked: the caller makes the next lws pass return at once)
bool
    zg_gw_wake_drain (zg_gw_wake_t *self, size_t batch);

//  How many times each source's drain ran (counted since created)
size_t
    zg_gw_wake_drains (zg_gw_wake_t *self, int source);

//  Self test of this class
void
    zg_gw_wake_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
