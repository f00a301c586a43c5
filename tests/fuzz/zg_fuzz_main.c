/*  =========================================================================
    zg_fuzz_main - the replay driver every fuzz target links when it is not
    built for libFuzzer (a CTest, with gcc or clang, sanitized or not)

    It runs LLVMFuzzerTestOneInput on every file of the target's corpus and
    regression directories, then on deterministic mutations of them (bit
    flips, insertions, deletions, dictionary tokens, splices, cuts) for a
    time or a number of inputs, from a fixed seed, so a failure replays:

        zg_fuzz_<name> [--seconds N] [--runs N] [--seed N] [--dict FILE]
                       [DIR|FILE ...]

    A target is only LLVMFuzzerTestOneInput, which asserts its invariants:
    libFuzzer links the same file without this driver.
    =========================================================================
*/

#include <czmq.h>

int
    LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Largest input the driver builds; the targets bound their own limits
#define FUZZ_MAX_INPUT 8192
//  Mutants kept as further starting points, past the files read
#define FUZZ_MAX_KEPT 1024

//  The input under test, written out if it crashes the target
static const byte *s_input;
static size_t s_input_size;

//  On a failed assertion (SIGABRT), save the input as
//  crash-input in the working directory so it can be replayed and kept
//  under tests/fuzz/regressions/; only async-signal-safe calls here
static void
s_save_input (int signal_number)
{
    int fd = open ("crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t written = write (fd, s_input, s_input_size);
        close (fd);
        const char *note = written == (ssize_t) s_input_size? "the input is in ./crash-input\n":
                                                               "could not write ./crash-input\n";
        written = write (STDERR_FILENO, note, strlen (note));
        (void) written;
    }
    signal (signal_number, SIG_DFL);
    raise (signal_number);
}

//  Run the target on one input
static void
s_run (const byte *data, size_t size)
{
    s_input = data;
    s_input_size = size;
    LLVMFuzzerTestOneInput (data, size);
}

//  Deterministic generator (xorshift), so a failure can be replayed with --seed
static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

//  One libFuzzer dictionary line, name="value" or "value" with \\, \" and
//  \xNN escapes, as a chunk; NULL for comments, blank or malformed lines
static zchunk_t *
s_dict_token (const char *line)
{
    const char *quote = strchr (line, '"');
    if (*line == '#' || !quote)
        return NULL;
    zchunk_t *token = zchunk_new (NULL, strlen (line));
    for (const char *c = quote + 1; *c && *c != '"'; c++) {
        byte value = (byte) *c;
        if (*c == '\\' && c [1] == 'x' && isxdigit ((byte) c [2]) && isxdigit ((byte) c [3])) {
            char hex [3] = { c [2], c [3], 0 };
            value = (byte) strtol (hex, NULL, 16);
            c += 3;
        }
        else
        if (*c == '\\' && c [1])
            value = (byte) *++c;
        zchunk_extend (token, &value, 1);
    }
    return token;
}

//  Read a dictionary file into tokens
static void
s_load_dict (zlistx_t *tokens, const char *filename)
{
    FILE *file = fopen (filename, "r");
    if (!file) {
        fprintf (stderr, "cannot read dictionary %s\n", filename);
        exit (2);
    }
    char line [1024];
    while (fgets (line, sizeof line, file)) {
        zchunk_t *token = s_dict_token (line);
        if (token && zchunk_size (token))
            zlistx_add_end (tokens, token);
        else
            zchunk_destroy (&token);
    }
    fclose (file);
}

static int
s_compare_names (const void *first, const void *second)
{
    return strcmp (*(char * const *) first, *(char * const *) second);
}

//  Read a file, or each file of a directory in name order, into inputs;
//  a directory that does not exist is an empty one (no regressions yet)
static void
s_load_inputs (zlistx_t *inputs, const char *path)
{
    zfile_t *file = zfile_new (NULL, path);
    if (zfile_is_regular (file)) {
        if (zfile_input (file) == 0) {
            zchunk_t *chunk = zfile_read (file, FUZZ_MAX_INPUT, 0);
            zlistx_add_end (inputs, chunk? chunk: zchunk_new (NULL, 0));
        }
    }
    else {
        zdir_t *dir = zdir_new (path, NULL);
        zfile_t **files = dir? zdir_flatten (dir): NULL;
        size_t count = 0;
        while (files && files [count])
            count++;
        char **names = (char **) calloc (count + 1, sizeof (char *));
        for (size_t index = 0; index < count; index++)
            names [index] = strdup (zfile_filename (files [index], NULL));
        qsort (names, count, sizeof (char *), s_compare_names);
        for (size_t index = 0; index < count; index++) {
            s_load_inputs (inputs, names [index]);
            free (names [index]);
        }
        free (names);
        zdir_flatten_free (&files);
        zdir_destroy (&dir);
    }
    zfile_destroy (&file);
}

