"""Topics that remember: sequence numbers, epochs, history and last values, native (pyzmq) and web
(python websockets, HTTP), recovery across a forced disconnect under a steady publish rate."""
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import Ws, http, run  # noqa: E402
from zgate_harness import Zgate  # noqa: E402

TIMEOUT_MS = 5000
HISTORY = "rate.* 100000; short.* 50; last.* 1; chat.lobby 10"


class Publisher:
    """An XPUB publishes like a PUB and also shows when zgate's XSUB has connected."""

    def __init__(self, context, endpoint):
        self.socket = context.socket(zmq.XPUB)
        self.socket.sndhwm = 200000
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.connect(endpoint)
        assert self.socket.recv() == b"\x01"

    def send(self, topic, payload):
        self.socket.send_multipart([topic.encode(), payload.encode()])

    def steady(self, topic, count, rate):
        """Publish count messages "0".."count-1" at rate per second, in a thread; returns it."""
        def publish():
            start = time.monotonic()
            for n in range(count):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.send(topic, str(n))
        thread = threading.Thread(target=publish)
        thread.start()
        return thread


class HistoryTest(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()
        self.context.linger = 0
        self.data = {}
        self.zgate = Zgate(topics_history=HISTORY).start()
        self.port = int(self.zgate.endpoint("gateway-http-port"))
        self.publisher = Publisher(self.context, self.zgate.endpoint("topics-publishers"))

    def tearDown(self):
        self.context.destroy(linger=0)
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0)

    def subscriber(self, prefix):
        sub = self.context.socket(zmq.SUB)
        sub.rcvhwm = 200000
        sub.rcvtimeo = TIMEOUT_MS
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        return sub

    def ask(self, *frames):
        dealer = self.context.socket(zmq.DEALER)
        dealer.rcvtimeo = TIMEOUT_MS
        dealer.connect(self.zgate.endpoint("topics-history-requests"))
        dealer.send_multipart([frame.encode() for frame in frames])
        answer = dealer.recv_multipart()
        dealer.close()
        return answer

    def publish_and_wait(self, topic, payloads):
        """Publish and wait until zgate has remembered the last one (its history's top)."""
        for payload in payloads:
            self.publisher.send(topic, payload)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answer = self.ask("LAST", "w", topic)
            if answer[0] == b"LAST" and len(answer) == 7 and answer[6] == payloads[-1].encode():
                return answer[2].decode(), int(answer[3])
            time.sleep(0.02)
        self.fail(f"{topic} never got {payloads[-1]}")

    # --- native -----------------------------------------------------------------------------------

    def test_native_sequence_frame_and_plain_topics(self):
        sub = self.subscriber("")
        time.sleep(0.2)
        self.publisher.send("chat.lobby", "hello")
        self.publisher.send("plain", "two frames")
        got = {}
        while len(got) < 2:
            frames = sub.recv_multipart()
            got[frames[0].decode()] = frames
        seq, epoch = got["chat.lobby"][2].decode().split(" ")
        self.assertEqual((got["chat.lobby"][1], seq, len(epoch)), (b"hello", "1", 16))
        self.assertEqual(got["plain"], [b"plain", b"two frames"])

    def test_native_history_last_and_errors(self):
        epoch, top = self.publish_and_wait("chat.lobby", [f"m{n}" for n in range(1, 16)])
        self.assertEqual(top, 15)
        answer = self.ask("HISTORY", "r1", "chat.lobby", "12", epoch)
        self.assertEqual(answer, [b"HISTORY", b"r1", epoch.encode(), b"15", b"1", b"13", b"m13", b"14", b"m14",
                                  b"15", b"m15"])
        # The gap since 2 is older than the 10 messages kept: not recovered, all that is kept comes
        answer = self.ask("HISTORY", "r2", "chat.lobby", "2", epoch)
        self.assertEqual(answer[:5], [b"HISTORY", b"r2", epoch.encode(), b"15", b"0"])
        self.assertEqual(answer[5::2], [str(n).encode() for n in range(6, 16)])
        self.assertEqual(self.ask("LAST", "r3", "chat.lobby"), [b"LAST", b"r3", epoch.encode(), b"15", b"1",
                                                                 b"15", b"m15"])
        self.assertEqual(self.ask("LAST", "r4", "plain")[:3], [b"ERROR", b"r4", b"404"])
        self.assertEqual(self.ask("HISTORY", "r5", "chat.lobby", "x", "")[:3], [b"ERROR", b"r5", b"400"])
        self.assertEqual(self.ask("PEEK", "r6", "chat.lobby")[:3], [b"ERROR", b"r6", b"405"])

    def test_native_late_subscriber_catches_up_without_gap(self):
        """Subscribe first, ask for history, merge by seq: nothing lost, nothing twice, under load."""
        thread = self.publisher.steady("rate.native", 3000, 1000)
        time.sleep(1.0)
        sub = self.subscriber("rate.native")
        time.sleep(0.2)
        answer = self.ask("HISTORY", "c", "rate.native", "0", "")
        self.assertEqual(answer[4], b"1", "everything is kept from seq 1")
        received = {int(seq): payload for seq, payload in zip(answer[5::2], answer[6::2])}
        top = int(answer[3])
        thread.join()
        while True:
            frames = sub.recv_multipart()
            seq = int(frames[2].split(b" ")[0])
            if seq > top:
                self.assertNotIn(seq, received)
                received[seq] = frames[1]
            if seq == 3000:
                break
        self.assertEqual(sorted(received), list(range(1, 3001)))
        self.assertEqual([received[n] for n in range(1, 3001)], [str(n).encode() for n in range(3000)])

    def test_history_bounds_and_byte_budget(self):
        self.publish_and_wait("short.a", [str(n) for n in range(200)])
        answer = self.ask("HISTORY", "b", "short.a", "0", "")
        self.assertEqual(len(answer[5:]) // 2, 50)
        self.assertEqual(answer[5], b"151")
        stats = self.zgate.stats("topics")
        self.assertGreater(stats["history_bytes"], 0)
        self.assertEqual(stats["history_topics"], 1)

    # --- web --------------------------------------------------------------------------------------

    def test_web_pushes_carry_seq_and_epoch(self):
        async def scenario():
            ws = await Ws.open(self.port)
            self.assertEqual((await ws.request({"op": "subscribe", "topic": "chat.lobby", "req": 1}))["op"], "ok")
            self.publisher.send("chat.lobby", '{"n": 1}')
            push = await ws.next_push("message")
            self.assertEqual((push["seq"], push["data"], len(push["epoch"])), (1, {"n": 1}, 16))
            # The epoch comes with a subscription's first push (and an epoch's first message), not with every push
            self.publisher.send("chat.lobby", '{"n": 2}')
            push = await ws.next_push("message")
            self.assertEqual((push["seq"], "epoch" in push), (2, False))
            late = await Ws.open(self.port)
            self.assertEqual((await late.request({"op": "subscribe", "topic": "chat.lobby", "req": 1}))["op"], "ok")
            self.publisher.send("chat.lobby", '{"n": 3}')
            push = await late.next_push("message")
            self.assertEqual((push["seq"], len(push["epoch"])), (3, 16))
            self.assertNotIn("epoch", await ws.next_push("message"))
            await late.close()
            bad = await ws.request({"op": "subscribe", "topic": "chat.*", "last": True, "req": 2})
            self.assertEqual((bad["op"], bad["code"]), ("error", 400))
            bad = await ws.request({"op": "subscribe", "topic": "x", "since": {"seq": -1, "epoch": ""}, "req": 3})
            self.assertEqual(bad["op"], "error")
            await ws.close()
        run(scenario())

    def test_web_last_value(self):
        epoch, _ = self.publish_and_wait("last.temp", ["20", "21", "22"])

        async def scenario():
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "last.temp", "last": True, "req": 1})
            self.assertEqual((answer["epoch"], answer["seq"]), (epoch, 3))
            push = await ws.next_push("message")
            self.assertEqual((push["data"], push["seq"]), (22, 3))
            self.publisher.send("last.temp", "23")
            push = await ws.next_push("message")
            self.assertEqual((push["data"], push["seq"]), (23, 4))
            await ws.close()
        run(scenario())

    def test_web_recovery_across_forced_disconnect_at_1000_per_second(self):
        """No gap, no duplicate, order kept, across a dropped connection and the switch to live."""
        async def scenario():
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "rate.web", "since": {"seq": 0, "epoch": ""},
                                       "req": 1})
            self.assertTrue(answer["recovered"])
            thread = self.publisher.steady("rate.web", 4000, 1000)
            received, epoch = [], None
            while len(received) < 800:
                push = await ws.next_push("message")
                epoch = epoch or push["epoch"]     # the first push of an epoch carries it
                received.append((push["seq"], int(push["data"])))
            ws.connection.transport.abort()         # the connection drops, no close handshake
            await asyncio.sleep(0.5)
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "rate.web",
                                       "since": {"seq": received[-1][0], "epoch": epoch}, "req": 2})
            self.assertTrue(answer["recovered"])
            self.assertEqual(answer["epoch"], epoch)
            while received[-1][0] < 4000:
                push = await ws.next_push("message")
                received.append((push["seq"], int(push["data"])))
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            self.assertEqual(received, [(n + 1, n) for n in range(4000)])
            await ws.close()
        run(scenario())

    def test_web_recovery_refused_when_gap_is_older_than_history(self):
        epoch, _ = self.publish_and_wait("short.gap", [str(n) for n in range(200)])

        async def scenario():
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "short.gap",
                                       "since": {"seq": 10, "epoch": epoch}, "req": 1})
            self.assertEqual((answer["recovered"], answer["seq"]), (False, 200))
            self.publisher.send("short.gap", "next")
            push = await ws.next_push("message")
            self.assertEqual((push["seq"], push["data"]), (201, "next"), "no partial history, then live")
            # A topic that keeps no history cannot be recovered either
            answer = await ws.request({"op": "subscribe", "topic": "plain", "since": {"seq": 1, "epoch": epoch},
                                       "req": 2})
            self.assertEqual((answer["op"], answer["recovered"]), ("ok", False))
            await ws.close()
        run(scenario())

    def test_http_history_and_last(self):
        epoch, _ = self.publish_and_wait("chat.lobby", ["a", "b", "c"])
        status, body, _ = http(self.port, "GET", "/api/topics/chat.lobby/history")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"epoch": epoch, "seq": 3, "topic": "chat.lobby",
                                            "messages": [{"seq": 1, "data": "a"}, {"seq": 2, "data": "b"},
                                                         {"seq": 3, "data": "c"}]})
        status, body, _ = http(self.port, "GET", "/api/topics/chat.lobby/last")
        self.assertEqual(json.loads(body)["messages"], [{"seq": 3, "data": "c"}])
        status, body, _ = http(self.port, "GET", "/api/topics/plain/history")
        self.assertEqual(status, 404)
        self.assertIn("keeps no history", json.loads(body)["message"])

    def test_epoch_changes_across_restart(self):
        epoch, _ = self.publish_and_wait("chat.lobby", ["before"])
        self.context.destroy(linger=0)
        self.zgate.stop()
        self.context = zmq.Context()
        self.context.linger = 0
        self.zgate.start()
        self.publisher = Publisher(self.context, self.zgate.endpoint("topics-publishers"))
        new_epoch, top = self.publish_and_wait("chat.lobby", ["after"])
        self.assertNotEqual(new_epoch, epoch)
        self.assertEqual(top, 1)

        async def scenario():
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "chat.lobby", "since": {"seq": 1, "epoch": epoch},
                                       "req": 1})
            self.assertEqual((answer["recovered"], answer["epoch"]), (False, new_epoch))
            await ws.close()
        run(scenario())


