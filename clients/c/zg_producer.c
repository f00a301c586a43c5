/*  =========================================================================
    zg_producer - native work-queue producer: send tasks, wait for replies,
    read tasks by id

    Every request carries a fresh req ("p1", "p2", ...), so an answer that
    arrives after its request timed out is recognised and skipped.
    =========================================================================
*/

#include <msgpack.h>
#include "zg_producer.h"
#include "zg_curve.h"
//  The self test runs against a real queues actor in-process
#include "zgate.h"

//  Extra wait past a reply timeout for zgate's own 408 answer, ms
#define ZG_PRODUCER_GRACE 1000

struct _zg_producer_t {
    zsock_t *dealer;                //  DEALER connected to zgate's producers endpoint
    uint64_t sequence;              //  Last req number used
    int timeout;                    //  Answer timeout, ms
    int code;                       //  Last error code
    char reason [256];              //  Last error reason
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
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    if (zg_curve_secure (self->dealer, client_cert, server_key)
    ||  zsock_connect (self->dealer, "%s", endpoint) == -1)
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
        zsock_destroy (&self->dealer);
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
    self->code = code;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    return -1;
}

//  --------------------------------------------------------------------------
//  Start a request: [command][req], with req a fresh number written to req

static zmsg_t *
s_request (zg_producer_t *self, const char *command, char *req)
{
    snprintf (req, 24, "p%" PRIu64, ++self->sequence);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, req);
    return msg;
}

//  --------------------------------------------------------------------------
//  Wait until deadline for the next message for req. Returns it with the
//  command frame first and req removed, or NULL (an ERROR is turned into
//  NULL with code and reason set; so is the deadline, as 408)

static zmsg_t *
s_wait (zg_producer_t *self, const char *req, int64_t deadline)
{
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            s_fail (self, 408, "zgate did not answer in time");
            return NULL;
        }
        zsock_set_rcvtimeo (self->dealer, (int) left);
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg) {
            s_fail (self, 408, "zgate did not answer in time");
            return NULL;
        }
        zframe_t *command = zmsg_pop (msg);
        char *got = zmsg_popstr (msg);
        bool ours = got && streq (got, req);
        zstr_free (&got);
        if (ours && zframe_streq (command, "ERROR")) {
            char *code = zmsg_popstr (msg);
            char *reason = zmsg_popstr (msg);
            s_fail (self, code? atoi (code): 500, reason? reason: "");
            zstr_free (&code);
            zstr_free (&reason);
            zframe_destroy (&command);
            zmsg_destroy (&msg);
            return NULL;
        }
        if (ours) {
            zmsg_prepend (msg, &command);
            return msg;
        }
        zframe_destroy (&command);
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Pack task options: reply and timeout if timeout > 0, priority if > 0

static zframe_t *
s_options (int timeout, int priority)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, (timeout > 0? 2u: 0u) + (priority > 0? 1u: 0u));
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
    zmsg_t *answer = s_wait (self, req, deadline);
    if (!answer)
        return -1;
    char *command = zmsg_popstr (answer);
    char *task_id = zmsg_popstr (answer);
    int rc = command && streq (command, "OK") && task_id? 0: s_fail (self, 502, "unexpected answer");
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
    char req [24];
    zmsg_t *msg = s_request (self, "SEND", req);
    zmsg_addstr (msg, queue);
    zframe_t *options = s_options (0, priority);
    zmsg_append (msg, &options);
    zmsg_addmem (msg, data, size);
    if (zmsg_send (&msg, self->dealer))
        return s_fail (self, 503, "cannot send to zgate");
    return s_wait_accepted (self, req, zclock_mono () + self->timeout, id);
}

//  --------------------------------------------------------------------------
//  Send a prepared SEND or CALL and wait for its reply

static int
s_request_reply (zg_producer_t *self, zmsg_t **msg_p, const char *req, int timeout, zframe_t **reply_p)
{
    *reply_p = NULL;
    if (zmsg_send (msg_p, self->dealer))
        return s_fail (self, 503, "cannot send to zgate");
    int64_t deadline = zclock_mono () + timeout + ZG_PRODUCER_GRACE;
    char id [24];
    if (s_wait_accepted (self, req, deadline, id))
        return -1;
    zmsg_t *answer = s_wait (self, req, deadline);
    if (!answer)
        return -1;
    char *command = zmsg_popstr (answer);
    int rc = -1;
    if (command && streq (command, "REPLY") && zmsg_size (answer) == 2) {
        zframe_t *task_id = zmsg_pop (answer);
        zframe_destroy (&task_id);
        *reply_p = zmsg_pop (answer);
        rc = 0;
    }
    else
        s_fail (self, 502, "unexpected answer");
    zstr_free (&command);
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
    char req [24];
    zmsg_t *msg = s_request (self, "SEND", req);
    zmsg_addstr (msg, queue);
    zframe_t *options = s_options (timeout, 0);
    zmsg_append (msg, &options);
    zmsg_addmem (msg, data, size);
    return s_request_reply (self, &msg, req, timeout, reply_p);
}

//  --------------------------------------------------------------------------
//  Call a command and wait for its reply

int
zg_producer_call (zg_producer_t *self, const char *line, int timeout, zframe_t **reply_p)
{
    assert (self);
    assert (timeout > 0);
    char req [24];
    zmsg_t *msg = s_request (self, "CALL", req);
    zframe_t *options = s_options (timeout, 0);
    zmsg_append (msg, &options);
    zmsg_addstr (msg, line);
    return s_request_reply (self, &msg, req, timeout, reply_p);
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
    char req [24];
    zmsg_t *msg = s_request (self, "GET", req);
    zmsg_addstr (msg, id);
    if (zmsg_send (&msg, self->dealer))
        return s_fail (self, 503, "cannot send to zgate");
    zmsg_t *answer = s_wait (self, req, zclock_mono () + self->timeout);
    if (!answer)
        return -1;
    zframe_t *command = zmsg_pop (answer);
    zframe_t *map = zmsg_pop (answer);
    int rc = s_fail (self, 502, "unexpected answer");
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (zframe_streq (command, "OK") && map
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
        }
        rc = 0;
    }
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&command);
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
    return self->code;
}

//  --------------------------------------------------------------------------

const char *
zg_producer_reason (zg_producer_t *self)
{
    assert (self);
    return self->reason;
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
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
    zg_task_info_t info;
    assert (zg_producer_get (producer, "1", &info) == 0);
    assert (streq (info.state, "waiting") && streq (info.queue, "jobs") && info.priority == 1);
    assert (info.result == NULL);
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
    zframe_destroy (&info.result);
    assert (zg_producer_call (producer, "nobody/x", 1000, &reply) == -1);
    assert (zg_producer_code (producer) == 404);

    zsock_destroy (&worker);
    zg_producer_destroy (&producer);
    zactor_destroy (&queues);
    //  @end
    printf ("OK\n");
}
#endif
