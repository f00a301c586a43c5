/*  =========================================================================
    zg_codec - JSON and msgpack objects of the gateway, as json-c values

    The msgpack reader is our own small recursive parser rather than
    msgpack_unpack_next: it builds the json-c tree directly, checks every
    declared container size against the bytes left before looping (msgpack-c
    allocates a declared size up front), and enforces our depth limit.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_codec.h"

//  Deepest nesting any codec accepts, whatever it is configured to
#define ZG_CODEC_MAX_DEPTH 64

struct _zg_codec_t {
    json_tokener *tokener;          //  Reused JSON parser
    int max_depth;                  //  Deepest nesting accepted
};

//  Marks binary nodes: the userdata of their custom serializer
static int s_binary_marker;

//  Cursor of the msgpack reader
typedef struct {
    const byte *data;               //  Next byte to read
    const byte *end;                //  One past the last byte
    int depth;                      //  Containers open
    int max_depth;                  //  Deepest nesting accepted
    const char *error;              //  Why reading stopped, or NULL
    zg_codec_t *payloads;           //  If set, a bin is a native payload
} s_reader_t;

//  --------------------------------------------------------------------------
//  Create a codec that refuses input nested deeper than max_depth

zg_codec_t *
zg_codec_new (int max_depth)
{
    zg_codec_t *self = (zg_codec_t *) zmalloc (sizeof (zg_codec_t));
    assert (self);
    self->max_depth = -1;
    zg_codec_set_max_depth (self, max_depth);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the codec

void
zg_codec_destroy (zg_codec_t **self_p)
{
    assert (self_p);
    zg_codec_t *self = *self_p;
    if (self) {
        if (self->tokener)
            json_tokener_free (self->tokener);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  A new JSON parser for the nesting limit. A parse that fails gets one
//  too: json_tokener_reset keeps the high surrogate of an unfinished
//  "\ud83d\u" escape, which would put a U+FFFD before the next \u escape
//  of any later text, another session's included.

static void
s_renew_tokener (zg_codec_t *self)
{
    if (self->tokener)
        json_tokener_free (self->tokener);
    //  json-c counts the top level as one
    self->tokener = json_tokener_new_ex (self->max_depth + 1);
    assert (self->tokener);
    json_tokener_set_flags (self->tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
}

//  --------------------------------------------------------------------------
//  Change the nesting limit

void
zg_codec_set_max_depth (zg_codec_t *self, int max_depth)
{
    assert (max_depth >= 1 && max_depth <= ZG_CODEC_MAX_DEPTH);
    if (max_depth == self->max_depth)
        return;
    self->max_depth = max_depth;
    s_renew_tokener (self);
}

//  --------------------------------------------------------------------------
//  True if the bytes are valid UTF-8 (no overlongs, surrogates or > U+10FFFF)

bool
zg_codec_utf8_valid (const byte *data, size_t size)
{
    size_t index = 0;
    while (index < size) {
        //  Most text is ASCII: skip it eight bytes at a time
        uint64_t word;
        while (index + 8 <= size) {
            memcpy (&word, data + index, 8);
            if (word & 0x8080808080808080ULL)
                break;
            index += 8;
        }
        if (index == size)
            break;
        byte lead = data [index];
        if (lead < 0x80) {
            index++;
            continue;
        }
        size_t length;
        uint32_t point;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            point = lead & 0x1F;
        }
        else
        if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            point = lead & 0x0F;
        }
        else
        if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            point = lead & 0x07;
        }
        else
            return false;
        if (index + length > size)
            return false;
        for (size_t next = 1; next < length; next++) {
            byte part = data [index + next];
            if ((part & 0xC0) != 0x80)
                return false;
            point = (point << 6) | (part & 0x3F);
        }
        if ((length == 3 && (point < 0x800 || (point >= 0xD800 && point <= 0xDFFF)))
        ||  (length == 4 && (point < 0x10000 || point > 0x10FFFF)))
            return false;
        index += length;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  Append the padded base64 form of data to out

void
zg_codec_base64 (const byte *data, size_t size, msgpack_sbuffer *out)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    //  Written a block at a time: one buffer append per 256 characters
    char block [256];
    size_t used = 0;
    for (size_t index = 0; index < size; index += 3) {
        uint32_t group = (uint32_t) data [index] << 16;
        if (index + 1 < size)
            group |= (uint32_t) data [index + 1] << 8;
        if (index + 2 < size)
            group |= data [index + 2];
        block [used++] = alphabet [(group >> 18) & 63];
        block [used++] = alphabet [(group >> 12) & 63];
        block [used++] = index + 1 < size? alphabet [(group >> 6) & 63]: '=';
        block [used++] = index + 2 < size? alphabet [group & 63]: '=';
        if (used == sizeof block) {
            msgpack_sbuffer_write (out, block, used);
            used = 0;
        }
    }
    if (used)
        msgpack_sbuffer_write (out, block, used);
}

//  --------------------------------------------------------------------------
//  True if any of the eight bytes in word needs escaping in a JSON string:
//  below 0x20, '"' or '\\' (exact, no false positives: each test is the
//  classic "has a zero byte" test, of word - n or of word ^ c)

static inline bool
s_json_special (uint64_t word)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t quote = word ^ (ones * '"');
    uint64_t backslash = word ^ (ones * '\\');
    return (((word - ones * 0x20) & ~word)
          | ((quote - ones) & ~quote)
          | ((backslash - ones) & ~backslash)) & highs;
}

//  --------------------------------------------------------------------------
//  Append bytes as a JSON string, escaped exactly as json-c 0.16 prints a
//  string with JSON_C_TO_STRING_NOSLASHESCAPE (other bytes go as they are)

static void
s_json_string (const byte *text, size_t size, msgpack_sbuffer *out)
{
    static const char hex [] = "0123456789abcdef";
    msgpack_sbuffer_write (out, "\"", 1);
    size_t start = 0;
    size_t index = 0;
    while (index < size) {
        //  Runs that need no escaping are copied whole
        uint64_t word;
        while (index + 8 <= size) {
            memcpy (&word, text + index, 8);
            if (s_json_special (word))
                break;
            index += 8;
        }
        if (index == size)
            break;
        byte c = text [index];
        if (c >= 0x20 && c != '"' && c != '\\') {
            index++;
            continue;
        }
        if (index > start)
            msgpack_sbuffer_write (out, (const char *) text + start, index - start);
        char escape [6] = { '\\', (char) c, 0, 0, 0, 0 };
        size_t length = 2;
        switch (c) {
            case '\b': escape [1] = 'b'; break;
            case '\n': escape [1] = 'n'; break;
            case '\r': escape [1] = 'r'; break;
            case '\t': escape [1] = 't'; break;
            case '\f': escape [1] = 'f'; break;
            case '"': case '\\': break;
            default:
                memcpy (escape + 1, "u00", 3);
                escape [4] = hex [c >> 4];
                escape [5] = hex [c & 15];
                length = 6;
        }
        msgpack_sbuffer_write (out, escape, length);
        start = ++index;
    }
    if (size > start)
        msgpack_sbuffer_write (out, (const char *) text + start, size - start);
    msgpack_sbuffer_write (out, "\"", 1);
}

//  --------------------------------------------------------------------------
//  json-c serializer of binary nodes: a base64 string

static int
s_binary_to_json (json_object *value, struct printbuf *out, int level, int flags)
{
    (void) level;
    (void) flags;
    msgpack_sbuffer text;
    msgpack_sbuffer_init (&text);
    msgpack_sbuffer_write (&text, "\"", 1);
    zg_codec_base64 ((const byte *) json_object_get_string (value),
                     (size_t) json_object_get_string_len (value), &text);
    msgpack_sbuffer_write (&text, "\"", 1);
    int rc = printbuf_memappend (out, text.data, (int) text.size);
    msgpack_sbuffer_destroy (&text);
    return rc < 0? -1: 0;
}

//  --------------------------------------------------------------------------
//  A string node holding raw bytes that prints as base64 and packs as bin

json_object *
zg_codec_new_binary (const byte *data, size_t size)
{
    json_object *value = json_object_new_string_len ((const char *) data, (int) size);
    assert (value);
    json_object_set_serializer (value, s_binary_to_json, &s_binary_marker, NULL);
    return value;
}

//  --------------------------------------------------------------------------
//  True if the value is a binary node

bool
zg_codec_is_binary (json_object *value)
{
    return value && json_object_is_type (value, json_type_string)
        && json_object_get_userdata (value) == &s_binary_marker;
}

//  --------------------------------------------------------------------------
//  Why a parsed value cannot be taken, or NULL: a number that is infinite
//  or NaN (1e999 parses as inf), or containers nested deeper than the limit
//  as msgpack counts it (json-c counts the innermost value as a level too,
//  so with its limit one higher an empty container one level too deep
//  would get through)

static const char *
s_refusal (json_object *value, int depth_left)
{
    const char *refusal = NULL;
    switch (json_object_get_type (value)) {
        case json_type_double:
            return isfinite (json_object_get_double (value))? NULL: "number out of range";
        case json_type_array:
            if (depth_left == 0)
                return "nesting too deep";
            for (size_t index = 0; index < json_object_array_length (value) && !refusal; index++)
                refusal = s_refusal (json_object_array_get_idx (value, index), depth_left - 1);
            return refusal;
        case json_type_object: {
            if (depth_left == 0)
                return "nesting too deep";
            json_object_object_foreach (value, key, item) {
                (void) key;
                if (!refusal)
                    refusal = s_refusal (item, depth_left - 1);
            }
            return refusal;
        }
        default:
            return NULL;
    }
}

//  --------------------------------------------------------------------------
//  Parse one JSON text into value; returns -1 if it is not exactly one JSON
//  value (JSON null is a NULL value)

static int
s_parse_json (zg_codec_t *self, const byte *data, size_t size, json_object **value_p,
              char *error, size_t error_size)
{
    //  json-c's own check lets overlongs, surrogates and code points past
    //  U+10FFFF through, which the msgpack side refuses: check the text as
    //  that side checks its strings, so both read the same strings
    if (!zg_codec_utf8_valid (data, size)) {
        if (error)
            snprintf (error, error_size, "invalid JSON: text is not UTF-8");
        return -1;
    }
    json_tokener_reset (self->tokener);
    json_object *value = json_tokener_parse_ex (self->tokener, (const char *) data, (int) size);
    enum json_tokener_error status = json_tokener_get_error (self->tokener);
    size_t end = json_tokener_get_parse_end (self->tokener);
    if (!value && status == json_tokener_continue) {
        //  A bare number or literal at the very end: a NUL ends it
        value = json_tokener_parse_ex (self->tokener, "", 1);
        status = json_tokener_get_error (self->tokener);
    }
    if (status != json_tokener_success) {
        if (error)
            snprintf (error, error_size, "invalid JSON: %s", json_tokener_error_desc (status));
        json_object_put (value);
        s_renew_tokener (self);
        return -1;
    }
    //  Only white space may follow the value
    for (size_t index = end; index < size; index++)
        if (!isspace (data [index]) && data [index]) {
            if (error)
                snprintf (error, error_size, "invalid JSON: trailing bytes");
            json_object_put (value);
            return -1;
        }
    const char *refusal = s_refusal (value, self->max_depth);
    if (refusal) {
        if (error)
            snprintf (error, error_size, "invalid JSON: %s", refusal);
        json_object_put (value);
        return -1;
    }
    *value_p = value;
    return 0;
}

//  --------------------------------------------------------------------------
//  Read n big-endian bytes; false if there are not that many

static bool
s_reader_uint (s_reader_t *reader, size_t bytes, uint64_t *number)
{
    if ((size_t) (reader->end - reader->data) < bytes) {
        reader->error = "truncated msgpack";
        return false;
    }
    *number = 0;
    for (size_t index = 0; index < bytes; index++)
        *number = (*number << 8) | *reader->data++;
    return true;
}

static json_object *
    s_reader_value (s_reader_t *reader);

//  --------------------------------------------------------------------------
//  Read a string or bin body of a known length

static json_object *
s_reader_bytes (s_reader_t *reader, uint64_t length, bool binary)
{
    if ((uint64_t) (reader->end - reader->data) < length || length > INT32_MAX) {
        reader->error = "truncated msgpack";
        return NULL;
    }
    const byte *bytes = reader->data;
    reader->data += length;
    if (binary && reader->payloads)
        return zg_codec_payload_value (reader->payloads, bytes, (size_t) length);
    if (binary)
        return zg_codec_new_binary (bytes, (size_t) length);
    if (!zg_codec_utf8_valid (bytes, (size_t) length)) {
        reader->error = "msgpack string is not UTF-8";
        return NULL;
    }
    return json_object_new_string_len ((const char *) bytes, (int) length);
}

//  --------------------------------------------------------------------------
//  Read a container of count elements (a map if is_map)

static json_object *
s_reader_container (s_reader_t *reader, uint64_t count, bool is_map)
{
    //  Every element takes at least one byte: a larger count is a lie
    if (count > (uint64_t) (reader->end - reader->data) / (is_map? 2: 1)) {
        reader->error = "msgpack container larger than its message";
        return NULL;
    }
    if (++reader->depth > reader->max_depth) {
        reader->error = "nested too deeply";
        return NULL;
    }
    json_object *container = is_map? json_object_new_object (): json_object_new_array_ext ((int) count);
    bool has_binary = false;
    for (uint64_t index = 0; index < count; index++) {
        if (is_map) {
            json_object *key = s_reader_value (reader);
            if (!key || !json_object_is_type (key, json_type_string) || zg_codec_is_binary (key)) {
                if (key && !reader->error)
                    reader->error = "msgpack map keys must be strings";
                json_object_put (key);
                json_object_put (container);
                return NULL;
            }
            json_object *value = s_reader_value (reader);
            if (reader->error) {
                json_object_put (key);
                json_object_put (container);
                return NULL;
            }
            has_binary |= zg_codec_is_binary (value);
            json_object_object_add (container, json_object_get_string (key), value);
            json_object_put (key);
        }
        else {
            json_object *value = s_reader_value (reader);
            if (reader->error) {
                json_object_put (container);
                return NULL;
            }
            json_object_array_add (container, value);
        }
    }
    if (has_binary)
        json_object_object_add (container, "binary", json_object_new_boolean (1));
    reader->depth--;
    return container;
}

//  --------------------------------------------------------------------------
//  Read one msgpack value; NULL is JSON null unless reader->error is set

static json_object *
s_reader_value (s_reader_t *reader)
{
    if (reader->data >= reader->end) {
        reader->error = "truncated msgpack";
        return NULL;
    }
    byte type = *reader->data++;
    uint64_t number = 0;
    if (type <= 0x7F)
        return json_object_new_int64 (type);
    if (type >= 0xE0)
        return json_object_new_int64 ((int8_t) type);
    if ((type & 0xF0) == 0x80)
        return s_reader_container (reader, type & 0x0F, true);
    if ((type & 0xF0) == 0x90)
        return s_reader_container (reader, type & 0x0F, false);
    if ((type & 0xE0) == 0xA0)
        return s_reader_bytes (reader, type & 0x1F, false);
    switch (type) {
        case 0xC0: return NULL;
        case 0xC2: return json_object_new_boolean (0);
        case 0xC3: return json_object_new_boolean (1);
        case 0xC4: case 0xC5: case 0xC6:
            if (!s_reader_uint (reader, (size_t) 1 << (type - 0xC4), &number))
                return NULL;
            return s_reader_bytes (reader, number, true);
        case 0xD9: case 0xDA: case 0xDB:
            if (!s_reader_uint (reader, (size_t) 1 << (type - 0xD9), &number))
                return NULL;
            return s_reader_bytes (reader, number, false);
        case 0xDC: case 0xDD:
            if (!s_reader_uint (reader, type == 0xDC? 2: 4, &number))
                return NULL;
            return s_reader_container (reader, number, false);
        case 0xDE: case 0xDF:
            if (!s_reader_uint (reader, type == 0xDE? 2: 4, &number))
                return NULL;
            return s_reader_container (reader, number, true);
        case 0xCA: {
            if (!s_reader_uint (reader, 4, &number))
                return NULL;
            uint32_t bits = (uint32_t) number;
            float real;
            memcpy (&real, &bits, 4);
            if (!isfinite (real)) {
                reader->error = "msgpack float is not finite";
                return NULL;
            }
            return json_object_new_double (real);
        }
        case 0xCB: {
            if (!s_reader_uint (reader, 8, &number))
                return NULL;
            double real;
            memcpy (&real, &number, 8);
            //  JSON has no NaN or infinity
            if (!isfinite (real)) {
                reader->error = "msgpack float is not finite";
                return NULL;
            }
            return json_object_new_double (real);
        }
        case 0xCC: case 0xCD: case 0xCE: case 0xCF:
            if (!s_reader_uint (reader, (size_t) 1 << (type - 0xCC), &number))
                return NULL;
            return number > INT64_MAX? json_object_new_uint64 (number): json_object_new_int64 ((int64_t) number);
        case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
            size_t bytes = (size_t) 1 << (type - 0xD0);
            if (!s_reader_uint (reader, bytes, &number))
                return NULL;
            //  Sign-extend from the width read
            int shift = (int) (64 - 8 * bytes);
            int64_t value = shift? (int64_t) (number << shift) >> shift: (int64_t) number;
            return json_object_new_int64 (value);
        }
        default:
            reader->error = "msgpack ext and reserved types are not accepted";
            return NULL;
    }
}

//  --------------------------------------------------------------------------
//  Read one msgpack value that must fill the whole input

static int
s_read_whole (s_reader_t *reader, json_object **value_p, char *error, size_t error_size)
{
    json_object *value = s_reader_value (reader);
    if (!reader->error && reader->data != reader->end)
        reader->error = "trailing bytes after the msgpack object";
    if (reader->error) {
        snprintf (error, error_size, "%s", reader->error);
        json_object_put (value);
        return -1;
    }
    *value_p = value;
    return 0;
}

//  --------------------------------------------------------------------------
//  Decode one JSON text or one msgpack object

int
zg_codec_decode (zg_codec_t *self, const byte *data, size_t size, bool msgpack,
                 json_object **value_p, char *error, size_t error_size)
{
    assert (self);
    *value_p = NULL;
    if (!msgpack)
        return s_parse_json (self, data, size, value_p, error, error_size);

    s_reader_t reader = { data, data + size, 0, self->max_depth, NULL, NULL };
    return s_read_whole (&reader, value_p, error, error_size);
}

//  --------------------------------------------------------------------------
//  Decode a msgpack map frame from a pattern actor, bins as payloads

int
zg_codec_decode_native (zg_codec_t *self, const byte *data, size_t size, json_object **value_p,
                        char *error, size_t error_size)
{
    assert (self);
    //  Native maps nest their payload values one level deeper than ours
    s_reader_t reader = { data, data + size, 0, self->max_depth + 4, NULL, self };
    return s_read_whole (&reader, value_p, error, error_size);
}

//  --------------------------------------------------------------------------
//  Pack one value

static void
s_pack (msgpack_packer *packer, json_object *value)
{
    switch (json_object_get_type (value)) {
        case json_type_null:
            msgpack_pack_nil (packer);
            break;
        case json_type_boolean:
            if (json_object_get_boolean (value))
                msgpack_pack_true (packer);
            else
                msgpack_pack_false (packer);
            break;
        case json_type_double:
            msgpack_pack_double (packer, json_object_get_double (value));
            break;
        case json_type_int: {
            int64_t number = json_object_get_int64 (value);
            if (number == INT64_MAX)
                msgpack_pack_uint64 (packer, json_object_get_uint64 (value));
            else
                msgpack_pack_int64 (packer, number);
            break;
        }
        case json_type_string: {
            const char *text = json_object_get_string (value);
            size_t length = (size_t) json_object_get_string_len (value);
            if (zg_codec_is_binary (value))
                msgpack_pack_bin_with_body (packer, text, length);
            else
                msgpack_pack_str_with_body (packer, text, length);
            break;
        }
        case json_type_array: {
            size_t count = json_object_array_length (value);
            msgpack_pack_array (packer, count);
            for (size_t index = 0; index < count; index++)
                s_pack (packer, json_object_array_get_idx (value, index));
            break;
        }
        case json_type_object:
            msgpack_pack_map (packer, (size_t) json_object_object_length (value));
            json_object_object_foreach (value, key, item) {
                msgpack_pack_str_with_body (packer, key, strlen (key));
                s_pack (packer, item);
            }
            break;
    }
}

//  --------------------------------------------------------------------------
//  Encode a value as compact JSON text or as msgpack, appending to out

void
zg_codec_encode (zg_codec_t *self, json_object *value, bool msgpack, msgpack_sbuffer *out)
{
    assert (self);
    if (msgpack) {
        msgpack_packer packer;
        msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
        s_pack (&packer, value);
    }
    else {
        size_t length = 0;
        const char *text = json_object_to_json_string_length (
            value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
        msgpack_sbuffer_write (out, text, length);
    }
}

//  --------------------------------------------------------------------------
//  What a native payload is on the web; a JSON one's value goes to *value

zg_codec_kind_t
zg_codec_payload_kind (zg_codec_t *self, const byte *payload, size_t size, json_object **value)
{
    assert (self);
    *value = NULL;
    //  Cheap test first: JSON text starts with one of these after white space
    size_t start = 0;
    while (start < size && isspace (payload [start]))
        start++;
    if (start < size && strchr ("{[\"-0123456789tfn", payload [start])
    &&  s_parse_json (self, payload, size, value, NULL, 0) == 0)
        return ZG_CODEC_JSON;
    return zg_codec_utf8_valid (payload, size)? ZG_CODEC_TEXT: ZG_CODEC_BINARY;
}

//  --------------------------------------------------------------------------
//  The web value of a native payload

json_object *
zg_codec_payload_value (zg_codec_t *self, const byte *payload, size_t size)
{
    json_object *value = NULL;
    zg_codec_kind_t kind = zg_codec_payload_kind (self, payload, size, &value);
    if (kind == ZG_CODEC_TEXT)
        return json_object_new_string_len ((const char *) payload, (int) size);
    if (kind == ZG_CODEC_BINARY)
        return zg_codec_new_binary (payload, size);
    return value;
}

//  --------------------------------------------------------------------------
//  Append bytes as a string: a JSON string or a msgpack str

void
zg_codec_encode_string (const char *text, size_t size, bool msgpack, msgpack_sbuffer *out)
{
    if (msgpack) {
        msgpack_packer packer;
        msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
        msgpack_pack_str_with_body (&packer, text, size);
    }
    else
        s_json_string ((const byte *) text, size, out);
}

//  --------------------------------------------------------------------------
//  Append the web value of a classified native payload

void
zg_codec_encode_payload (zg_codec_t *self, zg_codec_kind_t kind, json_object *value,
                         const byte *payload, size_t size, bool msgpack, msgpack_sbuffer *out)
{
    assert (self);
    if (kind == ZG_CODEC_JSON)
        zg_codec_encode (self, value, msgpack, out);
    else
    if (kind == ZG_CODEC_TEXT)
        zg_codec_encode_string ((const char *) payload, size, msgpack, out);
    else
    if (msgpack) {
        msgpack_packer packer;
        msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
        msgpack_pack_bin_with_body (&packer, payload, size);
    }
    else {
        msgpack_sbuffer_write (out, "\"", 1);
        zg_codec_base64 (payload, size, out);
        msgpack_sbuffer_write (out, "\"", 1);
    }
}

//  --------------------------------------------------------------------------
//  The native payload of a web value

const char *
zg_codec_value_payload (json_object *value, size_t *size)
{
    if (json_object_is_type (value, json_type_string)) {
        *size = (size_t) json_object_get_string_len (value);
        return json_object_get_string (value);
    }
    return json_object_to_json_string_length (
        value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, size);
}

//  --------------------------------------------------------------------------
//  Self test of this class

static char *
s_test_json (zg_codec_t *codec, json_object *value, bool msgpack)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    zg_codec_encode (codec, value, msgpack, &out);
    char *text = (char *) zmalloc (out.size + 1);
    memcpy (text, out.data, out.size);
    msgpack_sbuffer_destroy (&out);
    return text;
}

void
zg_codec_test (bool verbose)
{
    printf (" * zg_codec: ");
    //  @selftest
    zg_codec_t *codec = zg_codec_new (4);
    char error [256];

    //  JSON round trip, 64-bit integers exact
    const char *text = "{\"op\":\"publish\",\"n\":9007199254740993,\"data\":[1,\"x\",null,true]}";
    json_object *value = NULL;
    assert (zg_codec_decode (codec, (const byte *) text, strlen (text), false, &value, error, sizeof error) == 0);
    assert (value);
    char *again = s_test_json (codec, value, false);
    assert (streq (again, text));
    free (again);

    //  msgpack round trip of the same object
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    zg_codec_encode (codec, value, true, &packed);
    json_object *unpacked = NULL;
    assert (zg_codec_decode (codec, (const byte *) packed.data, packed.size, true, &unpacked,
                             error, sizeof error) == 0);
    assert (unpacked);
    assert (json_object_equal (value, unpacked));
    json_object_put (unpacked);
    //  Trailing bytes and truncation are refused
    msgpack_sbuffer_write (&packed, "\xc0", 1);
    assert (zg_codec_decode (codec, (const byte *) packed.data, packed.size, true, &unpacked,
                             error, sizeof error) == -1);
    assert (strstr (error, "trailing"));
    assert (zg_codec_decode (codec, (const byte *) packed.data, packed.size - 3, true, &unpacked,
                             error, sizeof error) == -1);
    msgpack_sbuffer_destroy (&packed);
    json_object_put (value);

    //  Bad input of every kind
    const char *bad_json [] = { "", "{", "{\"a\":1} x", "[[[[[1]]]]]", "[[[[{}]]]]", "{\"a\":\"\xff\"}", "\"\xc1\xb5\"",
                                "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "nul", "[1e999]", NULL };
    for (int index = 0; bad_json [index]; index++)
        assert (zg_codec_decode (codec, (const byte *) bad_json [index], strlen (bad_json [index]),
                                 false, &value, error, sizeof error) == -1);
    //  An unfinished surrogate pair leaves nothing behind for the next text
    assert (zg_codec_decode (codec, (const byte *) "\"\\ud83d\\u", 9, false, &value, error, sizeof error) == -1);
    assert (zg_codec_decode (codec, (const byte *) "\"a\\u001b\"", 9, false, &value, error, sizeof error) == 0);
    assert (streq (json_object_get_string (value), "a\x1b"));
    json_object_put (value);
    //  Four levels are fine, and so is white space after the value
    assert (zg_codec_decode (codec, (const byte *) "[[[[1]]]] \n", 11, false, &value, error, sizeof error) == 0);
    json_object_put (value);
    struct { const char *data; size_t size; const char *reason; } bad_msgpack [] = {
        { "\xdd\x00\x98\x96\x80", 5, "larger than" },           //  10 million elements declared
        { "\x81\x01\x02", 3, "keys must be strings" },
        { "\xd4\x01\x02", 3, "ext" },
        { "\xa2\xff\xfe", 3, "UTF-8" },
        { "\x91\x91\x91\x91\x91\x01", 6, "deeply" },
        { "\xdb\xff\xff\xff\xff", 5, "truncated" },
        { "\xc1", 1, "ext and reserved" },
        { "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, "not finite" },
        { NULL, 0, NULL }
    };
    for (int index = 0; bad_msgpack [index].data; index++) {
        assert (zg_codec_decode (codec, (const byte *) bad_msgpack [index].data, bad_msgpack [index].size,
                                 true, &value, error, sizeof error) == -1);
        if (verbose)
            printf ("(%s) ", error);
        assert (strstr (error, bad_msgpack [index].reason));
    }
    //  Signed and unsigned integers of every width
    assert (zg_codec_decode (codec, (const byte *) "\x94\xd0\xff\xd1\x80\x00\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xe0",
                             16, true, &value, error, sizeof error) == 0);
    assert (value);
    again = s_test_json (codec, value, false);
    assert (streq (again, "[-1,-32768,18446744073709551615,-32]"));
    free (again);
    json_object_put (value);

    //  A bin in msgpack is a binary node: base64 in JSON, flagged in its map
    assert (zg_codec_decode (codec, (const byte *) "\x81\xa4\x64\x61\x74\x61\xc4\x02\xff\x00", 10, true,
                             &value, error, sizeof error) == 0);
    assert (value);
    again = s_test_json (codec, value, false);
    assert (streq (again, "{\"data\":\"/wA=\",\"binary\":true}"));
    free (again);
    json_object *data = json_object_object_get (value, "data");
    assert (zg_codec_is_binary (data));
    size_t size = 0;
    const char *payload = zg_codec_value_payload (data, &size);
    assert (size == 2 && memcmp (payload, "\xff\x00", 2) == 0);
    json_object_put (value);

    //  Payload mapping in both directions
    value = zg_codec_payload_value (codec, (const byte *) "{\"t\": 21}", 9);
    assert (json_object_is_type (value, json_type_object));
    payload = zg_codec_value_payload (value, &size);
    assert (size == 8 && memcmp (payload, "{\"t\":21}", 8) == 0);
    json_object_put (value);
    value = zg_codec_payload_value (codec, (const byte *) "21 C", 4);
    assert (json_object_is_type (value, json_type_string) && !zg_codec_is_binary (value));
    payload = zg_codec_value_payload (value, &size);
    assert (size == 4 && memcmp (payload, "21 C", 4) == 0);
    json_object_put (value);
    value = zg_codec_payload_value (codec, (const byte *) "42", 2);
    assert (json_object_get_int64 (value) == 42);
    json_object_put (value);
    value = zg_codec_payload_value (codec, (const byte *) "null", 4);
    assert (value == NULL);
    json_object_put (value);
    value = zg_codec_payload_value (codec, (const byte *) "\x80\x81", 2);
    assert (zg_codec_is_binary (value));
    json_object_put (value);

    //  Native maps: a bin holds a payload, decoded like one
    assert (zg_codec_decode_native (codec, (const byte *) "\x82\xa1\x61\xc4\x02\x34\x32\xa1\x62\xc4\x01\xff",
                                    12, &value, error, sizeof error) == 0);
    again = s_test_json (codec, value, false);
    assert (streq (again, "{\"a\":42,\"b\":\"/w==\",\"binary\":true}"));
    free (again);
    json_object_put (value);

    //  Strings and classified payloads encode byte for byte as json-c and
    //  s_pack print the equivalent nodes: every byte value, at every offset
    //  of the eight-byte fast path, and payloads of every kind
    byte bytes [300];
    for (size_t index = 0; index < sizeof bytes; index++)
        bytes [index] = (byte) (index * 7 + 3);
    for (size_t offset = 0; offset < 24; offset++)
        for (size_t length = 0; length + offset <= sizeof bytes; length += length < 20? 1: 37) {
            json_object *string = json_object_new_string_len ((const char *) bytes + offset, (int) length);
            for (int msgpack = 0; msgpack < 2; msgpack++) {
                msgpack_sbuffer expected, actual;
                msgpack_sbuffer_init (&expected);
                msgpack_sbuffer_init (&actual);
                zg_codec_encode (codec, string, msgpack, &expected);
                zg_codec_encode_string ((const char *) bytes + offset, length, msgpack, &actual);
                assert (expected.size == actual.size && memcmp (expected.data, actual.data, actual.size) == 0);
                msgpack_sbuffer_destroy (&expected);
                msgpack_sbuffer_destroy (&actual);
            }
            json_object_put (string);
        }
    const char *payloads [] = { "{\"t\": 21, \"u\": [1.5, \"a/b\"]}", " 42 ", "null", "\"quoted\\n\"",
                                "plain text with \"quotes\", a\\backslash / and \t tab", "caf\xc3\xa9 \x01",
                                "\x80\x81\xff binary", "", "tru", NULL };
    for (int index = 0; payloads [index]; index++) {
        const byte *sample = (const byte *) payloads [index];
        size_t length = strlen (payloads [index]);
        json_object *node = zg_codec_payload_value (codec, sample, length);
        json_object *parsed = NULL;
        zg_codec_kind_t kind = zg_codec_payload_kind (codec, sample, length, &parsed);
        assert ((kind == ZG_CODEC_BINARY) == zg_codec_is_binary (node));
        for (int msgpack = 0; msgpack < 2; msgpack++) {
            msgpack_sbuffer expected, actual;
            msgpack_sbuffer_init (&expected);
            msgpack_sbuffer_init (&actual);
            zg_codec_encode (codec, node, msgpack, &expected);
            zg_codec_encode_payload (codec, kind, parsed, sample, length, msgpack, &actual);
            assert (expected.size == actual.size && memcmp (expected.data, actual.data, actual.size) == 0);
            msgpack_sbuffer_destroy (&expected);
            msgpack_sbuffer_destroy (&actual);
        }
        json_object_put (parsed);
        json_object_put (node);
    }
    //  ASCII runs of every length around the eight-byte fast path
    char ascii [40];
    memset (ascii, 'a', sizeof ascii);
    for (size_t length = 0; length < sizeof ascii; length++) {
        assert (zg_codec_utf8_valid ((const byte *) ascii, length));
        if (length > 0) {
            ascii [length - 1] = (char) 0xff;
            assert (!zg_codec_utf8_valid ((const byte *) ascii, length));
            ascii [length - 1] = 'a';
        }
    }

    msgpack_sbuffer base64;
    msgpack_sbuffer_init (&base64);
    zg_codec_base64 ((const byte *) "foobar", 6, &base64);
    zg_codec_base64 ((const byte *) "fo", 2, &base64);
    assert (base64.size == 12 && memcmp (base64.data, "Zm9vYmFyZm8=", 12) == 0);
    //  Longer than one block of the encoder
    msgpack_sbuffer_clear (&base64);
    zg_codec_base64 (bytes, sizeof bytes, &base64);
    json_object *binary = zg_codec_new_binary (bytes, sizeof bytes);
    const char *printed = json_object_to_json_string_ext (binary, JSON_C_TO_STRING_PLAIN);
    assert (base64.size == 400 && strlen (printed) == 402 && memcmp (printed + 1, base64.data, 400) == 0);
    json_object_put (binary);
    msgpack_sbuffer_destroy (&base64);
    assert (!zg_codec_utf8_valid ((const byte *) "\xed\xa0\x80", 3));   //  A surrogate
    assert (!zg_codec_utf8_valid ((const byte *) "\xc0\xaf", 2));       //  Overlong
    assert (zg_codec_utf8_valid ((const byte *) "\xf0\x9f\x98\x80", 4));

    zg_codec_destroy (&codec);
    zg_codec_destroy (&codec);
    //  @end
    printf ("OK\n");
}
