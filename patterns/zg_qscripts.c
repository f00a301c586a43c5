/*  =========================================================================
    zg_qscripts - the Lua scripts that keep queues across nodes in Redis

    Each script is the library (the shared helpers) followed by its body,
    so the rules that two scripts share (how a task is put back, when it
    goes to the dead letters, how a producer hears of an outcome) are
    written once. Order in a pending set: score = (255 - priority) * 2^44
    + 2^43 +- seq, exact in a double: a task joining the tail counts up
    from the middle, one put back at the head counts down from it.
    =========================================================================
*/

#include "zg_classes.h"
#include "zg_qscripts.h"
#include "zg_redis_server.h"
#include "zg_mpjson.h"
#include <hiredis/hiredis.h>

#define S_SUFFIX ".dead"

static const char *s_library =
    "local P = ARGV[1]\n"
    "local SLOT, MID = 17592186044416, 8796093022208\n"
    "local function now_ms ()\n"
    "    local t = redis.call ('TIME')\n"
    "    return tonumber (t[1]) * 1000 + math.floor (tonumber (t[2]) / 1000)\n"
    "end\n"
    "local function tag_of (name)\n"
    "    if #name > 5 and string.sub (name, -5) == '" S_SUFFIX "' then return string.sub (name, 1, -6) end\n"
    "    return name\n"
    "end\n"
    "local function key (tag, what) return P .. ':q:{' .. tag .. '}:' .. what end\n"
    //  A producer that waits hears the outcome once, on its node's channel
    "local function tell (task, id, code, text)\n"
    "    if redis.call ('HGET', task, 'reply') == '1' then\n"
    "        redis.call ('HSET', task, 'reply', '0')\n"
    "        redis.call ('PUBLISH', P .. ':n:' .. redis.call ('HGET', task, 'node'), id .. ' ' .. code .. ' ' .. text)\n"
    "    end\n"
    "end\n"
    //  Waiting; a queue that was empty wakes the nodes
    "local function push (name, id, priority, at_head)\n"
    "    local tag = tag_of (name)\n"
    "    local seq = redis.call ('INCR', key (tag, 'seq'))\n"
    "    local pending = key (tag, 'pending:' .. name)\n"
    "    local empty = redis.call ('ZCARD', pending) == 0\n"
    "    redis.call ('ZADD', pending, (255 - priority) * SLOT + (at_head and MID - seq or MID + seq), id)\n"
    "    if empty then redis.call ('PUBLISH', P .. ':q:ready', name) end\n"
    "end\n"
    //  Final: the result is kept for result-ttl, the input dropped
    "local function finish (task, id, state, result, ttl)\n"
    "    redis.call ('HSET', task, 'state', state, 'finished', now_ms (), 'result', result, 'holder', '')\n"
    "    redis.call ('HDEL', task, 'payload')\n"
    "    redis.call ('PEXPIRE', task, ttl)\n"
    "    redis.call ('PEXPIRE', P .. ':q:id:' .. id, ttl)\n"
    "end\n"
    //  Taken back: to the head of its queue, or past max-deliveries (or
    //  from a dead-letter queue) to the dead letters or dead for good
    "local function requeue (tag, id, max_pending, max_name, ttl)\n"
    "    local task = key (tag, 'task:' .. id)\n"
    "    redis.call ('ZREM', key (tag, 'leases'), id)\n"
    "    local f = redis.call ('HMGET', task, 'queue', 'attempt', 'maxd', 'priority')\n"
    "    if not f[1] then return end\n"
    "    local name, attempt = f[1], tonumber (f[2])\n"
    "    local dead_letter = name ~= tag\n"
    "    if attempt < tonumber (f[3]) and not dead_letter then\n"
    "        redis.call ('HSET', task, 'state', 'waiting', 'holder', '')\n"
    "        push (name, id, tonumber (f[4]), true)\n"
    "        return\n"
    "    end\n"
    "    local reason = 'dead after ' .. attempt .. ' deliveries'\n"
    "    tell (task, id, 410, 'is ' .. reason)\n"
    "    local letters = name .. '" S_SUFFIX "'\n"
    "    if not dead_letter and #letters <= max_name\n"
    "       and redis.call ('ZCARD', key (tag, 'pending:' .. letters)) < max_pending then\n"
    "        redis.call ('HSET', task, 'state', 'dead', 'queue', letters, 'holder', '')\n"
    "        push (letters, id, tonumber (f[4]), false)\n"
    "    else\n"
    "        finish (task, id, 'dead', reason, ttl)\n"
    "    end\n"
    "end\n"
    //  The holder's own task, as it delivered it
    "local function held (tag, id, node, attempt)\n"
    "    local f = redis.call ('HMGET', key (tag, 'task:' .. id), 'holder', 'attempt', 'state')\n"
    "    return f[1] == node and f[2] == attempt and f[3] == 'in_progress'\n"
    "end\n";

