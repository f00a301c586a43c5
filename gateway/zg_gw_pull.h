/*  =========================================================================
    zg_gw_pull - the web forms of pulling tasks (TAKE, FINISH, RETRY): the
    native request a web take, finish or retry makes, and the web answer to
    its OK. Below zg_gw_queues, which owns the socket; private to the
    gateway.
    =========================================================================
*/

#ifndef ZG_GW_PULL_H_INCLUDED
#define ZG_GW_PULL_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The native fields after [verb][req] of a web pull, new, the caller's:
//  TAKE [options] for queue (request's "ack_timeout", ms, if any); FINISH
//  [id] or [id][output] (request's "data"); RETRY [id]. verb is "TAKE",
//  "FINISH" or "RETRY"; name is the queue (TAKE) or the task id. NULL if
//  request's fields are bad.
zmsg_t *
    zg_gw_pull_fields (const char *verb, const char *name, json_object *request);

//  The OK [fields...] of a pull: a taken task {"id", "queue", "attempt",
//  "data"} (op "taken"), nothing taken (op "taken", {} over HTTP), or a
//  finished or retried task {"id"} (op "ok")
void
    zg_gw_pull_answer (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg);

//  Self test of this class
void
    zg_gw_pull_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
