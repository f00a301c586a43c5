/*  =========================================================================
    zg_qworkers - the queues actor's logical workers: found by connection and
    worker id, kept in order of their last message

    The hash key is the hex of the routing id and the worker id with a ':'
    between: both are any bytes, and hex keeps the key a C string that no
    two (routing id, worker id) pairs share.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qworkers.h"

//  Longest routing id (libzmq's limit) and worker id
#define ZG_QWORKERS_ID_MAX 255

struct _zg_qworkers_t {
    zhashx_t *table;                //  Key -> zg_qworker_t
    zg_liveness_t *liveness;        //  Workers by last message, oldest first
};

//  --------------------------------------------------------------------------
//  Create an empty registry

zg_qworkers_t *
zg_qworkers_new (void)
{
    zg_qworkers_t *self = (zg_qworkers_t *) zmalloc (sizeof (zg_qworkers_t));
    assert (self);
    self->table = zhashx_new ();
    assert (self->table);
    self->liveness = zg_liveness_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Free a worker's memory (it is out of the table and the list)

static void
s_worker_free (zg_qworker_t **worker_p)
{
    zg_qworker_t *worker = *worker_p;
    free (worker->key);
    free (worker->identity);
    free (worker->name);
    free (worker->seats);
    free (worker);
    *worker_p = NULL;
}

//  --------------------------------------------------------------------------
//  Destroy the registry and every worker in it

void
zg_qworkers_destroy (zg_qworkers_t **self_p)
{
    assert (self_p);
    zg_qworkers_t *self = *self_p;
    if (!self)
        return;
    zg_qworker_t *worker;
    while ((worker = zg_qworkers_oldest (self))) {
        zg_liveness_remove (self->liveness, &worker->liveness);
        s_worker_free (&worker);
    }
    zg_liveness_destroy (&self->liveness);
    zhashx_destroy (&self->table);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The hash key of (routing id, worker id); key holds 4 * 255 + 2 bytes

static void
s_key (const byte *identity, size_t identity_size, const byte *name, size_t name_size, char *key)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t index = 0; index < identity_size; index++) {
        *key++ = digits [identity [index] >> 4];
        *key++ = digits [identity [index] & 15];
    }
    *key++ = ':';
    for (size_t index = 0; index < name_size; index++) {
        *key++ = digits [name [index] >> 4];
        *key++ = digits [name [index] & 15];
    }
    *key = 0;
}

//  --------------------------------------------------------------------------
//  The worker with this routing id and worker id, or NULL

zg_qworker_t *
zg_qworkers_find (zg_qworkers_t *self, const byte *identity, size_t identity_size,
                  const byte *name, size_t name_size)
{
    assert (self);
    assert (identity_size <= ZG_QWORKERS_ID_MAX && name_size <= ZG_QWORKERS_ID_MAX);
    char key [4 * ZG_QWORKERS_ID_MAX + 2];
    s_key (identity, identity_size, name, name_size, key);
    return (zg_qworker_t *) zhashx_lookup (self->table, key);
}

//  --------------------------------------------------------------------------
//  A message from a worker: move it to the most recent end of the list

void
zg_qworkers_touch (zg_qworkers_t *self, zg_qworker_t *worker, int64_t now)
{
    assert (self);
    assert (worker);
    zg_liveness_touch (self->liveness, &worker->liveness, now);
}

//  --------------------------------------------------------------------------
//  Add a new worker

zg_qworker_t *
zg_qworkers_add (zg_qworkers_t *self, const byte *identity, size_t identity_size,
                 const byte *name, size_t name_size, int64_t now)
{
    assert (self);
    assert (identity_size <= ZG_QWORKERS_ID_MAX && name_size <= ZG_QWORKERS_ID_MAX);
    char key [4 * ZG_QWORKERS_ID_MAX + 2];
    s_key (identity, identity_size, name, name_size, key);
    assert (!zhashx_lookup (self->table, key));
    zg_qworker_t *worker = (zg_qworker_t *) zmalloc (sizeof (zg_qworker_t));
    assert (worker);
    worker->key = strdup (key);
    worker->identity = (byte *) zmalloc (identity_size + 1);
    memcpy (worker->identity, identity, identity_size);
    worker->identity_size = identity_size;
    worker->name = (byte *) zmalloc (name_size + 1);
    memcpy (worker->name, name, name_size);
    worker->name_size = name_size;
    assert (worker->key && worker->identity && worker->name);
    zhashx_insert (self->table, key, worker);
    zg_qworkers_touch (self, worker, now);
    return worker;
}

//  --------------------------------------------------------------------------
//  Forget and free a worker

void
zg_qworkers_remove (zg_qworkers_t *self, zg_qworker_t **worker_p)
{
    assert (self);
    assert (worker_p && *worker_p);
    zg_qworker_t *worker = *worker_p;
    zg_liveness_remove (self->liveness, &worker->liveness);
    zhashx_delete (self->table, worker->key);
    s_worker_free (worker_p);
}

//  --------------------------------------------------------------------------
//  The worker silent the longest, or NULL

zg_qworker_t *
zg_qworkers_oldest (zg_qworkers_t *self)
{
    assert (self);
    zg_liveness_node_t *node = zg_liveness_oldest (self->liveness);
    return node? ZG_ITEM_OF (node, zg_qworker_t, liveness): NULL;
}

//  --------------------------------------------------------------------------
//  The worker heard from next after this one, or NULL

zg_qworker_t *
zg_qworkers_newer (zg_qworker_t *worker)
{
    assert (worker);
    zg_liveness_node_t *node = worker->liveness.newer;
    return node? ZG_ITEM_OF (node, zg_qworker_t, liveness): NULL;
}

//  --------------------------------------------------------------------------
//  Whether a worker may take one more task

bool
zg_qworkers_has_credit (zg_qworker_t *worker)
{
    assert (worker);
    return (int64_t) worker->held.size < worker->prefetch;
}

//  --------------------------------------------------------------------------
//  The worker's queue whose next task goes first

zg_taskq_t *
zg_qworkers_next_queue (zg_qworker_t *worker)
{
    assert (worker);
    zg_taskq_t *first = NULL;
    for (size_t index = 0; index < worker->seat_count; index++)
        first = zg_taskq_first (first, worker->seats [index].queue);
    return first;
}

//  --------------------------------------------------------------------------
//  Whether the worker serves queue as a quiet command

bool
zg_qworkers_quiet (zg_qworker_t *worker, zg_taskq_t *queue)
{
    assert (worker);
    for (size_t index = 0; index < worker->seat_count; index++)
        if (worker->seats [index].queue == queue)
            return worker->seats [index].quiet;
    return false;
}

//  --------------------------------------------------------------------------
//  Take a worker's seats out of their lines (credit used up) or put them in

void
zg_qworkers_set_in_lines (zg_qworker_t *worker, bool in_lines)
{
    assert (worker);
    if (worker->in_lines == in_lines)
        return;
    worker->in_lines = in_lines;
    for (size_t index = 0; index < worker->seat_count; index++)
        if (in_lines)
            zg_taskq_line_append (&worker->seats [index]);
        else
            zg_taskq_line_remove (&worker->seats [index]);
}

//  --------------------------------------------------------------------------
//  The worker silent the longest if it timed out, else NULL

zg_qworker_t *
zg_qworkers_expired (zg_qworkers_t *self, int64_t now, int64_t timeout)
{
    assert (self);
    zg_liveness_node_t *node = zg_liveness_expired (self->liveness, now, timeout);
    return node? ZG_ITEM_OF (node, zg_qworker_t, liveness): NULL;
}

//  --------------------------------------------------------------------------
//  When the oldest worker times out, or INT64_MAX

int64_t
zg_qworkers_next_deadline (zg_qworkers_t *self, int64_t timeout)
{
    assert (self);
    return zg_liveness_next_deadline (self->liveness, timeout);
}

//  --------------------------------------------------------------------------
//  Workers in the registry

size_t
zg_qworkers_size (zg_qworkers_t *self)
{
    assert (self);
    return zhashx_size (self->table);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qworkers_test (bool verbose)
{
    printf (" * zg_qworkers: ");
    //  @selftest
    zg_qworkers_t *workers = zg_qworkers_new ();
    //  The same worker id on two connections is two workers; a routing id
    //  and worker id that run together differently are not confused
    const byte conn_a [] = { 0, 1, 2 };
    const byte conn_b [] = { 0, 1 };
    zg_qworker_t *a = zg_qworkers_add (workers, conn_a, 3, (const byte *) "w", 1, 100);
    zg_qworker_t *b = zg_qworkers_add (workers, conn_b, 2, (const byte *) "w", 1, 200);
    zg_qworker_t *c = zg_qworkers_add (workers, conn_b, 2, (const byte *) "\x02w", 2, 300);
    assert (zg_qworkers_size (workers) == 3);
    assert (zg_qworkers_find (workers, conn_a, 3, (const byte *) "w", 1) == a);
    assert (zg_qworkers_find (workers, conn_b, 2, (const byte *) "w", 1) == b);
    assert (zg_qworkers_find (workers, conn_b, 2, (const byte *) "\x02w", 2) == c);
    assert (zg_qworkers_find (workers, conn_a, 2, (const byte *) "\x02w", 2) == c);
    assert (zg_qworkers_find (workers, conn_a, 3, (const byte *) "x", 1) == NULL);
    assert (a->identity_size == 3 && memcmp (a->identity, conn_a, 3) == 0 && a->name [0] == 'w');

    //  The liveness list runs from the worker silent the longest
    assert (zg_qworkers_oldest (workers) == a && zg_qworkers_newer (a) == b);
    assert (zg_qworkers_newer (b) == c && !zg_qworkers_newer (c));
    zg_qworkers_touch (workers, a, 400);
    assert (zg_qworkers_oldest (workers) == b && zg_qworkers_newer (c) == a);
    assert (a->liveness.last_seen == 400);
    zg_qworkers_touch (workers, c, 500);
    assert (zg_qworkers_newer (b) == a && zg_qworkers_newer (a) == c);
    zg_qworkers_touch (workers, c, 600);
    assert (c->liveness.last_seen == 600 && !zg_qworkers_newer (c));
    //  With a 1000 ms timeout, b (200) is the first to go, at 1200
    assert (zg_qworkers_next_deadline (workers, 1000) == 1200);
    assert (zg_qworkers_expired (workers, 1199, 1000) == NULL);
    assert (zg_qworkers_expired (workers, 1200, 1000) == b);

    //  Removing from the middle, then both ends
    zg_qworkers_remove (workers, &a);
    assert (a == NULL);
    assert (zg_qworkers_oldest (workers) == b && zg_qworkers_newer (b) == c);
    assert (zg_qworkers_find (workers, conn_a, 3, (const byte *) "w", 1) == NULL);
    zg_qworkers_remove (workers, &c);
    assert (zg_qworkers_oldest (workers) == b && !zg_qworkers_newer (b));
    assert (zg_qworkers_next_deadline (workers, 1000) == 1200);
    //  The registry frees what is left, seats included
    b->seats = (zg_seat_t *) zmalloc (sizeof (zg_seat_t));
    assert (zg_qworkers_next_queue (b) == NULL);         //  No seat, no queue
    assert (!zg_qworkers_quiet (b, NULL));
    if (verbose)
        printf ("(%zu left) ", zg_qworkers_size (workers));
    zg_qworkers_destroy (&workers);
    assert (workers == NULL);
    //  @end
    printf ("OK\n");
}
