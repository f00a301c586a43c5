/*  =========================================================================
    zgcli_stats - the stats command of zgate-cli: GET /api/stats from the
    web gateway, the counters of every pattern in one JSON object

    A plain HTTP/1.0 GET on a socket (the answer ends when zgate closes the
    connection), so the CLI needs no HTTP library.
    =========================================================================
*/

#include "zgcli.h"
#include <netdb.h>

//  Largest answer read, bytes
#define ZGCLI_STATS_MAX (16 * 1024 * 1024)

//  --------------------------------------------------------------------------
//  Split http://HOST[:PORT][/...] into host and port. Returns 0, or -1

static int
s_parse_url (const char *url, char *host, size_t host_size, char *port, size_t port_size)
{
    if (strncmp (url, "http://", 7) != 0)
        return -1;
    const char *start = url + 7;
    size_t length = strcspn (start, ":/");
    if (length == 0 || length >= host_size)
        return -1;
    snprintf (host, host_size, "%.*s", (int) length, start);
    const char *rest = start + length;
    if (*rest == ':') {
        size_t digits = strspn (rest + 1, "0123456789");
        if (digits == 0 || digits >= port_size || (rest [1 + digits] && rest [1 + digits] != '/'))
            return -1;
        snprintf (port, port_size, "%.*s", (int) digits, rest + 1);
    }
    else
        snprintf (port, port_size, "80");
    return 0;
}

//  --------------------------------------------------------------------------
//  GET path from host:port; returns the whole answer (status line, headers,
//  body) in a new string, or NULL with the reason in error

static char *
s_http_get (const char *host, const char *port, const char *path, int timeout, char *error, size_t error_size)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *addresses;
    int rc = getaddrinfo (host, port, &hints, &addresses);
    if (rc) {
        snprintf (error, error_size, "%s: %s", host, gai_strerror (rc));
        return NULL;
    }
    int fd = -1;
    for (struct addrinfo *address = addresses; address && fd == -1; address = address->ai_next) {
        fd = socket (address->ai_family, address->ai_socktype, address->ai_protocol);
        struct timeval limit = { timeout / 1000, (timeout % 1000) * 1000 };
        if (fd != -1
        && (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit)
        ||  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit)
        ||  connect (fd, address->ai_addr, address->ai_addrlen))) {
            close (fd);
            fd = -1;
        }
    }
    freeaddrinfo (addresses);
    if (fd == -1) {
        snprintf (error, error_size, "cannot connect to %s:%s: %s", host, port, strerror (errno));
        return NULL;
    }
    char request [512];
    int size = snprintf (request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n", path, host, port);
    char *answer = NULL;
    size_t used = 0;
    if (send (fd, request, (size_t) size, MSG_NOSIGNAL) == size) {
        answer = (char *) zmalloc (ZGCLI_STATS_MAX + 1);
        ssize_t got;
        while (used < ZGCLI_STATS_MAX && (got = recv (fd, answer + used, ZGCLI_STATS_MAX - used, 0)) > 0)
            used += (size_t) got;
        if (got < 0) {
            snprintf (error, error_size, "reading from %s:%s: %s", host, port, strerror (errno));
            zstr_free (&answer);
        }
    }
    else
        snprintf (error, error_size, "cannot send to %s:%s", host, port);
    close (fd);
    return answer;
}

//  --------------------------------------------------------------------------
//  stats: every pattern's counters

static int
s_stats (zgcli_t *cli)
{
    int64_t timeout;
    if (zgcli_number (cli, "--timeout", 5000, 1, INT32_MAX, &timeout))
        return ZGCLI_USAGE;
    const char *url = zgcli_endpoint (cli, "url");
    char host [256], port [8], error [512];
    if (s_parse_url (url, host, sizeof host, port, sizeof port)) {
        fprintf (stderr, "zgate-cli: --url wants http://HOST[:PORT], not '%s'\n", url);
        return ZGCLI_USAGE;
    }
    char *answer = s_http_get (host, port, "/api/stats", (int) timeout, error, sizeof error);
    if (!answer)
        return zgcli_fail (cli, "%s", error);
    int rc = 0;
    char *body = strstr (answer, "\r\n\r\n");
    json_object *stats = body? json_tokener_parse (body + 4): NULL;
    if (strncmp (answer, "HTTP/1.", 7) != 0 || strncmp (answer + 8, " 200", 4) != 0)
        rc = zgcli_fail (cli, "%s answered %.*s", url, (int) strcspn (answer, "\r\n"), answer);
    else
    if (!stats)
        rc = zgcli_fail (cli, "%s/api/stats did not answer JSON", url);
    else
        zgcli_print (cli, &stats);
    json_object_put (stats);
    free (answer);
    return rc;
}

static const zgcli_option_t s_none [] = {
    { NULL }
};

const zgcli_command_t zgcli_stats_commands [] = {
    { "stats", "", "print the counters of every pattern (GET /api/stats from the web gateway)", 0, 0, s_none, s_stats },
    { NULL }
};
