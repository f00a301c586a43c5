/*  =========================================================================
    zg_rclients - the rooms actor's logical clients: issued ids, the
    connection each was last heard on, and their order of last contact

    Private to zg_rooms. HELLO adds a client with a fresh id; every command
    that names a client touches it, which moves its events to the connection
    it spoke on and puts it at the recent end of its liveness list
    (zg_liveness), so the client silent the longest is always the head and
    expiry never scans. Lookups change nothing: only touch does.

    Fields: zg_rclients writes id, routing and liveness; zg_room writes the
    membership fields (members, rooms, last_member); the actor only reads.
    =========================================================================
*/

#ifndef ZG_RCLIENTS_H_INCLUDED
#define ZG_RCLIENTS_H_INCLUDED

#include <czmq.h>
#include "zg_liveness.h"
#include "zg_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Longest client id the registry issues, plus its terminator
#define ZG_RCLIENTS_ID_SIZE 48
//  Highest rooms protocol version a HELLO may choose (docs/PROTOCOL.md 3.8):
//  2 batches the DELIVERs of one release per connection
#define ZG_RCLIENTS_VERSION 2

typedef struct _zg_rclients_t zg_rclients_t;
typedef struct _zg_rclient_t zg_rclient_t;
typedef struct _zg_rmember_t zg_rmember_t;

//  A logical client, owned by the registry
struct _zg_rclient_t {
    char *id;                       //  Issued by zg_rclients_add
    size_t id_size;                 //  Its length, sent with every event
    byte *routing;                  //  Routing id of the connection last heard from
    size_t routing_size;            //  Its size
    char *owner;                    //  Identity that made it (security on), or NULL:
                                    //  only its own connection may name it
    char *slot;                     //  Holder it counts against (zg_slots), or NULL
                                    //  (made over inproc: the gateway's web sessions)
    zg_liveness_node_t liveness;    //  Monotonic ms of the last command naming it,
                                    //  in the registry's liveness list
    int64_t last_seen_wall;         //  The same, ms since the epoch
    zg_rmember_t *members;          //  Its memberships (zg_room)
    size_t rooms;                   //  Number of memberships (zg_room)
    zg_rmember_t *last_member;      //  Membership it last named, or NULL (zg_room):
                                    //  acks name the same one round after round
    int version;                    //  Rooms protocol version its HELLO chose (1 or 2)
    size_t batch_group;             //  zg_rbatch: its connection's group at the last
                                    //  release, where the next one looks first
};

//  Create an empty registry; ids start with a random process tag, so they
//  stay unique across restarts
zg_rclients_t *
    zg_rclients_new (void);

//  Destroy the registry and every client in it; memberships are not
//  touched (destroy the rooms first)
void
    zg_rclients_destroy (zg_rclients_t **self_p);

//  Add a client with a fresh id, heard from now on this connection (the
//  caller checks the limits)
zg_rclient_t *
    zg_rclients_add (zg_rclients_t *self, const void *routing, size_t routing_size, int64_t now);

//  HELLO: a client with a fresh id for this connection, at most max_clients
//  in all and, for a networked peer, max_per_holder per holder: its
//  identity (zg_wire_identity: NULL over inproc, "" for a peer with none)
//  if owned (security on: the identity also owns the client), else its
//  connection. NULL past a limit, with a ZG_ERR_* code and a reason
//  (ZG_WIRE_REASON_SIZE bytes), and nothing changed
zg_rclient_t *
    zg_rclients_hello (zg_rclients_t *self, const void *routing, size_t routing_size, const char *identity,
                       bool owned, int64_t max_clients, int64_t max_per_holder, int64_t now, int *code,
                       char *reason);

//  The client with this id, or NULL; an id with a NUL in it is no id
zg_rclient_t *
    zg_rclients_lookup (zg_rclients_t *self, const void *id, size_t id_size);

//  The client with this id if the request (its connection, and its identity
//  if the client has an owner) may name it (zg_rclients_may_name); else
//  NULL with a ZG_ERR_* code (404 unknown, 403 another's) and a reason
//  (ZG_WIRE_REASON_SIZE bytes). Changes nothing: the caller touches it
zg_rclient_t *
    zg_rclients_named (zg_rclients_t *self, const void *id, size_t id_size, zg_wire_request_t *request, int *code,
                       char *reason);

//  The client was heard from now on this connection: its events go there
//  from now on, and it becomes the most recent in the liveness list
void
    zg_rclients_touch (zg_rclients_t *self, zg_rclient_t *client,
                       const void *routing, size_t routing_size, int64_t now);

//  The client belongs to this identity (an authenticated one): a connection
//  of the same identity may name it too (a reconnected client)
void
    zg_rclients_set_owner (zg_rclient_t *client, const char *identity);

//  Whether a request from this connection and identity may name the client:
//  its owner's identity, or, if it has none, the connection that made it
//  (a client id is not a bearer token)
bool
    zg_rclients_may_name (zg_rclient_t *client, const void *routing, size_t routing_size, const char *identity);

//  The client silent the longest if it has been silent for timeout ms at
//  now, else NULL; it stays registered until removed
zg_rclient_t *
    zg_rclients_expired (zg_rclients_t *self, int64_t now, int64_t timeout);

//  Monotonic ms when the client silent the longest times out, or INT64_MAX
int64_t
    zg_rclients_next_deadline (zg_rclients_t *self, int64_t timeout);

//  Forget and free a client, giving its slot back; it must have no
//  memberships left
void
    zg_rclients_remove (zg_rclients_t *self, zg_rclient_t **client_p);

//  Clients in the registry
size_t
    zg_rclients_size (zg_rclients_t *self);

//  Self test of this class
void
    zg_rclients_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
