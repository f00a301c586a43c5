/*  =========================================================================
    zg_producer - native work-queue producer: send tasks, wait for replies,
    read tasks by id (docs/PROTOCOL.md, "Queues")

        zg_producer_t *producer = zg_producer_new ("tcp://127.0.0.1:5562");
        zframe_t *reply;
        if (zg_producer_request (producer, "jobs", "hello", 5, 5000, &reply) == 0)
            ...use reply, then zframe_destroy (&reply);
        else
            printf ("%d %s\n", zg_producer_code (producer), zg_producer_reason (producer));
        zg_producer_destroy (&producer);

    Calls block until zgate answers or their timeout; answers to requests
    that already timed out are skipped. One producer is one DEALER socket:
    use it from one thread.
    =========================================================================
*/

#ifndef ZG_PRODUCER_H_INCLUDED
#define ZG_PRODUCER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_producer_t zg_producer_t;

//  A task as GET returns it
typedef struct {
    char id [24];                   //  Task id
    char queue [256];               //  Queue or command name
    char state [16];                //  waiting, in_progress, done, failed, dead
    bool command;                   //  A command task (CALL)
    int priority;                   //  Its priority
    int attempt;                    //  Deliveries so far
    int64_t created;                //  Ms since the epoch
    int64_t started;                //  Last delivery, or 0
    int64_t finished;               //  Or 0
    zframe_t *result;               //  Reply (done) or reason (failed, dead), or NULL
    zframe_t *input;                //  Its payload as sent (empty for a scatter), or NULL
} zg_task_info_t;

//  Create a producer connected to zgate's producers endpoint; NULL if the
//  endpoint is invalid
zg_producer_t *
    zg_producer_new (const char *endpoint);

//  The same, as a CURVE client of a zgate that runs security: client_cert and
//  server_key as zg_curve_secure takes them (NULL client_cert: plain). Also
//  NULL if a certificate cannot be read.
zg_producer_t *
    zg_producer_new_secure (const char *endpoint, const char *client_cert, const char *server_key);

//  Destroy the producer
void
    zg_producer_destroy (zg_producer_t **self_p);

//  Answer timeout for requests other than request/call, ms (default 5000)
void
    zg_producer_set_timeout (zg_producer_t *self, int timeout);

//  Send a task to a queue with a priority (0 = default). Returns 0 and the
//  task id in id (24 bytes), or -1 (see zg_producer_code / _reason)
int
    zg_producer_send (zg_producer_t *self, const char *queue, const void *data, size_t size,
                      int priority, char *id);

//  Send count tasks to a queue in one SENDS (queue protocol version 2,
//  docs/PROTOCOL.md 2.10), task index's payload data [index] of sizes
//  [index] bytes, all with a priority. Returns 0 once zgate answered: ids
//  [index] (24 bytes each) is that task's id, or "" if that record alone
//  was refused, codes [index] its ZG_ERR_* code (0: taken). Returns -1 if
//  the whole batch was refused (zg_producer_code / _reason; 405: this zgate
//  predates SENDS, send the tasks one by one).
int
    zg_producer_send_batch (zg_producer_t *self, const char *queue, const void *const *data, const size_t *sizes,
                            size_t count, int priority, char (*ids) [24], int *codes);

//  Send a task and wait up to timeout ms for its reply. Returns 0 with the
//  reply frame (the caller destroys it), or -1: code 408 on timeout, 422 if
//  the worker failed it, 410 if it went to the dead letters, ...
int
    zg_producer_request (zg_producer_t *self, const char *queue, const void *data, size_t size,
                         int timeout, zframe_t **reply_p);

//  Call a command with a teomq line "name/params.../data" and wait up to
//  timeout ms for the reply, as zg_producer_request
int
    zg_producer_call (zg_producer_t *self, const char *line, int timeout, zframe_t **reply_p);

//  Call a command on every worker serving it (scatter-gather) and wait up
//  to timeout ms for their replies. Returns 0 with one frame per reply, in
//  the order they arrived (the caller destroys the message), or -1 as
//  zg_producer_request
int
    zg_producer_scatter (zg_producer_t *self, const char *line, int timeout, zmsg_t **replies_p);

//  Read a task by id. Returns 0 with info filled (destroy info->result and
//  info->input), or
//  -1 (404 for an unknown or expired id)
int
    zg_producer_get (zg_producer_t *self, const char *id, zg_task_info_t *info);

//  Code of the last error (an ERROR code from zgate, or 408 when zgate did
//  not answer in time)
int
    zg_producer_code (zg_producer_t *self);

//  Reason of the last error
const char *
    zg_producer_reason (zg_producer_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_producer_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
