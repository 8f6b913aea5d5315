#!/usr/bin/env python3
"""Side-by-side benchmark of replication on keyward-server and Debian's redis-server 7.0.15.

Every server runs with compare_redis.py's command line (no persistence, loopback, a free port, the
DEBUG command enabled), each in its own temporary directory (a replica writes the snapshot it
receives to its dbfilename, a disk-based master its own). Keyward is measured with Keyward
masters and Keyward replicas only, Redis with Redis only. Masters run on --server-cpu (0), alone
on that core; replicas, redis-benchmark and this script's samplers run on --client-cpu (1). On a
two-core machine that is the only split that leaves the master a core of its own: the replicas'
own CPU use then shows in how fast they keep up (lag, catch-up, sync time), not in the master's
throughput. A Redis fork child inherits the master's core, as Keyward's snapshot work is on it.

Measured, for each server, in rounds (the order flips every round: Keyward then Redis, then
Redis then Keyward, ...; before every pair the script waits for builds to end and the machine to
be idle, compare_pubsub's wait):

  write throughput  redis-benchmark -t set -P 16 -c 50 -n N -r 100000 -d 64 against a master
                    with two replicas attached and online (both replicas report
                    master_link_status:up, the master's INFO lists both with state=online), and
                    against a master with no replica at all (no backlog, no stream): requests
                    per second, the master's CPU time per command (utime+stime from the start
                    of the run until the replicas caught up, since what is still in the
                    replicas' output buffers when redis-benchmark exits is replication work),
                    and the ratio of the rates. On two cores the replicas share a core with
                    redis-benchmark, and that core, not the master, may limit the rate with
                    replicas (the output says so): the CPU per command is then the measure of
                    what replication costs the master. Masters run with
                    --repl-diskless-sync-delay 0. Both masters are warmed with an unmeasured run
                    first, so every measured run overwrites the same 100,000 keys.
  catch-up          after each run with replicas: INFO replication polled on the master and on
                    both replicas (one connection each, the three requests sent together) every
                    millisecond until both replicas' slave_repl_offset equals the master's
                    master_repl_offset, with a deadline; milliseconds from redis-benchmark's exit
                    (a pidfd, not a poll of the process) to that moment. Then the replicas'
                    DBSIZE must equal the master's, and so must the values of 1,000 keys spread
                    over the keyspace (MGET), both must still be online, and the master's
                    sync_full must not have grown (a replica dropped and fully resynced would
                    make the run meaningless; it is reported as an error).
  replica lag       while the benchmark runs, every 20 ms, the same three INFO requests: lag =
                    master_repl_offset - slave_repl_offset for each replica (negative values,
                    a replica read after the master moved on, count as 0); max and median over
                    all samples of both replicas, in bytes.
  full sync         a fresh master filled with DEBUG POPULATE <n> key 16 (1M keys; 10M too with
                    --big), then a fresh replica started with --replicaof; once disk-based
                    (--repl-diskless-sync no on the master), once diskless
                    (--repl-diskless-sync yes --repl-diskless-sync-delay 0). Measured:
                    - seconds from starting the replica process to its master_link_status:up with
                      DBSIZE equal to n (polled every 10 ms);
                    - the master's peak memory during the sync, sampled every 10 ms by a separate
                      process: VmRSS of the master while it has no child process (Keyward
                      throughout), and while it has one (Redis's fork for the snapshot) the sum of
                      Pss (/proc/<pid>/smaps_rollup) over the master and its children, so that
                      pages shared after the fork count once; the peak is also given relative
                      to the master's VmRSS before the sync (peak/before);
                    - the master's latency during the sync: another process sends PING on its own
                      connection, one at a time, from before the replica starts to after the
                      sync; max and p99 of the round trips sent during the sync, in ms. It
                      pauses --ping-interval ms between PINGs (default 1 ms; 0: back to back), so
                      that it does not take half of the core the replica loads on; a stall longer
                      than the pause cannot fall between two PINGs.

The table: medians over rounds, Keyward/Redis (ratio of the medians), Paired (median of the
per-round ratios), Spread and Rounds, as compare_redis.py prints them.

    bench/compare_replication.py --quick                  # smoke run, 1 round, 1M keys, ~2 min
    bench/compare_replication.py --markdown               # 3 rounds
    bench/compare_replication.py --big --only fullsync    # full syncs of 1M and 10M keys
    bench/compare_replication.py --keyward /usr/bin/redis-server --quick   # self-check

Python 3 standard library only; nothing is built here: pass the Release binary.
"""

import argparse
import array
import multiprocessing
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pubsub as cp  # noqa: E402  (waiting for a quiet machine, the pinning options)
import compare_redis as cr  # noqa: E402  (the shared launcher, /proc helpers and table)

