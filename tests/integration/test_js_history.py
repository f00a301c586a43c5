"""zgate.js and topics that remember: automatic recovery after a dropped connection under a steady publish
rate, last values, and the `unrecovered` event when zgate lost the history (restart: new epoch)."""
import os
import sys
import threading
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
import test_js_client as js  # noqa: E402
from zgate_harness import Zgate  # noqa: E402

HISTORY = "rate.* 100000; chat.js 10"


class JsHistoryTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(js.NODE, "node is not installed (README's test command installs it)")
        self.context = zmq.Context()
        self.context.linger = 0
        self.addCleanup(self.context.destroy, 0)
        self.zgate = Zgate(topics_history=HISTORY).start()
        self.addCleanup(self._stop_zgate)
        self.node = js.NodeClient(f"ws://127.0.0.1:{self.zgate.endpoint('gateway-http-port')}/ws")
        self.addCleanup(self._close_node)
        self.node.expect(js.is_event("open"), what="the client to connect")
        self.publisher = self.xpub()

    def _close_node(self):
        code, stderr = self.node.close()
        self.assertEqual(code, 0, f"node failed:\n{stderr}")

    def _stop_zgate(self):
        code, _ = self.zgate.stop()
        self.assertEqual(code, 0)

    def xpub(self):
        pub = self.context.socket(zmq.XPUB)
        pub.sndhwm = 100000
        pub.rcvtimeo = js.TIMEOUT_MS
        pub.connect(self.zgate.endpoint("topics-publishers"))
        self.assertEqual(pub.recv(), b"\x01")
        return pub

    def test_recovery_across_a_dropped_connection_at_1000_per_second(self):
        self.assertEqual(self.node.call("subscribe", "rate.js")["op"], "ok")

        def publish():
            start = time.monotonic()
            for n in range(3000):
                delay = start + n / 1000 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.publisher.send_multipart([b"rate.js", b"%d" % n])
        thread = threading.Thread(target=publish)
        thread.start()
        received = []
        while not received or received[-1][0] < 3000:
            event = self.node.expect(js.is_event("message", topic="rate.js"), what="the next message")
            received.append((event["seq"], event["data"]))
            if len(received) == 600:
                self.node.call("drop")
        thread.join()
        self.node.expect(js.is_event("close", willReconnect=True), what="the dropped connection")
        self.node.expect(js.is_event("open"), what="the reconnection")
        self.assertEqual(received, [(n + 1, n) for n in range(3000)], "no gap, no duplicate, in order")
        self.node.none(js.is_event("unrecovered"), within=0.2)

    def test_last_value_then_unrecovered_after_a_restart(self):
        for payload in (b"a", b"b"):
            self.publisher.send_multipart([b"chat.js", payload])
        dealer = self.context.socket(zmq.DEALER)
        dealer.rcvtimeo = js.TIMEOUT_MS
        dealer.connect(self.zgate.endpoint("topics-history-requests"))
        for _ in range(100):
            dealer.send_multipart([b"LAST", b"1", b"chat.js"])
            if dealer.recv_multipart()[-1] == b"b":
                break
            time.sleep(0.02)
        self.node.call("subscribe", "chat.js", {"last": True})
        self.assertEqual(self.node.expect(js.is_event("message", topic="chat.js"))["data"], "b")

        flags = dict(self.zgate.flags)
        self.zgate.stop()
        self.node.expect(js.is_event("close", willReconnect=True), what="the client to notice")
        self.zgate = Zgate()
        self.zgate.flags = flags
        self.zgate.start()
        self.node.expect(js.is_event("open"), timeout=15, what="the client to reconnect")
        unrecovered = self.node.expect(js.is_event("unrecovered", topic="chat.js"), what="the lost history")
        self.assertEqual(unrecovered["seq"], 0)
        self.publisher = self.xpub()
        self.publisher.send_multipart([b"chat.js", b"c"])
        message = self.node.expect(js.is_event("message", topic="chat.js"))
        self.assertEqual((message["data"], message["seq"]), ("c", 1))


if __name__ == "__main__":
    unittest.main()
