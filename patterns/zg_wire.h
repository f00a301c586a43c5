/*  =========================================================================
    zg_wire - the framing every ROUTER actor shares: a received request
    with its frames bounded, sending [routing][parts...][payload] without
    blocking, ERROR answers with a clean one-line reason, frame comparison
    and strict decimal numbers

    Private to the pattern actors (queues, rooms). A request lives on the
    caller's stack or in its state and is reused: zg_wire_recv fills it,
    zg_wire_close empties it. Frames past ZG_WIRE_MAX_FRAMES are received
    and discarded, but counted, so the caller can refuse the message.
    =========================================================================
*/

#ifndef ZG_WIRE_H_INCLUDED
#define ZG_WIRE_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Most frames kept of a received message, routing id included
#define ZG_WIRE_MAX_FRAMES 8
//  Room for an error reason, its NUL included: longer reasons are cut
#define ZG_WIRE_REASON_SIZE 512
//  Room for a 64-bit number in decimal, sign and NUL included
#define ZG_WIRE_NUMBER_SIZE 22

//  One outgoing frame given by address: the bytes live until the send returns
typedef struct {
    const void *data;               //  Bytes
    size_t size;                    //  Their number
} zg_wire_part_t;

//  The envelope frame by which an in-process sender (the gateway) names the
//  holder its request's new names are charged to (zg_holder): the tag, then
//  the holder's key, before the command. Only in-process frames are read as
//  one: a networked peer's is an ordinary frame (an unknown command).
#define ZG_WIRE_HOLDER_TAG "$HOLDER "
//  Room for a holder's key, its NUL included
#define ZG_WIRE_HOLDER_SIZE 256

//  A received message: its frames and, read once, their bytes and sizes
typedef struct {
    zmq_msg_t frames [ZG_WIRE_MAX_FRAMES];      //  Routing id first
    const byte *data [ZG_WIRE_MAX_FRAMES];      //  Each kept frame's bytes
    size_t size [ZG_WIRE_MAX_FRAMES];           //  Each kept frame's size
    size_t count;                   //  Frames the message had: past
                                    //  ZG_WIRE_MAX_FRAMES the rest are gone
    size_t wire;                    //  Its bytes as framed on the wire, the
                                    //  routing id (made by the ROUTER) aside
    char holder [ZG_WIRE_HOLDER_SIZE];  //  The holder an in-process sender
                                    //  named in an envelope, or ""
} zg_wire_request_t;

//  Receive one message without waiting; returns 0, or -1 if none was
//  waiting (the request is then empty). The caller closes it. An
//  in-process holder envelope is taken off into holder.
int
    zg_wire_recv (zg_wire_request_t *self, void *handle);

//  Close the frames of a received request; it is empty after
void
    zg_wire_close (zg_wire_request_t *self);

//  Who sent a received frame (zg_security.h): its CURVE public key (the ZAP
//  User-Id), or "" for a networked peer that has no ZAP identity; NULL if it
//  came over inproc (no handshake, no properties)
const char *
    zg_wire_msg_identity (zmq_msg_t *frame);

//  Who sent the request: zg_wire_msg_identity of its first frame after the
//  routing id (which the ROUTER made, with no properties)
const char *
    zg_wire_identity (zg_wire_request_t *self);

//  Bytes a frame of size takes on the wire in ZMTP 3 without encryption:
//  a short (2-byte) or long (9-byte) header and the body
size_t
    zg_wire_framed_size (size_t size);

//  Frames kept of the request (count, at most ZG_WIRE_MAX_FRAMES)
size_t
    zg_wire_kept (zg_wire_request_t *self);

//  Whether frame index exists and holds exactly this text
bool
    zg_wire_is (zg_wire_request_t *self, size_t index, const char *text);

//  Frame index as a part, or an empty part if the request has no such frame
zg_wire_part_t
    zg_wire_frame (zg_wire_request_t *self, size_t index);

//  A C string as a part
zg_wire_part_t
    zg_wire_str (const char *string);

//  Send [routing][parts...][payload] without blocking (at least one part).
//  The payload, if any, is shared (zmq_msg_copy), not copied, and stays the
//  caller's. Returns 0, or -1 if libzmq refused the routing frame: the peer
//  is gone or at its HWM (the socket must be a ROUTER with ROUTER_MANDATORY
//  set), or it is an in-process peer past its bytes (zg_routebytes_bound).
int
    zg_wire_send (void *handle, zg_wire_part_t routing, const zg_wire_part_t *parts, size_t count,
                  zmq_msg_t *payload);

//  Format an error reason into reason (ZG_WIRE_REASON_SIZE bytes): cut to
//  fit, and every control byte replaced by '?', so a reason that quotes
//  client bytes stays one line
void
    zg_wire_reason (char *reason, const char *format, ...) CHECK_PRINTF (2);

//  The same, with a va_list, for the actors' own error helpers
void
    zg_wire_vreason (char *reason, const char *format, va_list args);

//  A refusal: *code = value and the reason as zg_wire_reason writes it;
//  returns -1, for a caller that answers with both
int
    zg_wire_refuse (int *code, int value, char *reason, const char *format, ...) CHECK_PRINTF (4);

//  Send [ERROR][req][code][reason]; code is a ZG_ERR_* of zg_errors.h and
//  reason one made by zg_wire_reason. Returns what zg_wire_send returns.
int
    zg_wire_error (void *handle, zg_wire_part_t routing, zg_wire_part_t req, int code, const char *reason);

//  Parse strict decimal: optional '-' then digits only, nothing else, in
//  [min, max]. Returns 0 and sets *value, or -1 and leaves it.
int
    zg_wire_parse_int (const void *data, size_t size, int64_t min, int64_t max, int64_t *value);

//  Parse strict unsigned decimal: digits only, at most max. Returns 0 and
//  sets *value, or -1 and leaves it.
int
    zg_wire_parse_uint (const void *data, size_t size, uint64_t max, uint64_t *value);

//  Write value in decimal into text (room for 21 bytes: 20 digits and the
//  NUL); returns its length. Cheaper than snprintf on hot paths.
size_t
    zg_wire_format_uint (uint64_t value, char *text);

//  Pack a json-c value as msgpack (objects as maps, arrays, strings,
//  integers; anything else as nil)
void
    zg_wire_pack_json (msgpack_packer *packer, json_object *value);

//  Self test of this class
void
    zg_wire_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
