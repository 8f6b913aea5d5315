"""Redis 7.0 multi-part AOF persistence over the network, checked against what Debian's
redis-server 7.0.15 does: the directory layout and the manifest's exact text, every type, TTL,
database and function library surviving a SIGKILL with `appendfsync always`, BGREWRITEAOF (its
replies, the new base and incremental files, the history removed, scheduling behind a BGSAVE, a
crash in the middle of a rewrite), `aof-use-rdb-preamble no`, directories going both ways between
the server under test and Redis (and passing redis-check-aof), what is written to the incremental
file command by command, truncated and corrupted files and manifests refused or repaired as Redis
does (with Redis's log lines), turning the AOF on and off at run time, INFO persistence, an AOF
directory taking precedence over dump.rdb, and a crash loop in which no acknowledged write and no
fencing token is ever lost.

Choosing the server under test: the environment variable AOF_SERVER, `keyward` (the default:
$KEYWARD_SERVER, else build-asan/bin/keyward-server) or `redis` (Debian's /usr/bin/redis-server,
the oracle every expectation here was taken from). Every test class runs against that one server
through `AofTestCase.start`; a subclass can set `server = "redis"` to pin the oracle. The interop
tests also start Redis as the peer (Redis -> Redis when Redis is under test).

    cd tests/integration
    PYTHONPATH=../support AOF_SERVER=redis /usr/bin/python3 -m unittest test_aof -v
    PYTHONPATH=../support KEYWARD_SERVER=../../build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest test_aof -v

The crash loop (class CrashLoop) runs AOF_CRASH_CYCLES cycles (default 20) with the RNG seeded by
AOF_CRASH_SEED (default 7); bench/crash_loop_aof.py runs the same loop (`crash_loop` below) for
longer. Class DamageAtManyOffsets runs Redis and the server under test side by side on copies of
one directory truncated or bit-flipped at offsets drawn with the RNG seeded by AOF_DAMAGE_SEED
(default 11; AOF_DAMAGE_VERBOSE=1 prints how many cases loaded and how many were refused). Slow rewrites rely on `rdb-key-save-delay` delaying a rewrite's base as it delays a
BGSAVE, as in Redis (the rewrite child writes the RDB preamble through the same code).

Nothing here sleeps to order events: tests poll observable state (INFO persistence, the files)
with wait_for. The only sleep is the crash loop's fault time, the random moment of the SIGKILL.
"""

import os
import random
import shutil
import signal
import subprocess
import threading
import time
import unittest

from keyward_harness import (READY_TIMEOUT, ConnectionClosed, RawClient, ServerTestCase, decode,
                             encode_command, make_workdir, start_keyward, start_redis, wait_for)

SERVER = os.environ.get("AOF_SERVER", "keyward")
if SERVER not in ("keyward", "redis"):
    raise ValueError("AOF_SERVER must be 'keyward' or 'redis', not %r" % SERVER)

CRASH_CYCLES = int(os.environ.get("AOF_CRASH_CYCLES", "20"))
CRASH_SEED = int(os.environ.get("AOF_CRASH_SEED", "7"))

REDIS_CHECK_AOF = "/usr/bin/redis-check-aof"
AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"
BASE1_RDB = "appendonly.aof.1.base.rdb"
INCR1 = "appendonly.aof.1.incr.aof"
LIBRARY = "#!lua name=mylib\nredis.register_function('answer', function() return 42 end)"
FAR_FUTURE_MS = 4102444800000  # 2100-01-01T00:00:00Z

# INFO persistence, field by field, as Redis 7.0.15 prints it (not loading). With the AOF on, six
# more fields follow module_fork_last_cow_size.
PERSISTENCE_FIELDS_AOF_OFF = [
    "loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age",
    "current_fork_perc", "current_save_keys_processed", "current_save_keys_total",
    "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
    "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
    "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded",
    "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
    "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status",
    "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_write_status",
    "aof_last_cow_size", "module_fork_in_progress", "module_fork_last_cow_size",
]
PERSISTENCE_FIELDS_AOF_ON = PERSISTENCE_FIELDS_AOF_OFF + [
    "aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length",
    "aof_pending_bio_fsync", "aof_delayed_fsync",
]

