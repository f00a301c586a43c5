/*  =========================================================================
    zg_redis_ring - consistent hashing of names to Redis shards

    Private to the cluster classes. Each shard, named by its address, owns
    many points on a 64-bit ring; a name belongs to the shard of the first
    point at or after the name's hash. Adding a shard moves only the names
    that land on its points, and the order in which shards are listed does
    not matter. As in Redis Cluster, a name that holds a hash tag, a
    non-empty part between its first '{' and the first '}' after it, is
    hashed by that part alone, so "q:{jobs}:pending" and "q:{jobs}:leases"
    (all keys of one queue or room) land on the same shard.
    =========================================================================
*/

#ifndef ZG_REDIS_RING_H_INCLUDED
#define ZG_REDIS_RING_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_redis_ring_t zg_redis_ring_t;

//  Create an empty ring
zg_redis_ring_t *
    zg_redis_ring_new (void);

//  Destroy the ring
void
    zg_redis_ring_destroy (zg_redis_ring_t **self_p);

//  Add a shard named by its address; returns its index (0, 1, ...), or -1
//  if the ring already has that address
int
    zg_redis_ring_add (zg_redis_ring_t *self, const char *address);

//  Shards on the ring
size_t
    zg_redis_ring_size (zg_redis_ring_t *self);

//  The index of the shard a name (size bytes) belongs to; the ring has at
//  least one shard
size_t
    zg_redis_ring_pick (zg_redis_ring_t *self, const char *name, size_t size);

//  Self test of this class
void
    zg_redis_ring_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
