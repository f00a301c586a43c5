/*  =========================================================================
    zg_mpreader - a minimal msgpack reader for small client frames

    Lengths and counts are read as uint64_t and compared with the bytes
    left (size - position, which never underflows), so no value a client
    sends can overflow a size or read past the frame.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_mpreader.h"

//  --------------------------------------------------------------------------
//  A reader at the start of data

zg_mpreader_t
zg_mpreader_init (const void *data, size_t size)
{
    return (zg_mpreader_t) { (const byte *) data, size, 0 };
}

//  --------------------------------------------------------------------------
//  Read an unsigned big-endian number of bytes

static bool
s_read_big_endian (zg_mpreader_t *self, size_t bytes, uint64_t *value)
{
    if (self->size - self->position < bytes)
        return false;
    *value = 0;
    for (size_t index = 0; index < bytes; index++)
        *value = (*value << 8) | self->data [self->position++];
    return true;
}

//  --------------------------------------------------------------------------
//  Read the type byte of the next value

static bool
s_read_head (zg_mpreader_t *self, byte *head)
{
    if (self->position >= self->size)
        return false;
    *head = self->data [self->position++];
    return true;
}

//  --------------------------------------------------------------------------
//  Read a map or an array header

bool
zg_mpreader_container (zg_mpreader_t *self, bool map, uint64_t *count)
{
    assert (self);
    byte head;
    if (!s_read_head (self, &head))
        return false;
    if ((head & 0xf0) == (map? 0x80: 0x90)) {
        *count = head & 0x0f;
        return true;
    }
    if (head == (map? 0xde: 0xdc))
        return s_read_big_endian (self, 2, count);
    if (head == (map? 0xdf: 0xdd))
        return s_read_big_endian (self, 4, count);
    return false;
}

//  --------------------------------------------------------------------------
//  Read a str or bin

bool
zg_mpreader_string (zg_mpreader_t *self, const char **string, size_t *size)
{
    assert (self);
    byte head;
    uint64_t length = 0;
    if (!s_read_head (self, &head))
        return false;
    if ((head & 0xe0) == 0xa0)
        length = head & 0x1f;
    else
    if (head == 0xd9 || head == 0xc4) {
        if (!s_read_big_endian (self, 1, &length))
            return false;
    }
    else
    if (head == 0xda || head == 0xc5) {
        if (!s_read_big_endian (self, 2, &length))
            return false;
    }
    else
    if (head == 0xdb || head == 0xc6) {
        if (!s_read_big_endian (self, 4, &length))
            return false;
    }
    else
        return false;
    if (self->size - self->position < length)
        return false;
    *string = (const char *) self->data + self->position;
    *size = (size_t) length;
    self->position += (size_t) length;
    return true;
}

//  --------------------------------------------------------------------------
//  Read an integer that fits int64_t

bool
zg_mpreader_integer (zg_mpreader_t *self, int64_t *value)
{
    assert (self);
    byte head;
    uint64_t raw;
    if (!s_read_head (self, &head))
        return false;
    if (head <= 0x7f)
        *value = head;
    else
    if (head >= 0xe0)
        *value = (int8_t) head;
    else
    if (head >= 0xcc && head <= 0xcf) {
        if (!s_read_big_endian (self, (size_t) 1 << (head - 0xcc), &raw) || raw > INT64_MAX)
            return false;
        *value = (int64_t) raw;
    }
    else
    if (head >= 0xd0 && head <= 0xd3) {
        size_t bytes = (size_t) 1 << (head - 0xd0);
        if (!s_read_big_endian (self, bytes, &raw))
            return false;
        //  Sign-extend from the encoded width
        int shift = (int) (64 - 8 * bytes);
        *value = shift? (int64_t) (raw << shift) >> shift: (int64_t) raw;
    }
    else
        return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Read a boolean

bool
zg_mpreader_boolean (zg_mpreader_t *self, bool *value)
{
    assert (self);
    byte head;
    if (!s_read_head (self, &head) || (head != 0xc2 && head != 0xc3))
        return false;
    *value = head == 0xc3;
    return true;
}

//  --------------------------------------------------------------------------
//  True when every byte of the frame was read

bool
zg_mpreader_done (zg_mpreader_t *self)
{
    assert (self);
    return self->position == self->size;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_mpreader_test (bool verbose)
{
    printf (" * zg_mpreader: ");
    //  @selftest
    //  What msgpack-c packs, we read back: every integer width, both signs
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    const int64_t numbers [] = { 0, 127, 128, 255, 65535, 65536, 4294967296LL, INT64_MAX,
                                 -1, -32, -33, -128, -129, -32768, -32769, -2147483649LL, INT64_MIN };
    const size_t number_count = sizeof numbers / sizeof numbers [0];
    msgpack_pack_map (&packer, 2);
    msgpack_pack_str_with_body (&packer, "numbers", 7);
    msgpack_pack_array (&packer, number_count);
    for (size_t index = 0; index < number_count; index++)
        msgpack_pack_int64 (&packer, numbers [index]);
    msgpack_pack_bin_with_body (&packer, "\0\1", 2);
    msgpack_pack_true (&packer);
    zg_mpreader_t reader = zg_mpreader_init (buffer.data, buffer.size);
    uint64_t count;
    const char *string;
    size_t size;
    int64_t number;
    bool flag;
    assert (zg_mpreader_container (&reader, true, &count) && count == 2);
    assert (zg_mpreader_string (&reader, &string, &size) && size == 7 && memcmp (string, "numbers", 7) == 0);
    assert (zg_mpreader_container (&reader, false, &count) && count == number_count);
    for (size_t index = 0; index < number_count; index++)
        assert (zg_mpreader_integer (&reader, &number) && number == numbers [index]);
    assert (zg_mpreader_string (&reader, &string, &size) && size == 2 && string [1] == 1);
    assert (!zg_mpreader_done (&reader));
    assert (zg_mpreader_boolean (&reader, &flag) && flag);
    assert (zg_mpreader_done (&reader));
    //  Nothing more to read
    assert (!zg_mpreader_boolean (&reader, &flag));
    assert (!zg_mpreader_container (&reader, true, &count));

    //  Every prefix of that frame is cut short somewhere: no read past it
    for (size_t cut = 0; cut < buffer.size; cut++) {
        reader = zg_mpreader_init (buffer.data, cut);
        bool whole = zg_mpreader_container (&reader, true, &count)
                  && zg_mpreader_string (&reader, &string, &size)
                  && zg_mpreader_container (&reader, false, &count);
        for (size_t index = 0; whole && index < number_count; index++)
            whole = zg_mpreader_integer (&reader, &number);
        whole = whole && zg_mpreader_string (&reader, &string, &size) && zg_mpreader_boolean (&reader, &flag);
        assert (!whole);
        assert (reader.position <= cut);
    }
    msgpack_sbuffer_destroy (&buffer);

    //  Lengths from the input are never trusted: str32 and bin32 claiming
    //  4 GiB, and the widest header of each kind with nothing after it
    const byte huge_str [] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };
    reader = zg_mpreader_init (huge_str, sizeof huge_str);
    assert (!zg_mpreader_string (&reader, &string, &size));
    const byte huge_bin [] = { 0xc6, 0xff, 0xff, 0xff, 0xf0 };
    reader = zg_mpreader_init (huge_bin, sizeof huge_bin);
    assert (!zg_mpreader_string (&reader, &string, &size));
    const byte short_headers [] = { 0xdf, 0xdd, 0xdb, 0xcf, 0xd3 };
    for (size_t index = 0; index < sizeof short_headers; index++) {
        reader = zg_mpreader_init (&short_headers [index], 1);
        assert (!zg_mpreader_container (&reader, true, &count));
        reader = zg_mpreader_init (&short_headers [index], 1);
        assert (!zg_mpreader_container (&reader, false, &count));
        reader = zg_mpreader_init (&short_headers [index], 1);
        assert (!zg_mpreader_string (&reader, &string, &size));
        reader = zg_mpreader_init (&short_headers [index], 1);
        assert (!zg_mpreader_integer (&reader, &number));
    }
    //  A map count may claim more entries than the frame holds: the header
    //  reads, and the caller's reads of the entries fail
    const byte big_map [] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    reader = zg_mpreader_init (big_map, sizeof big_map);
    assert (zg_mpreader_container (&reader, true, &count) && count == 0xffffffffu);
    assert (!zg_mpreader_string (&reader, &string, &size));
    //  A uint64 above INT64_MAX does not fit, and wrong types are refused
    const byte too_big [] = { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    reader = zg_mpreader_init (too_big, sizeof too_big);
    assert (!zg_mpreader_integer (&reader, &number));
    const byte wrong [] = { 0xc0, 0xca, 0xc1, 0x91 };
    for (size_t index = 0; index < sizeof wrong; index++) {
        reader = zg_mpreader_init (&wrong [index], 1);
        assert (!zg_mpreader_integer (&reader, &number));
        reader = zg_mpreader_init (&wrong [index], 1);
        assert (!zg_mpreader_boolean (&reader, &flag));
        reader = zg_mpreader_init (&wrong [index], 1);
        assert (!zg_mpreader_container (&reader, true, &count));
    }
    if (verbose)
        printf ("(%zu integers) ", number_count);
    //  @end
    printf ("OK\n");
}
