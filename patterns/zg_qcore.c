/*  =========================================================================
    zg_qcore - the queues' dispatch core

    A worker leaves every line when its credit is used up; an answer gives
    the credit back and puts it in line again. So a queue never has both
    waiting tasks and workers in line. Timers are ordered: ack and reply
    deadlines are heaps in the task store, workers sit in a liveness list
    (the timeout is the same for all), finished tasks in a list ordered by
    finish time (so is the time they are kept). Payloads are zmq_msg_t moved
    into the task and shared on each delivery, never copied. Queues live in
    a zg_qtable: every task and recent entry holds its queue, and a queue
    nothing names is freed between requests. With a journal (zg_qdurable),
    each transition writes its change there, one line at the seam.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qcore.h"
#include "zg_qtable.h"
#include "zg_qrecent.h"
#include "zg_qdurable.h"
#include "zg_qbytes.h"
#include "zg_qexpiry.h"
#include "zg_qseats.h"

struct _zg_qcore_t {
    const zg_qsettings_t *settings; //  The actor's settings, read live
    zg_tasks_t *tasks;              //  Every task, by id
    zg_qtable_t *table;             //  Queues and commands by name
    zg_qworkers_t *registry;        //  Logical workers, by connection and id
    zg_qseats_t *seats;             //  Where they sit: READY, leaving
    zg_task_list_t finished;        //  Finished tasks kept for GET, oldest first
    zg_qrecent_t *recent;           //  Recently finished tasks
    zg_qoutbox_t *outbox;           //  Messages to send
    zg_budget_t *budget;            //  The memory budget tasks' bytes are charged to
    zg_qdurable_t *durable;         //  Journal of the changes, or NULL (in memory)
    zg_qcore_handoff_fn *handoff;   //  Cluster mode: where claimed tasks' outcomes go
    void *handoff_arg;
    int64_t now;                    //  Monotonic ms
    int64_t wall;                   //  Wall clock ms
    uint64_t errors;                //  ERROR messages written
};

static void s_deliver (zg_qcore_t *self, zg_qworker_t *worker, zg_task_t *task);
static void s_finish (zg_qcore_t *self, zg_task_t *task, int state, const char *reason, zmq_msg_t *result);

//  --------------------------------------------------------------------------
//  Create a core

zg_qcore_t *
zg_qcore_new (const zg_qsettings_t *settings)
{
    assert (settings);
    zg_qcore_t *self = (zg_qcore_t *) zmalloc (sizeof (zg_qcore_t));
    assert (self);
    self->settings = settings;
    self->tasks = zg_tasks_new ();
    self->table = zg_qtable_new ();
    self->registry = zg_qworkers_new ();
    self->seats = zg_qseats_new (self->table, self->registry, settings);
    self->outbox = zg_qoutbox_new ();
    self->recent = zg_qrecent_new ((size_t) settings->recent_size, self->table);
    self->budget = zg_budget_process ();
    zg_qcore_set_clock (self, zclock_mono (), zclock_time ());
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the core

void
zg_qcore_destroy (zg_qcore_t **self_p)
{
    assert (self_p);
    zg_qcore_t *self = *self_p;
    if (!self)
        return;
    zg_qseats_destroy (&self->seats);
    zg_qworkers_destroy (&self->registry);
    //  What the tasks still hold goes back to the process's budget
    int64_t bytes = zg_qtable_bytes (self->table);
    zg_budget_release (self->budget, &bytes, (size_t) bytes);
    zg_qtable_destroy (&self->table);
    zg_tasks_destroy (&self->tasks);
    zg_qoutbox_destroy (&self->outbox);
    zg_qrecent_destroy (&self->recent);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The settings changed: a new recent-size empties the recent list

void
zg_qcore_settings_changed (zg_qcore_t *self)
{
    assert (self);
    zg_qrecent_resize (self->recent, (size_t) self->settings->recent_size);
}

//  --------------------------------------------------------------------------
//  Set the clocks

void
zg_qcore_set_clock (zg_qcore_t *self, int64_t now, int64_t wall)
{
    assert (self);
    self->now = now;
    self->wall = wall;
}

//  --------------------------------------------------------------------------
//  The messages to send

zg_qoutbox_t *
zg_qcore_outbox (zg_qcore_t *self)
{
    assert (self);
    return self->outbox;
}

//  --------------------------------------------------------------------------
//  A new queue, charged to the holder of the request that makes it; 0, or
//  a code and a reason past max-queues or the holder's bound

static int
s_new_queue (zg_qcore_t *self, const char *name, const zg_holder_t *holder, zg_taskq_t **queue_p, char *reason)
{
    char *key = zg_holder_key (holder);
    int code = zg_qtable_admit (self->table, 1, key, self->settings, reason);
    if (code == 0)
        *queue_p = zg_qtable_ensure (self->table, name, false, self->settings->max_priority,
                                     self->settings->max_queues, key);
    free (key);
    return code;
}

//  --------------------------------------------------------------------------
//  Point a task at a queue (holding a reference), releasing its old queue

static void
s_assign_queue (zg_qcore_t *self, zg_task_t *task, zg_taskq_t *queue)
{
    zg_qbytes_assign (self->budget, task, queue);
    if (task->queue)
        zg_qtable_release (self->table, task->queue);
    task->queue = queue;
    zg_qtable_hold (self->table, queue);
}

//  --------------------------------------------------------------------------
//  Transition: a new task in a queue, waiting nowhere yet

static zg_task_t *
s_create (zg_qcore_t *self, zg_taskq_t *queue, const zg_qcore_submit_t *submit, bool wants_reply)
{
    zg_task_t *task = zg_tasks_create (self->tasks);
    s_assign_queue (self, task, queue);
    task->created = self->wall;
    task->priority = (uint8_t) submit->options->priority;
    task->ack_timeout = submit->options->ack_timeout;
    if (wants_reply) {
        task->wants_reply = true;
        zmq_msg_copy (&task->producer, submit->producer);
        zmq_msg_copy (&task->req, submit->req);
        if (submit->options->timeout)       //  0: it waits as long as the task takes
            zg_tasks_set_timer (self->tasks, task, ZG_TASKS_REPLY_TIMER, self->now + submit->options->timeout);
    }
    task->until_read = submit->options->until_read;
    if (submit->owner)
        task->owner = strdup (submit->owner);
    return task;
}

//  --------------------------------------------------------------------------
//  Transition: a finished task is forgotten; its queue loses a reference

static void
s_forget (zg_qcore_t *self, zg_task_t *task)
{
    zg_qdurable_forget (self->durable, task);
    zg_qbytes_release (self->budget, task);
    zg_qtable_release (self->table, task->queue);
    zg_tasks_remove (self->tasks, task);
}

//  --------------------------------------------------------------------------
//  Put a worker in or out of its queues' lines to match its credit; credit
//  goes first to the scatter copies pinned to it, then to its queues' tasks
//  in the order they came (a queue with waiting tasks has nobody in line)

static void
s_credit (zg_qcore_t *self, zg_qworker_t *worker)
{
    while (worker->pinned.head && zg_qworkers_has_credit (worker)) {
        zg_task_t *copy = worker->pinned.head;
        zg_task_list_remove (&worker->pinned, copy);
        copy->queue->pinned--;
        s_deliver (self, worker, copy);
    }
    zg_taskq_t *queue;
    while (zg_qworkers_has_credit (worker) && (queue = zg_qworkers_next_queue (worker)))
        s_deliver (self, worker, zg_taskq_pop (queue));
    zg_qworkers_set_in_lines (worker, zg_qworkers_has_credit (worker));
}

//  --------------------------------------------------------------------------
//  Transition: deliver a task to a worker that has credit, or (no worker)
//  to a TAKE, which the caller answers

static void
s_deliver (zg_qcore_t *self, zg_qworker_t *worker, zg_task_t *task)
{
    zg_taskq_t *queue = task->queue;
    task->state = ZG_TASK_IN_PROGRESS;
    task->worker = worker;
    task->attempt++;
    task->started = self->wall;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_TTL_TIMER);
    zg_qdurable_deliver (self->durable, task);
    queue->in_progress++;
    zg_tasks_set_timer (self->tasks, task, ZG_TASKS_ACK_TIMER, self->now + task->ack_timeout);
    if (!worker)
        return;
    zg_task_list_add (&worker->held, task, false);
    zg_qoutbox_deliver (self->outbox, task);
    if (!zg_qworkers_has_credit (worker) && worker->in_lines)
        zg_qworkers_set_in_lines (worker, false);
}

//  --------------------------------------------------------------------------
//  Hand a queue's waiting tasks to the workers in its line, round-robin

static void
s_dispatch (zg_qcore_t *self, zg_taskq_t *queue)
{
    zg_seat_t *seat;
    zg_task_t *task;
    while ((task = zg_taskq_take (queue, &seat)))
        s_deliver (self, seat->worker, task);
}

//  --------------------------------------------------------------------------
//  The producer stops waiting for a task's outcome; false if it was not

static bool
s_unwait (zg_qcore_t *self, zg_task_t *task)
{
    if (!task->wants_reply)
        return false;
    task->wants_reply = false;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_REPLY_TIMER);
    return true;
}

//  --------------------------------------------------------------------------
//  Tell a waiting producer its task ended in error

static void
s_send_error (zg_qcore_t *self, zg_task_t *task, int code, const char *what)
{
    if (s_unwait (self, task)) {
        zg_qoutbox_error (self->outbox, task, code, what);
        self->errors++;
    }
}

//  --------------------------------------------------------------------------
//  Transition: keep a finished task for GET and the recent list, within
//  max-results (the oldest are forgotten)

static void
s_keep (zg_qcore_t *self, zg_task_t *task)
{
    zg_qrecent_remember (self->recent, task);
    task->expires = self->now + self->settings->result_ttl;
    zg_qdurable_finish (self->durable, task, self->wall + self->settings->result_ttl);
    zg_task_list_add (&self->finished, task, false);
    while ((int64_t) self->finished.size > self->settings->max_results) {
        zg_task_t *oldest = self->finished.head;
        zg_task_list_remove (&self->finished, oldest);
        s_forget (self, oldest);
    }
}

//  --------------------------------------------------------------------------
//  A scatter copy finished: forward its reply, and end the group when it
//  was the last copy

static void
s_finish_copy (zg_qcore_t *self, zg_task_t *copy)
{
    zg_task_t *group = copy->group;
    copy->group = NULL;
    if (copy->state == ZG_TASK_DONE && group->wants_reply && !copy->quiet) {
        zg_qoutbox_reply (self->outbox, group, &copy->result);
        group->replies++;
    }
    assert (group->copies > 0);
    if (--group->copies == 0)
        s_finish (self, group, ZG_TASK_DONE, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  Transition: a task reached a final state (done, failed, dead): record
//  it, tell its producer, keep it for GET; a claimed one (cluster mode)
//  goes to the handoff, also when taken back (state waiting). The caller
//  has taken it out of its waiting line or worker.

static void
s_finish (zg_qcore_t *self, zg_task_t *task, int state, const char *reason, zmq_msg_t *result)
{
    if (task->remote) {                 //  Claimed: the cluster takes it back
        zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_ACK_TIMER);
        self->handoff (self->handoff_arg, task, state, reason, result);
        s_forget (self, task);
        return;
    }
    zg_taskq_t *queue = task->queue;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_ACK_TIMER);
    task->state = (uint8_t) state;
    task->finished = self->wall;
    task->worker = NULL;
    if (!self->settings->keep_input)    //  Else GET shows it beside the result
        zg_task_drop_input (task);
    zmq_msg_close (&task->result);
    zmq_msg_init (&task->result);
    if (result)
        zmq_msg_move (&task->result, result);
    else
    if (reason) {
        zmq_msg_init_size (&task->result, strlen (reason));
        memcpy (zmq_msg_data (&task->result), reason, strlen (reason));
    }
    zg_qbytes_recharge (self->budget, task);
    if (task->scatter) {
        //  A group's outcome is its copies' replies, then END
        if (s_unwait (self, task))
            zg_qoutbox_end (self->outbox, task);
        s_keep (self, task);
        return;
    }
    if (state == ZG_TASK_DONE)
        queue->done++;
    else
    if (state == ZG_TASK_FAILED)
        queue->failed++;
    if (task->group)
        s_finish_copy (self, task);
    else
    if (state == ZG_TASK_DONE) {
        if (s_unwait (self, task) && !task->quiet)
            zg_qoutbox_reply (self->outbox, task, &task->result);
    }
    else {
        char what [ZG_WIRE_REASON_SIZE];
        if (state == ZG_TASK_FAILED)
            zg_wire_reason (what, "failed: %s", reason? reason: "");
        else
            zg_wire_reason (what, "is dead after %u deliveries", task->attempt);
        s_send_error (self, task, state == ZG_TASK_FAILED? ZG_ERR_FAILED: ZG_ERR_GONE, what);
    }
    s_keep (self, task);
}

//  --------------------------------------------------------------------------
//  Transition: take a task back from the worker holding it (the caller then
//  finishes or requeues it, and gives the worker its credit with s_credit)

static void
s_take_back (zg_qcore_t *self, zg_task_t *task)
{
    if (task->worker)                   //  Else taken by TAKE
        zg_task_list_remove (&task->worker->held, task);
    task->queue->in_progress--;
    zg_tasks_clear_timer (self->tasks, task, ZG_TASKS_ACK_TIMER);
    task->worker = NULL;
}

//  --------------------------------------------------------------------------
//  Transition: a task's deliveries are used up: to the dead-letter queue,
//  or dead for good if it already is in one (or that one is full)

static void
s_kill (zg_qcore_t *self, zg_task_t *task)
{
    zg_taskq_t *queue = task->queue;
    queue->dead++;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qexpiry_reason (task, reason);
    s_send_error (self, task, ZG_ERR_GONE, reason);
    zg_taskq_t *dead_letters = zg_qtable_dead_letters (self->table, queue, self->settings->max_name_size,
                                                       self->settings->max_priority, self->settings->max_queues);
    if (self->settings->verbose)
        zsys_info ("zg_queues: task %" PRIu64 " of '%s' %s%s", task->id, queue->name, reason,
                   dead_letters? ", to the dead letters": "");
    if (dead_letters && (int64_t) dead_letters->waiting < self->settings->max_pending) {
        s_assign_queue (self, task, dead_letters);
        zg_taskq_push (dead_letters, task, false);
        task->state = ZG_TASK_DEAD;
        zg_qexpiry_start (self->tasks, task, task->ttl, self->now, self->wall);
        zg_qdurable_dead_letter (self->durable, task);
        dead_letters->sent++;
        s_dispatch (self, dead_letters);
    }
    else
        s_finish (self, task, ZG_TASK_DEAD, reason + strlen ("is "), NULL);
}

//  --------------------------------------------------------------------------
//  Transition: a task taken back from its worker goes to the head of its
//  queue (the tail for RETRY), or to the dead letters past max-deliveries;
//  a scatter copy, pinned to its worker, fails instead. The caller
//  dispatches the queue.

static void
s_requeue (zg_qcore_t *self, zg_task_t *task, bool at_tail)
{
    zg_taskq_t *queue = task->queue;
    if (task->remote)                   //  The cluster requeues it, or kills it
        s_finish (self, task, ZG_TASK_WAITING, NULL, NULL);
    else
    if (task->group)
        s_finish (self, task, ZG_TASK_FAILED, "its worker did not answer", NULL);
    else
    if ((int64_t) task->attempt >= self->settings->max_deliveries || queue->dead_letter)
        s_kill (self, task);
    else {
        queue->redelivered++;
        zg_qdurable_requeue (self->durable, task);
        zg_taskq_push (queue, task, !at_tail);
        zg_qexpiry_resume (self->tasks, task, self->now, self->wall);
    }
}

//  --------------------------------------------------------------------------
//  A held task was answered or timed out: its queue is served first (a task
//  put back goes to the next worker in line), then the worker gets credit

static void
s_answered (zg_qcore_t *self, zg_qworker_t *worker, zg_taskq_t *queue)
{
    s_dispatch (self, queue);
    if (worker)                         //  Else taken by TAKE
        s_credit (self, worker);
}

//  --------------------------------------------------------------------------
//  A worker is gone (BYE, or silent too long): its tasks go back to the head
//  of their queues in the order they were delivered, its scatter copies fail

static void
s_worker_destroy (zg_qcore_t *self, zg_qworker_t **worker_p, const char *why)
{
    zg_qworker_t *worker = *worker_p;
    if (self->settings->verbose)
        zsys_info ("zg_queues: worker '%.*s' %s, %zu tasks back to their queues",
                   (int) worker->name_size, worker->name, why, worker->held.size);
    zg_qseats_leave (self->seats, worker);
    size_t count = worker->held.size;
    zg_taskq_t **queues = (zg_taskq_t **) zmalloc (count * sizeof (zg_taskq_t *) + 1);
    for (size_t index = 0; index < count; index++) {
        zg_task_t *task = worker->held.tail;
        queues [index] = task->queue;
        s_take_back (self, task);
        s_requeue (self, task, false);
    }
    while (worker->pinned.head) {
        zg_task_t *copy = worker->pinned.head;
        zg_task_list_remove (&worker->pinned, copy);
        copy->queue->pinned--;
        s_finish (self, copy, ZG_TASK_FAILED, "its worker left", NULL);
    }
    zg_qworkers_remove (self->registry, worker_p);
    for (size_t index = 0; index < count; index++)
        s_dispatch (self, queues [index]);
    free (queues);
}

//  --------------------------------------------------------------------------
//  Transition: scatter: one copy of the task for every worker of the
//  command, each pinned to its worker, under a group task that collects
//  the replies

static zg_task_t *
s_scatter (zg_qcore_t *self, zg_taskq_t *queue, const zg_qcore_submit_t *submit)
{
    zg_task_t *group = s_create (self, queue, submit, true);
    zg_qdurable_create (self->durable, group);
    group->scatter = true;
    group->state = ZG_TASK_IN_PROGRESS;
    //  Count first: delivering a copy may finish it at once and end the group;
    //  the extra count keeps the group open while copies are made
    group->copies = (uint32_t) queue->workers + 1;
    for (zg_qworker_t *worker = zg_qworkers_oldest (self->registry); worker; worker = zg_qworkers_newer (worker))
        for (size_t index = 0; index < worker->seat_count; index++)
            if (worker->seats [index].queue == queue) {
                zg_task_t *copy = s_create (self, queue, submit, false);
                zg_qdurable_create (self->durable, copy);
                zmq_msg_copy (&copy->payload, submit->payload);
                copy->group = group;
                queue->sent++;
                if (zg_qworkers_has_credit (worker))
                    s_deliver (self, worker, copy);
                else {
                    copy->worker = worker;
                    zg_task_list_add (&worker->pinned, copy, false);
                    queue->pinned++;
                }
            }
    return group;
}

//  --------------------------------------------------------------------------
//  Accept a task

int
zg_qcore_submit (zg_qcore_t *self, const zg_qcore_submit_t *submit, char *id, int *code, char *reason)
{
    assert (self);
    assert (submit && submit->options && submit->payload && id && code && reason);
    const zg_qsettings_t *settings = self->settings;
    const zg_qoptions_t *options = submit->options;
    //  Check every limit before a new queue is created: a refused request
    //  changes nothing
    zg_taskq_t *queue = zg_qtable_lookup (self->table, submit->name, submit->command);
    if (self->durable && submit->owner && strlen (submit->owner) > ZG_QRECORD_OWNER_MAX) {
        *code = ZG_ERR_STORAGE;
        zg_wire_reason (reason, "not stored: the producer's identity is over %d bytes", ZG_QRECORD_OWNER_MAX);
        return -1;
    }
    if (submit->command && (!queue || queue->workers == 0)) {
        *code = ZG_ERR_NOT_FOUND;
        zg_wire_reason (reason, "command '%s' not found", submit->name);
        return -1;
    }
    size_t needed = options->scatter? queue->workers + 1: 1;
    if ((int64_t) (zg_tasks_size (self->tasks) + needed) > settings->max_tasks) {
        *code = ZG_ERR_UNAVAILABLE;
        zg_wire_reason (reason, "too many tasks (max-tasks %" PRId64 ")", settings->max_tasks);
        return -1;
    }
    size_t waiting = !queue? 0: options->scatter? queue->pinned: queue->waiting;
    if ((int64_t) waiting >= settings->max_pending) {
        *code = ZG_ERR_TOO_MANY;
        zg_wire_reason (reason, "queue full (max-pending %" PRId64 ")", settings->max_pending);
        return -1;
    }
    if ((*code = zg_qbytes_admit (self->budget, queue, settings->max_queue_bytes, zmq_msg_size (submit->payload),
                                  reason)))
        return -1;
    if (!queue && (*code = s_new_queue (self, submit->name, options->holder, &queue, reason)))
        return -1;
    zg_task_t *task;
    if (options->scatter)
        task = s_scatter (self, queue, submit);
    else {
        task = s_create (self, queue, submit, options->reply);
        zg_qexpiry_start (self->tasks, task, options->ttl, self->now, self->wall);
        zmq_msg_move (&task->payload, submit->payload);
        if (zg_qdurable_create (self->durable, task)) {
            *code = ZG_ERR_STORAGE;
            zg_wire_reason (reason, "not stored: %s", zg_qdurable_error (self->durable));
            s_forget (self, task);
            return -1;
        }
        queue->sent++;
        zg_taskq_push (queue, task, false);
    }
    //  The id before dispatch: a group with no copies ends (and may be
    //  forgotten, past max-results) at once
    memcpy (id, task->id_text, (size_t) task->id_size + 1);
    zg_qbytes_recharge (self->budget, task);
    if (options->scatter) {
        if (--task->copies == 0)
            s_finish (self, task, ZG_TASK_DONE, NULL, NULL);
    }
    else
        s_dispatch (self, queue);
    return 0;
}

//  --------------------------------------------------------------------------
//  Journal every change from now on

void
zg_qcore_journal (zg_qcore_t *self, zg_qdurable_t *durable)
{
    assert (self && durable);
    self->durable = durable;
    zg_tasks_skip_ids (self->tasks, zg_qdurable_last_id (durable));
}

//  --------------------------------------------------------------------------
//  Restore a stored task; its queue is made even past max-queues

zg_task_t *
zg_qcore_adopt (zg_qcore_t *self, const zg_qrecord_t *record)
{
    assert (self && record);
    char name [256];
    snprintf (name, sizeof name, "%.*s", (int) record->queue_size, record->queue);
    zg_task_t *task = zg_tasks_restore (self->tasks, record->id);
    s_assign_queue (self, task, zg_qtable_ensure (self->table, name, (record->flags & ZG_QRECORD_COMMAND) != 0,
                                                  self->settings->max_priority, INT64_MAX, NULL));
    zg_qdurable_fill (task, record);
    zg_qbytes_recharge (self->budget, task);
    if (record->finished) {
        task->expires = self->now + (record->expires - self->wall);
        zg_task_list_add (&self->finished, task, false);
    }
    else
    if (record->state != ZG_TASK_IN_PROGRESS) {
        zg_taskq_push (task->queue, task, false);
        task->state = record->state;        //  Dead, in a dead-letter queue
        zg_qexpiry_resume (self->tasks, task, self->now, self->wall);
        s_dispatch (self, task->queue);     //  Workers are there for a claimed task only
    }
    return task->state == ZG_TASK_IN_PROGRESS? task: NULL;
}

//  --------------------------------------------------------------------------
//  Cluster mode: where claimed tasks' outcomes go

void
zg_qcore_set_handoff (zg_qcore_t *self, zg_qcore_handoff_fn *handoff, void *arg)
{
    assert (self && handoff);
    self->handoff = handoff;
    self->handoff_arg = arg;
}

//  --------------------------------------------------------------------------
//  Transition: a waiting task is dropped with its queue (zg_qadmin)

void
zg_qcore_drop (zg_qcore_t *self, zg_task_t *task)
{
    assert (self && task && task->queue->waiting > 0 && !task->worker);
    zg_taskq_remove (task->queue, task);
    s_send_error (self, task, ZG_ERR_GONE, "is deleted with its queue");
    s_forget (self, task);
}

//  --------------------------------------------------------------------------
//  A restored task that was in progress is taken back

void
zg_qcore_take_back (zg_qcore_t *self, zg_task_t *task)
{
    assert (self && task && task->state == ZG_TASK_IN_PROGRESS && !task->worker);
    s_requeue (self, task, false);
}

//  --------------------------------------------------------------------------
//  TAKE: the first waiting task of these queues goes to no worker

zg_task_t *
zg_qcore_take (zg_qcore_t *self, const zg_qname_t *names, size_t count, int64_t ack_timeout)
{
    assert (self);
    zg_taskq_t *queue = zg_qtable_first (self->table, names, count);
    zg_task_t *task = queue? zg_taskq_pop (queue): NULL;
    if (task) {
        task->ack_timeout = ack_timeout? ack_timeout: task->ack_timeout;
        s_deliver (self, NULL, task);
    }
    return task;
}

//  --------------------------------------------------------------------------
//  Transition: GET read a finished task kept until read: it is forgotten

void
zg_qcore_read (zg_qcore_t *self, zg_task_t *task)
{
    assert (self && task);
    if (!task->until_read || !task->finished)
        return;
    zg_task_list_remove (&self->finished, task);
    s_forget (self, task);
}

//  --------------------------------------------------------------------------
//  The task with this id, or NULL

zg_task_t *
zg_qcore_task (zg_qcore_t *self, uint64_t id)
{
    assert (self);
    return zg_tasks_lookup (self->tasks, id);
}

//  --------------------------------------------------------------------------
//  The queue (or command) of that name, or NULL

zg_taskq_t *
zg_qcore_queue (zg_qcore_t *self, const char *name, bool command)
{
    assert (self);
    return zg_qtable_lookup (self->table, name, command);
}

//  --------------------------------------------------------------------------
//  The worker of that connection and id, or NULL

zg_qworker_t *
zg_qcore_worker (zg_qcore_t *self, const byte *identity, size_t identity_size,
                 const byte *name, size_t name_size)
{
    assert (self);
    return zg_qworkers_find (self->registry, identity, identity_size, name, name_size);
}

//  --------------------------------------------------------------------------
//  A message from a worker

void
zg_qcore_touch (zg_qcore_t *self, zg_qworker_t *worker)
{
    assert (self);
    zg_qworkers_touch (self->registry, worker, self->now);
}

//  --------------------------------------------------------------------------
//  READY: create or update a worker's seats and prefetch

zg_qworker_t *
zg_qcore_ready (zg_qcore_t *self, zg_qworker_t *worker, const byte *identity, size_t identity_size,
                const byte *name, size_t name_size, const zg_qoptions_t *options, int *code, char *reason)
{
    assert (self);
    worker = zg_qseats_ready (self->seats, worker, identity, identity_size, name, name_size, options, self->now,
                              code, reason);
    if (worker)
        s_credit (self, worker);
    return worker;
}

//  --------------------------------------------------------------------------
//  The task with this id if this worker holds it

zg_task_t *
zg_qcore_held (zg_qcore_t *self, zg_qworker_t *worker, uint64_t id)
{
    assert (self);
    zg_task_t *task = zg_tasks_lookup (self->tasks, id);
    if (task && task->worker == worker && task->state == ZG_TASK_IN_PROGRESS)
        return task;
    return NULL;
}

//  --------------------------------------------------------------------------
//  ACK or FAIL of a held task: it finishes, its worker gets the credit back

static void
s_finish_held (zg_qcore_t *self, zg_task_t *task, int state, const char *reason, zmq_msg_t *reply)
{
    assert (self && task && task->state == ZG_TASK_IN_PROGRESS);
    zg_qworker_t *worker = task->worker;
    zg_taskq_t *queue = task->queue;
    s_take_back (self, task);
    s_finish (self, task, state, reason, reply);
    s_answered (self, worker, queue);
}

void
zg_qcore_ack (zg_qcore_t *self, zg_task_t *task, zmq_msg_t *reply)
{
    s_finish_held (self, task, ZG_TASK_DONE, NULL, reply);
}

void
zg_qcore_fail (zg_qcore_t *self, zg_task_t *task, const char *reason)
{
    assert (reason);
    s_finish_held (self, task, ZG_TASK_FAILED, reason, NULL);
}

//  --------------------------------------------------------------------------
//  NACK of a held task, or RETRY of a taken one

void
zg_qcore_nack (zg_qcore_t *self, zg_task_t *task, bool at_tail)
{
    assert (self);
    assert (task && task->state == ZG_TASK_IN_PROGRESS);
    zg_qworker_t *worker = task->worker;
    zg_taskq_t *queue = task->queue;
    s_take_back (self, task);
    s_requeue (self, task, at_tail);
    s_answered (self, worker, queue);
}

//  --------------------------------------------------------------------------
//  A worker leaves

void
zg_qcore_bye (zg_qcore_t *self, zg_qworker_t **worker_p)
{
    assert (self);
    assert (worker_p && *worker_p);
    s_worker_destroy (self, worker_p, "left");
}

//  --------------------------------------------------------------------------
//  Run the timers due

void
zg_qcore_expire (zg_qcore_t *self)
{
    assert (self);
    zg_task_t *task;
    //  An unanswered delivery counts as a nack
    while ((task = zg_tasks_expired (self->tasks, ZG_TASKS_ACK_TIMER, self->now)))
        zg_qcore_nack (self, task, false);
    while ((task = zg_qexpiry_due (self->tasks, self->now)))
        s_kill (self, task);
    while ((task = zg_tasks_expired (self->tasks, ZG_TASKS_REPLY_TIMER, self->now)))
        if (!task->scatter)
            s_send_error (self, task, ZG_ERR_TIMEOUT, "timed out waiting for its reply");
        else
        if (s_unwait (self, task))
            zg_qoutbox_end (self->outbox, task);
    zg_qworker_t *worker;
    while ((worker = zg_qworkers_expired (self->registry, self->now, self->settings->worker_timeout)))
        s_worker_destroy (self, &worker, "timed out");
    while (self->finished.head && self->finished.head->expires <= self->now) {
        task = self->finished.head;
        zg_task_list_remove (&self->finished, task);
        s_forget (self, task);
    }
}

//  --------------------------------------------------------------------------
//  Monotonic ms of the next timer, or INT64_MAX

int64_t
zg_qcore_next_deadline (zg_qcore_t *self)
{
    assert (self);
    int64_t deadlines [] = {
        zg_tasks_next_deadline (self->tasks, ZG_TASKS_ACK_TIMER),
        zg_tasks_next_deadline (self->tasks, ZG_TASKS_REPLY_TIMER),
        zg_tasks_next_deadline (self->tasks, ZG_TASKS_TTL_TIMER),
        zg_qworkers_next_deadline (self->registry, self->settings->worker_timeout),
        self->finished.head? self->finished.head->expires: INT64_MAX
    };
    int64_t next = INT64_MAX;
    for (size_t index = 0; index < sizeof deadlines / sizeof deadlines [0]; index++)
        if (deadlines [index] < next)
            next = deadlines [index];
    return next;
}

//  --------------------------------------------------------------------------
//  Free the queues nothing names any more

void
zg_qcore_collect (zg_qcore_t *self)
{
    assert (self);
    zg_qtable_collect (self->table);
}

//  --------------------------------------------------------------------------
//  Counters as a json-c object

json_object *
zg_qcore_stats (zg_qcore_t *self)
{
    assert (self);
    json_object *root = json_object_new_object ();
    zg_qtable_stats (self->table, root, self->wall);
    json_object_object_add (root, "workers", json_object_new_uint64 (zg_qworkers_size (self->registry)));
    json_object_object_add (root, "tasks", json_object_new_uint64 (zg_tasks_size (self->tasks)));
    json_object_object_add (root, "recent", zg_qrecent_json (self->recent));
    return root;
}

//  --------------------------------------------------------------------------
//  ERROR messages the core has written

uint64_t
zg_qcore_errors (zg_qcore_t *self)
{
    assert (self);
    return self->errors;
}

//  --------------------------------------------------------------------------
//  Self test: the core alone, with no task (zg_qtest's self test drives
//  its transitions with tasks)

void
zg_qcore_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qcore: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.recent_size = 0;
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_qcore_set_clock (core, 1000, 50000);
    //  A worker READY on a queue makes it; no task, nothing sent; it
    //  leaves, and the idle queue is forgotten
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 3, .names = names, .name_count = 1 };
    int code;
    char reason [ZG_WIRE_REASON_SIZE], sent [64];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker && zg_qcore_worker (core, (const byte *) "c", 1, (const byte *) "w", 1) == worker);
    assert (zg_qcore_queue (core, "jobs", false) && zg_qcore_task (core, 1) == NULL);
    zg_qoutbox_text (zg_qcore_outbox (core), sent, sizeof sent);
    assert (streq (sent, ""));
    zg_qcore_bye (core, &worker);
    assert (worker == NULL);
    zg_qcore_collect (core);
    assert (zg_qcore_queue (core, "jobs", false) == NULL && zg_qcore_errors (core) == 0);
    zg_qcore_destroy (&core);
    printf ("OK\n");
}
