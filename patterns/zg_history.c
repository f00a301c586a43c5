/*  =========================================================================
    zg_history - the topics that remember: per-topic message history with
    sequence numbers and epochs, bounded in messages, age and bytes

    Each message is on two lists: its topic's (oldest first, trimmed by the
    topic's bounds) and the global one in arrival order, so the oldest
    message of all, the first to go under the total byte bound, is its head.
    A topic left with no message (its messages aged out or were evicted)
    stays, so its sequence numbers go on under the same epoch, on a list of
    idle topics; under byte pressure idle topics go before any message.
    Ages are trimmed when a topic is written or read: a read never returns
    an expired message, and the bytes of quiet topics stay under the total
    bound meanwhile.

    Recording is on the topics actor's hot path, so it does no more than it
    must per message: the last topic's decision (its entry, or no rule) is
    remembered, so a run of messages on one topic costs no hash lookup nor
    rule match; entries dropped go to a few spares that the next messages
    reuse, so a topic at its count bound allocates nothing; and each topic
    keeps its sequence frame "seq epoch" as text, its number incremented in
    place, so no message formats one.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_wire.h"
#include "zg_hstore.h"
#include "zg_history.h"

//  A rule of topics/history
typedef struct {
    char *pattern;                  //  Topic, or prefix without its '*'
    bool prefix;                    //  pattern is a prefix
    uint64_t max_messages;          //  Messages kept per topic, 0 for no bound
    int64_t max_age;                //  Age kept, ms, 0 for no bound
    uint64_t max_bytes;             //  Payload bytes kept per topic, 0 for no bound
} s_rule_t;

typedef struct _s_topic_t s_topic_t;

//  A message kept, on its topic's list and the global list
typedef struct _s_entry_t {
    struct _s_entry_t *next, *prev;         //  In its topic, oldest first
    struct _s_entry_t *older, *newer;       //  Across topics, by arrival
    s_topic_t *topic;               //  Its topic
    uint64_t seq;                   //  Its sequence number
    int64_t time;                   //  When it arrived, monotonic ms (ages only)
    size_t size;                    //  Payload bytes
    size_t capacity;                //  Bytes data has room for
    bool shared;                    //  The payload is in message, not in data
    zmq_msg_t message;              //  A large payload, shared with libzmq
    byte data [];                   //  A small payload
} s_entry_t;

//  Largest payload copied into its entry
#define ZG_HISTORY_INLINE 1024
//  Entries kept for reuse after their message was dropped
#define ZG_HISTORY_SPARES 16
//  An entry's room is rounded up to this, so one size fits messages of
//  nearby sizes
#define ZG_HISTORY_GRAIN 64
//  Digits of a sequence number at most, and room for a sequence frame
#define ZG_HISTORY_DIGITS 20
#define ZG_HISTORY_MARK_SIZE (ZG_HISTORY_DIGITS + 1 + ZG_HISTORY_EPOCH_SIZE)

struct _s_topic_t {
    char *name;                     //  The topic
    s_rule_t bounds;                //  Its rule's bounds (pattern unused)
    char epoch [ZG_HISTORY_EPOCH_SIZE]; //  Its epoch
    uint64_t top;                   //  Newest sequence number
    s_entry_t *head, *tail;         //  Its messages, oldest first
    uint64_t count;                 //  Messages kept
    uint64_t payload_bytes;         //  Their payload bytes
    s_topic_t *idle_prev, *idle_next;   //  On the idle list while count is 0
    //  "top epoch", its digits ending at mark + ZG_HISTORY_DIGITS
    char mark [ZG_HISTORY_MARK_SIZE];
    size_t mark_digits;             //  Digits of top in mark
};

struct _zg_history_t {
    s_rule_t *rules;                //  The rules, first match wins
    size_t rule_count;              //  Rules in rules
    size_t max_bytes;               //  Bound of all topics together
    zhashx_t *topics;               //  Name -> s_topic_t
    s_entry_t *oldest, *newest;     //  All messages, by arrival
    s_topic_t *idle_first, *idle_last;  //  Topics with no message, oldest first
    size_t messages;                //  Messages kept
    size_t bytes;                   //  Their bytes and the topics', overheads included
    char *last_name;                //  Topic of the last record, or NULL
    s_topic_t *last_topic;          //  Its entry, NULL if no rule names it
    s_entry_t *spares [ZG_HISTORY_SPARES];  //  Entries to reuse
    size_t spare_count;             //  Entries in spares
    zg_hstore_t *store;             //  Where changes are mirrored, or NULL
    int64_t wall_offset;            //  Wall clock minus monotonic clock, ms
    int64_t charged;                //  The messages' bytes, charged to the memory budget
};

//  Bytes a topic and a message count against the total bound
#define s_topic_cost(name) (sizeof (s_topic_t) + strlen (name) + 1)
#define s_entry_cost(entry) (sizeof (s_entry_t) + (entry)->capacity + ((entry)->shared? (entry)->size: 0))
#define s_entry_data(entry) ((entry)->shared? zmq_msg_data (&(entry)->message): (entry)->data)

//  --------------------------------------------------------------------------
//  Rules: parsing and matching

static void
s_rules_free (s_rule_t **rules_p, size_t count)
{
    for (size_t index = 0; index < count; index++)
        free ((*rules_p) [index].pattern);
    free (*rules_p);
    *rules_p = NULL;
}

//  A bound with a unit suffix, its number strictly decimal; returns 0 and
//  sets *value (number times the unit's factor), or -1
static int
s_parse_unit (const char *token, const char *const *units, const uint64_t *factors, uint64_t *value)
{
    size_t digits = strspn (token, "0123456789");
    if (digits == 0 || digits > 12)
        return -1;
    for (size_t index = 0; units [index]; index++)
        if (streq (token + digits, units [index])) {
            uint64_t number = 0;
            if (zg_wire_parse_uint (token, digits, UINT64_MAX / factors [index], &number) || number == 0)
                return -1;
            *value = number * factors [index];
            return 0;
        }
    return -1;
}

//  One bound of a rule; returns 0, or -1 with a reason
static int
s_parse_bound (s_rule_t *rule, const char *token, char *error, size_t size)
{
    static const char *age_units [] = { "ms", "s", "m", "h", NULL };
    static const uint64_t age_factors [] = { 1, 1000, 60000, 3600000 };
    static const char *size_units [] = { "B", "KB", "MB", "GB", NULL };
    static const uint64_t size_factors [] = { 1, 1024, 1024 * 1024, 1024 * 1024 * 1024 };
    uint64_t value = 0;
    uint64_t *bound = NULL;
    if (zg_wire_parse_uint (token, strlen (token), 100000000, &value) == 0 && value > 0)
        bound = &rule->max_messages;
    else
    if (s_parse_unit (token, age_units, age_factors, &value) == 0)
        bound = (uint64_t *) &rule->max_age;
    else
    if (s_parse_unit (token, size_units, size_factors, &value) == 0)
        bound = &rule->max_bytes;
    else {
        snprintf (error, size, "history bound '%s' is not a count (100), an age (60s, 5m, 500ms, 1h) "
                  "or a size (64KB, 1MB)", token);
        return -1;
    }
    if (*bound) {
        snprintf (error, size, "history rule '%s' has two bounds of the kind of '%s'", rule->pattern, token);
        return -1;
    }
    *bound = value;
    return 0;
}

//  One rule, "pattern bound [bound [bound]]", its words in words
static int
s_parse_rule (s_rule_t *rule, zlist_t *words, char *error, size_t size)
{
    char *pattern = (char *) zlist_first (words);
    size_t length = strlen (pattern);
    rule->prefix = pattern [length - 1] == '*';
    if (strchr (pattern, '*') != pattern + length - (rule->prefix? 1: 0) && strchr (pattern, '*')) {
        snprintf (error, size, "history pattern '%s' may have one '*', at its end", pattern);
        return -1;
    }
    rule->pattern = strndup (pattern, length - (rule->prefix? 1: 0));
    assert (rule->pattern);
    if (zlist_size (words) < 2) {
        snprintf (error, size, "history rule '%s' needs a bound: a count, an age or a size", pattern);
        return -1;
    }
    for (char *word = (char *) zlist_next (words); word; word = (char *) zlist_next (words))
        if (s_parse_bound (rule, word, error, size))
            return -1;
    return 0;
}

//  The words of a rule, split on blanks
static zlist_t *
s_split_words (char *text)
{
    zlist_t *words = zlist_new ();
    for (char *word = strtok (text, " \t"); word; word = strtok (NULL, " \t"))
        zlist_append (words, word);
    return words;
}

//  Parse a whole spec into a new array of rules; returns 0, or -1 with a
//  reason and *rules_p NULL
static int
s_parse_rules (const char *spec, s_rule_t **rules_p, size_t *count_p, char *error, size_t size)
{
    char *text = strdup (spec);
    assert (text);
    s_rule_t *rules = NULL;
    size_t count = 0;
    int rc = 0;
    char *cursor = text;
    while (cursor && rc == 0) {
        char *entry = cursor;
        cursor = strchr (cursor, ';');
        if (cursor)
            *cursor++ = 0;
        zlist_t *words = s_split_words (entry);
        if (zlist_size (words)) {
            rules = (s_rule_t *) realloc (rules, (count + 1) * sizeof (s_rule_t));
            assert (rules);
            memset (&rules [count], 0, sizeof (s_rule_t));
            rc = s_parse_rule (&rules [count++], words, error, size);
        }
        zlist_destroy (&words);
    }
    free (text);
    if (rc)
        s_rules_free (&rules, count);
    *rules_p = rules;
    *count_p = rc? 0: count;
    return rc;
}

//  The first rule that names a topic, or NULL
static const s_rule_t *
s_self_rule (zg_history_t *self, const char *topic)
{
    for (size_t index = 0; index < self->rule_count; index++) {
        const s_rule_t *rule = &self->rules [index];
        if (rule->prefix? strncmp (topic, rule->pattern, strlen (rule->pattern)) == 0: streq (topic, rule->pattern))
            return rule;
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Topics and their messages

//  Put a topic on, or take it off, the idle list
static void
s_self_idle (zg_history_t *self, s_topic_t *topic, bool idle)
{
    if (idle) {
        topic->idle_prev = self->idle_last;
        topic->idle_next = NULL;
        if (self->idle_last)
            self->idle_last->idle_next = topic;
        else
            self->idle_first = topic;
        self->idle_last = topic;
        return;
    }
    if (topic->idle_prev)
        topic->idle_prev->idle_next = topic->idle_next;
    else
        self->idle_first = topic->idle_next;
    if (topic->idle_next)
        topic->idle_next->idle_prev = topic->idle_prev;
    else
        self->idle_last = topic->idle_prev;
    topic->idle_prev = topic->idle_next = NULL;
}

//  Keep an entry for reuse, or free it
static void
s_self_recycle (zg_history_t *self, s_entry_t *entry)
{
    if (entry->shared)
        zmq_msg_close (&entry->message);
    if (!entry->shared && self->spare_count < ZG_HISTORY_SPARES)
        self->spares [self->spare_count++] = entry;
    else
        free (entry);
}

//  An entry with room for size bytes inline (none if shared): the newest
//  spare if it fits well, else a new one
static s_entry_t *
s_self_entry (zg_history_t *self, size_t size, bool shared)
{
    size_t capacity = shared? 0: (size + ZG_HISTORY_GRAIN - 1) / ZG_HISTORY_GRAIN * ZG_HISTORY_GRAIN;
    if (self->spare_count && !shared) {
        s_entry_t *spare = self->spares [self->spare_count - 1];
        if (spare->capacity == capacity) {
            self->spare_count--;
            return spare;
        }
    }
    s_entry_t *entry = (s_entry_t *) malloc (sizeof (s_entry_t) + capacity);
    assert (entry);
    entry->capacity = capacity;
    return entry;
}

//  Set a topic's top and write it into its mark
static void
s_topic_set_top (s_topic_t *topic, uint64_t top)
{
    char digits [ZG_WIRE_NUMBER_SIZE];
    topic->top = top;
    topic->mark_digits = zg_wire_format_uint (top, digits);
    memcpy (topic->mark + ZG_HISTORY_DIGITS - topic->mark_digits, digits, topic->mark_digits);
}

//  Add one to a topic's top, its mark's digits counted up in place
static void
s_topic_count (s_topic_t *topic)
{
    topic->top++;
    char *digit = topic->mark + ZG_HISTORY_DIGITS - 1;
    for (; digit >= topic->mark + ZG_HISTORY_DIGITS - topic->mark_digits && *digit == '9'; digit--)
        *digit = '0';
    if (digit < topic->mark + ZG_HISTORY_DIGITS - topic->mark_digits) {
        *digit = '1';
        topic->mark_digits++;
    }
    else
        (*digit)++;
}

//  Take a topic's oldest message off its topic's list and the global one
static s_entry_t *
s_self_unlink_oldest (zg_history_t *self, s_topic_t *topic)
{
    s_entry_t *entry = topic->head;
    assert (entry);
    topic->head = entry->next;
    if (topic->head)
        topic->head->prev = NULL;
    else
        topic->tail = NULL;
    if (entry->older)
        entry->older->newer = entry->newer;
    else
        self->oldest = entry->newer;
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        self->newest = entry->older;
    return entry;
}

//  Put a message at the end of its topic's list and of the global one
static void
s_self_link_newest (zg_history_t *self, s_topic_t *topic, s_entry_t *entry)
{
    entry->next = NULL;
    entry->prev = topic->tail;
    if (topic->tail)
        topic->tail->next = entry;
    else
        topic->head = entry;
    topic->tail = entry;
    entry->newer = NULL;
    entry->older = self->newest;
    if (self->newest)
        self->newest->newer = entry;
    else
        self->oldest = entry;
    self->newest = entry;
}

//  Remove the oldest message of a topic
static void
s_self_drop_oldest (zg_history_t *self, s_topic_t *topic)
{
    s_entry_t *entry = s_self_unlink_oldest (self, topic);
    topic->count--;
    topic->payload_bytes -= entry->size;
    self->messages--;
    self->bytes -= s_entry_cost (entry);
    zg_budget_release (zg_budget_process (), &self->charged, s_entry_cost (entry));
    if (self->store)
        zg_hstore_drop (self->store, topic->name, entry->seq);
    s_self_recycle (self, entry);
    if (topic->count == 0) {
        s_self_idle (self, topic, true);
        //  Its last message gone, the store keeps its top in the topic
        if (self->store)
            zg_hstore_topic (self->store, topic->name, topic->epoch, topic->top);
    }
}

//  Drop a topic's messages past its bounds (age as of now). Messages kept
//  while no age bound applied have no time: an age bound set later drops
//  them at once
static void
s_self_trim (zg_history_t *self, s_topic_t *topic, int64_t now)
{
    const s_rule_t *bounds = &topic->bounds;
    while (topic->head
       && ((bounds->max_messages && topic->count > bounds->max_messages)
       ||  (bounds->max_bytes && topic->payload_bytes > bounds->max_bytes && topic->count > 1)
       ||  (bounds->max_age && now - topic->head->time > bounds->max_age)))
        s_self_drop_oldest (self, topic);
}

//  Forget the last record's decision
static void
s_self_uncache (zg_history_t *self)
{
    zstr_free (&self->last_name);
    self->last_topic = NULL;
}

//  Forget a topic and its messages
static void
s_self_forget (zg_history_t *self, s_topic_t *topic)
{
    while (topic->head)
        s_self_drop_oldest (self, topic);
    s_self_idle (self, topic, false);
    self->bytes -= s_topic_cost (topic->name);
    if (self->store)
        zg_hstore_forget (self->store, topic->name);
    if (self->last_topic == topic)
        s_self_uncache (self);
    zhashx_delete (self->topics, topic->name);
}

static void
s_topic_destroy (s_topic_t **topic_p)
{
    free ((*topic_p)->name);
    free (*topic_p);
    *topic_p = NULL;
}

//  Evict under the total bound: idle topics first, then the oldest
//  messages, but never keep (the message just recorded, or NULL)
static void
s_self_evict (zg_history_t *self, s_entry_t *keep)
{
    while (self->bytes > self->max_bytes && (self->idle_first || (self->oldest && self->oldest != keep))) {
        if (self->idle_first)
            s_self_forget (self, self->idle_first);
        else
            s_self_drop_oldest (self, self->oldest->topic);
    }
}

//  A new topic under a rule (NULL: no bounds until the rules are applied),
//  with an epoch and top from the store, or a fresh epoch (epoch NULL)
static s_topic_t *
s_self_new_topic (zg_history_t *self, const char *name, const s_rule_t *rule, const char *epoch, uint64_t top)
{
    s_topic_t *topic = (s_topic_t *) zmalloc (sizeof (s_topic_t));
    assert (topic);
    topic->name = strdup (name);
    if (rule)
        topic->bounds = *rule;
    topic->bounds.pattern = NULL;
    if (epoch)
        memcpy (topic->epoch, epoch, ZG_HISTORY_EPOCH_SIZE - 1);
    else {
        //  Random bits: an epoch must differ from every earlier one of this
        //  topic, including those of earlier runs of zgate
        zuuid_t *uuid = zuuid_new ();
        memcpy (topic->epoch, zuuid_str (uuid), ZG_HISTORY_EPOCH_SIZE - 1);
        zuuid_destroy (&uuid);
        for (char *digit = topic->epoch; *digit; digit++)
            *digit = (char) tolower (*digit);
    }
    topic->mark [ZG_HISTORY_DIGITS] = ' ';
    memcpy (topic->mark + ZG_HISTORY_DIGITS + 1, topic->epoch, ZG_HISTORY_EPOCH_SIZE);
    s_topic_set_top (topic, top);
    zhashx_insert (self->topics, name, topic);
    self->bytes += s_topic_cost (name);
    s_self_idle (self, topic, true);
    if (self->store && !epoch)
        zg_hstore_topic (self->store, name, topic->epoch, top);
    return topic;
}

//  --------------------------------------------------------------------------

zg_history_t *
zg_history_new (void)
{
    zg_history_t *self = (zg_history_t *) zmalloc (sizeof (zg_history_t));
    assert (self);
    self->topics = zhashx_new ();
    zhashx_set_destructor (self->topics, (zhashx_destructor_fn *) s_topic_destroy);
    self->max_bytes = SIZE_MAX;
    return self;
}

void
zg_history_destroy (zg_history_t **self_p)
{
    assert (self_p);
    zg_history_t *self = *self_p;
    if (self) {
        //  The store keeps what it holds: it is closed, not emptied
        if (self->store)
            zg_hstore_commit (self->store);
        zg_hstore_destroy (&self->store);
        while (self->oldest)
            s_self_drop_oldest (self, self->oldest->topic);
        zhashx_destroy (&self->topics);
        s_rules_free (&self->rules, self->rule_count);
        while (self->spare_count)
            free (self->spares [--self->spare_count]);
        zstr_free (&self->last_name);
        free (self);
        *self_p = NULL;
    }
}

//  Each topic takes the bounds of its rule, or goes with its rule
static void
s_self_apply_rules (zg_history_t *self)
{
    s_self_uncache (self);
    zlistx_t *names = zhashx_keys (self->topics);
    int64_t now = zclock_mono ();
    for (const char *name = (const char *) zlistx_first (names); name; name = (const char *) zlistx_next (names)) {
        s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
        const s_rule_t *rule = s_self_rule (self, name);
        if (rule) {
            topic->bounds = *rule;
            topic->bounds.pattern = NULL;
            s_self_trim (self, topic, now);
        }
        else
            s_self_forget (self, topic);
    }
    zlistx_destroy (&names);
}

int
zg_history_set_rules (zg_history_t *self, const char *spec, char *error, size_t size)
{
    assert (self && spec);
    s_rule_t *rules = NULL;
    size_t count = 0;
    if (s_parse_rules (spec, &rules, &count, error, size))
        return -1;
    s_rules_free (&self->rules, self->rule_count);
    self->rules = rules;
    self->rule_count = count;
    s_self_apply_rules (self);
    return 0;
}

void
zg_history_set_max_bytes (zg_history_t *self, size_t max_bytes)
{
    assert (self);
    self->max_bytes = max_bytes;
    s_self_evict (self, NULL);
}

bool
zg_history_enabled (zg_history_t *self)
{
    assert (self);
    return self->rule_count > 0;
}

bool
zg_history_matches (zg_history_t *self, const char *topic)
{
    assert (self && topic);
    return s_self_rule (self, topic) != NULL;
}

bool
zg_history_bounds (zg_history_t *self, const char *topic, uint64_t *messages, int64_t *age, uint64_t *bytes)
{
    assert (self && topic && messages && age && bytes);
    const s_rule_t *rule = s_self_rule (self, topic);
    *messages = rule? rule->max_messages: 0;
    *age = rule? rule->max_age: 0;
    *bytes = rule? rule->max_bytes: 0;
    return rule != NULL;
}

//  The entry of a topic for a record: the last one's, or looked up and
//  remembered (NULL if no rule names it)
static s_topic_t *
s_self_lookup (zg_history_t *self, const char *name)
{
    if (self->last_name && streq (self->last_name, name))
        return self->last_topic;
    s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
    if (!topic) {
        const s_rule_t *rule = s_self_rule (self, name);
        topic = rule? s_self_new_topic (self, name, rule, NULL, 0): NULL;
    }
    zstr_free (&self->last_name);
    self->last_name = strdup (name);
    self->last_topic = topic;
    return topic;
}

//  Append a message to its topic's list and the global one
static void
s_self_append (zg_history_t *self, s_topic_t *topic, s_entry_t *entry)
{
    if (topic->count == 0)
        s_self_idle (self, topic, false);
    s_self_link_newest (self, topic, entry);
    topic->count++;
    topic->payload_bytes += entry->size;
    self->messages++;
    self->bytes += s_entry_cost (entry);
    //  Bounded by history-max-bytes; charged so the budget's alarm sees it
    zg_budget_charge (zg_budget_process (), &self->charged, s_entry_cost (entry));
}

//  A new entry holding a payload
static s_entry_t *
s_self_fill (zg_history_t *self, s_topic_t *topic, uint64_t seq, int64_t time, const void *data, size_t size,
             zmq_msg_t *message)
{
    bool shared = message && size > ZG_HISTORY_INLINE;
    s_entry_t *entry = s_self_entry (self, size, shared);
    entry->size = size;
    entry->shared = shared;
    if (shared) {
        zmq_msg_init (&entry->message);
        zmq_msg_copy (&entry->message, message);
    }
    else
        memcpy (entry->data, data, size);
    entry->topic = topic;
    entry->seq = seq;
    entry->time = time;
    return entry;
}

//  A topic at its count bound drops its oldest message for each new one:
//  when the oldest's room fits the new payload, it becomes the newest in
//  place, and the totals and the budget's charge stay as they are (the
//  common case, a topic that keeps its last N messages of one size, costs
//  no spare, no allocation and no budget call). Returns NULL if it does
//  not apply.
static s_entry_t *
s_self_rotate (zg_history_t *self, s_topic_t *topic, size_t size, int64_t time, const void *data)
{
    s_entry_t *oldest = topic->head;
    if (!topic->bounds.max_messages || topic->count < topic->bounds.max_messages || !oldest || oldest->shared
    ||  size > ZG_HISTORY_INLINE
    ||  oldest->capacity != (size + ZG_HISTORY_GRAIN - 1) / ZG_HISTORY_GRAIN * ZG_HISTORY_GRAIN)
        return NULL;
    s_self_unlink_oldest (self, topic);
    if (self->store)
        zg_hstore_drop (self->store, topic->name, oldest->seq);
    topic->payload_bytes += size - oldest->size;
    oldest->size = size;
    memcpy (oldest->data, data, size);
    oldest->seq = topic->top;
    oldest->time = time;
    s_self_link_newest (self, topic, oldest);
    return oldest;
}

uint64_t
zg_history_record (zg_history_t *self, const char *name, zmq_msg_t *payload, const char **mark_p,
                   size_t *mark_size)
{
    assert (self && name && payload && mark_p && mark_size);
    s_topic_t *topic = self->rule_count? s_self_lookup (self, name): NULL;
    if (!topic)
        return 0;
    s_topic_count (topic);
    //  The clock costs as much as the rest: read it only for an age bound
    int64_t time = topic->bounds.max_age? zclock_mono (): 0;
    size_t size = zmq_msg_size (payload);
    const void *data = zmq_msg_data (payload);
    s_entry_t *entry = s_self_rotate (self, topic, size, time, data);
    bool rotated = entry != NULL;
    if (!rotated) {
        entry = s_self_fill (self, topic, topic->top, time, data, size, payload);
        s_self_append (self, topic, entry);
    }
    if (self->store)
        zg_hstore_put (self->store, name, entry->seq, time? time + self->wall_offset: 0, data, size);
    //  A rotation keeps the topic's count (at its bound) and every total's
    //  bytes: only a byte or age bound of the topic can want more dropped
    if (!rotated || topic->bounds.max_bytes || topic->bounds.max_age
    ||  topic->count > topic->bounds.max_messages)
        s_self_trim (self, topic, time);
    //  The newest message stays even alone past the bound, so its topic too
    if (!rotated)
        s_self_evict (self, entry);
    *mark_p = topic->mark + ZG_HISTORY_DIGITS - topic->mark_digits;
    *mark_size = topic->mark_digits + ZG_HISTORY_EPOCH_SIZE;
    return entry->seq;
}

//  --------------------------------------------------------------------------
//  Persistence

//  A stored topic comes back with no bounds until the rules are applied
static void
s_load_topic (const char *name, const char *epoch, uint64_t top, void *arg)
{
    zg_history_t *self = (zg_history_t *) arg;
    if (!zhashx_lookup (self->topics, name))
        s_self_new_topic (self, name, NULL, epoch, top);
}

//  A stored message, its wall clock time back on the monotonic clock
static void
s_load_message (const char *name, uint64_t seq, int64_t time, const void *data, size_t size, void *arg)
{
    zg_history_t *self = (zg_history_t *) arg;
    s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
    if (!topic || seq <= (topic->tail? topic->tail->seq: 0))
        return;
    if (seq > topic->top)
        s_topic_set_top (topic, seq);
    s_self_append (self, topic, s_self_fill (self, topic, seq, time? time - self->wall_offset: 0, data, size, NULL));
}

int
zg_history_persist (zg_history_t *self, const char *dir, char *error, size_t size)
{
    assert (self && dir && !self->store);
    //  Room for all that the byte bound keeps, twice (LMDB copies the pages
    //  a pass changes), and for LMDB's own pages
    size_t bound = self->max_bytes < ((size_t) 1 << 40)? self->max_bytes: (size_t) 1 << 40;
    zg_hstore_t *store = zg_hstore_open (dir, (int64_t) (2 * bound + (64 << 20)), error, size);
    if (!store)
        return -1;
    self->wall_offset = zclock_time () - zclock_mono ();
    //  Topics remembered before the store opened give way to the stored ones
    while (zhashx_size (self->topics))
        s_self_forget (self, (s_topic_t *) zhashx_first (self->topics));
    zg_hstore_load (store, s_load_topic, s_load_message, self);
    self->store = store;
    s_self_apply_rules (self);
    s_self_evict (self, NULL);
    zg_hstore_commit (store);
    return 0;
}

void
zg_history_commit (zg_history_t *self)
{
    assert (self);
    if (self->store)
        zg_hstore_commit (self->store);
}

int
zg_history_read (zg_history_t *self, const char *name, uint64_t since, bool last, zg_history_state_t *state,
                 zg_history_entry_fn *fn, void *arg)
{
    assert (self && name && state && fn);
    if (!s_self_rule (self, name))
        return -1;
    s_topic_t *topic = (s_topic_t *) zhashx_lookup (self->topics, name);
    if (topic)
        s_self_trim (self, topic, zclock_mono ());
    state->epoch = topic? topic->epoch: "";
    state->top = topic? topic->top: 0;
    state->first = topic && topic->head? topic->head->seq: state->top + 1;
    int count = 0;
    s_entry_t *entry = !topic? NULL: last? topic->tail: topic->head;
    for (; entry; entry = entry->next)
        if (entry->seq > since) {
            fn (entry->seq, s_entry_data (entry), entry->size, arg);
            count++;
        }
    return count;
}

void
zg_history_counters (zg_history_t *self, size_t *topics, size_t *messages, size_t *bytes)
{
    assert (self);
    *topics = zhashx_size (self->topics);
    *messages = self->messages;
    *bytes = self->bytes;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  Appends each message read to a string, as "seq:payload "
static void
s_test_collect (uint64_t seq, const void *payload, size_t size, void *arg)
{
    char *text = (char *) arg;
    size_t length = strlen (text);
    snprintf (text + length, 256 - length, "%" PRIu64 ":%.*s ", seq, (int) size, (const char *) payload);
}

static uint64_t
s_test_record (zg_history_t *self, const char *topic, const char *payload, const char **epoch_p)
{
    zmq_msg_t msg;
    zmq_msg_init_size (&msg, strlen (payload));
    memcpy (zmq_msg_data (&msg), payload, strlen (payload));
    const char *mark = NULL;
    size_t mark_size = 0;
    uint64_t seq = zg_history_record (self, topic, &msg, &mark, &mark_size);
    assert (seq == 0 || mark_size == strlen (mark));
    zmq_msg_close (&msg);
    //  The mark is "seq epoch"
    if (seq) {
        char number [ZG_WIRE_NUMBER_SIZE];
        zg_wire_format_uint (seq, number);
        assert (strncmp (mark, number, strlen (number)) == 0 && mark [strlen (number)] == ' ');
        *epoch_p = mark + strlen (number) + 1;
    }
    return seq;
}

void
zg_history_test (bool verbose)
{
    printf (" * zg_history: ");
    //  @selftest
    char error [256];
    int64_t budget_used = zg_budget_used (zg_budget_process ());
    zg_history_t *history = zg_history_new ();
    const char *epoch = NULL;
    assert (!zg_history_enabled (history));
    assert (s_test_record (history, "a", "x", &epoch) == 0);

    //  Bad specs are refused with a reason, and change nothing
    const char *bad [] = { "a", "a 0", "a 10 20", "a 5x", "a 1s 2m", "a* *b 3", "a 1MB 2KB", "a -1", "a 1.5s", NULL };
    for (int index = 0; bad [index]; index++) {
        assert (zg_history_set_rules (history, bad [index], error, sizeof error) == -1);
        if (verbose)
            printf ("\n   %s: %s", bad [index], error);
    }
    assert (!zg_history_enabled (history));

    //  Counts: a topic keeps its last N messages, numbered from 1
    assert (zg_history_set_rules (history, " sensors.* 3 60s ; chat.lobby 2 1KB;", error, sizeof error) == 0);
    assert (zg_history_enabled (history));
    assert (zg_history_matches (history, "sensors.x") && zg_history_matches (history, "chat.lobby"));
    assert (!zg_history_matches (history, "chat.lobby2") && !zg_history_matches (history, "sensor"));
    uint64_t max_messages = 0, max_bytes = 0;
    int64_t max_age = 0;
    assert (zg_history_bounds (history, "sensors.x", &max_messages, &max_age, &max_bytes));
    assert (max_messages == 3 && max_age == 60000 && max_bytes == 0);
    assert (!zg_history_bounds (history, "sensor", &max_messages, &max_age, &max_bytes) && max_messages == 0);
    assert (s_test_record (history, "other", "x", &epoch) == 0);
    for (int index = 1; index <= 5; index++) {
        char payload [8];
        snprintf (payload, sizeof payload, "m%d", index);
        assert (s_test_record (history, "sensors.a", payload, &epoch) == (uint64_t) index);
    }
    assert (strlen (epoch) == 16);
    char first_epoch [ZG_HISTORY_EPOCH_SIZE];
    strcpy (first_epoch, epoch);
    char text [256] = "";
    zg_history_state_t state;
    assert (zg_history_read (history, "sensors.a", 0, false, &state, s_test_collect, text) == 3);
    assert (streq (text, "3:m3 4:m4 5:m5 ") && state.top == 5 && state.first == 3);
    assert (streq (state.epoch, first_epoch));
    text [0] = 0;
    assert (zg_history_read (history, "sensors.a", 4, false, &state, s_test_collect, text) == 1);
    assert (streq (text, "5:m5 "));
    text [0] = 0;
    assert (zg_history_read (history, "sensors.a", 0, true, &state, s_test_collect, text) == 1);
    assert (streq (text, "5:m5 "));
    //  At its count bound, a topic's new message of a like size takes its
    //  oldest one's place: the totals and the budget's charge stay
    size_t rotated_topics = 0, rotated_messages = 0, rotated_bytes = 0, kept_bytes = 0;
    zg_history_counters (history, &rotated_topics, &rotated_messages, &kept_bytes);
    int64_t charged = zg_budget_used (zg_budget_process ());
    assert (s_test_record (history, "sensors.a", "m6", &epoch) == 6);
    zg_history_counters (history, &rotated_topics, &rotated_messages, &rotated_bytes);
    assert (rotated_messages == 3 && rotated_bytes == kept_bytes && zg_budget_used (zg_budget_process ()) == charged);
    text [0] = 0;
    assert (zg_history_read (history, "sensors.a", 0, false, &state, s_test_collect, text) == 3);
    assert (streq (text, "4:m4 5:m5 6:m6 ") && state.first == 4);
    //  A message that takes its oldest one's place still answers to its
    //  topic's byte bound: 3 x 30 bytes fit 100B, 30 + 30 + 60 do not
    zg_history_t *sized = zg_history_new ();
    assert (zg_history_set_rules (sized, "s 3 100B", error, sizeof error) == 0);
    char thirty [31], sixty [61];
    memset (thirty, 't', sizeof thirty - 1);
    thirty [sizeof thirty - 1] = 0;
    memset (sixty, 's', sizeof sixty - 1);
    sixty [sizeof sixty - 1] = 0;
    for (int index = 0; index < 3; index++)
        s_test_record (sized, "s", thirty, &epoch);
    zg_history_counters (sized, &rotated_topics, &rotated_messages, &kept_bytes);
    assert (s_test_record (sized, "s", sixty, &epoch) == 4);
    zg_history_counters (sized, &rotated_topics, &rotated_messages, &rotated_bytes);
    assert (rotated_messages == 2 && rotated_bytes < kept_bytes);
    assert (zg_history_read (sized, "s", 0, false, &state, s_test_collect, text) == 2 && state.first == 3);
    zg_history_destroy (&sized);
    //  A named topic with no message yet has no epoch; an unnamed one, no history
    assert (zg_history_read (history, "sensors.b", 0, false, &state, s_test_collect, text) == 0);
    assert (streq (state.epoch, "") && state.top == 0 && state.first == 1);
    assert (zg_history_read (history, "other", 0, false, &state, s_test_collect, text) == -1);
    //  The mark's digits carry (9 to 10, 99 to 100: s_test_record checks
    //  each mark against the number)
    zg_history_t *counter = zg_history_new ();
    assert (zg_history_set_rules (counter, "c 3", error, sizeof error) == 0);
    for (uint64_t index = 1; index <= 120; index++)
        assert (s_test_record (counter, "c", "c", &epoch) == index);
    zg_history_destroy (&counter);
    //  Each new topic gets its own epoch
    assert (s_test_record (history, "sensors.b", "b1", &epoch) == 1);
    assert (strneq (epoch, first_epoch));

    //  Bytes per topic: at most 1KB of payload, but always the newest message;
    //  a payload over 1KB is shared with libzmq, not copied
    char large [2000];
    memset (large, 'l', sizeof large - 1);
    large [sizeof large - 1] = 0;
    s_test_record (history, "chat.lobby", large, &epoch);
    text [0] = 0;
    assert (zg_history_read (history, "chat.lobby", 0, true, &state, s_test_collect, text) == 1);
    assert (strlen (text) == 255 && strncmp (text, "1:lll", 5) == 0);
    char big [700];
    memset (big, 'z', sizeof big - 1);
    big [sizeof big - 1] = 0;
    s_test_record (history, "chat.lobby", big, &epoch);
    s_test_record (history, "chat.lobby", big, &epoch);
    assert (zg_history_read (history, "chat.lobby", 0, false, &state, s_test_collect, text) == 1);
    assert (state.first == 3 && state.top == 3);

    //  Ages: a read returns no expired message, and the topic keeps its
    //  epoch and numbering
    assert (zg_history_set_rules (history, "sensors.* 50ms; chat.lobby 2", error, sizeof error) == 0);
    zclock_sleep (80);
    assert (zg_history_read (history, "sensors.a", 0, false, &state, s_test_collect, text) == 0);
    assert (state.top == 6 && state.first == 7 && streq (state.epoch, first_epoch));
    assert (s_test_record (history, "sensors.a", "m7", &epoch) == 7 && streq (epoch, first_epoch));

    //  The total bound evicts idle topics first, then the oldest messages;
    //  a topic evicted whole comes back with a new epoch
    size_t topics = 0, messages = 0, bytes = 0;
    zclock_sleep (80);
    assert (zg_history_read (history, "sensors.b", 0, false, &state, s_test_collect, text) == 0);
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 3 && messages == 2);
    zg_history_set_max_bytes (history, bytes - 1);
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 2 && messages == 2);
    zg_history_set_max_bytes (history, 1);
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 0 && messages == 0 && bytes == 0);
    //  The message just recorded stays, even alone past the bound
    assert (s_test_record (history, "sensors.a", "again", &epoch) == 1);
    assert (strneq (epoch, first_epoch));
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 1 && messages == 1);
    //  The kept message's bytes (less its topic's) are charged to the budget
    assert (zg_budget_used (zg_budget_process ()) > budget_used
        &&  zg_budget_used (zg_budget_process ()) < budget_used + (int64_t) bytes);
    zg_history_set_max_bytes (history, SIZE_MAX);

    //  A topic whose rule is gone is forgotten
    assert (zg_history_set_rules (history, "", error, sizeof error) == 0);
    assert (!zg_history_enabled (history));
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 0 && messages == 0 && bytes == 0);
    assert (zg_budget_used (zg_budget_process ()) == budget_used);
    zg_history_destroy (&history);
    zg_history_destroy (&history);

    //  With a directory, history and epochs survive a clean restart; the
    //  rules apply to what comes back
    char dir [] = "/tmp/zg-history-test-XXXXXX";
    assert (mkdtemp (dir));
    history = zg_history_new ();
    assert (zg_history_set_rules (history, "kept.* 2; gone 5", error, sizeof error) == 0);
    assert (zg_history_persist (history, dir, error, sizeof error) == 0);
    for (int index = 1; index <= 3; index++)
        s_test_record (history, "kept.a", index == 3? "last": "m", &epoch);
    strcpy (first_epoch, epoch);
    s_test_record (history, "gone", "g", &epoch);
    zg_history_commit (history);
    zg_history_destroy (&history);
    history = zg_history_new ();
    assert (zg_history_set_rules (history, "kept.* 2", error, sizeof error) == 0);
    assert (zg_history_persist (history, dir, error, sizeof error) == 0);
    text [0] = 0;
    assert (zg_history_read (history, "kept.a", 0, false, &state, s_test_collect, text) == 2);
    assert (streq (text, "2:m 3:last ") && state.top == 3 && streq (state.epoch, first_epoch));
    assert (s_test_record (history, "kept.a", "next", &epoch) == 4 && streq (epoch, first_epoch));
    zg_history_counters (history, &topics, &messages, &bytes);
    assert (topics == 1 && messages == 2);
    zg_history_destroy (&history);
    zdir_t *files = zdir_new (dir, NULL);
    zdir_remove (files, true);
    zdir_destroy (&files);
    //  @end
    printf ("OK\n");
}
