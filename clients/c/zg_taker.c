/*  =========================================================================
    zg_taker - pull access to zgate's work queues: TAKE, FINISH, RETRY

    Requests and answers go through zg_request (fresh reqs "t1", "t2", ...,
    one error model), like zg_producer, on the same endpoint.
    =========================================================================
*/

#include <msgpack.h>
#include "zg_taker.h"
#include "zg_request.h"
#include "zg_errors.h"
//  The self test runs against a real queues actor in-process, sending with
//  a zg_producer
#include "zg_producer.h"
#include "zgate.h"

struct _zg_taker_t {
    zg_request_t *request;          //  DEALER connected to zgate's producers endpoint
    int timeout;                    //  Answer timeout, ms
};

//  --------------------------------------------------------------------------
//  Create a taker

zg_taker_t *
zg_taker_new (const char *endpoint)
{
    return zg_taker_new_secure (endpoint, NULL, NULL);
}

zg_taker_t *
zg_taker_new_secure (const char *endpoint, const char *client_cert, const char *server_key)
{
    zg_taker_t *self = (zg_taker_t *) zmalloc (sizeof (zg_taker_t));
    assert (self);
    self->timeout = 5000;
    self->request = zg_request_new (endpoint, "t", client_cert, server_key);
    if (!self->request)
        zg_taker_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the taker

void
zg_taker_destroy (zg_taker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_taker_t *self = *self_p;
        zg_request_destroy (&self->request);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Answer timeout

void
zg_taker_set_timeout (zg_taker_t *self, int timeout)
{
    assert (self);
    self->timeout = timeout;
}

//  --------------------------------------------------------------------------
//  The value of key in a msgpack map, or NULL

static msgpack_object *
s_lookup (msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == strlen (key)
        &&  memcmp (name->via.str.ptr, key, name->via.str.size) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Take a task

int
zg_taker_take (zg_taker_t *self, const char **queues, size_t count, int ack_timeout, zg_taken_t *task)
{
    assert (self && task);
    assert (queues || count == 0);
    memset (task, 0, sizeof *task);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, (count? 1u: 0u) + (ack_timeout > 0? 1u: 0u));
    if (count) {
        msgpack_pack_str_with_body (&packer, "queues", 6);
        msgpack_pack_array (&packer, count);
        for (size_t index = 0; index < count; index++)
            msgpack_pack_str_with_body (&packer, queues [index], strlen (queues [index]));
    }
    if (ack_timeout > 0) {
        msgpack_pack_str_with_body (&packer, "ack-timeout", 11);
        msgpack_pack_int (&packer, ack_timeout);
    }
    zmsg_t *fields = zmsg_new ();
    zmsg_addmem (fields, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    zmsg_t *answer = zg_request_call (self->request, "TAKE", &fields, self->timeout);
    if (!answer)
        return -1;
    int rc = 0;
    if (zmsg_size (answer) == 3) {
        char *id = zmsg_popstr (answer);
        zframe_t *meta = zmsg_pop (answer);
        msgpack_unpacked unpacked;
        msgpack_unpacked_init (&unpacked);
        msgpack_object *queue = NULL, *attempt = NULL;
        if (msgpack_unpack_next (&unpacked, (const char *) zframe_data (meta), zframe_size (meta), NULL)
            == MSGPACK_UNPACK_SUCCESS) {
            queue = s_lookup (&unpacked.data, "queue");
            attempt = s_lookup (&unpacked.data, "attempt");
        }
        if (queue && queue->type == MSGPACK_OBJECT_STR && queue->via.str.size < sizeof task->queue
        &&  attempt && attempt->type == MSGPACK_OBJECT_POSITIVE_INTEGER && strlen (id) < sizeof task->id) {
            snprintf (task->id, sizeof task->id, "%s", id);
            memcpy (task->queue, queue->via.str.ptr, queue->via.str.size);
            task->attempt = (int) attempt->via.u64;
            task->data = zmsg_pop (answer);
            rc = 1;
        }
        else
            rc = zg_request_fail (self->request, ZG_ERR_BAD_GATEWAY, "unexpected answer");
        msgpack_unpacked_destroy (&unpacked);
        zframe_destroy (&meta);
        zstr_free (&id);
    }
    else
    if (zmsg_size (answer) != 0)
        rc = zg_request_fail (self->request, ZG_ERR_BAD_GATEWAY, "unexpected answer");
    zmsg_destroy (&answer);
    return rc;
}

//  --------------------------------------------------------------------------
//  FINISH or RETRY: [verb][req][id][output...]; 0 or -1

static int
s_answer (zg_taker_t *self, const char *verb, const char *id, const void *output, size_t size)
{
    zmsg_t *fields = zmsg_new ();
    zmsg_addstr (fields, id);
    if (size)
        zmsg_addmem (fields, output, size);
    zmsg_t *answer = zg_request_call (self->request, verb, &fields, self->timeout);
    int rc = answer? 0: -1;
    zmsg_destroy (&answer);
    return rc;
}

int
zg_taker_finish (zg_taker_t *self, const char *id, const void *output, size_t size)
{
    assert (self && id);
    return s_answer (self, "FINISH", id, output, size);
}

int
zg_taker_retry (zg_taker_t *self, const char *id)
{
    assert (self && id);
    return s_answer (self, "RETRY", id, NULL, 0);
}

//  --------------------------------------------------------------------------
//  Workers serving a queue, from STATS

int
zg_taker_workers (zg_taker_t *self, const char *queue)
{
    assert (self && queue);
    zmsg_t *answer = zg_request_call (self->request, "STATS", NULL, self->timeout);
    if (!answer)
        return -1;
    zframe_t *map = zmsg_pop (answer);
    int workers = -1;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    if (map && msgpack_unpack_next (&unpacked, (const char *) zframe_data (map), zframe_size (map), NULL)
               == MSGPACK_UNPACK_SUCCESS) {
        msgpack_object *queues = s_lookup (&unpacked.data, "queues");
        msgpack_object *counters = queues? s_lookup (queues, queue): NULL;
        msgpack_object *count = counters? s_lookup (counters, "workers"): queues? &(msgpack_object) { 0 }: NULL;
        //  A queue STATS does not list has no worker
        if (count && count->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            workers = (int) count->via.u64;
        else
        if (count && !counters)
            workers = 0;
    }
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&map);
    zmsg_destroy (&answer);
    return workers;
}

//  --------------------------------------------------------------------------
//  Code and reason of the last error

int
zg_taker_code (zg_taker_t *self)
{
    assert (self);
    return zg_request_code (self->request);
}

const char *
zg_taker_reason (zg_taker_t *self)
{
    assert (self);
    return zg_request_reason (self->request);
}

//  --------------------------------------------------------------------------
//  The self test runs a real queues actor, so libzgclient leaves it out
#ifdef ZGCLIENT_SELFTEST

void
zg_taker_test (bool verbose)
{
    printf (" * zg_taker: ");
    //  @selftest
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "keep-input", "1", error, sizeof error) == 0);
    assert (zg_actor_set (queues, "inproc-producers", "inproc://zg-taker-test-p", error, sizeof error) == 0);
    zg_taker_t *taker = zg_taker_new ("inproc://zg-taker-test-p");
    assert (taker && zg_taker_new ("nonsense") == NULL);
    zg_producer_t *producer = zg_producer_new ("inproc://zg-taker-test-p");
    char id [24];
    assert (zg_producer_send (producer, "reverse", "abc", 3, 0, id) == 0);
    assert (zg_producer_send (producer, "fibonacci", "20", 2, 0, id) == 0);
    assert (zg_taker_workers (taker, "reverse") == 0 && zg_taker_workers (taker, "nowhere") == 0);

    //  By type, the first that came; nothing left of that type is no error
    const char *types [] = { "fibonacci", "reverse" };
    zg_taken_t task;
    assert (zg_taker_take (taker, types, 2, 0, &task) == 1);
    assert (streq (task.id, "1") && streq (task.queue, "reverse") && task.attempt == 1);
    assert (zframe_streq (task.data, "abc"));
    zframe_destroy (&task.data);
    assert (zg_taker_take (taker, types + 1, 1, 0, &task) == 0 && task.data == NULL);
    assert (zg_taker_finish (taker, "1", "cba", 3) == 0);
    assert (zg_taker_finish (taker, "1", "cba", 3) == -1 && zg_taker_code (taker) == 409);
    assert (zg_taker_retry (taker, "99") == -1 && zg_taker_code (taker) == 404);
    if (verbose)
        printf ("(%s) ", zg_taker_reason (taker));
    zg_task_info_t info;
    assert (zg_producer_get (producer, "1", &info) == 0 && streq (info.state, "done"));
    assert (zframe_streq (info.result, "cba") && zframe_streq (info.input, "abc"));
    zframe_destroy (&info.result);
    zframe_destroy (&info.input);

    //  Any queue; a retried task goes to the tail and is taken again
    assert (zg_taker_take (taker, NULL, 0, 1000, &task) == 1 && streq (task.id, "2"));
    zframe_destroy (&task.data);
    assert (zg_taker_retry (taker, "2") == 0);
    assert (zg_taker_take (taker, NULL, 0, 0, &task) == 1 && streq (task.id, "2") && task.attempt == 2);
    zframe_destroy (&task.data);
    assert (zg_taker_take (taker, NULL, 0, 0, &task) == 0);
    zg_producer_destroy (&producer);
    zg_taker_destroy (&taker);
    zactor_destroy (&queues);
    //  @end
    printf ("OK\n");
}
#endif
