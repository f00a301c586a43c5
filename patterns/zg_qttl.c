/*  =========================================================================
    zg_qttl - each queue's default time to live

    The rules are few (an operator writes them), so a lookup tries each in
    order; the actor asks once per task that brings no ttl of its own.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qttl.h"

typedef struct {
    char *pattern;                  //  A name, or a prefix without its '*'
    bool prefix;                    //  Matches every name starting with pattern
    int64_t ttl;                    //  Ms, 0 for no limit
} s_rule_t;

struct _zg_qttl_t {
    zlistx_t *rules;                //  s_rule_t, in the spec's order
};

static void
s_rule_destroy (s_rule_t **rule_p)
{
    free ((*rule_p)->pattern);
    free (*rule_p);
    *rule_p = NULL;
}

//  --------------------------------------------------------------------------
//  Create a set with no rules

zg_qttl_t *
zg_qttl_new (void)
{
    zg_qttl_t *self = (zg_qttl_t *) zmalloc (sizeof (zg_qttl_t));
    assert (self);
    self->rules = zlistx_new ();
    zlistx_set_destructor (self->rules, (zlistx_destructor_fn *) s_rule_destroy);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_qttl_destroy (zg_qttl_t **self_p)
{
    assert (self_p);
    zg_qttl_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->rules);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  A ttl with its unit ("90s"); -1 if malformed

static int64_t
s_parse_ttl (const char *text)
{
    const struct { const char *unit; int64_t ms; } units [] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }
    };
    char *end = NULL;
    errno = 0;
    long long value = isdigit ((byte) *text)? strtoll (text, &end, 10): -1;
    if (value < 0 || errno)
        return -1;
    for (size_t index = 0; index < sizeof units / sizeof units [0]; index++)
        if (streq (end, units [index].unit))
            return value <= INT32_MAX / units [index].ms? value * units [index].ms: -1;
    return -1;
}

//  --------------------------------------------------------------------------
//  Parse one "pattern ttl" entry into rules; -1 with a reason

static int
s_parse_rule (char *entry, int64_t max_ttl, zlistx_t *rules, char *error, size_t size)
{
    char *pattern = strtok (entry, " \t");
    char *ttl_text = pattern? strtok (NULL, " \t"): NULL;
    if (!pattern)
        return 0;                   //  An empty entry, as after a final ';'
    int64_t ttl = ttl_text && !strtok (NULL, " \t")? s_parse_ttl (ttl_text): -1;
    if (ttl < 0 || ttl > max_ttl) {
        snprintf (error, size, "task-ttls: '%s' needs one ttl from 0 to max-task-ttl (%" PRId64 " ms), as 500ms, "
                  "30s, 5m or 1h", pattern, max_ttl);
        return -1;
    }
    size_t length = strlen (pattern);
    s_rule_t *rule = (s_rule_t *) zmalloc (sizeof (s_rule_t));
    assert (rule);
    rule->prefix = pattern [length - 1] == '*';
    rule->pattern = strndup (pattern, rule->prefix? length - 1: length);
    rule->ttl = ttl;
    zlistx_add_end (rules, rule);
    return 0;
}

//  --------------------------------------------------------------------------
//  Replace the rules

int
zg_qttl_set (zg_qttl_t *self, const char *spec, int64_t max_ttl, char *error, size_t size)
{
    assert (self && spec);
    zlistx_t *rules = zlistx_new ();
    zlistx_set_destructor (rules, (zlistx_destructor_fn *) s_rule_destroy);
    char *copy = strdup (spec);
    char *rest = copy;
    char *entry;
    int rc = 0;
    while (rc == 0 && (entry = strsep (&rest, ";")))
        rc = s_parse_rule (entry, max_ttl, rules, error, size);
    free (copy);
    if (rc == 0) {
        zlistx_destroy (&self->rules);
        self->rules = rules;
    }
    else
        zlistx_destroy (&rules);
    return rc;
}

//  --------------------------------------------------------------------------
//  The ttl of the first rule that matches

int64_t
zg_qttl_lookup (zg_qttl_t *self, const char *name, int64_t fallback)
{
    assert (self && name);
    for (s_rule_t *rule = (s_rule_t *) zlistx_first (self->rules); rule;
         rule = (s_rule_t *) zlistx_next (self->rules))
        if (rule->prefix? strncmp (name, rule->pattern, strlen (rule->pattern)) == 0: streq (name, rule->pattern))
            return rule->ttl;
    return fallback;
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_qttl_test (bool verbose)
{
    printf (" * zg_qttl: ");
    zg_qttl_t *ttls = zg_qttl_new ();
    char error [256];
    assert (zg_qttl_lookup (ttls, "jobs", 7) == 7);
    assert (zg_qttl_set (ttls, " jobs.* 30s ; reports 0; jobs.slow 1h;*  250ms;", 86400000, error, sizeof error)
            == 0);
    assert (zg_qttl_lookup (ttls, "jobs.resize", 7) == 30000);
    assert (zg_qttl_lookup (ttls, "jobs.slow", 7) == 30000);     //  The first rule that matches
    assert (zg_qttl_lookup (ttls, "reports", 7) == 0 && zg_qttl_lookup (ttls, "other", 7) == 250);
    //  Refused, nothing changes
    const char *bad [] = { "jobs", "jobs 5x", "jobs -1", "jobs 1 2", "jobs 2d", "jobs 25h", "jobs 99999999999h",
                           NULL };
    for (int index = 0; bad [index]; index++) {
        assert (zg_qttl_set (ttls, bad [index], 86400000, error, sizeof error) == -1);
        if (verbose)
            printf ("\n   %s: %s", bad [index], error);
    }
    assert (zg_qttl_lookup (ttls, "jobs.resize", 7) == 30000);
    assert (zg_qttl_set (ttls, "", 86400000, error, sizeof error) == 0);
    assert (zg_qttl_lookup (ttls, "jobs.resize", 7) == 7);
    zg_qttl_destroy (&ttls);
    zg_qttl_destroy (&ttls);
    printf ("OK\n");
}
