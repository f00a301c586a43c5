/*  =========================================================================
    zg_qoutbox - the messages the queues' dispatch core has to send

    A growable array of messages reused from pass to pass: in steady state
    adding a message allocates nothing but the frames libzmq cannot hold
    inline (over 33 bytes), and payloads are always shared.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qoutbox.h"
#include "zg_routebytes.h"
#include "zg_wire.h"
#include "zg_qv2.h"

//  Messages allocated at first
#define ZG_QOUTBOX_MIN_SIZE 64

struct _zg_qoutbox_t {
    zg_qoutbox_msg_t *msgs;         //  Messages, oldest first
    size_t size;                    //  Messages in use
    size_t capacity;                //  Messages allocated
    msgpack_sbuffer buffer;         //  DELIVER's meta map
    msgpack_packer packer;          //  Packs into buffer
    uint64_t round;                 //  Counts each time messages leave or move: a
                                    //  worker's open batch index is good for one round
    size_t replies_index;           //  The open REPLIES batch, the last message to a producer
    uint64_t replies_round;         //  Its round; 0: none open
};

//  --------------------------------------------------------------------------
//  Free a message's batch records, if it has any (not sent)

static void
s_drop_batch (zg_qoutbox_msg_t *msg)
{
    free (msg->batch);
    msg->batch = NULL;
}

//  --------------------------------------------------------------------------
//  Create an empty outbox

zg_qoutbox_t *
zg_qoutbox_new (void)
{
    zg_qoutbox_t *self = (zg_qoutbox_t *) zmalloc (sizeof (zg_qoutbox_t));
    assert (self);
    self->capacity = ZG_QOUTBOX_MIN_SIZE;
    self->round = 1;
    self->msgs = (zg_qoutbox_msg_t *) zmalloc (self->capacity * sizeof (zg_qoutbox_msg_t));
    assert (self->msgs);
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the outbox

void
zg_qoutbox_destroy (zg_qoutbox_t **self_p)
{
    assert (self_p);
    zg_qoutbox_t *self = *self_p;
    if (!self)
        return;
    zg_qoutbox_clear (self);
    free (self->msgs);
    msgpack_sbuffer_destroy (&self->buffer);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Start a message to a peer

zg_qoutbox_msg_t *
zg_qoutbox_add (zg_qoutbox_t *self, zg_qoutbox_peer_t to, zg_wire_part_t routing)
{
    assert (self);
    if (self->size == self->capacity) {
        self->capacity *= 2;
        self->msgs = (zg_qoutbox_msg_t *) realloc (self->msgs, self->capacity * sizeof (zg_qoutbox_msg_t));
        assert (self->msgs);
    }
    zg_qoutbox_msg_t *msg = &self->msgs [self->size++];
    //  A producer's messages keep their order: any new one closes the open
    //  REPLIES batch
    if (to == ZG_QOUTBOX_PRODUCER)
        self->replies_round = 0;
    msg->to = to;
    msg->count = 0;
    msg->batch = NULL;
    msg->batch_size = msg->batch_capacity = 0;
    zg_qoutbox_copy (msg, routing);
    return msg;
}

//  --------------------------------------------------------------------------
//  Move every message to the end of target

void
zg_qoutbox_move (zg_qoutbox_t *self, zg_qoutbox_t *target)
{
    assert (self && target && self != target);
    for (size_t index = 0; index < self->size; index++) {
        zg_qoutbox_msg_t *msg = &self->msgs [index];
        zg_qoutbox_msg_t *moved = zg_qoutbox_add (target, msg->to, (zg_wire_part_t) { NULL, 0 });
        zmq_msg_close (&moved->frames [0]);
        for (size_t frame = 0; frame < msg->count; frame++) {
            zmq_msg_init (&moved->frames [frame]);
            zmq_msg_move (&moved->frames [frame], &msg->frames [frame]);
            zmq_msg_close (&msg->frames [frame]);
        }
        moved->count = msg->count;
        moved->batch = msg->batch;
        moved->batch_size = msg->batch_size;
        moved->batch_capacity = msg->batch_capacity;
        msg->batch = NULL;
    }
    self->size = 0;
    self->round++;
}

//  --------------------------------------------------------------------------
//  Append a frame holding a copy of these bytes

void
zg_qoutbox_copy (zg_qoutbox_msg_t *msg, zg_wire_part_t part)
{
    assert (msg);
    assert (msg->count < ZG_QOUTBOX_FRAMES);
    zmq_msg_t *frame = &msg->frames [msg->count++];
    zmq_msg_init_size (frame, part.size);
    if (part.size)
        memcpy (zmq_msg_data (frame), part.data, part.size);
}

//  --------------------------------------------------------------------------
//  Append a frame sharing a message's bytes

void
zg_qoutbox_share (zg_qoutbox_msg_t *msg, zmq_msg_t *frame)
{
    assert (msg);
    assert (frame);
    assert (msg->count < ZG_QOUTBOX_FRAMES);
    zmq_msg_t *copy = &msg->frames [msg->count++];
    zmq_msg_init (copy);
    zmq_msg_copy (copy, frame);
}

//  --------------------------------------------------------------------------
//  A delivered task's meta map, packed into the outbox's buffer

static void
s_task_meta (zg_qoutbox_t *self, zg_task_t *task)
{
    //  The queue keeps its meta map packed up to the attempt value
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_sbuffer_write (&self->buffer, task->queue->meta.data, task->queue->meta.size);
    msgpack_pack_uint32 (&self->packer, task->attempt);
}

//  --------------------------------------------------------------------------
//  A delivered task's last frames: [id][meta][payload]

static void
s_task_frames (zg_qoutbox_t *self, zg_qoutbox_msg_t *msg, zg_task_t *task)
{
    s_task_meta (self, task);
    zg_qoutbox_copy (msg, (zg_wire_part_t) { task->id_text, task->id_size });
    zg_qoutbox_copy (msg, (zg_wire_part_t) { self->buffer.data, self->buffer.size });
    zg_qoutbox_share (msg, &task->payload);
}

//  --------------------------------------------------------------------------
//  Room for size more bytes in a message's batch records; returns where
//  they go (the caller fills them)

static byte *
s_batch_room (zg_qoutbox_msg_t *msg, size_t size)
{
    if (msg->batch_size + size > msg->batch_capacity) {
        size_t capacity = msg->batch_capacity? msg->batch_capacity * 2: 1024;
        while (capacity < msg->batch_size + size)
            capacity *= 2;
        msg->batch = (byte *) realloc (msg->batch, capacity);
        assert (msg->batch);
        msg->batch_capacity = capacity;
    }
    byte *room = msg->batch + msg->batch_size;
    msg->batch_size += size;
    return room;
}

//  --------------------------------------------------------------------------
//  The worker's open DELIVERS in this outbox with room for size more bytes
//  of records, or a new one

static zg_qoutbox_msg_t *
s_worker_batch (zg_qoutbox_t *self, zg_qworker_t *worker, size_t size)
{
    if (worker->batch_outbox == self && worker->batch_round == self->round) {
        zg_qoutbox_msg_t *msg = &self->msgs [worker->batch_index];
        if (msg->batch_size + size <= ZG_QOUTBOX_BATCH_BYTES)
            return msg;
    }
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_WORKER,
                                            (zg_wire_part_t) { worker->identity, worker->identity_size });
    zg_qoutbox_copy (msg, zg_wire_str ("DELIVERS"));
    zg_qoutbox_copy (msg, (zg_wire_part_t) { worker->name, worker->name_size });
    worker->batch_outbox = self;
    worker->batch_round = self->round;
    worker->batch_index = self->size - 1;
    return msg;
}

//  --------------------------------------------------------------------------
//  A task's delivery record appended to its version 2 worker's batch

static void
s_deliver_batched (zg_qoutbox_t *self, zg_task_t *task)
{
    s_task_meta (self, task);
    size_t payload_size = zmq_msg_size (&task->payload);
    size_t size = zg_qv2_delivery_size (self->buffer.size, payload_size);
    zg_qoutbox_msg_t *msg = s_worker_batch (self, task->worker, size);
    zg_qv2_put_delivery (s_batch_room (msg, size), task->id, self->buffer.data, self->buffer.size,
                         zmq_msg_data (&task->payload), payload_size);
}

void
zg_qoutbox_deliver (zg_qoutbox_t *self, zg_task_t *task)
{
    assert (self);
    assert (task && task->worker);
    zg_qworker_t *worker = task->worker;
    if (worker->version >= ZG_QV2_VERSION) {
        s_deliver_batched (self, task);
        return;
    }
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_WORKER,
                                            (zg_wire_part_t) { worker->identity, worker->identity_size });
    zg_qoutbox_copy (msg, zg_wire_str ("DELIVER"));
    zg_qoutbox_copy (msg, (zg_wire_part_t) { worker->name, worker->name_size });
    s_task_frames (self, msg, task);
}

//  --------------------------------------------------------------------------
//  [producer][OK][req][id][meta][payload]: the answer to a TAKE that took
//  task, or [producer][OK][req] if it took none

void
zg_qoutbox_taken (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, zg_task_t *task)
{
    assert (self);
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_PRODUCER, producer);
    zg_qoutbox_copy (msg, zg_wire_str ("OK"));
    zg_qoutbox_copy (msg, req);
    if (task)
        s_task_frames (self, msg, task);
}

//  --------------------------------------------------------------------------
//  A message to a task's producer: [producer][command][req][id]

static zg_qoutbox_msg_t *
s_to_producer (zg_qoutbox_t *self, zg_task_t *task, const char *command)
{
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_PRODUCER,
        (zg_wire_part_t) { zmq_msg_data (&task->producer), zmq_msg_size (&task->producer) });
    zg_qoutbox_copy (msg, zg_wire_str (command));
    zg_qoutbox_copy (msg, (zg_wire_part_t) { zmq_msg_data (&task->req), zmq_msg_size (&task->req) });
    return msg;
}

//  --------------------------------------------------------------------------
//  Whether a frame holds the same bytes as a task's frame

static bool
s_same (zmq_msg_t *frame, zmq_msg_t *other)
{
    return zmq_msg_size (frame) == zmq_msg_size (other)
        && memcmp (zmq_msg_data (frame), zmq_msg_data (other), zmq_msg_size (frame)) == 0;
}

//  --------------------------------------------------------------------------
//  A reply record appended to the open REPLIES of the task's producer and
//  req, if it is the last message to a producer, or to a new one

static void
s_reply_batched (zg_qoutbox_t *self, zg_task_t *task, zmq_msg_t *reply)
{
    size_t size = zg_qv2_ack_size (zmq_msg_size (reply));
    zg_qoutbox_msg_t *msg = NULL;
    if (self->replies_round == self->round) {
        msg = &self->msgs [self->replies_index];
        if (!s_same (&msg->frames [0], &task->producer) || !s_same (&msg->frames [2], &task->req)
        ||  msg->batch_size + size > ZG_QOUTBOX_BATCH_BYTES)
            msg = NULL;
    }
    if (!msg) {
        msg = s_to_producer (self, task, "REPLIES");
        self->replies_index = self->size - 1;
        self->replies_round = self->round;
    }
    zg_qv2_put_ack (s_batch_room (msg, size), task->id, zmq_msg_data (reply), zmq_msg_size (reply));
}

//  --------------------------------------------------------------------------
//  REPLY to the producer of task

void
zg_qoutbox_reply (zg_qoutbox_t *self, zg_task_t *task, zmq_msg_t *reply)
{
    assert (self);
    assert (task && reply);
    if (task->replies_batched) {
        s_reply_batched (self, task, reply);
        return;
    }
    zg_qoutbox_msg_t *msg = s_to_producer (self, task, "REPLY");
    zg_qoutbox_copy (msg, (zg_wire_part_t) { task->id_text, task->id_size });
    zg_qoutbox_share (msg, reply);
}

//  --------------------------------------------------------------------------
//  END to the producer of a scatter group

void
zg_qoutbox_end (zg_qoutbox_t *self, zg_task_t *group)
{
    assert (self);
    assert (group);
    char count [ZG_WIRE_NUMBER_SIZE];
    zg_qoutbox_msg_t *msg = s_to_producer (self, group, "END");
    zg_qoutbox_copy (msg, (zg_wire_part_t) { group->id_text, group->id_size });
    zg_qoutbox_copy (msg, (zg_wire_part_t) { count, zg_wire_format_uint (group->replies, count) });
}

//  --------------------------------------------------------------------------
//  ERROR to the producer of task

void
zg_qoutbox_error (zg_qoutbox_t *self, zg_task_t *task, int code, const char *what)
{
    assert (self);
    assert (task && what);
    char reason [ZG_WIRE_REASON_SIZE];
    zg_wire_reason (reason, "task %s %s", task->id_text, what);
    char code_text [ZG_WIRE_NUMBER_SIZE];
    zg_qoutbox_msg_t *msg = s_to_producer (self, task, "ERROR");
    zg_qoutbox_copy (msg, (zg_wire_part_t) { code_text, zg_wire_format_uint ((uint64_t) code, code_text) });
    zg_qoutbox_copy (msg, zg_wire_str (reason));
}

//  --------------------------------------------------------------------------
//  [producer][OK][req][id], held with the pass's other messages

void
zg_qoutbox_ok (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, const char *id)
{
    assert (self && id);
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_PRODUCER, producer);
    zg_qoutbox_copy (msg, zg_wire_str ("OK"));
    zg_qoutbox_copy (msg, req);
    zg_qoutbox_copy (msg, zg_wire_str (id));
}

//  --------------------------------------------------------------------------
//  [producer][OK][req][results]: the answer to a SENDS, its result records
//  copied

void
zg_qoutbox_oks (zg_qoutbox_t *self, zg_wire_part_t producer, zg_wire_part_t req, const void *records, size_t size)
{
    assert (self && records && size);
    zg_qoutbox_msg_t *msg = zg_qoutbox_add (self, ZG_QOUTBOX_PRODUCER, producer);
    zg_qoutbox_copy (msg, zg_wire_str ("OK"));
    zg_qoutbox_copy (msg, req);
    memcpy (s_batch_room (msg, size), records, size);
}

//  --------------------------------------------------------------------------
//  Whether a message is an OK of zg_qoutbox_ok or zg_qoutbox_oks

static bool
s_is_ok (zg_qoutbox_msg_t *msg)
{
    return msg->to == ZG_QOUTBOX_PRODUCER && (msg->count == 4 || (msg->count == 3 && msg->batch))
        && zmq_msg_size (&msg->frames [1]) == 2 && memcmp (zmq_msg_data (&msg->frames [1]), "OK", 2) == 0;
}

//  --------------------------------------------------------------------------
//  The pass is lost: each OK becomes an ERROR, every other message goes

void
zg_qoutbox_refuse (zg_qoutbox_t *self, int code, const char *reason)
{
    assert (self && reason);
    char code_text [ZG_WIRE_NUMBER_SIZE];
    zg_wire_part_t parts [] = {
        zg_wire_str ("ERROR"), { code_text, zg_wire_format_uint ((uint64_t) code, code_text) }, zg_wire_str (reason)
    };
    size_t kept = 0;
    for (size_t index = 0; index < self->size; index++) {
        zg_qoutbox_msg_t *msg = &self->msgs [index];
        if (!s_is_ok (msg)) {
            for (size_t frame = 0; frame < msg->count; frame++)
                zmq_msg_close (&msg->frames [frame]);
            s_drop_batch (msg);
            continue;
        }
        //  A SENDS's results become one ERROR for the whole batch
        s_drop_batch (msg);
        zg_qoutbox_msg_t *error = &self->msgs [kept++];
        if (error != msg) {
            for (size_t frame = 0; frame < msg->count; frame++) {
                zmq_msg_init (&error->frames [frame]);
                zmq_msg_move (&error->frames [frame], &msg->frames [frame]);
            }
            error->to = msg->to;
        }
        //  [routing][OK][req][id] becomes [routing][ERROR][req][code][reason]
        zmq_msg_close (&error->frames [1]);
        if (msg->count == 4)
            zmq_msg_close (&error->frames [3]);
        error->batch = NULL;
        error->batch_size = error->batch_capacity = 0;
        error->count = 1;
        zg_qoutbox_copy (error, parts [0]);
        error->count = 3;
        zg_qoutbox_copy (error, parts [1]);
        zg_qoutbox_copy (error, parts [2]);
    }
    self->size = kept;
    self->round++;
}

//  --------------------------------------------------------------------------
//  Messages in the outbox

size_t
zg_qoutbox_size (zg_qoutbox_t *self)
{
    assert (self);
    return self->size;
}

//  --------------------------------------------------------------------------
//  Message index, oldest first

zg_qoutbox_msg_t *
zg_qoutbox_get (zg_qoutbox_t *self, size_t index)
{
    assert (self);
    assert (index < self->size);
    return &self->msgs [index];
}

//  --------------------------------------------------------------------------
//  Free a batch's records once libzmq has sent them

static void
s_free_batch (void *data, void *hint)
{
    (void) hint;
    free (data);
}

//  --------------------------------------------------------------------------
//  Send a message without blocking

int
zg_qoutbox_send (zg_qoutbox_msg_t *msg, void *handle)
{
    assert (msg);
    assert (msg->count > 0);
    //  The routing frame is empty once sent: keep its id to count the send
    byte routing [256];
    size_t routing_size = zmq_msg_size (&msg->frames [0]);
    assert (routing_size <= sizeof routing);
    memcpy (routing, zmq_msg_data (&msg->frames [0]), routing_size);
    //  With ROUTER_MANDATORY the routing frame fails for a gone or full peer;
    //  once it is accepted, the rest of the message is too
    if ((msg->count > 1
    &&   zg_routebytes_bound (handle, routing, routing_size, &msg->frames [1], msg->count - 1,
                              msg->batch? msg->batch_size: 0) == -1)
    ||  zmq_msg_send (&msg->frames [0], handle, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    uint64_t wire = 0;
    for (size_t index = 1; index < msg->count; index++) {
        wire += zg_wire_framed_size (zmq_msg_size (&msg->frames [index]));
        zmq_msg_send (&msg->frames [index], handle, index + 1 < msg->count || msg->batch? ZMQ_SNDMORE: 0);
    }
    size_t frames = msg->count - 1;
    if (msg->batch) {
        //  The records go as they are: libzmq frees them once sent
        zmq_msg_t records;
        zmq_msg_init_data (&records, msg->batch, msg->batch_size, s_free_batch, NULL);
        wire += zg_wire_framed_size (msg->batch_size);
        zmq_msg_send (&records, handle, 0);
        msg->batch = NULL;
        frames++;
    }
    zg_routebytes_sent (handle, routing, routing_size, wire, frames);
    return 0;
}

//  --------------------------------------------------------------------------
//  Drop every message

void
zg_qoutbox_clear (zg_qoutbox_t *self)
{
    assert (self);
    //  A sent frame is empty again: closing it is harmless
    for (size_t index = 0; index < self->size; index++) {
        for (size_t frame = 0; frame < self->msgs [index].count; frame++)
            zmq_msg_close (&self->msgs [index].frames [frame]);
        s_drop_batch (&self->msgs [index]);
    }
    self->size = 0;
    self->round++;
}

//  --------------------------------------------------------------------------
//  Whether a message's verb is this one

static bool
s_is (zg_qoutbox_msg_t *msg, const char *verb)
{
    return msg->count > 1 && zmq_msg_size (&msg->frames [1]) == strlen (verb)
        && memcmp (zmq_msg_data (&msg->frames [1]), verb, strlen (verb)) == 0;
}

//  --------------------------------------------------------------------------
//  The messages as text, then dropped

const char *
zg_qoutbox_text (zg_qoutbox_t *self, char *text, size_t size)
{
    assert (self && text && size);
    text [0] = 0;
    for (size_t index = 0; index < zg_qoutbox_size (self); index++) {
        zg_qoutbox_msg_t *msg = zg_qoutbox_get (self, index);
        for (size_t frame = 1; frame < 4 && frame < msg->count; frame++)
            snprintf (text + strlen (text), size - strlen (text), "%.*s%s",
                      (int) zmq_msg_size (&msg->frames [frame]), (const char *) zmq_msg_data (&msg->frames [frame]),
                      frame < 3? " ": ";");
        zg_qv2_reader_t reader;
        zg_qv2_record_t record;
        //  DELIVERS holds delivery records; REPLIES and a SENDS's OK hold
        //  ack-shaped ones, a refused result shown as its code
        bool delivery = s_is (msg, "DELIVERS");
        bool results = s_is (msg, "OK");
        zg_qv2_reader_init (&reader, msg->batch, msg->batch_size);
        while (zg_qv2_more (&reader) && zg_qv2_next (&reader, &record, delivery))
            if (results && record.data)
                snprintf (text + strlen (text), size - strlen (text), "!%.3s%s", (const char *) record.data,
                          zg_qv2_more (&reader)? ",": ";");
            else
                snprintf (text + strlen (text), size - strlen (text), "%" PRIu64 "%s", record.id,
                          zg_qv2_more (&reader)? ",": ";");
    }
    zg_qoutbox_clear (self);
    return text;
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_qoutbox_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qoutbox: ");
    zg_qoutbox_t *outbox = zg_qoutbox_new ();
    zmq_msg_t payload;
    zmq_msg_init_size (&payload, 100);
    memset (zmq_msg_data (&payload), 'p', 100);
    //  More messages than the first allocation, each sharing the payload
    for (int index = 0; index < 100; index++) {
        zg_qoutbox_msg_t *msg = zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("nobody"));
        zg_qoutbox_copy (msg, zg_wire_str ("DELIVER"));
        zg_qoutbox_share (msg, &payload);
    }
    assert (zg_qoutbox_size (outbox) == 100);
    zg_qoutbox_msg_t *msg = zg_qoutbox_get (outbox, 99);
    assert (msg->to == ZG_QOUTBOX_WORKER && msg->count == 3);
    assert (zmq_msg_size (&msg->frames [1]) == 7 && memcmp (zmq_msg_data (&msg->frames [1]), "DELIVER", 7) == 0);
    assert (zmq_msg_data (&msg->frames [2]) == zmq_msg_data (&payload));    //  Shared, not copied
    zg_qoutbox_clear (outbox);
    assert (zg_qoutbox_size (outbox) == 0);
    assert (zmq_msg_size (&payload) == 100);

    //  Sent in order over a real ROUTER; a gone peer fails
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    assert (zsock_bind (router, "inproc://zg-qoutbox-test") == 0);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_identity (dealer, "peer");
    zsock_set_rcvtimeo (dealer, 2000);
    assert (zsock_connect (dealer, "inproc://zg-qoutbox-test") == 0);
    zg_qoutbox_msg_t *first = zg_qoutbox_add (outbox, ZG_QOUTBOX_PRODUCER, zg_wire_str ("peer"));
    zg_qoutbox_copy (first, zg_wire_str ("REPLY"));
    zg_qoutbox_share (first, &payload);
    zg_qoutbox_msg_t *lost = zg_qoutbox_add (outbox, ZG_QOUTBOX_PRODUCER, zg_wire_str ("gone"));
    zg_qoutbox_copy (lost, zg_wire_str ("END"));
    zg_qoutbox_msg_t *second = zg_qoutbox_add (outbox, ZG_QOUTBOX_PRODUCER, zg_wire_str ("peer"));
    zg_qoutbox_copy (second, zg_wire_str ("END"));
    zg_qoutbox_copy (second, (zg_wire_part_t) { "", 0 });
    int failed = 0;
    for (size_t index = 0; index < zg_qoutbox_size (outbox); index++)
        if (zg_qoutbox_send (zg_qoutbox_get (outbox, index), zsock_resolve (router)))
            failed++;
    assert (failed == 1);
    zg_qoutbox_clear (outbox);
    zmsg_t *got = zmsg_recv (dealer);
    assert (got && zmsg_size (got) == 2 && zframe_streq (zmsg_first (got), "REPLY"));
    assert (zframe_size (zmsg_next (got)) == 100);
    zmsg_destroy (&got);
    got = zmsg_recv (dealer);
    assert (got && zmsg_size (got) == 2 && zframe_streq (zmsg_first (got), "END"));
    zmsg_destroy (&got);
    zsock_destroy (&dealer);
    zsock_destroy (&router);

    //  A lost pass: the OKs become ERROR 507, the rest goes
    char text [256];
    zg_qoutbox_ok (outbox, zg_wire_str ("p1"), zg_wire_str ("r1"), "11");
    zg_qoutbox_msg_t *deliver = zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("w"));
    zg_qoutbox_copy (deliver, zg_wire_str ("DELIVER"));
    zg_qoutbox_ok (outbox, zg_wire_str ("p2"), zg_wire_str ("r2"), "12");
    assert (streq (zg_qoutbox_text (outbox, text, sizeof text), "OK r1 11;DELIVER OK r2 12;"));
    zg_qoutbox_ok (outbox, zg_wire_str ("p1"), zg_wire_str ("r1"), "11");
    zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("w"));
    zg_qoutbox_ok (outbox, zg_wire_str ("p2"), zg_wire_str ("r2"), "12");
    zg_qoutbox_refuse (outbox, 507, "disk full");
    assert (zg_qoutbox_size (outbox) == 2);
    zg_qoutbox_msg_t *refused = zg_qoutbox_get (outbox, 1);
    assert (refused->count == 5 && zmq_msg_size (&refused->frames [0]) == 2);
    assert (memcmp (zmq_msg_data (&refused->frames [4]), "disk full", 9) == 0);
    assert (streq (zg_qoutbox_text (outbox, text, sizeof text), "ERROR r1 507;ERROR r2 507;"));
    //  A SENDS's results (a DELIVERS between) become one ERROR too
    uint8_t results [2 * ZG_QV2_ACK_HEAD];
    zg_qv2_put_ack (results, 21, NULL, 0);
    zg_qv2_put_ack (results + ZG_QV2_ACK_HEAD, 22, NULL, 0);
    zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("w"));
    zg_qoutbox_oks (outbox, zg_wire_str ("p3"), zg_wire_str ("r3"), results, sizeof results);
    assert (streq (zg_qoutbox_text (outbox, text, sizeof text), "OK r3 21,22;"));
    zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("w"));
    zg_qoutbox_oks (outbox, zg_wire_str ("p3"), zg_wire_str ("r3"), results, sizeof results);
    zg_qoutbox_refuse (outbox, 507, "disk full");
    assert (zg_qoutbox_size (outbox) == 1 && !zg_qoutbox_get (outbox, 0)->batch);
    assert (streq (zg_qoutbox_text (outbox, text, sizeof text), "ERROR r3 507;"));

    //  Messages held for a later sync move to another outbox, in order
    zg_qoutbox_t *held = zg_qoutbox_new ();
    zg_qoutbox_ok (held, zg_wire_str ("p0"), zg_wire_str ("r0"), "10");
    zg_qoutbox_ok (outbox, zg_wire_str ("p1"), zg_wire_str ("r1"), "11");
    zg_qoutbox_add (outbox, ZG_QOUTBOX_WORKER, zg_wire_str ("w"));
    zg_qoutbox_move (outbox, held);
    assert (zg_qoutbox_size (outbox) == 0 && zg_qoutbox_size (held) == 3);
    assert (zg_qoutbox_get (held, 2)->to == ZG_QOUTBOX_WORKER);
    assert (streq (zg_qoutbox_text (held, text, sizeof text), "OK r0 10;OK r1 11;"));
    zg_qoutbox_destroy (&held);
    zmq_msg_close (&payload);
    zg_qoutbox_destroy (&outbox);
    assert (outbox == NULL);
    printf ("OK\n");
}
