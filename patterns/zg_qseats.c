/*  =========================================================================
    zg_qseats - where the queues' workers sit

    See zg_qseats.h. Every check of a READY comes before its first change,
    so a refused READY leaves the worker's old seats in place.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_errors.h"
#include "zg_wire.h"
#include "zg_qseats.h"

struct _zg_qseats_t {
    zg_qtable_t *table;             //  The core's queues and commands
    zg_qworkers_t *registry;        //  The core's workers
    const zg_qsettings_t *settings; //  The actor's settings, read live
};

//  --------------------------------------------------------------------------
//  Seats over the core's parts

zg_qseats_t *
zg_qseats_new (zg_qtable_t *table, zg_qworkers_t *registry, const zg_qsettings_t *settings)
{
    assert (table && registry && settings);
    zg_qseats_t *self = (zg_qseats_t *) zmalloc (sizeof (zg_qseats_t));
    assert (self);
    self->table = table;
    self->registry = registry;
    self->settings = settings;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy

void
zg_qseats_destroy (zg_qseats_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Whether a READY fits max-queues, its holder's bound on the names it
//  makes (whose key, if it makes any, goes in *holder_p) and max-workers;
//  0, or -1 with a code and a reason

static int
s_check (zg_qseats_t *self, bool new_worker, const zg_qoptions_t *options, char **holder_p, int *code,
         char *reason)
{
    const zg_qsettings_t *settings = self->settings;
    size_t new_queues = 0;
    for (size_t index = 0; index < options->name_count; index++)
        if (!zg_qtable_lookup (self->table, options->names [index].text, options->names [index].command))
            new_queues++;
    *holder_p = new_queues? zg_holder_key (options->holder): NULL;
    if ((*code = zg_qtable_admit (self->table, new_queues, *holder_p, settings, reason)))
        return -1;
    if (new_worker && (int64_t) zg_qworkers_size (self->registry) >= settings->max_workers) {
        *code = ZG_ERR_UNAVAILABLE;
        zg_wire_reason (reason, "too many workers (max-workers %" PRId64 ")", settings->max_workers);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  READY: register or touch the worker and seat it anew

zg_qworker_t *
zg_qseats_ready (zg_qseats_t *self, zg_qworker_t *worker, const byte *identity, size_t identity_size,
                 const byte *name, size_t name_size, const zg_qoptions_t *options, int64_t now,
                 int *code, char *reason)
{
    assert (self);
    assert (options && code && reason);
    const zg_qsettings_t *settings = self->settings;
    char *holder;
    if (s_check (self, !worker, options, &holder, code, reason)) {
        free (holder);
        return NULL;
    }
    if (!worker) {
        worker = zg_qworkers_add (self->registry, identity, identity_size, name, name_size, now);
        if (settings->verbose)
            zsys_info ("zg_queues: worker '%.*s' ready", (int) name_size, (const char *) name);
    }
    zg_qworkers_touch (self->registry, worker, now);
    zg_qseats_leave (self, worker);
    worker->prefetch = options->prefetch;
    worker->version = options->version;
    worker->seats = (zg_seat_t *) zmalloc (options->name_count * sizeof (zg_seat_t) + 1);
    for (size_t index = 0; index < options->name_count; index++) {
        zg_seat_t *seat = &worker->seats [worker->seat_count++];
        seat->worker = worker;
        seat->queue = zg_qtable_ensure (self->table, options->names [index].text, options->names [index].command,
                                        settings->max_priority, settings->max_queues, holder);
        assert (seat->queue);
        seat->queue->workers++;
    }
    free (holder);
    return worker;
}

//  --------------------------------------------------------------------------
//  Leave every seat

void
zg_qseats_leave (zg_qseats_t *self, zg_qworker_t *worker)
{
    assert (self && worker);
    for (size_t index = 0; index < worker->seat_count; index++) {
        zg_taskq_line_remove (&worker->seats [index]);
        worker->seats [index].queue->workers--;
        zg_qtable_check_idle (self->table, worker->seats [index].queue);
    }
    free (worker->seats);
    worker->seats = NULL;
    worker->seat_count = 0;
    worker->in_lines = false;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  READY of worker name on connection "c" with these names; returns the
//  worker, or NULL with the refusal's code in code
static zg_qworker_t *
s_test_ready (zg_qseats_t *self, zg_qworker_t *worker, const char *name, zg_qname_t *names, size_t count,
              int *code)
{
    zg_qoptions_t options = { .prefetch = 3, .names = names, .name_count = count };
    char reason [ZG_WIRE_REASON_SIZE];
    return zg_qseats_ready (self, worker, (const byte *) "c", 1, (const byte *) name, strlen (name), &options, 100,
                            code, reason);
}

void
zg_qseats_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qseats: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_queues = 3;
    settings.max_workers = 1;
    zg_qtable_t *table = zg_qtable_new ();
    zg_qworkers_t *registry = zg_qworkers_new ();
    zg_qseats_t *seats = zg_qseats_new (table, registry, &settings);
    int code = 0;

    //  A new worker is registered and seated in the order of its names,
    //  a queue and a command of the same name apart, both made
    zg_qname_t names [] = { { false, "jobs" }, { true, "jobs" }, { false, "more" }, { false, "most" } };
    zg_qworker_t *worker = s_test_ready (seats, NULL, "w1", names, 2, &code);
    assert (worker && zg_qworkers_find (registry, (const byte *) "c", 1, (const byte *) "w1", 2) == worker);
    assert (worker->prefetch == 3 && worker->seat_count == 2 && !worker->in_lines);
    zg_taskq_t *queue = zg_qtable_lookup (table, "jobs", false);
    zg_taskq_t *command = zg_qtable_lookup (table, "jobs", true);
    assert (worker->seats [0].queue == queue && worker->seats [1].queue == command);
    assert (worker->seats [1].worker == worker && queue->workers == 1 && command->workers == 1);

    //  Refusals change nothing: a fourth queue past max-queues, a second
    //  worker past max-workers
    assert (!s_test_ready (seats, worker, "w1", names, 4, &code) && code == ZG_ERR_UNAVAILABLE);
    assert (!s_test_ready (seats, NULL, "w2", names, 1, &code) && code == ZG_ERR_UNAVAILABLE);
    assert (worker->seat_count == 2 && zg_qworkers_size (registry) == 1 && zg_qtable_size (table) == 2);

    //  A new READY replaces the seats: the command it leaves is forgotten
    //  at the next collect, the queue it keeps is not
    assert (s_test_ready (seats, worker, "w1", names + 2, 1, &code) == worker);
    assert (s_test_ready (seats, worker, "w1", names, 1, &code) == worker);
    zg_qtable_collect (table);
    assert (zg_qtable_lookup (table, "jobs", false) == queue && queue->workers == 1);
    assert (!zg_qtable_lookup (table, "jobs", true) && !zg_qtable_lookup (table, "more", false));

    //  Seats in their lines are taken out when the worker leaves
    zg_qworkers_set_in_lines (worker, true);
    assert (queue->line_head == &worker->seats [0]);
    zg_qseats_leave (seats, worker);
    assert (worker->seat_count == 0 && !worker->in_lines && queue->line_head == NULL && queue->workers == 0);
    zg_qtable_collect (table);
    assert (zg_qtable_size (table) == 0);

    zg_qseats_destroy (&seats);
    assert (seats == NULL);
    zg_qworkers_destroy (&registry);
    zg_qtable_destroy (&table);
    printf ("OK\n");
}
