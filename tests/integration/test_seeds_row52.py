"""The seeds' own tests, mirrored against a real zgate (SEEDS.md row 52; issue 18 item 6).

One test per case of each seed's test suite (SEEDS.md sections 1.7, 2.7, 3.6, 4.9, 5.8), named
test_row52_<seed>_<case>, asserting what the seed's test asserted through zgate's equivalent (README "Coming
from ..."). Where zgate is deliberately different, the test's docstring says how in one line.
"""
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, TIMEOUT, Ws, http, run  # noqa: E402
from test_rooms import Connection  # noqa: E402
from test_security_web import hs256  # noqa: E402
from test_seeds_wsqueue import next_envelope, open_endpoint  # noqa: E402
from zgate_harness import Zgate, wait_everything, wait_for  # noqa: E402

BUILD_DIR = os.environ.get("ZGATE_BUILD_DIR", "build")
WORKQUEUE_WORKER = os.path.join(BUILD_DIR, "examples", "workqueue", "workqueue_worker")
SECRET = "row52-secret"


def is_uuid_v4(text):
    """qmanager's uuid_test: length 36, '4' at index 14, one of 8 9 a b at index 19."""
    return len(text) == 36 and text[14] == "4" and text[19] in "89ab" and \
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text) is not None


def post(port, path, raw, token=None):
    """(status, exact body bytes) of a POST with a raw body, as gophermq's handler tests compare them."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=raw, method="POST")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---------------------------------------------------------------------------------------------------------
# go-wsqueue: acl_test.go (5 cases) and message_test.go (3 cases)

ACL_PERMISSIONS = """grants
    localhost0
        topics
            subscribe = acl.news
    FooBar
        topics
            subscribe = acl.denied
    Foo
        topics
            subscribe = acl.news
"""
ACL_SUBSCRIBE = b'{"subject":"acl.news"}'


class WsqueueAclTest(unittest.TestCase):
    """zgate's ACL is a signed token's subject and the permissions file, not the seed's WORLD/IP/DIGEST list;
    each case subscribes (POST /api/subscribe) as the seed's case connected, and is allowed or refused."""

    @classmethod
    def setUpClass(cls):
        handle, cls.permissions = tempfile.mkstemp(suffix=".cfg")
        with os.fdopen(handle, "w") as file:
            file.write(ACL_PERMISSIONS)
        cls.zgate = Zgate(security_jwt_secret=SECRET, security_permissions=cls.permissions).start()
        cls.port = int(cls.zgate.endpoint("gateway-http-port"))

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.zgate.stop()
        os.unlink(cls.permissions)
        assert code == 0, code

    def assert_allowed(self, status, body):
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(answer["subject"], "acl.news")
        self.assertTrue(is_uuid_v4(answer["id"]), answer)

    def test_row52_wsqueue_acl_world_allows(self):
        """WORLD is a gateway without a token key: anyone is allowed."""
        with Zgate() as open_zgate:
            self.assert_allowed(*post(int(open_zgate.endpoint("gateway-http-port")), "/api/subscribe",
                                      ACL_SUBSCRIBE))

    def test_row52_wsqueue_acl_ip_allows(self):
        """The seed trusted X-Forwarded-For; zgate trusts only a signed subject, here 'localhost0'."""
        token = hs256({"sub": "localhost0"}, SECRET)
        self.assert_allowed(*post(self.port, "/api/subscribe", ACL_SUBSCRIBE, token))

    def test_row52_wsqueue_acl_ip_denies(self):
        """'FooBar' is granted, 'localhost' is not: 403 (the seed's 401) and nothing subscribed."""
        token = hs256({"sub": "localhost"}, SECRET)
        self.assertEqual(post(self.port, "/api/subscribe", b'{"subject":"acl.denied"}', token),
                         (403, b'{"message":"forbidden: \'localhost\' may not subscribe topics \'acl.denied\'"}\n'))
        self.assertEqual(post(self.port, "/api/publish", b'{"subject":"acl.denied","data":"x"}',
                              hs256({"sub": "root", "zgate": {"admin": 1}}, SECRET)),
                         (404, b'{"message":"subscriber not found"}\n'))

    def test_row52_wsqueue_acl_digest_allows(self):
        """The seed's Basic Foo:Bar is a token for 'Foo' signed with the gateway's secret."""
        token = hs256({"sub": "Foo"}, SECRET)
        self.assert_allowed(*post(self.port, "/api/subscribe", ACL_SUBSCRIBE, token))

    def test_row52_wsqueue_acl_digest_denies(self):
        """The seed's wrong password (XXX/XXX) is a token for 'Foo' signed with another secret: 401."""
        token = hs256({"sub": "Foo"}, "XXX")
        status, body = post(self.port, "/api/subscribe", ACL_SUBSCRIBE, token)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body), {"message": "the token is malformed or its signature does not verify"})


