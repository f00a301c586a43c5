/*  =========================================================================
    zg_gw_answers - what the gateway's bridges share: answers to web
    sessions and HTTP transactions, request fields, pushes, and the
    requests waiting for a pattern actor

    The topics, queues and rooms bridges sit on top of this class and it
    knows none of them. It owns the sessions and deferred HTTP transactions
    by id (so an answer that comes back later finds its owner, or finds it
    gone), the pending-request table, the codec and the gateway's counters;
    the actor (zg_gateway) owns the settings it reads. Private to the
    gateway; everything runs in its lws thread.
    =========================================================================
*/

#ifndef ZG_GW_ANSWERS_H_INCLUDED
#define ZG_GW_ANSWERS_H_INCLUDED

#include "zg_codec.h"
#include "zg_session.h"
#include "zg_http.h"
#include "zg_pending.h"
#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_answers_t zg_gw_answers_t;

//  The patterns, for the counters
typedef enum { ZG_TOPICS, ZG_QUEUES, ZG_ROOMS, ZG_PATTERNS } zg_gw_pattern_t;

//  The settings, from the [gateway] section of config/zgate.cfg
typedef struct {
    int64_t verbose;                //  Log decisions
    int64_t max_frame_size;         //  Largest WebSocket frame
    int64_t max_message_size;       //  Largest WebSocket message
    int64_t max_depth;              //  Deepest JSON or msgpack nesting
    int64_t max_topic_size;         //  Longest topic
    int64_t max_subscriptions;      //  Topics (or queues) per session
    int64_t max_sessions;           //  WebSocket sessions in all
    int64_t max_sessions_per_address;   //  WebSocket sessions from one client address
    int64_t max_queue_bytes;        //  Send queue bound per session
    int64_t max_publish_queued;     //  Bytes publishes may hold until the topics actor reads them
    int64_t ping_interval;          //  Idle time before a ping, ms
    int64_t ping_timeout;           //  Time to answer it, ms
    int64_t max_body_size;          //  Largest HTTP body
    int64_t pull_buffer_size;       //  Messages per pull subscriber
    int64_t max_pull_subscribers;   //  Pull subscribers in all
    int64_t max_pull_subscribers_per_address;   //  Of them, made from one address
    int64_t pull_idle_timeout;      //  Pull subscriber life without fetch, ms
    int64_t peer_stats_interval;    //  How often the owner sends PEER-STATS, ms
    int64_t write_batch;            //  Bytes coalesced per write
    int64_t http_timeout;           //  Longest wait for a pattern actor, ms
    int64_t queues_max_prefetch;    //  queues/max-prefetch, checked before consume answers ok
    int64_t queues_max_reply_timeout;   //  queues/max-reply-timeout, bounds a REST wait
    int64_t drain_timeout;          //  Longest lame-duck shutdown, ms
    int64_t room_proxy;             //  Sync web members of a room share one membership
    bool disconnect_slow;           //  slow-client-policy is disconnect
    char *interface;                //  Address to listen on
} zg_gw_settings_t;

//  The gateway's counters, one set per gateway thread: only the thread
//  that owns a set writes it, and any thread may read every set to sum
//  them for /api/stats (zg_gw_threads), so each is atomic. Every field is
//  an _Atomic uint64_t: zg_gw_threads sums the sets field by field.
typedef struct {
    _Atomic uint64_t sessions_accepted;     //  WebSocket sessions opened
    _Atomic uint64_t sessions_rejected;     //  Upgrades refused (max-sessions)
    _Atomic uint64_t in [ZG_PATTERNS];      //  Web requests per pattern
    _Atomic uint64_t out [ZG_PATTERNS];     //  Pushes to web sessions per pattern
    _Atomic uint64_t dropped_slow;          //  Pushes dropped by the slow-client policy
    _Atomic uint64_t disconnects_slow;      //  Sessions closed for a full send queue
    _Atomic uint64_t disconnects_limit;     //  Sessions closed for a frame or message too large
    _Atomic uint64_t errors;                //  Error answers to web requests
    _Atomic uint64_t http_requests;         //  HTTP requests answered
    _Atomic uint64_t unavailable;           //  Requests refused: an inproc socket was full
    _Atomic uint64_t async_failed;          //  /api/publish/async that failed later
    _Atomic uint64_t publish_refused_limit;     //  Publishes refused at max-publish-queued
    _Atomic uint64_t publish_refused_budget;    //  Publishes refused for the memory budget
    //  Gauges, copied from the thread's state after each of its passes
    _Atomic uint64_t sessions;              //  WebSocket sessions open
    _Atomic uint64_t web_subscriptions;     //  Web subscriptions
    _Atomic uint64_t web_workers;           //  Web workers
    _Atomic uint64_t room_clients;          //  Web rooms clients
    _Atomic uint64_t pending;               //  Requests waiting for a pattern actor
    _Atomic uint64_t pull_subscribers;      //  gophermq pull subscribers
    _Atomic uint64_t pull_delivered;        //  Messages into their buffers
    _Atomic uint64_t pull_dropped;          //  Messages their full buffers dropped
} zg_gw_counters_t;

