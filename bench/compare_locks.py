#!/usr/bin/env python3
"""Side-by-side benchmark of locks: Keyward's native LOCK.* commands against node-redlock and
redis-py's Lock on Debian's redis-server.

Servers: N keyward-servers and N redis-servers (N up to the largest of --instances), started with
compare_redis.py's command line (no persistence, loopback, free ports), all pinned to one core;
every client runs pinned to another core. Three clients:
  Keyward       keyward_lock_load (bench/lock_load.cc, C++, the client library's AsyncClient):
                LOCK.ACQUIRE ... FENCE / LOCK.RELEASE for N = 1, the two-phase protocol
                (LOCK.ACQUIRE to all, LOCK.FENCE max+1 to all, LOCK.RELEASE to all) for N > 1,
                against the keyward-servers; as in the library, a release is done once a
                majority released (node-redlock resolves its acquisition and its
                release at a quorum);
  node-redlock  bench/lock_node.js (npm redlock 5.0.0-beta.2 + ioredis 5, from
                tests/interop/node/node_modules) against the redis-servers;
  redis-py      bench/lock_redis_py.py (Debian's python3-redis, redis.lock.Lock) against one
                redis-server (it has no multi-instance lock).

Measured:
  - uncontended, for N = 1, 3, 5: each iteration is a PING round (a PING to each of the N
    instances in parallel, on the lock's own connections) followed by an acquire and a release.
    p50/p99 of the PING round, of the acquisition and of acquire+release; acquire+release per
    second; and the acquisition and acquire+release in PING rounds (per-run p50 / p50), the
    language-neutral figure: each client against its own PING on the same connections;
  - contended hand-off, 8 contenders on one resource, N = 1 and 3: each holds the lock 1 ms,
    releases it, and queues again once another contender holds it. A hand-off is the time from
    the start of a release to a waiting contender holding the lock. Keyward waits server-side
    (N = 1: LOCK.ACQUIRE ... WAIT, woken by the release; N = 3: LOCK.WAIT between attempts, as the
    redlock library does); node-redlock polls every retryDelay +- retryJitter (its defaults, 200
    +- 100 ms, with retryCount -1 so that nobody gives up); redis-py polls every `sleep` (0.1 s);
  - FIFO on one instance: waiters join the queue one at a time (each after LOCK.INFO shows the
    previous one queued) in a shuffled order; are they granted in that order?

Every measurement runs for all clients back to back, in rounds; the order of the clients
rotates each round. The table gives medians over rounds, the ratios of the medians to Keyward's,
and the median of the per-round ratios (Paired), as compare_redis.py does, whose launcher,
/proc helpers and table this script imports; the wait for a quiet machine and the re-measuring
of disturbed groups come from compare_pubsub.py.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pubsub as cp  # noqa: E402  (waiting for a quiet machine)
import compare_redis as cr  # noqa: E402  (the shared launcher, /proc helpers and table)

BENCH = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LOAD = os.path.join(cp.ROOT, "build", "bin", "keyward_lock_load")
NODE_SCRIPT = os.path.join(BENCH, "lock_node.js")
PY_SCRIPT = os.path.join(BENCH, "lock_redis_py.py")
NODE_DIR = os.path.join(cp.ROOT, "tests", "interop", "node")
CLIENTS = ("Keyward", "node-redlock", "redis-py")


# ----------------------------------------------------------------------------------------------
# What runs.

def groups(args):
    """(key, kind, instances, clients) in run order; each group runs on all its clients back to
    back. redis-py only exists for one instance."""
    out = []
    for n in args.instances:
        out.append((f"uncontended {n}", "uncontended", n,
                    list(CLIENTS) if n == 1 else ["Keyward", "node-redlock"]))
    for n in args.handoff_instances:
        out.append((f"handoff {n}", "handoff", n,
                    list(CLIENTS) if n == 1 else ["Keyward", "node-redlock"]))
    out.append(("fifo 1", "fifo", 1, ["Keyward"]))
    return out


def command(args, client, kind, n, servers):
    """The client's command line for one run (pinned to the client CPU)."""
    pin = ["taskset", "-c", str(args.client_cpu)]
    if client == "Keyward":
        urls = ",".join(f"redis://127.0.0.1:{s.port}" for s in servers["Keyward"][:n])
        cmd = pin + [args.load, "--urls", urls, "--mode", kind]
        if kind == "uncontended":
            return cmd + ["-n", str(args.iterations)]
        if kind == "handoff":
            return cmd + ["--contenders", str(args.contenders), "--handoffs",
                          str(args.handoffs), "--hold-us", str(int(args.hold_ms * 1000))]
        return cmd + ["--contenders", str(args.contenders), "--fifo-rounds",
                      str(args.fifo_rounds)]
    if client == "node-redlock":
        addrs = ",".join(f"127.0.0.1:{s.port}" for s in servers["Redis"][:n])
        cmd = pin + [args.node, NODE_SCRIPT, "--addrs", addrs, "--mode", kind]
        if kind == "uncontended":
            return cmd + ["-n", str(args.iterations)]
        return cmd + ["--contenders", str(args.contenders), "--handoffs",
                      str(args.polling_handoffs), "--hold-ms", str(args.hold_ms)]
    cmd = pin + [args.python, PY_SCRIPT, "--port", str(servers["Redis"][0].port), "--mode", kind]
    if kind == "uncontended":
        return cmd + ["-n", str(args.iterations)]
    return cmd + ["--contenders", str(args.contenders), "--handoffs",
                  str(args.polling_handoffs), "--hold-ms", str(args.hold_ms)]