class WsqueueMessageTest(GatewayTestCase):

    async def envelope(self, publish):
        """The envelope a /wsqueue/topic subscriber gets for what publish() sends, once subscribed."""
        ws = await open_endpoint(self.port, "/wsqueue/topic/msg.t")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await publish()
            try:
                envelope = await next_envelope(ws, timeout=0.1)
                await ws.close()
                return envelope
            except asyncio.TimeoutError:
                continue
        self.fail("no envelope")

    def publish_native(self, payload):
        pub = self.context.socket(zmq.XPUB)
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)

        async def publish():
            pub.send_multipart([b"msg.t", payload])
        try:
            return run(self.envelope(publish))
        finally:
            pub.close(linger=0)

    def assert_map_envelope(self, envelope):
        self.assertEqual(json.loads(envelope["data"]), {"a": "b"})
        self.assertEqual(envelope["metadata"]["content-type"], "application/json")
        self.assertEqual(envelope["metadata"]["application-type"], "map[string]interface {}")

    def test_row52_wsqueue_message_string(self):
        envelope = self.publish_native(b"hello")
        self.assertEqual(envelope["data"], "hello")
        self.assertEqual(envelope["metadata"]["content-type"], "string")
        self.assertNotIn("application-type", envelope["metadata"])

    def test_row52_wsqueue_message_map(self):
        envelope = self.publish_native(b'{"a":"b"}')
        self.assertEqual(envelope["data"], '{"a":"b"}')
        self.assert_map_envelope(envelope)

    def test_row52_wsqueue_message_pointer_to_map(self):
        """A Go pointer has no wire form: the same map published by a web client (an object, not a string)."""
        async def scenario():
            session = await Ws.open(self.port)

            async def publish():
                answer = await session.request({"op": "publish", "topic": "msg.t", "data": {"a": "b"}, "req": 1})
                self.assertEqual(answer["op"], "ok", answer)
            envelope = await self.envelope(publish)
            await session.close()
            return envelope
        self.assert_map_envelope(run(scenario()))
# ---------------------------------------------------------------------------------------------------------
# gophermq: broker_test.go and handler_test.go (exact bodies and codes)

