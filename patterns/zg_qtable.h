/*  =========================================================================
    zg_qtable - the queues and commands of the queues actor, by name, each
    forgotten once nothing names it

    Private to zg_queues. Queues and commands are two name spaces that share
    the max-queues limit; of them, a holder (zg_holder) that made names
    holds at most max-queues-per-connection until they are forgotten. A queue counts what names it: refs (tasks and
    recent entries, held and released by the core) and workers (seats). One
    that drops to nothing goes on an idle list and is freed by
    zg_qtable_collect, called between requests when no pointer to it is
    held, so names used once never use up max-queues.
    =========================================================================
*/

#ifndef ZG_QTABLE_H_INCLUDED
#define ZG_QTABLE_H_INCLUDED

#include <czmq.h>
#include "zg_taskq.h"
#include "zg_qoptions.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qtable_t zg_qtable_t;

//  Create an empty table
zg_qtable_t *
    zg_qtable_new (void);

//  Destroy the table and every queue in it (their tasks are the caller's)
void
    zg_qtable_destroy (zg_qtable_t **self_p);

//  Bytes the tasks of every queue and command hold (zg_qbytes)
int64_t
    zg_qtable_bytes (zg_qtable_t *self);

//  The queue or command of that name, or NULL; no side effects
zg_taskq_t *
    zg_qtable_lookup (zg_qtable_t *self, const char *name, bool command);

//  Of the named queues (commands are not looked at), or of every queue if
//  count is 0 (a scan), the one whose next waiting task goes first
//  (zg_taskq_first), or NULL if none waits; no side effects
zg_taskq_t *
    zg_qtable_first (zg_qtable_t *self, const zg_qname_t *names, size_t count);

//  The queue or command of that name, created (with priorities 0 ..
//  max_priority) if need be, charged to holder (a zg_holder key, or NULL:
//  nobody); NULL if that would make more than max_queues
zg_taskq_t *
    zg_qtable_ensure (zg_qtable_t *self, const char *name, bool command, int64_t max_priority,
                      int64_t max_queues, const char *holder);

//  Whether count new names fit max-queues and, charged to holder (NULL:
//  nobody), max-queues-per-connection: 0, or a ZG_ERR_* code (503 past
//  max-queues, 429 past the holder's bound) with a reason
int
    zg_qtable_admit (zg_qtable_t *self, size_t count, const char *holder, const zg_qsettings_t *settings,
                     char *reason);

//  Names the holder made that are not forgotten yet
size_t
    zg_qtable_held (zg_qtable_t *self, const char *holder);

//  The dead-letter queue of a queue (created as zg_qtable_ensure does), or
//  NULL: a dead-letter queue has none, nor has a queue whose dead-letter
//  queue's name would pass max_name_size (no worker could name it, so it
//  would hold its tasks for ever), nor one past max_queues
zg_taskq_t *
    zg_qtable_dead_letters (zg_qtable_t *self, zg_taskq_t *queue, int64_t max_name_size, int64_t max_priority,
                            int64_t max_queues);

//  Queues plus commands
size_t
    zg_qtable_size (zg_qtable_t *self);

//  Something (a task, a recent entry) names the queue
void
    zg_qtable_hold (zg_qtable_t *self, zg_taskq_t *queue);

//  It no longer does
void
    zg_qtable_release (zg_qtable_t *self, zg_taskq_t *queue);

//  The queue may have lost its last reference or worker: list it as idle
void
    zg_qtable_check_idle (zg_qtable_t *self, zg_taskq_t *queue);

//  Free the idle queues that are still idle
void
    zg_qtable_collect (zg_qtable_t *self);

//  Add {"queues": {name: counters}, "commands": {...}} to a json-c object
void
    zg_qtable_stats (zg_qtable_t *self, json_object *root, int64_t wall);

//  Self test of this class
void
    zg_qtable_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
