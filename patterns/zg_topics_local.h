/*  =========================================================================
    zg_topics_local - the topics actor's in-process subscribers (the
    gateway's threads, programs that embed zgate): their own XPUB, and the
    bytes its messages hold bounded by one account

    Private to zg_topics. An inproc pipe is bounded by sndhwm in messages
    only, and libzmq says nothing of how much it holds: a gateway thread
    that falls behind a flood of 64 KiB messages held sndhwm times 64 KiB.
    libzmq can neither drop for one pipe of an XPUB by bytes nor name the
    inproc pipe a subscription came from, but it frees a message's content
    when the last pipe or reader lets it go, and calls its free function
    then. So every message to in-process subscribers has a topic frame this
    class makes, which counts the message's bytes from its send until that
    free function runs, in whatever thread (its payload is shared with the
    TCP subscribers' XPUB, not copied): one account shared by the sender (which adds) and
    every reader (whose read subtracts), exact whatever the readers
    subscribed to, and without the count going wrong when libzmq drops at
    sndhwm. Past the account's limit, or past nine tenths of the memory
    budget, a message is dropped for the in-process subscribers (all of
    them: they share its one copy) and counted, as for a slow consumer:
    native publishers and subscribers are not slowed down.
    =========================================================================
*/

#ifndef ZG_TOPICS_LOCAL_H_INCLUDED
#define ZG_TOPICS_LOCAL_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_topics_local_t zg_topics_local_t;

//  Create the in-process XPUB (verbose: every subscription comes up)
zg_topics_local_t *
    zg_topics_local_new (void);

//  Destroy it; messages still in pipes keep the account until they go
void
    zg_topics_local_destroy (zg_topics_local_t **self_p);

//  The in-process XPUB, which the actor binds and polls
zsock_t *
    zg_topics_local_socket (zg_topics_local_t *self);

//  Bytes the in-process subscribers' unread messages may hold (0: the
//  memory budget alone bounds them)
void
    zg_topics_local_set_limit (zg_topics_local_t *self, int64_t limit);

//  An in-process subscription to prefix took effect (delta 1) or ended (-1)
void
    zg_topics_local_subscription (zg_topics_local_t *self, const char *prefix, int delta);

//  Whether an in-process subscription matches a topic of size bytes
bool
    zg_topics_local_matches (zg_topics_local_t *self, const char *topic, size_t size);

//  Send [topic][payload] to the in-process subscribers, counted (the
//  payload is shared, the caller keeps its own), with a remembered topic's
//  mark ("seq epoch", mark_size bytes) in the topic frame after a NUL,
//  [topic NUL mark][payload], not in a third frame: a frame costs each
//  reader more than these few bytes. A topic holding a NUL of its own gets
//  one more at its end (an empty mark), so the last NUL of a topic frame
//  that has any always ends the topic. Returns false if it was dropped (and
//  counted) for the account's limit or the budget
bool
    zg_topics_local_send (zg_topics_local_t *self, const void *topic, size_t topic_size, zmq_msg_t *payload,
                          const void *mark, size_t mark_size);

//  Bytes held now by messages sent and not yet read (or dropped by libzmq)
int64_t
    zg_topics_local_held (zg_topics_local_t *self);

//  Add "inproc" to a STATS object: held, limit, dropped, dropped_bytes
void
    zg_topics_local_stats (zg_topics_local_t *self, json_object *stats);

//  Self test of this class
void
    zg_topics_local_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
