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
#include "zg_qtest.h"

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
//  Self test: the core's transitions with ttls

void
zg_qexpiry_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qexpiry: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.recent_size = 0;           //  So that only tasks name queues
    zg_qcore_t *core = zg_qcore_new (&settings);
    int64_t now = 1000, wall = 50000;
    zg_qcore_set_clock (core, now, wall);
    zg_qoptions_t brief = { .reply = true, .timeout = 100000, .ack_timeout = 100000, .ttl = 100 };
    zg_qoptions_t lasting = { .reply = true, .timeout = 100000, .ack_timeout = 100000, .ttl = 0 };
    char id [ZG_TASKS_ID_SIZE + 1];

    //  A task nobody takes expires into the dead letters; its producer
    //  hears 410, and its wait there is its whole ttl again
    assert (zg_qtest_submit (core, "junk", false, &brief, id) == 0 && streq (id, "1"));
    assert (zg_qtest_submit (core, "junk", false, &lasting, id) == 0 && streq (id, "2"));
    assert (zg_qcore_next_deadline (core) == now + 100);
    zg_qcore_set_clock (core, now += 99, wall += 99);
    zg_qcore_expire (core);
    assert (zg_qcore_queue (core, "junk", false)->waiting == 2);
    zg_qcore_set_clock (core, now += 1, wall += 1);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    zg_task_t *task = zg_qcore_task (core, 1);
    assert (task->state == ZG_TASK_DEAD && streq (task->queue->name, "junk.dead"));
    assert (task->ttl_expires == wall + 100 && zg_qcore_next_deadline (core) == now + 100);
    assert (zg_qcore_queue (core, "junk", false)->waiting == 1);
    assert (zg_qcore_queue (core, "junk", false)->expired == 1 && zg_qcore_queue (core, "junk", false)->dead == 1);
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qexpiry_reason (task, reason);
    assert (streq (reason, "is expired (ttl 100 ms)"));

    //  There it ends dead, and is forgotten after result-ttl; a task with
    //  no ttl waits on
    zg_qcore_set_clock (core, now += 100, wall += 100);
    zg_qcore_expire (core);
    assert (task->state == ZG_TASK_DEAD && task->finished == wall);
    assert (zg_qcore_queue (core, "junk.dead", false)->waiting == 0);
    zg_qcore_set_clock (core, now += settings.result_ttl, wall += settings.result_ttl);
    zg_qcore_expire (core);
    zg_qcore_collect (core);
    assert (!zg_qcore_task (core, 1) && !zg_qcore_queue (core, "junk.dead", false));
    assert (zg_qcore_task (core, 2)->state == ZG_TASK_WAITING);
    assert (streq (zg_qtest_sent (core), ""));

    //  A delivery stops the clock, a requeue runs it on from where it was
    assert (zg_qtest_submit (core, "jobs", false, &brief, id) == 0 && streq (id, "3"));
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 1, .names = names, .name_count = 1 };
    int code;
    zg_qcore_set_clock (core, now += 60, wall += 60);
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker && streq (zg_qtest_sent (core), "DELIVER w 3;"));
    zg_qcore_set_clock (core, now += 1000, wall += 1000);
    zg_qcore_expire (core);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_IN_PROGRESS);
    zg_qcore_bye (core, &worker);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_WAITING);
    assert (zg_qcore_next_deadline (core) == now);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    assert (streq (zg_qcore_task (core, 3)->queue->name, "jobs.dead"));
    zg_qcore_destroy (&core);
    printf ("OK\n");
}
