/*  =========================================================================
    zgcli_rooms - the room commands of zgate-cli: room send (or --oob),
    join (print and ack each message), peek, state and metrics
    =========================================================================
*/

#include "zgcli.h"
#include "zg_member.h"
#include "zg_room_producer.h"

//  --------------------------------------------------------------------------
//  A room producer on the rooms endpoint, or NULL after saying why

static zg_room_producer_t *
s_producer (zgcli_t *cli)
{
    int64_t timeout;
    if (zgcli_number (cli, "--timeout", 5000, 1, INT32_MAX, &timeout))
        return NULL;
    const char *endpoint = zgcli_endpoint (cli, "rooms-clients");
    zg_room_producer_t *producer = zg_room_producer_new_secure (endpoint, (int) timeout, zgcli_cert (cli),
                                                                  zgcli_server_key (cli));
    if (!producer)
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
    return producer;
}

//  --------------------------------------------------------------------------
//  room send ROOM DATA: queue a message (print its seq), or send it --oob

static int
s_send (zgcli_t *cli)
{
    int64_t priority;
    if (zgcli_number (cli, "--priority", 0, INT64_MIN, INT64_MAX, &priority))
        return ZGCLI_USAGE;
    zg_room_producer_t *producer = s_producer (cli);
    if (!producer)
        return ZGCLI_USAGE;
    const char *room = cli->args [0], *data = cli->args [1];
    bool oob = zgcli_flag (cli, "--oob");
    uint64_t seq = 0;
    int members = oob? zg_room_producer_send_oob (producer, room, data, strlen (data))
                     : zg_room_producer_send (producer, room, priority, data, strlen (data), &seq);
    int rc = 0;
    if (members < 0)
        rc = zgcli_error (cli, zg_room_producer_code (producer), zg_room_producer_reason (producer));
    else
    if (cli->json) {
        json_object *result = zgcli_object ("room", json_object_new_string (room), oob? "members": "seq",
                                            oob? json_object_new_int (members): json_object_new_uint64 (seq), NULL);
        zgcli_print (cli, &result);
    }
    else
    if (oob)
        printf ("out-of-band message reached %d member%s of %s\n", members, members == 1? "": "s", room);
    else
        printf ("message %" PRIu64 " queued in %s\n", seq, room);
    zg_room_producer_destroy (&producer);
    return rc;
}

//  --------------------------------------------------------------------------
//  Print a map answer (peek, state, metrics) and take the producer

static int
s_print_answer (zgcli_t *cli, zg_room_producer_t **producer_p, int rc, msgpack_unpacked *answer)
{
    if (rc)
        rc = zgcli_error (cli, zg_room_producer_code (*producer_p), zg_room_producer_reason (*producer_p));
    else {
        json_object *value = zgcli_from_msgpack (&answer->data);
        zgcli_print (cli, &value);
    }
    msgpack_unpacked_destroy (answer);
    zg_room_producer_destroy (producer_p);
    return rc;
}

//  --------------------------------------------------------------------------
//  room peek ROOM: pending messages in release order

static int
s_peek (zgcli_t *cli)
{
    int64_t offset, limit;
    if (zgcli_number (cli, "--offset", 0, 0, INT32_MAX, &offset)
    ||  zgcli_number (cli, "--limit", 0, 0, INT32_MAX, &limit))
        return ZGCLI_USAGE;
    zg_room_producer_t *producer = s_producer (cli);
    if (!producer)
        return ZGCLI_USAGE;
    msgpack_unpacked answer;
    msgpack_unpacked_init (&answer);
    int rc = zg_room_producer_peek (producer, cli->args [0], (size_t) offset, (size_t) limit, &answer);
    return s_print_answer (cli, &producer, rc, &answer);
}

//  --------------------------------------------------------------------------
//  room state ROOM: backlog, in-flight message, members and acks

static int
s_state (zgcli_t *cli)
{
    zg_room_producer_t *producer = s_producer (cli);
    if (!producer)
        return ZGCLI_USAGE;
    msgpack_unpacked answer;
    msgpack_unpacked_init (&answer);
    int rc = zg_room_producer_state (producer, cli->args [0], &answer);
    return s_print_answer (cli, &producer, rc, &answer);
}

//  --------------------------------------------------------------------------
//  room metrics: rooms, clients, the top rooms by backlog

static int
s_metrics (zgcli_t *cli)
{
    int64_t top;
    if (zgcli_number (cli, "--top", 10, 0, INT32_MAX, &top))
        return ZGCLI_USAGE;
    zg_room_producer_t *producer = s_producer (cli);
    if (!producer)
        return ZGCLI_USAGE;
    msgpack_unpacked answer;
    msgpack_unpacked_init (&answer);
    int rc = zg_room_producer_metrics (producer, (size_t) top, &answer);
    return s_print_answer (cli, &producer, rc, &answer);
}

