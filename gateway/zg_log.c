/*  =========================================================================
    zg_log - where zgate's log lines go, and which of them

    czmq has no log level of its own: it writes every line, starting with its
    level letter (E, W, N, I, D), to one FILE stream or to syslog. For syslog
    the level is syslog's own mask. For stderr, czmq gets a stream of ours
    (fopencookie) whose write function passes on the lines at or above the
    level, so the actors' threads keep logging exactly as before.
    =========================================================================
*/

//  fopencookie is a GNU extension
#ifndef _GNU_SOURCE
#   define _GNU_SOURCE
#endif
#include <stdio.h>
#include "zgate.h"
#include "zg_log.h"
#include <stdatomic.h>
#include <syslog.h>

//  czmq formats a line in 1,024 bytes; a buffer beyond that holds one whole
#define ZG_LOG_LINE_MAX 2048

typedef struct {
    const char *name;
    int priority;                   //  syslog priority of the lowest line shown
    const char *letters;            //  czmq level letters shown at that level
} s_level_t;

static const s_level_t s_levels [] = {
    { "error", LOG_ERR, "E" },
    { "warn", LOG_WARNING, "EW" },
    { "info", LOG_INFO, "EWNI" },
    { "debug", LOG_DEBUG, "EWNID" },
};
#define ZG_LOG_LEVELS (sizeof s_levels / sizeof s_levels [0])

struct _zg_log_t {
    bool syslog;                    //  Lines go to syslog, not stderr
    _Atomic (const s_level_t *) level;  //  Read by every logging thread
    FILE *stream;                   //  Our filtering stream, for stderr
    char partial [ZG_LOG_LINE_MAX]; //  A line not yet ended by '\n'
    size_t partial_size;
};

static const s_level_t *
s_level_named (const char *name)
{
    for (size_t index = 0; index < ZG_LOG_LEVELS; index++)
        if (streq (s_levels [index].name, name))
            return &s_levels [index];
    return NULL;
}

//  --------------------------------------------------------------------------
//  Pass one whole line on to stderr if its level is shown

static void
s_pass_line (zg_log_t *self, const char *line, size_t size)
{
    const s_level_t *level = atomic_load (&self->level);
    if (size > 0 && strchr (level->letters, line [0]))
        fwrite (line, 1, size, stderr);
}

//  --------------------------------------------------------------------------
//  The stream's write function. czmq writes then flushes each line, and the
//  FILE lock keeps lines whole, but a flush may carry several lines, or the
//  end of a line too long for the buffer: split on '\n' and keep the rest.

static ssize_t
s_stream_write (void *cookie, const char *data, size_t size)
{
    zg_log_t *self = (zg_log_t *) cookie;
    size_t used = 0;
    while (used < size) {
        const char *end = (const char *) memchr (data + used, '\n', size - used);
        size_t length = end? (size_t) (end - (data + used)) + 1: size - used;
        if (self->partial_size + length <= sizeof self->partial) {
            memcpy (self->partial + self->partial_size, data + used, length);
            self->partial_size += length;
        }
        if (end || self->partial_size == sizeof self->partial) {
            s_pass_line (self, self->partial, self->partial_size);
            self->partial_size = 0;
        }
        used += length;
    }
    fflush (stderr);
    return (ssize_t) size;
}

//  --------------------------------------------------------------------------
//  Route czmq's log to target, showing lines of level and above

zg_log_t *
zg_log_new (const char *level, const char *target, char *error, size_t size)
{
    const s_level_t *shown = s_level_named (level);
    if (!shown) {
        snprintf (error, size, "server/log-level: '%s' is not error, warn, info or debug", level);
        return NULL;
    }
    if (strneq (target, "stderr") && strneq (target, "syslog")) {
        snprintf (error, size, "server/log-target: '%s' is not stderr or syslog", target);
        return NULL;
    }
    zg_log_t *self = (zg_log_t *) zmalloc (sizeof (zg_log_t));
    assert (self);
    atomic_init (&self->level, shown);
    self->syslog = streq (target, "syslog");
    if (self->syslog) {
        zsys_set_logsystem (true);
        setlogmask (LOG_UPTO (shown->priority));
    }
    else {
        cookie_io_functions_t functions = { .write = s_stream_write };
        self->stream = fopencookie (self, "w", functions);
        assert (self->stream);
        setvbuf (self->stream, NULL, _IOFBF, ZG_LOG_LINE_MAX);
        zsys_set_logstream (self->stream);
    }
    return self;
}

