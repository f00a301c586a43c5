/*  =========================================================================
    zg_gw_calls - the web forms of the queues' command mode (CALL): the
    command line a web call makes, and the answers of a scatter call, to a
    session (a reply per worker, then replies) or to an HTTP transaction
    (one body with every reply). Below zg_gw_queues, which owns the socket;
    private to the gateway.
    =========================================================================
*/

#ifndef ZG_GW_CALLS_H_INCLUDED
#define ZG_GW_CALLS_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The native CALL line of a web call, a new frame the caller owns:
//  command ("name" or "name/params..."), then "/" and params if given,
//  then "/" and the native payload of request's "data" if it has one.
//  NULL if command has no name before its first '/'.
zframe_t *
    zg_gw_calls_line (const char *command, const char *params, json_object *request);

//  A REPLY [id][payload] to a scatter call: pushed to its session as a
//  reply, or kept for its HTTP transaction's answer
void
    zg_gw_calls_scatter_reply (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg);

//  The END [id][count] of a scatter call: "replies" to its session, or the
//  HTTP answer {"id", "count", "replies": [{"data"}, ...]}
void
    zg_gw_calls_scatter_end (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg);

//  Self test of this class
void
    zg_gw_calls_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
