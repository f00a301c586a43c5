#!/usr/bin/python3
"""Web publishers for bench/profile.sh's ws-publish scenario: CLIENTS WebSocket sessions each send COUNT /
CLIENTS msgpack publishes of SIZE bytes on bench.<n>, at most WINDOW unanswered per session, and check that
every one is answered ok. No subscriber: the figure is what a web publish costs zgate (the gateway's parse and
send, the topics actor's read), per publish.

    ws_publish.py --url ws://127.0.0.1:PORT/ws --count N [--clients C] [--window W] [--size S] [--timeout MS]
"""
import argparse
import asyncio
import sys
import time

import msgpack
import websockets


async def publisher(url, index, count, size, window, timeout):
    async with websockets.connect(url, max_size=2 ** 24, ping_interval=None) as ws:
        payload = bytes(size)
        sent = answered = 0
        while answered < count:
            while sent < count and sent - answered < window:
                await ws.send(msgpack.packb({"op": "publish", "topic": f"bench.{index}", "data": payload,
                                             "req": sent}))
                sent += 1
            answer = msgpack.unpackb(await asyncio.wait_for(ws.recv(), timeout))
            if answer.get("op") != "ok":
                raise SystemExit(f"publish {answer.get('req')} refused: {answer}")
            answered += 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--timeout", type=int, default=120000)
    options = parser.parse_args()
    start = time.monotonic()
    share = options.count // options.clients
    await asyncio.gather(*(publisher(options.url, index, share, options.size, options.window,
                                     options.timeout / 1000) for index in range(options.clients)))
    elapsed = time.monotonic() - start
    print(f"{share * options.clients} web publishes of {options.size} bytes answered ok in {elapsed:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
