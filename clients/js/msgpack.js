// msgpack.js: the MessagePack encoding zgate.js speaks in its msgpack mode (binary WebSocket frames), one
// small ES module without dependencies so zgate serves it beside zgate.js (/msgpack.js) and a browser needs
// no build step.
//
//   import { encode, decode } from './msgpack.js';
//   decode(encode({ op: 'publish', data: new Uint8Array([1, 2]) }));   // the same object back
//
// It covers what the gateway sends and accepts (docs/PROTOCOL.md section 4.1): nil, booleans, integers,
// floats, strings, bin (Uint8Array), arrays and maps with string keys. Integers outside JavaScript's safe
// range decode as BigInt, and a BigInt encodes as a 64-bit integer. `ext` types are refused, as the gateway
// refuses them; so is anything that is not one of those values (functions, symbols, maps with other keys).

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class MsgpackError extends Error {
    constructor (message) {
        super(message);
        this.name = 'MsgpackError';
    }
}

// ---- encoding

class Writer {
    constructor () {
        this.bytes = new Uint8Array(256);
        this.view = new DataView(this.bytes.buffer);
        this.length = 0;
    }

    // Room for `size` more bytes
    reserve (size) {
        if (this.length + size <= this.bytes.length)
            return;
        let capacity = this.bytes.length * 2;
        while (capacity < this.length + size)
            capacity *= 2;
        const bytes = new Uint8Array(capacity);
        bytes.set(this.bytes.subarray(0, this.length));
        this.bytes = bytes;
        this.view = new DataView(bytes.buffer);
    }

    byte (value) {
        this.reserve(1);
        this.bytes[this.length++] = value;
    }

    // A type byte and an unsigned big-endian number of `size` bytes (1, 2 or 4)
    head (type, size, value) {
        this.reserve(1 + size);
        this.bytes[this.length++] = type;
        if (size === 1)
            this.view.setUint8(this.length, value);
        else if (size === 2)
            this.view.setUint16(this.length, value);
        else
            this.view.setUint32(this.length, value);
        this.length += size;
    }

    raw (bytes) {
        this.reserve(bytes.length);
        this.bytes.set(bytes, this.length);
        this.length += bytes.length;
    }
}

// The type byte and length field of a string, bin, array or map of `count` items
function writeLength (writer, count, fix, fixMax, type8, type16, type32) {
    if (fix !== null && count <= fixMax)
        writer.byte(fix | count);
    else if (type8 !== null && count < 0x100)
        writer.head(type8, 1, count);
    else if (count < 0x10000)
        writer.head(type16, 2, count);
    else
        writer.head(type32, 4, count);
}

function writeInteger (writer, value) {
    if (value >= 0 && value < 0x80)
        writer.byte(value);
    else if (value < 0 && value >= -32)
        writer.byte(value & 0xff);
    else if (value >= 0 && value <= 0xffffffff)
        writer.head(value < 0x100 ? 0xcc : value < 0x10000 ? 0xcd : 0xce, value < 0x100 ? 1 : value < 0x10000 ? 2 : 4,
                    value);
    else if (value < 0 && value >= -0x80000000) {
        writer.reserve(5);
        writer.bytes[writer.length++] = 0xd2;
        writer.view.setInt32(writer.length, value);
        writer.length += 4;
    }
    else
        writeBigInt(writer, BigInt(value));
}

function writeBigInt (writer, value) {
    if (value < -(2n ** 63n) || value >= 2n ** 64n)
        throw new MsgpackError(`integer ${value} does not fit in 64 bits`);
    writer.reserve(9);
    writer.bytes[writer.length++] = value < 0n ? 0xd3 : 0xcf;
    if (value < 0n)
        writer.view.setBigInt64(writer.length, value);
    else
        writer.view.setBigUint64(writer.length, value);
    writer.length += 8;
}

function write (writer, value, depth) {
    if (depth > 64)
        throw new MsgpackError('value nested deeper than 64');
    if (value === null || value === undefined)
        writer.byte(0xc0);
    else if (value === false || value === true)
        writer.byte(value ? 0xc3 : 0xc2);
    else if (typeof value === 'number') {
        if (Number.isSafeInteger(value))
            writeInteger(writer, value);
        else {
            writer.reserve(9);
            writer.bytes[writer.length++] = 0xcb;
            writer.view.setFloat64(writer.length, value);
            writer.length += 8;
        }
    }
    else if (typeof value === 'bigint')
        writeBigInt(writer, value);
    else if (typeof value === 'string') {
        const bytes = encoder.encode(value);
        writeLength(writer, bytes.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
        writer.raw(bytes);
    }
    else if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
        const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
        writeLength(writer, bytes.length, null, 0, 0xc4, 0xc5, 0xc6);
        writer.raw(bytes);
    }
    else if (Array.isArray(value)) {
        writeLength(writer, value.length, 0x90, 15, null, 0xdc, 0xdd);
        for (const item of value)
            write(writer, item, depth + 1);
    }
    else if (typeof value === 'object' && !(value instanceof Map)) {
        // undefined members are left out, as JSON.stringify leaves them out
        const entries = Object.entries(value).filter(([, item]) => item !== undefined);
        writeLength(writer, entries.length, 0x80, 15, null, 0xde, 0xdf);
        for (const [key, item] of entries) {
            write(writer, key, depth + 1);
            write(writer, item, depth + 1);
        }
    }
    else
        throw new MsgpackError(`cannot encode a ${typeof value} in msgpack`);
}

