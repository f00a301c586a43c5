/*  =========================================================================
    zg_qlogstore - durable task records of the queues actor, in a log

    Private to the queues. The same model and calls as zg_qstore (see
    zg_qstore.h: passes, the 7/8 rule, lost passes, load in id order), kept
    in one append-only file, ZG_QLOGSTORE_FILE in the data directory
    (zg_qlog), locked for one process (zg_dirlock); queues/data-store = log
    (LMDB, zg_qstore, is the default): a pass costs one write and one
    fdatasync, where an LMDB commit syncs twice (pages, then meta page).

    Each change of a pass is one record in the pass's transaction:
        put:        [1][id 8][header size 2][header][payload size 4][payload]
                    [result size 4][result]      header in zg_qrecord's format
        use id:     [2][id 8]
        deliver:    [3][id 8][attempt 4][started 8]
        requeue:    [4][id 8]
        dead:       [5][id 8][expires 8][queue size 1][queue]
        finish:     [6][id 8][state 1][finished 8][expires 8][keep input 1]
                    [result size 4][result]
        delete:     [7][id 8]
    An index in memory holds each stored task's header and where its
    payload or result lies in the file (not the bytes: the queues' core
    holds those). Opening replays the file into the index; a torn tail is
    cut at the last complete transaction (zg_qlog). A commit that fails
    leaves the file at the previous commit, and the index is rebuilt from
    the file.

    Compaction: once the bytes no task needs (changed or forgotten records)
    pass both the live bytes and the compaction threshold, or the file is
    past 7/8 of data-max-size with that many dead bytes, each live task is
    written as one put into a new file and renamed over the old one
    (zg_qlogcompact). With pipelined passes (zg_qlogstore_write, _synced)
    the new file's long sync runs in a thread while passes go on, and the
    passes written meanwhile are copied over at the finish; a synced commit
    (zg_qlogstore_commit) waits for it. If it fails, the old file stays in
    use.

    The file keeps up to ZG_QLOGSTORE_ROOM_BYTES of synced zeros ahead of
    its last transaction (zg_qlog_set_step), so that a pass's fdatasync
    flushes data and commits no file size.
    =========================================================================
*/

#ifndef ZG_QLOGSTORE_H_INCLUDED
#define ZG_QLOGSTORE_H_INCLUDED

#include <czmq.h>
#include "zg_qrecord.h"
#include "zg_qstore.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The log's file in the data directory, and the compaction's new file
#define ZG_QLOGSTORE_FILE "tasks.log"
#define ZG_QLOGSTORE_NEW_FILE "tasks.log.new"

//  Dead bytes that make a compaction worth its copy, at most
#define ZG_QLOGSTORE_COMPACT_BYTES 16777216
//  Zeros kept ahead of the file's end (zg_qlog_set_step), at most (and at
//  most data-max-size / 16)
#define ZG_QLOGSTORE_ROOM_BYTES 16777216

typedef struct _zg_qlogstore_t zg_qlogstore_t;

//  Call the function name of whichever store is open: zg_qlogstore_name on
//  log if it is not NULL, else zg_qstore_name on lmdb (the calls are alike)
#define ZG_QLOGSTORE_EITHER(log, lmdb, name, ...) \
    ((log)? zg_qlogstore_##name ((log), ##__VA_ARGS__): zg_qstore_##name ((lmdb), ##__VA_ARGS__))

//  What the store did so far
typedef struct {
    uint64_t syncs;                 //  fdatasyncs
    uint64_t bytes;                 //  Bytes of the file
    uint64_t live;                  //  Bytes a compaction would keep
    uint64_t compactions;           //  Compactions done
    uint64_t errors;                //  Compactions failed
    uint64_t dropped;               //  Torn bytes cut off when opened
} zg_qlogstore_counters_t;

//  Open (creating it if needed) the store in a directory and lock it; see
//  zg_qstore_open
zg_qlogstore_t *
    zg_qlogstore_open (const char *dir, const zg_qstore_options_t *options, char *error, size_t size);

//  Close the store, dropping an uncommitted pass, and release the lock
void
    zg_qlogstore_destroy (zg_qlogstore_t **self_p);

//  Compact past this many dead bytes (default: the smaller of
//  ZG_QLOGSTORE_COMPACT_BYTES and data-max-size / 16)
void
    zg_qlogstore_set_compact_bytes (zg_qlogstore_t *self, uint64_t bytes);

//  The calls of zg_qstore, with the same contracts
int
    zg_qlogstore_load (zg_qlogstore_t *self, zg_qstore_load_fn *fn, void *arg);
uint64_t
    zg_qlogstore_next_id (zg_qlogstore_t *self);
int
    zg_qlogstore_put (zg_qlogstore_t *self, const zg_qrecord_t *record);
int
    zg_qlogstore_use_id (zg_qlogstore_t *self, uint64_t id);
int
    zg_qlogstore_deliver (zg_qlogstore_t *self, uint64_t id, uint32_t attempt, int64_t started);
int
    zg_qlogstore_requeue (zg_qlogstore_t *self, uint64_t id);
int
    zg_qlogstore_dead_letter (zg_qlogstore_t *self, uint64_t id, const char *queue, size_t queue_size,
                              int64_t expires);
int
    zg_qlogstore_finish (zg_qlogstore_t *self, uint64_t id, uint8_t state, int64_t finished, int64_t expires,
                         const void *result, size_t result_size, bool keep_input);
int
    zg_qlogstore_delete (zg_qlogstore_t *self, uint64_t id);
size_t
    zg_qlogstore_pending (zg_qlogstore_t *self);
int
    zg_qlogstore_commit (zg_qlogstore_t *self);
const char *
    zg_qlogstore_error (zg_qlogstore_t *self);

//  Pipelined commit (zg_qdurable): end the pass like zg_qlogstore_commit
//  but without its sync. Returns 0, or -1 with the error set (the pass is
//  lost, as a commit's). Its changes are durable once a sync covers them.
int
    zg_qlogstore_write (zg_qlogstore_t *self);

//  Bytes written and not yet synced; the file's handle and size go to
//  handle and size, for an fdatasync made elsewhere (zg_qsyncer)
uint64_t
    zg_qlogstore_unsynced (zg_qlogstore_t *self, int *handle, uint64_t *size);

//  Record that fdatasync of the file, made when it had size bytes, ended
//  with code (0 or an errno). No other sync may be in flight: a compaction
//  may follow. Returns 0, or -1 with the error set (the store is then
//  unusable until reopened, as after a failed sync of its own).
int
    zg_qlogstore_synced (zg_qlogstore_t *self, uint64_t size, int code);

//  What the store did so far
zg_qlogstore_counters_t
    zg_qlogstore_counters (zg_qlogstore_t *self);

//  Self test of this class
void
    zg_qlogstore_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
