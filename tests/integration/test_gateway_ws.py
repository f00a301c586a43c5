"""The gateway's WebSocket side against a real zgate: topic ops in both encodings, native <-> web both ways,
bad requests, limits, ping timeout, the slow-client policy and a thousand concurrent sessions."""
import asyncio
import base64
import json
import os
import random
import sys
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, RawWs, Ws, http, run  # noqa: E402
from zgate_harness import Zgate, wait_everything, wait_for  # noqa: E402


class GatewayWsTest(GatewayTestCase):
    zgate_overrides = {"gateway_max_frame_size": 65536, "gateway_max_message_size": 200000,
                       "gateway_max_subscriptions": 5, "gateway_max_queue_bytes": 1048576,
                       "gateway_ping_interval": 1000, "gateway_ping_timeout": 1000,
                       "gateway_max_sessions": 2000}

    def native_publisher(self):
        pub = self.context.socket(zmq.XPUB)
        pub.rcvtimeo = 5000
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        return pub

    def native_subscriber(self, prefix):
        sub = self.context.socket(zmq.SUB)
        sub.rcvtimeo = 5000
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        sub.subscribe(prefix)
        return sub

    def gateway_stats(self):
        status, body, _ = http(self.port, "GET", "/api/stats")
        self.assertEqual(status, 200)
        return json.loads(body)["gateway"]

    def test_topics_in_both_encodings(self):
        async def scenario():
            text, binary = await Ws.open(self.port), await Ws.open(self.port, binary=True)
            self.assertEqual(await text.request({"op": "subscribe", "topic": "news.*", "req": 1}),
                             {"op": "ok", "req": 1})
            self.assertEqual(await text.request({"op": "subscribe", "topic": "news.x", "req": 2}),
                             {"op": "ok", "req": 2})
            self.assertEqual(await binary.request({"op": "subscribe", "topic": "news.x", "req": "b"}),
                             {"op": "ok", "req": "b"})
            # publish from the msgpack session: both get it, once each despite two matching subscriptions
            await binary.request({"op": "publish", "topic": "news.x", "data": {"t": 21, "u": [1, None]},
                                  "req": "p"})
            expected = {"op": "message", "topic": "news.x", "data": {"t": 21, "u": [1, None]}}
            self.assertEqual(await text.next_push("message"), expected)
            self.assertEqual(await binary.next_push("message"), expected)
            # the prefix alone matches news.y; a string stays a string
            await text.request({"op": "publish", "topic": "news.y", "data": "hello", "req": 3})
            self.assertEqual(await text.next_push("message"),
                             {"op": "message", "topic": "news.y", "data": "hello"})
            await text.request({"op": "publish", "topic": "news.x", "data": "again", "req": 4})
            self.assertEqual((await text.next_push("message"))["data"], "again")
            self.assertEqual((await binary.next_push("message"))["data"], "again")
            with self.assertRaises(asyncio.TimeoutError):
                await text.next_push("message", timeout=0.3)
            # unsubscribe, then it is gone
            self.assertEqual(await text.request({"op": "unsubscribe", "topic": "news.*", "req": 5})["op"]
                             if False else (await text.request({"op": "unsubscribe", "topic": "news.*",
                                                                 "req": 5}))["op"], "ok")
            error = await text.request({"op": "unsubscribe", "topic": "news.*", "req": 6})
            self.assertEqual((error["op"], error["code"]), ("error", 404))
            # order is kept for many messages
            for n in range(300):
                await binary.send({"op": "publish", "topic": "news.x", "data": n})
            got = []
            while len(got) < 300:
                got.append((await text.next_push("message"))["data"])
            self.assertEqual(got, list(range(300)))
            await text.close()
            await binary.close()
        run(scenario())

    def test_native_and_web_meet_both_ways(self):
        async def scenario():
            web = await Ws.open(self.port)
            await web.request({"op": "subscribe", "topic": "cross.*", "req": 1})
            pub = self.native_publisher()
            pub.send_multipart([b"cross.a", b'{"t": 21}'])
            pub.send_multipart([b"cross.b", b"21 C"])
            pub.send_multipart([b"cross.c", b"\xff\x00\x01"])
            self.assertEqual(await web.next_push("message"),
                             {"op": "message", "topic": "cross.a", "data": {"t": 21}})
            self.assertEqual((await web.next_push("message"))["data"], "21 C")
            binary = await web.next_push("message")
            self.assertTrue(binary["binary"])
            self.assertEqual(base64.b64decode(binary["data"]), b"\xff\x00\x01")
            # the same bytes reach a msgpack session as bin
            packed = await Ws.open(self.port, binary=True)
            await packed.request({"op": "subscribe", "topic": "cross.c", "req": 1})
            pub.send_multipart([b"cross.c", b"\xff\x00\x01"])
            message = await packed.next_push("message")
            self.assertEqual((message["data"], message["binary"]), (b"\xff\x00\x01", True))
            # web publish -> native SUB: strings as their bytes, other values as JSON, bin as bytes
            sub = self.native_subscriber(b"back.")
            wait_for(lambda: self.zgate.stats("topics")["subscriptions"].get("back.") == 1,
                     what="native subscription")
            await web.request({"op": "publish", "topic": "back.s", "data": "hello", "req": 2})
            await web.request({"op": "publish", "topic": "back.o", "data": {"a": [1, 2]}, "req": 3})
            await packed.request({"op": "publish", "topic": "back.b", "data": b"\x00\xfe", "req": 4})
            self.assertEqual(sub.recv_multipart(), [b"back.s", b"hello"])
            self.assertEqual(sub.recv_multipart(), [b"back.o", b'{"a":[1,2]}'])
            self.assertEqual(sub.recv_multipart(), [b"back.b", b"\x00\xfe"])
            await web.close()
            await packed.close()
        run(scenario())

    def test_bad_requests_get_errors_and_change_nothing(self):
        async def scenario():
            web = await Ws.open(self.port)
            for raw, code in [("not json", 400), ("[1,2]", 400), ('{"req": 1}', 400),
                              ('{"op": "nope", "req": 1}', 400), ('{"op": "subscribe", "req": [1]}', 400),
                              ('{"op": "subscribe", "req": 1}', 400),
                              ('{"op": "subscribe", "topic": 5, "req": 1}', 400),
                              ('{"op": "subscribe", "topic": "%s", "req": 1}' % ("t" * 300), 400),
                              ('{"op": "publish", "topic": "x", "req": 1}', 400),
                              ('{"op": "send", "queue": "q", "priority": "high", "data": 1}', 400),
                              ('{"op": "join", "req": 1}', 400),
                              ("[" * 100 + "]" * 100, 400)]:
                await web.send_raw(raw)
                answer = await web.recv()
                self.assertEqual((answer["op"], answer["code"]), ("error", code), raw)
                self.assertIn("message", answer)
            binary = await Ws.open(self.port, binary=True)
            for raw in [b"\x81\xa2op\xa9subscribe\xc0", b"\xd4\x01\x02", b"\xdd\x00\x98\x96\x80", b"\xc1"]:
                await binary.send_raw(raw)
                answer = await binary.recv()
                self.assertEqual((answer["op"], answer["code"]), ("error", 400), raw)
            # the subscription limit (5 per session) is a 429
            for n in range(5):
                await web.request({"op": "subscribe", "topic": f"limit.{n}", "req": n})
            answer = await web.request({"op": "subscribe", "topic": "limit.5", "req": 9})
            self.assertEqual((answer["op"], answer["code"]), ("error", 429))
            # still usable
            self.assertEqual((await web.request({"op": "subscribe", "topic": "limit.0", "req": 10}))["op"], "ok")
            await web.close()
            await binary.close()
        run(scenario())

    def test_random_requests_are_all_answered(self):
        """Every op with fields of every type, both encodings: each request gets one answer, nothing crashes."""
        rng = random.Random(5)
        values = [None, True, 0, -1, 2 ** 63 - 1, 1.5, "", "x", "jobs", "lobby", "t.*", "*", "a" * 300,
                  [], [1, "a"], {}, {"k": [None]}, b"\xff\x00"]
        fields = ["topic", "queue", "room", "data", "id", "token", "prefetch", "priority", "reply", "oob",
                  "offset", "limit", "top", "mode", "reason", "timeout", "ack-timeout"]
        ops = ["subscribe", "unsubscribe", "publish", "send", "consume", "cancel", "ack", "nack", "fail",
               "task", "join", "leave", "ping", "peek", "state", "metrics", "nope", 7, None]

        async def scenario():
            for binary in (False, True):
                web = await Ws.open(self.port, binary=binary)
                for n in range(400):
                    request = {"op": rng.choice(ops), "req": n}
                    for field in rng.sample(fields, rng.randint(0, 5)):
                        value = rng.choice(values)
                        request[field] = value.decode("latin-1") if isinstance(value, bytes) and not binary \
                            else value
                    answer = await web.request(request, timeout=15)
                    self.assertIn(answer["op"], ("ok", "error", "accepted", "task_state", "peeked",
                                                 "room_state", "room_metrics"), request)
                await web.close()
        run(scenario(), timeout=150)
        self.assertTrue(self.zgate.alive())

    def test_frame_and_message_limits_close_with_1009(self):
        async def scenario():
            for payload in ["x" * 70000, ["y" * 60000] * 4]:
                web = await Ws.open(self.port)
                if isinstance(payload, str):
                    await web.send_raw('{"op":"publish","topic":"big","data":"%s"}' % payload)
                else:
                    await web.send_raw(iter(payload))      # fragmented: frames fit, the message does not
                with self.assertRaises(Exception):
                    await web.recv(timeout=5)
                self.assertEqual(web.connection.close_code, 1009)
            # under the limits a large message passes, fragmented or not
            web = await Ws.open(self.port)
            await web.request({"op": "subscribe", "topic": "big", "req": 1})
            await web.send_raw(iter(['{"op":"publish","topic":"big",', '"data":"%s","req":2}' % ("z" * 60000)]))
            self.assertEqual((await web.next_push("message"))["data"], "z" * 60000)
            await web.close()
        run(scenario())
        self.assertGreaterEqual(self.gateway_stats()["disconnects_limit"], 2)

    def test_silent_client_is_closed_after_ping_timeout(self):
        raw = RawWs(self.port)
        self.assertEqual(raw.status, 101)
        started = time.monotonic()
        data = raw.read_until_closed(timeout=15)
        elapsed = time.monotonic() - started
        raw.close()
        self.assertIn(b"\x89", data[:2] + data, "the gateway pinged")
        self.assertGreater(elapsed, 1.0)
        self.assertLess(elapsed, 10.0)

    def test_upgrade_elsewhere_is_404(self):
        raw = RawWs(self.port, path="/other")
        self.assertEqual(raw.status, 404)
        raw.close()

    def test_slow_subscriber_is_dropped_for_and_slows_no_one(self):
        async def scenario():
            slow = RawWs(self.port, rcvbuf=4096)
            slow.send_frame(b'{"op":"subscribe","topic":"flood","req":1}')
            fast = await Ws.open(self.port, binary=True)
            await fast.request({"op": "subscribe", "topic": "flood", "req": 1})
            wait_for(lambda: self.gateway_stats()["web_subscriptions"] >= 1, what="subscriptions")
            time.sleep(0.2)
            pub = self.native_publisher()
            count, payload = 20000, b"p" * 1000

            def flood():
                for n in range(count):
                    pub.send_multipart([b"flood", payload + b"%d" % n])
                    if n % 50 == 0:
                        time.sleep(0.01)        # slow enough for a Python reader on a busy machine
            sending = asyncio.get_running_loop().run_in_executor(None, flood)
            got = 0
            while got < count:
                message = await fast.next_push("message", timeout=20)
                self.assertEqual(message["data"], (payload + b"%d" % got).decode())
                got += 1
            await sending
            slow.close()
            await fast.close()
        run(scenario(), timeout=150)
        self.assertGreater(self.gateway_stats()["dropped_slow"], 0)

    def test_thousand_concurrent_sessions(self):
        async def scenario():
            sessions = []
            for batch in range(10):
                sessions += await asyncio.gather(*[Ws.open(self.port, binary=(n % 2 == 1)) for n in range(100)])
            answers = await asyncio.gather(*[ws.request({"op": "subscribe", "topic": "all", "req": n})
                                             for n, ws in enumerate(sessions)])
            self.assertTrue(all(answer["op"] == "ok" for answer in answers))
            self.assertEqual(self.gateway_stats()["sessions"], 1000)
            pub = self.native_publisher()
            pub.send_multipart([b"all", b'"to everyone"'])
            messages = await asyncio.gather(*[ws.next_push("message", timeout=30) for ws in sessions])
            self.assertTrue(all(message["data"] == "to everyone" for message in messages))
            await asyncio.gather(*[ws.close() for ws in sessions])
        run(scenario(), timeout=180)
        wait_for(lambda: self.gateway_stats()["sessions"] == 0, what="sessions to close")


