/*  =========================================================================
    zg_gw_rproxy - the rooms bridge's room proxy: the sync web members of a
    room share one membership of the gateway's own rooms client

    With gateway/room-proxy on, a web session's sync join makes it a local
    client of zg_roomproxy instead of a member of the rooms actor: the first
    one in a room makes the bridge's upstream client JOIN it, room messages
    the upstream member gets go to every local client, and the upstream ACK
    goes once every local holder acked or left. So N web sessions in one
    room cost the rooms actor one member (docs/PROTOCOL.md, "Room proxy").
    Observers (async joins) stay members of their own. Private to
    zg_gw_rooms, which hands it the requests and events it serves.
    =========================================================================
*/

#ifndef ZG_GW_RPROXY_H_INCLUDED
#define ZG_GW_RPROXY_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_rproxy_t zg_gw_rproxy_t;

//  The req prefix of the proxy's own requests to the rooms actor
#define ZG_GW_RPROXY_REQ "proxy-"

//  Create the proxy over the bridge's rooms DEALER; clients maps the
//  sessions' rooms client ids to their sessions. All stay the caller's.
zg_gw_rproxy_t *
    zg_gw_rproxy_new (zg_gw_answers_t *answers, zsock_t *rooms, zhashx_t *clients);

//  Destroy the proxy; its upstream client says goodbye
void
    zg_gw_rproxy_destroy (zg_gw_rproxy_t **self_p);

//  Housekeeping: obtain the upstream client id once enabled (HELLO), and
//  keep it alive (PING); call it more often than once a second
void
    zg_gw_rproxy_tick (zg_gw_rproxy_t *self, bool enabled);

//  An answer to one of the proxy's own requests ([OK|ERROR][req]...);
//  returns false if req is not the proxy's
bool
    zg_gw_rproxy_answer (zg_gw_rproxy_t *self, const char *command, const char *req, zmsg_t *msg);

//  Whether the client id is the proxy's upstream client (its events are
//  for the local clients: zg_gw_rproxy_event)
bool
    zg_gw_rproxy_is_upstream (zg_gw_rproxy_t *self, const char *client);

//  Whether the session is a local client of the room
bool
    zg_gw_rproxy_has (zg_gw_rproxy_t *self, zg_session_t *session, const char *room);

//  The session (with a rooms client id) joins a room through the proxy;
//  answers it (503 while the proxy has no upstream client id yet)
void
    zg_gw_rproxy_join (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, json_object *req);

//  A local client of the room leaves it; answers it
void
    zg_gw_rproxy_leave (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, json_object *req);

//  A local client of the room acks its message with a token; answers it
//  (409 for a stale or duplicate ack, as the rooms actor would)
void
    zg_gw_rproxy_ack (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, const char *token,
                      json_object *req);

//  A session ended: it leaves every room it is a local client of
void
    zg_gw_rproxy_session_closed (zg_gw_rproxy_t *self, zg_session_t *session);

//  An event for the upstream client, as its web form (event, encoded once
//  per encoding the sessions speak): DELIVER (detail: its token) and OOB
//  go to every local client of the room, EVICTED (detail: its reason) to
//  those it removes
void
    zg_gw_rproxy_event (zg_gw_rproxy_t *self, const char *command, const char *room, const char *detail,
                        json_object *event);

//  Rooms proxied
size_t
    zg_gw_rproxy_rooms (zg_gw_rproxy_t *self);

//  Self test of this class
void
    zg_gw_rproxy_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
