/*  =========================================================================
    zgate - the daemon: reads the configuration, starts the actors, waits for
    SIGINT or SIGTERM, stops the actors in reverse order and exits 0.

    A configuration error (unknown key, bad value, endpoint that cannot be
    bound, a native endpoint off loopback without security) is one line on
    stderr and exit code 2.

    With security/server-cert, zgate runs czmq's zauth actor, the ZAP
    handler of every native endpoint's CURVE handshake: it starts before the
    actors bind and stops after them, because libzmq lets a CURVE client in
    unchecked when no ZAP handler answers.
    =========================================================================
*/

#include "zgate.h"
#include "zg_gateway.h"
#include "zg_log.h"
#include "zg_memtrim.h"
#include "zg_security.h"
#include "zg_build.h"
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#define ZGATE_EXIT_CONFIG 2
//  Most libzmq I/O threads server/io-threads may ask for
#define ZG_IO_THREADS_MAX 64

//  The actors zgate runs, each configured from the config section of its name;
//  the native ones get the security keys before their endpoints
typedef struct {
    const char *section;
    zactor_fn *actor_fn;
    bool native;
} s_actor_spec_t;

static const s_actor_spec_t s_actor_specs [] = {
    //  First, so it is stopped last: the topics actor links to it
    { "cluster", zg_cluster, false },
    { "topics", zg_topics, true },
    { "queues", zg_queues, true },
    { "rooms", zg_rooms, true },
    { "gateway", zg_gateway, false },
};
#define ZGATE_ACTORS (sizeof s_actor_specs / sizeof s_actor_specs [0])

//  The gateway is a client of the other actors over inproc: once it is
//  configured, it gets each endpoint (the config key path) as its own key,
//  and the queues' bounds it checks web requests against
typedef struct {
    const char *key;
    const char *path;
} s_gateway_link_t;

static const s_gateway_link_t s_gateway_links [] = {
    { "topics-subscribers", "topics/inproc-subscribers" },
    { "topics-publishers", "topics/inproc-publishers" },
    { "topics-history", "topics/inproc-history-requests" },
    { "topics-presence", "topics/presence" },
    { "queues-producers", "queues/inproc-producers" },
    { "queues-workers", "queues/inproc-workers" },
    { "rooms-clients", "rooms/inproc-clients" },
    { "queues-max-prefetch", "queues/max-prefetch" },
    { "queues-max-reply-timeout", "queues/max-reply-timeout" },
};
#define ZGATE_GATEWAY_LINKS (sizeof s_gateway_links / sizeof s_gateway_links [0])

//  The security keys the gateway takes as its own (the web's trust
//  boundary), given before its section so that it listens with them
static const char *s_gateway_security [] = {
    "jwt-algorithm", "jwt-secret", "jwt-public-key", "auth-timeout", "permissions", NULL
};

//  Keys naming files whose content SIGHUP loads again, changed or not
static const char *s_file_keys [] = {
    "gateway/tls-cert", "gateway/tls-key", "security/jwt-public-key", "security/permissions", NULL
};

static void
s_print_help (zg_config_t *config)
{
    printf ("usage: zgate [-c FILE] [--<section>-<key>[=]VALUE ...]\n\n"
            "zgate %s, a messaging gateway on ZeroMQ: topics, work queues and lockstep rooms.\n"
            "Without a configuration file it runs on its embedded defaults (config/zgate.cfg as built).\n"
            "Environment variables ZGATE_<SECTION>_<KEY> override the file; flags override both.\n"
            "SIGHUP reloads the file, the environment and the flags: log level and limits change at\n"
            "once, endpoints only on a restart. SIGINT or SIGTERM stop zgate.\n\n"
            "  -c, --config FILE                  read this ZPL configuration file (or ZGATE_CONFIG)\n"
            "  -h, --help                         print this help and exit\n"
            "  -V, --version                      print the version and the source commit, and exit\n",
            ZGATE_VERSION);
    zg_config_print_flags (config, stdout);
}

//  True if argv asks for one of two spellings of an option, anywhere
static bool
s_asks_for (int argc, char **argv, const char *short_name, const char *long_name)
{
    for (int index = 1; index < argc; index++)
        if (streq (argv [index], short_name) || streq (argv [index], long_name))
            return true;
    return false;
}

