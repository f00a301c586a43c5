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
    its frames, so a reader may let one go after the sender is gone, and
    by its owners: senders in several threads may share it (one owner
    each), so that it bounds what they queue together.
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

//  Another owner of the same account, for a sender in another thread (an
//  owner is used by one thread at a time; the account by any)
zg_inflight_t *
    zg_inflight_share (zg_inflight_t *self);

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

//  Make frame a counted frame as zg_inflight_frame does, for a message that
//  is refused rather than dropped (a publisher's): charged to the memory
//  budget and admitted by it (zg_budget_admit, the limit as the account's
//  own, waived when nothing is held). Returns 0, or the refusal, counted,
//  frame untouched: ZG_ERR_TOO_MANY past limit, ZG_ERR_STORAGE past the
//  budget (raising its alarm) or while its alarm is up
int
    zg_inflight_admit (zg_inflight_t *self, int64_t limit, zmq_msg_t *frame, size_t size, uint64_t bytes);

//  The reader's part: make frame a plain copy of itself and let the one it
//  held go, so a counted frame's message stops counting now, for a reader
//  that keeps it or passes it on (its other frames are not counted)
void
    zg_inflight_take (zmq_msg_t *frame);

//  What a frame costs beside the message's bytes: its block header
size_t
    zg_inflight_overhead (void);

//  What libzmq allocates beside a large frame's bytes: its content header
//  (pointer, size, free function, hint, reference count)
#define ZG_INFLIGHT_CONTENT (4 * sizeof (void *) + sizeof (int64_t))

//  Bytes held now by the frames made
int64_t
    zg_inflight_held (zg_inflight_t *self);

//  Messages refused (for the limit, or the budget), by this owner
uint64_t
    zg_inflight_refused (zg_inflight_t *self);

//  Self test of this class
void
    zg_inflight_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
