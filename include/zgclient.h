/*  =========================================================================
    zgclient - public API of libzgclient, the native C client of zgate

    One class per pattern role, each a thin layer over czmq sockets that
    speaks docs/PROTOCOL.md; none of them needs libzgate:

        zg_client           topics: publish, subscribe
        zg_catchup          topics: read a topic that remembers without a gap
        zg_producer         queues: send tasks, wait for replies, read tasks
        zg_worker           queues: serve queues or commands with handlers
        zg_room_producer    rooms: send, peek, state and metrics
        zg_member           rooms: join, receive, ack, ping
        zg_roomproxy        rooms: many local clients sharing one membership
        zg_curve            any of them as a CURVE client (_new_secure)
    =========================================================================
*/

#ifndef ZGCLIENT_H_INCLUDED
#define ZGCLIENT_H_INCLUDED

#include <czmq.h>

#include "zg_errors.h"
#include "zg_client.h"
#include "zg_catchup.h"
#include "zg_producer.h"
#include "zg_taker.h"
#include "zg_async.h"
#include "zg_worker.h"
#include "zg_command.h"
#include "zg_room_producer.h"
#include "zg_member.h"
#include "zg_roomproxy.h"
#include "zg_curve.h"

#endif
