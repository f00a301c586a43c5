//  room_demo - lockstep in the terminal: three members of different speeds
//  (100 ms, 400 ms, 1200 ms per message) in one room. Four messages are
//  queued at once, the last with a higher priority (rooms release higher
//  first); each is released only when all three have acked the previous one,
//  so the room moves at the pace of the slowest member. An out-of-band message arrives at once.
//
//      ./room_demo              runs the rooms actor in this process
//      ./room_demo ENDPOINT     uses a running zgate, e.g. tcp://127.0.0.1:5564

#include "zgate.h"
#include "zg_member.h"
#include "../example_args.h"

#define MEMBERS 3
#define MESSAGES 4

typedef struct {
    const char *name;               //  Shown in the output
    int work;                       //  Time it takes to handle a message, ms
    zg_member_t *member;            //  Its room membership
    int64_t ack_at;                 //  When it will ack, or 0 if idle
    char room [64];                 //  Room of the message it works on
    char token [64];                //  Its ack handle
    int done;                       //  Messages acked
} s_demo_member_t;

static int64_t s_start;

static void
s_log (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    printf ("%6.2fs  ", (double) (zclock_mono () - s_start) / 1000.0);
    vprintf (format, args);
    printf ("\n");
    fflush (stdout);
    va_end (args);
}

//  --------------------------------------------------------------------------
//  One member's turn: ack the message it worked on once its work time is up,
//  then take the next event

static void
s_demo_member_step (s_demo_member_t *self)
{
    if (self->ack_at && zclock_mono () >= self->ack_at) {
        zg_member_ack (self->member, self->room, self->token);
        self->ack_at = 0;
        self->done++;
        s_log ("%-6s acks     #%s", self->name, self->token);
    }
    const char *event = zg_member_recv (self->member, 5);
    zframe_t *payload = event? zg_member_payload (self->member): NULL;
    if (event && streq (event, "DELIVER")) {
        snprintf (self->room, sizeof self->room, "%s", zg_member_room (self->member));
        snprintf (self->token, sizeof self->token, "%s", zg_member_token (self->member));
        self->ack_at = zclock_mono () + self->work;
        s_log ("%-6s receives #%" PRIu64 " '%.*s', works %d ms", self->name, zg_member_seq (self->member),
               (int) zframe_size (payload), (char *) zframe_data (payload), self->work);
    }
    else
    if (event && streq (event, "OOB"))
        s_log ("%-6s receives out-of-band '%.*s' at once", self->name,
               (int) zframe_size (payload), (char *) zframe_data (payload));
}

//  --------------------------------------------------------------------------
//  Queue the messages, then run the members until all have acked them all

static void
s_demo_run (s_demo_member_t *members, const char *endpoint)
{
    s_start = zclock_mono ();
    zg_room_producer_t *producer = zg_room_producer_new (endpoint, 2000);
    for (int index = 0; index < MESSAGES; index++) {
        char text [32];
        snprintf (text, sizeof text, index + 1 < MESSAGES? "step %d": "urgent step %d", index + 1);
        uint64_t seq;
        int64_t priority = index + 1 < MESSAGES? 1: 5;
        zg_room_producer_send (producer, "demo", priority, text, strlen (text), &seq);
        s_log ("producer: queued #%" PRIu64 " '%s' (priority %" PRId64 ")", seq, text, priority);
    }
    bool oob_sent = false;
    int finished = 0;
    while (finished < MEMBERS && !zsys_interrupted && zclock_mono () - s_start < 20000) {
        finished = 0;
        for (int index = 0; index < MEMBERS; index++) {
            s_demo_member_step (&members [index]);
            finished += members [index].done == MESSAGES;
        }
        if (!oob_sent && zclock_mono () - s_start > 1500) {
            zg_room_producer_send_oob (producer, "demo", "hello from outside the queue", 28);
            s_log ("producer: sent an out-of-band message");
            oob_sent = true;
        }
    }
    if (finished == MEMBERS)
        s_log ("done: every message went to all three, one at a time, at the pace of 'slow'");
    zg_room_producer_destroy (&producer);
}

//  --------------------------------------------------------------------------

int
main (int argc, char **argv)
{
    example_args (argc, argv, 1, "[endpoint]",
                  "Lockstep in the terminal: three members of different speeds in one room, four messages\n"
                  "(the last with a higher priority) and an out-of-band one. Without endpoint the rooms actor\n"
                  "runs in this process; with one (e.g. tcp://127.0.0.1:5564) it uses a running zgate.");
    const char *endpoint = argc > 1? argv [1]: "inproc://room-demo";
    zactor_t *rooms = NULL;
    if (argc < 2) {
        rooms = zg_rooms_new ();
        zstr_sendx (rooms, "BIND", "clients", endpoint, NULL);
        int rc;
        char *reason;
        zsock_recv (rooms, "is", &rc, &reason);
        zstr_free (&reason);
    }
    s_demo_member_t members [MEMBERS] = {
        { .name = "fast", .work = 100 }, { .name = "medium", .work = 400 }, { .name = "slow", .work = 1200 }
    };
    bool joined = true;
    for (int index = 0; index < MEMBERS && joined; index++) {
        members [index].member = zg_member_new (endpoint, 1000);
        joined = members [index].member && zg_member_join (members [index].member, "demo", false) == 0;
    }
    if (joined)
        s_demo_run (members, endpoint);
    else
        fprintf (stderr, "room_demo: cannot join room 'demo' at %s\n", endpoint);
    for (int index = 0; index < MEMBERS; index++)
        zg_member_destroy (&members [index].member);
    zactor_destroy (&rooms);
    return joined? 0: 1;
}
