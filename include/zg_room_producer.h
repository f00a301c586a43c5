/*  =========================================================================
    zg_room_producer - native rooms client: send, send out-of-band, peek,
    room state, metrics and room options (docs/PROTOCOL.md, "Rooms")

    One DEALER connection to zgate's rooms endpoint. Every request waits for
    its answer (matched by correlation id) at most the timeout given to the
    constructor. Map answers (PEEK, STATE, METRICS) are msgpack maps; they are
    unpacked into the caller's msgpack_unpacked and stay valid until the next
    request on this producer.

        zg_room_producer_t *producer = zg_room_producer_new ("tcp://127.0.0.1:5564", 2000);
        uint64_t seq;
        zg_room_producer_send (producer, "lobby", 0, "hello", 5, &seq);
        zg_room_producer_destroy (&producer);
    =========================================================================
*/

#ifndef ZG_ROOM_PRODUCER_H_INCLUDED
#define ZG_ROOM_PRODUCER_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_room_producer_t zg_room_producer_t;

//  Events kept while requests wait for their answers
#define ZG_ROOM_PRODUCER_MAX_EVENTS 100000

//  Connect to zgate's rooms endpoint; timeout bounds each request, in ms.
//  Returns NULL if the endpoint is invalid.
zg_room_producer_t *
    zg_room_producer_new (const char *endpoint, int timeout);

//  The same, as a CURVE client of a zgate that runs security: client_cert and
//  server_key as zg_curve_secure takes them (NULL client_cert: plain). Also
//  NULL if a certificate cannot be read.
zg_room_producer_t *
    zg_room_producer_new_secure (const char *endpoint, int timeout, const char *client_cert,
                                 const char *server_key);

//  Destroy the producer
void
    zg_room_producer_destroy (zg_room_producer_t **self_p);

//  Queue a message in a room with a priority (higher first, unless the room
//  is configured lowest-first). Returns 0 and the message's seq (if seq_p is
//  not NULL), or -1 (see zg_room_producer_error)
int
    zg_room_producer_send (zg_room_producer_t *self, const char *room, int64_t priority,
                           const void *data, size_t size, uint64_t *seq_p);

//  Send a message out-of-band to every current member of a room. Returns the
//  number of members reached, or -1
int
    zg_room_producer_send_oob (zg_room_producer_t *self, const char *room, const void *data, size_t size);

//  Pending messages of a room, in release order; limit 0 means zgate's maximum.
//  Returns 0 with the answer map in result, or -1
int
    zg_room_producer_peek (zg_room_producer_t *self, const char *room, size_t offset, size_t limit,
                           msgpack_unpacked *result);

//  State of a room (backlog, in-flight message, members, acks). Returns 0 or -1
int
    zg_room_producer_state (zg_room_producer_t *self, const char *room, msgpack_unpacked *result);

//  Metrics: rooms, clients, the top rooms by backlog. Returns 0 or -1
int
    zg_room_producer_metrics (zg_room_producer_t *self, size_t top, msgpack_unpacked *result);

//  Set a room's options: hold (0 or 1, -1 to keep) and ack timeout in ms
//  (0 to keep). Returns 0 or -1
int
    zg_room_producer_configure (zg_room_producer_t *self, const char *room, int hold, int64_t ack_timeout);

//  Send a request (frames after the correlation id, which this adds) and wait
//  for its answer. Returns the answer's frames after [OK][req], or NULL on
//  ERROR or timeout. Events that arrive meanwhile (and errors of requests
//  sent without correlation id) are kept for zg_room_producer_event.
zmsg_t *
    zg_room_producer_request (zg_room_producer_t *self, const char *command, zmsg_t **fields_p);

//  The oldest event kept while a request waited, or NULL; the caller destroys
//  it. At most ZG_ROOM_PRODUCER_MAX_EVENTS are kept, the oldest dropped first.
zmsg_t *
    zg_room_producer_event (zg_room_producer_t *self);

//  The last error as "<code> <reason>": zgate's ERROR, or 408 when zgate did
//  not answer in time, 503 when the request could not be sent, 502 for a
//  malformed answer (the codes of zg_errors.h)
const char *
    zg_room_producer_error (zg_room_producer_t *self);

//  Code of the last error
int
    zg_room_producer_code (zg_room_producer_t *self);

//  Reason of the last error
const char *
    zg_room_producer_reason (zg_room_producer_t *self);

//  The value of key in a msgpack map, or NULL
msgpack_object *
    zg_room_producer_map_get (msgpack_object *map, const char *key);

//  The DEALER socket, to poll it or to send requests without answers
zsock_t *
    zg_room_producer_socket (zg_room_producer_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_room_producer_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
