"""Seed parity for go-wsqueue users (issue 18, item 1): each test is named after its row of the capability
table in SEEDS.md (section 7) and runs against a real zgate.

Row 2: topic presence, join and leave events with a connection id for native and web subscribers, and who is
subscribed now (HTTP and native PRESENCE). Row 35: the WebSocket endpoints {prefix}/wsqueue/topic/{name} and /wsqueue/queue/{name}. Row 34: the seed's
JSON envelope (section 1.3) and its content types. Row 3: frames a topic subscriber sends reach a native
handler with the connection id (gateway/wsqueue-inbox). Row 11 (the seed's README promise, which its code
lacks): a consumer that goes without acking leaves its message to another consumer.
"""
import asyncio
import json
import os
import re
import sys
import time
import unittest

import msgpack
import websockets
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, RawWs, TIMEOUT, Ws, http, run  # noqa: E402
from zgate_harness import wait_everything  # noqa: E402

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GO_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+0000 UTC$")


async def open_endpoint(port, path):
    return await websockets.connect(f"ws://127.0.0.1:{port}{path}", open_timeout=TIMEOUT, ping_interval=None)


async def next_envelope(ws, timeout=TIMEOUT):
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str), "the seed's frames are text"
    return json.loads(frame)


class WsqueueTestCase(GatewayTestCase):

    def publisher(self):
        """An XPUB to zgate's publishers' endpoint, once zgate's XSUB has connected."""
        pub = self.context.socket(zmq.XPUB)
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        return pub

    async def publish_until_received(self, pub, ws, topic, payload):
        """Publish until the endpoint's subscription is in effect (the seed has no subscribe answer)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pub.send_multipart([topic, payload])
            try:
                return await next_envelope(ws, timeout=0.1)
            except asyncio.TimeoutError:
                continue
        self.fail("no message on the endpoint")


class WsqueueEndpointsTest(WsqueueTestCase):

    def test_row35_topic_endpoint_sends_the_seed_envelope(self):
        async def scenario():
            pub = self.publisher()
            plain = await open_endpoint(self.port, "/wsqueue/topic/r35.news")
            prefixed = await open_endpoint(self.port, "/api/v1/wsqueue/topic/r35.news")
            other = await open_endpoint(self.port, "/wsqueue/topic/r35.newsroom")
            first = await self.publish_until_received(pub, plain, b"r35.news", b"hello")
            await self.publish_until_received(pub, prefixed, b"r35.news", b"hello")
            metadata = first["metadata"]
            self.assertEqual((metadata["content-type"], first["data"]), ("string", "hello"))
            self.assertRegex(metadata["id"], UUID4)
            self.assertRegex(metadata["date"], GO_DATE)
            self.assertRegex(metadata["received"], GO_DATE)
            self.assertEqual(metadata["host"], os.uname().nodename)
            # one message, one id for every subscriber (the seed's Publish); none for a longer topic
            pub.send_multipart([b"r35.news", b"again"])
            seen = [await next_envelope(plain), await next_envelope(prefixed)]
            while seen[0]["data"] != "again":
                seen[0] = await next_envelope(plain)
            while seen[1]["data"] != "again":
                seen[1] = await next_envelope(prefixed)
            self.assertEqual(seen[0]["metadata"]["id"], seen[1]["metadata"]["id"])
            with self.assertRaises(asyncio.TimeoutError):
                await next_envelope(other, timeout=0.3)
            for ws in (plain, prefixed, other):
                await ws.close()
        run(scenario())

    def test_row35_unknown_paths_are_refused(self):
        for path in ("/wsqueue/topic/", "/wsqueue/nothing/x", "/wsq"):
            raw = RawWs(self.port, path=path)
            self.assertEqual(raw.status, 404, path)
            raw.close()

    def test_row34_envelope_content_types(self):
        """The seed's message tests (a string, a map, a pointer to a map) and its other types."""
        cases = [(b"text", "string", None, "text"),
                 (b'{"k":"v"}', "application/json", "map[string]interface {}", '{"k":"v"}'),
                 (b"[1,2]", "application/json", "[]interface {}", "[1,2]"),
                 (b"12", "int", None, "12"),
                 (b"false", "bool", None, "false")]

        async def scenario():
            pub = self.publisher()
            ws = await open_endpoint(self.port, "/wsqueue/topic/r34")
            await self.publish_until_received(pub, ws, b"r34", b"warm-up")
            for payload, _, _, _ in cases:
                pub.send_multipart([b"r34", payload])
            received = []
            while len(received) < len(cases):
                envelope = await next_envelope(ws)
                if envelope["data"] != "warm-up":
                    received.append(envelope)
            for envelope, (_, content_type, go_type, data) in zip(received, cases):
                self.assertEqual(envelope["metadata"]["content-type"], content_type)
                self.assertEqual(envelope["metadata"].get("application-type"), go_type)
                self.assertEqual(envelope["data"], data)
            await ws.close()
        run(scenario())

    def test_row35_queue_endpoint_consumes_with_acks(self):
        async def scenario():
            producer = self.context.socket(zmq.DEALER)
            producer.connect(self.zgate.endpoint("queues-producers"))
            for body in (b"one", b"two"):
                producer.send_multipart([b"SEND", b"", b"r35.jobs", b"", body])
            first = await open_endpoint(self.port, "/wsqueue/queue/r35.jobs")
            one = await next_envelope(first)
            self.assertEqual(one["data"], "one")
            self.assertRegex(one["metadata"]["id"], UUID4)
            # prefetch 1: "two" waits for the ack, which is the envelope sent back
            with self.assertRaises(asyncio.TimeoutError):
                await next_envelope(first, timeout=0.3)
            await first.send(json.dumps({"metadata": {"id": one["metadata"]["id"]}}))
            two = await next_envelope(first)
            self.assertEqual(two["data"], "two")
            # a consumer that goes without acking leaves its message to another (row 11)
            await first.close()
            second = await open_endpoint(self.port, "/wsqueue/queue/r35.jobs")
            again = await next_envelope(second)
            self.assertEqual(again["data"], "two")
            self.assertNotEqual(again["metadata"]["id"], two["metadata"]["id"])
            await second.send(json.dumps(again))
            await second.close()
            producer.close(linger=0)
        run(scenario())


