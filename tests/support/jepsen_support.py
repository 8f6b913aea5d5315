"""What keyward-jepsen's smoke tests share: running the binary (beside keyward-server), a store
of their own per test (its left-overs cleaned), and reading a run's results and history."""

import glob
import json
import os
import subprocess
import tempfile
import unittest

SERVER = os.environ.get("KEYWARD_SERVER", "/work/main/build-asan/bin/keyward-server")
JEPSEN = os.path.join(os.path.dirname(SERVER), "keyward-jepsen")


def run(*args, timeout=300):
    return subprocess.run([JEPSEN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


class JepsenTestCase(unittest.TestCase):
    def setUp(self):
        self.store = tempfile.mkdtemp(prefix="keyward-jepsen-")

    def tearDown(self):
        run("clean", "--store", self.store)

    def run_dir(self, workload):
        """The directory of the one run of `workload` in this test's store."""
        dirs = glob.glob(os.path.join(self.store, workload, "*"))
        self.assertEqual(len(dirs), 1, dirs)
        return dirs[0]

    def results(self, workload):
        d = self.run_dir(workload)
        with open(os.path.join(d, "results.json")) as f:
            return d, json.load(f)

    @staticmethod
    def history(d):
        with open(os.path.join(d, "history.jsonl")) as f:
            return [json.loads(line) for line in f]

    @staticmethod
    def write_history(d, ops):
        with open(os.path.join(d, "history.jsonl"), "w") as f:
            for op in ops:
                f.write(json.dumps(op) + "\n")
