/*  =========================================================================
    zg_wsqenv - the go-wsqueue message envelope, and UUIDv4 connection ids
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wsqenv.h"
#include "zg_utf8.h"

//  --------------------------------------------------------------------------

json_object *
zg_wsqenv_parse (const void *data, size_t size)
{
    //  With its terminator, or a number at the end would wait for more
    char *text = (char *) zmalloc (size + 1);
    memcpy (text, data, size);
    json_tokener *tokener = json_tokener_new ();
    json_object *value = json_tokener_parse_ex (tokener, text, (int) size + 1);
    bool whole = json_tokener_get_error (tokener) == json_tokener_success
              && json_tokener_get_parse_end (tokener) >= size;
    json_tokener_free (tokener);
    free (text);
    if (!whole)
        json_object_put (value);
    return whole? value: NULL;
}

//  --------------------------------------------------------------------------
//  The time as Go's time.Time String() shows it, in UTC

static void
s_go_date (int64_t ms, char *text, size_t size)
{
    time_t seconds = (time_t) (ms / 1000);
    struct tm utc;
    gmtime_r (&seconds, &utc);
    char day [32];
    strftime (day, sizeof day, "%Y-%m-%d %H:%M:%S", &utc);
    snprintf (text, size, "%s.%03d +0000 UTC", day, (int) (ms % 1000));
}

//  --------------------------------------------------------------------------
//  The seed's content type of a payload, and its body as a string

static void
s_typed_body (json_object *metadata, const void *payload, size_t size, json_object **body_p)
{
    char *text = (char *) zmalloc (size + 1);
    memcpy (text, payload, size);
    bool utf8 = !memchr (payload, 0, size) && zg_utf8_valid (text);
    json_object *parsed = utf8? zg_wsqenv_parse (text, size): NULL;
    const char *type = "string", *go_type = NULL;
    if (!utf8) {
        type = "application/octet-stream";
        zarmour_t *armour = zarmour_new ();
        zarmour_set_mode (armour, ZARMOUR_MODE_BASE64_STD);
        char *encoded = zarmour_encode (armour, (const byte *) payload, size);
        zarmour_destroy (&armour);
        json_object_object_add (metadata, "encoding", json_object_new_string ("base64"));
        *body_p = json_object_new_string (encoded);
        free (encoded);
    }
    else {
        if (parsed && json_object_is_type (parsed, json_type_int))
            type = "int";
        else
        if (parsed && json_object_is_type (parsed, json_type_boolean))
            type = "bool";
        else
        if (parsed && json_object_is_type (parsed, json_type_object))
            type = "application/json", go_type = "map[string]interface {}";
        else
        if (parsed && json_object_is_type (parsed, json_type_array))
            type = "application/json", go_type = "[]interface {}";
        else
        if (parsed && json_object_is_type (parsed, json_type_double))
            type = "application/json", go_type = "float64";
        //  A JSON string is a string: its text, unquoted
        bool quoted = parsed && json_object_is_type (parsed, json_type_string);
        *body_p = json_object_new_string_len (quoted? json_object_get_string (parsed): text,
                                              quoted? json_object_get_string_len (parsed): (int) size);
    }
    json_object_object_add (metadata, "content-type", json_object_new_string (type));
    if (go_type)
        json_object_object_add (metadata, "application-type", json_object_new_string (go_type));
    json_object_put (parsed);
    free (text);
}

//  --------------------------------------------------------------------------

json_object *
zg_wsqenv_new (const void *payload, size_t size, const char *host, int64_t received_ms, char *id)
{
    assert (host);
    json_object *envelope = json_object_new_object ();
    json_object *metadata = json_object_new_object ();
    json_object *body = NULL;
    s_typed_body (metadata, payload, size, &body);
    char uuid [ZG_WSQENV_UUID_SIZE];
    zg_presence_uuid4 (uuid);
    if (id)
        memcpy (id, uuid, ZG_WSQENV_UUID_SIZE);
    char date [64];
    s_go_date (received_ms, date, sizeof date);
    json_object_object_add (metadata, "id", json_object_new_string (uuid));
    json_object_object_add (metadata, "date", json_object_new_string (date));
    json_object_object_add (metadata, "host", json_object_new_string (host));
    json_object_object_add (metadata, "received", json_object_new_string (date));
    json_object_object_add (envelope, "metadata", metadata);
    json_object_object_add (envelope, "data", body);
    return envelope;
}

//  --------------------------------------------------------------------------

int
zg_wsqenv_id (const void *frame, size_t size, char *id)
{
    assert (id);
    json_object *envelope = zg_wsqenv_parse (frame, size);
    json_object *metadata = NULL, *value = NULL;
    int rc = -1;
    if (envelope && json_object_object_get_ex (envelope, "metadata", &metadata)
    &&  json_object_object_get_ex (metadata, "id", &value) && json_object_is_type (value, json_type_string)
    &&  json_object_get_string_len (value) == ZG_WSQENV_UUID_SIZE - 1) {
        memcpy (id, json_object_get_string (value), ZG_WSQENV_UUID_SIZE);
        rc = 0;
    }
    json_object_put (envelope);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  A metadata field of an envelope, or NULL
static const char *
s_test_meta (json_object *envelope, const char *key)
{
    json_object *metadata, *value;
    assert (json_object_object_get_ex (envelope, "metadata", &metadata));
    return json_object_object_get_ex (metadata, key, &value)? json_object_get_string (value): NULL;
}

void
zg_wsqenv_test (bool verbose)
{
    printf (" * zg_wsqenv: ");
    //  @selftest
    //  The seed's three envelope cases: a string, a map, and the map again
    //  (a pointer to a map in Go), plus int, bool, array and bytes
    struct {
        const char *payload;
        size_t size;
        const char *type;
        const char *go_type;
        const char *data;
    } cases [] = {
        { "hello", 5, "string", NULL, "hello" },
        { "{\"a\":1}", 7, "application/json", "map[string]interface {}", "{\"a\":1}" },
        { "[1,2]", 5, "application/json", "[]interface {}", "[1,2]" },
        { "42", 2, "int", NULL, "42" },
        { "42 and more", 11, "string", NULL, "42 and more" },
        { "true", 4, "bool", NULL, "true" },
        { "\"quoted\"", 8, "string", NULL, "quoted" },
        { "\xff\x00", 2, "application/octet-stream", NULL, "/wA=" },
        { "", 0, "string", NULL, "" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char id [ZG_WSQENV_UUID_SIZE];
        json_object *envelope = zg_wsqenv_new (cases [index].payload, cases [index].size, "box", 0, id);
        assert (streq (s_test_meta (envelope, "content-type"), cases [index].type));
        const char *go_type = s_test_meta (envelope, "application-type");
        assert (cases [index].go_type? go_type && streq (go_type, cases [index].go_type): !go_type);
        //  UUIDv4: 36 characters, '4' at 14, one of 8 9 a b at 19
        assert (streq (s_test_meta (envelope, "id"), id));
        assert (strlen (id) == 36 && id [8] == '-' && id [14] == '4' && strchr ("89ab", id [19]));
        assert (streq (s_test_meta (envelope, "host"), "box"));
        assert (streq (s_test_meta (envelope, "date"), "1970-01-01 00:00:00.000 +0000 UTC"));
        json_object *data;
        assert (json_object_object_get_ex (envelope, "data", &data));
        assert (streq (json_object_get_string (data), cases [index].data));
        //  What the envelope says is what a client echoes to ack it
        const char *text = json_object_to_json_string (envelope);
        char echoed [ZG_WSQENV_UUID_SIZE];
        assert (zg_wsqenv_id (text, strlen (text), echoed) == 0 && streq (echoed, id));
        if (verbose && index == 0)
            printf ("%s ", text);
        json_object_put (envelope);
    }
    char id [ZG_WSQENV_UUID_SIZE];
    assert (zg_wsqenv_id ("{\"metadata\":{}}", 15, id) == -1);
    assert (zg_wsqenv_id ("not json", 8, id) == -1);
    assert (zg_wsqenv_id ("{\"metadata\":{\"id\":\"short\"}}", 27, id) == -1);
    //  @end
    printf ("OK\n");
}
