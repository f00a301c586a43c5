/*  =========================================================================
    zg_redis - one connection to one Redis server, for an actor's poll loop

    Private to the cluster actor. The connection never blocks its thread:
    it connects without waiting (a connect that has not finished within the
    connect timeout fails), writes what the socket takes and reads what has
    arrived, when the actor's zmq_poll says its fd is ready (zg_redis_poll_item,
    zg_redis_handle). It reconnects by itself after a failure, waiting 100
    ms, then twice as long each time up to the backoff limit. It sends a PING
    when it has heard nothing for a third of its timeout, and a connection
    silent for the whole timeout while it waits for an answer counts as lost:
    a Redis that stops answering (a partition) is found as surely as one that
    closes the connection. Its own PINGs' answers never reach the owner.

    A subscriber connection (zg_redis_set_subscriber) receives messages that
    answer no command, so only the PING rule applies to it there.

    Addresses are "host:port" ("[::1]:6379" for IPv6).
    =========================================================================
*/

#ifndef ZG_REDIS_H_INCLUDED
#define ZG_REDIS_H_INCLUDED

#include <czmq.h>
#include <hiredis/hiredis.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_redis_t zg_redis_t;

//  Create a connection to address (it connects on the first zg_redis_tick);
//  NULL with a reason in error if the address is not host:port
zg_redis_t *
    zg_redis_new (const char *address, char *error, size_t size);

//  Destroy the connection, closing it
void
    zg_redis_destroy (zg_redis_t **self_p);

//  Set the connect timeout, the answer timeout and the longest wait between
//  two connection attempts, in ms (the defaults: 1000, 3000, 2000)
void
    zg_redis_set_timeouts (zg_redis_t *self, int64_t connect_timeout, int64_t timeout, int64_t backoff_max);

//  Mark the connection as a subscriber's (SUBSCRIBE, PSUBSCRIBE)
void
    zg_redis_set_subscriber (zg_redis_t *self);

//  Let time pass: start a connection attempt when one is due, fail one that
//  takes too long, ping or drop a silent connection. now is zclock_mono ().
void
    zg_redis_tick (zg_redis_t *self, int64_t now);

//  Monotonic ms at which zg_redis_tick has something to do
int64_t
    zg_redis_next_tick (zg_redis_t *self);

//  Fill item with the connection's fd and the events to wait for; returns
//  false (item zeroed, events 0) when there is no connection
bool
    zg_redis_poll_item (zg_redis_t *self, zmq_pollitem_t *item);

//  The poll reported revents for the fd: finish connecting, write, read
void
    zg_redis_handle (zg_redis_t *self, short revents, int64_t now);

//  Queue a command (arguments as binary strings); it is written when the
//  poll says the socket takes it (zg_redis_poll_item asks for POLLOUT), so
//  the commands of one pass of the loop go out together. Returns 0, or -1
//  if the connection is not up (nothing queued)
int
    zg_redis_command (zg_redis_t *self, int argc, const char **argv, const size_t *argv_size);

//  The next reply that has arrived (the caller frees it with
//  freeReplyObject), or NULL. A reply Redis could not send intact drops
//  the connection.
redisReply *
    zg_redis_reply (zg_redis_t *self);

//  Whether the connection is up (connected, not failed)
bool
    zg_redis_up (zg_redis_t *self);

//  How many times the connection came up: a new value means a new
//  connection, whose state (subscriptions) starts empty
uint64_t
    zg_redis_connects (zg_redis_t *self);

//  Commands whose answers are still due (not on a subscriber connection)
size_t
    zg_redis_pending (zg_redis_t *self);

//  Bytes of commands not yet written to the socket
size_t
    zg_redis_buffered (zg_redis_t *self);

//  The address, as given
const char *
    zg_redis_address (zg_redis_t *self);

//  Why the connection last failed, or "" if it never did
const char *
    zg_redis_error (zg_redis_t *self);

//  Self test of this class; starts its own redis-server
void
    zg_redis_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
