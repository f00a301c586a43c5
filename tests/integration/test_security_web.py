"""The web trust boundary against a real zgate: bind errors, JWTs on HTTP and WebSocket (valid, expired, wrongly
signed, missing), the permission matrix (every refusal 403 and nothing changed), Origins and CORS, the reserved
$zgate. topics, and WSS with a self-signed certificate reloaded on SIGHUP under traffic."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import ZGATE_BIN, Zgate, free_port, wait_for  # noqa: E402

SECRET = "test-secret"
TIMEOUT = 10.0


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims, secret=SECRET):
    """A JWT signed with HMAC-SHA256, as `python3 -c` in the README makes one."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest())


def rs256(claims, key_file):
    """A JWT signed with RSA-SHA256 by the openssl command."""
    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file], input=head.encode(),
                               capture_output=True, check=True).stdout
    return head + "." + b64(signature)


def http(port, method, path, token=None, body=None, headers=None, scheme="http", context=None):
    """(status, body text, headers) of one request."""
    request = urllib.request.Request(f"{scheme}://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as reply:
            return reply.status, reply.read().decode(), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


async def ws_open(port, token=None, origin=None, scheme="ws", context=None):
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await websockets.connect(f"{scheme}://127.0.0.1:{port}/ws", extra_headers=headers, origin=origin,
                                    open_timeout=TIMEOUT, ping_interval=None, ssl=context)


async def ask(connection, request):
    await connection.send(json.dumps(request))
    while True:
        answer = json.loads(await asyncio.wait_for(connection.recv(), TIMEOUT))
        if answer.get("op") in ("ok", "error"):
            return answer


async def close_code(connection):
    try:
        while True:
            await asyncio.wait_for(connection.recv(), TIMEOUT)
    except websockets.ConnectionClosed as closed:
        return closed.code, closed.reason


def upgrade_status(port, headers):
    """The status of a WebSocket upgrade with extra headers (a refusal is read raw: lws answers it HTTP/1.0)."""
    lines = ["GET /ws HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        while not (reply.endswith(b"}\n") or (b" 101 " in reply and b"\r\n\r\n" in reply)):
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
        reply = reply.decode(errors="replace")
    return int(reply.split()[1]), reply


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


class BindTest(unittest.TestCase):
    def test_an_interface_that_cannot_be_bound_is_one_line_and_exit_2(self):
        #   10.9.9.9 is off loopback: without allow-insecure the missing web tokens would be refused first
        reasons = {"10.9.9.9": (["--security-allow-insecure", "1"],
                                "cannot listen on 10.9.9.9 port {port}: Cannot assign requested address"),
                   "localhost": ([], "'localhost' is not an IPv4 or IPv6 address")}
        for interface, (flags, reason) in reasons.items():
            port = free_port()
            result = subprocess.run([ZGATE_BIN, "--gateway-interface", interface, "--gateway-http-port",
                                     str(port)] + flags, capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 2, interface)
            self.assertEqual(result.stderr.splitlines(),
                             ["zgate: gateway/http-port: " + reason.format(port=port)])

    def test_a_public_interface_needs_web_tokens_or_allow_insecure(self):
        """Off loopback without tokens anyone could do anything: one line, exit 2; tokens or allow-insecure
        (as for the native endpoints) let it start."""
        for interface in ("0.0.0.0", "::"):
            zgate = Zgate(gateway_interface=interface)
            result = subprocess.run(zgate.command(), capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 2)
            self.assertEqual(result.stderr.splitlines(),
                             [f"zgate: gateway/interface = {interface} is not on loopback: set security/jwt-secret "
                              "or security/jwt-public-key (or security/allow-insecure = 1)"])
        with Zgate(gateway_interface="127.0.0.2") as zgate:
            self.assertTrue(zgate.alive())
        for flags in ({"security_jwt_secret": SECRET}, {"security_allow_insecure": 1}):
            with Zgate(gateway_interface="0.0.0.0", **flags) as zgate:
                port = int(zgate.endpoint("gateway-http-port"))
                self.assertEqual(http(port, "GET", "/ready")[0], 204, flags)

    def test_ipv6_loopback_listens_there_only(self):
        with Zgate(gateway_interface="::1") as zgate:
            port = int(zgate.endpoint("gateway-http-port"))
            self.assertTrue(any(f"web http://[::1]:{port}/" in line for line in zgate.lines))
            with socket.create_connection(("::1", port), timeout=5):
                pass
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()


PERMISSIONS = """users
    alice
        roles = sensors
grants
    sensors
        topics
            publish = sensors.*
            subscribe = sensors.*
        queues
            send = jobs
            consume = jobs
        rooms
            join = chat.*
            peek = chat.*
    root
        admin = 1
"""


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        handle, cls.permissions = tempfile.mkstemp(suffix=".cfg")
        with os.fdopen(handle, "w") as file:
            file.write(PERMISSIONS)
        cls.zgate = Zgate(security_jwt_secret=SECRET, security_permissions=cls.permissions,
                          security_auth_timeout=800).start()
        cls.port = int(cls.zgate.endpoint("gateway-http-port"))
        cls.alice = hs256({"sub": "alice", "exp": int(time.time()) + 600})
        cls.root = hs256({"sub": "root"})

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.zgate.stop()
        os.unlink(cls.permissions)
        if code != 0:
            raise AssertionError(f"zgate exited with {code}:\n" + "\n".join(cls.zgate.lines[-30:]))

    def test_http_valid_expired_wrongly_signed_and_missing_tokens(self):
        cases = [(None, 401, "a bearer token is required"),
                 (hs256({"sub": "root", "exp": int(time.time()) - 1}), 401, "token expired"),
                 (hs256({"sub": "root"}, "wrong"), 401, "signature"),
                 (hs256({"sub": "root", "nbf": int(time.time()) + 600}), 401, "not valid yet"),
                 (self.alice, 403, "'alice' is not an admin"),
                 (self.root, 200, "gateway")]
        for path in ("/api/stats", "/metrics"):
            for token, status, text in cases:
                code, body, _ = http(self.port, "GET", path, token)
                self.assertEqual(code, status, (path, token))
                self.assertIn(text, body)
        self.assertEqual(http(self.port, "GET", "/ready")[0], 204)

    def test_http_permission_matrix_refuses_with_403_and_changes_nothing(self):
        def published(topic):
            return self.zgate.stats("topics")["topics"].get(topic, {}).get("published", 0)
        before = published("sensors.t")
        denied = [("POST", "/api/publish", {"subject": "other", "data": "x"}),
                  ("POST", "/api/publish", {"subject": "$zgate.gateway.barrier", "data": "x"}),
                  ("POST", "/api/subscribe", {"subject": "other"}),
                  ("POST", "/api/queues/other", {"data": 1}),
                  ("GET", "/api/tasks/1", None),
                  ("POST", "/api/commands/other", {"params": "x"}),
                  ("POST", "/api/rooms/chat.a", {"data": 1}),
                  ("GET", "/api/rooms/other", None),
                  ("GET", "/api/rooms", None)]
        for method, path, body in denied:
            code, text, _ = http(self.port, method, path, self.alice, body)
            self.assertEqual(code, 403, (path, text))
            self.assertIn("message", json.loads(text))
        self.assertEqual((published("other"), published("sensors.t")), (0, before))
        queues, rooms = self.zgate.stats("queues"), self.zgate.stats("rooms")
        self.assertEqual((queues["queues"], queues["tasks"], rooms["sent"], rooms["oob"]), ({}, 0, 0, 0))
        self.assertEqual(http(self.port, "POST", "/api/subscribe", self.alice, {"subject": "sensors.t"})[0], 200)
        self.assertEqual(http(self.port, "POST", "/api/publish", self.alice,
                              {"subject": "sensors.t", "data": "x"})[0], 200)
        wait_for(lambda: published("sensors.t") == before + 1, what="the permitted publish")
        self.assertEqual(http(self.port, "GET", "/api/rooms/chat.a", self.alice)[0] in (200, 404), True)

    def test_websocket_auth_op_permissions_and_reserved_topics(self):
        async def scenario():
            connection = await ws_open(self.port)
            answer = await ask(connection, {"op": "subscribe", "topic": "sensors.*", "req": 1})
            self.assertEqual((answer["op"], answer["code"]), ("error", 401))
            answer = await ask(connection, {"op": "auth", "token": hs256({"sub": "a"}, "bad"), "req": 2})
            self.assertEqual(answer["code"], 401)
            expired = hs256({"sub": "alice", "exp": int(time.time()) - 1})
            answer = await ask(connection, {"op": "auth", "token": expired, "req": 2})
            self.assertEqual((answer["code"], answer["message"]), (401, "token expired"))
            answer = await ask(connection, {"op": "auth", "token": self.alice, "req": 3})
            self.assertEqual((answer["op"], answer["sub"]), ("ok", "alice"))
            self.assertEqual((await ask(connection, {"op": "subscribe", "topic": "sensors.*", "req": 4}))["op"],
                             "ok")
            for request in ({"op": "subscribe", "topic": "*"}, {"op": "publish", "topic": "other", "data": 1},
                            {"op": "publish", "topic": "$zgate.gateway.barrier", "data": 1},
                            {"op": "send", "queue": "other", "data": 1}, {"op": "consume", "queue": "x"},
                            {"op": "consume", "command": "other"}, {"op": "call", "command": "other/a"},
                            {"op": "join", "room": "other"}, {"op": "join", "room": "chat.a", "mode": "observe"},
                            {"op": "peek", "room": "other"}, {"op": "metrics"}, {"op": "task", "id": "1"},
                            {"op": "auth", "token": self.root}):
                answer = await ask(connection, {**request, "req": 9})
                self.assertEqual((answer["op"], answer["code"]), ("error", 403), request)
            queues, rooms = self.zgate.stats("queues"), self.zgate.stats("rooms")
            self.assertEqual((queues["queues"], queues["workers"], rooms["clients"], rooms["sent"]), ({}, 0, 0, 0))
            await connection.send(json.dumps({"op": "publish", "topic": "sensors.x", "data": 7}))
            message = {}
            while message.get("op") != "message":
                message = json.loads(await asyncio.wait_for(connection.recv(), TIMEOUT))
            self.assertEqual(message["data"], 7)
            await connection.close()
        run(scenario())

    def test_bearer_on_the_upgrade_and_close_codes(self):
        async def scenario():
            status, reply = upgrade_status(self.port, {"Authorization": "Bearer " + hs256({"sub": "a"}, "bad")})
            self.assertEqual(status, 401)
            self.assertIn('{"message":"invalid or expired bearer token"}', reply)
            connection = await ws_open(self.port, self.alice)
            self.assertEqual((await ask(connection, {"op": "subscribe", "topic": "sensors.a", "req": 1}))["op"],
                             "ok")
            await connection.close()
            silent = await ws_open(self.port)
            self.assertEqual(await close_code(silent), (4002, "authentication required"))
            brief = await ws_open(self.port, hs256({"sub": "alice", "exp": int(time.time()) + 2}))
            self.assertEqual(await close_code(brief), (4001, "token expired"))
        run(scenario())

    def test_sighup_changes_the_secret(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg") as config:
            config.write('security\n    jwt-secret = "first"\n')
            config.flush()
            zgate = Zgate(config=config.name)
            del zgate.flags["security-jwt-secret"]
            with zgate:
                port = int(zgate.endpoint("gateway-http-port"))
                root = {"sub": "root", "zgate": {"admin": 1}}
                self.assertEqual(http(port, "GET", "/api/stats", hs256(root, "first"))[0], 200)
                config.seek(0)
                config.truncate()
                config.write('security\n    jwt-secret = "second"\n')
                config.flush()
                zgate.process.send_signal(signal.SIGHUP)
                wait_for(lambda: http(port, "GET", "/api/stats", hs256(root, "second"))[0] == 200,
                         what="the new secret")
                self.assertEqual(http(port, "GET", "/api/stats", hs256(root, "first"))[0], 401)

    def test_rs256_with_a_public_key_file(self):
        with tempfile.TemporaryDirectory() as directory:
            private, public = os.path.join(directory, "k.pem"), os.path.join(directory, "p.pem")
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", private], check=True,
                           capture_output=True)
            subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True,
                           capture_output=True)
            with Zgate(security_jwt_algorithm="RS256", security_jwt_public_key=public) as zgate:
                port = int(zgate.endpoint("gateway-http-port"))
                root = {"sub": "root", "zgate": {"admin": 1}}
                self.assertEqual(http(port, "GET", "/api/stats", rs256(root, private))[0], 200)
                #   The public key as an HMAC secret must not pass
                with open(public) as file:
                    self.assertEqual(http(port, "GET", "/api/stats", hs256(root, file.read()))[0], 401)


