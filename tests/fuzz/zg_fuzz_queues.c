/*  =========================================================================
    zg_fuzz_queues - fuzz target for the queues actor (zg_queues): its
    command tables, zg_qoptions and the dispatch core zg_qcore, reached as
    producers and workers reach them, over inproc

    The actor's state is new per input (zg_queues_core, run in this thread
    as zg_fuzz_native.h says), with small limits so inputs reach them, and
    four DEALERs: connections 0 and 1 are producers, 2 and 3 workers. The input
    is a sequence of messages (zg_fuzz_native.h); task ids the actor sends
    (OK to SEND, DELIVER) are remembered for inputs to name. Invariants:
    every OK names a non-empty req (or worker id) that connection sent, and
    every ERROR, REPLY and END one it sent or an empty one; a DELIVER goes
    to a worker id that connection made READY, with a msgpack map as meta,
    and so does each record of a DELIVERS (worker protocol version 2),
    whose records fill its frame exactly (each id is remembered in decimal
    and as an ack record, for ACK and ACKS to name); a SENDS's OK and a
    REPLIES (producer protocol version 2) hold ack-shaped records: a
    REPLIES's fill its frame, and each id they name is remembered in decimal;
    the final STATS holds no negative number and no queue has more waiting
    and in-progress tasks than there are tasks (none is both). Runs as
    zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_native.h"
#include "zg_queues.h"
#include "zg_qv2.h"

//  Small limits, each within reach of a short input
static const char *const s_settings [] [2] = {
    { "max-pending", "4" }, { "max-tasks", "8" }, { "max-queues", "3" }, { "max-workers", "3" },
    { "max-subscriptions", "3" }, { "max-prefetch", "3" }, { "max-priority", "3" },
    { "max-deliveries", "2" }, { "max-name-size", "16" }, { "max-options-size", "64" },
    { "max-task-size", "64" }, { "max-results", "4" }, { "recent-size", "3" }
};

//  What each connection sent as req or worker id (frame 2 with the
//  routing id), and which worker ids it made READY
typedef struct {
    zlist_t *names [FUZZ_MAX_CONNECTIONS];
    zlist_t *ready [FUZZ_MAX_CONNECTIONS];
} s_model_t;

//  Whether a frame is one or more ack-shaped records that fill it (a
//  REPLIES, a SENDS's results); remember the ids it names in decimal
static bool
s_records (fuzz_native_t *native, zframe_t *frame)
{
    zg_qv2_reader_t reader;
    zg_qv2_record_t record;
    zg_qv2_reader_init (&reader, zframe_data (frame), zframe_size (frame));
    bool whole = zg_qv2_more (&reader);
    while (whole && zg_qv2_more (&reader))
        whole = zg_qv2_next (&reader, &record, false);
    zg_qv2_reader_init (&reader, zframe_data (frame), zframe_size (frame));
    while (whole && zg_qv2_more (&reader) && zg_qv2_next (&reader, &record, false)) {
        char id [24];
        if (record.id)
            s_native_remember (native, id, (size_t) snprintf (id, sizeof id, "%" PRIu64, record.id));
    }
    return whole;
}

//  A message the actor sent to a connection
static void
s_seen (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zframe_t *verb = zmsg_first (msg);
    zframe_t *name = zmsg_next (msg);
    zframe_t *third = zmsg_next (msg);
    assert (name);
    bool producer = connection < 2;
    if (s_native_is (verb, "DELIVERS")) {
        assert (!producer && zmsg_size (msg) == 3);
        assert (s_listed (model->ready [connection], name));
        zg_qv2_reader_t reader;
        zg_qv2_record_t record;
        zg_qv2_reader_init (&reader, zframe_data (third), zframe_size (third));
        assert (zg_qv2_more (&reader));
        while (zg_qv2_more (&reader)) {
            assert (zg_qv2_next (&reader, &record, true));
            assert (record.meta_size && (record.meta [0] & 0xF0) == 0x80);
            char id [24];
            s_native_remember (native, id, (size_t) snprintf (id, sizeof id, "%" PRIu64, record.id));
            uint8_t ack [ZG_QV2_ACK_HEAD];
            zg_qv2_put_ack (ack, record.id, NULL, 0);
            s_native_remember (native, ack, sizeof ack);
        }
        return;
    }
    if (s_native_is (verb, "DELIVER")) {
        assert (!producer && zmsg_size (msg) == 5);
        assert (s_listed (model->ready [connection], name));
        zframe_t *meta = zmsg_next (msg);
        assert (zframe_size (meta) && (zframe_data (meta) [0] & 0xF0) == 0x80);
        s_native_remember (native, zframe_data (third), zframe_size (third));
        return;
    }
    assert (s_native_is (verb, "OK") || s_native_is (verb, "ERROR")
        || (producer && (s_native_is (verb, "REPLY") || s_native_is (verb, "REPLIES") || s_native_is (verb, "END"))));
    s_native_check_answer (msg, model->names [connection]);
    if (producer && s_native_is (verb, "REPLIES"))
        assert (s_records (native, third));
    //  An OK's third frame: a SEND's id (digits), a SENDS's results, or a
    //  map (GET, STATS), told apart by their shapes
    if (producer && s_native_is (verb, "OK") && third && zmsg_size (msg) == 3
    &&  (zframe_size (third) < ZG_QV2_ACK_HEAD || !s_records (native, third)))
        s_native_remember (native, zframe_data (third), zframe_size (third));
    if (!producer && s_native_is (verb, "OK") && third)
        s_list_add (model->ready [connection], name);
}

//  Waiting plus in-progress tasks of every queue (or command) of a map
static uint64_t
s_live_tasks (msgpack_object *queues)
{
    uint64_t live = 0;
    for (uint32_t index = 0; index < queues->via.map.size; index++) {
        msgpack_object *counters = &queues->via.map.ptr [index].val;
        live += s_member (counters, "waiting")->via.u64 + s_member (counters, "in_progress")->via.u64;
    }
    return live;
}

//  The STATS answer [OK][req][map]: the counters' invariants
static void
s_check_stats (zmsg_t *answer)
{
    assert (zmsg_size (answer) == 3);
    zframe_t *map = zmsg_last (answer);
    msgpack_unpacked unpacked;
    s_unpack (map, &unpacked);
    assert (s_not_negative (&unpacked.data));
    uint64_t tasks = s_member (&unpacked.data, "tasks")->via.u64;
    assert (s_live_tasks (s_member (&unpacked.data, "queues")) + s_live_tasks (s_member (&unpacked.data, "commands"))
            <= tasks);
    msgpack_unpacked_destroy (&unpacked);
}

//  A message about to be sent: its req or worker id may be answered
static bool
s_sent (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zmsg_first (msg);
    zframe_t *name = zmsg_next (msg);
    if (name)
        s_list_add (model->names [connection], name);
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_native_init ();
    s_model_t model;
    fuzz_native_t native = { .core = FUZZ_CORE (queues, zg_queues_core_new ()), .seen = s_seen, .sent = s_sent,
                             .state = &model };
    s_native_configure (&native.core, s_settings, sizeof s_settings / sizeof s_settings [0]);
    char producers [64], workers [64];
    s_native_bind (&native.core, "producers", producers, sizeof producers);
    s_native_bind (&native.core, "workers", workers, sizeof workers);
    for (size_t index = 0; index < 4; index++) {
        s_native_connect (&native, ZMQ_DEALER, index < 2? producers: workers);
        model.names [index] = zlist_new ();
        model.ready [index] = zlist_new ();
    }
    s_native_run (&native, data, size, s_native_step);
    zmsg_t *stats = s_native_ask (&native, 0, "STATS");
    s_check_stats (stats);
    zmsg_destroy (&stats);

    s_native_close (&native);
    for (size_t index = 0; index < 4; index++) {
        s_list_destroy (&model.names [index]);
        s_list_destroy (&model.ready [index]);
    }
    zg_queues_core_destroy ((zg_queues_core_t **) &native.core.state);
    return 0;
}
