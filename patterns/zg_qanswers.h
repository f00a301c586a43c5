/*  =========================================================================
    zg_qanswers - how the queues actor answers the request it is handling:
    OK, ERROR and the 403 of a permission, on the socket the request came
    from, counting what libzmq refuses and what the permissions deny

    Private to zg_queues. The actor names the socket whose requests it
    handles (zg_qanswers_set_socket); answers go to the request's routing
    id there. The core's own answers go through its outbox instead.
    =========================================================================
*/

#ifndef ZG_QANSWERS_H_INCLUDED
#define ZG_QANSWERS_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_security.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qanswers_t zg_qanswers_t;

//  Create the answers of an actor whose permissions are security's (the
//  caller's, alive as long)
zg_qanswers_t *
    zg_qanswers_new (zg_security_t *security);

//  Destroy them
void
    zg_qanswers_destroy (zg_qanswers_t **self_p);

//  The socket whose requests are handled from now on
void
    zg_qanswers_set_socket (zg_qanswers_t *self, zsock_t *socket);

//  Answer the request with [command][name][results...] (at most two
//  results), name being its frame 2 (req or worker id)
void
    zg_qanswers_answer (zg_qanswers_t *self, zg_wire_request_t *request, const char *command,
                        const zg_wire_part_t *results, size_t count);

//  Answer a producer [OK][req][results...], unless its req is empty: it
//  asked for no answer
void
    zg_qanswers_ok (zg_qanswers_t *self, zg_wire_request_t *request, const zg_wire_part_t *results, size_t count);

//  Answer [ERROR][name][code][reason]; name is the req or worker id, or
//  empty when that frame is itself the fault
void
    zg_qanswers_error (zg_qanswers_t *self, zg_wire_request_t *request, zg_wire_part_t name, int code,
                       const char *format, ...) CHECK_PRINTF (5);

//  Whether the permissions let the sender do what (allowed); answers 403
//  "'identity' may not <what> 'name'" and counts it if not
bool
    zg_qanswers_permitted (zg_qanswers_t *self, zg_wire_request_t *request, bool allowed, const char *what,
                           const char *name);

//  Whether the sender may do action on the queue or command name (always,
//  with security off); answers 403 if not
bool
    zg_qanswers_allows (zg_qanswers_t *self, zg_wire_request_t *request, const char *action, const char *name);

//  libzmq refused a message the actor sent elsewhere: count it
void
    zg_qanswers_unroutable (zg_qanswers_t *self);

//  Add the counters to a STATS object: errors (these and core_errors, the
//  core's own), unroutable and denied
void
    zg_qanswers_stats (zg_qanswers_t *self, json_object *root, uint64_t core_errors);

//  Self test of this class
void
    zg_qanswers_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
