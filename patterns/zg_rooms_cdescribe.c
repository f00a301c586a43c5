/*  =========================================================================
    zg_rooms_cdescribe - PEEK, STATE and METRICS of rooms across nodes,
    packed from the rooms script's replies

    A message's header in Redis is "priority\nqueued\nproducer" (the
    producer last: it may hold any byte but NUL).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rooms_cdescribe.h"
#include "zg_mpjson.h"

//  A room among the top rooms
typedef struct {
    char *name;
    int64_t backlog;
} s_ranked_t;

struct _zg_rooms_cmetrics_t {
    size_t waiting;                 //  Shards still to answer
    bool failed;                    //  One could not, or not as the script does
    size_t top;                     //  Rooms to list
    uint64_t clients;               //  The asking node's clients
    int64_t sums [5];               //  Rooms, with backlog, backlog, members, in flight
    s_ranked_t *ranked;             //  Every shard's top rooms
    size_t ranked_count;
};

//  --------------------------------------------------------------------------

static void
s_key (msgpack_packer *packer, const char *key)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
}

static void
s_key_int (msgpack_packer *packer, const char *key, int64_t value)
{
    s_key (packer, key);
    msgpack_pack_int64 (packer, value);
}

//  Element index of an array reply as a number (integer, or a decimal string)
static int64_t
s_int (redisReply *reply, size_t index)
{
    redisReply *element = reply->element [index];
    return element->type == REDIS_REPLY_INTEGER? element->integer
         : element->type == REDIS_REPLY_STRING? strtoll (element->str, NULL, 10): 0;
}

//  Whether a reply is an array of at least count elements, each from index
//  first on a group of group elements
static bool
s_array (redisReply *reply, size_t count, size_t first, size_t group)
{
    return reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= count
        && (reply->elements - first) % group == 0;
}

//  A header's fields: priority, queued and the producer (its bytes)
static void
s_header (redisReply *header, int64_t *priority, int64_t *queued, const char **producer, size_t *size)
{
    const char *text = header->type == REDIS_REPLY_STRING? header->str: "0\n0\n";
    size_t length = header->type == REDIS_REPLY_STRING? header->len: 4;
    *priority = strtoll (text, NULL, 10);
    const char *second = memchr (text, '\n', length);
    *queued = second? strtoll (second + 1, NULL, 10): 0;
    const char *third = second? memchr (second + 1, '\n', length - (size_t) (second + 1 - text)): NULL;
    *producer = third? third + 1: "";
    *size = third? length - (size_t) (third + 1 - text): 0;
}

//  --------------------------------------------------------------------------
//  PEEK: [backlog, now, (seq, header, payload)...]

int
zg_rooms_cdescribe_peek (redisReply *reply, const char *room, uint64_t offset, size_t max_bytes,
                         msgpack_packer *packer)
{
    if (!s_array (reply, 2, 2, 3))
        return -1;
    size_t count = (reply->elements - 2) / 3, bytes = 0, fitting = 0;
    for (; fitting < count; fitting++) {
        bytes += reply->element [2 + 3 * fitting + 2]->len;
        if (fitting > 0 && bytes > max_bytes)
            break;
    }
    int64_t now = s_int (reply, 1);
    msgpack_pack_map (packer, 4);
    s_key (packer, "room");
    msgpack_pack_str_with_body (packer, room, strlen (room));
    s_key_int (packer, "backlog", s_int (reply, 0));
    s_key_int (packer, "offset", (int64_t) offset);
    s_key (packer, "messages");
    msgpack_pack_array (packer, fitting);
    for (size_t index = 0; index < fitting; index++) {
        redisReply **message = &reply->element [2 + 3 * index];
        int64_t priority, queued;
        const char *producer;
        size_t size;
        s_header (message [1], &priority, &queued, &producer, &size);
        msgpack_pack_map (packer, 6);
        s_key_int (packer, "seq", strtoll (message [0]->str? message [0]->str: "0", NULL, 10));
        s_key_int (packer, "priority", priority);
        s_key_int (packer, "queued", queued);
        s_key (packer, "producer");
        msgpack_pack_str_with_body (packer, producer, size);
        s_key_int (packer, "latency", now - queued);
        s_key (packer, "data");
        msgpack_pack_bin_with_body (packer, message [2]->str, message [2]->len);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  STATE: [backlog, seq, header, released, waiting, (node, count, gates,
//  holds, last seen)...]

int
zg_rooms_cdescribe_state (redisReply *reply, const char *room, bool hold, int64_t ack_timeout,
                          msgpack_packer *packer)
{
    if (!s_array (reply, 5, 5, 5))
        return -1;
    size_t nodes = (reply->elements - 5) / 5;
    bool flying = reply->element [1]->type == REDIS_REPLY_STRING && reply->element [1]->len > 0;
    msgpack_pack_map (packer, 8);
    s_key (packer, "room");
    msgpack_pack_str_with_body (packer, room, strlen (room));
    s_key_int (packer, "backlog", s_int (reply, 0));
    s_key (packer, "hold");
    hold? msgpack_pack_true (packer): msgpack_pack_false (packer);
    s_key_int (packer, "ack_timeout", ack_timeout);
    s_key (packer, "priority_order");
    s_key (packer, "highest-first");
    s_key (packer, "in_flight");
    if (flying) {
        int64_t priority, queued;
        const char *producer;
        size_t size;
        s_header (reply->element [2], &priority, &queued, &producer, &size);
        msgpack_pack_map (packer, 4);
        s_key_int (packer, "seq", s_int (reply, 1));
        s_key_int (packer, "priority", priority);
        s_key_int (packer, "released", s_int (reply, 3));
        s_key_int (packer, "waiting", s_int (reply, 4));
    }
    else
        msgpack_pack_nil (packer);
    //  A gating node that no longer holds the message in flight has acked it
    size_t acked = 0;
    s_key (packer, "members");
    msgpack_pack_array (packer, nodes);
    for (size_t index = 0; index < nodes; index++) {
        redisReply **node = &reply->element [5 + 5 * index];
        bool gates = s_int (reply, 5 + 5 * index + 2) == 1;
        bool has_acked = flying && gates && s_int (reply, 5 + 5 * index + 3) == 0;
        acked += has_acked;
        msgpack_pack_map (packer, 6);
        s_key (packer, "client");
        msgpack_pack_str_with_body (packer, node [0]->str, node [0]->len);
        s_key_int (packer, "count", s_int (reply, 5 + 5 * index + 1));
        s_key (packer, "async");
        gates? msgpack_pack_false (packer): msgpack_pack_true (packer);
        s_key_int (packer, "last_seen", s_int (reply, 5 + 5 * index + 4));
        s_key (packer, "acked");
        has_acked? msgpack_pack_true (packer): msgpack_pack_false (packer);
        //  Redis keeps no ack times of nodes
        s_key (packer, "acked_at");
        msgpack_pack_nil (packer);
    }
    s_key (packer, "acked");
    msgpack_pack_array (packer, acked);
    for (size_t index = 0; index < nodes; index++) {
        redisReply *node = reply->element [5 + 5 * index];
        if (flying && s_int (reply, 5 + 5 * index + 2) == 1 && s_int (reply, 5 + 5 * index + 3) == 0)
            msgpack_pack_str_with_body (packer, node->str, node->len);
    }
    return 0;
}

//  --------------------------------------------------------------------------

zg_rooms_cmetrics_t *
zg_rooms_cmetrics_new (size_t shards, size_t top, uint64_t clients)
{
    zg_rooms_cmetrics_t *self = (zg_rooms_cmetrics_t *) zmalloc (sizeof (zg_rooms_cmetrics_t));
    assert (self);
    self->waiting = shards;
    self->top = top;
    self->clients = clients;
    return self;
}

void
zg_rooms_cmetrics_destroy (zg_rooms_cmetrics_t **self_p)
{
    assert (self_p);
    zg_rooms_cmetrics_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->ranked_count; index++)
            free (self->ranked [index].name);
        free (self->ranked);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  One shard's [rooms, with backlog, backlog, members, in flight,
//  (room, backlog)...]

bool
zg_rooms_cmetrics_add (zg_rooms_cmetrics_t *self, redisReply *reply)
{
    assert (self);
    assert (self->waiting > 0);
    self->waiting--;
    if (!s_array (reply, 5, 5, 2))
        self->failed = true;
    else {
        for (size_t index = 0; index < 5; index++)
            self->sums [index] += s_int (reply, index);
        size_t ranked = (reply->elements - 5) / 2;
        self->ranked = (s_ranked_t *) realloc (self->ranked, (self->ranked_count + ranked) * sizeof (s_ranked_t));
        assert (self->ranked || !ranked);
        for (size_t index = 0; index < ranked; index++) {
            redisReply *name = reply->element [5 + 2 * index];
            self->ranked [self->ranked_count++] = (s_ranked_t) {
                strndup (name->str? name->str: "", name->len), s_int (reply, 5 + 2 * index + 1)
            };
        }
    }
    return self->waiting == 0;
}

bool
zg_rooms_cmetrics_complete (zg_rooms_cmetrics_t *self)
{
    assert (self);
    return self->waiting == 0 && !self->failed;
}

//  Largest backlog first
static int
s_compare (const void *a, const void *b)
{
    int64_t left = ((const s_ranked_t *) a)->backlog, right = ((const s_ranked_t *) b)->backlog;
    return left < right? 1: left > right? -1: 0;
}

void
zg_rooms_cmetrics_pack (zg_rooms_cmetrics_t *self, msgpack_packer *packer)
{
    assert (self);
    if (self->ranked_count)
        qsort (self->ranked, self->ranked_count, sizeof (s_ranked_t), s_compare);
    size_t count = self->ranked_count < self->top? self->ranked_count: self->top;
    msgpack_pack_map (packer, 8);
    s_key_int (packer, "rooms", self->sums [0]);
    s_key_int (packer, "rooms_with_backlog", self->sums [1]);
    s_key (packer, "top_rooms");
    msgpack_pack_array (packer, count);
    int64_t top_backlog = 0;
    for (size_t index = 0; index < count; index++) {
        msgpack_pack_map (packer, 2);
        s_key (packer, "room");
        msgpack_pack_str_with_body (packer, self->ranked [index].name, strlen (self->ranked [index].name));
        s_key_int (packer, "backlog", self->ranked [index].backlog);
        top_backlog += self->ranked [index].backlog;
    }
    s_key_int (packer, "top_backlog", top_backlog);
    s_key_int (packer, "backlog", self->sums [2]);
    s_key_int (packer, "clients", (int64_t) self->clients);
    s_key_int (packer, "members", self->sums [3]);
    s_key_int (packer, "in_flight", self->sums [4]);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A reply as Redis would send it, from RESP text
static redisReply *
s_test_reply (const char *resp)
{
    redisReader *reader = redisReaderCreate ();
    redisReaderFeed (reader, resp, strlen (resp));
    void *reply = NULL;
    assert (redisReaderGetReply (reader, &reply) == REDIS_OK && reply);
    redisReaderFree (reader);
    return (redisReply *) reply;
}

//  The packed map as JSON; empties the buffer
static json_object *
s_test_json (msgpack_sbuffer *buffer)
{
    json_object *json = zg_mpjson_unpack (buffer->data, buffer->size);
    msgpack_sbuffer_clear (buffer);
    assert (json);
    return json;
}

void
zg_rooms_cdescribe_test (bool verbose)
{
    printf (" * zg_rooms_cdescribe: ");
    //  @selftest
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);

    //  PEEK: two messages of 3 bytes each, bounded to 4 bytes: one fits
    redisReply *peek = s_test_reply ("*8\r\n:5\r\n:1000\r\n"
                                     "$20\r\n00000000000000000007\r\n$11\r\n9\n900\nmaker\r\n$3\r\nabc\r\n"
                                     "$20\r\n00000000000000000008\r\n$6\r\n1\n950\n\r\n$3\r\ndef\r\n");
    assert (zg_rooms_cdescribe_peek (peek, "lobby", 2, 4, &packer) == 0);
    json_object *json = s_test_json (&buffer);
    if (verbose)
        printf ("\n%s\n", json_object_to_json_string (json));
    json_object *messages = json_object_object_get (json, "messages");
    assert (json_object_array_length (messages) == 1);
    json_object *first = json_object_array_get_idx (messages, 0);
    assert (json_object_get_int64 (json_object_object_get (first, "seq")) == 7);
    assert (json_object_get_int64 (json_object_object_get (first, "priority")) == 9);
    assert (json_object_get_int64 (json_object_object_get (first, "latency")) == 100);
    assert (streq (json_object_get_string (json_object_object_get (first, "producer")), "maker"));
    assert (json_object_get_int64 (json_object_object_get (json, "backlog")) == 5);
    assert (json_object_get_int64 (json_object_object_get (json, "offset")) == 2);
    json_object_put (json);
    assert (zg_rooms_cdescribe_peek (peek, "lobby", 0, 1000, &packer) == 0);
    json = s_test_json (&buffer);
    assert (json_object_array_length (json_object_object_get (json, "messages")) == 2);
    json_object_put (json);
    freeReplyObject (peek);

    //  STATE: a message in flight, node a acked it, node b still holds it,
    //  node c only observes
    redisReply *state = s_test_reply ("*20\r\n:0\r\n$20\r\n00000000000000000004\r\n$6\r\n3\n100\n\r\n$3\r\n200\r\n:1\r\n"
                                      "$1\r\na\r\n:2\r\n:1\r\n:0\r\n:300\r\n"
                                      "$1\r\nb\r\n:1\r\n:1\r\n:1\r\n:301\r\n"
                                      "$1\r\nc\r\n:4\r\n:0\r\n:0\r\n:302\r\n");
    assert (zg_rooms_cdescribe_state (state, "lobby", false, 30000, &packer) == 0);
    json = s_test_json (&buffer);
    json_object *flight = json_object_object_get (json, "in_flight");
    assert (json_object_get_int64 (json_object_object_get (flight, "seq")) == 4);
    assert (json_object_get_int64 (json_object_object_get (flight, "priority")) == 3);
    assert (json_object_get_int64 (json_object_object_get (flight, "waiting")) == 1);
    json_object *acked = json_object_object_get (json, "acked");
    assert (json_object_array_length (acked) == 1);
    assert (streq (json_object_get_string (json_object_array_get_idx (acked, 0)), "a"));
    json_object *third = json_object_array_get_idx (json_object_object_get (json, "members"), 2);
    assert (json_object_get_boolean (json_object_object_get (third, "async")));
    assert (json_object_get_int64 (json_object_object_get (third, "count")) == 4);
    json_object_put (json);
    freeReplyObject (state);
    redisReply *wrong = s_test_reply ("*3\r\n:0\r\n:0\r\n:0\r\n");
    assert (zg_rooms_cdescribe_state (wrong, "lobby", false, 1, &packer) == -1);
    assert (zg_rooms_cdescribe_peek (wrong, "lobby", 0, 1, &packer) == -1);
    assert (buffer.size == 0);

    //  METRICS over two shards, the top rooms merged and cut
    zg_rooms_cmetrics_t *metrics = zg_rooms_cmetrics_new (2, 2, 7);
    redisReply *one = s_test_reply ("*9\r\n:3\r\n:2\r\n:9\r\n:4\r\n:1\r\n$1\r\nx\r\n:6\r\n$1\r\ny\r\n:3\r\n");
    redisReply *two = s_test_reply ("*7\r\n:1\r\n:1\r\n:8\r\n:2\r\n:1\r\n$1\r\nz\r\n:8\r\n");
    assert (!zg_rooms_cmetrics_add (metrics, one));
    assert (zg_rooms_cmetrics_add (metrics, two));
    assert (zg_rooms_cmetrics_complete (metrics));
    zg_rooms_cmetrics_pack (metrics, &packer);
    json = s_test_json (&buffer);
    assert (json_object_get_int64 (json_object_object_get (json, "rooms")) == 4);
    assert (json_object_get_int64 (json_object_object_get (json, "backlog")) == 17);
    assert (json_object_get_int64 (json_object_object_get (json, "top_backlog")) == 14);
    assert (json_object_get_int64 (json_object_object_get (json, "clients")) == 7);
    json_object *top = json_object_object_get (json, "top_rooms");
    assert (json_object_array_length (top) == 2);
    assert (streq (json_object_get_string (json_object_object_get (json_object_array_get_idx (top, 0), "room")), "z"));
    json_object_put (json);
    zg_rooms_cmetrics_destroy (&metrics);
    metrics = zg_rooms_cmetrics_new (2, 2, 0);
    assert (!zg_rooms_cmetrics_add (metrics, wrong));
    assert (zg_rooms_cmetrics_add (metrics, NULL));
    assert (!zg_rooms_cmetrics_complete (metrics));
    zg_rooms_cmetrics_destroy (&metrics);
    freeReplyObject (one);
    freeReplyObject (two);
    freeReplyObject (wrong);
    msgpack_sbuffer_destroy (&buffer);
    //  @end
    printf ("OK\n");
}
