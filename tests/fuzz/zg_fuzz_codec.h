/*  =========================================================================
    zg_fuzz_codec - checks shared by the codec fuzz targets

    A decoded value must encode to a fixed point: encoded, decoded and
    encoded again, it is the same value (binary nodes included) and the
    same bytes.
    =========================================================================
*/

#ifndef ZG_FUZZ_CODEC_H_INCLUDED
#define ZG_FUZZ_CODEC_H_INCLUDED

#include "zg_classes.h"
#include "zg_codec.h"

//  The nesting limit the targets run with: small, so inputs reach it
#define FUZZ_MAX_DEPTH 16

//  True if two values are equal, binary nodes being binary in both
static bool
s_same_value (json_object *first, json_object *second)
{
    if (zg_codec_is_binary (first) != zg_codec_is_binary (second))
        return false;
    if (json_object_is_type (first, json_type_object) && json_object_is_type (second, json_type_object)) {
        if (json_object_object_length (first) != json_object_object_length (second))
            return false;
        json_object_object_foreach (first, key, child) {
            json_object *other;
            if (!json_object_object_get_ex (second, key, &other) || !s_same_value (child, other))
                return false;
        }
        return true;
    }
    if (json_object_is_type (first, json_type_array) && json_object_is_type (second, json_type_array)) {
        size_t length = json_object_array_length (first);
        if (length != json_object_array_length (second))
            return false;
        for (size_t index = 0; index < length; index++)
            if (!s_same_value (json_object_array_get_idx (first, index), json_object_array_get_idx (second, index)))
                return false;
        return true;
    }
    return json_object_equal (first, second);
}

//  Encode value in one format, decode it and encode it again: the same
//  value and the same bytes; the encoding goes to out
static void
s_check_fixed_point (zg_codec_t *codec, json_object *value, bool msgpack, msgpack_sbuffer *out)
{
    zg_codec_encode (codec, value, msgpack, out);
    json_object *again = NULL;
    char error [256];
    int rc = zg_codec_decode (codec, (const byte *) out->data, out->size, msgpack, &again, error, sizeof error);
    if (rc)
        fprintf (stderr, "re-decoding our own %s failed: %s\n", msgpack? "msgpack": "JSON", error);
    assert (rc == 0);
    assert (s_same_value (value, again));
    msgpack_sbuffer twice;
    msgpack_sbuffer_init (&twice);
    zg_codec_encode (codec, again, msgpack, &twice);
    assert (twice.size == out->size && memcmp (twice.data, out->data, out->size) == 0);
    msgpack_sbuffer_destroy (&twice);
    json_object_put (again);
}

#endif
