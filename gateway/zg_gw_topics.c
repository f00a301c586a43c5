/*  =========================================================================
    zg_gw_topics - the gateway's bridge to the topics actor

    WebSocket ops subscribe, unsubscribe and publish; gophermq HTTP publish,
    subscribe and fetch; and the messages that come back on the SUB, to web
    subscribers and pull buffers. A topic message is encoded once per
    encoding and the frame shared by every session it goes to. Publishes
    go out through zg_gw_publisher, which bounds them in bytes until the
    topics actor reads them.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_topics.h"
#include "zg_topicmap.h"
#include "zg_gw_publisher.h"
#include "zg_pull.h"
#include "zg_pullmsg.h"
#include "zg_gw_history.h"
#include "zg_gw_presence.h"
#include "zg_gw_message.h"

//  Topic messages handled in a row before the other sockets get a turn
#define ZG_GW_TOPICS_RUN 64
//  Topic of the probes that confirm subscriptions
#define ZG_GW_TOPICS_PROBE "$zgate.gateway.barrier"
//  Time before a lost probe is published again, ms
#define ZG_GW_TOPICS_PROBE_RETRY 100
//  Time between expiries of idle pull subscribers, ms
#define ZG_GW_TOPICS_EXPIRY 1000

struct _zg_gw_topics_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_gw_counters_t *counters;     //  The gateway's counters
    zsock_t *subscriber;            //  SUB to the topics' XPUB
    zg_gw_publisher_t *publisher;   //  Publishes to the topics actor
    zg_topicmap_t *topicmap;        //  Web topic subscriptions over the SUB
    zg_pull_t *pull;                //  gophermq pull subscribers
    zg_gw_history_t *history;       //  Recoveries and history routes
    zg_gw_presence_t *presence;     //  Web subscribers announced, presence route
    msgpack_sbuffer encoded;        //  Encoding buffer of topic messages
    zlistx_t *waiters;              //  Answers held for probes, oldest first
    uint64_t probe_wanted;          //  Newest probe a waiter needs
    char probe_id [33];             //  This bridge's probes start with it (random)
    int64_t probe_time;             //  When a probe was last published
    uint64_t message_seq;           //  Topic messages received
    int64_t next_expiry;            //  When to expire pull subscribers next
    char *topic_key;                //  Buffer for a topic as a string key
    size_t topic_key_size;          //  Bytes in topic_key
};

//  An answer held until the subscriptions before it are in effect
typedef struct {
    uint64_t probe;                 //  Probe whose return releases it
    uint64_t owner;                 //  Session or HTTP transaction id
    bool http;                      //  The owner is an HTTP transaction
    json_object *answer;            //  WebSocket answer or HTTP JSON body
    char *recover;                  //  Topic to recover once released, or NULL
    uint64_t since;                 //  Recover after this seq
    char epoch [ZG_GW_HISTORY_EPOCH_SIZE];  //  of this epoch
    bool last;                      //  Recover the last message only
} s_waiter_t;

static zg_gw_history_frame_fn s_history_frame;

//  --------------------------------------------------------------------------
//  Destructor of the held answers

static void
s_waiter_destroy (s_waiter_t **self_p)
{
    s_waiter_t *self = *self_p;
    if (self) {
        json_object_put (self->answer);
        free (self->recover);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create the bridge

zg_gw_topics_t *
zg_gw_topics_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings)
{
    assert (answers && settings);
    zg_gw_topics_t *self = (zg_gw_topics_t *) zmalloc (sizeof (zg_gw_topics_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->counters = zg_gw_answers_counters (answers);
    self->subscriber = zsock_new (ZMQ_SUB);
    assert (self->subscriber);
    self->publisher = zg_gw_publisher_new (answers);
    zsock_set_rcvhwm (self->subscriber, 1000000);
    zsock_set_subscribe (self->subscriber, ZG_GW_TOPICS_PROBE);
    //  Every gateway thread's SUB gets every thread's probes (and, in a
    //  cluster, other nodes' may come too): a probe names its bridge
    zuuid_t *uuid = zuuid_new ();
    snprintf (self->probe_id, sizeof self->probe_id, "%s", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    self->topicmap = zg_topicmap_new (self->subscriber);
    self->pull = zg_pull_new ();
    self->history = zg_gw_history_new (answers, settings, s_history_frame, self);
    self->presence = zg_gw_presence_new (answers, settings);
    msgpack_sbuffer_init (&self->encoded);
    self->waiters = zlistx_new ();
    zlistx_set_destructor (self->waiters, (zlistx_destructor_fn *) s_waiter_destroy);
    self->topic_key_size = 256;
    self->topic_key = (char *) zmalloc (self->topic_key_size);
    zg_gw_topics_configure (self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge and its sockets

void
zg_gw_topics_destroy (zg_gw_topics_t **self_p)
{
    assert (self_p);
    zg_gw_topics_t *self = *self_p;
    if (self) {
        zg_topicmap_destroy (&self->topicmap);
        zsock_destroy (&self->subscriber);
        zg_gw_publisher_destroy (&self->publisher);
        zg_pull_destroy (&self->pull);
        zg_gw_history_destroy (&self->history);
        zg_gw_presence_destroy (&self->presence);
        msgpack_sbuffer_destroy (&self->encoded);
        zlistx_destroy (&self->waiters);
        free (self->topic_key);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Connect the socket of a [gateway] key

int
zg_gw_topics_connect (zg_gw_topics_t *self, const char *key, const char *endpoint)
{
    //  Presence connects to the publishers' and history endpoints too
    char error [256];
    int rc = zg_gw_presence_connect (self->presence, key, endpoint, error, sizeof error);
    if (rc != 1) {
        if (rc == -1)
            zsys_error ("zg_gateway: %s", error);
        return rc;
    }
    bool publishers = streq (key, "topics-publishers");
    if (!publishers && strneq (key, "topics-subscribers"))
        return zg_gw_history_connect (self->history, key, endpoint);
    return publishers? zg_gw_publisher_connect (self->publisher, endpoint):
                       zsock_connect (self->subscriber, "%s", endpoint) == -1? -1: 0;
}

//  --------------------------------------------------------------------------
//  Count publishes in the account of all the gateway's threads, and its
//  bytes held now

void
zg_gw_topics_share (zg_gw_topics_t *self, zg_inflight_t *publishes)
{
    zg_gw_publisher_share (self->publisher, publishes);
}

int64_t
zg_gw_topics_published_held (zg_gw_topics_t *self)
{
    return zg_gw_publisher_held (self->publisher);
}

//  --------------------------------------------------------------------------
//  Settings changed: size the topic buffer and the pull limits

void
zg_gw_topics_configure (zg_gw_topics_t *self)
{
    zg_pull_set_limits (self->pull, (size_t) self->settings->pull_buffer_size,
                        (size_t) self->settings->max_pull_subscribers, self->settings->pull_idle_timeout);
    zg_pull_set_holder_limit (self->pull, self->settings->max_pull_subscribers_per_address);
    if ((size_t) self->settings->max_topic_size + 1 > self->topic_key_size) {
        self->topic_key_size = (size_t) self->settings->max_topic_size + 1;
        self->topic_key = (char *) realloc (self->topic_key, self->topic_key_size);
        assert (self->topic_key);
    }
}

//  --------------------------------------------------------------------------
//  The bridge's zsocks

zsock_t *
zg_gw_topics_socket (zg_gw_topics_t *self, size_t index)
{
    return index == 0? self->subscriber: index == 1? zg_gw_publisher_socket (self->publisher):
           index == 2? zg_gw_history_socket (self->history):
           index == 3? zg_gw_presence_socket (self->presence): NULL;
}

//  ==========================================================================
//  The probe barrier

static void
s_self_publish_probe (zg_gw_topics_t *self)
{
    char sequence [64];
    snprintf (sequence, sizeof sequence, "%s %" PRIu64, self->probe_id, self->probe_wanted);
    zg_gw_publisher_probe (self->publisher, ZG_GW_TOPICS_PROBE, sequence);
    self->probe_time = zclock_mono ();
}

//  Hold an answer (taking it) until the subscriptions made so far are in
//  effect; returns the waiter, the bridge's
static s_waiter_t *
s_self_wait_barrier (zg_gw_topics_t *self, uint64_t owner, bool http, json_object **answer_p)
{
    s_waiter_t *waiter = (s_waiter_t *) zmalloc (sizeof (s_waiter_t));
    assert (waiter);
    waiter->probe = ++self->probe_wanted;
    waiter->owner = owner;
    waiter->http = http;
    waiter->answer = *answer_p;
    *answer_p = NULL;
    zlistx_add_end (self->waiters, waiter);
    s_self_publish_probe (self);
    return waiter;
}

//  The sequence number of a probe this bridge published, or 0 (which
//  releases nothing) for another bridge's: it says nothing about this SUB
static uint64_t
s_self_probe_sequence (zg_gw_topics_t *self, const byte *payload, size_t size)
{
    size_t id_size = strlen (self->probe_id);
    if (size <= id_size + 1 || memcmp (payload, self->probe_id, id_size) || payload [id_size] != ' ')
        return 0;
    char *sequence = strndup ((const char *) payload + id_size + 1, size - id_size - 1);
    assert (sequence);
    uint64_t number = strtoull (sequence, NULL, 10);
    free (sequence);
    return number;
}

//  A probe came back: release the answers it covers
static void
s_self_release_barrier (zg_gw_topics_t *self, uint64_t probe)
{
    s_waiter_t *waiter = (s_waiter_t *) zlistx_first (self->waiters);
    while (waiter && waiter->probe <= probe) {
        //  The held object is the session's answer or the HTTP body
        json_object *answer = waiter->http? NULL: waiter->answer;
        json_object *body = waiter->http? waiter->answer: NULL;
        waiter->answer = NULL;
        if (waiter->recover)
            zg_gw_history_ask (self->history, waiter->owner, waiter->recover, waiter->since, waiter->epoch,
                               waiter->last, &answer);
        else
            zg_gw_answers_owner (self->answers, waiter->owner, waiter->http, &answer, 200, &body);
        zlistx_delete (self->waiters, zlistx_cursor (self->waiters));
        waiter = (s_waiter_t *) zlistx_first (self->waiters);
    }
}

//  --------------------------------------------------------------------------
//  Housekeeping: expire idle pull subscribers, publish a lost probe again

void
zg_gw_topics_tick (zg_gw_topics_t *self, int64_t now)
{
    if (now >= self->next_expiry) {
        zlistx_t *subjects = zg_pull_expire (self->pull, now);
        if (subjects) {
            for (char *subject = (char *) zlistx_first (subjects); subject;
                 subject = (char *) zlistx_next (subjects))
                zg_topicmap_release (self->topicmap, subject);
            zlistx_destroy (&subjects);
        }
        self->next_expiry = now + ZG_GW_TOPICS_EXPIRY;
    }
    if (zlistx_size (self->waiters) && now - self->probe_time >= ZG_GW_TOPICS_PROBE_RETRY)
        s_self_publish_probe (self);
    zg_gw_history_tick (self->history, now);
}

//  --------------------------------------------------------------------------
//  An admin's view of the pull subscribers, and their deletion

json_object *
zg_gw_topics_pull_list (zg_gw_topics_t *self, size_t limit)
{
    return zg_pull_list (self->pull, zclock_mono (), limit);
}

bool
zg_gw_topics_pull_remove (zg_gw_topics_t *self, const char *id)
{
    char *subject = zg_pull_remove (self->pull, id);
    if (!subject)
        return false;
    zg_topicmap_release (self->topicmap, subject);
    zstr_free (&subject);
    return true;
}

//  ==========================================================================
//  WebSocket subscribers and publishers

//  Remove a session's subscription at index
static void
s_self_unsubscribe_at (zg_gw_topics_t *self, zg_session_t *session, uint32_t index)
{
    zg_topicmap_remove (self->topicmap, session->topics [index], session);
    zg_gw_presence_left (self->presence, session, session->topics [index]);
    zg_gw_history_forget (self->history, session, session->topics [index]);
    free (session->topics [index]);
    session->topics [index] = session->topics [--session->topic_count];
    if (session->topic_count == 0) {
        free (session->topics);
        session->topics = NULL;
    }
}

//  A session ended: drop its subscriptions
void
zg_gw_topics_session_closed (zg_gw_topics_t *self, zg_session_t *session)
{
    while (session->topic_count)
        s_self_unsubscribe_at (self, session, session->topic_count - 1);
}

size_t
zg_gw_topics_subscriptions (zg_gw_topics_t *self)
{
    return zg_topicmap_size (self->topicmap);
}

void
zg_gw_topics_pull_counters (zg_gw_topics_t *self, uint64_t *delivered, uint64_t *dropped, size_t *subscribers)
{
    zg_pull_counters (self->pull, delivered, dropped, subscribers);
}

//  subscribe op: a web subscription to a topic or a "prefix*"
void
zg_gw_topics_subscribe (zg_gw_topics_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    //  A prefix subscription may take one byte more: its '*'
    int64_t max_topic_size = self->settings->max_topic_size;
    const char *topic = zg_gw_answers_string_field (request, "topic", (size_t) max_topic_size + 1);
    size_t length = topic? strlen (topic): 0;
    if (!topic || length - (topic [length - 1] == '*') > (size_t) max_topic_size) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "topic must be a string of 1 to %" PRId64 " bytes", max_topic_size);
        return;
    }
    //  Recovery: since a position, or the last message, of one topic
    uint64_t since = 0;
    char epoch [ZG_GW_HISTORY_EPOCH_SIZE] = "";
    bool last = false;
    int recover = zg_gw_history_fields (self->history, session, request, req, &since, epoch, &last);
    if (recover == -1)
        return;
    if (recover && topic [length - 1] == '*') {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "since and last need one topic, not a prefix");
        return;
    }
    for (uint32_t index = 0; index < session->topic_count; index++)
        if (streq (session->topics [index], topic)) {
            zg_gw_answers_ok (self->answers, session, req);
            return;
        }
    if ((int64_t) session->topic_count >= self->settings->max_subscriptions) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_TOO_MANY,
                             "at most %" PRId64 " subscriptions per session", self->settings->max_subscriptions);
        return;
    }
    session->topics = (char **) realloc (session->topics, (session->topic_count + 1) * sizeof (char *));
    assert (session->topics);
    session->topics [session->topic_count++] = strdup (topic);
    if (topic [length - 1] != '*')
        zg_gw_presence_joined (self->presence, session, topic, NULL);
    if (recover)
        zg_gw_history_hold (self->history, session, topic);
    else
    if (topic [length - 1] != '*')
        zg_gw_history_fresh (self->history, session, topic);
    json_object *answer = zg_gw_answers_object ("ok", req);
    //  A recovery waits for the probe even if another session made the
    //  ZeroMQ subscription: that one may still be on its way
    if (zg_topicmap_add (self->topicmap, topic, session) || recover) {
        s_waiter_t *waiter = s_self_wait_barrier (self, session->id, false, &answer);
        if (recover) {
            waiter->recover = strdup (topic);
            waiter->since = since;
            memcpy (waiter->epoch, epoch, sizeof epoch);
            waiter->last = last;
        }
    }
    else
        zg_gw_answers_send_object (self->answers, session, &answer, true, ZG_TOPICS);
}

//  unsubscribe op
void
zg_gw_topics_unsubscribe (zg_gw_topics_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *topic = zg_gw_answers_string_field (request, "topic", (size_t) self->settings->max_topic_size + 1);
    if (!topic) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "topic must be a non-empty string");
        return;
    }
    for (uint32_t index = 0; index < session->topic_count; index++)
        if (streq (session->topics [index], topic)) {
            s_self_unsubscribe_at (self, session, index);
            zg_gw_answers_ok (self->answers, session, req);
            return;
        }
    zg_gw_answers_error (self->answers, session, req, ZG_ERR_NOT_FOUND, "not subscribed to '%s'", topic);
}

//  publish op
void
zg_gw_topics_publish (zg_gw_topics_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *topic = zg_gw_answers_string_field (request, "topic", (size_t) self->settings->max_topic_size);
    if (!topic) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "topic must be a string of 1 to %" PRId64 " bytes", self->settings->max_topic_size);
        return;
    }
    zframe_t *payload = zg_gw_answers_data_frame (request);
    if (!payload) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "data is missing");
        return;
    }
    int refusal = zg_gw_publisher_send (self->publisher, topic, zframe_data (payload), zframe_size (payload));
    if (refusal)
        zg_gw_answers_error (self->answers, session, req, refusal, "%s", zg_gw_publisher_reason (refusal));
    else
        zg_gw_answers_ok (self->answers, session, req);
    zframe_destroy (&payload);
}

//  ==========================================================================
//  Delivery of topic messages

//  What a topic message needs to reach its sessions: the message, its
//  payload classified when the first session matches, and its frame in each
//  encoding, built once and shared by every session that takes it
typedef struct {
    zg_gw_topics_t *self;           //  The bridge
    zg_gw_message_t message;        //  The message
    zg_frame_t *frames [2];         //  Its JSON and msgpack frames, or NULL
    bool watched;                   //  Some session recovers or awaits its first message
} s_delivery_t;

//  The frame of a message with its epoch: a recovered one, or a session's
//  first of a topic
static zg_frame_t *
s_history_frame (void *arg, const char *topic, const byte *payload, size_t size, uint64_t seq, const char *epoch,
                 bool msgpack)
{
    zg_gw_topics_t *self = (zg_gw_topics_t *) arg;
    zg_gw_message_t message = { topic, payload, size, false, ZG_CODEC_JSON, NULL, seq, epoch, true, NULL, 0 };
    zg_frame_t *frame = zg_gw_message_frame (&message, zg_gw_answers_codec (self->answers), &self->encoded, msgpack);
    json_object_put (message.value);
    return frame;
}

//  Queue a topic message on a session, once however many of its
//  subscriptions match
static void
s_self_deliver (void *holder, void *arg)
{
    zg_session_t *session = (zg_session_t *) holder;
    s_delivery_t *delivery = (s_delivery_t *) arg;
    zg_gw_message_t *message = &delivery->message;
    zg_gw_topics_t *self = delivery->self;
    if (session->last_seq == self->message_seq)
        return;
    session->last_seq = self->message_seq;
    zg_frame_t **frame = &delivery->frames [session->msgpack? 1: 0];
    if (!*frame)
        *frame = zg_gw_message_frame (message, zg_gw_answers_codec (self->answers), &self->encoded,
                                      session->msgpack);
    //  Recoveries and fresh subscriptions are asked about only while there
    //  are any (delivery->watched, once per message, not per session)
    if (delivery->watched
    &&  zg_gw_history_take (self->history, session, message->topic, zg_gw_message_seq (message), *frame))
        return;
    //  A remembered topic's epoch goes to each new subscription once, not
    //  in every push: the frame shared by the others stays small
    if (delivery->watched && zg_gw_history_first (self->history, session, message->topic)
    &&  !message->with_epoch) {
        zg_frame_t *first = s_history_frame (self, message->topic, message->payload, message->payload_size,
                                             zg_gw_message_seq (message), message->epoch, session->msgpack);
        zg_gw_answers_push (self->answers, session, first, false, ZG_TOPICS);
        zg_frame_unref (&first);
        return;
    }
    zg_gw_answers_push (self->answers, session, *frame, false, ZG_TOPICS);
}

//  A message from the topics actor: to web subscribers and pull buffers.
//  A remembered topic's topic frame has its position after a NUL, "topic
//  NUL seq epoch"; a topic with a NUL of its own (a second NUL, or one
//  with nothing after it) is none a web client can name
static void
s_self_topic_message (zg_gw_topics_t *self, const byte *topic_data, size_t frame_size, const byte *payload,
                      size_t payload_size)
{
    const byte *end = (const byte *) memchr (topic_data, 0, frame_size);
    size_t topic_size = end? (size_t) (end - topic_data): frame_size;
    const char *text = end? (const char *) end + 1: NULL;
    size_t text_size = end? frame_size - topic_size - 1: 0;
    if (topic_size + 1 > self->topic_key_size || (end && (!text_size || memchr (text, 0, text_size))))
        return;
    char *topic = self->topic_key;
    memcpy (topic, topic_data, topic_size);
    topic [topic_size] = 0;
    if (streq (topic, ZG_GW_TOPICS_PROBE)) {
        s_self_release_barrier (self, s_self_probe_sequence (self, payload, payload_size));
        return;
    }
    self->message_seq++;
    zg_pull_deliver (self->pull, topic, payload, payload_size);
    s_delivery_t delivery = { self, { topic, payload, payload_size, false, ZG_CODEC_JSON, NULL, 0, NULL, false,
                                      NULL, 0 }, { NULL, NULL }, false };
    //  "seq epoch", read in place: JSON pushes take the digits as they are
    char epoch [ZG_GW_HISTORY_EPOCH_SIZE];
    const char *space = text_size? (const char *) memchr (text, ' ', text_size): NULL;
    size_t epoch_size = space? text_size - (size_t) (space - text) - 1: 0;
    //  The topics actor writes this frame: its digits are checked for their
    //  count only
    if (space && epoch_size < sizeof epoch && space > text && space - text <= 20) {
        delivery.message.digits = text;
        delivery.message.digit_count = (size_t) (space - text);
        //  The first message of an epoch tells every subscriber the new epoch
        delivery.message.with_epoch = delivery.message.digit_count == 1 && *text == '1';
        delivery.watched = zg_gw_history_watching (self->history);
        //  Only a push that names the epoch needs it as a string
        if (delivery.message.with_epoch || delivery.watched) {
            memcpy (epoch, space + 1, epoch_size);
            epoch [epoch_size] = 0;
            delivery.message.epoch = epoch;
        }
    }
    zg_topicmap_match (self->topicmap, topic, s_self_deliver, &delivery);
    zg_frame_unref (&delivery.frames [0]);
    zg_frame_unref (&delivery.frames [1]);
    json_object_put (delivery.message.value);
}

//  Receive and handle one message from the topics actor, [topic][payload]
//  (further parts are ignored). Its parts are read into zmq_msg_t on the
//  stack: no zmsg or zframe allocations per message. Returns false if none
//  was received, with errno EAGAIN if none was waiting.
static bool
s_self_handle_topic (zg_gw_topics_t *self)
{
    void *socket = zsock_resolve (self->subscriber);
    zmq_msg_t topic, payload;
    zmq_msg_init (&topic);
    if (zmq_msg_recv (&topic, socket, ZMQ_DONTWAIT) == -1) {
        int error = errno;
        zmq_msg_close (&topic);
        errno = error;
        return false;
    }
    //  The parts of a message arrive together
    zmq_msg_init (&payload);
    bool whole = zmq_msg_more (&topic) && zmq_msg_recv (&payload, socket, 0) != -1;
    bool more = whole && zmq_msg_more (&payload);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        more = zmq_msg_recv (&extra, socket, 0) != -1 && zmq_msg_more (&extra);
        zmq_msg_close (&extra);
    }
    if (whole)
        s_self_topic_message (self, (const byte *) zmq_msg_data (&topic), zmq_msg_size (&topic),
                              (const byte *) zmq_msg_data (&payload), zmq_msg_size (&payload));
    zmq_msg_close (&topic);
    zmq_msg_close (&payload);
    return true;
}

//  --------------------------------------------------------------------------
//  Handle what the zsocks hold, a run at most

size_t
zg_gw_topics_drain (zg_gw_topics_t *self, bool *more)
{
    size_t handled = 0;
    if (zsock_events (self->subscriber) & ZMQ_POLLIN) {
        //  Topic messages come in runs: take a run without asking for
        //  ZMQ_EVENTS before each one (that costs as much as the message).
        //  A run that ends at EAGAIN has drained the socket and re-armed
        //  its ZMQ_FD, and handling topics sends on no socket: no other
        //  round is needed for it
        while (handled < ZG_GW_TOPICS_RUN && s_self_handle_topic (self))
            handled++;
        if (handled == ZG_GW_TOPICS_RUN || errno != EAGAIN)
            *more = true;
    }
    //  The prefixes the topics actor's subscribers hold, for publish
    if (zg_gw_publisher_drain (self->publisher)) {
        handled++;
        *more = true;
    }
    handled += zg_gw_history_drain (self->history);
    handled += zg_gw_presence_drain (self->presence);
    return handled;
}

//  ==========================================================================
//  gophermq HTTP publishers and pull subscribers

//  gophermq's subject rule, plus our topic size limit
static bool
s_self_valid_subject (zg_gw_topics_t *self, const char *subject)
{
    size_t length = strlen (subject);
    if (length == 0 || length > (size_t) self->settings->max_topic_size || strpbrk (subject, " \t\r\n")
    ||  subject [0] == '.' || subject [length - 1] == '.' || strstr (subject, ".."))
        return false;
    return true;
}

//  A string member of a body; NULL if absent or not a string. With length,
//  any bytes (its length set); without, a string with no NUL in it.
static const char *
s_body_string (json_object *body, const char *name, size_t *length)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (body, name, &value) || !json_object_is_type (value, json_type_string))
        return NULL;
    if (length)
        *length = (size_t) json_object_get_string_len (value);
    const char *text = json_object_get_string (value);
    return strlen (text) == (size_t) json_object_get_string_len (value) || length? text: NULL;
}

//  The body of a gophermq request (the caller's) with its valid subject in
//  *subject_p and, if other is not NULL, its string member other in
//  *other_p (with its length in *other_size, if that is not NULL, which
//  lets the member hold any bytes). NULL after replying 400.
static json_object *
s_self_subject_body (zg_gw_topics_t *self, zg_http_t *http, const char **subject_p, const char *other,
                     const char **other_p, size_t *other_size)
{
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return NULL;
    *subject_p = s_body_string (body, "subject", NULL);
    if (other)
        *other_p = s_body_string (body, other, other_size);
    if (!*subject_p || (other && !*other_p))
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "request's body is invalid");
    else
    if (!s_self_valid_subject (self, *subject_p))
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "invalid subject");
    else
        return body;
    json_object_put (body);
    return NULL;
}

//  Counts the subscriptions matching a topic
static void
s_count_match (void *holder, void *arg)
{
    (void) holder;
    (*(size_t *) arg)++;
}

//  A prefix the gateway's SUB holds itself (for web and pull subscribers,
//  which are counted apart, or for the probes)
static bool
s_self_own_prefix (const char *prefix, void *arg)
{
    zg_gw_topics_t *self = (zg_gw_topics_t *) arg;
    return streq (prefix, ZG_GW_TOPICS_PROBE) || zg_topicmap_subscribed (self->topicmap, prefix);
}

//  POST /api/publish, /api/publish/async: gophermq publish
void
zg_gw_topics_http_publish (zg_gw_topics_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    const char *subject = NULL, *data = NULL;
    size_t size = 0;
    json_object *body = s_self_subject_body (self, http, &subject, "data", &data, &size);
    if (!body)
        return;
    json_object *ok = json_object_new_object ();
    json_object_object_add (ok, "status", json_object_new_string ("ok"));
    size_t web_subscribers = 0;
    zg_topicmap_match (self->topicmap, subject, s_count_match, &web_subscribers);
    int refusal = 0;
    if (streq (http->path, "/api/publish/async")) {
        //  gophermq reports nothing later; we count what fails. A refusal
        //  for bytes is answered: the message was not accepted
        refusal = zg_gw_publisher_send (self->publisher, subject, data, size);
        if (refusal == ZG_ERR_UNAVAILABLE)
            self->counters->async_failed++;
        if (refusal == ZG_ERR_TOO_MANY || refusal == ZG_ERR_STORAGE)
            zg_http_reply_message (http, refusal, zg_gw_publisher_reason (refusal));
        else
            zg_http_reply_json (http, 200, ok);
    }
    else
    if (zg_pull_subscribers (self->pull, subject) == 0 && web_subscribers == 0
    &&  !zg_gw_publisher_listened (self->publisher, subject, s_self_own_prefix, self))
        zg_http_reply_message (http, ZG_ERR_NOT_FOUND, "subscriber not found");
    else
    if (zg_pull_subscribers (self->pull, subject) > 0 && !zg_pull_has_room (self->pull, subject))
        zg_http_reply_message (http, ZG_ERR_TOO_MANY, "broker overflow");
    else
    if ((refusal = zg_gw_publisher_send (self->publisher, subject, data, size)) == ZG_ERR_UNAVAILABLE)
        zg_http_reply_message (http, ZG_ERR_SERVER, "server error");
    else
    if (refusal)
        zg_http_reply_message (http, refusal, zg_gw_publisher_reason (refusal));
    else {
        zg_pull_reserve (self->pull, subject);
        //  Answer once the message has come back from the topics actor, so a
        //  fetch made after this answer finds it in the pull buffers
        zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
        json_object *answer = json_object_get (ok);
        s_self_wait_barrier (self, http->id, true, &answer);
    }
    json_object_put (ok);
    json_object_put (body);
}

//  POST /api/subscribe: a new pull subscriber
void
zg_gw_topics_http_subscribe (zg_gw_topics_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    const char *subject = NULL;
    json_object *body = s_self_subject_body (self, http, &subject, NULL, NULL, NULL);
    if (!body)
        return;
    char *holder = zg_gw_answers_http_holder (http);
    const char *id = zg_pull_subscribe (self->pull, subject, holder);
    zstr_free (&holder);
    if (!id)
        zg_http_reply_message (http, ZG_ERR_TOO_MANY, "too many subscribers (max-pull-subscribers, or from this "
                               "address max-pull-subscribers-per-address)");
    else {
        json_object *answer = json_object_new_object ();
        json_object_object_add (answer, "id", json_object_new_string (id));
        json_object_object_add (answer, "subject", json_object_new_string (subject));
        if (zg_topicmap_use (self->topicmap, subject)) {
            zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
            s_self_wait_barrier (self, http->id, true, &answer);
        }
        else {
            zg_http_reply_json (http, 200, answer);
            json_object_put (answer);
        }
    }
    json_object_put (body);
}

//  The web form of a pull subscriber's messages: text as strings, other
//  bytes as binary values listed by index in "binary"
static json_object *
s_fetch_answer (zlistx_t *messages, const char *subject, const char *id)
{
    json_object *answer = json_object_new_object ();
    json_object *data = json_object_new_array ();
    json_object *binary = NULL;
    int index = 0;
    for (zg_pullmsg_t *message = (zg_pullmsg_t *) zlistx_first (messages); message;
         message = (zg_pullmsg_t *) zlistx_next (messages), index++)
        if (zg_codec_utf8_valid (zg_pullmsg_data (message), zg_pullmsg_size (message)))
            json_object_array_add (data, json_object_new_string_len ((const char *) zg_pullmsg_data (message),
                                                                     (int) zg_pullmsg_size (message)));
        else {
            json_object_array_add (data, zg_codec_new_binary (zg_pullmsg_data (message),
                                                              zg_pullmsg_size (message)));
            if (!binary)
                binary = json_object_new_array ();
            json_object_array_add (binary, json_object_new_int (index));
        }
    json_object_object_add (answer, "data", data);
    json_object_object_add (answer, "id", json_object_new_string (id));
    json_object_object_add (answer, "subject", json_object_new_string (subject));
    if (binary)
        json_object_object_add (answer, "binary", binary);
    return answer;
}

//  POST /api/fetch: drain a pull subscriber's buffer
void
zg_gw_topics_http_fetch (zg_gw_topics_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    const char *subject = NULL, *id = NULL;
    json_object *body = s_self_subject_body (self, http, &subject, "id", &id, NULL);
    if (!body)
        return;
    zlistx_t *messages = zg_pull_fetch (self->pull, subject, id);
    if (!messages)
        zg_http_reply_message (http, ZG_ERR_NOT_FOUND, "bad id");
    else {
        json_object *answer = s_fetch_answer (messages, subject, id);
        zg_http_reply_json (http, 200, answer);
        json_object_put (answer);
        zlistx_destroy (&messages);
    }
    json_object_put (body);
}

//  GET /api/topics/{topic}/history, /api/topics/{topic}/last
void
zg_gw_topics_http_history (zg_gw_topics_t *self, zg_http_t *http, const char *param)
{
    zg_gw_history_http (self->history, http, param);
}

//  GET /api/topics/{topic}/presence
void
zg_gw_topics_http_presence (zg_gw_topics_t *self, zg_http_t *http, const char *param)
{
    zg_gw_presence_http (self->presence, http, param);
}

//  Topic presence, for the other endpoints' subscribers (go-wsqueue's)
zg_gw_presence_t *
zg_gw_topics_presence (zg_gw_topics_t *self)
{
    return self->presence;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  An async HTTP publish of size bytes on "a.b"; returns its status
static int
s_test_publish (zg_gw_topics_t *self, zg_gw_answers_t *answers, size_t size)
{
    char *body = (char *) zmalloc (size + 64);
    int length = snprintf (body, size + 64, "{\"subject\":\"a.b\",\"data\":\"%0*d\"}", (int) size, 0);
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/publish/async");
    zg_http_append (http, body, (size_t) length, size + 64);
    zg_gw_topics_http_publish (self, http, "");
    int status = http->status;
    if (status != 200)
        assert (strstr ((char *) http->reply + LWS_PRE, "max-publish-queued"));
    zg_http_destroy (&http);
    free (body);
    return status;
}

void
zg_gw_topics_test (bool verbose)
{
    printf (" * zg_gw_topics: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    //  gophermq requests: the body and subject checks come first, in one
    //  place, for publish, subscribe and fetch alike
    zg_gw_settings_t settings = { .max_depth = 8, .max_topic_size = 16, .max_queue_bytes = 4096,
                                  .pull_buffer_size = 4, .max_pull_subscribers = 4,
                                  .pull_idle_timeout = 60000, .http_timeout = 1000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_topics_t *topics = zg_gw_topics_new (answers, &settings);
    assert (zg_gw_topics_connect (topics, "queues-workers", "inproc://x") == 1);
    const struct {
        zg_gw_topics_route_fn *route;
        const char *body;
        int status;
    } cases [] = {
        { zg_gw_topics_http_publish, "{\"data\":\"x\"}", 400 },
        { zg_gw_topics_http_publish, "{\"subject\":\"a..b\",\"data\":\"x\"}", 400 },
        { zg_gw_topics_http_publish, "{\"subject\":\"a.b\",\"data\":\"x\"}", 404 },
        { zg_gw_topics_http_subscribe, "{\"subject\":\".a\"}", 400 },
        { zg_gw_topics_http_fetch, "{\"subject\":\"a.b\"}", 400 },
        { zg_gw_topics_http_fetch, "{\"subject\":\"a.b\",\"id\":\"none\"}", 404 },
        { zg_gw_topics_http_fetch, "[]", 400 },
        { NULL }
    };
    for (int index = 0; cases [index].route; index++) {
        zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/x");
        zg_http_append (http, cases [index].body, strlen (cases [index].body), 1024);
        cases [index].route (topics, http, "");
        assert (http->status == cases [index].status);
        zg_http_destroy (&http);
    }
    //  An async publish is answered at once; one that cannot go out is counted
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/publish/async");
    zg_http_append (http, "{\"subject\":\"a.b\",\"data\":\"x\"}", 28, 1024);
    zg_gw_topics_http_publish (topics, http, "");
    assert (http->status == 200 && zg_gw_answers_counters (answers)->async_failed == 1);
    zg_http_destroy (&http);

    //  A publish refused for its bytes (zg_gw_publisher) is answered, async
    //  or not: 429 with the limit's name, once one publish is held unread
    zsock_t *reader = zsock_new (ZMQ_XSUB);
    assert (zsock_bind (reader, "inproc://zg-gw-topics-test-pub") == 0);
    zmq_send (zsock_resolve (reader), "\x01", 1, 0);
    assert (zg_gw_topics_connect (topics, "topics-publishers", "inproc://zg-gw-topics-test-pub") == 0);
    settings.max_publish_queued = 1500;
    //  The reader takes its pipe (and so sends its subscription) when polled
    zmq_pollitem_t item = { zsock_resolve (reader), 0, ZMQ_POLLIN, 0 };
    for (int attempt = 0; attempt < 200 && zg_gw_topics_published_held (topics) == 0; attempt++) {
        assert (s_test_publish (topics, answers, 1000) == 200);
        zmq_poll (&item, 1, 10);
    }
    assert (s_test_publish (topics, answers, 1000) == ZG_ERR_TOO_MANY);
    assert (zg_gw_answers_counters (answers)->publish_refused_limit == 1);
    zsock_destroy (&reader);

    //  Probes: this bridge's own release its waiters, another's (each gateway
    //  thread has a bridge) nothing
    zg_gw_topics_t *other = zg_gw_topics_new (answers, &settings);
    char probe [64];
    snprintf (probe, sizeof probe, "%s 7", topics->probe_id);
    assert (s_self_probe_sequence (topics, (byte *) probe, strlen (probe)) == 7);
    assert (s_self_probe_sequence (other, (byte *) probe, strlen (probe)) == 0);
    assert (s_self_probe_sequence (topics, (byte *) "7", 1) == 0);
    assert (strneq (topics->probe_id, other->probe_id));
    zg_gw_topics_destroy (&other);

    zg_gw_topics_destroy (&topics);
    zg_gw_topics_destroy (&topics);
    zg_gw_answers_destroy (&answers);
    //  @end
    printf ("OK\n");
}
