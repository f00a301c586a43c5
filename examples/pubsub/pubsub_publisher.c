//  pubsub_publisher - publishes a numbered message on "weather.<city>" every
//  200 ms (count messages, 0 for ever) through zgate's publishers endpoint.
//
//      ./pubsub_publisher [endpoint [count]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_client.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 2, "[endpoint [count]]",
                  "Publishes a numbered reading on weather.<city> every 200 ms through zgate's publishers\n"
                  "endpoint [tcp://127.0.0.1:5561], count messages [0: for ever].");
    const char *endpoint = argc > 1? argv [1]: "tcp://127.0.0.1:5561";
    long count = argc > 2? atol (argv [2]): 0;
    const char *cities [] = { "paris", "lima", "oslo" };
    zg_client_t *client = zg_client_new_secure (endpoint, NULL,
                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!client || zg_client_wait_connected (client, 5000)) {
        fprintf (stderr, "pubsub_publisher: cannot reach zgate at %s\n", endpoint);
        zg_client_destroy (&client);
        return 1;
    }
    for (long sequence = 1; !zsys_interrupted && (count == 0 || sequence <= count); sequence++) {
        char topic [64], payload [64];
        snprintf (topic, sizeof topic, "weather.%s", cities [sequence % 3]);
        snprintf (payload, sizeof payload, "#%ld %d C", sequence, (int) (sequence * 7 % 35));
        zg_client_publish_str (client, topic, payload);
        printf ("published %s %s\n", topic, payload);
        fflush (stdout);
        zclock_sleep (200);
    }
    zg_client_destroy (&client);
    return 0;
}
