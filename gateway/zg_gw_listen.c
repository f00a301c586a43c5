/*  =========================================================================
    zg_gw_listen - where and how the gateway listens

    lws 4.1 takes an interface that cannot be bound, logs errors and runs a
    context that listens nowhere (or, with IPv6 on, every IPv4 address for
    "::1"); so the address is bound once here first, and the context is
    told to fail rather than go on and to stay on the address's family.
    With several gateway threads (zg_gw_accept) the first keeps that bound
    socket, listening, and lws listens in no thread.
    TLS is lws' (OpenSSL): a reload goes through lws_tls_cert_updated,
    which finds the vhost by the paths it started with, so a new path takes
    a restart; a pair lws cannot use is refused here, as lws would leave
    the vhost without a certificate.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_listen.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

//  Largest certificate chain or key file, bytes
#define ZG_GW_LISTEN_MAX_PEM 1048576

struct _zg_gw_listen_t {
    char *cert;                     //  gateway/tls-cert, "" for plain HTTP
    char *key;                      //  gateway/tls-key
    zg_gw_listen_mode_t mode;       //  Who listens: lws, this object, or no one
    int fd;                         //  ZG_GW_LISTEN_OWN's listening socket, else -1
};

zg_gw_listen_t *
zg_gw_listen_new (void)
{
    zg_gw_listen_t *self = (zg_gw_listen_t *) zmalloc (sizeof (zg_gw_listen_t));
    assert (self);
    self->cert = strdup ("");
    self->key = strdup ("");
    self->fd = -1;
    return self;
}

void
zg_gw_listen_destroy (zg_gw_listen_t **self_p)
{
    assert (self_p);
    zg_gw_listen_t *self = *self_p;
    if (self) {
        if (self->fd >= 0)
            close (self->fd);
        free (self->cert);
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

bool
zg_gw_listen_tls (zg_gw_listen_t *self)
{
    return *self->cert != 0;
}

//  ==========================================================================
//  TLS files

//  A whole PEM file, new, or NULL with a reason
static char *
s_read_pem (const char *path, size_t *size_p, char *error, size_t size)
{
    zfile_t *file = zfile_new (NULL, path);
    zchunk_t *chunk = file && zfile_input (file) == 0? zfile_read (file, ZG_GW_LISTEN_MAX_PEM, 0): NULL;
    char *text = NULL;
    if (chunk && zchunk_size (chunk) > 0) {
        *size_p = zchunk_size (chunk);
        text = (char *) zmalloc (*size_p + 1);
        memcpy (text, zchunk_data (chunk), *size_p);
    }
    else
        snprintf (error, size, "cannot read '%s'", path);
    zchunk_destroy (&chunk);
    zfile_destroy (&file);
    return text;
}

//  Whether a PEM certificate (its chain after it) and private key belong together
static bool
s_pair_valid (const char *cert, size_t cert_size, const char *key, size_t key_size)
{
    BIO *cert_bio = BIO_new_mem_buf (cert, (int) cert_size);
    BIO *key_bio = BIO_new_mem_buf (key, (int) key_size);
    X509 *x509 = PEM_read_bio_X509 (cert_bio, NULL, NULL, NULL);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey (key_bio, NULL, NULL, NULL);
    bool valid = x509 && pkey && X509_check_private_key (x509, pkey) == 1;
    //  A mismatch leaves its reasons on this thread's OpenSSL error queue
    ERR_clear_error ();
    EVP_PKEY_free (pkey);
    X509_free (x509);
    BIO_free (key_bio);
    BIO_free (cert_bio);
    return valid;
}

//  The certificate and key files, read and checked; 0, or -1 with a reason.
//  On success *cert_p and *key_p are the caller's.
static int
s_self_read_pair (zg_gw_listen_t *self, char **cert_p, size_t *cert_size, char **key_p, size_t *key_size,
                  char *error, size_t size)
{
    *cert_p = s_read_pem (self->cert, cert_size, error, size);
    *key_p = *cert_p? s_read_pem (self->key, key_size, error, size): NULL;
    if (*key_p && s_pair_valid (*cert_p, *cert_size, *key_p, *key_size))
        return 0;
    if (*key_p)
        snprintf (error, size, "'%s' and '%s' are not a PEM certificate and its private key", self->cert,
                  self->key);
    free (*cert_p);
    free (*key_p);
    *cert_p = *key_p = NULL;
    return -1;
}

int
zg_gw_listen_set (zg_gw_listen_t *self, struct lws_context *context, const char *key, const char *value,
                  char *error, size_t size)
{
    if (strneq (key, "tls-cert") && strneq (key, "tls-key"))
        return 1;
    char **field = streq (key, "tls-cert")? &self->cert: &self->key;
    if (!context) {
        if (*value && access (value, R_OK)) {
            snprintf (error, size, "cannot read '%s': %s", value, strerror (errno));
            return -1;
        }
        free (*field);
        *field = strdup (value);
        return 0;
    }
    if (strneq (*field, value)) {
        snprintf (error, size, "a new path changes on a restart only (the files at the old one reload)");
        return -1;
    }
    if (!zg_gw_listen_tls (self)) {
        snprintf (error, size, "the gateway was started without TLS");
        return -1;
    }
    char *cert, *private_key;
    size_t cert_size, key_size;
    if (s_self_read_pair (self, &cert, &cert_size, &private_key, &key_size, error, size))
        return -1;
    int rc = lws_tls_cert_updated (context, self->cert, self->key, cert, cert_size, private_key, key_size);
    if (rc)
        snprintf (error, size, "lws could not load the new certificate and key");
    free (cert);
    free (private_key);
    return rc? -1: 0;
}

//  ==========================================================================
//  The address

//  Bind interface and port once; 0, or -1 with the system's reason. In
//  ZG_GW_LISTEN_OWN mode the socket stays, listening, in self->fd
static int
s_self_bind (zg_gw_listen_t *self, const char *interface, long port, char *error, size_t size)
{
    struct sockaddr_storage address = { 0 };
    struct sockaddr_in *ipv4 = (struct sockaddr_in *) &address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) &address;
    socklen_t length = sizeof *ipv4;
    if (inet_pton (AF_INET, interface, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons ((uint16_t) port);
    }
    else
    if (inet_pton (AF_INET6, interface, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons ((uint16_t) port);
        length = sizeof *ipv6;
    }
    else {
        snprintf (error, size, "'%s' is not an IPv4 or IPv6 address", interface);
        return -1;
    }
    bool own = self->mode == ZG_GW_LISTEN_OWN;
    int fd = socket (address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (own? SOCK_NONBLOCK: 0), 0);
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (own && address.ss_family == AF_INET6)
        setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    int rc = fd < 0? -1: bind (fd, (struct sockaddr *) &address, length);
    if (rc == 0 && own)
        rc = listen (fd, SOMAXCONN);
    if (rc)
        snprintf (error, size, "cannot listen on %s port %ld: %s", interface, port, strerror (errno));
    if (fd >= 0 && (rc || !own))
        close (fd);
    else
        self->fd = fd;
    return rc? -1: 0;
}

void
zg_gw_listen_set_mode (zg_gw_listen_t *self, zg_gw_listen_mode_t mode)
{
    assert (self);
    self->mode = mode;
}

int
zg_gw_listen_fd (zg_gw_listen_t *self)
{
    assert (self);
    return self->fd;
}

int
zg_gw_listen_prepare (zg_gw_listen_t *self, const char *interface, long port,
                      struct lws_context_creation_info *info, char *error, size_t size)
{
    if (self->fd >= 0) {
        snprintf (error, size, "the gateway is already listening");
        return -1;
    }
    if (self->mode != ZG_GW_LISTEN_NONE && s_self_bind (self, interface, port, error, size))
        return -1;
    if (zg_gw_listen_tls (self)) {
        char *cert, *private_key;
        size_t cert_size, key_size;
        if (s_self_read_pair (self, &cert, &cert_size, &private_key, &key_size, error, size))
            return -1;
        free (cert);
        free (private_key);
        info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info->ssl_cert_filepath = self->cert;
        info->ssl_private_key_filepath = self->key;
        //  HTTP/1.1 only: the gateway writes replies whole, larger than an HTTP/2 frame
        info->alpn = "http/1.1";
    }
    //  Else lws serves the connections handed to it (and sets up TLS for
    //  them) but does not listen itself
    info->port = self->mode == ZG_GW_LISTEN_LWS? (int) port: CONTEXT_PORT_NO_LISTEN_SERVER;
    info->iface = interface;
    //  Fail rather than listen nowhere; stay on the address's family
    info->options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (strchr (interface, ':'))
        info->options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
    else
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    return 0;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Write a new self-signed certificate and its key (or another key) as PEM files
static void
s_test_write_pair (const char *cert_path, const char *key_path, bool matching)
{
    EVP_PKEY *pkey = EVP_EC_gen ("P-256");
    X509 *x509 = X509_new ();
    ASN1_INTEGER_set (X509_get_serialNumber (x509), 1);
    X509_gmtime_adj (X509_getm_notBefore (x509), 0);
    X509_gmtime_adj (X509_getm_notAfter (x509), 3600);
    X509_set_pubkey (x509, pkey);
    X509_NAME_add_entry_by_txt (X509_get_subject_name (x509), "CN", MBSTRING_ASC, (const byte *) "zgate", -1, -1, 0);
    X509_set_issuer_name (x509, X509_get_subject_name (x509));
    X509_sign (x509, pkey, EVP_sha256 ());
    EVP_PKEY *other = matching? NULL: EVP_EC_gen ("P-256");
    FILE *file = fopen (cert_path, "w");
    assert (file);
    PEM_write_X509 (file, x509);
    fclose (file);
    file = fopen (key_path, "w");
    assert (file);
    PEM_write_PrivateKey (file, other? other: pkey, NULL, NULL, 0, NULL, NULL);
    fclose (file);
    EVP_PKEY_free (other);
    EVP_PKEY_free (pkey);
    X509_free (x509);
}

void
zg_gw_listen_test (bool verbose)
{
    printf (" * zg_gw_listen: ");
    //  @selftest
    zg_gw_listen_t *listener = zg_gw_listen_new ();
    char error [256];
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    assert (zg_gw_listen_set (listener, NULL, "http-port", "1", error, sizeof error) == 1);
    assert (zg_gw_listen_set (listener, NULL, "tls-cert", "/no/such/cert.pem", error, sizeof error) == -1);
    assert (!zg_gw_listen_tls (listener));
    //  Addresses: not one, not this host's, this host's (port 0: any free one)
    assert (zg_gw_listen_prepare (listener, "localhost", 0, &info, error, sizeof error) == -1);
    assert (strstr (error, "not an IPv4 or IPv6 address"));
    assert (zg_gw_listen_prepare (listener, "10.9.9.9", 0, &info, error, sizeof error) == -1);
    if (verbose)
        printf ("(%s) ", error);
    assert (zg_gw_listen_prepare (listener, "127.0.0.1", 0, &info, error, sizeof error) == 0);
    assert ((info.options & LWS_SERVER_OPTION_DISABLE_IPV6) == LWS_SERVER_OPTION_DISABLE_IPV6);
    assert (info.ssl_cert_filepath == NULL);
    memset (&info, 0, sizeof info);
    if (zg_gw_listen_prepare (listener, "::1", 0, &info, error, sizeof error) == 0)
        assert ((info.options & LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE) == LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE);
    assert (zg_gw_listen_fd (listener) == -1);

    //  Its own listener: lws does not listen; no listener at all: nothing is bound
    zg_gw_listen_t *first = zg_gw_listen_new ();
    zg_gw_listen_t *second = zg_gw_listen_new ();
    zg_gw_listen_set_mode (first, ZG_GW_LISTEN_OWN);
    zg_gw_listen_set_mode (second, ZG_GW_LISTEN_NONE);
    memset (&info, 0, sizeof info);
    assert (zg_gw_listen_prepare (first, "127.0.0.1", 0, &info, error, sizeof error) == 0);
    assert (info.port == CONTEXT_PORT_NO_LISTEN_SERVER && zg_gw_listen_fd (first) >= 0);
    struct sockaddr_in bound = { 0 };
    socklen_t bound_size = sizeof bound;
    getsockname (zg_gw_listen_fd (first), (struct sockaddr *) &bound, &bound_size);
    long own_port = ntohs (bound.sin_port);
    assert (zg_gw_listen_prepare (first, "127.0.0.1", own_port, &info, error, sizeof error) == -1);
    assert (strstr (error, "already listening"));
    assert (zg_gw_listen_prepare (listener, "127.0.0.1", own_port, &info, error, sizeof error) == -1);
    assert (strstr (error, "Address already in use"));
    memset (&info, 0, sizeof info);
    assert (zg_gw_listen_prepare (second, "127.0.0.1", own_port, &info, error, sizeof error) == 0);
    assert (info.port == CONTEXT_PORT_NO_LISTEN_SERVER && zg_gw_listen_fd (second) == -1);
    zg_gw_listen_destroy (&second);
    zg_gw_listen_destroy (&first);

    //  TLS: a certificate with another's key is refused, its own key taken
    char cert [] = "/tmp/zg_gw_listen_cert_XXXXXX";
    char key [] = "/tmp/zg_gw_listen_key_XXXXXX";
    close (mkstemp (cert));
    close (mkstemp (key));
    s_test_write_pair (cert, key, false);
    assert (zg_gw_listen_set (listener, NULL, "tls-cert", cert, error, sizeof error) == 0);
    assert (zg_gw_listen_set (listener, NULL, "tls-key", key, error, sizeof error) == 0);
    assert (zg_gw_listen_tls (listener));
    memset (&info, 0, sizeof info);
    assert (zg_gw_listen_prepare (listener, "127.0.0.1", 0, &info, error, sizeof error) == -1);
    assert (strstr (error, "not a PEM certificate and its private key"));
    s_test_write_pair (cert, key, true);
    assert (zg_gw_listen_prepare (listener, "127.0.0.1", 0, &info, error, sizeof error) == 0);
    assert (streq (info.ssl_cert_filepath, cert) && streq (info.ssl_private_key_filepath, key));
    unlink (cert);
    unlink (key);

    zg_gw_listen_destroy (&listener);
    zg_gw_listen_destroy (&listener);
    //  The test's OpenSSL calls left state in this thread
    OPENSSL_thread_stop ();
    //  @end
    printf ("OK\n");
}