//  Build the configuration from its layers; returns 0, 1 if the program is
//  done (help, version), or -1 with the reason in error
static int
s_load_config (zg_config_t *config, int argc, char **argv, char *error, size_t size)
{
    if (s_asks_for (argc, argv, "-h", "--help")) {
        s_print_help (config);
        return 1;
    }
    if (s_asks_for (argc, argv, "-V", "--version")) {
        printf ("zgate %s (commit %s)\n", ZGATE_VERSION, ZG_BUILD_COMMIT);
        return 1;
    }
    if (zg_config_load (config, argc, argv)) {
        snprintf (error, size, "%s", zg_config_error (config));
        return -1;
    }
    return 0;
}

//  Log every actor's counters on one line each, whole: each is JSON
static void
s_log_stats (zactor_t **actors, zg_log_t *log)
{
    for (size_t index = 0; index < ZGATE_ACTORS; index++) {
        char *stats = zg_actor_stats (actors [index]);
        char *line = zsys_sprintf ("stats %s %s", s_actor_specs [index].section, stats);
        zg_log_info_whole (log, line);
        zstr_free (&line);
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

//  Give the gateway the inproc endpoints of the actors that run; returns 0,
//  or -1 with the reason in error
static int
s_link_gateway (zactor_t *gateway, zg_config_t *config, char *error, size_t size)
{
    for (size_t index = 0; index < ZGATE_GATEWAY_LINKS && !*error; index++) {
        char section [32];
        snprintf (section, sizeof section, "%.*s", (int) strcspn (s_gateway_links [index].path, "/"),
                  s_gateway_links [index].path);
        if (s_actor_index (section) >= 0)
            zg_actor_set (gateway, s_gateway_links [index].key,
                          zg_config_get (config, s_gateway_links [index].path), error, size);
    }
    return *error? -1: 0;
}

//  In cluster mode, link the topics, queues and rooms actors to the cluster actor's bridges
static void
s_link_cluster (zactor_t **actors, zg_config_t *config, char *error, size_t size)
{
    int topics = s_actor_index ("topics");
    if (*zg_config_get (config, "cluster/redis") && topics >= 0)
        zg_actor_set (actors [topics], "cluster", zg_config_get (config, "cluster/inproc-topics"), error, size);
    int queues = s_actor_index ("queues");
    if (*zg_config_get (config, "cluster/redis") && queues >= 0 && !*error)
        zg_actor_set (actors [queues], "cluster", zg_config_get (config, "cluster/inproc-queues"), error, size);
    int rooms = s_actor_index ("rooms");
    if (*zg_config_get (config, "cluster/redis") && rooms >= 0 && !*error)
        zg_actor_set (actors [rooms], "cluster", zg_config_get (config, "cluster/inproc-rooms"), error, size);
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

//  Tell systemd (Type=notify) how zgate is doing; nothing without NOTIFY_SOCKET
static void
s_notify_systemd (const char *state)
{
    const char *path = getenv ("NOTIFY_SOCKET");
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (!path || strlen (path) < 2 || strlen (path) >= sizeof address.sun_path)
        return;
    memcpy (address.sun_path, path, strlen (path));
    if (path [0] == '@')
        address.sun_path [0] = 0;       //  An abstract socket name
    socklen_t length = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + strlen (path));
    int handle = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (handle >= 0) {
        if (sendto (handle, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *) &address, length) < 0)
            zsys_warning ("cannot notify systemd at %s: %s", path, strerror (errno));
        close (handle);
    }
}

//  Keys that only a restart changes: what is bound, how, where the log goes,
//  and high-water marks (see zg_actor_set_hwms)
static bool
s_restart_only (const char *path, const char *value)
{
    static const char *paths [] = {
        "gateway/interface", "gateway/http-port", "gateway/metrics-port", "server/log-target", "queues/data-dir",
        "queues/data-max-size", "queues/data-store", "queues/data-repair", "gateway/threads",
        "security/server-cert", "security/allow", "security/deny", "security/allow-insecure", "cluster/redis",
        "cluster/key-prefix", "topics/sndhwm", "topics/rcvhwm", "queues/sndhwm", "queues/rcvhwm", "rooms/sndhwm",
        "rooms/rcvhwm", "server/io-threads", NULL
    };
    for (const char **entry = paths; *entry; entry++)
        if (streq (*entry, path))
            return true;
    //  An endpoint; origins are URLs too, but change while running
    return strstr (value, "://") != NULL && strneq (path, "gateway/allowed-origins");
}

//  Whether a NULL-terminated list holds name
static bool
s_listed (const char **list, const char *name)
{
    for (const char **entry = list; *entry; entry++)
        if (streq (*entry, name))
            return true;
    return false;
}

//  A byte count of the server section; returns it, or -1 with a reason
static int64_t
s_byte_count (const char *key, const char *value, char *error, size_t size)
{
    char *end = NULL;
    errno = 0;
    long long limit = strtoll (value, &end, 10);
    if (!isdigit ((unsigned char) *value) || *end || errno || limit > INT64_MAX / 2) {
        snprintf (error, size, "server/%s '%s' is not a byte count", key, value);
        return -1;
    }
    return (int64_t) limit;
}

//  server/memory-budget: the limit of the process's budget, 0 for the default
static int
s_set_memory_budget (const char *value, char *error, size_t size)
{
    int64_t limit = s_byte_count ("memory-budget", value, error, size);
    if (limit >= 0)
        zg_budget_set_limit (zg_budget_process (), limit);
    return limit >= 0? 0: -1;
}

//  server/max-connection-input and max-connection-output: what one native
//  connection may have held, unread and unsent
static int
s_set_connection_limit (const char *key, const char *value, char *error, size_t size)
{
    int64_t limit = s_byte_count (key, value, error, size);
    if (limit >= 0 && streq (key, "max-connection-input"))
        zg_connwatch_set_max_input (limit);
    else
    if (limit >= 0)
        zg_connwatch_set_max_output (limit);
    return limit >= 0? 0: -1;
}

//  server/io-threads: libzmq's I/O threads, set before the first socket. 0
//  (the default) gives one per two cores with CURVE, where each connection's
//  I/O thread encrypts and decrypts its messages: a subscriber fan-out is
//  then encrypted on several cores, while the other half of the cores stay
//  for the actors and the clients (on 2 cores a second I/O thread made 1 -> 1
//  slower: bench/results/curve.md); and libzmq's one without CURVE, where an
//  I/O thread only moves bytes
static int
s_set_io_threads (zg_config_t *config, char *error, size_t size)
{
    const char *value = zg_config_get (config, "server/io-threads");
    char *end = NULL;
    errno = 0;
    long threads = strtol (value, &end, 10);
    if (!isdigit ((unsigned char) *value) || *end || errno || threads > ZG_IO_THREADS_MAX) {
        snprintf (error, size, "server/io-threads: '%s' is not an integer from 0 to %d", value, ZG_IO_THREADS_MAX);
        return -1;
    }
    if (threads == 0) {
        threads = *zg_config_get (config, "security/server-cert")? sysconf (_SC_NPROCESSORS_ONLN) / 2: 1;
        //  sysconf says -1 when it cannot tell, and 1 core makes 0
        threads = threads < 1? 1: threads > ZG_IO_THREADS_MAX? ZG_IO_THREADS_MAX: threads;
    }
    zsys_set_io_threads ((size_t) threads);
    return 0;
}

//  Whether an interface is an IP address off loopback; what is not an
//  address is the gateway's to refuse (it says why)
static bool
s_off_loopback (const char *interface)
{
    struct in_addr ipv4;
    struct in6_addr ipv6;
    if (inet_pton (AF_INET, interface, &ipv4) == 1)
        return (ntohl (ipv4.s_addr) >> 24) != 127;
    if (inet_pton (AF_INET6, interface, &ipv6) == 1)
        return !IN6_IS_ADDR_LOOPBACK (&ipv6);
    return false;
}

//  Refuse native endpoints off this host without a server certificate, and
//  the gateway off loopback without web tokens, unless security/allow-insecure
//  says so; returns 0, or -1 with a reason
static int
s_check_exposure (zg_config_t *config, char *error, size_t size)
{
    if (zg_config_get_int (config, "security/allow-insecure"))
        return 0;
    const char *interface = zg_config_get (config, "gateway/interface");
    if (s_off_loopback (interface) && !*zg_config_get (config, "security/jwt-secret")
    &&  !*zg_config_get (config, "security/jwt-public-key")) {
        snprintf (error, size, "gateway/interface = %s is not on loopback: set security/jwt-secret or "
                  "security/jwt-public-key (or security/allow-insecure = 1)", interface);
        return -1;
    }
    if (*zg_config_get (config, "security/server-cert"))
        return 0;
    for (zconfig_t *section = zg_config_sections (config); section; section = zconfig_next (section)) {
        int actor = s_actor_index (zconfig_name (section));
        if (actor < 0 || !s_actor_specs [actor].native)
            continue;
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item))
            if (strstr (zconfig_value (item), "://") && !zg_security_endpoint_is_local (zconfig_value (item))) {
                snprintf (error, size, "%s/%s = %s is not on loopback: set security/server-cert "
                          "(or security/allow-insecure = 1)", zconfig_name (section), zconfig_name (item),
                          zconfig_value (item));
                return -1;
            }
    }
    return 0;
}

