/*  =========================================================================
    bench_rooms - rooms wire version 2 for the load generator
    =========================================================================
*/

#include <string.h>
#include "bench_rooms.h"

//  --------------------------------------------------------------------------
//  Client ids in a list separated by single spaces

static int64_t
s_list_size (zmq_msg_t *list)
{
    size_t size = zmq_msg_size (list);
    const char *data = (const char *) zmq_msg_data (list);
    int64_t count = size > 0;
    for (size_t index = 0; index < size; index++)
        count += data [index] == ' ';
    return count;
}

//  --------------------------------------------------------------------------
//  Ack a DELIVERS for its holders

int64_t
bench_rooms_acks (void *socket, zmq_msg_t *frames)
{
    if (zmq_msg_size (&frames [3]) > 0) {
        zmq_send (socket, "ACKS", 4, ZMQ_SNDMORE);
        zmq_send (socket, "", 0, ZMQ_SNDMORE);
        for (int index = 1; index <= 3; index++)
            zmq_send (socket, zmq_msg_data (&frames [index]), zmq_msg_size (&frames [index]),
                      index < 3? ZMQ_SNDMORE: 0);
    }
    return s_list_size (&frames [3]) + s_list_size (&frames [4]);
}
