/*  =========================================================================
    zg_session - one WebSocket session of the gateway: bounded send queue,
    coalesced writes, message reassembly

    The frames are written with LWS_WRITE_RAW: they already carry their
    WebSocket headers, so several go out in one write. No extension is
    negotiated (the gateway offers none), so nothing transforms frames.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_session.h"

//  Slots of a session's first send ring; it doubles as needed, so its size
//  is always a power of two and a mask finds a slot
#define ZG_SESSION_RING_MIN 8

//  --------------------------------------------------------------------------
//  Build a final, unmasked text or binary frame holding payload

zg_frame_t *
zg_frame_new (const byte *payload, size_t size, bool binary)
{
    assert (size < UINT32_MAX - 16);
    size_t header = size < 126? 2: size <= 65535? 4: 10;
    zg_frame_t *self = (zg_frame_t *) malloc (sizeof (zg_frame_t) + header + size);
    assert (self);
    self->refs = 1;
    self->size = (uint32_t) (header + size);
    //  Charged while any session queues it (shared frames count once)
    self->charged = 0;
    zg_budget_charge (zg_budget_process (), &self->charged, self->size);
    self->data [0] = 0x80 | (binary? 0x02: 0x01);
    if (header == 2)
        self->data [1] = (byte) size;
    else
    if (header == 4) {
        self->data [1] = 126;
        self->data [2] = (byte) (size >> 8);
        self->data [3] = (byte) size;
    }
    else {
        self->data [1] = 127;
        for (int index = 0; index < 8; index++)
            self->data [2 + index] = (byte) ((uint64_t) size >> (56 - 8 * index));
    }
    memcpy (self->data + header, payload, size);
    return self;
}

//  --------------------------------------------------------------------------
//  Take one more reference

zg_frame_t *
zg_frame_ref (zg_frame_t *self)
{
    assert (self);
    self->refs++;
    return self;
}

//  --------------------------------------------------------------------------
//  Drop one reference; frees the frame with the last one

void
zg_frame_unref (zg_frame_t **self_p)
{
    assert (self_p);
    zg_frame_t *self = *self_p;
    if (self) {
        assert (self->refs > 0);
        if (--self->refs == 0) {
            zg_budget_release (zg_budget_process (), &self->charged, (size_t) self->charged);
            free (self);
        }
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create a session for a connection

zg_session_t *
zg_session_new (struct lws *wsi, uint64_t id)
{
    zg_session_t *self = (zg_session_t *) zmalloc (sizeof (zg_session_t));
    assert (self);
    self->wsi = wsi;
    self->id = id;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy a session, dropping its queued frames and buffers

void
zg_session_destroy (zg_session_t **self_p)
{
    assert (self_p);
    zg_session_t *self = *self_p;
    if (self) {
        while (self->queue_count) {
            zg_frame_unref (&self->queue [self->queue_head]);
            self->queue_head = (self->queue_head + 1) & (self->queue_size - 1);
            self->queue_count--;
        }
        free (self->queue);
        free (self->rx);
        for (uint32_t index = 0; index < self->topic_count; index++)
            free (self->topics [index]);
        free (self->topics);
        for (uint32_t index = 0; index < self->queue_names; index++)
            free (self->queues [index]);
        free (self->queues);
        free (self->client);
        zlistx_destroy (&self->waiting);
        zg_token_claims_destroy (&self->claims);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Queue a frame unless the queue would then hold more than max_bytes

int
zg_session_push (zg_session_t *self, zg_frame_t *frame, size_t max_bytes)
{
    assert (self);
    if (self->queued_bytes + frame->size > max_bytes)
        return -1;
    //  Near the memory budget a session that has a backlog gets no more:
    //  its frames are droppable, others' work is not
    if (self->queue_count && !zg_budget_spare (zg_budget_process (), 0))
        return -1;
    if (self->queue_count == self->queue_size) {
        //  Grow the ring, unrolling it so the oldest frame is first
        uint32_t size = self->queue_size? self->queue_size * 2: ZG_SESSION_RING_MIN;
        zg_frame_t **queue = (zg_frame_t **) malloc (size * sizeof (zg_frame_t *));
        assert (queue);
        for (uint32_t index = 0; index < self->queue_count; index++)
            queue [index] = self->queue [(self->queue_head + index) & (self->queue_size - 1)];
        free (self->queue);
        self->queue = queue;
        self->queue_size = size;
        self->queue_head = 0;
    }
    self->queue [(self->queue_head + self->queue_count) & (self->queue_size - 1)] = zg_frame_ref (frame);
    self->queued_bytes += frame->size;
    //  A non-empty queue always has a writable callback asked for (here, or
    //  by zg_session_write while frames remain): ask once, not per frame
    if (self->queue_count++ == 0 && self->wsi)
        lws_callback_on_writable (self->wsi);
    return 0;
}

//  --------------------------------------------------------------------------
//  Write queued frames, coalesced into one lws_write

int
zg_session_write (zg_session_t *self, zchunk_t *scratch, size_t batch_bytes)
{
    assert (self);
    if (self->queue_count == 0)
        return 0;
    //  Take at least one frame, then as many as fit in the batch
    size_t total = 0;
    uint32_t frames = 0;
    while (frames < self->queue_count) {
        zg_frame_t *frame = self->queue [(self->queue_head + frames) & (self->queue_size - 1)];
        if (frames > 0 && total + frame->size > batch_bytes)
            break;
        total += frame->size;
        frames++;
    }
    if (zchunk_max_size (scratch) < LWS_PRE + total)
        zchunk_resize (scratch, LWS_PRE + total);
    byte *buffer = zchunk_data (scratch) + LWS_PRE;
    size_t offset = 0;
    for (uint32_t index = 0; index < frames; index++) {
        zg_frame_t **frame_p = &self->queue [self->queue_head];
        memcpy (buffer + offset, (*frame_p)->data, (*frame_p)->size);
        offset += (*frame_p)->size;
        self->queued_bytes -= (*frame_p)->size;
        zg_frame_unref (frame_p);
        self->queue_head = (self->queue_head + 1) & (self->queue_size - 1);
        self->queue_count--;
    }
    if (self->queue_count == 0 && self->queue_size > ZG_SESSION_RING_MIN) {
        //  A burst's large ring goes; the first ring stays for the next
        //  messages, rather than a malloc and free per wake-up
        free (self->queue);
        self->queue = NULL;
        self->queue_size = 0;
        self->queue_head = 0;
    }
    if (self->wsi) {
        if (lws_write (self->wsi, buffer, total, LWS_WRITE_RAW) < (int) total)
            return -1;
        if (self->queue_count)
            lws_callback_on_writable (self->wsi);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Account one received chunk of a WebSocket message

int
zg_session_receive (zg_session_t *self, const void *data, size_t size, size_t remaining,
                    bool final, size_t max_frame, size_t max_message, bool *complete)
{
    assert (self);
    *complete = false;
    //  A chunk that starts a frame tells its whole size
    if (self->frame_left == 0 && size + remaining > max_frame)
        return -1;
    self->frame_left = remaining;
    if (self->rx_size + size > max_message)
        return -1;
    if (final && !self->rx) {
        //  The whole message in one chunk: read it where it is
        self->rx_size = size;
        *complete = true;
        return 0;
    }
    self->rx = (byte *) realloc (self->rx, self->rx_size + size);
    assert (self->rx);
    memcpy (self->rx + self->rx_size, data, size);
    self->rx_size += size;
    *complete = final;
    return 0;
}

//  --------------------------------------------------------------------------
//  The message completed by zg_session_receive

const byte *
zg_session_message (zg_session_t *self, const void *chunk, size_t chunk_size, size_t *size)
{
    assert (self);
    *size = self->rx_size;
    if (self->rx)
        return self->rx;
    assert (chunk_size == self->rx_size);
    return (const byte *) chunk;
}

//  --------------------------------------------------------------------------
//  Forget the message just handled

void
zg_session_message_done (zg_session_t *self)
{
    assert (self);
    free (self->rx);
    self->rx = NULL;
    self->rx_size = 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_session_test (bool verbose)
{
    printf (" * zg_session: ");
    //  @selftest
    //  Frame headers of the three sizes
    byte payload [70000];
    memset (payload, 'x', sizeof payload);
    int64_t used = zg_budget_used (zg_budget_process ());
    zg_frame_t *small = zg_frame_new (payload, 5, false);
    assert (small->size == 7 && small->data [0] == 0x81 && small->data [1] == 5);
    zg_frame_t *medium = zg_frame_new (payload, 300, true);
    assert (medium->size == 304 && medium->data [0] == 0x82 && medium->data [1] == 126);
    assert (medium->data [2] == 1 && medium->data [3] == 44);
    zg_frame_t *large = zg_frame_new (payload, 70000, true);
    assert (large->size == 70010 && large->data [1] == 127 && large->data [7] == 1);

    //  The queue is bounded in bytes and shares frames
    zg_session_t *session = zg_session_new (NULL, 1);
    for (int index = 0; index < 20; index++)
        assert (zg_session_push (session, small, 500) == 0);
    assert (small->refs == 21);
    assert (zg_session_push (session, medium, 500) == 0);
    assert (zg_session_push (session, medium, 500) == -1);
    assert (session->queued_bytes == 20 * 7 + 304);
    //  A frame's bytes are charged to the budget once, however many queue it
    assert (zg_budget_used (zg_budget_process ()) == used + 7 + 304 + 70010);

    //  A write takes as many whole frames as the batch allows, at least one
    zchunk_t *scratch = zchunk_new (NULL, 64);
    assert (zg_session_write (session, scratch, 70) == 0);
    assert (session->queue_count == 11 && small->refs == 11);
    assert (memcmp (zchunk_data (scratch) + LWS_PRE, small->data, 7) == 0);
    assert (zg_session_write (session, scratch, 10) == 0);
    assert (session->queue_count == 10);
    assert (zg_session_push (session, large, 100000) == 0);
    assert (zg_session_write (session, scratch, 1000000) == 0);
    assert (session->queue_count == 0 && session->queued_bytes == 0 && !session->queue);
    //  A drained first ring is kept for the next messages
    assert (zg_session_push (session, small, 1000) == 0);
    assert (zg_session_write (session, scratch, 1000) == 0);
    assert (session->queue_count == 0 && session->queue && session->queue_size == ZG_SESSION_RING_MIN);
    assert (small->refs == 1 && medium->refs == 1 && large->refs == 1);

    //  Reassembly: one chunk in place, several chunks copied, limits
    bool complete = false;
    size_t size = 0;
    assert (zg_session_receive (session, "hello", 5, 0, true, 100, 100, &complete) == 0 && complete);
    assert (zg_session_message (session, "hello", 5, &size) && size == 5);
    zg_session_message_done (session);
    assert (zg_session_receive (session, "he", 2, 3, false, 100, 100, &complete) == 0 && !complete);
    assert (zg_session_receive (session, "llo", 3, 0, false, 100, 100, &complete) == 0 && !complete);
    assert (zg_session_receive (session, "!", 1, 0, true, 100, 100, &complete) == 0 && complete);
    const byte *message = zg_session_message (session, "!", 1, &size);
    assert (size == 6 && memcmp (message, "hello!", 6) == 0);
    zg_session_message_done (session);
    assert (zg_session_receive (session, "he", 2, 300, false, 100, 1000, &complete) == -1);
    zg_session_message_done (session);
    session->frame_left = 0;
    assert (zg_session_receive (session, "he", 2, 2, false, 100, 5, &complete) == 0);
    assert (zg_session_receive (session, "he", 2, 0, false, 100, 5, &complete) == 0);
    assert (zg_session_receive (session, "he", 2, 0, true, 100, 5, &complete) == -1);
    if (verbose)
        printf ("(limits hold) ");

    assert (zg_session_push (session, small, 1000) == 0);
    zg_session_destroy (&session);
    zg_session_destroy (&session);
    assert (small->refs == 1);
    zg_frame_unref (&small);
    zg_frame_unref (&medium);
    zg_frame_unref (&large);
    assert (zg_budget_used (zg_budget_process ()) == used);
    assert (!small);
    zchunk_destroy (&scratch);
    //  @end
    printf ("OK\n");
}
