/*  =========================================================================
    zg_qlogcodec - the fields of the log store's records

    See zg_qlogcodec.h.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qrecord.h"
#include "zg_qlogcodec.h"

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
    printf ("OK\n");
}
