/*  =========================================================================
    zg_origins - which browser pages may use the gateway: the Origin
    decisions of WebSocket upgrades and of CORS headers

    A page may open a WebSocket if its Origin is the gateway's own (the
    dashboard: scheme://Host) or listed in gateway/allowed-origins ("*":
    any); a request without Origin is not a browser's and is not concerned.
    HTTP replies carry CORS headers for a listed (or the gateway's own)
    Origin, and only once a list is set. The guard asks it with the
    headers it read off the connection; the fuzz target asks it directly.

    Private to the gateway; runs in its lws thread.
    =========================================================================
*/

#ifndef ZG_ORIGINS_H_INCLUDED
#define ZG_ORIGINS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_origins_t zg_origins_t;

//  Create the list, empty: the gateway's own pages only
zg_origins_t *
    zg_origins_new (void);

//  Destroy it
void
    zg_origins_destroy (zg_origins_t **self_p);

//  Replace the list: origins separated by spaces, tabs or commas, "*" for
//  any
void
    zg_origins_set (zg_origins_t *self, const char *list);

//  Origins listed
size_t
    zg_origins_size (zg_origins_t *self);

//  Whether a WebSocket upgrade with these Origin and Host headers (NULL:
//  absent) may open
bool
    zg_origins_upgrade (zg_origins_t *self, const char *origin, const char *host);

//  Whether an HTTP reply to a request with these Origin and Host headers
//  (NULL: absent) carries CORS headers allowing that Origin
bool
    zg_origins_cors (zg_origins_t *self, const char *origin, const char *host);

//  Self test of this class
void
    zg_origins_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
