/*  =========================================================================
    zg_qexpiry - a waiting task's time to live (ttl): how long it may wait
    in a queue before it expires into the dead letters

    Private to the queues. A task's wait ends at a wall clock time
    (ttl_expires), so a durable store keeps it across a restart; the timer
    that fires it is the store's ZG_TASKS_TTL_TIMER heap, armed only while
    the task waits: a delivery stops it, a requeue runs it on to the same
    end (a task's wait is counted from its creation, as RabbitMQ's message
    TTL is), and the move to a dead-letter queue gives the task its whole
    ttl again there, after which it ends dead. So nothing waits for ever
    unless its ttl is 0, and a queue's name is freed at most two ttls and
    result-ttl after its last task.
    =========================================================================
*/

#ifndef ZG_QEXPIRY_H_INCLUDED
#define ZG_QEXPIRY_H_INCLUDED

#include <czmq.h>
#include "zg_tasks.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A task starts waiting for ttl ms (0: without limit) at now (monotonic
//  ms) and wall (wall clock ms): its whole ttl from now
void
    zg_qexpiry_start (zg_tasks_t *tasks, zg_task_t *task, int64_t ttl, int64_t now, int64_t wall);

//  A task waits again (requeued, or restored from a store): its timer runs
//  to the end of wait it had, which may be past (it expires at once)
void
    zg_qexpiry_resume (zg_tasks_t *tasks, zg_task_t *task, int64_t now, int64_t wall);

//  The waiting task whose wait ended first, taken out of its queue's
//  waiting line, if that end is at or before now; NULL otherwise
zg_task_t *
    zg_qexpiry_due (zg_tasks_t *tasks, int64_t now);

//  Why a task taken out of its queue dies, for its producer and GET's
//  reason ("is ..."): a waiting one expired, an in-progress one used up
//  its deliveries; reason holds ZG_WIRE_REASON_SIZE bytes
void
    zg_qexpiry_reason (const zg_task_t *task, char *reason);

//  Self test of this class
void
    zg_qexpiry_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
