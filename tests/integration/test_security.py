"""The native trust boundary through a real zgate: CURVE clients made with pyzmq's zmq.auth (czmq's
zcert format), keys added and revoked with SIGHUP, the permissions file per pattern (every refusal
answered 403 and nothing changed), the rooms hijack sequence, reserved topics, and the refusal to serve
off loopback without security. docs/PROTOCOL.md "Security" is the contract.
"""
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import msgpack
import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import ZGATE_BIN, Zgate, free_port, wait_for  # noqa: E402

TIMEOUT_MS = 3000

PERMISSIONS = """\
users
    alice
        roles = sensors
    bob
        roles = sensors
    root
        roles = operators
grants
    operators
        admin = 1
    sensors
        topics
            publish = sensors.*
            subscribe = sensors.*
        queues
            send = jobs.*
            consume = jobs.*
        rooms
            join = lobby
            send = lobby
    carol
        rooms
            observe = lobby
            peek = lobby
"""


KEYGEN = os.path.join(os.path.dirname(ZGATE_BIN), "zgate-keygen")
CLI = os.path.join(os.path.dirname(os.path.dirname(ZGATE_BIN)), "tools", "zgate-cli", "zgate-cli")


class Keys:
    """Certificates in a scratch directory: the server's (made by zgate-keygen), and one per client with its
    name as metadata, made by pyzmq or zgate-keygen, so that both are shown to work with czmq's zauth; the
    clients' public files are copied into the directory zgate reads (client-certs)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="zgate-security-")
        self.made = os.path.join(self.root, "made")
        self.allowed = os.path.join(self.root, "clients")
        os.mkdir(self.allowed)
        os.mkdir(self.made)
        subprocess.run([KEYGEN, "server", self.made], check=True, capture_output=True, timeout=10)
        self.server_secret = os.path.join(self.made, "server.cert_secret")
        self.server_public, _ = zmq.auth.load_certificate(os.path.join(self.made, "server.cert"))
        self.permissions = os.path.join(self.root, "permissions.zpl")
        with open(self.permissions, "w") as file:
            file.write(PERMISSIONS)

    def make(self, name, allow=True, keygen=False):
        """pyzmq writes the metadata into the _secret file only: the public file zgate reads is that
        file without its secret key, as czmq's zcert_save_public writes it."""
        if keygen:
            subprocess.run([KEYGEN, name, self.made], check=True, capture_output=True, timeout=10)
            os.rename(os.path.join(self.made, name + ".cert_secret"), os.path.join(self.made, name + ".key_secret"))
            os.rename(os.path.join(self.made, name + ".cert"), os.path.join(self.made, name + ".key"))
            secret = os.path.join(self.made, name + ".key_secret")
        else:
            _, secret = zmq.auth.create_certificates(self.made, name, metadata={"name": name})
        if allow:
            with open(secret) as source, open(os.path.join(self.allowed, name + ".key"), "w") as public:
                public.writelines(line for line in source if "secret-key" not in line)

    def revoke(self, name):
        os.remove(os.path.join(self.allowed, name + ".key"))

    def apply(self, socket, name):
        """Make socket a CURVE client with name's keys (a plain client if name is None)."""
        if name is not None:
            public, secret = zmq.auth.load_certificate(os.path.join(self.made, name + ".key_secret"))
            socket.curve_publickey = public
            socket.curve_secretkey = secret
            socket.curve_serverkey = self.server_public

    def flags(self):
        return {"security-server-cert": self.server_secret, "security-client-certs": self.allowed,
                "security-permissions": self.permissions}


class Dealer:
    """A DEALER speaking [command][req][fields...] with answers [OK|ERROR][req]..."""

    def __init__(self, test, endpoint, name):
        self.socket = test.socket(zmq.DEALER)
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.linger = 0
        test.keys.apply(self.socket, name)
        self.socket.connect(endpoint)
        self.req = itertools.count(1)
        self.events = []

    def send(self, command, *fields):
        req = b"%d" % next(self.req)
        self.socket.send_multipart([command.encode(), req] + [f if isinstance(f, bytes) else str(f).encode()
                                                              for f in fields])
        return req

    def request(self, command, *fields):
        req = self.send(command, *fields)
        while True:
            frames = self.socket.recv_multipart()
            if frames[0] in (b"OK", b"ERROR") and frames[1] == req:
                return frames
            self.events.append(frames)

    def ok(self, command, *fields):
        frames = self.request(command, *fields)
        assert frames[0] == b"OK", (command, fields, frames)
        return frames[2:]

    def forbidden(self, command, *fields):
        frames = self.request(command, *fields)
        assert frames[0] == b"ERROR" and frames[2] == b"403", (command, fields, frames)
        return frames[3].decode()

    def refused(self):
        """True if the connection never completes (CURVE refused): a PING gets no answer."""
        self.socket.rcvtimeo = 1000
        # A DEALER whose handshake was already refused has no peer: its send would block for ever
        self.socket.sndtimeo = 1000
        try:
            self.send("PING")
            self.socket.recv_multipart()
            return False
        except zmq.Again:
            return True


