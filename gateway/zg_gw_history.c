/*  =========================================================================
    zg_gw_history - the gateway's side of topic history: recovery of web
    subscriptions and the history routes

    Two tables: the recoveries, by session and topic ("<session id> <topic>"),
    each holding live messages until its answer came and then the sequence
    number below which live messages are duplicates; and the questions out
    to the topics actor, by gateway req ("h<n>"), each with its owner (a
    session or an HTTP transaction) and a deadline.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_gw_history.h"

//  A live message held during a recovery
typedef struct {
    uint64_t seq;                   //  Its sequence number
    zg_frame_t *frame;              //  Its frame, one reference
} s_held_t;

//  A web subscription being recovered
typedef struct {
    bool waiting;                   //  The answer has not come: hold
    uint64_t floor;                 //  After it: newest seq the answer covered
    zlistx_t *held;                 //  s_held_t, oldest first
} s_recovery_t;

//  The sessions whose next push of a topic carries its epoch
typedef struct {
    uint64_t *sessions;             //  Their ids
    size_t count;                   //  Ids in sessions
} s_fresh_t;

//  A question out to the topics actor
typedef struct {
    uint64_t owner;                 //  Session or HTTP transaction id
    bool http;                      //  The owner is an HTTP transaction
    bool last;                      //  LAST, not HISTORY
    char *topic;                    //  Its topic
    json_object *answer;            //  The subscribe's answer, or NULL (HTTP)
    int64_t deadline;               //  When to give up
} s_question_t;

struct _zg_gw_history_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_gw_history_frame_fn *frame_fn;   //  Builds message frames
    void *frame_arg;                //  Its argument
    zsock_t *dealer;                //  To the topics' history ROUTER
    bool linked;                    //  The DEALER is connected
    zhashx_t *recoveries;           //  "<session> <topic>" -> s_recovery_t
    zhashx_t *questions;            //  Gateway req -> s_question_t
    zhashx_t *fresh;                //  Topic -> s_fresh_t, sessions owed the epoch
    uint64_t next_req;              //  Number of the next question
    char *key;                      //  Buffer for a recovery key
    size_t key_size;                //  Its size
};

//  --------------------------------------------------------------------------
//  Destructors of the tables' items

static void
s_held_destroy (s_held_t **self_p)
{
    zg_frame_unref (&(*self_p)->frame);
    free (*self_p);
    *self_p = NULL;
}

static void
s_recovery_destroy (s_recovery_t **self_p)
{
    zlistx_destroy (&(*self_p)->held);
    free (*self_p);
    *self_p = NULL;
}

static void
s_fresh_destroy (s_fresh_t **self_p)
{
    free ((*self_p)->sessions);
    free (*self_p);
    *self_p = NULL;
}

static void
s_question_destroy (s_question_t **self_p)
{
    free ((*self_p)->topic);
    json_object_put ((*self_p)->answer);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------

zg_gw_history_t *
zg_gw_history_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings, zg_gw_history_frame_fn *frame_fn,
                   void *frame_arg)
{
    assert (answers && settings && frame_fn);
    zg_gw_history_t *self = (zg_gw_history_t *) zmalloc (sizeof (zg_gw_history_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->frame_fn = frame_fn;
    self->frame_arg = frame_arg;
    self->dealer = zg_gw_answers_dealer_new ();
    self->recoveries = zhashx_new ();
    zhashx_set_destructor (self->recoveries, (zhashx_destructor_fn *) s_recovery_destroy);
    self->questions = zhashx_new ();
    zhashx_set_destructor (self->questions, (zhashx_destructor_fn *) s_question_destroy);
    self->fresh = zhashx_new ();
    zhashx_set_destructor (self->fresh, (zhashx_destructor_fn *) s_fresh_destroy);
    return self;
}

void
zg_gw_history_destroy (zg_gw_history_t **self_p)
{
    assert (self_p);
    zg_gw_history_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->dealer);
        zhashx_destroy (&self->recoveries);
        zhashx_destroy (&self->questions);
        zhashx_destroy (&self->fresh);
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

int
zg_gw_history_connect (zg_gw_history_t *self, const char *key, const char *endpoint)
{
    assert (self);
    if (strneq (key, "topics-history"))
        return 1;
    if (zsock_connect (self->dealer, "%s", endpoint) == -1)
        return -1;
    self->linked = true;
    return 0;
}

zsock_t *
zg_gw_history_socket (zg_gw_history_t *self)
{
    assert (self);
    return self->dealer;
}

//  The key of a session's recovery of topic, in the class's buffer
static const char *
s_self_key (zg_gw_history_t *self, uint64_t session, const char *topic)
{
    size_t size = strlen (topic) + 24;
    if (size > self->key_size) {
        self->key = (char *) realloc (self->key, size);
        assert (self->key);
        self->key_size = size;
    }
    snprintf (self->key, size, "%" PRIu64 " %s", session, topic);
    return self->key;
}

//  --------------------------------------------------------------------------
//  Subscribe's fields, holding and taking live messages

int
zg_gw_history_fields (zg_gw_history_t *self, zg_session_t *session, json_object *request, json_object *req,
                      uint64_t *since, char *epoch, bool *last)
{
    assert (self && session && request && since && epoch && last);
    json_object *position = NULL;
    json_object_object_get_ex (request, "since", &position);
    *last = false;
    if (zg_gw_answers_bool_field (request, "last", last) == -1) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "last must be a boolean");
        return -1;
    }
    if (!position)
        return *last? 1: 0;
    int64_t seq = -1;
    const char *text = zg_gw_answers_string_field (position, "epoch", ZG_GW_HISTORY_EPOCH_SIZE - 1);
    json_object *empty = NULL;
    bool epoch_empty = json_object_object_get_ex (position, "epoch", &empty)
                    && json_object_is_type (empty, json_type_string) && json_object_get_string_len (empty) == 0;
    if (*last || !json_object_is_type (position, json_type_object)
    ||  zg_gw_answers_int_field (position, "seq", &seq) != 1 || seq < 0 || (!text && !epoch_empty)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "since must be {\"seq\": n >= 0, \"epoch\": string of at most %d characters}, "
                             "without last", ZG_GW_HISTORY_EPOCH_SIZE - 1);
        return -1;
    }
    *since = (uint64_t) seq;
    snprintf (epoch, ZG_GW_HISTORY_EPOCH_SIZE, "%s", text? text: "");
    return 1;
}

void
zg_gw_history_hold (zg_gw_history_t *self, zg_session_t *session, const char *topic)
{
    assert (self && session && topic);
    s_recovery_t *recovery = (s_recovery_t *) zmalloc (sizeof (s_recovery_t));
    assert (recovery);
    recovery->waiting = true;
    recovery->held = zlistx_new ();
    zlistx_set_destructor (recovery->held, (zlistx_destructor_fn *) s_held_destroy);
    //  A second recovery of the same subscription replaces the first
    zhashx_update (self->recoveries, s_self_key (self, session->id, topic), recovery);
}

bool
zg_gw_history_take (zg_gw_history_t *self, zg_session_t *session, const char *topic, uint64_t seq,
                    zg_frame_t *frame)
{
    if (zhashx_size (self->recoveries) == 0)
        return false;
    const char *key = s_self_key (self, session->id, topic);
    s_recovery_t *recovery = (s_recovery_t *) zhashx_lookup (self->recoveries, key);
    if (!recovery)
        return false;
    if (recovery->waiting) {
        s_held_t *held = (s_held_t *) zmalloc (sizeof (s_held_t));
        assert (held);
        held->seq = seq;
        held->frame = zg_frame_ref (frame);
        zlistx_add_end (recovery->held, held);
        return true;
    }
    if (seq <= recovery->floor)
        return true;
    //  Live has overtaken the answer: nothing more to drop
    zhashx_delete (self->recoveries, key);
    return false;
}

void
zg_gw_history_fresh (zg_gw_history_t *self, zg_session_t *session, const char *topic)
{
    assert (self && session && topic);
    s_fresh_t *fresh = (s_fresh_t *) zhashx_lookup (self->fresh, topic);
    if (!fresh) {
        fresh = (s_fresh_t *) zmalloc (sizeof (s_fresh_t));
        assert (fresh);
        zhashx_insert (self->fresh, topic, fresh);
    }
    fresh->sessions = (uint64_t *) realloc (fresh->sessions, (fresh->count + 1) * sizeof (uint64_t));
    assert (fresh->sessions);
    fresh->sessions [fresh->count++] = session->id;
}

//  Take a session off a topic's fresh list; returns whether it was on it
static bool
s_self_unfresh (zg_gw_history_t *self, uint64_t session, const char *topic)
{
    s_fresh_t *fresh = (s_fresh_t *) zhashx_lookup (self->fresh, topic);
    for (size_t index = 0; fresh && index < fresh->count; index++)
        if (fresh->sessions [index] == session) {
            fresh->sessions [index] = fresh->sessions [--fresh->count];
            if (fresh->count == 0)
                zhashx_delete (self->fresh, topic);
            return true;
        }
    return false;
}

bool
zg_gw_history_watching (zg_gw_history_t *self)
{
    assert (self);
    return zhashx_size (self->recoveries) || zhashx_size (self->fresh);
}

bool
zg_gw_history_first (zg_gw_history_t *self, zg_session_t *session, const char *topic)
{
    //  One lookup per message and session while any subscription is fresh
    return zhashx_size (self->fresh) && s_self_unfresh (self, session->id, topic);
}

void
zg_gw_history_forget (zg_gw_history_t *self, zg_session_t *session, const char *topic)
{
    assert (self && session && topic);
    if (zhashx_size (self->fresh))
        s_self_unfresh (self, session->id, topic);
    if (zhashx_size (self->recoveries))
        zhashx_delete (self->recoveries, s_self_key (self, session->id, topic));
}

//  --------------------------------------------------------------------------
//  Questions and answers

//  End a recovery's wait: push what it held above top (the rest the answer
//  covered), then drop live messages up to top
static void
s_self_release (zg_gw_history_t *self, zg_session_t *session, const char *topic, uint64_t top)
{
    s_recovery_t *recovery = (s_recovery_t *) zhashx_lookup (self->recoveries, s_self_key (self, session->id, topic));
    if (!recovery)
        return;
    for (s_held_t *held = (s_held_t *) zlistx_first (recovery->held); held;
         held = (s_held_t *) zlistx_next (recovery->held))
        if (held->seq > top) {
            zg_gw_answers_push (self->answers, session, held->frame, false, ZG_TOPICS);
            top = held->seq;
        }
    zlistx_purge (recovery->held);
    recovery->waiting = false;
    recovery->floor = top;
}

//  Answer a question with no history: an HTTP client gets status and
//  message, a session its "ok" with recovered false, then what was held
static void
s_self_answer_none (zg_gw_history_t *self, s_question_t *question, int status, const char *message)
{
    if (question->http) {
        json_object *answer = NULL;
        json_object *body = json_object_new_object ();
        json_object_object_add (body, "message", json_object_new_string (message));
        zg_gw_answers_owner (self->answers, question->owner, true, &answer, status, &body);
        return;
    }
    zg_session_t *session = zg_gw_answers_session (self->answers, question->owner);
    if (!session)
        return;
    if (!question->last)
        json_object_object_add (question->answer, "recovered", json_object_new_boolean (0));
    zg_gw_answers_send_object (self->answers, session, &question->answer, true, ZG_TOPICS);
    s_self_release (self, session, question->topic, 0);
}

//  Send a question; without a reachable topics actor it is answered at once
void
zg_gw_history_ask (zg_gw_history_t *self, uint64_t owner, const char *topic, uint64_t since,
                   const char *epoch, bool last, json_object **answer_p)
{
    assert (self && topic && answer_p);
    s_question_t *question = (s_question_t *) zmalloc (sizeof (s_question_t));
    assert (question);
    question->owner = owner;
    question->http = *answer_p == NULL;
    question->last = last;
    question->topic = strdup (topic);
    question->answer = *answer_p;
    *answer_p = NULL;
    question->deadline = zclock_mono () + self->settings->http_timeout;
    char req [ZG_WIRE_NUMBER_SIZE + 1], number [ZG_WIRE_NUMBER_SIZE];
    snprintf (req, sizeof req, "h%" PRIu64, ++self->next_req);
    zg_wire_format_uint (since, number);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, last? "LAST": "HISTORY");
    zmsg_addstr (msg, req);
    zmsg_addstr (msg, topic);
    if (!last) {
        zmsg_addstr (msg, number);
        zmsg_addstr (msg, epoch);
    }
    if (!self->linked || zg_gw_answers_send (self->answers, self->dealer, &msg) == -1) {
        zmsg_destroy (&msg);
        s_self_answer_none (self, question, ZG_ERR_UNAVAILABLE, "the topics actor is not reachable now");
        s_question_destroy (&question);
        return;
    }
    zhashx_insert (self->questions, req, question);
}

//  Pops the next frame of msg as a string into text (size bytes); "" if none
static void
s_pop_text (zmsg_t *msg, char *text, size_t size)
{
    zframe_t *frame = zmsg_pop (msg);
    size_t length = frame? zframe_size (frame): 0;
    length = length < size? length: size - 1;
    if (frame)
        memcpy (text, zframe_data (frame), length);
    text [length] = 0;
    zframe_destroy (&frame);
}

//  The messages of an answer ([seq][payload] pairs) for an HTTP client
static json_object *
s_self_http_messages (zg_gw_history_t *self, zmsg_t *msg)
{
    json_object *messages = json_object_new_array ();
    char number [ZG_WIRE_NUMBER_SIZE];
    while (zmsg_size (msg) >= 2) {
        s_pop_text (msg, number, sizeof number);
        zframe_t *payload = zmsg_pop (msg);
        json_object *message = json_object_new_object ();
        json_object_object_add (message, "seq", json_object_new_uint64 (strtoull (number, NULL, 10)));
        zg_gw_answers_add_data (self->answers, message, zframe_data (payload), zframe_size (payload));
        json_object_array_add (messages, message);
        zframe_destroy (&payload);
    }
    return messages;
}

//  Push the messages of an answer to a session, as live ones look
static void
s_self_push_messages (zg_gw_history_t *self, zg_session_t *session, const char *topic, const char *epoch,
                      zmsg_t *msg)
{
    char number [ZG_WIRE_NUMBER_SIZE];
    while (zmsg_size (msg) >= 2) {
        s_pop_text (msg, number, sizeof number);
        zframe_t *payload = zmsg_pop (msg);
        zg_frame_t *frame = self->frame_fn (self->frame_arg, topic, zframe_data (payload), zframe_size (payload),
                                            strtoull (number, NULL, 10), epoch, session->msgpack);
        zg_gw_answers_push (self->answers, session, frame, false, ZG_TOPICS);
        zg_frame_unref (&frame);
        zframe_destroy (&payload);
    }
}

//  An answer [epoch][top][recovered] {[seq][payload]} to a question
static void
s_self_answer (zg_gw_history_t *self, s_question_t *question, zmsg_t *msg)
{
    char epoch [ZG_GW_HISTORY_EPOCH_SIZE], top_text [ZG_WIRE_NUMBER_SIZE], recovered [2];
    s_pop_text (msg, epoch, sizeof epoch);
    s_pop_text (msg, top_text, sizeof top_text);
    s_pop_text (msg, recovered, sizeof recovered);
    uint64_t top = strtoull (top_text, NULL, 10);
    //  A gap that would fill more than half the session's send queue (the
    //  messages' frames estimated at their payload and 128 bytes around it)
    //  would be cut by the slow-client policy: it is not recovered at all
    size_t estimate = zmsg_content_size (msg) + zmsg_size (msg) / 2 * 128;
    if (!question->http && !question->last && estimate > (size_t) self->settings->max_queue_bytes / 2)
        recovered [0] = '0';
    json_object *answer = question->http? json_object_new_object (): question->answer;
    question->answer = NULL;
    if (!question->last && !question->http)
        json_object_object_add (answer, "recovered", json_object_new_boolean (streq (recovered, "1")));
    json_object_object_add (answer, "epoch", json_object_new_string (epoch));
    json_object_object_add (answer, "seq", json_object_new_uint64 (top));
    if (question->http) {
        json_object_object_add (answer, "topic", json_object_new_string (question->topic));
        json_object_object_add (answer, "messages", s_self_http_messages (self, msg));
        json_object *none = NULL;
        zg_gw_answers_owner (self->answers, question->owner, true, &none, 200, &answer);
        return;
    }
    zg_session_t *session = zg_gw_answers_session (self->answers, question->owner);
    if (!session) {
        json_object_put (answer);
        return;
    }
    zg_gw_answers_send_object (self->answers, session, &answer, true, ZG_TOPICS);
    //  An unrecovered gap is not filled in part: the client starts again
    if (question->last || streq (recovered, "1"))
        s_self_push_messages (self, session, question->topic, epoch, msg);
    s_self_release (self, session, question->topic, top);
}

//  One message from the topics actor: [verb][req] then an answer or
//  [code][reason] for ERROR
static void
s_self_handle (zg_gw_history_t *self, zmsg_t *msg)
{
    char verb [16], req [ZG_WIRE_NUMBER_SIZE + 1];
    s_pop_text (msg, verb, sizeof verb);
    s_pop_text (msg, req, sizeof req);
    s_question_t *question = (s_question_t *) zhashx_lookup (self->questions, req);
    if (!question)
        return;                 //  Given up on already
    if (streq (verb, "ERROR")) {
        char code [8], reason [ZG_WIRE_REASON_SIZE];
        s_pop_text (msg, code, sizeof code);
        s_pop_text (msg, reason, sizeof reason);
        s_self_answer_none (self, question, atoi (code), reason);
    }
    else
        s_self_answer (self, question, msg);
    zhashx_delete (self->questions, req);
}

//  Handle every message waiting on the DEALER
static size_t
s_self_read (zg_gw_history_t *self)
{
    size_t handled = 0;
    while (zsock_events (self->dealer) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->dealer);
        if (!msg)
            break;
        s_self_handle (self, msg);
        zmsg_destroy (&msg);
        handled++;
    }
    return handled;
}

size_t
zg_gw_history_drain (zg_gw_history_t *self)
{
    assert (self);
    //  Asking for ZMQ_EVENTS costs as much as a topic message: only while
    //  a question is out (the tick reads late answers to forgotten ones)
    return zhashx_size (self->questions)? s_self_read (self): 0;
}

void
zg_gw_history_tick (zg_gw_history_t *self, int64_t now)
{
    assert (self);
    s_self_read (self);
    if (zhashx_size (self->questions) == 0)
        return;
    zlistx_t *reqs = zhashx_keys (self->questions);
    for (const char *req = (const char *) zlistx_first (reqs); req; req = (const char *) zlistx_next (reqs)) {
        s_question_t *question = (s_question_t *) zhashx_lookup (self->questions, req);
        if (now >= question->deadline) {
            //  An HTTP client has had its 504 from the answers' expiry
            if (!question->http)
                s_self_answer_none (self, question, ZG_ERR_GATEWAY_TIMEOUT, "history did not answer in time");
            zhashx_delete (self->questions, req);
        }
    }
    zlistx_destroy (&reqs);
}

//  --------------------------------------------------------------------------
//  GET /api/topics/{topic}/history, /api/topics/{topic}/last

void
zg_gw_history_http (zg_gw_history_t *self, zg_http_t *http, const char *topic)
{
    assert (self && http && topic);
    size_t length = strlen (topic);
    if (length == 0 || length > (size_t) self->settings->max_topic_size) {
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "invalid topic");
        return;
    }
    size_t path_length = strlen (http->path);
    bool last = path_length >= 5 && streq (http->path + path_length - 5, "/last");
    zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
    json_object *none = NULL;
    zg_gw_history_ask (self, http->id, topic, 0, "", last, &none);
}

//  --------------------------------------------------------------------------
//  Self test of this class: a real topics actor remembers, sessions without
//  a connection take what they get in their send queue, read back here

//  Test frames are "seq:payload"
static zg_frame_t *
s_test_frame (void *arg, const char *topic, const byte *payload, size_t size, uint64_t seq, const char *epoch,
              bool msgpack)
{
    (void) arg;
    (void) topic;
    (void) epoch;
    char text [64];
    int length = snprintf (text, sizeof text, "%" PRIu64 ":%.*s", seq, (int) size, (const char *) payload);
    return zg_frame_new ((const byte *) text, (size_t) length, msgpack);
}

//  The session's queued frames (short text frames) joined by '|', then
//  emptied from the queue
static char *
s_test_take (zg_session_t *session)
{
    char *text = (char *) zmalloc (4096);
    while (session->queue_count) {
        zg_frame_t *frame = session->queue [session->queue_head];
        if (*text)
            strcat (text, "|");
        strncat (text, (const char *) frame->data + 2, frame->data [1]);
        session->queue_head = (session->queue_head + 1) % session->queue_size;
        session->queue_count--;
        session->queued_bytes -= frame->size;
        zg_frame_unref (&frame);
    }
    return text;
}

//  Wait for the answer of the one question out
static void
s_test_wait (zg_gw_history_t *self)
{
    for (int attempt = 0; attempt < 400 && zhashx_size (self->questions); attempt++) {
        zg_gw_history_drain (self);
        zclock_sleep (5);
    }
    assert (zhashx_size (self->questions) == 0);
}

void
zg_gw_history_test (bool verbose)
{
    printf (" * zg_gw_history: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    char error [256];
    zactor_t *topics = zg_topics_new (NULL, NULL);
    assert (zg_actor_set (topics, "history", "t.* 5", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "publishers", "inproc://zg-gwh-test-pub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "inproc-history-requests", "inproc://zg-gwh-test", error, sizeof error) == 0);
    zsock_t *publisher = zsock_new_pub (">inproc://zg-gwh-test-pub");
    while (zg_actor_stat (topics, NULL, NULL, "published") < 1) {
        zstr_sendx (publisher, "probe", "x", NULL);
        zclock_sleep (10);
    }
    zstr_sendx (publisher, "t.a", "m1", NULL);
    zstr_sendx (publisher, "t.a", "m2", NULL);
    zstr_sendx (publisher, "t.a", "m3", NULL);
    while (zg_actor_stat (topics, NULL, NULL, "history_messages") < 3)
        zclock_sleep (10);

    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 65536, .http_timeout = 1000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_history_t *history = zg_gw_history_new (answers, &settings, s_test_frame, NULL);
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, session);

    //  Without the topics actor, a recovery is answered at once: not recovered
    json_object *answer = zg_gw_answers_object ("ok", NULL);
    zg_gw_history_ask (history, session->id, "t.a", 0, "", false, &answer);
    char *text = s_test_take (session);
    assert (streq (text, "{\"op\":\"ok\",\"req\":null,\"recovered\":false}"));
    zstr_free (&text);
    assert (zg_gw_history_connect (history, "topics-subscribers", "inproc://x") == 1);
    assert (zg_gw_history_connect (history, "topics-history", "inproc://zg-gwh-test") == 0);

    //  The subscribe's fields: none, since, last, or bad ones answered with an error
    const struct {
        const char *request;
        int rc;
    } cases [] = {
        { "{}", 0 }, { "{\"last\":true}", 1 }, { "{\"since\":{\"seq\":2,\"epoch\":\"\"}}", 1 },
        { "{\"last\":1}", -1 }, { "{\"since\":{\"seq\":-2,\"epoch\":\"\"}}", -1 }, { "{\"since\":3}", -1 },
        { "{\"since\":{\"seq\":2}}", -1 }, { "{\"since\":{\"seq\":2,\"epoch\":\"0123456789abcdef0\"}}", -1 },
        { "{\"since\":{\"seq\":2,\"epoch\":\"\"},\"last\":true}", -1 }, { NULL }
    };
    for (int index = 0; cases [index].request; index++) {
        json_object *request = json_tokener_parse (cases [index].request);
        uint64_t since = 0;
        char epoch [ZG_GW_HISTORY_EPOCH_SIZE];
        bool last = false;
        assert (zg_gw_history_fields (history, session, request, NULL, &since, epoch, &last) == cases [index].rc);
        json_object_put (request);
    }
    text = s_test_take (session);
    assert (strstr (text, "\"code\":400"));
    zstr_free (&text);

    //  Last value: the answer with the epoch, then the newest message
    answer = zg_gw_answers_object ("ok", NULL);
    zg_gw_history_ask (history, session->id, "t.a", 0, "", true, &answer);
    s_test_wait (history);
    text = s_test_take (session);
    char epoch [ZG_GW_HISTORY_EPOCH_SIZE];
    assert (strncmp (text, "{\"op\":\"ok\",\"req\":null,\"epoch\":\"", 31) == 0);
    memcpy (epoch, text + 31, ZG_GW_HISTORY_EPOCH_SIZE - 1);
    epoch [ZG_GW_HISTORY_EPOCH_SIZE - 1] = 0;
    assert (streq (text + 47, "\",\"seq\":3}|3:m3"));
    zstr_free (&text);

    //  Recovery: live messages are held until the answer, then those it
    //  did not cover follow it; later duplicates are dropped
    zg_gw_history_hold (history, session, "t.a");
    zg_frame_t *live3 = s_test_frame (NULL, "t.a", (const byte *) "m3", 2, 3, epoch, false);
    zg_frame_t *live4 = s_test_frame (NULL, "t.a", (const byte *) "m4", 2, 4, epoch, false);
    assert (zg_gw_history_take (history, session, "t.a", 3, live3));
    assert (zg_gw_history_take (history, session, "t.a", 4, live4));
    assert (!zg_gw_history_take (history, session, "t.b", 4, live4));
    answer = zg_gw_answers_object ("ok", NULL);
    zg_gw_history_ask (history, session->id, "t.a", 1, epoch, false, &answer);
    s_test_wait (history);
    text = s_test_take (session);
    char expected [256];
    snprintf (expected, sizeof expected,
              "{\"op\":\"ok\",\"req\":null,\"recovered\":true,\"epoch\":\"%s\",\"seq\":3}|2:m2|3:m3|4:m4", epoch);
    assert (streq (text, expected));
    zstr_free (&text);
    assert (zg_gw_history_take (history, session, "t.a", 4, live4));
    assert (!zg_gw_history_take (history, session, "t.a", 5, live4));
    assert (!zg_gw_history_take (history, session, "t.a", 4, live4));

    //  A gap too large for the session's send queue is not recovered
    settings.max_queue_bytes = 256;
    zg_gw_history_hold (history, session, "t.a");
    answer = zg_gw_answers_object ("ok", NULL);
    zg_gw_history_ask (history, session->id, "t.a", 0, epoch, false, &answer);
    s_test_wait (history);
    text = s_test_take (session);
    snprintf (expected, sizeof expected, "{\"op\":\"ok\",\"req\":null,\"recovered\":false,\"epoch\":\"%s\",\"seq\":3}",
              epoch);
    assert (streq (text, expected));
    zstr_free (&text);
    settings.max_queue_bytes = 65536;

    //  A topic with no history: not recovered, and what was held follows
    zg_gw_history_hold (history, session, "u");
    answer = zg_gw_answers_object ("ok", NULL);
    zg_gw_history_ask (history, session->id, "u", 1, epoch, false, &answer);
    s_test_wait (history);
    text = s_test_take (session);
    assert (streq (text, "{\"op\":\"ok\",\"req\":null,\"recovered\":false}"));
    zstr_free (&text);

    //  An ended subscription's recovery goes with it
    zg_gw_history_hold (history, session, "t.a");
    zg_gw_history_forget (history, session, "t.a");
    assert (!zg_gw_history_take (history, session, "t.a", 9, live4));

    //  A new subscription's first push carries the epoch, the next ones not
    zg_gw_history_fresh (history, session, "t.a");
    zg_gw_history_fresh (history, session, "t.b");
    assert (!zg_gw_history_first (history, session, "t.c"));
    assert (zg_gw_history_first (history, session, "t.a"));
    assert (!zg_gw_history_first (history, session, "t.a"));
    zg_gw_history_forget (history, session, "t.b");
    assert (!zg_gw_history_first (history, session, "t.b"));

    zg_frame_unref (&live3);
    zg_frame_unref (&live4);
    zg_gw_answers_remove_session (answers, session);
    zg_session_destroy (&session);
    zg_gw_history_destroy (&history);
    zg_gw_history_destroy (&history);
    zg_gw_answers_destroy (&answers);
    zsock_destroy (&publisher);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
