/*  =========================================================================
    zg_mpjson - a json-c value as msgpack

    A recursive walk: the counters' objects are a few levels deep.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_mpjson.h"

//  --------------------------------------------------------------------------
//  Pack value, and everything in it, with packer

void
zg_mpjson_pack (msgpack_packer *packer, json_object *value)
{
    switch (json_object_get_type (value)) {
        case json_type_object:
            msgpack_pack_map (packer, (size_t) json_object_object_length (value));
            json_object_object_foreach (value, key, member) {
                msgpack_pack_str_with_body (packer, key, strlen (key));
                zg_mpjson_pack (packer, member);
            }
            break;
        case json_type_array:
            msgpack_pack_array (packer, json_object_array_length (value));
            for (size_t index = 0; index < json_object_array_length (value); index++)
                zg_mpjson_pack (packer, json_object_array_get_idx (value, index));
            break;
        case json_type_string:
            msgpack_pack_str_with_body (packer, json_object_get_string (value),
                                        (size_t) json_object_get_string_len (value));
            break;
        case json_type_int:
            msgpack_pack_int64 (packer, json_object_get_int64 (value));
            break;
        default:
            msgpack_pack_nil (packer);
            break;
    }
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
    zg_mpjson_pack (&packer, root);
    json_object_put (root);

    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, NULL) == MSGPACK_UNPACK_SUCCESS);
    //  msgpack-c prints maps in order: booleans and floats are nil
    char text [128];
    msgpack_object_print_buffer (text, sizeof text, unpacked.data);
    if (verbose)
        printf ("%s\n", text);
    assert (streq (text, "{\"a\"=>1, \"b\"=>[\"x\", -2], \"c\"=>{\"d\"=>nil}, \"e\"=>nil}"));
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    printf ("OK\n");
}
