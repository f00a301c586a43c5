"""One DEALER that sends [COMMAND][req][fields...] and waits for the answers carrying that req, as queue
producers (PROTOCOL.md 2.2) and room clients (3.2) both speak: [OK][req][results...] or
[ERROR][req][code][reason]. Messages for other reqs (events, late answers) go to a handler, or are dropped."""
import itertools
import time

import zmq

from .errors import BAD_GATEWAY, TIMEOUT, ZgateError


class Requester:
    def __init__(self, endpoint, timeout=5.0, context=None, prefix="r"):
        self.context = context or zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.timeout = timeout
        self.prefix = prefix
        self.counter = itertools.count(1)
        self.on_other = None        # called with every message that is not for the awaited req

    def close(self):
        self.socket.close()

    def new_req(self):
        return f"{self.prefix}{next(self.counter)}".encode()

    def send(self, command, req, *fields):
        self.socket.send_multipart([command.encode(), req] + [to_bytes(field) for field in fields])

    def wait(self, req, deadline):
        """The next message for req as [command, fields...] (req removed); ERROR raises ZgateError."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000) + 1):
                raise ZgateError(TIMEOUT, "zgate did not answer in time")
            frames = self.socket.recv_multipart()
            if len(frames) >= 2 and frames[1] == req:
                if frames[0] == b"ERROR":
                    code = frames[2].decode() if len(frames) > 2 and frames[2].isdigit() else BAD_GATEWAY
                    reason = frames[3].decode(errors="replace") if len(frames) > 3 else ""
                    raise ZgateError(code, reason)
                return [frames[0]] + frames[2:]
            if self.on_other:
                self.on_other(frames)

    def request(self, command, *fields, timeout=None):
        """Send a request and return the fields of its OK answer."""
        req = self.new_req()
        self.send(command, req, *fields)
        answer = self.wait(req, time.monotonic() + (timeout or self.timeout))
        if answer[0] != b"OK":
            raise ZgateError(BAD_GATEWAY, f"unexpected answer {answer[0]!r}")
        return answer[1:]


def to_bytes(value):
    """A frame from bytes, str (UTF-8) or int (decimal ASCII, as zgate's numbers)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        return str(value).encode()
    raise TypeError(f"a frame is bytes, str or int, not {type(value).__name__}")
