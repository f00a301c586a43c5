/*  =========================================================================
    zg_gw_queues - the gateway's bridge to the queues actor

    Web producers send and get tasks over the bridge's producers DEALER;
    web workers are workers of the queues actor named "w<session id>" on
    its workers DEALER, so pushed tasks find their session. Private to the
    gateway.
    =========================================================================
*/

#ifndef ZG_GW_QUEUES_H_INCLUDED
#define ZG_GW_QUEUES_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_queues_t zg_gw_queues_t;

//  A WebSocket op of this bridge: request is the decoded request, req its
//  "req" (or NULL)
typedef void (zg_gw_queues_op_fn) (zg_gw_queues_t *self, zg_session_t *session, json_object *request,
                                   json_object *req);

//  An HTTP route of this bridge: param is the path's {} segment, or ""
typedef void (zg_gw_queues_route_fn) (zg_gw_queues_t *self, zg_http_t *http, const char *param);

//  Create the bridge; answers and settings stay the caller's and must
//  outlive it
zg_gw_queues_t *
    zg_gw_queues_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings);

//  Destroy the bridge and its sockets
void
    zg_gw_queues_destroy (zg_gw_queues_t **self_p);

//  Connect the socket of a [gateway] key: queues-producers or
//  queues-workers. Returns 0 when connected, -1 if the connect failed
//  (zmq_errno says why), 1 if the key is not this bridge's
int
    zg_gw_queues_connect (zg_gw_queues_t *self, const char *key, const char *endpoint);

//  The bridge's zsocks by index from 0, then NULL: the actor wakes on their fds
zsock_t *
    zg_gw_queues_socket (zg_gw_queues_t *self, size_t index);

//  Handle a message of each readable zsock; returns the messages handled,
//  and sets *more if more may be waiting
size_t
    zg_gw_queues_drain (zg_gw_queues_t *self, bool *more);

//  Housekeeping: ping the queues actor for the web workers
void
    zg_gw_queues_tick (zg_gw_queues_t *self, int64_t now);

//  A session ended: its worker leaves, and the tasks it held go back
void
    zg_gw_queues_session_closed (zg_gw_queues_t *self, zg_session_t *session);

//  Web workers in all
size_t
    zg_gw_queues_workers (zg_gw_queues_t *self);

//  An admin's request (zg_gw_admin): [command][gateway req][fields] to the
//  queues actor, answered to HTTP transaction http_id (zg_gw_answers_admin);
//  -1 if the queues actor is not reachable now
int
    zg_gw_queues_admin (zg_gw_queues_t *self, const char *command, zg_pending_kind_t kind, uint64_t http_id,
                        zmsg_t **fields_p);

//  send op without a room: a producer's task
zg_gw_queues_op_fn
    zg_gw_queues_send;

//  call op: a command task and its reply (or every worker's, with scatter)
zg_gw_queues_op_fn
    zg_gw_queues_call;

//  consume op: the session becomes (or stays) a worker of one more queue
//  or command
zg_gw_queues_op_fn
    zg_gw_queues_consume;

//  cancel op: the worker stops taking tasks from a queue or command
zg_gw_queues_op_fn
    zg_gw_queues_cancel;

//  ack op without a room: the worker is done with a task (data is the reply)
zg_gw_queues_op_fn
    zg_gw_queues_ack;

//  nack op: the task goes back to its queue
zg_gw_queues_op_fn
    zg_gw_queues_nack;

//  fail op: the task failed for good
zg_gw_queues_op_fn
    zg_gw_queues_fail;

//  task op: a task's state
zg_gw_queues_op_fn
    zg_gw_queues_task;

//  take op (a task of "queue"), finish op ("id", "data"), retry op ("id")
zg_gw_queues_op_fn
    zg_gw_queues_pull;

//  POST /api/queues/{queue}: a task; with wait > 0, the reply too
zg_gw_queues_route_fn
    zg_gw_queues_http_send;

//  POST /api/commands/{name}: a command task and its reply (or every
//  worker's, with scatter)
zg_gw_queues_route_fn
    zg_gw_queues_http_call;

//  GET /api/tasks/{id}: a task's state
zg_gw_queues_route_fn
    zg_gw_queues_http_task;

//  POST /api/queues/{queue}/take, /api/tasks/{id}/finish and
//  /api/tasks/{id}/retry: pull a task, finish it, put it back
zg_gw_queues_route_fn
    zg_gw_queues_http_pull;

//  Self test of this class
void
    zg_gw_queues_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
