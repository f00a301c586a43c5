/*  =========================================================================
    zg_gw_mport - the metrics port

    A STREAM socket gets [connection][bytes]: an empty frame when a
    connection opens or closes, else the bytes it sent. A request is kept
    per connection until its head ends (a blank line), at most
    ZG_GW_MPORT_HEAD_MAX bytes and ZG_GW_MPORT_CONNECTIONS connections at
    once; past either the connection is closed. Each answer ends with
    Connection: close, and an empty frame to the connection closes it.
    No token is asked: the port serves only the counters, for a scraper;
    bind it where only the scraper reaches (gateway/interface).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_mport.h"
#include <arpa/inet.h>

//  Longest request head kept, bytes
#define ZG_GW_MPORT_HEAD_MAX 8192
//  Connections with a request under way
#define ZG_GW_MPORT_CONNECTIONS 64
//  Messages read per drain
#define ZG_GW_MPORT_BATCH 100

struct _zg_gw_mport_t {
    zsock_t *socket;                //  STREAM socket, or NULL
    zhashx_t *heads;                //  Connection (hex) -> zchunk of its request so far
};

//  --------------------------------------------------------------------------
//  Create it

zg_gw_mport_t *
zg_gw_mport_new (void)
{
    zg_gw_mport_t *self = (zg_gw_mport_t *) zmalloc (sizeof (zg_gw_mport_t));
    assert (self);
    self->heads = zhashx_new ();
    assert (self->heads);
    zhashx_set_destructor (self->heads, (zhashx_destructor_fn *) zchunk_destroy);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_gw_mport_destroy (zg_gw_mport_t **self_p)
{
    assert (self_p);
    zg_gw_mport_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->socket);
    zhashx_destroy (&self->heads);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Apply metrics-port

int
zg_gw_mport_set (zg_gw_mport_t *self, const char *interface, const char *key, const char *value,
                 char *error, size_t size)
{
    assert (self && interface && key && value);
    if (strneq (key, "metrics-port"))
        return 1;
    char *end = NULL;
    long port = strtol (value, &end, 10);
    if (end == value || *end || port < 0 || port > 65535) {
        snprintf (error, size, "'%s' is not 0 (none) or a port from 1 to 65535", value);
        return -1;
    }
    if (self->socket) {
        snprintf (error, size, "the metrics port changes on a restart only");
        return -1;
    }
    if (port == 0)
        return 0;
    self->socket = zsock_new (ZMQ_STREAM);
    assert (self->socket);
    //  A send to a connection that is gone (or whose queue is full) would
    //  block the gateway's thread: it is dropped instead
    zsock_set_sndtimeo (self->socket, 0);
    bool ipv6 = strchr (interface, ':') != NULL;
    zsock_set_ipv6 (self->socket, ipv6);
    if (zsock_bind (self->socket, "tcp://%s%s%s:%ld", ipv6? "[": "", interface, ipv6? "]": "", port) == -1) {
        snprintf (error, size, "cannot listen on %s port %ld: %s", interface, port, zmq_strerror (zmq_errno ()));
        zsock_destroy (&self->socket);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Its socket

zsock_t *
zg_gw_mport_socket (zg_gw_mport_t *self)
{
    assert (self);
    return self->socket;
}

//  --------------------------------------------------------------------------
//  Send bytes to a connection: [connection][bytes]; no bytes close it

static void
s_self_send (zg_gw_mport_t *self, zframe_t *connection, const void *data, size_t size)
{
    //  If the connection frame is refused (gone, or full) the bytes must not
    //  follow: STREAM would take them for the next message's connection
    zframe_t *to = zframe_dup (connection);
    if (zframe_send (&to, self->socket, ZFRAME_MORE) == 0) {
        zframe_t *bytes = zframe_new (data, size);
        zframe_send (&bytes, self->socket, 0);
    }
    zframe_destroy (&to);
}

//  Send an HTTP answer to a connection, then close it

static void
s_self_answer (zg_gw_mport_t *self, zframe_t *connection, int status, const char *type, const void *body,
               size_t size)
{
    const char *reason = status == 200? "OK": status == 404? "Not Found": status == 405? "Method Not Allowed"
                       : "Request Header Fields Too Large";
    char head [256];
    int length = snprintf (head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n\r\n", status, reason, type, size);
    zchunk_t *text = zchunk_new (head, (size_t) length);
    zchunk_extend (text, body, size);
    s_self_send (self, connection, zchunk_data (text), zchunk_size (text));
    s_self_send (self, connection, NULL, 0);
    zchunk_destroy (&text);
}

//  Answer a complete request head
static void
s_self_serve (zg_gw_mport_t *self, zg_gw_mport_render_fn *render, void *arg, zframe_t *connection,
              const char *head)
{
    //  The request line: METHOD SP PATH[?query] SP VERSION
    size_t method = strcspn (head, " ");
    const char *path = head [method]? head + method + 1: "";
    size_t path_size = strcspn (path, " ?\r\n");
    bool metrics = path_size == 8 && memcmp (path, "/metrics", 8) == 0;
    if (metrics && method == 3 && memcmp (head, "GET", 3) == 0) {
        msgpack_sbuffer out;
        msgpack_sbuffer_init (&out);
        render (arg, &out);
        s_self_answer (self, connection, 200, ZG_GW_MPORT_METRICS_TYPE, out.data, out.size);
        msgpack_sbuffer_destroy (&out);
    }
    else
    if (metrics) {
        const char *body = "{\"message\":\"Method Not Allowed\"}";
        s_self_answer (self, connection, 405, "application/json", body, strlen (body));
    }
    else {
        const char *body = "{\"message\":\"Not Found\"}";
        s_self_answer (self, connection, 404, "application/json", body, strlen (body));
    }
}

//  --------------------------------------------------------------------------
//  Read and answer

int
zg_gw_mport_drain (zg_gw_mport_t *self, zg_gw_mport_render_fn *render, void *arg, bool *more)
{
    assert (self && render && more);
    int handled = 0;
    while (self->socket && handled < ZG_GW_MPORT_BATCH && (zsock_events (self->socket) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->socket);
        if (!msg)
            break;
        handled++;
        zframe_t *connection = zmsg_pop (msg);
        zframe_t *bytes = zmsg_pop (msg);
        zmsg_destroy (&msg);
        if (!connection || !bytes) {
            zframe_destroy (&connection);
            zframe_destroy (&bytes);
            continue;
        }
        char *key = zframe_strhex (connection);
        zchunk_t *head = (zchunk_t *) zhashx_lookup (self->heads, key);
        if (zframe_size (bytes) == 0)           //  Opened or closed: start afresh
            zhashx_delete (self->heads, key);
        else
        if (!head && zhashx_size (self->heads) >= ZG_GW_MPORT_CONNECTIONS)
            s_self_send (self, connection, NULL, 0);
        else {
            if (!head) {
                head = zchunk_new (NULL, 0);
                zhashx_insert (self->heads, key, head);
            }
            zchunk_extend (head, zframe_data (bytes), zframe_size (bytes));
            zchunk_extend (head, "", 1);        //  NUL ended for the string search
            const char *text = (const char *) zchunk_data (head);
            if (strstr (text, "\r\n\r\n"))
                s_self_serve (self, render, arg, connection, text);
            else
            if (zchunk_size (head) > ZG_GW_MPORT_HEAD_MAX)
                s_self_answer (self, connection, 431, "application/json", "{}", 2);
            if (strstr (text, "\r\n\r\n") || zchunk_size (head) > ZG_GW_MPORT_HEAD_MAX)
                zhashx_delete (self->heads, key);
            else
                zchunk_set (head, zchunk_data (head), zchunk_size (head) - 1);
        }
        zstr_free (&key);
        zframe_destroy (&connection);
        zframe_destroy (&bytes);
    }
    if (handled == ZG_GW_MPORT_BATCH)
        *more = true;
    return handled;
}

//  --------------------------------------------------------------------------
//  Self test: a scraper, a wrong path and method, a head too long, and an
//  HTTP request in two pieces

static void
s_test_render (void *arg, msgpack_sbuffer *out)
{
    msgpack_sbuffer_write (out, (const char *) arg, strlen ((const char *) arg));
}

//  Send raw bytes to the port and read its answer until it closes
static char *
s_test_fetch (zg_gw_mport_t *self, int port, const char *first, const char *second)
{
    zsock_t *client = zsock_new (ZMQ_STREAM);
    assert (zsock_connect (client, "tcp://127.0.0.1:%d", port) == 0);
    zframe_t *peer = zframe_new (NULL, 0);
    size_t length = 0;
    bool more = false;
    zsock_set_rcvtimeo (client, 50);
    //  STREAM: the routing id of the connection comes with its first (empty) frame
    while (!zframe_size (peer)) {
        zg_gw_mport_drain (self, s_test_render, "zgate_build_info 1\n", &more);
        zmsg_t *msg = zmsg_recv (client);
        if (msg) {
            zframe_destroy (&peer);
            peer = zmsg_pop (msg);
            zmsg_destroy (&msg);
        }
    }
    char *answer = (char *) zmalloc (1);
    for (const char *part = first; part; part = part == first? second: NULL) {
        zframe_t *to = zframe_dup (peer);
        zframe_t *bytes = zframe_new (part, strlen (part));
        zframe_send (&to, client, ZFRAME_MORE);
        zframe_send (&bytes, client, 0);
        zclock_sleep (20);
        zg_gw_mport_drain (self, s_test_render, "zgate_build_info 1\n", &more);
    }
    int64_t deadline = zclock_mono () + 3000;
    bool closed = false;
    while (!closed && zclock_mono () < deadline) {
        zg_gw_mport_drain (self, s_test_render, "zgate_build_info 1\n", &more);
        zmsg_t *msg = zmsg_recv (client);
        zframe_t *from = msg? zmsg_pop (msg): NULL;
        zframe_t *bytes = msg? zmsg_pop (msg): NULL;
        if (bytes && zframe_size (bytes)) {
            answer = (char *) realloc (answer, length + zframe_size (bytes) + 1);
            memcpy (answer + length, zframe_data (bytes), zframe_size (bytes));
            length += zframe_size (bytes);
            answer [length] = 0;
        }
        else
        if (bytes && length)
            closed = true;
        zframe_destroy (&from);
        zframe_destroy (&bytes);
        zmsg_destroy (&msg);
    }
    assert (closed);
    zframe_destroy (&peer);
    zsock_destroy (&client);
    return answer;
}

void
zg_gw_mport_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_gw_mport: ");
    //  @selftest
    zg_gw_mport_t *mport = zg_gw_mport_new ();
    char error [256];
    bool more = false;
    assert (zg_gw_mport_set (mport, "127.0.0.1", "http-port", "1", error, sizeof error) == 1);
    assert (zg_gw_mport_set (mport, "127.0.0.1", "metrics-port", "65536", error, sizeof error) == -1);
    assert (zg_gw_mport_set (mport, "127.0.0.1", "metrics-port", "0", error, sizeof error) == 0);
    assert (zg_gw_mport_socket (mport) == NULL && zg_gw_mport_drain (mport, s_test_render, "", &more) == 0);
    //  A free port: the kernel picks one, it is closed, the port takes it
    int probe = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t address_size = sizeof address;
    assert (bind (probe, (struct sockaddr *) &address, address_size) == 0);
    assert (getsockname (probe, (struct sockaddr *) &address, &address_size) == 0);
    close (probe);
    int port = ntohs (address.sin_port);
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    assert (zg_gw_mport_set (mport, "127.0.0.1", "metrics-port", port_text, error, sizeof error) == 0);
    assert (zg_gw_mport_set (mport, "127.0.0.1", "metrics-port", port_text, error, sizeof error) == -1);
    assert (zg_gw_mport_socket (mport));

    char *answer = s_test_fetch (mport, port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
    assert (strncmp (answer, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr (answer, "zgate_build_info"));
    zstr_free (&answer);
    answer = s_test_fetch (mport, port, "GET /metr", "ics?x=1 HTTP/1.0\r\n\r\n");
    assert (strncmp (answer, "HTTP/1.1 200 OK\r\n", 17) == 0);
    zstr_free (&answer);
    answer = s_test_fetch (mport, port, "GET /api/stats HTTP/1.1\r\n\r\n", NULL);
    assert (strncmp (answer, "HTTP/1.1 404 ", 13) == 0 && strstr (answer, "{\"message\":\"Not Found\"}"));
    zstr_free (&answer);
    answer = s_test_fetch (mport, port, "POST /metrics HTTP/1.1\r\n\r\n", NULL);
    assert (strncmp (answer, "HTTP/1.1 405 ", 13) == 0);
    zstr_free (&answer);
    char long_head [ZG_GW_MPORT_HEAD_MAX + 100];
    memset (long_head, 'x', sizeof long_head - 1);
    long_head [sizeof long_head - 1] = 0;
    answer = s_test_fetch (mport, port, long_head, NULL);
    assert (strncmp (answer, "HTTP/1.1 431 ", 13) == 0);
    zstr_free (&answer);

    zg_gw_mport_destroy (&mport);
    assert (mport == NULL);
    //  @end
    printf ("OK\n");
}
