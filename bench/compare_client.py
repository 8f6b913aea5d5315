#!/usr/bin/env python3
"""The Keyward C++ client against redis-benchmark (C, hiredis) and redis-py, on one server.

One redis-server (Debian's, or --server keyward-server) runs pinned to one core; every client runs
in turn pinned to another core, one connection each, on the same workload:

  redis-benchmark  -c 1 -P <depth> -t <command>             (hiredis; sends a batch, waits, repeats)
  keyward sync     Client::Exec of a Request of <depth>      (the same pattern)
  keyward async    AsyncClient, one coroutine, Requests of <depth> (the same pattern)
  keyward async xN AsyncClient, <depth> coroutines with one command each: <depth> independent
                   callers in flight, batched by the client (no redis-benchmark equivalent)
  redis-py         redis.Redis: one call per command at depth 1, pipeline(transaction=False) of
                   <depth> otherwise

Workloads: PING, SET key:<random> xxx, GET key:<random> (keys preloaded), depths 1, 16, 128.
Metrics: requests per second; at depth 1, round-trip latency p50 and p99 (the client's own
measurement: redis-benchmark's histogram, client_load's and the redis-py driver's timers); the
client's CPU time per request (user + system, from getrusage of the child), which is the number
least disturbed by other load on a shared machine.

Every (workload, depth) runs all clients back to back, for several rounds, the order rotating
each round; the tables give medians and ratios against redis-benchmark (>1: Keyward faster, or
for latency and CPU, Keyward / redis-benchmark, <1 better).

Reuses the server launcher and /proc helpers of compare_redis.py. Python 3 stdlib; redis-py from
Debian's python3-redis (run with /usr/bin/python3).
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
REDIS_PY_PYTHON = "/usr/bin/python3"

# The redis-py side, run as a child process so its CPU time is measured like the others'.
REDIS_PY_DRIVER = r"""
import json, random, sys, time
import redis
port, command, depth, n, keyspace = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = redis.Redis(host="127.0.0.1", port=int(port))
r.ping()
rng = random.Random(42)
def one(target):
    if command == "ping":
        target.ping()
    else:
        key = "key:%012d" % rng.randrange(keyspace)
        if command == "set":
            target.set(key, "xxx")
        else:
            target.get(key)
lat = []
done = 0
start = time.perf_counter()
while done < n:
    t0 = time.perf_counter()
    if depth == 1:
        one(r)
    else:
        p = r.pipeline(transaction=False)
        for _ in range(depth):
            one(p)
        p.execute()
    lat.append((time.perf_counter() - t0) * 1e6)
    done += depth
