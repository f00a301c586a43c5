/*  =========================================================================
    zg_tasks - the queues actor's task store: tasks by id, intrusive lists
    and deadline heaps

    Private to zg_queues. Tasks come from a free list and are found by id in
    an open-addressing table, so a task costs no allocation in steady state.
    A task sits in at most one list at a time (a queue's waiting line, a
    worker's held tasks, the finished tasks) and in up to ZG_TASKS_TIMERS
    deadline heaps (ack timeout, reply timeout, time to live), each
    removable in O(log n).
    =========================================================================
*/

#ifndef ZG_TASKS_H_INCLUDED
#define ZG_TASKS_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include "zg_heap.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Longest task id in decimal (UINT64_MAX)
#define ZG_TASKS_ID_SIZE 20

//  Deadline heaps of the store
#define ZG_TASKS_ACK_TIMER   0
#define ZG_TASKS_REPLY_TIMER 1
#define ZG_TASKS_TTL_TIMER   2      //  Armed only while the task waits (zg_qexpiry)
#define ZG_TASKS_TIMERS      3

typedef enum {
    ZG_TASK_WAITING,
    ZG_TASK_IN_PROGRESS,
    ZG_TASK_DONE,
    ZG_TASK_FAILED,
    ZG_TASK_DEAD
} zg_task_state_t;

typedef struct _zg_task_t zg_task_t;
//  The queue and worker types of zg_taskq and zg_qworkers, which include us
typedef struct _zg_taskq_t zg_taskq_t;
typedef struct _zg_qworker_t zg_qworker_t;

//  A task; the store owns it, the dispatch core (zg_qcore) reads and writes
//  its fields
struct _zg_task_t {
    uint64_t id;                    //  Issued by the store, never reused
    char id_text [ZG_TASKS_ID_SIZE + 1];    //  The id in decimal, as on the wire
    uint8_t id_size;                //  Its length
    zg_taskq_t *queue;              //  Queue it belongs to (holds a reference)
    zg_qworker_t *worker;           //  Worker holding it, or pinned to (scatter)
    zg_task_t *group;               //  Scatter group this copy belongs to
    zg_task_t *prev;                //  Links in the one list the task is in
    zg_task_t *next;
    zmq_msg_t payload;              //  Task payload, as received
    zmq_msg_t producer;             //  Producer's routing id, if it wants the reply
    zmq_msg_t req;                  //  Producer's correlation id, if it wants the reply
    zmq_msg_t result;               //  Reply payload (done) or reason (failed, dead)
    char *owner;                    //  Identity of its producer (security on), or NULL
    int64_t created;                //  Wall clock, ms since the epoch
    int64_t started;                //  Last delivery, ms since the epoch, or 0
    int64_t finished;               //  Finished, ms since the epoch, or 0
    int64_t expires;                //  Monotonic ms when a finished task is forgotten
    int64_t ack_timeout;            //  Ms a worker has to answer a delivery
    int64_t ttl;                    //  Ms it may wait in a queue, or 0 (zg_qexpiry)
    int64_t ttl_expires;            //  Wall clock ms when that wait ends, or 0
    int64_t charged;                //  Bytes charged to its queue (zg_qbytes)
    uint64_t arrival;               //  When it last joined a queue's tail (zg_taskq):
                                    //  orders the heads of several queues
    zg_heap_node_t timers [ZG_TASKS_TIMERS];    //  Link in each deadline heap:
                                    //  key is the monotonic ms of the deadline
    uint32_t attempt;               //  Deliveries so far
    uint32_t copies;                //  Scatter group: copies not finished yet
    uint32_t replies;               //  Scatter group: replies sent
    uint8_t priority;               //  Higher is delivered first
    uint8_t state;                  //  zg_task_state_t
    bool wants_reply;               //  Producer asked for the outcome
    bool scatter;                   //  A scatter group (its copies are the tasks)
    bool until_read;                //  Forgotten once GET has read it finished
    bool quiet;                     //  Acked with no reply by a quiet command's worker: no REPLY
    bool remote;                    //  Claimed from the cluster: its outcome goes back there
    bool batched;                   //  Named once already by the ACKS batch being checked (zg_qacks)
    bool replies_batched;           //  Sent by SENDS: its REPLY goes in a REPLIES batch (zg_qoutbox)
};

//  A doubly linked list of tasks through their prev/next links
typedef struct {
    zg_task_t *head;                //  First task, or NULL
    zg_task_t *tail;                //  Last task, or NULL
    size_t size;                    //  Tasks in the list
} zg_task_list_t;

typedef struct _zg_tasks_t zg_tasks_t;

//  Create an empty store
zg_tasks_t *
    zg_tasks_new (void);

//  Destroy the store and every task in it
void
    zg_tasks_destroy (zg_tasks_t **self_p);

//  A new task with the next id, zeroed but for id, id_text and empty messages
zg_task_t *
    zg_tasks_create (zg_tasks_t *self);

//  A new task with this id (not in the store), zeroed like a created one;
//  ids issued later are above it. For restoring tasks from a durable store.
zg_task_t *
    zg_tasks_restore (zg_tasks_t *self, uint64_t id);

//  Issue only ids above last_id from now on (the durable store's counter)
void
    zg_tasks_skip_ids (zg_tasks_t *self, uint64_t last_id);

//  The task with this id, or NULL
zg_task_t *
    zg_tasks_lookup (zg_tasks_t *self, uint64_t id);

//  Forget a task: it leaves the id table and its heaps (not its list, which
//  the caller owns), its messages are closed, and it returns to the free list
void
    zg_tasks_remove (zg_tasks_t *self, zg_task_t *task);

//  Tasks in the store
size_t
    zg_tasks_size (zg_tasks_t *self);

//  Arm (or re-arm) one of a task's timers
void
    zg_tasks_set_timer (zg_tasks_t *self, zg_task_t *task, int timer, int64_t deadline);

//  Disarm one of a task's timers; nothing happens if it is not armed
void
    zg_tasks_clear_timer (zg_tasks_t *self, zg_task_t *task, int timer);

//  The earliest deadline of a timer heap, or INT64_MAX if it is empty
int64_t
    zg_tasks_next_deadline (zg_tasks_t *self, int timer);

//  Disarm and return the task whose timer expired first, if its deadline is
//  at or before now; NULL otherwise
zg_task_t *
    zg_tasks_expired (zg_tasks_t *self, int timer, int64_t now);

//  Name of a state, for the wire
const char *
    zg_task_state_name (int state);

//  Pack a task as GET's msgpack map (id, queue, command, state, priority,
//  attempt, created, started, finished, and reply or reason)
void
    zg_task_pack (const zg_task_t *task, msgpack_packer *packer);

//  Forget a task's input (payload): a finished task keeps it only with
//  queues/keep-input
void
    zg_task_drop_input (zg_task_t *task);

//  Append a task to a list, or put it at the head
void
    zg_task_list_add (zg_task_list_t *list, zg_task_t *task, bool at_head);

//  Unlink a task from the list it is in
void
    zg_task_list_remove (zg_task_list_t *list, zg_task_t *task);

//  Self test of this class
void
    zg_tasks_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
