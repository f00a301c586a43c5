/*  =========================================================================
    zg_rsettings - the rooms actor's settings: the keys of the [rooms]
    section, their bounds and defaults, and the options new rooms take

    Private to zg_rooms, which owns one and reads it live (as zg_qsettings
    for the queues). Each key is the hyphenated name of its field; the
    defaults are the embedded config/zgate.cfg's (zg_actor_defaults), and a
    value that is not an integer within its key's bounds is refused and
    changes nothing (zg_actor_set_int). Endpoint and security keys are the
    actor's, not settings.
    =========================================================================
*/

#ifndef ZG_RSETTINGS_H_INCLUDED
#define ZG_RSETTINGS_H_INCLUDED

#include <czmq.h>
#include "zg_room.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t verbose;                //  Log joins, leaves and evictions
    int64_t client_timeout;         //  Silence before a client is evicted, ms
    int64_t ack_timeout;            //  Default ack timeout of a room, ms
    int64_t hold;                   //  Default: rooms hold messages without members
    int64_t max_clients;            //  Logical clients alive at once
    int64_t max_clients_per_connection;     //  Of them, made by one connection or identity
    int64_t max_rooms;              //  Rooms that exist at once
    int64_t max_rooms_per_connection;   //  Of them, made by one holder (zg_holder)
    int64_t room_idle_timeout;      //  Ms a room with options of its own may stay empty
    int64_t max_rooms_per_client;   //  Rooms one client may be a member of
    int64_t max_backlog;            //  Pending messages per room
    int64_t max_backlog_bytes;      //  Their payload bytes per room
    int64_t max_name_size;          //  Longest room name or correlation id
    int64_t max_message_size;       //  Largest message libzmq accepts
    int64_t max_peek;               //  Most messages one PEEK returns
    int64_t max_top_rooms;          //  Most rooms one METRICS lists
    int64_t sndhwm;                 //  Events queued per connection
    int64_t rcvhwm;                 //  Requests queued per connection
} zg_rsettings_t;

//  The defaults, from the embedded config/zgate.cfg
zg_rsettings_t
    zg_rsettings_defaults (void);

//  Set one setting by its key. Returns 0, or -1 with a one-line reason in
//  error (an unknown key, a value that is not an integer within bounds)
//  and nothing changed.
int
    zg_rsettings_set (zg_rsettings_t *self, const char *key, const char *value, char *error, size_t size);

//  The options of a room that sets none of its own (hold, ack-timeout;
//  highest priority first)
zg_room_options_t
    zg_rsettings_room_options (const zg_rsettings_t *self);

//  Self test of this class
void
    zg_rsettings_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