class Worker(Dealer):
    """A worker DEALER: [command][worker][fields...]."""

    def request(self, command, *fields):
        self.socket.send_multipart([command.encode(), b"w1"] + [f if isinstance(f, bytes) else str(f).encode()
                                                                for f in fields])
        return self.socket.recv_multipart()


class SecureCase(unittest.TestCase):
    """A zgate with CURVE and the permissions above, and certificates for alice, bob, carol, root (allowed)
    and mallory (not)."""

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        for name in ("alice", "bob", "carol"):
            cls.keys.make(name)
        cls.keys.make("root", keygen=True)
        cls.keys.make("mallory", allow=False)
        cls.zgate = Zgate(topics_history="sensors.h 10; weather.x 10", **cls.keys.flags()).start()
        cls.context = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.context.destroy(linger=0)
        code, _ = cls.zgate.stop()
        shutil.rmtree(cls.keys.root, ignore_errors=True)
        assert code == 0, "\n".join(cls.zgate.lines[-30:])

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        for socket in self.sockets:
            socket.close(linger=0)

    def socket(self, kind):
        """A socket closed at the end of the test."""
        socket = self.context.socket(kind)
        self.sockets.append(socket)
        return socket

    def dealer(self, flag, name):
        return Dealer(self, self.zgate.endpoint(flag), name)

    def subscriber(self, name, prefix):
        socket = self.socket(zmq.SUB)
        socket.rcvtimeo = TIMEOUT_MS
        socket.linger = 0
        self.keys.apply(socket, name)
        socket.connect(self.zgate.endpoint("topics-subscribers"))
        socket.subscribe(prefix)
        return socket

    def publisher(self, name):
        socket = self.socket(zmq.PUB)
        socket.linger = 0
        self.keys.apply(socket, name)
        socket.connect(self.zgate.endpoint("topics-publishers"))
        return socket

    def admin_stats(self):
        return msgpack.unpackb(self.dealer("queues-producers", "root").ok("STATS")[0], raw=False)


class TestCurve(SecureCase):
    def test_good_unknown_and_plain_clients(self):
        self.assertEqual(self.dealer("queues-producers", "alice").ok("PING"), [])
        self.assertTrue(self.dealer("queues-producers", "mallory").refused())
        self.assertTrue(self.dealer("queues-producers", None).refused())
        self.assertTrue(self.dealer("rooms-clients", "mallory").refused())

    def test_revoked_key_keeps_its_connection_but_cannot_reconnect(self):
        self.keys.make("dave")
        self.zgate.process.send_signal(signal.SIGHUP)
        wait_for(lambda: not self.dealer("queues-producers", "dave").refused(), timeout=10,
                 what="dave's key to be read")
        kept = self.dealer("queues-producers", "dave")
        self.assertEqual(kept.ok("PING"), [])
        self.keys.revoke("dave")
        self.zgate.process.send_signal(signal.SIGHUP)
        wait_for(lambda: self.dealer("queues-producers", "dave").refused(), timeout=10,
                 what="dave's key to be revoked")
        self.assertEqual(kept.ok("PING"), [])


class TestReloadUnderTraffic(SecureCase):
    def test_keys_added_and_removed_while_messages_flow_lose_none(self):
        """SIGHUP reads the certificates while bob publishes to alice: neither connection drops, every
        message arrives in order, and the new key connects while the removed one no longer can."""
        subscriber = self.subscriber("alice", b"sensors.flow")
        publisher = self.publisher("bob")
        for _ in range(100):
            publisher.send_multipart([b"sensors.flow", b"warm"])
            if subscriber.poll(50):
                break
        while subscriber.poll(200):
            subscriber.recv_multipart()
        received = []
        for number in range(300):
            if number == 100:
                self.keys.make("erin")
                self.zgate.process.send_signal(signal.SIGHUP)
            if number == 200:
                self.keys.revoke("erin")
                self.zgate.process.send_signal(signal.SIGHUP)
            publisher.send_multipart([b"sensors.flow", b"%d" % number])
            while subscriber.poll(5):
                received.append(int(subscriber.recv_multipart()[1]))
        while len(received) < 300 and subscriber.poll(TIMEOUT_MS):
            received.append(int(subscriber.recv_multipart()[1]))
        self.assertEqual(received, list(range(300)))
        wait_for(lambda: self.dealer("queues-producers", "erin").refused(), timeout=10, what="erin's removal")
        self.assertEqual(self.dealer("queues-producers", "bob").ok("PING"), [])