class DurableHistoryTest(unittest.TestCase):
    """topics/data-dir: history and epochs survive a clean restart and a crash of zgate alone."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="zgate-history-")
        self.zgate = Zgate(topics_history=HISTORY, topics_data_dir=self.dir)
        self.start()

    def start(self):
        self.context = zmq.Context()
        self.context.linger = 0
        self.zgate.start()
        self.port = int(self.zgate.endpoint("gateway-http-port"))
        self.publisher = Publisher(self.context, self.zgate.endpoint("topics-publishers"))

    def stop(self):
        self.context.destroy(linger=0)
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0)

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.dir)

    ask = HistoryTest.ask
    publish_and_wait = HistoryTest.publish_and_wait

    def test_epoch_and_messages_kept_across_clean_restart(self):
        epoch, top = self.publish_and_wait("chat.lobby", ["m1", "m2", "m3"])
        self.assertEqual(top, 3)
        self.stop()
        self.start()
        # Native: the same epoch, the messages after since, recovered
        answer = self.ask("HISTORY", "r1", "chat.lobby", "1", epoch)
        self.assertEqual(answer[2:], [epoch.encode(), b"3", b"1", b"2", b"m2", b"3", b"m3"])
        # Numbering goes on under the same epoch
        self.assertEqual(self.publish_and_wait("chat.lobby", ["m4"]), (epoch, 4))

        async def scenario():
            # Web: a client that saw seq 2 before the restart recovers 3 and 4, then gets live ones
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "subscribe", "topic": "chat.lobby", "since": {"seq": 2, "epoch": epoch},
                                       "req": 1})
            self.assertEqual((answer["recovered"], answer["epoch"]), (True, epoch))
            self.assertEqual([(await ws.next_push("message"))["seq"] for _ in range(2)], [3, 4])
            self.publisher.send("chat.lobby", "m5")
            push = await ws.next_push("message")
            self.assertEqual((push["seq"], push["data"]), (5, "m5"))
            await ws.close()
        run(scenario())

    def test_kill_keeps_what_subscribers_got(self):
        """kill -9 under a steady publish rate: every message a subscriber got is kept, under the same epoch
        (a pass's messages go out only once committed)."""
        sub = self.context.socket(zmq.SUB)
        sub.rcvtimeo = TIMEOUT_MS
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        sub.subscribe(b"rate.crash")
        epoch, _ = self.publish_and_wait("rate.crash", ["probe"])
        while sub.poll(300):
            sub.recv_multipart()
        thread = self.publisher.steady("rate.crash", 3000, 2000)
        received = {}
        deadline = time.monotonic() + 0.7
        while time.monotonic() < deadline:
            topic, payload, mark = sub.recv_multipart()
            received[int(mark.split()[0])] = payload
        self.zgate.process.kill()
        self.zgate.process.wait()
        thread.join()
        while sub.poll(300):
            topic, payload, mark = sub.recv_multipart()
            received[int(mark.split()[0])] = payload
        self.assertGreater(len(received), 100)
        self.context.destroy(linger=0)
        self.start()
        answer = self.ask("HISTORY", "r1", "rate.crash", "0", epoch)
        self.assertEqual(answer[2], epoch.encode())
        kept = dict(zip((int(seq) for seq in answer[5::2]), answer[6::2]))
        self.assertEqual({seq: kept.get(seq) for seq in received}, received)
        # Numbering goes on after the last message kept
        self.assertEqual(self.publish_and_wait("rate.crash", ["after"]), (epoch, int(answer[3]) + 1))

    def test_data_dir_is_locked_and_fixed(self):
        other = Zgate(topics_history=HISTORY, topics_data_dir=self.dir)
        with self.assertRaisesRegex(AssertionError, "in use by another zgate"):
            other.start(attempts=1)


if __name__ == "__main__":
    unittest.main()
