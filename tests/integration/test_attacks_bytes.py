"""Hostile clients against a real zgate, bounded by bytes: the input a native connection leaves unread (the
multipart message that never ends), slow web readers and pull subscribers within the memory budget, exact
subscriber counts, names escaped in stats and metrics. Each case runs test_attacks' canary throughout and checks
zgate's RSS (from /proc) against the budget.
"""
import json
import os
import socket
import struct
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
import test_attacks as attacks  # noqa: E402
from zgate_harness import wait_for  # noqa: E402
from gateway_client import RawWs, http  # noqa: E402

MIB = attacks.MIB
BUDGET = attacks.BUDGET
RSS_SLACK = attacks.RSS_SLACK


class BytesAttackTest(attacks.AttackBase):
    def test_duplicate_subscriptions_count_once(self):
        """A SUB subscribes to `dup` twice, a raw peer unsubscribes a prefix it never held, and the SUB
        leaves: `dup` counts one subscriber while it is there (10 publishes, 10 deliveries) and none
        after (10 more publishes, no delivery)."""
        self.start_canary()

        def counts(*prefixes):
            subscriptions = self.zg.stats("topics")["subscriptions"]
            return tuple(subscriptions.get(prefix, 0) for prefix in prefixes)

        # Counted from here: the soak (bench/soak_attacks.py) runs this case again on the same zgate
        before = self.zg.stats("topics")["topics"].get("dup.x", {"delivered": 0, "published": 0})

        def dup():
            stats = self.zg.stats("topics")
            delivered = stats["topics"].get("dup.x", {}).get("delivered", 0) - before["delivered"]
            return stats["subscriptions"].get("dup", 0), delivered
        sub = self.socket(zmq.SUB, "topics-subscribers")
        sub.subscribe(b"dup")
        sub.subscribe(b"dup")
        sub.subscribe(b"dup.after")     # zgate reads a connection's subscriptions in order
        wait_for(lambda: counts("dup.after") == (1,), what="the subscriptions")
        self.assertEqual(counts("dup"), (1,))
        raw = self.raw_peer("topics-subscribers", b"SUB")
        raw.sendall(b"\x00\x04\x00dup")           # an unsubscription from a connection that holds nothing
        raw.sendall(b"\x00\x0a\x01raw.after")
        wait_for(lambda: counts("raw.after") == (1,), what="the raw peer's subscription")
        self.assertEqual(counts("dup"), (1,))
        pub = self.socket(zmq.PUB, "topics-publishers")

        def published(count):
            for index in range(count):
                pub.send_multipart([b"dup.x", b"%d" % index])
            return [sub.recv_multipart() for _ in range(count)]
        wait_for(lambda: pub.send_multipart([b"dup.probe", b""]) or sub.poll(50), what="the publisher")
        sub.recv_multipart()
        self.assertEqual(len(published(10)), 10)
        wait_for(lambda: dup() == (1, 10), what="10 deliveries to one subscriber")
        sub.close()
        raw.close()
        wait_for(lambda: dup()[0] == 0, what="the subscription to end")
        for index in range(10):
            pub.send_multipart([b"dup.x", b"%d" % index])
        wait_for(lambda: self.zg.stats("topics")["topics"]["dup.x"]["published"] == before["published"] + 20,
                 what="the publishes")
        self.assertEqual(dup(), (0, 10))
        self.assert_canary_ok()

    def test_stats_and_metrics_escape_names(self):
        """One publish on topic \\xff: /api/stats stays valid UTF-8 JSON and /metrics valid UTF-8 text, both
        naming the topic \\xff."""
        self.start_canary()
        pub = self.socket(zmq.PUB, "topics-publishers")
        port = self.zg.endpoint("gateway-http-port")

        def escaped():
            pub.send_multipart([b"\xff", b"x"])
            status, body, _ = http(port, "GET", "/api/stats")
            self.assertEqual(status, 200)
            return "\\xff" in json.loads(body.decode("utf-8")).get("topics", {}).get("topics", {})
        wait_for(escaped, what="the topic in /api/stats")
        status, body, _ = http(port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn('zgate_topic_published_total{topic="\\\\xff"}', body.decode("utf-8"))
        self.assert_canary_ok()

    def test_slow_web_reader_is_bounded(self):
        """A WebSocket client that never reads, subscribed to a topic a native publisher sends 64 KiB
        messages on for 3 s: its session's queue stays within gateway/max-queue-bytes (the pushes past it are
        dropped and counted), RSS within the budget, the canary goes on."""
        self.start_canary()
        slow = RawWs(int(self.zg.endpoint("gateway-http-port")), rcvbuf=4096)
        slow.send_frame(b'{"op":"subscribe","topic":"flood","req":1}')
        wait_for(lambda: self.gateway_stats()["web_subscriptions"] >= 1, what="the subscription")
        pub = self.socket(zmq.PUB, "topics-publishers")
        payload = b"p" * 65536
        deadline = time.monotonic() + 3
        sent = 0
        while time.monotonic() < deadline:
            pub.send_multipart([b"flood", payload])
            sent += 1
            if sent % 16 == 0:
                self.sample()
                # 100 MB/s at most: this case bounds the session's queue; a flood the gateway cannot keep
                # up with is test_attacks_inproc's
                time.sleep(0.01)
        wait_for(lambda: self.gateway_stats()["dropped_slow"] > 0, what="pushes dropped for the slow reader")
        self.assert_bounded()
        slow.close()
        self.assert_canary_ok()

    def pull_subscribers(self, subjects):
        """One pull subscriber per subject named (a subject may repeat); their ids."""
        port = self.zg.endpoint("gateway-http-port")
        ids = []
        for subject in subjects:
            status, body, _ = http(port, "POST", "/api/subscribe", {"subject": subject})
            self.assertEqual(status, 200, body)
            ids.append(json.loads(body)["id"])
        return ids

    def connected_publisher(self):
        """A native PUB whose messages reach the gateway's pull subscribers: probes on subject `probe` until
        its own pull subscriber has one, then a pause for the probes still on their way. The gateway's
        counters once they are quiet."""
        port = self.zg.endpoint("gateway-http-port")
        probe, = self.pull_subscribers(["probe"])
        pub = self.socket(zmq.PUB, "topics-publishers")

        def probed():
            pub.send_multipart([b"probe", b"probe"])
            time.sleep(0.02)
            status, body, _ = http(port, "POST", "/api/fetch", {"subject": "probe", "id": probe})
            return status == 200 and json.loads(body)["data"]
        wait_for(probed, what="the publisher")
        time.sleep(0.5)
        return pub, self.gateway_stats()

    def test_pull_subscribers_share_one_copy(self):
        """250 pull subscribers of one subject that never fetch and 10 messages of 1 MiB (2.5 GB if each kept
        its own copy): every subscriber gets all 10 (none dropped), one copy of each is charged to the budget
        and RSS grows by about that much; fetching from some keeps the copy for the others, and the bytes
        go back when the last subscriber lets them go."""
        self.start_canary()
        port = self.zg.endpoint("gateway-http-port")
        ids = self.pull_subscribers(["pull"] * 250)
        pub, before = self.connected_publisher()
        self.baseline = self.peak = attacks.rss(self.zg.process.pid)
        for index in range(10):
            pub.send_multipart([b"pull", b"%d" % index + b"m" * (MIB - 1)])
            time.sleep(0.05)
            self.sample()
        wait_for(lambda: self.gateway_stats()["pull_delivered"] >= before["pull_delivered"] + 2500,
                 what="10 messages to each of 250 pull subscribers")
        self.sample()
        after = self.gateway_stats()
        self.assertEqual(after["pull_delivered"], before["pull_delivered"] + 2500)
        self.assertEqual(after["pull_dropped"], before["pull_dropped"])
        self.assertGreaterEqual(after["budget"]["used"], 10 * MIB)
        self.assertLess(after["budget"]["used"], 11 * MIB)
        self.assertTrue(self.zg.alive())
        self.assertLess(self.peak - self.baseline, 10 * MIB + RSS_SLACK,
                        f"RSS grew from {self.baseline >> 20} MB to {self.peak >> 20} MB")
        for sid in ids[:3]:
            status, body, _ = http(port, "POST", "/api/fetch", {"subject": "pull", "id": sid})
            self.assertEqual(status, 200)
            data = json.loads(body)["data"]
            self.assertEqual([len(item) for item in data], [MIB] * 10)
            self.assertEqual([item[0] for item in data], [str(index) for index in range(10)])
        self.assertGreaterEqual(self.gateway_stats()["budget"]["used"], 10 * MIB)
        for sid in ids[3:]:
            self.assertEqual(http(port, "DELETE", f"/api/admin/pull/{sid}")[0], 200)
        wait_for(lambda: self.gateway_stats()["budget"]["used"] < MIB, what="the shared bytes to go back")
        for sid in ids[:3]:     # the soak runs this again on one zgate: no subscriber of "pull" may stay
            self.assertEqual(http(port, "DELETE", f"/api/admin/pull/{sid}")[0], 200)
        self.assert_canary_ok()

    def test_pull_buffers_give_way_at_the_budget(self):
        """10 pull subscribers on 10 subjects that never fetch and 10 messages of 1 MiB on each: 100 MiB of
        distinct messages against a budget of 96 MiB, so past its low water messages are dropped for them
        (counted); RSS within the budget; fetching gives the bytes back."""
        self.start_canary()
        port = self.zg.endpoint("gateway-http-port")
        subjects = [f"pull.{index}" for index in range(10)]
        ids = self.pull_subscribers(subjects)
        pub, before = self.connected_publisher()
        for _ in range(10):
            for subject in subjects:
                pub.send_multipart([subject.encode(), b"m" * MIB])
            time.sleep(0.05)
            self.sample()
        wait_for(lambda: self.gateway_stats()["pull_dropped"] > before["pull_dropped"],
                 what="messages dropped for pull subscribers")
        self.assert_bounded()
        self.assertLessEqual(self.gateway_stats()["budget"]["used"], BUDGET + MIB)

        def fetch_all():
            """Fetches every buffer; messages still on their way to the gateway (under load) land after a
            fetch, so the bytes are back only once a round of fetches leaves nothing held."""
            for subject, sid in zip(subjects, ids):
                status, _, _ = http(port, "POST", "/api/fetch", {"subject": subject, "id": sid})
                self.assertEqual(status, 200)
            return self.gateway_stats()["budget"]["used"] < MIB

        wait_for(fetch_all, what="the buffers' bytes to go back")
        for sid in ids:     # the soak runs this again on one zgate: these would hold its messages
            self.assertEqual(http(port, "DELETE", f"/api/admin/pull/{sid}")[0], 200)
        self.assert_canary_ok()


class EndlessMessageTest(attacks.AttackBase):
    zgate_overrides = {"server_max_connection_input": 8 * MIB}

    def test_endless_multipart_message_is_cut(self):
        """A raw peer sends frames with MORE set and never the last one, on every native endpoint: libzmq
        keeps them all, but zgate's watchdog closes the connection once it holds max-connection-input;
        RSS stays bounded, the canary goes on and the held input is given back."""
        self.start_canary()
        cases = (("topics-publishers", b"PUB", "topics", 8192), ("topics-subscribers", b"SUB", "topics", 4000),
                 ("topics-history-requests", b"DEALER", "topics", 8192),
                 ("queues-producers", b"DEALER", "queues", 8192), ("queues-workers", b"DEALER", "queues", 8192),
                 ("rooms-clients", b"DEALER", "rooms", 8192))
        queues_cut = self.api_stats("queues")["input"]["cut"]   # the soak runs this again on one zgate
        for endpoint, socket_type, section, size in cases:
            cut = self.api_stats(section)["input"]["cut"]
            raw = self.raw_peer(endpoint, socket_type)
            chunk = (b"\x03" + struct.pack(">Q", size) + b"x" * size) * 64
            sent = 0
            with self.assertRaises((BrokenPipeError, ConnectionResetError, socket.timeout), msg=endpoint):
                while sent < 1 << 30:
                    raw.sendall(chunk)
                    sent += len(chunk)
                    self.sample()
            raw.close()
            self.assertLess(sent, 16 * 8 * MIB, endpoint)   # cut long before the 1 GiB it would send
            wait_for(lambda: self.api_stats(section)["input"]["cut"] == cut + 1, what=f"the cut on {endpoint}")
        self.assert_bounded()
        wait_for(lambda: all(self.api_stats(section)["input"]["held"] == 0
                             for section in ("topics", "queues", "rooms")), what="the held input to be given back")
        status, body, _ = http(self.zg.endpoint("gateway-http-port"), "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"zgate_queues_input_cut_total %d" % (queues_cut + 2), body)
        self.assertIn(b"zgate_rooms_input_held_bytes 0", body)
        self.assert_canary_ok()


class EmptyFramesTest(attacks.AttackBase):
    """The endless message again, of empty frames (2 bytes on the wire, a 64-byte zmq_msg_t each in libzmq: 32
    times their bytes), with the default max-connection-input (64 MiB, 2 GB of such frames). RSS stays within
    the budget, the canary goes on and the held input is given back."""

    def send_empty_frames(self, cases):
        self.start_canary()
        chunk = b"\x01\x00" * 32768
        for endpoint, socket_type, section in cases:
            cut = self.api_stats(section)["input"]["cut_unfinished"]
            raw = self.raw_peer(endpoint, socket_type)
            sent = 0
            with self.assertRaises((BrokenPipeError, ConnectionResetError, socket.timeout), msg=endpoint):
                while sent < 1 << 30:
                    raw.sendall(chunk)
                    sent += len(chunk)
                    self.sample()
            raw.close()
            self.assertLess(sent, 32 * MIB, endpoint)   # not at 64 MiB
            wait_for(lambda: self.api_stats(section)["input"]["cut_unfinished"] == cut + 1,
                     what=f"the cut on {endpoint}")
        self.assert_bounded()
        wait_for(lambda: all(self.api_stats(section)["input"]["held"] == 0
                             for section in ("topics", "queues", "rooms")), what="the held input to be given back")
        self.assert_canary_ok()

    def test_unfinished_message_larger_than_any_is_cut(self):
        """On the endpoints whose largest message is 1 MiB (or less): a connection holding an unfinished message
        larger than any a client may send (maxmsgsize and 64 KiB) is cut once its socket has nothing left to
        read."""
        self.send_empty_frames((("topics-publishers", b"PUB", "topics"), ("topics-subscribers", b"SUB", "topics"),
                                ("topics-history-requests", b"DEALER", "topics"), ("rooms-clients", b"DEALER", "rooms")))

    def test_unfinished_message_that_may_cost_the_budget_is_cut(self):
        """On the queues' endpoints (largest message 16 MiB, 512 MB of empty frames): the unfinished message is
        cut once what it may cost (32 times its bytes) would pass the budget."""
        self.send_empty_frames((("queues-producers", b"DEALER", "queues"), ("queues-workers", b"DEALER", "queues")))


class SlowSubscriberTest(attacks.AttackBase):
    zgate_overrides = {"server_max_connection_output": 8 * MIB}

    def test_native_subscriber_that_never_reads_is_cut(self):
        """A native SUB that never reads (a small receive buffer) on a topic a publisher sends 64 KiB messages
        on: libzmq would queue sndhwm (100,000) of them for it, but zgate counts what it queued for the
        connection less what libzmq wrote to it, and closes the connection past max-connection-output
        (counted in /metrics); RSS stays within the budget, the canary goes on, the held output is given
        back, and a subscriber that reads is not cut."""
        self.start_canary()
        reader = self.socket(zmq.SUB, "topics-subscribers")
        reader.subscribe(b"flood")
        slow = self.raw_peer("topics-subscribers", b"SUB", rcvbuf=4096)
        slow.sendall(b"\x00\x06\x01flood")
        wait_for(lambda: self.zg.stats("topics")["subscriptions"].get("flood", 0) == 2, what="the subscriptions")
        pub = self.socket(zmq.PUB, "topics-publishers")
        wait_for(lambda: pub.send_multipart([b"flood", b"probe"]) or reader.poll(50), what="the publisher")
        payload = b"p" * 65536
        deadline = time.monotonic() + 20
        sent = received = 0
        cut = self.api_stats("topics")["output"]["cut"]
        while self.api_stats("topics")["output"]["cut"] == cut:
            self.assertLess(time.monotonic(), deadline, "the slow subscriber was not cut")
            for _ in range(16):
                pub.send_multipart([b"flood", payload])
                sent += 1
            while reader.poll(0):
                reader.recv_multipart()
                received += 1
            self.sample()
            time.sleep(0.01)    # 100 MB/s at most: the reader and the gateway keep up
        self.assertLess(sent * len(payload), 4 * BUDGET, "cut long after the limit")
        try:
            while slow.recv(65536):     # what reached it, then the end of the stream (a timeout fails)
                pass
        except ConnectionResetError:
            pass
        slow.close()
        self.assert_bounded()
        wait_for(lambda: self.api_stats("topics")["output"]["held"] == 0, what="the held output to be given back")
        self.assertEqual(self.api_stats("topics")["output"]["cut"], cut + 1)     # not the reader
        pub.send_multipart([b"flood", b"after"])
        while reader.recv_multipart()[1] != b"after":
            pass
        status, body, _ = http(self.zg.endpoint("gateway-http-port"), "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"zgate_topics_output_cut_total %d" % (cut + 1), body)
        self.assertIn(b"zgate_topics_output_held_bytes 0", body)
        self.assert_canary_ok()


class RouterReaderTest(attacks.AttackBase):
    """Clients of the queues' and rooms' ROUTER endpoints that never read: libzmq would queue sndhwm (100,000)
    answers and events for each, but zgate counts what it queued for the connection (the routing id's
    connection, learned from its requests) less what libzmq wrote, and closes it past max-connection-output
    (counted in /metrics); RSS stays within the budget, the canary goes on, the held output is given back."""
    zgate_overrides = {"server_max_connection_output": 8 * MIB}

    def slow_socket(self, endpoint):
        """A DEALER that keeps one message and a 4 KiB receive buffer: what it does not read stays in zgate."""
        return self.socket(zmq.DEALER, endpoint, rcvhwm=1, rcvbuf=4096)

    def assert_cut(self, section, attack, rounds):
        """Run attack() rounds times (24 MiB of output in all, three times the limit) and check that the slow
        connection is cut, counted in /metrics, its held output given back and RSS bounded."""
        cut = self.api_stats(section)["output"]["cut"]
        for _ in range(rounds):
            attack()
            self.sample()
        wait_for(lambda: self.api_stats(section)["output"]["cut"] > cut, what=f"the slow {section} client's cut")
        self.assert_bounded()
        wait_for(lambda: self.api_stats(section)["output"]["held"] == 0, what="the held output to be given back")
        self.assertEqual(self.api_stats(section)["output"]["cut"], cut + 1)     # the slow one, not the others
        status, body, _ = http(self.zg.endpoint("gateway-http-port"), "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"zgate_%s_output_cut_total %d" % (section.encode(), cut + 1), body)
        self.assertIn(b"zgate_%s_output_held_bytes 0" % section.encode(), body)

    def test_producer_that_never_reads_its_replies_is_cut(self):
        """A producer sends SENDs asking for replies and never reads; a worker answers each with 256 KiB (over
        four queues: each keeps its results, charged to its max-queue-bytes, for result-ttl)."""
        self.start_canary()
        queues = [b"big.%d" % index for index in range(4)]
        worker = self.socket(zmq.DEALER, "queues-workers")
        worker.send_multipart([b"READY", b"big", msgpack.packb({"queues": queues, "prefetch": 100})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        producer = self.slow_socket("queues-producers")
        reply = b"r" * (256 * 1024)

        def flood():
            for index in range(16):
                producer.send_multipart([b"SEND", b"%d" % index, queues[index % 4], msgpack.packb({"reply": True}),
                                         b"x"])
            for _ in range(16):
                frames = worker.recv_multipart()
                self.assertEqual(frames[0], b"DELIVER")
                worker.send_multipart([b"ACK", b"big", frames[2], reply])
        self.assert_cut("queues", flood, 24 * MIB // (16 * len(reply)))
        worker.send_multipart([b"BYE", b"big"])
        self.assert_canary_ok()

    def test_room_member_that_never_reads_its_delivers_is_cut(self):
        """A member of many rooms never reads; another client sends a 1 MiB message to each room (one is in
        flight per room: lockstep)."""
        self.start_canary()
        slow = self.slow_socket("rooms-clients")
        slow.send_multipart([b"HELLO", b"h"])
        me = slow.recv_multipart()[2]
        rooms = [b"slow.%d" % index for index in range(24)]
        for room in rooms:
            slow.send_multipart([b"JOIN", b"j", me, room])
            self.assertEqual(slow.recv_multipart()[0], b"OK")
        sender = self.socket(zmq.DEALER, "rooms-clients")
        payload = b"m" * MIB

        def flood():
            sender.send_multipart([b"SEND", b"s", rooms.pop(), b"0", payload])
            self.assertEqual(sender.recv_multipart()[0], b"OK")
        self.assert_cut("rooms", flood, 24)
        self.assert_canary_ok()

if __name__ == "__main__":
    unittest.main(verbosity=2)
