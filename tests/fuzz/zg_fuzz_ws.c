/*  =========================================================================
    zg_fuzz_ws - fuzz target for the gateway's WebSocket decoding path

    Each input is one WebSocket message as a client could send it: the first
    byte chooses text (JSON) or binary (msgpack) and how the message is cut
    into frames and chunks; the rest is the message. It goes through the
    session's reassembly with its limits, then the codec; whatever decodes
    must encode to JSON and msgpack that decode again (the gateway never
    sends what it could not read back), and native payload mapping must hold.

    Built normally, main runs a deterministic mutation fuzzer from a seed
    corpus for a given time (a CTest). Built with clang and
    -DZG_FUZZ_LIBFUZZER -fsanitize=fuzzer,address, it is a libFuzzer target.

        zg_fuzz_ws [--seconds N] [--seed N]
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

#ifndef ZG_FUZZ_LIBFUZZER

//  Inputs the mutations start from: requests of every kind, both encodings
static const char *s_json_seeds [] = {
    "{\"op\":\"subscribe\",\"topic\":\"sensors.*\",\"req\":1}",
    "{\"op\":\"publish\",\"topic\":\"a\",\"data\":{\"t\":[1,2.5,-3,\"x\",null,true]},\"req\":\"r\"}",
    "{\"op\":\"send\",\"queue\":\"jobs\",\"data\":\"hello\",\"reply\":true,\"priority\":3}",
    "{\"op\":\"ack\",\"room\":\"lobby\",\"token\":\"12\"}",
    "{\"op\":\"peek\",\"room\":\"r\",\"offset\":0,\"limit\":10,\"n\":9007199254740993}",
    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
    "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"}",
    NULL
};

//  Deterministic generator (xorshift), so a failure can be replayed with --seed
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

//  Mutate buffer in place: flip, insert, delete, duplicate or splice bytes
static size_t
s_mutate (byte *buffer, size_t size, size_t capacity, uint64_t *state)
{
    int rounds = 1 + (int) (s_random (state) % 4);
    for (int round = 0; round < rounds; round++) {
        size_t at = size? (size_t) (s_random (state) % size): 0;
        switch (s_random (state) % 6) {
            case 0:
                if (size)
                    buffer [at] ^= (byte) (1 << (s_random (state) % 8));
                break;
            case 1:
                if (size < capacity) {
                    memmove (buffer + at + 1, buffer + at, size - at);
                    buffer [at] = (byte) s_random (state);
                    size++;
                }
                break;
            case 2:
                if (size > 1) {
                    memmove (buffer + at, buffer + at + 1, size - at - 1);
                    size--;
                }
                break;
            case 3: {
                size_t length = 1 + (size_t) (s_random (state) % 16);
                if (at + length <= size && size + length <= capacity) {
                    memmove (buffer + at + length, buffer + at, size - at);
                    size += length;
                }
                break;
            }
            case 4:
                if (size)
                    buffer [at] = (byte) "{}[]\":,0\\\x91\x81\xa1\xdc\xdd\xc4\xcb\xff" [s_random (state) % 18];
                break;
            default:
                if (size > 2)
                    size = 1 + (size_t) (s_random (state) % size);
                break;
        }
    }
    return size;
}

int
main (int argc, char **argv)
{
    int64_t seconds = 5;
    uint64_t seed = 0x5eed5eed;
    for (int index = 1; index + 1 < argc; index += 2)
        if (streq (argv [index], "--seconds"))
            seconds = atoll (argv [index + 1]);
        else
        if (streq (argv [index], "--seed"))
            seed = strtoull (argv [index + 1], NULL, 10);
    s_codec = zg_codec_new (FUZZ_MAX_DEPTH);
    //  Seeds: each JSON seed as text, and as msgpack through our encoder
    zlistx_t *corpus = zlistx_new ();
    zlistx_set_destructor (corpus, (zlistx_destructor_fn *) zchunk_destroy);
    for (int index = 0; s_json_seeds [index]; index++) {
        zchunk_t *text = zchunk_new (NULL, strlen (s_json_seeds [index]) + 1);
        zchunk_append (text, "\x40", 1);
        zchunk_append (text, s_json_seeds [index], strlen (s_json_seeds [index]));
        zlistx_add_end (corpus, text);
        json_object *value = NULL;
        char error [256];
        if (zg_codec_decode (s_codec, (const byte *) s_json_seeds [index], strlen (s_json_seeds [index]),
                             false, &value, error, sizeof error) == 0) {
            msgpack_sbuffer packed;
            msgpack_sbuffer_init (&packed);
            msgpack_sbuffer_write (&packed, "\x41", 1);
            zg_codec_encode (s_codec, value, true, &packed);
            zlistx_add_end (corpus, zchunk_new (packed.data, packed.size));
            msgpack_sbuffer_destroy (&packed);
            json_object_put (value);
        }
    }
    uint64_t state = seed? seed: 1;
    byte buffer [FUZZ_MAX_MESSAGE + 256];
    int64_t deadline = zclock_mono () + seconds * 1000;
    uint64_t runs = 0;
    size_t seeds = zlistx_size (corpus);
    while (zclock_mono () < deadline) {
        for (int batch = 0; batch < 1000; batch++, runs++) {
            zchunk_t *chunk = (zchunk_t *) zlistx_first (corpus);
            for (size_t skip = (size_t) (s_random (&state) % zlistx_size (corpus)); skip; skip--)
                chunk = (zchunk_t *) zlistx_next (corpus);
            size_t size = zchunk_size (chunk);
            memcpy (buffer, zchunk_data (chunk), size);
            size = s_mutate (buffer, size, sizeof buffer, &state);
            LLVMFuzzerTestOneInput (buffer, size);
            //  Keep some mutants that still decode: they explore deeper
            json_object *value = NULL;
            char error [256];
            if (size > 1 && zlistx_size (corpus) < 4096
            &&  zg_codec_decode (s_codec, buffer + 1, size - 1, buffer [0] & 1, &value, error, sizeof error) == 0
            &&  s_random (&state) % 8 == 0)
                zlistx_add_end (corpus, zchunk_new (buffer, size));
            json_object_put (value);
        }
    }
    printf ("zg_fuzz_ws: %" PRIu64 " inputs in %" PRId64 " s, corpus %zu (from %zu seeds), seed %" PRIu64 ": OK\n",
            runs, seconds, zlistx_size (corpus), seeds, seed);
    zlistx_destroy (&corpus);
    zg_codec_destroy (&s_codec);
    return 0;
}
#endif
