/*  =========================================================================
    zg_hstore - the topics that remember, kept on disk (topics/data-dir)

    See zg_hstore.h for the model. LMDB's B-tree costs thousands of
    instructions per put or delete, more than the rest of a message's way
    through zgate, so the store does not write per message: a pass gathers
    each topic's new messages in one buffer and its drops as one number
    (messages are always dropped oldest first), and the commit writes per
    topic one chunk (all its messages of the pass, under the key of the
    first) and its record (epoch, top, and the first seq still kept), and
    deletes the chunks that hold no kept message any more. A load skips the
    messages of a chunk below its topic's first. A chunk whose buffer grows
    past ZG_HSTORE_CHUNK bytes is written at once and a new one started, so
    a topic holds at most that much (plus one message) on disk beyond what
    it keeps.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_dirlock.h"
#include "zg_qrecord.h"
#include "zg_hstore.h"
#include <endian.h>
#include <lmdb.h>

//  Longest error text
#define ZG_HSTORE_ERROR_SIZE 512
//  Bytes of a chunk's messages before it is written out mid-pass
#define ZG_HSTORE_CHUNK (1024 * 1024)
//  A topic's record: [epoch 16][top 8][first 8]
#define ZG_HSTORE_TOPIC_SIZE 32
//  A chunk: [last seq 8] then per message [seq 8][time 8][size 4][payload]
#define ZG_HSTORE_ENTRY_HEADER 20

//  One topic's changes in the current pass
typedef struct {
    char *name;                     //  The topic
    char epoch [17];                //  Its epoch, "" if the pass did not say
    uint64_t top;                   //  Its newest seq as of the pass, 0 if not said
    uint64_t first;                 //  First seq kept after the pass's drops, 0 if none
    zchunk_t *chunk;                //  Its new messages, or NULL
    uint64_t chunk_first;           //  Seq of the first message in chunk
    uint64_t chunk_last;            //  Seq of the last one
} s_pending_t;
//  Longest key of a message: a topic (topics/max-topic-size is at most
//  65535, but LMDB keys are at most 511 bytes) and its seq
#define ZG_HSTORE_MAX_NAME (511 - 9)

struct _zg_hstore_t {
    char *dir;                      //  The data directory
    zg_dirlock_t *lock;             //  The directory, ours while open
    MDB_env *env;                   //  The LMDB environment
    MDB_dbi meta, topics, messages; //  Its databases
    MDB_txn *txn;                   //  The current pass, or NULL
    zhashx_t *pending;              //  Name -> s_pending_t: the pass's changes per topic
    s_pending_t *last;              //  The last one asked for, or NULL: runs on one topic skip the lookup
    bool off;                       //  A pass failed: nothing more is stored
    char error [ZG_HSTORE_ERROR_SIZE];  //  Last error
};

static void
s_pending_destroy (s_pending_t **self_p)
{
    zchunk_destroy (&(*self_p)->chunk);
    free ((*self_p)->name);
    free (*self_p);
    *self_p = NULL;
}

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
    self->last = NULL;
    zhashx_purge (self->pending);
    s_self_empty (self);
}

//  The state of an open store, "open <boot id>" (the machine's run: a
//  store left open in the same run was left by a crash of zgate alone,
//  whose commits the operating system kept); returns its length
static size_t
s_open_state (char *state, size_t size)
{
    char boot [64] = "";
    FILE *file = fopen ("/proc/sys/kernel/random/boot_id", "r");
    if (file) {
        if (!fgets (boot, sizeof boot, file))
            boot [0] = 0;
        fclose (file);
    }
    boot [strcspn (boot, "\n")] = 0;
    return (size_t) snprintf (state, size, "open %s", boot);
}

//  Open the databases, check the format, empty the store unless it was
//  closed cleanly or left open in this run of the machine, and mark it
//  open; returns an LMDB code, or -1 with the error set for a format this
//  build does not read
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
    char state [80];
    size_t state_size = s_open_state (state, sizeof state);
    //  Without a boot id ("open "), only a clean close keeps the store
    bool kept = rc == 0 && mdb_get (txn, self->meta, &key, &value) == 0
             && ((value.mv_size == 5 && memcmp (value.mv_data, "clean", 5) == 0)
             ||  (state_size > 5 && value.mv_size == state_size && memcmp (value.mv_data, state, state_size) == 0));
    if (rc == 0 && !kept)
        rc = mdb_drop (txn, self->topics, 0);
    if (rc == 0 && !kept)
        rc = mdb_drop (txn, self->messages, 0);
    if (rc == 0)
        rc = s_put_meta (txn, self->meta, "state", state, state_size);
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
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, (zhashx_destructor_fn *) s_pending_destroy);
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
    self->off = true;           //  Nothing to commit nor to mark clean
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
    zhashx_destroy (&self->pending);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Loading

//  Hand back the messages of one chunk from first on (each topic's first
//  is in firsts); returns 0 or MDB_CORRUPTED
static int
s_load_chunk (MDB_val *key, MDB_val *value, zhashx_t *firsts, zg_hstore_message_fn *message_fn, void *arg)
{
    const byte *bytes = (const byte *) key->mv_data;
    if (key->mv_size < 10 || key->mv_size > ZG_HSTORE_MAX_NAME + 9 || bytes [key->mv_size - 9] != 0
    ||  value->mv_size < 8)
        return MDB_CORRUPTED;
    const char *name = (const char *) bytes;
    uint64_t *first = (uint64_t *) zhashx_lookup (firsts, name);
    const byte *cursor = (const byte *) value->mv_data + 8;
    const byte *end = (const byte *) value->mv_data + value->mv_size;
    while (cursor < end) {
        if ((size_t) (end - cursor) < ZG_HSTORE_ENTRY_HEADER)
            return MDB_CORRUPTED;
        uint64_t seq = zg_qrecord_get_uint (cursor, 8);
        int64_t time = (int64_t) zg_qrecord_get_uint (cursor + 8, 8);
        size_t size = (size_t) zg_qrecord_get_uint (cursor + 16, 4);
        cursor += ZG_HSTORE_ENTRY_HEADER;
        if ((size_t) (end - cursor) < size)
            return MDB_CORRUPTED;
        if (first && seq >= *first)
            message_fn (name, seq, time, cursor, size, arg);
        cursor += size;
    }
    return 0;
}

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
    //  Each topic's first seq kept, by name: chunks may hold older ones
    zhashx_t *firsts = zhashx_new ();
    zhashx_set_destructor (firsts, (zhashx_destructor_fn *) zstr_free);
    if (rc == 0)
        rc = mdb_cursor_open (txn, self->topics, &cursor);
    for (int op = MDB_FIRST; rc == 0 && (rc = mdb_cursor_get (cursor, &key, &value, (MDB_cursor_op) op)) == 0;
         op = MDB_NEXT) {
        if (key.mv_size > ZG_HSTORE_MAX_NAME || value.mv_size != ZG_HSTORE_TOPIC_SIZE) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy (name, key.mv_data, key.mv_size);
        name [key.mv_size] = 0;
        memcpy (epoch, value.mv_data, 16);
        epoch [16] = 0;
        uint64_t *first = (uint64_t *) malloc (sizeof (uint64_t));
        assert (first);
        *first = zg_qrecord_get_uint ((const byte *) value.mv_data + 24, 8);
        zhashx_update (firsts, name, first);
        topic_fn (name, epoch, zg_qrecord_get_uint ((const byte *) value.mv_data + 16, 8), arg);
    }
    mdb_cursor_close (cursor);
    cursor = NULL;
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_open (txn, self->messages, &cursor);
    for (int op = MDB_FIRST; rc == 0 && (rc = mdb_cursor_get (cursor, &key, &value, (MDB_cursor_op) op)) == 0;
         op = MDB_NEXT)
        rc = s_load_chunk (&key, &value, firsts, message_fn, arg);
    mdb_cursor_close (cursor);
    zhashx_destroy (&firsts);
    if (txn)
        mdb_txn_abort (txn);
    if (rc == MDB_NOTFOUND)
        return 0;
    s_self_lose (self, rc, "cannot read the history");
    return -1;
}

//  --------------------------------------------------------------------------
//  Changes

//  A topic's changes in the pass, made if needed; NULL if the store is off
//  or the name is too long for an LMDB key (such a topic stays in memory)
static s_pending_t *
s_self_pending (zg_hstore_t *self, const char *name)
{
    if (self->last && streq (self->last->name, name))
        return self->last;
    if (self->off || strlen (name) > ZG_HSTORE_MAX_NAME)
        return NULL;
    s_pending_t *pending = (s_pending_t *) zhashx_lookup (self->pending, name);
    if (!pending) {
        pending = (s_pending_t *) zmalloc (sizeof (s_pending_t));
        assert (pending);
        pending->name = strdup (name);
        zhashx_insert (self->pending, name, pending);
    }
    self->last = pending;
    return pending;
}

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

//  The key of a chunk, [name][NUL][seq of its first message]
static MDB_val
s_chunk_key (byte *buffer, const char *name, uint64_t seq)
{
    size_t length = strlen (name);
    memcpy (buffer, name, length + 1);
    zg_qrecord_put_uint (buffer + length + 1, seq, 8);
    return (MDB_val) { length + 9, buffer };
}

//  Write a topic's gathered messages as one chunk; returns an LMDB code
static int
s_self_write_chunk (zg_hstore_t *self, const char *name, s_pending_t *pending)
{
    byte buffer [ZG_HSTORE_MAX_NAME + 9];
    MDB_val key = s_chunk_key (buffer, name, pending->chunk_first);
    MDB_val value = { 8 + zchunk_size (pending->chunk), NULL };
    //  Reserved, then written in place: one copy of the messages
    int rc = mdb_put (self->txn, self->messages, &key, &value, MDB_RESERVE);
    if (rc == 0) {
        zg_qrecord_put_uint ((byte *) value.mv_data, pending->chunk_last, 8);
        memcpy ((byte *) value.mv_data + 8, zchunk_data (pending->chunk), zchunk_size (pending->chunk));
    }
    zchunk_set (pending->chunk, NULL, 0);
    return rc;
}

//  Delete a topic's chunks: all (first 0), or those with no seq at or
//  above first; returns an LMDB code
static int
s_self_delete_chunks (zg_hstore_t *self, const char *name, uint64_t first)
{
    byte buffer [ZG_HSTORE_MAX_NAME + 9];
    MDB_val key = s_chunk_key (buffer, name, 0), value;
    size_t prefix = key.mv_size - 8;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (self->txn, self->messages, &cursor);
    if (rc == 0)
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == prefix + 8 && memcmp (key.mv_data, buffer, prefix) == 0
       &&  value.mv_size >= 8 && (first == 0 || zg_qrecord_get_uint ((const byte *) value.mv_data, 8) < first)) {
        rc = mdb_cursor_del (cursor, 0);
        //  Search again from the topic's first key: the cursor's position
        //  after a delete is not one to rely on
        key = (MDB_val) { prefix + 8, buffer };
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND? 0: rc;
}

//  Write a topic's changes of the pass: its chunk, its record, and the
//  chunks its drops emptied; returns an LMDB code
static int
s_self_write (zg_hstore_t *self, const char *name, s_pending_t *pending)
{
    //  A chunk whose messages all went in the same pass is not written
    bool kept = pending->chunk && zchunk_size (pending->chunk) && pending->first <= pending->chunk_last;
    int rc = kept? s_self_write_chunk (self, name, pending): 0;
    byte record [ZG_HSTORE_TOPIC_SIZE] = { 0 };
    MDB_val key = { strlen (name), (void *) name }, value;
    if (rc == 0 && (rc = mdb_get (self->txn, self->topics, &key, &value)) == 0
    &&  value.mv_size == ZG_HSTORE_TOPIC_SIZE)
        memcpy (record, value.mv_data, ZG_HSTORE_TOPIC_SIZE);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc)
        return rc;
    if (*pending->epoch)
        memcpy (record, pending->epoch, 16);
    uint64_t top = zg_qrecord_get_uint (record + 16, 8);
    uint64_t first = zg_qrecord_get_uint (record + 24, 8);
    zg_qrecord_put_uint (record + 16, pending->top > top? pending->top: top, 8);
    zg_qrecord_put_uint (record + 24, pending->first > first? pending->first: first, 8);
    value = (MDB_val) { ZG_HSTORE_TOPIC_SIZE, record };
    rc = mdb_put (self->txn, self->topics, &key, &value, 0);
    if (rc == 0 && pending->first > first)
        rc = s_self_delete_chunks (self, name, pending->first);
    return rc;
}

void
zg_hstore_topic (zg_hstore_t *self, const char *name, const char *epoch, uint64_t top)
{
    assert (self && name && epoch);
    s_pending_t *pending = s_self_pending (self, name);
    if (pending) {
        snprintf (pending->epoch, sizeof pending->epoch, "%s", epoch);
        pending->top = top > pending->top? top: pending->top;
    }
}

void
zg_hstore_put (zg_hstore_t *self, const char *name, uint64_t seq, int64_t time, const void *data, size_t size)
{
    assert (self && name);
    s_pending_t *pending = s_self_pending (self, name);
    if (!pending)
        return;
    if (!pending->chunk)
        pending->chunk = zchunk_new (NULL, ZG_HSTORE_CHUNK / 16);
    else
    if (zchunk_size (pending->chunk) >= ZG_HSTORE_CHUNK) {
        int rc = s_self_begin (self)? s_self_write_chunk (self, name, pending): 0;
        if (rc)
            s_self_lose (self, rc, "cannot store messages");
        if (self->off)
            return;
    }
    if (zchunk_size (pending->chunk) == 0)
        pending->chunk_first = seq;
    pending->chunk_last = seq;
    pending->top = seq;
    //  Per message: the words big-endian at once, not byte by byte as
    //  zg_qrecord_put_uint writes the rarer records (same layout)
    byte header [ZG_HSTORE_ENTRY_HEADER];
    uint64_t words [2] = { htobe64 (seq), htobe64 ((uint64_t) time) };
    uint32_t length = htobe32 ((uint32_t) size);
    memcpy (header, words, 16);
    memcpy (header + 16, &length, 4);
    zchunk_extend (pending->chunk, header, sizeof header);
    zchunk_extend (pending->chunk, data, size);
}

void
zg_hstore_drop (zg_hstore_t *self, const char *name, uint64_t seq)
{
    assert (self && name);
    s_pending_t *pending = s_self_pending (self, name);
    if (pending && seq + 1 > pending->first)
        pending->first = seq + 1;
}

void
zg_hstore_forget (zg_hstore_t *self, const char *name)
{
    assert (self && name);
    self->last = NULL;
    zhashx_delete (self->pending, name);
    MDB_val key = { strlen (name), (void *) name };
    if (key.mv_size > ZG_HSTORE_MAX_NAME || !s_self_begin (self))
        return;
    int rc = mdb_del (self->txn, self->topics, &key, NULL);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = s_self_delete_chunks (self, name, 0);
    if (rc)
        s_self_lose (self, rc, "cannot forget a topic");
}

int
zg_hstore_commit (zg_hstore_t *self)
{
    assert (self);
    if (self->off)
        return -1;
    if (!self->txn && zhashx_size (self->pending) == 0)
        return 0;
    if (!s_self_begin (self))
        return -1;
    int rc = 0;
    for (s_pending_t *pending = (s_pending_t *) zhashx_first (self->pending); pending && rc == 0;
         pending = (s_pending_t *) zhashx_next (self->pending))
        rc = s_self_write (self, pending->name, pending);
    self->last = NULL;
    zhashx_purge (self->pending);
    if (rc == 0)
        rc = mdb_txn_commit (self->txn);
    else
        mdb_txn_abort (self->txn);
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
    assert (streq (text, "Ta/0123456789abcdef/3 Ma/2/1000/two Ma/3/0/three "));
    //  A chunk goes once none of its messages is kept
    MDB_stat stat;
    zg_hstore_drop (store, "a", 2);
    zg_hstore_drop (store, "a", 3);
    zg_hstore_put (store, "a", 4, 0, "four", 4);
    assert (zg_hstore_commit (store) == 0);
    MDB_txn *reader = NULL;
    assert (mdb_txn_begin (store->env, NULL, MDB_RDONLY, &reader) == 0);
    assert (mdb_stat (reader, store->messages, &stat) == 0 && stat.ms_entries == 1);
    mdb_txn_abort (reader);
    text [0] = 0;
    assert (zg_hstore_load (store, s_test_topic, s_test_message, text) == 0);
    assert (streq (text, "Ta/0123456789abcdef/4 Ma/4/0/four "));
    //  A store left open in this run of the machine (zgate was killed) is
    //  kept: what it committed is what went out
    store->off = true;          //  No clean close
    zg_hstore_destroy (&store);
    store = zg_hstore_open (dir, 1 << 20, error, sizeof error);
    assert (store);
    text [0] = 0;
    assert (zg_hstore_load (store, s_test_topic, s_test_message, text) == 0);
    assert (streq (text, "Ta/0123456789abcdef/4 Ma/4/0/four "));
    //  One left open in another run of the machine (a boot id not this
    //  one's) is emptied: the machine may have lost its last commits
    MDB_txn *txn = NULL;
    assert (mdb_txn_begin (store->env, NULL, 0, &txn) == 0);
    assert (s_put_meta (txn, store->meta, "state", "open 00000000-0000-0000-0000-000000000000", 41) == 0);
    assert (mdb_txn_commit (txn) == 0);
    store->off = true;
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
