/*  =========================================================================
    zg_gw_message - a topic message on its way to web subscribers, and its
    frame: {"op":"message","topic":t,["seq":n,["epoch":e,]]["binary":true,]
    "data":v} in JSON or msgpack, written directly (the bytes json-c and
    the codec would print for that object, without building it)

    A message is a value on the caller's stack: the topics bridge fills one
    per message from the topics actor, and one per recovered message. Its
    payload is classified once, when its first frame is built, and its
    sequence number read from its digits only when a frame needs it.
    Private to the gateway, used by the topics bridge.
    =========================================================================
*/

#ifndef ZG_GW_MESSAGE_H_INCLUDED
#define ZG_GW_MESSAGE_H_INCLUDED

#include "zg_codec.h"
#include "zg_session.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A topic message; the strings and payload stay the caller's. Put value
//  (json_object_put) when done with it
typedef struct {
    const char *topic;              //  The topic
    const byte *payload;            //  The native payload
    size_t payload_size;            //  Bytes in payload
    bool classified;                //  kind and value are set
    zg_codec_kind_t kind;           //  What the payload is on the web
    json_object *value;             //  Its value if it is JSON, or NULL
    uint64_t seq;                   //  Its sequence number, 0 if not known (yet)
    const char *epoch;              //  Its topic's epoch, if seq
    bool with_epoch;                //  Its frames carry the epoch
    const char *digits;             //  seq in decimal as received, or NULL (then seq is known)
    size_t digit_count;             //  Characters in digits
} zg_gw_message_t;

//  Whether a message has a sequence number: its topic keeps history
bool
    zg_gw_message_remembered (const zg_gw_message_t *self);

//  Its sequence number, read from its digits when first needed
uint64_t
    zg_gw_message_seq (zg_gw_message_t *self);

//  The frame of the message in one encoding, new (the caller's), built in
//  the buffer out
zg_frame_t *
    zg_gw_message_frame (zg_gw_message_t *self, zg_codec_t *codec, msgpack_sbuffer *out, bool msgpack);

//  Self test of this class
void
    zg_gw_message_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