class OriginTest(unittest.TestCase):
    def test_origins_upgrades_cors_and_reserved_topics_without_security(self):
        with Zgate(gateway_allowed_origins="https://app.example") as zgate:
            port = int(zgate.endpoint("gateway-http-port"))

            async def scenario():
                status, reply = upgrade_status(port, {"Origin": "https://evil.example"})
                self.assertEqual(status, 403)
                self.assertIn('{"message":"origin not allowed"}', reply)
                self.assertEqual(upgrade_status(port, {"Origin": f"http://127.0.0.1:{port}"})[0], 101)
                self.assertEqual(upgrade_status(port, {"Origin": "http://127.0.0.1:1"})[0], 403)
                connection = await ws_open(port, origin="https://app.example")
                answer = await ask(connection, {"op": "publish", "topic": "$zgate.gateway.barrier", "data": 1,
                                                "req": 1})
                self.assertEqual(answer["code"], 403)
                self.assertEqual((await ask(connection, {"op": "subscribe", "topic": "t", "req": 2}))["op"], "ok")
                await connection.close()
                plain = await ws_open(port)
                await plain.close()
            run(scenario())
            code, _, headers = http(port, "OPTIONS", "/api/publish", headers={"Origin": "https://app.example"})
            self.assertEqual(code, 204)
            self.assertEqual(headers["Access-Control-Allow-Origin"], "https://app.example")
            self.assertIn("authorization", headers["Access-Control-Allow-Headers"])
            _, _, headers = http(port, "GET", "/ready", headers={"Origin": "https://evil.example"})
            self.assertIsNone(headers["Access-Control-Allow-Origin"])


