//  pubsub_server - a topics server in a dozen lines: what zgate does for topics,
//  composed from libzgate. Publishers connect to 5561, subscribers to 5560.
//
//      ./pubsub_server [subscribers-endpoint publishers-endpoint]

#include "zgate.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 2, "[subscribers-endpoint publishers-endpoint]",
                  "A topics server on libzgate: subscribers connect to [tcp://127.0.0.1:5560], publishers to\n"
                  "[tcp://127.0.0.1:5561]. Give both endpoints or neither.");
    const char *subscribers = argc > 2? argv [1]: "tcp://127.0.0.1:5560";
    const char *publishers = argc > 2? argv [2]: "tcp://127.0.0.1:5561";
    zactor_t *topics = zg_topics_new (NULL, NULL);
    char error [256];
    if (zg_actor_set (topics, "subscribers", subscribers, error, sizeof error)
    ||  zg_actor_set (topics, "publishers", publishers, error, sizeof error)) {
        fprintf (stderr, "pubsub_server: %s\n", error);
        zactor_destroy (&topics);
        return 2;
    }
    printf ("pubsub_server: subscribers connect to %s, publishers to %s; Ctrl-C to stop\n",
            subscribers, publishers);
    while (!zsys_interrupted)
        zclock_sleep (100);
    char *stats = zg_actor_stats (topics);
    printf ("pubsub_server: %s\n", stats);
    zstr_free (&stats);
    zactor_destroy (&topics);
    return 0;
}