# Replies and log lines, byte for byte as Redis 7.0.15 sends and logs them.
REWRITE_STARTED = b"+Background append only file rewriting started\r\n"
REWRITE_SCHEDULED = b"+Background append only file rewriting scheduled\r\n"
REWRITE_IN_PROGRESS = b"-ERR Background append only file rewriting already in progress\r\n"
BGSAVE_DURING_REWRITE = (b"-ERR Another child process is active (AOF?): can't BGSAVE right now."
                         b" Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                         b"\r\n")
LOG_SHORT_READ = "!!! Warning: short read while loading the AOF file %s!!!"
LOG_TRUNCATING = "!!! Truncating the AOF %s at offset %d !!!"
LOG_LOADED_ANYWAY = "AOF %s loaded anyway because aof-load-truncated is enabled"
LOG_UNEXPECTED_EOF = (
    "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of your "
    "AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can "
    "set the 'aof-load-truncated' configuration option to yes and restart the server.")
LOG_REVERT_MULTI = "Revert incomplete MULTI/EXEC transaction in AOF file %s"
LOG_BAD_FORMAT = ("Bad file format reading the append only file %s: make a backup of your AOF "
                  "file, then use ./redis-check-aof --fix <filename.manifest>")
LOG_NOT_LAST = "Fatal error: the truncated file is not the last file"
LOG_MANIFEST_FATAL = "*** FATAL AOF MANIFEST FILE ERROR ***"

# Markers of a memory error (not a leak: a refused start exits from deep inside the loader).
MEMORY_ERROR_MARKERS = ("ERROR: AddressSanitizer", "runtime error:")


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def launch(kind, workdir, args, wait=True):
    """Starts `kind` ("keyward" or "redis") in `workdir` with redis-server style `args` after the
    harness's defaults (no save points; Redis's `--appendonly no`, which a later
    `--appendonly yes` overrides)."""
    starter = start_redis if kind == "redis" else start_keyward
    return starter([str(a) for a in args], workdir=workdir, wait=wait, name=kind)


def kill9(srv):
    """A crash: SIGKILL, nothing flushed by the server after the moment of the signal."""
    srv.signal(signal.SIGKILL)
    srv.wait_exit()


def aof_path(workdir, name="", dirname=AOF_DIR):
    return os.path.join(workdir, dirname, name)


def aof_files(workdir, dirname=AOF_DIR):
    d = os.path.join(workdir, dirname)
    return sorted(os.listdir(d)) if os.path.isdir(d) else None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def manifest_text(base=None, incrs=(), base_ext="rdb"):
    """The manifest Redis writes for base file `base` (seq) and incremental files `incrs`."""
    lines = []
    if base is not None:
        lines.append("file appendonly.aof.%d.base.%s seq %d type b\n" % (base, base_ext, base))
    for n in incrs:
        lines.append("file appendonly.aof.%d.incr.aof seq %d type i\n" % (n, n))
    return "".join(lines).encode()


def aof_commands(data):
    """The complete commands of an AOF file, in order, as (start offset, end offset, argv).
    Stops at the first incomplete command; skips Redis's `#TS:` annotation lines. Raises
    ValueError on bytes that are neither."""
    out = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            eol = data.find(b"\n", pos)
            if eol < 0:
                break
            pos = eol + 1
            continue
        if data[pos:pos + 1] != b"*":
            raise ValueError("no command at offset %d: %r" % (pos, data[pos:pos + 20]))
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            break
        p = eol + 2
        argv = []
        for _ in range(int(data[pos + 1:eol])):
            eol = data.find(b"\r\n", p)
            if eol < 0:
                break
            if data[p:p + 1] != b"$":
                raise ValueError("no bulk at offset %d: %r" % (p, data[p:p + 20]))
            end = eol + 2 + int(data[p + 1:eol])
            if end + 2 > len(data):
                break
            argv.append(data[eol + 2:end])
            p = end + 2
        else:
            out.append((pos, p, argv))
            pos = p
            continue
        break
    return out


def persistence_fields(c):
    """INFO persistence as an ordered list of (name, value)."""
    text = decode(c.call("INFO", "persistence")).decode()
    return [tuple(line.split(":", 1)) for line in text.splitlines()
            if line and not line.startswith("#")]


def info(c):
    return dict(persistence_fields(c))


def rewrite_idle(c):
    fields = info(c)
    return (fields["aof_rewrite_in_progress"] == "0" and fields["aof_rewrite_scheduled"] == "0"
            and fields["rdb_bgsave_in_progress"] == "0")


def wait_rewrite_done(c, timeout=60):
    wait_for(lambda: rewrite_idle(c), timeout=timeout, message="AOF rewrite finished")


def answers_pong(srv):
    """True once the server is up and has loaded its data (PING answered +PONG)."""
    try:
        with srv.client(timeout=2.0) as c:
            return c.call("PING") == b"+PONG\r\n"
    except (OSError, ConnectionClosed):
        return False


def wait_loaded(c):
    wait_for(lambda: c.call("PING") == b"+PONG\r\n", timeout=READY_TIMEOUT,
             message="the dataset loaded")


def check_aof(manifest_path):
    """redis-check-aof on a manifest: (exit code, output)."""
    proc = subprocess.run([REDIS_CHECK_AOF, manifest_path], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def populate(c):
    """Every type with and without a deadline, three databases, a function library, and keys
    that were changed and deleted on the way (so the file holds more than the final state)."""
    c.call("SET", "plain", "hello")
    c.call("APPEND", "plain", " world")
    c.call("SET", "number", "12345")
    c.call("INCRBY", "counter", "41")
    c.call("INCR", "counter")
    c.call("SET", "binary", bytes(range(256)))
    c.call("SET", "pxat", "v", "PXAT", str(FAR_FUTURE_MS))
    c.call("SET", "relative", "v", "EX", "100000")  # stored as an absolute deadline
    c.call("SET", "deleted", "x")
    c.call("DEL", "deleted")
    c.call("RPUSH", "list", "a", "1", "b")
    c.call("LPUSH", "list", "first")
    c.call("RPUSH", "biglist", *["element-%d" % i for i in range(1000)])
    c.call("LPOP", "biglist")
    c.call("HSET", "hash", "f1", "v1", "f2", "2", "gone", "x")
    c.call("HDEL", "hash", "gone")
    pairs = []
    for i in range(300):
        pairs += ["field-%d" % i, "value-%d" % i]
    c.call("HSET", "bighash", *pairs)
    c.call("EXPIRE", "bighash", "100000")
    c.call("SADD", "intset", "1", "2", "3", "-5")
    c.call("SADD", "set", "a", "b", "c", "d")
    c.call("SREM", "set", "d")
    c.call("SADD", "bigset", *["member-%d" % i for i in range(600)])
    c.call("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "low", "+inf", "high")
    c.call("ZINCRBY", "zset", "1.5", "a")
    scored = []
    for i in range(200):
        scored += [str(i * 1.25), "member-%d" % i]
    c.call("ZADD", "bigzset", *scored)
    c.call("PEXPIREAT", "bigzset", str(FAR_FUTURE_MS))
    c.call("PFADD", "hll", "a", "b", "c")
    c.call("SELECT", "3")
    c.call("SET", "in-db-3", "x", "PXAT", str(FAR_FUTURE_MS))
    c.call("RPUSH", "list-in-db-3", "x", "y")
    c.call("SELECT", "15")
    c.call("HSET", "hash-in-db-15", "f", "v")
    c.call("SELECT", "0")
    c.call("FUNCTION", "LOAD", LIBRARY)


def populate_more(c):
    """Writes after a rewrite, for the incremental file next to a base that has data."""
    c.call("SET", "after-rewrite", "1")
    c.call("RPUSH", "list", "after")
    c.call("SELECT", "3")
    c.call("DEL", "list-in-db-3")
    c.call("SET", "after-in-db-3", "1", "EX", "100000")
    c.call("SELECT", "0")


def snapshot(c):
    """Every key of every database: type, value (order-free types sorted) and exact deadline in
    ms, and the function libraries with their code. Read-only: nothing reaches the AOF."""
    out = {}
    for db in range(16):
        c.call("SELECT", str(db))
        for key in sorted(decode(c.call("KEYS", "*"))):
            kind = decode(c.call("TYPE", key))
            if kind == b"string":
                value = decode(c.call("GET", key))
            elif kind == b"list":
                value = decode(c.call("LRANGE", key, "0", "-1"))
            elif kind == b"hash":
                flat = decode(c.call("HGETALL", key))
                value = sorted(zip(flat[::2], flat[1::2]))
            elif kind == b"set":
                value = sorted(decode(c.call("SMEMBERS", key)))
            elif kind == b"zset":
                value = decode(c.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
            else:
                value = decode(c.call("DUMP", key))
            out[(db, key)] = (kind, value, decode(c.call("PEXPIRETIME", key)))
    c.call("SELECT", "0")
    out["functions"] = decode(c.call("FUNCTION", "LIST", "WITHCODE"))
    return out


# ---------------------------------------------------------------------------------------------
# Test base
# ---------------------------------------------------------------------------------------------


class AofTestCase(ServerTestCase):
    """`server` is the server under test ("keyward" or "redis"); `start` runs it."""

    server = SERVER

    def start(self, workdir, *args, kind=None):
        """Starts the server under test (or `kind`) with `--dir workdir` and `args`; stopped (and
        checked for sanitizer reports) when the test ends."""
        srv = launch(kind or self.server, workdir, ["--dir", workdir] + list(args))
        self.addCleanup(srv.stop)
        return srv

    def start_aof(self, workdir, *args, kind=None):
        """The server with the AOF on, `appendfsync always`: every reply follows its fsync."""
        return self.start(workdir, "--appendonly", "yes", "--appendfsync", "always", *args,
                          kind=kind)

    def client(self, srv):
        c = self.raw_client(srv)
        wait_loaded(c)
        return c

    def start_refused(self, workdir, *args, kind=None):
        """Starts the server expecting it to refuse: returns (exit code, everything it printed)
        once it exited. Fails if it answers PING with +PONG instead."""
        srv = launch(kind or self.server, workdir, ["--dir", workdir] + list(args), wait=False)
        self.addCleanup(srv.stop, check_sanitizer=False)
        # While it loads, a server answers PING with -LOADING: wait for +PONG or the exit.
        wait_for(lambda: not srv.alive() or answers_pong(srv), timeout=READY_TIMEOUT,
                 message="start-up or exit")
        if srv.alive():
            srv.stop(check_sanitizer=False)
            self.fail("the server started; expected it to refuse. Output:\n%s"
                      % srv.output()[-3000:])
        code = srv.wait_exit()
        out = srv.output()
        for marker in MEMORY_ERROR_MARKERS:
            self.assertNotIn(marker, out, "memory error while refusing:\n" + out[-6000:])
        return code, out

    def assert_refused(self, workdir, *log_lines, args=()):
        """The server does not start on this directory, exits with 1 as Redis does, and logs each
        of `log_lines`. Returns (output, files before, files after): most refusals must leave the
        files as they were, which the caller checks."""
        before = {n: read(aof_path(workdir, n)) for n in aof_files(workdir)}
        code, out = self.start_refused(workdir, "--appendonly", "yes", *args)
        self.assertEqual(code, 1, out[-3000:])
        for line in log_lines:
            self.assertIn(line, out)
        after = {n: read(aof_path(workdir, n)) for n in aof_files(workdir)}
        return out, before, after

    def assert_valid_aof(self, workdir, dirname=AOF_DIR, manifest=MANIFEST):
        code, out = check_aof(aof_path(workdir, manifest, dirname))
        self.assertEqual(code, 0, out)
        self.assertIn("All AOF files and manifest are valid", out)

    def written_aof(self, n=10):
        """A directory the server under test wrote: a fresh base and an incremental file with
        `SELECT 0` and `SET k<i> v<i>` for i < n; returns (workdir, incr bytes)."""
        wd = make_workdir()
        srv = self.start_aof(wd)
        c = self.client(srv)
        for i in range(n):
            self.assertEqual(c.call("SET", "k%d" % i, "v%d" % i), b"+OK\r\n")
        kill9(srv)
        incr = read(aof_path(wd, INCR1))
        cmds = aof_commands(incr)
        self.assertEqual(cmds[-1][1], len(incr), "the incremental file ends with a whole command")
        self.assertEqual([a.upper() for a in cmds[-1][2]], [b"SET", b"K%d" % (n - 1),
                                                            b"V%d" % (n - 1)])
        return wd, incr

    def keys(self, srv):
        return sorted(decode(self.client(srv).call("KEYS", "*")))


# ---------------------------------------------------------------------------------------------
# 1. Round trip, layout
# ---------------------------------------------------------------------------------------------


class RoundTrip(AofTestCase):
    def test_every_type_deadline_database_and_library_survive_sigkill(self):
        wd = make_workdir()
        srv = self.start_aof(wd, "--enable-debug-command", "yes")
        # A fresh directory: a base (an empty RDB) and an incremental file, named in the manifest.
        self.assertEqual(aof_files(wd), [BASE1_RDB, INCR1, MANIFEST])
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1]))
        self.assertTrue(read(aof_path(wd, BASE1_RDB)).startswith(b"REDIS0010"))
        self.assertEqual(read(aof_path(wd, INCR1)), b"")
        c = self.client(srv)
        # No active expiry: the short-lived key below stays stored, expired, until the restart.
        self.assertEqual(c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), b"+OK\r\n")
        populate(c)
        c.call("SET", "short-lived", "x", "PX", "200")
        c.call("SET", "marker", "x", "PX", "200")  # set after it: expires no sooner
        wait_for(lambda: decode(c.call("EXISTS", "marker")) == 0, message="marker expired")
        want = snapshot(c)
        self.assertNotIn((0, b"short-lived"), want)
        self.assertEqual(want[(0, b"pxat")][2], FAR_FUTURE_MS)
        self.assertEqual(len(want), 20)
        kill9(srv)
        self.assert_valid_aof(wd)

        srv = self.start_aof(wd)
        c = self.client(srv)
        # Every value and every deadline to the millisecond (a relative TTL replayed as relative
        # would have moved), the expired key stays gone, the library answers.
        self.assertEqual(snapshot(c), want)
        self.assertEqual(decode(c.call("EXISTS", "short-lived")), 0)
        self.assertEqual(decode(c.call("FCALL", "answer", "0")), 42)
        self.assertEqual(decode(c.call("PFCOUNT", "hll")), 3)
        # A restart reopens the same files: nothing new, the manifest untouched.
        self.assertEqual(aof_files(wd), [BASE1_RDB, INCR1, MANIFEST])
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1]))
        # Writes after the restart go on at the end of the same incremental file.
        size = os.path.getsize(aof_path(wd, INCR1))
        c.call("SET", "after-restart", "1")
        self.assertEqual(os.path.getsize(aof_path(wd, INCR1)),
                         size + len(encode_command("SET", "after-restart", "1")))
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(decode(self.client(srv).call("GET", "after-restart")), b"1")

    def test_custom_names_are_quoted_in_the_manifest_and_immutable(self):
        wd = make_workdir()
        srv = self.start_aof(wd, "--appenddirname", "my dir", "--appendfilename", "my file.aof")
        self.assertEqual(aof_files(wd, "my dir"), ["my file.aof.1.base.rdb",
                                                  "my file.aof.1.incr.aof",
                                                  "my file.aof.manifest"])
        self.assertEqual(read(aof_path(wd, "my file.aof.manifest", "my dir")),
                         b'file "my file.aof.1.base.rdb" seq 1 type b\n'
                         b'file "my file.aof.1.incr.aof" seq 1 type i\n')
        self.assertFalse(os.path.exists(aof_path(wd)))
        c = self.client(srv)
        c.call("SET", "k", "v")
        self.assertEqual(c.call("CONFIG", "SET", "appenddirname", "x"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'appenddirname')"
                         b" - can't set immutable config\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "appendfilename", "x"),
                         b"-ERR CONFIG SET failed (possibly related to argument "
                         b"'appendfilename') - can't set immutable config\r\n")
        kill9(srv)
        self.assert_valid_aof(wd, "my dir", "my file.aof.manifest")
        srv = self.start_aof(wd, "--appenddirname", "my dir", "--appendfilename", "my file.aof")
        self.assertEqual(decode(self.client(srv).call("GET", "k")), b"v")

    def test_timestamp_annotations_are_written_and_skipped_when_loading(self):
        wd = make_workdir()
        srv = self.start_aof(wd, "--aof-timestamp-enabled", "yes")
        c = self.client(srv)
        before = int(time.time())
        c.call("SET", "a", "1")
        c.call("SET", "b", "2")
        after = int(time.time()) + 1
        data = read(aof_path(wd, INCR1))
        self.assertTrue(data.startswith(b"#TS:"), data[:40])
        line, rest = data.split(b"\r\n", 1)
        self.assertTrue(before <= int(line[4:]) <= after, line)
        self.assertEqual([argv for _, _, argv in aof_commands(rest)],
                         [[b"SELECT", b"0"], [b"SET", b"a", b"1"], [b"SET", b"b", b"2"]])
        kill9(srv)
        self.assert_valid_aof(wd)
        srv = self.start_aof(wd)
        self.assertEqual(decode(self.client(srv).call("MGET", "a", "b")), [b"1", b"2"])

    def test_manifest_variants_redis_accepts_load(self):
        # Hand-edited manifests: CRLF line ends, a comment, fields in another order, quoted
        # names, no base file at all.
        wd, _ = self.written_aof(3)
        variants = {
            "crlf": manifest_text(1, [1]).replace(b"\n", b"\r\n"),
            "comment": b"# written by hand\n" + manifest_text(1, [1]),
            "reordered": (b"seq 1 type b file appendonly.aof.1.base.rdb\n"
                          b"type i seq 1 file appendonly.aof.1.incr.aof\n"),
            "quoted": (b'file "appendonly.aof.1.base.rdb" seq 1 type b\n'
                       b'file "appendonly.aof.1.incr.aof" seq 1 type i\n'),
            "incr only": manifest_text(None, [1]),
        }
        for name, text in variants.items():
            with self.subTest(name):
                d = make_workdir()
                shutil.copytree(aof_path(wd), aof_path(d))
                write(aof_path(d, MANIFEST), text)
                srv = self.start_aof(d)
                self.assertEqual(self.keys(srv), [b"k0", b"k1", b"k2"])
                srv.stop()


