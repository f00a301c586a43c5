/*  =========================================================================
    zg_topics_link - the topics actor's side of its link to the cluster

    Private to zg_topics. In cluster mode (cluster/redis set) the topics
    actor connects to the cluster actor's topics bridge (zg_topics_cluster)
    over two inproc PAIRs at the bridge's endpoint E:

        E           messages, both ways, [topic][payload]: a copy of every
                    message a local publisher sent goes out (dropped and
                    counted when the bridge is that far behind: the
                    topics' sndhwm bounds it, as for any subscriber); the
                    messages of other nodes' publishers come in (bounded
                    by the topics' rcvhwm, as for any publisher: the bridge
                    drops and counts past it), and the actor hands them to
                    its subscribers only, never back
        E.events    the prefixes local subscribers hold, as XPUB frames:
                    [1 prefix] when the first subscription to a prefix
                    starts, [0 prefix] when the last one ends; never
                    dropped (no high-water mark: one frame per change of
                    the prefix set, which the subscribers bound)

    So a remote message never goes back to Redis, and the node asks Redis
    only for what its own subscribers want.
    =========================================================================
*/

#ifndef ZG_TOPICS_LINK_H_INCLUDED
#define ZG_TOPICS_LINK_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_topics_link_t zg_topics_link_t;

//  Create a link, not yet connected
zg_topics_link_t *
    zg_topics_link_new (void);

//  Destroy the link
void
    zg_topics_link_destroy (zg_topics_link_t **self_p);

//  Connect to the bridge's endpoint (inproc) and announce the prefixes
//  subscriptions holds (prefix -> count, as the topics actor keeps them).
//  Returns 0, or -1 with a reason (not inproc, or already connected)
int
    zg_topics_link_connect (zg_topics_link_t *self, const char *endpoint, zhashx_t *subscriptions,
                            char *error, size_t size);

//  Whether the link is connected
bool
    zg_topics_link_on (zg_topics_link_t *self);

//  The messages socket, to poll for other nodes' messages (it exists, and
//  receives nothing, before the link is connected)
zsock_t *
    zg_topics_link_socket (zg_topics_link_t *self);

//  A local publisher's message: send a copy to the bridge (nothing if the
//  link is off); topic and payload stay the caller's
void
    zg_topics_link_publish (zg_topics_link_t *self, zmq_msg_t *topic, zmq_msg_t *payload);

//  A local publisher's message of a topic that remembers, in cluster mode:
//  send a copy to the bridge with its rule's count bound (bound_size bytes,
//  decimal, "0" for none), for Redis to number it (zg_history_cluster)
void
    zg_topics_link_number (zg_topics_link_t *self, zmq_msg_t *topic, zmq_msg_t *payload, const char *bound,
                           size_t bound_size);

//  A subscription to prefix started or ended, leaving count of them: the
//  bridge hears of the first and the last
void
    zg_topics_link_subscription (zg_topics_link_t *self, bool subscribed, const char *prefix, size_t count);

//  A message from another node was received (for the counters)
void
    zg_topics_link_received (zg_topics_link_t *self);

//  Add the link's counters to a STATS object: cluster-sent,
//  cluster-dropped, cluster-received (only when the link is on)
void
    zg_topics_link_stats (zg_topics_link_t *self, json_object *root);

//  Self test of this class
void
    zg_topics_link_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
