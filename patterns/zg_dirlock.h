/*  =========================================================================
    zg_dirlock - one process at a time in a data directory

    A lock file in the directory, held with flock for the lifetime of the
    object. flock locks belong to an open file, so a second lock refuses
    another process and another lock in this process alike, and the kernel
    releases it when the process dies: a crash never leaves a stale lock.
    Stores such as LMDB let several processes share their files; two zgates
    serving the same tasks must not.
    =========================================================================
*/

#ifndef ZG_DIRLOCK_H_INCLUDED
#define ZG_DIRLOCK_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Name of the lock file in a locked directory
#define ZG_DIRLOCK_FILE "zgate.lock"

typedef struct _zg_dirlock_t zg_dirlock_t;

//  Lock an existing directory for this process. Returns NULL with a
//  one-line reason in error if another process or lock holds it ("... is
//  in use by another zgate ...") or the lock file cannot be made.
zg_dirlock_t *
    zg_dirlock_new (const char *dir, char *error, size_t size);

//  Release the lock (the lock file stays)
void
    zg_dirlock_destroy (zg_dirlock_t **self_p);

//  Self test of this class
void
    zg_dirlock_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
