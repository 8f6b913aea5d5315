#!/usr/bin/env python3
"""Side-by-side benchmark of streams on keyward-server and Debian's redis-server 7.0.15.

Both servers run with compare_redis.py's command line (no persistence, loopback, a free port),
pinned to one core; every client (redis-benchmark, and this script's own load driver) runs pinned
to another. Each workload runs on both servers back to back, for several rounds; the order flips
every round (Keyward then Redis, then Redis then Keyward, ...), so a slow stretch of the machine
falls on both. Before each pair the script waits for builds to end and the machine to be idle
(compare_pubsub's wait), and measures a pair again when other processes used more than 0.2 cores
during it anyway.

Workloads:
  XADD            redis-benchmark -c 50 -P {1,16} XADD xadd:bench * f v: appends to one stream,
                  emptied (DEL) before every run; afterwards XLEN must equal the requests sent
                  (redis-benchmark counts error replies as requests, so this is the check that
                  every XADD was accepted).
  XRANGE          redis-benchmark -c 50 -P {1,16} XRANGE range:bench - + COUNT 100 on a stream
                  filled once with --range-fill entries (one field/value each): a reply of 100
                  entries per request.
  XREADGROUP      4 consumers (--consumers) of one group, each on its own connection, driven by
                  this script (one thread, epoll): XREADGROUP GROUP g c<i> COUNT 10 STREAMS
                  group:bench >, then XACK of the IDs it got, sent in the same write as the
                  consumer's next XREADGROUP, until the group has delivered every entry of a
                  stream pre-filled with --group-entries entries. Measured with 1 read in flight
                  per consumer (a consumer's loop: each read waits for the previous reply) and
                  with 4 (--depths 1,4), which keeps the server, not the round trips or the
                  driver, the bottleneck. Entries per second, from the first read to the last
                  consumer finding nothing left; every entry must be delivered once and
                  acknowledged, and the group's PEL must end empty.
  memory          on fresh processes, one server at a time: INFO used_memory and VmRSS of the
                  empty server, then --entries entries (XADD mem * f v, pipelined 1,000 per
                  write over a raw socket), then again. Bytes per entry = delta / entries, for
                  used_memory (the allocator's count: jemalloc's in Redis, glibc's mallinfo2 in
                  Keyward) and for RSS (what the system charges). Measured once.

Metrics: requests (or entries) per second, and server CPU time per request (or entry):
utime+stime of the server (/proc/<pid>/stat) over the run. At -P 1, redis-benchmark is often the
bottleneck and both servers show similar rates; the CPU row is then the better measure. The
XREADGROUP driver is Python: its busy fraction is printed, and when it is near 1 the driver, not
the server, limited the rate (CPU per entry still compares the servers).

The table: medians over rounds, Keyward/Redis (ratio of the medians), Paired (median of the
per-round ratios), Spread, as in compare_redis.py.

    bench/compare_streams.py --quick                        # smoke run, about a minute
    bench/compare_streams.py --markdown                     # 5 rounds, 10M entries for memory
    bench/compare_streams.py --keyward /usr/bin/redis-server --quick   # self-check: Redis vs Redis

Python 3 standard library only; nothing is built here: pass the Release binary.
"""

import argparse
import collections
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_pubsub as cp  # noqa: E402  (waiting for a quiet machine)
import compare_redis as cr  # noqa: E402  (the shared launcher, /proc helpers and table)

SERVERS = ("Keyward", "Redis")
WORKLOADS = ("xadd", "xrange", "group", "memory")

XADD_KEY = "xadd:bench"
RANGE_KEY = "range:bench"
GROUP_KEY = "group:bench"
MEMORY_KEY = "mem"
GROUP = "g"
# Commands per write when filling a stream. Replies are read before the next write, so at most
# this many are in flight.
FILL_BATCH = 1000
# What recv asks for. Not 1 MiB: Python allocates the whole buffer for every recv and shrinks it
# afterwards, which for small replies costs more than the server's work on them.
RECV_SIZE = 1 << 16
# Busy fraction above which a process counts as saturated: an XREADGROUP run whose driver is
# above it while the server is below it measured the driver, not the server.
DRIVER_SATURATED = 0.9


# ----------------------------------------------------------------------------------------------
# Filling streams.