//  Count one in a counter of this thread's own set, on a hot path: with one
//  writer a relaxed load and store is exact and takes no locked instruction
//  (which ++ on an _Atomic is, once per push)
#define ZG_GW_COUNT(counter) \
    atomic_store_explicit (&(counter), atomic_load_explicit (&(counter), memory_order_relaxed) + 1, \
                           memory_order_relaxed)

//  Create the shared part; settings stay the caller's and must outlive it
zg_gw_answers_t *
    zg_gw_answers_new (const zg_gw_settings_t *settings);

//  Destroy it, with the requests still waiting (not the sessions or
//  transactions, which their connections own)
void
    zg_gw_answers_destroy (zg_gw_answers_t **self_p);

//  The codec every bridge encodes and decodes with
zg_codec_t *
    zg_gw_answers_codec (zg_gw_answers_t *self);

//  The gateway's counters, which the bridges and the actor update
zg_gw_counters_t *
    zg_gw_answers_counters (zg_gw_answers_t *self);

//  The settings it was made with
const zg_gw_settings_t *
    zg_gw_answers_settings (zg_gw_answers_t *self);

//  A new id for a session, an HTTP transaction or a pending request
uint64_t
    zg_gw_answers_new_id (zg_gw_answers_t *self);

//  Number ids from after first: each gateway thread has its own range, so
//  that names made from a session id (a web worker's "w<id>") are unique
//  in the process
void
    zg_gw_answers_set_first_id (zg_gw_answers_t *self, uint64_t first);

//  Know a session by its id (the caller keeps owning it)
void
    zg_gw_answers_add_session (zg_gw_answers_t *self, zg_session_t *session);

//  Forget a session
void
    zg_gw_answers_remove_session (zg_gw_answers_t *self, zg_session_t *session);

//  The session of an id, or NULL if it has gone
zg_session_t *
    zg_gw_answers_session (zg_gw_answers_t *self, uint64_t id);

//  The first and next open session, for a pass over them all (closing
//  them meanwhile is safe; opening or forgetting one is not)
zg_session_t *
    zg_gw_answers_first_session (zg_gw_answers_t *self);
zg_session_t *
    zg_gw_answers_next_session (zg_gw_answers_t *self);

//  Close a session from outside its callbacks with a WebSocket close code
//  and reason; it takes nothing more
void
    zg_gw_answers_close (zg_session_t *session, int status, const char *reason);

//  Sessions open
size_t
    zg_gw_answers_sessions (zg_gw_answers_t *self);

//  Requests waiting for a pattern actor
size_t
    zg_gw_answers_pending_size (zg_gw_answers_t *self);

//  A new DEALER to a pattern actor, the caller's: it never blocks the lws
//  thread (a full pipe is an error to the client)
zsock_t *
    zg_gw_answers_dealer_new (void);

//  Send a multipart message on a DEALER without blocking (taking it); -1 if
//  the socket is full, counted as unavailable
int
    zg_gw_answers_send (zg_gw_answers_t *self, zsock_t *socket, zmsg_t **msg_p);

//  The web client whose request is being handled (its connection, or NULL
//  once it is handled): the queues and rooms actors charge the names its
//  requests make to its address (zg_holder), not to the gateway's shared
//  connection
void
    zg_gw_answers_hold (zg_gw_answers_t *self, struct lws *wsi);

//  zg_gw_answers_send to the queues or rooms actor, after the envelope that
//  names the holder of the request being handled, if any
int
    zg_gw_answers_send_held (zg_gw_answers_t *self, zsock_t *socket, zmsg_t **msg_p);

//  A new request waiting for a queue or room actor, owned by the table
zg_pending_request_t *
    zg_gw_answers_pending_new (zg_gw_answers_t *self, zg_pending_kind_t kind, uint64_t owner, bool http,
                               json_object *req);

//  Send [command][gateway req][fields...] (taking fields) on socket, NULL
//  if its pattern is not linked; if the actor is not reachable now, the
//  request is forgotten (*pending_p is nullified) and -1 returned
int
    zg_gw_answers_request (zg_gw_answers_t *self, zsock_t *socket, const char *command,
                           zg_pending_request_t **pending_p, zmsg_t **fields_p);

//  The request of a gateway req, or NULL if none waits under it
zg_pending_request_t *
    zg_gw_answers_pending (zg_gw_answers_t *self, const char *key);

//  Forget the request of a gateway req (its answer is complete)
void
    zg_gw_answers_pending_done (zg_gw_answers_t *self, const char *key);

