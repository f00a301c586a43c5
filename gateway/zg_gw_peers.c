/*  =========================================================================
    zg_gw_peers - WebSocket sessions per client address, so that one client
    cannot take all of gateway/max-sessions

    A zhashx from address to count (kept in the item pointer); an address
    leaves the table with its last session, so the table is as large as the
    number of distinct clients connected.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_peers.h"

struct _zg_gw_peers_t {
    zhashx_t *counts;               //  Address -> sessions, as a uintptr_t
};

zg_gw_peers_t *
zg_gw_peers_new (void)
{
    zg_gw_peers_t *self = (zg_gw_peers_t *) zmalloc (sizeof (zg_gw_peers_t));
    assert (self);
    self->counts = zhashx_new ();
    assert (self->counts);
    return self;
}

void
zg_gw_peers_destroy (zg_gw_peers_t **self_p)
{
    assert (self_p);
    zg_gw_peers_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->counts);
    free (self);
    *self_p = NULL;
}

size_t
zg_gw_peers_sessions (zg_gw_peers_t *self, const char *address)
{
    assert (self && address);
    return (uintptr_t) zhashx_lookup (self->counts, address);
}

bool
zg_gw_peers_admit (zg_gw_peers_t *self, const char *address, int64_t limit)
{
    return (int64_t) zg_gw_peers_sessions (self, address) < limit;
}

void
zg_gw_peers_add (zg_gw_peers_t *self, const char *address)
{
    uintptr_t count = zg_gw_peers_sessions (self, address);
    zhashx_update (self->counts, address, (void *) (count + 1));
}

void
zg_gw_peers_remove (zg_gw_peers_t *self, const char *address)
{
    uintptr_t count = zg_gw_peers_sessions (self, address);
    assert (count > 0);
    if (count > 1)
        zhashx_update (self->counts, address, (void *) (count - 1));
    else
        zhashx_delete (self->counts, address);
}

size_t
zg_gw_peers_size (zg_gw_peers_t *self)
{
    assert (self);
    return zhashx_size (self->counts);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_gw_peers_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_gw_peers: ");
    //  @selftest
    zg_gw_peers_t *peers = zg_gw_peers_new ();
    assert (zg_gw_peers_admit (peers, "10.0.0.1", 2));
    zg_gw_peers_add (peers, "10.0.0.1");
    zg_gw_peers_add (peers, "10.0.0.1");
    //  The limit is per address: another client is admitted
    assert (!zg_gw_peers_admit (peers, "10.0.0.1", 2));
    assert (zg_gw_peers_admit (peers, "::1", 2));
    zg_gw_peers_add (peers, "::1");
    assert (zg_gw_peers_sessions (peers, "10.0.0.1") == 2 && zg_gw_peers_size (peers) == 2);
    //  A closed session makes room; an address leaves with its last session
    zg_gw_peers_remove (peers, "10.0.0.1");
    assert (zg_gw_peers_admit (peers, "10.0.0.1", 2));
    zg_gw_peers_remove (peers, "::1");
    assert (zg_gw_peers_size (peers) == 1 && zg_gw_peers_sessions (peers, "::1") == 0);
    zg_gw_peers_destroy (&peers);
    assert (peers == NULL);
    zg_gw_peers_destroy (&peers);
    //  @end
    printf ("OK\n");
}
