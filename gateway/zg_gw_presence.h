/*  =========================================================================
    zg_gw_presence - the gateway's part of topic presence: it announces its
    web subscribers, and answers GET /api/topics/{topic}/presence

    A web subscriber of a topic with presence (topics/presence, given to the
    gateway as topics-presence) is announced on "$zgate.presence.<topic>"
    (zg_presence_event, kind "web") when it subscribes and when it
    unsubscribes or goes: a /ws session with a connection id of its own, a
    go-wsqueue subscriber with its connection id. The topics actor takes
    these into its registry (zg_presence), which the HTTP query reads with
    PRESENCE on its history endpoint. Private to zg_gw_topics (which owns
    it) and zg_gw_wsqueue.
    =========================================================================
*/

#ifndef ZG_GW_PRESENCE_H_INCLUDED
#define ZG_GW_PRESENCE_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_presence_t zg_gw_presence_t;

//  Create it; answers and settings stay the caller's
zg_gw_presence_t *
    zg_gw_presence_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings);

//  Destroy it and its sockets
void
    zg_gw_presence_destroy (zg_gw_presence_t **self_p);

//  A [gateway] key: topics-presence (the patterns) is its own, 0 or -1
//  with a reason; topics-publishers and topics-history connect its sockets
//  but stay the other classes' keys too (1), as does every other key
int
    zg_gw_presence_connect (zg_gw_presence_t *self, const char *key, const char *value, char *error, size_t size);

//  Its zsock that receives (answers to PRESENCE)
zsock_t *
    zg_gw_presence_socket (zg_gw_presence_t *self);

//  A session subscribed to a topic (exactly, not a prefix): announced if
//  the topic has presence. connection names the session (a UUIDv4), or is
//  NULL for one of its own
void
    zg_gw_presence_joined (zg_gw_presence_t *self, zg_session_t *session, const char *topic,
                           const char *connection);

//  A session unsubscribed from a topic (or went)
void
    zg_gw_presence_left (zg_gw_presence_t *self, zg_session_t *session, const char *topic);

//  GET /api/topics/{topic}/presence
void
    zg_gw_presence_http (zg_gw_presence_t *self, zg_http_t *http, const char *topic);

//  Handle an answer if one is waiting; returns how many (0 or 1)
size_t
    zg_gw_presence_drain (zg_gw_presence_t *self);

//  Self test of this class
void
    zg_gw_presence_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
