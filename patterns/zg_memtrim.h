/*  =========================================================================
    zg_memtrim - gives the heap's free memory back to the system when RSS
    has grown past what the memory budget counts

    glibc keeps what is freed in the arena of the thread that allocated it,
    and a thread allocates from its own arena: memory that one attack made a
    gateway thread hold and give back is not what the next attack, read by a
    libzmq I/O thread, allocates. Without a trim, RSS grows by the budget for
    each thread an attack goes through, while the budget's count stays true.
    =========================================================================
*/

#ifndef ZG_MEMTRIM_H_INCLUDED
#define ZG_MEMTRIM_H_INCLUDED

#include "zg_budget.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_memtrim_t zg_memtrim_t;

//  Watch the process's RSS beside budget's use. A trim is due once RSS beyond
//  that use has grown by step bytes since the last trim (0: a sixteenth of
//  the budget's limit, from 8 to 64 MiB)
zg_memtrim_t *
    zg_memtrim_new (zg_budget_t *budget, int64_t step);

void
    zg_memtrim_destroy (zg_memtrim_t **self_p);

//  Call often (the daemon's main loop does, each 50 ms): trims when one is
//  due, at most once a second. Returns whether it trimmed
bool
    zg_memtrim_check (zg_memtrim_t *self);

//  Trims so far
uint64_t
    zg_memtrim_count (zg_memtrim_t *self);

//  glibc's malloc as zgate needs it, unless the environment sets the same
//  tunables (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_): call before threads
//  start. What is freed stays in the arena of the thread that allocated it,
//  and glibc gives each thread that finds the arenas busy a new one (up to
//  8 per core): with ZG_MEMTRIM_ARENAS, an attack's freed bytes are where the
//  next one allocates. And a large block (a message of a client's) is mapped
//  on its own from ZG_MEMTRIM_MMAP_THRESHOLD up, so it goes back to the
//  system when freed: glibc otherwise raises that threshold to the largest
//  block freed so far (up to 32 MiB), and then keeps those blocks.
#define ZG_MEMTRIM_ARENAS 2
#define ZG_MEMTRIM_MMAP_THRESHOLD (128 << 10)
void
    zg_memtrim_tune_malloc (void);

//  The process's resident set, bytes (0 if /proc is not there)
int64_t
    zg_memtrim_rss (void);

void
    zg_memtrim_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
