/*  =========================================================================
    zg_subbytes - the bytes the topics actor queued for each subscriber's
    TCP connection, so that zg_connwatch bounds its output in bytes

    Private to zg_topics. libzmq's XPUB queues a message once for every
    connection that holds a matching prefix, up to sndhwm messages, however
    large: a subscriber that never reads holds sndhwm times the largest
    message. libzmq says nothing of those queues, so this class counts what
    goes into them. Each prefix that TCP subscribers hold has a running
    count of the bytes (and frames) of the messages that matched it; a
    topic's match (the prefixes it matches, kept by the actor per topic and
    subscription generation) adds a message to each. A connection's bytes
    are the sum over its prefixes that no other of its prefixes contains
    (libzmq sends it a message once, and prefixes of which neither contains
    the other match no topic in common), counted from when it took each
    prefix; when its prefixes change, what it had is banked and the counts
    start again.
    =========================================================================
*/

#ifndef ZG_SUBBYTES_H_INCLUDED
#define ZG_SUBBYTES_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_subbytes_t zg_subbytes_t;
typedef struct _zg_subbytes_match_t zg_subbytes_match_t;

zg_subbytes_t *
    zg_subbytes_new (void);

void
    zg_subbytes_destroy (zg_subbytes_t **self_p);

//  TCP connection fd took prefix (an applied subscription it did not hold)
void
    zg_subbytes_subscribe (zg_subbytes_t *self, int fd, const char *prefix);

//  TCP connection fd gave up prefix
void
    zg_subbytes_unsubscribe (zg_subbytes_t *self, int fd, const char *prefix);

//  TCP connection fd closed: it is forgotten
void
    zg_subbytes_closed (zg_subbytes_t *self, int fd);

//  The prefixes a topic of size bytes matches, or NULL if none. It stays
//  valid until the next change of any connection's prefixes (the caller
//  makes a new one after each, as it counts subscribers)
zg_subbytes_match_t *
    zg_subbytes_match (zg_subbytes_t *self, const char *topic, size_t size);

void
    zg_subbytes_match_destroy (zg_subbytes_match_t **self_p);

//  A message of wire bytes in frames ZMTP frames was queued for the topic
//  of a match (NULL: for nobody)
void
    zg_subbytes_route (zg_subbytes_match_t *match, size_t wire, size_t frames);

//  What was queued for connection fd since it was accepted; returns false
//  if it holds no prefix and never did
bool
    zg_subbytes_queued (zg_subbytes_t *self, int fd, uint64_t *wire, uint64_t *frames);

//  Self test of this class
void
    zg_subbytes_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
