/*  =========================================================================
    zg_async - asynchronous work-queue producer

    Each task is a SEND or CALL with option reply on one DEALER, its req
    "a<id>" the key of a pending entry until its REPLY or ERROR comes (the
    OK in between only says zgate took it). Not zg_request: that class
    drops answers to other reqs while it waits for one, which is the
    normal case here. Deadlines are checked only when the earliest one has
    passed, so polling costs nothing per pending task in between.
    =========================================================================
*/

#include <msgpack.h>
#include "zg_async.h"
#include "zg_curve.h"
#include "zg_errors.h"
//  The self test runs against a real queues actor in-process
#include "zgate.h"

//  Extra wait past a timeout for zgate's own 408, ms
#define ZG_ASYNC_GRACE 1000

typedef struct {
    uint64_t id;                    //  Our id
    zg_async_fn *callback;          //  Where the outcome goes
    void *arg;                      //  Its argument
    int64_t deadline;               //  zclock_mono ms, or INT64_MAX
} s_pending_t;

struct _zg_async_t {
    zsock_t *dealer;                //  DEALER connected to zgate's producers endpoint
    zhashx_t *pending;              //  "a<id>" -> s_pending_t
    uint64_t last_id;               //  Ids issued
    int64_t next_deadline;          //  Earliest deadline (or later), INT64_MAX if none
};

//  --------------------------------------------------------------------------
//  Create one

zg_async_t *
zg_async_new (const char *endpoint)
{
    return zg_async_new_secure (endpoint, NULL, NULL);
}

zg_async_t *
zg_async_new_secure (const char *endpoint, const char *client_cert, const char *server_key)
{
    zg_async_t *self = (zg_async_t *) zmalloc (sizeof (zg_async_t));
    assert (self);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, (zhashx_destructor_fn *) zstr_free);
    self->next_deadline = INT64_MAX;
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    //  A send to a zgate that is gone fails at once rather than block
    zsock_set_sndtimeo (self->dealer, 0);
    if (zg_curve_secure (self->dealer, client_cert, server_key)
    ||  zsock_connect (self->dealer, "%s", endpoint) == -1)
        zg_async_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_async_destroy (zg_async_t **self_p)
{
    assert (self_p);
    zg_async_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->pending);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Send [command][req][fields...] with the options {reply, timeout} before
//  last_fields; returns the id, or 0

static uint64_t
s_send (zg_async_t *self, const char *command, const char *queue, zmsg_t **fields_p, int timeout,
        zg_async_fn *callback, void *arg)
{
    assert (callback && timeout >= 0);
    char req [24];
    snprintf (req, sizeof req, "a%" PRIu64, self->last_id + 1);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 2);
    msgpack_pack_str_with_body (&packer, "reply", 5);
    msgpack_pack_true (&packer);
    msgpack_pack_str_with_body (&packer, "timeout", 7);
    msgpack_pack_int (&packer, timeout);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, req);
    if (queue)
        zmsg_addstr (msg, queue);
    zmsg_addmem (msg, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    zframe_t *field;
    while ((field = zmsg_pop (*fields_p)))
        zmsg_append (msg, &field);
    zmsg_destroy (fields_p);
    if (zmsg_send (&msg, self->dealer)) {
        zmsg_destroy (&msg);
        return 0;
    }
    s_pending_t *entry = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    assert (entry);
    entry->id = ++self->last_id;
    entry->callback = callback;
    entry->arg = arg;
    entry->deadline = timeout? zclock_mono () + timeout + ZG_ASYNC_GRACE: INT64_MAX;
    if (entry->deadline < self->next_deadline)
        self->next_deadline = entry->deadline;
    zhashx_insert (self->pending, req, entry);
    return entry->id;
}

uint64_t
zg_async_send (zg_async_t *self, const char *queue, const void *data, size_t size, int timeout,
               zg_async_fn *callback, void *arg)
{
    assert (self && queue);
    zmsg_t *fields = zmsg_new ();
    zmsg_addmem (fields, data, size);
    return s_send (self, "SEND", queue, &fields, timeout, callback, arg);
}