def fill_stream(srv, key, entries):
    """XADD <key> * f v, `entries` times, FILL_BATCH commands per write over one connection.
    Replies are counted, not parsed: an XADD reply is a bulk string (two lines, `$15` and the
    ID); an error is one line starting with '-', which no line of an XADD reply does (an ID has
    its '-' in the middle). Returns the seconds the
    fill took."""
    c = cr.Client(srv.port)
    command = cr.Client.encode("XADD", key, "*", "f", "v")
    t0 = time.monotonic()
    try:
        sent = 0
        while sent < entries:
            batch = min(FILL_BATCH, entries - sent)
            c.sock.sendall(command * batch)
            lines, last = 0, b"\n"
            while lines < 2 * batch:
                chunk = c.sock.recv(RECV_SIZE)
                if not chunk:
                    raise ConnectionError(f"{srv.name} closed the connection during the fill")
                # An error line follows a LF, maybe the last byte of the previous chunk.
                error_at = (last + chunk).find(b"\n-")
                if error_at >= 0:
                    error = (last + chunk)[error_at + 1:].split(b"\r\n")[0]
                    raise RuntimeError(f"{srv.name}: XADD {key} replied "
                                       f"{error.decode(errors='replace')}")
                # Lines are counted by their LF, which a CRLF split between two chunks still has.
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            sent += batch
    finally:
        c.close()
    seconds = time.monotonic() - t0
    length = int(srv.call("XLEN", key))
    if length != entries:
        raise RuntimeError(f"{srv.name}: XLEN {key} is {length} after {entries} XADD")
    return seconds


def check_streams(servers):
    """Fails early, with the reply, when a server does not answer the stream commands."""
    for name, srv in servers.items():
        try:
            srv.call("XADD", "probe", "*", "f", "v")
            reply = srv.call("XRANGE", "probe", "-", "+", "COUNT", "1")
            srv.call("DEL", "probe")
        except RuntimeError as e:
            raise SystemExit(f"{name} ({srv.binary}) does not serve streams: {e}")
        if not (isinstance(reply, list) and len(reply) == 1 and reply[0][1] == ["f", "v"]):
            raise SystemExit(f"{name}: XRANGE replied {reply!r}")


def info_field(srv, section, field):
    for line in srv.call("INFO", section).splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"{srv.name}: INFO {section} has no {field}")


# ----------------------------------------------------------------------------------------------
# redis-benchmark workloads.

def run_benchmark(args, srv, command, pipeline, requests):
    cmd = ["taskset", "-c", str(args.client_cpu), args.benchmark, "-h", "127.0.0.1",
           "-p", str(srv.port), "-c", str(args.clients), "-n", str(requests),
           "-P", str(pipeline), "--csv"] + command
    busy0 = cr.system_busy_ticks()
    child0 = cr.children_cpu_seconds()
    server0 = cr.proc_cpu_ticks(srv.pid)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    server1 = cr.proc_cpu_ticks(srv.pid)
    child1 = cr.children_cpu_seconds()
    busy1 = cr.system_busy_ticks()
    if out.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed on {srv.name}: {out.stderr}{out.stdout}")
    if srv.proc.poll() is not None:
        raise RuntimeError(f"{srv.name} died during {command[0]}:\n" + srv.log_tail())
    row = cr.parse_csv(out.stdout)
    server_s = (server1 - server0) / cr.CLK_TCK
    client_s = child1 - child0
    other_s = max(0.0, (busy1 - busy0) / cr.CLK_TCK - server_s - client_s)
    return {
        "rps": float(row["rps"]),
        "cpu_us": server_s * 1e6 / requests,
        "other_cores": other_s / wall if wall > 0 else 0.0,
        "client_busy": client_s / wall if wall > 0 else 0.0,
        "requests": requests,
    }


def run_xadd(args, srv, pipeline):
    requests = args.requests if pipeline == 1 else args.pipelined_requests
    srv.call("DEL", XADD_KEY)
    r = run_benchmark(args, srv, ["XADD", XADD_KEY, "*", "f", "v"], pipeline, requests)
    length = int(srv.call("XLEN", XADD_KEY))
    if length != requests:
        raise RuntimeError(f"{srv.name}: XLEN {XADD_KEY} is {length} after {requests} XADD "
                           f"(some were refused)")
    srv.call("DEL", XADD_KEY)
    return r


