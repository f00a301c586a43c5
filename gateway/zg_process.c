/*  =========================================================================
    zg_process - this process' resource figures, read from /proc/self

    The same sources as the Prometheus Go client's process collector:
    /proc/self/stat for CPU, memory and start time (in clock ticks since
    boot, so /proc/stat's btime anchors it), /proc/self/fd for open files
    and the RLIMIT_NOFILE soft limit for the maximum.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_process.h"
#include <dirent.h>
#include <sys/resource.h>

//  The fields of /proc/self/stat we need, or false
static bool
s_read_stat (unsigned long *utime, unsigned long *stime, unsigned long long *starttime,
             unsigned long *vsize, long *rss)
{
    char line [1024];
    FILE *file = fopen ("/proc/self/stat", "r");
    if (!file)
        return false;
    bool read = fgets (line, sizeof line, file) != NULL;
    fclose (file);
    //  The command name (field 2) is in parentheses and may hold spaces
    char *after = read? strrchr (line, ')'): NULL;
    if (!after)
        return false;
    return sscanf (after + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d"
                   " %llu %lu %ld", utime, stime, starttime, vsize, rss) == 5;
}

//  The boot time in seconds since the epoch, or -1
static long long
s_boot_time (void)
{
    FILE *file = fopen ("/proc/stat", "r");
    if (!file)
        return -1;
    long long boot = -1;
    char line [256];
    while (boot < 0 && fgets (line, sizeof line, file))
        if (sscanf (line, "btime %lld", &boot) != 1)
            boot = -1;
    fclose (file);
    return boot;
}

//  The number of open file descriptors, or -1
static long
s_open_fds (void)
{
    DIR *directory = opendir ("/proc/self/fd");
    if (!directory)
        return -1;
    long count = 0;
    for (struct dirent *entry = readdir (directory); entry; entry = readdir (directory))
        if (entry->d_name [0] != '.')
            count++;
    closedir (directory);
    //  Not counting the descriptor that read the directory
    return count - 1;
}

//  --------------------------------------------------------------------------
//  Read the figures of the calling process

bool
zg_process_read (zg_process_t *self)
{
    assert (self);
    unsigned long utime, stime, vsize;
    unsigned long long starttime;
    long rss;
    long long boot = s_boot_time ();
    long fds = s_open_fds ();
    struct rlimit limit;
    if (!s_read_stat (&utime, &stime, &starttime, &vsize, &rss) || boot < 0 || fds < 0
    ||  getrlimit (RLIMIT_NOFILE, &limit))
        return false;
    double ticks = (double) sysconf (_SC_CLK_TCK);
    self->cpu_seconds = (double) (utime + stime) / ticks;
    self->resident_bytes = (double) rss * (double) sysconf (_SC_PAGESIZE);
    self->virtual_bytes = (double) vsize;
    self->open_fds = (double) fds;
    self->max_fds = limit.rlim_cur == RLIM_INFINITY? -1: (double) limit.rlim_cur;
    self->start_time_seconds = (double) boot + (double) starttime / ticks;
    return true;
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_process_test (bool verbose)
{
    printf (" * zg_process: ");
    //  @selftest
    zg_process_t before;
    assert (zg_process_read (&before));
    //  One more open file shows
    FILE *file = fopen ("/proc/self/stat", "r");
    assert (file);
    //  Spend some CPU and memory
    volatile double sink = 0;
    for (int index = 0; index < 30000000; index++)
        sink += index;
    assert (sink > 0);
    zg_process_t after;
    assert (zg_process_read (&after));
    fclose (file);
    if (verbose)
        printf ("\ncpu %g s, rss %g B, vsz %g B, fds %g of %g, started %.2f\n", after.cpu_seconds,
                after.resident_bytes, after.virtual_bytes, after.open_fds, after.max_fds, after.start_time_seconds);
    assert (after.open_fds == before.open_fds + 1);
    assert (after.cpu_seconds > before.cpu_seconds);
    assert (after.resident_bytes > 1e5 && after.virtual_bytes >= after.resident_bytes);
    assert (after.max_fds == -1 || after.max_fds >= after.open_fds);
    //  Started in the last hour (a test run), and not in the future
    double now = (double) zclock_time () / 1000;
    assert (after.start_time_seconds <= now + 1 && after.start_time_seconds > now - 3600);
    assert (after.start_time_seconds == before.start_time_seconds);
    //  @end
    printf ("OK\n");
}
