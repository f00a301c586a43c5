/*  =========================================================================
    bench_rooms - zg_bench rooms: M members of one room ack every round
    =========================================================================
*/

#ifndef BENCH_ROOMS_H_INCLUDED
#define BENCH_ROOMS_H_INCLUDED

#include "bench_common.h"

//  Run the rooms mode with these options (zg_bench's usage)
void
    bench_rooms_mode (bench_options_t *options);

#endif
