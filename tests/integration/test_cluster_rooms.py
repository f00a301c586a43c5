"""Rooms across nodes (cluster/redis): members of one room on three zgate nodes stay in lockstep, priority and
out-of-band as on one node, observers, a web member through the gateway, and the death of a node (kill -9):
its members leave and the room moves on. Each test class starts its own redis-server on a free port and three
real zgate processes; every wait is bounded, and everything is stopped at the end, even on failure."""
import json
import os
import shutil
import signal
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402
from gateway_client import Ws, http, run  # noqa: E402
from test_cluster import RedisServer  # noqa: E402

TIMEOUT_MS = 5000
NODE_TIMEOUT_MS = 3000      # cluster/node-timeout: a loaded machine (ASan, CI) must not take a live node for dead
MAX_BACKLOG = 20


class Member:
    """A native rooms client on one node: HELLO, JOIN, and what it receives."""

    def __init__(self, context, node, room, mode=b"sync"):
        self.socket = context.socket(zmq.DEALER)
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.connect(node.endpoint("rooms-clients"))
        self.room = room
        self.id = self.request(b"HELLO")[2]
        assert self.request(b"JOIN", self.id, room, mode)[0] == b"OK"

    def request(self, *fields):
        self.socket.send_multipart([fields[0], b"r"] + list(fields[1:]))
        while True:
            frames = self.socket.recv_multipart()
            if frames[0] in (b"OK", b"ERROR"):
                return frames

    def next(self, kind=b"DELIVER", timeout=TIMEOUT_MS):
        """The next event of a kind (others are skipped), or None after timeout ms."""
        deadline = time.monotonic() + timeout / 1000
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self.socket.poll(left):
                return None
            frames = self.socket.recv_multipart()
            if frames[0] == kind:
                return frames

    def ack(self, deliver):
        self.socket.send_multipart([b"ACK", b"", self.id, self.room, deliver[4]])

    def ping(self):
        self.socket.send_multipart([b"PING", b"", self.id])


@unittest.skipUnless(shutil.which("redis-server"), "no redis-server on PATH (Debian's redis-server package)")
class ClusterRoomsCase(unittest.TestCase):
    """Redis and three nodes for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer().start()
        cls.nodes = []
        try:
            for _ in range(3):
                cls.nodes.append(Zgate(cluster_redis=cls.redis.address, cluster_timeout=3000,
                                       cluster_reconnect_max=200, cluster_node_timeout=NODE_TIMEOUT_MS,
                                       rooms_max_backlog=MAX_BACKLOG).start())
            for node in cls.nodes:
                wait_for(lambda: http(int(node.endpoint("gateway-http-port")), "GET", "/ready")[0] == 204,
                         timeout=15, what="/ready")
        except Exception:
            cls.tearDownClass()
            raise
        cls.context = zmq.Context()
        cls.context.linger = 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "context"):
            cls.context.destroy(linger=0)
        # every node that was not killed stops cleanly (under ASan: without a leak)
        codes = [node.stop()[0] for node in cls.nodes if node.alive()]
        cls.redis.stop()
        assert codes == [0] * len(codes), codes

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        for sock in self.sockets:
            sock.close()

    def member(self, node, room, mode=b"sync"):
        member = Member(self.context, node, room, mode)
        self.sockets.append(member.socket)
        return member

    def producer(self, node):
        sock = self.context.socket(zmq.DEALER)
        self.sockets.append(sock)
        sock.rcvtimeo = TIMEOUT_MS
        sock.connect(node.endpoint("rooms-clients"))
        return sock

    def send(self, producer, room, payload, priority=0):
        producer.send_multipart([b"SEND", b"s", room, b"%d" % priority, payload])
        answer = producer.recv_multipart()
        self.assertEqual(answer[:2], [b"OK", b"s"], answer)
        return int(answer[2])

    def oob(self, producer, room, payload):
        producer.send_multipart([b"OOB", b"o", room, payload])
        answer = producer.recv_multipart()
        self.assertEqual(answer[:2], [b"OK", b"o"], answer)
        return int(answer[2])

    def settle_members(self, producer, room, members):
        """Out-of-band probes until every member heard one: then every node's membership is in Redis."""
        deadline = time.monotonic() + 10
        waiting = list(members)
        while waiting:
            self.assertLess(time.monotonic(), deadline, "the members' nodes never joined the room in Redis")
            self.oob(producer, room, b"probe")
            waiting = [member for member in waiting if member.next(b"OOB", 50) is None]
        for member in members:
            while member.next(b"OOB", 100):
                pass

    def nobody_gets(self, members, timeout=300):
        for member in members:
            self.assertIsNone(member.next(timeout=timeout), "a message was released before every node acked")


