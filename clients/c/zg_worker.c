/*  =========================================================================
    zg_worker - native work-queue worker with a registry of handlers by queue
    (task type) or command name

    Handlers are keyed "q:name" or "c:name" in one hash, so a queue and a
    command may share a name. zgate's READY answer tells us its heartbeat
    interval; we PING whenever we have sent nothing for that long.
    =========================================================================
*/

#include <msgpack.h>
#include "zg_worker.h"
#include "zg_command.h"
#include "zg_curve.h"
#include "zg_errors.h"
#include "zg_qv2.h"
//  The self test runs against a real queues actor in-process
#include "zgate.h"
#include "zg_producer.h"

//  Heartbeat interval until zgate tells us its own, ms
#define ZG_WORKER_HEARTBEAT 1000
//  Time zg_worker_run waits for zgate's answer to READY, ms
#define ZG_WORKER_START_TIMEOUT 5000
//  Longest handler name
#define ZG_WORKER_NAME_SIZE 255

typedef struct {
    char name [ZG_WORKER_NAME_SIZE + 1];    //  Queue or command name
    bool command;                   //  A command, not a queue
    zg_worker_fn *handler;          //  Its handler, or
    zg_worker_command_fn *command_handler;  //  the handler of a declared command
    zg_command_t *declaration;      //  Its {param} names
    bool quiet;                     //  Fire-and-forget: an empty output sends no reply
    void *arg;                      //  Handler argument
} s_handler_t;

//  Destroy a handler entry
static void
s_handler_destroy (s_handler_t **self_p)
{
    zg_command_destroy (&(*self_p)->declaration);
    free (*self_p);
    *self_p = NULL;
}

struct _zg_worker_t {
    zsock_t *dealer;                //  DEALER connected to zgate's workers endpoint
    char *id;                       //  Logical worker id
    int prefetch;                   //  Most tasks held at once
    zhashx_t *handlers;             //  "q:name" / "c:name" -> s_handler_t
    bool started;                   //  READY was answered
    int64_t heartbeat;              //  Heartbeat interval, ms
    int64_t last_sent;              //  Monotonic ms of our last message
    uint64_t handled;               //  Tasks handled
    int ask_version;                //  Worker protocol version READY asks for
    int version;                    //  The one zgate's READY answer gave: 2 sends DELIVERS
    uint64_t readies;               //  READYs sent
    byte *acks;                     //  Version 2: ACKS records of the batch being handled
    size_t acks_size;               //  Their bytes
    size_t acks_capacity;           //  Bytes allocated
    int code;                       //  Last error code (zg_errors.h)
    char reason [256];              //  Last error reason
};

//  --------------------------------------------------------------------------
//  Create a worker