class TestAddressLists(unittest.TestCase):
    def test_allow_and_deny_lists_of_addresses(self):
        """security/allow admits only the addresses listed, security/deny refuses those it lists; CURVE
        still applies to an allowed address."""
        keys = Keys()
        context = zmq.Context()
        try:
            for name in ("alice", "mallory"):
                keys.make(name, allow=name == "alice")
            for lists, admitted in (({"security_allow": "127.0.0.1"}, {"alice"}),
                                    ({"security_allow": "10.1.2.3 10.1.2.4"}, set()),
                                    ({"security_deny": "127.0.0.1"}, set()),
                                    ({"security_deny": "10.1.2.3"}, {"alice"})):
                with Zgate(**keys.flags(), **lists) as zgate:
                    for name in ("alice", "mallory"):
                        dealer = context.socket(zmq.DEALER)
                        dealer.linger = 0
                        keys.apply(dealer, name)
                        dealer.connect(zgate.endpoint("queues-producers"))
                        dealer.rcvtimeo = dealer.sndtimeo = 1000
                        try:
                            dealer.send_multipart([b"PING", b"1"])
                            answered = dealer.recv_multipart()[:2] == [b"OK", b"1"]
                        except zmq.Again:
                            answered = False
                        dealer.close()
                        self.assertEqual(answered, name in admitted, (lists, name))
        finally:
            context.destroy(linger=0)
            shutil.rmtree(keys.root, ignore_errors=True)


class TestReload(SecureCase):
    def test_permissions_are_read_again_on_sighup(self):
        carol = self.dealer("queues-producers", "carol")
        carol.forbidden("SEND", "jobs.x", b"\x80", "x")
        with open(self.keys.permissions, "a") as file:
            file.write("        queues\n            send = jobs.*\n")        # carol's grants grow
        self.zgate.process.send_signal(signal.SIGHUP)
        wait_for(lambda: carol.request("SEND", "jobs.x", b"\x80", "x")[0] == b"OK", what="the new grant")
        with open(self.keys.permissions, "a") as file:
            file.write("        topics\n            shout = *\n")           # no such action: refused
        self.zgate.process.send_signal(signal.SIGHUP)
        wait_for(lambda: self.zgate._seen("keeps its security/permissions"), what="the refusal")
        self.assertEqual(carol.ok("SEND", "jobs.x", b"\x80", "x")[0][:1].isdigit(), True)


class TestTopics(SecureCase):
    def test_permitted_prefix_delivers_and_refused_one_gets_nothing(self):
        allowed = self.subscriber("alice", b"sensors.")
        refused = self.subscriber("alice", b"")
        elsewhere = self.subscriber("bob", b"weather.")
        wait_for(lambda: self.zgate.stats("topics")["denied-subscriptions"] >= 2, what="refusals")
        wait_for(lambda: self.zgate.stats("topics")["subscriptions"].get("sensors."), what="subscription")
        publisher = self.publisher("bob")
        for _ in range(100):
            publisher.send_multipart([b"sensors.t1", b"21"])
            if allowed.poll(50):
                break
        self.assertEqual(allowed.recv_multipart(), [b"sensors.t1", b"21"])
        publisher.send_multipart([b"weather.paris", b"denied publish"])
        publisher.send_multipart([b"$zgate.gateway.barrier", b"reserved"])
        publisher.send_multipart([b"sensors.t1", b"last"])
        while allowed.recv_multipart() != [b"sensors.t1", b"last"]:
            pass
        for socket in (refused, elsewhere):
            self.assertEqual(socket.poll(200), 0)
        stats = self.zgate.stats("topics")
        self.assertGreaterEqual(stats["denied-publishes"], 1)
        self.assertGreaterEqual(stats["reserved"], 1)
        self.assertNotIn("weather.paris", stats["topics"])
        self.assertNotIn("", stats["subscriptions"])


