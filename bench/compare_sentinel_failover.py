#!/usr/bin/python3
"""Failover time: Keyward's sentinels against Redis Sentinel 7.0.15, side by side.

Each round starts the same data servers for both products (a redis-server master and two
replicas, Debian's 7.0.15, so that only the sentinels differ), three sentinels of the product
measured with `down-after-milliseconds 1000`, waits until every sentinel knows both replicas and
both other sentinels, then runs a writer: redis-py's Sentinel client (`master_for`), one SET after
another; a failed SET is retried after 10 ms on a new connection (which asks the sentinels where
the master is, as redis-py does). The master is SIGKILLed; measured: milliseconds from the kill
to the first SET acknowledged by another server. The product order flips every round.

  --spurious SECONDS  instead: the master stays healthy under load (redis-benchmark, 50 clients,
                      SET/GET at -P 16) for SECONDS with down-after 1000, and the failovers the
                      sentinels started (+try-failover events) are counted. Anything above 0 is
                      a spurious failover.

Usage: bench/compare_sentinel_failover.py [--rounds N] [--keyward build/bin/keyward-server]
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis
from redis.sentinel import Sentinel

REDIS = "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.01)
    raise RuntimeError("timed out waiting for " + what)


class Topology:
    def __init__(self, sentinel_binary, workdir):
        self.dir = workdir
        self.procs = []
        self.master_port = free_port()
        self.replica_ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.master = self.start_data(self.master_port, [])
        for p in self.replica_ports:
            self.start_data(p, ["--replicaof", "127.0.0.1", str(self.master_port)])
        for i, p in enumerate(self.sentinel_ports):
            d = os.path.join(workdir, "s%d" % i)
            os.makedirs(d)
            conf = os.path.join(d, "sentinel.conf")
            with open(conf, "w") as f:
                f.write("port %d\ndir %s\n" % (p, d))
                f.write("sentinel monitor mymaster 127.0.0.1 %d 2\n" % self.master_port)
                f.write("sentinel down-after-milliseconds mymaster 1000\n")
                f.write("sentinel failover-timeout mymaster 10000\n")
            self.procs.append(subprocess.Popen(
                [sentinel_binary, conf, "--sentinel", "--logfile", os.path.join(d, "log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in self.sentinel_ports:
            c = redis.Redis(port=p, decode_responses=True)
            wait_for(lambda: len(c.sentinel_slaves("mymaster")) == 2 and
                     len(c.sentinel_sentinels("mymaster")) == 2, 60, "discovery")

    def start_data(self, port, extra):
        d = os.path.join(self.dir, "d%d" % port)
        os.makedirs(d)
        p = subprocess.Popen([REDIS, "--port", str(port), "--dir", d, "--save", "",
                              "--appendonly", "no"] + extra,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        c = redis.Redis(port=port)
        wait_for(lambda: c.ping(), 10, "data server")
        if extra:
            wait_for(lambda: c.info("replication")["master_link_status"] == "up", 30, "sync")
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def failover_round(binary):
    work = tempfile.mkdtemp(prefix="kw-sentinel-bench-")
    topo = Topology(binary, work)
    try:
        sentinel = Sentinel([("127.0.0.1", p) for p in topo.sentinel_ports],
                            socket_timeout=0.5)
        master = sentinel.master_for("mymaster", socket_timeout=0.5, socket_connect_timeout=0.5)
        master.set("k", 0)
        killed_at = [None]
        acked = [None]
        stop = threading.Event()

        dead = threading.Event()

        def writer():
            i = 0
            while not stop.is_set():
                i += 1
                # Only a SET sent once the old master is gone (reaped) can count.
                after_death = dead.is_set()
                try:
                    master.set("k", i)
                    if after_death:
                        acked[0] = time.monotonic()
                        return
                except (redis.RedisError, OSError):
                    time.sleep(0.01)

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        killed_at[0] = time.monotonic()
        topo.master.send_signal(signal.SIGKILL)
        topo.master.wait()
        dead.set()
        t.join(120)
        stop.set()
        if acked[0] is None:
            raise RuntimeError("no write acknowledged after the failover")
        return (acked[0] - killed_at[0]) * 1000
    finally:
        topo.stop()
        shutil.rmtree(work, ignore_errors=True)


def spurious_round(binary, seconds):
    work = tempfile.mkdtemp(prefix="kw-sentinel-bench-")
    topo = Topology(binary, work)
    try:
        sub = redis.Redis(port=topo.sentinel_ports[0], decode_responses=True).pubsub()
        sub.psubscribe("+try-failover", "+sdown")
        load = subprocess.Popen(["redis-benchmark", "-p", str(topo.master_port), "-c", "50",
                                 "-P", "16", "-t", "set,get", "-n", "100000000", "-r", "100000",
                                 "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        events = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            m = sub.get_message(timeout=0.5)
            if m and m["type"] == "pmessage":
                events.append((m["channel"], m["data"]))
        load.kill()
        load.wait()
        return events
    finally:
        topo.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keyward", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                      "bin", "keyward-server"))
    ap.add_argument("--spurious", type=float, default=0)
    args = ap.parse_args()
    products = [("keyward", args.keyward), ("redis", REDIS)]
    if args.spurious:
        for name, binary in products:
            events = spurious_round(binary, args.spurious)
            tries = [e for e in events if e[0] == "+try-failover"]
            print("%-8s %.0f s under load: %d +try-failover, %d +sdown" %
                  (name, args.spurious, len(tries), len(events) - len(tries)))
        return
    times = {name: [] for name, _ in products}
    for r in range(args.rounds):
        order = products if r % 2 == 0 else list(reversed(products))
        for name, binary in order:
            ms = failover_round(binary)
            times[name].append(ms)
            print("round %d %-8s %7.0f ms" % (r + 1, name, ms), flush=True)
    k, rd = statistics.median(times["keyward"]), statistics.median(times["redis"])
    print("median: keyward %.0f ms, redis %.0f ms, keyward/redis %.2f" % (k, rd, k / rd))
    print("keyward: %s" % " ".join("%.0f" % t for t in times["keyward"]))
    print("redis:   %s" % " ".join("%.0f" % t for t in times["redis"]))


if __name__ == "__main__":
    sys.exit(main())
