/*  =========================================================================
    zg_gw_status - the queues' status page in text/plain

    Wait, Progress and Done add up every queue's (and command's) waiting,
    in_progress and done counters; the done list is the queues actor's
    recent list (the newest first, recent-size of them, done or not, with
    their state), aligned in columns like qmanager's tabwriter. A task's
    input and output are GET's (zgate-cli get ID): the page stays small.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_gw_status.h"

//  --------------------------------------------------------------------------
//  A time as "YYYY-MM-DD HH:MM:SS.mmm UTC"

static void
s_format_time (int64_t wall, char *text, size_t size)
{
    time_t seconds = (time_t) (wall / 1000);
    struct tm utc;
    gmtime_r (&seconds, &utc);
    char date [32];
    strftime (date, sizeof date, "%Y-%m-%d %H:%M:%S", &utc);
    snprintf (text, size, "%s.%03d UTC", date, (int) (wall % 1000));
}

//  Sum of a counter over the queues (or commands) of a STATS object
static int64_t
s_sum (json_object *queues, const char *space, const char *counter)
{
    json_object *names = NULL;
    int64_t sum = 0;
    if (!json_object_object_get_ex (queues, space, &names) || !json_object_is_type (names, json_type_object))
        return 0;
    json_object_object_foreach (names, name, counters) {
        (void) name;
        json_object *value = NULL;
        if (json_object_object_get_ex (counters, counter, &value))
            sum += json_object_get_int64 (value);
    }
    return sum;
}

//  A string field of a recent entry, "" if absent
static const char *
s_field (json_object *entry, const char *key)
{
    json_object *value = NULL;
    return json_object_object_get_ex (entry, key, &value)? json_object_get_string (value): "";
}

//  --------------------------------------------------------------------------
//  The page

char *
zg_gw_status_page (json_object *queues, int64_t wall)
{
    char now [64];
    s_format_time (wall, now, sizeof now);
    const char *counters [] = { "waiting", "in_progress", "done" };
    int64_t totals [3];
    for (int index = 0; index < 3; index++)
        totals [index] = s_sum (queues, "queues", counters [index]) + s_sum (queues, "commands", counters [index]);
    char *page = zsys_sprintf ("Current time is: %s\nWait:\t\t%" PRId64 "\nProgress:\t%" PRId64 "\nDone:\t\t%"
                               PRId64 "\n\nDone list:\n", now, totals [0], totals [1], totals [2]);
    json_object *recent = NULL;
    if (!json_object_object_get_ex (queues, "recent", &recent) || !json_object_is_type (recent, json_type_array))
        return page;
    //  Columns as wide as their widest value, two spaces apart
    size_t count = json_object_array_length (recent);
    int id_width = 0, type_width = 0, state_width = 0;
    for (size_t index = 0; index < count; index++) {
        json_object *entry = json_object_array_get_idx (recent, index);
        id_width = MAX (id_width, (int) strlen (s_field (entry, "id")));
        type_width = MAX (type_width, (int) strlen (s_field (entry, "queue")));
        state_width = MAX (state_width, (int) strlen (s_field (entry, "state")));
    }
    for (size_t index = 0; index < count; index++) {
        json_object *entry = json_object_array_get_idx (recent, index);
        json_object *finished = NULL;
        json_object_object_get_ex (entry, "finished", &finished);
        char when [64];
        s_format_time (json_object_get_int64 (finished), when, sizeof when);
        char *line = zsys_sprintf ("%sID: %-*s  Type: %-*s  State: %-*s  Attempt: %s  Finished: %s\n", page,
                                   id_width, s_field (entry, "id"), type_width, s_field (entry, "queue"),
                                   state_width, s_field (entry, "state"), s_field (entry, "attempt"), when);
        zstr_free (&page);
        page = line;
    }
    return page;
}

//  --------------------------------------------------------------------------
//  Self test

void
zg_gw_status_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_gw_status: ");
    //  @selftest
    char *page = zg_gw_status_page (NULL, 1000);
    assert (streq (page, "Current time is: 1970-01-01 00:00:01.000 UTC\nWait:\t\t0\nProgress:\t0\nDone:\t\t0\n\n"
                         "Done list:\n"));
    zstr_free (&page);
    json_object *stats = json_tokener_parse (
        "{\"queues\": {\"fibonacci\": {\"waiting\": 2, \"in_progress\": 1, \"done\": 5},"
        "              \"reverse\": {\"waiting\": 1, \"in_progress\": 0, \"done\": 1}},"
        " \"commands\": {\"version\": {\"waiting\": 0, \"in_progress\": 1, \"done\": 3}},"
        " \"recent\": [{\"id\": \"12\", \"queue\": \"reverse\", \"state\": \"done\", \"attempt\": 1,"
        "               \"finished\": 1796619540123},"
        "              {\"id\": \"9\", \"queue\": \"fibonacci\", \"state\": \"failed\", \"attempt\": 2,"
        "               \"finished\": 1796619539000}]}");
    assert (stats);
    page = zg_gw_status_page (stats, 1796619541000);
    const char *expected =
        "Current time is: 2026-12-07 04:59:01.000 UTC\n"
        "Wait:\t\t3\n"
        "Progress:\t2\n"
        "Done:\t\t9\n"
        "\n"
        "Done list:\n"
        "ID: 12  Type: reverse    State: done    Attempt: 1  Finished: 2026-12-07 04:59:00.123 UTC\n"
        "ID: 9   Type: fibonacci  State: failed  Attempt: 2  Finished: 2026-12-07 04:58:59.000 UTC\n";
    if (verbose && !streq (page, expected))
        printf ("\n%s", page);
    assert (streq (page, expected));
    zstr_free (&page);
    json_object_put (stats);
    //  @end
    printf ("OK\n");
}
