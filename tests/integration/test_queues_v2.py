"""The queues' worker protocol version 2 (docs/PROTOCOL.md 2.9) in raw pyzmq frames: READY with "version": 2,
DELIVERS batches, ACKS batches, beside version 1 workers, in memory and with a data-dir."""
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
import test_queues  # noqa: E402  (the module, so that unittest does not run its tests here too)
from test_queues import pack  # noqa: E402
from zgate_harness import Zgate, wait_for  # noqa: E402

TIMEOUT_MS = 5000
NO_REPLY = 0xFFFFFFFF


def records(batch):
    """A DELIVERS frame's records: [(id, meta, payload)]; fails on bytes left over or cut short."""
    got, offset = [], 0
    while offset < len(batch):
        task, meta_size = struct.unpack_from(">QI", batch, offset)
        offset += 12
        meta = msgpack.unpackb(batch[offset:offset + meta_size])
        offset += meta_size
        (size,) = struct.unpack_from(">I", batch, offset)
        offset += 4
        got.append((task, meta, batch[offset:offset + size]))
        offset += size
        assert offset <= len(batch), "record cut short"
    return got


def acks(*answers):
    """ACKS records from (id, reply) pairs, reply None for an ACK without one."""
    return b"".join(struct.pack(">QI", task, NO_REPLY) if reply is None
                    else struct.pack(">QI", task, len(reply)) + reply for task, reply in answers)


class Worker2:
    """A raw version 2 worker: READY with version 2, DELIVERS in, ACKS out."""

    def __init__(self, socket, endpoint, name, queues, prefetch, version=2):
        self.name = name.encode()
        self.socket = socket
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.connect(endpoint)
        self.welcome = self.request(b"READY", pack(queues=queues, prefetch=prefetch, version=version))

    def send(self, command, *frames):
        self.socket.send_multipart([command, self.name] + list(frames))

    def request(self, command, *frames):
        self.send(command, *frames)
        return self.socket.recv_multipart()

    def batches(self, timeout_ms=500):
        """Every message within timeout_ms of the previous one, DELIVERS decoded: [(command, records or frames)]."""
        got = []
        while self.socket.poll(timeout_ms):
            frames = self.socket.recv_multipart()
            if frames[0] == b"DELIVERS":
                assert len(frames) == 3 and frames[1] == self.name, frames
                got.append((b"DELIVERS", records(frames[2])))
            else:
                got.append((frames[0], frames[1:]))
        return got

    def tasks(self, timeout_ms=500):
        """The records of every DELIVERS that arrives (nothing else may come)."""
        got = []
        for command, rest in self.batches(timeout_ms):
            assert command == b"DELIVERS", (command, rest)
            got.extend(rest)
        return got