class WsqueueInboxTopicTest(WsqueueTestCase):
    zgate_overrides = {"gateway_wsqueue_inbox": "topic:r3.inbox"}

    def test_row3_frames_from_subscribers_reach_a_native_handler(self):
        async def scenario():
            handler = self.context.socket(zmq.SUB)
            handler.connect(self.zgate.endpoint("topics-subscribers"))
            handler.subscribe(b"r3.inbox")
            handler.rcvtimeo = 100
            ws = await open_endpoint(self.port, "/wsqueue/topic/r3.chat")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                await ws.send(json.dumps({"metadata": {"content-type": "string"}, "data": "hi"}))
                try:
                    topic, payload = handler.recv_multipart()
                    break
                except zmq.Again:
                    continue
            inbound = json.loads(payload)
            self.assertEqual(topic, b"r3.inbox")
            self.assertRegex(inbound["connection"], UUID4)
            self.assertEqual(inbound["topic"], "r3.chat")
            self.assertEqual(inbound["message"]["data"], "hi")
            await ws.close()
            handler.close(linger=0)
        run(scenario())


class WsqueueInboxQueueTest(WsqueueTestCase):
    zgate_overrides = {"gateway_wsqueue_inbox": "queue:r3.inbox"}

    def test_row3_frames_from_subscribers_reach_a_native_queue(self):
        async def scenario():
            ws = await open_endpoint(self.port, "/wsqueue/topic/r3.chat")
            await ws.send("plain text")
            worker = self.context.socket(zmq.DEALER)
            worker.rcvtimeo = 5000
            worker.connect(self.zgate.endpoint("queues-workers"))
            worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["r3.inbox"]})])
            self.assertEqual(worker.recv_multipart()[0], b"OK")
            command, _, task, _, payload = worker.recv_multipart()
            inbound = json.loads(payload)
            self.assertEqual((command, inbound["topic"], inbound["message"]), (b"DELIVER", "r3.chat", "plain text"))
            self.assertRegex(inbound["connection"], UUID4)
            worker.send_multipart([b"ACK", b"w", task])
            await ws.close()
            worker.close(linger=0)
        run(scenario())


