/*  =========================================================================
    zg_bench_queues - zg_bench's queues scenario: one producer with a window
    of tasks awaiting replies (SEND and REPLY, or SENDS and REPLIES
    batches), W workers (DELIVER and ACK, or DELIVERS and ACKS batches)
    =========================================================================
*/

#include "bench_common.h"
#include "bench_frames.h"
#include "zg_bench_queues.h"
#include "zg_qv2.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  Most tasks per SENDS of a version 2 producer
#define BENCH_SENDS_MAX 100

//  The run: W workers (one connection each) ack every task with its first
//  16 bytes
typedef struct {
    bench_options_t *options;       //  The run's options
    void **workers;                 //  Worker DEALER sockets, one logical worker each
    atomic_int ready;               //  Workers whose READY was answered
    atomic_bool stop;               //  Set by the producer when it is done
    int64_t acked;                  //  Tasks acked by all workers
} s_queues_t;

//  A worker's ACKS records, reused from batch to batch
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} s_acks_t;

//  [DELIVERS][worker][records]: an ack for each, with the first 16 bytes of
//  its task's payload; returns the tasks acked
static int64_t
s_queues_ack_batch (zmq_msg_t *frames, s_acks_t *acks)
{
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, zmq_msg_data (&frames [2]), zmq_msg_size (&frames [2]));
    int64_t count = 0;
    while (zg_qv2_more (&reader)) {
        if (!zg_qv2_next (&reader, &record, true))
            bench_fail ("worker: a DELIVERS record is cut short");
        size_t reply = record.size < 16? record.size: 16;
        if (acks->size + zg_qv2_ack_size (reply) > acks->capacity) {
            acks->capacity = (acks->size + zg_qv2_ack_size (reply)) * 2;
            acks->data = (uint8_t *) realloc (acks->data, acks->capacity);
        }
        zg_qv2_put_ack (acks->data + acks->size, record.id, record.data, reply);
        acks->size += zg_qv2_ack_size (reply);
        count++;
    }
    return count;
}

//  [ACKS][worker][records]: every task of the DELIVERS read in one turn
static void
s_queues_send_acks (void *socket, const char *name, s_acks_t *acks)
{
    if (acks->size == 0)
        return;
    bench_str_send (socket, "ACKS", true);
    bench_str_send (socket, name, true);
    zmq_send (socket, acks->data, acks->size, 0);
    acks->size = 0;
}

static void *
s_queues_workers (void *arg)
{
    s_queues_t *self = (s_queues_t *) arg;
    bench_options_t *options = self->options;
    int clients = (int) options->clients;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc ((size_t) clients, sizeof (zmq_pollitem_t));
    for (int index = 0; index < clients; index++)
        items [index] = (zmq_pollitem_t) { self->workers [index], 0, ZMQ_POLLIN, 0 };
    int64_t deadline = bench_now_ns () + options->timeout * 1000000;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    s_acks_t acks = { NULL, 0, 0 };
    while (!atomic_load (&self->stop) && bench_now_ns () < deadline) {
        if (zmq_poll (items, clients, 50) <= 0)
            continue;
        for (int index = 0; index < clients; index++) {
            if (!(items [index].revents & ZMQ_POLLIN))
                continue;
            void *socket = self->workers [index];
            for (int batch = 0; batch < BENCH_BATCH; batch++) {
                int count = bench_frames_recv (socket, frames, ZMQ_DONTWAIT);
                if (count == -1)
                    break;
                if (count == 3 && bench_frame_is (&frames [0], "DELIVERS"))
                    self->acked += s_queues_ack_batch (frames, &acks);
                else
                if (count == 5 && bench_frame_is (&frames [0], "DELIVER")) {
                    //  [DELIVER][worker][id][meta][payload] -> [ACK][worker][id][reply]
                    size_t size = zmq_msg_size (&frames [4]);
                    bench_str_send (socket, "ACK", true);
                    bench_frame_send (socket, &frames [1], true);
                    bench_frame_send (socket, &frames [2], true);
                    zmq_send (socket, zmq_msg_data (&frames [4]), size < 16? size: 16, 0);
                    self->acked++;
                }
                else
                if (count >= 2 && bench_frame_is (&frames [0], "OK"))
                    atomic_fetch_add (&self->ready, 1);
                else
                if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
                    bench_fail_error ("worker", frames, count);
                bench_frames_close (frames, count);
            }
            char name [16];
            snprintf (name, sizeof name, "w%d", index);
            s_queues_send_acks (socket, name, &acks);
        }
    }
    free (items);
    free (acks.data);
    return NULL;
}

