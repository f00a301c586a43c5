/*  =========================================================================
    zg_redis_ring - consistent hashing of names to Redis shards

    The points are a sorted array searched by bisection. The hash is 64-bit
    FNV-1a followed by splitmix64's finalizer, so that names that differ in
    one byte (queue1, queue2) still land far apart.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_redis_ring.h"

//  Points per shard: enough that shards get shares within a few percent
#define ZG_REDIS_RING_POINTS 160

typedef struct {
    uint64_t hash;                  //  Where on the ring
    size_t shard;                   //  Whose point
} s_point_t;

struct _zg_redis_ring_t {
    zlistx_t *addresses;            //  Shard addresses, in index order
    s_point_t *points;              //  Sorted by hash
    size_t point_count;             //  Points in use
};

//  --------------------------------------------------------------------------
//  The 64-bit hash of size bytes

static uint64_t
s_hash (const char *data, size_t size)
{
    uint64_t hash = 14695981039346656037ULL;
    for (size_t index = 0; index < size; index++) {
        hash ^= (unsigned char) data [index];
        hash *= 1099511628211ULL;
    }
    hash ^= hash >> 30;
    hash *= 0xbf58476d1ce4e5b9ULL;
    hash ^= hash >> 27;
    hash *= 0x94d049bb133111ebULL;
    hash ^= hash >> 31;
    return hash;
}

static int
s_compare_points (const void *first, const void *second)
{
    uint64_t one = ((const s_point_t *) first)->hash;
    uint64_t other = ((const s_point_t *) second)->hash;
    return one < other? -1: one > other? 1: 0;
}

//  --------------------------------------------------------------------------
//  Create an empty ring

zg_redis_ring_t *
zg_redis_ring_new (void)
{
    zg_redis_ring_t *self = (zg_redis_ring_t *) zmalloc (sizeof (zg_redis_ring_t));
    assert (self);
    self->addresses = zlistx_new ();
    zlistx_set_destructor (self->addresses, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->addresses, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (self->addresses, (zlistx_comparator_fn *) strcmp);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the ring

void
zg_redis_ring_destroy (zg_redis_ring_t **self_p)
{
    assert (self_p);
    zg_redis_ring_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->addresses);
        free (self->points);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Add a shard named by its address

int
zg_redis_ring_add (zg_redis_ring_t *self, const char *address)
{
    assert (self);
    assert (address);
    if (zlistx_find (self->addresses, (void *) address))
        return -1;
    size_t shard = zlistx_size (self->addresses);
    zlistx_add_end (self->addresses, (void *) address);
    self->points = (s_point_t *) realloc (self->points, (self->point_count + ZG_REDIS_RING_POINTS)
                                                        * sizeof (s_point_t));
    assert (self->points);
    for (int index = 0; index < ZG_REDIS_RING_POINTS; index++) {
        char name [300];
        int size = snprintf (name, sizeof name, "%s#%d", address, index);
        self->points [self->point_count].hash = s_hash (name, (size_t) size < sizeof name? (size_t) size
                                                                                         : sizeof name - 1);
        self->points [self->point_count++].shard = shard;
    }
    qsort (self->points, self->point_count, sizeof (s_point_t), s_compare_points);
    return (int) shard;
}

//  --------------------------------------------------------------------------
//  Shards on the ring

size_t
zg_redis_ring_size (zg_redis_ring_t *self)
{
    assert (self);
    return zlistx_size (self->addresses);
}

//  --------------------------------------------------------------------------
//  The shard a name belongs to

size_t
zg_redis_ring_pick (zg_redis_ring_t *self, const char *name, size_t size)
{
    assert (self);
    assert (self->point_count > 0);
    const char *open = (const char *) memchr (name, '{', size);
    const char *close = open? (const char *) memchr (open + 1, '}', size - (size_t) (open + 1 - name)): NULL;
    if (close && close > open + 1) {
        name = open + 1;
        size = (size_t) (close - name);
    }
    uint64_t hash = s_hash (name, size);
    //  The first point at or after hash, wrapping to the first point
    size_t low = 0, high = self->point_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->points [middle].hash < hash)
            low = middle + 1;
        else
            high = middle;
    }
    return self->points [low == self->point_count? 0: low].shard;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  The shard of a string name
static size_t
s_test_pick (zg_redis_ring_t *ring, const char *name)
{
    return zg_redis_ring_pick (ring, name, strlen (name));
}

void
zg_redis_ring_test (bool verbose)
{
    printf (" * zg_redis_ring: ");
    //  @selftest
    zg_redis_ring_t *ring = zg_redis_ring_new ();
    assert (zg_redis_ring_size (ring) == 0);
    assert (zg_redis_ring_add (ring, "127.0.0.1:7001") == 0);
    assert (zg_redis_ring_add (ring, "127.0.0.1:7001") == -1);
    assert (s_test_pick (ring, "anything") == 0);
    assert (zg_redis_ring_add (ring, "127.0.0.1:7002") == 1);
    assert (zg_redis_ring_add (ring, "127.0.0.1:7003") == 2);
    assert (zg_redis_ring_size (ring) == 3);

    //  Names spread evenly, and stay where they are
    size_t counts [3] = { 0 };
    size_t picked [3000];
    for (int index = 0; index < 3000; index++) {
        char name [32];
        snprintf (name, sizeof name, "queue%d", index);
        picked [index] = s_test_pick (ring, name);
        assert (picked [index] == s_test_pick (ring, name));
        counts [picked [index]]++;
    }
    if (verbose)
        printf ("(%zu %zu %zu) ", counts [0], counts [1], counts [2]);
    for (int shard = 0; shard < 3; shard++)
        assert (counts [shard] > 750 && counts [shard] < 1250);

    //  Hash tags: keys of one name land together; "{}" is no tag
    size_t shard = s_test_pick (ring, "jobs");
    assert (s_test_pick (ring, "zgate:q:{jobs}:pending") == shard);
    assert (s_test_pick (ring, "zgate:q:{jobs}:leases") == shard);
    assert (s_test_pick (ring, "{jobs}") == shard);
    assert (s_test_pick (ring, "x{jobs}y{other}") == shard);
    assert (s_test_pick (ring, "{}x") == s_test_pick (ring, "{}x"));

    //  A fourth shard takes about a quarter of the names, from every
    //  shard, and moves no name between the old ones
    assert (zg_redis_ring_add (ring, "127.0.0.1:7004") == 3);
    size_t moved = 0;
    for (int index = 0; index < 3000; index++) {
        char name [32];
        snprintf (name, sizeof name, "queue%d", index);
        size_t now = s_test_pick (ring, name);
        assert (now == picked [index] || now == 3);
        moved += now == 3;
    }
    assert (moved > 500 && moved < 1000);

    //  The order shards are added in does not matter
    zg_redis_ring_t *other = zg_redis_ring_new ();
    assert (zg_redis_ring_add (other, "127.0.0.1:7004") == 0);
    assert (zg_redis_ring_add (other, "127.0.0.1:7003") == 1);
    assert (zg_redis_ring_add (other, "127.0.0.1:7002") == 2);
    assert (zg_redis_ring_add (other, "127.0.0.1:7001") == 3);
    for (int index = 0; index < 100; index++) {
        char name [32];
        snprintf (name, sizeof name, "room%d", index);
        assert (3 - s_test_pick (other, name) == s_test_pick (ring, name));
    }
    zg_redis_ring_destroy (&other);
    zg_redis_ring_destroy (&ring);
    assert (ring == NULL);
    //  @end
    printf ("OK\n");
}
