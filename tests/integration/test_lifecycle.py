"""zgate's lame-duck shutdown: on SIGTERM WebSocket sessions get close code 1001, an HTTP request in
flight gets an answer (503 JSON) rather than a reset, new connections are refused, and zgate exits
within the drain timeout plus 2 seconds."""
import asyncio
import json
import os
import signal
import sys
import threading
import time
import unittest

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_client import Ws, http, run  # noqa: E402
from zgate_harness import Zgate  # noqa: E402

DRAIN_MS = 1500


class LifecycleTest(unittest.TestCase):

    def test_sigterm_drains(self):
        with Zgate(gateway_drain_timeout=DRAIN_MS) as zgate:
            self.drain(zgate)

    def drain(self, zgate):
        port = int(zgate.endpoint("gateway-http-port"))
        # A long poll: no worker serves the queue, the answer waits for the reply
        answer = {}

        def long_poll():
            answer["reply"] = http(port, "POST", "/api/queues/nobody", {"data": 1, "wait": 20000}, timeout=20)

        poller = threading.Thread(target=long_poll)

        async def scenario():
            ws = await Ws.open(port)
            self.assertEqual((await ws.request({"op": "subscribe", "topic": "t", "req": 1}))["op"], "ok")
            poller.start()
            await asyncio.sleep(0.3)
            started = time.monotonic()
            zgate.process.send_signal(signal.SIGTERM)
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                await ws.recv(timeout=5)
            self.assertEqual(closed.exception.rcvd.code, 1001)
            self.assertLess(time.monotonic() - started, 1.0)
            # Draining: a new connection gets no answer
            with self.assertRaises(OSError):
                await asyncio.to_thread(http, port, "GET", "/ready", None, None, 2)
            return started

        started = run(scenario())
        poller.join(10)
        status, body, headers = answer["reply"]
        self.assertEqual(status, 503)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body), {"message": "zgate is shutting down"})
        code = zgate.process.wait(timeout=DRAIN_MS / 1000 + 2)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - started, DRAIN_MS / 1000 + 2)

    def test_idle_sigterm_is_prompt(self):
        with Zgate(gateway_drain_timeout=DRAIN_MS) as zgate:
            code, seconds = zgate.stop()
            self.assertEqual(code, 0)
            self.assertLess(seconds, 1.0)


if __name__ == "__main__":
    unittest.main()
