/*  =========================================================================
    zg_qcore - the queues' dispatch core: credit, delivery, answers,
    requeue, dead letters, scatter-gather, replies and retention, without
    sockets

    Private to zg_queues. The actor parses and checks frames and hands the
    core typed requests; the core changes the state and writes what has to
    be sent into its outbox (zg_qoutbox), which the actor sends. Every task
    state transition is one named static function in zg_qcore.c (create,
    deliver, take back, requeue, kill, finish, keep, forget), and each
    writes its change to the journal (zg_qdurable) if there is one, so a
    restart finds the tasks in the durable store. The core reads the
    settings live: the actor owns them and calls zg_qcore_settings_changed
    after a change.
    =========================================================================
*/

#ifndef ZG_QCORE_H_INCLUDED
#define ZG_QCORE_H_INCLUDED

#include <czmq.h>
#include "zg_tasks.h"
#include "zg_taskq.h"
#include "zg_qworkers.h"
#include "zg_qoptions.h"
#include "zg_qoutbox.h"
#include "zg_qdurable.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qcore_t zg_qcore_t;

//  A producer's task, as the actor checked it
typedef struct {
    const char *name;               //  Queue or command name, valid
    bool command;                   //  CALL: name is a command
    const zg_qoptions_t *options;   //  Its options, parsed
    zmq_msg_t *payload;             //  Moved into the task, or shared by the
                                    //  scatter copies: the caller closes it
    zmq_msg_t *producer;            //  Producer's routing id, shared if it wants the reply
    zmq_msg_t *req;                 //  Its correlation id, likewise
    const char *owner;              //  Producer's identity the task keeps (security on), or NULL
} zg_qcore_submit_t;

//  Cluster mode: a claimed task's outcome goes back to the cluster. state
//  is ZG_TASK_WAITING when it was taken back (nack, ack timeout, its worker
//  gone: the cluster requeues it or sends it to the dead letters), else
//  done or failed with the reason or the result (the handler may move it)
typedef void (zg_qcore_handoff_fn) (void *arg, zg_task_t *task, int state, const char *reason, zmq_msg_t *result);

//  Create a core reading these settings (the caller's, alive as long)
zg_qcore_t *
    zg_qcore_new (const zg_qsettings_t *settings);

//  Destroy the core: every task, queue and worker
void
    zg_qcore_destroy (zg_qcore_t **self_p);

//  The settings changed: resize what depends on them (the recent list)
void
    zg_qcore_settings_changed (zg_qcore_t *self);

//  Set the clocks for what follows: monotonic ms (deadlines) and wall ms
//  since the epoch (task times)
void
    zg_qcore_set_clock (zg_qcore_t *self, int64_t now, int64_t wall);

//  The messages to send, in order; the actor sends and clears them
zg_qoutbox_t *
    zg_qcore_outbox (zg_qcore_t *self);

//  Accept a task (a scatter group with options->scatter). Returns 0 with
//  the new id in id (ZG_TASKS_ID_SIZE + 1 bytes), or -1 with a ZG_ERR_*
//  code and a reason (ZG_WIRE_REASON_SIZE bytes) and nothing changed.
int
    zg_qcore_submit (zg_qcore_t *self, const zg_qcore_submit_t *submit, char *id, int *code, char *reason);

//  Journal every change from now on to durable (the caller's, alive as
//  long); ids are issued above the last one it ever issued. Call it on a
//  new core, then restore its tasks (zg_qjournal does both).
void
    zg_qcore_journal (zg_qcore_t *self, zg_qdurable_t *durable);

//  Restore one stored task: a waiting one waits again in its queue (in the
//  order restored, within its priority; in cluster mode, a claimed task
//  with its attempt one less than the cluster's, it goes to a worker with
//  credit at once), a finished one is kept until its stored expiry. One that was in progress is returned, with no worker:
//  take it back with zg_qcore_take_back once the load is over.
zg_task_t *
    zg_qcore_adopt (zg_qcore_t *self, const zg_qrecord_t *record);

