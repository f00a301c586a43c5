/*  =========================================================================
    zg_qseats - where the queues' workers sit: a READY's limits, the worker
    registered, its seats at the queues and commands it names, and leaving
    them

    Private to the dispatch core (zg_qcore), which owns the table, the
    registry and the settings this class works on. A READY names the queues
    and commands a worker serves: it gets one seat at each (zg_seat_t, in
    the order of the names), the queue made if need be and counting the
    worker, so zg_qtable keeps it while the worker sits there. A new READY
    replaces the seats, and a worker that goes (BYE, silence) leaves them
    all; a queue left with nothing to name it is listed idle. Seating puts
    nobody in a line: the core gives the worker its credit (s_credit) next.
    =========================================================================
*/

#ifndef ZG_QSEATS_H_INCLUDED
#define ZG_QSEATS_H_INCLUDED

#include <czmq.h>
#include "zg_qtable.h"
#include "zg_qworkers.h"
#include "zg_qoptions.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qseats_t zg_qseats_t;

//  Seats over the core's table, registry and settings (read live), all
//  alive as long
zg_qseats_t *
    zg_qseats_new (zg_qtable_t *table, zg_qworkers_t *registry, const zg_qsettings_t *settings);

//  Destroy (the workers and queues are the core's)
void
    zg_qseats_destroy (zg_qseats_t **self_p);

//  READY at now: check max-queues (the names not yet known) and, for a new
//  worker (worker NULL), max-workers; then register the new worker or
//  touch it, and seat it at the named queues and commands in place of its
//  old seats, with options' prefetch. Returns the worker, or NULL with a
//  ZG_ERR_* code and a reason (ZG_WIRE_REASON_SIZE bytes) and nothing
//  changed.
zg_qworker_t *
    zg_qseats_ready (zg_qseats_t *self, zg_qworker_t *worker, const byte *identity, size_t identity_size,
                     const byte *name, size_t name_size, const zg_qoptions_t *options, int64_t now,
                     int *code, char *reason);

//  The worker leaves every seat: out of the lines, each queue counting one
//  worker less (listed idle if nothing else names it)
void
    zg_qseats_leave (zg_qseats_t *self, zg_qworker_t *worker);

//  Self test of this class
void
    zg_qseats_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
