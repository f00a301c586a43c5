//  room_worker - a sync member: takes each room message, works on it for a
//  while, then acks it, which lets the room release the next one.
//
//      ./room_worker [room [work-ms [endpoint]]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_member.h"
#include "../example_args.h"

int
main (int argc, char **argv)
{
    example_args (argc, argv, 3, "[room [work-ms [endpoint]]]",
                  "A sync member of a room [lobby]: works work-ms [200] on each message, then acks it, on\n"
                  "zgate's rooms endpoint [tcp://127.0.0.1:5564].");
    const char *room = argc > 1? argv [1]: "lobby";
    int work = argc > 2? atoi (argv [2]): 200;
    const char *endpoint = argc > 3? argv [3]: "tcp://127.0.0.1:5564";
    zg_member_t *member = zg_member_new_secure (endpoint, 1000,
                                                getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!member || zg_member_join (member, room, false)) {
        fprintf (stderr, "room_worker: cannot join '%s' at %s\n", room, endpoint);
        return 1;
    }
    printf ("worker %s joined '%s'\n", zg_member_id (member), room);
    fflush (stdout);
    while (!zsys_interrupted) {
        const char *event = zg_member_recv (member, 500);
        if (!event)
            continue;
        if (streq (event, "DELIVER")) {
            zframe_t *payload = zg_member_payload (member);
            printf ("working on #%" PRIu64 ": %.*s\n", zg_member_seq (member),
                    (int) zframe_size (payload), (char *) zframe_data (payload));
            fflush (stdout);
            zclock_sleep (work);
            zg_member_ack (member, zg_member_room (member), zg_member_token (member));
        }
        else {
            printf ("%s %s\n", event, zg_member_reason (member)? zg_member_reason (member): "");
            if (streq (event, "EVICTED"))
                break;
        }
        fflush (stdout);
    }
    zg_member_destroy (&member);
    return 0;
}
