/*  =========================================================================
    zg_fuzz_topicmap - fuzz target for the gateway's web topic map
    (zg_topicmap) over a real SUB socket

    Each input is a sequence of operations, one a line: an operation byte
    ('+' add, '-' remove, 'u' use, 'r' release, anything else match), a
    holder byte (one of 8 holders), then a topic. A simple model (a list
    of every holding and every use) says what each must do: which calls a
    match makes to which holder, how many subscriptions are held, and when
    the socket subscribes a ZeroMQ prefix anew. Runs as zg_fuzz_main.c says.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_topicmap.h"

#define FUZZ_HOLDERS 8
//  Operations per input at most, so the model stays small
#define FUZZ_MAX_OPS 256

//  One holding or use: a web topic's key (without its '*') and its table
typedef struct {
    char *key;
    bool prefix;                    //  A prefix subscription
    int holder;                     //  Its holder, or -1 for a use
} s_held_t;

static s_held_t s_model [FUZZ_MAX_OPS];
static size_t s_model_size;

//  One socket for every input: a new one each costs more than the input
static zsock_t *s_subscriber;

static void
s_destroy_subscriber (void)
{
    zsock_destroy (&s_subscriber);
}

//  Holders are the addresses of these
static int s_holders [FUZZ_HOLDERS];

//  Users of a ZeroMQ prefix in the model: holdings and uses of that key
static size_t
s_model_users (const char *key)
{
    size_t users = 0;
    for (size_t index = 0; index < s_model_size; index++)
        users += streq (s_model [index].key, key);
    return users;
}

//  Distinct subscriptions in the model
static size_t
s_model_subscriptions (void)
{
    size_t count = 0;
    for (size_t index = 0; index < s_model_size; index++) {
        if (s_model [index].holder < 0)
            continue;
        bool first = true;
        for (size_t other = 0; other < index && first; other++)
            first = !(s_model [other].holder >= 0 && s_model [other].prefix == s_model [index].prefix
                      && streq (s_model [other].key, s_model [index].key));
        count += first;
    }
    return count;
}

//  Remove the first model entry like this one; false if there is none
static bool
s_model_remove (const char *key, bool prefix, int holder)
{
    for (size_t index = 0; index < s_model_size; index++)
        if (s_model [index].holder == holder && (holder < 0 || s_model [index].prefix == prefix)
        &&  streq (s_model [index].key, key)) {
            free (s_model [index].key);
            s_model [index] = s_model [--s_model_size];
            return true;
        }
    return false;
}

static void
s_count_call (void *holder, void *arg)
{
    size_t *calls = (size_t *) arg;
    calls [(int *) holder - s_holders]++;
}

//  Match a topic: each holder called once per matching holding
static void
s_check_match (zg_topicmap_t *map, const char *topic)
{
    size_t calls [FUZZ_HOLDERS] = { 0 }, expected [FUZZ_HOLDERS] = { 0 };
    size_t total = zg_topicmap_match (map, topic, s_count_call, calls);
    size_t expected_total = 0;
    for (size_t index = 0; index < s_model_size; index++) {
        s_held_t *held = &s_model [index];
        if (held->holder >= 0
        &&  (held->prefix? strncmp (topic, held->key, strlen (held->key)) == 0: streq (topic, held->key))) {
            expected [held->holder]++;
            expected_total++;
        }
    }
    assert (total == expected_total);
    assert (memcmp (calls, expected, sizeof calls) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_subscriber) {
        s_subscriber = zsock_new (ZMQ_SUB);
        assert (s_subscriber);
        //  Runs before czmq's own exit handler, registered with the socket
        atexit (s_destroy_subscriber);
    }
    zg_topicmap_t *map = zg_topicmap_new (s_subscriber);
    for (size_t ops = 0; size >= 2 && ops < FUZZ_MAX_OPS; ops++) {
        char operation = (char) data [0];
        int holder = data [1] % FUZZ_HOLDERS;
        const uint8_t *end = (const uint8_t *) memchr (data + 2, '\n', size - 2);
        size_t length = end? (size_t) (end - data - 2): size - 2;
        char *topic = strndup ((const char *) data + 2, length);
        assert (topic);
        data += end? length + 3: size;
        size -= end? length + 3: size;
        size_t topic_length = strlen (topic);
        bool prefix = topic_length && topic [topic_length - 1] == '*';
        char *key = strndup (topic, prefix? topic_length - 1: topic_length);
        assert (key);
        if (operation == '+' || operation == 'u') {
            bool fresh = s_model_users (key) == 0;
            bool subscribed = operation == '+'? zg_topicmap_add (map, topic, &s_holders [holder]):
                                                zg_topicmap_use (map, key);
            assert (subscribed == fresh);
            s_model [s_model_size++] = (s_held_t) { key, prefix, operation == '+'? holder: -1 };
            key = NULL;
        }
        else
        if (operation == '-') {
            zg_topicmap_remove (map, topic, &s_holders [holder]);
            s_model_remove (key, prefix, holder);
        }
        else
        if (operation == 'r') {
            //  Like the gateway, release only what was used
            if (s_model_remove (key, prefix, -1))
                zg_topicmap_release (map, key);
        }
        else
            s_check_match (map, topic);
        assert (zg_topicmap_size (map) == s_model_subscriptions ());
        free (key);
        free (topic);
    }
    //  Every holder's view once more, then the map goes as the gateway's does
    for (size_t index = 0; index < s_model_size; index++)
        s_check_match (map, s_model [index].key);
    zg_topicmap_destroy (&map);
    while (s_model_size)
        s_model_remove (s_model [0].key, s_model [0].prefix, s_model [0].holder);
    return 0;
}
