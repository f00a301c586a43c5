"""Several zgate nodes on one Redis (cluster/redis): topics across nodes, native and web, and /ready while
Redis is away. Every test starts its own redis-server on a free port and three real zgate processes; every
wait is bounded, and everything is stopped at the end."""
import asyncio
import json
import os
import shutil
import signal
import sys
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_everything, wait_for  # noqa: E402
from gateway_client import Ws, http, run  # noqa: E402
from redis_harness import RedisServer  # noqa: E402

TIMEOUT_MS = 5000
NODES = 3


@unittest.skipUnless(shutil.which("redis-server"), "no redis-server on PATH (Debian's redis-server package)")
class ClusterTestCase(unittest.TestCase):
    """Redis and three nodes for the whole class, each node's stats logged every 100 ms."""

    # More zgate settings for every node, for a subclass
    options = {}

    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer().start()
        cls.nodes = []
        try:
            for _ in range(NODES):
                cls.nodes.append(Zgate(cluster_redis=cls.redis.address, cluster_timeout=1000,
                                       cluster_reconnect_max=200, topics_sndhwm=200000,
                                       topics_rcvhwm=200000, **cls.options).start())
        except Exception:
            cls.tearDownClass()
            raise
        cls.context = zmq.Context()
        cls.context.linger = 0
        for node in cls.nodes:
            cls.wait_ready(node)

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "context"):
            cls.context.destroy(linger=0)
        codes = [node.stop()[0] for node in cls.nodes]
        cls.redis.stop()
        assert codes == [0] * len(codes), codes

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        """Close the test's sockets and wait until no node holds a prefix in Redis, so tests do not see
        each other's subscriptions."""
        for sock in self.sockets:
            sock.close()
        for node in self.nodes:
            wait_for(lambda: self.cluster_stats(node)["topics"]["prefixes"] == 0, what="the prefixes gone")

    @staticmethod
    def ready(node):
        return http(int(node.endpoint("gateway-http-port")), "GET", "/ready")[0]

    @classmethod
    def wait_ready(cls, node, status=204):
        wait_for(lambda: cls.ready(node) == status, timeout=15, what=f"/ready {status}")

    def subscriber(self, node, *prefixes):
        sub = self.context.socket(zmq.SUB)
        sub.rcvhwm = 200000
        sub.rcvtimeo = TIMEOUT_MS
        sub.connect(node.endpoint("topics-subscribers"))
        for prefix in prefixes:
            sub.subscribe(prefix)
        self.sockets.append(sub)
        return sub

    def publisher(self, node):
        """An XPUB publishes like a PUB and also shows when zgate's XSUB has connected."""
        pub = self.context.socket(zmq.XPUB)
        pub.sndhwm = 200000
        pub.rcvtimeo = TIMEOUT_MS
        pub.connect(node.endpoint("topics-publishers"))
        self.sockets.append(pub)
        wait_everything(pub)
        return pub

    def reach(self, pub, topic, subs):
        """Publish probes until every subscriber got one (the subscriptions are in effect in Redis too),
        then drain them all until quiet."""
        waiting = list(subs)
        deadline = time.monotonic() + 10
        while waiting:
            self.assertLess(time.monotonic(), deadline, "a probe did not cross the cluster in 10 s")
            pub.send_multipart([topic, b"probe"])
            waiting = [sub for sub in waiting if not sub.poll(20)]
        for sub in subs:
            while sub.poll(300):
                sub.recv_multipart()

    def cluster_stats(self, node):
        return node.stats("cluster")


