/*  =========================================================================
    zg_member - native room member: one logical client that joins rooms,
    receives their messages with an ack handle, and is told when evicted

    The member owns a zg_room_producer for its connection and uses its
    request/answer matching; events that arrive while any request on that
    connection waits for its answer are kept by the producer and returned by
    the next zg_member_recv calls.
    =========================================================================
*/

#include "zg_member.h"
#include "zg_curve.h"
//  The self test runs against a real rooms actor in-process
#include "zg_rooms.h"
#include "zg_actor.h"

//  How long a request (HELLO, JOIN, LEAVE) waits for its answer, ms
#define ZG_MEMBER_REQUEST_TIMEOUT 5000
//  How long closing the connection waits to deliver the BYE, ms
#define ZG_MEMBER_LINGER 200

struct _zg_member_t {
    zg_room_producer_t *producer;   //  The connection and its requests
    char *id;                       //  Client id issued by zgate
    int version;                    //  Rooms protocol version zgate chose at HELLO
    int ping_interval;              //  Longest silence towards zgate, ms
    int64_t last_sent;              //  When we last sent a command, monotonic ms
    zmsg_t *event;                  //  The last event returned by recv
    const char *kind;               //  Its kind, or NULL
    char *room;                     //  Its room
    char *token;                    //  DELIVER: ack token
    uint64_t seq;                   //  DELIVER: sequence number
    zframe_t *payload;              //  DELIVER, OOB: payload
    char *reason;                   //  EVICTED, TIMEOUT, ERROR: detail
};

//  --------------------------------------------------------------------------
//  Forget the last event

static void
s_self_clear_event (zg_member_t *self)
{
    zmsg_destroy (&self->event);
    zstr_free (&self->room);
    zstr_free (&self->token);
    zstr_free (&self->reason);
    zframe_destroy (&self->payload);
    self->kind = NULL;
    self->seq = 0;
}

//  --------------------------------------------------------------------------
//  Send a request that names this client and wait for its answer

static int
s_self_request (zg_member_t *self, const char *command, const char *room, const char *mode)
{
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, self->id);
    if (room)
        zmsg_addstr (fields, room);
    if (mode)
        zmsg_addstr (fields, mode);
    self->last_sent = zclock_mono ();
    zmsg_t *answer = zg_room_producer_request (self->producer, command, &fields);
    if (!answer)
        return -1;
    zmsg_destroy (&answer);
    return 0;
}

//  --------------------------------------------------------------------------
//  Connect and obtain a client id

