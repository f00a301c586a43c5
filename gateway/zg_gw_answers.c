/*  =========================================================================
    zg_gw_answers - what the gateway's bridges share: answers to web
    sessions and HTTP transactions, request fields, pushes, and the
    requests waiting for a pattern actor

    An answer names its owner by id, not by pointer: a session or an HTTP
    transaction may have gone by the time a pattern actor answers, and a
    lookup by id finds that out without dangling.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_answers.h"
#include "zg_wire.h"

struct _zg_gw_answers_t {
    const zg_gw_settings_t *settings;   //  The actor's settings
    zg_codec_t *codec;              //  JSON and msgpack
    msgpack_sbuffer encoded;        //  Encoding buffer of frames
    zhashx_t *sessions;             //  Session id -> zg_session_t
    zhashx_t *https;                //  HTTP id -> zg_http_t waiting for an actor
    zg_pending_t *pending;          //  Requests waiting for a queue or room actor
    uint64_t next_id;               //  Ids of sessions, transactions, reqs
    char holder [sizeof ZG_WIRE_HOLDER_TAG + ZG_WIRE_HOLDER_SIZE];  //  The holder
                                    //  envelope of the request being handled, or ""
    zg_gw_counters_t counters;      //  Counters
};

//  --------------------------------------------------------------------------
//  An id as a table key

static void
s_key (char *key, size_t size, uint64_t id)
{
    snprintf (key, size, "%" PRIu64, id);
}

//  --------------------------------------------------------------------------
//  Create the shared part; settings stay the caller's and must outlive it

zg_gw_answers_t *
zg_gw_answers_new (const zg_gw_settings_t *settings)
{
    assert (settings);
    zg_gw_answers_t *self = (zg_gw_answers_t *) zmalloc (sizeof (zg_gw_answers_t));
    assert (self);
    self->settings = settings;
    self->codec = zg_codec_new ((int) settings->max_depth);
    msgpack_sbuffer_init (&self->encoded);
    self->sessions = zhashx_new ();
    self->https = zhashx_new ();
    self->pending = zg_pending_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it, with the requests still waiting

void
zg_gw_answers_destroy (zg_gw_answers_t **self_p)
{
    assert (self_p);
    zg_gw_answers_t *self = *self_p;
    if (self) {
        zg_codec_destroy (&self->codec);
        msgpack_sbuffer_destroy (&self->encoded);
        zhashx_destroy (&self->sessions);
        zhashx_destroy (&self->https);
        zg_pending_destroy (&self->pending);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Accessors

zg_codec_t *
zg_gw_answers_codec (zg_gw_answers_t *self)
{
    return self->codec;
}

zg_gw_counters_t *
zg_gw_answers_counters (zg_gw_answers_t *self)
{
    return &self->counters;
}

const zg_gw_settings_t *
zg_gw_answers_settings (zg_gw_answers_t *self)
{
    return self->settings;
}

uint64_t
zg_gw_answers_new_id (zg_gw_answers_t *self)
{
    return ++self->next_id;
}

void
zg_gw_answers_set_first_id (zg_gw_answers_t *self, uint64_t first)
{
    assert (self);
    self->next_id = first;
}

//  ==========================================================================
//  Sessions by id

void
zg_gw_answers_add_session (zg_gw_answers_t *self, zg_session_t *session)
{
    char key [32];
    s_key (key, sizeof key, session->id);
    zhashx_insert (self->sessions, key, session);
}

void
zg_gw_answers_remove_session (zg_gw_answers_t *self, zg_session_t *session)
{
    char key [32];
    s_key (key, sizeof key, session->id);
    zhashx_delete (self->sessions, key);
}

zg_session_t *
zg_gw_answers_session (zg_gw_answers_t *self, uint64_t id)
{
    char key [32];
    s_key (key, sizeof key, id);
    return (zg_session_t *) zhashx_lookup (self->sessions, key);
}

zg_session_t *
zg_gw_answers_first_session (zg_gw_answers_t *self)
{
    return (zg_session_t *) zhashx_first (self->sessions);
}

zg_session_t *
zg_gw_answers_next_session (zg_gw_answers_t *self)
{
    return (zg_session_t *) zhashx_next (self->sessions);
}

size_t
zg_gw_answers_sessions (zg_gw_answers_t *self)
{
    return zhashx_size (self->sessions);
}

size_t
zg_gw_answers_pending_size (zg_gw_answers_t *self)
{
    return zg_pending_size (self->pending);
}

//  ==========================================================================
//  Requests to the pattern actors

zsock_t *
zg_gw_answers_dealer_new (void)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_sndtimeo (dealer, 0);
    zsock_set_sndhwm (dealer, 100000);
    zsock_set_rcvhwm (dealer, 100000);
    return dealer;
}

int
zg_gw_answers_send (zg_gw_answers_t *self, zsock_t *socket, zmsg_t **msg_p)
{
    if (zmsg_send (msg_p, socket) == 0)
        return 0;
    zmsg_destroy (msg_p);
    self->counters.unavailable++;
    return -1;
}

//  The envelope naming the web client whose request is being handled

void
zg_gw_answers_hold (zg_gw_answers_t *self, struct lws *wsi)
{
    self->holder [0] = 0;
    char address [ZG_GW_ADDRESS_SIZE] = "";
    if (wsi) {
        lws_get_peer_simple (wsi, address, sizeof address);
        snprintf (self->holder, sizeof self->holder, ZG_WIRE_HOLDER_TAG "address:%s", address);
    }
}

int
zg_gw_answers_send_held (zg_gw_answers_t *self, zsock_t *socket, zmsg_t **msg_p)
{
    if (self->holder [0])
        zmsg_pushstr (*msg_p, self->holder);
    return zg_gw_answers_send (self, socket, msg_p);
}

zg_pending_request_t *
zg_gw_answers_pending_new (zg_gw_answers_t *self, zg_pending_kind_t kind, uint64_t owner, bool http,
                           json_object *req)
{
    return zg_pending_add (self->pending, ++self->next_id, kind, owner, http, req);
}

int
zg_gw_answers_request (zg_gw_answers_t *self, zsock_t *socket, const char *command,
                       zg_pending_request_t **pending_p, zmsg_t **fields_p)
{
    zg_pending_request_t *pending = *pending_p;
    zmsg_t *msg = *fields_p;
    *fields_p = NULL;
    zmsg_pushstr (msg, pending->key);
    zmsg_pushstr (msg, command);
    if (!socket || zg_gw_answers_send_held (self, socket, &msg)) {
        zmsg_destroy (&msg);
        zg_pending_remove (self->pending, pending->key);
        *pending_p = NULL;
        return -1;
    }
    return 0;
}

zg_pending_request_t *
zg_gw_answers_pending (zg_gw_answers_t *self, const char *key)
{
    return zg_pending_lookup (self->pending, key);
}

void
zg_gw_answers_pending_done (zg_gw_answers_t *self, const char *key)
{
    zg_pending_remove (self->pending, key);
}

//  ==========================================================================
//  WebSocket sessions: answers, pushes and the slow-client policy

//  Close a session from outside its callbacks: the close frame goes at its
//  next writable callback; a client that cannot even take that within a
//  second loses its connection
void
zg_gw_answers_close (zg_session_t *session, int status, const char *reason)
{
    if (session->closing)
        return;
    session->closing = true;
    lws_close_reason (session->wsi, (enum lws_close_status) status, (unsigned char *) reason, strlen (reason));
    lws_set_timeout (session->wsi, PENDING_TIMEOUT_USER_OK, 1);
    lws_callback_on_writable (session->wsi);
}

void
zg_gw_answers_close_sessions (zg_gw_answers_t *self, int status, const char *reason)
{
    for (zg_session_t *session = (zg_session_t *) zhashx_first (self->sessions); session;
         session = (zg_session_t *) zhashx_next (self->sessions))
        zg_gw_answers_close (session, status, reason);
}

void
zg_gw_answers_push (zg_gw_answers_t *self, zg_session_t *session, zg_frame_t *frame, bool answer,
                    zg_gw_pattern_t pattern)
{
    if (session->closing)
        return;
    if (zg_session_push (session, frame, (size_t) self->settings->max_queue_bytes) == 0) {
        if (!answer)
            ZG_GW_COUNT (self->counters.out [pattern]);
        return;
    }
    if (!answer && !self->settings->disconnect_slow) {
        self->counters.dropped_slow++;
        return;
    }
    self->counters.disconnects_slow++;
    if (self->settings->verbose)
        zsys_info ("zg_gateway: closing session %" PRIu64 ": send queue full", session->id);
    zg_gw_answers_close (session, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
}

zg_frame_t *
zg_gw_answers_frame (zg_gw_answers_t *self, json_object *object, bool msgpack)
{
    msgpack_sbuffer_clear (&self->encoded);
    zg_codec_encode (self->codec, object, msgpack, &self->encoded);
    return zg_frame_new ((const byte *) self->encoded.data, self->encoded.size, msgpack);
}

void
zg_gw_answers_send_object (zg_gw_answers_t *self, zg_session_t *session, json_object **object_p, bool answer,
                           zg_gw_pattern_t pattern)
{
    zg_frame_t *frame = zg_gw_answers_frame (self, *object_p, session->msgpack);
    zg_gw_answers_push (self, session, frame, answer, pattern);
    zg_frame_unref (&frame);
    json_object_put (*object_p);
    *object_p = NULL;
}

json_object *
zg_gw_answers_object (const char *op, json_object *req)
{
    json_object *answer = json_object_new_object ();
    json_object_object_add (answer, "op", json_object_new_string (op));
    json_object_object_add (answer, "req", json_object_get (req));
    return answer;
}

void
zg_gw_answers_error (zg_gw_answers_t *self, zg_session_t *session, json_object *req, int code,
                     const char *format, ...)
{
    char message [512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    json_object *answer = zg_gw_answers_object ("error", req);
    json_object_object_add (answer, "code", json_object_new_int (code));
    json_object_object_add (answer, "message", json_object_new_string (message));
    self->counters.errors++;
    zg_gw_answers_send_object (self, session, &answer, true, ZG_TOPICS);
}

void
zg_gw_answers_ok (zg_gw_answers_t *self, zg_session_t *session, json_object *req)
{
    json_object *answer = zg_gw_answers_object ("ok", req);
    zg_gw_answers_send_object (self, session, &answer, true, ZG_TOPICS);
}

//  ==========================================================================
//  Answers to requests that waited

//  A deferred HTTP reply is ready (the transaction may have gone)
static void
s_http_done_waiting (zg_gw_answers_t *self, uint64_t id, int status, json_object *body)
{
    char key [32];
    s_key (key, sizeof key, id);
    zg_http_t *http = (zg_http_t *) zhashx_lookup (self->https, key);
    if (http && http->status == 0)
        zg_http_reply_json (http, status, body);
}

void
zg_gw_answers_owner (zg_gw_answers_t *self, uint64_t owner, bool http, json_object **answer_p, int status,
                     json_object **body_p)
{
    if (http)
        s_http_done_waiting (self, owner, status, *body_p);
    else {
        zg_session_t *session = zg_gw_answers_session (self, owner);
        if (session) {
            json_object *op = json_object_object_get (*answer_p, "op");
            if (json_object_is_type (op, json_type_string) && streq (json_object_get_string (op), "error"))
                self->counters.errors++;
            zg_gw_answers_send_object (self, session, answer_p, true, ZG_QUEUES);
        }
    }
    json_object_put (*answer_p);
    *answer_p = NULL;
    json_object_put (*body_p);
    *body_p = NULL;
}

void
zg_gw_answers_answer (zg_gw_answers_t *self, zg_pending_request_t *pending, json_object **answer_p, int status,
                      json_object **body_p)
{
    zg_gw_answers_owner (self, pending->owner, pending->http, answer_p, status, body_p);
}

//  The JSON form of a native error
static json_object *
s_error_body (const char *reason)
{
    json_object *body = json_object_new_object ();
    json_object_object_add (body, "message", json_object_new_string (reason? reason: "error"));
    return body;
}

//  An ERROR for a pending request
static void
s_answer_error (zg_gw_answers_t *self, zg_pending_request_t *pending, int number, const char *reason)
{
    json_object *answer = zg_gw_answers_object ("error", pending->req);
    json_object_object_add (answer, "code", json_object_new_int (number));
    json_object_object_add (answer, "message", json_object_new_string (reason? reason: "error"));
    //  A reply timeout is a gateway timeout to an HTTP client
    int status = number == ZG_ERR_TIMEOUT? ZG_ERR_GATEWAY_TIMEOUT:
                 number >= 400 && number < 600? number: ZG_ERR_BAD_GATEWAY;
    json_object *body = s_error_body (reason);
    zg_gw_answers_answer (self, pending, &answer, status, &body);
}

void
zg_gw_answers_native_error (zg_gw_answers_t *self, zg_pending_request_t *pending, zmsg_t *msg)
{
    char *code = zmsg_popstr (msg);
    char *reason = zmsg_popstr (msg);
    s_answer_error (self, pending, code? atoi (code): ZG_ERR_SERVER, reason);
    zstr_free (&code);
    zstr_free (&reason);
}

void
zg_gw_answers_map (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *op, zframe_t *frame)
{
    json_object *map = NULL;
    char error [256];
    if (!frame || zg_codec_decode_native (self->codec, zframe_data (frame), zframe_size (frame), &map,
                                          error, sizeof error)
    ||  !json_object_is_type (map, json_type_object)) {
        json_object_put (map);
        s_answer_error (self, pending, ZG_ERR_BAD_GATEWAY, "malformed answer from the pattern actor");
        return;
    }
    json_object *reply = NULL;
    if (json_object_object_get_ex (map, "reply", &reply)) {
        //  A task's reply payload is its data, as everywhere on the web side
        json_object_object_add (map, "data", json_object_get (reply));
        json_object_object_del (map, "reply");
    }
    json_object *answer = zg_gw_answers_object (op, pending->req);
    json_object_object_foreach (map, key, value)
        json_object_object_add (answer, key, json_object_get (value));
    zg_gw_answers_answer (self, pending, &answer, 200, &map);
}

void
zg_gw_answers_number (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *op, const char *field,
                      const char *text)
{
    int64_t number = text? strtoll (text, NULL, 10): 0;
    json_object *answer = zg_gw_answers_object (op, pending->req);
    json_object_object_add (answer, field, json_object_new_int64 (number));
    json_object *body = json_object_new_object ();
    json_object_object_add (body, field, json_object_new_int64 (number));
    zg_gw_answers_answer (self, pending, &answer, 200, &body);
}

void
zg_gw_answers_admin (zg_gw_answers_t *self, zg_pending_request_t *pending, const char *command, zmsg_t *msg)
{
    assert (pending->kind == ZG_PENDING_ADMIN_LIST || pending->kind == ZG_PENDING_ADMIN_DELETE);
    zframe_t *frame = streq (command, "OK")? zmsg_pop (msg): NULL;
    if (!frame)
        zg_gw_answers_native_error (self, pending, msg);
    else
    if (pending->kind == ZG_PENDING_ADMIN_LIST)
        zg_gw_answers_map (self, pending, "admin", frame);
    else {
        char *text = zframe_strdup (frame);
        zg_gw_answers_number (self, pending, "deleted", "dropped", text);
        zstr_free (&text);
    }
    zframe_destroy (&frame);
}

//  ==========================================================================
//  HTTP transactions that wait for a pattern actor

void
zg_gw_answers_defer (zg_gw_answers_t *self, zg_http_t *http, int64_t timeout)
{
    char key [32];
    s_key (key, sizeof key, http->id);
    zhashx_update (self->https, key, http);
    http->deadline = zclock_mono () + timeout;
    if (http->wsi)
        lws_set_timeout (http->wsi, PENDING_TIMEOUT_USER_OK, (int) ((timeout + 999) / 1000 + 5));
}

void
zg_gw_answers_forget (zg_gw_answers_t *self, zg_http_t *http)
{
    char key [32];
    s_key (key, sizeof key, http->id);
    zhashx_delete (self->https, key);
}

//  Answer the transactions still waiting whose deadline is at or before now
static void
s_answer_waiting (zg_gw_answers_t *self, int64_t now, int status, const char *message)
{
    for (zg_http_t *http = (zg_http_t *) zhashx_first (self->https); http;
         http = (zg_http_t *) zhashx_next (self->https))
        if (http->status == 0 && now >= http->deadline)
            zg_http_reply_message (http, status, message);
}

void
zg_gw_answers_expire (zg_gw_answers_t *self, int64_t now)
{
    s_answer_waiting (self, now, ZG_ERR_GATEWAY_TIMEOUT, "no answer from the pattern actor in time");
}

size_t
zg_gw_answers_waiting (zg_gw_answers_t *self)
{
    size_t waiting = 0;
    for (zg_http_t *http = (zg_http_t *) zhashx_first (self->https); http;
         http = (zg_http_t *) zhashx_next (self->https))
        waiting += http->status == 0;
    return waiting;
}

void
zg_gw_answers_abort (zg_gw_answers_t *self, int status, const char *message)
{
    s_answer_waiting (self, INT64_MAX, status, message);
}

char *
zg_gw_answers_http_holder (zg_http_t *http)
{
    assert (http);
    char address [ZG_GW_ADDRESS_SIZE] = "";
    if (http->wsi)
        lws_get_peer_simple (http->wsi, address, sizeof address);
    return zsys_sprintf ("address:%s", address);
}

json_object *
zg_gw_answers_body (zg_gw_answers_t *self, zg_http_t *http)
{
    if (http->too_large) {
        zg_http_reply_message (http, ZG_ERR_TOO_LARGE, "request body too large");
        return NULL;
    }
    json_object *body = NULL;
    char error [256];
    if (!http->body
    ||  zg_codec_decode (self->codec, http->body, http->body_size, false, &body, error, sizeof error)
    ||  !json_object_is_type (body, json_type_object)) {
        json_object_put (body);
        zg_http_reply_message (http, ZG_ERR_BAD_REQUEST, "request's body is invalid");
        return NULL;
    }
    return body;
}

//  ==========================================================================
//  Request fields

const char *
zg_gw_answers_string_field (json_object *request, const char *name, size_t max)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, name, &value)
    ||  !json_object_is_type (value, json_type_string) || zg_codec_is_binary (value))
        return NULL;
    const char *text = json_object_get_string (value);
    size_t length = (size_t) json_object_get_string_len (value);
    if (length == 0 || length > max || strlen (text) != length)
        return NULL;
    return text;
}

int
zg_gw_answers_int_field (json_object *request, const char *name, int64_t *number)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, name, &value) || !value)
        return 0;
    if (!json_object_is_type (value, json_type_int))
        return -1;
    *number = json_object_get_int64 (value);
    return 1;
}

int
zg_gw_answers_bool_field (json_object *request, const char *name, bool *flag)
{
    json_object *value = NULL;
    *flag = false;
    if (!json_object_object_get_ex (request, name, &value) || !value)
        return 0;
    if (!json_object_is_type (value, json_type_boolean))
        return -1;
    *flag = json_object_get_boolean (value);
    return 0;
}

zframe_t *
zg_gw_answers_data_frame (json_object *request)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex (request, "data", &value))
        return NULL;
    size_t size = 0;
    const char *payload = value? zg_codec_value_payload (value, &size): "null";
    if (!value)
        size = 4;
    return zframe_new (payload, size);
}

void
zg_gw_answers_add_data (zg_gw_answers_t *self, json_object *object, const byte *payload, size_t size)
{
    json_object *value = zg_codec_payload_value (self->codec, payload, size);
    if (zg_codec_is_binary (value))
        json_object_object_add (object, "binary", json_object_new_boolean (1));
    json_object_object_add (object, "data", value);
}

//  --------------------------------------------------------------------------
//  Self test of this class: sessions without a connection take answers in
//  their send queue, where the test reads them back

//  The text of the newest frame queued on a session (a short text frame)
static const char *
s_test_last (zg_session_t *session, char *buffer, size_t size)
{
    assert (session->queue_count > 0);
    zg_frame_t *frame = session->queue [(session->queue_head + session->queue_count - 1) % session->queue_size];
    assert (frame->data [1] < 126 && (size_t) frame->data [1] < size);
    memcpy (buffer, frame->data + 2, frame->data [1]);
    buffer [frame->data [1]] = 0;
    return buffer;
}

void
zg_gw_answers_test (bool verbose)
{
    printf (" * zg_gw_answers: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 1024 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_counters_t *counters = zg_gw_answers_counters (answers);

    //  Fields: present, absent, or of the wrong type
    json_object *request = json_tokener_parse ("{\"s\":\"abc\",\"n\":7,\"b\":true,\"data\":{\"k\":1},\"x\":1.5}");
    assert (streq (zg_gw_answers_string_field (request, "s", 3), "abc"));
    assert (zg_gw_answers_string_field (request, "s", 2) == NULL);
    assert (zg_gw_answers_string_field (request, "n", 10) == NULL);
    int64_t number = 0;
    assert (zg_gw_answers_int_field (request, "n", &number) == 1 && number == 7);
    assert (zg_gw_answers_int_field (request, "none", &number) == 0);
    assert (zg_gw_answers_int_field (request, "x", &number) == -1);
    bool flag = false;
    assert (zg_gw_answers_bool_field (request, "b", &flag) == 0 && flag);
    assert (zg_gw_answers_bool_field (request, "s", &flag) == -1);
    zframe_t *data = zg_gw_answers_data_frame (request);
    assert (data && zframe_streq (data, "{\"k\":1}"));
    zframe_destroy (&data);
    json_object_put (request);

    //  Answers reach the session of their owner id, and nothing else
    zg_gw_answers_set_first_id (answers, 41);
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    assert (session->id == 42);
    zg_gw_answers_add_session (answers, session);
    assert (zg_gw_answers_session (answers, session->id) == session);
    assert (zg_gw_answers_sessions (answers) == 1);
    char text [128];
    json_object *req = json_object_new_int (5);
    zg_gw_answers_ok (answers, session, req);
    assert (streq (s_test_last (session, text, sizeof text), "{\"op\":\"ok\",\"req\":5}"));
    zg_gw_answers_error (answers, session, req, ZG_ERR_NOT_FOUND, "no %s", "x");
    assert (streq (s_test_last (session, text, sizeof text),
                   "{\"op\":\"error\",\"req\":5,\"code\":404,\"message\":\"no x\"}"));
    assert (counters->errors == 1);

    //  A request to an unlinked pattern is forgotten at once
    zg_pending_request_t *pending = zg_gw_answers_pending_new (answers, ZG_PENDING_TASK, session->id, false, req);
    zmsg_t *fields = zmsg_new ();
    assert (zg_gw_answers_request (answers, NULL, "GET", &pending, &fields) == -1);
    assert (pending == NULL && fields == NULL && zg_gw_answers_pending_size (answers) == 0);

    //  A pending request's native error becomes an error answer
    pending = zg_gw_answers_pending_new (answers, ZG_PENDING_TASK, session->id, false, req);
    char key [32];
    strcpy (key, pending->key);
    assert (zg_gw_answers_pending (answers, key) == pending);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "410");
    zmsg_addstr (msg, "dead");
    zg_gw_answers_native_error (answers, pending, msg);
    zmsg_destroy (&msg);
    zg_gw_answers_pending_done (answers, key);
    assert (zg_gw_answers_pending (answers, key) == NULL);
    assert (streq (s_test_last (session, text, sizeof text),
                   "{\"op\":\"error\",\"req\":5,\"code\":410,\"message\":\"dead\"}"));
    assert (counters->errors == 2);

    //  An answer for a session that has gone is dropped
    zg_gw_answers_remove_session (answers, session);
    json_object *answer = zg_gw_answers_object ("ok", req);
    json_object *body = json_object_new_object ();
    uint32_t queued = session->queue_count;
    zg_gw_answers_owner (answers, session->id, false, &answer, 200, &body);
    assert (answer == NULL && body == NULL && session->queue_count == queued);

    //  A deferred HTTP transaction gets its body, and only once
    zg_http_t *http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_GET, "/api/tasks/1");
    zg_gw_answers_defer (answers, http, 1000);
    answer = zg_gw_answers_object ("ok", NULL);
    body = json_tokener_parse ("{\"id\":\"1\"}");
    zg_gw_answers_owner (answers, http->id, true, &answer, 200, &body);
    assert (http->status == 200);
    zg_gw_answers_expire (answers, zclock_mono () + 2000);
    assert (http->status == 200);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);

    //  A drain answers what still waits, and only that
    http = zg_http_new (NULL, zg_gw_answers_new_id (answers), ZG_HTTP_GET, "/api/tasks/2");
    zg_gw_answers_defer (answers, http, 60000);
    assert (zg_gw_answers_waiting (answers) == 1);
    zg_gw_answers_abort (answers, ZG_ERR_UNAVAILABLE, "zgate is shutting down");
    assert (http->status == ZG_ERR_UNAVAILABLE && zg_gw_answers_waiting (answers) == 0);
    zg_gw_answers_forget (answers, http);
    zg_http_destroy (&http);

    json_object_put (req);
    zg_session_destroy (&session);
    zg_gw_answers_destroy (&answers);
    zg_gw_answers_destroy (&answers);
    //  @end
    printf ("OK\n");
}
