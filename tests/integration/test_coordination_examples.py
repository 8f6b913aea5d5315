"""The coordination examples run against a real keyward-server, so they cannot rot: the fenced
store refuses the stalled worker's write, the scheduler replicas lead one at a time with increasing
terms and only leaders dispatch, and the cron script runs under `keyward lock` and is refused while
another run holds the lock."""

import os
import re
import subprocess
import unittest

from keyward_harness import ServerTestCase, decode

BIN = os.path.dirname(os.environ.get("KEYWARD_SERVER", "/work/main/build-asan/bin/x"))
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class CoordinationExamples(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.url = "redis://127.0.0.1:%d" % self.srv.port
        self.admin = self.raw_client(self.srv)

    def run_example(self, argv, env=None, timeout=120):
        merged = dict(os.environ, **(env or {}))
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, env=merged)

    def test_fenced_store(self):
        r = self.run_example([os.path.join(BIN, "example_fenced_store"), self.url])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"order 42 -> shipped \(token \d+\): OK")
        self.assertRegex(r.stdout, r"stalled holder \(token \d+\): FENCED token \d+ is older than")
        self.assertEqual(decode(self.admin.call("GET", "orders:7:status")), b"cancelled")
        self.assertEqual(decode(self.admin.call("GET", "orders:42:status")), b"shipped")

    def test_scheduler_replicas(self):
        procs = [subprocess.Popen([os.path.join(BIN, "example_scheduler"), "node-%s" % n, "2",
                                   self.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for n in "abc"]
        outputs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, out + err)
            outputs.append(out)
        terms = sorted(int(re.search(r"leader, term (\d+)", o).group(1)) for o in outputs)
        self.assertEqual(len(set(terms)), 3)
        for node, out in zip("abc", outputs):
            self.assertEqual(out.count("dispatched"), 2, out)
            for n in (1, 2):
                job = decode(self.admin.call("GET", "job:node-%s:%d" % (node, n))).decode()
                self.assertRegex(job, r"term \d+")
        # Every job carries the term of the replica that dispatched it while leading.
        for out in outputs:
            term = re.search(r"leader, term (\d+)", out).group(1)
            self.assertEqual(set(re.findall(r"\(term (\d+)\)", out)), {term})

    def test_cron_script_under_keyward_lock(self):
        script = os.path.join(ROOT, "examples", "cron", "nightly-report.sh")
        cli = os.path.join(BIN, "keyward")
        env = {"REPORT_SERVER": self.url}
        r = self.run_example([cli, "lock", "reports:nightly", "--servers", self.url, "--",
                              script], env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("under token", r.stdout)
        self.assertEqual(decode(self.admin.call("GET", "reports:latest")).decode(),
                         r.stdout.strip())
        # Another host's run holds the lock: this one is refused at once, with code 75.
        self.admin.call("SET", "reports:nightly", "another-host", "PX", "60000")
        r = self.run_example([cli, "lock", "reports:nightly", "--servers", self.url, "--",
                              script], env=env)
        self.assertEqual(r.returncode, 75, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
