/*  =========================================================================
    zg_wsqenv - the go-wsqueue message envelope, and UUIDv4 connection ids

    go-wsqueue (SEEDS.md section 1.3) sends each message as one JSON text
    frame {"metadata": {...}, "data": "<body as a string>"}, its metadata the
    content type ("string", "int", "bool" or "application/json" with the Go
    type as "application-type"), an id, the date and the host. zgate
    payloads are bytes, so the type is read from them: JSON that is an
    integer, a boolean, an object or an array says so, any other UTF-8 text
    is a string, and bytes that are not UTF-8 (or hold a NUL) are sent
    base64 with content type "application/octet-stream" and "encoding":
    "base64". The seed's client adds "received" when it reads a message;
    zgate sets it when the gateway got the message, so a client of any
    library has it. Ids are UUIDv4 (zg_presence_uuid4). Private to the
    gateway.
    =========================================================================
*/

#ifndef ZG_WSQENV_H_INCLUDED
#define ZG_WSQENV_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_presence.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Size of an id (a UUID in its canonical text form), with its terminator
#define ZG_WSQENV_UUID_SIZE ZG_PRESENCE_UUID_SIZE

//  A new envelope of a payload received at received_ms (ms since the
//  epoch), from host, with a new UUIDv4 id written to id (if not NULL);
//  the caller owns it
json_object *
    zg_wsqenv_new (const void *payload, size_t size, const char *host, int64_t received_ms, char *id);

//  The JSON value that is the whole of data (nothing after it), or NULL
json_object *
    zg_wsqenv_parse (const void *data, size_t size);

//  The "metadata"."id" of a frame a client sent (an envelope), copied into
//  id; returns 0, or -1 if the frame has none
int
    zg_wsqenv_id (const void *frame, size_t size, char *id);

//  Self test of this class
void
    zg_wsqenv_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
