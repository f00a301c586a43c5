/*  =========================================================================
    zg_qlogspace - room ahead of the task log's end: zeros written and
    synced in a thread of their own

    Private to the log (zg_qlog). An fdatasync after an append that grew
    the file also commits the new size (a journal commit on ext4 and XFS),
    and one after a write into fallocate's unwritten extents commits their
    conversion: either costs the sync a metadata write. Writes into blocks
    that already hold synced zeros change data only, and their fdatasync
    is a data flush. So the log keeps a step of such zeros ahead of its
    end; this thread writes and syncs the next step while the actor goes
    on appending below it. One extension at a time: start it, ask whether
    it ended, or wait. A failed one (a full disk) cuts the file back to
    where it started: the log then appends as before.
    =========================================================================
*/

#ifndef ZG_QLOGSPACE_H_INCLUDED
#define ZG_QLOGSPACE_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qlogspace_t zg_qlogspace_t;

//  An extender and its thread
zg_qlogspace_t *
    zg_qlogspace_new (void);

//  Stop the thread (after the extension in flight, if any)
void
    zg_qlogspace_destroy (zg_qlogspace_t **self_p);

//  Write zeros into bytes from .. to - 1 of the file handle, then
//  fdatasync it, in the thread; none may be in flight. Nothing else may
//  write at or past from until it ended.
void
    zg_qlogspace_start (zg_qlogspace_t *self, int handle, uint64_t from, uint64_t to);

//  Whether an extension is in flight
bool
    zg_qlogspace_busy (zg_qlogspace_t *self);

//  Whether the extension in flight ended (then zg_qlogspace_finish takes
//  its result without waiting)
bool
    zg_qlogspace_ended (zg_qlogspace_t *self);

//  Wait for the extension in flight to end: 0, or the errno of its
//  failure (the file is then cut back to from)
int
    zg_qlogspace_finish (zg_qlogspace_t *self);

//  Self test of this class
void
    zg_qlogspace_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
