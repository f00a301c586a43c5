/*  =========================================================================
    zg_bench - ZeroMQ load generator for zgate's benchmarks

    Each mode runs one bounded measurement and prints one RESULT line that
    bench/run.sh parses (bench_common.h). Without --endpoint a mode measures
    raw libzmq between sockets of this process over tcp loopback, the ceiling;
    with zgate's endpoints it measures the same traffic through zgate.

        zg_bench port                                  a free loopback port
        zg_bench topics [--endpoint PUB --endpoint2 SUB[,SUB...]] --clients N
                        --size B --count N [--rate R]   PUB -> N SUB fan-out
                        [--ahead N]                     lossless: at most N messages
                                                        ahead of the slowest SUB
                                                        (subscriber i connects to
                                                        the i-th SUB endpoint, in turn:
                                                        other nodes of a cluster)
                        [--server-cert F --client-cert F]
                                                        over CURVE (czmq
                                                        certificates; a raw
                                                        run binds the server:
                                                        its F has the secret)
        zg_bench reqrep --window W --size B --count N   raw DEALER <-> ROUTER
        zg_bench proxy --endpoint PUBLISHERS --endpoint2 SUBSCRIBERS
                        [--timeout MS] [--sndhwm N]     raw zmq_proxy broker
                        [--server-cert F]
        zg_bench queues --endpoint PRODUCERS --endpoint2 WORKERS[,WORKERS...] --clients W
                        --prefetch P --window N --count N [--rate R]
                        [--ok 1] [--protocol 1|2]       tasks with replies; latency
                        [--producer-protocol 1|2]
                                                        to the reply, or with --ok 1
                                                        to the OK (a req per task);
                                                        workers and the producer
                                                        speak version 2
                                                        (DELIVERS/ACKS, SENDS/
                                                        REPLIES batches) unless
                                                        --protocol 1 (or
                                                        --producer-protocol 1
                                                        for the producer alone)
        zg_bench rooms --endpoint CLIENTS [--endpoint2 CLIENTS[,CLIENTS...]]
                        --clients M --count ROUNDS      lockstep rounds (members'
                        [--protocol 1|2]                connections take the
                                                        endpoints in turn: other
                                                        nodes of a cluster; 1: one
                                                        DELIVER per member)
        every mode: [--io-threads N]                    libzmq I/O threads (1)
    =========================================================================
*/

#include "bench_common.h"
#include "bench_frames.h"
#include "bench_rooms.h"
#include "zg_bench_queues.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>


//  --------------------------------------------------------------------------
//  Print a loopback TCP port that is free now

static void
s_mode_port (bench_options_t *options)
{
    (void) options;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd == -1 || bind (fd, (struct sockaddr *) &address, sizeof address)
    ||  getsockname (fd, (struct sockaddr *) &address, &length))
        bench_fail ("cannot find a free port");
    printf ("%d\n", ntohs (address.sin_port));
    close (fd);
}

//  --------------------------------------------------------------------------
//  Bind a socket to an ephemeral loopback port and return the endpoint

static void
s_bind_ephemeral (void *socket, char *endpoint, size_t size)
{
    if (zmq_bind (socket, "tcp://127.0.0.1:*"))
        bench_fail ("cannot bind: %s", zmq_strerror (zmq_errno ()));
    zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, endpoint, &size);
}

//  --------------------------------------------------------------------------
//  CURVE, when the options name certificates (czmq's format, as zgate-keygen
//  writes them): a client of zgate or of the raw server, and the raw server
//  itself (the socket that binds: the generator's PUB, or the proxy's)

//  Set a CURVE key option from the line 'name = "Z85"' of a certificate file
static void
s_curve_key (void *socket, int option, const char *path, const char *name)
{
    FILE *file = fopen (path, "r");
    if (!file)
        bench_fail ("cannot read the certificate %s", path);
    char line [256], key [64], format [64];
    snprintf (format, sizeof format, " %s = \"%%40[^\"]\"", name);
    bool found = false;
    while (!found && fgets (line, sizeof line, file))
        found = sscanf (line, format, key) == 1;
    fclose (file);
    if (!found || zmq_setsockopt (socket, option, key, strlen (key)))
        bench_fail ("%s: no valid %s", path, name);
}

static void
s_curve_client (void *socket, bench_options_t *options)
{
    if (!options->server_cert)
        return;
    if (!options->client_cert)
        bench_fail ("a CURVE client needs --client-cert (a certificate with its secret key)");
    s_curve_key (socket, ZMQ_CURVE_SERVERKEY, options->server_cert, "public-key");
    s_curve_key (socket, ZMQ_CURVE_PUBLICKEY, options->client_cert, "public-key");
    s_curve_key (socket, ZMQ_CURVE_SECRETKEY, options->client_cert, "secret-key");
}

