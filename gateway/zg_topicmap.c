/*  =========================================================================
    zg_topicmap - the gateway's web topic subscriptions over one SUB socket

    Exact topics and prefixes live in two tables; a topic matches the exact
    entry of its own name and the prefix entries of each of its prefixes,
    so a match costs one lookup per length of prefix that some subscription
    has (a count per length tells which), whatever the number of
    subscriptions.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_topicmap.h"

//  The holders of one subscription
typedef struct {
    void **holders;                 //  Holders
    size_t count;                   //  Entries used
    size_t size;                    //  Entries allocated
} s_entry_t;

struct _zg_topicmap_t {
    zsock_t *subscriber;            //  The SUB socket we subscribe
    zhashx_t *exact;                //  Exact topic -> s_entry_t
    zhashx_t *prefixes;             //  Prefix -> s_entry_t
    zhashx_t *users;                //  ZeroMQ prefix -> number of users
    char *key;                      //  Buffer for a topic's prefixes
    size_t key_size;                //  Bytes in key
    size_t *lengths;                //  Prefix entries per prefix length
    size_t lengths_size;            //  Entries in lengths
};

static void
s_entry_destroy (s_entry_t **self_p)
{
    s_entry_t *self = *self_p;
    if (self) {
        free (self->holders);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create a map that subscribes and unsubscribes subscriber

zg_topicmap_t *
zg_topicmap_new (zsock_t *subscriber)
{
    zg_topicmap_t *self = (zg_topicmap_t *) zmalloc (sizeof (zg_topicmap_t));
    assert (self);
    self->subscriber = subscriber;
    self->exact = zhashx_new ();
    zhashx_set_destructor (self->exact, (zhashx_destructor_fn *) s_entry_destroy);
    self->prefixes = zhashx_new ();
    zhashx_set_destructor (self->prefixes, (zhashx_destructor_fn *) s_entry_destroy);
    self->users = zhashx_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the map

void
zg_topicmap_destroy (zg_topicmap_t **self_p)
{
    assert (self_p);
    zg_topicmap_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->exact);
        zhashx_destroy (&self->prefixes);
        zhashx_destroy (&self->users);
        free (self->key);
        free (self->lengths);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Use a ZeroMQ prefix; true if the socket subscribed just now

bool
zg_topicmap_use (zg_topicmap_t *self, const char *prefix)
{
    assert (self);
    uintptr_t count = (uintptr_t) zhashx_lookup (self->users, prefix);
    zhashx_update (self->users, prefix, (void *) (count + 1));
    if (count == 0 && self->subscriber)
        zsock_set_subscribe (self->subscriber, prefix);
    return count == 0;
}

//  --------------------------------------------------------------------------
//  Stop using a ZeroMQ prefix

void
zg_topicmap_release (zg_topicmap_t *self, const char *prefix)
{
    assert (self);
    uintptr_t count = (uintptr_t) zhashx_lookup (self->users, prefix);
    if (count > 1)
        zhashx_update (self->users, prefix, (void *) (count - 1));
    else
    if (count == 1) {
        zhashx_delete (self->users, prefix);
        if (self->subscriber)
            zsock_set_unsubscribe (self->subscriber, prefix);
    }
}

//  --------------------------------------------------------------------------
//  Is the socket subscribed to this prefix?

bool
zg_topicmap_subscribed (zg_topicmap_t *self, const char *prefix)
{
    assert (self);
    return zhashx_lookup (self->users, prefix) != NULL;
}

//  --------------------------------------------------------------------------
//  The table and key of a web topic: the prefix without its '*', or the
//  exact topic; the key is a string the caller frees

static zhashx_t *
s_table (zg_topicmap_t *self, const char *topic, char **key)
{
    size_t length = strlen (topic);
    bool prefix = length > 0 && topic [length - 1] == '*';
    *key = strndup (topic, prefix? length - 1: length);
    assert (*key);
    return prefix? self->prefixes: self->exact;
}

//  --------------------------------------------------------------------------
//  Count one prefix entry of a length more (added) or less

static void
s_count_length (zg_topicmap_t *self, size_t length, bool added)
{
    if (length >= self->lengths_size) {
        size_t size = length + 1;
        self->lengths = (size_t *) realloc (self->lengths, size * sizeof (size_t));
        assert (self->lengths);
        memset (self->lengths + self->lengths_size, 0, (size - self->lengths_size) * sizeof (size_t));
        self->lengths_size = size;
    }
    if (added)
        self->lengths [length]++;
    else {
        assert (self->lengths [length] > 0);
        self->lengths [length]--;
    }
}

//  --------------------------------------------------------------------------
//  Add a holder of a web topic

bool
zg_topicmap_add (zg_topicmap_t *self, const char *topic, void *holder)
{
    assert (self);
    char *key = NULL;
    zhashx_t *table = s_table (self, topic, &key);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (table, key);
    if (!entry) {
        entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        zhashx_insert (table, key, entry);
        if (table == self->prefixes)
            s_count_length (self, strlen (key), true);
    }
    if (entry->count == entry->size) {
        entry->size = entry->size? entry->size * 2: 4;
        entry->holders = (void **) realloc (entry->holders, entry->size * sizeof (void *));
        assert (entry->holders);
    }
    entry->holders [entry->count++] = holder;
    bool subscribed = zg_topicmap_use (self, key);
    free (key);
    return subscribed;
}

//  --------------------------------------------------------------------------
//  Remove a holder of a web topic

void
zg_topicmap_remove (zg_topicmap_t *self, const char *topic, void *holder)
{
    assert (self);
    char *key = NULL;
    zhashx_t *table = s_table (self, topic, &key);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (table, key);
    for (size_t index = 0; entry && index < entry->count; index++)
        if (entry->holders [index] == holder) {
            entry->holders [index] = entry->holders [--entry->count];
            if (entry->count == 0) {
                zhashx_delete (table, key);
                if (table == self->prefixes)
                    s_count_length (self, strlen (key), false);
            }
            zg_topicmap_release (self, key);
            break;
        }
    free (key);
}

//  --------------------------------------------------------------------------
//  Call fn for each holder of each subscription matching topic

static size_t
s_call (s_entry_t *entry, zg_topicmap_fn *fn, void *arg)
{
    if (!entry)
        return 0;
    for (size_t index = 0; index < entry->count; index++)
        fn (entry->holders [index], arg);
    return entry->count;
}

size_t
zg_topicmap_match (zg_topicmap_t *self, const char *topic, zg_topicmap_fn *fn, void *arg)
{
    assert (self);
    size_t calls = s_call ((s_entry_t *) zhashx_lookup (self->exact, topic), fn, arg);
    if (zhashx_size (self->prefixes) == 0)
        return calls;
    size_t length = strlen (topic);
    if (length + 1 > self->key_size) {
        self->key_size = length + 1;
        self->key = (char *) realloc (self->key, self->key_size);
        assert (self->key);
    }
    memcpy (self->key, topic, length + 1);
    for (size_t size = 0; size <= length && size < self->lengths_size; size++) {
        if (self->lengths [size] == 0)
            continue;
        char saved = self->key [size];
        self->key [size] = 0;
        calls += s_call ((s_entry_t *) zhashx_lookup (self->prefixes, self->key), fn, arg);
        self->key [size] = saved;
    }
    return calls;
}

//  --------------------------------------------------------------------------
//  Subscriptions held

size_t
zg_topicmap_size (zg_topicmap_t *self)
{
    assert (self);
    return zhashx_size (self->exact) + zhashx_size (self->prefixes);
}

//  --------------------------------------------------------------------------
//  Self test of this class

static void
s_test_count (void *holder, void *arg)
{
    (*(int *) holder)++;
    (*(int *) arg)++;
}

void
zg_topicmap_test (bool verbose)
{
    printf (" * zg_topicmap: ");
    //  @selftest
    //  A real SUB socket: the map subscribes it once per prefix in use
    zsock_t *publisher = zsock_new_xpub ("inproc://zg-topicmap-test");
    zsock_t *subscriber = zsock_new_sub (">inproc://zg-topicmap-test", NULL);
    zsock_set_rcvtimeo (publisher, 2000);
    zg_topicmap_t *map = zg_topicmap_new (subscriber);
    int first = 0, second = 0, calls = 0;
    assert (zg_topicmap_add (map, "news.*", &first));
    assert (zg_topicmap_add (map, "news.x", &first));      //  Its own ZeroMQ prefix
    assert (!zg_topicmap_add (map, "news.*", &second));
    assert (zg_topicmap_add (map, "*", &second));
    assert (zg_topicmap_size (map) == 3);
    char *subscription = zstr_recv (publisher);
    assert (streq (subscription, "\x01news."));
    zstr_free (&subscription);

    assert (zg_topicmap_match (map, "news.x", s_test_count, &calls) == 4);
    assert (first == 2 && second == 2 && calls == 4);
    assert (zg_topicmap_match (map, "sports", s_test_count, &calls) == 1);
    assert (second == 3);
    assert (zg_topicmap_match (map, "news", s_test_count, &calls) == 1);

    //  Other users share the ZeroMQ prefixes
    assert (!zg_topicmap_use (map, "news."));
    assert (zg_topicmap_use (map, "pull.subject"));
    zg_topicmap_remove (map, "news.*", &first);
    zg_topicmap_remove (map, "news.*", &second);
    zg_topicmap_remove (map, "news.*", &second);
    zg_topicmap_release (map, "news.");
    zg_topicmap_release (map, "pull.subject");
    zg_topicmap_release (map, "never.used");
    assert (zg_topicmap_size (map) == 2);
    calls = 0;
    assert (zg_topicmap_match (map, "news.y", s_test_count, &calls) == 1);
    //  Prefixes of several lengths, added and removed
    assert (zg_topicmap_add (map, "a.b.*", &first));
    assert (zg_topicmap_add (map, "a.*", &first));
    assert (zg_topicmap_match (map, "a.b.c", s_test_count, &calls) == 3);
    zg_topicmap_remove (map, "a.b.*", &first);
    assert (zg_topicmap_match (map, "a.b.c", s_test_count, &calls) == 2);
    zg_topicmap_remove (map, "a.*", &first);
    zg_topicmap_remove (map, "*", &second);
    assert (zg_topicmap_match (map, "a.b.c", s_test_count, &calls) == 0);
    assert (zg_topicmap_match (map, "news.x", s_test_count, &calls) == 1);
    //  The socket's prefixes, exactly
    assert (zg_topicmap_subscribed (map, "news.x"));
    assert (!zg_topicmap_subscribed (map, "news"));
    assert (!zg_topicmap_subscribed (map, "a."));
    if (verbose)
        printf ("(%d calls) ", calls);
    zg_topicmap_destroy (&map);
    zg_topicmap_destroy (&map);
    zsock_destroy (&subscriber);
    zsock_destroy (&publisher);
    //  @end
    printf ("OK\n");
}
