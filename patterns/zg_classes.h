/*  =========================================================================
    zg_classes - private umbrella header: every class source includes only this
    =========================================================================
*/

#ifndef ZG_CLASSES_H_INCLUDED
#define ZG_CLASSES_H_INCLUDED

//  Assertions check internal invariants and stay on in release builds, as in czmq
#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <msgpack.h>

#include "zgate.h"
#include "zg_utf8.h"
#include "zg_gateway.h"

//  The item that holds a link (a heap or liveness node) as its field member
#define ZG_ITEM_OF(link, type, member) ((type *) ((char *) (link) - offsetof (type, member)))

#endif
