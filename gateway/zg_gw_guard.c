/*  =========================================================================
    zg_gw_guard - the web trust boundary: tokens, permissions, Origins and
    the reserved `$zgate.` topics

    An HTTP request is judged on its own Bearer token; a WebSocket session
    keeps the claims of the token it authenticated with (on the upgrade, or
    with auth ops, the last of which may renew it) and is closed when they
    expire. A refused request changes nothing: it is answered 401 or 403
    before any bridge sees it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_guard.h"
#include "zg_origins.h"

//  Longest Authorization or Origin header kept, bytes
#define ZG_GW_GUARD_MAX_HEADER 16384
//  The topics the gateway itself publishes on (the subscribe barrier)
#define ZG_GW_GUARD_RESERVED "$zgate."

struct _zg_gw_guard_t {
    zg_gw_answers_t *answers;       //  Answers to sessions
    char *algorithm;                //  security/jwt-algorithm
    char *secret;                   //  security/jwt-secret
    char *public_key;               //  security/jwt-public-key (a file)
    char *permissions;              //  security/permissions (a file)
    zg_token_t *verifier;           //  Built from the three above, NULL: security off
    zg_acl_t *acl;                  //  The permissions file, or NULL
    int64_t auth_timeout;           //  ms a session has to authenticate
    zg_origins_t *origins;          //  gateway/allowed-origins
};

zg_gw_guard_t *
zg_gw_guard_new (zg_gw_answers_t *answers)
{
    zg_gw_guard_t *self = (zg_gw_guard_t *) zmalloc (sizeof (zg_gw_guard_t));
    assert (self);
    self->answers = answers;
    self->algorithm = strdup ("");
    self->secret = strdup ("");
    self->public_key = strdup ("");
    self->permissions = strdup ("");
    self->auth_timeout = 5000;
    self->origins = zg_origins_new ();
    return self;
}

void
zg_gw_guard_destroy (zg_gw_guard_t **self_p)
{
    assert (self_p);
    zg_gw_guard_t *self = *self_p;
    if (self) {
        free (self->algorithm);
        free (self->secret);
        free (self->public_key);
        free (self->permissions);
        zg_token_destroy (&self->verifier);
        zg_acl_destroy (&self->acl);
        zg_origins_destroy (&self->origins);
        free (self);
        *self_p = NULL;
    }
}

bool
zg_gw_guard_enabled (zg_gw_guard_t *self)
{
    return self->verifier != NULL;
}

//  ==========================================================================
//  Settings

//  Build the verifier from the JWT keys (none: security off); -1 with a
//  reason. Security that is on is never turned off by a reload (a SIGHUP
//  applies the keys one by one, so switching from a secret to a public key
//  would pass through none): that takes a restart.
static int
s_self_build_verifier (zg_gw_guard_t *self, char *error, size_t size)
{
    zg_token_t *verifier = NULL;
    if (self->verifier && !*self->secret && !*self->public_key) {
        snprintf (error, size, "turning web tokens off, or switching between a secret and a public key, "
                               "takes a restart");
        return -1;
    }
    if (*self->secret || *self->public_key) {
        verifier = zg_token_new (self->algorithm, self->secret, self->public_key, error, size);
        if (!verifier)
            return -1;
    }
    zg_token_destroy (&self->verifier);
    self->verifier = verifier;
    return 0;
}

//  Set one of the JWT strings, keeping the old one if the verifier cannot be built
static int
s_self_set_jwt (zg_gw_guard_t *self, char **field, const char *value, char *error, size_t size)
{
    char *old = *field;
    *field = strdup (value);
    //  The algorithm alone may name a key not given yet: it is checked with the key
    if (field == &self->algorithm && !*self->secret && !*self->public_key) {
        free (old);
        return 0;
    }
    if (s_self_build_verifier (self, error, size)) {
        free (*field);
        *field = old;
        return -1;
    }
    free (old);
    return 0;
}

//  Read the permissions file ("": none)
static int
s_self_set_permissions (zg_gw_guard_t *self, const char *value, char *error, size_t size)
{
    zg_acl_t *acl = NULL;
    if (*value) {
        char reason [ZG_ACL_ERROR_SIZE];
        if (!(acl = zg_acl_load (value, reason))) {
            snprintf (error, size, "%s", reason);
            return -1;
        }
    }
    zg_acl_destroy (&self->acl);
    self->acl = acl;
    free (self->permissions);
    self->permissions = strdup (value);
    return 0;
}

int
zg_gw_guard_set (zg_gw_guard_t *self, const char *key, const char *value, char *error, size_t size)
{
    if (streq (key, "jwt-secret"))
        return s_self_set_jwt (self, &self->secret, value, error, size);
    if (streq (key, "jwt-public-key"))
        return s_self_set_jwt (self, &self->public_key, value, error, size);
    if (streq (key, "jwt-algorithm"))
        return s_self_set_jwt (self, &self->algorithm, value, error, size);
    if (streq (key, "permissions"))
        return s_self_set_permissions (self, value, error, size);
    if (streq (key, "auth-timeout")) {
        char *end = NULL;
        long long timeout = strtoll (value, &end, 10);
        if (end == value || *end || timeout < 100 || timeout > 3600000) {
            snprintf (error, size, "'%s' is not an integer from 100 to 3600000", value);
            return -1;
        }
        self->auth_timeout = timeout;
        return 0;
    }
    if (streq (key, "allowed-origins")) {
        zg_origins_set (self->origins, value);
        return 0;
    }
    return 1;
}

//  ==========================================================================
//  Identities

//  Verify a token into new claims; NULL with a reason if it is missing or refused
static zg_token_claims_t *
s_self_verify (zg_gw_guard_t *self, const char *token, char *error, size_t size)
{
    zg_token_claims_t *claims = NULL;
    if (!token)
        snprintf (error, size, "a bearer token is required");
    else
        zg_token_verify (self->verifier, token, (int64_t) time (NULL), &claims, error, size);
    return claims;
}

//  A header of a connection, new, or NULL if absent or too long
static char *
s_header (struct lws *wsi, enum lws_token_indexes index)
{
    int length = lws_hdr_total_length (wsi, index);
    if (length <= 0 || length > ZG_GW_GUARD_MAX_HEADER)
        return NULL;
    char *value = (char *) zmalloc ((size_t) length + 1);
    lws_hdr_copy (wsi, value, length + 1, index);
    return value;
}

//  The token of an Authorization: Bearer header, new, or NULL
static char *
s_bearer (struct lws *wsi)
{
    char *header = s_header (wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    char *token = NULL;
    if (header && strncasecmp (header, "Bearer ", 7) == 0)
        token = strdup (header + 7 + strspn (header + 7, " "));
    free (header);
    return token;
}

int
zg_gw_guard_upgrade (zg_gw_guard_t *self, struct lws *wsi, const char **message_p)
{
    char *origin = s_header (wsi, WSI_TOKEN_ORIGIN);
    char *host = s_header (wsi, WSI_TOKEN_HOST);
    bool allowed = zg_origins_upgrade (self->origins, origin, host);
    free (origin);
    free (host);
    if (!allowed) {
        *message_p = "origin not allowed";
        return ZG_ERR_FORBIDDEN;
    }
    char *token = self->verifier? s_bearer (wsi): NULL;
    if (token) {
        char error [256];
        zg_token_claims_t *claims = s_self_verify (self, token, error, sizeof error);
        *message_p = claims? NULL: "invalid or expired bearer token";
        zg_token_claims_destroy (&claims);
        free (token);
        if (*message_p)
            return ZG_ERR_UNAUTHORIZED;
    }
    return 0;
}

void
zg_gw_guard_session_opened (zg_gw_guard_t *self, zg_session_t *session)
{
    if (!self->verifier)
        return;
    char *token = session->wsi? s_bearer (session->wsi): NULL;
    char error [256];
    session->claims = token? s_self_verify (self, token, error, sizeof error): NULL;
    free (token);
    if (!session->claims)
        session->auth_deadline = zclock_mono () + self->auth_timeout;
}

//  ==========================================================================
//  Permissions

//  Whether claims allow access to name; the reason in error if not
static bool
s_self_allows (zg_gw_guard_t *self, zg_token_claims_t *claims, const zg_gw_access_t *access, const char *name,
               const char *mode, char *error, size_t size)
{
    //  An admin may do everything the dashboard's forms do, on any name
    if (zg_token_claims_admin (claims, self->acl))
        return true;
    if (streq (access->pattern, "admin")) {
        snprintf (error, size, "forbidden: '%.128s' is not an admin", claims->subject);
        return false;
    }
    //  A web subscription to "prefix*" covers every topic of the prefix
    size_t length = strlen (name);
    bool every = access->field && *access->field == 0;
    bool star = !every && streq (access->action, "subscribe") && length && name [length - 1] == '*';
    bool prefix = every || star;
    char *copy = strndup (name, star? length - 1: length);
    //  Joining as an observer is its own permission
    const char *action = streq (access->action, "join") && mode && streq (mode, "observe")? "observe"
                                                                                          : access->action;
    bool allowed = zg_token_claims_allows (claims, self->acl, access->pattern, action, copy, prefix);
    if (!allowed)
        snprintf (error, size, "forbidden: '%.128s' may not %s %s '%.256s%s'", claims->subject, action,
                  access->pattern, copy, prefix? "*": "");
    free (copy);
    return allowed;
}

//  Whether access publishes on a topic, which may not be a reserved one
static bool
s_publishes (const zg_gw_access_t *access)
{
    return access->pattern && streq (access->pattern, "topics") && streq (access->action, "publish");
}

//  Why a request is refused whatever the security, or NULL: the reserved
//  topics are the gateway's
static const char *
s_reserved (const zg_gw_access_t *access, const char *name)
{
    if (s_publishes (access) && name && strncmp (name, ZG_GW_GUARD_RESERVED, strlen (ZG_GW_GUARD_RESERVED)) == 0)
        return "topics starting with $zgate. are reserved";
    return NULL;
}

//  The auth op: verify its token and keep its claims (renewing the session's)
static void
s_self_auth (zg_gw_guard_t *self, zg_session_t *session, json_object *request, json_object *req)
{
    if (!self->verifier) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_BAD_REQUEST, "security is off: no auth needed");
        return;
    }
    char error [256];
    const char *token = zg_gw_answers_string_field (request, "token", 16384);
    zg_token_claims_t *claims = s_self_verify (self, token, error, sizeof error);
    if (!claims) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAUTHORIZED, "%s", error);
        return;
    }
    if (session->claims && strneq (session->claims->subject, claims->subject)) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_FORBIDDEN,
                             "a session keeps its subject '%.128s'", session->claims->subject);
        zg_token_claims_destroy (&claims);
        return;
    }
    zg_token_claims_destroy (&session->claims);
    session->claims = claims;
    session->auth_deadline = 0;
    json_object *answer = zg_gw_answers_object ("ok", req);
    json_object_object_add (answer, "sub", json_object_new_string (claims->subject));
    if (claims->expires)
        json_object_object_add (answer, "exp", json_object_new_int64 (claims->expires));
    zg_gw_answers_send_object (self->answers, session, &answer, true, ZG_TOPICS);
}

//  The name a request (or body) needs access to, new: the first of the
//  space-separated fields it has ("" for every name), NULL if it has none
//  (its bridge refuses it then). A command is "name/params...": its
//  permission is on the name.
static char *
s_request_name (json_object *request, const char *fields)
{
    if (!*fields)
        return strdup ("");
    char *list = strdup (fields);
    char *name = NULL;
    for (char *save = NULL, *field = strtok_r (list, " ", &save); field && !name;
         field = strtok_r (NULL, " ", &save)) {
        const char *value = zg_gw_answers_string_field (request, field, 65535);
        if (value)
            name = strndup (value, streq (field, "command")? strcspn (value, "/"): strlen (value));
    }
    free (list);
    return name;
}

//  Whether a session may make a request needing access (name from it);
//  answers it if not
static bool
s_self_session_allows (zg_gw_guard_t *self, zg_session_t *session, json_object *request,
                       const zg_gw_access_t *access, const char *name, json_object *req)
{
    const char *reserved = s_reserved (access, name);
    if (reserved) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_FORBIDDEN, "%s", reserved);
        return false;
    }
    if (!self->verifier)
        return true;
    if (!session->claims) {
        zg_gw_answers_error (self->answers, session, req, ZG_ERR_UNAUTHORIZED,
                             "authenticate first: {\"op\":\"auth\",\"token\":...}");
        return false;
    }
    if (!access->pattern || !name)
        return true;
    char error [512];
    const char *mode = zg_gw_answers_string_field (request, "mode", 16);
    if (s_self_allows (self, session->claims, access, name, mode, error, sizeof error))
        return true;
    zg_gw_answers_error (self->answers, session, req, ZG_ERR_FORBIDDEN, "%s", error);
    return false;
}

bool
zg_gw_guard_request (zg_gw_guard_t *self, zg_session_t *session, json_object *request, const char *op,
                     const zg_gw_access_t *access, json_object *req)
{
    if (streq (op, "auth")) {
        s_self_auth (self, session, request, req);
        return false;
    }
    //  Without security only a publish has something to check
    if (!self->verifier && !s_publishes (access))
        return true;
    char *name = access->field? s_request_name (request, access->field): NULL;
    bool allowed = s_self_session_allows (self, session, request, access, name, req);
    free (name);
    return allowed;
}

//  ==========================================================================
//  HTTP

void
zg_gw_guard_http_headers (zg_gw_guard_t *self, zg_http_t *http)
{
    http->bearer = s_bearer (http->wsi);
    char *origin = s_header (http->wsi, WSI_TOKEN_ORIGIN);
    char *host = s_header (http->wsi, WSI_TOKEN_HOST);
    if (zg_origins_cors (self->origins, origin, host))
        http->allow_origin = origin;
    else
        free (origin);
    free (host);
}

//  The name an HTTP request needs access to, from its path or body; NULL
//  after replying 400 to a bad body
static char *
s_self_http_name (zg_gw_guard_t *self, zg_http_t *http, const zg_gw_access_t *access, const char *param)
{
    if (!access->field)
        return strdup (param);
    if (!*access->field)
        return strdup ("");
    json_object *body = zg_gw_answers_body (self->answers, http);
    if (!body)
        return NULL;
    char *name = s_request_name (body, access->field);
    json_object_put (body);
    return name? name: strdup ("");
}

bool
zg_gw_guard_http (zg_gw_guard_t *self, zg_http_t *http, const zg_gw_access_t *access, const char *param)
{
    if (!access->pattern || (!self->verifier && !s_publishes (access)))
        return true;
    char *name = s_self_http_name (self, http, access, param);
    if (!name)
        return false;
    char error [512] = "";
    int status = 0;
    const char *reserved = s_reserved (access, name);
    zg_token_claims_t *claims = NULL;
    if (reserved) {
        snprintf (error, sizeof error, "%s", reserved);
        status = ZG_ERR_FORBIDDEN;
    }
    else
    if (self->verifier && !(claims = s_self_verify (self, http->bearer, error, sizeof error)))
        status = ZG_ERR_UNAUTHORIZED;
    else
    if (claims && !s_self_allows (self, claims, access, name, NULL, error, sizeof error))
        status = ZG_ERR_FORBIDDEN;
    if (status)
        zg_http_reply_message (http, status, error);
    zg_token_claims_destroy (&claims);
    free (name);
    return status == 0;
}

//  ==========================================================================
//  Deadlines

void
zg_gw_guard_tick (zg_gw_guard_t *self, int64_t now)
{
    if (!self->verifier)
        return;
    int64_t seconds = (int64_t) time (NULL);
    for (zg_session_t *session = zg_gw_answers_first_session (self->answers); session;
         session = zg_gw_answers_next_session (self->answers))
        //  A session opened before security was turned on (SIGHUP) gets its deadline now
        if (!session->claims && !session->auth_deadline)
            session->auth_deadline = now + self->auth_timeout;
        else
        if (session->claims && session->claims->expires && seconds >= session->claims->expires)
            zg_gw_answers_close (session, ZG_GW_GUARD_CLOSE_EXPIRED, "token expired");
        else
        if (!session->claims && session->auth_deadline && now >= session->auth_deadline)
            zg_gw_answers_close (session, ZG_GW_GUARD_CLOSE_NO_AUTH, "authentication required");
}

//  --------------------------------------------------------------------------
//  Self test of this class: sessions and transactions without connections

#include <jwt.h>

static char *
s_test_token (const char *claims)
{
    jwt_t *jwt = NULL;
    jwt_new (&jwt);
    jwt_add_grants_json (jwt, claims);
    jwt_set_alg (jwt, JWT_ALG_HS256, (const unsigned char *) "k", 1);
    char *token = jwt_encode_str (jwt);
    jwt_free (jwt);
    return token;
}

//  The status of an HTTP request with a token (or none) needing access
static int
s_test_http (zg_gw_guard_t *guard, const char *token, const zg_gw_access_t *access, const char *param,
             const char *body)
{
    zg_http_t *http = zg_http_new (NULL, 1, ZG_HTTP_POST, "/x");
    http->bearer = token? strdup (token): NULL;
    if (body)
        zg_http_append (http, body, strlen (body), 1024);
    bool allowed = zg_gw_guard_http (guard, http, access, param);
    int status = allowed? 0: http->status;
    assert (allowed == (http->status == 0));
    zg_http_destroy (&http);
    return status;
}

void
zg_gw_guard_test (bool verbose)
{
    printf (" * zg_gw_guard: ");
    //  @selftest
    zg_gw_settings_t settings = { .max_depth = 8, .max_queue_bytes = 65536 };
    zg_gw_answers_t *answers = zg_gw_answers_new (&settings);
    zg_gw_guard_t *guard = zg_gw_guard_new (answers);
    char error [256];
    const zg_gw_access_t publish = { "topics", "publish", "subject" };
    const zg_gw_access_t send = { "queues", "send", NULL };
    const zg_gw_access_t admin = { "admin", NULL, "" };
    const zg_gw_access_t open = { NULL, NULL, NULL };

    //  Security off: everything but the reserved topics
    assert (!zg_gw_guard_enabled (guard));
    assert (s_test_http (guard, NULL, &admin, "", NULL) == 0);
    assert (s_test_http (guard, NULL, &publish, "", "{\"subject\":\"a\"}") == 0);
    assert (s_test_http (guard, NULL, &publish, "", "{\"subject\":\"$zgate.gateway.barrier\"}") == 403);
    assert (zg_gw_guard_set (guard, "auth-timeout", "5", error, sizeof error) == -1);
    assert (zg_gw_guard_set (guard, "jwt-algorithm", "RS256", error, sizeof error) == 0);
    assert (zg_gw_guard_set (guard, "jwt-secret", "k", error, sizeof error) == -1);
    assert (!zg_gw_guard_enabled (guard));
    assert (zg_gw_guard_set (guard, "jwt-algorithm", "HS256", error, sizeof error) == 0);
    assert (zg_gw_guard_set (guard, "permissions", "/no/such/file", error, sizeof error) == -1);
    assert (zg_gw_guard_set (guard, "no-such-key", "", error, sizeof error) == 1);
    if (verbose)
        printf ("(%s) ", error);

    //  Security on: HTTP
    assert (zg_gw_guard_set (guard, "jwt-secret", "k", error, sizeof error) == 0);
    assert (zg_gw_guard_enabled (guard));
    //  Once on, a reload cannot turn it off
    assert (zg_gw_guard_set (guard, "jwt-secret", "", error, sizeof error) == -1);
    assert (zg_gw_guard_enabled (guard));
    char *alice = s_test_token ("{\"sub\":\"alice\",\"zgate\":{\"topics\":{\"publish\":\"a.*\"},"
                                "\"queues\":{\"send\":\"jobs\"}}}");
    char *root = s_test_token ("{\"sub\":\"root\",\"zgate\":{\"admin\":1}}");
    char *expired = s_test_token ("{\"sub\":\"alice\",\"exp\":1000}");
    assert (s_test_http (guard, NULL, &open, "", NULL) == 0);
    assert (s_test_http (guard, NULL, &send, "jobs", NULL) == 401);
    assert (s_test_http (guard, expired, &send, "jobs", NULL) == 401);
    assert (s_test_http (guard, "x.y.z", &send, "jobs", NULL) == 401);
    assert (s_test_http (guard, alice, &send, "jobs", NULL) == 0);
    assert (s_test_http (guard, alice, &send, "other", NULL) == 403);
    assert (s_test_http (guard, alice, &publish, "", "{\"subject\":\"a.b\"}") == 0);
    assert (s_test_http (guard, alice, &publish, "", "{\"subject\":\"b\"}") == 403);
    assert (s_test_http (guard, alice, &publish, "", "[") == 400);
    assert (s_test_http (guard, alice, &admin, "", NULL) == 403);
    assert (s_test_http (guard, root, &admin, "", NULL) == 0);
    assert (s_test_http (guard, root, &send, "other", NULL) == 0);

    //  Security on: a session authenticates with auth, then asks
    zg_session_t *session = zg_session_new (NULL, zg_gw_answers_new_id (answers));
    zg_gw_answers_add_session (answers, session);
    zg_gw_guard_session_opened (guard, session);
    assert (session->auth_deadline > 0 && !session->claims);
    json_object *request = json_tokener_parse ("{\"op\":\"subscribe\",\"topic\":\"a.*\"}");
    const zg_gw_access_t subscribe = { "topics", "subscribe", "topic" };
    assert (!zg_gw_guard_request (guard, session, request, "subscribe", &subscribe, NULL));
    json_object *auth = json_object_new_object ();
    json_object_object_add (auth, "token", json_object_new_string (expired));
    assert (!zg_gw_guard_request (guard, session, auth, "auth", &open, NULL));
    assert (!session->claims);
    json_object_object_add (auth, "token", json_object_new_string (alice));
    assert (!zg_gw_guard_request (guard, session, auth, "auth", &open, NULL));
    assert (session->claims && session->auth_deadline == 0);
    assert (!zg_gw_guard_request (guard, session, request, "subscribe", &subscribe, NULL));
    json_object_put (request);
    request = json_tokener_parse ("{\"op\":\"publish\",\"topic\":\"a.x\"}");
    assert (zg_gw_guard_request (guard, session, request, "publish", &(zg_gw_access_t) { "topics", "publish",
                                                                                        "topic" }, NULL));
    assert (session->queue_count == 4);     //  401, 401, ok, 403
    //  An observer may join as one, and a mode does not turn other requests into observing
    json_object *watch = json_tokener_parse ("{\"op\":\"join\",\"room\":\"r\",\"mode\":\"observe\"}");
    const zg_gw_access_t join = { "rooms", "join", "room" };
    const zg_gw_access_t room_send = { "rooms", "send", "room" };
    char *watcher = s_test_token ("{\"sub\":\"alice\",\"zgate\":{\"rooms\":{\"observe\":\"r\"}}}");
    json_object_object_add (auth, "token", json_object_new_string (watcher));
    assert (!zg_gw_guard_request (guard, session, auth, "auth", &open, NULL));
    assert (zg_gw_guard_request (guard, session, watch, "join", &join, NULL));
    assert (!zg_gw_guard_request (guard, session, watch, "send", &room_send, NULL));
    json_object_put (watch);
    free (watcher);
    zg_gw_guard_tick (guard, zclock_mono () + 60000);
    assert (!session->closing);
    json_object_put (request);
    json_object_put (auth);
    zg_gw_answers_remove_session (answers, session);
    zg_session_destroy (&session);

    free (alice);
    free (root);
    free (expired);
    zg_gw_guard_destroy (&guard);
    zg_gw_guard_destroy (&guard);
    zg_gw_answers_destroy (&answers);
    //  @end
    printf ("OK\n");
}
