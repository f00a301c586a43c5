/*  =========================================================================
    zg_fuzz_native - what the fuzz targets of the native actors share: an
    input read as a sequence of multipart messages, each sent on one of a
    few client connections to a real actor over inproc, the actor's state
    running in the target's thread (zg_<pattern>_core: the code the actor's
    thread runs, one loop pass at a time); after each message its passes
    run until it is quiet, so it has handled the message and every message
    it sent because of it, to any connection, has arrived, with no thread
    per input and no thread switch per message

    Input format, repeated until the input ends (a cut message is dropped):

        [connection byte][frame count byte][frame]...

    the connection is the byte modulo the target's connection count, the
    frame count the byte modulo 8 (0 frames send one empty frame), and a
    frame is a length byte then that many bytes, where 0xEF means a 2-byte
    big-endian length follows, and 0xF0 to 0xFF stand for no bytes but one
    of 16 values the actor sent earlier and the target remembered (issued
    client ids, ack tokens, task ids): the fuzzer cannot guess those.

    The final question of queues and rooms (STATS, METRICS) has the req
    FUZZ_SYNC (topics answer nothing: there a probe on the topic FUZZ_SYNC
    follows each message); an input message with a frame that starts with
    it is not sent, so no answer to the input can be taken for it.
    =========================================================================
*/

#ifndef ZG_FUZZ_NATIVE_H_INCLUDED
#define ZG_FUZZ_NATIVE_H_INCLUDED

#include <dirent.h>
#include "zg_classes.h"

//  Client connections of a target at most
#define FUZZ_MAX_CONNECTIONS 4
//  Frames of a message at most, and remembered values
#define FUZZ_MAX_FRAMES 7
#define FUZZ_REMEMBERED 16
//  Length byte meaning "a 2-byte length follows", and the first reference
#define FUZZ_LONG_LENGTH 0xEF
#define FUZZ_REFERENCE 0xF0
//  The sync request's correlation id
#define FUZZ_SYNC "~sync~"

typedef struct _fuzz_native_t fuzz_native_t;

//  A pattern actor's state run in the target's thread (zg_topics_core,
//  zg_queues_core, zg_rooms_core): its SET and its loop's pass
typedef int (fuzz_core_set_fn) (void *state, const char *key, const char *value, char *error, size_t size);
typedef int (fuzz_core_pass_fn) (void *state, long timeout);
typedef struct {
    void *state;
    fuzz_core_set_fn *set;
    fuzz_core_pass_fn *pass;
} fuzz_core_t;

//  The core of pattern (topics, queues, rooms) over its state
#define FUZZ_CORE(pattern, state) ((fuzz_core_t) { (state), (fuzz_core_set_fn *) zg_##pattern##_core_set, \
                                                  (fuzz_core_pass_fn *) zg_##pattern##_core_pass })

//  Checks one message the actor sent to a connection (the sync answer
//  excluded); it may remember values with s_native_remember
typedef void (fuzz_seen_fn) (fuzz_native_t *native, size_t connection, zmsg_t *msg);
//  Notes one message of the input before it is sent (may be NULL); false
//  if the message must not be sent (it could pass for a sync)
typedef bool (fuzz_sent_fn) (fuzz_native_t *native, size_t connection, zmsg_t *msg);
//  Makes sure the actor has handled what was sent on a connection and sent
//  what follows from it, handing that to the checks
typedef void (fuzz_sync_fn) (fuzz_native_t *native, size_t connection);

struct _fuzz_native_t {
    fuzz_core_t core;                           //  The actor's state
    zsock_t *connections [FUZZ_MAX_CONNECTIONS];
    size_t count;                               //  Connections in use
    fuzz_seen_fn *seen;                         //  The target's checks
    fuzz_sent_fn *sent;                         //  The target's notes
    void *state;                                //  The target's model
    zframe_t *remembered [FUZZ_REMEMBERED];     //  Values the actor sent
    size_t next;                                //  Ring position
};

//  Remember a value the actor sent, for inputs to name with a reference
static inline void
s_native_remember (fuzz_native_t *native, const void *data, size_t size)
{
    zframe_destroy (&native->remembered [native->next]);
    native->remembered [native->next] = zframe_new (data, size);
    native->next = (native->next + 1) % FUZZ_REMEMBERED;
}

//  Read one frame of the input into msg; false if the input ends first
static inline bool
s_native_frame (fuzz_native_t *native, const uint8_t **data, const uint8_t *end, zmsg_t *msg)
{
    if (*data >= end)
        return false;
    size_t length = *(*data)++;
    if (length >= FUZZ_REFERENCE) {
        zframe_t *value = native->remembered [length - FUZZ_REFERENCE];
        zmsg_addmem (msg, value? zframe_data (value): NULL, value? zframe_size (value): 0);
        return true;
    }
    if (length == FUZZ_LONG_LENGTH) {
        if (end - *data < 2)
            return false;
        length = (size_t) (*data) [0] << 8 | (*data) [1];
        *data += 2;
    }
    if ((size_t) (end - *data) < length)
        return false;
    zmsg_addmem (msg, *data, length);
    *data += length;
    return true;
}