class TopicsAcrossNodesTest(ClusterTestCase):
    def test_native_fan_out_once_in_order_per_publisher(self):
        a, b, c = self.nodes
        subs = [self.subscriber(b, b"orders."), self.subscriber(c, b"orders."), self.subscriber(c, b"orders.eu"),
                self.subscriber(a, b"orders.")]
        publishers = {b"A": self.publisher(a), b"B": self.publisher(b)}
        for pub in publishers.values():
            self.reach(pub, b"orders.eu.probe", subs)
        count = 2000
        for n in range(count):
            for name, pub in publishers.items():
                pub.send_multipart([b"orders.eu.%s" % name, b"%d" % n])
        for sub in subs:
            seen = {name: [] for name in publishers}
            for _ in range(count * len(publishers)):
                topic, payload = sub.recv_multipart()
                seen[topic.rsplit(b".", 1)[1]].append(int(payload))
            # every message once, each publisher's in its order, and nothing more
            for name in publishers:
                self.assertEqual(seen[name], list(range(count)))
            self.assertEqual(sub.poll(300), 0)
        # C got each message from Redis once though two of its prefixes matched
        stats = self.cluster_stats(c)
        self.assertGreaterEqual(stats["topics"]["duplicates"], count * len(publishers))
        self.assertTrue(stats["healthy"])
        for node in self.nodes:
            topics = self.cluster_stats(node)["topics"]
            self.assertEqual((topics["dropped"], topics["refused"], topics["malformed"]), (0, 0, 0))

    def test_nodes_ask_redis_only_for_their_own_prefixes(self):
        a, b, c = self.nodes
        only_c = self.subscriber(c, b"only.c.")
        wait_for(lambda: self.cluster_stats(c)["topics"]["prefixes"] == 1, what="C's new prefix")
        pub = self.publisher(b)
        self.reach(pub, b"only.c.probe", [only_c])
        received_a = self.cluster_stats(a)["topics"]["received"]
        for n in range(100):
            pub.send_multipart([b"only.c.x", b"%d" % n])
        self.assertEqual([int(only_c.recv_multipart()[1]) for _ in range(100)], list(range(100)))
        # A subscribed to nothing of it in Redis, so nothing of it reached A
        wait_for(lambda: self.cluster_stats(c)["topics"]["received"] >= 100, what="C's counters")
        self.assertEqual(self.cluster_stats(a)["topics"]["received"], received_a)
        # the last local subscriber of a prefix gone, the node unsubscribes in Redis
        only_c.close()
        wait_for(lambda: self.cluster_stats(c)["topics"]["prefixes"] == 0, what="C's prefix gone")
        wait_for(lambda: self.cluster_stats(c)["shards"][0]["prefixes"] == 0, what="Redis' confirmation")

    def test_web_sessions_across_nodes(self):
        a, b, c = self.nodes

        async def scenario():
            web_b = await Ws.open(int(b.endpoint("gateway-http-port")))
            web_c = await Ws.open(int(c.endpoint("gateway-http-port")), binary=True)
            self.assertEqual(await web_b.request({"op": "subscribe", "topic": "chat.*", "req": 1}),
                             {"op": "ok", "req": 1})
            self.assertEqual(await web_c.request({"op": "subscribe", "topic": "chat.lobby", "req": 1}),
                             {"op": "ok", "req": 1})
            # a native publisher on A, probing until both web sessions hear it
            pub = self.publisher(a)
            for web in (web_b, web_c):
                for _ in range(500):
                    pub.send_multipart([b"chat.lobby", b'"probe"'])
                    try:
                        await web.next_push("message", timeout=0.02)
                        break
                    except asyncio.TimeoutError:
                        pass
                else:
                    self.fail("no probe reached a web session across nodes")
            await asyncio.sleep(0.3)
            web_b.pushed.clear()
            web_c.pushed.clear()
            while True:
                try:
                    await web_b.recv(timeout=0.2)
                except asyncio.TimeoutError:
                    break
            while True:
                try:
                    await web_c.recv(timeout=0.2)
                except asyncio.TimeoutError:
                    break
            for n in range(200):
                pub.send_multipart([b"chat.lobby", json.dumps({"n": n}).encode()])
            for web in (web_b, web_c):
                got = [(await web.next_push("message"))["data"]["n"] for _ in range(200)]
                self.assertEqual(got, list(range(200)))
            # a web publish on A reaches a web session on B and a native subscriber on C
            native_c = self.subscriber(c, b"chat.")
            web_a = await Ws.open(int(a.endpoint("gateway-http-port")))
            for _ in range(500):
                await web_a.request({"op": "publish", "topic": "chat.probe", "data": 0, "req": "p"})
                if native_c.poll(20):
                    break
            while native_c.poll(300):
                native_c.recv_multipart()
            web_b.pushed.clear()
            while True:
                try:
                    await web_b.recv(timeout=0.2)
                except asyncio.TimeoutError:
                    break
            await web_a.request({"op": "publish", "topic": "chat.news", "data": {"from": "a"}, "req": 2})
            self.assertEqual(await web_b.next_push("message"),
                             {"op": "message", "topic": "chat.news", "data": {"from": "a"}})
            self.assertEqual(native_c.recv_multipart(), [b"chat.news", b'{"from":"a"}'])
            with self.assertRaises(asyncio.TimeoutError):
                await web_b.next_push("message", timeout=0.3)
            for web in (web_a, web_b, web_c):
                await web.close()
        run(scenario())


class RedisRestartTest(ClusterTestCase):
    def test_nodes_are_unready_without_redis_and_recover(self):
        a, b, c = self.nodes
        sub = self.subscriber(c, b"after.")
        pub = self.publisher(a)
        self.reach(pub, b"after.probe", [sub])
        self.redis.stop()
        for node in self.nodes:
            self.wait_ready(node, 503)
        status, body, _ = http(int(a.endpoint("gateway-http-port")), "GET", "/ready")
        self.assertIn("Redis", json.loads(body)["message"])
        self.assertFalse(self.cluster_stats(b)["healthy"])
        self.assertIn(b"\nzgate_cluster_healthy 0\n", http(int(b.endpoint("gateway-http-port")), "GET", "/metrics")[1])
        self.redis.start()
        for node in self.nodes:
            self.wait_ready(node, 204)
        # C subscribed again on its new connection: messages cross again, in order
        self.reach(pub, b"after.probe", [sub])
        for n in range(100):
            pub.send_multipart([b"after.x", b"%d" % n])
        self.assertEqual([int(sub.recv_multipart()[1]) for _ in range(100)], list(range(100)))
        self.assertEqual(sub.poll(300), 0)
        self.assertIn(b"\nzgate_cluster_healthy 1\n", http(int(b.endpoint("gateway-http-port")), "GET", "/metrics")[1])

    def test_nodes_notice_a_silent_redis(self):
        """A Redis that keeps its connections open but answers nothing, as beyond a partition (SIGSTOP): the
        nodes find it by their pings within cluster/timeout (1 s here), and recover once it answers again."""
        a, b, c = self.nodes
        sub = self.subscriber(b, b"silent.")
        pub = self.publisher(c)
        self.reach(pub, b"silent.probe", [sub])
        self.redis.process.send_signal(signal.SIGSTOP)
        try:
            for node in self.nodes:
                self.wait_ready(node, 503)
        finally:
            self.redis.process.send_signal(signal.SIGCONT)
        for node in self.nodes:
            self.wait_ready(node, 204)
        self.reach(pub, b"silent.probe", [sub])
        pub.send_multipart([b"silent.x", b"back"])
        self.assertEqual(sub.recv_multipart(), [b"silent.x", b"back"])


if __name__ == "__main__":
    unittest.main()
