/*  =========================================================================
    zg_bench_ws - WebSocket load generator for zgate's benchmarks, on the
    libwebsockets client API (one thread, one lws context, N sessions)

        zg_bench_ws topics --url ws://127.0.0.1:PORT/ws --endpoint PUBLISHERS
                           --clients N --size B --count N [--rate R]
            N sessions subscribe to "bench.*"; a native PUB (another thread)
            publishes through zgate; delivered msgs/s and, paced, latency
        zg_bench_ws idle --url ws://127.0.0.1:PORT/ws --clients N --server-pid PID
            N sessions each subscribe to one topic and stay idle: zgate's
            RSS growth per session

    Prints one RESULT line (bench_common.h). Sessions use JSON text frames,
    docs/PROTOCOL.md section 4.1.
    =========================================================================
*/

#include "bench_common.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  WebSocket handshakes in progress at once
#define BENCH_WS_CONNECTING 64
//  Largest text message reassembled; longer ones are not inspected
#define BENCH_WS_MAX_MESSAGE 4096
//  Tick that lets the service loop check its deadlines, us
#define BENCH_WS_TICK 20000
//  Pause after the last idle session subscribed, before reading RSS, ms
#define BENCH_WS_SETTLE 500

//  One WebSocket session (lws per-session user data)
typedef struct {
    bool subscribe_sent;            //  Our subscribe request went out
    bool subscribed;                //  Its ok came back
    bool warm;                      //  A probe arrived
    int64_t received;               //  Measured messages
    size_t length;                  //  Bytes of the message being reassembled
    char message [BENCH_WS_MAX_MESSAGE + 1];    //  The message, NUL-terminated
} s_session_t;

//  The run, reached from callbacks through the lws context's user pointer
typedef struct {
    bench_options_t *options;       //  The run's options
    bool idle;                      //  idle mode: no publisher
    struct lws_context *context;    //  The one lws context
    lws_sorted_usec_list_t tick;    //  Wakes lws_service up every tick
    char address [64];              //  Host of the URL
    char path [256];                //  Path of the URL
    int port;                       //  Port of the URL
    int64_t started;                //  Connections started
    int64_t connecting;             //  Handshakes in progress
    int64_t failed;                 //  Connections that failed or closed
    int64_t subscribed;             //  Sessions whose subscribe was answered
    int64_t done;                   //  Sessions that received all messages
    int64_t delivered;              //  Measured messages, all sessions
    int64_t last_ns;                //  When the last measured message arrived
    atomic_int warmed;              //  Sessions that received a probe
    atomic_llong start_ns;          //  When publishing began, 0 before
    bench_samples_t latencies;      //  One-way latencies when paced
} s_self_t;

//  --------------------------------------------------------------------------
//  The value of a string field "key": "value" in a JSON text, or NULL

static const char *
s_json_string (const char *text, const char *key)
{
    char quoted [64];
    snprintf (quoted, sizeof quoted, "\"%s\"", key);
    const char *cursor = strstr (text, quoted);
    if (!cursor)
        return NULL;
    cursor += strlen (quoted);
    while (*cursor == ' ' || *cursor == ':')
        cursor++;
    return *cursor == '"'? cursor + 1: NULL;
}

static bool
s_starts_with (const char *text, const char *prefix)
{
    return text && !strncmp (text, prefix, strlen (prefix));
}

//  --------------------------------------------------------------------------
//  One complete text message for a session

static void
s_session_message (s_self_t *self, s_session_t *session)
{
    const char *text = session->message;
    const char *op = s_json_string (text, "op");
    if (!session->subscribed) {
        if (s_starts_with (op, "error\""))
            bench_fail ("subscribe refused: %s", text);
        if (s_starts_with (op, "ok\"")) {
            session->subscribed = true;
            self->subscribed++;
        }
        return;
    }
    if (!s_starts_with (op, "message\""))
        return;
    const char *topic = s_json_string (text, "topic");
    if (s_starts_with (topic, BENCH_TOPIC_WARM "\"")) {
        if (!session->warm) {
            session->warm = true;
            atomic_fetch_add (&self->warmed, 1);
        }
        return;
    }
    if (!s_starts_with (topic, BENCH_TOPIC_DATA "\""))
        return;
    int64_t now = bench_now_ns ();
    if (self->options->rate) {
        const char *data = s_json_string (text, "data");
        int64_t sent_ns = data? bench_stamp_read (data, strlen (data)): 0;
        if (sent_ns)
            bench_samples_add (&self->latencies, now - sent_ns);
    }
    self->delivered++;
    self->last_ns = now;
    if (++session->received == self->options->count)
        self->done++;
}

