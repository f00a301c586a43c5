/*  =========================================================================
    zgcli - options, endpoints and output shared by the zgate-cli commands

    Human output is indented "key: value" lines, lists as "- " items, so that
    a person reads it at a glance; --json prints the same value as compact
    JSON, one per line, for scripts and jq.
    =========================================================================
*/

#include "zgcli.h"

//  zgate's default endpoints, flag name first; the environment variable is
//  the same name in upper case with ZGATE_ in front (zgate's own variables)
static const char *s_endpoints [][2] = {
    { "topics-publishers", "tcp://127.0.0.1:5561" },
    { "topics-subscribers", "tcp://127.0.0.1:5560" },
    { "queues-producers", "tcp://127.0.0.1:5562" },
    { "queues-workers", "tcp://127.0.0.1:5563" },
    { "rooms-clients", "tcp://127.0.0.1:5564" },
    { "url", "http://127.0.0.1:8080" },
    { NULL }
};

//  --------------------------------------------------------------------------

const char *
zgcli_option (zgcli_t *cli, const char *name)
{
    const char *value = NULL;
    for (int index = 0; index < cli->option_count; index++)
        if (streq (cli->names [index], name))
            value = cli->values [index];
    return value;
}

//  --------------------------------------------------------------------------

bool
zgcli_flag (zgcli_t *cli, const char *name)
{
    return zgcli_option (cli, name) != NULL;
}

//  --------------------------------------------------------------------------

int
zgcli_number (zgcli_t *cli, const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *value_p)
{
    const char *text = zgcli_option (cli, name);
    *value_p = fallback;
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || *end || value < min || value > max) {
        fprintf (stderr, "zgate-cli: %s wants a number from %" PRId64 " to %" PRId64 ", not '%s'\n",
                 name, min, max, text);
        return -1;
    }
    *value_p = value;
    return 0;
}

//  --------------------------------------------------------------------------

int
zgcli_stream_start (zgcli_t *cli, zgcli_stream_t *stream)
{
    memset (stream, 0, sizeof *stream);
    if (zgcli_number (cli, "--count", 0, 0, INT32_MAX, &stream->count)
    ||  zgcli_number (cli, "--timeout", -1, 1, INT32_MAX, &stream->timeout))
        return -1;
    stream->deadline = stream->timeout > 0? zclock_mono () + stream->timeout: -1;
    return 0;
}

bool
zgcli_stream_wants (zgcli_stream_t *stream)
{
    return stream->count == 0 || stream->received < stream->count;
}

int
zgcli_stream_left (zgcli_stream_t *stream)
{
    if (stream->deadline < 0)
        return -1;
    int64_t left = stream->deadline - zclock_mono ();
    return left > 0? (int) left: 0;
}

int
zgcli_stream_end (zgcli_t *cli, zgcli_stream_t *stream, const char *things)
{
    //  Ctrl-C, or --timeout without --count, ends quietly
    if (stream->deadline < 0 || stream->count == 0 || zgcli_stream_left (stream) > 0)
        return 0;
    return zgcli_fail (cli, "%" PRId64 " of %" PRId64 " %s arrived in %" PRId64 " ms",
                       stream->received, stream->count, things, stream->timeout);
}

//  --------------------------------------------------------------------------

const char *
zgcli_endpoint (zgcli_t *cli, const char *name)
{
    char flag [64];
    snprintf (flag, sizeof flag, "--%s", name);
    const char *value = zgcli_option (cli, flag);
    if (value)
        return value;
    for (int index = 0; s_endpoints [index][0]; index++)
        if (streq (s_endpoints [index][0], name)) {
            char variable [64] = "ZGATE_";
            for (const char *from = name; *from; from++) {
                char upper [2] = { *from == '-'? '_': (char) toupper ((unsigned char) *from), 0 };
                strcat (variable, upper);
            }
            value = getenv (variable);
            return value && *value? value: s_endpoints [index][1];
        }
    assert (false);
    return NULL;
}

//  --------------------------------------------------------------------------
//  A security setting: the option, else the environment, else NULL

static const char *
s_secret (zgcli_t *cli, const char *flag, const char *variable)
{
    const char *value = zgcli_option (cli, flag);
    if (!value)
        value = getenv (variable);
    return value && *value? value: NULL;
}

const char *
zgcli_cert (zgcli_t *cli)
{
    return s_secret (cli, "--cert", "ZGATE_CLIENT_CERT");
}

const char *
zgcli_server_key (zgcli_t *cli)
{
    return s_secret (cli, "--server-key", "ZGATE_SERVER_KEY");
}

//  --------------------------------------------------------------------------

