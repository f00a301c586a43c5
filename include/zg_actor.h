/*  =========================================================================
    zg_actor - the pipe protocol that every zgate actor speaks to its owner

    Every actor (topics, queues, rooms, gateway) answers these commands:

        SET key value     -> "is"  0 and "", or -1 and a one-line reason.
                             Endpoint keys (e.g. "subscribers") bind at once.
        BIND role endpoint-> same as SET; reads better in embedding programs
        SET verbose 0|1   -> every actor accepts it: log its decisions
        STATS             -> "s"   a JSON object with the actor's counters
        $TERM             -> the actor ends

    These helpers are the owner's side of it, plus the integer-settings table
    that actors share to parse and bound their numeric keys.
    =========================================================================
*/

#ifndef ZG_ACTOR_H_INCLUDED
#define ZG_ACTOR_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include "zg_config.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A numeric setting an actor accepts through SET: its key, where it lives in
//  the actor's settings struct, and its bounds
typedef struct {
    const char *key;
    size_t offset;                  //  offsetof the int64_t field
    int64_t min;
    int64_t max;
} zg_int_setting_t;

//  Actor side: how an actor applies a setting (0, or -1 with a reason), reports
//  its counters (a new json-c object, sent as JSON text), and handles its own extra pipe
//  commands (may be NULL: any other command is then a programming error)
typedef int (zg_actor_set_fn) (void *self, const char *key, const char *value, char *error, size_t size);
typedef json_object *(zg_actor_stats_fn) (void *self);
typedef void (zg_actor_command_fn) (void *self, const char *command, zmsg_t *request);

typedef struct {
    const char *name;               //  Actor name, for the log
    zg_actor_set_fn *set;
    zg_actor_stats_fn *stats;
    zg_actor_command_fn *command;
} zg_actor_handlers_t;

//  Actor side: receive one command from the owner and answer it. Returns true
//  when the command was $TERM, so the actor must end.
bool
    zg_actor_handle_pipe (zsock_t *pipe, const zg_actor_handlers_t *handlers, void *self);

//  Actor side: zmq_poll that reports nothing ready when a signal interrupts it. Returns -1
//  only when the context is terminated.
int
    zg_actor_poll (zmq_pollitem_t *items, int count, long timeout);

//  Actor side: set a socket's send and receive high-water marks, each only
//  if it differs from the socket's (a negative value leaves it). libzmq 4.3.4
//  hands a changed HWM to every live pipe's peer, which its reaper thread may
//  have freed already when a client just closed: a crash there. So settings
//  that do not change them never touch them, and a change is best made
//  before the endpoints are bound (zgate takes HWM changes on a restart).
void
    zg_actor_set_hwms (zsock_t *socket, int64_t sndhwm, int64_t rcvhwm);

//  Send SET key value to an actor and wait for its answer. Returns 0, or -1
//  with the reason in error
int
    zg_actor_set (zactor_t *actor, const char *key, const char *value, char *error, size_t size);

//  SET every key of one config section on an actor, in file order. Returns 0,
//  or -1 with "section/key: reason" in error
int
    zg_actor_configure (zactor_t *actor, zg_config_t *config, const char *section,
                        char *error, size_t size);

//  Ask an actor for its counters; returns a JSON string the caller frees
char *
    zg_actor_stats (zactor_t *actor);

//  One counter from an actor's STATS: root field, or field of the object
//  group/name (e.g. "queues", "jobs", "waiting"); -1 if there is none
int64_t
    zg_actor_stat (zactor_t *actor, const char *group, const char *name, const char *field);

//  Actor side: if key names an entry of table (terminated by a NULL key), parse
//  value into settings and return 0, or -1 with a reason if it is not an
//  integer within bounds. A key the table does not have is -1, "unknown key".
int
    zg_actor_set_int (const zg_int_setting_t *table, void *settings, const char *key,
                      const char *value, char *error, size_t size);

//  Actor side: fill settings with the defaults of the table's keys from the
//  embedded config/zgate.cfg, section by section: the file is the one source
//  of defaults. A key the file does not have (only "verbose", which the
//  daemon sets from server/log-level) starts at 0; a default outside the
//  table's bounds is a programming error.
void
    zg_actor_defaults (const zg_int_setting_t *table, void *settings, const char *section);

//  Actor side: the embedded config/zgate.cfg's value at path ("queues/max-tasks"),
//  or NULL if it has no such key. The file is parsed once per process and
//  only read after, from any thread.
const char *
    zg_actor_default (const char *path);

//  Actor side: bind a socket to an endpoint. Returns 0, or -1 with a reason
int
    zg_actor_bind (zsock_t *socket, const char *endpoint, char *error, size_t size);

//  Self test of this class
void
    zg_actor_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
