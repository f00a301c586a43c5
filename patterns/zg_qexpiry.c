/*  =========================================================================
    zg_qexpiry - a waiting task's time to live (ttl): how long it may wait
    in a queue before it expires into the dead letters

    The core (zg_qcore) calls these at its seams: start when a task is
    created or moved to the dead letters, stop (clearing the timer) when it
    is delivered, resume when it is requeued or restored, due in its timer
    pass, whose tasks it kills as it kills those that used up their
    deliveries.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qexpiry.h"
#include "zg_taskq.h"
#include "zg_wire.h"

//  --------------------------------------------------------------------------
//  A task starts waiting for its whole ttl

void
zg_qexpiry_start (zg_tasks_t *tasks, zg_task_t *task, int64_t ttl, int64_t now, int64_t wall)
{
    assert (tasks && task && ttl >= 0);
    task->ttl = ttl;
    task->ttl_expires = ttl? wall + ttl: 0;
    zg_qexpiry_resume (tasks, task, now, wall);
}

//  --------------------------------------------------------------------------
//  A task waits again, to the end of wait it had

void
zg_qexpiry_resume (zg_tasks_t *tasks, zg_task_t *task, int64_t now, int64_t wall)
{
    assert (tasks && task);
    if (task->ttl_expires) {
        //  A restored end may lie far in the past; the timer fires at once
        int64_t left = task->ttl_expires > wall? task->ttl_expires - wall: 0;
        zg_tasks_set_timer (tasks, task, ZG_TASKS_TTL_TIMER, now + left);
    }
}

//  --------------------------------------------------------------------------
//  The waiting task whose wait ended first, out of its queue

zg_task_t *
zg_qexpiry_due (zg_tasks_t *tasks, int64_t now)
{
    assert (tasks);
    zg_task_t *task = zg_tasks_expired (tasks, ZG_TASKS_TTL_TIMER, now);
    if (task) {
        zg_taskq_remove (task->queue, task);
        task->queue->expired++;
    }
    return task;
}

//  --------------------------------------------------------------------------
//  Why a task dies

void
zg_qexpiry_reason (const zg_task_t *task, char *reason)
{
    assert (task && reason);
    //  A task taken back from its worker is still in progress here; one
    //  taken out of a waiting line by due is waiting (or dead, in a
    //  dead-letter queue)
    if (task->state == ZG_TASK_IN_PROGRESS)
        zg_wire_reason (reason, "is dead after %u deliveries", task->attempt);
    else
        zg_wire_reason (reason, "is expired (ttl %" PRId64 " ms)", task->ttl);
}

//  --------------------------------------------------------------------------
//  Self test: a task's wait with the task store and a queue (zg_qtest's
//  self test drives the core's transitions with ttls)

void
zg_qexpiry_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qexpiry: ");
    zg_tasks_t *tasks = zg_tasks_new ();
    zg_taskq_t *queue = zg_taskq_new ("q", false, 1);
    zg_task_t *task = zg_tasks_create (tasks);
    task->queue = queue;
    zg_taskq_push (queue, task, false);
    //  Its whole ttl from its start, as a wall clock end
    zg_qexpiry_start (tasks, task, 100, 1000, 50000);
    assert (task->ttl == 100 && task->ttl_expires == 50100);
    assert (zg_qexpiry_due (tasks, 1099) == NULL);
    //  A requeue later runs on to the same end
    zg_tasks_clear_timer (tasks, task, ZG_TASKS_TTL_TIMER);
    zg_qexpiry_resume (tasks, task, 1050, 50050);
    assert (zg_qexpiry_due (tasks, 1099) == NULL);
    assert (zg_qexpiry_due (tasks, 1100) == task && queue->waiting == 0);
    char reason [ZG_WIRE_REASON_SIZE];
    task->state = ZG_TASK_WAITING;
    zg_qexpiry_reason (task, reason);
    assert (streq (reason, "is expired (ttl 100 ms)"));
    task->state = ZG_TASK_IN_PROGRESS;
    task->attempt = 5;
    zg_qexpiry_reason (task, reason);
    assert (streq (reason, "is dead after 5 deliveries"));
    //  No ttl: no timer
    zg_qexpiry_start (tasks, task, 0, 2000, 60000);
    assert (task->ttl_expires == 0 && zg_qexpiry_due (tasks, INT64_MAX / 2) == NULL);
    zg_tasks_destroy (&tasks);
    zg_taskq_destroy (&queue);
    printf ("OK\n");
}
