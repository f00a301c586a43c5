/*  =========================================================================
    zg_gw_wsqueue - go-wsqueue's WebSocket endpoints on the gateway

    {prefix}/wsqueue/topic/{name} subscribes a WebSocket to topic name and
    {prefix}/wsqueue/queue/{name} makes it a consumer of queue name, each
    message one JSON text frame in the seed's envelope (zg_wsqenv). A
    consumer acks a message by sending a frame with its metadata.id (the
    seed's Ack, which its own client never sent); a consumer that goes
    leaves its unacked messages to be delivered again. Frames a topic
    subscriber sends go, with its connection id, to gateway/wsqueue-inbox
    (a topic or a queue a native handler reads). Each endpoint session has
    its own sockets-free state; the bridge owns a SUB, a PUB and two DEALERs
    to the topics and queues actors (docs/PROTOCOL.md, "go-wsqueue
    endpoints"). Private to the gateway.
    =========================================================================
*/

#ifndef ZG_GW_WSQUEUE_H_INCLUDED
#define ZG_GW_WSQUEUE_H_INCLUDED

#include "zg_gw_answers.h"
#include "zg_gw_presence.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_wsqueue_t zg_gw_wsqueue_t;

//  Create the bridge, which announces its topic subscribers to presence
//  (or not, if NULL); answers, settings and presence stay the caller's
zg_gw_wsqueue_t *
    zg_gw_wsqueue_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings, zg_gw_presence_t *presence);

//  Destroy the bridge and its sockets
void
    zg_gw_wsqueue_destroy (zg_gw_wsqueue_t **self_p);

//  Connect the socket of a [gateway] endpoint key it uses too
//  (topics-subscribers, topics-publishers, queues-workers,
//  queues-producers). Returns 0 when connected, -1 if the connect failed,
//  1 if the key is not one of these
int
    zg_gw_wsqueue_connect (zg_gw_wsqueue_t *self, const char *key, const char *endpoint);

//  Apply wsqueue-inbox ("", "topic:NAME" or "queue:NAME"). Returns 0, -1
//  with a reason, or 1 if the key is not the bridge's
int
    zg_gw_wsqueue_set (zg_gw_wsqueue_t *self, const char *key, const char *value, char *error, size_t size);

//  The bridge's zsocks that receive, by index (NULL past the last)
zsock_t *
    zg_gw_wsqueue_socket (zg_gw_wsqueue_t *self, size_t index);

//  Whether an upgrade path is one of the endpoints ({prefix}/wsqueue/topic/
//  or /queue/ and a name)
bool
    zg_gw_wsqueue_path (const char *path);

//  A WebSocket session opened on an endpoint path: it subscribes or
//  consumes
void
    zg_gw_wsqueue_session_opened (zg_gw_wsqueue_t *self, zg_session_t *session, const char *path);

//  A complete message from an endpoint session: an ack, or a frame for the
//  inbox
void
    zg_gw_wsqueue_message (zg_gw_wsqueue_t *self, zg_session_t *session, const void *data, size_t size);

//  A session ended
void
    zg_gw_wsqueue_session_closed (zg_gw_wsqueue_t *self, zg_session_t *session);

//  Handle a message if a zsock is readable; returns how many (0 or 1)
//  and sets *more if one was
size_t
    zg_gw_wsqueue_drain (zg_gw_wsqueue_t *self, bool *more);

//  Housekeeping: the consumers' heartbeats
void
    zg_gw_wsqueue_tick (zg_gw_wsqueue_t *self, int64_t now);

//  Self test of this class
void
    zg_gw_wsqueue_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
