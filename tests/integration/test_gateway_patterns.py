"""Queues and rooms through the gateway against a real zgate, web and native clients meeting both ways:
a native producer's task to a web worker and back, a web producer's task to a native worker, and web and
native members of one room in lockstep."""
import asyncio
import json
import os
import sys
import threading
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, Ws, http, run  # noqa: E402
from zgate_harness import Zgate  # noqa: E402


class GatewayPatternsTest(GatewayTestCase):

    def dealer(self, flag):
        socket = self.context.socket(zmq.DEALER)
        socket.rcvtimeo = 5000
        socket.connect(self.zgate.endpoint(flag))
        return socket

    def test_native_producer_to_web_worker_and_back(self):
        async def scenario():
            worker = await Ws.open(self.port, binary=True)
            self.assertEqual((await worker.request({"op": "consume", "queue": "web.jobs", "prefetch": 2,
                                                    "req": 1}))["op"], "ok")
            producer = self.dealer("queues-producers")
            producer.send_multipart([b"SEND", b"r1", b"web.jobs", msgpack.packb({"reply": True}), b"hello"])
            self.assertEqual(producer.recv_multipart()[:2], [b"OK", b"r1"])
            task = await worker.next_push("task")
            self.assertEqual((task["queue"], task["data"], task["attempt"]), ("web.jobs", "hello", 1))
            answer = await worker.request({"op": "ack", "id": task["id"], "data": "HELLO", "req": 2})
            self.assertEqual(answer["op"], "ok")
            self.assertEqual(producer.recv_multipart(), [b"REPLY", b"r1", task["id"].encode(), b"HELLO"])
            # a nack sends it back for another delivery
            producer.send_multipart([b"SEND", b"r2", b"web.jobs", b"", b'{"n": 2}'])
            producer.recv_multipart()
            task = await worker.next_push("task")
            self.assertEqual(task["data"], {"n": 2})
            await worker.request({"op": "nack", "id": task["id"], "req": 3})
            again = await worker.next_push("task")
            self.assertEqual((again["id"], again["attempt"]), (task["id"], 2))
            await worker.request({"op": "fail", "id": again["id"], "reason": "no", "req": 4})
            state = await worker.request({"op": "task", "id": again["id"], "req": 5})
            self.assertEqual((state["op"], state["state"]), ("task_state", "failed"))
            # closing the session gives its held tasks back at once
            producer.send_multipart([b"SEND", b"r3", b"web.jobs", b"", b"orphan"])
            producer.recv_multipart()
            held = await worker.next_push("task")
            await worker.close()
            native = self.dealer("queues-workers")
            native.send_multipart([b"READY", b"n1", msgpack.packb({"queues": ["web.jobs"]})])
            self.assertEqual(native.recv_multipart()[0], b"OK")
            command, _, task_id, meta, payload = native.recv_multipart()
            self.assertEqual((command, task_id.decode(), payload), (b"DELIVER", held["id"], b"orphan"))
            native.send_multipart([b"BYE", b"n1"])
            producer.close()
            native.close()
        run(scenario())

    def command_worker(self, name, command):
        worker = self.dealer("queues-workers")
        worker.send_multipart([b"READY", name, msgpack.packb({"commands": [command]})])
        self.assertEqual(worker.recv_multipart()[0], b"OK")
        return worker

    def serve_call(self, name, worker, command):
        """Take one command task and reply "name:PAYLOAD"; returns its payload."""
        _, _, task_id, meta, payload = worker.recv_multipart()
        self.assertEqual(msgpack.unpackb(meta)["command"], command)
        worker.send_multipart([b"ACK", name, task_id, name + b":" + payload.upper()])
        return payload

    def test_command_mode_over_websocket_and_http(self):
        one = self.command_worker(b"o1", "one")
        both = [(name, self.command_worker(name, "upper")) for name in (b"u1", b"u2")]

        async def scenario():
            web = await Ws.open(self.port)
            # a call: the line is the command, then its data; one worker replies
            accepted = await web.request({"op": "call", "command": "one/x", "data": "hi", "req": "c1"})
            self.assertEqual(accepted["op"], "accepted")
            self.assertEqual(self.serve_call(b"o1", one, "one"), b"x/hi")
            reply = await web.next_push("reply")
            self.assertEqual((reply["req"], reply["id"], reply["data"]), ("c1", accepted["id"], "o1:X/HI"))
            # scatter: every worker's reply, then the count
            accepted = await web.request({"op": "call", "command": "upper", "data": {"k": 1}, "scatter": True,
                                          "req": "c2"})
            self.assertEqual(accepted["op"], "accepted")
            for name, worker in both:
                self.assertEqual(self.serve_call(name, worker, "upper"), b'{"k":1}')
            replies = sorted([(await web.next_push("reply"))["data"] for _ in both])
            self.assertEqual(replies, ['u1:{"K":1}', 'u2:{"K":1}'])
            done = await web.next_push("replies")
            self.assertEqual((done["req"], done["id"], done["count"]), ("c2", accepted["id"], 2))
            # errors: no such command, no command at all
            missing = await web.request({"op": "call", "command": "nobody/x", "req": "c3"})
            self.assertEqual((missing["op"], missing["code"]), ("error", 404))
            for bad in [{}, {"command": ""}, {"command": "/x"}, {"command": "one", "scatter": 1}]:
                error = await web.request({"op": "call", "req": "c4", **bad})
                self.assertEqual((error["op"], error["code"]), ("error", 400), bad)
            await web.close()
        run(scenario())

        def http_call(name, body, serve):
            answer = {}
            caller = threading.Thread(target=lambda: answer.update(
                result=http(self.port, "POST", f"/api/commands/{name}", body)))
            caller.start()
            payloads = [self.serve_call(worker_name, worker, command) for worker_name, worker, command in serve]
            caller.join(10)
            status, data, _ = answer["result"]
            return status, json.loads(data), payloads

        status, body, payloads = http_call("one", {"params": "p/q", "data": 7}, [(b"o1", one, "one")])
        self.assertEqual((status, sorted(body), body["data"], payloads), (200, ["data", "id"], "o1:P/Q/7", [b"p/q/7"]))
        status, body, _ = http_call("upper", {"data": "d", "scatter": True, "wait": 3000},
                                    [(name, worker, "upper") for name, worker in both])
        self.assertEqual((status, body["count"], sorted(reply["data"] for reply in body["replies"])),
                         (200, 2, ["u1:D", "u2:D"]))
        self.assertEqual(http(self.port, "POST", "/api/commands/nobody", {"data": 1})[:2],
                         (404, b'{"message":"command \'nobody\' not found"}\n'))
        for bad in [{"params": 5}, {"scatter": "yes"}, {"wait": 0}, {"priority": "high"}]:
            self.assertEqual(http(self.port, "POST", "/api/commands/one", bad)[:2],
                             (400, b'{"message":"request\'s body is invalid"}\n'), bad)
        for name, worker in [(b"o1", one)] + both:
            worker.send_multipart([b"BYE", name])
            worker.close()

    def test_web_worker_serves_a_command(self):
        async def scenario():
            worker = await Ws.open(self.port, binary=True)
            self.assertEqual((await worker.request({"op": "consume", "command": "web.cmd", "req": 1}))["op"], "ok")
            producer = await Ws.open(self.port)
            accepted = await producer.request({"op": "call", "command": "web.cmd/p", "data": 5, "req": "c"})
            task = await worker.next_push("task")
            self.assertEqual((task["command"], task["id"], task["data"], "queue" in task),
                             ("web.cmd", accepted["id"], "p/5", False))
            await worker.request({"op": "ack", "id": task["id"], "data": {"done": True}, "req": 2})
            self.assertEqual((await producer.next_push("reply"))["data"], {"done": True})
            # consume names a queue or a command, not both, not neither
            for bad in [{}, {"queue": "q", "command": "c"}, {"queue": "a/b"}]:
                error = await worker.request({"op": "consume", "req": 3, **bad})
                self.assertEqual((error["op"], error["code"]), ("error", 400), bad)
            # cancel takes the command back, once
            self.assertEqual((await worker.request({"op": "cancel", "command": "web.cmd", "req": 4}))["op"], "ok")
            missing = await worker.request({"op": "cancel", "command": "web.cmd", "req": 5})
            self.assertEqual((missing["code"], missing["message"]), (404, "this session does not consume 'web.cmd'"))
            await worker.close()
            await producer.close()
        run(scenario())

    def test_web_producer_to_native_worker_and_errors(self):
        async def scenario():
            native = self.dealer("queues-workers")
            native.send_multipart([b"READY", b"n2", msgpack.packb({"queues": ["native.jobs"]})])
            self.assertEqual(native.recv_multipart()[0], b"OK")
            producer = await Ws.open(self.port)
            accepted = await producer.request({"op": "send", "queue": "native.jobs", "data": {"x": 1},
                                               "reply": True, "req": "s1"})
            self.assertEqual(accepted["op"], "accepted")
            command, _, task_id, meta, payload = native.recv_multipart()
            self.assertEqual((command, task_id.decode(), payload), (b"DELIVER", accepted["id"], b'{"x":1}'))
            native.send_multipart([b"ACK", b"n2", task_id, b"\xff\x01"])
            reply = await producer.next_push("reply")
            self.assertEqual((reply["req"], reply["id"], reply["binary"], reply["data"]),
                             ("s1", accepted["id"], True, "/wE="))
            # the ack-timeout option: a task its worker holds past it is delivered again
            accepted = await producer.request({"op": "send", "queue": "native.jobs", "data": 2,
                                               "ack-timeout": 300, "req": "s3"})
            self.assertEqual(accepted["op"], "accepted")
            first = native.recv_multipart()
            again = native.recv_multipart()
            self.assertEqual((first[2].decode(), msgpack.unpackb(first[3])["attempt"]), (accepted["id"], 1))
            self.assertEqual((again[2].decode(), msgpack.unpackb(again[3])["attempt"]), (accepted["id"], 2))
            native.send_multipart([b"ACK", b"n2", again[2]])
            # a reply timeout comes back as an error with the req
            await producer.request({"op": "send", "queue": "nobody.serves", "data": 1, "reply": True,
                                    "timeout": 200, "req": "s2"})
            error = await producer.next_push("error")
            self.assertEqual((error["req"], error["code"]), ("s2", 408))
            bad = await producer.request({"op": "ack", "id": "1", "req": "a"})
            self.assertEqual((bad["op"], bad["code"]), ("error", 404))
            native.send_multipart([b"BYE", b"n2"])
            native.close()
            await producer.close()
        run(scenario())

    def test_web_and_native_members_in_lockstep(self):
        async def scenario():
            web = await Ws.open(self.port)
            joined = await web.request({"op": "join", "room": "mixed", "req": 1})
            self.assertEqual(joined["op"], "ok")
            native = self.dealer("rooms-clients")
            native.send_multipart([b"HELLO", b"1"])
            me = native.recv_multipart()[2]
            native.send_multipart([b"JOIN", b"2", me, b"mixed"])
            self.assertEqual(native.recv_multipart()[0], b"OK")
            producer = await Ws.open(self.port, binary=True)
            for n in range(3):
                answer = await producer.request({"op": "send", "room": "mixed", "data": f"m{n}", "req": n})
                self.assertEqual((answer["op"], answer["seq"]), ("ok", n + 1))
            peeked = await producer.request({"op": "peek", "room": "mixed", "req": "p"})
            self.assertEqual([m["data"] for m in peeked["messages"]], ["m1", "m2"])
            for n in range(3):
                event = await web.next_push("room")
                self.assertEqual((event["seq"], event["data"]), (n + 1, f"m{n}"))
                frames = native.recv_multipart()
                self.assertEqual((frames[0], frames[3], frames[5]), (b"DELIVER", b"%d" % (n + 1), b"m%d" % n))
                # the web member acks first: nothing more comes until the native member acks too
                await web.request({"op": "ack", "room": "mixed", "token": event["token"], "req": f"a{n}"})
                native.rcvtimeo = 200
                with self.assertRaises(zmq.Again):
                    native.recv_multipart()
                native.rcvtimeo = 5000
                native.send_multipart([b"ACK", b"", me, b"mixed", frames[4]])
            # out-of-band reaches both at once; a native sender reaches the web member
            answer = await producer.request({"op": "send", "room": "mixed", "data": {"alert": 1}, "oob": True,
                                             "req": "o"})
            self.assertEqual(answer["count"], 2)
            self.assertEqual((await web.next_push("oob"))["data"], {"alert": 1})
            self.assertEqual(native.recv_multipart()[0], b"OOB")
            state = await producer.request({"op": "state", "room": "mixed", "req": "st"})
            self.assertEqual(len(state["members"]), 2)
            # the join answer named the web member's client id, as the room state does
            self.assertEqual(sorted(member["client"] for member in state["members"]),
                             sorted([joined["client"], me.decode()]))
            metrics = await producer.request({"op": "metrics", "top": 3, "req": "me"})
            self.assertEqual(metrics["op"], "room_metrics")
            self.assertEqual((await web.request({"op": "ping", "req": "pi"}))["op"], "ok")
            self.assertEqual((await web.request({"op": "leave", "room": "mixed", "req": "l"}))["op"], "ok")
            again = await web.request({"op": "leave", "room": "mixed", "req": "l2"})
            self.assertEqual((again["op"], again["code"]), ("error", 404))
            stale = await web.request({"op": "ack", "room": "mixed", "token": "nope", "req": "s"})
            self.assertEqual(stale["op"], "error")
            native.send_multipart([b"BYE", b"", me])
            native.close()
            await web.close()
            await producer.close()
        run(scenario())