class PresenceTest(WsqueueTestCase):
    zgate_overrides = {"topics_presence": "r2.* news"}

    def presence(self, topic):
        status, body, _ = http(self.port, "GET", f"/api/topics/{topic}/presence")
        return status, json.loads(body)

    def wait_present(self, topic, count):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, body = self.presence(topic)
            self.assertEqual(status, 200)
            if len(body["present"]) == count:
                return body["present"]
            time.sleep(0.05)
        self.fail(f"{topic} never had {count} present: {body}")

    def test_row2_presence_of_native_and_web_subscribers(self):
        async def scenario():
            listener = await Ws.open(self.port)
            answer = await listener.request({"op": "subscribe", "topic": "$zgate.presence.r2.chat", "req": 1})
            self.assertEqual(answer["op"], "ok")

            async def next_event():
                data = (await listener.next_push("message"))["data"]
                return data if isinstance(data, dict) else json.loads(data)

            native = self.context.socket(zmq.SUB)
            native.connect(self.zgate.endpoint("topics-subscribers"))
            native.subscribe(b"r2.chat")
            joined = await next_event()
            self.assertEqual((joined["event"], joined["topic"], joined["kind"]), ("join", "r2.chat", "native"))
            self.assertRegex(joined["connection"], UUID4)
            endpoint = await open_endpoint(self.port, "/wsqueue/topic/r2.chat")
            web = await next_event()
            self.assertEqual((web["event"], web["kind"]), ("join", "web"))
            self.assertRegex(web["connection"], UUID4)
            session = await Ws.open(self.port)
            self.assertEqual((await session.request({"op": "subscribe", "topic": "r2.chat", "req": 2}))["op"], "ok")
            other = await next_event()
            self.assertNotEqual(other["connection"], web["connection"])
            present = self.wait_present("r2.chat", 3)
            self.assertEqual(sorted(p["connection"] for p in present),
                             sorted([joined["connection"], web["connection"], other["connection"]]))
            # the same over the native history endpoint
            dealer = self.context.socket(zmq.DEALER)
            dealer.rcvtimeo = 5000
            dealer.connect(self.zgate.endpoint("topics-history-requests"))
            dealer.send_multipart([b"PRESENCE", b"q", b"r2.chat"])
            verb, req, listed = dealer.recv_multipart()
            self.assertEqual((verb, req), (b"PRESENCE", b"q"))
            self.assertEqual(len(json.loads(listed)["present"]), 3)
            dealer.send_multipart([b"PRESENCE", b"q", b"weather"])
            self.assertEqual(dealer.recv_multipart()[:3], [b"ERROR", b"q", b"404"])
            # leaving: the endpoint's session, the native subscriber, the /ws unsubscribe
            await endpoint.close()
            left = await next_event()
            self.assertEqual((left["event"], left["connection"]), ("leave", web["connection"]))
            native.close(linger=0)
            left = await next_event()
            self.assertEqual((left["event"], left["connection"], left["kind"]), ("leave", joined["connection"], "native"))
            await session.request({"op": "unsubscribe", "topic": "r2.chat", "req": 3})
            left = await next_event()
            self.assertEqual((left["event"], left["connection"]), ("leave", other["connection"]))
            self.wait_present("r2.chat", 0)
            status, _ = self.presence("weather")
            self.assertEqual(status, 404)
            dealer.close(linger=0)
            for ws in (listener, session):
                await ws.close()
        run(scenario())


if __name__ == "__main__":
    unittest.main()
