/*  =========================================================================
    zg_subbytes - the bytes the topics actor queued for each subscriber's
    TCP connection

    Prefixes by name, each with its running counts and how many connections
    hold it; connections by descriptor, each with the prefixes it holds (the
    counts they had when it took them, and whether another of its prefixes
    contains them) and what it banked before its last change. A match is an
    array of the prefixes' counts, so queueing a message costs one addition
    per matching prefix, not a lookup.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_subbytes.h"

//  One prefix that TCP subscribers hold
typedef struct {
    uint64_t wire;                  //  Bytes of the messages that matched it
    uint64_t frames;                //  Their frames
    size_t holders;                 //  Connections that hold it
} s_prefix_t;

//  A prefix one connection holds
typedef struct {
    s_prefix_t *prefix;
    uint64_t base_wire;             //  The prefix's counts when last banked
    uint64_t base_frames;
    bool counted;                   //  No other of its prefixes contains it
} s_hold_t;

//  One connection
typedef struct {
    uint64_t banked_wire;           //  Queued for it before its last change
    uint64_t banked_frames;
    zhashx_t *holds;                //  Prefix -> s_hold_t
} s_conn_t;

struct _zg_subbytes_t {
    zhashx_t *prefixes;             //  Prefix -> s_prefix_t
    zhashx_t *conns;                //  Descriptor (decimal) -> s_conn_t
};

struct _zg_subbytes_match_t {
    size_t count;
    s_prefix_t *prefixes [];
};

static void
s_conn_destroy (void **item)
{
    s_conn_t *conn = (s_conn_t *) *item;
    zhashx_destroy (&conn->holds);
    free (conn);
    *item = NULL;
}

zg_subbytes_t *
zg_subbytes_new (void)
{
    zg_subbytes_t *self = (zg_subbytes_t *) zmalloc (sizeof (zg_subbytes_t));
    assert (self);
    self->prefixes = zhashx_new ();
    zhashx_set_destructor (self->prefixes, (zhashx_destructor_fn *) zstr_free);
    self->conns = zhashx_new ();
    zhashx_set_destructor (self->conns, s_conn_destroy);
    return self;
}

void
zg_subbytes_destroy (zg_subbytes_t **self_p)
{
    assert (self_p);
    zg_subbytes_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->conns);
    zhashx_destroy (&self->prefixes);
    free (self);
    *self_p = NULL;
}

static s_conn_t *
s_conn (zg_subbytes_t *self, int fd, bool create)
{
    char key [16];
    snprintf (key, sizeof key, "%d", fd);
    s_conn_t *conn = (s_conn_t *) zhashx_lookup (self->conns, key);
    if (!conn && create) {
        conn = (s_conn_t *) zmalloc (sizeof (s_conn_t));
        assert (conn);
        conn->holds = zhashx_new ();
        zhashx_set_destructor (conn->holds, (zhashx_destructor_fn *) zstr_free);
        zhashx_insert (self->conns, key, conn);
    }
    return conn;
}

//  What was queued for a connection: what it banked, and since then what
//  matched each of its prefixes that no other of them contains
static void
s_conn_sum (s_conn_t *conn, uint64_t *wire, uint64_t *frames)
{
    *wire = conn->banked_wire;
    *frames = conn->banked_frames;
    for (s_hold_t *hold = (s_hold_t *) zhashx_first (conn->holds); hold;
         hold = (s_hold_t *) zhashx_next (conn->holds))
        if (hold->counted) {
            *wire += hold->prefix->wire - hold->base_wire;
            *frames += hold->prefix->frames - hold->base_frames;
        }
}

//  Before its prefixes change: bank what it had, count again from now
static void
s_conn_bank (s_conn_t *conn)
{
    s_conn_sum (conn, &conn->banked_wire, &conn->banked_frames);
    for (s_hold_t *hold = (s_hold_t *) zhashx_first (conn->holds); hold;
         hold = (s_hold_t *) zhashx_next (conn->holds)) {
        hold->base_wire = hold->prefix->wire;
        hold->base_frames = hold->prefix->frames;
    }
}

//  After they changed: which of its prefixes no other contains
static void
s_conn_mark (s_conn_t *conn)
{
    zlistx_t *names = zhashx_keys (conn->holds);
    for (s_hold_t *hold = (s_hold_t *) zhashx_first (conn->holds); hold;
         hold = (s_hold_t *) zhashx_next (conn->holds)) {
        const char *name = (const char *) zhashx_cursor (conn->holds);
        hold->counted = true;
        for (const char *other = (const char *) zlistx_first (names); other && hold->counted;
             other = (const char *) zlistx_next (names))
            hold->counted = !(strlen (other) < strlen (name) && strncmp (other, name, strlen (other)) == 0);
    }
    zlistx_destroy (&names);
}

static void
s_release (zg_subbytes_t *self, s_hold_t *hold, const char *name)
{
    if (--hold->prefix->holders == 0)
        zhashx_delete (self->prefixes, name);
}

void
zg_subbytes_subscribe (zg_subbytes_t *self, int fd, const char *prefix)
{
    assert (self && prefix && fd >= 0);
    s_conn_t *conn = s_conn (self, fd, true);
    if (zhashx_lookup (conn->holds, prefix))
        return;
    s_conn_bank (conn);
    s_prefix_t *counts = (s_prefix_t *) zhashx_lookup (self->prefixes, prefix);
    if (!counts) {
        counts = (s_prefix_t *) zmalloc (sizeof (s_prefix_t));
        assert (counts);
        zhashx_insert (self->prefixes, prefix, counts);
    }
    counts->holders++;
    s_hold_t *hold = (s_hold_t *) zmalloc (sizeof (s_hold_t));
    assert (hold);
    hold->prefix = counts;
    hold->base_wire = counts->wire;
    hold->base_frames = counts->frames;
    zhashx_insert (conn->holds, prefix, hold);
    s_conn_mark (conn);
}

void
zg_subbytes_unsubscribe (zg_subbytes_t *self, int fd, const char *prefix)
{
    assert (self && prefix);
    s_conn_t *conn = s_conn (self, fd, false);
    s_hold_t *hold = conn? (s_hold_t *) zhashx_lookup (conn->holds, prefix): NULL;
    if (!hold)
        return;
    s_conn_bank (conn);
    s_release (self, hold, prefix);
    zhashx_delete (conn->holds, prefix);
    s_conn_mark (conn);
}

void
zg_subbytes_closed (zg_subbytes_t *self, int fd)
{
    assert (self);
    s_conn_t *conn = s_conn (self, fd, false);
    if (!conn)
        return;
    for (s_hold_t *hold = (s_hold_t *) zhashx_first (conn->holds); hold;
         hold = (s_hold_t *) zhashx_next (conn->holds))
        s_release (self, hold, (const char *) zhashx_cursor (conn->holds));
    char key [16];
    snprintf (key, sizeof key, "%d", fd);
    zhashx_delete (self->conns, key);
}

zg_subbytes_match_t *
zg_subbytes_match (zg_subbytes_t *self, const char *topic, size_t size)
{
    assert (self && topic);
    zg_subbytes_match_t *match = NULL;
    size_t capacity = 0;
    for (s_prefix_t *counts = (s_prefix_t *) zhashx_first (self->prefixes); counts;
         counts = (s_prefix_t *) zhashx_next (self->prefixes)) {
        const char *name = (const char *) zhashx_cursor (self->prefixes);
        size_t length = strlen (name);
        if (length > size || memcmp (name, topic, length) != 0)
            continue;
        if (!match || match->count == capacity) {
            size_t count = match? match->count: 0;
            capacity = capacity? capacity * 2: 4;
            match = (zg_subbytes_match_t *) realloc (match, sizeof (zg_subbytes_match_t)
                                                            + capacity * sizeof (s_prefix_t *));
            assert (match);
            match->count = count;
        }
        match->prefixes [match->count++] = counts;
    }
    return match;
}

void
zg_subbytes_match_destroy (zg_subbytes_match_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
zg_subbytes_route (zg_subbytes_match_t *match, size_t wire, size_t frames)
{
    if (!match)
        return;
    for (size_t index = 0; index < match->count; index++) {
        match->prefixes [index]->wire += wire;
        match->prefixes [index]->frames += frames;
    }
}

bool
zg_subbytes_queued (zg_subbytes_t *self, int fd, uint64_t *wire, uint64_t *frames)
{
    assert (self && wire && frames);
    s_conn_t *conn = s_conn (self, fd, false);
    if (!conn)
        return false;
    s_conn_sum (conn, wire, frames);
    return true;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Route a message of wire bytes in 2 frames on topic
static void
s_test_route (zg_subbytes_t *self, const char *topic, size_t wire)
{
    zg_subbytes_match_t *match = zg_subbytes_match (self, topic, strlen (topic));
    zg_subbytes_route (match, wire, 2);
    zg_subbytes_match_destroy (&match);
}

static uint64_t
s_test_wire (zg_subbytes_t *self, int fd)
{
    uint64_t wire = 0, frames = 0;
    assert (zg_subbytes_queued (self, fd, &wire, &frames));
    return wire;
}

void
zg_subbytes_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_subbytes: ");
    //  @selftest
    zg_subbytes_t *bytes = zg_subbytes_new ();
    uint64_t wire, frames;
    assert (!zg_subbytes_queued (bytes, 7, &wire, &frames));
    assert (zg_subbytes_match (bytes, "a.b", 3) == NULL);

    //  Connection 7 holds a, and a.b inside it: a message on a.b.c once
    zg_subbytes_subscribe (bytes, 7, "a");
    zg_subbytes_subscribe (bytes, 7, "a.b");
    zg_subbytes_subscribe (bytes, 7, "a.b");
    //  Connection 8 holds a.b and b: disjoint, each counts
    zg_subbytes_subscribe (bytes, 8, "a.b");
    zg_subbytes_subscribe (bytes, 8, "b");
    s_test_route (bytes, "a.b.c", 100);
    s_test_route (bytes, "a.x", 10);
    s_test_route (bytes, "b", 1000);
    s_test_route (bytes, "c", 10000);
    assert (zg_subbytes_queued (bytes, 7, &wire, &frames) && wire == 110 && frames == 4);
    assert (s_test_wire (bytes, 8) == 1100);

    //  7 gives up a: a.b counts from now on, what it had stays
    zg_subbytes_unsubscribe (bytes, 7, "a");
    zg_subbytes_unsubscribe (bytes, 7, "nothing");
    s_test_route (bytes, "a.x", 10);
    s_test_route (bytes, "a.b", 100);
    assert (s_test_wire (bytes, 7) == 210);
    assert (s_test_wire (bytes, 8) == 1200);

    //  A match made before a change is not used after it: a new one
    zg_subbytes_subscribe (bytes, 9, "");
    s_test_route (bytes, "z", 10);
    assert (s_test_wire (bytes, 9) == 10);

    //  Closed connections are forgotten, their prefixes with the last one
    zg_subbytes_closed (bytes, 7);
    zg_subbytes_closed (bytes, 8);
    zg_subbytes_closed (bytes, 8);
    assert (!zg_subbytes_queued (bytes, 7, &wire, &frames));
    zg_subbytes_match_t *match = zg_subbytes_match (bytes, "a.b", 3);
    assert (match && match->count == 1);
    zg_subbytes_match_destroy (&match);
    zg_subbytes_closed (bytes, 9);
    assert (zg_subbytes_match (bytes, "a.b", 3) == NULL);
    zg_subbytes_destroy (&bytes);
    //  @end
    printf ("OK\n");
}
