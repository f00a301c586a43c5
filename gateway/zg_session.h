/*  =========================================================================
    zg_session - one WebSocket session of the gateway: its bounded send
    queue of shared frames, written coalesced, and its message reassembly

    Private to the gateway; all of it runs in the gateway's lws thread.
    A frame is a complete server-to-client WebSocket frame (header and
    payload), built once and shared, reference-counted, by every session
    it goes to. When the session becomes writable, the queued frames are
    copied back to back into one buffer and written with a single lws_write,
    so a fan-out costs one syscall per session per wake-up, not per message.
    =========================================================================
*/

#ifndef ZG_SESSION_H_INCLUDED
#define ZG_SESSION_H_INCLUDED

#include <czmq.h>
#include <libwebsockets.h>
#include "zg_token.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A complete WebSocket frame, shared by the sessions it is queued on
typedef struct {
    uint32_t refs;                  //  Sessions (and builders) holding it
    uint32_t size;                  //  Bytes in data: header plus payload
    int64_t charged;                //  Its bytes, charged to the memory budget
    byte data [];                   //  The frame
} zg_frame_t;

//  Build a final, unmasked text or binary frame holding payload; refs is 1
zg_frame_t *
    zg_frame_new (const byte *payload, size_t size, bool binary);

//  Take one more reference
zg_frame_t *
    zg_frame_ref (zg_frame_t *self);

//  Drop one reference; frees the frame with the last one
void
    zg_frame_unref (zg_frame_t **self_p);

//  A go-wsqueue endpoint session's part (zg_gw_wsqueue's)
typedef struct _zg_gw_wsq_session_t zg_gw_wsq_session_t;

//  Per-session state, kept small: buffers are allocated only once used (the
//  send ring of its first size stays, larger rings and rx go when drained)
typedef struct {
    struct lws *wsi;                //  The connection
    uint64_t id;                    //  Unique for the life of the gateway
    uint64_t last_seq;              //  Last topic message queued (no duplicates)
    zg_frame_t **queue;             //  Ring of queued frames, or NULL
    uint32_t queue_head;            //  Index of the oldest frame
    uint32_t queue_count;           //  Frames queued
    uint32_t queue_size;            //  Slots in the ring
    size_t queued_bytes;            //  Bytes in queued frames
    byte *rx;                       //  Message being reassembled, or NULL
    size_t rx_size;                 //  Bytes in rx
    size_t frame_left;              //  Bytes of the current frame still to come
    char **topics;                  //  Web topics subscribed, or NULL
    uint32_t topic_count;           //  Entries in topics
    char **queues;                  //  Queues consumed as a worker, and commands
                                    //  served as "/name" (no queue name has a '/'), or NULL
    uint32_t queue_names;           //  Entries in queues
    int64_t prefetch;               //  Worker prefetch, 0 while not a worker
    char *client;                   //  Rooms client id, or NULL
    zlistx_t *waiting;              //  Room requests waiting for the client id
    bool msgpack;                   //  Last request was a binary frame
    bool closing;                   //  Closed by policy; queue no more
    zg_token_claims_t *claims;      //  Its verified token (security on), or NULL
    zg_gw_wsq_session_t *wsqueue;   //  A go-wsqueue endpoint's session (zg_gw_wsqueue), or NULL
    int64_t auth_deadline;          //  zclock_mono by which it must authenticate, 0 if not waiting
} zg_session_t;

//  Create a session for a connection
zg_session_t *
    zg_session_new (struct lws *wsi, uint64_t id);

//  Destroy a session, dropping its queued frames and buffers
void
    zg_session_destroy (zg_session_t **self_p);

//  Queue a frame (taking a reference) unless the queue would then hold more
//  than max_bytes, or the memory budget is past its low water and the queue
//  holds frames already; returns 0, or -1 if it did not fit. Asks lws for a
//  writable callback when the queue was empty.
int
    zg_session_push (zg_session_t *self, zg_frame_t *frame, size_t max_bytes);

//  Write queued frames, coalesced into one lws_write of at most about
//  batch_bytes (at least one frame). scratch is a buffer the caller reuses.
//  Returns 0, or -1 if the connection failed.
int
    zg_session_write (zg_session_t *self, zchunk_t *scratch, size_t batch_bytes);

//  Account one received chunk of a WebSocket message: remaining is what lws
//  says is left of the current frame, final whether that frame ends the
//  message. Returns 0 and sets *complete when the message is whole (then
//  read it with zg_session_message and forget it with
//  zg_session_message_done), or -1 if a frame exceeds max_frame or the
//  message exceeds max_message.
int
    zg_session_receive (zg_session_t *self, const void *data, size_t size, size_t remaining,
                        bool final, size_t max_frame, size_t max_message, bool *complete);

//  The message completed by zg_session_receive (data and size)
const byte *
    zg_session_message (zg_session_t *self, const void *chunk, size_t chunk_size, size_t *size);

//  Forget the message just handled
void
    zg_session_message_done (zg_session_t *self);

//  Self test of this class
void
    zg_session_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