//  Close every session with a close frame of status and reason (sent at its
//  next writable callback)
void
    zg_gw_answers_close_sessions (zg_gw_answers_t *self, int status, const char *reason);

//  Queue a frame on a session (the caller keeps its reference). Answers are
//  never dropped: a session that cannot take one is closed; pushes follow
//  the slow-client policy and count as out for their pattern.
void
    zg_gw_answers_push (zg_gw_answers_t *self, zg_session_t *session, zg_frame_t *frame, bool answer,
                        zg_gw_pattern_t pattern);

//  Encode an object in an encoding as one new frame, the caller's
zg_frame_t *
    zg_gw_answers_frame (zg_gw_answers_t *self, json_object *object, bool msgpack);

//  Send an object to a session (taking it); answer says it answers a request
void
    zg_gw_answers_send_object (zg_gw_answers_t *self, zg_session_t *session, json_object **object_p,
                               bool answer, zg_gw_pattern_t pattern);

//  A new answer object {"op": op, "req": req}, the caller's
json_object *
    zg_gw_answers_object (const char *op, json_object *req);

//  Answer a session's request with an error
void
    zg_gw_answers_error (zg_gw_answers_t *self, zg_session_t *session, json_object *req, int code,
                         const char *format, ...);

//  Answer a session's request with ok
void
    zg_gw_answers_ok (zg_gw_answers_t *self, zg_session_t *session, json_object *req);

//  Answer the owner of a request: a session gets answer, an HTTP transaction
//  status and body (taking both; a gone owner gets nothing)
void
    zg_gw_answers_owner (zg_gw_answers_t *self, uint64_t owner, bool http, json_object **answer_p, int status,
                         json_object **body_p);

//  Answer a pending request: a WebSocket answer object, or an HTTP reply
//  (taking both)
void
    zg_gw_answers_answer (zg_gw_answers_t *self, zg_pending_request_t *pending, json_object **answer_p,
                          int status, json_object **body_p);

//  An ERROR [code][reason] from a pattern actor for a pending request
void
    zg_gw_answers_native_error (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg);

//  A msgpack map answer, decoded; an HTTP body and a WebSocket answer
void
    zg_gw_answers_map (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *op, zframe_t *frame);

//  The answer to an admin's request (ZG_PENDING_ADMIN_*, zg_gw_admin):
//  an ERROR, the list's map, or a DELETE's count of what it dropped
void
    zg_gw_answers_admin (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *command, zmsg_t *msg);

//  An integer field of an OK answer
void
    zg_gw_answers_number (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *op,
                          const char *field, const char *text);

//  Keep a transaction waiting for a pattern actor, at most timeout ms (then
//  zg_gw_answers_expire answers 504); lws closes it if even that cannot be
//  written
void
    zg_gw_answers_defer (zg_gw_answers_t *self, zg_http_t *http, int64_t timeout);

//  A transaction ended: forget it if it was waiting
void
    zg_gw_answers_forget (zg_gw_answers_t *self, zg_http_t *http);

//  Answer 504 to the transactions whose pattern actor did not answer in time
void
    zg_gw_answers_expire (zg_gw_answers_t *self, int64_t now);

//  Transactions still waiting for a pattern actor
size_t
    zg_gw_answers_waiting (zg_gw_answers_t *self);

//  Answer every transaction still waiting with status and message
void
    zg_gw_answers_abort (zg_gw_answers_t *self, int status, const char *message);

//  Longest client address kept (IPv6 text and a zone)
#define ZG_GW_ADDRESS_SIZE 64

//  Who holds the names an HTTP request makes (zg_slots' key, freed by the
//  caller): its client's address
char *
    zg_gw_answers_http_holder (zg_http_t *http);

//  The JSON object body of a POST, the caller's; NULL after replying 400
//  (or 413)
json_object *
    zg_gw_answers_body (zg_gw_answers_t *self, zg_http_t *http);

//  A string field of at most max bytes without NUL; NULL if missing or bad
const char *
    zg_gw_answers_string_field (json_object *request, const char *name, size_t max);

//  An optional integer field: 0 if absent, 1 if present (in *number), -1 if
//  it is not an integer
int
    zg_gw_answers_int_field (json_object *request, const char *name, int64_t *number);

//  An optional boolean field: false if absent; -1 if it is not a boolean
int
    zg_gw_answers_bool_field (json_object *request, const char *name, bool *flag);

//  The data field as a new native payload frame, the caller's; NULL if
//  absent
zframe_t *
    zg_gw_answers_data_frame (json_object *request);

//  Add the web value of a native payload as "data" (and "binary": true)
void
    zg_gw_answers_add_data (zg_gw_answers_t *self, json_object *object, const byte *payload, size_t size);

//  Self test of this class
void
    zg_gw_answers_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
