/*  =========================================================================
    zg_mpjson - a json-c value as msgpack, for the STATS answers that the
    pipe gives as JSON and the wire as msgpack, and back, for the self
    tests that read msgpack answers

    Private to the pattern actors. Objects become maps, arrays arrays,
    strings strings and integers integers; anything else (the counters
    have nothing else) becomes nil. Back, maps with string keys become
    objects, str and bin strings, booleans, integers and floats themselves,
    and nil NULL.
    =========================================================================
*/

#ifndef ZG_MPJSON_H_INCLUDED
#define ZG_MPJSON_H_INCLUDED

#include <json-c/json.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Pack value, and everything in it, with packer
void
    zg_mpjson_pack (msgpack_packer *packer, json_object *value);

//  The msgpack value in data as a new json-c value (the caller puts it), or
//  NULL if data is not one whole msgpack value or holds a map key that is
//  not a string
json_object *
    zg_mpjson_unpack (const void *data, size_t size);

//  Self test of this class
void
    zg_mpjson_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
