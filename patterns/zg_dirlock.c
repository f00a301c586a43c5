/*  =========================================================================
    zg_dirlock - one process at a time in a data directory
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_dirlock.h"
#include <sys/file.h>
#include <sys/wait.h>

struct _zg_dirlock_t {
    int fd;                         //  The lock file, flock'ed
};

//  --------------------------------------------------------------------------
//  Lock a directory

zg_dirlock_t *
zg_dirlock_new (const char *dir, char *error, size_t size)
{
    assert (dir && error);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/" ZG_DIRLOCK_FILE, dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf (error, size, "data-dir '%s': cannot open " ZG_DIRLOCK_FILE ": %s", dir, strerror (errno));
        return NULL;
    }
    if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno == EWOULDBLOCK)
            snprintf (error, size, "data-dir '%s' is in use by another zgate (" ZG_DIRLOCK_FILE " is locked)", dir);
        else
            snprintf (error, size, "data-dir '%s': cannot lock " ZG_DIRLOCK_FILE ": %s", dir, strerror (errno));
        close (fd);
        return NULL;
    }
    zg_dirlock_t *self = (zg_dirlock_t *) zmalloc (sizeof (zg_dirlock_t));
    assert (self);
    self->fd = fd;
    return self;
}

//  --------------------------------------------------------------------------
//  Release the lock

void
zg_dirlock_destroy (zg_dirlock_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        close ((*self_p)->fd);
        free (*self_p);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Exit status of a child process that tries to lock dir: 0 if refused as
//  in use, 1 if it got the lock, 2 for another error
static int
s_test_child_lock (const char *dir)
{
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        char error [256];
        zg_dirlock_t *lock = zg_dirlock_new (dir, error, sizeof error);
        _exit (lock? 1: strstr (error, "is in use by another zgate")? 0: 2);
    }
    int status;
    assert (waitpid (child, &status, 0) == child && WIFEXITED (status));
    return WEXITSTATUS (status);
}

void
zg_dirlock_test (bool verbose)
{
    printf (" * zg_dirlock: ");
    if (verbose)
        printf ("\n");
    char dir [] = "/tmp/zg_dirlock_XXXXXX";
    assert (mkdtemp (dir));
    char error [256];
    zg_dirlock_t *lock = zg_dirlock_new (dir, error, sizeof error);
    assert (lock);
    //  Refused here and in another process while held
    assert (zg_dirlock_new (dir, error, sizeof error) == NULL);
    assert (strstr (error, "is in use by another zgate (zgate.lock is locked)"));
    assert (s_test_child_lock (dir) == 0);
    //  Free once released
    zg_dirlock_destroy (&lock);
    zg_dirlock_destroy (&lock);
    assert (s_test_child_lock (dir) == 1);
    lock = zg_dirlock_new (dir, error, sizeof error);
    assert (lock);
    zg_dirlock_destroy (&lock);
    //  A directory that does not exist
    assert (zg_dirlock_new ("/nonexistent/zg_dirlock", error, sizeof error) == NULL);
    assert (strstr (error, "cannot open zgate.lock: No such file or directory"));
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/" ZG_DIRLOCK_FILE, dir);
    assert (unlink (path) == 0 && rmdir (dir) == 0);
    printf ("OK\n");
}
