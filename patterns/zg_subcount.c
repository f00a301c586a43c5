/*  =========================================================================
    zg_subcount - which connection holds which subscription

    Three tables of prefixes: each TCP connection's (prefix -> applied or
    refused), those of closed connections still to be unsubscribed by
    libzmq (prefix -> count, applied and refused apart), and the inproc
    subscribers' (prefix -> count). An anonymous unsubscription ends a
    closed connection's prefix first: an inproc subscriber only ever
    unsubscribes what it holds, a closed connection's unsubscriptions are
    certain to come.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_subcount.h"

struct _zg_subcount_t {
    zhashx_t *conns;                //  Descriptor (decimal) -> prefix -> state
    zhashx_t *closing_applied;      //  Prefix -> count, of closed connections
    zhashx_t *closing_refused;      //  Prefix -> count, of closed connections
    zhashx_t *inproc;               //  Prefix -> count, of inproc subscribers
};

//  A prefix's state in a connection's table
#define S_APPLIED ((void *) 1)
#define S_REFUSED ((void *) 2)

static void
s_prefixes_destroy (void **item)
{
    zhashx_destroy ((zhashx_t **) item);
}

zg_subcount_t *
zg_subcount_new (void)
{
    zg_subcount_t *self = (zg_subcount_t *) zmalloc (sizeof (zg_subcount_t));
    assert (self);
    self->conns = zhashx_new ();
    zhashx_set_destructor (self->conns, s_prefixes_destroy);
    self->closing_applied = zhashx_new ();
    self->closing_refused = zhashx_new ();
    self->inproc = zhashx_new ();
    return self;
}

void
zg_subcount_destroy (zg_subcount_t **self_p)
{
    assert (self_p);
    zg_subcount_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->conns);
    zhashx_destroy (&self->closing_applied);
    zhashx_destroy (&self->closing_refused);
    zhashx_destroy (&self->inproc);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Add delta to prefix's count (a count of 0 is removed)

void
zg_subcount_add (zhashx_t *counts, const char *prefix, int delta)
{
    uintptr_t count = (uintptr_t) zhashx_lookup (counts, prefix) + (uintptr_t) (intptr_t) delta;
    if (count)
        zhashx_update (counts, prefix, (void *) count);
    else
        zhashx_delete (counts, prefix);
}

//  Take one from prefix's count; returns whether there was one
static bool
s_take (zhashx_t *counts, const char *prefix)
{
    if (!zhashx_lookup (counts, prefix))
        return false;
    zg_subcount_add (counts, prefix, -1);
    return true;
}

static zhashx_t *
s_conn (zg_subcount_t *self, int fd, bool create)
{
    char key [16];
    snprintf (key, sizeof key, "%d", fd);
    zhashx_t *prefixes = (zhashx_t *) zhashx_lookup (self->conns, key);
    if (!prefixes && create) {
        prefixes = zhashx_new ();
        zhashx_insert (self->conns, key, prefixes);
    }
    return prefixes;
}

bool
zg_subcount_subscribe (zg_subcount_t *self, int fd, const char *prefix, bool applied)
{
    assert (self && prefix);
    if (fd < 0) {
        zg_subcount_add (self->inproc, prefix, 1);
        return true;
    }
    zhashx_t *prefixes = s_conn (self, fd, true);
    if (zhashx_lookup (prefixes, prefix))
        return false;
    zhashx_insert (prefixes, prefix, applied? S_APPLIED: S_REFUSED);
    return true;
}

zg_subcount_ended_t
zg_subcount_unsubscribe (zg_subcount_t *self, int fd, const char *prefix)
{
    assert (self && prefix);
    if (fd >= 0) {
        zhashx_t *prefixes = s_conn (self, fd, false);
        void *state = prefixes? zhashx_lookup (prefixes, prefix): NULL;
        if (!state)
            return ZG_SUBCOUNT_NOTHING;
        zhashx_delete (prefixes, prefix);
        return state == S_APPLIED? ZG_SUBCOUNT_APPLIED: ZG_SUBCOUNT_REFUSED;
    }
    if (s_take (self->closing_applied, prefix))
        return ZG_SUBCOUNT_APPLIED;
    if (s_take (self->closing_refused, prefix))
        return ZG_SUBCOUNT_REFUSED;
    return s_take (self->inproc, prefix)? ZG_SUBCOUNT_APPLIED: ZG_SUBCOUNT_NOTHING;
}

void
zg_subcount_closed (zg_subcount_t *self, int fd)
{
    assert (self);
    zhashx_t *prefixes = s_conn (self, fd, false);
    if (!prefixes)
        return;
    for (void *state = zhashx_first (prefixes); state; state = zhashx_next (prefixes))
        zg_subcount_add (state == S_APPLIED? self->closing_applied: self->closing_refused,
               (const char *) zhashx_cursor (prefixes), 1);
    char key [16];
    snprintf (key, sizeof key, "%d", fd);
    zhashx_delete (self->conns, key);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_subcount_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_subcount: ");
    //  @selftest
    zg_subcount_t *self = zg_subcount_new ();
    //  A connection subscribing twice holds the prefix once; an explicit
    //  unsubscription ends it once, and again ends nothing
    assert (zg_subcount_subscribe (self, 7, "dup", true));
    assert (!zg_subcount_subscribe (self, 7, "dup", true));
    assert (zg_subcount_unsubscribe (self, 7, "dup") == ZG_SUBCOUNT_APPLIED);
    assert (zg_subcount_unsubscribe (self, 7, "dup") == ZG_SUBCOUNT_NOTHING);
    //  Nor may a connection end what another holds
    assert (zg_subcount_subscribe (self, 8, "a", true));
    assert (zg_subcount_unsubscribe (self, 7, "a") == ZG_SUBCOUNT_NOTHING);

    //  A closed connection's prefixes, applied and refused, end with
    //  libzmq's anonymous unsubscriptions, each once
    assert (zg_subcount_subscribe (self, 7, "dup", true));
    assert (!zg_subcount_subscribe (self, 7, "dup", true));
    assert (zg_subcount_subscribe (self, 7, "secret", false));
    zg_subcount_closed (self, 7);
    assert (zg_subcount_unsubscribe (self, -1, "dup") == ZG_SUBCOUNT_APPLIED);
    assert (zg_subcount_unsubscribe (self, -1, "dup") == ZG_SUBCOUNT_NOTHING);
    assert (zg_subcount_unsubscribe (self, -1, "secret") == ZG_SUBCOUNT_REFUSED);
    //  Its descriptor, reused, starts afresh
    assert (zg_subcount_subscribe (self, 7, "dup", true));
    assert (zg_subcount_unsubscribe (self, 7, "dup") == ZG_SUBCOUNT_APPLIED);
    zg_subcount_closed (self, 7);
    zg_subcount_closed (self, 99);          //  Held nothing: nothing happens

    //  Inproc subscriptions count each, and end each
    assert (zg_subcount_subscribe (self, -1, "in", true));
    assert (zg_subcount_subscribe (self, -1, "in", true));
    assert (zg_subcount_unsubscribe (self, -1, "in") == ZG_SUBCOUNT_APPLIED);
    assert (zg_subcount_unsubscribe (self, -1, "in") == ZG_SUBCOUNT_APPLIED);
    assert (zg_subcount_unsubscribe (self, -1, "in") == ZG_SUBCOUNT_NOTHING);
    assert (zg_subcount_unsubscribe (self, 8, "a") == ZG_SUBCOUNT_APPLIED);
    zg_subcount_destroy (&self);
    //  @end
    printf ("OK\n");
}
