/*  =========================================================================
    zg_redis - one connection to one Redis server, for an actor's poll loop

    hiredis' plain context in non-blocking mode, driven by hand: commands
    are appended to its output buffer and written as far as the socket
    takes, replies are read into its reader when the fd is readable and
    taken one by one. (hiredis' async API would need an event-loop adapter
    of our own for zmq_poll; the plain context's buffer calls are that loop
    already.) A connection is DOWN (waiting to retry), CONNECTING (waiting
    for the socket to become writable), GREETING (waiting for the answer to
    a first PING: a frozen Redis, or one beyond a partition that a proxy or
    the kernel's backlog still accepts connections for, never gets past it)
    or UP; the connect timeout bounds CONNECTING and GREETING together.

    Our own PINGs go out only when no answer is due, so on a plain
    connection the next reply after one is its PONG; on a subscriber one
    the PONG is ["pong", ""] (or PONG before its first subscription),
    which no subscription message looks like.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_redis.h"
#include "zg_redis_server.h"
#include <sys/socket.h>

//  First wait before a reconnection, ms
#define ZG_REDIS_BACKOFF_MIN 100

typedef enum {
    ZG_REDIS_DOWN,
    ZG_REDIS_CONNECTING,
    ZG_REDIS_GREETING,
    ZG_REDIS_UP
} s_state_t;

struct _zg_redis_t {
    char *address;                  //  As given
    char *host;                     //  Host part (brackets removed)
    int port;                       //  Port part
    redisContext *context;          //  The connection, or NULL when down
    s_state_t state;                //  Where the connection is
    bool subscriber;                //  Receives subscription messages
    int64_t connect_timeout;        //  Longest connect, ms
    int64_t timeout;                //  Longest silence while an answer is due, ms
    int64_t backoff_max;            //  Longest wait between attempts, ms
    int64_t backoff;                //  Wait before the next attempt, ms
    int64_t next_attempt;           //  When to try connecting (DOWN)
    int64_t deadline;               //  When a connect fails (CONNECTING)
    int64_t last_heard;             //  When bytes last arrived, or the wait began
    size_t pending;                 //  Answers due to the owner
    bool ping_due;                  //  Our PING's answer is next (or due, subscriber)
    uint64_t connects;              //  Times the connection came up
    char error [128];               //  Last failure
};

//  --------------------------------------------------------------------------
//  Create a connection to address

zg_redis_t *
zg_redis_new (const char *address, char *error, size_t size)
{
    assert (address);
    const char *colon = strrchr (address, ':');
    char *end = NULL;
    long port = colon? strtol (colon + 1, &end, 10): 0;
    size_t host_size = colon? (size_t) (colon - address): 0;
    bool bracketed = host_size >= 2 && address [0] == '[' && address [host_size - 1] == ']';
    if (!colon || host_size == 0 || !isdigit ((unsigned char) colon [1]) || *end || port < 1 || port > 65535
    ||  (memchr (address, ':', host_size) && !bracketed) || (bracketed && host_size == 2)) {
        snprintf (error, size, "'%s' is not a Redis address host:port", address);
        return NULL;
    }
    zg_redis_t *self = (zg_redis_t *) zmalloc (sizeof (zg_redis_t));
    assert (self);
    self->address = strdup (address);
    self->host = bracketed? strndup (address + 1, host_size - 2): strndup (address, host_size);
    self->port = (int) port;
    self->connect_timeout = 1000;
    self->timeout = 3000;
    self->backoff_max = 2000;
    self->backoff = ZG_REDIS_BACKOFF_MIN;
    return self;
}

//  --------------------------------------------------------------------------
//  Close the connection and schedule the next attempt

static void
s_fail (zg_redis_t *self, const char *reason, int64_t now)
{
    if (self->state == ZG_REDIS_UP)
        zsys_warning ("zg_redis: lost %s: %s", self->address, reason);
    snprintf (self->error, sizeof self->error, "%s", reason);
    if (self->context)
        redisFree (self->context);
    self->context = NULL;
    self->state = ZG_REDIS_DOWN;
    self->pending = 0;
    self->ping_due = false;
    self->next_attempt = now + self->backoff;
    self->backoff = self->backoff * 2 < self->backoff_max? self->backoff * 2: self->backoff_max;
}

//  --------------------------------------------------------------------------
//  Destroy the connection

void
zg_redis_destroy (zg_redis_t **self_p)
{
    assert (self_p);
    zg_redis_t *self = *self_p;
    if (self) {
        if (self->context)
            redisFree (self->context);
        free (self->address);
        free (self->host);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Set the timeouts

void
zg_redis_set_timeouts (zg_redis_t *self, int64_t connect_timeout, int64_t timeout, int64_t backoff_max)
{
    assert (self);
    assert (connect_timeout > 0 && timeout > 0 && backoff_max >= ZG_REDIS_BACKOFF_MIN);
    self->connect_timeout = connect_timeout;
    self->timeout = timeout;
    self->backoff_max = backoff_max;
    if (self->backoff > backoff_max)
        self->backoff = backoff_max;
}

//  --------------------------------------------------------------------------
//  Mark the connection as a subscriber's

void
zg_redis_set_subscriber (zg_redis_t *self)
{
    assert (self);
    self->subscriber = true;
}

//  --------------------------------------------------------------------------
//  Whether an answer is due (so silence means trouble)

static bool
s_waiting (zg_redis_t *self)
{
    return self->ping_due || self->pending > 0;
}

//  --------------------------------------------------------------------------
//  Write what the socket takes of the output buffer

static void
s_write (zg_redis_t *self, int64_t now)
{
    int done = 0;
    if (redisBufferWrite (self->context, &done) == REDIS_ERR)
        s_fail (self, self->context->errstr, now);
}

//  --------------------------------------------------------------------------
//  Start a connection attempt

static void
s_connect (zg_redis_t *self, int64_t now)
{
    self->context = redisConnectNonBlock (self->host, self->port);
    if (!self->context || self->context->err) {
        s_fail (self, self->context? self->context->errstr: "out of memory", now);
        return;
    }
    self->state = ZG_REDIS_CONNECTING;
    self->deadline = now + self->connect_timeout;
}

//  --------------------------------------------------------------------------
//  Send our PING (only when no answer is due)

static void
s_ping (zg_redis_t *self, int64_t now)
{
    redisAppendCommand (self->context, "PING");
    self->last_heard = now;
    self->ping_due = true;
}

//  --------------------------------------------------------------------------
//  Let time pass

void
zg_redis_tick (zg_redis_t *self, int64_t now)
{
    assert (self);
    if (self->state == ZG_REDIS_DOWN && now >= self->next_attempt)
        s_connect (self, now);
    else
    if ((self->state == ZG_REDIS_CONNECTING || self->state == ZG_REDIS_GREETING) && now >= self->deadline)
        s_fail (self, self->state == ZG_REDIS_CONNECTING? "connect timed out": "no answer to PING in time", now);
    else
    if (self->state == ZG_REDIS_UP && s_waiting (self) && now - self->last_heard >= self->timeout)
        s_fail (self, "no answer in time", now);
    else
    if (self->state == ZG_REDIS_UP && !s_waiting (self) && now - self->last_heard >= self->timeout / 3)
        s_ping (self, now);
}

//  --------------------------------------------------------------------------
//  When zg_redis_tick has something to do

int64_t
zg_redis_next_tick (zg_redis_t *self)
{
    assert (self);
    if (self->state == ZG_REDIS_DOWN)
        return self->next_attempt;
    if (self->state == ZG_REDIS_CONNECTING || self->state == ZG_REDIS_GREETING)
        return self->deadline;
    return self->last_heard + (s_waiting (self)? self->timeout: self->timeout / 3);
}

//  --------------------------------------------------------------------------
//  Fill a poll item

bool
zg_redis_poll_item (zg_redis_t *self, zmq_pollitem_t *item)
{
    assert (self);
    memset (item, 0, sizeof *item);
    if (!self->context)
        return false;
    item->fd = self->context->fd;
    if (self->state == ZG_REDIS_CONNECTING || sdslen (self->context->obuf) > 0)
        item->events |= ZMQ_POLLOUT;
    if (self->state == ZG_REDIS_UP || self->state == ZG_REDIS_GREETING)
        item->events |= ZMQ_POLLIN;
    return true;
}

//  --------------------------------------------------------------------------
//  A non-blocking connect finished: if it succeeded, greet the server

static void
s_connected (zg_redis_t *self, int64_t now)
{
    int failure = 0;
    socklen_t length = sizeof failure;
    if (getsockopt (self->context->fd, SOL_SOCKET, SO_ERROR, &failure, &length) || failure) {
        s_fail (self, strerror (failure? failure: errno), now);
        return;
    }
    self->state = ZG_REDIS_GREETING;
    redisAppendCommand (self->context, "PING");
}

//  --------------------------------------------------------------------------
//  The answer to the greeting: PONG makes the connection UP, anything else
//  (an error such as LOADING while Redis reads its data) fails it

static void
s_greeted (zg_redis_t *self, int64_t now)
{
    void *reply = NULL;
    if (redisGetReplyFromReader (self->context, &reply) == REDIS_ERR) {
        s_fail (self, self->context->errstr, now);
        return;
    }
    if (!reply)
        return;
    redisReply *answer = (redisReply *) reply;
    if (answer->type == REDIS_REPLY_STATUS && streq (answer->str, "PONG")) {
        self->state = ZG_REDIS_UP;
        self->connects++;
        self->backoff = ZG_REDIS_BACKOFF_MIN;
        self->last_heard = now;
        if (self->connects > 1)
            zsys_notice ("zg_redis: connected to %s again", self->address);
    }
    else
        s_fail (self, answer->type == REDIS_REPLY_ERROR? answer->str: "unexpected answer to PING", now);
    freeReplyObject (reply);
}

//  --------------------------------------------------------------------------
//  The poll reported revents for the fd

void
zg_redis_handle (zg_redis_t *self, short revents, int64_t now)
{
    assert (self);
    if (self->state == ZG_REDIS_CONNECTING && (revents & (ZMQ_POLLOUT | ZMQ_POLLERR)))
        s_connected (self, now);
    bool open = self->state == ZG_REDIS_UP || self->state == ZG_REDIS_GREETING;
    if (open && (revents & ZMQ_POLLOUT))
        s_write (self, now);
    open = self->state == ZG_REDIS_UP || self->state == ZG_REDIS_GREETING;
    if (open && (revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
        if (redisBufferRead (self->context) == REDIS_ERR)
            s_fail (self, self->context->errstr, now);
        else
            self->last_heard = now;
    }
    if (self->state == ZG_REDIS_GREETING)
        s_greeted (self, now);
}

//  --------------------------------------------------------------------------
//  Queue a command

int
zg_redis_command (zg_redis_t *self, int argc, const char **argv, const size_t *argv_size)
{
    assert (self);
    if (self->state != ZG_REDIS_UP)
        return -1;
    int64_t now = zclock_mono ();
    if (!self->subscriber && !s_waiting (self))
        self->last_heard = now;
    if (redisAppendCommandArgv (self->context, argc, argv, argv_size) != REDIS_OK) {
        s_fail (self, self->context->errstr, now);
        return -1;
    }
    if (!self->subscriber)
        self->pending++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Whether a reply is the answer to our PING

static bool
s_is_pong (zg_redis_t *self, redisReply *reply)
{
    if (!self->subscriber)
        return true;
    //  A subscriber connection that has no subscription yet answers as a plain one
    if (reply->type == REDIS_REPLY_STATUS)
        return streq (reply->str, "PONG");
    return reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1
        && reply->element [0]->type == REDIS_REPLY_STRING && streq (reply->element [0]->str, "pong");
}

//  --------------------------------------------------------------------------
//  The next reply that has arrived

redisReply *
zg_redis_reply (zg_redis_t *self)
{
    assert (self);
    while (self->state == ZG_REDIS_UP) {
        void *reply = NULL;
        if (redisGetReplyFromReader (self->context, &reply) == REDIS_ERR) {
            s_fail (self, self->context->errstr, zclock_mono ());
            return NULL;
        }
        if (!reply)
            return NULL;
        if (self->ping_due && s_is_pong (self, (redisReply *) reply)) {
            self->ping_due = false;
            freeReplyObject (reply);
            continue;
        }
        if (self->pending > 0)
            self->pending--;
        return (redisReply *) reply;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Whether the connection is up

bool
zg_redis_up (zg_redis_t *self)
{
    assert (self);
    return self->state == ZG_REDIS_UP;
}

//  --------------------------------------------------------------------------
//  How many times the connection came up

uint64_t
zg_redis_connects (zg_redis_t *self)
{
    assert (self);
    return self->connects;
}

//  --------------------------------------------------------------------------
//  Commands whose answers are still due

size_t
zg_redis_pending (zg_redis_t *self)
{
    assert (self);
    return self->pending;
}

//  --------------------------------------------------------------------------
//  Bytes of commands not yet written

size_t
zg_redis_buffered (zg_redis_t *self)
{
    assert (self);
    return self->context? sdslen (self->context->obuf): 0;
}

//  --------------------------------------------------------------------------
//  The address

const char *
zg_redis_address (zg_redis_t *self)
{
    assert (self);
    return self->address;
}

//  --------------------------------------------------------------------------
//  Why the connection last failed

const char *
zg_redis_error (zg_redis_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Run a connection's loop until done (up, or down) or timeout ms pass;
//  returns whether it got there
static bool
s_test_run_until (zg_redis_t *redis, bool up, int64_t timeout)
{
    int64_t deadline = zclock_mono () + timeout;
    while (zclock_mono () < deadline && zg_redis_up (redis) != up) {
        int64_t now = zclock_mono ();
        zg_redis_tick (redis, now);
        zmq_pollitem_t item;
        int64_t wait = zg_redis_next_tick (redis) - now;
        if (zg_redis_poll_item (redis, &item))
            zmq_poll (&item, 1, wait < 0? 0: wait > 50? 50: wait);
        else
            zclock_sleep (wait < 0? 0: wait > 50? 50: (int) wait);
        if (item.revents)
            zg_redis_handle (redis, item.revents, zclock_mono ());
    }
    return zg_redis_up (redis) == up;
}

//  Run the loop until a reply arrives; returns it (the caller frees it) or NULL
static redisReply *
s_test_reply (zg_redis_t *redis, int64_t timeout)
{
    int64_t deadline = zclock_mono () + timeout;
    redisReply *reply = zg_redis_reply (redis);
    while (!reply && zclock_mono () < deadline && zg_redis_up (redis)) {
        zmq_pollitem_t item;
        zg_redis_tick (redis, zclock_mono ());
        if (zg_redis_poll_item (redis, &item) && zmq_poll (&item, 1, 50) > 0)
            zg_redis_handle (redis, item.revents, zclock_mono ());
        reply = zg_redis_reply (redis);
    }
    return reply;
}

//  Send a command of string arguments
static int
s_test_command (zg_redis_t *redis, const char *first, const char *second, const char *third)
{
    const char *argv [] = { first, second, third };
    size_t sizes [] = { strlen (first), second? strlen (second): 0, third? strlen (third): 0 };
    return zg_redis_command (redis, third? 3: second? 2: 1, argv, sizes);
}

void
zg_redis_test (bool verbose)
{
    printf (" * zg_redis: ");
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED: no redis-server on PATH (Debian's redis-server package)\n");
        return;
    }
    //  @selftest
    //  Addresses are host:port
    char error [256];
    const char *bad [] = { "localhost", ":6379", "host:", "host:0", "host:65536", "host:12x", "::1:6379",
                           "[]:6379", "host:-1", NULL };
    for (const char **address = bad; *address; address++) {
        assert (zg_redis_new (*address, error, sizeof error) == NULL);
        assert (strstr (error, "not a Redis address"));
    }
    if (verbose)
        printf ("(%s) ", error);
    zg_redis_t *redis = zg_redis_new ("[::1]:6379", error, sizeof error);
    assert (redis);
    zg_redis_destroy (&redis);
    assert (redis == NULL);

    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    redis = zg_redis_new (zg_redis_server_address (server), error, sizeof error);
    assert (redis);
    assert (streq (zg_redis_address (redis), zg_redis_server_address (server)));
    zg_redis_set_timeouts (redis, 1000, 600, 200);
    assert (!zg_redis_up (redis));
    assert (s_test_command (redis, "PING", NULL, NULL) == -1);
    assert (s_test_run_until (redis, true, 2000));
    assert (zg_redis_connects (redis) == 1);

    //  Commands and their answers, in order
    assert (s_test_command (redis, "SET", "zg-redis-test", "value") == 0);
    assert (s_test_command (redis, "GET", "zg-redis-test", NULL) == 0);
    assert (zg_redis_pending (redis) == 2);
    redisReply *reply = s_test_reply (redis, 2000);
    assert (reply && reply->type == REDIS_REPLY_STATUS && streq (reply->str, "OK"));
    freeReplyObject (reply);
    reply = s_test_reply (redis, 2000);
    assert (reply && reply->type == REDIS_REPLY_STRING && streq (reply->str, "value"));
    freeReplyObject (reply);
    assert (zg_redis_pending (redis) == 0);

    //  Idle, it pings on its own and swallows the answer
    reply = s_test_reply (redis, 700);
    assert (reply == NULL && zg_redis_up (redis));

    //  A subscriber connection: messages, and pings with their own answer
    zg_redis_t *subscriber = zg_redis_new (zg_redis_server_address (server), error, sizeof error);
    zg_redis_set_timeouts (subscriber, 1000, 600, 200);
    zg_redis_set_subscriber (subscriber);
    assert (s_test_run_until (subscriber, true, 2000));
    //  Before its first subscription it pings as a plain connection
    assert (s_test_reply (subscriber, 700) == NULL && zg_redis_up (subscriber));
    assert (s_test_command (subscriber, "PSUBSCRIBE", "zg-test.*", NULL) == 0);
    reply = s_test_reply (subscriber, 2000);
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3);
    assert (streq (reply->element [0]->str, "psubscribe"));
    freeReplyObject (reply);
    assert (s_test_reply (subscriber, 700) == NULL && zg_redis_up (subscriber));
    assert (s_test_command (redis, "PUBLISH", "zg-test.a", "hello") == 0);
    reply = s_test_reply (redis, 2000);
    assert (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
    freeReplyObject (reply);
    reply = s_test_reply (subscriber, 2000);
    assert (reply && reply->elements == 4 && streq (reply->element [0]->str, "pmessage"));
    assert (streq (reply->element [2]->str, "zg-test.a") && streq (reply->element [3]->str, "hello"));
    freeReplyObject (reply);

    //  The server goes away: both notice, and reconnect once it is back,
    //  each as a new connection
    zg_redis_server_stop (server);
    assert (s_test_run_until (redis, false, 2000));
    assert (s_test_run_until (subscriber, false, 2000));
    assert (*zg_redis_error (redis));
    if (verbose)
        printf ("(%s) ", zg_redis_error (redis));
    assert (s_test_command (redis, "PING", NULL, NULL) == -1);
    assert (!s_test_run_until (redis, true, 500));
    assert (zg_redis_server_start (server) == 0);
    assert (s_test_run_until (redis, true, 2000));
    assert (s_test_run_until (subscriber, true, 2000));
    assert (zg_redis_connects (redis) == 2 && zg_redis_connects (subscriber) == 2);
    assert (s_test_command (redis, "GET", "zg-redis-test", NULL) == 0);
    reply = s_test_reply (redis, 2000);
    assert (reply && reply->type == REDIS_REPLY_NIL);
    freeReplyObject (reply);

    //  A server that stops answering but keeps the connection open is
    //  found by the timeout (SIGSTOP stands for a partition)
    zg_redis_destroy (&subscriber);
    zg_redis_server_pause (server, true);
    assert (s_test_command (redis, "PING", NULL, NULL) == 0);
    assert (s_test_run_until (redis, false, 2000));
    assert (streq (zg_redis_error (redis), "no answer in time"));
    //  The kernel still accepts connections for it, but they never come up
    assert (!s_test_run_until (redis, true, 1500));
    assert (streq (zg_redis_error (redis), "no answer to PING in time"));
    zg_redis_server_pause (server, false);
    assert (s_test_run_until (redis, true, 2000));

    //  A connection that is never accepted fails after the connect timeout
    //  (a closed port fails at once: connection refused)
    zg_redis_destroy (&redis);
    zg_redis_server_destroy (&server);
    redis = zg_redis_new ("127.0.0.1:1", error, sizeof error);
    zg_redis_tick (redis, zclock_mono ());
    assert (!s_test_run_until (redis, true, 300));
    assert (*zg_redis_error (redis));
    zg_redis_destroy (&redis);
    //  @end
    printf ("OK\n");
}