class TestHistory(SecureCase):
    def test_history_is_for_who_may_subscribe(self):
        publisher = self.publisher("bob")
        subscriber = self.subscriber("alice", b"sensors.")
        for _ in range(100):
            publisher.send_multipart([b"sensors.h", b"1"])
            if subscriber.poll(50):
                break
        alice = self.dealer("topics-history-requests", "alice")
        req = alice.send("LAST", "sensors.h")
        answer = alice.socket.recv_multipart()           # [LAST][req][epoch][top][1][seq][payload]
        self.assertEqual((answer[:2], answer[-1]), ([b"LAST", req], b"1"))
        self.assertIn("'alice' may not subscribe to 'weather.x'", alice.forbidden("LAST", "weather.x"))
        self.assertTrue(self.dealer("topics-history-requests", "mallory").refused())


class TestQueues(SecureCase):
    def test_permission_matrix(self):
        alice = self.dealer("queues-producers", "alice")
        carol = self.dealer("queues-producers", "carol")
        self.assertIn("may not send 'mail'", alice.forbidden("SEND", "mail", b"\x80", "x"))
        self.assertIn("'carol' may not send", carol.forbidden("SEND", "jobs.resize", b"\x80", "x"))
        alice.forbidden("CALL", b"\x80", "resize/1")
        alice.forbidden("STATS")
        task = alice.ok("SEND", "jobs.resize", b"\x80", "picture")[0]
        bob = self.dealer("queues-producers", "bob")
        self.assertIn("may not read the results of", bob.forbidden("GET", task))
        self.assertEqual(msgpack.unpackb(alice.ok("GET", task)[0])["queue"], "jobs.resize")
        self.assertEqual(msgpack.unpackb(self.dealer("queues-producers", "root").ok("GET", task)[0])["id"],
                         task.decode())
        worker = Worker(self, self.zgate.endpoint("queues-workers"), "carol")
        frames = worker.request("READY", msgpack.packb({"queues": ["jobs.resize"]}))
        self.assertEqual(frames[:3], [b"ERROR", b"w1", b"403"])
        stats = self.admin_stats()
        self.assertEqual(stats["denied"], 6)
        self.assertNotIn("mail", stats["queues"])
        self.assertEqual(stats["queues"]["jobs.resize"]["waiting"], 1)
        self.assertEqual(stats["workers"], 0)
        worker = Worker(self, self.zgate.endpoint("queues-workers"), "bob")
        self.assertEqual(worker.request("READY", msgpack.packb({"queues": ["jobs.resize"]}))[0], b"OK")


class TestCli(SecureCase):
    def test_zgate_cli_speaks_curve(self):
        """The C client library (zg_producer_new_secure) through zgate-cli's --cert and --server-key."""
        base = [CLI, "--queues-producers", self.zgate.endpoint("queues-producers"),
                "--cert", os.path.join(self.keys.made, "bob.key_secret"),
                "--server-key", os.path.join(self.keys.made, "server.cert")]
        run = subprocess.run(base + ["send", "jobs.cli", "x"], capture_output=True, text=True, timeout=20)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("jobs.cli", run.stdout)
        env = dict(os.environ, ZGATE_CLIENT_CERT=os.path.join(self.keys.made, "carol.key_secret"),
                   ZGATE_SERVER_KEY=self.keys.server_public.decode())
        run = subprocess.run(base[:3] + ["send", "jobs.cli", "x"], capture_output=True, text=True, timeout=20,
                             env=env)
        self.assertEqual(run.returncode, 1)
        self.assertIn("403", run.stdout + run.stderr)


class TestRooms(SecureCase):
    def test_permission_matrix(self):
        alice = self.dealer("rooms-clients", "alice")
        carol = self.dealer("rooms-clients", "carol")
        alice_id = alice.ok("HELLO")[0]
        carol_id = carol.ok("HELLO")[0]
        alice.forbidden("JOIN", alice_id, "backstage")
        alice.forbidden("JOIN", alice_id, "lobby", "async")
        alice.forbidden("SEND", "backstage", 0, "x")
        alice.forbidden("STATE", "lobby")
        alice.forbidden("PEEK", "lobby")
        alice.forbidden("METRICS")
        carol.forbidden("JOIN", carol_id, "lobby")
        carol.forbidden("SEND", "lobby", 0, "x")
        carol.ok("JOIN", carol_id, "lobby", "async")
        alice.ok("JOIN", alice_id, "lobby")
        state = msgpack.unpackb(carol.ok("STATE", "lobby")[0])
        self.assertEqual(len(state["members"]), 2)
        root = self.dealer("rooms-clients", "root")
        self.assertEqual(msgpack.unpackb(root.ok("STATE", "backstage")[0])["members"], [])
        self.assertEqual(msgpack.unpackb(root.ok("METRICS")[0])["rooms"], 1)



