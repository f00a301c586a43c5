/*  =========================================================================
    zg_qttl - each queue's default time to live: the rules of
    queues/task-ttls

    Private to the queues. A spec is "pattern ttl; pattern ttl; ...", a
    pattern being a queue (or command) name or a prefix ending in '*'
    ("jobs.*" matches every name that starts with "jobs."), a ttl a count
    of ms with an optional unit ms, s, m or h (0: no limit). The first rule
    that matches a queue gives the ttl of its tasks that bring none of
    their own; a queue no rule matches takes queues/task-ttl (zg_qexpiry).
    =========================================================================
*/

#ifndef ZG_QTTL_H_INCLUDED
#define ZG_QTTL_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qttl_t zg_qttl_t;

//  Create a set with no rules
zg_qttl_t *
    zg_qttl_new (void);

//  Destroy it
void
    zg_qttl_destroy (zg_qttl_t **self_p);

//  Replace the rules with those of a spec ("" for none); -1 with a reason
//  in error, and nothing changed, if the spec is malformed or a ttl is over
//  max_ttl
int
    zg_qttl_set (zg_qttl_t *self, const char *spec, int64_t max_ttl, char *error, size_t size);

//  The ttl of the first rule that matches name, or fallback if none does
int64_t
    zg_qttl_lookup (zg_qttl_t *self, const char *name, int64_t fallback);

//  Self test of this class
void
    zg_qttl_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