class GophermqTest(GatewayTestCase):
    zgate_overrides = {"gateway_pull_buffer_size": 2}

    def subscribe(self, subject):
        status, body = post(self.port, "/api/subscribe", json.dumps({"subject": subject}).encode())
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(body, b'{"id":"%s","subject":"%s"}\n' % (answer["id"].encode(), subject.encode()))
        return answer["id"]

    def publish(self, subject, data):
        return post(self.port, "/api/publish", json.dumps({"subject": subject, "data": data}).encode())

    def fetch(self, subject, sid):
        return post(self.port, "/api/fetch", json.dumps({"subject": subject, "id": sid}).encode())

    def fetched(self, subject, sid, data):
        """The exact 200 body of a fetch that returns data."""
        return (200, b'{"data":%s,"id":"%s","subject":"%s"}\n' % (json.dumps(data, separators=(",", ":")).encode(),
                                                                sid.encode(), subject.encode()))

    def test_row52_gophermq_publish_fetch(self):
        sid = self.subscribe("gmq.pf")
        self.assertEqual(self.publish("gmq.pf", "m1"), (200, b'{"status":"ok"}\n'))
        self.assertEqual(self.fetch("gmq.pf", sid), self.fetched("gmq.pf", sid, ["m1"]))

    def test_row52_gophermq_fanout(self):
        """A second subscriber of the subject gets its own copy."""
        first, second = self.subscribe("gmq.fan"), self.subscribe("gmq.fan")
        self.assertEqual(self.publish("gmq.fan", "m1")[0], 200)
        self.assertEqual(self.fetch("gmq.fan", first), self.fetched("gmq.fan", first, ["m1"]))
        self.assertEqual(self.fetch("gmq.fan", second), self.fetched("gmq.fan", second, ["m1"]))

    def test_row52_gophermq_fetch_again_is_empty(self):
        sid = self.subscribe("gmq.again")
        self.publish("gmq.again", "m1")
        self.publish("gmq.again", "m2")
        self.assertEqual(self.fetch("gmq.again", sid), self.fetched("gmq.again", sid, ["m1", "m2"]))
        self.assertEqual(self.fetch("gmq.again", sid), self.fetched("gmq.again", sid, []))

    def test_row52_gophermq_bad_subject(self):
        """Fetch of a bad subject is 400, where the seed's handler answered 500."""
        invalid = (400, b'{"message":"invalid subject"}\n')
        self.assertEqual(self.publish("bad subject", "x"), invalid)
        for subject in ("", "a..b", ".a", "a.", "a\tb"):
            self.assertEqual(self.publish(subject, "x"), invalid, subject)
        self.assertEqual(post(self.port, "/api/subscribe", b'{"subject":"bad subject"}'), invalid)
        self.assertEqual(self.fetch("bad subject", "x"), invalid)

    def test_row52_gophermq_publish_no_subscriber(self):
        self.assertEqual(self.publish("gmq.nobody", "x"), (404, b'{"message":"subscriber not found"}\n'))

    def test_row52_gophermq_overflow(self):
        """gophermq's max-pending is zgate's pull-buffer-size (2 here): the third publish is refused."""
        sid = self.subscribe("gmq.over")
        for data in ("m1", "m2"):
            self.assertEqual(self.publish("gmq.over", data)[0], 200)
        self.assertEqual(self.publish("gmq.over", "m3"), (429, b'{"message":"broker overflow"}\n'))
        self.assertEqual(self.fetch("gmq.over", sid), self.fetched("gmq.over", sid, ["m1", "m2"]))
        self.assertEqual(self.publish("gmq.over", "m4"), (200, b'{"status":"ok"}\n'))

    def test_row52_gophermq_subscribe_ids_unique(self):
        ids = [self.subscribe("gmq.ids") for _ in range(3)] + [self.subscribe("gmq.other")]
        self.assertEqual(len(set(ids)), 4)
        self.assertTrue(all(is_uuid_v4(sid) for sid in ids), ids)

    def test_row52_gophermq_fetch_bad_id(self):
        self.subscribe("gmq.badid")
        self.assertEqual(self.fetch("gmq.badid", "bad id"), (404, b'{"message":"bad id"}\n'))
        self.assertEqual(self.fetch("gmq.never", "bad id"), (404, b'{"message":"bad id"}\n'))

    def test_row52_gophermq_handler_publish_codes_and_bodies(self):
        """The seed's 500 "server error" came from an injected broker fault, which zgate has no way to fake."""
        self.subscribe("test.a")
        self.assertEqual(self.publish("test.a", "x"), (200, b'{"status":"ok"}\n'))
        self.assertEqual(self.publish("test a", "x"), (400, b'{"message":"invalid subject"}\n'))
        self.assertEqual(self.publish("test.none", "x"), (404, b'{"message":"subscriber not found"}\n'))
        self.publish("test.a", "y")
        self.assertEqual(self.publish("test.a", "z"), (429, b'{"message":"broker overflow"}\n'))
        invalid = (400, b'{"message":"request\'s body is invalid"}\n')
        self.assertEqual(post(self.port, "/api/publish", b'"a JSON string"'), invalid)
        self.assertEqual(post(self.port, "/api/publish", b'{"subject":"test.a","data":7}'), invalid)

    def test_row52_gophermq_handler_subscribe_codes_and_bodies(self):
        self.subscribe("test.b")      # 200 {"id":...,"subject":"test.b"}
        self.assertEqual(post(self.port, "/api/subscribe", b'"a JSON string"'),
                         (400, b'{"message":"request\'s body is invalid"}\n'))
        self.assertEqual(post(self.port, "/api/subscribe", b'{"subject":"test b"}'),
                         (400, b'{"message":"invalid subject"}\n'))

    def test_row52_gophermq_handler_fetch_codes(self):
        sid = self.subscribe("test.c")
        self.assertEqual(self.fetch("test.c", sid)[0], 200)
        self.assertEqual(self.fetch("test.c", "00000000-0000-4000-8000-000000000000")[0], 404)
        self.assertEqual(post(self.port, "/api/fetch", b'"a JSON string"')[0], 400)


