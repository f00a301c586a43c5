/*  =========================================================================
    zg_hstore - the topics that remember, kept on disk (topics/data-dir)

    See zg_hstore.h for the model and the layout. The hot path adds one
    put (and, at a topic's bound, one delete) per message to the open
    transaction; the commit, once per loop pass, is a write to the page
    cache, not a sync.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_dirlock.h"
#include "zg_qrecord.h"
#include "zg_hstore.h"
#include <lmdb.h>

//  Longest error text
#define ZG_HSTORE_ERROR_SIZE 512
//  Longest key of a message: a topic (topics/max-topic-size is at most
//  65535, but LMDB keys are at most 511 bytes) and its seq
#define ZG_HSTORE_MAX_NAME (511 - 9)

struct _zg_hstore_t {
    char *dir;                      //  The data directory
    zg_dirlock_t *lock;             //  The directory, ours while open
    MDB_env *env;                   //  The LMDB environment
    MDB_dbi meta, topics, messages; //  Its databases
    MDB_txn *txn;                   //  The current pass, or NULL
    bool off;                       //  A pass failed: nothing more is stored
    char error [ZG_HSTORE_ERROR_SIZE];  //  Last error
};

//  Set the error from an LMDB or system code; returns -1
static int
s_self_fail (zg_hstore_t *self, int rc, const char *what)
{
    snprintf (self->error, sizeof self->error, "topics/data-dir '%s': %s: %s", self->dir, what,
              rc == MDB_MAP_FULL? "store full (history-max-bytes too large for it)": mdb_strerror (rc));
    return -1;
}

//  Put a meta value in a transaction
static int
s_put_meta (MDB_txn *txn, MDB_dbi meta, const char *key, const void *data, size_t size)
{
    MDB_val name = { strlen (key), (void *) key }, value = { size, (void *) data };
    return mdb_put (txn, meta, &name, &value, 0);
}

//  Empty the topics and messages in a transaction of their own, after a
//  failed pass or an unclean end of the machine; returns an LMDB code
static int
s_self_empty (zg_hstore_t *self)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_drop (txn, self->topics, 0);
    if (rc == 0)
        rc = mdb_drop (txn, self->messages, 0);
    if (rc == 0)
        return mdb_txn_commit (txn);
    mdb_txn_abort (txn);
    return rc;
}

//  A pass failed: empty the store (its last commit may be older than what
//  clients saw) and turn it off
static void
s_self_lose (zg_hstore_t *self, int rc, const char *what)
{
    s_self_fail (self, rc, what);
    zsys_error ("zg_topics: %s; history is no longer stored", self->error);
    if (self->txn)
        mdb_txn_abort (self->txn);
    self->txn = NULL;
    self->off = true;
    s_self_empty (self);
}

//  Open the databases, check the format, empty the store unless it was
//  closed cleanly, and mark it open; returns an LMDB code, or -1 with the
//  error set for a format this build does not read
static int
s_self_start (zg_hstore_t *self)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "topics", MDB_CREATE, &self->topics);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "messages", MDB_CREATE, &self->messages);
    MDB_val key = { 6, "format" }, value;
    byte format = ZG_HSTORE_FORMAT;
    if (rc == 0 && (rc = mdb_get (txn, self->meta, &key, &value)) == MDB_NOTFOUND)
        rc = s_put_meta (txn, self->meta, "format", &format, 1);
    else
    if (rc == 0 && (value.mv_size != 1 || *(byte *) value.mv_data != ZG_HSTORE_FORMAT)) {
        snprintf (self->error, sizeof self->error, "topics/data-dir '%s': store format %d, this zgate reads %d",
                  self->dir, value.mv_size? *(byte *) value.mv_data: 0, ZG_HSTORE_FORMAT);
        mdb_txn_abort (txn);
        return -1;
    }
    key = (MDB_val) { 5, "state" };
    bool kept = rc == 0 && mdb_get (txn, self->meta, &key, &value) == 0
             && value.mv_size == 5 && memcmp (value.mv_data, "clean", 5) == 0;
    if (rc == 0 && !kept)
        rc = mdb_drop (txn, self->topics, 0);
    if (rc == 0 && !kept)
        rc = mdb_drop (txn, self->messages, 0);
    if (rc == 0)
        rc = s_put_meta (txn, self->meta, "state", "open", 4);
    if (rc == 0)
        return mdb_txn_commit (txn);
    if (txn)
        mdb_txn_abort (txn);
    return rc;
}

//  --------------------------------------------------------------------------

zg_hstore_t *
zg_hstore_open (const char *dir, int64_t max_size, char *error, size_t size)
{
    assert (dir && error);
    zg_hstore_t *self = (zg_hstore_t *) zmalloc (sizeof (zg_hstore_t));
    assert (self);
    self->dir = strdup (dir);
    int64_t page = (int64_t) sysconf (_SC_PAGESIZE);
    int rc = 0;
    if (*dir == 0 || zsys_dir_create ("%s", dir))
        snprintf (self->error, sizeof self->error, "topics/data-dir '%s': cannot create the directory: %s", dir,
                  strerror (errno));
    else
    if ((self->lock = zg_dirlock_new (dir, self->error, sizeof self->error))) {
        rc = mdb_env_create (&self->env);
        if (rc == 0)
            rc = mdb_env_set_maxdbs (self->env, 3);
        if (rc == 0)
            rc = mdb_env_set_mapsize (self->env, (size_t) ((max_size + page - 1) / page * page));
        if (rc == 0)
            rc = mdb_env_open (self->env, dir, MDB_NOSYNC, 0644);
        if (rc == 0)
            rc = s_self_start (self);
        if (rc == 0) {
            *self->error = 0;
            return self;
        }
        if (rc > 0 || rc < -1)
            s_self_fail (self, rc, "cannot open");
    }
    snprintf (error, size, "%s", self->error);
    zg_hstore_destroy (&self);
    return NULL;
}

void
zg_hstore_destroy (zg_hstore_t **self_p)
{
    assert (self_p);
    zg_hstore_t *self = *self_p;
    if (!self)
        return;
    if (self->env && !self->off && zg_hstore_commit (self) == 0) {
        MDB_txn *txn = NULL;
        if (mdb_txn_begin (self->env, NULL, 0, &txn) == 0) {
            if (s_put_meta (txn, self->meta, "state", "clean", 5) == 0)
                mdb_txn_commit (txn);
            else
                mdb_txn_abort (txn);
        }
        mdb_env_sync (self->env, 1);
    }
    if (self->txn)
        mdb_txn_abort (self->txn);
    if (self->env)
        mdb_env_close (self->env);
    zg_dirlock_destroy (&self->lock);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Loading

int
zg_hstore_load (zg_hstore_t *self, zg_hstore_topic_fn *topic_fn, zg_hstore_message_fn *message_fn, void *arg)
{
    assert (self && topic_fn && message_fn && !self->txn);
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    MDB_val key, value;
    char name [ZG_HSTORE_MAX_NAME + 1];
    char epoch [17];
    if (rc == 0)
        rc = mdb_cursor_open (txn, self->topics, &cursor);
    for (int op = MDB_FIRST; rc == 0 && (rc = mdb_cursor_get (cursor, &key, &value, (MDB_cursor_op) op)) == 0;
         op = MDB_NEXT) {
        if (key.mv_size > ZG_HSTORE_MAX_NAME || value.mv_size != 24) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy (name, key.mv_data, key.mv_size);
        name [key.mv_size] = 0;
        memcpy (epoch, value.mv_data, 16);
        epoch [16] = 0;
        topic_fn (name, epoch, zg_qrecord_get_uint ((const byte *) value.mv_data + 16, 8), arg);
    }
    mdb_cursor_close (cursor);
    cursor = NULL;
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_open (txn, self->messages, &cursor);
    for (int op = MDB_FIRST; rc == 0 && (rc = mdb_cursor_get (cursor, &key, &value, (MDB_cursor_op) op)) == 0;
         op = MDB_NEXT) {
        const byte *bytes = (const byte *) key.mv_data;
        if (key.mv_size < 10 || bytes [key.mv_size - 9] != 0 || value.mv_size < 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy (name, bytes, key.mv_size - 9);
        name [key.mv_size - 9] = 0;
        message_fn (name, zg_qrecord_get_uint (bytes + key.mv_size - 8, 8),
                    (int64_t) zg_qrecord_get_uint ((const byte *) value.mv_data, 8),
                    (const byte *) value.mv_data + 8, value.mv_size - 8, arg);
    }
    mdb_cursor_close (cursor);
    if (txn)
        mdb_txn_abort (txn);
    if (rc == MDB_NOTFOUND)
        return 0;
    s_self_lose (self, rc, "cannot read the history");
    return -1;
}

//  --------------------------------------------------------------------------
//  Changes

//  Join the pass; false if the store is off or the pass cannot start
static bool
s_self_begin (zg_hstore_t *self)
{
    if (self->off)
        return false;
    int rc = self->txn? 0: mdb_txn_begin (self->env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        s_self_lose (self, rc, "cannot start a write transaction");
    }
    return rc == 0;
}

//  The key of a message: [name][NUL][seq]; false if the name is too long
//  for an LMDB key (such a topic is not stored)
static bool
s_message_key (byte *buffer, const char *name, uint64_t seq, MDB_val *key)
{
    size_t length = strlen (name);
    if (length > ZG_HSTORE_MAX_NAME)
        return false;
    memcpy (buffer, name, length + 1);
    zg_qrecord_put_uint (buffer + length + 1, seq, 8);
    *key = (MDB_val) { length + 9, buffer };
    return true;
}

void
zg_hstore_topic (zg_hstore_t *self, const char *name, const char *epoch, uint64_t top)
{
    assert (self && name && epoch);
    if (strlen (name) > ZG_HSTORE_MAX_NAME || !s_self_begin (self))
        return;
    byte record [24];
    memcpy (record, epoch, 16);
    zg_qrecord_put_uint (record + 16, top, 8);
    MDB_val key = { strlen (name), (void *) name }, value = { sizeof record, record };
    int rc = mdb_put (self->txn, self->topics, &key, &value, 0);
    if (rc)
        s_self_lose (self, rc, "cannot store a topic");
}

void
zg_hstore_put (zg_hstore_t *self, const char *name, uint64_t seq, int64_t time, const void *data, size_t size)
{
    assert (self && name);
    byte buffer [ZG_HSTORE_MAX_NAME + 9];
    MDB_val key, value = { size + 8, NULL };
    if (!s_message_key (buffer, name, seq, &key) || !s_self_begin (self))
        return;
    //  Reserved, then written in place: one copy of the payload
    int rc = mdb_put (self->txn, self->messages, &key, &value, MDB_RESERVE);
    if (rc == 0) {
        zg_qrecord_put_uint ((byte *) value.mv_data, (uint64_t) time, 8);
        memcpy ((byte *) value.mv_data + 8, data, size);
    }
    else
        s_self_lose (self, rc, "cannot store a message");
}

void
zg_hstore_drop (zg_hstore_t *self, const char *name, uint64_t seq)
{
    assert (self && name);
    byte buffer [ZG_HSTORE_MAX_NAME + 9];
    MDB_val key;
    if (!s_message_key (buffer, name, seq, &key) || !s_self_begin (self))
        return;
    int rc = mdb_del (self->txn, self->messages, &key, NULL);
    if (rc && rc != MDB_NOTFOUND)
        s_self_lose (self, rc, "cannot drop a message");
}

void
zg_hstore_forget (zg_hstore_t *self, const char *name)
{
    assert (self && name);
    //  zg_history drops a topic's messages before it forgets the topic
    MDB_val key = { strlen (name), (void *) name };
    if (key.mv_size > ZG_HSTORE_MAX_NAME || !s_self_begin (self))
        return;
    int rc = mdb_del (self->txn, self->topics, &key, NULL);
    if (rc && rc != MDB_NOTFOUND)
        s_self_lose (self, rc, "cannot forget a topic");
}

int
zg_hstore_commit (zg_hstore_t *self)
{
    assert (self);
    if (self->off)
        return -1;
    if (!self->txn)
        return 0;
    int rc = mdb_txn_commit (self->txn);
    self->txn = NULL;
    if (rc) {
        s_self_lose (self, rc, "cannot commit");
        return -1;
    }
    return 0;
}

bool
zg_hstore_on (zg_hstore_t *self)
{
    assert (self);
    return !self->off;
}

const char *
zg_hstore_error (zg_hstore_t *self)
{
    assert (self);
    return self->error;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Appends what a load hands back to a string
static void
s_test_topic (const char *name, const char *epoch, uint64_t top, void *arg)
{
    char *text = (char *) arg;
    size_t length = strlen (text);
    snprintf (text + length, 256 - length, "T%s/%s/%" PRIu64 " ", name, epoch, top);
}

static void
s_test_message (const char *name, uint64_t seq, int64_t time, const void *data, size_t size, void *arg)
{
    char *text = (char *) arg;
    size_t length = strlen (text);
    snprintf (text + length, 256 - length, "M%s/%" PRIu64 "/%" PRId64 "/%.*s ", name, seq, time, (int) size,
              (const char *) data);
}

void
zg_hstore_test (bool verbose)
{
    printf (" * zg_hstore: ");
    //  @selftest
    char dir [] = "/tmp/zg-hstore-test-XXXXXX";
    assert (mkdtemp (dir));
    char error [512];
    assert (zg_hstore_open ("", 1 << 20, error, sizeof error) == NULL);
    if (verbose)
        printf ("\n   %s", error);
    zg_hstore_t *store = zg_hstore_open (dir, 1 << 20, error, sizeof error);
    assert (store && zg_hstore_on (store));
    //  One process holds a directory
    assert (zg_hstore_open (dir, 1 << 20, error, sizeof error) == NULL);
    assert (strstr (error, "in use"));

    //  A pass's changes are committed together
    zg_hstore_topic (store, "a", "0123456789abcdef", 0);
    zg_hstore_put (store, "a", 1, 0, "one", 3);
    zg_hstore_put (store, "a", 2, 1000, "two", 3);
    zg_hstore_put (store, "a", 3, 0, "three", 5);
    zg_hstore_topic (store, "b", "fedcba9876543210", 7);
    zg_hstore_put (store, "b", 8, 0, "x", 1);
    assert (zg_hstore_commit (store) == 0);
    zg_hstore_drop (store, "a", 1);
    zg_hstore_drop (store, "b", 8);
    zg_hstore_forget (store, "b");
    assert (zg_hstore_commit (store) == 0);
    assert (zg_hstore_commit (store) == 0);
    zg_hstore_destroy (&store);

    //  A clean close keeps everything
    store = zg_hstore_open (dir, 1 << 20, error, sizeof error);
    assert (store);
    char text [256] = "";
    assert (zg_hstore_load (store, s_test_topic, s_test_message, text) == 0);
    assert (streq (text, "Ta/0123456789abcdef/0 Ma/2/1000/two Ma/3/0/three "));
    //  A store not closed cleanly (here: its state written back as open,
    //  as a crash leaves it) is emptied
    MDB_txn *txn = NULL;
    assert (mdb_txn_begin (store->env, NULL, 0, &txn) == 0);
    assert (s_put_meta (txn, store->meta, "state", "open", 4) == 0);
    assert (mdb_txn_commit (txn) == 0);
    store->off = true;          //  No clean close
    zg_hstore_destroy (&store);
    store = zg_hstore_open (dir, 1 << 20, error, sizeof error);
    assert (store);
    text [0] = 0;
    assert (zg_hstore_load (store, s_test_topic, s_test_message, text) == 0);
    assert (streq (text, ""));

    //  A full store loses the pass, empties itself and stays off
    char large [4096];
    memset (large, 'x', sizeof large);
    for (uint64_t seq = 1; seq < 1000 && zg_hstore_on (store); seq++)
        zg_hstore_put (store, "big", seq, 0, large, sizeof large);
    assert (!zg_hstore_on (store) && strstr (zg_hstore_error (store), "store full"));
    if (verbose)
        printf ("\n   %s", zg_hstore_error (store));
    assert (zg_hstore_commit (store) == -1);
    zg_hstore_destroy (&store);
    store = zg_hstore_open (dir, 1 << 20, error, sizeof error);
    assert (store);
    text [0] = 0;
    assert (zg_hstore_load (store, s_test_topic, s_test_message, text) == 0 && streq (text, ""));
    zg_hstore_destroy (&store);
    zg_hstore_destroy (&store);
    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
    //  @end
    printf ("OK\n");
}
