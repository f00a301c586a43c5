/*  =========================================================================
    zg_bench_queues - zg_bench's queues scenario
    =========================================================================
*/

#ifndef ZG_BENCH_QUEUES_H_INCLUDED
#define ZG_BENCH_QUEUES_H_INCLUDED

#include "bench_common.h"

//  One producer and --clients workers on zgate's queues (see zg_bench.c's
//  usage): tasks acked per second, latency to the reply or the OK
void
    bench_mode_queues (bench_options_t *options);

#endif
