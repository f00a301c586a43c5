/*  =========================================================================
    zg_member - native room member: one logical client that joins rooms,
    receives their messages with an ack handle, and is told when evicted
    (docs/PROTOCOL.md, "Rooms")

    The member pings zgate for you: every call that waits (zg_member_recv,
    join, leave) sends a PING whenever ping-interval has passed since the
    last command, so a program that keeps calling zg_member_recv stays alive
    in all its rooms. A program that stops calling it for client-timeout is
    evicted, which is the point: a stuck member must not block its rooms.

        zg_member_t *member = zg_member_new ("tcp://127.0.0.1:5564", 1000);
        zg_member_join (member, "lobby", false);
        while (true) {
            const char *event = zg_member_recv (member, -1);
            if (streq (event, "DELIVER")) {
                //  ... use zg_member_payload (member), then:
                zg_member_ack (member, zg_member_room (member), zg_member_token (member));
            }
            else
            if (streq (event, "EVICTED"))
                break;
        }
        zg_member_destroy (&member);
    =========================================================================
*/

#ifndef ZG_MEMBER_H_INCLUDED
#define ZG_MEMBER_H_INCLUDED

#include <czmq.h>
#include "zg_room_producer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_member_t zg_member_t;

//  Connect to zgate's rooms endpoint and obtain a client id; ping_interval in
//  ms should be well under zgate's client-timeout. Returns NULL if the
//  endpoint is invalid or zgate does not answer within 5 seconds.
zg_member_t *
    zg_member_new (const char *endpoint, int ping_interval);

//  The same, as a CURVE client of a zgate that runs security: client_cert and
//  server_key as zg_curve_secure takes them (NULL client_cert: plain). Also
//  NULL if a certificate cannot be read.
zg_member_t *
    zg_member_new_secure (const char *endpoint, int ping_interval, const char *client_cert,
                          const char *server_key);

//  Leave every room (BYE) and destroy the member
void
    zg_member_destroy (zg_member_t **self_p);

//  The client id zgate issued
const char *
    zg_member_id (zg_member_t *self);

//  Join a room, as an observer if async (messages without ack handle, never
//  waited for). Returns 0, or -1 (see zg_member_error)
int
    zg_member_join (zg_member_t *self, const char *room, bool async);

//  Leave a room. Returns 0, or -1 if not a member
int
    zg_member_leave (zg_member_t *self, const char *room);

//  Wait for the next event at most timeout ms (-1 for ever), pinging as
//  needed. Returns "DELIVER" (a room message), "OOB", "EVICTED", "TIMEOUT"
//  (an observer hears of another member's eviction), "ERROR" (a request sent
//  without answer failed), or NULL on timeout or interrupt. The accessors
//  below describe the event until the next call.
const char *
    zg_member_recv (zg_member_t *self, int timeout);

//  Room of the last event
const char *
    zg_member_room (zg_member_t *self);

//  Ack handle of the last DELIVER: pass it to zg_member_ack; "" for observers
const char *
    zg_member_token (zg_member_t *self);

//  Sequence number of the last DELIVER
uint64_t
    zg_member_seq (zg_member_t *self);

//  Payload of the last DELIVER or OOB; owned by the member
zframe_t *
    zg_member_payload (zg_member_t *self);

//  EVICTED: "timeout" or "ack-timeout"; TIMEOUT: the evicted client id;
//  ERROR: "<code> <reason>"
const char *
    zg_member_reason (zg_member_t *self);

//  The rooms protocol version zgate chose when the member asked for 2
//  (docs/PROTOCOL.md 3.8): 2, where a release comes as one DELIVERS that
//  recv reads as a DELIVER, or 1 from a zgate that speaks only version 1
int
    zg_member_version (zg_member_t *self);

//  Ack a room message, without waiting for an answer (a refused ack comes
//  back as an "ERROR" event). Returns 0, or -1 if it cannot be sent
int
    zg_member_ack (zg_member_t *self, const char *room, const char *token);

//  The last error of join or leave, as "<code> <reason>" (zg_room_producer_error)
const char *
    zg_member_error (zg_member_t *self);

//  Code of the last error of join or leave (the codes of zg_errors.h)
int
    zg_member_code (zg_member_t *self);

//  The member's connection, to send, peek, read state or metrics on it too
zg_room_producer_t *
    zg_member_producer (zg_member_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_member_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
