/*  =========================================================================
    zg_catchup - native subscriber of one topic that remembers, without a
    gap and without a duplicate

    The rule is the one of docs/PROTOCOL.md, "Catching up": the position is
    the last sequence number returned. Messages of the history answers wait
    in a queue, which goes first; a live message at or below the position is
    a duplicate, the next one is returned, and one past it means a gap,
    which a new HISTORY request since the position fills (or, if zgate no
    longer holds it, counts as lost).
    =========================================================================
*/

#include "zg_catchup.h"
//  The self test runs against a real topics actor in-process
#include "zg_topics.h"
#include "zg_actor.h"

//  Room for an epoch, NUL included
#define ZG_CATCHUP_EPOCH_SIZE 17

//  A message of a history answer, waiting its turn
typedef struct {
    uint64_t seq;                   //  Its sequence number
    zframe_t *payload;              //  Its payload
} s_item_t;

struct _zg_catchup_t {
    zsock_t *subscriber;            //  SUB to zgate's subscribers endpoint
    zsock_t *history;               //  DEALER to zgate's history endpoint
    char *topic;                    //  The topic read
    bool subscribed;                //  The SUB subscription is made
    zlistx_t *queue;                //  s_item_t from history answers, in order
    uint64_t position;              //  Last sequence number returned
    char epoch [ZG_CATCHUP_EPOCH_SIZE]; //  Its epoch, "" if none yet
    uint64_t lost;                  //  Gaps that could not be filled
    uint64_t next_req;              //  Number of the next request
};