//  True if a frame starts with the sync id, which inputs may not send
static inline bool
s_native_is_sync (zframe_t *frame)
{
    return zframe_size (frame) >= strlen (FUZZ_SYNC) && memcmp (zframe_data (frame), FUZZ_SYNC, strlen (FUZZ_SYNC)) == 0;
}

//  Read the next message of the input; NULL at its end. A message that
//  names the sync id comes back empty (not to be sent).
static inline zmsg_t *
s_native_next (fuzz_native_t *native, const uint8_t **data, const uint8_t *end, size_t *connection)
{
    if (end - *data < 2)
        return NULL;
    *connection = (*data) [0] % native->count;
    size_t frames = (*data) [1] % (FUZZ_MAX_FRAMES + 1);
    *data += 2;
    zmsg_t *msg = zmsg_new ();
    for (size_t index = 0; index < frames; index++)
        if (!s_native_frame (native, data, end, msg)) {
            zmsg_destroy (&msg);
            return NULL;
        }
    if (frames == 0)
        zmsg_addmem (msg, NULL, 0);
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg))
        if (s_native_is_sync (frame)) {
            zmsg_destroy (&msg);
            return zmsg_new ();
        }
    return msg;
}

//  Hand every message waiting on any connection to the target's checks
static inline void
s_native_drain (fuzz_native_t *native)
{
    for (size_t index = 0; index < native->count; index++) {
        zsock_t *socket = native->connections [index];
        while (zsock_events (socket) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (socket);
            assert (msg);
            native->seen (native, index, msg);
            zmsg_destroy (&msg);
        }
    }
}

//  Open file descriptors at most when an input starts, and how long the
//  reaper may take to come back under that before a target calls it a leak
#define FUZZ_MAX_FDS 2048
#define FUZZ_REAPER_TIMEOUT 10000

//  Open file descriptors of the process
static inline size_t
s_native_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    assert (dir);
    size_t count = 0;
    while (readdir (dir))
        count++;
    closedir (dir);
    return count;
}

//  Before each input's first socket. libzmq closes sockets in its reaper
//  thread, which on a loaded machine lags the inputs' sockets by more than
//  czmq's default limit of 1,024 sockets, so once per process the limit
//  goes to what libzmq allows. Each socket holds a descriptor until reaped,
//  and a target that starts actors for every input outruns the reaper by
//  thousands of sockets a second on a loaded machine, until the process has
//  no descriptor left (zsock_new asserts): every 16 inputs, if the reaper
//  lags, the target waits for it
static inline void
s_native_init (void)
{
    static bool initialized;
    static unsigned inputs;
    if (!initialized) {
        zsys_set_max_sockets (0);
        initialized = true;
    }
    if (++inputs % 16)
        return;
    int64_t deadline = zclock_mono () + FUZZ_REAPER_TIMEOUT;
    while (s_native_fds () > FUZZ_MAX_FDS) {
        assert (zclock_mono () < deadline);     //  Sockets leak
        zclock_sleep (1);
    }
}

//  Apply each of count settings ({ key, value }) to a core; all must pass
static inline void
s_native_configure (fuzz_core_t *core, const char *const (*settings) [2], size_t count)
{
    char error [256];
    for (size_t index = 0; index < count; index++) {
        int rc = core->set (core->state, settings [index][0], settings [index][1], error, sizeof error);
        assert (rc == 0);
    }
}

//  Bind a core's endpoint key to a new inproc endpoint (never one of an
//  earlier input, which libzmq may still be releasing), written to endpoint
static inline void
s_native_bind (fuzz_core_t *core, const char *key, char *endpoint, size_t size)
{
    static unsigned instance;
    snprintf (endpoint, size, "inproc://fuzz-%s-%u", key, ++instance);
    char error [256];
    int rc = core->set (core->state, key, endpoint, error, sizeof error);
    assert (rc == 0);
}

//  Run a core's loop passes until one finds nothing to do; true if any did
static inline bool
s_native_pump (fuzz_core_t *core)
{
    bool handled = false;
    while (core->pass (core->state, 0) > 0)
        handled = true;
    return handled;
}

//  Connect a socket of this type to an inproc endpoint as the next
//  connection; it never waits (everything runs in this thread: what the
//  actor sent is there once it is quiet)
static inline void
s_native_connect (fuzz_native_t *native, int type, const char *endpoint)
{
    assert (native->count < FUZZ_MAX_CONNECTIONS);
    zsock_t *socket = zsock_new (type);
    assert (socket);
    zsock_set_rcvtimeo (socket, 0);
    zsock_set_linger (socket, 0);
    int rc = zsock_connect (socket, "%s", endpoint);
    assert (rc == 0);
    native->connections [native->count++] = socket;
}

