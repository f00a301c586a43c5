/*  =========================================================================
    zg_request - the one request/answer loop of libzgclient's DEALER
    clients, and their one error model

    Every request carries a fresh req, so an answer that arrives after its
    request timed out is recognised and skipped instead of being taken for
    the answer of the next request.
    =========================================================================
*/

#include "zg_request.h"
#include "zg_curve.h"
#include "zg_errors.h"

struct _zg_request_t {
    zsock_t *dealer;                //  DEALER connected to zgate
    char prefix [8];                //  Of every req
    uint64_t sequence;              //  Last req number used
    int code;                       //  Last error code
    char reason [256];              //  Last error reason
    zlist_t *events;                //  Messages kept while requests waited
};

//  --------------------------------------------------------------------------
//  Connect a DEALER to endpoint

zg_request_t *
zg_request_new (const char *endpoint, const char *prefix, const char *client_cert, const char *server_key)
{
    assert (endpoint);
    assert (prefix && strlen (prefix) < 8);
    zg_request_t *self = (zg_request_t *) zmalloc (sizeof (zg_request_t));
    assert (self);
    snprintf (self->prefix, sizeof self->prefix, "%s", prefix);
    self->events = zlist_new ();
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    //  Room members may receive many events while a request waits
    zsock_set_sndhwm (self->dealer, 100000);
    zsock_set_rcvhwm (self->dealer, 100000);
    if (zg_curve_secure (self->dealer, client_cert, server_key)
    ||  zsock_connect (self->dealer, "%s", endpoint) == -1)
        zg_request_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it, with the events it kept

void
zg_request_destroy (zg_request_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_request_t *self = *self_p;
        zmsg_t *event;
        while ((event = zg_request_event (self)))
            zmsg_destroy (&event);
        zlist_destroy (&self->events);
        zsock_destroy (&self->dealer);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Record an error

int
zg_request_fail (zg_request_t *self, int code, const char *reason)
{
    assert (self);
    self->code = code;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    return -1;
}

//  --------------------------------------------------------------------------
//  Send [command][req][fields...] with a fresh req

int
zg_request_send (zg_request_t *self, const char *command, zmsg_t **fields_p, char *req)
{
    assert (self);
    assert (command && req);
    snprintf (req, ZG_REQUEST_REQ_SIZE, "%s%" PRIu64, self->prefix, ++self->sequence);
    zmsg_t *request = fields_p && *fields_p? *fields_p: zmsg_new ();
    if (fields_p)
        *fields_p = NULL;
    zmsg_pushstr (request, req);
    zmsg_pushstr (request, command);
    if (zmsg_send (&request, self->dealer) == -1) {
        zmsg_destroy (&request);
        return zg_request_fail (self, ZG_ERR_UNAVAILABLE, "cannot send to zgate");
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  True for the verbs that answer a request (as opposed to events)

static bool
s_is_answer (zframe_t *verb)
{
    return zframe_streq (verb, "OK") || zframe_streq (verb, "ERROR")
        || zframe_streq (verb, "REPLY") || zframe_streq (verb, "END");
}

//  Keep a message that is not for the awaited request: drop a late answer,
//  keep an event (at most ZG_REQUEST_MAX_EVENTS, the oldest dropped first)

static void
s_keep (zg_request_t *self, zmsg_t **msg_p)
{
    zframe_t *verb = zmsg_first (*msg_p);
    zframe_t *req = zmsg_next (*msg_p);
    if (verb && req && s_is_answer (verb) && zframe_size (req) > 0) {
        zmsg_destroy (msg_p);
        return;
    }
    if (zlist_size (self->events) >= ZG_REQUEST_MAX_EVENTS) {
        zmsg_t *oldest = (zmsg_t *) zlist_pop (self->events);
        zmsg_destroy (&oldest);
    }
    zlist_append (self->events, *msg_p);
    *msg_p = NULL;
}

//  --------------------------------------------------------------------------
//  Wait until deadline for the next message for req

zmsg_t *
zg_request_wait (zg_request_t *self, const char *req, int64_t deadline)
{
    assert (self);
    assert (req);
    while (true) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) <= 0) {
            zg_request_fail (self, ZG_ERR_TIMEOUT, "zgate did not answer in time");
            return NULL;
        }
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            continue;
        zframe_t *verb = zmsg_first (msg);
        zframe_t *got = zmsg_next (msg);
        if (!verb || !got || !s_is_answer (verb) || !zframe_streq (got, req)) {
            s_keep (self, &msg);
            continue;
        }
        //  Ours: [verb][fields after req]
        zframe_t *ours = zmsg_pop (msg);
        zframe_t *req_frame = zmsg_pop (msg);
        zframe_destroy (&req_frame);
        if (zframe_streq (ours, "ERROR")) {
            char *code = zmsg_popstr (msg);
            char *reason = zmsg_popstr (msg);
            zg_request_fail (self, code && atoi (code) > 0? atoi (code): ZG_ERR_BAD_GATEWAY, reason? reason: "");
            zstr_free (&code);
            zstr_free (&reason);
            zframe_destroy (&ours);
            zmsg_destroy (&msg);
            return NULL;
        }
        zmsg_prepend (msg, &ours);
        return msg;
    }
}

//  --------------------------------------------------------------------------
//  Send a request and wait for its OK

zmsg_t *
zg_request_call (zg_request_t *self, const char *command, zmsg_t **fields_p, int timeout)
{
    assert (self);
    char req [ZG_REQUEST_REQ_SIZE];
    if (zg_request_send (self, command, fields_p, req))
        return NULL;
    zmsg_t *answer = zg_request_wait (self, req, zclock_mono () + timeout);
    if (!answer)
        return NULL;
    char *verb = zmsg_popstr (answer);
    if (!verb || !streq (verb, "OK")) {
        zg_request_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
        zmsg_destroy (&answer);
    }
    zstr_free (&verb);
    return answer;
}

//  --------------------------------------------------------------------------

int
zg_request_code (zg_request_t *self)
{
    assert (self);
    return self->code;
}

const char *
zg_request_reason (zg_request_t *self)
{
    assert (self);
    return self->reason;
}

zmsg_t *
zg_request_event (zg_request_t *self)
{
    assert (self);
    return (zmsg_t *) zlist_pop (self->events);
}

zsock_t *
zg_request_socket (zg_request_t *self)
{
    assert (self);
    return self->dealer;
}

//  --------------------------------------------------------------------------
//  Self test: a ROUTER plays zgate

#ifdef ZGCLIENT_SELFTEST
void
zg_request_test (bool verbose)
{
    printf (" * zg_request: ");
    //  @selftest
    zsock_t *router = zsock_new_router ("inproc://zg-request-test");
    assert (router);
    assert (zg_request_new ("nonsense", "r", NULL, NULL) == NULL);
    zg_request_t *request = zg_request_new ("inproc://zg-request-test", "r", NULL, NULL);
    assert (request);

    //  OK with fields
    char req [ZG_REQUEST_REQ_SIZE];
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, "room");
    assert (zg_request_send (request, "STATE", &fields, req) == 0 && fields == NULL);
    assert (streq (req, "r1"));
    zmsg_t *got = zmsg_recv (router);
    zframe_t *peer = zmsg_pop (got);
    char *verb = zmsg_popstr (got), *got_req = zmsg_popstr (got), *room = zmsg_popstr (got);
    assert (streq (verb, "STATE") && streq (got_req, "r1") && streq (room, "room"));
    zstr_free (&verb);
    zstr_free (&got_req);
    zstr_free (&room);
    zmsg_destroy (&got);
    //  Before the answer: a late answer (dropped), an event and an error of a
    //  request without req (both kept)
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "OK", "r0", "late", NULL);
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "DELIVER", "client", "room", NULL);
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "ERROR", "", "409", "stale ack", NULL);
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "OK", "r1", "map", NULL);
    zmsg_t *answer = zg_request_wait (request, "r1", zclock_mono () + 1000);
    assert (answer && zmsg_size (answer) == 2);
    char *first = zmsg_popstr (answer), *second = zmsg_popstr (answer);
    assert (streq (first, "OK") && streq (second, "map"));
    zstr_free (&first);
    zstr_free (&second);
    zmsg_destroy (&answer);
    zmsg_t *event = zg_request_event (request);
    assert (event && zframe_streq (zmsg_first (event), "DELIVER"));
    zmsg_destroy (&event);
    event = zg_request_event (request);
    assert (event && zframe_streq (zmsg_first (event), "ERROR"));
    zmsg_destroy (&event);
    assert (zg_request_event (request) == NULL);

    //  An ERROR answer sets code and reason; so does silence, as 408
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "ERROR", "r2", "404", "unknown client", NULL);
    assert (zg_request_call (request, "JOIN", NULL, 1000) == NULL);
    assert (zg_request_code (request) == ZG_ERR_NOT_FOUND);
    assert (streq (zg_request_reason (request), "unknown client"));
    assert (zg_request_call (request, "PING", NULL, 50) == NULL);
    assert (zg_request_code (request) == ZG_ERR_TIMEOUT);
    //  An answer with a verb other than OK breaks the protocol
    zframe_send (&peer, router, ZFRAME_MORE + ZFRAME_REUSE);
    zstr_sendx (router, "REPLY", "r4", "x", NULL);
    assert (zg_request_call (request, "PING", NULL, 1000) == NULL);
    assert (zg_request_code (request) == ZG_ERR_BAD_GATEWAY);
    if (verbose)
        printf ("(%d %s) ", zg_request_code (request), zg_request_reason (request));

    zframe_destroy (&peer);
    zg_request_destroy (&request);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
#endif
