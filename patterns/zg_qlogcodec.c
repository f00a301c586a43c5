/*  =========================================================================
    zg_qlogcodec - the fields of the log store's records

    See zg_qlogcodec.h.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qlogcodec.h"

//  Bytes of a put before the header, and around the payload and result
#define ZG_QLOGCODEC_PUT_HEAD 11
#define ZG_QLOGCODEC_PUT_SIZES 8

//  --------------------------------------------------------------------------
//  The next size bytes

const byte *
zg_qlogreader_take (zg_qlogreader_t *self, size_t size)
{
    assert (self);
    if ((size_t) (self->end - self->at) < size) {
        self->bad = true;
        return NULL;
    }
    const byte *field = self->at;
    self->at += size;
    return field;
}

//  --------------------------------------------------------------------------
//  An unsigned integer

uint64_t
zg_qlogreader_uint (zg_qlogreader_t *self, size_t size)
{
    const byte *field = zg_qlogreader_take (self, size);
    return field? zg_qrecord_get_uint (field, size): 0;
}

//  --------------------------------------------------------------------------
//  A sized field: where its bytes lie in the file

uint64_t
zg_qlogreader_bytes (zg_qlogreader_t *self, size_t *size)
{
    assert (size);
    *size = (size_t) zg_qlogreader_uint (self, 4);
    const byte *bytes = zg_qlogreader_take (self, *size);
    return bytes? self->offset + (uint64_t) (bytes - self->start): 0;
}

//  --------------------------------------------------------------------------
//  Write an unsigned integer

void
zg_qlogwriter_uint (zg_qlogwriter_t *self, uint64_t value, size_t size)
{
    assert (self);
    zg_qrecord_put_uint (self->at, value, size);
    self->at += size;
}

//  --------------------------------------------------------------------------
//  Write a sized field

void
zg_qlogwriter_bytes (zg_qlogwriter_t *self, const void *bytes, size_t size, size_t size_size)
{
    zg_qlogwriter_uint (self, size, size_size);
    if (size)
        memcpy (self->at, bytes, size);
    self->at += size;
}

//  --------------------------------------------------------------------------
//  Room for a record in the log's pending transaction

zg_qlogwriter_t
zg_qlogcodec_record (zg_qlog_t *log, int kind, uint64_t id, size_t size, zg_qlogreader_t *reader)
{
    assert (log && reader);
    uint64_t offset;
    byte *start = zg_qlog_reserve (log, size, &offset);
    *reader = (zg_qlogreader_t) { start, start + size, start, offset, false };
    zg_qlogwriter_t writer = { start };
    zg_qlogwriter_uint (&writer, (uint64_t) kind, 1);
    zg_qlogwriter_uint (&writer, id, 8);
    return writer;
}

//  --------------------------------------------------------------------------
//  Bytes of the put of this task

uint64_t
zg_qlogcodec_put_size (const zg_qrecord_t *record)
{
    assert (record);
    return ZG_QLOGCODEC_PUT_HEAD + ZG_QRECORD_HEADER_SIZE + record->queue_size + 1 + record->owner_size
         + ZG_QLOGCODEC_PUT_SIZES + record->payload_size + record->result_size;
}

//  --------------------------------------------------------------------------
//  A put of this record into log

void
zg_qlogcodec_put (zg_qlog_t *log, const zg_qrecord_t *record, zg_qlogreader_t *reader, byte **payload_p,
                  byte **result_p)
{
    assert (record && payload_p && result_p);
    byte header [ZG_QRECORD_HEADER_MAX];
    size_t header_size = zg_qrecord_encode (record, header);
    zg_qlogwriter_t writer = zg_qlogcodec_record (log, ZG_QLOGSTORE_PUT, record->id,
                                                  (size_t) zg_qlogcodec_put_size (record), reader);
    zg_qlogwriter_bytes (&writer, header, header_size, 2);
    zg_qlogwriter_uint (&writer, record->payload_size, 4);
    *payload_p = writer.at;
    if (record->payload)
        memcpy (writer.at, record->payload, record->payload_size);
    writer.at += record->payload_size;
    zg_qlogwriter_uint (&writer, record->result_size, 4);
    *result_p = writer.at;
    if (record->result)
        memcpy (writer.at, record->result, record->result_size);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qlogcodec_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlogcodec: ");
    byte buffer [32];
    zg_qlogwriter_t writer = { buffer };
    zg_qlogwriter_uint (&writer, 0x0102, 2);
    zg_qlogwriter_bytes (&writer, "abc", 3, 4);
    assert (writer.at == buffer + 9 && memcmp (buffer, "\x01\x02\x00\x00\x00\x03" "abc", 9) == 0);
    //  Read back, the bytes' place counted from the transaction's offset
    zg_qlogreader_t reader = { buffer, buffer + 9, buffer, 1000, false };
    size_t size;
    assert (zg_qlogreader_uint (&reader, 2) == 0x0102);
    assert (zg_qlogreader_bytes (&reader, &size) == 1006 && size == 3 && !reader.bad);
    //  Past the end: bad, and nothing taken
    assert (zg_qlogreader_uint (&reader, 1) == 0 && reader.bad && reader.at == buffer + 9);
    reader = (zg_qlogreader_t) { buffer, buffer + 8, buffer, 0, false };
    zg_qlogreader_uint (&reader, 2);
    assert (zg_qlogreader_bytes (&reader, &size) == 0 && reader.bad);

    //  A put into a log's pending transaction: its size as counted, the
    //  payload's place left to fill, the header read back
    char path [] = "/tmp/zg_qlogcodec_test_XXXXXX", error [256];
    int handle = mkstemp (path);
    assert (handle >= 0);
    close (handle);
    zg_qlog_t *log = zg_qlog_create (path, error, sizeof error);
    assert (log);
    zg_qrecord_t record = { .id = 7, .queue = "q", .queue_size = 1, .payload_size = 3, .result = "ok",
                            .result_size = 2, .owner = "bob", .owner_size = 3 };
    byte *payload, *result;
    zg_qlogcodec_put (log, &record, &reader, &payload, &result);
    assert ((uint64_t) (reader.end - reader.start) == zg_qlogcodec_put_size (&record));
    assert (reader.offset == ZG_QLOG_FILE_HEADER + ZG_QLOG_TXN_HEADER && memcmp (result, "ok", 2) == 0);
    memcpy (payload, "abc", 3);
    assert (zg_qlogreader_uint (&reader, 1) == ZG_QLOGSTORE_PUT && zg_qlogreader_uint (&reader, 8) == 7);
    size_t header_size = (size_t) zg_qlogreader_uint (&reader, 2);
    zg_qrecord_t decoded = { 0 };
    assert (zg_qrecord_decode (&decoded, zg_qlogreader_take (&reader, header_size), header_size) == 0);
    assert (decoded.owner_size == 3 && memcmp (decoded.owner, "bob", 3) == 0);
    assert (memcmp (reader.start + zg_qlogreader_bytes (&reader, &size) - reader.offset, "abc", 3) == 0);
    zg_qlog_destroy (&log);
    unlink (path);
    printf ("OK\n");
}
