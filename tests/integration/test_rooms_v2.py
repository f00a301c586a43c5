"""Rooms protocol version 2 (docs/PROTOCOL.md 3.8) spoken raw with pyzmq: HELLO negotiates it, a release
sends one DELIVERS per connection naming its members, ACKS acks many holders at once and is checked
whole. Version 1 members share the rooms unchanged.
"""
import os
import sys
import time
import unittest

import msgpack

sys.path.insert(0, os.path.dirname(__file__))
from test_rooms import RoomsTest  # noqa: E402


def ids(frame):
    """The client ids of a DELIVERS list frame, as a set."""
    return set(frame.split(b" ")) if frame else set()


class WireVersion2Test(RoomsTest):
    zgate_overrides = {"rooms_ack_timeout": 60000}

    def hello2(self, conn):
        answer = conn.ok(b"HELLO", 2)
        self.assertEqual(answer[1], b"2")
        return answer[0]

    def delivers(self, conn):
        """The next event, which must be a DELIVERS: (room, seq, holders, observers, payload)."""
        event = conn.recv_event()
        self.assertIsNotNone(event)
        self.assertEqual(event[0], b"DELIVERS", event)
        self.assertEqual(len(event), 6)
        return event[1], event[2], ids(event[3]), ids(event[4]), event[5]

    def test_hello_negotiates_the_version(self):
        conn = self.connect()
        self.assertEqual(len(conn.ok(b"HELLO")), 1)      # version 1's answer, unchanged
        self.assertEqual(conn.ok(b"HELLO", 1)[1], b"1")
        self.assertEqual(conn.ok(b"HELLO", 2)[1], b"2")
        self.assertEqual(conn.ok(b"HELLO", 9)[1], b"2")  # the highest zgate speaks
        clients = self.zgate.stats("rooms")["clients"]
        for bad in (b"0", b"-1", b"two", b"", b"2 "):
            self.assertEqual(conn.error(b"HELLO", bad), 400)
        self.assertEqual(conn.error(b"HELLO", 2, b"extra"), 400)
        time.sleep(0.3)                                 # a stats interval: no client was made
        self.assertEqual(self.zgate.stats("rooms")["clients"], clients)

    def test_one_delivers_per_connection_and_acks_release_the_round(self):
        first, second = self.connect(), self.connect()
        holders = [self.hello2(first) for _ in range(3)]
        observer = self.hello2(first)
        old = first.hello()                             # version 1 on the same connection
        remote = self.hello2(second)
        for client in holders + [old]:
            first.ok(b"JOIN", client, b"r")
        first.ok(b"JOIN", observer, b"r", b"async")
        second.ok(b"JOIN", remote, b"r")
        producer = self.connect()
        self.assertEqual(producer.ok(b"SEND", b"r", 0, b"one"), [b"1"])
        self.assertEqual(producer.ok(b"SEND", b"r", 0, b"two"), [b"2"])
        events = first.sync(holders[0])
        self.assertEqual(len(events), 2, events)
        deliver = [e for e in events if e[0] == b"DELIVER"]
        self.assertEqual(deliver, [[b"DELIVER", old, b"r", b"1", b"1", b"one"]])
        (batch,) = [e for e in events if e[0] == b"DELIVERS"]
        self.assertEqual(batch[:3], [b"DELIVERS", b"r", b"1"])
        self.assertEqual(ids(batch[3]), set(holders))
        self.assertEqual(ids(batch[4]), {observer})
        self.assertEqual(batch[5], b"one")
        self.assertEqual(self.delivers(second), (b"r", b"1", {remote}, set(), b"one"))
        # Part of the holders ack: the round waits for the rest, version 1's ACK among them
        first.ok(b"ACKS", b"r", b"1", b" ".join(holders[:2]))
        second.fire(b"ACKS", b"r", b"1", remote)        # an empty req: no answer
        first.ok(b"ACK", old, b"r", b"1")
        state = producer.map(b"STATE", b"r")
        self.assertEqual(state["in_flight"]["waiting"], 1)
        self.assertEqual(set(state["acked"]), {c.decode() for c in holders[:2] + [old, remote]})
        self.assertEqual(first.sync(holders[0]), [])
        first.ok(b"ACKS", b"r", b"1", holders[2])
        events = first.sync(holders[0])
        self.assertEqual(sorted(e[0] for e in events), [b"DELIVER", b"DELIVERS"])
        self.assertEqual(self.delivers(second)[1], b"2")
        self.assertEqual(producer.map(b"STATE", b"r")["in_flight"]["seq"], 2)

    def test_bad_acks_get_errors_and_change_nothing(self):
        conn, other = self.connect(), self.connect()
        a, b, watcher = self.hello2(conn), self.hello2(conn), self.hello2(conn)
        stranger = self.hello2(other)
        for client in (a, b):
            conn.ok(b"JOIN", client, b"r")
        conn.ok(b"JOIN", watcher, b"r", b"async")
        other.ok(b"JOIN", stranger, b"r")
        conn.ok(b"JOIN", a, b"elsewhere")
        conn.ok(b"SEND", b"r", 0, b"one")
        self.assertEqual(self.delivers(conn)[1], b"1")
        self.delivers(other)
        before = conn.map(b"STATE", b"r")
        time.sleep(0.05)                                # a touch would move last_seen
        bad = [
            (400, [b"r", b"1", b""]),
            (400, [b"r", b"1", a + b"  " + b]),
            (400, [b"r", b"1", a + b" "]),
            (400, [b"r", b"1", b" " + a]),
            (400, [b"r", b"1"]),
            (404, [b"r", b"1", a + b" nobody"]),
            (404, [b"r", b"1", a + b" " + a + b"\0"]),
            (403, [b"r", b"1", a + b" " + stranger]),
            (409, [b"r", b"1", a + b" " + watcher]),    # an observer holds nothing
            (409, [b"r", b"2", a]),                     # stale token
            (409, [b"r", b"1", a + b" " + b + b" " + a]),  # named twice
            (404, [b"nowhere", b"1", a]),
            (409, [b"elsewhere", b"1", a]),             # a member, but of no message in flight there
            (413, [b"x" * 300, b"1", a]),
            (400, [b"", b"1", a]),
        ]
        for code, fields in bad:
            self.assertEqual(conn.error(b"ACKS", *fields), code, fields)
        after = conn.map(b"STATE", b"r")
        self.assertEqual(after, before)
        # ... and the same batch, well formed, is accepted once
        conn.ok(b"ACKS", b"r", b"1", a + b" " + b)
        self.assertEqual(conn.error(b"ACKS", b"r", b"1", a), 409)
        self.assertEqual(conn.map(b"STATE", b"r")["in_flight"]["waiting"], 1)

    def test_ack_timeout_evicts_the_version_2_members_that_did_not_ack(self):
        conn = self.connect()
        good, stuck = self.hello2(conn), self.hello2(conn)
        conn.ok(b"ROOM", b"at", msgpack.packb({"ack-timeout": 300}))
        conn.ok(b"JOIN", good, b"at")
        conn.ok(b"JOIN", stuck, b"at")
        conn.ok(b"SEND", b"at", 0, b"one")
        conn.ok(b"SEND", b"at", 0, b"two")
        self.assertEqual(self.delivers(conn)[2], {good, stuck})
        conn.ok(b"ACKS", b"at", b"1", good)
        deadline = time.monotonic() + 5
        evicted = advanced = None
        while time.monotonic() < deadline and not (evicted and advanced):
            conn.fire(b"PING", stuck)
            conn.fire(b"PING", good)
            event = conn.recv_event(50)
            if event and event[0] == b"EVICTED":
                evicted = event
            if event and event[0] == b"DELIVERS":
                advanced = event
        self.assertEqual(evicted, [b"EVICTED", stuck, b"at", b"ack-timeout"])
        self.assertEqual(advanced[2], b"2")
        self.assertEqual(ids(advanced[3]), {good})
        self.assertEqual([m["client"] for m in conn.map(b"STATE", b"at")["members"]], [good.decode()])


if __name__ == "__main__":
    unittest.main(verbosity=2)
