"""Seed parity for work queues (../shared/SEEDS.md rows 13, 14, 15, 17, 20, 37, 43): what qmanager, teomq and
gophermq users relied on, through a real zgate with plain pyzmq, zgate-cli and HTTP (docs/PROTOCOL.md 2.9)."""
import asyncio
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402

BUILD_DIR = os.environ.get("ZGATE_BUILD_DIR", "build")
CLI = os.path.join(BUILD_DIR, "tools", "zgate-cli", "zgate-cli")
TIMEOUT_MS = 5000


def pack(**options):
    return msgpack.packb({key.replace("_", "-"): value for key, value in options.items()}) if options else b""


class SeedsQueuesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zgate = Zgate(queues_reply_timeout=300, queues_max_deliveries=3, queues_keep_input=1).start()
        cls.context = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.context.destroy(linger=0)
        code, _ = cls.zgate.stop()
        assert code == 0, code

    def setUp(self):
        self.producer = self.socket(self.zgate.endpoint("queues-producers"))
        self.counter = 0

    def tearDown(self):
        self.producer.close(linger=0)

    def socket(self, endpoint):
        socket = self.context.socket(zmq.DEALER)
        socket.rcvtimeo = TIMEOUT_MS
        socket.connect(endpoint)
        return socket

    def request(self, *frames):
        self.counter += 1
        req = b"r%d" % self.counter
        self.producer.send_multipart([frames[0], req, *frames[1:]])
        answer = self.producer.recv_multipart()
        self.assertEqual(answer[1], req)
        return [answer[0]] + answer[2:]

    def send(self, queue, data, **options):
        answer = self.request(b"SEND", queue.encode(), pack(**options), data)
        self.assertEqual(answer[0], b"OK", answer)
        return answer[1]

    def take(self, *queues, **options):
        if queues:
            options["queues"] = list(queues)
        return self.request(b"TAKE", pack(**options))

    def get(self, task_id):
        answer = self.request(b"GET", task_id)
        self.assertEqual(answer[0], b"OK", answer)
        return msgpack.unpackb(answer[1])

    def test_row13_take_by_types_fifo_and_an_empty_queue_is_nothing(self):
        first = self.send("r13.reverse", b"abc")
        second = self.send("r13.fib", b"20")
        self.send("r13.other", b"x")
        # By types: the first waiting task whose queue is listed, FIFO across the list
        ok, task_id, meta, payload = self.take("r13.fib", "r13.reverse")
        self.assertEqual((ok, task_id, payload), (b"OK", first, b"abc"))
        self.assertEqual(msgpack.unpackb(meta), {"queue": "r13.reverse", "attempt": 1})
        self.assertEqual(self.get(first)["state"], "in_progress")
        self.assertEqual(self.take("r13.fib")[:2], [b"OK", second])
        # Nothing waiting of those types: OK with no task, not an error
        self.assertEqual(self.take("r13.fib", "r13.reverse"), [b"OK"])
        self.assertEqual(self.take("r13.never")[0], b"OK")
        # Refusals change nothing
        self.assertEqual(self.take("bad name")[:2], [b"ERROR", b"400"])
        self.producer.send_multipart([b"TAKE", b"", pack(queues=["r13.other"])])
        self.assertEqual(self.producer.recv_multipart()[2], b"400")
        self.assertEqual(self.request(b"FINISH", b"424242")[:2], [b"ERROR", b"404"])

    def test_row13_a_worker_of_several_queues_gets_tasks_in_arrival_order(self):
        sent = [self.send(queue, name) for queue, name in (("r13.b", b"b1"), ("r13.a", b"a1"), ("r13.b", b"b2"))]
        worker = self.socket(self.zgate.endpoint("queues-workers"))
        worker.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["r13.a", "r13.b"], "prefetch": 1})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        arrived = []
        for _ in sent:
            command, _, task_id, _, payload = worker.recv_multipart()
            self.assertEqual(command, b"DELIVER")
            arrived.append(payload)
            worker.send_multipart([b"ACK", b"w", task_id])
        self.assertEqual(arrived, [b"b1", b"a1", b"b2"])
        worker.close(linger=0)

    def test_row14_get_shows_input_and_output_and_retry_goes_to_the_tail(self):
        task_id = self.send("r14.jobs", b"5 + 12 / 6 - 7 * 9")
        later = self.send("r14.jobs", b"later")
        self.assertEqual(self.get(task_id)["input"], b"5 + 12 / 6 - 7 * 9")
        self.assertEqual(self.take("r14.jobs")[1], task_id)
        self.assertEqual(self.request(b"RETRY", task_id), [b"OK", task_id])
        self.assertEqual(self.take("r14.jobs")[1], later)
        self.assertEqual(self.request(b"FINISH", later, b"done"), [b"OK", later])
        ok, again, meta, _ = self.take("r14.jobs")
        self.assertEqual((again, msgpack.unpackb(meta)["attempt"]), (task_id, 2))
        self.assertEqual(self.request(b"FINISH", task_id, b"-56"), [b"OK", task_id])
        task = self.get(task_id)
        self.assertEqual((task["state"], task["input"], task["reply"]), ("done", b"5 + 12 / 6 - 7 * 9", b"-56"))
        # A finished task is no longer taken: 409
        self.assertEqual(self.request(b"FINISH", task_id)[:2], [b"ERROR", b"409"])

    def test_row14_until_read_results_go_once_read(self):
        kept = self.send("r14.read", b"in", until_read=True)
        self.assertEqual(self.get(kept)["state"], "waiting")     # not finished: GET keeps it
        self.take("r14.read")
        self.request(b"FINISH", kept, b"out")
        task = self.get(kept)
        self.assertEqual((task["state"], task["input"], task["reply"]), ("done", b"in", b"out"))
        self.assertEqual(self.request(b"GET", kept)[:2], [b"ERROR", b"404"])

    def test_row14_a_taken_task_goes_back_after_its_ack_timeout(self):
        task_id = self.send("r14.lease", b"x")
        self.assertEqual(self.take("r14.lease", ack_timeout=200)[1], task_id)
        wait_for(lambda: self.get(task_id)["state"] == "waiting", what="the taken task back")
        self.assertEqual(self.take("r14.lease")[1], task_id)

    def test_row17_a_reply_timeout_of_0_waits_as_long_as_the_task_takes(self):
        # zgate's default reply timeout is 300 ms here; the worker answers after a second
        task_id = self.send("r17.slow", b"x", reply=True, timeout=0)
        time.sleep(1.0)
        self.assertEqual(self.take("r17.slow")[1], task_id)
        self.assertEqual(self.request(b"FINISH", task_id, b"late"), [b"OK", task_id])
        self.assertEqual(self.producer.recv_multipart(), [b"REPLY", b"r1", task_id, b"late"])
        # Without it, the default applies: 408
        other = self.send("r17.slow", b"y", reply=True)
        self.assertEqual(self.producer.recv_multipart()[2], b"408")
        self.assertEqual(self.get(other)["state"], "waiting")

    def test_row15_status_page_counts_and_done_list(self):
        url = f"http://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}/api/queues/status"
        done = self.send("r15.fibonacci", b"20")
        self.send("r15.fibonacci", b"21")
        self.take("r15.fibonacci")
        self.request(b"FINISH", done, b"6765")

        def page():
            with urllib.request.urlopen(url, timeout=10) as answer:
                self.assertEqual(answer.headers["Content-Type"], "text/plain; charset=utf-8")
                text = answer.read().decode()
            return text if f"ID: {done.decode()} " in text else None
        text = wait_for(page, what="the task in the done list")
        lines = text.split("\n")
        self.assertTrue(lines[0].startswith("Current time is: "))
        self.assertRegex(lines[1], r"^Wait:\t\t[1-9][0-9]*$")
        self.assertRegex(lines[2], r"^Progress:\t[0-9]+$")
        self.assertRegex(lines[3], r"^Done:\t\t[1-9][0-9]*$")
        self.assertEqual(lines[4:6], ["", "Done list:"])
        entry = next(line for line in lines if line.startswith(f"ID: {done.decode()} "))
        self.assertRegex(entry, r"Type: r15\.fibonacci +State: done +Attempt: 1 +Finished: ")

    def http(self, method, path, body=None):
        url = f"http://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}{path}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def test_row13_web_take_finish_retry_over_http_and_websocket(self):
        task_id = self.send("r13.web", b"reverse me").decode()
        self.assertEqual(self.http("POST", "/api/queues/r13.none/take", {}), (200, {}))
        status, taken = self.http("POST", "/api/queues/r13.web/take", {"ack_timeout": 5000})
        self.assertEqual((status, taken), (200, {"id": task_id, "queue": "r13.web", "attempt": 1,
                                                 "data": "reverse me"}))
        self.assertEqual(self.http("POST", f"/api/tasks/{task_id}/retry", {}), (200, {"id": task_id}))
        self.assertEqual(self.http("POST", "/api/queues/r13.web/take", {"ack_timeout": "x"})[0], 400)

        async def web():
            from gateway_client import Ws
            ws = await Ws.open(int(self.zgate.endpoint("gateway-http-port")))
            await ws.send({"op": "take", "queue": "r13.web", "req": 1})
            taken = await ws.next_push("taken")
            finished = await ws.request({"op": "finish", "id": taken["id"], "data": "em esrever", "req": 2})
            again = await ws.request({"op": "finish", "id": taken["id"], "req": 3})
            await ws.send({"op": "take", "queue": "r13.web", "req": 4})
            nothing = await ws.next_push("taken")
            await ws.close()
            return taken, finished, again, nothing
        taken, finished, again, nothing = asyncio.run(web())
        self.assertEqual((taken["req"], taken["id"], taken["attempt"], taken["data"]), (1, task_id, 2, "reverse me"))
        self.assertEqual((finished["op"], finished["id"]), ("ok", task_id))
        self.assertEqual((again["op"], again["code"]), ("error", 409))
        self.assertEqual(nothing, {"op": "taken", "req": 4})
        status, task = self.http("GET", f"/api/tasks/{task_id}")
        self.assertEqual((task["state"], task["data"], task["input"]), ("done", "em esrever", "reverse me"))
        self.assertEqual(self.http("POST", f"/api/tasks/{task_id}/finish", {})[0], 409)

    def test_row20_quiet_commands_send_no_reply_when_acked_without_one(self):
        worker = self.socket(self.zgate.endpoint("queues-workers"))
        worker.send_multipart([b"READY", b"w20", msgpack.packb({"commands": ["r20.num_players", "r20.version"],
                                                                "quiet": ["r20.num_players"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        worker.send_multipart([b"READY", b"w20x", msgpack.packb({"commands": ["r20.a"], "quiet": ["r20.b"]})])
        self.assertEqual(worker.recv_multipart()[2], b"400")

        def answer_next(*reply):
            command, _, task_id, meta, payload = worker.recv_multipart()
            self.assertEqual(command, b"DELIVER")
            worker.send_multipart([b"ACK", b"w20", task_id, *reply])
            return payload
        # An event: scatter to its worker, acked without a reply: no REPLY, END counts 0
        ok, group = self.request(b"CALL", pack(scatter=True, timeout=5000), b"r20.num_players/42")
        self.assertEqual(answer_next(), b"42")
        self.assertEqual(self.producer.recv_multipart(), [b"END", b"r%d" % self.counter, group, b"0"])
        # A reply it does give still goes back; a command that is not quiet replies even empty
        self.request(b"CALL", pack(reply=True), b"r20.num_players/43")
        answer_next(b"43 players")
        self.assertEqual(self.producer.recv_multipart()[3], b"43 players")
        self.request(b"CALL", pack(reply=True), b"r20.version/x")
        answer_next()
        self.assertEqual(self.producer.recv_multipart()[3], b"")
        worker.close(linger=0)

    def cli(self, *args, code=0):
        env = dict(os.environ, ZGATE_QUEUES_PRODUCERS=self.zgate.endpoint("queues-producers"),
                   ZGATE_QUEUES_WORKERS=self.zgate.endpoint("queues-workers"))
        result = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(result.returncode, code, f"{args}: {result.stdout}{result.stderr}")
        return result

    def test_row37_cli_add_take_finish_retry_get(self):
        added = self.cli("add", "r37.fibonacci", "20", "--json")
        task_id = json.loads(added.stdout)["id"]
        self.assertIn("no worker serves queue 'r37.fibonacci'", added.stderr)
        self.assertEqual(self.cli("take", "r37.nothing").stdout.strip(), "nothing to take")
        taken = json.loads(self.cli("take", "r37.fibonacci", "--json").stdout)
        self.assertEqual((taken["id"], taken["data"], taken["attempt"]), (task_id, "20", 1))
        # Another process puts it back, a third takes it again and finishes it
        self.cli("retry", task_id)
        self.assertEqual(json.loads(self.cli("take", "r37.fibonacci", "--json").stdout)["id"], task_id)
        self.cli("finish", task_id, "6765")
        got = json.loads(self.cli("get", task_id, "--json").stdout)
        self.assertEqual((got["state"], got["input"], got["reply"]), ("done", "20", "6765"))
        error = self.cli("finish", task_id, code=1)
        self.assertIn("409", error.stderr)
        # With a worker serving the queue, add says nothing more
        worker = self.socket(self.zgate.endpoint("queues-workers"))
        worker.send_multipart([b"READY", b"w37", msgpack.packb({"queues": ["r37.served"]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        self.assertEqual(self.cli("add", "r37.served", "x").stderr, "")
        worker.close(linger=0)


class MetricsPortTest(unittest.TestCase):
    def test_row43_metrics_on_their_own_port(self):
        from zgate_harness import free_port
        with Zgate(gateway_metrics_port=free_port()) as zgate:
            base = f"http://127.0.0.1:{zgate.endpoint('gateway-metrics-port')}"
            with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
                self.assertEqual(answer.status, 200)
                self.assertTrue(answer.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
                text = answer.read().decode()
            self.assertIn("zgate_build_info", text)
            # The same page as /metrics on the HTTP port, which keeps it
            http = f"http://127.0.0.1:{zgate.endpoint('gateway-http-port')}/metrics"
            with urllib.request.urlopen(http, timeout=10) as answer:
                self.assertIn("zgate_build_info", answer.read().decode())
            # Only /metrics: the port is no back door to the API
            for path, code in (("/api/stats", 404), ("/ready", 404)):
                with self.assertRaises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(base + path, timeout=10)
                self.assertEqual(refused.exception.code, code)

    def test_row43_no_metrics_port_by_default(self):
        with Zgate() as zgate:
            self.assertEqual(zgate.endpoint("gateway-metrics-port"), "0")
            self.assertFalse(any("metrics" in line and "listen" in line for line in zgate.lines))


if __name__ == "__main__":
    unittest.main()
