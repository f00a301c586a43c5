/*  =========================================================================
    zg_qsends - a producer's batch of tasks: SENDS (queue protocol
    version 2, docs/PROTOCOL.md 2.10)

    Private to zg_queues. The actor checks the framing (its command table),
    the queue's name and the sender's permission, once for the batch; this
    class checks the options and the send records, submits each record as
    one task to the dispatch core, in order, and writes one OK of result
    records (zg_qv2.h) into the core's outbox: a task's id, or the reason
    that record was refused. A batch is checked whole before the first task
    is made: options, records cut short or no record refuse the whole batch
    with nothing changed; a record over max-task-size, or one the core
    refuses (queue full, budget), is refused alone and changes nothing.
    =========================================================================
*/

#ifndef ZG_QSENDS_H_INCLUDED
#define ZG_QSENDS_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_qcore.h"
#include "zg_qttl.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What a SENDS is checked against and its tasks keep
typedef struct {
    const zg_qsettings_t *settings; //  Limits
    zg_qttl_t *ttls;                //  The queues' default ttls
    const char *owner;              //  Producer's identity the tasks keep (security on), or NULL
    const zg_holder_t *holder;      //  Who a new queue is charged to, or NULL: nobody
} zg_qsends_t;

//  [SENDS][req][queue][options][records] (routing id first, frame count
//  checked; queue its checked name as text): every send record a task, in
//  order, answered by one [OK][req][results] in the core's outbox (none if
//  req is empty and every record was taken). Each task's REPLY goes in a
//  REPLIES batch. Returns 0, or -1 with a ZG_ERR_* code and a reason and
//  nothing changed.
int
    zg_qsends_batch (zg_qcore_t *core, const zg_qsends_t *sends, zg_wire_request_t *request, const char *queue,
                     int *code, char *reason);

//  Self test of this class
void
    zg_qsends_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
