"""Rooms (PROTOCOL.md section 3): a RoomClient sends, peeks and reads state and metrics; a Member joins
rooms with a handler, acks each message when its handler returns, and pings for you:

    member = Member("tcp://127.0.0.1:5564")
    member.join("lobby", lambda message: print(message.seq, message.data))
    member.run()                    # until stop(); the room waits for every member's ack
"""
import collections
import time
from collections import namedtuple

import msgpack

from ._requester import Requester, to_bytes
from .errors import ZgateError

Message = namedtuple("Message", "room seq data oob")


class RoomClient:
    """Requests to zgate's rooms endpoint that need no membership (section 3.2)."""

    def __init__(self, endpoint="tcp://127.0.0.1:5564", timeout=5.0, context=None):
        self.requester = Requester(endpoint, timeout, context, prefix="c")

    def close(self):
        self.requester.close()

    def send(self, room, payload, priority=0):
        """Queue a message in a room; returns its seq."""
        return int(self.requester.request("SEND", room, int(priority), to_bytes(payload))[0])

    def oob(self, room, payload):
        """Send out of band to every current member; returns how many it reached."""
        return int(self.requester.request("OOB", room, to_bytes(payload))[0])

    def peek(self, room, offset=0, limit=0):
        """The pending messages in release order (the PEEK map); limit 0 is zgate's maximum."""
        fields = [room, int(offset)] + ([int(limit)] if limit else [])
        return msgpack.unpackb(self.requester.request("PEEK", *fields)[0])

    def state(self, room):
        """Backlog, message in flight, members and acks (the STATE map)."""
        return msgpack.unpackb(self.requester.request("STATE", room)[0])

    def metrics(self, top=10):
        return msgpack.unpackb(self.requester.request("METRICS", int(top))[0])

    def configure(self, room, **options):
        """Room options: hold (bool), ack_timeout (ms), priority_order ("highest-first" or "lowest-first")."""
        packed = {key.replace("_", "-"): value for key, value in options.items()}
        self.requester.request("ROOM", room, msgpack.packb(packed))


class Member(RoomClient):
    """One logical client (HELLO) that joins rooms. Events that arrive while a request waits are kept and
    handled by the next poll/run, in order."""

    def __init__(self, endpoint="tcp://127.0.0.1:5564", ping_interval=1.0, timeout=5.0, context=None):
        super().__init__(endpoint, timeout, context)
        self.events = collections.deque()
        self.requester.on_other = self.events.append
        self.client = self.requester.request("HELLO")[0]
        self.ping_interval = ping_interval
        self.last_sent = time.monotonic()
        self.handlers = {}          # room -> function(Message)
        self.on_evicted = None      # function(room, reason), if set
        self.on_removed = None      # function(room, client, reason): removals in observed or watched rooms
        self.stopping = False

    def join(self, room, handler, observer=False):
        """Join a room (as an observer: no acks, never waited for); handler(Message) gets its messages."""
        self._member_request("JOIN", room, "async" if observer else "sync")
        self.handlers[to_bytes(room)] = handler

    def leave(self, room):
        self._member_request("LEAVE", room)
        self.handlers.pop(to_bytes(room), None)

    def watch(self, on=True):
        """Hear of every member removed from any room (evicted, LEAVE, BYE: section 3.6) through on_removed,
        without joining a room; on=False ends it."""
        self._member_request("WATCH", "on" if on else "off")

    def poll(self, timeout=1.0, limit=None):
        """Handle the events that arrive within timeout seconds, pinging as needed, and at most limit
        messages (the rest stay queued); returns how many messages were handled."""
        handled = 0
        deadline = time.monotonic() + timeout
        while True:
            while self.events and (limit is None or handled < limit):
                handled += self._event(self.events.popleft())
            if limit is not None and handled == limit:
                return handled
            if time.monotonic() - self.last_sent >= self.ping_interval:
                self._send(b"PING", b"", self.client)
            left = min(deadline - time.monotonic(), self.ping_interval)
            if left <= 0:
                return handled
            if self.requester.socket.poll(int(left * 1000) + 1):
                self.events.append(self.requester.socket.recv_multipart())

    def run(self, count=None, timeout=None):
        """Handle messages until stop(), until count were handled, or for timeout seconds."""
        handled = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stopping and (count is None or handled < count):
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            handled += self.poll(min(left, 1.0), None if count is None else count - handled)
        return handled

    def stop(self):
        self.stopping = True

    def close(self):
        """Leave every room (BYE)."""
        self._send(b"BYE", b"", self.client)
        super().close()

    def _member_request(self, command, *fields):
        self.requester.request(command, self.client, *fields)
        self.last_sent = time.monotonic()

    def _send(self, *frames):
        self.requester.socket.send_multipart(list(frames))
        self.last_sent = time.monotonic()

    def _event(self, frames):
        """Handle one pushed event; returns 1 for a message given to a handler, else 0."""
        kind = frames[0]
        if kind == b"DELIVER" and len(frames) == 6:
            room, seq, token, data = frames[2], int(frames[3]), frames[4], frames[5]
            self._dispatch(room, Message(room.decode(errors="replace"), seq, data, False))
            if token:
                self._send(b"ACK", b"", self.client, room, token)
            return 1
        if kind == b"OOB" and len(frames) == 4:
            self._dispatch(frames[2], Message(frames[2].decode(errors="replace"), None, frames[3], True))
            return 1
        if kind == b"EVICTED" and len(frames) == 4:
            self.handlers.pop(frames[2], None)
            if self.on_evicted:
                self.on_evicted(frames[2].decode(errors="replace"), frames[3].decode())
        elif kind == b"TIMEOUT" and len(frames) == 5:
            if self.on_removed:
                self.on_removed(*(frame.decode(errors="replace") for frame in frames[2:]))
        elif kind == b"ERROR" and len(frames) >= 4:
            raise ZgateError(frames[2].decode(), frames[3].decode(errors="replace"))
        return 0

    def _dispatch(self, room, message):
        handler = self.handlers.get(room)
        if handler:
            handler(message)
