/*  =========================================================================
    bench_common - what every zgate load generator shares: command-line
    options, clocks, CPU and RSS readings of this process and of the zgate
    process under test, latency samples, and the one RESULT line that
    bench/run.sh parses.
    =========================================================================
*/

#ifndef BENCH_COMMON_H_INCLUDED
#define BENCH_COMMON_H_INCLUDED

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Topic of warm-up probes and of measured messages; subscribers take both
#define BENCH_TOPIC_PREFIX "bench."
#define BENCH_TOPIC_WARM "bench.warm"
#define BENCH_TOPIC_DATA "bench.data"
//  Bound of every warm-up, ms
#define BENCH_WARM_TIMEOUT 10000
//  A paced payload starts with its send time: '@', 19 decimal digits and a
//  space, so that it is text (a JSON string for web clients) that no JSON
//  parser is tempted to try, like the unpaced payloads of 'x'
#define BENCH_STAMP_SIZE 21
//  Then, when the payload has room, its sequence number from 0: '#', 10
//  decimal digits and a space, so that receivers can check the order and
//  count what was dropped on the way
#define BENCH_SEQ_SIZE 12

//  Options of every mode; each mode reads the ones it needs
typedef struct {
    const char *mode;               //  First argument: what to measure
    const char *endpoint;           //  zgate endpoint (mode-specific), NULL for raw
    const char *endpoint2;          //  Second zgate endpoint (mode-specific)
    const char *url;                //  WebSocket URL
    int64_t clients;                //  Subscribers, workers or members
    int64_t size;                   //  Payload bytes
    int64_t count;                  //  Messages, tasks or rounds to measure
    int64_t rate;                   //  Paced messages/s, 0 for as fast as possible
    int64_t window;                 //  Requests outstanding at once
    int64_t prefetch;               //  Worker credit
    int64_t timeout;                //  Hard bound of the whole run, ms
    int64_t idle;                   //  Stop after this long without traffic, ms
    int64_t server_pid;             //  zgate's process id, 0 without one
    int64_t ok;                     //  queues: 1 measures send->OK (tasks sent with a req), not send->reply
    int64_t sndhwm;                 //  proxy: the subscribers' high-water mark, 0 for none
    int64_t ahead;                  //  topics: lossless, the publisher at most this many messages ahead
                                    //  of the slowest subscriber (a run that misses one fails); 0: a burst
    int64_t protocol;               //  queues, rooms: the protocol version workers and members ask
                                    //  for, 1 or 2 (batches when zgate offers them)
    int64_t producer_protocol;      //  queues: the producer's, 1 or 2 (SENDS batches); 0: as protocol
    const char *server_cert;        //  CURVE: the server's czmq certificate file, NULL for no CURVE
    const char *client_cert;        //  CURVE: the client's certificate file, with its secret key
    int64_t io_threads;             //  libzmq I/O threads of the generator's context (1 to 64)
} bench_options_t;

//  Parse "MODE --key value ..." into options with defaults; returns 0, or -1
//  after printing why
int
    bench_options_parse (bench_options_t *options, int argc, char **argv);

//  A libzmq context with --io-threads I/O threads (each connection's bytes,
//  and its CURVE boxes, move on one of them)
void *
    bench_context_new (bench_options_t *options);

//  Monotonic clock in nanoseconds; the same clock in every process, so a
//  timestamp written by one process is comparable in another
int64_t
    bench_now_ns (void);

//  Sleep until a monotonic time in nanoseconds
void
    bench_sleep_until (int64_t when_ns);

//  Wall time and CPU seconds of this process and of the server at one moment
typedef struct {
    int64_t wall_ns;                //  bench_now_ns at the mark
    double client_cpu;              //  This process, user + system, seconds
    double server_cpu;              //  Server process, user + system, seconds
    int64_t server_run_ns;          //  Its threads' time on a CPU, ns (schedstat), 0 if unknown
} bench_mark_t;

//  Take a mark; server_pid 0 leaves server_cpu and server_run_ns at 0
void
    bench_mark (bench_mark_t *mark, int64_t server_pid);

//  Resident set size of a process in KiB (VmRSS), 0 if unknown
long
    bench_rss_kb (int64_t pid);

//  Latency samples in nanoseconds
typedef struct {
    int64_t *values;                //  Samples, unsorted until reported
    size_t count;                   //  Samples taken
    size_t capacity;                //  Samples that fit; later ones are ignored
} bench_samples_t;

void
    bench_samples_init (bench_samples_t *samples, size_t capacity);
void
    bench_samples_add (bench_samples_t *samples, int64_t value);
void
    bench_samples_free (bench_samples_t *samples);

//  Print the RESULT line: operations per second over elapsed_ns, the
//  latency percentiles when there are samples, the CPU used between the two
//  marks by each side and both RSS figures, and the operations per second of
//  the server's CPU time (per_server_cpu_s, from schedstat's nanoseconds: the
//  clock ticks of server_cpu are too coarse for a cost ratio of short runs).
//  extra (may be NULL) is appended.
void
    bench_report (int64_t operations, int64_t elapsed_ns, bench_mark_t *start, bench_mark_t *end,
                  int64_t server_pid, bench_samples_t *samples, const char *extra);

//  The flow control of a lossless run (options->ahead): the receivers, in
//  this process, count each subscriber's measured messages here and the
//  publisher reads the counts (shared memory, no acks on the wire), so it
//  stays at most options->ahead messages ahead of the slowest subscriber and
//  no queue on the way holds more than that
typedef struct {
    atomic_llong *received;         //  Measured messages per subscriber
    int count;                      //  Subscribers
    int64_t slowest;                //  Publisher's last reading of the smallest count
} bench_window_t;

void
    bench_window_init (bench_window_t *window, int subscribers);
void
    bench_window_free (bench_window_t *window);

//  A receiver (the one thread that writes subscriber index's count) counts
//  one more measured message of it; returns the subscriber's count
static inline int64_t
bench_window_count (bench_window_t *window, int index)
{
    int64_t received = atomic_load_explicit (&window->received [index], memory_order_relaxed) + 1;
    atomic_store_explicit (&window->received [index], received, memory_order_release);
    return received;
}

//  Publish on a PUB socket (connected to zgate or bound for raw runs): a
//  probe on BENCH_TOPIC_WARM every 5 ms until *warmed reaches expected (the
//  run fails after BENCH_WARM_TIMEOUT), then mark the start (also stored in
//  *start_ns) and send options->count messages on BENCH_TOPIC_DATA, paced at
//  options->rate when it is not 0, with the send time in each payload when
//  paced and its sequence number when the payload has room. With
//  options->ahead, each send first waits until the window allows it; the
//  run fails when the slowest subscriber makes no progress for options->idle
//  ms (a message lost on the way never arrives)
void
    bench_publish (void *publisher, bench_options_t *options, atomic_int *warmed, int expected,
                   atomic_llong *start_ns, bench_mark_t *start, bench_window_t *window);

//  Fail a lossless run (options->ahead) in which a subscriber missed a
//  measured message: delivered of expected, gaps sequence numbers skipped
void
    bench_check_lossless (bench_options_t *options, int64_t delivered, int64_t expected, int64_t gaps);

//  The send time at the start of a payload, or 0 if it has none
int64_t
    bench_stamp_read (const char *data, size_t size);

//  The sequence number after the stamp, or -1 if the payload has none
int64_t
    bench_seq_read (const char *data, size_t size);

//  Abort the run with a message on stderr and exit code 1
void
    bench_fail (const char *format, ...) __attribute__ ((format (printf, 1, 2), noreturn));

#endif
