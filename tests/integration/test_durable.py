"""Durable queues (queues/data-dir) through real zgate processes killed with SIGKILL (docs/PROTOCOL.md, 2.8).

ZGATE_CRASH_KILLS sets the crash loop's kills (10 by default; CTest's `long` label runs it with 100).
ZGATE_DATA_STORE picks the store (queues/data-store): unset, zgate's default (no flag, so these tests follow
the default, lmdb); CTest runs the file again with "log".
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import ZGATE_BIN, Zgate, wait_for  # noqa: E402

PYTHON = "/usr/bin/python3"
CRASH_KILLS = int(os.environ.get("ZGATE_CRASH_KILLS", "10"))
# The store flag given to every zgate (None: none, the default), and the store's kind
STORE_FLAG = os.environ.get("ZGATE_DATA_STORE") or None
STORE = STORE_FLAG or re.search(r"^  --queues-data-store .*\[(\w+)\]$",
                                subprocess.run([ZGATE_BIN, "--help"], capture_output=True, text=True).stdout,
                                re.M).group(1)
# The file that holds each store's tasks in the data-dir
STORE_FILE_OF = {"log": "tasks.log", "lmdb": "data.mdb"}
STORE_FILE = STORE_FILE_OF[STORE]

# A producer process: sends 100-byte tasks "<name>-<n>" one at a time to queue "jobs" and prints each one
# that got OK. When zgate dies the answer never comes: it drops the socket and goes on with a new one.
PRODUCER = r"""
import sys, zmq
name, endpoint = sys.argv[1], sys.argv[2]
context = zmq.Context()
socket, sequence = None, 0
while True:
    if socket is None:
        socket = context.socket(zmq.DEALER)
        socket.linger = 0
        socket.rcvtimeo = 1000
        socket.connect(endpoint)
    sequence += 1
    payload = ("%s-%d" % (name, sequence)).encode().ljust(100, b".")
    socket.send_multipart([b"SEND", b"r%d" % sequence, b"jobs", b"", payload])
    try:
        answer = socket.recv_multipart()
    except zmq.Again:
        socket.close()
        socket = None
        continue
    if answer[0] == b"OK" and answer[1] == b"r%d" % sequence:
        print(payload.rstrip(b".").decode(), flush=True)
"""

# A worker process: READY on "jobs" with prefetch 20, prints each delivered payload and ACKs it at once,
# PINGs when idle, and sends READY again when zgate (restarted) does not know it (ERROR 404).
WORKER = r"""
import sys, time, zmq, msgpack
name, endpoint = sys.argv[1].encode(), sys.argv[2]
socket = zmq.Context().socket(zmq.DEALER)
socket.linger = 0
socket.connect(endpoint)
ready = [b"READY", name, msgpack.packb({"queues": ["jobs"], "prefetch": 20})]
socket.send_multipart(ready)
last = time.monotonic()
while True:
    if socket.poll(200):
        frames = socket.recv_multipart()
        if frames[0] == b"DELIVER":
            print(frames[4].rstrip(b".").decode(), flush=True)
            socket.send_multipart([b"ACK", name, frames[2]])
        elif frames[0] == b"ERROR" and frames[2] == b"404":
            socket.send_multipart(ready)
    if time.monotonic() - last > 0.3:
        socket.send_multipart([b"PING", name])
        last = time.monotonic()
