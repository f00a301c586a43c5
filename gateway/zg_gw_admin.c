/*  =========================================================================
    zg_gw_admin - the admin API over HTTP

    Which of the three a request names is the path's segment after
    /api/admin/; the actors answer within http-timeout, like the other
    routes that wait for them.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_admin.h"

//  Most pull subscribers one list shows
#define ZG_GW_ADMIN_MAX_LIST 10000
//  METRICS' top for "every room": the rooms actor cuts it to max-top-rooms
#define ZG_GW_ADMIN_ALL_ROOMS "100000000"

struct _zg_gw_admin_t {
    zg_gw_answers_t *answers;       //  Answers and the settings
    zg_gw_topics_t *topics;         //  Pull subscribers
    zg_gw_queues_t *queues;         //  The queues actor
    zg_gw_rooms_t *rooms;           //  The rooms actor
};

//  What an admin path names
typedef enum { S_QUEUES, S_ROOMS, S_PULL, S_NOTHING } s_kind_t;

//  --------------------------------------------------------------------------
//  Create the admin API

zg_gw_admin_t *
zg_gw_admin_new (zg_gw_answers_t *answers, zg_gw_topics_t *topics, zg_gw_queues_t *queues, zg_gw_rooms_t *rooms)
{
    assert (answers && topics && queues && rooms);
    zg_gw_admin_t *self = (zg_gw_admin_t *) zmalloc (sizeof (zg_gw_admin_t));
    assert (self);
    self->answers = answers;
    self->topics = topics;
    self->queues = queues;
    self->rooms = rooms;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_gw_admin_destroy (zg_gw_admin_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  What a path names

static s_kind_t
s_kind (const char *path)
{
    const char *names [] = { "/api/admin/queues", "/api/admin/rooms", "/api/admin/pull" };
    for (int kind = S_QUEUES; kind < S_NOTHING; kind++) {
        size_t size = strlen (names [kind]);
        if (strncmp (path, names [kind], size) == 0 && (path [size] == 0 || path [size] == '/'))
            return (s_kind_t) kind;
    }
    return S_NOTHING;
}

//  --------------------------------------------------------------------------
//  Send a request to the queues or rooms actor; the answer comes later

static void
s_request (zg_gw_admin_t *self, zg_http_t *http, s_kind_t kind, const char *command, zg_pending_kind_t pending,
           zmsg_t *fields)
{
    int rc = kind == S_QUEUES? zg_gw_queues_admin (self->queues, command, pending, http->id, &fields):
                               zg_gw_rooms_admin (self->rooms, command, pending, http->id, &fields);
    zmsg_destroy (&fields);
    if (rc)
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, kind == S_QUEUES? "the queues actor is not reachable now":
                                                                         "the rooms actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, zg_gw_answers_settings (self->answers)->http_timeout);
}

//  --------------------------------------------------------------------------
//  GET /api/admin/...: a list

void
zg_gw_admin_list (zg_gw_admin_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    s_kind_t kind = s_kind (http->path);
    zmsg_t *fields = zmsg_new ();
    if (kind == S_PULL) {
        json_object *body = json_object_new_object ();
        json_object_object_add (body, "subscribers", zg_gw_topics_pull_list (self->topics, ZG_GW_ADMIN_MAX_LIST));
        zg_http_reply_json (http, 200, body);
        json_object_put (body);
        zmsg_destroy (&fields);
    }
    else
    if (kind == S_QUEUES)
        s_request (self, http, kind, "STATS", ZG_PENDING_ADMIN_LIST, fields);
    else {
        zmsg_addstr (fields, ZG_GW_ADMIN_ALL_ROOMS);
        s_request (self, http, kind, "METRICS", ZG_PENDING_ADMIN_LIST, fields);
    }
}

//  --------------------------------------------------------------------------
//  A boolean query argument: 0 false or absent, 1 true, -1 neither (a bare
//  name included: it says nothing)

static int
s_query_flag (zg_http_t *http, const char *name)
{
    const char *value = zg_query_value (http->query, name);
    return !value || streq (value, "false")? 0: streq (value, "true")? 1: -1;
}

//  --------------------------------------------------------------------------
//  DELETE /api/admin/.../{name}

void
zg_gw_admin_delete (zg_gw_admin_t *self, zg_http_t *http, const char *param)
{
    s_kind_t kind = s_kind (http->path);
    if (kind == S_PULL) {
        if (zg_gw_topics_pull_remove (self->topics, param))
            zg_http_reply_message (http, 200, "deleted");
        else
            zg_http_reply_message (http, ZG_ERR_NOT_FOUND, "no such pull subscriber");
        return;
    }
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, param);
    if (kind == S_QUEUES) {
        int if_empty = s_query_flag (http, "if-empty");
        int if_unused = s_query_flag (http, "if-unused");
        if (if_empty < 0 || if_unused < 0) {
            zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "if-empty and if-unused are true or false");
            zmsg_destroy (&fields);
            return;
        }
        //  {"if-empty": bool, "if-unused": bool} as msgpack: a map of two
        byte options [] = { 0x82, 0xa8, 'i', 'f', '-', 'e', 'm', 'p', 't', 'y', 0xc2,
                            0xa9, 'i', 'f', '-', 'u', 'n', 'u', 's', 'e', 'd', 0xc2 };
        options [10] = if_empty? 0xc3: 0xc2;
        options [21] = if_unused? 0xc3: 0xc2;
        zmsg_addmem (fields, options, sizeof options);
    }
    s_request (self, http, kind, "DELETE", ZG_PENDING_ADMIN_DELETE, fields);
}

//  --------------------------------------------------------------------------
//  Self test of this class: the routes with real queues and rooms actors

//  Serve a request and wait for its answer; returns the status
static int
s_test_serve (zg_gw_admin_t *admin, zg_gw_queues_t *queues, zg_gw_rooms_t *rooms, zg_gw_admin_route_fn *route,
              const char *path, const char *param, json_object **body_p)
{
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (admin->answers), ZG_HTTP_GET, path);
    route (admin, http, param);
    int64_t deadline = zclock_mono () + 5000;
    while (http->status == 0 && zclock_mono () < deadline) {
        bool more;
        zg_gw_queues_drain (queues, &more);
        zg_gw_rooms_drain (rooms, &more);
        zclock_sleep (1);
    }
    int status = http->status;
    //  The reply body follows LWS_PRE bytes and is NUL ended
    if (body_p)
        *body_p = http->reply? json_tokener_parse ((const char *) http->reply + LWS_PRE): NULL;
    zg_gw_answers_forget (admin->answers, http);
    zg_http_destroy (&http);
    return status;
}

void
zg_gw_admin_test (bool verbose)
{
    printf (" * zg_gw_admin: ");
    zg_gw_settings_t settings = { .max_depth = 8, .max_subscriptions = 4, .max_queue_bytes = 65536,
                                  .http_timeout = 5000, .pull_buffer_size = 4, .max_pull_subscribers = 4,
                                  .max_pull_subscribers_per_address = 4, .pull_idle_timeout = 60000,
                                  .max_topic_size = 64 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_topics_t *topics = zg_gw_topics_new (answers, &settings);
    zg_gw_queues_t *queues = zg_gw_queues_new (answers, &settings);
    zg_gw_rooms_t *rooms = zg_gw_rooms_new (answers, &settings);
    zg_gw_admin_t *admin = zg_gw_admin_new (answers, topics, queues, rooms);

    //  Not linked: 503 at once; pull subscribers are the gateway's own
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_list, "/api/admin/queues", "", NULL) == 503);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/rooms/r", "r", NULL) == 503);
    json_object *body = NULL;
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_list, "/api/admin/pull", "", &body) == 200);
    assert (body && json_object_array_length (json_object_object_get (body, "subscribers")) == 0);
    json_object_put (body);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/pull/x", "x", NULL) == 404);

    //  Linked to real actors: a queue with a waiting task is listed, then
    //  deleted (its task dropped); an unknown room is 404
    zactor_t *queue_actor = zg_queues_new ();
    zactor_t *room_actor = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (queue_actor, "verbose", verbose? "1": "0", error, sizeof error) == 0);
    assert (zg_actor_set (queue_actor, "producers", "inproc://zg-gw-admin-test-p", error, sizeof error) == 0);
    assert (zg_actor_set (room_actor, "clients", "inproc://zg-gw-admin-test-r", error, sizeof error) == 0);
    assert (zg_gw_queues_connect (queues, "queues-producers", "inproc://zg-gw-admin-test-p") == 0);
    assert (zg_gw_rooms_connect (rooms, "rooms-clients", "inproc://zg-gw-admin-test-r") == 0);
    zsock_t *producer = zsock_new_dealer (">inproc://zg-gw-admin-test-p");
    zstr_sendx (producer, "SEND", "1", "junk", "", "data", NULL);
    char *ok = zstr_recv (producer);
    assert (ok && streq (ok, "OK"));
    zstr_free (&ok);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_list, "/api/admin/queues", "", &body) == 200);
    json_object *junk = json_object_object_get (json_object_object_get (body, "queues"), "junk");
    assert (junk && json_object_get_int64 (json_object_object_get (junk, "waiting")) == 1);
    json_object_put (body);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/queues/junk", "junk", &body)
            == 200);
    assert (json_object_get_int64 (json_object_object_get (body, "dropped")) == 1);
    json_object_put (body);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/queues/none", "none", NULL)
            == 404);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/queues/a b", "a b", NULL)
            == 400);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_list, "/api/admin/rooms", "", &body) == 200);
    assert (json_object_object_get (body, "top_rooms"));
    json_object_put (body);
    assert (s_test_serve (admin, queues, rooms, zg_gw_admin_delete, "/api/admin/rooms/none", "none", NULL)
            == 404);

    zsock_destroy (&producer);
    zg_gw_admin_destroy (&admin);
    zg_gw_rooms_destroy (&rooms);
    zg_gw_queues_destroy (&queues);
    zg_gw_topics_destroy (&topics);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&room_actor);
    zactor_destroy (&queue_actor);
    printf ("OK\n");
}
