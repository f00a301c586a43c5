/*  =========================================================================
    zg_ranswers - how the rooms actor answers the request it is handling:
    OK (empty, a number, or a packed msgpack map) and ERROR, to its routing
    id, counting what libzmq refuses and what the permissions deny

    Private to zg_rooms. Answers carry the request's req (frame 2); an
    oversized req gets answers without it, and an empty req asked for no OK.
    =========================================================================
*/

#ifndef ZG_RANSWERS_H_INCLUDED
#define ZG_RANSWERS_H_INCLUDED

#include <czmq.h>
#include "zg_wire.h"
#include "zg_rsettings.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_ranswers_t zg_ranswers_t;

//  Create the answers to the requests received into request, sent on the
//  libzmq socket handle; settings' max-name-size and verbose apply (all
//  three the caller's, alive as long)
zg_ranswers_t *
    zg_ranswers_new (void *handle, zg_wire_request_t *request, const zg_rsettings_t *settings);

//  Destroy them
void
    zg_ranswers_destroy (zg_ranswers_t **self_p);

//  The req answers carry: frame 2, or empty if it is longer than max-name-size
zg_wire_part_t
    zg_ranswers_req (zg_ranswers_t *self);

//  OK with up to two results, unless the req is empty
void
    zg_ranswers_ok (zg_ranswers_t *self, const zg_wire_part_t *results, size_t count);

//  OK with a number
void
    zg_ranswers_ok_number (zg_ranswers_t *self, uint64_t value);

//  An empty buffer to pack an answer into, and OK with what was packed
msgpack_packer *
    zg_ranswers_packer (zg_ranswers_t *self);

void
    zg_ranswers_ok_packed (zg_ranswers_t *self);

//  ERROR with a code and a reason; returns -1
int
    zg_ranswers_error (zg_ranswers_t *self, int code, const char *format, ...) CHECK_PRINTF (3);

//  ERROR with a code and a reason already made: 403s are counted as denied
void
    zg_ranswers_refused (zg_ranswers_t *self, int code, const char *reason);

//  Add errors and denied to a STATS object
void
    zg_ranswers_stats (zg_ranswers_t *self, json_object *root);

//  Answers libzmq refused
uint64_t
    zg_ranswers_dropped (zg_ranswers_t *self);

//  Self test of this class
void
    zg_ranswers_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
