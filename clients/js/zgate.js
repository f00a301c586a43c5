// zgate.js: the JavaScript client of zgate's WebSocket gateway (`/ws`), one ES module for browsers and Node.
//
//   import { ZgateClient } from '/zgate.js';              // served by zgate itself
//   const zg = new ZgateClient('ws://127.0.0.1:8080/ws');
//   await zg.subscribe('chat.*', (data, topic) => console.log(topic, data));
//   await zg.publish('chat.lobby', { text: 'hello' });
//
// Browsers have a WebSocket; Node 20 has none unless started with --experimental-websocket, so pass one:
// `new ZgateClient(url, { WebSocket: (await import('ws')).WebSocket })`.
//
// With { msgpack: true } the session speaks msgpack in binary frames instead of JSON in text frames: binary
// payloads then travel as bytes (Uint8Array both ways) rather than base64. msgpack.js, beside this file (and
// served by zgate at /msgpack.js), does the encoding.
//
// The client reconnects by itself (bounded exponential backoff with jitter) and restores what the session
// had: topic subscriptions, room memberships and queue consumers. Requests return promises that resolve with
// the gateway's answer and reject with a ZgateError carrying the gateway's `code` and `message`. The wire
// protocol is section 4 of docs/PROTOCOL.md.
//
// A gateway with security on wants a token (a JWT): `new ZgateClient(url, { token })`, where token is the
// JWT or a function (may be async) that returns a fresh one. Each connection authenticates with it first
// (the `auth` op); `authenticate()` renews it on the open connection before it expires. A connection closed
// with 4001 (token expired) reconnects only when token is a function.

import { encode, decode } from './msgpack.js';

const DEFAULTS = {
    msgpack: false,             // binary frames in msgpack instead of text frames in JSON
    requestTimeout: 10000,      // ms before a request without an answer rejects (code 'timeout')
    connectTimeout: 10000,      // ms a connection attempt may take before it counts as failed
    reconnect: true,            // reconnect after the connection drops
    backoffInitial: 250,        // ms before the first reconnect attempt
    backoffMax: 10000,          // ms, the longest wait between attempts
    backoffFactor: 2,           // growth of the wait per failed attempt
    jitter: 0.5,                // each wait is drawn from [wait * (1 - jitter), wait]
    pingInterval: 5000,         // ms between pings while the session is a member of a room; 0 for none
    token: null,                // a JWT, or a function returning one (or its promise), for gateways with security
};

// The gateway's close codes of authentication (docs/PROTOCOL.md 4)
export const CLOSE_TOKEN_EXPIRED = 4001;
export const CLOSE_NO_AUTH = 4002;

// Local error codes, beside the gateway's numeric ones.
const CLIENT_ERRORS = {
    timeout: 'no answer before the request timeout',
    disconnected: 'the connection closed before the answer arrived',
    closed: 'the client is closed',
    stale: 'this delivery came on an earlier connection, whose deliveries the gateway has taken back',
    protocol: 'the gateway sent a frame that is not an object',
};

export class ZgateError extends Error {
    constructor (code, message, frame = null) {
        super(message || CLIENT_ERRORS[code] || String(code));
        this.name = 'ZgateError';
        this.code = code;       // the gateway's numeric code, or one of CLIENT_ERRORS' names
        this.frame = frame;     // the gateway's `error` object, when there is one
    }
}

function clientError (code) {
    return new ZgateError(code, CLIENT_ERRORS[code]);
}

// Native payloads that are not JSON reach text clients as base64 with `binary: true` (PROTOCOL.md 4).
function decodeData (frame) {
    if (!frame.binary || typeof frame.data !== 'string')
        return frame.data;
    const text = atob(frame.data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++)
        bytes[i] = text.charCodeAt(i);
    return bytes;
}

// The subscribe frame that resumes a subscription where it was: after the last message seen of a topic
// that remembers (a prefix subscription spans topics, each with its own numbers: it does not resume).
function recoveryFrame (entry) {
    if (!entry.position || entry.frame.topic.endsWith('*'))
        return entry.frame;
    return { op: 'subscribe', topic: entry.frame.topic, since: entry.position };
}

