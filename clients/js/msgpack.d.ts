// TypeScript declarations of msgpack.js, the MessagePack encoding of zgate.js' msgpack mode.

export class MsgpackError extends Error {}

/** The msgpack bytes of a value (null, boolean, number, bigint, string, Uint8Array, array, plain object). */
export function encode (value: unknown): Uint8Array;

/** The value of msgpack bytes holding exactly one value; bin decodes as Uint8Array. */
export function decode (bytes: Uint8Array | ArrayBuffer): unknown;