//  --------------------------------------------------------------------------

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *context = lws_get_context (wsi);
    s_self_t *self = context? (s_self_t *) lws_context_user (context): NULL;
    s_session_t *session = (s_session_t *) user;
    switch (reason) {
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            self->connecting--;
            self->failed++;
            lwsl_err ("connection failed: %s\n", in? (char *) in: "?");
            break;
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self->connecting--;
            lws_callback_on_writable (wsi);
            break;
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            if (!session->subscribe_sent) {
                unsigned char buffer [LWS_PRE + 128];
                int size = snprintf ((char *) buffer + LWS_PRE, 128, "{\"op\":\"subscribe\",\"topic\":\"%s\",\"req\":1}",
                                     self->idle? "bench.idle": BENCH_TOPIC_PREFIX "*");
                if (lws_write (wsi, buffer + LWS_PRE, (size_t) size, LWS_WRITE_TEXT) < size)
                    return -1;
                session->subscribe_sent = true;
            }
            break;
        case LWS_CALLBACK_CLIENT_RECEIVE:
            if (session->length + len <= BENCH_WS_MAX_MESSAGE) {
                memcpy (session->message + session->length, in, len);
                session->length += len;
            }
            if (lws_is_final_fragment (wsi) && !lws_remaining_packet_payload (wsi)) {
                session->message [session->length] = 0;
                s_session_message (self, session);
                session->length = 0;
            }
            break;
        case LWS_CALLBACK_CLIENT_CLOSED:
            self->failed++;
            break;
        default:
            break;
    }
    return 0;
}

