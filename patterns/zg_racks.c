/*  =========================================================================
    zg_racks - ACKS: many holders ack a room's message in one request

    The check walks the list once: per client one hash lookup (the client),
    its cached membership when it names this room (else one more lookup),
    and zg_room_ack_refusal; a mark on each membership (the batch's number)
    finds a client named twice without a second pass. The memberships it
    accepted are kept in an array reused from batch to batch.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_racks.h"

//  Bytes of a client id a reason quotes
#define ZG_RACKS_QUOTED_ID 64

struct _zg_racks_t {
    zg_rmember_t **members;         //  The batch checked
    size_t count;                   //  Memberships in it
    size_t max;                     //  Memberships allocated
    uint64_t batch;                 //  Number of the last batch checked
};

//  --------------------------------------------------------------------------
//  Create a checker

zg_racks_t *
zg_racks_new (void)
{
    zg_racks_t *self = (zg_racks_t *) zmalloc (sizeof (zg_racks_t));
    assert (self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_racks_destroy (zg_racks_t **self_p)
{
    assert (self_p);
    zg_racks_t *self = *self_p;
    if (!self)
        return;
    free (self->members);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Check one client of the batch; returns 0 with its membership kept, or a
//  ZG_ERR_* code with a reason

static int
s_check_one (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, zg_wire_part_t token, const char *id,
             size_t size, zg_wire_request_t *request, char *reason)
{
    int code;
    zg_rclient_t *client = zg_rclients_named (clients, id, size, request, &code, reason);
    if (!client) {
        //  A batch names many clients: say which
        if (code == ZG_ERR_NOT_FOUND)
            zg_wire_reason (reason, "unknown client '%.*s'",
                            (int) (size < ZG_RACKS_QUOTED_ID? size: ZG_RACKS_QUOTED_ID), id);
        return code;
    }
    zg_rmember_t *member = client->last_member;
    if (!member || member->room != room)
        member = room? zg_room_member (room, client): NULL;
    if (!member) {
        zg_wire_reason (reason, "client %s is not a member of the room", client->id);
        return ZG_ERR_NOT_FOUND;
    }
    const char *refusal = member->batch == self->batch? "duplicate ack"
                        : zg_room_ack_refusal (room, member, token.data, token.size);
    if (refusal) {
        zg_wire_reason (reason, "client %s: %s", client->id, refusal);
        return ZG_ERR_CONFLICT;
    }
    member->batch = self->batch;
    if (self->count == self->max) {
        self->max = self->max? self->max * 2: 64;
        self->members = (zg_rmember_t **) realloc (self->members, self->max * sizeof (zg_rmember_t *));
        assert (self->members);
    }
    self->members [self->count++] = member;
    return 0;
}

//  --------------------------------------------------------------------------
//  Check a batch whole: 0 with its memberships kept, or a refusal

static int
s_check (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, zg_wire_part_t token, zg_wire_part_t list,
         zg_wire_request_t *request, char *reason)
{
    self->count = 0;
    self->batch++;
    const char *cursor = (const char *) list.data;
    const char *end = cursor + list.size;
    while (true) {
        const char *space = (const char *) memchr (cursor, ' ', (size_t) (end - cursor));
        const char *stop = space? space: end;
        int code = stop == cursor? ZG_ERR_BAD_REQUEST
                 : s_check_one (self, clients, room, token, cursor, (size_t) (stop - cursor), request, reason);
        if (code == ZG_ERR_BAD_REQUEST)
            zg_wire_reason (reason, "clients must be client ids separated by single spaces");
        if (code)
            return code;
        if (!space)
            return 0;
        cursor = space + 1;
    }
}

//  --------------------------------------------------------------------------
//  ACKS: check the batch whole, then touch and ack every client in it

int
zg_racks_ack (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, zg_wire_request_t *request, int64_t now,
              uint64_t *acked, char *reason)
{
    assert (self);
    assert (clients);
    assert (acked);
    assert (reason);
    zg_wire_part_t token = zg_wire_frame (request, 4);
    zg_wire_part_t routing = zg_wire_frame (request, 0);
    int code = s_check (self, clients, room, token, zg_wire_frame (request, 5), request, reason);
    if (code)
        return code;
    for (size_t index = 0; index < self->count; index++) {
        zg_rmember_t *member = self->members [index];
        zg_rclients_touch (clients, member->client, routing.data, routing.size, now);
        member->client->last_member = member;
        const char *refusal;
        int rc = zg_room_ack (room, member, token.data, token.size, &refusal);
        assert (rc == 0);
    }
    *acked += self->count;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  ACKS from connection "c" (its routing id is all a check reads) for a
//  list of ids (a printf format); returns the code, the reason in reason
static int
s_test_ack (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, const char *token, uint64_t *acked,
            char *reason, const char *format, ...) CHECK_PRINTF (7);

static int
s_test_ack (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, const char *token, uint64_t *acked,
            char *reason, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *list = zsys_vprintf (format, args);
    va_end (args);
    zg_wire_request_t request = { .count = 6 };
    const char *frames [] = { "c", "ACKS", "", "lobby", token, list };
    for (size_t index = 0; index < 6; index++) {
        request.data [index] = (const byte *) frames [index];
        request.size [index] = strlen (frames [index]);
    }
    int code = zg_racks_ack (self, clients, room, &request, 5, acked, reason);
    zstr_free (&list);
    return code;
}

void
zg_racks_test (bool verbose)
{
    printf (" * zg_racks: ");
    //  @selftest
    zg_room_options_t defaults = { false, ZG_ROOM_DEFAULT_ACK_TIMEOUT, false };
    zg_room_t *room = zg_room_new ("lobby", &defaults);
    zg_room_t *other = zg_room_new ("other", &defaults);
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *alice = zg_rclients_add (clients, "c", 1, 0);
    zg_rclient_t *bob = zg_rclients_add (clients, "c", 1, 0);
    zg_rclient_t *carol = zg_rclients_add (clients, "c", 1, 0);
    zg_rclient_t *dave = zg_rclients_add (clients, "d", 1, 0);
    zg_rclient_t *erin = zg_rclients_add (clients, "c", 1, 0);
    zg_room_member_add (room, alice, false);
    zg_room_member_add (room, bob, false);
    zg_room_member_add (room, carol, true);
    zg_room_member_add (room, dave, false);
    //  Erin's last membership is of another room: the cache is not trusted
    erin->last_member = zg_room_member_add (other, erin, false);
    zg_rmessage_t *message = (zg_rmessage_t *) zmalloc (sizeof (zg_rmessage_t));
    assert (message);
    message->seq = 7;
    zmq_msg_init (&message->payload);
    zg_room_push (room, &message);
    zg_room_release (room, 0);
    assert (room->waiting == 3);

    zg_racks_t *racks = zg_racks_new ();
    char reason [ZG_WIRE_REASON_SIZE];
    uint64_t acked = 0;
    //  Every refusal names its client and changes nothing
    const char *malformed [] = { "", " ", "%s ", " %s", "%s  %s" };
    for (size_t index = 0; index < sizeof malformed / sizeof malformed [0]; index++)
        assert (s_test_ack (racks, clients, room, "7", &acked, reason, malformed [index], alice->id, bob->id)
                == ZG_ERR_BAD_REQUEST);
    assert (strstr (reason, "single spaces"));
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s nobody", alice->id) == ZG_ERR_NOT_FOUND);
    assert (streq (reason, "unknown client 'nobody'"));
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s %s", alice->id, dave->id) == ZG_ERR_FORBIDDEN);
    assert (strstr (reason, dave->id));
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s", erin->id) == ZG_ERR_NOT_FOUND);
    assert (s_test_ack (racks, clients, NULL, "7", &acked, reason, "%s", alice->id) == ZG_ERR_NOT_FOUND);
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s", carol->id) == ZG_ERR_CONFLICT);
    assert (strstr (reason, "holder"));
    assert (s_test_ack (racks, clients, room, "6", &acked, reason, "%s", alice->id) == ZG_ERR_CONFLICT);
    assert (strstr (reason, "stale"));
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s %s %s", alice->id, bob->id, alice->id)
            == ZG_ERR_CONFLICT);
    assert (strstr (reason, "duplicate ack"));
    assert (acked == 0 && room->waiting == 3 && alice->liveness.last_seen == 0 && !alice->last_member);

    //  A good batch: each client touched, its membership cached, its ack counted
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s %s", bob->id, alice->id) == 0);
    assert (acked == 2);
    assert (room->waiting == 1 && alice->liveness.last_seen == 5 && alice->last_member->room == room);
    assert (zg_rmember_has_acked (zg_room_member (room, bob)));
    //  Acked already: a second batch is a duplicate
    assert (s_test_ack (racks, clients, room, "7", &acked, reason, "%s", alice->id) == ZG_ERR_CONFLICT);
    assert (strstr (reason, "duplicate ack"));

    zg_racks_destroy (&racks);
    zg_racks_destroy (&racks);
    zg_room_destroy (&room);
    zg_room_destroy (&other);
    zg_rclients_destroy (&clients);
    //  @end
    if (verbose)
        printf ("(batches checked whole) ");
    printf ("OK\n");
}
