/*  =========================================================================
    zg_qlogcodec - the fields of the log store's records (zg_qlogstore):
    a reader that checks each field against the end of its transaction,
    and a writer

    Private to the log store. Integers are big-endian (zg_qrecord); a
    sized field is its size (4 bytes), then its bytes. The reader knows
    where its transaction lies in the file, so that a sized field's place
    can be kept instead of its bytes.
    =========================================================================
*/

#ifndef ZG_QLOGCODEC_H_INCLUDED
#define ZG_QLOGCODEC_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Reading a record: fields in order, each checked against the end
typedef struct {
    const byte *at;                 //  Next byte
    const byte *end;                //  End of the transaction
    const byte *start;              //  Start of the transaction's body
    uint64_t offset;                //  Where start lies in the file
    bool bad;                       //  A field ran past the end
} zg_qlogreader_t;

//  Writing a record
typedef struct {
    byte *at;                       //  Next byte to write
} zg_qlogwriter_t;

//  The next size bytes, or NULL (and bad set) if they pass the end
const byte *
    zg_qlogreader_take (zg_qlogreader_t *self, size_t size);

//  An unsigned integer of size bytes (0, bad set, past the end)
uint64_t
    zg_qlogreader_uint (zg_qlogreader_t *self, size_t size);

//  A sized field: its size goes to size; returns where its bytes lie in
//  the file (0, bad set, past the end)
uint64_t
    zg_qlogreader_bytes (zg_qlogreader_t *self, size_t *size);

//  Write an unsigned integer of size bytes
void
    zg_qlogwriter_uint (zg_qlogwriter_t *self, uint64_t value, size_t size);

//  Write a size field of size_size bytes, then the bytes
void
    zg_qlogwriter_bytes (zg_qlogwriter_t *self, const void *bytes, size_t size, size_t size_size);

//  Self test of this class
void
    zg_qlogcodec_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