def run_one(args, client, kind, n, servers):
    every = [s for group in servers.values() for s in group]
    cmd = command(args, client, kind, n, servers)
    busy0 = cr.system_busy_ticks()
    child0 = cr.children_cpu_seconds()
    server0 = sum(cr.proc_cpu_ticks(s.pid) for s in every)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    server1 = sum(cr.proc_cpu_ticks(s.pid) for s in every)
    child1 = cr.children_cpu_seconds()
    busy1 = cr.system_busy_ticks()
    if out.returncode != 0:
        raise RuntimeError(f"{client} {kind} N={n} failed ({out.returncode}):\n"
                           f"{out.stderr}{out.stdout}")
    for s in every:
        if s.proc.poll() is not None:
            raise RuntimeError(f"{s.name} died during {client} {kind}:\n" + s.log_tail())
    r = json.loads(out.stdout.strip().splitlines()[-1])
    server_s = (server1 - server0) / cr.CLK_TCK
    client_s = child1 - child0
    r["other_cores"] = max(0.0, (busy1 - busy0) / cr.CLK_TCK - server_s - client_s) / wall
    r["client_busy"] = client_s / wall
    r["wall_s"] = wall
    if kind == "uncontended":
        r["acquire_pings"] = r["acquire_p50_us"] / r["ping_p50_us"]
        r["acquire_release_pings"] = r["acquire_release_p50_us"] / r["ping_p50_us"]
    return r


def describe(r):
    if r["mode"] == "uncontended":
        return (f"PING {r['ping_p50_us']:.1f} us, acquire {r['acquire_p50_us']:.1f} / "
                f"{r['acquire_p99_us']:.1f}, acq+rel {r['acquire_release_p50_us']:.1f} / "
                f"{r['acquire_release_p99_us']:.1f} us ({r['acquire_release_pings']:.2f} PINGs), "
                f"{r['acquire_release_per_s']:,.0f}/s  client {r['client_busy']:.2f} "
                f"others {r['other_cores']:.2f}")
    if r["mode"] == "handoff":
        return (f"{r['handoffs']} hand-offs p50 {r['handoff_p50_us'] / 1000:.3f} p99 "
                f"{r['handoff_p99_us'] / 1000:.3f} ms, longest wait "
                f"{r['wait_max_us'] / 1000:.1f} ms, overlaps {r['overlaps']}  "
                f"others {r['other_cores']:.2f}")
    return (f"{r['rounds_in_order']}/{r['rounds']} rounds in arrival order "
            f"({r['grants_in_place']}/{r['grants']} grants)")


