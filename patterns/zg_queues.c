/*  =========================================================================
    zg_queues - work queues actor: producers and workers over two ROUTERs,
    with credit, acks, redelivery, dead letters, replies and command mode

    This file is the actor: its sockets, and the framing of each request
    (zg_wire), checked against the command tables and handed to the
    dispatch core as a typed call. Private classes: zg_qoptions (settings
    and request options), zg_qcore (the dispatch core, socket-free: credit,
    delivery, answers, requeue, dead letters, scatter, retention), which
    writes what it sends into a zg_qoutbox that this actor sends after each
    request and each timer pass; the core keeps its tasks in zg_tasks, its
    queues in zg_qtable (each a zg_taskq), its workers in zg_qworkers and
    its recent list in zg_qrecent. With data-dir, zg_qjournal makes each
    pass durable before it is sent.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_qoptions.h"
#include "zg_qcore.h"
#include "zg_qtake.h"
#include "zg_qacks.h"
#include "zg_qsends.h"
#include "zg_qadmin.h"
#include "zg_qttl.h"
#include "zg_security.h"
#include "zg_qanswers.h"
#include "zg_routebytes.h"
#include "zg_qtest.h"
#include "zg_qjournal.h"
#include "zg_queues_link.h"

//  Messages handled per socket per wake-up before the others get a turn
#define ZG_QUEUES_BATCH 1024
//  Most frames in any valid message, routing id included
#define ZG_QUEUES_MAX_FRAMES 6
//  Longest client bytes (verb, name, id) quoted in a reason
#define ZG_QUEUES_QUOTE_MAX 64

struct _zg_queues_core_t {
    zsock_t *pipe;                  //  Actor command pipe (NULL without a thread)
    zsock_t *producers;             //  ROUTER for producers
    zsock_t *workers;               //  ROUTER for workers
    zg_qsettings_t settings;        //  Current settings
    zg_qcore_t *core;               //  Tasks, queues and workers
    zg_security_t *security;        //  CURVE and permissions
    zg_qanswers_t *answers;         //  Answers to the request being handled
    zg_routebytes_t *routebytes;    //  Bytes queued for each TCP connection
    zg_qjournal_t *journal;         //  The store the core journals to (data-dir), or in memory
    zg_qttl_t *ttls;                //  Each queue's default ttl (task-ttls)
    zg_queues_link_t *link;         //  Cluster mode: queues in Redis, through the cluster actor
    msgpack_sbuffer buffer;         //  Reused for every msgpack answer
    msgpack_packer packer;          //  Packs into buffer
    bool terminated;                //  $TERM received
};
typedef zg_queues_core_t self_t;

//  A request handler; worker is the sender's worker (NULL for producers,
//  and for a READY from a new worker)
typedef void (s_handler_fn) (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker);

//  One command of a table: its verb, its frame counts (routing id
//  included), its handler and its form, for the error that a wrong count gets
typedef struct {
    const char *command;            //  Verb, the first frame
    size_t min_frames;              //  Fewest frames
    size_t max_frames;              //  Most frames
    s_handler_fn *handler;          //  Handles it
    const char *usage;              //  Its form
    bool any_worker;                //  Workers: allowed from an unknown worker
} s_command_t;

static void s_self_send (void *arg, zg_qoutbox_t *outbox);
static void s_self_apply_socket_options (self_t *self);

//  --------------------------------------------------------------------------

zg_queues_core_t *
zg_queues_core_new (void)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->settings = zg_qsettings_defaults ();
    self->producers = zsock_new (ZMQ_ROUTER);
    self->workers = zsock_new (ZMQ_ROUTER);
    assert (self->producers && self->workers);
    //  Unroutable messages fail instead of vanishing, so we can count them
    zsock_set_router_mandatory (self->producers, 1);
    zsock_set_router_mandatory (self->workers, 1);
    self->core = zg_qcore_new (&self->settings);
    self->journal = zg_qjournal_new (&self->settings, s_self_send, self);
    self->security = zg_security_new ();
    self->answers = zg_qanswers_new (self->security);
    self->routebytes = zg_routebytes_new ();
    zg_routebytes_attach (self->routebytes, zsock_resolve (self->producers));
    zg_routebytes_attach (self->routebytes, zsock_resolve (self->workers));
    zg_security_watch_routes (self->security, self->routebytes);
    self->ttls = zg_qttl_new ();
    self->link = zg_queues_link_new ();
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    s_self_apply_socket_options (self);
    return self;
}

//  --------------------------------------------------------------------------

void
zg_queues_core_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    //  Security first: its watchdog stops the sockets' monitors
    zg_qanswers_destroy (&self->answers);
    zg_security_destroy (&self->security);
    zg_routebytes_destroy (&self->routebytes);
    zsock_destroy (&self->producers);
    zsock_destroy (&self->workers);
    zg_qcore_destroy (&self->core);
    zg_qjournal_destroy (&self->journal);
    zg_qttl_destroy (&self->ttls);
    zg_queues_link_destroy (&self->link);
    msgpack_sbuffer_destroy (&self->buffer);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Apply socket options; they apply to connections made from now on

static void
s_self_apply_socket_options (self_t *self)
{
    zsock_t *sockets [] = { self->producers, self->workers };
    for (int index = 0; index < 2; index++) {
        zg_actor_set_hwms (sockets [index], self->settings.sndhwm, self->settings.rcvhwm);
        zsock_set_maxmsgsize (sockets [index], (int) self->settings.max_message_size);
        //  ZMTP heartbeats let libzmq drop dead TCP peers; workers are judged
        //  dead by the application heartbeat, which sees logical workers
        zsock_set_heartbeat_ivl (sockets [index], (int) self->settings.heartbeat_interval);
        zsock_set_heartbeat_timeout (sockets [index], (int) self->settings.worker_timeout);
    }
}

//  --------------------------------------------------------------------------
//  Apply one setting; endpoint keys bind at once

int
zg_queues_core_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (strncmp (key, "security-", 9) == 0)
        return zg_security_set (self->security, key + 9, value, error, size)? -1: 0;
    if (streq (key, "producers") || streq (key, "inproc-producers"))
        return zg_security_bind (self->security, self->producers, value, error, size);
    if (streq (key, "workers") || streq (key, "inproc-workers"))
        return zg_security_bind (self->security, self->workers, value, error, size);
    if (streq (key, "data-dir"))
        return zg_qjournal_open (self->journal, value, &self->core, error, size);
    if (streq (key, "task-ttls"))
        return zg_qttl_set (self->ttls, value, self->settings.max_task_ttl, error, size);
    if (streq (key, "cluster") && zg_qjournal_on (self->journal)) {
        snprintf (error, size, "queues in a cluster live in Redis: data-dir must be empty");
        return -1;
    }
    if (streq (key, "cluster"))
        return zg_queues_link_connect (self->link, value, self->core, &self->settings, error, size);
    int rc = zg_qsettings_set (&self->settings, key, value, error, size);
    if (rc == 0) {
        zg_qcore_settings_changed (self->core);
        zg_queues_link_settings (self->link);
        s_self_apply_socket_options (self);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Send an outbox's messages in order; flush sends what the core wrote

static void
s_self_send (void *arg, zg_qoutbox_t *outbox)
{
    self_t *self = (self_t *) arg;
    for (size_t index = 0; index < zg_qoutbox_size (outbox); index++) {
        zg_qoutbox_msg_t *msg = zg_qoutbox_get (outbox, index);
        zsock_t *socket = msg->to == ZG_QOUTBOX_PRODUCER? self->producers: self->workers;
        if (zg_qoutbox_send (msg, zsock_resolve (socket)))
            zg_qanswers_unroutable (self->answers);
    }
    zg_qoutbox_clear (outbox);
}

static void
s_self_flush (self_t *self)
{
    s_self_send (self, zg_qcore_outbox (self->core));
}

//  --------------------------------------------------------------------------
//  Frame index as a task id; 0 (no task has it) if it is not one

static uint64_t
s_frame_id (zg_wire_request_t *request, size_t index)
{
    uint64_t id = 0;
    zg_wire_part_t frame = zg_wire_frame (request, index);
    if (zg_wire_parse_uint (frame.data, frame.size, UINT64_MAX, &id))
        return 0;
    return id;
}

//  --------------------------------------------------------------------------
//  Length to quote of client bytes in a reason

static int
s_quote (size_t size)
{
    return (int) (size > ZG_QUEUES_QUOTE_MAX? ZG_QUEUES_QUOTE_MAX: size);
}

//  --------------------------------------------------------------------------
//  OK with one field (a new task's id, what a DELETE dropped); in durable
//  mode held until the pass's changes are on disk

static void
s_self_ok_durable (self_t *self, zg_wire_request_t *request, const char *field)
{
    zg_wire_part_t req = zg_wire_frame (request, 2);
    if (zg_qjournal_on (self->journal) && req.size)
        zg_qoutbox_ok (zg_qcore_outbox (self->core), zg_wire_frame (request, 0), req, field);
    else {
        zg_wire_part_t parts [] = { zg_wire_str (field) };
        zg_qanswers_ok (self->answers, request, parts, 1);
    }
}

//  --------------------------------------------------------------------------
//  A queue or command name of a request, checked and copied into text
//  (ZG_QOPTIONS_NAME_MAX + 1 bytes, NUL ended); answers 413 or 400 and
//  returns false if it is not a valid name

static bool
s_self_name (self_t *self, zg_wire_request_t *request, const char *name, size_t size, const char *what, char *text)
{
    if (!zg_qsettings_valid_name (&self->settings, name, size)) {
        bool long_name = (int64_t) size > self->settings.max_name_size;
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2),
                           long_name? ZG_ERR_TOO_LARGE: ZG_ERR_BAD_REQUEST, "invalid %s name '%.*s'", what,
                           s_quote (size), name);
        return false;
    }
    memcpy (text, name, size);
    text [size] = 0;
    return true;
}

//  --------------------------------------------------------------------------
//  With security on, a new task keeps its producer's identity: GET is the
//  producer's (the durable store keeps it across a restart)

static const char *
s_self_owner (self_t *self, zg_wire_request_t *request)
{
    return zg_security_on (self->security)? zg_wire_identity (request): NULL;
}

//  Who the names a request makes are charged to: with security on its
//  identity, else its connection, or the holder the gateway named

static zg_holder_t
s_self_holder (self_t *self, zg_wire_request_t *request)
{
    return (zg_holder_t) { request, zg_security_on (self->security) };
}

//  --------------------------------------------------------------------------
//  SEND req queue options payload, or CALL req options name/params/data

static void
s_producer_submit (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    bool call = zg_wire_is (request, 1, "CALL");
    zg_wire_part_t req = zg_wire_frame (request, 2);
    zmq_msg_t *line = &request->frames [call? 4: 5];
    size_t line_size = zmq_msg_size (line);
    const char *name = (const char *) request->data [call? 4: 3];
    size_t name_size = request->size [call? 4: 3];
    const char *slash = call? (const char *) memchr (name, '/', name_size): NULL;
    if (slash)
        name_size = (size_t) (slash - name);
    char text [ZG_QOPTIONS_NAME_MAX + 1];
    if (!s_self_name (self, request, name, name_size, call? "command": "queue", text))
        return;
    zg_qoptions_t options;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    size_t options_index = call? 3: 4;
    if (!zg_qanswers_allows (self->answers, request, "send", text))
        return;
    if (zg_qoptions_parse (&options, &self->settings, request->data [options_index], request->size [options_index],
                           false, &code, reason))
        zg_qanswers_error (self->answers, request, req, code, "%s", reason);
    else
    if (options.scatter && !call)
        zg_qanswers_error (self->answers, request, req, ZG_ERR_BAD_REQUEST, "option 'scatter' is for CALL");
    else
    if ((int64_t) line_size > self->settings.max_task_size)
        zg_qanswers_error (self->answers, request, req, ZG_ERR_TOO_LARGE, "payload larger than %" PRId64 " bytes",
                           self->settings.max_task_size);
    else
    if (!call && zg_queues_link_on (self->link))
        zg_queues_link_send (self->link, &request->frames [0], &request->frames [2], text, &options, line);
    else {
        //  A task that brings no ttl takes its queue's (task-ttls, task-ttl)
        if (options.ttl < 0)
            options.ttl = zg_qttl_lookup (self->ttls, text, self->settings.task_ttl);
        //  A command's payload is the line after the name and its slash
        zmq_msg_t rest;
        zmq_msg_init (&rest);
        if (call) {
            size_t skip = slash? name_size + 1: name_size;
            zmq_msg_close (&rest);
            zmq_msg_init_size (&rest, line_size - skip);
            memcpy (zmq_msg_data (&rest), (const byte *) zmq_msg_data (line) + skip, line_size - skip);
        }
        zg_holder_t holder = s_self_holder (self, request);
        options.holder = &holder;
        zg_qcore_submit_t submit = {
            text, call, &options, call? &rest: line, &request->frames [0], &request->frames [2],
            s_self_owner (self, request)
        };
        char id [ZG_TASKS_ID_SIZE + 1];
        bool submitted = zg_qcore_submit (self->core, &submit, id, &code, reason) == 0;
        if (!submitted)
            zg_qanswers_error (self->answers, request, req, code, "%s", reason);
        else
            s_self_ok_durable (self, request, id);
        zmq_msg_close (&rest);
    }
    zg_qoptions_clear (&options);
}

//  --------------------------------------------------------------------------
//  SENDS req queue options records: a version 2 batch of SENDs (zg_qsends),
//  the name and permission checked once; cluster mode serves SEND only

static void
s_producer_sends (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    char text [ZG_QOPTIONS_NAME_MAX + 1];
    int code = ZG_ERR_UNKNOWN_COMMAND;
    char reason [ZG_WIRE_REASON_SIZE] = "SENDS is not served in cluster mode: use SEND";
    zg_holder_t holder = s_self_holder (self, request);
    zg_qsends_t sends = { &self->settings, self->ttls, s_self_owner (self, request), &holder };
    if (s_self_name (self, request, (const char *) request->data [3], request->size [3], "queue", text)
    &&  zg_qanswers_allows (self->answers, request, "send", text)
    &&  (zg_queues_link_on (self->link) || zg_qsends_batch (self->core, &sends, request, text, &code, reason)))
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
}

//  --------------------------------------------------------------------------
//  GET req id: the task as a msgpack map

static void
s_producer_get (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    zg_task_t *task = zg_qcore_task (self->core, s_frame_id (request, 3));
    //  A task held elsewhere shows neither its owner nor its queue here:
    //  with security on, only an admin reads it
    if (!task && zg_queues_link_on (self->link) && (!zg_security_on (self->security)
                                                    || zg_security_admin (self->security, zg_wire_identity (request)))) {
        zg_queues_link_get (self->link, &request->frames [0], &request->frames [2], &request->frames [3]);
        return;
    }
    if (!task) {
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), ZG_ERR_NOT_FOUND,
                           "unknown task '%.*s'", s_quote (request->size [3]), (const char *) request->data [3]);
        return;
    }
    //  Its producer may read it, and whoever may read its queue's results
    const char *identity = zg_wire_identity (request);
    bool owner = task->owner && identity && streq (task->owner, identity);
    bool readable = owner || zg_security_admin (self->security, identity)
                 || zg_security_allows (self->security, identity, "queues", "results", task->queue->name, false);
    if (!zg_qanswers_permitted (self->answers, request, readable, "read the results of", task->id_text))
        return;
    msgpack_sbuffer_clear (&self->buffer);
    zg_task_pack (task, &self->packer);
    zg_wire_part_t parts [] = { { self->buffer.data, self->buffer.size } };
    zg_qanswers_ok (self->answers, request, parts, 1);
    zg_qcore_read (self->core, task);
}

//  --------------------------------------------------------------------------
//  Counters as a json-c object: the pipe's STATS and, packed, the wire's

static json_object *
s_self_stats_json (self_t *self)
{
    json_object *root = zg_qcore_stats (self->core);
    zg_qanswers_stats (self->answers, root, zg_qcore_errors (self->core));
    zg_connwatch_add_stats (zg_security_watch (self->security), root);
    if (zg_qjournal_on (self->journal))
        json_object_object_add (root, "store", zg_qjournal_stats (self->journal));
    zg_queues_link_stats (self->link, root);
    return root;
}

//  --------------------------------------------------------------------------
//  STATS req

static void
s_producer_stats (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    bool admin = zg_security_admin (self->security, zg_wire_identity (request));
    if (!zg_qanswers_permitted (self->answers, request, admin, "see", "STATS"))
        return;
    json_object *root = s_self_stats_json (self);
    msgpack_sbuffer_clear (&self->buffer);
    zg_wire_pack_json (&self->packer, root);
    json_object_put (root);
    zg_wire_part_t parts [] = { { self->buffer.data, self->buffer.size } };
    zg_qanswers_ok (self->answers, request, parts, 1);
}

//  --------------------------------------------------------------------------
//  DELETE req queue options: an admin deletes a queue (zg_qadmin); the OK
//  says how many waiting tasks were dropped

static void
s_producer_delete (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    char name [ZG_QOPTIONS_NAME_MAX + 1];
    bool admin = zg_security_admin (self->security, zg_wire_identity (request));
    if (!zg_qanswers_permitted (self->answers, request, admin, "delete", "queues")
    ||  !s_self_name (self, request, (const char *) request->data [3], request->size [3], "queue", name))
        return;
    uint64_t dropped;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    char text [ZG_WIRE_NUMBER_SIZE];
    if (zg_qadmin_delete (self->core, name, request->data [4], request->size [4], &dropped, &code, reason))
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
    else {
        zg_wire_format_uint (dropped, text);
        s_self_ok_durable (self, request, text);
    }
}

//  --------------------------------------------------------------------------
//  PING req

static void
s_producer_ping (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    zg_qanswers_ok (self->answers, request, NULL, 0);
}

//  --------------------------------------------------------------------------
//  READY worker options: create or update a worker's seats and prefetch

static void
s_worker_ready (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    zg_qoptions_t options;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qoptions_parse (&options, &self->settings, request->data [3], request->size [3], true, &code,
                                reason);
    zg_holder_t holder = s_self_holder (self, request);
    options.holder = &holder;
    for (size_t index = 0; rc == 0 && index < options.name_count; index++)
        if (!zg_qanswers_allows (self->answers, request, "consume", options.names [index].text))
            rc = 1;                 //  Answered 403
    if (rc == 0 && !(worker = zg_qcore_ready (self->core, worker, request->data [0], request->size [0],
                                              request->data [2], request->size [2], &options, &code, reason)))
        rc = -1;
    //  The seats are in the order of the names
    for (size_t index = 0; rc == 0 && index < options.name_count; index++)
        worker->seats [index].quiet = zg_qoptions_is_quiet (&options, &options.names [index]);
    if (rc == 0)
        zg_queues_link_watch (self->link, &options);
    if (rc == -1)
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
    else
    if (rc == 0) {
        msgpack_sbuffer_clear (&self->buffer);
        zg_qoptions_pack_ready (&options, &self->settings, &self->packer);
        zg_wire_part_t parts [] = { { self->buffer.data, self->buffer.size } };
        zg_qanswers_answer (self->answers, request, "OK", parts, 1);
    }
    zg_qoptions_clear (&options);
}

//  --------------------------------------------------------------------------
//  ACK worker id [reply], NACK worker id [reason], FAIL worker id reason
//  (zg_qacks)

static void
s_worker_answer (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    if (zg_qacks_answer (self->core, &self->settings, worker, request, &code, reason))
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
}

//  --------------------------------------------------------------------------
//  ACKS worker records: a version 2 batch of ACKs (zg_qacks)

static void
s_worker_acks (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    if (zg_qacks_batch (self->core, &self->settings, worker, request, &code, reason))
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
}

//  --------------------------------------------------------------------------
//  PING worker

static void
s_worker_ping (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    zg_qanswers_answer (self->answers, request, "OK", NULL, 0);
}

//  --------------------------------------------------------------------------
//  BYE worker: it leaves, its tasks go back to their queues

static void
s_worker_bye (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) request;
    zg_qcore_bye (self->core, &worker);
}

//  --------------------------------------------------------------------------
//  Whether the sender may consume from queue (NULL: every queue, admin
//  only); answers 403 if not

static bool
s_self_may_consume (void *arg, zg_wire_request_t *request, const char *queue)
{
    self_t *self = (self_t *) arg;
    if (queue)
        return zg_qanswers_allows (self->answers, request, "consume", queue);
    return zg_qanswers_permitted (self->answers, request, !zg_security_on (self->security)
                                  || zg_security_admin (self->security, zg_wire_identity (request)),
                                  "consume from", "every queue");
}

//  --------------------------------------------------------------------------
//  TAKE req options, FINISH req id [output], RETRY req id (zg_qtake)

static void
s_producer_pull (self_t *self, zg_wire_request_t *request, zg_qworker_t *worker)
{
    (void) worker;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    if (zg_qtake_handle (self->core, &self->settings, request, s_self_may_consume, self, &code, reason) == -1)
        zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), code, "%s", reason);
}

//  Producers' commands; frame counts include the routing id
static const s_command_t s_producer_commands [] = {
    { "SEND", 6, 6, s_producer_submit, "SEND is [SEND][req][queue][options][payload]", false },
    { "SENDS", 6, 6, s_producer_sends, "SENDS is [SENDS][req][queue][options][records]", false },
    { "CALL", 5, 5, s_producer_submit, "CALL is [CALL][req][options][name/params/data]", false },
    { "GET", 4, 4, s_producer_get, "GET is [GET][req][id]", false },
    { "TAKE", 4, 4, s_producer_pull, "TAKE is [TAKE][req][options]", false },
    { "FINISH", 4, 5, s_producer_pull, "FINISH is [FINISH][req][id] or [FINISH][req][id][output]", false },
    { "RETRY", 4, 4, s_producer_pull, "RETRY is [RETRY][req][id]", false },
    { "STATS", 3, 3, s_producer_stats, "STATS is [STATS][req]", false },
    { "DELETE", 5, 5, s_producer_delete, "DELETE is [DELETE][req][queue][options]", false },
    { "PING", 3, 3, s_producer_ping, "PING is [PING][req]", false },
    { NULL }
};

//  Workers' commands
static const s_command_t s_worker_commands [] = {
    { "ACKS", 4, 4, s_worker_acks, "ACKS is [ACKS][worker][records]", false },
    { "ACK", 4, 5, s_worker_answer, "ACK is [ACK][worker][id] or [ACK][worker][id][reply]", false },
    { "READY", 4, 4, s_worker_ready, "READY is [READY][worker][options]", true },
    { "PING", 3, 3, s_worker_ping, "PING is [PING][worker]", false },
    { "NACK", 4, 5, s_worker_answer, "NACK is [NACK][worker][id] or [NACK][worker][id][reason]", false },
    { "FAIL", 5, 5, s_worker_answer, "FAIL is [FAIL][worker][id][reason]", false },
    { "BYE", 3, 3, s_worker_bye, "BYE is [BYE][worker]", false },
    { NULL }
};

//  --------------------------------------------------------------------------
//  The command a request's verb names, or NULL (answered 405, unknown verb)

static const s_command_t *
s_self_command (self_t *self, zg_wire_request_t *request, const s_command_t *table, zg_wire_part_t name)
{
    for (const s_command_t *entry = table; entry->command; entry++)
        if (zg_wire_is (request, 1, entry->command))
            return entry;
    zg_wire_part_t verb = zg_wire_frame (request, 1);
    zg_qanswers_error (self->answers, request, name, ZG_ERR_UNKNOWN_COMMAND, "unknown command '%.*s'",
                       s_quote (verb.size), (const char *) verb.data);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Whether the request has the frames its command takes; answers 400 if not

static bool
s_self_fits (self_t *self, zg_wire_request_t *request, const s_command_t *entry)
{
    if (request->count >= entry->min_frames && request->count <= entry->max_frames)
        return true;
    zg_qanswers_error (self->answers, request, zg_wire_frame (request, 2), ZG_ERR_BAD_REQUEST, "%s", entry->usage);
    return false;
}

//  --------------------------------------------------------------------------
//  One message from a producer connection: [command][req][fields...]

static void
s_self_handle_producer (self_t *self, zg_wire_request_t *request)
{
    zg_wire_part_t req = zg_wire_frame (request, 2);
    if ((int64_t) req.size > self->settings.max_name_size) {
        zg_qanswers_error (self->answers, request, zg_wire_str (""), ZG_ERR_TOO_LARGE,
                           "req longer than %" PRId64 " bytes", self->settings.max_name_size);
        return;
    }
    const s_command_t *entry = s_self_command (self, request, s_producer_commands, req);
    if (entry && s_self_fits (self, request, entry))
        entry->handler (self, request, NULL);
}

//  --------------------------------------------------------------------------
//  One message from a worker connection: [command][worker][fields...]

static void
s_self_handle_worker (self_t *self, zg_wire_request_t *request)
{
    if (request->count < 3) {
        zg_qanswers_error (self->answers, request, zg_wire_str (""), ZG_ERR_BAD_REQUEST,
                           "a worker message is [command][worker][fields...]");
        return;
    }
    zg_wire_part_t name = zg_wire_frame (request, 2);
    if (name.size == 0 || (int64_t) name.size > self->settings.max_name_size) {
        zg_qanswers_error (self->answers, request, zg_wire_str (""), name.size? ZG_ERR_TOO_LARGE: ZG_ERR_BAD_REQUEST,
                           "a worker id is 1 to %" PRId64 " bytes", self->settings.max_name_size);
        return;
    }
    const s_command_t *entry = s_self_command (self, request, s_worker_commands, name);
    if (!entry)
        return;
    zg_qworker_t *worker = zg_qcore_worker (self->core, request->data [0], request->size [0],
                                            (const byte *) name.data, name.size);
    if (!worker && !entry->any_worker) {
        zg_qanswers_error (self->answers, request, name, ZG_ERR_NOT_FOUND, "unknown worker '%.*s': send READY",
                           s_quote (name.size), (const char *) name.data);
        return;
    }
    //  Any message from a worker is a sign of life, even a malformed one
    if (worker)
        zg_qcore_touch (self->core, worker);
    if (s_self_fits (self, request, entry))
        entry->handler (self, request, worker);
}

//  --------------------------------------------------------------------------
//  Handle up to a batch of messages from one socket, each followed by what
//  the core has to send

static void
s_self_drain (self_t *self, zsock_t *socket)
{
    void *handle = zsock_resolve (socket);
    zg_qanswers_set_socket (self->answers, socket);
    zg_wire_request_t request;
    for (int index = 0; index < ZG_QUEUES_BATCH
                     && zg_security_recv (self->security, &request, handle) == 0; index++) {
        if (request.count > ZG_QUEUES_MAX_FRAMES)
            zg_qanswers_error (self->answers, &request, zg_wire_str (""), ZG_ERR_BAD_REQUEST, "too many frames");
        else
        if (socket == self->producers)
            s_self_handle_producer (self, &request);
        else
            s_self_handle_worker (self, &request);
        zg_wire_close (&request);
        if (!zg_qjournal_on (self->journal))
            s_self_flush (self);
    }
}

//  --------------------------------------------------------------------------
//  Milliseconds until the core's next timer, or -1 if none is armed

static long
s_self_timeout (self_t *self)
{
    int64_t next = zg_qcore_next_deadline (self->core);
    if (next == INT64_MAX)
        return -1;
    int64_t now = zclock_mono ();
    return next > now? (long) (next - now): 0;
}

static const zg_actor_handlers_t s_handlers = {
    "zg_queues", (zg_actor_set_fn *) zg_queues_core_set, (zg_actor_stats_fn *) s_self_stats_json, NULL
};

//  --------------------------------------------------------------------------
//  One pass of the actor's loop: wait for its sockets (and the pipe, with a
//  thread) up to timeout ms, then handle what came and what is due; returns
//  the sockets that had something, or -1 if the context ended

int
zg_queues_core_pass (self_t *self, long timeout)
{
    zmq_pollitem_t items [5] = {
        { zsock_resolve (self->producers), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->workers), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (zg_queues_link_socket (self->link)), 0, ZMQ_POLLIN, 0 }
    };
    int count = 3, pipe = -1, sync = -1;
    if (self->pipe) {
        pipe = count;
        items [count++] = (zmq_pollitem_t) { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    }
    //  The durable store's sync in flight
    if (zg_qjournal_sync_socket (self->journal)) {
        sync = count;
        items [count++] = (zmq_pollitem_t) { zg_qjournal_sync_socket (self->journal), 0, ZMQ_POLLIN, 0 };
    }
    int rc = zg_connwatch_poll (zg_security_watch (self->security), items, count, timeout);
    if (rc == -1)
        return -1;              //  Context terminated
    zg_qcore_set_clock (self->core, zclock_mono (), zclock_time ());
    if (sync != -1 && (items [sync].revents & ZMQ_POLLIN))
        zg_qjournal_commit (self->journal, &self->core, true);
    if (pipe != -1 && (items [pipe].revents & ZMQ_POLLIN))
        self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
    //  Workers first: their answers free credit for the producers' tasks
    if (items [1].revents & ZMQ_POLLIN)
        s_self_drain (self, self->workers);
    if (items [0].revents & ZMQ_POLLIN)
        s_self_drain (self, self->producers);
    if (items [2].revents & ZMQ_POLLIN)
        zg_queues_link_handle (self->link, self->producers);
    zg_qcore_expire (self->core);
    if (zg_queues_link_on (self->link))
        zg_queues_link_claim (self->link);
    zg_qjournal_commit (self->journal, &self->core, false);
    s_self_flush (self);
    zg_qcore_collect (self->core);
    return rc;
}

//  --------------------------------------------------------------------------
//  The actor

void
zg_queues (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = zg_queues_core_new ();
    self->pipe = pipe;
    zsock_signal (pipe, 0);
    while (!self->terminated)
        if (zg_queues_core_pass (self, s_self_timeout (self)) == -1)
            break;
    zg_queues_core_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Create a queues actor

zactor_t *
zg_queues_new (void)
{
    return zactor_new (zg_queues, NULL);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_queues_test (bool verbose)
{
    printf (" * zg_queues: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "no-such-key", "1", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "max-pending", "-1", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "max-pending", "3", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "max-deliveries", "3", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "verbose", verbose? "1": "0", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "producers", "inproc://zg-queues-test-producers", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "workers", "inproc://zg-queues-test-workers", error, sizeof error) == 0);
    zsock_t *producer = zsock_new_dealer (">inproc://zg-queues-test-producers");
    zsock_t *worker = zsock_new_dealer (">inproc://zg-queues-test-workers");
    zsock_set_rcvtimeo (producer, 2000);
    zsock_set_rcvtimeo (worker, 2000);

    //  Bad requests get errors and change nothing
    zstr_sendx (producer, "FOO", "r0", NULL);
    zg_qtest_expect_done (producer, "ERROR", "r0", "405");
    zstr_sendx (producer, "SEND", "r1", "jobs", NULL);
    zg_qtest_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "SEND", "r1", "bad name", "", "x", NULL);
    zg_qtest_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "SEND", "r1", "jobs", "\x81", "x", NULL);
    zg_qtest_expect_done (producer, "ERROR", "r1", "400");
    zg_qtest_send_options (producer, "SEND", "r1", zg_qtest_options ("priority", "99", NULL), "x");
    zg_qtest_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "GET", "r2", "999", NULL);
    zg_qtest_expect_done (producer, "ERROR", "r2", "404");
    zstr_sendx (producer, "PING", "r3", NULL);
    zg_qtest_expect_done (producer, "OK", "r3", NULL);
    zstr_sendx (worker, "ACK", "w1", "1", NULL);
    zg_qtest_expect_done (worker, "ERROR", "w1", "404");
    assert (zg_actor_stat (queues, NULL, NULL, "tasks") == 0);

    //  Tasks wait for a worker, bounded by max-pending
    zg_qtest_send_options (producer, "SEND", "a", zg_qtest_options ("reply", "true", NULL), "one");
    zg_qtest_expect_done (producer, "OK", "a", "1");
    zstr_sendx (producer, "SEND", "b", "jobs", "", "two", NULL);
    zg_qtest_expect_done (producer, "OK", "b", "2");
    zstr_sendx (producer, "SEND", "", "jobs", "", "three", NULL);
    zstr_sendx (producer, "SEND", "d", "jobs", "", "four", NULL);
    zg_qtest_expect_done (producer, "ERROR", "d", "429");
    assert (zg_actor_stat (queues, "queues", "jobs", "waiting") == 3);

    //  A worker gets no more than its prefetch, FIFO
    zg_qtest_send_options (worker, "READY", "w1", zg_qtest_options ("queues", "[jobs", "prefetch", "2", NULL), NULL);
    zg_qtest_expect_done (worker, "OK", "w1", NULL);
    char *first = zg_qtest_delivery (worker, "w1", "one");
    char *second = zg_qtest_delivery (worker, "w1", "two");
    assert (streq (first, "1") && streq (second, "2"));
    zg_qtest_expect_silence (worker, 100);
    assert (zg_actor_stat (queues, "queues", "jobs", "in_progress") == 2);

    //  An ack with a reply reaches the producer and frees credit
    zstr_sendx (worker, "ACK", "w1", first, "ONE", NULL);
    zg_qtest_expect_last (producer, "REPLY", "a", "1", "ONE");
    char *third = zg_qtest_delivery (worker, "w1", "three");
    zstr_sendx (worker, "ACK", "w1", first, NULL);
    zg_qtest_expect_done (worker, "ERROR", "w1", "409");

    //  A nack requeues at the head: the same task comes back, attempt 2
    zstr_sendx (worker, "NACK", "w1", second, NULL);
    char *again = zg_qtest_delivery (worker, "w1", "two");
    assert (streq (again, second));
    zstr_free (&again);
    assert (zg_actor_stat (queues, "queues", "jobs", "redelivered") == 1);

    //  FAIL is final; GET shows states, replies and reasons
    zstr_sendx (worker, "FAIL", "w1", third, "bad input", NULL);
    zg_qtest_get_contains (producer, third, "failed");
    zg_qtest_get_contains (producer, third, "bad input");
    zg_qtest_get_contains (producer, first, "ONE");

    //  A silent worker is declared dead; its task goes to another worker
    assert (zg_actor_set (queues, "worker-timeout", "300", error, sizeof error) == 0);
    zsock_t *other = zsock_new_dealer (">inproc://zg-queues-test-workers");
    zsock_set_rcvtimeo (other, 2000);
    zg_qtest_send_options (other, "READY", "w2", zg_qtest_options ("queues", "[jobs", NULL), NULL);
    zg_qtest_expect_done (other, "OK", "w2", NULL);
    char *moved = zg_qtest_ping_until_delivery (other, "w2", 2000);
    assert (moved && streq (moved, second));
    zstr_free (&moved);
    assert (zg_actor_stat (queues, NULL, NULL, "workers") == 1);
    //  The rest of the test does not ping
    assert (zg_actor_set (queues, "worker-timeout", "10000", error, sizeof error) == 0);

    //  That was its third delivery (max-deliveries): a NACK sends it to the
    //  dead letters
    zstr_sendx (other, "NACK", "w2", second, NULL);
    zstr_sendx (other, "PING", "w2", NULL);
    zg_qtest_expect_done (other, "OK", "w2", NULL);
    assert (zg_actor_stat (queues, "queues", "jobs", "dead") == 1);
    assert (zg_actor_stat (queues, "queues", "jobs.dead", "waiting") == 1);

    //  Command mode: unknown commands are refused, known ones reach only
    //  their workers with the rest of the line as payload
    zstr_sendx (producer, "CALL", "c1", "", "version/x", NULL);
    zg_qtest_expect_done (producer, "ERROR", "c1", "404");
    zg_qtest_send_options (other, "READY", "w2", zg_qtest_options ("commands", "[version", NULL), NULL);
    zg_qtest_expect_done (other, "OK", "w2", NULL);
    zg_qtest_send_options (producer, "CALL", "c2", zg_qtest_options ("reply", "true", NULL), "version/some/data");
    zg_qtest_expect_done (producer, "OK", "c2", NULL);
    char *call = zg_qtest_delivery (other, "w2", "some/data");
    zstr_sendx (other, "ACK", "w2", call, "0.1", NULL);
    zg_qtest_expect_done (producer, "REPLY", "c2", call);
    zstr_free (&call);

    //  Scatter: every worker of the command answers, then END
    zg_qtest_send_options (worker, "READY", "w3", zg_qtest_options ("commands", "[version", NULL), NULL);
    zg_qtest_expect_done (worker, "OK", "w3", NULL);
    zg_qtest_send_options (producer, "CALL", "c3", zg_qtest_options ("scatter", "true", NULL), "version");
    zmsg_t *accepted = zg_qtest_expect (producer, "OK", "c3", NULL);
    char *group = zmsg_popstr (accepted);
    zmsg_destroy (&accepted);
    char *copy = zg_qtest_delivery (other, "w2", "");
    zstr_sendx (other, "ACK", "w2", copy, "from w2", NULL);
    zstr_free (&copy);
    copy = zg_qtest_delivery (worker, "w3", "");
    zstr_sendx (worker, "ACK", "w3", copy, "from w3", NULL);
    zstr_free (&copy);
    zg_qtest_expect_done (producer, "REPLY", "c3", group);
    zg_qtest_expect_done (producer, "REPLY", "c3", group);
    zg_qtest_expect_done (producer, "END", "c3", group);
    zstr_free (&group);

    //  STATS on the wire is a msgpack map
    zstr_sendx (producer, "STATS", "s", NULL);
    zmsg_t *answer = zg_qtest_expect (producer, "OK", "s", NULL);
    zframe_t *map = zmsg_pop (answer);
    assert (zg_qtest_contains (map, "jobs.dead"));
    zframe_destroy (&map);
    zmsg_destroy (&answer);

    zstr_free (&first);
    zstr_free (&second);
    zstr_free (&third);
    zstr_free (&again);
    zsock_destroy (&other);
    zsock_destroy (&worker);
    zsock_destroy (&producer);
    zactor_destroy (&queues);
    //  @end
    printf ("OK\n");
}
