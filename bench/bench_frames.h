/*  =========================================================================
    bench_frames - helpers of the multipart protocols (queues, rooms): read,
    match and send frames, fail on an ERROR answer, split endpoint lists
    =========================================================================
*/

#ifndef BENCH_FRAMES_H_INCLUDED
#define BENCH_FRAMES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>
#include "bench_common.h"

//  Messages drained from one socket before the next gets a turn
#define BENCH_BATCH 1024
//  Most frames of a message we read; further frames are discarded
#define BENCH_MAX_FRAMES 8
//  Most subscriber endpoints of a topics run (nodes of a cluster)
#define BENCH_MAX_ENDPOINTS 16
//  Queue of every run, and prefix of its room (plus the process id, so that
//  each run starts a new room at seq 1)
#define BENCH_NAME "bench"

//  Receive one multipart message; returns its frame count (frames beyond
//  BENCH_MAX_FRAMES are dropped), or -1 if none is waiting with ZMQ_DONTWAIT.
//  The caller closes the frames with bench_frames_close.
int
    bench_frames_recv (void *socket, zmq_msg_t *frames, int flags);

void
    bench_frames_close (zmq_msg_t *frames, int count);

//  True if frame is exactly the string
bool
    bench_frame_is (zmq_msg_t *frame, const char *string);

//  Send a frame (a copy of it), more to follow or not
void
    bench_frame_send (void *socket, zmq_msg_t *frame, bool more);

//  Send a string frame
void
    bench_str_send (void *socket, const char *string, bool more);

//  Decimal ASCII frame as a number
int64_t
    bench_frame_number (zmq_msg_t *frame);

//  Wait until a socket has a message or until deadline_ns, with nanosecond
//  precision (zmq_poll counts milliseconds, too coarse for paced runs)
bool
    bench_wait_readable (void *socket, int64_t deadline_ns);

//  Fail with the reason of an ERROR answer
void
    bench_fail_error (const char *what, zmq_msg_t *frames, int count);

//  Split comma-separated endpoints into list (at most BENCH_MAX_ENDPOINTS,
//  one at least); returns the copy they point into, for the caller to free
char *
    bench_endpoint_list (const char *text, char **list, int *count);

#endif
