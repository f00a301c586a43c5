/*  =========================================================================
    zg_bench_ws - WebSocket load generator for zgate's benchmarks: a minimal
    RFC 6455 client on non-blocking TCP sockets and one epoll loop, so that
    reading N sessions costs as little as it can

        zg_bench_ws topics --url ws://127.0.0.1:PORT/ws[,ws://...] --endpoint PUBLISHERS
                           --clients N --size B --count N [--rate R] [--ahead N]
            N sessions (over the URLs in turn) subscribe to "bench.*"; a native PUB (another thread)
            publishes through zgate; delivered msgs/s and, paced, latency;
            with --ahead, lossless: the publisher at most N messages ahead
            of the slowest session, and the run fails if one misses one
        zg_bench_ws idle --url ws://127.0.0.1:PORT/ws --clients N --server-pid PID
            N sessions each subscribe to one topic and stay idle: zgate's
            RSS growth per session

    With ZG_BENCH_TOKEN in the environment, each upgrade carries it as
    "Authorization: Bearer" (a gateway with security on). --io-threads N
    gives the native publisher's libzmq context N I/O threads (1).

    Prints one RESULT line (bench_common.h). Sessions use JSON text frames,
    docs/PROTOCOL.md section 4.1. Each session handshakes once with a fixed
    key; then a read fills one large buffer and a frame parser walks it in
    place: server frames are unmasked, and a message's JSON is matched
    against the exact bytes zgate writes, so only the payload's length,
    sequence number (and, paced, send time) are read. Every measured
    message is checked: its payload is the published size, its sequence
    number is above the session's previous one (gaps are messages zgate
    dropped at its slow-client limit, reported as seq_gaps).
    =========================================================================
*/

//  memmem and strcasestr
#define _GNU_SOURCE
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

//  WebSocket handshakes in progress at once
#define BENCH_WS_CONNECTING 64
//  Bytes one read takes from a socket at most
#define BENCH_WS_READ (1024 * 1024)
//  Largest frame (or handshake response) kept across reads; anything zgate
//  sends in these scenarios is far smaller, a larger one fails the run
#define BENCH_WS_MAX_FRAME 16384
//  Events taken from epoll at once
#define BENCH_WS_EVENTS 256
//  Tick that lets the loop check its deadlines, ms
#define BENCH_WS_TICK 20
//  Pause after the last idle session subscribed, before reading RSS, ms
#define BENCH_WS_SETTLE 500
//  The handshake key and the accept value RFC 6455 derives from it (its own
//  example, section 1.3)
#define BENCH_WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define BENCH_WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

//  The exact start of a measured message and of a probe as zgate writes them
//  (zg_gw_topics.c s_message_frame); other texts take the generic path
#define BENCH_WS_DATA_PREFIX "{\"op\":\"message\",\"topic\":\"" BENCH_TOPIC_DATA "\",\"data\":\""
#define BENCH_WS_WARM_PREFIX "{\"op\":\"message\",\"topic\":\"" BENCH_TOPIC_WARM "\","
//  A measured message of a topic that remembers (topics/history): its seq
//  and epoch come between the topic and the data
#define BENCH_WS_HISTORY_PREFIX "{\"op\":\"message\",\"topic\":\"" BENCH_TOPIC_DATA "\",\"seq\":"
#define BENCH_WS_DATA_KEY ",\"data\":\""

typedef enum {
    S_CONNECTING,                   //  TCP connect in progress
    S_HANDSHAKE,                    //  Upgrade request sent, awaiting 101
    S_OPEN                          //  Frames flow
} s_state_t;

//  One WebSocket session
typedef struct {
    int fd;                         //  Its socket
    s_state_t state;                //  Where it is
    bool subscribed;                //  Its subscribe's ok came back
    bool warm;                      //  A probe arrived
    int index;                      //  Its place in the run's sessions and window
    int64_t last_seq;               //  Sequence number of the last one, -1 before
    char *rest;                     //  Bytes of an incomplete frame, NULL until needed
    size_t rest_size;               //  Bytes in rest
} s_session_t;

//  The run
//  One URL of --url: sessions spread over several zgate nodes, in turn
#define BENCH_WS_MAX_URLS 8
typedef struct {
    struct sockaddr_storage address;
    socklen_t address_size;         //  Bytes of address
    char host [64];                 //  Host of the URL
    char path [256];                //  Path of the URL
} s_server_t;

