/*  =========================================================================
    zg_qdurable - the queues' dispatch core's journal in the durable store

    Each function turns a task of the core into the change of the store it
    makes. A failed change is not reported here: it loses the pass, and the
    commit reports that once, for the whole pass. Both stores have the same
    calls (zg_qstore.h); S_STORE picks the open one's.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qdurable.h"
#include "zg_qtest.h"
#include "zg_taskq.h"
#include "zg_qcore.h"
#include "zg_dirlock.h"
#include "zg_qlogstore.h"
#include "zg_qsyncer.h"
#include <sys/stat.h>

//  LMDB's data file, the sign of an LMDB store in a directory
#define ZG_QDURABLE_LMDB_FILE "data.mdb"

struct _zg_qdurable_t {
    char *dir;                      //  The data directory
    zg_qlogstore_t *log;            //  Task records in a log, or NULL
    zg_qstore_t *lmdb;              //  Task records in LMDB, or NULL
    uint64_t commits;               //  Commits that wrote (and synced) a pass
    uint64_t tasks;                 //  New tasks committed
    uint64_t records;               //  Changes committed
    uint64_t lost;                  //  Passes lost (their SENDs got 507)
    size_t pass_tasks;              //  New tasks in the current pass
    zg_qsyncer_t *syncer;           //  The log's syncs in a thread, or NULL (lmdb)
    uint64_t syncing;               //  Bytes of the log the sync in flight covers
};

//  Call the open store's function name: zg_qlogstore_name or zg_qstore_name
#define S_STORE(self, name, ...) ZG_QLOGSTORE_EITHER ((self)->log, (self)->lmdb, name, ##__VA_ARGS__)

//  --------------------------------------------------------------------------
//  Whether dir holds a file of this name

static bool
s_holds (const char *dir, const char *name)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return access (path, F_OK) == 0;
}

//  --------------------------------------------------------------------------
//  Open the journal

zg_qdurable_t *
zg_qdurable_new (const char *dir, const char *kind, const zg_qstore_options_t *options, char *error,
                 size_t size)
{
    assert (dir && kind && options && error);
    bool log = streq (kind, ZG_QDURABLE_LOG);
    assert (log || streq (kind, ZG_QDURABLE_LMDB));
    const char *other = log? ZG_QDURABLE_LMDB_FILE: ZG_QLOGSTORE_FILE;
    if (s_holds (dir, other)) {
        snprintf (error, size, "data-dir '%s' holds a store of the other kind (%s): set queues/data-store to %s "
                  "or use another directory", dir, other, log? ZG_QDURABLE_LMDB: ZG_QDURABLE_LOG);
        return NULL;
    }
    zg_qdurable_t *self = (zg_qdurable_t *) zmalloc (sizeof (zg_qdurable_t));
    assert (self);
    if (log)
        self->log = zg_qlogstore_open (dir, options, error, size);
    else
        self->lmdb = zg_qstore_open (dir, options, error, size);
    if (!self->log && !self->lmdb) {
        free (self);
        return NULL;
    }
    self->dir = strdup (dir);
    if (self->log)
        self->syncer = zg_qsyncer_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Close the journal

void
zg_qdurable_destroy (zg_qdurable_t **self_p)
{
    assert (self_p);
    zg_qdurable_t *self = *self_p;
    if (!self)
        return;
    zg_qsyncer_destroy (&self->syncer);
    zg_qlogstore_destroy (&self->log);
    zg_qstore_destroy (&self->lmdb);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Restore the store's tasks into a new core. The tasks that were in
//  progress are taken back only after the load: that changes the store,
//  and LMDB allows no write transaction beside the load's read one.

typedef struct {
    zg_qcore_t *core;
    zg_task_list_t taken;           //  Restored tasks that were in progress
} s_restore_t;

static int
s_adopt (const zg_qrecord_t *record, void *arg)
{
    s_restore_t *restore = (s_restore_t *) arg;
    zg_task_t *task = zg_qcore_adopt (restore->core, record);
    if (task)
        zg_task_list_add (&restore->taken, task, false);
    return 0;
}

int
zg_qdurable_restore (zg_qdurable_t *self, zg_qcore_t *core)
{
    assert (self && core);
    zg_qcore_journal (core, self);
    s_restore_t restore = { core, { NULL, NULL, 0 } };
    int rc = S_STORE (self, load, s_adopt, &restore);
    //  In the order they were delivered, as the tasks of a dead worker
    while (restore.taken.tail) {
        zg_task_t *task = restore.taken.tail;
        zg_task_list_remove (&restore.taken, task);
        zg_qcore_take_back (core, task);
    }
    return rc? rc: zg_qdurable_commit (self);
}

//  --------------------------------------------------------------------------
//  The last id ever issued

uint64_t
zg_qdurable_last_id (zg_qdurable_t *self)
{
    assert (self);
    return S_STORE (self, next_id) - 1;
}

//  --------------------------------------------------------------------------
//  Set a restored task's fields from its record

void
zg_qdurable_fill (zg_task_t *task, const zg_qrecord_t *record)
{
    assert (task && record);
    task->priority = record->priority;
    task->attempt = record->attempt;
    task->created = record->created;
    task->started = record->started;
    task->finished = record->finished;
    task->ack_timeout = record->ack_timeout;
    //  A waiting task's end of wait is a wall clock time, so it survives a
    //  restart; its time to live was counted from its creation
    task->ttl_expires = record->finished? 0: record->expires;
    task->ttl = task->ttl_expires? task->ttl_expires - record->created: 0;
    task->state = record->state;
    zmq_msg_t *data = record->finished? &task->result: &task->payload;
    size_t size = record->finished? record->result_size: record->payload_size;
    zmq_msg_close (data);
    zmq_msg_init_size (data, size);
    if (size)
        memcpy (zmq_msg_data (data), record->finished? record->result: record->payload, size);
}

//  --------------------------------------------------------------------------
//  Whether a task is stored: scatter groups and copies are not

static bool
s_stored (const zg_task_t *task)
{
    return !task->scatter && !task->group;
}

//  --------------------------------------------------------------------------
//  A task was accepted

int
zg_qdurable_create (zg_qdurable_t *self, const zg_task_t *task)
{
    if (!self)
        return 0;
    if (!s_stored (task))
        return S_STORE (self, use_id, task->id);
    zg_taskq_t *queue = task->queue;
    zg_qrecord_t record = {
        .id = task->id,
        .queue = queue->name,
        .queue_size = strlen (queue->name),
        .state = task->state,
        .flags = (uint8_t) ((queue->command? ZG_QRECORD_COMMAND: 0) | (task->wants_reply? ZG_QRECORD_REPLY: 0)),
        .priority = task->priority,
        .created = task->created,
        .ack_timeout = (uint32_t) task->ack_timeout,
        .expires = task->ttl_expires,
        .payload = zmq_msg_data ((zmq_msg_t *) &task->payload),
        .payload_size = zmq_msg_size ((zmq_msg_t *) &task->payload)
    };
    if (S_STORE (self, put, &record))
        return -1;
    self->pass_tasks++;
    return 0;
}

//  --------------------------------------------------------------------------
//  A task was delivered

void
zg_qdurable_deliver (zg_qdurable_t *self, const zg_task_t *task)
{
    if (self && s_stored (task))
        S_STORE (self, deliver, task->id, task->attempt, task->started);
}

//  --------------------------------------------------------------------------
//  A task is waiting again

void
zg_qdurable_requeue (zg_qdurable_t *self, const zg_task_t *task)
{
    if (self && s_stored (task))
        S_STORE (self, requeue, task->id);
}

//  --------------------------------------------------------------------------
//  A task moved to a dead-letter queue

void
zg_qdurable_dead_letter (zg_qdurable_t *self, const zg_task_t *task)
{
    if (self && s_stored (task))
        S_STORE (self, dead_letter, task->id, task->queue->name, strlen (task->queue->name), task->ttl_expires);
}

//  --------------------------------------------------------------------------
//  A task finished

void
zg_qdurable_finish (zg_qdurable_t *self, const zg_task_t *task, int64_t expires)
{
    if (self && s_stored (task))
        S_STORE (self, finish, task->id, task->state, task->finished, expires,
                 zmq_msg_data ((zmq_msg_t *) &task->result), zmq_msg_size ((zmq_msg_t *) &task->result));
}

//  --------------------------------------------------------------------------
//  A finished task is forgotten

void
zg_qdurable_forget (zg_qdurable_t *self, const zg_task_t *task)
{
    if (self && s_stored (task))
        S_STORE (self, delete, task->id);
}

//  --------------------------------------------------------------------------
//  Make the pass durable

//  End the pass with the store's commit, or with the log's write only
static int
s_end_pass (zg_qdurable_t *self, bool sync)
{
    size_t pending = S_STORE (self, pending), tasks = self->pass_tasks;
    self->pass_tasks = 0;
    if (self->log && !sync? zg_qlogstore_write (self->log): S_STORE (self, commit)) {
        self->lost++;
        return -1;
    }
    if (pending) {
        self->commits++;
        self->tasks += tasks;
        self->records += pending;
    }
    return 0;
}

int
zg_qdurable_commit (zg_qdurable_t *self)
{
    assert (self);
    //  The commit syncs what the sync in flight covers, and may compact
    if (zg_qdurable_syncing (self))
        zg_qdurable_sync_end (self);
    return s_end_pass (self, true);
}

//  --------------------------------------------------------------------------
//  Pipelined commit: end the pass, synced later (log) or now (LMDB)

int
zg_qdurable_write (zg_qdurable_t *self)
{
    assert (self);
    return s_end_pass (self, false);
}

//  --------------------------------------------------------------------------
//  Whether written passes wait for a sync

bool
zg_qdurable_written (zg_qdurable_t *self)
{
    assert (self);
    int handle;
    uint64_t size;
    return self->log && zg_qlogstore_unsynced (self->log, &handle, &size) > 0;
}

//  --------------------------------------------------------------------------
//  Whether a sync is in flight

bool
zg_qdurable_syncing (zg_qdurable_t *self)
{
    assert (self);
    return self->syncer && zg_qsyncer_busy (self->syncer);
}

//  --------------------------------------------------------------------------
//  Start a sync of every written pass

void
zg_qdurable_sync (zg_qdurable_t *self)
{
    assert (self && zg_qdurable_written (self) && !zg_qdurable_syncing (self));
    int handle;
    zg_qlogstore_unsynced (self->log, &handle, &self->syncing);
    zg_qsyncer_start (self->syncer, handle);
}

//  --------------------------------------------------------------------------
//  The socket to poll while a sync is in flight

void *
zg_qdurable_sync_socket (zg_qdurable_t *self)
{
    assert (self);
    return zg_qdurable_syncing (self)? zg_qsyncer_socket (self->syncer): NULL;
}

//  --------------------------------------------------------------------------
//  The sync in flight ended (or: wait for it to end)

int
zg_qdurable_sync_end (zg_qdurable_t *self)
{
    assert (self && zg_qdurable_syncing (self));
    int code = zg_qsyncer_finish (self->syncer);
    return zg_qlogstore_synced (self->log, self->syncing, code);
}

//  --------------------------------------------------------------------------
//  The last error

const char *
zg_qdurable_error (zg_qdurable_t *self)
{
    assert (self);
    return S_STORE (self, error);
}

//  --------------------------------------------------------------------------
//  Counters

json_object *
zg_qdurable_stats (zg_qdurable_t *self)
{
    assert (self);
    zg_qlogstore_counters_t counters = { 0 };
    if (self->log)
        counters = zg_qlogstore_counters (self->log);
    else {
        //  An LMDB commit syncs twice: its pages, then the meta page
        counters.syncs = self->commits * 2;
        char path [PATH_MAX];
        snprintf (path, sizeof path, "%s/" ZG_QDURABLE_LMDB_FILE, self->dir);
        struct stat info;
        counters.bytes = stat (path, &info)? 0: (uint64_t) info.st_size;
    }
    //  commits first: bench/run.sh reads it from zgate's log, where lines are cut
    json_object *stats = json_object_new_object ();
    json_object_object_add (stats, "commits", json_object_new_uint64 (self->commits));
    json_object_object_add (stats, "syncs", json_object_new_uint64 (counters.syncs));
    json_object_object_add (stats, "tasks", json_object_new_uint64 (self->tasks));
    json_object_object_add (stats, "records", json_object_new_uint64 (self->records));
    json_object_object_add (stats, "lost-passes", json_object_new_uint64 (self->lost));
    json_object_object_add (stats, "bytes", json_object_new_uint64 (counters.bytes));
    json_object_object_add (stats, "compactions", json_object_new_uint64 (counters.compactions));
    json_object_object_add (stats, "errors", json_object_new_uint64 (self->lost + counters.errors));
    json_object_object_add (stats, "store", json_object_new_string (self->log? ZG_QDURABLE_LOG: ZG_QDURABLE_LMDB));
    return stats;
}

//  --------------------------------------------------------------------------
//  Self test

//  Submit a task of this priority with a one-letter payload; returns its id
static uint64_t
s_test_submit (zg_qcore_t *core, const char *queue, int64_t priority, const char *payload)
{
    zmq_msg_t frames [3];
    const char *texts [] = { payload, "p", "r" };
    for (int index = 0; index < 3; index++)
        zmq_msg_init_data (&frames [index], (void *) texts [index], strlen (texts [index]), NULL, NULL);
    zg_qoptions_t options = { .reply = true, .timeout = 100000, .ack_timeout = 500, .priority = priority };
    zg_qcore_submit_t submit = { queue, false, &options, &frames [0], &frames [1], &frames [2] };
    char id [ZG_TASKS_ID_SIZE + 1];
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qcore_submit (core, &submit, id, &code, reason);
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    return rc? 0: strtoull (id, NULL, 10);
}

//  A new core restored from the store in dir (closing the old ones)
static zg_qcore_t *
s_test_restart (zg_qcore_t **core_p, zg_qdurable_t **durable_p, const char *dir, const char *kind,
                zg_qsettings_t *settings)
{
    zg_qcore_destroy (core_p);
    zg_qdurable_destroy (durable_p);
    char error [256];
    zg_qstore_options_t options = { ZG_QSTORE_MIN_SIZE * 16, false };
    *durable_p = zg_qdurable_new (dir, kind, &options, error, sizeof error);
    if (!*durable_p)
        fprintf (stderr, "%s\n", error);
    assert (*durable_p);
    zg_qcore_t *core = zg_qcore_new (settings);
    assert (zg_qdurable_restore (*durable_p, core) == 0);
    return core;
}

//  A worker on queue "jobs" with this prefetch; the outbox is emptied
static zg_qworker_t *
s_test_worker (zg_qcore_t *core, int64_t prefetch, char *sent, size_t size)
{
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = prefetch, .names = names, .name_count = 1 };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker);
    zg_qoutbox_text (zg_qcore_outbox (core), sent, size);
    return worker;
}

//  Remove the files of a store directory made by the test, and the directory
static void
s_test_remove (const char *dir)
{
    zdir_t *files = zdir_new (dir, NULL);
    assert (files);
    zdir_remove (files, true);
    zdir_destroy (&files);
    assert (access (dir, F_OK) == -1);
}

//  The journal's promises with a store of this kind
static void
s_test_store (const char *kind)
{
    char dir [] = "/tmp/zg_qdurable_test_XXXXXX";
    assert (mkdtemp (dir));
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_deliveries = 2;
    zg_qdurable_t *durable = NULL;
    zg_qcore_t *core = NULL;
    char sent [1024];
    core = s_test_restart (&core, &durable, dir, kind, &settings);

    //  Five tasks, two priorities; a worker takes two and acks the first;
    //  nothing committed is lost at a restart: the waiting ones come back
    //  in their order within priority, the one in progress waits again at
    //  the head, the acked one keeps its reply, and ids go on
    assert (s_test_submit (core, "jobs", 0, "a") == 1);
    assert (s_test_submit (core, "jobs", 0, "b") == 2);
    assert (s_test_submit (core, "jobs", 5, "c") == 3);
    assert (s_test_submit (core, "jobs", 0, "d") == 4);
    assert (s_test_submit (core, "jobs", 5, "e") == 5);
    zg_qworker_t *worker = s_test_worker (core, 2, sent, sizeof sent);
    assert (streq (sent, "DELIVER w 3;DELIVER w 5;"));
    zmq_msg_t reply;
    zmq_msg_init_data (&reply, (void *) "done", 4, NULL, NULL);
    zg_qcore_ack (core, zg_qcore_held (core, worker, 3), &reply);
    zmq_msg_close (&reply);
    zg_qoutbox_text (zg_qcore_outbox (core), sent, sizeof sent);
    assert (streq (sent, "REPLY r 3;DELIVER w 1;"));
    assert (zg_qdurable_commit (durable) == 0);
    //  Not committed: lost at the restart, as a crash would lose it
    assert (s_test_submit (core, "jobs", 0, "x") == 6);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *done = zg_qcore_task (core, 3);
    assert (done && done->state == ZG_TASK_DONE && zmq_msg_size (&done->result) == 4);
    assert (zg_qcore_task (core, 6) == NULL);
    zg_task_t *taken = zg_qcore_task (core, 5);
    assert (taken->state == ZG_TASK_WAITING && taken->attempt == 1);
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 4);
    //  Id 6 was never committed (nor answered): it is issued again
    assert (s_test_submit (core, "jobs", 0, "f") == 6);
    worker = s_test_worker (core, 10, sent, sizeof sent);
    assert (streq (sent, "DELIVER w 5;DELIVER w 1;DELIVER w 2;DELIVER w 4;DELIVER w 6;"));
    assert (zg_qcore_task (core, 5)->attempt == 2);
    assert (zg_qdurable_commit (durable) == 0);

    //  Tasks 5 and 1 were delivered twice (max-deliveries): at the restart
    //  they go to the dead letters, and stay there; the others wait again
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *dead = zg_qcore_task (core, 5);
    assert (dead->state == ZG_TASK_DEAD && streq (dead->queue->name, "jobs.dead"));
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 3);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, 5)->state == ZG_TASK_DEAD && zg_qcore_task (core, 1)->state == ZG_TASK_DEAD);
    assert (zg_qcore_queue (core, "jobs.dead", false)->waiting == 2);
    json_object *stats = zg_qdurable_stats (durable);
    assert (json_object_get_int64 (json_object_object_get (stats, "lost-passes")) == 0);
    json_object_put (stats);

    //  A full store refuses a new task with 507 and changes nothing
    char big [ZG_QSTORE_MIN_SIZE];
    memset (big, 'z', sizeof big - 1);
    big [sizeof big - 1] = 0;
    uint64_t last = 0, id;
    while ((id = s_test_submit (core, "big", 0, big)))
        last = id;
    assert (last > 0 && zg_qcore_task (core, last + 1) == NULL);
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, last) && zg_qcore_queue (core, "big", false)->waiting == last - 6);
    stats = zg_qdurable_stats (durable);
    assert (streq (json_object_get_string (json_object_object_get (stats, "store")), kind));
    assert (json_object_get_int64 (json_object_object_get (stats, "bytes")) > 0);
    json_object_put (stats);

    //  A waiting task's end of wait is a wall clock time: after a restart
    //  it expires when it would have, into the dead letters, and its new
    //  end of wait there is kept too
    zg_qoptions_t brief = { .timeout = 100000, .ack_timeout = 500, .ttl = 30000 };
    char brief_text [ZG_TASKS_ID_SIZE + 1];
    assert (zg_qtest_submit (core, "brief", false, &brief, brief_text) == 0);
    uint64_t brief_id = strtoull (brief_text, NULL, 10);
    int64_t ends = zg_qcore_task (core, brief_id)->ttl_expires;
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, brief_id)->ttl_expires == ends);
    int64_t next = zg_qcore_next_deadline (core);
    assert (next > zclock_mono () + 25000 && next <= zclock_mono () + 30000);
    zg_qcore_set_clock (core, next, ends);
    zg_qcore_expire (core);
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *expired = zg_qcore_task (core, brief_id);
    assert (expired->state == ZG_TASK_DEAD && streq (expired->queue->name, "brief.dead"));
    assert (expired->ttl_expires == ends + 30000);
    zg_qcore_destroy (&core);
    zg_qdurable_destroy (&durable);
    assert (durable == NULL);

    //  The store of the other kind is refused: its tasks would look lost
    char error [256];
    const char *other = streq (kind, ZG_QDURABLE_LOG)? ZG_QDURABLE_LMDB: ZG_QDURABLE_LOG;
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    assert (zg_qdurable_new (dir, other, &options, error, sizeof error) == NULL);
    assert (strstr (error, "holds a store of the other kind"));
    s_test_remove (dir);
}

void
zg_qdurable_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qdurable: ");
    s_test_store (ZG_QDURABLE_LOG);
    s_test_store (ZG_QDURABLE_LMDB);
    printf ("OK\n");
}
