"""Names expire: one client cannot fill zgate's name tables for good (issue 11, "Names expire").

The reproducers run against a real zgate with short idle times: 10,000 SENDs to junk queues (waiting tasks
expire into the dead letters, then end dead, so the names come free), 100,000 `ROOM {hold:true}` (empty
rooms with options of their own are forgotten once idle), 100,000 HELLO on one connection (client ids per
connection are bounded, 429) and pull subscribers per address (429). After the attacker stops, another
client gets the names it asks for within a bounded wait. Then the admin API, HTTP and native: lists and
deletions, 403 without the admin permission. docs/PROTOCOL.md section 7 is the contract.
"""
import hashlib
import hmac
import base64
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402

TIMEOUT_MS = 5000
# Longer than 10,000 SENDs take (sanitizers included), so that max-queues is still full when they end
TTL_MS = 3000
# Longer than 100,000 ROOMs or HELLOs take to send (sanitizers included), so that the table is still full
# when the attacker stops
IDLE_MS = 10000


def http(port, method, path, body=None, token=None):
    """(status, JSON body or None) of one request."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            status, text = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, json.loads(text) if text else None


class NamesBase(unittest.TestCase):
    zgate_overrides = {}

    def setUp(self):
        self.zg = Zgate(**self.zgate_overrides).start()
        self.port = int(self.zg.endpoint("gateway-http-port"))
        self.context = zmq.Context()
        self.sockets = []

    def tearDown(self):
        for sock in self.sockets:
            sock.close()
        self.context.destroy(linger=0)
        code, _ = self.zg.stop()
        self.assertEqual(code, 0, "\n".join(self.zg.lines[-20:]))

    def socket(self, kind, endpoint):
        sock = self.context.socket(kind)
        self.sockets.append(sock)
        sock.linger = 0
        sock.rcvtimeo = TIMEOUT_MS
        sock.connect(self.zg.endpoint(endpoint))
        return sock

    def requests(self, sock, messages):
        """Send every request, then read one answer per request (pipelined, as an attacker would)."""
        for message in messages:
            sock.send_multipart(message)
        return [sock.recv_multipart() for _ in messages]


class QueueNamesTest(NamesBase):
    # One connection stands for the many an attacker would need past max-queues-per-connection
    # (test_names_holders.py): what is tested here is that the names expire
    zgate_overrides = {"queues_task_ttl": TTL_MS, "queues_result_ttl": 200, "queues_recent_size": 0,
                       "queues_max_queues_per_connection": 10000}

    def test_junk_queues_are_forgotten(self):
        """10,000 SENDs to junk queues fill max-queues (new names get 503); their tasks expire into the
        dead letters and end dead, so the names come free within two ttls and result-ttl."""
        attacker = self.socket(zmq.DEALER, "queues-producers")
        answers = self.requests(attacker, [[b"SEND", b"%d" % n, b"junk.%d" % n, b"", b"x"] for n in range(10000)])
        self.assertEqual({answer[0] for answer in answers}, {b"OK"})
        attacker.close()
        other = self.socket(zmq.DEALER, "queues-producers")
        other.send_multipart([b"SEND", b"o", b"mine", b"", b"x"])
        self.assertEqual(other.recv_multipart()[:3], [b"ERROR", b"o", b"503"])
        started = time.monotonic()

        def accepted():
            other.send_multipart([b"SEND", b"o", b"mine", b"", b"x"])
            return other.recv_multipart()[0] == b"OK"
        wait_for(accepted, timeout=30, interval=0.1, what="a new queue name after the junk expired")
        # Within two ttls (the queue, then its dead letters) and result-ttl, and the timers' slack
        self.assertLess(time.monotonic() - started, 2 * TTL_MS / 1000 + 5)
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["mine"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        wait_for(lambda: len(http(self.port, "GET", "/api/admin/queues")[1]["queues"]) <= 3, timeout=20,
                 what="every junk queue forgotten")

    def test_ttl_option_expires_into_the_dead_letters(self):
        """A task's own ttl: its waiting producer hears 410 "is expired", the task waits in <queue>.dead (a
        worker may take it there), and a ttl out of range is refused."""
        producer = self.socket(zmq.DEALER, "queues-producers")
        # A task that waits on keeps the queue (and its counters) named
        producer.send_multipart([b"SEND", b"k", b"orders", msgpack.packb({"ttl": 60000}), b"kept"])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        producer.send_multipart([b"SEND", b"r", b"orders", msgpack.packb({"reply": True, "ttl": 100}), b"o1"])
        ok, _, task_id = producer.recv_multipart()
        self.assertEqual(ok, b"OK")
        error = producer.recv_multipart()
        self.assertEqual(error[:3], [b"ERROR", b"r", b"410"])
        self.assertIn(b"is expired (ttl 100 ms)", error[3])
        producer.send_multipart([b"GET", b"g", task_id])
        task = msgpack.unpackb(producer.recv_multipart()[2])
        self.assertEqual((task["queue"], task["state"]), ("orders.dead", "dead"))
        self.assertEqual(http(self.port, "GET", "/api/admin/queues")[1]["queues"]["orders"]["expired"], 1)
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["orders.dead"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        deliver = worker.recv_multipart()
        self.assertEqual((deliver[0], deliver[2], deliver[4]), (b"DELIVER", task_id, b"o1"))
        for ttl in (0, 86400001, "soon"):
            producer.send_multipart([b"SEND", b"b", b"orders", msgpack.packb({"ttl": ttl}), b"x"])
            self.assertEqual(producer.recv_multipart()[:3], [b"ERROR", b"b", b"400"])
        # The web: the ttl field of POST /api/queues/{queue}
        status, body = http(self.port, "POST", "/api/queues/web", {"data": "w", "ttl": 100})
        self.assertEqual(status, 200)

        def dead():
            return http(self.port, "GET", f"/api/tasks/{body['id']}")[1].get("queue") == "web.dead"
        wait_for(dead, timeout=10, what="the web task in web.dead")


class QueueDefaultsTest(NamesBase):
    zgate_overrides = {"queues_task_ttl": 300, "queues_task_ttls": "fast.* 100ms; keep 0"}

    def test_each_queue_has_its_default_ttl(self):
        """queues/task-ttls gives queues their own default ttl (0: no limit); a task's ttl option wins; a
        queue no rule names takes task-ttl; a malformed rule stops zgate at its start."""
        producer = self.socket(zmq.DEALER, "queues-producers")
        sends = [(b"fast.a", {"reply": True}), (b"other", {}), (b"keep", {}), (b"keep", {"ttl": 200})]
        ids = []
        for queue, options in sends:
            producer.send_multipart([b"SEND", queue, queue, msgpack.packb(options), b"x"])
            ok, _, task_id = producer.recv_multipart()
            self.assertEqual(ok, b"OK")
            ids.append(task_id)
        error = producer.recv_multipart()
        self.assertEqual(error[:3], [b"ERROR", b"fast.a", b"410"])
        self.assertIn(b"(ttl 100 ms)", error[3])
        time.sleep(1.0)
        tasks = []
        for task_id in ids:
            producer.send_multipart([b"GET", b"g", task_id])
            task = msgpack.unpackb(producer.recv_multipart()[2])
            tasks.append((task["queue"], task["state"]))
        self.assertEqual(tasks, [("fast.a.dead", "dead"), ("other.dead", "dead"), ("keep", "waiting"),
                                 ("keep.dead", "dead")])
        bad = Zgate(queues_task_ttls="jobs soon")
        with self.assertRaises(AssertionError) as refused:
            bad.start()
        self.assertIn("task-ttls", str(refused.exception))


class RoomNamesTest(NamesBase):
    # As for queues, one connection stands for many past max-rooms-per-connection
    zgate_overrides = {"rooms_room_idle_timeout": IDLE_MS, "rooms_client_timeout": IDLE_MS,
                       "rooms_max_clients_per_connection": 100, "rooms_max_clients": 150,
                       "rooms_max_rooms_per_connection": 100000}

    def test_held_rooms_are_forgotten(self):
        """100,000 ROOM {hold:true} fill max-rooms (new rooms get 503); empty and idle, they are forgotten,
        and new rooms are made again."""
        attacker = self.socket(zmq.DEALER, "rooms-clients")
        hold = msgpack.packb({"hold": True})
        answers = self.requests(attacker, [[b"ROOM", b"r", b"junk.%d" % n, hold] for n in range(100000)])
        self.assertEqual({answer[0] for answer in answers}, {b"OK"})
        attacker.close()
        other = self.socket(zmq.DEALER, "rooms-clients")
        other.send_multipart([b"ROOM", b"o", b"mine", hold])
        self.assertEqual(other.recv_multipart()[:3], [b"ERROR", b"o", b"503"])

        def made():
            other.send_multipart([b"ROOM", b"o", b"mine", hold])
            return other.recv_multipart()[0] == b"OK"
        wait_for(made, timeout=3 * IDLE_MS / 1000, interval=0.1, what="a new room after the held ones went idle")

    def test_hello_is_bounded_per_connection(self):
        """100,000 HELLO on one connection: the first max-clients-per-connection get ids, the rest 429;
        other connections are not concerned, and the attacker's ids expire with client-timeout."""
        attacker = self.socket(zmq.DEALER, "rooms-clients")
        answers = self.requests(attacker, [[b"HELLO", b"h"] for _ in range(100000)])
        codes = [answer[0] if answer[0] == b"OK" else answer[2] for answer in answers]
        self.assertEqual(codes.count(b"OK"), 100)
        self.assertEqual(set(codes[100:]), {b"429"})
        self.assertIn(b"max-clients-per-connection 100", answers[-1][3])
        others = [self.socket(zmq.DEALER, "rooms-clients") for _ in range(9)]
        for other in others:
            other.send_multipart([b"HELLO", b"h"])
            self.assertEqual(other.recv_multipart()[0], b"OK")
        # A tenth connection fills max-clients (150): then it waits for the attacker's ids to expire
        late = self.socket(zmq.DEALER, "rooms-clients")
        codes = [answer[0] if answer[0] == b"OK" else answer[2]
                 for answer in self.requests(late, [[b"HELLO", b"h"]] * 50)]
        self.assertEqual((codes.count(b"OK"), set(codes[41:])), (41, {b"503"}))
        attacker.close()

        def hello():
            late.send_multipart([b"HELLO", b"h"])
            return late.recv_multipart()[0] == b"OK"
        wait_for(hello, timeout=3 * IDLE_MS / 1000, interval=0.1, what="a client id once the attacker's expired")


