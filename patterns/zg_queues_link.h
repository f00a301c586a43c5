/*  =========================================================================
    zg_queues_link - the queues actor's side of its link to the cluster

    Private to zg_queues. In cluster mode (cluster/redis set) the queues
    actor connects one inproc PAIR to the cluster actor's queues bridge
    (zg_queues_cluster) and queues live in Redis:

    - a producer's SEND goes to the bridge, which stores the task by script
      and answers the producer (OK with the id, or ERROR); outcomes of the
      tasks it waits for come back through the bridge as REPLY or ERROR;
    - for each queue the local workers serve (READY), the link claims as
      many tasks as their free credit, and the core delivers them to the
      workers as if they had been sent here (zg_qcore_adopt);
    - a claimed task's outcome (ACK, FAIL) or its taking back (NACK, ack
      timeout, worker gone) goes back to the bridge (the core's handoff),
      and Redis decides requeue or dead letters;
    - GET of an id this node does not hold goes to the bridge.

    Frames to the bridge (the first names the message):
        O max-pending max-deliveries result-ttl max-name-size worker-timeout
        S producer req queue priority ack-timeout reply reply-timeout payload
        C queue count
        F id attempt done|failed result
        R id attempt
        G producer req id
    and from it:
        P producer verb req fields...   (to the producers' ROUTER as is)
        T queue asked [id attempt priority ack-timeout created payload]...
        W queue                          (it got tasks; empty: every queue)
    Neither side has a high-water mark: nothing between them is dropped.
    =========================================================================
*/

#ifndef ZG_QUEUES_LINK_H_INCLUDED
#define ZG_QUEUES_LINK_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_qcore.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_queues_link_t zg_queues_link_t;

//  Create a link, not yet connected
zg_queues_link_t *
    zg_queues_link_new (void);

//  Destroy the link
void
    zg_queues_link_destroy (zg_queues_link_t **self_p);

//  Connect to the bridge's endpoint (inproc); the core (which must not be
//  replaced from now on) hands the claimed tasks' outcomes to the link,
//  whose messages carry the settings (the caller's, alive as long).
//  Returns 0, or -1 with a reason (not inproc, or already connected)
int
    zg_queues_link_connect (zg_queues_link_t *self, const char *endpoint, zg_qcore_t *core,
                            const zg_qsettings_t *settings, char *error, size_t size);

//  Whether the link is connected
bool
    zg_queues_link_on (zg_queues_link_t *self);

//  The socket to poll for the bridge's messages (it exists before the link
//  is connected, and receives nothing then)
zsock_t *
    zg_queues_link_socket (zg_queues_link_t *self);

//  The settings changed: tell the bridge
void
    zg_queues_link_settings (zg_queues_link_t *self);

//  A producer's SEND, checked: the bridge stores it and answers the
//  producer; producer, req and payload stay the caller's
void
    zg_queues_link_send (zg_queues_link_t *self, zmq_msg_t *producer, zmq_msg_t *req, const char *queue,
                         const zg_qoptions_t *options, zmq_msg_t *payload);

//  A producer's GET of an id this node does not hold
void
    zg_queues_link_get (zg_queues_link_t *self, zmq_msg_t *producer, zmq_msg_t *req, zmq_msg_t *id);

//  A READY's options: claim for its queues from now on
void
    zg_queues_link_watch (zg_queues_link_t *self, const zg_qoptions_t *options);

//  Take the bridge's messages: answers go to the producers' socket, claimed
//  tasks to the core
void
    zg_queues_link_handle (zg_queues_link_t *self, zsock_t *producers);

//  After a pass: claim what the local workers have credit for, and hand
//  back what waits here for workers that left
void
    zg_queues_link_claim (zg_queues_link_t *self);

//  Add the link's counters to a STATS object under "cluster" (only when on)
void
    zg_queues_link_stats (zg_queues_link_t *self, json_object *root);

//  Self test of this class
void
    zg_queues_link_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
