/*  =========================================================================
    zg_fuzz_gw_http - fuzz target for the gateway's HTTP route table: each
    request goes through zg_gw_routes_http to the gateway's own routes or
    a bridge and, over inproc, to the real topics, queues and rooms actors
    (zg_fuzz_gateway.h), with its path and JSON body as lws would hand them

    Input, repeated until it ends: a method byte (GET, POST, OPTIONS,
    DELETE, other), then
    the path and the body, each a length byte (0xEF: a 2-byte big-endian
    length follows) and that many bytes; an empty body is no body. A path
    with a '?' has a query: its arguments, split on '&' as lws splits them,
    go into the request's zg_query as zg_http_new puts lws' there (the
    rooms routes read ?offset=&limit= and ?top=, the admin API's DELETE
    ?if-empty=&if-unused=). Invariants: every request gets exactly
    one reply, at once or once the actors have answered (or its deadline
    passed); its status is one of the protocol's; a JSON reply (but a 204) is one JSON
    value and a newline. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_fuzz_gateway.h"

//  Longest path the target builds
#define FUZZ_MAX_PATH 1024

//  The statuses docs/PROTOCOL.md gives the HTTP routes (ZG_ERR_* but 500)
static const int s_statuses [] = { 200, 202, 204, 400, 403, 404, 405, 408, 409, 410, 413, 422, 429, 502, 503, 504, 507 };

//  One length-prefixed field of the input; false if the input ends first
static bool
s_field (const uint8_t **data, const uint8_t *end, const uint8_t **field, size_t *size)
{
    if (*data >= end)
        return false;
    *size = *(*data)++;
    if (*size == FUZZ_LONG_LENGTH) {
        if (end - *data < 2)
            return false;
        *size = (size_t) (*data) [0] << 8 | (*data) [1];
        *data += 2;
    }
    if ((size_t) (end - *data) < *size)
        return false;
    *field = *data;
    *data += *size;
    return true;
}

//  The reply of a finished request
static void
s_check_reply (zg_http_t *http)
{
    bool known = false;
    for (size_t index = 0; index < sizeof s_statuses / sizeof s_statuses [0]; index++)
        known |= http->status == s_statuses [index];
    assert (known);
    if (http->status != 204 && http->content_type && streq (http->content_type, "application/json")) {
        const byte *reply = http->reply + LWS_PRE;
        assert (http->reply_size && reply [http->reply_size - 1] == '\n');
        json_tokener *tokener = json_tokener_new ();
        json_object *value = json_tokener_parse_ex (tokener, (const char *) reply, (int) http->reply_size - 1);
        assert (json_tokener_get_error (tokener) == json_tokener_success
             && json_tokener_get_parse_end (tokener) == http->reply_size - 1);
        json_object_put (value);
        json_tokener_free (tokener);
    }
}

//  Whether a request has its reply
static bool
s_replied (void *arg)
{
    return ((zg_http_t *) arg)->status != 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_gateway_t gateway;
    s_gateway_new (&gateway);
    const uint8_t *end = data + size;
    uint64_t id = 0;
    const uint8_t *path, *body;
    size_t path_size, body_size;
    while (end - data >= 1) {
        zg_http_method_t method = (zg_http_method_t) (*data++ % (ZG_HTTP_OTHER + 1));
        if (!s_field (&data, end, &path, &path_size) || !s_field (&data, end, &body, &body_size))
            break;
        char text [FUZZ_MAX_PATH + 1];
        snprintf (text, sizeof text, "%.*s", (int) (path_size < FUZZ_MAX_PATH? path_size: FUZZ_MAX_PATH),
                  (const char *) path);
        char *query = strchr (text, '?');
        if (query)
            *query++ = 0;
        zg_http_t *http = zg_http_new (NULL, ++id, method, text);
        for (char *save = NULL, *argument = query? strtok_r (query, "&", &save): NULL; argument;
             argument = strtok_r (NULL, "&", &save))
            zg_query_add (http->query, argument, strlen (argument));
        if (body_size)
            zg_http_append (http, body, body_size, (size_t) gateway.settings.max_body_size);
        zg_gw_routes_http (gateway.routes, http);
        s_gateway_pump (&gateway, s_replied, http);
        //  A request still waiting waits for a reply the actors will not
        //  send now (a task's reply, a fetch): its deadline passes
        if (http->status == 0)
            zg_gw_answers_expire (gateway.answers, INT64_MAX);
        assert (http->status);
        s_check_reply (http);
        zg_gw_routes_finished (gateway.routes, http);
        zg_gw_answers_forget (gateway.answers, http);
        zg_http_destroy (&http);
    }
    s_gateway_destroy (&gateway);
    return 0;
}
