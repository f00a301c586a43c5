/*  =========================================================================
    zg_fuzz_gw_ops - fuzz target for the gateway's WebSocket ops: each
    message goes through zg_gw_routes_message (the op table) to the
    bridges and, over inproc, to the real topics, queues and rooms actors
    (zg_fuzz_gateway.h), as a complete WebSocket message from lws would

    Input, repeated until it ends: a flags byte (bit 0: binary, so msgpack;
    bit 1: which of two sessions; bit 2: close that session, with its
    bridges' cleanup, and open a new one in its place, no message), then a
    length byte (0xEF: a 2-byte big-endian length follows) and that many
    bytes, the message. Invariants, on every frame the gateway queues to a
    session: a final text or binary WebSocket frame of the right length,
    whose payload decodes to an object with a string "op"; a "req" in it is
    one that session sent; every request gets exactly one answer (a frame
    with a "req", null or not, other than a task's later outcome: its
    "reply", or its error 408, 410 or 422), never more.
    Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_gateway.h"

#define FUZZ_SESSIONS 2
//  How long the answers still due may take (their timers run in real
//  time); longer is a request left unanswered
#define FUZZ_ANSWER_TIMEOUT 5000

typedef struct {
    zg_session_t *session;
    zlist_t *reqs;                  //  JSON text of every req it sent
    size_t requests;                //  Messages it sent
    size_t answers;                 //  Answers it got (frames with a "req", but replies)
} s_session_t;

static zg_codec_t *s_codec;

static void
s_destroy_codec (void)
{
    zg_codec_destroy (&s_codec);
}

//  Open a session as the gateway does for an upgrade
static void
s_open (fuzz_gateway_t *gateway, s_session_t *slot)
{
    slot->session = zg_session_new (NULL, zg_gw_answers_new_id (gateway->answers));
    zg_gw_answers_add_session (gateway->answers, slot->session);
    slot->reqs = zlist_new ();
    zlist_autofree (slot->reqs);
    slot->requests = slot->answers = 0;
}

//  Close it as the gateway does when the connection ends
static void
s_close (fuzz_gateway_t *gateway, s_session_t *slot)
{
    zg_gw_topics_session_closed (gateway->topics, slot->session);
    zg_gw_queues_session_closed (gateway->queues, slot->session);
    zg_gw_rooms_session_closed (gateway->rooms, slot->session);
    zg_gw_answers_remove_session (gateway->answers, slot->session);
    zg_session_destroy (&slot->session);
    zlist_destroy (&slot->reqs);
}

static bool
s_sent_req (s_session_t *slot, const char *req)
{
    for (char *item = (char *) zlist_first (slot->reqs); item; item = (char *) zlist_next (slot->reqs))
        if (streq (item, req))
            return true;
    return false;
}

//  True if a frame with a req is a task's later outcome, not an answer: the
//  reply of a send with reply, or its error (408 timed out, 410 dead, 422
//  failed), as docs/PROTOCOL.md 4.1 lists them
static bool
s_outcome (json_object *frame, json_object *req)
{
    const char *op = json_object_get_string (json_object_object_get (frame, "op"));
    if (streq (op, "reply"))
        return true;
    int64_t code = json_object_get_int64 (json_object_object_get (frame, "code"));
    return req && streq (op, "error") && (code == 408 || code == 410 || code == 422);
}

//  One frame the gateway queued: a whole final frame with an op
static void
s_check_frame (s_session_t *slot, zg_frame_t *frame)
{
    assert (frame->size >= 2);
    byte *data = frame->data;
    assert (data [0] == 0x81 || data [0] == 0x82);
    size_t header = 2, length = data [1];
    assert (length < 128);          //  Server frames are not masked
    if (length == 126) {
        length = (size_t) data [2] << 8 | data [3];
        header = 4;
    }
    else
    if (length == 127) {
        length = 0;
        for (size_t index = 2; index < 10; index++)
            length = length << 8 | data [index];
        header = 10;
    }
    assert (header + length == frame->size);
    json_object *value = NULL;
    char error [256];
    int rc = zg_codec_decode (s_codec, data + header, length, data [0] == 0x82, &value, error, sizeof error);
    assert (rc == 0 && json_object_is_type (value, json_type_object));
    json_object *op, *req;
    assert (json_object_object_get_ex (value, "op", &op) && json_object_is_type (op, json_type_string));
    if (json_object_object_get_ex (value, "req", &req)) {
        assert (!req || s_sent_req (slot, json_object_to_json_string (req)));
        slot->answers += !s_outcome (value, req);
    }
    json_object_put (value);
}

//  Check and take every frame queued to a session, as its writable
//  callback would
static void
s_take_frames (s_session_t *slot, zchunk_t *scratch)
{
    zg_session_t *session = slot->session;
    while (session->queue_count) {
        for (uint32_t index = 0; index < session->queue_count; index++)
            s_check_frame (slot, session->queue [(session->queue_head + index) & (session->queue_size - 1)]);
        int rc = zg_session_write (session, scratch, SIZE_MAX);
        assert (rc == 0);
    }
    assert (slot->answers <= slot->requests);
}

//  The sessions, with the scratch buffer their frames are taken through
typedef struct {
    s_session_t slots [FUZZ_SESSIONS];
    zchunk_t *scratch;
} s_sessions_t;

//  Take every session's frames; true once each has its answers
static bool
s_answered (void *arg)
{
    s_sessions_t *sessions = (s_sessions_t *) arg;
    bool answered = true;
    for (size_t index = 0; index < FUZZ_SESSIONS; index++) {
        s_take_frames (&sessions->slots [index], sessions->scratch);
        answered &= sessions->slots [index].answers == sessions->slots [index].requests;
    }
    return answered;
}

//  Every request gets exactly one answer: wait for those still due (one
//  that a timer answers, a call's timeout say)
static void
s_wait_answers (fuzz_gateway_t *gateway, s_sessions_t *sessions)
{
    int64_t deadline = zclock_mono () + FUZZ_ANSWER_TIMEOUT;
    while (!s_answered (sessions)) {
        assert (zclock_mono () < deadline);
        zclock_sleep (1);
        s_gateway_pump (gateway, s_answered, sessions);
    }
}

//  Note the req of a message, if it decodes to an object with one
static void
s_note_req (s_session_t *slot, const byte *data, size_t size, bool binary)
{
    json_object *value = NULL, *req;
    char error [256];
    if (zg_codec_decode (s_codec, data, size, binary, &value, error, sizeof error) == 0
    &&  json_object_is_type (value, json_type_object) && json_object_object_get_ex (value, "req", &req) && req)
        zlist_append (slot->reqs, (void *) json_object_to_json_string (req));
    json_object_put (value);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_codec) {
        s_codec = zg_codec_new (8);
        atexit (s_destroy_codec);
    }
    fuzz_gateway_t gateway;
    s_gateway_new (&gateway);
    s_sessions_t sessions = { .scratch = zchunk_new (NULL, 4096) };
    for (size_t index = 0; index < FUZZ_SESSIONS; index++)
        s_open (&gateway, &sessions.slots [index]);

    const uint8_t *end = data + size;
    while (end - data >= 2) {
        uint8_t flags = *data++;
        s_session_t *slot = &sessions.slots [(flags >> 1) & 1];
        if (flags & 4) {
            s_close (&gateway, slot);
            s_open (&gateway, slot);
            continue;
        }
        size_t length = *data++;
        if (length == FUZZ_LONG_LENGTH) {
            if (end - data < 2)
                break;
            length = (size_t) data [0] << 8 | data [1];
            data += 2;
        }
        if ((size_t) (end - data) < length)
            break;
        s_note_req (slot, data, length, flags & 1);
        slot->requests++;
        zg_gw_routes_message (gateway.routes, slot->session, data, length, flags & 1);
        data += length;
        s_gateway_pump (&gateway, s_answered, &sessions);
    }

    s_wait_answers (&gateway, &sessions);
    zchunk_destroy (&sessions.scratch);
    for (size_t index = 0; index < FUZZ_SESSIONS; index++)
        s_close (&gateway, &sessions.slots [index]);
    s_gateway_destroy (&gateway);
    return 0;
}
