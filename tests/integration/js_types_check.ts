// Compiled (not run) by test_js_package.py with `tsc --noEmit --strict`: clients/js/zgate.d.ts must accept
// this use of the client, and refuse each line marked @ts-expect-error.
import { ZgateClient, ZgateError, type Task, type RoomMessage } from '../../clients/js/zgate.js';
import { decode, encode } from '../../clients/js/msgpack.js';

async function use (): Promise<void> {
    const zg = new ZgateClient('ws://127.0.0.1:8080/ws', { msgpack: true, requestTimeout: 5000 });
    const stop: () => void = zg.on('message', (data, topic: string) => console.log(topic, data));
    stop();
    zg.on('close', (info) => console.log(info.code, info.willReconnect));
    zg.on('client', (client: string) => console.log(client));
    await zg.subscribe('chat.*', (data, topic) => console.log(topic, data));
    await zg.publish('chat.lobby', new Uint8Array([1, 2]));
    const id: string = await zg.send('jobs', { n: 1 }, { reply: true, ackTimeout: 100 });
    const reply: unknown = await zg.call('jobs', 'x', { timeout: 100, onAccepted: (task: string) => task });
    const one: unknown = await zg.command('resize/640', 'cat.png');
    const all: unknown[] = await zg.command('health', undefined, { scatter: true });
    await zg.consume('jobs', (task: Task) => task.ack(String(task.data)), { prefetch: 2 });
    await zg.join('moves', (message: RoomMessage) => message.ack(), { manual: true, onEvicted: (room) => room });
    const client: string | null = zg.roomClient;
    const bytes: Uint8Array = encode({ a: [1, 2n, null] });
    const back: unknown = decode(bytes);
    try {
        await zg.ping();
    }
    catch (err) {
        if (err instanceof ZgateError && err.code === 'timeout')
            console.log(err.frame);
    }
    console.log(id, reply, one, all, client, back);
    // @ts-expect-error: an unknown event
    zg.on('nonsense', () => undefined);
    // @ts-expect-error: a send's options have no scatter
    await zg.send('jobs', 1, { scatter: true });
    // @ts-expect-error: msgpack is a boolean
    new ZgateClient('ws://x', { msgpack: 'yes' });
    await zg.close();
}

void use;
