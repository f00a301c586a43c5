/*  =========================================================================
    zg_fuzz_codec_msgpack - fuzz target for the gateway codec's msgpack
    side (zg_codec): WebSocket binary frames and the pattern actors' frames

    Each input is one msgpack object, decoded as a web client's
    (zg_codec_decode) and as a pattern actor's (zg_codec_decode_native).
    Whatever decodes must reach a fixed point in msgpack (zg_fuzz_codec.h),
    and print as JSON that decodes, where binary nodes become base64
    strings, from which on JSON is a fixed point too. Runs as
    zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_codec.h"

static zg_codec_t *s_codec;
//  Native frames nest 4 levels deeper than web ones (zg_codec_decode_native):
//  what they decode to is read back with a codec allowing that
static zg_codec_t *s_native_codec;

//  Check a decoded value in both encodings, read back by codec
static void
s_check_value (zg_codec_t *codec, json_object *value)
{
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    s_check_fixed_point (codec, value, true, &packed);
    msgpack_sbuffer_destroy (&packed);

    msgpack_sbuffer text;
    msgpack_sbuffer_init (&text);
    zg_codec_encode (codec, value, false, &text);
    json_object *printed = NULL;
    char error [256];
    int rc = zg_codec_decode (codec, (const byte *) text.data, text.size, false, &printed, error, sizeof error);
    if (rc)
        fprintf (stderr, "re-decoding our own JSON failed: %s\n", error);
    assert (rc == 0);
    msgpack_sbuffer_clear (&text);
    s_check_fixed_point (codec, printed, false, &text);
    msgpack_sbuffer_destroy (&text);
    json_object_put (printed);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_codec) {
        s_codec = zg_codec_new (FUZZ_MAX_DEPTH);
        s_native_codec = zg_codec_new (FUZZ_MAX_DEPTH + 4);
    }
    json_object *value = NULL;
    char error [256];
    if (zg_codec_decode (s_codec, data, size, true, &value, error, sizeof error))
        assert (value == NULL && error [0]);
    else
        s_check_value (s_codec, value);
    json_object_put (value);
    json_object *native = NULL;
    if (zg_codec_decode_native (s_codec, data, size, &native, error, sizeof error))
        assert (native == NULL && error [0]);
    else
        s_check_value (s_native_codec, native);
    json_object_put (native);
    return 0;
}
