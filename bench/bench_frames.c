/*  =========================================================================
    bench_frames - helpers of the multipart protocols (queues, rooms): read,
    match and send frames, fail on an ERROR answer, split endpoint lists
    =========================================================================
*/

//  ppoll
#define _GNU_SOURCE
#include "bench_frames.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Receive one multipart message; returns its frame count (frames beyond
//  BENCH_MAX_FRAMES are dropped), or -1 if none is waiting with ZMQ_DONTWAIT.
//  The caller closes the frames with bench_frames_close.
int
bench_frames_recv (void *socket, zmq_msg_t *frames, int flags)
{
    int count = 0;
    zmq_msg_t frame;
    while (true) {
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, socket, count? 0: flags) == -1) {
            zmq_msg_close (&frame);
            return count? count: -1;
        }
        bool more = zmq_msg_more (&frame);
        if (count < BENCH_MAX_FRAMES)
            frames [count++] = frame;
        else
            zmq_msg_close (&frame);
        if (!more)
            return count;
    }
}

void
bench_frames_close (zmq_msg_t *frames, int count)
{
    for (int index = 0; index < count; index++)
        zmq_msg_close (&frames [index]);
}

//  True if frame is exactly the string
bool
bench_frame_is (zmq_msg_t *frame, const char *string)
{
    size_t size = strlen (string);
    return zmq_msg_size (frame) == size && !memcmp (zmq_msg_data (frame), string, size);
}

//  Send a frame (a copy of it), more to follow or not
void
bench_frame_send (void *socket, zmq_msg_t *frame, bool more)
{
    zmq_send (socket, zmq_msg_data (frame), zmq_msg_size (frame), more? ZMQ_SNDMORE: 0);
}

//  Send a string frame
void
bench_str_send (void *socket, const char *string, bool more)
{
    zmq_send (socket, string, strlen (string), more? ZMQ_SNDMORE: 0);
}

//  Decimal ASCII frame as a number
int64_t
bench_frame_number (zmq_msg_t *frame)
{
    char text [32];
    size_t size = zmq_msg_size (frame) < sizeof text - 1? zmq_msg_size (frame): sizeof text - 1;
    memcpy (text, zmq_msg_data (frame), size);
    text [size] = 0;
    return strtoll (text, NULL, 10);
}

//  Wait until a socket has a message or until deadline_ns, with nanosecond
//  precision (zmq_poll counts milliseconds, too coarse for paced runs)
bool
bench_wait_readable (void *socket, int64_t deadline_ns)
{
    int fd;
    size_t size = sizeof fd;
    zmq_getsockopt (socket, ZMQ_FD, &fd, &size);
    while (true) {
        //  Reading ZMQ_EVENTS also re-arms ZMQ_FD
        int events = 0;
        size = sizeof events;
        zmq_getsockopt (socket, ZMQ_EVENTS, &events, &size);
        if (events & ZMQ_POLLIN)
            return true;
        int64_t left = deadline_ns - bench_now_ns ();
        if (left <= 0)
            return false;
        struct pollfd item = { fd, POLLIN, 0 };
        struct timespec timeout = { left / 1000000000, left % 1000000000 };
        ppoll (&item, 1, &timeout, NULL);
    }
}

//  Fail with the reason of an ERROR answer
void
bench_fail_error (const char *what, zmq_msg_t *frames, int count)
{
    char reason [256] = "";
    if (count >= 4) {
        size_t size = zmq_msg_size (&frames [3]) < sizeof reason - 1? zmq_msg_size (&frames [3]): sizeof reason - 1;
        memcpy (reason, zmq_msg_data (&frames [3]), size);
        reason [size] = 0;
    }
    bench_fail ("%s: ERROR %lld %s", what, count >= 3? (long long) bench_frame_number (&frames [2]): 0LL, reason);
}

//  Split comma-separated endpoints into list (at most BENCH_MAX_ENDPOINTS,
//  one at least); returns the copy they point into, for the caller to free
char *
bench_endpoint_list (const char *text, char **list, int *count)
{
    char *copy = strdup (text);
    *count = 0;
    for (char *state = NULL, *endpoint = strtok_r (copy, ",", &state); endpoint;
         endpoint = strtok_r (NULL, ",", &state))
        if (*count < BENCH_MAX_ENDPOINTS)
            list [(*count)++] = endpoint;
    if (*count == 0)
        bench_fail ("no endpoint in '%s'", text);
    return copy;
}
