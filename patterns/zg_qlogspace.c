/*  =========================================================================
    zg_qlogspace - room ahead of the task log's end, made in a thread

    See zg_qlogspace.h. The thread is a czmq actor: the handle and the
    range go down its pipe, the result comes back the same way.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qlogspace.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

//  Zeros are written in pieces of this size
#define ZG_QLOGSPACE_PIECE 1048576

struct _zg_qlogspace_t {
    zactor_t *actor;                //  The thread
    bool busy;                      //  An extension in flight
};

//  --------------------------------------------------------------------------
//  Zeros into from .. to - 1, synced; on failure the file is cut back to
//  from. Returns 0 or the errno value.

static int
s_extend (int handle, uint64_t from, uint64_t to, const byte *zeros)
{
    int code = 0;
    for (uint64_t at = from; at < to && code == 0; ) {
        size_t size = (size_t) (to - at < ZG_QLOGSPACE_PIECE? to - at: ZG_QLOGSPACE_PIECE);
        ssize_t written = pwrite (handle, zeros, size, (off_t) at);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            code = written < 0? errno: ENOSPC;
        else
            at += (uint64_t) written;
    }
    if (code == 0 && fdatasync (handle))
        code = errno;
    //  Give the room back: a full disk may need it for the log's records
    if (code && ftruncate (handle, (off_t) from) == 0)
        fdatasync (handle);
    return code;
}

//  --------------------------------------------------------------------------
//  The thread: each message is handle, from and to, answered with the
//  result

static void
s_thread (zsock_t *pipe, void *args)
{
    (void) args;
    byte *zeros = (byte *) zmalloc (ZG_QLOGSPACE_PIECE);
    assert (zeros);
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        bool terminate = !command || streq (command, "$TERM");
        if (!terminate) {
            int handle = atoi (command);
            char *from = zmsg_popstr (msg), *to = zmsg_popstr (msg);
            assert (from && to);
            zsock_send (pipe, "i", s_extend (handle, strtoull (from, NULL, 10), strtoull (to, NULL, 10), zeros));
            free (from);
            free (to);
        }
        free (command);
        zmsg_destroy (&msg);
        if (terminate)
            break;
    }
    free (zeros);
}

//  --------------------------------------------------------------------------
//  An extender and its thread

zg_qlogspace_t *
zg_qlogspace_new (void)
{
    zg_qlogspace_t *self = (zg_qlogspace_t *) zmalloc (sizeof (zg_qlogspace_t));
    assert (self);
    self->actor = zactor_new (s_thread, NULL);
    assert (self->actor);
    return self;
}

//  --------------------------------------------------------------------------
//  Stop the thread

void
zg_qlogspace_destroy (zg_qlogspace_t **self_p)
{
    assert (self_p);
    zg_qlogspace_t *self = *self_p;
    if (!self)
        return;
    if (self->busy)
        zg_qlogspace_finish (self);
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Start an extension

void
zg_qlogspace_start (zg_qlogspace_t *self, int handle, uint64_t from, uint64_t to)
{
    assert (self && !self->busy && handle >= 0 && from < to);
    zstr_sendfm (self->actor, "%d", handle);
    zstr_sendfm (self->actor, "%" PRIu64, from);
    zstr_sendf (self->actor, "%" PRIu64, to);
    self->busy = true;
}

//  --------------------------------------------------------------------------
//  Whether an extension is in flight

bool
zg_qlogspace_busy (zg_qlogspace_t *self)
{
    assert (self);
    return self->busy;
}

//  --------------------------------------------------------------------------
//  Whether the extension in flight ended

bool
zg_qlogspace_ended (zg_qlogspace_t *self)
{
    assert (self);
    return self->busy && (zsock_events (zactor_sock (self->actor)) & ZMQ_POLLIN);
}

//  --------------------------------------------------------------------------
//  Wait for the extension in flight

int
zg_qlogspace_finish (zg_qlogspace_t *self)
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
zg_qlogspace_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qlogspace: ");
    zg_qlogspace_t *space = zg_qlogspace_new ();
    char path [] = "/tmp/zg_qlogspace_test_XXXXXX";
    int handle = mkstemp (path);
    assert (handle >= 0 && write (handle, "data", 4) == 4);
    //  Zeros after the data, the file grown to the end of the range
    assert (!zg_qlogspace_busy (space));
    zg_qlogspace_start (space, handle, 4, 3 * ZG_QLOGSPACE_PIECE + 5);
    assert (zg_qlogspace_busy (space));
    while (!zg_qlogspace_ended (space))
        zclock_sleep (1);
    assert (zg_qlogspace_finish (space) == 0 && !zg_qlogspace_busy (space));
    struct stat info;
    assert (fstat (handle, &info) == 0 && info.st_size == 3 * ZG_QLOGSPACE_PIECE + 5);
    char bytes [8];
    assert (pread (handle, bytes, 8, 0) == 8 && memcmp (bytes, "data\0\0\0\0", 8) == 0);
    assert (pread (handle, bytes, 1, 3 * ZG_QLOGSPACE_PIECE + 4) == 1 && bytes [0] == 0);
    //  A failure (a file open for reading only) comes back with its errno,
    //  and nothing was added
    int reader = open (path, O_RDONLY);
    assert (reader >= 0);
    zg_qlogspace_start (space, reader, 10, 20);
    assert (zg_qlogspace_finish (space) == EBADF);
    assert (fstat (handle, &info) == 0 && info.st_size == 3 * ZG_QLOGSPACE_PIECE + 5);
    close (reader);
    //  A full disk (files limited to 100 bytes, in a child): cut back
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        signal (SIGXFSZ, SIG_IGN);
        struct rlimit limit = { 100, 100 };
        setrlimit (RLIMIT_FSIZE, &limit);
        assert (ftruncate (handle, 4) == 0);
        zg_qlogspace_t *limited = zg_qlogspace_new ();
        zg_qlogspace_start (limited, handle, 4, 200);
        int code = zg_qlogspace_finish (limited);
        zg_qlogspace_destroy (&limited);
        _exit (code == EFBIG && fstat (handle, &info) == 0 && info.st_size == 4? 0: 1);
    }
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status) && WEXITSTATUS (status) == 0);
    //  Destroyed with an extension in flight: it waits for it
    zg_qlogspace_start (space, handle, 4, 2 * ZG_QLOGSPACE_PIECE);
    zg_qlogspace_destroy (&space);
    assert (space == NULL && fstat (handle, &info) == 0 && info.st_size == 2 * ZG_QLOGSPACE_PIECE);
    close (handle);
    unlink (path);
    printf ("OK\n");
}
