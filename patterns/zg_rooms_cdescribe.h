/*  =========================================================================
    zg_rooms_cdescribe - PEEK, STATE and METRICS of rooms across nodes,
    packed from the rooms script's replies

    Private to zg_rooms_cluster. The maps have the keys and types of a
    node alone (docs/PROTOCOL.md section 3.2), read from Redis; in STATE the
    members are the nodes that stand in Redis for their local members
    (client: the node id, with "count" of its members), and METRICS sums
    the shards' replies (zg_rooms_cmetrics_t collects them).
    =========================================================================
*/

#ifndef ZG_ROOMS_CDESCRIBE_H_INCLUDED
#define ZG_ROOMS_CDESCRIBE_H_INCLUDED

#include <czmq.h>
#include <hiredis/hiredis.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Pack a PEEK answer from the script's peek reply: at most max_bytes of
//  message data (the first message always). Returns 0, or -1 (nothing
//  packed) if the reply is not the script's
int
    zg_rooms_cdescribe_peek (redisReply *reply, const char *room, uint64_t offset, size_t max_bytes,
                             msgpack_packer *packer);

//  Pack a STATE answer from the script's state reply, with the rooms'
//  hold and ack-timeout. Returns 0, or -1 (nothing packed)
int
    zg_rooms_cdescribe_state (redisReply *reply, const char *room, bool hold, int64_t ack_timeout,
                              msgpack_packer *packer);

typedef struct _zg_rooms_cmetrics_t zg_rooms_cmetrics_t;

//  Collect METRICS over shards, the top rooms cut to top; clients is the
//  asking node's own count
zg_rooms_cmetrics_t *
    zg_rooms_cmetrics_new (size_t shards, size_t top, uint64_t clients);

//  Destroy the collection
void
    zg_rooms_cmetrics_destroy (zg_rooms_cmetrics_t **self_p);

//  Add one shard's metrics reply (or, with reply NULL, a shard that could
//  not answer); returns true once every shard is in
bool
    zg_rooms_cmetrics_add (zg_rooms_cmetrics_t *self, redisReply *reply);

//  Whether every shard answered with the script's reply
bool
    zg_rooms_cmetrics_complete (zg_rooms_cmetrics_t *self);

//  Pack the METRICS answer
void
    zg_rooms_cmetrics_pack (zg_rooms_cmetrics_t *self, msgpack_packer *packer);

//  Self test of this class
void
    zg_rooms_cdescribe_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
