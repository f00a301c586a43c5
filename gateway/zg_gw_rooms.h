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

#include "zg_gw.h"

#ifdef __cplusplus
extern "C" {
#endif

//  join op: the session joins a room as a member (or observer)
zg_gw_op_fn
    zg_gw_rooms_join;

//  leave op: the session leaves a room
zg_gw_op_fn
    zg_gw_rooms_leave;

//  ping op: the session's rooms client is alive
zg_gw_op_fn
    zg_gw_rooms_ping;

//  ack op with a room: the member is done with the message of token
zg_gw_op_fn
    zg_gw_rooms_ack;

//  send op with a room: a message queued in the room, or out-of-band
zg_gw_op_fn
    zg_gw_rooms_send;

//  peek op: the messages waiting in a room
zg_gw_op_fn
    zg_gw_rooms_peek;

//  state op: a room's state
zg_gw_op_fn
    zg_gw_rooms_state;

//  metrics op: the rooms actor's metrics; top bounds the rooms listed
zg_gw_op_fn
    zg_gw_rooms_metrics;

//  A message on the rooms' DEALER: an answer to a pending request, or an
//  event for a room client
void
    zg_gw_rooms_handle (zg_gw_t *self);

//  POST /api/rooms/{room}[/oob]: a message to a room
zg_gw_route_fn
    zg_gw_rooms_http_send;

//  GET /api/rooms/{room}/peek, /api/rooms/{room}, /api/rooms: peek, state, metrics
zg_gw_route_fn
    zg_gw_rooms_http_query;

#ifdef __cplusplus
}
#endif

#endif
