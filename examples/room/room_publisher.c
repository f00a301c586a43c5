//  room_publisher - sends one message per second to a room, with a priority.
//
//      ./room_publisher [room [priority [endpoint]]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_room_producer.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 3, "[room [priority [endpoint]]]",
                  "Sends one message per second to a room [lobby] with a priority [0], through zgate's rooms\n"
                  "endpoint [tcp://127.0.0.1:5564].");
    const char *room = argc > 1? argv [1]: "lobby";
    int64_t priority = argc > 2? atoll (argv [2]): 0;
    const char *endpoint = argc > 3? argv [3]: "tcp://127.0.0.1:5564";
    zg_room_producer_t *producer = zg_room_producer_new_secure (endpoint, 2000,
                                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!producer) {
        fprintf (stderr, "room_publisher: invalid endpoint %s\n", endpoint);
        return 1;
    }
    for (int count = 1; !zsys_interrupted; count++) {
        char text [64];
        snprintf (text, sizeof text, "message %d at %" PRId64, count, zclock_time ());
        uint64_t seq;
        if (zg_room_producer_send (producer, room, priority, text, strlen (text), &seq) == 0)
            printf ("sent #%" PRIu64 " to '%s' (priority %" PRId64 "): %s\n", seq, room, priority, text);
        else
            printf ("send failed: %s\n", zg_room_producer_error (producer));
        fflush (stdout);
        zclock_sleep (1000);
    }
    zg_room_producer_destroy (&producer);
    return 0;
}
