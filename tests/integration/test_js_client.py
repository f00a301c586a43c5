"""The JavaScript client (clients/js/zgate.js) in Node against a real zgate, meeting native pyzmq peers.

Each test drives one Node process (js_client_driver.mjs) over stdin/stdout: commands in, JSON events out.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_everything, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "js_client_driver.mjs")
EXAMPLES = os.path.join(HERE, "..", "..", "examples", "web")
NODE = shutil.which("node")
TIMEOUT_MS = 5000
CLIENT_TIMEOUT_MS = 3000


def node_flags():
    """Node 22 has a WebSocket, Node 20 behind a flag; on Node 18 the driver falls back to the ws package."""
    for flags in ([], ["--experimental-websocket"]):
        kind = subprocess.run([NODE, *flags, "-p", "typeof WebSocket"], capture_output=True, text=True,
                              timeout=30)
        if kind.stdout.strip() == "function":
            return flags
    return []


class NodeClient:
    """One zgate.js client in a Node process."""

    def __init__(self, url, msgpack_mode=False):
        self.process = subprocess.Popen([NODE, *NODE_FLAGS, DRIVER, url] + (["msgpack"] if msgpack_mode else []),
                                        stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        self.answers = {}
        self.lock = threading.Condition()
        self.next_id = 1
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            message = json.loads(line)
            if os.environ.get("ZGATE_TEST_VERBOSE"):
                sys.stderr.write("node| " + line)
            if "id" in message and "event" not in message:
                with self.lock:
                    self.answers[message["id"]] = message
                    self.lock.notify_all()
            else:
                self.events.put(message)

    def call(self, method, *args, timeout=10):
        """Runs a client method; returns its value or raises ClientError."""
        with self.lock:
            ident = self.next_id
            self.next_id += 1
        self.process.stdin.write(json.dumps({"id": ident, "call": method, "args": list(args)}) + "\n")
        self.process.stdin.flush()
        with self.lock:
            if not self.lock.wait_for(lambda: ident in self.answers, timeout=timeout):
                raise AssertionError(f"no answer to {method}{args} within {timeout}s")
            answer = self.answers.pop(ident)
        if "error" in answer:
            raise ClientError(answer["error"]["code"], answer["error"]["message"])
        return answer["ok"]

    def expect(self, predicate, timeout=10, what="event"):
        """The first event (kept or new) matching predicate; earlier non-matching ones are kept."""
        deadline = time.monotonic() + timeout
        for index, event in enumerate(self.seen):
            if predicate(event):
                return self.seen.pop(index)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; saw {self.seen}")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(event):
                return event
            self.seen.append(event)

    def none(self, predicate, within):
        """Asserts that no matching event arrives within `within` seconds."""
        try:
            event = self.expect(predicate, timeout=within)
        except AssertionError:
            return
        raise AssertionError(f"unexpected event {event}")

    def close(self):
        """Closes stdin: the driver closes its client, and Node must exit by itself (nothing left running).
        Returns the exit code and what Node wrote on stderr."""
        try:
            if self.process.poll() is None:
                self.process.stdin.close()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
                    raise AssertionError("node did not exit after its client was closed")
            return self.process.returncode, self.process.stderr.read()
        finally:
            self.process.stderr.close()


class ClientError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def is_event(kind, **fields):
    return lambda event: event.get("event") == kind and all(event.get(k) == v for k, v in fields.items())


NODE_FLAGS = node_flags() if NODE else []


class JsClientTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(NODE, "node is not installed (README's test command installs it)")
        self.context = zmq.Context()
        self.context.linger = 0
        self.sockets = []
        self.addCleanup(self._close_sockets)
        # Rooms evict a client silent for 3 s: the client's own pings (every second when quiet) keep it in.
        self.zgate = Zgate(rooms_client_timeout=CLIENT_TIMEOUT_MS).start()
        self.addCleanup(self._stop_zgate)
        self.node = NodeClient(self.url())
        self.addCleanup(self._close_node)
        self.node.expect(is_event("open"), what="the client to connect")

    # Cleanups run last to first, and all of them even when one fails: the node client, zgate, the sockets.
    def _close_node(self):
        code, stderr = self.node.close()
        self.assertEqual(code, 0, f"node failed:\n{stderr}")

    def _stop_zgate(self):
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0, "zgate failed:\n" + "\n".join(self.zgate.lines[-20:]))

    def _close_sockets(self):
        for socket in self.sockets:
            socket.close()
        self.context.destroy(linger=0)

    def url(self):
        return f"ws://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}/ws"

    def socket(self, kind):
        socket = self.context.socket(kind)
        self.sockets.append(socket)
        return socket

    def dealer(self, flag):
        socket = self.socket(zmq.DEALER)
        socket.rcvtimeo = TIMEOUT_MS
        socket.connect(self.zgate.endpoint(flag))
        return socket

    def publisher(self):
        pub = self.socket(zmq.XPUB)
        pub.rcvtimeo = TIMEOUT_MS
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        return pub

    def native_worker(self, queue_name):
        worker = self.dealer("queues-workers")
        worker.send_multipart([b"READY", b"w1", msgpack.packb({"queues": [queue_name], "prefetch": 1})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        return worker

    # ---- topics

    def test_subscribe_receives_native_messages_in_every_payload_shape(self):
        self.assertEqual(self.node.call("subscribe", "news.*")["op"], "ok")
        pub = self.publisher()
        pub.send_multipart([b"other", b"not for us"])
        pub.send_multipart([b"news.json", b'{"n": 1}'])
        pub.send_multipart([b"news.text", b"plain words"])
        pub.send_multipart([b"news.bytes", b"\xff\x00"])
        self.assertEqual(self.node.expect(is_event("message", topic="news.json"))["data"], {"n": 1})
        self.assertEqual(self.node.expect(is_event("message", topic="news.text"))["data"], "plain words")
        self.assertEqual(self.node.expect(is_event("message", topic="news.bytes"))["data"], {"bytes": "/wA="})
        self.node.none(is_event("message", topic="other"), within=0.3)

        self.node.call("unsubscribe", "news.*")
        pub.send_multipart([b"news.json", b'{"n": 2}'])
        self.node.none(is_event("message"), within=0.5)

    def test_publish_reaches_native_subscribers(self):
        sub = self.socket(zmq.SUB)
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        sub.subscribe(b"web.")
        # The SUB's subscription reaches zgate asynchronously: publish until the first copy arrives.
        wait_for(lambda: self.node.call("publish", "web.out", {"x": 1}) and sub.poll(100),
                 what="a web publish to reach a native SUB")
        self.assertEqual(sub.recv_multipart(), [b"web.out", b'{"x":1}'])

    # ---- queues

    def test_consumer_serves_a_native_producer(self):
        self.node.call("consume", "jobs", "upper", 2)
        producer = self.dealer("queues-producers")
        producer.send_multipart([b"SEND", b"r1", b"jobs", msgpack.packb({"reply": True}), b"hello"])
        ok, req, task_id = producer.recv_multipart()
        self.assertEqual((ok, req), (b"OK", b"r1"))
        self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r1", task_id, b"HELLO"])
        task = self.node.expect(is_event("task", queue="jobs"))
        self.assertEqual((task["data"], task["attempt"], str(task["id"])), ("hello", 1, task_id.decode()))
        state = self.node.call("taskState", task["id"])
        self.assertEqual((state["state"], state["data"]), ("done", "HELLO"))

    def test_take_finish_and_retry_pull_tasks(self):
        producer = self.dealer("queues-producers")
        producer.send_multipart([b"SEND", b"r1", b"pulled", b"", b"first"])
        task_id = producer.recv_multipart()[2].decode()
        self.assertIsNone(self.node.call("take", "pulled.none"))
        taken = self.node.call("take", "pulled", 5000)
        self.assertEqual((taken["id"], taken["data"], taken["attempt"]), (task_id, "first", 1))
        self.assertEqual(self.node.call("taskState", task_id)["input"], "first")
        self.node.call("retry", task_id)
        self.assertEqual(self.node.call("take", "pulled")["attempt"], 2)
        self.node.call("finish", task_id, "done")
        state = self.node.call("taskState", task_id)
        self.assertEqual((state["state"], state["data"]), ("done", "done"))

    def test_nack_redelivers_and_fail_is_final(self):
        self.node.call("consume", "retry", "nack-first")
        producer = self.dealer("queues-producers")
        producer.send_multipart([b"SEND", b"r2", b"retry", msgpack.packb({"reply": True}), b"{}"])
        task_id = producer.recv_multipart()[2]
        self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r2", task_id, b"done on attempt 2"])
        attempts = [self.node.expect(is_event("task", queue="retry"))["attempt"] for _ in range(2)]
        self.assertEqual(attempts, [1, 2])

        self.node.call("cancel", "retry")
        self.node.call("consume", "doomed", "fail")
        producer.send_multipart([b"SEND", b"r3", b"doomed", msgpack.packb({"reply": True}), b"{}"])
        task_id = producer.recv_multipart()[2]
        error, req, code, reason = producer.recv_multipart()
        self.assertEqual((error, req, code), (b"ERROR", b"r3", b"422"))
        self.assertIn(b"cannot do it", reason)

    def test_call_gets_a_native_workers_reply_or_the_gateways_error(self):
        worker = self.native_worker("rpc")
        result = {}
        caller = threading.Thread(target=lambda: result.update(
            value=self.node.call("call", "rpc", {"a": 1, "b": 2}, {})))
        caller.start()
        command, worker_id, task_id, meta, payload = worker.recv_multipart()
        self.assertEqual((command, worker_id, json.loads(payload)), (b"DELIVER", b"w1", {"a": 1, "b": 2}))
        self.assertEqual(msgpack.unpackb(meta)["queue"], "rpc")
        worker.send_multipart([b"ACK", b"w1", task_id, b'{"sum": 3}'])
        caller.join(timeout=15)
        self.assertEqual(result["value"], {"sum": 3})
        self.assertEqual(str(self.node.expect(is_event("accepted"))["id"]), task_id.decode())

        with self.assertRaises(ClientError) as raised:
            self.node.call("call", "nobody", 1, {"timeout": 300})
        self.assertEqual(raised.exception.code, 408)

    def test_send_ack_timeout_takes_a_task_back_from_a_silent_worker(self):
        worker = self.native_worker("held")
        task_id = self.node.call("send", "held", {"n": 1}, {"ackTimeout": 300})
        first = worker.recv_multipart()
        again = worker.recv_multipart()
        self.assertEqual((first[2].decode(), msgpack.unpackb(first[3])["attempt"]), (str(task_id), 1))
        self.assertEqual((again[2], msgpack.unpackb(again[3])["attempt"]), (first[2], 2))
        worker.send_multipart([b"ACK", b"w1", again[2]])

    # ---- rooms

    def test_room_member_acks_and_the_room_advances(self):
        self.node.call("join", "hold", True)
        producer = self.dealer("rooms-clients")
        for n, text in enumerate([b"first", b"second"]):
            producer.send_multipart([b"SEND", b"%d" % n, b"hold", b"0", text])
            self.assertEqual(producer.recv_multipart()[0], b"OK")
        first = self.node.expect(is_event("room", room="hold"))
        self.assertEqual((first["seq"], first["data"]), (1, "first"))
        self.assertTrue(first["token"])
        # Lockstep: the second message waits for this member's ack.
        self.node.none(is_event("room", room="hold"), within=0.5)
        self.node.call("ackRoom", "hold")
        second = self.node.expect(is_event("room", room="hold"))
        self.assertEqual((second["seq"], second["data"]), (2, "second"))

        producer.send_multipart([b"OOB", b"9", b"hold", b"now"])
        self.assertEqual(producer.recv_multipart(), [b"OK", b"9", b"1"])
        self.assertEqual(self.node.expect(is_event("oob", room="hold"))["data"], "now")

    def test_auto_ack_sendroom_peek_and_state(self):
        self.node.call("join", "auto")
        for n in range(3):
            self.assertEqual(self.node.call("sendRoom", "auto", {"n": n}, {})["seq"], n + 1)
        got = [self.node.expect(is_event("room", room="auto"))["data"]["n"] for _ in range(3)]
        self.assertEqual(got, [0, 1, 2])
        state = wait_for(lambda: (lambda s: s if s["in_flight"] is None else None)(
            self.node.call("roomState", "auto")), what="the room to drain")
        self.assertEqual([m["async"] for m in state["members"]], [False])
        self.assertEqual(self.node.call("peek", "auto", {})["messages"], [])
        self.assertEqual(self.node.call("sendRoom", "auto", "hi", {"oob": True})["count"], 1)
        self.assertEqual(self.node.expect(is_event("oob", room="auto"))["data"], "hi")

    def test_row30_send_room_names_its_producer(self):
        """SEEDS.md row 30: a message's producer, as PEEK shows it (a room that holds its messages)."""
        producer = self.dealer("rooms-clients")
        producer.send_multipart([b"ROOM", b"1", b"js.held", msgpack.packb({"hold": True})])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        self.node.call("sendRoom", "js.held", "x", {"producer": "js-page"})
        self.assertEqual([m["producer"] for m in self.node.call("peek", "js.held", {})["messages"]], ["js-page"])

    def test_observer_sees_messages_without_tokens_and_evictions(self):
        self.node.call("join", "watched", False, True)
        member = self.dealer("rooms-clients")
        member.send_multipart([b"HELLO", b"1"])
        me = member.recv_multipart()[2]
        member.send_multipart([b"JOIN", b"2", me, b"watched"])
        self.assertEqual(member.recv_multipart()[0], b"OK")
        member.send_multipart([b"SEND", b"3", b"watched", b"0", b"look"])
        self.assertEqual(member.recv_multipart()[0], b"OK")
        seen = self.node.expect(is_event("room", room="watched"))
        self.assertEqual((seen["data"], seen["token"]), ("look", None))
        # The native member never acks nor pings: it is evicted, and the observer is told who.
        timeout = self.node.expect(is_event("timeout", room="watched"), timeout=3 * CLIENT_TIMEOUT_MS / 1000)
        self.assertEqual(timeout["client"], me.decode())

    def test_a_quiet_member_keeps_its_membership_by_pinging(self):
        self.node.call("join", "quiet")
        time.sleep(1.5 * CLIENT_TIMEOUT_MS / 1000)
        members = self.node.call("roomState", "quiet")["members"]
        self.assertEqual(len(members), 1)
        self.node.none(is_event("evicted"), within=0.1)

    # ---- errors and reconnection

    def test_errors_reject_with_the_gateways_code(self):
        with self.assertRaises(ClientError) as raised:
            self.node.call("request", {"op": "no-such-op"})
        self.assertEqual(raised.exception.code, 400)
        with self.assertRaises(ClientError) as raised:
            self.node.call("unsubscribe", "never.subscribed")
        self.assertEqual(raised.exception.code, 404)
        self.assertEqual(self.node.call("publish", "still.fine", 1)["op"], "ok")

    def test_reconnect_restores_subscriptions_consumers_and_rooms(self):
        self.node.call("subscribe", "again.*")
        self.node.call("consume", "again", "upper")
        self.node.call("consume", "held", "manual")
        self.node.call("join", "again")
        producer = self.dealer("queues-producers")
        producer.send_multipart([b"SEND", b"h", b"held", b"", b"kept"])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        held = self.node.expect(is_event("task", queue="held"))
        producer.close()

        flags = dict(self.zgate.flags)
        self.zgate.stop()
        self.node.expect(is_event("close", willReconnect=True), what="the client to notice")
        self.node.expect(is_event("reconnecting"), what="a reconnect attempt")
        # A request made while disconnected waits for the connection, then follows the restored state.
        offline = {}
        publisher = threading.Thread(target=lambda: offline.update(
            answer=self.node.call("publish", "again.offline", "queued", timeout=20)))
        publisher.start()
        self.zgate = Zgate()
        self.zgate.flags = flags
        self.zgate.start()
        self.node.expect(is_event("open"), timeout=15, what="the client to reconnect")
        publisher.join(timeout=20)
        self.assertEqual(offline["answer"]["op"], "ok")
        self.assertEqual(self.node.expect(is_event("message", topic="again.offline"))["data"], "queued")
        # A delivery from the previous connection cannot be acked on this one.
        with self.assertRaises(ClientError) as raised:
            self.node.call("ackTask", held["id"])
        self.assertEqual(raised.exception.code, "stale")

        rooms = self.dealer("rooms-clients")
        wait_for(lambda: (rooms.send_multipart([b"STATE", b"s", b"again"]),
                          msgpack.unpackb(rooms.recv_multipart()[2])["members"])[1],
                 what="the room membership to be restored")
        rooms.send_multipart([b"SEND", b"1", b"again", b"0", b"back"])
        self.assertEqual(rooms.recv_multipart()[0], b"OK")
        self.assertEqual(self.node.expect(is_event("room", room="again"))["data"], "back")

        producer = self.dealer("queues-producers")
        producer.send_multipart([b"SEND", b"r", b"again", msgpack.packb({"reply": True}), b"restored"])
        task_id = producer.recv_multipart()[2]
        self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r", task_id, b"RESTORED"])

        pub = self.publisher()
        wait_for(lambda: (pub.send_multipart([b"again.topic", b"1"]),
                          self._drain_message("again.topic"))[1], what="the subscription to be restored")

    # ---- the examples/web worker and producer

    # ---- command mode, and the msgpack mode

    def test_command_reaches_one_worker_or_all(self):
        workers = []
        for name in (b"c1", b"c2"):
            worker = self.dealer("queues-workers")
            worker.send_multipart([b"READY", name, msgpack.packb({"commands": ["echo"]})])
            self.assertEqual(worker.recv_multipart()[0], b"OK")
            workers.append((name, worker))
        result = {}
        caller = threading.Thread(target=lambda: result.update(
            value=self.node.call("command", "echo/loud", "hi", {"scatter": True})))
        caller.start()
        for name, worker in workers:
            _, _, task_id, _, payload = worker.recv_multipart()
            self.assertEqual(payload, b"loud/hi")
            worker.send_multipart([b"ACK", name, task_id, name])
        caller.join(timeout=15)
        self.assertEqual(sorted(result["value"]), ["c1", "c2"])
        # without data the line is the command alone
        caller = threading.Thread(target=lambda: result.update(
            value=self.node.call("command", "echo", None, {})))
        caller.start()
        poller = zmq.Poller()
        for _, worker in workers:
            poller.register(worker, zmq.POLLIN)
        ready = dict(poller.poll(TIMEOUT_MS))
        name, worker = next((name, worker) for name, worker in workers if worker in ready)
        _, _, task_id, _, payload = worker.recv_multipart()
        self.assertEqual(payload, b"")
        worker.send_multipart([b"ACK", name, task_id, b"alone"])
        caller.join(timeout=15)
        self.assertEqual(result["value"], "alone")
        with self.assertRaises(ClientError) as raised:
            self.node.call("command", "nobody", None, {})
        self.assertEqual(raised.exception.code, 404)

    def test_msgpack_mode_carries_bytes_both_ways(self):
        node = NodeClient(self.url(), msgpack_mode=True)
        try:
            node.expect(is_event("open"), what="the msgpack client to connect")
            self.assertEqual(node.call("subscribe", "bin.*")["op"], "ok")
            pub = self.publisher()
            pub.send_multipart([b"bin.raw", b"\xff\x00\x01"])
            pub.send_multipart([b"bin.json", b'{"n": [1, 2.5, "x"]}'])
            self.assertEqual(node.expect(is_event("message", topic="bin.raw"))["data"], {"bytes": "/wAB"})
            self.assertEqual(node.expect(is_event("message", topic="bin.json"))["data"], {"n": [1, 2.5, "x"]})
            # bytes published from the client reach a native subscriber as they are
            sub = self.socket(zmq.SUB)
            sub.connect(self.zgate.endpoint("topics-subscribers"))
            sub.subscribe(b"out.")
            wait_for(lambda: node.call("publishBytes", "out.bin", "AAEC/w==") and sub.poll(100),
                     what="a msgpack publish to reach a native SUB")
            self.assertEqual(sub.recv_multipart(), [b"out.bin", b"\x00\x01\x02\xff"])
            # answers and errors come back in msgpack too
            worker = self.native_worker("mp")
            result = {}
            caller = threading.Thread(target=lambda: result.update(value=node.call("call", "mp", {"k": 7}, {})))
            caller.start()
            _, _, task_id, _, payload = worker.recv_multipart()
            self.assertEqual(json.loads(payload), {"k": 7})
            worker.send_multipart([b"ACK", b"w1", task_id, b"\x80\x81"])
            caller.join(timeout=15)
            self.assertEqual(result["value"], {"bytes": "gIE="})
            with self.assertRaises(ClientError) as raised:
                node.call("request", {"op": "nope"})
            self.assertEqual(raised.exception.code, 400)
        finally:
            code, stderr = node.close()
        self.assertEqual(code, 0, stderr)

    def test_node_worker_example_serves_the_native_producer_example(self):
        worker = subprocess.Popen([NODE, *NODE_FLAGS, os.path.join(EXAMPLES, "worker.mjs"), self.url(), "thumbs"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in worker.stdout:
                if "serving queue thumbs" in line:
                    break
            producer = subprocess.run([sys.executable, os.path.join(EXAMPLES, "producer.py"),
                                       self.zgate.endpoint("queues-producers"), "thumbs", "3"],
                                      capture_output=True, text=True, timeout=60)
            self.assertEqual(producer.returncode, 0, producer.stderr)
            done = [line for line in producer.stdout.splitlines() if " done: " in line]
            self.assertEqual(len(done), 3, producer.stdout)
            self.assertTrue(all('"thumbnail":"photo-' in line for line in done), done)
            worker.send_signal(signal.SIGINT)
            self.assertEqual(worker.wait(timeout=10), 0)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=5)
            worker.stdout.close()

    def _drain_message(self, topic):
        try:
            return self.node.expect(is_event("message", topic=topic), timeout=0.2)
        except AssertionError:
            return None


if __name__ == "__main__":
    unittest.main(verbosity=2)
