/*  =========================================================================
    zg_listeners - the prefixes that subscribers of the topics actor hold

    gophermq's synchronous publish answers 404 when nobody would get the
    message; with native subscribers in the picture, only the topics actor
    knows who they are, and it tells its publishers as a proxy does. A
    match looks up each prefix length of the topic that some held prefix
    has, so it costs at most one lookup per distinct prefix length.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_listeners.h"

struct _zg_listeners_t {
    zhashx_t *prefixes;             //  Prefix -> itself, the held ones
    zhashx_t *lengths;              //  Prefix length ("%zu") -> prefixes of that length
    size_t longest;                 //  Longest prefix length ever held
    char *key;                      //  Buffer for a topic's prefix
    size_t key_size;                //  Bytes in key
};

//  --------------------------------------------------------------------------
//  Create an empty set

zg_listeners_t *
zg_listeners_new (void)
{
    zg_listeners_t *self = (zg_listeners_t *) zmalloc (sizeof (zg_listeners_t));
    assert (self);
    self->prefixes = zhashx_new ();
    self->lengths = zhashx_new ();
    self->key_size = 256;
    self->key = (char *) zmalloc (self->key_size);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the set

void
zg_listeners_destroy (zg_listeners_t **self_p)
{
    assert (self_p);
    zg_listeners_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->prefixes);
        zhashx_destroy (&self->lengths);
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Count one prefix of a length more (added) or less

static void
s_self_count_length (zg_listeners_t *self, size_t length, bool added)
{
    char name [24];
    snprintf (name, sizeof name, "%zu", length);
    uintptr_t count = (uintptr_t) zhashx_lookup (self->lengths, name);
    if (added)
        zhashx_update (self->lengths, name, (void *) (count + 1));
    else
    if (count > 1)
        zhashx_update (self->lengths, name, (void *) (count - 1));
    else
        zhashx_delete (self->lengths, name);
}

//  --------------------------------------------------------------------------
//  Apply a subscription message

bool
zg_listeners_update (zg_listeners_t *self, const byte *data, size_t size)
{
    assert (self);
    if (size == 0 || data [0] > 1 || memchr (data + 1, 0, size - 1))
        return false;
    char *prefix = strndup ((const char *) data + 1, size - 1);
    assert (prefix);
    bool held = zhashx_lookup (self->prefixes, prefix) != NULL;
    if (data [0] == 1 && !held) {
        zhashx_insert (self->prefixes, prefix, (void *) 1);
        s_self_count_length (self, size - 1, true);
        if (size - 1 > self->longest)
            self->longest = size - 1;
    }
    else
    if (data [0] == 0 && held) {
        zhashx_delete (self->prefixes, prefix);
        s_self_count_length (self, size - 1, false);
    }
    free (prefix);
    return true;
}

//  --------------------------------------------------------------------------
//  Does someone else hold a prefix of topic?

bool
zg_listeners_match (zg_listeners_t *self, const char *topic, zg_listeners_own_fn *own, void *arg)
{
    assert (self && topic);
    size_t length = strlen (topic);
    if (length + 1 > self->key_size) {
        self->key_size = length + 1;
        self->key = (char *) realloc (self->key, self->key_size);
        assert (self->key);
    }
    for (size_t size = 1; size <= length && size <= self->longest; size++) {
        char name [24];
        snprintf (name, sizeof name, "%zu", size);
        if (!zhashx_lookup (self->lengths, name))
            continue;
        memcpy (self->key, topic, size);
        self->key [size] = 0;
        if (zhashx_lookup (self->prefixes, self->key) && !(own && own (self->key, arg)))
            return true;
    }
    return false;
}

//  --------------------------------------------------------------------------
//  Prefixes held

size_t
zg_listeners_size (zg_listeners_t *self)
{
    assert (self);
    return zhashx_size (self->prefixes);
}

//  --------------------------------------------------------------------------
//  Self test of this class

static bool
s_test_own (const char *prefix, void *arg)
{
    return streq (prefix, (const char *) arg);
}

void
zg_listeners_test (bool verbose)
{
    printf (" * zg_listeners: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_listeners_t *listeners = zg_listeners_new ();
    //  The topics actor's own "" matches nothing
    assert (zg_listeners_update (listeners, (const byte *) "\x01", 1));
    assert (!zg_listeners_match (listeners, "alerts.fire", NULL, NULL));
    assert (zg_listeners_update (listeners, (const byte *) "\x01" "alerts.", 8));
    assert (zg_listeners_update (listeners, (const byte *) "\x01" "alerts.", 8));
    assert (zg_listeners_size (listeners) == 2);
    assert (zg_listeners_match (listeners, "alerts.fire", NULL, NULL));
    assert (zg_listeners_match (listeners, "alerts.", NULL, NULL));
    assert (!zg_listeners_match (listeners, "alerts", NULL, NULL));
    assert (!zg_listeners_match (listeners, "news.alerts.fire", NULL, NULL));
    //  A prefix of the caller's own is not someone else's
    assert (!zg_listeners_match (listeners, "alerts.fire", s_test_own, "alerts."));
    assert (zg_listeners_update (listeners, (const byte *) "\x01" "alerts.fire", 12));
    assert (zg_listeners_match (listeners, "alerts.fire", s_test_own, "alerts."));
    //  Malformed messages change nothing
    assert (!zg_listeners_update (listeners, (const byte *) "", 0));
    assert (!zg_listeners_update (listeners, (const byte *) "\x02" "alerts.", 8));
    assert (!zg_listeners_update (listeners, (const byte *) "\x00" "a\0b", 4));
    assert (zg_listeners_size (listeners) == 3);
    //  Unsubscribed, a prefix is gone (once: a second one changes nothing)
    assert (zg_listeners_update (listeners, (const byte *) "\x00" "alerts.", 8));
    assert (zg_listeners_update (listeners, (const byte *) "\x00" "alerts.", 8));
    assert (zg_listeners_size (listeners) == 2);
    assert (!zg_listeners_match (listeners, "alerts.water", NULL, NULL));
    assert (zg_listeners_match (listeners, "alerts.fire.big", NULL, NULL));
    //  Topics longer than the key buffer
    char long_topic [600];
    memset (long_topic, 'x', sizeof long_topic - 1);
    long_topic [sizeof long_topic - 1] = 0;
    assert (!zg_listeners_match (listeners, long_topic, NULL, NULL));
    zg_listeners_destroy (&listeners);
    assert (listeners == NULL);
    //  @end
    printf ("OK\n");
}