SERVERS = ("Keyward", "Redis")
PARTS = ("throughput", "fullsync")
VARIANTS = ("disk", "diskless")
REPLICAS = 2
# Deadlines: replicas coming online, catching up after a run, a full sync of 1M keys (scaled up
# with the key count).
ONLINE_TIMEOUT_S = 60.0
CATCHUP_TIMEOUT_S = 120.0
SYNC_TIMEOUT_S_PER_MKEY = 120.0
LAG_INTERVAL_S = 0.020
CATCHUP_POLL_S = 0.001
SYNC_POLL_S = 0.010
MEMORY_INTERVAL_S = 0.010
# Busy fraction of its core below which a master was not what limited the rate.
MASTER_SATURATED = 0.9
# Keys compared between the master and its replicas (MGET) after each catch-up.
CHECK_KEYS = 1000
PING = b"*1\r\n$4\r\nPING\r\n"
# Arguments every master gets, on top of compare_redis's COMMON_SERVER_ARGS.
MASTER_ARGS = ["--repl-diskless-sync-delay", "0"]


# ----------------------------------------------------------------------------------------------
# INFO.

def parse_info(text):
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def info_all(clients, section="replication"):
    """INFO <section> on every client, the requests sent together, then the replies read: the
    servers answer within microseconds of each other."""
    request = cr.Client.encode("INFO", section)
    for c in clients:
        c.sock.sendall(request)
    return [parse_info(c.read_reply()) for c in clients]


def offsets(master_c, replica_cs):
    infos = info_all([master_c] + replica_cs)
    return (int(infos[0]["master_repl_offset"]),
            [int(i.get("slave_repl_offset", -1)) for i in infos[1:]])


def online_replicas(master_info):
    return sum(1 for k, v in master_info.items()
               if k.startswith("slave") and k[5:].isdigit() and "state=online" in v)


def wait_online(master, replicas, timeout=ONLINE_TIMEOUT_S):
    """Until every replica says master_link_status:up and the master lists them all online."""
    deadline = time.monotonic() + timeout
    conns = [cr.Client(s.port) for s in [master] + replicas]
    try:
        while True:
            infos = info_all(conns)
            if (online_replicas(infos[0]) == len(replicas)
                    and all(i.get("master_link_status") == "up" for i in infos[1:])):
                return
            for s in [master] + replicas:
                if s.proc.poll() is not None:
                    raise RuntimeError(f"{s.name} exited:\n" + s.log_tail())
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{master.name}: replicas not online after {timeout} s; master INFO "
                    f"{infos[0]}; replicas' link status "
                    f"{[i.get('master_link_status') for i in infos[1:]]}")
            time.sleep(0.02)
    finally:
        for c in conns:
            c.close()


# ----------------------------------------------------------------------------------------------
# /proc.

