/*  =========================================================================
    zg_gw_wsqueue - go-wsqueue's WebSocket endpoints on the gateway

    A topic message is made into one envelope, encoded once and shared by
    every endpoint session of its topic (the seed's Publish, one id for all
    subscribers). The SUB subscribes to a topic while an endpoint session
    wants it and drops the longer topics its prefix also matches. Each
    queue consumer is a logical worker of the queues actor, named by its
    connection id, with prefetch 1: the next message comes once it acked.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_wsqueue.h"
#include "zg_wsqenv.h"

//  How often the consumers ping the queues actor, ms (its heartbeat)
#define ZG_GW_WSQUEUE_HEARTBEAT 1000
//  Longest host name in the envelopes
#define ZG_GW_WSQUEUE_HOST_SIZE 256

//  An endpoint session's part
struct _zg_gw_wsq_session_t {
    bool queue;                     //  A queue consumer, else a topic subscriber
    char *name;                     //  Its topic or queue
    char id [ZG_WSQENV_UUID_SIZE];  //  Connection id (UUIDv4), the worker's name
    zhashx_t *unacked;              //  Envelope id -> task id (consumers)
};

struct _zg_gw_wsqueue_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_gw_presence_t *presence;     //  Topic presence, or NULL
    zsock_t *subscriber;            //  SUB to the topics' XPUB
    zsock_t *publisher;             //  PUB to the topics' XSUB (the inbox topic)
    zsock_t *workers;               //  DEALER to the queues' workers side
    zsock_t *producers;             //  DEALER to the queues' producers side (the inbox queue)
    zhashx_t *topics;               //  Topic -> zlistx_t of subscribed sessions
    zhashx_t *consumers;            //  Connection id -> consumer session
    char *inbox_topic;              //  Inbox: a topic, or NULL
    char *inbox_queue;              //  Inbox: a queue, or NULL
    char host [ZG_GW_WSQUEUE_HOST_SIZE];    //  This host, for the envelopes
    int64_t next_ping;              //  When the consumers ping next, monotonic ms
};

//  --------------------------------------------------------------------------

zg_gw_wsqueue_t *
zg_gw_wsqueue_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings, zg_gw_presence_t *presence)
{
    assert (answers && settings);
    zg_gw_wsqueue_t *self = (zg_gw_wsqueue_t *) zmalloc (sizeof (zg_gw_wsqueue_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->presence = presence;
    self->subscriber = zsock_new (ZMQ_SUB);
    self->publisher = zsock_new (ZMQ_PUB);
    self->workers = zg_gw_answers_dealer_new ();
    self->producers = zg_gw_answers_dealer_new ();
    assert (self->subscriber && self->publisher);
    self->topics = zhashx_new ();
    zhashx_set_destructor (self->topics, (zhashx_destructor_fn *) zlistx_destroy);
    self->consumers = zhashx_new ();
    if (gethostname (self->host, sizeof self->host - 1))
        strcpy (self->host, "localhost");
    return self;
}

//  --------------------------------------------------------------------------

void
zg_gw_wsqueue_destroy (zg_gw_wsqueue_t **self_p)
{
    assert (self_p);
    zg_gw_wsqueue_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->subscriber);
        zsock_destroy (&self->publisher);
        zsock_destroy (&self->workers);
        zsock_destroy (&self->producers);
        zhashx_destroy (&self->topics);
        zhashx_destroy (&self->consumers);
        free (self->inbox_topic);
        free (self->inbox_queue);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

int
zg_gw_wsqueue_connect (zg_gw_wsqueue_t *self, const char *key, const char *endpoint)
{
    zsock_t *socket = streq (key, "topics-subscribers")? self->subscriber:
                      streq (key, "topics-publishers")? self->publisher:
                      streq (key, "queues-workers")? self->workers:
                      streq (key, "queues-producers")? self->producers: NULL;
    if (!socket)
        return 1;
    return zsock_connect (socket, "%s", endpoint) == -1? -1: 0;
}

//  --------------------------------------------------------------------------

int
zg_gw_wsqueue_set (zg_gw_wsqueue_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (strneq (key, "wsqueue-inbox"))
        return 1;
    bool topic = strncmp (value, "topic:", 6) == 0;
    bool queue = strncmp (value, "queue:", 6) == 0;
    if (*value && (!(topic || queue) || !value [6]
               ||  (int64_t) strlen (value + 6) > self->settings->max_topic_size)) {
        snprintf (error, size, "'%s' is not \"\", topic:NAME or queue:NAME", value);
        return -1;
    }
    zstr_free (&self->inbox_topic);
    zstr_free (&self->inbox_queue);
    if (topic)
        self->inbox_topic = strdup (value + 6);
    if (queue)
        self->inbox_queue = strdup (value + 6);
    return 0;
}

//  --------------------------------------------------------------------------

zsock_t *
zg_gw_wsqueue_socket (zg_gw_wsqueue_t *self, size_t index)
{
    zsock_t *sockets [] = { self->subscriber, self->workers, self->producers };
    return index < 3? sockets [index]: NULL;
}

//  --------------------------------------------------------------------------
//  The kind and name of an endpoint path: the name after {prefix}/wsqueue/
//  topic/ or queue/, or NULL

static const char *
s_path_name (const char *path, bool *queue)
{
    const char *topic = strstr (path, "/wsqueue/topic/");
    const char *consumer = strstr (path, "/wsqueue/queue/");
    *queue = consumer && !topic;
    const char *name = topic? topic + 15: consumer? consumer + 15: NULL;
    return name && *name? name: NULL;
}

bool
zg_gw_wsqueue_path (const char *path)
{
    bool queue;
    return s_path_name (path, &queue) != NULL;
}

//  --------------------------------------------------------------------------
//  The sessions subscribed to a topic, or NULL

static zlistx_t *
s_self_subscribers (zg_gw_wsqueue_t *self, const char *topic)
{
    return (zlistx_t *) zhashx_lookup (self->topics, topic);
}

//  --------------------------------------------------------------------------

void
zg_gw_wsqueue_session_opened (zg_gw_wsqueue_t *self, zg_session_t *session, const char *path)
{
    assert (self && session && path);
    bool queue;
    const char *name = s_path_name (path, &queue);
    if (!name)
        return;
    zg_gw_wsq_session_t *state = (zg_gw_wsq_session_t *) zmalloc (sizeof (zg_gw_wsq_session_t));
    assert (state);
    state->queue = queue;
    state->name = strdup (name);
    zg_presence_uuid4 (state->id);
    session->wsqueue = state;
    if (queue) {
        state->unacked = zhashx_new ();
        zhashx_set_destructor (state->unacked, (zhashx_destructor_fn *) zstr_free);
        zhashx_insert (self->consumers, state->id, session);
        //  READY {"queues": [name], "prefetch": 1}
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
        msgpack_pack_map (&packer, 2);
        msgpack_pack_str_with_body (&packer, "queues", 6);
        msgpack_pack_array (&packer, 1);
        msgpack_pack_str_with_body (&packer, name, strlen (name));
        msgpack_pack_str_with_body (&packer, "prefetch", 8);
        msgpack_pack_int (&packer, 1);
        zmsg_t *ready = zmsg_new ();
        zmsg_addstr (ready, "READY");
        zmsg_addstr (ready, state->id);
        zmsg_addmem (ready, buffer.data, buffer.size);
        zg_gw_answers_send_held (self->answers, self->workers, &ready);
        zmsg_destroy (&ready);
        msgpack_sbuffer_destroy (&buffer);
        return;
    }
    zlistx_t *sessions = s_self_subscribers (self, name);
    if (!sessions) {
        sessions = zlistx_new ();
        zhashx_insert (self->topics, name, sessions);
        zsock_set_subscribe (self->subscriber, name);
    }
    zlistx_add_end (sessions, session);
    if (self->presence)
        zg_gw_presence_joined (self->presence, session, name, state->id);
}

//  --------------------------------------------------------------------------
//  A frame a topic subscriber sent, to the inbox with its connection id:
//  {"connection": id, "topic": name, "message": the frame (JSON, or text)}

static void
s_self_to_inbox (zg_gw_wsqueue_t *self, zg_gw_wsq_session_t *state, const void *data, size_t size)
{
    if (!self->inbox_topic && !self->inbox_queue)
        return;
    json_object *inbound = json_object_new_object ();
    json_object_object_add (inbound, "connection", json_object_new_string (state->id));
    json_object_object_add (inbound, "topic", json_object_new_string (state->name));
    json_object *message = zg_wsqenv_parse (data, size);
    if (!message)
        message = json_object_new_string_len ((const char *) data, (int) size);
    json_object_object_add (inbound, "message", message);
    const char *text = json_object_to_json_string_ext (inbound, JSON_C_TO_STRING_PLAIN
                                                               | JSON_C_TO_STRING_NOSLASHESCAPE);
    zmsg_t *msg = zmsg_new ();
    if (self->inbox_topic) {
        zmsg_addstr (msg, self->inbox_topic);
        zmsg_addstr (msg, text);
        zmsg_send (&msg, self->publisher);
    }
    else {
        //  Fire and forget (empty req): a refusal comes back and is dropped
        zmsg_addstr (msg, "SEND");
        zmsg_addstr (msg, "");
        zmsg_addstr (msg, self->inbox_queue);
        zmsg_addstr (msg, "");
        zmsg_addstr (msg, text);
        zg_gw_answers_send_held (self->answers, self->producers, &msg);
    }
    zmsg_destroy (&msg);
    json_object_put (inbound);
}

//  --------------------------------------------------------------------------

void
zg_gw_wsqueue_message (zg_gw_wsqueue_t *self, zg_session_t *session, const void *data, size_t size)
{
    assert (self && session && session->wsqueue);
    zg_gw_wsq_session_t *state = session->wsqueue;
    if (!state->queue) {
        s_self_to_inbox (self, state, data, size);
        return;
    }
    char id [ZG_WSQENV_UUID_SIZE];
    const char *task = zg_wsqenv_id (data, size, id) == 0? (const char *) zhashx_lookup (state->unacked, id): NULL;
    if (task) {
        zstr_sendx (self->workers, "ACK", state->id, task, NULL);
        zhashx_delete (state->unacked, id);
    }
}

//  --------------------------------------------------------------------------

void
zg_gw_wsqueue_session_closed (zg_gw_wsqueue_t *self, zg_session_t *session)
{
    assert (self && session);
    zg_gw_wsq_session_t *state = session->wsqueue;
    if (!state)
        return;
    if (state->queue) {
        //  Its unacked messages go back to the head of the queue
        zstr_sendx (self->workers, "BYE", state->id, NULL);
        zhashx_delete (self->consumers, state->id);
        zhashx_destroy (&state->unacked);
    }
    else {
        if (self->presence)
            zg_gw_presence_left (self->presence, session, state->name);
        zlistx_t *sessions = s_self_subscribers (self, state->name);
        void *handle = sessions? zlistx_find (sessions, session): NULL;
        if (handle)
            zlistx_delete (sessions, handle);
        if (sessions && zlistx_size (sessions) == 0) {
            zsock_set_unsubscribe (self->subscriber, state->name);
            zhashx_delete (self->topics, state->name);
        }
    }
    free (state->name);
    free (state);
    session->wsqueue = NULL;
}

//  --------------------------------------------------------------------------
//  A topic message [topic][payload][...]: one envelope to every session of
//  exactly that topic

static void
s_self_topic_message (zg_gw_wsqueue_t *self, zmsg_t *msg)
{
    char *topic = zmsg_popstr (msg);
    zframe_t *payload = zmsg_pop (msg);
    zlistx_t *sessions = topic && payload? s_self_subscribers (self, topic): NULL;
    if (sessions) {
        json_object *envelope = zg_wsqenv_new (zframe_data (payload), zframe_size (payload), self->host,
                                               zclock_time (), NULL);
        zg_frame_t *frame = zg_gw_answers_frame (self->answers, envelope, false);
        for (zg_session_t *session = (zg_session_t *) zlistx_first (sessions); session;
             session = (zg_session_t *) zlistx_next (sessions))
            zg_gw_answers_push (self->answers, session, frame, false, ZG_TOPICS);
        zg_frame_unref (&frame);
        json_object_put (envelope);
    }
    zstr_free (&topic);
    zframe_destroy (&payload);
}

//  --------------------------------------------------------------------------
//  A message to a consumer: DELIVER [worker][id][meta][payload] becomes an
//  envelope it must ack; an ERROR (a refused READY, or the worker declared
//  dead) closes its session, except a refused late ack (409), which ends
//  nothing: that task is someone else's now

static void
s_self_worker_message (zg_gw_wsqueue_t *self, zmsg_t *msg)
{
    char *command = zmsg_popstr (msg);
    char *worker = zmsg_popstr (msg);
    zg_session_t *session = worker? (zg_session_t *) zhashx_lookup (self->consumers, worker): NULL;
    if (session && streq (command, "DELIVER") && zmsg_size (msg) == 3) {
        char *task = zmsg_popstr (msg);
        zframe_t *meta = zmsg_pop (msg);
        zframe_t *payload = zmsg_pop (msg);
        char id [ZG_WSQENV_UUID_SIZE];
        json_object *envelope = zg_wsqenv_new (zframe_data (payload), zframe_size (payload), self->host,
                                               zclock_time (), id);
        zhashx_update (session->wsqueue->unacked, id, task);
        zg_frame_t *frame = zg_gw_answers_frame (self->answers, envelope, false);
        //  A task is never dropped: a consumer that cannot take it is closed
        zg_gw_answers_push (self->answers, session, frame, true, ZG_QUEUES);
        zg_frame_unref (&frame);
        json_object_put (envelope);
        zframe_destroy (&meta);
        zframe_destroy (&payload);
    }
    else
    if (session && streq (command, "ERROR") && !zframe_streq (zmsg_first (msg), "409")) {
        char *code = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        zsys_warning ("zg_gateway: wsqueue consumer of '%s' refused: %s %s", session->wsqueue->name,
                      code? code: "", reason? reason: "");
        zg_gw_answers_close (session, 1008, "the queue refused this consumer");
        zstr_free (&code);
        zstr_free (&reason);
    }
    zstr_free (&command);
    zstr_free (&worker);
}

//  --------------------------------------------------------------------------

size_t
zg_gw_wsqueue_drain (zg_gw_wsqueue_t *self, bool *more)
{
    zsock_t *socket = NULL;
    for (size_t index = 0; !socket && zg_gw_wsqueue_socket (self, index); index++)
        if (zsock_events (zg_gw_wsqueue_socket (self, index)) & ZMQ_POLLIN)
            socket = zg_gw_wsqueue_socket (self, index);
    if (!socket)
        return 0;
    zmsg_t *msg = zmsg_recv (socket);
    if (msg && socket == self->subscriber)
        s_self_topic_message (self, msg);
    else
    if (msg && socket == self->workers)
        s_self_worker_message (self, msg);
    //  The producers' DEALER only gets the inbox queue's refusals
    zmsg_destroy (&msg);
    *more = true;
    return 1;
}

//  --------------------------------------------------------------------------

void
zg_gw_wsqueue_tick (zg_gw_wsqueue_t *self, int64_t now)
{
    if (now < self->next_ping)
        return;
    for (void *session = zhashx_first (self->consumers); session; session = zhashx_next (self->consumers))
        zstr_sendx (self->workers, "PING", (const char *) zhashx_cursor (self->consumers), NULL);
    self->next_ping = now + ZG_GW_WSQUEUE_HEARTBEAT;
}

//  --------------------------------------------------------------------------
//  Self test of this class: endpoint sessions (without connections) of a
//  real topics actor and queues actor

//  Drain the bridge until a session has frames queued, or 5 seconds
static void
s_test_wait (zg_gw_wsqueue_t *self, zg_session_t *session, uint32_t frames)
{
    int64_t deadline = zclock_mono () + 5000;
    while (session->queue_count < frames && zclock_mono () < deadline) {
        bool more = false;
        if (!zg_gw_wsqueue_drain (self, &more))
            zclock_sleep (5);
    }
    assert (session->queue_count == frames);
}

//  The text of the oldest frame queued on a session (unmasked server frames:
//  a 2, 4 or 10 byte header)
static void
s_test_oldest (zg_session_t *session, char *text, size_t size)
{
    zg_frame_t *frame = session->queue [session->queue_head];
    size_t header = (frame->data [1] & 0x7f) < 126? 2: (frame->data [1] & 0x7f) == 126? 4: 10;
    snprintf (text, size, "%.*s", (int) (frame->size - header), (const char *) frame->data + header);
}

void
zg_gw_wsqueue_test (bool verbose)
{
    printf (" * zg_gw_wsqueue: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_topic_size = 255, .max_queue_bytes = 65536,
                                  .http_timeout = 5000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zactor_t *topics = zg_topics_new (NULL, NULL);
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (topics, "publishers", "inproc://zg-gw-wsqueue-pub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "subscribers", "inproc://zg-gw-wsqueue-sub", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "producers", "inproc://zg-gw-wsqueue-producers", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "workers", "inproc://zg-gw-wsqueue-workers", error, sizeof error) == 0);
    zg_gw_wsqueue_t *wsqueue = zg_gw_wsqueue_new (answers, &settings, NULL);
    assert (zg_gw_wsqueue_connect (wsqueue, "rooms-clients", "inproc://x") == 1);
    assert (zg_gw_wsqueue_connect (wsqueue, "topics-subscribers", "inproc://zg-gw-wsqueue-sub") == 0);
    assert (zg_gw_wsqueue_connect (wsqueue, "topics-publishers", "inproc://zg-gw-wsqueue-pub") == 0);
    assert (zg_gw_wsqueue_connect (wsqueue, "queues-workers", "inproc://zg-gw-wsqueue-workers") == 0);
    assert (zg_gw_wsqueue_connect (wsqueue, "queues-producers", "inproc://zg-gw-wsqueue-producers") == 0);
    assert (zg_gw_wsqueue_set (wsqueue, "other", "", error, sizeof error) == 1);
    assert (zg_gw_wsqueue_set (wsqueue, "wsqueue-inbox", "mailbox", error, sizeof error) == -1);
    assert (zg_gw_wsqueue_set (wsqueue, "wsqueue-inbox", "topic:", error, sizeof error) == -1);
    assert (zg_gw_wsqueue_set (wsqueue, "wsqueue-inbox", "topic:inbox", error, sizeof error) == 0);
    assert (zg_gw_wsqueue_path ("/wsqueue/topic/news") && zg_gw_wsqueue_path ("/api/wsqueue/queue/jobs"));
    assert (!zg_gw_wsqueue_path ("/ws") && !zg_gw_wsqueue_path ("/wsqueue/topic/"));

    //  A subscriber of "news" gets its messages as envelopes, not those of
    //  "newsroom", which its SUB prefix also matches
    zg_session_t *reader = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, reader);
    zg_gw_wsqueue_session_opened (wsqueue, reader, "/prefix/wsqueue/topic/news");
    assert (reader->wsqueue && !reader->wsqueue->queue && reader->wsqueue->id [14] == '4');
    zsock_t *publisher = zsock_new_pub (">inproc://zg-gw-wsqueue-pub");
    zsock_t *inbox = zsock_new_sub (">inproc://zg-gw-wsqueue-sub", "inbox");
    int64_t deadline = zclock_mono () + 5000;
    while (reader->queue_count == 0 && zclock_mono () < deadline) {
        zstr_sendx (publisher, "newsroom", "not this", NULL);
        zstr_sendx (publisher, "news", "{\"headline\":1}", NULL);
        zclock_sleep (20);
        bool more = false;
        while (zg_gw_wsqueue_drain (wsqueue, &more))
            ;
    }
    assert (reader->queue_count >= 1);
    char envelope [512];
    s_test_oldest (reader, envelope, sizeof envelope);
    assert (strstr (envelope, "\"content-type\":\"application/json\"") && strstr (envelope, "headline"));
    //  A frame it sends reaches the inbox topic with its connection id
    zsock_set_rcvtimeo (inbox, 100);
    char *inbound = NULL;
    deadline = zclock_mono () + 5000;
    while (!inbound && zclock_mono () < deadline) {
        zg_gw_wsqueue_message (wsqueue, reader, "{\"data\":\"hi\"}", 13);
        char *topic = NULL;
        zstr_recvx (inbox, &topic, &inbound, NULL);
        zstr_free (&topic);
    }
    assert (inbound && strstr (inbound, reader->wsqueue->id) && strstr (inbound, "\"topic\":\"news\""));
    if (verbose)
        printf ("%s ", inbound);
    zstr_free (&inbound);

    //  A consumer gets one task at a time and acks it by its envelope id
    zg_session_t *consumer = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, consumer);
    zg_gw_wsqueue_session_opened (wsqueue, consumer, "/wsqueue/queue/jobs");
    zsock_t *producer = zsock_new_dealer (">inproc://zg-gw-wsqueue-producers");
    zstr_sendx (producer, "SEND", "", "jobs", "", "one", NULL);
    zstr_sendx (producer, "SEND", "", "jobs", "", "two", NULL);
    s_test_wait (wsqueue, consumer, 1);
    zsock_set_rcvtimeo (producer, 0);
    char text [512];
    s_test_oldest (consumer, text, sizeof text);
    assert (strstr (text, "\"data\":\"one\""));
    char id [ZG_WSQENV_UUID_SIZE];
    assert (zg_wsqenv_id (text, strlen (text), id) == 0);
    zg_gw_wsqueue_message (wsqueue, consumer, "{}", 2);
    zg_gw_wsqueue_tick (wsqueue, zclock_mono ());
    zclock_sleep (100);
    bool more = false;
    while (zg_gw_wsqueue_drain (wsqueue, &more))
        ;
    assert (consumer->queue_count == 1);
    zg_gw_wsqueue_message (wsqueue, consumer, text, strlen (text));
    s_test_wait (wsqueue, consumer, 2);

    zg_gw_wsqueue_session_closed (wsqueue, consumer);
    zg_gw_wsqueue_session_closed (wsqueue, reader);
    assert (!reader->wsqueue && !consumer->wsqueue);
    zg_gw_answers_remove_session (answers, reader);
    zg_gw_answers_remove_session (answers, consumer);
    zg_session_destroy (&reader);
    zg_session_destroy (&consumer);
    zsock_destroy (&producer);
    zsock_destroy (&publisher);
    zsock_destroy (&inbox);
    zg_gw_wsqueue_destroy (&wsqueue);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&queues);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
