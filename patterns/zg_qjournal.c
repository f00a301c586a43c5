/*  =========================================================================
    zg_qjournal - the queues actor's durable journal

    See zg_qjournal.h. In memory, durable and held are NULL; opening the
    store makes both, and only a restart closes it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_errors.h"
#include "zg_qjournal.h"
#include "zg_qtest.h"
#include <sys/resource.h>
#include <sys/wait.h>

struct _zg_qjournal_t {
    zg_qsettings_t *settings;       //  The actor's: data-dir, the store's kind and size
    zg_qheld_send_fn *send;         //  Sends an outbox
    void *arg;                      //  Its argument
    zg_qdurable_t *durable;         //  The store the core journals to, or NULL
    zg_qheld_t *held;               //  Messages held until their pass is synced, or NULL
};

//  --------------------------------------------------------------------------
//  A journal in memory

zg_qjournal_t *
zg_qjournal_new (zg_qsettings_t *settings, zg_qheld_send_fn *send, void *arg)
{
    assert (settings && send);
    zg_qjournal_t *self = (zg_qjournal_t *) zmalloc (sizeof (zg_qjournal_t));
    assert (self);
    self->settings = settings;
    self->send = send;
    self->arg = arg;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy

void
zg_qjournal_destroy (zg_qjournal_t **self_p)
{
    assert (self_p);
    zg_qjournal_t *self = *self_p;
    if (!self)
        return;
    zg_qheld_destroy (&self->held);
    zg_qdurable_destroy (&self->durable);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Make core (a new one) journal to the store and restore the store's
//  tasks into it (zg_qcore_adopt, then zg_qcore_take_back for those that
//  were in progress), committing what that changes. Returns 0, or -1 with
//  zg_qdurable_error set (the core then holds part of the tasks). The
//  tasks that were in progress are taken back only after the load: that changes the store,
//  and LMDB allows no write transaction beside the load's read one.

typedef struct {
    zg_qcore_t *core;
    zg_task_list_t taken;           //  Restored tasks that were in progress
} s_restore_t;

static int
s_adopt (const zg_qrecord_t *record, void *arg)
{
    s_restore_t *restore = (s_restore_t *) arg;
    zg_task_t *task = zg_qcore_adopt (restore->core, record);
    if (task)
        zg_task_list_add (&restore->taken, task, false);
    return 0;
}

static int
s_restore_into (zg_qdurable_t *durable, zg_qcore_t *core)
{
    zg_qcore_journal (core, durable);
    s_restore_t restore = { core, { NULL, NULL, 0 } };
    int rc = zg_qdurable_load (durable, s_adopt, &restore);
    //  In the order they were delivered, as the tasks of a dead worker
    while (restore.taken.tail) {
        zg_task_t *task = restore.taken.tail;
        zg_task_list_remove (&restore.taken, task);
        zg_qcore_take_back (core, task);
    }
    return rc? rc: zg_qdurable_commit (durable);
}

//  --------------------------------------------------------------------------
//  A new core with the store's tasks (on start, and after a lost pass);
//  returns 0, or -1 with the reason in error

static int
s_restore (zg_qjournal_t *self, zg_qcore_t **core_p, char *error, size_t size)
{
    zg_qcore_destroy (core_p);
    *core_p = zg_qcore_new (self->settings);
    if (s_restore_into (self->durable, *core_p) == 0)
        return 0;
    snprintf (error, size, "%s", zg_qdurable_error (self->durable));
    return -1;
}

//  --------------------------------------------------------------------------
//  data-dir: open the store and restore its tasks

int
zg_qjournal_open (zg_qjournal_t *self, const char *dir, zg_qcore_t **core_p, char *error, size_t size)
{
    assert (self && dir && core_p && *core_p);
    zg_qsettings_t *settings = self->settings;
    if (self->durable || *settings->data_dir) {
        if (streq (dir, settings->data_dir))
            return 0;
        snprintf (error, size, "data-dir changes on a restart only");
        return -1;
    }
    if (zg_qsettings_set (settings, "data-dir", dir, error, size) || !*dir)
        return *dir? -1: 0;
    zg_qstore_options_t options = { settings->data_max_size, settings->data_repair != 0 };
    self->durable = zg_qdurable_new (dir, settings->data_store, &options, error, size);
    if (self->durable && s_restore (self, core_p, error, size)) {
        //  A core that journals to no store, holding part of the tasks, is no use
        zg_qcore_destroy (core_p);
        *core_p = zg_qcore_new (settings);
        zg_qdurable_destroy (&self->durable);
    }
    if (!self->durable) {
        *settings->data_dir = 0;
        return -1;
    }
    self->held = zg_qheld_new (self->durable, self->send, self->arg);
    return 0;
}

//  --------------------------------------------------------------------------
//  Whether a store is open

bool
zg_qjournal_on (zg_qjournal_t *self)
{
    assert (self);
    return self->durable != NULL;
}

//  --------------------------------------------------------------------------
//  Make the pass durable before any of it is sent: its messages are held
//  until a sync covers it (zg_qheld). If that fails, each SEND of the pass
//  gets 507 instead of OK, and the core is rebuilt from the store.

void
zg_qjournal_commit (zg_qjournal_t *self, zg_qcore_t **core_p, bool synced)
{
    assert (self && core_p && *core_p);
    if (!self->durable)
        return;
    zg_qoutbox_t *outbox = zg_qcore_outbox (*core_p);
    if ((synced? zg_qheld_synced (self->held): zg_qheld_pass (self->held, outbox)) == 0)
        return;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_wire_reason (reason, "not stored: %s", zg_qdurable_error (self->durable));
    zsys_error ("zg_queues: %s; the tasks are reloaded from the store", reason);
    zg_qoutbox_refuse (outbox, ZG_ERR_STORAGE, reason);
    self->send (self->arg, outbox);
    if (s_restore (self, core_p, reason, sizeof reason))
        zsys_error ("zg_queues: %s", reason);
}

//  --------------------------------------------------------------------------
//  The socket to poll while a sync is in flight

void *
zg_qjournal_sync_socket (zg_qjournal_t *self)
{
    assert (self);
    return self->durable? zg_qdurable_sync_socket (self->durable): NULL;
}

//  --------------------------------------------------------------------------
//  The store's counters

json_object *
zg_qjournal_stats (zg_qjournal_t *self)
{
    assert (self && self->durable);
    return zg_qdurable_stats (self->durable);
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Appends the outbox's messages as text to the string arg, and empties it
static void
s_test_collect (void *arg, zg_qoutbox_t *outbox)
{
    char text [256];
    strcat ((char *) arg, zg_qoutbox_text (outbox, text, sizeof text));
}

//  Submit a task to jobs and add the OK of its SEND to the pass; returns
//  its id
static uint64_t
s_test_send (zg_qcore_t *core, const char *req)
{
    zg_qoptions_t options = { .timeout = 100000, .ack_timeout = 500 };
    char id [ZG_TASKS_ID_SIZE + 1];
    assert (zg_qtest_submit (core, "jobs", false, &options, id) == 0);
    zg_qoutbox_ok (zg_qcore_outbox (core), zg_wire_str ("p"), zg_wire_str (req), id);
    return strtoull (id, NULL, 10);
}

//  A new journal, with new settings of this store kind, opened on dir into
//  a new core; returns what zg_qjournal_open returned
static int
s_test_start (zg_qjournal_t **journal_p, zg_qcore_t **core_p, zg_qsettings_t *settings, const char *kind,
              const char *dir, char *sent)
{
    zg_qcore_destroy (core_p);
    zg_qjournal_destroy (journal_p);
    *settings = zg_qsettings_defaults ();
    snprintf (settings->data_store, sizeof settings->data_store, "%s", kind);
    *core_p = zg_qcore_new (settings);
    *journal_p = zg_qjournal_new (settings, s_test_collect, sent);
    char error [256];
    return zg_qjournal_open (*journal_p, dir, core_p, error, sizeof error);
}

//  In a child limited to files of the store's size plus a few bytes (as a
//  full disk), a pass is lost: its OK becomes 507 and the core is rebuilt
//  from the store, which has task 1 and not the lost task 2
static void
s_test_lost_pass (zg_qjournal_t *journal, zg_qcore_t **core_p, char *sent)
{
    json_object *stats = zg_qjournal_stats (journal);
    rlim_t size = (rlim_t) json_object_get_int64 (json_object_object_get (stats, "bytes")) + 8;
    json_object_put (stats);
    pid_t child = fork ();
    assert (child >= 0);
    if (child == 0) {
        signal (SIGXFSZ, SIG_IGN);
        struct rlimit limit = { size, size };
        setrlimit (RLIMIT_FSIZE, &limit);
        *sent = 0;
        bool rebuilt = s_test_send (*core_p, "r2") == 2;
        zg_qjournal_commit (journal, core_p, false);
        rebuilt = rebuilt && strstr (sent, "ERROR r2 507") && zg_qoutbox_size (zg_qcore_outbox (*core_p)) == 0
               && zg_qcore_task (*core_p, 1) && !zg_qcore_task (*core_p, 2);
        _exit (rebuilt? 0: 1);
    }
    int status;
    assert (waitpid (child, &status, 0) == child);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

//  The journal's promises through a core, with a store of this kind: what
//  a restart restores

//  Submit a task of this priority with a one-letter payload; returns its id
static uint64_t
s_test_submit (zg_qcore_t *core, const char *queue, int64_t priority, const char *payload)
{
    zmq_msg_t frames [3];
    const char *texts [] = { payload, "p", "r" };
    for (int index = 0; index < 3; index++)
        zmq_msg_init_data (&frames [index], (void *) texts [index], strlen (texts [index]), NULL, NULL);
    zg_qoptions_t options = { .reply = true, .timeout = 100000, .ack_timeout = 500, .priority = priority };
    zg_qcore_submit_t submit = { queue, false, &options, &frames [0], &frames [1], &frames [2], NULL };
    char id [ZG_TASKS_ID_SIZE + 1];
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    int rc = zg_qcore_submit (core, &submit, id, &code, reason);
    for (int index = 0; index < 3; index++)
        zmq_msg_close (&frames [index]);
    return rc? 0: strtoull (id, NULL, 10);
}

//  A new core restored from the store in dir (closing the old ones)
static zg_qcore_t *
s_test_restart (zg_qcore_t **core_p, zg_qdurable_t **durable_p, const char *dir, const char *kind,
                zg_qsettings_t *settings)
{
    zg_qcore_destroy (core_p);
    zg_qdurable_destroy (durable_p);
    char error [256];
    zg_qstore_options_t options = { ZG_QSTORE_MIN_SIZE * 16, false };
    *durable_p = zg_qdurable_new (dir, kind, &options, error, sizeof error);
    if (!*durable_p)
        fprintf (stderr, "%s\n", error);
    assert (*durable_p);
    zg_qcore_t *core = zg_qcore_new (settings);
    assert (s_restore_into (*durable_p, core) == 0);
    return core;
}

//  A worker on queue "jobs" with this prefetch; the outbox is emptied
static zg_qworker_t *
s_test_worker (zg_qcore_t *core, int64_t prefetch, char *sent, size_t size)
{
    zg_qname_t names [] = { { false, "jobs" } };
    zg_qoptions_t ready = { .prefetch = prefetch, .names = names, .name_count = 1 };
    int code;
    char reason [ZG_WIRE_REASON_SIZE];
    zg_qworker_t *worker = zg_qcore_ready (core, NULL, (const byte *) "c", 1, (const byte *) "w", 1, &ready,
                                           &code, reason);
    assert (worker);
    zg_qoutbox_text (zg_qcore_outbox (core), sent, size);
    return worker;
}

//  Remove the files of a store directory made by the test, and the directory
static void
s_test_remove (const char *dir)
{
    zdir_t *files = zdir_new (dir, NULL);
    assert (files);
    zdir_remove (files, true);
    zdir_destroy (&files);
    assert (access (dir, F_OK) == -1);
}

static void
s_test_store (const char *kind)
{
    char dir [] = "/tmp/zg_qdurable_test_XXXXXX";
    assert (mkdtemp (dir));
    zg_qsettings_t settings = zg_qsettings_defaults ();
    settings.max_deliveries = 2;
    zg_qdurable_t *durable = NULL;
    zg_qcore_t *core = NULL;
    char sent [1024];
    core = s_test_restart (&core, &durable, dir, kind, &settings);

    //  Five tasks, two priorities; a worker takes two and acks the first;
    //  nothing committed is lost at a restart: the waiting ones come back
    //  in their order within priority, the one in progress waits again at
    //  the head, the acked one keeps its reply, and ids go on
    assert (s_test_submit (core, "jobs", 0, "a") == 1);
    assert (s_test_submit (core, "jobs", 0, "b") == 2);
    assert (s_test_submit (core, "jobs", 5, "c") == 3);
    assert (s_test_submit (core, "jobs", 0, "d") == 4);
    assert (s_test_submit (core, "jobs", 5, "e") == 5);
    zg_qworker_t *worker = s_test_worker (core, 2, sent, sizeof sent);
    assert (streq (sent, "DELIVER w 3;DELIVER w 5;"));
    zmq_msg_t reply;
    zmq_msg_init_data (&reply, (void *) "done", 4, NULL, NULL);
    zg_qcore_ack (core, zg_qcore_held (core, worker, 3), &reply);
    zmq_msg_close (&reply);
    zg_qoutbox_text (zg_qcore_outbox (core), sent, sizeof sent);
    assert (streq (sent, "REPLY r 3;DELIVER w 1;"));
    assert (zg_qdurable_commit (durable) == 0);
    //  Not committed: lost at the restart, as a crash would lose it
    assert (s_test_submit (core, "jobs", 0, "x") == 6);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *done = zg_qcore_task (core, 3);
    assert (done && done->state == ZG_TASK_DONE && zmq_msg_size (&done->result) == 4);
    assert (zg_qcore_task (core, 6) == NULL);
    zg_task_t *taken = zg_qcore_task (core, 5);
    assert (taken->state == ZG_TASK_WAITING && taken->attempt == 1);
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 4);
    //  Id 6 was never committed (nor answered): it is issued again
    assert (s_test_submit (core, "jobs", 0, "f") == 6);
    worker = s_test_worker (core, 10, sent, sizeof sent);
    assert (streq (sent, "DELIVER w 5;DELIVER w 1;DELIVER w 2;DELIVER w 4;DELIVER w 6;"));
    assert (zg_qcore_task (core, 5)->attempt == 2);
    assert (zg_qdurable_commit (durable) == 0);

    //  Tasks 5 and 1 were delivered twice (max-deliveries): at the restart
    //  they go to the dead letters, and stay there; the others wait again
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *dead = zg_qcore_task (core, 5);
    assert (dead->state == ZG_TASK_DEAD && streq (dead->queue->name, "jobs.dead"));
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 3);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, 5)->state == ZG_TASK_DEAD && zg_qcore_task (core, 1)->state == ZG_TASK_DEAD);
    assert (zg_qcore_queue (core, "jobs.dead", false)->waiting == 2);
    json_object *stats = zg_qdurable_stats (durable);
    assert (json_object_get_int64 (json_object_object_get (stats, "lost-passes")) == 0);
    json_object_put (stats);

    //  A full store refuses a new task with 507 and changes nothing
    char big [ZG_QSTORE_MIN_SIZE];
    memset (big, 'z', sizeof big - 1);
    big [sizeof big - 1] = 0;
    uint64_t last = 0, id;
    while ((id = s_test_submit (core, "big", 0, big)))
        last = id;
    assert (last > 0 && zg_qcore_task (core, last + 1) == NULL);
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, last) && zg_qcore_queue (core, "big", false)->waiting == last - 6);
    stats = zg_qdurable_stats (durable);
    assert (streq (json_object_get_string (json_object_object_get (stats, "store")), kind));
    assert (json_object_get_int64 (json_object_object_get (stats, "bytes")) > 0);
    json_object_put (stats);

    //  A waiting task's end of wait is a wall clock time: after a restart
    //  it expires when it would have, into the dead letters, and its new
    //  end of wait there is kept too
    zg_qoptions_t brief = { .timeout = 100000, .ack_timeout = 500, .ttl = 30000 };
    char brief_text [ZG_TASKS_ID_SIZE + 1];
    assert (zg_qtest_submit (core, "brief", false, &brief, brief_text) == 0);
    uint64_t brief_id = strtoull (brief_text, NULL, 10);
    int64_t ends = zg_qcore_task (core, brief_id)->ttl_expires;
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    assert (zg_qcore_task (core, brief_id)->ttl_expires == ends);
    int64_t next = zg_qcore_next_deadline (core);
    assert (next > zclock_mono () + 25000 && next <= zclock_mono () + 30000);
    zg_qcore_set_clock (core, next, ends);
    zg_qcore_expire (core);
    assert (zg_qdurable_commit (durable) == 0);
    core = s_test_restart (&core, &durable, dir, kind, &settings);
    zg_task_t *expired = zg_qcore_task (core, brief_id);
    assert (expired->state == ZG_TASK_DEAD && streq (expired->queue->name, "brief.dead"));
    assert (expired->ttl_expires == ends + 30000);
    zg_qcore_destroy (&core);
    zg_qdurable_destroy (&durable);
    assert (durable == NULL);
    s_test_remove (dir);
}

void
zg_qjournal_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qjournal: ");
    char dir [] = "/tmp/zg_qjournal_test_XXXXXX", error [256], sent [1024] = "";
    assert (mkdtemp (dir));
    zg_qsettings_t settings;
    zg_qjournal_t *journal = NULL;
    zg_qcore_t *core = NULL;

    //  In memory (an empty data-dir too) the actor sends each pass itself
    assert (s_test_start (&journal, &core, &settings, ZG_QDURABLE_LOG, "", sent) == 0);
    assert (!zg_qjournal_on (journal) && zg_qjournal_sync_socket (journal) == NULL);
    s_test_send (core, "r0");
    zg_qjournal_commit (journal, &core, false);
    assert (zg_qoutbox_size (zg_qcore_outbox (core)) == 1 && *sent == 0);

    //  A directory that cannot be made is refused, and nothing changes
    zg_qcore_t *before = core;
    assert (zg_qjournal_open (journal, "/dev/null/store", &core, error, sizeof error) == -1);
    assert (core == before && zg_qcore_task (core, 1) && !zg_qjournal_on (journal) && !*settings.data_dir);

    //  data-dir opens the store into a new core; a pass's OK is held until
    //  a sync covers it; data-dir changes on a restart only
    assert (s_test_start (&journal, &core, &settings, ZG_QDURABLE_LOG, dir, sent) == 0);
    assert (zg_qjournal_on (journal) && streq (settings.data_dir, dir));
    assert (s_test_send (core, "r1") == 1);
    zg_qjournal_commit (journal, &core, false);
    assert (zg_qoutbox_size (zg_qcore_outbox (core)) == 0 && *sent == 0);
    zmq_pollitem_t item = { zg_qjournal_sync_socket (journal), 0, ZMQ_POLLIN, 0 };
    assert (item.socket && zmq_poll (&item, 1, 5000) == 1);
    zg_qjournal_commit (journal, &core, true);
    assert (streq (sent, "OK r1 1;") && zg_qjournal_sync_socket (journal) == NULL);
    assert (zg_qjournal_open (journal, dir, &core, error, sizeof error) == 0);
    assert (zg_qjournal_open (journal, "/tmp", &core, error, sizeof error) == -1 && strstr (error, "restart"));
    json_object *stats = zg_qjournal_stats (journal);
    assert (streq (json_object_get_string (json_object_object_get (stats, "store")), ZG_QDURABLE_LOG));
    assert (json_object_get_int64 (json_object_object_get (stats, "tasks")) == 1);
    json_object_put (stats);
    s_test_lost_pass (journal, &core, sent);

    //  A restart finds the stored task waiting
    assert (s_test_start (&journal, &core, &settings, ZG_QDURABLE_LOG, dir, sent) == 0);
    assert (zg_qcore_queue (core, "jobs", false)->waiting == 1);

    //  A store of the other kind is refused: the journal stays in memory
    assert (s_test_start (&journal, &core, &settings, ZG_QDURABLE_LMDB, dir, sent) == -1);
    assert (!zg_qjournal_on (journal) && !*settings.data_dir && !zg_qcore_task (core, 1));
    zg_qcore_destroy (&core);
    zg_qjournal_destroy (&journal);
    assert (journal == NULL);
    s_test_remove (dir);
    s_test_store (ZG_QDURABLE_LOG);
    s_test_store (ZG_QDURABLE_LMDB);
    printf ("OK\n");
}