static const char *s_bodies [ZG_QSCRIPT_COUNT] = {
    //  SEND
    "local name = ARGV[2]\n"
    "local tag = tag_of (name)\n"
    "if redis.call ('ZCARD', key (tag, 'pending:' .. name)) >= tonumber (ARGV[9]) then\n"
    "    return redis.error_reply ('429 queue full (max-pending ' .. ARGV[9] .. ')')\n"
    "end\n"
    "local id = string.format ('%.0f', redis.call ('INCR', P .. ':q:ids') * tonumber (ARGV[10]) + tonumber (ARGV[11]))\n"
    "redis.call ('HSET', key (tag, 'task:' .. id), 'queue', name, 'node', ARGV[3], 'priority', ARGV[4],\n"
    "            'ack', ARGV[5], 'maxd', ARGV[6], 'reply', ARGV[7], 'payload', ARGV[8], 'attempt', 0,\n"
    "            'state', 'waiting', 'holder', '', 'created', now_ms (), 'started', 0, 'finished', 0, 'result', '')\n"
    "redis.call ('SET', P .. ':q:id:' .. id, tag)\n"
    "push (name, id, tonumber (ARGV[4]), false)\n"
    "return id\n",
    //  CLAIM
    "local name, node, lease = ARGV[2], ARGV[3], tonumber (ARGV[5])\n"
    "local tag = tag_of (name)\n"
    "local pending = key (tag, 'pending:' .. name)\n"
    "local ids = redis.call ('ZRANGE', pending, 0, tonumber (ARGV[4]) - 1)\n"
    "local now, out = now_ms (), {}\n"
    "if #ids > 0 then\n"
    "    redis.call ('ZREM', pending, unpack (ids))\n"
    "    redis.call ('SADD', P .. ':q:tags', tag)\n"
    "end\n"
    "for _, id in ipairs (ids) do\n"
    "    local task = key (tag, 'task:' .. id)\n"
    "    local attempt = redis.call ('HINCRBY', task, 'attempt', 1)\n"
    "    redis.call ('HSET', task, 'state', 'in_progress', 'holder', node, 'started', now)\n"
    "    redis.call ('ZADD', key (tag, 'leases'), now + lease, id)\n"
    "    local f = redis.call ('HMGET', task, 'priority', 'ack', 'created', 'payload')\n"
    "    for _, v in ipairs ({ id, tostring (attempt), f[1], f[2], f[3], f[4] }) do out[#out + 1] = v end\n"
    "end\n"
    "return out\n",
    //  FINISH
    "local tag, id = ARGV[2], ARGV[3]\n"
    "if not held (tag, id, ARGV[4], ARGV[5]) then return 0 end\n"
    "local task = key (tag, 'task:' .. id)\n"
    "redis.call ('ZREM', key (tag, 'leases'), id)\n"
    "finish (task, id, ARGV[6], ARGV[7], tonumber (ARGV[8]))\n"
    "if ARGV[6] == 'done' then tell (task, id, 200, ARGV[7]) else tell (task, id, 422, 'failed: ' .. ARGV[7]) end\n"
    "return 1\n",
    //  REQUEUE
    "if not held (ARGV[2], ARGV[3], ARGV[4], ARGV[5]) then return 0 end\n"
    "requeue (ARGV[2], ARGV[3], tonumber (ARGV[6]), tonumber (ARGV[7]), tonumber (ARGV[8]))\n"
    "return 1\n",
    //  RENEW
    "local tag, node, now, count = ARGV[2], ARGV[3], now_ms (), 0\n"
    "for index = 5, #ARGV do\n"
    "    if redis.call ('HGET', key (tag, 'task:' .. ARGV[index]), 'holder') == node then\n"
    "        redis.call ('ZADD', key (tag, 'leases'), 'XX', now + tonumber (ARGV[4]), ARGV[index])\n"
    "        count = count + 1\n"
    "    end\n"
    "end\n"
    "return count\n",
    //  SWEEP: one node per period does it
    "if not redis.call ('SET', P .. ':q:sweep', ARGV[2], 'NX', 'PX', ARGV[3]) then return -1 end\n"
    "local now, count = now_ms (), 0\n"
    "for _, tag in ipairs (redis.call ('SMEMBERS', P .. ':q:tags')) do\n"
    "    for _, id in ipairs (redis.call ('ZRANGEBYSCORE', key (tag, 'leases'), '-inf', now, 'LIMIT', 0, 1000)) do\n"
    "        requeue (tag, id, tonumber (ARGV[4]), tonumber (ARGV[5]), tonumber (ARGV[6]))\n"
    "        count = count + 1\n"
    "    end\n"
    "    if redis.call ('ZCARD', key (tag, 'leases')) == 0 then redis.call ('SREM', P .. ':q:tags', tag) end\n"
    "end\n"
    "return count\n",
    //  GET
    "local tag = redis.call ('GET', P .. ':q:id:' .. ARGV[2])\n"
    "if not tag then return false end\n"
    "local f = redis.call ('HMGET', key (tag, 'task:' .. ARGV[2]), 'queue', 'state', 'priority', 'attempt',\n"
    "                      'created', 'started', 'finished', 'payload', 'result')\n"
    "if not f[1] then return false end\n"
    "for index = 1, 9 do if not f[index] then f[index] = '' end end\n"
    "return f\n"
};

