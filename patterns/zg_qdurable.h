/*  =========================================================================
    zg_qdurable - the queues' dispatch core's journal: each task state
    change of the core, written to the durable store: LMDB (zg_qstore,
    queues/data-store = lmdb, the default) or the log (zg_qlogstore, log)

    Private to the queues. The core (zg_qcore) calls one function per
    transition at its seam; each takes a NULL journal (in-memory mode) and
    then does nothing, so the seam is one line. The changes of a loop pass
    join one write transaction; the actor calls zg_qdurable_commit before it
    sends the pass's answers (group commit). Scatter groups and their copies
    live only as long as the workers they were sent to: their ids are
    marked used, the tasks are not stored. Counters (commits, syncs, tasks,
    records, bytes, compactions, failures) feed STATS, /metrics and the
    benchmark.
    =========================================================================
*/

#ifndef ZG_QDURABLE_H_INCLUDED
#define ZG_QDURABLE_H_INCLUDED

#include <czmq.h>
#include "zg_tasks.h"
#include "zg_qstore.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qdurable_t zg_qdurable_t;

//  Names of the stores, for queues/data-store
#define ZG_QDURABLE_LOG "log"
#define ZG_QDURABLE_LMDB "lmdb"

//  Open the journal over the store of this kind (ZG_QDURABLE_LOG or _LMDB)
//  in dir with these options (see zg_qstore_open). A directory that holds the other kind's
//  store is refused: its tasks would look lost. Returns NULL with a
//  one-line reason in error.
zg_qdurable_t *
    zg_qdurable_new (const char *dir, const char *kind, const zg_qstore_options_t *options, char *error,
                     size_t size);

//  Close the journal (an uncommitted pass is lost) and unlock its directory
void
    zg_qdurable_destroy (zg_qdurable_t **self_p);

//  Call fn for every stored task in id order (zg_qstore_load); the
//  journal restores them into a new core (zg_qjournal)
int
    zg_qdurable_load (zg_qdurable_t *self, zg_qstore_load_fn *fn, void *arg);

//  The last id ever issued
uint64_t
    zg_qdurable_last_id (zg_qdurable_t *self);

//  Set a restored task's fields (state, priority, attempt, times, ack
//  timeout; payload, or result if finished) from its record
void
    zg_qdurable_fill (zg_task_t *task, const zg_qrecord_t *record);

//  A task was accepted (its payload in place). Returns 0, or -1 if it is
//  not stored (store full, I/O error): its SEND gets 507.
int
    zg_qdurable_create (zg_qdurable_t *self, const zg_task_t *task);

//  A task was delivered (its attempt and start time set)
void
    zg_qdurable_deliver (zg_qdurable_t *self, const zg_task_t *task);

//  A task is waiting again (nack, ack timeout, its worker gone, a restart)
void
    zg_qdurable_requeue (zg_qdurable_t *self, const zg_task_t *task);

//  A task moved to a dead-letter queue (its queue set)
void
    zg_qdurable_dead_letter (zg_qdurable_t *self, const zg_task_t *task);

//  A task finished: its result is kept until expires (wall clock ms)
void
    zg_qdurable_finish (zg_qdurable_t *self, const zg_task_t *task, int64_t expires);

//  A finished task is forgotten
void
    zg_qdurable_forget (zg_qdurable_t *self, const zg_task_t *task);

//  Make the pass durable. Returns 0, or -1 if it is lost (the store is at
//  the previous commit; zg_qdurable_error says why).
int
    zg_qdurable_commit (zg_qdurable_t *self);

//  Pipelined group commit: a pass's sync overlaps the next passes' work.
//  zg_qdurable_write ends the pass like zg_qdurable_commit, except that
//  the log store only writes it (LMDB commits it, synced): it is durable
//  once a sync started after it ends. zg_qdurable_sync starts a sync of
//  every written pass in a thread (zg_qsyncer); zg_qdurable_sync_socket
//  is readable when it ended, and zg_qdurable_sync_end takes its result:
//  0, or -1 with the error set (then the store refuses every commit until
//  zgate restarts, as after a failed sync of its own). zg_qdurable_commit
//  waits for a sync in flight first.
int
    zg_qdurable_write (zg_qdurable_t *self);

//  Whether written passes wait for a sync
bool
    zg_qdurable_written (zg_qdurable_t *self);

//  Whether a sync is in flight
bool
    zg_qdurable_syncing (zg_qdurable_t *self);

//  Start a sync of every written pass (some must be, none in flight)
void
    zg_qdurable_sync (zg_qdurable_t *self);

//  The socket (libzmq handle) to poll while a sync is in flight, else NULL
void *
    zg_qdurable_sync_socket (zg_qdurable_t *self);

//  The sync in flight ended, or wait for it to: 0 or -1, see above
int
    zg_qdurable_sync_end (zg_qdurable_t *self);

//  The last error, one line
const char *
    zg_qdurable_error (zg_qdurable_t *self);

//  Counters as a new json-c object: commits (passes that wrote), syncs
//  (fdatasyncs: one per commit in the log, two in LMDB), tasks (new tasks
//  committed), records (changes committed), lost-passes, bytes (the
//  store's files), compactions, errors (lost passes and failed
//  compactions), store (its kind)
json_object *
    zg_qdurable_stats (zg_qdurable_t *self);

//  Self test of this class
void
    zg_qdurable_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