//  Send zauth one command with the space-separated words of value
static void
s_auth_command (zactor_t *auth, const char *command, const char *value)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    char *copy = strdup (value);
    char *state = NULL;
    for (char *word = strtok_r (copy, " \t,", &state); word; word = strtok_r (NULL, " \t,", &state))
        zmsg_addstr (msg, word);
    free (copy);
    zmsg_send (&msg, auth);
    zsock_wait (auth);
}

//  Start zauth when a server certificate is set (*auth_p stays NULL if not);
//  returns 0, or -1 with a reason
static int
s_start_auth (zactor_t **auth_p, zg_config_t *config, char *error, size_t size)
{
    if (!*zg_config_get (config, "security/server-cert"))
        return 0;
    const char *certs = zg_config_get (config, "security/client-certs");
    int mode = zsys_file_mode (certs);
    if (mode == -1 || !S_ISDIR (mode)) {
        snprintf (error, size, "security/client-certs = '%s' is not a directory (the clients' certificates)",
                  certs);
        return -1;
    }
    *auth_p = zactor_new (zauth, NULL);
    assert (*auth_p);
    if (*zg_config_get (config, "security/allow"))
        s_auth_command (*auth_p, "ALLOW", zg_config_get (config, "security/allow"));
    if (*zg_config_get (config, "security/deny"))
        s_auth_command (*auth_p, "DENY", zg_config_get (config, "security/deny"));
    s_auth_command (*auth_p, "CURVE", certs);
    return 0;
}