def run_xrange(args, srv, pipeline):
    return run_benchmark(args, srv, ["XRANGE", RANGE_KEY, "-", "+", "COUNT", "100"], pipeline,
                         args.range_requests)


# ----------------------------------------------------------------------------------------------
# The consumer-group driver.

# An XREADGROUP reply for one stream, parsed with regular expressions (C speed) rather than a
# RESP parser written in Python, which would cost more per entry than the server does:
#   *1 *2 $<len> <key> *<n>   then n times   *2 $<len> <id> *2 $<len> <field> $<len> <value>
# The entries are this script's own (one field, no CR in field or value), so the shape is known.
# A reply that matches neither this nor a null is checked by the generic parser below, which
# tells a truncated reply (wait for more) from an unexpected one (stop).
READ_HEAD = re.compile(rb"\*1\r\n\*2\r\n\$\d+\r\n[^\r]*\r\n\*(\d+)\r\n")
ENTRY = rb"\*2\r\n\$\d+\r\n\d+-\d+\r\n\*2\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n"
ENTRY_ID = re.compile(rb"\*2\r\n\$\d+\r\n(\d+-\d+)\r\n\*2\r\n")
NULL_REPLIES = (b"*-1\r\n", b"_\r\n")  # no entry left for the group (RESP2, RESP3)
ACK_REPLY = re.compile(rb":(\d+)\r\n")
_entries_patterns = {}


def entries_pattern(n):
    pattern = _entries_patterns.get(n)
    if pattern is None:
        pattern = _entries_patterns[n] = re.compile(b"(?:" + ENTRY + b"){%d}" % n)
    return pattern


def reply_end(buf, pos):
    """End offset of the complete RESP2 reply at `pos`, or None if more bytes are needed."""
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return None
    kind, end = buf[pos:pos + 1], eol + 2
    if kind in (b"+", b"-", b":", b"_"):
        return end
    n = int(buf[pos + 1:eol])
    if kind == b"$":
        if n < 0:
            return end
        return end + n + 2 if len(buf) >= end + n + 2 else None
    if kind == b"*":
        for _ in range(max(n, 0)):
            end = reply_end(buf, end)
            if end is None:
                return None
        return end
    raise RuntimeError(f"not RESP: {bytes(buf[pos:pos + 80])!r}")


def unexpected(name, buf, pos):
    """Raises if the bytes at `pos` form a complete reply (that the fast path did not accept)."""
    end = reply_end(buf, pos)
    if end is not None:
        raise RuntimeError(f"{name}: unexpected reply {bytes(buf[pos:min(end, pos + 300)])!r}")


class Consumer:
    """One consumer's connection: its XREADGROUP command, its unparsed bytes, and the replies it
    waits for, in order (READ or ACK)."""

    def __init__(self, port, read_command):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.read = read_command
        self.buf = bytearray()
        self.expected = collections.deque()
        self.drained = False  # a read found nothing left: send no more reads

    def close(self):
        self.sock.close()


READ, ACK = "read", "ack"


