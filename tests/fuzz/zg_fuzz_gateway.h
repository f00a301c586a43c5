/*  =========================================================================
    zg_fuzz_gateway - what the gateway fuzz targets share: the gateway's
    routes (zg_gw_routes) over its three real bridges, each connected over
    inproc to a real pattern actor, as zg_gateway builds them, without the
    lws context (sessions and HTTP transactions have no connection: what
    the gateway would write is read from them instead)

    A new gateway and new actors per input, the actors' states running in
    the target's thread (zg_fuzz_native.h). After each request, the
    actors' loop passes run and the bridges are pumped (their sockets
    drained), as the gateway's loop pumps them, until what the target waits
    for has come or neither has anything left to do.
    =========================================================================
*/

#ifndef ZG_FUZZ_GATEWAY_H_INCLUDED
#define ZG_FUZZ_GATEWAY_H_INCLUDED

#include "zg_fuzz_native.h"
#include "zg_gw_routes.h"
#include "zg_topics.h"
#include "zg_queues.h"
#include "zg_rooms.h"

typedef struct {
    fuzz_core_t actors [3];         //  topics, queues, rooms
    zg_gw_settings_t settings;
    zg_gw_answers_t *answers;
    zg_gw_topics_t *topics;
    zg_gw_queues_t *queues;
    zg_gw_rooms_t *rooms;
    zg_gw_guard_t *guard;           //  Security off, as zgate starts
    zg_gw_routes_t *routes;
} fuzz_gateway_t;

//  Bind an actor's key to a fresh inproc endpoint and connect the gateway's
//  key to it
static inline void
s_gateway_link (fuzz_gateway_t *gateway, fuzz_core_t *actor, const char *actor_key, const char *gateway_key)
{
    char endpoint [96];
    s_native_bind (actor, actor_key, endpoint, sizeof endpoint);
    int rc = zg_gw_topics_connect (gateway->topics, gateway_key, endpoint);
    if (rc == 1)
        rc = zg_gw_queues_connect (gateway->queues, gateway_key, endpoint);
    if (rc == 1)
        rc = zg_gw_rooms_connect (gateway->rooms, gateway_key, endpoint);
    assert (rc == 0);
}

//  Drain every bridge until none has more; true if any handled a message
static inline bool
s_gateway_drain (fuzz_gateway_t *gateway)
{
    bool handled = false, more = true;
    while (more) {
        more = false;
        bool more_topics = false, more_queues = false, more_rooms = false;
        handled |= zg_gw_topics_drain (gateway->topics, &more_topics) > 0;
        handled |= zg_gw_queues_drain (gateway->queues, &more_queues) > 0;
        handled |= zg_gw_rooms_drain (gateway->rooms, &more_rooms) > 0;
        more = more_topics || more_queues || more_rooms;
    }
    return handled;
}

//  Whether what a target waits for has come (it may take what came)
typedef bool (fuzz_done_fn) (void *arg);

//  Run the actors and pump the bridges, as the gateway's loop pumps them,
//  until done says so or neither has anything left to do
static inline void
s_gateway_pump (fuzz_gateway_t *gateway, fuzz_done_fn *done, void *arg)
{
    bool busy = true;
    while (busy) {
        busy = false;
        for (size_t index = 0; index < 3; index++)
            busy |= s_native_pump (&gateway->actors [index]);
        busy |= s_gateway_drain (gateway);
        int64_t now = zclock_mono ();
        zg_gw_queues_tick (gateway->queues, now);
        zg_gw_topics_tick (gateway->topics, now);
        zg_gw_answers_expire (gateway->answers, now);
        if (done (arg))
            break;
    }
}

//  Never done: pump until there is nothing left to do
static inline bool
s_gateway_never (void *arg)
{
    (void) arg;
    return false;
}

//  A gateway with small limits over new actors
static inline void
s_gateway_new (fuzz_gateway_t *gateway)
{
    s_native_init ();
    memset (gateway, 0, sizeof *gateway);
    gateway->settings = (zg_gw_settings_t) {
        .max_frame_size = 65536, .max_message_size = 65536, .max_depth = 8, .max_topic_size = 16,
        .max_subscriptions = 4, .max_sessions = 4, .max_queue_bytes = 1 << 20, .ping_interval = 1000,
        .ping_timeout = 1000, .max_body_size = 4096, .pull_buffer_size = 4, .max_pull_subscribers = 2,
        .pull_idle_timeout = 60000, .peer_stats_interval = 1000, .write_batch = 65536, .http_timeout = 1000
    };
    gateway->answers = zg_gw_answers_new (&gateway->settings);
    gateway->topics = zg_gw_topics_new (gateway->answers, &gateway->settings);
    gateway->queues = zg_gw_queues_new (gateway->answers, &gateway->settings);
    gateway->rooms = zg_gw_rooms_new (gateway->answers, &gateway->settings);
    gateway->guard = zg_gw_guard_new (gateway->answers);
    gateway->routes = zg_gw_routes_new (gateway->answers, gateway->topics, gateway->queues, gateway->rooms,
                                        gateway->guard);
    zg_gw_topics_configure (gateway->topics);
    gateway->actors [0] = FUZZ_CORE (topics, zg_topics_core_new (NULL, NULL));
    gateway->actors [1] = FUZZ_CORE (queues, zg_queues_core_new ());
    gateway->actors [2] = FUZZ_CORE (rooms, zg_rooms_core_new ());
    s_gateway_link (gateway, &gateway->actors [0], "subscribers", "topics-subscribers");
    s_gateway_link (gateway, &gateway->actors [0], "publishers", "topics-publishers");
    s_gateway_link (gateway, &gateway->actors [1], "producers", "queues-producers");
    s_gateway_link (gateway, &gateway->actors [1], "workers", "queues-workers");
    s_gateway_link (gateway, &gateway->actors [2], "clients", "rooms-clients");
    //  Connected, as a running gateway is before its first client: the
    //  actors' XSUB has subscribed the bridge's publisher to everything
    //  (else the first barrier probe is lost, and sent again only 100 ms on)
    s_gateway_pump (gateway, s_gateway_never, NULL);
}

//  Destroy the gateway, then the actors
static inline void
s_gateway_destroy (fuzz_gateway_t *gateway)
{
    zg_gw_routes_destroy (&gateway->routes);
    zg_gw_guard_destroy (&gateway->guard);
    zg_gw_rooms_destroy (&gateway->rooms);
    zg_gw_queues_destroy (&gateway->queues);
    zg_gw_topics_destroy (&gateway->topics);
    zg_gw_answers_destroy (&gateway->answers);
    zg_topics_core_destroy ((zg_topics_core_t **) &gateway->actors [0].state);
    zg_queues_core_destroy ((zg_queues_core_t **) &gateway->actors [1].state);
    zg_rooms_core_destroy ((zg_rooms_core_t **) &gateway->actors [2].state);
}

#endif