//  msgpack {"queues": ["bench"], "prefetch": P} (P < 65536), with "version":
//  2 first for the version 2 protocol
static size_t
s_ready_options (uint8_t *buffer, int64_t prefetch, int64_t protocol)
{
    static const uint8_t head [] = {
        0x82, 0xa6, 'q', 'u', 'e', 'u', 'e', 's', 0x91, 0xa5, 'b', 'e', 'n', 'c', 'h',
        0xa8, 'p', 'r', 'e', 'f', 'e', 't', 'c', 'h'
    };
    static const uint8_t version [] = { 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', ZG_QV2_VERSION };
    size_t size = 0;
    memcpy (buffer, head, sizeof head);
    if (protocol == ZG_QV2_VERSION) {
        buffer [0] = 0x83;
        memcpy (buffer + 1, version, sizeof version);
        memcpy (buffer + 1 + sizeof version, head + 1, sizeof head - 1);
        size = sizeof version;
    }
    size += sizeof head;
    if (prefetch < 128)
        buffer [size++] = (uint8_t) prefetch;
    else {
        buffer [size++] = 0xcd;
        buffer [size++] = (uint8_t) (prefetch >> 8);
        buffer [size++] = (uint8_t) prefetch;
    }
    return size;
}

//  msgpack {"reply": true}
static const uint8_t s_reply_options [] = { 0x81, 0xa5, 'r', 'e', 'p', 'l', 'y', 0xc3 };

//  [verb][req][bench][{"reply": true}][last]: a SEND of a payload, or a
//  SENDS of send records
static void
s_queues_send (void *producer, const char *verb, const void *req, size_t req_size, const void *last,
               size_t last_size)
{
    bench_str_send (producer, verb, true);
    zmq_send (producer, req, req_size, ZMQ_SNDMORE);
    bench_str_send (producer, BENCH_NAME, true);
    zmq_send (producer, s_reply_options, sizeof s_reply_options, ZMQ_SNDMORE);
    zmq_send (producer, last, last_size, 0);
}

//  count send records of this payload written into records; returns their
//  bytes
static size_t
s_queues_batch (uint8_t *records, const char *payload, size_t size, int64_t count)
{
    size_t used = 0;
    for (int64_t index = 0; index < count; index++) {
        zg_qv2_put_send (records + used, payload, size);
        used += zg_qv2_send_size (size);
    }
    return used;
}

//  Tasks a SENDS's OK or a REPLIES names: its records (ack-shaped) counted,
//  a refused task failing the run; each REPLIES record's send time sampled
//  into latencies (NULL: none)
static int64_t
s_queues_records (zmq_msg_t *frame, bench_samples_t *latencies, bool results)
{
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, zmq_msg_data (frame), zmq_msg_size (frame));
    int64_t count = 0;
    while (zg_qv2_more (&reader)) {
        if (!zg_qv2_next (&reader, &record, false))
            bench_fail ("producer: a record is cut short");
        if (results && record.data)
            bench_fail ("task refused: %.*s", (int) record.size, (const char *) record.data);
        if (latencies && record.size >= 8) {
            int64_t sent_ns;
            memcpy (&sent_ns, record.data, sizeof sent_ns);
            bench_samples_add (latencies, bench_now_ns () - sent_ns);
        }
        count++;
    }
    return count;
}

