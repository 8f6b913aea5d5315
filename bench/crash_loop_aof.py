#!/usr/bin/env python3
"""AOF crash loop: no acknowledged write and no fencing token may be lost to a SIGKILL.

The same loop as tests/integration/test_aof.py's CrashLoop (it runs `crash_loop` from there),
for as many cycles as you like. Each cycle starts the server with `--appendonly yes
--appendfsync always` on one directory, checks that everything acknowledged before the previous
SIGKILL is there (the INCR counter at least the last acknowledged value, every acknowledged list
element and string, nothing that was never sent), then a writer thread runs INCR / SET / RPUSH
rounds (on Keyward also a fenced `LOCK.ACQUIRE ... FENCE` and `LOCK.RELEASE`, checking that each
token is above every token acknowledged before, across restarts), some cycles during a
BGREWRITEAOF, until the server is SIGKILLed at a random moment (seeded RNG). At the end the
directory must pass redis-check-aof.

    bench/crash_loop_aof.py [--cycles 100] [--server keyward|redis] [--keyward PATH]
        [--seed 1] [--min-delay 0.02] [--max-delay 0.4] [--rewrite-chance 0.25] [-v]

Prints cycles run, writes acknowledged, writes lost (must be 0), writes never sent that showed
up (must be 0), token regressions (must be 0); exits 1 if any of them is not 0 or the loop
failed.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100, help="SIGKILLs (default 100)")
    parser.add_argument("--server", choices=("keyward", "redis"), default="keyward")
    parser.add_argument("--keyward", help="keyward-server binary (default: $KEYWARD_SERVER, "
                                          "else build-asan/bin/keyward-server)")
    parser.add_argument("--seed", type=int, default=1, help="seeds the kill times (default 1)")
    parser.add_argument("--min-delay", type=float, default=0.02,
                        help="shortest time from writer start to SIGKILL, s (default 0.02)")
    parser.add_argument("--max-delay", type=float, default=0.4,
                        help="longest time from writer start to SIGKILL, s (default 0.4)")
    parser.add_argument("--rewrite-chance", type=float, default=0.25,
                        help="share of cycles that start a BGREWRITEAOF (default 0.25)")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per cycle")
    args = parser.parse_args()
    if args.keyward:
        os.environ["KEYWARD_SERVER"] = os.path.abspath(args.keyward)
    os.environ.setdefault("AOF_SERVER", args.server)

    from test_aof import crash_loop  # after KEYWARD_SERVER is set

    started = time.monotonic()
    result = crash_loop(args.server, args.cycles, args.seed,
                        delay=(args.min_delay, args.max_delay),
                        rewrite_chance=args.rewrite_chance,
                        log=print if args.verbose else None)
    elapsed = time.monotonic() - started

    rows = [("server", args.server), ("seed", args.seed),
            ("cycles run", "%d of %d" % (result["cycles"], args.cycles)),
            ("writes acknowledged", result["acknowledged"]),
            ("writes lost", result["lost_writes"]),
            ("never sent, found", len(result["phantom"]))]
    if args.server == "keyward":
        rows += [("tokens issued", result["tokens"]),
                 ("token regressions", len(result["token_regressions"]))]
    rows += [("redis-check-aof", result["check_aof"].strip()), ("elapsed", "%.1f s" % elapsed)]
    for name, value in rows:
        print("%-20s %s" % (name + ":", value))
    for name in ("errors", "lost", "phantom", "token_regressions"):
        for line in result[name][:20]:
            print("%s: %s" % (name, line))
    failed = (result["errors"] or result["lost"] or result["lost_writes"] or result["phantom"]
              or result["token_regressions"] or result["check_aof"] != "valid"
              or result["cycles"] != args.cycles)
    if failed:
        print("FAILED (directory kept: %s)" % result["workdir"])
        os.environ["KEYWARD_KEEP_WORKDIRS"] = "1"  # read by the harness at exit
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
