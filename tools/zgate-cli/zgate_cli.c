/*  =========================================================================
    zgate-cli - the command line client of zgate: publish and subscribe,
    send, request, call and consume tasks, use rooms, read the stats

        zgate-cli [OPTIONS] COMMAND [ARGS]       (zgate-cli --help lists them)

    Options may come anywhere on the line, as --name VALUE or --name=VALUE.
    Exit code 0 on success, 1 when zgate answers with an error or does not
    answer, 2 on bad usage. --help (anywhere) prints help to stdout, exit 0.
    =========================================================================
*/

#include "zgcli.h"

//  Options every command takes
static const zgcli_option_t s_common [] = {
    { "--json", NULL, "print JSON, one value per line" },
    { "--timeout", "MS", "how long to wait for zgate (requests: 5000; sub, consume, join: for ever)" },
    { "--topics-publishers", "ENDPOINT", "zgate's publishers endpoint [tcp://127.0.0.1:5561]" },
    { "--topics-subscribers", "ENDPOINT", "zgate's subscribers endpoint [tcp://127.0.0.1:5560]" },
    { "--queues-producers", "ENDPOINT", "zgate's producers endpoint [tcp://127.0.0.1:5562]" },
    { "--queues-workers", "ENDPOINT", "zgate's workers endpoint [tcp://127.0.0.1:5563]" },
    { "--rooms-clients", "ENDPOINT", "zgate's rooms endpoint [tcp://127.0.0.1:5564]" },
    { "--url", "URL", "zgate's web gateway [http://127.0.0.1:8080]" },
    { "--cert", "FILE", "this client's certificate (with its secret key) for CURVE [ZGATE_CLIENT_CERT]" },
    { "--server-key", "KEY", "the server's public certificate or Z85 key, with --cert [ZGATE_SERVER_KEY]" },
    { "--help", NULL, "print this help and exit" },
    { NULL }
};

static const zgcli_command_t *s_groups [] = {
    zgcli_topics_commands, zgcli_queues_commands, zgcli_pull_commands, zgcli_rooms_commands, zgcli_stats_commands, NULL
};

//  --------------------------------------------------------------------------
//  The command named by one or two words, or NULL

static const zgcli_command_t *
s_command (const char *first, const char *second)
{
    char name [64];
    snprintf (name, sizeof name, "%s %s", first, second? second: "");
    for (int group = 0; s_groups [group]; group++)
        for (const zgcli_command_t *command = s_groups [group]; command->name; command++)
            if (streq (command->name, first) || (second && streq (command->name, name)))
                return command;
    return NULL;
}

//  --------------------------------------------------------------------------
//  The option called name among a command's and the common ones, or NULL

static const zgcli_option_t *
s_find_option (const zgcli_command_t *command, const char *name)
{
    const zgcli_option_t *tables [] = { s_common, command? command->options: NULL };
    for (int table = 0; table < 2; table++)
        for (const zgcli_option_t *option = tables [table]; option && option->name; option++)
            if (streq (option->name, name))
                return option;
    return NULL;
}

static void
s_print_options (FILE *out, const zgcli_option_t *options)
{
    for (const zgcli_option_t *option = options; option->name; option++) {
        char left [64];
        snprintf (left, sizeof left, "%s%s%s", option->name, option->arg? " ": "", option->arg? option->arg: "");
        fprintf (out, "  %-30s %s\n", left, option->help);
    }
}

//  --------------------------------------------------------------------------
//  The list of commands (prefix "room" lists only the room commands)

