/*  =========================================================================
    zg_routebytes - the bytes a ROUTER actor queued for each of its TCP
    connections, for the watchdog's output bound (zg_connwatch_on_output)

    A ROUTER's sends name a routing id, not a connection: each request the
    actor receives over TCP says both (its routing frame, and its
    connection's descriptor in the "__fd" property), so the class learns
    which connection a routing id stands for and counts every send to it
    there, as ZMTP frames without the routing id (which never goes on the
    wire). The sends happen in many classes that hold only the socket's
    handle (answers, errors, DELIVERs, room events): a counter is attached
    to its socket's handle in the actor's thread, and zg_wire_send and
    zg_qoutbox_send count through zg_routebytes_sent, which finds it there.
    The routing ids of in-process peers (the gateway's links, embedding
    programs), which no watchdog sees, are bounded instead by what their
    messages hold until read (zg_routebytes_bound). They are trusted code
    and few, so they are kept for the counter's life.
    =========================================================================
*/

#ifndef ZG_ROUTEBYTES_H_INCLUDED
#define ZG_ROUTEBYTES_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_routebytes_t zg_routebytes_t;

//  Create a counter (it counts nothing until zg_routebytes_attach)
zg_routebytes_t *
    zg_routebytes_new (void);

//  Count the sends on the ROUTER socket handle, in the calling thread (at
//  most 8 sockets per thread); the sockets share the counts by descriptor
void
    zg_routebytes_attach (zg_routebytes_t *self, void *handle);

//  Detach its sockets and destroy it (in the thread that attached them)
void
    zg_routebytes_destroy (zg_routebytes_t **self_p);

//  A request came from handle on connection fd (-1: inproc) with this
//  routing id: sends to that id are counted for fd. Does nothing if no
//  counter is attached to handle in this thread
void
    zg_routebytes_learn (void *handle, const void *routing, size_t size, int fd);

//  A message of wire bytes in frames ZMTP frames (routing id not included)
//  was queued on handle for this routing id: count it for its connection
void
    zg_routebytes_sent (void *handle, const void *routing, size_t size, uint64_t wire, uint64_t frames);

//  Bound what waits for each in-process peer by what limit () answers (the
//  watchdog's server/max-connection-output: zg_security_watch_routes sets
//  it); until set, in-process peers are not bounded
void
    zg_routebytes_set_link_limit (zg_routebytes_t *self, int64_t (*limit) (void));

//  Bound what waits for an in-process peer (a routing id whose requests
//  came over inproc) by the link limit (zg_inflight): frames
//  are the message's count frames after its routing id, extra the bytes of
//  any sent after them. Returns -1 (errno EAGAIN) past the peer's bound,
//  sending nothing; else 0, frames [0] made the counted frame for such a
//  peer and left as it is for any other
int
    zg_routebytes_bound (void *handle, const void *routing, size_t size, zmq_msg_t *frames, size_t count,
                         uint64_t extra);

//  Connection fd closed: it and its routing ids are forgotten. Takes the
//  counter as arg (a zg_connwatch_closed_fn)
void
    zg_routebytes_closed (int fd, void *arg);

//  What was queued for connection fd since its first request; false if
//  none came from it. Takes the counter as arg (a zg_connwatch_output_fn)
bool
    zg_routebytes_queued (int fd, uint64_t *wire, uint64_t *frames, void *arg);

//  Self test of this class
void
    zg_routebytes_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
