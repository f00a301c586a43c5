/*  =========================================================================
    bench_common - options, clocks, /proc readings and the RESULT line
    =========================================================================
*/

#include "bench_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

//  How long a publisher held back by its window sleeps before it reads the
//  subscribers' counts again (about the kernel's timer slack: a shorter
//  sleep would not be shorter)
#define BENCH_WINDOW_SLEEP_NS 50000

//  An option: its flag name and where its value goes in bench_options_t
typedef struct {
    const char *name;
    size_t offset;
} s_option_t;

//  Numeric options (int64_t)
static const s_option_t s_int_options [] = {
    { "clients", offsetof (bench_options_t, clients) },
    { "size", offsetof (bench_options_t, size) },
    { "count", offsetof (bench_options_t, count) },
    { "rate", offsetof (bench_options_t, rate) },
    { "window", offsetof (bench_options_t, window) },
    { "prefetch", offsetof (bench_options_t, prefetch) },
    { "timeout", offsetof (bench_options_t, timeout) },
    { "idle", offsetof (bench_options_t, idle) },
    { "server-pid", offsetof (bench_options_t, server_pid) },
    { "ok", offsetof (bench_options_t, ok) },
    { "sndhwm", offsetof (bench_options_t, sndhwm) },
    { "ahead", offsetof (bench_options_t, ahead) },
    { "protocol", offsetof (bench_options_t, protocol) },
    { "producer-protocol", offsetof (bench_options_t, producer_protocol) },
    { "io-threads", offsetof (bench_options_t, io_threads) },
    { NULL, 0 }
};

//  Text options (const char *)
static const s_option_t s_text_options [] = {
    { "endpoint", offsetof (bench_options_t, endpoint) },
    { "endpoint2", offsetof (bench_options_t, endpoint2) },
    { "url", offsetof (bench_options_t, url) },
    { "server-cert", offsetof (bench_options_t, server_cert) },
    { "client-cert", offsetof (bench_options_t, client_cert) },
    { NULL, 0 }
};

//  --------------------------------------------------------------------------

int
bench_options_parse (bench_options_t *options, int argc, char **argv)
{
    *options = (bench_options_t) {
        .clients = 1, .size = 64, .count = 100000, .window = 1, .prefetch = 1,
        .timeout = 60000, .idle = 1000, .sndhwm = 100000, .protocol = 2, .io_threads = 1
    };
    if (argc < 2) {
        fprintf (stderr, "usage: %s MODE [--key value ...]\n", argv [0]);
        return -1;
    }
    options->mode = argv [1];
    for (int index = 2; index < argc; index += 2) {
        const char *key = argv [index];
        const char *value = index + 1 < argc? argv [index + 1]: NULL;
        if (strncmp (key, "--", 2) || !value) {
            fprintf (stderr, "%s: expected --key value at '%s'\n", argv [0], key);
            return -1;
        }
        key += 2;
        const s_option_t *text = s_text_options;
        while (text->name && strcmp (text->name, key))
            text++;
        if (text->name)
            *(const char **) ((char *) options + text->offset) = value;
        else {
            const s_option_t *option = s_int_options;
            while (option->name && strcmp (option->name, key))
                option++;
            char *end = NULL;
            errno = 0;
            long long number = strtoll (value, &end, 10);
            if (!option->name || errno || *end || end == value || number < 0) {
                fprintf (stderr, "%s: bad option --%s %s\n", argv [0], key, value);
                return -1;
            }
            *(int64_t *) ((char *) options + option->offset) = number;
        }
    }
    if (options->size < BENCH_STAMP_SIZE || options->count < 1 || options->clients < 1 || options->window < 1) {
        fprintf (stderr, "%s: --size must be >= %d (it carries a timestamp), counts >= 1\n", argv [0],
                 BENCH_STAMP_SIZE);
        return -1;
    }
    if (options->io_threads < 1 || options->io_threads > 64) {
        fprintf (stderr, "%s: --io-threads must be from 1 to 64\n", argv [0]);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------

void *
bench_context_new (bench_options_t *options)
{
    void *context = zmq_ctx_new ();
    if (!context || zmq_ctx_set (context, ZMQ_IO_THREADS, (int) options->io_threads))
        bench_fail ("cannot make a context with %lld I/O threads: %s", (long long) options->io_threads,
                    zmq_strerror (zmq_errno ()));
    return context;
}

//  --------------------------------------------------------------------------

int64_t
bench_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

//  --------------------------------------------------------------------------

void
bench_sleep_until (int64_t when_ns)
{
    struct timespec when = { when_ns / 1000000000, when_ns % 1000000000 };
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL) == EINTR)
        ;
}

