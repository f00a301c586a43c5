/*  =========================================================================
    zg_qjournal - the queues actor's durable journal: the store of
    queues/data-dir (zg_qdurable) and the messages held until their pass
    is on disk (zg_qheld)

    Private to zg_queues. The actor has one from its start, in memory
    (every call does nothing) until data-dir opens a store; then the
    store's tasks are restored into a new core, and each loop pass is made
    durable before any of its messages is sent. Its policy when a pass is
    lost: each SEND of the pass gets 507 instead of OK, and the core is
    rebuilt from the store as on a restart: what was not stored did not
    happen. So the core the actor holds may be replaced: the calls that
    can do it take the actor's pointer to it.
    =========================================================================
*/

#ifndef ZG_QJOURNAL_H_INCLUDED
#define ZG_QJOURNAL_H_INCLUDED

#include <czmq.h>
#include "zg_qcore.h"
#include "zg_qheld.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qjournal_t zg_qjournal_t;

//  A journal in memory over these settings (the actor's, alive as long:
//  the new cores read them, data-dir is set here); send sends an outbox's
//  messages once they may go
zg_qjournal_t *
    zg_qjournal_new (zg_qsettings_t *settings, zg_qheld_send_fn *send, void *arg);

//  Destroy, dropping the messages held (and waiting for a sync in flight),
//  and close the store; destroy the core that journals to it first
void
    zg_qjournal_destroy (zg_qjournal_t **self_p);

//  data-dir: open the store in dir (once: it changes on a restart only; the
//  same dir again changes nothing) and restore its tasks into a new core in
//  *core_p, or stay in memory if dir is empty. Returns 0, or -1 with a
//  one-line reason in error: then the journal stays in memory, and *core_p
//  is as it was, or a new empty core if the restore failed partway (one
//  that holds part of the tasks is no use).
int
    zg_qjournal_open (zg_qjournal_t *self, const char *dir, zg_qcore_t **core_p, char *error, size_t size);

//  Whether a store is open: the core's changes are journaled and its
//  messages held until their pass is on disk
bool
    zg_qjournal_on (zg_qjournal_t *self);

//  End of a pass (synced false): write it and hold the core's outbox until
//  a sync covers it; or the sync in flight ended (synced true, its socket
//  is readable): send what it covers. If the pass is lost, the outbox's
//  OKs become ERROR 507, it is sent, and *core_p is rebuilt from the store.
void
    zg_qjournal_commit (zg_qjournal_t *self, zg_qcore_t **core_p, bool synced);

//  The socket (libzmq handle) to poll while a sync is in flight, else NULL
void *
    zg_qjournal_sync_socket (zg_qjournal_t *self);

//  The store's counters as a new json-c object (zg_qdurable_stats); only
//  while a store is open
json_object *
    zg_qjournal_stats (zg_qjournal_t *self);

//  Self test of this class
void
    zg_qjournal_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
