/*  =========================================================================
    zg_subcount - which connection holds which subscription, so that the
    topics actor counts a subscriber's prefix once, as libzmq delivers it

    Private to zg_topics. libzmq's XPUB (verbose) passes every SUBSCRIBE a
    subscriber sends, a second one to the same prefix too, but holds the
    prefix once per connection, and when a connection closes it passes one
    unsubscription per prefix it held, without saying whose. This class
    keeps the prefixes of each TCP connection (its descriptor, from the
    subscription's "__fd" property): a repeated subscription changes
    nothing, an explicit unsubscription ends only what that connection
    holds, and a connection that closes (zg_connwatch's monitor reports it
    before libzmq passes its unsubscriptions) leaves its prefixes waiting
    for those anonymous unsubscriptions. Inproc subscribers (the gateway)
    carry no descriptor: each of their subscriptions counts.
    =========================================================================
*/

#ifndef ZG_SUBCOUNT_H_INCLUDED
#define ZG_SUBCOUNT_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_subcount_t zg_subcount_t;

//  What an unsubscription ends
typedef enum {
    ZG_SUBCOUNT_NOTHING,            //  Nothing held: ignore it
    ZG_SUBCOUNT_APPLIED,            //  A subscription that took effect
    ZG_SUBCOUNT_REFUSED             //  A subscription the permissions refused
} zg_subcount_ended_t;

zg_subcount_t *
    zg_subcount_new (void);

void
    zg_subcount_destroy (zg_subcount_t **self_p);

//  A subscription to prefix from connection fd (-1: inproc), applied or
//  refused; returns false if that connection holds prefix already (it
//  changes nothing)
bool
    zg_subcount_subscribe (zg_subcount_t *self, int fd, const char *prefix, bool applied);

//  An unsubscription from connection fd, or with fd -1 one that names no
//  connection (inproc, or libzmq's for a closed connection); returns what
//  it ends
zg_subcount_ended_t
    zg_subcount_unsubscribe (zg_subcount_t *self, int fd, const char *prefix);

//  Connection fd closed: its prefixes wait for libzmq's unsubscriptions
void
    zg_subcount_closed (zg_subcount_t *self, int fd);

//  Add delta to prefix's count in a table of counts (zhashx of uintptr_t
//  values); a count that falls to 0 is removed. The topics actor keeps its
//  per-prefix subscriber counts with it too
void
    zg_subcount_add (zhashx_t *counts, const char *prefix, int delta);

//  Self test of this class
void
    zg_subcount_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
