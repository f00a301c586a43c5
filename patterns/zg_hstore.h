/*  =========================================================================
    zg_hstore - the topics that remember, kept on disk (topics/data-dir)

    Private to zg_history, which mirrors every change into it: a topic's
    epoch and top, each message recorded, each message dropped, each topic
    forgotten. The changes of one loop pass of the topics actor join one
    LMDB write transaction, committed together by zg_hstore_commit: one
    commit per pass, not per message. Commits are not synced to disk (LMDB's
    MDB_NOSYNC): the operating system writes them back, and a clean close
    syncs and marks the store clean. History and epochs survive a clean
    restart, and a crash of zgate alone (kill -9): the topics actor sends a
    pass's messages only after its commit (zg_topics_history_hold), and the
    operating system keeps what was committed. A store that was open when
    the machine stopped (its boot id, /proc/sys/kernel/random/boot_id, is
    not the one now) is emptied when opened: its last commits may not have
    reached the disk though their messages reached subscribers, and a new
    epoch for every topic tells clients so instead of claiming that nothing
    was missed. A pass that fails (store or disk full) empties the store
    and turns it off until the next start, for the same reason.

    Layout: database "meta" holds "format" (1 byte, ZG_HSTORE_FORMAT) and
    "state" ("clean" after a clean close, "open <boot id>" while a zgate
    has it);
    "topics" holds name -> [epoch 16 chars][top 8][first seq kept 8];
    "messages" holds chunks, [name][NUL][seq of its first message 8] ->
    [seq of its last 8] then per message [seq 8][time 8, wall clock ms, 0
    without an age bound][size 4][payload]; numbers big-endian.
    =========================================================================
*/

#ifndef ZG_HSTORE_H_INCLUDED
#define ZG_HSTORE_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Layout version of the store
#define ZG_HSTORE_FORMAT 1

typedef struct _zg_hstore_t zg_hstore_t;

//  Called by zg_hstore_load for each topic, then for each message of the
//  topics in name and seq order; strings and bytes are valid during the
//  call only
typedef void (zg_hstore_topic_fn) (const char *name, const char *epoch, uint64_t top, void *arg);
typedef void (zg_hstore_message_fn) (const char *name, uint64_t seq, int64_t time, const void *data, size_t size,
                                     void *arg);

//  Open (creating it if needed) the store in a directory, locked for this
//  process, its file at most max_size bytes. Returns NULL with a one-line
//  reason in error if the directory cannot be made or used, another
//  process holds it, or its format is not one this build reads.
zg_hstore_t *
    zg_hstore_open (const char *dir, int64_t max_size, char *error, size_t size);

//  Commit, mark the store clean, sync it and close it
void
    zg_hstore_destroy (zg_hstore_t **self_p);

//  Hand back every topic, then every message. Returns 0, or -1 if the store
//  cannot be read (it is then emptied and turned off).
int
    zg_hstore_load (zg_hstore_t *self, zg_hstore_topic_fn *topic_fn, zg_hstore_message_fn *message_fn,
                    void *arg);

//  Changes; each joins the current pass
//  A topic's epoch and top (a new topic, or one whose last message went)
void
    zg_hstore_topic (zg_hstore_t *self, const char *name, const char *epoch, uint64_t top);

//  A message recorded at time (wall clock ms)
void
    zg_hstore_put (zg_hstore_t *self, const char *name, uint64_t seq, int64_t time, const void *data,
                   size_t size);

//  A message dropped
void
    zg_hstore_drop (zg_hstore_t *self, const char *name, uint64_t seq);

//  A topic forgotten, with its messages
void
    zg_hstore_forget (zg_hstore_t *self, const char *name);

//  End the pass. Returns 0, or -1 with zg_hstore_error set if the pass
//  failed: the store is then emptied and off.
int
    zg_hstore_commit (zg_hstore_t *self);

//  Whether the store still mirrors the history (no pass failed)
bool
    zg_hstore_on (zg_hstore_t *self);

//  The last error, one line
const char *
    zg_hstore_error (zg_hstore_t *self);

//  Self test of this class
void
    zg_hstore_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
