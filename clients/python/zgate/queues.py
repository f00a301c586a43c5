"""Work queues (PROTOCOL.md section 2): a Producer (send, request, call, scatter, take/finish/retry, get,
stats) and a Worker
whose handlers are registered with decorators:

    worker = Worker("tcp://127.0.0.1:5563")

    @worker.task("thumbnails")
    def thumbnail(task):            # task.data is bytes; task.id, task.name, task.attempt
        return b"small-" + task.data        # the ACK's reply (None: ack without reply)

    worker.run()                    # an exception FAILs the task with its text; raise Nack() to NACK it
"""
import itertools
import json
import os
import time
from collections import namedtuple

import msgpack
import zmq

from ._requester import Requester, to_bytes
from .errors import BAD_GATEWAY, ZgateError

Task = namedtuple("Task", "id name command attempt data")


class Nack(Exception):
    """Raised by a handler: give the task back for another delivery."""


class Producer:
    """Sends tasks to zgate's producers endpoint and waits for the answers (section 2.2). Every call raises
    ZgateError with zgate's code on an ERROR (408 when zgate does not answer in time)."""

    def __init__(self, endpoint="tcp://127.0.0.1:5562", timeout=5.0, context=None):
        self.requester = Requester(endpoint, timeout, context, prefix="p")

    def close(self):
        self.requester.close()

    def send(self, queue, payload, priority=0, **options):
        """Queue a task; returns its id (str). options: ack_timeout (ms), ttl (ms it may wait)."""
        fields = _options(priority=priority, **options)
        return self.requester.request("SEND", queue, fields, to_bytes(payload))[0].decode()

    def request(self, queue, payload, timeout=5.0, priority=0):
        """Queue a task and return the worker's reply (bytes)."""
        options = _options(reply=True, timeout=int(timeout * 1000), priority=priority)
        return self._reply(["SEND", queue, options, to_bytes(payload)], timeout)

    def call(self, line, timeout=5.0):
        """Call a command with a teomq line "name/params.../data"; returns the reply (bytes)."""
        return self._reply(["CALL", _options(reply=True, timeout=int(timeout * 1000)), line], timeout)

    def scatter(self, line, timeout=5.0):
        """Call a command on every worker serving it; returns their replies (bytes) as they came."""
        req = self._send(["CALL", _options(scatter=True, reply=True, timeout=int(timeout * 1000)), line])
        deadline = time.monotonic() + timeout + 1
        self._accepted(req, deadline)
        replies = []
        while True:
            answer = self.requester.wait(req, deadline)
            if answer[0] == b"END":
                return replies
            if answer[0] != b"REPLY" or len(answer) != 3:
                raise ZgateError(BAD_GATEWAY, f"unexpected answer {answer[0]!r}")
            replies.append(answer[2])

    def take(self, queues=(), ack_timeout=None):
        """Pull one waiting task now (section 2.8): of the heads of queues (every queue when empty), the one
        of highest priority, then the first to arrive, as a Task; None when nothing waits. FINISH or RETRY it
        within its ack timeout (ms, default the task's own), or it goes back to the head of its queue."""
        options = _options(queues=list(queues) or None, ack_timeout=ack_timeout)
        fields = self.requester.request("TAKE", options)
        if not fields:
            return None
        task_id, meta, payload = fields
        meta = msgpack.unpackb(meta)
        return Task(task_id.decode(), meta.get("queue"), False, meta.get("attempt", 1), payload)

    def finish(self, task_id, output=None):
        """A taken task is done; output (bytes, str, or JSON for anything else) is its producer's reply."""
        fields = [task_id] if output is None else [task_id, _payload(output)]
        self.requester.request("FINISH", *fields)

    def retry(self, task_id):
        """A taken task goes back to the tail of its queue (to the dead letters past max-deliveries)."""
        self.requester.request("RETRY", task_id)

    def get(self, task_id):
        """A task as a dict: id, queue, command, state, priority, attempt, created, started, finished,
        and reply (done) or reason (failed, dead)."""
        return msgpack.unpackb(self.requester.request("GET", task_id)[0])

    def stats(self):
        """Per-queue counters and the recent tasks (the STATS map)."""
        return msgpack.unpackb(self.requester.request("STATS")[0])

    def _send(self, command_and_fields):
        req = self.requester.new_req()
        self.requester.send(command_and_fields[0], req, *command_and_fields[1:])
        return req

    def _accepted(self, req, deadline):
        answer = self.requester.wait(req, deadline)
        if answer[0] != b"OK":
            raise ZgateError(BAD_GATEWAY, f"unexpected answer {answer[0]!r}")
        return answer[1].decode()

    def _reply(self, command_and_fields, timeout):
        req = self._send(command_and_fields)
        # zgate's own 408 comes at the reply timeout: wait a little longer for it
        deadline = time.monotonic() + timeout + 1
        self._accepted(req, deadline)
        answer = self.requester.wait(req, deadline)
        if answer[0] != b"REPLY" or len(answer) != 3:
            raise ZgateError(BAD_GATEWAY, f"unexpected answer {answer[0]!r}")
        return answer[2]


