/*  =========================================================================
    zg_heap - an indexed binary min-heap of intrusive nodes, for deadlines

    Slot 0 is unused, so a parent is position / 2 and a node's position 0
    means "in no heap". Sifting moves the hole, not the node, so each level
    costs one write.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_heap.h"

//  Slots allocated at first, slot 0 included
#define ZG_HEAP_MIN_SLOTS 64

struct _zg_heap_t {
    zg_heap_node_t **nodes;         //  1-based binary min-heap by key
    size_t size;                    //  Nodes in the heap
    size_t capacity;                //  Slots allocated, slot 0 included
};

//  --------------------------------------------------------------------------
//  Create an empty heap

zg_heap_t *
zg_heap_new (void)
{
    zg_heap_t *self = (zg_heap_t *) zmalloc (sizeof (zg_heap_t));
    assert (self);
    self->capacity = ZG_HEAP_MIN_SLOTS;
    self->nodes = (zg_heap_node_t **) zmalloc (self->capacity * sizeof (zg_heap_node_t *));
    assert (self->nodes);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the heap

void
zg_heap_destroy (zg_heap_t **self_p)
{
    assert (self_p);
    zg_heap_t *self = *self_p;
    if (!self)
        return;
    for (size_t position = 1; position <= self->size; position++)
        self->nodes [position]->position = 0;
    free (self->nodes);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Place a node at a position

static void
s_place (zg_heap_t *self, size_t position, zg_heap_node_t *node)
{
    self->nodes [position] = node;
    node->position = position;
}

//  --------------------------------------------------------------------------
//  Move the node at a position up or down to where its key belongs

static void
s_sift (zg_heap_t *self, size_t position)
{
    zg_heap_node_t *node = self->nodes [position];
    int64_t key = node->key;
    while (position > 1 && self->nodes [position / 2]->key > key) {
        s_place (self, position, self->nodes [position / 2]);
        position /= 2;
    }
    while (true) {
        size_t child = position * 2;
        if (child > self->size)
            break;
        if (child < self->size && self->nodes [child + 1]->key < self->nodes [child]->key)
            child++;
        if (self->nodes [child]->key >= key)
            break;
        s_place (self, position, self->nodes [child]);
        position = child;
    }
    s_place (self, position, node);
}

//  --------------------------------------------------------------------------
//  Put a node in the heap with this key, or move it

void
zg_heap_set (zg_heap_t *self, zg_heap_node_t *node, int64_t key)
{
    assert (self);
    assert (node);
    node->key = key;
    if (node->position == 0) {
        if (self->size + 1 >= self->capacity) {
            self->capacity *= 2;
            self->nodes = (zg_heap_node_t **) realloc (self->nodes, self->capacity * sizeof (zg_heap_node_t *));
            assert (self->nodes);
        }
        s_place (self, ++self->size, node);
    }
    assert (self->nodes [node->position] == node);
    s_sift (self, node->position);
}

//  --------------------------------------------------------------------------
//  Take a node out of the heap

void
zg_heap_remove (zg_heap_t *self, zg_heap_node_t *node)
{
    assert (self);
    assert (node);
    size_t position = node->position;
    if (position == 0)
        return;
    assert (self->nodes [position] == node);
    node->position = 0;
    zg_heap_node_t *last = self->nodes [self->size--];
    if (last != node) {
        s_place (self, position, last);
        s_sift (self, position);
    }
}

//  --------------------------------------------------------------------------
//  The node with the smallest key, or NULL

zg_heap_node_t *
zg_heap_first (zg_heap_t *self)
{
    assert (self);
    return self->size? self->nodes [1]: NULL;
}

//  --------------------------------------------------------------------------
//  The smallest key, or INT64_MAX

int64_t
zg_heap_first_key (zg_heap_t *self)
{
    assert (self);
    return self->size? self->nodes [1]->key: INT64_MAX;
}

//  --------------------------------------------------------------------------
//  Nodes in the heap

size_t
zg_heap_size (zg_heap_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Whether a node is in a heap

bool
zg_heap_node_listed (const zg_heap_node_t *node)
{
    assert (node);
    return node->position != 0;
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    int id;                         //  Which item
    zg_heap_node_t node;            //  Its link in the heap
} s_test_item_t;

void
zg_heap_test (bool verbose)
{
    printf (" * zg_heap: ");
    zg_heap_t *heap = zg_heap_new ();
    assert (zg_heap_first (heap) == NULL);
    assert (zg_heap_first_key (heap) == INT64_MAX);
    //  Enough items to grow the heap several times
    const int count = 5000;
    s_test_item_t *items = (s_test_item_t *) zmalloc ((size_t) count * sizeof (s_test_item_t));
    for (int index = 0; index < count; index++) {
        items [index].id = index;
        zg_heap_set (heap, &items [index].node, (index * 7919) % 1000);
    }
    assert (zg_heap_size (heap) == (size_t) count);
    //  Re-key one to the front, one to the back; remove one twice
    zg_heap_set (heap, &items [10].node, -5);
    zg_heap_set (heap, &items [0].node, 5000);
    zg_heap_remove (heap, &items [20].node);
    zg_heap_remove (heap, &items [20].node);
    assert (!zg_heap_node_listed (&items [20].node));
    assert (zg_heap_size (heap) == (size_t) count - 1);
    assert (zg_heap_first_key (heap) == -5);
    assert (ZG_ITEM_OF (zg_heap_first (heap), s_test_item_t, node) == &items [10]);
    //  Everything comes out in key order, the re-keyed one last
    int64_t previous = INT64_MIN;
    size_t taken = 0;
    zg_heap_node_t *node;
    while ((node = zg_heap_first (heap))) {
        assert (node->key >= previous);
        previous = node->key;
        s_test_item_t *item = ZG_ITEM_OF (node, s_test_item_t, node);
        assert (item != &items [20]);
        zg_heap_remove (heap, node);
        assert (!zg_heap_node_listed (&item->node));
        if (zg_heap_size (heap) == 0)
            assert (item == &items [0]);
        taken++;
    }
    assert (taken == (size_t) count - 1);
    //  Destroying a heap marks its remaining nodes out of it
    zg_heap_set (heap, &items [1].node, 1);
    zg_heap_destroy (&heap);
    assert (heap == NULL);
    assert (!zg_heap_node_listed (&items [1].node));
    zg_heap_destroy (&heap);
    if (verbose)
        printf ("(%zu taken) ", taken);
    free (items);
    printf ("OK\n");
}
