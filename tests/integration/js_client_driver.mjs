// Drives one zgate.js client for test_js_client.py: one JSON command per stdin line, one JSON event per
// stdout line. Command: {"id": n, "call": method, "args": [...]}; answer: {"id": n, "ok": value} or
// {"id": n, "error": {"code", "message"}}. Deliveries are printed as {"event": ...} lines.
//
//   node [--experimental-websocket] js_client_driver.mjs ws://127.0.0.1:PORT/ws [msgpack]
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ZgateClient } from '../../clients/js/zgate.js';

const print = (object) => process.stdout.write(JSON.stringify(object) + '\n');

// Uint8Array payloads (binary native payloads) are printed as {"bytes": base64}.
const plain = (data) => (data instanceof Uint8Array ? { bytes: Buffer.from(data).toString('base64') } : data);

// Node 22 has a WebSocket, Node 20 behind --experimental-websocket; Node 18 uses the ws package
// that `npm ci` in tests/browser installs.
const WebSocket = globalThis.WebSocket
    ?? (await import(new URL('../browser/node_modules/ws/wrapper.mjs', import.meta.url))).WebSocket;

const zg = new ZgateClient(process.argv[2], {
    WebSocket,
    msgpack: process.argv[3] === 'msgpack',
    requestTimeout: 5000,
    backoffInitial: 100,
    backoffMax: 1000,
    pingInterval: 1000,
    // A gateway with security: the token is read from this file at each connection (a test rotates it)
    token: process.env.ZGATE_TOKEN_FILE ? () => readFileSync(process.env.ZGATE_TOKEN_FILE, 'utf8').trim() : null,
});
zg.on('open', () => print({ event: 'open' }));
zg.on('close', (info) => print({ event: 'close', willReconnect: info.willReconnect, code: info.code }));
zg.on('reconnecting', (info) => print({ event: 'reconnecting', attempt: info.attempt, delay: info.delay }));
zg.on('unrecovered', (info) => print({ event: 'unrecovered', ...info }));
zg.on('error', (err) => print({ event: 'error', code: err.code ?? null, message: err.message }));

// How a consumer answers a task: its data upper-cased, a nack on the first attempt, a fail, or nothing
// (manual: the test acks later with the `ackTask` call).
const workers = {
    upper: (task) => String(task.data).toUpperCase(),
    'nack-first': (task) => {
        if (task.attempt === 1)
            throw new Error('first attempt refused');
        return `done on attempt ${task.attempt}`;
    },
    fail: (task) => task.fail('cannot do it'),
    manual: () => undefined,
};

const heldTasks = new Map();     // id -> task, for manual consumers
const heldRoom = new Map();      // room -> last message, for manual members

const calls = {
    subscribe: (topic, options) => zg.subscribe(topic, (data, name, frame) =>
        print({ event: 'message', topic: name, data: plain(data), seq: frame.seq }), options),
    unsubscribe: (topic) => zg.unsubscribe(topic),
    authenticate: () => zg.authenticate(),
    publish: (topic, data) => zg.publish(topic, data),
    publishBytes: (topic, base64) => zg.publish(topic, new Uint8Array(Buffer.from(base64, 'base64'))),
    send: (queue, data, options) => zg.send(queue, data, options),
    call: (queue, data, options) => zg.call(queue, data, {
        ...options,
        onAccepted: (id) => print({ event: 'accepted', id }),
    }),
    command: (command, data, options) => zg.command(command, data, options)
        .then((reply) => (Array.isArray(reply) ? reply.map(plain) : reply)),
    consume: (queue, mode, prefetch) => zg.consume(queue, (task) => {
        print({ event: 'task', queue: task.queue, id: task.id, data: plain(task.data), attempt: task.attempt });
        heldTasks.set(task.id, task);
        return workers[mode](task);
    }, { prefetch, manual: mode === 'manual' || mode === 'fail' }),
    cancel: (queue) => zg.cancel(queue),
    ackTask: (id, data) => heldTasks.get(id).ack(data),
    taskState: (id) => zg.taskState(id),
    take: (queue, ackTimeout) => zg.take(queue, ackTimeout),
    finish: (id, data) => zg.finish(id, data),
    retry: (id) => zg.retry(id),
    join: (room, manual, observer) => zg.join(room, (message) => {
        print({ event: 'room', room: message.room, seq: message.seq, token: message.token,
                data: plain(message.data) });
        heldRoom.set(message.room, message);
    }, {
        manual: Boolean(manual),
        observer: Boolean(observer),
        onOob: (data, room) => print({ event: 'oob', room, data: plain(data) }),
        onEvicted: (room, reason) => print({ event: 'evicted', room, reason }),
        onTimeout: (client, room, reason) => print({ event: 'timeout', room, client, reason }),
    }),
    leave: (room) => zg.leave(room),
    ackRoom: (room) => heldRoom.get(room).ack(),
    sendRoom: (room, data, options) => zg.sendRoom(room, data, options),
    peek: (room, options) => zg.peek(room, options),
    roomState: (room) => zg.roomState(room),
    request: (frame) => zg.request(frame),
    close: () => zg.close(),
    // The connection drops under the client, which reconnects by itself
    drop: () => zg.socket.close(4000, 'dropped by the test'),
};

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
    const { id, call, args = [] } = JSON.parse(line);
    Promise.resolve()
        .then(() => calls[call](...args))
        .then(
            (value) => print({ id, ok: value === undefined ? null : plain(value) }),
            (err) => print({ id, error: { code: err.code ?? null, message: err.message } }));
});
// stdin closing ends the test: close the client; the process must then exit by itself (no timers left).
input.on('close', () => zg.close());
