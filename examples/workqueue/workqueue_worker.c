//  workqueue_worker - a worker serving the queues fibonacci, arithmetic,
//  reverse and encoder (see workqueue_ops.h) until Ctrl-C.
//
//      ./workqueue_worker [endpoint [worker-id [prefetch]]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "workqueue_ops.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 3, "[endpoint [worker-id [prefetch]]]",
                  "Serves the queues fibonacci, arithmetic, reverse and encoder until Ctrl-C, on zgate's\n"
                  "workers endpoint [tcp://127.0.0.1:5563], holding prefetch [1] tasks at once.");
    const char *endpoint = argc > 1? argv [1]: "tcp://127.0.0.1:5563";
    char default_id [32];
    snprintf (default_id, sizeof default_id, "worker-%d", (int) getpid ());
    const char *id = argc > 2? argv [2]: default_id;
    int prefetch = argc > 3? atoi (argv [3]): 1;
    if (prefetch < 1) {
        fprintf (stderr, "workqueue_worker: prefetch must be at least 1\n");
        return 1;
    }
    zg_worker_t *worker = zg_worker_new_secure (endpoint, id, prefetch,
                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!worker) {
        fprintf (stderr, "workqueue_worker: invalid endpoint %s\n", endpoint);
        return 1;
    }
    workqueue_ops_register (worker);
    printf ("worker %s serving fibonacci, arithmetic, reverse, encoder at %s\n", id, endpoint);
    fflush (stdout);
    int rc = zg_worker_run (worker);
    if (rc)
        fprintf (stderr, "workqueue_worker: %d %s\n", zg_worker_code (worker), zg_worker_reason (worker));
    printf ("worker %s handled %" PRIu64 " tasks\n", id, zg_worker_handled (worker));
    zg_worker_destroy (&worker);
    return rc? 1: 0;
}
