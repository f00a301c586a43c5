-- zgate: rooms across nodes (docs/INTERNALS.md section 5). One script,
-- loaded once per connection and run with EVALSHA; each call is atomic.
-- KEYS[1] is the room's base key <p>:r:{room} (or, for the node-wide
-- operations alive and sweep, <p>:r:alive); ARGV[1] the operation, ARGV[2]
-- the shard's prefix <p>:r, ARGV[3] the room (or the calling node), ARGV[4]
-- the hold default ('1': keep messages while no node has a sync member).
-- A node stands in Redis for all its local members of a room: it is in the
-- room's :nodes hash (delivery) with its member count, in :gate while one
-- of them is sync, and acks a released message once all of its own did.
local op, P, room, hold = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
-- Shard-wide: rooms with a backlog (by backlog), rooms that exist, rooms
-- with a message in flight, and the counts of backlog and members
local ROOMS, ALIVE = P .. ':rooms', P .. ':alive'
local ALL, FLYING, BACKLOG, MEMBERS = P .. ':all', P .. ':flying', P .. ':backlog', P .. ':members'
local B, Q, D, H, NODES, GATE, FL, HOLDERS

local function bind (name)
    room = name
    B = P .. ':{' .. name .. '}'
    Q, D, H = B .. ':q', B .. ':d', B .. ':h'
    NODES, GATE, FL, HOLDERS = B .. ':nodes', B .. ':gate', B .. ':fl', B .. ':holders'
end

local function now_ms ()
    local t = redis.call ('TIME')
    return tonumber (t[1]) * 1000 + math.floor (tonumber (t[2]) / 1000)
end

-- Hand a message to every node with local members of the room
local function publish (message)
    local nodes = redis.call ('HKEYS', NODES)
    for _, node in ipairs (nodes) do
        redis.call ('PUBLISH', P .. ':n:' .. node, message)
    end
end

-- The lockstep rule: release the head once no node holds the message in
-- flight; a message without holders (no node with a sync member) is done
-- as soon as it is published, unless the room holds
local function release ()
    if redis.call ('EXISTS', FL) == 1 then
        if redis.call ('SCARD', HOLDERS) > 0 then return end
        redis.call ('DEL', FL, HOLDERS)
    end
    while true do
        local head = redis.call ('ZRANGE', Q, 0, 0)
        if #head == 0 then break end
        local gate = redis.call ('SMEMBERS', GATE)
        if #gate == 0 and hold == '1' then break end
        local seq = head[1]
        local header = redis.call ('HGET', H, seq)
        local payload = redis.call ('HGET', D, seq)
        redis.call ('ZREM', Q, seq)
        redis.call ('HDEL', H, seq)
        redis.call ('HDEL', D, seq)
        redis.call ('DECR', BACKLOG)
        publish (cmsgpack.pack ({'D', room, seq, header, payload}))
        if #gate > 0 then
            redis.call ('SADD', HOLDERS, unpack (gate))
            redis.call ('HSET', FL, 'seq', seq, 'header', header, 'released', now_ms ())
            break
        end
    end
end

-- Release what may go, then note what the room now holds
local function process ()
    release ()
    local backlog = redis.call ('ZCARD', Q)
    if backlog > 0 then
        redis.call ('ZADD', ROOMS, backlog, room)
    else
        redis.call ('ZREM', ROOMS, room)
    end
    local flying = redis.call ('EXISTS', FL) == 1
    redis.call (flying and 'SADD' or 'SREM', FLYING, room)
    local exists = flying or backlog > 0 or redis.call ('EXISTS', NODES) == 1
    redis.call (exists and 'SADD' or 'SREM', ALL, room)
end

-- A node's local members of the room: count of them, sync '1' if any gates
local function members (node, count, sync)
    local rooms = P .. ':node:' .. node
    redis.call ('INCRBY', MEMBERS, count - tonumber (redis.call ('HGET', NODES, node) or '0'))
    if count == 0 then
        redis.call ('HDEL', NODES, node)
        redis.call ('SREM', rooms, room)
        sync = '0'
    else
        redis.call ('HSET', NODES, node, count)
        redis.call ('SADD', rooms, room)
    end
    if sync == '1' then
        redis.call ('SADD', GATE, node)
    else
        -- A node that no longer gates counts as having acked
        redis.call ('SREM', GATE, node)
        redis.call ('SREM', HOLDERS, node)
    end
end

if op == 'send' then
    -- ARGV: 5 priority, 6 producer, 7 payload, 8 max-backlog
    bind (room)
    local max_backlog = tonumber (ARGV[8])
    if redis.call ('ZCARD', Q) >= max_backlog then
        return redis.error_reply ('429 room \'' .. room .. '\' is full (max-backlog ' .. max_backlog .. ')')
    end
    local seq = string.format ('%020d', redis.call ('INCR', P .. ':seq'))
    -- Higher priority first; among equals, the zero-padded seq keeps FIFO
    redis.call ('ZADD', Q, -tonumber (ARGV[5]), seq)
    redis.call ('HSET', H, seq, ARGV[5] .. '\n' .. now_ms () .. '\n' .. ARGV[6])
    redis.call ('HSET', D, seq, ARGV[7])
    redis.call ('INCR', BACKLOG)
    process ()
    return tonumber (seq)
