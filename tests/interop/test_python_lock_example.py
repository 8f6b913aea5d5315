"""examples/python_lock/lock_example.py runs against a real keyward-server and does what its
README says: the fenced lock changes hands on expiry, the stale holder's guarded write and
release are refused, and redis-py's own Lock is excluded meanwhile."""

import os
import re
import subprocess
import sys
import unittest

from keyward_harness import ServerTestCase, redis_py_env

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "python_lock", "lock_example.py")


class PythonLockExample(ServerTestCase):

    def test_example_runs_against_keyward(self):
        srv = self.start_keyward()
        # The example imports redis-py as a user would.
        env = redis_py_env()
        proc = subprocess.run([sys.executable, EXAMPLE, "redis://127.0.0.1:%d" % srv.port],
                              capture_output=True, text=True, timeout=120, env=env)
        out = proc.stdout
        self.assertEqual(proc.returncode, 0, out + proc.stderr)

        token_a = int(re.search(r"^A holds orders:42 with fencing token (\d+)$", out, re.M)[1])
        token_b = int(re.search(r"^B holds orders:42 with fencing token (\d+) ", out, re.M)[1])
        self.assertGreater(token_b, token_a)
        self.assertIn("redis-py Lock while A holds it: False\n", out)
        self.assertIn("A's stale write refused: FENCED token %d is older than %d for 'orders:42'\n"
                      % (token_a, token_b), out)
        self.assertIn("A releases: 0\nB releases: 1\n", out)
        self.assertTrue(out.endswith("orders:42:status = shipped by B\n"), out)

        r = srv.redis_py()
        self.addCleanup(r.close)
        self.assertEqual(r.get("orders:42:status"), b"shipped by B")
        self.assertEqual(r.exists("orders:42"), 0)


if __name__ == "__main__":
    unittest.main()
