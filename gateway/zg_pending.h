/*  =========================================================================
    zg_pending - the gateway's requests waiting for a queue or room actor

    Web sessions and HTTP transactions share one DEALER per pattern, so each
    request to a queue or room actor carries a gateway-made req ("g<n>");
    the table maps the answer's req back to the session or transaction that
    asked, with what the answer should look like. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_PENDING_H_INCLUDED
#define ZG_PENDING_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

//  What a request to a queue or room actor is waiting for
typedef enum {
    ZG_PENDING_QUEUE_SEND,          //  SEND: accepted, maybe a reply
    ZG_PENDING_TASK,                //  GET: the task's state
    ZG_PENDING_PULL,                //  TAKE, FINISH, RETRY: a task, or ok
    ZG_PENDING_HELLO,               //  HELLO: a rooms client id
    ZG_PENDING_ROOM_OK,             //  LEAVE, PING, ACK: ok
    ZG_PENDING_JOIN,                //  JOIN: ok with the session's client id
    ZG_PENDING_ROOM_SEND,           //  SEND: ok with seq
    ZG_PENDING_ROOM_OOB,            //  OOB: ok with count
    ZG_PENDING_PEEK,                //  PEEK: the map
    ZG_PENDING_STATE,               //  STATE: the map
    ZG_PENDING_METRICS,             //  METRICS: the map
    ZG_PENDING_ADMIN_LIST,          //  An admin's list (STATS, METRICS): the map (zg_gw_admin)
    ZG_PENDING_ADMIN_DELETE         //  An admin's DELETE: ok with the messages dropped
} zg_pending_kind_t;

//  One request waiting for its answer
typedef struct {
    char key [32];                  //  The gateway req, "g<n>"
    zg_pending_kind_t kind;         //  What it waits for
    uint64_t owner;                 //  Session or HTTP transaction id
    bool http;                      //  The owner is an HTTP transaction
    json_object *req;               //  The web req to echo, or NULL
    bool reply;                     //  A queue SEND waits for its reply too
    bool scatter;                   //  A CALL to every worker: replies, then END
    json_object *gathered;          //  An HTTP scatter's replies so far, or NULL
} zg_pending_request_t;

typedef struct _zg_pending_t zg_pending_t;

//  Create an empty table
zg_pending_t *
    zg_pending_new (void);

//  Destroy the table and the requests still waiting
void
    zg_pending_destroy (zg_pending_t **self_p);

//  Add a request with the gateway req "g<id>" (id is unique to the caller),
//  holding a reference to req; returns it, owned by the table
zg_pending_request_t *
    zg_pending_add (zg_pending_t *self, uint64_t id, zg_pending_kind_t kind, uint64_t owner, bool http,
                    json_object *req);

//  The request of a gateway req, or NULL if none waits under it
zg_pending_request_t *
    zg_pending_lookup (zg_pending_t *self, const char *key);

//  Forget the request of a gateway req (its answer is complete)
void
    zg_pending_remove (zg_pending_t *self, const char *key);

//  Requests waiting
size_t
    zg_pending_size (zg_pending_t *self);

//  Self test of this class
void
    zg_pending_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