elseif op == 'oob' then
    -- ARGV: 5 payload; answers the members reached, all nodes together
    bind (room)
    publish (cmsgpack.pack ({'O', room, '', '', ARGV[5]}))
    local reached = 0
    for _, count in ipairs (redis.call ('HVALS', NODES)) do
        reached = reached + tonumber (count)
    end
    return reached
elseif op == 'ack' then
    -- ARGV: 5 node, 6 seq: the node's members are done with the message
    bind (room)
    if redis.call ('HGET', FL, 'seq') == ARGV[6] and redis.call ('SREM', HOLDERS, ARGV[5]) == 1 then
        process ()
    end
    return 0
elseif op == 'members' then
    -- ARGV: 5 node, 6 count, 7 sync, 8 '1' when the node announces again
    -- after a lost connection (what it owed acks for is over). Answers 1,
    -- as alive does, if the node was not known: swept while it could not
    -- say so, it must announce its other rooms again (its presence refresh
    -- would find it known now)
    bind (room)
    local unknown = redis.call ('ZADD', ALIVE, now_ms (), ARGV[5])
    members (ARGV[5], tonumber (ARGV[6]), ARGV[7])
    if ARGV[8] == '1' then
        redis.call ('SREM', HOLDERS, ARGV[5])
    end
    process ()
    return unknown
elseif op == 'peek' then
    -- ARGV: 5 offset, 6 limit; answers backlog, now, then seq, header and
    -- payload of each pending message in release order
    bind (room)
    local offset, limit = tonumber (ARGV[5]), tonumber (ARGV[6])
    local backlog = redis.call ('ZCARD', Q)
    local out = { backlog, now_ms () }
    -- An offset past the backlog reads nothing: ZRANGE would refuse one
    -- past 2^53, which Lua's numbers cannot say exactly
    if limit > 0 and offset < backlog then
        for _, seq in ipairs (redis.call ('ZRANGE', Q, offset, math.min (offset + limit, backlog) - 1)) do
            table.insert (out, seq)
            table.insert (out, redis.call ('HGET', H, seq))
            table.insert (out, redis.call ('HGET', D, seq))
        end
    end
    return out
elseif op == 'state' then
    -- Answers backlog, the in-flight seq, header and release time ('' if
    -- none), the holders still to ack, then per node: id, member count,
    -- gates (0/1), still holds (0/1), last seen (ms)
    bind (room)
    local flight = redis.call ('HMGET', FL, 'seq', 'header', 'released')
    local out = { redis.call ('ZCARD', Q), flight[1] or '', flight[2] or '', flight[3] or '',
                  redis.call ('SCARD', HOLDERS) }
    local nodes = redis.call ('HGETALL', NODES)
    for index = 1, #nodes, 2 do
        local node = nodes[index]
        table.insert (out, node)
        table.insert (out, tonumber (nodes[index + 1]))
        table.insert (out, redis.call ('SISMEMBER', GATE, node))
        table.insert (out, redis.call ('SISMEMBER', HOLDERS, node))
        table.insert (out, tonumber (redis.call ('ZSCORE', ALIVE, node) or '0'))
    end
    return out
elseif op == 'metrics' then
    -- ARGV: 5 top. Answers the shard's rooms, rooms with a backlog,
    -- backlog, members, rooms in flight, then the top rooms and backlogs
    local top = tonumber (ARGV[5])
    local out = { redis.call ('SCARD', ALL), redis.call ('ZCARD', ROOMS), tonumber (redis.call ('GET', BACKLOG) or '0'),
                  tonumber (redis.call ('GET', MEMBERS) or '0'), redis.call ('SCARD', FLYING) }
    if top > 0 then
        local ranked = redis.call ('ZREVRANGE', ROOMS, 0, top - 1, 'WITHSCORES')
        for index = 1, #ranked, 2 do
            table.insert (out, ranked[index])
            table.insert (out, tonumber (ranked[index + 1]))
        end
    end
    return out
elseif op == 'alive' then
    -- ARGV[3] is the node: it is alive now. Answers 1 if it was not known:
    -- new, or swept while it could not say so (a pause longer than
    -- node-timeout), so it must announce its rooms again
    return redis.call ('ZADD', ALIVE, now_ms (), room)
elseif op == 'sweep' then
    -- ARGV: 3 the sweeping node, 5 node-timeout ms. One sweep per shard per
    -- half timeout, whichever node gets the lock; a node silent for the
    -- timeout leaves all its rooms, which move on without it
    local timeout = tonumber (ARGV[5])
    if not redis.call ('SET', P .. ':sweep', room, 'NX', 'PX', math.floor (timeout / 2)) then
        return 0
    end
    local dead = redis.call ('ZRANGEBYSCORE', ALIVE, '-inf', '(' .. (now_ms () - timeout))
    for _, node in ipairs (dead) do
        local rooms = P .. ':node:' .. node
        for _, name in ipairs (redis.call ('SMEMBERS', rooms)) do
            bind (name)
            members (node, 0, '0')
            process ()
        end
        redis.call ('DEL', rooms)
        redis.call ('ZREM', ALIVE, node)
    end
    return #dead
end
return redis.error_reply ('400 unknown operation ' .. tostring (op))
