/*  =========================================================================
    zg_gw_rooms - the gateway's bridge to the rooms actor

    WebSocket ops join, leave, ping, ack, send, peek, state and metrics;
    HTTP POST /api/rooms/{room}[/oob] and GET /api/rooms[/{room}[/peek]];
    and the answers and room events that come back on the rooms DEALER.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_rooms.h"
#include "zg_gw_rproxy.h"

struct _zg_gw_rooms_t {
    zg_gw_answers_t *answers;       //  Answers, sessions, counters
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_gw_counters_t *counters;     //  The gateway's counters
    zsock_t *rooms;                 //  DEALER to the rooms
    bool linked;                    //  The rooms' endpoint is connected
    zhashx_t *clients;              //  Rooms client id -> zg_session_t
    zg_gw_rproxy_t *proxy;          //  Sync web members sharing one membership
};

//  A request a session holds until it has its client id, and its op
typedef struct {
    zg_gw_rooms_op_fn *op;          //  What serves it then
    json_object *request;           //  The decoded request
} s_waiting_t;

//  --------------------------------------------------------------------------
//  Destructor of the waiting requests

static void
s_waiting_destroy (s_waiting_t **self_p)
{
    s_waiting_t *self = *self_p;
    if (self) {
        json_object_put (self->request);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create the bridge

zg_gw_rooms_t *
zg_gw_rooms_new (zg_gw_answers_t *answers, const zg_gw_settings_t *settings)
{
    assert (answers && settings);
    zg_gw_rooms_t *self = (zg_gw_rooms_t *) zmalloc (sizeof (zg_gw_rooms_t));
    assert (self);
    self->answers = answers;
    self->settings = settings;
    self->counters = zg_gw_answers_counters (answers);
    self->rooms = zg_gw_answers_dealer_new ();
    self->clients = zhashx_new ();
    self->proxy = zg_gw_rproxy_new (answers, self->rooms, self->clients);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the bridge and its socket

void
zg_gw_rooms_destroy (zg_gw_rooms_t **self_p)
{
    assert (self_p);
    zg_gw_rooms_t *self = *self_p;
    if (self) {
        zg_gw_rproxy_destroy (&self->proxy);
        zsock_destroy (&self->rooms);
        zhashx_destroy (&self->clients);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Connect the socket of a [gateway] key

int
zg_gw_rooms_connect (zg_gw_rooms_t *self, const char *key, const char *endpoint)
{
    if (strneq (key, "rooms-clients"))
        return 1;
    if (zsock_connect (self->rooms, "%s", endpoint) == -1)
        return -1;
    self->linked = true;
    return 0;
}

//  --------------------------------------------------------------------------
//  The bridge's zsocks

zsock_t *
zg_gw_rooms_socket (zg_gw_rooms_t *self, size_t index)
{
    return index == 0? self->rooms: NULL;
}

//  --------------------------------------------------------------------------
//  A session ended: its rooms client says goodbye

void
zg_gw_rooms_session_closed (zg_gw_rooms_t *self, zg_session_t *session)
{
    if (session->client) {
        zg_gw_rproxy_session_closed (self->proxy, session);
        zstr_sendx (self->rooms, "BYE", "", session->client, NULL);
        zhashx_delete (self->clients, session->client);
    }
}

size_t
zg_gw_rooms_clients (zg_gw_rooms_t *self)
{
    return zhashx_size (self->clients);
}

//  --------------------------------------------------------------------------
//  Housekeeping: the room proxy's upstream client

void
zg_gw_rooms_tick (zg_gw_rooms_t *self)
{
    if (self->linked)
        zg_gw_rproxy_tick (self->proxy, self->settings->room_proxy != 0);
}

//  ==========================================================================
//  WebSocket members and producers

//  Send a rooms request [command][key][fields...]; answers go to owner
static int
s_self_rooms_request (zg_gw_rooms_t *self, zg_pending_kind_t kind, uint64_t owner, bool http, json_object *req,
                      zmsg_t **fields_p, const char *command)
{
    zg_pending_request_t *pending = zg_gw_answers_pending_new (self->answers, kind, owner, http, req);
    return zg_gw_answers_request (self->answers, self->linked? self->rooms: NULL, command, &pending, fields_p);
}

//  --------------------------------------------------------------------------
//  An admin's request

int
zg_gw_rooms_admin (zg_gw_rooms_t *self, const char *command, zg_pending_kind_t kind, uint64_t http_id,
                   zmsg_t **fields_p)
{
    return s_self_rooms_request (self, kind, http_id, true, NULL, fields_p, command);
}

//  True if the session has a rooms client id; if it has none yet, the
//  request waits for it (op serves it then; a HELLO asks for the id if
//  none is asked yet) and false is returned
static bool
s_self_has_client (zg_gw_rooms_t *self, zg_session_t *session, zg_gw_rooms_op_fn *op, json_object *request,
                   json_object *req)
{
    if (session->client)
        return true;
    if (!session->waiting) {
        session->waiting = zlistx_new ();
        zlistx_set_destructor (session->waiting, (zlistx_destructor_fn *) s_waiting_destroy);
        zmsg_t *fields = zmsg_new ();
        if (s_self_rooms_request (self, ZG_PENDING_HELLO, session->id, false, NULL, &fields, "HELLO")) {
            zlistx_destroy (&session->waiting);
            zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE,
                                 "the rooms actor is not reachable now");
            return false;
        }
    }
    if ((int64_t) zlistx_size (session->waiting) >= self->settings->max_subscriptions)
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_TOO_MANY,
                             "too many room requests before the session has its client id");
    else {
        s_waiting_t *waiting = (s_waiting_t *) zmalloc (sizeof (s_waiting_t));
        assert (waiting);
        waiting->op = op;
        waiting->request = json_object_get (request);
        zlistx_add_end (session->waiting, waiting);
    }
    return false;
}

//  Forward a member command naming the session's client
static void
s_self_member_command (zg_gw_rooms_t *self, zg_session_t *session, json_object *req, const char *command,
                       zmsg_t **fields_p)
{
    zmsg_pushstr (*fields_p, session->client);
    zg_pending_kind_t kind = streq (command, "JOIN")? ZG_PENDING_JOIN: ZG_PENDING_ROOM_OK;
    if (s_self_rooms_request (self, kind, session->id, false, req, fields_p, command))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
}

//  join op: the session joins a room as a member (or observer)
void
zg_gw_rooms_join (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    const char *mode = zg_gw_answers_string_field (request, "mode", 16);
    json_object *mode_value = NULL;
    if (!room || (json_object_object_get_ex (request, "mode", &mode_value) && !mode)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "join needs a room name and an optional mode");
        return;
    }
    if (!s_self_has_client (self, session, zg_gw_rooms_join, request, req))
        return;
    if (self->settings->room_proxy && !(mode && streq (mode, "async"))) {
        zg_gw_rproxy_join (self->proxy, session, room, req);
        return;
    }
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, room);
    zmsg_addstr (fields, mode? mode: "sync");
    s_self_member_command (self, session, req, "JOIN", &fields);
}

//  leave op: the session leaves a room
void
zg_gw_rooms_leave (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    if (!room) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "leave needs a room name");
        return;
    }
    if (!s_self_has_client (self, session, zg_gw_rooms_leave, request, req))
        return;
    if (zg_gw_rproxy_has (self->proxy, session, room)) {
        zg_gw_rproxy_leave (self->proxy, session, room, req);
        return;
    }
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, room);
    s_self_member_command (self, session, req, "LEAVE", &fields);
}

//  ping op: the session's rooms client is alive
void
zg_gw_rooms_ping (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    if (!s_self_has_client (self, session, zg_gw_rooms_ping, request, req))
        return;
    zmsg_t *fields = zmsg_new ();
    s_self_member_command (self, session, req, "PING", &fields);
}

//  ack op with a room: the member is done with the message of token
void
zg_gw_rooms_ack (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    const char *token = zg_gw_answers_string_field (request, "token", 1024);
    if (!room || !token) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "ack needs a room and its token");
        return;
    }
    if (!s_self_has_client (self, session, zg_gw_rooms_ack, request, req))
        return;
    if (zg_gw_rproxy_has (self->proxy, session, room)) {
        zg_gw_rproxy_ack (self->proxy, session, room, token, req);
        return;
    }
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, room);
    zmsg_addstr (fields, token);
    s_self_member_command (self, session, req, "ACK", &fields);
}

//  Send to a room (queued, or out-of-band); owner is a session or an HTTP transaction
static int
s_self_room_send (zg_gw_rooms_t *self, const char *room, json_object *request, bool oob, int64_t priority,
                  uint64_t owner, bool http, json_object *req)
{
    zframe_t *payload = zg_gw_answers_data_frame (request);
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, room);
    if (!oob)
        zmsg_addstrf (fields, "%" PRId64, priority);
    zmsg_append (fields, &payload);
    //  The producer PEEK shows (checked by s_self_producer_ok)
    const char *producer = oob? NULL: zg_gw_answers_string_field (request, "producer", 65535);
    if (producer)
        zmsg_addstr (fields, producer);
    return s_self_rooms_request (self, oob? ZG_PENDING_ROOM_OOB: ZG_PENDING_ROOM_SEND, owner, http, req,
                                 &fields, oob? "OOB": "SEND");
}

//  A send's producer, if any, is a non-empty string without NUL
static bool
s_self_producer_ok (json_object *request)
{
    return !json_object_object_get_ex (request, "producer", NULL)
        || zg_gw_answers_string_field (request, "producer", 65535);
}

//  send op with a room: a message queued in the room, or out-of-band
void
zg_gw_rooms_send (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    int64_t priority = 0;
    bool oob = false;
    json_object *data = NULL;
    if (!room || zg_gw_answers_int_field (request, "priority", &priority) < 0
    ||  zg_gw_answers_bool_field (request, "oob", &oob) < 0
    ||  !json_object_object_get_ex (request, "data", &data) || !s_self_producer_ok (request)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "send needs a room and data; priority is an integer, oob a boolean, "
                             "producer a string");
        return;
    }
    if (s_self_room_send (self, room, request, oob, priority, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
}

//  PEEK, STATE or METRICS; owner is a session or an HTTP transaction
static int
s_self_room_query (zg_gw_rooms_t *self, zg_pending_kind_t kind, const char *room, int64_t offset, int64_t limit,
                   uint64_t owner, bool http, json_object *req)
{
    zmsg_t *fields = zmsg_new ();
    const char *command = kind == ZG_PENDING_PEEK? "PEEK": kind == ZG_PENDING_STATE? "STATE": "METRICS";
    if (room)
        zmsg_addstr (fields, room);
    if (kind == ZG_PENDING_PEEK && (offset >= 0 || limit >= 0))
        zmsg_addstrf (fields, "%" PRId64, offset >= 0? offset: 0);
    if (limit >= 0)
        zmsg_addstrf (fields, "%" PRId64, limit);
    return s_self_rooms_request (self, kind, owner, http, req, &fields, command);
}

//  peek op: the messages waiting in a room
void
zg_gw_rooms_peek (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    int64_t offset = -1, limit = -1;
    if (!room || zg_gw_answers_int_field (request, "offset", &offset) < 0
    ||  zg_gw_answers_int_field (request, "limit", &limit) < 0
    ||  (offset < 0 && offset != -1) || (limit < 0 && limit != -1)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST,
                             "peek needs a room; offset and limit are integers >= 0");
        return;
    }
    if (s_self_room_query (self, ZG_PENDING_PEEK, room, offset, limit, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
}

//  state op: a room's state
void
zg_gw_rooms_state (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    const char *room = zg_gw_answers_string_field (request, "room", 65535);
    if (!room)
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "state needs a room");
    else
    if (s_self_room_query (self, ZG_PENDING_STATE, room, -1, -1, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
}

//  metrics op: the rooms actor's metrics; top bounds the rooms listed
void
zg_gw_rooms_metrics (zg_gw_rooms_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    int64_t top = -1;
    if (zg_gw_answers_int_field (request, "top", &top) < 0 || (top < 0 && top != -1))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "top is an integer >= 0");
    else
    if (s_self_room_query (self, ZG_PENDING_METRICS, NULL, -1, top, session->id, false, req))
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
}

//  ==========================================================================
//  Answers and events on the rooms DEALER

//  The web form of a room event [room][fields...]; an empty object if the
//  event is not one a web client gets
static json_object *
s_self_event_object (zg_gw_rooms_t *self, const char *command, const char *room, zmsg_t *msg)
{
    json_object *event = json_object_new_object ();
    if (streq (command, "DELIVER") && zmsg_size (msg) == 3) {
        char *seq = zmsg_popstr (msg);
        char *token = zmsg_popstr (msg);
        zframe_t *payload = zmsg_pop (msg);
        json_object_object_add (event, "op", json_object_new_string ("room"));
        json_object_object_add (event, "room", json_object_new_string (room));
        json_object_object_add (event, "seq", json_object_new_int64 (strtoll (seq, NULL, 10)));
        json_object_object_add (event, "token", *token? json_object_new_string (token): NULL);
        zg_gw_answers_add_data (self->answers, event, zframe_data (payload), zframe_size (payload));
        zstr_free (&seq);
        zstr_free (&token);
        zframe_destroy (&payload);
    }
    else
    if (streq (command, "OOB") && zmsg_size (msg) == 1) {
        zframe_t *payload = zmsg_pop (msg);
        json_object_object_add (event, "op", json_object_new_string ("oob"));
        json_object_object_add (event, "room", json_object_new_string (room));
        zg_gw_answers_add_data (self->answers, event, zframe_data (payload), zframe_size (payload));
        zframe_destroy (&payload);
    }
    else
    if (streq (command, "EVICTED")) {
        char *reason = zmsg_popstr (msg);
        json_object_object_add (event, "op", json_object_new_string ("evicted"));
        json_object_object_add (event, "room", json_object_new_string (room));
        json_object_object_add (event, "reason", json_object_new_string (reason? reason: ""));
        zstr_free (&reason);
    }
    else
    if (streq (command, "TIMEOUT")) {
        char *member = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        json_object_object_add (event, "op", json_object_new_string ("timeout"));
        json_object_object_add (event, "room", json_object_new_string (room));
        json_object_object_add (event, "client", json_object_new_string (member? member: ""));
        json_object_object_add (event, "reason", json_object_new_string (reason? reason: ""));
        zstr_free (&member);
        zstr_free (&reason);
    }
    return event;
}

//  An event [client][room][fields...] for a room member or observer
static void
s_self_room_event (zg_gw_rooms_t *self, const char *command, zmsg_t *msg)
{
    char *client = zmsg_popstr (msg);
    zg_session_t *session = client? (zg_session_t *) zhashx_lookup (self->clients, client): NULL;
    char *room = zmsg_popstr (msg);
    if (room && zg_gw_rproxy_is_upstream (self->proxy, client)) {
        //  The proxy needs DELIVER's token, EVICTED's reason
        zframe_t *frame = zmsg_first (msg);
        if (streq (command, "DELIVER"))
            frame = zmsg_next (msg);
        char *detail = frame && strneq (command, "OOB")? zframe_strdup (frame): strdup ("");
        json_object *event = s_self_event_object (self, command, room, msg);
        if (json_object_object_length (event))
            zg_gw_rproxy_event (self->proxy, command, room, detail, event);
        json_object_put (event);
        free (detail);
    }
    else
    if (session && room) {
        json_object *event = s_self_event_object (self, command, room, msg);
        if (json_object_object_length (event)) {
            //  Room messages are lockstep: a member that cannot take one
            //  would block its room until the ack timeout, so it is an answer
            zg_frame_t *frame = zg_gw_answers_frame (self->answers, event, session->msgpack);
            zg_gw_answers_push (self->answers, session, frame, streq (command, "DELIVER"), ZG_ROOMS);
            if (streq (command, "DELIVER"))
                self->counters->out [ZG_ROOMS]++;
            zg_frame_unref (&frame);
        }
        json_object_put (event);
    }
    zstr_free (&client);
    zstr_free (&room);
}

//  The session got its rooms client id: run the requests that waited
static void
s_self_room_hello (zg_gw_rooms_t *self, zg_pending_request_t *pending, const char *command, zmsg_t *msg)
{
    zg_session_t *session = zg_gw_answers_session (self->answers, pending->owner);
    char *client = streq (command, "OK")? zmsg_popstr (msg): NULL;
    if (!session) {
        if (client)
            zstr_sendx (self->rooms, "BYE", "", client, NULL);
        zstr_free (&client);
        return;
    }
    zlistx_t *waiting = session->waiting;
    session->waiting = NULL;
    if (client) {
        session->client = client;
        zhashx_insert (self->clients, client, session);
    }
    for (s_waiting_t *request = (s_waiting_t *) zlistx_first (waiting); request;
         request = (s_waiting_t *) zlistx_next (waiting)) {
        json_object *req = NULL;
        json_object_object_get_ex (request->request, "req", &req);
        if (client)
            request->op (self, session, request->request, req);
        else
            zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the rooms actor gave no client id");
    }
    zlistx_destroy (&waiting);
}

//  OK or ERROR for a pending rooms request
static void
s_self_room_answer (zg_gw_rooms_t *self, zg_pending_request_t *pending, const char *command, zmsg_t *msg)
{
    if (pending->kind == ZG_PENDING_HELLO)
        s_self_room_hello (self, pending, command, msg);
    else
    if (pending->kind == ZG_PENDING_ADMIN_LIST || pending->kind == ZG_PENDING_ADMIN_DELETE)
        zg_gw_answers_admin (self->answers, pending, command, msg);
    else
    if (streq (command, "ERROR"))
        zg_gw_answers_native_error (self->answers, pending, msg);
    else {
        char *text = NULL;
        zframe_t *frame = NULL;
        zg_session_t *session = NULL;
        json_object *answer, *body;
        switch (pending->kind) {
            case ZG_PENDING_ROOM_SEND:
            case ZG_PENDING_ROOM_OOB:
                text = zmsg_popstr (msg);
                zg_gw_answers_number (self->answers, pending, "ok",
                                     pending->kind == ZG_PENDING_ROOM_SEND? "seq": "count", text);
                zstr_free (&text);
                break;
            case ZG_PENDING_PEEK:
            case ZG_PENDING_STATE:
            case ZG_PENDING_METRICS:
                frame = zmsg_pop (msg);
                zg_gw_answers_map (self->answers, pending, pending->kind == ZG_PENDING_PEEK? "peeked":
                                  pending->kind == ZG_PENDING_STATE? "room_state": "room_metrics", frame);
                zframe_destroy (&frame);
                break;
            default:
                answer = zg_gw_answers_object ("ok", pending->req);
                body = json_object_new_object ();
                //  A member learns its client id, which room states and events name
                session = pending->kind == ZG_PENDING_JOIN?
                          zg_gw_answers_session (self->answers, pending->owner): NULL;
                if (session && session->client)
                    json_object_object_add (answer, "client", json_object_new_string (session->client));
                zg_gw_answers_answer (self->answers, pending, &answer, 200, &body);
                break;
        }
    }
}

//  A message on the rooms' DEALER: an answer to a pending request, or an
//  event for a room client
static void
s_self_handle (zg_gw_rooms_t *self)
{
    zmsg_t *msg = zmsg_recv (self->rooms);
    if (!msg)
        return;
    char *command = zmsg_popstr (msg);
    if (command && (streq (command, "OK") || streq (command, "ERROR"))) {
        char *key = zmsg_popstr (msg);
        bool proxy = key && zg_gw_rproxy_answer (self->proxy, command, key, msg);
        zg_pending_request_t *pending = key && !proxy? zg_gw_answers_pending (self->answers, key): NULL;
        if (pending) {
            s_self_room_answer (self, pending, command, msg);
            zg_gw_answers_pending_done (self->answers, key);
        }
        zstr_free (&key);
    }
    else
    if (command)
        s_self_room_event (self, command, msg);
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  Handle a message if the zsock is readable

size_t
zg_gw_rooms_drain (zg_gw_rooms_t *self, bool *more)
{
    if (!(zsock_events (self->rooms) & ZMQ_POLLIN))
        return 0;
    s_self_handle (self);
    *more = true;
    return 1;
}

//  ==========================================================================
//  HTTP producers and queries

//  POST /api/rooms/{room}[/oob]: a message to a room
void
zg_gw_rooms_http_send (zg_gw_rooms_t *self, zg_http_t *http, const char *room)
{
    bool oob = strstr (http->path, "/oob") != NULL;
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return;
    int64_t priority = 0;
    json_object *data = NULL;
    if (!json_object_object_get_ex (body, "data", &data) || zg_gw_answers_int_field (body, "priority", &priority) < 0
    ||  !s_self_producer_ok (body))
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "request's body is invalid");
    else
    if (s_self_room_send (self, room, body, oob, priority, http->id, true, NULL))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
    json_object_put (body);
}

//  GET /api/rooms/{room}/peek, /api/rooms/{room}, /api/rooms: peek, state, metrics
void
zg_gw_rooms_http_query (zg_gw_rooms_t *self, zg_http_t *http, const char *param)
{
    const char *room = *param? param: NULL;
    zg_pending_kind_t kind = !room? ZG_PENDING_METRICS:
                             strstr (http->path, "/peek")? ZG_PENDING_PEEK: ZG_PENDING_STATE;
    int64_t offset = kind == ZG_PENDING_PEEK? zg_query_int (http->query, "offset"): -1;
    int64_t limit = kind == ZG_PENDING_PEEK? zg_query_int (http->query, "limit"):
                    kind == ZG_PENDING_METRICS? zg_query_int (http->query, "top"): -1;
    if (offset == -2 || limit == -2)
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "query arguments must be integers >= 0");
    else
    if (s_self_room_query (self, kind, room, offset, limit, http->id, true, NULL))
        zg_http_reply_message (http, ZG_ERR_UNAVAILABLE, "the rooms actor is not reachable now");
    else
        zg_gw_answers_defer (self->answers, http, self->settings->http_timeout);
}

//  --------------------------------------------------------------------------
//  Self test of this class: a web member (a session without a connection)
//  and an HTTP producer through a real rooms actor

void
zg_gw_rooms_test (bool verbose)
{
    printf (" * zg_gw_rooms: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_subscriptions = 4, .max_queue_bytes = 65536,
                                  .http_timeout = 5000 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_counters_t *counters = zg_gw_answers_counters (answers);
    zg_gw_rooms_t *rooms = zg_gw_rooms_new (answers, &settings);
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, session);

    //  Not linked: a member request cannot get a client id
    json_object *request = json_tokener_parse ("{\"room\":\"lobby\"}");
    zg_gw_rooms_join (rooms, session, request, NULL);
    assert (counters->errors == 1 && session->queue_count == 1 && !session->waiting);

    //  Linked: the join waits for the client id, then is made
    zactor_t *actor = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (actor, "verbose", verbose? "1": "0", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "clients", "inproc://zg-gw-rooms-test", error, sizeof error) == 0);
    assert (zg_gw_rooms_connect (rooms, "topics-publishers", "inproc://x") == 1);
    assert (zg_gw_rooms_connect (rooms, "rooms-clients", "inproc://zg-gw-rooms-test") == 0);
    zg_gw_rooms_join (rooms, session, request, NULL);
    json_object_put (request);
    assert (session->waiting && zlistx_size (session->waiting) == 1);
    int64_t deadline = zclock_mono () + 5000;
    while (session->queue_count < 2 && zclock_mono () < deadline) {
        bool more = false;
        zg_gw_rooms_drain (rooms, &more);
    }
    assert (session->client && zg_gw_rooms_clients (rooms) == 1);
    assert (session->queue_count == 2 && counters->errors == 1);

    //  An HTTP producer's message reaches the member as a room event
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_POST, "/api/rooms/lobby");
    zg_http_append (http, "{\"data\":[1,2]}", 14, 1024);
    zg_gw_rooms_http_send (rooms, http, "lobby");
    deadline = zclock_mono () + 5000;
    while ((http->status == 0 || counters->out [ZG_ROOMS] == 0) && zclock_mono () < deadline) {
        bool more = false;
        zg_gw_rooms_drain (rooms, &more);
    }
    assert (http->status == 200 && counters->out [ZG_ROOMS] == 1);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);

    //  The session ends: its rooms client says goodbye
    zg_gw_rooms_session_closed (rooms, session);
    assert (zg_gw_rooms_clients (rooms) == 0);
    zg_gw_answers_remove_session (answers, session);
    zg_session_destroy (&session);
    zg_gw_rooms_destroy (&rooms);
    zg_gw_rooms_destroy (&rooms);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&actor);
    //  @end
    printf ("OK\n");
}
