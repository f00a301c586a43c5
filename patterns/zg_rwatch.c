/*  =========================================================================
    zg_rwatch - who hears that a member left a room

    Watchers are few (operators' and delivery planes' clients), so telling
    them is a walk of a small table; a room's observers are its async
    members, counted by the room so that a room without any costs nothing.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rwatch.h"

struct _zg_rwatch_t {
    void *handle;                   //  The actor's ROUTER
    zhashx_t *watchers;             //  Client id -> zg_rclient_t (not owned)
};

//  --------------------------------------------------------------------------

zg_rwatch_t *
zg_rwatch_new (void *handle)
{
    assert (handle);
    zg_rwatch_t *self = (zg_rwatch_t *) zmalloc (sizeof (zg_rwatch_t));
    assert (self);
    self->handle = handle;
    self->watchers = zhashx_new ();
    return self;
}

//  --------------------------------------------------------------------------

void
zg_rwatch_destroy (zg_rwatch_t **self_p)
{
    assert (self_p);
    zg_rwatch_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->watchers);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------

void
zg_rwatch_set (zg_rwatch_t *self, zg_rclient_t *client, bool on)
{
    assert (self);
    assert (client);
    if (on)
        zhashx_update (self->watchers, client->id, client);
    else
        zhashx_delete (self->watchers, client->id);
}

//  --------------------------------------------------------------------------

bool
zg_rwatch_has (zg_rwatch_t *self, zg_rclient_t *client)
{
    assert (self);
    return zhashx_lookup (self->watchers, client->id) == client;
}

//  --------------------------------------------------------------------------

size_t
zg_rwatch_size (zg_rwatch_t *self)
{
    assert (self);
    return zhashx_size (self->watchers);
}

//  --------------------------------------------------------------------------
//  One TIMEOUT event to a listener, on the connection it last spoke on;
//  returns 1 if libzmq refused it

static size_t
s_tell (zg_rwatch_t *self, zg_rclient_t *listener, zg_wire_part_t *event)
{
    event [1] = (zg_wire_part_t) { listener->id, listener->id_size };
    zg_wire_part_t routing = { listener->routing, listener->routing_size };
    return zg_wire_send (self->handle, routing, event, 5, NULL) == -1? 1: 0;
}

//  --------------------------------------------------------------------------

size_t
zg_rwatch_removed (zg_rwatch_t *self, zg_room_t *room, zg_rclient_t *client, const char *reason)
{
    assert (self);
    assert (room);
    assert (client);
    zg_wire_part_t event [] = {
        zg_wire_str ("TIMEOUT"), { NULL, 0 }, { room->name, room->name_size },
        { client->id, client->id_size }, zg_wire_str (reason)
    };
    size_t dropped = 0;
    if (room->async_members > 0)
        for (zg_rmember_t *observer = zg_room_first_member (room); observer;
             observer = zg_room_next_member (room))
            if (observer->async)
                dropped += s_tell (self, observer->client, event);
    for (zg_rclient_t *watcher = (zg_rclient_t *) zhashx_first (self->watchers); watcher;
         watcher = (zg_rclient_t *) zhashx_next (self->watchers)) {
        zg_rmember_t *member = zg_room_member (room, watcher);
        if (!member || !member->async)
            dropped += s_tell (self, watcher, event);
    }
    return dropped;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rwatch_test (bool verbose)
{
    printf (" * zg_rwatch: ");
    //  @selftest
    zsock_t *router = zsock_new_router ("inproc://zg-rwatch-test");
    zsock_set_router_mandatory (router, 1);
    zsock_t *peer = zsock_new (ZMQ_DEALER);
    zsock_set_identity (peer, "peer");
    zsock_connect (peer, "inproc://zg-rwatch-test");
    zsock_set_rcvtimeo (peer, 1000);
    //  The router learns the peer's routing id from its first message
    zstr_send (peer, "hi");
    zmsg_t *hello = zmsg_recv (router);
    zmsg_destroy (&hello);

    zg_rwatch_t *watch = zg_rwatch_new (zsock_resolve (router));
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *leaver = zg_rclients_add (clients, "peer", 4, 0);
    zg_rclient_t *observer = zg_rclients_add (clients, "peer", 4, 0);
    zg_rclient_t *watcher = zg_rclients_add (clients, "peer", 4, 0);
    zg_room_options_t options = { false, ZG_ROOM_DEFAULT_ACK_TIMEOUT, false };
    zg_room_t *room = zg_room_new ("lobby", &options);
    zg_room_member_add (room, observer, true);
    zg_rmember_t *member = zg_room_member_add (room, leaver, false);
    zg_room_member_remove (room, &member);

    //  Only the observer hears of it while nobody watches
    assert (zg_rwatch_removed (watch, room, leaver, "leave") == 0);
    zmsg_t *event = zmsg_recv (peer);
    assert (event && zmsg_size (event) == 5);
    assert (zframe_streq (zmsg_first (event), "TIMEOUT"));
    assert (zframe_streq (zmsg_next (event), observer->id));
    assert (zframe_streq (zmsg_next (event), "lobby"));
    assert (zframe_streq (zmsg_next (event), leaver->id));
    assert (zframe_streq (zmsg_next (event), "leave"));
    zmsg_destroy (&event);
    zsock_set_rcvtimeo (peer, 50);
    assert (zmsg_recv (peer) == NULL);

    //  A watcher hears of every room; an observer that watches hears once
    zg_rwatch_set (watch, watcher, true);
    zg_rwatch_set (watch, observer, true);
    assert (zg_rwatch_size (watch) == 2 && zg_rwatch_has (watch, watcher) && !zg_rwatch_has (watch, leaver));
    zg_rwatch_removed (watch, room, leaver, "bye");
    zsock_set_rcvtimeo (peer, 1000);
    size_t heard_observer = 0, heard_watcher = 0;
    for (int count = 0; count < 2; count++) {
        event = zmsg_recv (peer);
        assert (event && zframe_streq (zmsg_first (event), "TIMEOUT"));
        zframe_t *listener = zmsg_next (event);
        heard_observer += zframe_streq (listener, observer->id);
        heard_watcher += zframe_streq (listener, watcher->id);
        assert (zframe_streq (zmsg_last (event), "bye"));
        zmsg_destroy (&event);
    }
    assert (heard_observer == 1 && heard_watcher == 1);
    zsock_set_rcvtimeo (peer, 50);
    assert (zmsg_recv (peer) == NULL);
    zg_rwatch_set (watch, watcher, false);
    zg_rwatch_set (watch, watcher, false);
    assert (zg_rwatch_size (watch) == 1);

    //  A listener whose connection is gone is counted, not an error
    zg_rclient_t *gone = zg_rclients_add (clients, "gone", 4, 0);
    zg_rwatch_set (watch, gone, true);
    assert (zg_rwatch_removed (watch, room, leaver, "timeout") == 1);
    zmsg_t *last = zmsg_recv (peer);
    assert (last);
    zmsg_destroy (&last);
    if (verbose)
        printf ("%zu watchers ", zg_rwatch_size (watch));

    zg_room_destroy (&room);
    zg_rwatch_destroy (&watch);
    zg_rclients_destroy (&clients);
    zsock_destroy (&peer);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
