"""Queues across nodes (cluster/redis): producers on node 1, workers on nodes 2 and 3, one queue in Redis.
Its own redis-server (AOF, appendfsync always) on a free port and three zgate nodes; a fourth node is started
to be killed. Every wait is bounded and every process is stopped at the end, even on failure."""
import os
import shutil
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402
from gateway_client import Ws, http, run  # noqa: E402
from redis_harness import RedisServer  # noqa: E402
from test_queues_v2 import acks, records  # noqa: E402

WORKER_TIMEOUT = 1000           # ms: also the lease of a node's tasks in Redis
MAX_PENDING = 500


class Worker:
    """A native worker: READY on one queue, ACKs (or holds) what it gets, PINGs to stay alive; version 2 takes
    DELIVERS batches and answers each with one ACKS (docs/PROTOCOL.md 2.9)."""

    def __init__(self, context, node, queue, prefetch=10, name=b"w", ack=True, version=1):
        self.socket = context.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.connect(node.endpoint("queues-workers"))
        self.name, self.ack, self.queue, self.prefetch, self.version = name, ack, queue, prefetch, version
        self.got = []                       # (id, attempt, payload) in delivery order
        self.ready_ok = False               # its READY was answered
        self.last_ping = 0
        self.ready()

    def ready(self):
        options = {"queues": [self.queue], "prefetch": self.prefetch}
        if self.version == 2:
            options["version"] = 2
        self.socket.send_multipart([b"READY", self.name, msgpack.packb(options)])

    def pump(self):
        """Take what has arrived; answer it."""
        now = time.monotonic()
        if now - self.last_ping > 0.2:
            self.socket.send_multipart([b"PING", self.name])
            self.last_ping = now
        while self.socket.poll(0):
            frames = self.socket.recv_multipart()
            if frames[0] == b"DELIVER":
                task_id, meta, payload = frames[2], msgpack.unpackb(frames[3]), frames[4]
                self.got.append((task_id, meta["attempt"], payload))
                if self.ack:
                    self.socket.send_multipart([b"ACK", self.name, task_id, payload.upper()])
            elif frames[0] == b"DELIVERS":
                batch = records(frames[2])
                self.got.extend((b"%d" % task, meta["attempt"], payload) for task, meta, payload in batch)
                if self.ack:
                    self.socket.send_multipart([b"ACKS", self.name,
                                                acks(*((task, payload.upper()) for task, _, payload in batch))])
            elif frames[0] == b"OK" and len(frames) == 3:
                self.ready_ok = True
            elif frames[0] == b"ERROR" and frames[2] == b"404":
                self.ready()