//  Built once: library + body, and its SHA-1
static char *s_sources [ZG_QSCRIPT_COUNT];
static char s_shas [ZG_QSCRIPT_COUNT][41];

static void
s_build (void)
{
    if (s_sources [0])
        return;
    for (int script = 0; script < ZG_QSCRIPT_COUNT; script++) {
        size_t size = strlen (s_library) + strlen (s_bodies [script]) + 1;
        char *source = (char *) malloc (size);
        assert (source);
        snprintf (source, size, "%s%s", s_library, s_bodies [script]);
        zdigest_t *digest = zdigest_new ();
        zdigest_update (digest, (const byte *) source, strlen (source));
        const char *hex = zdigest_string (digest);
        for (int index = 0; index < 40; index++)
            s_shas [script][index] = (char) tolower ((unsigned char) hex [index]);
        zdigest_destroy (&digest);
        s_sources [script] = source;
    }
}

//  --------------------------------------------------------------------------
//  A script's source

const char *
zg_qscripts_source (zg_qscript_t script)
{
    assert (script < ZG_QSCRIPT_COUNT);
    s_build ();
    return s_sources [script];
}

//  --------------------------------------------------------------------------
//  Its SHA-1

const char *
zg_qscripts_sha (zg_qscript_t script)
{
    assert (script < ZG_QSCRIPT_COUNT);
    s_build ();
    return s_shas [script];
}

//  --------------------------------------------------------------------------
//  The tag of a queue's keys

size_t
zg_qscripts_tag (const char *name, char *tag, size_t size)
{
    assert (name && tag && size);
    size_t length = strlen (name);
    size_t suffix = strlen (S_SUFFIX);
    if (length > suffix && streq (name + length - suffix, S_SUFFIX))
        length -= suffix;
    if (length >= size)
        length = size - 1;
    memcpy (tag, name, length);
    tag [length] = 0;
    return length;
}

//  --------------------------------------------------------------------------
//  The GET script's answer, packed as GET answers

void
zg_qscripts_pack_task (redisReply *reply, const char *id, msgpack_packer *packer)
{
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 9 && id && packer);
    redisReply **field = reply->element;
    const char *state = field [1]->str;
    bool has_reply = streq (state, "done");
    bool has_reason = (streq (state, "failed") || streq (state, "dead")) && field [8]->len;
    msgpack_pack_map (packer, has_reply || has_reason? 11: 10);
    const char *strings [][2] = { { "id", id }, { "queue", field [0]->str } };
    for (int index = 0; index < 2; index++) {
        msgpack_pack_str_with_body (packer, strings [index][0], strlen (strings [index][0]));
        msgpack_pack_str_with_body (packer, strings [index][1], strlen (strings [index][1]));
    }
    msgpack_pack_str_with_body (packer, "command", 7);
    msgpack_pack_false (packer);
    msgpack_pack_str_with_body (packer, "state", 5);
    msgpack_pack_str_with_body (packer, state, strlen (state));
    const char *numbers [] = { "priority", "attempt", "created", "started", "finished" };
    for (int index = 0; index < 5; index++) {
        msgpack_pack_str_with_body (packer, numbers [index], strlen (numbers [index]));
        msgpack_pack_int64 (packer, atoll (field [2 + index]->str));
    }
    msgpack_pack_str_with_body (packer, "input", 5);
    msgpack_pack_bin_with_body (packer, field [7]->str, field [7]->len);
    if (has_reply || has_reason) {
        msgpack_pack_str_with_body (packer, has_reply? "reply": "reason", has_reply? 5: 6);
        if (has_reply)
            msgpack_pack_bin_with_body (packer, field [8]->str, field [8]->len);
        else
            msgpack_pack_str_with_body (packer, field [8]->str, field [8]->len);
    }
}