class QueuesV2Test(unittest.TestCase):
    # the version 1 tests' context, sockets and zgate, set up and torn down the same way
    setUp = test_queues.QueuesTest.setUp
    tearDown = test_queues.QueuesTest.tearDown
    socket = test_queues.QueuesTest.socket
    producer = test_queues.QueuesTest.producer

    def worker(self, name, queues=("jobs",), prefetch=10, version=2):
        return Worker2(self.socket(), self.zgate.endpoint("queues-workers"), name, list(queues), prefetch, version)

    def counters(self, producer):
        return producer.stats()["queues"]["jobs"]

    def check_batch_and_acks(self):
        producer = self.producer()
        ids = [int(producer.send_ok("jobs", b"task%d" % n, reply=True)) for n in range(6)]
        worker = self.worker("w", prefetch=4)
        self.assertEqual(worker.welcome[:2], [b"OK", b"w"])
        self.assertEqual(msgpack.unpackb(worker.welcome[2])["version"], 2)
        # the credit's worth of waiting tasks in one DELIVERS, in queue order
        batches = worker.batches()
        self.assertEqual(len(batches), 1, batches)
        got = batches[0][1]
        self.assertEqual([task for task, _, _ in got], ids[:4])
        self.assertEqual(got[0][1], {"queue": "jobs", "attempt": 1})
        self.assertEqual(got[3][2], b"task3")
        # one ACKS answers three of them: three REPLYs (an empty reply is a reply), credit for the last two
        worker.send(b"ACKS", acks((ids[0], b"TASK0"), (ids[1], None), (ids[2], b"")))
        replies = sorted(tuple(producer.socket.recv_multipart()[2:]) for _ in range(3))
        self.assertEqual(replies, sorted([(b"%d" % ids[0], b"TASK0"), (b"%d" % ids[1], b""),
                                          (b"%d" % ids[2], b"")]))
        self.assertEqual([task for task, _, _ in worker.tasks()], ids[4:])
        worker.send(b"ACKS", acks(*((task, None) for task in [ids[3]] + ids[4:])))
        self.assertEqual(sorted(int(producer.socket.recv_multipart()[2]) for _ in range(3)), ids[3:])
        wait_for(lambda: self.counters(producer)["done"] == 6, what="six tasks done")
        self.assertEqual(producer.get(b"%d" % ids[0])["reply"], b"TASK0")
        return producer, worker

    def test_batched_delivers_and_acks(self):
        self.zgate = Zgate().start()
        self.check_batch_and_acks()

    def test_batched_with_data_dir(self):
        directory = tempfile.mkdtemp(prefix="zgate-qv2-")
        self.addCleanup(shutil.rmtree, directory, True)
        self.zgate = Zgate(queues_data_dir=directory).start()
        producer, _ = self.check_batch_and_acks()
        self.assertEqual(self.counters(producer)["in_progress"], 0)

    def test_v1_answers_from_a_v2_worker(self):
        self.zgate = Zgate().start()
        producer = self.producer()
        ids = [producer.send_ok("jobs", b"t%d" % n) for n in range(2)]
        worker = self.worker("w", prefetch=2)
        self.assertEqual([b"%d" % task for task, _, _ in worker.tasks()], ids)
        worker.send(b"NACK", ids[0])
        ((task, meta, _),) = worker.tasks()
        self.assertEqual((b"%d" % task, meta["attempt"]), (ids[0], 2))
        worker.send(b"FAIL", ids[1], b"no")
        worker.send(b"ACK", ids[0])
        wait_for(lambda: self.counters(producer)["done"] == 1 and self.counters(producer)["failed"] == 1,
                 what="one done, one failed")

    def test_unacked_batch_redelivered_to_a_v1_worker_when_its_worker_dies(self):
        self.zgate = Zgate(queues_worker_timeout=1000, queues_heartbeat_interval=200).start()
        producer = self.producer()
        ids = [int(producer.send_ok("jobs", b"t%d" % n)) for n in range(5)]
        doomed = self.worker("doomed", prefetch=5)
        self.assertEqual([task for task, _, _ in doomed.tasks()], ids)
        doomed.send(b"ACKS", acks((ids[1], None), (ids[3], None)))
        wait_for(lambda: self.counters(producer)["done"] == 2, what="two acked")
        doomed.socket.close(linger=0)           # dies without BYE: found by the heartbeat
        survivor = self.socket()
        survivor.rcvtimeo = TIMEOUT_MS
        survivor.connect(self.zgate.endpoint("queues-workers"))
        survivor.send_multipart([b"READY", b"v1", pack(queues=["jobs"], prefetch=5)])
        self.assertEqual(survivor.recv_multipart()[:2], [b"OK", b"v1"])
        got = []
        deadline = time.monotonic() + 10
        while len(got) < 3 and time.monotonic() < deadline:
            survivor.send_multipart([b"PING", b"v1"])
            while survivor.poll(200):
                frames = survivor.recv_multipart()
                if frames[0] == b"DELIVER":
                    got.append((int(frames[2]), msgpack.unpackb(frames[3])["attempt"]))
        # the unacked ones only, in the order they were delivered, on their second delivery
        self.assertEqual(got, [(ids[0], 2), (ids[2], 2), (ids[4], 2)])
        for task, _ in got:
            survivor.send_multipart([b"ACK", b"v1", b"%d" % task])
        wait_for(lambda: self.counters(producer)["done"] == 5, what="every task done once")
        self.assertEqual(self.counters(producer)["redelivered"], 3)

    def test_v1_and_v2_workers_share_a_queue(self):
        self.zgate = Zgate().start()
        producer = self.producer()
        v2 = self.worker("v2", prefetch=3)
        v1 = self.socket()
        v1.rcvtimeo = TIMEOUT_MS
        v1.connect(self.zgate.endpoint("queues-workers"))
        v1.send_multipart([b"READY", b"v1", pack(queues=["jobs"], prefetch=3)])
        welcome = v1.recv_multipart()
        self.assertNotIn("version", msgpack.unpackb(welcome[2]), "a version 1 READY gets the version 1 answer")
        total = 60
        sent = [int(producer.send_ok("jobs", b"%d" % n)) for n in range(total)]
        seen = {"v1": [], "v2": []}
        poller = zmq.Poller()
        poller.register(v1, zmq.POLLIN)
        poller.register(v2.socket, zmq.POLLIN)
        deadline = time.monotonic() + 20
        while len(seen["v1"]) + len(seen["v2"]) < total and time.monotonic() < deadline:
            for socket, _ in poller.poll(200):
                frames = socket.recv_multipart()
                if socket is v1:
                    self.assertEqual(frames[0], b"DELIVER", frames)
                    seen["v1"].append(int(frames[2]))
                    v1.send_multipart([b"ACK", b"v1", frames[2]])
                else:
                    self.assertEqual(frames[0], b"DELIVERS", frames)
                    batch = [task for task, _, _ in records(frames[2])]
                    seen["v2"].extend(batch)
                    v2.send(b"ACKS", acks(*((task, None) for task in batch)))
        self.assertEqual(sorted(seen["v1"] + seen["v2"]), sorted(sent), "every task to exactly one worker")
        self.assertTrue(seen["v1"] and seen["v2"], seen)
        wait_for(lambda: self.counters(producer)["done"] == total, what="every ack counted")

    def test_bad_v2_input_is_refused_and_changes_nothing(self):
        self.zgate = Zgate(queues_max_task_size=1000).start()
        producer = self.producer()
        # a version zgate does not speak: 400, and no worker is made
        refused = self.worker("x", version=3)
        self.assertEqual(refused.welcome[:3], [b"ERROR", b"x", b"400"])
        self.assertEqual(refused.request(b"PING")[:3], [b"ERROR", b"x", b"404"])
        ids = [int(producer.send_ok("jobs", b"t%d" % n)) for n in range(3)]
        worker = self.worker("w", prefetch=3)
        self.assertEqual(len(worker.tasks()), 3)
        bad = [
            (acks((ids[0], None))[:-1], b"400", b"cut short"),
            (acks((ids[0], None), (ids[0], None)), b"400", b"twice"),
            (acks((ids[0], None), (999999, None)), b"409", b"not held"),
            (acks((ids[0], b"x" * 1001)), b"413", b"larger"),
            (b"", b"400", b"no task"),
        ]
        for frame, code, reason in bad:
            answer = worker.request(b"ACKS", frame)
            self.assertEqual(answer[:3], [b"ERROR", b"w", code], (frame[:40], answer))
            self.assertIn(reason, answer[3])
        for frames in ([], [b"a", b"b"]):
            self.assertEqual(worker.request(b"ACKS", *frames)[:3], [b"ERROR", b"w", b"400"])
        counters = self.counters(producer)
        self.assertEqual((counters["in_progress"], counters["done"], counters["waiting"]), (3, 0, 0))
        # the same tasks are still held and can be acked
        worker.send(b"ACKS", acks(*((task, None) for task in ids)))
        wait_for(lambda: self.counters(producer)["done"] == 3, what="the batch acked after the refusals")


if __name__ == "__main__":
    unittest.main(verbosity=2)
