/*  =========================================================================
    zg_gw_publisher - the gateway's publishes into the topics actor,
    bounded in bytes until the actor reads them

    One XPUB per gateway thread to the topics actor's in-process XSUB,
    which also tells which prefixes the topics actor's subscribers hold.
    libzmq bounds that inproc pipe in messages only, so each publish's
    topic frame is counted (zg_inflight) with the whole message's bytes
    and libzmq's overheads, in one account that all the gateway's threads
    share, charged to the memory budget; the topics actor copies that frame
    as it reads the message and lets it go, which ends the count. Past
    gateway/max-publish-queued a publish is refused with 429, past the
    budget with 507, each refusal counted. Private to zg_gw_topics.
    =========================================================================
*/

#ifndef ZG_GW_PUBLISHER_H_INCLUDED
#define ZG_GW_PUBLISHER_H_INCLUDED

#include "zg_gw_answers.h"
#include "zg_listeners.h"
#include "zg_inflight.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_publisher_t zg_gw_publisher_t;

//  Create the publisher, with an account of its own until shared; the
//  answers (its settings and counters) stay the caller's and outlive it
zg_gw_publisher_t *
    zg_gw_publisher_new (zg_gw_answers_t *answers);

//  Destroy it; what it published still counts until the actor reads it
void
    zg_gw_publisher_destroy (zg_gw_publisher_t **self_p);

//  Connect to the topics actor's publishers endpoint; 0, or -1 (zmq_errno
//  says why)
int
    zg_gw_publisher_connect (zg_gw_publisher_t *self, const char *endpoint);

//  The XPUB, for the gateway's wake-ups
zsock_t *
    zg_gw_publisher_socket (zg_gw_publisher_t *self);

//  Count in publishes, the account all the gateway's threads share
void
    zg_gw_publisher_share (zg_gw_publisher_t *self, zg_inflight_t *publishes);

//  Bytes published that the topics actor has not read yet (the account's)
int64_t
    zg_gw_publisher_held (zg_gw_publisher_t *self);

//  Publish [topic][payload], counted. Returns 0, or the refusal, counted:
//  ZG_ERR_UNAVAILABLE (not connected, or the socket full), ZG_ERR_TOO_MANY
//  (gateway/max-publish-queued) or ZG_ERR_STORAGE (the memory budget)
int
    zg_gw_publisher_send (zg_gw_publisher_t *self, const char *topic, const void *payload, size_t size);

//  Why a publish was refused, for its answer
const char *
    zg_gw_publisher_reason (int refusal);

//  Publish [topic][text] the gateway made itself (a probe), uncounted;
//  dropped if the socket is full
void
    zg_gw_publisher_probe (zg_gw_publisher_t *self, const char *topic, const char *text);

//  Take in the subscriptions the XPUB received; returns how many
size_t
    zg_gw_publisher_drain (zg_gw_publisher_t *self);

//  Whether a subscriber of the topics actor holds a prefix of topic, but
//  for those own says are the gateway's own
bool
    zg_gw_publisher_listened (zg_gw_publisher_t *self, const char *topic, zg_listeners_own_fn *own, void *arg);

//  Self test of this class
void
    zg_gw_publisher_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
