#!/usr/bin/env python3
"""Side-by-side benchmark of PUBLISH on keyward-server and Debian's redis-server.

Both servers run with the same command line as in compare_redis.py (no persistence, loopback, a
free port), pinned to one core; the load generator, keyward_pubsub_load (bench/pubsub_load.cc,
built with -DKEYWARD_BENCH=ON), runs pinned to another core. It holds N subscriber connections
on one channel and one publisher connection in one epoll loop, and prints one JSON line per run.

Measured, for each server:
  - throughput with 1, 100 and 1000 subscribers: the publisher sends PUBLISH ch <16 bytes> in
    pipelined batches of 16 (redis-benchmark -P 16's pattern: send a batch, wait for its
    replies); with a window of 4, four batches are in flight, so the server does not wait for
    the generator's round trip. A run ends when every subscriber has received every message
    (checked byte for byte), not when the last PUBLISH is acknowledged: a server answers PUBLISH
    once the message is queued, so the replies alone would overstate throughput. Reported:
    publishes/s, deliveries/s (publishes x subscribers), and the server's CPU time per publish
    (utime + stime from /proc/<pid>/stat over the measured interval, divided by the publishes);
  - publish-to-receive latency with 1 and 100 subscribers: one PUBLISH at a time carrying its
    send time (CLOCK_MONOTONIC); the next leaves only when every subscriber has received it.
    p50 and p99 over all deliveries, in microseconds.

Every configuration runs on both servers back to back, for several rounds; the order flips each
round. The table gives medians over rounds, the ratio of the medians Keyward/Redis and the median
of the per-round ratios (Paired), as compare_redis.py does, whose launcher and /proc helpers this
script imports. Noise is reported next to the numbers: /proc/loadavg, the CPU used by processes
other than the server and the generator during each run, and the generator's own CPU use, which
must stay below one core for the run to measure the server.

Before each pair of runs the script waits (up to --max-wait seconds) for builds (ninja, make,
cc1plus, ld) to finish and for the machine to be idle; a pair during which other processes used
more than 0.2 cores anyway is measured again (up to --retries times).
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
DEFAULT_LOAD = os.path.join(ROOT, "build", "bin", "keyward_pubsub_load")
SERVERS = ("Keyward", "Redis")
# Processes whose presence means someone is building: their CPU use would land in our numbers.
BUILD_PROCESSES = ("ninja", "make", "cc1plus", "ld", "collect2", "cmake")
# Mean CPU (cores) used by other processes above which the machine does not count as quiet.
QUIET_CORES = 0.2
# Above this fraction of a core the generator may be what limits the rate, not the server.
LOADER_SATURATED = 0.9


# ----------------------------------------------------------------------------------------------
# Configurations: what one pair of runs measures.

def configurations(args):
    """(key, kind, subscribers, window) in run order; key names the results."""
    out = []
    for window in args.windows:
        for subs in args.subscribers:
            out.append((f"throughput {subs} w{window}", "throughput", subs, window))
    for subs in args.latency_subscribers:
        out.append((f"latency {subs}", "latency", subs, 1))
    return out


def publishes_for(args, kind, subs):
    """Publishes per run: a budget of deliveries split over the subscribers, capped, so every
    run lasts long enough for the 10 ms resolution of /proc's CPU times."""
    if kind == "throughput":
        return max(args.depth, min(args.max_publishes, args.deliveries // subs))
    return max(100, min(args.latency_max_publishes, args.latency_samples // subs))


# ----------------------------------------------------------------------------------------------
# Running.

def building():
    """Names of build processes running now (empty when none)."""
    found = []
    for name in BUILD_PROCESSES:
        if subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0:
            found.append(name)
    return found


def other_cores_now(servers, seconds=0.5):
    """CPU (cores) used by everything but our idle servers over a short interval."""
    busy0 = cr.system_busy_ticks()
    srv0 = sum(cr.proc_cpu_ticks(s.pid) for s in servers.values())
    time.sleep(seconds)
    busy1 = cr.system_busy_ticks()
    srv1 = sum(cr.proc_cpu_ticks(s.pid) for s in servers.values())
    return max(0, (busy1 - busy0) - (srv1 - srv0)) / cr.CLK_TCK / seconds


def wait_for_quiet(args, servers, noise):
    """Waits until no build runs and the machine is idle; gives up after --max-wait seconds."""
    if args.max_wait <= 0:
        return
    deadline = time.monotonic() + args.max_wait
    announced = False
    while True:
        names = building()
        cores = other_cores_now(servers) if not names else None
        if not names and cores <= QUIET_CORES:
            return
        if time.monotonic() > deadline:
            noise["gave_up_waiting"] += 1
            cr.log(f"  machine still busy after {args.max_wait} s; measuring anyway")
            return
        if not announced:
            why = f"build running ({', '.join(names)})" if names else f"{cores:.2f} cores busy"
            cr.log(f"  waiting for a quiet machine: {why}")
            announced = True
        noise["waited_s"] += 5
        time.sleep(5)


def run_load(args, srv, kind, subs, window):
    publishes = publishes_for(args, kind, subs)
    cmd = ["taskset", "-c", str(args.client_cpu), args.load, "--port", str(srv.port),
           "--mode", kind, "--subscribers", str(subs), "--publishes", str(publishes),
           "--payload-size", str(args.payload_size), "--server-pid", str(srv.pid)]
    if kind == "throughput":
        cmd += ["--depth", str(args.depth), "--window", str(window)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{os.path.basename(args.load)} failed on {srv.name}: "
                           f"{out.stderr}{out.stdout}")
    if srv.proc.poll() is not None:
        raise RuntimeError(f"{srv.name} died during {kind} {subs}:\n" + srv.log_tail())
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-pubsub-bench-")
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    servers = {name: cr.Server(name, b, args.server_cpu, workdir) for name, b in binaries.items()}
    configs = configurations(args)
    results = {name: {key: [] for key, *_ in configs} for name in SERVERS}
    noise = {"load_start": cr.loadavg(), "load_max": float(cr.loadavg()[0]), "waited_s": 0,
             "gave_up_waiting": 0, "retried": 0}
    cr.log(f"load average at start: {' '.join(noise['load_start'])}")
    try:
        for name, srv in servers.items():
            srv.start()
            cr.log(f"{name}: pid {srv.pid}, port {srv.port}")
        for rnd in range(args.rounds):
            order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
            cr.log(f"round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
                   f"load {' '.join(cr.loadavg())}")
            for key, kind, subs, window in configs:
                for attempt in range(args.retries + 1):
                    wait_for_quiet(args, servers, noise)
                    pair = {}
                    for name in order:
                        pair[name] = run_load(args, servers[name], kind, subs, window)
                        if args.verbose:
                            cr.log(f"  {name:8} {key:18} " + describe(pair[name]))
                    worst = max(r["other_cores"] for r in pair.values())
                    if worst <= QUIET_CORES or attempt == args.retries:
                        break
                    # Something else ran during the pair: measure it again rather than keep it.
                    noise["retried"] += 1
                    cr.log(f"  other processes used {worst:.2f} cores: pair run again")
                for name in order:
                    results[name][key].append(pair[name])
            noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))
    finally:
        for srv in servers.values():
            srv.stop()
    noise["load_end"] = cr.loadavg()
    return results, noise


def describe(r):
    if r["mode"] == "throughput":
        return (f"{r['publishes_per_s']:>11,.0f} pub/s {r['deliveries_per_s']:>12,.0f} del/s  "
                f"{r['server_cpu_us_per_publish']:.3f} us/pub  server {r['server_busy']:.2f} "
                f"loader {r['loader_busy']:.2f} others {r['other_cores']:.2f} cores")
    return (f"p50 {r['p50_us']:.1f} p99 {r['p99_us']:.1f} p99.9 {r['p999_us']:.1f} us "
            f"(all of {r['subscribers']}: p99 {r['last_p99_us']:.1f})  "
            f"others {r['other_cores']:.2f} cores")


# ----------------------------------------------------------------------------------------------
# Report.

def metric_rows(args):
    """(label, config key, metric, higher is better) for every table row."""
    rows = []

    def tp_label(subs, window):
        pipeline = f"-P {args.depth}" + (f" x{window} in flight" if window > 1 else "")
        return f"{subs} sub{'s' if subs > 1 else ''}, {pipeline}"

    for window in args.windows:
        for subs in args.subscribers:
            rows.append((f"PUBLISH/s, {tp_label(subs, window)}",
                         f"throughput {subs} w{window}", "publishes_per_s", True))
    for window in args.windows:
        for subs in args.subscribers:
            if subs > 1:
                rows.append((f"deliveries/s, {tp_label(subs, window)}",
                             f"throughput {subs} w{window}", "deliveries_per_s", True))
    for window in args.windows:
        for subs in args.subscribers:
            rows.append((f"server CPU us/PUBLISH, {tp_label(subs, window)}",
                         f"throughput {subs} w{window}", "server_cpu_us_per_publish", False))
    for subs in args.latency_subscribers:
        for metric, name in (("p50_us", "p50"), ("p99_us", "p99")):
            rows.append((f"latency {name} us, {subs} sub{'s' if subs > 1 else ''}",
                         f"latency {subs}", metric, False))
    return rows


def build_table(results, args):
    table = []
    for label, key, metric, higher_better in metric_rows(args):
        kv = [r[metric] for r in results["Keyward"][key]]
        rv = [r[metric] for r in results["Redis"][key]]
        k, r = statistics.median(kv), statistics.median(rv)
        ratio = k / r if r else float("nan")
        paired = statistics.median([a / b for a, b in zip(kv, rv) if b])
        spread = f"{cr.spread(kv):.0f}% / {cr.spread(rv):.0f}%" if len(kv) > 1 else "-"
        table.append((label, cr.fmt_num(k), cr.fmt_num(r), f"{ratio:.2f}", f"{paired:.2f}",
                      "higher" if higher_better else "lower", spread, str(len(kv))))
    return table


def saturation_lines(results, args):
    """Who was busy in the throughput runs: the server should be, the generator should not."""
    lines = []
    for window in args.windows:
        for subs in args.subscribers:
            key = f"throughput {subs} w{window}"
            cells = []
            for name in SERVERS:
                runs = results[name][key]
                cells.append(f"{name} server "
                             f"{statistics.median(r['server_busy'] for r in runs):.2f} / "
                             f"generator {statistics.median(r['loader_busy'] for r in runs):.2f}")
            lines.append(f"  {subs} sub(s), window {window}: " + "; ".join(cells))
    return lines


def print_context(args, versions, results, noise, markdown):
    bullet = "- " if markdown else "  "
    runs = [r for name in SERVERS for key in results[name] for r in results[name][key]]
    others = [r["other_cores"] for r in runs]
    loader_max = max((r["loader_busy"] for r in runs if r["mode"] == "throughput"), default=0)
    tp = ", ".join(f"{s} subs: {publishes_for(args, 'throughput', s):,}" for s in args.subscribers)
    lat = ", ".join(f"{s} subs: {publishes_for(args, 'latency', s):,}"
                    for s in args.latency_subscribers)
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']})",
        f"Redis:   {args.redis} ({versions['Redis']})",
        f"Load generator: {os.path.basename(args.load)} (C++, epoll, one thread) on CPU "
        f"{args.client_cpu}; servers on CPU {args.server_cpu}; {args.rounds} round(s), order "
        f"flipped each round, median of rounds",
        f"Throughput: one channel, PUBLISH with a {args.payload_size}-byte payload in batches of "
        f"{args.depth}, windows of {', '.join(map(str, args.windows))} batch(es) in flight; "
        f"publishes per run: {tp}; a run ends when every subscriber has every message",
        f"Latency: one PUBLISH at a time, send to receive, over all deliveries; publishes per "
        f"run: {lat} (plus 1% warm-up)",
        "Keyward/Redis: ratio of the medians; Paired: median of the per-round ratios; "
        "Spread: (max - min) / median over the rounds, Keyward / Redis",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {statistics.mean(others):.2f} cores, "
        f"worst run {max(others):.2f} cores (of {os.cpu_count()}); waited "
        f"{noise['waited_s']} s for builds or load to end; {noise.get('retried', 0)} pair(s) "
        f"measured again because of other load",
        "Busy fraction (CPU time / wall time) in the throughput runs, medians:",
    ]
    lines += saturation_lines(results, args)
    if statistics.mean(others) > QUIET_CORES or noise.get("gave_up_waiting"):
        lines.append(f"WARNING: noisy run: other processes used more than {QUIET_CORES} cores "
                     f"on average, or the machine never became quiet")
    if loader_max > LOADER_SATURATED:
        lines.append(f"WARNING: the load generator used {loader_max:.2f} of its core in a run: "
                     f"there it may have limited the rate")
    for l in lines:
        # The saturation lines are nested under the line that introduces them.
        if l.startswith("  "):
            print(("  - " + l.strip()) if markdown else ("    " + l.strip()))
        else:
            print(bullet + l)


# ----------------------------------------------------------------------------------------------

SAVED_ARGS = ("keyward", "redis", "load", "rounds", "subscribers", "latency_subscribers",
              "windows", "depth", "payload_size", "deliveries", "max_publishes",
              "latency_samples", "latency_max_publishes", "server_cpu", "client_cpu")


def add_quiet_arguments(p, unit):
    """The CPU pinning and the waiting for a quiet machine that every side-by-side script
    shares; `unit` names what is measured together ("pair" of runs, "group" of runs)."""
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--max-wait", type=float, default=900,
                   help=f"seconds to wait for builds and load to end before each {unit} of runs "
                        "(0: do not wait)")
    p.add_argument("--retries", type=int, default=3,
                   help=f"times a {unit} of runs is measured again when other processes used more "
                        f"than {QUIET_CORES} cores during it (the last attempt is kept)")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD, help="keyward-server (Release)")
    p.add_argument("--redis", default=cr.DEFAULT_REDIS, help="redis-server")
    p.add_argument("--load", default=DEFAULT_LOAD, help="keyward_pubsub_load (Release)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the table shows the median")
    p.add_argument("--subscribers", default="1,100,1000", help="throughput: subscriber counts")
    p.add_argument("--latency-subscribers", default="1,100", help="latency: subscriber counts")
    p.add_argument("--windows", default="1,4",
                   help="throughput: batches in flight (1: send, wait for the replies, repeat)")
    p.add_argument("--depth", type=int, default=16, help="PUBLISH commands per batch")
    p.add_argument("--payload-size", type=int, default=16, help="bytes per message (>= 16)")
    p.add_argument("--deliveries", type=int, default=10_000_000,
                   help="throughput: deliveries per run (publishes = this / subscribers)")
    p.add_argument("--max-publishes", type=int, default=2_000_000,
                   help="throughput: cap on publishes per run (the 1-subscriber case)")
    p.add_argument("--latency-samples", type=int, default=500_000,
                   help="latency: deliveries per run (publishes = this / subscribers)")
    p.add_argument("--latency-max-publishes", type=int, default=50_000,
                   help="latency: cap on publishes per run")
    add_quiet_arguments(p, "pair")
    cr.add_report_arguments(p, "smoke run: defaults of 1 round and a tenth of the messages")
    if p.parse_known_args(argv)[0].quick:
        # New defaults only: options given explicitly still win (--quick --rounds 2).
        p.set_defaults(rounds=1, deliveries=1_000_000, max_publishes=200_000,
                       latency_samples=50_000, latency_max_publishes=5_000)
    args = p.parse_args(argv)
    args.subscribers = [int(x) for x in args.subscribers.split(",") if x]
    args.latency_subscribers = [int(x) for x in args.latency_subscribers.split(",") if x]
    args.windows = [int(x) for x in args.windows.split(",") if x]
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.payload_size < 16:
        p.error("--payload-size must be at least 16 (the latency timestamp)")
    if not args.from_json:
        for b in (args.keyward, args.redis, args.load):
            if not os.access(b, os.X_OK):
                p.error(f"{b} is not an executable (build keyward-server and "
                        f"keyward_pubsub_load in Release first, see bench/README.md)")
    return args


def main(argv):
    return cr.side_by_side_main(parse_args(argv), SAVED_ARGS, measure, print_context, build_table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
