/*  =========================================================================
    zg_qtest - the wire helpers of the queues actor's self test: options
    frames, requests, expected answers and deliveries, and the dispatch
    core's (zg_qcore) submit and outbox

    Test code only, kept out of zg_queues.c so that the actor stays one
    readable file; nothing but the self tests calls it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qtest.h"
#include "zg_qexpiry.h"
#include "zg_errors.h"

//  --------------------------------------------------------------------------
//  Pack a small options map from alternating keys and values: a value
//  starting with '[' is an array of one name, digits an integer, "true" a bool

zframe_t *
zg_qtest_options (const char *first, ...)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    va_list args;
    size_t count = 0;
    va_start (args, first);
    for (const char *key = first; key; key = va_arg (args, const char *)) {
        va_arg (args, const char *);
        count++;
    }
    va_end (args);
    msgpack_pack_map (&packer, count);
    va_start (args, first);
    for (const char *key = first; key; key = va_arg (args, const char *)) {
        const char *value = va_arg (args, const char *);
        msgpack_pack_str_with_body (&packer, key, strlen (key));
        if (*value == '[') {
            msgpack_pack_array (&packer, 1);
            msgpack_pack_str_with_body (&packer, value + 1, strlen (value + 1));
        }
        else
        if (isdigit ((unsigned char) *value))
            msgpack_pack_int64 (&packer, atoll (value));
        else
            msgpack_pack_true (&packer);
    }
    va_end (args);
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    return frame;
}

//  --------------------------------------------------------------------------
//  Send [command][name][options]

void
zg_qtest_send_options (zsock_t *socket, const char *command, const char *name, zframe_t *options,
                     const char *last)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, name);
    if (last && streq (command, "SEND")) {
        zmsg_addstr (msg, "jobs");
        zmsg_append (msg, &options);
        zmsg_addstr (msg, last);
    }
    else {
        zmsg_append (msg, &options);
        if (last)
            zmsg_addstr (msg, last);
    }
    zmsg_send (&msg, socket);
}

//  --------------------------------------------------------------------------
//  Receive a message and check its first frames; returns it for more checks

zmsg_t *
zg_qtest_expect (zsock_t *socket, const char *command, const char *name, const char *third)
{
    zmsg_t *msg = zmsg_recv (socket);
    assert (msg);
    char *got = zmsg_popstr (msg);
    if (!streq (got, command)) {
        zmsg_print (msg);
        printf ("expected %s, got %s\n", command, got);
    }
    assert (streq (got, command));
    zstr_free (&got);
    got = zmsg_popstr (msg);
    assert (streq (got, name));
    zstr_free (&got);
    if (third) {
        got = zmsg_popstr (msg);
        assert (streq (got, third));
        zstr_free (&got);
    }
    return msg;
}

void
zg_qtest_expect_done (zsock_t *socket, const char *command, const char *name, const char *third)
{
    zmsg_t *msg = zg_qtest_expect (socket, command, name, third);
    zmsg_destroy (&msg);
}

void
zg_qtest_expect_last (zsock_t *socket, const char *command, const char *name, const char *third, const char *last)
{
    zmsg_t *msg = zg_qtest_expect (socket, command, name, third);
    char *got = zmsg_popstr (msg);
    assert (got && streq (got, last) && zmsg_size (msg) == 0);
    zstr_free (&got);
    zmsg_destroy (&msg);
}

void
zg_qtest_expect_silence (zsock_t *socket, int timeout)
{
    int before = zsock_rcvtimeo (socket);
    zsock_set_rcvtimeo (socket, timeout);
    zmsg_t *nothing = zmsg_recv (socket);
    assert (nothing == NULL);
    zsock_set_rcvtimeo (socket, before);
}

//  --------------------------------------------------------------------------
//  A DELIVER for worker name; returns the task id and checks the payload

char *
zg_qtest_delivery (zsock_t *worker, const char *name, const char *payload)
{
    zmsg_t *msg = zg_qtest_expect (worker, "DELIVER", name, NULL);
    char *id = zmsg_popstr (msg);
    zframe_t *meta = zmsg_pop (msg);
    char *data = zmsg_popstr (msg);
    assert (streq (data, payload));
    zstr_free (&data);
    zframe_destroy (&meta);
    zmsg_destroy (&msg);
    return id;
}

//  --------------------------------------------------------------------------
//  PING until a DELIVER comes; a worker declared dead elsewhere gets its
//  task here only while it shows signs of life

char *
zg_qtest_ping_until_delivery (zsock_t *worker, const char *name, int timeout)
{
    int saved = zsock_rcvtimeo (worker);
    zsock_set_rcvtimeo (worker, 50);
    int64_t start = zclock_mono ();
    char *id = NULL;
    while (!id && zclock_mono () - start < timeout) {
        zstr_sendx (worker, "PING", name, NULL);
        zmsg_t *msg = zmsg_recv (worker);
        if (msg && zmsg_size (msg) >= 3 && zframe_streq (zmsg_first (msg), "DELIVER")) {
            zmsg_next (msg);                //  The worker's name
            id = zframe_strdup (zmsg_next (msg));
        }
        zmsg_destroy (&msg);
    }
    zmsg_t *pong;
    while ((pong = zmsg_recv (worker)))
        zmsg_destroy (&pong);
    zsock_set_rcvtimeo (worker, saved);
    return id;
}

//  --------------------------------------------------------------------------
//  GET a task and look for a text in its map

void
zg_qtest_get_contains (zsock_t *producer, const char *id, const char *text)
{
    zstr_sendx (producer, "GET", "g", id, NULL);
    zmsg_t *answer = zg_qtest_expect (producer, "OK", "g", NULL);
    zframe_t *map = zmsg_pop (answer);
    assert (map && zg_qtest_contains (map, text));
    zframe_destroy (&map);
    zmsg_destroy (&answer);
}

//  --------------------------------------------------------------------------
//  Whether a frame contains a string

bool
zg_qtest_contains (zframe_t *frame, const char *string)
{
    size_t size = strlen (string);
    for (size_t offset = 0; offset + size <= zframe_size (frame); offset++)
        if (memcmp (zframe_data (frame) + offset, string, size) == 0)
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  The core's outbox as text, emptied

const char *
zg_qtest_sent (zg_qcore_t *core)
{
    static char text [1024];
    return zg_qoutbox_text (zg_qcore_outbox (core), text, sizeof text);
}

//  --------------------------------------------------------------------------
//  Submit a task from producer "p", req "r"

int
zg_qtest_submit (zg_qcore_t *core, const char *name, bool command, zg_qoptions_t *options, char *id)
{
    zmq_msg_t frames [3];
    const char *texts [] = { "data", "p", "r" };
    for (int index = 0; index < 3; index++)
        zmq_msg_init_data (&frames [index], (void *) texts [index], strlen (texts [index]), NULL, NULL);
    zg_qcore_submit_t submit = { name, command, options, &frames [0], &frames [1], &frames [2], NULL };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qcore_submit (core, &submit, id, &code, reason);
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    return rc? code: 0;
}

//  --------------------------------------------------------------------------
//  A request from these frames

void
zg_qtest_request (zg_wire_request_t *request, const zg_wire_part_t *parts, size_t count)
{
    assert (request && parts && count <= ZG_WIRE_MAX_FRAMES);
    memset (request, 0, sizeof *request);
    request->count = count;
    for (size_t index = 0; index < count; index++) {
        zmq_msg_init_size (&request->frames [index], parts [index].size);
        if (parts [index].size)
            memcpy (zmq_msg_data (&request->frames [index]), parts [index].data, parts [index].size);
        request->data [index] = (const byte *) zmq_msg_data (&request->frames [index]);
        request->size [index] = parts [index].size;
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class, and through it the dispatch core's transitions
//  (zg_qcore), which the core's own test cannot drive without these
//  helpers: the core's scenario, then ttls (zg_qexpiry)

static void
s_test_core (void)
{
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_deliveries = 2;
    settings.max_pending = 2;
    zg_qcore_t *core = zg_qcore_new (&settings);
    int64_t now = 1000;
    zg_qcore_set_clock (core, now, 50000);
    zg_qoptions_t reply = { .reply = true, .timeout = 100000, .ack_timeout = 500 };
    zg_qoptions_t scatter = { .reply = true, .scatter = true, .timeout = 100000, .ack_timeout = 500 };
    char id [ZG_TASKS_ID_SIZE + 1];
    int code;
    char reason [ZG_WIRE_REASON_SIZE];

    //  Tasks wait for a worker; a worker gets them up to its credit
    assert (zg_qtest_submit (core, "jobs", false, &reply, id) == 0 && streq (id, "1"));
    assert (zg_qtest_submit (core, "jobs", false, &reply, id) == 0 && streq (id, "2"));
    assert (streq (zg_qtest_sent (core), ""));
    zg_qname_t names [] = { { false, "jobs" }, { true, "cmd" } };
    zg_qoptions_t ready = { .prefetch = 1, .names = names, .name_count = 2 };
    zg_qworker_t *w1 = zg_qcore_ready (core, NULL, (const byte *) "c1", 2, (const byte *) "w1", 2, &ready,
                                       &code, reason);
    assert (w1 && zg_qcore_worker (core, (const byte *) "c1", 2, (const byte *) "w1", 2) == w1);
    assert (streq (zg_qtest_sent (core), "DELIVER w1 1;"));
    assert (zg_qcore_held (core, w1, 2) == NULL);

    //  ACK: the reply goes to the producer, the credit brings the next task
    zmq_msg_t answer;
    zmq_msg_init_size (&answer, 2);
    zg_qcore_ack (core, zg_qcore_held (core, w1, 1), &answer);
    zmq_msg_close (&answer);
    assert (streq (zg_qtest_sent (core), "REPLY r 1;DELIVER w1 2;"));
    assert (zg_qcore_task (core, 1)->state == ZG_TASK_DONE);

    //  NACK: back to the head; then its ack timeout uses up max-deliveries,
    //  so it goes to the dead letters and the producer hears 410
    zg_qcore_nack (core, zg_qcore_held (core, w1, 2), false);
    assert (streq (zg_qtest_sent (core), "DELIVER w1 2;"));
    assert (zg_qcore_next_deadline (core) == now + 500);
    zg_qcore_set_clock (core, now += 500, 50500);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    zg_task_t *dead = zg_qcore_task (core, 2);
    assert (dead->state == ZG_TASK_DEAD && dead->attempt == 2 && streq (dead->queue->name, "jobs.dead"));
    assert (zg_qcore_queue (core, "jobs.dead", false)->waiting == 1);

    //  max-pending: one delivered, two wait, the next is refused (nothing changes)
    for (int index = 0; index < 3; index++)
        assert (zg_qtest_submit (core, "jobs", false, &reply, id) == 0);
    assert (streq (zg_qtest_sent (core), "DELIVER w1 3;"));
    assert (zg_qtest_submit (core, "jobs", false, &reply, id) == ZG_ERR_TOO_MANY);
    assert (zg_qcore_task (core, 6) == NULL);

    //  Scatter: w2 (a command worker) takes its copy now, w1 (no credit)
    //  gets its copy pinned; when w1 leaves, its task goes back to the head
    //  of its queue and its copy fails, which ends the group
    zg_qoptions_t commands = { .prefetch = 1, .names = names + 1, .name_count = 1 };
    zg_qworker_t *w2 = zg_qcore_ready (core, NULL, (const byte *) "c2", 2, (const byte *) "w2", 2, &commands,
                                       &code, reason);
    assert (w2 && streq (zg_qtest_sent (core), ""));
    assert (zg_qtest_submit (core, "cmd", true, &scatter, id) == 0 && streq (id, "6"));
    assert (streq (zg_qtest_sent (core), "DELIVER w2 8;"));
    zg_qcore_ack (core, zg_qcore_held (core, w2, 8), NULL);
    assert (streq (zg_qtest_sent (core), "REPLY r 6;"));
    zg_qcore_bye (core, &w1);
    assert (w1 == NULL);
    assert (streq (zg_qtest_sent (core), "END r 6;"));
    assert (zg_qcore_task (core, 7)->state == ZG_TASK_FAILED);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_WAITING);
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 3);

    //  Refusals: an unknown command, max-tasks, max-queues
    assert (zg_qtest_submit (core, "nope", true, &reply, id) == ZG_ERR_NOT_FOUND);
    settings.max_tasks = 8;
    assert (zg_qtest_submit (core, "jobs", false, &reply, id) == ZG_ERR_UNAVAILABLE);
    settings.max_tasks = 100;
    settings.max_queues = 3;
    assert (zg_qtest_submit (core, "other", false, &reply, id) == ZG_ERR_UNAVAILABLE);
    zg_qname_t other [] = { { false, "other" } };
    zg_qoptions_t more = { .prefetch = 1, .names = other, .name_count = 1 };
    assert (!zg_qcore_ready (core, w2, (const byte *) "c2", 2, (const byte *) "w2", 2, &more, &code, reason));
    assert (code == ZG_ERR_UNAVAILABLE);
    assert (streq (zg_qtest_sent (core), ""));

    //  A silent worker is declared dead, a producer waiting too long hears
    //  408, and finished tasks are forgotten after result-ttl
    zg_qcore_set_clock (core, now += settings.worker_timeout, 60000);
    zg_qcore_expire (core);
    assert (!zg_qcore_worker (core, (const byte *) "c2", 2, (const byte *) "w2", 2));
    assert (zg_qcore_task (core, 5)->state == ZG_TASK_WAITING);
    assert (streq (zg_qtest_sent (core), ""));
    zg_qcore_set_clock (core, now += 100000, 160000);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 408;ERROR r 408;ERROR r 408;"));
    assert (zg_qcore_task (core, 1) == NULL && zg_qcore_task (core, 6) == NULL);
    json_object *stats = zg_qcore_stats (core);
    assert (json_object_get_int64 (json_object_object_get (stats, "tasks")) == 4);
    assert (json_object_array_length (json_object_object_get (stats, "recent")) == 4);
    json_object_put (stats);
    //  The command is named only by the recent list: a new recent-size
    //  empties it, and the idle command is forgotten
    zg_qcore_collect (core);
    assert (zg_qcore_queue (core, "cmd", true));
    settings.recent_size = 10;
    zg_qcore_settings_changed (core);
    zg_qcore_collect (core);
    assert (zg_qcore_queue (core, "cmd", true) == NULL && zg_qcore_queue (core, "jobs", false));
    assert (zg_qcore_errors (core) == 4);
    zg_qcore_destroy (&core);
}

static void
s_test_expiry (void)
{
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.recent_size = 0;           //  So that only tasks name queues
    zg_qcore_t *core = zg_qcore_new (&settings);
    int64_t now = 1000, wall = 50000;
    zg_qcore_set_clock (core, now, wall);
    zg_qoptions_t brief = { .reply = true, .timeout = 100000, .ack_timeout = 100000, .ttl = 100 };
    zg_qoptions_t lasting = { .reply = true, .timeout = 100000, .ack_timeout = 100000, .ttl = 0 };
    char id [ZG_TASKS_ID_SIZE + 1];

    //  A task nobody takes expires into the dead letters; its producer
    //  hears 410, and its wait there is its whole ttl again
    assert (zg_qtest_submit (core, "junk", false, &brief, id) == 0 && streq (id, "1"));
    assert (zg_qtest_submit (core, "junk", false, &lasting, id) == 0 && streq (id, "2"));
    assert (zg_qcore_next_deadline (core) == now + 100);
    zg_qcore_set_clock (core, now += 99, wall += 99);
    zg_qcore_expire (core);
    assert (zg_qcore_queue (core, "junk", false)->waiting == 2);
    zg_qcore_set_clock (core, now += 1, wall += 1);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    zg_task_t *task = zg_qcore_task (core, 1);
    assert (task->state == ZG_TASK_DEAD && streq (task->queue->name, "junk.dead"));
    assert (task->ttl_expires == wall + 100 && zg_qcore_next_deadline (core) == now + 100);
    assert (zg_qcore_queue (core, "junk", false)->waiting == 1);
    assert (zg_qcore_queue (core, "junk", false)->expired == 1 && zg_qcore_queue (core, "junk", false)->dead == 1);
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qexpiry_reason (task, reason);
    assert (streq (reason, "is expired (ttl 100 ms)"));

    //  There it ends dead, and is forgotten after result-ttl; a task with
    //  no ttl waits on
    zg_qcore_set_clock (core, now += 100, wall += 100);
    zg_qcore_expire (core);
    assert (task->state == ZG_TASK_DEAD && task->finished == wall);
    assert (zg_qcore_queue (core, "junk.dead", false)->waiting == 0);
    zg_qcore_set_clock (core, now += settings.result_ttl, wall += settings.result_ttl);
    zg_qcore_expire (core);
    zg_qcore_collect (core);
    assert (!zg_qcore_task (core, 1) && !zg_qcore_queue (core, "junk.dead", false));
    assert (zg_qcore_task (core, 2)->state == ZG_TASK_WAITING);
    assert (streq (zg_qtest_sent (core), ""));

    //  A delivery stops the clock, a requeue runs it on from where it was
    assert (zg_qtest_submit (core, "jobs", false, &brief, id) == 0 && streq (id, "3"));
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 1, .names = names, .name_count = 1 };
    int code;
    zg_qcore_set_clock (core, now += 60, wall += 60);
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker && streq (zg_qtest_sent (core), "DELIVER w 3;"));
    zg_qcore_set_clock (core, now += 1000, wall += 1000);
    zg_qcore_expire (core);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_IN_PROGRESS);
    zg_qcore_bye (core, &worker);
    assert (zg_qcore_task (core, 3)->state == ZG_TASK_WAITING);
    assert (zg_qcore_next_deadline (core) == now);
    zg_qcore_expire (core);
    assert (streq (zg_qtest_sent (core), "ERROR r 410;"));
    assert (streq (zg_qcore_task (core, 3)->queue->name, "jobs.dead"));
    zg_qcore_destroy (&core);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qtest_test (bool verbose)
{
    printf (" * zg_qtest: ");
    if (verbose)
        printf ("\n");
    zframe_t *options = zg_qtest_options ("queues", "[jobs", "prefetch", "2", "reply", "true", NULL);
    //  A map of 3: {"queues": ["jobs"], "prefetch": 2, "reply": true}
    assert (zframe_size (options) > 0 && zframe_data (options) [0] == 0x83);
    assert (zg_qtest_contains (options, "jobs") && zg_qtest_contains (options, "prefetch"));
    assert (!zg_qtest_contains (options, "nothing"));
    zsock_t *server = zsock_new_router ("inproc://zg-qtest");
    zsock_t *client = zsock_new_dealer (">inproc://zg-qtest");
    zg_qtest_send_options (client, "READY", "w1", options, NULL);
    zmsg_t *msg = zmsg_recv (server);
    assert (msg && zmsg_size (msg) == 4);
    zframe_t *routing = zmsg_pop (msg);
    zmsg_destroy (&msg);
    zmsg_t *answer = zmsg_new ();
    zmsg_append (answer, &routing);
    zmsg_addstr (answer, "DELIVER");
    zmsg_addstr (answer, "w1");
    zmsg_addstr (answer, "7");
    zmsg_addstr (answer, "meta");
    zmsg_addstr (answer, "payload");
    zmsg_send (&answer, server);
    char *id = zg_qtest_delivery (client, "w1", "payload");
    assert (streq (id, "7"));
    zstr_free (&id);
    zsock_destroy (&client);
    zsock_destroy (&server);
    s_test_core ();
    s_test_expiry ();
    printf ("OK\n");
}