//  --------------------------------------------------------------------------
//  Self test

//  Run a script by EVALSHA with its arguments after the prefix
static redisReply *
s_test_run (redisContext *redis, zg_qscript_t script, int argc, const char **argv)
{
    const char *args [16] = { "EVALSHA", zg_qscripts_sha (script), "0", "zt" };
    assert (argc <= 12);
    for (int index = 0; index < argc; index++)
        args [4 + index] = argv [index];
    redisReply *reply = (redisReply *) redisCommandArgv (redis, 4 + argc, args, NULL);
    assert (reply);
    return reply;
}

//  An integer answer
static long long
s_test_int (redisContext *redis, zg_qscript_t script, int argc, const char **argv)
{
    redisReply *reply = s_test_run (redis, script, argc, argv);
    assert (reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  SEND: the new id, or the error's text in error
static void
s_test_send (redisContext *redis, const char *queue, const char *priority, const char *reply_wanted,
             const char *payload, char *id, char *error)
{
    const char *argv [] = { queue, "nodeA", priority, "1000", "2", reply_wanted, payload, "3", "1", "0" };
    redisReply *reply = s_test_run (redis, ZG_QSCRIPT_SEND, 10, argv);
    *id = *error = 0;
    if (reply->type == REDIS_REPLY_ERROR)
        snprintf (error, 128, "%s", reply->str);
    else {
        assert (reply->type == REDIS_REPLY_STRING);
        snprintf (id, 32, "%s", reply->str);
    }
    freeReplyObject (reply);
}

//  CLAIM count tasks of queue for node: their ids and attempts, as "id/attempt ..."
static void
s_test_claim (redisContext *redis, const char *queue, const char *node, const char *count, char *claimed)
{
    const char *argv [] = { queue, node, count, "1" };
    redisReply *reply = s_test_run (redis, ZG_QSCRIPT_CLAIM, 4, argv);
    assert (reply->type == REDIS_REPLY_ARRAY && reply->elements % 6 == 0);
    *claimed = 0;
    for (size_t index = 0; index < reply->elements; index += 6)
        sprintf (claimed + strlen (claimed), "%s%s/%s", index? " ": "", reply->element [index]->str,
                 reply->element [index + 1]->str);
    freeReplyObject (reply);
}

void
zg_qscripts_test (bool verbose)
{
    printf (" * zg_qscripts: ");
    //  @selftest
    char tag [32];
    assert (zg_qscripts_tag ("jobs.dead", tag, sizeof tag) == 4 && streq (tag, "jobs"));
    assert (zg_qscripts_tag (".dead", tag, sizeof tag) == 5 && streq (tag, ".dead"));
    assert (zg_qscripts_tag ("jobs", tag, 3) == 2 && streq (tag, "jo"));
    assert (strlen (zg_qscripts_sha (ZG_QSCRIPT_GET)) == 40);
    assert (strneq (zg_qscripts_sha (ZG_QSCRIPT_GET), zg_qscripts_sha (ZG_QSCRIPT_SEND)));
    if (!zg_redis_server_available ()) {
        printf ("SKIPPED: no redis-server on PATH\n");
        return;
    }
    zg_redis_server_t *server = zg_redis_server_new ();
    assert (server);
    char host [64];
    snprintf (host, sizeof host, "%s", zg_redis_server_address (server));
    *strrchr (host, ':') = 0;
    redisContext *redis = redisConnect (host, atoi (strrchr (zg_redis_server_address (server), ':') + 1));
    assert (redis && !redis->err);
    for (int script = 0; script < ZG_QSCRIPT_COUNT; script++) {
        redisReply *reply = (redisReply *) redisCommand (redis, "SCRIPT LOAD %s", zg_qscripts_source (script));
        assert (reply && reply->type == REDIS_REPLY_STRING);
        if (verbose && reply->type == REDIS_REPLY_ERROR)
            printf ("%s\n", reply->str);
        assert (streq (reply->str, zg_qscripts_sha (script)));
        freeReplyObject (reply);
    }
    //  Priority first, FIFO among equals; max-pending (3) refuses the fourth
    char id [32], error [128], claimed [256];
    s_test_send (redis, "jobs", "0", "1", "a", id, error);
    assert (streq (id, "1"));
    s_test_send (redis, "jobs", "5", "0", "b", id, error);
    s_test_send (redis, "jobs", "0", "0", "c", id, error);
    assert (streq (id, "3"));
    s_test_send (redis, "jobs", "0", "0", "d", id, error);
    assert (*id == 0 && strncmp (error, "429 queue full", 14) == 0);
    s_test_claim (redis, "jobs", "nodeB", "2", claimed);
    assert (streq (claimed, "2/1 1/1"));
    //  Only the holder finishes, at the attempt it delivered; the producer
    //  of 1 hears the reply on its node's channel (checked by the bridge)
    const char *wrong [] = { "jobs", "1", "nodeC", "1", "done", "x", "60000" };
    assert (s_test_int (redis, ZG_QSCRIPT_FINISH, 7, wrong) == 0);
    const char *done [] = { "jobs", "1", "nodeB", "1", "done", "A", "60000" };
    assert (s_test_int (redis, ZG_QSCRIPT_FINISH, 7, done) == 1);
    assert (s_test_int (redis, ZG_QSCRIPT_FINISH, 7, done) == 0);
    //  Put back: to the head, before its equals; at max-deliveries (2) to
    //  the dead letters, which deliver it once
    const char *back [] = { "jobs", "2", "nodeB", "1", "3", "100", "60000" };
    assert (s_test_int (redis, ZG_QSCRIPT_REQUEUE, 7, back) == 1);
    s_test_claim (redis, "jobs", "nodeB", "1", claimed);
    assert (streq (claimed, "2/2"));
    const char *again [] = { "jobs", "2", "nodeB", "2", "3", "100", "60000" };
    assert (s_test_int (redis, ZG_QSCRIPT_REQUEUE, 7, again) == 1);
    s_test_claim (redis, "jobs", "nodeB", "5", claimed);
    assert (streq (claimed, "3/1"));
    s_test_claim (redis, "jobs.dead", "nodeB", "5", claimed);
    assert (streq (claimed, "2/3"));
    //  Leases: a renewed one holds, an expired one is swept back, once per
    //  lock period
    const char *renew [] = { "jobs", "nodeB", "60000", "2", "3" };
    assert (s_test_int (redis, ZG_QSCRIPT_RENEW, 5, renew) == 2);
    const char *sweep [] = { "nodeB", "60000", "3", "100", "60000" };
    assert (s_test_int (redis, ZG_QSCRIPT_SWEEP, 5, sweep) == 0);
    assert (s_test_int (redis, ZG_QSCRIPT_SWEEP, 5, sweep) == -1);
    redisReply *reply = (redisReply *) redisCommand (redis, "DEL zt:q:sweep");
    freeReplyObject (reply);
    reply = (redisReply *) redisCommand (redis, "ZADD zt:q:{jobs}:leases XX 1 3");
    freeReplyObject (reply);
    assert (s_test_int (redis, ZG_QSCRIPT_SWEEP, 5, sweep) == 1);
    s_test_claim (redis, "jobs", "nodeC", "5", claimed);
    assert (streq (claimed, "3/2"));
    //  GET from anywhere: the finished one with its reply, an unknown id nil
    const char *get [] = { "1" };
    reply = s_test_run (redis, ZG_QSCRIPT_GET, 1, get);
    assert (reply->type == REDIS_REPLY_ARRAY && reply->elements == 9);
    assert (streq (reply->element [0]->str, "jobs") && streq (reply->element [1]->str, "done"));
    assert (streq (reply->element [7]->str, "") && streq (reply->element [8]->str, "A"));
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    zg_qscripts_pack_task (reply, "1", &packer);
    json_object *task = zg_mpjson_unpack (buffer.data, buffer.size);
    assert (task && json_object_object_length (task) == 11);
    assert (streq (json_object_get_string (json_object_object_get (task, "state")), "done"));
    assert (json_object_get_int (json_object_object_get (task, "attempt")) == 1);
    json_object_put (task);
    msgpack_sbuffer_destroy (&buffer);
    freeReplyObject (reply);
    const char *unknown [] = { "99" };
    reply = s_test_run (redis, ZG_QSCRIPT_GET, 1, unknown);
    assert (reply->type == REDIS_REPLY_NIL);
    freeReplyObject (reply);
    redisFree (redis);
    zg_redis_server_destroy (&server);
    //  @end
    printf ("OK\n");
}
