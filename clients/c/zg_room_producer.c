/*  =========================================================================
    zg_room_producer - native rooms client: send, send out-of-band, peek,
    room state, metrics and room options

    Requests and their answers go through zg_request (fresh reqs, late
    answers skipped, events kept, one error model).
    =========================================================================
*/

#include "zg_room_producer.h"
#include "zg_request.h"
#include "zg_errors.h"
//  The self test runs against a real rooms actor in-process
#include "zg_rooms.h"
#include "zg_actor.h"

struct _zg_room_producer_t {
    zg_request_t *request;          //  Connection to zgate's rooms endpoint
    int timeout;                    //  Longest wait for an answer, ms
    char error [300];               //  "<code> <reason>" of the last error
    zframe_t *answer;               //  Map answer that unpacked results point into
};

//  --------------------------------------------------------------------------
//  Connect to zgate's rooms endpoint

zg_room_producer_t *
zg_room_producer_new (const char *endpoint, int timeout)
{
    return zg_room_producer_new_secure (endpoint, timeout, NULL, NULL);
}

//  --------------------------------------------------------------------------
//  The same, as a CURVE client

zg_room_producer_t *
zg_room_producer_new_secure (const char *endpoint, int timeout, const char *client_cert, const char *server_key)
{
    assert (endpoint);
    zg_room_producer_t *self = (zg_room_producer_t *) zmalloc (sizeof (zg_room_producer_t));
    assert (self);
    self->timeout = timeout;
    self->request = zg_request_new (endpoint, "r", client_cert, server_key);
    if (!self->request)
        zg_room_producer_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the producer

void
zg_room_producer_destroy (zg_room_producer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_room_producer_t *self = *self_p;
        zg_request_destroy (&self->request);
        zframe_destroy (&self->answer);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Send a request and wait for its answer

zmsg_t *
zg_room_producer_request (zg_room_producer_t *self, const char *command, zmsg_t **fields_p)
{
    assert (self);
    return zg_request_call (self->request, command, fields_p, self->timeout);
}

//  --------------------------------------------------------------------------
//  The oldest event kept while a request waited

zmsg_t *
zg_room_producer_event (zg_room_producer_t *self)
{
    assert (self);
    return zg_request_event (self->request);
}

//  --------------------------------------------------------------------------
//  Small helpers

static zmsg_t *
s_fields (const char *first, ...)
{
    zmsg_t *fields = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *field = first; field; field = va_arg (args, const char *))
        zmsg_addstr (fields, field);
    va_end (args);
    return fields;
}

//  --------------------------------------------------------------------------
//  An answer's single msgpack map, unpacked into result

static int
s_self_map_answer (zg_room_producer_t *self, const char *command, zmsg_t *fields, msgpack_unpacked *result)
{
    zmsg_t *answer = zg_room_producer_request (self, command, &fields);
    if (!answer)
        return -1;
    zframe_destroy (&self->answer);
    self->answer = zmsg_pop (answer);
    zmsg_destroy (&answer);
    size_t offset = 0;
    if (!self->answer
    ||  msgpack_unpack_next (result, (const char *) zframe_data (self->answer), zframe_size (self->answer),
                             &offset) != MSGPACK_UNPACK_SUCCESS
    ||  offset != zframe_size (self->answer) || result->data.type != MSGPACK_OBJECT_MAP) {
        return zg_request_fail (self->request, ZG_ERR_BAD_GATEWAY, "malformed answer");
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Queue a message in a room with a priority

int
zg_room_producer_send (zg_room_producer_t *self, const char *room, int64_t priority,
                       const void *data, size_t size, uint64_t *seq_p)
{
    assert (self);
    char text [24];
    snprintf (text, sizeof text, "%" PRId64, priority);
    zmsg_t *fields = s_fields (room, text, NULL);
    zmsg_addmem (fields, data, size);
    zmsg_t *answer = zg_room_producer_request (self, "SEND", &fields);
    if (!answer)
        return -1;
    char *seq = zmsg_popstr (answer);
    if (seq_p)
        *seq_p = seq? strtoull (seq, NULL, 10): 0;
    zstr_free (&seq);
    zmsg_destroy (&answer);
    return 0;
}

//  --------------------------------------------------------------------------
//  Send a message out-of-band to every current member of a room

int
zg_room_producer_send_oob (zg_room_producer_t *self, const char *room, const void *data, size_t size)
{
    assert (self);
    zmsg_t *fields = s_fields (room, NULL);
    zmsg_addmem (fields, data, size);
    zmsg_t *answer = zg_room_producer_request (self, "OOB", &fields);
    if (!answer)
        return -1;
    char *count = zmsg_popstr (answer);
    int result = count? atoi (count): 0;
    zstr_free (&count);
    zmsg_destroy (&answer);
    return result;
}

//  --------------------------------------------------------------------------
//  Pending messages of a room, in release order

int
zg_room_producer_peek (zg_room_producer_t *self, const char *room, size_t offset, size_t limit,
                       msgpack_unpacked *result)
{
    assert (self);
    char offset_text [24], limit_text [24];
    snprintf (offset_text, sizeof offset_text, "%zu", offset);
    snprintf (limit_text, sizeof limit_text, "%zu", limit);
    zmsg_t *fields = limit? s_fields (room, offset_text, limit_text, NULL): s_fields (room, offset_text, NULL);
    return s_self_map_answer (self, "PEEK", fields, result);
}

//  --------------------------------------------------------------------------
//  State of a room

int
zg_room_producer_state (zg_room_producer_t *self, const char *room, msgpack_unpacked *result)
{
    assert (self);
    return s_self_map_answer (self, "STATE", s_fields (room, NULL), result);
}

//  --------------------------------------------------------------------------
//  Metrics

int
zg_room_producer_metrics (zg_room_producer_t *self, size_t top, msgpack_unpacked *result)
{
    assert (self);
    char text [24];
    snprintf (text, sizeof text, "%zu", top);
    return s_self_map_answer (self, "METRICS", s_fields (text, NULL), result);
}

//  --------------------------------------------------------------------------
//  Set a room's options

int
zg_room_producer_configure (zg_room_producer_t *self, const char *room, int hold, int64_t ack_timeout)
{
    assert (self);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, (hold >= 0? 1u: 0u) + (ack_timeout > 0? 1u: 0u));
    if (hold >= 0) {
        msgpack_pack_str_with_body (&packer, "hold", 4);
        if (hold)
            msgpack_pack_true (&packer);
        else
            msgpack_pack_false (&packer);
    }
    if (ack_timeout > 0) {
        msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
        msgpack_pack_int64 (&packer, ack_timeout);
    }
    zmsg_t *fields = s_fields (room, NULL);
    zmsg_addmem (fields, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    zmsg_t *answer = zg_room_producer_request (self, "ROOM", &fields);
    if (!answer)
        return -1;
    zmsg_destroy (&answer);
    return 0;
}

//  --------------------------------------------------------------------------
//  The last error: "<code> <reason>", its code, its reason

const char *
zg_room_producer_error (zg_room_producer_t *self)
{
    assert (self);
    snprintf (self->error, sizeof self->error, "%d %s", zg_request_code (self->request),
              zg_request_reason (self->request));
    return self->error;
}

int
zg_room_producer_code (zg_room_producer_t *self)
{
    assert (self);
    return zg_request_code (self->request);
}

const char *
zg_room_producer_reason (zg_room_producer_t *self)
{
    assert (self);
    return zg_request_reason (self->request);
}

//  --------------------------------------------------------------------------
//  The value of key in a msgpack map, or NULL

msgpack_object *
zg_room_producer_map_get (msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t size = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == size
        &&  memcmp (name->via.str.ptr, key, size) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  The DEALER socket

zsock_t *
zg_room_producer_socket (zg_room_producer_t *self)
{
    assert (self);
    return zg_request_socket (self->request);
}

//  --------------------------------------------------------------------------
//  The self test runs real zgate actors, so libzgclient leaves it out: only
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), together with libzgate
#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: against a real rooms actor in-process

void
zg_room_producer_test (bool verbose)
{
    printf (" * zg_room_producer: ");
    //  @selftest
    zactor_t *rooms = zg_rooms_new ();
    char error [256];
    assert (zg_actor_set (rooms, "max-backlog", "2", error, sizeof error) == 0);
    assert (zg_actor_set (rooms, "clients", "inproc://zg-room-producer-test", error, sizeof error) == 0);
    assert (zg_room_producer_new ("bogus://x", 100) == NULL);
    zg_room_producer_t *producer = zg_room_producer_new ("inproc://zg-room-producer-test", 2000);
    assert (producer);

    //  A holding room keeps what is sent to it
    assert (zg_room_producer_configure (producer, "news", 1, 5000) == 0);
    assert (zg_room_producer_configure (producer, "news", -1, 0) == 0);
    uint64_t seq = 0;
    assert (zg_room_producer_send (producer, "news", 1, "later", 5, &seq) == 0);
    assert (seq == 1);
    assert (zg_room_producer_send (producer, "news", 3, "sooner", 6, &seq) == 0);
    assert (seq == 2);
    assert (zg_room_producer_send (producer, "news", 1, "full", 4, NULL) == -1);
    assert (strncmp (zg_room_producer_error (producer), "429 ", 4) == 0);
    assert (zg_room_producer_send_oob (producer, "news", "now", 3) == 0);

    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    assert (zg_room_producer_peek (producer, "news", 0, 0, &result) == 0);
    msgpack_object *messages = zg_room_producer_map_get (&result.data, "messages");
    assert (messages && messages->type == MSGPACK_OBJECT_ARRAY && messages->via.array.size == 2);
    msgpack_object *data = zg_room_producer_map_get (&messages->via.array.ptr [0], "data");
    assert (data && data->via.bin.size == 6 && memcmp (data->via.bin.ptr, "sooner", 6) == 0);
    assert (zg_room_producer_peek (producer, "news", 1, 1, &result) == 0);
    messages = zg_room_producer_map_get (&result.data, "messages");
    assert (messages->via.array.size == 1);
    assert (zg_room_producer_state (producer, "news", &result) == 0);
    msgpack_object *ack_timeout = zg_room_producer_map_get (&result.data, "ack_timeout");
    assert (ack_timeout && ack_timeout->via.i64 == 5000);
    assert (zg_room_producer_map_get (&result.data, "no such key") == NULL);
    assert (zg_room_producer_metrics (producer, 5, &result) == 0);
    msgpack_object *backlog = zg_room_producer_map_get (&result.data, "backlog");
    assert (backlog && backlog->via.u64 == 2);
    msgpack_unpacked_destroy (&result);

    //  Errors carry zgate's code and reason
    assert (zg_room_producer_send (producer, "", 0, "x", 1, NULL) == -1);
    if (verbose)
        printf ("(%s) ", zg_room_producer_error (producer));
    assert (strncmp (zg_room_producer_error (producer), "400 ", 4) == 0);

    zg_room_producer_destroy (&producer);
    zg_room_producer_destroy (&producer);
    zactor_destroy (&rooms);
    //  @end
    printf ("OK\n");
}
#endif
