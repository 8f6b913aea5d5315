#!/usr/bin/env python3
"""Every workload of keyward-jepsen under every nemesis, on 3 and 5 nodes: the long runs that
docs/safety.md records (CI runs only the smoke in tests/integration/test_jepsen*.py). Prints one
Markdown table row a run: workload, nemesis, nodes, faults injected, the numbers that say the run
did something, and the verdict. Needs root (network faults) and a built keyward-jepsen.

  bench/jepsen_matrix.py --bin build/bin --time-limit 30            the whole matrix
  bench/jepsen_matrix.py --workloads register,set --nemeses failover --nodes 5
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

WORKLOADS = {  # name: extra arguments
    "lock": ["--fence", "off"],
    "fenced-lock": [],
    "lock-set": ["--fence", "on", "--ttl-ms", "500"],
    "election": [],
    "cli": [],
    "register": [],
    "set": [],
}
REPLICATED = {"register", "set"}
NEMESES = ["none", "kill", "pause", "restart-empty", "partition", "partition-halves",
           "partition-ring", "partition-bridge", "loss", "client-pause", "client-kill", "failover",
           "clock", "mixed"]
MIXED = "kill,pause,partition-halves,partition-ring,partition-bridge,loss"


def summary(workload, results):
    if workload == "register":
        lin = results.get("linearizable", {})
        return "%s ops on %s keys" % (lin.get("operations"), lin.get("keys"))
    if workload == "set":
        s = results.get("set", {})
        return "%s/%s adds acked, %s lost" % (s.get("acknowledged"), s.get("attempted"),
                                              s.get("lost_count"))
    text = "%s/%s acquired, overruns %s" % (results.get("acquisitions"), results.get("attempts"),
                                            results.get("lease_overruns"))
    if workload == "lock-set":
        text += ", %s lost" % results.get("set", {}).get("lost_count")
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/bin", help="where keyward-jepsen and the server are")
    ap.add_argument("--time-limit", type=int, default=30)
    ap.add_argument("--nodes", default="3,5")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--nemeses", default=",".join(NEMESES))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--store", default=None)
    args = ap.parse_args()
    jepsen = os.path.join(args.bin, "keyward-jepsen")
    store = args.store or tempfile.mkdtemp(prefix="keyward-jepsen-matrix-")
    print("| workload | nemesis | nodes | faults injected | what happened | verdict |")
    print("|---|---|---|---|---|---|")
    for workload in args.workloads.split(","):
        for nemesis in args.nemeses.split(","):
            if nemesis == "failover" and workload not in REPLICATED:
                continue
            if nemesis == "client-kill" and workload != "cli":
                continue
            for nodes in args.nodes.split(","):
                run_store = os.path.join(store, "%s-%s-%s" % (workload, nemesis, nodes))
                cmd = [jepsen, "run", "--workload", workload, "--nodes", nodes,
                       "--time-limit", str(args.time_limit), "--seed", str(args.seed),
                       "--store", run_store] + WORKLOADS[workload]
                if nemesis == "mixed":
                    cmd += ["--nemesis", MIXED, "--schedule", "overlapping",
                            "--interval-ms", "1000"]
                elif nemesis != "none":
                    cmd += ["--nemesis", nemesis]
                    if nemesis in ("client-pause", "client-kill"):
                        cmd += ["--interval-ms", "1000"]
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                results_path = os.path.join(run_store, "latest", "results.json")
                history_path = os.path.join(run_store, "latest", "history.jsonl")
                if not os.path.exists(results_path):
                    print("| %s | %s | %s | | crashed (exit %d) | |" % (workload, nemesis, nodes,
                                                                      r.returncode))
                    sys.stdout.flush()
                    continue
                with open(results_path) as f:
                    results = json.load(f)
                faults = collections.Counter()
                with open(history_path) as f:
                    for line in f:
                        op = json.loads(line)
                        if op["process"] == "nemesis" and op["f"] not in ("start", "resume",
                                                                           "heal", "reset",
                                                                           "promote"):
                            faults[op["f"]] += 1
                injected = ", ".join("%d %s" % (n, f) for f, n in sorted(faults.items()))
                verdict = {True: "valid", False: "**invalid**"}.get(results["valid"],
                                                                    results["valid"])
                print("| %s | %s | %s | %s | %s | %s |" % (workload, nemesis, nodes,
                                                          injected or "none",
                                                          summary(workload, results), verdict))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
