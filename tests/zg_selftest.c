/*  =========================================================================
    zg_selftest - runs the self tests of zgate's classes

    zg_selftest [--verbose] [--list] [--test NAME]
    =========================================================================
*/

#include "zgate.h"
#include "zg_client.h"
#include "zg_tasks.h"
#include "zg_mpreader.h"
#include "zg_taskq.h"
#include "zg_dirlock.h"
#include "zg_qrecord.h"
#include "zg_qstore.h"
#include "zg_qworkers.h"
#include "zg_producer.h"
#include "zg_worker.h"
#include "zg_codec.h"
#include "zg_session.h"
#include "zg_pull.h"
#include "zg_metrics.h"
#include "zg_http.h"
#include "zg_topicmap.h"
#include "zg_pending.h"
#include "zg_roomq.h"
#include "zg_member.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_test_t;

static const s_test_t s_tests [] = {
    { "zg_config", zg_config_test },
    { "zg_actor", zg_actor_test },
    { "zg_topics", zg_topics_test },
    { "zg_tasks", zg_tasks_test },
    { "zg_mpreader", zg_mpreader_test },
    { "zg_taskq", zg_taskq_test },
    { "zg_dirlock", zg_dirlock_test },
    { "zg_qrecord", zg_qrecord_test },
    { "zg_qstore", zg_qstore_test },
    { "zg_qworkers", zg_qworkers_test },
    { "zg_queues", zg_queues_test },
    { "zg_client", zg_client_test },
    { "zg_producer", zg_producer_test },
    { "zg_worker", zg_worker_test },
    { "zg_roomq", zg_roomq_test },
    { "zg_rooms", zg_rooms_test },
    { "zg_room_producer", zg_room_producer_test },
    { "zg_member", zg_member_test },
    { "zg_codec", zg_codec_test },
    { "zg_session", zg_session_test },
    { "zg_pull", zg_pull_test },
    { "zg_metrics", zg_metrics_test },
    { "zg_http", zg_http_test },
    { "zg_topicmap", zg_topicmap_test },
    { "zg_pending", zg_pending_test },
    { "zg_gateway", zg_gateway_test },
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    bool verbose = false;
    const char *only = NULL;
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--verbose") || streq (argv [index], "-v"))
            verbose = true;
        else
        if (streq (argv [index], "--list")) {
            for (const s_test_t *test = s_tests; test->name; test++)
                puts (test->name);
            return 0;
        }
        else
        if (streq (argv [index], "--test") && index + 1 < argc)
            only = argv [++index];
        else {
            fprintf (stderr, "usage: zg_selftest [--verbose] [--list] [--test NAME]\n");
            return 2;
        }
    }
    int ran = 0;
    for (const s_test_t *test = s_tests; test->name; test++)
        if (!only || streq (only, test->name)) {
            test->test (verbose);
            ran++;
        }
    if (ran == 0) {
        fprintf (stderr, "zg_selftest: no test named '%s'\n", only);
        return 2;
    }
    zsys_shutdown ();
    return 0;
}
