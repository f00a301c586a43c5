/*  =========================================================================
    zg_process - this process' resource figures, read from /proc/self

    The figures behind Prometheus' standard process_* metrics, in base
    units. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_PROCESS_H_INCLUDED
#define ZG_PROCESS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double cpu_seconds;             //  User and system CPU time spent
    double resident_bytes;          //  Resident memory size
    double virtual_bytes;           //  Virtual memory size
    double open_fds;                //  Open file descriptors
    double max_fds;                 //  Soft limit of open file descriptors, -1 if none
    double start_time_seconds;      //  Start time, seconds since the epoch
} zg_process_t;

//  Read the figures of the calling process; false (and nothing changed) if
//  /proc cannot be read
bool
    zg_process_read (zg_process_t *self);

//  Self test of this class
void
    zg_process_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
