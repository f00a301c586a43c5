"""The seeds' own tests, mirrored against a real zgate (SEEDS.md row 52; issue 18 item 6).

One test per case of each seed's test suite (SEEDS.md sections 1.7, 2.7, 3.6, 4.9, 5.8), named
test_row52_<seed>_<case>, asserting what the seed's test asserted through zgate's equivalent (README "Coming
from ..."). Where zgate is deliberately different, the test's docstring says how in one line.
"""
import asyncio
import ctypes
import ctypes.util
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


# ---------------------------------------------------------------------------------------------------------
# teomq: broker/answers_test.go and broker/consumers_test.go; qmanager: manager, queue, uuid, task, http and
# operations tests

class Dealer:
    """A DEALER to one of zgate's queues endpoints: requests [VERB][req][fields...] and their answers."""

    def __init__(self, context, endpoint):
        self.socket = context.socket(zmq.DEALER)
        self.socket.rcvtimeo = int(TIMEOUT * 1000)
        self.socket.connect(endpoint)
        self.counter = 0

    def request(self, verb, *fields):
        """The answer without its req: [OK, fields...] or [ERROR, code, reason]."""
        self.counter += 1
        req = b"r%d" % self.counter
        self.socket.send_multipart([verb, req, *fields])
        answer = self.socket.recv_multipart()
        assert answer[1] == req, answer
        return [answer[0]] + answer[2:]

    def send(self, queue, data, **options):
        answer = self.request(b"SEND", queue, msgpack.packb(options) if options else b"", data)
        assert answer[0] == b"OK", answer
        return answer[1]

    def take(self, *queues):
        return self.request(b"TAKE", msgpack.packb({"queues": list(queues)}) if queues else b"")

    def get(self, task_id):
        answer = self.request(b"GET", task_id)
        assert answer[0] == b"OK", answer
        return msgpack.unpackb(answer[1])

    def ready(self, worker, **options):
        self.socket.send_multipart([b"READY", worker, msgpack.packb(options)])
        answer = self.socket.recv_multipart()
        assert answer[:2] == [b"OK", worker], answer

    def close(self):
        self.socket.close(linger=0)


class QueuesTestCase(GatewayTestCase):

    def dealer(self, endpoint="queues-producers"):
        dealer = Dealer(self.context, self.zgate.endpoint(endpoint))
        self.addCleanup(dealer.close)
        return dealer


class TeomqTest(QueuesTestCase):

    def test_row52_teomq_answer_map_routing(self):
        """Two producers' tasks, answered in reverse order: each answer reaches the producer that asked, once
        (zgate routes by connection and req; a second answer for a task is refused, 409)."""
        producers = [self.dealer(), self.dealer()]
        ids = [p.send(b"tq.answers", b"from %d" % n, reply=True) for n, p in enumerate(producers)]
        worker = self.dealer("queues-workers")
        worker.ready(b"c1", queues=["tq.answers"], prefetch=2)
        delivered = [worker.socket.recv_multipart() for _ in ids]
        self.assertEqual([d[2] for d in delivered], ids)
        for command, _, task_id, _, payload in reversed(delivered):
            worker.socket.send_multipart([b"ACK", b"c1", task_id, b"answer to " + payload])
        for n, producer in enumerate(producers):
            self.assertEqual(producer.socket.recv_multipart(), [b"REPLY", b"r1", ids[n], b"answer to from %d" % n])
        worker.socket.send_multipart([b"ACK", b"c1", ids[0], b"again"])
        self.assertEqual(worker.socket.recv_multipart()[:3], [b"ERROR", b"c1", b"409"])
        for producer in producers:
            self.assertEqual(producer.socket.poll(300), 0, "a second answer")

    def test_row52_teomq_round_robin_consumer_list(self):
        """c1 then c2; without c1, c2; without both, an error (a command nobody serves: 404)."""
        producer = self.dealer()
        workers = {name: self.dealer("queues-workers") for name in (b"c1", b"c2")}
        for name, worker in workers.items():
            worker.ready(name, commands=["tq.rr"])

        def call_served_by():
            answer = producer.request(b"CALL", b"", b"tq.rr/x")
            self.assertEqual(answer[0], b"OK", answer)
            poller = zmq.Poller()
            for worker in workers.values():
                poller.register(worker.socket, zmq.POLLIN)
            self.assertTrue(poller.poll(TIMEOUT * 1000), "the task reached no consumer")
            time.sleep(0.05)
            ready = [(name, w) for name, w in workers.items() if w.socket.poll(0)]
            self.assertEqual(len(ready), 1, "one consumer per task")
            (name, worker), = ready
            command, _, task_id, _, _ = worker.socket.recv_multipart()
            worker.socket.send_multipart([b"ACK", name, task_id])
            return name
        self.assertEqual([call_served_by(), call_served_by(), call_served_by()], [b"c1", b"c2", b"c1"])
        workers.pop(b"c1").socket.send_multipart([b"BYE", b"c1"])
        self.assertEqual([call_served_by(), call_served_by()], [b"c2", b"c2"])
        workers.pop(b"c2").socket.send_multipart([b"BYE", b"c2"])
        wait_for(lambda: producer.request(b"CALL", b"", b"tq.rr/x")[:2] == [b"ERROR", b"404"],
                 what="the command to be unknown")
        self.assertEqual(producer.request(b"CALL", b"", b"tq.rr/x"), [b"ERROR", b"404", b"command 'tq.rr' not found"])


