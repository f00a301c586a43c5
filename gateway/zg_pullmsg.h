/*  =========================================================================
    zg_pullmsg - one message shared by the pull buffers of its subject

    A message published to a subject with many pull subscribers is kept
    once: each buffer that takes it holds a reference, its bytes are
    charged to the memory budget once, and the last holder that lets it go
    frees it and gives the bytes back. Private to the gateway; used in one
    thread (the gateway's), so the count is a plain integer.
    =========================================================================
*/

#ifndef ZG_PULLMSG_H_INCLUDED
#define ZG_PULLMSG_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_pullmsg_t zg_pullmsg_t;

//  Copy size bytes of data into a new message, held by the caller, and
//  charge them to account in the process's memory budget. The account must
//  outlive every holder of the message
zg_pullmsg_t *
    zg_pullmsg_new (const byte *data, size_t size, int64_t *account);

//  One more holder of the message; returns it
zg_pullmsg_t *
    zg_pullmsg_link (zg_pullmsg_t *self);

//  Let a holder's reference go; the last one frees the message and gives
//  its bytes back to its account
void
    zg_pullmsg_destroy (zg_pullmsg_t **self_p);

//  The message's bytes
const byte *
    zg_pullmsg_data (zg_pullmsg_t *self);

//  The message's size
size_t
    zg_pullmsg_size (zg_pullmsg_t *self);

//  How many holders it has
size_t
    zg_pullmsg_holders (zg_pullmsg_t *self);

//  Self test of this class
void
    zg_pullmsg_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