class GatewayEvictionTest(unittest.TestCase):
    def test_silent_web_member_is_evicted_and_observers_told(self):
        with Zgate(rooms_client_timeout=1000) as zgate:
            port = int(zgate.endpoint("gateway-http-port"))

            async def scenario():
                silent, observer = await Ws.open(port), await Ws.open(port, binary=True)
                self.assertEqual((await silent.request({"op": "join", "room": "quiet", "req": 1}))["op"], "ok")
                self.assertEqual((await observer.request({"op": "join", "room": "quiet", "mode": "async",
                                                          "req": 1}))["op"], "ok")

                async def keep_pinging():
                    for n in range(40):
                        await observer.request({"op": "ping", "req": f"p{n}"})
                        await asyncio.sleep(0.2)
                pinging = asyncio.ensure_future(keep_pinging())
                evicted = await silent.next_push("evicted", timeout=10)
                self.assertEqual((evicted["room"], evicted["reason"]), ("quiet", "timeout"))
                timeout = await observer.next_push("timeout", timeout=10)
                self.assertEqual((timeout["room"], timeout["reason"]), ("quiet", "timeout"))
                pinging.cancel()
                await silent.close()
                await observer.close()
            run(scenario())


if __name__ == "__main__":
    unittest.main(verbosity=2)