class PullNamesTest(NamesBase):
    zgate_overrides = {"gateway_max_pull_subscribers_per_address": 5}

    def test_pull_subscribers_are_bounded_per_address(self):
        """/api/subscribe from one address: the sixth gets 429; the admin API lists them with their holder and
        deletes one, which frees its slot."""
        ids = [http(self.port, "POST", "/api/subscribe", {"subject": f"s.{n}"})[1]["id"] for n in range(5)]
        status, body = http(self.port, "POST", "/api/subscribe", {"subject": "s.5"})
        self.assertEqual(status, 429)
        self.assertIn("max-pull-subscribers-per-address", body["message"])
        status, body = http(self.port, "GET", "/api/admin/pull")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(item["id"] for item in body["subscribers"]), sorted(ids))
        self.assertEqual({item["holder"] for item in body["subscribers"]}, {"address:127.0.0.1"})
        self.assertEqual(http(self.port, "DELETE", f"/api/admin/pull/{ids[0]}")[0], 200)
        self.assertEqual(http(self.port, "DELETE", f"/api/admin/pull/{ids[0]}")[0], 404)
        self.assertEqual(http(self.port, "POST", "/api/fetch", {"subject": "s.0", "id": ids[0]})[0], 404)
        self.assertEqual(http(self.port, "POST", "/api/subscribe", {"subject": "s.5"})[0], 200)