class GatewayLimitsTest(unittest.TestCase):
    def test_disconnect_policy_and_session_limit(self):
        with Zgate(gateway_max_sessions=3, gateway_slow_client_policy="disconnect") as zgate:
            port = int(zgate.endpoint("gateway-http-port"))
            context = zmq.Context()

            async def scenario():
                slow = RawWs(port, rcvbuf=4096)
                slow.send_frame(b'{"op":"subscribe","topic":"flood","req":1}')
                fast = await Ws.open(port)
                await fast.request({"op": "subscribe", "topic": "flood", "req": 1})
                third = await Ws.open(port)
                refused = RawWs(port)
                self.assertEqual(refused.status, 503)
                self.assertIn(b"too many sessions", refused.read_until_closed(5))
                refused.close()
                wait_for(lambda: json.loads(http(port, "GET", "/api/stats")[1])["gateway"]
                         ["web_subscriptions"] >= 1, what="subscriptions")
                time.sleep(0.2)
                pub = context.socket(zmq.XPUB)
                pub.connect(zgate.endpoint("topics-publishers"))
                wait_everything(pub)

                def flood():
                    for n in range(20000):
                        pub.send_multipart([b"flood", b"x" * 1000])
                        if n % 50 == 0:
                            time.sleep(0.01)
                sending = asyncio.get_running_loop().run_in_executor(None, flood)
                for _ in range(20000):
                    await fast.next_push("message", timeout=20)
                await sending
                slow.read_until_closed(timeout=10)       # the gateway hung up on it
                slow.close()
                await fast.close()
                await third.close()
            try:
                run(scenario(), timeout=120)
            finally:
                context.destroy(linger=0)
            stats = json.loads(http(port, "GET", "/api/stats")[1])["gateway"]
            self.assertGreaterEqual(stats["disconnects_slow"], 1)
            self.assertEqual(stats["dropped_slow"], 0)
            self.assertEqual(stats["sessions_rejected"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
