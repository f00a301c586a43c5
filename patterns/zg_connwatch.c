/*  =========================================================================
    zg_connwatch - a watchdog over the input of an actor's TCP connections

    Each watched socket has a monitor (ACCEPTED, DISCONNECTED) whose events
    give the descriptors of its connections; the watchdog keeps one record
    per descriptor: when it was accepted, its peer's address, the bytes the
    actor consumed from it. Every ZG_CONNWATCH_INTERVAL it asks the kernel
    how much each connection has read (zg_tcpinfo) and cuts those whose
    input held in libzmq passes the limit. The count is exact for messages
    (ZMTP framing, and CURVE's 33 bytes per frame); what it cannot see are
    ZMTP commands libzmq answers itself (heartbeats), so each connection is
    allowed ZG_CONNWATCH_SLACK bytes plus ZG_CONNWATCH_DRIFT per second of
    its age before the held input counts.
    Small frames cost libzmq more than their bytes: each frame is a 64-byte
    zmq_msg_t in the pipe besides its payload, so an empty frame (2 bytes on
    the wire) costs 32 times its bytes. A count of bytes alone would let one
    connection of empty frames hold the limit times 32. So the checks come
    right after the actor has read what it could, and on a socket with no
    message left to read (ZMQ_EVENTS) a connection's input held is an
    unfinished message: past the largest a client may send (the socket's
    maxmsgsize, plus ZG_CONNWATCH_SLACK for its small frames) it cannot be
    a valid one, and the connection is cut there. Its memory is then at
    most ZG_CONNWATCH_AMPLIFICATION times that bound, whatever its frames;
    legitimate messages up to maxmsgsize still pass. And if what unfinished
    messages may cost at that worst case would pass the memory budget, the
    one that may cost most is cut.
    Output the same way, for an actor that says what it queued for each
    connection (zg_connwatch_on_output: the topics actor, which knows each
    subscriber's prefixes): the bytes queued less what libzmq has written
    to the socket (zg_tcpinfo) is the connection's output held in libzmq's
    pipe, cut past its own limit. libzmq drops a message for a pipe that is
    at its sndhwm without saying so, and the count then takes the dropped
    bytes for held ones: it starts again from nothing once the connection's
    output is idle (nothing written between two checks, nothing in its send
    queue), when libzmq holds nothing for it. Descriptors are reused once
    libzmq closes them: a DISCONNECTED event comes before the close, and a
    connection is cut only if its socket still has the peer it was accepted
    from, so the watchdog never cuts a connection it does not know.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_tcpinfo.h"
#include "zg_wire.h"
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

//  Most sockets one watchdog watches
#define ZG_CONNWATCH_SOCKETS 4
//  Milliseconds between checks of the connections, at least
#define ZG_CONNWATCH_INTERVAL 20
//  A check takes at most one part in this of the actor's time
#define ZG_CONNWATCH_SHARE 10
//  Input held that is never counted: the handshake and early commands
#define ZG_CONNWATCH_SLACK 65536
//  Input allowed per second of a connection's age: heartbeat commands
#define ZG_CONNWATCH_DRIFT 64
//  While the budget's alarm is up, a connection holding more than this is cut
#define ZG_CONNWATCH_ALARM_FLOOR (1 << 20)
//  Shared output may stay past the limit this long (ms) before it is cut
#define ZG_CONNWATCH_OUTPUT_GRACE 1000
//  What libzmq's memory for a message's frames may be, at worst, in times
//  their bytes on the wire: an empty frame is 2 bytes and a 64-byte zmq_msg_t
#define ZG_CONNWATCH_AMPLIFICATION 32
//  CURVE frames each message frame as a MESSAGE command: its name, a nonce,
//  the box's MAC and flags byte
#define ZG_CONNWATCH_CURVE_OVERHEAD 33

//  One connection of a watched socket
typedef struct {
    int64_t accepted;               //  When the monitor reported it, ms
    struct sockaddr_storage peer;   //  Who it was accepted from
    socklen_t peer_size;
    uint64_t consumed;              //  Bytes of the messages the actor read
    int64_t held;                   //  Input held at the last check
    int64_t out_held;               //  Output held at the last check
    int64_t out_over_since;         //  Since when it is past the limit, ms (0: it is not)
    int64_t out_dropped;            //  Queued bytes that libzmq dropped, at most
    uint64_t last_written;          //  Bytes written to it at the last check
    uint64_t last_queued;           //  Of those, in its send queue then
    uint64_t last_routed;           //  Bytes queued for it then
    bool curve;                     //  Frames are CURVE MESSAGE commands
    bool cut;                       //  Shut down, waiting for its close
    size_t watched;                 //  Index of its socket in watched
} s_conn_t;

typedef struct {
    zsock_t *socket;                //  The watched socket
    zsock_t *monitor;               //  Its monitor's events
    int64_t unfinished;             //  Largest unfinished message now, or 0
} s_watched_t;

struct _zg_connwatch_t {
    s_watched_t watched [ZG_CONNWATCH_SOCKETS];
    size_t watched_count;
    s_conn_t **conns;               //  Connections by descriptor
    size_t capacity;                //  Slots of conns
    size_t live;                    //  Connections known
    int64_t next_check;             //  When the next check is due, ms
    int64_t charged;                //  Input and output held, charged to the budget
    int64_t held;                   //  Of that, input
    int64_t output_held;            //  Output held, charged or not
    uint64_t cut;                   //  Connections cut
    uint64_t cut_unfinished;        //  Of those, cut for an unfinished message
    uint64_t out_cut;               //  Connections cut for their output
    zg_connwatch_output_fn *output;
    void *output_arg;
    bool output_shared;             //  Its payloads are charged by their owners
    zg_connwatch_closed_fn *closed;
    void *closed_arg;
};

static _Atomic int64_t s_max_input;
static _Atomic int64_t s_max_output;

void
zg_connwatch_set_max_input (int64_t limit)
{
    assert (limit >= 0);
    atomic_store (&s_max_input, limit);
}

int64_t
zg_connwatch_max_input (void)
{
    return atomic_load (&s_max_input);
}

void
zg_connwatch_set_max_output (int64_t limit)
{
    assert (limit >= 0);
    atomic_store (&s_max_output, limit);
}

int64_t
zg_connwatch_max_output (void)
{
    return atomic_load (&s_max_output);
}

zg_connwatch_t *
zg_connwatch_new (void)
{
    zg_connwatch_t *self = (zg_connwatch_t *) zmalloc (sizeof (zg_connwatch_t));
    assert (self);
    return self;
}

//  What a connection holds that is charged to the budget: its input, and its
//  output unless the output's payloads are charged by their owners

static int64_t
s_charged (zg_connwatch_t *self, s_conn_t *conn)
{
    return conn->held + (self->output_shared? 0: conn->out_held);
}

static void
s_forget (zg_connwatch_t *self, int fd)
{
    if (fd < 0 || (size_t) fd >= self->capacity || !self->conns [fd])
        return;
    //  libzmq has dropped what it held: the charge goes back at once
    s_conn_t *conn = self->conns [fd];
    zg_budget_release (zg_budget_process (), &self->charged, (size_t) s_charged (self, conn));
    self->output_held -= conn->out_held;
    free (conn);
    self->conns [fd] = NULL;
    self->live--;
}

//  A connection closed, known to us or not (its accept may have been missed)
static void
s_closed (zg_connwatch_t *self, int fd)
{
    s_forget (self, fd);
    if (self->closed)
        self->closed (fd, self->closed_arg);
}

void
zg_connwatch_destroy (zg_connwatch_t **self_p)
{
    assert (self_p);
    zg_connwatch_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->watched_count; index++) {
        zmq_socket_monitor (zsock_resolve (self->watched [index].socket), NULL, 0);
        zsock_destroy (&self->watched [index].monitor);
    }
    for (size_t fd = 0; fd < self->capacity; fd++)
        free (self->conns [fd]);
    free (self->conns);
    zg_budget_release (zg_budget_process (), &self->charged, (size_t) self->charged);
    free (self);
    *self_p = NULL;
}

void
zg_connwatch_add (zg_connwatch_t *self, zsock_t *socket)
{
    assert (self && socket);
    for (size_t index = 0; index < self->watched_count; index++)
        if (self->watched [index].socket == socket)
            return;                 //  Watched already (another endpoint)
    assert (self->watched_count < ZG_CONNWATCH_SOCKETS);
    s_watched_t *watched = &self->watched [self->watched_count++];
    watched->socket = socket;
    //  A name of its own: a socket made where a destroyed one was must not
    //  find that one's monitor still bound (libzmq closes it later)
    zuuid_t *name = zuuid_new ();
    char endpoint [80];
    snprintf (endpoint, sizeof endpoint, "inproc://zg-connwatch-%s", zuuid_str (name));
    zuuid_destroy (&name);
    int rc = zmq_socket_monitor (zsock_resolve (socket), endpoint, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED);
    assert (rc == 0);
    watched->monitor = zsock_new (ZMQ_PAIR);
    assert (watched->monitor);
    //  libzmq's I/O thread sends the events and blocks on a full pipe: no
    //  high-water mark on the reading side makes the pipe unbounded
    zsock_set_rcvhwm (watched->monitor, 0);
    rc = zsock_connect (watched->monitor, "%s", endpoint);
    assert (rc == 0);
}

void
zg_connwatch_on_output (zg_connwatch_t *self, zg_connwatch_output_fn *output, void *arg)
{
    assert (self);
    self->output = output;
    self->output_arg = arg;
}

void
zg_connwatch_set_output_shared (zg_connwatch_t *self)
{
    assert (self);
    self->output_shared = true;
}

void
zg_connwatch_on_closed (zg_connwatch_t *self, zg_connwatch_closed_fn *closed, void *arg)
{
    assert (self);
    self->closed = closed;
    self->closed_arg = arg;
}

//  --------------------------------------------------------------------------
//  A connection accepted on a watched socket

static void
s_accepted (zg_connwatch_t *self, size_t watched, int fd)
{
    zsock_t *socket = self->watched [watched].socket;
    if (fd < 0)
        return;
    if ((size_t) fd < self->capacity && self->conns [fd])
        s_closed (self, fd);        //  A close whose event we missed
    if ((size_t) fd >= self->capacity) {
        size_t capacity = self->capacity? self->capacity: 64;
        while (capacity <= (size_t) fd)
            capacity *= 2;
        self->conns = (s_conn_t **) realloc (self->conns, capacity * sizeof (s_conn_t *));
        assert (self->conns);
        memset (self->conns + self->capacity, 0, (capacity - self->capacity) * sizeof (s_conn_t *));
        self->capacity = capacity;
    }
    s_conn_t *conn = (s_conn_t *) zmalloc (sizeof (s_conn_t));
    assert (conn);
    conn->accepted = zclock_mono ();
    conn->peer_size = sizeof conn->peer;
    if (getpeername (fd, (struct sockaddr *) &conn->peer, &conn->peer_size) == -1) {
        free (conn);                //  Closed already; its event follows
        return;
    }
    conn->curve = zsock_mechanism (socket) == ZMQ_CURVE;
    conn->watched = watched;
    self->conns [fd] = conn;
    self->live++;
}

//  --------------------------------------------------------------------------
//  Read one monitor's pending events

static void
s_read_events (zg_connwatch_t *self, size_t index)
{
    s_watched_t *watched = &self->watched [index];
    void *monitor = zsock_resolve (watched->monitor);
    while (true) {
        zmq_msg_t event, address;
        zmq_msg_init (&event);
        if (zmq_msg_recv (&event, monitor, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&event);
            return;
        }
        //  Version 1 events: [event:16 value:32][address]
        zmq_msg_init (&address);
        zmq_msg_recv (&address, monitor, 0);
        if (zmq_msg_size (&event) == 6) {
            const byte *data = (const byte *) zmq_msg_data (&event);
            uint16_t kind;
            uint32_t value;
            memcpy (&kind, data, sizeof kind);
            memcpy (&value, data + sizeof kind, sizeof value);
            if (kind == ZMQ_EVENT_ACCEPTED)
                s_accepted (self, index, (int) value);
            else
            if (kind == ZMQ_EVENT_DISCONNECTED)
                s_closed (self, (int) value);
        }
        zmq_msg_close (&event);
        zmq_msg_close (&address);
    }
}

void
zg_connwatch_drain (zg_connwatch_t *self)
{
    assert (self);
    for (size_t index = 0; index < self->watched_count; index++)
        s_read_events (self, index);
}

//  --------------------------------------------------------------------------
//  Cut a connection: its peer must still be the one it was accepted from

static void
s_cut (zg_connwatch_t *self, int fd, s_conn_t *conn, const char *why)
{
    struct sockaddr_storage peer;
    socklen_t peer_size = sizeof peer;
    if (getpeername (fd, (struct sockaddr *) &peer, &peer_size) == -1
    ||  peer_size != conn->peer_size || memcmp (&peer, &conn->peer, peer_size) != 0)
        return;
    //  Not close: the descriptor stays libzmq's, which reads the end of the
    //  stream, closes it and drops the connection's pipe
    shutdown (fd, SHUT_RDWR);
    conn->cut = true;
    self->cut++;
    zsys_warning ("zg_connwatch: cut a connection holding %" PRId64 " bytes of input and %" PRId64
                  " of output (%s)", conn->held, conn->out_held, why);
}

//  --------------------------------------------------------------------------
//  For each watched socket, the largest unfinished message a connection may
//  hold now: while the socket has a message to read, none (the input held
//  may be whole messages waiting for the actor)

static void
s_measure_unfinished (zg_connwatch_t *self)
{
    for (size_t index = 0; index < self->watched_count; index++) {
        s_watched_t *watched = &self->watched [index];
        int64_t largest = zsock_maxmsgsize (watched->socket);
        watched->unfinished = largest > 0 && !(zsock_events (watched->socket) & ZMQ_POLLIN)
                            ? largest + ZG_CONNWATCH_SLACK: 0;
    }
}

//  --------------------------------------------------------------------------
//  A connection's output held: what the actor queued for it less what
//  libzmq wrote and what libzmq dropped. Idle output (nothing written since
//  the last check, nothing in the send queue, nothing queued meanwhile)
//  means libzmq holds nothing for it: whatever the count still says was
//  dropped

static void
s_measure_output (zg_connwatch_t *self, int fd, s_conn_t *conn, zg_tcpinfo_counts_t *counts)
{
    uint64_t wire, frames;
    if (!self->output || !self->output (fd, &wire, &frames, self->output_arg))
        return;
    uint64_t routed = wire + (conn->curve? frames * ZG_CONNWATCH_CURVE_OVERHEAD: 0);
    if (counts->written == conn->last_written && counts->queued == 0 && conn->last_queued == 0
    &&  routed == conn->last_routed)
        conn->out_dropped = (int64_t) (routed - counts->written);
    conn->last_written = counts->written;
    conn->last_queued = counts->queued;
    conn->last_routed = routed;
    int64_t held = (int64_t) (routed - counts->written) - conn->out_dropped;
    conn->out_held = held > 0? held: 0;
}

//  --------------------------------------------------------------------------
//  Whether a connection's output is past the limit long enough to be cut:
//  at once, but shared output only once it stayed past it for
//  ZG_CONNWATCH_OUTPUT_GRACE: a worker's burst of DELIVERs (prefetch times
//  the task size, its payloads the tasks' own) is written within moments,
//  a client that never reads stays past the limit

static bool
s_output_over (zg_connwatch_t *self, s_conn_t *conn, int64_t limit)
{
    if (limit <= 0 || conn->out_held <= limit) {
        conn->out_over_since = 0;
        return false;
    }
    int64_t now = zclock_mono ();
    if (!conn->out_over_since)
        conn->out_over_since = now;
    return !self->output_shared || now - conn->out_over_since >= ZG_CONNWATCH_OUTPUT_GRACE;
}

//  --------------------------------------------------------------------------
//  Cut a connection past a limit: its input, an unfinished message no client
//  may send (unfinished: that bound now, or 0), its output. Returns whether
//  it was cut

static bool
s_judge (zg_connwatch_t *self, int fd, s_conn_t *conn, int64_t unfinished)
{
    int64_t limit = zg_connwatch_max_input ();
    int64_t out_limit = zg_connwatch_max_output ();
    if (limit > 0 && conn->held > limit)
        s_cut (self, fd, conn, "input past the limit");
    else
    if (unfinished > 0 && conn->held > unfinished) {
        s_cut (self, fd, conn, "an unfinished message larger than any a client may send");
        self->cut_unfinished += conn->cut;
    }
    else
    if (s_output_over (self, conn, out_limit)) {
        s_cut (self, fd, conn, "output past the limit");
        self->out_cut += conn->cut;
    }
    return conn->cut;
}

//  --------------------------------------------------------------------------
//  Measure every connection's input and output held, charge them to the
//  budget and cut those past a limit; under the alarm, cut the one holding
//  most, and cut the unfinished message that may cost most if what
//  unfinished messages past 1 MiB may cost (ZG_CONNWATCH_AMPLIFICATION
//  times their bytes) would pass the budget. That worst case is not
//  charged: large frames cost their bytes, and a charge 32 times theirs
//  would raise the alarm, refusing everyone's work, for a valid upload

static void
s_check (zg_connwatch_t *self)
{
    s_measure_unfinished (self);
    int64_t now = zclock_mono ();
    int64_t total = 0, input = 0, output = 0, potential = 0;
    int largest = -1, costliest = -1;
    for (size_t fd = 0; fd < self->capacity; fd++) {
        s_conn_t *conn = self->conns [fd];
        zg_tcpinfo_counts_t counts;
        if (conn && conn->cut) {
            total += s_charged (self, conn);        //  Held until libzmq closes it
            input += conn->held;
            output += conn->out_held;
        }
        if (!conn || conn->cut || zg_tcpinfo_counts ((int) fd, &counts) == -1)
            continue;
        int64_t allowed = ZG_CONNWATCH_SLACK + (now - conn->accepted) / 1000 * ZG_CONNWATCH_DRIFT;
        int64_t held = (int64_t) (counts.read - conn->consumed) - allowed;
        conn->held = held > 0? held: 0;
        s_measure_output (self, (int) fd, conn, &counts);
        total += s_charged (self, conn);
        input += conn->held;
        output += conn->out_held;
        int64_t unfinished = self->watched [conn->watched].unfinished;
        if (s_judge (self, (int) fd, conn, unfinished))
            continue;
        if (s_charged (self, conn) > ZG_CONNWATCH_ALARM_FLOOR
        &&  (largest == -1 || s_charged (self, conn) > s_charged (self, self->conns [largest])))
            largest = (int) fd;
        if (unfinished > 0 && conn->held > ZG_CONNWATCH_ALARM_FLOOR) {
            potential += conn->held * (ZG_CONNWATCH_AMPLIFICATION - 1);
            if (costliest == -1 || conn->held > self->conns [costliest]->held)
                costliest = (int) fd;
        }
    }
    self->held = input;
    self->output_held = output;
    zg_budget_t *budget = zg_budget_process ();
    if (total > self->charged)
        zg_budget_charge (budget, &self->charged, (size_t) (total - self->charged));
    else
    if (total < self->charged)
        zg_budget_release (budget, &self->charged, (size_t) (self->charged - total));
    if (largest != -1 && zg_budget_alarm (budget))
        s_cut (self, largest, self->conns [largest], "the memory alarm");
    else
    if (costliest != -1 && zg_budget_used (budget) + potential > zg_budget_limit (budget)) {
        s_cut (self, costliest, self->conns [costliest], "what its unfinished message may cost, past the budget");
        self->cut_unfinished += self->conns [costliest]->cut;
    }
}

//  --------------------------------------------------------------------------
//  Check the connections if a check is due. Called before the actor polls,
//  so after it has read what it could: a socket with a message left to read
//  is then one whose actor is behind

static void
s_check_if_due (zg_connwatch_t *self)
{
    zg_connwatch_drain (self);
    if (!self->live || zclock_mono () < self->next_check)
        return;
    int64_t started = zclock_usecs ();
    s_check (self);
    //  Two system calls per connection: with many connections the checks
    //  space out, so that they take at most a tenth of the actor's time
    int64_t spent = (zclock_usecs () - started) / 1000;
    self->next_check = zclock_mono () + (spent * ZG_CONNWATCH_SHARE > ZG_CONNWATCH_INTERVAL
                                         ? spent * ZG_CONNWATCH_SHARE: ZG_CONNWATCH_INTERVAL);
}

int
zg_connwatch_poll (zg_connwatch_t *self, zmq_pollitem_t *items, int count, long timeout)
{
    assert (self && count + ZG_CONNWATCH_SOCKETS <= 16);
    s_check_if_due (self);
    zmq_pollitem_t all [16];
    memcpy (all, items, (size_t) count * sizeof (zmq_pollitem_t));
    for (size_t index = 0; index < self->watched_count; index++) {
        zmq_pollitem_t monitor = { zsock_resolve (self->watched [index].monitor), 0, ZMQ_POLLIN, 0 };
        all [count + (int) index] = monitor;
    }
    int64_t now = zclock_mono ();
    if (self->live) {
        if (self->next_check <= now)
            self->next_check = now + ZG_CONNWATCH_INTERVAL;
        long until_check = (long) (self->next_check - now);
        if (timeout < 0 || timeout > until_check)
            timeout = until_check;
    }
    int rc = zg_actor_poll (all, count + (int) self->watched_count, timeout);
    memcpy (items, all, (size_t) count * sizeof (zmq_pollitem_t));
    zg_connwatch_drain (self);
    return rc;
}

int
zg_connwatch_fd (zmq_msg_t *frame)
{
    assert (frame);
    const char *fd = zmq_msg_gets (frame, "__fd");
    return fd? atoi (fd): -1;
}

void
zg_connwatch_read (zg_connwatch_t *self, zmq_msg_t *frame, size_t wire, size_t frames)
{
    assert (self && frame);
    if (!self->live)
        return;                     //  No TCP connection: no property to read
    int fd = zg_connwatch_fd (frame);
    if (fd < 0 || (size_t) fd >= self->capacity || !self->conns [fd])
        return;
    s_conn_t *conn = self->conns [fd];
    conn->consumed += wire + (conn->curve? frames * ZG_CONNWATCH_CURVE_OVERHEAD: 0);
}

json_object *
zg_connwatch_stats (zg_connwatch_t *self)
{
    assert (self);
    json_object *stats = json_object_new_object ();
    json_object_object_add (stats, "connections", json_object_new_int64 ((int64_t) self->live));
    json_object_object_add (stats, "held", json_object_new_int64 (self->held));
    json_object_object_add (stats, "cut", json_object_new_uint64 (self->cut - self->out_cut));
    json_object_object_add (stats, "cut_unfinished", json_object_new_uint64 (self->cut_unfinished));
    return stats;
}

json_object *
zg_connwatch_output_stats (zg_connwatch_t *self)
{
    assert (self);
    json_object *stats = json_object_new_object ();
    json_object_object_add (stats, "held", json_object_new_int64 (self->output_held));
    json_object_object_add (stats, "cut", json_object_new_uint64 (self->out_cut));
    return stats;
}

void
zg_connwatch_add_stats (zg_connwatch_t *self, json_object *root)
{
    json_object_object_add (root, "input", zg_connwatch_stats (self));
    json_object_object_add (root, "output", zg_connwatch_output_stats (self));
}

//  --------------------------------------------------------------------------
//  Self test of this class

static int s_test_closed_fd = -1;

//  What the test queued for one connection
typedef struct {
    int fd;
    uint64_t wire;
    uint64_t frames;
} s_test_queued_t;

static bool
s_test_output (int fd, uint64_t *wire, uint64_t *frames, void *arg)
{
    s_test_queued_t *queued = (s_test_queued_t *) arg;
    *wire = queued->wire;
    *frames = queued->frames;
    return fd == queued->fd;
}

//  Queue count messages of 64 KiB for a connection (ROUTER drops those past
//  its sndhwm, saying nothing)
static void
s_test_send (zsock_t *router, zmq_msg_t *routing_id, s_test_queued_t *queued, int count)
{
    static byte message [65536];
    for (int index = 0; index < count; index++) {
        zmq_msg_t copy;
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, routing_id);
        assert (zmq_msg_send (&copy, zsock_resolve (router), ZMQ_SNDMORE | ZMQ_DONTWAIT) != -1);
        assert (zmq_send (zsock_resolve (router), message, sizeof message, ZMQ_DONTWAIT) == sizeof message);
        queued->wire += zg_wire_framed_size (sizeof message);
        queued->frames++;
    }
}

//  Poll (reading what a raw peer was sent, if it reads) until the output
//  stats say value for key
static void
s_test_wait_output (zg_connwatch_t *watch, zmq_pollitem_t *items, int reader, const char *key, int64_t value)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        json_object *stats = zg_connwatch_output_stats (watch);
        json_object *got = NULL;
        json_object_object_get_ex (stats, key, &got);
        bool done = json_object_get_int64 (got) == value;
        json_object_put (stats);
        if (done)
            return;
        char buffer [65536];
        while (reader >= 0 && recv (reader, buffer, sizeof buffer, MSG_DONTWAIT) > 0)
            ;
        zg_connwatch_poll (watch, items, 1, 10);
    }
    assert (false);
}

static void
s_test_closed (int fd, void *arg)
{
    (void) arg;
    s_test_closed_fd = fd;
}

//  A TCP peer that has spoken ZMTP 3.0's greeting and READY as a DEALER and
//  heard zgate's, with a receive buffer of rcvbuf bytes (0: the default)

static int
s_test_raw_peer (int port, int rcvbuf)
{
    int raw = socket (AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        assert (setsockopt (raw, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
    struct sockaddr_in address;
    memset (&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t) port);
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert (connect (raw, (struct sockaddr *) &address, sizeof address) == 0);
    byte greeting [64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U', 'L', 'L' };
    assert (send (raw, greeting, sizeof greeting, 0) == sizeof greeting);
    const char ready [] = "\x04\x1c\x05READY\x0bSocket-Type\x00\x00\x00\x06" "DEALER";
    assert (send (raw, ready, sizeof ready - 1, 0) == sizeof ready - 1);
    //  Frames sent before zgate's READY would be taken for handshake commands
    char received [256];
    size_t size = 0;
    while (size < 64 + 8) {         //  The greeting, then [0x04][size][0x05]READY
        ssize_t got = recv (raw, received + size, sizeof received - size, 0);
        assert (got > 0);
        size += (size_t) got;
    }
    return raw;
}

//  One of the watchdog's stats
static int64_t
s_test_stat (zg_connwatch_t *watch, const char *key)
{
    json_object *stats = zg_connwatch_stats (watch);
    json_object *got = NULL;
    json_object_object_get_ex (stats, key, &got);
    int64_t value = json_object_get_int64 (got);
    json_object_put (stats);
    return value;
}

//  Poll until the watchdog's stats say value for key
static void
s_test_wait (zg_connwatch_t *watch, zmq_pollitem_t *items, const char *key, int64_t value)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        if (s_test_stat (watch, key) == value)
            return;
        zg_connwatch_poll (watch, items, 1, 10);
    }
    assert (false);
}

void
zg_connwatch_test (bool verbose)
{
    printf (" * zg_connwatch: ");
    //  @selftest
    int64_t limit = zg_connwatch_max_input ();
    int64_t out_limit = zg_connwatch_max_output ();
    zg_connwatch_set_max_input (1 << 20);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zg_connwatch_t *watch = zg_connwatch_new ();
    zg_connwatch_add (watch, router);
    zg_connwatch_on_closed (watch, s_test_closed, NULL);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zmq_pollitem_t items [] = { { zsock_resolve (router), 0, ZMQ_POLLIN, 0 } };

    //  A client's messages, read and counted, hold nothing
    zsock_t *client = zsock_new_dealer (NULL);
    assert (zsock_connect (client, "tcp://127.0.0.1:%d", port) == 0);
    s_test_wait (watch, items, "connections", 1);
    zstr_sendx (client, "HELLO", "world", NULL);
    zg_wire_request_t request;
    while (zg_wire_recv (&request, zsock_resolve (router)) == -1)
        zg_connwatch_poll (watch, items, 1, 10);
    assert (request.count == 3 && request.wire == 7 + 7);
    zg_connwatch_read (watch, &request.frames [1], request.wire, request.count - 1);
    assert (zg_connwatch_fd (&request.frames [1]) >= 0);
    zg_wire_close (&request);
    zclock_sleep (2 * ZG_CONNWATCH_INTERVAL);
    zg_connwatch_poll (watch, items, 1, 0);
    json_object *stats = zg_connwatch_stats (watch);
    if (verbose)
        printf ("(%s) ", json_object_to_json_string (stats));
    assert (streq (json_object_to_json_string (stats), "{ \"connections\": 1, \"held\": 0, \"cut\": 0, \"cut_unfinished\": 0 }"));
    json_object_put (stats);

    //  A message that never ends, from a peer that speaks ZMTP itself (a
    //  libzmq client keeps an unfinished message in its own pipe): past the
    //  limit the connection is cut and the watchdog hears of its close
    int raw = s_test_raw_peer (port, 0);
    char frame [9 + 8192];
    frame [0] = 0x03;               //  MORE, long size
    for (int index = 0; index < 8; index++)
        frame [1 + index] = index == 6? 0x20: 0;
    memset (frame + 9, 'x', 8192);
    for (int index = 0; index < 512; index++)
        if (send (raw, frame, sizeof frame, MSG_NOSIGNAL) != (ssize_t) sizeof frame)
            break;                  //  Cut
    s_test_wait (watch, items, "cut", 1);
    s_test_wait (watch, items, "connections", 1);
    assert (s_test_closed_fd >= 0);
    close (raw);
    assert (zmq_poll (items, 1, 0) == 0);     //  Nothing of it reached the actor

    //  Empty frames cost libzmq 32 times their bytes: an unfinished message
    //  larger than any a client may send (maxmsgsize, and some small frames)
    //  is cut long before the limit, while a message of maxmsgsize passes
    zg_connwatch_set_max_input (64 << 20);
    zsock_set_maxmsgsize (router, 8192);
    raw = s_test_raw_peer (port, 0);
    assert (send (raw, frame, sizeof frame, MSG_NOSIGNAL) == (ssize_t) sizeof frame);
    byte last [] = { 0x00, 0x01, 'x' };
    assert (send (raw, last, sizeof last, MSG_NOSIGNAL) == (ssize_t) sizeof last);
    while (zg_wire_recv (&request, zsock_resolve (router)) == -1)
        zg_connwatch_poll (watch, items, 1, 10);
    assert (request.count == 3 && zmq_msg_size (&request.frames [1]) == 8192);
    zg_connwatch_read (watch, &request.frames [1], request.wire, request.count - 1);
    zg_wire_close (&request);
    byte empty [2 * 4096];
    for (size_t index = 0; index < sizeof empty; index += 2) {
        empty [index] = 0x01;       //  MORE, size 0
        empty [index + 1] = 0;
    }
    int64_t sent = 0;
    while (!s_test_stat (watch, "cut_unfinished") && sent < (64 << 20)
       &&  send (raw, empty, sizeof empty, MSG_NOSIGNAL) == (ssize_t) sizeof empty) {
        sent += (int64_t) sizeof empty;
        zg_connwatch_poll (watch, items, 1, 1);
    }
    s_test_wait (watch, items, "cut_unfinished", 1);
    //  Not at the limit, 64 MiB, but past 72 KiB (what 8 KiB a millisecond
    //  add until the next check)
    assert (sent < (1 << 20));
    close (raw);

    //  Output: what the actor queued for a connection less what libzmq
    //  wrote to its socket. A peer that does not read (small buffers)
    zg_connwatch_set_max_output (0);
    s_test_queued_t queued = { -1, 0, 0 };
    zg_connwatch_on_output (watch, s_test_output, &queued);
    //  libzmq applies buffer sizes to the connections of endpoints bound later
    zsock_t *sender = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (sender, 4);
    zsock_set_sndbuf (sender, 4096);
    zg_connwatch_add (watch, sender);
    port = zsock_bind (sender, "tcp://127.0.0.1:*");
    assert (port > 0);
    items [0].socket = zsock_resolve (sender);
    raw = s_test_raw_peer (port, 4096);
    byte hello [] = { 0x00, 0x01, 'h' };
    assert (send (raw, hello, sizeof hello, MSG_NOSIGNAL) == (ssize_t) sizeof hello);
    while (zg_wire_recv (&request, zsock_resolve (sender)) == -1)
        zg_connwatch_poll (watch, items, 1, 10);
    queued.fd = zg_connwatch_fd (&request.frames [1]);
    zmq_msg_t routing_id;
    zmq_msg_init (&routing_id);
    zmq_msg_copy (&routing_id, &request.frames [0]);
    zg_wire_close (&request);
    //  4 MiB queued, most of it dropped at sndhwm: the count cannot tell
    s_test_send (sender, &routing_id, &queued, 64);
    zclock_sleep (2 * ZG_CONNWATCH_INTERVAL);
    zg_connwatch_poll (watch, items, 1, 0);
    stats = zg_connwatch_output_stats (watch);
    json_object *held = NULL;
    json_object_object_get_ex (stats, "held", &held);
    assert (json_object_get_int64 (held) > (3 << 20));
    json_object_put (stats);
    //  It is charged to the budget, unless its payloads are charged by their
    //  owners (then only the limit bounds it, as below)
    assert (zg_budget_used (zg_budget_process ()) > (3 << 20));
    zg_connwatch_set_output_shared (watch);
    zclock_sleep (2 * ZG_CONNWATCH_INTERVAL);
    zg_connwatch_poll (watch, items, 1, 0);
    assert (zg_budget_used (zg_budget_process ()) < (1 << 20));
    //  Once the peer has read everything, its output is idle: held nothing
    s_test_wait_output (watch, items, raw, "held", 0);
    //  Past the limit the connection is cut
    zg_connwatch_set_max_output (1 << 20);
    s_test_send (sender, &routing_id, &queued, 32);
    s_test_wait_output (watch, items, -1, "cut", 1);
    zmq_msg_close (&routing_id);
    close (raw);
    s_test_wait_output (watch, items, -1, "held", 0);
    items [0].socket = zsock_resolve (router);
    zsock_destroy (&client);
    s_test_wait (watch, items, "connections", 0);

    //  An inproc message names no connection: not counted, nothing breaks
    zmq_msg_t inproc;
    zmq_msg_init_size (&inproc, 1);
    assert (zg_connwatch_fd (&inproc) == -1);
    zg_connwatch_read (watch, &inproc, 3, 1);
    zmq_msg_close (&inproc);

    zg_connwatch_destroy (&watch);
    zsock_destroy (&router);
    zsock_destroy (&sender);
    zg_connwatch_set_max_input (limit);
    zg_connwatch_set_max_output (out_limit);
    //  @end
    printf ("OK\n");
}
