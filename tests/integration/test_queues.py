"""Work queues through a real zgate, driven by plain pyzmq producers and workers (docs/PROTOCOL.md, section 2)."""
import os
import random
import signal
import subprocess
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402

TIMEOUT_MS = 5000
PYTHON = "/usr/bin/python3"

# A worker in its own process, so the test can SIGKILL it: it takes tasks from queue "jobs" with prefetch 5,
# heartbeats, never answers, and prints the id of each task it holds.
HOLDING_WORKER = r"""
import sys, zmq, msgpack
s = zmq.Context().socket(zmq.DEALER)
s.connect(sys.argv[1])
s.send_multipart([b"READY", b"doomed", msgpack.packb({"queues": ["jobs"], "prefetch": 5})])
while True:
    if s.poll(100):
        frames = s.recv_multipart()
        if frames[0] == b"DELIVER":
            print(frames[2].decode(), flush=True)
    s.send_multipart([b"PING", b"doomed"])
"""


def pack(**options):
    return msgpack.packb(options) if options else b""


class Producer:
    def __init__(self, socket, endpoint):
        self.socket = socket
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.connect(endpoint)
        self.counter = 0

    def request(self, *frames):
        self.socket.send_multipart([bytes(frame) if not isinstance(frame, bytes) else frame for frame in frames])
        return self.socket.recv_multipart()

    def send(self, queue, data, req=None, **options):
        """SEND; returns the answer frames ([OK, req, id] or [ERROR, req, code, reason])."""
        self.counter += 1
        req = req or b"s%d" % self.counter
        return self.request(b"SEND", req, queue.encode(), pack(**options), data)

    def send_ok(self, queue, data, **options):
        answer = self.send(queue, data, **options)
        assert answer[0] == b"OK", answer
        return answer[2]

    def get(self, task_id):
        answer = self.request(b"GET", b"g", task_id)
        assert answer[0] == b"OK", answer
        return msgpack.unpackb(answer[2])

    def stats(self):
        answer = self.request(b"STATS", b"st")
        assert answer[0] == b"OK", answer
        return msgpack.unpackb(answer[2])


class Worker:
    def __init__(self, socket, endpoint, name, queues=(), commands=(), prefetch=1):
        self.name = name.encode()
        self.socket = socket
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.connect(endpoint)
        self.socket.send_multipart([b"READY", self.name, pack(commands=list(commands), queues=list(queues),
                                                              prefetch=prefetch)])
        answer = self.socket.recv_multipart()
        assert answer[:2] == [b"OK", self.name], answer

    def send(self, command, *frames):
        self.socket.send_multipart([command, self.name] + list(frames))

    def deliveries(self, timeout_ms=500):
        """Every DELIVER that arrives within timeout_ms of the previous message: [(id, meta, data)]."""
        got = []
        while self.socket.poll(timeout_ms):
            frames = self.socket.recv_multipart()
            if frames[0] == b"DELIVER":
                got.append((frames[2], msgpack.unpackb(frames[3]), frames[4]))
        return got

    def next(self):
        frames = self.socket.recv_multipart()
        assert frames[0] == b"DELIVER", frames
        return frames[2], msgpack.unpackb(frames[3]), frames[4]


