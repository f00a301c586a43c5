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
    zg_qcore_submit_t submit = { name, command, options, &frames [0], &frames [1], &frames [2] };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qcore_submit (core, &submit, id, &code, reason);
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    return rc? code: 0;
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
    printf ("OK\n");
}
