/*  =========================================================================
    zg_qadmin - the queues' admin requests: delete a queue

    The options are a map of two booleans, read with zg_mpreader (bounded,
    no allocation); every check comes before the first task is dropped.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qadmin.h"
#include "zg_mpreader.h"
#include "zg_wire.h"
#include "zg_qtest.h"

//  Longest option key of DELETE
#define ZG_QADMIN_KEY_MAX 16

//  --------------------------------------------------------------------------
//  Read DELETE's options; returns 0, or -1 with a reason

static int
s_parse (const void *options, size_t size, bool *if_empty, bool *if_unused, char *reason)
{
    *if_empty = *if_unused = false;
    if (size == 0)
        return 0;
    zg_mpreader_t reader = zg_mpreader_init (options, size);
    uint64_t entries;
    if (!zg_mpreader_container (&reader, true, &entries)) {
        zg_wire_reason (reason, "options must be a msgpack map");
        return -1;
    }
    for (uint64_t entry = 0; entry < entries; entry++) {
        const char *key;
        size_t key_size;
        bool *flag = NULL;
        if (zg_mpreader_string (&reader, &key, &key_size) && key_size <= ZG_QADMIN_KEY_MAX)
            flag = key_size == 8 && memcmp (key, "if-empty", 8) == 0? if_empty:
                   key_size == 9 && memcmp (key, "if-unused", 9) == 0? if_unused: NULL;
        if (!flag || !zg_mpreader_boolean (&reader, flag)) {
            zg_wire_reason (reason, "DELETE's options are if-empty and if-unused, booleans");
            return -1;
        }
    }
    if (!zg_mpreader_done (&reader)) {
        zg_wire_reason (reason, "trailing bytes after the options map");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Delete a queue

int
zg_qadmin_delete (zg_qcore_t *core, const char *name, const void *options, size_t options_size,
                  uint64_t *dropped, int *code, char *reason)
{
    assert (core && name && dropped && code && reason);
    bool if_empty, if_unused;
    *code = ZG_ERR_BAD_REQUEST;
    if (s_parse (options, options_size, &if_empty, &if_unused, reason))
        return -1;
    zg_taskq_t *queue = zg_qcore_queue (core, name, false);
    *code = ZG_ERR_NOT_FOUND;
    if (!queue) {
        zg_wire_reason (reason, "no queue '%s'", name);
        return -1;
    }
    *code = ZG_ERR_CONFLICT;
    if (if_empty && queue->waiting) {
        zg_wire_reason (reason, "queue '%s' is not empty (%zu waiting)", name, queue->waiting);
        return -1;
    }
    if (if_unused && queue->workers) {
        zg_wire_reason (reason, "queue '%s' is in use (%" PRIu64 " workers)", name, queue->workers);
        return -1;
    }
    *dropped = queue->waiting;
    for (size_t level = 0; level < queue->level_count; level++)
        while (queue->levels [level].head)
            zg_qcore_drop (core, queue->levels [level].head);
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test

//  Delete with an options map of one boolean (or none); returns the code
static int
s_test_delete (zg_qcore_t *core, const char *name, const char *option, uint64_t *dropped)
{
    zframe_t *options = option? zg_qtest_options (option, "true", NULL): zframe_new_empty ();
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qadmin_delete (core, name, zframe_data (options), zframe_size (options), dropped, &code, reason);
    zframe_destroy (&options);
    return rc? code: 0;
}

void
zg_qadmin_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qadmin: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.recent_size = 0;
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_qoptions_t reply = { .reply = true, .timeout = 100000, .ack_timeout = 100000, .priority = 1 };
    zg_qoptions_t quiet = { .timeout = 100000, .ack_timeout = 100000 };
    char id [ZG_TASKS_ID_SIZE + 1];
    uint64_t dropped = 0;
    assert (zg_qtest_submit (core, "junk", false, &reply, id) == 0);
    assert (zg_qtest_submit (core, "junk", false, &quiet, id) == 0);
    zg_qname_t names [] = { { false, "junk" } };
    zg_qoptions_t ready = { .prefetch = 1, .names = names, .name_count = 1 };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (streq (zg_qtest_sent (core), "DELIVER w 1;"));
    assert (zg_qtest_submit (core, "junk", false, &reply, id) == 0);

    //  Refusals change nothing: an unknown queue, the flags, bad options
    assert (s_test_delete (core, "nothing", NULL, &dropped) == ZG_ERR_NOT_FOUND);
    assert (s_test_delete (core, "junk", "if-empty", &dropped) == ZG_ERR_CONFLICT);
    assert (s_test_delete (core, "junk", "if-unused", &dropped) == ZG_ERR_CONFLICT);
    assert (s_test_delete (core, "junk", "if-full", &dropped) == ZG_ERR_BAD_REQUEST);
    assert (zg_qadmin_delete (core, "junk", "\x91\xc3", 2, &dropped, &code, reason) == -1);
    assert (code == ZG_ERR_BAD_REQUEST && zg_qcore_queue (core, "junk", false)->waiting == 2);

    //  The waiting tasks are dropped and their waiting producer hears 410;
    //  the task in progress stays with its worker
    assert (s_test_delete (core, "junk", NULL, &dropped) == 0 && dropped == 2);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    assert (!zg_qcore_task (core, 2) && !zg_qcore_task (core, 3));
    assert (zg_qcore_task (core, 1)->state == ZG_TASK_IN_PROGRESS);
    assert (s_test_delete (core, "junk", "if-empty", &dropped) == 0 && dropped == 0);

    //  Once its worker leaves and its last result is forgotten, so is the name
    zg_qcore_ack (core, zg_qcore_held (core, worker, 1), NULL);
    zg_qcore_bye (core, &worker);
    zg_qcore_set_clock (core, zclock_mono () + settings.result_ttl, zclock_time ());
    zg_qcore_expire (core);
    zg_qcore_collect (core);
    assert (!zg_qcore_queue (core, "junk", false));
    assert (streq (zg_qtest_sent (core), "REPLY r 1;"));
    zg_qcore_destroy (&core);
    printf ("OK\n");
}
