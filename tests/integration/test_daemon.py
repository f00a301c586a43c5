"""The zgate daemon as an operator runs it: GNU command line, environment typos, one-line start-up
errors, log levels, SIGHUP reload and the systemd notify protocol."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import ZGATE_BIN, Zgate, free_port, wait_for  # noqa: E402


def run_zgate(*args, env=None):
    return subprocess.run([ZGATE_BIN, *args], capture_output=True, text=True, timeout=10,
                          env={**os.environ, **(env or {})})


def io_threads(zgate):
    """How many libzmq I/O threads zgate runs (libzmq names them ZMQbg/IO/<n>, from 0)."""
    names = []
    for task in os.listdir(f"/proc/{zgate.process.pid}/task"):
        with open(f"/proc/{zgate.process.pid}/task/{task}/comm") as comm:
            names.append(comm.read().strip())
    io = sorted(name for name in names if name.startswith("ZMQbg/IO/"))
    assert io == [f"ZMQbg/IO/{index}" for index in range(len(io))], names
    return len(io)


class ConfigFile:
    """A temporary ZPL file that a test rewrites."""

    def __init__(self, text):
        handle, self.name = tempfile.mkstemp(suffix=".cfg")
        os.close(handle)
        self.write(text)

    def write(self, text):
        with open(self.name, "w") as file:
            file.write(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.unlink(self.name)


def zgate_with_file(config, *file_keys):
    """A Zgate whose keys file_keys come from the config file (the harness passes every other key as a flag)."""
    zgate = Zgate(config=config.name)
    for key in file_keys:
        del zgate.flags[key]
    return zgate


class CommandLineTest(unittest.TestCase):
    def test_help_and_version_go_to_stdout_and_exit_0_from_any_position(self):
        for args in (["--help"], ["-h"], ["--topics-max-topics", "5", "--help"]):
            result = run_zgate(*args)
            self.assertEqual((result.returncode, result.stderr), (0, ""), args)
            self.assertIn("-c, --config FILE", result.stdout)
        for args in (["--version"], ["-V"], ["--topics-max-topics=5", "-V"]):
            result = run_zgate(*args)
            self.assertEqual(result.returncode, 0, args)
            self.assertRegex(result.stdout, r"^zgate \d+\.\d+\.\d+ \(commit ([0-9a-f]+|unknown)\)\n$")

    def test_config_file_in_every_gnu_form(self):
        with ConfigFile("topics\n    max-topics = x\n") as config:
            for args in (["--config", config.name], [f"--config={config.name}"], ["-c", config.name],
                         ["--topics-sndhwm=5", "-c", config.name]):
                result = run_zgate(*args)
                self.assertEqual(result.returncode, 2, args)
                self.assertEqual(result.stderr.strip().splitlines(),
                                 ["zgate: topics/max-topics: 'x' is not an integer from 1 to 10000000"], args)

    def test_every_start_up_error_is_one_line_and_exit_2(self):
        with ConfigFile("topics\n  max-topics = 7\n") as broken:
            cases = [
                ((["-c"], {}), "zgate: option '-c' needs a FILE"),
                (([], {"ZGATE_TOPICS_MAX_TOPICZ": "5"}),
                 "zgate: unknown environment variable 'ZGATE_TOPICS_MAX_TOPICZ' (see --help)"),
                ((["-c", broken.name], {}),
                 f"zgate: config file '{broken.name}' is not valid ZPL: (2) indent 4 spaces at once"),
                ((["--server-log-target", "printer"], {}),
                 "zgate: server/log-target: 'printer' is not stderr or syslog"),
                ((["--server-io-threads", "65"], {}),
                 "zgate: server/io-threads: '65' is not an integer from 0 to 64"),
                ((["--server-io-threads", "-1"], {}),
                 "zgate: server/io-threads: '-1' is not an integer from 0 to 64"),
                (([], {"ZGATE_SERVER_IO_THREADS": "2x"}),
                 "zgate: server/io-threads: '2x' is not an integer from 0 to 64"),
            ]
            for (args, env), line in cases:
                result = run_zgate(*args, env=env)
                self.assertEqual(result.returncode, 2, args)
                self.assertEqual(result.stdout, "", args)
                self.assertEqual(result.stderr.strip().splitlines(), [line], args)

    def test_a_variable_of_no_zgate_section_is_not_ours(self):
        result = run_zgate("--version", env={"ZGATE_SOMETHING": "1", "ZGATE_CONFIG_DIR": "/x"})
        self.assertEqual(result.returncode, 0, result.stderr)


class RunningDaemonTest(unittest.TestCase):
    def test_start_up_line_lists_every_endpoint(self):
        with Zgate() as zgate:
            line = next(line for line in zgate.lines if "running" in line)
            for flag in ("topics-subscribers", "topics-publishers", "queues-producers", "queues-workers",
                         "rooms-clients"):
                self.assertIn(zgate.endpoint(flag), line)
            self.assertIn(f"web http://127.0.0.1:{zgate.endpoint('gateway-http-port')}/", line)

    def test_io_threads_sets_libzmqs_io_threads(self):
        for threads in (1, 3):
            with Zgate(server_io_threads=threads) as zgate:
                self.assertEqual(io_threads(zgate), threads)

    def test_io_threads_default_is_one_per_two_cores_with_curve_only(self):
        with Zgate() as zgate:
            self.assertEqual(io_threads(zgate), 1)
        keys = tempfile.mkdtemp(prefix="zgate-io-threads-")
        try:
            subprocess.run([os.path.join(os.path.dirname(ZGATE_BIN), "zgate-keygen"), "server", keys], check=True,
                           capture_output=True, timeout=10)
            curve = {"security_server_cert": os.path.join(keys, "server.cert_secret"), "security_client_certs": keys}
            with Zgate(**curve) as zgate:
                self.assertEqual(io_threads(zgate), min(max(os.sysconf("SC_NPROCESSORS_ONLN") // 2, 1), 64))
            with Zgate(server_io_threads=3, **curve) as zgate:
                self.assertEqual(io_threads(zgate), 3)
        finally:
            shutil.rmtree(keys, ignore_errors=True)

    def test_log_level_filters_lines_and_sighup_changes_it(self):
        with ConfigFile("server\n    log-level = warn\n") as config:
            zgate = zgate_with_file(config, "server-log-level")
            zgate.process = subprocess.Popen(zgate.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             text=True)
            threading.Thread(target=zgate._read_output, args=(zgate.process,), daemon=True).start()
            try:
                time.sleep(1.0)    # ten stats intervals: at warn, neither they nor the start-up line show
                self.assertTrue(zgate.alive())
                self.assertEqual([line for line in zgate.lines if line.strip()], [])
                config.write("server\n    log-level = info\n")
                zgate.process.send_signal(signal.SIGHUP)
                wait_for(lambda: zgate._seen("stats topics "), what="stats lines after the reload")
                self.assertTrue(zgate._seen("reload: server/log-level = info"))
                self.assertTrue(zgate.alive())
            finally:
                code, _ = zgate.stop()
            self.assertEqual(code, 0)

    def test_sighup_applies_limits_keeps_endpoints_and_refuses_a_bad_file(self):
        port = free_port()
        with ConfigFile(f'topics\n    max-topic-size = 4\n    subscribers = "tcp://127.0.0.1:{port}"\n') as config, \
                zgate_with_file(config, "topics-max-topic-size", "topics-subscribers") as zgate:
            context = zmq.Context()
            context.linger = 0
            try:
                sub = context.socket(zmq.SUB)
                sub.rcvtimeo = 5000
                sub.connect(f"tcp://127.0.0.1:{port}")
                sub.subscribe(b"")
                pub = context.socket(zmq.XPUB)
                pub.rcvtimeo = 5000
                pub.connect(zgate.endpoint("topics-publishers"))
                pub.recv()
                # The subscription is in place once a probe arrives (zgate's own gateway may hold "" too)
                for _ in range(100):
                    pub.send_multipart([b"p", b"probe"])
                    if sub.poll(50):
                        break
                while sub.poll(200):
                    self.assertEqual(sub.recv_multipart(), [b"p", b"probe"])
                pub.send_multipart([b"long.topic", b"1"])
                wait_for(lambda: zgate.stats("topics")["malformed"] == 1, what="too long a topic refused")

                config.write('topics\n    max-topic-size = 64\n    subscribers = "tcp://127.0.0.1:1"\n')
                zgate.process.send_signal(signal.SIGHUP)
                wait_for(lambda: zgate._seen("zgate reloaded: 1 key changed"), what="the reload")
                self.assertTrue(zgate._seen(f"reload: topics/subscribers keeps tcp://127.0.0.1:{port}: "
                                            "changes on a restart only"))
                self.assertTrue(zgate._seen("reload: topics/max-topic-size = 64"))
                pub.send_multipart([b"long.topic", b"2"])
                self.assertEqual(sub.recv_multipart(), [b"long.topic", b"2"])

                config.write("topics\n  max-topic-size = 8\n")
                zgate.process.send_signal(signal.SIGHUP)
                wait_for(lambda: zgate._seen("reload refused, nothing changed"), what="a refused reload")
                pub.send_multipart([b"long.topic", b"3"])
                self.assertEqual(sub.recv_multipart(), [b"long.topic", b"3"])
            finally:
                context.destroy(linger=0)

    def test_systemd_notify_protocol(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "notify")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            listener.bind(path)
            listener.settimeout(10)
            zgate = Zgate()
            os.environ["NOTIFY_SOCKET"] = path
            try:
                zgate.start()
            finally:
                del os.environ["NOTIFY_SOCKET"]
            try:
                self.assertEqual(listener.recv(64), b"READY=1")
                zgate.process.send_signal(signal.SIGHUP)
                self.assertEqual(listener.recv(64), b"RELOADING=1")
                self.assertEqual(listener.recv(64), b"READY=1")
            finally:
                code, _ = zgate.stop()
                listener.close()
            self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
