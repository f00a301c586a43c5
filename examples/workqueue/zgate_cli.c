//  zgate-cli - add a task to a queue and read it back, as qmanager's client:
//
//      zgate-cli [-endpoint E] [-cert C -server-key K] add -type T -input X [-priority P]
//                                                                   prints "Task ID result: <id>"
//      zgate-cli [-endpoint E] get -id ID                           prints the task and its output
//      zgate-cli [-endpoint E] request -type T -input X [-timeout MS]   waits for and prints the output
//
//  -cert (the client's certificate with its secret key) and -server-key (the
//  server's public certificate or Z85 key) talk CURVE to a zgate that runs
//  security; ZGATE_CLIENT_CERT and ZGATE_SERVER_KEY are their defaults.
//  Exit code 0 on success, 1 on an error from zgate, 2 on bad usage.

#include "zg_producer.h"

static int
s_usage (void)
{
    fprintf (stderr, "usage: zgate-cli [-endpoint tcp://127.0.0.1:5562] [-cert FILE -server-key KEY] add -type T "
                     "-input X [-priority P]\n"
                     "       zgate-cli [-endpoint ...] get -id ID\n"
                     "       zgate-cli [-endpoint ...] request -type T -input X [-timeout MS]\n");
    return 2;
}

int
main (int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5562";
    const char *cert = getenv ("ZGATE_CLIENT_CERT"), *server_key = getenv ("ZGATE_SERVER_KEY");
    const char *command = NULL, *type = NULL, *input = NULL, *id = NULL;
    int priority = 0, timeout = 5000;
    for (int index = 1; index < argc; index++) {
        const char *flag = argv [index];
        const char *value = index + 1 < argc? argv [index + 1]: NULL;
        if (streq (flag, "add") || streq (flag, "get") || streq (flag, "request"))
            command = flag;
        else
        if (!value)
            return s_usage ();
        else {
            if (streq (flag, "-endpoint"))
                endpoint = value;
            else
            if (streq (flag, "-cert"))
                cert = value;
            else
            if (streq (flag, "-server-key"))
                server_key = value;
            else
            if (streq (flag, "-type"))
                type = value;
            else
            if (streq (flag, "-input"))
                input = value;
            else
            if (streq (flag, "-id"))
                id = value;
            else
            if (streq (flag, "-priority"))
                priority = atoi (value);
            else
            if (streq (flag, "-timeout"))
                timeout = atoi (value);
            else
                return s_usage ();
            index++;
        }
    }
    if (!command || (streq (command, "get")? !id: (!type || !input)) || timeout <= 0) {
        if (!command)
            fprintf (stderr, "add, get or request is required\n");
        return s_usage ();
    }
    zg_producer_t *producer = zg_producer_new_secure (endpoint, cert, server_key);
    if (!producer) {
        fprintf (stderr, "zgate-cli: invalid endpoint %s or certificate\n", endpoint);
        return 2;
    }
    int rc = 0;
    if (streq (command, "add")) {
        char task_id [24];
        rc = zg_producer_send (producer, type, input, strlen (input), priority, task_id);
        if (rc == 0)
            printf ("Task ID result: %s\n", task_id);
    }
    else
    if (streq (command, "request")) {
        zframe_t *reply;
        rc = zg_producer_request (producer, type, input, strlen (input), timeout, &reply);
        if (rc == 0) {
            printf ("%.*s\n", (int) zframe_size (reply), (char *) zframe_data (reply));
            zframe_destroy (&reply);
        }
    }
    else {
        zg_task_info_t info;
        rc = zg_producer_get (producer, id, &info);
        if (rc == 0) {
            printf ("Task ID: %s\tType: %s\tState: %s\tAttempt: %d\tOutput: %.*s\n", info.id, info.queue,
                    info.state, info.attempt, info.result? (int) zframe_size (info.result): 0,
                    info.result? (char *) zframe_data (info.result): "");
            zframe_destroy (&info.result);
        }
    }
    if (rc)
        fprintf (stderr, "zgate-cli: error %d %s\n", zg_producer_code (producer), zg_producer_reason (producer));
    zg_producer_destroy (&producer);
    return rc? 1: 0;
}