static void
s_curve_server (void *socket, bench_options_t *options)
{
    if (!options->server_cert)
        return;
    int on = 1;
    zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &on, sizeof on);
    s_curve_key (socket, ZMQ_CURVE_SECRETKEY, options->server_cert, "secret-key");
}

//  ==========================================================================
//  topics: one PUB, N SUBs drained by one receiver thread

//  The receiver thread owns the SUB sockets once it starts; the publisher
//  reads its results only after joining it
typedef struct {
    bench_options_t *options;       //  The run's options
    void **subscribers;             //  SUB sockets, one per subscriber
    bool *warm;                     //  Subscriber has received a probe
    bench_window_t window;          //  Measured messages per subscriber, read by a lossless publisher
    int64_t *last_seq;              //  Sequence number of each subscriber's last message, -1 before
    int64_t gaps;                   //  Sequence numbers skipped, all subscribers
    atomic_int warmed;              //  Subscribers that have received a probe
    atomic_llong start_ns;          //  When measured sending began, 0 before
    int64_t last_ns;                //  When the last measured message arrived
    int64_t delivered;              //  Measured messages, all subscribers
    bench_samples_t latencies;      //  One-way latencies when paced
} s_topics_t;

//  Drain one subscriber; returns true when it received all it expects
static bool
s_topics_drain (s_topics_t *self, int index, char *payload)
{
    bench_options_t *options = self->options;
    void *socket = self->subscribers [index];
    char topic [32];
    int64_t now = 0;
    for (int batch = 0; batch < BENCH_BATCH; batch++) {
        int topic_size = zmq_recv (socket, topic, sizeof topic, ZMQ_DONTWAIT);
        if (topic_size == -1)
            break;
        int size = zmq_recv (socket, payload, (size_t) options->size, 0);
        now = bench_now_ns ();
        if (topic_size == (int) strlen (BENCH_TOPIC_WARM) && !memcmp (topic, BENCH_TOPIC_WARM, (size_t) topic_size)) {
            if (!self->warm [index]) {
                self->warm [index] = true;
                atomic_fetch_add (&self->warmed, 1);
            }
            continue;
        }
        int64_t sent_ns = options->rate && size > 0? bench_stamp_read (payload, (size_t) size): 0;
        if (sent_ns)
            bench_samples_add (&self->latencies, now - sent_ns);
        //  Order and loss: the sequence number rises by one per message
        int64_t seq = size > 0? bench_seq_read (payload, (size_t) size): -1;
        if (seq >= 0) {
            if (seq <= self->last_seq [index] || seq >= options->count)
                bench_fail ("subscriber %d: sequence %lld after %lld", index, (long long) seq,
                            (long long) self->last_seq [index]);
            self->gaps += seq - self->last_seq [index] - 1;
            self->last_seq [index] = seq;
        }
        self->delivered++;
        self->last_ns = now;
        if (bench_window_count (&self->window, index) == options->count)
            return true;
    }
    return false;
}

static void *
s_topics_receiver (void *arg)
{
    s_topics_t *self = (s_topics_t *) arg;
    bench_options_t *options = self->options;
    int clients = (int) options->clients;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc ((size_t) clients, sizeof (zmq_pollitem_t));
    char *payload = (char *) malloc ((size_t) options->size);
    for (int index = 0; index < clients; index++)
        items [index] = (zmq_pollitem_t) { self->subscribers [index], 0, ZMQ_POLLIN, 0 };
    int64_t deadline = bench_now_ns () + options->timeout * 1000000;
    int done = 0;
    while (done < clients) {
        int64_t now = bench_now_ns ();
        int64_t start = atomic_load (&self->start_ns);
        int64_t last = self->last_ns > start? self->last_ns: start;
        if (now > deadline || (start && now - last > options->idle * 1000000))
            break;              //  Bounded: lost messages never arrive
        if (zmq_poll (items, clients, 50) <= 0)
            continue;
        for (int index = 0; index < clients; index++)
            if ((items [index].revents & ZMQ_POLLIN) && s_topics_drain (self, index, payload))
                done++;
    }
    free (items);
    free (payload);
    return NULL;
}

