/*  =========================================================================
    zg_qlog - an append-only file of checksummed transactions

    See zg_qlog.h. The pending transaction is one buffer that starts with
    room for its header, so a commit is one pwrite at the end of the file.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qrecord.h"
#include "zg_qlog.h"
#include "zg_qsyncer.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ZG_QLOG_MAGIC "ZGQLOG"
#define ZG_QLOG_ERROR_SIZE 300
//  Largest transaction body: its size field has 4 bytes, and a replay
//  takes a larger one for damage
#define ZG_QLOG_TXN_MAX 0x7FFFFFFF

struct _zg_qlog_t {
    char *path;                     //  The file
    int handle;                     //  Open for reading and writing
    uint64_t size;                  //  Bytes committed
    uint64_t synced;                //  Bytes known to be on disk
    uint64_t dropped;               //  Bytes cut off at the last replay
    uint64_t syncs;                 //  fdatasyncs made
    bool broken;                    //  A sync or cut failed: no more commits
    bool repair;                    //  A replay skips damage instead of failing
    uint64_t skipped;               //  Damaged bytes skipped at the last replay
    uint64_t allocated;             //  Bytes of the file: committed, then zeros
    uint64_t step;                  //  Zeros to keep ahead of the end, or 0
    uint64_t retry_size;            //  After a failed extension: size to try again at
    zg_qsyncer_t *space;            //  Writes the zeros ahead, or NULL
    uint64_t extending;             //  End of the extension in flight
    const byte *map;                //  The file mapped for reading, or NULL
    uint64_t map_size;              //  Bytes mapped
    byte *pending;                  //  Pending transaction, header first
    size_t pending_size;            //  Bytes in it, header included (0: none)
    size_t pending_max;             //  Bytes allocated
    char error [ZG_QLOG_ERROR_SIZE];
};

//  --------------------------------------------------------------------------
//  CRC-32C, slicing by 8: the log checksums every byte it writes, so the
//  byte-at-a-time loop would cost the actor a few percent at full load

static uint32_t s_crc_table [8][256];
static pthread_once_t s_crc_once = PTHREAD_ONCE_INIT;

static void
s_crc_init (void)
{
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t crc = index;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0x82F63B78 & (0 - (crc & 1)));
        s_crc_table [0][index] = crc;
    }
    for (uint32_t index = 0; index < 256; index++)
        for (int slice = 1; slice < 8; slice++)
            s_crc_table [slice][index] = (s_crc_table [slice - 1][index] >> 8)
                                       ^ s_crc_table [0][s_crc_table [slice - 1][index] & 0xFF];
}

uint32_t
zg_qlog_crc (uint32_t crc, const void *data, size_t size)
{
    pthread_once (&s_crc_once, s_crc_init);
    const byte *next = (const byte *) data;
    crc = ~crc;
    while (size >= 8) {
        uint32_t low = crc ^ ((uint32_t) next [0] | (uint32_t) next [1] << 8
                            | (uint32_t) next [2] << 16 | (uint32_t) next [3] << 24);
        crc = s_crc_table [7][low & 0xFF] ^ s_crc_table [6][(low >> 8) & 0xFF]
            ^ s_crc_table [5][(low >> 16) & 0xFF] ^ s_crc_table [4][low >> 24]
            ^ s_crc_table [3][next [4]] ^ s_crc_table [2][next [5]]
            ^ s_crc_table [1][next [6]] ^ s_crc_table [0][next [7]];
        next += 8;
        size -= 8;
    }
    while (size--)
        crc = (crc >> 8) ^ s_crc_table [0][(crc ^ *next++) & 0xFF];
    return ~crc;
}

//  --------------------------------------------------------------------------
//  Set the error: "what: description of errno's value"

static void
s_set_error (zg_qlog_t *self, int code, const char *what)
{
    if (code == ENOSPC || code == EFBIG || code == EDQUOT)
        snprintf (self->error, sizeof self->error, "%s: disk full (%s)", what, strerror (code));
    else
        snprintf (self->error, sizeof self->error, "%s: %s", what, strerror (code));
}

//  --------------------------------------------------------------------------
//  Write size bytes at offset, whatever the kernel's short writes; returns
//  0 or the errno value

static int
s_write_at (int handle, const byte *data, size_t size, uint64_t offset)
{
    while (size) {
        ssize_t written = pwrite (handle, data, size, (off_t) offset);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return written < 0? errno: ENOSPC;
        data += written;
        size -= (size_t) written;
        offset += (uint64_t) written;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  fsync the directory holding path, so that a new name in it is durable

static int
s_sync_dir (const char *path)
{
    char *dir = strdup (path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = 0;
    int handle = open (slash? dir: ".", O_RDONLY | O_DIRECTORY);
    int code = handle < 0 || fsync (handle)? errno: 0;
    if (handle >= 0)
        close (handle);
    free (dir);
    return code;
}

//  --------------------------------------------------------------------------
//  Drop the reading map: before the file is cut (a page past the end would
//  fault) or replaced

static void
s_unmap (zg_qlog_t *self)
{
    if (self->map)
        munmap ((void *) self->map, self->map_size);
    self->map = NULL;
    self->map_size = 0;
}

//  --------------------------------------------------------------------------
//  Open or make the file; flags are open's

static zg_qlog_t *
s_open (const char *path, int flags, char *error, size_t size)
{
    assert (path && error);
    zg_qlog_t *self = (zg_qlog_t *) zmalloc (sizeof (zg_qlog_t));
    assert (self);
    self->path = strdup (path);
    self->handle = open (path, O_RDWR | O_CLOEXEC | flags, 0644);
    struct stat info;
    byte header [ZG_QLOG_FILE_HEADER];
    memcpy (header, ZG_QLOG_MAGIC, 6);
    zg_qrecord_put_uint (header + 6, ZG_QLOG_FORMAT, 2);
    if (self->handle < 0 || fstat (self->handle, &info))
        s_set_error (self, errno, "cannot open");
    else
    if (info.st_size == 0) {
        //  New: the header, synced, and the file's name in its directory
        int code = s_write_at (self->handle, header, sizeof header, 0);
        if (code == 0 && fdatasync (self->handle))
            code = errno;
        if (code == 0)
            code = s_sync_dir (path);
        if (code)
            s_set_error (self, code, "cannot create");
        self->size = sizeof header;
    }
    else {
        byte found [ZG_QLOG_FILE_HEADER] = { 0 };
        if (pread (self->handle, found, sizeof found, 0) < 0)
            s_set_error (self, errno, "cannot read");
        else
        if (memcmp (found, ZG_QLOG_MAGIC, 6))
            snprintf (self->error, sizeof self->error, "not a zgate task log");
        else
        if (memcmp (found, header, sizeof header))
            snprintf (self->error, sizeof self->error, "task log format %d, this zgate reads %d",
                      (int) zg_qrecord_get_uint (found + 6, 2), ZG_QLOG_FORMAT);
        self->size = (uint64_t) info.st_size;
    }
    self->allocated = self->size;
    if (*self->error) {
        snprintf (error, size, "%s", self->error);
        zg_qlog_destroy (&self);
    }
    else
        self->synced = self->size;
    return self;
}

//  --------------------------------------------------------------------------
//  Open the log at path

zg_qlog_t *
zg_qlog_open (const char *path, char *error, size_t size)
{
    return s_open (path, O_CREAT, error, size);
}

//  --------------------------------------------------------------------------
//  Create a new, empty log at path

zg_qlog_t *
zg_qlog_create (const char *path, char *error, size_t size)
{
    return s_open (path, O_CREAT | O_TRUNC, error, size);
}

//  --------------------------------------------------------------------------
//  Close the log

void
zg_qlog_destroy (zg_qlog_t **self_p)
{
    assert (self_p);
    zg_qlog_t *self = *self_p;
    if (!self)
        return;
    zg_qsyncer_destroy (&self->space);
    s_unmap (self);
    if (self->handle >= 0)
        close (self->handle);
    free (self->pending);
    free (self->path);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Cut the file to size bytes, durably; a failure breaks the log

static void s_space_end (zg_qlog_t *self);

static int
s_cut (zg_qlog_t *self, uint64_t size)
{
    if (self->space && zg_qsyncer_busy (self->space))
        s_space_end (self);
    s_unmap (self);
    if (ftruncate (self->handle, (off_t) size) || fdatasync (self->handle)) {
        s_set_error (self, errno, "cannot cut the file after a failed write");
        self->broken = true;
        return -1;
    }
    self->size = self->allocated = size;
    if (self->synced > size)
        self->synced = size;
    return 0;
}

//  --------------------------------------------------------------------------
//  Reading the file at a replay

//  The body size of a complete transaction with a good checksum at at, or 0
static uint64_t
s_valid_at (const byte *file, uint64_t size, uint64_t at)
{
    if (at + ZG_QLOG_TXN_HEADER > size)
        return 0;
    uint64_t body = zg_qrecord_get_uint (file + at, 4);
    if (body == 0 || body > ZG_QLOG_TXN_MAX || at + ZG_QLOG_TXN_HEADER + body > size
    ||  zg_qrecord_get_uint (file + at + 8, 8) > at)
        return 0;
    uint32_t check = zg_qlog_crc (0, file + at, 4);
    check = zg_qlog_crc (check, file + at + 8, 8);
    check = zg_qlog_crc (check, file + at + ZG_QLOG_TXN_HEADER, body);
    return check == (uint32_t) zg_qrecord_get_uint (file + at + 4, 4)? body: 0;
}

//  The first complete transaction after at (that was written when more
//  than at bytes were on disk, if synced_past): its offset, or 0
static uint64_t
s_next_valid (const byte *file, uint64_t size, uint64_t at, bool synced_past)
{
    for (uint64_t next = at + 1; next + ZG_QLOG_TXN_HEADER <= size; next++)
        if ((!synced_past || zg_qrecord_get_uint (file + next + 8, 8) > at) && s_valid_at (file, size, next))
            return next;
    return 0;
}

//  Whether size bytes are all zero
static bool
s_zeros (const byte *bytes, uint64_t size)
{
    return size == 0 || (bytes [0] == 0 && memcmp (bytes, bytes + 1, size - 1) == 0);
}

//  --------------------------------------------------------------------------
//  Every complete transaction, then cut the torn tail. Where the
//  transactions stop before the end, the rest is one of three things:
//  zeros (room made ahead, zg_qsyncer_extend: the end), a torn tail (writes
//  that no sync covered, some perhaps reached the disk out of order: cut),
//  or damage to committed bytes: a later transaction says, by the bytes it
//  saw synced when it was written, that these were on disk. Then the
//  replay fails, unless repairing: it skips to the next transaction.

int
zg_qlog_replay (zg_qlog_t *self, zg_qlog_replay_fn *fn, void *arg)
{
    assert (self && fn);
    assert (!self->pending_size);
    struct stat info;
    if (fstat (self->handle, &info)) {
        s_set_error (self, errno, "cannot read");
        return -1;
    }
    uint64_t size = (uint64_t) info.st_size;
    const byte *file = NULL;
    if (size > ZG_QLOG_FILE_HEADER) {
        file = (const byte *) mmap (NULL, size, PROT_READ, MAP_PRIVATE, self->handle, 0);
        if (file == MAP_FAILED) {
            s_set_error (self, errno, "cannot read");
            return -1;
        }
    }
    uint64_t at = ZG_QLOG_FILE_HEADER, body, proof = 0;
    int rc = 0;
    self->skipped = 0;
    while (rc == 0 && at < size) {
        while (rc == 0 && (body = s_valid_at (file, size, at))) {
            rc = fn (file + at + ZG_QLOG_TXN_HEADER, (size_t) body, at + ZG_QLOG_TXN_HEADER, arg);
            if (rc == 0)
                at += ZG_QLOG_TXN_HEADER + body;
        }
        if (rc || s_zeros (file + at, size - at) || !(proof = s_next_valid (file, size, at, true)))
            break;
        if (!self->repair) {
            snprintf (self->error, sizeof self->error, "damaged transaction at byte %" PRIu64 " (the one at byte %"
                      PRIu64 " was written after it was on disk): committed records would be lost; restore the "
                      "file, or start with queues/data-repair to skip the damage and keep the rest", at, proof);
            rc = -1;
        }
        else {
            uint64_t next = s_next_valid (file, size, at, false);
            self->skipped += next - at;
            at = next;
        }
    }
    //  The torn bytes: up to the last one that is not a zero of the room
    uint64_t torn = size;
    while (rc == 0 && torn > at && file [torn - 1] == 0)
        torn--;
    if (file)
        munmap ((void *) file, size);
    if (rc)
        return rc;
    self->dropped = torn - at;
    self->size = self->synced = at;
    self->allocated = size;
    if (self->dropped && s_cut (self, at)) {
        snprintf (self->error, sizeof self->error, "cannot cut a torn tail of %" PRIu64 " bytes: %s",
                  self->dropped, strerror (errno));
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Skip damage at a replay instead of failing

void
zg_qlog_set_repair (zg_qlog_t *self, bool repair)
{
    assert (self);
    self->repair = repair;
}

//  --------------------------------------------------------------------------
//  Damaged bytes skipped at the last replay

uint64_t
zg_qlog_skipped (zg_qlog_t *self)
{
    assert (self);
    return self->skipped;
}

//  --------------------------------------------------------------------------
//  Keep this many bytes of zeros ahead of the end

void
zg_qlog_set_step (zg_qlog_t *self, uint64_t step)
{
    assert (self);
    self->step = step;
    if (step && !self->space)
        self->space = zg_qsyncer_new ();
}

//  The extension in flight ended, or wait for it: the room is there, or
//  not (a full disk), then not again until the log grew by a step
static void
s_space_end (zg_qlog_t *self)
{
    if (zg_qsyncer_finish (self->space) == 0)
        self->allocated = self->extending;
    else
        self->retry_size = self->size + self->step;
}

//  Before a write of length bytes: take the end of an extension, waiting
//  for it if the write needs its room
static void
s_room_before (zg_qlog_t *self, size_t length)
{
    if (self->space && zg_qsyncer_busy (self->space)
    && (zg_qsyncer_ended (self->space) || self->size + length > self->allocated))
        s_space_end (self);
}

//  After a write: the next step ahead once half of the room is used
static void
s_room_after (zg_qlog_t *self)
{
    if (self->size > self->allocated)
        self->allocated = self->size;
    if (self->space && !zg_qsyncer_busy (self->space) && !self->broken && self->size >= self->retry_size
    &&  self->allocated - self->size < self->step / 2) {
        self->extending = self->allocated + self->step;
        zg_qsyncer_extend (self->space, self->handle, self->allocated, self->extending);
    }
}

//  --------------------------------------------------------------------------
//  Bytes cut off at the last replay

uint64_t
zg_qlog_dropped (zg_qlog_t *self)
{
    assert (self);
    return self->dropped;
}

//  --------------------------------------------------------------------------
//  Room in the pending transaction

byte *
zg_qlog_reserve (zg_qlog_t *self, size_t size, uint64_t *offset)
{
    assert (self && offset);
    if (!self->pending_size)
        self->pending_size = ZG_QLOG_TXN_HEADER;
    if (self->pending_size + size > self->pending_max) {
        size_t wanted = self->pending_max? self->pending_max: 65536;
        while (wanted < self->pending_size + size)
            wanted *= 2;
        self->pending = (byte *) realloc (self->pending, wanted);
        assert (self->pending);
        self->pending_max = wanted;
    }
    byte *room = self->pending + self->pending_size;
    *offset = self->size + self->pending_size;
    self->pending_size += size;
    return room;
}

//  --------------------------------------------------------------------------
//  Bytes in the pending transaction

size_t
zg_qlog_pending (zg_qlog_t *self)
{
    assert (self);
    return self->pending_size;
}

//  --------------------------------------------------------------------------
//  Drop the pending transaction

void
zg_qlog_discard (zg_qlog_t *self)
{
    assert (self);
    self->pending_size = 0;
}

//  --------------------------------------------------------------------------
//  Append the pending transaction

int
zg_qlog_commit (zg_qlog_t *self, bool sync)
{
    assert (self);
    size_t length = self->pending_size;
    self->pending_size = 0;
    if (self->broken) {
        snprintf (self->error, sizeof self->error, "store unusable after an earlier I/O error, restart zgate");
        return -1;
    }
    if (length > ZG_QLOG_TXN_HEADER + (size_t) ZG_QLOG_TXN_MAX) {
        snprintf (self->error, sizeof self->error, "a pass of %zu bytes is more than one commit holds", length);
        return -1;
    }
    if (length) {
        size_t body = length - ZG_QLOG_TXN_HEADER;
        zg_qrecord_put_uint (self->pending, body, 4);
        zg_qrecord_put_uint (self->pending + 8, self->synced, 8);
        uint32_t crc = zg_qlog_crc (0, self->pending, 4);
        crc = zg_qlog_crc (crc, self->pending + 8, 8);
        zg_qrecord_put_uint (self->pending + 4, zg_qlog_crc (crc, self->pending + ZG_QLOG_TXN_HEADER, body), 4);
        s_room_before (self, length);
        int code = s_write_at (self->handle, self->pending, length, self->size);
        if (code) {
            s_set_error (self, code, "cannot write");
            //  Nothing after the last transaction, or the next replay stops
            //  at these bytes and drops every later commit
            char reason [ZG_QLOG_ERROR_SIZE];
            snprintf (reason, sizeof reason, "%s", self->error);
            if (s_cut (self, self->size) == 0)
                snprintf (self->error, sizeof self->error, "%s", reason);
            return -1;
        }
        self->size += length;
        s_room_after (self);
    }
    if (sync && self->synced < self->size)
        return zg_qlog_synced (self, self->size, fdatasync (self->handle)? errno: 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  The file's handle, for a sync made elsewhere (zg_qsyncer)

int
zg_qlog_handle (zg_qlog_t *self)
{
    assert (self);
    return self->handle;
}

//  --------------------------------------------------------------------------
//  Bytes written and not yet known to be synced

uint64_t
zg_qlog_unsynced (zg_qlog_t *self)
{
    assert (self);
    return self->size - self->synced;
}

//  --------------------------------------------------------------------------
//  The result of an fdatasync of the file made when it had size bytes

int
zg_qlog_synced (zg_qlog_t *self, uint64_t size, int code)
{
    assert (self);
    if (code) {
        //  The kernel may have dropped the pages it could not write:
        //  what the file holds is unknown until it is read again
        s_set_error (self, code, "cannot sync");
        self->broken = true;
        return -1;
    }
    self->syncs++;
    if (size > self->synced)
        self->synced = size;
    return 0;
}

//  --------------------------------------------------------------------------
//  Read bytes of the file: from a map of it (a load or a compaction reads
//  every live task, a syscall each would dominate), else with pread

int
zg_qlog_read (zg_qlog_t *self, uint64_t offset, void *buffer, size_t size)
{
    assert (self);
    assert (offset + size <= self->size);
    if (offset + size > self->map_size && self->size > ZG_QLOG_FILE_HEADER) {
        s_unmap (self);
        void *map = mmap (NULL, self->size, PROT_READ, MAP_SHARED, self->handle, 0);
        if (map != MAP_FAILED) {
            self->map = (const byte *) map;
            self->map_size = self->size;
        }
    }
    if (offset + size <= self->map_size) {
        if (size)
            memcpy (buffer, self->map + offset, size);
        return 0;
    }
    byte *target = (byte *) buffer;
    while (size) {
        ssize_t got = pread (self->handle, target, size, (off_t) offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            s_set_error (self, got < 0? errno: EIO, "cannot read");
            return -1;
        }
        target += got;
        size -= (size_t) got;
        offset += (uint64_t) got;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Put a compacted log in place

int
zg_qlog_install (zg_qlog_t *self, zg_qlog_t **fresh_p)
{
    assert (self && fresh_p && *fresh_p);
    zg_qlog_t *fresh = *fresh_p;
    assert (!fresh->pending_size && !self->pending_size);
    //  The thread writes no zeros into a file that is replaced
    if (self->space && zg_qsyncer_busy (self->space))
        s_space_end (self);
    int code = fresh->broken? EIO: 0;
    if (code == 0 && rename (fresh->path, self->path))
        code = errno;
    if (code) {
        s_set_error (self, code, "cannot install the compacted file");
        unlink (fresh->path);
        zg_qlog_destroy (fresh_p);
        return -1;
    }
    //  The new file is in place for this process. If its name is not
    //  durable, a crash may bring back the old file, without the commits
    //  made after this: the log is broken (refuses commits) until reopened
    code = s_sync_dir (self->path);
    s_unmap (self);
    close (self->handle);
    self->handle = fresh->handle;
    fresh->handle = -1;
    self->size = self->allocated = fresh->size;
    self->synced = fresh->synced;
    self->retry_size = 0;
    self->syncs += fresh->syncs;
    zg_qlog_destroy (fresh_p);
    if (code) {
        s_set_error (self, code, "cannot sync the directory after compaction");
        self->broken = true;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Append the transactions of another log from start

int
zg_qlog_copy (zg_qlog_t *self, zg_qlog_t *from, uint64_t start)
{
    assert (self && from && !self->pending_size);
    for (uint64_t at = start; at < from->size; ) {
        byte header [ZG_QLOG_TXN_HEADER];
        uint64_t offset;
        if (zg_qlog_read (from, at, header, sizeof header)) {
            snprintf (self->error, sizeof self->error, "%s", from->error);
            return -1;
        }
        size_t body = (size_t) zg_qrecord_get_uint (header, 4);
        if (zg_qlog_read (from, at + ZG_QLOG_TXN_HEADER, zg_qlog_reserve (self, body, &offset), body)) {
            zg_qlog_discard (self);
            snprintf (self->error, sizeof self->error, "%s", from->error);
            return -1;
        }
        if (zg_qlog_commit (self, false))
            return -1;
        at += ZG_QLOG_TXN_HEADER + body;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Bytes of the file

uint64_t
zg_qlog_size (zg_qlog_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  fdatasyncs made

uint64_t
zg_qlog_syncs (zg_qlog_t *self)
{
    assert (self);
    return self->syncs;
}

//  --------------------------------------------------------------------------
//  The last error

const char *
zg_qlog_error (zg_qlog_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Collects the bodies a replay finds, as "body@offset;" text
static int
s_test_collect (const byte *body, size_t size, uint64_t offset, void *arg)
{
    char *text = (char *) arg;
    size_t used = strlen (text);
    snprintf (text + used, 512 - used, "%.*s@%" PRIu64 ";", (int) size, (const char *) body, offset);
    return 0;
}

//  Stops a replay
static int
s_test_stop (const byte *body, size_t size, uint64_t offset, void *arg)
{
    (void) body, (void) size, (void) offset, (void) arg;
    return 7;
}

//  Counts transactions, and checks they are the room test's
static int
s_test_count (const byte *body, size_t size, uint64_t offset, void *arg)
{
    (void) offset, (void) arg;
    assert (size == 4 && (memcmp (body, "task", 4) == 0 || memcmp (body, "next", 4) == 0));
    return 0;
}

//  Append one transaction of these bytes
static int
s_test_append (zg_qlog_t *self, const char *text, bool sync)
{
    uint64_t offset;
    memcpy (zg_qlog_reserve (self, strlen (text), &offset), text, strlen (text));
    return zg_qlog_commit (self, sync);
}

//  Reopen the log at path and replay it into text
static zg_qlog_t *
s_test_reopen (zg_qlog_t **self_p, const char *path, char *text)
{
    zg_qlog_destroy (self_p);
    char error [256];
    zg_qlog_t *self = zg_qlog_open (path, error, sizeof error);
    assert (self);
    *text = 0;
    assert (zg_qlog_replay (self, s_test_collect, text) == 0);
    return self;
}

//  In a child limited to files of 100 bytes (RLIMIT_FSIZE, as a full disk):
//  the write fails, the log stays as it was and usable
static void
s_test_full_disk (const char *path)
{
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        signal (SIGXFSZ, SIG_IGN);
        struct rlimit limit = { 100, 100 };
        setrlimit (RLIMIT_FSIZE, &limit);
        char error [256], text [512];
        zg_qlog_t *self = zg_qlog_open (path, error, sizeof error);
        uint64_t size = zg_qlog_size (self);
        char big [200];
        memset (big, 'x', sizeof big - 1);
        big [sizeof big - 1] = 0;
        bool refused = s_test_append (self, big, true) == -1 && strstr (zg_qlog_error (self), "disk full")
                    && zg_qlog_size (self) == size && s_test_append (self, "small", true) == 0;
        self = s_test_reopen (&self, path, text);
        refused = refused && strstr (text, "small@");
        zg_qlog_destroy (&self);
        _exit (refused? 0: 1);
    }
    int status;
    assert (waitpid (child, &status, 0) == child);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

//  A new, empty log at path
static zg_qlog_t *
s_test_fresh (const char *path, char *text)
{
    unlink (path);
    zg_qlog_t *log = NULL;
    return s_test_reopen (&log, path, text);
}

//  Damage: the middle of the committed log, or writes no sync covered
static void
s_test_damage (const char *path)
{
    char text [512];
    zg_qlog_t *log = s_test_fresh (path, text);
    assert (s_test_append (log, "first", true) == 0 && s_test_append (log, "second", true) == 0);
    assert (s_test_append (log, "third", true) == 0);
    //  A byte of "second" flipped: "third" was written once it was on
    //  disk, so the replay fails rather than drop committed records
    zg_qlog_destroy (&log);
    int handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "S", 1, 8 + 21 + 16) == 1);
    close (handle);
    char error [256];
    log = zg_qlog_open (path, error, sizeof error);
    assert (log && zg_qlog_replay (log, s_test_collect, (*text = 0, text)) == -1);
    assert (strstr (zg_qlog_error (log), "damaged transaction at byte 29 (the one at byte 51 was written after"));
    assert (streq (text, "first@24;"));
    //  Repairing, it is skipped and the rest kept
    zg_qlog_set_repair (log, true);
    *text = 0;
    assert (zg_qlog_replay (log, s_test_collect, text) == 0);
    assert (streq (text, "first@24;third@67;") && zg_qlog_skipped (log) == 22 && zg_qlog_dropped (log) == 0);
    //  Two writes no sync covered, the first one torn: a torn tail, even
    //  though the second reached the disk; both are cut off
    assert (s_test_append (log, "fourth", false) == 0 && s_test_append (log, "fifth", false) == 0);
    uint64_t end = zg_qlog_size (log);
    zg_qlog_destroy (&log);
    handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "F", 1, 72 + 16) == 1);
    close (handle);
    log = zg_qlog_open (path, error, sizeof error);
    zg_qlog_set_repair (log, true);
    *text = 0;
    assert (zg_qlog_replay (log, s_test_collect, text) == 0);
    assert (streq (text, "first@24;third@67;") && zg_qlog_dropped (log) == end - 72 && zg_qlog_skipped (log) == 22);
    zg_qlog_destroy (&log);
}

//  Room ahead: zeros after the end, made while commits go on, are the end
//  of the log at a replay, not a torn tail
static void
s_test_room (const char *path)
{
    char text [512];
    zg_qlog_t *log = s_test_fresh (path, text);
    zg_qlog_set_step (log, 65536);
    for (int count = 0; count < 5000; count++)
        assert (s_test_append (log, "task", count % 100 == 0) == 0);
    assert (zg_qlog_commit (log, true) == 0);
    uint64_t size = zg_qlog_size (log);
    assert (size == ZG_QLOG_FILE_HEADER + 5000 * 20);
    zg_qlog_destroy (&log);
    struct stat info;
    assert (stat (path, &info) == 0 && (uint64_t) info.st_size > size);
    char error [256];
    log = zg_qlog_open (path, error, sizeof error);
    assert (log && zg_qlog_replay (log, s_test_stop, NULL) == 7);
    assert (zg_qlog_replay (log, s_test_count, NULL) == 0);
    assert (zg_qlog_size (log) == size && zg_qlog_dropped (log) == 0);
    assert (stat (path, &info) == 0 && (uint64_t) info.st_size > size);
    //  The next commit follows the last transaction, in the room
    assert (s_test_append (log, "next", true) == 0 && zg_qlog_size (log) == size + 20);
    zg_qlog_destroy (&log);
}

void
zg_qlog_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlog: ");
    //  CRC-32C's check value
    assert (zg_qlog_crc (0, "123456789", 9) == 0xE3069283);
    assert (zg_qlog_crc (zg_qlog_crc (0, "1234", 4), "56789", 5) == 0xE3069283);

    char dir [] = "/tmp/zg_qlog_test_XXXXXX";
    assert (mkdtemp (dir));
    char path [64], fresh_path [64], text [512], error [256];
    snprintf (path, sizeof path, "%s/log", dir);
    snprintf (fresh_path, sizeof fresh_path, "%s/log.new", dir);

    //  Transactions come back in order with their offsets; a reserve tells
    //  where its bytes will lie
    zg_qlog_t *log = NULL;
    log = s_test_reopen (&log, path, text);
    assert (*text == 0 && zg_qlog_size (log) == ZG_QLOG_FILE_HEADER);
    uint64_t offset;
    memcpy (zg_qlog_reserve (log, 3, &offset), "one", 3);
    assert (offset == ZG_QLOG_FILE_HEADER + ZG_QLOG_TXN_HEADER);
    memcpy (zg_qlog_reserve (log, 3, &offset), "two", 3);
    assert (offset == ZG_QLOG_FILE_HEADER + ZG_QLOG_TXN_HEADER + 3 && zg_qlog_pending (log) == 22);
    assert (zg_qlog_commit (log, true) == 0 && zg_qlog_syncs (log) == 1 && zg_qlog_pending (log) == 0);
    //  A commit without a sync: the next sync covers it, even with nothing new
    assert (s_test_append (log, "three", false) == 0 && zg_qlog_syncs (log) == 1 && zg_qlog_unsynced (log) == 21);
    memcpy (zg_qlog_reserve (log, 4, &offset), "lost", 4);
    zg_qlog_discard (log);
    assert (zg_qlog_commit (log, true) == 0 && zg_qlog_syncs (log) == 2 && zg_qlog_unsynced (log) == 0);
    assert (zg_qlog_commit (log, true) == 0 && zg_qlog_syncs (log) == 2);
    log = s_test_reopen (&log, path, text);
    assert (streq (text, "onetwo@24;three@46;"));
    assert (zg_qlog_dropped (log) == 0);
    char buffer [4];
    assert (zg_qlog_read (log, 27, buffer, 3) == 0 && memcmp (buffer, "two", 3) == 0);

    //  A torn tail: a transaction cut short, then one whose checksum fails.
    //  Each is cut off, and the next commit follows the last good one.
    uint64_t good = zg_qlog_size (log);
    assert (s_test_append (log, "four", true) == 0);
    assert (truncate (path, (off_t) zg_qlog_size (log) - 1) == 0);
    log = s_test_reopen (&log, path, text);
    assert (streq (text, "onetwo@24;three@46;") && zg_qlog_dropped (log) == 19 && zg_qlog_size (log) == good);
    assert (s_test_append (log, "five", true) == 0);
    int handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "F", 1, (off_t) good + ZG_QLOG_TXN_HEADER) == 1);
    close (handle);
    log = s_test_reopen (&log, path, text);
    assert (streq (text, "onetwo@24;three@46;") && zg_qlog_dropped (log) == 20);
    assert (s_test_append (log, "six", true) == 0);
    log = s_test_reopen (&log, path, text);
    assert (streq (text, "onetwo@24;three@46;six@67;") && zg_qlog_dropped (log) == 0);

    //  A replay stops at the callback's non-zero return
    assert (zg_qlog_replay (log, s_test_stop, NULL) == 7);
    zg_qlog_destroy (&log);
    s_test_full_disk (path);

    //  Compaction: a new log renamed over the old one
    log = s_test_reopen (&log, path, text);
    zg_qlog_t *fresh = zg_qlog_create (fresh_path, error, sizeof error);
    assert (fresh && s_test_append (fresh, "compact", true) == 0);
    assert (zg_qlog_install (log, &fresh) == 0 && fresh == NULL);
    assert (access (fresh_path, F_OK) == -1 && s_test_append (log, "after", true) == 0);
    log = s_test_reopen (&log, path, text);
    assert (streq (text, "compact@24;after@47;"));

    //  A sync made elsewhere (zg_qsyncer) counts; one that failed breaks the log
    assert (s_test_append (log, "async", false) == 0 && zg_qlog_unsynced (log) == 21);
    assert (fdatasync (zg_qlog_handle (log)) == 0);
    assert (zg_qlog_synced (log, zg_qlog_size (log), 0) == 0 && zg_qlog_unsynced (log) == 0);
    assert (s_test_append (log, "lost", false) == 0);
    assert (zg_qlog_synced (log, zg_qlog_size (log), EIO) == -1);
    assert (s_test_append (log, "refused", true) == -1 && strstr (zg_qlog_error (log), "restart zgate"));

    zg_qlog_destroy (&log);
    s_test_damage (path);
    s_test_room (path);

    //  Not a log, or another format: refused with one line
    handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "ZGQLOG\x00\x09", 8, 0) == 8);
    close (handle);
    assert (zg_qlog_open (path, error, sizeof error) == NULL);
    assert (streq (error, "task log format 9, this zgate reads 2"));
    handle = open (path, O_WRONLY);
    assert (handle >= 0 && pwrite (handle, "garbage!", 8, 0) == 8);
    close (handle);
    assert (zg_qlog_open (path, error, sizeof error) == NULL && streq (error, "not a zgate task log"));
    assert (unlink (path) == 0 && rmdir (dir) == 0);
    printf ("OK\n");
}
