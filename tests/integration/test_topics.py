"""Topics through a real zgate, driven by plain pyzmq sockets (no zgate client code)."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import ZGATE_BIN, Zgate, free_port, wait_everything, wait_for  # noqa: E402

TIMEOUT_MS = 5000


class TopicsTest(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()
        self.context.linger = 0
        self.zgate = Zgate(topics_sndhwm=200000, topics_rcvhwm=200000).start()

    def tearDown(self):
        self.context.destroy(linger=0)
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0)

    def subscriber(self, *prefixes):
        sub = self.context.socket(zmq.SUB)
        sub.rcvhwm = 200000
        sub.rcvtimeo = TIMEOUT_MS
        sub.connect(self.zgate.endpoint("topics-subscribers"))
        for prefix in prefixes:
            sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        return sub

    def publisher(self):
        """An XPUB publishes like a PUB and also shows when zgate's XSUB has connected."""
        pub = self.context.socket(zmq.XPUB)
        pub.sndhwm = 200000
        pub.rcvtimeo = TIMEOUT_MS
        pub.connect(self.zgate.endpoint("topics-publishers"))
        wait_everything(pub)
        return pub

    def wait_subscribers(self, prefix, count):
        """Other parts of zgate (the gateway) may subscribe too: count only this prefix."""
        wait_for(lambda: self.zgate.stats("topics")["subscriptions"].get(prefix) == count,
                 what=f"{count} subscriptions to {prefix!r} at zgate")

    def test_one_publisher_two_subscribers_in_order(self):
        subs = [self.subscriber("orders"), self.subscriber("orders")]
        self.wait_subscribers("orders", 2)
        pub = self.publisher()
        for n in range(1000):
            pub.send_multipart([b"orders", b"%d" % n])
        received = 0
        for sub in subs:
            got = [int(sub.recv_multipart()[1]) for _ in range(1000)]
            self.assertEqual(got, list(range(1000)))
            received += len(got)
        # Nothing more arrives: each subscriber got each message exactly once
        for sub in subs:
            self.assertEqual(sub.poll(200), 0)
        # zgate's counters against what the two real subscribers counted (no drop at these HWMs)
        stats = self.zgate.stats("topics")
        self.assertEqual(stats["topics"]["orders"]["published"], 1000)
        self.assertEqual(stats["topics"]["orders"]["subscribers"], 2)
        self.assertEqual(stats["topics"]["orders"]["delivered"], received)

    def test_late_subscriber_gets_only_later_messages(self):
        early = self.subscriber("news")
        self.wait_subscribers("news", 1)
        pub = self.publisher()
        pub.send_multipart([b"news", b"before"])
        self.assertEqual(early.recv_multipart(), [b"news", b"before"])
        late = self.subscriber("news")
        self.wait_subscribers("news", 2)
        pub.send_multipart([b"news", b"after"])
        self.assertEqual(early.recv_multipart(), [b"news", b"after"])
        self.assertEqual(late.recv_multipart(), [b"news", b"after"])
        late.rcvtimeo = 300
        with self.assertRaises(zmq.Again):
            late.recv_multipart()

    def test_prefix_subscriptions(self):
        weather = self.subscriber("weather.")
        everything = self.subscriber("")
        self.wait_subscribers("weather.", 1)
        pub = self.publisher()
        # The gateway may hold a "" subscription too, so probe until ours is in place
        everything.rcvtimeo = 20
        for _ in range(250):
            pub.send_multipart([b"probe", b""])
            try:
                if everything.recv_multipart()[0] == b"probe":
                    break
            except zmq.Again:
                pass
        everything.rcvtimeo = 300
        try:
            while True:
                everything.recv_multipart()
        except zmq.Again:
            pass
        everything.rcvtimeo = TIMEOUT_MS
        for topic in [b"weather.paris", b"sports.golf", b"weather.oslo", b"weatherman"]:
            pub.send_multipart([topic, b"x"])
        self.assertEqual([weather.recv_multipart()[0] for _ in range(2)],
                         [b"weather.paris", b"weather.oslo"])
        self.assertEqual([everything.recv_multipart()[0] for _ in range(4)],
                         [b"weather.paris", b"sports.golf", b"weather.oslo", b"weatherman"])
        weather.rcvtimeo = 300
        with self.assertRaises(zmq.Again):
            weather.recv_multipart()

    def test_hundred_thousand_messages_without_loss(self):
        count = 100000
        sub = self.subscriber("bulk")
        self.wait_subscribers("bulk", 1)
        pub = self.publisher()
        payload = b"p" * 64
        for n in range(count):
            pub.send_multipart([b"bulk", payload + b"%d" % n])
        last = -1
        for _ in range(count):
            n = int(sub.recv_multipart()[1][64:])
            self.assertEqual(n, last + 1)
            last = n
        self.assertEqual(last, count - 1)

    def test_survives_garbage_and_counts_it(self):
        sub = self.subscriber("ok")
        self.wait_subscribers("ok", 1)
        pub = self.publisher()
        pub.send(b"single frame")
        pub.send_multipart([b"ok", b"two", b"three frames"])
        pub.send_multipart([b"t" * 300, b"topic too long"])
        pub.send_multipart([b"", b""])
        # Garbage on the subscribers' side: an XPUB gives it to zgate, a raw DEALER does too
        raw = self.context.socket(zmq.DEALER)
        raw.connect(self.zgate.endpoint("topics-subscribers"))
        raw.send(b"\x07not a subscription")
        raw_pub = self.context.socket(zmq.DEALER)
        raw_pub.connect(self.zgate.endpoint("topics-publishers"))
        raw_pub.send_multipart([b"\xff" * 10, b"\x00"])
        send_raw_garbage(self.zgate.endpoint("topics-publishers"))
        send_raw_garbage(self.zgate.endpoint("topics-subscribers"))
        pub.send_multipart([b"ok", b"still alive"])
        self.assertEqual(sub.recv_multipart(), [b"ok", b"still alive"])
        stats = wait_for(lambda: (lambda s: s if s["malformed"] >= 4 else None)(self.zgate.stats("topics")),
                         what="malformed count")
        self.assertGreaterEqual(stats["malformed"], 4)
        self.assertTrue(self.zgate.alive())


