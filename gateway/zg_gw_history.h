/*  =========================================================================
    zg_gw_history - the gateway's side of topic history: recovery of web
    subscriptions (subscribe with "since" or "last") and
    GET /api/topics/{topic}/history and /last

    It asks the topics actor's history ROUTER over one DEALER
    (topics-history). A recovering subscription is in effect before the
    question goes out (the topics bridge waits for its probe first), so the
    answer and the live messages overlap: the live messages of the topic
    are held for that session until the answer arrives, then the session
    gets, in order, the subscribe's answer ({"recovered", "epoch", "seq"}),
    the messages it missed, and the held live messages newer than the
    answer; live messages the answer already held are dropped by their
    sequence numbers. Private to the gateway, called by the topics bridge.
    =========================================================================
*/

#ifndef ZG_GW_HISTORY_H_INCLUDED
#define ZG_GW_HISTORY_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_history_t zg_gw_history_t;

//  Room for an epoch, NUL included (16 hex digits)
#define ZG_GW_HISTORY_EPOCH_SIZE 17

//  The frame of a topic message in one encoding, new (the caller's); the
//  topics bridge builds them, so a recovered message looks like a live one
typedef zg_frame_t *(zg_gw_history_frame_fn) (void *arg, const char *topic, const byte *payload, size_t size,
                                             uint64_t seq, const char *epoch, bool msgpack);

//  Create the history side; answers and settings stay the caller's and must
//  outlive it, frame_fn builds message frames with frame_arg
zg_gw_history_t *
    zg_gw_history_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings, zg_gw_history_frame_fn *frame_fn,
                       void *frame_arg);

//  Destroy it
void
    zg_gw_history_destroy (zg_gw_history_t **self_p);

//  Connect the DEALER of key topics-history. Returns 0, -1 if the connect
//  failed, or 1 if the key is not this class's
int
    zg_gw_history_connect (zg_gw_history_t *self, const char *key, const char *endpoint);

//  The DEALER, for the actor to wake on
zsock_t *
    zg_gw_history_socket (zg_gw_history_t *self);

//  Parse the recovery fields of a subscribe: "since": {"seq": n, "epoch": e}
//  and "last": true. Returns 0 if there are none, 1 if there are (in
//  *since, epoch (ZG_GW_HISTORY_EPOCH_SIZE bytes) and *last), or -1 after
//  answering the session's request with an error
int
    zg_gw_history_fields (zg_gw_history_t *self, zg_session_t *session, json_object *request, json_object *req,
                          uint64_t *since, char *epoch, bool *last);

//  Start holding a session's live messages of topic, for a recovery that
//  asks once the subscription is in effect (zg_gw_history_ask)
void
    zg_gw_history_hold (zg_gw_history_t *self, zg_session_t *session, const char *topic);

//  Ask the topics actor for topic's messages after since (of epoch), or
//  its last one. For a session (owner its id), once its subscription is
//  in effect: *answer_p is the subscribe's "ok" (taken), which it gets
//  with "recovered", "epoch" and "seq", then the messages, then what was
//  held. For an HTTP transaction (owner its id, deferred), *answer_p is
//  NULL: it gets {"topic", "epoch", "seq", "messages": [{"seq", "data"}]}.
void
    zg_gw_history_ask (zg_gw_history_t *self, uint64_t owner, const char *topic, uint64_t since,
                       const char *epoch, bool last, json_object **answer_p);

//  A live message of a remembered topic for a session: returns true if it
//  was taken (held during a recovery, or dropped as already recovered),
//  false if the caller pushes it
bool
    zg_gw_history_take (zg_gw_history_t *self, zg_session_t *session, const char *topic, uint64_t seq,
                        zg_frame_t *frame);

//  A session subscribed to topic (one topic, no recovery): its first push
//  of the topic, if the topic remembers, will carry the epoch
void
    zg_gw_history_fresh (zg_gw_history_t *self, zg_session_t *session, const char *topic);

//  Whether any recovery or fresh subscription is under way: if not, take
//  and first are false for every session, and need not be asked
bool
    zg_gw_history_watching (zg_gw_history_t *self);

//  Whether this push of a remembered topic is the session's first since it
//  subscribed (zg_gw_history_fresh), and so carries the epoch; the next
//  will not
bool
    zg_gw_history_first (zg_gw_history_t *self, zg_session_t *session, const char *topic);

//  A session's subscription to topic ended
void
    zg_gw_history_forget (zg_gw_history_t *self, zg_session_t *session, const char *topic);

//  Handle the answers waiting on the DEALER; returns how many
size_t
    zg_gw_history_drain (zg_gw_history_t *self);

//  Give up on questions not answered within the HTTP timeout
void
    zg_gw_history_tick (zg_gw_history_t *self, int64_t now);

//  GET /api/topics/{topic}/history and /api/topics/{topic}/last
void
    zg_gw_history_http (zg_gw_history_t *self, zg_http_t *http, const char *topic);

//  Self test of this class
void
    zg_gw_history_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
