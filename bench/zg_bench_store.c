/*  =========================================================================
    zg_bench_store - commit rate of the durable task stores (zg_qlogstore,
    zg_qstore)

        zg_bench_store [--dir DIR] [--seconds S] [--size B] [--store log|lmdb]

    For group commits of 1, 10 and 100 new tasks of B bytes (default 100),
    as the queues actor makes them (one write transaction per loop pass),
    measures commits/s, records/s and the mean and worst commit time for S
    seconds each (default 3), for the log store and the LMDB store (or the
    one --store names). Each run gets a fresh store in a new directory
    under DIR (default: the current directory), removed after. Both stores
    make every commit durable (the log syncs once, LMDB twice), so this
    measures the disk's sync rate as much as the code.
    =========================================================================
*/

#include "zgate.h"
#include "zg_tasks.h"
#include "zg_qstore.h"
#include "zg_qlogstore.h"

//  One store of either kind
typedef struct {
    zg_qlogstore_t *log;
    zg_qstore_t *lmdb;
} s_store_t;

//  Call the open store's function name
#define S_STORE(store, name, ...) ZG_QLOGSTORE_EITHER ((store).log, (store).lmdb, name, ##__VA_ARGS__)

//  Remove a store directory made by the benchmark
static void
s_remove (const char *dir)
{
    zdir_t *files = zdir_new (dir, NULL);
    if (files)
        zdir_remove (files, true);
    zdir_destroy (&files);
}

//  Measure one group size; returns 0, or -1 after printing why
static int
s_measure (const char *parent, const char *kind, int64_t group, int64_t seconds, size_t size)
{
    char dir [PATH_MAX];
    snprintf (dir, sizeof dir, "%s/zg_bench_store_XXXXXX", parent);
    if (!mkdtemp (dir)) {
        fprintf (stderr, "zg_bench_store: cannot make a directory in %s: %s\n", parent, strerror (errno));
        return -1;
    }
    zg_qstore_options_t options = { ZG_QSTORE_DEFAULT_SIZE, false };
    char error [256];
    s_store_t store = { NULL, NULL };
    if (streq (kind, "log"))
        store.log = zg_qlogstore_open (dir, &options, error, sizeof error);
    else
        store.lmdb = zg_qstore_open (dir, &options, error, sizeof error);
    if (!store.log && !store.lmdb) {
        fprintf (stderr, "zg_bench_store: %s\n", error);
        rmdir (dir);
        return -1;
    }
    char *payload = (char *) malloc (size + 1);
    memset (payload, 'x', size);
    zg_qrecord_t record = {
        .queue = "bench", .queue_size = 5, .state = ZG_TASK_WAITING, .ack_timeout = 30000,
        .reply_timeout = 5000, .payload = payload, .payload_size = size
    };
    int64_t commits = 0, worst = 0, total = 0;
    int64_t start = zclock_usecs ();
    int64_t end = start + seconds * 1000000;
    int rc = 0;
    while (rc == 0 && zclock_usecs () < end) {
        for (int64_t index = 0; rc == 0 && index < group; index++) {
            record.id = S_STORE (store, next_id);
            record.created = zclock_time ();
            rc = S_STORE (store, put, &record);
        }
        int64_t before = zclock_usecs ();
        if (rc == 0)
            rc = S_STORE (store, commit);
        int64_t took = zclock_usecs () - before;
        total += took;
        if (took > worst)
            worst = took;
        commits++;
    }
    double elapsed = (double) (zclock_usecs () - start) / 1e6;
    if (rc)
        fprintf (stderr, "zg_bench_store: %s\n", S_STORE (store, error));
    else
        printf ("%-4s group %4" PRId64 " x %zu B: %8.0f commits/s %9.0f records/s  commit mean %.3f ms, worst %.3f ms\n",
                kind, group, size, (double) commits / elapsed, (double) (commits * group) / elapsed,
                (double) total / (double) commits / 1000.0, (double) worst / 1000.0);
    free (payload);
    zg_qlogstore_destroy (&store.log);
    zg_qstore_destroy (&store.lmdb);
    s_remove (dir);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *dir = ".", *only = NULL;
    int64_t seconds = 3, size = 100;
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--dir") && index + 1 < argc)
            dir = argv [++index];
        else
        if (streq (argv [index], "--seconds") && index + 1 < argc && atoll (argv [index + 1]) > 0)
            seconds = atoll (argv [++index]);
        else
        if (streq (argv [index], "--size") && index + 1 < argc && atoll (argv [index + 1]) > 0)
            size = atoll (argv [++index]);
        else
        if (streq (argv [index], "--store") && index + 1 < argc
        &&  (streq (argv [index + 1], "log") || streq (argv [index + 1], "lmdb")))
            only = argv [++index];
        else {
            fprintf (stderr, "usage: zg_bench_store [--dir DIR] [--seconds S] [--size B] [--store log|lmdb]\n");
            return 2;
        }
    }
    const int64_t groups [] = { 1, 10, 100 };
    const char *kinds [] = { "log", "lmdb" };
    for (size_t index = 0; index < 3; index++)
        for (size_t kind = 0; kind < 2; kind++)
            if ((!only || streq (only, kinds [kind]))
            &&  s_measure (dir, kinds [kind], groups [index], seconds, (size_t) size))
                return 1;
    return 0;
}
