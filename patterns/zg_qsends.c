/*  =========================================================================
    zg_qsends - a producer's batch of tasks: SENDS (queue protocol
    version 2)

    The records are read twice: once to check that every one is whole (so
    a batch cut short changes nothing), then to submit them. The results
    go into a buffer grown as they come (a refusal's reason makes a result
    record longer than an id).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qsends.h"
#include "zg_qv2.h"
#include "zg_qoutbox.h"
#include "zg_qtest.h"

//  The results of one batch
typedef struct {
    byte *data;                     //  Result records
    size_t size;                    //  Their bytes
    size_t capacity;                //  Bytes allocated
    bool refused;                   //  At least one record was refused
} s_results_t;

//  --------------------------------------------------------------------------
//  Append a result record: the task's id, or (error not NULL) id 0 and the
//  refusal "<code> <reason>"

static void
s_result (s_results_t *results, uint64_t id, int code, const char *error)
{
    char text [ZG_WIRE_REASON_SIZE + ZG_WIRE_NUMBER_SIZE];
    size_t text_size = error? (size_t) snprintf (text, sizeof text, "%d %s", code, error): ZG_QV2_NO_REPLY;
    size_t size = zg_qv2_ack_size (text_size);
    if (results->size + size > results->capacity) {
        results->capacity = (results->size + size) * 2;
        results->data = (byte *) realloc (results->data, results->capacity);
        assert (results->data);
    }
    zg_qv2_put_ack (results->data + results->size, error? 0: id, error? text: NULL, error? text_size: 0);
    results->size += size;
    results->refused |= error != NULL;
}

//  --------------------------------------------------------------------------
//  Submit one record's payload as a task of queue; its result appended

static void
s_submit (zg_qcore_t *core, const zg_qsends_t *sends, zg_wire_request_t *request, const char *queue,
          const zg_qoptions_t *options, const uint8_t *data, size_t size, s_results_t *results)
{
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    if ((int64_t) size > sends->settings->max_task_size) {
        zg_wire_reason (reason, "payload larger than %" PRId64 " bytes", sends->settings->max_task_size);
        s_result (results, 0, ZG_ERR_TOO_LARGE, reason);
        return;
    }
    zmq_msg_t payload;
    zmq_msg_init_size (&payload, size);
    if (size)
        memcpy (zmq_msg_data (&payload), data, size);
    zg_qcore_submit_t submit = {
        queue, false, options, &payload, &request->frames [0], &request->frames [2], sends->owner
    };
    char id [ZG_TASKS_ID_SIZE + 1];
    uint64_t number = 0;
    if (zg_qcore_submit (core, &submit, id, &code, reason) == 0) {
        zg_wire_parse_uint (id, strlen (id), UINT64_MAX, &number);
        //  Its reply, if it wants one, goes in a REPLIES batch
        zg_qcore_task (core, number)->replies_batched = true;
        s_result (results, number, 0, NULL);
    }
    else
        s_result (results, 0, code, reason);
    zmq_msg_close (&payload);
}

//  --------------------------------------------------------------------------
//  Check that the records fill the frame; returns how many, or 0 with the
//  refusal

static size_t
s_count (zg_wire_request_t *request, int *code, char *reason)
{
    zg_qv2_reader_t reader;
    zg_qv2_reader_init (&reader, request->data [5], request->size [5]);
    size_t count = 0;
    const uint8_t *data;
    size_t size;
    while (zg_qv2_more (&reader))
        if (zg_qv2_next_send (&reader, &data, &size))
            count++;
        else {
            zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "send record %zu is cut short", count + 1);
            return 0;
        }
    if (count == 0)
        zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "SENDS holds no record");
    return count;
}

//  --------------------------------------------------------------------------
//  SENDS of a batch

int
zg_qsends_batch (zg_qcore_t *core, const zg_qsends_t *sends, zg_wire_request_t *request, const char *queue,
                 int *code, char *reason)
{
    assert (core && sends && request && queue && code && reason);
    zg_qoptions_t options;
    if (zg_qoptions_parse (&options, sends->settings, request->data [4], request->size [4], false, code, reason))
        return -1;
    options.holder = sends->holder;
    int rc = 0;
    size_t count = 0;
    if (options.scatter)
        rc = zg_wire_refuse (code, ZG_ERR_BAD_REQUEST, reason, "option 'scatter' is for CALL");
    else
    if ((count = s_count (request, code, reason)) == 0)
        rc = -1;
    //  A task that brings no ttl takes its queue's (task-ttls, task-ttl)
    if (rc == 0 && options.ttl < 0)
        options.ttl = zg_qttl_lookup (sends->ttls, queue, sends->settings->task_ttl);
    s_results_t results = { NULL, 0, 0, false };
    zg_qv2_reader_t reader;
    zg_qv2_reader_init (&reader, request->data [5], request->size [5]);
    for (size_t index = 0; rc == 0 && index < count; index++) {
        const uint8_t *data = NULL;
        size_t size = 0;
        zg_qv2_next_send (&reader, &data, &size);
        s_submit (core, sends, request, queue, &options, data, size, &results);
    }
    //  An empty req asks for no OK, but still hears what was refused
    zg_wire_part_t req = zg_wire_frame (request, 2);
    if (rc == 0 && (req.size || results.refused))
        zg_qoutbox_oks (zg_qcore_outbox (core), zg_wire_frame (request, 0), req, results.data, results.size);
    free (results.data);
    zg_qoptions_clear (&options);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test

//  SENDS to "jobs" with these options and records from producer "p", req;
//  returns 0 or the refusal's code
static int
s_test_sends (zg_qcore_t *core, const zg_qsends_t *sends, const char *req, zg_wire_part_t options,
              const uint8_t *records, size_t size)
{
    zg_wire_request_t request;
    zg_wire_part_t parts [] = {
        zg_wire_str ("p"), zg_wire_str ("SENDS"), zg_wire_str (req), zg_wire_str ("jobs"), options, { records, size }
    };
    zg_qtest_request (&request, parts, 6);
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qsends_batch (core, sends, &request, "jobs", &code, reason);
    zg_wire_close (&request);
    return rc? code: 0;
}

//  Append a send record to records at *size
static void
s_test_record (uint8_t *records, size_t *size, const char *payload)
{
    zg_qv2_put_send (records + *size, payload, strlen (payload));
    *size += zg_qv2_send_size (strlen (payload));
}

void
zg_qsends_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qsends: ");
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_task_size = 8;
    settings.max_pending = 3;
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_qttl_t *ttls = zg_qttl_new ();
    zg_qsends_t sends = { &settings, ttls, NULL, NULL };
    static const uint8_t reply [] = { 0x81, 0xa5, 'r', 'e', 'p', 'l', 'y', 0xc3 };
    zg_wire_part_t replied = { reply, sizeof reply };
    uint8_t records [128];
    size_t size = 0;
    s_test_record (records, &size, "one");
    s_test_record (records, &size, "");

    //  Whole-batch refusals change nothing: bad options, scatter, a record
    //  cut short, no record
    assert (s_test_sends (core, &sends, "r", zg_wire_str ("\x81"), records, size) == ZG_ERR_BAD_REQUEST);
    static const uint8_t scatter [] = { 0x81, 0xa7, 's', 'c', 'a', 't', 't', 'e', 'r', 0xc3 };
    assert (s_test_sends (core, &sends, "r", (zg_wire_part_t) { scatter, sizeof scatter }, records, size)
            == ZG_ERR_BAD_REQUEST);
    assert (s_test_sends (core, &sends, "r", replied, records, size - 1) == ZG_ERR_BAD_REQUEST);
    assert (s_test_sends (core, &sends, "r", replied, records, 0) == ZG_ERR_BAD_REQUEST);
    assert (streq (zg_qtest_sent (core), ""));
    assert (zg_qcore_task (core, 1) == NULL);

    //  A batch: ids in order; a record over max-task-size and one past
    //  max-pending are refused alone
    s_test_record (records, &size, "too large");
    s_test_record (records, &size, "three");
    s_test_record (records, &size, "four");
    assert (s_test_sends (core, &sends, "r", replied, records, size) == 0);
    assert (streq (zg_qtest_sent (core), "OK r 1,2,!413,3,!429;"));
    assert (zg_qcore_task (core, 3) && zg_qcore_task (core, 4) == NULL);

    //  An empty req hears only refusals
    size = 0;
    s_test_record (records, &size, "five");
    assert (s_test_sends (core, &sends, "", zg_wire_str (""), records, size) == 0);
    assert (streq (zg_qtest_sent (core), "OK  !429;"));

    //  The replies of a batch's tasks come batched, in the order acked
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 3, .names = names, .name_count = 1, .version = ZG_QV2_VERSION };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker);
    assert (streq (zg_qtest_sent (core), "DELIVERS w 1,2,3;"));
    zmq_msg_t answer;
    for (uint64_t id = 1; id <= 3; id++) {
        zmq_msg_init_size (&answer, 2);
        memcpy (zmq_msg_data (&answer), "ok", 2);
        zg_qcore_ack (core, zg_qcore_held (core, worker, id), &answer);
        zmq_msg_close (&answer);
    }
    assert (streq (zg_qtest_sent (core), "REPLIES r 1,2,3;"));
    zg_qcore_bye (core, &worker);
    zg_qttl_destroy (&ttls);
    zg_qcore_destroy (&core);
    printf ("OK\n");
}
