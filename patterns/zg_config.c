/*  =========================================================================
    zg_config - layered configuration: embedded defaults, file, environment, flags

    Keys are "section/key" paths in a two-level ZPL tree. The embedded defaults
    are the schema: every layer may only override keys that exist there, so a
    typo in a file, a variable or a flag is reported instead of ignored.
    =========================================================================
*/

#include "zg_classes.h"

//  The environment, as POSIX names it (unistd.h declares it only for _GNU_SOURCE)
extern char **environ;

struct _zg_config_t {
    zconfig_t *tree;                //  Current values, starting from the defaults
    zhashx_t *descriptions;         //  "section/key" -> one-line description
    char error [1024];              //  Last error, one line
};

//  --------------------------------------------------------------------------
//  Collect each key's description: the comment lines just above it in the
//  embedded file. zconfig drops comments on keys, so we read the text itself.

static void
s_collect_descriptions (zhashx_t *descriptions, const char *text)
{
    char section [64] = "";
    char comment [256] = "";
    const char *line = text;
    while (*line) {
        const char *end = strchr (line, '\n');
        size_t length = end? (size_t) (end - line): strlen (line);
        char buffer [512];
        snprintf (buffer, sizeof buffer, "%.*s", (int) length, line);
        char *word = buffer + strspn (buffer, " ");
        bool indented = word != buffer;
        if (*word == '#') {
            word += strspn (word, "# ");
            size_t used = strlen (comment);
            if (indented)
                snprintf (comment + used, sizeof comment - used, "%s%s", used? " ": "", word);
        }
        else
        if (*word && !indented) {
            snprintf (section, sizeof section, "%.*s", (int) strcspn (word, " #"), word);
            *comment = 0;
        }
        else
        if (*word) {
            char path [160];
            snprintf (path, sizeof path, "%s/%.*s", section, (int) strcspn (word, " ="), word);
            zhashx_insert (descriptions, path, comment);
            *comment = 0;
        }
        line = end? end + 1: line + length;
    }
}

//  --------------------------------------------------------------------------
//  Create a configuration holding the embedded defaults

