/*  =========================================================================
    zg_fuzz_rooms - fuzz target for the rooms actor (zg_rooms): its command
    table over zg_rclients, zg_roomset, zg_room and zg_roomq, reached as
    members, observers and producers reach them, over inproc

    The actor's state is new per input (zg_rooms_core, run in this thread
    as zg_fuzz_native.h says), with small limits so inputs reach them, and
    three DEALERs. The input is a sequence of messages (zg_fuzz_native.h);
    the client ids HELLO issues and the ack tokens DELIVER carries are
    remembered for inputs to name. Invariants: every OK names a non-empty
    req that connection sent, and every ERROR one it sent or an empty one;
    an event goes to an issued client, on a connection that named it (its
    last one, by the protocol); a client gets a message (room and seq) at
    most once; the final METRICS holds no negative number, and its top
    rooms' backlog is within the whole backlog. Runs as zg_fuzz_main.c
    says.
    =========================================================================
*/

#include "zg_fuzz_native.h"
#include "zg_rooms.h"

#define FUZZ_CONNECTIONS 3

//  Small limits, each within reach of a short input
static const char *const s_settings [] [2] = {
    { "max-clients", "4" }, { "max-rooms", "4" }, { "max-rooms-per-client", "2" }, { "max-backlog", "4" },
    { "max-name-size", "16" }, { "max-peek", "3" }, { "max-top-rooms", "2" }, { "ack-timeout", "100" }
};

//  What each connection sent as req, the client ids each named or was
//  issued, and the messages delivered ("client room seq" frames)
typedef struct {
    zlist_t *reqs [FUZZ_CONNECTIONS];
    zlist_t *clients [FUZZ_CONNECTIONS];
    zlist_t *issued;
    zlist_t *delivered;
    size_t hello [FUZZ_CONNECTIONS];  //  The frames of the last message sent if a HELLO, else 0
} s_model_t;

//  A client got a room's message: a client this connection knows, and that
//  message ("client room seq") at most once
static void
s_check_delivered (s_model_t *model, size_t connection, zframe_t *client, zframe_t *room, zframe_t *seq)
{
    assert (s_listed (model->issued, client) && s_listed (model->clients [connection], client));
    zframe_t *delivery = zframe_new (NULL, zframe_size (client) + zframe_size (room) + zframe_size (seq) + 2);
    byte *key = zframe_data (delivery);
    memcpy (key, zframe_data (client), zframe_size (client));
    key [zframe_size (client)] = 0;
    memcpy (key + zframe_size (client) + 1, zframe_data (room), zframe_size (room));
    key [zframe_size (client) + 1 + zframe_size (room)] = 0;
    memcpy (key + zframe_size (client) + zframe_size (room) + 2, zframe_data (seq), zframe_size (seq));
    assert (!s_listed (model->delivered, delivery));
    s_list_add (model->delivered, delivery);
    zframe_destroy (&delivery);
}

//  Version 2's [DELIVERS][room][seq][holders][observers][payload] (3.8): the
//  lists are client ids separated by single spaces, each one delivered to
static void
s_check_delivers (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    assert (zmsg_size (msg) == 6);
    zmsg_first (msg);
    zframe_t *room = zmsg_next (msg);
    zframe_t *seq = zmsg_next (msg);
    for (int list = 0; list < 2; list++) {
        zframe_t *ids = zmsg_next (msg);
        const byte *data = zframe_data (ids);
        size_t size = zframe_size (ids);
        for (size_t start = 0; start < size;) {
            const byte *space = (const byte *) memchr (data + start, ' ', size - start);
            size_t end = space? (size_t) (space - data): size;
            assert (end > start && (!space || end + 1 < size));
            zframe_t *client = zframe_new (data + start, end - start);
            s_check_delivered (model, connection, client, room, seq);
            zframe_destroy (&client);
            start = end + 1;
        }
    }
    //  The seq is the ack token
    s_native_remember (native, zframe_data (seq), zframe_size (seq));
}

