/*  =========================================================================
    zg_roomproxy - a room proxy: many local clients, one upstream member

    Each proxied room counts the local clients that hold its message in
    flight and have not acked it (waiting), as the rooms actor does for its
    members, so a local ack is O(1) and the upstream ACK is due when the
    count reaches zero. A second index, local client -> its rooms, lets a
    local client that goes leave its rooms without a scan of all rooms.
    =========================================================================
*/

#include "zg_roomproxy.h"
//  The self test runs against a real rooms actor in-process
#include "zg_member.h"
#include "zg_room_producer.h"
#ifdef ZGCLIENT_SELFTEST
#include "zg_rooms.h"
#include "zg_actor.h"
#endif

//  A local client's part in a room's message in flight
typedef struct {
    bool holder;                    //  It got the message
    bool acked;                     //  And acked it
} s_local_t;

//  A proxied room
typedef struct {
    char *name;                     //  Room name
    zhashx_t *locals;               //  Local id -> s_local_t
    char *token;                    //  Ack token of the message in flight, or NULL
    size_t waiting;                 //  Holders that have not acked it
} s_room_t;

struct _zg_roomproxy_t {
    zhashx_t *rooms;                //  Room name -> s_room_t
    zhashx_t *memberships;          //  Local id -> zhashx_t of room name -> s_room_t
    s_room_t *iterated;             //  Room of first/next
};

//  --------------------------------------------------------------------------

static void
s_room_destroy (s_room_t **self_p)
{
    s_room_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->locals);
        free (self->name);
        free (self->token);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

zg_roomproxy_t *
zg_roomproxy_new (void)
{
    zg_roomproxy_t *self = (zg_roomproxy_t *) zmalloc (sizeof (zg_roomproxy_t));
    assert (self);
    self->rooms = zhashx_new ();
    zhashx_set_destructor (self->rooms, (zhashx_destructor_fn *) s_room_destroy);
    self->memberships = zhashx_new ();
    zhashx_set_destructor (self->memberships, (zhashx_destructor_fn *) zhashx_destroy);
    return self;
}

//  --------------------------------------------------------------------------

void
zg_roomproxy_destroy (zg_roomproxy_t **self_p)
{
    assert (self_p);
    zg_roomproxy_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->memberships);
        zhashx_destroy (&self->rooms);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Record or forget a local client's membership in the second index

static void
s_self_index (zg_roomproxy_t *self, s_room_t *room, const char *local, bool member)
{
    zhashx_t *rooms = (zhashx_t *) zhashx_lookup (self->memberships, local);
    if (member) {
        if (!rooms) {
            rooms = zhashx_new ();
            zhashx_insert (self->memberships, local, rooms);
        }
        zhashx_insert (rooms, room->name, room);
    }
    else {
        zhashx_delete (rooms, room->name);
        if (zhashx_size (rooms) == 0)
            zhashx_delete (self->memberships, local);
    }
}

//  --------------------------------------------------------------------------

int
zg_roomproxy_join (zg_roomproxy_t *self, const char *room, const char *local)
{
    assert (self && room && local);
    if (!*room || !*local)
        return -1;
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    int action = 0;
    if (!entry) {
        entry = (s_room_t *) zmalloc (sizeof (s_room_t));
        assert (entry);
        entry->name = strdup (room);
        entry->locals = zhashx_new ();
        zhashx_set_destructor (entry->locals, (zhashx_destructor_fn *) zstr_free);
        zhashx_insert (self->rooms, room, entry);
        action = ZG_ROOMPROXY_JOIN;
    }
    else
    if (zhashx_lookup (entry->locals, local))
        return -1;
    s_local_t *state = (s_local_t *) zmalloc (sizeof (s_local_t));
    assert (state);
    zhashx_insert (entry->locals, local, state);
    s_self_index (self, entry, local, true);
    return action;
}

//  --------------------------------------------------------------------------
//  Remove a local client from a room; returns what the room then needs

