"""Runs a real zgate process on free loopback ports for the integration tests.

Every tcp://127.0.0.1:PORT endpoint and every *-port key that `zgate --help` lists
gets a free port, so tests never collide with each other or with a running zgate.
Every wait is bounded, and the process is always stopped (SIGTERM, then SIGKILL).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

ZGATE_BIN = os.environ.get("ZGATE_BIN") or os.path.join(
    os.environ.get("ZGATE_BUILD_DIR", "build"), "gateway", "zgate")
HELP_LINE = re.compile(r"^\s+--(\S+)\s+.*\[(.*)\]$")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def default_flags():
    """flag -> default value, as `zgate --help` prints them."""
    out = subprocess.run([ZGATE_BIN, "--help"], capture_output=True, text=True, timeout=10).stdout
    flags = {}
    for line in out.splitlines():
        match = HELP_LINE.match(line)
        if match:
            flags[match.group(1)] = match.group(2)
    return flags


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_everything(pub):
    """An XPUB connected to zgate's publishers' endpoint: wait for zgate's subscription to everything, which
    shows its XSUB has connected (zgate also passes on its subscribers' prefixes, before or after it)."""
    while pub.recv() != b"\x01":
        pass


class Zgate:
    """A zgate process: `with Zgate() as zg: zg.endpoint("topics-subscribers")`."""

    def __init__(self, stats_interval=100, wrapper=(), **overrides):
        self.wrapper = list(wrapper)
        self.overrides = {key.replace("_", "-"): str(value) for key, value in overrides.items()}
        self.overrides.setdefault("server-stats-interval", str(stats_interval))
        self.defaults = default_flags()
        # Two gateway threads unless the environment says otherwise, so that the tests cover the hand-over of
        # sessions between threads on any machine (the default, one less than the cores, is 1 on 2 cores)
        if "ZGATE_GATEWAY_THREADS" not in os.environ and "gateway-threads" in self.defaults:
            self.defaults["gateway-threads"] = "2"
        self._pick_ports()
        self.process = None
        self.lines = []
        self.lock = threading.Lock()

    def _pick_ports(self):
        """Free ports for every endpoint the test did not set itself."""
        self.flags = {}
        for flag, value in self.defaults.items():
            if re.fullmatch(r"tcp://127\.0\.0\.1:\d+", value):
                value = f"tcp://127.0.0.1:{free_port()}"
            elif flag.endswith("-port") and value.isdigit() and value != "0":
                value = str(free_port())
            self.flags[flag] = value
        self.flags.update(self.overrides)

    def endpoint(self, flag):
        return self.flags[flag]

    def command(self):
        args = self.wrapper + [ZGATE_BIN]
        for flag, value in self.flags.items():
            args += [f"--{flag}", value]
        return args

    def start(self, attempts=5):
        """Start zgate; a free port taken by another process meanwhile means new ports and a retry."""
        for attempt in range(attempts):
            with self.lock:
                self.lines = []
            self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True)
            threading.Thread(target=self._read_output, args=(self.process,), daemon=True).start()
            wait_for(lambda: self._seen("running") or self.process.poll() is not None,
                     timeout=30 if self.wrapper else 10, what="zgate to start")
            if self.process.poll() is None:
                return self
            self.process.wait(timeout=5)
            port_taken = self._seen("in use") or self._seen("cannot listen")
            if not port_taken or attempt == attempts - 1:
                raise AssertionError("zgate exited at start:\n" + "\n".join(self.lines))
            self._pick_ports()
        return self

    def _read_output(self, process):
        for line in process.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))
            if os.environ.get("ZGATE_TEST_VERBOSE"):
                sys.stderr.write("zgate| " + line)

    def _seen(self, text):
        with self.lock:
            return any(text in line for line in self.lines)

    def stats(self, section, fresh=True):
        """The newest `stats <section> {...}` log line, waiting for one logged after this call."""
        marker = f"stats {section} "
        with self.lock:
            start = len(self.lines)

        def latest():
            with self.lock:
                lines = self.lines[start:] if fresh else self.lines
                for line in reversed(lines):
                    if marker in line:
                        return json.loads(line.split(marker, 1)[1])
            return None
        return wait_for(latest, timeout=10, what=f"stats for {section}")

    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout=None):
        """SIGTERM and wait; returns (exit code, seconds it took)."""
        if self.process is None or self.process.poll() is not None:
            return (self.process.returncode if self.process else None), 0.0
        timeout = timeout or (30.0 if self.wrapper else 5.0)
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError("zgate did not stop within %.1fs of SIGTERM" % timeout)
        return code, time.monotonic() - started

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        code, _ = self.stop()
        if exc[0] is None and code != 0:
            raise AssertionError(f"zgate exited with {code}:\n" + "\n".join(self.lines[-30:]))
