/*  =========================================================================
    zg_qlogindex - the log store's tasks by id, in memory

    Private to the log store (zg_qlogstore): for each stored task, its
    header and where its payload and result lie in the log file. Every
    task the queues accept passes through it (put, changes, delete), so it
    is an open-addressing table of entries in place (linear probing,
    deletion by backward shift: no tombstones, no allocation per task),
    and queue names are shared, counted strings.
    =========================================================================
*/

#ifndef ZG_QLOGINDEX_H_INCLUDED
#define ZG_QLOGINDEX_H_INCLUDED

#include <czmq.h>
#include "zg_qrecord.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_qlogindex_t zg_qlogindex_t;

//  One stored task
typedef struct {
    zg_qrecord_t record;            //  Header fields; queue is the index's, owner, payload and
                                    //  result NULL
    uint64_t payload_at;            //  Offset of the payload (record.payload_size bytes)
    uint64_t result_at;             //  Offset of the result (record.result_size bytes)
    uint64_t owner_at;              //  Offset of the owner (record.owner_size bytes)
    uint64_t moved_payload_at;      //  The same in a compaction's new file
    uint64_t moved_result_at;
    uint64_t moved_owner_at;
} zg_qlogentry_t;

//  A new, empty index
zg_qlogindex_t *
    zg_qlogindex_new (void);

//  Destroy the index
void
    zg_qlogindex_destroy (zg_qlogindex_t **self_p);

//  The entry of id, or NULL. Entry pointers are valid until the next
//  insert or remove.
zg_qlogentry_t *
    zg_qlogindex_lookup (zg_qlogindex_t *self, uint64_t id);

//  The entry of id, made (zeroed, with its id and no queue) if new
zg_qlogentry_t *
    zg_qlogindex_insert (zg_qlogindex_t *self, uint64_t id);

//  Remove the entry of id, if any
void
    zg_qlogindex_remove (zg_qlogindex_t *self, uint64_t id);

//  Set an entry's queue name (size bytes, not terminated)
void
    zg_qlogindex_rename (zg_qlogindex_t *self, zg_qlogentry_t *entry, const void *queue, size_t size);

//  Remove every entry
void
    zg_qlogindex_purge (zg_qlogindex_t *self);

//  Entries held
size_t
    zg_qlogindex_size (zg_qlogindex_t *self);

//  Entries in table order: the one at or after *cursor (start at 0),
//  moving the cursor past it; NULL at the end
zg_qlogentry_t *
    zg_qlogindex_next (zg_qlogindex_t *self, size_t *cursor);

//  Self test of this class
void
    zg_qlogindex_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
