/*  =========================================================================
    zg_mpjson - a msgpack value as json-c

    A recursive walk over msgpack-c's unpacked objects.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_mpjson.h"
#include "zg_wire.h"

//  A msgpack object as json-c; *valid turns false at a map key that is not a string
static json_object *
s_to_json (msgpack_object *object, bool *valid)
{
    switch (object->type) {
        case MSGPACK_OBJECT_BOOLEAN:
            return json_object_new_boolean (object->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return json_object_new_int64 (object->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return json_object_new_double (object->via.f64);
        case MSGPACK_OBJECT_STR:
        case MSGPACK_OBJECT_BIN:
            return json_object_new_string_len (object->via.str.ptr, (int) object->via.str.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_object *array = json_object_new_array ();
            for (uint32_t index = 0; index < object->via.array.size; index++)
                json_object_array_add (array, s_to_json (&object->via.array.ptr [index], valid));
            return array;
        }
        case MSGPACK_OBJECT_MAP: {
            json_object *map = json_object_new_object ();
            for (uint32_t index = 0; index < object->via.map.size; index++) {
                msgpack_object_kv *pair = &object->via.map.ptr [index];
                if (pair->key.type != MSGPACK_OBJECT_STR) {
                    *valid = false;
                    continue;
                }
                char *key = strndup (pair->key.via.str.ptr, pair->key.via.str.size);
                json_object_object_add (map, key, s_to_json (&pair->val, valid));
                free (key);
            }
            return map;
        }
        default:
            return NULL;
    }
}

//  --------------------------------------------------------------------------
//  The msgpack value in data as a new json-c value

json_object *
zg_mpjson_unpack (const void *data, size_t size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    json_object *value = NULL;
    bool valid = msgpack_unpack_next (&unpacked, (const char *) data, size, &offset) == MSGPACK_UNPACK_SUCCESS
              && offset == size;
    if (valid)
        value = s_to_json (&unpacked.data, &valid);
    msgpack_unpacked_destroy (&unpacked);
    if (!valid)
        json_object_put (value);
    return valid? value: NULL;
}

//  --------------------------------------------------------------------------
//  An integer field of a msgpack map

int64_t
zg_mpjson_map_int (zframe_t *frame, const char *key)
{
    assert (frame);
    json_object *map = zg_mpjson_unpack (zframe_data (frame), zframe_size (frame));
    assert (map && json_object_is_type (map, json_type_object));
    json_object *item;
    int64_t value = -1;
    if (json_object_object_get_ex (map, key, &item))
        value = json_object_is_type (item, json_type_array)? (int64_t) json_object_array_length (item)
                                                           : json_object_get_int64 (item);
    json_object_put (map);
    return value;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_mpjson_test (bool verbose)
{
    printf (" * zg_mpjson: ");
    if (verbose)
        printf ("\n");
    json_object *root = json_tokener_parse ("{\"a\":1,\"b\":[\"x\",-2],\"c\":{\"d\":true},\"e\":1.5}");
    assert (root);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    zg_wire_pack_json (&packer, root);
    json_object_put (root);

    //  Back: every type zg_wire_pack_json writes
    json_object *back = zg_mpjson_unpack (buffer.data, buffer.size);
    assert (back);
    assert (streq (json_object_to_json_string_ext (back, JSON_C_TO_STRING_PLAIN),
                   "{\"a\":1,\"b\":[\"x\",-2],\"c\":{\"d\":null},\"e\":null}"));
    json_object_put (back);
    //  Cut short, followed by more, or keyed by a number: refused
    assert (zg_mpjson_unpack (buffer.data, buffer.size - 1) == NULL);
    char twice [] = "\x01\x02";
    assert (zg_mpjson_unpack (twice, 2) == NULL);
    char numbered [] = "\x81\x01\x02";
    assert (zg_mpjson_unpack (numbered, 3) == NULL);
    char scalars [] = "\x93\xc3\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xc4\x01z";
    back = zg_mpjson_unpack (scalars, sizeof scalars - 1);
    assert (streq (json_object_to_json_string_ext (back, JSON_C_TO_STRING_PLAIN), "[true,1.5,\"z\"]"));
    json_object_put (back);
    //  A map's fields: an integer, an array's length, a missing key
    zframe_t *frame = zframe_new (buffer.data, buffer.size);
    assert (zg_mpjson_map_int (frame, "a") == 1 && zg_mpjson_map_int (frame, "b") == 2);
    assert (zg_mpjson_map_int (frame, "z") == -1);
    zframe_destroy (&frame);
    msgpack_sbuffer_destroy (&buffer);
    printf ("OK\n");
}