class AdminTest(NamesBase):
    def test_delete_queue_drops_waiting_tasks(self):
        """DELETE /api/admin/queues/{queue}: 409 with if-empty while tasks wait, then the tasks are dropped
        and counted and the producer waiting for one hears 410; the native DELETE says the same."""
        producer = self.socket(zmq.DEALER, "queues-producers")
        producer.send_multipart([b"SEND", b"r", b"junk", msgpack.packb({"reply": True}), b"x"])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        producer.send_multipart([b"SEND", b"s", b"junk", b"", b"y"])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        status, body = http(self.port, "GET", "/api/admin/queues")
        self.assertEqual((status, body["queues"]["junk"]["waiting"]), (200, 2))
        status, body = http(self.port, "DELETE", "/api/admin/queues/junk?if-empty=true")
        self.assertEqual(status, 409, body)
        self.assertEqual(http(self.port, "DELETE", "/api/admin/queues/junk?if-empty=maybe")[0], 400)
        #   A bare flag says neither true nor false; an oversized argument before it hides nothing
        self.assertEqual(http(self.port, "DELETE", "/api/admin/queues/junk?if-empty")[0], 400)
        self.assertEqual(http(self.port, "DELETE", "/api/admin/queues/junk?pad=" + "x" * 100 + "&if-empty=true")[0],
                         409)
        status, body = http(self.port, "DELETE", "/api/admin/queues/junk")
        self.assertEqual((status, body["dropped"]), (200, 2))
        error = producer.recv_multipart()
        self.assertEqual(error[:3], [b"ERROR", b"r", b"410"])
        self.assertIn(b"is deleted with its queue", error[3])
        self.assertEqual(http(self.port, "DELETE", "/api/admin/queues/junk")[0], 404)
        producer.send_multipart([b"SEND", b"t", b"again", b"", b"z"])
        self.assertEqual(producer.recv_multipart()[0], b"OK")
        producer.send_multipart([b"DELETE", b"d", b"again", msgpack.packb({"if-unused": True})])
        self.assertEqual(producer.recv_multipart(), [b"OK", b"d", b"1"])

    def test_delete_room_evicts_its_members(self):
        """DELETE /api/admin/rooms/{room}: its member hears EVICTED "deleted", its backlog is dropped; the
        rooms list shows it until then; the native DELETE on the rooms endpoint is the same command."""
        member = self.socket(zmq.DEALER, "rooms-clients")
        member.send_multipart([b"HELLO", b"h"])
        me = member.recv_multipart()[2]
        member.send_multipart([b"JOIN", b"j", me, b"lobby"])
        self.assertEqual(member.recv_multipart()[0], b"OK")
        member.send_multipart([b"ROOM", b"r", b"held", msgpack.packb({"hold": True})])
        self.assertEqual(member.recv_multipart()[0], b"OK")
        for n in range(3):
            member.send_multipart([b"SEND", b"s", b"held", b"0", b"m%d" % n])
            self.assertEqual(member.recv_multipart()[0], b"OK")
        status, body = http(self.port, "GET", "/api/admin/rooms")
        self.assertEqual(status, 200)
        self.assertIn("held", [room["room"] for room in body["top_rooms"]])
        status, body = http(self.port, "DELETE", "/api/admin/rooms/held")
        self.assertEqual((status, body["dropped"]), (200, 3))
        self.assertEqual(http(self.port, "DELETE", "/api/admin/rooms/held")[0], 404)
        member.send_multipart([b"DELETE", b"d", b"lobby"])
        answers = [member.recv_multipart(), member.recv_multipart()]
        self.assertIn([b"EVICTED", me, b"lobby", b"deleted"], answers)
        self.assertIn([b"OK", b"d", b"0"], answers)


