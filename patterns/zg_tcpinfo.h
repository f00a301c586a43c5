/*  =========================================================================
    zg_tcpinfo - what the kernel knows of a TCP connection's input: bytes
    received in all, and bytes still waiting in its receive buffer

    Its own file because the kernel's struct tcp_info (linux/tcp.h, with
    tcpi_bytes_received) and glibc's (netinet/tcp.h, which czmq includes,
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

//  Bytes a TCP socket has received since it was opened, less those still
//  unread in the kernel's receive buffer: what the process has read from it.
//  Returns 0, or -1 if fd is not a TCP socket (errno says why)
int
    zg_tcpinfo_read (int fd, uint64_t *bytes);

//  Self test of this class
void
    zg_tcpinfo_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
