/*  =========================================================================
    zg_qbytes - the bytes of a queue's tasks, counted against the queue's
    max-queue-bytes and the process's memory budget

    The charge of a task is remembered in the task (charged), so that what
    is released is exactly what was charged, whatever happened to its
    messages in between.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_qbytes.h"

int
zg_qbytes_admit (zg_budget_t *budget, zg_taskq_t *queue, int64_t limit, size_t size, char *reason)
{
    assert (budget && reason);
    int code = zg_budget_admit (budget, queue? queue->bytes: 0, limit, size);
    if (code == ZG_ERR_TOO_MANY)
        zg_wire_reason (reason, "queue full (max-queue-bytes %" PRId64 ")", limit);
    else
    if (code)
        zg_wire_reason (reason, "memory budget exhausted (%" PRId64 " bytes); try later",
                        zg_budget_limit (budget));
    return code;
}

void
zg_qbytes_assign (zg_budget_t *budget, zg_task_t *task, zg_taskq_t *queue)
{
    assert (budget && task && queue);
    if (task->queue)
        zg_budget_release (budget, &task->queue->bytes, (size_t) task->charged);
    zg_budget_charge (budget, &queue->bytes, (size_t) task->charged);
}

void
zg_qbytes_recharge (zg_budget_t *budget, zg_task_t *task)
{
    assert (budget && task && task->queue);
    zg_budget_release (budget, &task->queue->bytes, (size_t) task->charged);
    task->charged = (int64_t) (zmq_msg_size (&task->payload) + zmq_msg_size (&task->result));
    zg_budget_charge (budget, &task->queue->bytes, (size_t) task->charged);
}

void
zg_qbytes_release (zg_budget_t *budget, zg_task_t *task)
{
    assert (budget && task && task->queue);
    zg_budget_release (budget, &task->queue->bytes, (size_t) task->charged);
    task->charged = 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qbytes_test (bool verbose)
{
    printf (" * zg_qbytes: ");
    //  @selftest
    zg_budget_t *budget = zg_budget_new (1000);
    zg_taskq_t *jobs = zg_taskq_new ("jobs", false, 1);
    zg_taskq_t *dead = zg_taskq_new ("jobs.dead", false, 1);
    char reason [ZG_WIRE_REASON_SIZE];

    //  A new queue is empty; a task larger than the queue's limit is refused
    assert (zg_qbytes_admit (budget, NULL, 500, 400, reason) == 0);
    assert (zg_qbytes_admit (budget, jobs, 500, 501, reason) == ZG_ERR_TOO_MANY);
    assert (strstr (reason, "max-queue-bytes 500"));

    zg_task_t task = { 0 };
    zmq_msg_init_size (&task.payload, 400);
    zmq_msg_init (&task.result);
    zg_qbytes_assign (budget, &task, jobs);
    task.queue = jobs;
    zg_qbytes_recharge (budget, &task);
    assert (task.charged == 400 && jobs->bytes == 400 && zg_budget_used (budget) == 400);
    assert (zg_qbytes_admit (budget, jobs, 500, 101, reason) == ZG_ERR_TOO_MANY);

    //  To the dead letters: the charge moves, the total stays
    zg_qbytes_assign (budget, &task, dead);
    task.queue = dead;
    assert (jobs->bytes == 0 && dead->bytes == 400 && zg_budget_used (budget) == 400);

    //  The payload becomes a larger result: charged though past the budget
    zmq_msg_close (&task.payload);
    zmq_msg_init (&task.payload);
    zmq_msg_close (&task.result);
    zmq_msg_init_size (&task.result, 1200);
    zg_qbytes_recharge (budget, &task);
    assert (dead->bytes == 1200 && zg_budget_alarm (budget));
    assert (zg_qbytes_admit (budget, jobs, 0, 1, reason) == ZG_ERR_STORAGE);
    assert (strstr (reason, "memory budget"));
    if (verbose)
        printf ("(%s) ", reason);

    zg_qbytes_release (budget, &task);
    assert (dead->bytes == 0 && zg_budget_used (budget) == 0 && !zg_budget_alarm (budget));
    zmq_msg_close (&task.payload);
    zmq_msg_close (&task.result);
    zg_taskq_destroy (&jobs);
    zg_taskq_destroy (&dead);
    zg_budget_destroy (&budget);
    //  @end
    printf ("OK\n");
}
