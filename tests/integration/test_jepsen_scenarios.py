"""keyward-jepsen's named scenarios for Keyward's own locks (docs/safety.md records their
verdicts): each runs its choreography against fresh keyward-servers and must check valid, with
every expectation of its own held; a scenario that breaks a documented assumption must show the
anomaly that assumption explains (and only that one), so that the choreography is known to bite.
Each also shows that its expectations can fail: a recorded expectation turned into a failure
makes `check` exit 1."""

import json
import os
import unittest

from jepsen_support import SERVER, JepsenTestCase, run


class Scenarios(JepsenTestCase):
    def scenario(self, name, explained=()):
        r = run("scenario", name, "--store", self.store, "--server", SERVER)
        out = r.stdout.decode() + r.stderr.decode()
        self.assertEqual(r.returncode, 0, out)
        d, results = self.results(name)
        self.assertIs(results["valid"], True, out)
        self.assertEqual(sorted({a["kind"] for a in results.get("explained", [])}),
                         sorted(explained), out)
        if explained:
            self.assertTrue(results["assumption"], out)
        with open(os.path.join(d, "test.json")) as f:
            self.assertEqual(json.load(f)["scenario"], name)
        return d, results, self.history(d)

    def expectations(self, d, results, ops, at_least):
        """Every expectation held; turning one into a failure makes the run invalid."""
        self.assertGreaterEqual(results["expectations"]["checked"], at_least)
        self.assertEqual(results["expectations"]["failed"], [])
        expect = next(i for i, op in enumerate(ops) if op["f"] == "expect")
        ops[expect]["type"] = "fail"
        self.write_history(d, ops)
        r = run("check", d)
        self.assertEqual(r.returncode, 1, r.stdout.decode())
        self.assertIn(b"EXPECTATION FAILED", r.stdout)

    def test_list(self):
        r = run("scenario", "list")
        self.assertEqual(r.returncode, 0)
        for name in ("waiter-paused-at-handoff", "reentry-slow-majority", "skew-restart-partition",
                     "lock-deleted-on-majority", "rolling-restart-leadership", "cli-lease-loss",
                     "foreign-tokens", "observe-majority-down"):
            self.assertIn(name.encode(), r.stdout)
        self.assertEqual(run("scenario", "nope").returncode, 254)

    def test_waiter_paused_at_handoff(self):
        d, results, ops = self.scenario("waiter-paused-at-handoff")
        self.expectations(d, results, ops, 2)
        # The stopped waiter's child never ran beside the third client's: no tree outlived.
        self.assertGreaterEqual(results["acquisitions"], 2)
        self.assertEqual([a for a in results["anomalies"] if a["kind"] == "child-outlived"], [])

    def test_reentry_slow_majority(self):
        d, results, ops = self.scenario("reentry-slow-majority")
        # The other client tried all along and never got the lock while the holder's lease ran.
        tries = [op for op in ops if op["process"] != 0 and op["f"] == "acquire" and
                 op["type"] == "invoke"]
        self.assertGreater(len(tries), 5)
        self.expectations(d, results, ops, 3)

    def test_skew_restart_partition(self):
        d, results, ops = self.scenario("skew-restart-partition")
        faults = [op["f"] for op in ops if op["process"] == "nemesis"]
        for f in ("clock", "restart-empty", "partition"):
            self.assertEqual(faults.count(f), 2, faults)
        self.assertGreater(results["acquisitions"], 10)

    def test_lock_deleted_on_majority(self):
        # Two leases overlap (explained: someone else deleted the lock); the fenced store keeps
        # the stale holder's write out.
        d, results, ops = self.scenario("lock-deleted-on-majority", explained=["lease-overlap"])
        self.assertEqual(results["writes_refused"], 1)
        self.expectations(d, results, ops, 4)

    def test_rolling_restart_leadership(self):
        d, results, ops = self.scenario("rolling-restart-leadership")
        self.assertEqual(sum(1 for op in ops if op["f"] == "kill"), 3)
        self.expectations(d, results, ops, 3)

    def test_cli_lease_loss(self):
        d, results, ops = self.scenario("cli-lease-loss")
        self.assertGreater(results["acquisitions"], 5)

    def test_foreign_tokens(self):
        d, results, ops = self.scenario("foreign-tokens")
        self.expectations(d, results, ops, 20)

    def test_observe_majority_down(self):
        d, results, ops = self.scenario("observe-majority-down")
        lines = [op["value"]["line"] for op in ops if op["f"] == "observe"]
        self.assertIn("none", lines)
        self.expectations(d, results, ops, 6)


if __name__ == "__main__":
    unittest.main()
