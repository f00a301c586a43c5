/*  =========================================================================
    zgate-keygen - makes a CURVE certificate pair in czmq's format, for
    zgate's server (security/server-cert) or for one of its clients

    zgate-keygen NAME [DIR]

    Writes DIR/NAME.cert (the public certificate, with NAME as its `name`
    metadata: the identity zgate knows the client by; copy it into the
    directory security/client-certs) and DIR/NAME.cert_secret (keep it
    private: the server's is security/server-cert, a client's is what the
    client loads). DIR defaults to the current directory. An existing file
    is never overwritten: that would revoke the key in use.
    =========================================================================
*/

#include <czmq.h>

//  NAME must be a ZPL name (it is written unquoted as a key of the
//  permissions file) and a file name
static bool
s_valid_name (const char *name)
{
    if (!*name || strlen (name) > 64)
        return false;
    for (const char *byte = name; *byte; byte++)
        if (!isalnum ((unsigned char) *byte) && !strchr ("-_.@", *byte))
            return false;
    return *name != '.';
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argc > 3 || streq (argv [1], "-h") || streq (argv [1], "--help")) {
        fprintf (argc < 2? stderr: stdout, "usage: zgate-keygen NAME [DIR]\n"
                 "writes DIR/NAME.cert (public, metadata name = NAME) and DIR/NAME.cert_secret\n");
        return argc < 2 || argc > 3? 2: 0;
    }
    const char *name = argv [1];
    const char *directory = argc == 3? argv [2]: ".";
    if (!s_valid_name (name)) {
        fprintf (stderr, "zgate-keygen: '%s' is not a name (1 to 64 letters, digits, '-', '_', '.', '@')\n", name);
        return 2;
    }
    char *public_path = zsys_sprintf ("%s/%s.cert", directory, name);
    char *secret_path = zsys_sprintf ("%s/%s.cert_secret", directory, name);
    int rc = 0;
    if (zsys_file_exists (public_path) || zsys_file_exists (secret_path)) {
        fprintf (stderr, "zgate-keygen: %s exists: not overwritten\n", public_path);
        rc = 2;
    }
    else {
        zcert_t *cert = zcert_new ();
        assert (cert);
        zcert_set_meta (cert, "name", "%s", name);
        if (zcert_save (cert, public_path) == -1) {
            fprintf (stderr, "zgate-keygen: cannot write %s: %s\n", public_path, strerror (errno));
            rc = 1;
        }
        else
            printf ("%s %s\n", public_path, zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    zstr_free (&public_path);
    zstr_free (&secret_path);
    return rc;
}
