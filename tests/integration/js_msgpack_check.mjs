// Drives clients/js/msgpack.js for test_js_package.py: each stdin line is base64 msgpack; each stdout line
// is {"again": base64 of the value encoded again} or {"error": message}.
//
//   node js_msgpack_check.mjs
import { createInterface } from 'node:readline';
import { decode, encode } from '../../clients/js/msgpack.js';

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
    try {
        const again = encode(decode(new Uint8Array(Buffer.from(line, 'base64'))));
        process.stdout.write(JSON.stringify({ again: Buffer.from(again).toString('base64') }) + '\n');
    }
    catch (err) {
        process.stdout.write(JSON.stringify({ error: `${err.name}: ${err.message}` }) + '\n');
    }
});
