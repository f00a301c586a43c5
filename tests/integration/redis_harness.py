"""A redis-server of a test's own on a free port, for the cluster tests. Without persistence by default; with
`aof_dir`, AOF with `appendfsync always` in that directory, so a restart (start() again, same port) reads back
every write Redis answered."""
import signal
import socket
import subprocess

from zgate_harness import free_port, wait_for


class RedisServer:
    def __init__(self, aof_dir=None):
        self.port = free_port()
        self.aof_dir = aof_dir
        self.process = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        persistence = (["--appendonly", "yes", "--appendfsync", "always", "--dir", self.aof_dir] if self.aof_dir
                       else ["--appendonly", "no"])
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--loglevel", "warning"]
            + persistence, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.answers() or self.process.poll() is not None, what="redis-server to answer")
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}")
        return self

    def stop(self):
        """kill -9: what Redis answered is on disk only with AOF."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