static const struct lws_protocols s_protocols [] = {
    { "bench", s_callback, sizeof (s_session_t), BENCH_WS_MAX_MESSAGE, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

//  --------------------------------------------------------------------------
//  Wake lws_service up regularly so that the loops see their deadlines

static void
s_tick (lws_sorted_usec_list_t *sul)
{
    s_self_t *self = lws_container_of (sul, s_self_t, tick);
    lws_sul_schedule (self->context, 0, &self->tick, s_tick, BENCH_WS_TICK);
}

//  Start connections, at most BENCH_WS_CONNECTING handshakes at once
static void
s_connect_more (s_self_t *self)
{
    while (self->started < self->options->clients && self->connecting < BENCH_WS_CONNECTING) {
        struct lws_client_connect_info info;
        memset (&info, 0, sizeof info);
        info.context = self->context;
        info.address = self->address;
        info.port = self->port;
        info.path = self->path;
        info.host = self->address;
        info.origin = self->address;
        info.local_protocol_name = s_protocols [0].name;
        info.ietf_version_or_minus_one = -1;
        self->started++;
        self->connecting++;
        if (!lws_client_connect_via_info (&info)) {
            self->connecting--;
            self->failed++;
        }
    }
}

//  Service until done () (returns true) or deadline_ns (returns false); fails
//  if a session fails
static bool
s_service_until (s_self_t *self, bool (*done) (s_self_t *), int64_t deadline_ns, const char *what)
{
    while (!done (self)) {
        if (self->failed)
            bench_fail ("%s: %lld session(s) failed or closed", what, (long long) self->failed);
        if (bench_now_ns () > deadline_ns)
            return false;
        s_connect_more (self);
        lws_service (self->context, 0);
    }
    return true;
}

static bool
s_all_subscribed (s_self_t *self)
{
    return self->subscribed == self->options->clients;
}

static bool
s_never (s_self_t *self)
{
    (void) self;
    return false;
}

//  Receiving is over: every session got everything, or nothing came for --idle
static bool
s_receiving_over (s_self_t *self)
{
    int64_t start = atomic_load (&self->start_ns);
    int64_t last = self->last_ns > start? self->last_ns: start;
    return self->done == self->options->clients
        || (start && bench_now_ns () - last > self->options->idle * 1000000);
}

//  --------------------------------------------------------------------------
//  The native publisher thread

typedef struct {
    s_self_t *self;                 //  The run
    bench_mark_t start;             //  Mark taken when publishing began
} s_publisher_t;

static void *
s_publisher (void *arg)
{
    s_publisher_t *publisher = (s_publisher_t *) arg;
    bench_options_t *options = publisher->self->options;
    void *context = zmq_ctx_new ();
    void *socket = zmq_socket (context, ZMQ_PUB);
    int on = 1;
    zmq_setsockopt (socket, ZMQ_XPUB_NODROP, &on, sizeof on);
    if (zmq_connect (socket, options->endpoint))
        bench_fail ("cannot connect to %s", options->endpoint);
    bench_publish (socket, options, &publisher->self->warmed, (int) options->clients,
                   &publisher->self->start_ns, &publisher->start);
    zmq_close (socket);
    zmq_ctx_term (context);
    return NULL;
}

//  --------------------------------------------------------------------------

int
main (int argc, char **argv)
{
    bench_options_t options;
    if (bench_options_parse (&options, argc, argv))
        return 2;
    s_self_t self = { .options = &options };
    self.idle = !strcmp (options.mode, "idle");
    if (!self.idle && strcmp (options.mode, "topics"))
        bench_fail ("unknown mode '%s'", options.mode);
    if (!options.url || sscanf (options.url, "ws://%63[^:]:%d%255s", self.address, &self.port, self.path) != 3)
        bench_fail ("needs --url ws://HOST:PORT/PATH");
    if (!self.idle && !options.endpoint)
        bench_fail ("topics needs --endpoint PUBLISHERS");
    bench_samples_init (&self.latencies, options.rate? (size_t) (options.count * options.clients): 0);

    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_protocols;
    info.user = &self;
    self.context = lws_create_context (&info);
    if (!self.context)
        bench_fail ("cannot create the lws context");
    lws_sul_schedule (self.context, 0, &self.tick, s_tick, BENCH_WS_TICK);

    long rss_before = options.server_pid? bench_rss_kb (options.server_pid): 0;
    int64_t began = bench_now_ns ();
    int64_t deadline = began + options.timeout * 1000000;
    if (!s_service_until (&self, s_all_subscribed, deadline, "connecting"))
        bench_fail ("connecting: timed out with %lld of %lld sessions subscribed", (long long) self.subscribed,
                    (long long) options.clients);
    int64_t connected = bench_now_ns ();

    if (self.idle) {
        bench_mark_t start, end;
        bench_mark (&start, options.server_pid);
        //  Let zgate finish its work for the last sessions before reading its RSS
        s_service_until (&self, s_never, connected + BENCH_WS_SETTLE * 1000000LL, "settling");
        bench_mark (&end, options.server_pid);
        long rss_after = bench_rss_kb (options.server_pid);
        char extra [160];
        snprintf (extra, sizeof extra, "per_session_bytes=%.0f rss_before_kb=%ld rss_after_kb=%ld",
                  (double) (rss_after - rss_before) * 1024 / (double) options.clients, rss_before, rss_after);
        bench_report (options.clients, connected - began, &start, &end, options.server_pid, NULL, extra);
    }
    else {
        s_publisher_t publisher = { .self = &self };
        pthread_t thread;
        pthread_create (&thread, NULL, s_publisher, &publisher);
        if (!s_service_until (&self, s_receiving_over, deadline, "receiving"))
            bench_fail ("receiving: timed out after %lld messages", (long long) self.delivered);
        pthread_join (thread, NULL);
        bench_mark_t end;
        bench_mark (&end, options.server_pid);
        char extra [128];
        snprintf (extra, sizeof extra, "delivered=%lld expected=%lld", (long long) self.delivered,
                  (long long) (options.count * options.clients));
        bench_report (self.delivered, self.last_ns - publisher.start.wall_ns, &publisher.start, &end,
                      options.server_pid, &self.latencies, extra);
    }
    lws_sul_cancel (&self.tick);
    lws_context_destroy (self.context);
    bench_samples_free (&self.latencies);
    return 0;
}
