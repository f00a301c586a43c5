/*  =========================================================================
    zg_metrics - Prometheus text exposition for the gateway

    The actors' STATS objects are the single source of the counters; a
    table maps each STATS key to a Prometheus family (name, type, help,
    labels, unit), so the JSON can keep its names while /metrics follows
    Prometheus' conventions: counters end in _total, values are in base
    units, per-item families (zgate_topic_*, zgate_queue_*, zgate_room_*)
    carry the item in a label named for it. The text format wants every
    sample of one family in one group, so maps of items are rendered
    family by family, not item by item.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_metrics.h"
#include "zg_process.h"
#include "zg_build.h"

//  Prometheus' default histogram buckets, in seconds
static const double s_buckets [] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define ZG_METRICS_BUCKETS (sizeof s_buckets / sizeof s_buckets [0])

//  Labels of one sample: name, value pairs, then NULL
#define ZG_METRICS_MAX_LABELS 3

//  Requests to one endpoint that ended with one code
typedef struct {
    char *endpoint;                 //  Route name
    int code;                       //  HTTP status
    uint64_t count;                 //  Requests
    uint64_t buckets [ZG_METRICS_BUCKETS];  //  Requests at most that long
    double sum;                     //  Seconds in all
} s_series_t;

struct _zg_metrics_t {
    zlistx_t *series;               //  s_series_t, in order of first use
};

//  Where some of a family's samples come from in an actor's STATS
typedef struct {
    const char *key;                //  Key of the section; "key/member" for a member of an object
    const char *fixed;              //  These samples' value of the family's fixed label, or NULL
} s_source_t;

//  One family taken from STATS. The source's value is a number (one
//  sample), a map of numbers or of objects (a sample per item, the item's
//  name in item_label), or a list of objects (the name is their item_label
//  member)
typedef struct {
    const char *name;               //  Metric name
    const char *type;               //  "counter" or "gauge"
    const char *help;               //  # HELP text
    const char *section;            //  Actor section of /api/stats
    s_source_t sources [2];         //  Up to two sources, in order
    const char *fixed_label;        //  Label that tells the sources apart, or NULL
    const char *item_label;         //  Label naming the item, for maps and lists
    const char *field;              //  For items that are objects, the member with the value
    double divisor;                 //  From STATS' unit to the base unit
} s_family_t;

//  A number at key of section: a family with one sample
#define S_PLAIN(name, type, section, key, divisor, help) \
    { name, type, help, section, { { key, NULL }, { NULL, NULL } }, NULL, NULL, NULL, divisor }
//  Items of a map or list at key: a sample per item
#define S_ITEMS(name, type, section, key, label, field, divisor, help) \
    { name, type, help, section, { { key, NULL }, { NULL, NULL } }, NULL, label, field, divisor }
//  Two numbers of one section told apart by a fixed label
#define S_PAIR(name, type, section, fixed_label, key1, value1, key2, value2, help) \
    { name, type, help, section, { { key1, value1 }, { key2, value2 } }, fixed_label, NULL, NULL, 1 }
//  A member of every queue and command queue, told apart by kind
#define S_QUEUE(name, type, field, divisor, help) \
    { name, type, help, "queues", { { "queues", "queue" }, { "commands", "command" } }, "kind", "queue", \
      field, divisor }

static const s_family_t s_families [] = {
    S_PLAIN ("zgate_gateway_sessions", "gauge", "gateway", "sessions", 1, "WebSocket sessions open."),
    S_PLAIN ("zgate_gateway_sessions_accepted_total", "counter", "gateway", "sessions_accepted", 1,
             "WebSocket sessions accepted."),
    S_PLAIN ("zgate_gateway_sessions_rejected_total", "counter", "gateway", "sessions_rejected", 1,
             "WebSocket upgrades refused at gateway/max-sessions."),
    S_ITEMS ("zgate_gateway_messages_in_total", "counter", "gateway", "messages_in", "pattern", NULL, 1,
             "Messages from web clients, by pattern."),
    S_ITEMS ("zgate_gateway_messages_out_total", "counter", "gateway", "messages_out", "pattern", NULL, 1,
             "Messages to web clients, by pattern."),
    S_PAIR ("zgate_gateway_dropped_total", "counter", "gateway", "reason", "dropped_slow", "slow", NULL, NULL,
            "Messages not sent to a web client, by reason (slow: its send buffer was full)."),
    S_PAIR ("zgate_gateway_disconnects_total", "counter", "gateway", "reason",
            "disconnects_slow", "slow", "disconnects_limit", "limit",
            "Web clients disconnected by the gateway, by reason (slow reader, or over a limit)."),
    S_PLAIN ("zgate_gateway_errors_total", "counter", "gateway", "errors", 1, "Error answers sent to web clients."),
    S_PLAIN ("zgate_gateway_unavailable_total", "counter", "gateway", "unavailable", 1,
             "Messages a pattern actor could not take (not linked yet, or its queue full)."),
    S_PLAIN ("zgate_gateway_web_subscriptions", "gauge", "gateway", "web_subscriptions", 1,
             "Topic subscriptions of web clients."),
    S_PLAIN ("zgate_gateway_web_workers", "gauge", "gateway", "web_workers", 1,
             "Web clients registered as queue workers."),
    S_PLAIN ("zgate_gateway_room_clients", "gauge", "gateway", "room_clients", 1, "Web clients in rooms."),
    S_PLAIN ("zgate_gateway_pending_requests", "gauge", "gateway", "pending", 1,
             "Requests waiting for a pattern actor's answer."),
    S_PLAIN ("zgate_gateway_pull_subscribers", "gauge", "gateway", "pull_subscribers", 1,
             "gophermq-style pull subscribers."),
    S_PLAIN ("zgate_gateway_pull_delivered_total", "counter", "gateway", "pull_delivered", 1,
             "Messages put in pull subscribers' buffers."),
    S_PLAIN ("zgate_gateway_pull_dropped_total", "counter", "gateway", "pull_dropped", 1,
             "Messages dropped because a pull subscriber's buffer was full."),
    S_PLAIN ("zgate_gateway_async_publish_failed_total", "counter", "gateway", "async_failed", 1,
             "Publishes to /api/publish/async that failed after their 200 answer."),
    S_PLAIN ("zgate_gateway_publish_held_bytes", "gauge", "gateway", "publish/held", 1,
             "Bytes of web publishes the topics actor has not read yet (charged to the memory budget)."),
    S_PAIR ("zgate_gateway_publish_refused_total", "counter", "gateway", "limit",
            "publish/refused_limit", "queued", "publish/refused_budget", "budget",
            "Web publishes refused, by limit (queued: gateway/max-publish-queued, 429; budget: 507)."),
    S_PLAIN ("zgate_memory_budget_bytes", "gauge", "gateway", "budget/limit", 1,
             "The memory budget for what clients can grow (server/memory-budget)."),
    S_PLAIN ("zgate_memory_budget_used_bytes", "gauge", "gateway", "budget/used", 1,
             "Bytes charged to the memory budget (queues' tasks, rooms' backlogs)."),
    S_PLAIN ("zgate_memory_alarm", "gauge", "gateway", "budget/alarm", 1,
             "1 while the memory alarm refuses new work (507), until usage falls to nine tenths."),
    S_PAIR ("zgate_memory_refused_total", "counter", "gateway", "limit",
            "budget/refused_account", "account", "budget/refused_global", "budget",
            "Requests refused for memory, by limit (account: a queue's, a room's or the web publishes' own, 429; "
            "budget: 507)."),
#define S_INPUT(section) \
    S_PLAIN ("zgate_" section "_input_held_bytes", "gauge", section, "input/held", 1, \
             "Input native connections sent that libzmq holds unread (charged to the memory budget)."), \
    S_PLAIN ("zgate_" section "_input_cut_total", "counter", section, "input/cut", 1, \
             "Native connections closed for the input they held (server/max-connection-input, memory alarm)."), \
    S_PLAIN ("zgate_" section "_input_cut_unfinished_total", "counter", section, "input/cut_unfinished", 1, \
             "Of those, connections closed for an unfinished message larger than any a client may send.")
    S_INPUT ("topics"), S_INPUT ("queues"), S_INPUT ("rooms"),
#undef S_INPUT
#define S_OUTPUT(section) \
    S_PLAIN ("zgate_" section "_output_held_bytes", "gauge", section, "output/held", 1, \
             "Messages queued for native connections that libzmq has not written yet (charged to the memory budget)."), \
    S_PLAIN ("zgate_" section "_output_cut_total", "counter", section, "output/cut", 1, \
             "Native connections closed for what was queued for them (server/max-connection-output, memory alarm).")
    S_OUTPUT ("topics"), S_OUTPUT ("queues"), S_OUTPUT ("rooms"),
#undef S_OUTPUT

    S_PLAIN ("zgate_topics_published_total", "counter", "topics", "published", 1, "Messages published."),
    S_PLAIN ("zgate_topics_delivered_total", "counter", "topics", "delivered", 1,
             "Message copies sent to matching subscriptions."),
    S_PLAIN ("zgate_topics_malformed_total", "counter", "topics", "malformed", 1,
             "Publications dropped as malformed."),
    S_PLAIN ("zgate_topics_reserved_total", "counter", "topics", "reserved", 1,
             "Native publications on reserved $zgate. topics, dropped."),
    S_PLAIN ("zgate_topics_denied_publishes_total", "counter", "topics", "denied-publishes", 1,
             "Publications the publisher's permissions do not allow, dropped."),
    S_PLAIN ("zgate_topics_denied_subscriptions_total", "counter", "topics", "denied-subscriptions", 1,
             "Subscriptions the subscriber's permissions do not allow, refused."),
    S_PLAIN ("zgate_topics_subscriptions", "gauge", "topics", "subscribers", 1,
             "Subscriptions of native subscribers."),
    S_PLAIN ("zgate_topics_inproc_held_bytes", "gauge", "topics", "inproc/held", 1,
             "Bytes of messages queued for in-process subscribers (the gateway) not read yet (charged to the budget)."),
    S_PLAIN ("zgate_topics_inproc_dropped_total", "counter", "topics", "inproc/dropped", 1,
             "Messages dropped for in-process subscribers (topics/max-inproc-output, nine tenths of the budget)."),
    S_PLAIN ("zgate_topics_inproc_dropped_bytes_total", "counter", "topics", "inproc/dropped_bytes", 1,
             "Bytes of the messages dropped for in-process subscribers."),
    S_PLAIN ("zgate_history_topics", "gauge", "topics", "history_topics", 1,
             "Topics that remember, with their messages kept."),
    S_PLAIN ("zgate_history_messages", "gauge", "topics", "history_messages", 1,
             "Messages kept by topics that remember."),
    S_PLAIN ("zgate_history_bytes", "gauge", "topics", "history_bytes", 1,
             "Bytes held by topic history, payloads and overheads."),
    S_PLAIN ("zgate_history_requests_total", "counter", "topics", "history_requests", 1,
             "HISTORY and LAST requests answered."),
    S_PLAIN ("zgate_history_refused_total", "counter", "topics", "history_refused", 1,
             "History requests refused with ERROR."),
    S_ITEMS ("zgate_topics_prefix_subscriptions", "gauge", "topics", "subscriptions", "prefix", NULL, 1,
             "Subscriptions of native subscribers, by subscribed prefix."),
    S_ITEMS ("zgate_topic_published_total", "counter", "topics", "topics", "topic", "published", 1,
             "Messages published, by topic (past topics/max-topics, topic=\"(other)\")."),
    S_ITEMS ("zgate_topic_delivered_total", "counter", "topics", "topics", "topic", "delivered", 1,
             "Message copies sent to matching subscriptions, by topic."),
    S_ITEMS ("zgate_topic_subscriptions", "gauge", "topics", "topics", "topic", "subscribers", 1,
             "Subscriptions matching the topic."),

    S_QUEUE ("zgate_queue_waiting_tasks", "gauge", "waiting", 1, "Tasks waiting for a worker."),
    S_QUEUE ("zgate_queue_in_progress_tasks", "gauge", "in_progress", 1, "Tasks handed to a worker, not settled."),
    S_QUEUE ("zgate_queue_workers", "gauge", "workers", 1, "Workers ready for the queue."),
    S_QUEUE ("zgate_queue_oldest_waiting_seconds", "gauge", "oldest_waiting_ms", 1000,
             "Age of the oldest waiting task (0 when none waits)."),
    S_QUEUE ("zgate_queue_bytes", "gauge", "bytes", 1, "Bytes of payloads and results the queue's tasks hold."),
    S_QUEUE ("zgate_queue_sent_total", "counter", "sent", 1, "Tasks sent to the queue."),
    S_QUEUE ("zgate_queue_done_total", "counter", "done", 1, "Tasks done."),
    S_QUEUE ("zgate_queue_failed_total", "counter", "failed", 1, "Tasks failed."),
    S_QUEUE ("zgate_queue_dead_total", "counter", "dead", 1, "Tasks moved to dead letters."),
    S_QUEUE ("zgate_queue_expired_total", "counter", "expired", 1, "Tasks that waited their ttl out."),
    S_QUEUE ("zgate_queue_redelivered_total", "counter", "redelivered", 1, "Tasks delivered again."),
    S_PLAIN ("zgate_queues_workers", "gauge", "queues", "workers", 1, "Workers connected."),
    S_PLAIN ("zgate_queues_tasks", "gauge", "queues", "tasks", 1, "Tasks the queues actor keeps."),
    S_PLAIN ("zgate_queues_errors_total", "counter", "queues", "errors", 1, "Error answers sent."),
    S_PLAIN ("zgate_queues_unroutable_total", "counter", "queues", "unroutable", 1,
             "Messages dropped as unroutable."),
    S_PLAIN ("zgate_queues_denied_total", "counter", "queues", "denied", 1,
             "Requests the permissions refused (403)."),
    S_PLAIN ("zgate_queues_store_commits_total", "counter", "queues", "store/commits", 1,
             "Durable store commits (loop passes that wrote)."),
    S_PLAIN ("zgate_queues_store_fsyncs_total", "counter", "queues", "store/syncs", 1,
             "fdatasyncs of the durable store (log: one per commit, lmdb: two)."),
    S_PLAIN ("zgate_queues_store_tasks_total", "counter", "queues", "store/tasks", 1,
             "New tasks committed to the durable store (over fsyncs: tasks per fsync)."),
    S_PLAIN ("zgate_queues_store_records_total", "counter", "queues", "store/records", 1,
             "Task changes committed to the durable store."),
    S_PLAIN ("zgate_queues_store_bytes", "gauge", "queues", "store/bytes", 1, "Bytes of the durable store's files."),
    S_PLAIN ("zgate_queues_store_compactions_total", "counter", "queues", "store/compactions", 1,
             "Compactions of the durable store's log."),
    S_PLAIN ("zgate_queues_store_errors_total", "counter", "queues", "store/errors", 1,
             "Durable store failures: lost commits (their SENDs got 507) and failed compactions."),

    S_PLAIN ("zgate_rooms_existing", "gauge", "rooms", "rooms", 1, "Rooms that exist."),
    S_PLAIN ("zgate_rooms_clients", "gauge", "rooms", "clients", 1, "Clients connected."),
    S_PLAIN ("zgate_rooms_members", "gauge", "rooms", "members", 1, "Room memberships."),
    S_PLAIN ("zgate_rooms_backlog_messages", "gauge", "rooms", "backlog", 1, "Messages waiting, all rooms."),
    S_PLAIN ("zgate_rooms_in_flight", "gauge", "rooms", "in_flight", 1, "Rooms with a message in flight."),
    S_PLAIN ("zgate_rooms_with_backlog", "gauge", "rooms", "rooms_with_backlog", 1, "Rooms with messages waiting."),
    S_PLAIN ("zgate_rooms_sent_total", "counter", "rooms", "sent", 1, "Messages sent to rooms."),
    S_PLAIN ("zgate_rooms_released_total", "counter", "rooms", "released", 1, "Messages released to members."),
    S_PLAIN ("zgate_rooms_delivered_total", "counter", "rooms", "delivered", 1, "Message copies delivered."),
    S_PLAIN ("zgate_rooms_acked_total", "counter", "rooms", "acked", 1, "Acks received."),
    S_PLAIN ("zgate_rooms_oob_total", "counter", "rooms", "oob", 1, "Out-of-band messages sent."),
    S_PLAIN ("zgate_rooms_evicted_total", "counter", "rooms", "evicted", 1, "Clients evicted."),
    S_PLAIN ("zgate_rooms_expired_total", "counter", "rooms", "expired", 1,
             "Rooms with options of their own forgotten after rooms/room-idle-timeout empty."),
    S_PLAIN ("zgate_rooms_errors_total", "counter", "rooms", "errors", 1, "Error answers sent."),
    S_PLAIN ("zgate_cluster_healthy", "gauge", "cluster", "healthy", 1,
             "1 while every Redis connection of cluster mode is up, or alone (GET /ready answers 503 at 0)."),
    S_PAIR ("zgate_cluster_topics_messages_total", "counter", "cluster", "direction",
            "topics/sent", "out", "topics/received", "in",
            "Topic messages to other nodes through Redis (out) and from them (in)."),
    S_PAIR ("zgate_cluster_topics_dropped_total", "counter", "cluster", "direction",
            "topics/dropped", "out", "topics/refused", "in",
            "Topic messages not sent to other nodes (out: Redis out of reach or behind) or not taken from them "
            "(in: the topics actor's rcvhwm)."),
    S_PLAIN ("zgate_rooms_denied_total", "counter", "rooms", "denied", 1, "Requests the permissions refused (403)."),
    S_PLAIN ("zgate_rooms_dropped_total", "counter", "rooms", "dropped", 1,
             "Events dropped at a connection's send limit."),
    S_ITEMS ("zgate_room_backlog_messages", "gauge", "rooms", "top_rooms", "room", "backlog", 1,
             "Messages waiting in the rooms with the largest backlogs (the ten largest only)."),
    //  The rooms actor keeps the last releases' waits, not buckets, so
    //  these are gauges over that window rather than a histogram
    S_PLAIN ("zgate_rooms_release_wait_samples", "gauge", "rooms", "latency_ms/count", 1,
             "Releases in the window of the release_wait gauges (the last 100)."),
    S_PLAIN ("zgate_rooms_release_wait_min_seconds", "gauge", "rooms", "latency_ms/min", 1000,
             "Shortest wait between SEND and release over the last releases."),
    S_PLAIN ("zgate_rooms_release_wait_max_seconds", "gauge", "rooms", "latency_ms/max", 1000,
             "Longest wait between SEND and release over the last releases."),
    S_PLAIN ("zgate_rooms_release_wait_avg_seconds", "gauge", "rooms", "latency_ms/avg", 1000,
             "Average wait between SEND and release over the last releases."),
};
#define ZG_METRICS_FAMILIES (sizeof s_families / sizeof s_families [0])

static void
s_series_destroy (s_series_t **self_p)
{
    s_series_t *self = *self_p;
    if (self) {
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Create an empty set of request series

zg_metrics_t *
zg_metrics_new (void)
{
    zg_metrics_t *self = (zg_metrics_t *) zmalloc (sizeof (zg_metrics_t));
    assert (self);
    self->series = zlistx_new ();
    zlistx_set_destructor (self->series, (zlistx_destructor_fn *) s_series_destroy);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_metrics_destroy (zg_metrics_t **self_p)
{
    assert (self_p);
    zg_metrics_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->series);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Count one request

void
zg_metrics_request (zg_metrics_t *self, const char *endpoint, int code, double seconds)
{
    assert (self);
    s_series_t *series = (s_series_t *) zlistx_first (self->series);
    while (series && (series->code != code || strneq (series->endpoint, endpoint)))
        series = (s_series_t *) zlistx_next (self->series);
    if (!series) {
        series = (s_series_t *) zmalloc (sizeof (s_series_t));
        series->endpoint = strdup (endpoint);
        series->code = code;
        zlistx_add_end (self->series, series);
    }
    series->count++;
    series->sum += seconds;
    for (size_t index = 0; index < ZG_METRICS_BUCKETS; index++)
        if (seconds <= s_buckets [index])
            series->buckets [index]++;
}

//  --------------------------------------------------------------------------
//  printf into the output

static void
s_printf (msgpack_sbuffer *out, const char *format, ...)
{
    char line [1024];
    va_list args;
    va_start (args, format);
    int size = vsnprintf (line, sizeof line, format, args);
    va_end (args);
    if (size > 0)
        msgpack_sbuffer_write (out, line, (size_t) size < sizeof line? (size_t) size: sizeof line - 1);
}

//  --------------------------------------------------------------------------
//  Append a label value: valid UTF-8 (see zg_utf8), escaped as the text
//  format wants

static void
s_label_value (msgpack_sbuffer *out, const char *value)
{
    char *clean = zg_utf8_clean (value);
    for (const char *at = clean; *at; at++)
        if (*at == '\\' || *at == '"')
            s_printf (out, "\\%c", *at);
        else
        if (*at == '\n')
            msgpack_sbuffer_write (out, "\\n", 2);
        else
            msgpack_sbuffer_write (out, at, 1);
    free (clean);
}

//  --------------------------------------------------------------------------
//  Append one sample: name, labels (name, value pairs ended by NULL) and
//  the value in its shortest exact form

static void
s_sample (msgpack_sbuffer *out, const char *name, const char **labels, double value)
{
    s_printf (out, "%s", name);
    for (size_t index = 0; labels [index]; index += 2) {
        s_printf (out, "%s%s=\"", index? ",": "{", labels [index]);
        s_label_value (out, labels [index + 1]);
        s_printf (out, labels [index + 2]? "\"": "\"}");
    }
    char text [32];
    snprintf (text, sizeof text, "%.15g", value);
    if (strtod (text, NULL) != value)
        snprintf (text, sizeof text, "%.17g", value);
    s_printf (out, " %s\n", text);
}

//  Append a family's HELP and TYPE lines
static void
s_family_head (msgpack_sbuffer *out, const char *name, const char *type, const char *help)
{
    s_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

//  Append a family of one sample without labels
static void
s_single (msgpack_sbuffer *out, const char *name, const char *type, const char *help, double value)
{
    const char *labels [] = { NULL };
    s_family_head (out, name, type, help);
    s_sample (out, name, labels, value);
}

//  --------------------------------------------------------------------------
//  zgate_build_info and the process_* families (none if /proc is missing)

static void
s_render_process (msgpack_sbuffer *out)
{
    const char *labels [] = { "version", ZGATE_VERSION, "commit", ZG_BUILD_COMMIT, NULL };
    s_family_head (out, "zgate_build_info", "gauge", "zgate's version and the git commit it was built from.");
    s_sample (out, "zgate_build_info", labels, 1);
    zg_process_t process;
    if (!zg_process_read (&process))
        return;
    s_single (out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
              process.cpu_seconds);
    s_single (out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
              process.resident_bytes);
    s_single (out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
              process.virtual_bytes);
    s_single (out, "process_open_fds", "gauge", "Number of open file descriptors.", process.open_fds);
    s_single (out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", process.max_fds);
    s_single (out, "process_start_time_seconds", "gauge",
              "Start time of the process since unix epoch in seconds.", process.start_time_seconds);
}

//  --------------------------------------------------------------------------
//  Append the request series under one pair of names; filter maps an
//  endpoint to the label value to use, or NULL to leave the series out

typedef const char *(s_filter_fn) (const char *endpoint);

static const char *
s_zgate_endpoint (const char *endpoint)
{
    return endpoint;
}

static const char *
s_gophermq_method (const char *endpoint)
{
    if (streq (endpoint, "/api/publish"))
        return "publish";
    if (streq (endpoint, "/api/subscribe"))
        return "subscribe";
    if (streq (endpoint, "/api/fetch"))
        return "fetch";
    return NULL;
}

static void
s_render_requests (zg_metrics_t *self, msgpack_sbuffer *out, const char *counter, const char *histogram,
                   const char *label, s_filter_fn *filter)
{
    char code [16], bound [32];
    const char *labels [] = { label, NULL, "code", code, NULL, NULL, NULL };
    s_family_head (out, counter, "counter", "HTTP requests answered, by endpoint and status code.");
    s_series_t *series;
    for (series = (s_series_t *) zlistx_first (self->series); series;
         series = (s_series_t *) zlistx_next (self->series))
        if ((labels [1] = filter (series->endpoint))) {
            snprintf (code, sizeof code, "%d", series->code);
            s_sample (out, counter, labels, (double) series->count);
        }
    s_family_head (out, histogram, "histogram", "Time to answer HTTP requests, by endpoint and status code.");
    char name [128];
    for (series = (s_series_t *) zlistx_first (self->series); series;
         series = (s_series_t *) zlistx_next (self->series)) {
        if (!(labels [1] = filter (series->endpoint)))
            continue;
        snprintf (code, sizeof code, "%d", series->code);
        snprintf (name, sizeof name, "%s_bucket", histogram);
        labels [4] = "le";
        labels [5] = bound;
        for (size_t index = 0; index <= ZG_METRICS_BUCKETS; index++) {
            if (index < ZG_METRICS_BUCKETS)
                snprintf (bound, sizeof bound, "%g", s_buckets [index]);
            else
                snprintf (bound, sizeof bound, "+Inf");
            s_sample (out, name, labels, (double) (index < ZG_METRICS_BUCKETS? series->buckets [index]: series->count));
        }
        labels [4] = NULL;
        snprintf (name, sizeof name, "%s_sum", histogram);
        s_sample (out, name, labels, series->sum);
        snprintf (name, sizeof name, "%s_count", histogram);
        s_sample (out, name, labels, (double) series->count);
    }
}

//  --------------------------------------------------------------------------
//  The value at key of section ("key/member" looks one level down), or NULL

static json_object *
s_lookup (json_object *section, const char *key)
{
    char path [128];
    snprintf (path, sizeof path, "%s", key);
    char *member = strchr (path, '/');
    if (member)
        *member++ = 0;
    json_object *value = NULL;
    if (!json_object_object_get_ex (section, path, &value))
        return NULL;
    if (member && !json_object_object_get_ex (value, member, &value))
        return NULL;
    return value;
}

//  A number (booleans count as 0 and 1), or false if the value is not one
static bool
s_number (json_object *value, double *number)
{
    if (json_object_is_type (value, json_type_boolean))
        *number = json_object_get_boolean (value);
    else
    if (json_object_is_type (value, json_type_int) || json_object_is_type (value, json_type_double))
        *number = json_object_get_double (value);
    else
        return false;
    return true;
}

//  The item's value: the item itself, or its field member if the family
//  has one
static json_object *
s_item_value (const s_family_t *family, json_object *item)
{
    json_object *value = NULL;
    if (!family->field)
        return item;
    json_object_object_get_ex (item, family->field, &value);
    return value;
}

//  Append one sample of a family; item may be NULL
static void
s_family_sample (msgpack_sbuffer *out, const s_family_t *family, const s_source_t *source,
                 const char *item, json_object *value)
{
    double number;
    if (!s_number (value, &number))
        return;
    const char *labels [2 * ZG_METRICS_MAX_LABELS + 1];
    size_t count = 0;
    if (source->fixed) {
        labels [count++] = family->fixed_label;
        labels [count++] = source->fixed;
    }
    if (item) {
        labels [count++] = family->item_label;
        labels [count++] = item;
    }
    labels [count] = NULL;
    s_sample (out, family->name, labels, number / family->divisor);
}

//  Append one family from the /api/stats object
static void
s_render_family (msgpack_sbuffer *out, const s_family_t *family, json_object *stats)
{
    s_family_head (out, family->name, family->type, family->help);
    json_object *section = NULL;
    if (!json_object_object_get_ex (stats, family->section, &section))
        return;
    for (size_t index = 0; index < 2 && family->sources [index].key; index++) {
        const s_source_t *source = &family->sources [index];
        json_object *value = s_lookup (section, source->key);
        if (!family->item_label)
            s_family_sample (out, family, source, NULL, value);
        else
        if (json_object_is_type (value, json_type_object)) {
            json_object_object_foreach (value, item, content)
                s_family_sample (out, family, source, item, s_item_value (family, content));
        }
        else
        if (json_object_is_type (value, json_type_array)) {
            for (size_t entry = 0; entry < json_object_array_length (value); entry++) {
                json_object *content = json_object_array_get_idx (value, entry);
                json_object *item = NULL;
                if (json_object_object_get_ex (content, family->item_label, &item)
                &&  json_object_is_type (item, json_type_string))
                    s_family_sample (out, family, source, json_object_get_string (item),
                                     s_item_value (family, content));
            }
        }
    }
}

//  --------------------------------------------------------------------------
//  Append the whole exposition

void
zg_metrics_render (zg_metrics_t *self, msgpack_sbuffer *out, json_object *stats)
{
    assert (self);
    assert (out);
    s_render_process (out);
    s_render_requests (self, out, "zgate_http_requests_total", "zgate_http_request_duration_seconds",
                       "endpoint", s_zgate_endpoint);
    s_render_requests (self, out, "gophermq_client_requests_total", "gophermq_request_duration_seconds",
                       "method", s_gophermq_method);
    for (size_t index = 0; index < ZG_METRICS_FAMILIES; index++)
        s_render_family (out, &s_families [index], stats);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Every sample's family was declared just before with HELP and TYPE, and
//  every counter's name ends in _total
static void
s_check_exposition (const char *text)
{
    char family [128] = "", type [16] = "";
    for (const char *line = text; *line; line = strchr (line, '\n') + 1) {
        char name [128];
        if (sscanf (line, "# TYPE %127s %15s", name, type) == 2) {
            assert (streq (name, family));
            assert (streq (type, "counter")? strlen (name) > 6 && streq (name + strlen (name) - 6, "_total"): true);
        }
        else
        if (sscanf (line, "# HELP %127s", family) != 1) {
            //  A sample: its name is the family's, or the family's with a histogram suffix
            size_t size = strlen (family);
            assert (strncmp (line, family, size) == 0);
            assert (strchr ("{ ", line [size]) || strneq (type, "counter"));
        }
    }
}

void
zg_metrics_test (bool verbose)
{
    printf (" * zg_metrics: ");
    //  @selftest
    zg_metrics_t *metrics = zg_metrics_new ();
    zg_metrics_request (metrics, "/api/publish", 200, 0.002);
    zg_metrics_request (metrics, "/api/publish", 200, 0.2);
    zg_metrics_request (metrics, "/api/publish", 429, 0.001);
    zg_metrics_request (metrics, "/metrics", 200, 20);
    json_object *stats = json_tokener_parse (
        "{\"gateway\":{\"sessions\":2,\"messages_in\":{\"topics\":5,\"rooms\":1},\"disconnects_slow\":3,"
        "\"disconnects_limit\":4,\"http_requests\":9876},"
        "\"topics\":{\"published\":3,\"malformed\":true,\"subscriptions\":{\"a\\\"b\":2},"
        "\"topics\":{\"news\":{\"published\":12345678901,\"delivered\":4},\"x\":{\"published\":1}}},"
        "\"queues\":{\"queues\":{\"jobs\":{\"waiting\":2,\"oldest_waiting_ms\":1500}},"
        "\"commands\":{\"jobs\":{\"waiting\":1,\"oldest_waiting_ms\":0}},\"recent\":[{\"id\":\"1\"}],"
        "\"store\":{\"syncs\":12,\"bytes\":4096}},"
        "\"rooms\":{\"top_rooms\":[{\"room\":\"lobby\",\"backlog\":7},{\"backlog\":1}],"
        "\"latency_ms\":{\"count\":2,\"avg\":2.5}}}");
    assert (stats);
    //  A topic named with invalid UTF-8, a quote, a backslash and a newline
    json_object *topic = json_object_new_object ();
    json_object_object_add (topic, "published", json_object_new_int (6));
    json_object_object_add (json_object_object_get (json_object_object_get (stats, "topics"), "topics"),
                            "\xff\"\\\n", topic);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    zg_metrics_render (metrics, &out, stats);
    json_object_put (stats);
    msgpack_sbuffer_write (&out, "", 1);
    const char *text = out.data;
    if (verbose)
        printf ("\n%s", text);
    s_check_exposition (text);
    assert (zg_utf8_valid (text));
    assert (strstr (text, "zgate_build_info{version=\"" ZGATE_VERSION "\",commit=\"" ZG_BUILD_COMMIT "\"} 1\n"));
    assert (strstr (text, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "));
    assert (strstr (text, "\nprocess_open_fds "));
    assert (strstr (text, "zgate_http_requests_total{endpoint=\"/api/publish\",code=\"200\"} 2\n"));
    assert (strstr (text, "zgate_http_request_duration_seconds_bucket{endpoint=\"/api/publish\","
                          "code=\"200\",le=\"0.005\"} 1\n"));
    assert (strstr (text, "le=\"+Inf\"} 2\n"));
    assert (strstr (text, "zgate_http_request_duration_seconds_sum{endpoint=\"/api/publish\",code=\"200\"} 0.202\n"));
    assert (strstr (text, "zgate_http_request_duration_seconds_count{endpoint=\"/metrics\",code=\"200\"} 1\n"));
    assert (strstr (text, "gophermq_client_requests_total{method=\"publish\",code=\"429\"} 1\n"));
    assert (!strstr (text, "gophermq_client_requests_total{method=\"/metrics\""));
    assert (strstr (text, "# HELP zgate_gateway_sessions WebSocket sessions open.\n"
                          "# TYPE zgate_gateway_sessions gauge\nzgate_gateway_sessions 2\n"));
    assert (strstr (text, "zgate_gateway_messages_in_total{pattern=\"topics\"} 5\n"
                          "zgate_gateway_messages_in_total{pattern=\"rooms\"} 1\n"));
    assert (strstr (text, "zgate_gateway_disconnects_total{reason=\"slow\"} 3\n"
                          "zgate_gateway_disconnects_total{reason=\"limit\"} 4\n"));
    assert (strstr (text, "zgate_topics_published_total 3\n"));
    assert (strstr (text, "zgate_topics_malformed_total 1\n"));
    assert (strstr (text, "zgate_topics_prefix_subscriptions{prefix=\"a\\\"b\"} 2\n"));
    assert (strstr (text, "zgate_topic_published_total{topic=\"news\"} 12345678901\n"
                          "zgate_topic_published_total{topic=\"x\"} 1\n"
                          "zgate_topic_published_total{topic=\"\\\\xff\\\"\\\\\\n\"} 6\n"));
    assert (strstr (text, "zgate_topic_delivered_total{topic=\"news\"} 4\n# HELP"));
    assert (strstr (text, "zgate_queue_waiting_tasks{kind=\"queue\",queue=\"jobs\"} 2\n"
                          "zgate_queue_waiting_tasks{kind=\"command\",queue=\"jobs\"} 1\n"));
    assert (strstr (text, "zgate_queue_oldest_waiting_seconds{kind=\"queue\",queue=\"jobs\"} 1.5\n"));
    assert (strstr (text, "zgate_room_backlog_messages{room=\"lobby\"} 7\n# HELP"));
    //  The durable store's counters, from an object of the section
    assert (strstr (text, "zgate_queues_store_fsyncs_total 12\n"));
    assert (strstr (text, "zgate_queues_store_bytes 4096\n"));
    assert (strstr (text, "zgate_rooms_release_wait_samples 2\n"));
    assert (strstr (text, "zgate_rooms_release_wait_avg_seconds 0.0025\n"));
    //  Keys STATS does not have give a family without samples
    assert (strstr (text, "# TYPE zgate_rooms_acked_total counter\n# HELP"));
    //  Keys without a family are left out
    assert (!strstr (text, "recent") && !strstr (text, "_ms") && !strstr (text, " 9876\n"));
    msgpack_sbuffer_destroy (&out);

    //  Without any stats, every family is still declared
    msgpack_sbuffer_init (&out);
    json_object *empty = json_object_new_object ();
    zg_metrics_render (metrics, &out, empty);
    json_object_put (empty);
    msgpack_sbuffer_write (&out, "", 1);
    s_check_exposition (out.data);
    assert (strstr (out.data, "# TYPE zgate_topic_published_total counter\n"));
    msgpack_sbuffer_destroy (&out);
    zg_metrics_destroy (&metrics);
    zg_metrics_destroy (&metrics);
    //  @end
    printf ("OK\n");
}
