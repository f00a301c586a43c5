/*  =========================================================================
    zgcli_pull - the pull commands of zgate-cli (qmanager's worker calls):
    take a task, finish it, or put it back at the tail of its queue

    A taken task's id is its handle, so take, then finish or retry, may run
    as separate zgate-cli processes (within the task's ack timeout).
    =========================================================================
*/

#include "zgcli.h"
#include "zg_taker.h"

//  --------------------------------------------------------------------------
//  A taker on the producers endpoint that waits --timeout ms, or NULL after
//  saying why

static zg_taker_t *
s_taker (zgcli_t *cli)
{
    int64_t timeout;
    if (zgcli_number (cli, "--timeout", 5000, 1, INT32_MAX, &timeout))
        return NULL;
    const char *endpoint = zgcli_endpoint (cli, "queues-producers");
    zg_taker_t *taker = zg_taker_new_secure (endpoint, zgcli_cert (cli), zgcli_server_key (cli));
    if (taker)
        zg_taker_set_timeout (taker, (int) timeout);
    else
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
    return taker;
}

//  --------------------------------------------------------------------------
//  take [QUEUE...]: the first waiting task of the queues (of any queue)

static int
s_take (zgcli_t *cli)
{
    int64_t ack_timeout;
    if (zgcli_number (cli, "--ack-timeout", 0, 0, INT32_MAX, &ack_timeout))
        return ZGCLI_USAGE;
    zg_taker_t *taker = s_taker (cli);
    if (!taker)
        return ZGCLI_USAGE;
    zg_taken_t task;
    int rc = zg_taker_take (taker, cli->args, (size_t) cli->arg_count, (int) ack_timeout, &task);
    if (rc == -1)
        rc = zgcli_error (cli, zg_taker_code (taker), zg_taker_reason (taker));
    else
    if (rc == 0) {
        json_object *nothing = cli->json? json_object_new_object (): json_object_new_string ("nothing to take");
        zgcli_print (cli, &nothing);
    }
    else {
        json_object *result = zgcli_object (
            "id", json_object_new_string (task.id),
            "queue", json_object_new_string (task.queue),
            "attempt", json_object_new_int (task.attempt),
            "data", zgcli_string (zframe_data (task.data), zframe_size (task.data)), NULL);
        zgcli_print (cli, &result);
        zframe_destroy (&task.data);
        rc = 0;
    }
    zg_taker_destroy (&taker);
    return rc;
}

//  --------------------------------------------------------------------------
//  finish ID [OUTPUT] and retry ID

static int
s_answer (zgcli_t *cli, bool finish)
{
    zg_taker_t *taker = s_taker (cli);
    if (!taker)
        return ZGCLI_USAGE;
    const char *id = cli->args [0];
    const char *output = cli->arg_count > 1? cli->args [1]: "";
    int rc = finish? zg_taker_finish (taker, id, output, strlen (output)): zg_taker_retry (taker, id);
    if (rc)
        rc = zgcli_error (cli, zg_taker_code (taker), zg_taker_reason (taker));
    else {
        json_object *result = cli->json
            ? zgcli_object ("id", json_object_new_string (id),
                            "state", json_object_new_string (finish? "done": "waiting"), NULL)
            : json_object_new_string (finish? "finished": "back in its queue");
        zgcli_print (cli, &result);
    }
    zg_taker_destroy (&taker);
    return rc;
}

static int
s_finish (zgcli_t *cli)
{
    return s_answer (cli, true);
}

static int
s_retry (zgcli_t *cli)
{
    return s_answer (cli, false);
}

//  --------------------------------------------------------------------------
//  After add: say so on stderr if no worker serves the queue now

void
zgcli_warn_unserved (zgcli_t *cli, const char *queue)
{
    zg_taker_t *taker = s_taker (cli);
    if (taker && zg_taker_workers (taker, queue) == 0)
        fprintf (stderr, "zgate-cli: no worker serves queue '%s' now: the task waits until one does "
                         "(or until taken with zgate-cli take)\n", queue);
    zg_taker_destroy (&taker);
}

static const zgcli_option_t s_take_options [] = {
    { "--ack-timeout", "MS", "finish or retry within MS, else the task goes back [the task's own]" },
    { NULL }
};

static const zgcli_option_t s_none [] = {
    { NULL }
};

const zgcli_command_t zgcli_pull_commands [] = {
    { "take", "[QUEUE...]", "take the first waiting task of the queues (of any queue), print it",
      0, ZGCLI_MAX_ARGS, s_take_options, s_take },
    { "finish", "ID [OUTPUT]", "finish a taken task with its output: done", 1, 2, s_none, s_finish },
    { "retry", "ID", "put a taken task back at the tail of its queue", 1, 1, s_none, s_retry },
    { NULL }
};
