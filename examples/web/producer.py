#!/usr/bin/python3
"""A native producer (pyzmq) feeding the Node worker (worker.mjs) through a zgate queue.

    /usr/bin/python3 examples/web/producer.py [tcp://127.0.0.1:5562] [queue] [count]

Sends `count` tasks with `reply`, then prints each worker reply as it comes back.
"""
import json
import sys

import msgpack
import zmq

endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5562"
queue = (sys.argv[2] if len(sys.argv) > 2 else "thumbnails").encode()
count = int(sys.argv[3]) if len(sys.argv) > 3 else 5

producer = zmq.Context().socket(zmq.DEALER)
producer.rcvtimeo = 10000       # the reply timeout below is 5 s; never wait forever
producer.connect(endpoint)
for n in range(count):
    task = json.dumps({"image": f"photo-{n}.jpg"}).encode()
    producer.send_multipart([b"SEND", b"%d" % n, queue, msgpack.packb({"reply": True, "timeout": 5000}), task])

waiting = {b"%d" % n for n in range(count)}     # each task ends with a REPLY or an ERROR on its req
while waiting:
    try:
        command, req, *rest = producer.recv_multipart()
    except zmq.Again:
        sys.exit("no answer from zgate within 10 s: is it running, and is a worker serving the queue?")
    if command == b"OK":
        print(f"task {rest[0].decode()} accepted")
        continue
    waiting.discard(req)
    if command == b"REPLY":
        print(f"task {rest[0].decode()} done: {rest[1].decode()}")
    else:
        print(f"request {req.decode()}: {command.decode()} {b' '.join(rest).decode()}")
