"""The dashboard and the chat example in headless Chromium against a real zgate, with native pyzmq peers
causing what the dashboard shows.

Needs Debian's chromium and `npm ci` in tests/browser (README's test command does both). The screenshots
are saved in $ZGATE_BUILD_DIR/tests/browser/ (dashboard.png, chat.png, and dashboard-1280x800.png and
dashboard-1920x1080.png, the sizes at which nothing may overflow).
"""
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import msgpack
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from zgate_harness import Zgate, free_port, wait_everything  # noqa: E402

SCRIPT = os.path.join(HERE, "dashboard.mjs")
CHAT_SCRIPT = os.path.join(HERE, "chat.mjs")
SECURE_SCRIPT = os.path.join(HERE, "secure.mjs")
REPO = os.path.dirname(os.path.dirname(HERE))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PUBLISHED = 7


class NativePeers:
    """A queue worker that upper-cases, and a room member that never acks (so a message stays in flight)."""

    def __init__(self, zgate, context):
        self.zgate = zgate
        self.context = context
        self.stop = threading.Event()
        self.errors = []
        self.ready = queue.Queue()
        self.threads = [threading.Thread(target=self._guard, args=(run,), daemon=True)
                        for run in (self._worker, self._member)]
        for thread in self.threads:
            thread.start()
        for _ in self.threads:
            self.ready.get(timeout=10)

    def _guard(self, run):
        try:
            run()
        except Exception as err:  # reported by the test, which fails on any
            self.errors.append(repr(err))
            self.ready.put(False)

    def _socket(self, flag):
        socket = self.context.socket(zmq.DEALER)
        socket.connect(self.zgate.endpoint(flag))
        return socket

    def _worker(self):
        worker = self._socket("queues-workers")
        worker.send_multipart([b"READY", b"dash", msgpack.packb({"queues": ["dash.jobs"], "prefetch": 4})])
        self.ready.put(True)
        while not self.stop.is_set():
            if not worker.poll(200):
                worker.send_multipart([b"PING", b"dash"])
                continue
            frames = worker.recv_multipart()
            if frames[0] == b"DELIVER":
                worker.send_multipart([b"ACK", b"dash", frames[2], frames[4].upper()])
        worker.close()

    def _member(self):
        member = self._socket("rooms-clients")
        member.send_multipart([b"HELLO", b"1"])
        me = member.recv_multipart()[2]
        member.send_multipart([b"JOIN", b"2", me, b"dash.room"])
        assert member.recv_multipart()[0] == b"OK"
        self.ready.put(True)
        while not self.stop.is_set():
            if member.poll(500):
                member.recv_multipart()
            member.send_multipart([b"PING", b"", me])
        member.close()

    def close(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the repository's files without logging each request."""

    def log_message(self, *args):
        pass


class DashboardTest(unittest.TestCase):
    def setUp(self):
        missing = [what for what, present in [
            ("node", shutil.which("node")), (CHROMIUM, os.path.exists(CHROMIUM)),
            ("tests/browser/node_modules (run `npm ci` in tests/browser)",
             os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")))] if not present]
        self.assertEqual(missing, [], "the browser test needs these")
        self.context = zmq.Context()
        self.context.linger = 0
        self.addCleanup(self.context.destroy, linger=0)
        #   The chat example's page comes from a static server of its own origin, which zgate must allow
        self.static_port = free_port()
        self.zgate = Zgate(stats_interval=200,
                           gateway_allowed_origins=f"http://127.0.0.1:{self.static_port}").start()
        self.addCleanup(self._stop_zgate)
        self.peers = NativePeers(self.zgate, self.context)
        self.addCleanup(self.peers.close)
        out_dir = os.path.join(os.environ.get("ZGATE_BUILD_DIR", os.path.join(REPO, "build")), "tests", "browser")
        os.makedirs(out_dir, exist_ok=True)
        self.screenshot = os.path.join(out_dir, "dashboard.png")

    def _stop_zgate(self):
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0, "zgate failed:\n" + "\n".join(self.zgate.lines[-20:]))

    def publish_natively(self, topic, count):
        pub = self.context.socket(zmq.XPUB)
        pub.rcvtimeo = 5000
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        for n in range(count):
            pub.send_multipart([topic, json.dumps({"reading": n}).encode()])
        pub.close()

    def run_script(self, args, on_step=lambda browser, step: None):
        """Runs a Playwright script until its "done" step; returns the steps it printed."""
        browser = subprocess.Popen(["node", *args], cwd=HERE, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        steps = queue.Queue()

        def read_steps():
            for line in browser.stdout:
                steps.put(json.loads(line))
            steps.put(None)
        threading.Thread(target=read_steps, daemon=True).start()
        seen = []
        try:
            while True:
                try:
                    step = steps.get(timeout=90)
                except queue.Empty:
                    self.fail(f"the browser script stalled after {seen}")
                if step is None:
                    browser.wait(timeout=10)
                    self.fail(f"the browser script ended after {seen}:\n{browser.stderr.read()}")
                seen.append(step)
                sys.stderr.write(f"browser: {step}\n")
                on_step(browser, step)
                if step["step"] == "done":
                    break
            self.assertEqual(browser.wait(timeout=60), 0, browser.stderr.read())
        finally:
            if browser.poll() is None:
                browser.kill()
                browser.wait(timeout=10)
            for pipe in (browser.stdin, browser.stdout, browser.stderr):
                pipe.close()
        return seen

    def test_dashboard_shows_live_counts_and_acts(self):
        def on_step(browser, step):
            if step["step"] == "ready":
                self.publish_natively(b"dash.native", PUBLISHED)
                browser.stdin.write(json.dumps({"published": PUBLISHED}) + "\n")
                browser.stdin.flush()
        base = f"http://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}"
        seen = self.run_script([SCRIPT, base, self.screenshot], on_step)
        self.assertEqual(seen[0]["title"], "zgate dashboard")
        self.assertTrue(os.path.getsize(self.screenshot) > 10000, "the screenshot is empty")
        self.assertEqual(self.peers.errors, [])
        sys.stderr.write(f"screenshot: {self.screenshot}\n")

    def test_dashboard_over_wss_with_a_token(self):
        """HTTPS and WSS with a self-signed certificate made here, and an admin's token in the page's fragment."""
        sys.path.insert(0, os.path.join(HERE, "..", "integration"))
        from test_security_web import SECRET, hs256, make_certificate
        with tempfile.TemporaryDirectory() as directory:
            cert, key = make_certificate(directory, "localhost")
            secure = Zgate(security_jwt_secret=SECRET, gateway_tls_cert=cert, gateway_tls_key=key).start()
            try:
                base = f"https://127.0.0.1:{secure.endpoint('gateway-http-port')}"
                token = hs256({"sub": "operator", "zgate": {"admin": 1}})
                steps = {step["step"]: step for step in self.run_script([SECURE_SCRIPT, base, token])}
            finally:
                code, _ = secure.stop()
            self.assertEqual(code, 0)
        self.assertEqual(steps["live"]["url"], base + "/")
        self.assertEqual(steps["stats"]["status"], 200)
        self.assertGreaterEqual(steps["stats"]["sessions"], 1)
        self.assertEqual((steps["anonymous"]["status"], steps["anonymous"]["code"]), (401, 4002))

    def test_chat_example_in_two_tabs(self):
        """examples/web/chat.html, served as a user would (a static server on the repository root)."""
        handler = functools.partial(QuietHandler, directory=REPO)
        with http.server.ThreadingHTTPServer(("127.0.0.1", self.static_port), handler) as static:
            threading.Thread(target=static.serve_forever, daemon=True).start()
            try:
                ws = f"ws://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}/ws"
                url = (f"http://127.0.0.1:{static.server_address[1]}/examples/web/chat.html"
                       f"?ws={ws}&channel=test")
                shot = os.path.join(os.path.dirname(self.screenshot), "chat.png")
                steps = [step["step"] for step in self.run_script([CHAT_SCRIPT, url, shot])]
            finally:
                static.shutdown()
        self.assertEqual(steps, ["named", "chatted", "held", "released", "done"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