uint64_t
zg_async_call (zg_async_t *self, const char *line, int timeout, zg_async_fn *callback, void *arg)
{
    assert (self && line);
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, line);
    return s_send (self, "CALL", NULL, &fields, timeout, callback, arg);
}

//  --------------------------------------------------------------------------
//  Call back and forget a pending task

static void
s_finish (zg_async_t *self, const char *req, s_pending_t *entry, zframe_t *data, int code, const char *error)
{
    entry->callback (entry->id, data, code, error, entry->arg);
    zhashx_delete (self->pending, req);
}

//  One message from zgate: [verb][req][fields...]; returns 1 if it called back
static int
s_handle (zg_async_t *self, zmsg_t *msg)
{
    char *verb = zmsg_popstr (msg);
    char *req = zmsg_popstr (msg);
    s_pending_t *entry = req? (s_pending_t *) zhashx_lookup (self->pending, req): NULL;
    int called = 0;
    if (entry && verb && streq (verb, "REPLY") && zmsg_size (msg) == 2) {
        zframe_t *task_id = zmsg_pop (msg);
        zframe_t *data = zmsg_pop (msg);
        s_finish (self, req, entry, data, 0, NULL);
        zframe_destroy (&task_id);
        zframe_destroy (&data);
        called = 1;
    }
    else
    if (entry && verb && streq (verb, "ERROR") && zmsg_size (msg) == 2) {
        char *code = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        int number = atoi (code);
        s_finish (self, req, entry, NULL, number? number: ZG_ERR_BAD_GATEWAY, reason);
        zstr_free (&code);
        zstr_free (&reason);
        called = 1;
    }
    zstr_free (&verb);
    zstr_free (&req);
    return called;
}

//  Call back the tasks whose deadline passed (408)
static int
s_expire (zg_async_t *self)
{
    int64_t now = zclock_mono ();
    if (now < self->next_deadline)
        return 0;
    int called = 0;
    self->next_deadline = INT64_MAX;
    zlistx_t *keys = zhashx_keys (self->pending);
    for (char *req = (char *) zlistx_first (keys); req; req = (char *) zlistx_next (keys)) {
        s_pending_t *entry = (s_pending_t *) zhashx_lookup (self->pending, req);
        if (entry->deadline <= now) {
            s_finish (self, req, entry, NULL, ZG_ERR_TIMEOUT, "timeout");
            called++;
        }
        else
        if (entry->deadline < self->next_deadline)
            self->next_deadline = entry->deadline;
    }
    zlistx_destroy (&keys);
    return called;
}

//  --------------------------------------------------------------------------
//  Handle what arrives

int
zg_async_poll (zg_async_t *self, int timeout)
{
    assert (self);
    int64_t until = timeout < 0? INT64_MAX: zclock_mono () + timeout;
    int called = s_expire (self);
    while (called == 0) {
        int64_t now = zclock_mono ();
        int64_t wake = until < self->next_deadline? until: self->next_deadline;
        zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
        long wait = wake == INT64_MAX? -1: wake > now? (long) (wake - now): 0;
        if (zmq_poll (&item, 1, wait) == -1)
            return -1;
        while (zsock_events (self->dealer) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->dealer);
            if (!msg)
                return -1;
            called += s_handle (self, msg);
            zmsg_destroy (&msg);
        }
        called += s_expire (self);
        if (zclock_mono () >= until)
            break;
    }
    return called;
}

//  --------------------------------------------------------------------------
//  Tasks pending, and the socket

size_t
zg_async_pending (zg_async_t *self)
{
    assert (self);
    return zhashx_size (self->pending);
}

zsock_t *
zg_async_socket (zg_async_t *self)
{
    assert (self);
    return self->dealer;
}

//  --------------------------------------------------------------------------
//  Self test: teomq's producer against a real queues actor and a raw worker
#ifdef ZGCLIENT_SELFTEST

