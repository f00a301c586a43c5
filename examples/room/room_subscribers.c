//  room_subscribers - N clients that join a room as observers (async members):
//  they ping to stay alive and print every room message, without ever blocking
//  the room. Run room_worker next to them to ack.
//
//      ./room_subscribers [count [room [endpoint]]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_member.h"
#include "../example_args.h"

#define MAX_SUBSCRIBERS 64

int
main (int argc, char **argv)
{
    example_args (argc, argv, 3, "[count [room [endpoint]]]",
                  "count [3] observers of a room [lobby] that ping and print every message, without ever\n"
                  "blocking it, on zgate's rooms endpoint [tcp://127.0.0.1:5564].");
    int count = argc > 1? atoi (argv [1]): 3;
    const char *room = argc > 2? argv [2]: "lobby";
    const char *endpoint = argc > 3? argv [3]: "tcp://127.0.0.1:5564";
    if (count < 1 || count > MAX_SUBSCRIBERS) {
        fprintf (stderr, "room_subscribers: count must be 1 to %d\n", MAX_SUBSCRIBERS);
        return 1;
    }
    zg_member_t *members [MAX_SUBSCRIBERS] = { NULL };
    bool joined = true;
    for (int index = 0; index < count && joined; index++) {
        members [index] = zg_member_new_secure (endpoint, 1000,
                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
        joined = members [index] && zg_member_join (members [index], room, true) == 0;
        if (joined)
            printf ("client %s joined '%s'\n", zg_member_id (members [index]), room);
        else
            fprintf (stderr, "room_subscribers: cannot join '%s' at %s\n", room, endpoint);
    }
    fflush (stdout);
    while (joined && !zsys_interrupted)
        for (int index = 0; index < count; index++) {
            //  Each member pings itself while it waits in recv
            const char *event = zg_member_recv (members [index], 50);
            if (!event)
                continue;
            zframe_t *payload = zg_member_payload (members [index]);
            printf ("%s %s '%s' %.*s%s\n", zg_member_id (members [index]), event,
                    zg_member_room (members [index]) ? zg_member_room (members [index]): "",
                    payload? (int) zframe_size (payload): 0, payload? (char *) zframe_data (payload): "",
                    zg_member_reason (members [index])? zg_member_reason (members [index]): "");
            fflush (stdout);
        }
    for (int index = 0; index < count; index++)
        zg_member_destroy (&members [index]);
    return joined? 0: 1;
}
