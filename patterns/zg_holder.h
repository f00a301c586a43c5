/*  =========================================================================
    zg_holder - who the names a request makes (queues, commands, rooms) are
    charged to, and the bound on the names one holder may hold

    A name made by a request is charged to its sender, as zg_slots names
    holders: with security on its identity (every connection of one
    certificate shares the bound), else its connection. The gateway's web
    clients share its one in-process connection to each actor, so the
    gateway names each request's holder itself (its client's address, or
    its authenticated subject) in an envelope frame (zg_wire_recv). An
    in-process request without one comes from trusted code (the embedding
    program) and is charged to nobody, as are names restored from a durable
    store and the dead-letter queues zgate makes itself.
    =========================================================================
*/

#ifndef ZG_HOLDER_H_INCLUDED
#define ZG_HOLDER_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_slots.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The sender of a request, to be named only if the request makes a name
typedef struct {
    zg_wire_request_t *request;     //  The request
    bool by_identity;               //  Security on: its identity holds the names
} zg_holder_t;

//  The key of the holder (freed by the caller), or NULL if nobody is
//  charged: holder is NULL, or the request came in-process with no
//  holder named by the gateway
char *
    zg_holder_key (const zg_holder_t *holder);

//  Whether key (NULL: nobody) may take count more slots of slots within
//  limit; if not, ZG_ERR_TOO_MANY and the reason "too many <what> for one
//  <identity|connection|address> (<setting> <limit>)", else 0
int
    zg_holder_admit (zg_slots_t *slots, const char *key, size_t count, int64_t limit, const char *what,
                     const char *setting, char *reason);

//  Charge a new name to key (NULL: nobody): a slot of slots, whatever the
//  bound (the caller admitted it), and the name's own copy of the key in
//  *name_key_p
void
    zg_holder_charge (zg_slots_t *slots, const char *key, char **name_key_p);

//  The name is forgotten: its holder's slot goes back and its key is freed
void
    zg_holder_release (zg_slots_t *slots, char **name_key_p);

//  Self test of this class
void
    zg_holder_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