//  An event [EVENT][client][room]...: to a client this connection knows
static void
s_check_event (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zframe_t *verb = zmsg_first (msg);
    if (s_native_is (verb, "DELIVERS")) {
        s_check_delivers (native, connection, msg);
        return;
    }
    zframe_t *client = zmsg_next (msg);
    zframe_t *room = zmsg_next (msg);
    assert (client && room);
    assert (s_listed (model->issued, client) && s_listed (model->clients [connection], client));
    if (s_native_is (verb, "DELIVER")) {
        assert (zmsg_size (msg) == 6);
        zframe_t *seq = zmsg_next (msg);
        zframe_t *token = zmsg_next (msg);
        s_check_delivered (model, connection, client, room, seq);
        if (zframe_size (token))
            s_native_remember (native, zframe_data (token), zframe_size (token));
    }
    else
        assert ((s_native_is (verb, "OOB") && zmsg_size (msg) == 4)
            ||  (s_native_is (verb, "EVICTED") && zmsg_size (msg) == 4)
            ||  (s_native_is (verb, "TIMEOUT") && zmsg_size (msg) == 5));
}

//  A message the actor sent to a connection
static void
s_seen (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zframe_t *verb = zmsg_first (msg);
    zframe_t *req = zmsg_next (msg);
    assert (req);
    if (!s_native_is (verb, "OK") && !s_native_is (verb, "ERROR")) {
        s_check_event (native, connection, msg);
        return;
    }
    zframe_t *third = zmsg_next (msg);
    s_native_check_answer (msg, model->reqs [connection]);
    //  An answer comes before the sync that follows its request
    //  [OK][req][client], and the version granted if the HELLO asked for one
    if (s_native_is (verb, "OK") && model->hello [connection]) {
        assert (zmsg_size (msg) == (model->hello [connection] > 2? 4: 3) && zframe_size (third));
        zframe_t *version = zmsg_next (msg);
        assert (!version || s_native_is (version, "1") || s_native_is (version, "2"));
        assert (!s_listed (model->issued, third));
        s_list_add (model->issued, third);
        s_list_add (model->clients [connection], third);
        s_native_remember (native, zframe_data (third), zframe_size (third));
    }
}

//  A message about to be sent: its req may be answered, and the client it
//  names (frame 3 of the commands that name one) gets its events here
static bool
s_sent (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zframe_t *verb = zmsg_first (msg);
    zframe_t *req = zmsg_next (msg);
    zframe_t *client = zmsg_next (msg);
    if (req)
        s_list_add (model->reqs [connection], req);
    model->hello [connection] = s_native_is (verb, "HELLO")? zmsg_size (msg): 0;
    if (client && (s_native_is (verb, "JOIN") || s_native_is (verb, "LEAVE") || s_native_is (verb, "PING")
               ||  s_native_is (verb, "ACK") || s_native_is (verb, "BYE")))
        s_list_add (model->clients [connection], client);
    return true;
}

//  The METRICS answer [OK][req][map]
static void
s_check_metrics (zmsg_t *answer)
{
    assert (zmsg_size (answer) == 3);
    msgpack_unpacked unpacked;
    s_unpack (zmsg_last (answer), &unpacked);
    assert (s_not_negative (&unpacked.data));
    assert (s_member (&unpacked.data, "top_backlog")->via.u64 <= s_member (&unpacked.data, "backlog")->via.u64);
    assert (s_member (&unpacked.data, "rooms_with_backlog")->via.u64 <= s_member (&unpacked.data, "rooms")->via.u64);
    msgpack_unpacked_destroy (&unpacked);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_native_init ();
    s_model_t model = { .issued = zlist_new (), .delivered = zlist_new () };
    fuzz_native_t native = { .core = FUZZ_CORE (rooms, zg_rooms_core_new ()), .seen = s_seen, .sent = s_sent,
                             .state = &model };
    s_native_configure (&native.core, s_settings, sizeof s_settings / sizeof s_settings [0]);
    char endpoint [64];
    s_native_bind (&native.core, "clients", endpoint, sizeof endpoint);
    for (size_t index = 0; index < FUZZ_CONNECTIONS; index++) {
        s_native_connect (&native, ZMQ_DEALER, endpoint);
        model.reqs [index] = zlist_new ();
        model.clients [index] = zlist_new ();
    }
    s_native_run (&native, data, size, s_native_step);
    zmsg_t *metrics = s_native_ask (&native, 0, "METRICS");
    s_check_metrics (metrics);
    zmsg_destroy (&metrics);

    s_native_close (&native);
    for (size_t index = 0; index < FUZZ_CONNECTIONS; index++) {
        s_list_destroy (&model.reqs [index]);
        s_list_destroy (&model.clients [index]);
    }
    s_list_destroy (&model.issued);
    s_list_destroy (&model.delivered);
    zg_rooms_core_destroy ((zg_rooms_core_t **) &native.core.state);
    return 0;
}