secs = time.perf_counter() - start
lat.sort()
print(json.dumps({"requests": done, "seconds": secs, "rps": done / secs,
                  "p50_us": lat[len(lat) // 2], "p99_us": lat[int(len(lat) * 0.99)]}))
"""

CLIENTS = ["redis-benchmark", "keyward sync", "keyward async", "keyward async xN", "redis-py"]


def run_child(cmd):
    """Runs a client; returns (stdout, its CPU seconds, wall seconds)."""
    cpu0 = cr.children_cpu_seconds()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    cpu = cr.children_cpu_seconds() - cpu0
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[3]} failed: {out.stderr}{out.stdout}")
    return out.stdout, cpu, wall


def run_client(args, client, port, command, depth, requests):
    pin = ["taskset", "-c", str(args.client_cpu)]
    if client == "redis-benchmark":
        cmd = pin + [args.benchmark, "-h", "127.0.0.1", "-p", str(port), "-c", "1", "-n",
                     str(requests), "-P", str(depth), "-t", command, "--csv"]
        if command != "ping":
            # Same key pattern as client_load: key:<12 digits>, random in the keyspace.
            cmd += ["-r", str(args.keyspace)]
        stdout, cpu, _ = run_child(cmd)
        row = cr.parse_csv(stdout)
        return {"rps": float(row["rps"]), "p50_us": float(row["p50_latency_ms"]) * 1000,
                "p99_us": float(row["p99_latency_ms"]) * 1000,
                "cpu_us_per_req": cpu * 1e6 / requests}
    if client == "redis-py":
        n = max(depth, requests // args.redis_py_divisor)
        cmd = pin + [REDIS_PY_PYTHON, "-c", REDIS_PY_DRIVER, str(port), command, str(depth),
                     str(n), str(args.keyspace)]
        stdout, cpu, _ = run_child(cmd)
        result = json.loads(stdout.strip().splitlines()[-1])
        result["cpu_us_per_req"] = cpu * 1e6 / result["requests"]
        return result
    mode, concurrency, per_request = "sync", 1, depth
    if client == "keyward async":
        mode = "async"
    elif client == "keyward async xN":
        mode, concurrency, per_request = "async", depth, 1
    cmd = pin + [args.load, "--url", f"redis://127.0.0.1:{port}", "--mode", mode, "--command",
                 command, "--depth", str(per_request), "--concurrency", str(concurrency), "-n",
                 str(requests), "--keyspace", str(args.keyspace)]
    stdout, cpu, _ = run_child(cmd)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["cpu_us_per_req"] = cpu * 1e6 / result["requests"]
    return result


def preload(port, keyspace):
    """Keys key:000000000000 ... so that GET finds values, written in pipelined batches."""
    c = cr.Client(port)
    try:
        batch = []
        for i in range(keyspace):
            batch.append(("SET", "key:%012d" % i, "xxx"))
            if len(batch) == 1000:
                c.pipeline(batch)
                batch = []
        if batch:
            c.pipeline(batch)
    finally:
        c.close()


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-client-bench-")
    binary = args.server_binary or cr.DEFAULT_REDIS
    srv = cr.Server(os.path.basename(binary), binary, args.server_cpu, workdir).start()
    results = {}
    try:
        preload(srv.port, args.keyspace)
        for rnd in range(args.rounds):
            for command in args.commands:
                for depth in args.depths:
                    requests = args.requests if depth > 1 else args.requests_p1
                    order = CLIENTS[rnd % len(CLIENTS):] + CLIENTS[:rnd % len(CLIENTS)]
                    for client in order:
                        r = run_client(args, client, srv.port, command, depth, requests)
                        results.setdefault(f"{command}|{depth}|{client}", []).append(r)
                        if args.verbose:
                            cr.log(f"round {rnd + 1} {command} -P{depth} {client}: "
                                   f"{r['rps']:.0f} rps p50 {r['p50_us']:.1f}us "
                                   f"cpu {r['cpu_us_per_req']:.2f}us/req")
            if srv.proc.poll() is not None:
                raise RuntimeError("server died:\n" + srv.log_tail())
    finally:
        srv.stop()
    return results, cr.version_of(binary)


def median(results, key, metric):
    return statistics.median(r[metric] for r in results[key])


def table(results, args, metric, title, depths, higher_is_better):
    head = ["workload"] + CLIENTS + ["ratios vs redis-benchmark"]
    rows = []
    for command in args.commands:
        for depth in depths:
            base = median(results, f"{command}|{depth}|redis-benchmark", metric)
            cells = [f"{command.upper()} -P{depth}"]
            ratios = []
            for client in CLIENTS:
                v = median(results, f"{command}|{depth}|{client}", metric)
                cells.append(cr.fmt_num(v))
                if client != "redis-benchmark":
                    ratio = v / base if base else float("nan")
                    ratios.append(f"{client.replace('keyward ', '')} {ratio:.2f}")
            cells.append(", ".join(ratios))
            rows.append(cells)
    return title, head, rows


def print_tables(tables, markdown):
    for title, head, rows in tables:
        print()
        print(f"**{title}**" if markdown else title)
        print()
        if markdown:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
            for r in rows:
                print("| " + " | ".join(r) + " |")
        else:
            widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
            for r in [head] + rows:
                print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server-binary", help="server to run (default: Debian's redis-server)")
    p.add_argument("--load", default=DEFAULT_LOAD, help="keyward_client_load (Release build)")
    p.add_argument("--benchmark", default=cr.DEFAULT_BENCHMARK)
    p.add_argument("--rounds", type=int, default=None, help="default 5 (1 with --quick)")
    p.add_argument("--commands", default="ping,set,get")
    p.add_argument("--depths", default="1,16,128")
    p.add_argument("--requests", type=int, default=1000000, help="per run, depth > 1")
    p.add_argument("--requests-p1", type=int, default=50000, help="per run, depth 1")
    p.add_argument("--redis-py-divisor", type=int, default=10,
                   help="redis-py runs requests / this (it is much slower)")
    p.add_argument("--keyspace", type=int, default=100000)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="1 round, short runs")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--json", help="save every run's numbers here")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    args.commands = args.commands.split(",")
    args.depths = [int(d) for d in args.depths.split(",")]
    if args.quick:
        args.requests, args.requests_p1, args.keyspace = 200000, 10000, 10000
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if not os.path.exists(args.load):
        p.error(f"{args.load} not found: build it (see bench/README.md)")
    return args


def main(argv):
    args = parse_args(argv)
    load0 = cr.loadavg()
    results, version = measure(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"server: {version}; {args.rounds} rounds, medians; loadavg before {' '.join(load0)},"
          f" after {' '.join(cr.loadavg())}")
    tables = [table(results, args, "rps", "Throughput (requests/s, one connection)",
                    args.depths, True)]
    if 1 in args.depths:
        tables.append(table(results, args, "p50_us", "Round-trip latency p50 (us)", [1], False))
        tables.append(table(results, args, "p99_us", "Round-trip latency p99 (us)", [1], False))
    tables.append(table(results, args, "cpu_us_per_req", "Client CPU per request (us)",
                        args.depths, False))
    print_tables(tables, args.markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
