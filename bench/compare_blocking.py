#!/usr/bin/env python3
"""Latency of a blocking hand-off, keyward-server vs Debian's redis-server: a client blocked in
`BLPOP q 0`, another client sends `LPUSH q x`, and the time from sending the push to the blocked
client receiving `[q, x]` is measured. Each hand-off starts only once the server reports the
waiter blocked (INFO clients), so the push never finds data waiting. Both servers run with the
same arguments, pinned to one core, this script to the other; the order alternates per round.

    bench/compare_blocking.py --keyward build/bin/keyward-server [--handoffs 3000] [--rounds 3]

Prints p50/p99/mean per server and the Keyward/Redis ratios. The Python client adds the same
constant to both (a few tens of microseconds); the ratio is what matters.
"""

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_redis import DEFAULT_KEYWARD, DEFAULT_REDIS, Client, Server  # noqa: E402


def blocked_clients(control):
    info = control.call("INFO", "clients")
    for line in info.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise RuntimeError("INFO clients has no blocked_clients")


def handoffs(srv, count):
    waiter, pusher, control = Client(srv.port), Client(srv.port), Client(srv.port)
    for c in (waiter, pusher):
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    samples = []
    try:
        blpop = Client.encode("BLPOP", "q", "0")
        lpush = Client.encode("LPUSH", "q", "x")
        for _ in range(count):
            waiter.sock.sendall(blpop)
            while blocked_clients(control) != 1:
                pass
            t0 = time.perf_counter_ns()
            pusher.sock.sendall(lpush)
            reply = waiter.read_reply()
            t1 = time.perf_counter_ns()
            if reply != ["q", "x"]:
                raise RuntimeError("unexpected BLPOP reply %r" % (reply,))
            if pusher.read_reply() != "1":
                raise RuntimeError("LPUSH did not find the list empty")
            samples.append((t1 - t0) / 1000.0)
    finally:
        for c in (waiter, pusher, control):
            c.close()
    return samples


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--keyward", default=DEFAULT_KEYWARD)
    p.add_argument("--redis", default=DEFAULT_REDIS)
    p.add_argument("--handoffs", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--server-cpu", type=int, default=0)
    args = p.parse_args(argv)
    binaries = {"Keyward": os.path.abspath(args.keyward), "Redis": os.path.abspath(args.redis)}
    samples = {name: [] for name in binaries}
    with tempfile.TemporaryDirectory(prefix="keyward-blocking-") as workdir:
        servers = {n: Server(n, b, args.server_cpu, workdir).start() for n, b in binaries.items()}
        try:
            for rnd in range(args.rounds):
                order = ["Keyward", "Redis"] if rnd % 2 == 0 else ["Redis", "Keyward"]
                for name in order:
                    samples[name] += handoffs(servers[name], args.handoffs)
        finally:
            for srv in servers.values():
                srv.stop()
    print("| hand-off (LPUSH to the BLPOP reply) | Keyward | Redis | Keyward/Redis |")
    print("|---|---:|---:|---:|")
    for label, fn in (("p50 us", lambda v: pct(v, 0.5)), ("p99 us", lambda v: pct(v, 0.99)),
                      ("mean us", statistics.mean)):
        k, r = fn(samples["Keyward"]), fn(samples["Redis"])
        print("| %s | %.1f | %.1f | %.2f |" % (label, k, r, k / r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
