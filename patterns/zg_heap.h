/*  =========================================================================
    zg_heap - an indexed binary min-heap of intrusive nodes, for deadlines

    Private to the pattern actors. The item (a task, a room) holds a
    zg_heap_node_t for each heap it can be in; the node knows its position,
    so re-keying or removing an item anywhere in the heap is O(log n) and
    needs no search. The heap never owns or frees items. ZG_ITEM_OF
    (zg_classes.h) turns a node back into its item.
    =========================================================================
*/

#ifndef ZG_HEAP_H_INCLUDED
#define ZG_HEAP_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A heap's link inside an item; zero it (zmalloc) before first use
typedef struct {
    int64_t key;                    //  Ordering key: the smallest comes first
    size_t position;                //  1-based slot in its heap, 0 when in none
} zg_heap_node_t;

typedef struct _zg_heap_t zg_heap_t;

//  Create an empty heap
zg_heap_t *
    zg_heap_new (void);

//  Destroy the heap; its items are the caller's and are left as they are
//  but for their nodes, which are marked out of the heap
void
    zg_heap_destroy (zg_heap_t **self_p);

//  Put a node in the heap with this key, or move it if it is in already
void
    zg_heap_set (zg_heap_t *self, zg_heap_node_t *node, int64_t key);

//  Take a node out of the heap; nothing happens if it is not in it
void
    zg_heap_remove (zg_heap_t *self, zg_heap_node_t *node);

//  The node with the smallest key, or NULL if the heap is empty
zg_heap_node_t *
    zg_heap_first (zg_heap_t *self);

//  The smallest key, or INT64_MAX if the heap is empty
int64_t
    zg_heap_first_key (zg_heap_t *self);

//  Nodes in the heap
size_t
    zg_heap_size (zg_heap_t *self);

//  Whether a node is in a heap
bool
    zg_heap_node_listed (const zg_heap_node_t *node);

//  Self test of this class
void
    zg_heap_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
