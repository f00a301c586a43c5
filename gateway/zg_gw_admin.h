/*  =========================================================================
    zg_gw_admin - the admin API over HTTP: list and delete queues, rooms and
    pull subscribers (/api/admin/...)

    Private to the gateway. Beside zg_gw_routes, above the bridges: a queue
    or room request goes to its actor through its bridge (zg_gw_queues_admin,
    zg_gw_rooms_admin, answered by zg_gw_answers_admin), pull subscribers
    are the topics bridge's own. The routes need the admin permission
    (zg_acl) when security is on, as /api/stats does.
    =========================================================================
*/

#ifndef ZG_GW_ADMIN_H_INCLUDED
#define ZG_GW_ADMIN_H_INCLUDED

#include <czmq.h>
#include "zg_gw_answers.h"
#include "zg_gw_topics.h"
#include "zg_gw_queues.h"
#include "zg_gw_rooms.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_gw_admin_t zg_gw_admin_t;

//  An admin route: the request and its path's {} segment
typedef void (zg_gw_admin_route_fn) (zg_gw_admin_t *self, zg_http_t *http, const char *param);

//  Create the admin API on the bridges (the caller's, alive as long)
zg_gw_admin_t *
    zg_gw_admin_new (zg_gw_answers_t *answers, zg_gw_topics_t *topics, zg_gw_queues_t *queues,
                     zg_gw_rooms_t *rooms);

//  Destroy it
void
    zg_gw_admin_destroy (zg_gw_admin_t **self_p);

//  GET /api/admin/queues, /api/admin/rooms, /api/admin/pull: the queues'
//  STATS, the rooms' METRICS (every room up to rooms/max-top-rooms), the
//  pull subscribers
zg_gw_admin_route_fn
    zg_gw_admin_list;

//  DELETE /api/admin/queues/{queue}[?if-empty=true&if-unused=true],
//  /api/admin/rooms/{room}, /api/admin/pull/{id}
zg_gw_admin_route_fn
    zg_gw_admin_delete;

//  Self test of this class
void
    zg_gw_admin_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
