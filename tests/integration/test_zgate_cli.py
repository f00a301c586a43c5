"""zgate-cli against a real zgate: every subcommand in human and --json output, --help on stdout with
exit 0 for every subcommand, bad usage with exit 2, zgate's errors with exit 1; and every example
answers --help."""
import glob
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from zgate_harness import Zgate, wait_for  # noqa: E402

BUILD_DIR = os.environ.get("ZGATE_BUILD_DIR", "build")
CLI = os.path.join(BUILD_DIR, "tools", "zgate-cli", "zgate-cli")
COMMANDS = ["pub", "sub", "send", "add", "request", "call", "consume", "get", "take", "finish", "retry",
            "room send", "room join", "room peek", "room state", "room metrics", "stats"]


class CliTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zgate = Zgate(rooms_hold=1).start()
        cls.env = dict(os.environ)
        for flag in ("topics-publishers", "topics-subscribers", "queues-producers", "queues-workers",
                     "rooms-clients"):
            cls.env["ZGATE_" + flag.upper().replace("-", "_")] = cls.zgate.endpoint(flag)
        cls.env["ZGATE_URL"] = f"http://127.0.0.1:{cls.zgate.endpoint('gateway-http-port')}"

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.zgate.stop()
        assert code == 0, code

    def cli(self, *args, code=0):
        result = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=30, env=self.env)
        self.assertEqual(result.returncode, code, f"{args}: {result.stdout}{result.stderr}")
        return result

    def json_lines(self, *args):
        out = self.cli(*args, "--json").stdout
        return [json.loads(line) for line in out.splitlines()]

    def background(self, *args):
        return subprocess.Popen([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)

    def finish(self, process):
        out, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 0, out + err)
        return out

    def wait_command_workers(self, command, count):
        def serving():
            commands = self.json_lines("stats")[0]["queues"]["commands"]
            return commands.get(command, {}).get("workers") == count
        wait_for(serving, what=f"{count} workers of {command}")

    def test_help_of_every_command_goes_to_stdout(self):
        top = self.cli("--help").stdout
        for command in COMMANDS:
            self.assertIn(command + " ", top)
            result = self.cli(*command.split(), "--help")
            self.assertTrue(result.stdout.startswith(f"Usage: zgate-cli {command}"), result.stdout)
            self.assertEqual(result.stderr, "")
        self.assertIn("room metrics", self.cli("room", "--help").stdout)

    def test_bad_usage_exits_2_with_one_line(self):
        for args in (["bogus"], ["room"], ["pub"], ["send", "jobs"], ["get", "1", "--bogus"],
                     ["send", "jobs", "x", "--priority", "high"], ["stats", "--url", "ftp://x"]):
            result = self.cli(*args, code=2)
            self.assertEqual(result.stdout, "")
            self.assertTrue(result.stderr.startswith("zgate-cli"), result.stderr)
        self.assertIn("Commands:", self.cli(code=2).stderr)

    def test_pub_and_sub(self):
        human = self.background("sub", "cli.", "--count", "1", "--timeout", "10000")
        machine = self.background("sub", "--count", "2", "--timeout", "10000", "--json")
        # a SUB's subscription travels asynchronously: publish until both have what they wait for
        published = 0
        while human.poll() is None or machine.poll() is None:
            self.assertLess(published, 40, "the subscribers got nothing")
            published += json.loads(self.cli("pub", "cli.news", "hello world", "--json").stdout)["published"]
            time.sleep(0.25)
        self.assertEqual(self.finish(human), "cli.news: hello world\n")
        messages = [json.loads(line) for line in self.finish(machine).splitlines()]
        self.assertEqual(messages, [{"topic": "cli.news", "data": "hello world"}] * 2)
        self.assertEqual(self.cli("pub", "cli.x", "y", "--count", "3").stdout, "published 3 messages on cli.x\n")
        lines = subprocess.run([CLI, "pub", "cli.lines"], input="a\nb\n", capture_output=True, text=True,
                               timeout=30, env=self.env)
        self.assertEqual(lines.stdout, "published 2 messages on cli.lines\n")
        # nothing arrives: --count with --timeout fails, --timeout alone ends quietly
        self.cli("sub", "nobody.", "--count", "1", "--timeout", "300", code=1)
        self.assertEqual(self.cli("sub", "nobody.", "--timeout", "300").stdout, "")

    def test_send_consume_get(self):
        first = self.cli("send", "cli-jobs", "one").stdout
        self.assertRegex(first, r"^task \d+ queued on cli-jobs\n$")
        second = self.json_lines("send", "cli-jobs", "two", "--priority", "3")[0]
        self.assertEqual(second["queue"], "cli-jobs")
        out = self.cli("consume", "cli-jobs", "--count", "2", "--reply", "done", "--timeout", "5000").stdout
        self.assertEqual(out, "cli-jobs: two\ncli-jobs: one\n")   # higher priority first
        task = self.json_lines("get", second["id"])[0]
        self.assertEqual((task["state"], task["priority"], task["reply"], task["queue"]), ("done", 3, "done", "cli-jobs"))
        human = self.cli("get", first.split()[1]).stdout
        self.assertIn("state: done\n", human)
        self.assertIn("reply: done\n", human)
        missing = self.cli("get", "999999", code=1)
        self.assertIn("404", missing.stderr)

    def test_request_and_call(self):
        worker = self.background("consume", "cli-echo", "--reply", "pong", "--count", "2", "--timeout", "10000")
        self.assertEqual(self.cli("request", "cli-echo", "ping").stdout, "pong\n")
        self.assertEqual(self.json_lines("request", "cli-echo", "ping"), [{"reply": "pong"}])
        self.assertEqual(self.finish(worker), "cli-echo: ping\ncli-echo: ping\n")
        self.assertIn("408", self.cli("request", "cli-nobody", "x", "--timeout", "300", code=1).stderr)

        workers = [self.background("consume", "cli-version", "--command", "--reply", reply, "--count", "1",
                                   "--timeout", "10000") for reply in ("v1", "v2")]
        self.wait_command_workers("cli-version", 2)
        replies = self.json_lines("call", "cli-version/", "--scatter")[0]["replies"]
        self.assertEqual(sorted(replies), ["v1", "v2"])
        self.assertEqual([self.finish(process) for process in workers], ["cli-version: \n"] * 2)
        worker = self.background("consume", "cli-version", "--command", "--reply", "v3", "--count", "1",
                                 "--timeout", "10000")
        self.wait_command_workers("cli-version", 1)
        self.assertEqual(self.cli("call", "cli-version/x", "--timeout", "10000").stdout, "v3\n")
        self.assertEqual(self.finish(worker), "cli-version: x\n")
        self.assertIn("404", self.cli("call", "cli-unknown/x", code=1).stderr)

    def test_rooms(self):
        self.assertRegex(self.cli("room", "send", "cli-room", "first").stdout, r"^message \d+ queued in cli-room\n$")
        sent = self.json_lines("room", "send", "cli-room", "urgent", "--priority", "5")[0]
        peek = self.json_lines("room", "peek", "cli-room")[0]
        self.assertEqual([m["data"] for m in peek["messages"]], ["urgent", "first"])
        self.assertEqual(peek["messages"][0]["seq"], sent["seq"])
        human = self.cli("room", "peek", "cli-room").stdout
        self.assertIn("messages:\n  - seq: %d\n" % sent["seq"], human)
        self.assertEqual(self.json_lines("room", "state", "cli-room")[0]["backlog"], 2)
        self.assertIn("backlog: 2\n", self.cli("room", "state", "cli-room").stdout)
        # a member takes both (the room holds them: rooms/hold is on), acking each
        out = self.cli("room", "join", "cli-room", "--count", "2", "--timeout", "10000").stdout
        self.assertEqual([line.split(": ", 1)[1] for line in out.splitlines()], ["urgent", "first"])
        self.assertEqual(self.json_lines("room", "state", "cli-room")[0]["backlog"], 0)
        observer = self.background("room", "join", "cli-oob", "--async", "--count", "1", "--timeout", "10000",
                                   "--json")
        wait_for(lambda: self.json_lines("room", "state", "cli-oob")[0]["members"], what="the observer")
        self.assertEqual(self.cli("room", "send", "cli-oob", "now", "--oob").stdout,
                         "out-of-band message reached 1 member of cli-oob\n")
        self.assertEqual(json.loads(self.finish(observer)),
                         {"event": "oob", "room": "cli-oob", "data": "now"})
        metrics = self.json_lines("room", "metrics", "--top", "3")[0]
        self.assertIn("rooms", metrics)
        self.assertIn("clients: ", self.cli("room", "metrics").stdout)
        self.assertIn("400", self.cli("room", "send", "", "x", code=1).stderr)

    def test_stats(self):
        stats = self.json_lines("stats")[0]
        self.assertIn("queues", stats)
        self.assertIn("gateway:\n  sessions: ", self.cli("stats").stdout)
        self.assertIn("cannot connect", self.cli("stats", "--url", "http://127.0.0.1:1", code=1).stderr)

    def test_flags_override_the_environment(self):
        env_endpoint = self.env["ZGATE_QUEUES_PRODUCERS"]
        self.env["ZGATE_QUEUES_PRODUCERS"] = "tcp://127.0.0.1:1"
        try:
            self.cli("send", "cli-flags", "x", "--timeout", "300", code=1)
            self.cli("send", "cli-flags", "x", "--queues-producers", env_endpoint)
            self.cli("send", "cli-flags", "x", f"--queues-producers={env_endpoint}")
        finally:
            self.env["ZGATE_QUEUES_PRODUCERS"] = env_endpoint


class ExamplesHelpTestCase(unittest.TestCase):
    def test_every_example_answers_help(self):
        programs = [path for path in glob.glob(os.path.join(BUILD_DIR, "examples", "*", "*"))
                    if os.path.isfile(path) and os.access(path, os.X_OK)]
        self.assertGreaterEqual(len(programs), 13)
        for program in programs:
            result = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 0, program)
            self.assertTrue(result.stdout.startswith("Usage: " + os.path.basename(program)), program)
            bad = subprocess.run([program, "--bogus"], capture_output=True, text=True, timeout=10)
            self.assertEqual((bad.returncode, bad.stdout), (2, ""), program)
            self.assertIn("unknown option --bogus", bad.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
