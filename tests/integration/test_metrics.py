"""/metrics and /api/stats against a real zgate after traffic on every pattern, names with invalid UTF-8,
quotes and newlines included: `promtool check metrics` accepts the exposition, /api/stats is JSON, a real
Prometheus scrapes zgate, and every metric the Grafana dashboard (docs/grafana-zgate.json) uses exists.

promtool and prometheus come from Debian's `prometheus` package; without them those tests are skipped."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, Ws, http, run  # noqa: E402
from zgate_harness import ZGATE_BIN, free_port, wait_for  # noqa: E402

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "grafana-zgate.json")
# A topic name that is not UTF-8 and holds the exposition format's escapes: \xff, a quote, a newline, a
# backslash. zg_utf8 shows the invalid byte as the four characters \xff.
ODD_TOPIC = b'odd\xff"\n\\'
ODD_SHOWN = 'odd\\xff"\n\\'
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? \S+$')


def sample_names(text):
    return {SAMPLE.match(line).group(1) for line in text.splitlines() if line and not line.startswith("#")}


class MetricsTest(GatewayTestCase):
    # rooms hold their messages while nobody is a member, so the room backlog has a sample
    zgate_overrides = {"gateway_peer_stats_interval": 100, "rooms_hold": 1}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.generate_traffic()
        except BaseException:
            cls.tearDownClass()     # unittest skips it when setUpClass fails
            raise

    @classmethod
    def generate_traffic(cls):
        """Topics (native, web, gophermq pull), queues (a native worker acks a task) and rooms (a backlog)."""
        port = cls.port

        def post(path, body):
            status, answer, _ = http(port, "POST", path, body)
            assert status == 200, (path, status, answer)
            return json.loads(answer)

        sid = post("/api/subscribe", {"subject": "orders.new"})["id"]
        post("/api/publish", {"subject": "orders.new", "data": "m1"})
        assert post("/api/fetch", {"subject": "orders.new", "id": sid})["data"] == ["m1"]

        async def web():
            ws = await Ws.open(port)
            assert (await ws.request({"op": "publish", "topic": "web.news", "data": 1, "req": 1}))["op"] == "ok"
            await ws.close()
        run(web())

        # a native publisher: slow joiner, so publish until the topics actor counted the odd topic
        publisher = cls.context.socket(zmq.PUB)
        publisher.connect(cls.zgate.endpoint("topics-publishers"))

        def counted():
            publisher.send_multipart([ODD_TOPIC, b"payload"])
            return ODD_SHOWN in cls.stats().get("topics", {}).get("topics", {})
        try:
            wait_for(counted, timeout=10, interval=0.1, what="the odd topic in /api/stats")
        finally:
            publisher.close()

        worker = cls.context.socket(zmq.DEALER)
        worker.rcvtimeo = 5000
        worker.connect(cls.zgate.endpoint("queues-workers"))
        try:
            worker.send_multipart([b"READY", b"w1", msgpack.packb({"queues": ["jobs"], "prefetch": 1})])
            assert worker.recv_multipart()[0] == b"OK"
            post("/api/queues/jobs", {"data": {"n": 1}})
            _, _, task, _, _ = worker.recv_multipart()
            worker.send_multipart([b"ACK", b"w1", task, b"{}"])
            post("/api/rooms/hall", {"data": "waiting for a member"})
            wait_for(lambda: (lambda s: s["queues"]["queues"].get("jobs", {}).get("done") == 1
                              and s["rooms"]["backlog"] >= 1)(cls.stats()), what="queue and room counters")
        finally:
            worker.close()

    @classmethod
    def stats(cls):
        status, body, headers = http(cls.port, "GET", "/api/stats")
        assert status == 200 and headers["Content-Type"].startswith("application/json"), (status, headers)
        # strict: the body must be UTF-8 and JSON, whatever bytes the names held
        return json.loads(body.decode("utf-8"))

    def scrape(self):
        status, body, headers = http(self.port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers["Content-Type"])
        return body.decode("utf-8")

    def test_stats_are_json_with_names_shown_as_utf8(self):
        topics = self.stats()["topics"]["topics"]
        self.assertGreaterEqual(topics[ODD_SHOWN]["published"], 1)
        self.assertIn("web.news", topics)
        self.assertIn("orders.new", topics)

    def test_promtool_accepts_the_exposition(self):
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed (apt-get install prometheus)")
        text = self.scrape()
        check = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout.decode() + check.stderr.decode())

    def test_conventions(self):
        text = self.scrape()
        helped = set(re.findall(r"^# HELP (\S+) ", text, re.M))
        typed = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        self.assertEqual(helped, set(typed))
        for name, kind in typed.items():
            self.assertEqual(kind == "counter", name.endswith("_total"), name)
            self.assertNotRegex(name, r"_ms$|_ms_|milli|_rate$", name)
            parts = name.split("_")
            self.assertEqual(len(parts), len(set(parts)), f"{name} repeats a word")
        for name in sample_names(text):
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
            self.assertIn(family, typed, name)
        for needle in ['zgate_build_info{version="', "process_cpu_seconds_total ", "process_resident_memory_bytes ",
                       "process_virtual_memory_bytes ", "process_open_fds ", "process_max_fds ",
                       "process_start_time_seconds ", 'zgate_topic_published_total{topic="odd\\\\xff\\"\\n\\\\"} ',
                       'zgate_queue_done_total{kind="queue",queue="jobs"} 1\n',
                       'zgate_room_backlog_messages{room="hall"} 1\n',
                       'gophermq_client_requests_total{method="fetch",code="200"} 1\n',
                       'zgate_http_request_duration_seconds_bucket{endpoint="/api/queues/{}",code="200",le="+Inf"} 1\n',
                       'zgate_gateway_messages_in_total{pattern="topics"} 1\n']:
            self.assertIn(needle, text)
        build = re.search(r'zgate_build_info\{version="([^"]+)",commit="([^"]+)"\} 1\n', text)
        self.assertTrue(build, text[:300])
        version = subprocess.run([ZGATE_BIN, "--version"], capture_output=True, text=True, timeout=10).stdout
        self.assertEqual(version, f"zgate {build.group(1)} (commit {build.group(2)})\n")

    def test_dashboard_uses_only_metrics_that_exist(self):
        with open(DASHBOARD) as file:
            dashboard = json.load(file)
        exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
        self.assertGreater(len(exprs), 10)
        used = {name for expr in exprs for name in re.findall(r"\b((?:zgate|gophermq|process)_[A-Za-z0-9_]+)", expr)}
        missing = used - sample_names(self.scrape())
        self.assertEqual(missing, set(), "dashboard metrics missing from /metrics")

    def test_a_real_prometheus_scrapes_zgate(self):
        prometheus = shutil.which("prometheus")
        if not prometheus:
            self.skipTest("prometheus not installed (apt-get install prometheus)")
        with tempfile.TemporaryDirectory(prefix="zgate-prometheus-") as directory:
            config = os.path.join(directory, "prometheus.yml")
            with open(config, "w") as file:
                file.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                           "scrape_configs:\n  - job_name: zgate\n    static_configs:\n"
                           f"      - targets: ['127.0.0.1:{self.port}']\n")
            listen = free_port()
            server = subprocess.Popen([prometheus, f"--config.file={config}",
                                       f"--storage.tsdb.path={os.path.join(directory, 'data')}",
                                       f"--web.listen-address=127.0.0.1:{listen}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                def query(expression):
                    url = (f"http://127.0.0.1:{listen}/api/v1/query?"
                           + urllib.parse.urlencode({"query": expression}))
                    try:
                        with urllib.request.urlopen(url, timeout=5) as response:
                            answer = json.loads(response.read())
                    except OSError:
                        return None
                    return answer["data"]["result"] if answer["status"] == "success" else None

                result = wait_for(lambda: query('zgate_topic_published_total{job="zgate"}'), timeout=60,
                                  interval=0.5, what="prometheus to scrape zgate")
                self.assertIn(ODD_SHOWN, {sample["metric"]["topic"] for sample in result})
                self.assertEqual(query('up{job="zgate"}')[0]["value"][1], "1")
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=5)
                stderr = server.stderr.read().decode(errors="replace")
                server.stderr.close()
            self.assertEqual(server.returncode, 0, stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
