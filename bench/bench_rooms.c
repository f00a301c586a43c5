/*  =========================================================================
    bench_rooms - zg_bench rooms: M members of one room (logical clients
    spread over at most BENCH_ROOM_CONNECTIONS connections) ack every
    message at once; a producer queues all the rounds up front, so lockstep
    alone paces them. Members ask for protocol version 2 (--protocol,
    docs/PROTOCOL.md 3.8): one DELIVERS per connection and round, acked by
    one ACKS.
    =========================================================================
*/

#include "bench_rooms.h"
#include "bench_frames.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Most connections the rooms members share
#define BENCH_ROOM_CONNECTIONS 8

typedef struct {
    bench_options_t *options;       //  The run's options
    void **connections;             //  Member DEALER sockets
    int connection_count;           //  Sockets in connections
    char room [32];                 //  This run's room: seqs start at 1
    uint32_t *receipts;             //  Members that received each seq
    int64_t *done_ns;               //  When each seq reached every member
    atomic_llong rounds;            //  Highest seq that reached every member
    atomic_bool stop;               //  Set by the producer when it is done
} s_rooms_t;

//  Client ids in a list separated by single spaces
static int64_t
s_list_size (zmq_msg_t *list)
{
    size_t size = zmq_msg_size (list);
    const char *data = (const char *) zmq_msg_data (list);
    int64_t count = size > 0;
    for (size_t index = 0; index < size; index++)
        count += data [index] == ' ';
    return count;
}

//  Ack a [DELIVERS][room][seq][holders][observers][payload] (frames) with
//  one [ACKS][][room][seq][holders]; returns the members it reached
static int64_t
s_rooms_acks (void *socket, zmq_msg_t *frames)
{
    if (zmq_msg_size (&frames [3]) > 0) {
        zmq_send (socket, "ACKS", 4, ZMQ_SNDMORE);
        zmq_send (socket, "", 0, ZMQ_SNDMORE);
        for (int index = 1; index <= 3; index++)
            zmq_send (socket, zmq_msg_data (&frames [index]), zmq_msg_size (&frames [index]),
                      index < 3? ZMQ_SNDMORE: 0);
    }
    return s_list_size (&frames [3]) + s_list_size (&frames [4]);
}

//  Round seq reached more members: done once it has reached every one
static void
s_rooms_reached (s_rooms_t *self, int64_t seq, int64_t members)
{
    if (seq >= 1 && seq <= self->options->count + 1
    &&  (self->receipts [seq] += (uint32_t) members) == (uint32_t) self->options->clients) {
        self->done_ns [seq] = bench_now_ns ();
        atomic_store (&self->rounds, seq);
    }
}

static void *
s_rooms_members (void *arg)
{
    s_rooms_t *self = (s_rooms_t *) arg;
    bench_options_t *options = self->options;
    zmq_pollitem_t items [BENCH_ROOM_CONNECTIONS];
    for (int index = 0; index < self->connection_count; index++)
        items [index] = (zmq_pollitem_t) { self->connections [index], 0, ZMQ_POLLIN, 0 };
    int64_t deadline = bench_now_ns () + options->timeout * 1000000;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    while (!atomic_load (&self->stop) && bench_now_ns () < deadline) {
        if (zmq_poll (items, self->connection_count, 50) <= 0)
            continue;
        for (int index = 0; index < self->connection_count; index++) {
            if (!(items [index].revents & ZMQ_POLLIN))
                continue;
            void *socket = self->connections [index];
            for (int batch = 0; batch < BENCH_BATCH; batch++) {
                int count = bench_frames_recv (socket, frames, ZMQ_DONTWAIT);
                if (count == -1)
                    break;
                if (count == 6 && bench_frame_is (&frames [0], "DELIVERS"))
                    s_rooms_reached (self, bench_frame_number (&frames [2]), s_rooms_acks (socket, frames));
                else
                if (count == 6 && bench_frame_is (&frames [0], "DELIVER")) {
                    //  [DELIVER][client][room][seq][token][payload] -> [ACK][][client][room][token]
                    bench_str_send (socket, "ACK", true);
                    bench_str_send (socket, "", true);
                    bench_frame_send (socket, &frames [1], true);
                    bench_frame_send (socket, &frames [2], true);
                    bench_frame_send (socket, &frames [4], false);
                    s_rooms_reached (self, bench_frame_number (&frames [3]), 1);
                }
                else
                if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
                    bench_fail_error ("member", frames, count);
                bench_frames_close (frames, count);
            }
        }
    }
    return NULL;
}

