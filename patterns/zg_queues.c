/*  =========================================================================
    zg_queues - work queues actor: producers and workers over two ROUTERs,
    with credit, acks, redelivery, dead letters, replies and command mode

    Private classes: zg_tasks (the task store and its deadline heaps),
    zg_taskq (one queue: waiting tasks by priority, the round-robin line of
    workers with credit), zg_qworkers (logical workers by connection and id,
    in liveness order), zg_mpreader (the options frames). A worker leaves
    every line when its credit is used up; an answer gives the credit back
    and puts it in line again. So a queue never has both waiting tasks and
    workers in line.

    Timers are ordered: ack and reply deadlines are heaps in the task store,
    workers sit in a list ordered by last message (the timeout is the same
    for all), finished tasks in a list ordered by finish time (so is the
    time they are kept). Payloads are zmq_msg_t moved from the socket into
    the task and shared (zmq_msg_copy) on each delivery, never copied.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tasks.h"
#include "zg_mpreader.h"
#include "zg_taskq.h"
#include "zg_qworkers.h"
#include "zg_qstore.h"

//  Messages handled per socket per wake-up before the others get a turn
#define ZG_QUEUES_BATCH 1024
//  Most frames in any valid message, routing id included
#define ZG_QUEUES_MAX_FRAMES 6
//  Longest error reason we format
#define ZG_QUEUES_REASON_SIZE 512

typedef struct {
    int64_t verbose;                //  Log worker and dead-letter events
    int64_t sndhwm;                 //  Per-connection send high-water mark
    int64_t rcvhwm;                 //  Per-connection receive high-water mark
    int64_t max_message_size;       //  Largest message, bytes (libzmq enforces)
    int64_t max_task_size;          //  Largest payload or reply, bytes
    int64_t max_name_size;          //  Longest name, worker id or req
    int64_t max_options_size;       //  Largest options frame
    int64_t max_pending;            //  Waiting tasks per queue
    int64_t max_tasks;              //  Tasks in memory
    int64_t max_queues;             //  Queues plus commands
    int64_t max_workers;            //  Logical workers
    int64_t max_subscriptions;      //  Queues plus commands per worker
    int64_t max_prefetch;           //  Largest prefetch
    int64_t max_priority;           //  Highest priority
    int64_t max_deliveries;         //  Deliveries before dead letter
    int64_t heartbeat_interval;     //  Ms between worker heartbeats
    int64_t worker_timeout;         //  Ms of silence that kills a worker
    int64_t ack_timeout;            //  Default ms to answer a delivery
    int64_t max_ack_timeout;        //  Largest ack-timeout option
    int64_t reply_timeout;          //  Default ms a producer waits for a reply
    int64_t max_reply_timeout;      //  Largest timeout option
    int64_t result_ttl;             //  Ms a finished task stays readable
    int64_t max_results;            //  Finished tasks kept
    int64_t recent_size;            //  Recently finished tasks in STATS
    int64_t data_max_size;          //  Bytes the durable store may grow to
} s_settings_t;

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (s_settings_t, verbose), 0, 1 },
    { "sndhwm", offsetof (s_settings_t, sndhwm), 0, INT32_MAX },
    { "rcvhwm", offsetof (s_settings_t, rcvhwm), 0, INT32_MAX },
    { "max-message-size", offsetof (s_settings_t, max_message_size), 1, INT64_MAX },
    { "max-task-size", offsetof (s_settings_t, max_task_size), 0, INT32_MAX },
    { "max-name-size", offsetof (s_settings_t, max_name_size), 1, 255 },
    { "max-options-size", offsetof (s_settings_t, max_options_size), 1, 1048576 },
    { "max-pending", offsetof (s_settings_t, max_pending), 0, INT32_MAX },
    { "max-tasks", offsetof (s_settings_t, max_tasks), 1, INT32_MAX },
    { "max-queues", offsetof (s_settings_t, max_queues), 1, 10000000 },
    { "max-workers", offsetof (s_settings_t, max_workers), 1, 10000000 },
    { "max-subscriptions", offsetof (s_settings_t, max_subscriptions), 1, 10000 },
    { "max-prefetch", offsetof (s_settings_t, max_prefetch), 1, 1000000 },
    { "max-priority", offsetof (s_settings_t, max_priority), 0, 255 },
    { "max-deliveries", offsetof (s_settings_t, max_deliveries), 1, 1000000 },
    { "heartbeat-interval", offsetof (s_settings_t, heartbeat_interval), 10, 3600000 },
    { "worker-timeout", offsetof (s_settings_t, worker_timeout), 10, 86400000 },
    { "ack-timeout", offsetof (s_settings_t, ack_timeout), 1, 86400000 },
    { "max-ack-timeout", offsetof (s_settings_t, max_ack_timeout), 1, 86400000 },
    { "reply-timeout", offsetof (s_settings_t, reply_timeout), 1, 86400000 },
    { "max-reply-timeout", offsetof (s_settings_t, max_reply_timeout), 1, 86400000 },
    { "result-ttl", offsetof (s_settings_t, result_ttl), 0, 86400000 },
    { "max-results", offsetof (s_settings_t, max_results), 0, INT32_MAX },
    { "recent-size", offsetof (s_settings_t, recent_size), 0, 10000 },
    { "data-max-size", offsetof (s_settings_t, data_max_size), ZG_QSTORE_MIN_SIZE, 17592186044416 },
    { NULL }
};


//  One entry of the recently finished list
typedef struct {
    uint64_t id;                    //  Task id
    zg_taskq_t *queue;              //  Its queue (the entry holds a reference)
    uint32_t attempt;               //  Deliveries it took
    uint8_t state;                  //  How it finished
    int64_t finished;               //  When, ms since the epoch
} s_recent_t;

//  Options of SEND, CALL and READY, as parsed from their msgpack map
typedef struct {
    bool reply;                     //  Producer wants the outcome
    bool scatter;                   //  CALL to every worker of the command
    int64_t timeout;                //  Reply timeout, ms
    int64_t priority;               //  Task priority
    int64_t ack_timeout;            //  Ack timeout, ms
    int64_t prefetch;               //  READY: prefetch
    zchunk_t *names;                //  READY: [1 if command][size][name bytes] each
    size_t name_count;              //  READY: number of names
} s_options_t;

typedef struct {
    zsock_t *pipe;                  //  Actor command pipe
    zsock_t *producers;             //  ROUTER for producers
    zsock_t *workers;               //  ROUTER for workers
    s_settings_t settings;          //  Current settings
    zg_tasks_t *tasks;              //  Every task, by id
    zhashx_t *queues;               //  Queue name -> zg_taskq_t
    zhashx_t *commands;             //  Command name -> zg_taskq_t
    zg_taskq_t *idle;               //  Queues that lost their last task or worker
    zg_qworkers_t *registry;        //  Logical workers, by connection and id
    zg_task_list_t finished;        //  Finished tasks kept for GET, oldest first
    s_recent_t *recent;             //  Ring of recently finished tasks
    size_t recent_next;             //  Next ring slot to write
    size_t recent_count;            //  Entries in the ring
    msgpack_sbuffer buffer;         //  Reused for every msgpack frame we send
    msgpack_packer packer;          //  Packs into buffer
    int64_t now;                    //  Monotonic ms, updated each wake-up
    int64_t wall;                   //  Wall clock ms, updated each wake-up
    uint64_t errors;                //  ERROR answers sent
    uint64_t unroutable;            //  Messages dropped: peer gone or at its HWM
    bool terminated;                //  $TERM received
} self_t;

//  A received message: its frames and, read once, their bytes and sizes
typedef struct {
    zmq_msg_t frames [ZG_QUEUES_MAX_FRAMES];    //  Routing id first
    const byte *data [ZG_QUEUES_MAX_FRAMES];    //  Each frame's bytes
    size_t size [ZG_QUEUES_MAX_FRAMES];         //  Each frame's size
    size_t count;                   //  Frames it had (the rest past the maximum are gone)
} s_message_t;

//  A frame to send: bytes that live until the send returns
typedef struct {
    const void *data;
    size_t size;
} s_part_t;

static void s_self_dispatch (self_t *self, zg_taskq_t *queue);
static void s_self_deliver (self_t *self, zg_qworker_t *worker, zg_task_t *task);
static void s_self_finish (self_t *self, zg_task_t *task, int state, const char *reason, zmq_msg_t *result);
static void s_self_release_queue (self_t *self, zg_taskq_t *queue);

//  --------------------------------------------------------------------------

static self_t *
s_self_new (zsock_t *pipe)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->settings = (s_settings_t) {
        .sndhwm = 100000, .rcvhwm = 100000, .max_message_size = 16777216, .max_task_size = 1048576,
        .max_name_size = 255, .max_options_size = 4096, .max_pending = 100000, .max_tasks = 2000000,
        .max_queues = 10000, .max_workers = 100000, .max_subscriptions = 64, .max_prefetch = 10000,
        .max_priority = 9, .max_deliveries = 5, .heartbeat_interval = 1000, .worker_timeout = 5000,
        .ack_timeout = 30000, .max_ack_timeout = 86400000, .reply_timeout = 5000,
        .max_reply_timeout = 3600000, .result_ttl = 60000, .max_results = 100000, .recent_size = 50,
        .data_max_size = ZG_QSTORE_DEFAULT_SIZE
    };
    self->producers = zsock_new (ZMQ_ROUTER);
    self->workers = zsock_new (ZMQ_ROUTER);
    assert (self->producers && self->workers);
    //  Unroutable messages fail instead of vanishing, so we can count them
    zsock_set_router_mandatory (self->producers, 1);
    zsock_set_router_mandatory (self->workers, 1);
    self->tasks = zg_tasks_new ();
    self->queues = zhashx_new ();
    self->commands = zhashx_new ();
    self->registry = zg_qworkers_new ();
    self->recent = (s_recent_t *) zmalloc ((size_t) self->settings.recent_size * sizeof (s_recent_t) + 1);
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    self->now = zclock_mono ();
    self->wall = zclock_time ();
    return self;
}

//  --------------------------------------------------------------------------

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    zsock_destroy (&self->producers);
    zsock_destroy (&self->workers);
    zg_qworkers_destroy (&self->registry);
    zhashx_t *tables [] = { self->queues, self->commands };
    for (int index = 0; index < 2; index++)
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (tables [index]); queue;
             queue = (zg_taskq_t *) zhashx_next (tables [index]))
            zg_taskq_destroy (&queue);
    zhashx_destroy (&self->queues);
    zhashx_destroy (&self->commands);
    zg_tasks_destroy (&self->tasks);
    free (self->recent);
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
        zsock_set_sndhwm (sockets [index], (int) self->settings.sndhwm);
        zsock_set_rcvhwm (sockets [index], (int) self->settings.rcvhwm);
        zsock_set_maxmsgsize (sockets [index], self->settings.max_message_size);
        //  ZMTP heartbeats let libzmq drop dead TCP peers; workers are judged
        //  dead by the application heartbeat below, which sees logical workers
        zsock_set_heartbeat_ivl (sockets [index], (int) self->settings.heartbeat_interval);
        zsock_set_heartbeat_timeout (sockets [index], (int) self->settings.worker_timeout);
    }
}

//  --------------------------------------------------------------------------
//  Apply one setting; endpoint keys bind at once

static int
s_self_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "producers") || streq (key, "inproc-producers"))
        return zg_actor_bind (self->producers, value, error, size);
    if (streq (key, "workers") || streq (key, "inproc-workers"))
        return zg_actor_bind (self->workers, value, error, size);
    //  zg_qstore is not wired into this actor yet (issue 12): refuse a store
    //  rather than pretend that tasks survive a restart
    if (streq (key, "data-dir")) {
        if (*value)
            snprintf (error, size, "durable queues are not available yet, leave data-dir empty");
        return *value? -1: 0;
    }
    int rc = zg_actor_set_int (s_int_settings, &self->settings, key, value, error, size);
    if (rc)
        return rc;
    if (streq (key, "recent-size")) {
        for (size_t index = 0; index < self->recent_count; index++)
            s_self_release_queue (self, self->recent [index].queue);
        free (self->recent);
        self->recent = (s_recent_t *) zmalloc ((size_t) self->settings.recent_size * sizeof (s_recent_t) + 1);
        self->recent_next = self->recent_count = 0;
    }
    s_self_apply_socket_options (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  Sending. Every message to a client is [routing id][command][name][parts…]
//  [last], where name is the req or worker id and last, if any, a message we
//  keep (a payload): it is shared, not copied. Returns 0, or -1 if the peer is
//  gone or at its HWM (counted).

static int
s_self_send (self_t *self, zsock_t *socket, const void *identity, size_t identity_size,
             const char *command, const void *name, size_t name_size,
             s_part_t *parts, size_t part_count, zmq_msg_t *last)
{
    void *handle = zsock_resolve (socket);
    if (zmq_send (handle, identity, identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        self->unroutable++;
        return -1;
    }
    bool more_after_name = part_count > 0 || last;
    zmq_send (handle, command, strlen (command), ZMQ_SNDMORE);
    zmq_send (handle, name, name_size, more_after_name? ZMQ_SNDMORE: 0);
    for (size_t index = 0; index < part_count; index++)
        zmq_send (handle, parts [index].data, parts [index].size,
                  index + 1 < part_count || last? ZMQ_SNDMORE: 0);
    if (last) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, last);
        if (zmq_msg_send (&copy, handle, 0) == -1)
            zmq_msg_close (&copy);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Send [ERROR][name][code][reason]

static void
s_self_error (self_t *self, zsock_t *socket, const void *identity, size_t identity_size,
              const void *name, size_t name_size, int code, const char *format, ...)
{
    char reason [ZG_QUEUES_REASON_SIZE];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    //  Reasons quote client bytes (names, verbs, FAIL reasons) and are one line
    for (char *cursor = reason; *cursor; cursor++)
        if ((unsigned char) *cursor < ' ')
            *cursor = '?';
    char code_text [16];
    snprintf (code_text, sizeof code_text, "%d", code);
    s_part_t parts [] = { { code_text, strlen (code_text) }, { reason, strlen (reason) } };
    self->errors++;
    s_self_send (self, socket, identity, identity_size, "ERROR", name, name_size, parts, 2, NULL);
}

//  --------------------------------------------------------------------------
//  Frame helpers

static bool
s_frame_is (s_message_t *message, size_t index, const char *string)
{
    size_t size = strlen (string);
    return message->size [index] == size && memcmp (message->data [index], string, size) == 0;
}

//  --------------------------------------------------------------------------
//  Parse a task id (decimal ASCII); returns 0 if it is not one

static uint64_t
s_frame_id (s_message_t *message, size_t index)
{
    size_t size = message->size [index];
    const char *data = (const char *) message->data [index];
    if (size == 0 || size > 20)
        return 0;
    uint64_t id = 0;
    for (size_t index = 0; index < size; index++) {
        if (data [index] < '0' || data [index] > '9')
            return 0;
        uint64_t next = id * 10 + (uint64_t) (data [index] - '0');
        if (next / 10 != id)
            return 0;
        id = next;
    }
    return id;
}

//  --------------------------------------------------------------------------
//  A valid queue or command name: 1 to max-name-size of A-Z a-z 0-9 . _ - :

static bool
s_valid_name (self_t *self, const char *name, size_t size)
{
    if (size == 0 || (int64_t) size > self->settings.max_name_size)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((unsigned char) name [index]) && !strchr ("._-:", name [index]))
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Parse an array of queue or command names into options->names; returns 0
//  or -1 with a reason (code 400, 413 for a long name, 503 past
//  max-subscriptions)

static int
s_parse_names (self_t *self, zg_mpreader_t *reader, s_options_t *options, bool command,
               const char *key, int *code, char *error, size_t size)
{
    uint64_t length;
    if (!zg_mpreader_container (reader, false, &length)) {
        snprintf (error, size, "option '%s' must be an array of names", key);
        return -1;
    }
    for (uint64_t index = 0; index < length; index++) {
        const char *name;
        size_t name_size;
        if (!zg_mpreader_string (reader, &name, &name_size)) {
            snprintf (error, size, "option '%s' must be an array of names", key);
            return -1;
        }
        if (!s_valid_name (self, name, name_size)) {
            if ((int64_t) name_size > self->settings.max_name_size)
                *code = 413;
            snprintf (error, size, "invalid name '%.*s' in '%s'", (int) (name_size > 64? 64: name_size),
                      name, key);
            return -1;
        }
        if ((int64_t) options->name_count + 1 > self->settings.max_subscriptions) {
            *code = 503;
            snprintf (error, size, "more than %" PRId64 " queues and commands", self->settings.max_subscriptions);
            return -1;
        }
        byte prefix [2] = { command, (byte) name_size };
        zchunk_extend (options->names, prefix, 2);
        zchunk_extend (options->names, name, name_size);
        options->name_count++;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Parse an options frame. ready selects READY's keys, else task keys.
//  Returns 0, or -1 with a reason and its error code in *code

static int
s_parse_options (self_t *self, const void *data, size_t frame_size, bool ready, s_options_t *options,
                 int *code, char *error, size_t size)
{
    *options = (s_options_t) {
        .timeout = self->settings.reply_timeout, .ack_timeout = self->settings.ack_timeout, .prefetch = 1
    };
    *code = 400;
    if (frame_size == 0)
        return 0;
    if ((int64_t) frame_size > self->settings.max_options_size) {
        *code = 413;
        snprintf (error, size, "options larger than %" PRId64 " bytes", self->settings.max_options_size);
        return -1;
    }
    zg_mpreader_t reader = zg_mpreader_init (data, frame_size);
    uint64_t entries;
    if (!zg_mpreader_container (&reader, true, &entries)) {
        snprintf (error, size, "options must be a msgpack map");
        return -1;
    }
    for (uint64_t entry = 0; entry < entries; entry++) {
        const char *key_data;
        size_t key_size;
        if (!zg_mpreader_string (&reader, &key_data, &key_size) || key_size > 32) {
            snprintf (error, size, "options keys must be short strings");
            return -1;
        }
        char key [33];
        memcpy (key, key_data, key_size);
        key [key_size] = 0;
        bool valid = true;
        int64_t number = 0;
        if (!ready && streq (key, "reply"))
            valid = zg_mpreader_boolean (&reader, &options->reply);
        else
        if (!ready && streq (key, "scatter"))
            valid = zg_mpreader_boolean (&reader, &options->scatter);
        else
        if (!ready && streq (key, "timeout")) {
            valid = zg_mpreader_integer (&reader, &number) && number >= 1 && number <= self->settings.max_reply_timeout;
            options->timeout = number;
        }
        else
        if (!ready && streq (key, "priority")) {
            valid = zg_mpreader_integer (&reader, &number) && number >= 0 && number <= self->settings.max_priority;
            options->priority = number;
        }
        else
        if (!ready && streq (key, "ack-timeout")) {
            valid = zg_mpreader_integer (&reader, &number) && number >= 1 && number <= self->settings.max_ack_timeout;
            options->ack_timeout = number;
        }
        else
        if (ready && streq (key, "prefetch")) {
            valid = zg_mpreader_integer (&reader, &number) && number >= 1 && number <= self->settings.max_prefetch;
            options->prefetch = number;
        }
        else
        if (ready && (streq (key, "queues") || streq (key, "commands"))) {
            if (!options->names)
                options->names = zchunk_new (NULL, 256);
            if (s_parse_names (self, &reader, options, streq (key, "commands"), key, code, error, size))
                return -1;
        }
        else {
            snprintf (error, size, "unknown option '%s'", key);
            return -1;
        }
        if (!valid) {
            snprintf (error, size, "bad value for option '%s'", key);
            return -1;
        }
    }
    if (!zg_mpreader_done (&reader)) {
        snprintf (error, size, "trailing bytes after the options map");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Find a queue or command, creating it if asked; NULL if it does not exist
//  or the max-queues limit is reached

static zg_taskq_t *
s_self_queue (self_t *self, const char *name, bool command, bool create)
{
    zhashx_t *table = command? self->commands: self->queues;
    zg_taskq_t *queue = (zg_taskq_t *) zhashx_lookup (table, name);
    if (queue || !create)
        return queue;
    if ((int64_t) (zhashx_size (self->queues) + zhashx_size (self->commands)) >= self->settings.max_queues)
        return NULL;
    queue = zg_taskq_new (name, command, (size_t) self->settings.max_priority + 1);
    zhashx_insert (table, name, queue);
    return queue;
}

//  --------------------------------------------------------------------------
//  Put a queue on the idle list if nothing names it any more: no task, no
//  recent entry, no worker. It is freed later, at a point where no caller
//  holds a pointer to it (s_self_forget_idle).

static void
s_self_check_idle (self_t *self, zg_taskq_t *queue)
{
    if (queue->refs == 0 && queue->workers == 0 && !queue->idle_listed) {
        queue->idle_listed = true;
        queue->idle_next = self->idle;
        self->idle = queue;
    }
}

//  --------------------------------------------------------------------------
//  Drop one reference to a queue

static void
s_self_release_queue (self_t *self, zg_taskq_t *queue)
{
    assert (queue->refs > 0);
    queue->refs--;
    s_self_check_idle (self, queue);
}

//  --------------------------------------------------------------------------
//  Point a task at a queue (holding a reference), releasing its old queue

static void
s_self_assign_queue (self_t *self, zg_task_t *task, zg_taskq_t *queue)
{
    if (task->queue)
        s_self_release_queue (self, (zg_taskq_t *) task->queue);
    task->queue = queue;
    queue->refs++;
}

//  --------------------------------------------------------------------------
//  Forget a task: its queue loses a reference, the store takes it back

static void
s_self_forget_task (self_t *self, zg_task_t *task)
{
    s_self_release_queue (self, (zg_taskq_t *) task->queue);
    zg_tasks_remove (self->tasks, task);
}

//  --------------------------------------------------------------------------
//  Free the idle queues that are still idle, so names sent once do not use
//  up max-queues for ever. Called between messages, when no pointer to a
//  queue is held.

static void
s_self_forget_idle (self_t *self)
{
    while (self->idle) {
        zg_taskq_t *queue = self->idle;
        self->idle = queue->idle_next;
        queue->idle_listed = false;
        queue->idle_next = NULL;
        if (queue->refs == 0 && queue->workers == 0) {
            zhashx_delete (queue->command? self->commands: self->queues, queue->name);
            zg_taskq_destroy (&queue);
        }
    }
}

//  --------------------------------------------------------------------------
//  Whether a worker may take one more task

static bool
s_worker_has_credit (zg_qworker_t *worker)
{
    return (int64_t) worker->held.size < worker->prefetch;
}

//  --------------------------------------------------------------------------
//  Put a worker in or out of its queues' lines to match its credit; credit
//  goes first to the scatter copies pinned to it, then to its queues

static void
s_self_credit (self_t *self, zg_qworker_t *worker)
{
    while (worker->pinned.head && s_worker_has_credit (worker)) {
        zg_task_t *copy = worker->pinned.head;
        zg_task_list_remove (&worker->pinned, copy);
        ((zg_taskq_t *) copy->queue)->pinned--;
        s_self_deliver (self, worker, copy);
    }
    bool credit = s_worker_has_credit (worker);
    if (credit == worker->in_lines)
        return;
    worker->in_lines = credit;
    for (size_t index = 0; index < worker->seat_count; index++)
        if (credit)
            zg_taskq_line_append (&worker->seats [index]);
        else
            zg_taskq_line_remove (&worker->seats [index]);
    if (credit)
        for (size_t index = 0; index < worker->seat_count; index++)
            s_self_dispatch (self, worker->seats [index].queue);
}

//  --------------------------------------------------------------------------
//  Deliver a task to a worker that has credit

static void
s_self_deliver (self_t *self, zg_qworker_t *worker, zg_task_t *task)
{
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    task->state = ZG_TASK_IN_PROGRESS;
    task->worker = worker;
    task->attempt++;
    task->started = self->wall;
    queue->in_progress++;
    zg_task_list_add (&worker->held, task, false);
    zg_tasks_set_timer (self->tasks, task, ZG_TASKS_ACK_TIMER, self->now + task->ack_timeout);

    msgpack_sbuffer_clear (&self->buffer);
    msgpack_sbuffer_write (&self->buffer, queue->meta.data, queue->meta.size);
    msgpack_pack_uint32 (&self->packer, task->attempt);
    s_part_t parts [] = { { task->id_text, task->id_size }, { self->buffer.data, self->buffer.size } };
    s_self_send (self, self->workers, worker->identity, worker->identity_size, "DELIVER",
                 worker->name, worker->name_size, parts, 2, &task->payload);
    if (!s_worker_has_credit (worker) && worker->in_lines) {
        worker->in_lines = false;
        for (size_t index = 0; index < worker->seat_count; index++)
            zg_taskq_line_remove (&worker->seats [index]);
    }
}

//  --------------------------------------------------------------------------
//  Hand a queue's waiting tasks to the workers in its line, round-robin

static void
s_self_dispatch (self_t *self, zg_taskq_t *queue)
{
    zg_seat_t *seat;
    zg_task_t *task;
    while ((task = zg_taskq_take (queue, &seat)))
        s_self_deliver (self, (zg_qworker_t *) seat->worker, task);
}

//  --------------------------------------------------------------------------
//  Record a finished task in the recent ring

static void
s_self_remember (self_t *self, zg_task_t *task)
{
    if (self->settings.recent_size == 0)
        return;
    if ((int64_t) self->recent_count == self->settings.recent_size)
        s_self_release_queue (self, self->recent [self->recent_next].queue);
    ((zg_taskq_t *) task->queue)->refs++;
    self->recent [self->recent_next] = (s_recent_t) {
        task->id, (zg_taskq_t *) task->queue, task->attempt, task->state, task->finished
    };
    self->recent_next = (self->recent_next + 1) % (size_t) self->settings.recent_size;
    if ((int64_t) self->recent_count < self->settings.recent_size)
        self->recent_count++;
}

//  --------------------------------------------------------------------------
//  Send a producer the outcome of its task; a no-op if it no longer waits

static void
s_self_send_outcome (self_t *self, zg_task_t *task, const char *command, int code, const char *reason)
{
    if (!task->wants_reply)
        return;
    task->wants_reply = false;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_REPLY_TIMER);
    const void *identity = zmq_msg_data (&task->producer);
    size_t identity_size = zmq_msg_size (&task->producer);
    const void *req = zmq_msg_data (&task->req);
    size_t req_size = zmq_msg_size (&task->req);
    if (streq (command, "REPLY")) {
        s_part_t parts [] = { { task->id_text, task->id_size } };
        s_self_send (self, self->producers, identity, identity_size, "REPLY", req, req_size, parts, 1,
                     &task->result);
    }
    else
    if (streq (command, "END")) {
        char count [16];
        snprintf (count, sizeof count, "%u", task->replies);
        s_part_t parts [] = { { task->id_text, task->id_size }, { count, strlen (count) } };
        s_self_send (self, self->producers, identity, identity_size, "END", req, req_size, parts, 2, NULL);
    }
    else
        s_self_error (self, self->producers, identity, identity_size, req, req_size, code, "task %s %s",
                      task->id_text, reason);
}

//  --------------------------------------------------------------------------
//  Keep a finished task for GET and the recent list, within max-results

static void
s_self_keep (self_t *self, zg_task_t *task)
{
    s_self_remember (self, task);
    task->expires = self->now + self->settings.result_ttl;
    zg_task_list_add (&self->finished, task, false);
    while ((int64_t) self->finished.size > self->settings.max_results) {
        zg_task_t *oldest = self->finished.head;
        zg_task_list_remove (&self->finished, oldest);
        s_self_forget_task (self, oldest);
    }
}

//  --------------------------------------------------------------------------
//  A scatter copy finished: forward its reply, and end the group when it
//  was the last copy

static void
s_self_finish_copy (self_t *self, zg_task_t *copy)
{
    zg_task_t *group = (zg_task_t *) copy->group;
    copy->group = NULL;
    if (copy->state == ZG_TASK_DONE && group->wants_reply) {
        s_part_t parts [] = { { group->id_text, group->id_size } };
        s_self_send (self, self->producers, zmq_msg_data (&group->producer), zmq_msg_size (&group->producer),
                     "REPLY", zmq_msg_data (&group->req), zmq_msg_size (&group->req), parts, 1, &copy->result);
        group->replies++;
    }
    assert (group->copies > 0);
    if (--group->copies == 0)
        s_self_finish (self, group, ZG_TASK_DONE, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  A task reached a final state: record it, tell its producer, keep it for
//  GET. The caller has taken it out of its waiting line or worker.

static void
s_self_finish (self_t *self, zg_task_t *task, int state, const char *reason, zmq_msg_t *result)
{
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_ACK_TIMER);
    task->state = (uint8_t) state;
    task->finished = self->wall;
    task->worker = NULL;
    //  The input is not needed any more; the result is what GET shows
    zmq_msg_close (&task->payload);
    zmq_msg_init (&task->payload);
    zmq_msg_close (&task->result);
    zmq_msg_init (&task->result);
    if (result)
        zmq_msg_move (&task->result, result);
    else
    if (reason) {
        zmq_msg_init_size (&task->result, strlen (reason));
        memcpy (zmq_msg_data (&task->result), reason, strlen (reason));
    }
    if (task->scatter) {
        //  A group's outcome is its copies' replies, then END
        s_self_send_outcome (self, task, "END", 0, NULL);
        s_self_keep (self, task);
        return;
    }
    if (state == ZG_TASK_DONE)
        queue->done++;
    else
    if (state == ZG_TASK_FAILED)
        queue->failed++;
    if (task->group)
        s_self_finish_copy (self, task);
    else
    if (state == ZG_TASK_DONE)
        s_self_send_outcome (self, task, "REPLY", 0, NULL);
    else {
        char text [ZG_QUEUES_REASON_SIZE];
        if (state == ZG_TASK_FAILED)
            snprintf (text, sizeof text, "failed: %s", reason? reason: "");
        else
            snprintf (text, sizeof text, "is dead after %u deliveries", task->attempt);
        s_self_send_outcome (self, task, "ERROR", state == ZG_TASK_FAILED? 422: 410, text);
    }
    s_self_keep (self, task);
}

//  --------------------------------------------------------------------------
//  Take a task back from the worker holding it (the caller then finishes or
//  requeues it, and gives the worker its credit with s_self_credit)

static void
s_self_take_back (self_t *self, zg_qworker_t *worker, zg_task_t *task)
{
    zg_task_list_remove (&worker->held, task);
    ((zg_taskq_t *) task->queue)->in_progress--;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_ACK_TIMER);
    task->worker = NULL;
}

//  --------------------------------------------------------------------------
//  A task's deliveries are used up: to the dead-letter queue, or dead for
//  good if it already is in one (or that one is full)

static void
s_self_kill (self_t *self, zg_task_t *task)
{
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    queue->dead++;
    char reason [ZG_QUEUES_REASON_SIZE];
    snprintf (reason, sizeof reason, "is dead after %u deliveries", task->attempt);
    s_self_send_outcome (self, task, "ERROR", 410, reason);
    zg_taskq_t *dead_letters = NULL;
    char name [300];
    snprintf (name, sizeof name, "%s" ZG_TASKQ_DEAD_SUFFIX, queue->name);
    //  A dead-letter queue no worker could name (too long) would hold its
    //  tasks for ever
    if (!queue->dead_letter && (int64_t) strlen (name) <= self->settings.max_name_size)
        dead_letters = s_self_queue (self, name, false, true);
    if (self->settings.verbose)
        zsys_info ("zg_queues: task %" PRIu64 " of '%s' %s%s", task->id, queue->name, reason,
                   dead_letters? ", to the dead letters": "");
    if (dead_letters && (int64_t) dead_letters->waiting < self->settings.max_pending) {
        s_self_assign_queue (self, task, dead_letters);
        zg_taskq_push (dead_letters, task, false);
        task->state = ZG_TASK_DEAD;
        dead_letters->sent++;
        s_self_dispatch (self, dead_letters);
    }
    else {
        if (dead_letters)
            s_self_check_idle (self, dead_letters);
        s_self_finish (self, task, ZG_TASK_DEAD, reason + strlen ("is "), NULL);
    }
}

//  --------------------------------------------------------------------------
//  A task taken back from its worker goes to the head of its queue, or to the
//  dead letters past max-deliveries; a scatter copy, pinned to its worker,
//  fails instead. The caller dispatches the queue.

static void
s_self_requeue (self_t *self, zg_task_t *task)
{
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    if (task->group)
        s_self_finish (self, task, ZG_TASK_FAILED, "its worker did not answer", NULL);
    else
    if ((int64_t) task->attempt >= self->settings.max_deliveries || queue->dead_letter)
        s_self_kill (self, task);
    else {
        queue->redelivered++;
        zg_taskq_push (queue, task, true);
    }
}

//  --------------------------------------------------------------------------
//  Leave every seat

static void
s_self_unseat (self_t *self, zg_qworker_t *worker)
{
    for (size_t index = 0; index < worker->seat_count; index++) {
        zg_taskq_line_remove (&worker->seats [index]);
        worker->seats [index].queue->workers--;
        s_self_check_idle (self, worker->seats [index].queue);
    }
    free (worker->seats);
    worker->seats = NULL;
    worker->seat_count = 0;
    worker->in_lines = false;
}

//  --------------------------------------------------------------------------
//  A worker is gone (BYE, or silent too long): its tasks go back to the head
//  of their queues in the order they were delivered, its scatter copies fail

static void
s_self_worker_destroy (self_t *self, zg_qworker_t *worker, const char *why)
{
    if (self->settings.verbose)
        zsys_info ("zg_queues: worker '%.*s' %s, %zu tasks back to their queues",
                   (int) worker->name_size, worker->name, why, worker->held.size);
    s_self_unseat (self, worker);
    size_t count = worker->held.size;
    zg_taskq_t **queues = (zg_taskq_t **) zmalloc (count * sizeof (zg_taskq_t *) + 1);
    for (size_t index = 0; index < count; index++) {
        zg_task_t *task = worker->held.tail;
        queues [index] = (zg_taskq_t *) task->queue;
        s_self_take_back (self, worker, task);
        s_self_requeue (self, task);
    }
    while (worker->pinned.head) {
        zg_task_t *copy = worker->pinned.head;
        zg_task_list_remove (&worker->pinned, copy);
        ((zg_taskq_t *) copy->queue)->pinned--;
        s_self_finish (self, copy, ZG_TASK_FAILED, "its worker left", NULL);
    }
    zg_qworkers_remove (self->registry, &worker);
    for (size_t index = 0; index < count; index++)
        s_self_dispatch (self, queues [index]);
    free (queues);
}

//  --------------------------------------------------------------------------
//  READY: create or update a worker's seats and prefetch

static void
s_self_handle_ready (self_t *self, s_message_t *message, zg_qworker_t *worker)
{
    const byte *identity = (const byte *) message->data [0];
    size_t identity_size = message->size [0];
    const byte *name = (const byte *) message->data [2];
    size_t name_size = message->size [2];
    s_options_t options;
    int code;
    char error [256];
    if (s_parse_options (self, message->data [3], message->size [3], true, &options, &code, error, sizeof error)) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, code, "%s", error);
        zchunk_destroy (&options.names);
        return;
    }
    //  Check everything before changing anything
    const byte *cursor = options.names? zchunk_data (options.names): NULL;
    size_t new_queues = 0;
    const char *problem = NULL;
    for (size_t index = 0; index < options.name_count && !problem; index++) {
        char text [256];
        memcpy (text, cursor + 2, cursor [1]);
        text [cursor [1]] = 0;
        if (!s_self_queue (self, text, cursor [0], false))
            new_queues++;
        const byte *other = cursor + 2 + cursor [1];
        for (size_t later = index + 1; later < options.name_count; later++) {
            if (memcmp (other, cursor, 2 + cursor [1]) == 0)
                problem = "a name is listed twice";
            other += 2 + other [1];
        }
        cursor += 2 + cursor [1];
    }
    if (problem)
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 400, "%s", problem);
    else
    if ((int64_t) (zhashx_size (self->queues) + zhashx_size (self->commands) + new_queues) > self->settings.max_queues)
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 503,
                      "too many queues (max-queues %" PRId64 ")", self->settings.max_queues);
    else
    if (!worker && (int64_t) zg_qworkers_size (self->registry) >= self->settings.max_workers)
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 503,
                      "too many workers (max-workers %" PRId64 ")", self->settings.max_workers);
    else {
        if (!worker) {
            worker = zg_qworkers_add (self->registry, identity, identity_size, name, name_size, self->now);
            if (self->settings.verbose)
                zsys_info ("zg_queues: worker '%.*s' ready", (int) name_size, (const char *) name);
        }
        zg_qworkers_touch (self->registry, worker, self->now);
        s_self_unseat (self, worker);
        worker->prefetch = options.prefetch;
        worker->seats = (zg_seat_t *) zmalloc (options.name_count * sizeof (zg_seat_t) + 1);
        cursor = options.names? zchunk_data (options.names): NULL;
        for (size_t index = 0; index < options.name_count; index++) {
            char text [256];
            memcpy (text, cursor + 2, cursor [1]);
            text [cursor [1]] = 0;
            zg_seat_t *seat = &worker->seats [worker->seat_count++];
            seat->worker = worker;
            seat->queue = s_self_queue (self, text, cursor [0], true);
            assert (seat->queue);
            seat->queue->workers++;
            cursor += 2 + cursor [1];
        }
        msgpack_sbuffer_clear (&self->buffer);
        msgpack_pack_map (&self->packer, 2);
        msgpack_pack_str_with_body (&self->packer, "heartbeat", 9);
        msgpack_pack_int64 (&self->packer, self->settings.heartbeat_interval);
        msgpack_pack_str_with_body (&self->packer, "timeout", 7);
        msgpack_pack_int64 (&self->packer, self->settings.worker_timeout);
        s_part_t parts [] = { { self->buffer.data, self->buffer.size } };
        s_self_send (self, self->workers, identity, identity_size, "OK", name, name_size, parts, 1, NULL);
        s_self_credit (self, worker);
    }
    zchunk_destroy (&options.names);
}

//  --------------------------------------------------------------------------
//  One message from a worker connection

static void
s_self_handle_worker (self_t *self, s_message_t *message)
{
    const byte *identity = (const byte *) message->data [0];
    size_t identity_size = message->size [0];
    if (message->count < 3) {
        s_self_error (self, self->workers, identity, identity_size, "", 0, 400,
                      "a worker message is [command][worker][fields...]");
        return;
    }
    const byte *name = (const byte *) message->data [2];
    size_t name_size = message->size [2];
    if (name_size == 0 || (int64_t) name_size > self->settings.max_name_size) {
        s_self_error (self, self->workers, identity, identity_size, "", 0, name_size? 413: 400,
                      "a worker id is 1 to %" PRId64 " bytes", self->settings.max_name_size);
        return;
    }
    zg_qworker_t *worker = zg_qworkers_find (self->registry, identity, identity_size, name, name_size);
    bool ready = s_frame_is (message, 1, "READY");
    bool known = ready || s_frame_is (message, 1, "ACK") || s_frame_is (message, 1, "NACK")
              || s_frame_is (message, 1, "FAIL") || s_frame_is (message, 1, "PING") || s_frame_is (message, 1, "BYE");
    if (!known) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 405,
                      "unknown command '%.*s'", (int) (message->size [1] > 32? 32: message->size [1]),
                      (const char *) message->data [1]);
        return;
    }
    if (ready) {
        if (message->count != 4)
            s_self_error (self, self->workers, identity, identity_size, name, name_size, 400,
                          "READY is [READY][worker][options]");
        else
            s_self_handle_ready (self, message, worker);
        return;
    }
    if (!worker) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 404,
                      "unknown worker '%.*s': send READY", (int) (name_size > 64? 64: name_size), name);
        return;
    }
    zg_qworkers_touch (self->registry, worker, self->now);
    if (s_frame_is (message, 1, "PING")) {
        if (message->count == 3)
            s_self_send (self, self->workers, identity, identity_size, "OK", name, name_size, NULL, 0, NULL);
        else
            s_self_error (self, self->workers, identity, identity_size, name, name_size, 400,
                          "PING is [PING][worker]");
        return;
    }
    if (s_frame_is (message, 1, "BYE")) {
        if (message->count == 3)
            s_self_worker_destroy (self, worker, "left");
        else
            s_self_error (self, self->workers, identity, identity_size, name, name_size, 400,
                          "BYE is [BYE][worker]");
        return;
    }
    //  ACK, NACK and FAIL name a task this worker holds
    bool ack = s_frame_is (message, 1, "ACK");
    bool fail = s_frame_is (message, 1, "FAIL");
    if (message->count < 4 || message->count > 5 || (fail && message->count != 5)) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 400, "%s",
                      ack? "ACK is [ACK][worker][id] or [ACK][worker][id][reply]":
                      fail? "FAIL is [FAIL][worker][id][reason]":
                            "NACK is [NACK][worker][id] or [NACK][worker][id][reason]");
        return;
    }
    uint64_t id = s_frame_id (message, 3);
    zg_task_t *task = zg_tasks_lookup (self->tasks, id);
    if (!task || task->worker != worker || task->state != ZG_TASK_IN_PROGRESS) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 409,
                      "task %.*s is not held by this worker", (int) (message->size [3] > 24? 24:
                      message->size [3]), (const char *) message->data [3]);
        return;
    }
    if (message->count == 5 && (int64_t) message->size [4] > self->settings.max_task_size) {
        s_self_error (self, self->workers, identity, identity_size, name, name_size, 413,
                      "reply larger than %" PRId64 " bytes", self->settings.max_task_size);
        return;
    }
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    s_self_take_back (self, worker, task);
    if (ack)
        s_self_finish (self, task, ZG_TASK_DONE, NULL, message->count == 5? &message->frames [4]: NULL);
    else
    if (fail) {
        char reason [ZG_QUEUES_REASON_SIZE];
        size_t size = message->size [4];
        if (size >= sizeof reason)
            size = sizeof reason - 1;
        memcpy (reason, message->data [4], size);
        reason [size] = 0;
        s_self_finish (self, task, ZG_TASK_FAILED, reason, NULL);
    }
    else
        s_self_requeue (self, task);
    s_self_credit (self, worker);
    s_self_dispatch (self, queue);
}

//  --------------------------------------------------------------------------
//  Answer a producer's request with [OK][req][parts...], unless req is empty

static void
s_self_ok (self_t *self, s_message_t *message, s_part_t *parts, size_t part_count)
{
    if (message->size [2] == 0)
        return;
    s_self_send (self, self->producers, message->data [0], message->size [0], "OK",
                 message->data [2], message->size [2], parts, part_count, NULL);
}

//  --------------------------------------------------------------------------
//  Prepare a new task from a producer's request

static zg_task_t *
s_self_new_task (self_t *self, zg_taskq_t *queue, s_options_t *options, s_message_t *message, zmq_msg_t *payload)
{
    zg_task_t *task = zg_tasks_create (self->tasks);
    s_self_assign_queue (self, task, queue);
    task->created = self->wall;
    task->priority = (uint8_t) options->priority;
    task->ack_timeout = options->ack_timeout;
    if (payload)
        zmq_msg_copy (&task->payload, payload);
    if (options->reply || options->scatter) {
        task->wants_reply = true;
        zmq_msg_copy (&task->producer, &message->frames [0]);
        zmq_msg_copy (&task->req, &message->frames [2]);
        zg_tasks_set_timer (self->tasks, task, ZG_TASKS_REPLY_TIMER, self->now + options->timeout);
    }
    return task;
}

//  --------------------------------------------------------------------------
//  Scatter: one copy of the task for every worker of the command, each
//  pinned to its worker, under a group task that collects the replies

static void
s_self_scatter (self_t *self, zg_taskq_t *queue, s_options_t *options, s_message_t *message, zmq_msg_t *payload)
{
    zg_task_t *group = s_self_new_task (self, queue, options, message, NULL);
    group->scatter = true;
    group->state = ZG_TASK_IN_PROGRESS;
    s_part_t parts [] = { { group->id_text, group->id_size } };
    s_self_ok (self, message, parts, 1);
    s_options_t copy_options = *options;
    copy_options.reply = copy_options.scatter = false;
    //  Count first: delivering a copy may finish it at once and end the group
    for (zg_qworker_t *worker = zg_qworkers_oldest (self->registry); worker; worker = worker->next)
        for (size_t index = 0; index < worker->seat_count; index++)
            if (worker->seats [index].queue == queue)
                group->copies++;
    group->copies++;
    for (zg_qworker_t *worker = zg_qworkers_oldest (self->registry); worker; worker = worker->next)
        for (size_t index = 0; index < worker->seat_count; index++)
            if (worker->seats [index].queue == queue) {
                zg_task_t *copy = s_self_new_task (self, queue, &copy_options, message, payload);
                copy->group = group;
                queue->sent++;
                if (s_worker_has_credit (worker))
                    s_self_deliver (self, worker, copy);
                else {
                    copy->worker = worker;
                    zg_task_list_add (&worker->pinned, copy, false);
                    queue->pinned++;
                }
            }
    //  The extra count kept the group open while copies were made
    if (--group->copies == 0)
        s_self_finish (self, group, ZG_TASK_DONE, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  SEND req queue options payload, or CALL req options name/params/data

static void
s_self_handle_send (self_t *self, s_message_t *message, bool call)
{
    const void *identity = message->data [0];
    size_t identity_size = message->size [0];
    const void *req = message->data [2];
    size_t req_size = message->size [2];
    if (message->count != (call? 5u: 6u)) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 400, "%s",
                      call? "CALL is [CALL][req][options][name/params/data]":
                            "SEND is [SEND][req][queue][options][payload]");
        return;
    }
    zmq_msg_t *line = &message->frames [call? 4: 5];
    size_t line_size = message->size [call? 4: 5];
    const char *name = (const char *) message->data [call? 4: 3];
    size_t name_size = message->size [call? 4: 3];
    const char *slash = call? (const char *) memchr (name, '/', name_size): NULL;
    if (slash)
        name_size = (size_t) (slash - name);
    if (!s_valid_name (self, name, name_size)) {
        bool long_name = (int64_t) name_size > self->settings.max_name_size;
        s_self_error (self, self->producers, identity, identity_size, req, req_size, long_name? 413: 400,
                      "invalid %s name '%.*s'", call? "command": "queue", (int) (name_size > 64? 64: name_size), name);
        return;
    }
    char text [256];
    memcpy (text, name, name_size);
    text [name_size] = 0;
    s_options_t options;
    int code;
    char error [256];
    if (s_parse_options (self, message->data [call? 3: 4], message->size [call? 3: 4], false, &options, &code, error, sizeof error)) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, code, "%s", error);
        return;
    }
    if (options.scatter && !call) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 400,
                      "option 'scatter' is for CALL");
        return;
    }
    if ((int64_t) line_size > self->settings.max_task_size) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 413,
                      "payload larger than %" PRId64 " bytes", self->settings.max_task_size);
        return;
    }
    //  Check every limit before a new queue is created: a refused request
    //  changes nothing
    zg_taskq_t *queue = s_self_queue (self, text, call, false);
    if (call && (!queue || queue->workers == 0)) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 404,
                      "command '%s' not found", text);
        return;
    }
    size_t needed = options.scatter? queue->workers + 1: 1;
    if ((int64_t) (zg_tasks_size (self->tasks) + needed) > self->settings.max_tasks) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 503,
                      "too many tasks (max-tasks %" PRId64 ")", self->settings.max_tasks);
        return;
    }
    size_t waiting = !queue? 0: options.scatter? queue->pinned: queue->waiting;
    if ((int64_t) waiting >= self->settings.max_pending) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 429,
                      "queue full (max-pending %" PRId64 ")", self->settings.max_pending);
        return;
    }
    if (!queue && !(queue = s_self_queue (self, text, false, true))) {
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 503,
                      "too many queues (max-queues %" PRId64 ")", self->settings.max_queues);
        return;
    }
    //  A command's payload is the line after the name and its slash
    zmq_msg_t rest;
    zmq_msg_init (&rest);
    if (call) {
        size_t skip = slash? name_size + 1: name_size;
        zmq_msg_close (&rest);
        zmq_msg_init_size (&rest, zmq_msg_size (line) - skip);
        memcpy (zmq_msg_data (&rest), (const byte *) zmq_msg_data (line) + skip, zmq_msg_size (line) - skip);
    }
    zmq_msg_t *payload = call? &rest: line;
    if (options.scatter)
        s_self_scatter (self, queue, &options, message, payload);
    else {
        zg_task_t *task = s_self_new_task (self, queue, &options, message, NULL);
        //  The frame is closed after this message: the task takes it over
        zmq_msg_move (&task->payload, payload);
        queue->sent++;
        s_part_t parts [] = { { task->id_text, task->id_size } };
        s_self_ok (self, message, parts, 1);
        zg_taskq_push (queue, task, false);
        s_self_dispatch (self, queue);
    }
    zmq_msg_close (&rest);
}

//  --------------------------------------------------------------------------
//  GET req id: the task as a msgpack map

static void
s_self_handle_get (self_t *self, s_message_t *message)
{
    zg_task_t *task = zg_tasks_lookup (self->tasks, s_frame_id (message, 3));
    if (!task) {
        size_t size = message->size [3];
        s_self_error (self, self->producers, message->data [0], message->size [0],
                      message->data [2], message->size [2], 404, "unknown task '%.*s'",
                      (int) (size > 24? 24: size), (const char *) message->data [3]);
        return;
    }
    zg_taskq_t *queue = (zg_taskq_t *) task->queue;
    bool has_reply = task->state == ZG_TASK_DONE && !task->scatter;
    bool has_reason = task->state == ZG_TASK_FAILED || task->state == ZG_TASK_DEAD;
    msgpack_packer *packer = &self->packer;
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_pack_map (packer, 9 + (has_reply || has_reason));
    const char *state = zg_task_state_name (task->state);
    msgpack_pack_str_with_body (packer, "id", 2);
    msgpack_pack_str_with_body (packer, task->id_text, task->id_size);
    msgpack_pack_str_with_body (packer, "queue", 5);
    msgpack_pack_str_with_body (packer, queue->name, strlen (queue->name));
    msgpack_pack_str_with_body (packer, "command", 7);
    if (queue->command)
        msgpack_pack_true (packer);
    else
        msgpack_pack_false (packer);
    msgpack_pack_str_with_body (packer, "state", 5);
    msgpack_pack_str_with_body (packer, state, strlen (state));
    msgpack_pack_str_with_body (packer, "priority", 8);
    msgpack_pack_uint8 (packer, task->priority);
    msgpack_pack_str_with_body (packer, "attempt", 7);
    msgpack_pack_uint32 (packer, task->attempt);
    msgpack_pack_str_with_body (packer, "created", 7);
    msgpack_pack_int64 (packer, task->created);
    msgpack_pack_str_with_body (packer, "started", 7);
    msgpack_pack_int64 (packer, task->started);
    msgpack_pack_str_with_body (packer, "finished", 8);
    msgpack_pack_int64 (packer, task->finished);
    if (has_reply) {
        msgpack_pack_str_with_body (packer, "reply", 5);
        msgpack_pack_bin_with_body (packer, zmq_msg_data (&task->result), zmq_msg_size (&task->result));
    }
    else
    if (has_reason && zmq_msg_size (&task->result)) {
        msgpack_pack_str_with_body (packer, "reason", 6);
        msgpack_pack_str_with_body (packer, zmq_msg_data (&task->result), zmq_msg_size (&task->result));
    }
    else
    if (has_reason) {
        char reason [64];
        snprintf (reason, sizeof reason, "dead after %u deliveries", task->attempt);
        msgpack_pack_str_with_body (packer, "reason", 6);
        msgpack_pack_str_with_body (packer, reason, strlen (reason));
    }
    s_part_t parts [] = { { self->buffer.data, self->buffer.size } };
    s_self_ok (self, message, parts, 1);
}

//  --------------------------------------------------------------------------
//  Counters as a json-c object: the pipe's STATS and, packed, the wire's

static json_object *
s_self_stats_json (self_t *self)
{
    json_object *root = json_object_new_object ();
    const char *sections [] = { "queues", "commands" };
    zhashx_t *tables [] = { self->queues, self->commands };
    for (int index = 0; index < 2; index++) {
        json_object *section = json_object_new_object ();
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (tables [index]); queue;
             queue = (zg_taskq_t *) zhashx_next (tables [index])) {
            json_object *counters = json_object_new_object ();
            json_object_object_add (counters, "waiting", json_object_new_uint64 (queue->waiting + queue->pinned));
            json_object_object_add (counters, "in_progress", json_object_new_uint64 (queue->in_progress));
            json_object_object_add (counters, "done", json_object_new_uint64 (queue->done));
            json_object_object_add (counters, "failed", json_object_new_uint64 (queue->failed));
            json_object_object_add (counters, "dead", json_object_new_uint64 (queue->dead));
            json_object_object_add (counters, "redelivered", json_object_new_uint64 (queue->redelivered));
            json_object_object_add (counters, "workers", json_object_new_uint64 (queue->workers));
            json_object_object_add (counters, "oldest_waiting_ms",
                                    json_object_new_int64 (zg_taskq_oldest (queue, self->wall)));
            json_object_object_add (counters, "sent", json_object_new_uint64 (queue->sent));
            json_object_object_add (section, queue->name, counters);
        }
        json_object_object_add (root, sections [index], section);
    }
    json_object_object_add (root, "workers", json_object_new_uint64 (zg_qworkers_size (self->registry)));
    json_object_object_add (root, "tasks", json_object_new_uint64 (zg_tasks_size (self->tasks)));
    json_object_object_add (root, "errors", json_object_new_uint64 (self->errors));
    json_object_object_add (root, "unroutable", json_object_new_uint64 (self->unroutable));
    json_object *recent = json_object_new_array ();
    size_t ring = (size_t) self->settings.recent_size;
    for (size_t index = 0; index < self->recent_count; index++) {
        s_recent_t *entry = &self->recent [(self->recent_next + ring - 1 - index) % ring];
        json_object *item = json_object_new_object ();
        char id [ZG_TASKS_ID_SIZE + 1];
        snprintf (id, sizeof id, "%" PRIu64, entry->id);
        json_object_object_add (item, "id", json_object_new_string (id));
        json_object_object_add (item, "queue", json_object_new_string (entry->queue->name));
        json_object_object_add (item, "state", json_object_new_string (zg_task_state_name (entry->state)));
        json_object_object_add (item, "attempt", json_object_new_uint64 (entry->attempt));
        json_object_object_add (item, "finished", json_object_new_int64 (entry->finished));
        json_object_array_add (recent, item);
    }
    json_object_object_add (root, "recent", recent);
    return root;
}

//  --------------------------------------------------------------------------
//  Pack a json-c value (objects, arrays, strings, integers) as msgpack

static void
s_pack_json (msgpack_packer *packer, json_object *value)
{
    switch (json_object_get_type (value)) {
        case json_type_object:
            msgpack_pack_map (packer, (size_t) json_object_object_length (value));
            json_object_object_foreach (value, key, member) {
                msgpack_pack_str_with_body (packer, key, strlen (key));
                s_pack_json (packer, member);
            }
            break;
        case json_type_array:
            msgpack_pack_array (packer, json_object_array_length (value));
            for (size_t index = 0; index < json_object_array_length (value); index++)
                s_pack_json (packer, json_object_array_get_idx (value, index));
            break;
        case json_type_string:
            msgpack_pack_str_with_body (packer, json_object_get_string (value),
                                        (size_t) json_object_get_string_len (value));
            break;
        case json_type_int:
            msgpack_pack_int64 (packer, json_object_get_int64 (value));
            break;
        default:
            msgpack_pack_nil (packer);
            break;
    }
}

//  --------------------------------------------------------------------------
//  One message from a producer connection

static void
s_self_handle_producer (self_t *self, s_message_t *message)
{
    const void *identity = message->data [0];
    size_t identity_size = message->size [0];
    const void *req = message->count > 2? (const void *) message->data [2]: "";
    size_t req_size = message->count > 2? message->size [2]: 0;
    if ((int64_t) req_size > self->settings.max_name_size) {
        s_self_error (self, self->producers, identity, identity_size, "", 0, 413,
                      "req longer than %" PRId64 " bytes", self->settings.max_name_size);
        return;
    }
    bool send = s_frame_is (message, 1, "SEND"), call = s_frame_is (message, 1, "CALL");
    bool get = s_frame_is (message, 1, "GET"), stats = s_frame_is (message, 1, "STATS");
    bool ping = s_frame_is (message, 1, "PING");
    if (!send && !call && !get && !stats && !ping)
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 405,
                      "unknown command '%.*s'", (int) (message->size [1] > 32? 32: message->size [1]),
                      (const char *) message->data [1]);
    else
    if (message->count < 3)
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 400,
                      "a request is [command][req][fields...]");
    else
    if (send || call)
        s_self_handle_send (self, message, call);
    else
    if (get && message->count == 4)
        s_self_handle_get (self, message);
    else
    if (stats && message->count == 3) {
        json_object *root = s_self_stats_json (self);
        msgpack_sbuffer_clear (&self->buffer);
        s_pack_json (&self->packer, root);
        json_object_put (root);
        s_part_t parts [] = { { self->buffer.data, self->buffer.size } };
        s_self_ok (self, message, parts, 1);
    }
    else
    if (ping && message->count == 3)
        s_self_ok (self, message, NULL, 0);
    else
        s_self_error (self, self->producers, identity, identity_size, req, req_size, 400, "%s",
                      get? "GET is [GET][req][id]": stats? "STATS is [STATS][req]": "PING is [PING][req]");
}

//  --------------------------------------------------------------------------
//  Receive one message; returns false if none was waiting. A message with
//  more than ZG_QUEUES_MAX_FRAMES frames keeps the first ones and counts the
//  rest, which are discarded. The caller closes the frames it got.

static bool
s_recv_message (void *handle, s_message_t *message)
{
    zmq_msg_t *frames = message->frames;
    zmq_msg_init (&frames [0]);
    if (zmq_msg_recv (&frames [0], handle, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&frames [0]);
        return false;
    }
    size_t count = 1;
    while (zmq_msg_more (&frames [count - 1]) && count < ZG_QUEUES_MAX_FRAMES) {
        zmq_msg_init (&frames [count]);
        zmq_msg_recv (&frames [count], handle, 0);
        count++;
    }
    //  Read each frame's bytes and size once, for every check that follows
    for (size_t index = 0; index < count; index++) {
        message->data [index] = (const byte *) zmq_msg_data (&frames [index]);
        message->size [index] = zmq_msg_size (&frames [index]);
    }
    if (zmq_msg_more (&frames [count - 1])) {
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        do {
            zmq_msg_close (&extra);
            zmq_msg_init (&extra);
            zmq_msg_recv (&extra, handle, 0);
        } while (zmq_msg_more (&extra));
        zmq_msg_close (&extra);
        count++;
    }
    message->count = count;
    return true;
}

//  --------------------------------------------------------------------------
//  Handle up to a batch of messages from one socket

static void
s_self_drain (self_t *self, zsock_t *socket)
{
    void *handle = zsock_resolve (socket);
    s_message_t message;
    for (int index = 0; index < ZG_QUEUES_BATCH; index++) {
        if (!s_recv_message (handle, &message))
            break;
        size_t kept = message.count > ZG_QUEUES_MAX_FRAMES? ZG_QUEUES_MAX_FRAMES: message.count;
        if (message.count > ZG_QUEUES_MAX_FRAMES)
            s_self_error (self, socket, message.data [0], message.size [0], "", 0, 400, "too many frames");
        else
        if (socket == self->producers)
            s_self_handle_producer (self, &message);
        else
            s_self_handle_worker (self, &message);
        for (size_t frame = 0; frame < kept; frame++)
            zmq_msg_close (&message.frames [frame]);
    }
}

//  --------------------------------------------------------------------------
//  Timers: ack and reply timeouts, silent workers, expired results

static void
s_self_expire (self_t *self)
{
    zg_task_t *task;
    while ((task = zg_tasks_expired (self->tasks, ZG_TASKS_ACK_TIMER, self->now))) {
        zg_qworker_t *worker = (zg_qworker_t *) task->worker;
        zg_taskq_t *queue = (zg_taskq_t *) task->queue;
        s_self_take_back (self, worker, task);
        s_self_requeue (self, task);
        s_self_credit (self, worker);
        s_self_dispatch (self, queue);
    }
    while ((task = zg_tasks_expired (self->tasks, ZG_TASKS_REPLY_TIMER, self->now)))
        if (task->scatter)
            s_self_send_outcome (self, task, "END", 0, NULL);
        else
            s_self_send_outcome (self, task, "ERROR", 408, "timed out waiting for its reply");
    zg_qworker_t *oldest;
    while ((oldest = zg_qworkers_oldest (self->registry))
    &&      oldest->last_seen + self->settings.worker_timeout <= self->now)
        s_self_worker_destroy (self, oldest, "timed out");
    while (self->finished.head && self->finished.head->expires <= self->now) {
        task = self->finished.head;
        zg_task_list_remove (&self->finished, task);
        s_self_forget_task (self, task);
    }
}

//  --------------------------------------------------------------------------
//  Milliseconds until the next timer, or -1 if none is armed

static long
s_self_timeout (self_t *self)
{
    int64_t next = zg_tasks_next_deadline (self->tasks, ZG_TASKS_ACK_TIMER);
    int64_t reply = zg_tasks_next_deadline (self->tasks, ZG_TASKS_REPLY_TIMER);
    if (reply < next)
        next = reply;
    zg_qworker_t *oldest = zg_qworkers_oldest (self->registry);
    if (oldest && oldest->last_seen + self->settings.worker_timeout < next)
        next = oldest->last_seen + self->settings.worker_timeout;
    if (self->finished.head && self->finished.head->expires < next)
        next = self->finished.head->expires;
    if (next == INT64_MAX)
        return -1;
    int64_t now = zclock_mono ();
    return next > now? (long) (next - now): 0;
}

static const zg_actor_handlers_t s_handlers = {
    "zg_queues", (zg_actor_set_fn *) s_self_set, (zg_actor_stats_fn *) s_self_stats_json, NULL
};

//  --------------------------------------------------------------------------
//  The actor

void
zg_queues (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = s_self_new (pipe);
    s_self_apply_socket_options (self);
    zsock_signal (pipe, 0);
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->producers), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->workers), 0, ZMQ_POLLIN, 0 }
    };
    while (!self->terminated) {
        if (zg_actor_poll (items, 3, s_self_timeout (self)) == -1)
            break;              //  Context terminated
        self->now = zclock_mono ();
        self->wall = zclock_time ();
        if (items [0].revents & ZMQ_POLLIN)
            self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
        //  Workers first: their answers free credit for the producers' tasks
        if (items [2].revents & ZMQ_POLLIN)
            s_self_drain (self, self->workers);
        if (items [1].revents & ZMQ_POLLIN)
            s_self_drain (self, self->producers);
        s_self_expire (self);
        s_self_forget_idle (self);
    }
    s_self_destroy (&self);
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

//  --------------------------------------------------------------------------
//  Pack a small options map from alternating keys and values: a value
//  starting with '[' is an array of one name, digits an integer, "true" a bool

static zframe_t *
s_test_options (const char *first, ...)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    va_list args;
    size_t count = 0;
    va_start (args, first);
    for (const char *key = first; key; key = va_arg (args, const char *)) {
        va_arg (args, const char *);
        count++;
    }
    va_end (args);
    msgpack_pack_map (&packer, count);
    va_start (args, first);
    for (const char *key = first; key; key = va_arg (args, const char *)) {
        const char *value = va_arg (args, const char *);
        msgpack_pack_str_with_body (&packer, key, strlen (key));
        if (*value == '[') {
            msgpack_pack_array (&packer, 1);
            msgpack_pack_str_with_body (&packer, value + 1, strlen (value + 1));
        }
        else
        if (isdigit ((unsigned char) *value))
            msgpack_pack_int64 (&packer, atoll (value));
        else
            msgpack_pack_true (&packer);
    }
    va_end (args);
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

//  --------------------------------------------------------------------------
//  Send [command][name][options]

static void
s_test_send_options (zsock_t *socket, const char *command, const char *name, zframe_t *options,
                     const char *last)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, name);
    if (last && streq (command, "SEND")) {
        zmsg_addstr (msg, "jobs");
        zmsg_append (msg, &options);
        zmsg_addstr (msg, last);
    }
    else {
        zmsg_append (msg, &options);
        if (last)
            zmsg_addstr (msg, last);
    }
    zmsg_send (&msg, socket);
}

//  --------------------------------------------------------------------------
//  Receive a message and check its first frames; returns it for more checks

static zmsg_t *
s_test_expect (zsock_t *socket, const char *command, const char *name, const char *third)
{
    zmsg_t *msg = zmsg_recv (socket);
    assert (msg);
    char *got = zmsg_popstr (msg);
    if (!streq (got, command)) {
        zmsg_print (msg);
        printf ("expected %s, got %s\n", command, got);
    }
    assert (streq (got, command));
    zstr_free (&got);
    got = zmsg_popstr (msg);
    assert (streq (got, name));
    zstr_free (&got);
    if (third) {
        got = zmsg_popstr (msg);
        assert (streq (got, third));
        zstr_free (&got);
    }
    return msg;
}

static void
s_test_expect_done (zsock_t *socket, const char *command, const char *name, const char *third)
{
    zmsg_t *msg = s_test_expect (socket, command, name, third);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  A DELIVER for worker name; returns the task id and checks the payload

static char *
s_test_delivery (zsock_t *worker, const char *name, const char *payload)
{
    zmsg_t *msg = s_test_expect (worker, "DELIVER", name, NULL);
    char *id = zmsg_popstr (msg);
    zframe_t *meta = zmsg_pop (msg);
    char *data = zmsg_popstr (msg);
    assert (streq (data, payload));
    zstr_free (&data);
    zframe_destroy (&meta);
    zmsg_destroy (&msg);
    return id;
}

//  --------------------------------------------------------------------------
//  Whether a frame contains a string

static bool
s_test_contains (zframe_t *frame, const char *string)
{
    size_t size = strlen (string);
    for (size_t offset = 0; offset + size <= zframe_size (frame); offset++)
        if (memcmp (zframe_data (frame) + offset, string, size) == 0)
            return true;
    return false;
}

void
zg_queues_test (bool verbose)
{
    printf (" * zg_queues: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "no-such-key", "1", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "max-pending", "-1", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "data-dir", "", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "data-dir", "/tmp/zg-queues-test", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "data-max-size", "65535", error, sizeof error) == -1);
    assert (zg_actor_set (queues, "data-max-size", "65536", error, sizeof error) == 0);
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
    s_test_expect_done (producer, "ERROR", "r0", "405");
    zstr_sendx (producer, "SEND", "r1", "jobs", NULL);
    s_test_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "SEND", "r1", "bad name", "", "x", NULL);
    s_test_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "SEND", "r1", "jobs", "\x81", "x", NULL);
    s_test_expect_done (producer, "ERROR", "r1", "400");
    s_test_send_options (producer, "SEND", "r1", s_test_options ("priority", "99", NULL), "x");
    s_test_expect_done (producer, "ERROR", "r1", "400");
    zstr_sendx (producer, "GET", "r2", "999", NULL);
    s_test_expect_done (producer, "ERROR", "r2", "404");
    zstr_sendx (producer, "PING", "r3", NULL);
    s_test_expect_done (producer, "OK", "r3", NULL);
    zstr_sendx (worker, "ACK", "w1", "1", NULL);
    s_test_expect_done (worker, "ERROR", "w1", "404");
    assert (zg_actor_stat (queues, NULL, NULL, "tasks") == 0);

    //  Tasks wait for a worker, bounded by max-pending
    s_test_send_options (producer, "SEND", "a", s_test_options ("reply", "true", NULL), "one");
    s_test_expect_done (producer, "OK", "a", "1");
    zstr_sendx (producer, "SEND", "b", "jobs", "", "two", NULL);
    s_test_expect_done (producer, "OK", "b", "2");
    zstr_sendx (producer, "SEND", "", "jobs", "", "three", NULL);
    zstr_sendx (producer, "SEND", "d", "jobs", "", "four", NULL);
    s_test_expect_done (producer, "ERROR", "d", "429");
    assert (zg_actor_stat (queues, "queues", "jobs", "waiting") == 3);

    //  A worker gets no more than its prefetch, FIFO
    s_test_send_options (worker, "READY", "w1", s_test_options ("queues", "[jobs", "prefetch", "2", NULL), NULL);
    s_test_expect_done (worker, "OK", "w1", NULL);
    char *first = s_test_delivery (worker, "w1", "one");
    char *second = s_test_delivery (worker, "w1", "two");
    assert (streq (first, "1") && streq (second, "2"));
    zsock_set_rcvtimeo (worker, 100);
    zmsg_t *nothing = zmsg_recv (worker);
    assert (nothing == NULL);
    zsock_set_rcvtimeo (worker, 2000);
    assert (zg_actor_stat (queues, "queues", "jobs", "in_progress") == 2);

    //  An ack with a reply reaches the producer and frees credit
    zstr_sendx (worker, "ACK", "w1", first, "ONE", NULL);
    zmsg_t *reply = s_test_expect (producer, "REPLY", "a", "1");
    char *data = zmsg_popstr (reply);
    assert (streq (data, "ONE"));
    zstr_free (&data);
    zmsg_destroy (&reply);
    char *third = s_test_delivery (worker, "w1", "three");
    zstr_sendx (worker, "ACK", "w1", first, NULL);
    s_test_expect_done (worker, "ERROR", "w1", "409");

    //  A nack requeues at the head: the same task comes back, attempt 2
    zstr_sendx (worker, "NACK", "w1", second, NULL);
    char *again = s_test_delivery (worker, "w1", "two");
    assert (streq (again, second));
    zstr_free (&again);
    assert (zg_actor_stat (queues, "queues", "jobs", "redelivered") == 1);

    //  FAIL is final; GET shows states, replies and reasons
    zstr_sendx (worker, "FAIL", "w1", third, "bad input", NULL);
    zstr_sendx (producer, "GET", "g", third, NULL);
    zmsg_t *answer = s_test_expect (producer, "OK", "g", NULL);
    zframe_t *map = zmsg_pop (answer);
    assert (s_test_contains (map, "failed"));
    assert (s_test_contains (map, "bad input"));
    zframe_destroy (&map);
    zmsg_destroy (&answer);
    zstr_sendx (producer, "GET", "g", first, NULL);
    answer = s_test_expect (producer, "OK", "g", NULL);
    map = zmsg_pop (answer);
    assert (s_test_contains (map, "ONE"));
    zframe_destroy (&map);
    zmsg_destroy (&answer);

    //  A silent worker is declared dead; its task goes to another worker
    assert (zg_actor_set (queues, "worker-timeout", "300", error, sizeof error) == 0);
    zsock_t *other = zsock_new_dealer (">inproc://zg-queues-test-workers");
    zsock_set_rcvtimeo (other, 2000);
    s_test_send_options (other, "READY", "w2", s_test_options ("queues", "[jobs", NULL), NULL);
    s_test_expect_done (other, "OK", "w2", NULL);
    int64_t start = zclock_mono ();
    char *moved = NULL;
    while (!moved && zclock_mono () - start < 2000) {
        zstr_sendx (other, "PING", "w2", NULL);
        zsock_set_rcvtimeo (other, 50);
        zmsg_t *msg = zmsg_recv (other);
        if (msg) {
            char *command = zmsg_popstr (msg);
            if (streq (command, "DELIVER")) {
                zstr_free (&command);
                command = zmsg_popstr (msg);
                moved = zmsg_popstr (msg);
            }
            zstr_free (&command);
            zmsg_destroy (&msg);
        }
    }
    assert (moved && streq (moved, second));
    zstr_free (&moved);
    //  Drain the answers to the pings
    zmsg_t *pong;
    while ((pong = zmsg_recv (other)))
        zmsg_destroy (&pong);
    zsock_set_rcvtimeo (other, 2000);
    assert (zg_actor_stat (queues, NULL, NULL, "workers") == 1);
    //  The rest of the test does not ping
    assert (zg_actor_set (queues, "worker-timeout", "10000", error, sizeof error) == 0);

    //  That was its third delivery (max-deliveries): a NACK sends it to the
    //  dead letters
    zstr_sendx (other, "NACK", "w2", second, NULL);
    zstr_sendx (other, "PING", "w2", NULL);
    s_test_expect_done (other, "OK", "w2", NULL);
    assert (zg_actor_stat (queues, "queues", "jobs", "dead") == 1);
    assert (zg_actor_stat (queues, "queues", "jobs.dead", "waiting") == 1);

    //  Command mode: unknown commands are refused, known ones reach only
    //  their workers with the rest of the line as payload
    zstr_sendx (producer, "CALL", "c1", "", "version/x", NULL);
    s_test_expect_done (producer, "ERROR", "c1", "404");
    s_test_send_options (other, "READY", "w2", s_test_options ("commands", "[version", NULL), NULL);
    s_test_expect_done (other, "OK", "w2", NULL);
    s_test_send_options (producer, "CALL", "c2", s_test_options ("reply", "true", NULL), "version/some/data");
    s_test_expect_done (producer, "OK", "c2", NULL);
    char *call = s_test_delivery (other, "w2", "some/data");
    zstr_sendx (other, "ACK", "w2", call, "0.1", NULL);
    s_test_expect_done (producer, "REPLY", "c2", call);
    zstr_free (&call);

    //  Scatter: every worker of the command answers, then END
    s_test_send_options (worker, "READY", "w3", s_test_options ("commands", "[version", NULL), NULL);
    s_test_expect_done (worker, "OK", "w3", NULL);
    s_test_send_options (producer, "CALL", "c3", s_test_options ("scatter", "true", NULL), "version");
    zmsg_t *accepted = s_test_expect (producer, "OK", "c3", NULL);
    char *group = zmsg_popstr (accepted);
    zmsg_destroy (&accepted);
    char *copy = s_test_delivery (other, "w2", "");
    zstr_sendx (other, "ACK", "w2", copy, "from w2", NULL);
    zstr_free (&copy);
    copy = s_test_delivery (worker, "w3", "");
    zstr_sendx (worker, "ACK", "w3", copy, "from w3", NULL);
    zstr_free (&copy);
    s_test_expect_done (producer, "REPLY", "c3", group);
    s_test_expect_done (producer, "REPLY", "c3", group);
    s_test_expect_done (producer, "END", "c3", group);
    zstr_free (&group);

    //  STATS on the wire is a msgpack map
    zstr_sendx (producer, "STATS", "s", NULL);
    answer = s_test_expect (producer, "OK", "s", NULL);
    map = zmsg_pop (answer);
    assert (s_test_contains (map, "jobs.dead"));
    zframe_destroy (&map);
    zmsg_destroy (&answer);
    if (verbose) {
        char *stats = zg_actor_stats (queues);
        printf ("%s ", stats);
        free (stats);
    }

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
