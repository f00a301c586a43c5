/*  =========================================================================
    zg_worker - native work-queue worker with a registry of handlers by queue
    (task type) or command name (docs/PROTOCOL.md, "Queues")

        zg_worker_t *worker = zg_worker_new ("tcp://127.0.0.1:5563", "w1", 10);
        zg_worker_register (worker, "reverse", false, s_reverse, NULL);
        zg_worker_run (worker);                 //  until SIGINT / SIGTERM
        zg_worker_destroy (&worker);

    The worker announces every registered name (READY), calls the handler of
    each delivered task in its thread, answers ACK / FAIL / NACK from what the
    handler returns, sends heartbeats, and announces itself again when zgate
    has forgotten it (restart). A task whose name has no handler is NACKed
    with "callback not found". A handler that runs longer than zgate's
    worker-timeout gets its worker declared dead, so keep them shorter.
    =========================================================================
*/

#ifndef ZG_WORKER_H_INCLUDED
#define ZG_WORKER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a handler returns
#define ZG_WORKER_ACK    0          //  Done; *output_p (may stay NULL) is the reply
#define ZG_WORKER_FAIL  -1          //  Failed for good; reason says why
#define ZG_WORKER_NACK   1          //  Give it back for another delivery

//  A task handler: name is the queue or command, input the payload. It may
//  set *output_p to a new frame (the reply) and must fill reason on FAIL.
typedef int (zg_worker_fn) (const char *name, zframe_t *input, zframe_t **output_p,
                            char *reason, size_t reason_size, void *arg);

//  A declared command's handler (zg_worker_register_command): params maps
//  each {param} of the declaration to its value in the line, data is the
//  rest. Returns as zg_worker_fn; a quiet command's empty or no output
//  sends its producer no reply.
typedef int (zg_worker_command_fn) (const char *name, zhash_t *params, zframe_t *data, zframe_t **output_p,
                                    char *reason, size_t reason_size, void *arg);

typedef struct _zg_worker_t zg_worker_t;

//  Create a worker with logical id on zgate's workers endpoint, holding at
//  most prefetch tasks; NULL if the endpoint is invalid
zg_worker_t *
    zg_worker_new (const char *endpoint, const char *id, int prefetch);

//  The same, as a CURVE client of a zgate that runs security: client_cert and
//  server_key as zg_curve_secure takes them (NULL client_cert: plain). Also
//  NULL if a certificate cannot be read.
zg_worker_t *
    zg_worker_new_secure (const char *endpoint, const char *id, int prefetch, const char *client_cert,
                          const char *server_key);

//  Destroy the worker; zgate gets BYE and requeues what it held
void
    zg_worker_destroy (zg_worker_t **self_p);

//  Register the handler of a queue (command false) or command name. Returns
//  0, or -1 if the name already has one ("registering multiple callbacks").
//  A worker already started announces the new name at once.
int
    zg_worker_register (zg_worker_t *self, const char *name, bool command, zg_worker_fn *handler, void *arg);

//  Register the handler of a command declared teomq's way,
//  "name/{param}/{param}..." (zg_command): a CALL "name/p1/p2/data" reaches
//  it as params {param: p1, ...} plus data. quiet makes it fire-and-forget
//  (READY's quiet): an ACK with no output sends its producer no REPLY.
//  Returns 0, or -1: 400 for a bad declaration, 409 for a name registered
//  twice. A task whose line has too few params is FAILed.
int
    zg_worker_register_command (zg_worker_t *self, const char *declaration, bool quiet,
                                zg_worker_command_fn *handler, void *arg);

//  Announce the registered names to zgate and wait up to timeout ms for its
//  answer. Returns 0, or -1 (see zg_worker_reason)
int
    zg_worker_start (zg_worker_t *self, int timeout);

//  Handle what arrives for up to timeout ms (tasks, errors), heartbeating.
//  Returns the number of tasks handled, or -1 if interrupted
int
    zg_worker_poll (zg_worker_t *self, int timeout);

//  Start if needed, then handle tasks until SIGINT or SIGTERM. Returns 0, or
//  -1 if zgate never answered READY
int
    zg_worker_run (zg_worker_t *self);

//  The worker protocol version READY asks for, before zg_worker_start: 2
//  (the default: tasks come in DELIVERS batches, acked in one ACKS each;
//  from a zgate that refuses the option the worker falls back to 1) or 1
//  (a message per task)
void
    zg_worker_set_version (zg_worker_t *self, int version);

//  The worker protocol version zgate's READY answer gave: 1 or 2
int
    zg_worker_version (zg_worker_t *self);

//  Tasks handled so far
uint64_t
    zg_worker_handled (zg_worker_t *self);

//  Code of the last error (the codes of zg_errors.h: zgate's ERROR code, 408
//  when zgate did not answer READY, 409 for a name registered twice)
int
    zg_worker_code (zg_worker_t *self);

//  Reason of the last error
const char *
    zg_worker_reason (zg_worker_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_worker_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
