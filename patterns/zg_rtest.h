/*  =========================================================================
    zg_rtest - the wire helpers of the rooms actor's self test: requests
    and expected answers

    Test code only (zg_rooms_test); each helper asserts what it expects.
    =========================================================================
*/

#ifndef ZG_RTEST_H_INCLUDED
#define ZG_RTEST_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Send a request of string frames (NULL ends them) and return the answer's
//  frames, or NULL if none came within the socket's receive timeout
zmsg_t *
    zg_rtest_request (zsock_t *client, const char *first, ...);

//  Expect [command][frame 1]... (NULL ends them; "" is not checked) and
//  destroy the message
void
    zg_rtest_expect (zmsg_t **msg_p, const char *first, ...);

//  A new logical client: HELLO with req, and its client id (the caller frees)
char *
    zg_rtest_hello (zsock_t *client, const char *req);

//  The message's frames as text joined by '|' (a new string the caller
//  frees); destroys the message
char *
    zg_rtest_text (zmsg_t **msg_p);

//  Self test of this class
void
    zg_rtest_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
