/*  =========================================================================
    zg_liveness - a list of peers in order of when they were last heard from

    A doubly linked list with both ends held: touch is unlink plus append,
    expiry reads the head. Nothing here allocates per peer.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_liveness.h"

struct _zg_liveness_t {
    zg_liveness_node_t *oldest;     //  Head: next to time out
    zg_liveness_node_t *newest;     //  Tail: heard from last
    size_t size;                    //  Peers in the list
};

//  --------------------------------------------------------------------------
//  Create an empty list

zg_liveness_t *
zg_liveness_new (void)
{
    zg_liveness_t *self = (zg_liveness_t *) zmalloc (sizeof (zg_liveness_t));
    assert (self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the list

void
zg_liveness_destroy (zg_liveness_t **self_p)
{
    assert (self_p);
    zg_liveness_t *self = *self_p;
    if (!self)
        return;
    while (self->oldest)
        zg_liveness_remove (self, self->oldest);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  A peer was heard from now

void
zg_liveness_touch (zg_liveness_t *self, zg_liveness_node_t *node, int64_t now)
{
    assert (self);
    assert (node);
    assert (!self->newest || now >= self->newest->last_seen);
    node->last_seen = now;
    if (node == self->newest)
        return;
    zg_liveness_remove (self, node);
    node->older = self->newest;
    node->newer = NULL;
    if (self->newest)
        self->newest->newer = node;
    else
        self->oldest = node;
    self->newest = node;
    node->listed = true;
    self->size++;
}

//  --------------------------------------------------------------------------
//  Take a peer out of the list

void
zg_liveness_remove (zg_liveness_t *self, zg_liveness_node_t *node)
{
    assert (self);
    assert (node);
    if (!node->listed)
        return;
    if (node->older)
        node->older->newer = node->newer;
    else
        self->oldest = node->newer;
    if (node->newer)
        node->newer->older = node->older;
    else
        self->newest = node->older;
    node->older = node->newer = NULL;
    node->listed = false;
    self->size--;
}

//  --------------------------------------------------------------------------
//  The peer heard from the longest ago, or NULL

zg_liveness_node_t *
zg_liveness_oldest (zg_liveness_t *self)
{
    assert (self);
    return self->oldest;
}

//  --------------------------------------------------------------------------
//  The oldest peer if it has been silent for timeout ms, else NULL

zg_liveness_node_t *
zg_liveness_expired (zg_liveness_t *self, int64_t now, int64_t timeout)
{
    assert (self);
    if (self->oldest && self->oldest->last_seen + timeout <= now)
        return self->oldest;
    return NULL;
}

//  --------------------------------------------------------------------------
//  When the oldest peer times out, or INT64_MAX

int64_t
zg_liveness_next_deadline (zg_liveness_t *self, int64_t timeout)
{
    assert (self);
    return self->oldest? self->oldest->last_seen + timeout: INT64_MAX;
}

//  --------------------------------------------------------------------------
//  Peers in the list

size_t
zg_liveness_size (zg_liveness_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Self test

typedef struct {
    int id;                         //  Which peer
    zg_liveness_node_t node;        //  Its link in the list
} s_test_peer_t;

void
zg_liveness_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_liveness: ");
    zg_liveness_t *list = zg_liveness_new ();
    s_test_peer_t peers [4] = { { 0 } };
    for (int index = 0; index < 4; index++)
        peers [index].id = index;
    assert (zg_liveness_oldest (list) == NULL);
    assert (zg_liveness_next_deadline (list, 100) == INT64_MAX);
    assert (zg_liveness_expired (list, 1000, 100) == NULL);

    //  Heard from at 10, 20, 30, 40; then 0 again at 50 (it moves to the end)
    for (int index = 0; index < 4; index++)
        zg_liveness_touch (list, &peers [index].node, 10 * (index + 1));
    zg_liveness_touch (list, &peers [0].node, 50);
    zg_liveness_touch (list, &peers [0].node, 55);      //  Already the newest
    assert (zg_liveness_size (list) == 4);
    assert (ZG_ITEM_OF (zg_liveness_oldest (list), s_test_peer_t, node) == &peers [1]);
    int order [] = { 1, 2, 3, 0 };
    int seen = 0;
    for (zg_liveness_node_t *node = zg_liveness_oldest (list); node; node = node->newer)
        assert (ZG_ITEM_OF (node, s_test_peer_t, node)->id == order [seen++]);
    assert (seen == 4);

    //  With a 100 ms timeout, peer 1 (20) times out at 120, the lookup
    //  changes nothing, and a removal from the middle keeps the order
    assert (zg_liveness_next_deadline (list, 100) == 120);
    assert (zg_liveness_expired (list, 119, 100) == NULL);
    assert (zg_liveness_expired (list, 120, 100) == &peers [1].node);
    assert (zg_liveness_expired (list, 120, 100) == &peers [1].node);
    zg_liveness_remove (list, &peers [1].node);
    zg_liveness_remove (list, &peers [1].node);         //  Not in it: no-op
    zg_liveness_remove (list, &peers [3].node);
    assert (zg_liveness_size (list) == 2);
    assert (zg_liveness_oldest (list) == &peers [2].node);
    assert (peers [2].node.newer == &peers [0].node && peers [0].node.older == &peers [2].node);
    assert (zg_liveness_expired (list, 1000, 100) == &peers [2].node);

    //  Destroying the list unlinks the peers still in it
    zg_liveness_destroy (&list);
    assert (list == NULL);
    assert (!peers [0].node.listed && !peers [2].node.listed && !peers [0].node.older);
    zg_liveness_destroy (&list);
    printf ("OK\n");
}
