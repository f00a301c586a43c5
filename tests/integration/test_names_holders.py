"""Names bounded per holder (issue 11, "no client can lock other clients out of names").

`queues/max-queues-per-connection` and `rooms/max-rooms-per-connection` bound the names one holder made and
that are not forgotten yet: a connection natively, an identity with security, a client address on the web
(the gateway names it to the actors). Each case: an attacker makes junk names up to its bound and gets 429
past it, while another holder still makes a name and does a full round trip; once the attacker's names are
forgotten its slots are free again. docs/PROTOCOL.md section 7.2 is the contract.
"""
import http.client
import json
import os
import shutil
import sys
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402
from test_names import NamesBase  # noqa: E402
from test_security import Keys  # noqa: E402

TIMEOUT_MS = 5000
BOUND = 20
HOLD = msgpack.packb({"hold": True})


def web(port, method, path, body=None, source="127.0.0.1"):
    """(status, JSON body) of one HTTP request made from a loopback source address (Linux routes all of
    127/8 on lo, so 127.0.0.2 is another client address)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None)
        reply = connection.getresponse()
        text = reply.read()
        return reply.status, json.loads(text) if text else None
    finally:
        connection.close()


class HolderBase(NamesBase):
    """test_names' zgate and sockets, with the per-holder bounds' answers."""

    def codes(self, sock, messages):
        """Send every request (pipelined), then the code of each answer: b"OK" or the ERROR's code."""
        for message in messages:
            sock.send_multipart(message)
        answers = [sock.recv_multipart() for _ in messages]
        self.last = answers[-1]
        return [answer[0] if answer[0] == b"OK" else answer[2] for answer in answers]

    def assert_bounded(self, codes, what):
        self.assertEqual(codes, [b"OK"] * BOUND + [b"429"] * (len(codes) - BOUND))
        self.assertEqual(self.last[3].decode(),
                         f"too many {what}s for one connection (max-{what}s-per-connection {BOUND})")


