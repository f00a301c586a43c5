/*  =========================================================================
    zg_fuzz_codec_json - fuzz target for the gateway codec's JSON side
    (zg_codec): WebSocket text frames and HTTP bodies

    Each input is one JSON text as a client sends it. Whatever decodes must
    reach a fixed point in both encodings (zg_fuzz_codec.h). The same bytes
    as a native payload must print the same through the fast path
    (zg_codec_payload_kind, zg_codec_encode_payload) as through the value
    (zg_codec_payload_value, zg_codec_encode). And after any input, a text
    decodes as it always does (the parser is shared by every session).
    Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_codec.h"

static zg_codec_t *s_codec;

//  A payload prints the same with and without building its value
static void
s_check_payload (const byte *data, size_t size, bool msgpack)
{
    json_object *value = NULL;
    zg_codec_kind_t kind = zg_codec_payload_kind (s_codec, data, size, &value);
    msgpack_sbuffer fast, slow;
    msgpack_sbuffer_init (&fast);
    msgpack_sbuffer_init (&slow);
    zg_codec_encode_payload (s_codec, kind, value, data, size, msgpack, &fast);
    json_object *node = zg_codec_payload_value (s_codec, data, size);
    assert (zg_codec_is_binary (node) == (kind == ZG_CODEC_BINARY));
    zg_codec_encode (s_codec, node, msgpack, &slow);
    assert (fast.size == slow.size && memcmp (fast.data, slow.data, fast.size) == 0);
    msgpack_sbuffer_destroy (&fast);
    msgpack_sbuffer_destroy (&slow);
    json_object_put (node);
    json_object_put (value);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_codec)
        s_codec = zg_codec_new (FUZZ_MAX_DEPTH);
    json_object *value = NULL;
    char error [256];
    if (zg_codec_decode (s_codec, data, size, false, &value, error, sizeof error))
        assert (value == NULL && error [0]);
    else {
        //  JSON has no binary nodes: both encodings keep the value whole
        for (int msgpack = 0; msgpack < 2; msgpack++) {
            msgpack_sbuffer out;
            msgpack_sbuffer_init (&out);
            s_check_fixed_point (s_codec, value, msgpack, &out);
            msgpack_sbuffer_destroy (&out);
        }
        json_object_put (value);
    }
    s_check_payload (data, size, false);
    s_check_payload (data, size, true);
    //  The codec is shared by every session: no input may change how the
    //  next one reads
    assert (zg_codec_decode (s_codec, (const byte *) "\"\\u00e9\"", 8, false, &value, error, sizeof error) == 0);
    assert (streq (json_object_get_string (value), "\xc3\xa9"));
    json_object_put (value);
    return 0;
}
