/*  =========================================================================
    zg_qadmin - the queues' admin requests: delete a queue

    Private to the queues. DELETE is RabbitMQ's queue.delete: the queue's
    waiting tasks are dropped (a producer waiting for an outcome hears 410)
    and counted; with if-empty it is refused (409) while tasks wait, with
    if-unused while workers serve it. Tasks in progress finish as usual and
    workers keep their seats, so the name is forgotten once nothing names it
    any more (zg_qtable): no worker, no task in progress, no kept result.
    =========================================================================
*/

#ifndef ZG_QADMIN_H_INCLUDED
#define ZG_QADMIN_H_INCLUDED

#include <czmq.h>
#include "zg_qcore.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Delete a queue (name, NUL ended) with the options of DELETE (a msgpack
//  map, or empty: if-empty and if-unused, booleans). Returns 0 with the
//  number of tasks dropped, or -1 with a ZG_ERR_* code and a reason
//  (ZG_WIRE_REASON_SIZE bytes) and nothing changed
int
    zg_qadmin_delete (zg_qcore_t *core, const char *name, const void *options, size_t options_size,
                      uint64_t *dropped, int *code, char *reason);

//  Self test of this class
void
    zg_qadmin_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
