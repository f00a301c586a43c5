/*  =========================================================================
    zg_producer - native work-queue producer: send tasks, wait for replies,
    read tasks by id

    Requests and their answers go through zg_request (fresh reqs "p1",
    "p2", ..., late answers skipped, one error model).
    =========================================================================
*/

#include <msgpack.h>
#include "zg_producer.h"
#include "zg_request.h"
#include "zg_errors.h"
#include "zg_qv2.h"
//  The self test runs against a real queues actor in-process
#include "zgate.h"

//  Extra wait past a reply timeout for zgate's own 408 answer, ms
#define ZG_PRODUCER_GRACE 1000

struct _zg_producer_t {
    zg_request_t *request;          //  DEALER connected to zgate's producers endpoint
    int timeout;                    //  Answer timeout, ms
};

//  --------------------------------------------------------------------------
//  Create a producer connected to zgate's producers endpoint

zg_producer_t *
zg_producer_new (const char *endpoint)
{
    return zg_producer_new_secure (endpoint, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  The same, as a CURVE client

zg_producer_t *
zg_producer_new_secure (const char *endpoint, const char *client_cert, const char *server_key)
{
    zg_producer_t *self = (zg_producer_t *) zmalloc (sizeof (zg_producer_t));
    assert (self);
    self->timeout = 5000;
    self->request = zg_request_new (endpoint, "p", client_cert, server_key);
    if (!self->request)
        zg_producer_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the producer

void
zg_producer_destroy (zg_producer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_producer_t *self = *self_p;
        zg_request_destroy (&self->request);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Answer timeout for requests other than request/call

void
zg_producer_set_timeout (zg_producer_t *self, int timeout)
{
    assert (self);
    self->timeout = timeout;
}

//  --------------------------------------------------------------------------
//  Record an error

static int
s_fail (zg_producer_t *self, int code, const char *reason)
{
    return zg_request_fail (self->request, code, reason);
}

//  --------------------------------------------------------------------------
//  Pack task options: reply and timeout if timeout > 0, priority if > 0,
//  scatter if asked

static zframe_t *
s_options (int timeout, int priority, bool scatter)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, (timeout > 0? 2u: 0u) + (priority > 0? 1u: 0u) + (scatter? 1u: 0u));
    if (scatter) {
        msgpack_pack_str_with_body (&packer, "scatter", 7);
        msgpack_pack_true (&packer);
    }
    if (timeout > 0) {
        msgpack_pack_str_with_body (&packer, "reply", 5);
        msgpack_pack_true (&packer);
        msgpack_pack_str_with_body (&packer, "timeout", 7);
        msgpack_pack_int (&packer, timeout);
    }
    if (priority > 0) {
        msgpack_pack_str_with_body (&packer, "priority", 8);
        msgpack_pack_int (&packer, priority);
    }
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

//  --------------------------------------------------------------------------
//  Wait for OK with the task id; returns 0 and fills id, or -1

static int
s_wait_accepted (zg_producer_t *self, const char *req, int64_t deadline, char *id)
{
    zmsg_t *answer = zg_request_wait (self->request, req, deadline);
    if (!answer)
        return -1;
    char *command = zmsg_popstr (answer);
    char *task_id = zmsg_popstr (answer);
    int rc = command && streq (command, "OK") && task_id? 0: s_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
    if (rc == 0)
        snprintf (id, 24, "%s", task_id);
    zstr_free (&command);
    zstr_free (&task_id);
    zmsg_destroy (&answer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Send a task to a queue with a priority

int
zg_producer_send (zg_producer_t *self, const char *queue, const void *data, size_t size,
                  int priority, char *id)
{
    assert (self);
    char req [ZG_REQUEST_REQ_SIZE];
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, queue);
    zframe_t *options = s_options (0, priority, false);
    zmsg_append (fields, &options);
    zmsg_addmem (fields, data, size);
    if (zg_request_send (self->request, "SEND", &fields, req))
        return -1;
    return s_wait_accepted (self, req, zclock_mono () + self->timeout, id);
}

//  --------------------------------------------------------------------------
//  Read a SENDS's result records into ids and codes; returns 0, or -1 if
//  they are not one per task

static int
s_results (zg_producer_t *self, zframe_t *results, size_t count, char (*ids) [24], int *codes)
{
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, zframe_data (results), zframe_size (results));
    size_t index = 0;
    for (; index < count && zg_qv2_more (&reader); index++) {
        if (!zg_qv2_next (&reader, &record, false))
            break;
        codes [index] = record.data? atoi ((const char *) record.data): 0;
        if (record.data)
            ids [index][0] = 0;
        else
            snprintf (ids [index], 24, "%" PRIu64, record.id);
    }
    if (index < count || zg_qv2_more (&reader))
        return s_fail (self, ZG_ERR_BAD_GATEWAY, "the results do not match the batch");
    return 0;
}

//  --------------------------------------------------------------------------
//  Send tasks to a queue in one SENDS

int
zg_producer_send_batch (zg_producer_t *self, const char *queue, const void *const *data, const size_t *sizes,
                        size_t count, int priority, char (*ids) [24], int *codes)
{
    assert (self && queue && (data || count == 0) && sizes && ids && codes);
    size_t total = 0;
    for (size_t index = 0; index < count; index++)
        total += zg_qv2_send_size (sizes [index]);
    zframe_t *records = zframe_new (NULL, total);
    size_t used = 0;
    for (size_t index = 0; index < count; index++) {
        zg_qv2_put_send (zframe_data (records) + used, data [index], sizes [index]);
        used += zg_qv2_send_size (sizes [index]);
    }
    char req [ZG_REQUEST_REQ_SIZE];
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, queue);
    zframe_t *options = s_options (0, priority, false);
    zmsg_append (fields, &options);
    zmsg_append (fields, &records);
    if (zg_request_send (self->request, "SENDS", &fields, req))
        return -1;
    zmsg_t *answer = zg_request_wait (self->request, req, zclock_mono () + self->timeout);
    if (!answer)
        return -1;
    char *command = zmsg_popstr (answer);
    zframe_t *results = zmsg_pop (answer);
    int rc = command && streq (command, "OK") && results? s_results (self, results, count, ids, codes)
           : s_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
    zstr_free (&command);
    zframe_destroy (&results);
    zmsg_destroy (&answer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Send a SEND or CALL with its fields and wait for its reply

static int
s_request_reply (zg_producer_t *self, const char *command, zmsg_t **fields_p, int timeout, zframe_t **reply_p)
{
    *reply_p = NULL;
    char req [ZG_REQUEST_REQ_SIZE];
    if (zg_request_send (self->request, command, fields_p, req))
        return -1;
    int64_t deadline = zclock_mono () + timeout + ZG_PRODUCER_GRACE;
    char id [24];
    if (s_wait_accepted (self, req, deadline, id))
        return -1;
    zmsg_t *answer = zg_request_wait (self->request, req, deadline);
    if (!answer)
        return -1;
    char *verb = zmsg_popstr (answer);
    int rc = -1;
    if (verb && streq (verb, "REPLY") && zmsg_size (answer) == 2) {
        zframe_t *task_id = zmsg_pop (answer);
        zframe_destroy (&task_id);
        *reply_p = zmsg_pop (answer);
        rc = 0;
    }
    else
        s_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
    zstr_free (&verb);
    zmsg_destroy (&answer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Send a task and wait for its reply

int
zg_producer_request (zg_producer_t *self, const char *queue, const void *data, size_t size,
                     int timeout, zframe_t **reply_p)
{
    assert (self);
    assert (timeout > 0);
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, queue);
    zframe_t *options = s_options (timeout, 0, false);
    zmsg_append (fields, &options);
    zmsg_addmem (fields, data, size);
    return s_request_reply (self, "SEND", &fields, timeout, reply_p);
}

//  --------------------------------------------------------------------------
//  Call a command and wait for its reply

int
zg_producer_call (zg_producer_t *self, const char *line, int timeout, zframe_t **reply_p)
{
    assert (self);
    assert (timeout > 0);
    zmsg_t *fields = zmsg_new ();
    zframe_t *options = s_options (timeout, 0, false);
    zmsg_append (fields, &options);
    zmsg_addstr (fields, line);
    return s_request_reply (self, "CALL", &fields, timeout, reply_p);
}

//  --------------------------------------------------------------------------
//  Call a command on every worker serving it and collect their replies

int
zg_producer_scatter (zg_producer_t *self, const char *line, int timeout, zmsg_t **replies_p)
{
    assert (self);
    assert (timeout > 0);
    assert (replies_p);
    *replies_p = NULL;
    char req [ZG_REQUEST_REQ_SIZE];
    zmsg_t *fields = zmsg_new ();
    zframe_t *options = s_options (timeout, 0, true);
    zmsg_append (fields, &options);
    zmsg_addstr (fields, line);
    if (zg_request_send (self->request, "CALL", &fields, req))
        return -1;
    int64_t deadline = zclock_mono () + timeout + ZG_PRODUCER_GRACE;
    char id [24];
    if (s_wait_accepted (self, req, deadline, id))
        return -1;
    zmsg_t *replies = zmsg_new ();
    int rc = 1;
    //  REPLYs as the copies finish, then END; rc stays 1 while they come
    while (rc == 1) {
        zmsg_t *answer = zg_request_wait (self->request, req, deadline);
        if (!answer)
            rc = -1;
        else {
            char *command = zmsg_popstr (answer);
            if (command && streq (command, "REPLY") && zmsg_size (answer) == 2) {
                zframe_t *task_id = zmsg_pop (answer);
                zframe_destroy (&task_id);
                zframe_t *reply = zmsg_pop (answer);
                zmsg_append (replies, &reply);
            }
            else
                rc = command && streq (command, "END")? 0: s_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
            zstr_free (&command);
            zmsg_destroy (&answer);
        }
    }
    if (rc == 0)
        *replies_p = replies;
    else
        zmsg_destroy (&replies);
    return rc;
}

//  --------------------------------------------------------------------------
//  Copy a msgpack string or bin into a buffer

static void
s_copy_string (msgpack_object *value, char *buffer, size_t size)
{
    if (value->type == MSGPACK_OBJECT_STR || value->type == MSGPACK_OBJECT_BIN) {
        size_t length = value->via.str.size < size - 1? value->via.str.size: size - 1;
        memcpy (buffer, value->via.str.ptr, length);
        buffer [length] = 0;
    }
}

//  --------------------------------------------------------------------------
//  Read a task by id

int
zg_producer_get (zg_producer_t *self, const char *id, zg_task_info_t *info)
{
    assert (self);
    assert (info);
    memset (info, 0, sizeof (zg_task_info_t));
    zmsg_t *task_id = zmsg_new ();
    zmsg_addstr (task_id, id);
    zmsg_t *answer = zg_request_call (self->request, "GET", &task_id, self->timeout);
    if (!answer)
        return -1;
    zframe_t *map = zmsg_pop (answer);
    int rc = s_fail (self, ZG_ERR_BAD_GATEWAY, "unexpected answer");
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (map
    &&  msgpack_unpack_next (&unpacked, (const char *) zframe_data (map), zframe_size (map), &offset)
        == MSGPACK_UNPACK_SUCCESS
    &&  unpacked.data.type == MSGPACK_OBJECT_MAP) {
        msgpack_object_map *fields = &unpacked.data.via.map;
        for (uint32_t index = 0; index < fields->size; index++) {
            msgpack_object *key = &fields->ptr [index].key;
            msgpack_object *value = &fields->ptr [index].val;
            char name [16] = "";
            s_copy_string (key, name, sizeof name);
            int64_t number = value->type == MSGPACK_OBJECT_POSITIVE_INTEGER? (int64_t) value->via.u64: 0;
            if (streq (name, "id"))
                s_copy_string (value, info->id, sizeof info->id);
            else
            if (streq (name, "queue"))
                s_copy_string (value, info->queue, sizeof info->queue);
            else
            if (streq (name, "state"))
                s_copy_string (value, info->state, sizeof info->state);
            else
            if (streq (name, "command"))
                info->command = value->type == MSGPACK_OBJECT_BOOLEAN && value->via.boolean;
            else
            if (streq (name, "priority"))
                info->priority = (int) number;
            else
            if (streq (name, "attempt"))
                info->attempt = (int) number;
            else
            if (streq (name, "created"))
                info->created = number;
            else
            if (streq (name, "started"))
                info->started = number;
            else
            if (streq (name, "finished"))
                info->finished = number;
            else
            if ((streq (name, "reply") || streq (name, "reason"))
            &&  (value->type == MSGPACK_OBJECT_BIN || value->type == MSGPACK_OBJECT_STR))
                info->result = zframe_new (value->via.bin.ptr, value->via.bin.size);
            else
            if (streq (name, "input") && value->type == MSGPACK_OBJECT_BIN)
                info->input = zframe_new (value->via.bin.ptr, value->via.bin.size);
        }
        rc = 0;
    }
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&map);
    zmsg_destroy (&answer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Code and reason of the last error

int
zg_producer_code (zg_producer_t *self)
{
    assert (self);
    return zg_request_code (self->request);
}

//  --------------------------------------------------------------------------

const char *
zg_producer_reason (zg_producer_t *self)
{
    assert (self);
    return zg_request_reason (self->request);
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
//  Two workers of the command "version" on one connection that ack every
//  copy with "v1" once both have been announced, until $TERM

static void
s_test_command_workers (zsock_t *pipe, void *endpoint)
{
    zsock_t *dealer = zsock_new_dealer ((const char *) endpoint);
    zstr_sendx (dealer, "READY", "a", "\x81\xa8" "commands\x91\xa7" "version", NULL);
    zstr_sendx (dealer, "READY", "b", "\x81\xa8" "commands\x91\xa7" "version", NULL);
    for (int answers = 0; answers < 2; answers++) {
        zmsg_t *ok = zmsg_recv (dealer);
        zmsg_destroy (&ok);
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, dealer, NULL);
    while (zpoller_wait (poller, -1) == dealer) {
        zmsg_t *msg = zmsg_recv (dealer);
        char *command = zmsg_popstr (msg);
        char *worker = zmsg_popstr (msg);
        char *id = zmsg_popstr (msg);
        if (streq (command, "DELIVER"))
            zstr_sendx (dealer, "ACK", worker, id, "v1", NULL);
        zstr_free (&command);
        zstr_free (&worker);
        zstr_free (&id);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
}

//  Self test of this class

void
zg_producer_test (bool verbose)
{
    printf (" * zg_producer: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "inproc-producers", "inproc://zg-producer-test-p", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "inproc-workers", "inproc://zg-producer-test-w", error, sizeof error) == 0);
    zg_producer_t *producer = zg_producer_new ("inproc://zg-producer-test-p");
    assert (producer);
    assert (zg_producer_new ("nonsense") == NULL);

    char id [24];
    assert (zg_producer_send (producer, "jobs", "hello", 5, 1, id) == 0);
    assert (streq (id, "1"));
    assert (zg_producer_send (producer, "bad name", "x", 1, 0, id) == -1);
    assert (zg_producer_code (producer) == 400);
    //  A batch: ids in order, a record refused alone; a bad name refuses all
    const void *payloads [] = { "a", "b" };
    size_t sizes [] = { 1, 1048577 };          //  One byte over max-task-size
    char ids [2][24];
    int codes [2];
    assert (zg_producer_send_batch (producer, "batch", payloads, sizes, 1, 0, ids, codes) == 0);
    assert (streq (ids [0], "2") && codes [0] == 0);
    char *large = (char *) zmalloc (sizes [1]);
    payloads [1] = large;
    assert (zg_producer_send_batch (producer, "batch", payloads, sizes, 2, 0, ids, codes) == 0);
    assert (streq (ids [0], "3") && codes [0] == 0 && streq (ids [1], "") && codes [1] == 413);
    free (large);
    assert (zg_producer_send_batch (producer, "bad name", payloads, sizes, 1, 0, ids, codes) == -1);
    assert (zg_producer_code (producer) == 400);
    zg_task_info_t info;
    assert (zg_producer_get (producer, "1", &info) == 0);
    assert (streq (info.state, "waiting") && streq (info.queue, "jobs") && info.priority == 1);
    assert (info.result == NULL && zframe_streq (info.input, "hello"));
    zframe_destroy (&info.input);
    assert (zg_producer_get (producer, "77", &info) == -1);
    assert (zg_producer_code (producer) == 404);

    //  A raw worker answers: ack the waiting task, then the request
    zsock_t *worker = zsock_new_dealer (">inproc://zg-producer-test-w");
    zsock_set_rcvtimeo (worker, 2000);
    zstr_sendx (worker, "READY", "w", "\x81\xa6queues\x91\xa4jobs", NULL);
    zmsg_t *msg = zmsg_recv (worker);
    zmsg_destroy (&msg);
    msg = zmsg_recv (worker);
    assert (msg && zmsg_size (msg) == 5);
    zmsg_destroy (&msg);
    zstr_sendx (worker, "ACK", "w", "1", "HELLO", NULL);
    zframe_t *reply = NULL;
    //  Nobody answers the next one in time: 408
    assert (zg_producer_request (producer, "jobs", "late", 4, 200, &reply) == -1);
    assert (zg_producer_code (producer) == 408);
    if (verbose)
        printf ("(%s) ", zg_producer_reason (producer));
    msg = zmsg_recv (worker);
    assert (msg);
    zmsg_destroy (&msg);
    assert (zg_producer_get (producer, "1", &info) == 0);
    assert (streq (info.state, "done") && info.attempt == 1);
    assert (info.result && zframe_streq (info.result, "HELLO"));
    assert (info.input && zframe_size (info.input) == 0);   //  Not kept (queues/keep-input)
    zframe_destroy (&info.result);
    zframe_destroy (&info.input);
    assert (zg_producer_call (producer, "nobody/x", 1000, &reply) == -1);
    assert (zg_producer_code (producer) == 404);

    //  Scatter: both command workers (in a thread, as the call blocks) answer, then END
    zmsg_t *replies = NULL;
    assert (zg_producer_scatter (producer, "version/", 1000, &replies) == -1);
    assert (zg_producer_code (producer) == 404 && replies == NULL);
    zactor_t *workers = zactor_new (s_test_command_workers, "inproc://zg-producer-test-w");
    assert (zg_producer_scatter (producer, "version/", 2000, &replies) == 0);
    assert (zmsg_size (replies) == 2);
    char *first = zmsg_popstr (replies);
    char *second = zmsg_popstr (replies);
    assert (first && second && streq (first, "v1") && streq (second, "v1"));
    zstr_free (&first);
    zstr_free (&second);
    zmsg_destroy (&replies);
    zactor_destroy (&workers);

    zsock_destroy (&worker);
    zg_producer_destroy (&producer);
    zactor_destroy (&queues);
    //  @end
    printf ("OK\n");
}
#endif
