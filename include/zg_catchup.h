/*  =========================================================================
    zg_catchup - native subscriber of one topic that remembers: it joins
    late or comes back after a pause and reads the topic without a gap and
    without a duplicate, history first, then live

    It subscribes first, then asks zgate's history endpoint for the messages
    after its position (HISTORY), and merges both by sequence number: live
    messages the answer already held are dropped, and a live message that
    skips numbers (the subscription was not yet in effect when zgate
    answered) makes it ask again for the missing ones (docs/PROTOCOL.md,
    "Catching up"). Save zg_catchup_seq and zg_catchup_epoch to resume from
    the same place later.

        zg_catchup_t *reader = zg_catchup_new ("tcp://127.0.0.1:5560", "tcp://127.0.0.1:5565",
                                               "sensors.t1");
        if (zg_catchup_start (reader, saved_seq, saved_epoch, 2000) == 0)
            printf ("some messages were lost: starting from the oldest kept\n");
        zframe_t *payload;
        uint64_t seq;
        while (zg_catchup_recv (reader, &payload, &seq, -1) == 0) { ... zframe_destroy (&payload); }
    =========================================================================
*/

#ifndef ZG_CATCHUP_H_INCLUDED
#define ZG_CATCHUP_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_catchup_t zg_catchup_t;

//  Create a reader of topic (one topic, not a prefix) on zgate's subscribers
//  and history-requests endpoints. Returns NULL if an endpoint is invalid.
zg_catchup_t *
    zg_catchup_new (const char *subscribers, const char *history, const char *topic);

//  Destroy the reader
void
    zg_catchup_destroy (zg_catchup_t **self_p);

//  Start after a position: the last sequence number read of epoch (0 and
//  "" to read all that zgate keeps). Waits at most timeout ms for zgate.
//  Returns 1 if every message after the position is on its way, 0 if some
//  were lost (the epoch changed, or the gap is older than the history):
//  reading then starts at the oldest message kept; -1 if zgate did not
//  answer in time or the topic keeps no history.
int
    zg_catchup_start (zg_catchup_t *self, uint64_t since, const char *epoch, int timeout);

//  Start at the topic's last message, which zg_catchup_recv returns first
//  (MQTT's retained message). Returns 1, or -1 as zg_catchup_start.
int
    zg_catchup_start_last (zg_catchup_t *self, int timeout);

//  The next message in sequence, waiting at most timeout ms (-1 for ever).
//  Returns 0 with a payload frame the caller destroys and its sequence
//  number, or -1 on timeout or interrupt.
int
    zg_catchup_recv (zg_catchup_t *self, zframe_t **payload_p, uint64_t *seq_p, int timeout);

//  The sequence number of the last message read, and its topic's epoch
uint64_t
    zg_catchup_seq (zg_catchup_t *self);

const char *
    zg_catchup_epoch (zg_catchup_t *self);

//  Gaps that could not be filled since the start (the history no longer
//  held them, or zgate lost it)
uint64_t
    zg_catchup_lost (zg_catchup_t *self);

#ifdef ZGCLIENT_SELFTEST
//  Self test of this class: in tests/zg_selftest only, not in libzgclient
void
    zg_catchup_test (bool verbose);
#endif

#ifdef __cplusplus
}
#endif

#endif
