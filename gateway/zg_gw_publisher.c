/*  =========================================================================
    zg_gw_publisher - the gateway's publishes into the topics actor,
    bounded in bytes until the actor reads them

    The account's check and charge (zg_inflight_admit) run in each gateway
    thread, its release in the topics actor's: a thread sees at worst a
    stale, higher count, so the threads together pass the bound by at most
    one publish each.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_publisher.h"

//  What a publish holds until the topics actor reads it, beside its bytes:
//  its two zmq_msg_t in the pipe, libzmq's content headers of its two
//  frames and the counted topic frame's block header
#define ZG_GW_PUBLISHER_OVERHEAD (2 * sizeof (zmq_msg_t) + 2 * ZG_INFLIGHT_CONTENT + zg_inflight_overhead ())

struct _zg_gw_publisher_t {
    const zg_gw_settings_t *settings;   //  gateway/max-publish-queued
    zg_gw_counters_t *counters;     //  Refusals are counted there
    zsock_t *xpub;                  //  To the topics actor's XSUB
    bool connected;                 //  To an endpoint of the topics actor
    zg_inflight_t *publishes;       //  Bytes published and not yet read by the topics actor
    zg_listeners_t *listeners;      //  Prefixes the topics actor's subscribers hold
};

//  --------------------------------------------------------------------------

zg_gw_publisher_t *
zg_gw_publisher_new (zg_gw_answers_t *answers)
{
    assert (answers);
    zg_gw_publisher_t *self = (zg_gw_publisher_t *) zmalloc (sizeof (zg_gw_publisher_t));
    assert (self);
    self->settings = zg_gw_answers_settings (answers);
    self->counters = zg_gw_answers_counters (answers);
    self->xpub = zsock_new (ZMQ_XPUB);
    assert (self->xpub);
    zsock_set_sndhwm (self->xpub, 1000000);
    self->publishes = zg_inflight_new ();
    self->listeners = zg_listeners_new ();
    return self;
}

void
zg_gw_publisher_destroy (zg_gw_publisher_t **self_p)
{
    assert (self_p);
    zg_gw_publisher_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->xpub);
        zg_inflight_destroy (&self->publishes);
        zg_listeners_destroy (&self->listeners);
        free (self);
        *self_p = NULL;
    }
}

int
zg_gw_publisher_connect (zg_gw_publisher_t *self, const char *endpoint)
{
    assert (self && endpoint);
    if (zsock_connect (self->xpub, "%s", endpoint) == -1)
        return -1;
    self->connected = true;
    return 0;
}

zsock_t *
zg_gw_publisher_socket (zg_gw_publisher_t *self)
{
    assert (self);
    return self->xpub;
}

//  --------------------------------------------------------------------------
//  The account all the gateway's threads share, and its bytes held now

void
zg_gw_publisher_share (zg_gw_publisher_t *self, zg_inflight_t *publishes)
{
    assert (self && publishes);
    zg_inflight_destroy (&self->publishes);
    self->publishes = zg_inflight_share (publishes);
}

int64_t
zg_gw_publisher_held (zg_gw_publisher_t *self)
{
    assert (self);
    return zg_inflight_held (self->publishes);
}

//  --------------------------------------------------------------------------
//  Publish [topic][payload], its topic frame counted with the whole
//  message's bytes until the actor has read it, or refuse it

int
zg_gw_publisher_send (zg_gw_publisher_t *self, const char *topic, const void *payload, size_t size)
{
    assert (self && topic);
    size_t topic_size = strlen (topic);
    zmq_msg_t counted;
    int refusal = self->connected? zg_inflight_admit (self->publishes, self->settings->max_publish_queued, &counted,
                                                      topic_size, topic_size + size + ZG_GW_PUBLISHER_OVERHEAD):
                                   ZG_ERR_UNAVAILABLE;
    if (refusal == 0) {
        memcpy (zmq_msg_data (&counted), topic, topic_size);
        void *xpub = zsock_resolve (self->xpub);
        if (zmq_msg_send (&counted, xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&counted);
            refusal = ZG_ERR_UNAVAILABLE;
        }
        else
            zmq_send (xpub, payload, size, 0);
    }
    _Atomic uint64_t *counter = refusal == ZG_ERR_TOO_MANY? &self->counters->publish_refused_limit:
                                refusal == ZG_ERR_STORAGE? &self->counters->publish_refused_budget:
                                refusal? &self->counters->unavailable: NULL;
    if (counter)
        (*counter)++;
    return refusal;
}

const char *
zg_gw_publisher_reason (int refusal)
{
    return refusal == ZG_ERR_TOO_MANY? "publishes not yet read by the topics actor hold gateway/max-publish-queued "
                                       "bytes; try later":
           refusal == ZG_ERR_STORAGE? "memory budget exhausted (server/memory-budget); try later":
                                      "the topics actor is not reachable now";
}

//  --------------------------------------------------------------------------
//  What the gateway publishes itself: a few bytes, not counted

void
zg_gw_publisher_probe (zg_gw_publisher_t *self, const char *topic, const char *text)
{
    assert (self && topic && text);
    void *xpub = zsock_resolve (self->xpub);
    zmq_send (xpub, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (xpub, text, strlen (text), ZMQ_DONTWAIT);
}

//  --------------------------------------------------------------------------
//  The prefixes the topics actor's subscribers hold, as its XSUB passes them

size_t
zg_gw_publisher_drain (zg_gw_publisher_t *self)
{
    assert (self);
    if (!(zsock_events (self->xpub) & ZMQ_POLLIN))
        return 0;
    zframe_t *subscription = zframe_recv (self->xpub);
    if (subscription)
        zg_listeners_update (self->listeners, zframe_data (subscription), zframe_size (subscription));
    zframe_destroy (&subscription);
    return 1;
}

bool
zg_gw_publisher_listened (zg_gw_publisher_t *self, const char *topic, zg_listeners_own_fn *own, void *arg)
{
    assert (self && topic);
    return zg_listeners_match (self->listeners, topic, own, arg);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_gw_publisher_test (bool verbose)
{
    printf (" * zg_gw_publisher: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_publish_queued = 1500 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_counters_t *counters = zg_gw_answers_counters (answers);
    zg_gw_publisher_t *publisher = zg_gw_publisher_new (answers);
    byte payload [1000] = { 0 };
    //  Not connected: 503, counted
    assert (zg_gw_publisher_send (publisher, "a.b", payload, sizeof payload) == ZG_ERR_UNAVAILABLE);
    assert (counters->unavailable == 1 && zg_gw_publisher_held (publisher) == 0);
    assert (strstr (zg_gw_publisher_reason (ZG_ERR_UNAVAILABLE), "not reachable"));

    //  A real XSUB reads as the topics actor does. The XPUB drops what it
    //  sends before the XSUB's subscription came (let go at once), then a
    //  publish counts until it is read
    zsock_t *reader = zsock_new (ZMQ_XSUB);
    assert (zsock_bind (reader, "inproc://zg-gw-publisher-test") == 0);
    zsock_set_rcvtimeo (reader, 2000);
    zmq_send (zsock_resolve (reader), "\x01", 1, 0);
    assert (zg_gw_publisher_connect (publisher, "inproc://zg-gw-publisher-test") == 0);
    zmq_pollitem_t item = { zsock_resolve (reader), 0, ZMQ_POLLIN, 0 };
    for (int attempt = 0; attempt < 200 && zmq_poll (&item, 1, 10) == 0; attempt++)
        assert (zg_gw_publisher_send (publisher, "a.b", payload, sizeof payload) == 0);
    int64_t one = zg_gw_publisher_held (publisher);
    assert (one > (int64_t) sizeof payload);
    //  The XSUB's subscriptions come up: they name the prefixes listened to
    zmq_send (zsock_resolve (reader), "\x01" "a.", 3, 0);
    size_t drained = 0;
    for (int attempt = 0; attempt < 200 && drained < 2; attempt++, zclock_sleep (1))
        drained += zg_gw_publisher_drain (publisher);
    assert (drained == 2 && zg_gw_publisher_drain (publisher) == 0);
    assert (zg_gw_publisher_listened (publisher, "a.b", NULL, NULL));
    assert (!zg_gw_publisher_listened (publisher, "b.a", NULL, NULL));

    //  Past max-publish-queued: 429, counted, nothing sent
    assert (zg_gw_publisher_send (publisher, "a.b", payload, sizeof payload) == ZG_ERR_TOO_MANY);
    assert (counters->publish_refused_limit == 1 && zg_gw_publisher_held (publisher) == one);
    assert (strstr (zg_gw_publisher_reason (ZG_ERR_TOO_MANY), "max-publish-queued"));
    //  A small one still fits
    assert (zg_gw_publisher_send (publisher, "a.b", "x", 1) == 0);
    int64_t two = zg_gw_publisher_held (publisher);
    //  The reader's copy of the topic frame ends its count at its read
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    assert (zmq_msg_recv (&frame, zsock_resolve (reader), 0) == 3 && zmq_msg_more (&frame));
    assert (zg_gw_publisher_held (publisher) == two);
    zg_inflight_take (&frame);
    assert (zg_gw_publisher_held (publisher) == two - one);
    zmq_msg_close (&frame);

    //  Past the memory budget: 507, counted, and the alarm
    zg_budget_t *budget = zg_budget_process ();
    zg_budget_set_limit (budget, zg_budget_used (budget) + 100);
    assert (zg_gw_publisher_send (publisher, "a.b", payload, sizeof payload) == ZG_ERR_STORAGE);
    assert (counters->publish_refused_budget == 1 && zg_budget_alarm (budget));
    zg_budget_set_limit (budget, 0);
    assert (!zg_budget_alarm (budget));

    //  Shared, the threads' publishers count in one account; a probe is
    //  not counted
    zg_inflight_t *shared = zg_inflight_new ();
    zg_gw_publisher_t *other = zg_gw_publisher_new (answers);
    assert (zg_gw_publisher_connect (other, "inproc://zg-gw-publisher-test") == 0);
    zg_gw_publisher_share (publisher, shared);
    zg_gw_publisher_share (other, shared);
    assert (zg_gw_publisher_held (publisher) == 0);
    zg_gw_publisher_probe (other, "$probe", "1");
    assert (zg_gw_publisher_held (publisher) == 0);
    zsock_destroy (&reader);
    zg_gw_publisher_destroy (&other);
    zg_inflight_destroy (&shared);
    zg_gw_publisher_destroy (&publisher);
    zg_gw_publisher_destroy (&publisher);
    zg_gw_answers_destroy (&answers);
    if (verbose)
        printf ("(a publish of %zu bytes counts %" PRId64 ") ", sizeof payload, one);
    //  @end
    printf ("OK\n");
}
