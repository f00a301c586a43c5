/*  =========================================================================
    zg_qrecord - the on-disk format of a durable task record (zg_qstore)

    Private to the queues. A task is stored as up to three values, under
    keys that sort in id order:
        key:    [id: 8][part: 1]             part ZG_QRECORD_HEADER, _PAYLOAD
                                             or _RESULT
        header: [version 1][state 1][flags 1][priority 1][attempt 4]
                [created 8][started 8][finished 8][expires 8]
                [ack-timeout 4][reply-timeout 4][group 8][queue size 1][queue]
                [owner size 1][owner]                  (version 2; version 1
                                                        ends after queue)
        payload, result: the bytes as received
    All integers are big-endian, times are wall clock ms since the epoch.
    The version byte comes first so that a later build can tell an old
    record from a new one and migrate it; this build writes version
    ZG_QRECORD_VERSION, reads it and version 1 (no owner), and refuses any
    other, never guessing.
    =========================================================================
*/

#ifndef ZG_QRECORD_H_INCLUDED
#define ZG_QRECORD_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Version of the header layout above
#define ZG_QRECORD_VERSION 2

//  Parts of a task's records
#define ZG_QRECORD_HEADER  0
#define ZG_QRECORD_PAYLOAD 1        //  Present while waiting or in progress
#define ZG_QRECORD_RESULT  2        //  Reply or reason, once finished, if not empty

//  Header flags
#define ZG_QRECORD_COMMAND 1        //  The queue is a command
#define ZG_QRECORD_REPLY   2        //  The producer asked for the outcome
#define ZG_QRECORD_SCATTER 4        //  A scatter group (its copies name it in group)
#define ZG_QRECORD_UNTIL_READ 8     //  Forgotten once GET read its outcome

//  Sizes: a key, a header before the queue name, the largest header
#define ZG_QRECORD_KEY_SIZE 9
#define ZG_QRECORD_HEADER_SIZE 57
#define ZG_QRECORD_OWNER_MAX 255
#define ZG_QRECORD_HEADER_MAX (ZG_QRECORD_HEADER_SIZE + 255 + 1 + ZG_QRECORD_OWNER_MAX)

//  One task as the store keeps it. Strings and bytes are not terminated.
typedef struct {
    uint64_t id;                    //  Task id
    const char *queue;              //  Queue or command name (1 to 255 bytes)
    size_t queue_size;
    uint8_t state;                  //  zg_task_state_t
    uint8_t flags;                  //  ZG_QRECORD_COMMAND | _REPLY | _SCATTER | _UNTIL_READ
    uint8_t priority;
    uint32_t attempt;               //  Deliveries so far
    int64_t created;                //  When it was sent
    int64_t started;                //  Last delivery, or 0
    int64_t finished;               //  Finished, or 0
    int64_t expires;                //  Finished: when it may be forgotten; waiting or in
                                    //  progress: when its time to live ends (zg_qexpiry); or 0
    uint32_t ack_timeout;           //  Ms a worker has to answer a delivery
    uint32_t reply_timeout;         //  Ms the producer waits for the outcome
    uint64_t group;                 //  Scatter copy: its group's id, else 0
    const char *owner;              //  Producer's identity (security on), or NULL
    size_t owner_size;              //  0 to ZG_QRECORD_OWNER_MAX
    const void *payload;            //  Input (waiting, in progress; finished with
                                    //  queues/keep-input), else NULL
    size_t payload_size;
    const void *result;             //  Reply or reason (finished), else NULL
    size_t result_size;
} zg_qrecord_t;

//  Write an unsigned integer of size bytes, big-endian
void
    zg_qrecord_put_uint (byte *target, uint64_t value, size_t size);

//  Read an unsigned integer of size bytes, big-endian
uint64_t
    zg_qrecord_get_uint (const byte *source, size_t size);

//  Write the key of one part of a task into key (ZG_QRECORD_KEY_SIZE bytes)
void
    zg_qrecord_key (byte *key, uint64_t id, int part);

//  The part a key names, with its id, or -1 if it is not a task key
int
    zg_qrecord_part (const byte *key, size_t size, uint64_t *id);

//  Encode a record's header into header (ZG_QRECORD_HEADER_MAX bytes);
//  returns its size
size_t
    zg_qrecord_encode (const zg_qrecord_t *self, byte *header);

//  Decode a header into a record's header fields (the queue name points
//  into header). Returns 0, or -1 if it is not a header of this version.
int
    zg_qrecord_decode (zg_qrecord_t *self, const byte *header, size_t size);

//  Self test of this class
void
    zg_qrecord_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
