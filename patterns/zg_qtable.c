/*  =========================================================================
    zg_qtable - the queues and commands of the queues actor, by name

    Two zhashx tables (one per name space) that own their zg_taskq_t, and an
    intrusive list of the queues that may have become idle.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_errors.h"
#include "zg_qtable.h"

struct _zg_qtable_t {
    zhashx_t *tables [2];           //  Name -> zg_taskq_t: queues, commands
    zg_taskq_t *idle;               //  Queues that lost their last task or worker
    zg_slots_t *holders;            //  Names per holder that made them
};

//  --------------------------------------------------------------------------
//  Create an empty table

zg_qtable_t *
zg_qtable_new (void)
{
    zg_qtable_t *self = (zg_qtable_t *) zmalloc (sizeof (zg_qtable_t));
    assert (self);
    for (int index = 0; index < 2; index++) {
        self->tables [index] = zhashx_new ();
        assert (self->tables [index]);
    }
    self->holders = zg_slots_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the table and every queue in it

void
zg_qtable_destroy (zg_qtable_t **self_p)
{
    assert (self_p);
    zg_qtable_t *self = *self_p;
    if (!self)
        return;
    for (int index = 0; index < 2; index++) {
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (self->tables [index]); queue;
             queue = (zg_taskq_t *) zhashx_next (self->tables [index]))
            zg_taskq_destroy (&queue);
        zhashx_destroy (&self->tables [index]);
    }
    zg_slots_destroy (&self->holders);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Bytes the tasks of every queue and command hold (zg_qbytes)

int64_t
zg_qtable_bytes (zg_qtable_t *self)
{
    assert (self);
    int64_t bytes = 0;
    for (int index = 0; index < 2; index++)
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (self->tables [index]); queue;
             queue = (zg_taskq_t *) zhashx_next (self->tables [index]))
            bytes += queue->bytes;
    return bytes;
}

//  --------------------------------------------------------------------------
//  The queue or command of that name, or NULL

zg_taskq_t *
zg_qtable_lookup (zg_qtable_t *self, const char *name, bool command)
{
    assert (self);
    assert (name);
    return (zg_taskq_t *) zhashx_lookup (self->tables [command], name);
}

//  --------------------------------------------------------------------------
//  The queue or command of that name, created if need be

zg_taskq_t *
zg_qtable_ensure (zg_qtable_t *self, const char *name, bool command, int64_t max_priority,
                  int64_t max_queues, const char *holder)
{
    assert (self);
    zg_taskq_t *queue = zg_qtable_lookup (self, name, command);
    if (queue)
        return queue;
    if ((int64_t) zg_qtable_size (self) >= max_queues)
        return NULL;
    queue = zg_taskq_new (name, command, (size_t) max_priority + 1);
    zhashx_insert (self->tables [command], name, queue);
    zg_holder_charge (self->holders, holder, &queue->holder);
    //  Nothing names it yet: if nothing comes to, it is forgotten
    zg_qtable_check_idle (self, queue);
    return queue;
}

//  --------------------------------------------------------------------------
//  Whether count new names fit

int
zg_qtable_admit (zg_qtable_t *self, size_t count, const char *holder, const zg_qsettings_t *settings,
                 char *reason)
{
    assert (self && settings && reason);
    if ((int64_t) (zg_qtable_size (self) + count) > settings->max_queues) {
        zg_wire_reason (reason, "too many queues (max-queues %" PRId64 ")", settings->max_queues);
        return ZG_ERR_UNAVAILABLE;
    }
    return zg_holder_admit (self->holders, holder, count, settings->max_queues_per_connection, "queues",
                            "max-queues-per-connection", reason);
}

//  --------------------------------------------------------------------------
//  Names the holder made

size_t
zg_qtable_held (zg_qtable_t *self, const char *holder)
{
    assert (self && holder);
    return zg_slots_held (self->holders, holder);
}

//  --------------------------------------------------------------------------
//  Of the named queues, or of every queue (not command), the one whose next
//  waiting task goes first

zg_taskq_t *
zg_qtable_first (zg_qtable_t *self, const zg_qname_t *names, size_t count)
{
    assert (self);
    zg_taskq_t *first = NULL;
    for (size_t index = 0; index < count; index++)
        first = zg_taskq_first (first, zg_qtable_lookup (self, names [index].text, false));
    if (count == 0)
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (self->tables [0]); queue;
             queue = (zg_taskq_t *) zhashx_next (self->tables [0]))
            first = zg_taskq_first (first, queue);
    return first;
}

//  --------------------------------------------------------------------------
//  The dead-letter queue of a queue

zg_taskq_t *
zg_qtable_dead_letters (zg_qtable_t *self, zg_taskq_t *queue, int64_t max_name_size, int64_t max_priority,
                        int64_t max_queues)
{
    assert (self && queue);
    char name [ZG_QOPTIONS_NAME_MAX + sizeof ZG_TASKQ_DEAD_SUFFIX];
    snprintf (name, sizeof name, "%s" ZG_TASKQ_DEAD_SUFFIX, queue->name);
    if (queue->dead_letter || (int64_t) strlen (name) > max_name_size)
        return NULL;
    return zg_qtable_ensure (self, name, false, max_priority, max_queues, NULL);
}

//  --------------------------------------------------------------------------
//  Queues plus commands

size_t
zg_qtable_size (zg_qtable_t *self)
{
    assert (self);
    return zhashx_size (self->tables [0]) + zhashx_size (self->tables [1]);
}

//  --------------------------------------------------------------------------
//  Something names the queue

void
zg_qtable_hold (zg_qtable_t *self, zg_taskq_t *queue)
{
    assert (self);
    assert (queue);
    queue->refs++;
}

//  --------------------------------------------------------------------------
//  It no longer does

void
zg_qtable_release (zg_qtable_t *self, zg_taskq_t *queue)
{
    assert (self);
    assert (queue && queue->refs > 0);
    queue->refs--;
    zg_qtable_check_idle (self, queue);
}

//  --------------------------------------------------------------------------
//  List the queue as idle if nothing names it

void
zg_qtable_check_idle (zg_qtable_t *self, zg_taskq_t *queue)
{
    assert (self);
    assert (queue);
    if (queue->refs == 0 && queue->workers == 0 && !queue->idle_listed) {
        queue->idle_listed = true;
        queue->idle_next = self->idle;
        self->idle = queue;
    }
}

//  --------------------------------------------------------------------------
//  Free the idle queues that are still idle

void
zg_qtable_collect (zg_qtable_t *self)
{
    assert (self);
    while (self->idle) {
        zg_taskq_t *queue = self->idle;
        self->idle = queue->idle_next;
        queue->idle_listed = false;
        queue->idle_next = NULL;
        if (queue->refs == 0 && queue->workers == 0) {
            zg_holder_release (self->holders, &queue->holder);
            zhashx_delete (self->tables [queue->command], queue->name);
            zg_taskq_destroy (&queue);
        }
    }
}

//  --------------------------------------------------------------------------
//  One queue's counters

static json_object *
s_queue_stats (zg_taskq_t *queue, int64_t wall)
{
    json_object *counters = json_object_new_object ();
    json_object_object_add (counters, "waiting", json_object_new_uint64 (queue->waiting + queue->pinned));
    json_object_object_add (counters, "in_progress", json_object_new_uint64 (queue->in_progress));
    json_object_object_add (counters, "done", json_object_new_uint64 (queue->done));
    json_object_object_add (counters, "failed", json_object_new_uint64 (queue->failed));
    json_object_object_add (counters, "dead", json_object_new_uint64 (queue->dead));
    json_object_object_add (counters, "expired", json_object_new_uint64 (queue->expired));
    json_object_object_add (counters, "redelivered", json_object_new_uint64 (queue->redelivered));
    json_object_object_add (counters, "workers", json_object_new_uint64 (queue->workers));
    json_object_object_add (counters, "oldest_waiting_ms", json_object_new_int64 (zg_taskq_oldest (queue, wall)));
    json_object_object_add (counters, "sent", json_object_new_uint64 (queue->sent));
    json_object_object_add (counters, "bytes", json_object_new_int64 (queue->bytes));
    return counters;
}

//  --------------------------------------------------------------------------
//  Add the queues' and commands' counters to a json-c object

void
zg_qtable_stats (zg_qtable_t *self, json_object *root, int64_t wall)
{
    assert (self);
    assert (root);
    const char *sections [] = { "queues", "commands" };
    for (int index = 0; index < 2; index++) {
        json_object *section = json_object_new_object ();
        for (zg_taskq_t *queue = (zg_taskq_t *) zhashx_first (self->tables [index]); queue;
             queue = (zg_taskq_t *) zhashx_next (self->tables [index]))
            json_object_object_add (section, queue->name, s_queue_stats (queue, wall));
        json_object_object_add (root, sections [index], section);
    }
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_qtable_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qtable: ");
    zg_qtable_t *table = zg_qtable_new ();
    //  Two name spaces under one limit
    zg_taskq_t *jobs = zg_qtable_ensure (table, "jobs", false, 9, 2, NULL);
    zg_taskq_t *command = zg_qtable_ensure (table, "jobs", true, 9, 2, NULL);
    assert (jobs && command && jobs != command && command->command);
    assert (zg_qtable_ensure (table, "jobs", false, 9, 2, NULL) == jobs);
    assert (zg_qtable_ensure (table, "more", false, 9, 2, NULL) == NULL);
    assert (zg_qtable_size (table) == 2);
    assert (zg_qtable_lookup (table, "jobs", true) == command);
    assert (zg_qtable_lookup (table, "more", false) == NULL);
    //  A held queue survives collection, an unnamed one does not
    zg_qtable_hold (table, jobs);
    zg_qtable_collect (table);
    assert (zg_qtable_lookup (table, "jobs", false) == jobs);
    assert (zg_qtable_lookup (table, "jobs", true) == NULL);
    //  A queue with a worker survives its last release
    jobs->workers = 1;
    zg_qtable_release (table, jobs);
    zg_qtable_collect (table);
    assert (zg_qtable_size (table) == 1);
    jobs->bytes = 42;
    assert (zg_qtable_bytes (table) == 42);
    jobs->bytes = 0;
    json_object *root = json_object_new_object ();
    zg_qtable_stats (table, root, 0);
    json_object *counters = json_object_object_get (json_object_object_get (root, "queues"), "jobs");
    assert (json_object_get_int64 (json_object_object_get (counters, "workers")) == 1);
    assert (json_object_object_length (json_object_object_get (root, "commands")) == 0);
    json_object_put (root);
    jobs->workers = 0;
    zg_qtable_check_idle (table, jobs);
    zg_qtable_collect (table);
    assert (zg_qtable_size (table) == 0);

    //  A holder makes names up to its bound; they are its own until forgotten
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_queues = 3;
    settings.max_queues_per_connection = 2;
    char reason [ZG_WIRE_REASON_SIZE];
    assert (zg_qtable_admit (table, 2, "connection:01", &settings, reason) == 0);
    zg_taskq_t *first = zg_qtable_ensure (table, "a", false, 0, 3, "connection:01");
    zg_qtable_ensure (table, "b", true, 0, 3, "connection:01");
    assert (zg_qtable_held (table, "connection:01") == 2 && streq (first->holder, "connection:01"));
    assert (zg_qtable_admit (table, 1, "connection:01", &settings, reason) == ZG_ERR_TOO_MANY);
    assert (streq (reason, "too many queues for one connection (max-queues-per-connection 2)"));
    //  Another holder is not concerned, until the table is full; nobody
    //  (NULL) is bounded by max-queues only
    assert (zg_qtable_admit (table, 1, "connection:02", &settings, reason) == 0);
    assert (zg_qtable_admit (table, 2, NULL, &settings, reason) == ZG_ERR_UNAVAILABLE);
    assert (streq (reason, "too many queues (max-queues 3)"));
    //  A forgotten name frees its holder's slot
    zg_qtable_collect (table);
    assert (zg_qtable_held (table, "connection:01") == 0);
    assert (zg_qtable_admit (table, 2, "connection:01", &settings, reason) == 0);
    zg_qtable_ensure (table, "left", false, 0, 10, "connection:01");
    zg_qtable_destroy (&table);
    assert (table == NULL);
    printf ("OK\n");
}
