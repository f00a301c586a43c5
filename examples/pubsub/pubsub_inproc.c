//  pubsub_inproc - one C program composing the topics actor in-process: a
//  subscriber hook welcomes each subscription, a publisher and a subscriber
//  talk over inproc, and the actor's counters are printed at the end.

#include "zgate.h"
#include "zg_client.h"
#include "../example_args.h"

static zmsg_t *
s_welcome (bool subscribed, const char *prefix, void *hook_arg)
{
    (void) hook_arg;
    printf ("hook: %s '%s'\n", subscribed? "subscribed to": "unsubscribed from", prefix);
    if (!subscribed)
        return NULL;
    zmsg_t *welcome = zmsg_new ();
    zmsg_addstr (welcome, prefix);
    zmsg_addstrf (welcome, "welcome to %s", prefix);
    return welcome;
}

int
main (int argc, char **argv)
{
    example_args (argc, argv, 0, "",
                  "The topics actor, a publisher and a subscriber in one process over inproc, with a hook that\n"
                  "welcomes each subscription; prints the actor's counters at the end.");
    zactor_t *topics = zg_topics_new (s_welcome, NULL);
    char error [256];
    if (zg_actor_set (topics, "subscribers", "inproc://example-sub", error, sizeof error)
    ||  zg_actor_set (topics, "publishers", "inproc://example-pub", error, sizeof error)) {
        fprintf (stderr, "pubsub_inproc: %s\n", error);
        zactor_destroy (&topics);
        return 1;
    }
    zg_client_t *subscriber = zg_client_new (NULL, "inproc://example-sub");
    zg_client_subscribe (subscriber, "chat.");
    zg_client_t *publisher = zg_client_new ("inproc://example-pub", NULL);
    zg_client_wait_connected (publisher, 1000);

    char *topic;
    zframe_t *payload;
    //  The welcome shows that our subscription has reached the actor
    if (zg_client_recv (subscriber, &topic, &payload, 1000) == 0) {
        printf ("%s: %.*s\n", topic, (int) zframe_size (payload), (char *) zframe_data (payload));
        zstr_free (&topic);
        zframe_destroy (&payload);
    }
    for (int index = 1; index <= 3; index++) {
        char text [32];
        snprintf (text, sizeof text, "message %d", index);
        zg_client_publish_str (publisher, "chat.lobby", text);
    }
    for (int index = 1; index <= 3 && zg_client_recv (subscriber, &topic, &payload, 1000) == 0; index++) {
        printf ("%s: %.*s\n", topic, (int) zframe_size (payload), (char *) zframe_data (payload));
        zstr_free (&topic);
        zframe_destroy (&payload);
    }
    char *stats = zg_actor_stats (topics);
    printf ("stats: %s\n", stats);
    zstr_free (&stats);
    zg_client_destroy (&publisher);
    zg_client_destroy (&subscriber);
    zactor_destroy (&topics);
    return 0;
}
