/*  =========================================================================
    zg_codec - JSON and msgpack objects of the gateway, as json-c values

    Web clients send one JSON object per text frame and the same object in
    msgpack per binary frame; both decode to one json-c tree, bounded in
    size and depth, and any tree encodes back to either form. Bytes that are
    neither JSON nor UTF-8 text live in a "binary" string node, which packs
    as a msgpack bin and prints as a base64 JSON string.

    Payloads cross to native clients as opaque bytes: a string goes as its
    UTF-8 bytes, a binary node as its bytes, any other value as its JSON
    text. A native payload comes back as the JSON value it holds, else as a
    string if it is UTF-8, else as a binary node.
    =========================================================================
*/

#ifndef ZG_CODEC_H_INCLUDED
#define ZG_CODEC_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_codec_t zg_codec_t;

//  Create a codec that refuses input nested deeper than max_depth
zg_codec_t *
    zg_codec_new (int max_depth);

//  Destroy the codec
void
    zg_codec_destroy (zg_codec_t **self_p);

//  Change the nesting limit (1 to ZG_CODEC_MAX_DEPTH)
void
    zg_codec_set_max_depth (zg_codec_t *self, int max_depth);

//  Decode one JSON text or one msgpack object into value (the caller puts it;
//  JSON null is NULL). Returns 0, or -1 with a one-line reason in error. Trailing bytes,
//  invalid UTF-8, non-string map keys and msgpack ext types are refused.
//  A msgpack bin becomes a binary node (see zg_codec_payload_value), and a
//  map holding a binary node also gets "binary": true.
int
    zg_codec_decode (zg_codec_t *self, const byte *data, size_t size, bool msgpack,
                     json_object **value, char *error, size_t error_size);

//  Decode a msgpack frame from a pattern actor (a GET, PEEK or STATE map):
//  as zg_codec_decode, but every bin is a native payload and becomes its web
//  value (see zg_codec_payload_value)
int
    zg_codec_decode_native (zg_codec_t *self, const byte *data, size_t size, json_object **value,
                            char *error, size_t error_size);

//  Encode a value as compact JSON text or as msgpack, appending to out
void
    zg_codec_encode (zg_codec_t *self, json_object *value, bool msgpack, msgpack_sbuffer *out);

//  The web value of a native payload: the JSON value it holds, else a string
//  if it is UTF-8, else a binary node (NULL is JSON null).
json_object *
    zg_codec_payload_value (zg_codec_t *self, const byte *payload, size_t size);

//  What a native payload is on the web
typedef enum {
    ZG_CODEC_JSON,                  //  One JSON document: that value
    ZG_CODEC_TEXT,                  //  Other UTF-8 text: a string
    ZG_CODEC_BINARY                 //  Other bytes: a binary node
} zg_codec_kind_t;

//  Classify a native payload as zg_codec_payload_value does; a JSON one's
//  value goes to *value (the caller puts it; JSON null is NULL)
zg_codec_kind_t
    zg_codec_payload_kind (zg_codec_t *self, const byte *payload, size_t size, json_object **value);

//  Append bytes as a string, as zg_codec_encode prints a string node: a
//  JSON string or a msgpack str, appending to out
void
    zg_codec_encode_string (const char *text, size_t size, bool msgpack, msgpack_sbuffer *out);

//  Append the web value of a payload classified by zg_codec_payload_kind
//  (value is its JSON value), byte for byte as zg_codec_encode prints
//  zg_codec_payload_value's node, without building that node
void
    zg_codec_encode_payload (zg_codec_t *self, zg_codec_kind_t kind, json_object *value,
                             const byte *payload, size_t size, bool msgpack, msgpack_sbuffer *out);

//  The native payload of a web value: a pointer to its bytes, valid while
//  the value lives
const char *
    zg_codec_value_payload (json_object *value, size_t *size);

//  A string node holding raw bytes that prints as base64 and packs as bin
json_object *
    zg_codec_new_binary (const byte *data, size_t size);

//  True if the value is a binary node
bool
    zg_codec_is_binary (json_object *value);

//  True if the bytes are valid UTF-8
bool
    zg_codec_utf8_valid (const byte *data, size_t size);

//  Append the padded base64 form of data to out
void
    zg_codec_base64 (const byte *data, size_t size, msgpack_sbuffer *out);

//  Self test of this class
void
    zg_codec_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
