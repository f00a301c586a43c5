/*  =========================================================================
    zg_inflight - the bytes of messages sent to one in-process reader that
    it has not let go yet, bounded

    A pipe between threads (inproc) is bounded by libzmq in messages only
    (sndhwm), so a reader that falls behind could hold sndhwm times the
    largest message. Each message sent to it carries one counted frame,
    made here with zmq_msg_init_data: the frame bears the whole message's
    bytes, and its free function, which libzmq runs in whichever thread
    lets it go last, takes them off the account. Past the limit a send is
    refused as at the high-water mark. The account is reference-counted by
    its frames, so a reader may let one go after the sender is gone.
    =========================================================================
*/

#ifndef ZG_INFLIGHT_H_INCLUDED
#define ZG_INFLIGHT_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_inflight_t zg_inflight_t;

//  Create an empty account
zg_inflight_t *
    zg_inflight_new (void);

//  Destroy it; what its frames hold is counted until they are let go
void
    zg_inflight_destroy (zg_inflight_t **self_p);

//  Also charge the bytes held to the process's memory budget, and refuse a
//  frame past the budget's low water (zg_budget_spare): for messages that
//  may be dropped instead, which so never raise the alarm
void
    zg_inflight_set_charged (zg_inflight_t *self);

//  Make frame a frame of size bytes, for the caller to fill, that bears a
//  message of bytes bytes in all (this frame's included) until libzmq lets
//  it go. Refused
//  (-1, errno EAGAIN, frame untouched, counted) if the bytes held would pass
//  limit (0: none), or the budget's low water if charged; a message passes
//  the limit when nothing is held, so one larger than the limit is not
//  refused for good. Returns 0 otherwise
int
    zg_inflight_frame (zg_inflight_t *self, int64_t limit, zmq_msg_t *frame, size_t size, uint64_t bytes);

//  What a frame costs beside the message's bytes: its block header
size_t
    zg_inflight_overhead (void);

//  Bytes held now by the frames made
int64_t
    zg_inflight_held (zg_inflight_t *self);

//  Messages refused for the limit
uint64_t
    zg_inflight_refused (zg_inflight_t *self);

//  Self test of this class
void
    zg_inflight_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
