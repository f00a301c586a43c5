/*  =========================================================================
    zg_gw_guard - the web trust boundary: who a web client is (a JWT on
    each HTTP request, on the WebSocket upgrade or in the session's first
    `auth` op) and whether it may do what it asks (zg_acl's permissions
    file plus the token's own claims), which Origins may open WebSockets
    and get CORS headers, and the reserved `$zgate.` topics

    Security is on once a JWT key is configured (`security/jwt-secret` or
    `security/jwt-public-key`); without one, every request is allowed as
    before, except publishing on `$zgate.` topics, which the web never may.
    It sits beside the bridges, on zg_gw_answers; private to the gateway.
    =========================================================================
*/

#ifndef ZG_GW_GUARD_H_INCLUDED
#define ZG_GW_GUARD_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_guard_t zg_gw_guard_t;

//  What a request needs: nothing (pattern NULL), the admin permission
//  (pattern "admin"), or zg_acl's action on a name. The name is the
//  request's (or JSON body's) field (the first it has of a space-separated
//  list; of a command "name/params...", the name), the route's {} segment
//  if field is NULL, or every name if field is "".
typedef struct {
    const char *pattern;            //  "topics", "queues", "rooms", "admin" or NULL
    const char *action;             //  zg_acl's action
    const char *field;              //  Where the name is
} zg_gw_access_t;

//  WebSocket close codes of the trust boundary
#define ZG_GW_GUARD_CLOSE_EXPIRED   4001    //  The session's token expired
#define ZG_GW_GUARD_CLOSE_NO_AUTH   4002    //  No valid auth op within auth-timeout

//  Create the guard, security off
zg_gw_guard_t *
    zg_gw_guard_new (zg_gw_answers_t *answers);

//  Destroy it
void
    zg_gw_guard_destroy (zg_gw_guard_t **self_p);

//  Apply a setting: jwt-secret, jwt-public-key (a PEM file), jwt-algorithm,
//  auth-timeout, permissions (a file) or allowed-origins. A key naming a
//  file reads it again even if unchanged. Returns 0, 1 if the key is not
//  the guard's, -1 with a reason (nothing changed).
int
    zg_gw_guard_set (zg_gw_guard_t *self, const char *key, const char *value, char *error, size_t size);

//  Whether tokens are required
bool
    zg_gw_guard_enabled (zg_gw_guard_t *self);

//  Check a WebSocket upgrade request: its Origin, and its Authorization
//  header if it has one. Returns 0, or an HTTP status with a message.
int
    zg_gw_guard_upgrade (zg_gw_guard_t *self, struct lws *wsi, const char **message_p);

//  A session opened: it is authenticated by its upgrade's Bearer header,
//  or must send auth within auth-timeout
void
    zg_gw_guard_session_opened (zg_gw_guard_t *self, zg_session_t *session);

//  Whether a session may make a request of op (to the rooms bridge if
//  room) needing access; answers it if not. Handles the auth op itself
//  (and answers false).
bool
    zg_gw_guard_request (zg_gw_guard_t *self, zg_session_t *session, json_object *request, const char *op,
                         const zg_gw_access_t *access, json_object *req);

//  Read an HTTP request's Authorization and Origin headers into it (CORS
//  headers for an allowed Origin)
void
    zg_gw_guard_http_headers (zg_gw_guard_t *self, zg_http_t *http);

//  Whether an HTTP request may be served with access (param is the
//  route's {} segment); replies 401 or 403 if not
bool
    zg_gw_guard_http (zg_gw_guard_t *self, zg_http_t *http, const zg_gw_access_t *access, const char *param);

//  Close the sessions whose token expired (4001) or that did not
//  authenticate in time (4002)
void
    zg_gw_guard_tick (zg_gw_guard_t *self, int64_t now);

//  Self test of this class
void
    zg_gw_guard_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
