#!/usr/bin/env python3
"""Memory of the collection types, keyward-server vs Debian's redis-server: the same data loaded
into both, RSS after loading minus RSS of the empty server, and the ratio Keyward/Redis.

Datasets (issue 14's targets: at most 0.8 of Redis for each):
  hashes   N hashes of 10 small fields     (HSET h:<i> f0 v<i> ... f9 v<i>)      N = --keys
  sets     N sets of 10 integers          (SADD s:<i> <i*10> ... <i*10+9>)
  zsets    N/10 sorted sets of 100 members (ZADD z:<i> <score> m<j> ...)
  list     one list of 10*N items          (RPUSH l item:<j> ..., 1000 per command)
  bigzset  one sorted set of N members     (ZADD big <j> member:<j>, 1000 per command)

Each dataset runs on fresh servers (one at a time, pinned to one core), loaded over one
pipelined connection. A dataset whose commands Keyward does not know is reported as such.
The defaults are the issue's sizes (--keys 1000000); --keys 100000 gives a quick run.

    bench/compare_memory.py --keyward build/bin/keyward-server [--keys N] [--markdown]
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_redis import (DEFAULT_KEYWARD, DEFAULT_REDIS, Client, Server,  # noqa: E402
                           proc_rss_bytes, settle)

BATCH = 1000  # commands per pipelined batch


def hashes(n):
    for i in range(n):
        args = ["HSET", "h:%d" % i]
        for f in range(10):
            args += ["f%d" % f, "v%d" % i]
        yield args


def sets(n):
    for i in range(n):
        yield ["SADD", "s:%d" % i] + [str(i * 10 + j) for j in range(10)]


def zsets(n):
    for i in range(n // 10):
        args = ["ZADD", "z:%d" % i]
        for j in range(100):
            args += [str((i * 7 + j * 13) % 1000), "m%d" % j]
        yield args


def one_list(n):
    total = 10 * n
    for start in range(0, total, 1000):
        yield ["RPUSH", "l"] + ["item:%d" % j for j in range(start, min(start + 1000, total))]


def big_zset(n):
    for start in range(0, n, 1000):
        args = ["ZADD", "big"]
        for j in range(start, min(start + 1000, n)):
            args += [str(j * 0.5), "member:%d" % j]
        yield args


DATASETS = [("hashes", hashes, "N hashes of 10 small fields"),
            ("sets", sets, "N sets of 10 integers"),
            ("zsets", zsets, "N/10 sorted sets of 100 members"),
            ("list", one_list, "one list of 10N items"),
            ("bigzset", big_zset, "one sorted set of N members")]


def load(srv, commands):
    c = Client(srv.port)
    try:
        batch = []
        for cmd in commands:
            batch.append(cmd)
            if len(batch) == BATCH:
                c.pipeline(batch)
                batch = []
        if batch:
            c.pipeline(batch)
    finally:
        c.close()


def measure(name, binary, workdir, gen, n, cpu):
    srv = Server(name, binary, cpu, workdir).start()
    try:
        settle()
        empty = proc_rss_bytes(srv.pid)
        load(srv, gen(n))
        settle()
        loaded = proc_rss_bytes(srv.pid)
        keys = int(srv.call("DBSIZE"))
        sample = {"hashes": "h:0", "sets": "s:0", "zsets": "z:0", "list": "l", "bigzset": "big"}
        encoding = srv.call("OBJECT", "ENCODING", sample[name_of(gen)])
    finally:
        srv.stop()
    return {"bytes": loaded - empty, "keys": keys, "encoding": encoding}


def name_of(gen):
    for name, g, _ in DATASETS:
        if g is gen:
            return name
    raise KeyError(gen)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--keyward", default=DEFAULT_KEYWARD)
    p.add_argument("--redis", default=DEFAULT_REDIS)
    p.add_argument("--keys", type=int, default=1000000, help="N (see above)")
    p.add_argument("--only", default="", help="comma-separated dataset names")
    p.add_argument("--cpu", type=int, default=0)
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    args.keyward = os.path.abspath(args.keyward)
    args.redis = os.path.abspath(args.redis)
    only = set(filter(None, args.only.split(",")))
    rows = []
    with tempfile.TemporaryDirectory(prefix="keyward-mem-") as workdir:
        for name, gen, what in DATASETS:
            if only and name not in only:
                continue
            try:
                k = measure("Keyward", args.keyward, workdir, gen, args.keys, args.cpu)
            except RuntimeError as e:
                rows.append((name, what, "-", "-", "-", "Keyward: %s" % str(e)[:60]))
                continue
            r = measure("Redis", args.redis, workdir, gen, args.keys, args.cpu)
            ratio = k["bytes"] / r["bytes"] if r["bytes"] > 0 else float("nan")
            rows.append((name, what, "%.1f MB" % (k["bytes"] / 1e6), "%.1f MB" % (r["bytes"] / 1e6),
                         "%.2f" % ratio, "%s / %s" % (k["encoding"], r["encoding"])))
            print("%-8s keyward %.1f MB, redis %.1f MB, ratio %.2f" % (
                name, k["bytes"] / 1e6, r["bytes"] / 1e6, ratio), file=sys.stderr)
    headers = ("dataset", "what", "Keyward RSS", "Redis RSS", "ratio", "encoding (K / R)")
    if args.markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        for row in [headers] + rows:
            print("  ".join(str(c).ljust(18) for c in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
