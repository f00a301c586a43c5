/*  =========================================================================
    zg_command - a teomq command declaration, "name/{param}/{param}...", and
    the parsing of its lines: "name/p1/p2/data" reaches a handler as named
    parameters plus data (docs/PROTOCOL.md 2.9)

        zg_command_t *command = zg_command_new ("version/{data}/{description}");
        zhash_t *params;
        zframe_t *data;
        //  A CALL "version/some_data/first/rest" is delivered as "some_data/first/rest"
        if (zg_command_parse (command, payload, &params, &data) == 0)
            ...zhash_lookup (params, "data") is "some_data", "description"
               "first", data "rest"
    =========================================================================
*/

#ifndef ZG_COMMAND_H_INCLUDED
#define ZG_COMMAND_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_command_t zg_command_t;

//  Parse a declaration: a name (zgate's name rules: A-Z a-z 0-9 . _ - :)
//  followed by zero or more "/{param}" (param names non-empty, no '/', '{'
//  or '}', none twice). NULL if it is not one.
zg_command_t *
    zg_command_new (const char *declaration);

//  Destroy it
void
    zg_command_destroy (zg_command_t **self_p);

//  The command's name
const char *
    zg_command_name (zg_command_t *self);

//  Its number of params
size_t
    zg_command_params (zg_command_t *self);

//  Split a delivered payload (the line after "name/") on '/' into the
//  params, in order, and data (the rest, "/" included; empty if none).
//  Returns 0 with *params_p a new zhash (param -> value string) and
//  *data_p a new frame, the caller's; -1 if the line has fewer parts than
//  params.
int
    zg_command_parse (zg_command_t *self, zframe_t *payload, zhash_t **params_p, zframe_t **data_p);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only
void
    zg_command_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
