/*  =========================================================================
    zg_curve - makes a libzgclient connection a CURVE client of a zgate
    that runs security (docs/PROTOCOL.md, section 5)

    Every client class has a _new_secure constructor that takes the two
    paths below and calls this before it connects (libzmq takes a socket's
    CURVE options when it connects):

        zg_producer_t *producer = zg_producer_new_secure ("tcp://zgate:5562",
            "alice.cert_secret", "server.cert");
    =========================================================================
*/

#ifndef ZG_CURVE_H_INCLUDED
#define ZG_CURVE_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Make socket, not yet connected, a CURVE client. client_cert is the path
//  of the client's certificate with its secret key (zgate-keygen's
//  NAME.cert_secret); server_key is the server's public key, as Z85 text
//  (40 characters) or the path of its public certificate. A NULL
//  client_cert leaves the socket plain. Returns 0, or -1 (with a warning in
//  the log) if a certificate cannot be read or lacks its key.
int
    zg_curve_secure (zsock_t *socket, const char *client_cert, const char *server_key);

//  Self test of this class
void
    zg_curve_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