//  --------------------------------------------------------------------------
//  Flush, give czmq's log back to stderr, and destroy

void
zg_log_destroy (zg_log_t **self_p)
{
    assert (self_p);
    zg_log_t *self = *self_p;
    if (self) {
        if (self->syslog)
            zsys_set_logsystem (false);
        zsys_set_logstream (stderr);
        if (self->stream)
            fclose (self->stream);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Change the level while running

int
zg_log_set_level (zg_log_t *self, const char *level, char *error, size_t size)
{
    assert (self);
    const s_level_t *shown = s_level_named (level);
    if (!shown) {
        snprintf (error, size, "server/log-level: '%s' is not error, warn, info or debug", level);
        return -1;
    }
    atomic_store (&self->level, shown);
    if (self->syslog)
        setlogmask (LOG_UPTO (shown->priority));
    return 0;
}

//  --------------------------------------------------------------------------
//  Log an info line of any length, as czmq would in its format

void
zg_log_info_whole (zg_log_t *self, const char *text)
{
    assert (self && text);
    if (self->syslog) {
        syslog (LOG_INFO, "%s", text);
        return;
    }
    if (!strchr (atomic_load (&self->level)->letters, 'I'))
        return;
    time_t now = time (NULL);
    struct tm local;
    char date [20];
    strftime (date, sizeof date, "%y-%m-%d %H:%M:%S", localtime_r (&now, &local));
    //  Whole, between the lines other threads write through czmq
    flockfile (stderr);
    fprintf (stderr, "I: (" ZG_LOG_IDENT ") %s %s\n", date, text);
    funlockfile (stderr);
}

//  --------------------------------------------------------------------------
//  True when debug lines are shown

bool
zg_log_debug (zg_log_t *self)
{
    assert (self);
    return atomic_load (&self->level)->priority == LOG_DEBUG;
}

//  --------------------------------------------------------------------------
//  Self test: the lines that reach stderr (a temporary file here) at each level

void
zg_log_test (bool verbose)
{
    printf (" * zg_log: ");
    (void) verbose;
    char error [256];
    assert (zg_log_new ("loud", "stderr", error, sizeof error) == NULL);
    assert (strstr (error, "'loud' is not error, warn, info or debug"));
    assert (zg_log_new ("info", "printer", error, sizeof error) == NULL);

    fflush (stderr);
    int saved_stderr = dup (STDERR_FILENO);
    FILE *capture = tmpfile ();
    assert (capture && saved_stderr >= 0);
    dup2 (fileno (capture), STDERR_FILENO);

    zg_log_t *log = zg_log_new ("warn", "stderr", error, sizeof error);
    assert (log && !zg_log_debug (log));
    zsys_info ("hidden at warn");
    zsys_warning ("shown at warn");
    assert (zg_log_set_level (log, "chatty", error, sizeof error) == -1);
    assert (zg_log_set_level (log, "debug", error, sizeof error) == 0);
    assert (zg_log_debug (log));
    zsys_debug ("shown at debug");
    char long_line [3000];
    memset (long_line, 'x', sizeof long_line - 1);
    long_line [sizeof long_line - 1] = 0;
    zsys_info ("%s", long_line);
    long_line [0] = 'w';
    zg_log_info_whole (log, long_line);
    assert (zg_log_set_level (log, "warn", error, sizeof error) == 0);
    zg_log_info_whole (log, "whole but hidden at warn");
    zg_log_destroy (&log);
    zg_log_destroy (&log);

    fflush (stderr);
    dup2 (saved_stderr, STDERR_FILENO);
    close (saved_stderr);
    rewind (capture);
    char text [16384] = "";
    size_t length = fread (text, 1, sizeof text - 1, capture);
    text [length] = 0;
    fclose (capture);
    assert (!strstr (text, "hidden at warn"));
    assert (strstr (text, "shown at warn"));
    assert (strstr (text, "shown at debug"));
    //  czmq cuts a line at 1,024 bytes; it still arrives, as one line
    assert (strstr (text, "xxxxxxxxxx\n"));
    //  A whole line is not cut
    const char *whole = strstr (text, " wxxx");
    assert (whole && strchr (whole, '\n') - whole == 1 + 2999);
    assert (!strstr (text, "whole but hidden"));
    printf ("OK\n");
}