# ---------------------------------------------------------------------------------------------
# 2. BGREWRITEAOF
# ---------------------------------------------------------------------------------------------

SLOW_KEYS = 20
SLOW_KEY_DELAY_US = 50000  # 1 s for a whole rewrite or BGSAVE of SLOW_KEYS keys


class Rewrite(AofTestCase):
    def slow_server(self, wd, *args):
        """A server whose rewrites and BGSAVEs take about a second (rdb-key-save-delay), with
        SLOW_KEYS keys."""
        srv = self.start_aof(wd, "--rdb-key-save-delay", str(SLOW_KEY_DELAY_US), *args)
        c = self.client(srv)
        for i in range(SLOW_KEYS):
            c.call("SET", "key:%d" % i, "value-%d" % i)
        return srv, c

    def test_rewrite_makes_base_2_and_incr_2_and_removes_the_history(self):
        wd = make_workdir()
        srv = self.start_aof(wd)
        c = self.client(srv)
        populate(c)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2]))
        # History files are deleted in the background: wait for the directory to settle.
        want_files = ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
        wait_for(lambda: aof_files(wd) == want_files, message="history files removed")
        self.assertTrue(read(aof_path(wd, "appendonly.aof.2.base.rdb")).startswith(b"REDIS0010"))
        self.assertEqual(read(aof_path(wd, "appendonly.aof.2.incr.aof")), b"")
        fields = info(c)
        self.assertEqual((fields["aof_rewrites"], fields["aof_last_bgrewrite_status"],
                          fields["aof_rewrites_consecutive_failures"]), ("1", "ok", "0"))
        self.assertGreaterEqual(int(fields["aof_last_rewrite_time_sec"]), 0)
        populate_more(c)
        want = snapshot(c)
        kill9(srv)
        self.assert_valid_aof(wd)
        srv = self.start_aof(wd)
        self.assertEqual(snapshot(self.client(srv)), want)

    def test_second_rewrite_and_bgsave_during_a_rewrite_are_refused(self):
        wd = make_workdir()
        srv, c = self.slow_server(wd)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        fields = info(c)
        self.assertEqual((fields["aof_rewrite_in_progress"], fields["aof_rewrites"]), ("1", "1"))
        self.assertGreaterEqual(int(fields["aof_current_rewrite_time_sec"]), 0)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_IN_PROGRESS)
        self.assertEqual(c.call("BGSAVE"), BGSAVE_DURING_REWRITE)
        # The rewrite opened incremental file 2 first: writes made meanwhile are in the manifest.
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1, 2]))
        c.call("SET", "during", "1")
        self.assertEqual(read(aof_path(wd, "appendonly.aof.2.incr.aof")),
                         encode_command("SELECT", "0") + encode_command("SET", "during", "1"))
        self.assertEqual(info(c)["aof_rewrite_in_progress"], "1")
        c.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2]))
        fields = info(c)
        self.assertEqual((fields["aof_rewrites"], fields["aof_last_bgrewrite_status"],
                          fields["aof_current_rewrite_time_sec"]), ("1", "ok", "-1"))
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(len(self.keys(srv)), SLOW_KEYS + 1)

    def test_rewrite_asked_during_bgsave_is_scheduled_then_runs(self):
        wd = make_workdir()
        srv, c = self.slow_server(wd)
        self.assertEqual(c.call("BGSAVE"), b"+Background saving started\r\n")
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_SCHEDULED)
        fields = info(c)
        self.assertEqual((fields["rdb_bgsave_in_progress"], fields["aof_rewrite_in_progress"],
                          fields["aof_rewrite_scheduled"], fields["aof_pending_rewrite"],
                          fields["aof_rewrites"]), ("1", "0", "1", "1", "0"))
        # Asking again while it is scheduled is not an error.
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_SCHEDULED)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1]))
        c.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        wait_for(lambda: rewrite_idle(c) and info(c)["aof_rewrites"] == "1", timeout=60,
                 message="the scheduled rewrite ran")
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2]))
        fields = info(c)
        self.assertEqual((fields["rdb_last_bgsave_status"], fields["aof_last_bgrewrite_status"],
                          fields["aof_pending_rewrite"]), ("ok", "ok", "0"))

    def test_crash_during_a_rewrite_loses_nothing_and_the_next_base_takes_seq_2(self):
        wd = make_workdir()
        srv, c = self.slow_server(wd)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        c.call("SET", "during", "1")
        c.call("DEL", "key:0")
        self.assertEqual(info(c)["aof_rewrite_in_progress"], "1")
        kill9(srv)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1, 2]))
        srv = self.start_aof(wd)
        c = self.client(srv)
        keys = self.keys(srv)
        self.assertIn(b"during", keys)
        self.assertNotIn(b"key:0", keys)
        self.assertEqual(len(keys), SLOW_KEYS)
        # Base and incremental files are numbered apart: base 1 -> 2, incr 2 -> 3.
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)),
                         b"file appendonly.aof.2.base.rdb seq 2 type b\n"
                         b"file appendonly.aof.3.incr.aof seq 3 type i\n")
        wait_for(lambda: aof_files(wd) == ["appendonly.aof.2.base.rdb",
                                           "appendonly.aof.3.incr.aof", MANIFEST],
                 message="history files removed")
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), keys)

    def test_rewrite_with_the_aof_off_writes_a_base_only(self):
        wd = make_workdir()
        srv = self.start(wd)
        c = self.client(srv)
        populate(c)
        want = snapshot(c)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        wait_rewrite_done(c)
        self.assertEqual(aof_files(wd), [BASE1_RDB, MANIFEST])
        # Keyward marks a directory it is not appending to (writes after the rewrite are not in
        # it) with a pair Redis skips, so a start from it keeps the fencing boot floor.
        self.assertEqual(read(aof_path(wd, MANIFEST)), self.stale(manifest_text(1)))
        srv.stop()
        self.assert_valid_aof(wd)
        srv = self.start_aof(wd)
        self.assertEqual(snapshot(self.client(srv)), want)
        self.assertEqual(read(aof_path(wd, MANIFEST)), self.stale(manifest_text(1, [1])))

    def stale(self, manifest):
        if self.server != "keyward":
            return manifest
        first, rest = manifest.split(b"\n", 1)
        return first + b" keyward-stale 1\n" + rest

    def test_automatic_rewrite_when_the_file_grows_past_the_minimum(self):
        wd = make_workdir()
        srv = self.start_aof(wd, "--auto-aof-rewrite-min-size", "1kb",
                             "--auto-aof-rewrite-percentage", "100")
        c = self.client(srv)
        self.assertEqual(info(c)["aof_rewrites"], "0")
        for i in range(40):
            c.call("SET", "key:%d" % i, "x" * 30)
        wait_for(lambda: info(c)["aof_rewrites"] == "1" and rewrite_idle(c), timeout=60,
                 message="the automatic rewrite")
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2]))


