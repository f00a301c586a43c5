/*  =========================================================================
    zg_qlogcodec - the records of the log store (zg_qlogstore): their
    kinds, a reader of their fields that checks each against the end of its
    transaction, a writer, and the put of a task

    Private to the log store. Integers are big-endian (zg_qrecord); a
    sized field is its size (4 bytes), then its bytes. The reader knows
    where its transaction lies in the file, so that a sized field's place
    can be kept instead of its bytes.
    =========================================================================
*/

#ifndef ZG_QLOGCODEC_H_INCLUDED
#define ZG_QLOGCODEC_H_INCLUDED

#include <czmq.h>
#include "zg_qrecord.h"
#include "zg_qlog.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Record kinds (zg_qlogstore.h has their layouts)
#define ZG_QLOGSTORE_PUT 1
#define ZG_QLOGSTORE_USE 2
#define ZG_QLOGSTORE_DELIVER 3
#define ZG_QLOGSTORE_REQUEUE 4
#define ZG_QLOGSTORE_DEAD 5
#define ZG_QLOGSTORE_FINISH 6
#define ZG_QLOGSTORE_DELETE 7

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

//  Room for a record of this kind and size in the log's pending
//  transaction; its kind and id are written. reader is set to read the
//  record back (its offset is where it will lie in the file).
zg_qlogwriter_t
    zg_qlogcodec_record (zg_qlog_t *log, int kind, uint64_t id, size_t size, zg_qlogreader_t *reader);

//  Bytes of the put of this task
uint64_t
    zg_qlogcodec_put_size (const zg_qrecord_t *record);

//  A put of this record into log: the header, then the payload and result
//  as given or, when payload or result is NULL with a size, left for the
//  caller to fill (their places go to payload_p and result_p)
void
    zg_qlogcodec_put (zg_qlog_t *log, const zg_qrecord_t *record, zg_qlogreader_t *reader, byte **payload_p,
                      byte **result_p);

//  Self test of this class
void
    zg_qlogcodec_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
