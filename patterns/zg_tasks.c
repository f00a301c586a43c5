/*  =========================================================================
    zg_tasks - the queues actor's task store: tasks by id, intrusive lists
    and deadline heaps

    The id table is open addressing with linear probing over a power-of-two
    array, kept at most half full, with backward-shift deletion (no
    tombstones), so lookups stay short at millions of tasks. Ids start at 1;
    0 marks an empty slot.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tasks.h"
#include "zg_wire.h"
#include "zg_taskq.h"

//  Initial slots of the id table
#define ZG_TASKS_MIN_SLOTS 1024
//  Freed tasks kept for reuse; beyond that they go back to the allocator
#define ZG_TASKS_FREE_MAX 65536

struct _zg_tasks_t {
    zg_task_t **slots;              //  Id table
    size_t mask;                    //  Slots - 1
    size_t size;                    //  Tasks in the table
    uint64_t last_id;               //  Last id issued
    zg_task_t *free;                //  Reusable tasks, linked by next
    size_t free_size;               //  Tasks in the free list
    zg_heap_t *heaps [ZG_TASKS_TIMERS];     //  One deadline heap per timer
};

//  --------------------------------------------------------------------------
//  Create an empty store

zg_tasks_t *
zg_tasks_new (void)
{
    zg_tasks_t *self = (zg_tasks_t *) zmalloc (sizeof (zg_tasks_t));
    assert (self);
    self->slots = (zg_task_t **) zmalloc (ZG_TASKS_MIN_SLOTS * sizeof (zg_task_t *));
    assert (self->slots);
    self->mask = ZG_TASKS_MIN_SLOTS - 1;
    for (int timer = 0; timer < ZG_TASKS_TIMERS; timer++)
        self->heaps [timer] = zg_heap_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Close a task's messages

static void
s_task_close (zg_task_t *task)
{
    zmq_msg_close (&task->payload);
    zmq_msg_close (&task->producer);
    zmq_msg_close (&task->req);
    zmq_msg_close (&task->result);
    zstr_free (&task->owner);
}

//  --------------------------------------------------------------------------
//  Destroy the store and every task in it

void
zg_tasks_destroy (zg_tasks_t **self_p)
{
    assert (self_p);
    zg_tasks_t *self = *self_p;
    if (!self)
        return;
    //  The heaps first: they unmark the tasks still in them
    for (int timer = 0; timer < ZG_TASKS_TIMERS; timer++)
        zg_heap_destroy (&self->heaps [timer]);
    for (size_t index = 0; index <= self->mask; index++)
        if (self->slots [index]) {
            s_task_close (self->slots [index]);
            free (self->slots [index]);
        }
    while (self->free) {
        zg_task_t *next = self->free->next;
        free (self->free);
        self->free = next;
    }
    free (self->slots);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Home slot of an id: Fibonacci hashing spreads sequential ids over the table

static size_t
s_home (zg_tasks_t *self, uint64_t id)
{
    return (size_t) ((id * 11400714819323198485ull) >> 20) & self->mask;
}

//  --------------------------------------------------------------------------
//  Slot where an id is, or the empty slot where it would go

static size_t
s_slot_of (zg_tasks_t *self, uint64_t id)
{
    size_t index = s_home (self, id);
    while (self->slots [index] && self->slots [index]->id != id)
        index = (index + 1) & self->mask;
    return index;
}

//  --------------------------------------------------------------------------
//  Double the id table

static void
s_grow (zg_tasks_t *self)
{
    zg_task_t **old_slots = self->slots;
    size_t old_count = self->mask + 1;
    self->slots = (zg_task_t **) zmalloc (old_count * 2 * sizeof (zg_task_t *));
    assert (self->slots);
    self->mask = old_count * 2 - 1;
    for (size_t index = 0; index < old_count; index++)
        if (old_slots [index])
            self->slots [s_slot_of (self, old_slots [index]->id)] = old_slots [index];
    free (old_slots);
}

//  --------------------------------------------------------------------------
//  A new task with this id, zeroed but for id, id_text and empty messages

static zg_task_t *
s_create (zg_tasks_t *self, uint64_t id)
{
    if ((self->size + 1) * 2 > self->mask + 1)
        s_grow (self);
    zg_task_t *task = self->free;
    if (task) {
        self->free = task->next;
        self->free_size--;
        memset (task, 0, sizeof (zg_task_t));
    }
    else {
        task = (zg_task_t *) zmalloc (sizeof (zg_task_t));
        assert (task);
    }
    task->id = id;
    //  In decimal once, for every frame that names it (the hot path sends it
    //  three times per task)
    task->id_size = (uint8_t) zg_wire_format_uint (task->id, task->id_text);
    zmq_msg_init (&task->payload);
    zmq_msg_init (&task->producer);
    zmq_msg_init (&task->req);
    zmq_msg_init (&task->result);
    self->slots [s_slot_of (self, task->id)] = task;
    self->size++;
    return task;
}

//  --------------------------------------------------------------------------
//  A new task with the next id

zg_task_t *
zg_tasks_create (zg_tasks_t *self)
{
    assert (self);
    return s_create (self, ++self->last_id);
}

//  --------------------------------------------------------------------------
//  A task with a given id (restored from a durable store)

zg_task_t *
zg_tasks_restore (zg_tasks_t *self, uint64_t id)
{
    assert (self);
    assert (id > 0 && zg_tasks_lookup (self, id) == NULL);
    if (id > self->last_id)
        self->last_id = id;
    return s_create (self, id);
}

//  --------------------------------------------------------------------------
//  Issue ids above last_id from now on

void
zg_tasks_skip_ids (zg_tasks_t *self, uint64_t last_id)
{
    assert (self);
    if (last_id > self->last_id)
        self->last_id = last_id;
}

//  --------------------------------------------------------------------------
//  The task with this id, or NULL

zg_task_t *
zg_tasks_lookup (zg_tasks_t *self, uint64_t id)
{
    assert (self);
    if (id == 0)
        return NULL;
    return self->slots [s_slot_of (self, id)];
}

//  --------------------------------------------------------------------------
//  Forget a task

void
zg_tasks_remove (zg_tasks_t *self, zg_task_t *task)
{
    assert (self);
    assert (task);
    for (int timer = 0; timer < ZG_TASKS_TIMERS; timer++)
        zg_tasks_clear_timer (self, task, timer);
    //  Backward-shift deletion: pull later entries of the probe run into the
    //  hole when their home slot does not lie between the hole and them
    size_t hole = s_slot_of (self, task->id);
    assert (self->slots [hole] == task);
    self->slots [hole] = NULL;
    size_t index = (hole + 1) & self->mask;
    while (self->slots [index]) {
        size_t home = s_home (self, self->slots [index]->id);
        bool stays = hole <= index? (hole < home && home <= index): (hole < home || home <= index);
        if (!stays) {
            self->slots [hole] = self->slots [index];
            self->slots [index] = NULL;
            hole = index;
        }
        index = (index + 1) & self->mask;
    }
    self->size--;
    s_task_close (task);
    if (self->free_size < ZG_TASKS_FREE_MAX) {
        task->next = self->free;
        self->free = task;
        self->free_size++;
    }
    else
        free (task);
}

//  --------------------------------------------------------------------------
//  Tasks in the store

size_t
zg_tasks_size (zg_tasks_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Arm (or re-arm) one of a task's timers

void
zg_tasks_set_timer (zg_tasks_t *self, zg_task_t *task, int timer, int64_t deadline)
{
    assert (self);
    assert (timer >= 0 && timer < ZG_TASKS_TIMERS);
    zg_heap_set (self->heaps [timer], &task->timers [timer], deadline);
}

//  --------------------------------------------------------------------------
//  Disarm one of a task's timers

void
zg_tasks_clear_timer (zg_tasks_t *self, zg_task_t *task, int timer)
{
    assert (self);
    assert (timer >= 0 && timer < ZG_TASKS_TIMERS);
    zg_heap_remove (self->heaps [timer], &task->timers [timer]);
}

//  --------------------------------------------------------------------------
//  The earliest deadline of a timer heap

int64_t
zg_tasks_next_deadline (zg_tasks_t *self, int timer)
{
    assert (self);
    assert (timer >= 0 && timer < ZG_TASKS_TIMERS);
    return zg_heap_first_key (self->heaps [timer]);
}

//  --------------------------------------------------------------------------
//  Disarm and return the task whose timer expired first

zg_task_t *
zg_tasks_expired (zg_tasks_t *self, int timer, int64_t now)
{
    assert (self);
    assert (timer >= 0 && timer < ZG_TASKS_TIMERS);
    zg_heap_node_t *node = zg_heap_first (self->heaps [timer]);
    if (!node || node->key > now)
        return NULL;
    //  The node is timers [timer] of its task: step back to timers [0]
    zg_task_t *task = ZG_ITEM_OF (node - timer, zg_task_t, timers);
    zg_heap_remove (self->heaps [timer], node);
    return task;
}

//  --------------------------------------------------------------------------
//  Name of a state, for the wire

const char *
zg_task_state_name (int state)
{
    static const char *names [] = { "waiting", "in_progress", "done", "failed", "dead" };
    assert (state >= ZG_TASK_WAITING && state <= ZG_TASK_DEAD);
    return names [state];
}

//  --------------------------------------------------------------------------
//  Forget a task's input

void
zg_task_drop_input (zg_task_t *task)
{
    assert (task);
    zmq_msg_close (&task->payload);
    zmq_msg_init (&task->payload);
}

//  --------------------------------------------------------------------------
//  Append a task to a list, or put it at the head

void
zg_task_list_add (zg_task_list_t *list, zg_task_t *task, bool at_head)
{
    assert (!task->prev && !task->next);
    if (at_head) {
        task->next = list->head;
        if (list->head)
            list->head->prev = task;
        else
            list->tail = task;
        list->head = task;
    }
    else {
        task->prev = list->tail;
        if (list->tail)
            list->tail->next = task;
        else
            list->head = task;
        list->tail = task;
    }
    list->size++;
}

//  --------------------------------------------------------------------------
//  Unlink a task from the list it is in

void
zg_task_list_remove (zg_task_list_t *list, zg_task_t *task)
{
    if (task->prev)
        task->prev->next = task->next;
    else
        list->head = task->next;
    if (task->next)
        task->next->prev = task->prev;
    else
        list->tail = task->prev;
    task->prev = task->next = NULL;
    assert (list->size > 0);
    list->size--;
}

//  --------------------------------------------------------------------------
//  A task as GET's msgpack map

void
zg_task_pack (const zg_task_t *task, msgpack_packer *packer)
{
    assert (task && packer);
    //  libzmq reads a message's bytes through a non-const pointer
    zmq_msg_t *result = (zmq_msg_t *) &task->result;
    bool has_reply = task->state == ZG_TASK_DONE && !task->scatter;
    bool has_reason = task->state == ZG_TASK_FAILED || task->state == ZG_TASK_DEAD;
    msgpack_pack_map (packer, has_reply || has_reason? 11: 10);
    const char *state = zg_task_state_name (task->state);
    msgpack_pack_str_with_body (packer, "id", 2);
    msgpack_pack_str_with_body (packer, task->id_text, task->id_size);
    msgpack_pack_str_with_body (packer, "queue", 5);
    msgpack_pack_str_with_body (packer, task->queue->name, strlen (task->queue->name));
    msgpack_pack_str_with_body (packer, "command", 7);
    if (task->queue->command)
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
    //  qmanager's GetTask shows the input beside the output
    zmq_msg_t *input = (zmq_msg_t *) &task->payload;
    msgpack_pack_str_with_body (packer, "input", 5);
    msgpack_pack_bin_with_body (packer, zmq_msg_data (input), zmq_msg_size (input));
    if (has_reply) {
        msgpack_pack_str_with_body (packer, "reply", 5);
        msgpack_pack_bin_with_body (packer, zmq_msg_data (result), zmq_msg_size (result));
    }
    else
    if (has_reason && zmq_msg_size (result)) {
        msgpack_pack_str_with_body (packer, "reason", 6);
        msgpack_pack_str_with_body (packer, zmq_msg_data (result), zmq_msg_size (result));
    }
    else
    if (has_reason) {
        char reason [64];
        snprintf (reason, sizeof reason, "dead after %u deliveries", task->attempt);
        msgpack_pack_str_with_body (packer, "reason", 6);
        msgpack_pack_str_with_body (packer, reason, strlen (reason));
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_tasks_test (bool verbose)
{
    printf (" * zg_tasks: ");
    //  @selftest
    zg_tasks_t *tasks = zg_tasks_new ();
    //  Enough tasks to grow the table several times, then remove every other
    //  one and check that lookups still find exactly the survivors
    const int count = 20000;
    zg_task_t **created = (zg_task_t **) zmalloc ((size_t) count * sizeof (zg_task_t *));
    for (int index = 0; index < count; index++) {
        created [index] = zg_tasks_create (tasks);
        assert (created [index]->id == (uint64_t) index + 1);
        zmq_msg_init_size (&created [index]->payload, 100);
    }
    assert (zg_tasks_size (tasks) == (size_t) count);
    for (int index = 0; index < count; index += 2)
        zg_tasks_remove (tasks, created [index]);
    assert (zg_tasks_size (tasks) == (size_t) count / 2);
    for (int index = 0; index < count; index++) {
        zg_task_t *found = zg_tasks_lookup (tasks, (uint64_t) index + 1);
        assert (index % 2? found == created [index]: found == NULL);
    }
    assert (zg_tasks_lookup (tasks, 0) == NULL);
    assert (zg_tasks_lookup (tasks, (uint64_t) count + 1) == NULL);
    //  Reused tasks get fresh ids
    zg_task_t *task = zg_tasks_create (tasks);
    assert (task->id == (uint64_t) count + 1);
    assert (streq (task->id_text, "20001") && task->id_size == 5);
    assert (streq (created [1]->id_text, "2") && created [1]->id_size == 1);
    //  A restored id is found, and later ids go above it and the skipped ones
    zg_task_t *restored = zg_tasks_restore (tasks, 30000);
    assert (zg_tasks_lookup (tasks, 30000) == restored && streq (restored->id_text, "30000"));
    zg_tasks_skip_ids (tasks, 40000);
    zg_tasks_skip_ids (tasks, 35000);
    zg_task_t *after = zg_tasks_create (tasks);
    assert (after->id == 40001);
    zg_tasks_remove (tasks, restored);
    zg_tasks_remove (tasks, after);

    //  Timers come out in deadline order, and cleared ones never come out
    for (int index = 1; index < count; index += 2)
        zg_tasks_set_timer (tasks, created [index], ZG_TASKS_ACK_TIMER, (index * 7919) % 1000);
    zg_tasks_set_timer (tasks, created [1], ZG_TASKS_ACK_TIMER, 5000);
    zg_tasks_clear_timer (tasks, created [3], ZG_TASKS_ACK_TIMER);
    zg_tasks_clear_timer (tasks, created [3], ZG_TASKS_ACK_TIMER);
    zg_tasks_set_timer (tasks, created [5], ZG_TASKS_REPLY_TIMER, 10);
    assert (zg_tasks_next_deadline (tasks, ZG_TASKS_REPLY_TIMER) == 10);
    int64_t previous = -1;
    int expired = 0;
    while ((task = zg_tasks_expired (tasks, ZG_TASKS_ACK_TIMER, 999))) {
        assert (task->timers [ZG_TASKS_ACK_TIMER].key >= previous);
        assert (task != created [3] && task != created [1]);
        previous = task->timers [ZG_TASKS_ACK_TIMER].key;
        expired++;
    }
    assert (expired == count / 2 - 2);
    assert (zg_tasks_next_deadline (tasks, ZG_TASKS_ACK_TIMER) == 5000);
    assert (zg_tasks_expired (tasks, ZG_TASKS_ACK_TIMER, 4999) == NULL);
    //  Removing a task disarms its timers
    zg_tasks_remove (tasks, created [5]);
    assert (zg_tasks_next_deadline (tasks, ZG_TASKS_REPLY_TIMER) == INT64_MAX);

    //  Lists: add at either end, remove from the middle
    zg_task_list_t list = { NULL, NULL, 0 };
    zg_task_list_add (&list, created [7], false);
    zg_task_list_add (&list, created [9], false);
    zg_task_list_add (&list, created [11], true);
    assert (list.size == 3 && list.head == created [11] && list.tail == created [9]);
    zg_task_list_remove (&list, created [7]);
    assert (list.head->next == created [9] && list.tail->prev == created [11]);
    zg_task_list_remove (&list, created [11]);
    zg_task_list_remove (&list, created [9]);
    assert (list.size == 0 && !list.head && !list.tail);
    assert (streq (zg_task_state_name (ZG_TASK_IN_PROGRESS), "in_progress"));
    if (verbose)
        printf ("(%zu tasks left) ", zg_tasks_size (tasks));
    free (created);
    zg_tasks_destroy (&tasks);
    assert (tasks == NULL);
    //  @end
    printf ("OK\n");
}
