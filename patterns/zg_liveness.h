/*  =========================================================================
    zg_liveness - a list of peers in order of when they were last heard
    from, so the silent ones are found without a scan

    Private to the pattern actors (queue workers, room clients). Every peer
    has the same timeout, so the peer heard from the longest ago is always
    the next to time out: touching a peer moves it to the newest end in
    O(1), and expiry looks only at the oldest end. Nodes are intrusive: the
    peer holds a zg_liveness_node_t, ZG_ITEM_OF (zg_classes.h) turns a node
    back into its peer. The list never owns or frees peers.
    =========================================================================
*/

#ifndef ZG_LIVENESS_H_INCLUDED
#define ZG_LIVENESS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_liveness_node_t zg_liveness_node_t;

//  A list's link inside a peer; zero it (zmalloc) before first use
struct _zg_liveness_node_t {
    int64_t last_seen;              //  Monotonic ms it was last heard from
    zg_liveness_node_t *older;      //  Heard from before this one, or NULL
    zg_liveness_node_t *newer;      //  Heard from after this one, or NULL
    bool listed;                    //  It is in a list
};

typedef struct _zg_liveness_t zg_liveness_t;

//  Create an empty list
zg_liveness_t *
    zg_liveness_new (void);

//  Destroy the list; its peers are the caller's, their nodes are unlinked
void
    zg_liveness_destroy (zg_liveness_t **self_p);

//  A peer was heard from now: add it, or move it, to the newest end. now
//  never goes back (monotonic clock), so the list stays in last_seen order.
void
    zg_liveness_touch (zg_liveness_t *self, zg_liveness_node_t *node, int64_t now);

//  Take a peer out of the list; nothing happens if it is not in it
void
    zg_liveness_remove (zg_liveness_t *self, zg_liveness_node_t *node);

//  The peer heard from the longest ago (follow newer for the others), or
//  NULL if the list is empty
zg_liveness_node_t *
    zg_liveness_oldest (zg_liveness_t *self);

//  The oldest peer if it has been silent for timeout ms at now, else NULL.
//  It stays in the list: the caller removes it (and then asks again).
zg_liveness_node_t *
    zg_liveness_expired (zg_liveness_t *self, int64_t now, int64_t timeout);

//  Monotonic ms when the oldest peer times out, or INT64_MAX if none
int64_t
    zg_liveness_next_deadline (zg_liveness_t *self, int64_t timeout);

//  Peers in the list
size_t
    zg_liveness_size (zg_liveness_t *self);

//  Self test of this class
void
    zg_liveness_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
