/*  =========================================================================
    zg_pull - gophermq-style pull subscribers of the gateway

    Unlike gophermq, a buffer is bounded per subscriber, so one subscriber
    that never fetches fills only its own buffer, and idle subscribers are
    forgotten instead of growing memory forever. What the buffers hold is
    charged to the process's memory budget: past its low water (nine
    tenths), messages to pull subscribers are dropped and counted (a slow
    consumer is the one that gives way), so they never raise the alarm that
    would refuse others' work. A message is kept once for all the buffers
    of its subject (zg_pullmsg): charged once, freed when the last buffer
    or fetch lets it go.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_pull.h"
#include "zg_pullmsg.h"
#include "zg_slots.h"

typedef struct {
    char *id;                       //  Canonical UUID
    char *subject;                  //  Exact subject
    char *holder;                   //  Its slot's holder (zg_slots), or NULL
    zlistx_t *buffer;               //  zg_pullmsg_t messages, oldest first
    size_t reserved;                //  Messages published, not yet delivered
    int64_t last_fetch;             //  zclock_mono of subscribe or last fetch
} s_subscriber_t;

struct _zg_pull_t {
    zhashx_t *by_id;                //  id -> s_subscriber_t (owner)
    zhashx_t *by_subject;           //  subject -> zlistx_t of s_subscriber_t
    size_t buffer_size;             //  Messages per buffer
    size_t max_subscribers;         //  Subscribers in all
    zg_slots_t *slots;              //  Subscribers per holder
    int64_t max_per_holder;         //  Of them, per holder
    int64_t idle_timeout;           //  ms without fetch before forgetting
    uint64_t delivered;             //  Messages buffered
    uint64_t dropped;               //  Messages dropped for full buffers
    int64_t bytes;                  //  Bytes of the messages held, charged to the budget
};

static void
s_subscriber_destroy (s_subscriber_t **self_p)
{
    s_subscriber_t *self = *self_p;
    if (self) {
        free (self->id);
        free (self->subject);
        free (self->holder);
        zlistx_destroy (&self->buffer);
        free (self);
        *self_p = NULL;
    }
}

//  An empty buffer of shared messages
static zlistx_t *
s_buffer_new (void)
{
    zlistx_t *buffer = zlistx_new ();
    zlistx_set_destructor (buffer, (zlistx_destructor_fn *) zg_pullmsg_destroy);
    return buffer;
}

//  --------------------------------------------------------------------------
//  Create an empty set of pull subscribers

zg_pull_t *
zg_pull_new (void)
{
    zg_pull_t *self = (zg_pull_t *) zmalloc (sizeof (zg_pull_t));
    assert (self);
    self->by_id = zhashx_new ();
    zhashx_set_destructor (self->by_id, (zhashx_destructor_fn *) s_subscriber_destroy);
    self->by_subject = zhashx_new ();
    zhashx_set_destructor (self->by_subject, (zhashx_destructor_fn *) zlistx_destroy);
    self->buffer_size = 10;
    self->max_subscribers = 10000;
    self->idle_timeout = 600000;
    self->slots = zg_slots_new ();
    self->max_per_holder = INT64_MAX;
    return self;
}

//  --------------------------------------------------------------------------
//  Destroy them all

void
zg_pull_destroy (zg_pull_t **self_p)
{
    assert (self_p);
    zg_pull_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->by_subject);
        zhashx_destroy (&self->by_id);
        zg_slots_destroy (&self->slots);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Set the limits

void
zg_pull_set_limits (zg_pull_t *self, size_t buffer_size, size_t max_subscribers, int64_t idle_timeout)
{
    assert (self);
    self->buffer_size = buffer_size;
    self->max_subscribers = max_subscribers;
    self->idle_timeout = idle_timeout;
}

//  --------------------------------------------------------------------------
//  Set the limit per holder

void
zg_pull_set_holder_limit (zg_pull_t *self, int64_t max_per_holder)
{
    assert (self);
    self->max_per_holder = max_per_holder;
}

//  --------------------------------------------------------------------------
//  Add a subscriber to subject

const char *
zg_pull_subscribe (zg_pull_t *self, const char *subject, const char *holder)
{
    assert (self);
    if (zhashx_size (self->by_id) >= self->max_subscribers
    ||  (holder && !zg_slots_take (self->slots, holder, self->max_per_holder)))
        return NULL;
    s_subscriber_t *subscriber = (s_subscriber_t *) zmalloc (sizeof (s_subscriber_t));
    assert (subscriber);
    zuuid_t *uuid = zuuid_new ();
    subscriber->id = strdup (zuuid_str_canonical (uuid));
    zuuid_destroy (&uuid);
    subscriber->subject = strdup (subject);
    subscriber->holder = holder? strdup (holder): NULL;
    subscriber->buffer = s_buffer_new ();
    subscriber->last_fetch = zclock_mono ();
    zhashx_insert (self->by_id, subscriber->id, subscriber);
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subject);
    if (!list) {
        list = zlistx_new ();
        zhashx_insert (self->by_subject, subject, list);
    }
    zlistx_add_end (list, subscriber);
    return subscriber->id;
}

//  --------------------------------------------------------------------------
//  Take everything buffered for subscriber id of subject

zlistx_t *
zg_pull_fetch (zg_pull_t *self, const char *subject, const char *id)
{
    assert (self);
    s_subscriber_t *subscriber = (s_subscriber_t *) zhashx_lookup (self->by_id, id);
    if (!subscriber || strneq (subscriber->subject, subject))
        return NULL;
    zlistx_t *messages = subscriber->buffer;
    subscriber->buffer = s_buffer_new ();
    subscriber->last_fetch = zclock_mono ();
    return messages;
}

//  --------------------------------------------------------------------------
//  Subscribers of subject

size_t
zg_pull_subscribers (zg_pull_t *self, const char *subject)
{
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subject);
    return list? zlistx_size (list): 0;
}

//  --------------------------------------------------------------------------
//  True if at least one subscriber of subject has room for one more message

bool
zg_pull_has_room (zg_pull_t *self, const char *subject)
{
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subject);
    if (list)
        for (s_subscriber_t *subscriber = (s_subscriber_t *) zlistx_first (list); subscriber;
             subscriber = (s_subscriber_t *) zlistx_next (list))
            if (zlistx_size (subscriber->buffer) + subscriber->reserved < self->buffer_size)
                return true;
    return false;
}

//  --------------------------------------------------------------------------
//  Reserve room for a message published to subject and not yet delivered

void
zg_pull_reserve (zg_pull_t *self, const char *subject)
{
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subject);
    if (list)
        for (s_subscriber_t *subscriber = (s_subscriber_t *) zlistx_first (list); subscriber;
             subscriber = (s_subscriber_t *) zlistx_next (list))
            subscriber->reserved++;
}

//  --------------------------------------------------------------------------
//  Append a message on subject to each of its subscribers that has room

void
zg_pull_deliver (zg_pull_t *self, const char *subject, const byte *data, size_t size)
{
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subject);
    if (!list)
        return;
    //  Made for the first buffer with room, if the budget has room for it;
    //  the others share it at no further cost
    zg_pullmsg_t *message = NULL;
    bool spare = true;
    for (s_subscriber_t *subscriber = (s_subscriber_t *) zlistx_first (list); subscriber;
         subscriber = (s_subscriber_t *) zlistx_next (list)) {
        if (subscriber->reserved)
            subscriber->reserved--;
        bool room = zlistx_size (subscriber->buffer) < self->buffer_size;
        if (room && !message && spare) {
            spare = zg_budget_spare (zg_budget_process (), size);
            if (spare)
                message = zg_pullmsg_new (data, size, &self->bytes);
        }
        if (room && message) {
            zlistx_add_end (subscriber->buffer, zg_pullmsg_link (message));
            self->delivered++;
        }
        else
            self->dropped++;
    }
    zg_pullmsg_destroy (&message);
}

//  --------------------------------------------------------------------------
//  Forget a subscriber: out of its subject's list and its holder's slots

static void
s_remove (zg_pull_t *self, s_subscriber_t *subscriber)
{
    zlistx_t *list = (zlistx_t *) zhashx_lookup (self->by_subject, subscriber->subject);
    zlistx_delete (list, zlistx_find (list, subscriber));
    if (zlistx_size (list) == 0)
        zhashx_delete (self->by_subject, subscriber->subject);
    if (subscriber->holder)
        zg_slots_give (self->slots, subscriber->holder);
    zhashx_delete (self->by_id, subscriber->id);
}

//  --------------------------------------------------------------------------
//  Forget subscribers idle since before now - idle_timeout

zlistx_t *
zg_pull_expire (zg_pull_t *self, int64_t now)
{
    zlistx_t *subjects = NULL;
    zlistx_t *expired = zlistx_new ();
    for (s_subscriber_t *subscriber = (s_subscriber_t *) zhashx_first (self->by_id); subscriber;
         subscriber = (s_subscriber_t *) zhashx_next (self->by_id))
        if (now - subscriber->last_fetch > self->idle_timeout)
            zlistx_add_end (expired, subscriber);
    for (s_subscriber_t *subscriber = (s_subscriber_t *) zlistx_first (expired); subscriber;
         subscriber = (s_subscriber_t *) zlistx_next (expired)) {
        if (!subjects) {
            subjects = zlistx_new ();
            zlistx_set_destructor (subjects, (zlistx_destructor_fn *) zstr_free);
        }
        zlistx_add_end (subjects, strdup (subscriber->subject));
        s_remove (self, subscriber);
    }
    zlistx_destroy (&expired);
    return subjects;
}

//  --------------------------------------------------------------------------
//  Forget subscriber id

char *
zg_pull_remove (zg_pull_t *self, const char *id)
{
    assert (self && id);
    s_subscriber_t *subscriber = (s_subscriber_t *) zhashx_lookup (self->by_id, id);
    if (!subscriber)
        return NULL;
    char *subject = strdup (subscriber->subject);
    s_remove (self, subscriber);
    return subject;
}

//  --------------------------------------------------------------------------
//  The subscribers as JSON

json_object *
zg_pull_list (zg_pull_t *self, int64_t now, size_t limit)
{
    assert (self);
    json_object *list = json_object_new_array ();
    for (s_subscriber_t *subscriber = (s_subscriber_t *) zhashx_first (self->by_id);
         subscriber && json_object_array_length (list) < limit;
         subscriber = (s_subscriber_t *) zhashx_next (self->by_id)) {
        json_object *item = json_object_new_object ();
        json_object_object_add (item, "id", json_object_new_string (subscriber->id));
        //  Subjects came in JSON bodies: they are valid UTF-8
        json_object_object_add (item, "subject", json_object_new_string (subscriber->subject));
        json_object_object_add (item, "holder", subscriber->holder? json_object_new_string (subscriber->holder): NULL);
        json_object_object_add (item, "buffered", json_object_new_uint64 (zlistx_size (subscriber->buffer)));
        json_object_object_add (item, "idle_ms", json_object_new_int64 (now - subscriber->last_fetch));
        json_object_array_add (list, item);
    }
    return list;
}

//  --------------------------------------------------------------------------
//  Counters

void
zg_pull_counters (zg_pull_t *self, uint64_t *delivered, uint64_t *dropped, size_t *subscribers)
{
    *delivered = self->delivered;
    *dropped = self->dropped;
    *subscribers = zhashx_size (self->by_id);
}

//  --------------------------------------------------------------------------
//  Self test of this class

void
zg_pull_test (bool verbose)
{
    printf (" * zg_pull: ");
    //  @selftest
    zg_pull_t *pull = zg_pull_new ();
    zg_pull_set_limits (pull, 2, 3, 1000);
    zg_pull_set_holder_limit (pull, 2);
    char *first = strdup (zg_pull_subscribe (pull, "a.b", "connection:1"));
    char *second = strdup (zg_pull_subscribe (pull, "a.b", "connection:1"));
    assert (strneq (first, second) && strlen (first) == 36);
    //  One holder has its share; the others are left the rest
    assert (!zg_pull_subscribe (pull, "other", "connection:1"));
    assert (zg_pull_subscribe (pull, "other", NULL));
    assert (!zg_pull_subscribe (pull, "full", "connection:2"));
    assert (zg_pull_subscribers (pull, "a.b") == 2);
    assert (zg_pull_subscribers (pull, "a") == 0);

    //  Buffers are bounded per subscriber; reservations count as used; what
    //  they hold is kept once for all of them, charged once to the memory
    //  budget until the last of them has fetched it
    int64_t used = zg_budget_used (zg_budget_process ());
    assert (zg_pull_has_room (pull, "a.b"));
    zg_pull_reserve (pull, "a.b");
    zg_pull_deliver (pull, "a.b", (const byte *) "m1", 2);
    zg_pull_deliver (pull, "a.b", (const byte *) "m2", 2);
    assert (!zg_pull_has_room (pull, "a.b"));
    zg_pull_deliver (pull, "a.b", (const byte *) "m3", 2);
    assert (zg_budget_used (zg_budget_process ()) == used + 4);
    zlistx_t *messages = zg_pull_fetch (pull, "a.b", first);
    assert (messages && zlistx_size (messages) == 2);
    zg_pullmsg_t *message = (zg_pullmsg_t *) zlistx_first (messages);
    assert (zg_pullmsg_size (message) == 2 && memcmp (zg_pullmsg_data (message), "m1", 2) == 0);
    assert (zg_pullmsg_holders (message) == 2);
    zlistx_destroy (&messages);
    //  The other buffer still holds both messages
    assert (zg_budget_used (zg_budget_process ()) == used + 4);
    assert (zg_pull_has_room (pull, "a.b"));
    //  One subscriber with room takes a message the full one drops
    zg_pull_deliver (pull, "a.b", (const byte *) "m4", 2);
    assert (zg_budget_used (zg_budget_process ()) == used + 6);
    messages = zg_pull_fetch (pull, "a.b", second);
    assert (zlistx_size (messages) == 2);
    message = (zg_pullmsg_t *) zlistx_last (messages);
    assert (memcmp (zg_pullmsg_data (message), "m2", 2) == 0 && zg_pullmsg_holders (message) == 1);
    zlistx_destroy (&messages);
    assert (zg_budget_used (zg_budget_process ()) == used + 2);
    messages = zg_pull_fetch (pull, "a.b", first);
    message = (zg_pullmsg_t *) zlistx_first (messages);
    assert (zlistx_size (messages) == 1 && memcmp (zg_pullmsg_data (message), "m4", 2) == 0);
    zlistx_destroy (&messages);
    assert (zg_budget_used (zg_budget_process ()) == used);
    messages = zg_pull_fetch (pull, "a.b", first);
    assert (zlistx_size (messages) == 0);
    zlistx_destroy (&messages);
    assert (!zg_pull_fetch (pull, "a.c", first));
    assert (!zg_pull_fetch (pull, "a.b", "bad id"));
    uint64_t delivered, dropped;
    size_t subscribers;
    zg_pull_counters (pull, &delivered, &dropped, &subscribers);
    assert (delivered == 5 && dropped == 3 && subscribers == 3);

    //  Near the memory budget, pull subscribers are the ones dropped
    int64_t limit = zg_budget_limit (zg_budget_process ());
    zg_budget_set_limit (zg_budget_process (), 1);
    zg_pull_deliver (pull, "other", (const byte *) "m4", 2);
    zg_pull_counters (pull, &delivered, &dropped, &subscribers);
    assert (delivered == 5 && dropped == 4);
    zg_budget_set_limit (zg_budget_process (), limit);

    //  Idle subscribers are forgotten, with what they held
    zg_pull_deliver (pull, "other", (const byte *) "m5", 2);
    assert (zg_budget_used (zg_budget_process ()) == used + 2);
    zlistx_t *subjects = zg_pull_expire (pull, zclock_mono () + 500);
    assert (!subjects);
    subjects = zg_pull_expire (pull, zclock_mono () + 5000);
    assert (subjects && zlistx_size (subjects) == 3);
    if (verbose)
        printf ("(%s) ", (char *) zlistx_first (subjects));
    zlistx_destroy (&subjects);
    assert (zg_pull_subscribers (pull, "a.b") == 0);
    assert (!zg_pull_fetch (pull, "a.b", second));
    //  They gave their holder's slots back; an admin lists and removes
    const char *again = zg_pull_subscribe (pull, "again", "connection:1");
    assert (again);
    json_object *list = zg_pull_list (pull, zclock_mono (), 10);
    assert (json_object_array_length (list) == 1);
    json_object *item = json_object_array_get_idx (list, 0);
    assert (streq (json_object_get_string (json_object_object_get (item, "holder")), "connection:1"));
    json_object_put (list);
    char *subject = zg_pull_remove (pull, again);
    assert (subject && streq (subject, "again") && !zg_pull_remove (pull, "none"));
    zstr_free (&subject);
    assert (zg_pull_subscribers (pull, "again") == 0);
    assert (zg_budget_used (zg_budget_process ()) == used);
    free (first);
    free (second);
    zg_pull_destroy (&pull);
    zg_pull_destroy (&pull);
    //  @end
    printf ("OK\n");
}
