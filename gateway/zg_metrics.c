/*  =========================================================================
    zg_metrics - Prometheus text exposition for the gateway

    The text format wants every sample of one metric in one group, so maps
    of objects are rendered field by field, not item by item.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_metrics.h"

//  Prometheus' default histogram buckets, in seconds
static const double s_buckets [] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define ZG_METRICS_BUCKETS (sizeof s_buckets / sizeof s_buckets [0])

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
//  Append a label value, escaped as the text format wants

static void
s_label_value (msgpack_sbuffer *out, const char *value)
{
    for (; *value; value++)
        if (*value == '\\' || *value == '"')
            s_printf (out, "\\%c", *value);
        else
        if (*value == '\n')
            msgpack_sbuffer_write (out, "\\n", 2);
        else
            msgpack_sbuffer_write (out, value, 1);
}

//  --------------------------------------------------------------------------
//  Append a metric name part, with every character Prometheus refuses as _

static void
s_name_part (msgpack_sbuffer *out, const char *part)
{
    for (; *part; part++) {
        char c = isalnum ((byte) *part)? *part: '_';
        msgpack_sbuffer_write (out, &c, 1);
    }
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
s_render_series (zg_metrics_t *self, msgpack_sbuffer *out, const char *counter, const char *histogram,
                 const char *label, s_filter_fn *filter)
{
    s_printf (out, "# TYPE %s counter\n", counter);
    for (s_series_t *series = (s_series_t *) zlistx_first (self->series); series;
         series = (s_series_t *) zlistx_next (self->series))
        if (filter (series->endpoint)) {
            s_printf (out, "%s{%s=\"", counter, label);
            s_label_value (out, filter (series->endpoint));
            s_printf (out, "\",code=\"%d\"} %" PRIu64 "\n", series->code, series->count);
        }
    s_printf (out, "# TYPE %s histogram\n", histogram);
    for (s_series_t *series = (s_series_t *) zlistx_first (self->series); series;
         series = (s_series_t *) zlistx_next (self->series)) {
        const char *value = filter (series->endpoint);
        if (!value)
            continue;
        for (size_t index = 0; index <= ZG_METRICS_BUCKETS; index++) {
            s_printf (out, "%s_bucket{%s=\"", histogram, label);
            s_label_value (out, value);
            if (index < ZG_METRICS_BUCKETS)
                s_printf (out, "\",code=\"%d\",le=\"%g\"} %" PRIu64 "\n", series->code,
                          s_buckets [index], series->buckets [index]);
            else
                s_printf (out, "\",code=\"%d\",le=\"+Inf\"} %" PRIu64 "\n", series->code, series->count);
        }
        s_printf (out, "%s_sum{%s=\"", histogram, label);
        s_label_value (out, value);
        s_printf (out, "\",code=\"%d\"} %.6f\n", series->code, series->sum);
        s_printf (out, "%s_count{%s=\"", histogram, label);
        s_label_value (out, value);
        s_printf (out, "\",code=\"%d\"} %" PRIu64 "\n", series->code, series->count);
    }
}

//  --------------------------------------------------------------------------
//  Append the request counters and histograms

void
zg_metrics_render_requests (zg_metrics_t *self, msgpack_sbuffer *out)
{
    assert (self);
    s_render_series (self, out, "zgate_http_requests_total", "zgate_http_request_duration_seconds",
                     "endpoint", s_zgate_endpoint);
    s_render_series (self, out, "gophermq_client_request_rate", "gophermq_request_duration_seconds",
                     "method", s_gophermq_method);
}

//  --------------------------------------------------------------------------
//  Append one sample line

void
zg_metrics_sample (msgpack_sbuffer *out, const char *type, const char *name,
                   const char *label, const char *label_value, double value)
{
    if (type)
        s_printf (out, "# TYPE %s %s\n", name, type);
    s_printf (out, "%s", name);
    if (label) {
        s_printf (out, "{%s=\"", label);
        s_label_value (out, label_value);
        s_printf (out, "\"}");
    }
    s_printf (out, " %.17g\n", value);
}

//  --------------------------------------------------------------------------
//  A number, or false if the value is not one

static bool
s_number (json_object *value, double *number)
{
    if (json_object_is_type (value, json_type_int) || json_object_is_type (value, json_type_double)
    ||  json_object_is_type (value, json_type_boolean)) {
        *number = json_object_get_double (value);
        if (json_object_is_type (value, json_type_boolean))
            *number = json_object_get_boolean (value);
        return true;
    }
    return false;
}

//  --------------------------------------------------------------------------
//  Append an actor's STATS object as gauges

void
zg_metrics_render_stats (msgpack_sbuffer *out, const char *actor, json_object *stats)
{
    if (!json_object_is_type (stats, json_type_object))
        return;
    msgpack_sbuffer name;
    msgpack_sbuffer_init (&name);
    json_object_object_foreach (stats, key, value) {
        double number;
        msgpack_sbuffer_clear (&name);
        s_printf (&name, "zgate_");
        s_name_part (&name, actor);
        s_printf (&name, "_");
        s_name_part (&name, key);
        msgpack_sbuffer_write (&name, "", 1);
        if (s_number (value, &number))
            zg_metrics_sample (out, "gauge", name.data, NULL, NULL, number);
        else
        if (json_object_is_type (value, json_type_object)) {
            //  A map: of numbers (one metric), or of objects (one per field)
            zhashx_t *fields = zhashx_new ();
            bool declared = false;
            json_object_object_foreach (value, item, content) {
                if (s_number (content, &number)) {
                    zg_metrics_sample (out, declared? NULL: "gauge", name.data, "name", item, number);
                    declared = true;
                }
                else
                if (json_object_is_type (content, json_type_object)) {
                    json_object_object_foreach (content, field, field_value)
                        if (s_number (field_value, &number))
                            zhashx_insert (fields, field, (void *) 1);
                }
            }
            for (void *field = zhashx_first (fields); field; field = zhashx_next (fields)) {
                const char *field_name = (const char *) zhashx_cursor (fields);
                char metric [512];
                snprintf (metric, sizeof metric, "%s_", name.data);
                msgpack_sbuffer full;
                msgpack_sbuffer_init (&full);
                s_printf (&full, "%s", metric);
                s_name_part (&full, field_name);
                msgpack_sbuffer_write (&full, "", 1);
                declared = false;
                json_object_object_foreach (value, item, content) {
                    json_object *field_value = NULL;
                    if (json_object_is_type (content, json_type_object)
                    &&  json_object_object_get_ex (content, field_name, &field_value)
                    &&  s_number (field_value, &number)) {
                        zg_metrics_sample (out, declared? NULL: "gauge", full.data, "name", item, number);
                        declared = true;
                    }
                }
                msgpack_sbuffer_destroy (&full);
            }
            zhashx_destroy (&fields);
        }
    }
    msgpack_sbuffer_destroy (&name);
}

//  --------------------------------------------------------------------------
//  Self test of this class

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
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    zg_metrics_render_requests (metrics, &out);
    json_object *stats = json_tokener_parse (
        "{\"published\":3,\"busy\":true,\"list\":[1],\"subscriptions\":{\"a\\\"b\":2},"
        "\"topics\":{\"news\":{\"published\":2,\"delivered\":4},\"x\":{\"published\":1}}}");
    zg_metrics_render_stats (&out, "topics", stats);
    json_object_put (stats);
    msgpack_sbuffer_write (&out, "", 1);
    if (verbose)
        printf ("\n%s", out.data);
    assert (strstr (out.data, "zgate_http_requests_total{endpoint=\"/api/publish\",code=\"200\"} 2\n"));
    assert (strstr (out.data, "zgate_http_request_duration_seconds_bucket{endpoint=\"/api/publish\","
                              "code=\"200\",le=\"0.005\"} 1\n"));
    assert (strstr (out.data, "le=\"+Inf\"} 2\n"));
    assert (strstr (out.data, "zgate_http_request_duration_seconds_count{endpoint=\"/metrics\",code=\"200\"} 1\n"));
    assert (strstr (out.data, "gophermq_client_request_rate{method=\"publish\",code=\"429\"} 1\n"));
    assert (!strstr (out.data, "gophermq_client_request_rate{method=\"/metrics\""));
    assert (strstr (out.data, "# TYPE zgate_topics_published gauge\nzgate_topics_published 3\n"));
    assert (strstr (out.data, "zgate_topics_busy 1\n"));
    assert (!strstr (out.data, "list"));
    assert (strstr (out.data, "zgate_topics_subscriptions{name=\"a\\\"b\"} 2\n"));
    assert (strstr (out.data, "zgate_topics_topics_published{name=\"news\"} 2\n"
                              "zgate_topics_topics_published{name=\"x\"} 1\n"));
    assert (strstr (out.data, "zgate_topics_topics_delivered{name=\"news\"} 4\n"));
    msgpack_sbuffer_destroy (&out);
    zg_metrics_destroy (&metrics);
    zg_metrics_destroy (&metrics);
    //  @end
    printf ("OK\n");
}