# ---------------------------------------------------------------------------------------------
# 3. aof-use-rdb-preamble no
# ---------------------------------------------------------------------------------------------


class CommandBase(AofTestCase):
    def test_base_of_commands_round_trip(self):
        wd = make_workdir()
        srv = self.start_aof(wd, "--aof-use-rdb-preamble", "no")
        self.assertEqual(aof_files(wd), ["appendonly.aof.1.base.aof", INCR1, MANIFEST])
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1], base_ext="aof"))
        # An empty dataset: nothing but, on Keyward, the fencing floors in an annotation line that
        # Redis skips (docs/persistence.md).
        base = read(aof_path(wd, "appendonly.aof.1.base.aof"))
        if self.server == "keyward":
            self.assertRegex(base, rb"^#keyward-fence-floor:\d+ \d+\r\n$")
        else:
            self.assertEqual(base, b"")
        c = self.client(srv)
        populate(c)
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2], base_ext="aof"))
        wait_for(lambda: aof_files(wd) == ["appendonly.aof.2.base.aof",
                                           "appendonly.aof.2.incr.aof", MANIFEST],
                 message="history files removed")
        base = read(aof_path(wd, "appendonly.aof.2.base.aof"))
        cmds = aof_commands(base)
        self.assertEqual(cmds[-1][1], len(base), "the base is whole commands")
        # Libraries first, then the databases.
        self.assertEqual(cmds[0][2], [b"FUNCTION", b"LOAD", LIBRARY.encode()])
        self.assertEqual(cmds[1][2], [b"SELECT", b"0"])
        self.assertEqual(int(info(c)["aof_base_size"]), len(base))
        populate_more(c)
        want = snapshot(c)
        kill9(srv)
        self.assert_valid_aof(wd)
        srv = self.start_aof(wd, "--aof-use-rdb-preamble", "no")
        self.assertEqual(snapshot(self.client(srv)), want)
        srv.stop()
        # The base's kind comes from the file, not from the setting.
        srv = self.start_aof(wd, "--aof-use-rdb-preamble", "yes")
        self.assertEqual(snapshot(self.client(srv)), want)


# ---------------------------------------------------------------------------------------------
# 4. Interop with Redis 7.0.15 and redis-check-aof
# ---------------------------------------------------------------------------------------------


class Interop(AofTestCase):
    peer = "redis"

    def write_dir(self, kind, preamble, rewrite):
        wd = make_workdir()
        srv = self.start_aof(wd, "--aof-use-rdb-preamble", preamble, kind=kind)
        c = self.client(srv)
        populate(c)
        if rewrite:
            self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
            wait_rewrite_done(c)
            populate_more(c)
        want = snapshot(c)
        srv.stop()
        self.assert_valid_aof(wd)
        return wd, want

    def load_dir(self, kind, src):
        wd = make_workdir()
        shutil.copytree(aof_path(src), aof_path(wd))
        srv = self.start_aof(wd, kind=kind)
        c = self.client(srv)
        got = snapshot(c)
        self.assertEqual(decode(c.call("FCALL", "answer", "0")), 42)
        srv.stop()
        return got

    def both_ways(self, writer, reader):
        for preamble in ("yes", "no"):
            for rewrite in (False, True):
                with self.subTest(writer=writer, reader=reader, preamble=preamble,
                                  rewrite=rewrite):
                    src, want = self.write_dir(writer, preamble, rewrite)
                    self.assertEqual(self.load_dir(reader, src), want)

    def test_directory_written_by_redis_loads_into_the_server(self):
        self.both_ways(self.peer, self.server)

    def test_directory_written_by_the_server_loads_into_redis(self):
        self.both_ways(self.server, self.peer)


# ---------------------------------------------------------------------------------------------
# What the incremental file holds
# ---------------------------------------------------------------------------------------------


class IncrementalFormat(AofTestCase):
    def test_commands_are_logged_as_redis_logs_them(self):
        wd = make_workdir()
        srv = self.start_aof(wd)
        c = self.client(srv)

        def deadline(key):
            return str(decode(c.call("PEXPIRETIME", key)))

        want = [["SELECT", "0"]]
        c.call("set", "a", "1")  # as the client sent it
        want.append(["set", "a", "1"])
        c.call("SET", "b", "2", "EX", "100")  # relative deadlines become absolute
        want.append(["SET", "b", "2", "PXAT", deadline("b")])
        c.call("SETEX", "c", "100", "v")
        want.append(["SET", "c", "v", "PXAT", deadline("c")])
        c.call("PSETEX", "d", "100000", "v")
        want.append(["SET", "d", "v", "PXAT", deadline("d")])
        c.call("SET", "x", "1", "EX", "100", "GET")
        want.append(["SET", "x", "1", "PXAT", deadline("x")])
        c.call("EXPIRE", "a", "100")
        want.append(["PEXPIREAT", "a", deadline("a")])
        c.call("PEXPIRE", "a", "200000")
        want.append(["PEXPIREAT", "a", deadline("a")])
        c.call("EXPIREAT", "a", "4102444800")
        want.append(["PEXPIREAT", "a", str(FAR_FUTURE_MS)])
        c.call("GETEX", "b", "PX", "50000")
        want.append(["PEXPIREAT", "b", deadline("b")])
        c.call("INCRBYFLOAT", "n", "1.5")  # the result, not the increment
        want.append(["SET", "n", "1.5", "KEEPTTL"])
        c.call("HINCRBYFLOAT", "h", "f", "1.5")
        want.append(["HSET", "h", "f", "1.5"])
        c.call("SADD", "s", "x")
        c.call("SPOP", "s")
        want += [["SADD", "s", "x"], ["SREM", "s", "x"]]
        # Commands that change nothing are not logged.
        c.call("DEL", "missing")
        c.call("PERSIST", "n")
        c.call("SET", "a", "other", "NX")
        c.call("GET", "a")
        # SELECT only when a write lands in another database.
        c.call("SELECT", "2")
        c.call("SELECT", "2")
        c.call("SET", "e", "1")
        c.call("SET", "f", "1")
        want += [["SELECT", "2"], ["SET", "e", "1"], ["SET", "f", "1"]]
        # A script's or a transaction's effects: wrapped only when there are several.
        c.call("EVAL", "redis.call('set','g','1') return 1", "0")
        want.append(["set", "g", "1"])
        c.call("EVAL", "redis.call('set','g','2') redis.call('incr','h2') return 1", "0")
        want += [["MULTI"], ["set", "g", "2"], ["incr", "h2"], ["EXEC"]]
        c.call("multi")
        c.call("SET", "i", "1")
        c.call("exec")
        want.append(["SET", "i", "1"])
        c.call("MULTI")
        c.call("SET", "i", "2")
        c.call("INCR", "j")
        c.call("EXEC")
        want += [["MULTI"], ["SET", "i", "2"], ["INCR", "j"], ["EXEC"]]
        c.call("RPUSH", "L", "a", "b")
        c.call("BLPOP", "L", "0")  # what it did, not how it waited
        want += [["RPUSH", "L", "a", "b"], ["LPOP", "L"]]
        c.call("DEL", "e", "missing")
        want.append(["DEL", "e", "missing"])
        c.call("SELECT", "0")
        c.call("PEXPIREAT", "c", "1")  # a deadline in the past deletes
        want += [["SELECT", "0"], ["DEL", "c"]]
        c.call("FUNCTION", "LOAD", LIBRARY)
        want.append(["FUNCTION", "LOAD", LIBRARY])
        data = read(aof_path(wd, INCR1))
        got = [[a.decode() for a in argv] for _, _, argv in aof_commands(data)]
        self.assertEqual(got, want)
        self.assertEqual(data, b"".join(encode_command(*argv) for argv in want))