static void
s_item_destroy (s_item_t **self_p)
{
    zframe_destroy (&(*self_p)->payload);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------

zg_catchup_t *
zg_catchup_new (const char *subscribers, const char *history, const char *topic)
{
    assert (subscribers && history && topic);
    zg_catchup_t *self = (zg_catchup_t *) zmalloc (sizeof (zg_catchup_t));
    assert (self);
    self->topic = strdup (topic);
    self->queue = zlistx_new ();
    zlistx_set_destructor (self->queue, (zlistx_destructor_fn *) s_item_destroy);
    self->subscriber = zsock_new (ZMQ_SUB);
    self->history = zsock_new (ZMQ_DEALER);
    assert (self->subscriber && self->history);
    zsock_set_rcvhwm (self->subscriber, 100000);
    if (zsock_connect (self->subscriber, "%s", subscribers) == -1
    ||  zsock_connect (self->history, "%s", history) == -1)
        zg_catchup_destroy (&self);
    return self;
}

void
zg_catchup_destroy (zg_catchup_t **self_p)
{
    assert (self_p);
    zg_catchup_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->subscriber);
        zsock_destroy (&self->history);
        zlistx_destroy (&self->queue);
        free (self->topic);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Asking zgate

//  Queue the [seq][payload] pairs of an answer above the position
static void
s_self_queue (zg_catchup_t *self, zmsg_t *answer)
{
    s_item_t *tail = (s_item_t *) zlistx_last (self->queue);
    uint64_t newest = tail? tail->seq: self->position;
    while (zmsg_size (answer) >= 2) {
        char *seq = zmsg_popstr (answer);
        zframe_t *payload = zmsg_pop (answer);
        s_item_t *item = (s_item_t *) zmalloc (sizeof (s_item_t));
        assert (item);
        item->seq = strtoull (seq, NULL, 10);
        item->payload = payload;
        zstr_free (&seq);
        if (item->seq > newest) {
            newest = item->seq;
            zlistx_add_end (self->queue, item);
        }
        else
            s_item_destroy (&item);
    }
}

//  Ask HISTORY since the position (or LAST) and queue what comes back.
//  Returns 1 if the answer holds every message after the position, 0 if
//  not (the position then restarts in the answer's epoch), -1 on no answer
//  or an error.
static int
s_self_ask (zg_catchup_t *self, bool last, int timeout)
{
    char req [24], since [24];
    snprintf (req, sizeof req, "%" PRIu64, ++self->next_req);
    snprintf (since, sizeof since, "%" PRIu64, self->position);
    if (last)
        zstr_sendx (self->history, "LAST", req, self->topic, NULL);
    else
        zstr_sendx (self->history, "HISTORY", req, self->topic, since, self->epoch, NULL);
    zsock_set_rcvtimeo (self->history, timeout);
    while (true) {
        zmsg_t *answer = zmsg_recv (self->history);
        if (!answer)
            return -1;
        char *verb = zmsg_popstr (answer);
        char *answered = zmsg_popstr (answer);
        bool ours = answered && streq (answered, req);
        char *epoch = ours? zmsg_popstr (answer): NULL;
        char *top = ours? zmsg_popstr (answer): NULL;
        char *recovered = ours? zmsg_popstr (answer): NULL;
        int rc = -1;
        if (ours && verb && !streq (verb, "ERROR") && recovered) {
            rc = streq (recovered, "1") && (streq (epoch, self->epoch) || !*self->epoch)? 1: 0;
            //  Another epoch: zgate's numbering started again
            if (strneq (epoch, self->epoch))
                self->position = 0;
            snprintf (self->epoch, sizeof self->epoch, "%s", epoch);
            s_self_queue (self, answer);
        }
        zstr_free (&verb);
        zstr_free (&answered);
        zstr_free (&epoch);
        zstr_free (&top);
        zstr_free (&recovered);
        zmsg_destroy (&answer);
        if (ours)
            return rc;
    }
}

//  Subscribe (once), then ask: the subscription goes first, so what the
//  answer misses comes live
static int
s_self_start (zg_catchup_t *self, bool last, int timeout)
{
    if (!self->subscribed) {
        zsock_set_subscribe (self->subscriber, self->topic);
        self->subscribed = true;
    }
    zlistx_purge (self->queue);
    return s_self_ask (self, last, timeout);
}

int
zg_catchup_start (zg_catchup_t *self, uint64_t since, const char *epoch, int timeout)
{
    assert (self);
    self->position = since;
    snprintf (self->epoch, sizeof self->epoch, "%s", epoch? epoch: "");
    int rc = s_self_start (self, false, timeout);
    if (rc == 0)
        self->lost++;
    return rc;
}

int
zg_catchup_start_last (zg_catchup_t *self, int timeout)
{
    assert (self);
    self->position = 0;
    self->epoch [0] = 0;
    int rc = s_self_start (self, true, timeout);
    //  LAST holds one message: the position is just before it
    s_item_t *item = (s_item_t *) zlistx_first (self->queue);
    if (item)
        self->position = item->seq - 1;
    return rc;
}

//  --------------------------------------------------------------------------
//  Reading

//  An in-process subscriber gets [topic NUL seq epoch][payload]: the same
//  message as [topic][payload][seq epoch], the TCP subscribers' form
static void
s_self_split_position (zg_catchup_t *self, zmsg_t *msg)
{
    zframe_t *first = zmsg_first (msg);
    size_t topic_size = strlen (self->topic);
    if (zmsg_size (msg) != 2 || zframe_size (first) <= topic_size
    ||  memcmp (zframe_data (first), self->topic, topic_size) || zframe_data (first) [topic_size])
        return;
    zmsg_addmem (msg, zframe_data (first) + topic_size + 1, zframe_size (first) - topic_size - 1);
    zframe_reset (first, self->topic, topic_size);
}

//  A live message of the topic: its payload and sequence frame, or NULL
//  (timeout, or another topic that shares the prefix)
static zmsg_t *
s_self_live (zg_catchup_t *self, int timeout)
{
    zsock_set_rcvtimeo (self->subscriber, timeout);
    zmsg_t *msg = zmsg_recv (self->subscriber);
    if (msg)
        s_self_split_position (self, msg);
    if (msg && (zmsg_size (msg) != 3 || !zframe_streq (zmsg_first (msg), self->topic)))
        zmsg_destroy (&msg);
    return msg;
}

int
zg_catchup_recv (zg_catchup_t *self, zframe_t **payload_p, uint64_t *seq_p, int timeout)
{
    assert (self && payload_p && seq_p);
    int64_t deadline = timeout < 0? INT64_MAX: zclock_mono () + timeout;
    while (true) {
        s_item_t *item = (s_item_t *) zlistx_first (self->queue);
        if (item) {
            *seq_p = self->position = item->seq;
            *payload_p = item->payload;
            item->payload = NULL;
            zlistx_delete (self->queue, zlistx_cursor (self->queue));
            return 0;
        }
        int64_t left = deadline - zclock_mono ();
        if (left < 0)
            return -1;
        zmsg_t *msg = s_self_live (self, timeout < 0? -1: (int) left);
        if (!msg) {
            if (zsys_interrupted || zclock_mono () >= deadline)
                return -1;
            continue;
        }
        char *sequence = zframe_strdup (zmsg_last (msg));
        char *space = strchr (sequence, ' ');
        uint64_t seq = strtoull (sequence, NULL, 10);
        bool same_epoch = space && streq (space + 1, self->epoch);
        //  A topic with no message at the start takes the epoch of its first
        if (space && !*self->epoch && self->position == 0) {
            snprintf (self->epoch, sizeof self->epoch, "%s", space + 1);
            same_epoch = true;
        }
        if (!same_epoch || seq > self->position + 1) {
            //  A gap, or zgate's numbering started again: fill from history
            if (s_self_ask (self, false, timeout < 0? 5000: (int) left) != 1)
                self->lost++;
            zstr_free (&sequence);
            zmsg_destroy (&msg);
            continue;
        }
        zstr_free (&sequence);
        if (seq <= self->position) {
            zmsg_destroy (&msg);
            continue;
        }
        zframe_t *topic = zmsg_pop (msg);
        zframe_destroy (&topic);
        *payload_p = zmsg_pop (msg);
        *seq_p = self->position = seq;
        zmsg_destroy (&msg);
        return 0;
    }
}

uint64_t
zg_catchup_seq (zg_catchup_t *self)
{
    assert (self);
    return self->position;
}

const char *
zg_catchup_epoch (zg_catchup_t *self)
{
    assert (self);
    return self->epoch;
}

uint64_t
zg_catchup_lost (zg_catchup_t *self)
{
    assert (self);
    return self->lost;
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST

//  Set a key of the topics actor
static void
s_test_set (zactor_t *topics, const char *key, const char *value)
{
    zstr_sendx (topics, "SET", key, value, NULL);
    int rc;
    char *error;
    zsock_recv (topics, "is", &rc, &error);
    assert (rc == 0);
    zstr_free (&error);
}

//  Read count messages and check they are "m<seq>" numbered first, first + 1, ...
static void
s_test_read (zg_catchup_t *reader, uint64_t first, int count)
{
    for (int index = 0; index < count; index++) {
        zframe_t *payload = NULL;
        uint64_t seq = 0;
        assert (zg_catchup_recv (reader, &payload, &seq, 2000) == 0);
        char expected [32];
        snprintf (expected, sizeof expected, "m%" PRIu64, seq);
        assert (seq == first + (uint64_t) index && zframe_streq (payload, expected));
        zframe_destroy (&payload);
    }
}

static void
s_test_publish (zsock_t *publisher, uint64_t first, uint64_t last)
{
    for (uint64_t seq = first; seq <= last; seq++) {
        char payload [32];
        snprintf (payload, sizeof payload, "m%" PRIu64, seq);
        zstr_sendx (publisher, "sensors.t1", payload, NULL);
    }
}

void
zg_catchup_test (bool verbose)
{
    printf (" * zg_catchup: ");
    //  @selftest
    zactor_t *topics = zactor_new (zg_topics, NULL);
    s_test_set (topics, "history", "sensors.* 100");
    s_test_set (topics, "subscribers", "inproc://zg-catchup-test-sub");
    s_test_set (topics, "publishers", "inproc://zg-catchup-test-pub");
    s_test_set (topics, "inproc-history-requests", "inproc://zg-catchup-test-history");
    assert (zg_catchup_new ("bogus://x", "inproc://zg-catchup-test-history", "t") == NULL);
    zsock_t *publisher = zsock_new_pub (">inproc://zg-catchup-test-pub");
    zsock_t *probe = zsock_new_sub (">inproc://zg-catchup-test-sub", "probe");
    zsock_set_rcvtimeo (probe, 10);
    char *topic = NULL;
    while (!topic) {
        zstr_sendx (publisher, "probe", "x", NULL);
        topic = zstr_recv (probe);
    }
    zstr_free (&topic);
    zsock_destroy (&probe);

    //  A late reader gets the history, then live messages, in one sequence,
    //  while messages keep coming
    s_test_publish (publisher, 1, 50);
    zg_catchup_t *reader = zg_catchup_new ("inproc://zg-catchup-test-sub", "inproc://zg-catchup-test-history",
                                           "sensors.t1");
    assert (reader);
    s_test_publish (publisher, 51, 60);
    assert (zg_catchup_start (reader, 0, "", 2000) == 1);
    s_test_publish (publisher, 61, 80);
    s_test_read (reader, 1, 80);
    char epoch [ZG_CATCHUP_EPOCH_SIZE];
    strcpy (epoch, zg_catchup_epoch (reader));
    assert (strlen (epoch) == 16 && zg_catchup_seq (reader) == 80 && zg_catchup_lost (reader) == 0);
    zg_catchup_destroy (&reader);

    //  Resuming from a saved position, and from one the history no longer holds
    s_test_publish (publisher, 81, 150);
    while (zg_actor_stat (topics, "topics", "sensors.t1", "published") < 150)
        zclock_sleep (10);
    reader = zg_catchup_new ("inproc://zg-catchup-test-sub", "inproc://zg-catchup-test-history", "sensors.t1");
    assert (zg_catchup_start (reader, 140, epoch, 2000) == 1);
    s_test_read (reader, 141, 10);
    assert (zg_catchup_start (reader, 20, epoch, 2000) == 0);
    assert (zg_catchup_lost (reader) == 1);
    s_test_read (reader, 51, 100);
    //  The last value first, then live
    assert (zg_catchup_start_last (reader, 2000) == 1);
    s_test_publish (publisher, 151, 151);
    s_test_read (reader, 150, 2);
    zg_catchup_destroy (&reader);

    //  A topic that keeps no history cannot be read this way
    reader = zg_catchup_new ("inproc://zg-catchup-test-sub", "inproc://zg-catchup-test-history", "other");
    assert (zg_catchup_start (reader, 0, "", 2000) == -1);
    zg_catchup_destroy (&reader);
    zg_catchup_destroy (&reader);
    if (verbose)
        printf ("(epoch %s) ", epoch);

    zsock_destroy (&publisher);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
#endif
