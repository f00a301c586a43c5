/*  =========================================================================
    zg_qlogcompact - a compaction of the task log, synced in a thread

    See zg_qlogcompact.h.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qlogcodec.h"
#include "zg_qsyncer.h"
#include "zg_qlogcompact.h"

//  The new file is written in pieces of about this size
#define ZG_QLOGCOMPACT_PIECE 1048576

struct _zg_qlogcompact_t {
    char *path;                     //  The new file
    zg_qlog_t *fresh;               //  The new log
    uint64_t start;                 //  Bytes of the old log at the start
    uint64_t written;               //  Bytes of the new log its sync covers
    zg_qsyncer_t *syncer;           //  The new log's sync
};

//  --------------------------------------------------------------------------
//  The put of one entry into the new log, its new offsets kept in the
//  entry's moved_* fields. Returns 0, or -1 with the reason in error.

static int
s_put (zg_qlogcompact_t *self, zg_qlog_t *log, zg_qlogentry_t *entry, char *error, size_t size)
{
    zg_qlogreader_t reader;
    byte *payload, *result;
    zg_qrecord_t record = entry->record;
    char owner [ZG_QRECORD_OWNER_MAX];
    record.owner = owner;
    if (zg_qlog_read (log, entry->owner_at, owner, record.owner_size)) {
        snprintf (error, size, "%s", zg_qlog_error (log));
        return -1;
    }
    zg_qlogcodec_put (self->fresh, &record, &reader, &payload, &result);
    entry->moved_payload_at = reader.offset + (uint64_t) (payload - reader.start);
    entry->moved_result_at = reader.offset + (uint64_t) (result - reader.start);
    //  The owner ends the header, just before the payload's size
    entry->moved_owner_at = entry->moved_payload_at - 4 - record.owner_size;
    if (zg_qlog_read (log, entry->payload_at, payload, record.payload_size)
    ||  zg_qlog_read (log, entry->result_at, result, record.result_size)) {
        snprintf (error, size, "%s", zg_qlog_error (log));
        return -1;
    }
    if (zg_qlog_pending (self->fresh) >= ZG_QLOGCOMPACT_PIECE && zg_qlog_commit (self->fresh, false)) {
        snprintf (error, size, "%s", zg_qlog_error (self->fresh));
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Start a compaction

zg_qlogcompact_t *
zg_qlogcompact_new (const char *path, zg_qlog_t *log, zg_qlogindex_t *index, uint64_t last_id, char *error,
                    size_t size)
{
    assert (path && log && index && error);
    assert (zg_qlog_unsynced (log) == 0);
    zg_qlogcompact_t *self = (zg_qlogcompact_t *) zmalloc (sizeof (zg_qlogcompact_t));
    assert (self);
    self->path = strdup (path);
    self->start = zg_qlog_size (log);
    *error = 0;
    self->fresh = zg_qlog_create (path, error, size);
    size_t cursor = 0;
    zg_qlogentry_t *entry;
    while (self->fresh && !*error && (entry = zg_qlogindex_next (index, &cursor)))
        s_put (self, log, entry, error, size);
    if (self->fresh && !*error && last_id) {
        zg_qlogreader_t reader;
        zg_qlogcodec_record (self->fresh, ZG_QLOGSTORE_USE, last_id, 9, &reader);
    }
    if (self->fresh && !*error && zg_qlog_commit (self->fresh, false))
        snprintf (error, size, "%s", zg_qlog_error (self->fresh));
    if (*error) {
        zg_qlogcompact_destroy (&self);
        return NULL;
    }
    self->written = zg_qlog_size (self->fresh);
    self->syncer = zg_qsyncer_new ();
    zg_qsyncer_start (self->syncer, zg_qlog_handle (self->fresh));
    return self;
}

//  --------------------------------------------------------------------------
//  Stop a compaction

void
zg_qlogcompact_destroy (zg_qlogcompact_t **self_p)
{
    assert (self_p);
    zg_qlogcompact_t *self = *self_p;
    if (!self)
        return;
    zg_qsyncer_destroy (&self->syncer);
    if (self->fresh) {
        zg_qlog_destroy (&self->fresh);
        unlink (self->path);
    }
    free (self->path);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Whether the new file's sync ended

bool
zg_qlogcompact_ready (zg_qlogcompact_t *self)
{
    assert (self);
    return zg_qsyncer_ended (self->syncer);
}

//  --------------------------------------------------------------------------
//  Finish: the later transactions, a sync, the rename, the new offsets

//  Where size bytes at offset at of the old file lie in the new one: moved
//  (the put's) if they were there at the start, else shifted (unsigned
//  arithmetic: the shift may be negative)
static uint64_t
s_moved (zg_qlogcompact_t *self, uint64_t at, size_t size, uint64_t moved, uint64_t shift)
{
    return size == 0? 0: at < self->start? moved: at + shift;
}

int
zg_qlogcompact_finish (zg_qlogcompact_t **self_p, zg_qlog_t *log, zg_qlogindex_t *index, char *error,
                       size_t size)
{
    assert (self_p && *self_p && log && index && error);
    zg_qlogcompact_t *self = *self_p;
    assert (zg_qlog_unsynced (log) == 0);
    *error = 0;
    //  Transactions keep their places relative to each other: one shift
    uint64_t shift = zg_qlog_size (self->fresh) - self->start;
    if (zg_qlog_synced (self->fresh, self->written, zg_qsyncer_finish (self->syncer))
    ||  zg_qlog_copy (self->fresh, log, self->start)
    ||  zg_qlog_commit (self->fresh, true))
        snprintf (error, size, "%s", zg_qlog_error (self->fresh));
    else
    if (zg_qlog_install (log, &self->fresh))
        snprintf (error, size, "%s", zg_qlog_error (log));
    else {
        size_t cursor = 0;
        zg_qlogentry_t *entry;
        while ((entry = zg_qlogindex_next (index, &cursor))) {
            zg_qrecord_t *record = &entry->record;
            entry->payload_at = s_moved (self, entry->payload_at, record->payload_size, entry->moved_payload_at, shift);
            entry->result_at = s_moved (self, entry->result_at, record->result_size, entry->moved_result_at, shift);
            entry->owner_at = s_moved (self, entry->owner_at, record->owner_size, entry->moved_owner_at, shift);
        }
    }
    zg_qlogcompact_destroy (self_p);
    return *error? -1: 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Put a task with this payload into log, committed and synced, and index
//  it as the store would: its entry's offsets are where the put lies
static zg_qlogentry_t *
s_test_put (zg_qlog_t *log, zg_qlogindex_t *index, uint64_t id, const char *payload)
{
    zg_qrecord_t record = { .id = id, .queue = "q", .queue_size = 1, .created = 1, .payload = payload,
                            .payload_size = strlen (payload), .owner = "o", .owner_size = 1 };
    zg_qlogreader_t reader;
    byte *at, *result;
    zg_qlogcodec_put (log, &record, &reader, &at, &result);
    zg_qlogentry_t *entry = zg_qlogindex_insert (index, id);
    record.queue = NULL;
    record.owner = NULL;
    record.payload = NULL;
    entry->record = record;
    zg_qlogindex_rename (index, entry, "q", 1);
    entry->payload_at = reader.offset + (uint64_t) (at - reader.start);
    entry->owner_at = entry->payload_at - 4 - 1;
    assert (zg_qlog_commit (log, true) == 0);
    return entry;
}

//  Counts the transactions a replay finds; each starts with a put
static int
s_test_count (const byte *body, size_t size, uint64_t offset, void *arg)
{
    (void) offset;
    assert (size > 9 && body [0] == ZG_QLOGSTORE_PUT);
    (*(int *) arg)++;
    return 0;
}

//  An entry's payload and owner as "owner:payload"
static const char *
s_test_read (zg_qlog_t *log, zg_qlogentry_t *entry)
{
    static char text [64];
    char owner [8] = "", payload [32] = "";
    assert (zg_qlog_read (log, entry->owner_at, owner, entry->record.owner_size) == 0);
    assert (zg_qlog_read (log, entry->payload_at, payload, entry->record.payload_size) == 0);
    snprintf (text, sizeof text, "%.*s:%.*s", (int) entry->record.owner_size, owner,
              (int) entry->record.payload_size, payload);
    return text;
}

void
zg_qlogcompact_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlogcompact: ");
    char dir [] = "/tmp/zg_qlogcompact_test_XXXXXX", path [64], fresh_path [64], error [256];
    assert (mkdtemp (dir));
    snprintf (path, sizeof path, "%s/log", dir);
    snprintf (fresh_path, sizeof fresh_path, "%s/log.new", dir);
    zg_qlog_t *log = zg_qlog_create (path, error, sizeof error);
    zg_qlogindex_t *index = zg_qlogindex_new ();
    s_test_put (log, index, 1, "gone");
    zg_qlogentry_t *kept = s_test_put (log, index, 2, "kept");
    zg_qlogindex_remove (index, 1);

    //  Started: the new file holds task 2; the old one goes on meanwhile
    zg_qlogcompact_t *compact = zg_qlogcompact_new (fresh_path, log, index, 3, error, sizeof error);
    assert (compact && access (fresh_path, F_OK) == 0);
    zg_qlogentry_t *later = s_test_put (log, index, 3, "later");
    while (!zg_qlogcompact_ready (compact))
        zclock_sleep (1);
    //  Finished: the later put was copied, every offset lies in the new file
    uint64_t old_size = zg_qlog_size (log);
    assert (zg_qlogcompact_finish (&compact, log, index, error, sizeof error) == 0 && compact == NULL);
    assert (zg_qlog_size (log) < old_size && access (fresh_path, F_OK) == -1);
    kept = zg_qlogindex_lookup (index, 2);
    later = zg_qlogindex_lookup (index, 3);
    assert (streq (s_test_read (log, kept), "o:kept") && streq (s_test_read (log, later), "o:later"));
    //  The file as a restart reads it: task 2's put (with the use of id 3),
    //  then task 3's, copied
    zg_qlog_destroy (&log);
    log = zg_qlog_open (path, error, sizeof error);
    int count = 0;
    assert (log && zg_qlog_replay (log, s_test_count, &count) == 0 && count == 2);

    //  Stopped: the new file is removed, the log keeps its file
    compact = zg_qlogcompact_new (fresh_path, log, index, 3, error, sizeof error);
    assert (compact);
    zg_qlogcompact_destroy (&compact);
    assert (access (fresh_path, F_OK) == -1 && streq (s_test_read (log, zg_qlogindex_lookup (index, 2)), "o:kept"));
    zg_qlog_destroy (&log);
    zg_qlogindex_destroy (&index);
    assert (unlink (path) == 0 && rmdir (dir) == 0);
    printf ("OK\n");
}