//  Tasks to send now: all that the window, the count and the rate allow
//  (version 1: one at a time; version 2: up to BENCH_SENDS_MAX per SENDS)
static int64_t
s_queues_due (bench_options_t *options, int64_t start_ns, int64_t now, int64_t sent, int64_t replied)
{
    int64_t due = options->count - sent;
    if (options->window - (sent - replied) < due)
        due = options->window - (sent - replied);
    //  At least one: the caller's schedule (sent * 1e9 / rate) rounds the
    //  other way, and an empty SENDS would be refused and never advance
    int64_t by_rate = options->rate? (now - start_ns) * options->rate / 1000000000 + 1 - sent: due;
    if (by_rate < 1)
        by_rate = 1;
    if (by_rate < due)
        due = by_rate;
    int64_t most = options->producer_protocol == 1? 1: BENCH_SENDS_MAX;
    return due < most? due: most;
}

void
bench_mode_queues (bench_options_t *options)
{
    if (!options->endpoint || !options->endpoint2)
        bench_fail ("queues needs --endpoint PRODUCERS --endpoint2 WORKERS");
    int clients = (int) options->clients;
    void *context = bench_context_new (options);
    s_queues_t self = { .options = options };
    self.workers = (void **) calloc ((size_t) clients, sizeof (void *));
    if (options->protocol != 1 && options->protocol != ZG_QV2_VERSION)
        bench_fail ("--protocol is 1 or 2");
    if (options->producer_protocol == 0)
        options->producer_protocol = options->protocol;
    if (options->producer_protocol != 1 && options->producer_protocol != ZG_QV2_VERSION)
        bench_fail ("--producer-protocol is 1 or 2");
    uint8_t ready [48];
    size_t ready_size = s_ready_options (ready, options->prefetch, options->protocol);
    //  Several workers' endpoints (nodes of a cluster): the workers take turns
    char *endpoints [16];
    int endpoint_count = 0;
    char *list = strdup (options->endpoint2);
    for (char *state = NULL, *endpoint = strtok_r (list, ",", &state); endpoint && endpoint_count < 16;
         endpoint = strtok_r (NULL, ",", &state))
        endpoints [endpoint_count++] = endpoint;
    for (int index = 0; index < clients; index++) {
        char name [16];
        snprintf (name, sizeof name, "w%d", index);
        self.workers [index] = zmq_socket (context, ZMQ_DEALER);
        if (zmq_connect (self.workers [index], endpoints [index % endpoint_count]))
            bench_fail ("cannot connect to %s", endpoints [index % endpoint_count]);
        bench_str_send (self.workers [index], "READY", true);
        bench_str_send (self.workers [index], name, true);
        zmq_send (self.workers [index], ready, ready_size, 0);
    }
    pthread_t workers;
    pthread_create (&workers, NULL, s_queues_workers, &self);
    void *producer = zmq_socket (context, ZMQ_DEALER);
    if (zmq_connect (producer, options->endpoint))
        bench_fail ("cannot connect to %s", options->endpoint);

    int64_t warm_deadline = bench_now_ns () + BENCH_WARM_TIMEOUT * 1000000LL;
    while (atomic_load (&self.ready) < clients && bench_now_ns () < warm_deadline)
        bench_sleep_until (bench_now_ns () + 1000000);
    if (atomic_load (&self.ready) < clients)
        bench_fail ("only %d of %d workers are ready", atomic_load (&self.ready), clients);
    size_t size = (size_t) options->size;
    char *payload = (char *) calloc (1, size);
    uint8_t *records = (uint8_t *) malloc (BENCH_SENDS_MAX * zg_qv2_send_size (size));
    bool batched = options->producer_protocol == ZG_QV2_VERSION;
    zmq_msg_t frames [BENCH_MAX_FRAMES];
    //  A warm-up task with a req: OK, then its REPLY (or REPLIES)
    if (batched)
        s_queues_send (producer, "SENDS", "warm", 4, records, s_queues_batch (records, payload, size, 1));
    else
        s_queues_send (producer, "SEND", "warm", 4, payload, size);
    for (int answers = 0; answers < 2; answers++) {
        if (!bench_wait_readable (producer, warm_deadline))
            bench_fail ("no answer to the warm-up task");
        int count = bench_frames_recv (producer, frames, 0);
        if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
            bench_fail_error ("warm-up task", frames, count);
        bench_frames_close (frames, count);
    }

    bench_samples_t latencies;
    bench_samples_init (&latencies, (size_t) options->count);
    bench_mark_t start, end;
    bench_mark (&start, options->server_pid);
    int64_t deadline = start.wall_ns + options->timeout * 1000000;
    int64_t sent = 0, replied = 0;
    //  Empty req: no OK, only the REPLY (section 2.2); with --ok 1 the req
    //  is the send time, which the OK echoes
    while (replied < options->count) {
        int64_t now = bench_now_ns ();
        int64_t next_ns = now;
        while (sent < options->count && sent - replied < options->window) {
            next_ns = options->rate? start.wall_ns + sent * 1000000000 / options->rate: now;
            if (next_ns > now)
                break;
            memcpy (payload, &now, sizeof now);
            int64_t due = s_queues_due (options, start.wall_ns, now, sent, replied);
            if (batched)
                s_queues_send (producer, "SENDS", &now, options->ok? sizeof now: 0, records,
                               s_queues_batch (records, payload, size, due));
            else
                s_queues_send (producer, "SEND", &now, options->ok? sizeof now: 0, payload, size);
            sent += batched? due: 1;
        }
        bool can_send = sent < options->count && sent - replied < options->window;
        if (now > deadline)
            bench_fail ("timed out after %lld of %lld replies", (long long) replied, (long long) options->count);
        if (!bench_wait_readable (producer, can_send? next_ns: now + 100000000))
            continue;
        while (true) {
            int count = bench_frames_recv (producer, frames, ZMQ_DONTWAIT);
            if (count == -1)
                break;
            //  Version 2: [REPLIES][req][records], [OK][req][results]
            if (batched && count == 3 && bench_frame_is (&frames [0], "REPLIES")) {
                replied += s_queues_records (&frames [2], options->ok? NULL: &latencies, false);
                bench_frames_close (frames, count);
                continue;
            }
            if (batched && count == 3 && bench_frame_is (&frames [0], "OK")) {
                int64_t tasks = s_queues_records (&frames [2], NULL, true);
                int64_t sent_ns;
                memcpy (&sent_ns, zmq_msg_data (&frames [1]), sizeof sent_ns);
                for (int64_t task = 0; options->ok && task < tasks; task++)
                    bench_samples_add (&latencies, bench_now_ns () - sent_ns);
                bench_frames_close (frames, count);
                continue;
            }
            //  [REPLY][req][id][payload] or [OK][req][id], the send time in
            //  the payload or the req
            bool reply = count == 4 && bench_frame_is (&frames [0], "REPLY");
            int stamped = options->ok? 1: 3;
            if ((reply || (count == 3 && bench_frame_is (&frames [0], "OK")))
            &&  (reply == !options->ok) && zmq_msg_size (&frames [stamped]) >= 8) {
                int64_t sent_ns;
                memcpy (&sent_ns, zmq_msg_data (&frames [stamped]), sizeof sent_ns);
                bench_samples_add (&latencies, bench_now_ns () - sent_ns);
            }
            if (reply)
                replied++;
            else
            if (count >= 1 && bench_frame_is (&frames [0], "ERROR"))
                bench_fail_error ("task", frames, count);
            bench_frames_close (frames, count);
        }
    }
    bench_mark (&end, options->server_pid);
    atomic_store (&self.stop, true);
    pthread_join (workers, NULL);
    bench_report (replied, end.wall_ns - start.wall_ns, &start, &end, options->server_pid, &latencies, NULL);
    for (int index = 0; index < clients; index++)
        zmq_close (self.workers [index]);
    zmq_close (producer);
    zmq_ctx_term (context);
    bench_samples_free (&latencies);
    free (self.workers);
    free (list);
    free (payload);
    free (records);
}
