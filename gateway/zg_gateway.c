/*  =========================================================================
    zg_gateway - the web gateway actor: HTTP and WebSocket on one port, run
    by libwebsockets inside this czmq actor's thread

    One thread does everything (STYLE.md B.3): lws_service() runs the loop,
    a dup() of the ZMQ_FD of each zsock we read is adopted as an lws raw
    file so ZeroMQ traffic wakes the loop (zg_gw_wake), and after a service
    pass we drain the zsocks of the sources that woke or may have been sent
    on. When a drain stops at its batch limit, lws_cancel_service makes the
    next pass return at once, so lws and ZeroMQ take turns.

    This file is the actor: the lws context and its callbacks, the settings,
    the adoption and draining of the zsocks, and STATS. What a request does
    is elsewhere, layered so that nothing calls back up:

        zg_gateway        this actor
        zg_gw_routes      WebSocket ops and HTTP routes -> bridges; stats
        zg_gw_topics, zg_gw_queues, zg_gw_rooms, zg_gw_wsqueue
                          the bridges, each with its own sockets and state
        zg_gw_answers     answers, request fields, pushes, pending requests

    Every web session is multiplexed over one inproc socket per pattern;
    requests to queues and rooms carry a gateway-made req ("g<n>") that maps
    back to the session or HTTP transaction in the pending table.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gateway.h"
#include "zg_gw_routes.h"
#include "zg_gw_accept.h"
#include "zg_gw_drain.h"
#include "zg_gw_listen.h"
#include "zg_gw_wsqueue.h"
#include "zg_gw_mport.h"
#include "zg_gw_wake.h"
#include "zg_gw_settings.h"
#include <openssl/crypto.h>

//  ZeroMQ messages handled per wake-up before lws gets a turn
#define ZG_GATEWAY_BATCH 2048
//  lws receive chunk per WebSocket session, bytes
#define ZG_GATEWAY_RX_CHUNK 2048
//  Housekeeping period, ms
#define ZG_GATEWAY_TICK 250

//  Per-connection lws user space of a WebSocket session. HTTP transactions
//  are kept by connection in our own table: lws frees the user space of an
//  HTTP connection before its last callbacks.
typedef struct {
    zg_session_t *session;          //  WebSocket session, or NULL
    char address [ZG_GW_ADDRESS_SIZE];  //  Its client's address
} s_pss_t;

//  The actor's state, one per gateway thread
typedef struct {
    zsock_t *pipe;                  //  Actor command pipe
    zg_gw_settings_t settings;      //  Current settings
    struct lws_protocols protocols [6];     //  HTTP and WS, zsock wake-ups, zg_gw_accept's 3, end
    struct lws_context *context;    //  lws, once listening
    lws_retry_bo_t retry;           //  Ping and hang-up policy
    lws_sorted_usec_list_t tick;    //  Housekeeping timer
    zchunk_t *scratch;              //  Coalescing buffer for writes
    zhashx_t *transactions;         //  Connection -> its current zg_http_t
    zhashx_t *admitted;             //  Connection -> its address: upgrade counted, not yet established
    zg_gw_answers_t *answers;       //  Answers, sessions, pending requests, counters
    zg_gw_topics_t *topics;         //  Bridge to the topics actor
    zg_gw_queues_t *queues;         //  Bridge to the queues actor
    zg_gw_rooms_t *rooms;           //  Bridge to the rooms actor
    zg_gw_wsqueue_t *wsqueue;       //  go-wsqueue's endpoints
    zg_gw_guard_t *guard;           //  Tokens, permissions, Origins
    zg_gw_routes_t *routes;         //  Where web requests go
    zg_gw_threads_t *threads;       //  The gateway's threads: session counts, counters
    size_t index;                   //  This thread's, 0 for the primary (which owns threads)
    zg_gw_accept_t *accept;         //  Where this thread's connections come from
    zg_gw_listen_t *listen;         //  Address and TLS
    zg_gw_mport_t *mport;           //  The metrics port, if any
    zg_gw_counters_t *counters;     //  The gateway's counters
    zg_gw_drain_t *drain;           //  Lame-duck shutdown, once $TERM came
    zg_gw_wake_t *wake;             //  Which zsocks may hold messages, and their drain
    bool terminated;                //  Done: the actor ends
} self_t;

static int
    s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

//  The wake-up sources, in the order they are drained: the pipe first, as its
//  $TERM ends the drain
typedef enum { S_PIPE, S_TOPICS, S_QUEUES, S_ROOMS, S_WSQUEUE, S_MPORT, S_SOURCES } s_source_t;
static size_t
    s_drain_pipe (void *arg, bool *more);
static size_t
    s_drain_mport (void *arg, bool *more);

static size_t
s_drain_topics (void *arg, bool *more)
{
    return zg_gw_topics_drain (((self_t *) arg)->topics, more);
}

static size_t
s_drain_queues (void *arg, bool *more)
{
    return zg_gw_queues_drain (((self_t *) arg)->queues, more);
}

static size_t
s_drain_rooms (void *arg, bool *more)
{
    return zg_gw_rooms_drain (((self_t *) arg)->rooms, more);
}

static size_t
s_drain_wsqueue (void *arg, bool *more)
{
    return zg_gw_wsqueue_drain (((self_t *) arg)->wsqueue, more);
}

static zg_gw_wake_drain_fn *s_drains [S_SOURCES] = {
    s_drain_pipe, s_drain_topics, s_drain_queues, s_drain_rooms, s_drain_wsqueue, s_drain_mport
};

//  threads is the primary's, for the other gateway threads; NULL for it
static self_t *
s_self_new (zsock_t *pipe, zg_gw_threads_t *threads)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    zg_gw_settings_defaults (&self->settings);
    self->threads = threads? threads: zg_gw_threads_new ();
    char error [256];
    if (!threads && zg_gw_threads_set_count (self->threads, zg_actor_default ("gateway/threads"), error,
                                             sizeof error))
        assert (false);             //  The default config's value is valid
    self->protocols [0] = (struct lws_protocols) {
        "zgate", s_callback, sizeof (s_pss_t), ZG_GATEWAY_RX_CHUNK, 0, NULL, 0
    };
    self->protocols [1] = (struct lws_protocols) { "zgate-zmq", zg_gw_wake_callback, 0, 0, 0, NULL, 0 };
    self->scratch = zchunk_new (NULL, 65536 + LWS_PRE);
    self->transactions = zhashx_new ();
    self->admitted = zhashx_new ();
    zhashx_set_destructor (self->admitted, (zhashx_destructor_fn *) zstr_free);
    self->answers = zg_gw_answers_new (&self->settings);
    self->topics = zg_gw_topics_new (self->answers, &self->settings);
    zg_gw_topics_share (self->topics, zg_gw_threads_publishes (self->threads));
    self->queues = zg_gw_queues_new (self->answers, &self->settings);
    self->rooms = zg_gw_rooms_new (self->answers, &self->settings);
    self->wsqueue = zg_gw_wsqueue_new (self->answers, &self->settings, zg_gw_topics_presence (self->topics));
    self->guard = zg_gw_guard_new (self->answers);
    self->routes = zg_gw_routes_new (self->answers, self->topics, self->queues, self->rooms, self->guard);
    self->listen = zg_gw_listen_new ();
    self->mport = zg_gw_mport_new ();
    self->counters = zg_gw_answers_counters (self->answers);
    self->index = zg_gw_threads_join (self->threads, self->counters);
    //  Thread n numbers its sessions and requests from n * 2^48
    zg_gw_answers_set_first_id (self->answers, (uint64_t) self->index << 48);
    self->accept = zg_gw_accept_new (self->threads, self->index, &self->settings);
    zg_gw_accept_protocols (self->accept, &self->protocols [2], &self->protocols [3], &self->protocols [4]);
    zg_gw_routes_share (self->routes, self->threads);
    self->wake = zg_gw_wake_new (&self->terminated);
    for (int source = S_PIPE; source < S_SOURCES; source++)
        if (zg_gw_wake_source (self->wake, s_drains [source], self) != source)
            assert (false);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    //  No connection is handed to this thread past this point
    zg_gw_threads_leave (self->threads, self->index);
    //  lws closes every connection, and our callbacks forget each one
    if (self->context) {
        lws_sul_cancel (&self->tick);
        lws_context_destroy (self->context);
    }
    zg_gw_accept_destroy (&self->accept);
    //  The primary stops the other threads, each draining as it did
    if (self->index == 0)
        zg_gw_threads_destroy (&self->threads);
    zg_gw_drain_destroy (&self->drain);
    zg_gw_routes_destroy (&self->routes);
    zg_gw_guard_destroy (&self->guard);
    zg_gw_rooms_destroy (&self->rooms);
    zg_gw_wsqueue_destroy (&self->wsqueue);
    zg_gw_queues_destroy (&self->queues);
    zg_gw_topics_destroy (&self->topics);
    zg_gw_answers_destroy (&self->answers);
    zhashx_destroy (&self->transactions);
    zhashx_destroy (&self->admitted);
    zchunk_destroy (&self->scratch);
    free (self->settings.interface);
    zg_gw_listen_destroy (&self->listen);
    zg_gw_mport_destroy (&self->mport);
    zg_gw_wake_destroy (&self->wake);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Housekeeping, every ZG_GATEWAY_TICK ms

static void
s_self_tick (lws_sorted_usec_list_t *sul)
{
    self_t *self = lws_container_of (sul, self_t, tick);
    //  It sends on zsocks, which may leave them readable without a wake-up
    zg_gw_wake_mark_all (self->wake);
    int64_t now = zclock_mono ();
    zg_gw_queues_tick (self->queues, now);
    zg_gw_topics_tick (self->topics, now);
    zg_gw_rooms_tick (self->rooms);
    zg_gw_wsqueue_tick (self->wsqueue, now);
    zg_gw_answers_expire (self->answers, now);
    zg_gw_guard_tick (self->guard, now);
    lws_sul_schedule (self->context, 0, &self->tick, s_self_tick, ZG_GATEWAY_TICK * LWS_US_PER_MS);
}

//  --------------------------------------------------------------------------
//  libwebsockets logs through zsys, with zgate's log, rather than on stderr,
//  so that a configuration error stays one line on stderr

//  While the context is created, lws's error lines are kept here instead
//  (lws's log callback has no user pointer, and only this thread creates
//  contexts): a gateway that cannot listen says why in its one error line
static __thread char *s_lws_errors;
static __thread size_t s_lws_errors_size;

static void
s_lws_log (int level, const char *line)
{
    int length = (int) strcspn (line, "\n");
    if (level == LLL_ERR && s_lws_errors) {
        size_t used = strlen (s_lws_errors);
        snprintf (s_lws_errors + used, s_lws_errors_size - used, "%s%.*s", used? "; ": "", length, line);
    }
    else
    if (level == LLL_ERR)
        zsys_error ("lws: %.*s", length, line);
    else
        zsys_info ("lws: %.*s", length, line);
}

//  --------------------------------------------------------------------------
//  Start listening: create the lws context and adopt the zsocks' fds

//  Adopt the pipe and every bridge's zsocks
static int
s_self_adopt_all (self_t *self)
{
    if (zg_gw_wake_adopt (self->wake, self->context, self->pipe, S_PIPE))
        return -1;
    zsock_t *socket;
    for (size_t index = 0; (socket = zg_gw_topics_socket (self->topics, index)); index++)
        if (zg_gw_wake_adopt (self->wake, self->context, socket, S_TOPICS))
            return -1;
    for (size_t index = 0; (socket = zg_gw_queues_socket (self->queues, index)); index++)
        if (zg_gw_wake_adopt (self->wake, self->context, socket, S_QUEUES))
            return -1;
    for (size_t index = 0; (socket = zg_gw_rooms_socket (self->rooms, index)); index++)
        if (zg_gw_wake_adopt (self->wake, self->context, socket, S_ROOMS))
            return -1;
    for (size_t index = 0; (socket = zg_gw_wsqueue_socket (self->wsqueue, index)); index++)
        if (zg_gw_wake_adopt (self->wake, self->context, socket, S_WSQUEUE))
            return -1;
    if (zg_gw_accept_start (self->accept, self->context, zg_gw_listen_fd (self->listen),
                            zg_gw_listen_tls (self->listen)))
        return -1;
    socket = zg_gw_mport_socket (self->mport);
    return socket? zg_gw_wake_adopt (self->wake, self->context, socket, S_MPORT): 0;
}

static int
s_self_listen (self_t *self, const char *value, char *error, size_t size)
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
    //  One thread: lws listens. More: the first listens and hands sessions on (zg_gw_accept)
    zg_gw_listen_set_mode (self->listen, zg_gw_threads_count (self->threads) == 1? ZG_GW_LISTEN_LWS:
                                         self->index == 0? ZG_GW_LISTEN_OWN: ZG_GW_LISTEN_NONE);
    if (zg_gw_listen_prepare (self->listen, self->settings.interface, port, &info, error, size))
        return -1;
    info.protocols = self->protocols;
    info.user = self;
    info.retry_and_idle_policy = &self->retry;
    info.fd_limit_per_thread = (unsigned int) (self->settings.max_sessions + 1024);
    //  A request line with a method lws does not know is handed to
    //  zg_gw_accept's zgate-not-http as a raw connection, which answers JSON, rather
    //  than answered by lws with an HTML 403
    info.options |= LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
    info.listen_accept_role = "raw-skt";
    info.listen_accept_protocol = "zgate-not-http";
    lws_set_log_level (self->settings.verbose? LLL_ERR | LLL_WARN | LLL_NOTICE: LLL_ERR, s_lws_log);
    char reasons [256] = "";
    s_lws_errors = reasons;
    s_lws_errors_size = sizeof reasons;
    self->context = lws_create_context (&info);
    s_lws_errors = NULL;
    if (!self->context) {
        snprintf (error, size, "cannot listen on %s port %ld (%s)", self->settings.interface, port,
                  *reasons? reasons: "address in use or not available");
        return -1;
    }
    if (s_self_adopt_all (self)) {
        snprintf (error, size, "cannot adopt the ZeroMQ descriptors: %s", strerror (errno));
        return -1;
    }
    lws_sul_schedule (self->context, 0, &self->tick, s_self_tick, ZG_GATEWAY_TICK * LWS_US_PER_MS);
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply one setting

static int
s_self_apply (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    //  The pattern actors' endpoints: each bridge knows its keys (the
    //  go-wsqueue endpoints connect to those of the topics and queues too)
    int rc = zg_gw_wsqueue_connect (self->wsqueue, key, value) == -1? -1: 1;
    if (rc == 1)
        rc = zg_gw_topics_connect (self->topics, key, value);
    if (rc == 1)
        rc = zg_gw_queues_connect (self->queues, key, value);
    if (rc == 1)
        rc = zg_gw_rooms_connect (self->rooms, key, value);
    if (rc == -1)
        snprintf (error, size, "cannot connect to '%s': %s", value, zmq_strerror (zmq_errno ()));
    if (rc != 1)
        return rc;
    rc = zg_gw_guard_set (self->guard, key, value, error, size);
    if (rc != 1)
        return rc;
    rc = zg_gw_listen_set (self->listen, self->context, key, value, error, size);
    if (rc != 1)
        return rc;
    rc = zg_gw_mport_set (self->mport, self->settings.interface, key, value, error, size);
    if (rc != 1)
        return rc;
    rc = zg_gw_wsqueue_set (self->wsqueue, key, value, error, size);
    if (rc != 1)
        return rc;
    if (streq (key, "http-port"))
        return s_self_listen (self, value, error, size);
    rc = zg_gw_settings_set (&self->settings, key, value, error, size);
    if (rc)
        return rc;
    zg_codec_set_max_depth (zg_gw_answers_codec (self->answers), (int) self->settings.max_depth);
    zg_gw_topics_configure (self->topics);
    return rc;
}

//  The primary hands every setting it applied to the other gateway threads,
//  and starts them once it listens
static int
s_self_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "threads")) {
        if (self->context) {
            snprintf (error, size, "gateway/threads takes a restart");
            return -1;
        }
        return zg_gw_threads_set_count (self->threads, value, error, size);
    }
    int rc = s_self_apply (self, key, value, error, size);
    if (rc || self->index != 0)
        return rc;
    if (streq (key, "http-port"))
        return zg_gw_threads_start (self->threads, zg_gateway, value, error, size);
    return zg_gw_threads_set (self->threads, key, value, error, size);
}

//  --------------------------------------------------------------------------
//  WebSocket sessions

//  A new session
static zg_session_t *
s_self_open_session (self_t *self, struct lws *wsi)
{
    zg_session_t *session = zg_session_new (wsi, zg_gw_answers_new_id (self->answers));
    zg_gw_answers_add_session (self->answers, session);
    zg_gw_guard_session_opened (self->guard, session);
    self->counters->sessions_accepted++;
    return session;
}

//  A session ended: it leaves everything it took part in
static void
s_self_close_session (self_t *self, zg_session_t **session_p)
{
    zg_session_t *session = *session_p;
    zg_gw_topics_session_closed (self->topics, session);
    zg_gw_queues_session_closed (self->queues, session);
    zg_gw_rooms_session_closed (self->rooms, session);
    zg_gw_wsqueue_session_closed (self->wsqueue, session);
    zg_gw_answers_remove_session (self->answers, session);
    zg_session_destroy (session_p);
}

//  ==========================================================================
//  Pipe commands and stats

//  PEER-STATS section json: another actor's counters, from the owner
static void
s_self_command (void *self_p, const char *command, zmsg_t *request)
{
    self_t *self = (self_t *) self_p;
    if (strneq (command, "PEER-STATS")) {
        zsys_error ("zg_gateway: invalid pipe command '%s'", command);
        assert (false);
    }
    char *section = zmsg_popstr (request);
    char *stats = zmsg_popstr (request);
    if (section && stats && self->index == 0)
        zg_gw_threads_peer_stats (self->threads, section, stats);
    if (section && stats)
        zg_gw_routes_peer_stats (self->routes, section, &stats);
    zstr_free (&stats);
    zstr_free (&section);
}

static int
s_self_set_handler (void *self, const char *key, const char *value, char *error, size_t size)
{
    return s_self_set ((self_t *) self, key, value, error, size);
}

static json_object *
s_self_stats_handler (void *self)
{
    return zg_gw_routes_stats (((self_t *) self)->routes);
}

static const zg_actor_handlers_t s_handlers = {
    "zg_gateway", s_self_set_handler, s_self_stats_handler, s_self_command
};

//  --------------------------------------------------------------------------
//  $TERM: drain what is open, or end at once if nothing can be (not
//  listening, or no drain timeout)

static void
s_self_terminate (self_t *self)
{
    if (self->drain)
        return;
    self->drain = zg_gw_drain_new (self->answers, self->settings.drain_timeout, zclock_mono ());
    zg_gw_accept_refuse (self->accept);
    if (self->index == 0)
        zg_gw_threads_terminate (self->threads);
    self->terminated = !self->context || self->settings.drain_timeout == 0;
}

//  --------------------------------------------------------------------------
//  The drains of the pipe and the metrics port (the bridges' are theirs)

static size_t
s_drain_pipe (void *arg, bool *more)
{
    self_t *self = (self_t *) arg;
    if (!(zsock_events (self->pipe) & ZMQ_POLLIN))
        return 0;
    if (zg_actor_handle_pipe (self->pipe, &s_handlers, self))
        s_self_terminate (self);
    //  A setting may have sent on any bridge's zsocks
    zg_gw_wake_mark_all (self->wake);
    *more = true;
    return 1;
}

static size_t
s_drain_mport (void *arg, bool *more)
{
    self_t *self = (self_t *) arg;
    return (size_t) zg_gw_mport_drain (self->mport, zg_gw_routes_metrics, self->routes, more);
}

//  Handle what the marked zsocks hold, a batch at most; if more is waiting,
//  make the next lws pass return at once
static void
s_self_drain (self_t *self)
{
    if (zg_gw_wake_drain (self->wake, ZG_GATEWAY_BATCH) && self->context)
        lws_cancel_service (self->context);
}

//  ==========================================================================
//  HTTP transactions, by connection

//  The table key of a connection
static void
s_wsi_key (struct lws *wsi, char *key, size_t size)
{
    snprintf (key, size, "%p", (void *) wsi);
}

//  The current HTTP transaction of a connection, or NULL
static zg_http_t *
s_self_transaction (self_t *self, struct lws *wsi)
{
    char key [32];
    s_wsi_key (wsi, key, sizeof key);
    return (zg_http_t *) zhashx_lookup (self->transactions, key);
}

//  Finish a connection's HTTP transaction, if any: count it and forget it
static void
s_self_http_finish (self_t *self, struct lws *wsi)
{
    zg_http_t *http = s_self_transaction (self, wsi);
    if (!http)
        return;
    zg_gw_routes_finished (self->routes, http);
    zg_gw_answers_forget (self->answers, http);
    char key [32];
    s_wsi_key (wsi, key, sizeof key);
    zhashx_delete (self->transactions, key);
    zg_http_destroy (&http);
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
    if (lws_hdr_total_length (wsi, WSI_TOKEN_OPTIONS_URI))
        return ZG_HTTP_OPTIONS;
    if (lws_hdr_total_length (wsi, WSI_TOKEN_DELETE_URI))
        return ZG_HTTP_DELETE;
    return ZG_HTTP_OTHER;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    self_t *self = (self_t *) lws_context_user (lws_get_context (wsi));
    s_pss_t *pss = (s_pss_t *) user;
    char key [32];                  //  The connection's, for our tables
    //  Any callback but a write may send on a zsock (a request, a close),
    //  which can leave it readable without waking its ZMQ_FD; writes only
    //  write to connections, so a pass of nothing but writes needs no drain
    if (reason != LWS_CALLBACK_SERVER_WRITEABLE)
        zg_gw_wake_mark_all (self->wake);
    switch (reason) {
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            //  Draining: a new connection is closed at once
            return self->drain? -1: 0;

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
            char path [1024] = "";
            lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI);
            if (strneq (path, "/ws") && !zg_gw_wsqueue_path (path))
                return s_refuse_upgrade (wsi, ZG_ERR_NOT_FOUND, "Not Found");
            //  The seed's endpoints know no tokens: not with gateway security
            if (strneq (path, "/ws") && zg_gw_guard_enabled (self->guard))
                return s_refuse_upgrade (wsi, ZG_ERR_FORBIDDEN, "wsqueue endpoints need gateway security off");
            char address [ZG_GW_ADDRESS_SIZE] = "";
            lws_get_peer_simple (wsi, address, sizeof address);
            int refusal = zg_gw_threads_admit (self->threads, address, self->settings.max_sessions,
                                               self->settings.max_sessions_per_address, false);
            if (refusal == ZG_ERR_UNAVAILABLE) {
                self->counters->sessions_rejected++;
                return s_refuse_upgrade (wsi, ZG_ERR_UNAVAILABLE, "too many sessions");
            }
            const char *message = NULL;
            int status = zg_gw_guard_upgrade (self->guard, wsi, &message);
            if (status) {
                self->counters->sessions_rejected++;
                return s_refuse_upgrade (wsi, status, message);
            }
            //  Counted now, in the step that checks: the client may open its
            //  next session on another thread as soon as it reads the 101,
            //  which lws writes before LWS_CALLBACK_ESTABLISHED
            refusal = zg_gw_threads_admit (self->threads, address, self->settings.max_sessions,
                                           self->settings.max_sessions_per_address, true);
            if (refusal) {
                self->counters->sessions_rejected++;
                return s_refuse_upgrade (wsi, refusal, refusal == ZG_ERR_TOO_MANY?
                                         "too many sessions from this address": "too many sessions");
            }
            s_wsi_key (wsi, key, sizeof key);
            zhashx_update (self->admitted, key, strdup (address));
            return 0;
        }
        case LWS_CALLBACK_ESTABLISHED:
            s_self_http_finish (self, wsi);
            pss->session = s_self_open_session (self, wsi);
            char uri [1024] = "";
            if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0 && strneq (uri, "/ws"))
                zg_gw_wsqueue_session_opened (self->wsqueue, pss->session, uri);
            s_wsi_key (wsi, key, sizeof key);
            //  Every upgrade passed LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, which counted it
            assert (zhashx_lookup (self->admitted, key));
            snprintf (pss->address, sizeof pss->address, "%s", (char *) zhashx_lookup (self->admitted, key));
            zhashx_delete (self->admitted, key);
            return 0;

        case LWS_CALLBACK_RECEIVE: {
            zg_session_t *session = pss->session;
            if (!session || session->closing)
                return 0;
            bool complete = false;
            if (zg_session_receive (session, in, len, lws_remaining_packet_payload (wsi),
                                    lws_is_final_fragment (wsi), (size_t) self->settings.max_frame_size,
                                    (size_t) self->settings.max_message_size, &complete)) {
                self->counters->disconnects_limit++;
                lws_close_reason (wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *) "message too large", 17);
                return -1;
            }
            if (complete) {
                size_t size = 0;
                const byte *message = zg_session_message (session, in, len, &size);
                if (session->wsqueue)
                    zg_gw_wsqueue_message (self->wsqueue, session, message, size);
                else
                    zg_gw_routes_message (self->routes, session, message, size, lws_frame_is_binary (wsi));
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
            if (pss->session) {
                s_self_close_session (self, &pss->session);
                zg_gw_threads_closed (self->threads, pss->address);
            }
            return 0;

        case LWS_CALLBACK_HTTP: {
            s_self_http_finish (self, wsi);
            zg_http_t *http = zg_http_new (wsi, zg_gw_answers_new_id (self->answers), s_method (wsi),
                                           (const char *) in);
            s_wsi_key (wsi, key, sizeof key);
            zhashx_insert (self->transactions, key, http);
            zg_gw_guard_http_headers (self->guard, http);
            //  lws reads a POST body only by its Content-Length (not chunked):
            //  without one, say so and close, as the body cannot be skipped
            if (http->method == ZG_HTTP_POST && !lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
                http->close_after = true;
                http->endpoint = "length_required";
                zg_http_reply_message (http, ZG_ERR_LENGTH_REQUIRED, "Length Required");
            }
            else
            if (http->method != ZG_HTTP_POST)
                zg_gw_routes_http (self->routes, http);
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
                zg_gw_routes_http (self->routes, http);
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

        case LWS_CALLBACK_WSI_DESTROY: {
            //  An upgrade counted that never became a session
            s_wsi_key (wsi, key, sizeof key);
            const char *address = (const char *) zhashx_lookup (self->admitted, key);
            if (address) {
                zg_gw_threads_closed (self->threads, address);
                zhashx_delete (self->admitted, key);
            }
            return lws_callback_http_dummy (wsi, reason, user, in, len);
        }

        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

//  --------------------------------------------------------------------------
//  The actor

void
zg_gateway (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (zg_gw_threads_t *) args);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        if (self->context) {
            if (lws_service (self->context, 0) < 0)
                break;
            zg_gw_accept_adopt_handed (self->accept);
        }
        else {
            //  Not listening yet: only the pipe matters
            zmq_pollitem_t items [] = { { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 } };
            if (zg_actor_poll (items, 1, -1) == -1)
                break;
            zg_gw_wake_mark (self->wake, S_PIPE);
        }
        //  Each zsock is drained until it is not readable, and only a
        //  wake-up of its ZMQ_FD or a send on it (in a callback or the
        //  tick) can change that: a pass that only wrote to sessions skips
        //  the drain and its ZMQ_EVENTS queries
        //  The gauges (sessions, subscriptions...) change only with a
        //  callback or a drain, which mark the wake-up sources
        if (zg_gw_wake_pending (self->wake)) {
            s_self_drain (self);
            zg_gw_routes_gauges (self->routes);
        }
        if (self->drain && zg_gw_drain_done (self->drain, zhashx_size (self->transactions), zclock_mono ()))
            self->terminated = true;
    }
    s_self_destroy (&self);
    //  OpenSSL keeps per-thread state (its error queue, which a refused token
    //  or certificate fills) that only this call frees in a thread it did not
    //  create
    OPENSSL_thread_stop ();
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

//  The test with threads gateway threads (the session goes to the last)
static void
s_test_gateway (const char *threads, bool verbose)
{
    zactor_t *topics = zg_topics_new (NULL, NULL);
    char error [256];
    //  Endpoints of their own each time: libzmq frees an inproc name only
    //  once its reaper has closed the socket, after zactor_destroy returns
    char subscribers [64], publishers [64];
    snprintf (subscribers, sizeof subscribers, "inproc://zg-gateway-test-sub-%s", threads);
    snprintf (publishers, sizeof publishers, "inproc://zg-gateway-test-pub-%s", threads);
    assert (zg_actor_set (topics, "subscribers", subscribers, error, sizeof error) == 0);
    assert (zg_actor_set (topics, "publishers", publishers, error, sizeof error) == 0);

    zactor_t *gateway = zactor_new (zg_gateway, NULL);
    assert (zg_actor_set (gateway, "threads", "-1", error, sizeof error) == -1);
    assert (zg_actor_set (gateway, "threads", threads, error, sizeof error) == 0);
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
    //  An interface that is not an address of this host is refused before lws sees it
    assert (zg_actor_set (gateway, "interface", "localhost", error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "http-port", port_text, error, sizeof error) == -1);
    assert (strstr (error, "not an IPv4 or IPv6 address"));
    assert (zg_actor_set (gateway, "interface", "127.0.0.1", error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "http-port", port_text, error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "http-port", port_text, error, sizeof error) == -1);
    assert (strstr (error, "already listening"));
    assert (zg_actor_set (gateway, "threads", threads, error, sizeof error) == -1);
    assert (zg_actor_set (gateway, "topics-subscribers", subscribers, error, sizeof error) == 0);
    assert (zg_actor_set (gateway, "topics-publishers", publishers, error, sizeof error) == 0);

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
    //  A method lws does not know gets JSON too, not lws's HTML 403
    fd = s_test_connect (port);
    const char *unknown = "BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert (send (fd, unknown, strlen (unknown), 0) == (ssize_t) strlen (unknown));
    s_test_read_until (fd, buffer, sizeof buffer, "}");
    assert (strstr (buffer, "HTTP/1.1 405") && strstr (buffer, "{\"message\":\"Method Not Allowed\"}"));
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
}

void
zg_gateway_test (bool verbose)
{
    printf (" * zg_gateway: ");
    //  @selftest
    s_test_gateway ("1", verbose);
    //  The session in the second thread, counted in the first's stats
    s_test_gateway ("2", verbose);
    //  @end
    printf ("OK\n");
}
