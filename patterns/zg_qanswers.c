/*  =========================================================================
    zg_qanswers - how the queues actor answers the request it is handling

    One place for the actor's answers and their counters, so that each
    request handler only decides what to say.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qanswers.h"

struct _zg_qanswers_t {
    zg_security_t *security;        //  The actor's permissions (not owned)
    void *handle;                   //  The socket whose request is handled
    uint64_t errors;                //  ERROR answers sent (the core counts its own)
    uint64_t unroutable;            //  Messages dropped: peer gone or at its HWM
    uint64_t denied;                //  Requests refused by the permissions (403)
};

//  --------------------------------------------------------------------------
//  Create the answers

zg_qanswers_t *
zg_qanswers_new (zg_security_t *security)
{
    assert (security);
    zg_qanswers_t *self = (zg_qanswers_t *) zmalloc (sizeof (zg_qanswers_t));
    assert (self);
    self->security = security;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy them

void
zg_qanswers_destroy (zg_qanswers_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The socket whose requests are handled from now on

void
zg_qanswers_set_socket (zg_qanswers_t *self, zsock_t *socket)
{
    assert (self && socket);
    self->handle = zsock_resolve (socket);
}

//  --------------------------------------------------------------------------
//  Answer [command][name][results...]; counts what libzmq refuses

void
zg_qanswers_answer (zg_qanswers_t *self, zg_wire_request_t *request, const char *command,
                    const zg_wire_part_t *results, size_t count)
{
    assert (self && self->handle);
    zg_wire_part_t parts [4] = { zg_wire_str (command), zg_wire_frame (request, 2) };
    assert (count <= 2);
    for (size_t index = 0; index < count; index++)
        parts [2 + index] = results [index];
    if (zg_wire_send (self->handle, zg_wire_frame (request, 0), parts, 2 + count, NULL))
        self->unroutable++;
}

//  --------------------------------------------------------------------------
//  OK, unless the producer asked for no answer

void
zg_qanswers_ok (zg_qanswers_t *self, zg_wire_request_t *request, const zg_wire_part_t *results, size_t count)
{
    if (zg_wire_frame (request, 2).size)
        zg_qanswers_answer (self, request, "OK", results, count);
}

//  --------------------------------------------------------------------------
//  ERROR with a reason

void
zg_qanswers_error (zg_qanswers_t *self, zg_wire_request_t *request, zg_wire_part_t name, int code,
                   const char *format, ...)
{
    assert (self && self->handle);
    char reason [ZG_WIRE_REASON_SIZE];
    va_list args;
    va_start (args, format);
    zg_wire_vreason (reason, format, args);
    va_end (args);
    self->errors++;
    if (zg_wire_error (self->handle, zg_wire_frame (request, 0), name, code, reason))
        self->unroutable++;
}

//  --------------------------------------------------------------------------
//  Whether allowed; answers 403 if not

bool
zg_qanswers_permitted (zg_qanswers_t *self, zg_wire_request_t *request, bool allowed, const char *what,
                       const char *name)
{
    assert (self);
    if (!allowed) {
        self->denied++;
        zg_qanswers_error (self, request, zg_wire_frame (request, 2), ZG_ERR_FORBIDDEN, "'%s' may not %s '%s'",
                           zg_security_name (self->security, zg_wire_identity (request)), what, name);
    }
    return allowed;
}

//  --------------------------------------------------------------------------
//  Whether the sender may do action on name; answers 403 if not

bool
zg_qanswers_allows (zg_qanswers_t *self, zg_wire_request_t *request, const char *action, const char *name)
{
    assert (self);
    bool allowed = !zg_security_on (self->security)
                || zg_security_allows (self->security, zg_wire_identity (request), "queues", action, name, false);
    return zg_qanswers_permitted (self, request, allowed, action, name);
}

//  --------------------------------------------------------------------------
//  Count a message libzmq refused

void
zg_qanswers_unroutable (zg_qanswers_t *self)
{
    assert (self);
    self->unroutable++;
}

//  --------------------------------------------------------------------------
//  The counters

void
zg_qanswers_stats (zg_qanswers_t *self, json_object *root, uint64_t core_errors)
{
    assert (self && root);
    json_object_object_add (root, "errors", json_object_new_uint64 (self->errors + core_errors));
    json_object_object_add (root, "unroutable", json_object_new_uint64 (self->unroutable));
    json_object_object_add (root, "denied", json_object_new_uint64 (self->denied));
}

//  --------------------------------------------------------------------------
//  The counter key of a STATS object

static uint64_t
s_test_counter (zg_qanswers_t *answers, const char *key)
{
    json_object *root = json_object_new_object ();
    zg_qanswers_stats (answers, root, 1);
    uint64_t value = json_object_get_uint64 (json_object_object_get (root, key));
    json_object_put (root);
    return value;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qanswers_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qanswers: ");
    //  @selftest
    zg_security_t *security = zg_security_new ();
    zg_qanswers_t *answers = zg_qanswers_new (security);
    zsock_t *router = zsock_new_router ("inproc://zg-qanswers-test");
    zsock_t *dealer = zsock_new_dealer (">inproc://zg-qanswers-test");
    zsock_set_router_mandatory (router, 1);
    zsock_set_rcvtimeo (dealer, 2000);
    zg_qanswers_set_socket (answers, router);
    zg_wire_request_t request;

    //  OK with a result, and none for an empty req
    zstr_sendx (dealer, "SEND", "r1", NULL);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    zg_wire_part_t result = zg_wire_str ("7");
    zg_qanswers_ok (answers, &request, &result, 1);
    zg_wire_close (&request);
    char *command, *req, *value;
    assert (zstr_recvx (dealer, &command, &req, &value, NULL) == 3);
    assert (streq (command, "OK") && streq (req, "r1") && streq (value, "7"));
    zstr_free (&command);
    zstr_free (&req);
    zstr_free (&value);

    //  An ERROR and a refusal are counted, and say why
    zstr_sendx (dealer, "SEND", "r2", NULL);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    assert (zg_qanswers_allows (answers, &request, "send", "jobs"));
    assert (!zg_qanswers_permitted (answers, &request, false, "delete", "jobs"));
    zg_wire_close (&request);
    char *code, *reason;
    assert (zstr_recvx (dealer, &command, &req, &code, &reason, NULL) == 4);
    assert (streq (command, "ERROR") && streq (req, "r2") && streq (code, "403"));
    assert (strstr (reason, "may not delete 'jobs'"));
    zstr_free (&command);
    zstr_free (&req);
    zstr_free (&code);
    zstr_free (&reason);
    assert (s_test_counter (answers, "denied") == 1 && s_test_counter (answers, "errors") == 2);

    //  An answer to a peer that is gone is counted, not sent
    zstr_sendx (dealer, "PING", "r3", NULL);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    zsock_destroy (&dealer);
    zclock_sleep (50);
    zg_qanswers_ok (answers, &request, NULL, 0);
    zg_wire_close (&request);
    zg_qanswers_unroutable (answers);
    assert (s_test_counter (answers, "unroutable") == 2);

    zsock_destroy (&router);
    zg_qanswers_destroy (&answers);
    zg_security_destroy (&security);
    //  @end
    printf ("OK\n");
}
