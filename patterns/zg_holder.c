/*  =========================================================================
    zg_holder - who the names a request makes are charged to

    See zg_holder.h. The key is made only when a name is made, so a request
    on a known name pays nothing for it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_holder.h"

//  --------------------------------------------------------------------------
//  The holder's key, or NULL

char *
zg_holder_key (const zg_holder_t *holder)
{
    if (!holder)
        return NULL;
    zg_wire_request_t *request = holder->request;
    if (request->holder [0])
        return strdup (request->holder);
    const char *identity = zg_wire_identity (request);
    if (!identity)
        return NULL;                //  In-process, and trusted
    zg_wire_part_t routing = zg_wire_frame (request, 0);
    return zg_slots_key (holder->by_identity? identity: NULL, routing.data, routing.size);
}

//  --------------------------------------------------------------------------
//  Whether the holder may take count more slots

int
zg_holder_admit (zg_slots_t *slots, const char *key, size_t count, int64_t limit, const char *what,
                 const char *setting, char *reason)
{
    assert (slots && what && setting && reason);
    if (!key || (int64_t) (zg_slots_held (slots, key) + count) <= limit)
        return 0;
    //  The key's kind is the word before its colon: identity, connection
    //  or the gateway's address (zg_slots_key, zg_gw_answers)
    const char *colon = strchr (key, ':');
    int kind = colon? (int) (colon - key): (int) strlen (key);
    zg_wire_reason (reason, "too many %s for one %.*s (%s %" PRId64 ")", what, kind, key, setting, limit);
    return ZG_ERR_TOO_MANY;
}

//  --------------------------------------------------------------------------
//  Charge a new name

void
zg_holder_charge (zg_slots_t *slots, const char *key, char **name_key_p)
{
    assert (slots && name_key_p && !*name_key_p);
    if (!key)
        return;
    zg_slots_take (slots, key, INT64_MAX);
    *name_key_p = strdup (key);
    assert (*name_key_p);
}

//  --------------------------------------------------------------------------
//  Release a forgotten name's charge

void
zg_holder_release (zg_slots_t *slots, char **name_key_p)
{
    assert (slots && name_key_p);
    if (*name_key_p)
        zg_slots_give (slots, *name_key_p);
    zstr_free (name_key_p);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_holder_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_holder: ");
    //  @selftest
    zsock_t *router = zsock_new_router ("inproc://zg-holder-test");
    zsock_t *dealer = zsock_new_dealer (">inproc://zg-holder-test");
    zg_wire_request_t request;
    zg_holder_t holder = { &request, false };
    char reason [ZG_WIRE_REASON_SIZE];

    //  In-process with no holder named: nobody, never refused
    zstr_sendx (dealer, "SEND", "r", NULL);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    assert (zg_holder_key (&holder) == NULL && zg_holder_key (NULL) == NULL);
    zg_slots_t *slots = zg_slots_new ();
    assert (zg_holder_admit (slots, NULL, 5, 1, "queues", "max-queues-per-connection", reason) == 0);
    zg_wire_close (&request);

    //  The gateway names the holder in an envelope frame, which the
    //  request no longer shows
    zstr_sendx (dealer, ZG_WIRE_HOLDER_TAG "address:127.0.0.2", "SEND", "r", NULL);
    assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
    assert (zg_wire_is (&request, 1, "SEND") && zg_wire_kept (&request) == 3);
    char *key = zg_holder_key (&holder);
    assert (streq (key, "address:127.0.0.2"));
    zg_wire_close (&request);
    assert (zg_slots_take (slots, key, 2));
    assert (zg_holder_admit (slots, key, 1, 2, "queues", "max-queues-per-connection", reason) == 0);
    assert (zg_holder_admit (slots, key, 2, 2, "rooms", "max-rooms-per-connection", reason) == ZG_ERR_TOO_MANY);
    assert (streq (reason, "too many rooms for one address (max-rooms-per-connection 2)"));
    zg_slots_give (slots, key);
    //  A name keeps its own copy of its holder's key until it is forgotten
    char *name_key = NULL;
    zg_holder_charge (slots, key, &name_key);
    zstr_free (&key);
    assert (zg_slots_held (slots, name_key) == 1 && streq (name_key, "address:127.0.0.2"));
    zg_holder_release (slots, &name_key);
    assert (name_key == NULL && zg_slots_holders (slots) == 0);
    zg_holder_charge (slots, NULL, &name_key);
    assert (name_key == NULL && zg_slots_holders (slots) == 0);
    zg_holder_release (slots, &name_key);
    zg_slots_destroy (&slots);

    //  Over the network the sender's connection (or identity) holds
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (server, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_t *client = zsock_new_dealer (NULL);
    zsock_connect (client, "tcp://127.0.0.1:%d", port);
    zstr_sendx (client, ZG_WIRE_HOLDER_TAG "address:forged", "PING", NULL);
    zmq_pollitem_t item = { zsock_resolve (server), 0, ZMQ_POLLIN, 0 };
    assert (zmq_poll (&item, 1, 2000) == 1);
    assert (zg_wire_recv (&request, zsock_resolve (server)) == 0);
    //  A networked peer cannot name a holder: its envelope stays a frame
    assert (zg_wire_kept (&request) == 3 && request.holder [0] == 0);
    key = zg_holder_key (&holder);
    assert (strncmp (key, "connection:", 11) == 0);
    zstr_free (&key);
    zg_wire_close (&request);

    zsock_destroy (&client);
    zsock_destroy (&server);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    //  @end
    printf ("OK\n");
}
