/*  =========================================================================
    zg_memtrim - gives the heap's free memory back to the system when RSS
    has grown past what the memory budget counts

    RSS, not the budget's fall, is what is watched: libzmq's I/O threads free
    a cut connection's frames after the actor has released their count, so a
    trim at the fall would come before the memory is free. The trim (glibc's
    malloc_trim) walks every arena's free chunks and returns their whole
    pages; it takes milliseconds on a large heap, hence the step and the
    interval. What it could not give back (fragments, memory that zgate
    holds without counting it) becomes the level the next step counts from.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_memtrim.h"
#include <malloc.h>

//  The default step: a fraction of the budget's limit, within bounds
#define ZG_MEMTRIM_STEP_SHARE   16
#define ZG_MEMTRIM_MIN_STEP     ((int64_t) 8 << 20)
#define ZG_MEMTRIM_MAX_STEP     ((int64_t) 64 << 20)
//  At most one trim in this many ms
#define ZG_MEMTRIM_INTERVAL     1000
//  While RSS stays a step above where it started, trims come again, each
//  twice as late as the last while they give back less than a step
#define ZG_MEMTRIM_MAX_RETRY    60000

struct _zg_memtrim_t {
    zg_budget_t *budget;            //  Watched, not owned
    int64_t step;                   //  Growth that asks for a trim, 0: from the limit
    int64_t base;                   //  RSS beyond the budget's use at the start
    int64_t level;                  //  RSS beyond the budget's use after the last trim
    int64_t last_trim;              //  When, zclock_mono
    int64_t retry;                  //  Trim again this long after, ms, while above base
    int64_t peak_used;              //  The budget's highest use since it last fell a step
    uint64_t trims;                 //  Trims so far
};

int64_t
zg_memtrim_rss (void)
{
    FILE *statm = fopen ("/proc/self/statm", "r");
    if (!statm)
        return 0;
    long long pages = 0, resident = 0;
    int fields = fscanf (statm, "%lld %lld", &pages, &resident);
    fclose (statm);
    return fields == 2? (int64_t) resident * sysconf (_SC_PAGESIZE): 0;
}

void
zg_memtrim_tune_malloc (void)
{
    if (!getenv ("MALLOC_ARENA_MAX"))
        mallopt (M_ARENA_MAX, ZG_MEMTRIM_ARENAS);
    if (!getenv ("MALLOC_MMAP_THRESHOLD_"))
        mallopt (M_MMAP_THRESHOLD, ZG_MEMTRIM_MMAP_THRESHOLD);
}

//  RSS beyond what the budget counts
static int64_t
s_beyond (zg_memtrim_t *self)
{
    return zg_memtrim_rss () - zg_budget_used (self->budget);
}

zg_memtrim_t *
zg_memtrim_new (zg_budget_t *budget, int64_t step)
{
    assert (budget && step >= 0);
    zg_memtrim_t *self = (zg_memtrim_t *) zmalloc (sizeof (zg_memtrim_t));
    assert (self);
    self->budget = budget;
    self->step = step;
    self->base = self->level = s_beyond (self);
    self->last_trim = zclock_mono () - ZG_MEMTRIM_INTERVAL;
    self->retry = ZG_MEMTRIM_INTERVAL;
    return self;
}

void
zg_memtrim_destroy (zg_memtrim_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  The growth that asks for a trim; the limit may change on SIGHUP
static int64_t
s_step (zg_memtrim_t *self)
{
    if (self->step)
        return self->step;
    int64_t share = zg_budget_limit (self->budget) / ZG_MEMTRIM_STEP_SHARE;
    return share < ZG_MEMTRIM_MIN_STEP? ZG_MEMTRIM_MIN_STEP: share > ZG_MEMTRIM_MAX_STEP? ZG_MEMTRIM_MAX_STEP: share;
}

bool
zg_memtrim_check (zg_memtrim_t *self)
{
    assert (self);
    int64_t used = zg_budget_used (self->budget);
    int64_t step = s_step (self);
    //  The budget's use fell a step: what it counted is being freed (libzmq's
    //  threads free a cut connection's frames a little later), so the next
    //  trim comes within the interval whatever the retries had backed off to
    if (used > self->peak_used)
        self->peak_used = used;
    if (self->peak_used - used >= step) {
        self->retry = ZG_MEMTRIM_INTERVAL;
        self->peak_used = used;
    }
    int64_t now = zclock_mono ();
    if (now - self->last_trim < ZG_MEMTRIM_INTERVAL)
        return false;
    int64_t beyond = zg_memtrim_rss () - used;
    //  Below the level (memory given back without a trim): count from there
    if (beyond < self->level)
        self->level = beyond;
    //  Grown since the last trim, or still above the start: what was in use
    //  at the last trim may be free now, and RSS does not show that
    bool grown = beyond - self->level >= step;
    bool above = self->level - self->base >= step && now - self->last_trim >= self->retry;
    if (!grown && !above)
        return false;
    malloc_trim (0);
    self->level = s_beyond (self);
    self->retry = beyond - self->level >= step? ZG_MEMTRIM_INTERVAL
                : self->retry * 2 < ZG_MEMTRIM_MAX_RETRY? self->retry * 2: ZG_MEMTRIM_MAX_RETRY;
    self->last_trim = now;
    self->trims++;
    return true;
}

uint64_t
zg_memtrim_count (zg_memtrim_t *self)
{
    assert (self);
    return self->trims;
}

void
zg_memtrim_test (bool verbose)
{
    printf (" * zg_memtrim: ");
    if (verbose)
        printf ("\n");
    assert (zg_memtrim_rss () > 0);
    zg_budget_t *budget = zg_budget_new (1 << 30);
    zg_memtrim_t *trim = zg_memtrim_new (budget, 4 << 20);
    assert (!zg_memtrim_check (trim));

    //  32 MiB in use: RSS past the step, a trim, which gives nothing back
    enum { BLOCKS = 8192, BLOCK_SIZE = 4096 };
    char **blocks = (char **) malloc (BLOCKS * sizeof (char *));
    assert (blocks);
    for (size_t index = 0; index < BLOCKS; index++) {
        blocks [index] = (char *) malloc (BLOCK_SIZE);
        assert (blocks [index]);
        memset (blocks [index], 1, BLOCK_SIZE);
    }
    assert (zg_memtrim_check (trim));
    assert (zg_memtrim_count (trim) == 1);
    //  None within the interval
    assert (!zg_memtrim_check (trim));
    //  Freed but for the block after them, so that glibc keeps them (under
    //  ASan, its quarantine does): RSS does not fall, but it is still a step
    //  above the start, so once the retry's time has come, another trim
    for (size_t index = 0; index + 1 < BLOCKS; index++)
        free (blocks [index]);
    trim->last_trim -= 2 * ZG_MEMTRIM_INTERVAL;
    assert (zg_memtrim_check (trim));
    assert (zg_memtrim_count (trim) == 2);
    free (blocks [BLOCKS - 1]);
    free (blocks);

    //  A fall of the budget's use by a step from its peak brings the next
    //  trim back to the interval
    int64_t account = 0;
    trim->retry = ZG_MEMTRIM_MAX_RETRY;
    trim->last_trim = zclock_mono ();
    zg_budget_charge (budget, &account, 4 << 20);
    assert (!zg_memtrim_check (trim));
    zg_budget_release (budget, &account, 4 << 20);
    assert (!zg_memtrim_check (trim));
    assert (trim->retry == ZG_MEMTRIM_INTERVAL);

    //  Bytes the budget counts are not beyond it
    zg_budget_charge (budget, &account, (size_t) 1 << 29);
    trim->last_trim -= ZG_MEMTRIM_INTERVAL;
    assert (!zg_memtrim_check (trim));
    zg_budget_release (budget, &account, (size_t) account);
    zg_memtrim_destroy (&trim);

    //  Without a step, a sixteenth of the limit, from 8 to 64 MiB
    trim = zg_memtrim_new (budget, 0);
    assert (s_step (trim) == 64 << 20);
    zg_budget_set_limit (budget, 256 << 20);
    assert (s_step (trim) == 16 << 20);
    zg_budget_set_limit (budget, 1 << 20);
    assert (s_step (trim) == 8 << 20);
    zg_memtrim_destroy (&trim);
    zg_budget_destroy (&budget);
    printf ("OK\n");
}
