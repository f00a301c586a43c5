/*  =========================================================================
    zg_connwatch - a watchdog over the input of an actor's TCP connections:
    bytes a peer sent that libzmq holds and the actor has not read yet

    libzmq bounds each frame (maxmsgsize) and counts whole messages against
    rcvhwm, but keeps the frames of an unfinished message in the connection's
    pipe, unreadable and uncounted, however many there are: a peer that sends
    frames with MORE set and never the last one grows zgate without bound.
    The watchdog sees what libzmq cannot: for each connection the socket
    monitor reports (its file descriptor), the kernel's count of bytes read
    from it (zg_tcpinfo) less the bytes of the messages the actor consumed
    from it (each message names its connection's descriptor in its "__fd"
    property) is its input held in zgate. A connection that holds more than
    the limit is cut (shutdown of its socket: libzmq then closes it and frees
    its pipe, half message included); so is one holding an unfinished
    message larger than any a client may send. For an actor that says what
    it queued for each connection, output the same way: bytes queued less
    bytes written to the socket. The input and output held are charged to the
    process's memory budget, and while the budget's alarm is up the
    connection holding the most (past 1 MiB) is cut as well, as is the
    unfinished message that may cost most when what unfinished messages may
    cost libzmq (32 times their bytes: empty frames) would pass the budget.
    =========================================================================
*/

#ifndef ZG_CONNWATCH_H_INCLUDED
#define ZG_CONNWATCH_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_connwatch_t zg_connwatch_t;

//  Called with a connection's descriptor when the monitor reports it closed
//  (before libzmq drops the connection's pipe)
typedef void (zg_connwatch_closed_fn) (int fd, void *arg);

//  Asked at each check for what the actor has queued for a connection since
//  it was accepted, as ZMTP frames (without CURVE): their bytes and count.
//  Returns false if the actor queues nothing it counts for that connection
typedef bool (zg_connwatch_output_fn) (int fd, uint64_t *wire, uint64_t *frames, void *arg);

//  Create a watchdog (it watches nothing until zg_connwatch_add)
zg_connwatch_t *
    zg_connwatch_new (void);

//  Destroy a watchdog; its sockets must still be open
void
    zg_connwatch_destroy (zg_connwatch_t **self_p);

//  Watch the TCP connections a socket accepts from now on (call before it
//  binds; again for the same socket does nothing). At most 4 sockets
void
    zg_connwatch_add (zg_connwatch_t *self, zsock_t *socket);

//  Have closed called for every watched connection that closes
void
    zg_connwatch_on_closed (zg_connwatch_t *self, zg_connwatch_closed_fn *closed, void *arg);

//  Have output asked for what the actor queued for each connection; the
//  watchdog then bounds their output too
void
    zg_connwatch_on_output (zg_connwatch_t *self, zg_connwatch_output_fn *output, void *arg);

//  The output's payloads are shared with buffers charged to the budget by
//  their owners (the queues' tasks and results, the rooms' messages): its
//  held bytes are then bounded by the connection limit only, neither
//  charged again nor cut by the budget's alarm (which would cut the worker
//  that drains a full queue), and cut once past it for a second (a burst
//  of DELIVERs, prefetch times the task size, is written by then)
void
    zg_connwatch_set_output_shared (zg_connwatch_t *self);

//  The process's limit of one connection's output held in libzmq, bytes (0:
//  none but the budget's alarm); zgate sets it from server/max-connection-output
void
    zg_connwatch_set_max_output (int64_t limit);

int64_t
    zg_connwatch_max_output (void);

//  The process's limit of one connection's input held, bytes (0: none but
//  the budget's alarm); zgate sets it from server/max-connection-input
void
    zg_connwatch_set_max_input (int64_t limit);

int64_t
    zg_connwatch_max_input (void);

//  zg_actor_poll over items and the watchdog's monitors, its timeout cut to
//  the next check; reads the monitors' events and checks the connections
//  when due. Returns what zg_actor_poll returns
int
    zg_connwatch_poll (zg_connwatch_t *self, zmq_pollitem_t *items, int count, long timeout);

//  Read the monitors' pending events now
void
    zg_connwatch_drain (zg_connwatch_t *self);

//  A message consumed from a watched socket: frame is one of its frames that
//  came over the wire (it carries its connection's properties), wire the
//  bytes of its frames as framed without encryption (zg_wire_framed_size),
//  frames how many frames it had. Inproc messages are not counted
void
    zg_connwatch_read (zg_connwatch_t *self, zmq_msg_t *frame, size_t wire, size_t frames);

//  The descriptor of the connection a frame came from, or -1 (inproc)
int
    zg_connwatch_fd (zmq_msg_t *frame);

//  Connections watched, input held, connections cut for it (and of those,
//  for an unfinished message)
json_object *
    zg_connwatch_stats (zg_connwatch_t *self);

//  Output held, connections cut for it
json_object *
    zg_connwatch_output_stats (zg_connwatch_t *self);

//  Both into an actor's stats root, as "input" and "output"
void
    zg_connwatch_add_stats (zg_connwatch_t *self, json_object *root);

//  Self test of this class
void
    zg_connwatch_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
