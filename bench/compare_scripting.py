#!/usr/bin/env python3
"""Side-by-side benchmark of EVALSHA on keyward-server and Debian's redis-server.

Both servers run with compare_redis.py's command line (no persistence, loopback, a free port),
pinned to one core; redis-benchmark runs pinned to another, sending one EVALSHA per request
(redis-benchmark accepts a whole command after its options, and replaces __rand_int__ in it by a
random number below -r, padded to 12 digits). The scripts are loaded with SCRIPT LOAD on both
servers first; their SHA1s must agree.

Workloads (-c 50, -P 1 and -P 16):
  noop            `return 1`: the cost of EVALSHA itself (script look-up, KEYS/ARGV, the call
                  into Lua, the reply), no command inside.
  release other   the compare-and-delete release of node-redlock / redsync / redis-py on a lock
                  held by another owner: GET, compare, return 0 (keys held:<n>, preloaded with
                  another token once).
  release own     the same script on locks the caller owns: GET, compare, DEL, return 1. Keys
                  lock:<n> are preloaded before every run, and a released lock is gone: a key
                  drawn a second time is a miss (GET nil, return 0). The fraction of calls that
                  deleted a key is measured (DBSIZE before and after) and printed; it is the
                  same on both servers when redis-benchmark draws the same keys.
  ten commands    a script of 10 redis.call on strings (SET, GET, INCR, INCRBY, GET, APPEND,
                  STRLEN, EXPIRE, SET, EXISTS), 6 of them writes, on key:<n> and key:<n>:n.

Metrics and table as in compare_redis.py: requests per second, p50/p99 latency at -P 1 (as
redis-benchmark reports them), server CPU time per EVALSHA (utime+stime from /proc over the run),
medians over rounds, Keyward/Redis ratio of the medians, Paired (median of per-round ratios),
Spread. Each (workload, depth) runs on both servers back to back, the order flipping each round.
Before each pair the script waits for builds to end and the machine to be idle (compare_pubsub's
wait), measures a pair again when other processes used more than 0.2 cores during it anyway,
and reports the CPU other processes used during the runs.

Python 3 standard library only; nothing is built here: pass the Release binary.
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
import compare_pubsub as cp  # noqa: E402  (waiting for a quiet machine)
import compare_redis as cr  # noqa: E402  (the shared launcher, /proc helpers and table)

SERVERS = ("Keyward", "Redis")

# The release script as node-redlock v4 sends it (redsync's and redis-py's do the same work).
RELEASE = ('if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) '
           'else return 0 end')
TEN_COMMANDS = """
local k, c = KEYS[1], KEYS[1] .. ':n'
redis.call('SET', k, ARGV[1])
local v = redis.call('GET', k)
redis.call('INCR', c)
redis.call('INCRBY', c, 2)
local n = redis.call('GET', c)
redis.call('APPEND', k, 'x')
local len = redis.call('STRLEN', k)
redis.call('EXPIRE', c, 3600)
redis.call('SET', k, v)
local e = redis.call('EXISTS', k, c)
return {n, len, e}
"""

# name -> (script, EVALSHA arguments after the SHA1, key prefix to preload or None, value,
# preload before every run)
WORKLOADS = {
    "noop": ("return 1", ["0"], None, None, False),
    "release other": (RELEASE, ["1", "held:__rand_int__", "tok"], "held:", b"other-owner",
                      False),
    "release own": (RELEASE, ["1", "lock:__rand_int__", "tok"], "lock:", b"tok", True),
    "ten commands": (TEN_COMMANDS, ["1", "key:__rand_int__", "value"], None, None, False),
}


def preload(srv, prefix, value, keyspace):
    """SET <prefix>%012d <value> for the whole keyspace (redis-benchmark's key pattern)."""
    c = cr.Client(srv.port)
    try:
        batch = 10000
        for start in range(0, keyspace, batch):
            cmds = [(b"SET", prefix.encode() + b"%012d" % i, value)
                    for i in range(start, min(start + batch, keyspace))]
            for reply in c.pipeline(cmds):
                if reply != "OK":
                    raise RuntimeError(f"{srv.name}: preload SET replied {reply!r}")
    finally:
        c.close()


def run_one(args, srv, workload, sha, pipeline, requests):
    cmd = ["taskset", "-c", str(args.client_cpu), args.benchmark, "-h", "127.0.0.1",
           "-p", str(srv.port), "-c", str(args.clients), "-n", str(requests),
           "-r", str(args.keyspace), "-P", str(pipeline), "--csv", "EVALSHA", sha]
    cmd += WORKLOADS[workload][1]
    size0 = int(srv.call("DBSIZE"))
    busy0 = cr.system_busy_ticks()
    child0 = cr.children_cpu_seconds()
    server0 = cr.proc_cpu_ticks(srv.pid)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    server1 = cr.proc_cpu_ticks(srv.pid)
    child1 = cr.children_cpu_seconds()
    busy1 = cr.system_busy_ticks()
    if out.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed on {srv.name}: {out.stderr}{out.stdout}")
    if srv.proc.poll() is not None:
        raise RuntimeError(f"{srv.name} died during {workload}:\n" + srv.log_tail())
    row = cr.parse_csv(out.stdout)
    server_s = (server1 - server0) / cr.CLK_TCK
    client_s = child1 - child0
    other_s = max(0.0, (busy1 - busy0) / cr.CLK_TCK - server_s - client_s)
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
        "cpu_us_per_cmd": server_s * 1e6 / requests,
        "other_cores": other_s / wall if wall > 0 else 0.0,
        "client_busy": client_s / wall if wall > 0 else 0.0,
        "deleted": size0 - int(srv.call("DBSIZE")),
        "requests": requests,
    }


