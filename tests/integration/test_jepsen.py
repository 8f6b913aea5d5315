"""keyward-jepsen's smoke runs (the longer runs are in docs/safety.md): fenced locks over three
real keyward-servers while the nemesis kills, pauses and empties them must check valid; the run
is recorded so that `check` gives the same verdict again, and a recorded history with an
anomaly added checks invalid (exit 1). Bad arguments exit 254."""

import glob
import json
import os
import subprocess
import unittest

from jepsen_support import SERVER, JepsenTestCase, run


class Smoke(JepsenTestCase):
    def test_fenced_locks_under_kills_pauses_empty_restarts_and_partitions(self):
        # Faults overlapping. (Network faults need root and iptables: scripts/install-deps.sh
        # --test installs it.)
        r = run("run", "--workload", "fenced-lock", "--nemesis",
                "kill,pause,restart-empty,partition,partition-halves,partition-ring,"
                "partition-bridge,loss,clock", "--schedule", "overlapping",
                "--nodes", "3", "--time-limit", "8", "--interval-ms", "700",
                "--duration-ms", "1000", "--seed", "7", "--store", self.store,
                "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        d = self.run_dir("fenced-lock")
        with open(os.path.join(d, "results.json")) as f:
            results = json.load(f)
        self.assertIs(results["valid"], True)
        self.assertGreater(results["acquisitions"], 10)
        self.assertGreater(results["writes_accepted"], 10)
        ops = self.history(d)
        faults = [op["f"] for op in ops if op["process"] == "nemesis"]
        self.assertGreaterEqual(len(set(faults) - {"start", "resume", "heal"}), 3, faults)
        # Overlapping: some fault began while another was in force.
        active, overlapped = 0, False
        for f in faults:
            if f in ("start", "resume", "heal"):
                active -= 1
            else:
                overlapped = overlapped or active > 0
                active += 1
        self.assertTrue(overlapped, faults)
        # The run's iptables chain is gone with it (other runs beside it keep theirs).
        with open(os.path.join(d, "test.json")) as f:
            chain = json.load(f)["iptables_chain"]
        self.assertRegex(chain, r"^KWJ-\d+$")
        chains = subprocess.run(["iptables", "-w", "-S"], stdout=subprocess.PIPE).stdout
        self.assertNotIn(chain.encode() + b"\n", chains)
        # The reports are beside the history; the timeline shows the faults.
        for name in ("timeline.html", "latency.svg", "rate.svg", "locks.svg"):
            self.assertTrue(os.path.getsize(os.path.join(d, name)) > 0, name)
        with open(os.path.join(d, "timeline.html")) as f:
            timeline = f.read()
        self.assertIn("valid? true", timeline)
        self.assertIn("nemesis", timeline)
        # The nodes are gone once the run is over.
        self.assertEqual(glob.glob(os.path.join(d, "n*", "pid")), [])

        # Checking the record again gives the same verdict ...
        self.assertEqual(run("check", d).returncode, 0)
        # ... and a second holder granted inside the first holding's lease makes it invalid.
        first = next(op for op in ops if op["f"] == "acquire" and op["type"] == "ok")
        intruder = [
            {"index": 0, "time": first["time"] + 1, "type": "invoke", "process": 999,
             "f": "acquire", "value": {"resource": first["value"]["resource"]}},
            {"index": 0, "time": first["time"] + 2, "type": "ok", "process": 999,
             "f": "acquire", "value": {"resource": first["value"]["resource"],
                                       "valid_until": first["time"] + 10**9,
                                       "token": 2**60}}]
        ops = sorted(ops + intruder, key=lambda op: op["time"])
        self.write_history(d, ops)
        r = run("check", d)
        self.assertEqual(r.returncode, 1, r.stdout.decode())
        self.assertIn(b"lease-overlap", r.stdout)

    def test_plain_locks_without_faults(self):
        r = run("run", "--workload", "lock", "--fence", "off", "--nodes", "3",
                "--time-limit", "3", "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        with open(os.path.join(self.run_dir("lock"), "results.json")) as f:
            self.assertIs(json.load(f)["valid"], True)

    def test_the_unfenced_lock_set_demo_loses_updates(self):
        # A holder stalled past its lease between its read and its write: without fencing the
        # lock lets its stale write through, and acknowledged adds are lost (exit 1).
        r = run("demo", "unfenced-lock-set", "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 1, r.stdout.decode() + r.stderr.decode())
        self.assertIn(b"ANOMALY lost-updates", r.stdout)
        with open(os.path.join(self.run_dir("lock-set"), "results.json")) as f:
            results = json.load(f)
        self.assertGreater(results["set"]["lost_count"], 0)
        self.assertGreater(results["lease_overruns"], 0)

    def test_fenced_lock_set_loses_nothing_under_the_same_stalls(self):
        r = run("run", "--workload", "lock-set", "--fence", "on", "--nemesis", "client-pause",
                "--interval-ms", "1000", "--duration-ms", "1500", "--ttl-ms", "500",
                "--time-limit", "10", "--seed", "1", "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        with open(os.path.join(self.run_dir("lock-set"), "results.json")) as f:
            results = json.load(f)
        self.assertEqual(results["set"]["lost_count"], 0)
        # The stalls happened: some holder outlived its lease, and its stale write was refused.
        self.assertGreater(results["lease_overruns"], 0)
        self.assertLess(results["set"]["acknowledged"], results["set"]["attempted"])

    def test_the_amnesia_demo_finds_tokens_going_backwards(self):
        # SET NX + INCR on one server restarted empty: tokens start again from 1 (exit 1) ...
        r = run("demo", "amnesia-token-regression", "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 1, r.stdout.decode() + r.stderr.decode())
        with open(os.path.join(self.run_dir("incr-lock"), "results.json")) as f:
            kinds = {a["kind"] for a in json.load(f)["anomalies"]}
        self.assertTrue(kinds & {"token-order", "duplicate-token"}, kinds)
        # ... while Keyward's own fenced locks on one server under the same fault stay valid.
        r = run("run", "--workload", "fenced-lock", "--nodes", "1", "--nemesis", "restart-empty",
                "--time-limit", "6", "--interval-ms", "1000", "--duration-ms", "300",
                "--seed", "1", "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())

    def test_an_election_under_faults(self):
        r = run("run", "--workload", "election", "--nemesis", "kill,pause,partition,client-pause",
                "--nodes", "3", "--time-limit", "8", "--interval-ms", "1000",
                "--duration-ms", "1500", "--seed", "5", "--store", self.store,
                "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        with open(os.path.join(self.run_dir("election"), "results.json")) as f:
            results = json.load(f)
        self.assertGreater(results["acquisitions"], 3)  # several terms
        self.assertGreater(results["writes_accepted"], results["acquisitions"])

    def test_keyward_lock_trees_under_stops_kills_and_partitions(self):
        # `keyward lock` running a process tree: its keyward stopped (SIGSTOP) past the lease,
        # SIGKILLed, cut off. No tree may be alive when the next holder's child begins (the
        # watchdog holds the validity's end), and the stopped holder reports its lease lost.
        # 15 s: at 10 s a loaded machine (a full ctest run beside it) made 5 acquisitions or
        # stopped the holder too late for its exit to be seen (once in two full runs; 2 of 2
        # beside two busy loops); at 15 s 3 of 3 passed beside them.
        r = run("run", "--workload", "cli", "--nemesis", "client-pause,client-kill,partition",
                "--nodes", "3", "--time-limit", "15", "--interval-ms", "1000", "--seed", "11",
                "--store", self.store, "--server", SERVER)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        d = self.run_dir("cli")
        with open(os.path.join(d, "results.json")) as f:
            results = json.load(f)
        self.assertIs(results["valid"], True)
        self.assertGreater(results["acquisitions"], 5)
        ops = self.history(d)
        faults = {op["f"] for op in ops if op["process"] == "nemesis"}
        self.assertTrue({"client-pause", "client-kill"} <= faults, faults)
        exits = [op["value"]["exit"] for op in ops if op["f"] == "release" and
                 op["type"] != "invoke"]
        self.assertIn(76, exits)  # a stopped holder's lease ran out: its tree was killed
        trees = [op for op in ops if op["f"] == "trees" and op["type"] == "ok"]
        self.assertEqual(len(trees), 1)
        self.assertEqual(trees[0]["value"]["outlived"], [])

    def test_bad_arguments(self):
        self.assertEqual(run("run", "--nemesis", "meteor", "--store", self.store).returncode, 254)
        self.assertEqual(run("run", "--workload", "nope").returncode, 254)
        self.assertEqual(run("run", "--workload", "lock", "--nemesis", "client-kill",
                             "--store", self.store).returncode, 254)
        self.assertEqual(run("check", os.path.join(self.store, "nothing")).returncode, 254)
        self.assertEqual(run("--help").returncode, 0)


if __name__ == "__main__":
    unittest.main()
