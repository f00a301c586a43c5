/*  =========================================================================
    zg_topics_link - the topics actor's side of its link to the cluster

    Copies are zmq_msg_copy (a reference to the same buffer for large
    messages), sent without waiting; a message that the pipe refuses is a
    counted drop, and the frames of one message go or stay together
    (libzmq queues a message whole once its first frame is accepted).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_topics_link.h"

//  What the events endpoint adds to the messages endpoint
#define ZG_TOPICS_LINK_EVENTS ".events"

struct _zg_topics_link_t {
    zsock_t *messages;              //  PAIR: local messages out, remote ones in
    zsock_t *events;                //  PAIR: prefix events out
    bool on;                        //  Connected
    uint64_t sent;                  //  Local messages handed to the bridge
    uint64_t dropped;               //  Local messages the bridge was too far behind for
    uint64_t received;              //  Other nodes' messages passed on
};

//  --------------------------------------------------------------------------
//  Create a link, not yet connected

zg_topics_link_t *
zg_topics_link_new (void)
{
    zg_topics_link_t *self = (zg_topics_link_t *) zmalloc (sizeof (zg_topics_link_t));
    assert (self);
    self->messages = zsock_new (ZMQ_PAIR);
    self->events = zsock_new (ZMQ_PAIR);
    assert (self->messages && self->events);
    zsock_set_sndhwm (self->events, 0);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the link

void
zg_topics_link_destroy (zg_topics_link_t **self_p)
{
    assert (self_p);
    zg_topics_link_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->messages);
        zsock_destroy (&self->events);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Send one prefix event

static void
s_send_event (zg_topics_link_t *self, bool subscribed, const char *prefix)
{
    size_t size = strlen (prefix);
    zmq_msg_t frame;
    zmq_msg_init_size (&frame, size + 1);
    byte *data = (byte *) zmq_msg_data (&frame);
    data [0] = subscribed? 1: 0;
    memcpy (data + 1, prefix, size);
    //  No high-water mark: this does not fail while the bridge lives
    if (zmq_msg_send (&frame, zsock_resolve (self->events), ZMQ_DONTWAIT) == -1)
        zmq_msg_close (&frame);
}

//  --------------------------------------------------------------------------
//  Connect to the bridge's endpoint and announce the prefixes held

int
zg_topics_link_connect (zg_topics_link_t *self, const char *endpoint, zhashx_t *subscriptions,
                        char *error, size_t size)
{
    assert (self);
    if (self->on) {
        snprintf (error, size, "the topics are linked to the cluster already");
        return -1;
    }
    if (strncmp (endpoint, "inproc://", 9) != 0) {
        snprintf (error, size, "'%s' is not an inproc endpoint", endpoint);
        return -1;
    }
    char *events = zsys_sprintf ("%s%s", endpoint, ZG_TOPICS_LINK_EVENTS);
    int rc = zsock_connect (self->messages, "%s", endpoint) | zsock_connect (self->events, "%s", events);
    zstr_free (&events);
    if (rc) {
        snprintf (error, size, "cannot connect to '%s': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->on = true;
    for (void *count = zhashx_first (subscriptions); count; count = zhashx_next (subscriptions))
        s_send_event (self, true, (const char *) zhashx_cursor (subscriptions));
    return 0;
}

//  --------------------------------------------------------------------------
//  Whether the link is connected

bool
zg_topics_link_on (zg_topics_link_t *self)
{
    assert (self);
    return self->on;
}

//  --------------------------------------------------------------------------
//  The messages socket

zsock_t *
zg_topics_link_socket (zg_topics_link_t *self)
{
    assert (self);
    return self->messages;
}

//  --------------------------------------------------------------------------
//  Send a copy of a local publisher's message

void
zg_topics_link_publish (zg_topics_link_t *self, zmq_msg_t *topic, zmq_msg_t *payload)
{
    assert (self);
    zg_topics_link_number (self, topic, payload, NULL, 0);
}

void
zg_topics_link_number (zg_topics_link_t *self, zmq_msg_t *topic, zmq_msg_t *payload, const char *bound,
                       size_t bound_size)
{
    assert (self);
    if (!self->on)
        return;
    void *socket = zsock_resolve (self->messages);
    zmq_msg_t topic_copy, payload_copy;
    zmq_msg_init (&topic_copy);
    zmq_msg_init (&payload_copy);
    zmq_msg_copy (&topic_copy, topic);
    zmq_msg_copy (&payload_copy, payload);
    if (zmq_msg_send (&topic_copy, socket, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&topic_copy);
        zmq_msg_close (&payload_copy);
        self->dropped++;
        return;
    }
    zmq_msg_send (&payload_copy, socket, bound? ZMQ_SNDMORE: 0);
    if (bound)
        zmq_send (socket, bound, bound_size, 0);
    self->sent++;
}

//  --------------------------------------------------------------------------
//  A subscription started or ended, leaving count

void
zg_topics_link_subscription (zg_topics_link_t *self, bool subscribed, const char *prefix, size_t count)
{
    assert (self);
    if (self->on && count == (subscribed? 1: 0))
        s_send_event (self, subscribed, prefix);
}

//  --------------------------------------------------------------------------
//  A message from another node was received

void
zg_topics_link_received (zg_topics_link_t *self)
{
    assert (self);
    self->received++;
}

//  --------------------------------------------------------------------------
//  Add the link's counters to a STATS object

void
zg_topics_link_stats (zg_topics_link_t *self, json_object *root)
{
    assert (self);
    if (!self->on)
        return;
    json_object_object_add (root, "cluster-sent", json_object_new_uint64 (self->sent));
    json_object_object_add (root, "cluster-dropped", json_object_new_uint64 (self->dropped));
    json_object_object_add (root, "cluster-received", json_object_new_uint64 (self->received));
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Receive one frame as a string with its first byte shown as a digit
static char *
s_test_event (zsock_t *events)
{
    zframe_t *frame = zframe_recv (events);
    assert (frame && zframe_size (frame) >= 1);
    char *text = (char *) zmalloc (zframe_size (frame) + 1);
    text [0] = (char) ('0' + zframe_data (frame) [0]);
    memcpy (text + 1, zframe_data (frame) + 1, zframe_size (frame) - 1);
    zframe_destroy (&frame);
    return text;
}

void
zg_topics_link_test (bool verbose)
{
    printf (" * zg_topics_link: ");
    //  @selftest
    //  The bridge's side, as zg_topics_cluster binds it
    zsock_t *messages = zsock_new_pair ("@inproc://zg-topics-link-test");
    zsock_t *events = zsock_new_pair ("@inproc://zg-topics-link-test.events");
    assert (messages && events);
    zsock_set_rcvtimeo (messages, 2000);
    zsock_set_rcvtimeo (events, 2000);

    zg_topics_link_t *link = zg_topics_link_new ();
    assert (!zg_topics_link_on (link));
    zmq_msg_t topic, payload;
    zmq_msg_init_data (&topic, "news.a", 6, NULL, NULL);
    zmq_msg_init_data (&payload, "hello", 5, NULL, NULL);
    //  Off: nothing goes out and no counters show
    zg_topics_link_publish (link, &topic, &payload);
    zg_topics_link_subscription (link, true, "news.", 1);
    json_object *stats = json_object_new_object ();
    zg_topics_link_stats (link, stats);
    assert (json_object_object_length (stats) == 0);
    json_object_put (stats);

    //  Connecting announces the prefixes already held
    zhashx_t *subscriptions = zhashx_new ();
    zhashx_insert (subscriptions, "news.", (void *) (uintptr_t) 2);
    char error [256];
    assert (zg_topics_link_connect (link, "tcp://127.0.0.1:5555", subscriptions, error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_topics_link_connect (link, "inproc://zg-topics-link-test", subscriptions, error, sizeof error) == 0);
    assert (zg_topics_link_on (link));
    assert (zg_topics_link_connect (link, "inproc://zg-topics-link-test", subscriptions, error, sizeof error) == -1);
    zhashx_destroy (&subscriptions);
    char *event = s_test_event (events);
    assert (streq (event, "1news."));
    zstr_free (&event);

    //  Only the first subscription and the last unsubscription of a prefix
    zg_topics_link_subscription (link, true, "sports.", 1);
    zg_topics_link_subscription (link, true, "sports.", 2);
    zg_topics_link_subscription (link, false, "sports.", 1);
    zg_topics_link_subscription (link, false, "sports.", 0);
    zg_topics_link_subscription (link, true, "", 1);
    const char *expected [] = { "1sports.", "0sports.", "1" };
    for (int index = 0; index < 3; index++) {
        event = s_test_event (events);
        assert (streq (event, expected [index]));
        zstr_free (&event);
    }

    //  Copies of local messages; the caller's frames stay intact
    zg_topics_link_publish (link, &topic, &payload);
    assert (zmq_msg_size (&topic) == 6 && zmq_msg_size (&payload) == 5);
    char *name = NULL, *data = NULL;
    assert (zstr_recvx (messages, &name, &data, NULL) == 2);
    assert (streq (name, "news.a") && streq (data, "hello"));
    zstr_free (&name);
    zstr_free (&data);

    //  The bridge behind: messages past the high-water mark are counted
    //  drops (inproc's limit is both sides' marks, 1000 + 1000 by default)
    for (int index = 0; index < 3000; index++)
        zg_topics_link_publish (link, &topic, &payload);
    zg_topics_link_received (link);
    stats = json_object_new_object ();
    zg_topics_link_stats (link, stats);
    uint64_t sent = json_object_get_uint64 (json_object_object_get (stats, "cluster-sent"));
    uint64_t dropped = json_object_get_uint64 (json_object_object_get (stats, "cluster-dropped"));
    assert (sent + dropped == 3001 && dropped >= 900);
    assert (json_object_get_uint64 (json_object_object_get (stats, "cluster-received")) == 1);
    json_object_put (stats);
    zmq_msg_close (&topic);
    zmq_msg_close (&payload);

    zg_topics_link_destroy (&link);
    assert (link == NULL);
    zsock_destroy (&messages);
    zsock_destroy (&events);
    //  @end
    printf ("OK\n");
}
