#!/usr/bin/env python3
"""Side-by-side benchmark of keyward-server and Debian's redis-server, driven by redis-benchmark.

Both servers run with the same command line (no persistence, loopback, a free port, the DEBUG
command enabled), pinned to one core; redis-benchmark runs pinned to another core, so the client
does not steal the server's CPU. Every (command, pipeline depth) pair of the matrix is run against
Keyward and Redis back to back, for several rounds; the order within a pair flips every round
(K R, then R K, ...) so neither server always runs on a cache or a CPU frequency the other warmed.
The table reports the median over rounds, the ratio of the medians Keyward/Redis, and the
median of the per-round ratios ("paired", which a disturbance lasting longer than a run cancels
out of).

Measured, per (command, pipeline depth):
  - throughput: redis-benchmark's requests per second (--csv);
  - latency: p50 and p99 as redis-benchmark reports them (-P 1 only: with pipelining, the
    latency of a batch says little about the server);
  - server CPU per command: utime+stime of the server process (/proc/<pid>/stat, all threads)
    over the run, divided by the number of requests.
And once, on fresh processes:
  - bytes per key: VmRSS after DEBUG POPULATE <n> (keys key:N, values value:N) minus VmRSS of the
    empty server, divided by n.

The machine is shared: other processes running during a run steal CPU from the server or the
client. So the output also reports /proc/loadavg and, better, the CPU time used by processes
other than the server and redis-benchmark during each run (from /proc/stat), so that a noisy run
is visible next to its numbers.

Python 3 standard library only. Nothing is built here: pass the Release binary.
"""

import argparse
import ctypes
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_KEYWARD = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin",
                 "keyward-server"))
DEFAULT_REDIS = "/usr/bin/redis-server"
DEFAULT_BENCHMARK = "/usr/bin/redis-benchmark"

# Identical for both servers. Keyward rejects options it does not implement, so this list holds
# only what both accept.
COMMON_SERVER_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                      "--enable-debug-command", "yes"]

CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 20.0
# Mean CPU (in cores) used by other processes during the runs above which the output warns that
# the numbers were disturbed: the server and the client each need a whole core of the two.
NOISY_OTHER_CORES = 0.2
# redis-benchmark's default payload for SET and MSET (-d 3): the GET preload uses the same size.
PRELOAD_VALUE = b"xxx"


# ----------------------------------------------------------------------------------------------
# Processes and /proc.

def _die_with_parent():
    """preexec_fn: the child gets SIGTERM if this script dies, so no server outlives a crash."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name (field 2) may contain spaces; fields after it are split safely.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def proc_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def system_busy_ticks():
    """CPU ticks spent by all processes on all cores (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    return sum(values[:8]) - values[3] - values[4]


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0:3]


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# ----------------------------------------------------------------------------------------------
# A minimal RESP client: enough for PING, DEBUG POPULATE, DBSIZE and a pipelined preload.

class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self.read_reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def call(self, *args):
        self.sock.sendall(self.encode(*args))
        return self.read_reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self.read_reply() for _ in commands]


# ----------------------------------------------------------------------------------------------
# Servers.

class Server:
    def __init__(self, name, binary, cpu, workdir, extra_args=()):
        self.name = name
        self.binary = binary
        self.cpu = cpu
        self.workdir = workdir
        # After COMMON_SERVER_ARGS, so a later option wins (e.g. --appendonly yes).
        self.extra_args = list(extra_args)
        self.port = None
        self.proc = None
        self.log_path = None

    def start(self):
        self.port = free_port()
        self.log_path = os.path.join(self.workdir, f"{self.name.lower()}-{self.port}.log")
        cmd = ["taskset", "-c", str(self.cpu), self.binary, "--port", str(self.port)]
        cmd += COMMON_SERVER_ARGS + self.extra_args
        self.tls_port = None
        if "--tls-cert-file" in self.extra_args:
            self.tls_port = free_port()
            cmd += ["--tls-port", str(self.tls_port)]
        log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        log_file.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start:\n"
                                   + self.log_tail())
            try:
                c = Client(self.port)
                try:
                    if c.call("PING") == "PONG":
                        break
                except RuntimeError as e:  # -LOADING: a dataset is being loaded
                    if "LOADING" not in str(e):
                        raise
                finally:
                    c.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer PING:\n" + self.log_tail())
            time.sleep(0.05)
        return self

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self):
        return self.proc.pid

    def call(self, *args):
        c = Client(self.port)
        try:
            return c.call(*args)
        finally:
            c.close()


# ----------------------------------------------------------------------------------------------
# Measurements.