//  --------------------------------------------------------------------------
//  User + system seconds of another process, from /proc/<pid>/stat

static double
s_process_cpu (int64_t pid)
{
    char path [64], line [1024];
    snprintf (path, sizeof path, "/proc/%lld/stat", (long long) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t size = fread (line, 1, sizeof line - 1, file);
    fclose (file);
    line [size] = 0;
    //  The command name may hold spaces and parentheses: fields start after the last ')'
    char *fields = strrchr (line, ')');
    unsigned long utime = 0, stime = 0;
    if (!fields || sscanf (fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                           &utime, &stime) != 2)
        return 0;
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

//  --------------------------------------------------------------------------
//  Nanoseconds another process's threads have run, the sum of the first
//  field of each /proc/<pid>/task/<tid>/schedstat; 0 if unknown

static int64_t
s_process_run_ns (int64_t pid)
{
    char path [320];
    snprintf (path, sizeof path, "/proc/%lld/task", (long long) pid);
    DIR *tasks = opendir (path);
    if (!tasks)
        return 0;
    int64_t total = 0;
    struct dirent *task;
    while ((task = readdir (tasks))) {
        if (task->d_name [0] == '.')
            continue;
        snprintf (path, sizeof path, "/proc/%lld/task/%s/schedstat", (long long) pid, task->d_name);
        FILE *file = fopen (path, "r");
        long long run = 0;
        if (file && fscanf (file, "%lld", &run) == 1)
            total += run;
        if (file)
            fclose (file);
    }
    closedir (tasks);
    return total;
}

//  --------------------------------------------------------------------------
//  One "Key: N kB" line of /proc/<pid>/status, in KiB

static long
s_process_status_kb (int64_t pid, const char *key)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%lld/status", (long long) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    long value = 0;
    size_t key_length = strlen (key);
    while (fgets (line, sizeof line, file))
        if (!strncmp (line, key, key_length) && line [key_length] == ':') {
            value = atol (line + key_length + 1);
            break;
        }
    fclose (file);
    return value;
}

//  --------------------------------------------------------------------------

long
bench_rss_kb (int64_t pid)
{
    return s_process_status_kb (pid, "VmRSS");
}

//  --------------------------------------------------------------------------

void
bench_mark (bench_mark_t *mark, int64_t server_pid)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    mark->client_cpu = (double) usage.ru_utime.tv_sec + (double) usage.ru_utime.tv_usec / 1e6
                     + (double) usage.ru_stime.tv_sec + (double) usage.ru_stime.tv_usec / 1e6;
    mark->server_cpu = server_pid? s_process_cpu (server_pid): 0;
    mark->server_run_ns = server_pid? s_process_run_ns (server_pid): 0;
    mark->wall_ns = bench_now_ns ();
}

//  --------------------------------------------------------------------------

void
bench_samples_init (bench_samples_t *samples, size_t capacity)
{
    samples->values = capacity? (int64_t *) malloc (capacity * sizeof (int64_t)): NULL;
    if (capacity && !samples->values)
        bench_fail ("out of memory for %zu samples", capacity);
    samples->count = 0;
    samples->capacity = capacity;
}

