// A Node worker for a zgate queue: takes tasks over the WebSocket and replies to each.
//
//   node --experimental-websocket examples/web/worker.mjs [ws://127.0.0.1:8080/ws] [queue]
//
// (Node 22 and later have a WebSocket built in; on Node 20 either pass --experimental-websocket or
// `npm install ws`, which this script then uses.) Feed it with the native producer: producer.py.
import { ZgateClient } from '../../clients/js/zgate.js';

const [url = 'ws://127.0.0.1:8080/ws', queue = 'thumbnails'] = process.argv.slice(2);
const WebSocket = globalThis.WebSocket ?? (await import('ws')).WebSocket;

const zg = new ZgateClient(url, { WebSocket });
zg.on('open', () => console.log(`connected to ${url}`));
zg.on('close', ({ willReconnect }) => console.log(willReconnect ? 'connection lost, reconnecting' : 'closed'));
zg.on('error', (err) => console.error(`error ${err.code ?? ''}: ${err.message}`));

// The handler's return value is the reply (an ack); throwing would nack the task for another attempt.
await zg.consume(queue, async (task) => {
    console.log(`task ${task.id} (attempt ${task.attempt}): ${JSON.stringify(task.data)}`);
    const image = typeof task.data === 'object' && task.data !== null ? task.data.image : String(task.data);
    await new Promise((resolve) => setTimeout(resolve, 100));         // the "work"
    return { image, thumbnail: `${image}.thumb.png`, worker: process.pid };
}, { prefetch: 4 });
console.log(`serving queue ${queue}; Ctrl-C to stop`);

process.on('SIGINT', () => zg.close().then(() => process.exit(0)));
