/*  =========================================================================
    zg_qacks - a worker's answers to its tasks: ACK, NACK and FAIL of one
    task (worker protocol version 1) and ACKS of a batch (version 2)

    A batch is checked in one pass that marks each task it names
    (zg_task_t.batched), so a task named twice is found without a set, and
    applied in a second pass that reads the records again and clears the
    marks (also when the check refused the batch).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qacks.h"
#include "zg_qv2.h"
#include "zg_qworkers.h"
#include "zg_qtest.h"

//  Longest client bytes (an id) quoted in a reason
#define ZG_QACKS_QUOTE_MAX 64

//  --------------------------------------------------------------------------
//  ACK a held task with a reply (copied; NULL: none). A quiet command acked
//  without a reply is an event: its producer gets no REPLY.

static void
s_ack (zg_qcore_t *core, zg_qworker_t *worker, zg_task_t *task, const void *reply, size_t reply_size)
{
    task->quiet = !reply && zg_qworkers_quiet (worker, task->queue);
    zmq_msg_t frame;
    zmq_msg_init_size (&frame, reply? reply_size: 0);
    if (reply && reply_size)
        memcpy (zmq_msg_data (&frame), reply, reply_size);
    zg_qcore_ack (core, task, reply? &frame: NULL);
    zmq_msg_close (&frame);
}

//  --------------------------------------------------------------------------
//  ACK, NACK or FAIL of one task

int
zg_qacks_answer (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker,
                 zg_wire_request_t *request, int *code, char *reason)
{
    assert (core && settings && worker && request);
    uint64_t id = 0;
    zg_wire_part_t text = zg_wire_frame (request, 3);
    zg_task_t *task = zg_wire_parse_uint (text.data, text.size, UINT64_MAX, &id) == 0
                    ? zg_qcore_held (core, worker, id): NULL;
    bool replied = zg_wire_kept (request) == 5;
    if (!task)
        return zg_wire_refuse (code, ZG_ERR_CONFLICT, reason, "task %.*s is not held by this worker",
                         (int) (text.size > ZG_QACKS_QUOTE_MAX? ZG_QACKS_QUOTE_MAX: text.size),
                         (const char *) text.data);
    if (replied && (int64_t) request->size [4] > settings->max_task_size)
        return zg_wire_refuse (code, ZG_ERR_TOO_LARGE, reason, "reply larger than %" PRId64 " bytes",
                         settings->max_task_size);
    if (zg_wire_is (request, 1, "ACK")) {
        //  The reply frame is moved into the task, not copied
        task->quiet = !replied && zg_qworkers_quiet (worker, task->queue);
        zg_qcore_ack (core, task, replied? &request->frames [4]: NULL);
    }
    else
    if (zg_wire_is (request, 1, "FAIL")) {
        char why [ZG_WIRE_REASON_SIZE];
        snprintf (why, sizeof why, "%.*s", (int) request->size [4], (const char *) request->data [4]);
        zg_qcore_fail (core, task, why);
    }
    else
        zg_qcore_nack (core, task, false);
    return 0;
}

//  --------------------------------------------------------------------------
//  Check one ack record of a batch: the task it names, marked, or NULL
//  with the refusal

static zg_task_t *
s_check (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker, zg_qv2_record_t *record,
         int *code, char *reason)
{
    zg_task_t *task = zg_qcore_held (core, worker, record->id);
    if (!task)
        zg_wire_refuse (code, ZG_ERR_CONFLICT, reason, "task %" PRIu64 " is not held by this worker", record->id);
    else
    if (task->batched)
        zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "task %" PRIu64 " is named twice in one ACKS", record->id);
    else
    if (record->data && (int64_t) record->size > settings->max_task_size)
        zg_wire_refuse (code, ZG_ERR_TOO_LARGE, reason, "reply larger than %" PRId64 " bytes", settings->max_task_size);
    else {
        task->batched = true;
        return task;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  ACKS of a batch: all or nothing

int
zg_qacks_batch (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker,
                zg_wire_request_t *request, int *code, char *reason)
{
    assert (core && settings && worker && request);
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, request->data [3], request->size [3]);
    size_t checked = 0;
    int rc = 0;
    while (rc == 0 && zg_qv2_more (&reader))
        if (!zg_qv2_next (&reader, &record, false))
            rc = zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "ack record %zu is cut short", checked + 1);
        else
        if (s_check (core, settings, worker, &record, code, reason))
            checked++;
        else
            rc = -1;
    if (rc == 0 && checked == 0)
        rc = zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "ACKS names no task");
    //  The checked records again: unmarked, and acked if all were good
    zg_qv2_reader_init (&reader, request->data [3], request->size [3]);
    for (size_t index = 0; index < checked; index++) {
        zg_qv2_next (&reader, &record, false);
        zg_task_t *task = zg_qcore_held (core, worker, record.id);
        assert (task && task->batched);
        task->batched = false;
        if (rc == 0)
            s_ack (core, worker, task, record.data, record.size);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test

//  Build a worker request from routing id "c": verb, worker "w", then one
//  frame of size bytes (NULL: none)
static void
s_test_request (zg_wire_request_t *request, const char *verb, const void *data, size_t size)
{
    zg_wire_part_t parts [] = { zg_wire_str ("c"), zg_wire_str (verb), zg_wire_str ("w"), { data, size } };
    zg_qtest_request (request, parts, data? 4: 3);
}

//  ACKS of these records; returns 0 or the refusal's code
static int
s_test_acks (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker, const uint8_t *records,
             size_t size)
{
    zg_wire_request_t request;
    s_test_request (&request, "ACKS", records, size);
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qacks_batch (core, settings, worker, &request, &code, reason);
    zg_wire_close (&request);
    return rc? code: 0;
}

void
zg_qacks_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qacks: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_task_size = 8;
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_qoptions_t reply = { .reply = true, .timeout = 100000, .ack_timeout = 100000 };
    char id [ZG_TASKS_ID_SIZE + 1];
    for (int index = 0; index < 4; index++)
        assert (zg_qtest_submit (core, "jobs", false, &reply, id) == 0);
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 3, .names = names, .name_count = 1, .version = ZG_QV2_VERSION };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker);
    assert (streq (zg_qtest_sent (core), "DELIVERS w 1,2,3;"));

    //  Refusals change nothing: a record cut short, a task not held, a task
    //  named twice, a reply over max-task-size, no record at all
    uint8_t records [4 * ZG_QV2_ACK_HEAD + 16];
    zg_qv2_put_ack (records, 1, NULL, 0);
    zg_qv2_put_ack (records + ZG_QV2_ACK_HEAD, 2, "ok", 2);
    size_t good = 2 * ZG_QV2_ACK_HEAD + 2;
    assert (s_test_acks (core, &settings, worker, records, good - 1) == ZG_ERR_BAD_REQUEST);
    zg_qv2_put_ack (records + good, 4, NULL, 0);
    assert (s_test_acks (core, &settings, worker, records, good + ZG_QV2_ACK_HEAD) == ZG_ERR_CONFLICT);
    zg_qv2_put_ack (records + good, 1, NULL, 0);
    assert (s_test_acks (core, &settings, worker, records, good + ZG_QV2_ACK_HEAD) == ZG_ERR_BAD_REQUEST);
    zg_qv2_put_ack (records + good, 3, "too large", 9);
    assert (s_test_acks (core, &settings, worker, records, good + ZG_QV2_ACK_HEAD + 9) == ZG_ERR_TOO_LARGE);
    assert (s_test_acks (core, &settings, worker, records, 0) == ZG_ERR_BAD_REQUEST);
    for (uint64_t task = 1; task <= 3; task++)
        assert (zg_qcore_held (core, worker, task) && !zg_qcore_held (core, worker, task)->batched);
    assert (streq (zg_qtest_sent (core), ""));

    //  A good batch: each task done in the order named, an empty reply is a
    //  reply; the first one's credit brings the next task at once
    zg_qv2_put_ack (records + good, 3, "", 0);
    assert (s_test_acks (core, &settings, worker, records, good + ZG_QV2_ACK_HEAD) == 0);
    assert (streq (zg_qtest_sent (core), "REPLY r 1;DELIVERS w 4;REPLY r 2;REPLY r 3;"));
    assert (zg_qcore_task (core, 2)->state == ZG_TASK_DONE && !zg_qcore_held (core, worker, 2));

    //  Version 1 answers: a bad id, a reply too large, then NACK and ACK
    zg_wire_request_t request;
    s_test_request (&request, "ACK", "x4", 2);
    assert (zg_qacks_answer (core, &settings, worker, &request, &code, reason) == -1 && code == ZG_ERR_CONFLICT);
    assert (streq (reason, "task x4 is not held by this worker"));
    zg_wire_close (&request);
    s_test_request (&request, "NACK", "4", 1);
    assert (zg_qacks_answer (core, &settings, worker, &request, &code, reason) == 0);
    zg_wire_close (&request);
    assert (streq (zg_qtest_sent (core), "DELIVERS w 4;"));
    assert (zg_qcore_task (core, 4)->attempt == 2);
    s_test_request (&request, "ACK", "4", 1);
    assert (zg_qacks_answer (core, &settings, worker, &request, &code, reason) == 0);
    zg_wire_close (&request);
    assert (streq (zg_qtest_sent (core), "REPLY r 4;"));
    zg_qcore_bye (core, &worker);
    zg_qcore_destroy (&core);
    printf ("OK\n");
}
