/*  =========================================================================
    zg_acl - who may do what: the permissions file

    A subject (an identity or a role) holds one list of name patterns per
    action, in a fixed table of actions, and an admin flag. A question looks
    at the identity's own subject and then at each of its roles': a handful
    of lists of a few patterns, no allocation, so the actors can ask it for
    every message.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_acl.h"

//  Write a one-line load error (ZG_ACL_ERROR_SIZE bytes, cut to fit)
static void
s_error (char *error, const char *format, ...) CHECK_PRINTF (2);

//  Every action a grant may name, by pattern: the index is the action's slot
static const struct {
    const char *pattern;
    const char *action;
} s_actions [] = {
    { "topics", "publish" },
    { "topics", "subscribe" },
    { "queues", "send" },
    { "queues", "consume" },
    { "queues", "results" },
    { "rooms", "join" },
    { "rooms", "send" },
    { "rooms", "observe" },
    { "rooms", "peek" },
};
#define S_ACTIONS (sizeof (s_actions) / sizeof (s_actions [0]))

//  What one identity or role is granted
typedef struct {
    zlistx_t *names [S_ACTIONS];    //  Name patterns (strings), per action
    bool admin;                     //  May see stats, metrics, forms
} s_grant_t;

struct _zg_acl_t {
    zhashx_t *grants;               //  Identity or role -> s_grant_t
    zhashx_t *roles;                //  Identity -> zlistx_t of role names
};

//  Separators between the patterns or roles of one value
#define S_SEPARATORS " \t,"

static void
s_error (char *error, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (error, ZG_ACL_ERROR_SIZE, format, args);
    va_end (args);
}

static void
s_grant_destroy (void **item_p)
{
    s_grant_t *grant = (s_grant_t *) *item_p;
    if (!grant)
        return;
    for (size_t slot = 0; slot < S_ACTIONS; slot++)
        zlistx_destroy (&grant->names [slot]);
    free (grant);
    *item_p = NULL;
}

static void
s_list_destroy (void **item_p)
{
    zlistx_destroy ((zlistx_t **) item_p);
}

static zlistx_t *
s_string_list (void)
{
    zlistx_t *list = zlistx_new ();
    assert (list);
    zlistx_set_duplicator (list, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor (list, (zlistx_destructor_fn *) zstr_free);
    return list;
}

//  The slot of pattern/action, or -1 if there is no such action
static int
s_slot (const char *pattern, const char *action)
{
    for (size_t slot = 0; slot < S_ACTIONS; slot++)
        if (streq (s_actions [slot].pattern, pattern) && streq (s_actions [slot].action, action))
            return (int) slot;
    return -1;
}

//  The grant of subject, made empty if it is new
static s_grant_t *
s_grant_of (zg_acl_t *self, const char *subject)
{
    s_grant_t *grant = (s_grant_t *) zhashx_lookup (self->grants, subject);
    if (!grant) {
        grant = (s_grant_t *) zmalloc (sizeof (s_grant_t));
        assert (grant);
        for (size_t slot = 0; slot < S_ACTIONS; slot++)
            grant->names [slot] = s_string_list ();
        zhashx_insert (self->grants, subject, grant);
    }
    return grant;
}

//  Append each word of value to list; a name pattern must not be empty and
//  may hold '*' only as its last byte. Returns 0 or -1 with error set.
static int
s_add_words (zlistx_t *list, const char *value, bool patterns, const char *where, char *error)
{
    char *copy = strdup (value);
    assert (copy);
    int rc = 0;
    char *state = NULL;
    for (char *word = strtok_r (copy, S_SEPARATORS, &state); word && rc == 0;
         word = strtok_r (NULL, S_SEPARATORS, &state)) {
        char *star = strchr (word, '*');
        if (patterns && star && star [1] != 0) {
            s_error (error, "%s: '%s': '*' may only end a name pattern", where, word);
            rc = -1;
        }
        else
            zlistx_add_end (list, word);
    }
    if (rc == 0 && zlistx_size (list) == 0) {
        s_error (error, "%s: no names given", where);
        rc = -1;
    }
    free (copy);
    return rc;
}

//  Read one pattern section (topics, queues, rooms) of a subject's grants
static int
s_parse_pattern (s_grant_t *grant, zconfig_t *section, const char *subject, char *error)
{
    const char *pattern = zconfig_name (section);
    for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
        char where [ZG_ACL_ERROR_SIZE];
        snprintf (where, sizeof where, "grants/%s/%s/%s", subject, pattern, zconfig_name (item));
        int slot = s_slot (pattern, zconfig_name (item));
        if (slot < 0) {
            s_error (error, "%s: no such action", where);
            return -1;
        }
        if (s_add_words (grant->names [slot], zconfig_value (item), true, where, error))
            return -1;
    }
    return 0;
}

//  Read the grants of one subject
static int
s_parse_grant (zg_acl_t *self, zconfig_t *entry, char *error)
{
    const char *subject = zconfig_name (entry);
    s_grant_t *grant = s_grant_of (self, subject);
    for (zconfig_t *section = zconfig_child (entry); section; section = zconfig_next (section)) {
        const char *name = zconfig_name (section);
        if (streq (name, "admin")) {
            const char *value = zconfig_value (section);
            if (streq (value, "1") || streq (value, "true"))
                grant->admin = true;
            else
            if (!streq (value, "0") && !streq (value, "false")) {
                s_error (error, "grants/%s/admin: '%s' is not 1, 0, true or false", subject, value);
                return -1;
            }
        }
        else
        if (streq (name, "topics") || streq (name, "queues") || streq (name, "rooms")) {
            if (s_parse_pattern (grant, section, subject, error))
                return -1;
        }
        else {
            s_error (error, "grants/%s/%s: not admin, topics, queues or rooms", subject, name);
            return -1;
        }
    }
    return 0;
}

//  Read the roles of one identity
static int
s_parse_user (zg_acl_t *self, zconfig_t *entry, char *error)
{
    const char *identity = zconfig_name (entry);
    zlistx_t *roles = (zlistx_t *) zhashx_lookup (self->roles, identity);
    if (!roles) {
        roles = s_string_list ();
        zhashx_insert (self->roles, identity, roles);
    }
    for (zconfig_t *item = zconfig_child (entry); item; item = zconfig_next (item)) {
        char where [ZG_ACL_ERROR_SIZE];
        snprintf (where, sizeof where, "users/%s/%s", identity, zconfig_name (item));
        if (!streq (zconfig_name (item), "roles")) {
            s_error (error, "%s: a user has only roles", where);
            return -1;
        }
        if (s_add_words (roles, zconfig_value (item), false, where, error))
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Build the permissions from a parsed ZPL tree

zg_acl_t *
zg_acl_new (zconfig_t *root, char *error)
{
    assert (root);
    assert (error);
    zg_acl_t *self = (zg_acl_t *) zmalloc (sizeof (zg_acl_t));
    assert (self);
    self->grants = zhashx_new ();
    assert (self->grants);
    zhashx_set_destructor (self->grants, s_grant_destroy);
    self->roles = zhashx_new ();
    assert (self->roles);
    zhashx_set_destructor (self->roles, s_list_destroy);

    int rc = 0;
    for (zconfig_t *section = zconfig_child (root); section && rc == 0; section = zconfig_next (section)) {
        const char *name = zconfig_name (section);
        bool users = streq (name, "users");
        if (!users && !streq (name, "grants")) {
            s_error (error, "%s: not users or grants", name);
            rc = -1;
        }
        for (zconfig_t *entry = zconfig_child (section); entry && rc == 0; entry = zconfig_next (entry))
            rc = users? s_parse_user (self, entry, error): s_parse_grant (self, entry, error);
    }
    if (rc)
        zg_acl_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Read and build the permissions file at path

zg_acl_t *
zg_acl_load (const char *path, char *error)
{
    assert (path);
    assert (error);
    //  Read here, not with zconfig_load: it answers NULL both for a missing
    //  file and a bad one, does not end on a directory, and leaks on a bad one
    int mode = zsys_file_mode (path);
    FILE *file = mode != -1 && S_ISREG (mode)? fopen (path, "r"): NULL;
    if (!file) {
        s_error (error, "%s: cannot read the permissions file (no such file)", path);
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    assert (stream);
    char buffer [4096];
    size_t read;
    while ((read = fread (buffer, 1, sizeof buffer, file)) > 0)
        fwrite (buffer, 1, read, stream);
    fclose (stream);
    fclose (file);
    zconfig_t *root = zconfig_str_load (text);
    free (text);
    if (!root) {
        s_error (error, "%s: not valid ZPL", path);
        return NULL;
    }
    char reason [ZG_ACL_ERROR_SIZE];
    zg_acl_t *self = zg_acl_new (root, reason);
    if (!self)
        s_error (error, "%s: %s", path, reason);
    zconfig_destroy (&root);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the permissions

void
zg_acl_destroy (zg_acl_t **self_p)
{
    assert (self_p);
    zg_acl_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->grants);
    zhashx_destroy (&self->roles);
    free (self);
    *self_p = NULL;
}

//  Whether one granted name pattern covers name (whole: the name is one
//  name) or every name starting with name (whole false: it is a prefix)
static bool
s_covers (const char *granted, const char *name, bool whole)
{
    size_t length = strlen (granted);
    if (length > 0 && granted [length - 1] == '*')
        return strncmp (granted, name, length - 1) == 0;
    return whole && streq (granted, name);
}

//  Whether subject's own grant covers the name in slot
static bool
s_subject_allows (zg_acl_t *self, const char *subject, int slot, const char *name, bool whole)
{
    s_grant_t *grant = (s_grant_t *) zhashx_lookup (self->grants, subject);
    if (!grant)
        return false;
    for (const char *granted = (const char *) zlistx_first (grant->names [slot]); granted;
         granted = (const char *) zlistx_next (grant->names [slot]))
        if (s_covers (granted, name, whole))
            return true;
    return false;
}

//  The question both allows ask: the identity's own grant, then its roles'
static bool
s_allows (zg_acl_t *self, const char *identity, const char *pattern, const char *action,
          const char *name, bool whole)
{
    assert (self);
    assert (name);
    int slot = s_slot (pattern, action);
    assert (slot >= 0);
    if (!identity)
        return false;
    if (s_subject_allows (self, identity, slot, name, whole))
        return true;
    zlistx_t *roles = (zlistx_t *) zhashx_lookup (self->roles, identity);
    if (roles)
        for (const char *role = (const char *) zlistx_first (roles); role;
             role = (const char *) zlistx_next (roles))
            if (s_subject_allows (self, role, slot, name, whole))
                return true;
    return false;
}

//  --------------------------------------------------------------------------
//  Whether identity may do action on the name

bool
zg_acl_allows (zg_acl_t *self, const char *identity, const char *pattern, const char *action,
               const char *name)
{
    return s_allows (self, identity, pattern, action, name, true);
}

//  --------------------------------------------------------------------------
//  Whether identity may do action on every name that starts with prefix

bool
zg_acl_allows_prefix (zg_acl_t *self, const char *identity, const char *pattern, const char *action,
                      const char *prefix)
{
    return s_allows (self, identity, pattern, action, prefix, false);
}

//  --------------------------------------------------------------------------
//  Whether identity is an admin

bool
zg_acl_admin (zg_acl_t *self, const char *identity)
{
    assert (self);
    if (!identity)
        return false;
    s_grant_t *grant = (s_grant_t *) zhashx_lookup (self->grants, identity);
    if (grant && grant->admin)
        return true;
    zlistx_t *roles = (zlistx_t *) zhashx_lookup (self->roles, identity);
    if (roles)
        for (const char *role = (const char *) zlistx_first (roles); role;
             role = (const char *) zlistx_next (roles)) {
            grant = (s_grant_t *) zhashx_lookup (self->grants, role);
            if (grant && grant->admin)
                return true;
        }
    return false;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  The reason a ZPL text is refused, or NULL if it is accepted
static const char *
s_refusal (const char *text, char *error)
{
    zconfig_t *root = zconfig_str_load (text);
    assert (root);
    zg_acl_t *acl = zg_acl_new (root, error);
    zconfig_destroy (&root);
    if (!acl)
        return error;
    zg_acl_destroy (&acl);
    return NULL;
}

void
zg_acl_test (bool verbose)
{
    printf (" * zg_acl: ");
    if (verbose)
        printf ("\n");

    const char *text =
        "users\n"
        "    alice\n"
        "        roles = operators, sensors\n"
        "    bob\n"
        "        roles = sensors\n"
        "grants\n"
        "    operators\n"
        "        admin = 1\n"
        "    sensors\n"
        "        topics\n"
        "            publish = sensors.* alerts\n"
        "            subscribe = sensors.* alerts\n"
        "        queues\n"
        "            send = jobs.*\n"
        "        rooms\n"
        "            peek = support\n"
        "    carol\n"
        "        topics\n"
        "            subscribe = *\n"
        "        queues\n"
        "            consume = jobs.*,mail\n"
        "            results = *\n";
    zconfig_t *root = zconfig_str_load (text);
    assert (root);
    char error [ZG_ACL_ERROR_SIZE];
    zg_acl_t *acl = zg_acl_new (root, error);
    assert (acl);
    zconfig_destroy (&root);

    //  Through a role, exact names and prefixes
    assert (zg_acl_allows (acl, "bob", "topics", "publish", "sensors.t1"));
    assert (zg_acl_allows (acl, "bob", "topics", "publish", "sensors."));
    assert (zg_acl_allows (acl, "bob", "topics", "publish", "alerts"));
    assert (!zg_acl_allows (acl, "bob", "topics", "publish", "alerts.x"));
    assert (!zg_acl_allows (acl, "bob", "topics", "publish", "sensors"));
    assert (!zg_acl_allows (acl, "bob", "topics", "subscribe", "weather"));
    assert (zg_acl_allows (acl, "bob", "queues", "send", "jobs.resize"));
    assert (!zg_acl_allows (acl, "bob", "queues", "consume", "jobs.resize"));
    assert (zg_acl_allows (acl, "bob", "rooms", "peek", "support"));
    assert (!zg_acl_allows (acl, "bob", "rooms", "join", "support"));
    //  The same name under another pattern is another grant
    assert (!zg_acl_allows (acl, "bob", "rooms", "send", "jobs.resize"));

    //  Prefix subscriptions: only a granted prefix covers them
    assert (zg_acl_allows_prefix (acl, "bob", "topics", "subscribe", "sensors.t"));
    assert (zg_acl_allows_prefix (acl, "bob", "topics", "subscribe", "sensors."));
    assert (!zg_acl_allows_prefix (acl, "bob", "topics", "subscribe", "sensors"));
    assert (!zg_acl_allows_prefix (acl, "bob", "topics", "subscribe", "alerts"));
    assert (!zg_acl_allows_prefix (acl, "bob", "topics", "subscribe", ""));
    assert (zg_acl_allows_prefix (acl, "carol", "topics", "subscribe", ""));

    //  Own grants, comma and space separated; admin through a role only
    assert (zg_acl_allows (acl, "carol", "queues", "consume", "mail"));
    assert (zg_acl_allows (acl, "carol", "queues", "consume", "jobs.x"));
    assert (!zg_acl_allows (acl, "carol", "queues", "consume", "mailbox"));
    assert (zg_acl_allows (acl, "carol", "queues", "results", "anything"));
    assert (zg_acl_admin (acl, "alice"));
    assert (zg_acl_allows (acl, "alice", "topics", "publish", "sensors.t1"));
    assert (!zg_acl_admin (acl, "bob"));
    assert (!zg_acl_admin (acl, "carol"));

    //  Unknown and absent identities get nothing; a role is no identity's
    //  unless a user names it, but an identity named like a role gets its grants
    assert (!zg_acl_allows (acl, "mallory", "topics", "subscribe", "sensors.t1"));
    assert (!zg_acl_allows (acl, NULL, "topics", "subscribe", "sensors.t1"));
    assert (!zg_acl_admin (acl, NULL));
    assert (zg_acl_admin (acl, "operators"));
    zg_acl_destroy (&acl);
    zg_acl_destroy (&acl);

    //  Every bad input is refused with a reason that names where
    assert (!s_refusal ("grants\n    x\n        topics\n            publish = a*\n", error));
    assert (strstr (s_refusal ("roles\n    x\n", error), "not users or grants"));
    assert (strstr (s_refusal ("grants\n    x\n        stats = 1\n", error), "grants/x/stats"));
    assert (strstr (s_refusal ("grants\n    x\n        admin = yes\n", error), "not 1, 0"));
    assert (strstr (s_refusal ("grants\n    x\n        topics\n            consume = a\n", error),
                    "grants/x/topics/consume: no such action"));
    assert (strstr (s_refusal ("grants\n    x\n        topics\n            publish = a*b\n", error),
                    "'a*b'"));
    assert (strstr (s_refusal ("grants\n    x\n        rooms\n            join = \" , \"\n", error),
                    "no names given"));
    assert (strstr (s_refusal ("users\n    x\n        role = a\n", error), "users/x/role"));
    assert (strstr (s_refusal ("users\n    x\n        roles =\n", error), "no names given"));

    //  A file: missing, not ZPL, then a good one
    char path [] = "/tmp/zg_acl_test.XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    close (fd);
    FILE *file = fopen (path, "w");
    assert (file);
    fprintf (file, "grants\n    x\n      topics\n");
    fclose (file);
    assert (zg_acl_load (path, error) == NULL);
    assert (strstr (error, "not valid ZPL"));
    file = fopen (path, "w");
    assert (file);
    fprintf (file, "%s", text);
    fclose (file);
    acl = zg_acl_load (path, error);
    assert (acl);
    assert (zg_acl_allows (acl, "bob", "topics", "publish", "alerts"));
    zg_acl_destroy (&acl);
    remove (path);
    assert (zg_acl_load (path, error) == NULL);
    assert (strstr (error, "cannot read"));
    assert (zg_acl_load ("/tmp", error) == NULL);
    assert (strstr (error, "cannot read"));

    printf ("OK\n");
}
