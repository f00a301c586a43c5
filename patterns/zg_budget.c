/*  =========================================================================
    zg_budget - one memory budget: bytes that clients grow, counted against
    a limit per account and a global limit, with a high-water alarm

    The global count is shared by the actors' threads, so it and the alarm
    are atomics; an account belongs to one actor and is a plain integer in
    that actor's state. Two actors admitting at the same instant may pass the
    budget by one request each: the alarm then refuses the next ones.
    =========================================================================
*/

#include "zg_classes.h"
#include <stdatomic.h>

//  The default budget is this fraction of the machine's memory
#define ZG_BUDGET_DEFAULT_SHARE 2
//  The alarm falls when usage is at most this many tenths of the budget
#define ZG_BUDGET_LOW_WATER_TENTHS 9

struct _zg_budget_t {
    _Atomic int64_t limit;          //  Budget, bytes
    _Atomic int64_t used;           //  Charged over all accounts
    atomic_bool alarm;              //  New work is refused
    _Atomic uint64_t refused_account;   //  Refusals: an account was full
    _Atomic uint64_t refused_global;    //  Refusals: the alarm
    _Atomic uint64_t alarms;        //  Times the alarm was raised
};

//  Half the machine's memory, or 1 GiB where it is not known
static int64_t
s_default_limit (void)
{
    long pages = sysconf (_SC_PHYS_PAGES);
    long page_size = sysconf (_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0)
        return (int64_t) 1 << 30;
    return (int64_t) pages * page_size / ZG_BUDGET_DEFAULT_SHARE;
}

//  The alarm rises past the budget and falls at low water only, so that it
//  does not flap around one request's size
static void
s_evaluate (zg_budget_t *self)
{
    int64_t used = atomic_load (&self->used);
    int64_t limit = atomic_load (&self->limit);
    if (used > limit) {
        if (!atomic_exchange (&self->alarm, true))
            atomic_fetch_add (&self->alarms, 1);
    }
    else
    if (used <= limit / 10 * ZG_BUDGET_LOW_WATER_TENTHS)
        atomic_store (&self->alarm, false);
}

zg_budget_t *
zg_budget_new (int64_t limit)
{
    zg_budget_t *self = (zg_budget_t *) zmalloc (sizeof (zg_budget_t));
    assert (self);
    zg_budget_set_limit (self, limit);
    return self;
}

