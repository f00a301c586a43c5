/*  =========================================================================
    zgate - the daemon: reads the configuration, starts the actors, waits for
    SIGINT or SIGTERM, stops the actors in reverse order and exits 0.

    A configuration error (unknown key, bad value, endpoint that cannot be
    bound) is one line on stderr and exit code 2.
    =========================================================================
*/

#include "zgate.h"
#include <pthread.h>
#include <signal.h>

#define ZGATE_EXIT_CONFIG 2

//  The actors zgate runs, each configured from the config section of its name
typedef struct {
    const char *section;
    zactor_fn *actor_fn;
} s_actor_spec_t;

static const s_actor_spec_t s_actor_specs [] = {
    { "topics", zg_topics },
    { "queues", zg_queues },
    { "rooms", zg_rooms },
    { "gateway", zg_gateway },
};
#define ZGATE_ACTORS (sizeof s_actor_specs / sizeof s_actor_specs [0])

//  The gateway is a client of the other actors over inproc: once it is
//  configured, it gets each endpoint (the config key path) as its own key
typedef struct {
    const char *key;
    const char *path;
} s_gateway_link_t;

static const s_gateway_link_t s_gateway_links [] = {
    { "topics-subscribers", "topics/inproc-subscribers" },
    { "topics-publishers", "topics/inproc-publishers" },
    { "queues-producers", "queues/inproc-producers" },
    { "queues-workers", "queues/inproc-workers" },
    { "rooms-clients", "rooms/inproc-clients" },
};
#define ZGATE_GATEWAY_LINKS (sizeof s_gateway_links / sizeof s_gateway_links [0])

static void
s_print_help (zg_config_t *config)
{
    printf ("usage: zgate [--config FILE] [--<section>-<key> VALUE ...]\n\n"
            "zgate %s, a messaging gateway on ZeroMQ: topics, work queues and lockstep rooms.\n"
            "Without --config it runs on its embedded defaults (config/zgate.cfg as built).\n"
            "Environment variables ZGATE_<SECTION>_<KEY> override the file; flags override both.\n\n"
            "  --config FILE                      read this ZPL configuration file\n"
            "  --help                             print this help and exit\n"
            "  --version                          print the version and exit\n",
            ZGATE_VERSION);
    zg_config_print_flags (config, stdout);
}

//  Build the configuration from its layers; returns 0, 1 if the program is
//  done (help, version), or -1 with the reason in the config's error
static int
s_load_config (zg_config_t *config, int argc, char **argv)
{
    if (argc > 1 && (streq (argv [1], "--help") || streq (argv [1], "-h"))) {
        s_print_help (config);
        return 1;
    }
    if (argc > 1 && streq (argv [1], "--version")) {
        printf ("zgate %s\n", ZGATE_VERSION);
        return 1;
    }
    return zg_config_load (config, argc, argv);
}

//  Log every actor's counters on one line each
static void
s_log_stats (zactor_t **actors)
{
    for (size_t index = 0; index < ZGATE_ACTORS; index++) {
        char *stats = zg_actor_stats (actors [index]);
        zsys_info ("stats %s %s", s_actor_specs [index].section, stats);
        zstr_free (&stats);
    }
}

//  The index of the actor running a config section, or -1
static int
s_actor_index (const char *section)
{
    for (size_t index = 0; index < ZGATE_ACTORS; index++)
        if (streq (s_actor_specs [index].section, section))
            return (int) index;
    return -1;
}

//  Give the gateway the inproc endpoints of the actors that run
static void
s_link_gateway (zactor_t **actors, zg_config_t *config, char *error, size_t size)
{
    int gateway = s_actor_index ("gateway");
    for (size_t index = 0; index < ZGATE_GATEWAY_LINKS && gateway >= 0 && !*error; index++) {
        char section [32];
        snprintf (section, sizeof section, "%.*s", (int) strcspn (s_gateway_links [index].path, "/"),
                  s_gateway_links [index].path);
        if (s_actor_index (section) >= 0)
            zg_actor_set (actors [gateway], s_gateway_links [index].key,
                          zg_config_get (config, s_gateway_links [index].path), error, size);
    }
}

//  Hand every other actor's counters to the gateway, for /api/stats and /metrics
static void
s_share_stats (zactor_t **actors)
{
    int gateway = s_actor_index ("gateway");
    for (size_t index = 0; index < ZGATE_ACTORS && gateway >= 0; index++)
        if ((int) index != gateway) {
            char *stats = zg_actor_stats (actors [index]);
            zstr_sendx (actors [gateway], "PEER-STATS", s_actor_specs [index].section, stats, NULL);
            zstr_free (&stats);
        }
}

static void
s_destroy_actors (zactor_t **actors)
{
    for (size_t index = ZGATE_ACTORS; index > 0; index--)
        zactor_destroy (&actors [index - 1]);
}

int
main (int argc, char **argv)
{
    zg_config_t *config = zg_config_new ();
    int rc = s_load_config (config, argc, argv);
    if (rc) {
        if (rc == -1)
            fprintf (stderr, "zgate: %s\n", zg_config_error (config));
        zg_config_destroy (&config);
        return rc == -1? ZGATE_EXIT_CONFIG: 0;
    }
    //  Block SIGINT and SIGTERM in every thread (threads inherit the mask):
    //  the main loop takes them with sigtimedwait, so no actor's poll is
    //  interrupted and no signal can slip between a check and a sleep
    sigset_t stop_signals;
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGINT);
    sigaddset (&stop_signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop_signals, NULL);
    zsys_init ();
    zsys_set_logident ("zgate");

    zactor_t *actors [ZGATE_ACTORS] = { NULL };
    char error [512] = "";
    for (size_t index = 0; index < ZGATE_ACTORS && !*error; index++) {
        actors [index] = zactor_new (s_actor_specs [index].actor_fn, NULL);
        char reason [256];
        if (zg_actor_set (actors [index], "verbose", zg_config_get (config, "server/verbose"),
                          reason, sizeof reason))
            snprintf (error, sizeof error, "server/verbose: %s", reason);
        else
            zg_actor_configure (actors [index], config, s_actor_specs [index].section, error, sizeof error);
    }
    if (!*error)
        s_link_gateway (actors, config, error, sizeof error);
    if (*error) {
        fprintf (stderr, "zgate: %s\n", error);
        s_destroy_actors (actors);
        zg_config_destroy (&config);
        return ZGATE_EXIT_CONFIG;
    }
    zsys_info ("zgate %s running: topics subscribers %s, publishers %s, web http://%s:%s/", ZGATE_VERSION,
               zg_config_get (config, "topics/subscribers"), zg_config_get (config, "topics/publishers"),
               zg_config_get (config, "gateway/interface"), zg_config_get (config, "gateway/http-port"));

    int64_t stats_interval = zg_config_get_int (config, "server/stats-interval");
    int64_t next_stats = zclock_mono () + stats_interval;
    int64_t share_interval = zg_config_get_int (config, "gateway/peer-stats-interval");
    int64_t next_share = zclock_mono ();
    const struct timespec tick = { 0, 50 * 1000000 };
    while (sigtimedwait (&stop_signals, NULL, &tick) == -1) {
        if (stats_interval > 0 && zclock_mono () >= next_stats) {
            s_log_stats (actors);
            next_stats += stats_interval;
        }
        if (zclock_mono () >= next_share) {
            s_share_stats (actors);
            next_share = zclock_mono () + share_interval;
        }
    }
    zsys_info ("zgate stopping");
    s_destroy_actors (actors);
    zg_config_destroy (&config);
    return 0;
}
