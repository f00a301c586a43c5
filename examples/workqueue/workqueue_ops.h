//  workqueue_ops - the four reference task handlers of the workqueue
//  examples (qmanager's operations), as zg_worker handlers:
//
//      fibonacci   n (0 to 92)            -> fib(n), e.g. 20 -> 6765
//      arithmetic  infix + - * / ( )      -> its value, e.g. "5 + 12 / 6 - 7 * 9" -> -56
//      reverse     UTF-8 text             -> the text reversed by characters
//      encoder     text                   -> its bcrypt hash (cost 10, libcrypt)
//
//  Bad input FAILs the task with a reason; nothing here aborts.

#ifndef WORKQUEUE_OPS_H_INCLUDED
#define WORKQUEUE_OPS_H_INCLUDED

#include "zg_worker.h"

//  Register the four handlers on a worker, as queues; returns 0 or -1
int
    workqueue_ops_register (zg_worker_t *worker);

//  The handlers, for workers that register only some
zg_worker_fn workqueue_fibonacci;
zg_worker_fn workqueue_arithmetic;
zg_worker_fn workqueue_reverse;
zg_worker_fn workqueue_encoder;

#endif