class QueueHoldersTest(HolderBase):
    zgate_overrides = {"queues_max_queues_per_connection": BOUND, "queues_task_ttl": 300,
                       "queues_result_ttl": 200, "queues_recent_size": 0}

    def test_one_connection_cannot_take_every_queue(self):
        attacker = self.socket(zmq.DEALER, "queues-producers")
        self.assert_bounded(self.codes(attacker, [[b"SEND", b"s", b"junk.%d" % n, b"", b"x"]
                                                  for n in range(BOUND + 10)]), "queue")
        # A READY that would make more names than its connection may is refused whole
        greedy = self.socket(zmq.DEALER, "queues-workers")
        greedy.send_multipart([b"READY", b"g", msgpack.packb({"queues": ["w.%d" % n for n in range(BOUND + 1)]})])
        self.assertEqual(greedy.recv_multipart()[:3], [b"ERROR", b"g", b"429"])
        queues = web(self.port, "GET", "/api/admin/queues")[1]["queues"]
        self.assertEqual(sorted(queues), sorted("junk.%d" % n for n in range(BOUND)))

        # Another connection makes its queue, and a worker serves it: send, deliver, ack, reply
        producer = self.socket(zmq.DEALER, "queues-producers")
        producer.send_multipart([b"SEND", b"r", b"mine", msgpack.packb({"reply": True}), b"job"])
        ok, _, task_id = producer.recv_multipart()
        self.assertEqual(ok, b"OK")
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["mine"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        deliver = worker.recv_multipart()
        self.assertEqual((deliver[0], deliver[2], deliver[-1]), (b"DELIVER", task_id, b"job"))
        worker.send_multipart([b"ACK", b"w", task_id, b"done"])
        self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r", task_id, b"done"])

        # The junk tasks expire into their dead letters (made by zgate, charged to nobody), the junk
        # queues are forgotten, and the attacker's slots are free again
        def free():
            return not any(name.startswith("junk.") and not name.endswith(".dead")
                           for name in web(self.port, "GET", "/api/admin/queues")[1]["queues"])
        wait_for(free, timeout=20, what="the junk queues forgotten")
        self.assert_bounded(self.codes(attacker, [[b"SEND", b"s", b"again.%d" % n, b"", b"x"]
                                                  for n in range(BOUND + 1)]), "queue")


class RoomHoldersTest(HolderBase):
    zgate_overrides = {"rooms_max_rooms_per_connection": BOUND, "rooms_room_idle_timeout": 300}

    def test_one_connection_cannot_take_every_room(self):
        attacker = self.socket(zmq.DEALER, "rooms-clients")
        self.assert_bounded(self.codes(attacker, [[b"ROOM", b"r", b"junk.%d" % n, HOLD]
                                                  for n in range(BOUND + 10)]), "room")
        # A JOIN that would make a room is charged as ROOM is
        attacker.send_multipart([b"HELLO", b"h"])
        me = attacker.recv_multipart()[2]
        attacker.send_multipart([b"JOIN", b"j", me, b"more"])
        self.assertEqual(attacker.recv_multipart()[:3], [b"ERROR", b"j", b"429"])

        # Another connection makes its room and does a round trip: join, send, deliver, ack
        member = self.socket(zmq.DEALER, "rooms-clients")
        member.send_multipart([b"HELLO", b"h"])
        client = member.recv_multipart()[2]
        member.send_multipart([b"JOIN", b"j", client, b"mine"])
        self.assertEqual(member.recv_multipart()[0], b"OK")
        member.send_multipart([b"SEND", b"s", b"mine", b"0", b"hello"])
        answers = [member.recv_multipart(), member.recv_multipart()]
        deliver = next(answer for answer in answers if answer[0] == b"DELIVER")
        self.assertIn([b"OK", b"s", deliver[3]], answers)
        self.assertEqual(deliver[-1], b"hello")
        member.send_multipart([b"ACK", b"k", client, b"mine", deliver[4]])
        self.assertEqual(member.recv_multipart(), [b"OK", b"k"])
        self.assertEqual(self.zg.stats("rooms")["acked"], 1)

        # Empty and idle, the attacker's rooms are forgotten: its slots are free again
        wait_for(lambda: self.zg.stats("rooms")["rooms"] <= 1, timeout=20, what="the junk rooms forgotten")
        self.assert_bounded(self.codes(attacker, [[b"ROOM", b"r", b"again.%d" % n, HOLD]
                                                  for n in range(BOUND + 1)]), "room")


class WebHoldersTest(HolderBase):
    # Rooms hold their messages, so a room the web made by a send stays (until an admin deletes it)
    zgate_overrides = {"queues_max_queues_per_connection": 5, "rooms_max_rooms_per_connection": 5,
                       "rooms_hold": 1}

    def test_one_address_cannot_take_the_gateways_share(self):
        """The web's sessions share the gateway's one connection to each actor: its names are charged to each
        client's address, so one address is bounded and another is not concerned."""
        for path, what in (("/api/queues/junk%d", "queues"), ("/api/rooms/junk%d", "rooms")):
            statuses = [web(self.port, "POST", path % n, {"data": n}, "127.0.0.2")[0] for n in range(5)]
            self.assertEqual(statuses, [200] * 5, path)
            status, body = web(self.port, "POST", path % 5, {"data": 5}, "127.0.0.2")
            self.assertEqual(status, 429, body)
            self.assertIn(f"too many {what} for one address (max-{what}-per-connection 5)", body["message"])
            self.assertEqual(web(self.port, "POST", path % 6, {"data": 6}, "127.0.0.1")[0], 200, path)

        # 127.0.0.1's task goes round: sent on the web, served by a native worker, its reply read back
        status, body = web(self.port, "POST", "/api/queues/mine", {"data": "job"})
        self.assertEqual(status, 200, body)
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["mine"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        deliver = worker.recv_multipart()
        worker.send_multipart([b"ACK", b"w", deliver[2], b"done"])

        def done():
            task = web(self.port, "GET", f"/api/tasks/{body['id']}")[1]
            return task.get("state") == "done" and task.get("data") == "done"
        wait_for(done, timeout=10, what="the web task done")

        # Deleted by an admin, a name is forgotten and its holder's slot is free again
        self.assertEqual(web(self.port, "DELETE", "/api/admin/queues/junk0")[0], 200)
        self.assertEqual(web(self.port, "DELETE", "/api/admin/rooms/junk0")[0], 200)
        self.assertEqual(web(self.port, "POST", "/api/queues/junk9", {"data": 9}, "127.0.0.2")[0], 200)
        self.assertEqual(web(self.port, "POST", "/api/rooms/junk9", {"data": 9}, "127.0.0.2")[0], 200)
        self.assertEqual(web(self.port, "POST", "/api/rooms/junk10", {"data": 10}, "127.0.0.2")[0], 429)


class IdentityHoldersTest(unittest.TestCase):
    def test_connections_of_one_identity_share_its_bound(self):
        """With security on, the holder is the identity: a second connection of alice's is refused past
        alice's bound (the error says identity), while bob is not concerned."""
        keys = Keys()
        keys.make("alice")
        keys.make("bob")
        context = zmq.Context()
        try:
            with Zgate(queues_max_queues_per_connection=3, **keys.flags()) as zg:
                def producer(name):
                    sock = context.socket(zmq.DEALER)
                    sock.linger = 0
                    sock.rcvtimeo = TIMEOUT_MS
                    keys.apply(sock, name)
                    sock.connect(zg.endpoint("queues-producers"))
                    return sock

                def code(sock, queue):
                    sock.send_multipart([b"SEND", b"s", queue, b"", b"x"])
                    answer = sock.recv_multipart()
                    return answer[0] if answer[0] == b"OK" else answer[2:]
                first, second, bob = producer("alice"), producer("alice"), producer("bob")
                self.assertEqual([code(first, b"jobs.%d" % n) for n in range(3)], [b"OK"] * 3)
                self.assertEqual(code(second, b"jobs.3"),
                                 [b"429", b"too many queues for one identity (max-queues-per-connection 3)"])
                self.assertEqual(code(bob, b"jobs.4"), b"OK")
                # A name already made is no new charge
                self.assertEqual(code(second, b"jobs.0"), b"OK")
        finally:
            context.destroy(linger=0)
            shutil.rmtree(keys.root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
