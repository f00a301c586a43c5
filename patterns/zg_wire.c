/*  =========================================================================
    zg_wire - the framing every ROUTER actor shares

    One implementation of what queues and rooms both need on their sockets,
    so that a request is bounded, an answer never blocks the actor and an
    ERROR reads the same everywhere.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_routebytes.h"

//  --------------------------------------------------------------------------
//  If frame 1 of the kept frames is an in-process holder envelope, take it
//  off: its key goes into holder and the frames after it move down. The
//  bytes are asked first (most messages start with a command, not '$'),
//  then the frame's properties, which cost a search

static void
s_take_holder_envelope (zg_wire_request_t *self)
{
    size_t tag = strlen (ZG_WIRE_HOLDER_TAG);
    size_t size = self->size [1];
    if (self->count < 3 || self->count > ZG_WIRE_MAX_FRAMES
    ||  size <= tag || size - tag >= ZG_WIRE_HOLDER_SIZE || self->data [1][0] != '$'
    ||  memcmp (self->data [1], ZG_WIRE_HOLDER_TAG, tag) != 0
    ||  memchr (self->data [1] + tag, 0, size - tag)
    ||  zg_wire_msg_identity (&self->frames [1]) != NULL)
        return;
    memcpy (self->holder, self->data [1] + tag, size - tag);
    self->holder [size - tag] = 0;
    self->wire -= zg_wire_framed_size (size);
    zmq_msg_close (&self->frames [1]);
    for (size_t index = 1; index + 1 < self->count; index++) {
        zmq_msg_init (&self->frames [index]);
        zmq_msg_move (&self->frames [index], &self->frames [index + 1]);
        //  A small message's bytes live inside it: they moved too
        self->data [index] = (const byte *) zmq_msg_data (&self->frames [index]);
        self->size [index] = self->size [index + 1];
    }
    zmq_msg_close (&self->frames [--self->count]);
}

//  --------------------------------------------------------------------------
//  Receive one message without waiting; returns 0, or -1 if none was waiting

int
zg_wire_recv (zg_wire_request_t *self, void *handle)
{
    assert (self);
    zmq_msg_t *frames = self->frames;
    self->count = 0;
    zmq_msg_init (&frames [0]);
    if (zmq_msg_recv (&frames [0], handle, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&frames [0]);
        return -1;
    }
    size_t count = 1;
    bool more = zmq_msg_more (&frames [0]);
    while (more && count < ZG_WIRE_MAX_FRAMES) {
        zmq_msg_init (&frames [count]);
        if (zmq_msg_recv (&frames [count], handle, 0) == -1) {
            zmq_msg_close (&frames [count]);
            more = false;           //  Context terminated mid-message
            break;
        }
        more = zmq_msg_more (&frames [count]);
        count++;
    }
    //  Read each frame's bytes and size once, for every check that follows
    self->wire = 0;
    for (size_t index = 0; index < count; index++) {
        self->data [index] = (const byte *) zmq_msg_data (&frames [index]);
        self->size [index] = zmq_msg_size (&frames [index]);
        if (index)
            self->wire += zg_wire_framed_size (self->size [index]);
    }
    //  Frames past the maximum are received (libzmq delivers whole messages)
    //  and dropped, but counted so the caller refuses the message
    zmq_msg_t extra;
    zmq_msg_init (&extra);
    while (more) {
        if (zmq_msg_recv (&extra, handle, 0) == -1)
            break;
        more = zmq_msg_more (&extra);
        self->wire += zg_wire_framed_size (zmq_msg_size (&extra));
        count++;
    }
    zmq_msg_close (&extra);
    self->count = count;
    self->holder [0] = 0;
    s_take_holder_envelope (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Bytes a frame takes on the wire (ZMTP 3: flags, then a 1-byte size up to
//  255, else an 8-byte one)

size_t
zg_wire_framed_size (size_t size)
{
    return size + (size > 255? 9: 2);
}

//  --------------------------------------------------------------------------
//  Close the frames of a received request

void
zg_wire_close (zg_wire_request_t *self)
{
    assert (self);
    size_t kept = zg_wire_kept (self);
    for (size_t index = 0; index < kept; index++)
        zmq_msg_close (&self->frames [index]);
    self->count = 0;
}

//  --------------------------------------------------------------------------
//  Frames kept of the request

size_t
zg_wire_kept (zg_wire_request_t *self)
{
    assert (self);
    return self->count < ZG_WIRE_MAX_FRAMES? self->count: ZG_WIRE_MAX_FRAMES;
}

//  --------------------------------------------------------------------------
//  Who sent a received frame

const char *
zg_wire_msg_identity (zmq_msg_t *frame)
{
    assert (frame);
    //  libzmq puts the ZAP handler's User-Id before the peer's own properties,
    //  so a peer cannot claim another's. Asked first: with CURVE every frame
    //  has one, and each lookup is a search of the connection's properties
    const char *identity = zmq_msg_gets (frame, "User-Id");
    if (identity)
        return identity;
    //  A ZMTP peer's frames carry its properties; inproc frames carry none
    return zmq_msg_gets (frame, "Socket-Type") || zmq_msg_gets (frame, "Peer-Address")? "": NULL;
}

//  --------------------------------------------------------------------------
//  Who sent the request

const char *
zg_wire_identity (zg_wire_request_t *self)
{
    assert (self);
    //  A message always has a frame after the routing id; if not, trust nothing
    return self->count > 1? zg_wire_msg_identity (&self->frames [1]): "";
}

//  --------------------------------------------------------------------------
//  Whether frame index exists and holds exactly this text

bool
zg_wire_is (zg_wire_request_t *self, size_t index, const char *text)
{
    assert (self);
    assert (text);
    size_t size = strlen (text);
    return index < zg_wire_kept (self) && self->size [index] == size
        && memcmp (self->data [index], text, size) == 0;
}

//  --------------------------------------------------------------------------
//  Frame index as a part, or an empty part

zg_wire_part_t
zg_wire_frame (zg_wire_request_t *self, size_t index)
{
    assert (self);
    if (index >= zg_wire_kept (self))
        return (zg_wire_part_t) { "", 0 };
    return (zg_wire_part_t) { self->data [index], self->size [index] };
}

//  --------------------------------------------------------------------------
//  A C string as a part

zg_wire_part_t
zg_wire_str (const char *string)
{
    assert (string);
    return (zg_wire_part_t) { string, strlen (string) };
}

//  --------------------------------------------------------------------------
//  Send [routing][parts...][payload] without blocking

int
zg_wire_send (void *handle, zg_wire_part_t routing, const zg_wire_part_t *parts, size_t count,
              zmq_msg_t *payload)
{
    assert (handle && count > 0);
    //  The first part as a frame, which an in-process peer's bound counts
    zmq_msg_t first;
    zmq_msg_init_size (&first, parts [0].size);
    memcpy (zmq_msg_data (&first), parts [0].data, parts [0].size);
    uint64_t extra = payload? zmq_msg_size (payload): 0;
    for (size_t index = 1; index < count; index++)
        extra += parts [index].size;
    //  With ROUTER_MANDATORY the routing frame fails for a gone or full peer;
    //  once it is accepted, the rest of the message is too
    if (zg_routebytes_bound (handle, routing.data, routing.size, &first, 1, extra) == -1
    ||  zmq_send (handle, routing.data, routing.size, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&first);
        return -1;
    }
    uint64_t wire = payload? zg_wire_framed_size (zmq_msg_size (payload)): 0;
    for (size_t index = 0; index < count; index++) {
        int flags = index + 1 < count || payload? ZMQ_SNDMORE: 0;
        if (index == 0)
            zmq_msg_send (&first, handle, flags);
        else
            zmq_send (handle, parts [index].data, parts [index].size, flags);
        wire += zg_wire_framed_size (parts [index].size);
    }
    zg_routebytes_sent (handle, routing.data, routing.size, wire, count + (payload? 1: 0));
    if (payload) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, payload);
        if (zmq_msg_send (&copy, handle, 0) == -1)
            zmq_msg_close (&copy);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Format an error reason: bounded, one line

void
zg_wire_reason (char *reason, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    zg_wire_vreason (reason, format, args);
    va_end (args);
}

//  --------------------------------------------------------------------------
//  The same, with a va_list

void
zg_wire_vreason (char *reason, const char *format, va_list args)
{
    assert (reason);
    assert (format);
    vsnprintf (reason, ZG_WIRE_REASON_SIZE, format, args);
    //  Reasons quote client bytes (names, verbs, FAIL reasons): keep them one
    //  line, so a log or a terminal shows exactly one answer
    for (char *cursor = reason; *cursor; cursor++)
        if ((byte) *cursor < 0x20 || *cursor == 0x7f)
            *cursor = '?';
}

//  --------------------------------------------------------------------------
//  A refusal with its code and reason

int
zg_wire_refuse (int *code, int value, char *reason, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    zg_wire_vreason (reason, format, args);
    va_end (args);
    *code = value;
    return -1;
}

//  --------------------------------------------------------------------------
//  Send [ERROR][req][code][reason]

int
zg_wire_error (void *handle, zg_wire_part_t routing, zg_wire_part_t req, int code, const char *reason)
{
    assert (reason);
    char code_text [ZG_WIRE_NUMBER_SIZE];
    snprintf (code_text, sizeof code_text, "%d", code);
    zg_wire_part_t parts [] = { zg_wire_str ("ERROR"), req, zg_wire_str (code_text), zg_wire_str (reason) };
    return zg_wire_send (handle, routing, parts, 4, NULL);
}

//  --------------------------------------------------------------------------
//  Parse strict decimal, signed

int
zg_wire_parse_int (const void *data, size_t size, int64_t min, int64_t max, int64_t *value)
{
    assert (value);
    assert (min <= max);
    const char *text = (const char *) data;
    bool negative = size > 0 && text [0] == '-';
    uint64_t magnitude;
    //  The magnitude of INT64_MIN is one more than INT64_MAX
    uint64_t limit = negative? (uint64_t) INT64_MAX + 1: (uint64_t) INT64_MAX;
    if (zg_wire_parse_uint (text + negative, size - negative, limit, &magnitude))
        return -1;
    int64_t number = negative? (int64_t) (0 - magnitude): (int64_t) magnitude;
    if (number < min || number > max)
        return -1;
    *value = number;
    return 0;
}

//  --------------------------------------------------------------------------
//  Parse strict decimal, unsigned

int
zg_wire_parse_uint (const void *data, size_t size, uint64_t max, uint64_t *value)
{
    assert (value);
    const char *text = (const char *) data;
    if (size == 0)
        return -1;
    uint64_t number = 0;
    for (size_t index = 0; index < size; index++) {
        if (text [index] < '0' || text [index] > '9')
            return -1;
        uint64_t digit = (uint64_t) (text [index] - '0');
        if (number > (UINT64_MAX - digit) / 10)
            return -1;              //  Past 64 bits
        number = number * 10 + digit;
    }
    if (number > max)
        return -1;
    *value = number;
    return 0;
}

//  --------------------------------------------------------------------------
//  Write value in decimal; returns its length

size_t
zg_wire_format_uint (uint64_t value, char *text)
{
    assert (text);
    char digits [20];
    size_t size = 0;
    do {
        digits [size++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t index = 0; index < size; index++)
        text [index] = digits [size - 1 - index];
    text [size] = 0;
    return size;
}

//  --------------------------------------------------------------------------
//  Pack a json-c value (objects, arrays, strings, integers) as msgpack

void
zg_wire_pack_json (msgpack_packer *packer, json_object *value)
{
    switch (json_object_get_type (value)) {
        case json_type_object:
            msgpack_pack_map (packer, (size_t) json_object_object_length (value));
            json_object_object_foreach (value, key, member) {
                msgpack_pack_str_with_body (packer, key, strlen (key));
                zg_wire_pack_json (packer, member);
            }
            break;
        case json_type_array:
            msgpack_pack_array (packer, json_object_array_length (value));
            for (size_t index = 0; index < json_object_array_length (value); index++)
                zg_wire_pack_json (packer, json_object_array_get_idx (value, index));
            break;
        case json_type_string:
            msgpack_pack_str_with_body (packer, json_object_get_string (value),
                                        (size_t) json_object_get_string_len (value));
            break;
        case json_type_int:
            msgpack_pack_int64 (packer, json_object_get_int64 (value));
            break;
        default:
            msgpack_pack_nil (packer);
            break;
    }
}

//  --------------------------------------------------------------------------
//  Self test

static int64_t
s_int (const char *text, int64_t min, int64_t max)
{
    int64_t value = 12345;
    if (zg_wire_parse_int (text, strlen (text), min, max, &value))
        return 12345;
    return value;
}

void
zg_wire_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_wire: ");

    //  Numbers: strict, range checked, the edges of 64 bits exact
    assert (s_int ("0", INT64_MIN, INT64_MAX) == 0);
    assert (s_int ("-17", -100, 100) == -17);
    assert (s_int ("007", 0, 10) == 7);
    assert (s_int ("9223372036854775807", INT64_MIN, INT64_MAX) == INT64_MAX);
    assert (s_int ("-9223372036854775808", INT64_MIN, INT64_MAX) == INT64_MIN);
    const char *bad [] = { "", "-", "+1", " 1", "1 ", "1x", "0x10", "--1", "9223372036854775808",
                           "-9223372036854775809", "99999999999999999999999", NULL };
    for (int index = 0; bad [index]; index++)
        assert (s_int (bad [index], INT64_MIN, INT64_MAX) == 12345);
    assert (s_int ("101", 0, 100) == 12345);
    assert (s_int ("-1", 0, 100) == 12345);
    uint64_t number = 99;
    assert (zg_wire_parse_uint ("18446744073709551615", 20, UINT64_MAX, &number) == 0);
    assert (number == UINT64_MAX);
    assert (zg_wire_parse_uint ("18446744073709551616", 20, UINT64_MAX, &number) == -1);
    assert (zg_wire_parse_uint ("-1", 2, UINT64_MAX, &number) == -1);
    assert (zg_wire_parse_uint ("11", 2, 10, &number) == -1);
    assert (number == UINT64_MAX);
    //  A NUL inside a frame is not a terminator
    assert (zg_wire_parse_uint ("1\0002", 3, UINT64_MAX, &number) == -1);
    char text [ZG_WIRE_NUMBER_SIZE];
    assert (zg_wire_format_uint (0, text) == 1 && streq (text, "0"));
    assert (zg_wire_format_uint (UINT64_MAX, text) == 20 && streq (text, "18446744073709551615"));

    //  Reasons: one line, bounded
    char reason [ZG_WIRE_REASON_SIZE];
    zg_wire_reason (reason, "bad '%s' %d", "a\nb\x7f", 7);
    assert (streq (reason, "bad 'a?b?' 7"));
    char long_text [1000];
    memset (long_text, 'x', sizeof long_text - 1);
    long_text [sizeof long_text - 1] = 0;
    zg_wire_reason (reason, "%s", long_text);
    assert (strlen (reason) == ZG_WIRE_REASON_SIZE - 1);

    //  Requests, answers and errors over a real ROUTER
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    zsock_set_router_mandatory (router, 1);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_identity (dealer, "client");
    assert (zsock_connect (dealer, "tcp://127.0.0.1:%d", port) == 0);
    void *handle = zsock_resolve (router);
    zg_wire_request_t request;
    assert (zg_wire_recv (&request, handle) == -1);     //  Nothing waiting
    assert (zg_wire_kept (&request) == 0);

    zstr_sendx (dealer, "PING", "r1", NULL);
    zsock_set_rcvtimeo (router, 2000);
    zpoller_t *poller = zpoller_new (router, NULL);
    assert (zpoller_wait (poller, 2000) == router);
    assert (zg_wire_recv (&request, handle) == 0);
    assert (request.count == 3 && zg_wire_kept (&request) == 3);
    //  On the wire: PING and r1 with short headers, the routing id not at all
    assert (request.wire == 6 + 4);
    assert (zg_wire_framed_size (255) == 257 && zg_wire_framed_size (256) == 265);
    assert (zg_wire_is (&request, 0, "client"));
    assert (zg_wire_is (&request, 1, "PING"));
    assert (!zg_wire_is (&request, 1, "PIN"));
    assert (!zg_wire_is (&request, 3, ""));             //  No such frame
    assert (zg_wire_frame (&request, 2).size == 2);
    assert (zg_wire_frame (&request, 5).size == 0);

    //  An answer with a shared payload, then an error
    zmq_msg_t payload;
    zmq_msg_init_size (&payload, 5);
    memcpy (zmq_msg_data (&payload), "hello", 5);
    zg_wire_part_t parts [] = { zg_wire_str ("OK"), zg_wire_frame (&request, 2) };
    assert (zg_wire_send (handle, zg_wire_frame (&request, 0), parts, 2, &payload) == 0);
    assert (zmq_msg_size (&payload) == 5);              //  Still ours
    zmq_msg_close (&payload);
    zg_wire_reason (reason, "unknown command '%s'", "X\r\n");
    assert (zg_wire_error (handle, zg_wire_frame (&request, 0), zg_wire_frame (&request, 2), ZG_ERR_UNKNOWN_COMMAND,
                           reason) == 0);
    zg_wire_close (&request);
    char *command, *req, *body;
    assert (zstr_recvx (dealer, &command, &req, &body, NULL) == 3);
    assert (streq (command, "OK") && streq (req, "r1") && streq (body, "hello"));
    zstr_free (&command);
    zstr_free (&req);
    zstr_free (&body);
    char *code;
    assert (zstr_recvx (dealer, &command, &req, &code, &body, NULL) == 4);
    assert (streq (command, "ERROR") && streq (code, "405") && streq (body, "unknown command 'X?" "?'"));
    zstr_free (&command);
    zstr_free (&req);
    zstr_free (&code);
    zstr_free (&body);

    //  Past the maximum: the first frames are kept, the rest counted
    zmsg_t *big = zmsg_new ();
    for (int index = 0; index < ZG_WIRE_MAX_FRAMES + 3; index++)
        zmsg_addstrf (big, "f%d", index);
    zmsg_send (&big, dealer);
    assert (zpoller_wait (poller, 2000) == router);
    assert (zg_wire_recv (&request, handle) == 0);
    assert (request.count == ZG_WIRE_MAX_FRAMES + 4);
    assert (zg_wire_kept (&request) == ZG_WIRE_MAX_FRAMES);
    //  The dropped frames count on the wire too: f0..f9 and f10
    assert (request.wire == 10 * 4 + 5);
    assert (zg_wire_is (&request, 1, "f0"));
    zg_wire_close (&request);
    assert (zg_wire_recv (&request, handle) == -1);     //  Nothing left over

    //  A gone peer: the send fails and says so
    assert (zg_wire_send (handle, zg_wire_str ("nobody"), parts, 1, NULL) == -1);

    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    //  json-c to msgpack: a map of a string, an array of an int, a nil
    json_object *json = json_tokener_parse ("{\"a\": \"b\", \"c\": [7], \"d\": null}");
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    msgpack_packer json_packer;
    msgpack_packer_init (&json_packer, &packed, msgpack_sbuffer_write);
    zg_wire_pack_json (&json_packer, json);
    const char expected [] = "\x83\xa1" "a\xa1" "b\xa1" "c\x91\x07\xa1" "d\xc0";
    assert (packed.size == sizeof expected - 1 && memcmp (packed.data, expected, packed.size) == 0);
    msgpack_sbuffer_destroy (&packed);
    json_object_put (json);
    printf ("OK\n");
}
