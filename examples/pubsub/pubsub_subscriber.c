//  pubsub_subscriber - prints every message on topics starting with prefix
//  (default "weather."), received through zgate's subscribers endpoint.
//
//      ./pubsub_subscriber [prefix [endpoint]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_client.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 2, "[prefix [endpoint]]",
                  "Prints every message on the topics starting with prefix [weather.], from zgate's\n"
                  "subscribers endpoint [tcp://127.0.0.1:5560].");
    const char *prefix = argc > 1? argv [1]: "weather.";
    const char *endpoint = argc > 2? argv [2]: "tcp://127.0.0.1:5560";
    zg_client_t *client = zg_client_new_secure (NULL, endpoint,
                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!client) {
        fprintf (stderr, "pubsub_subscriber: invalid endpoint %s\n", endpoint);
        return 1;
    }
    zg_client_subscribe (client, prefix);
    printf ("subscribed to '%s' at %s\n", prefix, endpoint);
    fflush (stdout);
    while (!zsys_interrupted) {
        char *topic;
        zframe_t *payload;
        if (zg_client_recv (client, &topic, &payload, 500) == 0) {
            printf ("%s: %.*s\n", topic, (int) zframe_size (payload), (char *) zframe_data (payload));
            fflush (stdout);
            zstr_free (&topic);
            zframe_destroy (&payload);
        }
    }
    zg_client_destroy (&client);
    return 0;
}
