/*  =========================================================================
    zg_async - asynchronous work-queue producer: send tasks and calls, get
    each outcome in a callback (id, data, error), as teomq's producer did,
    beside zg_producer's blocking calls (docs/PROTOCOL.md 2.2, 2.9)

        static void
        s_answer (uint64_t id, zframe_t *data, int code, const char *error, void *arg)
        {
            if (data) ...the reply of task id; else code and error say why
        }
        zg_async_t *async = zg_async_new ("tcp://127.0.0.1:5562");
        uint64_t id = zg_async_send (async, "jobs", "hello", 5, 5000, s_answer, NULL);
        while (zg_async_pending (async))
            zg_async_poll (async, 1000);
        zg_async_destroy (&async);

    Nothing blocks but zg_async_poll. A timeout of 0 means none (zgate's
    timeout 0): the callback comes when the task ends, however long it
    takes. With a timeout, an outcome that did not come within it (zgate's
    408, or no answer at all from a zgate that is gone) calls back with code
    408 and forgets the task. One zg_async is one DEALER socket: use it from
    one thread.
    =========================================================================
*/

#ifndef ZG_ASYNC_H_INCLUDED
#define ZG_ASYNC_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  An outcome: the reply (data, the callback's to keep with zframe_dup or
//  read now; code 0, error NULL), or no data with a ZG_ERR_* code and its
//  reason: 408 timeout, 422 failed by its worker, 410 dead, 404 an unknown
//  command, 429 queue full, ...
typedef void (zg_async_fn) (uint64_t id, zframe_t *data, int code, const char *error, void *arg);

typedef struct _zg_async_t zg_async_t;

//  Create one connected to zgate's producers endpoint; NULL if the endpoint
//  is invalid
zg_async_t *
    zg_async_new (const char *endpoint);

//  The same, as a CURVE client (zg_curve_secure's arguments; NULL
//  client_cert: plain); also NULL if a certificate cannot be read
zg_async_t *
    zg_async_new_secure (const char *endpoint, const char *client_cert, const char *server_key);

//  Destroy it; the callbacks of tasks still pending are not called
void
    zg_async_destroy (zg_async_t **self_p);

//  Send a task to a queue whose outcome goes to callback, within timeout
//  ms (0: none). Returns its id (1, 2, ...: this producer's, not zgate's
//  task id), or 0 if it could not be sent (then nothing will be called).
uint64_t
    zg_async_send (zg_async_t *self, const char *queue, const void *data, size_t size, int timeout,
                   zg_async_fn *callback, void *arg);

//  Call a command with a teomq line "name/params.../data", likewise
uint64_t
    zg_async_call (zg_async_t *self, const char *line, int timeout, zg_async_fn *callback, void *arg);

//  Handle what arrives for up to timeout ms (-1: until something arrives),
//  calling the callbacks of the outcomes, and those whose timeout passed.
//  Returns the number of callbacks called, or -1 if interrupted.
int
    zg_async_poll (zg_async_t *self, int timeout);

//  Tasks whose outcome is still to come
size_t
    zg_async_pending (zg_async_t *self);

//  Its socket, for a caller's own poll loop (call zg_async_poll when it is
//  readable, and at the next deadline)
zsock_t *
    zg_async_socket (zg_async_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_async_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
