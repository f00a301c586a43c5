/*  =========================================================================
    zg_gw_threads - the gateway's threads (gateway/threads): what the first
    gateway thread shares with the others

    Why whole actors, one lws context each, rather than lws service threads:
    Debian 12's lws is built with LWS_MAX_SMP 1 (count_threads cannot be
    above 1), and a gateway thread's state (sessions, bridges, pending
    requests) is the single-threaded actor's anyway. So N actors listen on
    one port with SO_REUSEPORT (LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE) and
    the kernel hands each new connection to one of them; a session lives
    its whole life in that thread, so its order is the thread's order.

    Shared, and only this: the session counts (mutex), the counter sets
    (atomics, each written by its thread only, summed by any). The settings
    list is the primary's alone: only its thread calls set, start,
    peer_stats and terminate.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_threads.h"
#include "zg_slots.h"
#include "zg_inflight.h"
#include <pthread.h>

struct _zg_gw_threads_t {
    size_t count;                   //  Threads to run, primary included
    zlistx_t *settings;             //  "key=value" the primary applied, in order
    zactor_t *others [ZG_GW_THREADS_MAX];   //  The threads after the primary, once started
    size_t started;                 //  Of them, started
    bool running;                   //  The primary listens: settings are no longer kept
    pthread_mutex_t lock;           //  Guards what follows
    zg_slots_t *peers;              //  Sessions per client address
    int64_t sessions;               //  Sessions in all
    zg_gw_counters_t *counters [ZG_GW_THREADS_MAX]; //  Each joined thread's counters, or NULL
    struct lws_context *contexts [ZG_GW_THREADS_MAX];   //  Each serving thread's lws context, or NULL
    zlistx_t *handed [ZG_GW_THREADS_MAX];   //  Each thread's connections handed, fd + 1 as pointers
    size_t turn;                    //  Thread that gets the next session
    zg_inflight_t *publishes;       //  Bytes the threads published, not yet read by the topics actor
};

zg_gw_threads_t *
zg_gw_threads_new (void)
{
    zg_gw_threads_t *self = (zg_gw_threads_t *) zmalloc (sizeof (zg_gw_threads_t));
    assert (self);
    self->count = 1;
    self->settings = zlistx_new ();
    zlistx_set_destructor (self->settings, (zlistx_destructor_fn *) zstr_free);
    self->peers = zg_slots_new ();
    for (size_t index = 0; index < ZG_GW_THREADS_MAX; index++)
        self->handed [index] = zlistx_new ();
    pthread_mutex_init (&self->lock, NULL);
    self->publishes = zg_inflight_new ();
    return self;
}

void
zg_gw_threads_destroy (zg_gw_threads_t **self_p)
{
    assert (self_p);
    zg_gw_threads_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->started; index++)
        zactor_destroy (&self->others [index]);
    zlistx_destroy (&self->settings);
    for (size_t index = 0; index < ZG_GW_THREADS_MAX; index++)
        zlistx_destroy (&self->handed [index]);
    zg_slots_destroy (&self->peers);
    zg_inflight_destroy (&self->publishes);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
zg_gw_threads_set_count (zg_gw_threads_t *self, const char *value, char *error, size_t size)
{
    assert (self);
    if (self->running) {
        snprintf (error, size, "gateway/threads takes a restart");
        return -1;
    }
    char *end = NULL;
    long count = strtol (value, &end, 10);
    if (end == value || *end || count < 0 || count > ZG_GW_THREADS_MAX) {
        snprintf (error, size, "'%s' is not a thread count from 0 (one less than the cores) to %d", value,
                  ZG_GW_THREADS_MAX);
        return -1;
    }
    //  Every gateway thread receives and encodes every topic message, and
    //  the topics actor and libzmq's I/O thread need a core of their own: on
    //  2 cores under load, 2 gateway threads delivered 0.61-0.80x of what 1
    //  did (lossless 1->8, alternating pairs)
    if (count == 0)
        count = sysconf (_SC_NPROCESSORS_ONLN) - 1;
    self->count = count < 1? 1: count > ZG_GW_THREADS_MAX? ZG_GW_THREADS_MAX: (size_t) count;
    //  The first thread serves every HTTP request too: sessions start on the next
    self->turn = 1 % self->count;
    return 0;
}

size_t
zg_gw_threads_count (zg_gw_threads_t *self)
{
    assert (self);
    return self->count;
}

zg_inflight_t *
zg_gw_threads_publishes (zg_gw_threads_t *self)
{
    assert (self);
    return self->publishes;
}

int
zg_gw_threads_set (zg_gw_threads_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    //  One metrics port per process: the primary's; and TLS connections
    //  all stay in the primary, so the others need no certificate
    if (streq (key, "metrics-port") || streq (key, "tls-cert") || streq (key, "tls-key"))
        return 0;
    for (size_t index = 0; index < self->started; index++)
        if (zg_actor_set (self->others [index], key, value, error, size))
            return -1;
    if (!self->running)
        zlistx_add_end (self->settings, zsys_sprintf ("%s=%s", key, value));
    return 0;
}

int
zg_gw_threads_start (zg_gw_threads_t *self, zactor_fn *gateway, const char *port, char *error, size_t size)
{
    assert (self);
    self->running = true;
    while (self->started + 1 < self->count) {
        zactor_t *actor = zactor_new (gateway, self);
        self->others [self->started++] = actor;
        for (char *setting = (char *) zlistx_first (self->settings); setting;
             setting = (char *) zlistx_next (self->settings)) {
            size_t length = strcspn (setting, "=");
            char key [256];
            snprintf (key, sizeof key, "%.*s", (int) length, setting);
            if (zg_actor_set (actor, key, setting + length + 1, error, size))
                return -1;
        }
        if (zg_actor_set (actor, "http-port", port, error, size))
            return -1;
    }
    zlistx_purge (self->settings);
    return 0;
}

void
zg_gw_threads_peer_stats (zg_gw_threads_t *self, const char *section, const char *stats)
{
    assert (self);
    for (size_t index = 0; index < self->started; index++)
        zstr_sendx (self->others [index], "PEER-STATS", section, stats, NULL);
}

void
zg_gw_threads_terminate (zg_gw_threads_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->started; index++)
        zstr_send (self->others [index], "$TERM");
}

size_t
zg_gw_threads_join (zg_gw_threads_t *self, zg_gw_counters_t *counters)
{
    assert (self && counters);
    pthread_mutex_lock (&self->lock);
    size_t index = 0;
    while (index < ZG_GW_THREADS_MAX - 1 && self->counters [index])
        index++;
    assert (!self->counters [index]);
    self->counters [index] = counters;
    pthread_mutex_unlock (&self->lock);
    return index;
}

void
zg_gw_threads_leave (zg_gw_threads_t *self, size_t index)
{
    assert (self && index < ZG_GW_THREADS_MAX);
    pthread_mutex_lock (&self->lock);
    self->counters [index] = NULL;
    self->contexts [index] = NULL;
    void *handed;
    while ((handed = zlistx_detach (self->handed [index], NULL)))
        close ((int) (intptr_t) handed - 1);
    pthread_mutex_unlock (&self->lock);
}

void
zg_gw_threads_serve (zg_gw_threads_t *self, size_t index, struct lws_context *context)
{
    assert (self && index < ZG_GW_THREADS_MAX);
    pthread_mutex_lock (&self->lock);
    self->contexts [index] = context;
    pthread_mutex_unlock (&self->lock);
}

size_t
zg_gw_threads_next (zg_gw_threads_t *self)
{
    assert (self);
    //  Only the primary's thread accepts, so no lock
    size_t index = self->turn;
    self->turn = (self->turn + 1) % self->count;
    return index;
}

int
zg_gw_threads_hand (zg_gw_threads_t *self, size_t index, int fd)
{
    assert (self && index < ZG_GW_THREADS_MAX && fd >= 0);
    pthread_mutex_lock (&self->lock);
    struct lws_context *context = self->contexts [index];
    if (context) {
        zlistx_add_end (self->handed [index], (void *) (intptr_t) (fd + 1));
        //  Safe from any thread while the context exists, which its
        //  thread ends only after leave (under this lock)
        lws_cancel_service (context);
    }
    pthread_mutex_unlock (&self->lock);
    return context? 0: -1;
}

int
zg_gw_threads_take (zg_gw_threads_t *self, size_t index)
{
    assert (self && index < ZG_GW_THREADS_MAX);
    pthread_mutex_lock (&self->lock);
    void *handed = zlistx_detach (self->handed [index], NULL);
    pthread_mutex_unlock (&self->lock);
    return handed? (int) (intptr_t) handed - 1: -1;
}

int
zg_gw_threads_admit (zg_gw_threads_t *self, const char *address, int64_t max_sessions, int64_t max_per_address,
                     bool take)
{
    assert (self && address);
    pthread_mutex_lock (&self->lock);
    int code = 0;
    if (self->sessions >= max_sessions)
        code = ZG_ERR_UNAVAILABLE;
    else
    if ((int64_t) zg_slots_held (self->peers, address) >= max_per_address)
        code = ZG_ERR_TOO_MANY;
    else
    if (take) {
        zg_slots_take (self->peers, address, INT64_MAX);
        self->sessions++;
    }
    pthread_mutex_unlock (&self->lock);
    return code;
}

void
zg_gw_threads_closed (zg_gw_threads_t *self, const char *address)
{
    assert (self && address);
    pthread_mutex_lock (&self->lock);
    self->sessions--;
    zg_slots_give (self->peers, address);
    pthread_mutex_unlock (&self->lock);
}

//  The counter set as its fields, all _Atomic uint64_t (zg_gw_answers.h)
#define S_FIELDS (sizeof (zg_gw_counters_t) / sizeof (_Atomic uint64_t))

void
zg_gw_threads_sum (zg_gw_threads_t *self, zg_gw_counters_t *total)
{
    assert (self && total);
    _Static_assert (sizeof (zg_gw_counters_t) % sizeof (_Atomic uint64_t) == 0, "counters are uint64s");
    _Atomic uint64_t *sum = (_Atomic uint64_t *) total;
    for (size_t field = 0; field < S_FIELDS; field++)
        sum [field] = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t index = 0; index < ZG_GW_THREADS_MAX; index++)
        if (self->counters [index]) {
            _Atomic uint64_t *set = (_Atomic uint64_t *) self->counters [index];
            for (size_t field = 0; field < S_FIELDS; field++)
                sum [field] += set [field];
        }
    pthread_mutex_unlock (&self->lock);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A gateway thread for the test: takes its settings, says each back
static void
s_test_thread (zsock_t *pipe, void *args)
{
    zg_gw_threads_t *threads = (zg_gw_threads_t *) args;
    zg_gw_counters_t counters = { 0 };
    counters.sessions_accepted = 5;
    size_t index = zg_gw_threads_join (threads, &counters);
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *message = zmsg_recv (pipe);
        if (!message)
            break;
        char *command = zmsg_popstr (message);
        bool done = streq (command, "$TERM");
        if (streq (command, "SET")) {
            char *key = zmsg_popstr (message);
            //  Refuse one key, as a gateway refuses a bad value, and the
            //  keys that must stay the primary's
            bool bad = streq (key, "bad") || streq (key, "metrics-port") || streq (key, "tls-cert");
            zsock_send (pipe, "is", bad? -1: 0, bad? "nope": "");
            zstr_free (&key);
        }
        zstr_free (&command);
        zmsg_destroy (&message);
        if (done)
            break;
    }
    zg_gw_threads_leave (threads, index);
}

void
zg_gw_threads_test (bool verbose)
{
    printf (" * zg_gw_threads: ");
    //  @selftest
    char error [256];
    zg_gw_threads_t *threads = zg_gw_threads_new ();
    assert (zg_gw_threads_count (threads) == 1);
    assert (zg_gw_threads_set_count (threads, "many", error, sizeof error) == -1);
    assert (zg_gw_threads_set_count (threads, "65", error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_gw_threads_set_count (threads, "0", error, sizeof error) == 0);
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    assert (zg_gw_threads_count (threads) == (size_t) (cores > 2? cores - 1: 1));
    assert (zg_gw_threads_set_count (threads, "3", error, sizeof error) == 0);
    assert (zg_gw_threads_count (threads) == 3);

    //  Sessions in all and per address, across threads
    assert (zg_gw_threads_admit (threads, "10.0.0.1", 2, 1, false) == 0);
    assert (zg_gw_threads_admit (threads, "10.0.0.1", 2, 1, true) == 0);
    assert (zg_gw_threads_admit (threads, "10.0.0.1", 2, 1, false) == ZG_ERR_TOO_MANY);
    assert (zg_gw_threads_admit (threads, "10.0.0.1", 2, 1, true) == ZG_ERR_TOO_MANY);
    assert (zg_gw_threads_admit (threads, "10.0.0.2", 2, 1, true) == 0);
    assert (zg_gw_threads_admit (threads, "10.0.0.3", 2, 1, true) == ZG_ERR_UNAVAILABLE);
    zg_gw_threads_closed (threads, "10.0.0.1");
    assert (zg_gw_threads_admit (threads, "10.0.0.3", 2, 1, true) == 0);
    zg_gw_threads_closed (threads, "10.0.0.2");
    zg_gw_threads_closed (threads, "10.0.0.3");
    assert (zg_gw_threads_admit (threads, "10.0.0.1", 2, 1, false) == 0);

    //  Connections handed to a thread: only one that serves takes them, in
    //  order; those left when it leaves are closed
    int pair [2];
    assert (socketpair (AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    assert (zg_gw_threads_hand (threads, 5, pair [0]) == -1);
    struct lws_context_creation_info info = { 0 };
    info.port = CONTEXT_PORT_NO_LISTEN;
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context *context = lws_create_context (&info);
    assert (context);
    zg_gw_threads_serve (threads, 5, context);
    assert (zg_gw_threads_hand (threads, 5, pair [0]) == 0);
    assert (zg_gw_threads_hand (threads, 5, pair [1]) == 0);
    assert (zg_gw_threads_take (threads, 5) == pair [0]);
    assert (zg_gw_threads_take (threads, 4) == -1);
    zg_gw_threads_leave (threads, 5);
    assert (zg_gw_threads_take (threads, 5) == -1);
    assert (fcntl (pair [1], F_GETFD) == -1 && errno == EBADF);
    assert (zg_gw_threads_hand (threads, 5, pair [0]) == -1);
    close (pair [0]);
    lws_context_destroy (context);
    //  Turns start with the second thread: the first serves HTTP too
    assert (zg_gw_threads_next (threads) == 1);
    assert (zg_gw_threads_next (threads) == 2);
    assert (zg_gw_threads_next (threads) == 0);

    //  Settings before the start are replayed, after it sent on; the
    //  metrics port and the TLS certificate stay the primary's
    zg_gw_counters_t primary = { 0 };
    primary.sessions_accepted = 1;
    primary.out [ZG_TOPICS] = 7;
    assert (zg_gw_threads_join (threads, &primary) == 0);
    assert (zg_gw_threads_set (threads, "verbose", "0", error, sizeof error) == 0);
    assert (zg_gw_threads_set (threads, "metrics-port", "1", error, sizeof error) == 0);
    assert (zg_gw_threads_set (threads, "tls-cert", "/no/such/cert.pem", error, sizeof error) == 0);
    assert (zg_gw_threads_start (threads, s_test_thread, "8080", error, sizeof error) == 0);
    zg_gw_counters_t total;
    zg_gw_threads_sum (threads, &total);
    assert (total.sessions_accepted == 11 && total.out [ZG_TOPICS] == 7);
    assert (zg_gw_threads_set_count (threads, "2", error, sizeof error) == -1);
    assert (zg_gw_threads_set (threads, "bad", "1", error, sizeof error) == -1);
    assert (streq (error, "nope"));
    zg_gw_threads_peer_stats (threads, "queues", "{}");
    zg_gw_threads_terminate (threads);
    zg_gw_threads_destroy (&threads);
    //  @end
    printf ("OK\n");
}
