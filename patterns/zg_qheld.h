/*  =========================================================================
    zg_qheld - the queues' messages held until their passes are on disk

    Private to the queues actor in durable mode: pipelined group commit.
    At the end of each loop pass the actor hands over the core's outbox: the
    pass is written (zg_qdurable_write) and its messages are held behind
    those of earlier passes until a sync covers it; the sync runs in a
    thread (zg_qdurable_sync) while the actor handles the next passes, and
    when it ends (zg_qheld_synced) its messages are sent and the passes
    written meanwhile get the next sync. So a pass costs its work plus at
    most one sync in flight, not work plus sync. Messages keep their order:
    a pass that wrote nothing waits behind held ones too. With LMDB a pass
    is synced when written, and nothing is held.
    =========================================================================
*/

#ifndef ZG_QHELD_H_INCLUDED
#define ZG_QHELD_H_INCLUDED

#include <czmq.h>
#include "zg_qoutbox.h"
#include "zg_qdurable.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qheld_t zg_qheld_t;

//  Sends every message of outbox in order and clears it
typedef void (zg_qheld_send_fn) (void *arg, zg_qoutbox_t *outbox);

//  Held messages of a store, sent with send when they may go
zg_qheld_t *
    zg_qheld_new (zg_qdurable_t *durable, zg_qheld_send_fn *send, void *arg);

//  Destroy, dropping what is held (and waiting for a sync in flight)
void
    zg_qheld_destroy (zg_qheld_t **self_p);

//  End of a pass: write it and take outbox's messages if they must wait
//  (outbox is then empty; else the caller sends it). Returns 0, or -1 if
//  the pass is lost: the passes before it are synced and sent first (or
//  refused, see zg_qheld_synced), outbox is left to the caller.
int
    zg_qheld_pass (zg_qheld_t *self, zg_qoutbox_t *outbox);

//  The sync in flight ended (its socket, zg_qdurable_sync_socket, is
//  readable): send what it covers and start the next. Returns 0, or -1 if
//  it failed: every held OK was answered ERROR 507 instead, the rest
//  dropped, and the store refuses commits until zgate restarts.
int
    zg_qheld_synced (zg_qheld_t *self);

//  Self test of this class
void
    zg_qheld_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