export class ZgateClient {
    constructor (url, options = {}) {
        this.url = url;
        this.options = { ...DEFAULTS, ...options };
        this.WebSocket = options.WebSocket || globalThis.WebSocket;
        if (typeof this.WebSocket !== 'function')
            throw new TypeError('zgate: no WebSocket; pass { WebSocket } (e.g. from the "ws" package) '
                                + 'or run Node with --experimental-websocket');
        this.socket = null;             // the current WebSocket, or null while disconnected
        this.openSocket = null;         // the last WebSocket that opened
        this.generation = 0;            // counts connections, so deliveries know which one they came from
        this.attempt = 0;               // failed connection attempts since the last success
        this.closed = false;            // set by close(): no more reconnects
        this.nextReq = 1;               // next request id
        this.lastSent = 0;              // Date.now() of the last request that keeps room membership alive
        this.pending = new Map();       // req -> { resolve, reject, timer } for requests sent on the socket
        this.outbox = [];               // requests made while disconnected, sent on the next open
        this.replies = new Map();       // req of a call() -> { resolve, reject, timer } until its reply
        this.listeners = new Map();     // event name -> Set of listeners
        // What reconnecting restores, keyed by topic / queue / room. Each entry keeps its request and the
        // promises of callers waiting for the gateway to confirm it.
        this.subscriptions = new Map();  // topic -> { frame, handler, waiters }
        this.consumers = new Map();      // queue -> { frame, handler, manual, waiters }
        this.rooms = new Map();          // room -> { frame, handler, manual, onOob, onEvicted, waiters }
        this.connectTimer = null;       // fails a connection attempt that takes too long
        this.reconnectTimer = null;     // the next connection attempt
        this.pingTimer = null;          // the next room keepalive
        this.openWaiters = [];          // resolvers of ready()
        this.roomClient = null;         // this session's rooms client id (as room states name it), from a join
        this._connect();
    }

    // ---- events: open, close, reconnecting, error, frame (every object received), message, task, reply,
    //      room, oob, evicted, timeout, unknown, client (this session's rooms client id, new on each connection)

    on (event, listener) {
        if (!this.listeners.has(event))
            this.listeners.set(event, new Set());
        this.listeners.get(event).add(listener);
        return () => this.off(event, listener);
    }

    off (event, listener) {
        const set = this.listeners.get(event);
        if (set)
            set.delete(listener);
    }

    _emit (event, ...args) {
        const set = this.listeners.get(event);
        if (!set)
            return;
        for (const listener of [...set]) {
            try {
                listener(...args);
            }
            catch (err) {
                // A faulty listener must not break the client's own bookkeeping.
                if (event !== 'error')
                    this._emit('error', err);
            }
        }
    }

    // Open and, with a token, authenticated
    get connected () {
        return this.socket !== null && this.socket === this.openSocket && this.socket.readyState === 1;
    }

    // Sends the token (the option's, or this one, which becomes the option) on the open connection: renews
    // the session before its token expires. Resolves with the gateway's ok ({ sub, exp }).
    async authenticate (token = undefined) {
        if (token !== undefined)
            this.options.token = token;
        if (!this.connected)
            throw clientError('disconnected');
        return this._sendAuth(this.socket);
    }

