/*  =========================================================================
    zg_taskq - one work queue (or command) of the queues actor: its waiting
    tasks by priority, the line of workers with credit, and its counters

    Dispatch is O(1) per task: one FIFO per priority, and a line of the
    seats whose workers have credit. The dispatch core (zg_qcore) takes a seat out of every
    line when its worker's credit is used up and puts it back when an
    answer returns credit, so a queue never has both waiting tasks and
    seats in line once the core has dispatched it.
    Tasks joining a tail get a number from one process-wide counter, so the
    heads of any two queues compare by arrival: a worker serving several
    queues takes their tasks in the order they came (zg_taskq_first). It is
    atomic because several queues actors may run in one process; each only
    needs its own numbers to grow.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_taskq.h"
#include <stdatomic.h>

static atomic_uint_fast64_t s_arrivals;

//  --------------------------------------------------------------------------
//  Create an empty queue or command

zg_taskq_t *
zg_taskq_new (const char *name, bool command, size_t level_count)
{
    assert (name);
    assert (level_count > 0);
    zg_taskq_t *self = (zg_taskq_t *) zmalloc (sizeof (zg_taskq_t));
    assert (self);
    self->name = strdup (name);
    assert (self->name);
    self->command = command;
    size_t length = strlen (name);
    size_t suffix = strlen (ZG_TASKQ_DEAD_SUFFIX);
    self->dead_letter = length > suffix && streq (name + length - suffix, ZG_TASKQ_DEAD_SUFFIX);
    self->level_count = level_count;
    self->levels = (zg_task_list_t *) zmalloc (level_count * sizeof (zg_task_list_t));
    assert (self->levels);
    //  Every delivery sends the same map but for the attempt: pack it once
    msgpack_sbuffer_init (&self->meta);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->meta, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 2);
    const char *kind = command? "command": "queue";
    msgpack_pack_str_with_body (&packer, kind, strlen (kind));
    msgpack_pack_str_with_body (&packer, name, length);
    msgpack_pack_str_with_body (&packer, "attempt", 7);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy a queue

void
zg_taskq_destroy (zg_taskq_t **self_p)
{
    assert (self_p);
    zg_taskq_t *self = *self_p;
    if (!self)
        return;
    free (self->name);
    free (self->holder);
    free (self->levels);
    msgpack_sbuffer_destroy (&self->meta);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Add a task to the waiting tasks of its priority

void
zg_taskq_push (zg_taskq_t *self, zg_task_t *task, bool at_head)
{
    assert (self);
    assert (task->queue == self);
    task->state = ZG_TASK_WAITING;
    //  A task put back at the head keeps its number: it came first
    if (!at_head)
        task->arrival = atomic_fetch_add (&s_arrivals, 1) + 1;
    size_t level = task->priority < self->level_count? task->priority: self->level_count - 1;
    zg_task_list_add (&self->levels [level], task, at_head);
    self->waiting++;
}

//  --------------------------------------------------------------------------
//  Take a waiting task out of its queue

void
zg_taskq_remove (zg_taskq_t *self, zg_task_t *task)
{
    assert (self);
    assert (task->queue == self && self->waiting > 0);
    size_t level = task->priority < self->level_count? task->priority: self->level_count - 1;
    zg_task_list_remove (&self->levels [level], task);
    self->waiting--;
}

//  --------------------------------------------------------------------------
//  The next waiting task for the seat at the head of the line

zg_task_t *
zg_taskq_take (zg_taskq_t *self, zg_seat_t **seat_p)
{
    assert (self);
    assert (seat_p);
    zg_seat_t *seat = self->line_head;
    if (!self->waiting || !seat)
        return NULL;
    zg_task_t *task = zg_taskq_pop (self);
    //  Round-robin: this seat served, the next one in line serves next
    zg_taskq_line_remove (seat);
    zg_taskq_line_append (seat);
    *seat_p = seat;
    return task;
}

//  --------------------------------------------------------------------------
//  The waiting task handed out next: highest priority first, FIFO within it

static size_t
s_next_level (zg_taskq_t *self)
{
    size_t level = self->level_count;
    while (!self->levels [level - 1].head)
        level--;
    return level - 1;
}

zg_task_t *
zg_taskq_next (zg_taskq_t *self)
{
    assert (self);
    return self->waiting? self->levels [s_next_level (self)].head: NULL;
}

//  --------------------------------------------------------------------------
//  Take the next waiting task out

zg_task_t *
zg_taskq_pop (zg_taskq_t *self)
{
    assert (self);
    if (!self->waiting)
        return NULL;
    size_t level = s_next_level (self);
    zg_task_t *task = self->levels [level].head;
    zg_task_list_remove (&self->levels [level], task);
    self->waiting--;
    return task;
}

//  --------------------------------------------------------------------------
//  Of two queues, the one whose next task goes first

zg_taskq_t *
zg_taskq_first (zg_taskq_t *one, zg_taskq_t *other)
{
    zg_task_t *mine = one? zg_taskq_next (one): NULL;
    zg_task_t *theirs = other? zg_taskq_next (other): NULL;
    if (!mine || !theirs)
        return mine? one: theirs? other: NULL;
    if (mine->priority != theirs->priority)
        return mine->priority > theirs->priority? one: other;
    return mine->arrival <= theirs->arrival? one: other;
}

//  --------------------------------------------------------------------------
//  Age of the oldest waiting task, ms

int64_t
zg_taskq_oldest (zg_taskq_t *self, int64_t wall)
{
    assert (self);
    int64_t oldest = 0;
    for (size_t level = 0; level < self->level_count; level++)
        if (self->levels [level].head && wall - self->levels [level].head->created > oldest)
            oldest = wall - self->levels [level].head->created;
    return oldest;
}

//  --------------------------------------------------------------------------
//  Put a seat at the back of its queue's line

void
zg_taskq_line_append (zg_seat_t *seat)
{
    assert (!seat->in_line);
    zg_taskq_t *self = seat->queue;
    seat->prev = self->line_tail;
    seat->next = NULL;
    if (self->line_tail)
        self->line_tail->next = seat;
    else
        self->line_head = seat;
    self->line_tail = seat;
    seat->in_line = true;
}

//  --------------------------------------------------------------------------
//  Take a seat out of its queue's line

void
zg_taskq_line_remove (zg_seat_t *seat)
{
    if (!seat->in_line)
        return;
    zg_taskq_t *self = seat->queue;
    if (seat->prev)
        seat->prev->next = seat->next;
    else
        self->line_head = seat->next;
    if (seat->next)
        seat->next->prev = seat->prev;
    else
        self->line_tail = seat->prev;
    seat->prev = seat->next = NULL;
    seat->in_line = false;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_taskq_test (bool verbose)
{
    printf (" * zg_taskq: ");
    //  @selftest
    zg_tasks_t *tasks = zg_tasks_new ();
    zg_taskq_t *queue = zg_taskq_new ("jobs", false, 3);
    assert (!queue->dead_letter && !queue->command);
    assert (queue->meta.size == 1 + 6 + 5 + 8);
    zg_taskq_t *dead = zg_taskq_new ("jobs.dead", false, 1);
    assert (dead->dead_letter);
    zg_taskq_destroy (&dead);
    assert (dead == NULL);

    //  Nobody in line: tasks wait
    zg_task_t *task [6];
    const uint8_t priorities [] = { 0, 1, 0, 7, 1, 0 };
    for (int index = 0; index < 6; index++) {
        task [index] = zg_tasks_create (tasks);
        task [index]->queue = queue;
        task [index]->priority = priorities [index];
        task [index]->created = 1000 + index;
        zg_taskq_push (queue, task [index], false);
    }
    zg_seat_t *seat = NULL;
    assert (zg_taskq_take (queue, &seat) == NULL && seat == NULL);
    assert (queue->waiting == 6);
    assert (zg_taskq_oldest (queue, 1010) == 10);

    //  Three seats take turns; tasks come out highest priority first (7 is
    //  clamped to the highest level, 2), FIFO within a priority, and a task
    //  put back at the head comes out first of its priority
    //  (the seats stand for themselves: no worker behind them)
    zg_seat_t seats [3];
    for (int index = 0; index < 3; index++) {
        seats [index] = (zg_seat_t) { NULL, queue, NULL, NULL, false, false };
        zg_taskq_line_append (&seats [index]);
    }
    //  A task taken out (it expired) is not delivered
    zg_taskq_remove (queue, task [3]);
    assert (queue->waiting == 5);
    zg_taskq_push (queue, task [3], true);
    assert (zg_taskq_take (queue, &seat) == task [3] && seat == &seats [0]);
    assert (zg_taskq_take (queue, &seat) == task [1] && seat == &seats [1]);
    zg_taskq_push (queue, task [1], true);
    assert (zg_taskq_take (queue, &seat) == task [1] && seat == &seats [2]);
    assert (zg_taskq_take (queue, &seat) == task [4] && seat == &seats [0]);
    //  A seat out of line is skipped, and removing it twice is harmless
    zg_taskq_line_remove (&seats [1]);
    zg_taskq_line_remove (&seats [1]);
    assert (zg_taskq_take (queue, &seat) == task [0] && seat == &seats [2]);
    assert (zg_taskq_take (queue, &seat) == task [2] && seat == &seats [0]);
    assert (zg_taskq_take (queue, &seat) == task [5] && seat == &seats [2]);
    assert (queue->waiting == 0);
    assert (zg_taskq_take (queue, &seat) == NULL);
    assert (zg_taskq_oldest (queue, 2000) == 0);
    assert (queue->line_head == &seats [0] && queue->line_tail == &seats [2]);
    zg_taskq_line_remove (&seats [0]);
    zg_taskq_line_remove (&seats [2]);
    assert (!queue->line_head && !queue->line_tail);

    //  Across queues: the higher priority first, then the earlier arrival;
    //  a task put back at the head keeps its place
    zg_taskq_t *other = zg_taskq_new ("other", false, 3);
    assert (zg_taskq_first (queue, other) == NULL && zg_taskq_first (NULL, NULL) == NULL);
    assert (zg_taskq_next (queue) == NULL && zg_taskq_pop (queue) == NULL);
    task [0]->queue = task [3]->queue = other;
    task [3]->priority = 0;
    zg_taskq_push (other, task [0], false);         //  b1
    zg_taskq_push (queue, task [2], false);         //  a1
    zg_taskq_push (other, task [3], false);         //  b2
    assert (zg_taskq_first (queue, other) == other && zg_taskq_first (NULL, queue) == queue);
    assert (zg_taskq_pop (other) == task [0]);
    assert (zg_taskq_first (other, queue) == queue);
    assert (zg_taskq_pop (queue) == task [2]);
    zg_taskq_push (queue, task [2], true);
    assert (zg_taskq_first (other, queue) == queue);
    task [4]->queue = other;
    zg_taskq_push (other, task [4], false);         //  priority 1 goes first
    assert (zg_taskq_first (queue, other) == other && zg_taskq_next (other) == task [4]);
    assert (zg_taskq_pop (other) == task [4] && zg_taskq_pop (other) == task [3]);
    assert (zg_taskq_pop (queue) == task [2]);
    zg_taskq_destroy (&other);
    if (verbose)
        printf ("(%zu tasks) ", zg_tasks_size (tasks));
    zg_taskq_destroy (&queue);
    zg_tasks_destroy (&tasks);
    //  @end
    printf ("OK\n");
}
