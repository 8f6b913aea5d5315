#!/usr/bin/env python3
"""Side-by-side benchmark of workloads redis-benchmark's -t tests do not cover: transactions and
HyperLogLog, on keyward-server and Debian's redis-server 7.0.15.

Both servers run with compare_redis.py's command line (no persistence, loopback, a free port),
pinned to one core; the load runs pinned to another.

Workloads, each at depth 1 and 16:
  tx10      one transaction = MULTI, ten SET key:<random> xxx, EXEC, sent by the project's C++
            client (bench/client_load.cc --command tx10, one connection; depth = transactions
            per batch, the redis-benchmark -c 1 -P pattern). redis-benchmark cannot send a
            transaction as one request, so the same client drives both servers.
  pfadd     PFADD hll <random element>  (redis-benchmark -c 50, -r 1000000: one HLL that goes
            from sparse to dense early in the run, as a counter of unique visitors does)
  pfcount   PFCOUNT hll                 (the cached cardinality, refreshed after each PFADD)
  pfcount3  PFCOUNT hll hll2 hll3       (three keys: merged into a temporary set of registers
            on every call, no cache)

Metrics: requests per second (a transaction counts as one request), and the server's CPU time
per request (utime+stime from /proc over the run), the number least disturbed by other load on
a shared machine. Medians over rounds; ratios are Keyward / Redis (>1 faster for rps, <1 cheaper
for CPU). Each (workload, depth) runs on both servers back to back, the order flipping each
round.

Python 3 standard library only; nothing is built here: pass the Release binaries.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_redis as cr  # noqa: E402  (the shared launcher and /proc helpers)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULT_LOAD = os.path.join(ROOT, "build", "bin", "keyward_client_load")

# redis-benchmark workloads: the command after its options (__rand_int__ is replaced by a random
# number below -r).
BENCHMARK_WORKLOADS = {
    "pfadd": ["PFADD", "hll", "__rand_int__"],
    "pfcount": ["PFCOUNT", "hll"],
    "pfcount3": ["PFCOUNT", "hll", "hll2", "hll3"],
}
WORKLOADS = ["tx10"] + list(BENCHMARK_WORKLOADS)


def preload(srv):
    """HLLs for the PFCOUNT workloads: hll dense (20,000 elements), hll2 and hll3 sparse."""
    c = cr.Client(srv.port)
    try:
        for key, n in (("hll", 20000), ("hll2", 300), ("hll3", 500)):
            for start in range(0, n, 1000):
                c.call("PFADD", key, *("e%d" % i for i in range(start, min(n, start + 1000))))
    finally:
        c.close()


def run_one(args, srv, workload, depth, requests):
    if workload == "tx10":
        cmd = ["taskset", "-c", str(args.client_cpu), args.load, "--url",
               f"redis://127.0.0.1:{srv.port}", "--mode", "sync", "--command", "tx10",
               "--depth", str(depth), "-n", str(requests), "--keyspace", str(args.keyspace)]
    else:
        cmd = ["taskset", "-c", str(args.client_cpu), args.benchmark, "-h", "127.0.0.1",
               "-p", str(srv.port), "-c", "50", "-n", str(requests), "-r", "1000000",
               "-P", str(depth), "--csv"] + BENCHMARK_WORKLOADS[workload]
    server0 = cr.proc_cpu_ticks(srv.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    server1 = cr.proc_cpu_ticks(srv.pid)
    if out.returncode != 0:
        raise RuntimeError(f"{workload} failed on {srv.name}: {out.stderr}{out.stdout}")
    if srv.proc.poll() is not None:
        raise RuntimeError(f"{srv.name} died during {workload}:\n" + srv.log_tail())
    if workload == "tx10":
        rps = json.loads(out.stdout.strip().splitlines()[-1])["rps"]
    else:
        rps = float(cr.parse_csv(out.stdout)["rps"])
    return {"rps": rps, "cpu_us": (server1 - server0) / cr.CLK_TCK * 1e6 / requests}


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-commands-bench-")
    servers = [cr.Server("Keyward", args.keyward, args.server_cpu, workdir).start(),
               cr.Server("Redis", cr.DEFAULT_REDIS, args.server_cpu, workdir).start()]
    results = {}
    try:
        if any(w.startswith("pf") for w in args.workloads):
            for srv in servers:
                preload(srv)
        for rnd in range(args.rounds):
            for workload in args.workloads:
                for depth in (1, 16):
                    requests = args.requests if depth == 1 else args.pipelined_requests
                    if workload == "tx10":
                        requests //= 10  # a transaction is twelve commands
                    order = servers if rnd % 2 == 0 else servers[::-1]
                    for srv in order:
                        r = run_one(args, srv, workload, depth, requests)
                        results.setdefault(f"{workload}|{depth}|{srv.name}", []).append(r)
                        if args.verbose:
                            cr.log(f"round {rnd + 1} {workload} -P{depth} {srv.name}: "
                                   f"{r['rps']:.0f} rps, {r['cpu_us']:.2f} us CPU/req")
    finally:
        for srv in servers:
            srv.stop()
    return results


def table(results, args):
    rows = []
    for workload in args.workloads:
        for depth in (1, 16):
            med = {}
            for name in ("Keyward", "Redis"):
                runs = results[f"{workload}|{depth}|{name}"]
                med[name] = (statistics.median(r["rps"] for r in runs),
                             statistics.median(r["cpu_us"] for r in runs))
            (k_rps, k_cpu), (r_rps, r_cpu) = med["Keyward"], med["Redis"]
            rows.append([workload, f"-P {depth}", f"{k_rps:,.0f}", f"{r_rps:,.0f}",
                         f"{k_rps / r_rps:.2f}", f"{k_cpu:.2f}", f"{r_cpu:.2f}",
                         f"{k_cpu / r_cpu:.2f}" if r_cpu > 0 else "-"])
    return rows


HEADERS = ["workload", "depth", "Keyward rps", "Redis rps", "rps ratio", "Keyward CPU us/req",
           "Redis CPU us/req", "CPU ratio"]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=os.path.join(ROOT, "build", "bin", "keyward-server"))
    p.add_argument("--load", default=DEFAULT_LOAD, help="keyward_client_load (Release)")
    p.add_argument("--benchmark", default="redis-benchmark")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=100000, help="commands per run at depth 1")
    p.add_argument("--pipelined-requests", type=int, default=1000000,
                   help="commands per run at depth 16")
    p.add_argument("--keyspace", type=int, default=100000)
    p.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--markdown", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    args.keyward = os.path.abspath(args.keyward)
    results = measure(args)
    cr.print_table(table(results, args), args.markdown, headers=HEADERS,
                   left_aligned={0, 1})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
