/*  =========================================================================
    zg_fuzz_mpreader - fuzz target for the bounded msgpack reader of the
    pattern actors' options frames (zg_mpreader)

    Each input is one frame. It is read as a caller does, one typed read
    after another, and checked against msgpack-c, the reference reader:
    every value is accepted by at most one typed read, never read past the
    frame; a value refused is of a type the reader does not support (nil,
    floats, ext, ints past int64_t) or cut short; what it reads, msgpack-c
    reads the same, value for value, to the same byte. Runs as
    zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_mpreader.h"

//  Nesting read at most, well within what msgpack-c's unpacker allows
#define FUZZ_MAX_DEPTH 16

//  How a walk over a frame ended
typedef enum {
    WALK_READ,                      //  Read one value
    WALK_REFUSED,                   //  A read refused the bytes
    WALK_UNCHECKED                  //  Beyond what msgpack-c can be asked
} walk_t;

//  Read the next value with whichever typed read accepts it, as a caller
//  that knows the type would; at most one may
static walk_t
s_walk (zg_mpreader_t *reader, int depth)
{
    if (depth > FUZZ_MAX_DEPTH)
        return WALK_UNCHECKED;
    zg_mpreader_t tries [5] = { *reader, *reader, *reader, *reader, *reader };
    uint64_t count [2];
    const char *string;
    size_t size;
    int64_t integer;
    bool boolean;
    bool accepted [5] = {
        zg_mpreader_container (&tries [0], true, &count [0]),
        zg_mpreader_container (&tries [1], false, &count [1]),
        zg_mpreader_string (&tries [2], &string, &size),
        zg_mpreader_integer (&tries [3], &integer),
        zg_mpreader_boolean (&tries [4], &boolean)
    };
    int which = -1;
    for (int index = 0; index < 5; index++) {
        assert (tries [index].position <= tries [index].size);
        if (accepted [index]) {
            assert (which == -1);
            which = index;
        }
    }
    if (which == -1)
        return WALK_REFUSED;
    *reader = tries [which];
    if (which == 2)
        assert (string >= (const char *) reader->data && string + size <= (const char *) reader->data + reader->size);
    if (which > 1)
        return WALK_READ;
    //  Each entry takes a byte at least: a larger count is refused here,
    //  before msgpack-c would allocate for it
    uint64_t entries = count [which] * (which == 0? 2: 1);
    if (entries > reader->size - reader->position)
        return WALK_UNCHECKED;
    for (uint64_t entry = 0; entry < entries; entry++) {
        walk_t walk = s_walk (reader, depth + 1);
        if (walk != WALK_READ)
            return walk;
    }
    return WALK_READ;
}

//  Read the next value, which msgpack-c read as object, with the typed
//  read of its type: it must give the same value. False if the reader
//  does not support the type.
static bool
s_same (zg_mpreader_t *reader, msgpack_object *object)
{
    uint64_t count;
    const char *string;
    size_t size;
    int64_t integer;
    bool boolean;
    switch (object->type) {
        case MSGPACK_OBJECT_MAP:
            assert (zg_mpreader_container (reader, true, &count) && count == object->via.map.size);
            for (uint32_t index = 0; index < object->via.map.size; index++)
                if (!s_same (reader, &object->via.map.ptr [index].key)
                ||  !s_same (reader, &object->via.map.ptr [index].val))
                    return false;
            return true;
        case MSGPACK_OBJECT_ARRAY:
            assert (zg_mpreader_container (reader, false, &count) && count == object->via.array.size);
            for (uint32_t index = 0; index < object->via.array.size; index++)
                if (!s_same (reader, &object->via.array.ptr [index]))
                    return false;
            return true;
        case MSGPACK_OBJECT_STR:
        case MSGPACK_OBJECT_BIN:
            assert (zg_mpreader_string (reader, &string, &size));
            //  msgpack-c points an empty string nowhere
            assert (size == object->via.str.size && (size == 0 || memcmp (string, object->via.str.ptr, size) == 0));
            return true;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (object->via.u64 > INT64_MAX)
                return false;
            assert (zg_mpreader_integer (reader, &integer) && integer == (int64_t) object->via.u64);
            return true;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            assert (zg_mpreader_integer (reader, &integer) && integer == object->via.i64);
            return true;
        case MSGPACK_OBJECT_BOOLEAN:
            assert (zg_mpreader_boolean (reader, &boolean) && boolean == object->via.boolean);
            return true;
        default:
            return false;
    }
}

//  True if the value at position is one the reader must refuse: a type it
//  does not support (nil, floats, ext, reserved, an uint past INT64_MAX),
//  or cut short by the end of the frame
static bool
s_refusable (const byte *data, size_t size, size_t position)
{
    if (position >= size)
        return true;
    byte head = data [position];
    size_t left = size - position;
    if (head == 0xc0 || head == 0xc1 || (head >= 0xc7 && head <= 0xcb) || (head >= 0xd4 && head <= 0xd8))
        return true;
    if (head == 0xcf)
        return left < 9 || data [position + 1] & 0x80;
    //  Supported types: refused only if their header or bytes are cut
    size_t header = 1, length = 0;
    if ((head & 0xe0) == 0xa0)
        length = head & 0x1f;
    else
    if (head >= 0xcc && head <= 0xd3)
        header = 1 + ((size_t) 1 << ((head - 0xcc) & 3));
    else
    if (head == 0xdc || head == 0xde)
        header = 3;
    else
    if (head == 0xdd || head == 0xdf)
        header = 5;
    else
    if (head == 0xd9 || head == 0xda || head == 0xdb || (head >= 0xc4 && head <= 0xc6)) {
        size_t width = head >= 0xd9? (size_t) 1 << (head - 0xd9): (size_t) 1 << (head - 0xc4);
        header = 1 + width;
        for (size_t index = 0; index < width && header <= left; index++)
            length = length << 8 | data [position + 1 + index];
    }
    return header > left || length > left - header;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zg_mpreader_t reader = zg_mpreader_init (data, size);
    walk_t walk = s_walk (&reader, 0);
    if (walk == WALK_REFUSED)
        assert (s_refusable (data, size, reader.position));
    if (walk != WALK_READ)
        return 0;
    //  What the reader read whole, msgpack-c reads the same, to the same
    //  byte (it allocates for every count: only counts checked go to it)
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&unpacked, (const char *) data, size, &offset);
    assert (rc == MSGPACK_UNPACK_SUCCESS || rc == MSGPACK_UNPACK_EXTRA_BYTES);
    assert (offset == reader.position);
    zg_mpreader_t again = zg_mpreader_init (data, size);
    assert (s_same (&again, &unpacked.data) && again.position == reader.position);
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
