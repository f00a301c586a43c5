"""Small clients for the gateway tests: WebSocket (JSON or msgpack), raw WebSocket and HTTP.

The asyncio client wraps python3-websockets; the raw client speaks RFC 6455 over a plain socket, so a test
can be a client that never reads or never answers pings. Every wait is bounded.
"""
import asyncio
import base64
import json
import os
import socket
import struct
import urllib.error
import urllib.request

import unittest

import msgpack
import websockets
import zmq

from zgate_harness import Zgate

TIMEOUT = 10.0


class Ws:
    """One WebSocket session speaking JSON (text frames) or msgpack (binary frames)."""

    def __init__(self, connection, binary=False):
        self.connection = connection
        self.binary = binary
        self.pushed = []            # pushes received while waiting for an answer

    @classmethod
    async def open(cls, port, binary=False, path="/ws"):
        # max_queue=None: the client keeps reading whatever the test does, so it is a fast reader
        connection = await websockets.connect(f"ws://127.0.0.1:{port}{path}", max_size=2 ** 24,
                                              open_timeout=TIMEOUT, ping_interval=None, max_queue=None)
        return cls(connection, binary)

    async def send(self, obj):
        await self.connection.send(msgpack.packb(obj) if self.binary else json.dumps(obj))

    async def send_raw(self, data):
        await self.connection.send(data)

    async def recv(self, timeout=TIMEOUT):
        data = await asyncio.wait_for(self.connection.recv(), timeout)
        if isinstance(data, bytes):
            assert self.binary, "a text-frame session got a binary frame"
            return msgpack.unpackb(data)
        assert not self.binary, "a binary-frame session got a text frame"
        return json.loads(data)

    async def request(self, obj, timeout=TIMEOUT):
        """Send a request with a req and return its answer; pushes seen meanwhile go to self.pushed."""
        await self.send(obj)
        while True:
            message = await self.recv(timeout)
            if message.get("op") in ("ok", "error", "accepted", "task_state", "peeked", "room_state",
                                     "room_metrics") and message.get("req") == obj.get("req"):
                return message
            self.pushed.append(message)

    async def next_push(self, op=None, timeout=TIMEOUT):
        for index, message in enumerate(self.pushed):
            if op is None or message.get("op") == op:
                return self.pushed.pop(index)
        while True:
            message = await self.recv(timeout)
            if op is None or message.get("op") == op:
                return message
            self.pushed.append(message)

    async def close(self):
        await self.connection.close()


class RawWs:
    """A WebSocket client on a plain socket: it reads only when told to, and never answers pings."""

    def __init__(self, port, path="/ws", rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.head, _, self.buffer = head.partition(b"\r\n\r\n")
        self.status = int(self.head.split(b" ")[1]) if self.head else 0

    def send_frame(self, payload, opcode=1, fin=True):
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def read_until_closed(self, timeout):
        """Reads everything until the server closes; returns the bytes (the last frames included)."""
        self.sock.settimeout(timeout)
        data = self.buffer
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def close(self):
        self.sock.close()


def http(port, method, path, body=None, raw=None, timeout=TIMEOUT):
    """(status, body bytes, headers) of one HTTP request; body is JSON-encoded, raw is sent as is."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def run(coroutine, timeout=120):
    """Run one test coroutine, bounded."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


class GatewayTestCase(unittest.TestCase):
    """One zgate for the whole class, with `zgate_overrides`, its HTTP port and a pyzmq context."""
    zgate_overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.zgate = Zgate(**cls.zgate_overrides).start()
        cls.port = int(cls.zgate.endpoint("gateway-http-port"))
        cls.context = zmq.Context()
        cls.context.linger = 0

    @classmethod
    def tearDownClass(cls):
        cls.context.destroy(linger=0)
        code, _ = cls.zgate.stop()
        assert code == 0, code
