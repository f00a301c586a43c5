/*  =========================================================================
    zg_token - web tokens: verifies a JWT (libjwt) and says what its holder
    may do

    libjwt checks the signature with the algorithm the token's header names
    and the key it is given; this class then refuses any algorithm but the
    configured one, which is what stops a token signed "HS256" with the
    public key as secret, or "none". libjwt 1.10 does not check times, so
    `exp` and `nbf` are checked here.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_token.h"
#include <jwt.h>

//  Largest public key file, bytes
#define ZG_TOKEN_MAX_KEY 65536
//  Longest token, bytes
#define ZG_TOKEN_MAX_SIZE 16384

struct _zg_token_t {
    jwt_alg_t algorithm;            //  The one algorithm accepted
    unsigned char *key;             //  Secret or PEM public key
    size_t key_size;                //  Its length
};

//  --------------------------------------------------------------------------
//  Create a verifier

//  The algorithm's family: 'H' (HMAC), 'R' (RSA), 'E' (ECDSA) or 0
static char
s_family (jwt_alg_t algorithm)
{
    switch (algorithm) {
        case JWT_ALG_HS256: case JWT_ALG_HS384: case JWT_ALG_HS512:
            return 'H';
        case JWT_ALG_RS256: case JWT_ALG_RS384: case JWT_ALG_RS512:
            return 'R';
        case JWT_ALG_ES256: case JWT_ALG_ES384: case JWT_ALG_ES512:
            return 'E';
        default:
            return 0;
    }
}

//  Read a whole key file into a new buffer; NULL with a reason
static unsigned char *
s_read_key (const char *path, size_t *size_p, char *error, size_t size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (error, size, "cannot read '%s': %s", path, strerror (errno));
        return NULL;
    }
    unsigned char *key = (unsigned char *) zmalloc (ZG_TOKEN_MAX_KEY + 1);
    size_t length = fread (key, 1, ZG_TOKEN_MAX_KEY + 1, file);
    fclose (file);
    if (length == 0 || length > ZG_TOKEN_MAX_KEY) {
        snprintf (error, size, "'%s' is empty or larger than %d bytes", path, ZG_TOKEN_MAX_KEY);
        free (key);
        return NULL;
    }
    *size_p = length;
    return key;
}

zg_token_t *
zg_token_new (const char *algorithm, const char *secret, const char *public_key_path, char *error, size_t size)
{
    assert (algorithm && secret && public_key_path);
    if ((*secret == 0) == (*public_key_path == 0)) {
        snprintf (error, size, "give either security/jwt-secret or security/jwt-public-key, not both");
        return NULL;
    }
    const char *name = *algorithm? algorithm: *secret? "HS256": "RS256";
    jwt_alg_t alg = jwt_str_alg (name);
    char family = s_family (alg);
    if (!family) {
        snprintf (error, size, "'%s' is not HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384 or ES512",
                  name);
        return NULL;
    }
    if ((family == 'H') != (*secret != 0)) {
        snprintf (error, size, "%s needs %s", name, family == 'H'? "a jwt-secret": "a jwt-public-key file");
        return NULL;
    }
    zg_token_t *self = (zg_token_t *) zmalloc (sizeof (zg_token_t));
    assert (self);
    self->algorithm = alg;
    if (*secret) {
        self->key = (unsigned char *) strdup (secret);
        self->key_size = strlen (secret);
    }
    else
    if (!(self->key = s_read_key (public_key_path, &self->key_size, error, size)))
        zg_token_destroy (&self);
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy the verifier

void
zg_token_destroy (zg_token_t **self_p)
{
    assert (self_p);
    zg_token_t *self = *self_p;
    if (self) {
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

const char *
zg_token_algorithm (zg_token_t *self)
{
    assert (self);
    return jwt_alg_str (self->algorithm);
}

//  ==========================================================================
//  Claims

void
zg_token_claims_destroy (zg_token_claims_t **self_p)
{
    assert (self_p);
    zg_token_claims_t *self = *self_p;
    if (self) {
        free (self->subject);
        zlistx_destroy (&self->roles);
        zg_acl_destroy (&self->grants);
        free (self);
        *self_p = NULL;
    }
}

//  An integer time claim: 0 if absent, -1 if not an integer
static int64_t
s_time_claim (jwt_t *jwt, const char *name)
{
    char *json = jwt_get_grants_json (jwt, name);
    if (!json)
        return 0;
    json_object *value = json_tokener_parse (json);
    free (json);
    int64_t time = json_object_is_type (value, json_type_int)? json_object_get_int64 (value): -1;
    json_object_put (value);
    return time > 0? time: -1;
}

//  Add role names from a JSON string (separated) or array of strings; -1 if neither
static int
s_add_roles (zlistx_t *roles, json_object *value)
{
    if (json_object_is_type (value, json_type_string)) {
        char *names = strdup (json_object_get_string (value));
        for (char *save = NULL, *name = strtok_r (names, " \t,", &save); name; name = strtok_r (NULL, " \t,", &save))
            zlistx_add_end (roles, name);
        free (names);
        return 0;
    }
    if (!json_object_is_type (value, json_type_array))
        return -1;
    for (size_t index = 0; index < json_object_array_length (value); index++) {
        json_object *name = json_object_array_get_idx (value, index);
        if (!json_object_is_type (name, json_type_string))
            return -1;
        zlistx_add_end (roles, (void *) json_object_get_string (name));
    }
    return 0;
}

//  Write a JSON object into a ZPL section: objects become sections, strings
//  and arrays of strings values (space separated), integers and booleans
//  0 or 1; -1 for anything else
static int
s_json_to_zpl (json_object *object, zconfig_t *section)
{
    json_object_object_foreach (object, key, value) {
        zconfig_t *child = zconfig_new (key, section);
        if (json_object_is_type (value, json_type_object)) {
            if (s_json_to_zpl (value, child))
                return -1;
        }
        else
        if (json_object_is_type (value, json_type_string))
            zconfig_set_value (child, "%s", json_object_get_string (value));
        else
        if (json_object_is_type (value, json_type_int) || json_object_is_type (value, json_type_boolean))
            zconfig_set_value (child, "%d", json_object_get_boolean (value)? 1: 0);
        else
        if (json_object_is_type (value, json_type_array)) {
            zlistx_t *names = zlistx_new ();
            zlistx_set_duplicator (names, (zlistx_duplicator_fn *) strdup);
            zlistx_set_destructor (names, (zlistx_destructor_fn *) zstr_free);
            int rc = s_add_roles (names, value);
            char *joined = strdup ("");
            for (char *name = (char *) zlistx_first (names); name; name = (char *) zlistx_next (names)) {
                char *longer = zsys_sprintf ("%s %s", joined, name);
                free (joined);
                joined = longer;
            }
            zconfig_set_value (child, "%s", joined);
            free (joined);
            zlistx_destroy (&names);
            if (rc)
                return -1;
        }
        else
            return -1;
    }
    return 0;
}

//  The subject's grants from the `zgate` claim (JSON text), or NULL with a reason
static zg_acl_t *
s_claim_grants (const char *subject, const char *json, char *error, size_t size)
{
    json_object *claim = json_tokener_parse (json);
    zg_acl_t *grants = NULL;
    zconfig_t *root = zconfig_new ("root", NULL);
    zconfig_t *subject_section = zconfig_new (subject, zconfig_new ("grants", root));
    char reason [ZG_ACL_ERROR_SIZE] = "";
    if (!json_object_is_type (claim, json_type_object) || s_json_to_zpl (claim, subject_section))
        snprintf (error, size, "the zgate claim must be an object of sections, names and integers");
    else
    if (!(grants = zg_acl_new (root, reason)))
        snprintf (error, size, "the zgate claim: %s", reason);
    zconfig_destroy (&root);
    json_object_put (claim);
    return grants;
}

//  The claims of a token whose signature holds; NULL with a reason
static zg_token_claims_t *
s_claims (jwt_t *jwt, char *error, size_t size)
{
    const char *subject = jwt_get_grant (jwt, "sub");
    if (!subject || !*subject) {
        snprintf (error, size, "the token has no sub");
        return NULL;
    }
    zg_token_claims_t *claims = (zg_token_claims_t *) zmalloc (sizeof (zg_token_claims_t));
    assert (claims);
    claims->subject = strdup (subject);
    claims->roles = zlistx_new ();
    zlistx_set_duplicator (claims->roles, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor (claims->roles, (zlistx_destructor_fn *) zstr_free);
    char *roles = jwt_get_grants_json (jwt, "roles");
    if (roles) {
        json_object *value = json_tokener_parse (roles);
        if (s_add_roles (claims->roles, value)) {
            snprintf (error, size, "roles must be a string or an array of strings");
            zg_token_claims_destroy (&claims);
        }
        json_object_put (value);
        free (roles);
    }
    char *grants = claims? jwt_get_grants_json (jwt, "zgate"): NULL;
    if (grants) {
        claims->grants = s_claim_grants (claims->subject, grants, error, size);
        if (!claims->grants)
            zg_token_claims_destroy (&claims);
        free (grants);
    }
    return claims;
}

//  --------------------------------------------------------------------------
//  Verify a token

zg_token_status_t
zg_token_verify (zg_token_t *self, const char *token, int64_t now, zg_token_claims_t **claims_p, char *error,
                 size_t size)
{
    assert (self && token && claims_p);
    *claims_p = NULL;
    if (strlen (token) > ZG_TOKEN_MAX_SIZE) {
        snprintf (error, size, "the token is longer than %d bytes", ZG_TOKEN_MAX_SIZE);
        return ZG_TOKEN_INVALID;
    }
    jwt_t *jwt = NULL;
    if (jwt_decode (&jwt, token, self->key, (int) self->key_size) || !jwt) {
        snprintf (error, size, "the token is malformed or its signature does not verify");
        return ZG_TOKEN_INVALID;
    }
    zg_token_status_t status = ZG_TOKEN_INVALID;
    int64_t expires = s_time_claim (jwt, "exp");
    int64_t not_before = s_time_claim (jwt, "nbf");
    if (jwt_get_alg (jwt) != self->algorithm)
        snprintf (error, size, "the token is signed with %s, not %s", jwt_alg_str (jwt_get_alg (jwt)),
                  jwt_alg_str (self->algorithm));
    else
    if (expires < 0 || not_before < 0)
        snprintf (error, size, "exp and nbf must be positive integers");
    else
    if (expires && now >= expires) {
        snprintf (error, size, "token expired");
        status = ZG_TOKEN_EXPIRED;
    }
    else
    if (not_before && now < not_before) {
        snprintf (error, size, "the token is not valid yet");
        status = ZG_TOKEN_NOT_YET;
    }
    else
    if ((*claims_p = s_claims (jwt, error, size))) {
        (*claims_p)->expires = expires;
        status = ZG_TOKEN_OK;
    }
    jwt_free (jwt);
    return status;
}

//  --------------------------------------------------------------------------
//  What the holder may do

bool
zg_token_claims_allows (zg_token_claims_t *self, zg_acl_t *acl, const char *pattern, const char *action,
                        const char *name, bool prefix)
{
    assert (self);
    bool (*allows) (zg_acl_t *, const char *, const char *, const char *, const char *)
        = prefix? zg_acl_allows_prefix: zg_acl_allows;
    if (self->grants && allows (self->grants, self->subject, pattern, action, name))
        return true;
    if (!acl)
        return false;
    if (allows (acl, self->subject, pattern, action, name))
        return true;
    for (const char *role = (const char *) zlistx_first (self->roles); role;
         role = (const char *) zlistx_next (self->roles))
        if (allows (acl, role, pattern, action, name))
            return true;
    return false;
}

bool
zg_token_claims_admin (zg_token_claims_t *self, zg_acl_t *acl)
{
    assert (self);
    if (self->grants && zg_acl_admin (self->grants, self->subject))
        return true;
    if (!acl)
        return false;
    if (zg_acl_admin (acl, self->subject))
        return true;
    for (const char *role = (const char *) zlistx_first (self->roles); role;
         role = (const char *) zlistx_next (self->roles))
        if (zg_acl_admin (acl, role))
            return true;
    return false;
}

//  --------------------------------------------------------------------------
//  Self test of this class

#include <openssl/pem.h>
#include <openssl/evp.h>

//  A token signed with key by algorithm, with the claims of a JSON object
static char *
s_test_token (jwt_alg_t algorithm, const char *key, const char *claims)
{
    jwt_t *jwt = NULL;
    int rc = jwt_new (&jwt);
    assert (rc == 0);
    rc = jwt_add_grants_json (jwt, claims);
    assert (rc == 0);
    rc = jwt_set_alg (jwt, algorithm, (const unsigned char *) key, key? (int) strlen (key): 0);
    assert (rc == 0);
    char *token = jwt_encode_str (jwt);
    assert (token);
    jwt_free (jwt);
    return token;
}

//  The status of a token signed by algorithm with key and claims, as verifier sees it at now
static zg_token_status_t
s_test_verify (zg_token_t *verifier, jwt_alg_t algorithm, const char *key, const char *claims, int64_t now,
               zg_token_claims_t **claims_p)
{
    char *token = s_test_token (algorithm, key, claims);
    char error [256];
    zg_token_status_t status = zg_token_verify (verifier, token, now, claims_p, error, sizeof error);
    free (token);
    return status;
}

//  A PEM text of a BIO, new
static char *
s_test_bio_text (BIO *bio)
{
    char *data = NULL;
    long length = BIO_get_mem_data (bio, &data);
    char *text = (char *) zmalloc ((size_t) length + 1);
    memcpy (text, data, (size_t) length);
    return text;
}

void
zg_token_test (bool verbose)
{
    printf (" * zg_token: ");
    //  @selftest
    char error [256];
    assert (!zg_token_new ("", "", "", error, sizeof error));
    assert (!zg_token_new ("", "s", "/k", error, sizeof error));
    assert (!zg_token_new ("XS256", "s", "", error, sizeof error));
    assert (!zg_token_new ("RS256", "s", "", error, sizeof error));
    assert (!zg_token_new ("ES256", "", "/no/such/key.pem", error, sizeof error));
    if (verbose)
        printf ("(%s) ", error);
    zg_token_t *hs = zg_token_new ("", "sesame", "", error, sizeof error);
    assert (hs && streq (zg_token_algorithm (hs), "HS256"));

    //  Times, subject, signatures
    zg_token_claims_t *claims = NULL;
    const char *good = "{\"sub\":\"alice\",\"exp\":2000,\"nbf\":1000,\"roles\":\"ops, viewers\","
                       "\"zgate\":{\"admin\":1,\"topics\":{\"publish\":[\"a.*\",\"b\"]}}}";
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", good, 1500, &claims) == ZG_TOKEN_OK);
    assert (streq (claims->subject, "alice") && claims->expires == 2000 && zlistx_size (claims->roles) == 2);
    assert (zg_token_claims_allows (claims, NULL, "topics", "publish", "a.x", false));
    assert (zg_token_claims_allows (claims, NULL, "topics", "publish", "b", false));
    assert (!zg_token_claims_allows (claims, NULL, "topics", "publish", "c", false));
    assert (!zg_token_claims_allows (claims, NULL, "topics", "subscribe", "a.x", false));
    assert (zg_token_claims_admin (claims, NULL));
    //  Roles take their grants from the permissions file
    zconfig_t *root = zconfig_str_load ("grants\n    viewers\n        topics\n            subscribe = s.*\n");
    zg_acl_t *acl = zg_acl_new (root, error);
    assert (acl);
    assert (zg_token_claims_allows (claims, acl, "topics", "subscribe", "s.", true));
    assert (!zg_token_claims_allows (claims, acl, "topics", "subscribe", "", true));
    zg_token_claims_destroy (&claims);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", good, 2000, &claims) == ZG_TOKEN_EXPIRED);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", good, 999, &claims) == ZG_TOKEN_NOT_YET);
    assert (s_test_verify (hs, JWT_ALG_HS256, "wrong", good, 1500, &claims) == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_HS512, "sesame", good, 1500, &claims) == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_NONE, NULL, good, 1500, &claims) == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", "{\"exp\":2000}", 1500, &claims) == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", "{\"sub\":\"a\",\"exp\":\"x\"}", 1, &claims)
            == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", "{\"sub\":\"a\",\"roles\":[1]}", 1, &claims)
            == ZG_TOKEN_INVALID);
    assert (s_test_verify (hs, JWT_ALG_HS256, "sesame", "{\"sub\":\"a\",\"zgate\":{\"topics\":{\"eat\":\"x\"}}}",
                           1, &claims) == ZG_TOKEN_INVALID);
    assert (claims == NULL);
    assert (zg_token_verify (hs, "not.a.token", 1, &claims, error, sizeof error) == ZG_TOKEN_INVALID);

    //  ES256 with a public key file; the same key as an HMAC secret is refused
    EVP_PKEY *pair = EVP_EC_gen ("P-256");
    assert (pair);
    BIO *private_bio = BIO_new (BIO_s_mem ());
    BIO *public_bio = BIO_new (BIO_s_mem ());
    PEM_write_bio_PrivateKey (private_bio, pair, NULL, NULL, 0, NULL, NULL);
    PEM_write_bio_PUBKEY (public_bio, pair);
    char *private_pem = s_test_bio_text (private_bio);
    char *public_pem = s_test_bio_text (public_bio);
    char path [] = "/tmp/zg_token_test_XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    assert (write (fd, public_pem, strlen (public_pem)) == (ssize_t) strlen (public_pem));
    close (fd);
    zg_token_t *es = zg_token_new ("ES256", "", path, error, sizeof error);
    assert (es);
    assert (s_test_verify (es, JWT_ALG_ES256, private_pem, "{\"sub\":\"bob\"}", 1, &claims) == ZG_TOKEN_OK);
    assert (streq (claims->subject, "bob") && claims->expires == 0 && !claims->grants);
    assert (!zg_token_claims_allows (claims, acl, "topics", "publish", "a", false));
    assert (!zg_token_claims_admin (claims, acl));
    zg_token_claims_destroy (&claims);
    assert (s_test_verify (es, JWT_ALG_HS256, public_pem, "{\"sub\":\"bob\"}", 1, &claims) == ZG_TOKEN_INVALID);
    unlink (path);

    zg_token_destroy (&es);
    zg_token_destroy (&hs);
    zg_token_destroy (&hs);
    zg_acl_destroy (&acl);
    zconfig_destroy (&root);
    free (private_pem);
    free (public_pem);
    BIO_free (private_bio);
    BIO_free (public_bio);
    EVP_PKEY_free (pair);
    //  @end
    printf ("OK\n");
}
