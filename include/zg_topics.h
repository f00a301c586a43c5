/*  =========================================================================
    zg_topics - PUB/SUB fan-out actor (XSUB for publishers, XPUB for subscribers)

    Publishers send [topic][payload] to the XSUB side; every subscriber whose
    ZeroMQ prefix subscription matches the topic at that moment gets a copy,
    in each publisher's order. Anything else (one frame, three frames, a topic
    longer than max-topic-size, non-subscription frames from subscribers) is
    dropped and counted as malformed.

    Pipe commands (see zg_actor.h): SET / BIND with the keys of the [topics]
    section of config/zgate.cfg, STATS, $TERM. Endpoint keys:

        subscribers, inproc-subscribers     XPUB endpoints
        publishers,  inproc-publishers      XSUB endpoints
        cluster                             the cluster actor's inproc-topics
                                            endpoint (cluster mode: zg_cluster.h)
    =========================================================================
*/

#ifndef ZG_TOPICS_H_INCLUDED
#define ZG_TOPICS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Called in the actor's thread when a subscription starts (subscribed true)
//  or ends, with the subscribed prefix. A message it returns ([topic][payload],
//  e.g. a welcome) is published to the topic's subscribers; it may return NULL.
typedef zmsg_t *(zg_topics_hook_fn) (bool subscribed, const char *prefix, void *hook_arg);

//  Create a topics actor; hook and hook_arg may be NULL
zactor_t *
    zg_topics_new (zg_topics_hook_fn *hook, void *hook_arg);

//  The actor function, for zactor_new (zg_topics, NULL); zg_topics_new gives it hooks
void
    zg_topics (zsock_t *pipe, void *args);

//  The actor's state without its thread, for a caller that runs it in its
//  own (the fuzz targets): the same code the actor runs, which reads its
//  sockets as the actor does. SET its keys (endpoints bind) with
//  zg_topics_core_set, as the actor's pipe does.
typedef struct _zg_topics_core_t zg_topics_core_t;

zg_topics_core_t *
    zg_topics_core_new (zg_topics_hook_fn *hook, void *hook_arg);

void
    zg_topics_core_destroy (zg_topics_core_t **self_p);

//  Apply a key of the [topics] section; 0, or -1 with the error written
int
    zg_topics_core_set (zg_topics_core_t *self, const char *key, const char *value, char *error, size_t size);

//  Its STATS, as a json-c object the caller puts
struct json_object *
    zg_topics_core_stats (zg_topics_core_t *self);

//  One pass of the actor's loop: wait up to timeout ms (0: not at all) for
//  its sockets, then handle what came; the sockets that had something, or
//  -1 if the context ended
int
    zg_topics_core_pass (zg_topics_core_t *self, long timeout);

//  Self test of this class
void
    zg_topics_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
