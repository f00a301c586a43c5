/*  =========================================================================
    zgate - public API of libzgate: the pattern actors and their configuration

    The gateway actor is in its own library, libzgate-gateway (zg_gateway.h),
    so that a program without web clients does not link libwebsockets.

    A C program composes zgate in-process by creating the actors it needs and
    binding them, for example:

        zactor_t *topics = zg_topics_new (NULL, NULL);
        zstr_sendx (topics, "BIND", "subscribers", "tcp://127.0.0.1:5560", NULL);
    =========================================================================
*/

#ifndef ZGATE_H_INCLUDED
#define ZGATE_H_INCLUDED

#include <czmq.h>

//  The one place of the version: CMakeLists.txt reads it for the libraries and .pc files
#define ZGATE_VERSION_MAJOR 0
#define ZGATE_VERSION_MINOR 1
#define ZGATE_VERSION_PATCH 0
#define ZGATE_VERSION "0.1.0"

#if CZMQ_VERSION < 40201
#   error "zgate needs czmq 4.2.1 or later"
#endif
#if ZMQ_VERSION < 40300
#   error "zgate needs libzmq 4.3 or later"
#endif

#include "zg_errors.h"
#include "zg_config.h"
#include "zg_actor.h"
#include "zg_budget.h"
#include "zg_connwatch.h"
#include "zg_topics.h"
#include "zg_queues.h"
#include "zg_rooms.h"
#include "zg_cluster.h"

#endif