def send_raw_garbage(endpoint):
    """Sends bytes that are not ZMTP on a plain TCP connection, then hangs up."""
    host, port = endpoint.replace("tcp://", "").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n" + bytes(range(256)) * 4)


class DaemonTest(unittest.TestCase):
    def run_zgate(self, *args, env=None):
        return subprocess.run([ZGATE_BIN, *args], capture_output=True, text=True, timeout=10,
                              env={**os.environ, **(env or {})})

    def test_help_lists_every_flag(self):
        result = self.run_zgate("--help")
        self.assertEqual(result.returncode, 0)
        for flag in ["--config", "--topics-subscribers", "--topics-publishers", "--topics-max-topics"]:
            self.assertIn(flag, result.stdout)

    def test_config_errors_are_one_line_and_exit_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
            cfg.write("topics\n    no-such-key = 1\n")
        try:
            cases = [
                (["--config", cfg.name], "unknown key 'topics/no-such-key'"),
                (["--config", "/nonexistent.cfg"], "cannot read config file"),
                (["--topics-nope", "1"], "unknown flag"),
                (["--topics-max-topics", "many"], "topics/max-topics"),
                (["--server-log-level", "loud"], "server/log-level: 'loud' is not error, warn, info or debug"),
                (["--topics-subscribers", "tcp://127.0.0.1:x"], "cannot bind"),
            ]
            for args, message in cases:
                result = self.run_zgate(*args)
                self.assertEqual(result.returncode, 2, args)
                self.assertIn(message, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        finally:
            os.unlink(cfg.name)

    def test_port_in_use_is_a_config_error(self):
        with Zgate() as running:
            endpoint = running.endpoint("topics-subscribers")
            result = self.run_zgate("--topics-subscribers", endpoint,
                                    "--topics-publishers", f"tcp://127.0.0.1:{free_port()}")
            self.assertEqual(result.returncode, 2)
            self.assertIn("Address already in use", result.stderr)

    def test_environment_overrides_and_flags_override_environment(self):
        port_env, port_flag = free_port(), free_port()
        zgate = Zgate()
        del zgate.flags["topics-subscribers"]
        env = {**os.environ, "ZGATE_TOPICS_SUBSCRIBERS": f"tcp://127.0.0.1:{port_env}"}
        process = subprocess.Popen(zgate.command(), env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            line = process.stdout.readline()
            self.assertIn(f"subscribers tcp://127.0.0.1:{port_env}", line)
        finally:
            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(timeout=5), 0)
        zgate.flags["topics-subscribers"] = f"tcp://127.0.0.1:{port_flag}"
        process = subprocess.Popen(zgate.command(), env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            self.assertIn(f"subscribers tcp://127.0.0.1:{port_flag}", process.stdout.readline())
        finally:
            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(timeout=5), 0)

    def test_stops_within_two_seconds(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            zgate = Zgate().start()
            started = time.monotonic()
            zgate.process.send_signal(sig)
            self.assertEqual(zgate.process.wait(timeout=5), 0)
            self.assertLess(time.monotonic() - started, 2.0)

    @unittest.skipIf(os.environ.get("ZGATE_SANITIZED") == "ON", "valgrind cannot run an ASan binary")
    def test_no_leak_under_valgrind_after_traffic(self):
        zgate = Zgate(wrapper=["valgrind", "--leak-check=full", "--error-exitcode=9",
                               "--errors-for-leak-kinds=definite,indirect"]).start()
        context = zmq.Context()
        context.linger = 0
        try:
            sub = context.socket(zmq.SUB)
            sub.rcvtimeo = TIMEOUT_MS
            sub.connect(zgate.endpoint("topics-subscribers"))
            sub.subscribe(b"v")
            wait_for(lambda: zgate.stats("topics")["subscriptions"].get("v") == 1, timeout=20,
                     what="subscription")
            pub = context.socket(zmq.XPUB)
            pub.rcvtimeo = TIMEOUT_MS
            pub.connect(zgate.endpoint("topics-publishers"))
            pub.recv()
            for n in range(100):
                pub.send_multipart([b"v", b"%d" % n])
            pub.send(b"malformed")
            for n in range(100):
                self.assertEqual(sub.recv_multipart()[1], b"%d" % n)
        finally:
            context.destroy(linger=0)
            code, _ = zgate.stop()
        self.assertEqual(code, 0, "\n".join(zgate.lines[-20:]))
        self.assertTrue(any("All heap blocks were freed" in line or "definitely lost: 0 bytes" in line
                            for line in zgate.lines), "\n".join(zgate.lines[-20:]))


class ExamplesTest(unittest.TestCase):
    """The pubsub examples as the README runs them, against a real zgate."""

    def example(self, name):
        return os.path.join(os.environ.get("ZGATE_BUILD_DIR", "build"), "examples", "pubsub", name)

    def test_publisher_to_subscriber_through_zgate(self):
        with Zgate() as zgate:
            subscriber = subprocess.Popen(
                [self.example("pubsub_subscriber"), "weather.", zgate.endpoint("topics-subscribers")],
                stdout=subprocess.PIPE, text=True)
            try:
                self.assertIn("subscribed to 'weather.'", subscriber.stdout.readline())
                wait_for(lambda: zgate.stats("topics")["subscriptions"].get("weather.") == 1,
                         what="the example's subscription")
                published = subprocess.run(
                    [self.example("pubsub_publisher"), zgate.endpoint("topics-publishers"), "3"],
                    capture_output=True, text=True, timeout=20)
                self.assertEqual(published.returncode, 0, published.stderr)
                lines = [subscriber.stdout.readline().strip() for _ in range(3)]
                self.assertEqual(lines, ["weather.lima: #1 7 C", "weather.oslo: #2 14 C",
                                         "weather.paris: #3 21 C"])
            finally:
                subscriber.send_signal(signal.SIGINT)
                self.assertEqual(subscriber.wait(timeout=5), 0)

    def test_inproc_example_composes_the_actor(self):
        result = subprocess.run([self.example("pubsub_inproc")], capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("chat.: welcome to chat.", result.stdout)
        for n in (1, 2, 3):
            self.assertIn(f"chat.lobby: message {n}", result.stdout)
        self.assertIn('"published":4', result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
