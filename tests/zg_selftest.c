/*  =========================================================================
    zg_selftest - runs the self tests of zgate's classes

    zg_selftest [--verbose] [--list] [--test NAME]
    =========================================================================
*/

#include "zgate.h"
#include "zg_gateway.h"
#include "zg_client.h"
#include "zg_catchup.h"
#include "zg_wire.h"
#include "zg_history.h"
#include "zg_hstore.h"
#include "zg_topics_history.h"
#include "zg_heap.h"
#include "zg_liveness.h"
#include "zg_acl.h"
#include "zg_security.h"
#include "zg_tasks.h"
#include "zg_mpreader.h"
#include "zg_mpjson.h"
#include "zg_taskq.h"
#include "zg_dirlock.h"
#include "zg_qrecord.h"
#include "zg_qstore.h"
#include "zg_qlog.h"
#include "zg_qlogindex.h"
#include "zg_qlogstore.h"
#include "zg_qdurable.h"
#include "zg_qsyncer.h"
#include "zg_qlogcodec.h"
#include "zg_qlogcompact.h"
#include "zg_qheld.h"
#include "zg_qjournal.h"
#include "zg_qworkers.h"
#include "zg_qoptions.h"
#include "zg_qtable.h"
#include "zg_qrecent.h"
#include "zg_qoutbox.h"
#include "zg_qtest.h"
#include "zg_qseats.h"
#include "zg_qcore.h"
#include "zg_qtake.h"
#include "zg_qacks.h"
#include "zg_qsends.h"
#include "zg_qanswers.h"
#include "zg_qexpiry.h"
#include "zg_qadmin.h"
#include "zg_qttl.h"
#include "zg_request.h"
#include "zg_producer.h"
#include "zg_taker.h"
#include "zg_command.h"
#include "zg_async.h"
#include "zg_worker.h"
#include "zg_codec.h"
#include "zg_session.h"
#include "zg_pull.h"
#include "zg_pullmsg.h"
#include "zg_metrics.h"
#include "zg_process.h"
#include "zg_utf8.h"
#include "zg_budget.h"
#include "zg_tcpinfo.h"
#include "zg_subcount.h"
#include "zg_subbytes.h"
#include "zg_topics_local.h"
#include "zg_routebytes.h"
#include "zg_inflight.h"
#include "zg_actor_tests.h"
#include "zg_qbytes.h"
#include "zg_query.h"
#include "zg_http.h"
#include "zg_topicmap.h"
#include "zg_listeners.h"
#include "zg_pending.h"
#include "zg_gw_admin.h"
#include "zg_gw_routes.h"
#include "zg_token.h"
#include "zg_origins.h"
#include "zg_gw_guard.h"
#include "zg_gw_listen.h"
#include "zg_gw_mport.h"
#include "zg_gw_wake.h"
#include "zg_gw_settings.h"
#include "zg_gw_status.h"
#include "zg_gw_pull.h"
#include "zg_gw_history.h"
#include "zg_gw_message.h"
#include "zg_gw_drain.h"
#include "zg_gw_threads.h"
#include "zg_gw_publisher.h"
#include "zg_gw_accept.h"
#include "zg_gw_calls.h"
#include "zg_gw_rproxy.h"
#include "zg_wsqenv.h"
#include "zg_gw_wsqueue.h"
#include "zg_gw_presence.h"
#include "zg_roomq.h"
#include "zg_slots.h"
#include "zg_holder.h"
#include "zg_rclients.h"
#include "zg_ranswers.h"
#include "zg_room.h"
#include "zg_rbatch.h"
#include "zg_racks.h"
#include "zg_roomset.h"
#include "zg_rwatch.h"
#include "zg_rtest.h"
#include "zg_rsettings.h"
#include "zg_presence.h"
#include "zg_member.h"
#include "zg_roomproxy.h"
#include "zg_curve.h"
#include "zg_log.h"
#include "zg_redis_server.h"
#include "zg_redis.h"
#include "zg_redis_ring.h"
#include "zg_topics_link.h"
#include "zg_topics_cluster.h"
#include "zg_qscripts.h"
#include "zg_queues_link.h"
#include "zg_queues_cluster.h"
#include "zg_rooms_cdescribe.h"
#include "zg_rooms_link.h"
#include "zg_rooms_cluster.h"
#include "zg_history_cluster.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_test_t;