//  Mutate buffer in place: flip, insert, delete, duplicate, dictionary
//  token, splice from another input, or cut
static size_t
s_mutate (byte *buffer, size_t size, zlistx_t *inputs, zlistx_t *tokens, uint64_t *state)
{
    int rounds = 1 + (int) (s_random (state) % 4);
    for (int round = 0; round < rounds; round++) {
        size_t at = size? (size_t) (s_random (state) % size): 0;
        size_t length = 1 + (size_t) (s_random (state) % 16);
        const byte *insert = NULL;
        switch (s_random (state) % 7) {
            case 0:
                if (size)
                    buffer [at] ^= (byte) (1 << (s_random (state) % 8));
                break;
            case 1:
                if (size)
                    buffer [at] = (byte) s_random (state);
                break;
            case 2:
                if (at + length <= size) {
                    memmove (buffer + at, buffer + at + length, size - at - length);
                    size -= length;
                }
                break;
            case 3:
                if (at + length <= size)
                    insert = buffer + at;
                break;
            case 4:
                if (zlistx_size (tokens)) {
                    zchunk_t *token = (zchunk_t *) zlistx_first (tokens);
                    for (size_t skip = (size_t) (s_random (state) % zlistx_size (tokens)); skip; skip--)
                        token = (zchunk_t *) zlistx_next (tokens);
                    insert = zchunk_data (token);
                    length = zchunk_size (token);
                }
                break;
            case 5: {
                zchunk_t *other = (zchunk_t *) zlistx_first (inputs);
                for (size_t skip = (size_t) (s_random (state) % zlistx_size (inputs)); skip; skip--)
                    other = (zchunk_t *) zlistx_next (inputs);
                size_t from = zchunk_size (other)? (size_t) (s_random (state) % zchunk_size (other)): 0;
                if (from + length <= zchunk_size (other))
                    insert = zchunk_data (other) + from;
                break;
            }
            default:
                if (size > 1)
                    size = 1 + (size_t) (s_random (state) % size);
                break;
        }
        if (insert && size + length <= FUZZ_MAX_INPUT) {
            //  The inserted bytes may lie in buffer itself: copy them first
            byte copy [FUZZ_MAX_INPUT];
            memcpy (copy, insert, length);
            memmove (buffer + at + length, buffer + at, size - at);
            memcpy (buffer + at, copy, length);
            size += length;
        }
    }
    return size;
}

int
main (int argc, char **argv)
{
    int64_t seconds = 3;
    int64_t runs = -1;              //  Mutants to run, or -1 for seconds' worth
    uint64_t seed = 0x5eed5eed;
    zlistx_t *inputs = zlistx_new ();
    zlistx_set_destructor (inputs, (zlistx_destructor_fn *) zchunk_destroy);
    zlistx_t *tokens = zlistx_new ();
    zlistx_set_destructor (tokens, (zlistx_destructor_fn *) zchunk_destroy);
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        const char *value = index + 1 < argc? argv [index + 1]: NULL;
        if (streq (arg, "--seconds") && value)
            seconds = atoll (argv [++index]);
        else
        if (streq (arg, "--runs") && value)
            runs = atoll (argv [++index]);
        else
        if (streq (arg, "--seed") && value)
            seed = strtoull (argv [++index], NULL, 10);
        else
        if (streq (arg, "--dict") && value)
            s_load_dict (tokens, argv [++index]);
        else
        if (strncmp (arg, "--", 2) == 0) {
            fprintf (stderr, "usage: %s [--seconds N] [--runs N] [--seed N] [--dict FILE] [DIR|FILE ...]\n",
                     argv [0]);
            return 2;
        }
        else
            s_load_inputs (inputs, arg);
    }
    //  Failed assertions only: sanitizers keep their own handlers and
    //  reports, and the seed replays what they caught
    signal (SIGABRT, s_save_input);
    //  Every file as it is: the seeds and the regressions must pass
    size_t files = zlistx_size (inputs);
    for (zchunk_t *chunk = (zchunk_t *) zlistx_first (inputs); chunk; chunk = (zchunk_t *) zlistx_next (inputs))
        s_run (zchunk_data (chunk), zchunk_size (chunk));
    if (files == 0)
        zlistx_add_end (inputs, zchunk_new (NULL, 0));
    //  Then mutants, for the time or the count given
    uint64_t state = seed? seed: 1;
    byte buffer [FUZZ_MAX_INPUT];
    int64_t deadline = zclock_mono () + seconds * 1000;
    int64_t done = 0;
    while (runs >= 0? done < runs: zclock_mono () < deadline) {
        zchunk_t *chunk = (zchunk_t *) zlistx_first (inputs);
        for (size_t skip = (size_t) (s_random (&state) % zlistx_size (inputs)); skip; skip--)
            chunk = (zchunk_t *) zlistx_next (inputs);
        size_t size = zchunk_size (chunk) < FUZZ_MAX_INPUT? zchunk_size (chunk): FUZZ_MAX_INPUT;
        memcpy (buffer, zchunk_data (chunk), size);
        size = s_mutate (buffer, size, inputs, tokens, &state);
        s_run (buffer, size);
        done++;
        //  Some mutants become starting points: mutations stack up
        if (zlistx_size (inputs) < files + FUZZ_MAX_KEPT && s_random (&state) % 16 == 0)
            zlistx_add_end (inputs, zchunk_new (buffer, size));
    }
    printf ("%s: %zu files, %" PRId64 " mutants, seed %" PRIu64 ", %zu dictionary tokens: OK\n",
            argv [0], files, done, seed, zlistx_size (tokens));
    zlistx_destroy (&tokens);
    zlistx_destroy (&inputs);
    return 0;
}
