"""The gateway's HTTP side against a real zgate: the gophermq API with its exact bodies and codes, REST for
queues and rooms, /api/stats, /metrics, the dashboard files, and the 4xx answers to bad requests."""
import json
import os
import socket
import sys
import threading
import unittest
import uuid

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, http  # noqa: E402
from zgate_harness import wait_everything, wait_for  # noqa: E402


class GatewayHttpTest(GatewayTestCase):
    zgate_overrides = {"gateway_pull_buffer_size": 3, "gateway_max_body_size": 1024}

    def post(self, path, body=None, raw=None):
        status, data, _ = http(self.port, "POST", path, body, raw)
        return status, data

    def get(self, path):
        status, data, headers = http(self.port, "GET", path)
        return status, data, headers

    def subscribe(self, subject):
        status, body = self.post("/api/subscribe", {"subject": subject})
        self.assertEqual(status, 200)
        answer = json.loads(body)
        self.assertEqual(list(answer), ["id", "subject"])
        self.assertEqual(str(uuid.UUID(answer["id"])), answer["id"])
        self.assertEqual(answer["subject"], subject)
        return answer["id"]

    def test_gophermq_publish_subscribe_fetch(self):
        first, second = self.subscribe("orders.new"), self.subscribe("orders.new")
        self.assertNotEqual(first, second)
        for data in ["m1", "m2", '{"n": 3}']:
            self.assertEqual(self.post("/api/publish", {"subject": "orders.new", "data": data}),
                             (200, b'{"status":"ok"}\n'))
        status, body = self.post("/api/fetch", {"subject": "orders.new", "id": first})
        self.assertEqual(status, 200)
        self.assertEqual(body, b'{"data":["m1","m2","{\\"n\\": 3}"],"id":"%s","subject":"orders.new"}\n'
                         % first.encode())
        # fetch drains; the other subscriber has its own copies
        self.assertEqual(json.loads(self.post("/api/fetch", {"subject": "orders.new", "id": first})[1])["data"], [])
        self.assertEqual(len(json.loads(self.post("/api/fetch", {"subject": "orders.new", "id": second})[1])["data"]), 3)

    def test_fetch_right_after_publish_finds_the_message(self):
        sid = self.subscribe("orders.now")
        for n in range(100):
            self.assertEqual(self.post("/api/publish", {"subject": "orders.now", "data": f"m{n}"})[0], 200)
            status, body = self.post("/api/fetch", {"subject": "orders.now", "id": sid})
            self.assertEqual((status, json.loads(body)["data"]), (200, [f"m{n}"]), n)

    def test_gophermq_errors(self):
        sid = self.subscribe("errors.a")
        invalid = b'{"message":"request\'s body is invalid"}\n'
        for subject in ["", "a..b", ".a", "a.", "a b", "a\tb", "x" * 300]:
            self.assertEqual(self.post("/api/publish", {"subject": subject, "data": "x"}),
                             (400, b'{"message":"invalid subject"}\n'), subject)
            self.assertEqual(self.post("/api/subscribe", {"subject": subject}),
                             (400, b'{"message":"invalid subject"}\n'), subject)
        self.assertEqual(self.post("/api/fetch", {"subject": "a..b", "id": sid}),
                         (400, b'{"message":"invalid subject"}\n'))
        for raw in [b"not json", b'"a string"', b'{"subject": "errors.a", "data": 5}', b'{"data": "x"}', b""]:
            self.assertEqual(self.post("/api/publish", raw=raw), (400, invalid), raw)
        self.assertEqual(self.post("/api/subscribe", raw=b'{"subject": 1}'), (400, invalid))
        self.assertEqual(self.post("/api/fetch", raw=b'{"subject": "errors.a"}'), (400, invalid))
        self.assertEqual(self.post("/api/publish", {"subject": "nobody.here", "data": "x"}),
                         (404, b'{"message":"subscriber not found"}\n'))
        self.assertEqual(self.post("/api/fetch", {"subject": "errors.a", "id": "bad id"}),
                         (404, b'{"message":"bad id"}\n'))
        self.assertEqual(self.post("/api/fetch", {"subject": "errors.b", "id": sid}),
                         (404, b'{"message":"bad id"}\n'))
        # overflow: the buffer holds 3 (pull-buffer-size); a fetch makes room again
        for n in range(3):
            self.assertEqual(self.post("/api/publish", {"subject": "errors.a", "data": str(n)})[0], 200)
        self.assertEqual(self.post("/api/publish", {"subject": "errors.a", "data": "3"}),
                         (429, b'{"message":"broker overflow"}\n'))
        self.assertEqual(json.loads(self.post("/api/fetch", {"subject": "errors.a", "id": sid})[1])["data"],
                         ["0", "1", "2"])
        self.assertEqual(self.post("/api/publish", {"subject": "errors.a", "data": "4"})[0], 200)
        # async publish: 200 at once, failures are only counted
        self.assertEqual(self.post("/api/publish/async", {"subject": "nobody.here", "data": "x"}),
                         (200, b'{"status":"ok"}\n'))
        self.assertEqual(self.post("/api/publish/async", {"subject": "errors.a", "data": "5"}),
                         (200, b'{"status":"ok"}\n'))
        self.assertEqual(self.post("/api/publish/async", {"subject": "a..b", "data": "x"})[0], 400)
        wait_for(lambda: len(json.loads(self.post("/api/fetch", {"subject": "errors.a", "id": sid})[1])["data"]) or 0,
                 what="async publish")

    def test_publish_reaches_native_subscribers(self):
        """Synchronous publish finds native subscribers as well as web and pull ones."""
        sub = self.context.socket(zmq.SUB)
        sub.rcvtimeo = 5000
        sub.subscribe(b"alerts.")
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        body = {"subject": "alerts.fire", "data": "hot"}
        wait_for(lambda: self.post("/api/publish", body)[0] == 200, what="the native subscription")
        self.assertEqual(sub.recv_multipart(), [b"alerts.fire", b"hot"])
        self.assertEqual(self.post("/api/publish", {"subject": "alerts.water", "data": "wet"}),
                         (200, b'{"status":"ok"}\n'))
        self.assertEqual(sub.recv_multipart(), [b"alerts.water", b"wet"])
        self.assertEqual(self.post("/api/publish", {"subject": "alert", "data": "x"}),
                         (404, b'{"message":"subscriber not found"}\n'))
        # Once the subscriber has gone, nobody is listening again
        sub.close()
        wait_for(lambda: self.post("/api/publish", body)[0] == 404, what="the native subscriber to leave")
        self.assertEqual(self.post("/api/publish", body), (404, b'{"message":"subscriber not found"}\n'))

    def test_native_publisher_fills_pull_buffers(self):
        sid = self.subscribe("native.pull")
        delivered = json.loads(self.get("/api/stats")[1])["gateway"]["pull_delivered"]
        pub = self.context.socket(zmq.XPUB)
        pub.rcvtimeo = 5000
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        pub.send_multipart([b"native.pull", b"from pyzmq"])
        pub.send_multipart([b"native.pull", b"\xff\xfe"])
        wait_for(lambda: json.loads(self.get("/api/stats")[1])["gateway"]["pull_delivered"] >= delivered + 2,
                 what="native messages in the pull buffer")
        answer = json.loads(self.post("/api/fetch", {"subject": "native.pull", "id": sid})[1])
        # bytes that are not UTF-8 come base64-encoded, their index listed in "binary"
        self.assertEqual((answer["data"], answer["binary"]), (["from pyzmq", "//4="], [1]))
        pub.close()

    def test_ready_static_files_and_http_errors(self):
        status, body, _ = self.get("/ready")
        self.assertEqual((status, body), (204, b""))
        status, body, headers = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        self.assertIn(b"<html", body.lower())
        status, body, headers = self.get("/zgate.js")
        self.assertEqual(status, 200)
        self.assertIn("javascript", headers["Content-Type"])
        self.assertEqual(self.get("/no/such/path")[:2], (404, b'{"message":"Not Found"}\n'))
        self.assertEqual(self.get("/api/publish")[:2], (405, b'{"message":"Method Not Allowed"}\n'))
        self.assertEqual(http(self.port, "DELETE", "/api/stats")[:2], (405, b'{"message":"Method Not Allowed"}\n'))
        self.assertEqual(http(self.port, "PUT", "/api/subscribe", {"subject": "a"})[0], 405)
        self.assertEqual(self.post("/api/publish", raw=b"{" + b" " * 2000 + b"}"),
                         (413, b'{"message":"request body too large"}\n'))
        self.assertEqual(self.get("/ws")[0], 400)

    def raw_request(self, data):
        """The whole answer to bytes sent on a fresh connection, read until the gateway closes it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            connection.sendall(data)
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        return answer

    def test_requests_lws_cannot_parse_get_json(self):
        """A method lws does not know, or no HTTP at all: JSON 405 like any wrong method, then close."""
        for data in [b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", b"garbage\r\n\r\n"]:
            head, _, body = self.raw_request(data).partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 405 "), head)
            self.assertIn(b"content-type: application/json", head.lower())
            self.assertEqual(body, b'{"message":"Method Not Allowed"}\n')

    def test_post_without_content_length_gets_411(self):
        """lws reads a body only by its Content-Length: without one (or chunked), 411 and the connection closes."""
        for data in [b"POST /api/publish HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"POST /api/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n0\r\n\r\n"]:
            head, _, body = self.raw_request(data).partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 411 "), head)
            self.assertEqual(body, b'{"message":"Length Required"}\n')

    def test_stats_and_metrics(self):
        self.post("/api/publish", {"subject": "nobody", "data": "x"})
        self.subscribe("metrics.s")
        stats = wait_for(lambda: (lambda s: s if "queues" in s and "rooms" in s and "topics" in s else None)(
            json.loads(self.get("/api/stats")[1])), what="peer stats")
        for key in ["sessions", "messages_in", "messages_out", "dropped_slow", "pull_subscribers"]:
            self.assertIn(key, stats["gateway"])
        status, body, headers = self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("text/plain", headers["Content-Type"])
        text = body.decode()
        for needle in ["zgate_gateway_sessions ", 'zgate_gateway_messages_in_total{pattern="topics"}',
                       'zgate_http_requests_total{endpoint="/api/publish",code="404"}',
                       'zgate_http_request_duration_seconds_bucket{endpoint="/api/subscribe",code="200",le="+Inf"}',
                       'gophermq_client_requests_total{method="publish",code="404"}',
                       'gophermq_request_duration_seconds_count{method="subscribe",code="200"}',
                       "zgate_topics_published_total ", "zgate_rooms_"]:
            self.assertIn(needle, text)
        # every sample line is name{labels} value
        for line in text.splitlines():
            if not line.startswith("#"):
                self.assertRegex(line, r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eInfa]+$')

    def test_queues_rest_with_a_native_worker(self):
        worker = self.context.socket(zmq.DEALER)
        worker.rcvtimeo = 5000
        worker.connect(self.zgate.endpoint("queues-workers"))
        worker.send_multipart([b"READY", b"w1", msgpack.packb({"queues": ["rest"], "prefetch": 5})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        status, body = self.post("/api/queues/rest", {"data": {"n": 1}})
        self.assertEqual(status, 200)
        task_id = json.loads(body)["id"]
        command, _, delivered_id, meta, payload = worker.recv_multipart()
        self.assertEqual((command, delivered_id.decode(), payload), (b"DELIVER", task_id, b'{"n":1}'))
        worker.send_multipart([b"ACK", b"w1", delivered_id, b'{"ok": true}'])
        state = wait_for(lambda: (lambda s: s if s[0] == 200 and json.loads(s[1])["state"] == "done" else None)(
            self.get(f"/api/tasks/{task_id}")[:2]), what="task done")
        self.assertEqual(json.loads(state[1])["data"], {"ok": True})
        self.assertEqual(self.get("/api/tasks/999999")[0], 404)
        # wait for the reply: the worker answers from a thread

        def answer():
            command, _, delivered, meta, payload = worker.recv_multipart()
            worker.send_multipart([b"ACK", b"w1", delivered, payload.upper()])
        thread = threading.Thread(target=answer)
        thread.start()
        status, body = self.post("/api/queues/rest", {"data": "hello", "wait": 5000})
        thread.join()
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["data"], "HELLO")
        # nobody answers: 504 after the wait
        status, body = self.post("/api/queues/lonely", {"data": "x", "wait": 300})
        self.assertEqual(status, 504)
        self.assertIn("timed out", json.loads(body)["message"])
        self.assertEqual(self.post("/api/queues/rest", {"nodata": 1})[0], 400)
        worker.send_multipart([b"BYE", b"w1"])
        worker.close()

    def test_rooms_rest(self):
        self.assertEqual(self.post("/api/rooms/hall", {"data": "a", "priority": 5}), (200, b'{"seq":1}\n'))
        status, body = self.post("/api/rooms/hall/oob", {"data": "now"})
        self.assertEqual((status, json.loads(body)), (200, {"count": 0}))
        status, body, _ = self.get("/api/rooms/hall")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["room"], "hall")
        status, body, _ = self.get("/api/rooms/hall/peek?offset=0&limit=5")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["room"], "hall")
        self.assertEqual(self.get("/api/rooms/hall/peek?offset=x")[0], 400)
        # the query's arguments in any order, percent-decoded; an oversized argument no longer hides the ones
        # after it; only digits
        for query in ("limit=1&offset=7", "limit=1&%6fffset=%37", "pad=" + "x" * 200 + "&offset=7"):
            status, body, _ = self.get("/api/rooms/hall/peek?" + query)
            self.assertEqual((status, json.loads(body)["offset"]), (200, 7), query)
        for query in ("offset=-1", "limit=+1", "offset=", "limit=1e3", "offset=99999999999999999999"):
            self.assertEqual(self.get("/api/rooms/hall/peek?" + query)[0], 400, query)
        status, body, _ = self.get("/api/rooms?top=2")
        self.assertEqual(status, 200)
        self.assertIn("top_rooms", json.loads(body))
        self.assertEqual(self.post("/api/rooms/hall", {"data": "a", "priority": "high"})[0], 400)


if __name__ == "__main__":
    unittest.main(verbosity=2)
