/*  =========================================================================
    zg_qworkers - the queues actor's logical workers: found by connection and
    worker id, kept in order of their last message

    Private to zg_queues. A logical worker is an id chosen by the client,
    unique within its connection (routing id). A zg_liveness list puts the
    worker silent the longest first, so expiry looks only at its head (the
    timeout is the same for every worker). The dispatch core reads and
    writes the dispatch fields (seats, held, pinned, prefetch, in_lines).
    =========================================================================
*/

#ifndef ZG_QWORKERS_H_INCLUDED
#define ZG_QWORKERS_H_INCLUDED

#include <czmq.h>
#include "zg_tasks.h"
#include "zg_taskq.h"
#include "zg_liveness.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qworker_t zg_qworker_t;

//  A logical worker: one id on one connection
struct _zg_qworker_t {
    char *key;                      //  Hash key: hex of routing id and worker id
    byte *identity;                 //  Routing id of its connection
    size_t identity_size;           //  Its size
    byte *name;                     //  Worker id the client chose
    size_t name_size;               //  Its size
    zg_seat_t *seats;               //  One per queue or command served
    size_t seat_count;              //  Number of seats
    zg_task_list_t held;            //  Delivered, unanswered tasks, in delivery order
    zg_task_list_t pinned;          //  Scatter copies for it, waiting for credit
    int64_t prefetch;               //  Most tasks it may hold
    int64_t version;                //  Worker protocol: 2 takes DELIVERS batches (zg_qv2.h)
    const void *batch_outbox;       //  The outbox holding its open DELIVERS, if
    uint64_t batch_round;           //  that outbox is still in this round,
    size_t batch_index;             //  at this message index
    bool in_lines;                  //  Its seats are in their queues' lines
    zg_liveness_node_t liveness;    //  Link in the liveness list: last message
};

typedef struct _zg_qworkers_t zg_qworkers_t;

//  Create an empty registry
zg_qworkers_t *
    zg_qworkers_new (void);

//  Destroy the registry and every worker in it (their seats included)
void
    zg_qworkers_destroy (zg_qworkers_t **self_p);

//  The worker with this routing id and worker id, or NULL
zg_qworker_t *
    zg_qworkers_find (zg_qworkers_t *self, const byte *identity, size_t identity_size,
                      const byte *name, size_t name_size);

//  Add a new worker (it must not exist; the caller checks the limits),
//  seen now: it goes to the most recent end of the liveness list
zg_qworker_t *
    zg_qworkers_add (zg_qworkers_t *self, const byte *identity, size_t identity_size,
                     const byte *name, size_t name_size, int64_t now);

//  A message from a worker: it was seen now
void
    zg_qworkers_touch (zg_qworkers_t *self, zg_qworker_t *worker, int64_t now);

//  Forget and free a worker (the caller has emptied its seats and lists)
void
    zg_qworkers_remove (zg_qworkers_t *self, zg_qworker_t **worker_p);

//  The worker silent the longest, or NULL
zg_qworker_t *
    zg_qworkers_oldest (zg_qworkers_t *self);

//  The worker heard from next after this one, or NULL: with oldest, every
//  worker in liveness order
zg_qworker_t *
    zg_qworkers_newer (zg_qworker_t *worker);

//  Whether a worker may take one more task (it holds fewer than its prefetch)
bool
    zg_qworkers_has_credit (zg_qworker_t *worker);

//  Of the queues a worker serves, the one whose next waiting task goes
//  first (zg_taskq_first: priority, then arrival), or NULL if none waits
zg_taskq_t *
    zg_qworkers_next_queue (zg_qworker_t *worker);

//  Whether the worker serves queue as a quiet (fire-and-forget) command
bool
    zg_qworkers_quiet (zg_qworker_t *worker, zg_taskq_t *queue);

//  Take a worker's seats out of their queues' lines (credit used up) or put
//  them in; nothing happens if they already are
void
    zg_qworkers_set_in_lines (zg_qworker_t *worker, bool in_lines);

//  The worker silent the longest if it has been silent for timeout ms at
//  now, else NULL; it stays in the registry
zg_qworker_t *
    zg_qworkers_expired (zg_qworkers_t *self, int64_t now, int64_t timeout);

//  Monotonic ms when the oldest worker times out, or INT64_MAX if none
int64_t
    zg_qworkers_next_deadline (zg_qworkers_t *self, int64_t timeout);

//  Workers in the registry
size_t
    zg_qworkers_size (zg_qworkers_t *self);

//  Self test of this class
void
    zg_qworkers_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
