#!/usr/bin/python3
"""redis-py's side of the lock benchmark (compare_locks.py): redis.lock.Lock on one redis-server.

Run with Debian's /usr/bin/python3 (python3-redis). Prints one JSON line with the same fields as
keyward_lock_load's modes of the same name.

  /usr/bin/python3 bench/lock_redis_py.py --port 7001 --mode uncontended -n 5000

Modes:
  uncontended  One client (one pooled connection, as one thread uses it). Each iteration: PING
               (the "PING round" of one instance), then r.lock(resource, timeout=ttl).acquire()
               and release(): SET NX PX, then the compare-and-delete script (EVALSHA).
  handoff      `--contenders` threads, each with its own client, take turns on one resource with
               Lock(blocking=True) and its default sleep of 0.1 s between attempts: hold
               `--hold-ms`, release, and queue again once another thread holds the lock (so every
               release finds contenders-1 waiters). A hand-off is the time from the start of the
               holder's release to a waiting thread's acquire() returning. The threads start
               at random times within `--start-spread-ms` (default: the sleep), and the
               `contenders` acquisitions after the last one started are not counted. A waiter
               that sleeps a fixed time keeps the phase it started with (the lock passes from
               phase to phase), so threads started together would poll in lockstep and every
               hand-off would take the whole sleep.
redis-py has no multi-instance lock: one instance only.
"""

import argparse
import json
import random
import sys
import threading
import time

import redis


def percentile(samples, p):
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[int(p / 100.0 * (len(ordered) - 1))]


def now_us():
    return time.perf_counter_ns() / 1000.0


def uncontended(args):
    r = redis.Redis(host=args.host, port=args.port)
    resource = args.resource or "bench:lock:uncontended"
    warmup = max(100, args.iterations // 100)
    ping, acquire, acquire_release = [], [], []
    lock_us = 0.0
    for i in range(warmup + args.iterations):
        t0 = now_us()
        r.ping()
        t1 = now_us()
        lock = r.lock(resource, timeout=args.ttl_ms / 1000.0)
        if not lock.acquire():
            raise RuntimeError("uncontended acquire failed")
        t3 = now_us()
        lock.release()
        t4 = now_us()
        if i < warmup:
            continue
        ping.append(t1 - t0)
        acquire.append(t3 - t1)
        acquire_release.append(t4 - t1)
        lock_us += t4 - t1
    return {
        "mode": "uncontended", "instances": 1, "iterations": args.iterations,
        "ping_p50_us": percentile(ping, 50), "ping_p99_us": percentile(ping, 99),
        "acquire_p50_us": percentile(acquire, 50), "acquire_p99_us": percentile(acquire, 99),
        "acquire_release_p50_us": percentile(acquire_release, 50),
        "acquire_release_p99_us": percentile(acquire_release, 99),
        "acquire_release_per_s": args.iterations / (lock_us / 1e6),
    }


def handoff(args):
    resource = args.resource or "bench:lock:handoff"
    cond = threading.Condition()
    state = {"done": False, "holder": -1, "generation": 0, "release_started": None,
             "started": 0, "warmup_left": args.contenders,
             "handoff_us": [], "wait_us": [], "overlaps": 0, "not_waiting": 0}
    errors = []
    start_spread_s = (args.sleep * 1000 if args.start_spread_ms is None
                      else args.start_spread_ms) / 1000.0

    def contender(ident):
        try:
            lock = redis.Redis(host=args.host, port=args.port).lock(
                resource, timeout=args.ttl_ms / 1000.0, sleep=args.sleep, blocking=True)
            time.sleep(random.uniform(0, start_spread_s))
            with cond:
                state["started"] += 1
            while True:
                with cond:
                    if state["done"]:
                        break
                called = now_us()
                lock.acquire()
                held = now_us()
                with cond:
                    if state["holder"] != -1:
                        state["overlaps"] += 1
                    state["holder"] = ident
                    state["generation"] += 1
                    cond.notify_all()
                    done = state["done"]
                    # Warm-up: until every thread has started, and then `contenders` more.
                    if state["started"] == args.contenders and state["warmup_left"] > 0:
                        state["warmup_left"] -= 1
                    elif not done and state["warmup_left"] == 0:
                        state["wait_us"].append(held - called)
                        started = state["release_started"]
                        if started is not None and called < started:
                            state["handoff_us"].append(held - started)
                            if len(state["handoff_us"]) >= args.handoffs:
                                state["done"] = done = True
                        elif started is not None:
                            state["not_waiting"] += 1
                if not done:
                    time.sleep(args.hold_ms / 1000.0)
                with cond:
                    state["holder"] = -1
                    state["release_started"] = now_us()
                    # Read before the release: the next holder may be served before its reply.
                    generation = state["generation"]
                lock.release()
                # Queue again only once another thread holds the lock (or the run is over).
                with cond:
                    cond.wait_for(lambda: state["done"] or state["generation"] != generation)
        except Exception as e:  # noqa: BLE001  (reported, and the run fails)
            errors.append(f"contender {ident}: {e!r}")
            with cond:
                state["done"] = True
                cond.notify_all()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(args.contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))
    h, w = state["handoff_us"], state["wait_us"]
    return {
        "mode": "handoff", "instances": 1, "contenders": args.contenders, "handoffs": len(h),
        "hold_us": args.hold_ms * 1000, "handoff_p50_us": percentile(h, 50),
        "handoff_p99_us": percentile(h, 99), "handoff_max_us": percentile(h, 100),
        "wait_p50_us": percentile(w, 50), "wait_max_us": percentile(w, 100),
        "overlaps": state["overlaps"], "not_waiting": state["not_waiting"],
        "sleep_s": args.sleep,
    }


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("uncontended", "handoff"), default="uncontended")
    p.add_argument("--resource", default="")
    p.add_argument("-n", "--iterations", type=int, default=5000)
    p.add_argument("--ttl-ms", type=int, default=10000)
    p.add_argument("--contenders", type=int, default=8)
    p.add_argument("--handoffs", type=int, default=100)
    p.add_argument("--hold-ms", type=float, default=1.0)
    p.add_argument("--sleep", type=float, default=0.1, help="Lock's sleep between attempts (s)")
    p.add_argument("--start-spread-ms", type=float,
                   help="handoff: threads start at random times within this (default: --sleep)")
    args = p.parse_args(argv)
    result = uncontended(args) if args.mode == "uncontended" else handoff(args)
    print(json.dumps(result))
    return 1 if result.get("overlaps") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