void
bench_samples_add (bench_samples_t *samples, int64_t value)
{
    if (samples->count < samples->capacity)
        samples->values [samples->count++] = value;
}

void
bench_samples_free (bench_samples_t *samples)
{
    free (samples->values);
    samples->values = NULL;
    samples->count = samples->capacity = 0;
}

static int
s_compare_int64 (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return (a > b) - (a < b);
}

//  --------------------------------------------------------------------------

void
bench_report (int64_t operations, int64_t elapsed_ns, bench_mark_t *start, bench_mark_t *end,
              int64_t server_pid, bench_samples_t *samples, const char *extra)
{
    double seconds = elapsed_ns > 0? (double) elapsed_ns / 1e9: 1e-9;
    printf ("RESULT rate=%.0f operations=%lld seconds=%.3f client_cpu=%.2f server_cpu=%.2f",
            (double) operations / seconds, (long long) operations, seconds,
            end->client_cpu - start->client_cpu, end->server_cpu - start->server_cpu);
    if (samples && samples->count) {
        qsort (samples->values, samples->count, sizeof (int64_t), s_compare_int64);
        size_t p99 = samples->count * 99 / 100;
        printf (" p50_us=%.1f p99_us=%.1f samples=%zu",
                (double) samples->values [samples->count / 2] / 1e3,
                (double) samples->values [p99 < samples->count? p99: samples->count - 1] / 1e3, samples->count);
    }
    printf (" client_rss_kb=%ld", s_process_status_kb (getpid (), "VmHWM"));
    if (server_pid)
        printf (" server_rss_kb=%ld", bench_rss_kb (server_pid));
    int64_t server_run_ns = end->server_run_ns - start->server_run_ns;
    if (server_pid && start->server_run_ns && server_run_ns > 0)
        printf (" per_server_cpu_s=%.0f", (double) operations * 1e9 / (double) server_run_ns);
    printf ("%s%s\n", extra? " ": "", extra? extra: "");
    fflush (stdout);
}

//  --------------------------------------------------------------------------
//  Write "#NNNNNNNNNN " without snprintf: it runs once per message sent

static void
s_seq_write (char *cursor, int64_t seq)
{
    cursor [0] = '#';
    for (int index = BENCH_SEQ_SIZE - 2; index > 0; index--, seq /= 10)
        cursor [index] = (char) ('0' + seq % 10);
    cursor [BENCH_SEQ_SIZE - 1] = ' ';
}

//  --------------------------------------------------------------------------

void
bench_window_init (bench_window_t *window, int subscribers)
{
    window->received = (atomic_llong *) calloc ((size_t) subscribers, sizeof (atomic_llong));
    if (!window->received)
        bench_fail ("out of memory for %d subscribers", subscribers);
    window->count = subscribers;
    window->slowest = 0;
}

void
bench_window_free (bench_window_t *window)
{
    free (window->received);
    window->received = NULL;
}

//  The smallest count of all subscribers
static int64_t
s_window_slowest (bench_window_t *window)
{
    int64_t slowest = INT64_MAX;
    for (int index = 0; index < window->count; index++) {
        int64_t received = atomic_load_explicit (&window->received [index], memory_order_acquire);
        if (received < slowest)
            slowest = received;
    }
    return slowest;
}

//  Wait until message sent is within ahead of the slowest subscriber. The
//  smallest count is read again only when the last reading blocks, and the
//  publisher sleeps while blocked: it must not take the CPU that zgate and
//  the receivers need to catch up (two cores). Fails after idle ms without
//  progress.
static void
s_window_wait (bench_window_t *window, int64_t sent, bench_options_t *options)
{
    if (sent - window->slowest < options->ahead)
        return;
    int64_t stalled_since = bench_now_ns ();
    int64_t before = window->slowest;
    while (sent - (window->slowest = s_window_slowest (window)) >= options->ahead) {
        int64_t now = bench_now_ns ();
        if (window->slowest != before) {
            before = window->slowest;
            stalled_since = now;
        }
        else
        if (now - stalled_since > options->idle * 1000000)
            bench_fail ("lossless run: the slowest subscriber is stuck at %lld of %lld sent (a message was lost)",
                        (long long) window->slowest, (long long) sent);
        bench_sleep_until (now + BENCH_WINDOW_SLEEP_NS);
    }
}

