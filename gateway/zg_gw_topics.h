/*  =========================================================================
    zg_gw_topics - the gateway's bridge to the topics actor

    Web subscriptions (exact and "prefix*") ride on one SUB to the topics'
    XPUB, web publishes and gophermq HTTP publishes go out on one XPUB to its
    XSUB, and pull subscribers (POST /api/subscribe, /api/fetch) buffer what
    arrives. A subscription reaches the topics actor asynchronously, so a
    subscribe that adds a ZeroMQ subscription is answered only once a probe
    ($zgate.gateway.barrier) published after it has come back. Private to
    the gateway.
    =========================================================================
*/

#ifndef ZG_GW_TOPICS_H_INCLUDED
#define ZG_GW_TOPICS_H_INCLUDED

#include "zg_gw_answers.h"
#include "zg_gw_presence.h"
#include "zg_inflight.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_topics_t zg_gw_topics_t;

//  A WebSocket op of this bridge: request is the decoded request, req its
//  "req" (or NULL)
typedef void (zg_gw_topics_op_fn) (zg_gw_topics_t *self, zg_session_t *session, json_object *request,
                                   json_object *req);

//  An HTTP route of this bridge: param is the path's {} segment, or ""
typedef void (zg_gw_topics_route_fn) (zg_gw_topics_t *self, zg_http_t *http, const char *param);

//  Create the bridge; answers and settings stay the caller's and must
//  outlive it
zg_gw_topics_t *
    zg_gw_topics_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings);

//  Destroy the bridge and its sockets
void
    zg_gw_topics_destroy (zg_gw_topics_t **self_p);

//  Connect the socket of a [gateway] key: topics-subscribers or
//  topics-publishers. Returns 0 when connected, -1 if the connect failed
//  (zmq_errno says why), 1 if the key is not this bridge's
int
    zg_gw_topics_connect (zg_gw_topics_t *self, const char *key, const char *endpoint);

//  Settings changed: size the topic buffer and the pull limits
void
    zg_gw_topics_configure (zg_gw_topics_t *self);

//  Count publishes in publishes, the account all the gateway's threads
//  share (until then the bridge has one of its own)
void
    zg_gw_topics_share (zg_gw_topics_t *self, zg_inflight_t *publishes);

//  Bytes of publishes the topics actor has not read yet (the shared account's)
int64_t
    zg_gw_topics_published_held (zg_gw_topics_t *self);

//  The bridge's zsocks by index from 0, then NULL: the actor wakes on their fds
zsock_t *
    zg_gw_topics_socket (zg_gw_topics_t *self, size_t index);

//  Handle what the zsocks hold, a run at most; returns the messages
//  handled, and sets *more if more may be waiting
size_t
    zg_gw_topics_drain (zg_gw_topics_t *self, bool *more);

//  Housekeeping: expire idle pull subscribers, publish a lost probe again
void
    zg_gw_topics_tick (zg_gw_topics_t *self, int64_t now);

//  A session ended: drop its subscriptions
void
    zg_gw_topics_session_closed (zg_gw_topics_t *self, zg_session_t *session);

//  Web subscriptions in all
size_t
    zg_gw_topics_subscriptions (zg_gw_topics_t *self);

//  The pull subscribers' counters
void
    zg_gw_topics_pull_counters (zg_gw_topics_t *self, uint64_t *delivered, uint64_t *dropped,
                                size_t *subscribers);

//  subscribe op: a web subscription to a topic or a "prefix*"
zg_gw_topics_op_fn
    zg_gw_topics_subscribe;

//  unsubscribe op
zg_gw_topics_op_fn
    zg_gw_topics_unsubscribe;

//  publish op
zg_gw_topics_op_fn
    zg_gw_topics_publish;

//  POST /api/publish, /api/publish/async: gophermq publish
zg_gw_topics_route_fn
    zg_gw_topics_http_publish;

//  POST /api/subscribe: a new pull subscriber
zg_gw_topics_route_fn
    zg_gw_topics_http_subscribe;

//  POST /api/fetch: drain a pull subscriber's buffer
zg_gw_topics_route_fn
    zg_gw_topics_http_fetch;

//  GET /api/topics/{topic}/history and /api/topics/{topic}/last: a remembered
//  topic's messages, or its last one (zg_gw_history)
zg_gw_topics_route_fn
    zg_gw_topics_http_history;

//  GET /api/topics/{topic}/presence: who is subscribed to it now
//  (zg_gw_presence)
zg_gw_topics_route_fn
    zg_gw_topics_http_presence;

//  The bridge's topic presence, which the go-wsqueue endpoints announce
//  their subscribers to
zg_gw_presence_t *
    zg_gw_topics_presence (zg_gw_topics_t *self);
//  The pull subscribers, for an admin (zg_gw_admin): a json-c array (the
//  caller puts it), at most limit of them
json_object *
    zg_gw_topics_pull_list (zg_gw_topics_t *self, size_t limit);

//  An admin deletes pull subscriber id; false if there is none
bool
    zg_gw_topics_pull_remove (zg_gw_topics_t *self, const char *id);

//  Self test of this class
void
    zg_gw_topics_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
