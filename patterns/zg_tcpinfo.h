/*  =========================================================================
    zg_tcpinfo - what the kernel knows of a TCP connection's traffic: bytes
    received in all and still waiting in its receive buffer, bytes the
    peer acknowledged and still in its send queue

    Its own file because the kernel's struct tcp_info (linux/tcp.h, with
    tcpi_bytes_received and tcpi_bytes_acked) and glibc's (netinet/tcp.h, which czmq includes,
    without it) cannot meet in one translation unit.
    =========================================================================
*/

#ifndef ZG_TCPINFO_H_INCLUDED
#define ZG_TCPINFO_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A TCP connection's counts
typedef struct {
    uint64_t read;                  //  Bytes the process has read from it
    uint64_t written;               //  Bytes the process has written to it
    uint64_t queued;                //  Of those, bytes still in its send queue
} zg_tcpinfo_counts_t;

//  What the process has read from a TCP socket (received since it opened,
//  less what is unread in the receive buffer) and written to it (the bytes
//  the peer acknowledged, plus the send queue). Returns 0, or -1 if fd is
//  not a TCP socket (errno says why), counts unchanged
int
    zg_tcpinfo_counts (int fd, zg_tcpinfo_counts_t *counts);

//  Self test of this class
void
    zg_tcpinfo_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
