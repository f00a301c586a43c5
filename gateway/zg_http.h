/*  =========================================================================
    zg_http - one HTTP transaction of the gateway: method, path, bounded
    body, and a reply written in two steps (headers, then body) when lws
    says the connection is writable, so a reply may come later (deferred).

    Private to the gateway; runs in its lws thread.
    =========================================================================
*/

#ifndef ZG_HTTP_H_INCLUDED
#define ZG_HTTP_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <libwebsockets.h>
#include "zg_query.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZG_HTTP_GET,
    ZG_HTTP_POST,
    ZG_HTTP_OPTIONS,                //  A CORS preflight
    ZG_HTTP_DELETE,                 //  The admin API's deletions
    ZG_HTTP_OTHER                   //  PUT, PATCH, HEAD, ...
} zg_http_method_t;

typedef struct {
    struct lws *wsi;                //  The connection
    uint64_t id;                    //  Unique for the life of the gateway
    zg_http_method_t method;        //  Request method
    char *path;                     //  Request path, without the query
    zg_query_t *query;              //  The query's arguments
    byte *body;                     //  Request body so far, or NULL
    size_t body_size;               //  Bytes in body
    bool too_large;                 //  Body went over its limit
    int64_t started;                //  zclock_usecs at the request
    int64_t deadline;               //  zclock_mono by which a deferred reply is due
    const char *endpoint;           //  Route name for the metrics
    int status;                     //  Reply status, 0 until replied
    const char *content_type;       //  Reply content type
    byte *reply;                    //  Reply body (LWS_PRE bytes before it)
    size_t reply_size;              //  Bytes in the reply body
    bool headers_sent;              //  Headers written, body next
    char *bearer;                   //  Token of an Authorization: Bearer header, or NULL
    char *allow_origin;             //  CORS: the Origin the reply allows, or NULL
    bool close_after;               //  Close the connection once replied
} zg_http_t;

//  Start a transaction (the query's arguments read from wsi, if not NULL)
zg_http_t *
    zg_http_new (struct lws *wsi, uint64_t id, zg_http_method_t method, const char *path);

//  End it
void
    zg_http_destroy (zg_http_t **self_p);

//  Append a chunk of the body; past max_size the body is dropped and
//  too_large set
void
    zg_http_append (zg_http_t *self, const void *data, size_t size, size_t max_size);

//  Reply (once): status, content type and body; asks for a writable callback
void
    zg_http_reply (zg_http_t *self, int status, const char *content_type, const void *data, size_t size);

//  Reply with a JSON value, followed by a newline
void
    zg_http_reply_json (zg_http_t *self, int status, json_object *value);

//  Reply with {"message": text}
void
    zg_http_reply_message (zg_http_t *self, int status, const char *message);

//  True if path matches a route pattern with at most one {} segment (one
//  non-empty path segment, copied to param)
bool
    zg_http_match (const char *pattern, const char *path, char *param, size_t size);

//  Reply with the compiled-in file of the request's path ("/" is the
//  dashboard's index.html); false if there is none
bool
    zg_http_reply_file (zg_http_t *self);

//  Write the next part of the reply. Returns 1 when it is all written and
//  the connection should go on, -1 when it should close, 0 otherwise
int
    zg_http_write (zg_http_t *self);

//  Self test of this class
void
    zg_http_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
