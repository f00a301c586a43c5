/*  =========================================================================
    zg_fuzz_topics - fuzz target for the topics actor (zg_topics): its
    XSUB side (publish frames) and XPUB side (subscription frames), over
    inproc

    The actor's state is new per input (zg_topics_core, run in this thread
    as zg_fuzz_native.h says), with small limits, and four connections:
    0 and 1 are publishers (XPUB, so they can wait for zgate's subscription
    and send any frames), 2 and 3 subscribers (XSUB, so they can send any
    frames, subscriptions or not). The input is a sequence of messages
    (zg_fuzz_native.h). The topics actor answers nothing, so the sync after
    a message is a probe on the topic FUZZ_SYNC, which both subscribers
    hold: a publisher publishes it after its message; a subscriber
    subscribes to FUZZ_SYNC again after its frames (verbose: the actor
    sees every subscription), and the actor's subscription hook publishes
    the probe when it sees that (no input may subscribe or unsubscribe
    FUZZ_SYNC itself, or a prefix that starts with it: the actor's prefixes
    are C strings, so "~sync~\0x" reaches the hook as FUZZ_SYNC). Either way,
    subscriber 2 receiving the probe means the actor handled the message.
    Invariants: a subscriber receives only [topic][payload] with a topic a
    prefix it subscribed to begins; a publisher receives only subscriptions
    passed upstream: zgate's own, the probe's, or a subscriber's; the final counters say published is
    every well-formed publish (two frames, topic within max-topic-size)
    and probe, at least the malformed publishes are malformed, and the
    totals are the sums of the per-topic and per-prefix counts. Runs as
    zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_native.h"
#include "zg_topics.h"

#define FUZZ_MAX_TOPIC_SIZE 16
#define FUZZ_WATCH 2

//  Small limits, each within reach of a short input (max-topic-size is
//  FUZZ_MAX_TOPIC_SIZE)
static const char *const s_settings [] [2] = {
    { "max-topic-size", "16" }, { "max-topics", "4" }
};

typedef struct {
    zlist_t *prefixes [FUZZ_MAX_CONNECTIONS];   //  What each subscriber subscribed to, ever
    uint64_t probes;                            //  Probes sent or asked for
    uint64_t published;                         //  Well-formed publishes sent
    uint64_t malformed;                         //  Malformed publishes sent
    uint64_t next_probe;                        //  Payload of the next probe
    uint64_t probe;                             //  Payload of the probe the hook sends
} s_model_t;

//  The actor's subscription hook (in its loop): a subscription to
//  FUZZ_SYNC is a subscriber's sync, answered with the probe
static zmsg_t *
s_hook (bool subscribed, const char *prefix, void *hook_arg)
{
    s_model_t *model = (s_model_t *) hook_arg;
    if (!subscribed || !streq (prefix, FUZZ_SYNC))
        return NULL;
    zmsg_t *probe = zmsg_new ();
    zmsg_addstr (probe, FUZZ_SYNC);
    zmsg_addstrf (probe, "%" PRIu64, model->probe);
    return probe;
}

//  True if a message is a probe
static bool
s_is_probe (zmsg_t *msg)
{
    return zmsg_size (msg) == 2 && s_native_is (zmsg_first (msg), FUZZ_SYNC);
}

//  True if a prefix in the list begins these bytes
static bool
s_prefixed (zlist_t *prefixes, const byte *data, size_t size)
{
    for (zframe_t *prefix = (zframe_t *) zlist_first (prefixes); prefix; prefix = (zframe_t *) zlist_next (prefixes))
        if (zframe_size (prefix) <= size && memcmp (zframe_data (prefix), data, zframe_size (prefix)) == 0)
            return true;
    return false;
}

//  A message a connection received: for a publisher, a subscription the
//  actor passed upstream (its own to everything, a probe's, or one a
//  subscriber made); for a subscriber, a message of a topic it subscribed
static void
s_seen (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    zframe_t *first = zmsg_first (msg);
    if (connection < 2) {
        assert (zmsg_size (msg) == 1 && zframe_size (first) && zframe_data (first) [0] <= 1);
        size_t size = zframe_size (first) - 1;
        const byte *prefix = zframe_data (first) + 1;
        assert (size == 0 || (size == strlen (FUZZ_SYNC) && memcmp (prefix, FUZZ_SYNC, size) == 0)
             || s_prefixed (model->prefixes [2], prefix, size) || s_prefixed (model->prefixes [3], prefix, size));
        return;
    }
    assert (zmsg_size (msg) == 2);
    assert (s_is_probe (msg) || s_prefixed (model->prefixes [connection], zframe_data (first), zframe_size (first)));
}

//  A message about to be sent: publishes are counted; a subscriber's
//  subscriptions are noted, and no frame may touch the probe's topic
static bool
s_sent (fuzz_native_t *native, size_t connection, zmsg_t *msg)
{
    s_model_t *model = (s_model_t *) native->state;
    if (connection < 2) {
        zframe_t *topic = zmsg_first (msg);
        if (zmsg_size (msg) == 2 && zframe_size (topic) <= FUZZ_MAX_TOPIC_SIZE)
            model->published++;
        else
            model->malformed++;
        return true;
    }
    size_t sync_size = strlen (FUZZ_SYNC);
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg))
        if (zframe_size (frame) >= 1 + sync_size && memcmp (zframe_data (frame) + 1, FUZZ_SYNC, sync_size) == 0)
            return false;
    //  libzmq's XSUB drops an unsubscription it does not hold, even the last
    //  frame of a message, which then never ends: the next message, the
    //  sync's subscription, would join it, and the actor would drop it
    zframe_t *last = zmsg_last (msg);
    if (zmsg_size (msg) > 1 && zframe_size (last) && zframe_data (last) [0] == 0)
        return false;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg))
        if (zframe_size (frame) && zframe_data (frame) [0] == 1) {
            zframe_t *prefix = zframe_new (zframe_data (frame) + 1, zframe_size (frame) - 1);
            s_list_add (model->prefixes [connection], prefix);
            zframe_destroy (&prefix);
        }
    return true;
}

//  Wait for the probe of this payload on the watching subscriber
static void
s_wait_probe (fuzz_native_t *native, uint64_t payload)
{
    char expected [24];
    snprintf (expected, sizeof expected, "%" PRIu64, payload);
    while (true) {
        zmsg_t *msg = zmsg_recv (native->connections [FUZZ_WATCH]);
        assert (msg);               //  No probe
        bool done = s_is_probe (msg) && s_native_is (zmsg_last (msg), expected);
        native->seen (native, FUZZ_WATCH, msg);
        zmsg_destroy (&msg);
        if (done)
            break;
    }
    s_native_drain (native);
}

//  Sync after a message on a connection: a probe through the actor
static void
s_sync (fuzz_native_t *native, size_t connection)
{
    s_model_t *model = (s_model_t *) native->state;
    uint64_t payload = model->next_probe++;
    model->probes++;
    if (connection < 2) {
        zstr_sendm (native->connections [connection], FUZZ_SYNC);
        zstr_sendf (native->connections [connection], "%" PRIu64, payload);
    }
    else {
        model->probe = payload;
        zframe_t *subscribe = zframe_new ("\x01" FUZZ_SYNC, 1 + strlen (FUZZ_SYNC));
        zframe_send (&subscribe, native->connections [connection], 0);
    }
    s_native_pump (&native->core);
    s_wait_probe (native, payload);
}

//  The integer member of a json-c object
static int64_t
s_field (json_object *object, const char *key)
{
    json_object *value;
    bool found = json_object_object_get_ex (object, key, &value);
    assert (found);
    return json_object_get_int64 (value);
}

//  The actor's counters against the model and against themselves
static void
s_check_stats (zg_topics_core_t *core, s_model_t *model)
{
    json_object *stats = zg_topics_core_stats (core);
    assert ((uint64_t) s_field (stats, "published") == model->published + model->probes);
    assert ((uint64_t) s_field (stats, "malformed") >= model->malformed);
    int64_t published = 0, delivered = 0, subscribers = 0;
    json_object *topic_map, *subscription_map;
    json_object_object_get_ex (stats, "topics", &topic_map);
    json_object_object_get_ex (stats, "subscriptions", &subscription_map);
    json_object_object_foreach (topic_map, name, topic) {
        (void) name;
        published += s_field (topic, "published");
        delivered += s_field (topic, "delivered");
    }
    json_object_object_foreach (subscription_map, prefix, count) {
        (void) prefix;
        assert (json_object_get_int64 (count) > 0);
        subscribers += json_object_get_int64 (count);
    }
    assert (published == s_field (stats, "published") && delivered == s_field (stats, "delivered"));
    assert (subscribers == s_field (stats, "subscribers"));
    json_object_put (stats);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_native_init ();
    s_model_t model = { .probes = 0 };
    zg_topics_core_t *core = zg_topics_core_new (s_hook, &model);
    fuzz_native_t native = { .core = FUZZ_CORE (topics, core), .seen = s_seen, .sent = s_sent, .state = &model };
    s_native_configure (&native.core, s_settings, sizeof s_settings / sizeof s_settings [0]);
    char publishers [64], subscribers [64];
    s_native_bind (&native.core, "publishers", publishers, sizeof publishers);
    s_native_bind (&native.core, "subscribers", subscribers, sizeof subscribers);
    for (size_t index = 0; index < 4; index++) {
        s_native_connect (&native, index < 2? ZMQ_XPUB: ZMQ_XSUB, index < 2? publishers: subscribers);
        model.prefixes [index] = zlist_new ();
    }
    s_native_pump (&native.core);
    //  Publishers wait for zgate's subscription to everything; subscribers
    //  take the probe's topic, the watching one first, so it gets each probe
    for (size_t index = 0; index < 2; index++) {
        zframe_t *subscription = zframe_recv (native.connections [index]);
        assert (subscription && zframe_size (subscription) == 1);
        zframe_destroy (&subscription);
    }
    s_sync (&native, FUZZ_WATCH);
    s_sync (&native, 3);
    s_native_run (&native, data, size, s_sync);
    s_check_stats (core, &model);

    s_native_close (&native);
    for (size_t index = 0; index < 4; index++)
        s_list_destroy (&model.prefixes [index]);
    zg_topics_core_destroy (&core);
    return 0;
}
