/*  =========================================================================
    zgcli_queues - the work-queue commands of zgate-cli: send, request,
    call (one worker, or --scatter to all), consume and get
    =========================================================================
*/

#include "zgcli.h"
#include "zg_producer.h"
#include "zg_worker.h"

//  --------------------------------------------------------------------------
//  A producer on the producers endpoint that waits --timeout (5000 ms, also
//  returned in timeout_p), or NULL after saying why

static zg_producer_t *
s_producer (zgcli_t *cli, int *timeout_p)
{
    int64_t timeout;
    if (zgcli_number (cli, "--timeout", 5000, 1, INT32_MAX, &timeout))
        return NULL;
    const char *endpoint = zgcli_endpoint (cli, "queues-producers");
    zg_producer_t *producer = zg_producer_new_secure (endpoint, zgcli_cert (cli), zgcli_server_key (cli));
    if (producer)
        zg_producer_set_timeout (producer, (int) timeout);
    else
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
    *timeout_p = (int) timeout;
    return producer;
}

//  Report the producer's last error; returns ZGCLI_FAILED

static int
s_producer_fail (zgcli_t *cli, zg_producer_t *producer)
{
    return zgcli_error (cli, zg_producer_code (producer), zg_producer_reason (producer));
}

//  --------------------------------------------------------------------------
//  send QUEUE DATA: queue a task, print its id

static int
s_send (zgcli_t *cli)
{
    int64_t priority;
    int timeout;
    if (zgcli_number (cli, "--priority", 0, 0, INT32_MAX, &priority))
        return ZGCLI_USAGE;
    zg_producer_t *producer = s_producer (cli, &timeout);
    if (!producer)
        return ZGCLI_USAGE;
    char id [24];
    const char *data = cli->args [1];
    int rc = zg_producer_send (producer, cli->args [0], data, strlen (data), (int) priority, id);
    if (rc)
        rc = s_producer_fail (cli, producer);
    else
    if (cli->json) {
        json_object *result = zgcli_object ("id", json_object_new_string (id),
                                            "queue", json_object_new_string (cli->args [0]), NULL);
        zgcli_print (cli, &result);
    }
    else
        printf ("task %s queued on %s\n", id, cli->args [0]);
    zg_producer_destroy (&producer);
    return rc;
}

//  --------------------------------------------------------------------------
//  add QUEUE DATA: send, and say so if no worker serves the queue now
//  (qmanager's tasks of a type no worker knows waited silently)

static int
s_add (zgcli_t *cli)
{
    int rc = s_send (cli);
    if (rc == 0)
        zgcli_warn_unserved (cli, cli->args [0]);
    return rc;
}

//  --------------------------------------------------------------------------
//  Print a reply and take it: the payload as text, or {"reply": ...}

static void
s_print_reply (zgcli_t *cli, zframe_t **reply_p)
{
    json_object *text = zgcli_string (zframe_data (*reply_p), zframe_size (*reply_p));
    if (cli->json)
        text = zgcli_object ("reply", text, NULL);
    zgcli_print (cli, &text);
    zframe_destroy (reply_p);
}

//  --------------------------------------------------------------------------
//  request QUEUE DATA: queue a task and print the worker's reply

static int
s_request (zgcli_t *cli)
{
    int timeout;
    zg_producer_t *producer = s_producer (cli, &timeout);
    if (!producer)
        return ZGCLI_USAGE;
    zframe_t *reply;
    const char *data = cli->args [1];
    int rc = zg_producer_request (producer, cli->args [0], data, strlen (data), timeout, &reply);
    if (rc)
        rc = s_producer_fail (cli, producer);
    else
        s_print_reply (cli, &reply);
    zg_producer_destroy (&producer);
    return rc;
}

//  --------------------------------------------------------------------------
//  call LINE: a command "name/params.../data" to one worker, or to every
//  worker serving it with --scatter (one reply per line)

static int
s_call (zgcli_t *cli)
{
    int timeout;
    zg_producer_t *producer = s_producer (cli, &timeout);
    if (!producer)
        return ZGCLI_USAGE;
    int rc;
    if (zgcli_flag (cli, "--scatter")) {
        zmsg_t *replies;
        rc = zg_producer_scatter (producer, cli->args [0], timeout, &replies);
        if (rc == 0) {
            json_object *list = json_object_new_array ();
            for (zframe_t *reply = zmsg_first (replies); reply; reply = zmsg_next (replies))
                json_object_array_add (list, zgcli_string (zframe_data (reply), zframe_size (reply)));
            if (cli->json)
                list = zgcli_object ("replies", list, NULL);
            zgcli_print (cli, &list);
            zmsg_destroy (&replies);
        }
    }
    else {
        zframe_t *reply;
        rc = zg_producer_call (producer, cli->args [0], timeout, &reply);
        if (rc == 0)
            s_print_reply (cli, &reply);
    }
    if (rc)
        rc = s_producer_fail (cli, producer);
    zg_producer_destroy (&producer);
    return rc;
}

//  --------------------------------------------------------------------------
//  get ID: a task's state, attempts, times and result