zg_worker_t *
zg_worker_new (const char *endpoint, const char *id, int prefetch)
{
    return zg_worker_new_secure (endpoint, id, prefetch, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  The same, as a CURVE client

zg_worker_t *
zg_worker_new_secure (const char *endpoint, const char *id, int prefetch, const char *client_cert,
                      const char *server_key)
{
    assert (id && *id);
    assert (prefetch > 0);
    zg_worker_t *self = (zg_worker_t *) zmalloc (sizeof (zg_worker_t));
    assert (self);
    self->id = strdup (id);
    self->prefetch = prefetch;
    self->heartbeat = ZG_WORKER_HEARTBEAT;
    self->ask_version = ZG_QV2_VERSION;
    self->version = 1;
    self->handlers = zhashx_new ();
    zhashx_set_destructor (self->handlers, (zhashx_destructor_fn *) s_handler_destroy);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    if (zg_curve_secure (self->dealer, client_cert, server_key)
    ||  zsock_connect (self->dealer, "%s", endpoint) == -1)
        zg_worker_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the worker

void
zg_worker_destroy (zg_worker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_worker_t *self = *self_p;
        if (self->started) {
            //  Let BYE leave before the socket closes
            zsock_set_linger (self->dealer, 200);
            zstr_sendx (self->dealer, "BYE", self->id, NULL);
        }
        zsock_destroy (&self->dealer);
        zhashx_destroy (&self->handlers);
        free (self->id);
        free (self->acks);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Send a message we built and note the time

static void
s_send (zg_worker_t *self, zmsg_t **msg_p)
{
    zmsg_send (msg_p, self->dealer);
    self->last_sent = zclock_mono ();
}

//  --------------------------------------------------------------------------
//  Send READY with every registered name, queues first

static void
s_send_ready (zg_worker_t *self)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    //  Queues, commands, and the quiet commands (among them)
    size_t counts [3] = { 0, 0, 0 };
    for (s_handler_t *handler = (s_handler_t *) zhashx_first (self->handlers); handler;
         handler = (s_handler_t *) zhashx_next (self->handlers)) {
        counts [handler->command]++;
        counts [2] += handler->quiet;
    }
    bool versioned = self->ask_version > 1;
    msgpack_pack_map (&packer, (uint32_t) ((counts [2]? 4: 3) + (versioned? 1: 0)));
    if (versioned) {
        msgpack_pack_str_with_body (&packer, "version", 7);
        msgpack_pack_int (&packer, self->ask_version);
    }
    for (int kind = 0; kind < (counts [2]? 3: 2); kind++) {
        const char *key = kind == 2? "quiet": kind? "commands": "queues";
        msgpack_pack_str_with_body (&packer, key, strlen (key));
        msgpack_pack_array (&packer, counts [kind]);
        for (s_handler_t *handler = (s_handler_t *) zhashx_first (self->handlers); handler;
             handler = (s_handler_t *) zhashx_next (self->handlers))
            if (kind == 2? handler->quiet: handler->command == kind)
                msgpack_pack_str_with_body (&packer, handler->name, strlen (handler->name));
    }
    msgpack_pack_str_with_body (&packer, "prefetch", 8);
    msgpack_pack_int (&packer, self->prefetch);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "READY");
    zmsg_addstr (msg, self->id);
    zmsg_addmem (msg, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    s_send (self, &msg);
    self->readies++;
}

//  --------------------------------------------------------------------------
//  Register a handler entry, announced at once if the worker runs; NULL if
//  the name has one already

static s_handler_t *
s_register (zg_worker_t *self, const char *name, bool command, void *arg)
{
    char key [ZG_WORKER_NAME_SIZE + 3];
    snprintf (key, sizeof key, "%c:%s", command? 'c': 'q', name);
    if (strlen (name) > ZG_WORKER_NAME_SIZE || zhashx_lookup (self->handlers, key)) {
        self->code = ZG_ERR_CONFLICT;
        snprintf (self->reason, sizeof self->reason, "registering multiple callbacks for '%s'", name);
        return NULL;
    }
    s_handler_t *entry = (s_handler_t *) zmalloc (sizeof (s_handler_t));
    assert (entry);
    snprintf (entry->name, sizeof entry->name, "%s", name);
    entry->command = command;
    entry->arg = arg;
    zhashx_insert (self->handlers, key, entry);
    return entry;
}

int
zg_worker_register (zg_worker_t *self, const char *name, bool command, zg_worker_fn *handler, void *arg)
{
    assert (self);
    assert (handler);
    s_handler_t *entry = s_register (self, name, command, arg);
    if (!entry)
        return -1;
    entry->handler = handler;
    if (self->started)
        s_send_ready (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Register the handler of a declared command

int
zg_worker_register_command (zg_worker_t *self, const char *declaration, bool quiet, zg_worker_command_fn *handler,
                            void *arg)
{
    assert (self && declaration && handler);
    zg_command_t *command = zg_command_new (declaration);
    if (!command) {
        self->code = ZG_ERR_BAD_REQUEST;
        snprintf (self->reason, sizeof self->reason, "'%.200s' is not a command declaration", declaration);
        return -1;
    }
    s_handler_t *entry = s_register (self, zg_command_name (command), true, arg);
    if (!entry) {
        zg_command_destroy (&command);
        return -1;
    }
    entry->command_handler = handler;
    entry->declaration = command;
    entry->quiet = quiet;
    if (self->started)
        s_send_ready (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Call a handler on a task; returns ZG_WORKER_ACK, _NACK or _FAIL

static int
s_call (s_handler_t *handler, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size)
{
    if (!handler->declaration)
        return handler->handler (handler->name, input, output_p, reason, reason_size, handler->arg);
    zhash_t *params;
    zframe_t *data;
    if (zg_command_parse (handler->declaration, input, &params, &data)) {
        snprintf (reason, reason_size, "command '%.64s' takes %zu params before its data", handler->name,
                  zg_command_params (handler->declaration));
        return ZG_WORKER_FAIL;
    }
    int rc = handler->command_handler (handler->name, params, data, output_p, reason, reason_size, handler->arg);
    //  A quiet command's empty output is no reply at all (an event)
    if (rc == ZG_WORKER_ACK && handler->quiet && *output_p && zframe_size (*output_p) == 0)
        zframe_destroy (output_p);
    zhash_destroy (&params);
    zframe_destroy (&data);
    return rc;
}

//  --------------------------------------------------------------------------
//  Read the heartbeat interval and the protocol version from READY's answer
//  map

static void
s_read_welcome (zg_worker_t *self, zframe_t *frame)
{
    //  A map without "version" is version 1's answer
    int version = 1;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (frame
    &&  msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &offset)
        == MSGPACK_UNPACK_SUCCESS
    &&  unpacked.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < unpacked.data.via.map.size; index++) {
            msgpack_object *key = &unpacked.data.via.map.ptr [index].key;
            msgpack_object *value = &unpacked.data.via.map.ptr [index].val;
            if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == 9
            &&  memcmp (key->via.str.ptr, "heartbeat", 9) == 0
            &&  value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 > 0)
                self->heartbeat = (int64_t) value->via.u64;
            else
            if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == 7
            &&  memcmp (key->via.str.ptr, "version", 7) == 0
            &&  value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 == ZG_QV2_VERSION)
                version = ZG_QV2_VERSION;
        }
    self->version = version;
    msgpack_unpacked_destroy (&unpacked);
}

//  --------------------------------------------------------------------------
//  The handler a task's meta map names ("queue" or "command"), or NULL

static s_handler_t *
s_handler_for (zg_worker_t *self, const void *meta, size_t size)
{
    //  The handler's key: "q:" + queue or "c:" + command
    char key [ZG_WORKER_NAME_SIZE + 3] = "";
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, (const char *) meta, size, &offset) == MSGPACK_UNPACK_SUCCESS
    &&  unpacked.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < unpacked.data.via.map.size; index++) {
            msgpack_object *name = &unpacked.data.via.map.ptr [index].key;
            msgpack_object *value = &unpacked.data.via.map.ptr [index].val;
            //  The union's str members mean something only for a str key
            bool is_str = name->type == MSGPACK_OBJECT_STR;
            bool queue = is_str && name->via.str.size == 5 && memcmp (name->via.str.ptr, "queue", 5) == 0;
            bool command = is_str && name->via.str.size == 7 && memcmp (name->via.str.ptr, "command", 7) == 0;
            if ((queue || command) && value->type == MSGPACK_OBJECT_STR
            &&  value->via.str.size <= ZG_WORKER_NAME_SIZE)
                snprintf (key, sizeof key, "%c:%.*s", queue? 'q': 'c', (int) value->via.str.size,
                          value->via.str.ptr);
        }
    msgpack_unpacked_destroy (&unpacked);
    return (s_handler_t *) zhashx_lookup (self->handlers, key);
}

//  --------------------------------------------------------------------------
//  Run a task's handler (NULL: none, the task is nacked); returns
//  ZG_WORKER_ACK with its output (or none), or _NACK or _FAIL with a reason

static int
s_run (zg_worker_t *self, s_handler_t *handler, zframe_t *input, zframe_t **output_p, char *reason,
       size_t reason_size)
{
    *output_p = NULL;
    if (!handler) {
        snprintf (reason, reason_size, "callback not found");
        return ZG_WORKER_NACK;
    }
    *reason = 0;
    int rc = s_call (handler, input, output_p, reason, reason_size);
    if (rc != ZG_WORKER_ACK)
        zframe_destroy (output_p);
    if (rc != ZG_WORKER_ACK && rc != ZG_WORKER_NACK && !*reason)
        snprintf (reason, reason_size, "handler failed");
    self->handled++;
    return rc;
}

//  --------------------------------------------------------------------------
//  Send [ACK|NACK|FAIL][worker][id][output or reason], one task's answer in
//  version 1 (a version 2 worker nacks and fails this way too)

static void
s_send_answer (zg_worker_t *self, const char *id, int rc, zframe_t **output_p, const char *reason)
{
    zmsg_t *answer = zmsg_new ();
    zmsg_addstr (answer, rc == ZG_WORKER_ACK? "ACK": rc == ZG_WORKER_NACK? "NACK": "FAIL");
    zmsg_addstr (answer, self->id);
    zmsg_addstr (answer, id);
    if (*output_p)
        zmsg_append (answer, output_p);
    else
    if (rc != ZG_WORKER_ACK && *reason)
        zmsg_addstr (answer, reason);
    s_send (self, &answer);
}

//  --------------------------------------------------------------------------
//  Handle one DELIVER: [id][meta][payload]

static void
s_handle_delivery (zg_worker_t *self, zmsg_t *msg)
{
    char *id = zmsg_popstr (msg);
    zframe_t *meta = zmsg_pop (msg);
    zframe_t *input = zmsg_pop (msg);
    if (id && meta && input) {
        zframe_t *output;
        char reason [256];
        s_handler_t *handler = s_handler_for (self, zframe_data (meta), zframe_size (meta));
        int rc = s_run (self, handler, input, &output, reason, sizeof reason);
        s_send_answer (self, id, rc, &output, reason);
    }
    zstr_free (&id);
    zframe_destroy (&meta);
    zframe_destroy (&input);
}

//  --------------------------------------------------------------------------
//  Add an ack record of the batch being handled

static void
s_add_ack (zg_worker_t *self, uint64_t id, zframe_t *output)
{
    size_t size = zg_qv2_ack_size (output? zframe_size (output): ZG_QV2_NO_REPLY);
    if (self->acks_size + size > self->acks_capacity) {
        self->acks_capacity = (self->acks_size + size) * 2;
        self->acks = (byte *) realloc (self->acks, self->acks_capacity);
        assert (self->acks);
    }
    zg_qv2_put_ack (self->acks + self->acks_size, id, output? zframe_data (output): NULL,
                    output? zframe_size (output): 0);
    self->acks_size += size;
}

//  --------------------------------------------------------------------------
//  Handle one DELIVERS: [records]; its acks go in one ACKS. Returns the
//  tasks handled.

static int
s_handle_batch (zg_worker_t *self, zmsg_t *msg)
{
    zframe_t *records = zmsg_pop (msg);
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, records? zframe_data (records): NULL, records? zframe_size (records): 0);
    int tasks = 0;
    self->acks_size = 0;
    while (zg_qv2_more (&reader) && zg_qv2_next (&reader, &record, true)) {
        zframe_t *input = zframe_new (record.data, record.size);
        zframe_t *output;
        char reason [256];
        int rc = s_run (self, s_handler_for (self, record.meta, record.meta_size), input, &output, reason,
                        sizeof reason);
        if (rc == ZG_WORKER_ACK)
            s_add_ack (self, record.id, output);
        else {
            char id [24];
            snprintf (id, sizeof id, "%" PRIu64, record.id);
            s_send_answer (self, id, rc, &output, reason);
        }
        zframe_destroy (&output);
        zframe_destroy (&input);
        tasks++;
    }
    if (self->acks_size) {
        zmsg_t *acks = zmsg_new ();
        zmsg_addstr (acks, "ACKS");
        zmsg_addstr (acks, self->id);
        zmsg_addmem (acks, self->acks, self->acks_size);
        s_send (self, &acks);
    }
    zframe_destroy (&records);
    return tasks;
}

//  --------------------------------------------------------------------------
//  Handle one message from zgate; returns 1 if it was a task

static int
s_handle_message (zg_worker_t *self, zmsg_t *msg)
{
    char *command = zmsg_popstr (msg);
    char *id = zmsg_popstr (msg);
    int tasks = 0;
    if (command && streq (command, "DELIVER")) {
        s_handle_delivery (self, msg);
        tasks = 1;
    }
    else
    if (command && streq (command, "DELIVERS"))
        tasks = s_handle_batch (self, msg);
    else
    if (command && streq (command, "OK")) {
        zframe_t *map = zmsg_pop (msg);
        if (map) {
            s_read_welcome (self, map);
            self->started = true;
        }
        zframe_destroy (&map);
    }
    else
    if (command && streq (command, "ERROR")) {
        char *code = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        self->code = code && atoi (code) > 0? atoi (code): ZG_ERR_BAD_GATEWAY;
        snprintf (self->reason, sizeof self->reason, "%s", reason? reason: "");
        //  zgate restarted or declared us dead: announce ourselves again;
        //  a zgate older than version 2 refuses the option: without it
        if (self->code == ZG_ERR_NOT_FOUND)
            s_send_ready (self);
        else
        if (self->code == ZG_ERR_BAD_REQUEST && self->ask_version > 1 && reason
        &&  strstr (reason, "option 'version'")) {
            self->ask_version = 1;
            s_send_ready (self);
        }
        else
            zsys_warning ("zg_worker: %d %s", self->code, self->reason);
        zstr_free (&code);
        zstr_free (&reason);
    }
    zstr_free (&command);
    zstr_free (&id);
    return tasks;
}

//  --------------------------------------------------------------------------
//  Announce the registered names and wait for zgate's answer

int
zg_worker_start (zg_worker_t *self, int timeout)
{
    assert (self);
    s_send_ready (self);
    int64_t deadline = zclock_mono () + timeout;
    while (!self->started) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            self->code = ZG_ERR_TIMEOUT;
            snprintf (self->reason, sizeof self->reason, "zgate did not answer READY");
            return -1;
        }
        zsock_set_rcvtimeo (self->dealer, (int) left);
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            continue;
        //  An ERROR before the OK means zgate refused our READY, unless it
        //  made us send another
        bool refused = zframe_streq (zmsg_first (msg), "ERROR");
        uint64_t readies = self->readies;
        s_handle_message (self, msg);
        zmsg_destroy (&msg);
        if (refused && self->readies == readies)
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Handle what arrives for up to timeout ms

int
zg_worker_poll (zg_worker_t *self, int timeout)
{
    assert (self);
    int64_t deadline = zclock_mono () + timeout;
    int tasks = 0;
    while (!zsys_interrupted) {
        int64_t now = zclock_mono ();
        if (now - self->last_sent >= self->heartbeat) {
            zmsg_t *ping = zmsg_new ();
            zmsg_addstr (ping, "PING");
            zmsg_addstr (ping, self->id);
            s_send (self, &ping);
        }
        int64_t left = deadline - now;
        if (left <= 0)
            return tasks;
        int64_t wait = self->last_sent + self->heartbeat - now;
        zsock_set_rcvtimeo (self->dealer, (int) (wait < left? (wait > 0? wait: 0): left));
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (msg) {
            tasks += s_handle_message (self, msg);
            zmsg_destroy (&msg);
        }
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Start if needed, then handle tasks until SIGINT or SIGTERM

int
zg_worker_run (zg_worker_t *self)
{
    assert (self);
    if (!self->started && zg_worker_start (self, ZG_WORKER_START_TIMEOUT))
        return -1;
    while (zg_worker_poll (self, 1000) >= 0)
        ;
    return 0;
}

//  --------------------------------------------------------------------------
//  Ask for a worker protocol version before zg_worker_start

void
zg_worker_set_version (zg_worker_t *self, int version)
{
    assert (self);
    assert (version == 1 || version == ZG_QV2_VERSION);
    self->ask_version = version;
}

//  --------------------------------------------------------------------------
//  The worker protocol version in use

int
zg_worker_version (zg_worker_t *self)
{
    assert (self);
    return self->version;
}

//  --------------------------------------------------------------------------
//  Tasks handled so far

uint64_t
zg_worker_handled (zg_worker_t *self)
{
    assert (self);
    return self->handled;
}

//  --------------------------------------------------------------------------
//  Code of the last error

int
zg_worker_code (zg_worker_t *self)
{
    assert (self);
    return self->code;
}

//  --------------------------------------------------------------------------
//  Reason of the last error

const char *
zg_worker_reason (zg_worker_t *self)
{
    assert (self);
    return self->reason;
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
//  Self test of this class

static int
s_test_upper (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
              void *arg)
{
    (void) name;
    (void) arg;
    if (zframe_size (input) == 0) {
        snprintf (reason, reason_size, "empty input");
        return ZG_WORKER_FAIL;
    }
    *output_p = zframe_dup (input);
    for (size_t index = 0; index < zframe_size (*output_p); index++)
        zframe_data (*output_p) [index] = (byte) toupper (zframe_data (*output_p) [index]);
    return ZG_WORKER_ACK;
}

//  teomq's version command: "version: 0.0.2, data: <data>"; num_players an
//  event (no output)
static int
s_test_command (const char *name, zhash_t *params, zframe_t *data, zframe_t **output_p, char *reason,
                size_t reason_size, void *arg)
{
    (void) reason;
    (void) reason_size;
    (void) arg;
    if (streq (name, "version")) {
        char *text = zsys_sprintf ("version: 0.0.2, data: %s, description: %s, rest: %.*s",
                                   (char *) zhash_lookup (params, "data"),
                                   (char *) zhash_lookup (params, "description"), (int) zframe_size (data),
                                   (char *) zframe_data (data));
        *output_p = zframe_from (text);
        zstr_free (&text);
    }
    else
        *output_p = zframe_new (NULL, 0);
    return ZG_WORKER_ACK;
}

//  Whether a frame holds text somewhere
static bool
s_test_mentions (zframe_t *frame, const char *text)
{
    size_t length = strlen (text);
    for (size_t index = 0; index + length <= zframe_size (frame); index++)
        if (memcmp (zframe_data (frame) + index, text, length) == 0)
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  The producer side runs in a thread while the worker polls in the caller

static void *
s_test_producer (void *args)
{
    zg_producer_t *producer = zg_producer_new ("inproc://zg-worker-test-p");
    zframe_t *reply = NULL;
    assert (zg_producer_request (producer, "upper", "hello", 5, 5000, &reply) == 0);
    assert (zframe_streq (reply, "HELLO"));
    zframe_destroy (&reply);
    assert (zg_producer_request (producer, "upper", "", 0, 5000, &reply) == -1);
    assert (zg_producer_code (producer) == 422);
    assert (strstr (zg_producer_reason (producer), "empty input"));
    assert (zg_producer_call (producer, "shout/abc", 5000, &reply) == 0);
    assert (zframe_streq (reply, "ABC"));
    zframe_destroy (&reply);
    //  Declared params, then data; too few params fail; a quiet command's
    //  empty output is no reply at all (the producer's own wait runs out)
    assert (zg_producer_call (producer, "version/some_data/first/x/y", 5000, &reply) == 0);
    assert (zframe_streq (reply, "version: 0.0.2, data: some_data, description: first, rest: x/y"));
    zframe_destroy (&reply);
    assert (zg_producer_call (producer, "version/only", 5000, &reply) == -1);
    assert (zg_producer_code (producer) == 422 && strstr (zg_producer_reason (producer), "takes 2 params"));
    assert (zg_producer_call (producer, "num_players/42", 200, &reply) == -1);
    assert (zg_producer_code (producer) == 408 && reply == NULL);
    //  After a wait that ran out, the next call still gets its own answer
    assert (zg_producer_call (producer, "shout/abc", 5000, &reply) == 0);
    zframe_destroy (&reply);
    zg_producer_destroy (&producer);
    (void) args;
    return NULL;
}

void
zg_worker_test (bool verbose)
{
    printf (" * zg_worker: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "inproc-producers", "inproc://zg-worker-test-p", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "inproc-workers", "inproc://zg-worker-test-w", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "heartbeat-interval", "100", error, sizeof error) == 0);
    //  The same tasks for a worker of each protocol version: 1 last, so the
    //  heartbeat check below runs with it
    zg_worker_t *worker = NULL;
    for (int version = ZG_QV2_VERSION; version >= 1; version--) {
        zg_worker_destroy (&worker);
        worker = zg_worker_new ("inproc://zg-worker-test-w", "w1", 4);
        assert (worker);
        assert (zg_worker_register (worker, "upper", false, s_test_upper, NULL) == 0);
        assert (zg_worker_register (worker, "upper", false, s_test_upper, NULL) == -1);
        if (verbose)
            printf ("(%s) ", zg_worker_reason (worker));
        assert (zg_worker_register (worker, "shout", true, s_test_upper, NULL) == 0);
        assert (zg_worker_register_command (worker, "version/{data}/{description}", false, s_test_command,
                                            NULL) == 0);
        assert (zg_worker_register_command (worker, "num_players", true, s_test_command, NULL) == 0);
        assert (zg_worker_register_command (worker, "version", true, s_test_command, NULL) == -1);
        assert (zg_worker_register_command (worker, "bad/{", true, s_test_command, NULL) == -1);
        assert (zg_worker_code (worker) == 400);
        zg_worker_set_version (worker, version);
        assert (zg_worker_start (worker, 2000) == 0);
        assert (zg_worker_version (worker) == version);

        pthread_t thread;
        pthread_create (&thread, NULL, s_test_producer, NULL);
        int64_t deadline = zclock_mono () + 5000;
        while (zg_worker_handled (worker) < 7 && zclock_mono () < deadline)
            zg_worker_poll (worker, 100);
        pthread_join (thread, NULL);
        assert (zg_worker_handled (worker) == 7);
    }

    //  Heartbeats keep an idle worker alive past several intervals
    assert (zg_actor_set (queues, "worker-timeout", "1000", error, sizeof error) == 0);
    zg_worker_poll (worker, 2500);
    char *stats = zg_actor_stats (queues);
    assert (strstr (stats, "\"workers\":1,"));
    zstr_free (&stats);

    zg_worker_destroy (&worker);
    zactor_destroy (&queues);

    //  Against a scripted broker: a task with no handler is nacked with a
    //  reason, and "unknown worker" makes the worker announce itself again
    zsock_t *broker = zsock_new_router ("inproc://zg-worker-test-broker");
    zsock_set_rcvtimeo (broker, 2000);
    worker = zg_worker_new ("inproc://zg-worker-test-broker", "w2", 1);
    assert (zg_worker_register (worker, "upper", false, s_test_upper, NULL) == 0);
    //  A zgate that knows no version 2 refuses the option: READY again
    //  without it
    s_send_ready (worker);
    zmsg_t *msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 4);
    zframe_t *identity = zmsg_pop (msg);
    assert (s_test_mentions (zmsg_last (msg), "version"));
    zmsg_destroy (&msg);
    zframe_send (&identity, broker, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendx (broker, "ERROR", "w2", "400", "unknown option 'version'", NULL);
    zg_worker_poll (worker, 50);
    msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 4);
    assert (!s_test_mentions (zmsg_last (msg), "version"));
    zmsg_destroy (&msg);
    zframe_send (&identity, broker, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendx (broker, "OK", "w2", "\x81\xa9heartbeat\xcd\x03\xe8", NULL);
    zg_worker_poll (worker, 50);
    assert (zg_worker_version (worker) == 1);
    zframe_send (&identity, broker, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendx (broker, "DELIVER", "w2", "7", "\x82\xa5queue\xa5other\xa7" "attempt\x01", "data", NULL);
    zg_worker_poll (worker, 50);
    msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 5);
    zframe_t *frame = zmsg_pop (msg);
    zframe_destroy (&frame);
    char *command = zmsg_popstr (msg);
    char *name = zmsg_popstr (msg);
    char *id = zmsg_popstr (msg);
    char *reason = zmsg_popstr (msg);
    assert (streq (command, "NACK") && streq (name, "w2") && streq (id, "7"));
    assert (streq (reason, "callback not found"));
    zstr_free (&command);
    zstr_free (&name);
    zstr_free (&id);
    zstr_free (&reason);
    zmsg_destroy (&msg);

    //  A DELIVERS batch: the task with no handler nacked on its own (its id
    //  in decimal), the other acked with its output in one ACKS
    const char *other = "\x82\xa5queue\xa5other\xa7" "attempt\x01";
    const char *upper = "\x82\xa5queue\xa5upper\xa7" "attempt\x01";
    byte records [2 * ZG_QV2_DELIVERY_HEAD + 64];
    zg_qv2_put_delivery (records, 8, other, strlen (other), "x", 1);
    size_t size = zg_qv2_delivery_size (strlen (other), 1);
    zg_qv2_put_delivery (records + size, 9, upper, strlen (upper), "abc", 3);
    size += zg_qv2_delivery_size (strlen (upper), 3);
    zframe_send (&identity, broker, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendm (broker, "DELIVERS");
    zstr_sendm (broker, "w2");
    zmq_send (zsock_resolve (broker), records, size, 0);
    zg_worker_poll (worker, 50);
    msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 5);
    frame = zmsg_pop (msg);
    zframe_destroy (&frame);
    assert (zframe_streq (zmsg_first (msg), "NACK") && zframe_streq (zmsg_next (msg), "w2"));
    assert (zframe_streq (zmsg_next (msg), "8") && zframe_streq (zmsg_next (msg), "callback not found"));
    zmsg_destroy (&msg);
    msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 4);
    frame = zmsg_pop (msg);
    zframe_destroy (&frame);
    assert (zframe_streq (zmsg_first (msg), "ACKS") && zframe_streq (zmsg_next (msg), "w2"));
    zframe_t *acks = zmsg_next (msg);
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, zframe_data (acks), zframe_size (acks));
    assert (zg_qv2_next (&reader, &record, false) && record.id == 9);
    assert (record.size == 3 && memcmp (record.data, "ABC", 3) == 0 && !zg_qv2_more (&reader));
    zmsg_destroy (&msg);
    zframe_send (&identity, broker, ZFRAME_MORE | ZFRAME_REUSE);
    zstr_sendx (broker, "ERROR", "w2", "404", "unknown worker 'w2': send READY", NULL);
    zg_worker_poll (worker, 50);
    msg = zmsg_recv (broker);
    assert (msg && zmsg_size (msg) == 4);
    frame = zmsg_pop (msg);
    zframe_destroy (&frame);
    command = zmsg_popstr (msg);
    assert (streq (command, "READY"));
    zstr_free (&command);
    zmsg_destroy (&msg);
    zg_worker_destroy (&worker);
    zframe_destroy (&identity);
    zsock_destroy (&broker);
    //  @end
    printf ("OK\n");
}
#endif