def client_versions(args):
    versions = {"node": "?", "redlock": "?", "ioredis": "?", "redis-py": "?"}
    try:
        versions["node"] = subprocess.run([args.node, "--version"], capture_output=True,
                                          text=True, timeout=10).stdout.strip()
        for name in ("redlock", "ioredis"):
            with open(os.path.join(NODE_DIR, "node_modules", name, "package.json")) as f:
                versions[name] = json.load(f)["version"].lstrip("v")
        versions["redis-py"] = subprocess.run(
            [args.python, "-c", "import redis; print(redis.__version__)"], capture_output=True,
            text=True, timeout=10).stdout.strip()
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        pass
    return versions


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-lock-bench-")
    count = max(args.instances + args.handoff_instances)
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    servers = {name: [cr.Server(f"{name}{i}", b, args.server_cpu, workdir) for i in range(count)]
               for name, b in binaries.items()}
    flat = {s.name: s for group in servers.values() for s in group}
    noise = {"load_start": cr.loadavg(), "load_max": float(cr.loadavg()[0]), "waited_s": 0,
             "gave_up_waiting": 0, "retried": 0, "clients": client_versions(args)}
    results = {client: {} for client in CLIENTS}
    cr.log(f"load average at start: {' '.join(noise['load_start'])}")
    try:
        for s in flat.values():
            s.start()
        cr.log("servers: " + ", ".join(f"{s.name} :{s.port}" for s in flat.values()))
        for rnd in range(args.rounds):
            cr.log(f"round {rnd + 1}/{args.rounds}, load {' '.join(cr.loadavg())}")
            for key, kind, n, clients in groups(args):
                shift = rnd % len(clients)
                order = clients[shift:] + clients[:shift]
                for attempt in range(args.retries + 1):
                    cp.wait_for_quiet(args, flat, noise)
                    group = {}
                    for client in order:
                        group[client] = run_one(args, client, kind, n, servers)
                        if args.verbose:
                            cr.log(f"  {client:12} {key:13} " + describe(group[client]))
                    worst = max(r["other_cores"] for r in group.values())
                    if worst <= cp.QUIET_CORES or attempt == args.retries:
                        break
                    noise["retried"] += 1
                    cr.log(f"  other processes used {worst:.2f} cores: group run again")
                for client, r in group.items():
                    results[client].setdefault(key, []).append(r)
            noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))
    finally:
        for s in flat.values():
            s.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    noise["load_end"] = cr.loadavg()
    return results, noise


# ----------------------------------------------------------------------------------------------
# Report.

HEADERS = ("Metric", "Keyward", "node-redlock", "redis-py", "node/K", "Paired", "py/K", "Paired",
           "Better is", "Spread K / node / py", "Rounds")
LEFT_ALIGNED = (0, 8, 9)


def metric_rows(args):
    """(label, group key, metric, scale, higher is better) for every table row."""
    rows = []
    for n in args.instances:
        key = f"uncontended {n}"
        rows += [
            (f"N={n} PING round p50 us", key, "ping_p50_us", 1, False),
            (f"N={n} acquire p50 us", key, "acquire_p50_us", 1, False),
            (f"N={n} acquire p99 us", key, "acquire_p99_us", 1, False),
            (f"N={n} acquire+release p50 us", key, "acquire_release_p50_us", 1, False),
            (f"N={n} acquire+release p99 us", key, "acquire_release_p99_us", 1, False),
            (f"N={n} acquire+release/s", key, "acquire_release_per_s", 1, True),
            (f"N={n} acquire, in PING rounds", key, "acquire_pings", 1, False),
            (f"N={n} acquire+release, in PING rounds", key, "acquire_release_pings", 1, False),
        ]
    for n in args.handoff_instances:
        key = f"handoff {n}"
        rows += [
            (f"N={n} hand-off p50 ms", key, "handoff_p50_us", 1e-3, False),
            (f"N={n} hand-off p99 ms", key, "handoff_p99_us", 1e-3, False),
            (f"N={n} longest wait ms", key, "wait_max_us", 1e-3, False),
        ]
    return rows


def values(results, client, key, metric, scale):
    return [r[metric] * scale for r in results[client].get(key, [])]


def build_table(results, args):
    table = []
    for label, key, metric, scale, higher in metric_rows(args):
        kv = values(results, "Keyward", key, metric, scale)
        cells, ratios, spreads = [], [], []
        for client in CLIENTS:
            v = values(results, client, key, metric, scale)
            cells.append(cr.fmt_num(statistics.median(v)) if v else "-")
            spreads.append(f"{cr.spread(v):.0f}%" if len(v) > 1 else "-")
            if client == "Keyward":
                continue
            if v and kv and statistics.median(kv):
                ratios.append(f"{statistics.median(v) / statistics.median(kv):.2f}")
                ratios.append(f"{statistics.median([a / b for a, b in zip(v, kv) if b]):.2f}")
            else:
                ratios += ["-", "-"]
        table.append((label, *cells, *ratios, "higher" if higher else "lower",
                      " / ".join(spreads), str(len(kv))))
    return table


