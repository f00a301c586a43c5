/*  =========================================================================
    zg_qrecent - the ring of recently finished tasks that STATS lists

    Entries copy what STATS shows, so a task can be forgotten while its
    entry stays.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qrecent.h"
#include "zg_taskq.h"
#include "zg_qtable.h"
#include "zg_wire.h"

//  One entry
typedef struct {
    uint64_t id;                    //  Task id
    zg_taskq_t *queue;              //  Its queue
    uint32_t attempt;               //  Deliveries it took
    uint8_t state;                  //  How it finished
    int64_t finished;               //  When, ms since the epoch
} s_entry_t;

struct _zg_qrecent_t {
    s_entry_t *entries;             //  The ring
    size_t capacity;                //  Its slots
    size_t next;                    //  Next slot to write
    size_t size;                    //  Entries in it
    zg_qtable_t *table;             //  Holds the entries' queues, or NULL
};

//  --------------------------------------------------------------------------
//  Create an empty ring

zg_qrecent_t *
zg_qrecent_new (size_t capacity, zg_qtable_t *table)
{
    zg_qrecent_t *self = (zg_qrecent_t *) zmalloc (sizeof (zg_qrecent_t));
    assert (self);
    self->table = table;
    self->capacity = capacity;
    self->entries = (s_entry_t *) zmalloc (capacity * sizeof (s_entry_t) + 1);
    assert (self->entries);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the ring

void
zg_qrecent_destroy (zg_qrecent_t **self_p)
{
    assert (self_p);
    zg_qrecent_t *self = *self_p;
    if (!self)
        return;
    free (self->entries);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Record a finished task; returns the queue of the entry it overwrote

zg_taskq_t *
zg_qrecent_add (zg_qrecent_t *self, zg_task_t *task)
{
    assert (self);
    assert (task);
    assert (self->capacity > 0);
    zg_taskq_t *dropped = self->size == self->capacity? self->entries [self->next].queue: NULL;
    self->entries [self->next] = (s_entry_t) { task->id, task->queue, task->attempt, task->state, task->finished };
    self->next = (self->next + 1) % self->capacity;
    if (self->size < self->capacity)
        self->size++;
    return dropped;
}

//  --------------------------------------------------------------------------
//  Record a finished task, holding its queue in the table

void
zg_qrecent_remember (zg_qrecent_t *self, zg_task_t *task)
{
    assert (self && self->table);
    if (self->capacity == 0)
        return;
    zg_qtable_hold (self->table, task->queue);
    zg_taskq_t *dropped = zg_qrecent_add (self, task);
    if (dropped)
        zg_qtable_release (self->table, dropped);
}

//  --------------------------------------------------------------------------
//  A new capacity empties the ring

void
zg_qrecent_resize (zg_qrecent_t *self, size_t capacity)
{
    assert (self && self->table);
    if (capacity == self->capacity)
        return;
    for (size_t index = 0; index < self->size; index++)
        zg_qtable_release (self->table, zg_qrecent_queue (self, index));
    free (self->entries);
    self->entries = (s_entry_t *) zmalloc (capacity * sizeof (s_entry_t) + 1);
    assert (self->entries);
    self->capacity = capacity;
    self->next = self->size = 0;
}

//  --------------------------------------------------------------------------
//  Entries the ring can hold

size_t
zg_qrecent_capacity (zg_qrecent_t *self)
{
    assert (self);
    return self->capacity;
}

//  --------------------------------------------------------------------------
//  Entries in the ring

size_t
zg_qrecent_size (zg_qrecent_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Entry index, 0 the newest

static s_entry_t *
s_entry (zg_qrecent_t *self, size_t index)
{
    assert (index < self->size);
    return &self->entries [(self->next + self->capacity - 1 - index) % self->capacity];
}

//  --------------------------------------------------------------------------
//  The queue of entry index

zg_taskq_t *
zg_qrecent_queue (zg_qrecent_t *self, size_t index)
{
    assert (self);
    return s_entry (self, index)->queue;
}

//  --------------------------------------------------------------------------
//  The entries as json-c, newest first

json_object *
zg_qrecent_json (zg_qrecent_t *self)
{
    assert (self);
    json_object *array = json_object_new_array ();
    for (size_t index = 0; index < self->size; index++) {
        s_entry_t *entry = s_entry (self, index);
        json_object *item = json_object_new_object ();
        char id [ZG_WIRE_NUMBER_SIZE];
        zg_wire_format_uint (entry->id, id);
        json_object_object_add (item, "id", json_object_new_string (id));
        json_object_object_add (item, "queue", json_object_new_string (entry->queue->name));
        json_object_object_add (item, "state", json_object_new_string (zg_task_state_name (entry->state)));
        json_object_object_add (item, "attempt", json_object_new_uint64 (entry->attempt));
        json_object_object_add (item, "finished", json_object_new_int64 (entry->finished));
        json_object_array_add (array, item);
    }
    return array;
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_qrecent_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qrecent: ");
    zg_taskq_t *jobs = zg_taskq_new ("jobs", false, 1);
    zg_taskq_t *mail = zg_taskq_new ("mail", false, 1);
    zg_qrecent_t *recent = zg_qrecent_new (2, NULL);
    assert (zg_qrecent_capacity (recent) == 2 && zg_qrecent_size (recent) == 0);
    zg_task_t task = { .id = 7, .queue = jobs, .attempt = 1, .state = ZG_TASK_DONE, .finished = 100 };
    assert (zg_qrecent_add (recent, &task) == NULL);
    task.id = 8;
    task.queue = mail;
    task.state = ZG_TASK_DEAD;
    assert (zg_qrecent_add (recent, &task) == NULL);
    //  Full: the oldest entry (jobs) is overwritten and its queue handed back
    task.id = 9;
    assert (zg_qrecent_add (recent, &task) == jobs);
    assert (zg_qrecent_size (recent) == 2);
    assert (zg_qrecent_queue (recent, 0) == mail && zg_qrecent_queue (recent, 1) == mail);
    json_object *array = zg_qrecent_json (recent);
    assert (json_object_array_length (array) == 2);
    json_object *newest = json_object_array_get_idx (array, 0);
    assert (streq (json_object_get_string (json_object_object_get (newest, "id")), "9"));
    assert (streq (json_object_get_string (json_object_object_get (newest, "state")), "dead"));
    assert (streq (json_object_get_string (json_object_object_get (newest, "queue")), "mail"));
    json_object_put (array);
    zg_qrecent_destroy (&recent);
    assert (recent == NULL);
    zg_taskq_destroy (&jobs);
    zg_taskq_destroy (&mail);
    printf ("OK\n");
}
