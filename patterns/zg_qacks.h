/*  =========================================================================
    zg_qacks - a worker's answers to its tasks: ACK, NACK and FAIL of one
    task (worker protocol version 1) and ACKS of a batch (version 2)

    Private to zg_queues. The actor checks the framing (its command table)
    and the worker; these functions check what the answer names against
    what the worker holds and call the dispatch core's transitions. A batch
    is all or nothing: every record is checked (well formed, a task this
    worker holds, named once, a reply within max-task-size) before the
    first is acked, so a refused ACKS changes nothing.
    =========================================================================
*/

#ifndef ZG_QACKS_H_INCLUDED
#define ZG_QACKS_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_qcore.h"

#ifdef __cplusplus
extern "C" {
#endif

//  [ACK][worker][id] or [ACK][worker][id][reply], [NACK][worker][id] or
//  [NACK][worker][id][reason], [FAIL][worker][id][reason] (routing id
//  first, frame counts checked): returns 0, or -1 with a ZG_ERR_* code and
//  a reason (ZG_WIRE_REASON_SIZE bytes) and nothing changed
int
    zg_qacks_answer (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker,
                     zg_wire_request_t *request, int *code, char *reason);

//  [ACKS][worker][records] (zg_qv2.h's ack records): every task acked in
//  the order named. Returns 0, or -1 with a ZG_ERR_* code and a reason and
//  nothing changed
int
    zg_qacks_batch (zg_qcore_t *core, const zg_qsettings_t *settings, zg_qworker_t *worker,
                    zg_wire_request_t *request, int *code, char *reason);

//  Self test of this class
void
    zg_qacks_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
