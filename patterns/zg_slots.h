/*  =========================================================================
    zg_slots - how many of a limited kind of name (room client ids, pull
    subscribers) each holder has, so that one holder cannot take them all

    A holder is named by a key: its authenticated identity when it has one,
    else its connection (a routing id, or a web client's address). take
    refuses past the limit; give returns a slot. A holder with no slot left
    is forgotten, so the table is as large as the holders that hold names.
    =========================================================================
*/

#ifndef ZG_SLOTS_H_INCLUDED
#define ZG_SLOTS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_slots_t zg_slots_t;

//  Create an empty table
zg_slots_t *
    zg_slots_new (void);

//  Destroy the table
void
    zg_slots_destroy (zg_slots_t **self_p);

//  The key of a holder (freed by the caller): "identity:" and the identity
//  if it is not empty, else "connection:" and the connection's bytes in hex
char *
    zg_slots_key (const char *identity, const void *connection, size_t connection_size);

//  Take a slot for the holder; false (and nothing changes) if it holds
//  limit slots already
bool
    zg_slots_take (zg_slots_t *self, const char *key, int64_t limit);

//  Give a slot back
void
    zg_slots_give (zg_slots_t *self, const char *key);

//  Slots the holder holds
size_t
    zg_slots_held (zg_slots_t *self, const char *key);

//  Holders that hold a slot
size_t
    zg_slots_holders (zg_slots_t *self);

//  Self test of this class
void
    zg_slots_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
