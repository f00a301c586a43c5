/*  =========================================================================
    zg_utf8 - names made valid UTF-8 for JSON and Prometheus

    Topic, queue and room names are any bytes, but JSON and the Prometheus
    text format carry UTF-8 only. A byte that is not part of a well-formed
    UTF-8 sequence is shown as the four characters \xNN (lower-case hex);
    valid UTF-8 is left as it is.
    =========================================================================
*/

#ifndef ZG_UTF8_H_INCLUDED
#define ZG_UTF8_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Whether string is well-formed UTF-8 (no overlong forms, no surrogates,
//  nothing past U+10FFFF)
bool
    zg_utf8_valid (const char *string);

//  Return a new copy of string with every byte outside well-formed UTF-8
//  written as \xNN; the caller frees it
char *
    zg_utf8_clean (const char *string);

//  Make every string and object key inside value valid UTF-8, in place. Two
//  keys of one object that clean to the same text keep the last one's value
void
    zg_utf8_clean_json (json_object *value);

//  Self test of this class
void
    zg_utf8_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