class QmanagerTest(QueuesTestCase):

    def test_row52_qmanager_add_task_validation(self):
        """A task type is a queue name: none, or a bad one, is 400; a task without its input frame is 400."""
        producer = self.dealer()
        self.assertEqual(producer.request(b"SEND", b"", b"", b"x")[:2], [b"ERROR", b"400"])
        self.assertEqual(producer.request(b"SEND", b"bad type", b"", b"x")[:2], [b"ERROR", b"400"])
        self.assertEqual(producer.request(b"SEND", b"qm.add", b"")[:2], [b"ERROR", b"400"])
        self.assertEqual(producer.take(b"qm.add"), [b"OK"])

    def test_row52_qmanager_take_empty_then_fifo(self):
        """An empty queue answers OK with no task (the seed's ErrMissingTask, which its RPC turned into nil)."""
        producer = self.dealer()
        self.assertEqual(producer.take(b"qm.fifo"), [b"OK"])
        ids = [producer.send(b"qm.fifo", b"t%d" % n) for n in range(3)]
        self.assertEqual([producer.take(b"qm.fifo")[1] for _ in ids], ids)
        self.assertEqual(producer.take(b"qm.fifo"), [b"OK"])

    def test_row52_qmanager_pop_by_type(self):
        """The first waiting task of any listed type, across positions; a type with none: nothing."""
        producer = self.dealer()
        a1 = producer.send(b"qm.a", b"a1")
        b1 = producer.send(b"qm.b", b"b1")
        c1 = producer.send(b"qm.c", b"c1")
        b2 = producer.send(b"qm.b", b"b2")
        self.assertEqual(producer.take(b"qm.c", b"qm.b")[1:], [b1, msgpack.packb({"queue": "qm.b", "attempt": 1}),
                                                                b"b1"])
        self.assertEqual(producer.take(b"qm.b")[1], b2)
        self.assertEqual(producer.take(b"qm.missing"), [b"OK"])
        self.assertEqual(producer.take(b"qm.c", b"qm.a")[1], a1)
        self.assertEqual(producer.take(b"qm.c")[1], c1)
        self.assertEqual(producer.take(b"qm.a", b"qm.b", b"qm.c"), [b"OK"])

    def test_row52_qmanager_finish_missing_then_ok(self):
        producer = self.dealer()
        task_id = producer.send(b"qm.finish", b"in")
        self.assertEqual(producer.request(b"FINISH", b"999999999", b"out")[:2], [b"ERROR", b"404"])
        self.assertEqual(producer.request(b"FINISH", task_id, b"out")[:2], [b"ERROR", b"409"])
        self.assertEqual(producer.take(b"qm.finish")[1], task_id)
        self.assertEqual(producer.request(b"FINISH", task_id, b"out"), [b"OK", task_id])
        self.assertEqual(producer.request(b"FINISH", task_id, b"out")[:2], [b"ERROR", b"409"])

    def test_row52_qmanager_retry_missing_then_ok(self):
        producer = self.dealer()
        first, second = producer.send(b"qm.retry", b"1"), producer.send(b"qm.retry", b"2")
        self.assertEqual(producer.request(b"RETRY", b"999999999")[:2], [b"ERROR", b"404"])
        self.assertEqual(producer.request(b"RETRY", first)[:2], [b"ERROR", b"409"])
        self.assertEqual(producer.take(b"qm.retry")[1], first)
        self.assertEqual(producer.request(b"RETRY", first), [b"OK", first])
        self.assertEqual([producer.take(b"qm.retry")[1] for _ in range(2)], [second, first])

    def test_row52_qmanager_get_task_and_done_list(self):
        """GET reads a task in any state (the seed's was destructive, done only); the status page lists it."""
        producer = self.dealer()
        task_id = producer.send(b"qm.get", b"20")
        self.assertEqual(producer.get(task_id)["state"], "waiting")
        producer.take(b"qm.get")
        self.assertEqual(producer.get(task_id)["state"], "in_progress")
        producer.request(b"FINISH", task_id, b"6765")
        task = producer.get(task_id)
        self.assertEqual((task["id"], task["queue"], task["state"], task["reply"]),
                         (task_id.decode(), "qm.get", "done", b"6765"))
        self.assertEqual(producer.get(task_id)["state"], "done")
        self.assertEqual(producer.request(b"GET", b"999999999")[:2], [b"ERROR", b"404"])

        def listed():
            status, body, _ = http(self.port, "GET", "/api/queues/status")
            return status == 200 and f"ID: {task_id.decode()} " in body.decode()
        wait_for(listed, what="the task in the done list")

    def test_row52_qmanager_task_is_not_empty(self):
        producer = self.dealer()
        task_id = producer.send(b"qm.task", b"input")
        self.assertRegex(task_id, rb"^[0-9]+$")
        task = producer.get(task_id)
        self.assertEqual((task["id"], task["queue"], task["state"], task["attempt"], task["input"]),
                         (task_id.decode(), "qm.task", "waiting", 0, b"input"))
        self.assertGreater(task["created"], 0)

    def test_row52_qmanager_uuid_v4_format(self):
        """zgate's task ids are decimal on purpose; its UUIDs are the gophermq subscriber and go-wsqueue ids."""
        ids = []
        for _ in range(2):
            status, body = post(self.port, "/api/subscribe", b'{"subject":"qm.uuid"}')
            self.assertEqual(status, 200)
            ids.append(json.loads(body)["id"])

        async def endpoint_ids():
            ws = await open_endpoint(self.port, "/wsqueue/queue/qm.uuid")
            producer = self.dealer()
            producer.send(b"qm.uuid", b"x")
            envelope = await next_envelope(ws)
            await ws.close()
            return [envelope["metadata"]["id"]]
        ids += run(endpoint_ids())
        for uuid in ids:
            self.assertEqual(len(uuid), 36, uuid)
            self.assertEqual(uuid[14], "4", uuid)
            self.assertIn(uuid[19], "89ab", uuid)
            self.assertTrue(is_uuid_v4(uuid), uuid)
        self.assertEqual(len(set(ids)), 3)

    def test_row52_qmanager_status_http_200(self):
        status, body, headers = http(self.port, "GET", "/api/queues/status")
        self.assertEqual((status, headers["Content-Type"]), (200, "text/plain; charset=utf-8"))
        self.assertTrue(body.decode().startswith("Current time is: "))

    def test_row52_qmanager_status_counts(self):
        """The seed's weak Status assertion, made exact on a zgate of its own: wait 2, progress 1, done 1."""
        with Zgate() as zgate:
            producer = Dealer(self.context, zgate.endpoint("queues-producers"))
            self.addCleanup(producer.close)
            done, taken = (producer.send(b"qm.s", b"%d" % n) for n in range(2))
            for n in range(2):
                producer.send(b"qm.s", b"w%d" % n)
            producer.take(b"qm.s")
            producer.take(b"qm.s")
            producer.request(b"FINISH", done, b"ok")
            expected = ["Wait:\t\t2", "Progress:\t1", "Done:\t\t1"]

            def counts():
                status, body, _ = http(int(zgate.endpoint("gateway-http-port")), "GET", "/api/queues/status")
                self.assertEqual(status, 200)
                return body.decode().split("\n")[1:4]
            wait_for(lambda: counts() == expected, what=f"the counts {expected}")

    def test_row52_qmanager_operation_results(self):
        """The seed's operations tests through zgate: examples/workqueue's worker computes, replies carry results."""
        worker = subprocess.Popen([WORKQUEUE_WORKER, self.zgate.endpoint("queues-workers"), "ops", "4"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (worker.terminate(), worker.wait(timeout=10)))
        producer = self.dealer()
        cases = [(b"arithmetic", b"( ( 55 + 5 ) + ( 2 * 5 ) )", b"70"),
                 (b"arithmetic", b"5 + 12 / 6 - 7 * 9", b"-56"),
                 (b"arithmetic", b"(17 + (8-2) * (5*6))", b"197"),
                 (b"fibonacci", b"20", b"6765"),
                 (b"fibonacci", b"1", b"1"),
                 (b"reverse", b"Hello, World", b"dlroW ,olleH"),
                 (b"reverse", b"", b"")]
        for queue, data, result in cases:
            producer.request(b"SEND", queue, msgpack.packb({"reply": True}), data)
            self.assertEqual(producer.socket.recv_multipart()[0::3], [b"REPLY", result], data)
        for queue, data in ((b"arithmetic", b"1.2.3 + 1"), (b"arithmetic", b"2 % 3")):
            producer.request(b"SEND", queue, msgpack.packb({"reply": True}), data)
            self.assertEqual(producer.socket.recv_multipart()[2], b"422", data)
        producer.request(b"SEND", b"encoder", msgpack.packb({"reply": True}), b"secret")
        hashed = producer.socket.recv_multipart()[3].decode()
        self.assertRegex(hashed, r"^\$2[aby]\$10\$[./A-Za-z0-9]{53}$")
        # The libcrypt the worker hashed with, called directly (Python's crypt module is gone in 3.13):
        # bcrypt's CompareHashAndPassword
        libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt"))
        libcrypt.crypt.restype = ctypes.c_char_p
        libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        self.assertEqual(libcrypt.crypt(b"secret", hashed.encode()), hashed.encode())
        self.assertNotEqual(libcrypt.crypt(b"Secret", hashed.encode()), hashed.encode())


if __name__ == "__main__":
    unittest.main()
