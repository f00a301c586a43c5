/*  =========================================================================
    zg_queues_link - the queues actor's side of its link to the cluster

    Claims follow credit: for each queue the local workers serve, the link
    asks for the free credit of the workers in the queue's line, less the
    tasks already waiting here, one claim at a time. A claim
    answered with fewer tasks than asked marks the queue empty until the
    bridge says it got tasks (Redis publishes that when a queue goes from
    empty to not empty, and the bridge says so for every queue once a
    second, in case a wake-up crossed a claim).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_queues_link.h"
#include "zg_qtest.h"

//  A queue the local workers serve
typedef struct {
    size_t outstanding;             //  Tasks asked for, not yet answered
    bool empty;                     //  The last claim got fewer than asked
} s_watch_t;

struct _zg_queues_link_t {
    zsock_t *socket;                //  PAIR to the bridge
    zg_qcore_t *core;               //  The queues' core
    const zg_qsettings_t *settings; //  The queues' settings
    zhashx_t *watched;              //  Queue name -> s_watch_t
    bool on;                        //  Connected
    uint64_t sent;                  //  SENDs handed to the bridge
    uint64_t claimed;               //  Tasks claimed
    uint64_t returned;              //  Tasks handed back (requeue)
    uint64_t finished;              //  Outcomes handed back
    uint64_t answers;               //  Answers passed to producers
    uint64_t unroutable;            //  Of them, for producers gone
};

//  --------------------------------------------------------------------------
//  Create a link, not yet connected

zg_queues_link_t *
zg_queues_link_new (void)
{
    zg_queues_link_t *self = (zg_queues_link_t *) zmalloc (sizeof (zg_queues_link_t));
    assert (self);
    self->socket = zsock_new (ZMQ_PAIR);
    assert (self->socket);
    zsock_set_sndhwm (self->socket, 0);
    zsock_set_rcvhwm (self->socket, 0);
    self->watched = zhashx_new ();
    zhashx_set_destructor (self->watched, (zhashx_destructor_fn *) zstr_free);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the link

void
zg_queues_link_destroy (zg_queues_link_t **self_p)
{
    assert (self_p);
    zg_queues_link_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->socket);
        zhashx_destroy (&self->watched);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Send frames to the bridge

static void
s_send (zg_queues_link_t *self, const zg_wire_part_t *parts, size_t count)
{
    void *handle = zsock_resolve (self->socket);
    for (size_t index = 0; index < count; index++)
        zmq_send (handle, parts [index].data, parts [index].size, index + 1 < count? ZMQ_SNDMORE: 0);
}

//  A message's bytes as a part
static zg_wire_part_t
s_part (zmq_msg_t *msg)
{
    zg_wire_part_t part = { zmq_msg_data (msg), zmq_msg_size (msg) };
    return part;
}

//  --------------------------------------------------------------------------
//  The core hands back a claimed task: taken back, or finished

static void
s_handoff (void *arg, zg_task_t *task, int state, const char *reason, zmq_msg_t *result)
{
    zg_queues_link_t *self = (zg_queues_link_t *) arg;
    char attempt [16];
    snprintf (attempt, sizeof attempt, "%u", task->attempt);
    if (state == ZG_TASK_WAITING) {
        zg_wire_part_t parts [] = { zg_wire_str ("R"), zg_wire_str (task->id_text), zg_wire_str (attempt) };
        s_send (self, parts, 3);
        self->returned++;
        return;
    }
    zg_wire_part_t output = result? s_part (result): zg_wire_str (reason? reason: "");
    zg_wire_part_t parts [] = {
        zg_wire_str ("F"), zg_wire_str (task->id_text), zg_wire_str (attempt),
        zg_wire_str (state == ZG_TASK_DONE? "done": "failed"), output
    };
    s_send (self, parts, 5);
    self->finished++;
}

//  --------------------------------------------------------------------------
//  Connect to the bridge

int
zg_queues_link_connect (zg_queues_link_t *self, const char *endpoint, zg_qcore_t *core,
                        const zg_qsettings_t *settings, char *error, size_t size)
{
    assert (self && endpoint && core && settings);
    if (self->on || strncmp (endpoint, "inproc://", 9) != 0) {
        snprintf (error, size, self->on? "the queues are linked to the cluster already"
                                       : "the cluster link '%s' is not an inproc endpoint", endpoint);
        return -1;
    }
    if (zsock_connect (self->socket, "%s", endpoint) == -1) {
        snprintf (error, size, "cannot connect to the cluster link '%s'", endpoint);
        return -1;
    }
    self->core = core;
    self->settings = settings;
    self->on = true;
    zg_qcore_set_handoff (core, s_handoff, self);
    zg_queues_link_settings (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Whether the link is connected

bool
zg_queues_link_on (zg_queues_link_t *self)
{
    assert (self);
    return self->on;
}

//  --------------------------------------------------------------------------
//  The socket to poll

zsock_t *
zg_queues_link_socket (zg_queues_link_t *self)
{
    assert (self);
    return self->socket;
}

//  --------------------------------------------------------------------------
//  The settings the bridge uses

void
zg_queues_link_settings (zg_queues_link_t *self)
{
    assert (self);
    if (!self->on)
        return;
    char values [5][24];
    int64_t settings [] = {
        self->settings->max_pending, self->settings->max_deliveries, self->settings->result_ttl,
        self->settings->max_name_size, self->settings->worker_timeout
    };
    zg_wire_part_t parts [6] = { zg_wire_str ("O") };
    for (int index = 0; index < 5; index++) {
        snprintf (values [index], sizeof values [index], "%" PRId64, settings [index]);
        parts [index + 1] = zg_wire_str (values [index]);
    }
    s_send (self, parts, 6);
}

//  --------------------------------------------------------------------------
//  A producer's SEND

void
zg_queues_link_send (zg_queues_link_t *self, zmq_msg_t *producer, zmq_msg_t *req, const char *queue,
                     const zg_qoptions_t *options, zmq_msg_t *payload)
{
    assert (self && self->on && producer && req && queue && options && payload);
    char priority [24], ack [24], timeout [24];
    snprintf (priority, sizeof priority, "%" PRId64, options->priority);
    snprintf (ack, sizeof ack, "%" PRId64, options->ack_timeout);
    snprintf (timeout, sizeof timeout, "%" PRId64, options->timeout);
    zg_wire_part_t parts [] = {
        zg_wire_str ("S"), s_part (producer), s_part (req), zg_wire_str (queue), zg_wire_str (priority),
        zg_wire_str (ack), zg_wire_str (options->reply? "1": "0"), zg_wire_str (timeout), s_part (payload)
    };
    s_send (self, parts, 9);
    self->sent++;
}

//  --------------------------------------------------------------------------
//  A producer's GET of an id this node does not hold

void
zg_queues_link_get (zg_queues_link_t *self, zmq_msg_t *producer, zmq_msg_t *req, zmq_msg_t *id)
{
    assert (self && self->on && producer && req && id);
    zg_wire_part_t parts [] = { zg_wire_str ("G"), s_part (producer), s_part (req), s_part (id) };
    s_send (self, parts, 4);
}

//  --------------------------------------------------------------------------
//  A READY's queues are claimed for from now on

void
zg_queues_link_watch (zg_queues_link_t *self, const zg_qoptions_t *options)
{
    assert (self && options);
    for (size_t index = 0; self->on && index < options->name_count; index++)
        if (!options->names [index].command && !zhashx_lookup (self->watched, options->names [index].text)) {
            s_watch_t *watch = (s_watch_t *) zmalloc (sizeof (s_watch_t));
            assert (watch);
            zhashx_insert (self->watched, options->names [index].text, watch);
        }
}

//  --------------------------------------------------------------------------
//  Claimed tasks: T queue asked [id attempt priority ack-timeout created payload]...

static void
s_claimed (zg_queues_link_t *self, zmsg_t *msg)
{
    char *queue = zmsg_popstr (msg);
    char *asked = zmsg_popstr (msg);
    s_watch_t *watch = queue? (s_watch_t *) zhashx_lookup (self->watched, queue): NULL;
    size_t count = zmsg_size (msg) / 6;
    if (watch && asked) {
        size_t wanted = (size_t) atol (asked);
        watch->outstanding -= wanted < watch->outstanding? wanted: watch->outstanding;
        watch->empty = count < wanted;
    }
    for (size_t index = 0; queue && index < count; index++) {
        char *fields [5];
        for (int field = 0; field < 5; field++)
            fields [field] = zmsg_popstr (msg);
        zframe_t *payload = zmsg_pop (msg);
        uint64_t id = strtoull (fields [0], NULL, 10);
        zg_qrecord_t record = {
            .id = id, .queue = queue, .queue_size = strlen (queue), .state = ZG_TASK_WAITING,
            .priority = (uint8_t) atoi (fields [2]), .attempt = (uint32_t) atol (fields [1]) - 1,
            .created = atoll (fields [4]), .ack_timeout = (uint32_t) atol (fields [3]),
            .payload = zframe_data (payload), .payload_size = zframe_size (payload)
        };
        if (id == 0 || zg_qcore_task (self->core, id)) {
            //  An id a local CALL holds: the task goes back for another node
            zg_wire_part_t parts [] = { zg_wire_str ("R"), zg_wire_str (fields [0]), zg_wire_str (fields [1]) };
            s_send (self, parts, 3);
        }
        else {
            zg_qcore_adopt (self->core, &record);
            zg_qcore_task (self->core, id)->remote = true;
            self->claimed++;
        }
        for (int field = 0; field < 5; field++)
            zstr_free (&fields [field]);
        zframe_destroy (&payload);
    }
    zstr_free (&queue);
    zstr_free (&asked);
}

//  --------------------------------------------------------------------------
//  Take the bridge's messages

void
zg_queues_link_handle (zg_queues_link_t *self, zsock_t *producers)
{
    assert (self && producers);
    zmsg_t *msg;
    while ((msg = zmsg_recv_nowait (self->socket))) {
        char *kind = zmsg_popstr (msg);
        if (kind && streq (kind, "P")) {
            self->answers++;
            if (zmsg_send (&msg, producers) == -1)
                self->unroutable++;
        }
        else
        if (kind && streq (kind, "T"))
            s_claimed (self, msg);
        else
        if (kind && streq (kind, "W")) {
            char *queue = zmsg_popstr (msg);
            s_watch_t *watch = (s_watch_t *) zhashx_lookup (self->watched, queue);
            if (watch)
                watch->empty = false;
            else
            if (queue && !*queue)
                for (watch = (s_watch_t *) zhashx_first (self->watched); watch;
                     watch = (s_watch_t *) zhashx_next (self->watched))
                    watch->empty = false;
            zstr_free (&queue);
        }
        zstr_free (&kind);
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Hand back what waits here for a queue no local worker serves any more:
//  taken with no worker and taken back, so Redis requeues it for others

static void
s_give_back (zg_queues_link_t *self, zg_taskq_t *queue)
{
    zg_qname_t name = { false, "" };
    snprintf (name.text, sizeof name.text, "%s", queue->name);
    zg_task_t *task;
    while ((task = zg_qcore_take (self->core, &name, 1, 0)))
        zg_qcore_nack (self->core, task, false);
}

//  --------------------------------------------------------------------------
//  Claim what the local workers have credit for

void
zg_queues_link_claim (zg_queues_link_t *self)
{
    assert (self);
    s_watch_t *watch;
    for (watch = (s_watch_t *) zhashx_first (self->watched); watch; watch = (s_watch_t *) zhashx_next (self->watched)) {
        const char *name = (const char *) zhashx_cursor (self->watched);
        zg_taskq_t *queue = zg_qcore_queue (self->core, name, false);
        if (queue && !queue->workers && queue->waiting)
            s_give_back (self, queue);
        //  One claim at a time per queue: the credit freed while it is out
        //  goes in the next one, so claims grow with the load
        if (!queue || !queue->workers || watch->empty || watch->outstanding)
            continue;
        size_t credit = 0;
        for (zg_seat_t *seat = queue->line_head; seat; seat = seat->next)
            credit += (size_t) seat->worker->prefetch - seat->worker->held.size;
        if (credit <= queue->waiting)
            continue;
        watch->outstanding = credit - queue->waiting;
        char count [24];
        snprintf (count, sizeof count, "%zu", watch->outstanding);
        zg_wire_part_t parts [] = { zg_wire_str ("C"), zg_wire_str (name), zg_wire_str (count) };
        s_send (self, parts, 3);
    }
}

//  --------------------------------------------------------------------------
//  Counters

void
zg_queues_link_stats (zg_queues_link_t *self, json_object *root)
{
    assert (self && root);
    if (!self->on)
        return;
    json_object *cluster = json_object_new_object ();
    uint64_t values [] = { self->sent, self->claimed, self->returned, self->finished, self->answers, self->unroutable };
    const char *names [] = { "sent", "claimed", "returned", "finished", "answers", "unroutable" };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++)
        json_object_object_add (cluster, names [index], json_object_new_uint64 (values [index]));
    json_object_object_add (root, "cluster", cluster);
}

//  --------------------------------------------------------------------------
//  Self test: the test plays the bridge on the PAIR

//  The next message from the link, its frames joined by '|'
static char *
s_test_next (zsock_t *bridge)
{
    zmsg_t *msg = zmsg_recv (bridge);
    assert (msg);
    char *text = (char *) zmalloc (512);
    const char *separator = "";
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg), separator = "|")
        snprintf (text + strlen (text), 512 - strlen (text), "%s%.*s", separator, (int) zframe_size (frame),
                  (char *) zframe_data (frame));
    zmsg_destroy (&msg);
    return text;
}

static void
s_test_check (zsock_t *bridge, const char *expected)
{
    char *text = s_test_next (bridge);
    if (!streq (text, expected))
        fprintf (stderr, "got '%s', expected '%s'\n", text, expected);
    assert (streq (text, expected));
    zstr_free (&text);
}

void
zg_queues_link_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_queues_link: ");
    //  @selftest
    zg_qsettings_t settings = zg_qsettings_defaults ();
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_queues_link_t *link = zg_queues_link_new ();
    zsock_t *bridge = zsock_new_pair ("@inproc://zg-queues-link-test");
    zsock_t *producers = zsock_new_router ("inproc://zg-queues-link-test-producers");
    zsock_t *producer = zsock_new_dealer ("inproc://zg-queues-link-test-producers");
    assert (bridge && producers && producer);
    zsock_set_rcvtimeo (bridge, 2000);
    char error [256];
    assert (zg_queues_link_connect (link, "tcp://127.0.0.1:9", core, &settings, error, sizeof error) == -1);
    assert (!zg_queues_link_on (link));
    assert (zg_queues_link_connect (link, "inproc://zg-queues-link-test", core, &settings, error, sizeof error) == 0);
    assert (zg_queues_link_connect (link, "inproc://zg-queues-link-test", core, &settings, error, sizeof error) == -1);
    s_test_check (bridge, "O|100000|5|60000|255|5000");

    //  SEND goes to the bridge with its options; the bridge's answer goes
    //  to the producer as it is
    zmq_msg_t frames [3];
    const char *texts [] = { "prod", "r1", "hello" };
    for (int index = 0; index < 3; index++) {
        zmq_msg_init_size (&frames [index], strlen (texts [index]));
        memcpy (zmq_msg_data (&frames [index]), texts [index], strlen (texts [index]));
    }
    zg_qoptions_t options = { .reply = true, .priority = 3, .ack_timeout = 700, .timeout = 900 };
    zg_queues_link_send (link, &frames [0], &frames [1], "jobs", &options, &frames [2]);
    s_test_check (bridge, "S|prod|r1|jobs|3|700|1|900|hello");
    zg_queues_link_get (link, &frames [0], &frames [1], &frames [2]);
    s_test_check (bridge, "G|prod|r1|hello");
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    zsock_send (producer, "s", "HELLO");
    zmsg_t *hello = zmsg_recv (producers);
    assert (hello);
    zframe_t *identity = zmsg_pop (hello);
    zmsg_destroy (&hello);
    zmsg_t *ok = zmsg_new ();
    zmsg_addstr (ok, "P");
    zmsg_append (ok, &identity);
    zmsg_addstr (ok, "OK");
    zmsg_addstr (ok, "r1");
    zmsg_addstr (ok, "7");
    zmsg_send (&ok, bridge);
    zmsg_t *answer = NULL;
    for (int attempt = 0; attempt < 200 && !answer; attempt++) {
        zg_queues_link_handle (link, producers);
        zsock_set_rcvtimeo (producer, 10);
        answer = zmsg_recv (producer);
    }
    assert (answer && zmsg_size (answer) == 3);
    zmsg_destroy (&answer);

    //  A worker with credit 2: the link claims 2; one task comes and is
    //  delivered at the attempt Redis counted
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = 2, .names = names, .name_count = 1 };
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c1", 2, (const byte *) "w1", 2, &ready,
                                           &code, reason);
    assert (worker);
    zg_queues_link_watch (link, &ready);
    zg_queues_link_claim (link);
    s_test_check (bridge, "C|jobs|2");
    zg_queues_link_claim (link);        //  Nothing more: the claim is outstanding
    zstr_sendx (bridge, "T", "jobs", "2", "41", "3", "0", "1000", "5", "task", NULL);
    zsock_set_rcvtimeo (bridge, 50);
    for (int attempt = 0; attempt < 100 && !zg_qcore_task (core, 41); attempt++)
        zg_queues_link_handle (link, producers);
    zsock_set_rcvtimeo (bridge, 2000);
    assert (streq (zg_qtest_sent (core), "DELIVER w1 41;"));
    assert (zg_qcore_task (core, 41)->attempt == 3);
    //  The queue got fewer than asked: no claim until a wake-up
    zg_queues_link_claim (link);
    zstr_sendx (bridge, "W", "jobs", NULL);
    zclock_sleep (50);
    zg_queues_link_handle (link, producers);
    zg_queues_link_claim (link);
    s_test_check (bridge, "C|jobs|1");

    //  NACK: back to Redis (R), which decides; ACK: the outcome (F)
    zg_qcore_nack (core, zg_qcore_held (core, worker, 41), false);
    s_test_check (bridge, "R|41|3");
    assert (zg_qcore_task (core, 41) == NULL);
    zstr_sendx (bridge, "T", "jobs", "1", "42", "1", "0", "1000", "5", "more", NULL);
    zsock_set_rcvtimeo (bridge, 50);
    for (int attempt = 0; attempt < 100 && !zg_qcore_task (core, 42); attempt++)
        zg_queues_link_handle (link, producers);
    zsock_set_rcvtimeo (bridge, 2000);
    zmq_msg_t reply;
    zmq_msg_init_size (&reply, 4);
    memcpy (zmq_msg_data (&reply), "MORE", 4);
    zg_qcore_ack (core, zg_qcore_held (core, worker, 42), &reply);
    zmq_msg_close (&reply);
    s_test_check (bridge, "F|42|1|done|MORE");
    assert (zg_qcore_task (core, 42) == NULL);
    json_object *root = json_object_new_object ();
    zg_queues_link_stats (link, root);
    json_object *cluster = json_object_object_get (root, "cluster");
    assert (json_object_get_int64 (json_object_object_get (cluster, "claimed")) == 2);
    assert (json_object_get_int64 (json_object_object_get (cluster, "returned")) == 1);
    json_object_put (root);

    zg_queues_link_destroy (&link);
    zg_qcore_destroy (&core);
    zsock_destroy (&producer);
    zsock_destroy (&producers);
    zsock_destroy (&bridge);
    //  @end
    printf ("OK\n");
}