# ---------------------------------------------------------------------------------------------------------
# redis-sync-fanout (v1): client_test and room-proxy-mgr_test

class FanoutTest(GatewayTestCase):

    def setUp(self):
        self.conn = Connection(self.context, self.zgate.endpoint("rooms-clients"))

    def tearDown(self):
        self.conn.socket.close(linger=0)

    def delivered(self, client):
        return [event for event in self.conn.sync(client) if event[0] == b"DELIVER"]

    def test_row52_fanout_connect_disconnect(self):
        client = self.conn.hello()
        self.conn.ok(b"JOIN", client, b"fan.cd")
        self.conn.ok(b"BYE", client)
        self.assertEqual(self.conn.error(b"PING", client), 404)
        self.assertEqual(self.conn.map(b"STATE", b"fan.cd")["members"], [])

    def test_row52_fanout_send_receive(self):
        client = self.conn.hello()
        self.conn.ok(b"JOIN", client, b"fan.sr")
        self.conn.ok(b"SEND", b"fan.sr", 1, b"hello")
        events = wait_for(lambda: self.delivered(client), what="the message")
        self.assertEqual([(e[1], e[2], e[5]) for e in events], [(client, b"fan.sr", b"hello")])

    def test_row52_fanout_get_metrics(self):
        """METRICS top 1 returns exactly one room (the seed's limit+1 was an off-by-one)."""
        client = self.conn.hello()
        self.conn.ok(b"JOIN", client, b"fan.m1")
        self.conn.ok(b"JOIN", client, b"fan.m2")
        for room, count in ((b"fan.m1", 3), (b"fan.m2", 2)):
            for n in range(count):
                self.conn.ok(b"SEND", room, 0, b"%d" % n)
        metrics = self.conn.map(b"METRICS", 1)
        self.assertEqual(metrics["top_rooms"], [{"room": "fan.m1", "backlog": 2}])
        self.assertEqual(metrics["top_backlog"], 2)
        self.assertGreaterEqual(metrics["rooms_with_backlog"], 2)
        self.conn.ok(b"BYE", client)

    def test_row52_fanout_unsubscribe_stops_delivery(self):
        client = self.conn.hello()
        self.conn.ok(b"JOIN", client, b"fan.un")
        self.conn.ok(b"SEND", b"fan.un", 0, b"before")
        self.assertEqual([e[5] for e in wait_for(lambda: self.delivered(client), what="the message")],
                         [b"before"])
        self.conn.ok(b"LEAVE", client, b"fan.un")
        self.conn.ok(b"SEND", b"fan.un", 0, b"after")
        time.sleep(0.3)
        self.assertEqual(self.delivered(client), [])
        self.assertEqual(self.conn.error(b"LEAVE", client, b"fan.un"), 404)

    def test_row52_fanout_multiple_messages_acked_in_sequence(self):
        """Five messages, each acked on arrival: exactly five arrive, one at a time, in order."""
        client, other = self.conn.hello(), self.conn.hello()
        self.conn.ok(b"JOIN", client, b"fan.mm")
        self.conn.ok(b"JOIN", other, b"fan.mm")
        for n in range(5):
            self.conn.ok(b"SEND", b"fan.mm", 0, b"m%d" % n)
        received = []
        for n in range(5):
            events = {e[1]: e for e in self.delivered(client)}
            self.assertEqual(sorted(events), sorted([client, other]), n)
            self.assertEqual({e[5] for e in events.values()}, {b"m%d" % n})
            received.append(events[client][5])
            self.conn.ok(b"ACK", client, b"fan.mm", events[client][4])
            self.assertEqual(self.delivered(client), [], "released before every member acked")
            self.conn.ok(b"ACK", other, b"fan.mm", events[other][4])
        self.assertEqual(received, [b"m0", b"m1", b"m2", b"m3", b"m4"])
        self.assertEqual(self.delivered(client), [])