class LockstepAcrossNodesTest(ClusterRoomsCase):
    def test_members_on_three_nodes_in_lockstep(self):
        a, b, c = self.nodes
        members = [self.member(node, b"lobby") for node in (a, b, c)]
        observer = self.member(c, b"lobby", b"async")
        producer = self.producer(b)
        self.settle_members(producer, b"lobby", members + [observer])
        seqs = [self.send(producer, b"lobby", b"m%d" % n) for n in range(3)]
        self.assertEqual(seqs, sorted(seqs))
        for round_number, seq in enumerate(seqs):
            got = [member.next() for member in members]
            for deliver in got:
                self.assertEqual((deliver[2], int(deliver[3]), deliver[5]), (b"lobby", seq, b"m%d" % round_number))
            # the observer gets each one without a token, and never holds the room
            seen = observer.next()
            self.assertEqual((seen[4], seen[5]), (b"", b"m%d" % round_number))
            # two nodes' members ack: the third node still holds the room
            members[0].ack(got[0])
            members[1].ack(got[1])
            self.nobody_gets(members)
            members[2].ack(got[2])
        self.nobody_gets(members + [observer])
        stats = a.stats("cluster")["rooms"]
        self.assertEqual((stats["errors"], stats["malformed"]), (0, 0))

    def test_priority_and_out_of_band(self):
        a, b, c = self.nodes
        members = [self.member(node, b"prio") for node in (a, b, c)]
        producers = [self.producer(node) for node in (a, b, c)]
        self.settle_members(producers[0], b"prio", members)
        self.send(producers[0], b"prio", b"first")
        firsts = [member.next() for member in members]
        # queued behind the message in flight, from three nodes: released highest priority first, FIFO among equals
        self.send(producers[1], b"prio", b"low", 1)
        self.send(producers[2], b"prio", b"high", 9)
        self.send(producers[0], b"prio", b"mid", 5)
        self.send(producers[1], b"prio", b"high2", 9)
        # out of band: at once, to every member on every node, while the room waits
        self.assertEqual(self.oob(producers[2], b"prio", b"now"), 3)
        for member in members:
            self.assertEqual(member.next(b"OOB")[3], b"now")
        for member, deliver in zip(members, firsts):
            member.ack(deliver)
        order = []
        for _ in range(4):
            got = [member.next() for member in members]
            self.assertEqual(len({deliver[5] for deliver in got}), 1)
            order.append(got[0][5])
            for member, deliver in zip(members, got):
                member.ack(deliver)
        self.assertEqual(order, [b"high", b"high2", b"mid", b"low"])

    def test_max_backlog_counts_every_nodes_sends(self):
        a, b = self.nodes[:2]
        holder = self.member(a, b"full")
        producers = [self.producer(a), self.producer(b)]
        self.settle_members(producers[0], b"full", [holder])
        self.send(producers[0], b"full", b"in flight")
        for n in range(MAX_BACKLOG):
            self.send(producers[n % 2], b"full", b"%d" % n)
        producers[1].send_multipart([b"SEND", b"x", b"full", b"0", b"over"])
        self.assertEqual(producers[1].recv_multipart(),
                         [b"ERROR", b"x", b"429", b"room 'full' is full (max-backlog %d)" % MAX_BACKLOG])

    def test_peek_state_and_metrics_from_any_node(self):
        a, b, c = self.nodes
        members = [self.member(node, b"look") for node in (a, b)]
        producers = [self.producer(node) for node in (a, b, c)]
        self.settle_members(producers[0], b"look", members)
        seq = self.send(producers[0], b"look", b"held")
        got = [member.next() for member in members]
        members[0].ack(got[0])
        producers[1].send_multipart([b"SEND", b"s", b"look", b"2", b"second", b"bob"])
        self.assertEqual(producers[1].recv_multipart()[0], b"OK")
        producers[2].send_multipart([b"SEND", b"s", b"look", b"7", b"first", b"carol"])
        self.assertEqual(producers[2].recv_multipart()[0], b"OK")
        node_a = a.stats("cluster")["node"]
        # A's ack reaches Redis a moment after it left A's member
        wait_for(lambda: self.describe(producers[2], b"STATE", b"look")["acked"] == [node_a], what="A's ack in Redis")
        for producer in producers:
            peek = self.describe(producer, b"PEEK", b"look")
            self.assertEqual((peek["room"], peek["backlog"], peek["offset"]), ("look", 2, 0))
            self.assertEqual([(m["data"], m["priority"], m["producer"]) for m in peek["messages"]],
                             [(b"first", 7, "carol"), (b"second", 2, "bob")])
            state = self.describe(producer, b"STATE", b"look")
            self.assertEqual((state["in_flight"]["seq"], state["in_flight"]["waiting"]), (seq, 1))
            self.assertEqual(sorted((m["client"], m["acked"], m["async"]) for m in state["members"]),
                             sorted([(node_a, True, False), (b.stats("cluster")["node"], False, False)]))
            metrics = self.describe(producer, b"METRICS")
            self.assertIn({"room": "look", "backlog": 2}, metrics["top_rooms"])
            self.assertGreaterEqual(metrics["in_flight"], 1)
        self.assertEqual(self.describe(producers[0], b"PEEK", b"look", b"1", b"5")["messages"][0]["data"], b"second")
        members[1].ack(got[1])
        self.assertEqual(members[0].next()[5], b"first")

    def describe(self, producer, command, *fields):
        producer.send_multipart([command, b"d"] + list(fields))
        answer = producer.recv_multipart()
        self.assertEqual(answer[:2], [b"OK", b"d"], answer)
        return msgpack.unpackb(answer[2])

    def test_web_member_in_lockstep_with_native_members(self):
        a, b, c = self.nodes

        async def scenario():
            web = await Ws.open(int(b.endpoint("gateway-http-port")))
            answer = await web.request({"op": "join", "room": "mixed", "req": 1})
            self.assertEqual(answer["op"], "ok")
            natives = [self.member(node, b"mixed") for node in (a, c)]
            producer = self.producer(a)
            # probe until the web session and the natives all hear out-of-band messages
            for _ in range(200):
                self.oob(producer, b"mixed", b'"probe"')
                try:
                    await web.next_push("oob", timeout=0.05)
                    break
                except Exception:
                    pass
            else:
                self.fail("the web member's node never joined the room in Redis")
            self.settle_members(producer, b"mixed", natives)
            web.pushed.clear()
            self.send(producer, b"mixed", json.dumps({"n": 1}).encode())
            self.send(producer, b"mixed", json.dumps({"n": 2}).encode())
            pushed = await web.next_push("room")
            self.assertEqual(pushed["data"], {"n": 1})
            got = [member.next() for member in natives]
            for member, deliver in zip(natives, got):
                member.ack(deliver)
            # the web member has not acked: the natives wait for it
            self.nobody_gets(natives)
            self.assertEqual((await web.request({"op": "ack", "room": "mixed", "token": pushed["token"],
                                                 "req": 2}))["op"], "ok")
            self.assertEqual((await web.next_push("room"))["data"], {"n": 2})
            for member in natives:
                self.assertEqual(member.next()[5], b'{"n": 2}')
            await web.close()
        run(scenario())


