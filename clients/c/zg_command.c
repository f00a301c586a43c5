/*  =========================================================================
    zg_command - a teomq command declaration and the parsing of its lines

    zgate delivers a CALL "name/rest" to the command's workers with "rest"
    as the payload; the declaration's param names apply on the worker's
    side, as in teomq's consumer, so workers of one command may read it
    differently and zgate need not know.
    =========================================================================
*/

#include "zg_command.h"

//  Most params a declaration may name
#define ZG_COMMAND_MAX_PARAMS 64

struct _zg_command_t {
    char *name;                     //  Command name
    char *params [ZG_COMMAND_MAX_PARAMS];   //  Param names, in order
    size_t count;                   //  Their number
};

//  --------------------------------------------------------------------------
//  Parse a declaration

zg_command_t *
zg_command_new (const char *declaration)
{
    assert (declaration);
    zg_command_t *self = (zg_command_t *) zmalloc (sizeof (zg_command_t));
    assert (self);
    size_t length = strcspn (declaration, "/");
    self->name = strndup (declaration, length);
    bool valid = length > 0 && length <= 255;
    for (size_t index = 0; index < length; index++)
        valid = valid && (isalnum ((unsigned char) declaration [index]) || strchr ("._-:", declaration [index]));
    const char *part = declaration + length;
    while (valid && *part == '/') {
        part++;
        size_t size = strcspn (part, "/");
        //  "{name}": braces around a name without '/', '{' or '}'
        valid = size > 2 && part [0] == '{' && part [size - 1] == '}' && self->count < ZG_COMMAND_MAX_PARAMS
             && strcspn (part + 1, "{}") == size - 2;
        for (size_t other = 0; valid && other < self->count; other++)
            valid = strlen (self->params [other]) != size - 2 || memcmp (self->params [other], part + 1, size - 2);
        if (valid)
            self->params [self->count++] = strndup (part + 1, size - 2);
        part += size;
    }
    if (!valid)
        zg_command_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_command_destroy (zg_command_t **self_p)
{
    assert (self_p);
    zg_command_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        free (self->params [index]);
    free (self->name);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Its name and number of params

const char *
zg_command_name (zg_command_t *self)
{
    assert (self);
    return self->name;
}

size_t
zg_command_params (zg_command_t *self)
{
    assert (self);
    return self->count;
}

//  --------------------------------------------------------------------------
//  Split a payload into params and data

int
zg_command_parse (zg_command_t *self, zframe_t *payload, zhash_t **params_p, zframe_t **data_p)
{
    assert (self && payload && params_p && data_p);
    const char *line = (const char *) zframe_data (payload);
    size_t size = zframe_size (payload);
    zhash_t *params = zhash_new ();
    zhash_autofree (params);
    size_t offset = 0;
    //  Each param but the last ends at a '/'; the last one at a '/' or the end
    for (size_t index = 0; index < self->count; index++) {
        const char *slash = (const char *) memchr (line + offset, '/', size - offset);
        size_t length = slash? (size_t) (slash - line) - offset: size - offset;
        if (!slash && index + 1 < self->count) {
            zhash_destroy (&params);
            return -1;
        }
        char *value = strndup (line + offset, length);
        zhash_insert (params, self->params [index], value);
        free (value);
        offset += length + (slash? 1: 0);
    }
    *params_p = params;
    *data_p = zframe_new (offset < size? line + offset: NULL, offset < size? size - offset: 0);
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test
#ifdef ZGCLIENT_SELFTEST

//  Parse a line; returns its params as "p=v;..." then "|data", or NULL
static char *
s_test_parse (zg_command_t *command, const char *line)
{
    zframe_t *payload = zframe_new (line, strlen (line));
    zhash_t *params;
    zframe_t *data;
    char *text = NULL;
    if (zg_command_parse (command, payload, &params, &data) == 0) {
        text = strdup ("");
        for (size_t index = 0; index < command->count; index++) {
            char *next = zsys_sprintf ("%s%s=%s;", text, command->params [index],
                                       (char *) zhash_lookup (params, command->params [index]));
            free (text);
            text = next;
        }
        char *next = zsys_sprintf ("%s|%.*s", text, (int) zframe_size (data), (char *) zframe_data (data));
        free (text);
        text = next;
        zhash_destroy (&params);
        zframe_destroy (&data);
    }
    zframe_destroy (&payload);
    return text;
}

void
zg_command_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_command: ");
    //  @selftest
    const char *bad [] = { "", "/{a}", "bad name", "v/data", "v/{}", "v/{a}/{a}", "v/{a/b}", "v/{a}x", "v/", NULL };
    for (int index = 0; bad [index]; index++)
        assert (zg_command_new (bad [index]) == NULL);
    zg_command_t *command = zg_command_new ("version/{data}/{description}");
    assert (command && streq (zg_command_name (command), "version") && zg_command_params (command) == 2);
    char *text = s_test_parse (command, "some_data/first/the/rest");
    assert (streq (text, "data=some_data;description=first;|the/rest"));
    zstr_free (&text);
    text = s_test_parse (command, "a/b");
    assert (streq (text, "data=a;description=b;|"));
    zstr_free (&text);
    text = s_test_parse (command, "a//");
    assert (streq (text, "data=a;description=;|"));
    zstr_free (&text);
    assert (s_test_parse (command, "only") == NULL);
    zg_command_destroy (&command);
    assert (command == NULL);
    //  No params: the whole payload is data
    command = zg_command_new ("num_players");
    text = s_test_parse (command, "42/x");
    assert (streq (text, "|42/x"));
    zstr_free (&text);
    zg_command_destroy (&command);
    //  @end
    printf ("OK\n");
}
#endif