@unittest.skipUnless(shutil.which("redis-server"), "no redis-server on PATH (Debian's redis-server package)")
class QueuesAcrossNodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="zg-cluster-queues-")
        cls.redis = RedisServer(aof_dir=cls.directory).start()
        cls.nodes = []
        try:
            for _ in range(3):
                cls.nodes.append(cls.node().start())
            for node in cls.nodes:
                cls.wait_ready(node)
        except Exception:
            cls.tearDownClass()
            raise
        cls.context = zmq.Context()
        cls.context.linger = 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "context"):
            cls.context.destroy(linger=0)
        codes = [node.stop()[0] for node in cls.nodes]
        cls.redis.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)
        assert codes == [0] * len(codes), codes

    @classmethod
    def node(cls):
        return Zgate(cluster_redis=cls.redis.address, cluster_timeout=1000, cluster_reconnect_max=200,
                     queues_worker_timeout=WORKER_TIMEOUT, queues_heartbeat_interval=300,
                     queues_max_pending=MAX_PENDING)

    @staticmethod
    def wait_ready(node, status=204):
        wait_for(lambda: http(int(node.endpoint("gateway-http-port")), "GET", "/ready")[0] == status,
                 timeout=15, what=f"/ready {status}")

    def setUp(self):
        self.sockets = []
        self.workers = []

    def tearDown(self):
        for sock in self.sockets + [worker.socket for worker in self.workers]:
            sock.close()

    def producer(self, node):
        sock = self.context.socket(zmq.DEALER)
        sock.linger = 0
        sock.rcvtimeo = 5000
        sock.connect(node.endpoint("queues-producers"))
        self.sockets.append(sock)
        return sock

    def worker(self, node, queue, **options):
        worker = Worker(self.context, node, queue, **options)
        self.workers.append(worker)
        return worker

    def send(self, producer, queue, payloads, options=None, req_prefix=b"r"):
        """SEND each payload; returns the ids OK'd, in order (every SEND must be OK'd)."""
        packed = msgpack.packb(options or {})
        for index, payload in enumerate(payloads):
            producer.send_multipart([b"SEND", req_prefix + b"%d" % index, queue, packed, payload])
        ids = []
        for _ in payloads:
            frames = producer.recv_multipart()
            self.assertEqual(frames[0], b"OK", frames)
            ids.append(frames[2])
        return ids

    def run_until(self, predicate, producer=None, answers=None, timeout=20):
        """Pump the workers (and collect the producer's answers) until predicate() or the timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, "timed out")
            for worker in self.workers:
                worker.pump()
            if producer is not None:
                while producer.poll(0):
                    answers.append(producer.recv_multipart())
            time.sleep(0.002)

    def test_producers_on_one_node_workers_on_two_others(self):
        one, two, three = self.nodes
        producer = self.producer(one)
        workers = [self.worker(two, b"jobs", name=b"w2"), self.worker(three, b"jobs", name=b"w3", version=2)]
        self.run_until(lambda: all(worker.ready_ok for worker in workers))
        count = 300
        payloads = [b"task-%d" % n for n in range(count)]
        ids = self.send(producer, b"jobs", payloads, {"reply": True, "timeout": 0})
        self.assertEqual(len(set(ids)), count)
        answers = []
        self.run_until(lambda: len(answers) == count, producer, answers)
        # every task acked exactly once, each reply to its request
        acked = [entry[0] for worker in workers for entry in worker.got]
        self.assertEqual(sorted(acked), sorted(ids))
        self.assertTrue(all(worker.got for worker in workers), "both nodes' workers had tasks")
        by_id = dict(zip(ids, payloads))
        for verb, req, task_id, reply in answers:
            self.assertEqual(verb, b"REPLY")
            self.assertEqual(reply, by_id[task_id].upper())
            self.assertEqual(req, b"r%d" % ids.index(task_id))
        self.assertEqual(producer.poll(300), 0)

    def test_web_sessions_consume_and_send_across_nodes(self):
        """A web consumer on node 2 serves a native producer on node 1 and a web producer on node 3."""
        one, two, three = self.nodes
        producer = self.producer(one)

        async def scenario():
            consumer = await Ws.open(int(two.endpoint("gateway-http-port")))
            sender = await Ws.open(int(three.endpoint("gateway-http-port")))
            self.assertEqual(await consumer.request({"op": "consume", "queue": "webq", "prefetch": 2, "req": 1}),
                             {"op": "ok", "req": 1})
            [native_id] = self.send(producer, b"webq", [b"from-native"], {"reply": True})
            accepted = await sender.request({"op": "send", "queue": "webq", "data": {"from": "web"},
                                             "reply": True, "req": "s"})
            self.assertEqual((accepted["op"], accepted["req"]), ("accepted", "s"))
            tasks = [await consumer.next_push("task") for _ in range(2)]
            self.assertEqual(sorted(task["id"] for task in tasks), sorted([native_id.decode(), accepted["id"]]))
            for task in tasks:
                self.assertEqual((task["queue"], task["attempt"]), ("webq", 1))
                self.assertEqual(await consumer.request({"op": "ack", "id": task["id"], "data": {"done": task["data"]},
                                                         "req": "a" + task["id"]}),
                                 {"op": "ok", "req": "a" + task["id"]})
            self.assertEqual(await sender.next_push("reply"),
                             {"op": "reply", "req": "s", "id": accepted["id"], "data": {"done": {"from": "web"}}})
            self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r0", native_id, b'{"done":"from-native"}'])
            for web in (consumer, sender):
                await web.close()
        run(scenario())

    def test_priority_then_fifo(self):
        one, two, _ = self.nodes
        producer = self.producer(one)
        priorities = [0, 5, 0, 9, 5, 0]
        for index, priority in enumerate(priorities):
            self.send(producer, b"prio", [b"%d-%d" % (priority, index)], {"priority": priority},
                      req_prefix=b"p%d-" % index)
        worker = self.worker(two, b"prio", prefetch=1)
        self.run_until(lambda: len(worker.got) == len(priorities))
        self.assertEqual([payload for _, _, payload in worker.got],
                         [b"9-3", b"5-1", b"5-4", b"0-0", b"0-2", b"0-5"])

    def test_get_from_another_node_and_limits(self):
        one, two, three = self.nodes
        producer = self.producer(one)
        worker = self.worker(two, b"got", name=b"g")
        [task_id] = self.send(producer, b"got", [b"abc"], {"reply": True})
        answers = []
        self.run_until(lambda: answers, producer, answers)
        self.assertEqual(answers[0], [b"REPLY", b"r0", task_id, b"ABC"])
        reader = self.producer(three)
        reader.send_multipart([b"GET", b"g1", task_id])
        verb, req, packed = reader.recv_multipart()
        task = msgpack.unpackb(packed)
        self.assertEqual((verb, task["id"], task["queue"], task["state"], task["attempt"], task["reply"]),
                         (b"OK", task_id.decode(), "got", "done", 1, b"ABC"))
        reader.send_multipart([b"GET", b"g2", b"99999999"])
        self.assertEqual(reader.recv_multipart()[:3], [b"ERROR", b"g2", b"404"])
        self.assertEqual(len(worker.got), 1)
        # max-pending holds across nodes: the queue's waiting tasks in Redis
        self.send(producer, b"full", [b"x"] * MAX_PENDING)
        other = self.producer(two)
        other.send_multipart([b"SEND", b"f", b"full", b"", b"one too many"])
        self.assertEqual(other.recv_multipart()[:3], [b"ERROR", b"f", b"429"])

    def test_a_worker_node_killed_under_load_loses_no_task(self):
        one, _, three = self.nodes
        victim = self.node().start()
        try:
            self.wait_ready(victim)
            producer = self.producer(one)
            # the victim's worker holds what it gets and never answers; the survivor's acks
            holder = self.worker(victim, b"crash", prefetch=50, name=b"holder", ack=False, version=2)
            count = 200
            ids = self.send(producer, b"crash", [b"c%d" % n for n in range(count)], {"reply": True, "timeout": 0})
            self.run_until(lambda: len(holder.got) == 50)
            survivor = self.worker(three, b"crash", prefetch=20, name=b"survivor")
            answers = []
            self.run_until(lambda: len(survivor.got) >= 20, producer, answers)
            victim.process.kill()
            victim.process.wait(timeout=10)
            self.workers.remove(holder)
            holder.socket.close()
            self.run_until(lambda: len(answers) == count, producer, answers, timeout=30)
            self.assertEqual(sorted(answer[2] for answer in answers), sorted(ids))
            self.assertTrue(all(answer[0] == b"REPLY" for answer in answers))
            # the victim's tasks came back with their next attempt
            redelivered = {entry[0] for entry in survivor.got if entry[1] == 2}
            self.assertEqual(redelivered, {entry[0] for entry in holder.got})
        finally:
            victim.stop()

    def test_redis_restart_with_aof_loses_no_task(self):
        one, two, _ = self.nodes
        producer = self.producer(one)
        ids = self.send(producer, b"aof", [b"a%d" % n for n in range(50)])
        self.redis.stop()
        for node in self.nodes:
            self.wait_ready(node, 503)
        # while Redis is away a task is refused, never OK'd
        producer.send_multipart([b"SEND", b"away", b"aof", b"", b"lost"])
        self.assertEqual(producer.recv_multipart()[:3], [b"ERROR", b"away", b"507"])
        self.redis.start()
        for node in self.nodes:
            self.wait_ready(node)
        worker = self.worker(two, b"aof", prefetch=10)
        self.run_until(lambda: len(worker.got) == len(ids))
        self.assertEqual([entry[0] for entry in worker.got], ids)


if __name__ == "__main__":
    unittest.main()