//  Cluster mode: the outcomes of the tasks marked remote (claimed from the
//  cluster, zg_qcore_adopt) go to handoff (arg is its own)
void
    zg_qcore_set_handoff (zg_qcore_t *self, zg_qcore_handoff_fn *handoff, void *arg);

//  A restored task that was in progress goes back to the head of its queue,
//  or to the dead letters past max-deliveries, as if its worker had died
void
    zg_qcore_take_back (zg_qcore_t *self, zg_task_t *task);

//  Drop a waiting task (its queue is deleted, zg_qadmin): its producer, if
//  it waits for the outcome, gets ERROR 410, and the task is forgotten
void
    zg_qcore_drop (zg_qcore_t *self, zg_task_t *task);

//  The task with this id, or NULL; no side effects
zg_task_t *
    zg_qcore_task (zg_qcore_t *self, uint64_t id);

//  The queue (or command) of that name, or NULL; no side effects
zg_taskq_t *
    zg_qcore_queue (zg_qcore_t *self, const char *name, bool command);

//  The worker of that connection and id, or NULL; no side effects
zg_qworker_t *
    zg_qcore_worker (zg_qcore_t *self, const byte *identity, size_t identity_size,
                     const byte *name, size_t name_size);

//  A message from a worker: it is alive now
void
    zg_qcore_touch (zg_qcore_t *self, zg_qworker_t *worker);

//  READY: create the worker (worker NULL) or replace its queues, commands
//  and prefetch; then it gets tasks up to its credit. Returns the worker,
//  or NULL with a ZG_ERR_* code and a reason and nothing changed.
zg_qworker_t *
    zg_qcore_ready (zg_qcore_t *self, zg_qworker_t *worker, const byte *identity, size_t identity_size,
                    const byte *name, size_t name_size, const zg_qoptions_t *options, int *code, char *reason);

//  The task with this id if this worker holds it, else NULL; no side effects
zg_task_t *
    zg_qcore_held (zg_qcore_t *self, zg_qworker_t *worker, uint64_t id);

//  ACK of a held (or taken) task, with the reply moved from reply (or NULL): done
void
    zg_qcore_ack (zg_qcore_t *self, zg_task_t *task, zmq_msg_t *reply);

//  FAIL of a held task: failed, for this reason
void
    zg_qcore_fail (zg_qcore_t *self, zg_task_t *task, const char *reason);

//  NACK of a held task: back to the head of its queue (or dead letters);
//  RETRY of a taken one (zg_qcore_take): at_tail, back to the tail
void
    zg_qcore_nack (zg_qcore_t *self, zg_task_t *task, bool at_tail);

//  TAKE: the waiting task of these queues (all queues if count is 0) that
//  goes first (priority, then arrival) is in progress with no worker until
//  zg_qcore_ack, _fail, _nack or its ack timeout (ack_timeout ms if not 0,
//  else its own); NULL if none waits. The caller answers the TAKE.
zg_task_t *
    zg_qcore_take (zg_qcore_t *self, const zg_qname_t *names, size_t count, int64_t ack_timeout);

//  GET read a task: a finished one sent with until-read is forgotten
void
    zg_qcore_read (zg_qcore_t *self, zg_task_t *task);

//  A worker leaves (BYE): its tasks go back to their queues, it is freed
void
    zg_qcore_bye (zg_qcore_t *self, zg_qworker_t **worker_p);

//  Run the timers due at the clock: ack and reply timeouts, silent workers,
//  expired results
void
    zg_qcore_expire (zg_qcore_t *self);

//  Monotonic ms of the next timer, or INT64_MAX if none is armed
int64_t
    zg_qcore_next_deadline (zg_qcore_t *self);

//  Free the queues nothing names any more; call it between requests, when
//  no queue pointer is held
void
    zg_qcore_collect (zg_qcore_t *self);

//  Counters: queues, commands, workers, tasks and the recent list, as a new
//  json-c object (the caller puts it)
json_object *
    zg_qcore_stats (zg_qcore_t *self);

//  ERROR messages the core has written (task outcomes)
uint64_t
    zg_qcore_errors (zg_qcore_t *self);

//  Self test of this class
void
    zg_qcore_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