//  --------------------------------------------------------------------------
//  Print a room event: "room #seq: data", "room (oob): data", or JSON

static void
s_print_event (zgcli_t *cli, zg_member_t *member, const char *event)
{
    zframe_t *payload = zg_member_payload (member);
    json_object *data = zgcli_string (zframe_data (payload), zframe_size (payload));
    bool deliver = streq (event, "DELIVER");
    if (cli->json) {
        data = zgcli_object ("event", json_object_new_string (deliver? "deliver": "oob"),
                             "room", json_object_new_string (zg_member_room (member)),
                             "seq", deliver? json_object_new_uint64 (zg_member_seq (member)): NULL,
                             "data", data, NULL);
        if (!deliver)
            json_object_object_del (data, "seq");
    }
    else
    if (deliver)
        printf ("%s #%" PRIu64 ": ", zg_member_room (member), zg_member_seq (member));
    else
        printf ("%s (out of band): ", zg_member_room (member));
    zgcli_print (cli, &data);
}

//  --------------------------------------------------------------------------
//  room join ROOM...: a member that prints every message and acks it

static int
s_join (zgcli_t *cli)
{
    zgcli_stream_t stream;
    if (zgcli_stream_start (cli, &stream))
        return ZGCLI_USAGE;
    const char *endpoint = zgcli_endpoint (cli, "rooms-clients");
    zg_member_t *member = zg_member_new_secure (endpoint, 1000, zgcli_cert (cli), zgcli_server_key (cli));
    if (!member)
        return zgcli_fail (cli, "no answer from zgate on %s (or an invalid endpoint)", endpoint);
    int rc = 0;
    for (int index = 0; index < cli->arg_count && rc == 0; index++)
        if (zg_member_join (member, cli->args [index], zgcli_flag (cli, "--async")))
            rc = zgcli_error (cli, zg_member_code (member), zg_room_producer_reason (zg_member_producer (member)));
    while (rc == 0 && zgcli_stream_wants (&stream)) {
        int left = zgcli_stream_left (&stream);
        const char *event = left == 0? NULL: zg_member_recv (member, left);
        if (!event) {
            rc = zgcli_stream_end (cli, &stream, "messages");
            break;
        }
        if (streq (event, "DELIVER") || streq (event, "OOB")) {
            s_print_event (cli, member, event);
            if (streq (event, "DELIVER") && *zg_member_token (member))
                zg_member_ack (member, zg_member_room (member), zg_member_token (member));
            stream.received++;
        }
        else
        if (streq (event, "EVICTED"))
            rc = zgcli_fail (cli, "evicted from %s (%s)", zg_member_room (member), zg_member_reason (member));
        else
        if (streq (event, "ERROR"))
            rc = zgcli_fail (cli, "error %s", zg_member_reason (member));
    }
    zg_member_destroy (&member);
    return rc;
}

static const zgcli_option_t s_send_options [] = {
    { "--priority", "N", "higher goes first, unless the room is lowest-first [0]" },
    { "--oob", NULL, "out of band: at once to every current member, no ack, no queue" },
    { NULL }
};

static const zgcli_option_t s_join_options [] = {
    { "--async", NULL, "join as an observer: see every message without holding the room" },
    { "--count", "N", "exit after N messages [0: never]" },
    { NULL }
};

static const zgcli_option_t s_peek_options [] = {
    { "--offset", "N", "skip the first N pending messages [0]" },
    { "--limit", "N", "at most N messages [0: zgate's maximum]" },
    { NULL }
};

static const zgcli_option_t s_metrics_options [] = {
    { "--top", "N", "list the N rooms with the largest backlog [10]" },
    { NULL }
};

static const zgcli_option_t s_none [] = {
    { NULL }
};

const zgcli_command_t zgcli_rooms_commands [] = {
    { "room send", "ROOM DATA", "queue a message in a room (print its seq), or send it --oob",
      2, 2, s_send_options, s_send },
    { "room join", "ROOM...", "join rooms: print every message and ack it", 1, ZGCLI_MAX_ARGS, s_join_options, s_join },
    { "room peek", "ROOM", "print a room's pending messages, in release order", 1, 1, s_peek_options, s_peek },
    { "room state", "ROOM", "print a room's backlog, message in flight, members and acks", 1, 1, s_none, s_state },
    { "room metrics", "", "print the rooms and clients, and the largest backlogs", 0, 0, s_metrics_options, s_metrics },
    { NULL }
};
