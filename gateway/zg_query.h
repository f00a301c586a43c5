/*  =========================================================================
    zg_query - the arguments of an HTTP request's query string, as
    libwebsockets decoded them: one "name=value" (or "name") each, in order

    The gateway reads them off the connection once, when the request
    starts, so that the routes (the rooms' ?offset=&limit= and ?top=, the
    admin API's ?if-empty=&if-unused=) read them from the request alone, as
    the fuzz targets do.

    Private to the gateway; runs in its lws thread.
    =========================================================================
*/

#ifndef ZG_QUERY_H_INCLUDED
#define ZG_QUERY_H_INCLUDED

#include <czmq.h>
#include <libwebsockets.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Arguments kept; further ones are ignored (lws' header buffer holds
//  fewer anyway)
#define ZG_QUERY_MAX_ARGUMENTS 64

typedef struct _zg_query_t zg_query_t;

//  The query of a request on wsi, as lws decoded it; wsi NULL: none
zg_query_t *
    zg_query_new (struct lws *wsi);

//  Destroy it
void
    zg_query_destroy (zg_query_t **self_p);

//  Add one argument of size bytes ("name=value", or "name"); a NUL byte
//  ends it. Returns 0, or -1 past ZG_QUERY_MAX_ARGUMENTS (not added).
int
    zg_query_add (zg_query_t *self, const char *argument, size_t size);

//  Arguments held
size_t
    zg_query_size (zg_query_t *self);

//  The value of the first argument named name ("name=value": "value";
//  "name" alone: ""), or NULL if none is
const char *
    zg_query_value (zg_query_t *self, const char *name);

//  The first argument named name as a decimal integer >= 0 (no sign, no
//  spaces, at most INT64_MAX): -1 if there is none, -2 if it is not one
int64_t
    zg_query_int (zg_query_t *self, const char *name);

//  Self test of this class
void
    zg_query_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
