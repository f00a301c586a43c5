/*  =========================================================================
    zg_gw_drain - the gateway's lame-duck shutdown: on $TERM it stops
    listening, closes every WebSocket session with 1001 (going away), lets
    the HTTP requests in flight finish until the drain timeout, answers
    those still waiting for a pattern actor 503, and then says it is done.
    Private to the gateway; runs in its lws thread.
    =========================================================================
*/

#ifndef ZG_GW_DRAIN_H_INCLUDED
#define ZG_GW_DRAIN_H_INCLUDED

#include "zg_gw_answers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_drain_t zg_gw_drain_t;

//  Begin draining at now: close the sessions; timeout is the drain timeout,
//  ms. The caller refuses new connections meanwhile.
zg_gw_drain_t *
    zg_gw_drain_new (zg_gw_answers_t *answers, int64_t timeout, int64_t now);

//  Destroy the drain
void
    zg_gw_drain_destroy (zg_gw_drain_t **self_p);

//  True once nothing is in flight (no session, no HTTP transaction: the
//  caller counts its open transactions in transactions), or the drain
//  timeout and a short grace to write the 503 answers have passed
bool
    zg_gw_drain_done (zg_gw_drain_t *self, size_t transactions, int64_t now);

//  Self test of this class
void
    zg_gw_drain_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
