/*  =========================================================================
    zg_http - one HTTP transaction of the gateway

    lws wants the headers and the body in separate writes, each from a
    writable callback; zg_http_write does one step per call.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_http.h"
#include "zg_www.h"

//  Room for the reply headers
#define ZG_HTTP_HEADERS_SIZE 1024

//  --------------------------------------------------------------------------
//  Start a transaction

zg_http_t *
zg_http_new (struct lws *wsi, uint64_t id, zg_http_method_t method, const char *path)
{
    zg_http_t *self = (zg_http_t *) zmalloc (sizeof (zg_http_t));
    assert (self);
    self->wsi = wsi;
    self->id = id;
    self->method = method;
    self->path = strdup (path);
    self->query = zg_query_new (wsi);
    self->started = zclock_usecs ();
    self->endpoint = "other";
    return self;
}

//  --------------------------------------------------------------------------
//  End it

void
zg_http_destroy (zg_http_t **self_p)
{
    assert (self_p);
    zg_http_t *self = *self_p;
    if (self) {
        free (self->path);
        zg_query_destroy (&self->query);
        free (self->body);
        free (self->reply);
        free (self->bearer);
        free (self->allow_origin);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Append a chunk of the body

void
zg_http_append (zg_http_t *self, const void *data, size_t size, size_t max_size)
{
    assert (self);
    if (size == 0)
        return;
    if (self->too_large || self->body_size + size > max_size) {
        self->too_large = true;
        free (self->body);
        self->body = NULL;
        self->body_size = 0;
        return;
    }
    //  One spare byte keeps the body NUL-terminated for the JSON parser
    self->body = (byte *) realloc (self->body, self->body_size + size + 1);
    assert (self->body);
    memcpy (self->body + self->body_size, data, size);
    self->body_size += size;
    self->body [self->body_size] = 0;
}

//  --------------------------------------------------------------------------
//  Reply (once)

void
zg_http_reply (zg_http_t *self, int status, const char *content_type, const void *data, size_t size)
{
    assert (self);
    assert (self->status == 0);
    self->status = status;
    self->content_type = content_type;
    self->reply = (byte *) malloc (LWS_PRE + size + 1);
    assert (self->reply);
    if (size)
        memcpy (self->reply + LWS_PRE, data, size);
    self->reply [LWS_PRE + size] = 0;
    self->reply_size = size;
    if (self->wsi)
        lws_callback_on_writable (self->wsi);
}

//  --------------------------------------------------------------------------
//  Reply with a JSON value, followed by a newline

void
zg_http_reply_json (zg_http_t *self, int status, json_object *value)
{
    size_t size = 0;
    const char *text = json_object_to_json_string_length (
        value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &size);
    char *line = (char *) malloc (size + 2);
    assert (line);
    memcpy (line, text, size);
    line [size] = '\n';
    zg_http_reply (self, status, "application/json", line, size + 1);
    free (line);
}

//  --------------------------------------------------------------------------
//  Reply with {"message": text}

void
zg_http_reply_message (zg_http_t *self, int status, const char *message)
{
    json_object *value = json_object_new_object ();
    json_object_object_add (value, "message", json_object_new_string (message));
    zg_http_reply_json (self, status, value);
    json_object_put (value);
}

//  --------------------------------------------------------------------------
//  Match a path against a route pattern with at most one {} segment

bool
zg_http_match (const char *pattern, const char *path, char *param, size_t size)
{
    *param = 0;
    const char *slot = strstr (pattern, "{}");
    if (!slot)
        return streq (pattern, path);
    size_t head = (size_t) (slot - pattern);
    const char *tail = slot + 2;
    if (strncmp (path, pattern, head))
        return false;
    const char *segment = path + head;
    const char *segment_end = strchr (segment, '/');
    if (!segment_end)
        segment_end = segment + strlen (segment);
    size_t length = (size_t) (segment_end - segment);
    if (length == 0 || length >= size || strneq (segment_end, tail))
        return false;
    memcpy (param, segment, length);
    param [length] = 0;
    return true;
}

//  --------------------------------------------------------------------------
//  The content type of a file, from its extension

static const char *
s_content_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    if (dot && streq (dot, ".html"))
        return "text/html; charset=utf-8";
    if (dot && (streq (dot, ".js") || streq (dot, ".mjs")))
        return "text/javascript; charset=utf-8";
    if (dot && streq (dot, ".css"))
        return "text/css; charset=utf-8";
    if (dot && streq (dot, ".json"))
        return "application/json";
    if (dot && streq (dot, ".svg"))
        return "image/svg+xml";
    if (dot && streq (dot, ".png"))
        return "image/png";
    return "application/octet-stream";
}

//  --------------------------------------------------------------------------
//  Reply with the compiled-in file of the path ("/" is /index.html)

bool
zg_http_reply_file (zg_http_t *self)
{
    assert (self);
    const char *path = streq (self->path, "/")? "/index.html": self->path;
    for (const zg_www_file_t *file = zg_www_files; file->path; file++)
        if (streq (file->path, path)) {
            self->endpoint = "static";
            zg_http_reply (self, 200, s_content_type (file->path), file->data, file->size);
            return true;
        }
    return false;
}

//  The CORS headers of a reply to an allowed Origin: the API takes a
//  bearer token and a JSON body, and caches a preflight for ten minutes
static int
s_add_cors_headers (zg_http_t *self, byte **cursor, byte *end)
{
    if (!self->allow_origin)
        return 0;
    static const char *headers [][2] = {
        { "access-control-allow-methods:", "GET, POST, DELETE, OPTIONS" },
        { "access-control-allow-headers:", "authorization, content-type" },
        { "access-control-max-age:", "600" },
        { "vary:", "Origin" },
    };
    if (lws_add_http_header_by_name (self->wsi, (const unsigned char *) "access-control-allow-origin:",
                                     (const unsigned char *) self->allow_origin,
                                     (int) strlen (self->allow_origin), cursor, end))
        return -1;
    for (size_t index = 0; index < sizeof headers / sizeof headers [0]; index++)
        if (lws_add_http_header_by_name (self->wsi, (const unsigned char *) headers [index][0],
                                         (const unsigned char *) headers [index][1],
                                         (int) strlen (headers [index][1]), cursor, end))
            return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Write the next part of the reply

int
zg_http_write (zg_http_t *self)
{
    assert (self);
    if (self->status == 0)
        return 0;               //  A spurious writable callback: not replied yet
    if (!self->headers_sent) {
        byte headers [LWS_PRE + ZG_HTTP_HEADERS_SIZE];
        byte *start = headers + LWS_PRE;
        byte *cursor = start;
        byte *end = headers + sizeof headers - 1;
        if (lws_add_http_common_headers (self->wsi, (unsigned int) self->status, self->content_type,
                                         self->reply_size, &cursor, end)
        ||  s_add_cors_headers (self, &cursor, end)
        ||  lws_finalize_write_http_header (self->wsi, start, &cursor, end))
            return -1;
        self->headers_sent = true;
        if (self->reply_size) {
            lws_callback_on_writable (self->wsi);
            return 0;
        }
        return self->close_after || lws_http_transaction_completed (self->wsi)? -1: 1;
    }
    if (lws_write (self->wsi, self->reply + LWS_PRE, self->reply_size, LWS_WRITE_HTTP_FINAL)
        < (int) self->reply_size)
        return -1;
    return self->close_after || lws_http_transaction_completed (self->wsi)? -1: 1;
}

//  --------------------------------------------------------------------------
//  Self test of this class (the writing is tested through zg_gateway)

void
zg_http_test (bool verbose)
{
    printf (" * zg_http: ");
    //  @selftest
    zg_http_t *http = zg_http_new (NULL, 7, ZG_HTTP_POST, "/api/publish");
    zg_http_append (http, "{\"a\":", 5, 10);
    zg_http_append (http, "1}", 2, 10);
    assert (http->body_size == 7 && streq ((char *) http->body, "{\"a\":1}"));
    zg_http_append (http, "0123", 4, 10);
    assert (http->too_large && !http->body && http->body_size == 0);
    zg_http_append (http, "1", 1, 10);
    assert (http->too_large);
    assert (zg_http_write (http) == 0);
    zg_http_reply_message (http, 413, "request body too large");
    assert (http->status == 413);
    //  The reply is JSON plus a newline
    assert (streq ((char *) http->reply + LWS_PRE, "{\"message\":\"request body too large\"}\n"));
    if (verbose)
        printf ("(%.*s) ", (int) http->reply_size - 1, http->reply + LWS_PRE);
    zg_http_destroy (&http);
    zg_http_destroy (&http);

    //  Routes with one {} segment
    char param [16];
    assert (zg_http_match ("/api/stats", "/api/stats", param, sizeof param) && !*param);
    assert (!zg_http_match ("/api/stats", "/api/stats/", param, sizeof param));
    assert (zg_http_match ("/api/rooms/{}", "/api/rooms/lobby", param, sizeof param) && streq (param, "lobby"));
    assert (zg_http_match ("/api/rooms/{}/oob", "/api/rooms/lobby/oob", param, sizeof param));
    assert (!zg_http_match ("/api/rooms/{}", "/api/rooms/lobby/oob", param, sizeof param));
    assert (!zg_http_match ("/api/rooms/{}", "/api/rooms/", param, sizeof param));
    assert (!zg_http_match ("/api/rooms/{}", "/api/rooms/a-name-too-long-for-param", param, sizeof param));

    //  Compiled-in files: / is the dashboard
    http = zg_http_new (NULL, 8, ZG_HTTP_GET, "/");
    assert (zg_http_reply_file (http) && http->status == 200);
    assert (streq (http->content_type, "text/html; charset=utf-8"));
    zg_http_destroy (&http);
    http = zg_http_new (NULL, 9, ZG_HTTP_GET, "/no-such-file");
    assert (!zg_http_reply_file (http) && http->status == 0);
    zg_http_destroy (&http);
    //  @end
    printf ("OK\n");
}