//  The security keys a native actor takes, in order, and whether SIGHUP
//  sends them again (files whose content changes under the same path)
static const struct {
    const char *key;
    const char *path;
    bool reload;
} s_security_keys [] = {
    { "security-server-cert", "security/server-cert", false },
    { "security-client-certs", "security/client-certs", true },
    { "security-permissions", "security/permissions", true },
};
#define ZGATE_SECURITY_KEYS (sizeof s_security_keys / sizeof s_security_keys [0])

//  Give a native actor the security keys, before its endpoints
static int
s_secure_actor (zactor_t *actor, zg_config_t *config, char *error, size_t size)
{
    for (size_t index = 0; index < ZGATE_SECURITY_KEYS; index++)
        if (zg_actor_set (actor, s_security_keys [index].key, zg_config_get (config, s_security_keys [index].path),
                          error, size))
            return -1;
    return 0;
}

//  SIGHUP: read the client certificates (for zauth, and for their names)
//  and the permissions again, even if their paths are the same (the files
//  changed). A key that cannot be read keeps its old value, with a warning.
static void
s_reload_security (zactor_t **actors, zactor_t *auth, zg_config_t *old, zg_config_t *fresh)
{
    if (auth)
        s_auth_command (auth, "CURVE", zg_config_get (fresh, "security/client-certs"));
    for (size_t key = 0; key < ZGATE_SECURITY_KEYS; key++)
        for (size_t index = 0; index < ZGATE_ACTORS && s_security_keys [key].reload; index++) {
            const char *path = s_security_keys [key].path;
            char error [512] = "";
            if (s_actor_specs [index].native
            &&  zg_actor_set (actors [index], s_security_keys [key].key, zg_config_get (fresh, path),
                              error, sizeof error)) {
                zsys_warning ("reload: %s keeps its %s: %s", s_actor_specs [index].section, path, error);
                zg_config_set (fresh, path, zg_config_get (old, path));
            }
        }
}

