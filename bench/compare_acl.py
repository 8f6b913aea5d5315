#!/usr/bin/env python3
"""The ACL check's cost: GET and SET throughput (redis-benchmark, -P 1 and -P 16) as the default
user (`+@all ~* &*`: the check returns at once) and as a user with 20 rules whose allowed key
pattern is the last of several, so that every command runs the command bitmap, the key search and
the pattern matching. The same on Debian's redis-server 7.0.15 for reference.

Runs alternate default/limited every round (the order flipping each round) and the table gives
the median throughput of each, the median of the per-round ratios limited/default, and the
median of the per-round ratios of server CPU per command (default/limited: the check's cost
without the throughput's run-to-run noise). The target (issue 20): Keyward's ratio at least
0.95.

    bench/compare_acl.py [--keyward build/bin/keyward-server] [--rounds 5] [--requests 200000]
        [--pipelined-requests 2000000] [--pipelines 1,16] [--servers keyward,redis]
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_redis as cr  # noqa: E402

# 20 rules: the keys redis-benchmark uses (key:NNN) match the last key pattern.
LIMITED_RULES = ["on", ">bench-pass", "~a:*", "~b:*", "~c:*", "%R~r:*", "%W~w:*", "~jobs:*",
                 "~locks:*", "~key:*", "&events:*", "-@all", "+@string", "+@read", "-keys",
                 "-@dangerous", "+ping", "+config|get", "+client|id", "+select|0"]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD)
    p.add_argument("--redis", default=cr.DEFAULT_REDIS)
    p.add_argument("--benchmark", default=cr.DEFAULT_BENCHMARK)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--requests", type=int, default=200000, help="requests per run at -P 1")
    p.add_argument("--pipelined-requests", type=int, default=2000000,
                   help="requests per run at -P 16 (a run of a few seconds, as at -P 1)")
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--servers", default="keyward,redis", help="which servers to measure")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100000)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    args = p.parse_args(argv)
    assert len(LIMITED_RULES) == 20
    args.tls = False
    workdir = tempfile.mkdtemp(prefix="keyward-bench-acl-")
    rows = []
    servers = [(n, b) for n, b in (("Keyward", args.keyward), ("Redis", args.redis))
               if n.lower() in args.servers.split(",")]
    for name, binary in servers:
        srv = cr.Server(name, binary, args.server_cpu, workdir).start()
        try:
            assert srv.call("ACL", "SETUSER", "bench", *LIMITED_RULES) == "OK"
            for test in ("set", "get"):
                for pipeline in (int(x) for x in args.pipelines.split(",")):
                    default, limited, ratios, cpu_ratios = [], [], [], []
                    for r in range(args.rounds):
                        runs = {}
                        for who in (("default", "limited") if r % 2 == 0
                                    else ("limited", "default")):
                            args.user = "bench" if who == "limited" else None
                            args.password = "bench-pass"
                            runs[who] = cr.run_benchmark(
                                args, srv, test, pipeline,
                                args.requests if pipeline == 1 else args.pipelined_requests)
                        default.append(runs["default"]["rps"])
                        limited.append(runs["limited"]["rps"])
                        ratios.append(runs["limited"]["rps"] / runs["default"]["rps"])
                        # Server CPU per command, default over limited: the cost of the check
                        # without the run-to-run noise of throughput (above 1: limited cheaper).
                        cpu_ratios.append(runs["default"]["cpu_us_per_cmd"]
                                          / runs["limited"]["cpu_us_per_cmd"])
                    rows.append((name, test.upper(), pipeline, statistics.median(default),
                                 statistics.median(limited), statistics.median(ratios),
                                 min(ratios), max(ratios), statistics.median(cpu_ratios)))
                    print("%-8s %-4s -P %-2d default %10.0f  limited %10.0f  ratio %.3f "
                          "(%.3f..%.3f)  cpu ratio %.3f" % rows[-1], flush=True)
        finally:
            srv.stop()
    print()
    print("| server | command | -P | default user rps | 20-rule user rps | ratio (median of "
          "paired) | range | CPU/cmd default ÷ 20-rule |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| %s | %s | %d | %.0f | %.0f | %.3f | %.3f..%.3f | %.3f |" % row)


if __name__ == "__main__":
    main(sys.argv[1:])
