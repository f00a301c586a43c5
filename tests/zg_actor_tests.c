/*  =========================================================================
    zg_actor_tests - self tests that drive a class through the actor above it

    A class below an actor that tests itself through that actor would include
    the actor, and the actor includes the class: a circle of files. These
    tests live outside patterns/ so the classes do not depend on their actors.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_actor_tests.h"
#include "zg_history.h"
#include "zg_connwatch.h"
#include "zg_qtest.h"

//  --------------------------------------------------------------------------
//  Self test helper: send a request on a DEALER and return the answer's frames after [verb]
//  [req] joined by '|', the caller's
static char *
s_test_ask (zsock_t *dealer, const char *verb, const char *topic, const char *since, const char *epoch)
{
    if (since)
        zstr_sendx (dealer, verb, "r", topic, since, epoch, NULL);
    else
        zstr_sendx (dealer, verb, "r", topic, NULL);
    zmsg_t *answer = zmsg_recv (dealer);
    assert (answer);
    char *verb_answered = zmsg_popstr (answer);
    char *req = zmsg_popstr (answer);
    assert (streq (req, "r"));
    char *text = (char *) zmalloc (1024);
    strcat (text, verb_answered);
    for (zframe_t *frame = zmsg_first (answer); frame; frame = zmsg_next (answer)) {
        strcat (text, "|");
        strncat (text, (const char *) zframe_data (frame), zframe_size (frame));
    }
    zstr_free (&verb_answered);
    zstr_free (&req);
    zmsg_destroy (&answer);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test of zg_topics_history: the history endpoint, driven through a
//  topics actor (its thread runs that class)

void
zg_topics_history_test (bool verbose)
{
    printf (" * zg_topics_history: ");
    //  @selftest
    zactor_t *topics = zg_topics_new (NULL, NULL);
    char error [256];
    assert (zg_actor_set (topics, "history", "news.*", error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_actor_set (topics, "history-max-bytes", "-1", error, sizeof error) == -1);
    assert (zg_actor_set (topics, "history", "news.* 3; chat.* 1h", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "history-max-bytes", "1000000", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "subscribers", "inproc://zg-th-test-sub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "publishers", "inproc://zg-th-test-pub", error, sizeof error) == 0);
    assert (zg_actor_set (topics, "inproc-history-requests", "inproc://zg-th-test-history", error,
                          sizeof error) == 0);
    zsock_t *subscriber = zsock_new_sub (">inproc://zg-th-test-sub", "");
    zsock_t *publisher = zsock_new_pub (">inproc://zg-th-test-pub");
    zsock_t *dealer = zsock_new_dealer (">inproc://zg-th-test-history");
    zsock_set_rcvtimeo (subscriber, 2000);
    zsock_set_rcvtimeo (dealer, 2000);
    //  Publishers reach zgate once their subscription arrived: wait for a probe
    zmsg_t *msg = NULL;
    while (!msg) {
        zstr_sendx (publisher, "probe", "x", NULL);
        zsock_set_rcvtimeo (subscriber, 10);
        msg = zmsg_recv (subscriber);
    }
    zmsg_destroy (&msg);
    zsock_set_rcvtimeo (subscriber, 2000);
    //  A remembered topic's messages carry "seq epoch": here, to an
    //  in-process subscriber, after a NUL in the topic frame
    for (int index = 1; index <= 5; index++) {
        char payload [8];
        snprintf (payload, sizeof payload, "m%d", index);
        zstr_sendx (publisher, "news.a", payload, NULL);
    }
    zstr_sendx (publisher, "other", "o", NULL);
    char epoch [ZG_HISTORY_EPOCH_SIZE] = "";
    for (int index = 1; index <= 6; index++) {
        msg = zmsg_recv (subscriber);
        assert (msg);
        if (zframe_streq (zmsg_first (msg), "probe")) {
            zmsg_destroy (&msg);
            index--;
            continue;
        }
        zframe_t *topic = zmsg_first (msg);
        assert (zmsg_size (msg) == 2);
        if (index <= 5) {
            assert (zframe_size (topic) == 7 + 18 && memcmp (zframe_data (topic), "news.a", 7) == 0);
            char *seq = zframe_strdup (topic);
            memmove (seq, seq + 7, 18 + 1);
            assert (atoi (seq) == index && seq [1] == ' ');
            strcpy (epoch, seq + 2);
            zstr_free (&seq);
        }
        else
            assert (zframe_streq (topic, "other"));
        zmsg_destroy (&msg);
    }
    //  Reads: since a kept position, since a lost one, from another epoch
    char expected [256];
    char *answer = s_test_ask (dealer, "HISTORY", "news.a", "3", epoch);
    snprintf (expected, sizeof expected, "HISTORY|%s|5|1|4|m4|5|m5", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.a", "5", epoch);
    snprintf (expected, sizeof expected, "HISTORY|%s|5|1", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.a", "1", epoch);
    snprintf (expected, sizeof expected, "HISTORY|%s|5|0|3|m3|4|m4|5|m5", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.a", "4", "0123456789abcdef");
    snprintf (expected, sizeof expected, "HISTORY|%s|5|0|3|m3|4|m4|5|m5", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.b", "0", "");
    assert (streq (answer, "HISTORY||0|1"));
    zstr_free (&answer);
    answer = s_test_ask (dealer, "LAST", "news.a", NULL, NULL);
    snprintf (expected, sizeof expected, "LAST|%s|5|1|5|m5", epoch);
    assert (streq (answer, expected));
    zstr_free (&answer);
    //  Bad requests get ERROR with a reason
    answer = s_test_ask (dealer, "LAST", "other", NULL, NULL);
    assert (strncmp (answer, "ERROR|404|", 10) == 0);
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.a", "x", "");
    assert (strncmp (answer, "ERROR|400|", 10) == 0);
    zstr_free (&answer);
    answer = s_test_ask (dealer, "FETCH", "news.a", NULL, NULL);
    assert (strncmp (answer, "ERROR|405|", 10) == 0);
    zstr_free (&answer);
    answer = s_test_ask (dealer, "HISTORY", "news.a", NULL, NULL);
    assert (strncmp (answer, "ERROR|400|", 10) == 0);
    zstr_free (&answer);
    assert (zg_actor_stat (topics, NULL, NULL, "history_messages") == 3);
    assert (zg_actor_stat (topics, NULL, NULL, "history_requests") == 6);
    assert (zg_actor_stat (topics, NULL, NULL, "history_refused") == 4);
    //  topics/data-dir: set once; a directory that cannot be made is refused
    char dir [] = "/tmp/zg-topics-test-XXXXXX";
    assert (mkdtemp (dir));
    assert (zg_actor_set (topics, "data-dir", "/proc/no/such", error, sizeof error) == -1);
    assert (zg_actor_set (topics, "data-dir", dir, error, sizeof error) == 0);
    assert (zg_actor_set (topics, "data-dir", dir, error, sizeof error) == 0);
    assert (zg_actor_set (topics, "data-dir", "", error, sizeof error) == -1);
    assert (strstr (error, "restart only"));

    zsock_destroy (&dealer);
    zsock_destroy (&publisher);
    zsock_destroy (&subscriber);
    zactor_destroy (&topics);
    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
    //  @end
    printf ("OK\n");
}


//  --------------------------------------------------------------------------
//  Self test of zg_inflight through the queues actor's ROUTER

void
zg_inflight_queues_test (bool verbose)
{
    printf (" * zg_inflight_queues: ");
    //  @selftest
    //  zg_routebytes_bound: a worker on
    //  inproc that reads nothing holds DELIVERs up to max-connection-output;
    //  the rest are refused as at its high-water mark and counted
    int64_t limit = zg_connwatch_max_output ();
    zg_connwatch_set_max_output (1 << 20);
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "producers", "inproc://zg-inflight-test-producers", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "workers", "inproc://zg-inflight-test-workers", error, sizeof error) == 0);
    zsock_t *producer = zsock_new_dealer (">inproc://zg-inflight-test-producers");
    zsock_t *worker = zsock_new_dealer (">inproc://zg-inflight-test-workers");
    zsock_set_rcvtimeo (worker, 2000);
    zg_qtest_send_options (worker, "READY", "w1", zg_qtest_options ("queues", "[jobs", "prefetch", "10", NULL), NULL);
    zg_qtest_expect_done (worker, "OK", "w1", NULL);
    //  Ten tasks of 256 KiB: three DELIVERs fit in 1 MiB, seven are refused
    size_t size = 256 * 1024;
    char *payload = (char *) malloc (size + 1);
    assert (payload);
    memset (payload, 'x', size);
    payload [size] = 0;
    for (int index = 0; index < 10; index++)
        zstr_sendx (producer, "SEND", "", "jobs", "", payload, NULL);
    int64_t deadline = zclock_mono () + 5000;
    while (zg_actor_stat (queues, NULL, NULL, "unroutable") < 7 && zclock_mono () < deadline)
        zclock_sleep (10);
    assert (zg_actor_stat (queues, NULL, NULL, "unroutable") == 7);
    assert (zg_actor_stat (queues, "queues", "jobs", "in_progress") == 10);
    zsock_set_rcvtimeo (worker, 200);
    size_t delivered = 0;
    zmsg_t *delivery;
    while ((delivery = zmsg_recv (worker))) {
        char *command = zmsg_popstr (delivery);
        assert (streq (command, "DELIVER") && zframe_size (zmsg_last (delivery)) == size);
        zstr_free (&command);
        zmsg_destroy (&delivery);
        delivered++;
    }
    assert (delivered == 3);
    zsock_destroy (&worker);
    zsock_destroy (&producer);
    zactor_destroy (&queues);
    free (payload);
    zg_connwatch_set_max_output (limit);
    if (verbose)
        printf ("(inproc) ");
    //  @end
    printf ("OK\n");
}
