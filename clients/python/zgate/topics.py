"""Topics (PROTOCOL.md section 1): [topic][payload] over PUB/SUB, prefix subscriptions."""
import time

import zmq

from .errors import TIMEOUT, ZgateError
from ._requester import to_bytes


class Publisher:
    """Publishes to zgate's publishers endpoint. It connects an XPUB and waits for zgate's subscription
    (the frame b"\\x01") before the first publish, so that no message is dropped (section 1, readiness)."""

    def __init__(self, endpoint="tcp://127.0.0.1:5561", timeout=5.0, context=None):
        self.socket = (context or zmq.Context.instance()).socket(zmq.XPUB)
        self.socket.setsockopt(zmq.LINGER, 1000)
        self.socket.connect(endpoint)
        self.timeout = timeout
        self.ready = False

    def wait_ready(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.ready:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000) + 1):
                raise ZgateError(TIMEOUT, "zgate did not subscribe to this publisher in time")
            self.ready = self.socket.recv().startswith(b"\x01")

    def publish(self, topic, payload):
        """Publish payload (bytes, or str as UTF-8) on topic."""
        self.wait_ready()
        self.socket.send_multipart([to_bytes(topic), to_bytes(payload)])

    def close(self):
        self.socket.close()


class Subscriber:
    """Receives from zgate's subscribers endpoint the topics that start with its prefixes. Topics that start
    with "$zgate." are zgate's own probes (section 1, reserved topics) and are skipped."""

    def __init__(self, endpoint="tcp://127.0.0.1:5560", prefixes=(), context=None):
        self.socket = (context or zmq.Context.instance()).socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        for prefix in prefixes:
            self.subscribe(prefix)

    def subscribe(self, prefix):
        self.socket.setsockopt(zmq.SUBSCRIBE, to_bytes(prefix))

    def unsubscribe(self, prefix):
        self.socket.setsockopt(zmq.UNSUBSCRIBE, to_bytes(prefix))

    def recv(self, timeout=None):
        """The next (topic, payload) as (str, bytes), or None after timeout seconds (None: wait for ever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0, deadline - time.monotonic())
            if not self.socket.poll(None if left is None else int(left * 1000)):
                return None
            frames = self.socket.recv_multipart()
            if len(frames) == 2 and not frames[0].startswith(b"$zgate."):
                return frames[0].decode(errors="replace"), frames[1]

    def __iter__(self):
        while True:
            yield self.recv()

    def close(self):
        self.socket.close()
