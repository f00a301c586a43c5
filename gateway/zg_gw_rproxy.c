/*  =========================================================================
    zg_gw_rproxy - the rooms bridge's room proxy

    The proxy's own requests never wait in the bridge's pending table: HELLO
    and JOIN carry reqs of its own ("proxy-hello", "proxy-j<n>"), which the
    bridge hands back here; ACK, LEAVE and PING go without req, so only a
    refusal comes back, which changes nothing. An upstream JOIN the rooms
    actor refuses (max-rooms, say) ends the room's local memberships as an
    eviction would: the web clients were answered ok at once, as a second
    joiner of a room already joined upstream is.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_rproxy.h"
#include "zg_roomproxy.h"

//  Reqs of the proxy's HELLO and JOINs
#define ZG_GW_RPROXY_HELLO ZG_GW_RPROXY_REQ "hello"
#define ZG_GW_RPROXY_JOIN ZG_GW_RPROXY_REQ "j"
//  Longest silence of the upstream client, ms: under the rooms actor's
//  smallest client-timeout (1000)
#define ZG_GW_RPROXY_PING_INTERVAL 250

struct _zg_gw_rproxy_t {
    zg_gw_answers_t *answers;       //  Answers and sessions
    zsock_t *rooms;                 //  The bridge's DEALER
    zhashx_t *clients;              //  Rooms client id -> session (the bridge's)
    zg_roomproxy_t *proxy;          //  Local clients (session client ids) by room
    char *upstream;                 //  The upstream client id, or NULL
    bool hello_sent;                //  A HELLO waits for its answer
    int64_t last_ping;              //  When the upstream client last spoke, monotonic ms
    uint64_t joins;                 //  Upstream JOINs sent
    zhashx_t *joining;              //  JOIN req -> room name, until answered
};

//  --------------------------------------------------------------------------

zg_gw_rproxy_t *
zg_gw_rproxy_new (zg_gw_answers_t *answers, zsock_t *rooms, zhashx_t *clients)
{
    assert (answers && rooms && clients);
    zg_gw_rproxy_t *self = (zg_gw_rproxy_t *) zmalloc (sizeof (zg_gw_rproxy_t));
    assert (self);
    self->answers = answers;
    self->rooms = rooms;
    self->clients = clients;
    self->proxy = zg_roomproxy_new ();
    self->joining = zhashx_new ();
    zhashx_set_destructor (self->joining, (zhashx_destructor_fn *) zstr_free);
    return self;
}

//  --------------------------------------------------------------------------
//  A request of the proxy: [command][req][upstream][fields...], not waited
//  for; the bridge's socket never blocks (a full one drops it, counted)

static void
s_self_send (zg_gw_rproxy_t *self, const char *command, const char *req, const char *room, const char *last)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, req);
    if (self->upstream)
        zmsg_addstr (msg, self->upstream);
    if (room)
        zmsg_addstr (msg, room);
    if (last)
        zmsg_addstr (msg, last);
    zg_gw_answers_send_held (self->answers, self->rooms, &msg);
    zmsg_destroy (&msg);
    self->last_ping = zclock_mono ();
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_destroy (zg_gw_rproxy_t **self_p)
{
    assert (self_p);
    zg_gw_rproxy_t *self = *self_p;
    if (self) {
        if (self->upstream)
            s_self_send (self, "BYE", "", NULL, NULL);
        zstr_free (&self->upstream);
        zg_roomproxy_destroy (&self->proxy);
        zhashx_destroy (&self->joining);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_tick (zg_gw_rproxy_t *self, bool enabled)
{
    assert (self);
    if (!self->upstream && enabled && !self->hello_sent) {
        s_self_send (self, "HELLO", ZG_GW_RPROXY_HELLO, NULL, NULL);
        self->hello_sent = true;
    }
    else
    if (self->upstream && zclock_mono () - self->last_ping >= ZG_GW_RPROXY_PING_INTERVAL)
        s_self_send (self, "PING", "", NULL, NULL);
}

//  --------------------------------------------------------------------------
//  Push an event object to a local client's session, in its encoding
//  (frames [0] JSON, [1] msgpack, made once each)

static void
s_self_push (zg_gw_rproxy_t *self, const char *local, json_object *event, zg_frame_t **frames, bool answer)
{
    zg_session_t *session = (zg_session_t *) zhashx_lookup (self->clients, local);
    if (!session)
        return;
    zg_frame_t **frame = &frames [session->msgpack? 1: 0];
    if (!*frame)
        *frame = zg_gw_answers_frame (self->answers, event, session->msgpack);
    zg_gw_answers_push (self->answers, session, *frame, answer, ZG_ROOMS);
    if (answer)
        zg_gw_answers_counters (self->answers)->out [ZG_ROOMS]++;
}

//  --------------------------------------------------------------------------
//  The upstream membership of a room ended: the removed local clients are
//  told with the event, and the upstream client joins again for the rest

static void
s_self_evicted (zg_gw_rproxy_t *self, const char *room, const char *reason, json_object *event)
{
    zlistx_t *removed = zlistx_new ();
    zlistx_set_destructor (removed, (zlistx_destructor_fn *) zstr_free);
    if (zg_roomproxy_evicted (self->proxy, room, reason, removed) == ZG_ROOMPROXY_JOIN) {
        char req [32];
        snprintf (req, sizeof req, ZG_GW_RPROXY_JOIN "%" PRIu64, ++self->joins);
        zhashx_update (self->joining, req, strdup (room));
        s_self_send (self, "JOIN", req, room, "sync");
    }
    zg_frame_t *frames [2] = { NULL, NULL };
    for (const char *local = (const char *) zlistx_first (removed); local;
         local = (const char *) zlistx_next (removed))
        s_self_push (self, local, event, frames, false);
    zg_frame_unref (&frames [0]);
    zg_frame_unref (&frames [1]);
    zlistx_destroy (&removed);
}

//  --------------------------------------------------------------------------

bool
zg_gw_rproxy_answer (zg_gw_rproxy_t *self, const char *command, const char *req, zmsg_t *msg)
{
    assert (self && command && req);
    if (strncmp (req, ZG_GW_RPROXY_REQ, strlen (ZG_GW_RPROXY_REQ)))
        return false;
    const char *room = (const char *) zhashx_lookup (self->joining, req);
    if (streq (req, ZG_GW_RPROXY_HELLO)) {
        self->hello_sent = false;
        if (streq (command, "OK")) {
            zstr_free (&self->upstream);
            self->upstream = zmsg_popstr (msg);
        }
        return true;
    }
    if (room && streq (command, "ERROR")) {
        char *code = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        json_object *event = json_object_new_object ();
        json_object_object_add (event, "op", json_object_new_string ("evicted"));
        json_object_object_add (event, "room", json_object_new_string (room));
        json_object_object_add (event, "reason", json_object_new_string ("refused"));
        json_object_object_add (event, "code", json_object_new_int (code? atoi (code): 0));
        json_object_object_add (event, "message", json_object_new_string (reason? reason: ""));
        //  Every local client of the room goes ("timeout" removes them all)
        s_self_evicted (self, room, "timeout", event);
        json_object_put (event);
        zstr_free (&code);
        zstr_free (&reason);
    }
    zhashx_delete (self->joining, req);
    return true;
}

//  --------------------------------------------------------------------------

bool
zg_gw_rproxy_is_upstream (zg_gw_rproxy_t *self, const char *client)
{
    assert (self);
    return self->upstream && client && streq (self->upstream, client);
}

//  --------------------------------------------------------------------------

bool
zg_gw_rproxy_has (zg_gw_rproxy_t *self, zg_session_t *session, const char *room)
{
    assert (self);
    return session->client && zg_roomproxy_has (self->proxy, room, session->client);
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_join (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, json_object *req)
{
    assert (self && session && session->client);
    if (!self->upstream) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAVAILABLE, "the room proxy has no client id yet");
        return;
    }
    if (zg_roomproxy_join (self->proxy, room, session->client) == ZG_ROOMPROXY_JOIN) {
        char key [32];
        snprintf (key, sizeof key, ZG_GW_RPROXY_JOIN "%" PRIu64, ++self->joins);
        zhashx_update (self->joining, key, strdup (room));
        s_self_send (self, "JOIN", key, room, "sync");
    }
    //  Joining again is ok, as it is for the rooms actor
    json_object *answer = zg_gw_answers_object ("ok", req);
    json_object_object_add (answer, "client", json_object_new_string (session->client));
    zg_gw_answers_send_object (self->answers, session, &answer, true, ZG_ROOMS);
}

//  --------------------------------------------------------------------------
//  What a local client's leaving or ack asks of the upstream client

static void
s_self_upstream (zg_gw_rproxy_t *self, const char *room, int action, const char *token)
{
    if (action == ZG_ROOMPROXY_LEAVE)
        s_self_send (self, "LEAVE", "", room, NULL);
    else
    if (action == ZG_ROOMPROXY_ACK && token)
        s_self_send (self, "ACK", "", room, token);
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_leave (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, json_object *req)
{
    assert (self && session);
    char *token = zg_roomproxy_token (self->proxy, room)? strdup (zg_roomproxy_token (self->proxy, room)): NULL;
    s_self_upstream (self, room, zg_roomproxy_leave (self->proxy, room, session->client), token);
    free (token);
    zg_gw_answers_ok (self->answers, session, req);
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_ack (zg_gw_rproxy_t *self, zg_session_t *session, const char *room, const char *token,
                  json_object *req)
{
    assert (self && session);
    const char *reason;
    int action = zg_roomproxy_ack (self->proxy, room, session->client, token, &reason);
    if (action == -1)
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_CONFLICT, "%s", reason);
    else {
        s_self_upstream (self, room, action, token);
        zg_gw_answers_ok (self->answers, session, req);
    }
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_session_closed (zg_gw_rproxy_t *self, zg_session_t *session)
{
    assert (self && session);
    if (!session->client)
        return;
    zlistx_t *rooms = zg_roomproxy_rooms_of (self->proxy, session->client);
    for (const char *room = (const char *) zlistx_first (rooms); room; room = (const char *) zlistx_next (rooms)) {
        char *token = zg_roomproxy_token (self->proxy, room)? strdup (zg_roomproxy_token (self->proxy, room)): NULL;
        s_self_upstream (self, room, zg_roomproxy_leave (self->proxy, room, session->client), token);
        free (token);
    }
    zlistx_destroy (&rooms);
}

//  --------------------------------------------------------------------------

void
zg_gw_rproxy_event (zg_gw_rproxy_t *self, const char *command, const char *room, const char *detail,
                    json_object *event)
{
    assert (self && command && room && detail && event);
    if (streq (command, "EVICTED")) {
        if (streq (detail, "timeout")) {
            //  The upstream client was forgotten: the next tick asks for another
            zstr_free (&self->upstream);
        }
        s_self_evicted (self, room, detail, event);
        return;
    }
    bool deliver = streq (command, "DELIVER");
    if (deliver && zg_roomproxy_deliver (self->proxy, room, detail) == 0)
        s_self_send (self, "ACK", "", room, detail);
    zg_frame_t *frames [2] = { NULL, NULL };
    for (const char *local = zg_roomproxy_first (self->proxy, room); local; local = zg_roomproxy_next (self->proxy))
        s_self_push (self, local, event, frames, deliver);
    zg_frame_unref (&frames [0]);
    zg_frame_unref (&frames [1]);
}

//  --------------------------------------------------------------------------

size_t
zg_gw_rproxy_rooms (zg_gw_rproxy_t *self)
{
    assert (self);
    return zg_roomproxy_rooms (self->proxy);
}

//  --------------------------------------------------------------------------
//  Self test of this class: two web sessions (without connections) share
//  one membership of a real rooms actor

#include "zg_mpjson.h"

//  Receive one message on the bridge's DEALER and hand it to the proxy as
//  the bridge does; returns its command (or NULL), the caller's
static char *
s_test_drain (zg_gw_rproxy_t *proxy, zsock_t *rooms)
{
    zmsg_t *msg = zmsg_recv (rooms);
    char *command = msg? zmsg_popstr (msg): NULL;
    if (command && (streq (command, "OK") || streq (command, "ERROR"))) {
        char *key = zmsg_popstr (msg);
        assert (zg_gw_rproxy_answer (proxy, command, key, msg));
        zstr_free (&key);
    }
    else
    if (command) {
        char *client = zmsg_popstr (msg);
        char *room = zmsg_popstr (msg);
        assert (zg_gw_rproxy_is_upstream (proxy, client));
        if (streq (command, "DELIVER")) {
            zframe_t *seq = zmsg_pop (msg);
            zframe_destroy (&seq);
        }
        char *detail = zmsg_popstr (msg);
        json_object *event = json_object_new_object ();
        json_object_object_add (event, "op", json_object_new_string (command));
        zg_gw_rproxy_event (proxy, command, room, detail, event);
        json_object_put (event);
        zstr_free (&client);
        zstr_free (&room);
        zstr_free (&detail);
    }
    zmsg_destroy (&msg);
    return command;
}

//  Members of a room in the rooms actor (STATE)
static size_t
s_test_members (zsock_t *producer, const char *room)
{
    zstr_sendx (producer, "STATE", "s", room, NULL);
    zmsg_t *answer = zmsg_recv (producer);
    assert (answer && zmsg_size (answer) == 3);
    json_object *state = zg_mpjson_unpack (zframe_data (zmsg_last (answer)), zframe_size (zmsg_last (answer)));
    json_object *members;
    assert (json_object_object_get_ex (state, "members", &members));
    size_t count = json_object_array_length (members);
    json_object_put (state);
    zmsg_destroy (&answer);
    return count;
}

void
zg_gw_rproxy_test (bool verbose)
{
    printf (" * zg_gw_rproxy: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_subscriptions = 4, .max_queue_bytes = 65536,
                                  .http_timeout = 5000, .room_proxy = 1 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zactor_t *actor = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (actor, "verbose", verbose? "1": "0", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "ack-timeout", "300", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "clients", "inproc://zg-gw-rproxy-test", error, sizeof error) == 0);
    zsock_t *rooms = zg_gw_answers_dealer_new ();
    assert (zsock_connect (rooms, "inproc://zg-gw-rproxy-test") == 0);
    zsock_set_rcvtimeo (rooms, 2000);
    zsock_t *producer = zsock_new_dealer (">inproc://zg-gw-rproxy-test");
    zsock_set_rcvtimeo (producer, 2000);
    zhashx_t *clients = zhashx_new ();
    zg_gw_rproxy_t *proxy = zg_gw_rproxy_new (answers, rooms, clients);
    zg_session_t *alice = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_session_t *bob = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, alice);
    zg_gw_answers_add_session (answers, bob);
    alice->client = strdup ("alice");
    bob->client = strdup ("bob");
    zhashx_insert (clients, alice->client, alice);
    zhashx_insert (clients, bob->client, bob);
    assert (!zg_gw_rproxy_answer (proxy, "OK", "g1", NULL));

    //  No upstream client yet: a join is refused (503), nothing changes
    zg_gw_rproxy_join (proxy, alice, "lobby", NULL);
    assert (alice->queue_count == 1 && zg_gw_rproxy_rooms (proxy) == 0);
    zg_gw_rproxy_tick (proxy, false);
    zg_gw_rproxy_tick (proxy, true);
    char *command = s_test_drain (proxy, rooms);
    assert (command && streq (command, "OK"));
    zstr_free (&command);

    //  Both join: one member upstream
    zg_gw_rproxy_join (proxy, alice, "lobby", NULL);
    zg_gw_rproxy_join (proxy, bob, "lobby", NULL);
    zg_gw_rproxy_join (proxy, bob, "lobby", NULL);
    assert (alice->queue_count == 2 && bob->queue_count == 2);
    command = s_test_drain (proxy, rooms);
    assert (command && streq (command, "OK"));
    zstr_free (&command);
    assert (zg_gw_rproxy_has (proxy, alice, "lobby") && !zg_gw_rproxy_has (proxy, alice, "hall"));
    assert (s_test_members (producer, "lobby") == 1);

    //  A message reaches both; "two" waits until alice acked and bob left
    zstr_sendx (producer, "SEND", "", "lobby", "0", "one", "maker", NULL);
    zstr_sendx (producer, "SEND", "", "lobby", "0", "two", NULL);
    command = s_test_drain (proxy, rooms);
    assert (command && streq (command, "DELIVER"));
    zstr_free (&command);
    assert (alice->queue_count == 3 && bob->queue_count == 3);
    zg_gw_rproxy_ack (proxy, alice, "lobby", "999", NULL);
    assert (alice->queue_count == 4);             //  409 stale token
    zg_gw_rproxy_ack (proxy, alice, "lobby", "1", NULL);
    zsock_set_rcvtimeo (rooms, 200);
    assert (s_test_drain (proxy, rooms) == NULL);
    zg_gw_rproxy_leave (proxy, bob, "lobby", NULL);
    zsock_set_rcvtimeo (rooms, 2000);
    command = s_test_drain (proxy, rooms);
    assert (command && streq (command, "DELIVER"));
    zstr_free (&command);
    assert (alice->queue_count == 6 && bob->queue_count == 4);

    //  Alice never acks "two": the upstream member is evicted and she is told
    command = s_test_drain (proxy, rooms);
    assert (command && streq (command, "EVICTED"));
    zstr_free (&command);
    assert (alice->queue_count == 7 && zg_gw_rproxy_rooms (proxy) == 0);
    assert (s_test_members (producer, "lobby") == 0);

    //  A session that goes leaves its rooms: the last one leaves upstream
    zg_gw_rproxy_join (proxy, bob, "hall", NULL);
    zg_gw_rproxy_session_closed (proxy, bob);
    assert (zg_gw_rproxy_rooms (proxy) == 0);

    zg_gw_rproxy_destroy (&proxy);
    zg_gw_answers_remove_session (answers, alice);
    zg_gw_answers_remove_session (answers, bob);
    zg_session_destroy (&alice);
    zg_session_destroy (&bob);
    zhashx_destroy (&clients);
    zsock_destroy (&producer);
    zsock_destroy (&rooms);
    zg_gw_answers_destroy (&answers);
    zactor_destroy (&actor);
    //  @end
    printf ("OK\n");
}
