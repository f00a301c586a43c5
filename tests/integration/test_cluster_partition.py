"""A network partition between one zgate node and Redis: the node runs inside a network namespace made by the
test, whose only path to Redis is a veth pair; the test takes the link down, the node's /ready answers 503
within the configured timeout while the room moves on without it (the other node's sweep takes it for dead),
then the link comes back and the node recovers (204), announces its members again and serves them. Needs root
and `ip` (iproute2); skipped, saying why, where network namespaces cannot be made."""
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, free_port, wait_for  # noqa: E402
from test_cluster import RedisServer  # noqa: E402
from test_cluster_rooms import Member  # noqa: E402

TIMEOUT_MS = 2000           # cluster/timeout: silence of a Redis that owes an answer
NODE_TIMEOUT_MS = 3000      # cluster/node-timeout (a loaded machine must not take a live node for dead)
PEER_STATS_MS = 200         # gateway/peer-stats-interval: how soon /ready sees the cluster's health
TAG = "zgp%d" % (os.getpid() % 100000)
SUBNET = "10.213.%d" % (os.getpid() % 250)
HOST_IP, NODE_IP = SUBNET + ".1", SUBNET + ".2"


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=20)


def namespaces_impossible():
    """Why a namespace with a veth pair cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip"):
        return "no `ip` on PATH (Debian's iproute2)"
    if not shutil.which("redis-server"):
        return "no redis-server on PATH (Debian's redis-server package)"
    probe = sh("ip", "netns", "add", TAG + "probe")
    if probe.returncode != 0:
        return "cannot make a network namespace: " + probe.stderr.strip()
    sh("ip", "netns", "del", TAG + "probe")
    return None


class PartitionRedis(RedisServer):
    """The test's redis-server, listening on loopback and on the host's end of the veth pair."""

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", HOST_IP, "--protected-mode", "no",
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.answers() or self.process.poll() is not None, what="redis-server to answer")
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}")
        return self


class PartitionTest(unittest.TestCase):
    def setUp(self):
        reason = namespaces_impossible()
        if reason:
            self.skipTest(reason)
        self.netns, self.host_end, self.node_end = TAG, TAG + "h", TAG + "n"
        self.addCleanup(self.remove_namespace)
        for command in (["ip", "netns", "add", self.netns],
                        ["ip", "link", "add", self.host_end, "type", "veth", "peer", "name", self.node_end],
                        ["ip", "link", "set", self.node_end, "netns", self.netns],
                        ["ip", "addr", "add", HOST_IP + "/30", "dev", self.host_end],
                        ["ip", "link", "set", self.host_end, "up"],
                        ["ip", "netns", "exec", self.netns, "ip", "addr", "add", NODE_IP + "/30", "dev", self.node_end],
                        ["ip", "netns", "exec", self.netns, "ip", "link", "set", self.node_end, "up"],
                        ["ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up"]):
            done = sh(*command)
            self.assertEqual(done.returncode, 0, f"{' '.join(command)}: {done.stderr}")
        self.redis = PartitionRedis()
        self.addCleanup(self.redis.stop)
        self.redis.start()
        self.context = zmq.Context()
        self.context.linger = 0
        self.addCleanup(self.context.destroy, 0)

    def remove_namespace(self):
        sh("ip", "link", "del", self.host_end)
        sh("ip", "netns", "del", self.netns)

    def start_node(self, redis, **flags):
        node = Zgate(cluster_redis=redis, cluster_timeout=TIMEOUT_MS, cluster_reconnect_max=200,
                     cluster_node_timeout=NODE_TIMEOUT_MS, gateway_peer_stats_interval=PEER_STATS_MS, **flags)
        self.addCleanup(lambda: node.alive() and node.stop())
        return node.start()

    def ready_inside(self, node):
        """GET /ready of the node in the namespace, asked from inside it (its HTTP port is on its loopback)."""
        script = ("import http.client; c = http.client.HTTPConnection('127.0.0.1', %s, timeout=2); "
                  "c.request('GET', '/ready'); print(c.getresponse().status)" % node.endpoint("gateway-http-port"))
        done = sh("ip", "netns", "exec", self.netns, sys.executable, "-c", script)
        return int(done.stdout) if done.returncode == 0 and done.stdout.strip().isdigit() else None

    def send(self, producer, payload):
        producer.send_multipart([b"SEND", b"s", b"cut", b"0", payload])
        self.assertEqual(producer.recv_multipart()[0], b"OK")

    def settle(self, producer, members):
        deadline = time.monotonic() + 10
        waiting = list(members)
        while waiting:
            self.assertLess(time.monotonic(), deadline, "a member's node never joined the room in Redis")
            producer.send_multipart([b"OOB", b"o", b"cut", b"probe"])
            producer.recv_multipart()
            waiting = [member for member in waiting if member.next(b"OOB", 50) is None]
        for member in members:
            while member.next(b"OOB", 100):
                pass

    def test_partition_from_redis(self):
        outside = self.start_node(self.redis.address)
        inside = self.start_node(f"{HOST_IP}:{self.redis.port}", wrapper=["ip", "netns", "exec", self.netns],
                                 rooms_clients=f"tcp://{NODE_IP}:{free_port()}", security_allow_insecure=1)
        wait_for(lambda: self.ready_inside(inside) == 204, timeout=15, what="/ready 204 inside the namespace")
        # a member on each node, in lockstep through Redis
        member_in = Member(self.context, inside, b"cut")
        member_out = Member(self.context, outside, b"cut")
        producer = self.context.socket(zmq.DEALER)
        for sock in (member_in.socket, member_out.socket, producer):
            self.addCleanup(sock.close)
        producer.rcvtimeo = 5000
        producer.connect(outside.endpoint("rooms-clients"))
        self.settle(producer, [member_in, member_out])
        self.send(producer, b"before")
        for member in (member_in, member_out):
            deliver = member.next()
            self.assertEqual(deliver[5], b"before")
            member.ack(deliver)

        # cut the only path between the inside node and Redis
        cut = time.monotonic()
        self.assertEqual(sh("ip", "link", "set", self.host_end, "down").returncode, 0)
        wait_for(lambda: self.ready_inside(inside) == 503, timeout=10, what="/ready 503 inside the namespace")
        # found by its pings within the timeout (plus one ping period), then seen by the gateway's next stats
        self.assertLess(time.monotonic() - cut, (TIMEOUT_MS * 4 / 3 + PEER_STATS_MS + 1000) / 1000)
        # the room moves on without the cut-off node once the other node's sweep takes it for dead
        self.send(producer, b"during 1")
        self.send(producer, b"during 2")
        for payload in (b"during 1", b"during 2"):
            deliver = member_out.next(timeout=NODE_TIMEOUT_MS * 4)
            self.assertIsNotNone(deliver, "the room waited for a node cut off from Redis")
            self.assertEqual(deliver[5], payload)
            member_out.ack(deliver)

        # restore: the node recovers, announces its member again and serves it
        self.assertEqual(sh("ip", "link", "set", self.host_end, "up").returncode, 0)
        wait_for(lambda: self.ready_inside(inside) == 204, timeout=15, what="/ready 204 after the partition")
        member_in.ping()
        self.settle(producer, [member_in, member_out])
        self.send(producer, b"after")
        for member in (member_in, member_out):
            deliver = member.next()
            self.assertIsNotNone(deliver, "the node did not serve its member again after the partition")
            self.assertEqual(deliver[5], b"after")
            member.ack(deliver)
        self.assertEqual(inside.stop()[0], 0)
        self.assertEqual(outside.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
