"""Topics that remember across nodes (cluster/redis with topics/history): Redis numbers a remembered topic's
messages, so a web session that reconnects to another node recovers there without gap or duplicate. Its own
redis-server on a free port and three real zgate processes; every wait is bounded, everything is stopped."""
import asyncio
import json
import os
import sys
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import Ws, http, run  # noqa: E402
from test_cluster import ClusterTestCase  # noqa: E402
from test_history import Publisher  # noqa: E402


TIMEOUT_MS = 5000
HISTORY = "rate.* 100000; kept.* 5"


class ClusterHistoryTest(ClusterTestCase):
    options = {"topics_history": HISTORY}

    @staticmethod
    def port(node):
        return int(node.endpoint("gateway-http-port"))

    def ask(self, node, *frames):
        dealer = self.context.socket(zmq.DEALER)
        dealer.rcvtimeo = TIMEOUT_MS
        dealer.connect(node.endpoint("topics-history-requests"))
        dealer.send_multipart([frame.encode() for frame in frames])
        answer = dealer.recv_multipart()
        dealer.close()
        return answer

    def wait_last(self, node, topic, payload):
        """Wait until Redis has numbered the message, as node reads it; returns the epoch and top."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answer = self.ask(node, "LAST", "w", topic)
            if answer[0] == b"LAST" and len(answer) == 7 and answer[6] == payload.encode():
                return answer[2].decode(), int(answer[3])
            time.sleep(0.02)
        self.fail(f"{topic} never got {payload}")

    def test_web_recovery_on_another_node_at_1000_per_second(self):
        """Publish on node 1; a web session on node 2 drops and recovers with since on node 3."""
        one, two, three = self.nodes
        publisher = Publisher(self.context, one.endpoint("topics-publishers"))

        async def scenario():
            ws = await Ws.open(self.port(two))
            answer = await ws.request({"op": "subscribe", "topic": "rate.web", "since": {"seq": 0, "epoch": ""},
                                       "req": 1})
            self.assertTrue(answer["recovered"])
            thread = publisher.steady("rate.web", 3000, 1000)
            received, epoch = [], None
            while len(received) < 800:
                push = await ws.next_push("message")
                epoch = epoch or push["epoch"]
                received.append((push["seq"], int(push["data"])))
            ws.connection.transport.abort()         # the connection drops, no close handshake
            await asyncio.sleep(0.5)
            ws = await Ws.open(self.port(three))
            answer = await ws.request({"op": "subscribe", "topic": "rate.web",
                                       "since": {"seq": received[-1][0], "epoch": epoch}, "req": 2})
            self.assertTrue(answer["recovered"])
            self.assertEqual(answer["epoch"], epoch)
            while received[-1][0] < 3000:
                push = await ws.next_push("message")
                received.append((push["seq"], int(push["data"])))
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            self.assertEqual(received, [(n + 1, n) for n in range(3000)])
            with self.assertRaises(asyncio.TimeoutError):    # nothing more: no duplicate after the last
                await ws.next_push("message", timeout=0.3)
            await ws.close()
        run(scenario())
        publisher.socket.close()

    def test_every_node_reads_the_same_history(self):
        one, two, three = self.nodes
        pub = self.publisher(two)
        for n in range(8):
            pub.send_multipart([b"kept.a", b"m%d" % (n + 1)])
        epoch, top = self.wait_last(one, "kept.a", "m8")
        self.assertEqual(top, 8)
        for node in self.nodes:
            # The last 5 of 8, the same numbers and epoch on every node; since 6 of that epoch: 7 and 8
            self.assertEqual(self.ask(node, "HISTORY", "h", "kept.a", "6", epoch),
                             [b"HISTORY", b"h", epoch.encode(), b"8", b"1", b"7", b"m7", b"8", b"m8"])
            # since 1 is older than the 5 kept: not recovered, all 5 come
            answer = self.ask(node, "HISTORY", "h", "kept.a", "1", epoch)
            self.assertEqual(answer[:5], [b"HISTORY", b"h", epoch.encode(), b"8", b"0"])
            self.assertEqual(answer[5::2], [b"4", b"5", b"6", b"7", b"8"])
            # HTTP on any node
            status, body, _ = http(self.port(node), "GET", "/api/topics/kept.a/last")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body), {"topic": "kept.a", "epoch": epoch, "seq": 8,
                                                "messages": [{"seq": 8, "data": "m8"}]})

    def test_native_subscribers_on_every_node_get_the_same_numbers(self):
        subs = [self.subscriber(node, b"kept.n") for node in self.nodes]
        pub = self.publisher(self.nodes[2])
        self.reach(pub, b"kept.n", subs)
        for n in range(20):
            pub.send_multipart([b"kept.n", b"%d" % n])
        frames = [[sub.recv_multipart() for _ in range(20)] for sub in subs]
        self.assertEqual(frames[0], frames[1])
        self.assertEqual(frames[0], frames[2])
        seqs = [int(frame[2].split(b" ")[0]) for frame in frames[0]]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 20)))
        self.assertEqual([frame[1] for frame in frames[0]], [b"%d" % n for n in range(20)])
        self.assertEqual(self.cluster_stats(self.nodes[2])["history"]["dropped"], 0)


if __name__ == "__main__":
    unittest.main()
