/*  =========================================================================
    zg_request - the one request/answer loop of libzgclient's DEALER clients
    (queue producers, room producers and members), and their one error model

    A request is [COMMAND][req][fields...] with a fresh req; its answers are
    [OK][req][results...], [ERROR][req][code][reason], and for queue replies
    [REPLY][req]... and [END][req]... (docs/PROTOCOL.md 2.2, 3.2). While a
    request waits, a late answer to an earlier request (an answer verb with
    another non-empty req) is dropped, and anything else (room events, errors
    of requests sent without req) is kept, in order, for zg_request_event.

    Errors: every call that fails returns -1 or NULL and sets a code (the
    ZG_ERR_* of zg_errors.h: zgate's own code, ZG_ERR_TIMEOUT when zgate did
    not answer in time, ZG_ERR_UNAVAILABLE when the request cannot be sent,
    ZG_ERR_BAD_GATEWAY for an answer that breaks the protocol) and a reason.

    Private to libzgclient: the public classes wrap it.
    =========================================================================
*/

#ifndef ZG_REQUEST_H_INCLUDED
#define ZG_REQUEST_H_INCLUDED

#include <czmq.h>

//  Longest req, with its terminating NUL
#define ZG_REQUEST_REQ_SIZE 24

//  Events kept while requests wait for their answers; the oldest go first
#define ZG_REQUEST_MAX_EVENTS 100000

typedef struct _zg_request_t zg_request_t;

//  Connect a DEALER to endpoint; reqs are prefix followed by a counter. A
//  client_cert makes it a CURVE client of server_key (zg_curve_secure; NULL:
//  plain). Returns NULL if the endpoint or a certificate is invalid.
zg_request_t *
    zg_request_new (const char *endpoint, const char *prefix, const char *client_cert, const char *server_key);

//  Destroy it, with the events it kept
void
    zg_request_destroy (zg_request_t **self_p);

//  Send [command][req][fields...] (fields may be NULL; taken) with a fresh
//  req, written to req (ZG_REQUEST_REQ_SIZE bytes). Returns 0, or -1
int
    zg_request_send (zg_request_t *self, const char *command, zmsg_t **fields_p, char *req);

//  Wait until deadline (zclock_mono) for the next message for req. Returns
//  it as [verb][fields after req], or NULL: an ERROR sets its code and
//  reason, the deadline sets ZG_ERR_TIMEOUT.
zmsg_t *
    zg_request_wait (zg_request_t *self, const char *req, int64_t deadline);

//  Send a request and wait up to timeout ms for its OK. Returns the fields
//  after [OK][req], or NULL (see zg_request_code)
zmsg_t *
    zg_request_call (zg_request_t *self, const char *command, zmsg_t **fields_p, int timeout);

//  Record an error; returns -1
int
    zg_request_fail (zg_request_t *self, int code, const char *reason);

//  Code of the last error (a ZG_ERR_* code)
int
    zg_request_code (zg_request_t *self);

//  Reason of the last error
const char *
    zg_request_reason (zg_request_t *self);

//  The oldest event kept while a request waited, or NULL; the caller
//  destroys it
zmsg_t *
    zg_request_event (zg_request_t *self);

//  The DEALER socket
zsock_t *
    zg_request_socket (zg_request_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_request_test (bool verbose);
#endif

#endif
