/*  =========================================================================
    zg_gw_routes - where a web request goes: the WebSocket op table and the
    HTTP route table, and the gateway's own routes

    send and ack serve queues and rooms: a "room" field makes them the
    rooms bridge's. Each request is counted for the pattern that serves it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_routes.h"
#include "zg_metrics.h"
#include "zg_gw_status.h"
#include "zg_gw_mport.h"
#include "zg_gw_admin.h"

//  Longest web req string
#define ZG_GW_ROUTES_MAX_REQ 64

struct _zg_gw_routes_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    zg_gw_topics_t *topics;         //  The topics bridge
    zg_gw_queues_t *queues;         //  The queues bridge
    zg_gw_rooms_t *rooms;           //  The rooms bridge
    zg_gw_guard_t *guard;           //  Who may do what
    zg_gw_admin_t *admin;           //  The admin API
    zg_gw_counters_t *counters;     //  The gateway's counters
    zg_metrics_t *metrics;          //  HTTP request series
    zhashx_t *peer_stats;           //  Actor name -> its STATS JSON text
    zg_gw_threads_t *threads;       //  Every gateway thread's counters, or NULL
};

//  The patterns' names in stats, by zg_gw_pattern_t
static const char *s_pattern_names [] = { "topics", "queues", "rooms" };

//  A route of this class
typedef void (s_route_fn) (zg_gw_routes_t *self, zg_http_t *http, const char *param);

//  --------------------------------------------------------------------------
//  Create the routes to the bridges

zg_gw_routes_t *
zg_gw_routes_new (zg_gw_answers_t *answers, zg_gw_topics_t *topics, zg_gw_queues_t *queues, zg_gw_rooms_t *rooms,
                  zg_gw_guard_t *guard)
{
    assert (answers && topics && queues && rooms && guard);
    zg_gw_routes_t *self = (zg_gw_routes_t *) zmalloc (sizeof (zg_gw_routes_t));
    assert (self);
    self->answers = answers;
    self->topics = topics;
    self->queues = queues;
    self->rooms = rooms;
    self->guard = guard;
    self->admin = zg_gw_admin_new (answers, topics, queues, rooms);
    self->counters = zg_gw_answers_counters (answers);
    self->metrics = zg_metrics_new ();
    self->peer_stats = zhashx_new ();
    zhashx_set_destructor (self->peer_stats, (zhashx_destructor_fn *) zstr_free);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the routes and the request metrics

void
zg_gw_routes_destroy (zg_gw_routes_t **self_p)
{
    assert (self_p);
    zg_gw_routes_t *self = *self_p;
    if (self) {
        zg_metrics_destroy (&self->metrics);
        zg_gw_admin_destroy (&self->admin);
        zhashx_destroy (&self->peer_stats);
        free (self);
        *self_p = NULL;
    }
}

//  ==========================================================================
//  WebSocket requests

//  An op of the WebSocket protocol, the bridge that serves it (one of the
//  three, or queues and rooms by the request's "room" field) and what it
//  needs when security is on (ops on what a session already holds need
//  nothing more; a task id does not name its queue, so reading one needs
//  results on every queue; join as an observer needs observe)
typedef struct {
    const char *name;               //  The request's "op"
    zg_gw_topics_op_fn *topics;     //  Served by the topics bridge
    zg_gw_queues_op_fn *queues;     //  Served by the queues bridge (without a room)
    zg_gw_rooms_op_fn *rooms;       //  Served by the rooms bridge (with a room)
    zg_gw_access_t access;          //  What it needs (of the queues bridge if both)
    zg_gw_access_t room_access;     //  What it needs of the rooms bridge, if both
} s_op_t;

static const s_op_t s_ops [] = {
    { "auth", NULL, NULL, NULL, { NULL }, { NULL } },
    { "subscribe", zg_gw_topics_subscribe, NULL, NULL, { "topics", "subscribe", "topic" }, { NULL } },
    { "unsubscribe", zg_gw_topics_unsubscribe, NULL, NULL, { NULL }, { NULL } },
    { "publish", zg_gw_topics_publish, NULL, NULL, { "topics", "publish", "topic" }, { NULL } },
    { "send", NULL, zg_gw_queues_send, zg_gw_rooms_send, { "queues", "send", "queue" }, { "rooms", "send", "room" } },
    { "call", NULL, zg_gw_queues_call, NULL, { "queues", "send", "command" }, { NULL } },
    { "consume", NULL, zg_gw_queues_consume, NULL, { "queues", "consume", "queue command" }, { NULL } },
    { "cancel", NULL, zg_gw_queues_cancel, NULL, { NULL }, { NULL } },
    { "ack", NULL, zg_gw_queues_ack, zg_gw_rooms_ack, { NULL }, { NULL } },
    { "nack", NULL, zg_gw_queues_nack, NULL, { NULL }, { NULL } },
    { "fail", NULL, zg_gw_queues_fail, NULL, { NULL }, { NULL } },
    { "task", NULL, zg_gw_queues_task, NULL, { "queues", "results", "" }, { NULL } },
    { "take", NULL, zg_gw_queues_pull, NULL, { "queues", "consume", "queue" }, { NULL } },
    { "finish", NULL, zg_gw_queues_pull, NULL, { "queues", "consume", "" }, { NULL } },
    { "retry", NULL, zg_gw_queues_pull, NULL, { "queues", "consume", "" }, { NULL } },
    { "join", NULL, NULL, zg_gw_rooms_join, { NULL }, { "rooms", "join", "room" } },
    { "leave", NULL, NULL, zg_gw_rooms_leave, { NULL }, { NULL } },
    { "ping", NULL, NULL, zg_gw_rooms_ping, { NULL }, { NULL } },
    { "peek", NULL, NULL, zg_gw_rooms_peek, { NULL }, { "rooms", "peek", "room" } },
    { "state", NULL, NULL, zg_gw_rooms_state, { NULL }, { "rooms", "peek", "room" } },
    { "metrics", NULL, NULL, zg_gw_rooms_metrics, { NULL }, { "rooms", "peek", "" } },
    { NULL }
};

//  Hand a request to the bridge of its op, counting it for that pattern
static void
s_self_dispatch (zg_gw_routes_t *self, const s_op_t *entry, zg_session_t *session, json_object *request,
                 json_object *req)
{
    bool room = json_object_object_get_ex (request, "room", NULL);
    bool to_rooms = entry->rooms && (room || !entry->queues);
    if (!zg_gw_guard_request (self->guard, session, request, entry->name,
                              to_rooms? &entry->room_access: &entry->access, req))
        return;
    zg_gw_answers_hold (self->answers, session->wsi);
    if (to_rooms) {
        self->counters->in [ZG_ROOMS]++;
        entry->rooms (self->rooms, session, request, req);
    }
    else
    if (entry->queues) {
        self->counters->in [ZG_QUEUES]++;
        entry->queues (self->queues, session, request, req);
    }
    else {
        self->counters->in [ZG_TOPICS]++;
        entry->topics (self->topics, session, request, req);
    }
    zg_gw_answers_hold (self->answers, NULL);
}

//  Handle a decoded request
static void
s_self_request (zg_gw_routes_t *self, zg_session_t *session, json_object *request)
{
    json_object *req = NULL;
    json_object_object_get_ex (request, "req", &req);
    if (req && !(json_object_is_type (req, json_type_int)
                 || (json_object_is_type (req, json_type_string) && !zg_codec_is_binary (req)
                     && json_object_get_string_len (req) <= ZG_GW_ROUTES_MAX_REQ))) {
        zg_gw_answers_error (self->answers, session, NULL, ZG_ERR_BAD_REQUEST,
                             "req must be an integer or a string of at most %d bytes", ZG_GW_ROUTES_MAX_REQ);
        return;
    }
    json_object *op = NULL;
    if (!json_object_object_get_ex (request, "op", &op) || !json_object_is_type (op, json_type_string)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "a request needs an op (a string)");
        return;
    }
    const char *name = json_object_get_string (op);
    for (const s_op_t *entry = s_ops; entry->name; entry++)
        if (streq (entry->name, name)) {
            s_self_dispatch (self, entry, session, request, req);
            return;
        }
    zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "unknown op '%.64s'", name);
}

//  --------------------------------------------------------------------------
//  Handle one complete WebSocket message of a session

void
zg_gw_routes_message (zg_gw_routes_t *self, zg_session_t *session, const byte *data, size_t size, bool binary)
{
    session->msgpack = binary;
    json_object *request = NULL;
    char error [256];
    if (zg_codec_decode (zg_gw_answers_codec (self->answers), data, size, binary, &request, error, sizeof error))
        zg_gw_answers_error (self->answers, session, NULL, ZG_ERR_BAD_REQUEST, "%s", error);
    else
    if (!json_object_is_type (request, json_type_object))
        zg_gw_answers_error (self->answers, session, NULL, ZG_ERR_BAD_REQUEST, "a request must be an object");
    else
        s_self_request (self, session, request);
    json_object_put (request);
}

//  ==========================================================================
//  Stats

void
zg_gw_routes_share (zg_gw_routes_t *self, zg_gw_threads_t *threads)
{
    assert (self);
    self->threads = threads;
}

void
zg_gw_routes_gauges (zg_gw_routes_t *self)
{
    assert (self);
    zg_gw_counters_t *counters = self->counters;
    counters->sessions = zg_gw_answers_sessions (self->answers);
    counters->web_subscriptions = zg_gw_topics_subscriptions (self->topics);
    counters->web_workers = zg_gw_queues_workers (self->queues);
    counters->room_clients = zg_gw_rooms_clients (self->rooms);
    counters->pending = zg_gw_answers_pending_size (self->answers);
    uint64_t delivered, dropped;
    size_t subscribers;
    zg_gw_topics_pull_counters (self->topics, &delivered, &dropped, &subscribers);
    counters->pull_subscribers = subscribers;
    counters->pull_delivered = delivered;
    counters->pull_dropped = dropped;
}

json_object *
zg_gw_routes_stats (zg_gw_routes_t *self)
{
    zg_gw_routes_gauges (self);
    zg_gw_counters_t total;
    if (self->threads)
        zg_gw_threads_sum (self->threads, &total);
    else
        memcpy (&total, self->counters, sizeof total);
    zg_gw_counters_t *counters = &total;
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "sessions", json_object_new_uint64 (counters->sessions));
    json_object_object_add (root, "sessions_accepted", json_object_new_uint64 (counters->sessions_accepted));
    json_object_object_add (root, "sessions_rejected", json_object_new_uint64 (counters->sessions_rejected));
    json_object *in = json_object_new_object ();
    json_object *out = json_object_new_object ();
    for (int pattern = 0; pattern < ZG_PATTERNS; pattern++) {
        json_object_object_add (in, s_pattern_names [pattern], json_object_new_uint64 (counters->in [pattern]));
        json_object_object_add (out, s_pattern_names [pattern], json_object_new_uint64 (counters->out [pattern]));
    }
    json_object_object_add (root, "messages_in", in);
    json_object_object_add (root, "messages_out", out);
    json_object_object_add (root, "dropped_slow", json_object_new_uint64 (counters->dropped_slow));
    json_object_object_add (root, "disconnects_slow", json_object_new_uint64 (counters->disconnects_slow));
    json_object_object_add (root, "disconnects_limit", json_object_new_uint64 (counters->disconnects_limit));
    json_object_object_add (root, "errors", json_object_new_uint64 (counters->errors));
    json_object_object_add (root, "unavailable", json_object_new_uint64 (counters->unavailable));
    json_object_object_add (root, "http_requests", json_object_new_uint64 (counters->http_requests));
    json_object_object_add (root, "web_subscriptions", json_object_new_uint64 (counters->web_subscriptions));
    json_object_object_add (root, "web_workers", json_object_new_uint64 (counters->web_workers));
    json_object_object_add (root, "room_clients", json_object_new_uint64 (counters->room_clients));
    json_object_object_add (root, "pending", json_object_new_uint64 (counters->pending));
    //  The process's memory budget, which every actor of this process charges
    json_object_object_add (root, "budget", zg_budget_stats (zg_budget_process ()));
    json_object_object_add (root, "pull_subscribers", json_object_new_uint64 (counters->pull_subscribers));
    json_object_object_add (root, "pull_delivered", json_object_new_uint64 (counters->pull_delivered));
    json_object_object_add (root, "pull_dropped", json_object_new_uint64 (counters->pull_dropped));
    json_object_object_add (root, "async_failed", json_object_new_uint64 (counters->async_failed));
    //  Publishes: the bytes all threads' hold (one account), refusals summed
    json_object *publish = json_object_new_object ();
    json_object_object_add (publish, "held", json_object_new_int64 (zg_gw_topics_published_held (self->topics)));
    json_object_object_add (publish, "limit",
                            json_object_new_int64 (zg_gw_answers_settings (self->answers)->max_publish_queued));
    json_object_object_add (publish, "refused_limit", json_object_new_uint64 (counters->publish_refused_limit));
    json_object_object_add (publish, "refused_budget", json_object_new_uint64 (counters->publish_refused_budget));
    json_object_object_add (root, "publish", publish);
    return root;
}

void
zg_gw_routes_peer_stats (zg_gw_routes_t *self, const char *section, char **stats_p)
{
    zhashx_update (self->peer_stats, section, *stats_p);
    *stats_p = NULL;
}

//  ==========================================================================
//  The gateway's own routes

static void
s_http_ready (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    //  In cluster mode a node that cannot reach Redis is not ready
    const char *stats = (const char *) zhashx_lookup (self->peer_stats, "cluster");
    json_object *cluster = stats? json_tokener_parse (stats): NULL;
    json_object *healthy = cluster? json_object_object_get (cluster, "healthy"): NULL;
    if (healthy && !json_object_get_boolean (healthy))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "this node cannot reach Redis (cluster mode)");
    else
        zg_http_reply (http, 204, "application/json", NULL, 0);
    json_object_put (cluster);
}

//  The gateway's own counters and the other actors' as they last reported
static json_object *
s_all_stats (zg_gw_routes_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "gateway", zg_gw_routes_stats (self));
    for (char *stats = (char *) zhashx_first (self->peer_stats); stats;
         stats = (char *) zhashx_next (self->peer_stats))
        json_object_object_add (root, (const char *) zhashx_cursor (self->peer_stats), json_tokener_parse (stats));
    return root;
}

static void
s_http_stats (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    json_object *root = s_all_stats (self);
    zg_http_reply_json (http, 200, root);
    json_object_put (root);
}

//  The Prometheus text of every actor's counters, for /metrics here and on
//  the metrics port (zg_gw_mport)
void
zg_gw_routes_metrics (void *routes, msgpack_sbuffer *out)
{
    zg_gw_routes_t *self = (zg_gw_routes_t *) routes;
    assert (self && out);
    json_object *stats = s_all_stats (self);
    zg_metrics_render (self->metrics, out, stats);
    json_object_put (stats);
}

static void
s_http_metrics (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    zg_gw_routes_metrics (self, &out);
    zg_http_reply (http, 200, ZG_GW_MPORT_METRICS_TYPE, out.data, out.size);
    msgpack_sbuffer_destroy (&out);
}

//  qmanager's stats page: the queues' counters and recent tasks in text
static void
s_http_queues_status (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    (void) param;
    const char *stats = (const char *) zhashx_lookup (self->peer_stats, "queues");
    json_object *queues = stats? json_tokener_parse (stats): NULL;
    char *page = zg_gw_status_page (queues, zclock_time ());
    zg_http_reply (http, 200, "text/plain; charset=utf-8", page, strlen (page));
    zstr_free (&page);
    json_object_put (queues);
}

static void
s_http_ws_only (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    (void) self;
    (void) param;
    zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "/ws takes WebSocket upgrades only");
}

//  ==========================================================================
//  HTTP requests

//  The admin API (zg_gw_admin): lists and deletions
static void
s_http_admin_list (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    zg_gw_admin_list (self->admin, http, param);
}

static void
s_http_admin_delete (zg_gw_routes_t *self, zg_http_t *http, const char *param)
{
    zg_gw_admin_delete (self->admin, http, param);
}

//  A route: a path with at most one {} segment, its method, and what serves
//  it: one bridge, or this class
typedef struct {
    const char *pattern;            //  The path
    zg_http_method_t method;        //  Its method
    zg_gw_topics_route_fn *topics;  //  Served by the topics bridge
    zg_gw_queues_route_fn *queues;  //  Served by the queues bridge
    zg_gw_rooms_route_fn *rooms;    //  Served by the rooms bridge
    s_route_fn *own;                //  Served here
    zg_gw_access_t access;          //  What it needs when security is on
} s_route_t;

static const s_route_t s_routes [] = {
    { "/api/publish", ZG_HTTP_POST, zg_gw_topics_http_publish, NULL, NULL, NULL, { "topics", "publish", "subject" } },
    { "/api/publish/async", ZG_HTTP_POST, zg_gw_topics_http_publish, NULL, NULL, NULL,
      { "topics", "publish", "subject" } },
    { "/api/subscribe", ZG_HTTP_POST, zg_gw_topics_http_subscribe, NULL, NULL, NULL,
      { "topics", "subscribe", "subject" } },
    //  A pull subscriber's id is what its subscribe (permitted) returned
    { "/api/fetch", ZG_HTTP_POST, zg_gw_topics_http_fetch, NULL, NULL, NULL, { NULL } },
    //  A topic's history is its messages: reading it is subscribing
    { "/api/topics/{}/history", ZG_HTTP_GET, zg_gw_topics_http_history, NULL, NULL, NULL,
      { "topics", "subscribe", NULL } },
    { "/api/topics/{}/last", ZG_HTTP_GET, zg_gw_topics_http_history, NULL, NULL, NULL,
      { "topics", "subscribe", NULL } },
    { "/api/topics/{}/presence", ZG_HTTP_GET, zg_gw_topics_http_presence, NULL, NULL, NULL,
      { "topics", "subscribe", NULL } },
    { "/ready", ZG_HTTP_GET, NULL, NULL, NULL, s_http_ready, { NULL } },
    { "/api/stats", ZG_HTTP_GET, NULL, NULL, NULL, s_http_stats, { "admin", NULL, "" } },
    { "/metrics", ZG_HTTP_GET, NULL, NULL, NULL, s_http_metrics, { "admin", NULL, "" } },
    { "/api/queues/status", ZG_HTTP_GET, NULL, NULL, NULL, s_http_queues_status, { "admin", NULL, "" } },
    { "/api/queues/{}", ZG_HTTP_POST, NULL, zg_gw_queues_http_send, NULL, NULL, { "queues", "send", NULL } },
    { "/api/tasks/{}", ZG_HTTP_GET, NULL, zg_gw_queues_http_task, NULL, NULL, { "queues", "results", "" } },
    { "/api/commands/{}", ZG_HTTP_POST, NULL, zg_gw_queues_http_call, NULL, NULL, { "queues", "send", NULL } },
    { "/api/queues/{}/take", ZG_HTTP_POST, NULL, zg_gw_queues_http_pull, NULL, NULL, { "queues", "consume", NULL } },
    { "/api/tasks/{}/finish", ZG_HTTP_POST, NULL, zg_gw_queues_http_pull, NULL, NULL, { "queues", "consume", "" } },
    { "/api/tasks/{}/retry", ZG_HTTP_POST, NULL, zg_gw_queues_http_pull, NULL, NULL, { "queues", "consume", "" } },
    { "/api/rooms/{}", ZG_HTTP_POST, NULL, NULL, zg_gw_rooms_http_send, NULL, { "rooms", "send", NULL } },
    { "/api/rooms/{}/oob", ZG_HTTP_POST, NULL, NULL, zg_gw_rooms_http_send, NULL, { "rooms", "send", NULL } },
    { "/api/rooms/{}/peek", ZG_HTTP_GET, NULL, NULL, zg_gw_rooms_http_query, NULL, { "rooms", "peek", NULL } },
    { "/api/rooms/{}", ZG_HTTP_GET, NULL, NULL, zg_gw_rooms_http_query, NULL, { "rooms", "peek", NULL } },
    { "/api/rooms", ZG_HTTP_GET, NULL, NULL, zg_gw_rooms_http_query, NULL, { "rooms", "peek", "" } },
    { "/ws", ZG_HTTP_GET, NULL, NULL, NULL, s_http_ws_only, { NULL } },
    { "/api/admin/queues", ZG_HTTP_GET, NULL, NULL, NULL, s_http_admin_list, { "admin", NULL, "" } },
    { "/api/admin/queues/{}", ZG_HTTP_DELETE, NULL, NULL, NULL, s_http_admin_delete, { "admin", NULL, "" } },
    { "/api/admin/rooms", ZG_HTTP_GET, NULL, NULL, NULL, s_http_admin_list, { "admin", NULL, "" } },
    { "/api/admin/rooms/{}", ZG_HTTP_DELETE, NULL, NULL, NULL, s_http_admin_delete, { "admin", NULL, "" } },
    { "/api/admin/pull", ZG_HTTP_GET, NULL, NULL, NULL, s_http_admin_list, { "admin", NULL, "" } },
    { "/api/admin/pull/{}", ZG_HTTP_DELETE, NULL, NULL, NULL, s_http_admin_delete, { "admin", NULL, "" } },
    { NULL }
};

//  Hand a request to what serves its route
static void
s_self_serve (zg_gw_routes_t *self, const s_route_t *route, zg_http_t *http, const char *param)
{
    http->endpoint = route->pattern;
    if (!zg_gw_guard_http (self->guard, http, &route->access, param))
        return;
    zg_gw_answers_hold (self->answers, http->wsi);
    if (route->topics)
        route->topics (self->topics, http, param);
    else
    if (route->queues)
        route->queues (self->queues, http, param);
    else
    if (route->rooms)
        route->rooms (self->rooms, http, param);
    else
        route->own (self, http, param);
    zg_gw_answers_hold (self->answers, NULL);
}

//  --------------------------------------------------------------------------
//  Route an HTTP request whose body (if any) has arrived

void
zg_gw_routes_http (zg_gw_routes_t *self, zg_http_t *http)
{
    char param [1024];
    bool path_known = false;
    if (http->method == ZG_HTTP_OPTIONS) {
        //  A CORS preflight: its headers say what the API takes
        http->endpoint = "preflight";
        zg_http_reply (http, 204, "application/json", NULL, 0);
        return;
    }
    for (const s_route_t *route = s_routes; route->pattern; route++)
        if (zg_http_match (route->pattern, http->path, param, sizeof param)) {
            path_known = true;
            if (route->method == http->method) {
                s_self_serve (self, route, http, param);
                return;
            }
        }
    if (!path_known && http->method == ZG_HTTP_GET && zg_http_reply_file (http))
        return;
    http->endpoint = path_known? "method_not_allowed": "not_found";
    if (path_known || (http->method != ZG_HTTP_GET && streq (http->path, "/")))
        zg_http_reply_message (http, ZG_ERR_UNKNOWN_COMMAND, "Method Not Allowed");
    else
        zg_http_reply_message (http, ZG_ERR_NOT_FOUND, "Not Found");
}

//  --------------------------------------------------------------------------
//  An HTTP transaction ended: count it in the request metrics if answered

void
zg_gw_routes_finished (zg_gw_routes_t *self, zg_http_t *http)
{
    if (http->status) {
        self->counters->http_requests++;
        zg_metrics_request (self->metrics, http->endpoint, http->status,
                            (double) (zclock_usecs () - http->started) / 1e6);
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class: requests routed to bridges whose pattern
//  actors are not linked, so every one is answered at once

//  The HTTP status of a request routed without a connection
static int
s_test_http (zg_gw_routes_t *routes, zg_http_method_t method, const char *path, const char *body)
{
    zg_http_t *http = zg_http_new (NULL, 1, method, path);
    if (body)
        zg_http_append (http, body, strlen (body), 1024);
    zg_gw_routes_http (routes, http);
    int status = http->status;
    zg_gw_routes_finished (routes, http);
    zg_http_destroy (&http);
    return status;
}

void
zg_gw_routes_test (bool verbose)
{
    printf (" * zg_gw_routes: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_topic_size = 64, .max_subscriptions = 4,
                                  .max_queue_bytes = 65536, .pull_buffer_size = 4, .max_pull_subscribers = 4,
                                  .pull_idle_timeout = 60000, .http_timeout = 1000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_topics_t *topics = zg_gw_topics_new (answers, &settings);
    zg_gw_queues_t *queues = zg_gw_queues_new (answers, &settings);
    zg_gw_rooms_t *rooms = zg_gw_rooms_new (answers, &settings);
    zg_gw_guard_t *guard = zg_gw_guard_new (answers);
    zg_gw_routes_t *routes = zg_gw_routes_new (answers, topics, queues, rooms, guard);
    zg_gw_counters_t *counters = zg_gw_answers_counters (answers);

    //  WebSocket: each op reaches its bridge, send and ack by their "room"
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, session);
    const char *requests [] = {
        "{\"op\":\"send\",\"queue\":\"q\",\"data\":1,\"req\":1}",       //  queues: not reachable
        "{\"op\":\"send\",\"room\":\"r\",\"data\":1,\"req\":2}",        //  rooms: not reachable
        "{\"op\":\"ack\",\"room\":\"r\",\"token\":\"t\",\"req\":3}",    //  rooms: no client id
        "{\"op\":\"subscribe\",\"topic\":\"\",\"req\":4}",              //  topics: bad topic
        NULL
    };
    for (int index = 0; requests [index]; index++)
        zg_gw_routes_message (routes, session, (const byte *) requests [index], strlen (requests [index]), false);
    assert (counters->in [ZG_QUEUES] == 1 && counters->in [ZG_ROOMS] == 2 && counters->in [ZG_TOPICS] == 1);
    assert (session->queue_count == 4 && counters->errors == 4);
    //  Requests that reach no bridge are answered here
    const char *bad [] = { "{\"op\":\"nope\"}", "{\"req\":[1],\"op\":\"ping\"}", "[1]", "{", NULL };
    for (int index = 0; bad [index]; index++)
        zg_gw_routes_message (routes, session, (const byte *) bad [index], strlen (bad [index]), false);
    assert (session->queue_count == 8 && counters->errors == 8);
    assert (counters->in [ZG_ROOMS] == 2);

    //  HTTP: routes, methods, and the gateway's own routes
    assert (s_test_http (routes, ZG_HTTP_GET, "/ready", NULL) == 204);
    assert (s_test_http (routes, ZG_HTTP_GET, "/missing", NULL) == 404);
    assert (s_test_http (routes, ZG_HTTP_POST, "/ready", NULL) == 405);
    assert (s_test_http (routes, ZG_HTTP_GET, "/ws", NULL) == 400);
    assert (s_test_http (routes, ZG_HTTP_POST, "/api/queues/q", "{\"data\":1}") == 503);
    assert (s_test_http (routes, ZG_HTTP_GET, "/api/rooms/r", NULL) == 503);
    assert (s_test_http (routes, ZG_HTTP_POST, "/api/subscribe", "{\"subject\":\"a..b\"}") == 400);
    char *peer = strdup ("{\"published\":3}");
    zg_gw_routes_peer_stats (routes, "topics", &peer);
    assert (peer == NULL);
    assert (s_test_http (routes, ZG_HTTP_GET, "/api/stats", NULL) == 200);
    assert (s_test_http (routes, ZG_HTTP_GET, "/metrics", NULL) == 200);
    //  A cluster node is ready while it reaches Redis
    peer = strdup ("{\"enabled\":true,\"healthy\":false}");
    zg_gw_routes_peer_stats (routes, "cluster", &peer);
    assert (s_test_http (routes, ZG_HTTP_GET, "/ready", NULL) == 503);
    peer = strdup ("{\"enabled\":true,\"healthy\":true}");
    zg_gw_routes_peer_stats (routes, "cluster", &peer);
    assert (s_test_http (routes, ZG_HTTP_GET, "/ready", NULL) == 204);
    json_object *stats = zg_gw_routes_stats (routes);
    assert (json_object_get_int64 (json_object_object_get (stats, "sessions")) == 1);
    assert (json_object_get_int64 (json_object_object_get (stats, "http_requests")) == 11);
    assert (json_object_get_int64 (json_object_object_get (stats, "errors")) == 8);
    json_object_put (stats);

    zg_gw_answers_remove_session (answers, session);
    zg_session_destroy (&session);
    zg_gw_routes_destroy (&routes);
    zg_gw_routes_destroy (&routes);
    zg_gw_guard_destroy (&guard);
    zg_gw_rooms_destroy (&rooms);
    zg_gw_queues_destroy (&queues);
    zg_gw_topics_destroy (&topics);
    zg_gw_answers_destroy (&answers);
    //  @end
    printf ("OK\n");
}
