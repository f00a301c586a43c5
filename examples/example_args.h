/*  =========================================================================
    example_args - how every example answers --help and a bad command line,
    before it reads its positional arguments

        example_args (argc, argv, 2, "[room [endpoint]]",
                      "Prints a room's pending messages every second.");

    --help or -h anywhere prints the usage and the description to stdout and
    exits 0; an unknown option (a word starting with '-' that is not a
    negative number) or more than max_args arguments prints the usage to
    stderr and exits 2. Header-only, so that the examples built against an
    installed prefix (tests/install) need no extra library.
    =========================================================================
*/

#ifndef EXAMPLE_ARGS_H_INCLUDED
#define EXAMPLE_ARGS_H_INCLUDED

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void
example_args (int argc, char **argv, int max_args, const char *usage, const char *description)
{
    const char *program = strrchr (argv [0], '/')? strrchr (argv [0], '/') + 1: argv [0];
    const char *bad = NULL;
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            printf ("Usage: %s %s\n\n%s\n", program, usage, description);
            exit (0);
        }
        if (arg [0] == '-' && !isdigit ((unsigned char) arg [1]) && !bad)
            bad = arg;
    }
    if (bad || argc - 1 > max_args) {
        if (bad)
            fprintf (stderr, "%s: unknown option %s\n", program, bad);
        else
            fprintf (stderr, "%s: at most %d argument%s\n", program, max_args, max_args == 1? "": "s");
        fprintf (stderr, "Usage: %s %s (--help for more)\n", program, usage);
        exit (2);
    }
}

#endif
