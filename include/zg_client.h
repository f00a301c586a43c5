/*  =========================================================================
    zg_client - native topics client: publish and subscribe through zgate

    Publishing goes to zgate's publishers endpoint, subscribing to its
    subscribers endpoint; either may be NULL for a one-sided client. The wire
    is plain ZeroMQ PUB/SUB, [topic][payload] (docs/PROTOCOL.md, "Topics").

        zg_client_t *client = zg_client_new ("tcp://127.0.0.1:5561", NULL);
        zg_client_wait_connected (client, 1000);
        zg_client_publish_str (client, "news.today", "hello");
        zg_client_destroy (&client);
    =========================================================================
*/

#ifndef ZG_CLIENT_H_INCLUDED
#define ZG_CLIENT_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_client_t zg_client_t;

//  Create a client; publishers and subscribers are zgate's endpoints, either
//  may be NULL. Returns NULL if an endpoint is invalid.
zg_client_t *
    zg_client_new (const char *publishers, const char *subscribers);

//  The same, as a CURVE client of a zgate that runs security: client_cert and
//  server_key as zg_curve_secure takes them (NULL client_cert: plain). Also
//  NULL if a certificate cannot be read.
zg_client_t *
    zg_client_new_secure (const char *publishers, const char *subscribers, const char *client_cert,
                          const char *server_key);

//  Destroy the client
void
    zg_client_destroy (zg_client_t **self_p);

//  Wait until zgate accepts this client's publications (a PUB socket drops
//  what it sends before that). Returns 0, or -1 after timeout milliseconds.
int
    zg_client_wait_connected (zg_client_t *self, int timeout);

//  Publish a binary payload on a topic. Returns 0, or -1 if it cannot be sent
int
    zg_client_publish (zg_client_t *self, const char *topic, const void *data, size_t size);

//  Publish a string payload on a topic
int
    zg_client_publish_str (zg_client_t *self, const char *topic, const char *string);

//  Subscribe to every topic that starts with prefix ("" for all)
int
    zg_client_subscribe (zg_client_t *self, const char *prefix);

//  End a subscription made with zg_client_subscribe
int
    zg_client_unsubscribe (zg_client_t *self, const char *prefix);

//  Receive the next message, waiting at most timeout milliseconds (-1 for
//  ever). Returns 0 with a new topic string and payload frame that the
//  caller destroys, or -1 on timeout or interrupt. The sequence numbers of
//  topics that remember are not returned: zg_catchup reads those topics
//  without a gap.
int
    zg_client_recv (zg_client_t *self, char **topic_p, zframe_t **payload_p, int timeout);

//  The subscriber socket, to poll it with others; NULL if there is none
zsock_t *
    zg_client_subscriber (zg_client_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_client_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
