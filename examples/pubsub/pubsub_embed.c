//  pubsub_embed - the README's embedding example: the topics actor inside a
//  program that uses nothing but libzgate and czmq. One message goes from a
//  PUB socket to a SUB socket through the actor; exit 0 if it arrived.
//
//      cc pubsub_embed.c $(pkg-config --cflags --libs libzgate) -o pubsub_embed

#include "zgate.h"
#include "../example_args.h"                            //  --help, as every example

int
main (int argc, char **argv)
{
    example_args (argc, argv, 0, "", "The topics actor inside a program on libzgate alone: one message\n"
                                     "from a PUB to a SUB socket through the actor; exit 0 if it arrived.");
    zactor_t *topics = zg_topics_new (NULL, NULL);     //  No subscribe/unsubscribe hook
    char error [256];
    if (zg_actor_set (topics, "subscribers", "inproc://embed-sub", error, sizeof error)
    ||  zg_actor_set (topics, "publishers", "inproc://embed-pub", error, sizeof error)) {
        fprintf (stderr, "pubsub_embed: %s\n", error);
        zactor_destroy (&topics);
        return 1;
    }
    zsock_t *subscriber = zsock_new_sub ("inproc://embed-sub", "weather.");
    zsock_t *publisher = zsock_new_pub (">inproc://embed-pub");
    zsock_set_rcvtimeo (subscriber, 100);
    //  A PUB drops what it sends before the subscription has reached it: send
    //  until the first reading arrives, for at most five seconds
    char *topic = NULL, *text = NULL;
    for (int attempt = 0; attempt < 50 && !topic; attempt++) {
        zstr_sendx (publisher, "weather.paris", "21 C", NULL);
        zstr_recvx (subscriber, &topic, &text, NULL);
    }
    if (topic)
        printf ("pubsub_embed: %s %s\n", topic, text);
    int rc = topic? 0: 1;
    zstr_free (&topic);
    zstr_free (&text);
    char *stats = zg_actor_stats (topics);
    printf ("pubsub_embed: %s\n", stats);
    zstr_free (&stats);
    zsock_destroy (&publisher);
    zsock_destroy (&subscriber);
    zactor_destroy (&topics);
    return rc;
}
