/*  =========================================================================
    zg_gateway - the web gateway actor: HTTP and WebSocket on one port, run
    by libwebsockets inside this czmq actor's thread

    One thread does everything (STYLE.md B.3): lws_service() runs the loop,
    a dup() of the ZMQ_FD of each zsock we read is adopted as an lws raw
    file so ZeroMQ traffic wakes the loop, and after every service pass we
    drain the zsocks (ZMQ_FD is edge-triggered: zsock_events re-arms it).
    When a drain stops at its batch limit, lws_cancel_service makes the next
    pass return at once, so lws and ZeroMQ take turns.

    Every web session is multiplexed over one inproc socket per pattern:
    a SUB and an XPUB for topics, a DEALER for queue producers, one for
    queue workers and one for rooms. Requests to queues and rooms carry a
    gateway-made req ("g<n>") that maps back to the session or HTTP
    transaction in the pending table (zg_pending); workers and room clients
    are named after their session, so pushed tasks and room events find it.
    This file runs the actor, topics and HTTP routing; the queue and room
    bridges live in zg_gw_queues.c and zg_gw_rooms.c, and the state and
    helpers they share with this file are declared in zg_gw.h.

    A subscription reaches the topics actor asynchronously, so a subscribe
    that adds a ZeroMQ subscription is answered only once a probe message
    published after it has come back: then the subscription is in effect.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gateway.h"
#include "zg_gw.h"
#include "zg_gw_queues.h"
#include "zg_gw_rooms.h"

//  ZeroMQ messages handled per wake-up before lws gets a turn
#define ZG_GATEWAY_BATCH 2048
//  Topic messages handled in a row, within the batch, between other sockets
#define ZG_GATEWAY_TOPIC_RUN 64
//  lws receive chunk per WebSocket session, bytes
#define ZG_GATEWAY_RX_CHUNK 2048
//  Housekeeping period, ms
#define ZG_GATEWAY_TICK 250
//  Topic of the probes that confirm subscriptions
#define ZG_GATEWAY_PROBE "$zgate.gateway.barrier"
//  Time before a lost probe is published again, ms
#define ZG_GATEWAY_PROBE_RETRY 100
//  Longest web req string
#define ZG_GATEWAY_MAX_REQ 64

//  The patterns' names in stats, by zg_gw_pattern_t
static const char *s_pattern_names [] = { "topics", "queues", "rooms" };

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (zg_gw_settings_t, verbose), 0, 1 },
    { "max-frame-size", offsetof (zg_gw_settings_t, max_frame_size), 16, INT32_MAX },
    { "max-message-size", offsetof (zg_gw_settings_t, max_message_size), 16, INT32_MAX },
    { "max-depth", offsetof (zg_gw_settings_t, max_depth), 2, 64 },
    { "max-topic-size", offsetof (zg_gw_settings_t, max_topic_size), 1, 65535 },
    { "max-subscriptions", offsetof (zg_gw_settings_t, max_subscriptions), 1, 1000000 },
    { "max-sessions", offsetof (zg_gw_settings_t, max_sessions), 1, 1000000 },
    { "max-queue-bytes", offsetof (zg_gw_settings_t, max_queue_bytes), 1024, INT32_MAX },
    { "ping-interval", offsetof (zg_gw_settings_t, ping_interval), 1000, 3600000 },
    { "ping-timeout", offsetof (zg_gw_settings_t, ping_timeout), 1000, 3600000 },
    { "max-body-size", offsetof (zg_gw_settings_t, max_body_size), 16, INT32_MAX },
    { "pull-buffer-size", offsetof (zg_gw_settings_t, pull_buffer_size), 1, 10000000 },
    { "max-pull-subscribers", offsetof (zg_gw_settings_t, max_pull_subscribers), 1, 10000000 },
    { "pull-idle-timeout", offsetof (zg_gw_settings_t, pull_idle_timeout), 1000, INT64_MAX / 2 },
    { "peer-stats-interval", offsetof (zg_gw_settings_t, peer_stats_interval), 100, 3600000 },
    { "write-batch", offsetof (zg_gw_settings_t, write_batch), 1024, 16777216 },
    { "http-timeout", offsetof (zg_gw_settings_t, http_timeout), 1000, 3600000 },
    { NULL }
};

//  An answer held until the subscriptions before it are in effect
typedef struct {
    uint64_t probe;                 //  Probe whose return releases it
    uint64_t owner;                 //  Session or HTTP transaction id
    bool http;                      //  The owner is an HTTP transaction
    json_object *answer;            //  WebSocket answer or HTTP JSON body
} s_waiter_t;

//  Per-connection lws user space of a WebSocket session. HTTP transactions
//  are kept by connection in our own table: lws frees the user space of an
//  HTTP connection before its last callbacks.
typedef struct {
    zg_session_t *session;          //  WebSocket session, or NULL
} s_pss_t;

static void
    s_self_drain (zg_gw_t *self);

//  --------------------------------------------------------------------------
//  Destructor of the held answers

static void
s_waiter_destroy (s_waiter_t **self_p)
{
    s_waiter_t *self = *self_p;
    if (self) {
        json_object_put (self->answer);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  An id as a table key

static void
s_key (char *key, size_t size, const char *prefix, uint64_t id)
{
    snprintf (key, size, "%s%" PRIu64, prefix, id);
}

//  --------------------------------------------------------------------------

static int
    s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
static int
    s_wakeup_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

static zsock_t *
s_dealer_new (void)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    //  Never block the lws thread: a full pipe is an error to the client
    zsock_set_sndtimeo (dealer, 0);
    zsock_set_sndhwm (dealer, 100000);
    zsock_set_rcvhwm (dealer, 100000);
    return dealer;
}

static zg_gw_t *
s_self_new (zsock_t *pipe)
{
    zg_gw_t *self = (zg_gw_t *) zmalloc (sizeof (zg_gw_t));
    assert (self);
    self->pipe = pipe;
    self->settings = (zg_gw_settings_t) {
        .max_frame_size = 1048576, .max_message_size = 1048576, .max_depth = 32,
        .max_topic_size = 255, .max_subscriptions = 100, .max_sessions = 10000,
        .max_queue_bytes = 1048576, .ping_interval = 30000, .ping_timeout = 10000,
        .max_body_size = 65536, .pull_buffer_size = 10, .max_pull_subscribers = 10000,
        .pull_idle_timeout = 600000, .peer_stats_interval = 1000, .write_batch = 65536,
        .http_timeout = 30000, .interface = strdup ("127.0.0.1")
    };
    self->subscriber = zsock_new (ZMQ_SUB);
    self->publisher = zsock_new (ZMQ_XPUB);
    assert (self->subscriber && self->publisher);
    zsock_set_rcvhwm (self->subscriber, 1000000);
    zsock_set_sndhwm (self->publisher, 1000000);
    zsock_set_subscribe (self->subscriber, ZG_GATEWAY_PROBE);
    self->producer = s_dealer_new ();
    self->worker = s_dealer_new ();
    self->rooms = s_dealer_new ();
    self->protocols [0] = (struct lws_protocols) {
        "zgate", s_callback, sizeof (s_pss_t), ZG_GATEWAY_RX_CHUNK, 0, NULL, 0
    };
    self->protocols [1] = (struct lws_protocols) { "zgate-zmq", s_wakeup_callback, 0, 0, 0, NULL, 0 };
    self->codec = zg_codec_new ((int) self->settings.max_depth);
    self->metrics = zg_metrics_new ();
    self->pull = zg_pull_new ();
    self->scratch = zchunk_new (NULL, 65536 + LWS_PRE);
    self->drain_wanted = true;
    msgpack_sbuffer_init (&self->encoded);
    self->sessions = zhashx_new ();
    self->https = zhashx_new ();
    self->transactions = zhashx_new ();
    self->topicmap = zg_topicmap_new (self->subscriber);
    self->workers = zhashx_new ();
    self->clients = zhashx_new ();
    self->pending = zg_pending_new ();
    self->peer_stats = zhashx_new ();
    zhashx_set_destructor (self->peer_stats, (zhashx_destructor_fn *) zstr_free);
    self->waiters = zlistx_new ();
    zlistx_set_destructor (self->waiters, (zlistx_destructor_fn *) s_waiter_destroy);
    self->worker_heartbeat = 1000;
    self->topic_key_size = 256;
    self->topic_key = (char *) zmalloc (self->topic_key_size);
    return self;
}

static void
s_self_destroy (zg_gw_t **self_p)
{
    zg_gw_t *self = *self_p;
    //  lws closes every connection, and our callbacks forget each one
    if (self->context) {
        lws_sul_cancel (&self->tick);
        lws_context_destroy (self->context);
    }
    zsock_destroy (&self->subscriber);
    zsock_destroy (&self->publisher);
    zsock_destroy (&self->producer);
    zsock_destroy (&self->worker);
    zsock_destroy (&self->rooms);
    zg_codec_destroy (&self->codec);
    zg_metrics_destroy (&self->metrics);
    zg_pull_destroy (&self->pull);
    zchunk_destroy (&self->scratch);
    msgpack_sbuffer_destroy (&self->encoded);
    zhashx_destroy (&self->sessions);
    zhashx_destroy (&self->https);
    zhashx_destroy (&self->transactions);
    zg_topicmap_destroy (&self->topicmap);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->clients);
    zg_pending_destroy (&self->pending);
    zhashx_destroy (&self->peer_stats);
    zlistx_destroy (&self->waiters);
    free (self->topic_key);
    free (self->settings.interface);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Housekeeping, every ZG_GATEWAY_TICK ms

static void
    s_self_publish_probe (zg_gw_t *self);
static void
    s_self_http_expire (zg_gw_t *self, int64_t now);

static void
s_self_tick (lws_sorted_usec_list_t *sul)
{
    zg_gw_t *self = lws_container_of (sul, zg_gw_t, tick);
    //  It sends on zsocks, which may leave them readable without a wake-up
    self->drain_wanted = true;
    int64_t now = zclock_mono ();
    if (now >= self->next_worker_ping) {
        //  Web workers are alive while their session is: ping for them
        for (void *session = zhashx_first (self->workers); session; session = zhashx_next (self->workers))
            zstr_sendx (self->worker, "PING", (const char *) zhashx_cursor (self->workers), NULL);
        self->next_worker_ping = now + self->worker_heartbeat;
    }
    if (now >= self->next_expiry) {
        zlistx_t *subjects = zg_pull_expire (self->pull, now);
        if (subjects) {
            for (char *subject = (char *) zlistx_first (subjects); subject;
                 subject = (char *) zlistx_next (subjects))
                zg_topicmap_release (self->topicmap, subject);
            zlistx_destroy (&subjects);
        }
        self->next_expiry = now + 1000;
    }
    if (zlistx_size (self->waiters) && now - self->probe_time >= ZG_GATEWAY_PROBE_RETRY)
        s_self_publish_probe (self);
    s_self_http_expire (self, now);
    lws_sul_schedule (self->context, 0, &self->tick, s_self_tick, ZG_GATEWAY_TICK * LWS_US_PER_MS);
}

//  --------------------------------------------------------------------------
//  libwebsockets logs through zsys, with zgate's log, rather than on stderr,
//  so that a configuration error stays one line on stderr

static void
s_lws_log (int level, const char *line)
{
    int length = (int) strcspn (line, "\n");
    if (level == LLL_ERR)
        zsys_error ("lws: %.*s", length, line);
    else
        zsys_info ("lws: %.*s", length, line);
}

//  --------------------------------------------------------------------------
//  Start listening: create the lws context and adopt the zsocks' fds

static int
s_self_adopt (zg_gw_t *self, zsock_t *socket)
{
    lws_adopt_desc_t desc = { 0 };
    desc.vh = lws_get_vhost_by_name (self->context, "default");
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = dup (zsock_fd (socket));
    desc.vh_prot_name = "zgate-zmq";
    //  lws closes what it adopts, and ZeroMQ's fd is not ours to close
    return lws_adopt_descriptor_vhost_via_info (&desc)? 0: -1;
}

static int
s_self_listen (zg_gw_t *self, const char *value, char *error, size_t size)
{
    if (self->context) {
        snprintf (error, size, "the gateway is already listening");
        return -1;
    }
    char *end = NULL;
    long port = strtol (value, &end, 10);
    if (end == value || *end || port < 1 || port > 65535) {
        snprintf (error, size, "'%s' is not a port from 1 to 65535", value);
        return -1;
    }
    self->protocols [0].tx_packet_size = (size_t) self->settings.write_batch + 64;
    self->retry.secs_since_valid_ping = (uint16_t) ((self->settings.ping_interval + 999) / 1000);
    self->retry.secs_since_valid_hangup = (uint16_t) ((self->settings.ping_interval
                                                     + self->settings.ping_timeout + 999) / 1000);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = (int) port;
    info.iface = self->settings.interface;
    info.protocols = self->protocols;
    info.user = self;
    info.retry_and_idle_policy = &self->retry;
    info.fd_limit_per_thread = (unsigned int) (self->settings.max_sessions + 1024);
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    lws_set_log_level (self->settings.verbose? LLL_ERR | LLL_WARN | LLL_NOTICE: LLL_ERR, s_lws_log);
    self->context = lws_create_context (&info);
    if (!self->context) {
        snprintf (error, size, "cannot listen on %s:%ld (address in use or not available)",
                  self->settings.interface, port);
        return -1;
    }
    if (s_self_adopt (self, self->pipe) || s_self_adopt (self, self->subscriber)
    ||  s_self_adopt (self, self->publisher) || s_self_adopt (self, self->producer)
    ||  s_self_adopt (self, self->worker) || s_self_adopt (self, self->rooms)) {
        snprintf (error, size, "cannot adopt the ZeroMQ descriptors: %s", strerror (errno));
        return -1;
    }
    lws_sul_schedule (self->context, 0, &self->tick, s_self_tick, ZG_GATEWAY_TICK * LWS_US_PER_MS);
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply one setting

static int
s_self_set (zg_gw_t *self, const char *key, const char *value, char *error, size_t size)
{
    zsock_t *link = NULL;
    zg_gw_pattern_t pattern = ZG_TOPICS;
    if (streq (key, "topics-subscribers"))
        link = self->subscriber;
    else
    if (streq (key, "topics-publishers"))
        link = self->publisher;
    else
    if (streq (key, "queues-producers")) {
        link = self->producer;
        pattern = ZG_QUEUES;
    }
    else
    if (streq (key, "queues-workers")) {
        link = self->worker;
        pattern = ZG_QUEUES;
        self->workers_linked = true;
    }
    else
    if (streq (key, "rooms-clients")) {
        link = self->rooms;
        pattern = ZG_ROOMS;
    }
    if (link) {
        if (zsock_connect (link, "%s", value) == -1) {
            snprintf (error, size, "cannot connect to '%s': %s", value, zmq_strerror (zmq_errno ()));
            return -1;
        }
        self->linked [pattern] = true;
        return 0;
    }
    if (streq (key, "interface")) {
        free (self->settings.interface);
        self->settings.interface = strdup (value);
        return 0;
    }
    if (streq (key, "slow-client-policy")) {
        if (strneq (value, "drop") && strneq (value, "disconnect")) {
            snprintf (error, size, "'%s' is not drop or disconnect", value);
            return -1;
        }
        self->settings.disconnect_slow = streq (value, "disconnect");
        return 0;
    }
    if (streq (key, "http-port"))
        return s_self_listen (self, value, error, size);
    int rc = zg_actor_set_int (s_int_settings, &self->settings, key, value, error, size);
    if (rc)
        return rc;
    zg_codec_set_max_depth (self->codec, (int) self->settings.max_depth);
    zg_pull_set_limits (self->pull, (size_t) self->settings.pull_buffer_size,
                        (size_t) self->settings.max_pull_subscribers, self->settings.pull_idle_timeout);
    if ((size_t) self->settings.max_topic_size + 1 > self->topic_key_size) {
        self->topic_key_size = (size_t) self->settings.max_topic_size + 1;
        self->topic_key = (char *) realloc (self->topic_key, self->topic_key_size);
        assert (self->topic_key);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Send a multipart message on a DEALER or XPUB without blocking; -1 if the
//  socket is full (or the pattern is not linked)

int
zg_gw_send (zg_gw_t *self, zsock_t *socket, zmsg_t **msg_p)
{
    if (zmsg_send (msg_p, socket) == 0)
        return 0;
    zmsg_destroy (msg_p);
    self->counters.unavailable++;
    return -1;
}

//  --------------------------------------------------------------------------
//  Wait for the answer to a request to a queue or room actor

zg_pending_request_t *
zg_gw_pending (zg_gw_t *self, zg_pending_kind_t kind, uint64_t owner, bool http, json_object *req)
{
    return zg_pending_add (self->pending, ++self->next_id, kind, owner, http, req);
}

//  --------------------------------------------------------------------------
//  Send [command][gateway req][fields...] (taking fields) to the queues'
//  producers side or to the rooms; if the actor is not reachable now, the
//  request is forgotten and -1 returned

int
zg_gw_request (zg_gw_t *self, zg_gw_pattern_t pattern, const char *command, zg_pending_request_t *pending,
               zmsg_t **fields_p)
{
    assert (pattern == ZG_QUEUES || pattern == ZG_ROOMS);
    zmsg_t *msg = *fields_p;
    *fields_p = NULL;
    zmsg_pushstr (msg, pending->key);
    zmsg_pushstr (msg, command);
    zsock_t *socket = pattern == ZG_QUEUES? self->producer: self->rooms;
    if (!self->linked [pattern] || zg_gw_send (self, socket, &msg)) {
        zmsg_destroy (&msg);
        zg_pending_remove (self->pending, pending->key);
        return -1;
    }
    return 0;
}

//  ==========================================================================
//  WebSocket sessions: answers, pushes and the slow-client policy

//  Close a session from outside its callbacks: the close frame goes at its
//  next writable callback; a client that cannot even take that within a
//  second loses its connection
static void
s_self_kill (zg_gw_t *self, zg_session_t *session, int status, const char *reason)
{
    (void) self;
    if (session->closing)
        return;
    session->closing = true;
    lws_close_reason (session->wsi, (enum lws_close_status) status, (unsigned char *) reason, strlen (reason));
    lws_set_timeout (session->wsi, PENDING_TIMEOUT_USER_OK, 1);
    lws_callback_on_writable (session->wsi);
}

//  Queue a frame on a session. Answers are never dropped: a session that
//  cannot take one is closed; pushes follow the slow-client policy.
void
zg_gw_push (zg_gw_t *self, zg_session_t *session, zg_frame_t *frame, bool answer, zg_gw_pattern_t pattern)
{
    if (session->closing)
        return;
    if (zg_session_push (session, frame, (size_t) self->settings.max_queue_bytes) == 0) {
        if (!answer)
            self->counters.out [pattern]++;
        return;
    }
    if (!answer && !self->settings.disconnect_slow) {
        self->counters.dropped_slow++;
        return;
    }
    self->counters.disconnects_slow++;
    if (self->settings.verbose)
        zsys_info ("zg_gateway: closing session %" PRIu64 ": send queue full", session->id);
    s_self_kill (self, session, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
}

//  Encode an object in the session's encoding as one frame
zg_frame_t *
zg_gw_frame (zg_gw_t *self, json_object *object, bool msgpack)
{
    msgpack_sbuffer_clear (&self->encoded);
    zg_codec_encode (self->codec, object, msgpack, &self->encoded);
    return zg_frame_new ((const byte *) self->encoded.data, self->encoded.size, msgpack);
}

//  Send an object to a session (taking it); answer says it answers a request
void
zg_gw_send_object (zg_gw_t *self, zg_session_t *session, json_object *object, bool answer,
                   zg_gw_pattern_t pattern)
{
    zg_frame_t *frame = zg_gw_frame (self, object, session->msgpack);
    zg_gw_push (self, session, frame, answer, pattern);
    zg_frame_unref (&frame);
    json_object_put (object);
}

//  A new answer object {"op": op, "req": req}
json_object *
zg_gw_answer_new (const char *op, json_object *req)
{
    json_object *answer = json_object_new_object ();
    json_object_object_add (answer, "op", json_object_new_string (op));
    json_object_object_add (answer, "req", json_object_get (req));
    return answer;
}

//  Answer a request with an error
void
zg_gw_error (zg_gw_t *self, zg_session_t *session, json_object *req, int code, const char *format, ...)
{
    char message [512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    json_object *answer = zg_gw_answer_new ("error", req);
    json_object_object_add (answer, "code", json_object_new_int (code));
    json_object_object_add (answer, "message", json_object_new_string (message));
    self->counters.errors++;
    zg_gw_send_object (self, session, answer, true, ZG_TOPICS);
}

//  Answer a request with ok
void
zg_gw_ok (zg_gw_t *self, zg_session_t *session, json_object *req)
{
    zg_gw_send_object (self, session, zg_gw_answer_new ("ok", req), true, ZG_TOPICS);
}

//  The session of an id, or NULL if it has gone
zg_session_t *
zg_gw_session (zg_gw_t *self, uint64_t id)
{
    char key [32];
    s_key (key, sizeof key, "", id);
    return (zg_session_t *) zhashx_lookup (self->sessions, key);
}

//  ==========================================================================
//  Request fields

//  A string field of at most max bytes without NUL; NULL if missing or bad
const char *
zg_gw_string_field (json_object *request, const char *name, size_t max)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, name, &value)
    ||  !json_object_is_type (value, json_type_string) || zg_codec_is_binary (value))
        return NULL;
    const char *text = json_object_get_string (value);
    size_t length = (size_t) json_object_get_string_len (value);
    if (length == 0 || length > max || strlen (text) != length)
        return NULL;
    return text;
}

//  An optional integer field: 0 if absent, 1 if present (in *number), -1 if
//  it is not an integer
int
zg_gw_int_field (json_object *request, const char *name, int64_t *number)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, name, &value) || !value)
        return 0;
    if (!json_object_is_type (value, json_type_int))
        return -1;
    *number = json_object_get_int64 (value);
    return 1;
}

//  An optional boolean field: false if absent; -1 if it is not a boolean
int
zg_gw_bool_field (json_object *request, const char *name, bool *flag)
{
    json_object *value = NULL;
    *flag = false;
    if (!json_object_object_get_ex (request, name, &value) || !value)
        return 0;
    if (!json_object_is_type (value, json_type_boolean))
        return -1;
    *flag = json_object_get_boolean (value);
    return 0;
}

//  The data field as a native payload frame; NULL if absent
zframe_t *
zg_gw_data_frame (json_object *request)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, "data", &value))
        return NULL;
    size_t size = 0;
    const char *payload = value? zg_codec_value_payload (value, &size): "null";
    if (!value)
        size = 4;
    return zframe_new (payload, size);
}

//  Add the web value of a native payload as "data" (and "binary": true)
void
zg_gw_add_data (zg_gw_t *self, json_object *object, const byte *payload, size_t size)
{
    json_object *value = zg_codec_payload_value (self->codec, payload, size);
    if (zg_codec_is_binary (value))
        json_object_object_add (object, "binary", json_object_new_boolean (1));
    json_object_object_add (object, "data", value);
}

//  ==========================================================================
//  Topics: subscription tables, the probe barrier, delivery

static void
s_self_publish_probe (zg_gw_t *self)
{
    char sequence [32];
    snprintf (sequence, sizeof sequence, "%" PRIu64, self->probe_wanted);
    zmq_send (zsock_resolve (self->publisher), ZG_GATEWAY_PROBE, strlen (ZG_GATEWAY_PROBE),
              ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (zsock_resolve (self->publisher), sequence, strlen (sequence), ZMQ_DONTWAIT);
    self->probe_time = zclock_mono ();
}

//  Hold an answer until the subscriptions made so far are in effect
static void
s_self_wait_barrier (zg_gw_t *self, uint64_t owner, bool http, json_object *answer)
{
    s_waiter_t *waiter = (s_waiter_t *) zmalloc (sizeof (s_waiter_t));
    assert (waiter);
    waiter->probe = ++self->probe_wanted;
    waiter->owner = owner;
    waiter->http = http;
    waiter->answer = answer;
    zlistx_add_end (self->waiters, waiter);
    s_self_publish_probe (self);
}

static void
    s_self_http_done_waiting (zg_gw_t *self, uint64_t id, int status, json_object *body);

//  A probe came back: release the answers it covers
static void
s_self_release_barrier (zg_gw_t *self, uint64_t probe)
{
    s_waiter_t *waiter = (s_waiter_t *) zlistx_first (self->waiters);
    while (waiter && waiter->probe <= probe) {
        json_object *answer = waiter->answer;
        waiter->answer = NULL;
        if (waiter->http)
            s_self_http_done_waiting (self, waiter->owner, 200, answer);
        else {
            zg_session_t *session = zg_gw_session (self, waiter->owner);
            if (session)
                zg_gw_send_object (self, session, answer, true, ZG_TOPICS);
            else
                json_object_put (answer);
        }
        zlistx_delete (self->waiters, zlistx_cursor (self->waiters));
        waiter = (s_waiter_t *) zlistx_first (self->waiters);
    }
}

//  Remove a session's subscription at index
static void
s_self_unsubscribe_at (zg_gw_t *self, zg_session_t *session, uint32_t index)
{
    zg_topicmap_remove (self->topicmap, session->topics [index], session);
    free (session->topics [index]);
    session->topics [index] = session->topics [--session->topic_count];
    if (session->topic_count == 0) {
        free (session->topics);
        session->topics = NULL;
    }
}

static void
s_op_subscribe (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    //  A prefix subscription may take one byte more: its '*'
    const char *topic = zg_gw_string_field (request, "topic", (size_t) self->settings.max_topic_size + 1);
    size_t length = topic? strlen (topic): 0;
    if (!topic || length - (topic [length - 1] == '*') > (size_t) self->settings.max_topic_size) {
        zg_gw_error (self, session, req, 400, "topic must be a string of 1 to %" PRId64 " bytes",
                     self->settings.max_topic_size);
        return;
    }
    for (uint32_t index = 0; index < session->topic_count; index++)
        if (streq (session->topics [index], topic)) {
            zg_gw_ok (self, session, req);
            return;
        }
    if ((int64_t) session->topic_count >= self->settings.max_subscriptions) {
        zg_gw_error (self, session, req, 429, "at most %" PRId64 " subscriptions per session",
                     self->settings.max_subscriptions);
        return;
    }
    session->topics = (char **) realloc (session->topics, (session->topic_count + 1) * sizeof (char *));
    assert (session->topics);
    session->topics [session->topic_count++] = strdup (topic);
    if (zg_topicmap_add (self->topicmap, topic, session))
        s_self_wait_barrier (self, session->id, false, zg_gw_answer_new ("ok", req));
    else
        zg_gw_ok (self, session, req);
}

static void
s_op_unsubscribe (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *topic = zg_gw_string_field (request, "topic", (size_t) self->settings.max_topic_size + 1);
    if (!topic) {
        zg_gw_error (self, session, req, 400, "topic must be a non-empty string");
        return;
    }
    for (uint32_t index = 0; index < session->topic_count; index++)
        if (streq (session->topics [index], topic)) {
            s_self_unsubscribe_at (self, session, index);
            zg_gw_ok (self, session, req);
            return;
        }
    zg_gw_error (self, session, req, 404, "not subscribed to '%s'", topic);
}

//  Publish [topic][payload] to the topics actor
static int
s_self_publish (zg_gw_t *self, const char *topic, const void *payload, size_t size)
{
    void *publisher = zsock_resolve (self->publisher);
    if (!self->linked [ZG_TOPICS]
    ||  zmq_send (publisher, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        self->counters.unavailable++;
        return -1;
    }
    zmq_send (publisher, payload, size, 0);
    return 0;
}

static void
s_op_publish (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *topic = zg_gw_string_field (request, "topic", (size_t) self->settings.max_topic_size);
    if (!topic) {
        zg_gw_error (self, session, req, 400, "topic must be a string of 1 to %" PRId64 " bytes",
                     self->settings.max_topic_size);
        return;
    }
    zframe_t *payload = zg_gw_data_frame (request);
    if (!payload) {
        zg_gw_error (self, session, req, 400, "data is missing");
        return;
    }
    if (s_self_publish (self, topic, zframe_data (payload), zframe_size (payload)) == 0)
        zg_gw_ok (self, session, req);
    else
        zg_gw_error (self, session, req, 503, "the topics actor is not reachable now");
    zframe_destroy (&payload);
}

//  What a topic message needs to reach its sessions: its payload,
//  classified when the first session matches, and its frame in each
//  encoding, built once and shared by every session that takes it
typedef struct {
    zg_gw_t *self;                   //  The gateway
    const char *topic;              //  The topic
    const byte *payload;            //  The native payload
    size_t payload_size;            //  Bytes in payload
    bool classified;                //  kind and value are set
    zg_codec_kind_t kind;           //  What the payload is on the web
    json_object *value;             //  Its value if it is JSON, or NULL
    zg_frame_t *frames [2];         //  Its JSON and msgpack frames, or NULL
} s_delivery_t;

//  The frame of {"op":"message","topic":t,["binary":true,]"data":v}, written
//  directly: the bytes json-c and s_pack would print for that object
static zg_frame_t *
s_message_frame (zg_codec_t *codec, msgpack_sbuffer *out, s_delivery_t *delivery, bool msgpack)
{
    if (!delivery->classified) {
        delivery->kind = zg_codec_payload_kind (codec, delivery->payload, delivery->payload_size,
                                                &delivery->value);
        delivery->classified = true;
    }
    bool binary = delivery->kind == ZG_CODEC_BINARY;
    msgpack_sbuffer_clear (out);
    if (msgpack) {
        //  A map of three or four pairs, its keys and values fixed-size strings
        msgpack_sbuffer_write (out, binary? "\x84": "\x83", 1);
        msgpack_sbuffer_write (out, "\xa2op\xa7message\xa5topic", 17);
        zg_codec_encode_string (delivery->topic, strlen (delivery->topic), true, out);
        if (binary)
            msgpack_sbuffer_write (out, "\xa6" "binary\xc3", 8);
        msgpack_sbuffer_write (out, "\xa4" "data", 5);
    }
    else {
        msgpack_sbuffer_write (out, "{\"op\":\"message\",\"topic\":", 24);
        zg_codec_encode_string (delivery->topic, strlen (delivery->topic), false, out);
        if (binary)
            msgpack_sbuffer_write (out, ",\"binary\":true", 14);
        msgpack_sbuffer_write (out, ",\"data\":", 8);
    }
    zg_codec_encode_payload (codec, delivery->kind, delivery->value, delivery->payload,
                             delivery->payload_size, msgpack, out);
    if (!msgpack)
        msgpack_sbuffer_write (out, "}", 1);
    return zg_frame_new ((const byte *) out->data, out->size, msgpack);
}

//  Queue a topic message on a session, once however many of its
//  subscriptions match
static void
s_self_deliver (void *holder, void *arg)
{
    zg_session_t *session = (zg_session_t *) holder;
    s_delivery_t *delivery = (s_delivery_t *) arg;
    zg_gw_t *self = delivery->self;
    if (session->last_seq == self->message_seq)
        return;
    session->last_seq = self->message_seq;
    zg_frame_t **frame = &delivery->frames [session->msgpack? 1: 0];
    if (!*frame)
        *frame = s_message_frame (self->codec, &self->encoded, delivery, session->msgpack);
    zg_gw_push (self, session, *frame, false, ZG_TOPICS);
}

//  A message from the topics actor: to web subscribers and pull buffers
static void
s_self_topic_message (zg_gw_t *self, const byte *topic_data, size_t topic_size, const byte *payload,
                      size_t payload_size)
{
    if (topic_size + 1 > self->topic_key_size || memchr (topic_data, 0, topic_size))
        return;
    char *topic = self->topic_key;
    memcpy (topic, topic_data, topic_size);
    topic [topic_size] = 0;
    if (streq (topic, ZG_GATEWAY_PROBE)) {
        char *sequence = strndup ((const char *) payload, payload_size);
        assert (sequence);
        s_self_release_barrier (self, strtoull (sequence, NULL, 10));
        free (sequence);
        return;
    }
    self->message_seq++;
    zg_pull_deliver (self->pull, topic, payload, payload_size);
    s_delivery_t delivery = { self, topic, payload, payload_size, false, ZG_CODEC_JSON, NULL, { NULL, NULL } };
    zg_topicmap_match (self->topicmap, topic, s_self_deliver, &delivery);
    zg_frame_unref (&delivery.frames [0]);
    zg_frame_unref (&delivery.frames [1]);
    json_object_put (delivery.value);
}

//  Receive and handle one message from the topics actor, [topic][payload]
//  (further parts are ignored). Its parts are read into zmq_msg_t on the
//  stack: no zmsg or zframe allocations per message. Returns false if none
//  was received, with errno EAGAIN if none was waiting.
static bool
s_self_handle_topic (zg_gw_t *self)
{
    void *socket = zsock_resolve (self->subscriber);
    zmq_msg_t topic, payload;
    zmq_msg_init (&topic);
    if (zmq_msg_recv (&topic, socket, ZMQ_DONTWAIT) == -1) {
        int error = errno;
        zmq_msg_close (&topic);
        errno = error;
        return false;
    }
    //  The parts of a message arrive together
    zmq_msg_init (&payload);
    bool whole = zmq_msg_more (&topic) && zmq_msg_recv (&payload, socket, 0) != -1;
    bool more = whole && zmq_msg_more (&payload);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        more = zmq_msg_recv (&extra, socket, 0) != -1 && zmq_msg_more (&extra);
        zmq_msg_close (&extra);
    }
    if (whole)
        s_self_topic_message (self, (const byte *) zmq_msg_data (&topic), zmq_msg_size (&topic),
                              (const byte *) zmq_msg_data (&payload), zmq_msg_size (&payload));
    zmq_msg_close (&topic);
    zmq_msg_close (&payload);
    return true;
}

//  ==========================================================================
//  WebSocket requests

//  send and ack serve queues and rooms: the fields tell which
static void
s_op_send (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    if (json_object_object_get_ex (request, "room", NULL))
        zg_gw_rooms_send (self, session, request, req);
    else
        zg_gw_queues_send (self, session, request, req);
}

static void
s_op_ack (zg_gw_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    if (json_object_object_get_ex (request, "room", NULL))
        zg_gw_rooms_ack (self, session, request, req);
    else
        zg_gw_queues_ack (self, session, request, req);
}

//  An op of the WebSocket protocol
typedef struct {
    const char *name;               //  The request's "op"
    zg_gw_op_fn *handler;           //  What serves it
    zg_gw_pattern_t pattern;        //  Its counter (send and ack: by their fields)
} s_op_t;

static const s_op_t s_ops [] = {
    { "subscribe", s_op_subscribe, ZG_TOPICS },
    { "unsubscribe", s_op_unsubscribe, ZG_TOPICS },
    { "publish", s_op_publish, ZG_TOPICS },
    { "send", s_op_send, ZG_QUEUES },
    { "consume", zg_gw_queues_consume, ZG_QUEUES },
    { "cancel", zg_gw_queues_cancel, ZG_QUEUES },
    { "ack", s_op_ack, ZG_QUEUES },
    { "nack", zg_gw_queues_nack, ZG_QUEUES },
    { "fail", zg_gw_queues_fail, ZG_QUEUES },
    { "task", zg_gw_queues_task, ZG_QUEUES },
    { "join", zg_gw_rooms_join, ZG_ROOMS },
    { "leave", zg_gw_rooms_leave, ZG_ROOMS },
    { "ping", zg_gw_rooms_ping, ZG_ROOMS },
    { "peek", zg_gw_rooms_peek, ZG_ROOMS },
    { "state", zg_gw_rooms_state, ZG_ROOMS },
    { "metrics", zg_gw_rooms_metrics, ZG_ROOMS },
    { NULL }
};

//  Handle a decoded request
void
zg_gw_handle_request (zg_gw_t *self, zg_session_t *session, json_object *request)
{
    json_object *req = NULL;
    json_object_object_get_ex (request, "req", &req);
    if (req && !(json_object_is_type (req, json_type_int)
                 || (json_object_is_type (req, json_type_string) && !zg_codec_is_binary (req)
                     && json_object_get_string_len (req) <= ZG_GATEWAY_MAX_REQ))) {
        zg_gw_error (self, session, NULL, 400, "req must be an integer or a string of at most %d bytes",
                     ZG_GATEWAY_MAX_REQ);
        return;
    }
    json_object *op = NULL;
    if (!json_object_object_get_ex (request, "op", &op) || !json_object_is_type (op, json_type_string)) {
        zg_gw_error (self, session, req, 400, "a request needs an op (a string)");
        return;
    }
    const char *name = json_object_get_string (op);
    for (const s_op_t *entry = s_ops; entry->name; entry++)
        if (streq (entry->name, name)) {
            zg_gw_pattern_t pattern = entry->pattern;
            if (entry->handler == s_op_send || entry->handler == s_op_ack)
                pattern = json_object_object_get_ex (request, "room", NULL)? ZG_ROOMS: ZG_QUEUES;
            self->counters.in [pattern]++;
            entry->handler (self, session, request, req);
            return;
        }
    zg_gw_error (self, session, req, 400, "unknown op '%.64s'", name);
}

//  Handle one complete WebSocket message
static void
s_self_handle_message (zg_gw_t *self, zg_session_t *session, const byte *data, size_t size, bool binary)
{
    session->msgpack = binary;
    json_object *request = NULL;
    char error [256];
    if (zg_codec_decode (self->codec, data, size, binary, &request, error, sizeof error))
        zg_gw_error (self, session, NULL, 400, "%s", error);
    else
    if (!json_object_is_type (request, json_type_object))
        zg_gw_error (self, session, NULL, 400, "a request must be an object");
    else
        zg_gw_handle_request (self, session, request);
    json_object_put (request);
}

//  A new session
static zg_session_t *
s_self_open_session (zg_gw_t *self, struct lws *wsi)
{
    zg_session_t *session = zg_session_new (wsi, ++self->next_id);
    char key [32];
    s_key (key, sizeof key, "", session->id);
    zhashx_insert (self->sessions, key, session);
    self->counters.sessions_accepted++;
    return session;
}

//  A session ended: it leaves everything it took part in
static void
s_self_close_session (zg_gw_t *self, zg_session_t **session_p)
{
    zg_session_t *session = *session_p;
    while (session->topic_count)
        s_self_unsubscribe_at (self, session, session->topic_count - 1);
    if (session->queue_names || session->prefetch) {
        while (session->queue_names)
            free (session->queues [--session->queue_names]);
        zg_gw_queues_send_ready (self, session);       //  BYE: held tasks go back at once
    }
    if (session->client) {
        zstr_sendx (self->rooms, "BYE", "", session->client, NULL);
        zhashx_delete (self->clients, session->client);
    }
    char key [32];
    s_key (key, sizeof key, "", session->id);
    zhashx_delete (self->sessions, key);
    zg_session_destroy (session_p);
}

//  ==========================================================================
//  Answers to requests that waited for a queue or room actor

//  The JSON form of a native error
static json_object *
s_error_body (const char *reason)
{
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "message", json_object_new_string (reason? reason: "error"));
    return body;
}

//  Answer a pending request: a WebSocket answer object, or an HTTP reply
void
zg_gw_answer (zg_gw_t *self, zg_pending_request_t *pending, json_object *answer, int status, json_object *body)
{
    if (pending->http)
        s_self_http_done_waiting (self, pending->owner, status, body);
    else {
        json_object_put (body);
        zg_session_t *session = zg_gw_session (self, pending->owner);
        if (session) {
            if (json_object_is_type (json_object_object_get (answer, "op"), json_type_string)
            &&  streq (json_object_get_string (json_object_object_get (answer, "op")), "error"))
                self->counters.errors++;
            zg_gw_send_object (self, session, answer, true, ZG_QUEUES);
            return;
        }
    }
    json_object_put (answer);
}

//  An ERROR for a pending request
static void
s_self_answer_error (zg_gw_t *self, zg_pending_request_t *pending, const char *code, const char *reason)
{
    int number = atoi (code? code: "500");
    json_object *answer = zg_gw_answer_new ("error", pending->req);
    json_object_object_add (answer, "code", json_object_new_int (number));
    json_object_object_add (answer, "message", json_object_new_string (reason? reason: "error"));
    //  A reply timeout is a gateway timeout to an HTTP client
    int status = number == 408? 504: number >= 400 && number < 600? number: 502;
    zg_gw_answer (self, pending, answer, status, s_error_body (reason));
}

//  An ERROR [code][reason] from a pattern actor for a pending request
void
zg_gw_answer_native_error (zg_gw_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *code = zmsg_popstr (msg);
    char *reason = zmsg_popstr (msg);
    s_self_answer_error (self, pending, code, reason);
    zstr_free (&code);
    zstr_free (&reason);
}

//  A msgpack map answer, decoded; an HTTP body and a WebSocket answer
void
zg_gw_answer_map (zg_gw_t *self, zg_pending_request_t *pending, const char *op, zframe_t *frame)
{
    json_object *map = NULL;
    char error [256];
    if (!frame || zg_codec_decode_native (self->codec, zframe_data (frame), zframe_size (frame), &map,
                                          error, sizeof error)
    ||  !json_object_is_type (map, json_type_object)) {
        json_object_put (map);
        s_self_answer_error (self, pending, "502", "malformed answer from the pattern actor");
        return;
    }
    json_object *reply = NULL;
    if (json_object_object_get_ex (map, "reply", &reply)) {
        //  A task's reply payload is its data, as everywhere on the web side
        json_object_object_add (map, "data", json_object_get (reply));
        json_object_object_del (map, "reply");
    }
    json_object *answer = zg_gw_answer_new (op, pending->req);
    json_object_object_foreach (map, key, value)
        json_object_object_add (answer, key, json_object_get (value));
    zg_gw_answer (self, pending, answer, 200, map);
}

//  An integer field of an OK answer
void
zg_gw_answer_number (zg_gw_t *self, zg_pending_request_t *pending, const char *op, const char *field, const char *text)
{
    int64_t number = text? strtoll (text, NULL, 10): 0;
    json_object *answer = zg_gw_answer_new (op, pending->req);
    json_object_object_add (answer, field, json_object_new_int64 (number));
    json_object *body = json_object_new_object ();
    json_object_object_add (body, field, json_object_new_int64 (number));
    zg_gw_answer (self, pending, answer, 200, body);
}

//  ==========================================================================
//  Pipe commands and stats

static json_object *
s_self_stats (zg_gw_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "sessions", json_object_new_uint64 (zhashx_size (self->sessions)));
    json_object_object_add (root, "sessions_accepted", json_object_new_uint64 (self->counters.sessions_accepted));
    json_object_object_add (root, "sessions_rejected", json_object_new_uint64 (self->counters.sessions_rejected));
    json_object *in = json_object_new_object ();
    json_object *out = json_object_new_object ();
    for (int pattern = 0; pattern < ZG_PATTERNS; pattern++) {
        json_object_object_add (in, s_pattern_names [pattern], json_object_new_uint64 (self->counters.in [pattern]));
        json_object_object_add (out, s_pattern_names [pattern], json_object_new_uint64 (self->counters.out [pattern]));
    }
    json_object_object_add (root, "messages_in", in);
    json_object_object_add (root, "messages_out", out);
    json_object_object_add (root, "dropped_slow", json_object_new_uint64 (self->counters.dropped_slow));
    json_object_object_add (root, "disconnects_slow", json_object_new_uint64 (self->counters.disconnects_slow));
    json_object_object_add (root, "disconnects_limit", json_object_new_uint64 (self->counters.disconnects_limit));
    json_object_object_add (root, "errors", json_object_new_uint64 (self->counters.errors));
    json_object_object_add (root, "unavailable", json_object_new_uint64 (self->counters.unavailable));
    json_object_object_add (root, "http_requests", json_object_new_uint64 (self->counters.http_requests));
    json_object_object_add (root, "web_subscriptions",
                            json_object_new_uint64 (zg_topicmap_size (self->topicmap)));
    json_object_object_add (root, "web_workers", json_object_new_uint64 (zhashx_size (self->workers)));
    json_object_object_add (root, "room_clients", json_object_new_uint64 (zhashx_size (self->clients)));
    json_object_object_add (root, "pending", json_object_new_uint64 (zg_pending_size (self->pending)));
    uint64_t delivered, dropped;
    size_t subscribers;
    zg_pull_counters (self->pull, &delivered, &dropped, &subscribers);
    json_object_object_add (root, "pull_subscribers", json_object_new_uint64 (subscribers));
    json_object_object_add (root, "pull_delivered", json_object_new_uint64 (delivered));
    json_object_object_add (root, "pull_dropped", json_object_new_uint64 (dropped));
    json_object_object_add (root, "async_failed", json_object_new_uint64 (self->counters.async_failed));
    return root;
}

//  PEER-STATS section json: another actor's counters, from the owner
static void
s_self_command (void *self_p, const char *command, zmsg_t *request)
{
    zg_gw_t *self = (zg_gw_t *) self_p;
    if (strneq (command, "PEER-STATS")) {
        zsys_error ("zg_gateway: invalid pipe command '%s'", command);
        assert (false);
    }
    char *section = zmsg_popstr (request);
    char *stats = zmsg_popstr (request);
    if (section && stats)
        zhashx_update (self->peer_stats, section, stats);
    else
        zstr_free (&stats);
    zstr_free (&section);
}

static int
s_self_set_handler (void *self, const char *key, const char *value, char *error, size_t size)
{
    return s_self_set ((zg_gw_t *) self, key, value, error, size);
}

static json_object *
s_self_stats_handler (void *self)
{
    return s_self_stats ((zg_gw_t *) self);
}

static const zg_actor_handlers_t s_handlers = {
    "zg_gateway", s_self_set_handler, s_self_stats_handler, s_self_command
};

//  --------------------------------------------------------------------------
//  Handle what the zsocks hold, a batch at most; if more is waiting, make
//  the next lws pass return at once

static void
s_self_drain (zg_gw_t *self)
{
    size_t handled = 0;
    bool more = true;
    while (more && handled < ZG_GATEWAY_BATCH && !self->terminated) {
        more = false;
        if (zsock_events (self->pipe) & ZMQ_POLLIN) {
            self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
            more = true;
        }
        if (zsock_events (self->subscriber) & ZMQ_POLLIN) {
            //  Topic messages come in runs: take a run without asking for
            //  ZMQ_EVENTS before each one (that costs as much as the message).
            //  A run that ends at EAGAIN has drained the socket and re-armed
            //  its ZMQ_FD, and handling topics sends on no socket: no other
            //  round is needed for it
            size_t run = 0;
            while (run < ZG_GATEWAY_TOPIC_RUN && s_self_handle_topic (self))
                run++;
            handled += run? run - 1: 0;
            if (run == ZG_GATEWAY_TOPIC_RUN || errno != EAGAIN)
                more = true;
        }
        if (zsock_events (self->publisher) & ZMQ_POLLIN) {
            zframe_t *subscription = zframe_recv (self->publisher);
            zframe_destroy (&subscription);
            more = true;
        }
        if (zsock_events (self->producer) & ZMQ_POLLIN) {
            zg_gw_queues_handle_producer (self);
            more = true;
        }
        if (zsock_events (self->worker) & ZMQ_POLLIN) {
            zg_gw_queues_handle_worker (self);
            more = true;
        }
        if (zsock_events (self->rooms) & ZMQ_POLLIN) {
            zg_gw_rooms_handle (self);
            more = true;
        }
        handled++;
    }
    //  Stopped at the batch limit: the next pass returns at once and drains
    self->drain_wanted = more;
    if (more && self->context)
        lws_cancel_service (self->context);
}

//  ==========================================================================
//  HTTP

//  The table key of a connection
static void
s_wsi_key (struct lws *wsi, char *key, size_t size)
{
    snprintf (key, size, "%p", (void *) wsi);
}

//  The current HTTP transaction of a connection, or NULL
static zg_http_t *
s_self_transaction (zg_gw_t *self, struct lws *wsi)
{
    char key [32];
    s_wsi_key (wsi, key, sizeof key);
    return (zg_http_t *) zhashx_lookup (self->transactions, key);
}

//  Finish a connection's HTTP transaction, if any: count it and forget it
static void
s_self_http_finish (zg_gw_t *self, struct lws *wsi)
{
    zg_http_t *http = s_self_transaction (self, wsi);
    if (!http)
        return;
    if (http->status) {
        self->counters.http_requests++;
        zg_metrics_request (self->metrics, http->endpoint, http->status,
                            (double) (zclock_usecs () - http->started) / 1e6);
    }
    char key [32];
    s_key (key, sizeof key, "", http->id);
    zhashx_delete (self->https, key);
    s_wsi_key (wsi, key, sizeof key);
    zhashx_delete (self->transactions, key);
    zg_http_destroy (&http);
}

//  A deferred HTTP reply is ready (the transaction may have gone)
static void
s_self_http_done_waiting (zg_gw_t *self, uint64_t id, int status, json_object *body)
{
    char key [32];
    s_key (key, sizeof key, "", id);
    zg_http_t *http = (zg_http_t *) zhashx_lookup (self->https, key);
    if (http && http->status == 0)
        zg_http_reply_json (http, status, body);
    json_object_put (body);
}

//  Keep a transaction waiting for a pattern actor, at most timeout ms (then
//  the tick answers 504); lws closes it if even that cannot be written
void
zg_gw_http_defer (zg_gw_t *self, zg_http_t *http, int64_t timeout)
{
    char key [32];
    s_key (key, sizeof key, "", http->id);
    zhashx_update (self->https, key, http);
    http->deadline = zclock_mono () + timeout;
    lws_set_timeout (http->wsi, PENDING_TIMEOUT_USER_OK, (int) ((timeout + 999) / 1000 + 5));
}

//  Answer 504 to the transactions whose pattern actor did not answer in time
static void
s_self_http_expire (zg_gw_t *self, int64_t now)
{
    for (zg_http_t *http = (zg_http_t *) zhashx_first (self->https); http;
         http = (zg_http_t *) zhashx_next (self->https))
        if (http->status == 0 && now >= http->deadline)
            zg_http_reply_message (http, 504, "no answer from the pattern actor in time");
}

//  The JSON object body of a POST, or NULL after replying 400 (or 413)
json_object *
zg_gw_http_body (zg_gw_t *self, zg_http_t *http)
{
    if (http->too_large) {
        zg_http_reply_message (http, 413, "request body too large");
        return NULL;
    }
    json_object *body = NULL;
    char error [256];
    if (!http->body
    ||  zg_codec_decode (self->codec, http->body, http->body_size, false, &body, error, sizeof error)
    ||  !json_object_is_type (body, json_type_object)) {
        json_object_put (body);
        zg_http_reply_message (http, 400, "request's body is invalid");
        return NULL;
    }
    return body;
}

//  gophermq's subject rule, plus our topic size limit
static bool
s_self_valid_subject (zg_gw_t *self, const char *subject)
{
    size_t length = strlen (subject);
    if (length == 0 || length > (size_t) self->settings.max_topic_size || strpbrk (subject, " \t\r\n")
    ||  subject [0] == '.' || subject [length - 1] == '.' || strstr (subject, ".."))
        return false;
    return true;
}

//  A string member of a body; NULL if absent or not a string
static const char *
s_body_string (json_object *body, const char *name, size_t *length)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (body, name, &value) || !json_object_is_type (value, json_type_string))
        return NULL;
    if (length)
        *length = (size_t) json_object_get_string_len (value);
    const char *text = json_object_get_string (value);
    return strlen (text) == (size_t) json_object_get_string_len (value) || length? text: NULL;
}

//  Counts the subscriptions matching a topic
static void
s_count_match (void *holder, void *arg)
{
    (void) holder;
    (*(size_t *) arg)++;
}

static void
s_http_publish (zg_gw_t *self, zg_http_t *http, const char *param)
{
    bool async = streq (http->path, "/api/publish/async");
    (void) param;
    json_object *body = zg_gw_http_body (self, http);
    if (!body)
        return;
    size_t size = 0;
    const char *subject = s_body_string (body, "subject", NULL);
    const char *data = s_body_string (body, "data", &size);
    json_object *ok = json_object_new_object ();
    json_object_object_add (ok, "status", json_object_new_string ("ok"));
    size_t web_subscribers = 0;
    if (subject && data)
        zg_topicmap_match (self->topicmap, subject, s_count_match, &web_subscribers);
    if (!subject || !data)
        zg_http_reply_message (http, 400, "request's body is invalid");
    else
    if (!s_self_valid_subject (self, subject))
        zg_http_reply_message (http, 400, "invalid subject");
    else
    if (async) {
        //  gophermq reports nothing later; we count what fails
        if (s_self_publish (self, subject, data, size))
            self->counters.async_failed++;
        zg_http_reply_json (http, 200, ok);
    }
    else
    if (zg_pull_subscribers (self->pull, subject) == 0 && web_subscribers == 0)
        zg_http_reply_message (http, 404, "subscriber not found");
    else
    if (zg_pull_subscribers (self->pull, subject) > 0 && !zg_pull_has_room (self->pull, subject))
        zg_http_reply_message (http, 429, "broker overflow");
    else
    if (s_self_publish (self, subject, data, size))
        zg_http_reply_message (http, 500, "server error");
    else {
        zg_pull_reserve (self->pull, subject);
        //  Answer once the message has come back from the topics actor, so a
        //  fetch made after this answer finds it in the pull buffers
        zg_gw_http_defer (self, http, self->settings.http_timeout);
        s_self_wait_barrier (self, http->id, true, json_object_get (ok));
    }
    json_object_put (ok);
    json_object_put (body);
}

static void
s_http_subscribe (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    json_object *body = zg_gw_http_body (self, http);
    if (!body)
        return;
    const char *subject = s_body_string (body, "subject", NULL);
    if (!subject)
        zg_http_reply_message (http, 400, "request's body is invalid");
    else
    if (!s_self_valid_subject (self, subject))
        zg_http_reply_message (http, 400, "invalid subject");
    else {
        const char *id = zg_pull_subscribe (self->pull, subject);
        if (!id)
            zg_http_reply_message (http, 429, "too many subscribers");
        else {
            json_object *answer = json_object_new_object ();
            json_object_object_add (answer, "id", json_object_new_string (id));
            json_object_object_add (answer, "subject", json_object_new_string (subject));
            if (zg_topicmap_use (self->topicmap, subject)) {
                zg_gw_http_defer (self, http, self->settings.http_timeout);
                s_self_wait_barrier (self, http->id, true, answer);
            }
            else {
                zg_http_reply_json (http, 200, answer);
                json_object_put (answer);
            }
        }
    }
    json_object_put (body);
}

static void
s_http_fetch (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    json_object *body = zg_gw_http_body (self, http);
    if (!body)
        return;
    const char *subject = s_body_string (body, "subject", NULL);
    const char *id = s_body_string (body, "id", NULL);
    zlistx_t *messages = NULL;
    if (!subject || !id)
        zg_http_reply_message (http, 400, "request's body is invalid");
    else
    if (!s_self_valid_subject (self, subject))
        zg_http_reply_message (http, 400, "invalid subject");
    else
    if (!(messages = zg_pull_fetch (self->pull, subject, id)))
        zg_http_reply_message (http, 404, "bad id");
    else {
        json_object *answer = json_object_new_object ();
        json_object *data = json_object_new_array ();
        json_object *binary = NULL;
        int index = 0;
        for (zchunk_t *chunk = (zchunk_t *) zlistx_first (messages); chunk;
             chunk = (zchunk_t *) zlistx_next (messages), index++)
            if (zg_codec_utf8_valid (zchunk_data (chunk), zchunk_size (chunk)))
                json_object_array_add (data, json_object_new_string_len ((const char *) zchunk_data (chunk),
                                                                         (int) zchunk_size (chunk)));
            else {
                json_object_array_add (data, zg_codec_new_binary (zchunk_data (chunk), zchunk_size (chunk)));
                if (!binary)
                    binary = json_object_new_array ();
                json_object_array_add (binary, json_object_new_int (index));
            }
        json_object_object_add (answer, "data", data);
        json_object_object_add (answer, "id", json_object_new_string (id));
        json_object_object_add (answer, "subject", json_object_new_string (subject));
        if (binary)
            json_object_object_add (answer, "binary", binary);
        zg_http_reply_json (http, 200, answer);
        json_object_put (answer);
        zlistx_destroy (&messages);
    }
    json_object_put (body);
}

static void
s_http_ready (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) self;
    (void) param;
    zg_http_reply (http, 204, "application/json", NULL, 0);
}

//  The gateway's own counters, the other actors' as they last reported
static json_object *
s_self_all_stats (zg_gw_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "gateway", s_self_stats (self));
    for (char *stats = (char *) zhashx_first (self->peer_stats); stats;
         stats = (char *) zhashx_next (self->peer_stats))
        json_object_object_add (root, (const char *) zhashx_cursor (self->peer_stats), json_tokener_parse (stats));
    return root;
}

static void
s_http_stats (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    json_object *root = s_self_all_stats (self);
    zg_http_reply_json (http, 200, root);
    json_object_put (root);
}

static void
s_http_metrics (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    json_object *stats = s_self_all_stats (self);
    zg_metrics_render (self->metrics, &out, stats);
    json_object_put (stats);
    zg_http_reply (http, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.size);
    msgpack_sbuffer_destroy (&out);
}

static void
s_http_ws_only (zg_gw_t *self, zg_http_t *http, const char *param)
{
    (void) self;
    (void) param;
    zg_http_reply_message (http, 400, "/ws takes WebSocket upgrades only");
}

//  Routes: a path with at most one {} segment, and its method
typedef struct {
    const char *pattern;
    zg_http_method_t method;
    zg_gw_route_fn *handler;
} s_route_t;

static const s_route_t s_routes [] = {
    { "/api/publish", ZG_HTTP_POST, s_http_publish },
    { "/api/publish/async", ZG_HTTP_POST, s_http_publish },
    { "/api/subscribe", ZG_HTTP_POST, s_http_subscribe },
    { "/api/fetch", ZG_HTTP_POST, s_http_fetch },
    { "/ready", ZG_HTTP_GET, s_http_ready },
    { "/api/stats", ZG_HTTP_GET, s_http_stats },
    { "/metrics", ZG_HTTP_GET, s_http_metrics },
    { "/api/queues/{}", ZG_HTTP_POST, zg_gw_queues_http_send },
    { "/api/tasks/{}", ZG_HTTP_GET, zg_gw_queues_http_task },
    { "/api/rooms/{}", ZG_HTTP_POST, zg_gw_rooms_http_send },
    { "/api/rooms/{}/oob", ZG_HTTP_POST, zg_gw_rooms_http_send },
    { "/api/rooms/{}/peek", ZG_HTTP_GET, zg_gw_rooms_http_query },
    { "/api/rooms/{}", ZG_HTTP_GET, zg_gw_rooms_http_query },
    { "/api/rooms", ZG_HTTP_GET, zg_gw_rooms_http_query },
    { "/ws", ZG_HTTP_GET, s_http_ws_only },
    { NULL }
};

//  Route a request whose body (if any) has arrived
static void
s_self_route (zg_gw_t *self, zg_http_t *http)
{
    char param [1024];
    bool path_known = false;
    for (const s_route_t *route = s_routes; route->pattern; route++)
        if (zg_http_match (route->pattern, http->path, param, sizeof param)) {
            path_known = true;
            if (route->method == http->method) {
                http->endpoint = route->pattern;
                route->handler (self, http, param);
                return;
            }
        }
    if (!path_known && http->method == ZG_HTTP_GET && zg_http_reply_file (http))
        return;
    http->endpoint = path_known? "method_not_allowed": "not_found";
    if (path_known || (http->method != ZG_HTTP_GET && streq (http->path, "/")))
        zg_http_reply_message (http, 405, "Method Not Allowed");
    else
        zg_http_reply_message (http, 404, "Not Found");
}

//  --------------------------------------------------------------------------
//  Refuse a WebSocket upgrade with a JSON reply written at once

static int
s_refuse_upgrade (struct lws *wsi, int status, const char *message)
{
    char body [256];
    int size = snprintf (body, sizeof body, "{\"message\":\"%s\"}\n", message);
    byte buffer [LWS_PRE + 1024];
    byte *start = buffer + LWS_PRE;
    byte *cursor = start;
    byte *end = buffer + sizeof buffer - 1;
    if (lws_add_http_common_headers (wsi, (unsigned int) status, "application/json", (lws_filepos_t) size,
                                     &cursor, end)
    ||  lws_finalize_write_http_header (wsi, start, &cursor, end))
        return -1;
    memcpy (start, body, (size_t) size);
    if (lws_write (wsi, start, (size_t) size, LWS_WRITE_HTTP_FINAL) < size)
        return -1;
    return 1;
}

//  ==========================================================================
//  lws callbacks

static zg_http_method_t
s_method (struct lws *wsi)
{
    if (lws_hdr_total_length (wsi, WSI_TOKEN_GET_URI))
        return ZG_HTTP_GET;
    if (lws_hdr_total_length (wsi, WSI_TOKEN_POST_URI))
        return ZG_HTTP_POST;
    return ZG_HTTP_OTHER;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    zg_gw_t *self = (zg_gw_t *) lws_context_user (lws_get_context (wsi));
    s_pss_t *pss = (s_pss_t *) user;
    //  Any callback but a write may send on a zsock (a request, a close),
    //  which can leave it readable without waking its ZMQ_FD; writes only
    //  write to connections, so a pass of nothing but writes needs no drain
    if (reason != LWS_CALLBACK_SERVER_WRITEABLE)
        self->drain_wanted = true;
    switch (reason) {
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
            char path [64] = "";
            lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI);
            if (strneq (path, "/ws"))
                return s_refuse_upgrade (wsi, 404, "Not Found");
            if ((int64_t) zhashx_size (self->sessions) >= self->settings.max_sessions) {
                self->counters.sessions_rejected++;
                return s_refuse_upgrade (wsi, 503, "too many sessions");
            }
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            s_self_http_finish (self, wsi);
            pss->session = s_self_open_session (self, wsi);
            return 0;

        case LWS_CALLBACK_RECEIVE: {
            zg_session_t *session = pss->session;
            if (!session || session->closing)
                return 0;
            bool complete = false;
            if (zg_session_receive (session, in, len, lws_remaining_packet_payload (wsi),
                                    lws_is_final_fragment (wsi), (size_t) self->settings.max_frame_size,
                                    (size_t) self->settings.max_message_size, &complete)) {
                self->counters.disconnects_limit++;
                lws_close_reason (wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *) "message too large", 17);
                return -1;
            }
            if (complete) {
                size_t size = 0;
                const byte *message = zg_session_message (session, in, len, &size);
                s_self_handle_message (self, session, message, size, lws_frame_is_binary (wsi));
                zg_session_message_done (session);
            }
            return 0;
        }
        case LWS_CALLBACK_SERVER_WRITEABLE:
            //  A session closed by policy sends its close frame (set by s_self_kill) now
            if (pss->session && (pss->session->closing
                                 || zg_session_write (pss->session, self->scratch,
                                                      (size_t) self->settings.write_batch)))
                return -1;
            return 0;

        case LWS_CALLBACK_CLOSED:
            if (pss->session)
                s_self_close_session (self, &pss->session);
            return 0;

        case LWS_CALLBACK_HTTP: {
            s_self_http_finish (self, wsi);
            zg_http_t *http = zg_http_new (wsi, ++self->next_id, s_method (wsi), (const char *) in);
            char key [32];
            s_wsi_key (wsi, key, sizeof key);
            zhashx_insert (self->transactions, key, http);
            if (http->method != ZG_HTTP_POST)
                s_self_route (self, http);
            return 0;
        }
        case LWS_CALLBACK_HTTP_BODY: {
            zg_http_t *http = s_self_transaction (self, wsi);
            if (http)
                zg_http_append (http, in, len, (size_t) self->settings.max_body_size);
            return 0;
        }
        case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
            zg_http_t *http = s_self_transaction (self, wsi);
            if (http && http->status == 0)
                s_self_route (self, http);
            return 0;
        }
        case LWS_CALLBACK_HTTP_WRITEABLE: {
            zg_http_t *http = s_self_transaction (self, wsi);
            if (!http)
                return 0;
            int rc = zg_http_write (http);
            if (rc != 0)
                s_self_http_finish (self, wsi);
            return rc < 0? -1: 0;
        }
        case LWS_CALLBACK_CLOSED_HTTP:
            s_self_http_finish (self, wsi);
            return 0;

        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

//  The zsocks' fds: any wake-up is handled by the drain after lws_service
static int
s_wakeup_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    if (wsi)
        ((zg_gw_t *) lws_context_user (lws_get_context (wsi)))->drain_wanted = true;
    (void) reason;
    (void) user;
    (void) in;
    (void) len;
    return 0;
}

//  --------------------------------------------------------------------------
//  The actor

void
zg_gateway (zsock_t *pipe, void *args)
{
    (void) args;
    zg_gw_t *self = s_self_new (pipe);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        if (self->context) {
            if (lws_service (self->context, 0) < 0)
                break;
        }
        else {
            //  Not listening yet: only the pipe matters
            zmq_pollitem_t items [] = { { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 } };
            if (zg_actor_poll (items, 1, -1) == -1)
                break;
            self->drain_wanted = true;
        }
        //  Each zsock is drained until it is not readable, and only a
        //  wake-up of its ZMQ_FD or a send on it (in a callback or the
        //  tick) can change that: a pass that only wrote to sessions skips
        //  the drain and its ZMQ_EVENTS queries
        if (self->drain_wanted)
            s_self_drain (self);
    }
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Self test of this class: a real gateway on a free port, driven by plain
//  sockets speaking HTTP and WebSocket

static int
s_test_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (fd >= 0);
    struct sockaddr_in address = { 0 };
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t) port);
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct timeval timeout = { 5, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    assert (rc == 0);
    return fd;
}

//  True if the bytes hold text
static bool
s_test_contains (const char *bytes, size_t length, const char *text)
{
    size_t size = strlen (text);
    for (size_t index = 0; index + size <= length; index++)
        if (memcmp (bytes + index, text, size) == 0)
            return true;
    return false;
}

//  Read until the buffer holds text (or size is reached); returns bytes read
static size_t
s_test_read_until (int fd, char *buffer, size_t size, const char *text)
{
    size_t length = 0;
    while (length < size - 1) {
        ssize_t rc = recv (fd, buffer + length, size - 1 - length, 0);
        if (rc <= 0)
            break;
        length += (size_t) rc;
        buffer [length] = 0;
        if (s_test_contains (buffer, length, text))
            break;
    }
    buffer [length] = 0;
    return length;
}

//  Send one masked text frame, as a client must
static void
s_test_send_frame (int fd, const char *text)
{
    size_t size = strlen (text);
    assert (size < 126);
    byte frame [256] = { 0x81, (byte) (0x80 | size), 1, 2, 3, 4 };
    for (size_t index = 0; index < size; index++)
        frame [6 + index] = (byte) text [index] ^ frame [2 + index % 4];
    ssize_t rc = send (fd, frame, 6 + size, 0);
    assert (rc == (ssize_t) (6 + size));
}

//  A free TCP port on the loopback interface
static int
s_test_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { 0 };
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int rc = bind (fd, (struct sockaddr *) &address, sizeof address);
    assert (rc == 0);
    getsockname (fd, (struct sockaddr *) &address, &length);
    close (fd);
    return ntohs (address.sin_port);
}

void
zg_gateway_test (bool verbose)
{
    printf (" * zg_gateway: ");
    //  @selftest
    //  A message frame written directly holds the bytes the json-c object
    //  of that message encodes to, for payloads of every kind, both ways
    zg_codec_t *codec = zg_codec_new (8);
    msgpack_sbuffer encoded, expected;
    msgpack_sbuffer_init (&encoded);
    msgpack_sbuffer_init (&expected);
    const char *payloads [] = { "{\"t\": [21, \"a/b\"]}", "null", "text \"quoted\"\n", "\xff\x00\x01", NULL };
    for (int index = 0; payloads [index]; index++)
        for (int msgpack = 0; msgpack < 2; msgpack++) {
            size_t size = index == 3? 3: strlen (payloads [index]);
            s_delivery_t delivery = { NULL, "t/\"x\"", (const byte *) payloads [index], size, false,
                                      ZG_CODEC_JSON, NULL, { NULL, NULL } };
            zg_frame_t *frame = s_message_frame (codec, &encoded, &delivery, msgpack);
            json_object *message = json_object_new_object ();
            json_object_object_add (message, "op", json_object_new_string ("message"));
            json_object_object_add (message, "topic", json_object_new_string (delivery.topic));
            json_object *value = zg_codec_payload_value (codec, delivery.payload, size);
            if (zg_codec_is_binary (value))
                json_object_object_add (message, "binary", json_object_new_boolean (1));
            json_object_object_add (message, "data", value);
            msgpack_sbuffer_clear (&expected);
            zg_codec_encode (codec, message, msgpack, &expected);
            zg_frame_t *reference = zg_frame_new ((const byte *) expected.data, expected.size, msgpack);
            assert (frame->size == reference->size && memcmp (frame->data, reference->data, frame->size) == 0);
            zg_frame_unref (&reference);
            zg_frame_unref (&frame);
            json_object_put (message);
            json_object_put (delivery.value);
        }
    msgpack_sbuffer_destroy (&encoded);
    msgpack_sbuffer_destroy (&expected);
    zg_codec_destroy (&codec);

    zactor_t *topics = zg_topics_new (NULL, NULL);
    char error [256];
    assert (zg_actor_set (topics, "subscribers", "inproc://zg-gateway-test-sub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "publishers", "inproc://zg-gateway-test-pub", error, sizeof error) == 0);

    zactor_t *gateway = zactor_new (zg_gateway, NULL);
    assert (zg_actor_set (gateway, "no-such-key", "1", error, sizeof error) == -1);
    assert (zg_actor_set (gateway, "slow-client-policy", "sometimes", error, sizeof error) == -1);
    assert (zg_actor_set (gateway, "max-depth", "100", error, sizeof error) == -1);
    assert (zg_actor_set (gateway, "http-port", "http", error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_actor_set (gateway, "slow-client-policy", "disconnect", error, sizeof error) == 0);
    int port = s_test_free_port ();
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    assert (zg_actor_set (gateway, "http-port", port_text, error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "http-port", port_text, error, sizeof error) == -1);
    assert (strstr (error, "already listening"));
    assert (zg_actor_set (gateway, "topics-subscribers", "inproc://zg-gateway-test-sub", error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "topics-publishers", "inproc://zg-gateway-test-pub", error, sizeof error) == 0);

    //  HTTP
    char buffer [4096];
    int fd = s_test_connect (port);
    const char *ready = "GET /ready HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert (send (fd, ready, strlen (ready), 0) == (ssize_t) strlen (ready));
    s_test_read_until (fd, buffer, sizeof buffer, "\r\n\r\n");
    assert (strstr (buffer, "HTTP/1.1 204"));
    const char *missing = "GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert (send (fd, missing, strlen (missing), 0) == (ssize_t) strlen (missing));
    s_test_read_until (fd, buffer, sizeof buffer, "}");
    assert (strstr (buffer, "HTTP/1.1 404") && strstr (buffer, "{\"message\":\"Not Found\"}"));
    close (fd);

    //  WebSocket: subscribe, publish through the topics actor, get it back
    fd = s_test_connect (port);
    const char *upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert (send (fd, upgrade, strlen (upgrade), 0) == (ssize_t) strlen (upgrade));
    s_test_read_until (fd, buffer, sizeof buffer, "\r\n\r\n");
    assert (strstr (buffer, "HTTP/1.1 101"));
    s_test_send_frame (fd, "{\"op\":\"subscribe\",\"topic\":\"t.*\",\"req\":1}");
    s_test_read_until (fd, buffer, sizeof buffer, "\"req\":1}");
    assert (strstr (buffer, "{\"op\":\"ok\",\"req\":1}"));
    s_test_send_frame (fd, "{\"op\":\"publish\",\"topic\":\"t.x\",\"data\":[1],\"req\":2}");
    size_t length = s_test_read_until (fd, buffer, sizeof buffer, "\"data\":[1]}");
    assert (s_test_contains (buffer, length, "{\"op\":\"message\",\"topic\":\"t.x\",\"data\":[1]}"));
    s_test_send_frame (fd, "{\"op\":42}");
    s_test_read_until (fd, buffer, sizeof buffer, "}");
    assert (strstr (buffer, "\"code\":400"));

    char *stats = zg_actor_stats (gateway);
    assert (strstr (stats, "\"sessions\":1,"));
    assert (strstr (stats, "\"errors\":1,"));
    zstr_free (&stats);
    close (fd);

    zactor_destroy (&gateway);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
