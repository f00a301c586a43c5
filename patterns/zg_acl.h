/*  =========================================================================
    zg_acl - who may do what: the permissions file, read once, asked per
    request by the native actors and by the gateway alike

    An identity is a name: on native endpoints the `name` of the client's
    CURVE certificate (zg_wire_identity), on the web the subject the gateway
    authenticated. The permissions file (ZPL, `security/permissions`) gives
    identities roles and grants each identity or role actions on names:

        users
            alice
                roles = operators sensors   #   roles, space or comma separated
        grants
            operators                       #   an identity or a role
                admin = 1                   #   stats, metrics, dashboard forms
                topics
                    publish = *
            sensors
                topics
                    publish = sensors.* alerts
                    subscribe = sensors.*
                queues
                    send = jobs.*           #   SEND, CALL
                    consume = jobs.*        #   READY (take tasks)
                    results = jobs.*        #   GET any task of the queue
                rooms
                    join = support.*        #   JOIN as a member
                    send = support.*        #   SEND, OOB as a producer
                    observe = support.*     #   OBSERVE
                    peek = support.*        #   STATE, PEEK, METRICS

    A name pattern is a name, or a prefix ending in `*` (`*` alone: every
    name); patterns are listed separated by spaces or commas. What is not
    granted is denied. Each user of the class loads its own instance (the
    actors are threads with nothing shared) and loads it again on SIGHUP.
    =========================================================================
*/

#ifndef ZG_ACL_H_INCLUDED
#define ZG_ACL_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Room for a load error, its NUL included: longer reasons are cut
#define ZG_ACL_ERROR_SIZE 256

typedef struct _zg_acl_t zg_acl_t;

//  Build the permissions from a parsed ZPL tree (its root). Returns NULL
//  and a one-line reason in error (ZG_ACL_ERROR_SIZE bytes) if the tree has
//  an unknown section, pattern or action, or a bad name pattern.
zg_acl_t *
    zg_acl_new (zconfig_t *root, char *error);

//  Read and build the permissions file at path; NULL and a reason in error
//  if it cannot be read or is not valid
zg_acl_t *
    zg_acl_load (const char *path, char *error);

//  Destroy the permissions
void
    zg_acl_destroy (zg_acl_t **self_p);

//  Whether identity, by itself or by one of its roles, may do action on
//  the name: pattern is "topics", "queues" or "rooms" and action one of
//  that pattern's actions above (anything else is a programming error). A
//  NULL identity (an unauthenticated peer) is allowed nothing.
bool
    zg_acl_allows (zg_acl_t *self, const char *identity, const char *pattern, const char *action,
                   const char *name);

//  Whether identity may do action on every name that starts with prefix:
//  only a granted `Q*` with Q a prefix of prefix covers them all. This is
//  the test for a subscription to a prefix (a ZeroMQ SUB, a web `prefix*`).
bool
    zg_acl_allows_prefix (zg_acl_t *self, const char *identity, const char *pattern, const char *action,
                          const char *prefix);

//  Whether identity, by itself or by one of its roles, is an admin
bool
    zg_acl_admin (zg_acl_t *self, const char *identity);

//  Self test of this class
void
    zg_acl_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