def make_certificate(directory, name):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={name}"], check=True,
                   capture_output=True)
    return cert, key


def served_certificate(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def pem_der(cert):
    with open(cert) as file:
        return ssl.PEM_cert_to_DER_cert(file.read())


class TlsTest(unittest.TestCase):
    def test_wss_with_a_self_signed_certificate_reloaded_on_sighup_under_traffic(self):
        with tempfile.TemporaryDirectory() as directory:
            cert, key = make_certificate(directory, "first")
            first = pem_der(cert)
            with Zgate(gateway_tls_cert=cert, gateway_tls_key=key) as zgate:
                port = int(zgate.endpoint("gateway-http-port"))
                self.assertTrue(any(f"web https://127.0.0.1:{port}/" in line for line in zgate.lines))
                context = ssl.create_default_context(cafile=cert)
                context.check_hostname = False
                self.assertEqual(http(port, "GET", "/ready", scheme="https", context=context)[0], 204)

                async def scenario():
                    subscriber = await ws_open(port, scheme="wss", context=context)
                    self.assertEqual((await ask(subscriber, {"op": "subscribe", "topic": "t", "req": 1}))["op"],
                                     "ok")
                    publisher = await ws_open(port, scheme="wss", context=context)
                    received = 0
                    for round_ in range(40):
                        if round_ == 10:
                            make_certificate(directory, "second")
                            zgate.process.send_signal(signal.SIGHUP)
                        await publisher.send(json.dumps({"op": "publish", "topic": "t", "data": round_}))
                        message = json.loads(await asyncio.wait_for(subscriber.recv(), TIMEOUT))
                        #   the publisher's ok answers stay unread: it is only a sender
                        self.assertEqual(message["data"], round_)
                        received += 1
                        await asyncio.sleep(0.02)
                    self.assertEqual(received, 40)
                    await subscriber.close()
                    await publisher.close()
                run(scenario())
                wait_for(lambda: served_certificate(port) == pem_der(cert), what="the new certificate served")
                self.assertNotEqual(pem_der(cert), first)
                self.assertTrue(any("reload: gateway/tls-cert" in line for line in zgate.lines))
                #   A certificate whose key is another's is refused, and the running one stays
                second = pem_der(cert)
                other = os.path.join(directory, "other")
                os.mkdir(other)
                make_certificate(other, "other")
                os.replace(os.path.join(other, "key.pem"), key)
                zgate.process.send_signal(signal.SIGHUP)
                wait_for(lambda: any("reload: gateway/tls-cert keeps" in line and "private key" in line
                                     for line in zgate.lines), what="the refused reload")
                self.assertEqual(served_certificate(port), second)
                self.assertTrue(zgate.alive())


class JsClientTest(unittest.TestCase):
    def test_zgate_js_authenticates_renews_and_reconnects_with_a_fresh_token(self):
        from test_js_client import NODE, NodeClient, is_event
        self.assertTrue(NODE, "node is not installed (README's test command installs it)")
        grants = {"topics": {"subscribe": "t.*", "publish": "t.*"}}
        with Zgate(security_jwt_secret=SECRET) as zgate, tempfile.NamedTemporaryFile("w") as token_file:
            def write_token(lifetime):
                token_file.seek(0)
                token_file.truncate()
                token_file.write(hs256({"sub": "js", "exp": int(time.time()) + lifetime, "zgate": grants}))
                token_file.flush()
            write_token(3)
            os.environ["ZGATE_TOKEN_FILE"] = token_file.name
            try:
                node = NodeClient(f"ws://127.0.0.1:{zgate.endpoint('gateway-http-port')}/ws")
            finally:
                del os.environ["ZGATE_TOKEN_FILE"]
            try:
                node.expect(is_event("open"), what="the client to authenticate")
                node.call("subscribe", "t.*")
                with self.assertRaises(Exception) as denied:
                    node.call("publish", "u.x", 1)
                self.assertEqual(getattr(denied.exception, "code", None), 403)
                #   The token expires: 4001, and the client comes back with the file's fresh token
                write_token(600)
                node.expect(is_event("close", code=4001, willReconnect=True), what="the 4001 close")
                node.expect(is_event("open"), what="the reconnection with a fresh token")
                self.assertEqual(node.call("authenticate")["sub"], "js")
            finally:
                code, stderr = node.close()
            self.assertEqual(code, 0, stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
