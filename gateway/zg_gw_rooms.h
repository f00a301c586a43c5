/*  =========================================================================
    zg_gw_rooms - the gateway's bridge to the rooms actor

    A web session becomes a rooms client on its first room request (HELLO
    gives it a client id; requests made meanwhile wait for it); members
    get room events by that id. HTTP clients send and query rooms without
    a client id. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_GW_ROOMS_H_INCLUDED
#define ZG_GW_ROOMS_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_rooms_t zg_gw_rooms_t;

//  A WebSocket op of this bridge: request is the decoded request, req its
//  "req" (or NULL)
typedef void (zg_gw_rooms_op_fn) (zg_gw_rooms_t *self, zg_session_t *session, json_object *request,
                                  json_object *req);

//  An HTTP route of this bridge: param is the path's {} segment, or ""
typedef void (zg_gw_rooms_route_fn) (zg_gw_rooms_t *self, zg_http_t *http, const char *param);

//  Create the bridge; answers and settings stay the caller's and must
//  outlive it
zg_gw_rooms_t *
    zg_gw_rooms_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings);

//  Destroy the bridge and its socket
void
    zg_gw_rooms_destroy (zg_gw_rooms_t **self_p);

//  Connect the socket of a [gateway] key: rooms-clients. Returns 0 when
//  connected, -1 if the connect failed (zmq_errno says why), 1 if the key
//  is not this bridge's
int
    zg_gw_rooms_connect (zg_gw_rooms_t *self, const char *key, const char *endpoint);

//  The bridge's zsocks by index from 0, then NULL: the actor wakes on their fds
zsock_t *
    zg_gw_rooms_socket (zg_gw_rooms_t *self, size_t index);

//  Handle a message if the zsock is readable; returns the messages handled,
//  and sets *more if more may be waiting
size_t
    zg_gw_rooms_drain (zg_gw_rooms_t *self, bool *more);

//  A session ended: its rooms client leaves its rooms
void
    zg_gw_rooms_session_closed (zg_gw_rooms_t *self, zg_session_t *session);

//  Web sessions that are rooms clients
size_t
    zg_gw_rooms_clients (zg_gw_rooms_t *self);

//  Housekeeping, every gateway tick: the room proxy's upstream client
//  (gateway/room-proxy)
void
    zg_gw_rooms_tick (zg_gw_rooms_t *self);
//  An admin's request (zg_gw_admin): [command][gateway req][fields] to the
//  rooms actor, answered to HTTP transaction http_id (zg_gw_answers_admin);
//  -1 if the rooms actor is not reachable now
int
    zg_gw_rooms_admin (zg_gw_rooms_t *self, const char *command, zg_pending_kind_t kind, uint64_t http_id,
                       zmsg_t **fields_p);

//  join op: the session joins a room as a member (or observer)
zg_gw_rooms_op_fn
    zg_gw_rooms_join;

//  leave op: the session leaves a room
zg_gw_rooms_op_fn
    zg_gw_rooms_leave;

//  ping op: the session's rooms client is alive
zg_gw_rooms_op_fn
    zg_gw_rooms_ping;

//  ack op with a room: the member is done with the message of token
zg_gw_rooms_op_fn
    zg_gw_rooms_ack;

//  send op with a room: a message queued in the room, or out-of-band
zg_gw_rooms_op_fn
    zg_gw_rooms_send;

//  peek op: the messages waiting in a room
zg_gw_rooms_op_fn
    zg_gw_rooms_peek;

//  state op: a room's state
zg_gw_rooms_op_fn
    zg_gw_rooms_state;

//  metrics op: the rooms actor's metrics; top bounds the rooms listed
zg_gw_rooms_op_fn
    zg_gw_rooms_metrics;

//  POST /api/rooms/{room}[/oob]: a message to a room
zg_gw_rooms_route_fn
    zg_gw_rooms_http_send;

//  GET /api/rooms/{room}/peek, /api/rooms/{room}, /api/rooms: peek, state, metrics
zg_gw_rooms_route_fn
    zg_gw_rooms_http_query;

//  Self test of this class
void
    zg_gw_rooms_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
