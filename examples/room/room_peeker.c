//  room_peeker - every second, prints a room's pending messages (in release
//  order), its state (in-flight message, who acked, members) and the metrics.
//
//      ./room_peeker [room [endpoint]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_room_producer.h"

static void
s_print (msgpack_object *object)
{
    msgpack_object_print (stdout, *object);
    printf ("\n");
}

int
main (int argc, char **argv)
{
    const char *room = argc > 1? argv [1]: "lobby";
    const char *endpoint = argc > 2? argv [2]: "tcp://127.0.0.1:5564";
    zg_room_producer_t *peeker = zg_room_producer_new_secure (endpoint, 2000,
                                                              getenv ("ZGATE_CLIENT_CERT"), getenv ("ZGATE_SERVER_KEY"));
    if (!peeker) {
        fprintf (stderr, "room_peeker: invalid endpoint %s\n", endpoint);
        return 1;
    }
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    while (!zsys_interrupted) {
        if (zg_room_producer_peek (peeker, room, 0, 10, &result) == 0) {
            printf ("pending (first 10): ");
            s_print (zg_room_producer_map_get (&result.data, "messages"));
        }
        if (zg_room_producer_state (peeker, room, &result) == 0) {
            printf ("state: ");
            s_print (&result.data);
        }
        if (zg_room_producer_metrics (peeker, 3, &result) == 0) {
            printf ("metrics: ");
            s_print (&result.data);
        }
        else
            printf ("zgate: %s\n", zg_room_producer_error (peeker));
        printf ("\n");
        fflush (stdout);
        zclock_sleep (1000);
    }
    msgpack_unpacked_destroy (&result);
    zg_room_producer_destroy (&peeker);
    return 0;
}