# ---------------------------------------------------------------------------------------------
# 5. Truncated and corrupted files, broken manifests
# ---------------------------------------------------------------------------------------------


class DamagedFiles(AofTestCase):
    def test_truncated_tail_is_cut_back_to_the_last_whole_command(self):
        wd, incr = self.written_aof(10)
        last = aof_commands(incr)[-1][0]
        write(aof_path(wd, INCR1), incr[:-3])
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), [b"k%d" % i for i in range(9)])
        self.assertEqual(os.path.getsize(aof_path(wd, INCR1)), last)
        out = srv.output()
        for line in (LOG_SHORT_READ % INCR1, LOG_TRUNCATING % (INCR1, last),
                     LOG_LOADED_ANYWAY % INCR1):
            self.assertIn(line, out)
        # What is appended next lands after the cut, and loads.
        self.client(srv).call("SET", "k9", "again")
        kill9(srv)
        self.assert_valid_aof(wd)
        srv = self.start_aof(wd)
        self.assertEqual(decode(self.client(srv).call("GET", "k9")), b"again")

    def test_truncated_tail_is_refused_with_aof_load_truncated_no(self):
        wd, incr = self.written_aof(10)
        write(aof_path(wd, INCR1), incr[:-3])
        _, before, after = self.assert_refused(wd, LOG_UNEXPECTED_EOF % INCR1,
                                               args=("--aof-load-truncated", "no"))
        self.assertEqual(after, before)

    def test_unfinished_multi_at_the_end_is_dropped(self):
        wd, incr = self.written_aof(10)
        tail = encode_command("MULTI") + encode_command("SET", "m", "1")
        write(aof_path(wd, INCR1), incr + tail)
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), [b"k%d" % i for i in range(10)])
        self.assertEqual(read(aof_path(wd, INCR1)), incr)
        out = srv.output()
        for line in (LOG_REVERT_MULTI % INCR1, LOG_TRUNCATING % (INCR1, len(incr)),
                     LOG_LOADED_ANYWAY % INCR1):
            self.assertIn(line, out)
        srv.stop()
        d = make_workdir()
        shutil.copytree(aof_path(wd), aof_path(d))
        write(aof_path(d, INCR1), incr + tail)
        self.assert_refused(d, LOG_REVERT_MULTI % INCR1, LOG_UNEXPECTED_EOF % INCR1,
                            args=("--aof-load-truncated", "no"))

    def test_torn_command_inside_an_unfinished_multi(self):
        wd, incr = self.written_aof(10)
        multi = encode_command("MULTI")
        write(aof_path(wd, INCR1), incr + multi + encode_command("SET", "m", "1")[:-2])
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), [b"k%d" % i for i in range(10)])
        c = self.client(srv)
        self.assertEqual(c.call("SET", "after", "1"), b"+OK\r\n")
        kill9(srv)
        srv = self.start_aof(wd)
        c = self.client(srv)
        if self.server == "redis":
            # Redis 7.0.15 cuts the file after the MULTI (the last whole command), so everything
            # appended after the restart sits inside that MULTI and is reverted at the next
            # load: an acknowledged, fsynced write is lost. Kept here to document the oracle;
            # Keyward must not copy it.
            self.assertEqual(decode(c.call("GET", "after")), None)
        else:
            self.assertEqual(decode(c.call("GET", "after")), b"1")
            self.assertEqual(read(aof_path(wd, INCR1)),
                             incr + encode_command("SELECT", "0")
                             + encode_command("SET", "after", "1"))

    def test_garbage_in_the_middle_is_refused(self):
        wd, incr = self.written_aof(10)
        cut = aof_commands(incr)[5][0]
        write(aof_path(wd, INCR1), incr[:cut] + b"$x\r\n" + incr[cut:])
        for args in ((), ("--aof-load-truncated", "no")):
            with self.subTest(args=args):
                _, before, after = self.assert_refused(wd, LOG_BAD_FORMAT % INCR1, args=args)
                self.assertEqual(after, before)

    def test_truncation_in_a_file_that_is_not_the_last_is_refused(self):
        wd, incr = self.written_aof(10)
        write(aof_path(wd, INCR1), incr[:-3])
        write(aof_path(wd, "appendonly.aof.2.incr.aof"),
              encode_command("SELECT", "0") + encode_command("SET", "second", "1"))
        write(aof_path(wd, MANIFEST), manifest_text(1, [1, 2]))
        self.assert_refused(wd, LOG_SHORT_READ % INCR1, LOG_NOT_LAST)
        # The same two files, whole, load.
        write(aof_path(wd, INCR1), incr)
        srv = self.start_aof(wd)
        self.assertEqual(len(self.keys(srv)), 11)

    def test_truncated_base_is_refused(self):
        wd, _ = self.written_aof(3)
        base = read(aof_path(wd, BASE1_RDB))
        write(aof_path(wd, BASE1_RDB), base[:-3])
        self.assert_refused(wd, "Short read or OOM loading DB. Unrecoverable error, aborting now.")

    def test_broken_manifests_are_refused_with_redis_messages(self):
        wd, _ = self.written_aof(3)
        good = read(aof_path(wd, MANIFEST))
        base_line = b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        cases = {
            "empty": (b"", ["Found an empty AOF manifest"]),
            "bad line": (good + b"hello world\n",
                         ["Reading the manifest file, at line 3", ">>> 'hello world'",
                          "Invalid AOF manifest file format"]),
            "no seq": (b"file appendonly.aof.1.base.rdb type b\n" + good.split(b"\n", 1)[1],
                       ["Reading the manifest file, at line 1",
                        "Invalid AOF manifest file format"]),
            "blank line": (base_line + b"\n" + good.split(b"\n", 1)[1],
                           ["Reading the manifest file, at line 2",
                            "Invalid AOF manifest file format"]),
            "duplicate base": (good + base_line,
                               ["Reading the manifest file, at line 3",
                                ">>> 'file appendonly.aof.1.base.rdb seq 1 type b'",
                                "Found duplicate base file information"]),
            "non-monotonic": (manifest_text(1, [2, 1]),
                              ["Reading the manifest file, at line 3",
                               ">>> 'file appendonly.aof.1.incr.aof seq 1 type i'",
                               "Found a non-monotonic sequence number"]),
            "repeated incr": (manifest_text(1, [1, 1]),
                              ["Found a non-monotonic sequence number"]),
            "unknown type": (good + b"file x seq 3 type z\n", ["Unknown AOF file type"]),
            "no final newline": (good.rstrip(b"\n"),
                                 ["The AOF manifest file contains too long line"]),
        }
        for name, (text, lines) in cases.items():
            with self.subTest(name):
                d = make_workdir()
                shutil.copytree(aof_path(wd), aof_path(d))
                write(aof_path(d, MANIFEST), text)
                _, before, after = self.assert_refused(d, LOG_MANIFEST_FATAL, *lines)
                self.assertEqual(after, before)

    def test_file_named_in_the_manifest_but_missing_is_refused(self):
        wd, _ = self.written_aof(3)
        os.unlink(aof_path(wd, INCR1))
        self.assert_refused(wd, "Unable to obtain the AOF file %s length. stat: No such file or "
                                "directory" % INCR1)


# ---------------------------------------------------------------------------------------------
# 6. CONFIG SET appendonly, appendfsync
# ---------------------------------------------------------------------------------------------


