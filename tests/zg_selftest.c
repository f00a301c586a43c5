/*  =========================================================================
    zg_selftest - runs the self tests of zgate's classes

    zg_selftest [--verbose] [--list] [--test NAME]
    =========================================================================
*/

#include "zgate.h"
#include "zg_client.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} s_test_t;

static const s_test_t s_tests [] = {
    { "zg_config", zg_config_test },
    { "zg_actor", zg_actor_test },
    { "zg_topics", zg_topics_test },
    { "zg_client", zg_client_test },
    { NULL, NULL }
};

int
main (int argc, char **argv)
{
    bool verbose = false;
    const char *only = NULL;
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--verbose") || streq (argv [index], "-v"))
            verbose = true;
        else
        if (streq (argv [index], "--list")) {
            for (const s_test_t *test = s_tests; test->name; test++)
                puts (test->name);
            return 0;
        }
        else
        if (streq (argv [index], "--test") && index + 1 < argc)
            only = argv [++index];
        else {
            fprintf (stderr, "usage: zg_selftest [--verbose] [--list] [--test NAME]\n");
            return 2;
        }
    }
    int ran = 0;
    for (const s_test_t *test = s_tests; test->name; test++)
        if (!only || streq (only, test->name)) {
            test->test (verbose);
            ran++;
        }
    if (ran == 0) {
        fprintf (stderr, "zg_selftest: no test named '%s'\n", only);
        return 2;
    }
    zsys_shutdown ();
    return 0;
}