//  Send one request per member (HELLO, then JOIN with each member's id) and
//  collect every answer; ids [member] receives the client ids from HELLO
static void
s_rooms_setup (s_rooms_t *self, char **ids, const char *command)
{
    int64_t members = self->options->clients;
    for (int64_t member = 0; member < members; member++) {
        void *socket = self->connections [member % self->connection_count];
        char req [24];
        snprintf (req, sizeof req, "%lld", (long long) member);
        bench_str_send (socket, command, true);
        bench_str_send (socket, req, ids [member] || self->options->protocol > 1);
        if (ids [member]) {
            bench_str_send (socket, ids [member], true);
            bench_str_send (socket, self->room, false);
        }
        else
        if (self->options->protocol > 1)
            bench_str_send (socket, "2", false);
    }
    int64_t deadline = bench_now_ns () + BENCH_WARM_TIMEOUT * 1000000LL;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    for (int connection = 0; connection < self->connection_count; connection++) {
        void *socket = self->connections [connection];
        int64_t expected = members / self->connection_count + (connection < members % self->connection_count);
        for (int64_t answers = 0; answers < expected; answers++) {
            if (!bench_wait_readable (socket, deadline))
                bench_fail ("%s: %lld answers missing", command, (long long) (expected - answers));
            int count = bench_frames_recv (socket, frames, 0);
            if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
                bench_fail_error (command, frames, count);
            if (count >= 3 && !ids [bench_frame_number (&frames [1]) % members]) {
                size_t size = zmq_msg_size (&frames [2]);
                char *id = (char *) malloc (size + 1);
                memcpy (id, zmq_msg_data (&frames [2]), size);
                id [size] = 0;
                ids [bench_frame_number (&frames [1]) % members] = id;
            }
            bench_frames_close (frames, count);
        }
    }
}

//  Send out-of-band messages until one reaches every member (on a cluster:
//  until Redis knows every node's members), as the OOB answers count them
static void
s_rooms_settle (s_rooms_t *self, void *producer)
{
    int64_t deadline = bench_now_ns () + BENCH_WARM_TIMEOUT * 1000000LL;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    int64_t reached = 0;
    while (reached < self->options->clients) {
        if (bench_now_ns () > deadline)
            bench_fail ("only %lld of %lld members are in the room", (long long) reached,
                        (long long) self->options->clients);
        bench_str_send (producer, "OOB", true);
        bench_str_send (producer, "settle", true);
        bench_str_send (producer, self->room, true);
        bench_str_send (producer, "", false);
        if (!bench_wait_readable (producer, deadline))
            bench_fail ("OOB: no answer");
        int count = bench_frames_recv (producer, frames, 0);
        if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
            bench_fail_error ("OOB", frames, count);
        reached = count == 3? bench_frame_number (&frames [2]): 0;
        bench_frames_close (frames, count);
        if (reached < self->options->clients)
            bench_sleep_until (bench_now_ns () + 10000000);
    }
}

static void
s_rooms_send (s_rooms_t *self, void *producer, const char *payload, size_t size)
{
    bench_str_send (producer, "SEND", true);
    bench_str_send (producer, "", true);
    bench_str_send (producer, self->room, true);
    bench_str_send (producer, "0", true);
    zmq_send (producer, payload, size, 0);
}