class QueuesTest(unittest.TestCase):
    zgate_options = {}

    def setUp(self):
        self.context = zmq.Context()
        self.context.linger = 0
        self.zgate = None
        self.children = []
        self.sockets = []

    def tearDown(self):
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=5)
            child.stdout.close()
        for socket in self.sockets:
            socket.close(linger=0)
        self.context.term()
        if self.zgate:
            code, _ = self.zgate.stop()
            self.assertEqual(code, 0)

    def start(self, **options):
        self.zgate = Zgate(**options).start()
        return self.zgate

    def producer(self):
        return Producer(self.socket(), self.zgate.endpoint("queues-producers"))

    def worker(self, name, **kwargs):
        return Worker(self.socket(), self.zgate.endpoint("queues-workers"), name, **kwargs)

    def socket(self):
        socket = self.context.socket(zmq.DEALER)
        self.sockets.append(socket)
        return socket

    def drain_acking(self, workers, total, reply=False):
        """Ack every delivery as it comes until total tasks are acked, pinging for every worker every 200 ms
        (the answers are ignored); returns {worker name: [ids]}."""
        poller = zmq.Poller()
        for worker in workers:
            poller.register(worker.socket, zmq.POLLIN)
        seen = {worker.name: [] for worker in workers}
        deadline = time.monotonic() + 30
        next_ping = 0
        while sum(len(ids) for ids in seen.values()) < total and time.monotonic() < deadline:
            if time.monotonic() >= next_ping:
                for worker in workers:
                    worker.send(b"PING")
                next_ping = time.monotonic() + 0.2
            for socket, _ in poller.poll(100):
                worker = next(w for w in workers if w.socket is socket)
                frames = socket.recv_multipart()
                if frames[0] == b"DELIVER":
                    seen[worker.name].append(frames[2])
                    worker.send(b"ACK", frames[2], *([frames[4].upper()] if reply else []))
        return seen

    # ---- load balancing and credit ------------------------------------------------------------------------

    def check_fairness(self, count):
        self.start()
        producer = self.producer()
        workers = [self.worker("w%d" % n, queues=["jobs"], prefetch=2) for n in range(count)]
        total = 60 * count
        for n in range(total):
            producer.send_ok("jobs", b"%d" % n)
        seen = self.drain_acking(workers, total)
        ids = [task for got in seen.values() for task in got]
        self.assertEqual(len(ids), total)
        self.assertEqual(len(set(ids)), total, "a task went to exactly one worker")
        for name, got in seen.items():
            # round-robin among workers with credit: each gets its share, give or take the machine's jitter
            self.assertGreater(len(got), total / count * 0.6, f"{name} got {len(got)} of {total}")
        wait_for(lambda: producer.stats()["queues"]["jobs"]["done"] == total, what="every ack counted")

    def test_fair_over_two_workers(self):
        self.check_fairness(2)

    def test_fair_over_three_workers(self):
        self.check_fairness(3)

    def test_credit_fifo_and_priority(self):
        self.start()
        producer = self.producer()
        ids = [producer.send_ok("jobs", b"task%d" % n) for n in range(10)]
        urgent = producer.send_ok("jobs", b"urgent", priority=5)
        worker = self.worker("w", queues=["jobs"], prefetch=3)
        got = worker.deliveries()
        # never more than the credit, highest priority first, then FIFO
        self.assertEqual([task for task, _, _ in got], [urgent] + ids[:2])
        self.assertEqual(got[0][1], {"queue": "jobs", "attempt": 1})
        counters = producer.stats()["queues"]["jobs"]
        self.assertEqual((counters["waiting"], counters["in_progress"]), (8, 3))
        # deliveries() returned after 500 ms of silence, so the oldest waiting task is at least that old
        self.assertGreaterEqual(counters["oldest_waiting_ms"], 400)
        self.assertEqual(producer.get(ids[5])["state"], "waiting")
        self.assertEqual(producer.get(ids[0])["state"], "in_progress")
        worker.send(b"ACK", urgent)
        self.assertEqual([task for task, _, _ in worker.deliveries()], [ids[2]])

    # ---- liveness, redelivery, dead letters ---------------------------------------------------------------

    def test_kill_9_worker_tasks_redelivered_exactly_once(self):
        self.start(queues_worker_timeout=1000, queues_heartbeat_interval=200)
        producer = self.producer()
        doomed = subprocess.Popen([PYTHON, "-c", HOLDING_WORKER, self.zgate.endpoint("queues-workers")],
                                  stdout=subprocess.PIPE, text=True)
        self.children.append(doomed)
        wait_for(lambda: producer.stats()["queues"].get("jobs", {}).get("workers") == 1, what="doomed worker")
        ids = [producer.send_ok("jobs", b"t%d" % n) for n in range(5)]
        held = [doomed.stdout.readline().strip().encode() for _ in range(5)]
        self.assertEqual(sorted(held), sorted(ids))
        survivor = self.worker("survivor", queues=["jobs"], prefetch=10)
        ids += [producer.send_ok("jobs", b"t%d" % n) for n in range(5, 20)]
        survivor.send(b"PING")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=5)
        seen = self.drain_acking([survivor], 20)[survivor.name]
        # every task done exactly once by the survivor: the 15 new ones and the 5 the dead worker held
        self.assertEqual(sorted(seen), sorted(ids))
        wait_for(lambda: producer.stats()["queues"]["jobs"]["done"] == 20, what="every ack counted")
        for task in held:
            info = producer.get(task)
            self.assertEqual((info["state"], info["attempt"]), ("done", 2))
        counters = producer.stats()["queues"]["jobs"]
        self.assertEqual((counters["done"], counters["redelivered"], counters["waiting"]), (20, 5, 0))
        self.assertEqual(producer.stats()["workers"], 1)
        self.assertEqual(survivor.deliveries(), [], "nothing delivered twice")

    def test_ack_timeout_redelivers_to_another_worker(self):
        self.start()
        producer = self.producer()
        slow = self.worker("slow", queues=["jobs"])
        fast = self.worker("fast", queues=["jobs"])
        task = producer.send_ok("jobs", b"x", **{"ack-timeout": 300})
        # the first worker in line gets it and does not answer in time
        got, meta, _ = slow.next()
        self.assertEqual((got, meta["attempt"]), (task, 1))
        got, meta, _ = fast.next()
        self.assertEqual((got, meta["attempt"]), (task, 2))
        # the late answer is refused; the new holder's counts
        slow.send(b"ACK", task, b"too late")
        self.assertEqual(slow.socket.recv_multipart()[:3], [b"ERROR", b"slow", b"409"])
        fast.send(b"ACK", task, b"in time")
        wait_for(lambda: producer.get(task)["state"] == "done", what="task done")
        self.assertEqual(producer.get(task)["reply"], b"in time")
        self.assertEqual(producer.stats()["queues"]["jobs"]["redelivered"], 1)

    def test_max_deliveries_dead_letter(self):
        self.start(queues_max_deliveries=3)
        producer = self.producer()
        worker = self.worker("w", queues=["jobs"])
        task = producer.send_ok("jobs", b"poison", reply=True, timeout=10000)
        for attempt in (1, 2, 3):
            got, meta, _ = worker.next()
            self.assertEqual((got, meta["attempt"]), (task, attempt))
            worker.send(b"NACK", got)
        answer = producer.socket.recv_multipart()
        self.assertEqual(answer[:3], [b"ERROR", b"s1", b"410"])
        self.assertIn(b"dead after 3 deliveries", answer[3])
        self.assertEqual(worker.deliveries(200), [], "no fourth delivery")
        info = producer.get(task)
        self.assertEqual((info["state"], info["queue"], info["attempt"]), ("dead", "jobs.dead", 3))
        stats = producer.stats()["queues"]
        self.assertEqual((stats["jobs"]["dead"], stats["jobs.dead"]["waiting"]), (1, 1))
        # the dead-letter queue is an ordinary queue: a worker can take the task from it
        janitor = self.worker("janitor", queues=["jobs.dead"])
        got, meta, data = janitor.next()
        self.assertEqual((got, meta["queue"], data), (task, "jobs.dead", b"poison"))
        janitor.send(b"ACK", got)
        wait_for(lambda: producer.get(task)["state"] == "done", what="dead letter handled")

    def test_bye_requeues_held_tasks_in_delivery_order(self):
        self.start()
        producer = self.producer()
        leaving = self.worker("leaving", queues=["jobs"], prefetch=3)
        ids = [producer.send_ok("jobs", b"t%d" % n) for n in range(3)]
        self.assertEqual([task for task, _, _ in leaving.deliveries()], ids)
        staying = self.worker("staying", queues=["jobs"], prefetch=3)
        leaving.send(b"BYE")
        got = [staying.next() for _ in range(3)]
        # back at the head of the queue in the order they were first delivered, each on its second attempt
        self.assertEqual([(task, meta["attempt"]) for task, meta, _ in got], [(task, 2) for task in ids])
        stats = producer.stats()
        self.assertEqual((stats["workers"], stats["queues"]["jobs"]["redelivered"]), (1, 3))
        # the worker that left is unknown now: its late ACK is refused and changes nothing
        leaving.send(b"ACK", ids[0])
        self.assertEqual(leaving.socket.recv_multipart()[:3], [b"ERROR", b"leaving", b"404"])
        self.assertEqual(producer.get(ids[0])["state"], "in_progress")

    def test_refused_send_creates_nothing_and_idle_queues_are_forgotten(self):
        self.start(queues_max_queues=3, queues_max_tasks=2, queues_max_results=0, queues_recent_size=0,
                   queues_max_subscriptions=2)
        producer = self.producer()
        self.worker("wa", queues=["a"])
        greedy = self.socket()
        greedy.rcvtimeo = TIMEOUT_MS
        greedy.connect(self.zgate.endpoint("queues-workers"))
        greedy.send_multipart([b"READY", b"greedy", pack(queues=["a"], commands=["x", "y"])])
        self.assertEqual(greedy.recv_multipart()[:3], [b"ERROR", b"greedy", b"429"], "past max-subscriptions")
        self.assertEqual((producer.stats()["workers"], sorted(producer.stats()["commands"])), (1, []))
        producer.send_ok("b", b"1")
        producer.send_ok("b", b"2")
        answer = producer.send("c", b"no room", req=b"full")
        self.assertEqual(answer[:3], [b"ERROR", b"full", b"503"])
        self.assertEqual(sorted(producer.stats()["queues"]), ["a", "b"], "a refused SEND creates no queue")
        # once queue b has no task, no kept result and no worker, it is forgotten and frees its place
        worker = self.worker("wb", queues=["b"], prefetch=2)
        for _ in range(2):
            task, _, _ = worker.next()
            worker.send(b"ACK", task)
        worker.send(b"BYE")
        wait_for(lambda: sorted(producer.stats()["queues"]) == ["a"], what="idle queue b forgotten")
        self.assertEqual(producer.stats()["tasks"], 0)
        producer.send_ok("c", b"room again")
        producer.send_ok("d", b"and again")
        self.assertEqual(sorted(producer.stats()["queues"]), ["a", "c", "d"])

    # ---- bounds, outcomes, replies ------------------------------------------------------------------------

    def test_queue_full_is_an_error_and_changes_nothing(self):
        self.start(queues_max_pending=5)
        producer = self.producer()
        ids = [producer.send_ok("jobs", b"%d" % n) for n in range(5)]
        answer = producer.send("jobs", b"one too many", req=b"full")
        self.assertEqual(answer[:3], [b"ERROR", b"full", b"429"])
        self.assertIn(b"queue full", answer[3])
        counters = producer.stats()["queues"]["jobs"]
        self.assertEqual((counters["waiting"], counters["sent"]), (5, 5))
        producer.send_ok("other", b"still fine")
        worker = self.worker("w", queues=["jobs"], prefetch=10)
        self.assertEqual([task for task, _, data in worker.deliveries()], ids)

    def test_ack_nack_fail_and_get(self):
        self.start(queues_result_ttl=1500)
        producer = self.producer()
        worker = self.worker("w", queues=["jobs"])
        done = producer.send_ok("jobs", b"a", reply=True)
        task, _, _ = worker.next()
        worker.send(b"ACK", task, b"result-a")
        self.assertEqual(producer.socket.recv_multipart(), [b"REPLY", b"s1", done, b"result-a"])
        failed = producer.send_ok("jobs", b"b", reply=True)
        task, _, _ = worker.next()
        worker.send(b"FAIL", task, b"cannot parse")
        answer = producer.socket.recv_multipart()
        self.assertEqual(answer[:3], [b"ERROR", b"s2", b"422"])
        self.assertIn(b"cannot parse", answer[3])
        info = producer.get(done)
        self.assertEqual((info["state"], info["reply"], info["attempt"]), ("done", b"result-a", 1))
        self.assertTrue(info["created"] <= info["started"] <= info["finished"])
        info = producer.get(failed)
        self.assertEqual((info["state"], info["reason"]), ("failed", "cannot parse"))
        recent = producer.stats()["recent"]
        self.assertEqual([(r["id"].encode(), r["state"]) for r in recent[:2]], [(failed, "failed"), (done, "done")])
        # results are kept for result-ttl, then forgotten
        wait_for(lambda: producer.request(b"GET", b"late", done)[:3] == [b"ERROR", b"late", b"404"],
                 timeout=5, what="result expiry")

    def test_reply_timeout(self):
        self.start()
        producer = self.producer()
        task = producer.send_ok("nobody-serves-this", b"x", reply=True, timeout=300)
        answer = producer.socket.recv_multipart()
        self.assertEqual(answer[:3], [b"ERROR", b"s1", b"408"])
        self.assertIn(task, answer[3])
        self.assertEqual(producer.get(task)["state"], "waiting", "a timeout does not cancel the task")

    def test_replies_routed_to_the_right_producer(self):
        self.start()
        producers = [self.producer() for _ in range(4)]
        worker = self.worker("w", queues=["jobs"], prefetch=50)
        for index, producer in enumerate(producers):
            for n in range(10):
                # every producer uses the same req values: connections keep them apart
                producer.send_ok("jobs", b"p%d-%d" % (index, n), reply=True)
        self.drain_acking([worker], 40, reply=True)
        for index, producer in enumerate(producers):
            replies = sorted(producer.socket.recv_multipart()[3] for _ in range(10))
            self.assertEqual(replies, sorted(b"P%d-%d" % (index, n) for n in range(10)))
            producer.socket.rcvtimeo = 200
            with self.assertRaises(zmq.Again):
                producer.socket.recv_multipart()

    def test_many_logical_workers_on_one_connection(self):
        self.start()
        producer = self.producer()
        socket = self.socket()
        socket.rcvtimeo = TIMEOUT_MS
        socket.connect(self.zgate.endpoint("queues-workers"))
        names = [b"session-%d" % n for n in range(20)]
        for name in names:
            socket.send_multipart([b"READY", name, pack(queues=["jobs"], prefetch=1)])
            self.assertEqual(socket.recv_multipart()[:2], [b"OK", name])
        for n in range(20):
            producer.send_ok("jobs", b"%d" % n)
        holders = [socket.recv_multipart()[1] for _ in range(20)]
        self.assertEqual(sorted(holders), sorted(names), "one task per logical worker (prefetch 1)")
        self.assertEqual(producer.stats()["workers"], 20)

    # ---- command mode -------------------------------------------------------------------------------------

    def test_command_mode(self):
        self.start()
        producer = self.producer()
        versions = self.worker("v", commands=["version"])
        counter = self.worker("c", commands=["count"], queues=["jobs"])
        answer = producer.request(b"CALL", b"c1", b"", b"unknown/x")
        self.assertEqual(answer[:3], [b"ERROR", b"c1", b"404"])
        self.assertIn(b"command 'unknown' not found", answer[3])
        task = producer.request(b"CALL", b"c2", pack(reply=True), b"version/some/data")[2]
        got, meta, data = versions.next()
        self.assertEqual((got, meta, data), (task, {"command": "version", "attempt": 1}, b"some/data"))
        self.assertEqual(counter.deliveries(100), [], "only workers of that command")
        versions.send(b"ACK", got, b"0.1.0")
        self.assertEqual(producer.socket.recv_multipart(), [b"REPLY", b"c2", task, b"0.1.0"])
        # scatter-gather: every worker of the command answers, then END
        second = self.worker("v2", commands=["version"])
        group = producer.request(b"CALL", b"c3", pack(scatter=True, timeout=3000), b"version")[2]
        for worker in (versions, second):
            got, _, data = worker.next()
            worker.send(b"ACK", got, worker.name)
        replies = [producer.socket.recv_multipart() for _ in range(3)]
        self.assertEqual(sorted(r[3] for r in replies[:2]), [b"v", b"v2"])
        self.assertEqual(replies[2], [b"END", b"c3", group, b"2"])

    # ---- bad input ----------------------------------------------------------------------------------------

    def test_malformed_and_unknown_commands(self):
        self.start()
        producer = self.producer()
        bad_producer_requests = [
            ([b"HELLO", b"r"], b"405"),
            ([b"SEND", b"r"], b"400"),
            ([b"SEND", b"r", b"jobs", b""], b"400"),
            ([b"SEND", b"r", b"bad name!", b"", b"x"], b"400"),
            ([b"SEND", b"r", b"x" * 300, b"", b"x"], b"413"),
            ([b"SEND", b"r", b"jobs", b"\xc1", b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", b"\xdd\xff\xff\xff\xff", b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", msgpack.packb([1, 2]), b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", pack(colour="red"), b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", pack(priority=1000), b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", pack(reply="yes"), b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", pack(scatter=True), b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", msgpack.packb({"reply": True}) + b"\x00", b"x"], b"400"),
            ([b"SEND", b"r", b"jobs", b"", b"x", b"extra", b"frames", b"here"], b"400"),
            ([b"GET", b"r", b"not-a-number"], b"404"),
            ([b"GET", b"r", b"99999999999999999999999"], b"404"),
            ([b"GET", b"r"], b"400"),
            ([b"CALL", b"r", b"", b""], b"400"),
        ]
        for frames, code in bad_producer_requests:
            answer = producer.request(*frames)
            self.assertEqual(answer[0], b"ERROR", frames)
            self.assertEqual(answer[2], code, (frames, answer))
        multi_line = producer.request(b"HEL\nLO", b"r")
        self.assertEqual(multi_line[:3], [b"ERROR", b"r", b"405"])
        self.assertNotIn(b"\n", multi_line[3], "a reason is one line, even when it quotes the client")
        long_req = producer.request(b"PING", b"q" * 300)
        self.assertEqual(long_req[:3], [b"ERROR", b"", b"413"])
        socket = self.socket()
        socket.rcvtimeo = TIMEOUT_MS
        socket.connect(self.zgate.endpoint("queues-workers"))
        bad_worker_messages = [
            ([b"JUMP", b"w"], b"405"),
            ([b"READY"], b"400"),
            ([b"READY", b"w"], b"400"),
            ([b"READY", b"w", pack(prefetch=0)], b"400"),
            ([b"READY", b"w", pack(queues="jobs")], b"400"),
            ([b"READY", b"w", pack(queues=["a", "a"])], b"400"),
            ([b"READY", b"w", pack(queues=["bad name"])], b"400"),
            ([b"READY", b"w", pack(queues=["x" * 300])], b"413"),
            ([b"ACK", b"never-ready", b"1"], b"404"),
            ([b"PING", b"never-ready"], b"404"),
        ]
        for frames, code in bad_worker_messages:
            socket.send_multipart(frames)
            answer = socket.recv_multipart()
            self.assertEqual((answer[0], answer[2]), (b"ERROR", code), (frames, answer))
        worker = self.worker("w", queues=["jobs"])
        for frames, code in [([b"ACK", b"w", b"12345"], b"409"), ([b"ACK", b"w"], b"400"),
                             ([b"FAIL", b"w", b"1"], b"400"), ([b"PING", b"w", b"x"], b"400")]:
            worker.socket.send_multipart(frames)
            answer = worker.socket.recv_multipart()
            self.assertEqual((answer[0], answer[2]), (b"ERROR", code), (frames, answer))
        # nothing changed, and zgate still works
        stats = producer.stats()
        self.assertEqual(stats["tasks"], 0)
        self.assertEqual(list(stats["queues"]), ["jobs"])
        task = producer.send_ok("jobs", b"after all that", reply=True)
        got, _, _ = worker.next()
        worker.send(b"ACK", got, b"fine")
        self.assertEqual(producer.socket.recv_multipart(), [b"REPLY", b"s1", task, b"fine"])
        self.assertTrue(self.zgate.alive())
        self.assertGreaterEqual(self.zgate.stats("queues")["errors"], len(bad_producer_requests))

    def test_random_garbage_leaves_zgate_working(self):
        self.start()
        garbage = [self.socket(), self.socket()]
        garbage[0].connect(self.zgate.endpoint("queues-producers"))
        garbage[1].connect(self.zgate.endpoint("queues-workers"))
        generator = random.Random(1234)
        verbs = [b"SEND", b"CALL", b"GET", b"STATS", b"PING", b"READY", b"ACK", b"NACK", b"FAIL", b"BYE", b"X"]
        samples = [b"", b"1", b"jobs", b"w", b"version/x", b"\x80", b"\x81\xa5reply\xc3", b"\xdf\xff\xff\xff\xff",
                   msgpack.packb({"queues": ["jobs"], "prefetch": 3}), msgpack.packb({"priority": -1}),
                   msgpack.packb([[[[[[]]]]]]), b"\xff" * 40]

        def frame():
            if generator.random() < 0.6:
                return generator.choice(samples)
            return bytes(generator.randrange(256) for _ in range(generator.randrange(12)))
        for _ in range(3000):
            frames = [generator.choice(verbs)] + [frame() for _ in range(generator.randrange(7))]
            generator.choice(garbage).send_multipart(frames)
        # zgate answers garbage with errors; then a fresh producer and worker find it working
        producer = self.producer()
        wait_for(lambda: producer.stats()["errors"] >= 1500, what="the garbage handled")
        self.assertEqual(producer.request(b"PING", b"alive"), [b"OK", b"alive"])
        self.assertTrue(self.zgate.alive())
        worker = self.worker("after", queues=["fresh"])
        task = producer.send_ok("fresh", b"ok", reply=True)
        got, _, _ = worker.next()
        worker.send(b"ACK", got, b"fine")
        self.assertEqual(producer.socket.recv_multipart(), [b"REPLY", b"s1", task, b"fine"])

    # ---- the examples ---------------------------------------------------------------------------------------

    def test_examples_worker_and_cli(self):
        examples = os.path.join(os.environ.get("ZGATE_BUILD_DIR", "build"), "examples", "workqueue")
        self.start()
        producers, workers = self.zgate.endpoint("queues-producers"), self.zgate.endpoint("queues-workers")
        worker = subprocess.Popen([os.path.join(examples, "workqueue_worker"), workers, "example", "2"],
                                  stdout=subprocess.PIPE, text=True)
        self.children.append(worker)
        cli = [os.path.join(os.environ.get("ZGATE_BUILD_DIR", "build"), "tools", "zgate-cli", "zgate-cli"),
               "--queues-producers", producers]

        def run(*args):
            return subprocess.run(cli + list(args), capture_output=True, text=True, timeout=20)
        added = run("send", "fibonacci", "20")
        self.assertEqual(added.returncode, 0, added.stderr)
        task = added.stdout.split()[1]
        wait_for(lambda: "state: done" in run("get", task).stdout, what="fibonacci done")
        self.assertIn("reply: 6765", run("get", task).stdout)
        for kind, text, expected in [("arithmetic", "5 + 12 / 6 - 7 * 9", "-56"),
                                     ("reverse", "héllo", "olléh"), ("encoder", "secret", "$2b$10$")]:
            result = run("request", kind, text)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertTrue(result.stdout.startswith(expected), (kind, result.stdout))
        failed = run("request", "arithmetic", "1 +")
        self.assertEqual(failed.returncode, 1)
        self.assertIn("error 422", failed.stderr)
        self.assertEqual(run("get", "424242").returncode, 1)
        worker.send_signal(signal.SIGTERM)
        self.assertEqual(worker.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
