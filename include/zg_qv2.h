/*  =========================================================================
    zg_qv2 - the records of the queues' worker protocol version 2

    Version 2 (docs/PROTOCOL.md 2.9) carries many tasks in one frame:
    DELIVERS holds delivery records [id u64][meta size u32][meta][payload
    size u32][payload], ACKS holds ack records [id u64][reply size u32]
    [reply], a reply size of ZG_QV2_NO_REPLY meaning an ACK without a reply.
    The producer half (2.10): SENDS holds send records [payload size u32]
    [payload]; its OK holds result records, shaped like ack records: [id
    u64][error size u32][error], ZG_QV2_NO_REPLY meaning the task was taken
    (id its id), else id 0 and the error "<code> <reason>"; REPLIES holds
    ack records too, [id][reply size][reply].
    Integers are big-endian. zgate and libzgclient both read and write them
    with these inline functions, so the two sides cannot drift apart.
    =========================================================================
*/

#ifndef ZG_QV2_H_INCLUDED
#define ZG_QV2_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The protocol version a READY asks for with option "version"
#define ZG_QV2_VERSION 2
//  An ack record's reply size for an ACK without a reply
#define ZG_QV2_NO_REPLY UINT32_MAX
//  Bytes of an ack record without its reply
#define ZG_QV2_ACK_HEAD 12
//  Bytes of a delivery record without its meta and payload
#define ZG_QV2_DELIVERY_HEAD 16

//  Bytes of a send record without its payload
#define ZG_QV2_SEND_HEAD 4

//  A cursor over a frame of records
typedef struct {
    const uint8_t *data;            //  The frame
    size_t size;                    //  Its size
    size_t offset;                  //  Next byte to read
} zg_qv2_reader_t;

//  One record read: a task id and one or two byte strings
typedef struct {
    uint64_t id;                    //  Task id
    const uint8_t *meta;            //  DELIVERS: the meta map
    size_t meta_size;               //  Its size
    const uint8_t *data;            //  DELIVERS: the payload; ACKS: the reply (NULL: none)
    size_t size;                    //  Its size
} zg_qv2_record_t;

//  Write value big-endian into bytes (size 4 or 8)
static inline void
zg_qv2_put (uint8_t *bytes, uint64_t value, size_t size)
{
    for (size_t index = 0; index < size; index++)
        bytes [index] = (uint8_t) (value >> (8 * (size - 1 - index)));
}

//  Read a big-endian value of size bytes
static inline uint64_t
zg_qv2_get (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t index = 0; index < size; index++)
        value = (value << 8) | bytes [index];
    return value;
}

//  Bytes of a delivery record with this meta and payload
static inline size_t
zg_qv2_delivery_size (size_t meta_size, size_t payload_size)
{
    return ZG_QV2_DELIVERY_HEAD + meta_size + payload_size;
}

//  Write a delivery record at bytes (zg_qv2_delivery_size of room)
static inline void
zg_qv2_put_delivery (uint8_t *bytes, uint64_t id, const void *meta, size_t meta_size, const void *payload,
                     size_t payload_size)
{
    zg_qv2_put (bytes, id, 8);
    zg_qv2_put (bytes + 8, meta_size, 4);
    memcpy (bytes + 12, meta, meta_size);
    zg_qv2_put (bytes + 12 + meta_size, payload_size, 4);
    if (payload_size)
        memcpy (bytes + 16 + meta_size, payload, payload_size);
}

//  Bytes of an ack record with a reply of this size (ZG_QV2_NO_REPLY: none)
static inline size_t
zg_qv2_ack_size (size_t reply_size)
{
    return ZG_QV2_ACK_HEAD + (reply_size == ZG_QV2_NO_REPLY? 0: reply_size);
}

//  Write an ack record at bytes (zg_qv2_ack_size of room); reply NULL: none
static inline void
zg_qv2_put_ack (uint8_t *bytes, uint64_t id, const void *reply, size_t reply_size)
{
    zg_qv2_put (bytes, id, 8);
    zg_qv2_put (bytes + 8, reply? reply_size: ZG_QV2_NO_REPLY, 4);
    if (reply && reply_size)
        memcpy (bytes + 12, reply, reply_size);
}

//  Bytes of a send record with this payload
static inline size_t
zg_qv2_send_size (size_t payload_size)
{
    return ZG_QV2_SEND_HEAD + payload_size;
}

//  Write a send record at bytes (zg_qv2_send_size of room)
static inline void
zg_qv2_put_send (uint8_t *bytes, const void *payload, size_t payload_size)
{
    zg_qv2_put (bytes, payload_size, 4);
    if (payload_size)
        memcpy (bytes + 4, payload, payload_size);
}

//  Start reading a frame of records
static inline void
zg_qv2_reader_init (zg_qv2_reader_t *reader, const void *data, size_t size)
{
    reader->data = (const uint8_t *) data;
    reader->size = size;
    reader->offset = 0;
}

//  Whether records remain to read
static inline bool
zg_qv2_more (const zg_qv2_reader_t *reader)
{
    return reader->offset < reader->size;
}

//  A length-prefixed byte string at the cursor (an empty one points into
//  the frame, so only "none" is NULL); false if it overruns the frame.
//  none is the length that means no string (ACKS), 0 if none has one.
static inline bool
s_zg_qv2_string (zg_qv2_reader_t *reader, const uint8_t **data, size_t *size, uint32_t none)
{
    if (reader->size - reader->offset < 4)
        return false;
    uint32_t length = (uint32_t) zg_qv2_get (reader->data + reader->offset, 4);
    reader->offset += 4;
    if (none && length == none) {
        *data = NULL;
        *size = 0;
        return true;
    }
    if (reader->size - reader->offset < length)
        return false;
    *data = reader->data + reader->offset;
    *size = length;
    reader->offset += length;
    return true;
}

//  Read the next record: a delivery (DELIVERS) or an ack (ACKS); false if
//  the frame ends inside it (the frame is malformed)
static inline bool
zg_qv2_next (zg_qv2_reader_t *reader, zg_qv2_record_t *record, bool delivery)
{
    memset (record, 0, sizeof *record);
    if (reader->size - reader->offset < 8)
        return false;
    record->id = zg_qv2_get (reader->data + reader->offset, 8);
    reader->offset += 8;
    if (delivery && !s_zg_qv2_string (reader, &record->meta, &record->meta_size, 0))
        return false;
    return s_zg_qv2_string (reader, &record->data, &record->size, delivery? 0: ZG_QV2_NO_REPLY);
}

//  Read the next send record's payload; false if the frame ends inside it
static inline bool
zg_qv2_next_send (zg_qv2_reader_t *reader, const uint8_t **payload, size_t *size)
{
    return s_zg_qv2_string (reader, payload, size, 0);
}

#ifdef __cplusplus
}
#endif

#endif