static int
s_get (zgcli_t *cli)
{
    int timeout;
    zg_producer_t *producer = s_producer (cli, &timeout);
    if (!producer)
        return ZGCLI_USAGE;
    zg_task_info_t info;
    int rc = zg_producer_get (producer, cli->args [0], &info);
    if (rc)
        rc = s_producer_fail (cli, producer);
    else {
        bool failed = streq (info.state, "failed") || streq (info.state, "dead");
        json_object *result = info.result
            ? zgcli_string (zframe_data (info.result), zframe_size (info.result)): NULL;
        json_object *input = info.input? zgcli_string (zframe_data (info.input), zframe_size (info.input)): NULL;
        json_object *task = zgcli_object (
            "id", json_object_new_string (info.id),
            info.command? "command": "queue", json_object_new_string (info.queue),
            "state", json_object_new_string (info.state),
            "priority", json_object_new_int (info.priority),
            "attempt", json_object_new_int (info.attempt),
            "created", json_object_new_int64 (info.created),
            "started", json_object_new_int64 (info.started),
            "finished", json_object_new_int64 (info.finished),
            "input", input,
            failed? "reason": "reply", result, NULL);
        zgcli_print (cli, &task);
        zframe_destroy (&info.result);
        zframe_destroy (&info.input);
    }
    zg_producer_destroy (&producer);
    return rc;
}

//  --------------------------------------------------------------------------
//  consume: a worker that prints each task and acks it

typedef struct {
    zgcli_t *cli;
    const char *reply;              //  --reply, or NULL to ack without one
    zgcli_stream_t stream;          //  --count, --timeout, tasks printed and acked
} s_consumer_t;

static int
s_consume_task (const char *name, zframe_t *input, zframe_t **output_p, char *reason, size_t reason_size,
                void *arg)
{
    (void) reason;
    (void) reason_size;
    s_consumer_t *consumer = (s_consumer_t *) arg;
    //  Tasks that arrive after the last one wanted go back, for another worker
    if (!zgcli_stream_wants (&consumer->stream))
        return ZG_WORKER_NACK;
    consumer->stream.received++;
    json_object *data = zgcli_string (zframe_data (input), zframe_size (input));
    if (consumer->cli->json)
        data = zgcli_object ("queue", json_object_new_string (name), "data", data, NULL);
    else
        printf ("%s: ", name);
    zgcli_print (consumer->cli, &data);
    if (consumer->reply)
        *output_p = zframe_new (consumer->reply, strlen (consumer->reply));
    return ZG_WORKER_ACK;
}

static int
s_consume (zgcli_t *cli)
{
    s_consumer_t consumer = { .cli = cli, .reply = zgcli_option (cli, "--reply") };
    int64_t prefetch;
    if (zgcli_stream_start (cli, &consumer.stream)
    ||  zgcli_number (cli, "--prefetch", 1, 1, 100000, &prefetch))
        return ZGCLI_USAGE;
    const char *endpoint = zgcli_endpoint (cli, "queues-workers");
    char id [32];
    snprintf (id, sizeof id, "zgate-cli-%d", (int) getpid ());
    zg_worker_t *worker = zg_worker_new_secure (endpoint, id, (int) prefetch, zgcli_cert (cli),
                                              zgcli_server_key (cli));
    if (!worker) {
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
        return ZGCLI_USAGE;
    }
    bool command = zgcli_flag (cli, "--command");
    for (int index = 0; index < cli->arg_count; index++)
        if (zg_worker_register (worker, cli->args [index], command, s_consume_task, &consumer)) {
            zg_worker_destroy (&worker);
            fprintf (stderr, "zgate-cli: %s is named twice\n", cli->args [index]);
            return ZGCLI_USAGE;
        }
    int rc = 0;
    int left = zgcli_stream_left (&consumer.stream);
    if (zg_worker_start (worker, left > 0? left: 5000))
        rc = zgcli_error (cli, zg_worker_code (worker), zg_worker_reason (worker));
    while (rc == 0 && zgcli_stream_wants (&consumer.stream)) {
        left = zgcli_stream_left (&consumer.stream);
        //  Polls of at most a second, so that the worker keeps heartbeating
        if (left == 0 || zg_worker_poll (worker, left < 0 || left > 1000? 1000: left) == -1) {
            rc = zgcli_stream_end (cli, &consumer.stream, "tasks");
            break;
        }
    }
    zg_worker_destroy (&worker);
    return rc;
}

static const zgcli_option_t s_send_options [] = {
    { "--priority", "N", "higher goes first [0]" },
    { NULL }
};

static const zgcli_option_t s_none [] = {
    { NULL }
};

static const zgcli_option_t s_call_options [] = {
    { "--scatter", NULL, "call every worker serving the command, print each reply" },
    { NULL }
};

static const zgcli_option_t s_consume_options [] = {
    { "--command", NULL, "the NAMEs are commands (CALL), not queues" },
    { "--reply", "TEXT", "ack each task with TEXT as its reply [no reply]" },
    { "--count", "N", "exit after N tasks [0: never]" },
    { "--prefetch", "N", "tasks held at once [1]" },
    { NULL }
};

const zgcli_command_t zgcli_queues_commands [] = {
    { "send", "QUEUE DATA", "queue a task, print its id", 2, 2, s_send_options, s_send },
    { "add", "QUEUE DATA", "send, and warn if no worker serves QUEUE now", 2, 2, s_send_options, s_add },
    { "request", "QUEUE DATA", "queue a task and print the worker's reply", 2, 2, s_none, s_request },
    { "call", "NAME/PARAMS.../DATA", "call a command (teomq line), print the reply", 1, 1, s_call_options, s_call },
    { "consume", "NAME...", "work on tasks of queues (or commands): print and ack each",
      1, ZGCLI_MAX_ARGS, s_consume_options, s_consume },
    { "get", "ID", "print a task: state, attempts, times (ms since the epoch), input, reply or reason",
      1, 1, s_none, s_get },
    { NULL }
};
