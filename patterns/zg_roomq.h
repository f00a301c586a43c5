/*  =========================================================================
    zg_roomq - a room's priority queue: lower priority first, FIFO among equals

    Private to the rooms actor. Items are opaque; every push is its own entry,
    so equal items are never merged. Iterating with first/next walks the items
    in the order pop would return them, which is what PEEK shows.
    =========================================================================
*/

#ifndef ZG_ROOMQ_H_INCLUDED
#define ZG_ROOMQ_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_roomq_t zg_roomq_t;

//  Destroys an item the queue still holds when it is destroyed
typedef void (zg_roomq_destructor_fn) (void **item_p);

//  Create an empty queue; destructor may be NULL
zg_roomq_t *
    zg_roomq_new (zg_roomq_destructor_fn *destructor);

//  Destroy the queue and the items it holds
void
    zg_roomq_destroy (zg_roomq_t **self_p);

//  Queue an item behind every item of lower or equal priority
void
    zg_roomq_push (zg_roomq_t *self, int64_t priority, void *item);

//  Remove and return the next item, or NULL if the queue is empty
void *
    zg_roomq_pop (zg_roomq_t *self);

//  Number of items queued
size_t
    zg_roomq_size (zg_roomq_t *self);

//  First item in release order, skipping offset items, or NULL; sets the cursor
void *
    zg_roomq_first (zg_roomq_t *self, size_t offset);

//  Next item after the cursor, or NULL; pushing or popping ends an iteration
void *
    zg_roomq_next (zg_roomq_t *self);

//  Self test of this class
void
    zg_roomq_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
