/*  =========================================================================
    zg_rtest - the wire helpers of the rooms actor's self test
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rtest.h"
#include "zg_mpjson.h"

//  --------------------------------------------------------------------------

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
            zsys_error ("zg_rtest: expected '%s', got '%s'", expected, actual);
            free (actual);
            assert (false);
        }
        frame = zmsg_next (msg);
    }
    va_end (args);
    zmsg_destroy (msg_p);
}

//  --------------------------------------------------------------------------
//  A new logical client's id

char *
zg_rtest_hello (zsock_t *client, const char *req)
{
    zmsg_t *answer = zg_rtest_request (client, "HELLO", req, NULL);
    assert (answer && zmsg_size (answer) == 3);
    char *id = zframe_strdup (zmsg_last (answer));
    zmsg_destroy (&answer);
    return id;
}

//  --------------------------------------------------------------------------

char *
zg_rtest_text (zmsg_t **msg_p)
{
    assert (msg_p && *msg_p);
    char *text = zmsg_popstr (*msg_p);
    for (char *frame = zmsg_popstr (*msg_p); frame; frame = zmsg_popstr (*msg_p)) {
        char *joined = zsys_sprintf ("%s|%s", text, frame);
        zstr_free (&text);
        zstr_free (&frame);
        text = joined;
    }
    zmsg_destroy (msg_p);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rtest_test (bool verbose)
{
    printf (" * zg_rtest: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zsock_t *server = zsock_new_router ("inproc://zg-rtest");
    zsock_t *client = zsock_new_dealer (">inproc://zg-rtest");
    zsock_set_rcvtimeo (client, 1000);
    //  The server answers each request with OK, its req and a map {"n": [1, 2]}
    zstr_sendx (client, "PEEK", "1", NULL);
    zmsg_t *request = zmsg_recv (server);
    assert (request && zmsg_size (request) == 3);
    zframe_t *routing = zmsg_pop (request);
    zmsg_destroy (&request);
    zmsg_t *answer = zmsg_new ();
    zmsg_append (answer, &routing);
    zmsg_addstr (answer, "OK");
    zmsg_addstr (answer, "1");
    zmsg_addmem (answer, "\x82\xa1n\x92\x01\x02\xa1m\x07", 9);
    zmsg_send (&answer, server);
    answer = zmsg_recv (client);
    assert (zg_mpjson_map_int (zmsg_last (answer), "n") == 2);
    assert (zg_mpjson_map_int (zmsg_last (answer), "m") == 7);
    assert (zg_mpjson_map_int (zmsg_last (answer), "absent") == -1);
    zg_rtest_expect (&answer, "OK", "", NULL);
    assert (answer == NULL);
    answer = zmsg_new ();
    zmsg_addstr (answer, "OK");
    zmsg_addstr (answer, "1");
    char *text = zg_rtest_text (&answer);
    assert (streq (text, "OK|1") && answer == NULL);
    zstr_free (&text);
    //  No answer within the timeout is NULL
    zsock_set_rcvtimeo (client, 10);
    assert (zg_rtest_request (client, "PING", "2", NULL) == NULL);
    zsock_destroy (&client);
    zsock_destroy (&server);
    //  @end
    printf ("OK\n");
}
