/*  =========================================================================
    zg_qsyncer - fdatasync in a thread of its own

    Private to the durable queues. The log store's commit is a write and an
    fdatasync; the sync takes milliseconds on a real disk, and the queues
    actor can handle the next pass meanwhile (pipelined group commit, see
    zg_qdurable). One sync at a time: start it, poll the socket, finish it.
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

//  Whether a sync is in flight
bool
    zg_qsyncer_busy (zg_qsyncer_t *self);

//  The socket (a libzmq handle) that becomes readable when the sync ends
void *
    zg_qsyncer_socket (zg_qsyncer_t *self);

//  Wait for the sync in flight to end: 0, or the errno of its failure
int
    zg_qsyncer_finish (zg_qsyncer_t *self);

//  Self test of this class
void
    zg_qsyncer_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
