/*  =========================================================================
    bench_rooms - rooms wire version 2 for the load generator: one DELIVERS
    per connection and release, acked with one ACKS (docs/PROTOCOL.md 3.8)
    =========================================================================
*/

#ifndef BENCH_ROOMS_H_INCLUDED
#define BENCH_ROOMS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

//  Ack a [DELIVERS][room][seq][holders][observers][payload] (frames) with
//  one [ACKS][][room][seq][holders] on socket; returns the members it
//  reached, holders and observers
int64_t
    bench_rooms_acks (void *socket, zmq_msg_t *frames);

#endif
