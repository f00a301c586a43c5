/*  =========================================================================
    zg_gw_accept - where a gateway thread's connections come from

    Why the first thread accepts and looks, rather than N listeners on one
    port with SO_REUSEPORT: the kernel would spread every connection,
    HTTP included, by a hash of its addresses, so a gophermq fetch would
    miss the pull subscriber another thread holds, and 8 sessions would
    rarely split 4 and 4 (lws 4.1 does not set SO_REUSEPORT either, short of
    LWS_MAX_SMP above 1, which Debian's build is not). Looking costs one
    recv (MSG_PEEK, so lws still reads the whole request) per connection.

    A new connection is adopted as an lws raw file (a dup of its fd, so lws
    closing the look leaves the connection open) with the connection's fd as
    the wsi's opaque data; when it is readable its first bytes decide, and
    the look ends. A connection that sends nothing is closed after
    ZG_GW_ACCEPT_TIMEOUT seconds.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_accept.h"
#include <netinet/tcp.h>

//  Seconds a new connection has to send its request line
#define ZG_GW_ACCEPT_TIMEOUT 30
//  Bytes of it looked at: "GET /ws" and what follows
#define ZG_GW_ACCEPT_HEAD 16

struct _zg_gw_accept_t {
    zg_gw_threads_t *threads;       //  The gateway's threads
    size_t index;                   //  This thread's
    const zg_gw_settings_t *settings;   //  room-proxy
    struct lws_context *context;    //  Where connections are adopted, once started
    bool tls;                       //  Connections are not looked at
    bool refuse;                    //  Draining: close new connections
};

static int
    s_listener_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
static int
    s_peek_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
static int
    s_not_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

zg_gw_accept_t *
zg_gw_accept_new (zg_gw_threads_t *threads, size_t index, const zg_gw_settings_t *settings)
{
    assert (threads && settings);
    zg_gw_accept_t *self = (zg_gw_accept_t *) zmalloc (sizeof (zg_gw_accept_t));
    assert (self);
    self->threads = threads;
    self->index = index;
    self->settings = settings;
    return self;
}

void
zg_gw_accept_destroy (zg_gw_accept_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
zg_gw_accept_protocols (zg_gw_accept_t *self, struct lws_protocols *listener, struct lws_protocols *peek,
                        struct lws_protocols *not_http)
{
    assert (self);
    *listener = (struct lws_protocols) { "zgate-accept", s_listener_callback, 0, 0, 0, self, 0 };
    *peek = (struct lws_protocols) { "zgate-peek", s_peek_callback, 0, 0, 0, self, 0 };
    *not_http = (struct lws_protocols) { "zgate-not-http", s_not_http_callback, 0, 0, 0, NULL, 0 };
}

//  Adopt fd into the context as protocol's raw file (a dup of it: lws
//  closes what it adopts), opaque data on the wsi
static int
s_self_adopt_file (zg_gw_accept_t *self, int fd, const char *protocol, void *opaque)
{
    lws_adopt_desc_t desc = { 0 };
    desc.vh = lws_get_vhost_by_name (self->context, "default");
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = dup (fd);
    desc.vh_prot_name = protocol;
    desc.opaque = opaque;
    return lws_adopt_descriptor_vhost_via_info (&desc)? 0: -1;
}

//  Serve a connection in this thread: lws reads its request and owns it
static void
s_self_adopt_connection (zg_gw_accept_t *self, int fd)
{
    lws_adopt_desc_t desc = { 0 };
    desc.vh = lws_get_vhost_by_name (self->context, "default");
    desc.type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (self->tls? LWS_ADOPT_ALLOW_SSL: 0);
    desc.fd.sockfd = fd;
    //  lws closes the socket if it cannot adopt it
    lws_adopt_descriptor_vhost_via_info (&desc);
}

int
zg_gw_accept_start (zg_gw_accept_t *self, struct lws_context *context, int fd, bool tls)
{
    assert (self && context);
    self->context = context;
    self->tls = tls;
    if (fd >= 0 && s_self_adopt_file (self, fd, "zgate-accept", NULL))
        return -1;
    zg_gw_threads_serve (self->threads, self->index, context);
    return 0;
}

void
zg_gw_accept_refuse (zg_gw_accept_t *self)
{
    assert (self);
    self->refuse = true;
}

void
zg_gw_accept_adopt_handed (zg_gw_accept_t *self)
{
    assert (self);
    int fd;
    while ((fd = zg_gw_threads_take (self->threads, self->index)) >= 0)
        if (self->refuse)
            close (fd);
        else
            s_self_adopt_connection (self, fd);
}

bool
zg_gw_accept_spreads (const char *head, size_t size, bool room_proxy)
{
    static const char get_ws [] = "GET /ws";
    size_t prefix = sizeof get_ws - 1;
    return !room_proxy && size > prefix && memcmp (head, get_ws, prefix) == 0
           && (head [prefix] == ' ' || head [prefix] == '?');
}

//  --------------------------------------------------------------------------
//  lws callbacks

//  The listening socket is readable: take every waiting connection
static int
s_listener_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    if (reason != LWS_CALLBACK_RAW_RX_FILE)
        return 0;
    zg_gw_accept_t *self = (zg_gw_accept_t *) lws_get_protocol (wsi)->user;
    int fd;
    //  lws makes an adopted socket non-blocking
    while ((fd = accept (lws_get_socket_fd (wsi), NULL, NULL)) >= 0) {
        fcntl (fd, F_SETFD, FD_CLOEXEC);
        //  As lws does for what it accepts itself (adopting does not): a
        //  push leaves at once, not when the previous one is acknowledged
        int on = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        if (self->refuse)
            close (fd);
        else
        if (self->tls)
            s_self_adopt_connection (self, fd);
        else
        if (s_self_adopt_file (self, fd, "zgate-peek", (void *) (intptr_t) (fd + 1)))
            close (fd);
    }
    return 0;
}

//  A new connection, looked at until its first bytes come
static int
s_peek_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    zg_gw_accept_t *self = (zg_gw_accept_t *) lws_get_protocol (wsi)->user;
    int fd = (int) (intptr_t) lws_get_opaque_user_data (wsi) - 1;
    switch (reason) {
        case LWS_CALLBACK_RAW_ADOPT_FILE:
            lws_set_timeout (wsi, PENDING_TIMEOUT_USER_OK, ZG_GW_ACCEPT_TIMEOUT);
            return 0;
        case LWS_CALLBACK_RAW_RX_FILE: {
            char head [ZG_GW_ACCEPT_HEAD];
            ssize_t size = recv (fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
            if (size < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
            //  Decided: the look ends, the connection is served (or closed)
            lws_set_opaque_user_data (wsi, NULL);
            if (size <= 0)
                close (fd);
            else {
                size_t index = zg_gw_accept_spreads (head, (size_t) size, self->settings->room_proxy)?
                               zg_gw_threads_next (self->threads): self->index;
                if (index == self->index || zg_gw_threads_hand (self->threads, index, fd))
                    s_self_adopt_connection (self, fd);
            }
            return -1;
        }
        case LWS_CALLBACK_RAW_CLOSE_FILE:
            //  Closed before its first bytes (timeout)
            if (fd >= 0)
                close (fd);
            return 0;
        default:
            return 0;
    }
}

//  A connection whose request line lws could not take as HTTP (an unknown
//  method, or no HTTP at all): one JSON 405 answer, then the connection
//  closes, as every other error of the gateway is JSON
static int
s_not_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    static const char answer [] =
        "HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: 33\r\n"
        "connection: close\r\n\r\n{\"message\":\"Method Not Allowed\"}\n";
    switch (reason) {
        case LWS_CALLBACK_RAW_ADOPT:
            lws_callback_on_writable (wsi);
            return 0;
        case LWS_CALLBACK_RAW_WRITEABLE: {
            byte buffer [LWS_PRE + sizeof answer];
            memcpy (buffer + LWS_PRE, answer, sizeof answer - 1);
            lws_write (wsi, buffer + LWS_PRE, sizeof answer - 1, LWS_WRITE_RAW);
            return -1;
        }
        default:
            return 0;
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class (the gateway's self test runs it with two
//  threads: its WebSocket session and HTTP requests go through here)

void
zg_gw_accept_test (bool verbose)
{
    printf (" * zg_gw_accept: ");
    //  @selftest
    const char *upgrade = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n";
    assert (zg_gw_accept_spreads (upgrade, strlen (upgrade), false));
    assert (!zg_gw_accept_spreads (upgrade, strlen (upgrade), true));
    assert (zg_gw_accept_spreads ("GET /ws?token=x HTTP/1.1", 16, false));
    //  Not all there yet, another path, HTTP, go-wsqueue: the first thread
    assert (!zg_gw_accept_spreads ("GET /w", 6, false));
    assert (!zg_gw_accept_spreads ("GET /ws", 7, false));
    assert (!zg_gw_accept_spreads ("GET /wsqueue/topic/a HTTP/1.1", 16, false));
    assert (!zg_gw_accept_spreads ("GET /api/stats HTTP/1.1", 16, false));
    assert (!zg_gw_accept_spreads ("POST /ws HTTP/1.1", 16, false));
    assert (!zg_gw_accept_spreads ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, false));
    if (verbose)
        printf ("(spreads GET /ws only) ");
    //  @end
    printf ("OK\n");
}
