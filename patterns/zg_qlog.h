/*  =========================================================================
    zg_qlog - an append-only file of checksummed transactions

    Private to the queues: the file under the log store (zg_qlogstore).
    The caller fills one pending transaction (zg_qlog_reserve) and commits
    it with one write and one fdatasync, so a loop pass costs one sync.

    Layout, integers big-endian:
        file:        [magic "ZGQLOG" 6][format 2] transaction* [zeros]
        transaction: [body size 4][crc32c 4][synced 8][body]
    The CRC-32C covers the size field, synced and the body. synced is how
    many bytes of the file were known to be on disk (fdatasync'd) when the
    transaction was written. The zeros are room made ahead of the end
    (zg_qsyncer_extend, zg_qlog_set_step), so that a sync flushes data only.

    A replay reads the transactions in order up to the first one that is
    incomplete or fails its checksum, and looks at what follows:
    - zeros to the end of the file: the end of the log;
    - no later complete transaction whose synced passes that point: a torn
      tail (writes that no sync covered; some may have reached the disk
      out of order, so later ones may be complete). It is cut off there
      (the bytes dropped are counted), so that the next commit follows the
      last complete transaction;
    - a later transaction whose synced passes it: the bytes there had been
      on disk and were damaged since (a bad sector, an outside write).
      Dropping them and what follows would lose committed records, so the
      replay fails with one line, unless repairing (zg_qlog_set_repair):
      then it skips to the next complete transaction and goes on (the bytes
      skipped are counted).

    A failed write is cut off again and the log stays usable (a full disk
    may have room later). A failed sync or cut leaves the file in a state
    this process cannot know (the kernel may have dropped dirty pages):
    the log is then broken and refuses every commit until it is reopened.

    Compaction writes a new log beside the file (zg_qlog_create, then
    commits), and zg_qlog_install renames it over the file and syncs the
    directory: a crash leaves either the old file or the new one.
    =========================================================================
*/

#ifndef ZG_QLOG_H_INCLUDED
#define ZG_QLOG_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Format of the file layout above
#define ZG_QLOG_FORMAT 2
//  Bytes of the file header and of a transaction header
#define ZG_QLOG_FILE_HEADER 8
#define ZG_QLOG_TXN_HEADER 16

typedef struct _zg_qlog_t zg_qlog_t;

//  Called by zg_qlog_replay for each complete transaction: its body, and
//  where the body starts in the file. A non-zero return stops the replay
//  and becomes its return value.
typedef int (zg_qlog_replay_fn) (const byte *body, size_t size, uint64_t offset, void *arg);

//  Open the log at path, creating it if missing; replay it before any
//  commit (the replay finds its end). Returns NULL with a
//  one-line reason in error if it cannot be opened or made, or is not a
//  log of this format.
zg_qlog_t *
    zg_qlog_open (const char *path, char *error, size_t size);

//  Create a new, empty log at path, replacing any file there
zg_qlog_t *
    zg_qlog_create (const char *path, char *error, size_t size);

//  Close the log, dropping an uncommitted transaction
void
    zg_qlog_destroy (zg_qlog_t **self_p);

//  Call fn for every complete transaction in order, then cut the file
//  after the last one. Returns 0, fn's non-zero return, or -1 with
//  zg_qlog_error set if the file cannot be read or cut.
int
    zg_qlog_replay (zg_qlog_t *self, zg_qlog_replay_fn *fn, void *arg);

//  Bytes cut off at the last replay (a torn tail)
uint64_t
    zg_qlog_dropped (zg_qlog_t *self);

//  Whether a replay skips damaged committed bytes (true) or fails at them
//  (false, the default)
void
    zg_qlog_set_repair (zg_qlog_t *self, bool repair);

//  Damaged bytes skipped at the last replay (when repairing)
uint64_t
    zg_qlog_skipped (zg_qlog_t *self);

//  Keep step bytes of synced zeros ahead of the end, made in a thread
//  (zg_qsyncer_extend) once half of them are used; 0 (the default): none
void
    zg_qlog_set_step (zg_qlog_t *self, uint64_t step);

//  Room for size more bytes in the pending transaction; where they will
//  lie in the file goes to offset. The pointer is valid until the next
//  reserve or commit.
byte *
    zg_qlog_reserve (zg_qlog_t *self, size_t size, uint64_t *offset);

//  Bytes in the pending transaction (0 when none)
size_t
    zg_qlog_pending (zg_qlog_t *self);

//  Drop the pending transaction
void
    zg_qlog_discard (zg_qlog_t *self);

//  Append the pending transaction and, if sync, fdatasync the file.
//  Returns 0 (also when nothing was pending), or -1 with zg_qlog_error
//  set: the transaction is not in the file.
int
    zg_qlog_commit (zg_qlog_t *self, bool sync);

//  The file's handle, for an fdatasync made elsewhere (zg_qsyncer)
int
    zg_qlog_handle (zg_qlog_t *self);

//  Bytes committed without a sync, or not yet known to be synced
uint64_t
    zg_qlog_unsynced (zg_qlog_t *self);

//  Record the result of an fdatasync of the file made elsewhere when the
//  file had size bytes: code 0 (they are on disk), or the errno of the
//  failure (the log is broken, as after its own failed sync). Returns 0,
//  or -1 with the error set.
int
    zg_qlog_synced (zg_qlog_t *self, uint64_t size, int code);

//  Read size bytes at offset of the file. Returns 0 or -1 with the error.
int
    zg_qlog_read (zg_qlog_t *self, uint64_t offset, void *buffer, size_t size);

//  Rename fresh's file over self's, sync the directory, and go on with
//  fresh's file (fresh is destroyed). Returns 0 once the new file is in
//  use (if the directory sync failed, the log is broken, see above), or -1
//  with self's error set: then self keeps its file and fresh is destroyed
//  and removed.
int
    zg_qlog_install (zg_qlog_t *self, zg_qlog_t **fresh_p);

//  Append every transaction of from, from byte start (a transaction's
//  start) to its end, as transactions of self (written, not synced): each
//  keeps its place relative to the others. Returns 0, or -1 with self's
//  error set.
int
    zg_qlog_copy (zg_qlog_t *self, zg_qlog_t *from, uint64_t start);

//  Bytes of the log (committed transactions; the zeros ahead not counted)
uint64_t
    zg_qlog_size (zg_qlog_t *self);

//  fdatasyncs made
uint64_t
    zg_qlog_syncs (zg_qlog_t *self);

//  The last error, one line
const char *
    zg_qlog_error (zg_qlog_t *self);

//  CRC-32C (Castagnoli) of size bytes, continuing from crc (0 to start)
uint32_t
    zg_qlog_crc (uint32_t crc, const void *data, size_t size);

//  Self test of this class
void
    zg_qlog_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
