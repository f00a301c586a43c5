/*  =========================================================================
    zg_rclients - the rooms actor's logical clients

    A hash of id to client, and a zg_liveness list of the same clients in
    order of last contact: a touch moves a client to the recent end, O(1).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rclients.h"
#include "zg_slots.h"
#include "zg_wire.h"

struct _zg_rclients_t {
    zhashx_t *clients;              //  Client id -> zg_rclient_t
    zg_liveness_t *liveness;        //  The clients, silent the longest first
    zg_slots_t *slots;              //  Clients per holder (identity or connection)
    char tag [16];                  //  Process tag that prefixes client ids
    uint64_t next_client;           //  Counter that ends client ids
};

//  --------------------------------------------------------------------------

static void
s_client_destroy (zg_rclient_t **client_p)
{
    zg_rclient_t *client = *client_p;
    free (client->id);
    free (client->routing);
    free (client->owner);
    free (client->slot);
    free (client);
    *client_p = NULL;
}

//  --------------------------------------------------------------------------
//  Create an empty registry

zg_rclients_t *
zg_rclients_new (void)
{
    zg_rclients_t *self = (zg_rclients_t *) zmalloc (sizeof (zg_rclients_t));
    assert (self);
    self->clients = zhashx_new ();
    zhashx_set_destructor (self->clients, (zhashx_destructor_fn *) s_client_destroy);
    self->liveness = zg_liveness_new ();
    self->slots = zg_slots_new ();
    //  Ids stay unique across restarts that reuse the counter. Not czmq's
    //  randof (UINT32_MAX): it converts a float past INT_MAX to int, which
    //  is undefined; two random () calls give the 32 bits
    uint32_t bits = (uint32_t) random () << 16 ^ (uint32_t) random ();
    snprintf (self->tag, sizeof self->tag, "%08x", (unsigned) (bits ^ (uint32_t) zclock_time ()));
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the registry and every client in it

void
zg_rclients_destroy (zg_rclients_t **self_p)
{
    assert (self_p);
    zg_rclients_t *self = *self_p;
    if (!self)
        return;
    //  The list first: it unlinks the nodes inside the clients
    zg_liveness_destroy (&self->liveness);
    zhashx_destroy (&self->clients);
    zg_slots_destroy (&self->slots);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Add a client with a fresh id, heard from now on this connection

zg_rclient_t *
zg_rclients_add (zg_rclients_t *self, const void *routing, size_t routing_size, int64_t now)
{
    assert (self);
    zg_rclient_t *client = (zg_rclient_t *) zmalloc (sizeof (zg_rclient_t));
    assert (client);
    char id [ZG_RCLIENTS_ID_SIZE];
    snprintf (id, sizeof id, "%s-%" PRIu64, self->tag, ++self->next_client);
    client->id = strdup (id);
    assert (client->id);
    client->id_size = strlen (id);
    client->version = 1;
    zhashx_insert (self->clients, id, client);
    zg_rclients_touch (self, client, routing, routing_size, now);
    return client;
}

//  --------------------------------------------------------------------------
//  HELLO: a client within the limits

zg_rclient_t *
zg_rclients_hello (zg_rclients_t *self, const void *routing, size_t routing_size, const char *identity,
                   bool owned, int64_t max_clients, int64_t max_per_holder, int64_t now, int *code, char *reason)
{
    assert (self && code && reason);
    if ((int64_t) zhashx_size (self->clients) >= max_clients) {
        *code = ZG_ERR_UNAVAILABLE;
        zg_wire_reason (reason, "too many clients (max-clients %" PRId64 ")", max_clients);
        return NULL;
    }
    //  The gateway's web sessions share its inproc connection; each has one
    //  client, and the gateway bounds sessions per address
    char *slot = identity? zg_slots_key (owned? identity: NULL, routing, routing_size): NULL;
    if (slot && !zg_slots_take (self->slots, slot, max_per_holder)) {
        *code = ZG_ERR_TOO_MANY;
        zg_wire_reason (reason, "too many clients for one %s (max-clients-per-connection %" PRId64 ")",
                        owned && *identity? "identity": "connection", max_per_holder);
        free (slot);
        return NULL;
    }
    zg_rclient_t *client = zg_rclients_add (self, routing, routing_size, now);
    client->slot = slot;
    if (owned && identity)
        zg_rclients_set_owner (client, identity);
    return client;
}

//  --------------------------------------------------------------------------
//  The client with this id, or NULL

zg_rclient_t *
zg_rclients_lookup (zg_rclients_t *self, const void *id, size_t id_size)
{
    assert (self);
    char key [ZG_RCLIENTS_ID_SIZE];
    //  A NUL would end the key early and let "<id>\0junk" pass for <id>
    if (id_size >= sizeof key || memchr (id, 0, id_size))
        return NULL;
    memcpy (key, id, id_size);
    key [id_size] = 0;
    return (zg_rclient_t *) zhashx_lookup (self->clients, key);
}

//  --------------------------------------------------------------------------
//  The client a request names, if the request may name it

zg_rclient_t *
zg_rclients_named (zg_rclients_t *self, const void *id, size_t id_size, zg_wire_request_t *request, int *code,
                   char *reason)
{
    assert (self && request && code && reason);
    zg_rclient_t *client = zg_rclients_lookup (self, id, id_size);
    zg_wire_part_t routing = zg_wire_frame (request, 0);
    if (!client) {
        *code = ZG_ERR_NOT_FOUND;
        zg_wire_reason (reason, "unknown client");
    }
    else
    //  The message's properties are read only for a client that has an owner
    if (!zg_rclients_may_name (client, routing.data, routing.size, client->owner? zg_wire_identity (request): NULL)) {
        *code = ZG_ERR_FORBIDDEN;
        zg_wire_reason (reason, "client %s belongs to another connection", client->id);
        client = NULL;
    }
    return client;
}

//  --------------------------------------------------------------------------
//  The client was heard from now on this connection

void
zg_rclients_touch (zg_rclients_t *self, zg_rclient_t *client,
                   const void *routing, size_t routing_size, int64_t now)
{
    assert (self);
    assert (client);
    //  Events follow the client to the connection it last spoke on
    if (client->routing_size != routing_size || memcmp (client->routing, routing, routing_size)) {
        client->routing_size = routing_size;
        client->routing = (byte *) realloc (client->routing, routing_size? routing_size: 1);
        assert (client->routing);
        memcpy (client->routing, routing, routing_size);
    }
    client->last_seen_wall = zclock_time ();
    zg_liveness_touch (self->liveness, &client->liveness, now);
}

//  --------------------------------------------------------------------------
//  The client silent the longest if it has timed out, else NULL

zg_rclient_t *
zg_rclients_expired (zg_rclients_t *self, int64_t now, int64_t timeout)
{
    assert (self);
    zg_liveness_node_t *node = zg_liveness_expired (self->liveness, now, timeout);
    return node? ZG_ITEM_OF (node, zg_rclient_t, liveness): NULL;
}

//  --------------------------------------------------------------------------
//  Monotonic ms when the client silent the longest times out, or INT64_MAX

int64_t
zg_rclients_next_deadline (zg_rclients_t *self, int64_t timeout)
{
    assert (self);
    return zg_liveness_next_deadline (self->liveness, timeout);
}

//  --------------------------------------------------------------------------
//  The client belongs to this identity

void
zg_rclients_set_owner (zg_rclient_t *client, const char *identity)
{
    assert (client);
    assert (identity);
    free (client->owner);
    client->owner = strdup (identity);
    assert (client->owner);
}

//  --------------------------------------------------------------------------
//  Whether a request from this connection and identity may name the client

bool
zg_rclients_may_name (zg_rclient_t *client, const void *routing, size_t routing_size, const char *identity)
{
    assert (client);
    if (client->owner)
        return identity && streq (identity, client->owner);
    //  Without an owner, the client never moved: routing is its creator's
    return routing_size == client->routing_size && memcmp (routing, client->routing, routing_size) == 0;
}

//  --------------------------------------------------------------------------
//  Forget and free a client; it must have no memberships left

void
zg_rclients_remove (zg_rclients_t *self, zg_rclient_t **client_p)
{
    assert (self);
    assert (client_p && *client_p);
    zg_rclient_t *client = *client_p;
    assert (client->members == NULL && client->rooms == 0);
    zg_liveness_remove (self->liveness, &client->liveness);
    if (client->slot)
        zg_slots_give (self->slots, client->slot);
    //  The table's destructor frees it
    zhashx_delete (self->clients, client->id);
    *client_p = NULL;
}

//  --------------------------------------------------------------------------
//  Clients in the registry

size_t
zg_rclients_size (zg_rclients_t *self)
{
    assert (self);
    return zhashx_size (self->clients);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rclients_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_rclients: ");
    //  @selftest
    zg_rclients_t *clients = zg_rclients_new ();
    assert (zg_rclients_next_deadline (clients, 1000) == INT64_MAX);
    zg_rclient_t *a = zg_rclients_add (clients, "c1", 2, 100);
    zg_rclient_t *b = zg_rclients_add (clients, "c1", 2, 200);
    zg_rclient_t *c = zg_rclients_add (clients, "c2", 2, 300);
    assert (zg_rclients_size (clients) == 3);
    assert (strneq (a->id, b->id) && a->id_size == strlen (a->id) && a->id_size < ZG_RCLIENTS_ID_SIZE);
    assert (a->liveness.last_seen == 100 && a->last_seen_wall > 0);
    assert (c->routing_size == 2 && memcmp (c->routing, "c2", 2) == 0);

    //  Lookups find by exact id and change nothing
    assert (zg_rclients_lookup (clients, b->id, b->id_size) == b);
    assert (zg_rclients_lookup (clients, b->id, b->id_size - 1) == NULL);
    assert (zg_rclients_lookup (clients, "nobody", 6) == NULL);
    char padded [ZG_RCLIENTS_ID_SIZE + 8];
    memcpy (padded, a->id, a->id_size + 1);     //  "<id>\0" is not <id>
    assert (zg_rclients_lookup (clients, padded, a->id_size + 1) == NULL);
    memset (padded, 'x', sizeof padded);
    assert (zg_rclients_lookup (clients, padded, sizeof padded) == NULL);
    assert (a->liveness.last_seen == 100 && zg_rclients_next_deadline (clients, 1000) == 1100);

    //  Expiry sees only the client silent the longest, and only once it is due
    assert (zg_rclients_expired (clients, 1099, 1000) == NULL);
    assert (zg_rclients_expired (clients, 1100, 1000) == a);
    //  A touch moves the client to the recent end and its events to the
    //  connection it spoke on
    zg_rclients_touch (clients, a, "c3", 2, 400);
    assert (a->liveness.last_seen == 400 && a->routing_size == 2 && memcmp (a->routing, "c3", 2) == 0);
    assert (zg_rclients_expired (clients, 1199, 1000) == NULL);
    assert (zg_rclients_expired (clients, 1200, 1000) == b);
    zg_rclients_touch (clients, a, "longer", 6, 500);
    assert (a->routing_size == 6 && memcmp (a->routing, "longer", 6) == 0);

    //  A client is named by the connection that made it, or by its owner
    assert (zg_rclients_may_name (c, "c2", 2, NULL));
    assert (!zg_rclients_may_name (c, "c1", 2, NULL));
    assert (!zg_rclients_may_name (c, "c", 1, "alice"));
    zg_rclients_set_owner (c, "alice");
    assert (zg_rclients_may_name (c, "c9", 2, "alice"));
    assert (!zg_rclients_may_name (c, "c2", 2, "bob"));
    assert (!zg_rclients_may_name (c, "c2", 2, NULL));

    //  Removing keeps the others in order
    zg_rclients_remove (clients, &b);
    assert (b == NULL && zg_rclients_size (clients) == 2);
    assert (zg_rclients_expired (clients, 1300, 1000) == c);
    zg_rclients_remove (clients, &c);
    assert (zg_rclients_next_deadline (clients, 1000) == 1500);
    assert (zg_rclients_lookup (clients, a->id, a->id_size) == a);

    //  HELLO: clients per connection (or per owning identity) are bounded,
    //  inproc ones only by max-clients; a removed client frees its slot
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_rclient_t *first = zg_rclients_hello (clients, "k1", 2, "", false, 5, 2, 600, &code, reason);
    zg_rclient_t *second = zg_rclients_hello (clients, "k1", 2, "", false, 5, 2, 600, &code, reason);
    assert (first && second && !first->owner);
    assert (!zg_rclients_hello (clients, "k1", 2, "", false, 5, 2, 600, &code, reason));
    assert (code == ZG_ERR_TOO_MANY && strstr (reason, "one connection") && zg_rclients_size (clients) == 3);
    assert (zg_rclients_hello (clients, "k2", 2, "", false, 5, 2, 600, &code, reason));
    assert (!zg_rclients_hello (clients, "k3", 2, "", false, 4, 2, 600, &code, reason));
    assert (code == ZG_ERR_UNAVAILABLE && zg_rclients_size (clients) == 4);
    zg_rclients_remove (clients, &first);
    zg_rclient_t *owned = zg_rclients_hello (clients, "k1", 2, "carol", true, 5, 2, 600, &code, reason);
    assert (owned && streq (owned->owner, "carol") && streq (owned->slot, "identity:carol"));
    assert (zg_rclients_hello (clients, "k1", 2, "", false, 5, 2, 600, &code, reason));
    zg_rclients_remove (clients, &second);
    zg_rclient_t *inproc = zg_rclients_hello (clients, "g", 1, NULL, true, 5, 0, 600, &code, reason);
    assert (inproc && !inproc->slot && !inproc->owner);

    //  Destroy frees the clients left
    zg_rclients_destroy (&clients);
    assert (clients == NULL);
    zg_rclients_destroy (&clients);
    //  @end
    printf ("OK\n");
}
