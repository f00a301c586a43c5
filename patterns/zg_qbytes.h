/*  =========================================================================
    zg_qbytes - the bytes of a queue's tasks, counted against the queue's
    max-queue-bytes and the process's memory budget

    A task's bytes (its payload while it waits or is in progress, its result
    once it is kept for GET) are charged to the queue it belongs to. The
    dispatch core calls this class at its transitions: admit before a task is
    created, charge when it is, move the charge when the task changes queue
    (to the dead letters), recharge when its payload becomes its result, and
    release when it is forgotten. Only admission refuses: bytes already
    accepted (a worker's reply) are charged anyway and raise the alarm.
    =========================================================================
*/

#ifndef ZG_QBYTES_H_INCLUDED
#define ZG_QBYTES_H_INCLUDED

#include "zg_budget.h"
#include "zg_taskq.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Whether a queue (NULL: not created yet) may take a task of size bytes,
//  within limit (0: none) and the budget. Returns 0, or the code of the
//  refusal with its reason written (ZG_WIRE_REASON_SIZE bytes)
int
    zg_qbytes_admit (zg_budget_t *budget, zg_taskq_t *queue, int64_t limit, size_t size, char *reason);

//  A task joins a queue (its first, or the dead letters): its charge moves
void
    zg_qbytes_assign (zg_budget_t *budget, zg_task_t *task, zg_taskq_t *queue);

//  Charge a task for what it holds now (payload and result)
void
    zg_qbytes_recharge (zg_budget_t *budget, zg_task_t *task);

//  The task is forgotten: its charge is released
void
    zg_qbytes_release (zg_budget_t *budget, zg_task_t *task);

//  Self test of this class
void
    zg_qbytes_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