static void
s_print_commands (FILE *out, const char *prefix)
{
    fprintf (out, "Usage: zgate-cli [OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
    for (int group = 0; s_groups [group]; group++)
        for (const zgcli_command_t *command = s_groups [group]; command->name; command++)
            if (!prefix || strncmp (command->name, prefix, strlen (prefix)) == 0) {
                char left [64];
                snprintf (left, sizeof left, "%s %s", command->name, command->usage);
                fprintf (out, "  %-30s %s\n", left, command->summary);
            }
    fprintf (out, "\nOptions:\n");
    s_print_options (out, s_common);
    fprintf (out, "\nEndpoints also come from ZGATE_TOPICS_PUBLISHERS, ZGATE_TOPICS_SUBSCRIBERS,\n"
                  "ZGATE_QUEUES_PRODUCERS, ZGATE_QUEUES_WORKERS, ZGATE_ROOMS_CLIENTS and ZGATE_URL.\n"
                  "`zgate-cli COMMAND --help` describes a command.\n");
}

static void
s_print_command (const zgcli_command_t *command)
{
    printf ("Usage: zgate-cli %s %s\n\n%s\n", command->name, command->usage, command->summary);
    if (command->options [0].name) {
        printf ("\nOptions:\n");
        s_print_options (stdout, command->options);
    }
    printf ("\nCommon options:\n");
    s_print_options (stdout, s_common);
}

//  --------------------------------------------------------------------------
//  Parse the line into cli. Returns 0, or ZGCLI_USAGE after saying why

static int
s_parse (zgcli_t *cli, int argc, char **argv, bool *help_p, bool *room_p)
{
    const char *words [ZGCLI_MAX_ARGS];
    int word_count = 0;
    *help_p = false;
    //  The command first, so that its own options are known
    for (int index = 1; index < argc; index++) {
        if (streq (argv [index], "--help") || streq (argv [index], "-h"))
            *help_p = true;
        else
        if (strncmp (argv [index], "--", 2) == 0) {
            const zgcli_option_t *option = s_find_option (NULL, argv [index]);
            if (option && option->arg && !strchr (argv [index], '='))
                index++;                //  A common option's value is not a word
        }
        else
        if (word_count < 2)
            words [word_count++] = argv [index];
    }
    if (word_count)
        cli->command = s_command (words [0], word_count > 1? words [1]: NULL);
    *room_p = word_count && streq (words [0], "room");
    if (word_count && !cli->command && !(*help_p && *room_p)) {
        if (*room_p)
            fprintf (stderr, "zgate-cli: room wants send, join, peek, state or metrics (zgate-cli room --help)\n");
        else
            fprintf (stderr, "zgate-cli: unknown command '%s' (zgate-cli --help lists them)\n", words [0]);
        return ZGCLI_USAGE;
    }
    if (*help_p)
        return 0;
    int skip = cli->command? (strchr (cli->command->name, ' ')? 2: 1): 0;
    for (int index = 1; index < argc; index++) {
        const char *arg = argv [index];
        if (strncmp (arg, "--", 2) != 0) {
            if (skip)
                skip--;
            else
            if (cli->arg_count < ZGCLI_MAX_ARGS)
                cli->args [cli->arg_count++] = arg;
            continue;
        }
        char name [64];
        const char *equals = strchr (arg, '=');
        snprintf (name, sizeof name, "%.*s", (int) (equals? equals - arg: (long) strlen (arg)), arg);
        const zgcli_option_t *option = s_find_option (cli->command, name);
        if (!option) {
            fprintf (stderr, "zgate-cli: unknown option %s\n", name);
            return ZGCLI_USAGE;
        }
        const char *value = "";
        if (option->arg) {
            if (!equals && index + 1 >= argc) {
                fprintf (stderr, "zgate-cli: %s needs a value (%s)\n", name, option->arg);
                return ZGCLI_USAGE;
            }
            value = equals? equals + 1: argv [++index];
        }
        else
        if (equals) {
            fprintf (stderr, "zgate-cli: %s takes no value\n", name);
            return ZGCLI_USAGE;
        }
        if (cli->option_count == ZGCLI_MAX_ARGS) {
            fprintf (stderr, "zgate-cli: too many options\n");
            return ZGCLI_USAGE;
        }
        cli->names [cli->option_count] = option->name;
        cli->values [cli->option_count++] = value;
    }
    cli->json = zgcli_flag (cli, "--json");
    return 0;
}

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logstream (NULL);          //  czmq's own logging would mix with the output
    zgcli_t cli = { NULL };
    bool help, room;
    int rc = s_parse (&cli, argc, argv, &help, &room);
    if (rc)
        return rc;
    if (help) {
        if (cli.command)
            s_print_command (cli.command);
        else
            s_print_commands (stdout, room? "room ": NULL);
        return 0;
    }
    if (!cli.command) {
        s_print_commands (stderr, NULL);
        return ZGCLI_USAGE;
    }
    if (cli.arg_count < cli.command->min_args || cli.arg_count > cli.command->max_args) {
        fprintf (stderr, "zgate-cli: usage: zgate-cli %s %s\n", cli.command->name, cli.command->usage);
        return ZGCLI_USAGE;
    }
    return cli.command->run (&cli);
}