static void
s_mode_topics (bench_options_t *options)
{
    int clients = (int) options->clients;
    void *context = bench_context_new (options);
    void *publisher = zmq_socket (context, ZMQ_PUB);
    //  Block at the high-water mark instead of dropping, in raw and zgate runs alike
    int on = 1;
    zmq_setsockopt (publisher, ZMQ_XPUB_NODROP, &on, sizeof on);
    char raw_endpoint [256];
    const char *sub_endpoint = options->endpoint2;
    if (options->endpoint) {
        s_curve_client (publisher, options);
        if (!sub_endpoint || zmq_connect (publisher, options->endpoint))
            bench_fail ("topics needs --endpoint PUBLISHERS --endpoint2 SUBSCRIBERS");
    }
    else {
        s_curve_server (publisher, options);
        s_bind_ephemeral (publisher, raw_endpoint, sizeof raw_endpoint);
        sub_endpoint = raw_endpoint;
    }
    s_topics_t self = { .options = options };
    self.subscribers = (void **) calloc ((size_t) clients, sizeof (void *));
    self.warm = (bool *) calloc ((size_t) clients, sizeof (bool));
    bench_window_init (&self.window, clients);
    self.last_seq = (int64_t *) malloc ((size_t) clients * sizeof (int64_t));
    for (int index = 0; index < clients; index++)
        self.last_seq [index] = -1;
    bench_samples_init (&self.latencies, options->rate? (size_t) (options->count * options->clients): 0);
    //  Subscribers take the comma-separated endpoints in turn
    char *list [BENCH_MAX_ENDPOINTS];
    int endpoint_count;
    char *endpoints = bench_endpoint_list (sub_endpoint, list, &endpoint_count);
    for (int index = 0; index < clients; index++) {
        const char *endpoint = list [index % endpoint_count];
        self.subscribers [index] = zmq_socket (context, ZMQ_SUB);
        zmq_setsockopt (self.subscribers [index], ZMQ_SUBSCRIBE, BENCH_TOPIC_PREFIX, strlen (BENCH_TOPIC_PREFIX));
        s_curve_client (self.subscribers [index], options);
        if (zmq_connect (self.subscribers [index], endpoint))
            bench_fail ("cannot connect to %s", endpoint);
    }
    free (endpoints);
    pthread_t receiver;
    pthread_create (&receiver, NULL, s_topics_receiver, &self);
    bench_mark_t start, end;
    bench_publish (publisher, options, &self.warmed, clients, &self.start_ns, &start, &self.window);
    pthread_join (receiver, NULL);
    bench_mark (&end, options->server_pid);
    bench_check_lossless (options, self.delivered, options->count * options->clients, self.gaps);
    char extra [160];
    snprintf (extra, sizeof extra, "delivered=%lld expected=%lld seq_gaps=%lld", (long long) self.delivered,
              (long long) (options->count * options->clients), (long long) self.gaps);
    bench_report (self.delivered, self.last_ns - start.wall_ns, &start, &end, options->server_pid,
                  &self.latencies, extra);

    for (int index = 0; index < clients; index++)
        zmq_close (self.subscribers [index]);
    zmq_close (publisher);
    zmq_ctx_term (context);
    bench_samples_free (&self.latencies);
    free (self.subscribers);
    free (self.warm);
    bench_window_free (&self.window);
    free (self.last_seq);
}

//  ==========================================================================
//  proxy: a raw libzmq broker (XSUB -> XPUB, zmq_proxy) in its own process,
//  run like zgate: the ceiling of any broker hop on this machine. Stops by
//  itself after --timeout ms (or on SIGTERM).

static void *
s_proxy_alarm (void *arg)
{
    bench_options_t *options = (bench_options_t *) arg;
    bench_sleep_until (bench_now_ns () + options->timeout * 1000000);
    _exit (0);
}

