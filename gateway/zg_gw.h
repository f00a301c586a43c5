/*  =========================================================================
    zg_gw - the gateway actor's state and the helpers its bridges share

    zg_gateway.c runs the actor (lws, the zsocks, topics, HTTP routing);
    zg_gw_queues.c and zg_gw_rooms.c bridge web sessions and HTTP requests
    to the queues and rooms actors. They work on the one zg_gw_t of the
    actor's thread, so its fields are open to them; nothing outside the
    gateway includes this header.
    =========================================================================
*/

#ifndef ZG_GW_H_INCLUDED
#define ZG_GW_H_INCLUDED

#include "zg_codec.h"
#include "zg_session.h"
#include "zg_http.h"
#include "zg_pull.h"
#include "zg_topicmap.h"
#include "zg_metrics.h"
#include "zg_pending.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_t zg_gw_t;

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
    int64_t max_queue_bytes;        //  Send queue bound per session
    int64_t ping_interval;          //  Idle time before a ping, ms
    int64_t ping_timeout;           //  Time to answer it, ms
    int64_t max_body_size;          //  Largest HTTP body
    int64_t pull_buffer_size;       //  Messages per pull subscriber
    int64_t max_pull_subscribers;   //  Pull subscribers in all
    int64_t pull_idle_timeout;      //  Pull subscriber life without fetch, ms
    int64_t peer_stats_interval;    //  How often the owner sends PEER-STATS, ms
    int64_t write_batch;            //  Bytes coalesced per write
    int64_t http_timeout;           //  Longest wait for a pattern actor, ms
    bool disconnect_slow;           //  slow-client-policy is disconnect
    char *interface;                //  Address to listen on
} zg_gw_settings_t;

//  The gateway's counters
typedef struct {
    uint64_t sessions_accepted;     //  WebSocket sessions opened
    uint64_t sessions_rejected;     //  Upgrades refused (max-sessions)
    uint64_t in [ZG_PATTERNS];      //  Web requests per pattern
    uint64_t out [ZG_PATTERNS];     //  Pushes to web sessions per pattern
    uint64_t dropped_slow;          //  Pushes dropped by the slow-client policy
    uint64_t disconnects_slow;      //  Sessions closed for a full send queue
    uint64_t disconnects_limit;     //  Sessions closed for a frame or message too large
    uint64_t errors;                //  Error answers to web requests
    uint64_t http_requests;         //  HTTP requests answered
    uint64_t unavailable;           //  Requests refused: an inproc socket was full
    uint64_t async_failed;          //  /api/publish/async that failed later
} zg_gw_counters_t;

//  A WebSocket op: request is the decoded request, req its "req" (or NULL)
typedef void (zg_gw_op_fn) (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req);

//  An HTTP route: param is the path's {} segment, or ""
typedef void (zg_gw_route_fn) (zg_gw_t *self, zg_http_t *http, const char *param);

//  The actor's state, one per gateway thread
struct _zg_gw_t {
    zsock_t *pipe;                  //  Actor command pipe
    zsock_t *subscriber;            //  SUB to the topics' XPUB
    zsock_t *publisher;             //  XPUB to the topics' XSUB
    zsock_t *producer;              //  DEALER to the queues' producers side
    zsock_t *worker;                //  DEALER to the queues' workers side
    zsock_t *rooms;                 //  DEALER to the rooms
    bool linked [ZG_PATTERNS];      //  Pattern endpoints connected
    bool workers_linked;            //  Queues' worker endpoint connected
    zg_gw_settings_t settings;      //  Current settings
    struct lws_protocols protocols [3];     //  HTTP and WS, zsock wake-ups, end
    struct lws_context *context;    //  lws, once listening
    lws_retry_bo_t retry;           //  Ping and hang-up policy
    lws_sorted_usec_list_t tick;    //  Housekeeping timer
    zg_codec_t *codec;              //  JSON and msgpack
    zg_metrics_t *metrics;          //  HTTP request series
    zg_pull_t *pull;                //  gophermq pull subscribers
    zchunk_t *scratch;              //  Coalescing buffer for writes
    msgpack_sbuffer encoded;        //  Encoding buffer
    zhashx_t *sessions;             //  Session id -> zg_session_t
    zhashx_t *https;                //  HTTP id -> zg_http_t waiting for an actor
    zhashx_t *transactions;         //  Connection -> its current zg_http_t
    zg_topicmap_t *topicmap;        //  Web topic subscriptions over the SUB
    zhashx_t *workers;              //  Worker id -> zg_session_t
    zhashx_t *clients;              //  Rooms client id -> zg_session_t
    zg_pending_t *pending;          //  Requests waiting for a queue or room actor
    zhashx_t *peer_stats;           //  Actor name -> its STATS JSON text
    zlistx_t *waiters;              //  Answers held for probes, oldest first
    uint64_t probe_wanted;          //  Newest probe a waiter needs
    int64_t probe_time;             //  When a probe was last published
    uint64_t next_id;               //  Ids of sessions, transactions, reqs
    uint64_t message_seq;           //  Topic messages received
    int64_t worker_heartbeat;       //  Ping interval for web workers, ms
    int64_t next_worker_ping;       //  When to ping them next
    int64_t next_expiry;            //  When to expire pull subscribers next
    char *topic_key;                //  Buffer for a topic as a string key
    size_t topic_key_size;          //  Bytes in topic_key
    zg_gw_counters_t counters;      //  Counters
    bool terminated;                //  $TERM received
    bool drain_wanted;              //  A zsock may be readable: drain after this pass
};

