"""The producer half of the queue protocol version 2 (docs/PROTOCOL.md 2.10) in raw pyzmq frames: SENDS batches
answered by one OK of result records, per-record refusals, REPLIES batches, beside version 1 producers, in memory
and with a data-dir across a kill -9."""
import os
import shutil
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import test_queues  # noqa: E402  (the module, so that unittest does not run its tests here too)
import test_queues_v2  # noqa: E402
from test_queues import pack  # noqa: E402
from test_queues_v2 import NO_REPLY, acks  # noqa: E402
from zgate_harness import wait_for  # noqa: E402


def sends(*payloads):
    """A SENDS frame's send records."""
    return b"".join(struct.pack(">I", len(payload)) + payload for payload in payloads)


def ack_records(frame):
    """Ack-shaped records (a SENDS's results, a REPLIES): [(id, bytes or None)]; fails on a record cut short."""
    got, offset = [], 0
    while offset < len(frame):
        task, size = struct.unpack_from(">QI", frame, offset)
        offset += 12
        if size == NO_REPLY:
            got.append((task, None))
            continue
        got.append((task, frame[offset:offset + size]))
        offset += size
        assert offset <= len(frame), "record cut short"
    return got


class QueuesSendsTest(unittest.TestCase):
    setUp = test_queues.QueuesTest.setUp
    tearDown = test_queues.QueuesTest.tearDown
    socket = test_queues.QueuesTest.socket
    producer = test_queues.QueuesTest.producer
    start = test_queues.QueuesTest.start

    def sends(self, producer, req, payloads, queue=b"jobs", **options):
        """SENDS; returns the answer frames."""
        return producer.request(b"SENDS", req, queue, pack(**options), sends(*payloads))

    def sends_ok(self, producer, payloads, **options):
        """SENDS every payload; returns their ids (each one taken)."""
        answer = self.sends(producer, b"b", payloads, **options)
        self.assertEqual(answer[:2], [b"OK", b"b"], answer)
        results = ack_records(answer[2])
        self.assertTrue(all(error is None for _, error in results), results)
        return [task for task, _ in results]

    def counters(self, producer):
        return producer.stats()["queues"]["jobs"]

    def test_batch_answered_in_order_and_delivered_in_order(self):
        self.start()
        producer = self.producer()
        ids = self.sends_ok(producer, [b"t%d" % n for n in range(20)])
        self.assertEqual(ids, list(range(ids[0], ids[0] + 20)))
        self.assertEqual(self.counters(producer)["waiting"], 20)
        worker = test_queues.Worker(self.socket(), self.zgate.endpoint("queues-workers"), "w", queues=["jobs"],
                                    prefetch=20)
        got = worker.deliveries()
        self.assertEqual([(int(task), data) for task, _, data in got], [(ids[n], b"t%d" % n) for n in range(20)])

    def test_partial_refusals_change_nothing_for_refused_records(self):
        self.start(queues_max_task_size=8, queues_max_pending=3)
        producer = self.producer()
        answer = self.sends(producer, b"p", [b"one", b"too large", b"", b"three", b"four"])
        self.assertEqual(answer[:2], [b"OK", b"p"])
        results = ack_records(answer[2])
        self.assertEqual([task > 0 for task, _ in results], [True, False, True, True, False])
        self.assertTrue(results[1][1].startswith(b"413 "), results)
        self.assertTrue(results[4][1].startswith(b"429 "), results)
        self.assertEqual([task for task, _ in results if task], list(range(results[0][0], results[0][0] + 3)))
        counters = self.counters(producer)
        self.assertEqual((counters["waiting"], counters["sent"]), (3, 3))
        # an empty req asks for no OK, but hears its refusals
        producer.socket.send_multipart([b"SENDS", b"", b"jobs", b"", sends(b"five")])
        answer = producer.socket.recv_multipart()
        self.assertEqual(answer[:2], [b"OK", b""])
        self.assertTrue(ack_records(answer[2])[0][1].startswith(b"429 "))
        self.assertEqual(self.counters(producer)["waiting"], 3)

    def test_replies_batched_and_v1_producer_on_the_same_queue(self):
        self.start()
        v2 = self.producer()
        v1 = self.producer()
        ids = self.sends_ok(v2, [b"a", b"b", b"c"], reply=True)
        single = int(v1.send_ok("jobs", b"d", reply=True))
        worker = test_queues_v2.Worker2(self.socket(), self.zgate.endpoint("queues-workers"), "w", ["jobs"], 10)
        got = worker.tasks()
        self.assertEqual([task for task, _, _ in got], ids + [single])
        worker.send(b"ACKS", acks(*((task, payload.upper()) for task, _, payload in got)))
        # the batch's replies in one REPLIES, in the order acked; the version 1 task's as a REPLY
        answer = v2.socket.recv_multipart()
        self.assertEqual(answer[:2], [b"REPLIES", b"b"], answer)
        self.assertEqual(ack_records(answer[2]), [(ids[0], b"A"), (ids[1], b"B"), (ids[2], b"C")])
        self.assertEqual(v1.socket.recv_multipart(), [b"REPLY", b"s%d" % v1.counter, b"%d" % single, b"D"])
        wait_for(lambda: self.counters(v2)["done"] == 4, what="four done")

    def test_durable_restart_keeps_every_task_of_an_ok_batch(self):
        directory = tempfile.mkdtemp(prefix="zgate-sends-")
        self.addCleanup(shutil.rmtree, directory, True)
        self.start(queues_data_dir=directory)
        producer = self.producer()
        ids = self.sends_ok(producer, [b"task%d" % n for n in range(50)])
        self.zgate.process.kill()
        self.zgate.process.wait(timeout=5)
        self.zgate.start()
        producer = self.producer()
        self.assertEqual(self.counters(producer)["waiting"], 50)
        worker = test_queues.Worker(self.socket(), self.zgate.endpoint("queues-workers"), "w", queues=["jobs"],
                                    prefetch=50)
        got = worker.deliveries()
        self.assertEqual([(int(task), data) for task, _, data in got], [(ids[n], b"task%d" % n) for n in range(50)])

    def test_bad_input_is_refused_and_changes_nothing(self):
        self.start(queues_max_task_size=1000)
        producer = self.producer()
        bad = [
            ([b"jobs", b"\x81", sends(b"x")], b"400"),                      # options cut short
            ([b"jobs", pack(scatter=True), sends(b"x")], b"400"),           # scatter is for CALL
            ([b"jobs", pack(priority=99), sends(b"x")], b"400"),            # a bad option value
            ([b"jobs", b"", sends(b"x", b"y")[:-1]], b"400"),               # a record cut short
            ([b"jobs", b"", b"\x00\x00"], b"400"),                          # not even a size
            ([b"jobs", b"", b""], b"400"),                                  # no record
            ([b"bad name", b"", sends(b"x")], b"400"),
            ([b"jobs", b""], b"400"),                                       # a frame missing
        ]
        for frames, code in bad:
            answer = producer.request(b"SENDS", b"r", *frames)
            self.assertEqual(answer[:3], [b"ERROR", b"r", code], (frames, answer))
        stats = producer.stats()
        self.assertEqual(stats["tasks"], 0)
        self.assertNotIn("jobs", stats["queues"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
