//  workqueue_producer - sends one task of each reference type and prints
//  each reply (start workqueue_worker first, or the tasks wait and time out).
//
//      ./workqueue_producer [endpoint]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_producer.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 1, "[endpoint]",
                  "Sends one task of each reference type (fibonacci, arithmetic, reverse, encoder) to zgate's\n"
                  "producers endpoint [tcp://127.0.0.1:5562] and prints each reply.");
    const char *endpoint = argc > 1? argv [1]: "tcp://127.0.0.1:5562";
    zg_producer_t *producer = zg_producer_new_secure (endpoint,
                                                      getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!producer) {
        fprintf (stderr, "workqueue_producer: invalid endpoint %s\n", endpoint);
        return 1;
    }
    const char *tasks [][2] = {
        { "fibonacci", "20" },
        { "arithmetic", "5 + 12 / 6 - 7 * 9" },
        { "reverse", "hello, world" },
        { "encoder", "secret" },
        { "arithmetic", "1 +" }
    };
    for (size_t index = 0; index < sizeof tasks / sizeof tasks [0]; index++) {
        zframe_t *reply;
        if (zg_producer_request (producer, tasks [index][0], tasks [index][1], strlen (tasks [index][1]),
                                 5000, &reply) == 0) {
            printf ("%s(%s) = %.*s\n", tasks [index][0], tasks [index][1], (int) zframe_size (reply),
                    (char *) zframe_data (reply));
            zframe_destroy (&reply);
        }
        else {
            printf ("%s(%s): error %d %s\n", tasks [index][0], tasks [index][1], zg_producer_code (producer),
                    zg_producer_reason (producer));
        }
    }
    zg_producer_destroy (&producer);
    return 0;
}
