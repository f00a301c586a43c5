/*  =========================================================================
    zg_topics_local - the topics actor's in-process subscribers: their own
    XPUB, and the bytes its messages hold bounded by one account

    The account is a zg_inflight charged to the budget: it outlives the
    class while messages it counted are alive (a reader may close one after
    the actor is gone).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_subcount.h"
#include "zg_topics_local.h"
#include "zg_inflight.h"

//  What one message costs beside its bytes: its three zmq_msg_t in the
//  pipe, libzmq's content header of the payload and the counted frame's
//  block header
#define ZG_TOPICS_LOCAL_OVERHEAD (3 * sizeof (zmq_msg_t) + ZG_INFLIGHT_CONTENT + zg_inflight_overhead ())

//  A message's topic frame is the counted one (zg_inflight): it carries the
//  whole message's count (its payload is shared with the TCP subscribers'
//  XPUB, not copied), and a reader lets the frames of a message go
//  together, as libzmq drops them together
struct _zg_topics_local_t {
    zsock_t *xpub;                  //  In-process subscribers' side
    zg_inflight_t *inflight;        //  Bytes their messages hold
    int64_t limit;                  //  Bound of held (0: the budget alone)
    zhashx_t *prefixes;             //  Prefix -> in-process subscriptions
    uint64_t dropped;               //  Messages dropped for the limits
    uint64_t dropped_bytes;         //  and their bytes
};

//  --------------------------------------------------------------------------

zg_topics_local_t *
zg_topics_local_new (void)
{
    zg_topics_local_t *self = (zg_topics_local_t *) zmalloc (sizeof (zg_topics_local_t));
    assert (self);
    self->xpub = zsock_new (ZMQ_XPUB);
    assert (self->xpub);
    zsock_set_xpub_verboser (self->xpub, 1);
    self->inflight = zg_inflight_new ();
    zg_inflight_set_charged (self->inflight);
    self->prefixes = zhashx_new ();
    return self;
}

void
zg_topics_local_destroy (zg_topics_local_t **self_p)
{
    assert (self_p);
    zg_topics_local_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->xpub);
        zg_inflight_destroy (&self->inflight);
        zhashx_destroy (&self->prefixes);
        free (self);
        *self_p = NULL;
    }
}

zsock_t *
zg_topics_local_socket (zg_topics_local_t *self)
{
    assert (self);
    return self->xpub;
}

void
zg_topics_local_set_limit (zg_topics_local_t *self, int64_t limit)
{
    assert (self && limit >= 0);
    self->limit = limit;
}

//  --------------------------------------------------------------------------
//  Which topics in-process subscribers want, so the actor copies only those

void
zg_topics_local_subscription (zg_topics_local_t *self, const char *prefix, int delta)
{
    assert (self && prefix);
    zg_subcount_add (self->prefixes, prefix, delta);
}

bool
zg_topics_local_matches (zg_topics_local_t *self, const char *topic, size_t size)
{
    assert (self && topic);
    for (void *count = zhashx_first (self->prefixes); count; count = zhashx_next (self->prefixes)) {
        const char *prefix = (const char *) zhashx_cursor (self->prefixes);
        size_t prefix_size = strlen (prefix);
        if (prefix_size <= size && memcmp (prefix, topic, prefix_size) == 0)
            return true;
    }
    return false;
}

//  --------------------------------------------------------------------------
//  Send a counted message, or drop it (counted) for the limit or the
//  budget: in-process subscribers, like slow consumers, give way past nine
//  tenths of the budget and never raise the alarm

bool
zg_topics_local_send (zg_topics_local_t *self, const void *topic, size_t topic_size, zmq_msg_t *payload,
                      const void *mark, size_t mark_size)
{
    assert (self && topic && payload);
    //  The mark follows a NUL in the topic frame, which a topic with a NUL
    //  of its own also ends with, so that the last NUL always ends the topic
    bool separated = mark_size || memchr (topic, 0, topic_size);
    size_t frame_size = topic_size + (separated? 1 + mark_size: 0);
    size_t cost = frame_size + zmq_msg_size (payload) + ZG_TOPICS_LOCAL_OVERHEAD;
    zmq_msg_t counted, shared;
    if (zg_inflight_frame (self->inflight, self->limit, &counted, frame_size, cost) == -1) {
        self->dropped++;
        self->dropped_bytes += cost;
        return false;
    }
    byte *frame = (byte *) zmq_msg_data (&counted);
    memcpy (frame, topic, topic_size);
    if (separated) {
        frame [topic_size] = 0;
        if (mark_size)
            memcpy (frame + topic_size + 1, mark, mark_size);
    }
    zmq_msg_init (&shared);
    zmq_msg_copy (&shared, payload);
    //  An XPUB never blocks: past a pipe's sndhwm it drops for that pipe
    //  (closing its reference, so the count stays true)
    void *xpub = zsock_resolve (self->xpub);
    if (zmq_msg_send (&counted, xpub, ZMQ_SNDMORE) == -1)
        zmq_msg_close (&counted);
    if (zmq_msg_send (&shared, xpub, 0) == -1)
        zmq_msg_close (&shared);
    return true;
}

int64_t
zg_topics_local_held (zg_topics_local_t *self)
{
    assert (self);
    return zg_inflight_held (self->inflight);
}

void
zg_topics_local_stats (zg_topics_local_t *self, json_object *stats)
{
    assert (self && stats);
    json_object *local = json_object_new_object ();
    json_object_object_add (local, "held", json_object_new_int64 (zg_topics_local_held (self)));
    json_object_object_add (local, "limit", json_object_new_int64 (self->limit));
    json_object_object_add (local, "dropped", json_object_new_uint64 (self->dropped));
    json_object_object_add (local, "dropped_bytes", json_object_new_uint64 (self->dropped_bytes));
    json_object_object_add (stats, "inproc", local);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Wait up to a second for the account to hold expected bytes
static bool
s_test_held (zg_topics_local_t *self, int64_t expected)
{
    for (int attempt = 0; attempt < 100 && zg_topics_local_held (self) != expected; attempt++)
        zclock_sleep (10);
    return zg_topics_local_held (self) == expected;
}

//  Send a payload of 1000 bytes, the first one given, on a topic of
//  topic_size bytes
static bool
s_test_send_sized (zg_topics_local_t *self, const char *topic, size_t topic_size, char first, const char *mark)
{
    zmq_msg_t payload;
    zmq_msg_init_size (&payload, 1000);
    memset (zmq_msg_data (&payload), first, zmq_msg_size (&payload));
    bool sent = zg_topics_local_send (self, topic, topic_size, &payload, mark, mark? strlen (mark): 0);
    zmq_msg_close (&payload);
    return sent;
}

static bool
s_test_send (zg_topics_local_t *self, const char *topic, char first, const char *mark)
{
    return s_test_send_sized (self, topic, strlen (topic), first, mark);
}

//  Receive a message, two frames, and check its topic frame (of
//  frame_size bytes) and its payload's first byte
static void
s_test_receive (zsock_t *subscriber, char first, const char *frame, size_t frame_size)
{
    zmsg_t *msg = zmsg_recv (subscriber);
    assert (msg && zmsg_size (msg) == 2);
    zframe_t *topic = zmsg_first (msg);
    assert (zframe_size (topic) == frame_size && memcmp (zframe_data (topic), frame, frame_size) == 0);
    zframe_t *payload = zmsg_next (msg);
    assert (payload && zframe_size (payload) && zframe_data (payload) [0] == (byte) first);
    zmsg_destroy (&msg);
}

void
zg_topics_local_test (bool verbose)
{
    printf (" * zg_topics_local: ");
    //  @selftest
    zg_budget_t *budget = zg_budget_process ();
    int64_t budget_before = zg_budget_used (budget);
    zg_topics_local_t *local = zg_topics_local_new ();
    assert (zsock_bind (zg_topics_local_socket (local), "inproc://zg-topics-local-test") == 0);
    zsock_t *subscriber = zsock_new_sub (">inproc://zg-topics-local-test", "news.");
    zsock_set_rcvtimeo (subscriber, 2000);
    zsock_set_rcvtimeo (zg_topics_local_socket (local), 2000);
    //  The actor applies the subscriptions its XPUB passes up
    zframe_t *subscription = zframe_recv (zg_topics_local_socket (local));
    assert (subscription && zframe_streq (subscription, "\x01news."));
    zframe_destroy (&subscription);
    zg_topics_local_subscription (local, "news.", 1);
    assert (zg_topics_local_matches (local, "news.a", 6));
    assert (!zg_topics_local_matches (local, "news", 4));
    assert (!zg_topics_local_matches (local, "sports", 6));

    //  A message counts from its send until its reader lets it go
    assert (s_test_send (local, "news.a", 'a', NULL));
    int64_t one = zg_topics_local_held (local);
    assert (one > 1000 + 6);
    assert (zg_budget_used (budget) == budget_before + one);
    //  A message no subscriber wants is let go at once
    assert (s_test_send (local, "sports", 's', NULL));
    assert (zg_topics_local_held (local) == one);
    //  Past the limit the in-process subscribers lose it, counted
    //  (the mark rides in the topic frame, after a NUL)
    const char *mark = "1 e";
    int64_t with_mark = one + 1 + (int64_t) strlen (mark);
    zg_topics_local_set_limit (local, one + with_mark);
    assert (s_test_send (local, "news.b", 'b', mark));
    assert (!s_test_send (local, "news.c", 'c', NULL));
    assert (zg_topics_local_held (local) == one + with_mark);
    s_test_receive (subscriber, 'a', "news.a", 6);
    assert (zg_topics_local_held (local) == with_mark);
    s_test_receive (subscriber, 'b', "news.b\0" "1 e", 10);
    assert (s_test_held (local, 0));
    assert (zg_budget_used (budget) == budget_before);
    //  Room again once read
    assert (s_test_send (local, "news.d", 'd', NULL));
    s_test_receive (subscriber, 'd', "news.d", 6);
    assert (s_test_held (local, 0));
    //  A topic with a NUL of its own ends with one more, with or without
    //  a mark: the last NUL ends the topic
    zg_topics_local_set_limit (local, 0);
    assert (s_test_send_sized (local, "news.\0x", 7, 'n', NULL));
    s_test_receive (subscriber, 'n', "news.\0x\0", 8);
    assert (s_test_send_sized (local, "news.\0x", 7, 'm', mark));
    s_test_receive (subscriber, 'm', "news.\0x\0" "1 e", 11);
    assert (s_test_held (local, 0));
    zg_topics_local_set_limit (local, one + with_mark);
    //  Past nine tenths of the budget it gives way too
    zg_budget_set_limit (budget, budget_before + one);
    assert (!s_test_send (local, "news.e", 'e', NULL));
    zg_budget_set_limit (budget, 0);
    assert (!zg_budget_alarm (budget));
    json_object *stats = json_object_new_object ();
    zg_topics_local_stats (local, stats);
    json_object *inproc = json_object_object_get (stats, "inproc");
    assert (json_object_get_uint64 (json_object_object_get (inproc, "dropped")) == 2);
    assert (json_object_get_uint64 (json_object_object_get (inproc, "dropped_bytes")) == 2 * (uint64_t) one);
    assert (json_object_get_int64 (json_object_object_get (inproc, "limit")) == one + with_mark);
    json_object_put (stats);
    if (verbose)
        printf ("(one message of 1000 bytes counts %" PRId64 ") ", one);

    //  A message still unread when the class goes keeps the account alive
    //  until libzmq lets it go
    assert (s_test_send (local, "news.f", 'f', NULL));
    zg_topics_local_destroy (&local);
    zsock_destroy (&subscriber);
    for (int attempt = 0; attempt < 100 && zg_budget_used (budget) != budget_before; attempt++)
        zclock_sleep (10);
    assert (zg_budget_used (budget) == budget_before);
    //  @end
    printf ("OK\n");
}
