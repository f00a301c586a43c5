/*  =========================================================================
    zg_racks - ACKS: one request acks a room's message in flight for many
    holders (rooms protocol version 2, docs/PROTOCOL.md 3.8)

    Private to zg_rooms. A connection that carries many members acks a
    release with one [ACKS][req][room][token][clients] instead of one ACK
    per member, the clients being ids separated by single spaces. The batch
    is checked whole before anything changes: every client is known, may be
    named by the sender (as for ACK), is a holder of the message in flight
    that has not acked it, and is named once; then every client is touched
    (a sign of life, as ACK) and acked. A refused batch changes nothing, not
    even a client's last-seen time.
    =========================================================================
*/

#ifndef ZG_RACKS_H_INCLUDED
#define ZG_RACKS_H_INCLUDED

#include <czmq.h>
#include "zg_room.h"
#include "zg_rclients.h"
#include "zg_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_racks_t zg_racks_t;

//  Create a checker (it reuses its array of memberships from batch to batch)
zg_racks_t *
    zg_racks_new (void);

//  Destroy it
void
    zg_racks_destroy (zg_racks_t **self_p);

//  ACKS [routing][ACKS][req][room][token][clients] for room (NULL if it
//  does not exist), received at now: checks the batch whole (see above),
//  then touches and acks every client in it, adding their number to
//  *acked. Returns 0, or a ZG_ERR_* code with a reason (ZG_WIRE_REASON_SIZE
//  bytes) naming the first client refused, and nothing changed
int
    zg_racks_ack (zg_racks_t *self, zg_rclients_t *clients, zg_room_t *room, zg_wire_request_t *request, int64_t now,
                  uint64_t *acked, char *reason);

//  Self test of this class
void
    zg_racks_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
