/*  =========================================================================
    zg_listeners - the prefixes that subscribers of the topics actor hold,
    as its XSUB passes them upstream to the gateway's XPUB

    The topics actor passes each subscription of its subscribers upstream
    (`\x01prefix`), and an unsubscription (`\x00prefix`) once nobody holds
    that prefix any more; the gateway's XPUB, one pipe, passes on the first
    of each and the last. So this is a set: a prefix is held or not. The
    gateway's own SUB is among those subscribers; the caller tells which
    prefixes are its own. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_LISTENERS_H_INCLUDED
#define ZG_LISTENERS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_listeners_t zg_listeners_t;

//  True if a prefix is held by the caller itself
typedef bool (zg_listeners_own_fn) (const char *prefix, void *arg);

//  Create an empty set
zg_listeners_t *
    zg_listeners_new (void);

//  Destroy the set
void
    zg_listeners_destroy (zg_listeners_t **self_p);

//  Apply a subscription message from the XPUB; false (and no change) if it
//  is not one, or its prefix holds a NUL byte (no topic of the gateway can)
bool
    zg_listeners_update (zg_listeners_t *self, const byte *data, size_t size);

//  True if a held prefix of topic is someone else's than the caller's (own
//  says which are its own; may be NULL). The empty prefix is never counted:
//  the topics actor holds it itself, for its publishers
bool
    zg_listeners_match (zg_listeners_t *self, const char *topic, zg_listeners_own_fn *own, void *arg);

//  Prefixes held
size_t
    zg_listeners_size (zg_listeners_t *self);

//  Self test of this class
void
    zg_listeners_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
