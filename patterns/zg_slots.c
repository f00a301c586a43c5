/*  =========================================================================
    zg_slots - how many of a limited kind of name each holder has

    A zhashx of key to count; the count is the item itself (a pointer-sized
    integer), so a holder costs its key and one hash entry.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_slots.h"

struct _zg_slots_t {
    zhashx_t *held;                 //  Key -> slots held, as (void *) (uintptr_t)
};

//  --------------------------------------------------------------------------
//  Create an empty table

zg_slots_t *
zg_slots_new (void)
{
    zg_slots_t *self = (zg_slots_t *) zmalloc (sizeof (zg_slots_t));
    assert (self);
    self->held = zhashx_new ();
    assert (self->held);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the table

void
zg_slots_destroy (zg_slots_t **self_p)
{
    assert (self_p);
    zg_slots_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->held);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The key of a holder

char *
zg_slots_key (const char *identity, const void *connection, size_t connection_size)
{
    if (identity && *identity)
        return zsys_sprintf ("identity:%s", identity);
    char *key = (char *) zmalloc (sizeof "connection:" + 2 * connection_size);
    assert (key);
    strcpy (key, "connection:");
    const byte *bytes = (const byte *) connection;
    for (size_t index = 0; index < connection_size; index++)
        snprintf (key + strlen ("connection:") + 2 * index, 3, "%02x", bytes [index]);
    return key;
}

//  --------------------------------------------------------------------------
//  Take a slot

bool
zg_slots_take (zg_slots_t *self, const char *key, int64_t limit)
{
    assert (self && key);
    uintptr_t held = (uintptr_t) zhashx_lookup (self->held, key);
    if ((int64_t) held >= limit)
        return false;
    zhashx_update (self->held, key, (void *) (held + 1));
    return true;
}

//  --------------------------------------------------------------------------
//  Give a slot back

void
zg_slots_give (zg_slots_t *self, const char *key)
{
    assert (self && key);
    uintptr_t held = (uintptr_t) zhashx_lookup (self->held, key);
    assert (held > 0);
    if (held == 1)
        zhashx_delete (self->held, key);
    else
        zhashx_update (self->held, key, (void *) (held - 1));
}

//  --------------------------------------------------------------------------
//  Slots a holder holds

size_t
zg_slots_held (zg_slots_t *self, const char *key)
{
    assert (self && key);
    return (size_t) (uintptr_t) zhashx_lookup (self->held, key);
}

//  --------------------------------------------------------------------------
//  Holders

size_t
zg_slots_holders (zg_slots_t *self)
{
    assert (self);
    return zhashx_size (self->held);
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_slots_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_slots: ");
    char *alice = zg_slots_key ("alice", "\x01\x02", 2);
    char *connection = zg_slots_key ("", "\x00\xab", 2);
    char *inproc = zg_slots_key (NULL, "", 0);
    assert (streq (alice, "identity:alice") && streq (connection, "connection:00ab"));
    assert (streq (inproc, "connection:"));
    zg_slots_t *slots = zg_slots_new ();
    assert (zg_slots_take (slots, alice, 2) && zg_slots_take (slots, alice, 2));
    //  Past the limit nothing changes; another holder is not concerned
    assert (!zg_slots_take (slots, alice, 2) && zg_slots_held (slots, alice) == 2);
    assert (zg_slots_take (slots, connection, 2) && zg_slots_holders (slots) == 2);
    assert (!zg_slots_take (slots, inproc, 0));
    zg_slots_give (slots, alice);
    assert (zg_slots_take (slots, alice, 2));
    zg_slots_give (slots, alice);
    zg_slots_give (slots, alice);
    zg_slots_give (slots, connection);
    assert (zg_slots_held (slots, alice) == 0 && zg_slots_holders (slots) == 0);
    zg_slots_destroy (&slots);
    zstr_free (&alice);
    zstr_free (&connection);
    zstr_free (&inproc);
    printf ("OK\n");
}
