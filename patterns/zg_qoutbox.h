/*  =========================================================================
    zg_qoutbox - the messages the queues' dispatch core has to send

    Private to zg_queues. The core never touches a socket: it writes each
    outgoing message (DELIVER to a worker; REPLY, END or ERROR to a
    producer) here, as frames that own or share their bytes, and the actor
    sends them in order after each request and each timer pass. So the core
    can be driven and checked by a test without sockets, and a message stays
    valid even if the task it came from is forgotten before it is sent. The
    builders (deliver, reply, end, error) are the core's wire format.
    =========================================================================
*/

#ifndef ZG_QOUTBOX_H_INCLUDED
#define ZG_QOUTBOX_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_tasks.h"
#include "zg_qworkers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Most frames of an outgoing message, routing id included
#define ZG_QOUTBOX_FRAMES 6
//  Bytes of records past which a DELIVERS batch is closed (one record may
//  pass it alone)
#define ZG_QOUTBOX_BATCH_BYTES 65536

//  Which socket a message goes out on
typedef enum {
    ZG_QOUTBOX_PRODUCER,
    ZG_QOUTBOX_WORKER
} zg_qoutbox_peer_t;

//  One outgoing message
typedef struct {
    zg_qoutbox_peer_t to;           //  Socket it goes out on
    size_t count;                   //  Frames in it
    zmq_msg_t frames [ZG_QOUTBOX_FRAMES];   //  Routing id first
    byte *batch;                    //  DELIVERS: its records, the last frame (zg_qv2.h), or NULL
    size_t batch_size;              //  Their bytes
    size_t batch_capacity;          //  Bytes allocated
} zg_qoutbox_msg_t;

typedef struct _zg_qoutbox_t zg_qoutbox_t;

//  Create an empty outbox
zg_qoutbox_t *
    zg_qoutbox_new (void);

//  Destroy the outbox and the messages still in it
void
    zg_qoutbox_destroy (zg_qoutbox_t **self_p);

//  Start a message to a peer; add its frames with zg_qoutbox_copy and
//  zg_qoutbox_share. The message stays valid until the next add or clear.
zg_qoutbox_msg_t *
    zg_qoutbox_add (zg_qoutbox_t *self, zg_qoutbox_peer_t to, zg_wire_part_t routing);

//  Append a frame holding a copy of these bytes
void
    zg_qoutbox_copy (zg_qoutbox_msg_t *msg, zg_wire_part_t part);

//  Append a frame sharing a message's bytes (zmq_msg_copy: no copy made)
void
    zg_qoutbox_share (zg_qoutbox_msg_t *msg, zmq_msg_t *frame);

//  [worker][DELIVER][worker id][id][meta][payload] for a task just
//  delivered (its worker, queue and attempt set); the payload is shared.
//  To a version 2 worker: a delivery record (payload copied) appended to
//  its [worker][DELIVERS][worker id][records] in this outbox, which opens
//  one if it has none or the records would pass ZG_QOUTBOX_BATCH_BYTES.
//  Only DELIVER goes to workers through the outbox, so a batch sent at
//  its first delivery's place keeps every worker's messages in order.
void
    zg_qoutbox_deliver (zg_qoutbox_t *self, zg_task_t *task);

//  [producer][REPLY][req][id][reply] to the producer of task, the reply
//  shared. A task sent by SENDS (replies_batched): an ack record (zg_qv2.h,
//  reply copied) appended to a [producer][REPLIES][req][records], the last
//  message to a producer in this outbox if it has the same producer and req
//  and room (ZG_QOUTBOX_BATCH_BYTES), else a new one. A message to any
//  producer closes it, so each producer's messages stay in order.
void
    zg_qoutbox_reply (zg_qoutbox_t *self, zg_task_t *task, zmq_msg_t *reply);

//  [producer][END][req][id][replies] to the producer of a scatter group
void
    zg_qoutbox_end (zg_qoutbox_t *self, zg_task_t *group);

//  [producer][ERROR][req][code][task <id> <what>] to the producer of task
void
    zg_qoutbox_error (zg_qoutbox_t *self, zg_task_t *task, int code, const char *what);

//  [producer][OK][req][id]: the answer to a SEND, held with the other
//  messages of the pass until the pass is durable
void
    zg_qoutbox_ok (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, const char *id);

//  [producer][OK][req][results]: the answer to a SENDS, size bytes of
//  result records (zg_qv2.h) copied; held like zg_qoutbox_ok's
void
    zg_qoutbox_oks (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, const void *records,
                    size_t size);

//  The pass could not be made durable: each OK of zg_qoutbox_ok or _oks becomes
//  [producer][ERROR][req][code][reason], every other message is dropped
void
    zg_qoutbox_refuse (zg_qoutbox_t *self, int code, const char *reason);

//  Move every message to the end of target, in order (self is empty after)
void
    zg_qoutbox_move (zg_qoutbox_t *self, zg_qoutbox_t *target);

//  Messages in the outbox
size_t
    zg_qoutbox_size (zg_qoutbox_t *self);

//  Message index, oldest first
zg_qoutbox_msg_t *
    zg_qoutbox_get (zg_qoutbox_t *self, size_t index);

//  Send a message on a ROUTER (ROUTER_MANDATORY) without blocking; its
//  frames are consumed. Returns 0, or -1 if the peer is gone or at its HWM
//  (an in-process peer's HWM in bytes included: zg_routebytes_bound).
int
    zg_qoutbox_send (zg_qoutbox_msg_t *msg, void *handle);

//  Drop every message (closing the frames not sent)
void
    zg_qoutbox_clear (zg_qoutbox_t *self);

//  The answer to a TAKE: [producer][OK][req][id][meta][payload] for the
//  task it took (meta as DELIVER's), [producer][OK][req] if task is NULL
void
    zg_qoutbox_taken (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, zg_task_t *task);

//  For tests: the messages as "VERB name third;" each (their first three
//  frames after the routing id; for DELIVERS the ids of its records,
//  comma-separated) in text, then dropped; returns text
const char *
    zg_qoutbox_text (zg_qoutbox_t *self, char *text, size_t size);

//  Self test of this class
void
    zg_qoutbox_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
