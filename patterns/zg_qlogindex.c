/*  =========================================================================
    zg_qlogindex - the log store's tasks by id, in memory

    See zg_qlogindex.h. A slot is free when its id is 0 (no task has id 0).
    The table doubles past a load of 1/2, so probes stay short.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qlogindex.h"

#define ZG_QLOGINDEX_MIN 1024
//  Consecutive ids that go to consecutive slots
#define ZG_QLOGINDEX_RUN 8

//  A shared queue name: how many entries use it, then the name
typedef struct {
    size_t users;
    char name [];
} s_name_t;

struct _zg_qlogindex_t {
    zg_qlogentry_t *slots;          //  capacity entries; id 0 is a free slot
    size_t capacity;                //  A power of two
    size_t size;                    //  Entries held
    zg_qlogentry_t *last;           //  The last entry found: a change is looked up
                                    //  to check it, then again to apply it
    zhashx_t *names;                //  s_name_t by name
};

//  --------------------------------------------------------------------------
//  The home slot of an id. Ids are issued in order and a pass changes
//  tasks of neighbouring ids, so runs of ZG_QLOGINDEX_RUN consecutive ids
//  share neighbouring slots (a scrambling hash per id made each lookup a
//  cache miss: 11% of zgate's time at 60 k tasks/s), while the runs are
//  scattered by a Fibonacci hash (the ids' low bits alone would make the
//  live tasks one long cluster, which each removal has to scan).

static size_t
s_home (zg_qlogindex_t *self, uint64_t id)
{
    size_t run = (size_t) (((id / ZG_QLOGINDEX_RUN) * 0x9E3779B97F4A7C15ULL) >> 20);
    return (run * ZG_QLOGINDEX_RUN + (size_t) (id % ZG_QLOGINDEX_RUN)) & (self->capacity - 1);
}

//  --------------------------------------------------------------------------
//  A new, empty index

zg_qlogindex_t *
zg_qlogindex_new (void)
{
    zg_qlogindex_t *self = (zg_qlogindex_t *) zmalloc (sizeof (zg_qlogindex_t));
    assert (self);
    self->capacity = ZG_QLOGINDEX_MIN;
    self->slots = (zg_qlogentry_t *) calloc (self->capacity, sizeof (zg_qlogentry_t));
    assert (self->slots);
    self->names = zhashx_new ();
    assert (self->names);
    //  The name is in the item: the table keeps a pointer to it
    zhashx_set_key_duplicator (self->names, NULL);
    zhashx_set_key_destructor (self->names, NULL);
    zhashx_set_destructor (self->names, NULL);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the index

void
zg_qlogindex_destroy (zg_qlogindex_t **self_p)
{
    assert (self_p);
    zg_qlogindex_t *self = *self_p;
    if (!self)
        return;
    zg_qlogindex_purge (self);
    zhashx_destroy (&self->names);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Drop an entry's use of its queue name

static void
s_release_name (zg_qlogindex_t *self, zg_qlogentry_t *entry)
{
    if (!entry->record.queue)
        return;
    s_name_t *name = ZG_ITEM_OF (entry->record.queue, s_name_t, name);
    if (--name->users == 0) {
        zhashx_delete (self->names, name->name);
        free (name);
    }
    entry->record.queue = NULL;
}

//  --------------------------------------------------------------------------
//  The entry of id, or NULL

zg_qlogentry_t *
zg_qlogindex_lookup (zg_qlogindex_t *self, uint64_t id)
{
    assert (self && id);
    if (self->last && self->last->record.id == id)
        return self->last;
    for (size_t slot = s_home (self, id);; slot = (slot + 1) & (self->capacity - 1)) {
        zg_qlogentry_t *entry = &self->slots [slot];
        if (entry->record.id == id)
            return self->last = entry;
        if (entry->record.id == 0)
            return NULL;
    }
}

//  --------------------------------------------------------------------------
//  Double the table

static void
s_grow (zg_qlogindex_t *self)
{
    zg_qlogentry_t *old = self->slots;
    size_t old_capacity = self->capacity;
    self->last = NULL;
    self->capacity *= 2;
    self->slots = (zg_qlogentry_t *) calloc (self->capacity, sizeof (zg_qlogentry_t));
    assert (self->slots);
    for (size_t index = 0; index < old_capacity; index++) {
        if (old [index].record.id == 0)
            continue;
        size_t slot = s_home (self, old [index].record.id);
        while (self->slots [slot].record.id)
            slot = (slot + 1) & (self->capacity - 1);
        self->slots [slot] = old [index];
    }
    free (old);
}

//  --------------------------------------------------------------------------
//  The entry of id, made if new

zg_qlogentry_t *
zg_qlogindex_insert (zg_qlogindex_t *self, uint64_t id)
{
    assert (self && id);
    zg_qlogentry_t *entry = zg_qlogindex_lookup (self, id);
    if (entry)
        return entry;
    if ((self->size + 1) * 2 > self->capacity)
        s_grow (self);
    size_t slot = s_home (self, id);
    while (self->slots [slot].record.id)
        slot = (slot + 1) & (self->capacity - 1);
    entry = &self->slots [slot];
    *entry = (zg_qlogentry_t) { .record = { .id = id } };
    self->size++;
    return entry;
}

//  --------------------------------------------------------------------------
//  Remove the entry of id: the entries after it in its run move back to
//  fill the gap when their home slot allows it (backward shift)

void
zg_qlogindex_remove (zg_qlogindex_t *self, uint64_t id)
{
    assert (self);
    zg_qlogentry_t *entry = zg_qlogindex_lookup (self, id);
    if (!entry)
        return;
    s_release_name (self, entry);
    size_t mask = self->capacity - 1;
    size_t gap = (size_t) (entry - self->slots);
    for (size_t slot = (gap + 1) & mask; self->slots [slot].record.id; slot = (slot + 1) & mask) {
        size_t home = s_home (self, self->slots [slot].record.id);
        //  It may move to the gap if its home is not in (gap, slot]
        if (((slot - home) & mask) >= ((slot - gap) & mask)) {
            self->slots [gap] = self->slots [slot];
            gap = slot;
        }
    }
    self->slots [gap] = (zg_qlogentry_t) { .record = { .id = 0 } };
    self->size--;
}

//  --------------------------------------------------------------------------
//  Set an entry's queue name

void
zg_qlogindex_rename (zg_qlogindex_t *self, zg_qlogentry_t *entry, const void *queue, size_t size)
{
    assert (self && entry && queue && size < 256);
    char key [256];
    memcpy (key, queue, size);
    key [size] = 0;
    s_name_t *name = (s_name_t *) zhashx_lookup (self->names, key);
    if (!name) {
        name = (s_name_t *) malloc (sizeof (s_name_t) + size + 1);
        assert (name);
        name->users = 0;
        memcpy (name->name, key, size + 1);
        zhashx_insert (self->names, name->name, name);
    }
    name->users++;
    s_release_name (self, entry);
    entry->record.queue = name->name;
    entry->record.queue_size = size;
}

//  --------------------------------------------------------------------------
//  Remove every entry

void
zg_qlogindex_purge (zg_qlogindex_t *self)
{
    assert (self);
    for (size_t slot = 0; slot < self->capacity; slot++)
        s_release_name (self, &self->slots [slot]);
    memset (self->slots, 0, self->capacity * sizeof (zg_qlogentry_t));
    self->size = 0;
}

//  --------------------------------------------------------------------------
//  Entries held

size_t
zg_qlogindex_size (zg_qlogindex_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Entries in table order

zg_qlogentry_t *
zg_qlogindex_next (zg_qlogindex_t *self, size_t *cursor)
{
    assert (self && cursor);
    while (*cursor < self->capacity) {
        zg_qlogentry_t *entry = &self->slots [(*cursor)++];
        if (entry->record.id)
            return entry;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qlogindex_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlogindex: ");
    zg_qlogindex_t *index = zg_qlogindex_new ();
    //  Enough ids to grow the table three times; every third one goes, and
    //  the survivors are all still found after each backward shift
    uint64_t count = ZG_QLOGINDEX_MIN * 4;
    for (uint64_t id = 1; id <= count; id++) {
        zg_qlogentry_t *entry = zg_qlogindex_insert (index, id);
        assert (entry->record.id == id && entry->record.queue == NULL);
        entry->payload_at = id * 10;
        zg_qlogindex_rename (index, entry, id % 2? "odd": "even", id % 2? 3: 4);
    }
    assert (zg_qlogindex_size (index) == count);
    assert (zg_qlogindex_insert (index, 7)->payload_at == 70);
    for (uint64_t id = 3; id <= count; id += 3)
        zg_qlogindex_remove (index, id);
    zg_qlogindex_remove (index, count + 1);
    for (uint64_t id = 1; id <= count; id++) {
        zg_qlogentry_t *entry = zg_qlogindex_lookup (index, id);
        assert (id % 3? entry && entry->payload_at == id * 10: entry == NULL);
        assert (!entry || streq (entry->record.queue, id % 2? "odd": "even"));
    }
    //  Names are shared and go with their last user
    zg_qlogentry_t *entry = zg_qlogindex_lookup (index, 1);
    const char *odd = entry->record.queue;
    assert (zg_qlogindex_lookup (index, 5)->record.queue == odd);
    zg_qlogindex_rename (index, entry, "dead", 4);
    assert (streq (entry->record.queue, "dead") && entry->record.queue_size == 4);
    size_t cursor = 0, seen = 0;
    while (zg_qlogindex_next (index, &cursor))
        seen++;
    assert (seen == zg_qlogindex_size (index) && seen == count - count / 3);
    zg_qlogindex_purge (index);
    assert (zg_qlogindex_size (index) == 0 && zg_qlogindex_lookup (index, 1) == NULL);
    cursor = 0;
    assert (zg_qlogindex_next (index, &cursor) == NULL);
    zg_qlogindex_destroy (&index);
    assert (index == NULL);
    printf ("OK\n");
}