def run_group(args, srv, depth):
    """Fills GROUP_KEY, creates the group, and drains it with args.consumers consumers, each with
    `depth` reads in flight."""
    entries = args.group_entries
    srv.call("DEL", GROUP_KEY)
    fill_stream(srv, GROUP_KEY, entries)
    srv.call("XGROUP", "CREATE", GROUP_KEY, GROUP, "0")
    consumers = [Consumer(srv.port, cr.Client.encode("XREADGROUP", "GROUP", GROUP, "c%d" % i,
                                                     "COUNT", str(args.count), "STREAMS",
                                                     GROUP_KEY, ">"))
                 for i in range(args.consumers)]
    # XACK <key> <group> <id>...: the header is built per batch, the rest once.
    ack_head = b"$4\r\nXACK\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in
                                             (GROUP_KEY.encode(), GROUP.encode()))
    poller = select.epoll()
    by_fd = {}
    for c in consumers:
        poller.register(c.sock.fileno(), select.EPOLLIN)
        by_fd[c.sock.fileno()] = c
    delivered = acked = 0
    busy0 = cr.system_busy_ticks()
    server0 = cr.proc_cpu_ticks(srv.pid)
    own0 = time.process_time()
    t0 = time.monotonic()
    try:
        for c in consumers:
            c.sock.sendall(c.read * depth)
            c.expected.extend([READ] * depth)
        active = len(consumers)
        while active:
            events = poller.poll(60)
            if not events:
                if srv.proc.poll() is not None:
                    raise RuntimeError(f"{srv.name} died during XREADGROUP:\n" + srv.log_tail())
                raise RuntimeError(f"{srv.name}: no reply to any consumer for 60 s")
            for fd, _ in events:
                c = by_fd[fd]
                chunk = c.sock.recv(RECV_SIZE)
                if not chunk:
                    raise RuntimeError(f"{srv.name} closed a consumer's connection")
                buf = c.buf
                buf += chunk
                pos = 0
                out = []
                while c.expected:
                    if c.expected[0] is ACK:
                        m = ACK_REPLY.match(buf, pos)
                        if not m:
                            unexpected(srv.name, buf, pos)
                            break
                        acked += int(m.group(1))
                        pos = m.end()
                        c.expected.popleft()
                        continue
                    null = next((n for n in NULL_REPLIES if buf.startswith(n, pos)), None)
                    if null:
                        # Nothing left for the group: no more reads from this consumer.
                        pos += len(null)
                        c.expected.popleft()
                        c.drained = True
                        continue
                    head = READ_HEAD.match(buf, pos)
                    body = head and entries_pattern(int(head.group(1))).match(buf, head.end())
                    if not body:
                        unexpected(srv.name, buf, pos)
                        break
                    ids = ENTRY_ID.findall(buf, head.end(), body.end())
                    pos = body.end()
                    c.expected.popleft()
                    delivered += len(ids)
                    out.append(b"*%d\r\n" % (3 + len(ids)) + ack_head
                               + b"".join([b"$%d\r\n%s\r\n" % (len(i), i) for i in ids]))
                    c.expected.append(ACK)
                    if not c.drained:
                        out.append(c.read)
                        c.expected.append(READ)
                del buf[:pos]
                if out:
                    c.sock.sendall(b"".join(out))
                if not c.expected:
                    if buf:
                        raise RuntimeError(f"{srv.name}: bytes after the last reply: {buf[:80]!r}")
                    poller.unregister(fd)
                    active -= 1
    finally:
        wall = time.monotonic() - t0
        own_s = time.process_time() - own0
        server1 = cr.proc_cpu_ticks(srv.pid)
        busy1 = cr.system_busy_ticks()
        poller.close()
        for c in consumers:
            c.close()
    if delivered != entries or acked != entries:
        raise RuntimeError(f"{srv.name}: {entries} entries, {delivered} delivered, {acked} acked")
    pending = srv.call("XPENDING", GROUP_KEY, GROUP)
    if pending[0] != "0":
        raise RuntimeError(f"{srv.name}: XPENDING after the run: {pending!r}")
    srv.call("DEL", GROUP_KEY)
    server_s = (server1 - server0) / cr.CLK_TCK
    other_s = max(0.0, (busy1 - busy0) / cr.CLK_TCK - server_s - own_s)
    return {
        "rps": entries / wall,
        "cpu_us": server_s * 1e6 / entries,
        "other_cores": other_s / wall if wall > 0 else 0.0,
        "client_busy": own_s / wall if wall > 0 else 0.0,
        "server_busy": server_s / wall if wall > 0 else 0.0,
        "requests": entries,
    }


# ----------------------------------------------------------------------------------------------
# Memory.

def measure_memory(args, name, binary, workdir):
    srv = cr.Server(name, binary, args.server_cpu, workdir).start()
    try:
        cr.settle()
        used0, rss0 = info_field(srv, "memory", "used_memory"), cr.proc_rss_bytes(srv.pid)
        fill_s = fill_stream(srv, MEMORY_KEY, args.entries)
        cr.settle()
        used1, rss1 = info_field(srv, "memory", "used_memory"), cr.proc_rss_bytes(srv.pid)
    finally:
        srv.stop()
    return {"used_per_entry": (used1 - used0) / args.entries,
            "rss_per_entry": (rss1 - rss0) / args.entries,
            "used_empty": used0, "used_loaded": used1, "rss_empty": rss0, "rss_loaded": rss1,
            "fill_per_s": args.entries / fill_s if fill_s > 0 else 0.0}


