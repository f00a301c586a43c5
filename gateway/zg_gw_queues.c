/*  =========================================================================
    zg_gw_queues - the gateway's bridge to the queues actor

    WebSocket ops send, call, consume, cancel, ack, nack, fail and task;
    HTTP POST /api/queues/{queue}, POST /api/commands/{name} and GET
    /api/tasks/{id}; and the answers and pushed tasks that come back on the
    producers and workers DEALERs (the web forms of command mode are
    zg_gw_calls).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_queues.h"
#include "zg_gw_calls.h"
#include "zg_gw_pull.h"

//  Reply timeout of an HTTP call that names no wait, ms
#define ZG_GW_QUEUES_CALL_WAIT 5000

struct _zg_gw_queues_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_gw_counters_t *counters;     //  The gateway's counters
    zsock_t *producer;              //  DEALER to the queues' producers side
    zsock_t *worker;                //  DEALER to the queues' workers side
    bool linked;                    //  An endpoint of the queues actor is connected
    bool workers_linked;            //  The workers' endpoint is connected
    zhashx_t *workers;              //  Worker id -> zg_session_t
    msgpack_sbuffer encoded;        //  Encoding buffer of options maps
    int64_t worker_heartbeat;       //  Ping interval for web workers, ms
    int64_t next_worker_ping;       //  When to ping them next
};

//  --------------------------------------------------------------------------
//  Create the bridge

zg_gw_queues_t *
zg_gw_queues_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings)
{
    assert (answers && settings);
    zg_gw_queues_t *self = (zg_gw_queues_t *) zmalloc (sizeof (zg_gw_queues_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->counters = zg_gw_answers_counters (answers);
    self->producer = zg_gw_answers_dealer_new ();
    self->worker = zg_gw_answers_dealer_new ();
    self->workers = zhashx_new ();
    msgpack_sbuffer_init (&self->encoded);
    self->worker_heartbeat = 1000;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge and its sockets

void
zg_gw_queues_destroy (zg_gw_queues_t **self_p)
{
    assert (self_p);
    zg_gw_queues_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->producer);
        zsock_destroy (&self->worker);
        zhashx_destroy (&self->workers);
        msgpack_sbuffer_destroy (&self->encoded);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Connect the socket of a [gateway] key

int
zg_gw_queues_connect (zg_gw_queues_t *self, const char *key, const char *endpoint)
{
    bool workers = streq (key, "queues-workers");
    if (!workers && strneq (key, "queues-producers"))
        return 1;
    if (zsock_connect (workers? self->worker: self->producer, "%s", endpoint) == -1)
        return -1;
    self->linked = true;
    self->workers_linked |= workers;
    return 0;
}

//  --------------------------------------------------------------------------
//  The bridge's zsocks

zsock_t *
zg_gw_queues_socket (zg_gw_queues_t *self, size_t index)
{
    return index == 0? self->producer: index == 1? self->worker: NULL;
}

//  --------------------------------------------------------------------------
//  Web workers are alive while their session is: ping for them

void
zg_gw_queues_tick (zg_gw_queues_t *self, int64_t now)
{
    if (now < self->next_worker_ping)
        return;
    for (void *session = zhashx_first (self->workers); session; session = zhashx_next (self->workers))
        zstr_sendx (self->worker, "PING", (const char *) zhashx_cursor (self->workers), NULL);
    self->next_worker_ping = now + self->worker_heartbeat;
}

size_t
zg_gw_queues_workers (zg_gw_queues_t *self)
{
    return zhashx_size (self->workers);
}

//  Send [command][gateway req][fields...] (taking fields) to the producers
//  side; -1 (and the request forgotten) if the queues actor is not reachable
static int
s_self_request (zg_gw_queues_t *self, const char *command, zg_pending_request_t *pending, zmsg_t **fields_p)
{
    return zg_gw_answers_request (self->answers, self->linked? self->producer: NULL, command, &pending, fields_p);
}

//  An admin's request

int
zg_gw_queues_admin (zg_gw_queues_t *self, const char *command, zg_pending_kind_t kind, uint64_t http_id,
                    zmsg_t **fields_p)
{
    zg_pending_request_t *pending = zg_gw_answers_pending_new (self->answers, kind, http_id, true, NULL);
    return s_self_request (self, command, pending, fields_p);
}

//  ==========================================================================
//  WebSocket producers and workers

//  The worker id of a session
static void
s_worker_id (zg_session_t *session, char *id, size_t size)
{
    snprintf (id, size, "w%" PRIu64, session->id);
}

//  Tell the queues actor what a web worker serves (or that it left)
static int
s_self_send_ready (zg_gw_queues_t *self, zg_session_t *session)
{
    char id [32];
    s_worker_id (session, id, sizeof id);
    zmsg_t *msg = zmsg_new ();
    if (session->queue_names == 0) {
        zmsg_addstr (msg, "BYE");
        zmsg_addstr (msg, id);
        zhashx_delete (self->workers, id);
        return zg_gw_answers_send (self->answers, self->worker, &msg);
    }
    msgpack_sbuffer_clear (&self->encoded);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->encoded, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 3);
    uint32_t commands = 0;
    for (uint32_t index = 0; index < session->queue_names; index++)
        commands += session->queues [index][0] == '/';
    //  Queues, then commands without their '/'
    for (int command = 0; command < 2; command++) {
        msgpack_pack_str_with_body (&packer, command? "commands": "queues", command? 8: 6);
        msgpack_pack_array (&packer, command? commands: session->queue_names - commands);
        for (uint32_t index = 0; index < session->queue_names; index++) {
            const char *name = session->queues [index];
            if ((name [0] == '/') == (command == 1))
                msgpack_pack_str_with_body (&packer, name + command, strlen (name + command));
        }
    }
    msgpack_pack_str_with_body (&packer, "prefetch", 8);
    msgpack_pack_int64 (&packer, session->prefetch);
    zmsg_addstr (msg, "READY");
    zmsg_addstr (msg, id);
    zmsg_addmem (msg, self->encoded.data, self->encoded.size);
    zhashx_update (self->workers, id, session);
    return zg_gw_answers_send_held (self->answers, self->worker, &msg);
}

//  The options of a SEND or CALL; the queues actor applies its defaults to
//  those not given
typedef struct {
    bool reply;                     //  The producer waits for the reply
    bool scatter;                   //  A CALL to every worker of the command
    bool has_priority;              //  priority is given
    int64_t priority;               //  Higher first
    bool has_timeout;               //  timeout is given
    int64_t timeout;                //  Reply timeout, ms
    bool has_ack_timeout;           //  ack-timeout is given
    int64_t ack_timeout;            //  Time a worker may hold the task, ms
    bool has_ttl;                   //  ttl is given
    int64_t ttl;                    //  Time the task may wait in its queue, ms
} s_send_options_t;

//  Send a task (taking its payload): SEND to a queue or, with no queue, a
//  CALL whose payload is the command line; answers go to owner, a session
//  or an HTTP transaction. Returns -1 if the queues actor is not reachable.
static int
s_self_send_task (zg_gw_queues_t *self, const char *queue, const s_send_options_t *options, zframe_t **payload_p,
                  uint64_t owner, bool http, json_object *req)
{
    msgpack_sbuffer_clear (&self->encoded);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->encoded, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 1u + options->scatter + options->has_priority + options->has_timeout
                               + options->has_ack_timeout + options->has_ttl);
    msgpack_pack_str_with_body (&packer, "reply", 5);
    if (options->reply)
        msgpack_pack_true (&packer);
    else
        msgpack_pack_false (&packer);
    if (options->scatter) {
        msgpack_pack_str_with_body (&packer, "scatter", 7);
        msgpack_pack_true (&packer);
    }
    if (options->has_priority) {
        msgpack_pack_str_with_body (&packer, "priority", 8);
        msgpack_pack_int64 (&packer, options->priority);
    }
    if (options->has_timeout) {
        msgpack_pack_str_with_body (&packer, "timeout", 7);
        msgpack_pack_int64 (&packer, options->timeout);
    }
    if (options->has_ack_timeout) {
        msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
        msgpack_pack_int64 (&packer, options->ack_timeout);
    }
    if (options->has_ttl) {
        msgpack_pack_str_with_body (&packer, "ttl", 3);
        msgpack_pack_int64 (&packer, options->ttl);
    }
    zg_pending_request_t *pending = zg_gw_answers_pending_new (self->answers, ZG_PENDING_QUEUE_SEND, owner, http, req);
    pending->reply = options->reply;
    pending->scatter = options->scatter;
    zmsg_t *fields = zmsg_new ();
    if (queue)
        zmsg_addstr (fields, queue);
    zmsg_addmem (fields, self->encoded.data, self->encoded.size);
    zmsg_append (fields, payload_p);
    return s_self_request (self, queue? "SEND": "CALL", pending, &fields);
}

//  The integer options of a send or call op; false if one is not an integer
static bool
s_send_int_options (json_object *request, s_send_options_t *options)
{
    int has_priority = zg_gw_answers_int_field (request, "priority", &options->priority);
    int has_timeout = zg_gw_answers_int_field (request, "timeout", &options->timeout);
    int has_ack_timeout = zg_gw_answers_int_field (request, "ack-timeout", &options->ack_timeout);
    int has_ttl = zg_gw_answers_int_field (request, "ttl", &options->ttl);
    options->has_priority = has_priority > 0;
    options->has_timeout = has_timeout > 0;
    options->has_ack_timeout = has_ack_timeout > 0;
    options->has_ttl = has_ttl > 0;
    return has_priority >= 0 && has_timeout >= 0 && has_ack_timeout >= 0 && has_ttl >= 0;
}

//  send op without a room: a producer's task
void
zg_gw_queues_send (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *queue = zg_gw_answers_string_field (request, "queue", 65535);
    s_send_options_t options = { false };
    if (!queue || !s_send_int_options (request, &options)
    ||  zg_gw_answers_bool_field (request, "reply", &options.reply) < 0) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "send needs a queue name; priority, timeout, ack-timeout and ttl "
                     "are integers, reply a boolean");
        return;
    }
    zframe_t *payload = zg_gw_answers_data_frame (request);
    if (!payload) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "data is missing");
        return;
    }
    if (s_self_send_task (self, queue, &options, &payload, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
}

//  call op: a command task (teomq's command mode), always answered with its
//  reply, or with scatter one reply per worker and then "replies"
void
zg_gw_queues_call (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *command = zg_gw_answers_string_field (request, "command", 65535);
    s_send_options_t options = { .reply = true };
    zframe_t *line = command? zg_gw_calls_line (command, NULL, request): NULL;
    if (!line || !s_send_int_options (request, &options)
    ||  zg_gw_answers_bool_field (request, "scatter", &options.scatter) < 0) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "call needs a command (name/params...); priority, timeout, ack-timeout and ttl "
                             "are integers, scatter a boolean");
        zframe_destroy (&line);
        return;
    }
    if (s_self_send_task (self, NULL, &options, &line, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
}

//  The name a consume or cancel op gives, as the session keeps it: its
//  queue, or "/" and its command; NULL unless it names exactly one
static char *
s_consumed_name (json_object *request)
{
    const char *queue = zg_gw_answers_string_field (request, "queue", 65535);
    const char *command = zg_gw_answers_string_field (request, "command", 65535);
    if (!queue == !command || (queue && strchr (queue, '/')))
        return NULL;
    return queue? strdup (queue): zsys_sprintf ("/%s", command);
}

//  consume op: the session becomes (or stays) a worker of one more queue
//  or command
void
zg_gw_queues_consume (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    char *queue = s_consumed_name (request);
    int64_t prefetch = session->prefetch? session->prefetch: 1;
    //  READY is not answered: a prefetch the actor refuses must be refused here
    if (!queue || zg_gw_answers_int_field (request, "prefetch", &prefetch) < 0
    ||  prefetch < 1 || prefetch > self->settings->queues_max_prefetch) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "consume needs a queue or a command name and an optional prefetch 1 to %" PRId64,
                             self->settings->queues_max_prefetch);
        zstr_free (&queue);
        return;
    }
    if (!self->workers_linked) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
        zstr_free (&queue);
        return;
    }
    bool known = false;
    for (uint32_t index = 0; index < session->queue_names; index++)
        known |= streq (session->queues [index], queue);
    if (!known) {
        if ((int64_t) session->queue_names >= self->settings->max_subscriptions) {
            zg_gw_answers_error (self->answers, session, req, ZG_ERR_TOO_MANY, "at most %" PRId64 " queues per session",
                         self->settings->max_subscriptions);
            zstr_free (&queue);
            return;
        }
        session->queues = (char **) realloc (session->queues, (session->queue_names + 1) * sizeof (char *));
        assert (session->queues);
        session->queues [session->queue_names++] = queue;
        queue = NULL;
    }
    zstr_free (&queue);
    session->prefetch = prefetch;
    if (s_self_send_ready (self, session))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
    else
        zg_gw_answers_ok (self->answers, session, req);
}

//  cancel op: the worker stops taking tasks from a queue or command
void
zg_gw_queues_cancel (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    char *queue = s_consumed_name (request);
    for (uint32_t index = 0; queue && index < session->queue_names; index++)
        if (streq (session->queues [index], queue)) {
            free (session->queues [index]);
            session->queues [index] = session->queues [--session->queue_names];
            s_self_send_ready (self, session);
            zg_gw_answers_ok (self->answers, session, req);
            zstr_free (&queue);
            return;
        }
    zg_gw_answers_error (self->answers, session, req, ZG_ERR_NOT_FOUND,
                         "this session does not consume '%s'", queue? queue + (queue [0] == '/'): "");
    zstr_free (&queue);
}

//  ACK, NACK or FAIL a task the session's worker holds
static void
s_self_task_outcome (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req,
                     const char *command)
{
    const char *id = zg_gw_answers_string_field (request, "id", 255);
    if (!id) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "%s needs a task id (a string)", command);
        return;
    }
    if (session->queue_names == 0 && !session->prefetch) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_NOT_FOUND,
                             "this session is not a worker (consume first)");
        return;
    }
    char worker [32];
    s_worker_id (session, worker, sizeof worker);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, worker);
    zmsg_addstr (msg, id);
    if (streq (command, "ACK")) {
        zframe_t *payload = zg_gw_answers_data_frame (request);
        if (payload)
            zmsg_append (msg, &payload);
    }
    else
    if (streq (command, "FAIL")) {
        const char *reason = zg_gw_answers_string_field (request, "reason", 1024);
        zmsg_addstr (msg, reason? reason: "failed");
    }
    if (zg_gw_answers_send (self->answers, self->worker, &msg))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
    else
        zg_gw_answers_ok (self->answers, session, req);
}

//  ack op without a room: the worker is done with a task (data is the reply)
void
zg_gw_queues_ack (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    s_self_task_outcome (self, session, request, req, "ACK");
}

//  nack op: the task goes back to its queue
void
zg_gw_queues_nack (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    s_self_task_outcome (self, session, request, req, "NACK");
}

//  fail op: the task failed for good
void
zg_gw_queues_fail (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    s_self_task_outcome (self, session, request, req, "FAIL");
}

//  Send a GET for a task; owner is a session or an HTTP transaction
static int
s_self_get_task (zg_gw_queues_t *self, const char *id, uint64_t owner, bool http, json_object *req)
{
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, id);
    return s_self_request (self, "GET", zg_gw_answers_pending_new (self->answers, ZG_PENDING_TASK, owner, http, req),
                           &fields);
}

//  task op: a task's state
void
zg_gw_queues_task (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *id = zg_gw_answers_string_field (request, "id", 255);
    if (!id)
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "task needs a task id (a string)");
    else
    if (s_self_get_task (self, id, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
}

//  Send a TAKE, FINISH or RETRY (zg_gw_pull) for a session or an HTTP
//  transaction; 400 if its fields are bad, 503 if it cannot be sent
static int
s_self_pull (zg_gw_queues_t *self, const char *verb, const char *name, json_object *request, uint64_t owner,
             bool http, json_object *req)
{
    zmsg_t *fields = name? zg_gw_pull_fields (verb, name, request): NULL;
    if (!fields)
        return ZG_ERR_BAD_REQUEST;
    return s_self_request (self, verb, zg_gw_answers_pending_new (self->answers, ZG_PENDING_PULL, owner, http, req),
                           &fields)? ZG_ERR_UNAVAILABLE: 0;
}

//  take, finish and retry ops: pull a task of a queue, finish or retry it
void
zg_gw_queues_pull (zg_gw_queues_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *op = zg_gw_answers_string_field (request, "op", 16);
    const char *verb = streq (op, "take")? "TAKE": streq (op, "finish")? "FINISH": "RETRY";
    const char *name = zg_gw_answers_string_field (request, streq (verb, "TAKE")? "queue": "id", 255);
    int code = s_self_pull (self, verb, name, request, session->id, false, req);
    if (code == ZG_ERR_BAD_REQUEST)
        zg_gw_answers_error (self->answers, session, req, code, "%s needs %s (a string)%s", op,
                             streq (verb, "TAKE")? "a queue": "a task id", streq (verb, "TAKE")?
                             ", and ack_timeout is a positive integer": "");
    else
    if (code)
        zg_gw_answers_error (self->answers, session, req, code, "the queues actor is not reachable now");
}

//  ==========================================================================
//  Answers and tasks on the producers and workers DEALERs

//  OK to a SEND: the task is accepted. An HTTP producer that waits for the
//  reply gets the reply alone. Returns true if no REPLY is to come.
static bool
s_self_accepted (zg_gw_queues_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    if (!(pending->http && pending->reply)) {
        json_object *answer = zg_gw_answers_object ("accepted", pending->req);
        json_object_object_add (answer, "id", json_object_new_string (id? id: ""));
        json_object *body = json_object_new_object ();
        json_object_object_add (body, "id", json_object_new_string (id? id: ""));
        zg_gw_answers_answer (self->answers, pending, &answer, 200, &body);
    }
    zstr_free (&id);
    return !pending->reply;
}

//  REPLY to a SEND that waited for it: the worker's reply payload
static void
s_self_reply (zg_gw_queues_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    zframe_t *payload = zmsg_pop (msg);
    json_object *answer = zg_gw_answers_object ("reply", pending->req);
    json_object_object_add (answer, "id", json_object_new_string (id? id: ""));
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "id", json_object_new_string (id? id: ""));
    if (payload) {
        zg_gw_answers_add_data (self->answers, answer, zframe_data (payload), zframe_size (payload));
        zg_gw_answers_add_data (self->answers, body, zframe_data (payload), zframe_size (payload));
    }
    if (!pending->http) {
        zg_session_t *session = zg_gw_answers_session (self->answers, pending->owner);
        if (session)
            self->counters->out [ZG_QUEUES]++;
    }
    zg_gw_answers_answer (self->answers, pending, &answer, 200, &body);
    zframe_destroy (&payload);
    zstr_free (&id);
}

//  A message on the producers' DEALER: an answer to a pending request
static void
s_self_handle_producer (zg_gw_queues_t *self)
{
    zmsg_t *msg = zmsg_recv (self->producer);
    if (!msg)
        return;
    char *command = zmsg_popstr (msg);
    char *key = zmsg_popstr (msg);
    zg_pending_request_t *pending = key? zg_gw_answers_pending (self->answers, key): NULL;
    if (pending && command) {
        bool done = true;
        if (streq (command, "OK") && pending->kind == ZG_PENDING_PULL)
            zg_gw_pull_answer (self->answers, pending, msg);
        else
        if (pending->kind == ZG_PENDING_ADMIN_LIST || pending->kind == ZG_PENDING_ADMIN_DELETE)
            zg_gw_answers_admin (self->answers, pending, command, msg);
        else
        if (streq (command, "OK") && pending->kind == ZG_PENDING_TASK) {
            zframe_t *map = zmsg_pop (msg);
            zg_gw_answers_map (self->answers, pending, "task_state", map);
            zframe_destroy (&map);
        }
        else
        if (streq (command, "OK"))
            done = s_self_accepted (self, pending, msg);
        else
        if (streq (command, "REPLY") && pending->scatter) {
            zg_gw_calls_scatter_reply (self->answers, pending, msg);
            done = false;
        }
        else
        if (streq (command, "REPLY"))
            s_self_reply (self, pending, msg);
        else
        if (streq (command, "ERROR"))
            zg_gw_answers_native_error (self->answers, pending, msg);
        else
        if (streq (command, "END"))
            zg_gw_calls_scatter_end (self->answers, pending, msg);
        if (done)
            zg_gw_answers_pending_done (self->answers, key);
    }
    zstr_free (&command);
    zstr_free (&key);
    zmsg_destroy (&msg);
}

//  OK to a READY: the queues actor tells the heartbeat it expects
static void
s_self_worker_ok (zg_gw_queues_t *self, zmsg_t *msg)
{
    zframe_t *frame = zmsg_pop (msg);
    json_object *map = NULL;
    char error [256];
    zg_codec_t *codec = zg_gw_answers_codec (self->answers);
    if (frame && zg_codec_decode_native (codec, zframe_data (frame), zframe_size (frame), &map,
                                         error, sizeof error) == 0) {
        json_object *heartbeat = NULL;
        if (json_object_object_get_ex (map, "heartbeat", &heartbeat)
        &&  json_object_get_int64 (heartbeat) > 0)
            self->worker_heartbeat = json_object_get_int64 (heartbeat);
    }
    json_object_put (map);
    zframe_destroy (&frame);
}

//  DELIVER [id][meta][payload]: push a task to the worker's session
static void
s_self_deliver_task (zg_gw_queues_t *self, zg_session_t *session, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    zframe_t *meta = zmsg_pop (msg);
    zframe_t *payload = zmsg_pop (msg);
    json_object *task = json_object_new_object ();
    json_object_object_add (task, "op", json_object_new_string ("task"));
    json_object *map = NULL;
    char error [256];
    zg_codec_t *codec = zg_gw_answers_codec (self->answers);
    if (zg_codec_decode_native (codec, zframe_data (meta), zframe_size (meta), &map, error, sizeof error) == 0
    &&  json_object_is_type (map, json_type_object)) {
        json_object_object_foreach (map, key, value)
            json_object_object_add (task, key, json_object_get (value));
    }
    json_object_put (map);
    json_object_object_add (task, "id", json_object_new_string (id));
    zg_gw_answers_add_data (self->answers, task, zframe_data (payload), zframe_size (payload));
    //  A task is not dropped: a worker that cannot take it loses its session
    zg_frame_t *frame = zg_gw_answers_frame (self->answers, task, session->msgpack);
    zg_gw_answers_push (self->answers, session, frame, true, ZG_QUEUES);
    self->counters->out [ZG_QUEUES]++;
    zg_frame_unref (&frame);
    json_object_put (task);
    zstr_free (&id);
    zframe_destroy (&meta);
    zframe_destroy (&payload);
}

//  ERROR [code][reason] for a worker: a 404 means the queues actor forgot
//  it (it expired), so it announces itself again; others go to the session
//  as a push, which has no "req" (not even null: it answers no request)
static void
s_self_worker_error (zg_gw_queues_t *self, zg_session_t *session, zmsg_t *msg)
{
    char *code = zmsg_popstr (msg);
    char *reason = zmsg_popstr (msg);
    if (code && atoi (code) == ZG_ERR_NOT_FOUND && session->queue_names) {
        //  The names it makes again are its client's, as the first time
        zg_gw_answers_hold (self->answers, session->wsi);
        s_self_send_ready (self, session);
        zg_gw_answers_hold (self->answers, NULL);
    }
    else {
        json_object *error = json_object_new_object ();
        json_object_object_add (error, "op", json_object_new_string ("error"));
        json_object_object_add (error, "code", json_object_new_int (code? atoi (code): ZG_ERR_SERVER));
        json_object_object_add (error, "message", json_object_new_string (reason? reason: "error"));
        self->counters->errors++;
        zg_gw_answers_send_object (self->answers, session, &error, true, ZG_QUEUES);
    }
    zstr_free (&code);
    zstr_free (&reason);
}

//  A message on the workers' DEALER: for the gateway, or for one worker
static void
s_self_handle_worker (zg_gw_queues_t *self)
{
    zmsg_t *msg = zmsg_recv (self->worker);
    if (!msg)
        return;
    char *command = zmsg_popstr (msg);
    char *worker = zmsg_popstr (msg);
    zg_session_t *session = worker? (zg_session_t *) zhashx_lookup (self->workers, worker): NULL;
    if (command && streq (command, "OK"))
        s_self_worker_ok (self, msg);
    else
    if (command && streq (command, "DELIVER") && session && zmsg_size (msg) == 3)
        s_self_deliver_task (self, session, msg);
    else
    if (command && streq (command, "ERROR") && session)
        s_self_worker_error (self, session, msg);
    zstr_free (&command);
    zstr_free (&worker);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  Handle a message of each readable zsock

size_t
zg_gw_queues_drain (zg_gw_queues_t *self, bool *more)
{
    size_t handled = 0;
    if (zsock_events (self->producer) & ZMQ_POLLIN) {
        s_self_handle_producer (self);
        handled++;
    }
    if (zsock_events (self->worker) & ZMQ_POLLIN) {
        s_self_handle_worker (self);
        handled++;
    }
    if (handled)
        *more = true;
    return handled;
}

//  --------------------------------------------------------------------------
//  A session ended: its worker leaves, and the tasks it held go back at once

void
zg_gw_queues_session_closed (zg_gw_queues_t *self, zg_session_t *session)
{
    if (session->queue_names || session->prefetch) {
        while (session->queue_names)
            free (session->queues [--session->queue_names]);
        s_self_send_ready (self, session);
    }
}

//  ==========================================================================
//  HTTP producers

//  POST /api/queues/{queue}: a task; with wait > 0, the reply too
void
zg_gw_queues_http_send (zg_gw_queues_t *self, zg_http_t *http, const char *queue)
{
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return;
    s_send_options_t options = { false };
    int64_t wait = 0;
    json_object *data = NULL;
    int has_priority = zg_gw_answers_int_field (body, "priority", &options.priority);
    int has_ttl = zg_gw_answers_int_field (body, "ttl", &options.ttl);
    if (!json_object_object_get_ex (body, "data", &data) || has_priority < 0 || has_ttl < 0
    ||  zg_gw_answers_int_field (body, "wait", &wait) < 0
    ||  wait < 0 || wait > self->settings->queues_max_reply_timeout) {
        //  wait is bounded before it is added to the HTTP timeout
        char message [128];
        snprintf (message, sizeof message, "the body needs data; priority and ttl are integers, wait 0 to %" PRId64
                  " ms",
                  self->settings->queues_max_reply_timeout);
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, message);
        json_object_put (body);
        return;
    }
    //  wait is the reply timeout of a producer that waits for the reply
    options.reply = wait > 0;
    options.has_priority = has_priority > 0;
    options.has_ttl = has_ttl > 0;
    options.has_timeout = wait > 0;
    options.timeout = wait;
    zframe_t *payload = zg_gw_answers_data_frame (body);
    if (s_self_send_task (self, queue, &options, &payload, http->id, true, NULL))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, wait + self->settings->http_timeout);
    json_object_put (body);
}

//  POST /api/commands/{name}: a command task and its reply (or, with
//  scatter, every worker's reply)
void
zg_gw_queues_http_call (zg_gw_queues_t *self, zg_http_t *http, const char *name)
{
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return;
    s_send_options_t options = { .reply = true, .has_timeout = true, .timeout = ZG_GW_QUEUES_CALL_WAIT };
    json_object *params_value = NULL;
    const char *params = zg_gw_answers_string_field (body, "params", 65535);
    int has_priority = zg_gw_answers_int_field (body, "priority", &options.priority);
    int has_wait = zg_gw_answers_int_field (body, "wait", &options.timeout);
    zframe_t *line = strchr (name, '/') || (json_object_object_get_ex (body, "params", &params_value) && !params)?
                     NULL: zg_gw_calls_line (name, params, body);
    if (!line || has_priority < 0 || has_wait < 0 || options.timeout < 1
    ||  zg_gw_answers_bool_field (body, "scatter", &options.scatter) < 0) {
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "request's body is invalid");
        zframe_destroy (&line);
        json_object_put (body);
        return;
    }
    options.has_priority = has_priority > 0;
    if (s_self_send_task (self, NULL, &options, &line, http->id, true, NULL))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, options.timeout + self->settings->http_timeout);
    json_object_put (body);
}

//  GET /api/tasks/{id}: a task's state
void
zg_gw_queues_http_task (zg_gw_queues_t *self, zg_http_t *http, const char *id)
{
    if (s_self_get_task (self, id, http->id, true, NULL))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the queues actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
}

//  POST /api/queues/{queue}/take, /api/tasks/{id}/finish, /api/tasks/{id}/retry
void
zg_gw_queues_http_pull (zg_gw_queues_t *self, zg_http_t *http, const char *name)
{
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return;
    const char *verb = strstr (http->endpoint, "/take")? "TAKE": strstr (http->endpoint, "/finish")? "FINISH"
                                                                                                   : "RETRY";
    int code = s_self_pull (self, verb, name, body, http->id, true, NULL);
    if (code)
        zg_http_reply_message (http, code, code == ZG_ERR_BAD_REQUEST? "request's body is invalid"
                                                                     : "the queues actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
    json_object_put (body);
}

//  --------------------------------------------------------------------------
//  Self test of this class: a web producer and a web worker (sessions
//  without a connection) through a real queues actor

//  Drain the bridge until *counter reaches target (at most 5 s)
static void
s_test_drain_until (zg_gw_queues_t *self, _Atomic uint64_t *counter, uint64_t target)
{
    int64_t deadline = zclock_mono () + 5000;
    while (*counter < target && zclock_mono () < deadline) {
        bool more = false;
        if (zg_gw_queues_drain (self, &more) == 0)
            zclock_sleep (5);
    }
    assert (*counter >= target);
}

void
zg_gw_queues_test (bool verbose)
{
    printf (" * zg_gw_queues: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_subscriptions = 4, .max_queue_bytes = 65536,
                                  .http_timeout = 5000, .queues_max_prefetch = 10,
                                  .queues_max_reply_timeout = 60000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_counters_t *counters = zg_gw_answers_counters (answers);
    zg_gw_queues_t *queues = zg_gw_queues_new (answers, &settings);
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, session);

    //  Bad requests, and good ones while the queues actor is not linked,
    //  are answered with an error at once
    const char *refused [] = {
        "{\"queue\":\"jobs\",\"data\":1,\"ack-timeout\":\"soon\"}",
        "{\"queue\":\"jobs\"}",
        "{\"queue\":\"jobs\",\"data\":1,\"ack-timeout\":1000}",
        "{\"queue\":\"jobs\",\"data\":1,\"ttl\":\"an hour\"}",
        NULL
    };
    for (int index = 0; refused [index]; index++) {
        json_object *request = json_tokener_parse (refused [index]);
        zg_gw_queues_send (queues, session, request, NULL);
        json_object_put (request);
    }
    json_object *request = json_tokener_parse ("{\"id\":\"t1\"}");
    zg_gw_queues_ack (queues, session, request, NULL);
    zg_gw_queues_consume (queues, session, request, NULL);
    json_object_put (request);
    assert (counters->errors == 6 && session->queue_count == 6);
    //  A prefetch the actor would refuse is refused before any ok
    request = json_tokener_parse ("{\"queue\":\"jobs\",\"prefetch\":11}");
    zg_gw_queues_consume (queues, session, request, NULL);
    json_object_put (request);
    assert (counters->errors == 7 && session->queue_names == 0);
    //  A REST wait is range-checked before it is added to the HTTP timeout
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/queues/q");
    const char *body = "{\"data\":1,\"wait\":9223372036854775807}";
    zg_http_append (http, body, strlen (body), 1024);
    zg_gw_queues_http_send (queues, http, "q");
    assert (http->status == ZG_ERR_BAD_REQUEST && zg_gw_answers_pending_size (answers) == 0);
    zg_http_destroy (&http);

    //  Linked to a real actor: the session consumes, then sends a task,
    //  which comes back to it as a worker
    zactor_t *actor = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (actor, "verbose", verbose? "1": "0", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "producers", "inproc://zg-gw-queues-test-p", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "workers", "inproc://zg-gw-queues-test-w", error, sizeof error) == 0);
    assert (zg_gw_queues_connect (queues, "rooms-clients", "inproc://x") == 1);
    assert (zg_gw_queues_connect (queues, "queues-producers", "inproc://zg-gw-queues-test-p") == 0);
    assert (zg_gw_queues_connect (queues, "queues-workers", "inproc://zg-gw-queues-test-w") == 0);
    request = json_tokener_parse ("{\"queue\":\"jobs\",\"prefetch\":1}");
    zg_gw_queues_consume (queues, session, request, NULL);
    json_object_put (request);
    assert (zg_gw_queues_workers (queues) == 1 && session->queue_count == 8);
    request = json_tokener_parse ("{\"queue\":\"jobs\",\"data\":{\"n\":1},\"ack-timeout\":1000,\"ttl\":60000}");
    zg_gw_queues_send (queues, session, request, NULL);
    json_object_put (request);
    s_test_drain_until (queues, &counters->out [ZG_QUEUES], 1);
    assert (counters->errors == 7);

    //  HTTP: an unknown task's state is a 404, once the actor answers
    http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_GET, "/api/tasks/none");
    zg_gw_queues_http_task (queues, http, "none");
    assert (http->status == 0 && zg_gw_answers_pending_size (answers) > 0);
    int64_t deadline = zclock_mono () + 5000;
    while (http->status == 0 && zclock_mono () < deadline) {
        bool more = false;
        zg_gw_queues_drain (queues, &more);
    }
    assert (http->status == ZG_ERR_NOT_FOUND);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);

    //  The session ends: its worker says goodbye
    zg_gw_queues_session_closed (queues, session);
    assert (zg_gw_queues_workers (queues) == 0);
    zg_gw_answers_remove_session (answers, session);
    zg_session_destroy (&session);
    zg_gw_queues_destroy (&queues);
    zg_gw_queues_destroy (&queues);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&actor);
    //  @end
    printf ("OK\n");
}
