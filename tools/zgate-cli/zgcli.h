/*  =========================================================================
    zgcli - what the zgate-cli commands share: the parsed command line, the
    endpoints, number options, and output as human text or JSON

    Every command is a zgcli_command_t in one of the command group files
    (zgcli_topics.c, zgcli_queues.c, zgcli_pull.c, zgcli_rooms.c, zgcli_stats.c); main
    (zgate_cli.c) parses the line, answers --help and runs the command.
    =========================================================================
*/

#ifndef ZGCLI_H_INCLUDED
#define ZGCLI_H_INCLUDED

#include <czmq.h>
#include <json-c/json.h>
#include <msgpack.h>

//  Exit codes: done, zgate answered with an error or did not answer, bad usage
#define ZGCLI_OK     0
#define ZGCLI_FAILED 1
#define ZGCLI_USAGE  2

//  Most options and positional arguments a command line may carry
#define ZGCLI_MAX_ARGS 64

//  An option of a command: a flag when arg is NULL
typedef struct {
    const char *name;               //  "--priority"
    const char *arg;                //  "N", or NULL for a flag
    const char *help;
} zgcli_option_t;

typedef struct _zgcli_t zgcli_t;

//  A command: name is one word, or "room send" for a room command
typedef struct {
    const char *name;
    const char *usage;              //  Positional arguments, e.g. "TOPIC [DATA]"
    const char *summary;
    int min_args;
    int max_args;
    const zgcli_option_t *options;  //  Ends with { NULL }
    int (*run) (zgcli_t *cli);
} zgcli_command_t;

//  The parsed command line, as the commands read it
struct _zgcli_t {
    const zgcli_command_t *command;
    const char *args [ZGCLI_MAX_ARGS];   //  Positional arguments
    int arg_count;
    const char *names [ZGCLI_MAX_ARGS];  //  Options given, in order, and their values ("" for flags)
    const char *values [ZGCLI_MAX_ARGS];
    int option_count;
    bool json;                      //  --json: one JSON value per line on stdout
};

//  How long a listening command (sub, consume, room join) runs: until
//  --count messages (0: no limit) or --timeout ms (none: for ever) or Ctrl-C
typedef struct {
    int64_t count;
    int64_t timeout;                //  Or -1
    int64_t deadline;               //  zclock_mono, or -1
    int64_t received;               //  Messages taken so far
} zgcli_stream_t;

//  The command groups, each ending with { NULL }
extern const zgcli_command_t zgcli_topics_commands [];
extern const zgcli_command_t zgcli_queues_commands [];
extern const zgcli_command_t zgcli_pull_commands [];
extern const zgcli_command_t zgcli_rooms_commands [];
extern const zgcli_command_t zgcli_stats_commands [];

//  Say on stderr if no worker serves queue now (zgcli_pull.c; add)
void
    zgcli_warn_unserved (zgcli_t *cli, const char *queue);

//  The value of an option (the last one given), or NULL if absent
const char *
    zgcli_option (zgcli_t *cli, const char *name);

//  True if a flag was given
bool
    zgcli_flag (zgcli_t *cli, const char *name);

//  An integer option in [min, max], or fallback when absent. Returns 0, or
//  -1 after printing why the value is bad
int
    zgcli_number (zgcli_t *cli, const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *value_p);

//  An endpoint: its flag, else its environment variable, else zgate's default
//  (name is the flag without dashes, e.g. "queues-producers")
const char *
    zgcli_endpoint (zgcli_t *cli, const char *name);

//  Read --count and --timeout and start the clock. Returns 0, or -1 after
//  printing why a value is bad
int
    zgcli_stream_start (zgcli_t *cli, zgcli_stream_t *stream);

//  True while more messages are wanted
bool
    zgcli_stream_wants (zgcli_stream_t *stream);

//  Milliseconds left to wait: -1 for ever, 0 when the time is up
int
    zgcli_stream_left (zgcli_stream_t *stream);

//  Nothing more arrived (time up, or Ctrl-C): ZGCLI_FAILED after saying how
//  many of --count things arrived when --timeout cut it short, else 0
int
    zgcli_stream_end (zgcli_t *cli, zgcli_stream_t *stream, const char *things);

//  Print an error on stderr ("zgate-cli: ..."); returns ZGCLI_FAILED
int
    zgcli_fail (zgcli_t *cli, const char *format, ...) CHECK_PRINTF (2);

//  Print zgate's error (a code of zg_errors.h and its reason); returns ZGCLI_FAILED
int
    zgcli_error (zgcli_t *cli, int code, const char *reason);

//  Print a value and take it: compact JSON on one line with --json, else
//  as indented "key: value" lines (a string alone as itself)
void
    zgcli_print (zgcli_t *cli, json_object **value_p);

//  A JSON value from a msgpack object (bin and str become strings)
json_object *
    zgcli_from_msgpack (msgpack_object *object);

//  A JSON string from bytes (a payload)
json_object *
    zgcli_string (const void *data, size_t size);

//  A JSON object from key/value pairs, ending with NULL; takes the values
json_object *
    zgcli_object (const char *key, ...);

//  The client certificate (--cert, else ZGATE_CLIENT_CERT) and the server's
//  key (--server-key, else ZGATE_SERVER_KEY) for the _new_secure
//  constructors of libzgclient, or NULL for a plain connection
const char *
    zgcli_cert (zgcli_t *cli);
const char *
    zgcli_server_key (zgcli_t *cli);

#endif
