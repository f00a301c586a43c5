"""Hostile traffic into zgate's topics from the web: clients flood large publishes over WebSocket faster than
the topics actor reads them off the gateway's in-process pipe, which libzmq bounds in messages only. What the
gateway has published and the topics actor has not read is bounded in bytes by gateway/max-publish-queued:
past it a publish is refused with 429 and counted, and what was accepted all reaches the topics actor. Runs
test_attacks' canary throughout, and a web canary that publishes and receives on a topic of its own, and
checks zgate's RSS (from /proc) against the bound. A native publisher keeps the topics actor busy meanwhile, so
that it falls behind the gateway on any machine and under the sanitizers.
"""
import asyncio
import os
import sys
import threading
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
import test_attacks as attacks  # noqa: E402
from zgate_harness import wait_for  # noqa: E402
from gateway_client import Ws, http, run  # noqa: E402

KIB = 1024
SIZE = 256 * KIB
# One large publish in flight at a time: the next is refused until the topics actor has read it, while a
# small one (the web canary's) still fits beside it
BOUND = SIZE * 3 // 2
FLOODERS = 8
# Fewer under the sanitizers, whose quarantine keeps what the flood frees (up to 256 MB of RSS)
PUBLISHES = 24 if attacks.SANITIZED else 48
# The gateway threads check the bound concurrently: each may pass it by one publish (its bytes and overheads)
THREADS = 2


async def flood(port, index):
    """One client sends PUBLISHES large publishes without waiting, then reads their answers: the codes."""
    ws = await Ws.open(port, binary=True)
    payload = bytes([index]) * SIZE
    for req in range(PUBLISHES):
        await ws.send({"op": "publish", "topic": "flood", "data": payload, "req": req})
    codes = []
    while len(codes) < PUBLISHES:
        message = await ws.recv(timeout=60)
        codes.append(200 if message["op"] == "ok" else message["code"])
    await ws.close()
    return codes


async def web_canary(port, stopping, rounds_done=None):
    """Publishes small messages on a topic it subscribes to, each answered ok and pushed back, until
    stopping is set (and at least 3 times); returns the round trips made, also counted in rounds_done."""
    ws = await Ws.open(port)
    answer = await ws.request({"op": "subscribe", "topic": "webcanary", "req": "s"})
    assert answer["op"] == "ok", answer
    rounds = 0
    while not stopping.is_set() or rounds < 3:
        rounds += 1
        answer = await ws.request({"op": "publish", "topic": "webcanary", "data": f"r{rounds}", "req": rounds})
        assert answer["op"] == "ok", answer
        push = await ws.next_push("message")
        assert push["topic"] == "webcanary" and push["data"] == f"r{rounds}", push
        if rounds_done is not None:
            rounds_done.append(rounds)
        await asyncio.sleep(0.01)
    await ws.close()
    return rounds


class WebPublishFloodTest(attacks.AttackBase):
    zgate_overrides = {"gateway_max_publish_queued": BOUND, "gateway_max_message_size": 2 * SIZE,
                       "gateway_max_frame_size": 2 * SIZE, "gateway_threads": THREADS}

    def publish_stats(self):
        return self.gateway_stats()["publish"]

    def test_flood_of_web_publishes_is_refused_past_the_bound(self):
        """8 web clients (on 2 gateway threads) each send 48 publishes of 256 KiB (24 under the sanitizers)
        without waiting, while a native publisher keeps the topics actor busy with small messages:
        some are refused with 429 (the topics actor reads them more slowly than the gateway takes them), the
        others all reach the topics actor, /metrics counts the refusals, the bytes held pass the bound by one
        publish per other gateway thread at most, RSS stays within the bound and some slack, and both canaries
        (native and web) go on throughout and after."""
        self.start_canary()
        port = int(self.zg.endpoint("gateway-http-port"))
        held = []
        watching = threading.Event()
        load = self.socket(zmq.PUB, "topics-publishers", sndhwm=0)

        def watch():
            while not watching.wait(0.02):
                self.sample()
                held.append(self.publish_stats()["held"])

        def keep_busy():
            """Small messages as fast as they go: the actor reads up to 4096 of its TCP publishers' in a row
            before the gateway's"""
            while not watching.is_set():
                load.send_multipart([b"load", b"x"])
        threads = [threading.Thread(target=target, daemon=True) for target in (watch, keep_busy)]
        for thread in threads:
            thread.start()

        async def attack():
            stopping = asyncio.Event()
            rounds_done = []
            canary = asyncio.ensure_future(web_canary(port, stopping, rounds_done))
            codes = await asyncio.gather(*(flood(port, index) for index in range(FLOODERS)))
            during = len(rounds_done)
            stopping.set()
            await canary
            return [code for client in codes for code in client], during

        codes, canary_rounds = run(attack(), timeout=240)
        self.assertGreater(canary_rounds, 0, "the web canary made no round trip during the flood")
        watching.set()
        for thread in threads:
            thread.join()
        self.assert_bounded()
        # assert_bounded allows for ASan's quarantine; the bound's own check is the normal build's
        if not attacks.SANITIZED:
            self.assertLess(self.peak - self.baseline, BOUND + attacks.RSS_SLACK,
                            f"RSS grew from {self.baseline >> 20} MB to {self.peak >> 20} MB")
        accepted, refused = codes.count(200), codes.count(429)
        self.assertEqual(accepted + refused, len(codes), f"codes other than 200 and 429: {set(codes)}")
        self.assertGreater(refused, 0, "no publish was refused")
        self.assertGreater(accepted, 0, "every publish was refused")
        self.assertLessEqual(max(held), BOUND + (THREADS - 1) * (SIZE + 4 * KIB))
        # Nothing accepted is lost on the way: the topics actor got every publish answered ok
        wait_for(lambda: self.api_stats("topics")["topics"].get("flood", {}).get("published") == accepted,
                 what=f"the topics actor to count {accepted} publishes on flood")
        wait_for(lambda: self.publish_stats()["held"] == 0, what="the held bytes to be given back")
        stats = self.publish_stats()
        self.assertEqual(stats["refused_limit"], refused)
        status, body, _ = http(port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b'zgate_gateway_publish_refused_total{limit="queued"} %d' % refused, body)
        self.assertIn(b"zgate_gateway_publish_held_bytes 0", body)
        print(f"\n{len(codes)} publishes of {SIZE >> 10} KiB: {accepted} accepted, {refused} refused (429); "
              f"at most {max(held) >> 10} KiB held (bound {BOUND >> 10} KiB), RSS +"
              f"{(self.peak - self.baseline) >> 20} MB; web canary {canary_rounds} rounds during the flood",
              file=sys.stderr)
        # Afterwards, a web client publishes and receives as before
        stopped = asyncio.Event()
        stopped.set()
        self.assertGreaterEqual(run(web_canary(port, stopped)), 3)
        self.assert_canary_ok()


if __name__ == "__main__":
    unittest.main(verbosity=2)
