"""Seed parity for redis-sync-fanout users (issue 18, item 4): each test is named after its row of the
capability table in SEEDS.md (section 7) and runs against a real zgate, natively and through the gateway.

Row 22: LEAVE and BYE tell the room's observers (the seed's removal event). Row 27: a client-timeout event
stream beyond the room's own observers (WATCH). Row 30: PEEK entries carry producer, queued time and
latency. Row 32: STATE lists the acked members with their ack times. Row 50: the room proxy, many local
clients sharing one upstream membership (gateway/room-proxy; zg_roomproxy's self test covers the C class).
"""
import asyncio
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from gateway_client import GatewayTestCase, Ws, http, run  # noqa: E402
from test_rooms import Connection  # noqa: E402


def rest(port, method, path, body=None):
    """(status, decoded JSON body) of one HTTP request."""
    status, data, _ = http(port, method, path, body)
    return status, json.loads(data)


class NativeSeedRoomsTest(GatewayTestCase):
    zgate_overrides = {"rooms_client_timeout": 1000, "rooms_ack_timeout": 60000}

    def connect(self):
        return Connection(self.context, self.zgate.endpoint("rooms-clients"))

    def test_row22_leave_and_bye_tell_observers(self):
        conn = self.connect()
        observer, leaver, quitter = conn.hello(), conn.hello(), conn.hello()
        conn.ok(b"JOIN", observer, b"r22", b"async")
        conn.ok(b"JOIN", leaver, b"r22")
        conn.ok(b"JOIN", quitter, b"r22")
        conn.ok(b"LEAVE", leaver, b"r22")
        self.assertEqual(conn.sync(observer), [[b"TIMEOUT", observer, b"r22", leaver, b"leave"]])
        conn.ok(b"BYE", quitter)
        self.assertEqual(conn.sync(observer), [[b"TIMEOUT", observer, b"r22", quitter, b"bye"]])
        # a member that leaves holding the message in flight no longer blocks the room: the room
        # advances right after the observer hears of it (the seed re-evaluates on unsubscribe)
        member = conn.hello()
        conn.ok(b"JOIN", member, b"r22")
        conn.ok(b"SEND", b"r22", 0, b"one")
        conn.ok(b"SEND", b"r22", 0, b"two")
        self.assertEqual(sorted(e[5] for e in conn.sync(member) if e[0] == b"DELIVER"), [b"one", b"one"])
        conn.ok(b"LEAVE", member, b"r22")
        events = conn.sync(observer)
        self.assertEqual(events[0], [b"TIMEOUT", observer, b"r22", member, b"leave"])
        self.assertEqual((events[1][0], events[1][1], events[1][5]), (b"DELIVER", observer, b"two"))

    def test_row27_watch_hears_client_timeouts_of_every_room(self):
        conn, silent_conn = self.connect(), self.connect()
        watcher = conn.hello()
        self.assertEqual(conn.error(b"WATCH", watcher, b"maybe"), 400)
        self.assertEqual(silent_conn.error(b"WATCH", watcher), 403)   # a client id is no bearer token
        conn.ok(b"WATCH", watcher)
        silent = silent_conn.hello()
        silent_conn.ok(b"JOIN", silent, b"r27.a")
        silent_conn.ok(b"JOIN", silent, b"r27.b", b"async")
        # the watcher joined neither room; keep it alive while the silent client times out (it hears
        # of the other tests' clients of this zgate too: every room)
        heard, deadline = set(), time.monotonic() + 5
        while len(heard) < 2 and time.monotonic() < deadline:
            for event in conn.sync(watcher):
                self.assertEqual((event[0], event[1]), (b"TIMEOUT", watcher))
                if event[3] == silent:
                    self.assertEqual(event[4], b"timeout")
                    heard.add(event[2])
            time.sleep(0.1)
        self.assertEqual(heard, {b"r27.a", b"r27.b"})
        conn.ok(b"WATCH", watcher, b"off")
        conn.sync(watcher)
        other = silent_conn.hello()
        silent_conn.ok(b"JOIN", other, b"r27.a")
        silent_conn.ok(b"LEAVE", other, b"r27.a")
        self.assertEqual(conn.sync(watcher), [])

    def test_row30_peek_entries_carry_producer_queued_and_latency(self):
        conn = self.connect()
        holder = conn.hello()
        conn.ok(b"JOIN", holder, b"r30")
        before = int(time.time() * 1000)
        conn.ok(b"SEND", b"r30", 0, b"in-flight", b"alice")
        conn.ok(b"SEND", b"r30", 0, b"waiting", b"bob")
        conn.ok(b"SEND", b"r30", 0, b"anonymous")
        self.assertEqual(conn.error(b"SEND", b"r30", 0, b"x", b"bad\0producer"), 400)
        self.assertEqual(conn.error(b"SEND", b"r30", 0, b"x", b"p" * 300), 400)
        time.sleep(0.05)
        peek = conn.map(b"PEEK", b"r30")
        after = int(time.time() * 1000)
        self.assertEqual([m["data"] for m in peek["messages"]], [b"waiting", b"anonymous"])
        self.assertEqual([m["producer"] for m in peek["messages"]], ["bob", ""])
        for message in peek["messages"]:
            self.assertTrue(before <= message["queued"] <= after)
            self.assertTrue(50 <= message["latency"] <= after - message["queued"] + 1, message)
        # the gateway's send op and REST carry the producer too
        async def web():
            ws = await Ws.open(self.port)
            answer = await ws.request({"op": "send", "room": "r30", "data": "w", "producer": "web", "req": 1})
            self.assertEqual(answer["op"], "ok")
            bad = await ws.request({"op": "send", "room": "r30", "data": "w", "producer": 7, "req": 2})
            self.assertEqual((bad["op"], bad["code"]), ("error", 400))
            await ws.close()
        run(web())
        status, _ = rest(self.port, "POST", "/api/rooms/r30", {"data": "h", "producer": "rest"})
        self.assertEqual(status, 200)
        status, _ = rest(self.port, "POST", "/api/rooms/r30", {"data": "h", "producer": ["no"]})
        self.assertEqual(status, 400)
        status, body = rest(self.port, "GET", "/api/rooms/r30/peek")
        self.assertEqual([m["producer"] for m in body["messages"]], ["bob", "", "web", "rest"])

    def test_row32_state_lists_acked_members_with_ack_times(self):
        conn = self.connect()
        quick, slow = conn.hello(), conn.hello()
        conn.ok(b"JOIN", quick, b"r32")
        conn.ok(b"JOIN", slow, b"r32")
        conn.ok(b"SEND", b"r32", 0, b"m")
        tokens = {e[1]: e[4] for e in conn.sync(quick) if e[0] == b"DELIVER"}
        before = int(time.time() * 1000)
        conn.ok(b"ACK", quick, b"r32", tokens[quick])
        after = int(time.time() * 1000)
        state = conn.map(b"STATE", b"r32")
        self.assertEqual(state["acked"], [quick.decode()])
        members = {m["client"]: m for m in state["members"]}
        self.assertTrue(before <= members[quick.decode()]["acked_at"] <= after)
        self.assertIsNone(members[slow.decode()]["acked_at"])
        self.assertTrue(members[slow.decode()]["last_seen"] <= after)
        conn.ok(b"PING", slow)


