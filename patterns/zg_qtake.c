/*  =========================================================================
    zg_qtake - pull access to the queues: TAKE, FINISH and RETRY

    The frames are read here; the transitions are the core's (zg_qcore_take,
    zg_qcore_ack, zg_qcore_nack at the tail), so a taken task is journaled
    and counted like a delivered one. Every answer goes through the core's
    outbox: in durable mode it waits for the pass's commit like SEND's OK.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qtake.h"
#include "zg_qtest.h"

//  --------------------------------------------------------------------------
//  Read TAKE's options map: "queues" (names) and "ack-timeout" (ms)

static int
s_parse (zg_qoptions_t *options, const zg_qsettings_t *settings, zg_wire_part_t frame, int *code, char *reason)
{
    *options = (zg_qoptions_t) { 0 };
    *code = ZG_ERR_BAD_REQUEST;
    if ((int64_t) frame.size > settings->max_options_size) {
        *code = ZG_ERR_TOO_LARGE;
        zg_wire_reason (reason, "options larger than %" PRId64 " bytes", settings->max_options_size);
        return -1;
    }
    zg_mpreader_t reader = zg_mpreader_init (frame.data, frame.size);
    uint64_t entries = 0;
    if (frame.size && !zg_mpreader_container (&reader, true, &entries)) {
        zg_wire_reason (reason, "options must be a msgpack map");
        return -1;
    }
    for (uint64_t entry = 0; entry < entries; entry++) {
        const char *key;
        size_t size;
        if (!zg_mpreader_string (&reader, &key, &size)) {
            zg_wire_reason (reason, "options keys must be strings");
            return -1;
        }
        if (size == 6 && memcmp (key, "queues", 6) == 0) {
            if (zg_qoptions_names (options, settings, &reader, false, "queues", code, reason))
                return -1;
        }
        else
        if (size == 11 && memcmp (key, "ack-timeout", 11) == 0) {
            if (!zg_mpreader_integer (&reader, &options->ack_timeout) || options->ack_timeout < 1
            ||  options->ack_timeout > settings->max_ack_timeout) {
                zg_wire_reason (reason, "bad value for option 'ack-timeout'");
                return -1;
            }
        }
        else {
            zg_wire_reason (reason, "unknown option '%.*s' (TAKE has queues, ack-timeout)",
                            (int) (size > 64? 64: size), key);
            return -1;
        }
    }
    if (frame.size && !zg_mpreader_done (&reader)) {
        zg_wire_reason (reason, "trailing bytes after the options map");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  TAKE req options: the first waiting task of the queues, or nothing

static int
s_take (zg_qcore_t *core, const zg_qsettings_t *settings, zg_wire_request_t *request,
        zg_qtake_allows_fn *allows, void *arg, int *code, char *reason)
{
    zg_wire_part_t req = zg_wire_frame (request, 2);
    if (req.size == 0) {
        *code = ZG_ERR_BAD_REQUEST;
        zg_wire_reason (reason, "TAKE needs a req: its answer carries the task");
        return -1;
    }
    zg_qoptions_t options;
    int rc = s_parse (&options, settings, zg_wire_frame (request, 3), code, reason);
    for (size_t index = 0; rc == 0 && index < options.name_count; index++)
        if (!allows (arg, request, options.names [index].text))
            rc = 1;
    if (rc == 0 && options.name_count == 0 && !allows (arg, request, NULL))
        rc = 1;
    if (rc == 0) {
        zg_task_t *task = zg_qcore_take (core, options.names, options.name_count, options.ack_timeout);
        zg_qoutbox_taken (zg_qcore_outbox (core), zg_wire_frame (request, 0), req, task);
    }
    zg_qoptions_clear (&options);
    return rc;
}

//  --------------------------------------------------------------------------
//  FINISH req id [output]: done; RETRY req id: back to the tail

static int
s_answer (zg_qcore_t *core, const zg_qsettings_t *settings, zg_wire_request_t *request,
          zg_qtake_allows_fn *allows, void *arg, int *code, char *reason)
{
    zg_wire_part_t id = zg_wire_frame (request, 3);
    uint64_t number = 0;
    zg_wire_parse_uint (id.data, id.size, UINT64_MAX, &number);
    zg_task_t *task = zg_qcore_task (core, number);
    int quote = (int) (id.size > 64? 64: id.size);
    if (!task) {
        *code = ZG_ERR_NOT_FOUND;
        zg_wire_reason (reason, "unknown task '%.*s'", quote, (const char *) id.data);
        return -1;
    }
    if (task->state != ZG_TASK_IN_PROGRESS || task->worker || task->group || task->scatter) {
        *code = ZG_ERR_CONFLICT;
        zg_wire_reason (reason, "task %s is not taken (TAKE)", task->id_text);
        return -1;
    }
    bool output = zg_wire_kept (request) == 5;
    if (output && (int64_t) request->size [4] > settings->max_task_size) {
        *code = ZG_ERR_TOO_LARGE;
        zg_wire_reason (reason, "output larger than %" PRId64 " bytes", settings->max_task_size);
        return -1;
    }
    if (!allows (arg, request, task->queue->name))
        return 1;
    //  OK first: the REPLY that finishing sends a waiting producer comes after
    if (zg_wire_frame (request, 2).size)
        zg_qoutbox_ok (zg_qcore_outbox (core), zg_wire_frame (request, 0), zg_wire_frame (request, 2),
                       task->id_text);
    if (zg_wire_is (request, 1, "FINISH"))
        zg_qcore_ack (core, task, output? &request->frames [4]: NULL);
    else
        zg_qcore_nack (core, task, true);
    return 0;
}

//  --------------------------------------------------------------------------
//  Handle TAKE, FINISH or RETRY

int
zg_qtake_handle (zg_qcore_t *core, const zg_qsettings_t *settings, zg_wire_request_t *request,
                 zg_qtake_allows_fn *allows, void *arg, int *code, char *reason)
{
    assert (core && settings && request && allows && code && reason);
    if (zg_wire_is (request, 1, "TAKE"))
        return s_take (core, settings, request, allows, arg, code, reason);
    return s_answer (core, settings, request, allows, arg, code, reason);
}

//  --------------------------------------------------------------------------
//  Self test

//  Build a request from routing id "p" and these frames (NULL ends them)
static void
s_test_request (zg_wire_request_t *request, const char *first, ...)
{
    memset (request, 0, sizeof *request);
    va_list args;
    va_start (args, first);
    const char *text = "p";
    for (size_t index = 0; text; index++) {
        zmq_msg_init_size (&request->frames [index], strlen (text));
        memcpy (zmq_msg_data (&request->frames [index]), text, strlen (text));
        request->data [index] = (const byte *) zmq_msg_data (&request->frames [index]);
        request->size [index] = strlen (text);
        request->count = index + 1;
        text = index == 0? first: va_arg (args, const char *);
    }
    va_end (args);
}

//  The callback: everyone may consume but from "secret" and from every queue
static bool
s_test_allows (void *arg, zg_wire_request_t *request, const char *queue)
{
    (void) request;
    (*(int *) arg)++;
    return queue && !streq (queue, "secret");
}

//  Handle a request; returns 0, 1 or the error code
static int
s_test_handle (zg_qcore_t *core, const zg_qsettings_t *settings, int *asked, const char *verb, const char *req,
               const char *third, const char *fourth)
{
    zg_wire_request_t request;
    s_test_request (&request, verb, req, third, fourth, NULL);
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qtake_handle (core, settings, &request, s_test_allows, asked, &code, reason);
    zg_wire_close (&request);
    return rc == -1? code: rc;
}

//  TAKE's options frame: queues (comma-separated, or NULL) and ack-timeout
static const char *
s_test_options (const char *queues, int64_t ack_timeout)
{
    static char text [256];
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, (size_t) (queues? 1: 0) + (ack_timeout? 1: 0));
    if (queues) {
        char names [128];
        snprintf (names, sizeof names, "%s", queues);
        size_t count = 1;
        for (const char *comma = strchr (names, ','); comma; comma = strchr (comma + 1, ','))
            count++;
        msgpack_pack_str_with_body (&packer, "queues", 6);
        msgpack_pack_array (&packer, count);
        for (char *name = strtok (names, ","); name; name = strtok (NULL, ","))
            msgpack_pack_str_with_body (&packer, name, strlen (name));
    }
    if (ack_timeout) {
        msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
        msgpack_pack_int64 (&packer, ack_timeout);
    }
    assert (buffer.size < sizeof text && !memchr (buffer.data, 0, buffer.size));
    memcpy (text, buffer.data, buffer.size);
    text [buffer.size] = 0;
    msgpack_sbuffer_destroy (&buffer);
    return text;
}

void
zg_qtake_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qtake: ");
    //  @selftest
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_deliveries = 3;
    zg_qcore_t *core = zg_qcore_new (&settings);
    int64_t now = 1000;
    zg_qcore_set_clock (core, now, 50000);
    zg_qoptions_t plain = { .timeout = 100000, .ack_timeout = 500 };
    zg_qoptions_t until_read = { .timeout = 100000, .ack_timeout = 500, .until_read = true };
    char id [ZG_TASKS_ID_SIZE + 1];
    int asked = 0;

    //  Row 13: a worker serving two queues gets their tasks in the order
    //  they came (b1, a1, b2), not in the order of its READY's list
    assert (zg_qtest_submit (core, "b", false, &plain, id) == 0 && streq (id, "1"));
    assert (zg_qtest_submit (core, "a", false, &plain, id) == 0 && streq (id, "2"));
    assert (zg_qtest_submit (core, "b", false, &plain, id) == 0 && streq (id, "3"));
    zg_qname_t names [] = { { false, "a" }, { false, "b" } };
    zg_qoptions_t ready = { .prefetch = 1, .names = names, .name_count = 2 };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker && streq (zg_qtest_sent (core), "DELIVER w 1;"));
    zg_qcore_ack (core, zg_qcore_held (core, worker, 1), NULL);
    assert (streq (zg_qtest_sent (core), "DELIVER w 2;"));
    zg_qcore_ack (core, zg_qcore_held (core, worker, 2), NULL);
    assert (streq (zg_qtest_sent (core), "DELIVER w 3;"));
    zg_qcore_bye (core, &worker);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_WAITING);

    //  TAKE: of the queues named, the task that came first; of every queue
    //  (no names) only for who may consume everything; nothing waiting
    //  answers OK with no task, not an error
    assert (zg_qtest_submit (core, "a", false, &until_read, id) == 0 && streq (id, "4"));
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("a,nope", 0), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t 4;") && asked == 2);
    assert (zg_qcore_task (core, 4)->state == ZG_TASK_IN_PROGRESS);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("a", 0), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t "));
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", "", NULL) == 1);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("secret", 0), NULL) == 1);
    assert (streq (zg_qtest_sent (core), ""));

    //  Refusals change nothing: no req, bad options, unknown or untaken
    //  ids, an output over max-task-size
    assert (s_test_handle (core, &settings, &asked, "TAKE", "", s_test_options ("b", 0), NULL) == 400);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", "\x81\xa1x\x01", NULL) == 400);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b", -1), NULL) == 400);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b b", 0), NULL) == 400);
    assert (s_test_handle (core, &settings, &asked, "FINISH", "f", "99", NULL) == 404);
    assert (s_test_handle (core, &settings, &asked, "FINISH", "f", "x", NULL) == 404);
    assert (s_test_handle (core, &settings, &asked, "RETRY", "f", "3", NULL) == 409);
    settings.max_task_size = 2;
    assert (s_test_handle (core, &settings, &asked, "FINISH", "f", "4", "big") == 413);
    settings.max_task_size = 1000;
    assert (streq (zg_qtest_sent (core), "") && zg_qcore_task (core, 3)->state == ZG_TASK_WAITING);

    //  FINISH with an output: done, its input kept beside it (keep-input);
    //  GET of a task sent until-read forgets it, of another keeps it
    settings.keep_input = 1;
    assert (s_test_handle (core, &settings, &asked, "FINISH", "f", "4", "42") == 0);
    assert (streq (zg_qtest_sent (core), "OK f 4;"));
    zg_task_t *task = zg_qcore_task (core, 4);
    assert (task->state == ZG_TASK_DONE && zmq_msg_size (&task->result) == 2);
    assert (zmq_msg_size (&task->payload) == 4);
    assert (s_test_handle (core, &settings, &asked, "FINISH", "f", "4", NULL) == 409);
    zg_qcore_read (core, task);
    assert (zg_qcore_task (core, 4) == NULL);
    zg_qcore_read (core, zg_qcore_task (core, 1));
    assert (zg_qcore_task (core, 1) && zmq_msg_size (&zg_qcore_task (core, 1)->payload) == 0);

    //  RETRY: to the tail (after 5), as a delivery; past max-deliveries to
    //  the dead letters. Its ack timeout takes it back to the head.
    assert (zg_qtest_submit (core, "b", false, &plain, id) == 0 && streq (id, "5"));
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b", 0), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t 3;"));
    assert (s_test_handle (core, &settings, &asked, "RETRY", "", "3", NULL) == 0);
    assert (streq (zg_qtest_sent (core), ""));
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b", 2000), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t 5;"));
    assert (zg_qcore_next_deadline (core) == now + 2000);
    zg_qcore_set_clock (core, now += 2000, 52000);
    zg_qcore_expire (core);
    zg_task_t *five = zg_qcore_task (core, 5);
    assert (five->state == ZG_TASK_WAITING && five->attempt == 1 && five->ack_timeout == 2000);
    assert (zg_qcore_queue (core, "b", false)->in_progress == 0);
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b", 0), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t 5;"));
    assert (s_test_handle (core, &settings, &asked, "TAKE", "t", s_test_options ("b", 0), NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK t 3;"));
    assert (s_test_handle (core, &settings, &asked, "RETRY", "r", "3", NULL) == 0);
    assert (streq (zg_qtest_sent (core), "OK r 3;"));
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_DEAD);
    assert (zg_qcore_queue (core, "b.dead", false)->waiting == 1);
    zg_qcore_destroy (&core);
    //  @end
    printf ("OK\n");
}