class NodeDeathTest(ClusterRoomsCase):
    def test_kill_9_of_a_node_evicts_its_members_and_the_room_moves_on(self):
        a, b, c = self.nodes
        members = [self.member(node, b"fate") for node in (a, b, c)]
        producer = self.producer(a)
        self.settle_members(producer, b"fate", members)
        self.send(producer, b"fate", b"one")
        self.send(producer, b"fate", b"two")
        got = [member.next() for member in members]
        members[0].ack(got[0])
        members[1].ack(got[1])
        self.nobody_gets(members[:2])
        # C's member never acks: C dies without a word
        c.process.send_signal(signal.SIGKILL)
        c.process.wait(timeout=10)
        started = time.monotonic()
        for member in members[:2]:
            deliver = member.next(timeout=NODE_TIMEOUT_MS * 5)
            self.assertIsNotNone(deliver, "the room waited for a dead node")
            self.assertEqual(deliver[5], b"two")
            member.ack(deliver)
        # within the node timeout, a sweep period (half of it) and a presence period (a third), with slack for
        # a loaded machine
        self.assertLess(time.monotonic() - started, NODE_TIMEOUT_MS * 4 / 1000)
        # the room goes on with the survivors alone
        self.send(producer, b"fate", b"three")
        for member in members[:2]:
            self.assertEqual(member.next()[5], b"three")


if __name__ == "__main__":
    unittest.main()
