/*  =========================================================================
    zg_qsyncer - fdatasync in a thread of its own

    See zg_qsyncer.h. The thread is a czmq actor: the handle goes down its
    pipe as an integer, the result comes back the same way.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qsyncer.h"

struct _zg_qsyncer_t {
    zactor_t *actor;                //  The thread
    bool busy;                      //  A sync in flight
};

//  --------------------------------------------------------------------------
//  The thread: each message is a handle to sync, answered with the result

static void
s_thread (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        bool terminate = !command || streq (command, "$TERM");
        if (!terminate) {
            int code = fdatasync (atoi (command))? errno: 0;
            zsock_send (pipe, "i", code);
        }
        free (command);
        zmsg_destroy (&msg);
        if (terminate)
            break;
    }
}

//  --------------------------------------------------------------------------
//  A syncer and its thread

zg_qsyncer_t *
zg_qsyncer_new (void)
{
    zg_qsyncer_t *self = (zg_qsyncer_t *) zmalloc (sizeof (zg_qsyncer_t));
    assert (self);
    self->actor = zactor_new (s_thread, NULL);
    assert (self->actor);
    return self;
}

//  --------------------------------------------------------------------------
//  Stop the thread

void
zg_qsyncer_destroy (zg_qsyncer_t **self_p)
{
    assert (self_p);
    zg_qsyncer_t *self = *self_p;
    if (!self)
        return;
    if (self->busy)
        zg_qsyncer_finish (self);
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Start a sync

void
zg_qsyncer_start (zg_qsyncer_t *self, int handle)
{
    assert (self && !self->busy && handle >= 0);
    zstr_sendf (self->actor, "%d", handle);
    self->busy = true;
}

//  --------------------------------------------------------------------------
//  Whether a sync is in flight

bool
zg_qsyncer_busy (zg_qsyncer_t *self)
{
    assert (self);
    return self->busy;
}

//  --------------------------------------------------------------------------
//  The socket to poll

void *
zg_qsyncer_socket (zg_qsyncer_t *self)
{
    assert (self);
    return zsock_resolve (self->actor);
}

//  --------------------------------------------------------------------------
//  Wait for the sync in flight

int
zg_qsyncer_finish (zg_qsyncer_t *self)
{
    assert (self && self->busy);
    int code = EIO;
    if (zsock_recv (self->actor, "i", &code))
        code = EIO;
    self->busy = false;
    return code;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_qsyncer_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qsyncer: ");
    zg_qsyncer_t *syncer = zg_qsyncer_new ();
    char path [] = "/tmp/zg_qsyncer_test_XXXXXX";
    int handle = mkstemp (path);
    assert (handle >= 0 && write (handle, "x", 1) == 1);
    assert (!zg_qsyncer_busy (syncer));
    zg_qsyncer_start (syncer, handle);
    assert (zg_qsyncer_busy (syncer));
    zmq_pollitem_t item = { zg_qsyncer_socket (syncer), 0, ZMQ_POLLIN, 0 };
    assert (zmq_poll (&item, 1, 5000) == 1);
    assert (zg_qsyncer_finish (syncer) == 0 && !zg_qsyncer_busy (syncer));
    //  A handle that is not open: the thread's errno comes back
    close (handle);
    unlink (path);
    zg_qsyncer_start (syncer, handle);
    assert (zg_qsyncer_finish (syncer) == EBADF);
    //  Destroyed with a sync in flight: it waits for it
    zg_qsyncer_start (syncer, handle);
    zg_qsyncer_destroy (&syncer);
    assert (syncer == NULL);
    printf ("OK\n");
}
