/*  =========================================================================
    zg_qoptions - the queues actor's settings and request options

    The options map is read with zg_mpreader, which never allocates: a
    hostile map costs at most max-options-size bytes of reading. READY's
    names are checked (valid, not listed twice, within max-subscriptions)
    here, so the dispatch core only ever sees a valid list.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qoptions.h"
#include "zg_mpreader.h"
#include "zg_wire.h"
#include "zg_qstore.h"
#include "zg_qdurable.h"
#include "zg_qv2.h"

//  Longest options key we know
#define ZG_QOPTIONS_KEY_MAX 32
//  Longest client name quoted in a reason
#define ZG_QOPTIONS_QUOTE_MAX 64

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (zg_qsettings_t, verbose), 0, 1 },
    { "sndhwm", offsetof (zg_qsettings_t, sndhwm), 0, INT32_MAX },
    { "rcvhwm", offsetof (zg_qsettings_t, rcvhwm), 0, INT32_MAX },
    { "max-message-size", offsetof (zg_qsettings_t, max_message_size), 1, INT32_MAX },
    { "max-task-size", offsetof (zg_qsettings_t, max_task_size), 0, INT32_MAX },
    { "max-name-size", offsetof (zg_qsettings_t, max_name_size), 1, ZG_QOPTIONS_NAME_MAX },
    { "max-options-size", offsetof (zg_qsettings_t, max_options_size), 1, 1048576 },
    { "max-pending", offsetof (zg_qsettings_t, max_pending), 0, INT32_MAX },
    { "max-queue-bytes", offsetof (zg_qsettings_t, max_queue_bytes), 0, INT64_MAX / 2 },
    { "max-tasks", offsetof (zg_qsettings_t, max_tasks), 1, INT32_MAX },
    { "max-queues", offsetof (zg_qsettings_t, max_queues), 1, 10000000 },
    { "max-queues-per-connection", offsetof (zg_qsettings_t, max_queues_per_connection), 1, 10000000 },
    { "max-workers", offsetof (zg_qsettings_t, max_workers), 1, 10000000 },
    { "max-subscriptions", offsetof (zg_qsettings_t, max_subscriptions), 1, 10000 },
    { "max-prefetch", offsetof (zg_qsettings_t, max_prefetch), 1, 1000000 },
    { "max-priority", offsetof (zg_qsettings_t, max_priority), 0, 255 },
    { "max-deliveries", offsetof (zg_qsettings_t, max_deliveries), 1, 1000000 },
    { "heartbeat-interval", offsetof (zg_qsettings_t, heartbeat_interval), 10, 3600000 },
    { "worker-timeout", offsetof (zg_qsettings_t, worker_timeout), 10, 86400000 },
    { "ack-timeout", offsetof (zg_qsettings_t, ack_timeout), 1, 86400000 },
    { "max-ack-timeout", offsetof (zg_qsettings_t, max_ack_timeout), 1, 86400000 },
    { "reply-timeout", offsetof (zg_qsettings_t, reply_timeout), 1, 86400000 },
    { "max-reply-timeout", offsetof (zg_qsettings_t, max_reply_timeout), 1, 86400000 },
    { "result-ttl", offsetof (zg_qsettings_t, result_ttl), 0, 86400000 },
    { "task-ttl", offsetof (zg_qsettings_t, task_ttl), 0, INT32_MAX },
    { "max-task-ttl", offsetof (zg_qsettings_t, max_task_ttl), 1, INT32_MAX },
    { "max-results", offsetof (zg_qsettings_t, max_results), 0, INT32_MAX },
    { "keep-input", offsetof (zg_qsettings_t, keep_input), 0, 1 },
    { "recent-size", offsetof (zg_qsettings_t, recent_size), 0, 10000 },
    { "data-max-size", offsetof (zg_qsettings_t, data_max_size), ZG_QSTORE_MIN_SIZE, INT64_MAX / 2 },
    { "data-repair", offsetof (zg_qsettings_t, data_repair), 0, 1 },
    { NULL }
};

//  --------------------------------------------------------------------------
//  The settings' defaults, from the embedded config/zgate.cfg

zg_qsettings_t
zg_qsettings_defaults (void)
{
    zg_qsettings_t settings = { 0 };
    zg_actor_defaults (s_int_settings, &settings, "queues");
    snprintf (settings.data_store, sizeof settings.data_store, "%s", zg_actor_default ("queues/data-store"));
    return settings;
}

//  --------------------------------------------------------------------------
//  Set one setting

int
zg_qsettings_set (zg_qsettings_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    if (streq (key, "data-dir")) {
        if (strlen (value) >= sizeof self->data_dir) {
            snprintf (error, size, "a data directory name is at most %zu bytes", sizeof self->data_dir - 1);
            return -1;
        }
        strcpy (self->data_dir, value);
        return 0;
    }
    if (streq (key, "data-store")) {
        if (strneq (value, ZG_QDURABLE_LOG) && strneq (value, ZG_QDURABLE_LMDB)) {
            snprintf (error, size, "data-store is '" ZG_QDURABLE_LOG "' or '" ZG_QDURABLE_LMDB "', not '%s'", value);
            return -1;
        }
        strcpy (self->data_store, value);
        return 0;
    }
    return zg_actor_set_int (s_int_settings, self, key, value, error, size);
}

//  --------------------------------------------------------------------------
//  A valid queue or command name

bool
zg_qsettings_valid_name (const zg_qsettings_t *self, const void *name, size_t size)
{
    assert (self);
    const char *text = (const char *) name;
    if (size == 0 || (int64_t) size > self->max_name_size)
        return false;
    for (size_t index = 0; index < size; index++)
        if (!isalnum ((byte) text [index]) && !strchr ("._-:", text [index]))
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Parse an array of queue or command names into self->names

int
zg_qoptions_names (zg_qoptions_t *self, const zg_qsettings_t *settings, zg_mpreader_t *reader, bool command,
                   const char *key, int *code, char *reason)
{
    uint64_t length;
    if (!zg_mpreader_container (reader, false, &length)) {
        zg_wire_reason (reason, "option '%s' must be an array of names", key);
        return -1;
    }
    for (uint64_t index = 0; index < length; index++) {
        const char *name;
        size_t size;
        if (!zg_mpreader_string (reader, &name, &size)) {
            zg_wire_reason (reason, "option '%s' must be an array of names", key);
            return -1;
        }
        if (!zg_qsettings_valid_name (settings, name, size)) {
            if ((int64_t) size > settings->max_name_size)
                *code = ZG_ERR_TOO_LARGE;
            zg_wire_reason (reason, "invalid name '%.*s' in '%s'",
                            (int) (size > ZG_QOPTIONS_QUOTE_MAX? ZG_QOPTIONS_QUOTE_MAX: size), name, key);
            return -1;
        }
        //  A per-worker quota
        if ((int64_t) self->name_count + 1 > settings->max_subscriptions) {
            *code = ZG_ERR_TOO_MANY;
            zg_wire_reason (reason, "more than %" PRId64 " queues and commands", settings->max_subscriptions);
            return -1;
        }
        for (size_t other = 0; other < self->name_count; other++)
            if (self->names [other].command == command && strlen (self->names [other].text) == size
            &&  memcmp (self->names [other].text, name, size) == 0) {
                zg_wire_reason (reason, "a name is listed twice");
                return -1;
            }
        self->names = (zg_qname_t *) realloc (self->names, (self->name_count + 1) * sizeof (zg_qname_t));
        assert (self->names);
        zg_qname_t *entry = &self->names [self->name_count++];
        entry->command = command;
        memcpy (entry->text, name, size);
        entry->text [size] = 0;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  READY's quiet: commands of the worker whose ACK without a reply sends
//  no REPLY (teomq's fire-and-forget events), checked against the commands
//  once the whole map is read (the keys come in any order).

static int
s_parse_quiet (zg_qoptions_t *self, const zg_qsettings_t *settings, zg_mpreader_t *reader, int *code,
               char *reason)
{
    zg_qoptions_t quiet = { 0 };
    int rc = zg_qoptions_names (&quiet, settings, reader, true, "quiet", code, reason);
    for (size_t index = 0; rc == 0 && index < quiet.name_count; index++) {
        self->quiet = (zg_qname_t *) realloc (self->quiet, (self->quiet_count + 1) * sizeof (zg_qname_t));
        assert (self->quiet);
        self->quiet [self->quiet_count++] = quiet.names [index];
    }
    zg_qoptions_clear (&quiet);
    return rc;
}

//  Check that each quiet name is one of the commands; -1 if not
static int
s_check_quiet (zg_qoptions_t *self, char *reason)
{
    for (size_t index = 0; index < self->quiet_count; index++) {
        bool found = false;
        for (size_t other = 0; other < self->name_count; other++)
            found = found || (self->names [other].command && streq (self->names [other].text,
                                                                     self->quiet [index].text));
        if (!found) {
            zg_wire_reason (reason, "quiet command '%s' is not in 'commands'", self->quiet [index].text);
            return -1;
        }
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Read one option's value; returns 0, or -1 with a reason

static int
s_parse_option (zg_qoptions_t *self, const zg_qsettings_t *settings, zg_mpreader_t *reader, bool ready,
                const char *key, int *code, char *reason)
{
    bool valid = true;
    int64_t number = 0;
    if (!ready && streq (key, "reply"))
        valid = zg_mpreader_boolean (reader, &self->reply);
    else
    if (!ready && streq (key, "scatter"))
        valid = zg_mpreader_boolean (reader, &self->scatter);
    else
    if (!ready && streq (key, "until-read"))
        valid = zg_mpreader_boolean (reader, &self->until_read);
    else
    if (!ready && streq (key, "timeout")) {
        //  0: no reply timeout (teomq's), the producer waits as long as the task takes
        valid = zg_mpreader_integer (reader, &number) && number >= 0 && number <= settings->max_reply_timeout;
        self->timeout = number;
    }
    else
    if (!ready && streq (key, "priority")) {
        valid = zg_mpreader_integer (reader, &number) && number >= 0 && number <= settings->max_priority;
        self->priority = number;
    }
    else
    if (!ready && streq (key, "ack-timeout")) {
        valid = zg_mpreader_integer (reader, &number) && number >= 1 && number <= settings->max_ack_timeout;
        self->ack_timeout = number;
    }
    else
    if (!ready && streq (key, "ttl")) {
        valid = zg_mpreader_integer (reader, &number) && number >= 1 && number <= settings->max_task_ttl;
        self->ttl = number;
    }
    else
    if (ready && streq (key, "prefetch")) {
        valid = zg_mpreader_integer (reader, &number) && number >= 1 && number <= settings->max_prefetch;
        self->prefetch = number;
    }
    else
    if (ready && streq (key, "version")) {
        valid = zg_mpreader_integer (reader, &number) && number >= 1 && number <= ZG_QV2_VERSION;
        self->version = number;
    }
    else
    if (ready && (streq (key, "queues") || streq (key, "commands")))
        return zg_qoptions_names (self, settings, reader, streq (key, "commands"), key, code, reason);
    else
    if (ready && streq (key, "quiet"))
        return s_parse_quiet (self, settings, reader, code, reason);
    else {
        zg_wire_reason (reason, "unknown option '%s'", key);
        return -1;
    }
    if (!valid) {
        zg_wire_reason (reason, "bad value for option '%s'", key);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Parse an options frame

int
zg_qoptions_parse (zg_qoptions_t *self, const zg_qsettings_t *settings, const void *data, size_t size,
                   bool ready, int *code, char *reason)
{
    assert (self);
    assert (settings);
    *self = (zg_qoptions_t) {
        .timeout = settings->reply_timeout, .ack_timeout = settings->ack_timeout, .ttl = -1,
        .prefetch = 1, .version = 1
    };
    *code = ZG_ERR_BAD_REQUEST;
    if (size == 0)
        return 0;
    if ((int64_t) size > settings->max_options_size) {
        *code = ZG_ERR_TOO_LARGE;
        zg_wire_reason (reason, "options larger than %" PRId64 " bytes", settings->max_options_size);
        return -1;
    }
    zg_mpreader_t reader = zg_mpreader_init (data, size);
    uint64_t entries;
    if (!zg_mpreader_container (&reader, true, &entries)) {
        zg_wire_reason (reason, "options must be a msgpack map");
        return -1;
    }
    for (uint64_t entry = 0; entry < entries; entry++) {
        const char *key_data;
        size_t key_size;
        if (!zg_mpreader_string (&reader, &key_data, &key_size) || key_size > ZG_QOPTIONS_KEY_MAX) {
            zg_wire_reason (reason, "options keys must be short strings");
            return -1;
        }
        char key [ZG_QOPTIONS_KEY_MAX + 1];
        memcpy (key, key_data, key_size);
        key [key_size] = 0;
        if (s_parse_option (self, settings, &reader, ready, key, code, reason))
            return -1;
    }
    if (!zg_mpreader_done (&reader)) {
        zg_wire_reason (reason, "trailing bytes after the options map");
        return -1;
    }
    return s_check_quiet (self, reason);
}

//  --------------------------------------------------------------------------
//  Whether option quiet lists a command

bool
zg_qoptions_is_quiet (const zg_qoptions_t *self, const zg_qname_t *name)
{
    assert (self && name);
    for (size_t index = 0; name->command && index < self->quiet_count; index++)
        if (streq (self->quiet [index].text, name->text))
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  The map a READY is answered with

void
zg_qoptions_pack_ready (const zg_qoptions_t *self, const zg_qsettings_t *settings, msgpack_packer *packer)
{
    assert (self && settings && packer);
    //  A worker that asked for a version hears the one it got
    bool versioned = self->version > 1;
    msgpack_pack_map (packer, versioned? 3: 2);
    msgpack_pack_str_with_body (packer, "heartbeat", 9);
    msgpack_pack_int64 (packer, settings->heartbeat_interval);
    msgpack_pack_str_with_body (packer, "timeout", 7);
    msgpack_pack_int64 (packer, settings->worker_timeout);
    if (versioned) {
        msgpack_pack_str_with_body (packer, "version", 7);
        msgpack_pack_int64 (packer, self->version);
    }
}

//  --------------------------------------------------------------------------
//  Free what parsing allocated

void
zg_qoptions_clear (zg_qoptions_t *self)
{
    assert (self);
    free (self->names);
    self->names = NULL;
    self->name_count = 0;
    free (self->quiet);
    self->quiet = NULL;
    self->quiet_count = 0;
}

//  --------------------------------------------------------------------------
//  Self test

//  Parse a map packed by the test; returns the code, 0 on success
static int
s_test_parse (zg_qoptions_t *options, const zg_qsettings_t *settings, msgpack_sbuffer *buffer, bool ready)
{
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qoptions_parse (options, settings, buffer->data, buffer->size, ready, &code, reason);
    msgpack_sbuffer_clear (buffer);
    return rc? code: 0;
}

void
zg_qoptions_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qoptions: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    char error [256];
    assert (zg_qsettings_set (&settings, "max-priority", "3", error, sizeof error) == 0);
    assert (settings.max_priority == 3);
    assert (zg_qsettings_set (&settings, "max-priority", "256", error, sizeof error) == -1);
    assert (zg_qsettings_set (&settings, "max_priority", "3", error, sizeof error) == -1);
    assert (zg_qsettings_set (&settings, "max-subscriptions", "2", error, sizeof error) == 0);
    assert (zg_qsettings_set (&settings, "data-dir", "/var/lib/zgate", error, sizeof error) == 0);
    assert (streq (settings.data_dir, "/var/lib/zgate") && settings.data_max_size == ZG_QSTORE_DEFAULT_SIZE);
    assert (streq (settings.data_store, ZG_QDURABLE_LMDB));
    assert (zg_qsettings_set (&settings, "data-store", ZG_QDURABLE_LOG, error, sizeof error) == 0);
    assert (zg_qsettings_set (&settings, "data-store", "btree", error, sizeof error) == -1);
    assert (streq (error, "data-store is 'log' or 'lmdb', not 'btree'"));
    assert (streq (settings.data_store, ZG_QDURABLE_LOG));
    char long_dir [ZG_QSETTINGS_PATH_MAX + 1];
    memset (long_dir, 'd', ZG_QSETTINGS_PATH_MAX);
    long_dir [ZG_QSETTINGS_PATH_MAX] = 0;
    assert (zg_qsettings_set (&settings, "data-dir", long_dir, error, sizeof error) == -1);
    assert (streq (settings.data_dir, "/var/lib/zgate"));
    assert (zg_qsettings_set (&settings, "data-max-size", "1000", error, sizeof error) == -1);
    assert (zg_qsettings_valid_name (&settings, "jobs.dead:1-a_b", 15));
    assert (!zg_qsettings_valid_name (&settings, "bad name", 8));
    assert (!zg_qsettings_valid_name (&settings, "", 0));

    //  An empty frame gives the defaults
    zg_qoptions_t options;
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    assert (zg_qoptions_parse (&options, &settings, "", 0, false, &code, reason) == 0);
    assert (options.timeout == settings.reply_timeout && options.ack_timeout == settings.ack_timeout);
    assert (options.prefetch == 1 && !options.reply && options.priority == 0 && options.ttl == -1);

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 5);
    msgpack_pack_str_with_body (&packer, "reply", 5);
    msgpack_pack_true (&packer);
    msgpack_pack_str_with_body (&packer, "until-read", 10);
    msgpack_pack_true (&packer);
    msgpack_pack_str_with_body (&packer, "timeout", 7);
    msgpack_pack_int (&packer, 0);
    msgpack_pack_str_with_body (&packer, "priority", 8);
    msgpack_pack_int (&packer, 3);
    msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
    msgpack_pack_int (&packer, 1500);
    assert (s_test_parse (&options, &settings, &buffer, false) == 0);
    assert (options.reply && options.priority == 3 && options.ack_timeout == 1500);
    assert (options.until_read && options.timeout == 0);

    //  Out of range, the underscore spelling, READY keys on SEND, not a map
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "priority", 8);
    msgpack_pack_int (&packer, 4);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    //  A ttl is 1 to max-task-ttl ms
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "ttl", 3);
    msgpack_pack_int64 (&packer, settings.max_task_ttl);
    assert (s_test_parse (&options, &settings, &buffer, false) == 0 && options.ttl == settings.max_task_ttl);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "ttl", 3);
    msgpack_pack_int64 (&packer, settings.max_task_ttl + 1);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "ttl", 3);
    msgpack_pack_int (&packer, 0);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "ack_timeout", 11);
    msgpack_pack_int (&packer, 10);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "prefetch", 8);
    msgpack_pack_int (&packer, 10);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    msgpack_pack_array (&packer, 0);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);

    //  READY: names of both kinds; the same name as queue and command is two
    msgpack_pack_map (&packer, 3);
    msgpack_pack_str_with_body (&packer, "queues", 6);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, "jobs", 4);
    msgpack_pack_str_with_body (&packer, "commands", 8);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, "jobs", 4);
    msgpack_pack_str_with_body (&packer, "prefetch", 8);
    msgpack_pack_int (&packer, 7);
    assert (s_test_parse (&options, &settings, &buffer, true) == 0);
    assert (options.name_count == 2 && options.prefetch == 7 && options.version == 1);
    assert (!options.names [0].command && options.names [1].command && streq (options.names [1].text, "jobs"));
    zg_qoptions_clear (&options);
    assert (!options.names && options.name_count == 0);
    //  version: 1 or 2 (the worker protocol, zg_qv2.h), nothing else
    for (int version = 0; version <= 3; version++) {
        msgpack_pack_map (&packer, 1);
        msgpack_pack_str_with_body (&packer, "version", 7);
        msgpack_pack_int (&packer, version);
        bool known = version == 1 || version == ZG_QV2_VERSION;
        assert (s_test_parse (&options, &settings, &buffer, true) == (known? 0: ZG_ERR_BAD_REQUEST));
        assert (!known || options.version == version);
    }
    //  quiet: commands that are fire-and-forget, named before or after them;
    //  a quiet name that is not a command of the READY is refused
    msgpack_pack_map (&packer, 2);
    msgpack_pack_str_with_body (&packer, "quiet", 5);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, "num", 3);
    msgpack_pack_str_with_body (&packer, "commands", 8);
    msgpack_pack_array (&packer, 2);
    msgpack_pack_str_with_body (&packer, "version", 7);
    msgpack_pack_str_with_body (&packer, "num", 3);
    assert (s_test_parse (&options, &settings, &buffer, true) == 0);
    assert (options.name_count == 2 && !zg_qoptions_is_quiet (&options, &options.names [0]));
    assert (zg_qoptions_is_quiet (&options, &options.names [1]));
    zg_qoptions_clear (&options);
    assert (!options.quiet && options.quiet_count == 0);
    msgpack_pack_map (&packer, 2);
    msgpack_pack_str_with_body (&packer, "queues", 6);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, "num", 3);
    msgpack_pack_str_with_body (&packer, "quiet", 5);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, "num", 3);
    assert (s_test_parse (&options, &settings, &buffer, true) == ZG_ERR_BAD_REQUEST);
    zg_qoptions_clear (&options);
    //  Listed twice (400), past max-subscriptions (429, a per-worker quota),
    //  a name over max-name-size (413)
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "queues", 6);
    msgpack_pack_array (&packer, 2);
    msgpack_pack_str_with_body (&packer, "a", 1);
    msgpack_pack_str_with_body (&packer, "a", 1);
    assert (s_test_parse (&options, &settings, &buffer, true) == ZG_ERR_BAD_REQUEST);
    zg_qoptions_clear (&options);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "queues", 6);
    msgpack_pack_array (&packer, 3);
    msgpack_pack_str_with_body (&packer, "a", 1);
    msgpack_pack_str_with_body (&packer, "b", 1);
    msgpack_pack_str_with_body (&packer, "c", 1);
    assert (s_test_parse (&options, &settings, &buffer, true) == ZG_ERR_TOO_MANY);
    zg_qoptions_clear (&options);
    char long_name [300];
    memset (long_name, 'x', sizeof long_name);
    msgpack_pack_map (&packer, 1);
    msgpack_pack_str_with_body (&packer, "queues", 6);
    msgpack_pack_array (&packer, 1);
    msgpack_pack_str_with_body (&packer, long_name, sizeof long_name);
    assert (s_test_parse (&options, &settings, &buffer, true) == ZG_ERR_TOO_LARGE);
    zg_qoptions_clear (&options);
    //  An options frame over max-options-size, and trailing bytes
    char big [5000] = { 0 };
    assert (zg_qoptions_parse (&options, &settings, big, sizeof big, false, &code, reason) == -1);
    assert (code == ZG_ERR_TOO_LARGE);
    msgpack_pack_map (&packer, 0);
    msgpack_pack_nil (&packer);
    assert (s_test_parse (&options, &settings, &buffer, false) == ZG_ERR_BAD_REQUEST);
    msgpack_sbuffer_destroy (&buffer);
    printf ("OK\n");
}