def load_scripts(servers):
    """SCRIPT LOAD every workload's script on both servers; {workload: sha}."""
    shas = {}
    for workload, (script, _, _, _, _) in WORKLOADS.items():
        got = {name: srv.call("SCRIPT", "LOAD", script) for name, srv in servers.items()}
        if len(set(got.values())) != 1:
            raise RuntimeError(f"SCRIPT LOAD of {workload} gave different SHA1s: {got}")
        shas[workload] = got["Redis"]
        # A quick check that the script runs and replies the same on both.
        probe = {name: srv.call("EVALSHA", shas[workload], "1", "probe:key", "tok")
                 for name, srv in servers.items()}
        if probe["Keyward"] != probe["Redis"]:
            raise RuntimeError(f"{workload}: replies differ: {probe}")
        for srv in servers.values():
            srv.call("FLUSHALL")
    return shas


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-scripting-bench-")
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    servers = {name: cr.Server(name, b, args.server_cpu, workdir) for name, b in binaries.items()}
    noise = {"load_start": cr.loadavg(), "load_max": float(cr.loadavg()[0]), "waited_s": 0,
             "gave_up_waiting": 0, "retried": 0}
    results = {name: {} for name in SERVERS}
    cr.log(f"load average at start: {' '.join(noise['load_start'])}")
    try:
        for name, srv in servers.items():
            srv.start()
            cr.log(f"{name}: pid {srv.pid}, port {srv.port}")
        shas = load_scripts(servers)
        for workload, (_, _, prefix, value, every_run) in WORKLOADS.items():
            if prefix and value is not None and not every_run:
                for srv in servers.values():
                    preload(srv, prefix, value, args.keyspace)
        for rnd in range(args.rounds):
            order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
            cr.log(f"round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
                   f"load {' '.join(cr.loadavg())}")
            for p in args.pipelines:
                for workload in args.workloads:
                    _, _, prefix, value, every_run = WORKLOADS[workload]
                    requests = args.requests if p == 1 else args.pipelined_requests
                    for attempt in range(args.retries + 1):
                        cp.wait_for_quiet(args, servers, noise)
                        pair = {}
                        for name in order:
                            if every_run:
                                preload(servers[name], prefix, value, args.keyspace)
                            r = run_one(args, servers[name], workload, shas[workload], p,
                                        requests)
                            pair[name] = r
                            if args.verbose:
                                cr.log(f"  {name:8} {workload:13} -P {p:<3} "
                                       f"{r['rps']:>10,.0f} req/s  p50 {r['p50_ms']:.3f} "
                                       f"p99 {r['p99_ms']:.3f} ms  "
                                       f"{r['cpu_us_per_cmd']:.2f} us/cmd  "
                                       f"others {r['other_cores']:.2f} cores")
                        worst = max(r["other_cores"] for r in pair.values())
                        if worst <= cp.QUIET_CORES or attempt == args.retries:
                            break
                        noise["retried"] += 1
                        cr.log(f"  other processes used {worst:.2f} cores: pair run again")
                    for name, r in pair.items():
                        results[name].setdefault(f"{workload} -P {p}", []).append(r)
            noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))
    finally:
        for srv in servers.values():
            srv.stop()
    noise["load_end"] = cr.loadavg()
    return results, noise


