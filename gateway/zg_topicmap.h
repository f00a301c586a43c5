/*  =========================================================================
    zg_topicmap - the gateway's web topic subscriptions over one SUB socket

    Web sessions subscribe to exact topics ("news.x") or prefixes ("news.*",
    "*"); the map keeps who holds each, and keeps the SUB socket subscribed
    to exactly the ZeroMQ prefixes some holder (or other user, such as a pull
    subscriber) needs, each once. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_TOPICMAP_H_INCLUDED
#define ZG_TOPICMAP_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_topicmap_t zg_topicmap_t;

//  Called for a holder of a subscription that matches a topic
typedef void (zg_topicmap_fn) (void *holder, void *arg);

//  Create a map that subscribes and unsubscribes subscriber (a SUB socket)
zg_topicmap_t *
    zg_topicmap_new (zsock_t *subscriber);

//  Destroy the map (the socket is the caller's)
void
    zg_topicmap_destroy (zg_topicmap_t **self_p);

//  Add a holder of a web topic (a final '*' makes it a prefix). Returns true
//  if the socket subscribed just now, so the subscription is not in effect
//  at the publisher's end yet
bool
    zg_topicmap_add (zg_topicmap_t *self, const char *topic, void *holder);

//  Remove a holder of a web topic
void
    zg_topicmap_remove (zg_topicmap_t *self, const char *topic, void *holder);

//  Use a ZeroMQ prefix for something else than a web topic (e.g. a pull
//  subscriber). Returns true if the socket subscribed just now
bool
    zg_topicmap_use (zg_topicmap_t *self, const char *prefix);

//  Stop using a ZeroMQ prefix taken with zg_topicmap_use
void
    zg_topicmap_release (zg_topicmap_t *self, const char *prefix);

//  True if the socket is subscribed to exactly this ZeroMQ prefix
bool
    zg_topicmap_subscribed (zg_topicmap_t *self, const char *prefix);

//  Call fn for each holder of each subscription matching topic (a holder of
//  two matching subscriptions is called twice); returns the calls made
size_t
    zg_topicmap_match (zg_topicmap_t *self, const char *topic, zg_topicmap_fn *fn, void *arg);

//  Subscriptions (distinct web topics) held
size_t
    zg_topicmap_size (zg_topicmap_t *self);

//  Self test of this class
void
    zg_topicmap_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
