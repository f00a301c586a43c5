/*  =========================================================================
    zg_gw_message - a topic message on its way to web subscribers, and its
    frame, written directly in JSON or msgpack
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_message.h"
#include "zg_wire.h"

//  --------------------------------------------------------------------------
//  Whether a message has a sequence number: its topic keeps history

bool
zg_gw_message_remembered (const zg_gw_message_t *self)
{
    return self->seq || self->digits;
}

//  --------------------------------------------------------------------------
//  Its sequence number, read from its digits when first needed: a JSON
//  push copies the digits, only msgpack pushes and recoveries need it

uint64_t
zg_gw_message_seq (zg_gw_message_t *self)
{
    if (!self->seq && self->digits)
        zg_wire_parse_uint (self->digits, self->digit_count, UINT64_MAX, &self->seq);
    return self->seq;
}

//  --------------------------------------------------------------------------
//  The frame of {"op":"message","topic":t,["seq":n,["epoch":e,]]["binary":true,]
//  "data":v}, written directly: the bytes zg_codec_encode would print for
//  that object

zg_frame_t *
zg_gw_message_frame (zg_gw_message_t *self, zg_codec_t *codec, msgpack_sbuffer *out, bool msgpack)
{
    if (!self->classified) {
        self->kind = zg_codec_payload_kind (codec, self->payload, self->payload_size, &self->value);
        self->classified = true;
    }
    bool binary = self->kind == ZG_CODEC_BINARY;
    msgpack_sbuffer_clear (out);
    if (msgpack) {
        //  A map of three to six pairs, its keys and values fixed-size strings
        char pairs = (char) (0x83 + (binary? 1: 0) + (zg_gw_message_remembered (self)? 1: 0)
                           + (self->with_epoch? 1: 0));
        msgpack_sbuffer_write (out, &pairs, 1);
        msgpack_sbuffer_write (out, "\xa2op\xa7message\xa5topic", 17);
        zg_codec_encode_string (self->topic, strlen (self->topic), true, out);
        if (zg_gw_message_remembered (self)) {
            msgpack_packer packer;
            msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
            msgpack_sbuffer_write (out, "\xa3seq", 4);
            msgpack_pack_uint64 (&packer, zg_gw_message_seq (self));
        }
        if (self->with_epoch) {
            msgpack_sbuffer_write (out, "\xa5" "epoch", 6);
            zg_codec_encode_string (self->epoch, strlen (self->epoch), true, out);
        }
        if (binary)
            msgpack_sbuffer_write (out, "\xa6" "binary\xc3", 8);
        msgpack_sbuffer_write (out, "\xa4" "data", 5);
    }
    else {
        msgpack_sbuffer_write (out, "{\"op\":\"message\",\"topic\":", 24);
        zg_codec_encode_string (self->topic, strlen (self->topic), false, out);
        if (zg_gw_message_remembered (self)) {
            //  The digits of the sequence frame, when there is one, are the
            //  number's decimal form already
            char seq [ZG_WIRE_NUMBER_SIZE];
            msgpack_sbuffer_write (out, ",\"seq\":", 7);
            if (self->digits)
                msgpack_sbuffer_write (out, self->digits, self->digit_count);
            else
                msgpack_sbuffer_write (out, seq, zg_wire_format_uint (self->seq, seq));
        }
        if (self->with_epoch) {
            msgpack_sbuffer_write (out, ",\"epoch\":", 9);
            zg_codec_encode_string (self->epoch, strlen (self->epoch), false, out);
        }
        if (binary)
            msgpack_sbuffer_write (out, ",\"binary\":true", 14);
        msgpack_sbuffer_write (out, ",\"data\":", 8);
    }
    zg_codec_encode_payload (codec, self->kind, self->value, self->payload, self->payload_size, msgpack, out);
    if (!msgpack)
        msgpack_sbuffer_write (out, "}", 1);
    return zg_frame_new ((const byte *) out->data, out->size, msgpack);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_gw_message_test (bool verbose)
{
    printf (" * zg_gw_message: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    //  A message frame written directly holds the bytes the json-c object
    //  of that message encodes to, for payloads of every kind, both ways
    zg_codec_t *codec = zg_codec_new (8);
    msgpack_sbuffer encoded, expected;
    msgpack_sbuffer_init (&encoded);
    msgpack_sbuffer_init (&expected);
    const char *payloads [] = { "{\"t\": [21, \"a/b\"]}", "null", "text \"quoted\"\n", "\xff\x00\x01", NULL };
    for (int index = 0; payloads [index]; index++)
        for (int msgpack = 0; msgpack < 2; msgpack++) {
            size_t size = index == 3? 3: strlen (payloads [index]);
            //  Every other one carries a sequence number, as a remembered topic's:
            //  a known one, or (the last) the digits of a sequence frame
            zg_gw_message_t item = { "t/\"x\"", (const byte *) payloads [index], size, false, ZG_CODEC_JSON,
                                     NULL, (uint64_t) (index == 1) * 70000, "00ff00ff00ff00ff", index == 1,
                                     index == 3? "70000": NULL, 5 };
            zg_frame_t *frame = zg_gw_message_frame (&item, codec, &encoded, msgpack);
            json_object *message = json_object_new_object ();
            json_object_object_add (message, "op", json_object_new_string ("message"));
            json_object_object_add (message, "topic", json_object_new_string (item.topic));
            if (zg_gw_message_remembered (&item)) {
                json_object_object_add (message, "seq", json_object_new_uint64 (zg_gw_message_seq (&item)));
                if (item.with_epoch)
                    json_object_object_add (message, "epoch", json_object_new_string (item.epoch));
            }
            json_object *value = zg_codec_payload_value (codec, item.payload, size);
            if (zg_codec_is_binary (value))
                json_object_object_add (message, "binary", json_object_new_boolean (1));
            json_object_object_add (message, "data", value);
            msgpack_sbuffer_clear (&expected);
            zg_codec_encode (codec, message, msgpack, &expected);
            zg_frame_t *reference = zg_frame_new ((const byte *) expected.data, expected.size, msgpack);
            assert (frame->size == reference->size && memcmp (frame->data, reference->data, frame->size) == 0);
            zg_frame_unref (&reference);
            zg_frame_unref (&frame);
            json_object_put (message);
            json_object_put (item.value);
        }
    msgpack_sbuffer_destroy (&encoded);
    msgpack_sbuffer_destroy (&expected);
    zg_codec_destroy (&codec);
    //  @end
    printf ("OK\n");
}
