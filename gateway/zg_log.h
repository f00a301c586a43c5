/*  =========================================================================
    zg_log - where zgate's log lines go, and which of them

    Every thread logs through czmq's zsys_* calls; this class filters those
    lines by level and sends them to stderr or to syslog. The daemon uses it;
    an embedding program may, or keep czmq's logging as it set it up.
    =========================================================================
*/

#ifndef ZG_LOG_H_INCLUDED
#define ZG_LOG_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The name zgate's log lines carry, as czmq writes it: "I: (zgate) ..."
#define ZG_LOG_IDENT "zgate"

typedef struct _zg_log_t zg_log_t;

//  Route czmq's log to target ("stderr" or "syslog"), showing lines of level
//  ("error", "warn", "info" or "debug") and above. Returns NULL with a
//  one-line reason in error if either name is unknown.
zg_log_t *
    zg_log_new (const char *level, const char *target, char *error, size_t size);

//  Flush, give czmq's log back to stderr, and destroy
void
    zg_log_destroy (zg_log_t **self_p);

//  Change the level while running. Returns 0, or -1 with a reason in error
int
    zg_log_set_level (zg_log_t *self, const char *level, char *error, size_t size);

//  Log an info line of any length, as czmq would in its format: czmq cuts
//  its lines at 1,023 bytes, and the stats of many names are longer
void
    zg_log_info_whole (zg_log_t *self, const char *text);

//  True when debug lines are shown (the actors then log their decisions)
bool
    zg_log_debug (zg_log_t *self);

//  Self test of this class
void
    zg_log_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