//  The actor handles what was sent, then the checks get what it sent
static inline void
s_native_step (fuzz_native_t *native, size_t connection)
{
    (void) connection;
    s_native_pump (&native->core);
    s_native_drain (native);
}

//  Ask the actor on a connection (verb, then FUZZ_SYNC as its req): what
//  comes before the answer goes to the checks, then the others are
//  drained. The answer must be there. Returns it.
static inline zmsg_t *
s_native_ask (fuzz_native_t *native, size_t connection, const char *verb)
{
    zsock_t *socket = native->connections [connection];
    zstr_sendx (socket, verb, FUZZ_SYNC, NULL);
    s_native_pump (&native->core);
    while (true) {
        zmsg_t *msg = zmsg_recv (socket);
        assert (msg);               //  No answer
        zmsg_first (msg);
        zframe_t *name = zmsg_next (msg);
        if (name && zframe_streq (name, FUZZ_SYNC)) {
            s_native_drain (native);
            return msg;
        }
        native->seen (native, connection, msg);
        zmsg_destroy (&msg);
    }
}

//  Run every message of an input, each followed by a sync on its connection
static inline void
s_native_run (fuzz_native_t *native, const uint8_t *data, size_t size, fuzz_sync_fn *sync)
{
    const uint8_t *end = data + size;
    size_t connection;
    zmsg_t *msg;
    while ((msg = s_native_next (native, &data, end, &connection))) {
        if (zmsg_size (msg) && (!native->sent || native->sent (native, connection, msg))) {
            int rc = zmsg_send (&msg, native->connections [connection]);
            assert (rc == 0);
            sync (native, connection);
        }
        zmsg_destroy (&msg);
    }
}

//  Close the connections and forget what was remembered
static inline void
s_native_close (fuzz_native_t *native)
{
    for (size_t index = 0; index < native->count; index++)
        zsock_destroy (&native->connections [index]);
    for (size_t index = 0; index < FUZZ_REMEMBERED; index++)
        zframe_destroy (&native->remembered [index]);
    native->count = 0;
    native->next = 0;
}

//  True if a frame holds exactly this string
static inline bool
s_native_is (zframe_t *frame, const char *string)
{
    return frame && zframe_streq (frame, string);
}

//  Lists of frames (names sent, ids seen)
static inline bool
s_listed (zlist_t *list, zframe_t *frame)
{
    for (zframe_t *item = (zframe_t *) zlist_first (list); item; item = (zframe_t *) zlist_next (list))
        if (zframe_eq (item, frame))
            return true;
    return false;
}

static inline void
s_list_add (zlist_t *list, zframe_t *frame)
{
    if (!s_listed (list, frame))
        zlist_append (list, zframe_dup (frame));
}

static inline void
s_list_destroy (zlist_t **list_p)
{
    zframe_t *frame;
    while ((frame = (zframe_t *) zlist_pop (*list_p)))
        zframe_destroy (&frame);
    zlist_destroy (list_p);
}

//  True if a msgpack value holds no negative integer, at any depth
static inline bool
s_not_negative (msgpack_object *value)
{
    if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return false;
    if (value->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t index = 0; index < value->via.array.size; index++)
            if (!s_not_negative (&value->via.array.ptr [index]))
                return false;
    if (value->type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < value->via.map.size; index++)
            if (!s_not_negative (&value->via.map.ptr [index].val))
                return false;
    return true;
}

//  The member of a msgpack map named key, or NULL
static inline msgpack_object *
s_member (msgpack_object *map, const char *key)
{
    assert (map->type == MSGPACK_OBJECT_MAP);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == strlen (key)
        &&  memcmp (name->via.str.ptr, key, strlen (key)) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

//  An answer [OK|ERROR][name][fields...] to a connection that sent these
//  names (reqs or worker ids): an ERROR has a 3-digit code and a reason; an
//  OK names a non-empty name the connection sent, an ERROR such a name or
//  an empty one (when that frame was the fault)
static inline void
s_native_check_answer (zmsg_t *msg, zlist_t *names)
{
    zframe_t *verb = zmsg_first (msg);
    zframe_t *name = zmsg_next (msg);
    zframe_t *code = zmsg_next (msg);
    if (s_native_is (verb, "ERROR"))
        assert (zmsg_size (msg) == 4 && zframe_size (code) == 3);
    if (s_native_is (verb, "OK") || zframe_size (name))
        assert (zframe_size (name) && s_listed (names, name));
}

//  A msgpack answer frame unpacked, whole; the caller destroys it
static inline void
s_unpack (zframe_t *frame, msgpack_unpacked *unpacked)
{
    msgpack_unpacked_init (unpacked);
    size_t offset = 0;
    int rc = msgpack_unpack_next (unpacked, (const char *) zframe_data (frame), zframe_size (frame), &offset);
    assert (rc == MSGPACK_UNPACK_SUCCESS && offset == zframe_size (frame));
}

#endif