def median_of(results, client, key, metric):
    v = [r[metric] for r in results[client].get(key, [])]
    return statistics.median(v) if v else None


def target_lines(results, args):
    """The issue's targets, checked against the medians."""
    lines = ["Targets (issues 6 and 13; fenced acquire at most 1.3 PING rounds for N > 1):"]
    for n in args.instances:
        key = f"uncontended {n}"
        acq = median_of(results, "Keyward", key, "acquire_pings")
        both = median_of(results, "Keyward", key, "acquire_release_pings")
        if acq is None:
            continue
        # N = 1: acquire (ACQUIRE ... FENCE) + release = 2 round trips; N > 1: ACQUIRE ... PROPOSE
        # (the FENCE round only when the proposal fails: once per run here) and RELEASE = 2.
        acq_trips, trips = 1, 2
        per_trip = both / trips
        lines.append(
            f"  native acquire+release within 1.5 PING round trips, N={n}: the acquisition "
            f"({acq_trips} round trip{'s' if acq_trips > 1 else ''}) takes {acq:.2f} PING rounds, "
            f"acquire+release ({trips} round trips) {both:.2f}, i.e. {per_trip:.2f} per round "
            f"trip: {'met' if per_trip <= 1.5 else 'missed'} (read literally, acquire+release "
            f"<= 1.5 PING rounds: {'met' if both <= 1.5 else 'missed'})")
    for n in args.handoff_instances:
        key = f"handoff {n}"
        parts = []
        for client in CLIENTS:
            p50 = median_of(results, client, key, "handoff_p50_us")
            if p50 is not None:
                parts.append(f"{client} {p50 / 1000:.3f} ms")
        k = median_of(results, "Keyward", key, "handoff_p50_us")
        if k is not None:
            lines.append(f"  hand-off p50 under 1 ms, N={n}: " + ", ".join(parts) +
                         f": {'met' if k < 1000 else 'missed'}")
    runs = results["Keyward"].get("fifo 1", [])
    if runs:
        rounds = sum(r["rounds"] for r in runs)
        in_order = sum(r["rounds_in_order"] for r in runs)
        grants = sum(r["grants"] for r in runs)
        in_place = sum(r["grants_in_place"] for r in runs)
        lines.append(f"  FIFO on one instance: {'yes' if in_order == rounds else 'NO'} "
                     f"({in_order}/{rounds} rounds of {runs[0]['waiters']} waiters granted in "
                     f"arrival order; {in_place}/{grants} grants in place)")
    return lines


def print_context(args, versions, results, noise, markdown):
    bullet = "- " if markdown else "  "
    runs = [r for c in CLIENTS for rs in results[c].values() for r in rs]
    others = [r["other_cores"] for r in runs]
    cv = noise.get("clients", {})
    busy = []
    for c in CLIENTS:
        b = [r["client_busy"] for k, rs in results[c].items() if k.startswith("uncontended")
             for r in rs]
        if b:
            busy.append(f"{c} {statistics.median(b):.2f} (max {max(b):.2f})")
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']}); client keyward_lock_load (C++, "
        f"AsyncClient, one thread)",
        f"Redis:   {args.redis} ({versions['Redis']}); clients node-redlock "
        f"{cv.get('redlock', '?')} + ioredis {cv.get('ioredis', '?')} on node "
        f"{cv.get('node', '?')}, redis-py {cv.get('redis-py', '?')} (Python, one instance only)",
        f"Servers on CPU {args.server_cpu}, every client on CPU {args.client_cpu}; "
        f"{args.rounds} round(s), client order rotated each round, median of rounds",
        f"Uncontended: {args.iterations} iterations per run (plus 1% warm-up), each a PING round "
        f"then acquire and release, TTL 10 s, a fresh owner each time; 'in PING rounds' is each "
        f"run's p50 divided by its own PING round p50 (same connections)",
        f"Hand-off: {args.contenders} contenders on one resource, each holding it "
        f"{args.hold_ms:g} ms and queueing again once another holds it; {args.handoffs} hand-offs "
        f"per Keyward run, {args.polling_handoffs} per polling run (node-redlock retryDelay 200 "
        f"+- 100 ms, retryCount -1; redis-py sleep 0.1 s); longest wait = from calling acquire "
        f"to holding",
        "node/K, py/K: ratio of the medians to Keyward's; Paired: median of the per-round "
        "ratios; Spread: (max - min) / median over the rounds",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {statistics.mean(others):.2f} cores, "
        f"worst run {max(others):.2f} cores (of {os.cpu_count()}); waited {noise['waited_s']} s "
        f"for builds or load to end; {noise.get('retried', 0)} group(s) measured again because "
        f"of other load",
        "Client busy fraction (CPU time / wall time) in the uncontended runs, medians: "
        + "; ".join(busy),
    ]
    checks = []
    for c in CLIENTS:
        for key, rs in results[c].items():
            if key.startswith("handoff"):
                overlaps = sum(r["overlaps"] for r in rs)
                checks.append(f"{c} N={key.split()[1]}: {overlaps} overlapping holders")
                if "tokens_increasing" in rs[0]:
                    ok = all(r["tokens_increasing"] for r in rs)
                    checks[-1] += f", fencing tokens {'increasing' if ok else 'NOT increasing'}"
                if rs[0].get("server_waits") is not None and rs[0]["instances"] > 1:
                    waits = sum(r["server_waits"] for r in rs) / sum(r["handoffs"] for r in rs)
                    splits = sum(r["split_votes"] for r in rs)
                    checks[-1] += (f", {waits:.1f} LOCK.WAIT per hand-off, {splits} split "
                                   f"vote(s)")
    lines.append("Hand-off checks: " + "; ".join(checks))
    if statistics.mean(others) > cp.QUIET_CORES or noise.get("gave_up_waiting"):
        lines.append(f"WARNING: noisy run: other processes used more than {cp.QUIET_CORES} "
                     f"cores on average, or the machine never became quiet")
    lines += target_lines(results, args)
    for line in lines:
        if line.startswith("  "):
            print(("  - " + line.strip()) if markdown else ("    " + line.strip()))
        else:
            print(bullet + line)


