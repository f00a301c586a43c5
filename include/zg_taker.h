/*  =========================================================================
    zg_taker - pull access to zgate's work queues: take a task when you want
    one, finish it or put it back (docs/PROTOCOL.md, "Pulling tasks")

        zg_taker_t *taker = zg_taker_new ("tcp://127.0.0.1:5562");
        const char *types [] = { "fibonacci", "reverse" };
        zg_taken_t task;
        int rc = zg_taker_take (taker, types, 2, 0, &task);
        if (rc == 1) {
            ...work on task.data, then
            zg_taker_finish (taker, task.id, "6765", 4);   //  or zg_taker_retry
            zframe_destroy (&task.data);
        }
        zg_taker_destroy (&taker);

    qmanager's TakeTaskByType, FinishTask and RetryTask. A taken task's id is
    its only handle: another taker (another process) may finish it. Unless
    it is finished or retried within its ack timeout, zgate takes it back.
    Calls block until zgate answers or the timeout. One taker is one DEALER
    socket on the producers endpoint: use it from one thread.
    =========================================================================
*/

#ifndef ZG_TAKER_H_INCLUDED
#define ZG_TAKER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_taker_t zg_taker_t;

//  A task taken
typedef struct {
    char id [24];                   //  Task id
    char queue [256];               //  Its queue
    int attempt;                    //  Deliveries so far, this one included
    zframe_t *data;                 //  Its payload (the caller destroys it)
} zg_taken_t;

//  Create a taker connected to zgate's producers endpoint; NULL if the
//  endpoint is invalid
zg_taker_t *
    zg_taker_new (const char *endpoint);

//  The same, as a CURVE client (zg_curve_secure's arguments; NULL
//  client_cert: plain); also NULL if a certificate cannot be read
zg_taker_t *
    zg_taker_new_secure (const char *endpoint, const char *client_cert, const char *server_key);

//  Destroy the taker
void
    zg_taker_destroy (zg_taker_t **self_p);

//  Answer timeout, ms (default 5000)
void
    zg_taker_set_timeout (zg_taker_t *self, int timeout);

//  Take the waiting task of these queues (count 0: of any queue) that goes
//  first: highest priority, then the one that came first. It is in progress
//  until finished or retried, or until ack_timeout ms (0: its own, from its
//  SEND) pass. Returns 1 with task filled, 0 if no task waits (not an
//  error), or -1 (see zg_taker_code / _reason)
int
    zg_taker_take (zg_taker_t *self, const char **queues, size_t count, int ack_timeout, zg_taken_t *task);

//  Finish a taken task with an output (size 0: none): done. Returns 0 or -1
//  (404 unknown id, 409 not a taken task)
int
    zg_taker_finish (zg_taker_t *self, const char *id, const void *output, size_t size);

//  Put a taken task back at the tail of its queue (a delivery: past
//  max-deliveries it goes to the dead letters). Returns 0 or -1
int
    zg_taker_retry (zg_taker_t *self, const char *id);

//  Workers serving a queue now, from zgate's STATS (admin only when
//  security is on); -1 if zgate would not tell
int
    zg_taker_workers (zg_taker_t *self, const char *queue);

//  Code of the last error (a ZG_ERR_* code)
int
    zg_taker_code (zg_taker_t *self);

//  Reason of the last error
const char *
    zg_taker_reason (zg_taker_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_taker_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