class TestRoomHijack(SecureCase):
    def test_hijack_refused(self):
        """Mallory-in-the-building (bob, a member too) reads the room and tries to act as alice."""
        alice = self.dealer("rooms-clients", "alice")
        bob = self.dealer("rooms-clients", "bob")
        alice_id = alice.ok("HELLO")[0]
        alice.ok("JOIN", alice_id, "lobby")
        bob.forbidden("STATE", "lobby")
        for command, fields in (("PING", ()), ("ACK", ("lobby", 1)), ("LEAVE", ("lobby",)), ("BYE", ()),
                                ("JOIN", ("lobby",))):
            self.assertIn("belongs to another connection", bob.forbidden(command, alice_id, *fields))
        #  alice is still a member, and her events still reach her own connection
        root = self.dealer("rooms-clients", "root")
        self.assertEqual(len(msgpack.unpackb(root.ok("STATE", "lobby")[0])["members"]), 1)
        bob.ok("SEND", "lobby", 0, "hello")
        alice.ok("PING", alice_id)
        delivery = alice.events.pop()
        self.assertEqual([delivery[0], delivery[-1]], [b"DELIVER", b"hello"])
        alice.ok("ACK", alice_id, "lobby", delivery[4])

    def test_same_identity_may_resume_its_client(self):
        """A client belongs to the identity that made it: alice's new connection takes its events."""
        first = self.dealer("rooms-clients", "alice")
        client = first.ok("HELLO")[0]
        first.ok("JOIN", client, "lobby")
        second = self.dealer("rooms-clients", "alice")
        second.ok("PING", client)
        self.dealer("rooms-clients", "bob").ok("SEND", "lobby", 0, "moved")
        second.ok("PING", client)
        self.assertEqual(second.events.pop()[-1], b"moved")
        self.assertEqual(first.socket.poll(200), 0)


class TestWithoutSecurity(unittest.TestCase):
    def test_off_loopback_refused(self):
        port = free_port()
        run = subprocess.run([ZGATE_BIN, "--topics-subscribers", f"tcp://0.0.0.0:{port}"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(run.returncode, 2)
        self.assertIn("is not on loopback", run.stderr)
        self.assertEqual(len(run.stderr.strip().splitlines()), 1)

    def test_reserved_topics_refused_to_native_publishers(self):
        with Zgate() as zgate:
            context = zmq.Context()
            subscriber = context.socket(zmq.SUB)
            subscriber.rcvtimeo = TIMEOUT_MS
            subscriber.connect(zgate.endpoint("topics-subscribers"))
            subscriber.subscribe(b"")
            publisher = context.socket(zmq.PUB)
            publisher.connect(zgate.endpoint("topics-publishers"))
            for _ in range(100):
                publisher.send_multipart([b"probe", b"x"])
                if subscriber.poll(50):
                    break
            publisher.send_multipart([b"$zgate.gateway.barrier", b"g1"])
            publisher.send_multipart([b"after", b"x"])
            topics = set()
            while b"after" not in topics:
                topics.add(subscriber.recv_multipart()[0])
            self.assertNotIn(b"$zgate.gateway.barrier", topics)
            wait_for(lambda: zgate.stats("topics")["reserved"] == 1, what="the reserved count")
            subscriber.close(linger=0)
            publisher.close(linger=0)
            context.term()

    def test_bad_security_settings_refused(self):
        keys = Keys()
        try:
            for flags, message in (
                    ({"security-server-cert": keys.server_secret}, "is not a directory"),
                    ({"security-server-cert": "/no/such", "security-client-certs": keys.allowed},
                     "cannot read a czmq certificate"),
                    (dict(keys.flags(), **{"security-permissions": keys.allowed}), "no such file"),
                    (dict(keys.flags(), **{"security-permissions": keys.server_secret}), "not users or grants")):
                zgate = Zgate(**flags)
                run = subprocess.run(zgate.command(), capture_output=True, text=True, timeout=10)
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn(message, run.stderr)
        finally:
            shutil.rmtree(keys.root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
