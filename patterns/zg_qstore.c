/*  =========================================================================
    zg_qstore - durable task records of the queues actor, in LMDB

    See zg_qstore.h for the model and the layout. What LMDB guarantees, and
    the self test checks: a commit writes and syncs its data pages, then
    writes and syncs one of the two meta pages (they alternate), and an open
    takes the meta page with the higher transaction id. So a crash at any
    point of a commit leaves the previous commit readable: pages past it
    (a torn tail) are never referenced, and a meta page is written with one
    small write, inside one disk sector. LMDB 0.9 keeps no checksums: a meta
    page overwritten with garbage makes the open fail (MDB_INVALID), it does
    not fall back to the other one; we report it as a damaged store.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tasks.h"
#include "zg_dirlock.h"
#include "zg_qstore.h"
#include <lmdb.h>
#include <sys/resource.h>
#include <sys/wait.h>

//  Longest error text
#define ZG_QSTORE_ERROR_SIZE 512
//  A new task is refused once the store's pages would fill all but 1/this
//  of data-max-size: the rest is kept for the changes of stored tasks, so
//  that a full store can still record acks and deletions (LMDB copies every
//  page it changes)
#define ZG_QSTORE_RESERVE 8
//  Bytes a task's three keys cost in LMDB's pages, at most
#define ZG_QSTORE_KEY_COST 75

struct _zg_qstore_t {
    char *dir;                      //  The data directory
    zg_dirlock_t *lock;             //  The directory, ours while open
    MDB_env *env;                   //  The LMDB environment
    MDB_dbi meta;                   //  "meta": format and next id
    MDB_dbi tasks;                  //  "tasks": records by [id][part]
    MDB_txn *txn;                   //  The current pass, or NULL
    size_t pending;                 //  Changes in the current pass
    bool lost;                      //  A change of this pass failed: the pass is lost
    uint64_t next_id;               //  Next id, with the pass's changes
    uint64_t committed_id;          //  Next id as of the last commit
    int64_t max_size;               //  Map size, bytes
    size_t page_size;               //  LMDB page size, bytes
    char error [ZG_QSTORE_ERROR_SIZE];  //  Last error
};

//  --------------------------------------------------------------------------
//  The one line that describes an LMDB or system error code

static const char *
s_describe (zg_qstore_t *self, int rc, char *text, size_t size)
{
    if (rc == MDB_MAP_FULL)
        snprintf (text, size, "store full (queues/data-max-size %" PRId64 " bytes)", self->max_size);
    else
    if (rc == ENOSPC || rc == EFBIG || rc == EDQUOT)
        snprintf (text, size, "disk full (%s)", strerror (rc));
    else
    if (rc == EIO)
        //  LMDB reports a short write, which is how a disk fills up, as EIO
        snprintf (text, size, "I/O error or disk full");
    else
    if (rc == MDB_PANIC)
        snprintf (text, size, "store unusable after an earlier I/O error, restart zgate");
    else
    if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
        snprintf (text, size, "store damaged or not an LMDB store (%s)", mdb_strerror (rc));
    else
        snprintf (text, size, "%s", mdb_strerror (rc));
    return text;
}

//  --------------------------------------------------------------------------
//  Set the error: "data-dir 'dir': what: description of rc"

static void
s_set_error (zg_qstore_t *self, int rc, const char *what)
{
    char text [256];
    snprintf (self->error, sizeof self->error, "data-dir '%s': %s: %s", self->dir, what,
              s_describe (self, rc, text, sizeof text));
}

//  --------------------------------------------------------------------------
//  A change failed: the pass is lost, the store stays at the last commit.
//  Returns -1.

static int
s_lose_pass (zg_qstore_t *self, int rc, const char *what)
{
    s_set_error (self, rc, what);
    if (self->txn)
        mdb_txn_abort (self->txn);
    self->txn = NULL;
    self->lost = true;
    self->next_id = self->committed_id;
    return -1;
}

//  --------------------------------------------------------------------------
//  Join the current pass, opening it if needed. Returns 0, or -1 if the
//  pass is lost already or cannot be opened.

static int
s_begin (zg_qstore_t *self)
{
    if (self->lost)
        return -1;              //  The error says how it was lost
    if (self->txn)
        return 0;
    int rc = mdb_txn_begin (self->env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        return s_lose_pass (self, rc, "cannot start a write transaction");
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Key of one part of a task's records

static MDB_val
s_key (byte *buffer, uint64_t id, int part)
{
    zg_qrecord_key (buffer, id, part);
    return (MDB_val) { ZG_QRECORD_KEY_SIZE, buffer };
}

//  --------------------------------------------------------------------------
//  Put one part of a task in the pass; an empty part is deleted instead, so
//  a part is present exactly when it has bytes. Returns 0 or -1 (pass lost)

static int
s_put_part (zg_qstore_t *self, uint64_t id, int part, const void *data, size_t size)
{
    byte buffer [ZG_QRECORD_KEY_SIZE];
    MDB_val key = s_key (buffer, id, part);
    int rc;
    if (size == 0) {
        rc = mdb_del (self->txn, self->tasks, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    else {
        MDB_val value = { size, (void *) data };
        rc = mdb_put (self->txn, self->tasks, &key, &value, 0);
    }
    if (rc) {
        char what [64];
        snprintf (what, sizeof what, "cannot store task %" PRIu64, id);
        return s_lose_pass (self, rc, what);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Read a task's header in the pass into record, its queue name copied to
//  queue (256 bytes). Returns 0, or -1 if the task is not in the store
//  (the pass goes on) or cannot be read (the pass is lost).

static int
s_get_header (zg_qstore_t *self, uint64_t id, zg_qrecord_t *record, char *queue)
{
    if (s_begin (self))
        return -1;
    byte buffer [ZG_QRECORD_KEY_SIZE];
    MDB_val key = s_key (buffer, id, ZG_QRECORD_HEADER);
    MDB_val value;
    int rc = mdb_get (self->txn, self->tasks, &key, &value);
    if (rc == MDB_NOTFOUND) {
        snprintf (self->error, sizeof self->error, "data-dir '%s': task %" PRIu64 " is not in the store",
                  self->dir, id);
        return -1;
    }
    if (rc == 0 && zg_qrecord_decode (record, (const byte *) value.mv_data, value.mv_size))
        rc = MDB_CORRUPTED;
    if (rc)
        return s_lose_pass (self, rc, "cannot read a task");
    //  The name points into the map, which the next put may change
    memcpy (queue, record->queue, record->queue_size);
    record->queue = queue;
    record->id = id;
    return 0;
}

//  --------------------------------------------------------------------------
//  Write a task's header back in the pass. Returns 0 or -1 (pass lost)

static int
s_put_header (zg_qstore_t *self, const zg_qrecord_t *record)
{
    byte header [ZG_QRECORD_HEADER_MAX];
    size_t size = zg_qrecord_encode (record, header);
    if (s_put_part (self, record->id, ZG_QRECORD_HEADER, header, size))
        return -1;
    self->pending++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Read or initialise the meta database; returns 0 or -1 with the error set

static int
s_open_meta (zg_qstore_t *self)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "tasks", MDB_CREATE, &self->tasks);
    MDB_val format_key = { 6, "format" }, id_key = { 7, "next-id" };
    MDB_val format, next_id;
    if (rc == 0)
        rc = mdb_get (txn, self->meta, &format_key, &format);
    if (rc == MDB_NOTFOUND) {
        byte version = ZG_QSTORE_FORMAT, first [8];
        zg_qrecord_put_uint (first, 1, 8);
        format = (MDB_val) { 1, &version };
        next_id = (MDB_val) { 8, first };
        rc = mdb_put (txn, self->meta, &format_key, &format, 0);
        if (rc == 0)
            rc = mdb_put (txn, self->meta, &id_key, &next_id, 0);
        if (rc == 0)
            rc = mdb_get (txn, self->meta, &format_key, &format);
    }
    if (rc == 0)
        rc = mdb_get (txn, self->meta, &id_key, &next_id);
    if (rc == 0 && (format.mv_size != 1 || next_id.mv_size != 8))
        rc = MDB_CORRUPTED;
    if (rc == 0 && *(byte *) format.mv_data != ZG_QSTORE_FORMAT) {
        snprintf (self->error, sizeof self->error, "data-dir '%s': store format %d, this zgate reads %d",
                  self->dir, *(byte *) format.mv_data, ZG_QSTORE_FORMAT);
        mdb_txn_abort (txn);
        return -1;
    }
    if (rc == 0)
        self->next_id = self->committed_id = zg_qrecord_get_uint ((const byte *) next_id.mv_data, 8);
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
    if (txn)
        mdb_txn_abort (txn);
    if (rc)
        s_set_error (self, rc, "cannot open");
    return rc? -1: 0;
}

//  --------------------------------------------------------------------------
//  Open the store in a directory

zg_qstore_t *
zg_qstore_open (const char *dir, const zg_qstore_options_t *options, char *error, size_t size)
{
    assert (dir && options && error);
    zg_qstore_t *self = (zg_qstore_t *) zmalloc (sizeof (zg_qstore_t));
    assert (self);
    self->dir = strdup (dir);
    //  LMDB wants a whole number of pages
    int64_t page = (int64_t) sysconf (_SC_PAGESIZE);
    self->max_size = (options->max_size + page - 1) / page * page;
    int rc = 0;
    if (options->max_size < ZG_QSTORE_MIN_SIZE)
        snprintf (self->error, sizeof self->error, "data-max-size %" PRId64 " is below %d bytes",
                  options->max_size, ZG_QSTORE_MIN_SIZE);
    else
    if (*dir == 0 || zsys_dir_create ("%s", dir))
        snprintf (self->error, sizeof self->error, "data-dir '%s': cannot create the directory: %s", dir,
                  strerror (errno));
    else
    if ((self->lock = zg_dirlock_new (dir, self->error, sizeof self->error))) {
        rc = mdb_env_create (&self->env);
        if (rc == 0)
            rc = mdb_env_set_maxdbs (self->env, 2);
        if (rc == 0)
            rc = mdb_env_set_mapsize (self->env, (size_t) self->max_size);
        if (rc == 0)
            rc = mdb_env_open (self->env, dir, 0, 0644);
        MDB_stat stat;
        if (rc == 0)
            rc = mdb_env_stat (self->env, &stat);
        self->page_size = rc? 0: stat.ms_psize;
        if (rc)
            s_set_error (self, rc, "cannot open");
        else
        if (s_open_meta (self) == 0) {
            *self->error = 0;
            return self;
        }
    }
    snprintf (error, size, "%s", self->error);
    zg_qstore_destroy (&self);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Close the store

void
zg_qstore_destroy (zg_qstore_t **self_p)
{
    assert (self_p);
    zg_qstore_t *self = *self_p;
    if (!self)
        return;
    if (self->txn)
        mdb_txn_abort (self->txn);
    if (self->env)
        mdb_env_close (self->env);
    zg_dirlock_destroy (&self->lock);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Every record in id order: a header, then its payload and result if any

int
zg_qstore_load (zg_qstore_t *self, zg_qstore_load_fn *fn, void *arg)
{
    assert (self && fn);
    assert (!self->txn && !self->lost);
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        rc = mdb_cursor_open (txn, self->tasks, &cursor);
    if (rc) {
        s_set_error (self, rc, "cannot read");
        if (txn)
            mdb_txn_abort (txn);
        return -1;
    }
    zg_qrecord_t record = { 0 };
    bool have = false;
    int result = 0;
    MDB_val key, value;
    MDB_cursor_op op = MDB_FIRST;
    while (result == 0 && (rc = mdb_cursor_get (cursor, &key, &value, op)) == 0) {
        op = MDB_NEXT;
        uint64_t id = 0;
        int part = zg_qrecord_part ((const byte *) key.mv_data, key.mv_size, &id);
        if (part == ZG_QRECORD_HEADER) {
            if (have && (result = fn (&record, arg)))
                break;
            record = (zg_qrecord_t) { .id = id };
            have = true;
            if (zg_qrecord_decode (&record, (const byte *) value.mv_data, value.mv_size)) {
                snprintf (self->error, sizeof self->error, "data-dir '%s': task %" PRIu64 " has a header of "
                          "version %d or is damaged, this zgate reads version %d", self->dir, id,
                          value.mv_size? *(const byte *) value.mv_data: 0, ZG_QRECORD_VERSION);
                result = -1;
            }
        }
        else
        if (have && id == record.id && part == ZG_QRECORD_PAYLOAD) {
            record.payload = value.mv_data;
            record.payload_size = value.mv_size;
        }
        else
        if (have && id == record.id && part == ZG_QRECORD_RESULT) {
            record.result = value.mv_data;
            record.result_size = value.mv_size;
        }
        else {
            snprintf (self->error, sizeof self->error, "data-dir '%s': damaged record (task %" PRIu64
                      " part %d without a header)", self->dir, id, part);
            result = -1;
        }
    }
    if (result == 0 && rc != MDB_NOTFOUND) {
        s_set_error (self, rc, "cannot read");
        result = -1;
    }
    if (result == 0 && have)
        result = fn (&record, arg);
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return result;
}

//  --------------------------------------------------------------------------
//  The next id to issue

uint64_t
zg_qstore_next_id (zg_qstore_t *self)
{
    assert (self);
    return self->next_id;
}

//  --------------------------------------------------------------------------
//  Bytes of the pages the pass's databases use: the free pages in the file
//  do not count, they are reused

static int64_t
s_used (zg_qstore_t *self)
{
    //  The free-page list and the main database have handles 0 and 1
    MDB_dbi dbis [] = { 0, 1, self->meta, self->tasks };
    size_t pages = 2;           //  The meta pages
    for (size_t index = 0; index < 4; index++) {
        MDB_stat stat;
        if (mdb_stat (self->txn, dbis [index], &stat) == 0)
            pages += stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages;
    }
    return (int64_t) (pages * self->page_size);
}

//  --------------------------------------------------------------------------
//  Store a new task

int
zg_qstore_put (zg_qstore_t *self, const zg_qrecord_t *record)
{
    assert (self && record);
    assert (record->id > 0 && record->queue_size > 0 && record->queue_size <= 255);
    assert (record->state <= ZG_TASK_DEAD);
    if (s_begin (self))
        return -1;
    int64_t needed = ZG_QRECORD_HEADER_MAX + ZG_QSTORE_KEY_COST
                   + (int64_t) (record->payload_size + record->result_size);
    if (s_used (self) + needed > self->max_size - self->max_size / ZG_QSTORE_RESERVE) {
        s_set_error (self, MDB_MAP_FULL, "no room for a new task");
        return -1;
    }
    if (s_put_header (self, record)
    ||  s_put_part (self, record->id, ZG_QRECORD_PAYLOAD, record->payload, record->payload_size)
    ||  s_put_part (self, record->id, ZG_QRECORD_RESULT, record->result, record->result_size))
        return -1;
    if (record->id >= self->next_id)
        self->next_id = record->id + 1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Mark an id issued

int
zg_qstore_use_id (zg_qstore_t *self, uint64_t id)
{
    assert (self);
    if (s_begin (self))
        return -1;
    self->pending++;
    if (id >= self->next_id)
        self->next_id = id + 1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Change a task's header: the state, and each other field of change that
//  is set (attempt with started, queue with expires, finished with expires)

static int
s_update (zg_qstore_t *self, uint64_t id, const zg_qrecord_t *change)
{
    zg_qrecord_t record;
    char queue [256];
    if (s_get_header (self, id, &record, queue))
        return -1;
    record.state = change->state;
    if (change->attempt) {
        record.attempt = change->attempt;
        record.started = change->started;
    }
    if (change->queue) {
        record.queue = change->queue;
        record.queue_size = change->queue_size;
        record.expires = change->expires;
    }
    if (change->finished) {
        record.finished = change->finished;
        record.expires = change->expires;
    }
    return s_put_header (self, &record);
}

//  --------------------------------------------------------------------------
//  A task was delivered

int
zg_qstore_deliver (zg_qstore_t *self, uint64_t id, uint32_t attempt, int64_t started)
{
    assert (self && attempt > 0);
    zg_qrecord_t change = { .state = ZG_TASK_IN_PROGRESS, .attempt = attempt, .started = started };
    return s_update (self, id, &change);
}

//  --------------------------------------------------------------------------
//  A task was taken back

int
zg_qstore_requeue (zg_qstore_t *self, uint64_t id)
{
    assert (self);
    zg_qrecord_t change = { .state = ZG_TASK_WAITING };
    return s_update (self, id, &change);
}

//  --------------------------------------------------------------------------
//  A task went to a dead-letter queue

int
zg_qstore_dead_letter (zg_qstore_t *self, uint64_t id, const char *queue, size_t queue_size, int64_t expires)
{
    assert (self && queue && queue_size > 0 && queue_size <= 255);
    zg_qrecord_t change = { .state = ZG_TASK_DEAD, .queue = queue, .queue_size = queue_size, .expires = expires };
    return s_update (self, id, &change);
}

//  --------------------------------------------------------------------------
//  A task finished

int
zg_qstore_finish (zg_qstore_t *self, uint64_t id, uint8_t state, int64_t finished, int64_t expires,
                  const void *result, size_t result_size, bool keep_input)
{
    assert (self && finished > 0);
    assert (state == ZG_TASK_DONE || state == ZG_TASK_FAILED || state == ZG_TASK_DEAD);
    zg_qrecord_t change = { .state = state, .finished = finished, .expires = expires };
    if (s_update (self, id, &change)
    ||  (!keep_input && s_put_part (self, id, ZG_QRECORD_PAYLOAD, NULL, 0))
    ||  s_put_part (self, id, ZG_QRECORD_RESULT, result, result_size))
        return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Forget a task

int
zg_qstore_delete (zg_qstore_t *self, uint64_t id)
{
    assert (self);
    zg_qrecord_t record;
    char queue [256];
    if (s_get_header (self, id, &record, queue))
        return -1;
    for (int part = ZG_QRECORD_HEADER; part <= ZG_QRECORD_RESULT; part++)
        if (s_put_part (self, id, part, NULL, 0))
            return -1;
    self->pending++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Changes in the current pass

size_t
zg_qstore_pending (zg_qstore_t *self)
{
    assert (self);
    return self->txn? self->pending: 0;
}

//  --------------------------------------------------------------------------
//  End the pass

int
zg_qstore_commit (zg_qstore_t *self)
{
    assert (self);
    self->pending = 0;
    if (self->lost) {
        self->lost = false;
        return -1;
    }
    if (!self->txn)
        return 0;
    int rc = 0;
    if (self->next_id != self->committed_id) {
        byte next [8];
        zg_qrecord_put_uint (next, self->next_id, 8);
        MDB_val key = { 7, "next-id" }, value = { 8, next };
        rc = mdb_put (self->txn, self->meta, &key, &value, 0);
    }
    if (rc == 0) {
        rc = mdb_txn_commit (self->txn);
        self->txn = NULL;       //  Freed by LMDB, committed or not
    }
    if (rc) {
        s_lose_pass (self, rc, "cannot commit");
        self->lost = false;
        return -1;
    }
    self->committed_id = self->next_id;
    return 0;
}

//  --------------------------------------------------------------------------
//  The last error

const char *
zg_qstore_error (zg_qstore_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  What the test keeps of a loaded record
typedef struct {
    uint64_t id;
    uint8_t state;
    uint8_t flags;
    uint8_t priority;
    uint32_t attempt;
    int64_t started;
    int64_t expires;
    uint32_t ack_timeout;
    char queue [256];
    char payload [128];
    char result [128];
} s_test_record_t;

//  Records loaded by the test
typedef struct {
    s_test_record_t records [64];
    size_t count;                   //  All records seen (only 64 are kept)
    int stop_after;                 //  Return 7 after this many, if not 0
} s_test_loaded_t;

static int
s_test_collect (const zg_qrecord_t *record, void *arg)
{
    s_test_loaded_t *loaded = (s_test_loaded_t *) arg;
    if (loaded->count < 64) {
        s_test_record_t *kept = &loaded->records [loaded->count];
        *kept = (s_test_record_t) {
            record->id, record->state, record->flags, record->priority, record->attempt, record->started,
            record->expires, record->ack_timeout, "", "", ""
        };
        memcpy (kept->queue, record->queue, record->queue_size);
        snprintf (kept->payload, sizeof kept->payload, "%.*s", (int) record->payload_size,
                  record->payload? (const char *) record->payload: "");
        snprintf (kept->result, sizeof kept->result, "%.*s", (int) record->result_size,
                  record->result? (const char *) record->result: "");
    }
    loaded->count++;
    return loaded->stop_after && (int) loaded->count == loaded->stop_after? 7: 0;
}

//  Load every record of a store
static void
s_test_load (zg_qstore_t *self, s_test_loaded_t *loaded)
{
    memset (loaded, 0, sizeof *loaded);
    int rc = zg_qstore_load (self, s_test_collect, loaded);
    assert (rc == 0);
}

//  A queue task with a payload
static zg_qrecord_t
s_test_task (uint64_t id, const char *queue, const char *payload)
{
    return (zg_qrecord_t) {
        .id = id, .queue = queue, .queue_size = strlen (queue), .state = ZG_TASK_WAITING,
        .created = 1000 + (int64_t) id, .ack_timeout = 30000, .reply_timeout = 5000,
        .payload = payload, .payload_size = strlen (payload)
    };
}

//  Open a store that must open
static zg_qstore_t *
s_test_open (const char *dir, int64_t max_size)
{
    zg_qstore_options_t options = { max_size, false };
    char error [256];
    zg_qstore_t *self = zg_qstore_open (dir, &options, error, sizeof error);
    if (!self)
        zsys_error ("zg_qstore: %s", error);
    assert (self);
    return self;
}

//  Put tasks first .. last with payloads of size bytes in one pass
static int
s_test_put_pass (zg_qstore_t *self, uint64_t first, uint64_t last, size_t size)
{
    char payload [1024];
    assert (size < sizeof payload);
    memset (payload, 'p', size);
    payload [size] = 0;
    for (uint64_t id = first; id <= last; id++) {
        zg_qrecord_t record = s_test_task (id, "bulk", payload);
        if (zg_qstore_put (self, &record))
            return -1;
    }
    return zg_qstore_commit (self);
}

//  Run a test in a child process; returns whether it passed
static bool
s_test_in_child (bool (*test) (const char *dir), const char *dir)
{
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0)
        _exit (test (dir)? 0: 1);
    int status;
    assert (waitpid (child, &status, 0) == child);
    return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

//  Whether opening the store is refused as in use
static bool
s_test_refused (const char *dir)
{
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    char error [256];
    zg_qstore_t *other = zg_qstore_open (dir, &options, error, sizeof error);
    return !other && strstr (error, "in use by another zgate");
}

//  Limited to the data file's current size (as if the disk were full), a
//  pass that grows the file fails at commit: whether it did. LMDB turns the
//  short write into EIO.
static bool
s_test_disk_full (const char *dir)
{
    zg_qstore_t *self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    struct stat info;
    assert (stat (path, &info) == 0);
    struct rlimit limit = { (rlim_t) info.st_size, (rlim_t) info.st_size };
    signal (SIGXFSZ, SIG_IGN);
    assert (setrlimit (RLIMIT_FSIZE, &limit) == 0);
    int rc = s_test_put_pass (self, 1000000, 1000999, 1000);
    return rc == -1 && strstr (zg_qstore_error (self), "cannot commit: I/O error or disk full");
}

//  Overwrite (or append, at offset -1) bytes of the data file
static void
s_test_write_data (const char *dir, off_t offset, const void *data, size_t size)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    int fd = open (path, O_WRONLY);
    assert (fd != -1);
    if (offset == -1)
        offset = lseek (fd, 0, SEEK_END);
    assert (pwrite (fd, data, size, offset) == (ssize_t) size);
    close (fd);
}


//  Round trip, reopen, ids, lock, lost passes
static void
s_test_records (const char *dir)
{
    zg_qstore_t *self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    assert (zg_qstore_next_id (self) == 1);
    assert (zg_qstore_pending (self) == 0);
    assert (zg_qstore_commit (self) == 0);

    //  One pass: three tasks
    zg_qrecord_t first = s_test_task (1, "jobs", "one");
    zg_qrecord_t second = s_test_task (2, "jobs", "two");
    second.flags = ZG_QRECORD_REPLY;
    zg_qrecord_t third = s_test_task (3, "resize", "800x600");
    third.flags = ZG_QRECORD_COMMAND;
    third.priority = 7;
    assert (zg_qstore_put (self, &first) == 0);
    assert (zg_qstore_put (self, &second) == 0);
    assert (zg_qstore_put (self, &third) == 0);
    assert (zg_qstore_pending (self) == 3);
    assert (zg_qstore_commit (self) == 0);
    assert (zg_qstore_pending (self) == 0);
    assert (zg_qstore_next_id (self) == 4);

    //  Another: deliver, finish, dead-letter, a task that comes and goes;
    //  an unknown id is refused without losing the pass
    assert (zg_qstore_deliver (self, 1, 1, 5000) == 0);
    assert (zg_qstore_deliver (self, 2, 1, 5001) == 0);
    assert (zg_qstore_finish (self, 2, ZG_TASK_DONE, 6000, 66000, "TWO", 3, false) == 0);
    assert (zg_qstore_deliver (self, 3, 5, 5002) == 0);
    assert (zg_qstore_requeue (self, 3) == 0);
    assert (zg_qstore_dead_letter (self, 3, "resize.dead", 11, 90000) == 0);
    zg_qrecord_t fourth = s_test_task (4, "jobs", "four");
    assert (zg_qstore_put (self, &fourth) == 0);
    assert (zg_qstore_delete (self, 4) == 0);
    assert (zg_qstore_deliver (self, 999, 1, 0) == -1);
    assert (strstr (zg_qstore_error (self), "task 999 is not in the store"));
    assert (zg_qstore_delete (self, 4) == -1);
    assert (zg_qstore_pending (self) == 8);
    assert (zg_qstore_commit (self) == 0);
    assert (zg_qstore_use_id (self, 10) == 0);
    assert (zg_qstore_use_id (self, 7) == 0);
    assert (zg_qstore_commit (self) == 0);
    assert (zg_qstore_next_id (self) == 11);

    //  A second store on the same directory, here or in another process,
    //  is refused
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    char error [256];
    assert (zg_qstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, "in use by another zgate"));
    assert (s_test_in_child (s_test_refused, dir));

    //  A pass never committed is not stored
    zg_qrecord_t twelfth = s_test_task (12, "jobs", "twelve");
    assert (zg_qstore_put (self, &twelfth) == 0);
    assert (zg_qstore_next_id (self) == 13);
    zg_qstore_destroy (&self);
    zg_qstore_destroy (&self);

    //  Reopen: everything committed is back, in id order
    self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    assert (zg_qstore_next_id (self) == 11);
    s_test_loaded_t loaded;
    s_test_load (self, &loaded);
    assert (loaded.count == 3);
    s_test_record_t *record = loaded.records;
    assert (record [0].id == 1 && record [0].state == ZG_TASK_IN_PROGRESS && record [0].attempt == 1);
    assert (record [0].started == 5000 && record [0].ack_timeout == 30000);
    assert (streq (record [0].queue, "jobs") && streq (record [0].payload, "one") && streq (record [0].result, ""));
    assert (record [1].id == 2 && record [1].state == ZG_TASK_DONE && record [1].expires == 66000);
    assert (record [1].flags == ZG_QRECORD_REPLY);
    assert (streq (record [1].payload, "") && streq (record [1].result, "TWO"));
    assert (record [2].id == 3 && record [2].state == ZG_TASK_DEAD && record [2].attempt == 5);
    assert (record [2].flags == ZG_QRECORD_COMMAND && record [2].priority == 7);
    assert (record [2].expires == 90000 && streq (record [2].queue, "resize.dead"));
    assert (streq (record [2].payload, "800x600"));

    //  A callback can stop the load
    memset (&loaded, 0, sizeof loaded);
    loaded.stop_after = 2;
    assert (zg_qstore_load (self, s_test_collect, &loaded) == 7);
    assert (loaded.count == 2);

    //  A header of a format this build does not read fails the load
    byte key_bytes [ZG_QRECORD_KEY_SIZE], future [ZG_QRECORD_HEADER_SIZE + 1] = { ZG_QRECORD_VERSION + 1 };
    MDB_val key = s_key (key_bytes, 20, ZG_QRECORD_HEADER), value = { sizeof future, future };
    assert (s_begin (self) == 0);
    assert (mdb_put (self->txn, self->tasks, &key, &value, 0) == 0);
    assert (zg_qstore_commit (self) == 0);
    memset (&loaded, 0, sizeof loaded);
    assert (zg_qstore_load (self, s_test_collect, &loaded) == -1);
    assert (strstr (zg_qstore_error (self), "task 20 has a header of version 3"));
    zg_qstore_destroy (&self);
}

//  A full store refuses new tasks but keeps room for the changes of the
//  stored ones; a change that does not fit at all loses its pass and keeps
//  the previous commit; so does a full disk
static void
s_test_full (const char *dir)
{
    zg_qstore_t *self = s_test_open (dir, 1048576);
    uint64_t stored = 0;
    while (s_test_put_pass (self, stored + 1, stored + 10, 100) == 0)
        stored += 10;
    //  The pass that did not fit keeps the tasks put before the refusal
    assert (strstr (zg_qstore_error (self), "no room for a new task: store full (queues/data-max-size 1048576"));
    stored += zg_qstore_pending (self);
    assert (zg_qstore_commit (self) == 0);
    assert (stored > 1000 && zg_qstore_next_id (self) == stored + 1);

    //  Acks and deletions still fit, in passes that touch less than the
    //  reserve, and make room
    for (uint64_t id = 1; id <= stored; id++) {
        assert (zg_qstore_finish (self, id, ZG_TASK_DONE, 1, 2, "result", 6, false) == 0);
        assert (id % 100 || zg_qstore_commit (self) == 0);
    }
    assert (zg_qstore_commit (self) == 0);
    for (uint64_t id = 1; id <= stored; id++) {
        assert (zg_qstore_delete (self, id) == 0);
        assert (id % 100 || zg_qstore_commit (self) == 0);
    }
    assert (zg_qstore_commit (self) == 0);
    assert (s_test_put_pass (self, stored + 1, stored + 10, 100) == 0);
    stored += 10;

    //  A result larger than the store loses its pass: every later change
    //  of the pass fails, the commit reports it, the next pass is new
    size_t size = 1048576;
    char *large = (char *) zmalloc (size);
    assert (zg_qstore_requeue (self, stored) == 0);
    assert (zg_qstore_finish (self, stored, ZG_TASK_DONE, 1, 2, large, size, false) == -1);
    free (large);
    assert (strstr (zg_qstore_error (self), "store full"));
    assert (zg_qstore_requeue (self, stored) == -1);
    assert (zg_qstore_pending (self) == 0);
    assert (zg_qstore_commit (self) == -1);
    assert (zg_qstore_commit (self) == 0);
    zg_qstore_destroy (&self);

    self = s_test_open (dir, 1048576);
    s_test_loaded_t loaded;
    s_test_load (self, &loaded);
    assert (loaded.count == 10 && loaded.records [9].id == stored);
    assert (loaded.records [9].state == ZG_TASK_WAITING && streq (loaded.records [9].result, ""));
    assert (zg_qstore_next_id (self) == stored + 1);
    zg_qstore_destroy (&self);

    assert (s_test_in_child (s_test_disk_full, dir));
    self = s_test_open (dir, 1048576);
    s_test_load (self, &loaded);
    assert (loaded.count == 10);
    assert (zg_qstore_next_id (self) == stored + 1);
    zg_qstore_destroy (&self);

    zg_qstore_options_t options = { ZG_QSTORE_MIN_SIZE - 1, false };
    char error [256];
    assert (zg_qstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, "data-max-size 65535 is below 65536 bytes"));
    options.max_size = ZG_QSTORE_DEFAULT_SIZE;
    assert (zg_qstore_open ("/dev/null/store", &options, error, sizeof error) == NULL);
    assert (strstr (error, "cannot create the directory"));
}

//  A torn tail or a torn commit opens at the last good commit; a meta
//  page overwritten with garbage is reported as damage
static void
s_test_crash (const char *dir)
{
    zg_qstore_t *self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    assert (s_test_put_pass (self, 1, 5, 100) == 0);
    size_t page = self->page_size;
    MDB_envinfo info;
    assert (mdb_env_info (self->env, &info) == 0);
    zg_qstore_destroy (&self);

    //  Garbage past the last page, as a crash while extending the file
    //  leaves, or a file cut right after its last page: nothing lost
    char garbage [65536];
    memset (garbage, 0xA5, sizeof garbage);
    s_test_write_data (dir, -1, garbage, sizeof garbage);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/data.mdb", dir);
    s_test_loaded_t loaded;
    for (int cut = 0; cut < 2; cut++) {
        assert (!cut || truncate (path, (off_t) ((info.me_last_pgno + 1) * page)) == 0);
        self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
        s_test_load (self, &loaded);
        assert (loaded.count == 5);
        zg_qstore_destroy (&self);
    }

    //  A commit whose data pages were written but not its meta page: keep
    //  the meta pages of the last commit, make another, put them back
    byte *metas = (byte *) zmalloc (2 * page);
    int fd = open (path, O_RDONLY);
    assert (fd != -1 && pread (fd, metas, 2 * page, 0) == (ssize_t) (2 * page));
    close (fd);
    self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    assert (zg_qstore_delete (self, 1) == 0);
    assert (s_test_put_pass (self, 6, 9, 100) == 0);
    s_test_load (self, &loaded);
    assert (loaded.count == 8);
    zg_qstore_destroy (&self);
    s_test_write_data (dir, 0, metas, 2 * page);
    free (metas);
    self = s_test_open (dir, ZG_QSTORE_DEFAULT_SIZE);
    s_test_load (self, &loaded);
    assert (loaded.count == 5 && loaded.records [0].id == 1 && loaded.records [4].id == 5);
    assert (zg_qstore_next_id (self) == 6);
    //  and goes on from there
    assert (s_test_put_pass (self, 6, 6, 100) == 0);
    zg_qstore_destroy (&self);

    //  A meta page of garbage
    s_test_write_data (dir, 0, garbage, 64);
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    char error [256];
    assert (zg_qstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, "store damaged"));
}

void
zg_qstore_test (bool verbose)
{
    printf (" * zg_qstore: ");
    void (*tests []) (const char *dir) = { s_test_records, s_test_full, s_test_crash };
    for (size_t index = 0; index < 3; index++) {
        char dir [] = "/tmp/zg_qstore_XXXXXX";
        assert (mkdtemp (dir));
        if (verbose)
            zsys_info ("zg_qstore: test %zu in %s", index, dir);
        tests [index] (dir);
        zdir_t *files = zdir_new (dir, NULL);
        zdir_remove (files, true);
        zdir_destroy (&files);
    }
    printf ("OK\n");
}
