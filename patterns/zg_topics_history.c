/*  =========================================================================
    zg_topics_history - the topics actor's memory: its history, the sequence
    frame of remembered topics, and the ROUTER that history is read from

    The ROUTER lives in the topics actor's thread, beside the XPUB, so a
    read sees exactly the messages forwarded before it: a client that
    subscribed first and then reads loses nothing between the two, and
    drops the live messages it also got in the answer by their sequence
    numbers (docs/PROTOCOL.md, "Catching up").
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_history.h"
#include "zg_topics_history.h"

//  Largest request frame a client may send: requests carry a topic, a req
//  and numbers, and libzmq bounds the ZMTP handshake's commands by the same
//  limit; a larger frame (even one whose header claims 2^63 bytes) closes
//  the connection before libzmq allocates it
#define ZG_TOPICS_HISTORY_MAX_FRAME 65536

typedef struct {
    int64_t max_bytes;              //  Bound of all remembered topics together
} s_settings_t;

//  Room for a sequence frame, "seq epoch"
#define ZG_TOPICS_HISTORY_MARK_SIZE 48

//  A message held until its pass is committed
typedef struct {
    zmq_msg_t topic, payload;
    char mark [ZG_TOPICS_HISTORY_MARK_SIZE];    //  Its sequence frame
    size_t mark_size;               //  0 for none
    bool local;                     //  In-process subscribers want it
    bool native;                    //  A TCP subscriber wants it
} s_held_t;

static const zg_int_setting_t s_int_settings [] = {
    { "history-max-bytes", offsetof (s_settings_t, max_bytes), 0, INT64_MAX },
    { NULL }
};

struct _zg_topics_history_t {
    zg_history_t *history;          //  Messages of remembered topics
    zsock_t *router;                //  History requests
    s_settings_t settings;          //  Current settings
    uint64_t requests;              //  Requests answered
    uint64_t refused;               //  Requests refused with ERROR
    zg_security_t *security;        //  The actor's, or NULL: no checks
    char *data_dir;                 //  topics/data-dir once set, or NULL
    zg_presence_t *presence;        //  The actor's, or NULL: no PRESENCE
    zsock_t *cluster;               //  PAIR to zg_history_cluster, connected in cluster mode
    bool clustered;                 //  Cluster mode: remembered topics are in Redis
    char bound [ZG_WIRE_NUMBER_SIZE];   //  A topic's count bound, for the cluster
    s_held_t *held;                 //  The pass's messages, with topics/data-dir
    size_t held_count;              //  Messages in held
    size_t held_size;               //  Room in held
};

//  --------------------------------------------------------------------------

zg_topics_history_t *
zg_topics_history_new (void)
{
    zg_topics_history_t *self = (zg_topics_history_t *) zmalloc (sizeof (zg_topics_history_t));
    assert (self);
    self->history = zg_history_new ();
    zg_actor_defaults (s_int_settings, &self->settings, "topics");
    zg_history_set_max_bytes (self->history, (size_t) self->settings.max_bytes);
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_maxmsgsize (self->router, ZG_TOPICS_HISTORY_MAX_FRAME);
    self->cluster = zsock_new (ZMQ_PAIR);
    assert (self->cluster);
    return self;
}

void
zg_topics_history_destroy (zg_topics_history_t **self_p)
{
    assert (self_p);
    zg_topics_history_t *self = *self_p;
    if (self) {
        zg_history_destroy (&self->history);
        zsock_destroy (&self->router);
        zsock_destroy (&self->cluster);
        zstr_free (&self->data_dir);
        free (self->held);
        free (self);
        *self_p = NULL;
    }
}

void
zg_topics_history_presence (zg_topics_history_t *self, zg_presence_t *presence)
{
    assert (self);
    self->presence = presence;
}

void
zg_topics_history_secure (zg_topics_history_t *self, zg_security_t *security)
{
    assert (self);
    self->security = security;
}

//  topics/data-dir: set once, at start; "" keeps history in memory only
static int
s_self_set_dir (zg_topics_history_t *self, const char *dir, char *error, size_t size)
{
    if (streq (dir, self->data_dir? self->data_dir: ""))
        return 0;
    if (self->data_dir) {
        snprintf (error, size, "topics/data-dir changes on a restart only");
        return -1;
    }
    if (zg_history_persist (self->history, dir, error, size))
        return -1;
    self->data_dir = strdup (dir);
    return 0;
}

int
zg_topics_history_set (zg_topics_history_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    if (streq (key, "history-requests") || streq (key, "inproc-history-requests"))
        return self->security? zg_security_bind (self->security, self->router, value, error, size)
                             : zg_actor_bind (self->router, value, error, size);
    if (streq (key, "history"))
        return zg_history_set_rules (self->history, value, error, size);
    if (streq (key, "data-dir"))
        return s_self_set_dir (self, value, error, size);
    if (strneq (key, "history-max-bytes"))
        return 1;
    int rc = zg_actor_set_int (s_int_settings, &self->settings, key, value, error, size);
    if (rc == 0)
        zg_history_set_max_bytes (self->history, (size_t) self->settings.max_bytes);
    return rc;
}

zsock_t *
zg_topics_history_socket (zg_topics_history_t *self)
{
    assert (self);
    return self->router;
}

bool
zg_topics_history_enabled (zg_topics_history_t *self)
{
    assert (self);
    return zg_history_enabled (self->history);
}

//  --------------------------------------------------------------------------
//  Recording

const char *
zg_topics_history_record (zg_topics_history_t *self, const char *topic, zmq_msg_t *payload, size_t *size)
{
    assert (self && topic && payload && size);
    //  In cluster mode Redis numbers them (zg_topics_history_clustered)
    if (self->clustered)
        return NULL;
    const char *mark = NULL;
    return zg_history_record (self->history, topic, payload, &mark, size)? mark: NULL;
}

const char *
zg_topics_history_clustered (zg_topics_history_t *self, const char *topic, size_t *size)
{
    assert (self && topic && size);
    uint64_t messages = 0, bytes = 0;
    int64_t age = 0;
    //  zgate's own "$zgate." topics stay on their node, so are never sent
    //  to be numbered (they would not come back)
    if (!self->clustered || strncmp (topic, "$zgate.", 7) == 0
    ||  !zg_history_bounds (self->history, topic, &messages, &age, &bytes))
        return NULL;
    *size = zg_wire_format_uint (messages, self->bound);
    return self->bound;
}

int
zg_topics_history_cluster (zg_topics_history_t *self, const char *endpoint, char *error, size_t size)
{
    assert (self && endpoint);
    if (self->clustered)
        return 0;
    //  The bridge's history requests are at the link's endpoint, ".history"
    if (zsock_connect (self->cluster, "%s.history", endpoint) == -1) {
        snprintf (error, size, "cannot connect to '%s.history'", endpoint);
        return -1;
    }
    self->clustered = true;
    return 0;
}

zsock_t *
zg_topics_history_cluster_socket (zg_topics_history_t *self)
{
    assert (self);
    return self->cluster;
}

bool
zg_topics_history_holds (zg_topics_history_t *self)
{
    assert (self);
    return self->data_dir != NULL;
}

void
zg_topics_history_hold (zg_topics_history_t *self, zmq_msg_t *topic, zmq_msg_t *payload, const char *mark,
                        size_t mark_size, bool local, bool native)
{
    assert (self && topic && payload);
    assert (mark_size < ZG_TOPICS_HISTORY_MARK_SIZE);
    if (self->held_count == self->held_size) {
        self->held_size = self->held_size? 2 * self->held_size: 256;
        self->held = (s_held_t *) realloc (self->held, self->held_size * sizeof (s_held_t));
        assert (self->held);
    }
    s_held_t *held = &self->held [self->held_count++];
    zmq_msg_init (&held->topic);
    zmq_msg_init (&held->payload);
    zmq_msg_move (&held->topic, topic);
    zmq_msg_move (&held->payload, payload);
    held->mark_size = mark? mark_size: 0;
    held->local = local;
    held->native = native;
    if (mark)
        memcpy (held->mark, mark, mark_size);
}

void
zg_topics_history_commit (zg_topics_history_t *self, void *xpub, zg_topics_local_t *local)
{
    assert (self && xpub && local);
    zg_history_commit (self->history);
    //  Committed: what the pass held may go out
    for (size_t index = 0; index < self->held_count; index++) {
        s_held_t *held = &self->held [index];
        if (held->local)
            zg_topics_local_send (local, zmq_msg_data (&held->topic), zmq_msg_size (&held->topic), &held->payload,
                                  held->mark, held->mark_size);
        if (held->native) {
            zmq_msg_send (&held->topic, xpub, ZMQ_SNDMORE);
            zmq_msg_send (&held->payload, xpub, held->mark_size? ZMQ_SNDMORE: 0);
            if (held->mark_size)
                zmq_send (xpub, held->mark, held->mark_size, 0);
        }
        zmq_msg_close (&held->topic);
        zmq_msg_close (&held->payload);
    }
    self->held_count = 0;
}

//  --------------------------------------------------------------------------
//  Answering requests

//  Sends the messages of an answer as [seq][payload] pairs, the last
//  without SNDMORE; the payloads are copied, as the history may drop them
//  before libzmq has sent them
typedef struct {
    void *handle;                   //  The ROUTER
    int left;                       //  Messages still to send
} s_sender_t;

static void
s_count_entry (uint64_t seq, const void *payload, size_t size, void *arg)
{
    (void) seq;
    (void) payload;
    (void) size;
    (void) arg;
}

static void
s_send_entry (uint64_t seq, const void *payload, size_t size, void *arg)
{
    s_sender_t *sender = (s_sender_t *) arg;
    char number [ZG_WIRE_NUMBER_SIZE];
    zmq_send (sender->handle, number, zg_wire_format_uint (seq, number), ZMQ_SNDMORE);
    zmq_send (sender->handle, payload, size, --sender->left? ZMQ_SNDMORE: 0);
}

//  Refuse a request with ERROR [req][code][reason]
static void
s_self_refuse (zg_topics_history_t *self, zg_wire_request_t *request, int code, const char *format, ...)
{
    char reason [ZG_WIRE_REASON_SIZE];
    va_list args;
    va_start (args, format);
    zg_wire_vreason (reason, format, args);
    va_end (args);
    zg_wire_error (zsock_resolve (self->router), zg_wire_frame (request, 0), zg_wire_frame (request, 2), code,
                   reason);
    self->refused++;
}

//  Recovered: the answer holds every message after since. A client with no
//  position yet (epoch "", since 0) recovers if nothing was dropped.
static bool
s_recovered (const zg_history_state_t *state, bool last, uint64_t since, const char *epoch)
{
    return last
        || (streq (epoch, state->epoch) && since <= state->top && since + 1 >= state->first)
        || (*epoch == 0 && since == 0 && state->first <= 1);
}

//  Send an answer's head, [routing][verb][req][epoch][top][recovered], with
//  SNDMORE if count messages follow; returns -1 if the client is gone or
//  over its HWM (it loses its answer, and asks again)
static int
s_self_send_head (zg_topics_history_t *self, zg_wire_part_t routing, zg_wire_part_t verb, zg_wire_part_t req,
                  const zg_history_state_t *state, bool recovered, int count)
{
    char top [ZG_WIRE_NUMBER_SIZE];
    zg_wire_part_t parts [] = {
        verb, req, zg_wire_str (state->epoch), { top, zg_wire_format_uint (state->top, top) },
        zg_wire_str (recovered? "1": "0")
    };
    void *handle = zsock_resolve (self->router);
    if (zmq_send (handle, routing.data, routing.size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    size_t last_part = sizeof parts / sizeof parts [0] - 1;
    for (size_t index = 0; index <= last_part; index++)
        zmq_send (handle, parts [index].data, parts [index].size, index < last_part || count? ZMQ_SNDMORE: 0);
    self->requests++;
    return 0;
}

//  Answer one parsed request, [routing][verb][req][epoch][top][recovered]
//  then [seq][payload] per message: those after since (HISTORY; all that
//  are kept for a client of another epoch) or the newest one (LAST)
static void
s_self_answer (zg_topics_history_t *self, zg_wire_request_t *request, const char *topic, bool last,
               uint64_t since, const char *epoch)
{
    zg_history_state_t state;
    zg_history_read (self->history, topic, UINT64_MAX, false, &state, s_count_entry, NULL);
    uint64_t after = last || streq (epoch, state.epoch)? since: 0;
    int count = zg_history_read (self->history, topic, after, last, &state, s_count_entry, NULL);
    if (s_self_send_head (self, zg_wire_frame (request, 0), zg_wire_frame (request, 1), zg_wire_frame (request, 2),
                          &state, s_recovered (&state, last, since, epoch), count) == 0) {
        s_sender_t sender = { zsock_resolve (self->router), count };
        zg_history_read (self->history, topic, after, last, &state, s_send_entry, &sender);
    }
}

//  --------------------------------------------------------------------------
//  Cluster mode: remembered topics' history is in Redis (zg_history_cluster)

//  Pass a checked request's frames on to the bridge, whose answer brings
//  them back
static void
s_self_forward (zg_topics_history_t *self, zg_wire_request_t *request)
{
    void *handle = zsock_resolve (self->cluster);
    for (size_t index = 0; index < request->count; index++) {
        zg_wire_part_t part = zg_wire_frame (request, index);
        zmq_send (handle, part.data, part.size, index + 1 < request->count? ZMQ_SNDMORE: 0);
    }
}

//  A frame as a wire part
static zg_wire_part_t
s_part (zframe_t *frame)
{
    return (zg_wire_part_t) { zframe_data (frame), zframe_size (frame) };
}

//  A decimal frame's value, 0 if it is not one
static uint64_t
s_number (zframe_t *frame)
{
    uint64_t value = 0;
    if (zg_wire_parse_uint (zframe_data (frame), zframe_size (frame), UINT64_MAX, &value))
        value = 0;
    return value;
}

//  The first of count entries, [seq][time][payload] each in frames, that
//  the rule of topic keeps: Redis keeps at least the count bound; ages
//  (the publishers' wall clocks) and the size bound apply here
static size_t
s_self_first_kept (zg_topics_history_t *self, const char *topic, zframe_t **frames, size_t count)
{
    uint64_t messages = 0, bytes = 0;
    int64_t age = 0;
    zg_history_bounds (self->history, topic, &messages, &age, &bytes);
    size_t first = messages && count > messages? count - (size_t) messages: 0;
    int64_t oldest = zclock_time () - age;
    while (age && first < count && (int64_t) s_number (frames [3 * first + 1]) < oldest)
        first++;
    //  The newest message stays even past the size bound
    uint64_t kept = 0;
    size_t start = count;
    while (start > first) {
        size_t size = zframe_size (frames [3 * (start - 1) + 2]);
        if (bytes && start < count && kept + size > bytes)
            break;
        kept += size;
        start--;
    }
    return start;
}

//  Answer a client from the bridge's answer: its request's frames, then
//  [OK][epoch][top] and [seq][time][payload] per entry, or [ERROR][reason]
static void
s_self_answer_cluster (zg_topics_history_t *self, zmsg_t *answer)
{
    //  [routing][verb][req][topic], then [since][epoch] for HISTORY
    zframe_t *frames [4];
    frames [0] = zmsg_first (answer);
    for (size_t index = 1; index < 4; index++)
        frames [index] = zmsg_next (answer);
    bool last = zframe_streq (frames [1], "LAST");
    char epoch [ZG_HISTORY_EPOCH_SIZE] = "";
    uint64_t since = 0;
    if (!last) {
        since = s_number (zmsg_next (answer));
        zframe_t *frame = zmsg_next (answer);
        memcpy (epoch, zframe_data (frame), zframe_size (frame) < sizeof epoch? zframe_size (frame): 0);
    }
    zframe_t *status = zmsg_next (answer);
    if (!zframe_streq (status, "OK")) {
        char *reason = zframe_strdup (zmsg_next (answer));
        zg_wire_error (zsock_resolve (self->router), s_part (frames [0]), s_part (frames [2]), ZG_ERR_UNAVAILABLE,
                       reason);
        zstr_free (&reason);
        self->refused++;
        return;
    }
    char *topic = zframe_strdup (frames [3]);
    char *redis_epoch = zframe_strdup (zmsg_next (answer));
    zg_history_state_t state = { redis_epoch, s_number (zmsg_next (answer)), 0 };
    zframe_t **entries = (zframe_t **) zmalloc ((zmsg_size (answer) + 1) * sizeof (zframe_t *));
    size_t total = 0;
    for (zframe_t *frame = zmsg_next (answer); frame; frame = zmsg_next (answer))
        entries [total++] = frame;
    size_t first = s_self_first_kept (self, topic, entries, total / 3);
    state.first = first < total / 3? s_number (entries [3 * first]): state.top + 1;
    uint64_t after = last || streq (epoch, state.epoch)? since: 0;
    while (first < total / 3 && s_number (entries [3 * first]) <= after)
        first++;
    int sent = (int) (total / 3 - first);
    if (s_self_send_head (self, s_part (frames [0]), s_part (frames [1]), s_part (frames [2]), &state,
                          s_recovered (&state, last, since, epoch), sent) == 0) {
        s_sender_t sender = { zsock_resolve (self->router), sent };
        for (size_t index = first; index < total / 3; index++)
            s_send_entry (s_number (entries [3 * index]), zframe_data (entries [3 * index + 2]),
                          zframe_size (entries [3 * index + 2]), &sender);
    }
    free (entries);
    zstr_free (&redis_epoch);
    zstr_free (&topic);
}

void
zg_topics_history_handle_cluster (zg_topics_history_t *self)
{
    assert (self);
    zmsg_t *answer;
    while ((answer = zmsg_recv_nowait (self->cluster))) {
        s_self_answer_cluster (self, answer);
        zmsg_destroy (&answer);
    }
}

//  Answer PRESENCE [routing][verb][req][{"topic", "present"}]
static void
s_self_answer_presence (zg_topics_history_t *self, zg_wire_request_t *request, const char *topic)
{
    json_object *list = zg_presence_list (self->presence, topic);
    zg_wire_part_t parts [] = {
        zg_wire_frame (request, 1), zg_wire_frame (request, 2),
        zg_wire_str (json_object_to_json_string_ext (list, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
    };
    zg_wire_send (zsock_resolve (self->router), zg_wire_frame (request, 0), parts, 3, NULL);
    json_object_put (list);
    self->requests++;
}

//  Check and answer one request
static void
s_self_request (zg_topics_history_t *self, zg_wire_request_t *request)
{
    bool history = zg_wire_is (request, 1, "HISTORY");
    bool presence = zg_wire_is (request, 1, "PRESENCE");
    size_t frames = history? 6: 4;
    if (!history && !presence && !zg_wire_is (request, 1, "LAST")) {
        s_self_refuse (self, request, ZG_ERR_UNKNOWN_COMMAND, "unknown command: HISTORY, LAST or PRESENCE expected");
        return;
    }
    if (request->count != frames) {
        s_self_refuse (self, request, ZG_ERR_BAD_REQUEST, "%s takes %zu frames after the command, not %zu",
                       history? "HISTORY": presence? "PRESENCE": "LAST", frames - 2, request->count - 2);
        return;
    }
    char epoch [ZG_HISTORY_EPOCH_SIZE] = "";
    uint64_t since = 0;
    //  Topics are at most 65535 bytes (topics/max-topic-size)
    if (request->size [3] == 0 || request->size [3] > 65535 || memchr (request->data [3], 0, request->size [3])) {
        s_self_refuse (self, request, ZG_ERR_BAD_REQUEST, "topic must be 1 to 65535 bytes with no NUL");
        return;
    }
    if (history
    && (zg_wire_parse_uint (request->data [4], request->size [4], UINT64_MAX, &since)
    ||  request->size [5] >= sizeof epoch)) {
        s_self_refuse (self, request, ZG_ERR_BAD_REQUEST, "since must be a decimal sequence number and epoch "
                       "at most %d characters", ZG_HISTORY_EPOCH_SIZE - 1);
        return;
    }
    char *topic = strndup ((const char *) request->data [3], request->size [3]);
    assert (topic);
    if (history) {
        memcpy (epoch, request->data [5], request->size [5]);
        epoch [request->size [5]] = 0;
    }
    if (self->security && !zg_security_allows (self->security, zg_wire_identity (request), "topics", "subscribe",
                                               topic, false))
        s_self_refuse (self, request, ZG_ERR_FORBIDDEN, "'%s' may not subscribe to '%s'",
                       zg_security_name (self->security, zg_wire_identity (request)), topic);
    else
    if (presence && !(self->presence && zg_presence_matches (self->presence, topic)))
        s_self_refuse (self, request, ZG_ERR_NOT_FOUND, "topic '%s' has no presence (see topics/presence)", topic);
    else
    if (presence)
        s_self_answer_presence (self, request, topic);
    else
    if (!zg_history_matches (self->history, topic))
        s_self_refuse (self, request, ZG_ERR_NOT_FOUND, "topic '%s' keeps no history (see topics/history)", topic);
    else
    if (self->clustered)
        s_self_forward (self, request);
    else
        s_self_answer (self, request, topic, !history, since, epoch);
    free (topic);
}

void
zg_topics_history_handle (zg_topics_history_t *self)
{
    assert (self);
    zg_wire_request_t request;
    void *handle = zsock_resolve (self->router);
    for (int count = 0; count < 64; count++) {
        if ((self->security? zg_security_recv (self->security, &request, handle): zg_wire_recv (&request, handle)) == -1)
            break;
        s_self_request (self, &request);
        zg_wire_close (&request);
    }
}

void
zg_topics_history_stats (zg_topics_history_t *self, json_object *stats)
{
    assert (self && stats);
    size_t topics = 0, messages = 0, bytes = 0;
    zg_history_counters (self->history, &topics, &messages, &bytes);
    json_object_object_add (stats, "history_topics", json_object_new_uint64 (topics));
    json_object_object_add (stats, "history_messages", json_object_new_uint64 (messages));
    json_object_object_add (stats, "history_bytes", json_object_new_uint64 (bytes));
    json_object_object_add (stats, "history_requests", json_object_new_uint64 (self->requests));
    json_object_object_add (stats, "history_refused", json_object_new_uint64 (self->refused));
}
