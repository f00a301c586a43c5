/*  =========================================================================
    zg_origins - which browser pages may use the gateway

    An Origin is "scheme://host[:port]" and the Host header "host[:port]",
    both as the browser sent them: the gateway's own pages have an Origin
    that is the Host after its scheme. Compared byte for byte, as browsers
    serialize both the same way.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_origins.h"

struct _zg_origins_t {
    zlistx_t *allowed;              //  gateway/allowed-origins, as given
};

//  --------------------------------------------------------------------------
//  Create the list, empty

zg_origins_t *
zg_origins_new (void)
{
    zg_origins_t *self = (zg_origins_t *) zmalloc (sizeof (zg_origins_t));
    assert (self);
    self->allowed = zlistx_new ();
    assert (self->allowed);
    zlistx_set_destructor (self->allowed, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->allowed, (zlistx_duplicator_fn *) strdup);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_origins_destroy (zg_origins_t **self_p)
{
    assert (self_p);
    zg_origins_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->allowed);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Replace the list

void
zg_origins_set (zg_origins_t *self, const char *list)
{
    assert (self);
    assert (list);
    zlistx_purge (self->allowed);
    char *copy = strdup (list);
    for (char *save = NULL, *origin = strtok_r (copy, " \t,", &save); origin;
         origin = strtok_r (NULL, " \t,", &save))
        zlistx_add_end (self->allowed, origin);
    free (copy);
}

//  --------------------------------------------------------------------------
//  Origins listed

size_t
zg_origins_size (zg_origins_t *self)
{
    assert (self);
    return zlistx_size (self->allowed);
}

//  Whether a page of origin (not NULL) may use the gateway: listed, any
//  listed ("*"), or the gateway's own
static bool
s_allowed (zg_origins_t *self, const char *origin, const char *host)
{
    for (const char *allowed = (const char *) zlistx_first (self->allowed); allowed;
         allowed = (const char *) zlistx_next (self->allowed))
        if (streq (allowed, "*") || streq (allowed, origin))
            return true;
    const char *scheme_end = strstr (origin, "://");
    return host && scheme_end && streq (scheme_end + 3, host);
}

//  --------------------------------------------------------------------------
//  Whether a WebSocket upgrade may open

bool
zg_origins_upgrade (zg_origins_t *self, const char *origin, const char *host)
{
    assert (self);
    return !origin || s_allowed (self, origin, host);
}

//  --------------------------------------------------------------------------
//  Whether an HTTP reply carries CORS headers for the request's Origin

bool
zg_origins_cors (zg_origins_t *self, const char *origin, const char *host)
{
    assert (self);
    return origin && zlistx_size (self->allowed) && s_allowed (self, origin, host);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_origins_test (bool verbose)
{
    printf (" * zg_origins: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_origins_t *origins = zg_origins_new ();
    //  No list: no Origin (not a browser) and the gateway's own pages only, no CORS
    assert (zg_origins_upgrade (origins, NULL, NULL));
    assert (zg_origins_upgrade (origins, "https://gw.example:8080", "gw.example:8080"));
    assert (zg_origins_upgrade (origins, "http://127.0.0.1:8080", "127.0.0.1:8080"));
    assert (!zg_origins_upgrade (origins, "https://evil.example", "gw.example:8080"));
    assert (!zg_origins_upgrade (origins, "https://gw.example", "gw.example:8080"));
    assert (!zg_origins_upgrade (origins, "https://gw.example:8080", NULL));
    assert (!zg_origins_upgrade (origins, "gw.example:8080", "gw.example:8080"));
    assert (!zg_origins_upgrade (origins, "null", "gw.example:8080"));
    assert (!zg_origins_cors (origins, "https://gw.example:8080", "gw.example:8080"));

    //  A list: its origins (exactly), the gateway's own, and CORS for both
    zg_origins_set (origins, " https://app.example,https://b.example\thttps://c.example ");
    assert (zg_origins_size (origins) == 3);
    assert (zg_origins_upgrade (origins, "https://b.example", NULL));
    assert (zg_origins_upgrade (origins, "https://c.example", "gw.example"));
    assert (!zg_origins_upgrade (origins, "https://app.example.evil", "gw.example"));
    assert (!zg_origins_upgrade (origins, "https://APP.example", "gw.example"));
    assert (zg_origins_cors (origins, "https://app.example", "gw.example"));
    assert (zg_origins_cors (origins, "http://gw.example", "gw.example"));
    assert (!zg_origins_cors (origins, "https://evil.example", "gw.example"));
    assert (!zg_origins_cors (origins, NULL, "gw.example"));

    //  "*": any page; a new list replaces the old; "" empties it
    zg_origins_set (origins, "*");
    assert (zg_origins_upgrade (origins, "https://evil.example", NULL));
    assert (zg_origins_cors (origins, "null", NULL));
    assert (zg_origins_upgrade (origins, "", NULL));
    zg_origins_set (origins, "");
    assert (zg_origins_size (origins) == 0);
    assert (!zg_origins_upgrade (origins, "https://evil.example", NULL));
    zg_origins_destroy (&origins);
    zg_origins_destroy (&origins);
    //  @end
    printf ("OK\n");
}