typedef struct {
    uint64_t id;
    char data [32];
    int code;
} s_test_outcome_t;

static void
s_test_answer (uint64_t id, zframe_t *data, int code, const char *error, void *arg)
{
    s_test_outcome_t *outcome = (s_test_outcome_t *) arg;
    outcome->id = id;
    outcome->code = code;
    snprintf (outcome->data, sizeof outcome->data, "%.*s", data? (int) zframe_size (data): (int) strlen (error),
              data? (char *) zframe_data (data): error);
}

//  The worker's next delivery; returns its task id
static char *
s_test_delivery (zsock_t *worker)
{
    zmsg_t *msg = zmsg_recv (worker);
    assert (msg && zmsg_size (msg) == 5);
    char *command = zmsg_popstr (msg);
    assert (streq (command, "DELIVER"));
    zstr_free (&command);
    zframe_t *name = zmsg_pop (msg);
    zframe_destroy (&name);
    char *id = zmsg_popstr (msg);
    zmsg_destroy (&msg);
    return id;
}

void
zg_async_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_async: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "reply-timeout", "200", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "inproc-producers", "inproc://zg-async-test-p", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "inproc-workers", "inproc://zg-async-test-w", error, sizeof error) == 0);
    zg_async_t *async = zg_async_new ("inproc://zg-async-test-p");
    assert (async && zg_async_new ("nonsense") == NULL);
    zsock_t *worker = zsock_new_dealer (">inproc://zg-async-test-w");
    zsock_set_rcvtimeo (worker, 2000);
    zstr_sendx (worker, "READY", "w", "\x82\xa6queues\x91\xa4jobs\xa8prefetch\x04", NULL);
    zmsg_t *msg = zmsg_recv (worker);
    zmsg_destroy (&msg);

    //  Two tasks in flight at once; their outcomes come as they end, not in
    //  the order sent: the second first, then the first (after zgate's 200
    //  ms default, which timeout 0 lifts)
    s_test_outcome_t first = { 0 }, second = { 0 }, third = { 0 };
    uint64_t one = zg_async_send (async, "jobs", "a", 1, 0, s_test_answer, &first);
    uint64_t two = zg_async_send (async, "jobs", "b", 1, 5000, s_test_answer, &second);
    assert (one == 1 && two == 2 && zg_async_pending (async) == 2);
    char *id_one = s_test_delivery (worker);
    char *id_two = s_test_delivery (worker);
    zstr_sendx (worker, "ACK", "w", id_two, "B", NULL);
    assert (zg_async_poll (async, 2000) == 1);
    assert (second.id == 2 && second.code == 0 && streq (second.data, "B") && first.id == 0);
    zclock_sleep (400);
    assert (zg_async_poll (async, 50) == 0);
    zstr_sendx (worker, "FAIL", "w", id_one, "bad input", NULL);
    assert (zg_async_poll (async, 2000) == 1);
    assert (first.id == 1 && first.code == 422 && strstr (first.data, "bad input"));
    zstr_free (&id_one);
    zstr_free (&id_two);

    //  No outcome within the timeout: 408 (zgate's own), and the entry goes
    uint64_t three = zg_async_send (async, "jobs", "c", 1, 100, s_test_answer, &third);
    char *id_three = s_test_delivery (worker);
    while (zg_async_pending (async))
        zg_async_poll (async, 1000);
    assert (third.id == three && third.code == 408);
    zstr_free (&id_three);
    //  An unknown command comes back through the callback too
    assert (zg_async_call (async, "nobody/x", 1000, s_test_answer, &third) == 4);
    assert (zg_async_poll (async, 2000) == 1 && third.id == 4 && third.code == 404);
    assert (zg_async_socket (async));

    zsock_destroy (&worker);
    zg_async_destroy (&async);
    zactor_destroy (&queues);
    //  @end
    printf ("OK\n");
}
#endif