// The msgpack bytes of a value
export function encode (value) {
    const writer = new Writer();
    write(writer, value, 0);
    return writer.bytes.slice(0, writer.length);
}

// ---- decoding

class Reader {
    constructor (bytes) {
        this.bytes = bytes;
        this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.offset = 0;
    }

    // The offset of `size` bytes to read, moved past them
    take (size) {
        if (this.offset + size > this.bytes.length)
            throw new MsgpackError('msgpack data ends in the middle of a value');
        const at = this.offset;
        this.offset += size;
        return at;
    }

    uint (size) {
        const at = this.take(size);
        return size === 1 ? this.view.getUint8(at) : size === 2 ? this.view.getUint16(at) : this.view.getUint32(at);
    }
}

// A 64-bit integer as a Number when it is safe, else as a BigInt
function wide (value) {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function readString (reader, size) {
    const at = reader.take(size);
    try {
        return decoder.decode(reader.bytes.subarray(at, at + size));
    }
    catch {
        throw new MsgpackError('msgpack string is not UTF-8');
    }
}

function readArray (reader, count, depth) {
    const array = [];
    for (let index = 0; index < count; index++)
        array.push(read(reader, depth + 1));
    return array;
}

function readMap (reader, count, depth) {
    const map = {};
    for (let index = 0; index < count; index++) {
        const key = read(reader, depth + 1);
        if (typeof key !== 'string')
            throw new MsgpackError('msgpack map key is not a string');
        // A key such as "__proto__" stays an own member, not the object's prototype
        Object.defineProperty(map, key, { value: read(reader, depth + 1), enumerable: true, writable: true,
                                          configurable: true });
    }
    return map;
}

function read (reader, depth) {
    if (depth > 64)
        throw new MsgpackError('msgpack value nested deeper than 64');
    const type = reader.uint(1);
    if (type < 0x80)
        return type;
    if (type >= 0xe0)
        return type - 0x100;
    if (type < 0x90)
        return readMap(reader, type & 0x0f, depth);
    if (type < 0xa0)
        return readArray(reader, type & 0x0f, depth);
    if (type < 0xc0)
        return readString(reader, type & 0x1f);
    let at;
    switch (type) {
        case 0xc0: return null;
        case 0xc2: return false;
        case 0xc3: return true;
        case 0xc4: case 0xc5: case 0xc6: {
            const size = reader.uint(type === 0xc4 ? 1 : type === 0xc5 ? 2 : 4);
            at = reader.take(size);
            return reader.bytes.slice(at, at + size);
        }
        case 0xca: return reader.view.getFloat32(reader.take(4));
        case 0xcb: return reader.view.getFloat64(reader.take(8));
        case 0xcc: return reader.uint(1);
        case 0xcd: return reader.uint(2);
        case 0xce: return reader.uint(4);
        case 0xcf: return wide(reader.view.getBigUint64(reader.take(8)));
        case 0xd0: return reader.view.getInt8(reader.take(1));
        case 0xd1: return reader.view.getInt16(reader.take(2));
        case 0xd2: return reader.view.getInt32(reader.take(4));
        case 0xd3: return wide(reader.view.getBigInt64(reader.take(8)));
        case 0xd9: return readString(reader, reader.uint(1));
        case 0xda: return readString(reader, reader.uint(2));
        case 0xdb: return readString(reader, reader.uint(4));
        case 0xdc: return readArray(reader, reader.uint(2), depth);
        case 0xdd: return readArray(reader, reader.uint(4), depth);
        case 0xde: return readMap(reader, reader.uint(2), depth);
        case 0xdf: return readMap(reader, reader.uint(4), depth);
        default:
            throw new MsgpackError(`msgpack type 0x${type.toString(16)} is not supported (ext types are refused)`);
    }
}

// The value of msgpack bytes (a Uint8Array or an ArrayBuffer) holding exactly one value
export function decode (bytes) {
    const reader = new Reader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    const value = read(reader, 0);
    if (reader.offset !== reader.bytes.length)
        throw new MsgpackError('msgpack data has bytes after its value');
    return value;
}
