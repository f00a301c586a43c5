/*  =========================================================================
    zg_memtrim - gives the heap's free memory back to the system once the
    memory budget's use has fallen

    The trim (glibc's malloc_trim) walks every arena's free chunks and
    returns their whole pages; it takes a few milliseconds on a large heap,
    so it runs only after a fall worth it, not on every release.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_memtrim.h"
#include <malloc.h>

//  A fall smaller than this is not worth a walk of the heap
#define ZG_MEMTRIM_MIN_STEP     (8 << 20)
//  The default step is this fraction of the budget's limit
#define ZG_MEMTRIM_STEP_SHARE   8

struct _zg_memtrim_t {
    zg_budget_t *budget;            //  Watched, not owned
    int64_t step;                   //  Fall that asks for a trim, 0: from the limit
    int64_t peak;                   //  Highest use since the last trim
    uint64_t trims;                 //  Trims so far
};

zg_memtrim_t *
zg_memtrim_new (zg_budget_t *budget, int64_t step)
{
    assert (budget && step >= 0);
    zg_memtrim_t *self = (zg_memtrim_t *) zmalloc (sizeof (zg_memtrim_t));
    assert (self);
    self->budget = budget;
    self->step = step;
    self->peak = zg_budget_used (budget);
    return self;
}

void
zg_memtrim_destroy (zg_memtrim_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  The fall that asks for a trim; the limit may change on SIGHUP
static int64_t
s_step (zg_memtrim_t *self)
{
    if (self->step)
        return self->step;
    int64_t share = zg_budget_limit (self->budget) / ZG_MEMTRIM_STEP_SHARE;
    return share > ZG_MEMTRIM_MIN_STEP? share: ZG_MEMTRIM_MIN_STEP;
}

bool
zg_memtrim_check (zg_memtrim_t *self)
{
    assert (self);
    int64_t used = zg_budget_used (self->budget);
    if (used > self->peak)
        self->peak = used;
    if (self->peak - used < s_step (self))
        return false;
    malloc_trim (0);
    self->peak = used;
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
    zg_budget_t *budget = zg_budget_new (1 << 30);
    int64_t account = 0;
    zg_memtrim_t *trim = zg_memtrim_new (budget, 1000);
    //  Rising use, or a fall smaller than the step, trims nothing
    zg_budget_charge (budget, &account, 5000);
    assert (!zg_memtrim_check (trim));
    zg_budget_release (budget, &account, 999);
    assert (!zg_memtrim_check (trim));
    //  A fall of the step from the peak trims once, and the peak starts again
    zg_budget_release (budget, &account, 1);
    assert (zg_memtrim_check (trim));
    assert (!zg_memtrim_check (trim));
    assert (zg_memtrim_count (trim) == 1);
    zg_budget_charge (budget, &account, 500);
    zg_budget_release (budget, &account, 1500);
    assert (zg_memtrim_check (trim));
    assert (zg_memtrim_count (trim) == 2);
    zg_memtrim_destroy (&trim);

    //  Without a step, an eighth of the limit (at least 8 MiB)
    trim = zg_memtrim_new (budget, 0);
    zg_budget_charge (budget, &account, 200 << 20);
    assert (!zg_memtrim_check (trim));
    zg_budget_release (budget, &account, (128 << 20) - 1);
    assert (!zg_memtrim_check (trim));
    zg_budget_release (budget, &account, 1);
    assert (zg_memtrim_check (trim));
    zg_budget_release (budget, &account, (size_t) account);
    zg_memtrim_destroy (&trim);
    zg_budget_destroy (&budget);
    printf ("OK\n");
}