zg_config_t *
zg_config_new (void)
{
    zg_config_t *self = (zg_config_t *) zmalloc (sizeof (zg_config_t));
    assert (self);
    self->tree = zconfig_str_load (zg_default_config);
    assert (self->tree);
    self->descriptions = zhashx_new ();
    assert (self->descriptions);
    zhashx_set_destructor (self->descriptions, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_duplicator (self->descriptions, (zhashx_duplicator_fn *) strdup);
    s_collect_descriptions (self->descriptions, zg_default_config);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the configuration

void
zg_config_destroy (zg_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zg_config_t *self = *self_p;
        zconfig_destroy (&self->tree);
        zhashx_destroy (&self->descriptions);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Set one key, named "section/key". Returns 0, or -1 if the key is unknown

int
zg_config_set (zg_config_t *self, const char *path, const char *value)
{
    assert (self);
    zconfig_t *item = zconfig_locate (self->tree, path);
    if (!item || zconfig_child (item) || !strchr (path, '/')) {
        snprintf (self->error, sizeof self->error, "unknown key '%s'", path);
        return -1;
    }
    zconfig_set_value (item, "%s", value);
    return 0;
}

//  --------------------------------------------------------------------------
//  Load a ZPL file. zconfig prints why a file is not valid ZPL on stdout
//  (zclock_log); that line becomes the reason, so an error stays one line.

static zconfig_t *
s_zpl_load (const char *filename, char *reason, size_t size)
{
    //  Not zconfig_load: it leaks its file handle on text that is not ZPL
    zchunk_t *text = zchunk_slurp (filename, 0);
    if (!text)
        return NULL;
    fflush (stdout);
    int saved_stdout = dup (STDOUT_FILENO);
    FILE *capture = tmpfile ();
    if (saved_stdout >= 0 && capture)
        dup2 (fileno (capture), STDOUT_FILENO);
    zconfig_t *file = zconfig_chunk_load (text);
    zchunk_destroy (&text);
    fflush (stdout);
    if (saved_stdout >= 0 && capture) {
        dup2 (saved_stdout, STDOUT_FILENO);
        rewind (capture);
        char line [256] = "";
        if (!file && fgets (line, sizeof line, capture)) {
            const char *cause = strstr (line, "(zconfig): ");
            cause = cause? cause + strlen ("(zconfig): "): line;
            snprintf (reason, size, "%.*s", (int) strcspn (cause, "\n"), cause);
        }
    }
    if (capture)
        fclose (capture);
    if (saved_stdout >= 0)
        close (saved_stdout);
    return file;
}

//  --------------------------------------------------------------------------
//  Override keys from a ZPL file. Returns 0, or -1 with zg_config_error set

int
zg_config_load_file (zg_config_t *self, const char *filename)
{
    assert (self);
    if (!zsys_file_exists (filename)) {
        snprintf (self->error, sizeof self->error, "cannot read config file '%s'", filename);
        return -1;
    }
    char reason [256] = "";
    zconfig_t *file = s_zpl_load (filename, reason, sizeof reason);
    if (!file) {
        snprintf (self->error, sizeof self->error, "config file '%s' is not valid ZPL%s%s", filename,
                  *reason? ": ": "", reason);
        return -1;
    }
    int rc = 0;
    zconfig_t *section = zconfig_child (file);
    for (; section && rc == 0; section = zconfig_next (section)) {
        zconfig_t *item = zconfig_child (section);
        if (!item && !zconfig_locate (self->tree, zconfig_name (section))) {
            snprintf (self->error, sizeof self->error, "%s: unknown section '%s'",
                      filename, zconfig_name (section));
            rc = -1;
        }
        for (; item && rc == 0; item = zconfig_next (item)) {
            char path [256];
            snprintf (path, sizeof path, "%s/%s", zconfig_name (section), zconfig_name (item));
            if (zconfig_child (item) || zg_config_set (self, path, zconfig_value (item))) {
                snprintf (self->error, sizeof self->error, "%s: unknown key '%s'", filename, path);
                rc = -1;
            }
        }
    }
    zconfig_destroy (&file);
    return rc;
}

//  --------------------------------------------------------------------------
//  Name of the environment variable for a key: ZGATE_TOPICS_MAX_TOPIC_SIZE

static void
s_env_name (char *name, size_t size, const char *section, const char *key)
{
    snprintf (name, size, "ZGATE_%s_%s", section, key);
    for (char *c = name; *c; c++)
        *c = *c == '-'? '_': (char) toupper ((unsigned char) *c);
}

//  --------------------------------------------------------------------------
//  The section a ZGATE_<SECTION>_... variable name falls under, or NULL

static zconfig_t *
s_section_for_env (zg_config_t *self, const char *name, size_t name_length)
{
    for (zconfig_t *section = zconfig_child (self->tree); section; section = zconfig_next (section)) {
        char prefix [128];
        s_env_name (prefix, sizeof prefix, zconfig_name (section), "");
        size_t prefix_length = strlen (prefix);
        if (prefix_length < name_length && memcmp (name, prefix, prefix_length) == 0)
            return section;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Override keys from ZGATE_<SECTION>_<KEY> environment variables. Variables
//  of no known section (ZGATE_CONFIG, a test's ZGATE_BIN) are not ours.

int
zg_config_load_env (zg_config_t *self)
{
    assert (self);
    for (char **variable = environ; *variable; variable++) {
        const char *equals = strchr (*variable, '=');
        size_t name_length = equals? (size_t) (equals - *variable): strlen (*variable);
        zconfig_t *section = s_section_for_env (self, *variable, name_length);
        if (!section || !equals)
            continue;
        zconfig_t *item = zconfig_child (section);
        for (; item; item = zconfig_next (item)) {
            char name [256];
            s_env_name (name, sizeof name, zconfig_name (section), zconfig_name (item));
            if (strlen (name) == name_length && memcmp (name, *variable, name_length) == 0)
                break;
        }
        if (!item) {
            snprintf (self->error, sizeof self->error,
                      "unknown environment variable '%.*s' (see --help)", (int) name_length, *variable);
            return -1;
        }
        zconfig_set_value (item, "%s", equals + 1);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Find the key that a flag name (without "--") stands for

static zconfig_t *
s_item_for_flag (zg_config_t *self, const char *flag, size_t flag_length)
{
    for (zconfig_t *section = zconfig_child (self->tree); section; section = zconfig_next (section)) {
        size_t section_length = strlen (zconfig_name (section));
        if (section_length + 1 < flag_length
        &&  memcmp (flag, zconfig_name (section), section_length) == 0
        &&  flag [section_length] == '-')
            for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
                const char *key = flag + section_length + 1;
                size_t key_length = flag_length - section_length - 1;
                if (strlen (zconfig_name (item)) == key_length
                &&  memcmp (key, zconfig_name (item), key_length) == 0)
                    return item;
            }
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Override keys from --<section>-<key> VALUE or --<section>-<key>=VALUE flags

int
zg_config_load_args (zg_config_t *self, int argc, char **argv, int first)
{
    assert (self);
    for (int index = first; index < argc; index++) {
        const char *arg = argv [index];
        if (strncmp (arg, "--", 2) != 0) {
            snprintf (self->error, sizeof self->error, "unexpected argument '%s'", arg);
            return -1;
        }
        const char *flag = arg + 2;
        const char *equals = strchr (flag, '=');
        size_t flag_length = equals? (size_t) (equals - flag): strlen (flag);
        zconfig_t *item = s_item_for_flag (self, flag, flag_length);
        if (!item) {
            snprintf (self->error, sizeof self->error, "unknown flag '--%.*s' (see --help)",
                      (int) flag_length, flag);
            return -1;
        }
        const char *value = equals? equals + 1: index + 1 < argc? argv [++index]: NULL;
        if (!value) {
            snprintf (self->error, sizeof self->error, "flag '%s' needs a value", arg);
            return -1;
        }
        zconfig_set_value (item, "%s", value);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Override keys from zgate's command line and environment, in layers

int
zg_config_load (zg_config_t *self, int argc, char **argv)
{
    assert (self);
    const char *filename = getenv ("ZGATE_CONFIG");
    char **flags = (char **) zmalloc (sizeof (char *) * (size_t) (argc + 1));
    int flag_count = 0;
    int rc = 0;
    for (int index = 1; index < argc && rc == 0; index++) {
        const char *arg = argv [index];
        if (strncmp (arg, "--config=", 9) == 0)
            filename = arg + 9;
        else
        if (streq (arg, "-c") || streq (arg, "--config")) {
            if (index + 1 < argc)
                filename = argv [++index];
            else {
                snprintf (self->error, sizeof self->error, "option '%s' needs a FILE", arg);
                rc = -1;
            }
        }
        else
            flags [flag_count++] = argv [index];
    }
    if (rc == 0)
        rc = (filename && zg_config_load_file (self, filename))
          || zg_config_load_env (self)
          || zg_config_load_args (self, flag_count, flags, 0)? -1: 0;
    free (flags);
    return rc;
}

//  --------------------------------------------------------------------------
//  Value of a key, named "section/key", or NULL if the key is unknown

const char *
zg_config_get (zg_config_t *self, const char *path)
{
    assert (self);
    zconfig_t *item = zconfig_locate (self->tree, path);
    return item? zconfig_value (item): NULL;
}

//  --------------------------------------------------------------------------
//  Value of a key as an integer; asserts that the key exists

int64_t
zg_config_get_int (zg_config_t *self, const char *path)
{
    const char *value = zg_config_get (self, path);
    assert (value);
    return strtoll (value, NULL, 10);
}

//  --------------------------------------------------------------------------
//  First section (iterate with zconfig_next, its keys with zconfig_child)

zconfig_t *
zg_config_sections (zg_config_t *self)
{
    assert (self);
    return zconfig_child (self->tree);
}

//  --------------------------------------------------------------------------
//  First key of a section (iterate with zconfig_next), or NULL

zconfig_t *
zg_config_section (zg_config_t *self, const char *section)
{
    assert (self);
    zconfig_t *node = zconfig_locate (self->tree, section);
    return node? zconfig_child (node): NULL;
}

//  --------------------------------------------------------------------------
//  The last error, as one line

const char *
zg_config_error (zg_config_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  Print one line per flag, with its default and description

void
zg_config_print_flags (zg_config_t *self, FILE *stream)
{
    assert (self);
    for (zconfig_t *section = zconfig_child (self->tree); section; section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            char flag [128], path [128];
            snprintf (flag, sizeof flag, "--%s-%s", zconfig_name (section), zconfig_name (item));
            snprintf (path, sizeof path, "%s/%s", zconfig_name (section), zconfig_name (item));
            const char *description = (const char *) zhashx_lookup (self->descriptions, path);
            fprintf (stream, "  %-34s %s [%s]\n", flag, description? description: "", zconfig_value (item));
        }
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_config_test (bool verbose)
{
    printf (" * zg_config: ");
    //  @selftest
    zg_config_t *config = zg_config_new ();
    assert (streq (zg_config_get (config, "topics/subscribers"), "tcp://127.0.0.1:5560"));
    assert (zg_config_get (config, "topics/nonsense") == NULL);

    //  A file overrides known keys and rejects unknown ones
    char *filename = "zg_config_test.cfg";
    FILE *file = fopen (filename, "w");
    assert (file);
    fprintf (file, "topics\n    max-topics = 7\n");
    fclose (file);
    assert (zg_config_load_file (config, filename) == 0);
    assert (zg_config_get_int (config, "topics/max-topics") == 7);
    file = fopen (filename, "w");
    assert (file);
    fprintf (file, "topics\n    max-topicz = 7\n");
    fclose (file);
    assert (zg_config_load_file (config, filename) == -1);
    assert (strstr (zg_config_error (config), "unknown key 'topics/max-topicz'"));
    remove (filename);
    assert (zg_config_load_file (config, "/nonexistent/zgate.cfg") == -1);
    //  A file that is not ZPL: zconfig's reason joins our one line
    file = fopen (filename, "w");
    assert (file);
    fprintf (file, "topics\n  max-topics = 7\n");
    fclose (file);
    assert (zg_config_load_file (config, filename) == -1);
    assert (streq (zg_config_error (config),
                   "config file 'zg_config_test.cfg' is not valid ZPL: (2) indent 4 spaces at once"));
    remove (filename);

    //  The environment overrides the file, and flags override both
    setenv ("ZGATE_TOPICS_MAX_TOPIC_SIZE", "99", 1);
    setenv ("ZGATE_SOMETHING_ELSE", "not ours", 1);
    assert (zg_config_load_env (config) == 0);
    unsetenv ("ZGATE_TOPICS_MAX_TOPIC_SIZE");
    unsetenv ("ZGATE_SOMETHING_ELSE");
    assert (zg_config_get_int (config, "topics/max-topic-size") == 99);
    //  A misspelled key of a known section is reported, not ignored
    setenv ("ZGATE_TOPICS_MAX_TOPICZ", "5", 1);
    assert (zg_config_load_env (config) == -1);
    unsetenv ("ZGATE_TOPICS_MAX_TOPICZ");
    assert (streq (zg_config_error (config), "unknown environment variable 'ZGATE_TOPICS_MAX_TOPICZ' (see --help)"));
    char *args [] = { "zgate", "--topics-max-topic-size", "12", "--server-log-level=debug" };
    assert (zg_config_load_args (config, 4, args, 1) == 0);
    assert (zg_config_get_int (config, "topics/max-topic-size") == 12);
    assert (streq (zg_config_get (config, "server/log-level"), "debug"));
    char *bad_flag [] = { "zgate", "--topics-nope", "1" };
    assert (zg_config_load_args (config, 3, bad_flag, 1) == -1);
    char *missing_value [] = { "zgate", "--topics-max-topics" };
    assert (zg_config_load_args (config, 2, missing_value, 1) == -1);
    assert (zg_config_set (config, "topics", "x") == -1);

    //  zgate's command line: --config FILE first, then flags over the file
    file = fopen (filename, "w");
    assert (file);
    fprintf (file, "topics\n    max-topics = 8\n    max-topic-size = 9\n");
    fclose (file);
    char *command [] = { "zgate", "--config", filename, "--topics-max-topics=5" };
    assert (zg_config_load (config, 4, command) == 0);
    assert (zg_config_get_int (config, "topics/max-topics") == 5);
    assert (zg_config_get_int (config, "topics/max-topic-size") == 9);
    remove (filename);
    assert (zg_config_load (config, 3, command) == -1);
    assert (strstr (zg_config_error (config), "cannot read config file"));

    //  Every key has a description for --help
    for (zconfig_t *section = zconfig_child (config->tree); section; section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            char path [128];
            snprintf (path, sizeof path, "%s/%s", zconfig_name (section), zconfig_name (item));
            const char *description = (const char *) zhashx_lookup (config->descriptions, path);
            if (!description || !*description)
                zsys_error ("config key %s has no description", path);
            assert (description && *description);
        }
    if (verbose)
        zg_config_print_flags (config, stdout);
    zg_config_destroy (&config);
    zg_config_destroy (&config);
    //  @end
    printf ("OK\n");
}
