/*  =========================================================================
    zg_fuzz_origins - fuzz target for the Origin decisions (zg_origins):
    gateway/allowed-origins as the guard sets it, then a WebSocket upgrade's
    and an HTTP request's Origin and Host headers as the guard reads them

    Input: byte 0 says which headers the request has (bit 0: Origin, bit 1:
    Host); then the allowed-origins value, the Host and the Origin, one a
    line (an absent header's line is still there, and ignored). Invariants:
    a request without Origin may always upgrade and never gets CORS
    headers; a listed origin may always upgrade; with "*" listed any may;
    otherwise an Origin that may upgrade is listed or is the gateway's own
    (scheme "://" then exactly the Host); CORS headers only with a list,
    only for an Origin that may upgrade; the list holds each of its words
    once per mention; setting the same list again and asking again gives
    the same answers. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_origins.h"

//  The next line of the input as a string (the caller frees it)
static char *
s_line (const uint8_t **data, size_t *size)
{
    const uint8_t *end = (const uint8_t *) memchr (*data, '\n', *size);
    size_t length = end? (size_t) (end - *data): *size;
    char *line = strndup (length? (const char *) *data: "", length);
    assert (line);
    *data += end? length + 1: length;
    *size -= end? length + 1: length;
    return line;
}

//  Whether origin is a word of the list, and whether "*" is
static void
s_listed (const char *list, const char *origin, bool *listed, bool *any, size_t *words)
{
    char *copy = strdup (list);
    *listed = *any = false;
    *words = 0;
    for (char *save = NULL, *word = strtok_r (copy, " \t,", &save); word; word = strtok_r (NULL, " \t,", &save)) {
        *listed |= origin && streq (word, origin);
        *any |= streq (word, "*");
        (*words)++;
    }
    free (copy);
}

//  Ask both questions; check them against each other and the model
static void
s_ask (zg_origins_t *origins, const char *list, const char *origin, const char *host)
{
    bool listed, any;
    size_t words;
    s_listed (list, origin, &listed, &any, &words);
    assert (zg_origins_size (origins) == words);
    bool upgrade = zg_origins_upgrade (origins, origin, host);
    bool cors = zg_origins_cors (origins, origin, host);
    assert (zg_origins_upgrade (origins, NULL, host) && !zg_origins_cors (origins, NULL, host));
    if (!origin)
        assert (upgrade && !cors);
    if (listed || any)
        assert (upgrade);
    if (origin && upgrade && !listed && !any) {
        const char *scheme_end = strstr (origin, "://");
        assert (host && scheme_end && streq (scheme_end + 3, host));
    }
    assert (cors == (origin && words > 0 && upgrade));
    //  Every listed word may upgrade, with any Host
    char *copy = strdup (list);
    for (char *save = NULL, *word = strtok_r (copy, " \t,", &save); word; word = strtok_r (NULL, " \t,", &save))
        assert (zg_origins_upgrade (origins, word, NULL) && zg_origins_cors (origins, word, host));
    free (copy);
    assert (zg_origins_upgrade (origins, origin, host) == upgrade);
    assert (zg_origins_cors (origins, origin, host) == cors);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool has_origin = data [0] & 1, has_host = data [0] & 2;
    data++;
    size--;
    char *list = s_line (&data, &size);
    char *host = s_line (&data, &size);
    char *origin = s_line (&data, &size);
    zg_origins_t *origins = zg_origins_new ();
    for (int round = 0; round < 2; round++) {
        zg_origins_set (origins, list);
        s_ask (origins, list, has_origin? origin: NULL, has_host? host: NULL);
    }
    zg_origins_destroy (&origins);
    free (list);
    free (host);
    free (origin);
    return 0;
}
