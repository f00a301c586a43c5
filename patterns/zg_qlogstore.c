/*  =========================================================================
    zg_qlogstore - durable task records of the queues actor, in a log

    See zg_qlogstore.h for the records and the model. Every change is
    encoded into the pass's transaction and then applied to the index by
    the same code that replays the file (s_apply), so what the index holds
    is what a restart would read.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tasks.h"
#include "zg_dirlock.h"
#include "zg_qlog.h"
#include "zg_qlogindex.h"
#include "zg_qlogcodec.h"
#include "zg_qlogcompact.h"
#include "zg_qlogstore.h"
#include <sys/resource.h>
#include <sys/wait.h>

#define ZG_QLOGSTORE_ERROR_SIZE 512
//  As zg_qstore: a new task is refused past all but 1/this of data-max-size,
//  leaving the rest for the records of stored tasks (deliveries, outcomes)
#define ZG_QLOGSTORE_RESERVE 8

struct _zg_qlogstore_t {
    char *dir;                      //  The data directory
    zg_dirlock_t *lock;             //  The directory, ours while open
    zg_qlog_t *log;                 //  The file
    zg_qlogindex_t *index;          //  The stored tasks
    uint64_t live;                  //  Bytes of the puts a compaction would write
    uint64_t next_id;               //  Next id, with the pass's changes
    size_t pending;                 //  Changes in the current pass
    int64_t max_size;               //  data-max-size
    uint64_t compact_bytes;         //  Dead bytes that start a compaction
    uint64_t compactions;           //  Compactions done
    uint64_t compaction_errors;     //  Compactions failed
    uint64_t retry_size;            //  After a failed compaction: file size to try again at
    zg_qlogcompact_t *compacting;   //  The compaction under way, or NULL
    uint64_t dropped;               //  Torn bytes cut off when opened
    bool repair;                    //  Opened repairing: records of lost tasks are skipped
    uint64_t orphans;               //  Records skipped so, when opened
    bool broken;                    //  The index could not be read back from the file
    char error [ZG_QLOGSTORE_ERROR_SIZE];
};

//  --------------------------------------------------------------------------
//  Apply one record to the index. Returns 0, or -1 with the error set if
//  it is damaged or names a task the store does not hold.

static int
s_apply_put (zg_qlogstore_t *self, zg_qlogreader_t *reader, uint64_t id)
{
    size_t header_size = (size_t) zg_qlogreader_uint (reader, 2);
    const byte *header = zg_qlogreader_take (reader, header_size);
    zg_qrecord_t record = { .id = id };
    if (!header || zg_qrecord_decode (&record, header, header_size))
        return -1;
    //  The owner's bytes stay in the file, as the payload's
    uint64_t owner_at = record.owner_size? reader->offset + (uint64_t) ((const byte *) record.owner - reader->start): 0;
    record.owner = NULL;
    uint64_t payload_at = zg_qlogreader_bytes (reader, &record.payload_size);
    uint64_t result_at = zg_qlogreader_bytes (reader, &record.result_size);
    if (reader->bad)
        return -1;
    zg_qlogentry_t *entry = zg_qlogindex_lookup (self->index, id);
    if (entry)
        self->live -= zg_qlogcodec_put_size (&entry->record);
    else
        entry = zg_qlogindex_insert (self->index, id);
    const char *queue = record.queue;
    record.queue = entry->record.queue;
    entry->record = record;
    zg_qlogindex_rename (self->index, entry, queue, record.queue_size);
    entry->payload_at = payload_at;
    entry->result_at = result_at;
    entry->owner_at = owner_at;
    self->live += zg_qlogcodec_put_size (&entry->record);
    if (id >= self->next_id)
        self->next_id = id + 1;
    return 0;
}

static int
s_apply_change (zg_qlogstore_t *self, zg_qlogreader_t *reader, int kind, zg_qlogentry_t *entry)
{
    zg_qrecord_t *record = &entry->record;
    self->live -= zg_qlogcodec_put_size (record);
    if (kind == ZG_QLOGSTORE_DELIVER) {
        record->state = ZG_TASK_IN_PROGRESS;
        record->attempt = (uint32_t) zg_qlogreader_uint (reader, 4);
        record->started = (int64_t) zg_qlogreader_uint (reader, 8);
    }
    else
    if (kind == ZG_QLOGSTORE_REQUEUE)
        record->state = ZG_TASK_WAITING;
    else
    if (kind == ZG_QLOGSTORE_DEAD) {
        record->expires = (int64_t) zg_qlogreader_uint (reader, 8);
        size_t size = (size_t) zg_qlogreader_uint (reader, 1);
        const byte *queue = zg_qlogreader_take (reader, size);
        if (queue && size) {
            record->state = ZG_TASK_DEAD;
            zg_qlogindex_rename (self->index, entry, queue, size);
        }
        else
            reader->bad = true;
    }
    else {
        record->state = (uint8_t) zg_qlogreader_uint (reader, 1);
        record->finished = (int64_t) zg_qlogreader_uint (reader, 8);
        record->expires = (int64_t) zg_qlogreader_uint (reader, 8);
        if (!zg_qlogreader_uint (reader, 1))
            record->payload_size = 0;       //  Else queues/keep-input keeps it
        entry->result_at = zg_qlogreader_bytes (reader, &record->result_size);
    }
    self->live += zg_qlogcodec_put_size (record);
    return reader->bad? -1: 0;
}

//  Repairing: a change of a task whose put was in skipped damage. Its
//  fields are passed over and counted.
static int
s_skip (zg_qlogstore_t *self, zg_qlogreader_t *reader, int kind)
{
    //  Bytes of each kind's fields before its sized part (DEAD, FINISH)
    static const size_t fixed [] = { 0, 0, 0, 12, 0, 8, 18, 0 };
    zg_qlogreader_take (reader, fixed [kind]);
    size_t size = 0;
    if (kind == ZG_QLOGSTORE_DEAD)
        zg_qlogreader_take (reader, (size_t) zg_qlogreader_uint (reader, 1));
    else
    if (kind == ZG_QLOGSTORE_FINISH)
        zg_qlogreader_bytes (reader, &size);
    self->orphans++;
    return reader->bad? -1: 0;
}

static int
s_apply (zg_qlogstore_t *self, zg_qlogreader_t *reader)
{
    int kind = (int) zg_qlogreader_uint (reader, 1);
    uint64_t id = zg_qlogreader_uint (reader, 8);
    zg_qlogentry_t *entry = id? zg_qlogindex_lookup (self->index, id): NULL;
    int rc = -1;
    if (reader->bad || id == 0)
        rc = -1;
    else
    if (kind == ZG_QLOGSTORE_PUT)
        rc = s_apply_put (self, reader, id);
    else
    if (kind == ZG_QLOGSTORE_USE) {
        if (id >= self->next_id)
            self->next_id = id + 1;
        rc = 0;
    }
    else
    if (kind == ZG_QLOGSTORE_DELETE && entry) {
        self->live -= zg_qlogcodec_put_size (&entry->record);
        zg_qlogindex_remove (self->index, id);
        rc = 0;
    }
    else
    if (kind >= ZG_QLOGSTORE_DELIVER && kind <= ZG_QLOGSTORE_FINISH && entry)
        rc = s_apply_change (self, reader, kind, entry);
    else
    if (kind >= ZG_QLOGSTORE_DELIVER && kind <= ZG_QLOGSTORE_DELETE && self->repair)
        rc = s_skip (self, reader, kind);
    if (rc)
        snprintf (self->error, sizeof self->error, "data-dir '%s': damaged record at byte %" PRIu64 " of "
                  ZG_QLOGSTORE_FILE " (kind %d, task %" PRIu64 ")", self->dir,
                  reader->offset + (uint64_t) (reader->at - reader->start), kind, id);
    return rc;
}

//  A transaction of the file: each of its records
static int
s_replay_one (const byte *body, size_t size, uint64_t offset, void *arg)
{
    zg_qlogstore_t *self = (zg_qlogstore_t *) arg;
    zg_qlogreader_t reader = { body, body + size, body, offset, false };
    while (reader.at < reader.end)
        if (s_apply (self, &reader))
            return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  The index from the file alone, as a restart builds it. Returns 0, or -1
//  with the error set.

static int
s_rebuild (zg_qlogstore_t *self)
{
    //  A compaction under way knows the entries that go
    zg_qlogcompact_destroy (&self->compacting);
    zg_qlogindex_purge (self->index);
    self->live = 0;
    self->next_id = 1;
    int rc = zg_qlog_replay (self->log, s_replay_one, self);
    if (rc == -1 && !*self->error)
        snprintf (self->error, sizeof self->error, "data-dir '%s': " ZG_QLOGSTORE_FILE ": %s", self->dir,
                  zg_qlog_error (self->log));
    return rc? -1: 0;
}

//  --------------------------------------------------------------------------
//  After a replay that skipped damage: say what was lost, and rewrite the
//  file without it (so the next start needs no repair). Returns 0, or -1
//  with the error set.

static int s_compact (zg_qlogstore_t *self);

static int
s_repaired (zg_qlogstore_t *self)
{
    uint64_t skipped = zg_qlog_skipped (self->log);
    if (skipped == 0 && self->orphans == 0)
        return 0;
    zsys_warning ("zg_qlogstore: data-dir '%s': repaired " ZG_QLOGSTORE_FILE ": %" PRIu64 " damaged bytes skipped "
                  "(their tasks and changes are lost), %" PRIu64 " later records of tasks lost with them skipped",
                  self->dir, skipped, self->orphans);
    return s_compact (self);
}

//  --------------------------------------------------------------------------
//  Open the store in a directory

zg_qlogstore_t *
zg_qlogstore_open (const char *dir, const zg_qstore_options_t *options, char *error, size_t size)
{
    assert (dir && options && error);
    zg_qlogstore_t *self = (zg_qlogstore_t *) zmalloc (sizeof (zg_qlogstore_t));
    assert (self);
    self->dir = strdup (dir);
    self->max_size = options->max_size;
    self->compact_bytes = (uint64_t) (options->max_size / 16 < ZG_QLOGSTORE_COMPACT_BYTES?
                                      options->max_size / 16: ZG_QLOGSTORE_COMPACT_BYTES);
    self->index = zg_qlogindex_new ();
    char path [PATH_MAX], reason [256];
    if (options->max_size < ZG_QSTORE_MIN_SIZE)
        snprintf (self->error, sizeof self->error, "data-max-size %" PRId64 " is below %d bytes",
                  options->max_size, ZG_QSTORE_MIN_SIZE);
    else
    if (*dir == 0 || zsys_dir_create ("%s", dir))
        snprintf (self->error, sizeof self->error, "data-dir '%s': cannot create the directory: %s", dir,
                  strerror (errno));
    else
    if ((self->lock = zg_dirlock_new (dir, self->error, sizeof self->error))) {
        //  A compaction that a crash interrupted: the old file is the store
        snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_NEW_FILE, dir);
        unlink (path);
        snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_FILE, dir);
        self->log = zg_qlog_open (path, reason, sizeof reason);
        self->repair = options->repair;
        if (!self->log)
            snprintf (self->error, sizeof self->error, "data-dir '%s': " ZG_QLOGSTORE_FILE ": %s", dir, reason);
        else
        if (zg_qlog_set_repair (self->log, self->repair), s_rebuild (self) == 0 && s_repaired (self) == 0) {
            zg_qlog_set_step (self->log, (uint64_t) (options->max_size / 16 < ZG_QLOGSTORE_ROOM_BYTES?
                                                     options->max_size / 16: ZG_QLOGSTORE_ROOM_BYTES));
            self->dropped = zg_qlog_dropped (self->log);
            *self->error = 0;
            return self;
        }
    }
    snprintf (error, size, "%s", self->error);
    zg_qlogstore_destroy (&self);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Close the store

void
zg_qlogstore_destroy (zg_qlogstore_t **self_p)
{
    assert (self_p);
    zg_qlogstore_t *self = *self_p;
    if (!self)
        return;
    zg_qlogcompact_destroy (&self->compacting);
    zg_qlog_destroy (&self->log);
    zg_qlogindex_destroy (&self->index);
    zg_dirlock_destroy (&self->lock);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Compaction threshold

void
zg_qlogstore_set_compact_bytes (zg_qlogstore_t *self, uint64_t bytes)
{
    assert (self);
    self->compact_bytes = bytes;
}

//  --------------------------------------------------------------------------
//  Every record in id order, with its payload and result read from the file

static int
s_by_id (const void *one, const void *two)
{
    uint64_t first = (*(zg_qlogentry_t * const *) one)->record.id, second = (*(zg_qlogentry_t * const *) two)->record.id;
    return first < second? -1: first > second;
}

int
zg_qlogstore_load (zg_qlogstore_t *self, zg_qstore_load_fn *fn, void *arg)
{
    assert (self && fn);
    assert (!self->pending);
    size_t count = zg_qlogindex_size (self->index);
    zg_qlogentry_t **entries = (zg_qlogentry_t **) malloc ((count + 1) * sizeof (zg_qlogentry_t *));
    assert (entries);
    size_t index = 0, cursor = 0;
    zg_qlogentry_t *entry;
    while ((entry = zg_qlogindex_next (self->index, &cursor)))
        entries [index++] = entry;
    qsort (entries, count, sizeof (zg_qlogentry_t *), s_by_id);
    zchunk_t *bytes = zchunk_new (NULL, 65536);
    int rc = 0;
    for (index = 0; index < count && rc == 0; index++) {
        entry = entries [index];
        zg_qrecord_t record = entry->record;
        size_t size = record.payload_size + record.result_size + record.owner_size;
        if (zchunk_max_size (bytes) < size)
            zchunk_resize (bytes, size);
        byte *data = zchunk_data (bytes);
        byte *owner = data + record.payload_size + record.result_size;
        if (zg_qlog_read (self->log, entry->payload_at, data, record.payload_size)
        ||  zg_qlog_read (self->log, entry->result_at, data + record.payload_size, record.result_size)
        ||  zg_qlog_read (self->log, entry->owner_at, owner, record.owner_size)) {
            snprintf (self->error, sizeof self->error, "data-dir '%s': " ZG_QLOGSTORE_FILE ": %s", self->dir,
                      zg_qlog_error (self->log));
            rc = -1;
            break;
        }
        record.payload = record.payload_size? data: NULL;
        record.result = record.result_size? data + record.payload_size: NULL;
        record.owner = record.owner_size? (const char *) owner: NULL;
        rc = fn (&record, arg);
    }
    zchunk_destroy (&bytes);
    free (entries);
    return rc;
}

//  --------------------------------------------------------------------------
//  The next id to issue

uint64_t
zg_qlogstore_next_id (zg_qlogstore_t *self)
{
    assert (self);
    return self->next_id;
}

//  --------------------------------------------------------------------------
//  Writing a record into the pass's transaction

//  Apply the record just written to the index: the pass's change
static int
s_change (zg_qlogstore_t *self, zg_qlogreader_t *reader)
{
    int rc = s_apply (self, reader);
    assert (rc == 0 && reader->at == reader->end);
    self->pending++;
    return rc;
}

//  --------------------------------------------------------------------------
//  Store a new task

int
zg_qlogstore_put (zg_qlogstore_t *self, const zg_qrecord_t *record)
{
    assert (self && record);
    assert (record->id > 0 && record->queue_size > 0 && record->queue_size <= 255);
    assert (record->state <= ZG_TASK_DEAD);
    assert (!record->payload_size || record->payload);
    assert (!record->result_size || record->result);
    uint64_t size = zg_qlog_size (self->log) + zg_qlog_pending (self->log) + zg_qlogcodec_put_size (record);
    if ((int64_t) size > self->max_size - self->max_size / ZG_QLOGSTORE_RESERVE) {
        snprintf (self->error, sizeof self->error, "data-dir '%s': no room for a new task: store full "
                  "(queues/data-max-size %" PRId64 " bytes)", self->dir, self->max_size);
        return -1;
    }
    zg_qlogreader_t reader;
    byte *payload, *result;
    zg_qlogcodec_put (self->log, record, &reader, &payload, &result);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  Mark an id issued

int
zg_qlogstore_use_id (zg_qlogstore_t *self, uint64_t id)
{
    assert (self && id > 0);
    if (id < self->next_id)
        return 0;
    zg_qlogreader_t reader;
    zg_qlogcodec_record (self->log, ZG_QLOGSTORE_USE, id, 9, &reader);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  The entry of a change; NULL with the error set if the store does not
//  hold the task

static zg_qlogentry_t *
s_changed (zg_qlogstore_t *self, uint64_t id)
{
    zg_qlogentry_t *entry = zg_qlogindex_lookup (self->index, id);
    if (!entry)
        snprintf (self->error, sizeof self->error, "data-dir '%s': no task %" PRIu64 " in the store",
                  self->dir, id);
    return entry;
}

//  --------------------------------------------------------------------------
//  A task was delivered

int
zg_qlogstore_deliver (zg_qlogstore_t *self, uint64_t id, uint32_t attempt, int64_t started)
{
    assert (self && attempt > 0);
    if (!s_changed (self, id))
        return -1;
    zg_qlogreader_t reader;
    zg_qlogwriter_t writer = zg_qlogcodec_record (self->log, ZG_QLOGSTORE_DELIVER, id, 21, &reader);
    zg_qlogwriter_uint (&writer, attempt, 4);
    zg_qlogwriter_uint (&writer, (uint64_t) started, 8);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  A task was taken back

int
zg_qlogstore_requeue (zg_qlogstore_t *self, uint64_t id)
{
    assert (self);
    if (!s_changed (self, id))
        return -1;
    zg_qlogreader_t reader;
    zg_qlogcodec_record (self->log, ZG_QLOGSTORE_REQUEUE, id, 9, &reader);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  A task went to a dead-letter queue

int
zg_qlogstore_dead_letter (zg_qlogstore_t *self, uint64_t id, const char *queue, size_t queue_size,
                          int64_t expires)
{
    assert (self && queue && queue_size > 0 && queue_size <= 255);
    if (!s_changed (self, id))
        return -1;
    zg_qlogreader_t reader;
    zg_qlogwriter_t writer = zg_qlogcodec_record (self->log, ZG_QLOGSTORE_DEAD, id, 18 + queue_size, &reader);
    zg_qlogwriter_uint (&writer, (uint64_t) expires, 8);
    zg_qlogwriter_bytes (&writer, queue, queue_size, 1);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  A task finished

int
zg_qlogstore_finish (zg_qlogstore_t *self, uint64_t id, uint8_t state, int64_t finished, int64_t expires,
                     const void *result, size_t result_size, bool keep_input)
{
    assert (self && finished > 0);
    assert (state == ZG_TASK_DONE || state == ZG_TASK_FAILED || state == ZG_TASK_DEAD);
    if (!s_changed (self, id))
        return -1;
    zg_qlogreader_t reader;
    zg_qlogwriter_t writer = zg_qlogcodec_record (self->log, ZG_QLOGSTORE_FINISH, id, 31 + result_size, &reader);
    zg_qlogwriter_uint (&writer, state, 1);
    zg_qlogwriter_uint (&writer, (uint64_t) finished, 8);
    zg_qlogwriter_uint (&writer, (uint64_t) expires, 8);
    zg_qlogwriter_uint (&writer, keep_input, 1);
    zg_qlogwriter_bytes (&writer, result, result_size, 4);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  Forget a task

int
zg_qlogstore_delete (zg_qlogstore_t *self, uint64_t id)
{
    assert (self);
    if (!s_changed (self, id))
        return -1;
    zg_qlogreader_t reader;
    zg_qlogcodec_record (self->log, ZG_QLOGSTORE_DELETE, id, 9, &reader);
    return s_change (self, &reader);
}

//  --------------------------------------------------------------------------
//  Changes in the current pass

size_t
zg_qlogstore_pending (zg_qlogstore_t *self)
{
    assert (self);
    return self->pending;
}

//  --------------------------------------------------------------------------
//  Compaction (zg_qlogcompact): started once the dead bytes are worth it
//  and the file is synced to its end, finished once its new file's sync
//  ended and the file is synced to its end again

//  A failed compaction: the store goes on with the old file, and tries
//  again only once it grew (a full disk stays full for a while)
static int
s_compact_failed (zg_qlogstore_t *self, const char *reason)
{
    snprintf (self->error, sizeof self->error, "data-dir '%s': compaction failed: %s", self->dir, reason);
    self->compaction_errors++;
    self->retry_size = zg_qlog_size (self->log) + self->compact_bytes;
    return -1;
}

static int
s_compact_start (zg_qlogstore_t *self)
{
    char path [PATH_MAX], reason [256];
    snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_NEW_FILE, self->dir);
    self->compacting = zg_qlogcompact_new (path, self->log, self->index, self->next_id - 1, reason, sizeof reason);
    return self->compacting? 0: s_compact_failed (self, reason);
}

static int
s_compact_finish (zg_qlogstore_t *self)
{
    char reason [256];
    if (zg_qlogcompact_finish (&self->compacting, self->log, self->index, reason, sizeof reason))
        return s_compact_failed (self, reason);
    self->compactions++;
    return 0;
}

//  The whole compaction, waiting for its sync
static int
s_compact (zg_qlogstore_t *self)
{
    return s_compact_start (self) || s_compact_finish (self)? -1: 0;
}

//  Whether the dead bytes are worth a compaction now
static bool
s_worth_compacting (zg_qlogstore_t *self)
{
    uint64_t size = zg_qlog_size (self->log);
    uint64_t dead = size > self->live + ZG_QLOG_FILE_HEADER? size - self->live - ZG_QLOG_FILE_HEADER: 0;
    bool full = (int64_t) size > self->max_size - self->max_size / ZG_QLOGSTORE_RESERVE;
    return dead >= self->compact_bytes && (dead >= self->live || full) && size >= self->retry_size;
}

//  --------------------------------------------------------------------------
//  End the pass

//  Append the pass, synced if sync. If that fails, the pass's changes are
//  in the index and not in the file: the index is rebuilt from the file.

static int
s_append (zg_qlogstore_t *self, bool sync)
{
    self->pending = 0;
    if (self->broken) {
        zg_qlog_discard (self->log);
        snprintf (self->error, sizeof self->error, "data-dir '%s': store unusable after an earlier error, "
                  "restart zgate", self->dir);
        return -1;
    }
    if (zg_qlog_commit (self->log, sync)) {
        snprintf (self->error, sizeof self->error, "data-dir '%s': cannot commit: %s", self->dir,
                  zg_qlog_error (self->log));
        //  The pass's changes are in the index, not in the file
        char reason [ZG_QLOGSTORE_ERROR_SIZE];
        snprintf (reason, sizeof reason, "%s", self->error);
        self->broken = s_rebuild (self) != 0;
        snprintf (self->error, sizeof self->error, "%s", reason);
        return -1;
    }
    return 0;
}

//  Once everything written is synced (a sync in flight elsewhere would
//  sync the old file): finish a compaction whose sync ended (or, if wait,
//  any), or start one if it is worth it (and, if wait, finish it)
static void
s_settled (zg_qlogstore_t *self, bool wait)
{
    if (zg_qlog_unsynced (self->log) || self->broken)
        return;
    int rc = 0;
    if (self->compacting && (wait || zg_qlogcompact_ready (self->compacting)))
        rc = s_compact_finish (self);
    else
    if (!self->compacting && s_worth_compacting (self))
        rc = wait? s_compact (self): s_compact_start (self);
    if (rc)
        zsys_warning ("zg_qlogstore: %s", self->error);
}

int
zg_qlogstore_commit (zg_qlogstore_t *self)
{
    assert (self);
    if (s_append (self, true))
        return -1;
    s_settled (self, true);
    return 0;
}

//  --------------------------------------------------------------------------
//  Append the pass without a sync

int
zg_qlogstore_write (zg_qlogstore_t *self)
{
    assert (self);
    return s_append (self, false);
}

//  --------------------------------------------------------------------------
//  What a sync made elsewhere has to cover

uint64_t
zg_qlogstore_unsynced (zg_qlogstore_t *self, int *handle, uint64_t *size)
{
    assert (self && handle && size);
    *handle = zg_qlog_handle (self->log);
    *size = zg_qlog_size (self->log);
    return zg_qlog_unsynced (self->log);
}

//  --------------------------------------------------------------------------
//  The result of a sync made elsewhere

int
zg_qlogstore_synced (zg_qlogstore_t *self, uint64_t size, int code)
{
    assert (self);
    if (zg_qlog_synced (self->log, size, code)) {
        snprintf (self->error, sizeof self->error, "data-dir '%s': cannot commit: %s", self->dir,
                  zg_qlog_error (self->log));
        return -1;
    }
    s_settled (self, false);
    return 0;
}

//  --------------------------------------------------------------------------
//  The last error

const char *
zg_qlogstore_error (zg_qlogstore_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  What the store did so far

zg_qlogstore_counters_t
zg_qlogstore_counters (zg_qlogstore_t *self)
{
    assert (self);
    zg_qlogstore_counters_t counters = {
        zg_qlog_syncs (self->log), zg_qlog_size (self->log), self->live,
        self->compactions, self->compaction_errors, self->dropped
    };
    return counters;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Reads a transaction of the file and does nothing
static int
s_test_skip (const byte *body, size_t size, uint64_t offset, void *arg)
{
    (void) body, (void) size, (void) offset, (void) arg;
    return 0;
}

//  Appends each loaded record as "id:state:attempt:queue:payload:result;"
static int
s_test_collect (const zg_qrecord_t *record, void *arg)
{
    char *text = (char *) arg;
    size_t used = strlen (text);
    snprintf (text + used, 1024 - used, "%" PRIu64 ":%d:%u:%.*s:%.*s:%.*s;", record->id, record->state,
              record->attempt, (int) record->queue_size, record->queue, (int) record->payload_size,
              record->payload? (const char *) record->payload: "", (int) record->result_size,
              record->result? (const char *) record->result: "");
    return 0;
}

//  Checks that task 3, dead-lettered, kept its end of wait there
static int
s_test_dead_expires (const zg_qrecord_t *record, void *arg)
{
    (void) arg;
    return record->id == 3 && record->expires != 90000? -1: 0;
}

//  Reopen the store in dir, loading its records into text
static zg_qlogstore_t *
s_test_reopen (zg_qlogstore_t **self_p, const char *dir, int64_t max_size, char *text)
{
    zg_qlogstore_destroy (self_p);
    zg_qstore_options_t options = { max_size, false };
    char error [256];
    zg_qlogstore_t *self = zg_qlogstore_open (dir, &options, error, sizeof error);
    if (!self)
        fprintf (stderr, "%s\n", error);
    assert (self);
    *text = 0;
    assert (zg_qlogstore_load (self, s_test_collect, text) == 0);
    return self;
}

//  Store a waiting task with this payload in queue "q"
static int
s_test_put (zg_qlogstore_t *self, uint64_t id, const char *payload)
{
    zg_qrecord_t record = { .id = id, .queue = "q", .queue_size = 1, .state = ZG_TASK_WAITING,
                            .created = 1, .payload = payload, .payload_size = strlen (payload) };
    return zg_qlogstore_put (self, &record);
}

//  In a child limited to files of its log's size plus 100 bytes (as a full
//  disk), a pass too big to write is lost whole, and the store goes on
static void
s_test_disk_full (const char *dir)
{
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        char text [1024], big [300];
        zg_qlogstore_t *self = NULL;
        self = s_test_reopen (&self, dir, ZG_QSTORE_DEFAULT_SIZE, text);
        signal (SIGXFSZ, SIG_IGN);
        rlim_t size = (rlim_t) zg_qlogstore_counters (self).bytes + 100;
        struct rlimit limit = { size, size };
        setrlimit (RLIMIT_FSIZE, &limit);
        memset (big, 'b', sizeof big - 1);
        big [sizeof big - 1] = 0;
        bool lost = s_test_put (self, 50, big) == 0 && zg_qlogstore_deliver (self, 1, 9, 9) == 0
                 && zg_qlogstore_commit (self) == -1 && strstr (zg_qlogstore_error (self), "disk full")
                 && zg_qlogstore_deliver (self, 50, 1, 1) == -1 && zg_qlogstore_next_id (self) == 8
                 && s_test_put (self, 51, "s") == 0 && zg_qlogstore_commit (self) == 0;
        char again [1024];
        self = s_test_reopen (&self, dir, ZG_QSTORE_DEFAULT_SIZE, again);
        lost = lost && strstr (again, "51:0:0:q:s:;") && !strstr (again, ":9:");
        zg_qlogstore_destroy (&self);
        _exit (lost? 0: 1);
    }
    int status;
    assert (waitpid (child, &status, 0) == child);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

//  Copies the owner of task 3 into arg
static int
s_test_owner (const zg_qrecord_t *record, void *arg)
{
    if (record->id == 3)
        snprintf ((char *) arg, 8, "%.*s", (int) record->owner_size, record->owner);
    return 0;
}

//  Write the pass and sync it as zg_qdurable's pipeline does (the sync
//  made here, not in a thread)
static void
s_test_pass (zg_qlogstore_t *store)
{
    assert (zg_qlogstore_write (store) == 0);
    int handle;
    uint64_t size;
    zg_qlogstore_unsynced (store, &handle, &size);
    assert (fdatasync (handle) == 0 && zg_qlogstore_synced (store, size, 0) == 0);
}

//  Pipelined passes compact without waiting: the new file's sync runs
//  in a thread while passes go on, and they are kept
static void
s_test_pipelined (const char *dir)
{
    char text [1024], path [PATH_MAX];
    snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_FILE, dir);
    unlink (path);
    zg_qlogstore_t *store = NULL;
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    zg_qlogstore_set_compact_bytes (store, 1000);
    assert (s_test_put (store, 1, "a") == 0);
    for (uint64_t id = 2; id < 40; id++)
        assert (s_test_put (store, id, "dead") == 0 && zg_qlogstore_delete (store, id) == 0);
    s_test_pass (store);
    assert (zg_qlogstore_counters (store).compactions == 0);
    for (uint64_t id = 40; id < 42 || zg_qlogstore_counters (store).compactions == 0; id++) {
        assert (id < 10000);
        assert (s_test_put (store, id, "b") == 0 && zg_qlogstore_finish (store, id, ZG_TASK_DONE, 2, 3, "r", 1,
                                                                          id % 2) == 0);
        s_test_pass (store);
        zclock_sleep (1);
    }
    *text = 0;
    assert (zg_qlogstore_load (store, s_test_collect, text) == 0 && strneq (text, ""));
    char loaded [1024];
    snprintf (loaded, sizeof loaded, "%s", text);
    //  Task 40's pass came after the start: copied, its input dropped (41's kept)
    assert (strncmp (loaded, "1:0:0:q:a:;40:2:0:q::r;", 23) == 0);
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (streq (text, loaded));
    zg_qlogstore_destroy (&store);
}

//  Damage in the middle of the file (task 2's put): refused, then with
//  repair skipped with task 2's later change, and the file rewritten
static void
s_test_repair (const char *dir)
{
    char text [1024], error [256], path [PATH_MAX];
    snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_FILE, dir);
    unlink (path);
    zg_qlogstore_t *store = NULL;
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (s_test_put (store, 1, "a") == 0 && zg_qlogstore_commit (store) == 0);
    uint64_t damaged = zg_qlogstore_counters (store).bytes;
    assert (s_test_put (store, 2, "b") == 0 && zg_qlogstore_commit (store) == 0);
    zg_qrecord_t owned = { .id = 3, .queue = "q", .queue_size = 1, .state = ZG_TASK_WAITING, .created = 1,
                           .payload = "c", .payload_size = 1, .owner = "alice", .owner_size = 5 };
    assert (zg_qlogstore_put (store, &owned) == 0 && zg_qlogstore_commit (store) == 0);
    assert (zg_qlogstore_deliver (store, 2, 1, 5) == 0 && zg_qlogstore_commit (store) == 0);
    zg_qlogstore_destroy (&store);
    int handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "X", 1, (off_t) damaged + ZG_QLOG_TXN_HEADER + 20) == 1);
    close (handle);
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    assert (zg_qlogstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, ZG_QLOGSTORE_FILE ": damaged transaction at byte") && strstr (error, "data-repair"));
    options.repair = true;
    store = zg_qlogstore_open (dir, &options, error, sizeof error);
    assert (store && zg_qlogstore_counters (store).compactions == 1);
    *text = 0;
    assert (zg_qlogstore_load (store, s_test_collect, text) == 0 && streq (text, "1:0:0:q:a:;3:0:0:q:c:;"));
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (streq (text, "1:0:0:q:a:;3:0:0:q:c:;") && zg_qlogstore_next_id (store) == 4);
    //  Task 3's owner came through the compaction
    char owner [8] = "";
    assert (zg_qlogstore_load (store, s_test_owner, owner) == 0 && streq (owner, "alice"));
    zg_qlogstore_destroy (&store);
}

void
zg_qlogstore_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlogstore: ");
    char dir [] = "/tmp/zg_qlogstore_test_XXXXXX", text [1024], error [256];
    assert (mkdtemp (dir));
    zg_qlogstore_t *store = NULL;
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (*text == 0 && zg_qlogstore_next_id (store) == 1);

    //  Every kind of change, then a restart reads them back in id order
    assert (s_test_put (store, 3, "c") == 0 && s_test_put (store, 1, "a") == 0 && s_test_put (store, 2, "b") == 0);
    assert (s_test_put (store, 4, "d") == 0 && s_test_put (store, 5, "e") == 0);
    assert (zg_qlogstore_deliver (store, 1, 1, 100) == 0 && zg_qlogstore_deliver (store, 2, 1, 100) == 0);
    assert (zg_qlogstore_requeue (store, 2) == 0);
    assert (zg_qlogstore_dead_letter (store, 3, "q.dead", 6, 90000) == 0);
    assert (zg_qlogstore_finish (store, 4, ZG_TASK_DONE, 200, 300, "ok", 2, false) == 0);
    assert (zg_qlogstore_delete (store, 5) == 0);
    assert (zg_qlogstore_use_id (store, 7) == 0 && zg_qlogstore_use_id (store, 6) == 0);
    //  A change of a task the store does not hold fails alone
    assert (zg_qlogstore_requeue (store, 99) == -1 && strstr (zg_qlogstore_error (store), "no task 99"));
    assert (zg_qlogstore_pending (store) == 12);
    assert (zg_qlogstore_commit (store) == 0 && zg_qlogstore_pending (store) == 0);
    const char *expected = "1:1:1:q:a:;2:0:1:q:b:;3:4:0:q.dead:c:;4:2:0:q::ok;";
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (streq (text, expected) && zg_qlogstore_next_id (store) == 8);
    assert (zg_qlogstore_counters (store).dropped == 0);
    assert (zg_qlogstore_load (store, s_test_dead_expires, NULL) == 0);

    //  Not committed: gone at a restart, as after a crash
    assert (s_test_put (store, 8, "x") == 0);
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (streq (text, expected) && zg_qlogstore_next_id (store) == 8);

    //  A second store on the directory is refused
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    assert (zg_qlogstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, "in use by another zgate"));

    //  A torn tail (in the room ahead of the end) is cut off; what was
    //  committed stays
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/" ZG_QLOGSTORE_FILE, dir);
    int handle = open (path, O_WRONLY);
    assert (handle >= 0);
    assert (pwrite (handle, "\x00\x00\x01\x00garbage", 11, (off_t) zg_qlogstore_counters (store).bytes) == 11);
    close (handle);
    FILE *file;
    //  So is the new file of a compaction that a crash interrupted
    char new_path [PATH_MAX];
    snprintf (new_path, sizeof new_path, "%s/" ZG_QLOGSTORE_NEW_FILE, dir);
    file = fopen (new_path, "wb");
    assert (file && fwrite ("half", 1, 4, file) == 4);
    fclose (file);
    store = s_test_reopen (&store, dir, ZG_QSTORE_DEFAULT_SIZE, text);
    assert (streq (text, expected) && zg_qlogstore_counters (store).dropped == 11);
    assert (access (new_path, F_OK) == -1);

    //  A full disk loses the pass, not the store
    zg_qlogstore_destroy (&store);
    s_test_disk_full (dir);
    expected = "1:1:1:q:a:;2:0:1:q:b:;3:4:0:q.dead:c:;4:2:0:q::ok;51:0:0:q:s:;";

    //  Past 7/8 of data-max-size a new task is refused alone; the finish
    //  and forget records of the stored ones make dead bytes, and a
    //  compaction gives the room back
    store = s_test_reopen (&store, dir, ZG_QSTORE_MIN_SIZE, text);
    assert (streq (text, expected));
    char payload [1000];
    memset (payload, 'p', sizeof payload - 1);
    payload [sizeof payload - 1] = 0;
    uint64_t id = 100;
    while (s_test_put (store, id, payload) == 0)
        id++;
    assert (id > 140 && strstr (zg_qlogstore_error (store), "store full"));
    assert (zg_qlogstore_deliver (store, 100, 1, 1) == 0 && zg_qlogstore_commit (store) == 0);
    for (uint64_t done = 100; done < id; done++)
        assert (zg_qlogstore_finish (store, done, ZG_TASK_DONE, 5, 6, NULL, 0, false) == 0
             && zg_qlogstore_delete (store, done) == 0);
    assert (zg_qlogstore_commit (store) == 0);
    zg_qlogstore_counters_t counters = zg_qlogstore_counters (store);
    assert (counters.compactions == 1 && counters.errors == 0 && counters.bytes < 1000);
    assert (access (new_path, F_OK) == -1 && access (path, F_OK) == 0);
    assert (s_test_put (store, id, payload) == 0 && zg_qlogstore_commit (store) == 0);
    store = s_test_reopen (&store, dir, ZG_QSTORE_MIN_SIZE, text);
    assert (strncmp (text, expected, strlen (expected)) == 0 && zg_qlogstore_next_id (store) == id + 1);

    //  Compaction keeps each task's payload and result where the load finds them
    //  (first one that fails, as its new file cannot be made: the commit
    //  stands, the store goes on, and it is tried again once the file grew)
    zg_qlogstore_set_compact_bytes (store, 1);
    assert (mkdir (new_path, 0700) == 0);
    assert (zg_qlogstore_delete (store, id) == 0 && zg_qlogstore_commit (store) == 0);
    counters = zg_qlogstore_counters (store);
    assert (counters.compactions == 0 && counters.errors == 1);
    assert (rmdir (new_path) == 0);
    assert (zg_qlogstore_requeue (store, 2) == 0 && zg_qlogstore_commit (store) == 0);
    counters = zg_qlogstore_counters (store);
    assert (counters.compactions == 1 && counters.errors == 1);
    *text = 0;
    assert (zg_qlogstore_load (store, s_test_collect, text) == 0 && streq (text, expected));
    assert (zg_qlogstore_finish (store, 1, ZG_TASK_FAILED, 7, 8, "why", 3, false) == 0);
    assert (zg_qlogstore_commit (store) == 0);
    store = s_test_reopen (&store, dir, ZG_QSTORE_MIN_SIZE, text);
    assert (strstr (text, "1:3:1:q::why;2:0:1:q:b:;") && zg_qlogstore_next_id (store) == id + 1);
    zg_qlogstore_destroy (&store);

    s_test_repair (dir);
    s_test_pipelined (dir);

    //  A record this build cannot read, in a complete transaction: refused
    zg_qlog_t *log = zg_qlog_open (path, error, sizeof error);
    assert (log && zg_qlog_replay (log, s_test_skip, NULL) == 0);
    uint64_t offset;
    memcpy (zg_qlog_reserve (log, 9, &offset), "\x09\x00\x00\x00\x00\x00\x00\x00\x01", 9);
    assert (zg_qlog_commit (log, true) == 0);
    zg_qlog_destroy (&log);
    assert (zg_qlogstore_open (dir, &options, error, sizeof error) == NULL);
    assert (strstr (error, "damaged record") && strstr (error, "kind 9"));

    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
    assert (access (dir, F_OK) == -1);
    printf ("OK\n");
}
