//  workqueue_simulator - qmanager's simulator: runs workers (threads) for the
//  four reference operations and adds a random task every delay ms, printing
//  each outcome, until Ctrl-C.
//
//      ./workqueue_simulator [producers-endpoint [workers-endpoint [delay-ms [workers]]]]

#include "workqueue_ops.h"
#include "zg_producer.h"
#include "../example_args.h"

//  Most workers the simulator starts
#define SIMULATOR_MAX_WORKERS 64

//  A worker thread: serves until the process is interrupted
static void *
s_worker_thread (void *args)
{
    zg_worker_t *worker = (zg_worker_t *) args;
    zg_worker_run (worker);
    return NULL;
}

//  A random string of [a-zA-Z1-9], 0 to 49 characters, as qmanager's
static void
s_random_text (char *buffer)
{
    static const char alphabet [] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ123456789";
    int length = randof (50);
    for (int index = 0; index < length; index++)
        buffer [index] = alphabet [randof ((int) strlen (alphabet))];
    buffer [length] = 0;
}

int
main (int argc, char **argv)
{
    example_args (argc, argv, 4, "[producers-endpoint [workers-endpoint [delay-ms [workers]]]]",
                  "Runs workers [2] for the four reference operations and adds a random task every delay-ms\n"
                  "[1000], printing each outcome, until Ctrl-C. Endpoints [tcp://127.0.0.1:5562] and\n"
                  "[tcp://127.0.0.1:5563].");
    const char *producers = argc > 1? argv [1]: "tcp://127.0.0.1:5562";
    const char *workers = argc > 2? argv [2]: "tcp://127.0.0.1:5563";
    int delay = argc > 3? atoi (argv [3]): 1000;
    int count = argc > 4? atoi (argv [4]): 2;
    if (count < 1 || count > SIMULATOR_MAX_WORKERS || delay < 0) {
        fprintf (stderr, "workqueue_simulator: 1 to %d workers and a delay >= 0, please\n", SIMULATOR_MAX_WORKERS);
        return 1;
    }
    zg_producer_t *producer = zg_producer_new (producers);
    if (!producer) {
        fprintf (stderr, "workqueue_simulator: invalid endpoint %s\n", producers);
        return 1;
    }
    zg_worker_t *pool [SIMULATOR_MAX_WORKERS];
    pthread_t threads [SIMULATOR_MAX_WORKERS];
    for (int index = 0; index < count; index++) {
        char id [32];
        snprintf (id, sizeof id, "simulator-%d-%d", (int) getpid (), index);
        pool [index] = zg_worker_new (workers, id, 1);
        assert (pool [index]);
        workqueue_ops_register (pool [index]);
        pthread_create (&threads [index], NULL, s_worker_thread, pool [index]);
    }
    const char *types [] = { "fibonacci", "arithmetic", "reverse", "encoder" };
    const char *operators = "+-*/";
    uint64_t sent = 0;
    while (!zsys_interrupted) {
        const char *type = types [randof (4)];
        char input [256] = "";
        if (streq (type, "fibonacci"))
            snprintf (input, sizeof input, "%d", randof (20));
        else
        if (streq (type, "arithmetic"))
            for (int part = 0; part < 5; part++) {
                size_t used = strlen (input);
                snprintf (input + used, sizeof input - used, "%s%d %c %d", part? " + ": "", randof (100),
                          operators [randof (4)], 1 + randof (99));
            }
        else
            s_random_text (input);
        zframe_t *reply;
        if (zg_producer_request (producer, type, input, strlen (input), 5000, &reply) == 0) {
            printf ("#%" PRIu64 " %s(%s) = %.*s\n", ++sent, type, input, (int) zframe_size (reply),
                    (char *) zframe_data (reply));
            zframe_destroy (&reply);
        }
        else
        if (!zsys_interrupted)
            printf ("#%" PRIu64 " %s(%s): error %d %s\n", ++sent, type, input, zg_producer_code (producer),
                    zg_producer_reason (producer));
        fflush (stdout);
        zclock_sleep (delay);
    }
    for (int index = 0; index < count; index++) {
        pthread_join (threads [index], NULL);
        zg_worker_destroy (&pool [index]);
    }
    zg_producer_destroy (&producer);
    return 0;
}
