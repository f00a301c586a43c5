/*  =========================================================================
    zg_tcpinfo - what the kernel knows of a TCP connection's traffic

    tcpi_bytes_received (Linux 4.1) counts every payload byte the kernel
    accepted on the connection; SIOCINQ the bytes of those the process has
    not read yet. Their difference is what libzmq has read: the watchdog of
    zg_connwatch compares it with what the actor has consumed. Outward,
    tcpi_bytes_acked (Linux 4.1) counts the bytes the peer acknowledged and
    SIOCOUTQ those still in the send queue (sent or not): their sum is what
    libzmq has written, which the watchdog compares with what the actor
    queued for the connection.
    =========================================================================
*/

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "zg_tcpinfo.h"

int
zg_tcpinfo_counts (int fd, zg_tcpinfo_counts_t *counts)
{
    assert (counts);
    struct tcp_info info;
    memset (&info, 0, sizeof info);
    socklen_t size = sizeof info;
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size) == -1)
        return -1;
    //  A kernel older than 4.1 fills less: the counts are not known
    if (size < offsetof (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
        errno = ENOTSUP;
        return -1;
    }
    int unread = 0, queued = 0;
    if (ioctl (fd, SIOCINQ, &unread) == -1 || ioctl (fd, SIOCOUTQ, &queued) == -1)
        return -1;
    counts->read = (uint64_t) info.tcpi_bytes_received - (uint64_t) unread;
    counts->written = (uint64_t) info.tcpi_bytes_acked + (uint64_t) queued;
    counts->queued = (uint64_t) queued;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_tcpinfo_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_tcpinfo: ");
    //  @selftest
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset (&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    assert (bind (listener, (struct sockaddr *) &address, sizeof address) == 0);
    assert (listen (listener, 1) == 0);
    assert (getsockname (listener, (struct sockaddr *) &address, &length) == 0);
    int client = socket (AF_INET, SOCK_STREAM, 0);
    assert (connect (client, (struct sockaddr *) &address, sizeof address) == 0);
    int server = accept (listener, NULL, NULL);
    assert (server >= 0);

    //  Bytes waiting in the kernel are not read yet; read ones count
    zg_tcpinfo_counts_t counts = { 99, 99, 99 };
    assert (zg_tcpinfo_counts (server, &counts) == 0);
    assert (counts.read == 0 && counts.written == 0 && counts.queued == 0);
    assert (send (client, "0123456789", 10, 0) == 10);
    char buffer [10];
    uint64_t received = 0;
    for (int attempt = 0; attempt < 100 && received < 10; attempt++) {
        int unread = 0;
        assert (ioctl (server, SIOCINQ, &unread) == 0);
        received = (uint64_t) unread;
        if (received < 10)
            usleep (1000);
    }
    assert (zg_tcpinfo_counts (server, &counts) == 0 && counts.read == 0);
    assert (recv (server, buffer, 4, 0) == 4);
    assert (zg_tcpinfo_counts (server, &counts) == 0 && counts.read == 4);
    assert (recv (server, buffer, 6, 0) == 6);
    assert (zg_tcpinfo_counts (server, &counts) == 0 && counts.read == 10);

    //  Written bytes count whether the peer has acknowledged them or not
    assert (send (server, "abcdef", 6, 0) == 6);
    assert (zg_tcpinfo_counts (server, &counts) == 0 && counts.written == 6 && counts.queued <= 6);
    for (int attempt = 0; attempt < 100 && counts.queued; attempt++) {
        usleep (1000);
        assert (zg_tcpinfo_counts (server, &counts) == 0 && counts.written == 6);
    }
    assert (counts.queued == 0);

    //  Not a TCP socket: an error, nothing read
    int pipes [2];
    assert (pipe (pipes) == 0);
    assert (zg_tcpinfo_counts (pipes [0], &counts) == -1 && counts.read == 10);
    close (pipes [0]);
    close (pipes [1]);
    close (server);
    close (client);
    close (listener);
    //  @end
    printf ("OK\n");
}
