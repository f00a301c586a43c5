/*  =========================================================================
    zg_gw_queues - the gateway's bridge to the queues actor

    Web producers send and get tasks over the gateway's producers DEALER;
    web workers are workers of the queues actor named "w<session id>" on
    its workers DEALER, so pushed tasks find their session. Private to the
    gateway.
    =========================================================================
*/

#ifndef ZG_GW_QUEUES_H_INCLUDED
#define ZG_GW_QUEUES_H_INCLUDED

#include "zg_gw.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Tell the queues actor what a web worker serves (or that it left)
int
    zg_gw_queues_send_ready (zg_gw_t *self, zg_session_t *session);

//  send op without a room: a producer's task
zg_gw_op_fn
    zg_gw_queues_send;

//  consume op: the session becomes (or stays) a worker of one more queue
zg_gw_op_fn
    zg_gw_queues_consume;

//  cancel op: the worker stops taking tasks from a queue
zg_gw_op_fn
    zg_gw_queues_cancel;

//  ack op without a room: the worker is done with a task (data is the reply)
zg_gw_op_fn
    zg_gw_queues_ack;

//  nack op: the task goes back to its queue
zg_gw_op_fn
    zg_gw_queues_nack;

//  fail op: the task failed for good
zg_gw_op_fn
    zg_gw_queues_fail;

//  task op: a task's state
zg_gw_op_fn
    zg_gw_queues_task;

//  A message on the producers' DEALER: an answer to a pending request
void
    zg_gw_queues_handle_producer (zg_gw_t *self);

//  A message on the workers' DEALER: for the gateway, or for one worker
void
    zg_gw_queues_handle_worker (zg_gw_t *self);

//  POST /api/queues/{queue}: a task; with wait > 0, the reply too
zg_gw_route_fn
    zg_gw_queues_http_send;

//  GET /api/tasks/{id}: a task's state
zg_gw_route_fn
    zg_gw_queues_http_task;

#ifdef __cplusplus
}
#endif

#endif