typedef struct {
    bench_options_t *options;       //  The run's options
    bool idle;                      //  idle mode: no publisher
    int epoll;                      //  The epoll instance of every session
    s_server_t servers [BENCH_WS_MAX_URLS];  //  Session n connects to servers [n % server_count]
    int server_count;
    s_session_t *sessions;          //  options->clients sessions
    char *buffer;                   //  Where every read lands, after a session's rest
    int64_t started;                //  Connections started
    int64_t connecting;             //  Connects and handshakes in progress
    int64_t subscribed;             //  Sessions whose subscribe was answered
    int64_t done;                   //  Sessions that received all messages
    int64_t delivered;              //  Measured messages, all sessions
    int64_t gaps;                   //  Sequence numbers skipped, all sessions
    int64_t last_ns;                //  When the last measured message arrived
    bench_window_t window;          //  Measured messages per session, read by a lossless publisher
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
//  Send one masked client frame; small frames on a fresh socket go at once

static void
s_session_send (s_session_t *session, int opcode, const char *payload, size_t size)
{
    //  A fixed mask: RFC 6455 wants one, nothing here needs it to be random
    static const unsigned char mask [4] = { 0x12, 0x34, 0x56, 0x78 };
    unsigned char frame [256];
    if (size > 125)
        bench_fail ("client frame of %zu bytes", size);
    frame [0] = (unsigned char) (0x80 | opcode);
    frame [1] = (unsigned char) (0x80 | size);
    memcpy (frame + 2, mask, 4);
    for (size_t index = 0; index < size; index++)
        frame [6 + index] = (unsigned char) payload [index] ^ mask [index % 4];
    if (send (session->fd, frame, size + 6, MSG_NOSIGNAL) != (ssize_t) (size + 6))
        bench_fail ("cannot send a frame: %s", strerror (errno));
}

//  --------------------------------------------------------------------------
//  The payload of a measured message: check it, count it, take its latency

static void
s_session_data (s_self_t *self, s_session_t *session, const char *data, size_t size)
{
    if ((int64_t) size != self->options->size)
        bench_fail ("payload of %zu bytes, %lld published", size, (long long) self->options->size);
    int64_t seq = bench_seq_read (data, size);
    if (seq >= 0) {
        if (seq <= session->last_seq || seq >= self->options->count)
            bench_fail ("sequence %lld after %lld (count %lld)", (long long) seq, (long long) session->last_seq,
                        (long long) self->options->count);
        self->gaps += seq - session->last_seq - 1;
        session->last_seq = seq;
    }
    int64_t now = bench_now_ns ();
    if (self->options->rate) {
        int64_t sent_ns = bench_stamp_read (data, size);
        if (sent_ns)
            bench_samples_add (&self->latencies, now - sent_ns);
    }
    self->delivered++;
    self->last_ns = now;
    if (bench_window_count (&self->window, session->index) == self->options->count)
        self->done++;
}

static void
s_session_warm (s_self_t *self, s_session_t *session)
{
    if (!session->warm) {
        session->warm = true;
        atomic_fetch_add (&self->warmed, 1);
    }
}

//  Any other text message: answers to our subscribe, and messages in a
//  layout the fast path does not know
static void
s_session_other (s_self_t *self, s_session_t *session, const char *payload, size_t size)
{
    char text [BENCH_WS_MAX_FRAME + 1];
    if (size > BENCH_WS_MAX_FRAME)
        bench_fail ("text message of %zu bytes", size);
    memcpy (text, payload, size);
    text [size] = 0;
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
    if (s_starts_with (topic, BENCH_TOPIC_WARM "\""))
        s_session_warm (self, session);
    else
    if (s_starts_with (topic, BENCH_TOPIC_DATA "\"")) {
        const char *data = s_json_string (text, "data");
        const char *end = data? strchr (data, '"'): NULL;
        if (!end)
            bench_fail ("message without a string payload: %.200s", text);
        s_session_data (self, session, payload + (data - text), (size_t) (end - data));
    }
}

//  One complete text message
static void
s_session_text (s_self_t *self, s_session_t *session, const char *payload, size_t size)
{
    size_t prefix = sizeof BENCH_WS_DATA_PREFIX - 1;
    const char *data = NULL;
    //  A remembered topic's message: its seq's digits, then the data key
    //  (the first one, carrying the epoch too, takes the generic path), so
    //  that it costs this client what a message without seq costs
    if (size >= sizeof BENCH_WS_HISTORY_PREFIX + 2 && session->subscribed
    &&  !memcmp (payload, BENCH_WS_HISTORY_PREFIX, sizeof BENCH_WS_HISTORY_PREFIX - 1)) {
        data = payload + sizeof BENCH_WS_HISTORY_PREFIX - 1;
        while (data < payload + size && *data >= '0' && *data <= '9')
            data++;
        if ((size_t) (payload + size - data) >= sizeof BENCH_WS_DATA_KEY + 1
        &&  !memcmp (data, BENCH_WS_DATA_KEY, sizeof BENCH_WS_DATA_KEY - 1))
            data += sizeof BENCH_WS_DATA_KEY - 1;
        else
            data = NULL;
    }
    if (data && payload [size - 2] == '"' && payload [size - 1] == '}')
        s_session_data (self, session, data, size - (size_t) (data - payload) - 2);
    else
    if (size >= prefix + 2 && !memcmp (payload, BENCH_WS_DATA_PREFIX, prefix)
    &&  payload [size - 2] == '"' && payload [size - 1] == '}' && session->subscribed)
        s_session_data (self, session, payload + prefix, size - prefix - 2);
    else
    if (size >= sizeof BENCH_WS_WARM_PREFIX - 1 && session->subscribed
    &&  !memcmp (payload, BENCH_WS_WARM_PREFIX, sizeof BENCH_WS_WARM_PREFIX - 1))
        s_session_warm (self, session);
    else
        s_session_other (self, session, payload, size);
}

//  --------------------------------------------------------------------------
//  Parse the complete frames in bytes; returns how many bytes they took

static size_t
s_session_frames (s_self_t *self, s_session_t *session, const unsigned char *bytes, size_t size)
{
    size_t offset = 0;
    while (size - offset >= 2) {
        const unsigned char *frame = bytes + offset;
        if (frame [1] & 0x80)
            bench_fail ("zgate sent a masked frame");
        uint64_t length = frame [1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
            if (size - offset < 4)
                break;
            length = (uint64_t) frame [2] << 8 | frame [3];
            header = 4;
        }
        else
        if (length == 127) {
            if (size - offset < 10)
                break;
            length = 0;
            for (int index = 2; index < 10; index++)
                length = length << 8 | frame [index];
            header = 10;
        }
        if (length > BENCH_WS_READ)
            bench_fail ("frame of %llu bytes", (unsigned long long) length);
        if (size - offset - header < length)
            break;
        const char *payload = (const char *) frame + header;
        int opcode = frame [0] & 0x0F;
        if (opcode == 0x1 && (frame [0] & 0x80))
            s_session_text (self, session, payload, (size_t) length);
        else
        if (opcode == 0x9)
            s_session_send (session, 0xA, payload, (size_t) length);
        else
        if (opcode == 0x8)
            bench_fail ("zgate closed a session (%llu bytes of reason)", (unsigned long long) length);
        else
        if (opcode != 0xA)
            bench_fail ("unexpected frame: opcode %d, %s", opcode, frame [0] & 0x80? "final": "fragmented");
        offset += header + (size_t) length;
    }
    return offset;
}

//  --------------------------------------------------------------------------
//  The handshake response in bytes, if complete; returns the bytes it took,
//  0 while it is incomplete

static size_t
s_session_upgraded (s_self_t *self, s_session_t *session, char *bytes, size_t size)
{
    char *end = memmem (bytes, size, "\r\n\r\n", 4);
    if (!end)
        return 0;
    *end = 0;
    if (strncmp (bytes, "HTTP/1.1 101", 12) || !strcasestr (bytes, "Sec-WebSocket-Accept: " BENCH_WS_ACCEPT))
        bench_fail ("handshake refused: %.300s", bytes);
    session->state = S_OPEN;
    self->connecting--;
    char request [128];
    int length = snprintf (request, sizeof request, "{\"op\":\"subscribe\",\"topic\":\"%s\",\"req\":1}",
                           self->idle? "bench.idle": BENCH_TOPIC_PREFIX "*");
    s_session_send (session, 0x1, request, (size_t) length);
    return (size_t) (end + 4 - bytes);
}

//  --------------------------------------------------------------------------
//  Read what a session has: one read into the shared buffer after the
//  session's incomplete frame, then parse in place

static void
s_session_read (s_self_t *self, s_session_t *session)
{
    char *buffer = self->buffer;
    if (session->rest_size)
        memcpy (buffer, session->rest, session->rest_size);
    ssize_t bytes = recv (session->fd, buffer + session->rest_size, BENCH_WS_READ, 0);
    if (bytes == 0)
        bench_fail ("zgate closed a connection");
    if (bytes < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        bench_fail ("read: %s", strerror (errno));
    }
    size_t size = session->rest_size + (size_t) bytes;
    size_t offset = 0;
    if (session->state == S_HANDSHAKE) {
        offset = s_session_upgraded (self, session, buffer, size);
        if (session->state == S_HANDSHAKE)
            offset = 0;
    }
    if (session->state == S_OPEN)
        offset += s_session_frames (self, session, (unsigned char *) buffer + offset, size - offset);
    session->rest_size = size - offset;
    if (session->rest_size > BENCH_WS_MAX_FRAME)
        bench_fail ("a frame or handshake response over %d bytes", BENCH_WS_MAX_FRAME);
    if (session->rest_size) {
        if (!session->rest)
            session->rest = (char *) malloc (BENCH_WS_MAX_FRAME);
        memcpy (session->rest, buffer + offset, session->rest_size);
    }
}

//  The connect completed: send the upgrade request
static void
s_session_connected (s_self_t *self, s_session_t *session)
{
    s_server_t *server = &self->servers [session->index % self->server_count];
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt (session->fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error)
        bench_fail ("connect: %s", strerror (error));
    char request [4096];
    const char *token = getenv ("ZG_BENCH_TOKEN");
    int size = snprintf (request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "%s%.3000s%s"
                         "Sec-WebSocket-Key: " BENCH_WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         server->path, server->host, token? "Authorization: Bearer ": "", token? token: "",
                         token? "\r\n": "");
    if (send (session->fd, request, (size_t) size, MSG_NOSIGNAL) != size)
        bench_fail ("cannot send the handshake: %s", strerror (errno));
    session->state = S_HANDSHAKE;
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = session };
    epoll_ctl (self->epoll, EPOLL_CTL_MOD, session->fd, &event);
}

