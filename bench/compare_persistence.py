#!/usr/bin/env python3
"""RDB persistence, keyward-server vs Debian's redis-server 7.0.15 (issue 17's figures).

1. save/load: DEBUG POPULATE --keys small keys, then SAVE (keys per second of the SAVE call),
   then a restart in the same directory (keys per second from the "DB loaded from disk: X
   seconds" line both servers log).
2. snapshot: a dataset of about --snapshot-mb MB (SET of --value-size bytes on --snapshot-keys
   keys), then redis-benchmark -P 16 SET on the same keys for --load-seconds while a BGSAVE
   runs. Reported: peak memory during the snapshot over memory before it (proportional set size
   of the server and its children, so Redis's fork child counts with the pages it does not
   share), the snapshot's duration, and the SET throughput during the snapshot over the
   throughput of the same load without one.

Servers run one at a time, pinned to core 0, redis-benchmark on core 1.

    bench/compare_persistence.py --keyward build/bin/keyward-server [--keys 10000000]
        [--snapshot-keys 5000000 --value-size 200] [--rounds 1] [--markdown]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_redis import DEFAULT_KEYWARD, DEFAULT_REDIS, Client, Server  # noqa: E402

REDIS_BENCHMARK = "/usr/bin/redis-benchmark"


def pss_bytes(pid):
    """Proportional set size of the process and its children (a fork child's shared pages
    count half to each)."""
    total = 0
    pids = [pid]
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def info_field(c, section, name):
    info = c.call("INFO", section)
    m = re.search(r"^%s:(\S+)" % re.escape(name), info, re.M)
    return m.group(1) if m else None


def wait_bgsave(c):
    while info_field(c, "persistence", "rdb_bgsave_in_progress") == "1":
        time.sleep(0.01)


def loaded_seconds(log_path):
    with open(log_path, errors="replace") as f:
        m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
    return float(m.group(1)) if m else None


def save_and_load(name, binary, keys):
    with tempfile.TemporaryDirectory(prefix="keyward-bench-rdb-") as d:
        srv = Server(name, binary, 0, d).start()
        try:
            c = Client(srv.port)
            c.call("DEBUG", "POPULATE", keys)
            t0 = time.monotonic()
            c.call("SAVE")
            save_s = time.monotonic() - t0
            size = os.path.getsize(os.path.join(d, "dump.rdb"))
            c.close()
        finally:
            srv.stop()
        srv = Server(name, binary, 0, d).start()
        try:
            load_s = loaded_seconds(srv.log_path)
            c = Client(srv.port)
            assert int(c.call("DBSIZE")) == keys, "not every key was loaded"
            c.close()
        finally:
            srv.stop()
    return {"save_keys_per_s": keys / save_s, "load_keys_per_s": keys / load_s,
            "file_mb": size / 1e6}


def benchmark_set(port, keys, value_size):
    """A SET load at -P 16 that runs until terminated (throughput is read from the server's
    command counter)."""
    n = 2_000_000_000
    proc = subprocess.Popen(["taskset", "-c", "1", REDIS_BENCHMARK, "-p", str(port), "-t", "set",
                             "-P", "16", "-c", "50", "-r", str(keys), "-d", str(value_size),
                             "-n", str(n), "--csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return proc


def snapshot(name, binary, keys, value_size, load_seconds):
    with tempfile.TemporaryDirectory(prefix="keyward-bench-snap-") as d:
        srv = Server(name, binary, 0, d).start()
        try:
            c = Client(srv.port)
            # Fill: every key of the benchmark's key space once.
            subprocess.run(["taskset", "-c", "1", REDIS_BENCHMARK, "-p", str(srv.port), "-t",
                            "set", "-P", "64", "-c", "50", "-r", str(keys), "-d",
                            str(value_size), "-n", str(keys * 2), "-q"],
                           stdout=subprocess.DEVNULL, check=True)
            time.sleep(1)
            base = pss_bytes(srv.pid)
            dbsize = int(c.call("DBSIZE"))

            def rate_during(with_snapshot):
                load = benchmark_set(srv.port, keys, value_size)
                time.sleep(1)  # the load is running
                peak = [0]
                stop = threading.Event()

                def sample():
                    while not stop.is_set():
                        peak[0] = max(peak[0], pss_bytes(srv.pid))
                        time.sleep(0.02)
                sampler = threading.Thread(target=sample)
                sampler.start()
                t0 = time.monotonic()
                c0 = int(info_field(c, "stats", "total_commands_processed"))
                duration = None
                if with_snapshot:
                    c.call("BGSAVE")
                    wait_bgsave(c)
                    duration = time.monotonic() - t0
                else:
                    time.sleep(load_seconds)
                elapsed = time.monotonic() - t0
                c1 = int(info_field(c, "stats", "total_commands_processed"))
                stop.set()
                sampler.join()
                load.terminate()
                load.wait()
                return (c1 - c0) / elapsed, peak[0], duration

            rate_without, _, _ = rate_during(False)
            rate_with, peak, duration = rate_during(True)
            c.close()
        finally:
            srv.stop()
    return {"keys": dbsize, "base_mb": base / 1e6, "peak_mb": peak / 1e6,
            "peak_ratio": peak / base, "snapshot_s": duration,
            "rps_without": rate_without, "rps_during": rate_with,
            "rps_ratio": rate_with / rate_without}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keyward", default=DEFAULT_KEYWARD)
    p.add_argument("--redis", default=DEFAULT_REDIS)
    p.add_argument("--keys", type=int, default=10_000_000)
    p.add_argument("--snapshot-keys", type=int, default=5_000_000)
    p.add_argument("--value-size", type=int, default=200)
    p.add_argument("--load-seconds", type=float, default=5.0)
    p.add_argument("--skip-save-load", action="store_true")
    p.add_argument("--skip-snapshot", action="store_true")
    args = p.parse_args(argv)
    servers = [("Keyward", args.keyward), ("Redis", args.redis)]
    if not args.skip_save_load:
        rows = {name: save_and_load(name, binary, args.keys) for name, binary in servers}
        print("| %d keys | Keyward | Redis | ratio |" % args.keys)
        print("|---|---:|---:|---:|")
        for field in ("save_keys_per_s", "load_keys_per_s", "file_mb"):
            k, r = rows["Keyward"][field], rows["Redis"][field]
            print("| %s | %s | %s | %.2f |" % (field, f"{k:,.0f}" if k > 100 else f"{k:.1f}",
                                                f"{r:,.0f}" if r > 100 else f"{r:.1f}", k / r))
        sys.stdout.flush()
    if not args.skip_snapshot:
        rows = {name: snapshot(name, binary, args.snapshot_keys, args.value_size,
                               args.load_seconds) for name, binary in servers}
        print()
        print("| snapshot under -P 16 SET | Keyward | Redis |")
        print("|---|---:|---:|")
        for field in ("keys", "base_mb", "peak_mb", "peak_ratio", "snapshot_s", "rps_without",
                      "rps_during", "rps_ratio"):
            k, r = rows["Keyward"][field], rows["Redis"][field]
            fmt = (lambda v: f"{v:,.0f}") if field in ("keys", "rps_without", "rps_during") \
                else (lambda v: f"{v:.2f}")
            print("| %s | %s | %s |" % (field, fmt(k), fmt(r)))


if __name__ == "__main__":
    main(sys.argv[1:])
