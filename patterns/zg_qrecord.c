/*  =========================================================================
    zg_qrecord - the on-disk format of a durable task record (zg_qstore)

    See zg_qrecord.h for the layout.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tasks.h"
#include "zg_qrecord.h"

//  --------------------------------------------------------------------------
//  Write an unsigned integer, big-endian

void
zg_qrecord_put_uint (byte *target, uint64_t value, size_t size)
{
    for (size_t index = size; index > 0; index--) {
        target [index - 1] = (byte) value;
        value >>= 8;
    }
}

//  --------------------------------------------------------------------------
//  Read an unsigned integer, big-endian

uint64_t
zg_qrecord_get_uint (const byte *source, size_t size)
{
    uint64_t value = 0;
    for (size_t index = 0; index < size; index++)
        value = (value << 8) | source [index];
    return value;
}

//  --------------------------------------------------------------------------
//  Key of one part of a task

void
zg_qrecord_key (byte *key, uint64_t id, int part)
{
    assert (part >= ZG_QRECORD_HEADER && part <= ZG_QRECORD_RESULT);
    zg_qrecord_put_uint (key, id, 8);
    key [8] = (byte) part;
}

//  --------------------------------------------------------------------------
//  The part and id a key names

int
zg_qrecord_part (const byte *key, size_t size, uint64_t *id)
{
    if (size != ZG_QRECORD_KEY_SIZE || key [8] > ZG_QRECORD_RESULT)
        return -1;
    *id = zg_qrecord_get_uint (key, 8);
    return key [8];
}

//  --------------------------------------------------------------------------
//  Encode a header

size_t
zg_qrecord_encode (const zg_qrecord_t *self, byte *header)
{
    assert (self->queue_size > 0 && self->queue_size <= 255);
    header [0] = ZG_QRECORD_VERSION;
    header [1] = self->state;
    header [2] = self->flags;
    header [3] = self->priority;
    zg_qrecord_put_uint (header + 4, self->attempt, 4);
    zg_qrecord_put_uint (header + 8, (uint64_t) self->created, 8);
    zg_qrecord_put_uint (header + 16, (uint64_t) self->started, 8);
    zg_qrecord_put_uint (header + 24, (uint64_t) self->finished, 8);
    zg_qrecord_put_uint (header + 32, (uint64_t) self->expires, 8);
    zg_qrecord_put_uint (header + 40, self->ack_timeout, 4);
    zg_qrecord_put_uint (header + 44, self->reply_timeout, 4);
    zg_qrecord_put_uint (header + 48, self->group, 8);
    assert (self->owner_size <= ZG_QRECORD_OWNER_MAX);
    header [56] = (byte) self->queue_size;
    memcpy (header + ZG_QRECORD_HEADER_SIZE, self->queue, self->queue_size);
    byte *owner = header + ZG_QRECORD_HEADER_SIZE + self->queue_size;
    owner [0] = (byte) self->owner_size;
    if (self->owner_size)
        memcpy (owner + 1, self->owner, self->owner_size);
    return ZG_QRECORD_HEADER_SIZE + self->queue_size + 1 + self->owner_size;
}

//  --------------------------------------------------------------------------
//  Decode a header

int
zg_qrecord_decode (zg_qrecord_t *self, const byte *header, size_t size)
{
    if (size < ZG_QRECORD_HEADER_SIZE || (header [0] != ZG_QRECORD_VERSION && header [0] != 1)
    ||  header [56] == 0 || header [1] > ZG_TASK_DEAD)
        return -1;
    //  Version 1 ends after the queue's name; 2 adds the owner
    size_t named = ZG_QRECORD_HEADER_SIZE + (size_t) header [56];
    const byte *owner = header + named;
    if (header [0] == 1? size != named: size < named + 1 || size != named + 1 + (size_t) owner [0])
        return -1;
    self->owner_size = header [0] == 1? 0: owner [0];
    self->owner = self->owner_size? (const char *) owner + 1: NULL;
    self->state = header [1];
    self->flags = header [2];
    self->priority = header [3];
    self->attempt = (uint32_t) zg_qrecord_get_uint (header + 4, 4);
    self->created = (int64_t) zg_qrecord_get_uint (header + 8, 8);
    self->started = (int64_t) zg_qrecord_get_uint (header + 16, 8);
    self->finished = (int64_t) zg_qrecord_get_uint (header + 24, 8);
    self->expires = (int64_t) zg_qrecord_get_uint (header + 32, 8);
    self->ack_timeout = (uint32_t) zg_qrecord_get_uint (header + 40, 4);
    self->reply_timeout = (uint32_t) zg_qrecord_get_uint (header + 44, 4);
    self->group = zg_qrecord_get_uint (header + 48, 8);
    self->queue_size = header [56];
    self->queue = (const char *) header + ZG_QRECORD_HEADER_SIZE;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qrecord_test (bool verbose)
{
    printf (" * zg_qrecord: ");
    if (verbose)
        printf ("\n");
    //  Every field survives a round trip, at the widths of the layout
    zg_qrecord_t record = {
        .id = 42, .queue = "resize.dead", .queue_size = 11, .state = ZG_TASK_DEAD,
        .flags = ZG_QRECORD_COMMAND | ZG_QRECORD_REPLY, .priority = 255, .attempt = UINT32_MAX,
        .created = 1765000000000, .started = 1765000000001, .finished = 1765000000002,
        .expires = INT64_MAX, .ack_timeout = 86400000, .reply_timeout = 3600000, .group = UINT64_MAX,
        .owner = "alice", .owner_size = 5
    };
    byte header [ZG_QRECORD_HEADER_MAX];
    size_t size = zg_qrecord_encode (&record, header);
    assert (size == ZG_QRECORD_HEADER_SIZE + 11 + 1 + 5);
    assert (header [0] == ZG_QRECORD_VERSION && header [56] == 11);
    zg_qrecord_t decoded = { .id = 42 };
    assert (zg_qrecord_decode (&decoded, header, size) == 0);
    assert (decoded.queue == (const char *) header + ZG_QRECORD_HEADER_SIZE);
    assert (decoded.queue_size == 11 && decoded.state == ZG_TASK_DEAD && decoded.priority == 255);
    assert (decoded.flags == (ZG_QRECORD_COMMAND | ZG_QRECORD_REPLY) && decoded.attempt == UINT32_MAX);
    assert (decoded.created == 1765000000000 && decoded.started == 1765000000001);
    assert (decoded.finished == 1765000000002 && decoded.expires == INT64_MAX);
    assert (decoded.ack_timeout == 86400000 && decoded.reply_timeout == 3600000 && decoded.group == UINT64_MAX);
    assert (decoded.owner_size == 5 && memcmp (decoded.owner, "alice", 5) == 0);
    byte again [ZG_QRECORD_HEADER_MAX];
    assert (zg_qrecord_encode (&decoded, again) == size && memcmp (again, header, size) == 0);
    //  Version 1 (written before owners were kept) is read without one
    byte old [ZG_QRECORD_HEADER_MAX];
    memcpy (old, header, ZG_QRECORD_HEADER_SIZE + 11);
    old [0] = 1;
    assert (zg_qrecord_decode (&decoded, old, ZG_QRECORD_HEADER_SIZE + 11) == 0);
    assert (decoded.owner == NULL && decoded.owner_size == 0 && decoded.queue_size == 11);
    assert (zg_qrecord_decode (&decoded, old, ZG_QRECORD_HEADER_SIZE + 12) == -1);

    //  Anything else is refused: another version, a wrong size, no name,
    //  a state that does not exist
    assert (zg_qrecord_decode (&decoded, header, size - 1) == -1);
    assert (zg_qrecord_decode (&decoded, header, ZG_QRECORD_HEADER_SIZE - 1) == -1);
    header [0] = ZG_QRECORD_VERSION + 1;
    assert (zg_qrecord_decode (&decoded, header, size) == -1);
    header [0] = ZG_QRECORD_VERSION;
    header [1] = ZG_TASK_DEAD + 1;
    assert (zg_qrecord_decode (&decoded, header, size) == -1);
    record.queue_size = 1;
    size = zg_qrecord_encode (&record, header);
    header [56] = 0;
    assert (zg_qrecord_decode (&decoded, header, size - 1) == -1);

    //  Keys sort in id order, then part order, byte by byte
    byte low [ZG_QRECORD_KEY_SIZE], high [ZG_QRECORD_KEY_SIZE];
    zg_qrecord_key (low, 255, ZG_QRECORD_RESULT);
    zg_qrecord_key (high, 256, ZG_QRECORD_HEADER);
    assert (memcmp (low, high, ZG_QRECORD_KEY_SIZE) < 0);
    zg_qrecord_key (high, 255, ZG_QRECORD_PAYLOAD);
    assert (memcmp (high, low, ZG_QRECORD_KEY_SIZE) < 0);
    uint64_t id;
    assert (zg_qrecord_part (low, ZG_QRECORD_KEY_SIZE, &id) == ZG_QRECORD_RESULT && id == 255);
    assert (zg_qrecord_part (low, ZG_QRECORD_KEY_SIZE - 1, &id) == -1);
    low [8] = ZG_QRECORD_RESULT + 1;
    assert (zg_qrecord_part (low, ZG_QRECORD_KEY_SIZE, &id) == -1);
    printf ("OK\n");
}
