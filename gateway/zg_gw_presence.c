/*  =========================================================================
    zg_gw_presence - the gateway's part of topic presence

    The announcements go on a PUB of their own to the topics actor's XSUB:
    the actor records the web subscribers from them and passes them on to
    the presence topics' subscribers like any message.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_presence.h"
#include "zg_presence.h"

//  A session present on topics
typedef struct {
    char connection [ZG_PRESENCE_UUID_SIZE];    //  Its connection id
    zlistx_t *topics;               //  The topics it is announced on
} s_member_t;

struct _zg_gw_presence_t {
    zg_gw_answers_t *answers;       //  Answers, HTTP transactions
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_presence_t *patterns;        //  Which topics have presence (its patterns only)
    zsock_t *publisher;             //  PUB to the topics' XSUB
    zsock_t *requests;              //  DEALER to the topics' history ROUTER
    zhashx_t *members;              //  Session id -> s_member_t
    zhashx_t *waiting;              //  PRESENCE req -> HTTP transaction id
    uint64_t asked;                 //  PRESENCE requests sent
};

//  --------------------------------------------------------------------------

static void
s_member_destroy (s_member_t **self_p)
{
    s_member_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->topics);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

zg_gw_presence_t *
zg_gw_presence_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings)
{
    assert (answers && settings);
    zg_gw_presence_t *self = (zg_gw_presence_t *) zmalloc (sizeof (zg_gw_presence_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->patterns = zg_presence_new ();
    self->publisher = zsock_new (ZMQ_PUB);
    self->requests = zg_gw_answers_dealer_new ();
    assert (self->publisher);
    self->members = zhashx_new ();
    zhashx_set_destructor (self->members, (zhashx_destructor_fn *) s_member_destroy);
    self->waiting = zhashx_new ();
    return self;
}

//  --------------------------------------------------------------------------

void
zg_gw_presence_destroy (zg_gw_presence_t **self_p)
{
    assert (self_p);
    zg_gw_presence_t *self = *self_p;
    if (self) {
        zg_presence_destroy (&self->patterns);
        zsock_destroy (&self->publisher);
        zsock_destroy (&self->requests);
        zhashx_destroy (&self->members);
        zhashx_destroy (&self->waiting);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

int
zg_gw_presence_connect (zg_gw_presence_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "topics-presence"))
        return zg_presence_set (self->patterns, "presence", value, error, size);
    zsock_t *socket = streq (key, "topics-publishers")? self->publisher:
                      streq (key, "topics-history")? self->requests: NULL;
    if (socket && zsock_connect (socket, "%s", value) == -1) {
        snprintf (error, size, "cannot connect to '%s': %s", value, zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 1;
}

//  --------------------------------------------------------------------------

zsock_t *
zg_gw_presence_socket (zg_gw_presence_t *self)
{
    return self->requests;
}

//  --------------------------------------------------------------------------
//  Announce a join or leave

static void
s_self_announce (zg_gw_presence_t *self, const char *topic, bool joined, const char *connection)
{
    zmsg_t *event = zg_presence_event (topic, joined, connection, "web", NULL);
    zmsg_send (&event, self->publisher);
    zmsg_destroy (&event);
}

//  --------------------------------------------------------------------------

void
zg_gw_presence_joined (zg_gw_presence_t *self, zg_session_t *session, const char *topic, const char *connection)
{
    assert (self && session && topic);
    if (!zg_presence_matches (self->patterns, topic))
        return;
    char key [32];
    snprintf (key, sizeof key, "%" PRIu64, session->id);
    s_member_t *member = (s_member_t *) zhashx_lookup (self->members, key);
    if (!member) {
        member = (s_member_t *) zmalloc (sizeof (s_member_t));
        assert (member);
        if (connection)
            memcpy (member->connection, connection, ZG_PRESENCE_UUID_SIZE - 1);
        else
            zg_presence_uuid4 (member->connection);
        member->topics = zlistx_new ();
        zlistx_set_destructor (member->topics, (zlistx_destructor_fn *) zstr_free);
        zlistx_set_comparator (member->topics, (zlistx_comparator_fn *) strcmp);
        zhashx_insert (self->members, key, member);
    }
    if (!zlistx_find (member->topics, (void *) topic)) {
        zlistx_add_end (member->topics, strdup (topic));
        s_self_announce (self, topic, true, member->connection);
    }
}

//  --------------------------------------------------------------------------

void
zg_gw_presence_left (zg_gw_presence_t *self, zg_session_t *session, const char *topic)
{
    assert (self && session && topic);
    char key [32];
    snprintf (key, sizeof key, "%" PRIu64, session->id);
    s_member_t *member = (s_member_t *) zhashx_lookup (self->members, key);
    void *handle = member? zlistx_find (member->topics, (void *) topic): NULL;
    if (!handle)
        return;
    s_self_announce (self, topic, false, member->connection);
    zlistx_delete (member->topics, handle);
    if (zlistx_size (member->topics) == 0)
        zhashx_delete (self->members, key);
}

//  --------------------------------------------------------------------------

void
zg_gw_presence_http (zg_gw_presence_t *self, zg_http_t *http, const char *topic)
{
    assert (self && http && topic);
    char req [32];
    snprintf (req, sizeof req, "p%" PRIu64, ++self->asked);
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "PRESENCE");
    zmsg_addstr (request, req);
    zmsg_addstr (request, topic);
    if (zg_gw_answers_send (self->answers, self->requests, &request)) {
        zmsg_destroy (&request);
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the topics actor is not reachable now");
        return;
    }
    zhashx_insert (self->waiting, req, (void *) (uintptr_t) http->id);
    zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
}

//  --------------------------------------------------------------------------
//  [PRESENCE][req][json] or [ERROR][req][code][reason]: the HTTP reply (a
//  transaction that has gone, by its 504, gets nothing)

size_t
zg_gw_presence_drain (zg_gw_presence_t *self)
{
    if (!(zsock_events (self->requests) & ZMQ_POLLIN))
        return 0;
    zmsg_t *answer = zmsg_recv (self->requests);
    char *verb = answer? zmsg_popstr (answer): NULL;
    char *req = answer? zmsg_popstr (answer): NULL;
    uint64_t owner = req? (uint64_t) (uintptr_t) zhashx_lookup (self->waiting, req): 0;
    if (owner) {
        zhashx_delete (self->waiting, req);
        char *first = zmsg_popstr (answer);
        char *second = zmsg_popstr (answer);
        json_object *body = NULL, *none = NULL;
        int status = 200;
        if (verb && streq (verb, "PRESENCE") && first)
            body = json_tokener_parse (first);
        else {
            status = first? atoi (first): ZG_ERR_BAD_GATEWAY;
            body = json_object_new_object ();
            json_object_object_add (body, "message", json_object_new_string (second? second: "malformed answer"));
        }
        if (!body) {
            status = ZG_ERR_BAD_GATEWAY;
            body = json_object_new_object ();
            json_object_object_add (body, "message", json_object_new_string ("malformed answer"));
        }
        zg_gw_answers_owner (self->answers, owner, true, &none, status, &body);
        zstr_free (&first);
        zstr_free (&second);
    }
    zstr_free (&verb);
    zstr_free (&req);
    zmsg_destroy (&answer);
    return 1;
}

//  --------------------------------------------------------------------------
//  Self test of this class: web sessions (without connections) announced to
//  a real topics actor, and read back over HTTP

#include "zg_topics.h"

//  The HTTP query of a topic, answered; returns its status and body text
static int
s_test_query (zg_gw_presence_t *self, zg_gw_answers_t *answers, const char *topic, char *text, size_t size)
{
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_GET, "/api/topics/x/presence");
    zg_gw_presence_http (self, http, topic);
    int64_t deadline = zclock_mono () + 5000;
    while (http->status == 0 && zclock_mono () < deadline)
        if (!zg_gw_presence_drain (self))
            zclock_sleep (5);
    int status = http->status;
    snprintf (text, size, "%.*s", (int) http->reply_size, (const char *) http->reply + LWS_PRE);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);
    return status;
}

void
zg_gw_presence_test (bool verbose)
{
    printf (" * zg_gw_presence: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 65536, .http_timeout = 5000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zactor_t *topics = zg_topics_new (NULL, NULL);
    char error [256];
    assert (zg_actor_set (topics, "presence", "news chat.*", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "inproc-publishers", "inproc://zg-gw-presence-pub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "inproc-subscribers", "inproc://zg-gw-presence-sub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "inproc-history-requests", "inproc://zg-gw-presence-history", error,
                          sizeof error) == 0);
    zg_gw_presence_t *presence = zg_gw_presence_new (answers, &settings);
    assert (zg_gw_presence_connect (presence, "topics-presence", "a*b", error, sizeof error) == -1);
    assert (zg_gw_presence_connect (presence, "topics-presence", "news chat.*", error, sizeof error) == 0);
    assert (zg_gw_presence_connect (presence, "topics-publishers", "inproc://zg-gw-presence-pub", error,
                                    sizeof error) == 1);
    assert (zg_gw_presence_connect (presence, "topics-history", "inproc://zg-gw-presence-history", error,
                                    sizeof error) == 1);
    assert (zg_gw_presence_connect (presence, "max-depth", "8", error, sizeof error) == 1);
    assert (zg_gw_presence_socket (presence));
    zsock_t *listener = zsock_new_sub (">inproc://zg-gw-presence-sub", ZG_PRESENCE_TOPIC);
    zsock_set_rcvtimeo (listener, 2000);
    //  The PUB's subscription from the actor's XSUB, and the listener's, arrive
    zclock_sleep (200);

    //  A session joins two topics, one without presence: one announcement,
    //  with a connection id of its own, and the query lists it
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_presence_joined (presence, session, "news", NULL);
    zg_gw_presence_joined (presence, session, "news", NULL);
    zg_gw_presence_joined (presence, session, "weather", NULL);
    char *topic = NULL, *event = NULL;
    assert (zstr_recvx (listener, &topic, &event, NULL) == 2);
    assert (streq (topic, "$zgate.presence.news") && strstr (event, "\"event\":\"join\"")
         && strstr (event, "\"kind\":\"web\""));
    zstr_free (&topic);
    char text [1024];
    assert (s_test_query (presence, answers, "news", text, sizeof text) == 200);
    assert (strstr (text, "\"kind\":\"web\"") && strstr (text, "\"topic\":\"news\""));
    //  The same connection id in the event and the query
    const char *listed = strstr (text, "\"connection\":\"");
    const char *announced = strstr (event, "\"connection\":\"");
    assert (listed && announced && memcmp (listed, announced, 14 + ZG_PRESENCE_UUID_SIZE - 1) == 0);
    if (verbose)
        printf ("%s ", text);
    zstr_free (&event);
    //  A go-wsqueue subscriber is announced with its own connection id
    zg_session_t *wsqueue = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    char connection [ZG_PRESENCE_UUID_SIZE];
    zg_presence_uuid4 (connection);
    zg_gw_presence_joined (presence, wsqueue, "chat.room", connection);
    assert (zstr_recvx (listener, &topic, &event, NULL) == 2);
    assert (strstr (event, connection));
    zstr_free (&topic);
    zstr_free (&event);
    //  Leaving is announced, and the query finds no one; a topic without
    //  presence is 404
    zg_gw_presence_left (presence, session, "news");
    zg_gw_presence_left (presence, session, "news");
    assert (zstr_recvx (listener, &topic, &event, NULL) == 2);
    assert (strstr (event, "\"event\":\"leave\""));
    zstr_free (&topic);
    zstr_free (&event);
    assert (s_test_query (presence, answers, "news", text, sizeof text) == 200);
    assert (strstr (text, "\"present\":[]"));
    assert (s_test_query (presence, answers, "weather", text, sizeof text) == 404);

    zg_gw_presence_left (presence, wsqueue, "chat.room");
    zg_session_destroy (&session);
    zg_session_destroy (&wsqueue);
    zsock_destroy (&listener);
    zg_gw_presence_destroy (&presence);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&topics);
    //  @end
    printf ("OK\n");
}