class FanoutRoomProxyTest(GatewayTestCase):
    """The seed's RoomProxyManager is the gateway's room proxy: N web sessions, one member upstream."""
    zgate_overrides = {"gateway_room_proxy": 1}

    def members(self, room):
        status, body, _ = http(self.port, "GET", "/api/rooms/" + room)
        self.assertEqual(status, 200)
        return json.loads(body)["members"]

    async def session(self):
        """A session whose joins go through the proxy (a join before it has its upstream client gets 503)."""
        ws = await Ws.open(self.port)

        async def joined():
            return (await ws.request({"op": "join", "room": "px.warm", "req": "w"}))["op"] == "ok"
        deadline = time.monotonic() + 10
        while not await joined():
            self.assertLess(time.monotonic(), deadline, "the room proxy got no client id")
            await asyncio.sleep(0.05)
        await ws.request({"op": "leave", "room": "px.warm", "req": "w"})
        return ws

    def test_row52_fanout_proxy_connect_disconnect(self):
        async def scenario():
            ws = await self.session()
            self.assertEqual((await ws.request({"op": "join", "room": "px.cd", "req": 1}))["op"], "ok")
            self.assertEqual(len(self.members("px.cd")), 1)
            await ws.close()
        run(scenario())
        wait_for(lambda: self.members("px.cd") == [], what="the proxy to leave upstream")

    def test_row52_fanout_proxy_10_clients_10_rooms_join_and_part(self):
        rooms = [f"px.r{n}" for n in range(10)]

        async def scenario():
            clients = [await self.session() for _ in range(10)]
            for ws in clients:
                for room in rooms:
                    self.assertEqual((await ws.request({"op": "join", "room": room, "req": room}))["op"], "ok")
            self.assertEqual([len(self.members(room)) for room in rooms], [1] * 10)
            for ws in clients:
                for room in rooms:
                    self.assertEqual((await ws.request({"op": "leave", "room": room, "req": room}))["op"], "ok")
            self.assertEqual([self.members(room) for room in rooms], [[]] * 10)
            for ws in clients:
                await ws.close()
        run(scenario())

    def test_row52_fanout_proxy_join_part_send_receive_counts(self):
        """client1 in room1 and room2, client2 in room2; one send to each room: client1 counts 2, client2 1."""
        async def scenario():
            client1, client2 = await self.session(), await self.session()
            for ws, room in ((client1, "px.room1"), (client1, "px.room2"), (client2, "px.room2")):
                self.assertEqual((await ws.request({"op": "join", "room": room, "req": 1}))["op"], "ok")
            for room in ("px.room1", "px.room2"):
                self.assertEqual(http(self.port, "POST", "/api/rooms/" + room, {"data": room})[0], 200)
            counts = []
            for ws in (client1, client2):
                got = []
                try:
                    while True:
                        got.append((await ws.next_push("room", timeout=0.5))["data"])
                except asyncio.TimeoutError:
                    counts.append(sorted(got))
            self.assertEqual(counts, [["px.room1", "px.room2"], ["px.room2"]])
            await client1.close()
            await client2.close()
        run(scenario())


if __name__ == "__main__":
    unittest.main()
