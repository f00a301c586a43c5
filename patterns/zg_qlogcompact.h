/*  =========================================================================
    zg_qlogcompact - a compaction of the task log (zg_qlogstore) whose
    long part, the sync of the new file, runs in a thread

    Private to the log store. Start: every live task of the index is
    written as one put into a new file beside the log (ZG_QLOGSTORE_NEW_FILE,
    unsynced, from the page cache of the old file: a copy in memory), then
    its fdatasync starts in a thread (zg_qsyncer), and the actor goes on
    appending passes to the old file. Finish (once the old file is synced
    to its end: no sync of it in flight): the transactions appended since
    the start are copied to the new file, a second (short) sync covers
    them, the new file is renamed over the old one (zg_qlog_install), and
    each entry gets its new offsets: those before the start from the new
    puts, those after it shifted with the copied transactions. A crash at
    any point leaves the old file, complete, or the new one, complete.
    =========================================================================
*/

#ifndef ZG_QLOGCOMPACT_H_INCLUDED
#define ZG_QLOGCOMPACT_H_INCLUDED

#include <czmq.h>
#include "zg_qlog.h"
#include "zg_qlogindex.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qlogcompact_t zg_qlogcompact_t;

//  Start a compaction of log (synced to its end) into a new file at path:
//  the puts of every task of index, a use of last_id, and the new file's
//  sync in a thread. Returns NULL with a one-line reason in error if the
//  new file cannot be written (it is removed).
zg_qlogcompact_t *
    zg_qlogcompact_new (const char *path, zg_qlog_t *log, zg_qlogindex_t *index, uint64_t last_id,
                        char *error, size_t size);

//  Stop a compaction that will not be finished: wait for its sync and
//  remove the new file
void
    zg_qlogcompact_destroy (zg_qlogcompact_t **self_p);

//  Whether the sync of the new file ended (finish would not wait for it)
bool
    zg_qlogcompact_ready (zg_qlogcompact_t *self);

//  Finish (log must be synced to its end, index the one given at the
//  start, changed since only by log's later transactions): see above.
//  Returns 0 once log uses the new file, or -1 with a one-line reason in
//  error, log keeping its file. Destroys the compaction either way.
int
    zg_qlogcompact_finish (zg_qlogcompact_t **self_p, zg_qlog_t *log, zg_qlogindex_t *index, char *error,
                           size_t size);

//  Self test of this class
void
    zg_qlogcompact_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