static int
s_self_remove (zg_roomproxy_t *self, s_room_t *room, const char *local)
{
    s_local_t *state = (s_local_t *) zhashx_lookup (room->locals, local);
    bool was_last_to_ack = state->holder && !state->acked && --room->waiting == 0;
    s_self_index (self, room, local, false);
    zhashx_delete (room->locals, local);
    if (zhashx_size (room->locals) == 0) {
        zhashx_delete (self->rooms, room->name);
        return ZG_ROOMPROXY_LEAVE;
    }
    return was_last_to_ack? ZG_ROOMPROXY_ACK: 0;
}

//  --------------------------------------------------------------------------

int
zg_roomproxy_leave (zg_roomproxy_t *self, const char *room, const char *local)
{
    assert (self && room && local);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    if (!entry || !zhashx_lookup (entry->locals, local))
        return -1;
    return s_self_remove (self, entry, local);
}

//  --------------------------------------------------------------------------

int
zg_roomproxy_deliver (zg_roomproxy_t *self, const char *room, const char *token)
{
    assert (self && room && token);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    if (!entry)
        return -1;
    if (!*token)
        return (int) zhashx_size (entry->locals);
    free (entry->token);
    entry->token = strdup (token);
    for (s_local_t *state = (s_local_t *) zhashx_first (entry->locals); state;
         state = (s_local_t *) zhashx_next (entry->locals))
        *state = (s_local_t) { true, false };
    entry->waiting = zhashx_size (entry->locals);
    return (int) entry->waiting;
}

//  --------------------------------------------------------------------------

int
zg_roomproxy_ack (zg_roomproxy_t *self, const char *room, const char *local, const char *token,
                  const char **reason)
{
    assert (self && room && local && token && reason);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    s_local_t *state = entry? (s_local_t *) zhashx_lookup (entry->locals, local): NULL;
    if (!state)
        *reason = "not a member of the room";
    else
    if (!entry->token || strneq (entry->token, token))
        *reason = "stale ack token";
    else
    if (!state->holder)
        *reason = "not a holder of the message in flight";
    else
    if (state->acked)
        *reason = "duplicate ack";
    else {
        state->acked = true;
        return --entry->waiting == 0? ZG_ROOMPROXY_ACK: 0;
    }
    return -1;
}

//  --------------------------------------------------------------------------

int
zg_roomproxy_evicted (zg_roomproxy_t *self, const char *room, const char *reason, zlistx_t *removed)
{
    assert (self && room && reason && removed);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    if (!entry)
        return -1;
    bool all = strneq (reason, "ack-timeout");
    //  Collect first: removing changes the table
    zlistx_t *late = zlistx_new ();
    for (s_local_t *state = (s_local_t *) zhashx_first (entry->locals); state;
         state = (s_local_t *) zhashx_next (entry->locals))
        if (all || (state->holder && !state->acked))
            zlistx_add_end (late, (void *) zhashx_cursor (entry->locals));
    size_t remaining = zhashx_size (entry->locals) - zlistx_size (late);
    //  The upstream member is gone with its message: the rest hold nothing
    zstr_free (&entry->token);
    entry->waiting = 0;
    for (s_local_t *state = (s_local_t *) zhashx_first (entry->locals); state;
         state = (s_local_t *) zhashx_next (entry->locals))
        *state = (s_local_t) { false, false };
    for (const char *local = (const char *) zlistx_first (late); local; local = (const char *) zlistx_next (late)) {
        zlistx_add_end (removed, strdup (local));
        //  The room goes with its last local client (the name may be freed)
        s_self_remove (self, entry, local);
    }
    zlistx_destroy (&late);
    return remaining > 0? ZG_ROOMPROXY_JOIN: 0;
}

//  --------------------------------------------------------------------------

const char *
zg_roomproxy_token (zg_roomproxy_t *self, const char *room)
{
    assert (self && room);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    return entry? entry->token: NULL;
}

