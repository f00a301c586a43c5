/*  =========================================================================
    zg_rbatch - one release's DELIVERs to the members that chose rooms wire
    version 2: one message per connection, naming its members

    Private to zg_roomset. A release adds each version 2 member of the room
    (docs/PROTOCOL.md 3.8); members whose events go to the same connection
    (the same routing id) share one group, and send puts one
    [DELIVERS][room][seq][holders][observers][payload] on each connection,
    the two lists being client ids separated by single spaces. So a room of
    a thousand members on eight connections costs eight messages a release,
    not a thousand. The first group is found by comparing routing ids, the
    others in a hash keyed by a client of the group (hashing and comparing
    its routing id), so grouping allocates nothing once the buffers have
    grown; they are kept for the next release.
    =========================================================================
*/

#ifndef ZG_RBATCH_H_INCLUDED
#define ZG_RBATCH_H_INCLUDED

#include <czmq.h>
#include "zg_rclients.h"
#include "zg_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_rbatch_t zg_rbatch_t;

//  Create an empty batch
zg_rbatch_t *
    zg_rbatch_new (void);

//  Destroy a batch
void
    zg_rbatch_destroy (zg_rbatch_t **self_p);

//  Add a member of the release: a holder, or an observer if async
void
    zg_rbatch_add (zg_rbatch_t *self, zg_rclient_t *client, bool async);

//  Members added since the last send
size_t
    zg_rbatch_members (zg_rbatch_t *self);

//  Send one DELIVERS per connection on the ROUTER handle (the payload is
//  shared, and stays the caller's) and empty the batch; returns how many
//  messages libzmq refused (a gone or full peer)
size_t
    zg_rbatch_send (zg_rbatch_t *self, void *handle, zg_wire_part_t room, zg_wire_part_t seq, zmq_msg_t *payload);

//  Self test of this class
void
    zg_rbatch_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
