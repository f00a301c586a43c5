/*  =========================================================================
    zg_config - layered configuration: embedded defaults, file, environment, flags

    The embedded defaults (config/zgate.cfg, compiled in) define which keys exist:
    a file, a ZGATE_* variable or a --flag naming any other key is an error.
    =========================================================================
*/

#ifndef ZG_CONFIG_H_INCLUDED
#define ZG_CONFIG_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_config_t zg_config_t;

//  The text of config/zgate.cfg as it was at build time
extern const char zg_default_config [];

//  Create a configuration holding the embedded defaults
zg_config_t *
    zg_config_new (void);

//  Destroy the configuration
void
    zg_config_destroy (zg_config_t **self_p);

//  Override keys from a ZPL file. Returns 0, or -1 with zg_config_error set
int
    zg_config_load_file (zg_config_t *self, const char *filename);

//  Override keys from ZGATE_<SECTION>_<KEY> environment variables. A variable
//  that names a known section but no key of it is a typo: returns -1 with
//  zg_config_error set; otherwise 0
int
    zg_config_load_env (zg_config_t *self);

//  Override keys from --<section>-<key> VALUE or --<section>-<key>=VALUE flags
//  in argv [first .. argc-1]. Returns 0, or -1 with zg_config_error set
int
    zg_config_load_args (zg_config_t *self, int argc, char **argv, int first);

//  Override keys from zgate's command line and environment, in layers: the
//  ZPL file of -c FILE, --config FILE or --config=FILE (anywhere in argv) or
//  else of $ZGATE_CONFIG, then ZGATE_* variables, then the --<section>-<key>
//  flags, in any order. Returns 0, or -1 with zg_config_error set
int
    zg_config_load (zg_config_t *self, int argc, char **argv);

//  Set one key, named "section/key". Returns 0, or -1 if the key is unknown
int
    zg_config_set (zg_config_t *self, const char *path, const char *value);

//  Value of a key, named "section/key", or NULL if the key is unknown
const char *
    zg_config_get (zg_config_t *self, const char *path);

//  Value of a key as an integer; asserts that the key exists
int64_t
    zg_config_get_int (zg_config_t *self, const char *path);

//  First section (iterate with zconfig_next, its keys with zconfig_child)
zconfig_t *
    zg_config_sections (zg_config_t *self);

//  First key of a section (iterate with zconfig_next), or NULL
zconfig_t *
    zg_config_section (zg_config_t *self, const char *section);

//  The last error, as one line
const char *
    zg_config_error (zg_config_t *self);

//  Print one line per flag, with its default and description
void
    zg_config_print_flags (zg_config_t *self, FILE *stream);

//  Self test of this class
void
    zg_config_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