def proc_ticks_all(pid):
    """utime + stime + cutime + cstime: the process and the children it has reaped (a Redis
    master reaps its fork child), in clock ticks; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return sum(int(x) for x in fields[11:15])


def children_of(pid):
    """Pids whose parent is `pid`. There is no /proc/<pid>/task/*/children on every kernel, so
    /proc is scanned; only pids above the parent's (a child is younger; pid_max is 4M on 64-bit
    kernels, a wrap during a run is not a concern here)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) <= pid:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(entry))
    return out


def pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def master_memory(pid):
    """(bytes, children): VmRSS of the master alone, or with children the sum of Pss over the
    master and its children (a page shared since the fork counts once, split between them)."""
    kids = children_of(pid)
    if not kids:
        return cr.proc_rss_bytes(pid), 0
    return pss_bytes(pid) + sum(pss_bytes(k) for k in kids), len(kids)


# ----------------------------------------------------------------------------------------------
# Helper processes for the full sync: a pinger and a memory sampler. Processes rather than
# threads: this process starts the replica with a preexec_fn, which is not safe with threads, and
# neither may wait on the GIL while the other works.

def _pinger(port, interval, stop, ready, conn):
    c = cr.Client(port)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent, rtt = array.array("d"), array.array("d")
    first = True
    while not stop.is_set():
        t = time.monotonic()
        c.sock.sendall(PING)
        reply = c._line()
        rtt.append(time.monotonic() - t)
        sent.append(t)
        if reply != b"+PONG":
            conn.send(("error", f"PING replied {reply!r}"))
            return
        if first:
            ready.set()
            first = False
        if interval > 0:
            time.sleep(interval)
    conn.send(("ok", sent.tobytes(), rtt.tobytes(), cr.proc_cpu_ticks(os.getpid())))


def _memory_sampler(pid, interval, stop, ready, conn):
    times, values, forked = array.array("d"), array.array("d"), 0
    next_t = time.monotonic()
    while not stop.is_set():
        try:
            value, kids = master_memory(pid)
        except (OSError, RuntimeError):
            break  # the master is gone: the main process reports it
        times.append(time.monotonic())
        values.append(value)
        forked = max(forked, kids)
        ready.set()
        next_t += interval
        time.sleep(max(0.0, next_t - time.monotonic()))
    conn.send(("ok", times.tobytes(), values.tobytes(), forked,
               cr.proc_cpu_ticks(os.getpid())))


def _guarded(target, *args):
    """A helper's body: an exception goes back through the pipe (the last argument)."""
    try:
        target(*args)
    except Exception as e:  # noqa: BLE001  (anything: the main process reports it)
        args[-1].send(("error", f"{target.__name__}: {e!r}"))


class Helper:
    """A function run in a forked process until stop(); its last message is the result."""

    def __init__(self, target, *args):
        ctx = multiprocessing.get_context("fork")
        self.stop_event, self.ready = ctx.Event(), ctx.Event()
        self.parent, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_guarded, daemon=True,
                                args=(target,) + args + (self.stop_event, self.ready, child))
        self.proc.start()
        child.close()

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if self.parent.poll():
                msg = self.parent.recv()
                self.kill()
                raise RuntimeError(msg[1] if msg[0] == "error" else f"helper said {msg[0]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"helper {self.proc.name} did not start")

    def stop(self, timeout=30.0):
        """Stops the process; returns its message (or raises its error)."""
        self.stop_event.set()
        if not self.parent.poll(timeout):
            self.kill()
            raise RuntimeError(f"helper {self.proc.name} did not answer")
        msg = self.parent.recv()
        self.proc.join(5)
        if msg[0] != "ok":
            raise RuntimeError(msg[1])
        return msg[1:]

    def kill(self):
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


def _unpack(raw):
    a = array.array("d")
    a.frombytes(raw)
    return a


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


# ----------------------------------------------------------------------------------------------
# Servers.

def server_in(name, binary, cpu, workdir, extra_args):
    """A compare_redis Server in a directory of its own under workdir."""
    return cr.Server(name, binary, cpu, tempfile.mkdtemp(prefix=name.lower() + "-", dir=workdir),
                     extra_args)


def stop_all(servers):
    for s in servers:
        s.stop()
    for s in servers:
        shutil.rmtree(s.workdir, ignore_errors=True)


class Group:
    """A master and its replicas, all of one binary."""

    def __init__(self, args, name, binary, workdir, replicas):
        self.name = f"{name} ({replicas} replicas)"
        self.master = server_in(f"{name}-master-{replicas}r", binary, args.server_cpu, workdir,
                                MASTER_ARGS)
        self.replicas = []
        self.binary, self.workdir, self.count, self.cpu = binary, workdir, replicas, args.replica_cpu

    def start(self):
        self.master.start()
        for i in range(self.count):
            r = server_in(f"{self.master.name}-replica{i + 1}", self.binary, self.cpu, self.workdir,
                          ["--replicaof", "127.0.0.1", str(self.master.port)])
            self.replicas.append(r)
            r.start()
        if self.replicas:
            wait_online(self.master, self.replicas)
        return self

    def servers(self):
        return [self.master] + self.replicas

    def stop(self):
        stop_all(self.servers())


# ----------------------------------------------------------------------------------------------
# Part 1 and 2: write throughput, lag and catch-up.

def benchmark_command(args, port, requests):
    return ["taskset", "-c", str(args.client_cpu), args.benchmark, "-h", "127.0.0.1",
            "-p", str(port), "-c", str(args.clients), "-n", str(requests),
            "-r", str(args.keyspace), "-P", str(args.pipeline), "-d", str(args.value_size),
            "-t", "set", "--csv"]


def run_write_load(args, group, requests=None):
    """One redis-benchmark run against the group's master; with replicas, the lag sampled during
    it and the catch-up after it."""
    requests = requests or args.requests
    master, replicas = group.master, group.replicas
    m_conn = cr.Client(master.port)
    r_conns = [cr.Client(r.port) for r in replicas]
    out_f, err_f = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    try:
        sync_full0 = int(parse_info(m_conn.call("INFO", "stats"))["sync_full"])
        busy0 = cr.system_busy_ticks()
        master0 = cr.proc_cpu_ticks(master.pid)
        replicas0 = [cr.proc_cpu_ticks(r.pid) for r in replicas]
        child0 = cr.children_cpu_seconds()
        own0 = time.process_time()
        t0 = time.monotonic()
        proc = subprocess.Popen(benchmark_command(args, master.port, requests), stdout=out_f,
                                stderr=err_f, stdin=subprocess.DEVNULL)
        pidfd = os.pidfd_open(proc.pid)
        lags = []
        try:
            next_t = time.monotonic()
            while True:
                if replicas:
                    m, rs = offsets(m_conn, r_conns)
                    lags.extend(max(0, m - r) for r in rs)
                next_t += LAG_INTERVAL_S
                ready, _, _ = select.select([pidfd], [], [], max(0.0, next_t - time.monotonic()))
                if ready:
                    break
            t_end = time.monotonic()
        finally:
            os.close(pidfd)
        proc.wait()
        wall = t_end - t0
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read().decode(), err_f.read().decode()
        if proc.returncode != 0:
            raise RuntimeError(f"redis-benchmark failed on {master.name}: {stderr}{stdout}")
        for s in group.servers():
            if s.proc.poll() is not None:
                raise RuntimeError(f"{s.name} died during the load:\n" + s.log_tail())
        row = cr.parse_csv(stdout)

        catchup_ms = None
        if replicas:
            deadline = t_end + CATCHUP_TIMEOUT_S
            while True:
                m, rs = offsets(m_conn, r_conns)
                now = time.monotonic()
                if all(r == m for r in rs):
                    catchup_ms = (now - t_end) * 1000
                    break
                if now > deadline:
                    raise RuntimeError(
                        f"{group.name}: replicas did not catch up within {CATCHUP_TIMEOUT_S} s "
                        f"after the load: master_repl_offset {m}, slave_repl_offset {rs}\n"
                        + "\n".join(f"--- {s.name}:\n{s.log_tail()}" for s in group.servers()))
                time.sleep(CATCHUP_POLL_S)
            # Caught up: the data must agree, and nobody must have resynced in between.
            sizes = [int(c.call("DBSIZE")) for c in [m_conn] + r_conns]
            if len(set(sizes)) != 1:
                raise RuntimeError(f"{group.name}: DBSIZE master/replicas {sizes} after catch-up")
            # And so must the values: MGET of keys spread over redis-benchmark's keyspace
            # (key:%012d, 0 <= d < -r).
            step = max(1, args.keyspace // CHECK_KEYS)
            sample = ["key:%012d" % i for i in range(0, args.keyspace, step)]
            values = [c.call("MGET", *sample) for c in [m_conn] + r_conns]
            for i, v in enumerate(values[1:]):
                if v != values[0]:
                    bad = [k for k, a, b in zip(sample, values[0], v) if a != b]
                    raise RuntimeError(f"{group.name}: replica {i + 1} differs from the master "
                                       f"after catch-up on {len(bad)} of {len(sample)} keys, "
                                       f"e.g. {bad[:3]}")
            minfo = parse_info(m_conn.call("INFO", "replication"))
            if online_replicas(minfo) != len(replicas):
                raise RuntimeError(f"{group.name}: replicas not all online after the load: {minfo}")
            sync_full1 = int(parse_info(m_conn.call("INFO", "stats"))["sync_full"])
            if sync_full1 != sync_full0:
                raise RuntimeError(f"{group.name}: {sync_full1 - sync_full0} full resync(s) during "
                                   f"the load (a replica was dropped)\n"
                                   + "\n".join(f"--- {s.name}:\n{s.log_tail()}"
                                               for s in group.servers()))
        busy1 = cr.system_busy_ticks()
        t_last = time.monotonic()
        own_s = time.process_time() - own0
        client_s = cr.children_cpu_seconds() - child0
        # The master's and the replicas' CPU until the replicas caught up: what is left in the
        # master's output buffers when redis-benchmark exits is replication work too.
        master_s = (cr.proc_cpu_ticks(master.pid) - master0) / cr.CLK_TCK
        replicas_s = sum(cr.proc_cpu_ticks(r.pid) - b for r, b in zip(replicas, replicas0)) \
            / cr.CLK_TCK
        total = t_last - t0
        other_s = max(0.0, (busy1 - busy0) / cr.CLK_TCK - master_s - replicas_s - client_s
                      - own_s)
    finally:
        m_conn.close()
        for c in r_conns:
            c.close()
        out_f.close()
        err_f.close()
    return {
        "rps": float(row["rps"]),
        "cpu_us": master_s * 1e6 / requests,
        "master_busy": master_s / total if total > 0 else 0.0,
        "replicas_busy": replicas_s / total if total > 0 else 0.0,
        "client_busy": client_s / wall if wall > 0 else 0.0,
        "other_cores": other_s / total if total > 0 else 0.0,
        "lag_max": max(lags) if lags else None,
        "lag_median": statistics.median(lags) if lags else None,
        "lag_samples": len(lags) // max(1, len(replicas)),
        "catchup_ms": catchup_ms,
        "wall_s": wall,
    }


def describe_load(key, r):
    text = (f"{key:18} {r['rps']:>12,.0f} req/s  {r['cpu_us']:.3f} us/cmd  master "
            f"{r['master_busy']:.2f} replicas {r['replicas_busy']:.2f} client "
            f"{r['client_busy']:.2f} others {r['other_cores']:.2f} cores")
    if r["catchup_ms"] is not None:
        text += (f"  lag max {r['lag_max']:,} median {r['lag_median']:,.0f} B "
                 f"({r['lag_samples']} samples)  catch-up {r['catchup_ms']:.1f} ms")
    return text


def measure_throughput(args, binaries, workdir, results, noise, others):
    groups = {}
    try:
        for name in SERVERS:
            groups[(name, 0)] = Group(args, name, binaries[name], workdir, 0).start()
            groups[(name, REPLICAS)] = Group(args, name, binaries[name], workdir, REPLICAS).start()
        all_servers = {f"{s.name}-{s.port}": s for g in groups.values() for s in g.servers()}
        for key, g in groups.items():
            cr.log(f"{g.name}: master pid {g.master.pid} port {g.master.port}"
                   + (f", replicas {[r.port for r in g.replicas]}" if g.replicas else
                      ", no replica"))
            # Warm-up: fills the keyspace, so that every measured run overwrites the same keys.
            run_write_load(args, g, args.warmup_requests)
        for rnd in range(args.rounds):
            order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
            cr.log(f"throughput round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
                   f"load {' '.join(cr.loadavg())}")
            for count, key in ((0, "set no replica"), (REPLICAS, "set replicas")):
                measured_pair(args, order,
                              lambda name: run_write_load(args, groups[(name, count)]),
                              describe_load, key, noise, results, others,
                              before=lambda: cp.wait_for_quiet(args, all_servers, noise))
            noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))
    finally:
        for g in groups.values():
            g.stop()


# ----------------------------------------------------------------------------------------------
# Part 3: full sync.

def run_full_sync(args, name, binary, workdir, keys, variant, noise):
    variant_args = (["--repl-diskless-sync", "no"] if variant == "disk" else
                    ["--repl-diskless-sync", "yes"])
    master = server_in(f"{name}-sync-master", binary, args.server_cpu, workdir,
                       MASTER_ARGS + variant_args)
    replica = server_in(f"{name}-sync-replica", binary, args.replica_cpu, workdir,
                        ["--repl-diskless-load", args.replica_diskless_load])
    helpers = []
    try:
        master.start()
        t = time.monotonic()
        master.call("DEBUG", "POPULATE", keys, "key", 16)
        populate_s = time.monotonic() - t
        size = int(master.call("DBSIZE"))
        if size != keys:
            raise RuntimeError(f"{name}: DBSIZE {size} after DEBUG POPULATE {keys}")
        cr.settle()
        cp.wait_for_quiet(args, {"master": master}, noise)
        rss_before = cr.proc_rss_bytes(master.pid)

        sampler = Helper(_memory_sampler, master.pid, MEMORY_INTERVAL_S)
        helpers.append(sampler)
        pinger = Helper(_pinger, master.port, args.ping_interval / 1000.0)
        helpers.append(pinger)
        sampler.wait_ready()
        pinger.wait_ready()
        time.sleep(0.05)  # the pinger's first round trips (new connection) stay out

        busy0 = cr.system_busy_ticks()
        master0 = proc_ticks_all(master.pid)
        own0 = time.process_time()
        t0 = time.monotonic()
        replica.extra_args = ["--replicaof", "127.0.0.1", str(master.port)]
        replica.start()  # returns when it answers PING (or -LOADING)
        conn = cr.Client(replica.port)
        deadline = t0 + SYNC_TIMEOUT_S_PER_MKEY * max(1.0, keys / 1e6)
        try:
            while True:
                info = parse_info(conn.call("INFO", "replication"))
                if info.get("master_link_status") == "up":
                    try:
                        if int(conn.call("DBSIZE")) == keys:
                            break
                    except RuntimeError as e:  # -LOADING
                        if "LOADING" not in str(e):
                            raise
                for s in (master, replica):
                    if s.proc.poll() is not None:
                        raise RuntimeError(f"{s.name} died during the full sync:\n"
                                           + s.log_tail())
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{name}: full sync of {keys} keys ({variant}) not done after "
                        f"{deadline - t0:.0f} s; replica INFO {info}\n--- master:\n"
                        f"{master.log_tail()}\n--- replica:\n{replica.log_tail()}")
                time.sleep(SYNC_POLL_S)
            t_done = time.monotonic()
        finally:
            conn.close()
        busy1 = cr.system_busy_ticks()
        master_s = (proc_ticks_all(master.pid) - master0) / cr.CLK_TCK
        replica_s = cr.proc_cpu_ticks(replica.pid) / cr.CLK_TCK
        own_s = time.process_time() - own0

        sent_raw, rtt_raw, pinger_ticks = pinger.stop()
        mem_t_raw, mem_v_raw, forked, sampler_ticks = sampler.stop()
        helpers.clear()
        sent, rtt = _unpack(sent_raw), _unpack(rtt_raw)
        during = sorted(r for s, r in zip(sent, rtt) if t0 <= s <= t_done)
        mem = [v for s, v in zip(_unpack(mem_t_raw), _unpack(mem_v_raw)) if t0 <= s <= t_done]
        if not during or not mem:
            raise RuntimeError(f"{name}: no PING or memory sample during the sync")
        peak = max(mem + [rss_before])
        wall = t_done - t0
        helpers_s = (pinger_ticks + sampler_ticks) / cr.CLK_TCK
        other_s = max(0.0, (busy1 - busy0) / cr.CLK_TCK - master_s - replica_s - own_s
                      - helpers_s)
        return {
            "sync_s": wall,
            "rss_before": rss_before,
            "peak": peak,
            "peak_ratio": peak / rss_before,
            "ping_max_ms": during[-1] * 1000,
            "ping_p99_ms": percentile(during, 0.99) * 1000,
            "pings": len(during),
            "forked": forked,
            "populate_s": populate_s,
            "master_cpu_s": master_s,
            "replica_cpu_s": replica_s,
            "other_cores": other_s / wall if wall > 0 else 0.0,
        }
    finally:
        for h in helpers:
            h.kill()
        stop_all([replica, master])


def describe_sync(key, r):
    return (f"{key:22} {r['sync_s']:7.2f} s  RSS before {r['rss_before'] / 2**20:7.1f} MiB, "
            f"peak {r['peak'] / 2**20:7.1f} MiB ({r['peak_ratio']:.2f}x, child processes seen "
            f"{r['forked']})  PING max {r['ping_max_ms']:.2f} p99 {r['ping_p99_ms']:.2f} ms "
            f"({r['pings']})  master CPU {r['master_cpu_s']:.2f} s, replica "
            f"{r['replica_cpu_s']:.2f} s  others {r['other_cores']:.2f} cores")


def sync_key(keys, variant):
    return f"sync {keys} {variant}"


def measure_full_sync(args, binaries, workdir, results, noise, others):
    for rnd in range(args.rounds):
        order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
        cr.log(f"full-sync round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
               f"load {' '.join(cr.loadavg())}")
        for keys in args.sync_keys:
            for variant in VARIANTS:
                key = sync_key(keys, variant)
                # (run_full_sync waits for a quiet machine once its master is filled.)
                measured_pair(args, order,
                              lambda name: run_full_sync(args, name, binaries[name], workdir,
                                                         keys, variant, noise),
                              describe_sync, key, noise, results, others)
        noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))


def measured_pair(args, order, run, describe, key, noise, results, others, before=None):
    """Runs `run(name)` for each server in `order`; again (up to --retries) while other processes
    used more than QUIET_CORES during the pair; records the pair under `key`."""
    for attempt in range(args.retries + 1):
        if before is not None:
            before()
        pair = {}
        for name in order:
            pair[name] = run(name)
            if args.verbose:
                cr.log(f"  {name:8} " + describe(key, pair[name]))
        worst = max(r["other_cores"] for r in pair.values())
        if worst <= cp.QUIET_CORES or attempt == args.retries:
            break
        noise["retried"] += 1
        cr.log(f"  other processes used {worst:.2f} cores: pair run again")
    for name in order:
        results[name].setdefault(key, []).append(pair[name])
        others.append(pair[name]["other_cores"])


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-replication-bench-")
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    noise = {"load_start": cr.loadavg(), "load_max": float(cr.loadavg()[0]), "waited_s": 0,
             "gave_up_waiting": 0, "retried": 0}
    results = {name: {} for name in SERVERS}
    others = []
    cr.log(f"load average at start: {' '.join(noise['load_start'])}")
    # This process samples and polls: it belongs with the clients.
    os.sched_setaffinity(0, {args.client_cpu})
    if "throughput" in args.only:
        measure_throughput(args, binaries, workdir, results, noise, others)
    if "fullsync" in args.only:
        measure_full_sync(args, binaries, workdir, results, noise, others)
    # The server directories are removed as servers stop; what is left is empty.
    shutil.rmtree(workdir, ignore_errors=True)
    noise["load_end"] = cr.loadavg()
    noise["other_mean"] = statistics.mean(others) if others else 0.0
    noise["other_max"] = max(others) if others else 0.0
    return results, noise


# ----------------------------------------------------------------------------------------------
# Report.

def keys_label(keys):
    if keys % 1_000_000 == 0:
        return f"{keys // 1_000_000}M"
    return f"{keys:,}"


def metric_rows(args):
    """(label, values(results of one server) -> list per round, higher is better)."""
    def metric(key, name):
        return lambda res: [r[name] for r in res.get(key, [])]

    def kept(res):
        return [a["rps"] / b["rps"] for a, b in zip(res.get("set replicas", []),
                                                     res.get("set no replica", []))]

    load = (f"SET -P {args.pipeline} -c {args.clients} -d {args.value_size}")
    rows = [
        (f"{load} req/s, no replica", metric("set no replica", "rps"), True),
        (f"{load} req/s, {REPLICAS} replicas", metric("set replicas", "rps"), True),
        (f"throughput with {REPLICAS} replicas / without", kept, True),
        ("master CPU us/cmd, no replica", metric("set no replica", "cpu_us"), False),
        (f"master CPU us/cmd, {REPLICAS} replicas", metric("set replicas", "cpu_us"), False),
        ("replica lag during the load, max bytes", metric("set replicas", "lag_max"), False),
        ("replica lag during the load, median bytes", metric("set replicas", "lag_median"),
         False),
        ("catch-up after the load, ms", metric("set replicas", "catchup_ms"), False),
    ]
    for keys in args.sync_keys:
        for variant in VARIANTS:
            key = sync_key(keys, variant)
            what = f"full sync {keys_label(keys)} keys, {variant}"
            rows += [
                (f"{what}: s to link up", metric(key, "sync_s"), False),
                (f"{what}: master peak MiB", lambda res, k=key: [r["peak"] / 2**20
                                                                 for r in res.get(k, [])],
                 False),
                (f"{what}: master peak/before", metric(key, "peak_ratio"), False),
                (f"{what}: PING max ms", metric(key, "ping_max_ms"), False),
                (f"{what}: PING p99 ms", metric(key, "ping_p99_ms"), False),
            ]
    return rows


def fmt(v):
    return "-" if v is None else cr.fmt_num(v)


def build_table(results, args):
    table = []
    for label, values, higher_better in metric_rows(args):
        kv, rv = values(results["Keyward"]), values(results["Redis"])
        if not kv or not rv:
            continue
        k, r = statistics.median(kv), statistics.median(rv)
        ratios = [a / b for a, b in zip(kv, rv) if b]
        paired = f"{statistics.median(ratios):.2f}" if ratios else "-"
        spread = f"{cr.spread(kv):.0f}% / {cr.spread(rv):.0f}%" if len(kv) > 1 else "-"
        table.append((label, fmt(k), fmt(r), f"{k / r:.2f}" if r else "-", paired,
                      "higher" if higher_better else "lower", spread, str(len(kv))))
    return table


def print_context(args, versions, results, noise, markdown):
    bullet = "- " if markdown else "  "
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']})",
        f"Redis:   {args.redis} ({versions['Redis']})",
    ]
    if os.path.realpath(args.keyward) == os.path.realpath(args.redis):
        lines.append("Both sides run the same binary: a self-check of the benchmark, every "
                     "ratio should be close to 1")
    lines.append(f"Masters on CPU {args.server_cpu}; replicas on CPU {args.replica_cpu}; "
                 f"redis-benchmark and the samplers on CPU {args.client_cpu}; {args.rounds} "
                 f"round(s), order flipped each round, median of rounds")
    if "set replicas" in results["Keyward"]:
        lines.append(f"Write load: redis-benchmark -t set -P {args.pipeline} -c {args.clients} "
                     f"-n {args.requests} -r {args.keyspace} -d {args.value_size}, against a "
                     f"master with no replica and one with {REPLICAS} replicas online; lag "
                     f"sampled every {LAG_INTERVAL_S * 1000:.0f} ms, catch-up polled every "
                     f"{CATCHUP_POLL_S * 1000:.0f} ms from redis-benchmark's exit")
        cells = []
        for name in SERVERS:
            rs = results[name]["set replicas"]
            cells.append(f"{name} master {statistics.median(r['master_busy'] for r in rs):.2f}, "
                         f"replicas {statistics.median(r['replicas_busy'] for r in rs):.2f}, "
                         f"redis-benchmark {statistics.median(r['client_busy'] for r in rs):.2f}")
        lines.append("With replicas, busy fractions (CPU time / wall time; the replicas share a "
                     "core with redis-benchmark), medians: " + "; ".join(cells))
        for name in SERVERS:
            busy = statistics.median(r["master_busy"] for r in results[name]["set replicas"])
            if busy < MASTER_SATURATED:
                lines.append(f"NOTE: with replicas, {name}'s master used {busy:.2f} of its core "
                             f"(median): its rate was limited by the core its replicas share "
                             f"with redis-benchmark, not by the master; master CPU us/cmd is "
                             f"the master's cost of replication")
    sync_keys = [sync_key(k, v) for k in args.sync_keys for v in VARIANTS
                 if sync_key(k, v) in results["Keyward"]]
    if sync_keys:
        lines.append(f"Full sync: DEBUG POPULATE <n> key 16 on a fresh master, a fresh replica "
                     f"started with --replicaof --repl-diskless-load "
                     f"{args.replica_diskless_load}; disk = --repl-diskless-sync no, diskless = yes "
                     f"with delay 0; memory sampled every {MEMORY_INTERVAL_S * 1000:.0f} ms (VmRSS,"
                     f" or Pss of master + children while it has a child); PING with "
                     f"{args.ping_interval} ms pauses")
        for key in sync_keys:
            cells = []
            for name in SERVERS:
                rs = results[name][key]
                cells.append(
                    f"{name} RSS before {statistics.median(r['rss_before'] for r in rs) / 2**20:.0f}"
                    f" MiB, child processes {max(r['forked'] for r in rs)}, PINGs "
                    f"{statistics.median(r['pings'] for r in rs):.0f}, master CPU "
                    f"{statistics.median(r['master_cpu_s'] for r in rs):.2f} s, replica CPU "
                    f"{statistics.median(r['replica_cpu_s'] for r in rs):.2f} s")
            n, variant = key.split()[1:]
            lines.append(f"Full sync {keys_label(int(n))} {variant}: " + "; ".join(cells))
    lines += [
        "Keyward/Redis: ratio of the medians; Paired: median of the per-round ratios; "
        "Spread: (max - min) / median over the rounds, Keyward / Redis",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {noise['other_mean']:.2f} cores, "
        f"worst run {noise['other_max']:.2f} cores (of {os.cpu_count()}); waited "
        f"{noise['waited_s']} s for builds or load to end; {noise['retried']} pair(s) measured "
        f"again because of other load",
    ]
    if noise["other_mean"] > cp.QUIET_CORES or noise.get("gave_up_waiting"):
        lines.append(f"WARNING: noisy run: other processes used more than {cp.QUIET_CORES} "
                     f"cores on average, or the machine never became quiet")
    for line in lines:
        print(bullet + line)


SAVED_ARGS = ("keyward", "redis", "rounds", "requests", "warmup_requests", "clients",
              "keyspace", "value_size", "pipeline", "sync_keys", "ping_interval", "only",
              "server_cpu", "client_cpu", "replica_cpu")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD,
                   help="keyward-server (Release build); /usr/bin/redis-server for a self-check")
    p.add_argument("--redis", default=cr.DEFAULT_REDIS, help="redis-server")
    p.add_argument("--benchmark", default=cr.DEFAULT_BENCHMARK, help="redis-benchmark")
    p.add_argument("--rounds", type=int, default=3, help="rounds; the table shows the median")
    p.add_argument("--requests", type=int, default=2_000_000,
                   help="redis-benchmark -n per measured run")
    p.add_argument("--warmup-requests", type=int, default=500_000,
                   help="redis-benchmark -n of the unmeasured run that fills each master")
    p.add_argument("--clients", type=int, default=50, help="redis-benchmark -c")
    p.add_argument("--keyspace", type=int, default=100_000, help="redis-benchmark -r")
    p.add_argument("--value-size", type=int, default=64, help="redis-benchmark -d")
    p.add_argument("--pipeline", type=int, default=16, help="redis-benchmark -P")
    p.add_argument("--sync-keys", default="1000000",
                   help="comma-separated key counts for the full-sync measurement")
    p.add_argument("--big", action="store_true",
                   help="full sync of 10,000,000 keys too (after --sync-keys)")
    p.add_argument("--ping-interval", type=float, default=1.0,
                   help="ms between the pinger's PINGs during a full sync (0: back to back)")
    p.add_argument("--only", default=",".join(PARTS),
                   help="comma-separated, from: " + ", ".join(PARTS))
    p.add_argument("--replica-diskless-load", default="disabled",
                   choices=["disabled", "on-empty-db", "swapdb"],
                   help="the full-sync replicas' repl-diskless-load (disabled: through a file)")
    p.add_argument("--replica-cpu", type=int,
                   help="CPU the replicas run on (default: --client-cpu)")
    cp.add_quiet_arguments(p, "pair")
    cr.add_report_arguments(p, "smoke run: 1 round, 500,000 requests, full sync of 1M keys")
    if p.parse_known_args(argv)[0].quick:
        # New defaults only: options given explicitly still win (--quick --rounds 2).
        p.set_defaults(rounds=1, requests=500_000, warmup_requests=200_000)
    args = p.parse_args(argv)
    if not args.from_json:
        args.sync_keys = [int(x) for x in args.sync_keys.split(",") if x.strip()]
        if args.big and 10_000_000 not in args.sync_keys:
            args.sync_keys.append(10_000_000)
        args.only = [w.strip() for w in args.only.split(",") if w.strip()]
        for w in args.only:
            if w not in PARTS:
                p.error(f"unknown part {w!r}")
        if args.replica_cpu is None:
            args.replica_cpu = args.client_cpu
        for b in (args.keyward, args.redis, args.benchmark):
            if not os.access(b, os.X_OK):
                p.error(f"{b} is not an executable (build keyward-server in Release first)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def main(argv):
    return cr.side_by_side_main(parse_args(argv), SAVED_ARGS, measure, print_context, build_table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
