/*  =========================================================================
    zg_redis_server - a redis-server of a self test's own, on a free port

    The port is one the kernel just gave to a socket of ours and took back;
    another process could take it meanwhile, so a server that exits at once
    is started again on a new port (a few times). Its readiness is a plain
    PING answered on a fresh connection.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_redis_server.h"
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <netinet/in.h>

//  How long a started server has to answer, ms
#define ZG_REDIS_SERVER_WAIT 5000
//  Ports tried when one was taken between our probe and the server's bind
#define ZG_REDIS_SERVER_TRIES 5

struct _zg_redis_server_t {
    int port;                       //  Its loopback port
    pid_t pid;                      //  Its process, or 0 when stopped
    char address [32];              //  "127.0.0.1:port"
};

//  --------------------------------------------------------------------------
//  A loopback port that was free a moment ago, or -1

static int
s_free_port (void)
{
    int handle = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (handle < 0)
        return -1;
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    int port = -1;
    if (bind (handle, (struct sockaddr *) &address, length) == 0
    &&  getsockname (handle, (struct sockaddr *) &address, &length) == 0)
        port = ntohs (address.sin_port);
    close (handle);
    return port;
}

//  --------------------------------------------------------------------------
//  Whether the server answers a PING now

static bool
s_answers (int port)
{
    struct timeval timeout = { 0, 200000 };
    redisContext *context = redisConnectWithTimeout ("127.0.0.1", port, timeout);
    bool answers = false;
    if (context && !context->err) {
        redisSetTimeout (context, timeout);
        redisReply *reply = (redisReply *) redisCommand (context, "PING");
        answers = reply && reply->type == REDIS_REPLY_STATUS && streq (reply->str, "PONG");
        if (reply)
            freeReplyObject (reply);
    }
    if (context)
        redisFree (context);
    return answers;
}

//  --------------------------------------------------------------------------
//  Start redis-server on self->port and wait until it answers or exits;
//  returns 0, or -1

static int
s_launch (zg_redis_server_t *self)
{
    char port [16];
    snprintf (port, sizeof port, "%d", self->port);
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        //  A test that fails an assertion leaves no server behind
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int null = open ("/dev/null", O_RDWR);
        dup2 (null, STDIN_FILENO);
        dup2 (null, STDOUT_FILENO);
        dup2 (null, STDERR_FILENO);
        //  Not even our Redis clients' sockets, which hiredis opens without
        //  close-on-exec: the server would hold them open after we close them
        closefrom (STDERR_FILENO + 1);
        execlp ("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", (char *) NULL);
        _exit (127);
    }
    self->pid = pid;
    int64_t deadline = zclock_mono () + ZG_REDIS_SERVER_WAIT;
    while (zclock_mono () < deadline) {
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            self->pid = 0;
            return -1;
        }
        if (s_answers (self->port))
            return 0;
        zclock_sleep (20);
    }
    zg_redis_server_stop (self);
    return -1;
}

//  --------------------------------------------------------------------------
//  Start a redis-server on a free port

zg_redis_server_t *
zg_redis_server_new (void)
{
    if (!zg_redis_server_available ())
        return NULL;
    zg_redis_server_t *self = (zg_redis_server_t *) zmalloc (sizeof (zg_redis_server_t));
    assert (self);
    for (int attempt = 0; attempt < ZG_REDIS_SERVER_TRIES; attempt++) {
        self->port = s_free_port ();
        if (self->port > 0 && s_launch (self) == 0) {
            snprintf (self->address, sizeof self->address, "127.0.0.1:%d", self->port);
            return self;
        }
    }
    zsys_error ("zg_redis_server: redis-server did not start");
    free (self);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Stop the server and destroy the object

void
zg_redis_server_destroy (zg_redis_server_t **self_p)
{
    assert (self_p);
    zg_redis_server_t *self = *self_p;
    if (self) {
        zg_redis_server_stop (self);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Whether redis-server is on PATH

bool
zg_redis_server_available (void)
{
    const char *path = getenv ("PATH");
    char *copy = strdup (path? path: "/usr/bin:/bin");
    char *state = NULL;
    bool found = false;
    for (char *folder = strtok_r (copy, ":", &state); folder && !found; folder = strtok_r (NULL, ":", &state)) {
        char *program = zsys_sprintf ("%s/redis-server", folder);
        found = access (program, X_OK) == 0;
        zstr_free (&program);
    }
    free (copy);
    return found;
}

//  --------------------------------------------------------------------------
//  Its address

const char *
zg_redis_server_address (zg_redis_server_t *self)
{
    assert (self);
    return self->address;
}

//  --------------------------------------------------------------------------
//  Stop the server

void
zg_redis_server_stop (zg_redis_server_t *self)
{
    assert (self);
    if (self->pid > 0) {
        kill (self->pid, SIGKILL);
        waitpid (self->pid, NULL, 0);
        self->pid = 0;
    }
}

//  --------------------------------------------------------------------------
//  Start it again on the same port

int
zg_redis_server_start (zg_redis_server_t *self)
{
    assert (self);
    assert (self->pid == 0);
    return s_launch (self);
}

//  --------------------------------------------------------------------------
//  Freeze or thaw the server

void
zg_redis_server_pause (zg_redis_server_t *self, bool paused)
{
    assert (self);
    assert (self->pid > 0);
    kill (self->pid, paused? SIGSTOP: SIGCONT);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_redis_server_test (bool verbose)
{
    printf (" * zg_redis_server: ");
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED: no redis-server on PATH (Debian's redis-server package)\n");
        return;
    }
    //  @selftest
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    if (verbose)
        printf ("(%s) ", zg_redis_server_address (server));
    assert (s_answers (server->port));
    zg_redis_server_pause (server, true);
    assert (!s_answers (server->port));
    zg_redis_server_pause (server, false);
    assert (s_answers (server->port));
    zg_redis_server_stop (server);
    assert (!s_answers (server->port));
    assert (zg_redis_server_start (server) == 0);
    assert (s_answers (server->port));
    zg_redis_server_destroy (&server);
    assert (server == NULL);
    //  @end
    printf ("OK\n");
}