def settle():
    """Lets the allocator and the kernel finish their work before RSS is read."""
    time.sleep(0.5)


def measure_memory(name, binary, cpu, workdir, keys):
    srv = Server(name, binary, cpu, workdir).start()
    try:
        settle()
        empty = proc_rss_bytes(srv.pid)
        t0 = time.monotonic()
        srv.call("DEBUG", "POPULATE", keys)
        populate_s = time.monotonic() - t0
        size = int(srv.call("DBSIZE"))
        if size != keys:
            raise RuntimeError(f"{name}: DBSIZE is {size} after DEBUG POPULATE {keys}")
        settle()
        loaded = proc_rss_bytes(srv.pid)
    finally:
        srv.stop()
    return {"rss_empty": empty, "rss_loaded": loaded,
            "bytes_per_key": (loaded - empty) / keys, "populate_s": populate_s}


def preload(srv, keyspace):
    """SET key:%012d xxx for the whole keyspace: redis-benchmark's GET key:__rand_int__ then hits
    every time (redis-benchmark pads __rand_int__ to 12 digits; DEBUG POPULATE's key:N does not)."""
    c = Client(srv.port)
    try:
        batch = 10000
        for start in range(0, keyspace, batch):
            cmds = [(b"SET", b"key:%012d" % i, PRELOAD_VALUE)
                    for i in range(start, min(start + batch, keyspace))]
            for reply in c.pipeline(cmds):
                if reply != "OK":
                    raise RuntimeError(f"{srv.name}: preload SET replied {reply!r}")
        if c.call("GET", "key:%012d" % (keyspace - 1)) != PRELOAD_VALUE.decode():
            raise RuntimeError(f"{srv.name}: preload check failed")
    finally:
        c.close()


def parse_csv(text):
    """redis-benchmark --csv: a header line, then one line per test."""
    rows = []
    header = None
    for line in text.splitlines():
        cells = [c.strip('"') for c in line.strip().split('","')]
        if not line.startswith('"'):
            continue
        if header is None:
            header = cells
            continue
        rows.append(dict(zip(header, cells)))
    if not rows:
        raise RuntimeError("redis-benchmark printed no result:\n" + text)
    # The test's own row is the last: the LRANGE tests are preceded by the LPUSH that fills
    # their list ("LPUSH (needed to benchmark LRANGE)").
    return rows[-1]