"""


def spawn(script, *args):
    """A helper process printing to a file of its own: a pipe that nobody reads before the end fills up
    (64 KiB, some 7,000 task names) and blocks the process in print."""
    output = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([PYTHON, "-u", "-c", script] + list(args), stdout=output, text=True)
    process.output = output
    return process


def finish(process):
    """Stop a helper process and return the lines it printed."""
    process.kill()
    process.wait(timeout=10)
    process.output.seek(0)
    lines = process.output.read().split()
    process.output.close()
    return lines


class Client:
    """A producer or worker DEALER on one zgate."""

    def __init__(self, context, endpoint):
        self.socket = context.socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.rcvtimeo = 5000
        self.socket.connect(endpoint)

    def request(self, *frames):
        self.socket.send_multipart(list(frames))
        return self.socket.recv_multipart()

    def close(self):
        self.socket.close()


class DurableTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="zg_durable_")
        self.context = zmq.Context()
        self.zgate = None

    def tearDown(self):
        if self.zgate:
            self.zgate.process.kill()
            self.zgate.process.wait(timeout=10)
        self.context.destroy(linger=0)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, **overrides):
        """Start zgate on self.dir, on the ports (and with the flags) of the previous one if any, but for
        the flags given here."""
        overrides.setdefault("queues_data_dir", self.dir)
        if STORE_FLAG:
            overrides.setdefault("queues_data_store", STORE_FLAG)
        previous = self.zgate
        self.zgate = Zgate(**overrides)
        if previous:
            self.zgate.flags = {**previous.flags, **self.zgate.overrides}
        return self.zgate.start()

    def crash(self):
        self.zgate.process.send_signal(signal.SIGKILL)
        self.zgate.process.wait(timeout=10)

    def producer(self):
        return Client(self.context, self.zgate.endpoint("queues-producers"))

    def worker(self, name, prefetch):
        worker = Client(self.context, self.zgate.endpoint("queues-workers"))
        answer = worker.request(b"READY", name, msgpack.packb({"queues": ["jobs"], "prefetch": prefetch}))
        self.assertEqual(answer[0], b"OK", answer)
        return worker

    def get(self, producer, task_id):
        answer = producer.request(b"GET", b"g", task_id)
        return msgpack.unpackb(answer[2]) if answer[0] == b"OK" else answer

    def test_lock(self):
        """A second zgate on the same data-dir: one clear line and exit 2."""
        self.start()
        other = Zgate(queues_data_dir=self.dir, queues_data_store=STORE)
        result = subprocess.run(other.command(), capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("queues/data-dir", lines[0])
        self.assertIn("in use by another zgate", lines[0])
        # A data-dir that cannot be a directory: one line, exit 2 as well
        not_a_dir = os.path.join(self.dir, "zgate.lock")
        result = subprocess.run(Zgate(queues_data_dir=not_a_dir).command(), capture_output=True, text=True,
                                timeout=20)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("queues/data-dir", result.stderr)
        # A data-dir that holds the other kind of store: its tasks would look lost, so one line and exit 2
        other_dir = tempfile.mkdtemp(prefix="zg_durable_other_")
        try:
            other_file = STORE_FILE_OF["lmdb" if STORE == "log" else "log"]
            open(os.path.join(other_dir, other_file), "wb").close()
            result = subprocess.run(Zgate(queues_data_dir=other_dir, queues_data_store=STORE).command(),
                                    capture_output=True, text=True, timeout=20)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn(f"holds a store of the other kind ({other_file})", result.stderr)
        finally:
            shutil.rmtree(other_dir, ignore_errors=True)

    def test_restart(self):
        """Order and priority, tasks in flight, results and a late ACK after kill -9."""
        self.start()
        producer = self.producer()
        ids = {}
        for name, priority in [("a", 0), ("b", 0), ("c", 5), ("d", 0), ("e", 5), ("f", 9)]:
            answer = producer.request(b"SEND", name.encode(), b"jobs", msgpack.packb({"priority": priority}),
                                      name.encode())
            self.assertEqual(answer[0], b"OK", answer)
            ids[name] = answer[2]
        worker = self.worker(b"w1", 2)
        first = [worker.socket.recv_multipart() for _ in range(2)]
        self.assertEqual([frames[4] for frames in first], [b"f", b"c"])
        # The ACK's credit brings e: zgate sends it only once the ACK is on disk
        self.assertEqual(worker.request(b"ACK", b"w1", ids["f"], b"reply-f")[4], b"e")
        self.crash()
        self.start()
        producer.close()
        producer = self.producer()
        done = self.get(producer, ids["f"])
        self.assertEqual((done["state"], done["reply"]), ("done", b"reply-f"))
        held = self.get(producer, ids["c"])
        self.assertEqual((held["state"], held["attempt"]), ("waiting", 1))
        # A late ACK of a delivery made before the crash: zgate does not know the worker any more
        late = worker.request(b"ACK", b"w1", ids["c"])
        self.assertEqual(late[:3], [b"ERROR", b"w1", b"404"], late)
        worker.close()
        # The tasks in flight at the crash first (c, then e, delivered after f's ACK), then by priority
        # and order
        worker = self.worker(b"w2", 10)
        order = [worker.socket.recv_multipart()[4] for _ in range(5)]
        self.assertEqual(order, [b"c", b"e", b"a", b"b", b"d"])
        self.assertEqual(self.get(producer, ids["c"])["attempt"], 2)
        # Ids go on above every id issued before the crash
        answer = producer.request(b"SEND", b"g", b"jobs", b"", b"g")
        self.assertGreater(int(answer[2]), int(ids["f"]))
        producer.close()
        worker.close()

    def test_torn_tail(self):
        """Garbage after the last complete transaction (a torn write) loses nothing committed."""
        self.start()
        producer = self.producer()
        sent = [producer.request(b"SEND", b"r", b"jobs", b"", b"t%d" % n)[2] for n in range(50)]
        producer.close()
        self.crash()
        with open(os.path.join(self.dir, STORE_FILE), "ab") as data:
            data.write(os.urandom(6000))
        self.start()
        producer = self.producer()
        for task_id in sent:
            self.assertEqual(self.get(producer, task_id)["state"], "waiting")
        producer.close()

    def test_kept_across_restart(self):
        """A finished task's input (queues/keep-input) and a task sent until-read survive a restart."""
        self.start(queues_keep_input=1)
        producer = self.producer()
        kept = producer.request(b"SEND", b"r1", b"jobs", b"", b"input-1")[2]
        once = producer.request(b"SEND", b"r2", b"jobs", msgpack.packb({"until-read": True, "reply": True}),
                                b"input-2")[2]
        worker = self.worker(b"w", 10)
        for _ in range(2):
            frames = worker.socket.recv_multipart()
            worker.socket.send_multipart([b"ACK", b"w", frames[2], b"reply-" + frames[4][-1:]])
        # The second reply comes once both are done (acks in order), and on disk
        self.assertEqual(producer.socket.recv_multipart()[:2], [b"REPLY", b"r2"])
        producer.close()
        worker.close()
        self.crash()
        self.start()
        producer = self.producer()
        task = self.get(producer, kept)
        self.assertEqual((task["state"], task["input"], task["reply"]), ("done", b"input-1", b"reply-1"))
        # Read once after the restart too: then forgotten
        self.assertEqual(self.get(producer, once)["reply"], b"reply-2")
        self.assertEqual(self.get(producer, once)[2], b"404")
        producer.close()

    @unittest.skipUnless(STORE == "log", "the log store's own checksums")
    def test_damaged_middle(self):
        """Committed bytes damaged in the middle of the log: zgate refuses to start (one line, exit 2) rather
        than drop the later commits; with queues/data-repair it skips the damage and keeps the rest."""
        self.start()
        producer = self.producer()
        sent = [producer.request(b"SEND", b"r", b"jobs", b"", b"t%d" % n)[2] for n in range(5)]
        producer.close()
        self.crash()
        path = os.path.join(self.dir, STORE_FILE)
        with open(path, "r+b") as data:
            # The file's header (8 bytes), then the first task's transaction: size, CRC, synced (16 bytes)
            data.seek(8 + 16 + 20)
            byte = data.read(1)
            data.seek(8 + 16 + 20)
            data.write(bytes([byte[0] ^ 0xFF]))
        result = subprocess.run(Zgate(queues_data_dir=self.dir, queues_data_store=STORE).command(),
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("damaged transaction at byte 8", lines[0])
        self.assertIn("queues/data-repair", lines[0])
        self.start(queues_data_repair=1)
        producer = self.producer()
        self.assertEqual(self.get(producer, sent[0])[2], b"404")
        for task_id in sent[1:]:
            self.assertEqual(self.get(producer, task_id)["state"], "waiting")
        producer.close()
        # The file was rewritten without the damage: the next start needs no repair
        self.crash()
        self.start(queues_data_repair=0)
        producer = self.producer()
        self.assertEqual([self.get(producer, task_id)["state"] for task_id in sent[1:]], ["waiting"] * 4)
        producer.close()

    def test_store_full(self):
        """Past 7/8 of data-max-size a SEND gets 507; every task answered OK is still delivered."""
        self.start(queues_data_max_size=262144)
        accepted = self.fill()
        self.drain(accepted)

    @unittest.skipUnless(os.geteuid() == 0, "needs root for a tmpfs in a private mount namespace")
    def test_disk_full(self):
        """A full disk (a 1 MB tmpfs in a mount namespace of its own) answers 507 and loses nothing."""
        if os.environ.get("ZG_DISK_FULL_INNER"):
            self.disk_full_inner()
            return
        env = dict(os.environ, ZG_DISK_FULL_INNER="1")
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", PYTHON, "-u",
                                 os.path.abspath(__file__), "DurableTest.test_disk_full"],
                                env=env, capture_output=True, text=True, timeout=240)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def disk_full_inner(self):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "zgate-test", self.dir], check=True)
        try:
            self.start()
            accepted = self.fill()
            # Nothing answered OK is lost, even across a kill -9 on the full disk
            self.crash()
            self.start()
            producer = self.producer()
            for task_id in accepted:
                self.assertEqual(self.get(producer, task_id)["state"], "waiting")
            producer.close()
            # With room again, every accepted task is delivered
            subprocess.run(["mount", "-o", "remount,size=64m", self.dir], check=True)
            self.drain(accepted)
        finally:
            self.zgate.process.kill()
            self.zgate.process.wait(timeout=10)
            self.zgate = None
            subprocess.run(["umount", self.dir])

    def fill(self):
        """SEND 4 kB tasks until 20 got ERROR 507; returns the ids answered OK."""
        producer = self.producer()
        accepted, refused = [], 0
        payload = b"x" * 4000
        for n in range(5000):
            answer = producer.request(b"SEND", b"r%d" % n, b"jobs", b"", payload)
            if answer[0] == b"OK":
                accepted.append(answer[2])
            else:
                self.assertEqual(answer[2], b"507", answer)
                refused += 1
                if refused == 20:
                    break
        producer.close()
        self.assertEqual(refused, 20)
        self.assertGreater(len(accepted), 10)
        print(f"store full after {len(accepted)} tasks answered OK", flush=True)
        return accepted

    def drain(self, accepted):
        """A worker takes and acks every accepted task; then there is room for a new one."""
        worker = self.worker(b"w", 50)
        delivered = set()
        while len(delivered) < len(accepted):
            if not worker.socket.poll(300):
                worker.socket.send_multipart([b"PING", b"w"])
                continue
            frames = worker.socket.recv_multipart()
            if frames[0] == b"ERROR" and frames[2] == b"404":
                # A lost pass rebuilt zgate's tasks from the store, and forgot its workers
                worker.socket.send_multipart([b"READY", b"w", msgpack.packb({"queues": ["jobs"], "prefetch": 50})])
            elif frames[0] == b"DELIVER":
                delivered.add(frames[2])
                worker.socket.send_multipart([b"ACK", b"w", frames[2]])
        self.assertEqual(delivered, set(accepted))
        worker.close()
        producer = self.producer()
        wait_for(lambda: producer.request(b"SEND", b"again", b"jobs", b"", b"small")[0] == b"OK", timeout=10,
                 what="room again after the acks")
        producer.close()

    def test_crash_loop(self):
        """Producers and workers run while zgate is killed -9 and restarted CRASH_KILLS times."""
        self.start()
        endpoints = (self.zgate.endpoint("queues-producers"), self.zgate.endpoint("queues-workers"))
        producers = [spawn(PRODUCER, "p%d" % n, endpoints[0]) for n in range(2)]
        workers = [spawn(WORKER, "w%d" % n, endpoints[1]) for n in range(2)]
        rng = random.Random(int(os.environ.get("ZGATE_CRASH_SEED", "12")))
        for kill in range(CRASH_KILLS):
            time.sleep(rng.uniform(0.05, 0.8))
            self.crash()
            self.start()
        time.sleep(0.5)
        oked = set()
        for process in producers:
            oked.update(finish(process))
        # Every task answered OK is acked: the queue drains to nothing waiting or in progress
        producer = self.producer()

        def drained():
            stats = msgpack.unpackb(producer.request(b"STATS", b"s")[2])
            jobs = stats["queues"].get("jobs", {})
            return jobs.get("waiting", 0) == 0 and jobs.get("in_progress", 0) == 0
        wait_for(drained, timeout=60, interval=0.2, what="the queue to drain")
        seen = []
        for process in workers:
            seen += finish(process)
        producer.close()
        lost = oked - set(seen)
        duplicates = len(seen) - len(set(seen))
        print(f"crash loop: {CRASH_KILLS} kills, {len(oked)} tasks answered OK, {len(set(seen))} delivered, "
              f"{duplicates} delivered again after a kill, {len(lost)} lost", flush=True)
        self.assertGreater(len(oked), CRASH_KILLS)
        self.assertEqual(lost, set())
        # Only tasks in flight at a kill are delivered again: at most prefetch x workers per kill
        self.assertLessEqual(duplicates, CRASH_KILLS * 2 * 20)


if __name__ == "__main__":
    unittest.main()
