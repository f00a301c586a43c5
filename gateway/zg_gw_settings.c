/*  =========================================================================
    zg_gw_settings - the gateway's own settings: the keys of the [gateway]
    section that are values, their bounds and defaults, and the queues
    actor's bounds that the gateway checks web requests against
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_settings.h"

static const zg_int_setting_t s_int_settings [] = {
    { "verbose", offsetof (zg_gw_settings_t, verbose), 0, 1 },
    { "max-frame-size", offsetof (zg_gw_settings_t, max_frame_size), 16, INT32_MAX },
    { "max-message-size", offsetof (zg_gw_settings_t, max_message_size), 16, INT32_MAX },
    { "max-depth", offsetof (zg_gw_settings_t, max_depth), 2, 64 },
    { "max-topic-size", offsetof (zg_gw_settings_t, max_topic_size), 1, 65535 },
    { "max-subscriptions", offsetof (zg_gw_settings_t, max_subscriptions), 1, 1000000 },
    { "max-sessions", offsetof (zg_gw_settings_t, max_sessions), 1, 1000000 },
    { "max-sessions-per-address", offsetof (zg_gw_settings_t, max_sessions_per_address), 1, 1000000 },
    { "max-queue-bytes", offsetof (zg_gw_settings_t, max_queue_bytes), 1024, INT32_MAX },
    { "max-publish-queued", offsetof (zg_gw_settings_t, max_publish_queued), 0, INT64_MAX },
    { "ping-interval", offsetof (zg_gw_settings_t, ping_interval), 1000, 3600000 },
    { "ping-timeout", offsetof (zg_gw_settings_t, ping_timeout), 1000, 3600000 },
    { "max-body-size", offsetof (zg_gw_settings_t, max_body_size), 16, INT32_MAX },
    { "pull-buffer-size", offsetof (zg_gw_settings_t, pull_buffer_size), 1, 10000000 },
    { "max-pull-subscribers", offsetof (zg_gw_settings_t, max_pull_subscribers), 1, 10000000 },
    { "max-pull-subscribers-per-address", offsetof (zg_gw_settings_t, max_pull_subscribers_per_address), 1,
      10000000 },
    { "pull-idle-timeout", offsetof (zg_gw_settings_t, pull_idle_timeout), 1000, INT64_MAX / 2 },
    { "peer-stats-interval", offsetof (zg_gw_settings_t, peer_stats_interval), 100, 3600000 },
    { "write-batch", offsetof (zg_gw_settings_t, write_batch), 1024, 16777216 },
    { "http-timeout", offsetof (zg_gw_settings_t, http_timeout), 1000, 3600000 },
    { "drain-timeout", offsetof (zg_gw_settings_t, drain_timeout), 0, 600000 },
    { "room-proxy", offsetof (zg_gw_settings_t, room_proxy), 0, 1 },
    { NULL }
};

//  The queues actor's bounds, which the gateway checks web requests against
//  before it answers ok: zgate links them as queues-<key>, and their defaults
//  are the [queues] section's
static const zg_int_setting_t s_queues_settings [] = {
    { "max-prefetch", offsetof (zg_gw_settings_t, queues_max_prefetch), 1, 1000000 },
    { "max-reply-timeout", offsetof (zg_gw_settings_t, queues_max_reply_timeout), 1, 86400000 },
    { NULL }
};

//  --------------------------------------------------------------------------

void
zg_gw_settings_defaults (zg_gw_settings_t *settings)
{
    assert (settings);
    zg_actor_defaults (s_int_settings, settings, "gateway");
    zg_actor_defaults (s_queues_settings, settings, "queues");
    settings->interface = strdup (zg_actor_default ("gateway/interface"));
    settings->disconnect_slow = streq (zg_actor_default ("gateway/slow-client-policy"), "disconnect");
}

int
zg_gw_settings_set (zg_gw_settings_t *settings, const char *key, const char *value, char *error, size_t size)
{
    assert (settings && key && value);
    if (streq (key, "interface")) {
        free (settings->interface);
        settings->interface = strdup (value);
        return 0;
    }
    if (streq (key, "slow-client-policy")) {
        if (strneq (value, "drop") && strneq (value, "disconnect")) {
            snprintf (error, size, "'%s' is not drop or disconnect", value);
            return -1;
        }
        settings->disconnect_slow = streq (value, "disconnect");
        return 0;
    }
    if (strncmp (key, "queues-", 7) == 0)
        return zg_actor_set_int (s_queues_settings, settings, key + 7, value, error, size);
    return zg_actor_set_int (s_int_settings, settings, key, value, error, size);
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_gw_settings_test (bool verbose)
{
    printf (" * zg_gw_settings: ");
    if (verbose)
        printf ("\n");
    zg_gw_settings_t settings;
    memset (&settings, 0, sizeof settings);
    zg_gw_settings_defaults (&settings);
    zg_config_t *defaults = zg_config_new ();
    assert (settings.max_queue_bytes == zg_config_get_int (defaults, "gateway/max-queue-bytes"));
    assert (settings.queues_max_prefetch == zg_config_get_int (defaults, "queues/max-prefetch"));
    assert (streq (settings.interface, zg_config_get (defaults, "gateway/interface")));
    zg_config_destroy (&defaults);

    char error [256] = "";
    assert (zg_gw_settings_set (&settings, "max-queue-bytes", "4096", error, sizeof error) == 0);
    assert (settings.max_queue_bytes == 4096);
    assert (zg_gw_settings_set (&settings, "queues-max-prefetch", "7", error, sizeof error) == 0);
    assert (settings.queues_max_prefetch == 7);
    assert (zg_gw_settings_set (&settings, "slow-client-policy", "disconnect", error, sizeof error) == 0);
    assert (settings.disconnect_slow);
    assert (zg_gw_settings_set (&settings, "interface", "::1", error, sizeof error) == 0);
    assert (streq (settings.interface, "::1"));

    //  Refused values change nothing and say why
    assert (zg_gw_settings_set (&settings, "max-queue-bytes", "12", error, sizeof error) == -1 && *error);
    assert (settings.max_queue_bytes == 4096);
    *error = 0;
    assert (zg_gw_settings_set (&settings, "slow-client-policy", "block", error, sizeof error) == -1);
    assert (strstr (error, "block") && settings.disconnect_slow);
    *error = 0;
    assert (zg_gw_settings_set (&settings, "no-such-key", "1", error, sizeof error) == -1 && *error);
    free (settings.interface);
    printf ("OK\n");
}
