/*  =========================================================================
    zg_taskq - one work queue (or command) of the queues actor: its waiting
    tasks by priority, the line of workers with credit, and its counters

    Private to zg_queues. This is the dispatch policy: zg_taskq_take hands
    out the highest-priority waiting task (FIFO within a priority) to the
    seat at the head of the line and moves that seat to the back, so the
    workers with credit take turns (round-robin). The core owns the tasks
    and the seats; the queue only links them.
    =========================================================================
*/

#ifndef ZG_TASKQ_H_INCLUDED
#define ZG_TASKQ_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include "zg_tasks.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_seat_t zg_seat_t;

//  A worker's place at one queue it serves
struct _zg_seat_t {
    zg_qworker_t *worker;           //  Who sits here
    zg_taskq_t *queue;              //  The queue or command served
    zg_seat_t *prev;                //  Links in the queue's line
    zg_seat_t *next;
    bool in_line;                   //  In the queue's line of workers with credit
    bool quiet;                     //  A fire-and-forget command of this worker (READY quiet)
};

//  A queue, or a command (same semantics, another name space); the core
//  reads and writes the counters and its bookkeeping fields
struct _zg_taskq_t {
    char *name;                     //  Its name
    bool command;                   //  A command, not a queue
    bool dead_letter;               //  A dead-letter queue (name ends in .dead)
    msgpack_sbuffer meta;           //  DELIVER's meta map, packed up to the attempt value
    zg_task_list_t *levels;         //  Waiting tasks, one FIFO per priority
    size_t level_count;             //  Priorities 0 .. level_count - 1
    size_t waiting;                 //  Waiting tasks over all priorities
    size_t pinned;                  //  Scatter copies waiting for their worker's credit
    zg_seat_t *line_head;           //  Workers with credit, next to serve first
    zg_seat_t *line_tail;           //  Last in line
    uint64_t workers;               //  Workers serving it
    uint64_t in_progress;           //  Tasks delivered, not answered
    uint64_t sent;                  //  Tasks accepted
    uint64_t done;                  //  Tasks acked
    uint64_t failed;                //  Tasks failed
    uint64_t dead;                  //  Tasks sent to the dead letters
    uint64_t expired;               //  Of them, for their ttl (zg_qexpiry)
    uint64_t redelivered;           //  Tasks taken back for another delivery
    uint64_t refs;                  //  Tasks in the store and recent entries naming it
    int64_t bytes;                  //  Bytes its tasks hold, charged to the memory budget
    bool idle_listed;               //  On the core's list of queues to check for forgetting
    char *holder;                   //  Who made it (zg_holder key), or NULL: nobody
    zg_taskq_t *idle_next;          //  Next on that list
};

//  Dead-letter queue of queue q is q ZG_TASKQ_DEAD_SUFFIX
#define ZG_TASKQ_DEAD_SUFFIX ".dead"

//  Create an empty queue or command with priorities 0 .. level_count - 1
zg_taskq_t *
    zg_taskq_new (const char *name, bool command, size_t level_count);

//  Destroy a queue (its tasks and seats belong to the caller)
void
    zg_taskq_destroy (zg_taskq_t **self_p);

//  Add a task that names this queue to the waiting tasks of its priority
//  (clamped to the highest), at the back or at the head
void
    zg_taskq_push (zg_taskq_t *self, zg_task_t *task, bool at_head);

//  Take a waiting task out of its queue (it expired, or the queue is
//  deleted)
void
    zg_taskq_remove (zg_taskq_t *self, zg_task_t *task);

//  The next waiting task for the seat at the head of the line, which moves
//  to the back; NULL if no task waits or no seat is in line
zg_task_t *
    zg_taskq_take (zg_taskq_t *self, zg_seat_t **seat_p);

//  The waiting task this queue hands out next (highest priority, then
//  FIFO), or NULL; it stays waiting
zg_task_t *
    zg_taskq_next (zg_taskq_t *self);

//  Take the task zg_taskq_next names out of the waiting tasks, or NULL
zg_task_t *
    zg_taskq_pop (zg_taskq_t *self);

//  Of two queues, the one whose next task goes first: higher priority,
//  then the one that joined its queue first; either may be NULL or have
//  no waiting task (then the other wins, or NULL)
zg_taskq_t *
    zg_taskq_first (zg_taskq_t *one, zg_taskq_t *other);

//  Age of the oldest waiting task, ms, 0 if none waits
int64_t
    zg_taskq_oldest (zg_taskq_t *self, int64_t wall);

//  Put a seat at the back of its queue's line
void
    zg_taskq_line_append (zg_seat_t *seat);

//  Take a seat out of its queue's line; nothing happens if it is not in it
void
    zg_taskq_line_remove (zg_seat_t *seat);

//  Self test of this class
void
    zg_taskq_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