void
bench_rooms_mode (bench_options_t *options)
{
    if (!options->endpoint)
        bench_fail ("rooms needs --endpoint CLIENTS");
    void *context = bench_context_new (options);
    s_rooms_t self = { .options = options };
    snprintf (self.room, sizeof self.room, "%s.%d", BENCH_NAME, (int) getpid ());
    self.connection_count = options->clients < BENCH_ROOM_CONNECTIONS? (int) options->clients: BENCH_ROOM_CONNECTIONS;
    self.connections = (void **) calloc ((size_t) self.connection_count, sizeof (void *));
    self.receipts = (uint32_t *) calloc ((size_t) options->count + 2, sizeof (uint32_t));
    self.done_ns = (int64_t *) calloc ((size_t) options->count + 2, sizeof (int64_t));
    char *list [BENCH_MAX_ENDPOINTS + 1] = { (char *) options->endpoint };
    int endpoint_count = 1;
    char *endpoints = options->endpoint2? bench_endpoint_list (options->endpoint2, list + 1, &endpoint_count): NULL;
    endpoint_count += endpoints? 1: 0;
    for (int index = 0; index < self.connection_count; index++) {
        self.connections [index] = zmq_socket (context, ZMQ_DEALER);
        if (zmq_connect (self.connections [index], list [index % endpoint_count]))
            bench_fail ("cannot connect to %s", list [index % endpoint_count]);
    }
    free (endpoints);
    char **ids = (char **) calloc ((size_t) options->clients, sizeof (char *));
    s_rooms_setup (&self, ids, "HELLO");
    s_rooms_setup (&self, ids, "JOIN");
    pthread_t members;
    pthread_create (&members, NULL, s_rooms_members, &self);
    void *producer = zmq_socket (context, ZMQ_DEALER);
    if (zmq_connect (producer, options->endpoint))
        bench_fail ("cannot connect to %s", options->endpoint);

    s_rooms_settle (&self, producer);
    //  Warm-up round: seq 1
    char *payload = (char *) calloc (1, (size_t) options->size);
    s_rooms_send (&self, producer, payload, (size_t) options->size);
    int64_t warm_deadline = bench_now_ns () + BENCH_WARM_TIMEOUT * 1000000LL;
    while (atomic_load (&self.rounds) < 1 && bench_now_ns () < warm_deadline)
        bench_sleep_until (bench_now_ns () + 1000000);
    if (atomic_load (&self.rounds) < 1)
        bench_fail ("the warm-up round did not complete");

    bench_mark_t start, end;
    bench_mark (&start, options->server_pid);
    int64_t last_seq = options->count + 1;
    for (int64_t round = 0; round < options->count; round++)
        s_rooms_send (&self, producer, payload, (size_t) options->size);
    int64_t deadline = start.wall_ns + options->timeout * 1000000;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    //  Sleeping on the producer socket: only an ERROR (e.g. 429) can arrive
    while (atomic_load (&self.rounds) < last_seq && bench_now_ns () < deadline)
        if (bench_wait_readable (producer, bench_now_ns () + 1000000)) {
            int count = bench_frames_recv (producer, frames, 0);
            bench_fail_error ("SEND", frames, count);
        }
    bench_mark (&end, options->server_pid);
    atomic_store (&self.stop, true);
    pthread_join (members, NULL);
    int64_t rounds = atomic_load (&self.rounds) - 1;
    if (rounds < options->count)
        bench_fail ("timed out after %lld of %lld rounds", (long long) rounds, (long long) options->count);
    //  Round time: from one round reaching every member to the next doing so
    bench_samples_t latencies;
    bench_samples_init (&latencies, (size_t) options->count);
    for (int64_t seq = 2; seq <= last_seq; seq++)
        bench_samples_add (&latencies, self.done_ns [seq] - (seq == 2? start.wall_ns: self.done_ns [seq - 1]));
    bench_report (rounds, self.done_ns [last_seq] - start.wall_ns, &start, &end, options->server_pid,
                  &latencies, NULL);

    for (int index = 0; index < self.connection_count; index++)
        zmq_close (self.connections [index]);
    zmq_close (producer);
    zmq_ctx_term (context);
    for (int64_t member = 0; member < options->clients; member++)
        free (ids [member]);
    free (ids);
    bench_samples_free (&latencies);
    free (self.connections);
    free (self.receipts);
    free (self.done_ns);
    free (payload);
}
