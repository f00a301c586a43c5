/*  =========================================================================
    zg_actor_tests - self tests that drive a class through the actor above it
    =========================================================================
*/

#ifndef ZG_ACTOR_TESTS_H_INCLUDED
#define ZG_ACTOR_TESTS_H_INCLUDED

#include <stdbool.h>

//  The history endpoint (zg_topics_history) through a topics actor
void
    zg_topics_history_test (bool verbose);

//  In-process byte bounds (zg_inflight) through a queues actor's ROUTER
void
    zg_inflight_queues_test (bool verbose);

#endif
