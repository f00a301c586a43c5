"""The JavaScript client as a package: clients/js/msgpack.js against Python's msgpack, zgate.d.ts against
TypeScript, and the npm package (`npm pack --dry-run`). No zgate needed."""
import base64
import json
import os
import shutil
import subprocess
import unittest

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "..", "..", "clients", "js")
TSC = os.path.join(HERE, "..", "browser", "node_modules", "typescript", "bin", "tsc")
NODE = shutil.which("node")
NPM = shutil.which("npm")

# Values that reach every msgpack type the gateway uses, at the edges of each size class
VALUES = [
    None, True, False, 0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 64 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -2 ** 31, -2 ** 31 - 1, -2 ** 63, 0.5, -1e300,
    "", "a" * 31, "b" * 32, "c" * 255, "d" * 256, "é" * 40000, "x" * 70000,
    b"", b"\x00\xff", b"z" * 256, b"y" * 70000,
    list(range(15)), list(range(16)), list(range(70000)),
    {f"k{n}": n for n in range(15)}, {f"k{n}": n for n in range(16)}, {"nested": [{"a": [b"\x01"]}]},
    {"__proto__": 1},
]


class JsPackageTest(unittest.TestCase):

    def setUp(self):
        self.assertTrue(NODE and NPM, "node and npm are needed (README's test command installs them)")

    def run_codec(self, lines):
        out = subprocess.run([NODE, os.path.join(HERE, "js_msgpack_check.mjs")], capture_output=True, text=True,
                             input="".join(base64.b64encode(line).decode() + "\n" for line in lines), timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [json.loads(line) for line in out.stdout.splitlines()]

    def test_msgpack_round_trips_every_type(self):
        encoded = [msgpack.packb(value, use_bin_type=True) for value in VALUES]
        for value, answer in zip(VALUES, self.run_codec(encoded)):
            self.assertIn("again", answer, (value, answer))
            again = msgpack.unpackb(base64.b64decode(answer["again"]), raw=False, strict_map_key=False)
            # JavaScript has one number type: 0.5 and -1e300 stay floats, integers stay integers
            self.assertEqual(again, value)
            self.assertEqual(type(again), type(value))

    def test_msgpack_refuses_what_the_gateway_refuses(self):
        bad = [b"\xd4\x01\x02", b"\x92\x01", b"\x01\x02", b"\x81\x01\x02", b"\xa2\xff\xfe", b"\xc1",
               b"\x91" * 70 + b"\xc0"]
        answers = self.run_codec(bad)
        self.assertEqual(len(answers), len(bad))
        for data, answer in zip(bad, answers):
            self.assertTrue(answer.get("error", "").startswith("MsgpackError"), (data, answer))

    def test_declarations_type_check(self):
        self.assertTrue(os.path.exists(TSC), "TypeScript is needed: `npm ci` in tests/browser")
        out = subprocess.run([NODE, TSC, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
                              "--moduleResolution", "nodenext", "--lib", "es2022,dom",
                              os.path.join(HERE, "js_types_check.ts")], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_npm_pack_accepts_the_package(self):
        out = subprocess.run([NPM, "pack", "--dry-run", "--json"], cwd=CLIENT, capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        package = json.loads(out.stdout)[0]
        self.assertEqual(package["name"], "zgate")
        self.assertEqual(sorted(entry["path"] for entry in package["files"]),
                         ["msgpack.d.ts", "msgpack.js", "package.json", "zgate.d.ts", "zgate.js"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