# ----------------------------------------------------------------------------------------------
# Running.

def pair_keys(args):
    """(result key, function(args, server)) of every workload measured in rounds."""
    keys = []
    if "xadd" in args.only:
        keys += [(f"XADD -P {p}", lambda a, s, p=p: run_xadd(a, s, p)) for p in args.pipelines]
    if "xrange" in args.only:
        keys += [(f"XRANGE -P {p}", lambda a, s, p=p: run_xrange(a, s, p))
                 for p in args.pipelines]
    if "group" in args.only:
        keys += [(f"XREADGROUP x{d}", lambda a, s, d=d: run_group(a, s, d)) for d in args.depths]
    return keys


def describe(key, r):
    unit = "entries/s" if key.startswith("XREADGROUP") else "req/s"
    per = "entry" if key.startswith("XREADGROUP") else "cmd"
    return (f"{key:12} {r['rps']:>12,.0f} {unit}  {r['cpu_us']:.3f} us/{per}  client "
            f"{r['client_busy']:.2f}  others {r['other_cores']:.2f} cores")


def measure(args):
    workdir = tempfile.mkdtemp(prefix="keyward-streams-bench-")
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    noise = {"load_start": cr.loadavg(), "load_max": float(cr.loadavg()[0]), "waited_s": 0,
             "gave_up_waiting": 0, "retried": 0}
    results = {name: {} for name in SERVERS}
    cr.log(f"load average at start: {' '.join(noise['load_start'])}")
    # This process is the XREADGROUP driver and the filler: it belongs on the clients' core.
    os.sched_setaffinity(0, {args.client_cpu})
    keys = pair_keys(args)
    if keys:
        servers = {name: cr.Server(name, b, args.server_cpu, workdir)
                   for name, b in binaries.items()}
        try:
            for name, srv in servers.items():
                srv.start()
                cr.log(f"{name}: pid {srv.pid}, port {srv.port}")
            check_streams(servers)
            if "xrange" in args.only:
                for srv in servers.values():
                    fill_stream(srv, RANGE_KEY, args.range_fill)
            for rnd in range(args.rounds):
                order = list(SERVERS) if rnd % 2 == 0 else list(reversed(SERVERS))
                cr.log(f"round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
                       f"load {' '.join(cr.loadavg())}")
                for key, run in keys:
                    for attempt in range(args.retries + 1):
                        cp.wait_for_quiet(args, servers, noise)
                        pair = {}
                        for name in order:
                            pair[name] = run(args, servers[name])
                            if args.verbose:
                                cr.log(f"  {name:8} " + describe(key, pair[name]))
                        worst = max(r["other_cores"] for r in pair.values())
                        if worst <= cp.QUIET_CORES or attempt == args.retries:
                            break
                        noise["retried"] += 1
                        cr.log(f"  other processes used {worst:.2f} cores: pair run again")
                    for name in order:
                        results[name].setdefault(key, []).append(pair[name])
                noise["load_max"] = max(noise["load_max"], float(cr.loadavg()[0]))
        finally:
            for srv in servers.values():
                srv.stop()
    if "memory" in args.only and args.entries > 0:
        for name in SERVERS:
            cp.wait_for_quiet(args, {}, noise)
            cr.log(f"memory: {name}, {args.entries:,} entries")
            results[name]["memory"] = [measure_memory(args, name, binaries[name], workdir)]
    noise["load_end"] = cr.loadavg()
    return results, noise


# ----------------------------------------------------------------------------------------------
# Report.

