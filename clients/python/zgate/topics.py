"""Topics (PROTOCOL.md section 1): [topic][payload] over PUB/SUB, prefix subscriptions; remembered topics'
[seq epoch] positions, their history and last value, and presence (1.1, 1.3)."""
import json
import time
from collections import namedtuple

import zmq

from .errors import BAD_GATEWAY, TIMEOUT, ZgateError
from ._requester import Requester, to_bytes

# seq and epoch are None for a topic without history
Message = namedtuple("Message", "topic payload seq epoch")


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
        message = self.recv_message(timeout)
        return None if message is None else (message.topic, message.payload)

    def recv_message(self, timeout=None):
        """The next Message, with its seq (int) and epoch (str) on a remembered topic, or None after timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0, deadline - time.monotonic())
            if not self.socket.poll(None if left is None else int(left * 1000)):
                return None
            frames = self.socket.recv_multipart()
            if len(frames) not in (2, 3) or frames[0].startswith(b"$zgate."):
                continue
            seq, epoch = None, None
            if len(frames) == 3:
                seq, _, epoch = frames[2].decode().partition(" ")
                seq = int(seq)
            return Message(frames[0].decode(errors="replace"), frames[1], seq, epoch)

    def __iter__(self):
        while True:
            yield self.recv()

    def close(self):
        self.socket.close()


class History:
    """Asks zgate's history endpoint (section 1.1) for a remembered topic's messages after a position, its last
    value, and (1.3) who is subscribed to a topic with presence. Errors raise ZgateError (404: the topic keeps
    no history or has no presence)."""

    def __init__(self, endpoint="tcp://127.0.0.1:5565", timeout=5.0, context=None):
        self.requester = Requester(endpoint, timeout, context, prefix="h")

    def since(self, topic, seq=0, epoch=""):
        """The messages after (seq, epoch), as a dict: epoch, top (newest seq), recovered (True when nothing
        after the position was lost) and messages, a list of (seq, payload) in order."""
        return self._positions(self._ask("HISTORY", topic, seq, epoch))

    def last(self, topic):
        """The newest message, the same dict as since's (messages holds at most one)."""
        return self._positions(self._ask("LAST", topic))

    def presence(self, topic):
        """The subscribers present on topic: a list of dicts connection, kind ("native" or "web"), identity?"""
        return json.loads(self._ask("PRESENCE", topic)[0])["present"]

    def close(self):
        self.requester.close()

    def _ask(self, verb, *fields):
        req = self.requester.new_req()
        self.requester.send(verb, req, *fields)
        answer = self.requester.wait(req, time.monotonic() + self.requester.timeout)
        if answer[0] != verb.encode():
            raise ZgateError(BAD_GATEWAY, f"unexpected answer {answer[0]!r}")
        return answer[1:]

    @staticmethod
    def _positions(fields):
        epoch, top, recovered, *messages = fields
        return {"epoch": epoch.decode(), "top": int(top), "recovered": recovered == b"1",
                "messages": [(int(seq), payload) for seq, payload in zip(messages[0::2], messages[1::2])]}
