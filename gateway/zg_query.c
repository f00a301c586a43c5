/*  =========================================================================
    zg_query - the arguments of an HTTP request's query string

    lws splits the query on '&' and percent-decodes each argument into a
    fragment of its WSI_TOKEN_HTTP_URI_ARGS header; this class copies them
    whole (lws' own lookup, lws_get_urlarg_by_name, copies into a fixed
    buffer and stops at the first argument that does not fit, so an
    oversized argument hid the ones after it).
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_query.h"

struct _zg_query_t {
    char *arguments [ZG_QUERY_MAX_ARGUMENTS];   //  In order, each a C string
    size_t count;                               //  Arguments held
};

//  --------------------------------------------------------------------------
//  The query of a request on wsi

zg_query_t *
zg_query_new (struct lws *wsi)
{
    zg_query_t *self = (zg_query_t *) zmalloc (sizeof (zg_query_t));
    assert (self);
    for (int index = 0; wsi && index < ZG_QUERY_MAX_ARGUMENTS; index++) {
        int length = lws_hdr_fragment_length (wsi, WSI_TOKEN_HTTP_URI_ARGS, index);
        char *argument = (char *) zmalloc ((size_t) (length > 0? length: 0) + 1);
        //  -1: no such fragment (a length of 0 may also mean that)
        int copied = lws_hdr_copy_fragment (wsi, argument, (length > 0? length: 0) + 1,
                                            WSI_TOKEN_HTTP_URI_ARGS, index);
        if (copied >= 0)
            zg_query_add (self, argument, (size_t) copied);
        free (argument);
        if (copied < 0)
            break;
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_query_destroy (zg_query_t **self_p)
{
    assert (self_p);
    zg_query_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->count; index++)
            free (self->arguments [index]);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Add one argument

int
zg_query_add (zg_query_t *self, const char *argument, size_t size)
{
    assert (self);
    assert (argument || size == 0);
    if (self->count == ZG_QUERY_MAX_ARGUMENTS)
        return -1;
    self->arguments [self->count++] = strndup (size? argument: "", size);
    return 0;
}

//  --------------------------------------------------------------------------
//  Arguments held

size_t
zg_query_size (zg_query_t *self)
{
    assert (self);
    return self->count;
}

//  --------------------------------------------------------------------------
//  The value of the first argument named name

const char *
zg_query_value (zg_query_t *self, const char *name)
{
    assert (self);
    assert (name);
    size_t length = strlen (name);
    for (size_t index = 0; index < self->count; index++) {
        const char *argument = self->arguments [index];
        if (strncmp (argument, name, length) == 0 && (argument [length] == '=' || argument [length] == 0))
            return argument [length] == '='? argument + length + 1: argument + length;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  The first argument named name as a decimal integer >= 0

int64_t
zg_query_int (zg_query_t *self, const char *name)
{
    const char *value = zg_query_value (self, name);
    if (!value)
        return -1;
    if (!*value)
        return -2;
    int64_t number = 0;
    for (const char *digit = value; *digit; digit++) {
        if (*digit < '0' || *digit > '9' || number > (INT64_MAX - (*digit - '0')) / 10)
            return -2;
        number = number * 10 + (*digit - '0');
    }
    return number;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_query_test (bool verbose)
{
    printf (" * zg_query: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    zg_query_t *query = zg_query_new (NULL);
    assert (zg_query_size (query) == 0);
    assert (zg_query_value (query, "offset") == NULL);
    assert (zg_query_int (query, "offset") == -1);

    const char *arguments [] = {
        "offset=12", "limit", "top=", "offsetx=3", "big=9223372036854775807", "bigger=9223372036854775808",
        "sign=+1", "minus=-1", "space= 1", "hex=0x10", "zero=0", "offset=99", "eq==1", NULL
    };
    for (size_t index = 0; arguments [index]; index++)
        assert (zg_query_add (query, arguments [index], strlen (arguments [index])) == 0);
    //  A NUL byte ends an argument (lws' fragments are C strings too)
    assert (zg_query_add (query, "nul=7\0" "8", 7) == 0);
    assert (zg_query_size (query) == 14);

    //  The first argument of that name, not one whose name merely starts with it
    assert (streq (zg_query_value (query, "offset"), "12"));
    assert (zg_query_int (query, "offset") == 12);
    assert (streq (zg_query_value (query, "offsetx"), "3"));
    assert (zg_query_value (query, "offs") == NULL);
    assert (streq (zg_query_value (query, "limit"), ""));
    assert (zg_query_int (query, "limit") == -2);
    assert (zg_query_int (query, "top") == -2);
    assert (zg_query_int (query, "big") == INT64_MAX);
    assert (zg_query_int (query, "zero") == 0);
    assert (streq (zg_query_value (query, "eq"), "=1"));
    assert (zg_query_int (query, "nul") == 7);
    const char *refused [] = { "bigger", "sign", "minus", "space", "hex", "eq", NULL };
    for (size_t index = 0; refused [index]; index++)
        assert (zg_query_int (query, refused [index]) == -2);
    assert (zg_query_int (query, "absent") == -1);

    //  At most ZG_QUERY_MAX_ARGUMENTS; an empty argument counts as one
    while (zg_query_size (query) < ZG_QUERY_MAX_ARGUMENTS)
        assert (zg_query_add (query, "", 0) == 0);
    assert (zg_query_add (query, "late=1", 6) == -1);
    assert (zg_query_value (query, "late") == NULL);
    zg_query_destroy (&query);
    zg_query_destroy (&query);
    //  @end
    printf ("OK\n");
}