zg_member_t *
zg_member_new (const char *endpoint, int ping_interval)
{
    return zg_member_new_secure (endpoint, ping_interval, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  The same, as a CURVE client

zg_member_t *
zg_member_new_secure (const char *endpoint, int ping_interval, const char *client_cert, const char *server_key)
{
    assert (endpoint);
    assert (ping_interval > 0);
    zg_member_t *self = (zg_member_t *) zmalloc (sizeof (zg_member_t));
    assert (self);
    self->ping_interval = ping_interval;
    self->producer = zg_room_producer_new_secure (endpoint, ZG_MEMBER_REQUEST_TIMEOUT, client_cert, server_key);
    //  Version 2 when zgate offers it (docs/PROTOCOL.md 3.8): a release comes
    //  as a DELIVERS naming the member, which recv reads as a DELIVER
    zmsg_t *version = zmsg_new ();
    zmsg_addstr (version, "2");
    zmsg_t *answer = self->producer? zg_room_producer_request (self->producer, "HELLO", &version): NULL;
    zmsg_destroy (&version);
    if (answer) {
        self->id = zmsg_popstr (answer);
        self->version = zmsg_size (answer) == 1 && zframe_streq (zmsg_first (answer), "2")? 2: 1;
        zmsg_destroy (&answer);
        self->last_sent = zclock_mono ();
    }
    if (!self->id)
        zg_member_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Leave every room and destroy the member

void
zg_member_destroy (zg_member_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_member_t *self = *self_p;
        if (self->id) {
            zsock_t *dealer = zg_room_producer_socket (self->producer);
            zsock_set_linger (dealer, ZG_MEMBER_LINGER);
            zstr_sendx (dealer, "BYE", "", self->id, NULL);
        }
        zg_room_producer_destroy (&self->producer);
        s_self_clear_event (self);
        zstr_free (&self->id);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  The client id zgate issued

const char *
zg_member_id (zg_member_t *self)
{
    assert (self);
    return self->id;
}

//  --------------------------------------------------------------------------
//  Join a room

int
zg_member_join (zg_member_t *self, const char *room, bool async)
{
    assert (self);
    return s_self_request (self, "JOIN", room, async? "async": "sync");
}

//  --------------------------------------------------------------------------
//  Leave a room

int
zg_member_leave (zg_member_t *self, const char *room)
{
    assert (self);
    return s_self_request (self, "LEAVE", room, NULL);
}

//  --------------------------------------------------------------------------
//  Make a received message the current event; returns its kind, or NULL if
//  it is not an event we know

static const char *
s_self_take_event (zg_member_t *self, zmsg_t *msg)
{
    self->event = msg;
    char *kind = zmsg_popstr (msg);
    size_t size = zmsg_size (msg);
    if (!kind)
        return NULL;
    if (streq (kind, "DELIVER") && size == 5) {
        zframe_t *client = zmsg_pop (msg);
        zframe_destroy (&client);
        self->room = zmsg_popstr (msg);
        char *seq = zmsg_popstr (msg);
        self->seq = strtoull (seq, NULL, 10);
        zstr_free (&seq);
        self->token = zmsg_popstr (msg);
        self->payload = zmsg_pop (msg);
        self->kind = "DELIVER";
    }
    else
    if (streq (kind, "DELIVERS") && size == 5) {
        //  [room][seq][holders][observers][payload]: the member is the one
        //  client of its connection, so a holder if holders names anyone,
        //  and the token of a holder is the seq
        self->room = zmsg_popstr (msg);
        char *seq = zmsg_popstr (msg);
        self->seq = strtoull (seq, NULL, 10);
        zframe_t *holders = zmsg_pop (msg);
        self->token = zframe_size (holders)? seq: strdup ("");
        if (zframe_size (holders) == 0)
            zstr_free (&seq);
        zframe_destroy (&holders);
        zframe_t *observers = zmsg_pop (msg);
        zframe_destroy (&observers);
        self->payload = zmsg_pop (msg);
        self->kind = "DELIVER";
    }
    else
    if (streq (kind, "OOB") && size == 3) {
        zframe_t *client = zmsg_pop (msg);
        zframe_destroy (&client);
        self->room = zmsg_popstr (msg);
        self->payload = zmsg_pop (msg);
        self->kind = "OOB";
    }
    else
    if ((streq (kind, "EVICTED") && size == 3) || (streq (kind, "TIMEOUT") && size == 4)) {
        zframe_t *client = zmsg_pop (msg);
        zframe_destroy (&client);
        self->room = zmsg_popstr (msg);
        self->reason = zmsg_popstr (msg);
        self->kind = streq (kind, "EVICTED")? "EVICTED": "TIMEOUT";
    }
    else
    if (streq (kind, "ERROR") && size == 3) {
        zframe_t *req = zmsg_pop (msg);
        zframe_destroy (&req);
        char *code = zmsg_popstr (msg);
        char *reason = zmsg_popstr (msg);
        self->reason = zsys_sprintf ("%s %s", code, reason);
        zstr_free (&code);
        zstr_free (&reason);
        self->kind = "ERROR";
    }
    zstr_free (&kind);
    return self->kind;
}

//  --------------------------------------------------------------------------
//  Wait for the next event, pinging as needed

const char *
zg_member_recv (zg_member_t *self, int timeout)
{
    assert (self);
    s_self_clear_event (self);
    int64_t deadline = timeout < 0? INT64_MAX: zclock_mono () + timeout;
    zsock_t *dealer = zg_room_producer_socket (self->producer);
    while (true) {
        zmsg_t *msg = zg_room_producer_event (self->producer);
        if (!msg) {
            int64_t now = zclock_mono ();
            if (now - self->last_sent >= self->ping_interval) {
                zstr_sendx (dealer, "PING", "", self->id, NULL);
                self->last_sent = now;
            }
            int64_t wait = self->last_sent + self->ping_interval - now;
            if (deadline - now < wait)
                wait = deadline - now;
            //  Poll even when the deadline has passed, so that a zero timeout
            //  still returns an event that is already waiting
            zmq_pollitem_t item = { zsock_resolve (dealer), 0, ZMQ_POLLIN, 0 };
            if (zmq_poll (&item, 1, (long) (wait > 0? wait: 0)) == -1)
                return NULL;        //  Interrupted
            if (item.revents & ZMQ_POLLIN)
                msg = zmsg_recv (dealer);
            else
            if (now >= deadline)
                return NULL;
        }
        if (msg && s_self_take_event (self, msg))
            return self->kind;
        s_self_clear_event (self);
    }
}

//  --------------------------------------------------------------------------
//  Accessors of the last event

const char *
zg_member_room (zg_member_t *self)
{
    assert (self);
    return self->room;
}

//  --------------------------------------------------------------------------

const char *
zg_member_token (zg_member_t *self)
{
    assert (self);
    return self->token;
}

//  --------------------------------------------------------------------------

uint64_t
zg_member_seq (zg_member_t *self)
{
    assert (self);
    return self->seq;
}

//  --------------------------------------------------------------------------

zframe_t *
zg_member_payload (zg_member_t *self)
{
    assert (self);
    return self->payload;
}

//  --------------------------------------------------------------------------

const char *
zg_member_reason (zg_member_t *self)
{
    assert (self);
    return self->reason;
}

//  --------------------------------------------------------------------------
//  The rooms protocol version zgate chose

int
zg_member_version (zg_member_t *self)
{
    assert (self);
    return self->version;
}

//  --------------------------------------------------------------------------
//  Ack a room message, without waiting for an answer

int
zg_member_ack (zg_member_t *self, const char *room, const char *token)
{
    assert (self);
    assert (room && token);
    self->last_sent = zclock_mono ();
    return zstr_sendx (zg_room_producer_socket (self->producer), "ACK", "", self->id, room, token, NULL);
}

//  --------------------------------------------------------------------------
//  The last error of join or leave: "<code> <reason>", its code

const char *
zg_member_error (zg_member_t *self)
{
    assert (self);
    return zg_room_producer_error (self->producer);
}

int
zg_member_code (zg_member_t *self)
{
    assert (self);
    return zg_room_producer_code (self->producer);
}

//  --------------------------------------------------------------------------
//  The member's connection

zg_room_producer_t *
zg_member_producer (zg_member_t *self)
{
    assert (self);
    return self->producer;
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: against a real rooms actor in-process

void
zg_member_test (bool verbose)
{
    printf (" * zg_member: ");
    //  @selftest
    zactor_t *rooms = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (rooms, "client-timeout", "1000", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "clients", "inproc://zg-member-test", error, sizeof error) == 0);
    assert (zg_member_new ("bogus://x", 100) == NULL);

    zg_member_t *fast = zg_member_new ("inproc://zg-member-test", 300);
    zg_member_t *observer = zg_member_new ("inproc://zg-member-test", 300);
    zg_member_t *quiet = zg_member_new ("inproc://zg-member-test", 300);
    assert (fast && observer && quiet);
    assert (strneq (zg_member_id (fast), zg_member_id (observer)));
    assert (zg_member_version (fast) == 2);
    assert (zg_member_join (fast, "room", false) == 0);
    assert (zg_member_join (observer, "room", true) == 0);
    assert (zg_member_join (quiet, "room", false) == 0);
    assert (zg_member_leave (fast, "elsewhere") == -1);
    assert (strncmp (zg_member_error (fast), "404 ", 4) == 0);

    zg_room_producer_t *producer = zg_member_producer (observer);
    assert (zg_room_producer_send (producer, "room", 0, "one", 3, NULL) == 0);
    assert (zg_room_producer_send (producer, "room", 0, "two", 3, NULL) == 0);
    //  The observer gets "one" without a token and is told when quiet, which
    //  never calls recv and so never pings, is evicted
    const char *event = zg_member_recv (observer, 2000);
    assert (event && streq (event, "DELIVER"));
    assert (streq (zg_member_token (observer), ""));
    assert (zframe_streq (zg_member_payload (observer), "one"));
    assert (zg_member_recv (fast, 2000) && streq (zg_member_room (fast), "room"));
    uint64_t first_seq = zg_member_seq (fast);
    assert (zg_member_ack (fast, "room", zg_member_token (fast)) == 0);
    assert (zg_member_ack (fast, "room", "999") == 0);
    //  Fast and the observer keep calling recv, and so pinging, until quiet's
    //  eviction lets "two" through and the observer hears of it
    bool refused = false, two = false, told = false;
    int64_t deadline = zclock_mono () + 5000;
    while (!(refused && two && told) && zclock_mono () < deadline) {
        event = zg_member_recv (fast, 20);
        if (event && streq (event, "ERROR"))
            refused = strncmp (zg_member_reason (fast), "409 ", 4) == 0;
        else
        if (event && streq (event, "DELIVER")) {
            assert (zg_member_seq (fast) == first_seq + 1);
            assert (zframe_streq (zg_member_payload (fast), "two"));
            two = true;
        }
        event = zg_member_recv (observer, 20);
        if (event && streq (event, "TIMEOUT"))
            told = streq (zg_member_reason (observer), zg_member_id (quiet));
    }
    assert (refused && two && told);
    event = zg_member_recv (quiet, 2000);
    assert (event && streq (event, "DELIVER"));     //  "one", queued before the eviction
    event = zg_member_recv (quiet, 2000);
    assert (event && streq (event, "EVICTED"));
    assert (streq (zg_member_reason (quiet), "timeout"));
    if (verbose)
        printf ("(%s evicted) ", zg_member_id (quiet));

    assert (zg_room_producer_send_oob (producer, "room", "hey", 3) == 2);
    while ((event = zg_member_recv (fast, 2000)) && !streq (event, "OOB"))
        ;
    assert (event && zframe_streq (zg_member_payload (fast), "hey"));
    //  A zero timeout returns an event that is already waiting
    assert (zg_room_producer_send_oob (producer, "room", "now", 3) == 2);
    zsock_t *fast_socket = zg_room_producer_socket (zg_member_producer (fast));
    zmq_pollitem_t ready = { zsock_resolve (fast_socket), 0, ZMQ_POLLIN, 0 };
    assert (zmq_poll (&ready, 1, 2000) == 1);
    event = zg_member_recv (fast, 0);
    assert (event && streq (event, "OOB"));
    assert (zframe_streq (zg_member_payload (fast), "now"));
    assert (zg_member_recv (fast, 0) == NULL);

    zg_member_destroy (&quiet);
    zg_member_destroy (&observer);
    zg_member_destroy (&fast);
    zg_member_destroy (&fast);
    zactor_destroy (&rooms);
    //  @end
    printf ("OK\n");
}
#endif
