"""Hostile clients against a real zgate: no client can push its memory past the budget or lock others out.

Each case runs a reproducer of the bounded-by-bytes issue against a zgate with small limits while a canary
client does valid round trips on every pattern (topics, queues, rooms), and checks that zgate's RSS (read
from /proc) stays within the memory budget, that the canary never fails, and that what the attacker held is
released once it leaves. Every case is bounded in time and in memory (tens of MB).
"""
import asyncio
import json
import os
import socket
import struct
import sys
import threading
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402
from gateway_client import RawWs, Ws, http, run  # noqa: E402

MIB = 1 << 20
BUDGET = 96 * MIB
QUEUE_BYTES = 8 * MIB
BACKLOG_BYTES = 8 * MIB
TIMEOUT_MS = 5000
# ASan keeps freed memory in quarantine (256 MB by default) before it reuses it: RSS grows by that much
# more under the sanitizers without any leak
SANITIZED = os.environ.get("ZGATE_SANITIZED", "").upper() in ("1", "ON", "TRUE", "YES")
RSS_SLACK = (256 * MIB if SANITIZED else 0) + 32 * MIB


def rss(pid):
    """Resident set size of a process, bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Canary(threading.Thread):
    """Valid round trips on every pattern, in a loop, until stopped; any failure is recorded."""

    def __init__(self, zg, context):
        super().__init__(daemon=True)
        self.zg, self.context = zg, context
        self.rounds = 0
        self.failures = []
        self.stopping = threading.Event()
        self.sockets = []

    def _socket(self, kind, endpoint):
        sock = self.context.socket(kind)
        sock.rcvtimeo = TIMEOUT_MS
        sock.linger = 0
        sock.connect(self.zg.endpoint(endpoint))
        self.sockets.append(sock)
        return sock

    def connect(self):
        self.sub = self._socket(zmq.SUB, "topics-subscribers")
        self.sub.subscribe(b"canary.")
        self.pub = self._socket(zmq.PUB, "topics-publishers")
        self.producer = self._socket(zmq.DEALER, "queues-producers")
        self.worker = self._socket(zmq.DEALER, "queues-workers")
        self.worker.send_multipart([b"READY", b"canary", msgpack.packb({"queues": ["canary"]})])
        assert self.worker.recv_multipart()[0] == b"OK"
        self.member = self._socket(zmq.DEALER, "rooms-clients")
        self.member.send_multipart([b"HELLO", b"h"])
        self.me = self.member.recv_multipart()[2]
        self.member.send_multipart([b"JOIN", b"j", self.me, b"canary"])
        assert self.member.recv_multipart()[0] == b"OK"
        # A publisher reaches zgate once zgate's subscription reached it: probe until a message comes back
        def probe():
            self.pub.send_multipart([b"canary.probe", b"x"])
            return self.sub.poll(50) and self.sub.recv_multipart()
        wait_for(probe, what="the canary's topic round trip")

    def round_trip(self):
        """One valid exchange per pattern; raises on any failure."""
        self.rounds += 1
        tag = b"%d" % self.rounds
        self.pub.send_multipart([b"canary.t", tag])
        while True:
            topic, data = self.sub.recv_multipart()
            if data == tag:
                break
        self.producer.send_multipart([b"SEND", tag, b"canary", msgpack.packb({"reply": True}), tag])
        answer = self.producer.recv_multipart()
        assert answer[0] == b"OK", answer
        deliver = self.worker.recv_multipart()
        assert deliver[0] == b"DELIVER" and deliver[4] == tag, deliver
        self.worker.send_multipart([b"ACK", b"canary", deliver[2], b"re:" + tag])
        reply = self.producer.recv_multipart()
        assert reply[0] == b"REPLY" and reply[-1] == b"re:" + tag, reply
        self.member.send_multipart([b"SEND", b"s" + tag, b"canary", b"0", tag])
        token = None
        answered = False
        while token is None or not answered:
            frames = self.member.recv_multipart()
            if frames[0] == b"OK" and frames[1] == b"s" + tag:
                answered = True
            elif frames[0] == b"DELIVER" and frames[-1] == tag:
                token = frames[4]
            else:
                assert frames[0] != b"ERROR", frames
        self.member.send_multipart([b"ACK", b"a" + tag, self.me, b"canary", token])
        assert self.member.recv_multipart()[:2] == [b"OK", b"a" + tag]

    def run(self):
        while not self.stopping.is_set():
            try:
                self.round_trip()
            except Exception as error:  # noqa: BLE001 - every failure is the test's business
                self.failures.append(repr(error))
                return
            time.sleep(0.02)

    def finish(self):
        """Stop, leave (so that a later canary on the same zgate is not held up by this one's room
        membership or queue seat) and return the failures."""
        self.stopping.set()
        self.join(timeout=30)
        if not self.failures:
            self.worker.send_multipart([b"BYE", b"canary"])
            self.member.send_multipart([b"BYE", b"b", self.me])
            assert self.member.recv_multipart()[:2] == [b"OK", b"b"]
        for sock in self.sockets:
            sock.close()
        return self.failures


class AttackBase(unittest.TestCase):
    """One zgate with small limits (and the case's zgate_overrides) per case; the canary runs through each
    attack."""
    zgate_overrides = {}

    def setUp(self):
        self.zg = Zgate(server_memory_budget=BUDGET, queues_max_queue_bytes=QUEUE_BYTES,
                        rooms_max_backlog_bytes=BACKLOG_BYTES, **self.zgate_overrides).start()
        self.start_clients()

    def tearDown(self):
        self.stop_clients()
        self.zg.stop()

    def start_clients(self):
        """The case's context and a connected canary that has done one round trip; RSS from now on."""
        self.context = zmq.Context()
        self.sockets = []
        self.canary = Canary(self.zg, self.context)
        self.canary.connect()
        self.canary.round_trip()
        self.baseline = rss(self.zg.process.pid)
        self.peak = self.baseline

    def stop_clients(self):
        for sock in self.sockets:
            sock.close()
        self.context.destroy(linger=0)

    def sample(self):
        self.peak = max(self.peak, rss(self.zg.process.pid))

    def start_canary(self):
        self.canary.start()

    def assert_bounded(self):
        self.sample()
        self.assertTrue(self.zg.alive(), "\n".join(self.zg.lines[-20:]))
        self.assertLess(self.peak - self.baseline, BUDGET + RSS_SLACK,
                        f"RSS grew from {self.baseline >> 20} MB to {self.peak >> 20} MB")

    def assert_canary_ok(self):
        self.assertEqual(self.canary.finish(), [])
        self.assertGreater(self.canary.rounds, 1)

    def socket(self, kind, endpoint, **options):
        sock = self.context.socket(kind)
        sock.linger = 0
        sock.rcvtimeo = TIMEOUT_MS
        for name, value in options.items():
            sock.setsockopt(getattr(zmq, name.upper()), value)
        sock.connect(self.zg.endpoint(endpoint))
        self.sockets.append(sock)
        return sock

    def fill(self, sock, request, limit):
        """Send twice limit bytes of 1 MiB requests (request(index) gives the frames): the first limit bytes
        are accepted, every later request gets 429 and changes nothing."""
        codes = []
        for index in range(2 * limit // MIB):
            sock.send_multipart(request(index))
            answer = sock.recv_multipart()
            codes.append(answer[0] if answer[0] == b"OK" else answer[2])
        self.assertEqual(codes.count(b"OK"), limit // MIB)
        self.assertEqual(set(codes[limit // MIB:]), {b"429"})

    def drain(self, queues, count):
        """A worker takes and acks count tasks from these queues, then leaves."""
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"drain", msgpack.packb({"queues": queues, "prefetch": 100})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        for _ in range(count):
            frames = worker.recv_multipart()
            self.assertEqual(frames[0], b"DELIVER")
            worker.send_multipart([b"ACK", b"drain", frames[2]])
        worker.send_multipart([b"BYE", b"drain"])

    def api_stats(self, section):
        """An actor's counters from /api/stats (the log lines of a busy queues actor are cut), once the
        gateway has them (the other actors' come every gateway/peer-stats-interval)."""
        def fetch():
            status, body, _ = http(self.zg.endpoint("gateway-http-port"), "GET", "/api/stats")
            return status == 200 and json.loads(body).get(section)
        return wait_for(fetch, what=f"/api/stats with {section}")

    def gateway_stats(self):
        return self.api_stats("gateway")

    def raw_peer(self, endpoint, socket_type, rcvbuf=0):
        """A TCP connection that has spoken ZMTP 3.0's greeting and READY as socket_type, as an attacker
        that needs no libzmq would (with a receive buffer of rcvbuf bytes, or the system's)."""
        host, port = self.zg.endpoint(endpoint)[len("tcp://"):].rsplit(":", 1)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(5)
        raw.connect((host, int(port)))
        raw.sendall(b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" * 32)
        body = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
        raw.sendall(bytes([0x04, len(body)]) + body)
        # zgate's greeting (64 bytes) and READY, before anything else is sent
        received = b""
        while len(received) < 64 or b"Socket-Type" not in received[64:]:
            chunk = raw.recv(4096)
            self.assertTrue(chunk, "zgate closed the connection during the handshake")
            received += chunk
        return raw

    def assert_connected(self, raw):
        """zgate keeps the connection: nothing to read, no end of stream, for a while."""
        raw.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            while raw.recv(65536):
                pass
        raw.settimeout(5)

    def assert_disconnected(self, raw):
        """zgate closes the connection (within the socket's timeout)."""
        while raw.recv(65536):
            pass
        raw.close()



class AttackTestCase(AttackBase):
    def test_huge_subscriptions_are_refused(self):
        """Three SUBs subscribe 30 MB each: zgate drops them (XPUB maxmsgsize), others go on."""
        self.start_canary()
        # The control: a raw peer with a valid subscription stays connected
        control = self.raw_peer("topics-subscribers", b"SUB")
        control.sendall(b"\x00\x09\x01control.")
        self.assert_connected(control)
        control.close()
        for _ in range(3):
            raw = self.raw_peer("topics-subscribers", b"SUB")
            subscription = b"\x01" + b"x" * (30 * MIB)
            try:
                raw.sendall(b"\x02" + struct.pack(">Q", len(subscription)) + subscription)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assert_disconnected(raw)
            self.sample()
        self.assert_bounded()
        self.assert_canary_ok()

    def test_frame_header_claiming_2_63_bytes(self):
        """A raw ZMTP peer announces a frame of 2^63-1 bytes on every client-facing port: it is disconnected."""
        self.start_canary()
        for endpoint, socket_type in (("topics-subscribers", b"SUB"), ("topics-publishers", b"PUB"),
                                      ("topics-history-requests", b"DEALER"), ("queues-producers", b"DEALER"),
                                      ("queues-workers", b"DEALER"), ("rooms-clients", b"DEALER")):
            raw = self.raw_peer(endpoint, socket_type)
            raw.sendall(b"\x02" + struct.pack(">Q", (1 << 63) - 1) + b"\x01" * 1024)
            self.assert_disconnected(raw)
        self.assert_bounded()
        self.assert_canary_ok()

    def test_queue_bytes_are_bounded(self):
        """1 MiB tasks to a queue nobody serves: 429 at max-queue-bytes, the queue's bytes within it."""
        self.start_canary()
        producer = self.socket(zmq.DEALER, "queues-producers")

        def junk():
            return self.api_stats("queues")["queues"].get("junk", {"sent": 0})
        sent = junk()["sent"]
        self.fill(producer, lambda index: [b"SEND", b"%d" % index, b"junk", b"", b"p" * MIB], QUEUE_BYTES)
        wait_for(lambda: junk()["sent"] == sent + QUEUE_BYTES // MIB, what="fresh queue counters")
        self.assertLessEqual(junk()["bytes"], QUEUE_BYTES)
        self.assert_bounded()
        self.assertGreater(self.gateway_stats()["budget"]["refused_account"], 0)
        self.drain(["junk"], QUEUE_BYTES // MIB)
        wait_for(lambda: junk()["bytes"] == 0, what="the junk bytes to go")
        self.assert_canary_ok()

    def test_memory_alarm_refuses_then_recovers(self):
        """Many queues of 1 MiB tasks: past the budget SEND gets 507 (counted in /metrics) until usage
        falls; once the attacker's tasks are consumed the alarm falls and the canary works again."""
        producer = self.socket(zmq.DEALER, "queues-producers")
        payload = b"p" * MIB
        accepted, refused = 0, 0
        for index in range(2 * BUDGET // MIB):
            producer.send_multipart([b"SEND", b"%d" % index, b"junk%d" % (index // 4), b"", payload])
            answer = producer.recv_multipart()
            if answer[0] == b"OK":
                accepted += 1
            else:
                self.assertEqual(answer[2], b"507", answer)
                refused += 1
            self.sample()
        self.assertGreater(refused, 0)
        self.assertLessEqual(accepted * MIB, BUDGET)
        self.assert_bounded()
        # The alarm refuses everyone's new work, the canary's too: that is the documented policy
        self.canary.producer.send_multipart([b"SEND", b"c", b"canary", b"", b"x"])
        self.assertEqual(self.canary.producer.recv_multipart()[2], b"507")
        status, body, _ = http(self.zg.endpoint("gateway-http-port"), "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b'zgate_memory_refused_total{limit="budget"}', body)
        self.assertIn(b"zgate_memory_alarm 1", body)
        # Nothing accepted is lost: a worker takes every task; their bytes go back and the alarm falls
        self.drain(sorted({"junk%d" % (index // 4) for index in range(accepted)}), accepted)
        wait_for(lambda: self.gateway_stats()["budget"]["alarm"] == 0, what="the alarm to fall")
        self.start_canary()
        time.sleep(0.5)
        self.assert_canary_ok()

    def test_room_backlog_bytes_are_bounded(self):
        """A held room fills with 1 MiB messages: 429 at max-backlog-bytes; a member then drains it."""
        self.start_canary()
        attacker = self.socket(zmq.DEALER, "rooms-clients")
        attacker.send_multipart([b"ROOM", b"r", b"held", msgpack.packb({"hold": True})])
        self.assertEqual(attacker.recv_multipart()[0], b"OK")
        self.fill(attacker, lambda index: [b"SEND", b"%d" % index, b"held", b"0", b"m" * MIB], BACKLOG_BYTES)
        self.assert_bounded()
        used = self.gateway_stats()["budget"]["used"]
        self.assertGreaterEqual(used, BACKLOG_BYTES)
        # A member takes the backlog: every message is delivered, its bytes go back
        attacker.send_multipart([b"HELLO", b"h"])
        me = attacker.recv_multipart()[2]
        attacker.send_multipart([b"JOIN", b"j", me, b"held"])
        delivered = 0
        while delivered < BACKLOG_BYTES // MIB:
            frames = attacker.recv_multipart()
            if frames[0] == b"DELIVER":
                delivered += 1
                attacker.send_multipart([b"ACK", b"", me, b"held", frames[4]])
        wait_for(lambda: self.gateway_stats()["budget"]["used"] < MIB, what="the room's bytes to go back")
        attacker.send_multipart([b"BYE", b"", me])
        self.assert_canary_ok()

    def test_rest_wait_is_range_checked(self):
        """A wait of 2^63-1 ms is refused before any arithmetic (no signed overflow under UBSan)."""
        self.start_canary()
        port = self.zg.endpoint("gateway-http-port")
        status, body, _ = http(port, "POST", "/api/queues/q", {"data": 1, "wait": 9223372036854775807})
        self.assertEqual(status, 400, body)
        status, _, _ = http(port, "POST", "/api/queues/q", {"data": 1, "wait": -1})
        self.assertEqual(status, 400)
        self.assert_bounded()
        self.assert_canary_ok()


class RoomNamesTest(AttackBase):
    zgate_overrides = {"rooms_max_rooms": 50, "rooms_room_idle_timeout": 500}

    def test_rooms_made_by_room_expire(self):
        """ROOM {hold:true} until max-rooms: new rooms get 503 while the attacker's rooms are fresh, and
        the attacker's empty rooms are forgotten after room-idle-timeout, with nobody connected."""
        self.start_canary()
        attacker = self.socket(zmq.DEALER, "rooms-clients")
        options = msgpack.packb({"hold": True})
        made = 0
        while True:
            attacker.send_multipart([b"ROOM", b"r", b"junk%d" % made, options])
            answer = attacker.recv_multipart()
            if answer[0] != b"OK":
                self.assertEqual(answer[2], b"503", answer)
                break
            made += 1
        self.assertEqual(made, 49)  # the canary's room is the fiftieth
        attacker.close()
        wait_for(lambda: self.zg.stats("rooms")["rooms"] == 1, timeout=10, what="the junk rooms to expire")
        self.assertEqual(self.zg.stats("rooms")["expired"], 49)
        self.assert_canary_ok()


class WebSessionsPerAddressTest(unittest.TestCase):
    def test_one_address_cannot_take_every_session(self):
        """Past gateway/max-sessions-per-address an address's upgrades get 429; a closed session makes room."""
        with Zgate(gateway_max_sessions_per_address=3) as zg:
            port = int(zg.endpoint("gateway-http-port"))
            sessions = [RawWs(port) for _ in range(3)]
            self.assertEqual([session.status for session in sessions], [101] * 3)
            refused = RawWs(port)
            self.assertEqual(refused.status, 429)
            self.assertIn(b"too many sessions from this address", refused.read_until_closed(5))
            refused.close()
            sessions.pop().close()
            wait_for(lambda: zg.stats("gateway")["sessions"] == 2, what="the session to close")
            sessions.append(RawWs(port))
            self.assertEqual(sessions[-1].status, 101)
            for session in sessions:
                session.close()


class WebRequestBoundsTest(unittest.TestCase):
    def test_consume_checks_prefetch_before_ok(self):
        """A prefetch over queues/max-prefetch is refused at once (it used to answer ok, then push a 400 every
        second); one within it is ok."""
        with Zgate(queues_max_prefetch=5) as zg:
            port = int(zg.endpoint("gateway-http-port"))

            async def scenario():
                session = await Ws.open(port)
                answer = await session.request({"op": "consume", "queue": "q", "prefetch": 6, "req": 1})
                self.assertEqual((answer["op"], answer["code"]), ("error", 400))
                answer = await session.request({"op": "consume", "queue": "q", "prefetch": 5, "req": 2})
                self.assertEqual(answer["op"], "ok")
                with self.assertRaises(asyncio.TimeoutError):
                    await session.next_push("error", timeout=1.5)
                await session.close()
            run(scenario(), timeout=30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