//  Apply one changed key to the running daemon; returns 0, or -1 with a reason
static int
s_apply_key (zactor_t **actors, zg_log_t *log, const char *section, const char *key, const char *value,
             char *error, size_t size)
{
    if (streq (section, "server") && streq (key, "memory-budget"))
        return s_set_memory_budget (value, error, size);
    if (streq (section, "server") && (streq (key, "max-connection-input") || streq (key, "max-connection-output")))
        return s_set_connection_limit (key, value, error, size);
    if (streq (section, "server") && streq (key, "log-level")) {
        if (zg_log_set_level (log, value, error, size))
            return -1;
        for (size_t index = 0; index < ZGATE_ACTORS; index++)
            zg_actor_set (actors [index], "verbose", zg_log_debug (log)? "1": "0", error, size);
        return 0;
    }
    //  The native actors' security keys are applied by s_reload_security
    int actor = s_actor_index (streq (section, "security") && s_listed (s_gateway_security, key)? "gateway": section);
    return actor < 0? 0: zg_actor_set (actors [actor], key, value, error, size);
}

//  SIGHUP: read the layers again and apply what changed and may change while
//  running. A key that cannot change keeps its old value, with a warning.
static void
s_reload (zactor_t **actors, zactor_t *auth, zg_config_t **config_p, zg_log_t *log, int argc, char **argv)
{
    s_notify_systemd ("RELOADING=1");
    zg_config_t *fresh = zg_config_new ();
    char error [512] = "";
    if (s_load_config (fresh, argc, argv, error, sizeof error)) {
        zsys_error ("reload refused, nothing changed: %s", error);
        zg_config_destroy (&fresh);
        s_notify_systemd ("READY=1");
        return;
    }
    int changed = 0;
    for (zconfig_t *section = zg_config_sections (fresh); section;
         section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            char path [256];
            snprintf (path, sizeof path, "%s/%s", zconfig_name (section), zconfig_name (item));
            const char *old_value = zg_config_get (*config_p, path);
            if (streq (old_value, zconfig_value (item)) && !(*old_value && s_listed (s_file_keys, path)))
                continue;
            if (s_restart_only (path, old_value))
                snprintf (error, sizeof error, "changes on a restart only");
            else
            if (s_apply_key (actors, log, zconfig_name (section), zconfig_name (item),
                             zconfig_value (item), error, sizeof error) == 0) {
                zsys_notice ("reload: %s = %s", path, zconfig_value (item));
                changed++;
                continue;
            }
            zsys_warning ("reload: %s keeps %s: %s", path, old_value, error);
            zconfig_set_value (item, "%s", old_value);
        }
    s_reload_security (actors, auth, *config_p, fresh);
    zg_config_destroy (config_p);
    *config_p = fresh;
    zsys_notice ("zgate reloaded: %d key%s changed", changed, changed == 1? "": "s");
    s_notify_systemd ("READY=1");
}

//  Give the gateway its security keys; returns 0, or -1 with the reason
static int
s_configure_security (zactor_t *gateway, zg_config_t *config, char *error, size_t size)
{
    for (const char **key = s_gateway_security; *key; key++) {
        char path [64], reason [256];
        snprintf (path, sizeof path, "security/%s", *key);
        if (zg_actor_set (gateway, *key, zg_config_get (config, path), reason, sizeof reason)) {
            snprintf (error, size, "%s: %s", path, reason);
            return -1;
        }
    }
    return 0;
}

//  Start every actor and configure it; returns 0, or -1 with the reason in error
static int
s_start_actors (zactor_t **actors, zg_config_t *config, zg_log_t *log, char *error, size_t size)
{
    for (size_t index = 0; index < ZGATE_ACTORS && !*error; index++) {
        actors [index] = zactor_new (s_actor_specs [index].actor_fn, NULL);
        const char *section = s_actor_specs [index].section;
        if (zg_actor_set (actors [index], "verbose", zg_log_debug (log)? "1": "0", error, size) == 0
        &&  (!s_actor_specs [index].native || s_secure_actor (actors [index], config, error, size) == 0)
        //  The gateway gets its links before its section, which makes it
        //  listen: a client that comes at once finds every pattern reachable
        &&  (strneq (section, "gateway") || (s_configure_security (actors [index], config, error, size) == 0
                                             && s_link_gateway (actors [index], config, error, size) == 0)))
            zg_actor_configure (actors [index], config, section, error, size);
    }
    if (!*error)
        s_link_cluster (actors, config, error, size);
    return *error? -1: 0;
}

