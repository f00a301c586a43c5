/*  =========================================================================
    zg_mpreader - a minimal msgpack reader for small client frames (options
    maps): maps, arrays, strings, integers and booleans, read in place

    Private to the pattern actors. Every read is bounded by the frame: a
    length or count read from the input is checked against the bytes left,
    never trusted, and nothing is allocated. A read that fails leaves the
    position anywhere: the caller rejects the whole frame.
    =========================================================================
*/

#ifndef ZG_MPREADER_H_INCLUDED
#define ZG_MPREADER_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A reader over one frame; a value on the caller's stack
typedef struct {
    const byte *data;               //  The frame
    size_t size;                    //  Its size
    size_t position;                //  Next byte to read
} zg_mpreader_t;

//  A reader at the start of data
zg_mpreader_t
    zg_mpreader_init (const void *data, size_t size);

//  Read a map header (map true) or an array header; true with its entry
//  count, false if the next value is something else or is cut short
bool
    zg_mpreader_container (zg_mpreader_t *self, bool map, uint64_t *count);

//  Read a str or bin; true with a pointer into the frame and its size
bool
    zg_mpreader_string (zg_mpreader_t *self, const char **string, size_t *size);

//  Read an integer (any msgpack int encoding) that fits int64_t
bool
    zg_mpreader_integer (zg_mpreader_t *self, int64_t *value);

//  Read a boolean
bool
    zg_mpreader_boolean (zg_mpreader_t *self, bool *value);

//  True when every byte of the frame was read
bool
    zg_mpreader_done (zg_mpreader_t *self);

//  Self test of this class
void
    zg_mpreader_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
