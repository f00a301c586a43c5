/*  =========================================================================
    zg_gw_peers - WebSocket sessions per client address, so that one client
    cannot take all of gateway/max-sessions

    The gateway asks before it accepts an upgrade, adds the session's address
    once it is established and removes it when the session closes. Behind a
    proxy every session has the proxy's address: set the limit to
    max-sessions there.
    =========================================================================
*/

#ifndef ZG_GW_PEERS_H_INCLUDED
#define ZG_GW_PEERS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Longest address kept (IPv6 text and a zone)
#define ZG_GW_PEERS_ADDRESS_SIZE 64

typedef struct _zg_gw_peers_t zg_gw_peers_t;

//  Create an empty table
zg_gw_peers_t *
    zg_gw_peers_new (void);

//  Destroy it
void
    zg_gw_peers_destroy (zg_gw_peers_t **self_p);

//  Whether one more session from address stays within limit
bool
    zg_gw_peers_admit (zg_gw_peers_t *self, const char *address, int64_t limit);

//  A session from address was established
void
    zg_gw_peers_add (zg_gw_peers_t *self, const char *address);

//  A session from address closed (it was added)
void
    zg_gw_peers_remove (zg_gw_peers_t *self, const char *address);

//  Sessions from address now
size_t
    zg_gw_peers_sessions (zg_gw_peers_t *self, const char *address);

//  Distinct addresses with a session
size_t
    zg_gw_peers_size (zg_gw_peers_t *self);

//  Self test of this class
void
    zg_gw_peers_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