static void
s_mode_proxy (bench_options_t *options)
{
    if (!options->endpoint || !options->endpoint2)
        bench_fail ("proxy needs --endpoint PUBLISHERS --endpoint2 SUBSCRIBERS");
    void *context = bench_context_new (options);
    void *xsub = zmq_socket (context, ZMQ_XSUB);
    void *xpub = zmq_socket (context, ZMQ_XPUB);
    //  zgate's defaults (config/zgate.cfg topics/sndhwm, rcvhwm); --sndhwm as
    //  zgate's topics/sndhwm
    int rcvhwm = 100000, sndhwm = (int) options->sndhwm;
    zmq_setsockopt (xsub, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt (xpub, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    s_curve_server (xsub, options);
    s_curve_server (xpub, options);
    if (zmq_bind (xsub, options->endpoint) || zmq_bind (xpub, options->endpoint2))
        bench_fail ("cannot bind: %s", zmq_strerror (zmq_errno ()));
    pthread_t alarm;
    pthread_create (&alarm, NULL, s_proxy_alarm, options);
    printf ("proxy running\n");
    fflush (stdout);
    zmq_proxy (xsub, xpub, NULL);
}

//  ==========================================================================
//  reqrep: raw DEALER <-> ROUTER, W requests outstanding, small acks back

typedef struct {
    void *router;                   //  Bound ROUTER, owned by the echo thread
    int64_t expected;               //  Requests to answer, warm-up included
    int64_t timeout;                //  Bound, ms
} s_echo_t;

//  Answer each request with its first 16 bytes (timestamp and sequence)
static void *
s_echo_server (void *arg)
{
    s_echo_t *self = (s_echo_t *) arg;
    char identity [256], body [65536];
    zmq_setsockopt (self->router, ZMQ_RCVTIMEO, &(int) { (int) self->timeout }, sizeof (int));
    //  Block at the high-water mark instead of dropping the ack
    zmq_setsockopt (self->router, ZMQ_ROUTER_MANDATORY, &(int) { 1 }, sizeof (int));
    for (int64_t answered = 0; answered < self->expected; answered++) {
        int identity_size = zmq_recv (self->router, identity, sizeof identity, 0);
        if (identity_size == -1)
            break;
        int size = zmq_recv (self->router, body, sizeof body, 0);
        zmq_send (self->router, identity, (size_t) identity_size, ZMQ_SNDMORE);
        zmq_send (self->router, body, size < 16? (size_t) size: 16, 0);
    }
    return NULL;
}

static void
s_mode_reqrep (bench_options_t *options)
{
    void *context = bench_context_new (options);
    s_echo_t echo = { zmq_socket (context, ZMQ_ROUTER), options->count + 1, options->timeout };
    char endpoint [256];
    s_bind_ephemeral (echo.router, endpoint, sizeof endpoint);
    pthread_t server;
    pthread_create (&server, NULL, s_echo_server, &echo);

    void *dealer = zmq_socket (context, ZMQ_DEALER);
    zmq_setsockopt (dealer, ZMQ_RCVTIMEO, &(int) { (int) options->timeout }, sizeof (int));
    zmq_connect (dealer, endpoint);
    char *payload = (char *) calloc (1, (size_t) options->size);
    char ack [64];
    //  One warm-up round trip: the connection exists before the clock starts
    zmq_send (dealer, payload, (size_t) options->size, 0);
    if (zmq_recv (dealer, ack, sizeof ack, 0) == -1)
        bench_fail ("no answer to the warm-up request");

    bench_samples_t latencies;
    bench_samples_init (&latencies, (size_t) options->count);
    bench_mark_t start, end;
    bench_mark (&start, 0);
    int64_t sent = 0, acked = 0;
    while (acked < options->count) {
        while (sent < options->count && sent - acked < options->window) {
            int64_t now = bench_now_ns ();
            memcpy (payload, &now, sizeof now);
            memcpy (payload + 8, &sent, sizeof sent);
            zmq_send (dealer, payload, (size_t) options->size, 0);
            sent++;
        }
        if (zmq_recv (dealer, ack, sizeof ack, 0) < 16)
            bench_fail ("no ack after %lld of %lld", (long long) acked, (long long) options->count);
        int64_t sent_ns;
        memcpy (&sent_ns, ack, sizeof sent_ns);
        bench_samples_add (&latencies, bench_now_ns () - sent_ns);
        acked++;
    }
    bench_mark (&end, 0);
    bench_report (acked, end.wall_ns - start.wall_ns, &start, &end, 0, &latencies, NULL);
    pthread_join (server, NULL);
    zmq_close (dealer);
    zmq_close (echo.router);
    zmq_ctx_term (context);
    bench_samples_free (&latencies);
    free (payload);
}

//  ==========================================================================

typedef struct {
    const char *name;
    void (*run) (bench_options_t *options);
} s_mode_t;

static const s_mode_t s_modes [] = {
    { "port", s_mode_port },
    { "topics", s_mode_topics },
    { "reqrep", s_mode_reqrep },
    { "proxy", s_mode_proxy },
    { "queues", bench_mode_queues },
    { "rooms", bench_rooms_mode },
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    bench_options_t options;
    if (bench_options_parse (&options, argc, argv))
        return 2;
    for (const s_mode_t *mode = s_modes; mode->name; mode++)
        if (!strcmp (mode->name, options.mode)) {
            mode->run (&options);
            return 0;
        }
    fprintf (stderr, "zg_bench: unknown mode '%s'\n", options.mode);
    return 2;
}
