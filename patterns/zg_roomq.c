/*  =========================================================================
    zg_roomq - a room's priority queue: lower priority first, FIFO among equals

    One FIFO list per distinct priority, the lists in a sorted array. Rooms
    usually use a handful of priorities, so a push is a binary search plus an
    append and a pop takes the head of the first list: both O(1) in practice,
    O(log P) and an occasional memmove of P pointers in the worst case.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_roomq.h"

//  Popped nodes a queue keeps for its next pushes: a room that releases one
//  message as the producer queues the next then allocates nothing
#define ZG_ROOMQ_SPARE_NODES 8

//  One queued item
typedef struct _s_node_t {
    void *item;                     //  The caller's item
    struct _s_node_t *next;         //  Next item of the same priority
} s_node_t;

//  The items of one priority, in arrival order
typedef struct {
    int64_t priority;               //  Priority of every item in the list
    s_node_t *head;                 //  Oldest item
    s_node_t *tail;                 //  Newest item
} s_bucket_t;

struct _zg_roomq_t {
    s_bucket_t *buckets;            //  Non-empty lists; [first, limit) in use, sorted
    size_t first;                   //  Index of the lowest priority list
    size_t limit;                   //  One past the highest priority list
    size_t capacity;                //  Allocated buckets
    size_t size;                    //  Items queued
    zg_roomq_destructor_fn *destructor;    //  Destroys left-over items
    size_t cursor_bucket;           //  Iteration: current list
    s_node_t *cursor;               //  Iteration: current item
    s_node_t *spare;                //  Popped nodes to reuse, linked by next
    size_t spare_count;             //  Nodes in spare
};

//  --------------------------------------------------------------------------
//  Create an empty queue

zg_roomq_t *
zg_roomq_new (zg_roomq_destructor_fn *destructor)
{
    zg_roomq_t *self = (zg_roomq_t *) zmalloc (sizeof (zg_roomq_t));
    assert (self);
    self->destructor = destructor;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the queue and the items it holds

void
zg_roomq_destroy (zg_roomq_t **self_p)
{
    assert (self_p);
    zg_roomq_t *self = *self_p;
    if (!self)
        return;
    void *item;
    while ((item = zg_roomq_pop (self)))
        if (self->destructor)
            self->destructor (&item);
    while (self->spare) {
        s_node_t *node = self->spare;
        self->spare = node->next;
        free (node);
    }
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Index of the list of this priority, or where it belongs

static size_t
s_find (zg_roomq_t *self, int64_t priority)
{
    size_t low = self->first, high = self->limit;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->buckets [middle].priority < priority)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

//  --------------------------------------------------------------------------
//  Open a new list at index, shifting higher priorities up; returns its index

static size_t
s_open_bucket (zg_roomq_t *self, size_t index, int64_t priority)
{
    if (index == self->first && self->first > 0)
        index = --self->first;      //  Room in front: the usual case for a new lowest priority
    else {
        if (self->limit == self->capacity) {
            //  Reclaim the free space in front before growing
            if (self->first > 0) {
                memmove (self->buckets, self->buckets + self->first,
                         (self->limit - self->first) * sizeof (s_bucket_t));
                index -= self->first;
                self->limit -= self->first;
                self->first = 0;
            }
            else {
                self->capacity = self->capacity? self->capacity * 2: 4;
                self->buckets = (s_bucket_t *) realloc (self->buckets, self->capacity * sizeof (s_bucket_t));
                assert (self->buckets);
            }
        }
        memmove (self->buckets + index + 1, self->buckets + index,
                 (self->limit - index) * sizeof (s_bucket_t));
        self->limit++;
    }
    self->buckets [index] = (s_bucket_t) { .priority = priority };
    return index;
}

//  --------------------------------------------------------------------------
//  Queue an item behind every item of lower or equal priority

void
zg_roomq_push (zg_roomq_t *self, int64_t priority, void *item)
{
    assert (self);
    assert (item);
    s_node_t *node = self->spare;
    if (node) {
        self->spare = node->next;
        self->spare_count--;
    }
    else
        node = (s_node_t *) malloc (sizeof (s_node_t));
    assert (node);
    node->item = item;
    node->next = NULL;
    size_t index = s_find (self, priority);
    if (index == self->limit || self->buckets [index].priority != priority)
        index = s_open_bucket (self, index, priority);
    s_bucket_t *bucket = &self->buckets [index];
    if (bucket->tail)
        bucket->tail->next = node;
    else
        bucket->head = node;
    bucket->tail = node;
    self->size++;
    self->cursor = NULL;
}

//  --------------------------------------------------------------------------
//  Remove and return the next item, or NULL if the queue is empty

void *
zg_roomq_pop (zg_roomq_t *self)
{
    assert (self);
    if (self->size == 0)
        return NULL;
    s_bucket_t *bucket = &self->buckets [self->first];
    s_node_t *node = bucket->head;
    bucket->head = node->next;
    if (!bucket->head)
        self->first++;              //  The list is empty: drop it
    if (self->first == self->limit)
        self->first = self->limit = 0;
    void *item = node->item;
    if (self->spare_count < ZG_ROOMQ_SPARE_NODES) {
        node->next = self->spare;
        self->spare = node;
        self->spare_count++;
    }
    else
        free (node);
    self->size--;
    self->cursor = NULL;
    return item;
}

//  --------------------------------------------------------------------------
//  Number of items queued

size_t
zg_roomq_size (zg_roomq_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  First item in release order, skipping offset items

void *
zg_roomq_first (zg_roomq_t *self, size_t offset)
{
    assert (self);
    self->cursor = NULL;
    if (offset >= self->size)
        return NULL;
    self->cursor_bucket = self->first;
    self->cursor = self->buckets [self->first].head;
    for (; offset > 0; offset--)
        zg_roomq_next (self);
    return self->cursor->item;
}

//  --------------------------------------------------------------------------
//  Next item after the cursor, or NULL

void *
zg_roomq_next (zg_roomq_t *self)
{
    assert (self);
    if (!self->cursor)
        return NULL;
    self->cursor = self->cursor->next;
    if (!self->cursor && ++self->cursor_bucket < self->limit)
        self->cursor = self->buckets [self->cursor_bucket].head;
    return self->cursor? self->cursor->item: NULL;
}

//  --------------------------------------------------------------------------
//  Self test of this class

static void
s_test_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  --------------------------------------------------------------------------

void
zg_roomq_test (bool verbose)
{
    printf (" * zg_roomq: ");
    //  @selftest
    zg_roomq_t *queue = zg_roomq_new (NULL);
    assert (zg_roomq_pop (queue) == NULL);
    assert (zg_roomq_first (queue, 0) == NULL);
    //  Identical items are distinct entries; equal priorities stay FIFO
    const char *same = "same";
    int values [8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    zg_roomq_push (queue, 5, &values [0]);
    zg_roomq_push (queue, 1, &values [1]);
    zg_roomq_push (queue, 5, &values [2]);
    zg_roomq_push (queue, -3, &values [3]);
    zg_roomq_push (queue, 1, &values [4]);
    zg_roomq_push (queue, 9, (void *) same);
    zg_roomq_push (queue, 9, (void *) same);
    assert (zg_roomq_size (queue) == 7);
    int expected [] = { 3, 1, 4, 0, 2 };
    int index = 0;
    for (int *item = (int *) zg_roomq_first (queue, 0); item; item = (int *) zg_roomq_next (queue), index++)
        if (index < 5)
            assert (*item == expected [index]);
    assert (index == 7);
    assert (*(int *) zg_roomq_first (queue, 2) == 4);
    assert (zg_roomq_first (queue, 7) == NULL);
    for (index = 0; index < 5; index++)
        assert (*(int *) zg_roomq_pop (queue) == expected [index]);
    //  A new lowest priority after pops reuses the space in front
    zg_roomq_push (queue, 0, &values [5]);
    assert (*(int *) zg_roomq_pop (queue) == 5);
    assert (zg_roomq_pop (queue) == same);
    assert (zg_roomq_pop (queue) == same);
    assert (zg_roomq_pop (queue) == NULL);

    //  Many priorities, pushed in a scrambled order, come out sorted and FIFO
    for (int count = 0; count < 3000; count++) {
        int *item = (int *) malloc (sizeof (int));
        *item = count;
        zg_roomq_push (queue, (count * 7919) % 101, item);
    }
    int64_t last_priority = INT64_MIN;
    int last_value = -1;
    for (int count = 0; count < 3000; count++) {
        int *item = (int *) zg_roomq_pop (queue);
        int64_t priority = (*item * 7919) % 101;
        assert (priority >= last_priority);
        if (priority == last_priority)
            assert (*item > last_value);
        last_priority = priority;
        last_value = *item;
        free (item);
    }
    //  Interleaved pushes and pops reuse popped nodes and stay FIFO
    for (int count = 0; count < 100; count++) {
        zg_roomq_push (queue, 1, &values [count % 8]);
        zg_roomq_push (queue, 1, &values [(count + 1) % 8]);
        assert (*(int *) zg_roomq_pop (queue) == count % 8);
        assert (*(int *) zg_roomq_pop (queue) == (count + 1) % 8);
        assert (zg_roomq_pop (queue) == NULL);
    }
    zg_roomq_destroy (&queue);

    //  Destroying a queue destroys what it holds
    queue = zg_roomq_new (s_test_free);
    for (int count = 0; count < 10; count++)
        zg_roomq_push (queue, count % 3, malloc (16));
    zg_roomq_destroy (&queue);
    zg_roomq_destroy (&queue);
    if (verbose)
        printf ("(3000 items, 101 priorities) ");
    //  @end
    printf ("OK\n");
}