class Worker:
    """One logical worker on zgate's workers endpoint (section 2.3): announces its queues and commands,
    calls their handlers, answers ACK/FAIL/NACK, pings when idle, and announces itself again when zgate
    has forgotten it."""

    _ids = itertools.count(1)

    def __init__(self, endpoint="tcp://127.0.0.1:5563", prefetch=1, worker_id=None, context=None):
        self.socket = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 1000)
        self.socket.connect(endpoint)
        self.id = (worker_id or f"py-{os.getpid()}-{next(self._ids)}").encode()
        self.prefetch = prefetch
        self.handlers = {}          # (command?, name) -> function
        self.heartbeat = 1.0
        self.last_sent = 0.0
        self.started = False
        self.handled = 0
        self.stopping = False

    def task(self, queue):
        """Decorator: the function handles the tasks of queue."""
        return self._register(False, queue)

    def command(self, name):
        """Decorator: the function handles the command name (CALL)."""
        return self._register(True, name)

    def _register(self, command, name):
        def decorate(function):
            if (command, name) in self.handlers:
                raise ValueError(f"{name} already has a handler")
            self.handlers[(command, name)] = function
            if self.started:
                self._ready()
            return function
        return decorate

    def start(self, timeout=5.0):
        """Announce the handlers (READY) and wait for zgate's answer."""
        self._ready()
        deadline = time.monotonic() + timeout
        while not self.started:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000) + 1):
                raise ZgateError(408, "zgate did not answer READY in time")
            self._handle(self.socket.recv_multipart())

    def poll(self, timeout=1.0):
        """Handle what arrives within timeout seconds, pinging when idle; returns the tasks handled."""
        if not self.started:
            self.start()
        handled = self.handled
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() - self.last_sent >= self.heartbeat:
                self._send(b"PING", self.id)
            left = min(deadline - time.monotonic(), self.heartbeat)
            if left <= 0:
                return self.handled - handled
            if self.socket.poll(int(left * 1000) + 1):
                self._handle(self.socket.recv_multipart())

    def run(self, count=None, timeout=None):
        """Handle tasks until stop(), until at least count tasks were handled (those that arrived with
        the last one are handled too), or for timeout seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.stopping and (count is None or self.handled < count):
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            self.poll(min(left, 1.0))

    def stop(self):
        self.stopping = True

    def close(self):
        """Leave (BYE): zgate requeues what this worker still holds."""
        self._send(b"BYE", self.id)
        self.socket.close()

    def _send(self, *frames):
        self.socket.send_multipart(list(frames))
        self.last_sent = time.monotonic()

    def _ready(self):
        queues = [name for (command, name) in self.handlers if not command]
        commands = [name for (command, name) in self.handlers if command]
        options = {"queues": queues, "commands": commands, "prefetch": self.prefetch}
        self._send(b"READY", self.id, msgpack.packb(options))

    def _handle(self, frames):
        if len(frames) < 2 or frames[1] != self.id:
            return
        if frames[0] == b"OK" and len(frames) == 3:
            answer = msgpack.unpackb(frames[2])
            self.heartbeat = answer.get("heartbeat", 1000) / 1000
            self.started = True
        elif frames[0] == b"DELIVER" and len(frames) == 5:
            self._deliver(frames[2], msgpack.unpackb(frames[3]), frames[4])
        elif frames[0] == b"ERROR" and len(frames) >= 3 and frames[2] == b"404":
            self._ready()           # zgate restarted or declared this worker dead
        elif frames[0] == b"ERROR" and not self.started:
            raise ZgateError(frames[2].decode(), frames[3].decode(errors="replace") if len(frames) > 3 else "")

    def _deliver(self, task_id, meta, payload):
        command = "command" in meta
        name = meta.get("command") if command else meta.get("queue")
        task = Task(task_id.decode(), name, command, meta.get("attempt", 1), payload)
        handler = self.handlers.get((command, name))
        self.handled += 1
        if handler is None:
            self._send(b"NACK", self.id, task_id, b"callback not found")
            return
        try:
            reply = handler(task)
        except Nack:
            self._send(b"NACK", self.id, task_id)
        except Exception as error:      # noqa: BLE001 - any failure of the handler fails the task
            self._send(b"FAIL", self.id, task_id, (str(error) or type(error).__name__).encode())
        else:
            frames = [b"ACK", self.id, task_id]
            if reply is not None:
                frames.append(_payload(reply))
            self._send(*frames)


def _options(**options):
    """The options frame: a msgpack map of the options given (priority 0 and None are left out)."""
    packed = {key.replace("_", "-"): value for key, value in options.items() if value not in (None, 0)}
    return msgpack.packb(packed) if packed else b""


def _payload(value):
    """bytes as they are, str as UTF-8, anything else as compact JSON (as the gateway maps web data)."""
    if isinstance(value, (bytes, str)):
        return to_bytes(value)
    return json.dumps(value, separators=(",", ":")).encode()