int
zgcli_fail (zgcli_t *cli, const char *format, ...)
{
    (void) cli;
    va_list args;
    va_start (args, format);
    fprintf (stderr, "zgate-cli: ");
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
    return ZGCLI_FAILED;
}

//  --------------------------------------------------------------------------

int
zgcli_error (zgcli_t *cli, int code, const char *reason)
{
    return zgcli_fail (cli, "error %d: %s", code, reason);
}

//  --------------------------------------------------------------------------
//  Human output: a scalar as text ("-" for null)

static bool
s_is_block (json_object *value)
{
    json_type type = json_object_get_type (value);
    return (type == json_type_object && json_object_object_length (value) > 0)
        || (type == json_type_array && json_object_array_length (value) > 0);
}

static void
s_print_scalar (json_object *value)
{
    json_type type = json_object_get_type (value);
    if (type == json_type_null)
        printf ("-\n");
    else
    if (type == json_type_object)
        printf ("{}\n");
    else
    if (type == json_type_array)
        printf ("[]\n");
    else
        printf ("%s\n", json_object_get_string (value));
}

static void s_print_block (json_object *value, int indent, bool item);

//  What follows "key:" or "- ": a scalar on the same line, a block below it

static void
s_print_after (json_object *value, int indent)
{
    if (s_is_block (value)) {
        printf ("\n");
        s_print_block (value, indent + 2, false);
    }
    else {
        printf (" ");
        s_print_scalar (value);
    }
}

//  An object's keys or an array's items at indent; item puts "- " before the
//  first line (an object inside a list)

static void
s_print_block (json_object *value, int indent, bool item)
{
    if (json_object_get_type (value) == json_type_object) {
        bool first = true;
        json_object_object_foreach (value, key, member) {
            if (item && first)
                printf ("%*s- %s:", indent, "", key);
            else
                printf ("%*s%s:", item? indent + 2: indent, "", key);
            s_print_after (member, item? indent + 2: indent);
            first = false;
        }
        return;
    }
    for (size_t index = 0; index < json_object_array_length (value); index++) {
        json_object *element = json_object_array_get_idx (value, index);
        if (json_object_get_type (element) == json_type_object && s_is_block (element))
            s_print_block (element, indent, true);
        else {
            printf ("%*s-", indent, "");
            s_print_after (element, indent);
        }
    }
}

//  --------------------------------------------------------------------------

void
zgcli_print (zgcli_t *cli, json_object **value_p)
{
    json_object *value = *value_p;
    if (cli->json)
        printf ("%s\n", json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
    if (s_is_block (value))
        s_print_block (value, 0, false);
    else
        s_print_scalar (value);
    fflush (stdout);
    json_object_put (value);
    *value_p = NULL;
}

//  --------------------------------------------------------------------------

json_object *
zgcli_string (const void *data, size_t size)
{
    return json_object_new_string_len ((const char *) data, (int) size);
}

//  --------------------------------------------------------------------------

json_object *
zgcli_from_msgpack (msgpack_object *object)
{
    switch (object->type) {
        case MSGPACK_OBJECT_BOOLEAN:
            return json_object_new_boolean (object->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return json_object_new_uint64 (object->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return json_object_new_int64 (object->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return json_object_new_double (object->via.f64);
        case MSGPACK_OBJECT_STR:
            return zgcli_string (object->via.str.ptr, object->via.str.size);
        case MSGPACK_OBJECT_BIN:
            return zgcli_string (object->via.bin.ptr, object->via.bin.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_object *array = json_object_new_array ();
            for (uint32_t index = 0; index < object->via.array.size; index++)
                json_object_array_add (array, zgcli_from_msgpack (&object->via.array.ptr [index]));
            return array;
        }
        case MSGPACK_OBJECT_MAP: {
            json_object *map = json_object_new_object ();
            for (uint32_t index = 0; index < object->via.map.size; index++) {
                msgpack_object *key = &object->via.map.ptr [index].key;
                char *name = key->type == MSGPACK_OBJECT_STR
                           ? strndup (key->via.str.ptr, key->via.str.size): strdup ("?");
                json_object_object_add (map, name, zgcli_from_msgpack (&object->via.map.ptr [index].val));
                free (name);
            }
            return map;
        }
        default:
            return NULL;
    }
}

//  --------------------------------------------------------------------------

json_object *
zgcli_object (const char *key, ...)
{
    json_object *object = json_object_new_object ();
    va_list args;
    va_start (args, key);
    while (key) {
        json_object_object_add (object, key, va_arg (args, json_object *));
        key = va_arg (args, const char *);
    }
    va_end (args);
    return object;
}
