/*  =========================================================================
    zg_room - one room's lockstep state

    Members are a hash by client id (for JOIN, LEAVE and ACK) and, per
    client, a doubly linked list of its memberships (for eviction), so
    removing a membership is O(1) from either side. The priority queue
    orders by a key: the priority itself for lowest-first rooms, its bitwise
    complement for highest-first ones (~p reverses the order of int64 values
    without the overflow of -p).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_room.h"
#include "zg_mpreader.h"

//  --------------------------------------------------------------------------

static void
s_message_destroy (void **item_p)
{
    zg_rmessage_t *message = (zg_rmessage_t *) *item_p;
    zg_rmessage_destroy (&message);
    *item_p = NULL;
}

//  --------------------------------------------------------------------------
//  Create an empty room with these options

zg_room_t *
zg_room_new (const char *name, const zg_room_options_t *options)
{
    assert (name);
    assert (options);
    zg_room_t *self = (zg_room_t *) zmalloc (sizeof (zg_room_t));
    assert (self);
    self->name = strdup (name);
    assert (self->name);
    self->name_size = strlen (name);
    self->members = zhashx_new ();
    self->queue = zg_roomq_new (s_message_destroy);
    self->options = *options;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy a room, its messages and its memberships

void
zg_room_destroy (zg_room_t **self_p)
{
    assert (self_p);
    zg_room_t *self = *self_p;
    if (!self)
        return;
    for (zg_rmember_t *member = zg_room_first_member (self); member; member = zg_room_next_member (self))
        free (member);
    zhashx_destroy (&self->members);
    zg_roomq_destroy (&self->queue);
    zg_rmessage_destroy (&self->inflight);
    free (self->name);
    free (self->holder);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Destroy a message

void
zg_rmessage_destroy (zg_rmessage_t **self_p)
{
    assert (self_p);
    zg_rmessage_t *self = *self_p;
    if (!self)
        return;
    zmq_msg_close (&self->payload);
    free (self->producer);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Parse a ROOM options map over the current options. It is read in place
//  (zg_mpreader), so no size the client declares is ever allocated, and the
//  whole map is checked before anything changes.

int
zg_room_options_parse (const void *data, size_t size, zg_room_options_t *options)
{
    assert (options);
    zg_room_options_t parsed = *options;
    zg_mpreader_t reader = zg_mpreader_init (data, size);
    uint64_t entries = 0;
    bool valid = zg_mpreader_container (&reader, true, &entries);
    for (uint64_t index = 0; valid && index < entries; index++) {
        const char *key, *value;
        size_t key_size, value_size;
        valid = zg_mpreader_string (&reader, &key, &key_size);
        if (valid && key_size == 4 && memcmp (key, "hold", 4) == 0)
            valid = zg_mpreader_boolean (&reader, &parsed.hold);
        else
        if (valid && key_size == 11 && memcmp (key, "ack-timeout", 11) == 0)
            valid = zg_mpreader_integer (&reader, &parsed.ack_timeout)
                 && parsed.ack_timeout >= ZG_ROOM_MIN_ACK_TIMEOUT && parsed.ack_timeout <= ZG_ROOM_MAX_ACK_TIMEOUT;
        else
        if (valid && key_size == 14 && memcmp (key, "priority-order", 14) == 0) {
            valid = zg_mpreader_string (&reader, &value, &value_size);
            if (valid && value_size == 12 && memcmp (value, "lowest-first", 12) == 0)
                parsed.lowest_first = true;
            else
            if (valid && value_size == 13 && memcmp (value, "highest-first", 13) == 0)
                parsed.lowest_first = false;
            else
                valid = false;
        }
        else
            valid = false;
    }
    if (!valid || !zg_mpreader_done (&reader))
        return -1;
    *options = parsed;
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply options; the queue's keys follow the order, so it changes only
//  while the queue is empty

int
zg_room_configure (zg_room_t *self, const zg_room_options_t *options)
{
    assert (self);
    assert (options);
    if (options->lowest_first != self->options.lowest_first && zg_roomq_size (self->queue) > 0)
        return -1;
    self->options = *options;
    return 0;
}

//  --------------------------------------------------------------------------
//  The client's membership, or NULL

zg_rmember_t *
zg_room_member (zg_room_t *self, zg_rclient_t *client)
{
    assert (self);
    assert (client);
    return (zg_rmember_t *) zhashx_lookup (self->members, client->id);
}

//  --------------------------------------------------------------------------
//  The membership the client last named, if of the room of this name

zg_rmember_t *
zg_room_last_member (zg_rclient_t *client, const void *name, size_t size)
{
    assert (client);
    zg_rmember_t *member = client->last_member;
    if (member && member->room->name_size == size && memcmp (member->room->name, name, size) == 0)
        return member;
    return NULL;
}

//  --------------------------------------------------------------------------
//  Add a membership

zg_rmember_t *
zg_room_member_add (zg_room_t *self, zg_rclient_t *client, bool async)
{
    assert (self);
    assert (!zg_room_member (self, client));
    zg_rmember_t *member = (zg_rmember_t *) zmalloc (sizeof (zg_rmember_t));
    assert (member);
    member->client = client;
    member->room = self;
    member->async = async;
    member->next = client->members;
    if (client->members)
        client->members->prev = member;
    client->members = member;
    client->rooms++;
    zhashx_insert (self->members, client->id, member);
    if (async)
        self->async_members++;
    else
        self->sync_members++;
    return member;
}

//  --------------------------------------------------------------------------
//  Make a member sync or async

void
zg_room_member_set_mode (zg_room_t *self, zg_rmember_t *member, bool async)
{
    assert (self);
    assert (member && member->room == self);
    if (member->async == async)
        return;
    if (zg_rmember_is_waited_for (member))
        self->waiting--;
    member->seq = 0;
    member->async = async;
    if (async) {
        self->async_members++;
        self->sync_members--;
    }
    else {
        self->async_members--;
        self->sync_members++;
    }
}

//  --------------------------------------------------------------------------
//  Remove and free a membership

void
zg_room_member_remove (zg_room_t *self, zg_rmember_t **member_p)
{
    assert (self);
    assert (member_p && *member_p);
    zg_rmember_t *member = *member_p;
    assert (member->room == self);
    zg_rclient_t *client = member->client;
    if (zg_rmember_is_waited_for (member))
        self->waiting--;
    if (member->async)
        self->async_members--;
    else
        self->sync_members--;
    zhashx_delete (self->members, client->id);
    if (client->last_member == member)
        client->last_member = NULL;
    if (member->prev)
        member->prev->next = member->next;
    else
        client->members = member->next;
    if (member->next)
        member->next->prev = member->prev;
    client->rooms--;
    free (member);
    *member_p = NULL;
}

//  --------------------------------------------------------------------------
//  Iterate the members

zg_rmember_t *
zg_room_first_member (zg_room_t *self)
{
    assert (self);
    return (zg_rmember_t *) zhashx_first (self->members);
}

zg_rmember_t *
zg_room_next_member (zg_room_t *self)
{
    assert (self);
    return (zg_rmember_t *) zhashx_next (self->members);
}

//  --------------------------------------------------------------------------
//  The member holds the in-flight message and has not acked it

bool
zg_rmember_is_waited_for (zg_rmember_t *self)
{
    assert (self);
    zg_room_t *room = self->room;
    return !self->async && room->inflight && self->seq == room->inflight->seq && !self->acked;
}

//  --------------------------------------------------------------------------
//  The member holds the in-flight message and has acked it

bool
zg_rmember_has_acked (zg_rmember_t *self)
{
    assert (self);
    zg_room_t *room = self->room;
    return !self->async && room->inflight && self->seq == room->inflight->seq && self->acked;
}

//  --------------------------------------------------------------------------
//  Queue a message

void
zg_room_push (zg_room_t *self, zg_rmessage_t **message_p)
{
    assert (self);
    assert (message_p && *message_p);
    zg_rmessage_t *message = *message_p;
    int64_t key = self->options.lowest_first? message->priority: ~message->priority;
    zg_roomq_push (self->queue, key, message);
    *message_p = NULL;
}

//  --------------------------------------------------------------------------
//  Messages queued

size_t
zg_room_backlog (zg_room_t *self)
{
    assert (self);
    return zg_roomq_size (self->queue);
}

//  --------------------------------------------------------------------------
//  Nothing in flight, a message queued, and not holding it for members

bool
zg_room_can_release (zg_room_t *self)
{
    assert (self);
    return !self->inflight && zg_roomq_size (self->queue) > 0
        && !(self->options.hold && self->sync_members == 0);
}

//  --------------------------------------------------------------------------
//  Put the head of the queue in flight; the sync members are its holders

zg_rmessage_t *
zg_room_release (zg_room_t *self, int64_t now)
{
    assert (self);
    assert (zg_room_can_release (self));
    zg_rmessage_t *message = (zg_rmessage_t *) zg_roomq_pop (self->queue);
    self->inflight = message;
    self->released = now;
    //  The token is the seq, so a late ack cannot count for the next message
    self->token_size = zg_wire_format_uint (message->seq, self->token);
    self->waiting = 0;
    for (zg_rmember_t *member = zg_room_first_member (self); member; member = zg_room_next_member (self))
        if (!member->async) {
            member->seq = message->seq;
            member->acked = false;
            self->waiting++;
        }
    return message;
}

//  --------------------------------------------------------------------------
//  Why the member may not ack the in-flight message with this token

const char *
zg_room_ack_refusal (zg_room_t *self, zg_rmember_t *member, const void *token, size_t token_size)
{
    assert (self);
    assert (member && member->room == self);
    if (!self->inflight || token_size != self->token_size || memcmp (token, self->token, token_size))
        return "stale ack token";
    if (member->async || member->seq != self->inflight->seq)
        return "not a holder of the message in flight";
    if (member->acked)
        return "duplicate ack";
    return NULL;
}

//  --------------------------------------------------------------------------
//  A holder acks the in-flight message with a token

int
zg_room_ack (zg_room_t *self, zg_rmember_t *member, const void *token, size_t token_size,
             const char **reason)
{
    assert (reason);
    *reason = zg_room_ack_refusal (self, member, token, token_size);
    if (*reason)
        return -1;
    member->acked = true;
    member->acked_at = zclock_time ();
    self->waiting--;
    return 0;
}

//  --------------------------------------------------------------------------
//  A message is in flight and no holder is waited for

bool
zg_room_is_done (zg_room_t *self)
{
    assert (self);
    return self->inflight && self->waiting == 0;
}

//  --------------------------------------------------------------------------
//  End the in-flight message; the caller takes it

zg_rmessage_t *
zg_room_complete (zg_room_t *self)
{
    assert (self);
    assert (self->inflight);
    zg_rmessage_t *message = self->inflight;
    self->inflight = NULL;
    self->waiting = 0;
    return message;
}

//  --------------------------------------------------------------------------
//  No members and no messages

bool
zg_room_is_empty (zg_room_t *self)
{
    assert (self);
    return zhashx_size (self->members) == 0 && zg_roomq_size (self->queue) == 0 && !self->inflight;
}

//  --------------------------------------------------------------------------
//  No members, no messages, and these options: nothing to keep

bool
zg_room_is_idle (zg_room_t *self, const zg_room_options_t *defaults)
{
    assert (defaults);
    return zg_room_is_empty (self)
        && self->options.hold == defaults->hold && self->options.ack_timeout == defaults->ack_timeout
        && self->options.lowest_first == defaults->lowest_first;
}

//  --------------------------------------------------------------------------

static void
s_pack_key (msgpack_packer *packer, const char *key)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
}

//  --------------------------------------------------------------------------

static void
s_pack_bool (msgpack_packer *packer, const char *key, bool value)
{
    s_pack_key (packer, key);
    if (value)
        msgpack_pack_true (packer);
    else
        msgpack_pack_false (packer);
}

//  --------------------------------------------------------------------------
//  Pack the STATE answer

void
zg_room_pack_state (zg_room_t *self, msgpack_packer *packer)
{
    assert (self);
    assert (packer);
    msgpack_pack_map (packer, 8);
    s_pack_key (packer, "room");
    msgpack_pack_str_with_body (packer, self->name, self->name_size);
    s_pack_key (packer, "backlog");
    msgpack_pack_uint64 (packer, zg_roomq_size (self->queue));
    s_pack_bool (packer, "hold", self->options.hold);
    s_pack_key (packer, "ack_timeout");
    msgpack_pack_int64 (packer, self->options.ack_timeout);
    s_pack_key (packer, "priority_order");
    s_pack_key (packer, self->options.lowest_first? "lowest-first": "highest-first");
    s_pack_key (packer, "in_flight");
    if (self->inflight) {
        msgpack_pack_map (packer, 4);
        s_pack_key (packer, "seq");
        msgpack_pack_uint64 (packer, self->inflight->seq);
        s_pack_key (packer, "priority");
        msgpack_pack_int64 (packer, self->inflight->priority);
        s_pack_key (packer, "released");
        msgpack_pack_int64 (packer, self->released);
        s_pack_key (packer, "waiting");
        msgpack_pack_uint64 (packer, self->waiting);
    }
    else
        msgpack_pack_nil (packer);
    s_pack_key (packer, "members");
    size_t acked = 0;
    msgpack_pack_array (packer, zhashx_size (self->members));
    for (zg_rmember_t *member = zg_room_first_member (self); member; member = zg_room_next_member (self)) {
        bool has_acked = zg_rmember_has_acked (member);
        acked += has_acked;
        msgpack_pack_map (packer, 5);
        s_pack_key (packer, "client");
        msgpack_pack_str_with_body (packer, member->client->id, member->client->id_size);
        s_pack_bool (packer, "async", member->async);
        s_pack_key (packer, "last_seen");
        msgpack_pack_int64 (packer, member->client->last_seen_wall);
        s_pack_bool (packer, "acked", has_acked);
        //  The seed's acked clients with their ack times (SEEDS.md row 32)
        s_pack_key (packer, "acked_at");
        if (has_acked)
            msgpack_pack_int64 (packer, member->acked_at);
        else
            msgpack_pack_nil (packer);
    }
    s_pack_key (packer, "acked");
    msgpack_pack_array (packer, acked);
    for (zg_rmember_t *member = zg_room_first_member (self); member; member = zg_room_next_member (self))
        if (zg_rmember_has_acked (member))
            msgpack_pack_str_with_body (packer, member->client->id, member->client->id_size);
}

//  --------------------------------------------------------------------------
//  Pack the PEEK answer

void
zg_room_pack_peek (zg_room_t *self, msgpack_packer *packer, size_t offset, size_t limit, size_t max_bytes,
                   int64_t now)
{
    assert (self);
    assert (packer);
    size_t backlog = zg_roomq_size (self->queue);
    size_t count = offset >= backlog? 0: backlog - offset;
    if (count > limit)
        count = limit;
    //  Bound the answer by bytes too: max-peek messages of max-message-size
    //  each would be one enormous frame. The first message always fits.
    size_t bytes = 0, fitting = 0;
    zg_rmessage_t *message = count? (zg_rmessage_t *) zg_roomq_first (self->queue, offset): NULL;
    for (; fitting < count; fitting++, message = (zg_rmessage_t *) zg_roomq_next (self->queue)) {
        bytes += zmq_msg_size (&message->payload);
        if (fitting > 0 && bytes > max_bytes)
            break;
    }
    count = fitting;
    msgpack_pack_map (packer, 4);
    s_pack_key (packer, "room");
    msgpack_pack_str_with_body (packer, self->name, self->name_size);
    s_pack_key (packer, "backlog");
    msgpack_pack_uint64 (packer, backlog);
    s_pack_key (packer, "offset");
    msgpack_pack_uint64 (packer, offset);
    s_pack_key (packer, "messages");
    msgpack_pack_array (packer, count);
    message = count? (zg_rmessage_t *) zg_roomq_first (self->queue, offset): NULL;
    for (size_t index = 0; index < count; index++) {
        msgpack_pack_map (packer, 6);
        s_pack_key (packer, "seq");
        msgpack_pack_uint64 (packer, message->seq);
        s_pack_key (packer, "priority");
        msgpack_pack_int64 (packer, message->priority);
        s_pack_key (packer, "queued");
        msgpack_pack_int64 (packer, message->queued);
        s_pack_key (packer, "producer");
        msgpack_pack_str_with_body (packer, message->producer? message->producer: "",
                                    message->producer? strlen (message->producer): 0);
        s_pack_key (packer, "latency");
        msgpack_pack_int64 (packer, now - message->queued);
        s_pack_key (packer, "data");
        msgpack_pack_bin_with_body (packer, zmq_msg_data (&message->payload), zmq_msg_size (&message->payload));
        message = (zg_rmessage_t *) zg_roomq_next (self->queue);
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class

static zg_rmessage_t *
s_test_message (uint64_t seq, int64_t priority)
{
    zg_rmessage_t *message = (zg_rmessage_t *) zmalloc (sizeof (zg_rmessage_t));
    assert (message);
    message->seq = seq;
    message->priority = priority;
    zmq_msg_init_size (&message->payload, 1);
    *(char *) zmq_msg_data (&message->payload) = (char) ('a' + seq);
    return message;
}

//  --------------------------------------------------------------------------

static void
s_test_push (zg_room_t *room, uint64_t seq, int64_t priority)
{
    zg_rmessage_t *message = s_test_message (seq, priority);
    zg_room_push (room, &message);
    assert (message == NULL);
}

//  --------------------------------------------------------------------------
//  Release and complete every queued message; returns their seqs in order

static void
s_test_drain (zg_room_t *room, uint64_t *seqs, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        assert (zg_room_can_release (room));
        seqs [index] = zg_room_release (room, 0)->seq;
        assert (zg_room_is_done (room));
        zg_rmessage_t *message = zg_room_complete (room);
        zg_rmessage_destroy (&message);
    }
    assert (!zg_room_can_release (room));
}

//  --------------------------------------------------------------------------

void
zg_room_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_room: ");
    //  @selftest
    zg_room_options_t defaults = { false, ZG_ROOM_DEFAULT_ACK_TIMEOUT, false };
    //  Options: a map over the current ones, all or nothing
    zg_room_options_t options = defaults;
    assert (zg_room_options_parse ("\x80", 1, &options) == 0);
    assert (!options.hold && options.ack_timeout == ZG_ROOM_DEFAULT_ACK_TIMEOUT && !options.lowest_first);
    const char *map = "\x83\xa4hold\xc3\xab" "ack-timeout\xcd\x01\xf4\xae" "priority-order\xac" "lowest-first";
    assert (zg_room_options_parse (map, strlen (map), &options) == 0);
    assert (options.hold && options.ack_timeout == 500 && options.lowest_first);
    const char *bad [] = {
        "\x81\xab" "ack_timeout\xcd\x01\xf4",                  //  Old spelling
        "\x81\xab" "ack-timeout\x63",                          //  Below the minimum
        "\x81\xae" "priority-order\xa6" "random",              //  Unknown order
        "\x82\xa4hold\xc2\xa3" "bad\xc3",                      //  Unknown key after a good one
        "\x81\xa4hold\xc2\xc3",                                //  Trailing bytes
        "\x91\xc3"                                             //  Not a map
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        assert (zg_room_options_parse (bad [index], strlen (bad [index]), &options) == -1);
        assert (options.hold && options.ack_timeout == 500 && options.lowest_first);
    }

    //  Highest priority first by default, FIFO among equals, no merging
    zg_room_t *room = zg_room_new ("lobby", &defaults);
    assert (zg_room_is_idle (room, &defaults));
    s_test_push (room, 1, 0);
    s_test_push (room, 2, 5);
    s_test_push (room, 3, INT64_MIN);
    s_test_push (room, 4, 5);
    s_test_push (room, 5, INT64_MAX);
    assert (zg_room_backlog (room) == 5 && !zg_room_is_idle (room, &defaults));
    //  The order cannot change under queued messages
    options = defaults;
    options.lowest_first = true;
    assert (zg_room_configure (room, &options) == -1 && !room->options.lowest_first);
    uint64_t seqs [5];
    s_test_drain (room, seqs, 5);
    assert (seqs [0] == 5 && seqs [1] == 2 && seqs [2] == 4 && seqs [3] == 1 && seqs [4] == 3);
    //  The seed's order, per room: lowest first
    assert (zg_room_configure (room, &options) == 0 && room->options.lowest_first);
    assert (!zg_room_is_idle (room, &defaults));
    s_test_push (room, 6, 5);
    s_test_push (room, 7, INT64_MIN);
    s_test_push (room, 8, 0);
    s_test_drain (room, seqs, 3);
    assert (seqs [0] == 7 && seqs [1] == 8 && seqs [2] == 6);
    assert (zg_room_configure (room, &defaults) == 0 && zg_room_is_idle (room, &defaults));

    //  Lockstep: the sync members at release are the holders
    zg_rclients_t *clients = zg_rclients_new ();
    zg_rclient_t *alice = zg_rclients_add (clients, "c", 1, 0);
    zg_rclient_t *bob = zg_rclients_add (clients, "c", 1, 0);
    zg_rclient_t *carol = zg_rclients_add (clients, "c", 1, 0);
    zg_rmember_t *a = zg_room_member_add (room, alice, false);
    zg_rmember_t *b = zg_room_member_add (room, bob, false);
    zg_rmember_t *c = zg_room_member_add (room, carol, true);
    assert (zg_room_member (room, alice) == a && alice->members == a && alice->rooms == 1);
    alice->last_member = a;
    assert (zg_room_last_member (alice, "lobby", 5) == a);
    assert (!zg_room_last_member (alice, "lobbyist", 8) && !zg_room_last_member (bob, "lobby", 5));
    assert (room->sync_members == 2 && room->async_members == 1);
    s_test_push (room, 9, 0);
    s_test_push (room, 10, 0);
    zg_rmessage_t *inflight = zg_room_release (room, 1234);
    assert (inflight->seq == 9 && room->released == 1234 && room->waiting == 2);
    assert (room->token_size == 1 && streq (room->token, "9"));
    assert (!zg_room_can_release (room) && !zg_room_is_done (room));
    assert (zg_rmember_is_waited_for (a) && !zg_rmember_is_waited_for (c));
    //  Wrong acks change nothing
    const char *reason = NULL;
    assert (zg_room_ack (room, a, "8", 1, &reason) == -1 && streq (reason, "stale ack token"));
    assert (zg_room_ack (room, a, "99", 2, &reason) == -1);
    assert (zg_room_ack (room, c, "9", 1, &reason) == -1 && strstr (reason, "holder"));
    assert (room->waiting == 2);
    //  Asking whether a holder may ack changes nothing either
    assert (zg_room_ack_refusal (room, a, "9", 1) == NULL && !zg_rmember_has_acked (a));
    assert (zg_room_ack (room, a, "9", 1, &reason) == 0 && zg_rmember_has_acked (a));
    assert (zg_room_ack (room, a, "9", 1, &reason) == -1 && streq (reason, "duplicate ack"));
    assert (room->waiting == 1 && !zg_room_is_done (room));
    //  A late joiner is not waited for; a holder that turns observer is done
    zg_rclient_t *dave = zg_rclients_add (clients, "c", 1, 0);
    zg_rmember_t *d = zg_room_member_add (room, dave, false);
    assert (!zg_rmember_is_waited_for (d) && room->waiting == 1);
    zg_room_member_set_mode (room, b, true);
    assert (room->waiting == 0 && zg_room_is_done (room) && room->async_members == 2);
    zg_rmessage_t *done = zg_room_complete (room);
    assert (done == inflight && !room->inflight);
    zg_rmessage_destroy (&done);
    //  A holder that leaves is no longer waited for
    zg_room_release (room, 0);
    assert (room->waiting == 2);
    zg_room_member_remove (room, &d);
    assert (d == NULL && dave->rooms == 0 && !dave->members && room->waiting == 1);
    //  STATE and PEEK pack valid maps
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    zg_room_pack_state (room, &packer);
    s_test_push (room, 11, 0);
    zg_rmessage_t *produced = s_test_message (12, 0);
    produced->queued = 400;
    produced->producer = strdup ("alice");
    zg_room_push (room, &produced);
    zg_room_pack_peek (room, &packer, 1, 10, 0, 1000);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    assert (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, &offset) == MSGPACK_UNPACK_SUCCESS);
    assert (unpacked.data.type == MSGPACK_OBJECT_MAP && unpacked.data.via.map.size == 8);
    assert (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, &offset) == MSGPACK_UNPACK_SUCCESS);
    //  From offset 1 of [12]: one message, the byte bound never drops the first
    msgpack_object *messages = &unpacked.data.via.map.ptr [3].val;
    assert (messages->type == MSGPACK_OBJECT_ARRAY && messages->via.array.size == 1);
    //  Each entry tells who produced it and how long it has waited
    msgpack_object_map *entry = &messages->via.array.ptr [0].via.map;
    assert (entry->size == 6);
    assert (entry->ptr [3].val.type == MSGPACK_OBJECT_STR && entry->ptr [3].val.via.str.size == 5
        &&  memcmp (entry->ptr [3].val.via.str.ptr, "alice", 5) == 0);
    assert (entry->ptr [4].val.via.i64 == 600);
    assert (offset == buffer.size);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    //  Destroying a room frees its memberships and messages
    zg_room_destroy (&room);
    assert (room == NULL);
    zg_room_destroy (&room);
    alice->members = bob->members = carol->members = NULL;
    alice->rooms = bob->rooms = carol->rooms = 0;
    zg_rclients_destroy (&clients);
    //  @end
    printf ("OK\n");
}
