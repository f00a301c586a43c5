/*  =========================================================================
    zg_rbatch - one release's DELIVERs to the version 2 members, one
    message per connection

    Groups live in an array kept from release to release (with their
    buffers). A room's members come in the same order release after
    release, so each client remembers its group's index and the next
    release looks there first (one comparison of routing ids); else the
    first group, else a hash whose keys are clients and whose hash and
    equality are those of their routing ids, emptied key by key after each
    send.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rbatch.h"
#include "zg_rtest.h"

//  Client ids separated by single spaces
typedef struct {
    char *data;                     //  The ids
    size_t size;                    //  Bytes used
    size_t max;                     //  Bytes allocated
} s_list_t;

//  The members of one connection
typedef struct {
    size_t index;                   //  Its place in the batch's groups
    zg_rclient_t *client;           //  Its first member, whose routing id is the group's
    s_list_t holders;               //  Sync members: their DELIVER carries a token
    s_list_t observers;             //  Async members
} s_group_t;

struct _zg_rbatch_t {
    s_group_t **groups;             //  This release's groups, then spare ones
    size_t count;                   //  Groups in use
    size_t allocated;               //  Groups allocated
    zhashx_t *index;                //  Client -> its routing id's group, past the first
    size_t members;                 //  Members added since the last send
};

//  --------------------------------------------------------------------------
//  A routing id's hash (FNV-1a) and equality, as the index's keys

static size_t
s_routing_hash (const void *key)
{
    const zg_rclient_t *client = (const zg_rclient_t *) key;
    size_t hash = 2166136261u;
    for (size_t index = 0; index < client->routing_size; index++)
        hash = (hash ^ client->routing [index]) * 16777619u;
    return hash;
}

static int
s_routing_compare (const void *key1, const void *key2)
{
    const zg_rclient_t *first = (const zg_rclient_t *) key1;
    const zg_rclient_t *second = (const zg_rclient_t *) key2;
    if (first->routing_size != second->routing_size)
        return first->routing_size < second->routing_size? -1: 1;
    return memcmp (first->routing, second->routing, first->routing_size);
}

//  --------------------------------------------------------------------------
//  Create an empty batch

zg_rbatch_t *
zg_rbatch_new (void)
{
    zg_rbatch_t *self = (zg_rbatch_t *) zmalloc (sizeof (zg_rbatch_t));
    assert (self);
    self->index = zhashx_new ();
    assert (self->index);
    //  The keys are the clients themselves: nothing to copy or free
    zhashx_set_key_duplicator (self->index, NULL);
    zhashx_set_key_destructor (self->index, NULL);
    zhashx_set_key_hasher (self->index, s_routing_hash);
    zhashx_set_key_comparator (self->index, s_routing_compare);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy a batch

void
zg_rbatch_destroy (zg_rbatch_t **self_p)
{
    assert (self_p);
    zg_rbatch_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->allocated; index++) {
        free (self->groups [index]->holders.data);
        free (self->groups [index]->observers.data);
        free (self->groups [index]);
    }
    free (self->groups);
    zhashx_destroy (&self->index);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Append a client id to a list

static void
s_list_append (s_list_t *list, const char *id, size_t size)
{
    size_t needed = list->size + size + 1;
    if (needed > list->max) {
        list->max = needed * 2;
        list->data = (char *) realloc (list->data, list->max);
        assert (list->data);
    }
    if (list->size)
        list->data [list->size++] = ' ';
    memcpy (list->data + list->size, id, size);
    list->size += size;
}

//  --------------------------------------------------------------------------
//  A new group for the client's connection, from the spares if any

static s_group_t *
s_group_add (zg_rbatch_t *self, zg_rclient_t *client)
{
    if (self->count == self->allocated) {
        self->allocated = self->allocated? self->allocated * 2: 4;
        self->groups = (s_group_t **) realloc (self->groups, self->allocated * sizeof (s_group_t *));
        assert (self->groups);
        for (size_t index = self->count; index < self->allocated; index++) {
            self->groups [index] = (s_group_t *) zmalloc (sizeof (s_group_t));
            assert (self->groups [index]);
            self->groups [index]->index = index;
        }
    }
    s_group_t *group = self->groups [self->count++];
    group->client = client;
    group->holders.size = 0;
    group->observers.size = 0;
    if (self->count > 1)
        zhashx_insert (self->index, client, group);
    return group;
}

//  --------------------------------------------------------------------------
//  Add a member of the release

void
zg_rbatch_add (zg_rbatch_t *self, zg_rclient_t *client, bool async)
{
    assert (self);
    assert (client);
    s_group_t *group = NULL;
    size_t hint = client->batch_group < self->count? client->batch_group: 0;
    if (self->count && s_routing_compare (self->groups [hint]->client, client) == 0)
        group = self->groups [hint];
    else
    if (self->count > 1)
        group = (s_group_t *) zhashx_lookup (self->index, client);
    if (!group)
        group = s_group_add (self, client);
    client->batch_group = group->index;
    s_list_append (async? &group->observers: &group->holders, client->id, client->id_size);
    self->members++;
}

//  --------------------------------------------------------------------------
//  Members added since the last send

size_t
zg_rbatch_members (zg_rbatch_t *self)
{
    assert (self);
    return self->members;
}

//  --------------------------------------------------------------------------
//  Send one DELIVERS per connection and empty the batch

size_t
zg_rbatch_send (zg_rbatch_t *self, void *handle, zg_wire_part_t room, zg_wire_part_t seq, zmq_msg_t *payload)
{
    assert (self);
    assert (handle);
    size_t refused = 0;
    zg_wire_part_t parts [] = { zg_wire_str ("DELIVERS"), room, seq, { NULL, 0 }, { NULL, 0 } };
    for (size_t index = 0; index < self->count; index++) {
        s_group_t *group = self->groups [index];
        parts [3] = (zg_wire_part_t) { group->holders.data, group->holders.size };
        parts [4] = (zg_wire_part_t) { group->observers.data, group->observers.size };
        zg_wire_part_t routing = { group->client->routing, group->client->routing_size };
        if (zg_wire_send (handle, routing, parts, 5, payload) == -1)
            refused++;
        //  The client may be gone by the next release: forget it now
        if (index > 0)
            zhashx_delete (self->index, group->client);
    }
    self->count = 0;
    self->members = 0;
    return refused;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Receive a message and expect its frames joined by '|' (a format)
static void
s_expect (zsock_t *peer, const char *format, ...) CHECK_PRINTF (2);

static void
s_expect (zsock_t *peer, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *expected = zsys_vprintf (format, args);
    va_end (args);
    zmsg_t *event = zmsg_recv (peer);
    char *actual = zg_rtest_text (&event);
    if (strneq (actual, expected))
        zsys_error ("zg_rbatch: expected '%s', got '%s'", expected, actual);
    assert (streq (actual, expected));
    zstr_free (&actual);
    zstr_free (&expected);
}

void
zg_rbatch_test (bool verbose)
{
    printf (" * zg_rbatch: ");
    //  @selftest
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    zsock_set_router_mandatory (router, 1);
    assert (zsock_bind (router, "inproc://zg-rbatch-test") == 0);
    zsock_t *first = zsock_new (ZMQ_DEALER);
    zsock_t *second = zsock_new (ZMQ_DEALER);
    zsock_set_identity (first, "c1");
    zsock_set_identity (second, "c2");
    assert (zsock_connect (first, "inproc://zg-rbatch-test") == 0);
    assert (zsock_connect (second, "inproc://zg-rbatch-test") == 0);
    zsock_set_rcvtimeo (first, 1000);
    zsock_set_rcvtimeo (second, 1000);
    //  The ROUTER knows a peer once it has heard from it
    zstr_send (first, "hi");
    zstr_send (second, "hi");
    for (int count = 0; count < 2; count++) {
        zmsg_t *hello = zmsg_recv (router);
        zmsg_destroy (&hello);
    }
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *a = zg_rclients_add (clients, "c1", 2, 0);
    zg_rclient_t *b = zg_rclients_add (clients, "c1", 2, 0);
    zg_rclient_t *c = zg_rclients_add (clients, "c2", 2, 0);
    zg_rclient_t *d = zg_rclients_add (clients, "c1", 2, 0);
    zg_rclient_t *gone = zg_rclients_add (clients, "c3", 2, 0);

    zg_rbatch_t *batch = zg_rbatch_new ();
    zmq_msg_t payload;
    zmq_msg_init_size (&payload, 5);
    memcpy (zmq_msg_data (&payload), "hello", 5);
    //  Two connections: one message each, holders and observers apart
    zg_rbatch_add (batch, a, false);
    zg_rbatch_add (batch, c, false);
    zg_rbatch_add (batch, b, true);
    zg_rbatch_add (batch, d, false);
    assert (zg_rbatch_members (batch) == 4);
    assert (zg_rbatch_send (batch, zsock_resolve (router), zg_wire_str ("lobby"), zg_wire_str ("7"), &payload) == 0);
    assert (zg_rbatch_members (batch) == 0);
    s_expect (first, "DELIVERS|lobby|7|%s %s|%s|hello", a->id, d->id, b->id);
    s_expect (second, "DELIVERS|lobby|7|%s||hello", c->id);
    //  The next release starts afresh: c2 first, though c's hint says group
    //  1, and c1 not found in the hash is a group of its own; a connection
    //  that is gone is refused and counted
    zg_rbatch_add (batch, c, true);
    zg_rbatch_add (batch, gone, false);
    zg_rbatch_add (batch, b, false);
    assert (zg_rbatch_send (batch, zsock_resolve (router), zg_wire_str ("lobby"), zg_wire_str ("8"), &payload) == 1);
    s_expect (second, "DELIVERS|lobby|8||%s|hello", c->id);
    s_expect (first, "DELIVERS|lobby|8|%s||hello", b->id);
    //  The payload stays the caller's
    assert (zmq_msg_size (&payload) == 5);
    zmq_msg_close (&payload);

    zg_rbatch_destroy (&batch);
    zg_rbatch_destroy (&batch);
    zg_rclients_destroy (&clients);
    zsock_destroy (&first);
    zsock_destroy (&second);
    zsock_destroy (&router);
    //  @end
    if (verbose)
        printf ("(groups reused) ");
    printf ("OK\n");
}
