/*  =========================================================================
    zg_history - the topics that remember: per-topic message history with
    sequence numbers and epochs, bounded in messages, age and bytes

    History is off unless a rule names the topic. The rules come from
    topics/history, e.g. "sensors.* 1000 60s 1MB; chat.lobby 100": entries
    separated by ';', each a topic ("chat.lobby") or a prefix ending in '*'
    ("sensors.*" keeps every topic that starts with "sensors."), then one
    to three bounds in any order: a count of messages (1000), an age with
    unit ms, s, m or h (60s), a size with unit B, KB, MB or GB (1MB, powers
    of 1024). The first rule that matches a topic applies. All topics
    together stay under the total byte bound (topics/history-max-bytes):
    past it the oldest messages of any topic go first.

    Every message of a remembered topic gets the next sequence number of its
    topic (1, 2, ...). The topic's epoch, 16 hex digits, is drawn when zgate
    starts remembering the topic: a topic whose history was lost (zgate
    restarted, its rule was removed, or it was evicted whole under the byte
    bound) comes back with a new epoch, so a client can tell "nothing was
    missed" (same epoch, its seq still kept) from "history is gone".

    With a data directory (zg_history_persist, zg_hstore) the history and
    its epochs survive a clean restart.

    Payloads up to 1 KB are copied into their entry (one allocation per
    message, and no hold on the receive buffer libzmq decoded them in, which
    would pin a whole buffer for a few bytes); larger ones are kept as
    zmq_msg_t copies, which share their bytes by reference count.
    Private to the topics actor.
    =========================================================================
*/

#ifndef ZG_HISTORY_H_INCLUDED
#define ZG_HISTORY_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_history_t zg_history_t;

//  Room for an epoch, NUL included
#define ZG_HISTORY_EPOCH_SIZE 17

//  What a read found of a topic
typedef struct {
    const char *epoch;              //  The topic's epoch, "" if it has none yet
    uint64_t top;                   //  Newest sequence number, 0 if none
    uint64_t first;                 //  Oldest sequence number kept, top + 1 if none
} zg_history_state_t;

//  Called for each message a read returns, oldest first; the payload's
//  bytes are the history's, valid until the history changes
typedef void (zg_history_entry_fn) (uint64_t seq, const void *payload, size_t size, void *arg);

//  Create an empty history with no rules: nothing is remembered
zg_history_t *
    zg_history_new (void);

//  Destroy the history
void
    zg_history_destroy (zg_history_t **self_p);

//  Replace the rules with those of a spec (syntax above; "" for none).
//  Topics no rule names any more are forgotten; the others take their new
//  bounds at once. Returns 0, or -1 with a reason in error and nothing
//  changed.
int
    zg_history_set_rules (zg_history_t *self, const char *spec, char *error, size_t size);

//  Bound all topics together to max_bytes, evicting at once if needed
void
    zg_history_set_max_bytes (zg_history_t *self, size_t max_bytes);

//  Whether any rule is set: without one, record always returns 0
bool
    zg_history_enabled (zg_history_t *self);

//  Whether a rule names this topic
bool
    zg_history_matches (zg_history_t *self, const char *topic);

//  The bounds of the rule that names a topic: messages, age in ms, payload
//  bytes, each 0 for none. Returns false (all 0) if no rule names it.
bool
    zg_history_bounds (zg_history_t *self, const char *topic, uint64_t *messages, int64_t *age, uint64_t *bytes);

//  Remember a message (the payload stays the caller's). Returns its
//  sequence number and sets *mark_p to its sequence frame, "seq epoch"
//  (valid until the history changes), *mark_size to its length, or returns
//  0 if no rule names the topic.
uint64_t
    zg_history_record (zg_history_t *self, const char *topic, zmq_msg_t *payload, const char **mark_p,
                       size_t *mark_size);

//  Keep the history in a directory (topics/data-dir) from now on: what the
//  directory holds replaces what is remembered, then the rules apply to it.
//  Returns 0, or -1 with a reason in error and nothing changed.
int
    zg_history_persist (zg_history_t *self, const char *dir, char *error, size_t size);

//  Make the changes since the last commit durable (one per loop pass);
//  nothing without a directory
void
    zg_history_commit (zg_history_t *self);

//  Read a topic: fill *state and call fn for each message kept with a
//  sequence number above since, or only the newest one if last is true.
//  Returns the messages read, or -1 if no rule names the topic.
int
    zg_history_read (zg_history_t *self, const char *topic, uint64_t since, bool last,
                     zg_history_state_t *state, zg_history_entry_fn *fn, void *arg);

//  Topics remembered, messages kept and their bytes (overheads included)
void
    zg_history_counters (zg_history_t *self, size_t *topics, size_t *messages, size_t *bytes);

//  Self test of this class
void
    zg_history_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