def build_table(results, args):
    rows = []
    for metric, label, higher, depths in (("rps", "req/s", True, args.pipelines),
                                          ("p50_ms", "p50 ms", False, [1]),
                                          ("p99_ms", "p99 ms", False, [1]),
                                          ("cpu_us_per_cmd", "server CPU us/EVALSHA", False,
                                           args.pipelines)):
        for p in depths:
            if p not in args.pipelines:
                continue
            for workload in args.workloads:
                key = f"{workload} -P {p}"
                kv = [r[metric] for r in results["Keyward"][key]]
                rv = [r[metric] for r in results["Redis"][key]]
                k, r = statistics.median(kv), statistics.median(rv)
                paired = statistics.median([a / b for a, b in zip(kv, rv) if b])
                spread = f"{cr.spread(kv):.0f}% / {cr.spread(rv):.0f}%" if len(kv) > 1 else "-"
                rows.append((f"{workload} {label} -P {p}", cr.fmt_num(k), cr.fmt_num(r),
                             f"{k / r:.2f}" if r else "-", f"{paired:.2f}",
                             "higher" if higher else "lower", spread, str(len(kv))))
    return rows


def print_context(args, versions, results, noise, markdown):
    bullet = "- " if markdown else "  "
    runs = [r for name in SERVERS for runs in results[name].values() for r in runs]
    others = [r["other_cores"] for r in runs]
    hits = []
    for p in args.pipelines:
        key = f"release own -P {p}"
        if key in results["Keyward"]:
            k = statistics.median(r["deleted"] / r["requests"] for r in results["Keyward"][key])
            r = statistics.median(r["deleted"] / r["requests"] for r in results["Redis"][key])
            hits.append(f"-P {p}: Keyward {100 * k:.0f}%, Redis {100 * r:.0f}%")
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']})",
        f"Redis:   {args.redis} ({versions['Redis']})",
        f"redis-benchmark -c {args.clients} -r {args.keyspace} EVALSHA <sha> ...; -n "
        f"{args.requests} at -P 1, -n {args.pipelined_requests} at -P > 1; {args.rounds} "
        f"round(s), order flipped each round, median of rounds; servers on CPU "
        f"{args.server_cpu}, redis-benchmark on CPU {args.client_cpu}",
        "Keyward/Redis: ratio of the medians; Paired: median of the per-round ratios; "
        "Spread: (max - min) / median over the rounds, Keyward / Redis",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {statistics.mean(others):.2f} cores, "
        f"worst run {max(others):.2f} cores (of {os.cpu_count()}); waited {noise['waited_s']} s "
        f"for builds or load to end; {noise.get('retried', 0)} pair(s) measured again because "
        f"of other load",
        f"redis-benchmark's busy fraction of its core: median "
        f"{statistics.median(r['client_busy'] for r in runs):.2f}, max "
        f"{max(r['client_busy'] for r in runs):.2f}",
    ]
    if hits:
        lines.append("release own: calls that found their own lock and deleted it: "
                     + "; ".join(hits))
    if statistics.mean(others) > cp.QUIET_CORES or noise.get("gave_up_waiting"):
        lines.append(f"WARNING: noisy run: other processes used more than {cp.QUIET_CORES} "
                     f"cores on average, or the machine never became quiet")
    for line in lines:
        print(bullet + line)


SAVED_ARGS = ("keyward", "redis", "rounds", "requests", "pipelined_requests", "clients",
              "keyspace", "workloads", "pipelines", "server_cpu", "client_cpu")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD, help="keyward-server (Release build)")
    p.add_argument("--redis", default=cr.DEFAULT_REDIS, help="redis-server")
    p.add_argument("--benchmark", default=cr.DEFAULT_BENCHMARK, help="redis-benchmark")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the table shows the median")
    p.add_argument("--requests", type=int, default=200000, help="requests per run at -P 1")
    p.add_argument("--pipelined-requests", type=int, default=1000000,
                   help="requests per run at -P > 1")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=1000000,
                   help="-r, and keys preloaded for the release workloads")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated, from: " + ", ".join(WORKLOADS))
    p.add_argument("--pipelines", default="1,16")
    cp.add_quiet_arguments(p, "pair")
    cr.add_report_arguments(p, "smoke run: 1 round, 20000/200000 requests, 100000 keys")
    if p.parse_known_args(argv)[0].quick:
        p.set_defaults(rounds=1, requests=20000, pipelined_requests=200000, keyspace=100000)
    args = p.parse_args(argv)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in args.workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}")
    args.pipelines = [int(x) for x in args.pipelines.split(",")]
    if not args.from_json:
        for b in (args.keyward, args.redis, args.benchmark):
            if not os.access(b, os.X_OK):
                p.error(f"{b} is not an executable (build keyward-server in Release first)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def main(argv):
    return cr.side_by_side_main(parse_args(argv), SAVED_ARGS, measure, print_context, build_table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