class WebObserverSeedRoomsTest(GatewayTestCase):

    def test_row22_web_observer_hears_leave_and_session_end(self):
        async def scenario():
            observer, member = await Ws.open(self.port), await Ws.open(self.port)
            self.assertEqual((await observer.request({"op": "join", "room": "w22", "mode": "async",
                                                      "req": 1}))["op"], "ok")
            joined = await member.request({"op": "join", "room": "w22", "req": 1})
            await member.request({"op": "leave", "room": "w22", "req": 2})
            told = await observer.next_push("timeout")
            self.assertEqual((told["room"], told["client"], told["reason"]), ("w22", joined["client"], "leave"))
            await member.request({"op": "join", "room": "w22", "req": 3})
            await member.close()
            told = await observer.next_push("timeout")
            self.assertEqual((told["client"], told["reason"]), (joined["client"], "bye"))
            await observer.close()
        run(scenario())


class RoomProxySeedRoomsTest(GatewayTestCase):
    zgate_overrides = {"gateway_room_proxy": 1, "rooms_ack_timeout": 3000}

    def state(self, room):
        status, body = rest(self.port, "GET", "/api/rooms/" + room)
        self.assertEqual(status, 200)
        return body

    async def proxied(self, binary=False):
        """A session, once the proxy has its upstream client (a join before gets 503)."""
        ws = await Ws.open(self.port, binary=binary)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            answer = await ws.request({"op": "join", "room": "warm-up", "req": "w"})
            if answer["op"] == "ok":
                await ws.request({"op": "leave", "room": "warm-up", "req": "w"})
                return ws
            await asyncio.sleep(0.05)
        self.fail("the room proxy got no client id")

    def test_row50_room_proxy_counts(self):
        """The seed's TestRoomsJoinPartSendReceive: client1 in room1 and room2, client2 in room2; one
        message to each room: client1 counts 2, client2 1; each room has one member upstream."""
        async def scenario():
            client1, client2 = await self.proxied(), await self.proxied(binary=True)
            for ws, room in ((client1, "room1"), (client1, "room2"), (client2, "room2")):
                answer = await ws.request({"op": "join", "room": room, "req": room})
                self.assertEqual(answer["op"], "ok")
                self.assertTrue(answer["client"])
            self.assertEqual(len(self.state("room1")["members"]), 1)
            self.assertEqual(len(self.state("room2")["members"]), 1)
            for room in ("room1", "room2"):
                status, _ = rest(self.port, "POST", "/api/rooms/" + room, {"data": room})
                self.assertEqual(status, 200)
            got1 = [await client1.next_push("room"), await client1.next_push("room")]
            got2 = [await client2.next_push("room")]
            self.assertEqual(sorted(m["data"] for m in got1), ["room1", "room2"])
            self.assertEqual([m["data"] for m in got2], ["room2"])
            await self.lockstep(client1, client2, {m["room"]: m for m in got1})
        run(scenario())
        self.assertEqual(self.state("room1")["members"], [])
        self.assertEqual(self.state("room2")["members"], [])

    async def lockstep(self, client1, client2, got1):
        # client1 alone holds room1's message: its ack is the upstream ack
        self.assertEqual((await client1.request({"op": "ack", "room": "room1",
                                                 "token": got1["room1"]["token"], "req": 0}))["op"], "ok")
        self.assertEqual(self.state("room1")["in_flight"], None)
        # the next message of room2 waits for both local clients; a stale or repeated ack is refused
        http(self.port, "POST", "/api/rooms/room2", {"data": "second"})
        self.assertEqual((await client1.request({"op": "ack", "room": "room2", "token": "nope",
                                                 "req": 1}))["code"], 409)
        self.assertEqual((await client1.request({"op": "ack", "room": "room2",
                                                 "token": got1["room2"]["token"], "req": 2}))["op"], "ok")
        self.assertEqual((await client1.request({"op": "ack", "room": "room2",
                                                 "token": got1["room2"]["token"], "req": 3}))["code"], 409)
        with self.assertRaises(asyncio.TimeoutError):
            await client1.next_push("room", timeout=0.5)
        self.assertEqual(self.state("room2")["in_flight"]["waiting"], 1)
        # client2 leaving counts as its ack
        self.assertEqual((await client2.request({"op": "leave", "room": "room2", "req": 4}))["op"], "ok")
        second = await client1.next_push("room")
        self.assertEqual(second["data"], "second")
        # a session that closes counts as its ack too, and the last one leaves upstream
        await client2.request({"op": "join", "room": "room2", "req": 5})
        http(self.port, "POST", "/api/rooms/room2", {"data": "third"})
        await client1.request({"op": "ack", "room": "room2", "token": second["token"], "req": 6})
        third = await client1.next_push("room")
        await client1.request({"op": "ack", "room": "room2", "token": third["token"], "req": 7})
        await client2.next_push("room")
        http(self.port, "POST", "/api/rooms/room2", {"data": "fourth"})
        await client2.close()
        self.assertEqual((await client1.next_push("room"))["data"], "fourth")
        await client1.request({"op": "leave", "room": "room1", "req": 8})
        await client1.request({"op": "leave", "room": "room2", "req": 9})
        await client1.close()

    def test_row50_room_proxy_ack_timeout_evicts_only_the_late(self):
        async def scenario():
            quick, late = await self.proxied(), await self.proxied()
            for ws in (quick, late):
                self.assertEqual((await ws.request({"op": "join", "room": "r50t", "req": 1}))["op"], "ok")
            http(self.port, "POST", "/api/rooms/r50t", {"data": "one"})
            message = await quick.next_push("room")
            await late.next_push("room")
            await quick.request({"op": "ack", "room": "r50t", "token": message["token"], "req": 2})
            evicted = await late.next_push("evicted", timeout=5)
            self.assertEqual((evicted["room"], evicted["reason"]), ("r50t", "ack-timeout"))
            # quick stays: the proxy joins again upstream and the next message reaches it alone
            http(self.port, "POST", "/api/rooms/r50t", {"data": "two"})
            self.assertEqual((await quick.next_push("room", timeout=5))["data"], "two")
            with self.assertRaises(asyncio.TimeoutError):
                await late.next_push("room", timeout=0.3)
            self.assertEqual(len(self.state("r50t")["members"]), 1)
            await quick.close()
            await late.close()
        run(scenario())


if __name__ == "__main__":
    unittest.main()
