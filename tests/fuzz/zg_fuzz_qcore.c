/*  =========================================================================
    zg_fuzz_qcore - fuzz target for the queues' dispatch core (zg_qcore)
    without sockets: options frames through zg_qoptions_parse, then the
    core's calls in the order and with the checks the actor (zg_queues)
    makes, and what the core would send read from its outbox (zg_qoutbox)

    The `queues` target drives the same code through the actor and real
    sockets, with the frame parsing, at a few hundred inputs a second under
    ASan; this one drives the core alone, without a new actor and its
    sockets per input (four times the inputs a second, each more ops), so
    the state machine (credit, delivery, answers, requeue, dead letters,
    scatter, timers, forgetting) gets more of them. Small limits, so inputs
    reach them.

    Input, repeated until it ends: an op byte, an argument byte, and for
    SEND/CALL and READY an options frame (a length byte and that many
    bytes, as zg_qoptions_parse reads it):

        0 SEND/CALL: bits 0-1 name, 2 CALL, 3-4 producer, 5-7 payload size
        1 READY: bits 0 connection, 1-2 worker id
        2 ACK, 3 FAIL, 4 NACK: bits 0 connection, 1-2 worker id, 3-7 which
          held task (past the last: one it does not hold)
        5 BYE: connection, worker id as READY
        6 the clock moves on by the argument squared (ms), timers run
        7 a worker's PING (a sign of life)
        8 TAKE (pull access): bits 0-1 how many queues (0: all), 2-4 the
          first, 5-6 producer, 7 an ack-timeout of its own
        9 FINISH (bit 7 clear; bit 6: with an output) or RETRY of a taken
          task: bits 0-5 which
        10 GET read a task (one kept until read is forgotten): which

    After each op the actor's pass ends as zg_queues' loop ends it: timers
    due, outbox sent (here checked and cleared), idle queues collected.
    Invariants: every DELIVER goes to a worker id its connection made ready,
    with 6 frames and a msgpack map as meta; every REPLY, END, ERROR and
    TAKE's OK to a producer echoes a req that producer sent wanting an
    answer; no task is both waiting and held: an in-progress task is in its
    worker's held list (or, taken, in none), a waiting one in no worker's
    (a pinned scatter copy only in its worker's pinned list); each queue's
    waiting, in-progress and pinned
    counts are what its tasks say; the final STATS has no negative number.
    Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qcore.h"
#include "zg_qttl.h"

//  Connections and worker ids on each, producers
#define FUZZ_CONNECTIONS 2
#define FUZZ_WORKER_IDS 3
#define FUZZ_PRODUCERS 3
//  Task ids followed at most (far above max-tasks: forgotten ones leave)
#define FUZZ_MAX_IDS 256

//  Names the ops use; each may be a queue and a command, and have dead letters
static const char *s_names [] = { "jobs", "cmd", "jobs.dead", "other" };
static const char *s_queue_names [] = { "jobs", "cmd", "jobs.dead", "other", "cmd.dead", "other.dead" };

typedef struct {
    zg_qsettings_t settings;        //  Small limits
    zg_qttl_t *ttls;                //  Queues' default ttls (task-ttls)
    zg_qcore_t *core;
    int64_t now;                    //  The core's clocks
    int64_t wall;
    bool readied [FUZZ_CONNECTIONS][FUZZ_WORKER_IDS];   //  Made ready at least once
    zhashx_t *waiting;              //  "p<producer> <req>" of submits wanting an answer
    uint64_t ids [FUZZ_MAX_IDS];    //  Tasks that may still exist
    size_t id_count;
    uint64_t reqs;                  //  Last req issued
} fuzz_t;

//  One byte of the input, or 0 once it has ended
static uint8_t
s_byte (const uint8_t **data, const uint8_t *end)
{
    return *data < end? *(*data)++: 0;
}

//  The worker of this connection and worker id, or NULL
static zg_qworker_t *
s_worker (fuzz_t *self, int connection, int worker_id)
{
    char identity [] = { 'c', (char) ('0' + connection) };
    char name [] = { 'w', (char) ('0' + worker_id) };
    return zg_qcore_worker (self->core, (const byte *) identity, 2, (const byte *) name, 2);
}

//  Follow the ids a submit issued: the task's, and its scatter copies'
static void
s_follow (fuzz_t *self, uint64_t id)
{
    for (uint64_t next = id; next <= id + (uint64_t) self->settings.max_workers; next++)
        if (zg_qcore_task (self->core, next) && self->id_count < FUZZ_MAX_IDS)
            self->ids [self->id_count++] = next;
}

//  A producer's routing id and a new req, registered as wanting an answer
static void
s_producer_req (fuzz_t *self, int producer, char *routing, char *req, bool waits)
{
    sprintf (routing, "p%d", producer % FUZZ_PRODUCERS);
    sprintf (req, "%" PRIu64, ++self->reqs);
    char key [64];
    snprintf (key, sizeof key, "%s %s", routing, req);
    if (waits)
        zhashx_insert (self->waiting, key, (void *) 1);
}

//  SEND or CALL, checked as s_producer_submit checks it
static void
s_submit (fuzz_t *self, uint8_t argument, const uint8_t *options_data, size_t options_size)
{
    const char *name = s_names [argument & 3];
    bool call = argument & 4;
    int producer = (argument >> 3 & 3) % FUZZ_PRODUCERS;
    size_t payload_size = (size_t) (argument >> 5) * 16;
    zg_qoptions_t options;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qoptions_parse (&options, &self->settings, options_data, options_size, false, &code, reason);
    if (rc == 0 && !(options.scatter && !call) && (int64_t) payload_size <= self->settings.max_task_size) {
        //  A task that brings no ttl takes its queue's (task-ttls, task-ttl)
        if (options.ttl < 0)
            options.ttl = zg_qttl_lookup (self->ttls, name, self->settings.task_ttl);
        char routing [8], req [24];
        s_producer_req (self, producer, routing, req, options.reply || options.scatter);
        //  Frames that own their bytes, as received ones do: the core keeps copies
        zmq_msg_t frames [3];
        zmq_msg_init_size (&frames [0], payload_size);
        memset (zmq_msg_data (&frames [0]), 'x', payload_size);
        zmq_msg_init_size (&frames [1], strlen (routing));
        memcpy (zmq_msg_data (&frames [1]), routing, strlen (routing));
        zmq_msg_init_size (&frames [2], strlen (req));
        memcpy (zmq_msg_data (&frames [2]), req, strlen (req));
        zg_qcore_submit_t submit = { name, call, &options, &frames [0], &frames [1], &frames [2], NULL };
        char id [ZG_TASKS_ID_SIZE + 1];
        if (zg_qcore_submit (self->core, &submit, id, &code, reason) == 0)
            s_follow (self, strtoull (id, NULL, 10));
        else
            assert (code >= 400 && code < 600 && *reason);
        for (int index = 0; index < 3; index++)
            zmq_msg_close (&frames [index]);
    }
    zg_qoptions_clear (&options);
}

//  READY, as s_worker_ready makes it
static void
s_ready (fuzz_t *self, uint8_t argument, const uint8_t *options_data, size_t options_size)
{
    int connection = argument & 1, worker_id = (argument >> 1 & 3) % FUZZ_WORKER_IDS;
    zg_qworker_t *worker = s_worker (self, connection, worker_id);
    if (worker)
        zg_qcore_touch (self->core, worker);
    zg_qoptions_t options;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    if (zg_qoptions_parse (&options, &self->settings, options_data, options_size, true, &code, reason) == 0) {
        char identity [] = { 'c', (char) ('0' + connection) };
        char name [] = { 'w', (char) ('0' + worker_id) };
        if (zg_qcore_ready (self->core, worker, (const byte *) identity, 2, (const byte *) name, 2, &options, &code,
                            reason))
            self->readied [connection][worker_id] = true;
        else
            assert (code >= 400 && code < 600 && *reason);
    }
    zg_qoptions_clear (&options);
}

//  ACK, FAIL or NACK of a held task (or of one not held, which the actor
//  refuses with 409), as s_worker_answer makes them
static void
s_answer (fuzz_t *self, int op, uint8_t argument)
{
    zg_qworker_t *worker = s_worker (self, argument & 1, (argument >> 1 & 3) % FUZZ_WORKER_IDS);
    if (!worker)
        return;
    zg_qcore_touch (self->core, worker);
    size_t which = (size_t) (argument >> 3);
    zg_task_t *named = worker->held.head;
    for (size_t index = 0; named && index < which % (worker->held.size + 1); index++)
        named = named->next;
    uint64_t id = named? named->id: self->id_count? self->ids [which % self->id_count]: 1;
    zg_task_t *task = zg_qcore_held (self->core, worker, id);
    assert (!named || task == named);
    if (!task)
        return;
    if (op == 2) {
        zmq_msg_t reply;
        zmq_msg_init_size (&reply, which);
        memset (zmq_msg_data (&reply), 'r', which);
        zg_qcore_ack (self->core, task, which % 2? &reply: NULL);
        zmq_msg_close (&reply);
    }
    else
    if (op == 3)
        zg_qcore_fail (self->core, task, "fuzz");
    else
        zg_qcore_nack (self->core, task, false);
}

//  TAKE, as zg_qtake makes it once it has read the options: the first
//  waiting task of some queues (or of all), answered OK to the producer
static void
s_take (fuzz_t *self, uint8_t argument)
{
    size_t count = argument & 3, first = (size_t) (argument >> 2 & 7);
    zg_qname_t names [3];
    for (size_t index = 0; index < count; index++) {
        names [index].command = false;
        snprintf (names [index].text, sizeof names [index].text, "%s",
                  s_queue_names [(first + index) % (sizeof s_queue_names / sizeof s_queue_names [0])]);
    }
    char routing [8], req [24];
    s_producer_req (self, argument >> 5 & 3, routing, req, true);
    zg_task_t *task = zg_qcore_take (self->core, names, count, argument & 0x80? 100: 0);
    zg_qoutbox_taken (zg_qcore_outbox (self->core), zg_wire_str (routing), zg_wire_str (req), task);
}

//  FINISH or RETRY of a taken task, as zg_qtake makes them once it found
//  the task taken
static void
s_finish_taken (fuzz_t *self, uint8_t argument)
{
    size_t which = argument & 0x3F, seen = 0;
    for (size_t index = 0; index < self->id_count; index++) {
        zg_task_t *task = zg_qcore_task (self->core, self->ids [index]);
        if (!task || task->state != ZG_TASK_IN_PROGRESS || task->worker || task->group || task->scatter)
            continue;
        if (seen++ < which)
            continue;
        if (argument & 0x80)
            zg_qcore_nack (self->core, task, true);
        else {
            zmq_msg_t output;
            zmq_msg_init_size (&output, 3);
            memcpy (zmq_msg_data (&output), "out", 3);
            zg_qcore_ack (self->core, task, argument & 0x40? &output: NULL);
            zmq_msg_close (&output);
        }
        return;
    }
}

//  What the core would send
static void
s_check_outbox (fuzz_t *self)
{
    zg_qoutbox_t *outbox = zg_qcore_outbox (self->core);
    for (size_t index = 0; index < zg_qoutbox_size (outbox); index++) {
        zg_qoutbox_msg_t *msg = zg_qoutbox_get (outbox, index);
        const char *routing = (const char *) zmq_msg_data (&msg->frames [0]);
        size_t routing_size = zmq_msg_size (&msg->frames [0]);
        char verb [16];
        snprintf (verb, sizeof verb, "%.*s", (int) zmq_msg_size (&msg->frames [1]),
                  (const char *) zmq_msg_data (&msg->frames [1]));
        if (msg->to == ZG_QOUTBOX_WORKER) {
            assert (streq (verb, "DELIVER") && msg->count == 6 && routing_size == 2 && routing [0] == 'c');
            const char *name = (const char *) zmq_msg_data (&msg->frames [2]);
            assert (zmq_msg_size (&msg->frames [2]) == 2 && name [0] == 'w');
            assert (self->readied [routing [1] - '0'][name [1] - '0']);
            const byte *meta = (const byte *) zmq_msg_data (&msg->frames [4]);
            assert (zmq_msg_size (&msg->frames [4]) && ((meta [0] & 0xF0) == 0x80 || meta [0] == 0xDE));
        }
        else {
            assert (streq (verb, "REPLY") || streq (verb, "END") || streq (verb, "ERROR") || streq (verb, "OK"));
            assert ((msg->count == 5 || streq (verb, "OK")) && routing_size == 2 && routing [0] == 'p');
            char key [64];
            snprintf (key, sizeof key, "%.2s %.*s", routing, (int) zmq_msg_size (&msg->frames [2]),
                      (const char *) zmq_msg_data (&msg->frames [2]));
            assert (zhashx_lookup (self->waiting, key));
            if (streq (verb, "ERROR"))
                assert (zmq_msg_size (&msg->frames [3]) == 3);
        }
    }
    zg_qoutbox_clear (outbox);
}

//  Counts a queue's tasks say it has
typedef struct {
    zg_taskq_t *queue;
    size_t waiting, in_progress, pinned;
} s_counts_t;

static s_counts_t *
s_counts_of (s_counts_t *counts, size_t *count, zg_taskq_t *queue)
{
    for (size_t index = 0; index < *count; index++)
        if (counts [index].queue == queue)
            return &counts [index];
    assert (*count < FUZZ_MAX_IDS);
    counts [*count] = (s_counts_t) { queue, 0, 0, 0 };
    return &counts [(*count)++];
}

//  No number in a STATS object is negative
static void
s_check_stats (json_object *value)
{
    if (json_object_is_type (value, json_type_int))
        assert (json_object_get_int64 (value) >= 0);
    else
    if (json_object_is_type (value, json_type_object)) {
        json_object_object_foreach (value, key, item) {
            (void) key;
            s_check_stats (item);
        }
    }
    else
    if (json_object_is_type (value, json_type_array))
        for (size_t index = 0; index < json_object_array_length (value); index++)
            s_check_stats (json_object_array_get_idx (value, index));
}

//  Every task in exactly the place its state says; queue counts match
static void
s_check_state (fuzz_t *self)
{
    s_counts_t counts [FUZZ_MAX_IDS];
    size_t count = 0, kept = 0;
    for (size_t index = 0; index < self->id_count; index++) {
        zg_task_t *task = zg_qcore_task (self->core, self->ids [index]);
        if (!task)
            continue;           //  Forgotten: ids are never issued again
        self->ids [kept++] = self->ids [index];
        s_counts_t *counted = s_counts_of (counts, &count, task->queue);
        if (task->scatter)
            assert (!task->worker && (task->state == ZG_TASK_IN_PROGRESS || task->state == ZG_TASK_DONE));
        else
        if (task->state == ZG_TASK_IN_PROGRESS) {
            //  Delivered to its worker, or taken by a producer (TAKE)
            if (task->worker)
                assert (zg_qcore_held (self->core, task->worker, task->id) == task);
            else
                assert (!task->group);
            counted->in_progress++;
        }
        else
        if (task->state == ZG_TASK_WAITING && task->worker) {
            assert (task->group && !zg_qcore_held (self->core, task->worker, task->id));
            counted->pinned++;
        }
        else
        if (task->state == ZG_TASK_WAITING || (task->state == ZG_TASK_DEAD && !task->finished)) {
            assert (!task->worker && !task->group);
            counted->waiting++;
        }
        else
            assert (!task->worker && task->finished);
    }
    self->id_count = kept;
    for (int connection = 0; connection < FUZZ_CONNECTIONS; connection++)
        for (int worker_id = 0; worker_id < FUZZ_WORKER_IDS; worker_id++) {
            zg_qworker_t *worker = s_worker (self, connection, worker_id);
            if (!worker)
                continue;
            assert (self->readied [connection][worker_id]);
            for (zg_task_t *task = worker->held.head; task; task = task->next)
                assert (task->worker == worker && task->state == ZG_TASK_IN_PROGRESS);
            for (zg_task_t *task = worker->pinned.head; task; task = task->next)
                assert (task->worker == worker && task->state == ZG_TASK_WAITING && task->group);
        }
    for (size_t index = 0; index < sizeof s_queue_names / sizeof s_queue_names [0]; index++)
        for (int command = 0; command < 2; command++) {
            zg_taskq_t *queue = zg_qcore_queue (self->core, s_queue_names [index], command);
            if (!queue)
                continue;
            s_counts_t *counted = s_counts_of (counts, &count, queue);
            assert (queue->waiting == counted->waiting && queue->in_progress == counted->in_progress
                 && queue->pinned == counted->pinned);
        }
}

static void
s_fuzz_new (fuzz_t *self)
{
    memset (self, 0, sizeof *self);
    self->settings = zg_qsettings_defaults ();
    zg_qsettings_t *settings = &self->settings;
    settings->max_task_size = 64;
    settings->max_pending = 3;
    settings->max_queue_bytes = 256;
    settings->max_tasks = 24;
    settings->max_queues = 8;
    settings->max_workers = 4;
    settings->max_subscriptions = 3;
    settings->max_prefetch = 3;
    settings->max_priority = 3;
    settings->max_deliveries = 2;
    settings->worker_timeout = 3000;
    settings->ack_timeout = 300;
    settings->max_ack_timeout = 1000;
    settings->reply_timeout = 2000;
    settings->max_reply_timeout = 5000;
    settings->result_ttl = 4000;
    settings->max_results = 6;
    settings->recent_size = 3;
    settings->task_ttl = 5000;
    settings->max_task_ttl = 10000;
    self->ttls = zg_qttl_new ();
    char error [256];
    int rc = zg_qttl_set (self->ttls, "jobs* 1500; other 0", settings->max_task_ttl, error, sizeof error);
    assert (rc == 0);
    self->core = zg_qcore_new (settings);
    self->now = 1000;
    self->wall = 1700000000000;
    zg_qcore_set_clock (self->core, self->now, self->wall);
    self->waiting = zhashx_new ();
}

static void
s_fuzz_destroy (fuzz_t *self)
{
    zg_qcore_destroy (&self->core);
    zg_qttl_destroy (&self->ttls);
    zhashx_destroy (&self->waiting);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_t self;
    s_fuzz_new (&self);
    const uint8_t *end = data + size;
    while (data < end) {
        int op = s_byte (&data, end) % 11;
        uint8_t argument = s_byte (&data, end);
        if (op == 0 || op == 1) {
            size_t options_size = s_byte (&data, end);
            if (options_size > (size_t) (end - data))
                options_size = (size_t) (end - data);
            const uint8_t *options = data;
            data += options_size;
            if (op == 0)
                s_submit (&self, argument, options, options_size);
            else
                s_ready (&self, argument, options, options_size);
        }
        else
        if (op <= 4)
            s_answer (&self, op, argument);
        else
        if (op == 5) {
            zg_qworker_t *worker = s_worker (&self, argument & 1, (argument >> 1 & 3) % FUZZ_WORKER_IDS);
            if (worker) {
                zg_qcore_touch (self.core, worker);
                zg_qcore_bye (self.core, &worker);
            }
        }
        else
        if (op == 6) {
            int64_t step = (int64_t) argument * argument;
            zg_qcore_set_clock (self.core, self.now += step, self.wall += step);
        }
        else
        if (op == 7) {
            zg_qworker_t *worker = s_worker (&self, argument & 1, (argument >> 1 & 3) % FUZZ_WORKER_IDS);
            if (worker)
                zg_qcore_touch (self.core, worker);
        }
        else
        if (op == 8)
            s_take (&self, argument);
        else
        if (op == 9)
            s_finish_taken (&self, argument);
        else {
            zg_task_t *task = self.id_count? zg_qcore_task (self.core, self.ids [argument % self.id_count]): NULL;
            if (task)
                zg_qcore_read (self.core, task);
        }
        //  The end of the actor's pass
        zg_qcore_expire (self.core);
        s_check_outbox (&self);
        zg_qcore_collect (self.core);
        s_check_state (&self);
    }
    //  The final STATS, as the queues target asks for it
    json_object *stats = zg_qcore_stats (self.core);
    s_check_stats (stats);
    json_object_put (stats);
    s_fuzz_destroy (&self);
    return 0;
}
