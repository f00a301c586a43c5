//  room_peeker - every second, prints a room's pending messages (in release
//  order, the first 10), its state (in-flight message, members, who acked)
//  and the metrics of all rooms, as plain lines.
//
//      ./room_peeker [room [endpoint]]
//
//  ZGATE_CLIENT_CERT (its certificate file) and ZGATE_SERVER_KEY (the server's)
//  make it a CURVE client of a zgate that runs security (README, Securing zgate).

#include "zg_room_producer.h"
#include "../example_args.h"

//  A number of a map, or 0

static int64_t
s_number (msgpack_object *map, const char *key)
{
    msgpack_object *value = zg_room_producer_map_get (map, key);
    if (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (int64_t) value->via.u64;
    if (value && value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return value->via.i64;
    return 0;
}

//  A string or bin of a map as printf's "%.*s" arguments

static int
s_length (msgpack_object *map, const char *key)
{
    msgpack_object *value = zg_room_producer_map_get (map, key);
    return value && (value->type == MSGPACK_OBJECT_STR || value->type == MSGPACK_OBJECT_BIN)
         ? (int) value->via.str.size: 0;
}

static const char *
s_text (msgpack_object *map, const char *key)
{
    msgpack_object *value = zg_room_producer_map_get (map, key);
    return s_length (map, key)? value->via.str.ptr: "";
}

//  "pending: 3", then one line per message: "  #12  priority 0  hello"

static void
s_print_pending (msgpack_object *peek)
{
    msgpack_object *messages = zg_room_producer_map_get (peek, "messages");
    printf ("pending: %" PRId64 "\n", s_number (peek, "backlog"));
    for (uint32_t index = 0; messages && messages->type == MSGPACK_OBJECT_ARRAY
                             && index < messages->via.array.size; index++) {
        msgpack_object *message = &messages->via.array.ptr [index];
        printf ("  #%" PRId64 "  priority %" PRId64 "  %.*s\n", s_number (message, "seq"),
                s_number (message, "priority"), s_length (message, "data"), s_text (message, "data"));
    }
}

//  "in flight: #12 (2 holders not acked)" or "in flight: none", then the
//  members: "  <client>  sync, acked" ...

static void
s_print_state (msgpack_object *state)
{
    msgpack_object *in_flight = zg_room_producer_map_get (state, "in_flight");
    if (in_flight && in_flight->type == MSGPACK_OBJECT_MAP)
        printf ("in flight: #%" PRId64 " (%" PRId64 " holders not acked)\n",
                s_number (in_flight, "seq"), s_number (in_flight, "waiting"));
    else
        printf ("in flight: none\n");
    msgpack_object *members = zg_room_producer_map_get (state, "members");
    uint32_t count = members && members->type == MSGPACK_OBJECT_ARRAY? members->via.array.size: 0;
    printf ("members: %u\n", count);
    for (uint32_t index = 0; index < count; index++) {
        msgpack_object *member = &members->via.array.ptr [index];
        msgpack_object *async = zg_room_producer_map_get (member, "async");
        msgpack_object *acked = zg_room_producer_map_get (member, "acked");
        printf ("  %.*s  %s%s\n", s_length (member, "client"), s_text (member, "client"),
                async && async->type == MSGPACK_OBJECT_BOOLEAN && async->via.boolean? "observer": "sync",
                acked && acked->type == MSGPACK_OBJECT_BOOLEAN && acked->via.boolean? ", acked": "");
    }
}

int
main (int argc, char **argv)
{
    example_args (argc, argv, 2, "[room [endpoint]]",
                  "Every second, prints a room's [lobby] pending messages, its state and the rooms metrics,\n"
                  "from zgate's rooms endpoint [tcp://127.0.0.1:5564].");
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
        printf ("room %s\n", room);
        if (zg_room_producer_peek (peeker, room, 0, 10, &result) == 0)
            s_print_pending (&result.data);
        if (zg_room_producer_state (peeker, room, &result) == 0)
            s_print_state (&result.data);
        if (zg_room_producer_metrics (peeker, 3, &result) == 0)
            printf ("all rooms: %" PRId64 " rooms, %" PRId64 " clients, %" PRId64 " messages pending\n",
                    s_number (&result.data, "rooms"), s_number (&result.data, "clients"),
                    s_number (&result.data, "backlog"));
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
