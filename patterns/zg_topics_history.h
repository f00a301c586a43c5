/*  =========================================================================
    zg_topics_history - the topics actor's memory: its history (zg_history),
    the sequence frame of remembered topics, and the ROUTER that native
    clients and the gateway read history and last values from

    Settings (section [topics]): history (the rules), history-max-bytes,
    and the endpoints history-requests and inproc-history-requests.
    Requests, answered on the same ROUTER (docs/PROTOCOL.md, "Topic history"):

        HISTORY req topic since epoch   ->  HISTORY req epoch top recovered {seq payload}...
        LAST req topic                  ->  LAST req epoch top 1 [seq payload]
        PRESENCE req topic              ->  PRESENCE req {"topic", "present": [...]}

    A message of a remembered topic goes to TCP subscribers as three frames,
    [topic][payload][seq epoch]: the third holds its sequence number and its
    topic's epoch, in decimal and hex separated by one space; in-process
    subscribers get [topic NUL seq epoch][payload] (zg_topics_local).
    Private to the topics actor, which owns it and calls it in its thread.
    =========================================================================
*/

#ifndef ZG_TOPICS_HISTORY_H_INCLUDED
#define ZG_TOPICS_HISTORY_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_security.h"
#include "zg_presence.h"
#include "zg_topics_local.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_topics_history_t zg_topics_history_t;


//  Create the memory of a topics actor: no rules, nothing remembered
zg_topics_history_t *
    zg_topics_history_new (void);

//  Destroy it
void
    zg_topics_history_destroy (zg_topics_history_t **self_p);

//  Apply a setting. Returns 0, -1 with a reason in error (nothing
//  changed), or 1 if the key is not one of this class
int
    zg_topics_history_set (zg_topics_history_t *self, const char *key, const char *value, char *error,
                           size_t size);

//  Use the actor's security (it keeps it) for the ROUTER's endpoints (bound
//  from then on with CURVE, if it is on) and for the requests: a topic's
//  history is for who may subscribe to it (else ERROR 403)
void
    zg_topics_history_secure (zg_topics_history_t *self, zg_security_t *security);

//  Answer PRESENCE from the actor's presence registry (it keeps it)
void
    zg_topics_history_presence (zg_topics_history_t *self, zg_presence_t *presence);

//  The ROUTER, for the actor to poll
zsock_t *
    zg_topics_history_socket (zg_topics_history_t *self);

//  Answer the requests waiting on the ROUTER
void
    zg_topics_history_handle (zg_topics_history_t *self);

//  Whether any topic is remembered: without rules, record is never needed
bool
    zg_topics_history_enabled (zg_topics_history_t *self);

//  Remember a message of topic (payload stays the caller's). If a rule
//  names the topic, returns its sequence frame, "seq epoch", and sets *size
//  to its length (valid until the next record); else returns NULL.
const char *
    zg_topics_history_record (zg_topics_history_t *self, const char *topic, zmq_msg_t *payload, size_t *size);

//  In cluster mode, a local message of a remembered topic is numbered by
//  Redis (zg_history_cluster), not here: returns its rule's count bound in
//  decimal (valid until the next call) with *size its length, for the
//  cluster link (zg_topics_link_number), or NULL (no rule names the topic,
//  it is a "$zgate." topic, which stays on its node, or not in cluster
//  mode). In cluster mode record returns NULL always.
const char *
    zg_topics_history_clustered (zg_topics_history_t *self, const char *topic, size_t *size);

//  Cluster mode: keep remembered topics in Redis, asking the history bridge
//  at "<endpoint>.history" (the cluster link's endpoint). Returns 0, or -1
//  with a reason.
int
    zg_topics_history_cluster (zg_topics_history_t *self, const char *endpoint, char *error, size_t size);

//  The PAIR the bridge's answers come on, for the actor to poll (it exists,
//  and receives nothing, outside cluster mode)
zsock_t *
    zg_topics_history_cluster_socket (zg_topics_history_t *self);

//  Answer the clients whose reads the bridge answered
void
    zg_topics_history_handle_cluster (zg_topics_history_t *self);

//  Whether the actor holds its messages until the end of the pass (with
//  topics/data-dir: a message goes out only once its pass is committed, so
//  zgate's crash loses nothing that a subscriber got)
bool
    zg_topics_history_holds (zg_topics_history_t *self);

//  Hold a message until the end of the pass: topic and payload are moved
//  (empty after), the sequence frame (NULL for none) copied; local: the
//  in-process subscribers want it, native: a TCP subscriber does
void
    zg_topics_history_hold (zg_topics_history_t *self, zmq_msg_t *topic, zmq_msg_t *payload, const char *mark,
                            size_t mark_size, bool local, bool native);

//  End a loop pass: with topics/data-dir, its records are committed, then
//  the messages held go out, in order, to local and xpub (each only where
//  wanted)
void
    zg_topics_history_commit (zg_topics_history_t *self, void *xpub, zg_topics_local_t *local);

//  Add the history counters to a STATS object: history_topics,
//  history_messages, history_bytes, history_requests, history_refused
void
    zg_topics_history_stats (zg_topics_history_t *self, json_object *stats);


#ifdef __cplusplus
}
#endif

#endif
