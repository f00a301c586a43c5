/*  =========================================================================
    zg_mpjson - a msgpack value as json-c, for the self tests that read
    msgpack answers (zg_wire_pack_json is the other way)

    Private to the pattern actors. Maps with string keys become objects,
    str and bin strings, booleans, integers and floats themselves, and nil
    NULL.
    =========================================================================
*/

#ifndef ZG_MPJSON_H_INCLUDED
#define ZG_MPJSON_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The msgpack value in data as a new json-c value (the caller puts it), or
//  NULL if data is not one whole msgpack value or holds a map key that is
//  not a string
json_object *
    zg_mpjson_unpack (const void *data, size_t size);

//  An integer field of the msgpack map in a frame (an array field's
//  length), -1 if the map has no such key; asserts that it is a map
int64_t
    zg_mpjson_map_int (zframe_t *frame, const char *key);

//  Self test of this class
void
    zg_mpjson_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