def hs256(claims, secret):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())


class AdminSecurityTest(unittest.TestCase):
    """With security on, every admin route needs the admin permission: 403 and nothing changed without it."""

    def test_admin_routes_need_the_admin_permission(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg") as permissions:
            permissions.write("grants\n    alice\n        queues\n            send = *\n    root\n        admin = 1\n")
            permissions.flush()
            with Zgate(security_jwt_secret="s", security_permissions=permissions.name) as zg:
                port = int(zg.endpoint("gateway-http-port"))
                alice, root = hs256({"sub": "alice"}, "s"), hs256({"sub": "root"}, "s")
                self.assertEqual(http(port, "POST", "/api/queues/kept", {"data": 1}, alice)[0], 200)
                routes = [("GET", "/api/admin/queues"), ("DELETE", "/api/admin/queues/kept"),
                          ("GET", "/api/admin/rooms"), ("DELETE", "/api/admin/rooms/r"),
                          ("GET", "/api/admin/pull"), ("DELETE", "/api/admin/pull/x")]
                for method, path in routes:
                    status, body = http(port, method, path, token=alice)
                    self.assertEqual(status, 403, (path, body))
                    self.assertEqual(http(port, method, path)[0], 401, path)
                status, body = http(port, "GET", "/api/admin/queues", token=root)
                self.assertEqual((status, body["queues"]["kept"]["waiting"]), (200, 1))
                status, body = http(port, "DELETE", "/api/admin/queues/kept", token=root)
                self.assertEqual((status, body["dropped"]), (200, 1))


if __name__ == "__main__":
    unittest.main()
