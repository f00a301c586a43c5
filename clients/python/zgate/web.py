"""The gateway's WebSocket (PROTOCOL.md section 4.1), with asyncio and websockets:

    async with WebClient("ws://127.0.0.1:8080/ws") as zg:
        await zg.subscribe("chat.*", lambda topic, data: print(topic, data))
        await zg.publish("chat.lobby", {"text": "hello"})
        print(await zg.request("jobs", "hi"))           # a worker's reply
        await zg.consume("jobs", lambda task: task["data"].upper())   # returned = the reply
        await zg.join("lobby", lambda message: print(message["data"]))   # acked when it returns

Every request gets one answer; an error answer raises ZgateError with the gateway's code. Handlers may be
plain functions or coroutines.
"""
import asyncio
import inspect
import itertools
import json

import websockets

from .errors import TIMEOUT, ZgateError


class WebClient:
    def __init__(self, url="ws://127.0.0.1:8080/ws", timeout=5.0, ping_interval=5.0):
        self.url = url
        self.timeout = timeout
        self.ping_interval = ping_interval
        self.reqs = itertools.count(1)
        self.pending = {}           # req -> future of its answer
        self.topics = []            # (pattern, handler)
        self.consumers = {}         # queue -> handler(task) whose return is the reply
        self.rooms = {}             # room -> handler(message)
        self.on_push = None         # function(object) for every other push (evicted, error, ...)
        self.ws = None
        self.tasks = []

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.close()

    async def connect(self):
        self.ws = await websockets.connect(self.url)
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]
        return self

    async def close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.ws.close()

    async def call(self, op, **fields):
        """Send one request and return its answer (a dict); raises ZgateError on an error answer."""
        req = next(self.reqs)
        future = asyncio.get_running_loop().create_future()
        self.pending[req] = future
        await self.ws.send(json.dumps({"op": op, "req": req, **fields}))
        try:
            answer = await asyncio.wait_for(future, self.timeout + fields.get("timeout", 0) / 1000)
        except asyncio.TimeoutError:
            raise ZgateError(TIMEOUT, f"the gateway did not answer {op} in time") from None
        finally:
            self.pending.pop(req, None)
        if answer.get("op") == "error":
            raise ZgateError(answer.get("code", 500), answer.get("message", ""))
        return answer

    # topics
    async def subscribe(self, topic, handler):
        """handler(topic, data) for every message on topic ("prefix.*" for a prefix, "*" for all)."""
        await self.call("subscribe", topic=topic)
        self.topics.append((topic, handler))

    async def unsubscribe(self, topic):
        await self.call("unsubscribe", topic=topic)
        self.topics = [(pattern, handler) for pattern, handler in self.topics if pattern != topic]

    async def publish(self, topic, data):
        await self.call("publish", topic=topic, data=data)

    # queues
    async def send(self, queue, data, priority=0):
        """Queue a task; returns its id."""
        return (await self.call("send", queue=queue, data=data, priority=priority))["id"]

    async def request(self, queue, data, timeout=5.0):
        """Queue a task and return the worker's reply data."""
        req = next(self.reqs)
        accepted = asyncio.get_running_loop().create_future()
        replied = asyncio.get_running_loop().create_future()
        self.pending[req] = accepted
        self.pending[(req, "reply")] = replied
        try:
            await self.ws.send(json.dumps({"op": "send", "req": req, "queue": queue, "data": data,
                                           "reply": True, "timeout": int(timeout * 1000)}))
            for future in (accepted, replied):
                answer = await asyncio.wait_for(future, timeout + 1)
                if answer.get("op") == "error":
                    raise ZgateError(answer.get("code", 500), answer.get("message", ""))
            return answer.get("data")
        except asyncio.TimeoutError:
            raise ZgateError(TIMEOUT, "the gateway did not answer in time") from None
        finally:
            self.pending.pop(req, None)
            self.pending.pop((req, "reply"), None)

    async def consume(self, queue, handler, prefetch=1):
        """handler(task) for every task of queue (task: id, queue, data, attempt); its return value is the
        ack's reply, an exception fails the task."""
        self.consumers[queue] = handler
        await self.call("consume", queue=queue, prefetch=prefetch)

    async def task(self, task_id):
        """A task's state (the GET map; its reply as data)."""
        return await self.call("task", id=task_id)

    # rooms
    async def join(self, room, handler, observer=False):
        """handler(message) for every message of room (room, seq, token, data); acked when it returns."""
        self.rooms[room] = handler
        await self.call("join", room=room, mode="async" if observer else "sync")

    async def leave(self, room):
        await self.call("leave", room=room)
        self.rooms.pop(room, None)

    async def send_room(self, room, data, priority=0, oob=False):
        """Queue a message (returns its seq) or send it out of band (returns the members reached)."""
        if oob:
            return (await self.call("send", room=room, data=data, oob=True))["count"]
        return (await self.call("send", room=room, data=data, priority=priority))["seq"]

    async def peek(self, room, offset=0, limit=0):
        fields = {"offset": offset, **({"limit": limit} if limit else {})}
        return await self.call("peek", room=room, **fields)

    async def state(self, room):
        return await self.call("state", room=room)

    async def metrics(self, top=10):
        return await self.call("metrics", top=top)

    # the session
    async def _read(self):
        async for text in self.ws:
            message = json.loads(text)
            req = message.get("req")
            if req is not None and req not in self.pending:
                future = self.pending.get((req, "reply"))   # a request's reply, after its "accepted"
            else:
                future = self.pending.pop(req, None) if req is not None else None
            if future and not future.done():
                future.set_result(message)
            elif req is None:
                await self._push(message)

    async def _push(self, message):
        op = message.get("op")
        if op == "message":
            for pattern, handler in list(self.topics):
                if _matches(pattern, message["topic"]):
                    await _call(handler, message["topic"], message.get("data"))
                    break
        elif op == "task" and message.get("queue") in self.consumers:
            await self._work(message)
        elif op in ("room", "oob") and message.get("room") in self.rooms:
            await _call(self.rooms[message["room"]], message)
            if op == "room" and message.get("token"):
                await self.ws.send(json.dumps({"op": "ack", "room": message["room"], "token": message["token"]}))
        elif op != "ok" and self.on_push:      # "ok" answers the acks and pings sent without req
            await _call(self.on_push, message)

    async def _work(self, task):
        try:
            reply = await _call(self.consumers[task["queue"]], task)
        except Exception as error:      # noqa: BLE001 - any failure of the handler fails the task
            answer = {"op": "fail", "id": task["id"], "reason": str(error) or type(error).__name__}
        else:
            answer = {"op": "ack", "id": task["id"], **({} if reply is None else {"data": reply})}
        await self.ws.send(json.dumps(answer))

    async def _ping(self):
        """A room member must be heard within rooms/client-timeout: ping while in rooms."""
        while True:
            await asyncio.sleep(self.ping_interval)
            if self.rooms:
                await self.ws.send(json.dumps({"op": "ping"}))


def _matches(pattern, topic):
    return topic.startswith(pattern[:-1]) if pattern.endswith("*") else topic == pattern


async def _call(function, *args):
    result = function(*args)
    return await result if inspect.isawaitable(result) else result
