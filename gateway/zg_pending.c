/*  =========================================================================
    zg_pending - the gateway's requests waiting for a queue or room actor

    A hash table keyed by the gateway req; each request holds a reference
    to the web req it must echo, released with the request.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_pending.h"

struct _zg_pending_t {
    zhashx_t *requests;             //  Gateway req -> zg_pending_request_t
};

//  --------------------------------------------------------------------------
//  Free a request and its reference to the web req

static void
s_request_destroy (zg_pending_request_t **request_p)
{
    zg_pending_request_t *request = *request_p;
    if (request) {
        json_object_put (request->req);
        json_object_put (request->gathered);
        free (request);
        *request_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create an empty table

zg_pending_t *
zg_pending_new (void)
{
    zg_pending_t *self = (zg_pending_t *) zmalloc (sizeof (zg_pending_t));
    assert (self);
    self->requests = zhashx_new ();
    assert (self->requests);
    zhashx_set_destructor (self->requests, (zhashx_destructor_fn *) s_request_destroy);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the table and the requests still waiting

void
zg_pending_destroy (zg_pending_t **self_p)
{
    assert (self_p);
    zg_pending_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->requests);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Add a request with the gateway req "g<id>"

zg_pending_request_t *
zg_pending_add (zg_pending_t *self, uint64_t id, zg_pending_kind_t kind, uint64_t owner, bool http,
                json_object *req)
{
    assert (self);
    zg_pending_request_t *request = (zg_pending_request_t *) zmalloc (sizeof (zg_pending_request_t));
    assert (request);
    snprintf (request->key, sizeof request->key, "g%" PRIu64, id);
    request->kind = kind;
    request->owner = owner;
    request->http = http;
    request->req = json_object_get (req);
    zhashx_insert (self->requests, request->key, request);
    return request;
}

//  --------------------------------------------------------------------------
//  The request of a gateway req, or NULL

zg_pending_request_t *
zg_pending_lookup (zg_pending_t *self, const char *key)
{
    assert (self);
    return (zg_pending_request_t *) zhashx_lookup (self->requests, key);
}

//  --------------------------------------------------------------------------
//  Forget the request of a gateway req

void
zg_pending_remove (zg_pending_t *self, const char *key)
{
    assert (self);
    zhashx_delete (self->requests, key);
}

//  --------------------------------------------------------------------------
//  Requests waiting

size_t
zg_pending_size (zg_pending_t *self)
{
    assert (self);
    return zhashx_size (self->requests);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_pending_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_pending: ");
    //  @selftest
    zg_pending_t *pending = zg_pending_new ();
    json_object *req = json_object_new_string ("mine");
    zg_pending_request_t *send = zg_pending_add (pending, 7, ZG_PENDING_QUEUE_SEND, 3, false, req);
    send->reply = true;
    assert (streq (send->key, "g7"));
    //  The table holds its own reference to the web req
    json_object_put (req);
    zg_pending_request_t *query = zg_pending_add (pending, 8, ZG_PENDING_PEEK, 4, true, NULL);
    assert (zg_pending_size (pending) == 2);

    zg_pending_request_t *found = zg_pending_lookup (pending, "g7");
    assert (found == send);
    assert (found->kind == ZG_PENDING_QUEUE_SEND && found->owner == 3 && !found->http && found->reply);
    assert (streq (json_object_get_string (found->req), "mine"));
    assert (zg_pending_lookup (pending, "g8") == query && query->http && !query->req);
    assert (zg_pending_lookup (pending, "g9") == NULL);

    //  A request can be removed by its own key, as a failed send does
    zg_pending_remove (pending, send->key);
    assert (zg_pending_lookup (pending, "g7") == NULL);
    assert (zg_pending_size (pending) == 1);
    //  Removing an unknown req changes nothing
    zg_pending_remove (pending, "g7");
    assert (zg_pending_size (pending) == 1);
    //  Requests still waiting go with the table
    zg_pending_destroy (&pending);
    assert (pending == NULL);
    //  @end
    printf ("OK\n");
}
