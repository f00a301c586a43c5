/*  =========================================================================
    zg_gw_status - the queues' status page in text/plain, qmanager's stats
    page (GET /api/queues/status)

    Private to the gateway. It reads the queues actor's STATS as the
    gateway last received them (PEER-STATS, every peer-stats-interval ms).
    =========================================================================
*/

#ifndef ZG_GW_STATUS_H_INCLUDED
#define ZG_GW_STATUS_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The page for the queues actor's stats (NULL if it has not reported) at
//  wall (ms since the epoch), as a new string the caller frees:
//      Current time is: 2026-12-07 05:09:00.123 UTC
//      Wait:\t\t<n>
//      Progress:\t<n>
//      Done:\t\t<n>
//      <blank>
//      Done list:
//      ID: <id>  Type: <queue>  State: <state>  Attempt: <n>  Finished: <time>
char *
    zg_gw_status_page (json_object *queues, int64_t wall);

//  Self test of this class
void
    zg_gw_status_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