def tls_server_args(args, workdir):
    """--tls: a CA and a server certificate made here, the TLS port on every server (plain
    clients not asked for a certificate), redis-benchmark told to use them."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl"] + list(a), cwd=workdir, check=True,
                                    capture_output=True)
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
        "/CN=bench CA")
    run("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(workdir, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf")
    args.tls_ca = os.path.join(workdir, "ca.crt")
    return ["--tls-cert-file", os.path.join(workdir, "server.crt"), "--tls-key-file",
            os.path.join(workdir, "server.key"), "--tls-ca-cert-file", args.tls_ca,
            "--tls-auth-clients", "no"]


def run_benchmark(args, srv, test, pipeline, requests):
    # With --tls, the load goes to the TLS port (the plain one serves the preload and checks).
    port = srv.tls_port if args.tls else srv.port
    cmd = ["taskset", "-c", str(args.client_cpu), args.benchmark, "-h", "127.0.0.1",
           "-p", str(port), "-c", str(args.clients), "-n", str(requests),
           "-r", str(args.keyspace), "-P", str(pipeline), "-t", test, "--csv"]
    if args.tls:
        cmd += ["--tls", "--cacert", args.tls_ca]
    if getattr(args, "user", None):
        cmd += ["--user", args.user, "-a", args.password]
    busy0 = system_busy_ticks()
    child0 = children_cpu_seconds()
    server0 = proc_cpu_ticks(srv.pid)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    server1 = proc_cpu_ticks(srv.pid)
    child1 = children_cpu_seconds()
    busy1 = system_busy_ticks()
    if out.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed on {srv.name}: {out.stderr}{out.stdout}")
    if srv.proc.poll() is not None:
        raise RuntimeError(f"{srv.name} died during {test}:\n" + srv.log_tail())
    row = parse_csv(out.stdout)
    server_s = (server1 - server0) / CLK_TCK
    client_s = child1 - child0
    # CPU used by everyone else while this run lasted, in cores: the noise indicator.
    other_s = max(0.0, (busy1 - busy0) / CLK_TCK - server_s - client_s)
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
        "cpu_us_per_cmd": server_s * 1e6 / requests,
        "server_cpu_s": server_s,
        "client_cpu_s": client_s,
        "other_cores": other_s / wall if wall > 0 else 0.0,
        "wall_s": wall,
    }


# ----------------------------------------------------------------------------------------------
# Report.

def metric_rows(tests, pipelines):
    """(label, (test, pipeline, key of a run result), higher is better) for every table row."""
    rows = []
    for p in pipelines:
        for t in tests:
            rows.append((f"{t.upper()} req/s -P {p}", (t, p, "rps"), True))
    for t in tests:
        rows.append((f"{t.upper()} p50 ms -P 1", (t, 1, "p50_ms"), False))
        rows.append((f"{t.upper()} p99 ms -P 1", (t, 1, "p99_ms"), False))
    for p in pipelines:
        for t in tests:
            rows.append((f"{t.upper()} server CPU us/cmd -P {p}", (t, p, "cpu_us_per_cmd"), False))
    return [r for r in rows if r[1][1] in pipelines]


def spread(values):
    """(max - min) / median, in percent: how much the rounds disagree."""
    m = statistics.median(values)
    return 100.0 * (max(values) - min(values)) / m if m else 0.0


def fmt_num(v):
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def build_table(results, memory, args):
    """The table's rows, as text (see HEADERS).

    Keyward/Redis is the ratio of the two medians. Paired is the median of the per-round ratios:
    the two runs of a round follow each other within seconds, so a disturbance that lasts longer
    than a run hits both and cancels out of their ratio, where it would move one median only.
    """
    table = []
    for label, (t, p, key), higher_better in metric_rows(args.tests, args.pipelines):
        pairs = list(zip(results["Keyward"][(t, p)], results["Redis"][(t, p)]))
        if args.max_other_cores is not None:
            pairs = [(k, r) for k, r in pairs
                     if max(k["other_cores"], r["other_cores"]) <= args.max_other_cores]
        if not pairs:
            table.append((label, "-", "-", "-", "-", "higher" if higher_better else "lower",
                          "-", "0"))
            continue
        kv = [k[key] for k, _ in pairs]
        rv = [r[key] for _, r in pairs]
        k, r = statistics.median(kv), statistics.median(rv)
        ratio = k / r if r else float("nan")
        paired = statistics.median([a / b for a, b in zip(kv, rv) if b])
        noise = f"{spread(kv):.0f}% / {spread(rv):.0f}%" if len(kv) > 1 else "-"
        table.append((label, fmt_num(k), fmt_num(r), f"{ratio:.2f}", f"{paired:.2f}",
                      "higher" if higher_better else "lower", noise, str(len(pairs))))
    if memory:
        k, r = memory["Keyward"]["bytes_per_key"], memory["Redis"]["bytes_per_key"]
        table.append((f"bytes/key (RSS, {args.memory_keys:,} keys)", f"{k:.1f}", f"{r:.1f}",
                      f"{k / r:.2f}", "-", "lower", "-", "1"))
    return table


HEADERS = ("Metric", "Keyward", "Redis", "Keyward/Redis", "Paired", "Better is",
           "Spread K / R", "Rounds")
LEFT_ALIGNED = (0, 5, 6)


def print_table(table, markdown, headers=HEADERS, left_aligned=LEFT_ALIGNED):
    """Text or Markdown; `headers` and the indexes of its `left_aligned` columns default to this
    script's table (compare_locks passes its own)."""
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" if i in left_aligned else "---:"
                             for i in range(len(headers))) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(widths[i]) if i in left_aligned else c.rjust(widths[i])
                         for i, c in enumerate(cells)).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print(line(row))


