/*  =========================================================================
    zg_gw_wake - how a gateway thread learns that its zsocks hold messages,
    and the drain that reads them

    Only the marked sources are drained: a topic message wakes the topics
    bridge's SUB, and asking the other zsocks (each ZMQ_EVENTS query is a
    getpid and a poll in libzmq, about a dozen per drain) would cost more
    than the message. Anything that may have sent on a zsock (a request, a
    close, the tick, a setting) marks every source, as the actor says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_wake.h"

//  What a raw file's opaque data points to: its zsock, wake and source
typedef struct {
    zsock_t *socket;
    zg_gw_wake_t *wake;
    int source;
} s_tag_t;

typedef struct {
    zg_gw_wake_drain_fn *drain;
    void *arg;
    size_t drains;                  //  Times its drain ran
} s_source_t;

struct _zg_gw_wake_t {
    const bool *stop;               //  The actor's: stop draining
    s_source_t sources [ZG_GW_WAKE_SOURCES];
    s_tag_t tags [ZG_GW_WAKE_SOCKETS];
    size_t tag_count;               //  Zsocks adopted
    int count;                      //  Sources added
    uint32_t marked;                //  One bit per source that may hold messages
};

//  --------------------------------------------------------------------------

zg_gw_wake_t *
zg_gw_wake_new (const bool *stop)
{
    assert (stop);
    zg_gw_wake_t *self = (zg_gw_wake_t *) zmalloc (sizeof (zg_gw_wake_t));
    assert (self);
    self->stop = stop;
    return self;
}

void
zg_gw_wake_destroy (zg_gw_wake_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

int
zg_gw_wake_source (zg_gw_wake_t *self, zg_gw_wake_drain_fn *drain, void *arg)
{
    assert (self && drain && self->count < ZG_GW_WAKE_SOURCES);
    int source = self->count++;
    self->sources [source] = (s_source_t) { drain, arg, 0 };
    //  Whatever it holds already was never announced by a wake-up
    zg_gw_wake_mark (self, source);
    return source;
}

int
zg_gw_wake_adopt (zg_gw_wake_t *self, struct lws_context *context, zsock_t *socket, int source)
{
    assert (self && context && socket && source >= 0 && source < self->count);
    if (self->tag_count == ZG_GW_WAKE_SOCKETS) {
        errno = EMFILE;
        return -1;
    }
    s_tag_t *tag = &self->tags [self->tag_count++];
    *tag = (s_tag_t) { socket, self, source };
    lws_adopt_desc_t desc = { 0 };
    desc.vh = lws_get_vhost_by_name (context, "default");
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = dup (zsock_fd (socket));
    desc.vh_prot_name = "zgate-zmq";
    desc.opaque = tag;
    //  lws closes what it adopts, and ZeroMQ's fd is not ours to close
    return lws_adopt_descriptor_vhost_via_info (&desc)? 0: -1;
}

int
zg_gw_wake_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    //  Asking the zsock that woke re-arms its ZMQ_FD, whatever its source's
    //  drain asks (the history DEALER's asks only while a question is out:
    //  a command that came meanwhile left its fd readable, and every lws
    //  pass returned at once)
    s_tag_t *tag = reason == LWS_CALLBACK_RAW_RX_FILE? (s_tag_t *) lws_get_opaque_user_data (wsi): NULL;
    if (tag && (zsock_events (tag->socket) & ZMQ_POLLIN))
        zg_gw_wake_mark (tag->wake, tag->source);
    (void) reason;
    (void) user;
    (void) in;
    (void) len;
    return 0;
}

void
zg_gw_wake_mark (zg_gw_wake_t *self, int source)
{
    assert (self && source >= 0 && source < self->count);
    self->marked |= 1u << source;
}

void
zg_gw_wake_mark_all (zg_gw_wake_t *self)
{
    assert (self);
    self->marked = (1u << self->count) - 1;
}

bool
zg_gw_wake_pending (zg_gw_wake_t *self)
{
    assert (self);
    return self->marked != 0;
}

bool
zg_gw_wake_drain (zg_gw_wake_t *self, size_t batch)
{
    assert (self);
    size_t handled = 0;
    while (self->marked && handled < batch && !*self->stop) {
        //  A drain may mark sources (the pipe's settings send on every
        //  bridge): those join the next round
        uint32_t round = self->marked;
        self->marked = 0;
        for (int source = 0; source < self->count; source++) {
            if (!(round & (1u << source)))
                continue;
            bool more = false;
            s_source_t *entry = &self->sources [source];
            handled += entry->drain (entry->arg, &more) + 1;
            entry->drains++;
            if (more)
                self->marked |= 1u << source;
        }
    }
    return self->marked && !*self->stop;
}

size_t
zg_gw_wake_drains (zg_gw_wake_t *self, int source)
{
    assert (self && source >= 0 && source < self->count);
    return self->sources [source].drains;
}

//  --------------------------------------------------------------------------
//  Self test: two PAIR pipes as two sources

static size_t
s_test_drain (void *arg, bool *more)
{
    //  One message per call, so that "more" carries the rest to a next round
    zsock_t *reader = (zsock_t *) arg;
    if (!(zsock_events (reader) & ZMQ_POLLIN))
        return 0;
    char *text = zstr_recv (reader);
    zstr_free (&text);
    *more = true;
    return 1;
}

//  A drain that never asks its zsock, as the history DEALER's while no
//  question is out
static size_t
s_test_drain_nothing (void *arg, bool *more)
{
    (void) arg;
    (void) more;
    return 0;
}

//  Wake-ups through a real lws loop: a zsock's message marks its source once;
//  after that the fd is re-armed (no lws pass returns for it again) though
//  the message stays unread; once it is read, a new message wakes it again
static void
s_test_lws (void)
{
    bool stop = false;
    zg_gw_wake_t *self = zg_gw_wake_new (&stop);
    zsock_t *writer = zsock_new_pair ("@inproc://zg_gw_wake_lws");
    zsock_t *reader = zsock_new_pair (">inproc://zg_gw_wake_lws");
    int source = zg_gw_wake_source (self, s_test_drain_nothing, NULL);
    struct lws_protocols protocols [] = {
        { "zgate-zmq", zg_gw_wake_callback, 0, 0, 0, NULL, 0 },
        { NULL, NULL, 0, 0, 0, NULL, 0 }
    };
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    lws_set_log_level (LLL_ERR, NULL);
    struct lws_context *context = lws_create_context (&info);
    assert (context);
    assert (zg_gw_wake_adopt (self, context, reader, source) == 0);
    assert (!zg_gw_wake_drain (self, 100) && !zg_gw_wake_pending (self));
    //  ZMQ_FD signals only a zsock that was found empty (the actor's first
    //  drain asks every zsock)
    assert (!(zsock_events (reader) & ZMQ_POLLIN));

    for (int round = 0; round < 2; round++) {
        zstr_send (writer, "message");
        //  lws_service with a negative timeout polls without waiting
        for (int pass = 0; pass < 100 && !zg_gw_wake_pending (self); pass++) {
            lws_service (context, -1);
            zclock_sleep (1);
        }
        assert (zg_gw_wake_pending (self));
        zg_gw_wake_drain (self, 100);
        for (int pass = 0; pass < 5; pass++)
            lws_service (context, -1);
        assert (!zg_gw_wake_pending (self));
        assert (zsock_events (reader) & ZMQ_POLLIN);
        char *text = zstr_recv (reader);
        assert (text && streq (text, "message"));
        zstr_free (&text);
        assert (!(zsock_events (reader) & ZMQ_POLLIN));
    }
    lws_context_destroy (context);
    zsock_destroy (&writer);
    zsock_destroy (&reader);
    zg_gw_wake_destroy (&self);
}

void
zg_gw_wake_test (bool verbose)
{
    printf (" * zg_gw_wake: ");
    if (verbose)
        printf ("\n");
    bool stop = false;
    zg_gw_wake_t *self = zg_gw_wake_new (&stop);
    zsock_t *writer_a = zsock_new_pair ("@inproc://zg_gw_wake_a");
    zsock_t *reader_a = zsock_new_pair (">inproc://zg_gw_wake_a");
    zsock_t *writer_b = zsock_new_pair ("@inproc://zg_gw_wake_b");
    zsock_t *reader_b = zsock_new_pair (">inproc://zg_gw_wake_b");
    int a = zg_gw_wake_source (self, s_test_drain, reader_a);
    int b = zg_gw_wake_source (self, s_test_drain, reader_b);
    assert (a == 0 && b == 1);

    //  A new source is marked: the first drain asks both, finds nothing
    assert (zg_gw_wake_pending (self));
    assert (!zg_gw_wake_drain (self, 100));
    assert (!zg_gw_wake_pending (self));
    assert (zg_gw_wake_drains (self, a) == 1 && zg_gw_wake_drains (self, b) == 1);

    //  Only the marked source is drained; the other one's messages wait
    zstr_send (writer_a, "1");
    zstr_send (writer_a, "2");
    zstr_send (writer_b, "3");
    zg_gw_wake_mark (self, a);
    assert (!zg_gw_wake_drain (self, 100));
    assert (zg_gw_wake_drains (self, a) == 4 && zg_gw_wake_drains (self, b) == 1);
    assert (!(zsock_events (reader_a) & ZMQ_POLLIN) && (zsock_events (reader_b) & ZMQ_POLLIN));

    //  Marking all reaches b; a batch limit leaves the source marked
    zstr_send (writer_b, "4");
    zstr_send (writer_b, "5");
    zg_gw_wake_mark_all (self);
    assert (zg_gw_wake_drain (self, 3));
    assert (zg_gw_wake_pending (self));
    assert (!zg_gw_wake_drain (self, 100));
    assert (!(zsock_events (reader_b) & ZMQ_POLLIN));

    //  Stopped: a drain reads nothing
    zstr_send (writer_a, "6");
    zg_gw_wake_mark (self, a);
    stop = true;
    size_t before = zg_gw_wake_drains (self, a);
    assert (!zg_gw_wake_drain (self, 100) && zg_gw_wake_drains (self, a) == before);

    zsock_destroy (&writer_a);
    zsock_destroy (&reader_a);
    zsock_destroy (&writer_b);
    zsock_destroy (&reader_b);
    zg_gw_wake_destroy (&self);

    s_test_lws ();
    printf ("OK\n");
}
