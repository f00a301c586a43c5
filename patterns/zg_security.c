/*  =========================================================================
    zg_security - one native actor's security: CURVE on its endpoints and
    the permissions it asks

    The rules of zg_security_allows in one place, so that every actor
    decides the same way: inproc is trusted, security off allows anything,
    a networked peer without an identity is allowed nothing, and the
    permissions file (if any) decides for the others.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_acl.h"
#include "zg_wire.h"
#include "zg_security.h"
#include "zg_routebytes.h"

//  Longest identity (a Z85 public key is 40 characters), name (a topic is
//  at most topics/max-topic-size, 255) and pattern or action a memo keeps
#define ZG_SECURITY_MEMO_IDENTITY 64
#define ZG_SECURITY_MEMO_NAME 256
#define ZG_SECURITY_MEMO_WORD 32

//  The last question zg_security_allows put to the permissions, and their
//  answer: a publisher asks the same question (its identity, its topic)
//  for message after message, and the answer holds until the names or the
//  permissions change (zg_security_set forgets it)
typedef struct {
    bool valid;                     //  A question is kept
    bool allowed;                   //  Its answer
    bool prefix;                    //  The question's prefix flag
    char identity [ZG_SECURITY_MEMO_IDENTITY];
    char name [ZG_SECURITY_MEMO_NAME];
    char pattern [ZG_SECURITY_MEMO_WORD];
    char action [ZG_SECURITY_MEMO_WORD];
} s_memo_t;

struct _zg_security_t {
    zcert_t *cert;                  //  Server certificate, or NULL: no CURVE
    zg_acl_t *acl;                  //  Permissions, or NULL: all may
    zhashx_t *names;                //  Client public key (Z85) -> certificate name
    bool bound;                     //  A network endpoint is bound
    zg_connwatch_t *watch;          //  Input held by the bound sockets' connections
    s_memo_t memo;                  //  The last question the permissions answered
};

//  --------------------------------------------------------------------------
//  Create an actor's security: off until a server certificate is set

zg_security_t *
zg_security_new (void)
{
    zg_security_t *self = (zg_security_t *) zmalloc (sizeof (zg_security_t));
    assert (self);
    self->names = zhashx_new ();
    assert (self->names);
    self->watch = zg_connwatch_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy it

void
zg_security_destroy (zg_security_t **self_p)
{
    assert (self_p);
    zg_security_t *self = *self_p;
    if (!self)
        return;
    zcert_destroy (&self->cert);
    zg_acl_destroy (&self->acl);
    zhashx_destroy (&self->names);
    zg_connwatch_destroy (&self->watch);
    free (self);
    *self_p = NULL;
}

//  A server certificate from a czmq certificate file that has its secret key
static zcert_t *
s_load_cert (const char *path, char *error, size_t size)
{
    zcert_t *cert = zsys_file_exists (path)? zcert_load (path): NULL;
    if (!cert) {
        snprintf (error, size, "%s: cannot read a czmq certificate", path);
        return NULL;
    }
    const byte zero [32] = { 0 };
    if (memcmp (zcert_secret_key (cert), zero, sizeof zero) == 0) {
        snprintf (error, size, "%s: the certificate has no secret key (give the _secret file)", path);
        zcert_destroy (&cert);
    }
    return cert;
}

//  Public key -> name of every certificate under directory that has a name,
//  read as zauth reads them (every file but the _secret ones); NULL if
//  directory is not one
static zhashx_t *
s_load_names (const char *directory, char *error, size_t size)
{
    zdir_t *dir = zdir_new (directory, NULL);
    if (!dir) {
        snprintf (error, size, "%s: not a directory of certificates", directory);
        return NULL;
    }
    zhashx_t *names = zhashx_new ();
    assert (names);
    zhashx_set_duplicator (names, (zhashx_duplicator_fn *) strdup);
    zhashx_set_destructor (names, (zhashx_destructor_fn *) zstr_free);
    zfile_t **files = zdir_flatten (dir);
    for (size_t index = 0; files [index]; index++) {
        const char *path = zfile_filename (files [index], NULL);
        size_t length = strlen (path);
        if (!zfile_is_regular (files [index]) || (length >= 7 && streq (path + length - 7, "_secret")))
            continue;
        zcert_t *cert = zcert_load (path);
        if (cert && zcert_meta (cert, "name"))
            zhashx_update (names, zcert_public_txt (cert), (void *) zcert_meta (cert, "name"));
        zcert_destroy (&cert);
    }
    zdir_flatten_free (&files);
    zdir_destroy (&dir);
    return names;
}

//  --------------------------------------------------------------------------
//  Apply a key without its "security-" prefix

int
zg_security_set (zg_security_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    if (streq (key, "server-cert")) {
        //  Endpoints bound before would run without CURVE
        if (self->bound) {
            snprintf (error, size, "the server certificate must come before the endpoints");
            return -1;
        }
        zcert_t *cert = NULL;
        if (*value && (cert = s_load_cert (value, error, size)) == NULL)
            return -1;
        zcert_destroy (&self->cert);
        self->cert = cert;
        return 0;
    }
    if (streq (key, "client-certs")) {
        zhashx_t *names = *value? s_load_names (value, error, size): zhashx_new ();
        if (!names)
            return -1;
        zhashx_destroy (&self->names);
        self->names = names;
        self->memo.valid = false;
        return 0;
    }
    if (streq (key, "permissions")) {
        zg_acl_t *acl = NULL;
        char reason [ZG_ACL_ERROR_SIZE];
        if (*value && (acl = zg_acl_load (value, reason)) == NULL) {
            snprintf (error, size, "%s", reason);
            return -1;
        }
        zg_acl_destroy (&self->acl);
        self->acl = acl;
        self->memo.valid = false;
        return 0;
    }
    return 1;
}

//  --------------------------------------------------------------------------
//  Bind socket to endpoint; a network endpoint runs CURVE if a server
//  certificate is set, and its connections are watched

int
zg_security_bind (zg_security_t *self, zsock_t *socket, const char *endpoint, char *error, size_t size)
{
    assert (self);
    bool network = strncmp (endpoint, "inproc://", 9) != 0;
    if (network && self->cert) {
        zcert_apply (self->cert, socket);
        zsock_set_curve_server (socket, 1);
        zsock_set_zap_domain (socket, ZG_SECURITY_ZAP_DOMAIN);
    }
    if (network)
        zg_connwatch_add (self->watch, socket);
    if (zg_actor_bind (socket, endpoint, error, size))
        return -1;
    self->bound = self->bound || network;
    return 0;
}

//  --------------------------------------------------------------------------
//  The watchdog over the input of the bound sockets' TCP connections

zg_connwatch_t *
zg_security_watch (zg_security_t *self)
{
    assert (self);
    return self->watch;
}

void
zg_security_watch_routes (zg_security_t *self, zg_routebytes_t *routes)
{
    assert (self && routes);
    zg_connwatch_on_output (self->watch, zg_routebytes_queued, routes);
    zg_connwatch_on_closed (self->watch, zg_routebytes_closed, routes);
    zg_connwatch_set_output_shared (self->watch);
    zg_routebytes_set_link_limit (routes, zg_connwatch_max_output);
}

//  --------------------------------------------------------------------------
//  Receive a request and count it as consumed from its connection

int
zg_security_recv (zg_security_t *self, zg_wire_request_t *request, void *handle)
{
    assert (self);
    if (zg_wire_recv (request, handle) == -1)
        return -1;
    //  The first frame after the routing id carries the connection's properties
    if (zg_wire_kept (request) > 1) {
        zg_connwatch_read (self->watch, &request->frames [1], request->wire, request->count - 1);
        zg_routebytes_learn (handle, zmq_msg_data (&request->frames [0]), zmq_msg_size (&request->frames [0]),
                             zg_connwatch_fd (&request->frames [1]));
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The name of the certificate with this public key, or the identity itself

const char *
zg_security_name (zg_security_t *self, const char *identity)
{
    assert (self);
    const char *name = identity? (const char *) zhashx_lookup (self->names, identity): NULL;
    return name? name: identity;
}

//  --------------------------------------------------------------------------
//  Whether a server certificate is set

bool
zg_security_on (zg_security_t *self)
{
    assert (self);
    return self->cert != NULL;
}

//  The rules both questions share: true or false when they decide, -1 when
//  the permissions file must
static int
s_decided (zg_security_t *self, const char *identity)
{
    if (!identity || !self->cert)
        return true;
    if (!*identity)
        return false;
    return self->acl? -1: true;
}

//  --------------------------------------------------------------------------
//  Whether the sender identity may do action on name (or on every name
//  starting with it)

//  Whether the memo holds this question
static bool
s_memo_holds (s_memo_t *memo, const char *identity, const char *pattern, const char *action, const char *name,
              bool prefix)
{
    return memo->valid && memo->prefix == prefix && streq (memo->name, name) && streq (memo->identity, identity)
        && streq (memo->action, action) && streq (memo->pattern, pattern);
}

//  Keep a question and its answer, if its parts fit
static void
s_memo_keep (s_memo_t *memo, const char *identity, const char *pattern, const char *action, const char *name,
             bool prefix, bool allowed)
{
    memo->valid = strlen (identity) < sizeof memo->identity && strlen (name) < sizeof memo->name
               && strlen (pattern) < sizeof memo->pattern && strlen (action) < sizeof memo->action;
    if (!memo->valid)
        return;
    strcpy (memo->identity, identity);
    strcpy (memo->name, name);
    strcpy (memo->pattern, pattern);
    strcpy (memo->action, action);
    memo->prefix = prefix;
    memo->allowed = allowed;
}

bool
zg_security_allows (zg_security_t *self, const char *identity, const char *pattern,
                    const char *action, const char *name, bool prefix)
{
    assert (self);
    int decided = s_decided (self, identity);
    if (decided >= 0)
        return decided;
    if (s_memo_holds (&self->memo, identity, pattern, action, name, prefix))
        return self->memo.allowed;
    const char *named = zg_security_name (self, identity);
    bool allowed = prefix? zg_acl_allows_prefix (self->acl, named, pattern, action, name)
                         : zg_acl_allows (self->acl, named, pattern, action, name);
    s_memo_keep (&self->memo, identity, pattern, action, name, prefix, allowed);
    return allowed;
}

//  --------------------------------------------------------------------------
//  Whether the sender identity may see stats, metrics and others' state

bool
zg_security_admin (zg_security_t *self, const char *identity)
{
    assert (self);
    int decided = s_decided (self, identity);
    return decided >= 0? decided: zg_acl_admin (self->acl, zg_security_name (self, identity));
}

//  --------------------------------------------------------------------------
//  Whether an endpoint stays on this host

bool
zg_security_endpoint_is_local (const char *endpoint)
{
    static const char *locals [] = {
        "inproc://", "ipc://", "tcp://127.", "tcp://localhost:", "tcp://[::1]:", NULL
    };
    for (const char **local = locals; *local; local++)
        if (strncmp (endpoint, *local, strlen (*local)) == 0)
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Write text into a new file in directory; returns its path (caller frees)
static char *
s_test_file (const char *directory, const char *name, const char *text)
{
    char *path = zsys_sprintf ("%s/%s", directory, name);
    FILE *file = fopen (path, "w");
    assert (file);
    fprintf (file, "%s", text);
    fclose (file);
    return path;
}

void
zg_security_test (bool verbose)
{
    printf (" * zg_security: ");
    if (verbose)
        printf ("\n");
    char directory [] = "/tmp/zg_security_test.XXXXXX";
    assert (mkdtemp (directory));
    char error [256];

    //  Security off: anything goes, even without an identity
    zg_security_t *security = zg_security_new ();
    assert (!zg_security_on (security));
    assert (zg_security_allows (security, "", "topics", "publish", "x", false));
    assert (zg_security_admin (security, "anyone"));
    assert (zg_security_set (security, "no-such-key", "x", error, sizeof error) == 1);

    //  Bad certificates and permissions are refused and change nothing
    assert (zg_security_set (security, "server-cert", "/no/such/cert", error, sizeof error) == -1);
    assert (strstr (error, "cannot read"));
    zcert_t *server = zcert_new ();
    zcert_t *client = zcert_new ();
    zcert_set_meta (client, "name", "alice");
    char *server_path = zsys_sprintf ("%s/server.cert", directory);
    assert (zcert_save (server, server_path) == 0);
    char *public_path = zsys_sprintf ("%s/public.cert", directory);
    assert (zcert_save_public (server, public_path) == 0);
    assert (zg_security_set (security, "server-cert", public_path, error, sizeof error) == -1);
    assert (strstr (error, "no secret key"));
    char *bad = s_test_file (directory, "bad.acl", "grants\n    x\n        stats = 1\n");
    assert (zg_security_set (security, "permissions", bad, error, sizeof error) == -1);
    assert (!zg_security_on (security));

    //  CURVE with no permissions file: every authenticated client may
    assert (zg_security_set (security, "server-cert", server_path, error, sizeof error) == 0);
    assert (zg_security_on (security));
    assert (zg_security_allows (security, "bob", "queues", "send", "jobs", false));
    assert (!zg_security_allows (security, "", "queues", "send", "jobs", false));
    assert (zg_security_allows (security, NULL, "queues", "send", "jobs", false));

    //  A real CURVE connection through zauth: the request names alice
    zactor_t *auth = zactor_new (zauth, NULL);
    assert (auth);
    char *certs = zsys_sprintf ("%s/clients", directory);
    assert (zsys_dir_create (certs) == 0);
    char *client_path = zsys_sprintf ("%s/alice.cert", certs);
    assert (zcert_save_public (client, client_path) == 0);
    zstr_sendx (auth, "CURVE", certs, NULL);
    zsock_wait (auth);
    assert (zg_security_set (security, "client-certs", "/no/such/dir", error, sizeof error) == -1);
    assert (zg_security_set (security, "client-certs", certs, error, sizeof error) == 0);
    assert (streq (zg_security_name (security, zcert_public_txt (client)), "alice"));
    assert (streq (zg_security_name (security, "unknown"), "unknown"));
    assert (zg_security_name (security, NULL) == NULL);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (zg_security_bind (security, router, "tcp://127.0.0.1:*", error, sizeof error) == 0);
    char *last_endpoint = zsock_last_endpoint (router);
    int port = atoi (strrchr (last_endpoint, ':') + 1);
    zstr_free (&last_endpoint);
    assert (zg_security_bind (security, router, "inproc://zg-security-test", error, sizeof error) == 0);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zcert_apply (client, dealer);
    zsock_set_curve_serverkey (dealer, zcert_public_txt (server));
    assert (zsock_connect (dealer, "tcp://127.0.0.1:%d", port) == 0);
    zsock_t *local = zsock_new_dealer (">inproc://zg-security-test");
    zstr_send (dealer, "hello");
    zstr_send (local, "hello");
    int identified = 0, trusted = 0;
    for (int count = 0; count < 2; count++) {
        zg_wire_request_t request;
        zmq_pollitem_t item = { zsock_resolve (router), 0, ZMQ_POLLIN, 0 };
        assert (zmq_poll (&item, 1, 2000) == 1);
        assert (zg_wire_recv (&request, zsock_resolve (router)) == 0);
        const char *identity = zg_wire_identity (&request);
        if (identity && streq (identity, zcert_public_txt (client))
        &&  streq (zg_security_name (security, identity), "alice"))
            identified++;
        if (!identity)
            trusted++;
        zg_wire_close (&request);
    }
    assert (identified == 1 && trusted == 1);
    //  The certificate must come before the endpoints
    assert (zg_security_set (security, "server-cert", server_path, error, sizeof error) == -1);
    zsock_destroy (&local);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    zactor_destroy (&auth);

    //  With permissions, they decide
    char *good = s_test_file (directory, "good.acl",
        "grants\n    alice\n        admin = 1\n        topics\n            subscribe = news.*\n");
    assert (zg_security_set (security, "permissions", good, error, sizeof error) == 0);
    assert (zg_security_allows (security, "alice", "topics", "subscribe", "news.x", true));
    assert (!zg_security_allows (security, "alice", "topics", "subscribe", "news", true));
    assert (!zg_security_allows (security, "bob", "topics", "subscribe", "news.x", false));
    assert (zg_security_allows (security, NULL, "topics", "subscribe", "news", true));
    //  A question asked again gets its answer again (the memo), each part of
    //  it counts, and new permissions or names answer anew
    assert (zg_security_allows (security, "alice", "topics", "subscribe", "news.x", true));
    assert (zg_security_allows (security, "alice", "topics", "subscribe", "news.x", true));
    assert (!zg_security_allows (security, "alice", "topics", "publish", "news.x", true));
    assert (!zg_security_allows (security, "alicf", "topics", "subscribe", "news.x", true));
    char *sports = s_test_file (directory, "sports.acl",
        "grants\n    alice\n        topics\n            subscribe = sports.*\n");
    assert (zg_security_allows (security, "alice", "topics", "subscribe", "news.x", true));
    assert (zg_security_set (security, "permissions", sports, error, sizeof error) == 0);
    assert (!zg_security_allows (security, "alice", "topics", "subscribe", "news.x", true));
    assert (zg_security_set (security, "permissions", good, error, sizeof error) == 0);
    assert (zg_security_allows (security, zcert_public_txt (client), "topics", "subscribe", "news.x", true));
    char *nobody = zsys_sprintf ("%s/nobody", directory);
    assert (zsys_dir_create (nobody) == 0);
    assert (zg_security_set (security, "client-certs", nobody, error, sizeof error) == 0);
    assert (!zg_security_allows (security, zcert_public_txt (client), "topics", "subscribe", "news.x", true));
    assert (zg_security_set (security, "client-certs", certs, error, sizeof error) == 0);
    assert (zg_security_admin (security, "alice"));
    assert (zg_security_admin (security, zcert_public_txt (client)));
    assert (!zg_security_admin (security, "bob"));
    assert (!zg_security_admin (security, ""));
    //  A bad file keeps the old permissions; "" removes them
    assert (zg_security_set (security, "permissions", bad, error, sizeof error) == -1);
    assert (!zg_security_admin (security, "bob"));
    assert (zg_security_set (security, "permissions", "", error, sizeof error) == 0);
    assert (zg_security_admin (security, "bob"));
    zg_security_destroy (&security);
    zg_security_destroy (&security);

    assert (zg_security_endpoint_is_local ("tcp://127.0.0.1:5560"));
    assert (zg_security_endpoint_is_local ("tcp://localhost:5560"));
    assert (zg_security_endpoint_is_local ("tcp://[::1]:5560"));
    assert (zg_security_endpoint_is_local ("ipc:///run/zgate/topics"));
    assert (zg_security_endpoint_is_local ("inproc://x"));
    assert (!zg_security_endpoint_is_local ("tcp://0.0.0.0:5560"));
    assert (!zg_security_endpoint_is_local ("tcp://*:5560"));
    assert (!zg_security_endpoint_is_local ("tcp://eth0:5560"));
    assert (!zg_security_endpoint_is_local ("tcp://127:5560"));

    zcert_destroy (&server);
    zcert_destroy (&client);
    zdir_t *dir = zdir_new (directory, NULL);
    zdir_remove (dir, true);
    zdir_destroy (&dir);
    zstr_free (&server_path);
    zstr_free (&public_path);
    zstr_free (&client_path);
    zstr_free (&certs);
    zstr_free (&bad);
    zstr_free (&good);
    zstr_free (&sports);
    zstr_free (&nobody);
    printf ("OK\n");
}