def version_of(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def print_context(args, versions, noise, memory, markdown):
    bullet = "- " if markdown else "  "
    lines = [
        f"Keyward: {args.keyward} ({versions['Keyward']})",
        f"Redis:   {args.redis} ({versions['Redis']})",
        f"Matrix: redis-benchmark -c {args.clients} -r {args.keyspace} -t "
        f"{','.join(args.tests)}; -n {args.requests} at -P 1, -n {args.pipelined_requests} at "
        f"-P > 1; {args.rounds} round(s), median of rounds; server on CPU {args.server_cpu}, "
        f"redis-benchmark on CPU {args.client_cpu}; {args.keyspace:,} keys preloaded for GET",
        "Keyward/Redis: ratio of the medians; Paired: median of the per-round ratios; "
        "Spread: (max - min) / median over the rounds, Keyward / Redis",
        f"Load average (1 5 15 min): at start {' '.join(noise['load_start'])}, at end "
        f"{' '.join(noise['load_end'])}, highest 1-min seen between rounds "
        f"{noise['load_max']:.2f}",
        f"CPU used by other processes during the runs: mean {noise['other_mean']:.2f} cores, "
        f"worst run {noise['other_max']:.2f} cores (of {os.cpu_count()})",
    ]
    if noise["other_mean"] > NOISY_OTHER_CORES:
        lines.append(f"WARNING: noisy run: other processes used more than {NOISY_OTHER_CORES} "
                     f"cores on average; latencies and throughput are not representative")
    if args.max_other_cores is not None:
        lines.append(f"Rounds in which other processes used more than {args.max_other_cores} "
                     f"cores during either server's run are left out (column Rounds)")
    if memory:
        for name in ("Keyward", "Redis"):
            m = memory[name]
            lines.append(f"{name} RSS: empty {m['rss_empty'] / 2**20:.1f} MiB, after DEBUG "
                         f"POPULATE {args.memory_keys:,} {m['rss_loaded'] / 2**20:.1f} MiB "
                         f"(populate took {m['populate_s']:.2f} s)")
    for l in lines:
        print(bullet + l)


# ----------------------------------------------------------------------------------------------

def measure_or_load(args, saved_args, measure):
    """--from-json FILE reloads a saved run (and the options named in saved_args); otherwise
    `measure(args)` runs, and --json FILE saves it. Returns (versions, results, noise), for the
    side-by-side scripts that share this layout (compare_pubsub, compare_scripting)."""
    if args.from_json:
        with open(args.from_json) as f:
            raw = json.load(f)
        for name in saved_args:
            setattr(args, name, raw["args"][name])
        return raw["versions"], raw["runs"], raw["noise"]
    versions = {"Keyward": version_of(args.keyward), "Redis": version_of(args.redis)}
    results, noise = measure(args)
    if args.json:
        raw = {"args": {name: getattr(args, name) for name in saved_args},
               "versions": versions, "noise": noise, "runs": results}
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    return versions, results, noise


def side_by_side_main(args, saved_args, measure, print_context, build_table, **table_options):
    """The main() of the side-by-side scripts (compare_pubsub, compare_scripting, compare_locks):
    measure (or reload with --from-json), print the context lines, then the table."""
    versions, results, noise = measure_or_load(args, saved_args, measure)
    print_context(args, versions, results, noise, args.markdown)
    print()
    print_table(build_table(results, args), args.markdown, **table_options)
    return 0


def add_report_arguments(p, quick_help):
    """The options every side-by-side script shares: output format, saved runs, smoke runs."""
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--json", metavar="FILE", help="also write every run's raw numbers here")
    p.add_argument("--from-json", metavar="FILE",
                   help="measure nothing: print the table of a run saved with --json")
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("-v", "--verbose", action="store_true", help="print every run as it finishes")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keyward", default=DEFAULT_KEYWARD, help="keyward-server (Release build)")
    p.add_argument("--redis", default=DEFAULT_REDIS, help="redis-server")
    p.add_argument("--benchmark", default=DEFAULT_BENCHMARK, help="redis-benchmark")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the table shows the median")
    p.add_argument("--requests", type=int, default=200000, help="requests per run at -P 1")
    p.add_argument("--pipelined-requests", type=int, default=2000000,
                   help="requests per run at -P > 1 (more, so each run lasts long enough for "
                        "the 10 ms CPU-time resolution of /proc)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=1000000, help="-r, and keys preloaded for GET")
    p.add_argument("--tests", default="set,get,incr,mset")
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--memory-keys", type=int, default=1000000,
                   help="keys for the bytes-per-key measurement (0: skip it)")
    p.add_argument("--server-args", default="",
                   help="more options for both servers, e.g. \"--maxmemory 64mb "
                        "--maxmemory-policy allkeys-lru\"")
    p.add_argument("--tls", action="store_true",
                   help="the load over TLS (both servers get a TLS port and a test certificate)")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--max-other-cores", type=float, metavar="CORES",
                   help="leave out of the table the rounds in which either server's run saw "
                        "other processes use more than CORES cores (the Rounds column counts "
                        "what is left)")
    add_report_arguments(p, "smoke run: defaults of 1 round, 20000/200000 requests, 100000 keys")
    if p.parse_known_args(argv)[0].quick:
        # New defaults only: options given explicitly still win (--quick --rounds 2).
        p.set_defaults(rounds=1, requests=20000, pipelined_requests=200000, keyspace=100000,
                       memory_keys=100000)
    args = p.parse_args(argv)
    args.tests = [t.strip().lower() for t in args.tests.split(",") if t.strip()]
    args.pipelines = [int(x) for x in args.pipelines.split(",")]
    for b in (args.keyward, args.redis, args.benchmark):
        if not args.from_json and not os.access(b, os.X_OK):
            p.error(f"{b} is not an executable (build keyward-server in Release first)")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def measure(args):
    """Runs everything; returns (results, memory, noise)."""
    workdir = tempfile.mkdtemp(prefix="keyward-bench-")
    binaries = {"Keyward": args.keyward, "Redis": args.redis}
    noise = {"load_start": loadavg(), "load_max": float(loadavg()[0])}
    log(f"load average at start: {' '.join(noise['load_start'])}")

    memory = None
    if args.memory_keys > 0:
        memory = {}
        for name, binary in binaries.items():
            log(f"memory: {name}, DEBUG POPULATE {args.memory_keys}")
            memory[name] = measure_memory(name, binary, args.server_cpu, workdir, args.memory_keys)

    extra = shlex.split(args.server_args)
    if args.tls:
        extra += tls_server_args(args, workdir)
    servers = {name: Server(name, b, args.server_cpu, workdir, extra)
               for name, b in binaries.items()}
    results = {name: {(t, p): [] for t in args.tests for p in args.pipelines} for name in servers}
    others = []
    try:
        for name, srv in servers.items():
            srv.start()
            log(f"{name}: pid {srv.pid}, port {srv.port}; preloading {args.keyspace} keys")
            preload(srv, args.keyspace)
        for rnd in range(args.rounds):
            order = ["Keyward", "Redis"] if rnd % 2 == 0 else ["Redis", "Keyward"]
            log(f"round {rnd + 1}/{args.rounds} (order {' '.join(order)}), "
                f"load {' '.join(loadavg())}")
            round_start = len(others)
            for p in args.pipelines:
                requests = args.requests if p == 1 else args.pipelined_requests
                for t in args.tests:
                    for name in order:
                        r = run_benchmark(args, servers[name], t, p, requests)
                        results[name][(t, p)].append(r)
                        others.append(r["other_cores"])
                        if args.verbose:
                            log(f"  {name:8} {t:5} -P {p:<3} {r['rps']:>12,.0f} req/s  "
                                f"p50 {r['p50_ms']:.3f} p99 {r['p99_ms']:.3f} ms  "
                                f"{r['cpu_us_per_cmd']:.3f} us/cmd  "
                                f"others {r['other_cores']:.2f} cores")
            noise["load_max"] = max(noise["load_max"], float(loadavg()[0]))
            log(f"  other processes used {statistics.mean(others[round_start:]):.2f} cores "
                f"on average during this round")
    finally:
        for srv in servers.values():
            srv.stop()
    # The server logs are only worth keeping when something failed (the exception path).
    shutil.rmtree(workdir, ignore_errors=True)
    noise["load_end"] = loadavg()
    noise["other_mean"] = statistics.mean(others) if others else 0.0
    noise["other_max"] = max(others) if others else 0.0
    return results, memory, noise