//  Send a multipart message on a DEALER or XPUB without blocking; -1 if the
//  socket is full (or the pattern is not linked)
int
    zg_gw_send (zg_gw_t *self, zsock_t *socket, zmsg_t **msg_p);

//  Wait for the answer to a request to a queue or room actor
zg_pending_request_t *
    zg_gw_pending (zg_gw_t *self, zg_pending_kind_t kind, uint64_t owner, bool http, json_object *req);

//  Send [command][gateway req][fields...] (taking fields) to the queues'
//  producers side or to the rooms; if the actor is not reachable now, the
//  request is forgotten and -1 returned
int
    zg_gw_request (zg_gw_t *self, zg_gw_pattern_t pattern, const char *command, zg_pending_request_t *pending,
                   zmsg_t **fields_p);

//  Queue a frame on a session. Answers are never dropped: a session that
//  cannot take one is closed; pushes follow the slow-client policy.
void
    zg_gw_push (zg_gw_t *self, zg_session_t *session, zg_frame_t *frame, bool answer, zg_gw_pattern_t pattern);

//  Encode an object in the session's encoding as one frame
zg_frame_t *
    zg_gw_frame (zg_gw_t *self, json_object *object, bool msgpack);

//  Send an object to a session (taking it); answer says it answers a request
void
    zg_gw_send_object (zg_gw_t *self, zg_session_t *session, json_object *object, bool answer,
                       zg_gw_pattern_t pattern);

//  A new answer object {"op": op, "req": req}
json_object *
    zg_gw_answer_new (const char *op, json_object *req);

//  Answer a request with an error
void
    zg_gw_error (zg_gw_t *self, zg_session_t *session, json_object *req, int code, const char *format, ...);

//  Answer a request with ok
void
    zg_gw_ok (zg_gw_t *self, zg_session_t *session, json_object *req);

//  The session of an id, or NULL if it has gone
zg_session_t *
    zg_gw_session (zg_gw_t *self, uint64_t id);

//  A string field of at most max bytes without NUL; NULL if missing or bad
const char *
    zg_gw_string_field (json_object *request, const char *name, size_t max);

//  An optional integer field: 0 if absent, 1 if present (in *number), -1 if
//  it is not an integer
int
    zg_gw_int_field (json_object *request, const char *name, int64_t *number);

//  An optional boolean field: false if absent; -1 if it is not a boolean
int
    zg_gw_bool_field (json_object *request, const char *name, bool *flag);

//  The data field as a native payload frame; NULL if absent
zframe_t *
    zg_gw_data_frame (json_object *request);

//  Add the web value of a native payload as "data" (and "binary": true)
void
    zg_gw_add_data (zg_gw_t *self, json_object *object, const byte *payload, size_t size);

//  Handle a decoded request
void
    zg_gw_handle_request (zg_gw_t *self, zg_session_t *session, json_object *request);

//  Answer a pending request: a WebSocket answer object, or an HTTP reply
void
    zg_gw_answer (zg_gw_t *self, zg_pending_request_t *pending, json_object *answer, int status, json_object *body);

//  An ERROR [code][reason] from a pattern actor for a pending request
void
    zg_gw_answer_native_error (zg_gw_t *self, zg_pending_request_t *pending, zmsg_t *msg);

//  A msgpack map answer, decoded; an HTTP body and a WebSocket answer
void
    zg_gw_answer_map (zg_gw_t *self, zg_pending_request_t *pending, const char *op, zframe_t *frame);

//  An integer field of an OK answer
void
    zg_gw_answer_number (zg_gw_t *self, zg_pending_request_t *pending, const char *op, const char *field,
                         const char *text);

//  Keep a transaction waiting for a pattern actor, at most timeout ms (then
//  the tick answers 504); lws closes it if even that cannot be written
void
    zg_gw_http_defer (zg_gw_t *self, zg_http_t *http, int64_t timeout);

//  The JSON object body of a POST, or NULL after replying 400 (or 413)
json_object *
    zg_gw_http_body (zg_gw_t *self, zg_http_t *http);

#ifdef __cplusplus
}
#endif

#endif
