/*  =========================================================================
    zg_presence - who is subscribed to a topic now: topic presence

    go-wsqueue tells a topic's server of every subscriber that comes and
    goes, each with a connection id (UUIDv4): the seed's "Welcome <id>" and
    "Bye bye <id>" hooks; Centrifugo calls it presence. For the topics that
    match topics/presence (patterns: a topic, or a prefix ending in '*'),
    zgate publishes each join and leave on the topic "$zgate.presence.<topic>"
    as JSON {"event": "join"|"leave", "topic", "connection", "kind":
    "native"|"web", "identity"?}, and keeps who is present, for PRESENCE.

    Native subscribers are the topics actor's: a subscription over the
    network (its message names the connection's file descriptor) is a join
    with a new connection id; an unsubscription from that connection, or the
    connection's end (the XPUB's monitor), is its leave. Subscriptions of
    in-process subscribers (the gateway's SUBs, whose web subscribers the
    gateway announces itself) name no connection and are no one; so are the
    unsubscriptions libzmq makes for a connection that ended, which the
    monitor covers. The gateway's announcements reach the actor as messages
    on the presence topics (in-process, so trusted) and update the same
    registry.
    =========================================================================
*/

#ifndef ZG_PRESENCE_H_INCLUDED
#define ZG_PRESENCE_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_presence_t zg_presence_t;

//  Size of a connection id (a UUID's canonical text) with its terminator
#define ZG_PRESENCE_UUID_SIZE 37
//  Prefix of the topics presence events are published on
#define ZG_PRESENCE_TOPIC "$zgate.presence."

//  Create an empty registry that matches no topic
zg_presence_t *
    zg_presence_new (void);

//  Destroy the registry
void
    zg_presence_destroy (zg_presence_t **self_p);

//  Write a new random UUID, version 4, in canonical lower-case form
void
    zg_presence_uuid4 (char *uuid);

//  Apply the key "presence": patterns separated by spaces ("" for none).
//  Returns 0, -1 with a reason (nothing changed), or 1 if the key is not
//  this class's
int
    zg_presence_set (zg_presence_t *self, const char *key, const char *value, char *error, size_t size);

//  Whether a topic has presence (matches a pattern)
bool
    zg_presence_matches (zg_presence_t *self, const char *topic);

//  A subscription (or unsubscription) of a topic took effect on the XPUB:
//  fd is the connection it came from (ZMQ_SRCFD; -1 for none), identity
//  names the subscriber (or NULL). Returns the event to publish ([topic]
//  [payload], the caller's), or NULL
zmsg_t *
    zg_presence_subscription (zg_presence_t *self, bool subscribed, const char *topic, int fd,
                              const char *identity);

//  The connection of file descriptor fd ended: every native subscriber on
//  it leaves. Returns the events to publish, a new list of zmsg_t the
//  caller destroys (it destroys the messages left in it)
zlistx_t *
    zg_presence_disconnected (zg_presence_t *self, int fd);

//  A message published on a presence topic (by the gateway, for its web
//  subscribers): a join or leave of kind web is applied to the registry
void
    zg_presence_apply (zg_presence_t *self, const void *payload, size_t size);

//  A new event message [ZG_PRESENCE_TOPIC topic][payload]; identity may be
//  NULL. The caller owns it.
zmsg_t *
    zg_presence_event (const char *topic, bool joined, const char *connection, const char *kind,
                       const char *identity);

//  Who is present on a topic now, oldest first: a new JSON object
//  {"topic": topic, "present": [{"connection", "kind", "identity"?}, ...]}
json_object *
    zg_presence_list (zg_presence_t *self, const char *topic);

//  Self test of this class
void
    zg_presence_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
