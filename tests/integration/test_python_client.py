"""The Python client (clients/python/zgate) against a real zgate: topics, a producer and a decorated worker,
room members with automatic acks and pings, and the WebSocket client meeting native clients."""
import asyncio
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python"))
from zgate_harness import Zgate, wait_for  # noqa: E402
from zgate import (History, Member, Producer, Publisher, RoomClient, Subscriber, WebClient, Worker,  # noqa: E402
                   ZgateError)
from zgate.queues import Nack  # noqa: E402


class PythonClientTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zgate = Zgate(rooms_hold=1, rooms_client_timeout=2000, topics_history="pyh.* 3",
                          topics_presence="pyh.news").start()

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.zgate.stop()
        assert code == 0, code

    def endpoint(self, flag):
        return self.zgate.endpoint(flag)

    def test_topics(self):
        subscriber = Subscriber(self.endpoint("topics-subscribers"), prefixes=["py."])
        publisher = Publisher(self.endpoint("topics-publishers"))
        try:
            # the subscription travels asynchronously: publish until the first one arrives
            got = None
            for attempt in range(40):
                publisher.publish("py.news", "hello")
                got = subscriber.recv(timeout=0.1)
                if got:
                    break
            self.assertEqual(got, ("py.news", b"hello"))
            publisher.publish("other.news", b"not for us")
            publisher.publish("py.bin", b"\x00\xff")
            self.assertEqual(subscriber.recv(timeout=5), ("py.bin", b"\x00\xff"))
            self.assertIsNone(subscriber.recv(timeout=0.2))
        finally:
            subscriber.close()
            publisher.close()

    def test_history_last_value_and_presence(self):
        subscriber = Subscriber(self.endpoint("topics-subscribers"), prefixes=["pyh.news"])
        publisher = Publisher(self.endpoint("topics-publishers"))
        history = History(self.endpoint("topics-history-requests"))
        try:
            present = wait_for(lambda: history.presence("pyh.news"), what="the subscriber present")
            self.assertEqual([entry["kind"] for entry in present], ["native"])
            for n in range(1, 6):
                publisher.publish("pyh.news", b"m%d" % n)
            kept = wait_for(lambda: (lambda h: h if h["top"] == 5 else None)(history.since("pyh.news")),
                            what="five messages published")
            self.assertEqual(kept["messages"], [(3, b"m3"), (4, b"m4"), (5, b"m5")])
            self.assertFalse(kept["recovered"])     # 1 and 2 are past the bound of 3
            caught_up = history.since("pyh.news", 3, kept["epoch"])
            self.assertTrue(caught_up["recovered"])
            self.assertEqual(caught_up["messages"], [(4, b"m4"), (5, b"m5")])
            self.assertEqual(history.last("pyh.news")["messages"], [(5, b"m5")])
            live = [subscriber.recv_message(timeout=5) for _ in range(5)]
            self.assertEqual([(m.payload, m.seq, m.epoch) for m in live],
                             [(b"m%d" % n, n, kept["epoch"]) for n in range(1, 6)])
            with self.assertRaises(ZgateError) as unremembered:
                history.since("other.topic")
            self.assertEqual(unremembered.exception.code, 404)
        finally:
            history.close()
            subscriber.close()
            publisher.close()

    def test_producer_and_decorated_worker(self):
        producer = Producer(self.endpoint("queues-producers"))
        worker = Worker(self.endpoint("queues-workers"), prefetch=2)
        seen = []

        @worker.task("py-jobs")
        def upper(task):
            seen.append((task.name, task.attempt))
            if task.data == b"boom":
                raise ValueError("no boom today")
            if task.data == b"again" and task.attempt == 1:
                raise Nack()
            return task.data.upper()

        @worker.command("py-version")
        def version(task):
            return {"version": 1, "params": task.data.decode()}

        with self.assertRaises(ValueError):
            worker.task("py-jobs")(upper)
        worker.start()
        thread = threading.Thread(target=worker.run, kwargs={"timeout": 20})
        thread.start()
        try:
            task_id = producer.send("py-jobs", "queued", priority=2)
            self.assertEqual(producer.request("py-jobs", "hello"), b"HELLO")
            self.assertEqual(producer.request("py-jobs", "again"), b"AGAIN")
            with self.assertRaises(ZgateError) as failed:
                producer.request("py-jobs", "boom")
            self.assertEqual(failed.exception.code, 422)
            self.assertIn("no boom today", failed.exception.reason)
            self.assertEqual(producer.call("py-version/x"), b'{"version":1,"params":"x"}')
            self.assertEqual(producer.scatter("py-version/y"), [b'{"version":1,"params":"y"}'])
            task = wait_for(lambda: (lambda t: t if t["state"] == "done" else None)(producer.get(task_id)),
                            what="the queued task done")
            self.assertEqual((task["queue"], task["priority"], task["reply"]), ("py-jobs", 2, b"QUEUED"))
            self.assertIn(("py-jobs", 2), seen)           # the nacked task came back as attempt 2
            stats = producer.stats()
            self.assertGreaterEqual(stats["queues"]["py-jobs"]["done"], 3)
            with self.assertRaises(ZgateError) as missing:
                producer.get("999999")
            self.assertEqual(missing.exception.code, 404)
            with self.assertRaises(ZgateError) as bad:
                producer.send("bad name", "x")
            self.assertEqual(bad.exception.code, 400)
            with self.assertRaises(ZgateError) as late:
                producer.request("py-nobody", "x", timeout=0.3)
            self.assertEqual(late.exception.code, 408)
        finally:
            worker.stop()
            thread.join()
            worker.close()
            producer.close()

    def test_take_finish_retry(self):
        producer = Producer(self.endpoint("queues-producers"))
        try:
            self.assertIsNone(producer.take(["py-pull"]))
            first = producer.send("py-pull", "one")
            second = producer.send("py-pull", "two", priority=5)
            task = producer.take(["py-pull"], ack_timeout=5000)
            self.assertEqual((task.id, task.name, task.attempt, task.data), (second, "py-pull", 1, b"two"))
            producer.finish(task.id, {"done": True})
            self.assertEqual(producer.get(second)["reply"], b'{"done":true}')
            task = producer.take(["py-pull"])
            self.assertEqual((task.id, task.data), (first, b"one"))
            producer.retry(task.id)
            task = producer.take(["py-pull"])
            self.assertEqual((task.id, task.attempt), (first, 2))
            producer.finish(task.id)
            self.assertEqual(producer.get(first)["state"], "done")
            with self.assertRaises(ZgateError) as twice:
                producer.finish(first)
            self.assertEqual(twice.exception.code, 409)
            with self.assertRaises(ZgateError) as unknown:
                producer.retry("999999")
            self.assertEqual(unknown.exception.code, 404)
        finally:
            producer.close()

    def test_watcher_hears_removals(self):
        watcher = Member(self.endpoint("rooms-clients"))
        leaver, closer = (Member(self.endpoint("rooms-clients")) for _ in range(2))
        removed = []
        watcher.on_removed = lambda room, client, reason: removed.append((room, client, reason))
        try:
            watcher.watch()
            leaver.join("py-watched", lambda message: None)
            closer.join("py-watched", lambda message: None)
            leaver.leave("py-watched")
            closer.close()
            wait_for(lambda: watcher.poll(0.1) is not None and len(removed) == 2, what="two removals")
            self.assertEqual(removed, [("py-watched", leaver.client.decode(), "leave"),
                                       ("py-watched", closer.client.decode(), "bye")])
            watcher.watch(False)
            leaver.join("py-watched", lambda message: None)
            leaver.leave("py-watched")
            watcher.poll(0.3)
            self.assertEqual(len(removed), 2)
        finally:
            leaver.close()
            watcher.close()

    def test_room_members_ack_and_ping(self):
        client = RoomClient(self.endpoint("rooms-clients"))
        fast, slow = (Member(self.endpoint("rooms-clients"), ping_interval=0.5) for _ in range(2))
        observer = Member(self.endpoint("rooms-clients"), ping_interval=0.5)
        got = {"fast": [], "slow": [], "observer": []}
        try:
            fast.join("py-room", lambda message: got["fast"].append(message.data))
            slow.join("py-room", lambda message: got["slow"].append(message.data))
            observer.join("py-room", lambda message: got["observer"].append((message.data, message.oob)),
                          observer=True)
            first = client.send("py-room", "one")
            self.assertGreater(client.send("py-room", "two"), first)
            # lockstep: the second message waits until both sync members acked the first
            fast.run(count=1, timeout=5)
            self.assertEqual(got["fast"], [b"one"])
            self.assertEqual(client.state("py-room")["in_flight"]["waiting"], 1)
            self.assertEqual(client.peek("py-room")["backlog"], 1)
            slow.run(count=1, timeout=5)
            fast.run(count=1, timeout=5)
            slow.run(count=1, timeout=5)
            self.assertEqual((got["fast"], got["slow"]), ([b"one", b"two"], [b"one", b"two"]))
            self.assertEqual(client.oob("py-room", "now"), 3)
            observer.run(count=3, timeout=5)
            self.assertEqual(got["observer"], [(b"one", False), (b"two", False), (b"now", True)])
            # members that keep polling stay alive past rooms/client-timeout (2 s): they ping
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                for member in (fast, slow, observer):
                    member.poll(0.1)
            self.assertEqual(len(client.state("py-room")["members"]), 3)
            self.assertGreaterEqual(client.metrics()["rooms"], 1)
            with self.assertRaises(ZgateError) as bad:
                client.send("", "x")
            self.assertEqual(bad.exception.code, 400)
        finally:
            for member in (fast, slow, observer):
                member.close()
            client.close()

    def test_web_client_meets_native_clients(self):
        url = f"ws://127.0.0.1:{self.endpoint('gateway-http-port')}/ws"
        subscriber = Subscriber(self.endpoint("topics-subscribers"), prefixes=["pyweb."])
        worker = Worker(self.endpoint("queues-workers"))
        worker.task("py-web-jobs")(lambda task: b"native:" + task.data)
        worker.start()
        thread = threading.Thread(target=worker.run, kwargs={"count": 1, "timeout": 20})
        thread.start()
        producer = Producer(self.endpoint("queues-producers"))
        client = RoomClient(self.endpoint("rooms-clients"))

        async def scenario():
            async with WebClient(url) as web:
                messages = []
                await web.subscribe("pyweb.*", lambda topic, data: messages.append((topic, data)))
                await web.publish("pyweb.a", {"t": 21})
                await wait_async(lambda: messages, "the web subscriber's message")
                self.assertEqual(messages, [("pyweb.a", {"t": 21})])
                self.assertEqual(subscriber.recv(timeout=5), ("pyweb.a", b'{"t":21}'))
                # a native worker answers a web request
                self.assertEqual(await web.request("py-web-jobs", "hi"), "native:hi")
                # a web consumer answers a native request; an exception fails the task
                await web.consume("py-web-tasks", lambda task: {"echo": task["data"]}
                                  if task["data"] != "boom" else 1 / 0)
                reply = await asyncio.to_thread(producer.request, "py-web-tasks", "x")
                self.assertEqual(reply, b'{"echo":"x"}')
                with self.assertRaises(ZgateError) as failed:
                    await asyncio.to_thread(producer.request, "py-web-tasks", "boom")
                self.assertEqual(failed.exception.code, 422)
                task_id = await web.send("py-web-tasks", "later")
                await wait_async(lambda: asyncio.to_thread(producer.get, task_id), "the task",
                                 check=lambda task: task["state"] == "done")
                # a web room member is acked automatically
                room = []
                await web.join("py-web-room", lambda message: room.append(message["data"]))
                seq = await web.send_room("py-web-room", "m1")
                await wait_async(lambda: room, "the room message")
                self.assertEqual(room, ["m1"])
                state = await web.state("py-web-room")
                self.assertEqual((state["backlog"], state["in_flight"]), (0, None))
                self.assertGreater(await asyncio.to_thread(client.send, "py-web-room", "m2"), seq)
                await wait_async(lambda: len(room) == 2, "the native message")
                with self.assertRaises(ZgateError) as bad:
                    await web.publish("", "x")
                self.assertEqual(bad.exception.code, 400)

        try:
            asyncio.run(scenario())
        finally:
            thread.join()
            worker.close()
            subscriber.close()
            producer.close()
            client.close()


async def wait_async(probe, what, check=bool, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if check(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
