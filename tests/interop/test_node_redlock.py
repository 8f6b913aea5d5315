"""node-redlock (npm `redlock` 5.0.0-beta.2 with `ioredis` 5) against keyward-server, unchanged.

The checks themselves are in node/redlock.test.js (node:test); this wrapper starts the servers on
free ports, installs the pinned node modules from node/package-lock.json with `npm ci` when
node_modules does not match it, runs `node --test` with the servers' addresses in KEYWARD_ADDRS,
and asserts that every node test passed. It runs twice: a single-instance Redlock and a
3-instance one (three independent keyward-servers).

Needs node and npm (Debian's `nodejs` and `npm`, installed by scripts/install-deps.sh --test) and
the npm registry for the first `npm ci`.
"""

import os
import re
import shutil
import subprocess
import unittest

import node_packages
from keyward_harness import ServerTestCase

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
TEST_FILE = "redlock.test.js"


def install_node_modules():
    node_packages.install_node_modules(NODE_DIR)


def run_node_tests(case, servers, test_file=TEST_FILE):
    """Runs node --test on `test_file` (in node/) against `servers`; asserts every node test
    passed and returns the pass/fail/cancelled counts."""
    env = dict(os.environ)
    env["KEYWARD_ADDRS"] = ",".join("127.0.0.1:%d" % s.port for s in servers)
    # The sanitizer options of a ctest run are meant for the server, not for node.
    env.pop("ASAN_OPTIONS", None)
    env.pop("UBSAN_OPTIONS", None)
    proc = subprocess.run([shutil.which("node"), "--test", "--test-reporter=tap", test_file],
                          cwd=NODE_DIR, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=400)
    report = proc.stdout
    case.assertEqual(proc.returncode, 0, "node --test failed:\n" + report[-12000:])
    counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail|cancelled) (\d+)$", report, re.M)}
    case.assertEqual(counts.get("fail"), 0, report[-12000:])
    case.assertEqual(counts.get("cancelled", 0), 0, report[-12000:])
    case.assertGreater(counts.get("pass", 0), 0, "no node test ran:\n" + report[-4000:])
    return counts


class NodeRedlock(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        install_node_modules()

    def run_node_tests(self, servers):
        return run_node_tests(self, servers)

    def test_single_instance(self):
        self.run_node_tests([self.start_keyward()])

    def test_three_instances(self):
        counts = self.run_node_tests([self.start_keyward() for _ in range(3)])
        # With three instances nothing is skipped (the quorum test needs at least three).
        self.assertGreaterEqual(counts["pass"], 8)


if __name__ == "__main__":
    unittest.main()
