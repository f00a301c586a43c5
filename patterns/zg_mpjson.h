/*  =========================================================================
    zg_mpjson - a json-c value as msgpack, for the STATS answers that the
    pipe gives as JSON and the wire as msgpack

    Private to the pattern actors. Objects become maps, arrays arrays,
    strings strings and integers integers; anything else (the counters
    have nothing else) becomes nil.
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

//  Self test of this class
void
    zg_mpjson_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