//  --------------------------------------------------------------------------

bool
zg_roomproxy_has (zg_roomproxy_t *self, const char *room, const char *local)
{
    assert (self && room && local);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    return entry && zhashx_lookup (entry->locals, local);
}

//  --------------------------------------------------------------------------

size_t
zg_roomproxy_size (zg_roomproxy_t *self, const char *room)
{
    assert (self && room);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    return entry? zhashx_size (entry->locals): 0;
}

size_t
zg_roomproxy_rooms (zg_roomproxy_t *self)
{
    assert (self);
    return zhashx_size (self->rooms);
}

size_t
zg_roomproxy_waiting (zg_roomproxy_t *self, const char *room)
{
    assert (self && room);
    s_room_t *entry = (s_room_t *) zhashx_lookup (self->rooms, room);
    return entry? entry->waiting: 0;
}

//  --------------------------------------------------------------------------

const char *
zg_roomproxy_first (zg_roomproxy_t *self, const char *room)
{
    assert (self && room);
    self->iterated = (s_room_t *) zhashx_lookup (self->rooms, room);
    if (!self->iterated || !zhashx_first (self->iterated->locals))
        return NULL;
    return (const char *) zhashx_cursor (self->iterated->locals);
}

const char *
zg_roomproxy_next (zg_roomproxy_t *self)
{
    assert (self);
    if (!self->iterated || !zhashx_next (self->iterated->locals))
        return NULL;
    return (const char *) zhashx_cursor (self->iterated->locals);
}

//  --------------------------------------------------------------------------

zlistx_t *
zg_roomproxy_rooms_of (zg_roomproxy_t *self, const char *local)
{
    assert (self && local);
    zlistx_t *list = zlistx_new ();
    zlistx_set_destructor (list, (zlistx_destructor_fn *) zstr_free);
    zhashx_t *rooms = (zhashx_t *) zhashx_lookup (self->memberships, local);
    for (s_room_t *room = rooms? (s_room_t *) zhashx_first (rooms): NULL; room;
         room = (s_room_t *) zhashx_next (rooms))
        zlistx_add_end (list, strdup (room->name));
    return list;
}

//  --------------------------------------------------------------------------
//  Self test of this class

#ifdef ZGCLIENT_SELFTEST

//  Wait for the upstream member's next DELIVER or EVICTED and pass it to
//  the proxy as a program does: a DELIVER nobody gets is acked at once.
//  Returns the event, or NULL.
static const char *
s_test_upstream (zg_roomproxy_t *proxy, zg_member_t *upstream, zlistx_t *removed)
{
    const char *event = zg_member_recv (upstream, 2000);
    if (event && streq (event, "DELIVER")) {
        if (zg_roomproxy_deliver (proxy, zg_member_room (upstream), zg_member_token (upstream)) == 0)
            zg_member_ack (upstream, zg_member_room (upstream), zg_member_token (upstream));
    }
    else
    if (event && streq (event, "EVICTED")
    &&  zg_roomproxy_evicted (proxy, zg_member_room (upstream), zg_member_reason (upstream), removed)
        == ZG_ROOMPROXY_JOIN)
        zg_member_join (upstream, zg_member_room (upstream), false);
    return event;
}

//  A local client acks; the last ack goes upstream
static void
s_test_local_ack (zg_roomproxy_t *proxy, zg_member_t *upstream, const char *room, const char *local)
{
    const char *reason;
    const char *token = zg_roomproxy_token (proxy, room);
    assert (token);
    int action = zg_roomproxy_ack (proxy, room, local, token, &reason);
    assert (action >= 0);
    if (action == ZG_ROOMPROXY_ACK)
        zg_member_ack (upstream, room, token);
}

