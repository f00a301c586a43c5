/*  =========================================================================
    zg_errors - the one vocabulary of error codes, shared by every pattern,
    native and web

    The same fault has the same code everywhere: in a native [ERROR][req][code]
    frame, in a WebSocket {"op":"error","code"} and as the HTTP status of a
    REST answer. The codes borrow HTTP's meanings so that a web client needs no
    translation table; docs/PROTOCOL.md lists which request can get which.
    =========================================================================
*/

#ifndef ZG_ERRORS_H_INCLUDED
#define ZG_ERRORS_H_INCLUDED

//  Malformed: wrong frame count, bad number or name, bad options map
#define ZG_ERR_BAD_REQUEST      400
//  No valid token (web, when security is on)
#define ZG_ERR_UNAUTHORIZED     401
//  Denied by the permissions of the caller's identity
#define ZG_ERR_FORBIDDEN        403
//  Unknown task, client, member, worker or command name
#define ZG_ERR_NOT_FOUND        404
//  Unknown command verb (the first frame): the peer speaks something else
#define ZG_ERR_UNKNOWN_COMMAND  405
//  A reply or a wait timed out
#define ZG_ERR_TIMEOUT          408
//  Conflicts with the current state: stale or duplicate ack, not the holder
#define ZG_ERR_CONFLICT         409
//  The task is dead (moved to its dead-letter queue)
#define ZG_ERR_GONE             410
//  An HTTP POST without a Content-Length (its body cannot be read)
#define ZG_ERR_LENGTH_REQUIRED  411
//  A name, field, options frame or payload over its configured limit
#define ZG_ERR_TOO_LARGE        413
//  The worker failed the task
#define ZG_ERR_FAILED           422
//  A per-name or per-client limit: queue full, room backlog full, per-client quotas
#define ZG_ERR_TOO_MANY         429
//  A global capacity limit: max-tasks, max-queues, max-clients, max-rooms...
#define ZG_ERR_UNAVAILABLE      503
//  No room to keep the request: the store could not take it (disk full, I/O
//  error) or the memory budget is exhausted (zg_budget's alarm); nothing changed
#define ZG_ERR_STORAGE          507

//  Made by the gateway only, in its answers to web clients:
//  a pattern actor answered with no code
#define ZG_ERR_SERVER           500
//  A pattern actor's answer was malformed
#define ZG_ERR_BAD_GATEWAY      502
//  A pattern actor did not answer an HTTP request in time (a reply timeout, 408, too)
#define ZG_ERR_GATEWAY_TIMEOUT  504

#endif
