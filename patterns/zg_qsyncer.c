/*  =========================================================================
    zg_qsyncer - fdatasync in a thread of its own

    See zg_qsyncer.h. The thread is a czmq actor: the handle (and, for an
    extension, the range) goes down its pipe as text, the result comes back
    as an integer.
    =========================================================================
*/

//  sync_file_range is Linux's, declared only for _GNU_SOURCE
#ifndef _GNU_SOURCE
#   define _GNU_SOURCE
#endif
#include <fcntl.h>
#include "zg_classes.h"
#include "zg_qsyncer.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

//  Zeros are written and written out in pieces of this size: a pass's
//  fdatasync meanwhile waits for every dirty or in-flight page of the file,
//  so for one piece at most, not for the whole step (16 MiB, whose
//  write-out took 10 to 30 ms on the development VM while the pass syncs
//  waited behind it), and a pass's write waits for one piece's copy at
//  most (a write holds the file's lock)
#define ZG_QSYNCER_PIECE 262144

struct _zg_qsyncer_t {
    zactor_t *actor;                //  The thread
    bool busy;                      //  A job in flight
};

//  --------------------------------------------------------------------------
//  Zeros into from .. to - 1, synced; on failure the file is cut back to
//  from. Returns 0 or the errno value. Each piece is on its way to the disk
//  (sync_file_range, data only) before the next is written, and the last
//  fdatasync commits the file's size and blocks.

static int
s_extend (int handle, uint64_t from, uint64_t to, const byte *zeros)
{
    int code = 0;
    for (uint64_t at = from; at < to && code == 0; ) {
        size_t size = (size_t) (to - at < ZG_QSYNCER_PIECE? to - at: ZG_QSYNCER_PIECE);
        ssize_t written = pwrite (handle, zeros, size, (off_t) at);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            code = written < 0? errno: ENOSPC;
        else
        if (sync_file_range (handle, (off_t) at, written, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                                                         | SYNC_FILE_RANGE_WAIT_AFTER))
            code = errno;
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
//  The thread: each message is a handle to sync, answered with the result

static void
s_thread (zsock_t *pipe, void *args)
{
    (void) args;
    byte *zeros = NULL;                 //  Made at the first extension
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        bool terminate = !command || streq (command, "$TERM");
        if (!terminate && zmsg_size (msg) == 2) {
            char *from = zmsg_popstr (msg), *to = zmsg_popstr (msg);
            if (!zeros)
                zeros = (byte *) zmalloc (ZG_QSYNCER_PIECE);
            zsock_send (pipe, "i", s_extend (atoi (command), strtoull (from, NULL, 10), strtoull (to, NULL, 10),
                                             zeros));
            free (from);
            free (to);
        }
        else
        if (!terminate)
            zsock_send (pipe, "i", fdatasync (atoi (command))? errno: 0);
        free (command);
        zmsg_destroy (&msg);
        if (terminate)
            break;
    }
    free (zeros);
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
//  Start an extension

void
zg_qsyncer_extend (zg_qsyncer_t *self, int handle, uint64_t from, uint64_t to)
{
    assert (self && !self->busy && handle >= 0 && from < to);
    zstr_sendfm (self->actor, "%d", handle);
    zstr_sendfm (self->actor, "%" PRIu64, from);
    zstr_sendf (self->actor, "%" PRIu64, to);
    self->busy = true;
}

//  --------------------------------------------------------------------------
//  Whether a job is in flight

bool
zg_qsyncer_busy (zg_qsyncer_t *self)
{
    assert (self);
    return self->busy;
}

//  --------------------------------------------------------------------------
//  Whether the job in flight ended

bool
zg_qsyncer_ended (zg_qsyncer_t *self)
{
    assert (self);
    return self->busy && (zsock_events (zactor_sock (self->actor)) & ZMQ_POLLIN);
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

//  Extensions: zeros after the data, synced; a failure changes nothing
static void
s_test_extend (void)
{
    zg_qsyncer_t *syncer = zg_qsyncer_new ();
    char path [] = "/tmp/zg_qsyncer_test_XXXXXX";
    int handle = mkstemp (path);
    assert (handle >= 0 && write (handle, "data", 4) == 4);
    //  Zeros after the data, the file grown to the end of the range
    assert (!zg_qsyncer_busy (syncer));
    zg_qsyncer_extend (syncer, handle, 4, 3 * ZG_QSYNCER_PIECE + 5);
    assert (zg_qsyncer_busy (syncer));
    while (!zg_qsyncer_ended (syncer))
        zclock_sleep (1);
    assert (zg_qsyncer_finish (syncer) == 0 && !zg_qsyncer_busy (syncer));
    struct stat info;
    assert (fstat (handle, &info) == 0 && info.st_size == 3 * ZG_QSYNCER_PIECE + 5);
    char bytes [8];
    assert (pread (handle, bytes, 8, 0) == 8 && memcmp (bytes, "data\0\0\0\0", 8) == 0);
    assert (pread (handle, bytes, 1, 3 * ZG_QSYNCER_PIECE + 4) == 1 && bytes [0] == 0);
    //  A failure (a file open for reading only) comes back with its errno,
    //  and nothing was added
    int reader = open (path, O_RDONLY);
    assert (reader >= 0);
    zg_qsyncer_extend (syncer, reader, 10, 20);
    assert (zg_qsyncer_finish (syncer) == EBADF);
    assert (fstat (handle, &info) == 0 && info.st_size == 3 * ZG_QSYNCER_PIECE + 5);
    close (reader);
    //  A full disk (files limited to 100 bytes, in a child): cut back
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        signal (SIGXFSZ, SIG_IGN);
        struct rlimit limit = { 100, 100 };
        setrlimit (RLIMIT_FSIZE, &limit);
        assert (ftruncate (handle, 4) == 0);
        zg_qsyncer_t *limited = zg_qsyncer_new ();
        zg_qsyncer_extend (limited, handle, 4, 200);
        int code = zg_qsyncer_finish (limited);
        zg_qsyncer_destroy (&limited);
        _exit (code == EFBIG && fstat (handle, &info) == 0 && info.st_size == 4? 0: 1);
    }
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status) && WEXITSTATUS (status) == 0);
    //  Destroyed with an extension in flight: it waits for it
    zg_qsyncer_extend (syncer, handle, 4, 2 * ZG_QSYNCER_PIECE);
    zg_qsyncer_destroy (&syncer);
    assert (syncer == NULL && fstat (handle, &info) == 0 && info.st_size == 2 * ZG_QSYNCER_PIECE);
    close (handle);
    unlink (path);
}

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
    s_test_extend ();
    //  Destroyed with a sync in flight: it waits for it
    zg_qsyncer_start (syncer, handle);
    zg_qsyncer_destroy (&syncer);
    assert (syncer == NULL);
    printf ("OK\n");
}
