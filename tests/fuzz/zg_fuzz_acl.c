/*  =========================================================================
    zg_fuzz_acl - fuzz target for the permissions file (zg_acl): its text
    parsed as zg_acl_load reads it (zconfig_str_load), then built by
    zg_acl_new

    The input is the file's text. Invariants: a refusal says why; accepted
    permissions answer every question the actors and the guard ask, the
    same way twice, and a grant on every name that starts with a prefix
    covers each such name (allows_prefix P implies allows P + anything).
    Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_acl.h"

//  Every pattern and its actions, as zg_acl.h lists them
static const char *s_actions [] [2] = {
    { "topics", "publish" }, { "topics", "subscribe" }, { "queues", "send" }, { "queues", "consume" },
    { "queues", "results" }, { "rooms", "join" }, { "rooms", "send" }, { "rooms", "observe" }, { "rooms", "peek" }
};
//  Identities and names the questions use
static const char *s_identities [] = { "alice", "bob", "operators", "sensors", "*", "" };
static const char *s_names [] = { "sensors.a", "sensors.", "jobs.x", "support.1", "alerts", "a", "" };

static void
s_ask (zg_acl_t *acl)
{
    for (size_t who = 0; who < sizeof s_identities / sizeof s_identities [0]; who++) {
        const char *identity = s_identities [who];
        assert (zg_acl_admin (acl, identity) == zg_acl_admin (acl, identity));
        for (size_t what = 0; what < sizeof s_actions / sizeof s_actions [0]; what++)
            for (size_t which = 0; which < sizeof s_names / sizeof s_names [0]; which++) {
                const char *pattern = s_actions [what][0], *action = s_actions [what][1];
                const char *name = s_names [which];
                bool allowed = zg_acl_allows (acl, identity, pattern, action, name);
                assert (zg_acl_allows (acl, identity, pattern, action, name) == allowed);
                if (zg_acl_allows_prefix (acl, identity, pattern, action, name)) {
                    char longer [64];
                    snprintf (longer, sizeof longer, "%sxyz", name);
                    assert (allowed && zg_acl_allows (acl, identity, pattern, action, longer));
                }
            }
    }
    assert (!zg_acl_allows (acl, NULL, "topics", "publish", "a"));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  zg_acl_load reads the file as a C string: it ends at a NUL
    char *text = (char *) malloc (size + 1);
    assert (text);
    memcpy (text, data, size);
    text [size] = 0;
    zconfig_t *root = zconfig_str_load (text);
    free (text);
    if (!root)
        return 0;
    char error [ZG_ACL_ERROR_SIZE] = "";
    zg_acl_t *acl = zg_acl_new (root, error);
    if (acl) {
        s_ask (acl);
        zg_acl_destroy (&acl);
    }
    else
        assert (*error);
    zconfig_destroy (&root);
    return 0;
}