int
main (int argc, char **argv)
{
    zg_memtrim_tune_malloc ();
    zg_config_t *config = zg_config_new ();
    char error [512] = "";
    int rc = s_load_config (config, argc, argv, error, sizeof error);
    zg_log_t *log = NULL;
    if (rc == 0)
        rc = s_set_memory_budget (zg_config_get (config, "server/memory-budget"), error, sizeof error);
    if (rc == 0)
        rc = s_set_connection_limit ("max-connection-input", zg_config_get (config, "server/max-connection-input"),
                                     error, sizeof error);
    if (rc == 0)
        rc = s_set_connection_limit ("max-connection-output", zg_config_get (config, "server/max-connection-output"),
                                     error, sizeof error);
    if (rc == 0) {
        log = zg_log_new (zg_config_get (config, "server/log-level"),
                          zg_config_get (config, "server/log-target"), error, sizeof error);
        rc = log? 0: -1;
    }
    if (rc) {
        if (rc == -1)
            fprintf (stderr, "zgate: %s\n", error);
        zg_config_destroy (&config);
        return rc == -1? ZGATE_EXIT_CONFIG: 0;
    }
    //  Block the signals zgate handles in every thread (threads inherit the
    //  mask): the main loop takes them with sigtimedwait, so no actor's poll
    //  is interrupted and no signal can slip between a check and a sleep
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    zsys_init ();
    zsys_set_logident (ZG_LOG_IDENT);

    zactor_t *actors [ZGATE_ACTORS] = { NULL };
    zactor_t *auth = NULL;
    if (s_set_io_threads (config, error, sizeof error)
    ||  s_check_exposure (config, error, sizeof error)
    ||  s_start_auth (&auth, config, error, sizeof error)
    ||  s_start_actors (actors, config, log, error, sizeof error)) {
        fprintf (stderr, "zgate: %s\n", error);
        s_destroy_actors (actors);
        zactor_destroy (&auth);
        zg_log_destroy (&log);
        zg_config_destroy (&config);
        return ZGATE_EXIT_CONFIG;
    }
    //  An IPv6 address is written in brackets in a URL
    const char *interface = zg_config_get (config, "gateway/interface");
    bool ipv6 = strchr (interface, ':') != NULL;
    zsys_notice ("zgate %s running: topics subscribers %s, publishers %s; queues producers %s, workers %s; "
                 "rooms clients %s; web %s://%s%s%s:%s/; %s", ZGATE_VERSION,
                 zg_config_get (config, "topics/subscribers"), zg_config_get (config, "topics/publishers"),
                 zg_config_get (config, "queues/producers"), zg_config_get (config, "queues/workers"),
                 zg_config_get (config, "rooms/clients"),
                 *zg_config_get (config, "gateway/tls-cert")? "https": "http", ipv6? "[": "", interface,
                 ipv6? "]": "", zg_config_get (config, "gateway/http-port"),
                 auth? "native endpoints run CURVE": "native endpoints run without security");
    s_notify_systemd ("READY=1");

    int64_t next_stats = zclock_mono () + zg_config_get_int (config, "server/stats-interval");
    int64_t next_share = zclock_mono ();
    const struct timespec tick = { 0, 50 * 1000000 };
    zg_memtrim_t *memtrim = zg_memtrim_new (zg_budget_process (), 0);
    while (true) {
        int signal_number = sigtimedwait (&signals, NULL, &tick);
        if (signal_number == SIGINT || signal_number == SIGTERM)
            break;
        if (signal_number == SIGHUP)
            s_reload (actors, auth, &config, log, argc, argv);
        int64_t stats_interval = zg_config_get_int (config, "server/stats-interval");
        if (stats_interval > 0 && zclock_mono () >= next_stats) {
            s_log_stats (actors, log);
            next_stats = zclock_mono () + stats_interval;
        }
        if (zclock_mono () >= next_share) {
            s_share_stats (actors);
            next_share = zclock_mono () + zg_config_get_int (config, "gateway/peer-stats-interval");
        }
        if (zg_memtrim_check (memtrim))
            zsys_debug ("memory: free heap given back (RSS %" PRId64 " bytes, the budget counts %" PRId64 ")",
                        zg_memtrim_rss (), zg_budget_used (zg_budget_process ()));
    }
    zg_memtrim_destroy (&memtrim);
    s_notify_systemd ("STOPPING=1");
    zsys_notice ("zgate stopping");
    s_destroy_actors (actors);
    zactor_destroy (&auth);
    zg_log_destroy (&log);
    zg_config_destroy (&config);
    return 0;
}