static const s_test_t s_tests [] = {
    { "zg_config", zg_config_test },
    { "zg_actor", zg_actor_test },
    { "zg_utf8", zg_utf8_test },
    { "zg_budget", zg_budget_test },
    { "zg_tcpinfo", zg_tcpinfo_test },
    { "zg_connwatch", zg_connwatch_test },
    { "zg_qbytes", zg_qbytes_test },
    { "zg_history", zg_history_test },
    { "zg_hstore", zg_hstore_test },
    { "zg_subcount", zg_subcount_test },
    { "zg_subbytes", zg_subbytes_test },
    { "zg_inflight", zg_inflight_test },
    { "zg_inflight_queues", zg_inflight_queues_test },
    { "zg_routebytes", zg_routebytes_test },
    { "zg_topics_local", zg_topics_local_test },
    { "zg_topics", zg_topics_test },
    { "zg_topics_history", zg_topics_history_test },
    { "zg_wire", zg_wire_test },
    { "zg_heap", zg_heap_test },
    { "zg_liveness", zg_liveness_test },
    { "zg_redis_server", zg_redis_server_test },
    { "zg_redis", zg_redis_test },
    { "zg_redis_ring", zg_redis_ring_test },
    { "zg_topics_link", zg_topics_link_test },
    { "zg_topics_cluster", zg_topics_cluster_test },
    { "zg_qscripts", zg_qscripts_test },
    { "zg_queues_link", zg_queues_link_test },
    { "zg_queues_cluster", zg_queues_cluster_test },
    { "zg_rooms_cdescribe", zg_rooms_cdescribe_test },
    { "zg_rooms_link", zg_rooms_link_test },
    { "zg_rooms_cluster", zg_rooms_cluster_test },
    { "zg_cluster", zg_cluster_test },
    { "zg_history_cluster", zg_history_cluster_test },
    { "zg_acl", zg_acl_test },
    { "zg_security", zg_security_test },
    { "zg_tasks", zg_tasks_test },
    { "zg_mpreader", zg_mpreader_test },
    { "zg_mpjson", zg_mpjson_test },
    { "zg_taskq", zg_taskq_test },
    { "zg_dirlock", zg_dirlock_test },
    { "zg_qrecord", zg_qrecord_test },
    { "zg_qstore", zg_qstore_test },
    { "zg_qlog", zg_qlog_test },
    { "zg_qlogindex", zg_qlogindex_test },
    { "zg_qlogstore", zg_qlogstore_test },
    { "zg_qworkers", zg_qworkers_test },
    { "zg_qoptions", zg_qoptions_test },
    { "zg_qtable", zg_qtable_test },
    { "zg_qrecent", zg_qrecent_test },
    { "zg_qoutbox", zg_qoutbox_test },
    { "zg_qtest", zg_qtest_test },
    { "zg_qseats", zg_qseats_test },
    { "zg_qcore", zg_qcore_test },
    { "zg_qtake", zg_qtake_test },
    { "zg_qacks", zg_qacks_test },
    { "zg_qsends", zg_qsends_test },
    { "zg_qanswers", zg_qanswers_test },
    { "zg_qexpiry", zg_qexpiry_test },
    { "zg_qadmin", zg_qadmin_test },
    { "zg_qttl", zg_qttl_test },
    { "zg_qdurable", zg_qdurable_test },
    { "zg_qsyncer", zg_qsyncer_test },
    { "zg_qlogcodec", zg_qlogcodec_test },
    { "zg_qlogcompact", zg_qlogcompact_test },
    { "zg_qheld", zg_qheld_test },
    { "zg_qjournal", zg_qjournal_test },
    { "zg_queues", zg_queues_test },
    { "zg_request", zg_request_test },
    { "zg_client", zg_client_test },
    { "zg_catchup", zg_catchup_test },
    { "zg_producer", zg_producer_test },
    { "zg_taker", zg_taker_test },
    { "zg_command", zg_command_test },
    { "zg_async", zg_async_test },
    { "zg_worker", zg_worker_test },
    { "zg_roomq", zg_roomq_test },
    { "zg_slots", zg_slots_test },
    { "zg_holder", zg_holder_test },
    { "zg_rclients", zg_rclients_test },
    { "zg_ranswers", zg_ranswers_test },
    { "zg_room", zg_room_test },
    { "zg_rbatch", zg_rbatch_test },
    { "zg_racks", zg_racks_test },
    { "zg_roomset", zg_roomset_test },
    { "zg_rwatch", zg_rwatch_test },
    { "zg_rtest", zg_rtest_test },
    { "zg_rsettings", zg_rsettings_test },
    { "zg_presence", zg_presence_test },
    { "zg_rooms", zg_rooms_test },
    { "zg_room_producer", zg_room_producer_test },
    { "zg_roomproxy", zg_roomproxy_test },
    { "zg_member", zg_member_test },
    { "zg_curve", zg_curve_test },
    { "zg_codec", zg_codec_test },
    { "zg_session", zg_session_test },
    { "zg_pullmsg", zg_pullmsg_test },
    { "zg_pull", zg_pull_test },
    { "zg_process", zg_process_test },
    { "zg_metrics", zg_metrics_test },
    { "zg_query", zg_query_test },
    { "zg_http", zg_http_test },
    { "zg_topicmap", zg_topicmap_test },
    { "zg_listeners", zg_listeners_test },
    { "zg_pending", zg_pending_test },
    { "zg_gw_answers", zg_gw_answers_test },
    { "zg_gw_history", zg_gw_history_test },
    { "zg_gw_drain", zg_gw_drain_test },
    { "zg_gw_threads", zg_gw_threads_test },
    { "zg_gw_accept", zg_gw_accept_test },
    { "zg_gw_message", zg_gw_message_test },
    { "zg_gw_publisher", zg_gw_publisher_test },
    { "zg_gw_topics", zg_gw_topics_test },
    { "zg_gw_calls", zg_gw_calls_test },
    { "zg_gw_queues", zg_gw_queues_test },
    { "zg_gw_rproxy", zg_gw_rproxy_test },
    { "zg_wsqenv", zg_wsqenv_test },
    { "zg_gw_presence", zg_gw_presence_test },
    { "zg_gw_wsqueue", zg_gw_wsqueue_test },
    { "zg_gw_rooms", zg_gw_rooms_test },
    { "zg_token", zg_token_test },
    { "zg_origins", zg_origins_test },
    { "zg_gw_guard", zg_gw_guard_test },
    { "zg_gw_listen", zg_gw_listen_test },
    { "zg_gw_admin", zg_gw_admin_test },
    { "zg_gw_routes", zg_gw_routes_test },
    { "zg_gw_mport", zg_gw_mport_test },
    { "zg_gw_wake", zg_gw_wake_test },
    { "zg_gw_settings", zg_gw_settings_test },
    { "zg_gw_status", zg_gw_status_test },
    { "zg_gw_pull", zg_gw_pull_test },
    { "zg_gateway", zg_gateway_test },
    { "zg_log", zg_log_test },
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
