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
#include "zg_taskq.h"
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
//  Every stored task, in id order

int
zg_qdurable_load (zg_qdurable_t *self, zg_qstore_load_fn *fn, void *arg)
{
    assert (self && fn);
    return S_STORE (self, load, fn, arg);
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

//  A message of these bytes
static void
s_fill_bytes (zmq_msg_t *msg, const void *bytes, size_t size)
{
    zmq_msg_close (msg);
    zmq_msg_init_size (msg, size);
    if (size)
        memcpy (zmq_msg_data (msg), bytes, size);
}

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
    task->until_read = (record->flags & ZG_QRECORD_UNTIL_READ) != 0;
    if (record->owner_size)
        task->owner = strndup (record->owner, record->owner_size);
    //  A finished task has its result, and its input if it was kept
    //  (queues/keep-input); a waiting one its input
    s_fill_bytes (&task->payload, record->payload, record->payload_size);
    if (record->finished)
        s_fill_bytes (&task->result, record->result, record->result_size);
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
        .flags = (uint8_t) ((queue->command? ZG_QRECORD_COMMAND: 0) | (task->wants_reply? ZG_QRECORD_REPLY: 0)
                          | (task->until_read? ZG_QRECORD_UNTIL_READ: 0)),
        .priority = task->priority,
        .created = task->created,
        .ack_timeout = (uint32_t) task->ack_timeout,
        .expires = task->ttl_expires,
        .owner = task->owner,
        .owner_size = task->owner? strlen (task->owner): 0,
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
    //  The core dropped its input unless queues/keep-input keeps it
    if (self && s_stored (task))
        S_STORE (self, finish, task->id, task->state, task->finished, expires,
                 zmq_msg_data ((zmq_msg_t *) &task->result), zmq_msg_size ((zmq_msg_t *) &task->result),
                 zmq_msg_size ((zmq_msg_t *) &task->payload) > 0);
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
//  Self test: the journal of tasks made by hand, read back from the store
//  (zg_qjournal's self test restores them into a core)

//  Appends each loaded record as "id:state:attempt:queue:payload:result",
//  then "@owner" if it has one and "!" if it is kept until read, and ";"
static int
s_test_collect (const zg_qrecord_t *record, void *arg)
{
    char *text = (char *) arg;
    size_t used = strlen (text);
    snprintf (text + used, 512 - used, "%" PRIu64 ":%d:%u:%.*s:%.*s:%.*s%s%.*s%s;", record->id, record->state,
              record->attempt, (int) record->queue_size, record->queue, (int) record->payload_size,
              record->payload? (const char *) record->payload: "", (int) record->result_size,
              record->result? (const char *) record->result: "", record->owner_size? "@": "",
              (int) record->owner_size, record->owner? record->owner: "",
              record->flags & ZG_QRECORD_UNTIL_READ? "!": "");
    return 0;
}

//  A waiting task in queue with this payload
static zg_task_t *
s_test_task (zg_tasks_t *tasks, zg_taskq_t *queue, const char *payload)
{
    zg_task_t *task = zg_tasks_create (tasks);
    task->queue = queue;
    task->created = 1;
    zmq_msg_init_size (&task->payload, strlen (payload));
    memcpy (zmq_msg_data (&task->payload), payload, strlen (payload));
    return task;
}

//  The journal's records with a store of this kind
static void
s_test_store (const char *kind)
{
    char dir [] = "/tmp/zg_qdurable_test_XXXXXX", error [256], text [512] = "";
    assert (mkdtemp (dir));
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    zg_qdurable_t *durable = zg_qdurable_new (dir, kind, &options, error, sizeof error);
    assert (durable);
    //  In memory (no journal) every call does nothing
    zg_tasks_t *tasks = zg_tasks_new ();
    zg_taskq_t *jobs = zg_taskq_new ("jobs", false, 1), *dead = zg_taskq_new ("jobs.dead", false, 1);
    zg_task_t *one = s_test_task (tasks, jobs, "a"), *two = s_test_task (tasks, jobs, "b");
    zg_task_t *three = s_test_task (tasks, jobs, "c"), *four = s_test_task (tasks, jobs, "d");
    assert (zg_qdurable_create (NULL, one) == 0);
    //  The producer's identity and until-read are kept too
    two->owner = strdup ("alice");
    two->until_read = true;
    //  Created, delivered, requeued, dead-lettered, finished, forgotten
    assert (zg_qdurable_create (durable, one) == 0 && zg_qdurable_create (durable, two) == 0);
    assert (zg_qdurable_create (durable, three) == 0 && zg_qdurable_create (durable, four) == 0);
    two->attempt = 1;
    two->started = 5;
    zg_qdurable_deliver (durable, two);
    zg_qdurable_requeue (durable, two);
    three->queue = dead;
    zg_qdurable_dead_letter (durable, three);
    //  A finished task's input goes, unless the core kept it (keep-input)
    one->state = four->state = ZG_TASK_DONE;
    one->finished = four->finished = 6;
    zmq_msg_init_size (&one->result, 2);
    memcpy (zmq_msg_data (&one->result), "ok", 2);
    zg_task_drop_input (one);
    zg_qdurable_finish (durable, one, 100);
    zmq_msg_copy (&four->result, &one->result);
    zg_qdurable_finish (durable, four, 100);
    assert (zg_qdurable_commit (durable) == 0);
    zg_qdurable_destroy (&durable);
    durable = zg_qdurable_new (dir, kind, &options, error, sizeof error);
    assert (zg_qdurable_load (durable, s_test_collect, text) == 0);
    assert (streq (text, "1:2:0:jobs::ok;2:0:1:jobs:b:@alice!;3:4:0:jobs.dead:c:;4:2:0:jobs:d:ok;"));
    assert (zg_qdurable_last_id (durable) == 4);
    json_object *stats = zg_qdurable_stats (durable);
    assert (streq (json_object_get_string (json_object_object_get (stats, "store")), kind));
    json_object_put (stats);
    zg_qdurable_forget (durable, one);
    assert (zg_qdurable_commit (durable) == 0);
    *text = 0;
    assert (zg_qdurable_load (durable, s_test_collect, text) == 0);
    assert (streq (text, "2:0:1:jobs:b:@alice!;3:4:0:jobs.dead:c:;4:2:0:jobs:d:ok;"));
    zg_qdurable_destroy (&durable);
    //  The store of the other kind is refused: its tasks would look lost
    const char *other = streq (kind, ZG_QDURABLE_LOG)? ZG_QDURABLE_LMDB: ZG_QDURABLE_LOG;
    assert (zg_qdurable_new (dir, other, &options, error, sizeof error) == NULL);
    assert (strstr (error, "holds a store of the other kind"));
    zg_tasks_destroy (&tasks);
    zg_taskq_destroy (&jobs);
    zg_taskq_destroy (&dead);
    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
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
