/*  =========================================================================
    zg_fuzz_query - fuzz target for HTTP query strings (zg_query): the
    arguments lws decoded, added as zg_http_new adds them, and read as the
    rooms routes read them (?offset=&limit=, ?top=)

    The input is the query after lws split it: arguments separated by '&'
    (lws percent-decodes each; a decoded '&' cannot be given here, and
    needs not: zg_query never splits). Invariants, against a model of the
    arguments: the first ZG_QUERY_MAX_ARGUMENTS are kept and no more; the
    value of a name is the rest of the first argument that is the name or
    starts with the name and '=', and nothing else; an integer is read only
    from a non-empty run of digits that fits in int64 and prints back to
    the same digits (leading zeros aside); the same question gets the same
    answer twice. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_query.h"

//  Names asked: the rooms routes' own, and odd ones
static const char *s_names [] = { "offset", "limit", "top", "", "o", "offset=", "a=b" };

//  The model's answer: the value of the first argument named name, or NULL
static const char *
s_model_value (char **arguments, size_t count, const char *name)
{
    size_t length = strlen (name);
    for (size_t index = 0; index < count; index++)
        if (strncmp (arguments [index], name, length) == 0) {
            if (arguments [index][length] == '=')
                return arguments [index] + length + 1;
            if (arguments [index][length] == 0)
                return arguments [index] + length;
        }
    return NULL;
}

//  An integer read from value: its digits, leading zeros aside, print it
static void
s_check_int (const char *value, int64_t number)
{
    assert ((number == -1) == !value);
    if (!value)
        return;
    size_t digits = strspn (value, "0123456789");
    if (number == -2) {
        //  Refused: empty, not only digits, or past INT64_MAX
        const char *significant = value + strspn (value, "0");
        size_t length = strlen (significant);
        assert (!*value || digits < strlen (value) || length > 19
             || (length == 19 && strcmp (significant, "9223372036854775807") > 0));
    }
    else {
        assert (number >= 0 && *value && digits == strlen (value));
        char printed [32];
        snprintf (printed, sizeof printed, "%" PRId64, number);
        const char *significant = value + strspn (value, "0");
        assert (streq (printed, *significant? significant: "0"));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zg_query_t *query = zg_query_new (NULL);
    //  The model: every argument as a C string (a NUL byte ends one, as in lws' fragments)
    char *arguments [ZG_QUERY_MAX_ARGUMENTS];
    size_t count = 0, given = 0;
    const uint8_t *cursor = data, *end = data + size;
    bool more = size > 0;
    while (more) {
        const uint8_t *stop = (const uint8_t *) memchr (cursor, '&', (size_t) (end - cursor));
        size_t length = (size_t) ((stop? stop: end) - cursor);
        int rc = zg_query_add (query, (const char *) cursor, length);
        assert (rc == (given < ZG_QUERY_MAX_ARGUMENTS? 0: -1));
        if (rc == 0)
            arguments [count++] = strndup (length? (const char *) cursor: "", length);
        given++;
        more = stop != NULL;
        cursor = stop? stop + 1: end;
    }
    assert (zg_query_size (query) == count);
    for (size_t index = 0; index < sizeof s_names / sizeof s_names [0]; index++) {
        const char *name = s_names [index];
        const char *value = zg_query_value (query, name);
        const char *expected = s_model_value (arguments, count, name);
        assert (!value == !expected && (!value || streq (value, expected)));
        int64_t number = zg_query_int (query, name);
        assert (zg_query_int (query, name) == number);
        s_check_int (value, number);
    }
    //  The first argument's own name is asked too
    if (count) {
        char *name = strndup (arguments [0], strcspn (arguments [0], "="));
        const char *value = zg_query_value (query, name);
        assert (value && streq (value, s_model_value (arguments, count, name)));
        s_check_int (value, zg_query_int (query, name));
        free (name);
    }
    for (size_t index = 0; index < count; index++)
        free (arguments [index]);
    zg_query_destroy (&query);
    return 0;
}