//  --------------------------------------------------------------------------

void
bench_check_lossless (bench_options_t *options, int64_t delivered, int64_t expected, int64_t gaps)
{
    if (options->ahead && (delivered != expected || gaps))
        bench_fail ("lossless run: %lld of %lld messages delivered, %lld sequence numbers skipped",
                    (long long) delivered, (long long) expected, (long long) gaps);
}

//  --------------------------------------------------------------------------

void
bench_publish (void *publisher, bench_options_t *options, atomic_int *warmed, int expected,
               atomic_llong *start_ns, bench_mark_t *start, bench_window_t *window)
{
    int64_t warm_deadline = bench_now_ns () + BENCH_WARM_TIMEOUT * 1000000LL;
    while (atomic_load (warmed) < expected && bench_now_ns () < warm_deadline) {
        zmq_send (publisher, BENCH_TOPIC_WARM, strlen (BENCH_TOPIC_WARM), ZMQ_SNDMORE);
        zmq_send (publisher, "probe", 5, 0);
        bench_sleep_until (bench_now_ns () + 5000000);
    }
    if (atomic_load (warmed) < expected)
        bench_fail ("only %d of %d subscribers got a probe", atomic_load (warmed), expected);

    char *payload = (char *) malloc ((size_t) options->size);
    memset (payload, 'x', (size_t) options->size);
    bench_mark (start, options->server_pid);
    atomic_store (start_ns, start->wall_ns);
    for (int64_t sent = 0; sent < options->count; sent++) {
        if (options->rate) {
            bench_sleep_until (start->wall_ns + sent * 1000000000 / options->rate);
            char stamp [BENCH_STAMP_SIZE + 1];
            snprintf (stamp, sizeof stamp, "@%019lld ", (long long) bench_now_ns ());
            memcpy (payload, stamp, BENCH_STAMP_SIZE);
        }
        if (options->ahead)
            s_window_wait (window, sent, options);
        if (options->size >= BENCH_STAMP_SIZE + BENCH_SEQ_SIZE)
            s_seq_write (payload + BENCH_STAMP_SIZE, sent);
        zmq_send (publisher, BENCH_TOPIC_DATA, strlen (BENCH_TOPIC_DATA), ZMQ_SNDMORE);
        zmq_send (publisher, payload, (size_t) options->size, 0);
    }
    free (payload);
}

//  --------------------------------------------------------------------------

int64_t
bench_stamp_read (const char *data, size_t size)
{
    if (size < BENCH_STAMP_SIZE || data [0] != '@' || data [BENCH_STAMP_SIZE - 1] != ' ')
        return 0;
    int64_t stamp = 0;
    for (int index = 1; index < BENCH_STAMP_SIZE - 1; index++) {
        if (data [index] < '0' || data [index] > '9')
            return 0;
        stamp = stamp * 10 + (data [index] - '0');
    }
    return stamp;
}

//  --------------------------------------------------------------------------

int64_t
bench_seq_read (const char *data, size_t size)
{
    const char *cursor = data + BENCH_STAMP_SIZE;
    if (size < BENCH_STAMP_SIZE + BENCH_SEQ_SIZE || cursor [0] != '#' || cursor [BENCH_SEQ_SIZE - 1] != ' ')
        return -1;
    int64_t seq = 0;
    for (int index = 1; index < BENCH_SEQ_SIZE - 1; index++) {
        if (cursor [index] < '0' || cursor [index] > '9')
            return -1;
        seq = seq * 10 + (cursor [index] - '0');
    }
    return seq;
}

//  --------------------------------------------------------------------------

void
bench_fail (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "zg_bench: ");
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
    exit (1);
}
