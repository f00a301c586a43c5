/*  =========================================================================
    zg_presence - who is subscribed to a topic now: topic presence

    The registry holds only topics with someone present: a topic's entries
    are a list in order of joining, so the newest native entry is found from
    the end, and a web leave names its connection.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_presence.h"

//  One subscriber present on a topic
typedef struct {
    char connection [ZG_PRESENCE_UUID_SIZE];    //  Its connection id
    bool web;                       //  A web subscriber (the gateway's), else native
    int fd;                         //  A native one's connection
    char *identity;                 //  Its identity, or NULL
} s_entry_t;

struct _zg_presence_t {
    zlistx_t *patterns;             //  Topics and "prefix*" patterns
    zhashx_t *present;              //  Topic -> zlistx_t of s_entry_t
};

//  --------------------------------------------------------------------------

static void
s_entry_destroy (s_entry_t **self_p)
{
    s_entry_t *self = *self_p;
    if (self) {
        free (self->identity);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

zg_presence_t *
zg_presence_new (void)
{
    zg_presence_t *self = (zg_presence_t *) zmalloc (sizeof (zg_presence_t));
    assert (self);
    self->patterns = zlistx_new ();
    zlistx_set_destructor (self->patterns, (zlistx_destructor_fn *) zstr_free);
    self->present = zhashx_new ();
    zhashx_set_destructor (self->present, (zhashx_destructor_fn *) zlistx_destroy);
    return self;
}

//  --------------------------------------------------------------------------

void
zg_presence_destroy (zg_presence_t **self_p)
{
    assert (self_p);
    zg_presence_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->patterns);
        zhashx_destroy (&self->present);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------------

void
zg_presence_uuid4 (char *uuid)
{
    assert (uuid);
    zuuid_t *random = zuuid_new ();
    byte bytes [ZUUID_LEN];
    zuuid_export (random, bytes);
    //  RFC 4122: version 4 (random) and the variant 10xx, whatever the
    //  generator czmq was built with
    bytes [6] = (byte) ((bytes [6] & 0x0f) | 0x40);
    bytes [8] = (byte) ((bytes [8] & 0x3f) | 0x80);
    zuuid_set (random, bytes);
    memcpy (uuid, zuuid_str_canonical (random), ZG_PRESENCE_UUID_SIZE);
    zuuid_destroy (&random);
}

//  --------------------------------------------------------------------------

int
zg_presence_set (zg_presence_t *self, const char *key, const char *value, char *error, size_t size)
{
    assert (self);
    if (strneq (key, "presence"))
        return 1;
    zlistx_t *patterns = zlistx_new ();
    zlistx_set_destructor (patterns, (zlistx_destructor_fn *) zstr_free);
    for (const char *cursor = value + strspn (value, " "); *cursor; cursor += strspn (cursor, " ")) {
        size_t length = strcspn (cursor, " ");
        char *pattern = strndup (cursor, length);
        //  A '*' only at the end, and never the presence topics themselves
        char *star = strchr (pattern, '*');
        if ((star && star [1]) || strncmp (pattern, "$zgate.", 7) == 0) {
            snprintf (error, size, "'%s' is not a topic or a prefix ending in '*' (and not a $zgate. topic)",
                      pattern);
            free (pattern);
            zlistx_destroy (&patterns);
            return -1;
        }
        zlistx_add_end (patterns, pattern);
        cursor += length;
    }
    zlistx_destroy (&self->patterns);
    self->patterns = patterns;
    return 0;
}

//  --------------------------------------------------------------------------

bool
zg_presence_matches (zg_presence_t *self, const char *topic)
{
    assert (self && topic);
    if (!*topic || strncmp (topic, "$zgate.", 7) == 0)
        return false;
    for (const char *pattern = (const char *) zlistx_first (self->patterns); pattern;
         pattern = (const char *) zlistx_next (self->patterns)) {
        size_t length = strlen (pattern);
        if (length && pattern [length - 1] == '*'? strncmp (topic, pattern, length - 1) == 0
                                                 : streq (topic, pattern))
            return true;
    }
    return false;
}

//  --------------------------------------------------------------------------

zmsg_t *
zg_presence_event (const char *topic, bool joined, const char *connection, const char *kind, const char *identity)
{
    assert (topic && connection && kind);
    json_object *event = json_object_new_object ();
    json_object_object_add (event, "event", json_object_new_string (joined? "join": "leave"));
    json_object_object_add (event, "topic", json_object_new_string (topic));
    json_object_object_add (event, "connection", json_object_new_string (connection));
    json_object_object_add (event, "kind", json_object_new_string (kind));
    if (identity)
        json_object_object_add (event, "identity", json_object_new_string (identity));
    zmsg_t *msg = zmsg_new ();
    zmsg_addstrf (msg, "%s%s", ZG_PRESENCE_TOPIC, topic);
    zmsg_addstr (msg, json_object_to_json_string_ext (event, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put (event);
    return msg;
}

//  --------------------------------------------------------------------------
//  Who is present on a topic, created if need be

static zlistx_t *
s_self_entries (zg_presence_t *self, const char *topic, bool create)
{
    zlistx_t *entries = (zlistx_t *) zhashx_lookup (self->present, topic);
    if (!entries && create) {
        entries = zlistx_new ();
        zlistx_set_destructor (entries, (zlistx_destructor_fn *) s_entry_destroy);
        zhashx_insert (self->present, topic, entries);
    }
    return entries;
}

//  --------------------------------------------------------------------------
//  Add an entry; returns it

static s_entry_t *
s_self_join (zg_presence_t *self, const char *topic, const char *connection, int fd, const char *identity)
{
    s_entry_t *entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
    assert (entry);
    memcpy (entry->connection, connection, ZG_PRESENCE_UUID_SIZE - 1);
    entry->web = fd < 0;
    entry->fd = fd;
    entry->identity = identity? strdup (identity): NULL;
    zlistx_add_end (s_self_entries (self, topic, true), entry);
    return entry;
}

//  --------------------------------------------------------------------------
//  Remove the entry at a list handle; the topic goes with its last entry

static void
s_self_remove (zg_presence_t *self, const char *topic, zlistx_t *entries, void *handle)
{
    zlistx_delete (entries, handle);
    if (zlistx_size (entries) == 0)
        zhashx_delete (self->present, topic);
}

//  --------------------------------------------------------------------------
//  The leave of the entry at a list handle, which is removed

static zmsg_t *
s_self_leave (zg_presence_t *self, const char *topic, zlistx_t *entries, void *handle)
{
    s_entry_t *entry = (s_entry_t *) zlistx_handle_item (handle);
    zmsg_t *event = zg_presence_event (topic, false, entry->connection, "native", entry->identity);
    s_self_remove (self, topic, entries, handle);
    return event;
}

//  --------------------------------------------------------------------------

zmsg_t *
zg_presence_subscription (zg_presence_t *self, bool subscribed, const char *topic, int fd,
                          const char *identity)
{
    assert (self && topic);
    if (fd < 0 || !zg_presence_matches (self, topic))
        return NULL;
    if (subscribed) {
        char connection [ZG_PRESENCE_UUID_SIZE];
        zg_presence_uuid4 (connection);
        s_self_join (self, topic, connection, fd, identity);
        return zg_presence_event (topic, true, connection, "native", identity);
    }
    //  That connection's newest subscription of the topic ends
    zlistx_t *entries = s_self_entries (self, topic, false);
    for (s_entry_t *entry = entries? (s_entry_t *) zlistx_last (entries): NULL; entry;
         entry = (s_entry_t *) zlistx_prev (entries))
        if (!entry->web && entry->fd == fd)
            return s_self_leave (self, topic, entries, zlistx_cursor (entries));
    return NULL;
}

//  --------------------------------------------------------------------------

zlistx_t *
zg_presence_disconnected (zg_presence_t *self, int fd)
{
    assert (self);
    zlistx_t *events = zlistx_new ();
    zlistx_set_destructor (events, (zlistx_destructor_fn *) zmsg_destroy);
    //  Collect the topics first: a topic goes with its last entry
    zlistx_t *topics = zlistx_new ();
    for (zlistx_t *entries = (zlistx_t *) zhashx_first (self->present); entries;
         entries = (zlistx_t *) zhashx_next (self->present))
        zlistx_add_end (topics, (void *) zhashx_cursor (self->present));
    for (const char *topic = (const char *) zlistx_first (topics); topic; topic = (const char *) zlistx_next (topics)) {
        char *name = strdup (topic);
        zlistx_t *entries = s_self_entries (self, name, false);
        void *handle = zlistx_first (entries)? zlistx_cursor (entries): NULL;
        while (handle) {
            s_entry_t *entry = (s_entry_t *) zlistx_handle_item (handle);
            void *next = zlistx_next (entries)? zlistx_cursor (entries): NULL;
            if (!entry->web && entry->fd == fd)
                zlistx_add_end (events, s_self_leave (self, name, entries, handle));
            handle = next;
        }
        free (name);
    }
    zlistx_destroy (&topics);
    return events;
}

//  --------------------------------------------------------------------------

void
zg_presence_apply (zg_presence_t *self, const void *payload, size_t size)
{
    assert (self);
    json_tokener *tokener = json_tokener_new ();
    json_object *event = json_tokener_parse_ex (tokener, (const char *) payload, (int) size);
    json_tokener_free (tokener);
    json_object *name, *topic, *connection, *kind;
    if (json_object_object_get_ex (event, "event", &name) && json_object_object_get_ex (event, "topic", &topic)
    &&  json_object_object_get_ex (event, "connection", &connection)
    &&  json_object_object_get_ex (event, "kind", &kind) && streq (json_object_get_string (kind), "web")
    &&  json_object_get_string_len (connection) == ZG_PRESENCE_UUID_SIZE - 1
    &&  zg_presence_matches (self, json_object_get_string (topic))) {
        const char *topic_name = json_object_get_string (topic);
        if (streq (json_object_get_string (name), "join"))
            s_self_join (self, topic_name, json_object_get_string (connection), -1, NULL);
        else {
            zlistx_t *entries = s_self_entries (self, topic_name, false);
            for (s_entry_t *entry = entries? (s_entry_t *) zlistx_first (entries): NULL; entry;
                 entry = (s_entry_t *) zlistx_next (entries))
                if (entry->web && streq (entry->connection, json_object_get_string (connection))) {
                    s_self_remove (self, topic_name, entries, zlistx_cursor (entries));
                    break;
                }
        }
    }
    json_object_put (event);
}

//  --------------------------------------------------------------------------

json_object *
zg_presence_list (zg_presence_t *self, const char *topic)
{
    assert (self && topic);
    json_object *list = json_object_new_object ();
    json_object *present = json_object_new_array ();
    zlistx_t *entries = s_self_entries (self, topic, false);
    for (s_entry_t *entry = entries? (s_entry_t *) zlistx_first (entries): NULL; entry;
         entry = (s_entry_t *) zlistx_next (entries)) {
        json_object *item = json_object_new_object ();
        json_object_object_add (item, "connection", json_object_new_string (entry->connection));
        json_object_object_add (item, "kind", json_object_new_string (entry->web? "web": "native"));
        if (entry->identity)
            json_object_object_add (item, "identity", json_object_new_string (entry->identity));
        json_object_array_add (present, item);
    }
    json_object_object_add (list, "topic", json_object_new_string (topic));
    json_object_object_add (list, "present", present);
    return list;
}

//  --------------------------------------------------------------------------
//  Self test of this class

//  The payload of an event, checked to be of topic and event, the caller's
static json_object *
s_test_event (zmsg_t **msg_p, const char *topic, const char *event)
{
    zmsg_t *msg = *msg_p;
    assert (msg && zmsg_size (msg) == 2);
    char *name = zmsg_popstr (msg);
    char *payload = zmsg_popstr (msg);
    assert (strncmp (name, ZG_PRESENCE_TOPIC, strlen (ZG_PRESENCE_TOPIC)) == 0);
    assert (streq (name + strlen (ZG_PRESENCE_TOPIC), topic));
    json_object *parsed = json_tokener_parse (payload);
    json_object *value;
    assert (json_object_object_get_ex (parsed, "event", &value) && streq (json_object_get_string (value), event));
    zstr_free (&name);
    zstr_free (&payload);
    zmsg_destroy (msg_p);
    return parsed;
}

//  How many are present on a topic
static size_t
s_test_present (zg_presence_t *self, const char *topic)
{
    json_object *list = zg_presence_list (self, topic);
    json_object *present;
    assert (json_object_object_get_ex (list, "present", &present));
    size_t count = json_object_array_length (present);
    json_object_put (list);
    return count;
}

void
zg_presence_test (bool verbose)
{
    printf (" * zg_presence: ");
    //  @selftest
    zg_presence_t *presence = zg_presence_new ();
    char error [256];
    assert (zg_presence_set (presence, "history", "", error, sizeof error) == 1);
    assert (zg_presence_set (presence, "presence", "a*b", error, sizeof error) == -1);
    assert (zg_presence_set (presence, "presence", "$zgate.x", error, sizeof error) == -1);
    assert (!zg_presence_matches (presence, "chat.lobby"));
    assert (zg_presence_set (presence, "presence", " chat.*  news ", error, sizeof error) == 0);
    assert (zg_presence_matches (presence, "chat.lobby") && zg_presence_matches (presence, "news"));
    assert (!zg_presence_matches (presence, "newsroom") && !zg_presence_matches (presence, ""));
    assert (!zg_presence_matches (presence, "$zgate.presence.news"));

    //  Native subscribers join with their own ids, connection 7 twice
    zmsg_t *event = zg_presence_subscription (presence, true, "news", 7, NULL);
    json_object *first = s_test_event (&event, "news", "join");
    event = zg_presence_subscription (presence, true, "news", 8, "alice");
    json_object *second = s_test_event (&event, "news", "join");
    event = zg_presence_subscription (presence, true, "news", 7, NULL);
    json_object *third = s_test_event (&event, "news", "join");
    json_object *value;
    assert (json_object_object_get_ex (second, "identity", &value) && streq (json_object_get_string (value), "alice"));
    assert (json_object_object_get_ex (first, "connection", &value));
    const char *id = json_object_get_string (value);
    assert (strlen (id) == 36 && id [14] == '4' && strchr ("89ab", id [19]));
    assert (zg_presence_subscription (presence, true, "weather", 7, NULL) == NULL);
    assert (s_test_present (presence, "news") == 3);

    //  In-process subscriptions (the gateway's SUB) are no one; its web
    //  subscribers are announced
    assert (zg_presence_subscription (presence, true, "news", -1, NULL) == NULL);
    char web [ZG_PRESENCE_UUID_SIZE];
    zg_presence_uuid4 (web);
    assert (strneq (web, id));
    zmsg_t *announced = zg_presence_event ("news", true, web, "web", NULL);
    zframe_t *payload = zmsg_last (announced);
    zg_presence_apply (presence, zframe_data (payload), zframe_size (payload));
    zmsg_destroy (&announced);
    assert (s_test_present (presence, "news") == 4);
    announced = zg_presence_event ("news", false, web, "web", NULL);
    payload = zmsg_last (announced);
    zg_presence_apply (presence, zframe_data (payload), zframe_size (payload));
    zmsg_destroy (&announced);
    zg_presence_apply (presence, "not json", 8);
    assert (zg_presence_subscription (presence, false, "news", -1, NULL) == NULL);
    assert (s_test_present (presence, "news") == 3);

    //  An unsubscription ends its connection's newest subscription; the end
    //  of a connection, all of them
    event = zg_presence_subscription (presence, false, "news", 7, NULL);
    json_object *left = s_test_event (&event, "news", "leave");
    json_object_object_get_ex (third, "connection", &value);
    const char *third_id = json_object_get_string (value);
    json_object_object_get_ex (left, "connection", &value);
    assert (streq (json_object_get_string (value), third_id));
    json_object_put (left);
    assert (zg_presence_subscription (presence, false, "news", 9, NULL) == NULL);
    zlistx_t *events = zg_presence_disconnected (presence, 8);
    assert (zlistx_size (events) == 1);
    zlistx_destroy (&events);
    events = zg_presence_disconnected (presence, 7);
    assert (zlistx_size (events) == 1);
    event = (zmsg_t *) zlistx_detach (events, NULL);
    left = s_test_event (&event, "news", "leave");
    json_object_object_get_ex (left, "connection", &value);
    assert (streq (json_object_get_string (value), id));
    zlistx_destroy (&events);
    assert (s_test_present (presence, "news") == 0);
    json_object *list = zg_presence_list (presence, "news");
    if (verbose)
        printf ("%s ", json_object_to_json_string (list));
    json_object_put (list);
    json_object_put (first);
    json_object_put (second);
    json_object_put (third);
    json_object_put (left);
    zg_presence_destroy (&presence);
    //  @end
    printf ("OK\n");
}