void
zg_budget_destroy (zg_budget_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

//  The process's budget: one object, its limit the default until zgate sets it
static zg_budget_t s_process;
static pthread_once_t s_process_once = PTHREAD_ONCE_INIT;

static void
s_process_init (void)
{
    zg_budget_set_limit (&s_process, 0);
}

zg_budget_t *
zg_budget_process (void)
{
    pthread_once (&s_process_once, s_process_init);
    return &s_process;
}

void
zg_budget_set_limit (zg_budget_t *self, int64_t limit)
{
    assert (self);
    assert (limit >= 0);
    atomic_store (&self->limit, limit? limit: s_default_limit ());
    s_evaluate (self);
}

int64_t
zg_budget_limit (zg_budget_t *self)
{
    assert (self);
    return atomic_load (&self->limit);
}

int64_t
zg_budget_used (zg_budget_t *self)
{
    assert (self);
    return atomic_load (&self->used);
}

bool
zg_budget_alarm (zg_budget_t *self)
{
    assert (self);
    return atomic_load (&self->alarm);
}

int
zg_budget_admit (zg_budget_t *self, int64_t used, int64_t limit, size_t size)
{
    assert (self);
    if (limit > 0 && used + (int64_t) size > limit) {
        atomic_fetch_add (&self->refused_account, 1);
        return ZG_ERR_TOO_MANY;
    }
    if (atomic_load (&self->alarm)
    ||  atomic_load (&self->used) + (int64_t) size > atomic_load (&self->limit)) {
        atomic_fetch_add (&self->refused_global, 1);
        if (!atomic_exchange (&self->alarm, true))
            atomic_fetch_add (&self->alarms, 1);
        return ZG_ERR_STORAGE;
    }
    return 0;
}

bool
zg_budget_spare (zg_budget_t *self, size_t size)
{
    assert (self);
    return !atomic_load (&self->alarm)
        && atomic_load (&self->used) + (int64_t) size <= atomic_load (&self->limit) / 10 * ZG_BUDGET_LOW_WATER_TENTHS;
}

void
zg_budget_charge (zg_budget_t *self, int64_t *account, size_t size)
{
    assert (self && account);
    *account += (int64_t) size;
    atomic_fetch_add (&self->used, (int64_t) size);
    s_evaluate (self);
}

void
zg_budget_release (zg_budget_t *self, int64_t *account, size_t size)
{
    assert (self && account);
    assert (*account >= (int64_t) size);
    *account -= (int64_t) size;
    atomic_fetch_sub (&self->used, (int64_t) size);
    s_evaluate (self);
}

json_object *
zg_budget_stats (zg_budget_t *self)
{
    assert (self);
    json_object *stats = json_object_new_object ();
    json_object_object_add (stats, "limit", json_object_new_int64 (atomic_load (&self->limit)));
    json_object_object_add (stats, "used", json_object_new_int64 (atomic_load (&self->used)));
    json_object_object_add (stats, "alarm", json_object_new_int (atomic_load (&self->alarm)? 1: 0));
    json_object_object_add (stats, "alarms", json_object_new_uint64 (atomic_load (&self->alarms)));
    json_object_object_add (stats, "refused_account", json_object_new_uint64 (atomic_load (&self->refused_account)));
    json_object_object_add (stats, "refused_global", json_object_new_uint64 (atomic_load (&self->refused_global)));
    return stats;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_budget_test (bool verbose)
{
    printf (" * zg_budget: ");
    //  @selftest
    zg_budget_t *budget = zg_budget_new (1000);
    assert (zg_budget_limit (budget) == 1000 && zg_budget_used (budget) == 0);
    int64_t queue = 0, room = 0;

    //  An account's own limit refuses with 429 and changes nothing
    assert (zg_budget_admit (budget, queue, 300, 200) == 0);
    zg_budget_charge (budget, &queue, 200);
    //  Droppable bytes fit only below low water (900 of 1000)
    assert (zg_budget_spare (budget, 700) && !zg_budget_spare (budget, 701));
    assert (zg_budget_admit (budget, queue, 300, 101) == ZG_ERR_TOO_MANY);
    assert (queue == 200 && zg_budget_used (budget) == 200 && !zg_budget_alarm (budget));

    //  Past the global budget: 507, and the alarm refuses even small requests
    zg_budget_charge (budget, &room, 700);
    assert (zg_budget_admit (budget, room, 0, 101) == ZG_ERR_STORAGE);
    assert (zg_budget_alarm (budget));
    assert (zg_budget_admit (budget, queue, 300, 1) == ZG_ERR_STORAGE);
    assert (zg_budget_used (budget) == 900);

    //  The alarm falls at low water (900 of 1000), not before
    zg_budget_charge (budget, &room, 50);
    assert (zg_budget_alarm (budget));
    zg_budget_release (budget, &room, 50);
    assert (!zg_budget_alarm (budget));
    assert (zg_budget_admit (budget, queue, 300, 100) == 0);

    //  Bytes that cannot be refused are charged and raise the alarm
    zg_budget_charge (budget, &queue, 500);
    assert (zg_budget_alarm (budget) && zg_budget_used (budget) == 1400);
    zg_budget_release (budget, &queue, 700);
    zg_budget_release (budget, &room, 700);
    assert (queue == 0 && room == 0 && zg_budget_used (budget) == 0 && !zg_budget_alarm (budget));

    json_object *stats = zg_budget_stats (budget);
    json_object *value = NULL;
    assert (json_object_object_get_ex (stats, "refused_account", &value) && json_object_get_int64 (value) == 1);
    assert (json_object_object_get_ex (stats, "refused_global", &value) && json_object_get_int64 (value) == 2);
    assert (json_object_object_get_ex (stats, "alarms", &value) && json_object_get_int64 (value) == 2);
    if (verbose)
        printf ("(%s) ", json_object_to_json_string (stats));
    json_object_put (stats);

    //  A lower limit raises the alarm at once; 0 is the machine's default
    zg_budget_charge (budget, &queue, 100);
    zg_budget_set_limit (budget, 50);
    assert (zg_budget_alarm (budget));
    zg_budget_set_limit (budget, 0);
    assert (zg_budget_limit (budget) > 1000 && !zg_budget_alarm (budget));
    zg_budget_release (budget, &queue, 100);
    zg_budget_destroy (&budget);

    //  The process's budget is one object
    assert (zg_budget_process () == zg_budget_process ());
    assert (zg_budget_limit (zg_budget_process ()) > 0);
    //  @end
    printf ("OK\n");
}
