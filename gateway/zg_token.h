/*  =========================================================================
    zg_token - web tokens: verifies a JWT (libjwt) and says what its holder
    may do

    The verifier holds one key and one algorithm: a shared secret for
    HS256/384/512, or a PEM public key for RS256/384/512 and ES256/384/512.
    A token is accepted only if it is signed with exactly that algorithm (so
    a public key is never used as an HMAC secret, and "none" never passes),
    has a `sub`, and `exp` and `nbf`, when present, hold now.

    Its claims name the holder (`sub`) and what it may do, on top of what
    the permissions file (zg_acl) grants that subject: `roles` (an array of
    role names, or one string of names separated by spaces or commas), whose
    grants the file holds, and `zgate`, an object with the grammar of one
    grant of the permissions file, given to the subject by the token itself:

        {"sub": "alice", "exp": 1767225600, "roles": ["operators"],
         "zgate": {"admin": 1, "topics": {"publish": "sensors.* alerts"}}}

    Private to the gateway; one verifier per gateway thread.
    =========================================================================
*/

#ifndef ZG_TOKEN_H_INCLUDED
#define ZG_TOKEN_H_INCLUDED

#include "zg_acl.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_token_t zg_token_t;

//  What a verified token says, the caller's (zg_token_claims_destroy)
typedef struct {
    char *subject;                  //  `sub`: the identity
    int64_t expires;                //  `exp` in Unix seconds, 0 if none
    zlistx_t *roles;                //  `roles`: role names (strings)
    zg_acl_t *grants;               //  `zgate`: the subject's own grants, or NULL
} zg_token_claims_t;

//  Why a token was refused
typedef enum {
    ZG_TOKEN_OK = 0,
    ZG_TOKEN_INVALID,               //  Malformed, wrongly signed, wrong algorithm, bad claims
    ZG_TOKEN_EXPIRED,               //  Past its `exp`
    ZG_TOKEN_NOT_YET                //  Before its `nbf`
} zg_token_status_t;

//  Create a verifier. algorithm may be "" to mean HS256 with a secret and
//  RS256 with a public key; exactly one of secret and public_key_path is
//  non-empty. Returns NULL with a one-line reason in error if the algorithm
//  is unknown or does not fit the key, or the key file cannot be read.
zg_token_t *
    zg_token_new (const char *algorithm, const char *secret, const char *public_key_path, char *error,
                  size_t size);

//  Destroy the verifier
void
    zg_token_destroy (zg_token_t **self_p);

//  The algorithm it accepts, e.g. "HS256"
const char *
    zg_token_algorithm (zg_token_t *self);

//  Verify a token at now (Unix seconds). On ZG_TOKEN_OK, *claims_p is the
//  new claims; otherwise a one-line reason is in error.
zg_token_status_t
    zg_token_verify (zg_token_t *self, const char *token, int64_t now, zg_token_claims_t **claims_p,
                     char *error, size_t size);

//  Destroy claims
void
    zg_token_claims_destroy (zg_token_claims_t **self_p);

//  Whether the holder may do action on name (every name starting with it
//  if prefix): by its subject or one of its roles in acl (may be NULL), or
//  by its token's own grants. pattern and action are zg_acl's.
bool
    zg_token_claims_allows (zg_token_claims_t *self, zg_acl_t *acl, const char *pattern, const char *action,
                            const char *name, bool prefix);

//  Whether the holder is an admin, by acl (may be NULL) or its token
bool
    zg_token_claims_admin (zg_token_claims_t *self, zg_acl_t *acl);

//  Self test of this class
void
    zg_token_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
