"""examples/work_queue: the reliable queue on BLMOVE/LMOVE/LREM, from redis-py and from node's
ioredis, against a real keyward-server. Every job is done exactly once (the crash happens before
the job is recorded), the crashed worker's job is found in its processing list and requeued,
and no list is left holding anything."""

import os
import subprocess
import sys
import unittest

from keyward_harness import ServerTestCase, redis_py_env
from test_node_redlock import NODE_DIR, install_node_modules

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE_DIR = os.path.join(ROOT, "examples", "work_queue")
JOBS = 300
WORKERS = 4


class WorkQueueExample(ServerTestCase):

    def check_output(self, proc):
        out = proc.stdout
        self.assertEqual(proc.returncode, 0, out + proc.stderr)
        self.assertEqual(out.splitlines(), [
            "enqueued %d jobs for %d workers" % (JOBS, WORKERS),
            "w0 crashed holding 1 job(s)",
            "requeued 1 job(s)",
            "done %d of %d jobs, missing 0, done twice 0" % (JOBS, JOBS),
            "left in lists: 0",
        ])

    def test_python_workers(self):
        srv = self.start_keyward()
        env = redis_py_env()
        proc = subprocess.run(
            [sys.executable, os.path.join(EXAMPLE_DIR, "work_queue.py"),
             "redis://127.0.0.1:%d" % srv.port, str(JOBS), str(WORKERS)],
            capture_output=True, text=True, timeout=300, env=env)
        self.check_output(proc)

    def test_node_workers(self):
        install_node_modules()
        srv = self.start_keyward()
        env = dict(os.environ)
        env["NODE_PATH"] = os.path.join(NODE_DIR, "node_modules")
        # The sanitizer options of a ctest run are meant for the server, not for node.
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            env.pop(var, None)
        proc = subprocess.run(
            ["node", os.path.join(EXAMPLE_DIR, "work_queue.js"),
             "redis://127.0.0.1:%d" % srv.port, str(JOBS), str(WORKERS)],
            capture_output=True, text=True, timeout=300, env=env)
        self.check_output(proc)


if __name__ == "__main__":
    unittest.main()
