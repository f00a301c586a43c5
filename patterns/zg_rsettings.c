/*  =========================================================================
    zg_rsettings - the rooms actor's settings

    See zg_rsettings.h. The table is the one list of the keys: their names,
    fields and bounds.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_rsettings.h"

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (zg_rsettings_t, verbose), 0, 1 },
    { "client-timeout", offsetof (zg_rsettings_t, client_timeout), 1000, 86400000 },
    { "ack-timeout", offsetof (zg_rsettings_t, ack_timeout), ZG_ROOM_MIN_ACK_TIMEOUT, ZG_ROOM_MAX_ACK_TIMEOUT },
    { "hold", offsetof (zg_rsettings_t, hold), 0, 1 },
    { "max-clients", offsetof (zg_rsettings_t, max_clients), 1, 100000000 },
    { "max-clients-per-connection", offsetof (zg_rsettings_t, max_clients_per_connection), 1, 100000000 },
    { "max-rooms", offsetof (zg_rsettings_t, max_rooms), 1, 100000000 },
    { "max-rooms-per-connection", offsetof (zg_rsettings_t, max_rooms_per_connection), 1, 100000000 },
    { "room-idle-timeout", offsetof (zg_rsettings_t, room_idle_timeout), 0, 86400000 },
    { "max-rooms-per-client", offsetof (zg_rsettings_t, max_rooms_per_client), 1, 1000000 },
    { "max-backlog", offsetof (zg_rsettings_t, max_backlog), 1, 100000000 },
    { "max-backlog-bytes", offsetof (zg_rsettings_t, max_backlog_bytes), 0, INT64_MAX / 2 },
    { "max-name-size", offsetof (zg_rsettings_t, max_name_size), 1, 4096 },
    { "max-message-size", offsetof (zg_rsettings_t, max_message_size), 1, INT32_MAX },
    { "max-peek", offsetof (zg_rsettings_t, max_peek), 1, 100000 },
    { "max-top-rooms", offsetof (zg_rsettings_t, max_top_rooms), 1, 100000 },
    { "sndhwm", offsetof (zg_rsettings_t, sndhwm), 0, INT32_MAX },
    { "rcvhwm", offsetof (zg_rsettings_t, rcvhwm), 0, INT32_MAX },
    { NULL }
};

//  --------------------------------------------------------------------------
//  The defaults

zg_rsettings_t
zg_rsettings_defaults (void)
{
    zg_rsettings_t settings = { 0 };
    zg_actor_defaults (s_int_settings, &settings, "rooms");
    return settings;
}

//  --------------------------------------------------------------------------
//  Set one setting

int
zg_rsettings_set (zg_rsettings_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    return zg_actor_set_int (s_int_settings, self, key, value, error, size);
}

//  --------------------------------------------------------------------------
//  The options of a room that sets none of its own

zg_room_options_t
zg_rsettings_room_options (const zg_rsettings_t *self)
{
    assert (self);
    zg_room_options_t options = { self->hold != 0, self->ack_timeout, false };
    return options;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_rsettings_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_rsettings: ");
    //  The defaults are config/zgate.cfg's; verbose, which it has not, is off
    zg_rsettings_t settings = zg_rsettings_defaults ();
    assert (settings.client_timeout == 15000 && settings.max_name_size == 255 && settings.verbose == 0);
    zg_room_options_t options = zg_rsettings_room_options (&settings);
    assert (!options.hold && options.ack_timeout == settings.ack_timeout && !options.lowest_first);

    //  A key sets its field; the room options follow the settings
    char error [256];
    assert (zg_rsettings_set (&settings, "hold", "1", error, sizeof error) == 0);
    assert (zg_rsettings_set (&settings, "ack-timeout", "2500", error, sizeof error) == 0);
    options = zg_rsettings_room_options (&settings);
    assert (options.hold && options.ack_timeout == 2500);
    assert (zg_rsettings_set (&settings, "max-clients-per-connection", "7", error, sizeof error) == 0);
    assert (settings.max_clients_per_connection == 7);

    //  Out of bounds, not a number, an unknown key: refused, nothing changes
    zg_rsettings_t before = settings;
    assert (zg_rsettings_set (&settings, "client-timeout", "999", error, sizeof error) == -1);
    assert (zg_rsettings_set (&settings, "max-name-size", "4097", error, sizeof error) == -1);
    assert (zg_rsettings_set (&settings, "max-peek", "ten", error, sizeof error) == -1);
    assert (zg_rsettings_set (&settings, "max_peek", "10", error, sizeof error) == -1);
    assert (zg_rsettings_set (&settings, "clients", "tcp://127.0.0.1:5564", error, sizeof error) == -1);
    assert (memcmp (&settings, &before, sizeof settings) == 0);
    printf ("OK\n");
}
