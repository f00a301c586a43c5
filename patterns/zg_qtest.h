/*  =========================================================================
    zg_qtest - the wire helpers of the queues actor's self test: options
    frames, requests, expected answers and deliveries, and the dispatch
    core's (zg_qcore) submit and outbox

    Test code only (zg_queues_test); each helper asserts what it expects.
    =========================================================================
*/

#ifndef ZG_QTEST_H_INCLUDED
#define ZG_QTEST_H_INCLUDED

#include <czmq.h>
#include "zg_qcore.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Pack a small options map from alternating keys and values (NULL ends
//  them): a value starting with '[' is an array of one name, digits an
//  integer, anything else true
zframe_t *
    zg_qtest_options (const char *first, ...);

//  Send [command][name][options][last], SEND with the queue "jobs" before
//  the options; the options frame is taken
void
    zg_qtest_send_options (zsock_t *socket, const char *command, const char *name, zframe_t *options,
                           const char *last);

//  Receive a message and check its first frames (third may be NULL);
//  returns the rest for more checks
zmsg_t *
    zg_qtest_expect (zsock_t *socket, const char *command, const char *name, const char *third);

//  The same, and destroy the message
void
    zg_qtest_expect_done (zsock_t *socket, const char *command, const char *name, const char *third);

//  Receive exactly [command][name][third][last]
void
    zg_qtest_expect_last (zsock_t *socket, const char *command, const char *name, const char *third,
                          const char *last);

//  Nothing arrives on socket within timeout ms
void
    zg_qtest_expect_silence (zsock_t *socket, int timeout);

//  A DELIVER for worker name with this payload; returns its task id
char *
    zg_qtest_delivery (zsock_t *worker, const char *name, const char *payload);

//  PING as worker name until a DELIVER comes (within timeout ms), then
//  drain the answers to the pings; returns its task id, or NULL
char *
    zg_qtest_ping_until_delivery (zsock_t *worker, const char *name, int timeout);

//  GET task id from producer; asserts the answer's map contains text
void
    zg_qtest_get_contains (zsock_t *producer, const char *id, const char *text);

//  Whether a frame contains a string
bool
    zg_qtest_contains (zframe_t *frame, const char *string);

//  The core's outbox as "VERB name third;" per message, emptied; the text
//  is in a static buffer, valid until the next call
const char *
    zg_qtest_sent (zg_qcore_t *core);

//  Submit a task "data" to the core from producer "p", req "r"; returns 0
//  (the id in id) or the refusal's code
int
    zg_qtest_submit (zg_qcore_t *core, const char *name, bool command, zg_qoptions_t *options, char *id);

//  Build a request as the actor receives it from these frames (routing id
//  first); close it with zg_wire_close
void
    zg_qtest_request (zg_wire_request_t *request, const zg_wire_part_t *parts, size_t count);

//  Self test of this class
void
    zg_qtest_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
