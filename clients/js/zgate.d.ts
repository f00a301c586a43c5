// TypeScript declarations of zgate.js, the JavaScript client of zgate's WebSocket gateway. The wire
// protocol is section 4 of docs/PROTOCOL.md; each method is commented in zgate.js.

/** Any value a message, task or reply carries; binary payloads arrive as Uint8Array. */
export type Data = unknown;

/** An object the gateway sent (an answer, or a pushed event), as decoded. */
export type Frame = { op: string; req?: string | number; [field: string]: unknown };

export interface ClientOptions {
    /** The WebSocket class, where there is no global one (Node 20 without --experimental-websocket). */
    WebSocket?: unknown;
    /** Binary frames in msgpack instead of text frames in JSON (default false). */
    msgpack?: boolean;
    /** ms before a request without an answer rejects with code 'timeout' (default 10000). */
    requestTimeout?: number;
    /** ms a connection attempt may take before it counts as failed (default 10000). */
    connectTimeout?: number;
    /** Reconnect after the connection drops (default true). */
    reconnect?: boolean;
    /** ms before the first reconnect attempt (default 250). */
    backoffInitial?: number;
    /** ms, the longest wait between attempts (default 10000). */
    backoffMax?: number;
    /** Growth of the wait per failed attempt (default 2). */
    backoffFactor?: number;
    /** Each wait is drawn from [wait * (1 - jitter), wait] (default 0.5). */
    jitter?: number;
    /** ms between pings while the session is a member of a room; 0 for none (default 5000). */
    pingInterval?: number;
}

/** A request's failure: the gateway's numeric code, or a local one. */
export class ZgateError extends Error {
    constructor (code: number | string, message?: string, frame?: Frame | null);
    code: number | 'timeout' | 'disconnected' | 'closed' | 'stale' | 'protocol';
    frame: Frame | null;
}

export interface Task {
    queue: string;
    id: string;
    data: Data;
    attempt: number;
    frame: Frame;
    ack (data?: Data): Promise<Frame>;
    nack (): Promise<Frame>;
    fail (reason?: string): Promise<Frame>;
}

export interface RoomMessage {
    room: string;
    seq: number;
    /** null for observers (async members) */
    token: string | null;
    data: Data;
    frame: Frame;
    ack (): Promise<Frame>;
}

export interface SendOptions {
    reply?: boolean;
    priority?: number;
    /** Reply timeout, ms */
    timeout?: number;
    /** ms its worker may hold the task */
    ackTimeout?: number;
    /** ms it may wait in its queue before it expires into the dead letters */
    ttl?: number;
}

export interface CallOptions {
    timeout?: number;
    priority?: number;
    onAccepted?: (id: string) => void;
}

export interface CommandOptions extends CallOptions {
    /** Every worker serving the command gets it; the promise resolves with all their replies. */
    scatter?: boolean;
}

export interface JoinOptions {
    manual?: boolean;
    observer?: boolean;
    onOob?: (data: Data, room: string) => void;
    onEvicted?: (room: string, reason: string) => void;
    onTimeout?: (client: string, room: string, reason: string) => void;
}

export interface CloseInfo {
    code: number;
    reason: string;
    willReconnect: boolean;
}

export interface Events {
    open: () => void;
    close: (info: CloseInfo) => void;
    reconnecting: (info: { attempt: number; delay: number }) => void;
    error: (err: Error) => void;
    frame: (frame: Frame) => void;
    message: (data: Data, topic: string, frame: Frame) => void;
    task: (task: Task) => void;
    reply: (data: Data, id: string, frame: Frame) => void;
    room: (message: RoomMessage) => void;
    oob: (data: Data, room: string, frame: Frame) => void;
    evicted: (room: string, reason: string, frame: Frame) => void;
    timeout: (client: string, room: string, reason: string, frame: Frame) => void;
    unknown: (frame: Frame) => void;
    client: (client: string) => void;
    /** A subscription to a topic that remembers resumed after a reconnect, but its gap could not be filled
     *  (zgate lost the history, or the gap is older than it): live messages go on from seq. */
    unrecovered: (info: { topic: string; seq: number; epoch: string }) => void;
}

export class ZgateClient {
    constructor (url: string, options?: ClientOptions);
    readonly url: string;
    /** This session's rooms client id, from a join answer; null until then, new on each connection. */
    readonly roomClient: string | null;
    readonly connected: boolean;
    /** Listens to an event; returns the function that stops listening. */
    on<E extends keyof Events> (event: E, listener: Events[E]): () => void;
    off<E extends keyof Events> (event: E, listener: Events[E]): void;
    /** Resolves when the connection is open. */
    ready (): Promise<void>;

    /** Topics that remember resume after a reconnect; { last: true } starts with the topic's last message. */
    subscribe (topic: string, handler?: (data: Data, topic: string, frame: Frame) => void,
               options?: { last?: boolean }): Promise<Frame>;
    unsubscribe (topic: string): Promise<Frame>;
    publish (topic: string, data: Data): Promise<Frame>;

    /** Enqueues a task; resolves with its id. */
    send (queue: string, data: Data, options?: SendOptions): Promise<string>;
    /** Enqueues a task and resolves with the worker's reply data. */
    call (queue: string, data: Data, options?: CallOptions): Promise<Data>;
    /** Command mode: resolves with the reply data, or with scatter with every worker's. */
    command (command: string, data?: Data, options?: CommandOptions & { scatter?: false }): Promise<Data>;
    command (command: string, data: Data | null | undefined, options: CommandOptions & { scatter: true }): Promise<Data[]>;
    consume (queue: string, handler: (task: Task) => unknown,
             options?: { prefetch?: number; manual?: boolean }): Promise<Frame>;
    cancel (queue: string): Promise<Frame>;
    taskState (id: string): Promise<Frame>;
    /** Pulls the first waiting task of a queue; null when nothing waits. */
    take (queue: string, ackTimeout?: number): Promise<Frame | null>;
    finish (id: string, data?: Data): Promise<Frame>;
    retry (id: string): Promise<Frame>;

    join (room: string, handler: (message: RoomMessage) => unknown, options?: JoinOptions): Promise<Frame>;
    leave (room: string): Promise<Frame>;
    sendRoom (room: string, data: Data, options?: { priority?: number; oob?: boolean; producer?: string }): Promise<Frame>;
    ackRoom (room: string, token: string): Promise<Frame>;
    peek (room: string, options?: { offset?: number; limit?: number }): Promise<Frame>;
    roomState (room: string): Promise<Frame>;
    roomMetrics (top?: number): Promise<Frame>;
    ping (): Promise<Frame>;

    /** Closes for good; pending requests reject with code 'closed'. */
    close (): Promise<void>;
    /** Sends any op and resolves with its answer. */
    request (frame: { op: string; [field: string]: unknown }): Promise<Frame>;
}
