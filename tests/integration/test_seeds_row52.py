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
if __name__ == "__main__":
    unittest.main()
