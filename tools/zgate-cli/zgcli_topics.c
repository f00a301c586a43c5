/*  =========================================================================
    zgcli_topics - the topics commands of zgate-cli: pub and sub
    =========================================================================
*/

#include "zgcli.h"
#include "zg_client.h"

//  --------------------------------------------------------------------------
//  pub TOPIC [DATA]: one message, --count times; without DATA, each line of
//  stdin is a message

static int
s_pub (zgcli_t *cli)
{
    int64_t count, timeout;
    if (zgcli_number (cli, "--count", 1, 1, INT32_MAX, &count)
    ||  zgcli_number (cli, "--timeout", 5000, 1, INT32_MAX, &timeout))
        return ZGCLI_USAGE;
    const char *topic = cli->args [0];
    const char *endpoint = zgcli_endpoint (cli, "topics-publishers");
    zg_client_t *client = zg_client_new_secure (endpoint, NULL, zgcli_cert (cli), zgcli_server_key (cli));
    if (!client) {
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
        return ZGCLI_USAGE;
    }
    //  A PUB drops what it sends before zgate's subscription reaches it
    if (zg_client_wait_connected (client, (int) timeout)) {
        zg_client_destroy (&client);
        return zgcli_fail (cli, "zgate did not answer on %s in time", endpoint);
    }
    int64_t published = 0;
    int rc = 0;
    if (cli->arg_count == 2)
        for (; published < count && rc == 0; published += rc == 0)
            rc = zg_client_publish_str (client, topic, cli->args [1]);
    else {
        char *line = NULL;
        size_t size = 0;
        ssize_t length;
        while (rc == 0 && (length = getline (&line, &size, stdin)) > 0) {
            if (line [length - 1] == '\n')
                line [--length] = 0;
            rc = zg_client_publish (client, topic, line, (size_t) length);
            published += rc == 0;
        }
        free (line);
    }
    zg_client_destroy (&client);
    if (rc)
        return zgcli_fail (cli, "cannot publish on %s", endpoint);
    if (cli->json) {
        json_object *result = zgcli_object ("topic", json_object_new_string (topic),
                                            "published", json_object_new_int64 (published), NULL);
        zgcli_print (cli, &result);
    }
    else
        printf ("published %" PRId64 " message%s on %s\n", published, published == 1? "": "s", topic);
    return 0;
}

//  --------------------------------------------------------------------------
//  sub [PREFIX...]: print what arrives on topics starting with any prefix

static int
s_sub (zgcli_t *cli)
{
    zgcli_stream_t stream;
    if (zgcli_stream_start (cli, &stream))
        return ZGCLI_USAGE;
    const char *endpoint = zgcli_endpoint (cli, "topics-subscribers");
    zg_client_t *client = zg_client_new_secure (NULL, endpoint, zgcli_cert (cli), zgcli_server_key (cli));
    if (!client) {
        fprintf (stderr, "zgate-cli: invalid endpoint %s\n", endpoint);
        return ZGCLI_USAGE;
    }
    for (int index = 0; index < cli->arg_count; index++)
        zg_client_subscribe (client, cli->args [index]);
    if (cli->arg_count == 0)
        zg_client_subscribe (client, "");
    int rc = 0;
    while (zgcli_stream_wants (&stream)) {
        int left = zgcli_stream_left (&stream);
        char *topic;
        zframe_t *payload;
        if (left == 0 || zg_client_recv (client, &topic, &payload, left)) {
            rc = zgcli_stream_end (cli, &stream, "messages");
            break;
        }
        json_object *message = zgcli_string (zframe_data (payload), zframe_size (payload));
        if (cli->json) {
            message = zgcli_object ("topic", json_object_new_string (topic), "data", message, NULL);
            zgcli_print (cli, &message);
        }
        else {
            printf ("%s: ", topic);
            zgcli_print (cli, &message);
        }
        zstr_free (&topic);
        zframe_destroy (&payload);
        stream.received++;
    }
    zg_client_destroy (&client);
    return rc;
}

static const zgcli_option_t s_pub_options [] = {
    { "--count", "N", "publish DATA N times [1]" },
    { NULL }
};

static const zgcli_option_t s_sub_options [] = {
    { "--count", "N", "exit after N messages [0: never]" },
    { NULL }
};

const zgcli_command_t zgcli_topics_commands [] = {
    { "pub", "TOPIC [DATA]", "publish DATA on TOPIC (without DATA, each line of stdin is a message)",
      1, 2, s_pub_options, s_pub },
    { "sub", "[PREFIX...]", "print the messages of every topic that starts with a PREFIX (none: all)",
      0, ZGCLI_MAX_ARGS, s_sub_options, s_sub },
    { NULL }
};
