/*  =========================================================================
    zg_rtest - the wire helpers of the rooms actor's self test

    Test code only, kept out of zg_rooms.c so that the actor stays one
    readable file; nothing but the self tests calls it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rtest.h"

//  --------------------------------------------------------------------------
//  Send a request and return the answer's frames

zmsg_t *
zg_rtest_request (zsock_t *client, const char *first, ...)
{
    zmsg_t *request = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (request, frame);
    va_end (args);
    zmsg_send (&request, client);
    return zmsg_recv (client);
}

//  --------------------------------------------------------------------------
//  Expect [command][frame 1]...; frames given as "" are not checked

void
zg_rtest_expect (zmsg_t **msg_p, const char *first, ...)
{
    zmsg_t *msg = *msg_p;
    assert (msg);
    va_list args;
    va_start (args, first);
    zframe_t *frame = zmsg_first (msg);
    for (const char *expected = first; expected; expected = va_arg (args, const char *)) {
        assert (frame);
        if (*expected && !zframe_streq (frame, expected)) {
            char *actual = zframe_strdup (frame);
            zsys_error ("zg_rooms test: expected '%s', got '%s'", expected, actual);
            free (actual);
            assert (false);
        }
        frame = zmsg_next (msg);
    }
    va_end (args);
    zmsg_destroy (msg_p);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rtest_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_rtest: ");
    zsock_t *server = zsock_new_router ("inproc://zg-rtest");
    zsock_t *client = zsock_new_dealer (">inproc://zg-rtest");
    zstr_sendx (client, "HELLO", "1", NULL);
    zmsg_t *msg = zmsg_recv (server);
    zframe_t *routing = zmsg_pop (msg);
    zmsg_destroy (&msg);
    zmsg_t *answer = zmsg_new ();
    zmsg_append (answer, &routing);
    zmsg_addstr (answer, "OK");
    zmsg_addstr (answer, "2");
    zmsg_addstr (answer, "id");
    //  The answer is queued before the request that waits for it
    zmsg_send (&answer, server);
    answer = zg_rtest_request (client, "PING", "2", NULL);
    zg_rtest_expect (&answer, "OK", "", "id", NULL);
    assert (answer == NULL);
    msg = zmsg_recv (server);
    assert (msg && zmsg_size (msg) == 3);
    zmsg_destroy (&msg);
    zsock_destroy (&client);
    zsock_destroy (&server);
    printf ("OK\n");
}
