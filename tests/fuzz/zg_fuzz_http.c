/*  =========================================================================
    zg_fuzz_http - fuzz target for the gateway's HTTP transaction (zg_http):
    route matching, the bounded body and its JSON, replies

    Each input is a request: a first byte choosing the method, the body's
    chunk size and limit, then the path (with its query) up to a newline,
    a route pattern up to a newline, and the body. The path and the
    pattern go through zg_http_match (the gateway's router matches every
    route with it; the route table itself is the gateway's, fuzzed with the
    gateway later); a match must rebuild the path from the pattern and the
    parameter. The body goes through zg_http_append in chunks, must be
    whole and NUL-terminated or dropped as too large; a JSON one is decoded
    as the gateway does and replied with. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_codec.h"
#include "zg_http.h"

//  The JSON nesting limit of the bodies: small, so inputs reach it
#define FUZZ_MAX_DEPTH 16

static zg_codec_t *s_codec;

//  The gateway's route patterns (docs/PROTOCOL.md 4.2), matched besides
//  the input's own
static const char *s_routes [] = {
    "/api/publish", "/api/queues/{}", "/api/tasks/{}", "/api/rooms/{}", "/api/rooms/{}/oob",
    "/api/rooms/{}/peek", "/api/rooms", NULL
};

//  Match path against pattern; a match must rebuild the path exactly
static void
s_check_match (const char *pattern, const char *path)
{
    char param [64];
    memset (param, 'x', sizeof param);
    bool matched = zg_http_match (pattern, path, param, sizeof param);
    size_t length = strnlen (param, sizeof param);
    assert (length < sizeof param);
    const char *slot = strstr (pattern, "{}");
    if (!matched)
        assert (length == 0);
    else
    if (!slot)
        assert (streq (pattern, path) && length == 0);
    else {
        assert (length > 0 && !strchr (param, '/'));
        char *rebuilt = zsys_sprintf ("%.*s%s%s", (int) (slot - pattern), pattern, param, slot + 2);
        assert (streq (rebuilt, path));
        zstr_free (&rebuilt);
    }
}

//  The next line of the input as a string (the caller frees it)
static char *
s_line (const uint8_t **data, size_t *size)
{
    const uint8_t *end = (const uint8_t *) memchr (*data, '\n', *size);
    size_t length = end? (size_t) (end - *data): *size;
    char *line = strndup ((const char *) *data, length);
    assert (line);
    *data += end? length + 1: length;
    *size -= end? length + 1: length;
    return line;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_codec)
        s_codec = zg_codec_new (FUZZ_MAX_DEPTH);
    if (size == 0)
        return 0;
    zg_http_method_t method = (zg_http_method_t) (data [0] % 3);
    size_t chunk = 1 + (size_t) (data [0] >> 2) % 16 * 64;
    size_t max_body = data [0] & 0x80? 256: 4096;
    data++;
    size--;
    char *path = s_line (&data, &size);
    char *pattern = s_line (&data, &size);
    s_check_match (pattern, path);
    for (const char **route = s_routes; *route; route++)
        s_check_match (*route, path);

    zg_http_t *http = zg_http_new (NULL, 1, method, path);
    for (size_t offset = 0; offset < size; offset += chunk)
        zg_http_append (http, data + offset, size - offset < chunk? size - offset: chunk, max_body);
    assert (http->too_large == (size > max_body));
    if (http->too_large || size == 0)
        assert (http->body == NULL && http->body_size == 0);
    else
        assert (http->body_size == size && memcmp (http->body, data, size) == 0 && http->body [size] == 0);

    json_object *body = NULL;
    char error [256];
    if (http->too_large)
        zg_http_reply_message (http, 413, "request body too large");
    else
    if (zg_codec_decode (s_codec, http->body, http->body_size, false, &body, error, sizeof error))
        zg_http_reply_message (http, 400, error);
    else
        zg_http_reply_json (http, 200, body);
    assert (http->status && http->reply_size > 0 && http->reply [LWS_PRE + http->reply_size - 1] == '\n');
    json_object_put (body);
    zg_http_destroy (&http);

    //  A static file, for the path as it came
    http = zg_http_new (NULL, 2, method, path);
    if (zg_http_reply_file (http))
        assert (http->status == 200 && streq (http->endpoint, "static"));
    else
        assert (http->status == 0);
    zg_http_destroy (&http);
    free (pattern);
    free (path);
    return 0;
}
