/*  =========================================================================
    zg_actor - the pipe protocol that every zgate actor speaks to its owner
    =========================================================================
*/

#include "zg_classes.h"

//  --------------------------------------------------------------------------
//  Send SET key value to an actor and wait for its answer

int
zg_actor_set (zactor_t *actor, const char *key, const char *value, char *error, size_t size)
{
    assert (actor);
    zstr_sendx (actor, "SET", key, value, NULL);
    int rc = -1;
    char *reason = NULL;
    if (zsock_recv (actor, "is", &rc, &reason) == -1) {
        snprintf (error, size, "actor did not answer");
        return -1;
    }
    snprintf (error, size, "%s", reason? reason: "");
    zstr_free (&reason);
    return rc;
}

//  --------------------------------------------------------------------------
//  SET every key of one config section on an actor, in file order

int
zg_actor_configure (zactor_t *actor, zg_config_t *config, const char *section,
                    char *error, size_t size)
{
    for (zconfig_t *item = zg_config_section (config, section); item; item = zconfig_next (item)) {
        char reason [256];
        if (zg_actor_set (actor, zconfig_name (item), zconfig_value (item), reason, sizeof reason)) {
            snprintf (error, size, "%s/%s: %s", section, zconfig_name (item), reason);
            return -1;
        }
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Ask an actor for its counters; returns a JSON string the caller frees

char *
zg_actor_stats (zactor_t *actor)
{
    assert (actor);
    zstr_send (actor, "STATS");
    return zstr_recv (actor);
}

//  --------------------------------------------------------------------------
//  One counter from an actor's STATS

int64_t
zg_actor_stat (zactor_t *actor, const char *group, const char *name, const char *field)
{
    char *stats = zg_actor_stats (actor);
    json_object *root = json_tokener_parse (stats);
    json_object *node = root;
    if (group && name) {
        json_object_object_get_ex (root, group, &node);
        json_object_object_get_ex (node, name, &node);
    }
    json_object *value = NULL;
    int64_t result = json_object_object_get_ex (node, field, &value)? json_object_get_int64 (value): -1;
    json_object_put (root);
    zstr_free (&stats);
    return result;
}

//  --------------------------------------------------------------------------
//  Actor side: receive one command from the owner and answer it

bool
zg_actor_handle_pipe (zsock_t *pipe, const zg_actor_handlers_t *handlers, void *self)
{
    zmsg_t *request = zmsg_recv (pipe);
    if (!request)
        return true;            //  Interrupted: the owner is going away
    char *command = zmsg_popstr (request);
    bool terminated = false;
    if (streq (command, "SET") || streq (command, "BIND")) {
        char *key = zmsg_popstr (request);
        char *value = zmsg_popstr (request);
        char error [256] = "";
        int rc = -1;
        if (key && value)
            rc = handlers->set (self, key, value, error, sizeof error);
        else
            snprintf (error, sizeof error, "%s needs a key and a value", command);
        zsock_send (pipe, "is", rc, error);
        zstr_free (&key);
        zstr_free (&value);
    }
    else
    if (streq (command, "STATS")) {
        json_object *stats = handlers->stats (self);
        //  Names in the stats are any bytes; the JSON text must be UTF-8
        zg_utf8_clean_json (stats);
        zstr_send (pipe, json_object_to_json_string_ext (stats, JSON_C_TO_STRING_PLAIN));
        json_object_put (stats);
    }
    else
    if (streq (command, "$TERM"))
        terminated = true;
    else
    if (handlers->command)
        handlers->command (self, command, request);
    else {
        zsys_error ("%s: invalid pipe command '%s'", handlers->name, command);
        assert (false);
    }
    zstr_free (&command);
    zmsg_destroy (&request);
    return terminated;
}

//  --------------------------------------------------------------------------
//  Actor side: zmq_poll that retries when a signal interrupts it

int
zg_actor_poll (zmq_pollitem_t *items, int count, long timeout)
{
    int rc = zmq_poll (items, count, timeout);
    if (rc == -1 && errno == EINTR) {
        //  A signal meant for the main thread: report nothing ready, so the
        //  actor recomputes its timers and polls again
        for (int index = 0; index < count; index++)
            items [index].revents = 0;
        return 0;
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Actor side: high-water marks, set only when they change

void
zg_actor_set_hwms (zsock_t *socket, int64_t sndhwm, int64_t rcvhwm)
{
    assert (socket);
    if (sndhwm >= 0 && zsock_sndhwm (socket) != (int) sndhwm)
        zsock_set_sndhwm (socket, (int) sndhwm);
    if (rcvhwm >= 0 && zsock_rcvhwm (socket) != (int) rcvhwm)
        zsock_set_rcvhwm (socket, (int) rcvhwm);
}

//  --------------------------------------------------------------------------
//  Actor side: parse an integer setting from a table

int
zg_actor_set_int (const zg_int_setting_t *table, void *settings, const char *key,
                  const char *value, char *error, size_t size)
{
    for (; table->key; table++)
        if (streq (table->key, key)) {
            char *end = NULL;
            errno = 0;
            long long number = strtoll (value, &end, 10);
            if (errno || end == value || *end || number < table->min || number > table->max) {
                snprintf (error, size, "'%s' is not an integer from %" PRId64 " to %" PRId64,
                          value, table->min, table->max);
                return -1;
            }
            *(int64_t *) ((char *) settings + table->offset) = number;
            return 0;
        }
    snprintf (error, size, "unknown key '%s'", key);
    return -1;
}

//  --------------------------------------------------------------------------
//  Actor side: the embedded config/zgate.cfg's value at path. Every actor
//  reads its defaults when it starts, and a process may start thousands (a
//  fuzz target starts one per input, where parsing the file again was a third
//  of the time), so the tree is parsed once and kept; it is only read after,
//  which zconfig allows from any thread.

static zconfig_t *s_defaults;
static pthread_once_t s_defaults_once = PTHREAD_ONCE_INIT;

static void
s_defaults_parse (void)
{
    s_defaults = zconfig_str_load (zg_default_config);
    assert (s_defaults);
}

const char *
zg_actor_default (const char *path)
{
    pthread_once (&s_defaults_once, s_defaults_parse);
    zconfig_t *item = zconfig_locate (s_defaults, path);
    return item? zconfig_value (item): NULL;
}

//  --------------------------------------------------------------------------
//  Actor side: fill settings with the defaults of the embedded config/zgate.cfg

void
zg_actor_defaults (const zg_int_setting_t *table, void *settings, const char *section)
{
    for (; table->key; table++) {
        char path [256], error [256];
        snprintf (path, sizeof path, "%s/%s", section, table->key);
        const char *value = zg_actor_default (path);
        if (!value) {
            assert (streq (table->key, "verbose"));
            value = "0";
        }
        int rc = zg_actor_set_int (table, settings, table->key, value, error, sizeof error);
        if (rc)
            zsys_error ("config/zgate.cfg: %s: %s", path, error);
        assert (rc == 0);
    }
}

//  --------------------------------------------------------------------------
//  Actor side: bind a socket to an endpoint

int
zg_actor_bind (zsock_t *socket, const char *endpoint, char *error, size_t size)
{
    if (zsock_bind (socket, "%s", endpoint) == -1) {
        snprintf (error, size, "cannot bind '%s': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

typedef struct {
    int64_t size;
} s_test_settings_t;

void
zg_actor_test (bool verbose)
{
    printf (" * zg_actor: ");
    //  @selftest
    const zg_int_setting_t table [] = {
        { "size", offsetof (s_test_settings_t, size), 1, 100 },
        { NULL }
    };
    s_test_settings_t settings = { 0 };
    char error [256];
    assert (zg_actor_set_int (table, &settings, "size", "42", error, sizeof error) == 0);
    assert (settings.size == 42);
    assert (zg_actor_set_int (table, &settings, "size", "0", error, sizeof error) == -1);
    assert (zg_actor_set_int (table, &settings, "size", "4x", error, sizeof error) == -1);
    assert (zg_actor_set_int (table, &settings, "size", "", error, sizeof error) == -1);
    assert (zg_actor_set_int (table, &settings, "other", "1", error, sizeof error) == -1);
    assert (streq (error, "unknown key 'other'"));
    assert (settings.size == 42);

    //  Defaults come from the embedded config/zgate.cfg
    const zg_int_setting_t topics_table [] = {
        { "verbose", offsetof (s_test_settings_t, size), 0, 1 },
        { NULL }
    };
    settings.size = 42;
    zg_actor_defaults (topics_table, &settings, "topics");
    assert (settings.size == 0);
    const zg_int_setting_t size_table [] = {
        { "max-topic-size", offsetof (s_test_settings_t, size), 1, 65535 },
        { NULL }
    };
    zg_config_t *config = zg_config_new ();
    zg_actor_defaults (size_table, &settings, "topics");
    assert (settings.size == zg_config_get_int (config, "topics/max-topic-size"));
    //  One value per key, the file's, from one parse
    assert (streq (zg_actor_default ("queues/data-store"), zg_config_get (config, "queues/data-store")));
    assert (zg_actor_default ("queues/data-store") == zg_actor_default ("/queues/data-store"));
    assert (zg_actor_default ("queues/no-such-key") == NULL);
    assert (zg_actor_default ("no-such-section/max-tasks") == NULL);
    zg_config_destroy (&config);

    zsock_t *socket = zsock_new (ZMQ_PUB);
    assert (zg_actor_bind (socket, "tcp://127.0.0.1:*", error, sizeof error) == 0);
    assert (zg_actor_bind (socket, "nonsense://x", error, sizeof error) == -1);
    if (verbose)
        printf ("%s ", error);
    assert (strstr (error, "cannot bind 'nonsense://x'"));
    zsock_destroy (&socket);
    //  @end
    printf ("OK\n");
}