def metric_rows(args):
    """(label, result key, metric, higher is better) for every table row."""
    def group(depth):
        return (f"XREADGROUP+XACK, {args.consumers} consumers, COUNT {args.count}, {depth} "
                f"read{'s' if depth > 1 else ''} in flight")

    rows = []
    for p in args.pipelines:
        rows.append((f"XADD req/s -P {p}", f"XADD -P {p}", "rps", True))
    for p in args.pipelines:
        rows.append((f"XRANGE COUNT 100 req/s -P {p}", f"XRANGE -P {p}", "rps", True))
    for d in args.depths:
        rows.append((f"{group(d)}: entries/s", f"XREADGROUP x{d}", "rps", True))
    for p in args.pipelines:
        rows.append((f"XADD server CPU us/cmd -P {p}", f"XADD -P {p}", "cpu_us", False))
    for p in args.pipelines:
        rows.append((f"XRANGE server CPU us/cmd -P {p}", f"XRANGE -P {p}", "cpu_us", False))
    for d in args.depths:
        rows.append((f"{group(d)}: server CPU us/entry", f"XREADGROUP x{d}", "cpu_us", False))
    rows.append((f"bytes/entry (used_memory, {args.entries:,} entries)", "memory",
                 "used_per_entry", False))
    rows.append((f"bytes/entry (RSS, {args.entries:,} entries)", "memory", "rss_per_entry",
                 False))
    return rows


def build_table(results, args):
    table = []
    for label, key, metric, higher_better in metric_rows(args):
        if key not in results["Keyward"] or key not in results["Redis"]:
            continue
        kv = [r[metric] for r in results["Keyward"][key]]
        rv = [r[metric] for r in results["Redis"][key]]
        k, r = statistics.median(kv), statistics.median(rv)
        paired = statistics.median([a / b for a, b in zip(kv, rv) if b] or [float("nan")])
        spread = f"{cr.spread(kv):.0f}% / {cr.spread(rv):.0f}%" if len(kv) > 1 else "-"
        table.append((label, cr.fmt_num(k), cr.fmt_num(r), f"{k / r:.2f}" if r else "-",
                      f"{paired:.2f}", "higher" if higher_better else "lower", spread,
                      str(len(kv))))
    return table


def print_context(args, versions, results, noise, markdown):
    bullet = "- " if markdown else "  "
    runs = {name: [r for key, rs in results[name].items() if key != "memory" for r in rs]
            for name in SERVERS}
    others = [r["other_cores"] for name in SERVERS for r in runs[name]] or [0.0]
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']})",
        f"Redis:   {args.redis} ({versions['Redis']})",
    ]
    if os.path.realpath(args.keyward) == os.path.realpath(args.redis):
        lines.append("Both sides run the same binary: a self-check of the benchmark, every "
                     "ratio should be close to 1")
    lines += [
        f"redis-benchmark -c {args.clients}: XADD -n {args.requests} at -P 1, "
        f"-n {args.pipelined_requests} at -P > 1; XRANGE -n {args.range_requests} on a stream "
        f"of {args.range_fill:,} entries; XREADGROUP: {args.consumers} consumers "
        f"(each with {' or '.join(map(str, args.depths))} read(s) in flight) draining "
        f"{args.group_entries:,} entries; {args.rounds} round(s), order flipped each round, "
        f"median of rounds; servers on CPU {args.server_cpu}, clients on CPU {args.client_cpu}",
        "Keyward/Redis: ratio of the medians; Paired: median of the per-round ratios; "
        "Spread: (max - min) / median over the rounds, Keyward / Redis",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {statistics.mean(others):.2f} cores, "
        f"worst run {max(others):.2f} cores (of {os.cpu_count()}); waited {noise['waited_s']} s "
        f"for builds or load to end; {noise.get('retried', 0)} pair(s) measured again because "
        f"of other load",
    ]
    bench = [r["client_busy"] for name in SERVERS for key, rs in results[name].items()
             if key.startswith(("XADD", "XRANGE")) for r in rs]
    if bench:
        lines.append(f"redis-benchmark's busy fraction of its core: median "
                     f"{statistics.median(bench):.2f}, max {max(bench):.2f}")
    driver_bound = []
    for d in args.depths:
        key = f"XREADGROUP x{d}"
        if key not in results["Keyward"]:
            continue
        cells = []
        for name in SERVERS:
            rs = results[name][key]
            driver_bound += [r["client_busy"] for r in rs
                             if r["client_busy"] > DRIVER_SATURATED
                             and r["server_busy"] < DRIVER_SATURATED]
            cells.append(f"{name} server {statistics.median(r['server_busy'] for r in rs):.2f}"
                         f" / driver {statistics.median(r['client_busy'] for r in rs):.2f}")
        lines.append(f"XREADGROUP, {d} read(s) in flight: busy fractions (CPU time / wall "
                     f"time), medians: " + "; ".join(cells))
    if "memory" in results["Keyward"]:
        for name in SERVERS:
            m = results[name]["memory"][0]
            lines.append(f"{name} memory: used_memory {m['used_empty'] / 2**20:.1f} -> "
                         f"{m['used_loaded'] / 2**20:.1f} MiB, RSS {m['rss_empty'] / 2**20:.1f}"
                         f" -> {m['rss_loaded'] / 2**20:.1f} MiB; pipelined fill "
                         f"{m['fill_per_s']:,.0f} XADD/s")
    if statistics.mean(others) > cp.QUIET_CORES or noise.get("gave_up_waiting"):
        lines.append(f"WARNING: noisy run: other processes used more than {cp.QUIET_CORES} "
                     f"cores on average, or the machine never became quiet")
    if driver_bound:
        lines.append(f"WARNING: in {len(driver_bound)} XREADGROUP run(s) the driver used up to "
                     f"{max(driver_bound):.2f} of its core while the server used less than "
                     f"{DRIVER_SATURATED}: there the driver limited the rate (compare CPU per "
                     f"entry)")
    for line in lines:
        print(bullet + line)