//  Start connections, at most BENCH_WS_CONNECTING connects and handshakes at once
static void
s_connect_more (s_self_t *self)
{
    while (self->started < self->options->clients && self->connecting < BENCH_WS_CONNECTING) {
        s_session_t *session = &self->sessions [self->started];
        session->index = (int) self->started++;
        session->last_seq = -1;
        s_server_t *server = &self->servers [session->index % self->server_count];
        session->fd = socket (server->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (session->fd < 0)
            bench_fail ("socket: %s", strerror (errno));
        int on = 1;
        setsockopt (session->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        if (connect (session->fd, (struct sockaddr *) &server->address, server->address_size) && errno != EINPROGRESS)
            bench_fail ("connect: %s", strerror (errno));
        session->state = S_CONNECTING;
        struct epoll_event event = { .events = EPOLLOUT, .data.ptr = session };
        if (epoll_ctl (self->epoll, EPOLL_CTL_ADD, session->fd, &event))
            bench_fail ("epoll_ctl: %s", strerror (errno));
        self->connecting++;
    }
}

//  Service until done () (returns true) or deadline_ns (returns false)
static bool
s_service_until (s_self_t *self, bool (*done) (s_self_t *), int64_t deadline_ns)
{
    struct epoll_event events [BENCH_WS_EVENTS];
    while (!done (self)) {
        if (bench_now_ns () > deadline_ns)
            return false;
        s_connect_more (self);
        int ready = epoll_wait (self->epoll, events, BENCH_WS_EVENTS, BENCH_WS_TICK);
        if (ready < 0 && errno != EINTR)
            bench_fail ("epoll_wait: %s", strerror (errno));
        for (int index = 0; index < ready; index++) {
            s_session_t *session = (s_session_t *) events [index].data.ptr;
            if (session->state == S_CONNECTING)
                s_session_connected (self, session);
            else
                s_session_read (self, session);
        }
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
    void *context = bench_context_new (options);
    void *socket = zmq_socket (context, ZMQ_PUB);
    int on = 1;
    zmq_setsockopt (socket, ZMQ_XPUB_NODROP, &on, sizeof on);
    if (zmq_connect (socket, options->endpoint))
        bench_fail ("cannot connect to %s", options->endpoint);
    bench_publish (socket, options, &publisher->self->warmed, (int) options->clients,
                   &publisher->self->start_ns, &publisher->start, &publisher->self->window);
    zmq_close (socket);
    zmq_ctx_term (context);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Resolve each URL's host and port (--url: URLs separated by commas)

static void
s_resolve (s_self_t *self, const char *urls)
{
    for (const char *url = urls; url && self->server_count < BENCH_WS_MAX_URLS; url = strchr (url, ',')) {
        url += *url == ',';
        s_server_t *server = &self->servers [self->server_count++];
        char port [16];
        if (sscanf (url, "ws://%63[^:]:%15[0-9]%255[^,]", server->host, port, server->path) != 3)
            bench_fail ("needs --url ws://HOST:PORT/PATH[,ws://...]");
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *found;
        if (getaddrinfo (server->host, port, &hints, &found))
            bench_fail ("cannot resolve %s", server->host);
        memcpy (&server->address, found->ai_addr, found->ai_addrlen);
        server->address_size = found->ai_addrlen;
        freeaddrinfo (found);
    }
    if (!self->server_count)
        bench_fail ("needs --url ws://HOST:PORT/PATH[,ws://...]");
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
    s_resolve (&self, options.url);
    if (!self.idle && !options.endpoint)
        bench_fail ("topics needs --endpoint PUBLISHERS");
    if (options.clients < 1)
        bench_fail ("needs --clients 1 or more");
    bench_samples_init (&self.latencies, options.rate? (size_t) (options.count * options.clients): 0);
    self.sessions = (s_session_t *) calloc ((size_t) options.clients, sizeof (s_session_t));
    bench_window_init (&self.window, (int) options.clients);
    self.buffer = (char *) malloc (BENCH_WS_MAX_FRAME + BENCH_WS_READ);
    self.epoll = epoll_create1 (EPOLL_CLOEXEC);
    if (!self.sessions || !self.buffer || self.epoll < 0)
        bench_fail ("out of memory or descriptors");

    long rss_before = options.server_pid? bench_rss_kb (options.server_pid): 0;
    int64_t began = bench_now_ns ();
    int64_t deadline = began + options.timeout * 1000000;
    if (!s_service_until (&self, s_all_subscribed, deadline))
        bench_fail ("connecting: timed out with %lld of %lld sessions subscribed", (long long) self.subscribed,
                    (long long) options.clients);
    int64_t connected = bench_now_ns ();

    if (self.idle) {
        bench_mark_t start, end;
        bench_mark (&start, options.server_pid);
        //  Let zgate finish its work for the last sessions before reading its RSS
        s_service_until (&self, s_never, connected + BENCH_WS_SETTLE * 1000000LL);
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
        if (!s_service_until (&self, s_receiving_over, deadline))
            bench_fail ("receiving: timed out after %lld messages", (long long) self.delivered);
        pthread_join (thread, NULL);
        bench_mark_t end;
        bench_mark (&end, options.server_pid);
        bench_check_lossless (&options, self.delivered, options.count * options.clients, self.gaps);
        char extra [160];
        snprintf (extra, sizeof extra, "delivered=%lld expected=%lld seq_gaps=%lld", (long long) self.delivered,
                  (long long) (options.count * options.clients), (long long) self.gaps);
        bench_report (self.delivered, self.last_ns - publisher.start.wall_ns, &publisher.start, &end,
                      options.server_pid, &self.latencies, extra);
    }
    for (int64_t index = 0; index < self.started; index++) {
        close (self.sessions [index].fd);
        free (self.sessions [index].rest);
    }
    close (self.epoll);
    free (self.sessions);
    bench_window_free (&self.window);
    free (self.buffer);
    bench_samples_free (&self.latencies);
    return 0;
}