//  Members the rooms actor has in a room (STATE)
static size_t
s_test_members (zg_room_producer_t *producer, const char *room)
{
    msgpack_unpacked state;
    msgpack_unpacked_init (&state);
    assert (zg_room_producer_state (producer, room, &state) == 0);
    size_t members = 0;
    for (uint32_t index = 0; index < state.data.via.map.size; index++) {
        msgpack_object_kv *pair = &state.data.via.map.ptr [index];
        if (pair->key.via.str.size == 7 && memcmp (pair->key.via.str.ptr, "members", 7) == 0)
            members = pair->val.via.array.size;
    }
    msgpack_unpacked_destroy (&state);
    return members;
}

#endif

void
zg_roomproxy_test (bool verbose)
{
    printf (" * zg_roomproxy: ");
#ifdef ZGCLIENT_SELFTEST
    //  @selftest
    //  The bookkeeping alone
    zg_roomproxy_t *proxy = zg_roomproxy_new ();
    const char *reason;
    assert (zg_roomproxy_join (proxy, "", "a") == -1 && zg_roomproxy_join (proxy, "r", "") == -1);
    assert (zg_roomproxy_join (proxy, "r", "a") == ZG_ROOMPROXY_JOIN);
    assert (zg_roomproxy_join (proxy, "r", "b") == 0);
    assert (zg_roomproxy_join (proxy, "r", "b") == -1);
    assert (zg_roomproxy_leave (proxy, "r", "c") == -1 && zg_roomproxy_leave (proxy, "s", "a") == -1);
    assert (zg_roomproxy_ack (proxy, "r", "a", "1", &reason) == -1 && streq (reason, "stale ack token"));
    assert (zg_roomproxy_deliver (proxy, "s", "1") == -1);
    assert (zg_roomproxy_deliver (proxy, "r", "") == 2 && !zg_roomproxy_token (proxy, "r"));
    assert (zg_roomproxy_deliver (proxy, "r", "1") == 2);
    assert (zg_roomproxy_join (proxy, "r", "c") == 0);
    assert (zg_roomproxy_ack (proxy, "r", "c", "1", &reason) == -1 && strstr (reason, "holder"));
    assert (zg_roomproxy_ack (proxy, "r", "a", "2", &reason) == -1 && streq (reason, "stale ack token"));
    assert (zg_roomproxy_ack (proxy, "r", "a", "1", &reason) == 0);
    assert (zg_roomproxy_ack (proxy, "r", "a", "1", &reason) == -1 && streq (reason, "duplicate ack"));
    //  A holder that leaves counts as its ack; c, who holds nothing, does not
    assert (zg_roomproxy_waiting (proxy, "r") == 1);
    assert (zg_roomproxy_leave (proxy, "r", "c") == 0);
    assert (zg_roomproxy_leave (proxy, "r", "b") == ZG_ROOMPROXY_ACK);
    assert (zg_roomproxy_leave (proxy, "r", "a") == ZG_ROOMPROXY_LEAVE);
    assert (zg_roomproxy_rooms (proxy) == 0 && zg_roomproxy_size (proxy, "r") == 0);
    //  An ack-timeout removes only those still to ack
    zlistx_t *removed = zlistx_new ();
    zlistx_set_destructor (removed, (zlistx_destructor_fn *) zstr_free);
    zg_roomproxy_join (proxy, "r", "a");
    zg_roomproxy_join (proxy, "r", "b");
    zg_roomproxy_join (proxy, "q", "a");
    zg_roomproxy_deliver (proxy, "r", "7");
    assert (zg_roomproxy_ack (proxy, "r", "b", "7", &reason) == 0);
    assert (zg_roomproxy_evicted (proxy, "r", "ack-timeout", removed) == ZG_ROOMPROXY_JOIN);
    assert (zlistx_size (removed) == 1 && streq ((char *) zlistx_first (removed), "a"));
    assert (zg_roomproxy_has (proxy, "r", "b") && !zg_roomproxy_has (proxy, "r", "a"));
    assert (!zg_roomproxy_token (proxy, "r") && zg_roomproxy_waiting (proxy, "r") == 0);
    assert (zg_roomproxy_evicted (proxy, "r", "timeout", removed) == 0 && zlistx_size (removed) == 2);
    assert (zg_roomproxy_evicted (proxy, "r", "timeout", removed) == -1);
    zlistx_t *rooms = zg_roomproxy_rooms_of (proxy, "a");
    assert (zlistx_size (rooms) == 1 && streq ((char *) zlistx_first (rooms), "q"));
    zlistx_destroy (&rooms);
    zg_roomproxy_destroy (&proxy);
    zlistx_purge (removed);

    //  Against a real rooms actor: the seed's proxy test (client1 in room1
    //  and room2, client2 in room2: one message to each room, client1 gets
    //  2 and client2 1), each room one member upstream, in lockstep
    zactor_t *actor = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (actor, "ack-timeout", "500", error, sizeof error) == 0);
    assert (zg_actor_set (actor, "clients", "inproc://zg-roomproxy-test", error, sizeof error) == 0);
    zg_member_t *upstream = zg_member_new ("inproc://zg-roomproxy-test", 300);
    zg_room_producer_t *producer = zg_room_producer_new ("inproc://zg-roomproxy-test", 2000);
    assert (upstream && producer);
    proxy = zg_roomproxy_new ();
    const char *joins [][2] = { { "room1", "client1" }, { "room2", "client1" }, { "room2", "client2" } };
    for (size_t index = 0; index < 3; index++)
        if (zg_roomproxy_join (proxy, joins [index][0], joins [index][1]) == ZG_ROOMPROXY_JOIN)
            assert (zg_member_join (upstream, joins [index][0], false) == 0);
    assert (s_test_members (producer, "room2") == 1);
    assert (zg_room_producer_send (producer, "room1", 0, "one", 3, NULL) == 0);
    assert (zg_room_producer_send (producer, "room2", 0, "two", 3, NULL) == 0);
    assert (zg_room_producer_send (producer, "room2", 0, "three", 5, NULL) == 0);
    size_t counts [2] = { 0, 0 };
    for (int event = 0; event < 2; event++) {
        assert (streq (s_test_upstream (proxy, upstream, removed), "DELIVER"));
        for (const char *local = zg_roomproxy_first (proxy, zg_member_room (upstream)); local;
             local = zg_roomproxy_next (proxy))
            counts [streq (local, "client2")]++;
    }
    assert (counts [0] == 2 && counts [1] == 1);
    s_test_local_ack (proxy, upstream, "room1", "client1");
    //  "three" waits for both local clients of room2: client1's ack is not
    //  enough, client2 leaving counts as its ack
    s_test_local_ack (proxy, upstream, "room2", "client1");
    assert (zg_member_recv (upstream, 300) == NULL);
    assert (zg_roomproxy_leave (proxy, "room2", "client2") == ZG_ROOMPROXY_ACK);
    zg_member_ack (upstream, "room2", zg_roomproxy_token (proxy, "room2"));
    assert (streq (s_test_upstream (proxy, upstream, removed), "DELIVER"));
    assert (zframe_streq (zg_member_payload (upstream), "three"));
    //  Nobody acks "three": the upstream member is evicted, client1 with it,
    //  and the proxy forgets room2
    assert (streq (s_test_upstream (proxy, upstream, removed), "EVICTED"));
    assert (zlistx_size (removed) == 1 && zg_roomproxy_size (proxy, "room2") == 0);
    assert (s_test_members (producer, "room2") == 0 && s_test_members (producer, "room1") == 1);
    if (verbose)
        printf ("(upstream %s) ", zg_member_id (upstream));
    zlistx_destroy (&removed);
    zg_roomproxy_destroy (&proxy);
    zg_room_producer_destroy (&producer);
    zg_member_destroy (&upstream);
    zactor_destroy (&actor);
    //  @end
#else
    (void) verbose;
#endif
    printf ("OK\n");
}
