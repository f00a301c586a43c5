/*  =========================================================================
    zg_fuzz_token - fuzz target for the gateway's web tokens (zg_token):
    zg_token_verify, as the guard calls it on a request's token, and what
    the claims it accepts then allow

    Byte 0 picks the form. Even: the rest is the token text as a client
    sends it (malformed, unsigned, "none", any bytes). Odd: the rest is a
    claims text that the target signs with the verifier's HS256 secret
    (libjwt, as zg_token's self test does), so the claims reach zg_token's
    own reading of sub, exp, nbf, roles and zgate; claims libjwt does not
    take as a JSON object are tried as a raw token instead. Invariants:
    the status is one of the four; a refusal says why and gives no claims;
    an accepted token has a non-empty subject, and asking what it allows
    (with no permissions file) answers; the same token at the same time
    verifies the same way twice. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_token.h"
#include <jwt.h>

#define FUZZ_SECRET "fuzz-secret-fuzz-secret-fuzz-sec"
//  The clock the tokens are read at (2026-01-01)
#define FUZZ_NOW 1767225600
//  Longest token or claims text the target builds
#define FUZZ_MAX_TEXT 4096

static zg_token_t *s_verifier;

static void
s_destroy_verifier (void)
{
    zg_token_destroy (&s_verifier);
}

//  The claims text signed as an HS256 token with the secret, or NULL
static char *
s_signed (const char *claims)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new (&jwt) == 0
    &&  jwt_add_grants_json (jwt, claims) == 0
    &&  jwt_set_alg (jwt, JWT_ALG_HS256, (const unsigned char *) FUZZ_SECRET, (int) strlen (FUZZ_SECRET)) == 0)
        token = jwt_encode_str (jwt);
    jwt_free (jwt);
    return token;
}

//  Verify once; check what a verdict must hold
static zg_token_status_t
s_verify (const char *token)
{
    zg_token_claims_t *claims = NULL;
    char error [256] = "";
    zg_token_status_t status = zg_token_verify (s_verifier, token, FUZZ_NOW, &claims, error, sizeof error);
    assert (status == ZG_TOKEN_OK || status == ZG_TOKEN_INVALID || status == ZG_TOKEN_EXPIRED
         || status == ZG_TOKEN_NOT_YET);
    if (status == ZG_TOKEN_OK) {
        assert (claims && claims->subject && *claims->subject);
        zg_token_claims_allows (claims, NULL, "topics", "publish", "sensors.a", false);
        zg_token_claims_allows (claims, NULL, "topics", "subscribe", "sensors.", true);
        zg_token_claims_admin (claims, NULL);
        zg_token_claims_destroy (&claims);
    }
    else
        assert (!claims && *error);
    return status;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_verifier) {
        char error [256];
        s_verifier = zg_token_new ("HS256", FUZZ_SECRET, "", error, sizeof error);
        assert (s_verifier);
        atexit (s_destroy_verifier);
    }
    if (size < 1 || size > FUZZ_MAX_TEXT)
        return 0;
    char text [FUZZ_MAX_TEXT + 1];
    memcpy (text, data + 1, size - 1);
    text [size - 1] = 0;
    char *token = data [0] & 1? s_signed (text): NULL;
    const char *verified = token? token: text;
    zg_token_status_t status = s_verify (verified);
    assert (s_verify (verified) == status);
    free (token);
    return 0;
}
