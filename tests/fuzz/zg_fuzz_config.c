/*  =========================================================================
    zg_fuzz_config - fuzz target for zgate's configuration layers
    (zg_config_load, as zgate's main calls it)

    Each input is NUL-separated parts: a ZPL file's text, then each further
    part is a ZGATE_NAME=VALUE environment variable if it looks like one,
    else a command-line argument after "zgate --config FILE". Whatever the
    outcome, the keys stay those of the embedded defaults (no layer adds or
    drops one); a failure says why; a success leaves each flag given as
    --section-key=VALUE (the last of its name) with its value. Runs as
    zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"

//  Arguments and variables per input at most
#define FUZZ_MAX_PARTS 32

static char *s_filename;
static char *s_defaults;            //  Flag names of the defaults

//  A configuration as --help prints it, after a newline so that every
//  flag's line starts "\n  --" (the caller frees it)
static char *
s_flags (zg_config_t *config)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&buffer, &size);
    assert (stream);
    fputc ('\n', stream);
    zg_config_print_flags (config, stream);
    fclose (stream);
    //  A copy: gcc -O3 takes what open_memstream wrote through &buffer for a
    //  pointer to buffer itself, and refuses its use after the return
    char *flags = strdup (buffer);
    free (buffer);
    return flags;
}

//  The keys of a configuration as flag names, one a line (the caller frees
//  it): a walk of its tree, as --help walks it, without printing each
//  description (and with no strstr over the text, which is quadratic under
//  ASan's checks)
static char *
s_names (zg_config_t *config)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&buffer, &size);
    assert (stream);
    for (zconfig_t *section = zg_config_sections (config); section; section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item))
            fprintf (stream, "%s-%s\n", zconfig_name (section), zconfig_name (item));
    fclose (stream);
    char *names = strdup (buffer);
    free (buffer);
    return names;
}

//  After a success, a flag's value is the last one given for its name
static void
s_check_flags (zg_config_t *config, int argc, char **argv)
{
    char *flags = s_flags (config);
    for (int index = 3; index < argc; index++) {
        //  Another config file (-c FILE, --config FILE or =FILE) is not a flag
        if (streq (argv [index], "-c") || streq (argv [index], "--config")) {
            index++;
            continue;
        }
        if (strncmp (argv [index], "--config=", 9) == 0)
            continue;
        char *name = argv [index] + 2;
        size_t length = strcspn (name, "=");
        const char *value = name [length]? name + length + 1: argv [++index];
        bool last = true;
        //  A later flag of the same name; a value may be shorter than "--"
        for (int later = index + 1; later < argc && last; later++)
            last = !(strncmp (argv [later], "--", 2) == 0 && strncmp (argv [later] + 2, name, length) == 0
                     && (argv [later] [length + 2] == '=' || argv [later] [length + 2] == 0));
        if (!last)
            continue;
        char *line = zsys_sprintf ("\n  --%.*s ", (int) length, name);
        char *expected = zsys_sprintf ("[%s]\n", value);
        const char *found = strstr (flags, line);
        const char *end = found? strstr (found + 1, "\n  --"): NULL;
        assert (found);
        const char *at = strstr (found, expected);
        assert (at && (!end || at < end));
        zstr_free (&line);
        zstr_free (&expected);
    }
    free (flags);
}

//  The file goes when the process does
static void
s_remove_file (void)
{
    remove (s_filename);
    zstr_free (&s_filename);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_filename) {
        s_filename = zsys_sprintf ("/tmp/zg_fuzz_config.%d.cfg", getpid ());
        atexit (s_remove_file);
        zg_config_t *config = zg_config_new ();
        s_defaults = s_names (config);
        zg_config_destroy (&config);
    }
    //  The parts, each NUL-terminated
    char *text = (char *) malloc (size + 1);
    assert (text);
    memcpy (text, data, size);
    text [size] = 0;
    char *argv [FUZZ_MAX_PARTS + 3] = { "zgate", "--config", s_filename };
    int argc = 3;
    char *variables [FUZZ_MAX_PARTS];
    int variable_count = 0;
    size_t file_size = strlen (text);
    for (char *part = text + file_size + 1; part < text + size + 1 && argc + variable_count < FUZZ_MAX_PARTS;
         part += strlen (part) + 1) {
        //  Arguments and variables end at a newline, so --help prints a
        //  line per flag, which the checks read
        part [strcspn (part, "\n")] = 0;
        char *equals = strchr (part, '=');
        if (strncmp (part, "ZGATE_", 6) == 0 && equals && equals > part + 6
        &&  strspn (part, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == (size_t) (equals - part)) {
            *equals = 0;
            setenv (part, equals + 1, 1);
            variables [variable_count++] = part;
        }
        else
            argv [argc++] = part;
    }
    FILE *file = fopen (s_filename, "w");
    assert (file);
    fwrite (text, 1, file_size, file);
    fclose (file);

    zg_config_t *config = zg_config_new ();
    int rc = zg_config_load (config, argc, argv);
    if (rc)
        assert (rc == -1 && *zg_config_error (config));
    else
        s_check_flags (config, argc, argv);
    char *names = s_names (config);
    assert (streq (names, s_defaults));
    free (names);
    zg_config_destroy (&config);
    for (int index = 0; index < variable_count; index++)
        unsetenv (variables [index]);
    free (text);
    return 0;
}