# What a saved run restores from its JSON: the description of the matrix that was measured.
# Presentation options (--markdown, --max-other-cores) come from the current command line.
SAVED_ARGS = ("keyward", "redis", "rounds", "requests", "pipelined_requests", "clients",
              "keyspace", "tests", "pipelines", "memory_keys", "server_cpu", "client_cpu")


def load_saved(args):
    with open(args.from_json) as f:
        raw = json.load(f)
    for name in SAVED_ARGS:
        setattr(args, name, raw["args"][name])
    results = {}
    for server, runs in raw["runs"].items():
        results[server] = {}
        for label, rounds in runs.items():
            test, pipeline = label.split(" -P ")
            results[server][(test, int(pipeline))] = rounds
    return results, raw["versions"], raw["memory"], raw["noise"]


def main(argv):
    args = parse_args(argv)
    if args.from_json:
        results, versions, memory, noise = load_saved(args)
    else:
        versions = {"Keyward": version_of(args.keyward), "Redis": version_of(args.redis)}
        results, memory, noise = measure(args)
        if args.json:
            raw = {
                "args": {name: getattr(args, name) for name in SAVED_ARGS},
                "versions": versions,
                "noise": noise,
                "memory": memory,
                "runs": {name: {f"{t} -P {p}": runs for (t, p), runs in res.items()}
                         for name, res in results.items()},
            }
            with open(args.json, "w") as f:
                json.dump(raw, f, indent=2)

    table = build_table(results, memory, args)
    print_context(args, versions, noise, memory, args.markdown)
    print()
    print_table(table, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
