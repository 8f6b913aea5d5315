#!/usr/bin/env python3
"""AOF throughput, keyward-server vs Debian's redis-server 7.0.15 (issue 17's figures).

1. writes: redis-benchmark SET (100-byte values, 50 clients, random keys) with
   `appendonly yes` and `appendfsync always` / `everysec`, at -P 1 and -P 16; requests per second
   of each server and Keyward's over Redis's.
2. fenced acquisitions: redis-benchmark running `LOCK.ACQUIRE lock:<rand> owner 10000 FENCE`
   (50 clients, -P 1) against Keyward with the AOF off, on with everysec, on with always (every
   fencing record is synced before its reply whatever appendfsync says, so the AOF-on figures
   measure the group commit); Redis's `SET lock:<rand> owner NX PX 10000` with appendfsync always
   is the reference for a lock whose acquisition is on disk before its reply (it has no fencing).

Servers run one at a time in a directory on the same disk as the repository (fsync is real),
pinned to core 0, redis-benchmark on core 1. --rounds repeats each measurement, alternating the
two servers, and reports the medians.

    bench/compare_aof.py --keyward build/bin/keyward-server [--requests 200000] [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_redis import DEFAULT_KEYWARD, DEFAULT_REDIS, Server  # noqa: E402

REDIS_BENCHMARK = "/usr/bin/redis-benchmark"
HERE = os.path.dirname(os.path.abspath(__file__))


def rps(port, args, requests, pipeline):
    out = subprocess.run(["taskset", "-c", "1", REDIS_BENCHMARK, "-p", str(port), "-c", "50",
                          "-n", str(requests), "-P", str(pipeline), "-r", "1000000", "--csv"]
                         + args, capture_output=True, text=True, check=True).stdout
    # "test","rps",... then one line per test: the rps is the second field.
    line = [l for l in out.splitlines() if l and not l.startswith('"test"')][-1]
    return float(line.split(",")[1].strip('"'))


def measure(name, binary, extra, args, requests, pipeline):
    # The benchmark's directory is on the repository's disk, not a tmpfs.
    with tempfile.TemporaryDirectory(prefix="keyward-bench-aof-", dir=HERE) as d:
        srv = Server(name, binary, 0, d, extra).start()
        try:
            return rps(srv.port, args, requests, pipeline)
        finally:
            srv.stop()


def median_of(rounds, fn):
    return statistics.median(fn() for _ in range(rounds))


def paired(rounds, keyward, redis):
    """Medians of `rounds` alternated runs (Keyward then Redis, then Redis then Keyward, ...), so
    a slow stretch of the VM falls on both servers."""
    ks, rs = [], []
    for i in range(rounds):
        if i % 2 == 0:
            ks.append(keyward())
            rs.append(redis())
        else:
            rs.append(redis())
            ks.append(keyward())
    return statistics.median(ks), statistics.median(rs)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=DEFAULT_KEYWARD)
    p.add_argument("--redis", default=DEFAULT_REDIS)
    p.add_argument("--requests", type=int, default=200000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)

    set_args = ["-t", "set", "-d", "100"]
    print("| appendfsync | -P | Keyward SET/s | Redis SET/s | Keyward / Redis |")
    print("|---|---|---|---|---|")
    for fsync in ("always", "everysec"):
        for pipeline in (1, 16):
            extra = ["--appendonly", "yes", "--appendfsync", fsync]
            n = a.requests if pipeline == 16 or fsync == "everysec" else a.requests // 4
            k, r = paired(a.rounds,
                          lambda: measure("Keyward", a.keyward, extra, set_args, n, pipeline),
                          lambda: measure("Redis", a.redis, extra, set_args, n, pipeline))
            print(f"| {fsync} | {pipeline} | {k:,.0f} | {r:,.0f} | {k / r:.2f} |", flush=True)

    print()
    print("| server | setting | acquisitions/s |")
    print("|---|---|---|")
    fence = ["LOCK.ACQUIRE", "lock:__rand_int__", "owner", "10000", "FENCE"]
    nx = ["SET", "lock:__rand_int__", "owner", "NX", "PX", "10000"]
    n = a.requests // 4
    for label, extra in (("AOF off", []),
                         ("AOF on, everysec", ["--appendonly", "yes", "--appendfsync",
                                               "everysec"]),
                         ("AOF on, always", ["--appendonly", "yes", "--appendfsync", "always"])):
        k = median_of(a.rounds, lambda: measure("Keyward", a.keyward, extra, fence, n, 1))
        print(f"| Keyward `LOCK.ACQUIRE ... FENCE` | {label} | {k:,.0f} |", flush=True)
    r = median_of(a.rounds, lambda: measure("Redis", a.redis, ["--appendonly", "yes",
                                                               "--appendfsync", "always"], nx,
                                            n, 1))
    print(f"| Redis `SET ... NX PX` | AOF on, always | {r:,.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
