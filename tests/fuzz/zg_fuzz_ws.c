/*  =========================================================================
    zg_fuzz_ws - fuzz target for the gateway's WebSocket decoding path

    Each input is one WebSocket message as a client could send it: the first
    byte chooses text (JSON) or binary (msgpack) and how the message is cut
    into frames and chunks; the rest is the message. It goes through the
    session's reassembly with its limits, then the codec; whatever decodes
    must encode to JSON and msgpack that decode again (the gateway never
    sends what it could not read back), and native payload mapping must hold.

    Seeds: tests/fuzz/corpus/ws/ (first byte 0x40 for a JSON text message
    in 33-byte chunks, 0x41 for msgpack). Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_codec.h"
#include "zg_session.h"

//  The limits the target runs with: small, so inputs reach them
#define FUZZ_MAX_FRAME 4096
#define FUZZ_MAX_MESSAGE 16384
#define FUZZ_MAX_DEPTH 16

static zg_codec_t *s_codec;

//  Decode a message, and check that what decodes encodes back both ways
static void
s_check_message (const byte *data, size_t size, bool msgpack)
{
    json_object *value = NULL;
    char error [256];
    if (zg_codec_decode (s_codec, data, size, msgpack, &value, error, sizeof error)) {
        assert (value == NULL && error [0]);
        return;
    }
    for (int format = 0; format < 2; format++) {
        msgpack_sbuffer out;
        msgpack_sbuffer_init (&out);
        zg_codec_encode (s_codec, value, format == 1, &out);
        json_object *again = NULL;
        //  Binary nodes print as base64 strings, one level no deeper
        int rc = zg_codec_decode (s_codec, (const byte *) out.data, out.size, format == 1,
                                  &again, error, sizeof error);
        if (rc)
            fprintf (stderr, "re-decoding our own %s failed: %s\n", format? "msgpack": "JSON", error);
        assert (rc == 0);
        json_object_put (again);
        msgpack_sbuffer_destroy (&out);
    }
    //  A data value becomes a native payload and comes back as a value
    size_t payload_size = 0;
    const char *payload = value? zg_codec_value_payload (value, &payload_size): "null";
    if (!value)
        payload_size = 4;
    json_object *back = zg_codec_payload_value (s_codec, (const byte *) payload, payload_size);
    json_object_put (back);
    json_object_put (value);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_codec)
        s_codec = zg_codec_new (FUZZ_MAX_DEPTH);
    if (size == 0)
        return 0;
    bool msgpack = data [0] & 1;
    size_t chunk = 1 + (data [0] >> 1);         //  1 to 128 bytes per chunk
    data++;
    size--;
    //  Through reassembly: one frame, cut into chunks
    zg_session_t *session = zg_session_new (NULL, 1);
    size_t offset = 0;
    bool complete = false;
    int rc = 0;
    while (rc == 0 && !complete) {
        size_t length = size - offset < chunk? size - offset: chunk;
        size_t remaining = size - offset - length;
        rc = zg_session_receive (session, data + offset, length, remaining, remaining == 0,
                                 FUZZ_MAX_FRAME, FUZZ_MAX_MESSAGE, &complete);
        offset += length;
    }
    if (rc == 0) {
        size_t message_size = 0;
        //  A message that came in one chunk is read in place
        const byte *message = zg_session_message (session, data, size <= chunk? size: 0, &message_size);
        assert (message_size == size);
        s_check_message (message, message_size, msgpack);
        zg_session_message_done (session);
    }
    else
        assert (size > FUZZ_MAX_FRAME);
    zg_session_destroy (&session);
    //  And the codec alone on the raw bytes, both ways
    s_check_message (data, size, !msgpack);
    return 0;
}
