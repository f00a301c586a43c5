/*  =========================================================================
    zg_pull - gophermq-style pull subscribers of the gateway

    A pull subscriber has an id (a UUID) and one subject; every message on
    that exact subject is appended to its bounded buffer, and a fetch takes
    the whole buffer, oldest first. Private to the gateway.
    =========================================================================
*/

#ifndef ZG_PULL_H_INCLUDED
#define ZG_PULL_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zg_pull_t zg_pull_t;

//  Create an empty set of pull subscribers
zg_pull_t *
    zg_pull_new (void);

//  Destroy them all
void
    zg_pull_destroy (zg_pull_t **self_p);

//  Set the limits: messages per buffer, subscribers in all, and how long a
//  subscriber may go without fetching (ms) before it is forgotten
void
    zg_pull_set_limits (zg_pull_t *self, size_t buffer_size, size_t max_subscribers, int64_t idle_timeout);

//  Set how many subscribers one holder (a client address) may have
void
    zg_pull_set_holder_limit (zg_pull_t *self, int64_t max_per_holder);

//  Add a subscriber to subject for a holder (zg_slots' key, or NULL for no
//  holder limit); returns its id, or NULL past max_subscribers or the
//  holder's limit
const char *
    zg_pull_subscribe (zg_pull_t *self, const char *subject, const char *holder);

//  Take everything buffered for subscriber id of subject, oldest first, as a
//  list of zg_pullmsg_t (shared with other subscribers' buffers) the caller
//  destroys before the set; NULL if there is no such subscriber
zlistx_t *
    zg_pull_fetch (zg_pull_t *self, const char *subject, const char *id);

//  Subscribers of subject
size_t
    zg_pull_subscribers (zg_pull_t *self, const char *subject);

//  True if at least one subscriber of subject has room for one more message,
//  counting the messages reserved for it
bool
    zg_pull_has_room (zg_pull_t *self, const char *subject);

//  Reserve room for a message published to subject and not yet delivered
void
    zg_pull_reserve (zg_pull_t *self, const char *subject);

//  Append a message on subject to each of its subscribers that has room,
//  one copy shared by them all; the others drop it (counted)
void
    zg_pull_deliver (zg_pull_t *self, const char *subject, const byte *data, size_t size);

//  Forget subscribers idle since before now - idle_timeout. Returns the
//  subject of each one forgotten (the caller destroys the list), or NULL
zlistx_t *
    zg_pull_expire (zg_pull_t *self, int64_t now);

//  Forget subscriber id (an admin deletes it); returns its subject (the
//  caller frees it), or NULL if there is no such subscriber
char *
    zg_pull_remove (zg_pull_t *self, const char *id);

//  The subscribers as a json-c array (the caller puts it), at most limit of
//  them: [{"id", "subject", "holder", "buffered", "idle_ms"}]
json_object *
    zg_pull_list (zg_pull_t *self, int64_t now, size_t limit);

//  Counters: messages buffered, dropped for full buffers, subscribers now
void
    zg_pull_counters (zg_pull_t *self, uint64_t *delivered, uint64_t *dropped, size_t *subscribers);

//  Self test of this class
void
    zg_pull_test (bool verbose);

#ifdef __cplusplus
}
#endif

#endif
