/*  =========================================================================
    zg_routebytes - the bytes a ROUTER actor queued for each of its TCP
    connections

    Routing ids as binary keys (their size, their socket's letter, their
    bytes: two sockets make the same ids) -> descriptor; counts by
    descriptor, which the sockets of one watchdog share. The key last
    learnt or found is kept with its descriptor, so a connection's answers
    and events, which follow its request, are counted without a hash lookup.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_routebytes.h"
#include "zg_inflight.h"

//  Most sockets attached in one thread
#define ZG_ROUTEBYTES_PER_THREAD 8
//  Longest routing id libzmq accepts
#define ZG_ROUTEBYTES_MAX_ID 255
//  Room for a routing id as a key: its size, its socket's letter, its bytes
#define ZG_ROUTEBYTES_KEY (ZG_ROUTEBYTES_MAX_ID + 2)

//  What was queued for one connection
typedef struct {
    uint64_t wire;
    uint64_t frames;
    bool known;                     //  A request came from it
} s_count_t;

struct _zg_routebytes_t {
    zhashx_t *routes;               //  Routing id key -> descriptor + 1
    s_count_t *counts;              //  By descriptor
    size_t capacity;                //  Descriptors counts has room for
    byte last [ZG_ROUTEBYTES_KEY];  //  The key last learnt or found
    int last_fd;                    //  Its descriptor, or -1 if none
    zhashx_t *links;                //  In-process routing id key -> zg_inflight_t
    int64_t (*link_limit) (void);   //  Bytes an in-process peer may hold, or NULL
};

//  --------------------------------------------------------------------------
//  Routing id keys: their hash (FNV-1a), order, copy and release

static size_t
s_key_size (const void *key)
{
    return (size_t) *(const byte *) key + 2;
}

static size_t
s_key_hash (const void *key)
{
    const byte *bytes = (const byte *) key;
    size_t hash = 2166136261u;
    for (size_t index = 0; index < s_key_size (key); index++)
        hash = (hash ^ bytes [index]) * 16777619u;
    return hash;
}

static int
s_key_compare (const void *key1, const void *key2)
{
    //  The first byte is the size: keys of different sizes differ there
    size_t size = s_key_size (key1) < s_key_size (key2)? s_key_size (key1): s_key_size (key2);
    return memcmp (key1, key2, size);
}

static void *
s_key_duplicate (const void *key)
{
    void *copy = malloc (s_key_size (key));
    assert (copy);
    return memcpy (copy, key, s_key_size (key));
}

static void
s_key_free (void **key_p)
{
    free (*key_p);
    *key_p = NULL;
}

//  A socket attached in this thread, and its counter
typedef struct {
    void *handle;
    zg_routebytes_t *counter;
} s_attached_t;

static __thread s_attached_t s_attached [ZG_ROUTEBYTES_PER_THREAD];

//  --------------------------------------------------------------------------
//  Create a counter

zg_routebytes_t *
zg_routebytes_new (void)
{
    zg_routebytes_t *self = (zg_routebytes_t *) zmalloc (sizeof (zg_routebytes_t));
    self->routes = zhashx_new ();
    assert (self->routes);
    zhashx_set_key_hasher (self->routes, s_key_hash);
    zhashx_set_key_comparator (self->routes, s_key_compare);
    zhashx_set_key_duplicator (self->routes, s_key_duplicate);
    zhashx_set_key_destructor (self->routes, s_key_free);
    self->last_fd = -1;
    self->links = zhashx_new ();
    zhashx_set_key_hasher (self->links, s_key_hash);
    zhashx_set_key_comparator (self->links, s_key_compare);
    zhashx_set_key_duplicator (self->links, s_key_duplicate);
    zhashx_set_key_destructor (self->links, s_key_free);
    zhashx_set_destructor (self->links, (zhashx_destructor_fn *) zg_inflight_destroy);
    return self;
}

//  --------------------------------------------------------------------------
//  Count the sends on a ROUTER socket, in this thread

void
zg_routebytes_attach (zg_routebytes_t *self, void *handle)
{
    assert (self);
    assert (handle);
    size_t slot = 0;
    while (slot < ZG_ROUTEBYTES_PER_THREAD && s_attached [slot].handle)
        slot++;
    assert (slot < ZG_ROUTEBYTES_PER_THREAD);
    s_attached [slot] = (s_attached_t) { handle, self };
}

//  --------------------------------------------------------------------------
//  Detach and destroy it

void
zg_routebytes_destroy (zg_routebytes_t **self_p)
{
    assert (self_p);
    zg_routebytes_t *self = *self_p;
    if (!self)
        return;
    for (size_t slot = 0; slot < ZG_ROUTEBYTES_PER_THREAD; slot++)
        if (s_attached [slot].counter == self)
            s_attached [slot] = (s_attached_t) { NULL, NULL };
    zhashx_destroy (&self->routes);
    zhashx_destroy (&self->links);
    free (self->counts);
    free (self);
    *self_p = NULL;
}

//  The counter attached to handle in this thread, or NULL; and a routing id
//  on it as a hash key, in key (ZG_ROUTEBYTES_KEY bytes)
static zg_routebytes_t *
s_find (void *handle, const void *routing, size_t size, byte *key)
{
    size_t slot = 0;
    while (slot < ZG_ROUTEBYTES_PER_THREAD && s_attached [slot].handle != handle)
        slot++;
    if (slot == ZG_ROUTEBYTES_PER_THREAD || size > ZG_ROUTEBYTES_MAX_ID)
        return NULL;
    key [0] = (byte) size;
    key [1] = (byte) slot;
    memcpy (key + 2, routing, size);
    return s_attached [slot].counter;
}

//  Whether key is the one last learnt or found
static bool
s_is_last (zg_routebytes_t *self, const byte *key)
{
    return self->last_fd >= 0 && s_key_compare (self->last, key) == 0;
}

//  Keep key and its descriptor as the last
static void
s_set_last (zg_routebytes_t *self, const byte *key, int fd)
{
    memcpy (self->last, key, s_key_size (key));
    self->last_fd = fd;
}

//  --------------------------------------------------------------------------
//  A request came from connection fd with this routing id

void
zg_routebytes_learn (void *handle, const void *routing, size_t size, int fd)
{
    byte key [ZG_ROUTEBYTES_KEY];
    zg_routebytes_t *self = s_find (handle, routing, size, key);
    if (!self)
        return;
    if (fd < 0) {
        if (!zhashx_lookup (self->links, key))
            zhashx_insert (self->links, key, zg_inflight_new ());
        if (s_is_last (self, key))
            self->last_fd = -1;
        return;
    }
    if (zhashx_size (self->links))
        zhashx_delete (self->links, key);
    if ((size_t) fd >= self->capacity) {
        size_t capacity = self->capacity? self->capacity: 64;
        while (capacity <= (size_t) fd)
            capacity *= 2;
        self->counts = (s_count_t *) realloc (self->counts, capacity * sizeof (s_count_t));
        assert (self->counts);
        memset (self->counts + self->capacity, 0, (capacity - self->capacity) * sizeof (s_count_t));
        self->capacity = capacity;
    }
    self->counts [fd].known = true;
    if (s_is_last (self, key) && self->last_fd == fd)
        return;
    void *value = (void *) (intptr_t) (fd + 1);
    if (zhashx_lookup (self->routes, key) != value)
        zhashx_update (self->routes, key, value);
    s_set_last (self, key, fd);
}

//  --------------------------------------------------------------------------
//  A message was queued for a routing id

void
zg_routebytes_sent (void *handle, const void *routing, size_t size, uint64_t wire, uint64_t frames)
{
    byte key [ZG_ROUTEBYTES_KEY];
    zg_routebytes_t *self = s_find (handle, routing, size, key);
    if (!self)
        return;
    intptr_t fd = s_is_last (self, key)? self->last_fd: (intptr_t) zhashx_lookup (self->routes, key) - 1;
    if (fd < 0)
        return;                     //  Inproc, or a connection that closed
    s_set_last (self, key, (int) fd);
    self->counts [fd].wire += wire;
    self->counts [fd].frames += frames;
}

//  --------------------------------------------------------------------------
//  Set what bounds in-process peers

void
zg_routebytes_set_link_limit (zg_routebytes_t *self, int64_t (*limit) (void))
{
    assert (self && limit);
    self->link_limit = limit;
}

//  --------------------------------------------------------------------------
//  Bound what waits for an in-process peer

int
zg_routebytes_bound (void *handle, const void *routing, size_t size, zmq_msg_t *frames, size_t count,
                     uint64_t extra)
{
    assert (frames && count > 0);
    byte key [ZG_ROUTEBYTES_KEY];
    zg_routebytes_t *self = s_find (handle, routing, size, key);
    //  Most sends go to TCP peers: the last key found, or no link at all
    if (!self || !self->link_limit || zhashx_size (self->links) == 0 || s_is_last (self, key))
        return 0;
    zg_inflight_t *link = (zg_inflight_t *) zhashx_lookup (self->links, key);
    if (!link)
        return 0;
    uint64_t bytes = extra;
    for (size_t index = 0; index < count; index++)
        bytes += zmq_msg_size (&frames [index]);
    zmq_msg_t counted;
    if (zg_inflight_frame (link, self->link_limit (), &counted, zmq_msg_size (&frames [0]), bytes) == -1)
        return -1;
    memcpy (zmq_msg_data (&counted), zmq_msg_data (&frames [0]), zmq_msg_size (&frames [0]));
    zmq_msg_move (&frames [0], &counted);
    zmq_msg_close (&counted);
    return 0;
}

//  --------------------------------------------------------------------------
//  A connection closed: forget it and the routing ids that named it

void
zg_routebytes_closed (int fd, void *arg)
{
    zg_routebytes_t *self = (zg_routebytes_t *) arg;
    assert (self);
    if (fd < 0 || (size_t) fd >= self->capacity || !self->counts [fd].known)
        return;
    memset (&self->counts [fd], 0, sizeof (s_count_t));
    if (self->last_fd == fd)
        self->last_fd = -1;
    zlistx_t *gone = zlistx_new ();
    void *value = (void *) (intptr_t) (fd + 1);
    for (void *item = zhashx_first (self->routes); item; item = zhashx_next (self->routes))
        if (item == value)
            zlistx_add_end (gone, (void *) zhashx_cursor (self->routes));
    //  Keys are the hash's own: delete them only once the walk is over
    for (const void *key = zlistx_first (gone); key; key = zlistx_next (gone))
        zhashx_delete (self->routes, key);
    zlistx_destroy (&gone);
}

//  --------------------------------------------------------------------------
//  What was queued for a connection

bool
zg_routebytes_queued (int fd, uint64_t *wire, uint64_t *frames, void *arg)
{
    zg_routebytes_t *self = (zg_routebytes_t *) arg;
    assert (self);
    if (fd < 0 || (size_t) fd >= self->capacity || !self->counts [fd].known)
        return false;
    *wire = self->counts [fd].wire;
    *frames = self->counts [fd].frames;
    return true;
}

//  --------------------------------------------------------------------------
//  Self test helper: the bytes an in-process peer may hold

static int64_t
s_test_link_limit (void)
{
    return 100;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_routebytes_test (bool verbose)
{
    if (verbose)
        printf (" * zg_routebytes: ");
    int socket_a, socket_b, socket_c;
    void *handle = &socket_a, *other = &socket_b;
    zg_routebytes_t *self = zg_routebytes_new ();
    zg_routebytes_attach (self, handle);
    uint64_t wire = 0, frames = 0;
    const byte first [] = { 0, 0, 0, 0, 1 }, second [] = { 0, 0, 0, 0, 2 };
    assert (!zg_routebytes_queued (7, &wire, &frames, self));
    //  Only the attached socket's TCP requests are learned
    zg_routebytes_learn (handle, first, sizeof first, 7);
    zg_routebytes_learn (handle, second, sizeof second, -1);
    zg_routebytes_learn (&socket_c, second, sizeof second, 9);
    zg_routebytes_sent (handle, first, sizeof first, 100, 2);
    zg_routebytes_sent (handle, first, sizeof first, 50, 3);
    zg_routebytes_sent (handle, second, sizeof second, 1000, 1);
    zg_routebytes_sent (&socket_c, first, sizeof first, 1000, 1);
    assert (zg_routebytes_queued (7, &wire, &frames, self));
    assert (wire == 150 && frames == 5);
    assert (!zg_routebytes_queued (9, &wire, &frames, self));
    //  Another socket of the same counter makes the same ids: its own
    zg_routebytes_attach (self, other);
    zg_routebytes_learn (other, first, sizeof first, 11);
    zg_routebytes_sent (other, first, sizeof first, 40, 4);
    assert (zg_routebytes_queued (11, &wire, &frames, self));
    assert (wire == 40 && frames == 4);
    assert (zg_routebytes_queued (7, &wire, &frames, self));
    assert (wire == 150 && frames == 5);
    //  A routing id that moved to another connection counts there
    zg_routebytes_learn (handle, second, sizeof second, 130);
    zg_routebytes_sent (handle, second, sizeof second, 10, 1);
    assert (zg_routebytes_queued (130, &wire, &frames, self));
    assert (wire == 10 && frames == 1);
    //  Once its connection closed, an id counts nowhere, and its descriptor
    //  starts again from nothing
    zg_routebytes_closed (7, self);
    zg_routebytes_closed (500, self);
    assert (!zg_routebytes_queued (7, &wire, &frames, self));
    zg_routebytes_sent (handle, first, sizeof first, 100, 2);
    zg_routebytes_learn (handle, second, sizeof second, 7);
    assert (zg_routebytes_queued (7, &wire, &frames, self));
    assert (wire == 0 && frames == 0);
    //  Any bytes make a key, the longest libzmq allows included
    byte longest [ZG_ROUTEBYTES_MAX_ID];
    memset (longest, 0xff, sizeof longest);
    zg_routebytes_learn (handle, longest, sizeof longest, 8);
    zg_routebytes_sent (handle, longest, sizeof longest, 5, 1);
    assert (zg_routebytes_queued (8, &wire, &frames, self));
    assert (wire == 5 && frames == 1);
    //  The last key is a cache, never a stale answer: a connection that
    //  closed counts nothing, an id that moved counts where it went, and a
    //  prefix of an id is another id
    const byte prefix [] = { 0, 0, 0, 0 };
    zg_routebytes_learn (handle, first, sizeof first, 20);
    zg_routebytes_closed (20, self);
    zg_routebytes_sent (handle, first, sizeof first, 100, 2);
    zg_routebytes_learn (handle, first, sizeof first, 21);
    assert (zg_routebytes_queued (21, &wire, &frames, self) && wire == 0 && frames == 0);
    zg_routebytes_learn (handle, first, sizeof first, 22);
    zg_routebytes_sent (handle, first, sizeof first, 3, 1);
    zg_routebytes_sent (handle, prefix, sizeof prefix, 9, 1);
    assert (zg_routebytes_queued (22, &wire, &frames, self) && wire == 3 && frames == 1);
    assert (zg_routebytes_queued (21, &wire, &frames, self) && wire == 0 && frames == 0);

    //  An in-process peer's messages are bounded by what they hold until it
    //  lets them go (the link limit); others' are left alone
    zg_routebytes_set_link_limit (self, s_test_link_limit);
    const byte local [] = { 0, 0, 0, 0, 3 };
    zg_routebytes_learn (handle, local, sizeof local, -1);
    zmq_msg_t deliver [2], answer;
    zmq_msg_init_size (&deliver [0], 7);
    memcpy (zmq_msg_data (&deliver [0]), "DELIVER", 7);
    zmq_msg_init_size (&deliver [1], 60);
    assert (zg_routebytes_bound (handle, local, sizeof local, deliver, 2, 30) == 0);
    assert (zmq_msg_size (&deliver [0]) == 7 && memcmp (zmq_msg_data (&deliver [0]), "DELIVER", 7) == 0);
    zmq_msg_init_size (&answer, 10);
    errno = 0;
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 0) == -1 && errno == EAGAIN);
    void *data = zmq_msg_data (&answer);
    assert (zg_routebytes_bound (handle, second, sizeof second, &answer, 1, 1000) == 0);
    assert (zg_routebytes_bound (&socket_c, local, sizeof local, &answer, 1, 1000) == 0);
    assert (zmq_msg_data (&answer) == data);
    zmq_msg_close (&deliver [0]);
    zmq_msg_close (&deliver [1]);
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 0) == 0);
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 95) == -1);
    //  An id heard from over TCP since is a TCP peer's
    zg_routebytes_learn (handle, local, sizeof local, 12);
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 95) == 0);
    //  and one heard from over inproc again is bounded again, though it was
    //  the last key found
    zg_routebytes_learn (handle, local, sizeof local, -1);
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 95) == 0);
    assert (zg_routebytes_bound (handle, local, sizeof local, &answer, 1, 95) == -1);
    zmq_msg_close (&answer);
    zg_routebytes_destroy (&self);
    assert (self == NULL);
    //  Detached: nothing is found for the handle any more
    zg_routebytes_t *again = zg_routebytes_new ();
    zg_routebytes_attach (again, &socket_c);
    zg_routebytes_learn (handle, first, sizeof first, 3);
    assert (!zg_routebytes_queued (3, &wire, &frames, again));
    zg_routebytes_destroy (&again);
    if (verbose)
        printf ("OK\n");
}
