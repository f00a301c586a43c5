/*  =========================================================================
    zg_curve - makes a libzgclient connection a CURVE client

    The certificates are czmq's zcert files (zgate-keygen writes them,
    pyzmq's zmq.auth reads and writes the same format).
    =========================================================================
*/

#include <czmq.h>
#include "zg_curve.h"

//  Length of a CURVE key in Z85 text
#define ZG_CURVE_Z85_SIZE 40

//  --------------------------------------------------------------------------
//  Make socket, not yet connected, a CURVE client

int
zg_curve_secure (zsock_t *socket, const char *client_cert, const char *server_key)
{
    assert (socket);
    if (!client_cert)
        return 0;
    if (!server_key) {
        zsys_warning ("zg_curve: a client certificate needs the server's key");
        return -1;
    }
    const byte zero [32] = { 0 };
    zcert_t *cert = zsys_file_exists (client_cert)? zcert_load (client_cert): NULL;
    if (!cert || memcmp (zcert_secret_key (cert), zero, sizeof zero) == 0) {
        zsys_warning ("zg_curve: %s is not a certificate with its secret key", client_cert);
        zcert_destroy (&cert);
        return -1;
    }
    bool is_text = strlen (server_key) == ZG_CURVE_Z85_SIZE && !zsys_file_exists (server_key);
    zcert_t *server = is_text? NULL: zcert_load (server_key);
    if (!is_text && !server) {
        zsys_warning ("zg_curve: %s is neither a Z85 key nor a certificate", server_key);
        zcert_destroy (&cert);
        return -1;
    }
    zcert_apply (cert, socket);
    zsock_set_curve_serverkey (socket, is_text? server_key: zcert_public_txt (server));
    zcert_destroy (&cert);
    zcert_destroy (&server);
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class: a DEALER with a good key, and one with a key
//  that zgate does not know. It runs a real queues actor with CURVE, so
//  tests/zg_selftest compiles it in (ZGCLIENT_SELFTEST), with libzgate.

#ifdef ZGCLIENT_SELFTEST
#include "zgate.h"

//  A SEND over a DEALER secured with these keys: true if zgate answered OK
static bool
s_test_send (const char *endpoint, const char *client_cert, const char *server_key, int timeout)
{
    zsock_t *socket = zsock_new (ZMQ_DEALER);
    assert (zg_curve_secure (socket, client_cert, server_key) == 0);
    zsock_set_rcvtimeo (socket, timeout);
    assert (zsock_connect (socket, "%s", endpoint) == 0);
    zstr_sendx (socket, "SEND", "r1", "jobs", "", "hello", NULL);
    char *verb = zstr_recv (socket);
    bool ok = verb && streq (verb, "OK");
    zstr_free (&verb);
    zsock_destroy (&socket);
    return ok;
}

void
zg_curve_test (bool verbose)
{
    printf (" * zg_curve: ");
    if (verbose)
        printf ("\n");
    //  @selftest
    char directory [] = "/tmp/zg_curve_test.XXXXXX";
    assert (mkdtemp (directory));
    char *clients = zsys_sprintf ("%s/clients", directory);
    assert (zsys_dir_create (clients) == 0);
    char *server_path = zsys_sprintf ("%s/server.cert", directory);
    char *server_secret = zsys_sprintf ("%s/server.cert_secret", directory);
    char *alice_secret = zsys_sprintf ("%s/alice.cert_secret", directory);
    char *alice_public = zsys_sprintf ("%s/alice.cert", clients);
    char *mallory_secret = zsys_sprintf ("%s/mallory.cert_secret", directory);
    zcert_t *server = zcert_new ();
    zcert_t *alice = zcert_new ();
    zcert_t *mallory = zcert_new ();
    zcert_set_meta (alice, "name", "alice");
    assert (zcert_save (server, server_path) == 0);
    assert (zcert_save_secret (alice, alice_secret) == 0);
    assert (zcert_save_public (alice, alice_public) == 0);
    assert (zcert_save_secret (mallory, mallory_secret) == 0);

    zactor_t *auth = zactor_new (zauth, NULL);
    zstr_sendx (auth, "CURVE", clients, NULL);
    zsock_wait (auth);
    //  ipc runs CURVE as tcp does, and needs no free port
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/producers", directory);
    zactor_t *queues = zg_queues_new ();
    char error [256];
    assert (zg_actor_set (queues, "security-server-cert", server_secret, error, sizeof error) == 0);
    assert (zg_actor_set (queues, "producers", endpoint, error, sizeof error) == 0);

    //  Bad credentials are refused before anything connects
    zsock_t *socket = zsock_new (ZMQ_DEALER);
    assert (zg_curve_secure (socket, NULL, NULL) == 0);
    assert (zg_curve_secure (socket, alice_public, server_path) == -1);   //  No secret key
    assert (zg_curve_secure (socket, alice_secret, "/no/such/file") == -1);
    zsock_destroy (&socket);

    //  alice gets in, with the server's key given as a file or as text
    assert (s_test_send (endpoint, alice_secret, server_path, 2000));
    assert (s_test_send (endpoint, alice_secret, zcert_public_txt (server), 2000));
    //  mallory's key is not in the directory: no answer
    assert (!s_test_send (endpoint, mallory_secret, server_path, 300));

    zactor_destroy (&queues);
    zactor_destroy (&auth);
    zcert_destroy (&server);
    zcert_destroy (&alice);
    zcert_destroy (&mallory);
    zdir_t *dir = zdir_new (directory, NULL);
    zdir_remove (dir, true);
    zdir_destroy (&dir);
    zstr_free (&clients);
    zstr_free (&server_path);
    zstr_free (&server_secret);
    zstr_free (&alice_secret);
    zstr_free (&alice_public);
    zstr_free (&mallory_secret);
    //  @end
    printf ("OK\n");
}
#endif
