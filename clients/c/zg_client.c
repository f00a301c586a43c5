/*  =========================================================================
    zg_client - native topics client: publish and subscribe through zgate

    The publishing side is an XPUB socket rather than a PUB: it sends the same
    frames, but it also sees the subscription that zgate's XSUB sends on
    connect, which tells us when publications stop being dropped.
    =========================================================================
*/

#include "zg_client.h"
#include "zg_curve.h"
//  The self test runs against a real topics actor in-process
#include "zg_topics.h"

struct _zg_client_t {
    zsock_t *publisher;             //  XPUB connected to zgate's publishers endpoint
    zsock_t *subscriber;            //  SUB connected to zgate's subscribers endpoint
    bool connected;                 //  zgate's subscription arrived
};

//  --------------------------------------------------------------------------
//  Create a client

zg_client_t *
zg_client_new (const char *publishers, const char *subscribers)
{
    return zg_client_new_secure (publishers, subscribers, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  The same, as a CURVE client

zg_client_t *
zg_client_new_secure (const char *publishers, const char *subscribers, const char *client_cert,
                      const char *server_key)
{
    zg_client_t *self = (zg_client_t *) zmalloc (sizeof (zg_client_t));
    assert (self);
    if (publishers) {
        self->publisher = zsock_new (ZMQ_XPUB);
        assert (self->publisher);
        zsock_set_sndhwm (self->publisher, 100000);
        if (zg_curve_secure (self->publisher, client_cert, server_key)
        ||  zsock_connect (self->publisher, "%s", publishers) == -1)
            zg_client_destroy (&self);
    }
    if (self && subscribers) {
        self->subscriber = zsock_new (ZMQ_SUB);
        assert (self->subscriber);
        zsock_set_rcvhwm (self->subscriber, 100000);
        if (zg_curve_secure (self->subscriber, client_cert, server_key)
        ||  zsock_connect (self->subscriber, "%s", subscribers) == -1)
            zg_client_destroy (&self);
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the client

void
zg_client_destroy (zg_client_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_client_t *self = *self_p;
        zsock_destroy (&self->publisher);
        zsock_destroy (&self->subscriber);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Wait until zgate accepts this client's publications

int
zg_client_wait_connected (zg_client_t *self, int timeout)
{
    assert (self);
    assert (self->publisher);
    int64_t deadline = zclock_mono () + timeout;
    while (!self->connected) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            return -1;
        zsock_set_rcvtimeo (self->publisher, (int) left);
        zframe_t *subscription = zframe_recv (self->publisher);
        if (!subscription)
            return -1;
        self->connected = zframe_size (subscription) > 0 && zframe_data (subscription) [0] == 1;
        zframe_destroy (&subscription);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Publish a binary payload on a topic

int
zg_client_publish (zg_client_t *self, const char *topic, const void *data, size_t size)
{
    assert (self);
    assert (self->publisher);
    void *socket = zsock_resolve (self->publisher);
    if (zmq_send (socket, topic, strlen (topic), ZMQ_SNDMORE) == -1)
        return -1;
    return zmq_send (socket, data, size, 0) == -1? -1: 0;
}

//  --------------------------------------------------------------------------
//  Publish a string payload on a topic

int
zg_client_publish_str (zg_client_t *self, const char *topic, const char *string)
{
    return zg_client_publish (self, topic, string, strlen (string));
}

//  --------------------------------------------------------------------------
//  Subscribe to every topic that starts with prefix

int
zg_client_subscribe (zg_client_t *self, const char *prefix)
{
    assert (self);
    assert (self->subscriber);
    zsock_set_subscribe (self->subscriber, prefix);
    return 0;
}

//  --------------------------------------------------------------------------
//  End a subscription made with zg_client_subscribe

int
zg_client_unsubscribe (zg_client_t *self, const char *prefix)
{
    assert (self);
    assert (self->subscriber);
    zsock_set_unsubscribe (self->subscriber, prefix);
    return 0;
}

//  --------------------------------------------------------------------------
//  Receive the next message

int
zg_client_recv (zg_client_t *self, char **topic_p, zframe_t **payload_p, int timeout)
{
    assert (self);
    assert (self->subscriber);
    zsock_set_rcvtimeo (self->subscriber, timeout);
    zmsg_t *msg = zmsg_recv (self->subscriber);
    if (!msg)
        return -1;
    //  A remembered topic's message has a third frame, its sequence
    //  number and epoch (in-process, they follow a NUL in the topic frame,
    //  where the topic string ends): zg_catchup reads them, this client
    //  does not need them
    if (zmsg_size (msg) != 2 && zmsg_size (msg) != 3) {
        zmsg_destroy (&msg);
        return -1;
    }
    *topic_p = zmsg_popstr (msg);
    *payload_p = zmsg_pop (msg);
    zmsg_destroy (&msg);
    return 0;
}

//  --------------------------------------------------------------------------
//  The subscriber socket, to poll it with others

zsock_t *
zg_client_subscriber (zg_client_t *self)
{
    assert (self);
    return self->subscriber;
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: against a real zgate topics actor in-process

void
zg_client_test (bool verbose)
{
    printf (" * zg_client: ");
    //  @selftest
    zactor_t *topics = zactor_new (zg_topics, NULL);
    zstr_sendx (topics, "BIND", "subscribers", "inproc://zg-client-test-sub", NULL);
    int rc;
    char *error;
    zsock_recv (topics, "is", &rc, &error);
    assert (rc == 0);
    zstr_free (&error);
    zstr_sendx (topics, "BIND", "publishers", "inproc://zg-client-test-pub", NULL);
    zsock_recv (topics, "is", &rc, &error);
    assert (rc == 0);
    zstr_free (&error);

    assert (zg_client_new ("bogus://endpoint", NULL) == NULL);
    zg_client_t *subscriber = zg_client_new (NULL, "inproc://zg-client-test-sub");
    assert (subscriber);
    zg_client_subscribe (subscriber, "greetings");
    zg_client_t *publisher = zg_client_new ("inproc://zg-client-test-pub", NULL);
    assert (publisher);
    assert (zg_client_wait_connected (publisher, 2000) == 0);

    //  The subscription travels asynchronously: publish until one arrives
    char *topic = NULL;
    zframe_t *payload = NULL;
    for (int attempt = 0; attempt < 200 && !topic; attempt++) {
        zg_client_publish_str (publisher, "greetings", "hello");
        zg_client_recv (subscriber, &topic, &payload, 10);
    }
    assert (topic && streq (topic, "greetings"));
    assert (zframe_streq (payload, "hello"));
    zstr_free (&topic);
    zframe_destroy (&payload);
    while (zg_client_recv (subscriber, &topic, &payload, 50) == 0) {
        zstr_free (&topic);
        zframe_destroy (&payload);
    }
    byte binary [] = { 0, 1, 2, 255 };
    zg_client_publish (publisher, "greetings.binary", binary, sizeof binary);
    zg_client_publish_str (publisher, "other", "not subscribed");
    assert (zg_client_recv (subscriber, &topic, &payload, 2000) == 0);
    assert (streq (topic, "greetings.binary"));
    assert (zframe_size (payload) == 4 && memcmp (zframe_data (payload), binary, 4) == 0);
    zstr_free (&topic);
    zframe_destroy (&payload);
    zg_client_unsubscribe (subscriber, "greetings");
    assert (zg_client_recv (subscriber, &topic, &payload, 100) == -1);
    assert (zg_client_subscriber (subscriber));
    if (verbose)
        printf ("(binary payload round trip) ");

    zg_client_destroy (&publisher);
    zg_client_destroy (&subscriber);
    zg_client_destroy (&subscriber);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
#endif