# ----------------------------------------------------------------------------------------------

SAVED_ARGS = ("keyward", "redis", "load", "node", "python", "rounds", "instances",
              "handoff_instances", "iterations", "contenders", "handoffs", "polling_handoffs",
              "hold_ms", "fifo_rounds", "server_cpu", "client_cpu")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD, help="keyward-server (Release)")
    p.add_argument("--redis", default=cr.DEFAULT_REDIS, help="redis-server")
    p.add_argument("--load", default=DEFAULT_LOAD, help="keyward_lock_load (Release)")
    p.add_argument("--node", default=shutil.which("node") or "node", help="node")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="a Python with redis-py (Debian's python3-redis)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the table shows the median")
    p.add_argument("--instances", default="1,3,5", help="uncontended: instance counts")
    p.add_argument("--handoff-instances", default="1,3", help="hand-off: instance counts")
    p.add_argument("--iterations", type=int, default=10000,
                   help="uncontended: acquire+release (and PING rounds) per run")
    p.add_argument("--contenders", type=int, default=8)
    p.add_argument("--handoffs", type=int, default=2000,
                   help="hand-off: hand-offs per Keyward run")
    p.add_argument("--polling-handoffs", type=int, default=200,
                   help="hand-off: hand-offs per node-redlock / redis-py run (they poll: each "
                        "takes tens of milliseconds)")
    p.add_argument("--hold-ms", type=float, default=1.0, help="hand-off: time each holder keeps it")
    p.add_argument("--fifo-rounds", type=int, default=50, help="FIFO check: rounds per run")
    cp.add_quiet_arguments(p, "group")
    cr.add_report_arguments(p, "smoke run: 1 round, a tenth of the iterations and hand-offs")
    if p.parse_known_args(argv)[0].quick:
        p.set_defaults(rounds=1, iterations=1000, handoffs=200, polling_handoffs=30,
                       fifo_rounds=10)
    args = p.parse_args(argv)
    args.instances = [int(x) for x in args.instances.split(",") if x]
    args.handoff_instances = [int(x) for x in args.handoff_instances.split(",") if x]
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if not args.from_json:
        for b in (args.keyward, args.redis, args.load, args.node, args.python):
            if not (shutil.which(b) or os.access(b, os.X_OK)):
                p.error(f"{b} is not an executable (build keyward-server and keyward_lock_load "
                        f"in Release first, see bench/README.md)")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redlock")):
            p.error(f"no node-redlock in {NODE_DIR}/node_modules: run `npm ci` there")
    return args


def main(argv):
    return cr.side_by_side_main(parse_args(argv), SAVED_ARGS, measure, print_context, build_table,
                                headers=HEADERS, left_aligned=LEFT_ALIGNED)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