SAVED_ARGS = ("keyward", "redis", "rounds", "requests", "pipelined_requests", "range_requests",
              "range_fill", "group_entries", "consumers", "count", "depths", "entries", "clients",
              "pipelines", "only", "server_cpu", "client_cpu")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=cr.DEFAULT_KEYWARD,
                   help="keyward-server (Release build); /usr/bin/redis-server for a self-check")
    p.add_argument("--redis", default=cr.DEFAULT_REDIS, help="redis-server")
    p.add_argument("--benchmark", default=cr.DEFAULT_BENCHMARK, help="redis-benchmark")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the table shows the median")
    p.add_argument("--requests", type=int, default=200000, help="XADD requests per run at -P 1")
    p.add_argument("--pipelined-requests", type=int, default=2000000,
                   help="XADD requests per run at -P > 1")
    p.add_argument("--range-requests", type=int, default=100000,
                   help="XRANGE requests per run (any depth)")
    p.add_argument("--range-fill", type=int, default=10000,
                   help="entries in the stream XRANGE reads (COUNT 100 from its start)")
    p.add_argument("--group-entries", type=int, default=1000000,
                   help="entries the consumer group drains per run")
    p.add_argument("--consumers", type=int, default=4)
    p.add_argument("--count", type=int, default=10, help="XREADGROUP COUNT")
    p.add_argument("--depths", default="1,4",
                   help="XREADGROUP commands each consumer keeps in flight: one row per value")
    p.add_argument("--entries", type=int, default=10000000,
                   help="entries for the bytes-per-entry measurement (0: skip it)")
    p.add_argument("--clients", type=int, default=50, help="redis-benchmark -c")
    p.add_argument("--pipelines", default="1,16", help="redis-benchmark -P values")
    p.add_argument("--only", default=",".join(WORKLOADS),
                   help="comma-separated, from: " + ", ".join(WORKLOADS))
    cp.add_quiet_arguments(p, "pair")
    cr.add_report_arguments(p, "smoke run: 1 round, short runs, 1,000,000 entries for memory")
    if p.parse_known_args(argv)[0].quick:
        # New defaults only: options given explicitly still win (--quick --entries 200000).
        p.set_defaults(rounds=1, requests=20000, pipelined_requests=200000, range_requests=20000,
                       group_entries=200000, entries=1000000)
    args = p.parse_args(argv)
    args.pipelines = [int(x) for x in args.pipelines.split(",")]
    args.only = [w.strip() for w in args.only.split(",") if w.strip()]
    for w in args.only:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r}")
    if not args.from_json:
        for b in (args.keyward, args.redis, args.benchmark):
            if not os.access(b, os.X_OK):
                p.error(f"{b} is not an executable (build keyward-server in Release first)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    args.depths = [int(x) for x in args.depths.split(",")]
    if args.consumers < 1 or args.count < 1 or min(args.depths) < 1:
        p.error("--consumers, --count and --depths must be at least 1")
    return args


def main(argv):
    return cr.side_by_side_main(parse_args(argv), SAVED_ARGS, measure, print_context, build_table)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
