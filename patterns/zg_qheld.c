/*  =========================================================================
    zg_qheld - the queues' messages held until their passes are on disk

    See zg_qheld.h. Two outboxes: the messages the sync in flight covers,
    and those of the passes after it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_errors.h"
#include "zg_qheld.h"
#include "zg_qcore.h"
#include "zg_qtest.h"

struct _zg_qheld_t {
    zg_qdurable_t *durable;         //  The store
    zg_qheld_send_fn *send;         //  Sends an outbox
    void *arg;                      //  Its argument
    zg_qoutbox_t *syncing;          //  Messages the sync in flight covers
    zg_qoutbox_t *waiting;          //  Messages of the passes after it
};

//  --------------------------------------------------------------------------
//  Held messages of a store

zg_qheld_t *
zg_qheld_new (zg_qdurable_t *durable, zg_qheld_send_fn *send, void *arg)
{
    assert (durable && send);
    zg_qheld_t *self = (zg_qheld_t *) zmalloc (sizeof (zg_qheld_t));
    assert (self);
    self->durable = durable;
    self->send = send;
    self->arg = arg;
    self->syncing = zg_qoutbox_new ();
    self->waiting = zg_qoutbox_new ();
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy

void
zg_qheld_destroy (zg_qheld_t **self_p)
{
    assert (self_p);
    zg_qheld_t *self = *self_p;
    if (!self)
        return;
    if (zg_qdurable_syncing (self->durable))
        zg_qdurable_sync_end (self->durable);
    zg_qoutbox_destroy (&self->syncing);
    zg_qoutbox_destroy (&self->waiting);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Send an outbox whose passes are synced (rc 0), or refuse its OKs

static void
s_release (zg_qheld_t *self, zg_qoutbox_t *outbox, int rc)
{
    if (rc) {
        char reason [ZG_WIRE_REASON_SIZE];
        zg_wire_reason (reason, "not stored: %s", zg_qdurable_error (self->durable));
        zg_qoutbox_refuse (outbox, ZG_ERR_STORAGE, reason);
    }
    self->send (self->arg, outbox);
}

//  --------------------------------------------------------------------------
//  No sync in flight: sync the waiting messages' passes, or send them if
//  nothing they follow needs one

static void
s_next (zg_qheld_t *self)
{
    if (zg_qdurable_written (self->durable)) {
        zg_qoutbox_move (self->waiting, self->syncing);
        zg_qdurable_sync (self->durable);
    }
    else
        self->send (self->arg, self->waiting);
}

//  --------------------------------------------------------------------------
//  End of a pass

int
zg_qheld_pass (zg_qheld_t *self, zg_qoutbox_t *outbox)
{
    assert (self && outbox);
    if (zg_qdurable_write (self->durable)) {
        //  What was written before the lost pass is in the store: it goes
        //  out once synced, before the lost pass's answers
        int rc = zg_qdurable_syncing (self->durable)? zg_qdurable_sync_end (self->durable): 0;
        s_release (self, self->syncing, rc);
        if (rc == 0 && zg_qdurable_written (self->durable))
            rc = zg_qdurable_commit (self->durable);
        s_release (self, self->waiting, rc);
        return -1;
    }
    bool syncing = zg_qdurable_syncing (self->durable);
    if (syncing || zg_qdurable_written (self->durable) || zg_qoutbox_size (self->waiting)) {
        zg_qoutbox_move (outbox, self->waiting);
        if (!syncing)
            s_next (self);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The sync in flight ended

int
zg_qheld_synced (zg_qheld_t *self)
{
    assert (self);
    int rc = zg_qdurable_sync_end (self->durable);
    s_release (self, self->syncing, rc);
    if (rc)
        s_release (self, self->waiting, rc);
    else
        s_next (self);
    return rc;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Appends the outbox's messages as text to the string arg
static void
s_test_send (void *arg, zg_qoutbox_t *outbox)
{
    char text [256];
    zg_qoutbox_text (outbox, text, sizeof text);
    strcat ((char *) arg, text);
}

//  Waits for the sync in flight and hands it to held
static void
s_test_synced (zg_qheld_t *held, zg_qdurable_t *durable)
{
    zmq_pollitem_t item = { zg_qdurable_sync_socket (durable), 0, ZMQ_POLLIN, 0 };
    assert (item.socket && zmq_poll (&item, 1, 5000) == 1);
    assert (zg_qheld_synced (held) == 0);
}

//  Counts the tasks a load finds
static int
s_test_count (const zg_qrecord_t *record, void *arg)
{
    (void) record;
    (*(int *) arg)++;
    return 0;
}

void
zg_qheld_test (bool verbose)
{
    (void) verbose;
    printf (" * zg_qheld: ");
    char dir [] = "/tmp/zg_qheld_test_XXXXXX", error [256], sent [1024] = "";
    assert (mkdtemp (dir));
    zg_qstore_options_t store_options = { ZG_QSTORE_DEFAULT_SIZE, false };
    zg_qdurable_t *durable = zg_qdurable_new (dir, ZG_QDURABLE_LOG, &store_options, error, sizeof error);
    assert (durable);
    zg_qsettings_t settings = zg_qsettings_defaults ();
    zg_qcore_t *core = zg_qcore_new (&settings);
    zg_qcore_journal (core, durable);
    zg_qheld_t *held = zg_qheld_new (durable, s_test_send, sent);
    zg_qoutbox_t *outbox = zg_qcore_outbox (core);

    //  A pass that wrote nothing, with nothing held: its messages go at once
    zg_qoutbox_ok (outbox, zg_wire_str ("p"), zg_wire_str ("r0"), "0");
    assert (zg_qheld_pass (held, outbox) == 0 && zg_qoutbox_size (outbox) == 1);
    zg_qoutbox_clear (outbox);

    //  A pass that wrote a task: held until its sync ends; the next pass,
    //  written meanwhile, and one that wrote nothing wait behind it and get
    //  the next sync
    zg_qoptions_t options = { .timeout = 100000, .ack_timeout = 500 };
    char id [ZG_TASKS_ID_SIZE + 1];
    assert (zg_qtest_submit (core, "jobs", false, &options, id) == 0 && streq (id, "1"));
    zg_qoutbox_ok (outbox, zg_wire_str ("p"), zg_wire_str ("r1"), "1");
    assert (zg_qheld_pass (held, outbox) == 0 && zg_qoutbox_size (outbox) == 0);
    assert (zg_qdurable_syncing (durable) && *sent == 0);
    assert (zg_qtest_submit (core, "jobs", false, &options, id) == 0 && streq (id, "2"));
    zg_qoutbox_ok (outbox, zg_wire_str ("p"), zg_wire_str ("r2"), "2");
    assert (zg_qheld_pass (held, outbox) == 0 && zg_qoutbox_size (outbox) == 0);
    zg_qoutbox_ok (outbox, zg_wire_str ("p"), zg_wire_str ("r3"), "3");
    assert (zg_qheld_pass (held, outbox) == 0 && zg_qoutbox_size (outbox) == 0);
    s_test_synced (held, durable);
    assert (streq (sent, "OK r1 1;") && zg_qdurable_syncing (durable));
    s_test_synced (held, durable);
    assert (streq (sent, "OK r1 1;OK r2 2;OK r3 3;") && !zg_qdurable_syncing (durable));
    assert (!zg_qdurable_written (durable));

    //  Both tasks are on disk: a restart finds them
    zg_qheld_destroy (&held);
    zg_qcore_destroy (&core);
    zg_qdurable_destroy (&durable);
    durable = zg_qdurable_new (dir, ZG_QDURABLE_LOG, &store_options, error, sizeof error);
    int stored = 0;
    assert (zg_qdurable_load (durable, s_test_count, &stored) == 0 && stored == 2);
    zg_qdurable_destroy (&durable);
    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
    printf ("OK\n");
}