    async _sendAuth (socket) {
        const option = this.options.token;
        const token = typeof option === 'function' ? await option() : option;
        if (socket !== this.socket)
            throw clientError('disconnected');
        const req = this.nextReq++;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(req);
                reject(clientError('timeout'));
            }, this.options.requestTimeout);
            this.pending.set(req, { resolve, reject, timer });
            socket.send(JSON.stringify({ op: 'auth', token, req }));
        });
    }

    // Resolves when the connection is open (at once if it is).
    ready () {
        if (this.connected)
            return Promise.resolve();
        if (this.closed)
            return Promise.reject(clientError('closed'));
        return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    }

    // ---- topics

    // handler (data, topic, frame) gets every message on `topic`; a trailing `*` subscribes to a prefix.
    // Topics that remember (topics/history) number their messages: the client keeps the last seq and epoch
    // of each subscribed topic and, after a reconnect, gets what it missed before live messages, or an
    // `unrecovered` event ({ topic, seq, epoch }) when the gap could not be filled. With { last: true } the
    // subscription starts with the topic's last message (MQTT's retained message).
    subscribe (topic, handler, { last = false } = {}) {
        const frame = { op: 'subscribe', topic };
        if (last)
            frame.last = true;
        return this._keep(this.subscriptions, topic, { frame, handler });
    }

    unsubscribe (topic) {
        return this._drop(this.subscriptions, topic, { op: 'unsubscribe', topic });
    }

    publish (topic, data) {
        return this.request({ op: 'publish', topic, data });
    }

    // ---- queues

    // Enqueues a task; resolves with the task id. With { reply: true } the worker's reply comes back as a
    // `reply` event (or use call(), which waits for it). Options: priority, timeout (reply, ms), ackTimeout
    // (the `ack-timeout` field: ms its worker may hold it), ttl (ms it may wait in its queue).
    send (queue, data, { reply = false, priority, timeout, ackTimeout, ttl } = {}) {
        const frame = { op: 'send', queue, data };
        if (reply)
            frame.reply = true;
        if (priority !== undefined)
            frame.priority = priority;
        if (timeout !== undefined)
            frame.timeout = timeout;
        if (ackTimeout !== undefined)
            frame['ack-timeout'] = ackTimeout;
        if (ttl !== undefined)
            frame.ttl = ttl;
        return this.request(frame).then((answer) => answer.id);
    }

    // Enqueues a task with { reply: true } and resolves with the worker's reply data; rejects with the
    // gateway's error (408 reply timeout, 410 dead, 422 failed). `timeout` (ms) is the gateway's reply
    // timeout (its default when absent); onAccepted (id) is told the task id as soon as it is known.
    call (queue, data, { timeout, priority, onAccepted = null } = {}) {
        return this._awaitReply({ op: 'send', queue, data, reply: true },
                                { timeout, priority, onAccepted, gathered: null });
    }

    // Command mode: runs `command` ("name" or "name/params...", with `data` appended after a "/") on a worker
    // serving `name`, resolving with its reply data; with { scatter: true } on every such worker, resolving
    // with the array of their replies' data once all have answered or the gateway's reply timeout passed.
    // Rejects with 404 when no worker serves `name`, and as call() does otherwise. A null or undefined
    // `data` adds nothing to the line.
    command (command, data, { scatter = false, timeout, priority, onAccepted = null } = {}) {
        const frame = { op: 'call', command };
        if (data !== undefined && data !== null)
            frame.data = data;
        if (scatter)
            frame.scatter = true;
        return this._awaitReply(frame, { timeout, priority, onAccepted, gathered: scatter ? [] : null });
    }

    // Sends a request whose reply (or replies) come later on its req; resolves with the reply data
    _awaitReply (frame, { timeout, priority, onAccepted, gathered }) {
        const req = this.nextReq++;
        frame.req = req;
        if (timeout !== undefined)
            frame.timeout = timeout;
        if (priority !== undefined)
            frame.priority = priority;
        // The gateway answers within its reply timeout; the local one only guards against a lost answer.
        const patience = (timeout ?? this.options.requestTimeout) + this.options.requestTimeout;
        const replied = new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.replies.delete(req);
                reject(clientError('timeout'));
            }, patience);
            this.replies.set(req, { resolve, reject, timer, gathered });
        });
        this.request(frame).then(
            (answer) => {
                if (onAccepted)
                    this._call(onAccepted, answer.id);
            },
            (err) => this._settleReply(req, null, err));
        return replied;
    }

    // handler (task) gets each task: { queue, id, data, attempt, ack (data?), nack (), fail (reason?) }.
    // Unless `manual`, the value the handler returns (or resolves to) is the ack's reply, and a throw nacks
    // the task. The session's prefetch (default 1) applies to all the queues it consumes.
    consume (queue, handler, { prefetch, manual = false } = {}) {
        const frame = { op: 'consume', queue };
        if (prefetch !== undefined)
            frame.prefetch = prefetch;
        return this._keep(this.consumers, queue, { frame, handler, manual });
    }

    // Stops taking tasks from `queue`; tasks already held stay held until acked.
    cancel (queue) {
        return this._drop(this.consumers, queue, { op: 'cancel', queue });
    }

    // The task's state map (section 2.2 of PROTOCOL.md), while zgate keeps it.
    taskState (id) {
        return this.request({ op: 'task', id });
    }

    // Pulls the first waiting task of `queue` (section 2.9): resolves with { id, queue, attempt, data },
    // or with null when nothing waits. Unless finished or retried within `ackTimeout` ms (default: the
    // task's own) it goes back to its queue.
    take (queue, ackTimeout) {
        const frame = ackTimeout === undefined ? { op: 'take', queue } : { op: 'take', queue, ack_timeout: ackTimeout };
        return this.request(frame).then((answer) => (answer.id === undefined ? null : answer));
    }

    // A taken task is done, with `data` as its reply.
    finish (id, data) {
        return this.request(data === undefined ? { op: 'finish', id } : { op: 'finish', id, data });
    }

    // A taken task goes back to the tail of its queue.
    retry (id) {
        return this.request({ op: 'retry', id });
    }

    // ---- rooms

    // handler (message) gets each released message: { room, seq, token, data, ack () }; unless `manual`
    // the client acks when the handler returns (or its promise settles). With { observer: true } the
    // session joins as an async member: it gets every message without a token and never holds the room.
    // onOob (data, room), onEvicted (room, reason) and, for observers, onTimeout (client, room, reason).
    join (room, handler,
          { manual = false, observer = false, onOob = null, onEvicted = null, onTimeout = null } = {}) {
        const frame = { op: 'join', room };
        if (observer)
            frame.mode = 'async';
        return this._keep(this.rooms, room, { frame, handler, manual, onOob, onEvicted, onTimeout })
            .then((answer) => {
                this._schedulePing();
                return answer;
            });
    }

    leave (room) {
        return this._drop(this.rooms, room, { op: 'leave', room });
    }

    // Sends to a room's queue, resolving with { seq }; { priority } (lower first), or { oob: true } to
    // reach the current members at once, resolving with { count }.
    sendRoom (room, data, { priority, oob = false, producer } = {}) {
        const frame = { op: 'send', room, data };
        if (priority !== undefined)
            frame.priority = priority;
        //  The producer peek shows (docs/PROTOCOL.md 3.6)
        if (producer !== undefined)
            frame.producer = producer;
        if (oob)
            frame.oob = true;
        return this.request(frame);
    }

    ackRoom (room, token) {
        return this.request({ op: 'ack', room, token });
    }

    // Pending messages in release order: { room, backlog, offset, messages: [{ seq, priority, queued, data }] }.
    peek (room, { offset, limit } = {}) {
        const frame = { op: 'peek', room };
        if (offset !== undefined)
            frame.offset = offset;
        if (limit !== undefined)
            frame.limit = limit;
        return this.request(frame);
    }

    // { room, backlog, hold, ack_timeout, priority_order, in_flight, members: [{ client, async, last_seen, acked }],
    //   acked }
    roomState (room) {
        return this.request({ op: 'state', room });
    }

    // { rooms, rooms_with_backlog, top_rooms: [{ room, backlog }], backlog, clients, members, in_flight }
    roomMetrics (top) {
        return this.request(top === undefined ? { op: 'metrics' } : { op: 'metrics', top });
    }

    ping () {
        return this.request({ op: 'ping' });
    }

    // ---- closing

    // Closes for good: no reconnect; pending requests reject with code 'closed'. Resolves once closed.
    close () {
        this.closed = true;
        clearTimeout(this.connectTimer);
        clearTimeout(this.reconnectTimer);
        clearTimeout(this.pingTimer);
        this._failAll(clientError('closed'));
        for (const waiter of this.openWaiters.splice(0))
            waiter.reject(clientError('closed'));
        for (const registry of [this.subscriptions, this.consumers, this.rooms]) {
            for (const entry of registry.values())
                this._settleWaiters(entry, null, clientError('closed'));
            registry.clear();
        }
        const socket = this.socket;
        if (!socket)
            return Promise.resolve();
        if (socket.readyState !== 1) {
            this.socket = null;
            this._abandon(socket);
            return Promise.resolve();
        }
        // Wait for the closing handshake, but not for ever: a vanished server never answers it.
        return new Promise((resolve) => {
            const timer = setTimeout(resolve, this.options.connectTimeout);
            socket.addEventListener('close', () => {
                clearTimeout(timer);
                resolve();
            });
            socket.close(1000, 'client closed');
        });
    }

    // ---- any op

    // Sends any op and resolves with its answer, or rejects with a ZgateError. A `req` is added unless the
    // frame has one.
    request (frame) {
        if (this.closed)
            return Promise.reject(clientError('closed'));
        return new Promise((resolve, reject) => {
            const req = frame.req ?? this.nextReq++;
            const message = { ...frame, req };
            const entry = { resolve, reject, timer: null, message };
            entry.timer = setTimeout(() => {
                this.pending.delete(req);
                const queued = this.outbox.indexOf(entry);
                if (queued >= 0)
                    this.outbox.splice(queued, 1);
                reject(clientError('timeout'));
            }, this.options.requestTimeout);
            if (this.connected)
                this._transmit(entry);
            else
                this.outbox.push(entry);
        });
    }

    // ---- internals: what reconnecting restores

    // Remembers a subscription / consumer / membership so reconnecting restores it, and asks the gateway.
    _keep (registry, key, entry) {
        const previous = registry.get(key);
        entry.waiters = previous ? previous.waiters : [];
        entry.confirmed = false;
        registry.set(key, entry);
        // A new handler for what the gateway already has needs no new request.
        if (previous && previous.confirmed && JSON.stringify(previous.frame) === JSON.stringify(entry.frame)) {
            entry.confirmed = true;
            return Promise.resolve({ op: 'ok' });
        }
        // The caller waits for the gateway's answer, across a reconnection if need be, at most a request
        // timeout; the entry itself stays until the gateway refuses it or the caller drops it.
        const confirmed = new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                const index = entry.waiters.indexOf(waiter);
                if (index >= 0) {
                    entry.waiters.splice(index, 1);
                    reject(clientError('timeout'));
                }
            }, this.options.requestTimeout);
            const waiter = {
                resolve: (value) => { clearTimeout(timer); resolve(value); },
                reject: (err) => { clearTimeout(timer); reject(err); },
            };
            entry.waiters.push(waiter);
        });
        if (this.connected)
            this._restore(registry, key, entry);
        return confirmed;
    }

    _restore (registry, key, entry) {
        entry.confirmed = false;
        this.request(registry === this.subscriptions ? recoveryFrame(entry) : entry.frame).then(
            (answer) => {
                entry.confirmed = true;
                if (registry === this.subscriptions)
                    this._onRecovery(key, entry, answer);
                // Each connection is a new rooms client: its id comes with the join answers
                if (typeof answer.client === 'string' && answer.client !== this.roomClient) {
                    this.roomClient = answer.client;
                    this._emit('client', answer.client);
                }
                this._settleWaiters(entry, answer, null);
            },
            (err) => {
                // A lost connection keeps the entry for the next open (its callers wait on); a refusal
                // by the gateway (a numeric code) forgets it; a timeout keeps it for the next connection.
                if (err.code === 'disconnected' || err.code === 'closed')
                    return;
                if (typeof err.code === 'number' && registry.get(key) === entry)
                    registry.delete(key);
                if (entry.waiters.length === 0)
                    this._emit('error', err);
                this._settleWaiters(entry, null, err);
            });
    }

    _settleWaiters (entry, answer, err) {
        for (const waiter of entry.waiters.splice(0)) {
            if (err)
                waiter.reject(err);
            else
                waiter.resolve(answer);
        }
    }

    _drop (registry, key, frame) {
        const entry = registry.get(key);
        registry.delete(key);
        if (entry)
            this._settleWaiters(entry, null, new ZgateError('closed', `${frame.op} before the gateway confirmed`));
        return this.request(frame);
    }

    _failAll (err) {
        for (const [req, entry] of this.pending) {
            clearTimeout(entry.timer);
            this.pending.delete(req);
            entry.reject(err);
        }
        for (const entry of this.outbox.splice(0)) {
            clearTimeout(entry.timer);
            entry.reject(err);
        }
        for (const [id, waiter] of this.replies) {
            clearTimeout(waiter.timer);
            this.replies.delete(id);
            waiter.reject(err);
        }
    }

    // ---- internals: connection

    _connect () {
        let socket;
        try {
            socket = new this.WebSocket(this.url);
        }
        catch (err) {
            this._emit('error', err);
            this._scheduleReconnect();
            return;
        }
        this.socket = socket;
        if (this.options.msgpack)
            socket.binaryType = 'arraybuffer';
        const failed = () => {
            if (socket === this.socket && socket.readyState !== 1) {
                this._onClose(socket, { code: 1006, reason: 'connection failed' });
                this._abandon(socket);
            }
        };
        clearTimeout(this.connectTimer);
        this.connectTimer = setTimeout(failed, this.options.connectTimeout);
        socket.addEventListener('open', () => {
            clearTimeout(this.connectTimer);
            this._onOpen(socket);
        });
        socket.addEventListener('message', (event) => this._onMessage(socket, event.data));
        socket.addEventListener('close', (event) => {
            clearTimeout(this.connectTimer);
            this._onClose(socket, event);
        });
        // Browsers follow `error` with `close`; Node 20's WebSocket does not when the connection is refused.
        socket.addEventListener('error', () => {
            clearTimeout(this.connectTimer);
            failed();
        });
    }

    // Closes a socket that is not open and that the client has already forgotten (its events are ignored).
    _abandon (socket) {
        try {
            socket.close();
        }
        catch {
            // Some implementations refuse to close a socket that is still connecting; it is forgotten anyway.
        }
    }

    // With a token, the connection is ready once the gateway accepted it; a refusal closes it (and the
    // client tries again, with a fresh token from a token function)
    _onOpen (socket) {
        if (socket !== this.socket)
            return;
        if (!this.options.token)
            return this._onReady(socket);
        this._sendAuth(socket).then(() => {
            if (socket === this.socket)
                this._onReady(socket);
        }, (err) => {
            if (socket !== this.socket)
                return;
            this._emit('error', err);
            socket.close(4000, 'authentication failed');
        });
    }

    _onReady (socket) {
        this.generation++;
        this.attempt = 0;
        this.openSocket = socket;
        this._emit('open');
        for (const waiter of this.openWaiters.splice(0))
            waiter.resolve();
        // Restore first, so a queued publish made while offline follows the subscriptions it may rely on.
        for (const registry of [this.subscriptions, this.rooms, this.consumers]) {
            for (const [key, entry] of registry)
                this._restore(registry, key, entry);
        }
        for (const entry of this.outbox.splice(0))
            this._transmit(entry);
        this._schedulePing();
    }

    _transmit (entry) {
        const { op, room } = entry.message;
        this.pending.set(entry.message.req, entry);
        if (op === 'ping' || ((op === 'join' || op === 'leave' || op === 'ack') && room !== undefined))
            this.lastSent = Date.now();
        this.socket.send(this.options.msgpack ? encode(entry.message) : JSON.stringify(entry.message));
    }

    _onClose (socket, event) {
        if (socket !== this.socket)
            return;
        this.socket = null;
        clearTimeout(this.pingTimer);
        // Answers still owed on this connection will never come: the caller decides whether to retry.
        const lost = clientError('disconnected');
        for (const [req, entry] of this.pending) {
            clearTimeout(entry.timer);
            this.pending.delete(req);
            entry.reject(lost);
        }
        for (const [id, waiter] of this.replies) {
            clearTimeout(waiter.timer);
            this.replies.delete(id);
            waiter.reject(lost);
        }
        // An expired token that cannot be renewed would only be refused again
        const hopeless = event.code === CLOSE_TOKEN_EXPIRED && typeof this.options.token !== 'function';
        const willReconnect = !this.closed && this.options.reconnect && !hopeless;
        // A failed attempt is no news: only a connection that was open announces its end.
        if (this.openSocket === socket)
            this._emit('close', { code: event.code, reason: event.reason, willReconnect });
        if (willReconnect)
            this._scheduleReconnect();
        else if (!this.closed)
            this.close();
    }

    _scheduleReconnect () {
        if (this.closed)
            return;
        const { backoffInitial, backoffMax, backoffFactor, jitter } = this.options;
        const ceiling = Math.min(backoffMax, backoffInitial * Math.pow(backoffFactor, this.attempt));
        const delay = Math.round(ceiling * (1 - jitter * Math.random()));
        this.attempt++;
        this._emit('reconnecting', { attempt: this.attempt, delay });
        this.reconnectTimer = setTimeout(() => this._connect(), delay);
    }

    // Rooms evict silent members; joins, leaves and acks count as pings, so only a quiet member pings.
    _schedulePing () {
        clearTimeout(this.pingTimer);
        const interval = this.options.pingInterval;
        if (!interval || this.rooms.size === 0 || !this.connected)
            return;
        const quiet = Date.now() - this.lastSent;
        this.pingTimer = setTimeout(() => {
            if (Date.now() - this.lastSent >= interval)
                this.ping().catch((err) => this._emit('error', err));
            this._schedulePing();
        }, Math.max(0, interval - quiet));
    }

    // ---- internals: incoming frames

    _onMessage (socket, raw) {
        if (socket !== this.socket)
            return;
        // Text frames carry JSON, binary frames msgpack (the gateway answers in the request's encoding)
        let frame;
        try {
            frame = typeof raw === 'string' ? JSON.parse(raw) : decode(raw);
            if (frame === null || typeof frame !== 'object' || Array.isArray(frame))
                throw new Error('not an object');
        }
        catch (err) {
            this._emit('error', new ZgateError('protocol', `unreadable frame from the gateway: ${err.message}`));
            return;
        }
        this._emit('frame', frame);
        if (frame.req !== undefined && frame.req !== null && this.pending.has(frame.req)) {
            const entry = this.pending.get(frame.req);
            this.pending.delete(frame.req);
            clearTimeout(entry.timer);
            if (frame.op === 'error')
                entry.reject(new ZgateError(frame.code, frame.message, frame));
            else
                entry.resolve(frame);
            return;
        }
        // A reply, or an error about a task sent with `reply`, comes later on the request's `req`.
        if (frame.op === 'error' && this.replies.has(frame.req))
            return this._settleReply(frame.req, null, new ZgateError(frame.code, frame.message, frame));
        switch (frame.op) {
            case 'message': return this._onTopicMessage(frame);
            case 'task':    return this._onTask(frame);
            case 'reply':   return this._onReply(frame);
            case 'replies': return this._settleReply(frame.req, undefined, null);
            case 'room':    return this._onRoomMessage(frame);
            case 'oob':     return this._onOob(frame);
            case 'evicted': return this._onEvicted(frame);
            case 'timeout': return this._onTimeout(frame);
            case 'error':   return this._emit('error', new ZgateError(frame.code, frame.message, frame));
            default:        return this._emit('unknown', frame);
        }
    }

    // ---- internals: topic history (seq and epoch of each subscribed topic that remembers)

    _onRecovery (topic, entry, answer) {
        if (answer.epoch === undefined && answer.recovered === undefined)
            return;
        if (answer.recovered === false)
            this._emit('unrecovered', { topic, seq: answer.seq, epoch: answer.epoch });
        if (answer.epoch !== undefined)
            entry.position = { seq: answer.seq, epoch: answer.epoch };
    }

    _onTopicMessage (frame) {
        const data = decodeData(frame);
        const exact = this.subscriptions.get(frame.topic);
        // The epoch comes with a subscription's first message and each epoch's first; the others keep it
        if (exact && frame.seq !== undefined)
            exact.position = { seq: frame.seq, epoch: frame.epoch ?? (exact.position ? exact.position.epoch : '') };
        this._emit('message', data, frame.topic, frame);
        for (const [pattern, entry] of this.subscriptions) {
            const matches = pattern.endsWith('*')
                ? frame.topic.startsWith(pattern.slice(0, -1))
                : frame.topic === pattern;
            if (matches && entry.handler)
                this._call(entry.handler, data, frame.topic, frame);
        }
    }

    _onTask (frame) {
        const generation = this.generation;
        let settled = false;
        const settle = (op, extra) => {
            if (settled)
                return Promise.resolve();
            settled = true;
            if (generation !== this.generation || !this.connected)
                return Promise.reject(clientError('stale'));
            return this.request({ op, id: frame.id, ...extra });
        };
        const task = {
            queue: frame.queue,
            id: frame.id,
            data: decodeData(frame),
            attempt: frame.attempt,
            frame,
            ack: (data) => settle('ack', data === undefined ? {} : { data }),
            nack: () => settle('nack', {}),
            fail: (reason) => settle('fail', reason === undefined ? {} : { reason: String(reason) }),
        };
        this._emit('task', task);
        const entry = this.consumers.get(frame.queue);
        if (!entry || !entry.handler)
            return;
        this._run(entry, task, (value) => task.ack(value), () => task.nack());
    }

    _onReply (frame) {
        const data = decodeData(frame);
        this._emit('reply', data, frame.id, frame);
        // A scatter call gathers its replies until `replies` comes
        const waiter = this.replies.get(frame.req);
        if (waiter && waiter.gathered)
            waiter.gathered.push(data);
        else
            this._settleReply(frame.req, data, null);
    }

    _settleReply (req, data, err) {
        const waiter = this.replies.get(req);
        if (!waiter)
            return;
        clearTimeout(waiter.timer);
        this.replies.delete(req);
        if (err)
            waiter.reject(err);
        else
            waiter.resolve(waiter.gathered ?? data);
    }

    _onRoomMessage (frame) {
        const generation = this.generation;
        let acked = false;
        const message = {
            room: frame.room,
            seq: frame.seq,
            token: frame.token,
            data: decodeData(frame),
            frame,
            ack: () => {
                // Observers get no token and owe no ack.
                if (acked || frame.token === null || frame.token === undefined)
                    return Promise.resolve();
                acked = true;
                if (generation !== this.generation || !this.connected)
                    return Promise.reject(clientError('stale'));
                return this.ackRoom(frame.room, frame.token);
            },
        };
        this._emit('room', message);
        const entry = this.rooms.get(frame.room);
        if (!entry || !entry.handler)
            return;
        // A member acks even when its handler fails: the room must not stall on one member's bug.
        this._run(entry, message, () => message.ack(), () => message.ack());
    }

    _onOob (frame) {
        const data = decodeData(frame);
        this._emit('oob', data, frame.room, frame);
        const entry = this.rooms.get(frame.room);
        if (entry && entry.onOob)
            this._call(entry.onOob, data, frame.room, frame);
    }

    _onEvicted (frame) {
        const entry = this.rooms.get(frame.room);
        // The gateway dropped the membership; rejoining is the application's choice.
        this.rooms.delete(frame.room);
        this._emit('evicted', frame.room, frame.reason, frame);
        if (entry && entry.onEvicted)
            this._call(entry.onEvicted, frame.room, frame.reason, frame);
    }

    _onTimeout (frame) {
        this._emit('timeout', frame.client, frame.room, frame.reason, frame);
        const entry = this.rooms.get(frame.room);
        if (entry && entry.onTimeout)
            this._call(entry.onTimeout, frame.client, frame.room, frame.reason, frame);
    }

    // Runs a task or room handler; unless the entry is manual, `done` settles with its result, `failed`
    // after a throw or rejection.
    _run (entry, delivery, done, failed) {
        let result;
        try {
            result = entry.handler(delivery);
        }
        catch (err) {
            this._emit('error', err);
            if (!entry.manual)
                failed().catch((e) => this._emit('error', e));
            return;
        }
        // A manual handler settles the delivery itself; a promise it returns may still fail.
        if (entry.manual) {
            Promise.resolve(result).catch((err) => this._emit('error', err));
            return;
        }
        Promise.resolve(result).then(
            (value) => done(value),
            (err) => {
                this._emit('error', err);
                return failed();
            }).catch((err) => this._emit('error', err));
    }

    _call (handler, ...args) {
        try {
            handler(...args);
        }
        catch (err) {
            this._emit('error', err);
        }
    }
}

export default ZgateClient;