class RuntimeSwitch(AofTestCase):
    def test_config_set_appendonly_yes_writes_the_dataset_then_no_stops_appending(self):
        wd = make_workdir()
        srv = self.start(wd, "--appendfsync", "always")
        c = self.client(srv)
        populate(c)
        self.assertIsNone(aof_files(wd))
        self.assertEqual(c.call("CONFIG", "SET", "appendonly", "yes"), b"+OK\r\n")
        self.assertEqual(info(c)["aof_enabled"], "1")
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1]))
        self.assertEqual(aof_files(wd), [BASE1_RDB, INCR1, MANIFEST])
        fields = info(c)
        self.assertEqual((fields["aof_rewrites"], fields["aof_last_bgrewrite_status"]),
                         ("1", "ok"))
        base_size = os.path.getsize(aof_path(wd, BASE1_RDB))
        self.assertEqual((int(fields["aof_base_size"]), int(fields["aof_current_size"])),
                         (base_size, base_size))
        c.call("SET", "after-on", "1")
        want = snapshot(c)
        kill9(srv)

        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual(snapshot(c), want)
        self.assertEqual(c.call("CONFIG", "SET", "appendonly", "no"), b"+OK\r\n")
        size = os.path.getsize(aof_path(wd, INCR1))
        c.call("SET", "after-off", "1")
        self.assertEqual(os.path.getsize(aof_path(wd, INCR1)), size)
        self.assertEqual(info(c)["aof_enabled"], "0")
        self.assertEqual([name for name, _ in persistence_fields(c)], PERSISTENCE_FIELDS_AOF_OFF)
        kill9(srv)
        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual(decode(c.call("EXISTS", "after-on", "after-off")), 1)
        self.assertEqual(snapshot(c), want)

    def test_appendonly_yes_twice_makes_a_new_base(self):
        wd = make_workdir()
        srv = self.start(wd)
        c = self.client(srv)
        c.call("SET", "a", "1")
        c.call("CONFIG", "SET", "appendonly", "yes")
        wait_rewrite_done(c)
        c.call("CONFIG", "SET", "appendonly", "no")
        c.call("SET", "b", "1")
        self.assertEqual(c.call("CONFIG", "SET", "appendonly", "yes"), b"+OK\r\n")
        wait_rewrite_done(c)
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(2, [2]))
        wait_for(lambda: aof_files(wd) == ["appendonly.aof.2.base.rdb",
                                           "appendonly.aof.2.incr.aof", MANIFEST],
                 message="history files removed")
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), [b"a", b"b"])

    def test_aof_settings_defaults_and_errors(self):
        wd = make_workdir()
        srv = self.start(wd)
        c = self.client(srv)
        defaults = {
            "appendonly": b"no", "appenddirname": b"appendonlydir",
            "appendfilename": b"appendonly.aof", "appendfsync": b"everysec",
            "aof-use-rdb-preamble": b"yes", "aof-load-truncated": b"yes",
            "aof-timestamp-enabled": b"no", "auto-aof-rewrite-percentage": b"100",
            "auto-aof-rewrite-min-size": b"67108864",
        }
        for name, value in defaults.items():
            self.assertEqual(decode(c.call("CONFIG", "GET", name)), [name.encode(), value])
        for value in ("always", "no", "everysec"):
            self.assertEqual(c.call("CONFIG", "SET", "appendfsync", value), b"+OK\r\n")
            self.assertEqual(decode(c.call("CONFIG", "GET", "appendfsync"))[1], value.encode())
        self.assertEqual(c.call("CONFIG", "SET", "appendfsync", "sometimes"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - "
                         b"argument(s) must be one of the following: everysec, always, no\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "appendonly", "maybe"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - "
                         b"argument must be 'yes' or 'no'\r\n")


# ---------------------------------------------------------------------------------------------
# 7. INFO persistence
# ---------------------------------------------------------------------------------------------


class DebugLoadAof(AofTestCase):
    def test_debug_loadaof_reloads_what_the_files_hold(self):
        # The buffer is written, the dataset emptied and the directory replayed: a command added
        # to the INCR file behind the server's back shows up, and nothing else changes.
        wd = make_workdir()
        srv = self.start_aof(wd, "--enable-debug-command", "yes")
        c = self.client(srv)
        populate(c)
        want = snapshot(c)
        self.assertEqual(c.call("DEBUG", "LOADAOF"), b"+OK\r\n")
        self.assertEqual(snapshot(c), want)
        incr = aof_path(wd, INCR1)
        with open(incr, "ab") as f:
            f.write(encode_command("SELECT", "0") + encode_command("SET", "behind", "back"))
        self.assertEqual(c.call("DEBUG", "LOADAOF"), b"+OK\r\n")
        self.assertEqual(c.call("GET", "behind"), b"$4\r\nback\r\n")


class Info(AofTestCase):
    def test_fields_and_sizes_follow_the_files(self):
        wd = make_workdir()
        srv = self.start(wd)
        c = self.client(srv)
        self.assertEqual([name for name, _ in persistence_fields(c)], PERSISTENCE_FIELDS_AOF_OFF)
        srv.stop()

        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual([name for name, _ in persistence_fields(c)], PERSISTENCE_FIELDS_AOF_ON)
        fields = info(c)
        self.assertEqual({name: fields[name] for name in (
            "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
            "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures",
            "aof_last_write_status", "aof_last_cow_size", "module_fork_in_progress",
            "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync",
            "aof_delayed_fsync")},
            {"aof_enabled": "1", "aof_rewrite_in_progress": "0", "aof_rewrite_scheduled": "0",
             "aof_last_rewrite_time_sec": "-1", "aof_current_rewrite_time_sec": "-1",
             "aof_last_bgrewrite_status": "ok", "aof_rewrites": "0",
             "aof_rewrites_consecutive_failures": "0", "aof_last_write_status": "ok",
             "aof_last_cow_size": "0", "module_fork_in_progress": "0",
             "aof_pending_rewrite": "0", "aof_buffer_length": "0",
             "aof_pending_bio_fsync": "0", "aof_delayed_fsync": "0"})
        populate(c)

        def sizes():
            f = info(c)
            return int(f["aof_current_size"]), int(f["aof_base_size"])

        def on_disk(base_name, incr_name):
            base = os.path.getsize(aof_path(wd, base_name))
            return base + os.path.getsize(aof_path(wd, incr_name)), base

        # Base created at start-up: Redis counts only what it appended since (base size 0).
        self.assertEqual(sizes(), (os.path.getsize(aof_path(wd, INCR1)), 0))
        kill9(srv)
        # Loaded from disk: the sizes of the files.
        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual(sizes(), on_disk(BASE1_RDB, INCR1))
        populate_more(c)
        self.assertEqual(sizes(), on_disk(BASE1_RDB, INCR1))
        # After a rewrite: the new base, then what follows it.
        c.call("BGREWRITEAOF")
        wait_rewrite_done(c)
        self.assertEqual(sizes(), on_disk("appendonly.aof.2.base.rdb",
                                          "appendonly.aof.2.incr.aof"))
        c.call("SET", "more", "1")
        self.assertEqual(sizes(), on_disk("appendonly.aof.2.base.rdb",
                                          "appendonly.aof.2.incr.aof"))
        fields = info(c)
        self.assertEqual((fields["aof_rewrites"], fields["aof_last_bgrewrite_status"]),
                         ("1", "ok"))
        int(fields["aof_last_cow_size"])  # a number (the fork's copy-on-write in Redis)


# ---------------------------------------------------------------------------------------------
# 8. An AOF directory takes precedence over dump.rdb
# ---------------------------------------------------------------------------------------------


class RdbAndAof(AofTestCase):
    def test_appendonly_yes_without_an_aof_ignores_dump_rdb_and_starts_empty(self):
        wd = make_workdir()
        srv = self.start(wd)
        c = self.client(srv)
        c.call("SET", "from-rdb", "1")
        self.assertEqual(c.call("SAVE"), b"+OK\r\n")
        srv.stop()
        dump = read(os.path.join(wd, "dump.rdb"))
        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual(decode(c.call("DBSIZE")), 0)
        self.assertEqual(aof_files(wd), [BASE1_RDB, INCR1, MANIFEST])
        self.assertEqual(read(aof_path(wd, MANIFEST)), manifest_text(1, [1]))
        self.assertEqual(read(os.path.join(wd, "dump.rdb")), dump)
        c.call("SET", "from-aof", "1")
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(self.keys(srv), [b"from-aof"])
        srv.stop()
        # Without the AOF, the dump is what loads.
        srv = self.start(wd)
        self.assertEqual(self.keys(srv), [b"from-rdb"])


# ---------------------------------------------------------------------------------------------
# 9. Crash loop
# ---------------------------------------------------------------------------------------------

FENCE_RESOURCE = "fence:crash-loop"
FENCE_LIFT = 10 ** 12  # lifts the counter far above the boot floor, so a lost counter shows


class CrashLoopState:
    """What the writer sent and what the server acknowledged, across restarts."""

    def __init__(self):
        self.counter = 0          # INCR result acknowledged (or found after a restart)
        self.pushed = []          # list elements acknowledged (or found), in order
        self.strings = {}         # key -> value, SETs acknowledged (or found)
        self.sent_strings = set()
        self.next = 0             # index of the next round of writes
        self.inflight = None      # (what, payload): sent, not answered when the server died
        self.acknowledged = 0
        self.lost_writes = 0      # acknowledged writes found missing after a restart
        self.tokens = 0
        self.last_token = 0       # highest fencing token acknowledged
        self.lost = []
        self.phantom = []
        self.regressions = []
        self.errors = []


def _write_until_killed(port, st, fencing, stop):
    """The writer thread: rounds of INCR, SET, RPUSH (and a fenced LOCK.ACQUIRE + LOCK.RELEASE),
    recording each acknowledged reply, until the connection dies."""
    try:
        c = RawClient(port=port, timeout=30)
    except OSError:
        return
    try:
        while not stop.is_set():
            n = st.next
            st.next += 1
            st.inflight = ("incr", None)
            reply = decode(c.call("INCR", "counter"))
            if reply != st.counter + 1:
                st.errors.append("INCR answered %r after %d" % (reply, st.counter))
                return
            st.counter = reply
            st.acknowledged += 1
            key, value = "s:%d" % n, b"v%d" % n
            st.sent_strings.add(key.encode())
            st.inflight = ("set", key.encode(), value)
            reply = c.call("SET", key, value)
            if reply != b"+OK\r\n":
                st.errors.append("SET answered %r" % reply)
                return
            st.strings[key.encode()] = value
            st.acknowledged += 1
            element = b"e%d" % n
            st.inflight = ("rpush", element)
            reply = decode(c.call("RPUSH", "list", element))
            if reply != len(st.pushed) + 1:
                st.errors.append("RPUSH answered %r with %d acknowledged" % (reply,
                                                                              len(st.pushed)))
                return
            st.pushed.append(element)
            st.acknowledged += 1
            if fencing:
                owner = "w%d" % n
                st.inflight = ("fence", None)
                reply = decode(c.call("LOCK.ACQUIRE", FENCE_RESOURCE, owner, "60000", "FENCE"))
                if not isinstance(reply, list) or reply[0] != 1:
                    st.errors.append("LOCK.ACQUIRE answered %r" % (reply,))
                    return
                token = reply[1]
                st.tokens += 1
                st.acknowledged += 1
                if token <= st.last_token:
                    st.regressions.append("token %d issued after %d" % (token, st.last_token))
                st.last_token = max(st.last_token, token)
                st.inflight = ("release", None)
                reply = c.call("LOCK.RELEASE", FENCE_RESOURCE, owner)
                if reply != b":1\r\n":
                    st.errors.append("LOCK.RELEASE answered %r" % reply)
                    return
            st.inflight = None
    except (ConnectionClosed, OSError):
        return
    finally:
        c.close()


def _check_after_restart(c, st):
    """Compares the restarted server's data with what was acknowledged and sent; then takes the
    server's data as the truth (the in-flight write either happened or not)."""
    what = st.inflight[0] if st.inflight else None
    raw = decode(c.call("GET", "counter"))
    value = int(raw) if raw is not None else 0
    if value < st.counter:
        st.lost_writes += st.counter - value
        st.lost.append("counter is %d, %d was acknowledged" % (value, st.counter))
    elif value > st.counter + (1 if what == "incr" else 0):
        st.phantom.append("counter is %d, %d was acknowledged" % (value, st.counter))
    st.counter = value

    items = decode(c.call("LRANGE", "list", "0", "-1"))
    n = len(st.pushed)
    if items[:n] != st.pushed:
        present = set(items)
        missing = [e for e in st.pushed if e not in present]
        st.lost_writes += max(len(missing), 1)
        st.lost.append("list: %d acknowledged elements missing or out of order (first %r)"
                       % (len(missing), missing[:5]))
    extra = items[n:]
    if extra and extra != ([st.inflight[1]] if what == "rpush" else []):
        st.phantom.append("list: elements never acknowledged %r" % extra[:5])
    st.pushed = items

    present = set(decode(c.call("KEYS", "s:*")))
    never_sent = present - st.sent_strings
    if never_sent:
        st.phantom.append("keys never sent: %r" % sorted(never_sent)[:5])
    acked = sorted(st.strings)
    for i in range(0, len(acked), 1000):
        chunk = acked[i:i + 1000]
        for key, got in zip(chunk, decode(c.call("MGET", *chunk))):
            if got != st.strings[key]:
                st.lost_writes += 1
                st.lost.append("%s is %r, %r was acknowledged" % (key.decode(), got,
                                                                  st.strings[key]))
    if what == "set" and st.inflight[1] in present:
        st.strings[st.inflight[1]] = decode(c.call("GET", st.inflight[1]))
    st.inflight = None


def crash_loop(kind, cycles, seed, delay=(0.02, 0.4), rewrite_chance=0.25, log=None):
    """Runs `cycles` rounds of: start `kind` with `appendfsync always` on one directory, check
    that everything acknowledged before the last SIGKILL is there, write from a thread, SIGKILL
    at a random moment (sometimes during a BGREWRITEAOF). Returns a dict: cycles, acknowledged,
    lost_writes (acknowledged writes missing after a restart), tokens (fencing tokens issued),
    lost, phantom, token_regressions, errors (lists of descriptions, empty when all is well),
    check_aof ("valid" or redis-check-aof's output on the final directory), workdir."""
    rng = random.Random(seed)
    fencing = kind == "keyward"
    wd = make_workdir(prefix="aof-crash-loop-")
    args = ["--dir", wd, "--appendonly", "yes", "--appendfsync", "always"]
    st = CrashLoopState()
    done = 0
    srv = None
    try:
        for cycle in range(cycles + 1):
            srv = launch(kind, wd, args)
            c = srv.client(timeout=30)
            wait_loaded(c)
            _check_after_restart(c, st)
            if fencing:
                c.call("DEL", FENCE_RESOURCE)  # a lock the killed writer held
                if cycle == 0:
                    reply = decode(c.call("LOCK.ACQUIRE", FENCE_RESOURCE, "setup", "60000"))
                    lifted = reply[1] + FENCE_LIFT
                    if decode(c.call("LOCK.FENCE", FENCE_RESOURCE, "setup", str(lifted))) != 1:
                        st.errors.append("LOCK.FENCE did not count the lifted token")
                    c.call("LOCK.RELEASE", FENCE_RESOURCE, "setup")
                    st.last_token = lifted
            if cycle == cycles:
                c.close()
                break
            if rng.random() < rewrite_chance:
                reply = c.call("BGREWRITEAOF")
                if reply not in (REWRITE_STARTED, REWRITE_SCHEDULED):
                    st.errors.append("BGREWRITEAOF answered %r" % reply)
            c.close()
            stop = threading.Event()
            writer = threading.Thread(target=_write_until_killed, args=(srv.port, st, fencing,
                                                                        stop))
            writer.start()
            time.sleep(rng.uniform(*delay))  # the fault time, not an ordering wait
            kill9(srv)
            stop.set()
            writer.join(60)
            srv.stop()  # already dead: only checks its output for sanitizer reports
            done += 1
            if log:
                log("cycle %d: %d acknowledged so far, counter %d" % (cycle + 1, st.acknowledged,
                                                                     st.counter))
            if st.errors:
                break
        srv.stop()
        code, out = check_aof(os.path.join(wd, AOF_DIR, MANIFEST))
        verdict = "valid" if code == 0 and "All AOF files and manifest are valid" in out else out
    finally:
        if srv is not None:
            srv.stop(check_sanitizer=False)
    return {"cycles": done, "acknowledged": st.acknowledged, "lost_writes": st.lost_writes,
            "tokens": st.tokens,
            "lost": st.lost, "phantom": st.phantom, "token_regressions": st.regressions,
            "errors": st.errors, "check_aof": verdict, "workdir": wd}


class CrashLoop(AofTestCase):
    def test_no_acknowledged_write_or_token_is_lost_across_sigkills(self):
        result = crash_loop(self.server, CRASH_CYCLES, CRASH_SEED)
        context = "seed %d, workdir %s" % (CRASH_SEED, result["workdir"])
        self.assertEqual(result["errors"], [], context)
        self.assertEqual(result["lost"], [], context)
        self.assertEqual(result["phantom"], [], context)
        self.assertEqual(result["token_regressions"], [], context)
        self.assertEqual(result["check_aof"], "valid", context)
        self.assertEqual(result["cycles"], CRASH_CYCLES)
        self.assertGreater(result["acknowledged"], 0)
        if self.server == "keyward":
            self.assertGreater(result["tokens"], 0)



# ---------------------------------------------------------------------------------------------
# 10. Damage at many offsets, against Redis 7.0.15
# ---------------------------------------------------------------------------------------------

DAMAGE_SEED = int(os.environ.get("AOF_DAMAGE_SEED", "11"))
DAMAGE_INCR_OFFSETS = 40
DAMAGE_BASE_OFFSETS = 20
BASE2_RDB = "appendonly.aof.2.base.rdb"
INCR2 = "appendonly.aof.2.incr.aof"


def spread_offsets(rng, size, count):
    """`count` offsets in [0, size), one drawn at random in each of `count` equal slices, so
    that they cover the whole file."""
    out = []
    for i in range(count):
        lo, hi = size * i // count, size * (i + 1) // count
        if hi > lo:
            out.append(rng.randrange(lo, hi))
    return out


class DamageOutcome:
    """What one server did with a damaged directory: refused (exit code and log), or loaded
    (the dataset, and the size the incremental file was cut back to)."""

    def __init__(self, kind, refused, code=None, log="", dataset=None, incr_size=None):
        self.kind = kind
        self.refused = refused
        self.code = code
        self.log = log
        self.dataset = dataset
        self.incr_size = incr_size

    def describe(self):
        if self.refused:
            lines = [l for l in self.log.splitlines() if l.strip()]
            return "%s refused (exit %s): %s" % (self.kind, self.code, lines[-3:])
        return "%s loaded %d keys, incr file cut to %d" % (self.kind, len(self.dataset) - 1,
                                                           self.incr_size)


class DamageAtManyOffsets(AofTestCase):
    """The issue's "a truncated or bit-flipped file at many offsets: loads what Redis would, or
    refuses clearly". One directory written by Redis (an RDB base with data, then an incremental
    file with strings, a list, a hash, a MULTI/EXEC and two databases); at DAMAGE_INCR_OFFSETS
    offsets of the incremental file and DAMAGE_BASE_OFFSETS of the base (one random offset in
    each equal slice, RNG seeded with AOF_DAMAGE_SEED) the file is cut there, or has one random
    bit flipped there. Redis and the server under test each start on their own copy, one after
    the other: both must refuse, or both load the same dataset (every key's type, value and
    deadline, in every database) and cut the incremental file at the same offset.

    The one difference allowed is the documented one (DamagedFiles.
    test_torn_command_inside_an_unfinished_multi): when the damage tears a command inside a
    MULTI that has no EXEC, Redis cuts the file after the last whole command, inside the
    transaction, while Keyward cuts before the MULTI. The datasets must still be equal; the
    different cut is accepted only after checking that it is that case."""

    oracle = "redis"

    def write_source(self):
        wd = make_workdir(prefix="aof-damage-src-")
        srv = self.start_aof(wd, kind=self.oracle)
        c = self.client(srv)
        # In the base (an RDB, after the rewrite).
        c.call("SET", "string", "base value")
        c.call("SET", "deadline", "v", "PXAT", str(FAR_FUTURE_MS))
        c.call("RPUSH", "list", "a", "b", "c")
        c.call("HSET", "hash", "f1", "v1", "f2", "v2")
        c.call("SADD", "set", "x", "y")
        c.call("ZADD", "zset", "1", "one", "2", "two")
        c.call("SELECT", "1")
        c.call("SET", "db1-string", "in db 1")
        c.call("SELECT", "0")
        self.assertEqual(c.call("BGREWRITEAOF"), REWRITE_STARTED)
        wait_rewrite_done(c)
        wait_for(lambda: aof_files(wd) == [BASE2_RDB, INCR2, MANIFEST],
                 message="history files removed")
        # In the incremental file.
        c.call("SET", "counter", "10")
        c.call("INCRBY", "counter", "5")
        c.call("APPEND", "string", " and more")
        c.call("SET", "relative", "v", "EX", "100000")  # logged with an absolute PXAT
        c.call("RPUSH", "list", "d", "e")
        c.call("LPOP", "list")
        c.call("HSET", "hash", "f3", "v3")
        c.call("HDEL", "hash", "f1")
        self.assertEqual(c.call("MULTI"), b"+OK\r\n")
        c.call("SET", "in-multi", "1")
        c.call("INCR", "counter")
        c.call("RPUSH", "list", "from-multi")
        self.assertEqual(decode(c.call("EXEC")), [b"OK", 16, 5])
        c.call("SELECT", "1")
        c.call("SET", "db1-more", "x" * 1030)  # longer than a line buffer
        c.call("DEL", "db1-string")
        c.call("SELECT", "0")
        c.call("SADD", "set", "z")
        c.call("SET", "last", "end")
        kill9(srv)
        self.assert_valid_aof(wd)
        return wd

    def outcome(self, kind, src, damaged_name, damaged):
        """Starts `kind` on a copy of `src` whose file `damaged_name` holds `damaged`."""
        wd = make_workdir(prefix="aof-damage-")
        shutil.copytree(aof_path(src), aof_path(wd))
        write(aof_path(wd, damaged_name), damaged)
        srv = launch(kind, wd, ["--dir", wd, "--appendonly", "yes"], wait=False)
        try:
            # While it loads, a server answers PING with -LOADING: wait for +PONG or the exit.
            wait_for(lambda: not srv.alive() or answers_pong(srv), timeout=READY_TIMEOUT,
                     message="%s: start-up or exit" % kind)
            if not srv.alive():
                code = srv.wait_exit()
                out = srv.output()
                # A refused start exits from inside the loader: leaks are expected, not errors.
                for marker in MEMORY_ERROR_MARKERS:
                    self.assertNotIn(marker, out, "memory error while refusing:\n" + out[-6000:])
                return DamageOutcome(kind, True, code=code, log=out)
            c = srv.client()
            try:
                dataset = snapshot(c)
            finally:
                c.close()
            incr_size = os.path.getsize(aof_path(wd, INCR2))
            srv.stop()  # and checked for sanitizer reports
            return DamageOutcome(kind, False, dataset=dataset, incr_size=incr_size)
        finally:
            srv.stop(check_sanitizer=False)
            shutil.rmtree(wd, ignore_errors=True)

    def assert_torn_multi_rule(self, damaged, redis, server, context):
        """The one accepted difference: Redis kept whole commands of an unfinished MULTI (its cut
        is inside the transaction, before a torn command), the server under test cut before that
        MULTI. The datasets are equal all the same (neither applied the transaction)."""
        self.assertEqual(server.dataset, redis.dataset, context)
        self.assertLess(server.incr_size, redis.incr_size, context)
        kept = aof_commands(damaged[server.incr_size:redis.incr_size])
        self.assertTrue(kept, context)
        self.assertEqual(kept[-1][1], redis.incr_size - server.incr_size,
                         "Redis cut on a command boundary: " + context)
        names = [argv[0].upper() for _, _, argv in kept]
        self.assertEqual(names[0], b"MULTI", "cut right before a MULTI: " + context)
        self.assertNotIn(b"EXEC", names, "the MULTI Redis cut inside has no EXEC: " + context)
        self.assertGreater(len(damaged), redis.incr_size, "a torn command follows: " + context)

    def test_truncated_or_flipped_at_many_offsets_loads_what_redis_loads_or_both_refuse(self):
        src = self.write_source()
        files = {name: read(aof_path(src, name)) for name in (INCR2, BASE2_RDB)}
        self.assertTrue(files[BASE2_RDB].startswith(b"REDIS0010"))
        aof_commands(files[INCR2])  # the whole file parses
        rng = random.Random(DAMAGE_SEED)
        cases = []
        for name, count in ((INCR2, DAMAGE_INCR_OFFSETS), (BASE2_RDB, DAMAGE_BASE_OFFSETS)):
            data = files[name]
            for offset in spread_offsets(rng, len(data), count):
                bit = rng.randrange(8)
                flipped = data[:offset] + bytes([data[offset] ^ (1 << bit)]) + data[offset + 1:]
                cases.append((name, offset, "truncated", data[:offset]))
                cases.append((name, offset, "bit %d flipped" % bit, flipped))
        self.assertGreaterEqual(len(cases), 2 * (DAMAGE_INCR_OFFSETS + DAMAGE_BASE_OFFSETS) - 4)

        tally = {"both refused": 0, "both loaded": 0, "torn MULTI rule": 0}
        for name, offset, damage, damaged in cases:
            with self.subTest(file=name, offset=offset, damage=damage, seed=DAMAGE_SEED):
                # One server at a time: the oracle, then the server under test.
                redis = self.outcome(self.oracle, src, name, damaged)
                server = self.outcome(self.server, src, name, damaged)
                context = "%s %s at %d: %s; %s" % (name, damage, offset, redis.describe(),
                                                   server.describe())
                if server.refused:
                    # Refusing clearly: Redis's exit code, no crash (Redis itself, as the oracle,
                    # dies of a segfault on some: a bulk length of -1, for one).
                    if self.server == "keyward":
                        self.assertEqual(server.code, 1, context)
                    self.assertEqual(redis.refused, True, context)
                    tally["both refused"] += 1
                    continue
                self.assertEqual(redis.refused, False, context)
                self.assertEqual(server.dataset, redis.dataset, context)
                if server.incr_size != redis.incr_size:
                    self.assertEqual(name, INCR2, context)
                    self.assert_torn_multi_rule(damaged, redis, server, context)
                    tally["torn MULTI rule"] += 1
                else:
                    tally["both loaded"] += 1
        # Both kinds of outcome were exercised (a seed that only ever refused would prove little).
        self.assertGreater(tally["both refused"], 0, tally)
        self.assertGreater(tally["both loaded"], 0, tally)
        if os.environ.get("AOF_DAMAGE_VERBOSE"):
            print("\n%d cases, seed %d: %r" % (len(cases), DAMAGE_SEED, tally))


if __name__ == "__main__":
    unittest.main()
