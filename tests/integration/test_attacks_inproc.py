"""Hostile traffic against zgate's in-process clients: a flood of 64 KiB publishes that the gateway (its own
subscription to the topics actor, an inproc pipe that libzmq bounds in messages only) cannot keep up with, while
web subscribers read slowly. What waits for the gateway is bounded by topics/max-inproc-output: past it messages
are dropped for the in-process subscribers and counted. Runs test_attacks' canary throughout and checks zgate's
RSS (from /proc) against the budget.
"""
import json
import os
import sys
import threading
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
import test_attacks as attacks  # noqa: E402
from zgate_harness import wait_for  # noqa: E402
from gateway_client import RawWs, http  # noqa: E402

MIB = attacks.MIB
INPROC_BYTES = 4 * MIB


class SlowReaders(threading.Thread):
    """Web subscribers with small receive buffers that read a little, now and then."""

    def __init__(self, port, topic, count):
        super().__init__(daemon=True)
        self.sessions = [RawWs(port, rcvbuf=4096) for _ in range(count)]
        for session in self.sessions:
            session.send_frame(json.dumps({"op": "subscribe", "topic": topic, "req": 1}).encode())
        self.received = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.05):
            for session in self.sessions:
                session.sock.settimeout(0.01)
                try:
                    self.received += len(session.sock.recv(16384))
                except OSError:
                    pass

    def finish(self):
        self.stopping.set()
        self.join(timeout=10)
        for session in self.sessions:
            session.sock.close()


class GatewaySubscriptionTest(attacks.AttackBase):
    # The publisher outruns the topics actor too under the sanitizers: what libzmq holds unread for it is
    # bounded by max-connection-input (the publisher is cut past it and reconnects), kept small here so that
    # the RSS bound tests what waits for the gateway
    zgate_overrides = {"topics_max_inproc_output": INPROC_BYTES, "server_max_connection_input": 8 * MIB}

    def inproc(self):
        return self.api_stats("topics")["inproc"]

    def test_flood_past_the_gateway_is_dropped_for_it(self):
        """A native publisher sends 64 KiB messages as fast as it can for 3 s to a topic 8 slow web readers
        subscribe to: the gateway falls behind, the bytes waiting for it stay within max-inproc-output (the
        rest is dropped for it, counted in /metrics), RSS within the budget, the canary goes on, and the held
        bytes are given back."""
        self.start_canary()
        port = int(self.zg.endpoint("gateway-http-port"))
        readers = SlowReaders(port, "flood", 8)
        wait_for(lambda: self.gateway_stats()["web_subscriptions"] >= 1, what="the web subscriptions")
        readers.start()
        pub = self.socket(zmq.PUB, "topics-publishers")
        wait_for(lambda: pub.send_multipart([b"flood", b"probe"]) or self.api_stats("topics")["published"] > 0,
                 what="the publisher")
        payload = zmq.Frame(b"p" * 65536)
        deadline = time.monotonic() + 3
        sent = 0
        while time.monotonic() < deadline:
            pub.send_multipart([b"flood", payload], copy=False)
            sent += 1
            if sent % 64 == 0:
                self.sample()
        inproc = self.inproc()
        held = inproc["held"]
        self.assert_bounded()
        readers.finish()
        self.assertGreater(inproc["dropped"], 0, f"{sent} messages sent, none dropped for the gateway")
        self.assertLessEqual(held, INPROC_BYTES)
        self.assertGreater(readers.received, 0)
        print(f"\n{sent} messages of 64 KiB sent, {inproc['dropped']} dropped for the gateway, "
              f"{held >> 10} KiB held for it at the end, RSS +{(self.peak - self.baseline) >> 20} MB", file=sys.stderr)
        wait_for(lambda: self.inproc()["held"] == 0, what="the held bytes to be given back")
        status, body, _ = http(port, "GET", "/metrics")
        self.assertEqual(status, 200)
        dropped = self.inproc()["dropped"]
        self.assertIn(b"zgate_topics_inproc_dropped_total %d" % dropped, body)
        self.assertIn(b"zgate_topics_inproc_held_bytes 0", body)
        self.assert_canary_ok()


if __name__ == "__main__":
    unittest.main(verbosity=2)
