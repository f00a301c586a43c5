/*  =========================================================================
    zg_qrecent - the ring of recently finished tasks that STATS lists

    Private to zg_queues. Each entry names its task's queue, held in the
    queue table while the entry is in the ring: zg_qrecent_remember and
    zg_qrecent_resize hold and release them; with zg_qrecent_add the
    caller does.
    =========================================================================
*/

#ifndef ZG_QRECENT_H_INCLUDED
#define ZG_QRECENT_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_tasks.h"
#include "zg_qtable.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qrecent_t zg_qrecent_t;

//  Create an empty ring of capacity entries (0: it records nothing) whose
//  entries hold their queues in table (NULL: the caller holds them)
zg_qrecent_t *
    zg_qrecent_new (size_t capacity, zg_qtable_t *table);

//  Destroy the ring (the queues are the caller's)
void
    zg_qrecent_destroy (zg_qrecent_t **self_p);

//  Record a finished task (capacity must not be 0); returns the queue of
//  the entry it overwrote, or NULL
zg_taskq_t *
    zg_qrecent_add (zg_qrecent_t *self, zg_task_t *task);

//  Record a finished task, holding its queue (and releasing the queue of
//  the entry it overwrites); nothing if capacity is 0. Needs a table.
void
    zg_qrecent_remember (zg_qrecent_t *self, zg_task_t *task);

//  Change the capacity: a new one empties the ring, releasing its queues.
//  Needs a table.
void
    zg_qrecent_resize (zg_qrecent_t *self, size_t capacity);

//  Entries the ring can hold
size_t
    zg_qrecent_capacity (zg_qrecent_t *self);

//  Entries in the ring
size_t
    zg_qrecent_size (zg_qrecent_t *self);

//  The queue of entry index (0 is the newest)
zg_taskq_t *
    zg_qrecent_queue (zg_qrecent_t *self, size_t index);

//  The entries, newest first, as a new json-c array of {id, queue, state,
//  attempt, finished}
json_object *
    zg_qrecent_json (zg_qrecent_t *self);

//  Self test of this class
void
    zg_qrecent_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
