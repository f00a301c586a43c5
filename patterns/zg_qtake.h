/*  =========================================================================
    zg_qtake - pull access to the queues: TAKE, FINISH and RETRY

    Private to zg_queues. qmanager's workers pull: they take a task when
    they want one (by queue, or whatever waits first), then finish it with
    an output or put it back at the tail. Here such a task is in progress
    with no worker: its ack timeout (and max-deliveries) still apply, so a
    puller that dies does not strand it, and its id is the only handle, so
    any connection that may consume its queue can finish it (a command line
    tool takes in one process and finishes in the next).
    =========================================================================
*/

#ifndef ZG_QTAKE_H_INCLUDED
#define ZG_QTAKE_H_INCLUDED

#include <czmq.h>
#include "zg_qcore.h"
#include "zg_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Whether the sender of request may consume from queue (NULL: from every
//  queue); the callback answers a refusal (403) itself
typedef bool (zg_qtake_allows_fn) (void *arg, zg_wire_request_t *request, const char *queue);

//  Handle [TAKE][req][options], [FINISH][req][id] or [FINISH][req][id]
//  [output], [RETRY][req][id] (routing id first; the frame counts are the
//  caller's to check). Returns 0 when done, its answer in the core's outbox;
//  1 when allows refused it (and answered); -1 with a ZG_ERR_* code and a
//  reason (ZG_WIRE_REASON_SIZE bytes) for the caller to answer. A refused
//  request changes nothing.
int
    zg_qtake_handle (zg_qcore_t *core, const zg_qsettings_t *settings, zg_wire_request_t *request,
                     zg_qtake_allows_fn *allows, void *arg, int *code, char *reason);

//  Self test of this class
void
    zg_qtake_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
