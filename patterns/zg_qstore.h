/*  =========================================================================
    zg_qstore - durable task records of the queues actor, in LMDB

    Private to the queues. One store is one directory (queues/data-dir)
    holding an LMDB environment, locked for one process (zg_dirlock).

    Shaped for the actor loop: the first change of a loop pass opens a write
    transaction, every change of the pass joins it, and zg_qstore_commit
    makes them durable together (LMDB's default: synced at commit) before the
    pass sends any OK. A new task that would fill the store past 7/8 of
    data-max-size is refused alone (its SEND gets ZG_ERR_STORAGE, 507), so
    that the last eighth keeps room for acks and deletions. If any other
    change or the commit fails (store or disk full, I/O error), the whole
    pass is lost: the transaction is aborted, the store stays at the
    previous commit, further changes of the pass fail too, and the commit
    reports the failure; the caller answers each request of the pass with
    ZG_ERR_STORAGE (507) and must not act on the pass's changes.

    On restart, zg_qstore_load hands back every record in id order with the
    next id to issue. Records of waiting and in-progress tasks carry their
    payload, finished ones their result and retention deadline.

    Layout: database "meta" holds "format" (1 byte, ZG_QSTORE_FORMAT) and
    "next-id" (8 bytes, big-endian); database "tasks" holds the records, in
    the format of zg_qrecord.
    =========================================================================
*/

#ifndef ZG_QSTORE_H_INCLUDED
#define ZG_QSTORE_H_INCLUDED

#include <czmq.h>
#include "zg_qrecord.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Layout version of the environment (its databases and keys); each
//  record header has its own version, ZG_QRECORD_VERSION
#define ZG_QSTORE_FORMAT 1

//  Default and smallest data-max-size, bytes
#define ZG_QSTORE_DEFAULT_SIZE 1073741824
#define ZG_QSTORE_MIN_SIZE 65536

typedef struct _zg_qstore_t zg_qstore_t;

//  How to open a store
typedef struct {
    int64_t max_size;               //  Bytes the data file may grow to (queues/data-max-size)
    bool repair;                    //  The log store: skip damaged committed bytes instead of
                                    //  refusing to open (queues/data-repair); LMDB ignores it
} zg_qstore_options_t;

//  Called by zg_qstore_load for each record; its strings and bytes point
//  into the store and are valid only during the call. A non-zero return
//  stops the load and becomes its return value
typedef int (zg_qstore_load_fn) (const zg_qrecord_t *record, void *arg);

//  Open (creating it if needed) the store in a directory and lock it for
//  this process. Returns NULL with a one-line reason in error if the
//  directory cannot be made or used, another process (or store) holds it,
//  or its format is not one this build reads.
zg_qstore_t *
    zg_qstore_open (const char *dir, const zg_qstore_options_t *options, char *error, size_t size);

//  Close the store, aborting an uncommitted pass, and release the lock
void
    zg_qstore_destroy (zg_qstore_t **self_p);

//  Call fn for every task record in id order, in one read transaction.
//  Returns 0, fn's non-zero return, or -1 with zg_qstore_error set if a
//  record cannot be read. Not during a pass (commit first).
int
    zg_qstore_load (zg_qstore_t *self, zg_qstore_load_fn *fn, void *arg);

//  The next id to issue: above every id ever stored or marked used
uint64_t
    zg_qstore_next_id (zg_qstore_t *self);

//  The changes below join the current pass (opening it if needed) and
//  return 0, or -1 with zg_qstore_error set: then the pass is lost, see
//  above. A change naming a task the store does not hold is -1 and does
//  not lose the pass.

//  Store a new task (or replace one): header, payload and result as given.
//  Marks its id used. A task that would fill the store past 7/8 of
//  data-max-size is refused (-1, "store full") without losing the pass:
//  the last eighth is kept for the changes of stored tasks (LMDB copies
//  each page a pass changes, so a pass may change up to that much).
int
    zg_qstore_put (zg_qstore_t *self, const zg_qrecord_t *record);

//  Mark an id issued (e.g. to a task the caller does not store) so that it
//  is never issued again after a restart
int
    zg_qstore_use_id (zg_qstore_t *self, uint64_t id);

//  A task was delivered: in progress, with its attempt count and start time
int
    zg_qstore_deliver (zg_qstore_t *self, uint64_t id, uint32_t attempt, int64_t started);

//  A task was taken back (nack, ack timeout, dead worker): waiting again
int
    zg_qstore_requeue (zg_qstore_t *self, uint64_t id);

//  A task went to a dead-letter queue: waiting there, state dead, until
//  expires (its time to live there, wall clock ms, or 0)
int
    zg_qstore_dead_letter (zg_qstore_t *self, uint64_t id, const char *queue, size_t queue_size, int64_t expires);

//  A task finished (done, failed, dead): its payload goes unless
//  keep_input (queues/keep-input), its result (may be empty) is kept until
//  expires (wall clock ms)
int
    zg_qstore_finish (zg_qstore_t *self, uint64_t id, uint8_t state, int64_t finished, int64_t expires,
                      const void *result, size_t result_size, bool keep_input);

//  Forget a task (result expired or evicted)
int
    zg_qstore_delete (zg_qstore_t *self, uint64_t id);

//  Changes in the current pass (0 when none is open)
size_t
    zg_qstore_pending (zg_qstore_t *self);

//  End the pass: make its changes durable. Returns 0 (also when there were
//  none), or -1 with zg_qstore_error set if the pass was lost: none of its
//  changes is stored, the store is at the previous commit.
int
    zg_qstore_commit (zg_qstore_t *self);

//  The last error, one line
const char *
    zg_qstore_error (zg_qstore_t *self);

//  Self test of this class
void
    zg_qstore_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
