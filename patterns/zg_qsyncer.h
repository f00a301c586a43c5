/*  =========================================================================
    zg_qsyncer - fdatasync in a thread of its own

    Private to the durable queues. The log store's commit is a write and an
    fdatasync; the sync takes milliseconds on a real disk, and the queues
    actor can handle the next pass meanwhile (pipelined group commit, see
    zg_qdurable). One job at a time: start it, poll the socket (or ask
    whether it ended), finish it.

    The other job makes room ahead of the task log's end (zg_qlog, with a
    syncer of its own). An fdatasync after an append that grew the file
    also commits the new size (a journal commit on ext4 and XFS), and one
    after a write into fallocate's unwritten extents commits their
    conversion: either costs the sync a metadata write. Writes into blocks
    that already hold synced zeros change data only, and their fdatasync
    is a data flush. So the log keeps a step of such zeros ahead of its
    end, written and synced here while the actor goes on appending below
    them: in small pieces, each written out before the next, so that a
    pass's sync never waits for more than one piece. A failed extension (a full disk) cuts the file back to where it
    started: the log then appends as before.
    =========================================================================
*/

#ifndef ZG_QSYNCER_H_INCLUDED
#define ZG_QSYNCER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qsyncer_t zg_qsyncer_t;

//  A syncer and its thread
zg_qsyncer_t *
    zg_qsyncer_new (void);

//  Stop the thread (after the sync in flight, if any)
void
    zg_qsyncer_destroy (zg_qsyncer_t **self_p);

//  fdatasync handle in the thread; none may be in flight
void
    zg_qsyncer_start (zg_qsyncer_t *self, int handle);

//  Write zeros into bytes from .. to - 1 of the file handle, then
//  fdatasync it, in the thread; none may be in flight. Nothing else may
//  write at or past from until it ended. On failure the file is cut back
//  to from.
void
    zg_qsyncer_extend (zg_qsyncer_t *self, int handle, uint64_t from, uint64_t to);

//  Whether a job is in flight
bool
    zg_qsyncer_busy (zg_qsyncer_t *self);

//  Whether the job in flight ended (then zg_qsyncer_finish takes its
//  result without waiting)
bool
    zg_qsyncer_ended (zg_qsyncer_t *self);

//  The socket (a libzmq handle) that becomes readable when the sync ends
void *
    zg_qsyncer_socket (zg_qsyncer_t *self);

//  Wait for the job in flight to end: 0, or the errno of its failure
int
    zg_qsyncer_finish (zg_qsyncer_t *self);

//  Self test of this class
void
    zg_qsyncer_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
