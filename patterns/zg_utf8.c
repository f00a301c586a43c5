/*  =========================================================================
    zg_utf8 - names made valid UTF-8 for JSON and Prometheus

    \xNN rather than U+FFFD: distinct names stay distinct (two names that
    differ only in their invalid bytes would otherwise become one key in
    /api/stats and duplicate series in /metrics), and the bytes can still
    be read off the escape.
    =========================================================================
*/

#include "zg_classes.h"

//  The size of the well-formed UTF-8 sequence that starts at at, or 0 if
//  the byte there does not start one. The string's terminating NUL is not
//  a continuation byte, so no sequence reads past it.
static size_t
s_sequence (const byte *at)
{
    if (at [0] < 0x80)
        return 1;
    size_t size;
    uint32_t least, code;
    if ((at [0] & 0xE0) == 0xC0) {
        size = 2;
        least = 0x80;
        code = at [0] & 0x1F;
    }
    else
    if ((at [0] & 0xF0) == 0xE0) {
        size = 3;
        least = 0x800;
        code = at [0] & 0x0F;
    }
    else
    if ((at [0] & 0xF8) == 0xF0) {
        size = 4;
        least = 0x10000;
        code = at [0] & 0x07;
    }
    else
        return 0;
    for (size_t index = 1; index < size; index++) {
        if ((at [index] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (at [index] & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return size;
}

//  --------------------------------------------------------------------------
//  Whether string is well-formed UTF-8

bool
zg_utf8_valid (const char *string)
{
    assert (string);
    const byte *at = (const byte *) string;
    while (*at) {
        size_t size = s_sequence (at);
        if (!size)
            return false;
        at += size;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  Return a new copy of string with every byte outside well-formed UTF-8
//  written as \xNN

char *
zg_utf8_clean (const char *string)
{
    assert (string);
    //  At worst every byte becomes four characters
    char *clean = (char *) malloc (strlen (string) * 4 + 1);
    assert (clean);
    char *to = clean;
    const byte *at = (const byte *) string;
    while (*at) {
        size_t size = s_sequence (at);
        if (size) {
            memcpy (to, at, size);
            to += size;
            at += size;
        }
        else {
            to += sprintf (to, "\\x%02x", *at);
            at++;
        }
    }
    *to = 0;
    return clean;
}

//  --------------------------------------------------------------------------
//  Make every string and object key inside value valid UTF-8, in place

void
zg_utf8_clean_json (json_object *value)
{
    if (json_object_is_type (value, json_type_string)) {
        if (!zg_utf8_valid (json_object_get_string (value))) {
            char *clean = zg_utf8_clean (json_object_get_string (value));
            json_object_set_string (value, clean);
            free (clean);
        }
    }
    else
    if (json_object_is_type (value, json_type_array)) {
        for (size_t index = 0; index < json_object_array_length (value); index++)
            zg_utf8_clean_json (json_object_array_get_idx (value, index));
    }
    else
    if (json_object_is_type (value, json_type_object)) {
        //  Keys cannot change while the object is walked: rename them after
        zlist_t *renamed = zlist_new ();
        zlist_autofree (renamed);
        json_object_object_foreach (value, key, member) {
            zg_utf8_clean_json (member);
            if (!zg_utf8_valid (key))
                zlist_append (renamed, key);
        }
        for (char *name = (char *) zlist_first (renamed); name; name = (char *) zlist_next (renamed)) {
            json_object *named = json_object_get (json_object_object_get (value, name));
            json_object_object_del (value, name);
            char *clean = zg_utf8_clean (name);
            json_object_object_add (value, clean, named);
            free (clean);
        }
        zlist_destroy (&renamed);
    }
}

//  --------------------------------------------------------------------------
//  Self test of this class

static void
s_expect_clean (const char *string, const char *expected)
{
    char *clean = zg_utf8_clean (string);
    assert (streq (clean, expected));
    assert (zg_utf8_valid (clean));
    assert (zg_utf8_valid (string) == streq (string, expected));
    free (clean);
}

void
zg_utf8_test (bool verbose)
{
    printf (" * zg_utf8: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    s_expect_clean ("", "");
    s_expect_clean ("plain.topic", "plain.topic");
    s_expect_clean ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    s_expect_clean ("\xff", "\\xff");
    s_expect_clean ("a\xc3", "a\\xc3");                     //  Truncated at the end
    s_expect_clean ("\xc3(", "\\xc3(");                     //  Missing continuation
    s_expect_clean ("\xc0\xaf", "\\xc0\\xaf");              //  Overlong '/'
    s_expect_clean ("\xed\xa0\x80", "\\xed\\xa0\\x80");     //  Surrogate U+D800
    s_expect_clean ("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");   //  Past U+10FFFF
    s_expect_clean ("\x80q\"\n", "\\x80q\"\n");             //  Quotes and newlines are JSON's business

    json_object *stats = json_tokener_parse ("{\"topics\":{\"ok\":{\"n\":1}},\"list\":[\"a\"]}");
    assert (stats);
    json_object *topics = json_object_object_get (stats, "topics");
    json_object *bad = json_object_new_object ();
    json_object_object_add (bad, "n\xfe", json_object_new_int (2));
    json_object_object_add (topics, "\xff\"q", bad);
    json_object_array_add (json_object_object_get (stats, "list"), json_object_new_string ("b\xe9"));
    zg_utf8_clean_json (stats);
    const char *text = json_object_to_json_string_ext (stats, JSON_C_TO_STRING_PLAIN);
    if (verbose)
        printf ("%s\n", text);
    assert (zg_utf8_valid (text));
    assert (streq (text, "{\"topics\":{\"ok\":{\"n\":1},\"\\\\xff\\\"q\":{\"n\\\\xfe\":2}},"
                         "\"list\":[\"a\",\"b\\\\xe9\"]}"));
    json_object_put (stats);
    //  @end
    printf ("OK\n");
}
