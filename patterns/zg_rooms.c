/*  =========================================================================
    zg_rooms - lockstep fan-out rooms actor (ROUTER for members and producers)

    The actor owns the socket, the framing, the command table and the
    answers; its settings are a zg_rsettings. Beneath it: zg_rclients
    (logical clients, in order of last contact), zg_roomset (the rooms by
    name and by ack deadline, moved in lockstep, and the events that tell
    the members) and zg_room (one room's state and memberships). All state
    lives in this actor's thread. The costs that matter:
    - an ACK is one hash lookup (its client; the client's last membership is
      cached, else two more) and a counter decrement (zg_room); an ACKS
      (protocol version 2, zg_racks) the same per client and one settle for all;
    - keepalive deadlines are the clients' liveness list and ack deadlines a
      heap of rooms: the poll timeout is the earlier of the two heads and
      nothing is swept.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_roomset.h"
#include "zg_rsettings.h"
#include "zg_rclients.h"
#include "zg_ranswers.h"
#include "zg_racks.h"
#include "zg_security.h"
#include "zg_routebytes.h"
#include "zg_mpjson.h"
#include "zg_rtest.h"
#include "zg_rooms_link.h"

//  Frames in the largest request, routing id included
#define ZG_ROOMS_MAX_FRAMES 7
//  Requests handled per wake-up before timers and the pipe get a turn
#define ZG_ROOMS_BATCH 1024
//  Rooms listed in the STATS top list
#define ZG_ROOMS_STATS_TOP 10

typedef struct _zg_rooms_core_t {
    zsock_t *pipe;                  //  Actor command pipe (NULL without a thread)
    zsock_t *router;                //  Clients' side
    void *handle;                   //  Its libzmq socket, resolved once
    zg_rsettings_t settings;        //  Current settings
    zg_rclients_t *clients;         //  Logical clients
    zg_racks_t *racks;              //  ACKS batches, checked whole
    zg_roomset_t *rooms;            //  Rooms
    zg_security_t *security;        //  CURVE and permissions
    zg_routebytes_t *routebytes;    //  Bytes queued for each TCP connection
    zg_rooms_link_t *link;          //  Cluster mode: SEND and OOB go through Redis
    int64_t now;                    //  Monotonic ms of the request being handled
    zg_wire_request_t request;      //  The request being handled
    zg_ranswers_t *answers;         //  Its answers
    zg_holder_t holder;             //  Its sender, charged with the rooms it makes
    char *room_key;                 //  Room name as a string key
    uint64_t sent;                  //  SEND accepted
    uint64_t acked;                 //  Acks counted
    uint64_t oob;                   //  OOB messages
    bool terminated;                //  $TERM received
} self_t;

//  --------------------------------------------------------------------------
//  New rooms take their options from the settings; priority-order is per
//  room only, highest-first unless set

static void
s_self_configure_rooms (self_t *self)
{
    zg_room_options_t defaults = zg_rsettings_room_options (&self->settings);
    zg_roomset_configure (self->rooms, &defaults, self->settings.room_idle_timeout,
                          self->settings.max_rooms_per_connection, self->settings.verbose != 0);
}

//  --------------------------------------------------------------------------

zg_rooms_core_t *
zg_rooms_core_new (void)
{
    self_t *self = (self_t *) zmalloc (sizeof (self_t));
    assert (self);
    self->settings = zg_rsettings_defaults ();
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    self->handle = zsock_resolve (self->router);
    //  Refused sends are counted instead of silently vanishing
    zsock_set_router_mandatory (self->router, 1);
    zg_actor_set_hwms (self->router, self->settings.sndhwm, self->settings.rcvhwm);
    zsock_set_maxmsgsize (self->router, (int) self->settings.max_message_size);
    self->clients = zg_rclients_new ();
    self->racks = zg_racks_new ();
    self->security = zg_security_new ();
    self->routebytes = zg_routebytes_new ();
    zg_routebytes_attach (self->routebytes, self->handle);
    zg_security_watch_routes (self->security, self->routebytes);
    self->rooms = zg_roomset_new (self->handle);
    self->link = zg_rooms_link_new ();
    s_self_configure_rooms (self);
    self->room_key = (char *) zmalloc ((size_t) self->settings.max_name_size + 1);
    self->answers = zg_ranswers_new (self->handle, &self->request, &self->settings);
    self->holder.request = &self->request;
    return self;
}

//  --------------------------------------------------------------------------

void
zg_rooms_core_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    //  Rooms first: their members point at clients
    zg_roomset_destroy (&self->rooms);
    zg_rclients_destroy (&self->clients);
    zg_racks_destroy (&self->racks);
    zg_security_destroy (&self->security);
    zg_routebytes_destroy (&self->routebytes);
    zg_rooms_link_destroy (&self->link);
    zsock_destroy (&self->router);
    free (self->room_key);
    zg_ranswers_destroy (&self->answers);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  A decimal integer field; answers an ERROR if it is not one

static int
s_self_int (self_t *self, size_t index, int64_t min, int64_t *value, const char *what)
{
    zg_wire_part_t frame = zg_wire_frame (&self->request, index);
    if (zg_wire_parse_int (frame.data, frame.size, min, INT64_MAX, value) == 0)
        return 0;
    if (min == INT64_MIN)
        return zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "%s must be a decimal integer", what);
    return zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "%s must be a decimal integer >= %" PRId64, what,
                              min);
}

//  --------------------------------------------------------------------------
//  The room name in a frame, as self->room_key; answers an ERROR if invalid

static const char *
s_self_room_name (self_t *self, size_t index)
{
    zg_wire_part_t frame = zg_wire_frame (&self->request, index);
    if ((int64_t) frame.size > self->settings.max_name_size) {
        zg_ranswers_error (self->answers, ZG_ERR_TOO_LARGE, "room name longer than %" PRId64 " bytes",
                           self->settings.max_name_size);
        return NULL;
    }
    if (frame.size == 0 || memchr (frame.data, 0, frame.size)) {
        zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "room name must be 1 or more bytes, without NUL");
        return NULL;
    }
    memcpy (self->room_key, frame.data, frame.size);
    self->room_key [frame.size] = 0;
    return self->room_key;
}

//  --------------------------------------------------------------------------
//  The client a frame names, touched: a command naming it is a sign of life,
//  and its events follow it to this connection; answers an ERROR if unknown,
//  and 403 if the sender may not name it (another connection or identity:
//  the message's properties are read only for a client that has an owner)

static zg_rclient_t *
s_self_touch_client (self_t *self, size_t index)
{
    zg_wire_part_t frame = zg_wire_frame (&self->request, index);
    zg_wire_part_t routing = zg_wire_frame (&self->request, 0);
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_rclient_t *client = zg_rclients_named (self->clients, frame.data, frame.size, &self->request, &code, reason);
    if (client)
        zg_rclients_touch (self->clients, client, routing.data, routing.size, self->now);
    else
        zg_ranswers_refused (self->answers, code, reason);
    return client;
}

//  --------------------------------------------------------------------------
//  Timers: evict clients silent for client-timeout, and the holders that
//  have not acked a message within their room's ack-timeout

static void
s_self_expire (self_t *self)
{
    self->now = zclock_mono ();
    zg_roomset_expire_clients (self->rooms, self->clients, self->now, self->settings.client_timeout);
    zg_roomset_expire (self->rooms, self->now);
}

//  --------------------------------------------------------------------------
//  Milliseconds until the next deadline, or -1 for none

static long
s_self_poll_timeout (self_t *self)
{
    int64_t next = zg_rclients_next_deadline (self->clients, self->settings.client_timeout);
    if (zg_roomset_next_deadline (self->rooms) < next)
        next = zg_roomset_next_deadline (self->rooms);
    if (next == INT64_MAX)
        return -1;
    int64_t wait = next - zclock_mono ();
    return wait < 0? 0: (long) wait;
}

//  --------------------------------------------------------------------------
//  The requests (docs/PROTOCOL.md, Rooms); frames [0] routing, [1] command, [2] req

static void
s_self_hello (self_t *self)
{
    //  The protocol version it asks for: version 2 batches DELIVERs (zg_rbatch)
    int64_t version = 1;
    if (zg_wire_kept (&self->request) > 3 && s_self_int (self, 3, 1, &version, "version"))
        return;
    zg_wire_part_t routing = zg_wire_frame (&self->request, 0);
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_rclient_t *client = zg_rclients_hello (self->clients, routing.data, routing.size,
                                              zg_wire_identity (&self->request), zg_security_on (self->security),
                                              self->settings.max_clients, self->settings.max_clients_per_connection,
                                              self->now, &code, reason);
    if (client) {
        client->version = version < ZG_RCLIENTS_VERSION? (int) version: ZG_RCLIENTS_VERSION;
        zg_wire_part_t results [] = { { client->id, client->id_size }, zg_wire_str (client->version > 1? "2": "1") };
        zg_ranswers_ok (self->answers, results, zg_wire_kept (&self->request) > 3? 2: 1);
    }
    else
        zg_ranswers_error (self->answers, code, "%s", reason);
}

//  --------------------------------------------------------------------------

static void
s_self_join (self_t *self)
{
    bool async = zg_wire_is (&self->request, 5, "async");
    if (zg_wire_kept (&self->request) == 6 && !async && !zg_wire_is (&self->request, 5, "sync")) {
        zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "mode must be 'sync' or 'async'");
        return;
    }
    zg_rclient_t *client = s_self_touch_client (self, 3);
    const char *name = client? s_self_room_name (self, 4): NULL;
    if (!name)
        return;
    zg_room_t *room;
    char reason [ZG_WIRE_REASON_SIZE];
    int code = zg_roomset_enter (self->rooms, client, name, async, self->settings.max_rooms,
                                 self->settings.max_rooms_per_client, &self->holder, &room, reason);
    if (code) {
        zg_ranswers_error (self->answers, code, "%s", reason);
        return;
    }
    zg_ranswers_ok (self->answers, NULL, 0);
    zg_roomset_settle (self->rooms, room, self->now);
}

//  --------------------------------------------------------------------------
//  The membership named by [client][room] frames; answers an ERROR if none

static zg_rmember_t *
s_self_member (self_t *self, size_t client_frame)
{
    zg_rclient_t *client = s_self_touch_client (self, client_frame);
    if (!client)
        return NULL;
    //  A cached name is valid unless max-name-size shrank since the room was made
    zg_wire_part_t frame = zg_wire_frame (&self->request, client_frame + 1);
    zg_rmember_t *member = zg_room_last_member (client, frame.data, frame.size);
    if (member && (int64_t) frame.size <= self->settings.max_name_size)
        return member;
    const char *name = s_self_room_name (self, client_frame + 1);
    if (!name)
        return NULL;
    zg_room_t *room = zg_roomset_lookup (self->rooms, name);
    member = room? zg_room_member (room, client): NULL;
    if (member)
        client->last_member = member;
    else
        zg_ranswers_error (self->answers, ZG_ERR_NOT_FOUND, "not a member of '%s'", name);
    return member;
}

//  --------------------------------------------------------------------------

static void
s_self_leave (self_t *self)
{
    zg_rmember_t *member = s_self_member (self, 3);
    if (!member)
        return;
    zg_room_t *room = member->room;
    zg_rclient_t *client = member->client;
    if (self->settings.verbose)
        zsys_info ("zg_rooms: %s leaves '%s'", client->id, room->name);
    zg_roomset_leave (self->rooms, &member);
    zg_ranswers_ok (self->answers, NULL, 0);
    zg_roomset_removed (self->rooms, room, client, "leave");
    zg_roomset_settle (self->rooms, room, self->now);
}

//  --------------------------------------------------------------------------

static void
s_self_ack (self_t *self)
{
    zg_rmember_t *member = s_self_member (self, 3);
    if (!member)
        return;
    zg_room_t *room = member->room;
    zg_wire_part_t token = zg_wire_frame (&self->request, 5);
    const char *reason;
    if (zg_room_ack (room, member, token.data, token.size, &reason)) {
        zg_ranswers_error (self->answers, ZG_ERR_CONFLICT, "%s", reason);
        return;
    }
    self->acked++;
    zg_ranswers_ok (self->answers, NULL, 0);
    zg_roomset_settle (self->rooms, room, self->now);
}

//  --------------------------------------------------------------------------
//  ACKS req room token clients: many holders ack at once (zg_racks)

static void
s_self_acks (self_t *self)
{
    const char *name = s_self_room_name (self, 3);
    zg_room_t *room = name? zg_roomset_lookup (self->rooms, name): NULL;
    char reason [ZG_WIRE_REASON_SIZE];
    int code = name? zg_racks_ack (self->racks, self->clients, room, &self->request, self->now, &self->acked, reason)
                   : -1;            //  Answered: a bad room name
    if (code > 0)
        zg_ranswers_refused (self->answers, code, reason);
    else
    if (code == 0) {
        zg_ranswers_ok (self->answers, NULL, 0);
        zg_roomset_settle (self->rooms, room, self->now);
    }
}

//  --------------------------------------------------------------------------

static void
s_self_ping (self_t *self)
{
    if (s_self_touch_client (self, 3))
        zg_ranswers_ok (self->answers, NULL, 0);
}

//  --------------------------------------------------------------------------

static void
s_self_bye (self_t *self)
{
    zg_rclient_t *client = s_self_touch_client (self, 3);
    if (!client)
        return;
    zg_ranswers_ok (self->answers, NULL, 0);
    zg_roomset_forget_client (self->rooms, client, NULL, self->now);
    zg_rclients_remove (self->clients, &client);
}

//  --------------------------------------------------------------------------
//  WATCH: hear of every room's removals (SEEDS.md row 27), or stop ("off")

static void
s_self_watch (self_t *self)
{
    bool off = zg_wire_is (&self->request, 4, "off");
    if (zg_wire_kept (&self->request) == 5 && !off && !zg_wire_is (&self->request, 4, "on")) {
        zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "WATCH takes 'on' or 'off'");
        return;
    }
    zg_rclient_t *client = s_self_touch_client (self, 3);
    if (!client)
        return;
    zg_roomset_watch (self->rooms, client, !off);
    zg_ranswers_ok (self->answers, NULL, 0);
}

//  --------------------------------------------------------------------------

static void
s_self_send_message (self_t *self)
{
    int64_t priority;
    if (s_self_int (self, 4, INT64_MIN, &priority, "priority"))
        return;
    //  The producer a PEEK shows (SEEDS.md row 30), bounded like a room name
    zg_wire_part_t producer = zg_wire_kept (&self->request) > 6? zg_wire_frame (&self->request, 6)
                                                               : zg_wire_str ("");
    if ((int64_t) producer.size > self->settings.max_name_size || memchr (producer.data, 0, producer.size)) {
        zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST,
                           "producer must be at most %" PRId64 " bytes, without NUL", self->settings.max_name_size);
        return;
    }
    const char *name = s_self_room_name (self, 3);
    if (name && zg_rooms_link_forward (self->link, &self->request, ZG_ROOMS_MAX_FRAMES, NULL, 0))
        return;
    char reason [ZG_WIRE_REASON_SIZE];
    int code = name? zg_roomset_admit (self->rooms, name, zmq_msg_size (&self->request.frames [5]),
                                       self->settings.max_backlog, self->settings.max_backlog_bytes, reason): 0;
    if (code) {
        zg_ranswers_error (self->answers, code, "%s", reason);
        return;
    }
    zg_room_t *room = name? zg_roomset_get (self->rooms, name, self->settings.max_rooms, &self->holder, &code,
                                            reason): NULL;
    if (!room) {
        if (name)
            zg_ranswers_error (self->answers, code, "%s", reason);
        return;
    }
    uint64_t seq = zg_roomset_queue (self->rooms, room, priority, &self->request.frames [5], &producer);
    self->sent++;
    //  Producers that send without req get no answer: nothing to format
    if (zg_ranswers_req (self->answers).size > 0)
        zg_ranswers_ok_number (self->answers, seq);
    zg_roomset_settle (self->rooms, room, self->now);
}

//  --------------------------------------------------------------------------

static void
s_self_oob (self_t *self)
{
    const char *name = s_self_room_name (self, 3);
    if (!name || zg_rooms_link_forward (self->link, &self->request, ZG_ROOMS_MAX_FRAMES, NULL, 0))
        return;
    zg_room_t *room = zg_roomset_lookup (self->rooms, name);
    size_t count = room? zg_roomset_oob (self->rooms, room, &self->request.frames [4]): 0;
    self->oob++;
    zg_ranswers_ok_number (self->answers, count);
}

//  --------------------------------------------------------------------------
//  PEEK and STATE of a room that does not exist describe an empty one with
//  the default options

static void
s_self_describe (self_t *self)
{
    bool peek = zg_wire_is (&self->request, 1, "PEEK");
    int64_t offset = 0, limit = self->settings.max_peek;
    size_t fields = zg_wire_kept (&self->request);
    if (peek && ((fields > 4 && s_self_int (self, 4, 0, &offset, "offset"))
             ||  (fields > 5 && s_self_int (self, 5, 0, &limit, "limit"))))
        return;
    if (limit > self->settings.max_peek)
        limit = self->settings.max_peek;
    const char *name = s_self_room_name (self, 3);
    if (!name)
        return;
    int64_t bounds [] = { offset, limit, self->settings.max_message_size };
    if (zg_rooms_link_forward (self->link, &self->request, 4, bounds, peek? 3: 0))
        return;
    zg_roomset_pack_room (self->rooms, name, zg_ranswers_packer (self->answers), peek, (size_t) offset,
                          (size_t) limit, (size_t) self->settings.max_message_size);
    zg_ranswers_ok_packed (self->answers);
}

//  --------------------------------------------------------------------------

static void
s_self_metrics (self_t *self)
{
    int64_t top = 10;
    if (zg_wire_kept (&self->request) > 3 && s_self_int (self, 3, 0, &top, "top"))
        return;
    if (top > self->settings.max_top_rooms)
        top = self->settings.max_top_rooms;
    int64_t numbers [] = { top, (int64_t) zg_rclients_size (self->clients) };
    if (zg_rooms_link_forward (self->link, &self->request, 3, numbers, 2))
        return;
    zg_roomset_pack_metrics (self->rooms, zg_ranswers_packer (self->answers), (size_t) top,
                             zg_rclients_size (self->clients));
    zg_ranswers_ok_packed (self->answers);
}

//  --------------------------------------------------------------------------
//  ROOM: the options map is checked whole before anything changes

static void
s_self_room_options (self_t *self)
{
    const char *name = s_self_room_name (self, 3);
    if (!name)
        return;
    zg_wire_part_t map = zg_wire_frame (&self->request, 4);
    zg_room_t *room;
    char reason [ZG_WIRE_REASON_SIZE];
    int code = zg_roomset_set_options (self->rooms, name, map.data, map.size, self->settings.max_rooms,
                                       &self->holder, &room, reason);
    if (code) {
        zg_ranswers_error (self->answers, code, "%s", reason);
        return;
    }
    zg_ranswers_ok (self->answers, NULL, 0);
    zg_roomset_settle (self->rooms, room, self->now);
}

//  --------------------------------------------------------------------------
//  DELETE req room: an admin's; OK with the number of messages dropped

static void
s_self_delete (self_t *self)
{
    const char *name = s_self_room_name (self, 3);
    zg_room_t *room = name? zg_roomset_lookup (self->rooms, name): NULL;
    if (room)
        zg_ranswers_ok_number (self->answers, zg_roomset_delete (self->rooms, room));
    else
    if (name)
        zg_ranswers_error (self->answers, ZG_ERR_NOT_FOUND, "no room '%s'", name);
}

//  --------------------------------------------------------------------------
//  Dispatch one request by its command and frame count

typedef struct {
    const char *command;            //  Command frame
    size_t min_frames;              //  Frames including routing id, command and req
    size_t max_frames;              //  Most frames
    void (*handler) (self_t *self); //  Handler
    const char *action;             //  Permission it needs on its room, "admin", or
                                    //  NULL (it names a client: zg_rclients_may_name)
    size_t room_frame;              //  The frame naming its room
} s_command_t;

static const s_command_t s_commands [] = {
    { "ACK", 6, 6, s_self_ack, NULL, 0 },
    { "ACKS", 6, 6, s_self_acks, NULL, 0 },
    { "PING", 4, 4, s_self_ping, NULL, 0 },
    { "SEND", 6, 7, s_self_send_message, "send", 3 },
    { "OOB", 5, 5, s_self_oob, "send", 3 },
    { "HELLO", 3, 4, s_self_hello, NULL, 0 },
    { "JOIN", 5, 6, s_self_join, "join", 4 },
    { "LEAVE", 5, 5, s_self_leave, NULL, 0 },
    { "BYE", 4, 4, s_self_bye, NULL, 0 },
    { "PEEK", 4, 6, s_self_describe, "peek", 3 },
    { "STATE", 4, 4, s_self_describe, "peek", 3 },
    { "METRICS", 3, 4, s_self_metrics, "admin", 0 },
    { "WATCH", 4, 5, s_self_watch, "admin", 0 },
    { "DELETE", 4, 4, s_self_delete, "admin", 0 },
    { "ROOM", 5, 5, s_self_room_options, "send", 3 },
    { NULL }
};

//  --------------------------------------------------------------------------
//  Whether the permissions let the sender run the command; answers an ERROR
//  (403, or the room name's) if not. An async JOIN observes; admins may all.

static bool
s_self_permitted (self_t *self, const s_command_t *entry)
{
    if (!entry->action || !zg_security_on (self->security))
        return true;
    const char *identity = zg_wire_identity (&self->request);
    if (zg_security_admin (self->security, identity))
        return true;
    //  A command on no room (METRICS) is an admin's only
    const char *room = entry->room_frame? s_self_room_name (self, entry->room_frame): NULL;
    if (entry->room_frame && !room)
        return false;               //  Answered: a bad room name
    bool observe = entry->handler == s_self_join && zg_wire_is (&self->request, 5, "async");
    const char *action = observe? "observe": entry->action;
    if (room && zg_security_allows (self->security, identity, "rooms", action, room, false))
        return true;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_wire_reason (reason, "'%s' may not %s '%s'", zg_security_name (self->security, identity), action,
                    room? room: entry->command);
    zg_ranswers_refused (self->answers, ZG_ERR_FORBIDDEN, reason);
    return false;
}

//  --------------------------------------------------------------------------

static void
s_self_handle_request (self_t *self)
{
    zg_wire_request_t *request = &self->request;
    if (request->count < 2 || request->count > ZG_ROOMS_MAX_FRAMES) {
        zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "malformed request: %zu frames", request->count - 1);
        return;
    }
    if (request->count > 2 && (int64_t) request->size [2] > self->settings.max_name_size) {
        zg_ranswers_error (self->answers, ZG_ERR_TOO_LARGE, "req longer than %" PRId64 " bytes",
                           self->settings.max_name_size);
        return;
    }
    for (const s_command_t *entry = s_commands; entry->command; entry++)
        if (zg_wire_is (request, 1, entry->command)) {
            if (request->count < entry->min_frames || request->count > entry->max_frames)
                zg_ranswers_error (self->answers, ZG_ERR_BAD_REQUEST, "%s takes %zu to %zu fields after req",
                                   entry->command, entry->min_frames - 3, entry->max_frames - 3);
            else
            if (s_self_permitted (self, entry))
                entry->handler (self);
            return;
        }
    zg_wire_part_t verb = zg_wire_frame (request, 1);
    zg_ranswers_error (self->answers, ZG_ERR_UNKNOWN_COMMAND, "unknown command '%.*s'",
                       (int) (verb.size < 32? verb.size: 32), (const char *) verb.data);
}

//  --------------------------------------------------------------------------
//  Receive and handle one request; returns -1 when none is waiting

static int
s_self_recv_one (self_t *self)
{
    if (zg_security_recv (self->security, &self->request, self->handle) == -1)
        return -1;
    self->now = zclock_mono ();
    self->holder.by_identity = zg_security_on (self->security);
    s_self_handle_request (self);
    //  Release what the request held (a payload may be large) until the next
    zg_wire_close (&self->request);
    return 0;
}

//  --------------------------------------------------------------------------
//  Apply one setting; endpoint keys bind at once

int
zg_rooms_core_set (self_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (strncmp (key, "security-", 9) == 0)
        return zg_security_set (self->security, key + 9, value, error, size)? -1: 0;
    if (streq (key, "clients") || streq (key, "inproc-clients"))
        return zg_security_bind (self->security, self->router, value, error, size);
    int rc = streq (key, "cluster")? zg_rooms_link_connect (self->link, value, self->rooms, error, size)
                                   : zg_rsettings_set (&self->settings, key, value, error, size);
    if (rc)
        return rc;
    zg_rooms_link_settings (self->link, self->settings.max_backlog, self->settings.hold != 0,
                            self->settings.ack_timeout);
    //  Socket options apply to endpoints bound from now on
    zg_actor_set_hwms (self->router, self->settings.sndhwm, self->settings.rcvhwm);
    zsock_set_maxmsgsize (self->router, (int) self->settings.max_message_size);
    self->room_key = (char *) realloc (self->room_key, (size_t) self->settings.max_name_size + 1);
    assert (self->room_key);
    s_self_configure_rooms (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  STATS as a JSON object

static json_object *
s_self_stats (self_t *self)
{
    json_object *root = json_object_new_object ();
    json_object_object_add (root, "clients", json_object_new_uint64 (zg_rclients_size (self->clients)));
    json_object_object_add (root, "sent", json_object_new_uint64 (self->sent));
    json_object_object_add (root, "acked", json_object_new_uint64 (self->acked));
    json_object_object_add (root, "oob", json_object_new_uint64 (self->oob));
    zg_ranswers_stats (self->answers, root);
    zg_connwatch_add_stats (zg_security_watch (self->security), root);
    uint64_t dropped = zg_ranswers_dropped (self->answers);
    zg_roomset_stats (self->rooms, root, ZG_ROOMS_STATS_TOP, &dropped);
    zg_rooms_link_stats (self->link, root);
    json_object_object_add (root, "dropped", json_object_new_uint64 (dropped));
    return root;
}

static const zg_actor_handlers_t s_handlers = {
    "zg_rooms", (zg_actor_set_fn *) zg_rooms_core_set, (zg_actor_stats_fn *) s_self_stats, NULL
};

//  --------------------------------------------------------------------------
//  One pass of the actor's loop (zg_rooms.h)

int
zg_rooms_core_pass (self_t *self, long timeout)
{
    zmq_pollitem_t items [3] = { { self->handle, 0, ZMQ_POLLIN, 0 } };
    bool link = zg_rooms_link_poll_item (self->link, &items [1]);
    int count = 1 + link;
    if (self->pipe)
        items [count++] = (zmq_pollitem_t) { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    int rc = zg_connwatch_poll (zg_security_watch (self->security), items, count, timeout);
    if (rc == -1)
        return -1;              //  Context terminated
    if (link && (items [1].revents & ZMQ_POLLIN))
        zg_rooms_link_handle (self->link, self->rooms, self->handle, zclock_mono ());
    if (self->pipe && (items [count - 1].revents & ZMQ_POLLIN))
        self->terminated = zg_actor_handle_pipe (self->pipe, &s_handlers, self);
    if (items [0].revents & ZMQ_POLLIN)
        for (int handled = 0; handled < ZG_ROOMS_BATCH; handled++)
            if (s_self_recv_one (self) == -1)
                break;
    s_self_expire (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  The actor

void
zg_rooms (zsock_t *pipe, void *args)
{
    (void) args;
    self_t *self = zg_rooms_core_new ();
    self->pipe = pipe;
    zsock_signal (pipe, 0);
    while (!self->terminated)
        if (zg_rooms_core_pass (self, s_self_poll_timeout (self)) == -1)
            break;
    zg_rooms_core_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Create a rooms actor

zactor_t *
zg_rooms_new (void)
{
    return zactor_new (zg_rooms, NULL);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rooms_test (bool verbose)
{
    printf (" * zg_rooms: ");
    //  @selftest
    zactor_t *rooms = zg_rooms_new ();
    assert (rooms);
    char error [256];
    assert (zg_actor_set (rooms, "client-timeout", "999", error, sizeof error) == -1);
    assert (zg_actor_set (rooms, "no-such-key", "1", error, sizeof error) == -1);
    assert (zg_actor_set (rooms, "client-timeout", "1000", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "ack-timeout", "300", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "max-backlog", "3", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "clients", "inproc://zg-rooms-test", error, sizeof error) == 0);

    zsock_t *member = zsock_new_dealer (">inproc://zg-rooms-test");
    zsock_t *producer = zsock_new_dealer (">inproc://zg-rooms-test");
    zsock_set_rcvtimeo (member, 2000);
    zsock_set_rcvtimeo (producer, 2000);

    //  Two logical clients on one connection
    char *alice = zg_rtest_hello (member, "1");
    char *bob = zg_rtest_hello (member, "2");
    assert (strneq (alice, bob));

    zmsg_t *answer = zg_rtest_request (member, "JOIN", "3", alice, "lobby", NULL);
    zg_rtest_expect (&answer, "OK", "3", NULL);
    answer = zg_rtest_request (member, "JOIN", "4", alice, "lobby", NULL);
    zg_rtest_expect (&answer, "OK", "4", NULL);
    answer = zg_rtest_request (member, "JOIN", "5", bob, "lobby", "async", NULL);
    zg_rtest_expect (&answer, "OK", "5", NULL);
    answer = zg_rtest_request (member, "LEAVE", "6", bob, "elsewhere", NULL);
    zg_rtest_expect (&answer, "ERROR", "6", "404", NULL);
    answer = zg_rtest_request (member, "JOIN", "7", "nobody", "lobby", NULL);
    zg_rtest_expect (&answer, "ERROR", "7", "404", NULL);
    answer = zg_rtest_request (member, "JOIN", "8", alice, "lobby", "sometimes", NULL);
    zg_rtest_expect (&answer, "ERROR", "8", "400", NULL);
    //  A client id is no bearer token: another connection may not name it
    answer = zg_rtest_request (producer, "BYE", "x", alice, NULL);
    zg_rtest_expect (&answer, "ERROR", "x", "403", NULL);

    //  Two messages: the second waits for alice's ack of the first
    answer = zg_rtest_request (producer, "SEND", "a", "lobby", "5", "first", NULL);
    zg_rtest_expect (&answer, "OK", "a", "1", NULL);
    answer = zg_rtest_request (producer, "SEND", "b", "lobby", "5", "second", "maker", NULL);
    zg_rtest_expect (&answer, "OK", "b", "2", NULL);
    answer = zg_rtest_request (producer, "SEND", "c", "lobby", "x", "bad", NULL);
    zg_rtest_expect (&answer, "ERROR", "c", "400", NULL);
    //  Alice gets a token, bob (async) none
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event && zmsg_size (event) == 6);
        assert (zframe_streq (zmsg_first (event), "DELIVER"));
        char *client = zframe_strdup (zmsg_next (event));
        zmsg_next (event);
        zmsg_next (event);
        zframe_t *token = zmsg_next (event);
        assert (zframe_size (token) == (streq (client, alice)? 1: 0));
        assert (zframe_streq (zmsg_last (event), "first"));
        free (client);
        zmsg_destroy (&event);
    }
    answer = zg_rtest_request (producer, "PEEK", "p", "lobby", NULL);
    assert (zg_mpjson_map_int (zmsg_last (answer), "backlog") == 1);
    assert (zg_mpjson_map_int (zmsg_last (answer), "messages") == 1);
    zmsg_destroy (&answer);
    answer = zg_rtest_request (producer, "STATE", "s", "lobby", NULL);
    assert (zg_mpjson_map_int (zmsg_last (answer), "members") == 2);
    assert (zg_mpjson_map_int (zmsg_last (answer), "acked") == 0);
    zmsg_destroy (&answer);
    //  Wrong tokens change nothing
    answer = zg_rtest_request (member, "ACK", "9", alice, "lobby", "2", NULL);
    zg_rtest_expect (&answer, "ERROR", "9", "409", NULL);
    //  The last command naming bob: a refused ack is still a sign of life
    int64_t bob_last_heard = zclock_mono ();
    answer = zg_rtest_request (member, "ACK", "10", bob, "lobby", "1", NULL);
    zg_rtest_expect (&answer, "ERROR", "10", "409", NULL);
    //  An ack without req gets no answer; the next message follows
    zstr_sendx (member, "ACK", "", alice, "lobby", "1", NULL);
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event);
        assert (zframe_streq (zmsg_first (event), "DELIVER"));
        assert (zframe_streq (zmsg_last (event), "second"));
        zmsg_destroy (&event);
    }
    answer = zg_rtest_request (member, "ACK", "11", alice, "lobby", "1", NULL);
    zg_rtest_expect (&answer, "ERROR", "11", "409", NULL);

    //  OOB reaches both members at once
    answer = zg_rtest_request (producer, "OOB", "o", "lobby", "urgent", NULL);
    zg_rtest_expect (&answer, "OK", "o", "2", NULL);
    for (int count = 0; count < 2; count++) {
        zmsg_t *event = zmsg_recv (member);
        assert (event && zframe_streq (zmsg_first (event), "OOB"));
        zmsg_destroy (&event);
    }
    //  The backlog is bounded
    for (int count = 0; count < 3; count++) {
        answer = zg_rtest_request (producer, "SEND", "f", "lobby", "0", "fill", NULL);
        zg_rtest_expect (&answer, "OK", NULL);
    }
    answer = zg_rtest_request (producer, "SEND", "g", "lobby", "0", "full", NULL);
    zg_rtest_expect (&answer, "ERROR", "g", "429", NULL);
    answer = zg_rtest_request (producer, "METRICS", "m", "1", NULL);
    assert (zg_mpjson_map_int (zmsg_last (answer), "top_rooms") == 1);
    assert (zg_mpjson_map_int (zmsg_last (answer), "backlog") == 3);
    zmsg_destroy (&answer);
    //  Room options: a malformed map is refused
    answer = zg_rtest_request (producer, "ROOM", "r", "lobby", "\x81\xa4hold\x01", NULL);
    zg_rtest_expect (&answer, "ERROR", "r", "400", NULL);
    answer = zg_rtest_request (producer, "ROOM", "r", "lobby", "\x81\xa4hold\xc3", NULL);
    zg_rtest_expect (&answer, "OK", "r", NULL);
    //  Malformed requests
    answer = zg_rtest_request (producer, "NOPE", "n", NULL);
    zg_rtest_expect (&answer, "ERROR", "n", "405", NULL);
    answer = zg_rtest_request (producer, "SEND", NULL);
    zg_rtest_expect (&answer, "ERROR", "", "400", NULL);
    //  A membership an ACK named, then left, is no longer found
    char *carol = zg_rtest_hello (producer, "h");
    answer = zg_rtest_request (producer, "JOIN", "j", carol, "side", NULL);
    zg_rtest_expect (&answer, "OK", "j", NULL);
    answer = zg_rtest_request (producer, "ACK", "k", carol, "side", "1", NULL);
    zg_rtest_expect (&answer, "ERROR", "k", "409", NULL);
    answer = zg_rtest_request (producer, "ACK", "k", carol, "lobby", "1", NULL);
    zg_rtest_expect (&answer, "ERROR", "k", "404", NULL);
    //  A watcher hears of every room's removals, its own leave too
    answer = zg_rtest_request (producer, "WATCH", "w", carol, "sometimes", NULL);
    zg_rtest_expect (&answer, "ERROR", "w", "400", NULL);
    answer = zg_rtest_request (member, "WATCH", "w", carol, NULL);
    zg_rtest_expect (&answer, "ERROR", "w", "403", NULL);
    answer = zg_rtest_request (producer, "WATCH", "w", carol, NULL);
    zg_rtest_expect (&answer, "OK", "w", NULL);
    answer = zg_rtest_request (producer, "LEAVE", "l", carol, "side", NULL);
    zg_rtest_expect (&answer, "OK", "l", NULL);
    answer = zmsg_recv (producer);
    zg_rtest_expect (&answer, "TIMEOUT", carol, "side", carol, "leave", NULL);
    answer = zg_rtest_request (producer, "WATCH", "w", carol, "off", NULL);
    zg_rtest_expect (&answer, "OK", "w", NULL);
    answer = zg_rtest_request (producer, "ACK", "k", carol, "side", "1", NULL);
    zg_rtest_expect (&answer, "ERROR", "k", "404", NULL);
    answer = zg_rtest_request (producer, "BYE", "y", carol, NULL);
    zg_rtest_expect (&answer, "OK", "y", NULL);
    free (carol);

    //  Alice never acks "second": the ack-timeout evicts her and bob is told
    zmsg_t *event = zmsg_recv (member);
    assert (event && zframe_streq (zmsg_first (event), "EVICTED"));
    zmsg_destroy (&event);
    event = zmsg_recv (member);
    assert (event && zframe_streq (zmsg_first (event), "TIMEOUT"));
    zmsg_destroy (&event);
    //  Silence evicts bob at the client timeout, well within 1.5 times it
    event = zmsg_recv (member);
    zg_rtest_expect (&event, "EVICTED", bob, "lobby", "timeout", NULL);
    int64_t silence = zclock_mono () - bob_last_heard;
    assert (silence >= 1000 && silence <= 1500);
    char *stats = zg_actor_stats (rooms);
    assert (strstr (stats, "\"evicted\":2"));
    if (verbose)
        printf ("%s ", stats);
    free (stats);

    //  DELETE (an admin's: inproc is trusted) forgets a room with its backlog
    answer = zg_rtest_request (producer, "ROOM", "r", "held", "\x81\xa4hold\xc3", NULL);
    zg_rtest_expect (&answer, "OK", "r", NULL);
    answer = zg_rtest_request (producer, "SEND", "s", "held", "0", "kept", NULL);
    zg_rtest_expect (&answer, "OK", "s", NULL);
    answer = zg_rtest_request (producer, "DELETE", "d", "held", NULL);
    zg_rtest_expect (&answer, "OK", "d", "1", NULL);
    answer = zg_rtest_request (producer, "DELETE", "d", "held", NULL);
    zg_rtest_expect (&answer, "ERROR", "d", "404", NULL);

    //  The rooms one holder made (here a web client's address, named by an
    //  in-process envelope) are bounded; another holder is not concerned,
    //  and a forgotten room frees its maker's slot
    assert (zg_actor_set (rooms, "max-rooms-per-connection", "2", error, sizeof error) == 0);
    const char *holder_a = ZG_WIRE_HOLDER_TAG "address:a", *hold = "\x81\xa4hold\xc3";
    answer = zg_rtest_request (producer, holder_a, "ROOM", "h", "a1", hold, NULL);
    zg_rtest_expect (&answer, "OK", "h", NULL);
    //  A room a SEND made with no one in it is forgotten at once, uncharged
    answer = zg_rtest_request (producer, holder_a, "SEND", "h", "a2", "0", "x", NULL);
    zg_rtest_expect (&answer, "OK", "h", NULL);
    answer = zg_rtest_request (producer, holder_a, "ROOM", "h", "a2", hold, NULL);
    zg_rtest_expect (&answer, "OK", "h", NULL);
    answer = zg_rtest_request (producer, holder_a, "ROOM", "h", "a3", hold, NULL);
    zg_rtest_expect (&answer, "ERROR", "h", "429", "too many rooms for one address (max-rooms-per-connection 2)",
                     NULL);
    answer = zg_rtest_request (producer, ZG_WIRE_HOLDER_TAG "address:b", "ROOM", "h", "a3", hold, NULL);
    zg_rtest_expect (&answer, "OK", "h", NULL);
    answer = zg_rtest_request (producer, "DELETE", "d", "a1", NULL);
    zg_rtest_expect (&answer, "OK", "d", "0", NULL);
    answer = zg_rtest_request (producer, holder_a, "ROOM", "h", "a4", hold, NULL);
    zg_rtest_expect (&answer, "OK", "h", NULL);

    free (alice);
    free (bob);
    zsock_destroy (&member);
    zsock_destroy (&producer);
    zactor_destroy (&rooms);
    //  @end
    printf ("OK\n");
}
