/*  =========================================================================
    zg_rooms_link - the rooms actor's side of its link to the cluster

    The bridge is told only what changed: the link remembers, per room,
    the "count sync" it last reported, so an ack (which settles its room)
    costs a hash lookup here and nothing in Redis.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rooms_link.h"
#include "zg_rclients.h"
#include "zg_rtest.h"

struct _zg_rooms_link_t {
    zsock_t *socket;                //  PAIR to the bridge
    bool on;                        //  Connected
    zhashx_t *reported;             //  Room -> "count sync" told to the bridge
    uint64_t forwarded;             //  Requests passed on to Redis
    uint64_t received;              //  Room messages from other nodes (and this one) via Redis
    uint64_t acks;                  //  Messages over on this node, told to Redis
    uint64_t dropped;               //  Answers libzmq refused (the client's queue full or gone)
};

//  --------------------------------------------------------------------------

zg_rooms_link_t *
zg_rooms_link_new (void)
{
    zg_rooms_link_t *self = (zg_rooms_link_t *) zmalloc (sizeof (zg_rooms_link_t));
    assert (self);
    self->socket = zsock_new (ZMQ_PAIR);
    assert (self->socket);
    //  Nothing on this link may be dropped: each message is a request, a
    //  membership change or a room message, which the rooms bound
    zsock_set_sndhwm (self->socket, 0);
    zsock_set_rcvhwm (self->socket, 0);
    self->reported = zhashx_new ();
    zhashx_set_destructor (self->reported, (zhashx_destructor_fn *) zstr_free);
    return self;
}

//  --------------------------------------------------------------------------

void
zg_rooms_link_destroy (zg_rooms_link_t **self_p)
{
    assert (self_p);
    zg_rooms_link_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->socket);
        zhashx_destroy (&self->reported);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Hooks of the room set

static void
s_done (void *arg, zg_room_t *room, uint64_t seq)
{
    zg_rooms_link_t *self = (zg_rooms_link_t *) arg;
    zstr_sendm (self->socket, "ACK");
    zstr_sendm (self->socket, room->name);
    zstr_sendf (self->socket, "%" PRIu64, seq);
    self->acks++;
}

static void
s_settled (void *arg, zg_room_t *room)
{
    zg_rooms_link_t *self = (zg_rooms_link_t *) arg;
    size_t count = room->sync_members + room->async_members;
    char state [32];
    snprintf (state, sizeof state, "%zu %d", count, room->sync_members > 0);
    const char *reported = (const char *) zhashx_lookup (self->reported, room->name);
    if (reported? streq (reported, state): count == 0)
        return;
    if (count)
        zhashx_update (self->reported, room->name, strdup (state));
    else
        zhashx_delete (self->reported, room->name);
    zstr_sendm (self->socket, "MEMBERS");
    zstr_sendm (self->socket, room->name);
    zstr_sendfm (self->socket, "%zu", count);
    zstr_send (self->socket, room->sync_members > 0? "1": "0");
}

//  --------------------------------------------------------------------------

int
zg_rooms_link_connect (zg_rooms_link_t *self, const char *endpoint, zg_roomset_t *rooms, char *error, size_t size)
{
    assert (self);
    if (self->on) {
        snprintf (error, size, "the rooms are linked to the cluster already");
        return -1;
    }
    if (strncmp (endpoint, "inproc://", 9) != 0) {
        snprintf (error, size, "'%s' is not an inproc endpoint", endpoint);
        return -1;
    }
    if (zsock_connect (self->socket, "%s", endpoint) == -1) {
        snprintf (error, size, "cannot connect to '%s': %s", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->on = true;
    zg_roomset_set_link (rooms, s_done, s_settled, self);
    return 0;
}

//  --------------------------------------------------------------------------

bool
zg_rooms_link_on (zg_rooms_link_t *self)
{
    assert (self);
    return self->on;
}

//  --------------------------------------------------------------------------

void
zg_rooms_link_settings (zg_rooms_link_t *self, int64_t max_backlog, bool hold, int64_t ack_timeout)
{
    assert (self);
    if (self->on) {
        zstr_sendm (self->socket, "SETTINGS");
        zstr_sendfm (self->socket, "%" PRId64, max_backlog);
        zstr_sendm (self->socket, hold? "1": "0");
        zstr_sendf (self->socket, "%" PRId64, ack_timeout);
    }
}

//  --------------------------------------------------------------------------
//  [COMMAND][routing][req][fields...][numbers...]: the command first

bool
zg_rooms_link_forward (zg_rooms_link_t *self, zg_wire_request_t *request, size_t frames,
                       const int64_t *numbers, size_t count)
{
    assert (self);
    if (!self->on)
        return false;
    size_t kept = zg_wire_kept (request);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, request->data [1], request->size [1]);
    zmsg_addmem (msg, request->data [0], request->size [0]);
    for (size_t index = 2; index < frames && index < kept; index++)
        zmsg_addmem (msg, request->data [index], request->size [index]);
    for (size_t index = 0; index < count; index++)
        zmsg_addstrf (msg, "%" PRId64, numbers [index]);
    zmsg_send (&msg, self->socket);
    self->forwarded++;
    return true;
}

//  --------------------------------------------------------------------------

bool
zg_rooms_link_poll_item (zg_rooms_link_t *self, zmq_pollitem_t *item)
{
    assert (self);
    *item = (zmq_pollitem_t) { self->on? zsock_resolve (self->socket): NULL, 0, self->on? ZMQ_POLLIN: 0, 0 };
    return self->on;
}

//  --------------------------------------------------------------------------
//  A message Redis released: into the local room, which releases it at
//  once (Redis holds, the local room never does), or, if no member is left
//  here, straight back as done

static void
s_deliver (zg_rooms_link_t *self, zg_roomset_t *rooms, zmsg_t *msg, int64_t now)
{
    char *name = zmsg_popstr (msg);
    char *seq = zmsg_popstr (msg);
    char *priority = zmsg_popstr (msg);
    zframe_t *payload = zmsg_pop (msg);
    zg_room_t *room = name? zg_roomset_lookup (rooms, name): NULL;
    self->received++;
    if (room && seq && priority && payload) {
        if (room->options.hold) {
            zg_room_options_t options = room->options;
            options.hold = false;
            zg_room_configure (room, &options);
        }
        zmq_msg_t data;
        zmq_msg_init_size (&data, zframe_size (payload));
        memcpy (zmq_msg_data (&data), zframe_data (payload), zframe_size (payload));
        zg_roomset_queue_seq (rooms, room, strtoull (seq, NULL, 10), strtoll (priority, NULL, 10), &data, NULL);
        zmq_msg_close (&data);
        zg_roomset_settle (rooms, room, now);
    }
    else
    if (name && seq) {
        zstr_sendm (self->socket, "ACK");
        zstr_sendm (self->socket, name);
        zstr_send (self->socket, seq);
    }
    zstr_free (&name);
    zstr_free (&seq);
    zstr_free (&priority);
    zframe_destroy (&payload);
}

//  --------------------------------------------------------------------------
//  [routing][answer...] out on the ROUTER without waiting, as the actor
//  answers (libzmq takes a message whole once it took its first frame)

static void
s_answer (zg_rooms_link_t *self, zmsg_t *msg, void *handle)
{
    size_t left = zmsg_size (msg);
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg))
        if (zmq_send (handle, zframe_data (frame), zframe_size (frame), (--left? ZMQ_SNDMORE: 0) | ZMQ_DONTWAIT) == -1) {
            self->dropped++;
            break;
        }
}

//  --------------------------------------------------------------------------

void
zg_rooms_link_handle (zg_rooms_link_t *self, zg_roomset_t *rooms, void *handle, int64_t now)
{
    assert (self);
    zmsg_t *msg;
    while ((msg = zmsg_recv_nowait (self->socket))) {
        char *command = zmsg_popstr (msg);
        if (command && streq (command, "ANSWER"))
            s_answer (self, msg, handle);
        else
        if (command && streq (command, "DELIVER"))
            s_deliver (self, rooms, msg, now);
        else
        if (command && streq (command, "OOB") && zmsg_size (msg) == 2) {
            char *name = zmsg_popstr (msg);
            zframe_t *payload = zmsg_pop (msg);
            zg_room_t *room = zg_roomset_lookup (rooms, name);
            if (room) {
                zmq_msg_t data;
                zmq_msg_init_size (&data, zframe_size (payload));
                memcpy (zmq_msg_data (&data), zframe_data (payload), zframe_size (payload));
                zg_roomset_oob (rooms, room, &data);
                zmq_msg_close (&data);
            }
            zstr_free (&name);
            zframe_destroy (&payload);
        }
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------

void
zg_rooms_link_stats (zg_rooms_link_t *self, json_object *root)
{
    assert (self);
    if (!self->on)
        return;
    json_object_object_add (root, "cluster-forwarded", json_object_new_uint64 (self->forwarded));
    json_object_object_add (root, "cluster-received", json_object_new_uint64 (self->received));
    json_object_object_add (root, "cluster-acks", json_object_new_uint64 (self->acks));
    json_object_object_add (root, "cluster-dropped", json_object_new_uint64 (self->dropped));
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Expect the bridge's side to get exactly this message
static void
s_test_expect (zsock_t *bridge, const char *expected)
{
    zmsg_t *msg = zmsg_recv (bridge);
    assert (msg);
    char *text = zg_rtest_text (&msg);
    if (!streq (text, expected))
        fprintf (stderr, "\ngot %s, expected %s\n", text, expected);
    assert (streq (text, expected));
    zstr_free (&text);
}

void
zg_rooms_link_test (bool verbose)
{
    printf (" * zg_rooms_link: ");
    //  @selftest
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    assert (zsock_bind (router, "inproc://zg-rooms-link-test-router") == 0);
    zsock_t *member = zsock_new (ZMQ_DEALER);
    zsock_set_identity (member, "peer");
    zsock_set_rcvtimeo (member, 1000);
    assert (zsock_connect (member, "inproc://zg-rooms-link-test-router") == 0);
    zstr_send (member, "hello");
    zmsg_t *hello = zmsg_recv (router);
    zmsg_destroy (&hello);
    zg_roomset_t *rooms = zg_roomset_new (zsock_resolve (router));
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *alice = zg_rclients_add (clients, "peer", 4, 0);

    zsock_t *bridge = zsock_new (ZMQ_PAIR);
    zsock_set_rcvtimeo (bridge, 1000);
    assert (zsock_bind (bridge, "inproc://zg-rooms-link-test") == 0);
    zg_rooms_link_t *link = zg_rooms_link_new ();
    //  A request as the actor received it: not passed on while the link is off
    zstr_sendx (member, "SEND", "r", "lobby", "0", "x", NULL);
    zg_wire_request_t request;
    zsock_set_rcvtimeo (router, 1000);
    zmq_pollitem_t readable = { zsock_resolve (router), 0, ZMQ_POLLIN, 0 };
    assert (zmq_poll (&readable, 1, 1000) == 1);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    assert (!zg_rooms_link_forward (link, &request, 7, NULL, 0));
    char error [256];
    assert (zg_rooms_link_connect (link, "tcp://127.0.0.1:5555", rooms, error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (!zg_rooms_link_on (link));
    assert (zg_rooms_link_connect (link, "inproc://zg-rooms-link-test", rooms, error, sizeof error) == 0);
    assert (zg_rooms_link_connect (link, "inproc://zg-rooms-link-test", rooms, error, sizeof error) == -1);
    zg_rooms_link_settings (link, 5, true, 300);
    s_test_expect (bridge, "SETTINGS|5|1|300");
    //  Passed on: the command first, then the routing id and the rest, and
    //  the numbers the actor added
    int64_t numbers [] = { 2, 3 };
    assert (zg_rooms_link_forward (link, &request, 7, NULL, 0));
    s_test_expect (bridge, "SEND|peer|r|lobby|0|x");
    assert (zg_rooms_link_forward (link, &request, 4, numbers, 2));
    s_test_expect (bridge, "SEND|peer|r|lobby|2|3");
    zg_wire_close (&request);

    //  The first member tells the bridge; a settle that changes nothing does not
    zg_room_t *room = zg_roomset_add (rooms, "lobby");
    zg_roomset_join (rooms, room, alice, false);
    zg_roomset_settle (rooms, room, zclock_mono ());
    s_test_expect (bridge, "MEMBERS|lobby|1|1");
    zg_roomset_settle (rooms, room, zclock_mono ());

    //  A message Redis released goes to the member with Redis' seq; its ack
    //  makes the node's ack
    zstr_sendx (bridge, "DELIVER", "lobby", "42", "3", "data", NULL);
    zmq_pollitem_t item;
    assert (zg_rooms_link_poll_item (link, &item));
    assert (zmq_poll (&item, 1, 1000) == 1);
    zg_rooms_link_handle (link, rooms, zsock_resolve (router), zclock_mono ());
    char *command, *client, *name, *seq, *token, *payload;
    assert (zstr_recvx (member, &command, &client, &name, &seq, &token, &payload, NULL) == 6);
    assert (streq (command, "DELIVER") && streq (seq, "42") && streq (payload, "data"));
    const char *reason;
    assert (zg_room_ack (room, zg_room_member (room, alice), token, strlen (token), &reason) == 0);
    zg_roomset_settle (rooms, room, zclock_mono ());
    s_test_expect (bridge, "ACK|lobby|42");
    zstr_free (&command);
    zstr_free (&client);
    zstr_free (&name);
    zstr_free (&seq);
    zstr_free (&token);
    zstr_free (&payload);

    //  Out of band to the room's members; an answer goes to its client
    zstr_sendx (bridge, "OOB", "lobby", "now", NULL);
    zstr_sendx (bridge, "ANSWER", "peer", "OK", "7", "1", NULL);
    assert (zmq_poll (&item, 1, 1000) == 1);
    zg_rooms_link_handle (link, rooms, zsock_resolve (router), zclock_mono ());
    char *oob, *text;
    assert (zstr_recvx (member, &oob, &client, &name, &text, NULL) == 4);
    assert (streq (oob, "OOB") && streq (text, "now"));
    zstr_free (&oob);
    zstr_free (&client);
    zstr_free (&name);
    zstr_free (&text);
    char *ok, *req, *number;
    assert (zstr_recvx (member, &ok, &req, &number, NULL) == 3);
    assert (streq (ok, "OK") && streq (req, "7") && streq (number, "1"));
    zstr_free (&ok);
    zstr_free (&req);
    zstr_free (&number);

    //  A message for a room without members here is done at once
    zstr_sendx (bridge, "DELIVER", "empty", "43", "0", "data", NULL);
    assert (zmq_poll (&item, 1, 1000) == 1);
    zg_rooms_link_handle (link, rooms, zsock_resolve (router), zclock_mono ());
    s_test_expect (bridge, "ACK|empty|43");

    //  The last member leaves: the bridge hears of none
    zg_rmember_t *membership = zg_room_member (room, alice);
    zg_roomset_leave (rooms, &membership);
    zg_roomset_settle (rooms, room, zclock_mono ());
    s_test_expect (bridge, "MEMBERS|lobby|0|0");
    json_object *stats = json_object_new_object ();
    zg_rooms_link_stats (link, stats);
    assert (json_object_get_int64 (json_object_object_get (stats, "cluster-received")) == 2);
    assert (json_object_get_int64 (json_object_object_get (stats, "cluster-acks")) == 1);
    json_object_put (stats);

    zg_rooms_link_destroy (&link);
    zg_roomset_destroy (&rooms);
    zg_rclients_destroy (&clients);
    zsock_destroy (&bridge);
    zsock_destroy (&member);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
