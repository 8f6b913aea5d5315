"""Starts Keyward and Debian's redis-server for the over-the-network tests, and talks raw RESP.

Everything here is Python 3 standard library; redis-py (Debian's python3-redis) is only imported
on demand by `ServerProcess.redis_py()`.

Servers:
  start_keyward(extra_args) runs $KEYWARD_SERVER (default: the ASan build of keyward-server).
  start_redis(extra_args) runs /usr/bin/redis-server with persistence switched off.
Both pick a free port by binding port 0 first (never 6379), run in a private temporary directory,
wait until the server answers PING (polling against a deadline), and are stopped with SIGTERM,
then SIGKILL if they do not exit in time: by `stop()`, by the context manager, by a unittest
cleanup (`srv.stop` registered with addCleanup), and, as a last resort, at interpreter exit and
when the test process itself dies (PR_SET_PDEATHSIG), so a failing test never leaks a server.

Raw client:
  RawClient(port=...) / RawClient(unix=...) sends bytes and reads exactly one complete reply as
  the raw bytes the server sent (RESP2 and RESP3 types, attributes included), so tests compare
  replies byte for byte.
"""

import atexit
import ctypes
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

KEYWARD_DEFAULT = "/work/main/build-asan/bin/keyward-server"
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
REDIS_BENCHMARK = "/usr/bin/redis-benchmark"

# A sanitizer build starts and answers much more slowly than a release build: be generous.
READY_TIMEOUT = float(os.environ.get("KEYWARD_READY_TIMEOUT", "30"))
STOP_TIMEOUT = float(os.environ.get("KEYWARD_STOP_TIMEOUT", "15"))

# Markers of a sanitizer report in the server's output. A server that printed one has a memory
# or undefined-behaviour bug even if every reply was right.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",  # UndefinedBehaviorSanitizer
)

_live_servers = set()
_workdirs = []  # temporary directories this process created, removed at exit


def keyward_binary():
    return os.environ.get("KEYWARD_SERVER") or KEYWARD_DEFAULT


def free_port(host="127.0.0.1"):
    """A port nobody listens on right now: the kernel's choice for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(condition, timeout=10.0, interval=0.01, message="condition"):
    """Polls `condition()` until it returns a truthy value, which is returned. Raises
    AssertionError with `message` after `timeout` seconds. This is the only way tests wait."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


def _set_parent_death_signal():
    # Runs in the child between fork and exec: if the test runner dies (e.g. killed by a CTest
    # timeout) the kernel kills the server too, instead of leaving it bound to a port.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def _arg_value(args, name):
    """The value following `--name` in a redis-server style argument list, or None."""
    for i, a in enumerate(args):
        if a == "--" + name and i + 1 < len(args):
            return args[i + 1]
    return None


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """One running server process. `port` is its TCP port (0 when it listens on a unix socket
    only), `unixsocket` the socket path if any, `workdir` its private current directory."""

    def __init__(self, name, argv, port, unixsocket, workdir, env=None, host="127.0.0.1"):
        self.name = name
        self.argv = argv
        self.host = host
        self.port = port
        self.unixsocket = unixsocket
        self.workdir = workdir
        self.output_path = os.path.join(workdir, "%s.out" % name)
        self._out = open(self.output_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_set_parent_death_signal)
        self.returncode = None
        _live_servers.add(self)

    def __repr__(self):
        return "<%s pid=%s port=%s>" % (self.name, self.proc.pid, self.port)

    # --- life cycle -------------------------------------------------------------------------

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        """Everything the server printed on stdout and stderr so far."""
        if not self._out.closed:
            self._out.flush()
        with open(self.output_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sanitizer_report(self):
        out = self.output()
        for marker in SANITIZER_MARKERS:
            i = out.find(marker)
            if i >= 0:
                return out[out.rfind("\n", 0, i) + 1:i + 6000]
        return None

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit by itself; returns its exit code (raises on timeout)."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %.0fs" % (self.name, timeout))
        self._finish()
        return self.returncode

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT, check_sanitizer=True):
        """SIGTERM, wait, then SIGKILL. Returns the exit code (negative: killed by a signal).
        Raises AssertionError afterwards if the server printed a sanitizer report, so memory
        bugs found while serving a test fail that test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self._finish()
        # A test that crashes the server on purpose expects the sanitizer's own report.
        if check_sanitizer and not getattr(self, "expect_sanitizer_report", False):
            report = self.sanitizer_report()
            if report:
                raise AssertionError("%s printed a sanitizer report:\n%s" % (self.name, report))
        return self.returncode

    def _finish(self):
        _live_servers.discard(self)
        if not self._out.closed:
            self._out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(check_sanitizer=exc[0] is None)
        return False

    # --- clients ----------------------------------------------------------------------------

    def client(self, timeout=10.0, unix=False):
        """A fresh RawClient connected over TCP (or the unix socket)."""
        if unix or not self.port:
            return RawClient(unix=self.unixsocket, timeout=timeout)
        return RawClient(self.host, self.port, timeout=timeout)

    def redis_py(self, **kwargs):
        """A redis-py client (Debian's python3-redis) for this server."""
        redis = import_redis()
        if not self.port and "unix_socket_path" not in kwargs:
            kwargs["unix_socket_path"] = self.unixsocket
        else:
            kwargs.setdefault("host", self.host)
            kwargs.setdefault("port", self.port)
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(**kwargs)

    def answers_ping(self):
        """True once the server sends any complete reply to PING (also -NOAUTH / -LOADING)."""
        try:
            c = self.client(timeout=2.0)
        except OSError:
            return False
        try:
            c.send(encode_command("PING"))
            c.read_reply()
            return True
        except (OSError, ConnectionClosed):
            return False
        finally:
            c.close()


def import_redis():
    """Imports redis-py. Debian's python3-redis lives in /usr/lib/python3/dist-packages, which a
    non-Debian python3 (e.g. one from pyenv that CMake found first) does not search."""
    try:
        import redis  # noqa: F401
    except ImportError:
        for d in ("/usr/lib/python3/dist-packages",):
            if os.path.isdir(os.path.join(d, "redis")) and d not in sys.path:
                sys.path.append(d)
        import redis  # noqa: F401
    return redis


def redis_py_env():
    """The environment for a child python3 that imports redis-py as a user's program would:
    Debian's copy made visible to an interpreter that does not search dist-packages."""
    redis = import_redis()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (os.path.dirname(os.path.dirname(redis.__file__)), env.get("PYTHONPATH")) if p)
    return env


@atexit.register
def _stop_all_servers():
    for srv in list(_live_servers):
        try:
            srv.stop(timeout=5, check_sanitizer=False)
        except Exception:
            pass
    if not os.environ.get("KEYWARD_KEEP_WORKDIRS"):
        for d in _workdirs:
            shutil.rmtree(d, ignore_errors=True)


def make_workdir(prefix="keyward-test-"):
    """A temporary directory removed when the test process exits (kept if the environment has
    KEYWARD_KEEP_WORKDIRS=1, to inspect logs after a failure)."""
    d = tempfile.mkdtemp(prefix=prefix)
    _workdirs.append(d)
    return d


def start_server(binary, extra_args=(), *, name=None, config_file=None, port=None,
                 default_args=(), bind_loopback=True, wait=True, env=None, workdir=None,
                 ready_timeout=READY_TIMEOUT, attempts=3):
    """Starts `binary [config_file] default_args extra_args` and waits until it answers PING.

    Unless `extra_args` has `--port`, or `port` says where a config file makes it listen, a free
    port is chosen and `--port N` appended; `--bind 127.0.0.1` is appended unless `--bind` is
    given or `bind_loopback` is False. `--unixsocket P` in the arguments is honoured (with
    `--port 0` the server is reached through it). With wait=False the process is returned at
    once (for start-up failure tests: use wait_exit()).
    """
    extra_args = [str(a) for a in extra_args]
    name = name or os.path.basename(binary)
    if not os.path.exists(binary):
        raise ServerError("server binary %s does not exist (set KEYWARD_SERVER)" % binary)
    last_error = None
    for _ in range(attempts):
        wd = workdir or make_workdir()
        args = list(default_args) + extra_args
        chosen = False
        if port is not None:
            srv_port = int(port)
        elif _arg_value(args, "port") is not None:
            srv_port = int(_arg_value(args, "port"))
        else:
            srv_port = free_port()
            chosen = True
            args += ["--port", str(srv_port)]
        if bind_loopback and _arg_value(args, "bind") is None and config_file is None:
            args += ["--bind", "127.0.0.1"]
        unixsocket = _arg_value(args, "unixsocket")
        argv = [binary] + ([config_file] if config_file else []) + args
        srv = ServerProcess(name, argv, srv_port, unixsocket, wd, env=env)
        if not wait:
            return srv
        try:
            _wait_ready(srv, ready_timeout)
            return srv
        except ServerError as e:
            last_error = e
            srv.stop(timeout=5, check_sanitizer=False)
            # Another process took the port between our probe and the server's bind: retry.
            if chosen and "in use" in srv.output().lower():
                continue
            raise
    raise last_error


def _wait_ready(srv, timeout):
    deadline = time.monotonic() + timeout
    while True:
        if not srv.alive():
            raise ServerError("%s exited with code %s before answering PING:\n%s"
                              % (srv.name, srv.proc.returncode, srv.output()[-4000:]))
        if srv.answers_ping():
            return
        if time.monotonic() >= deadline:
            raise ServerError("%s did not answer PING within %.0fs:\n%s"
                              % (srv.name, timeout, srv.output()[-4000:]))
        time.sleep(0.02)


def startup_failure(binary, args, cwd):
    """Runs a server that is expected not to start: (exit code, its output), Redis's fatal
    configuration report header made independent of the server's name and version."""
    proc = subprocess.run([binary] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    text = proc.stdout.decode("utf-8", "replace")
    text = re.sub(r"\*\*\* FATAL CONFIG FILE ERROR \([^)]*\) \*\*\*",
                  "*** FATAL CONFIG FILE ERROR (<server>) ***", text)
    return proc.returncode, text


def start_keyward(extra_args=(), **kwargs):
    """Starts $KEYWARD_SERVER (default build-asan/bin/keyward-server) with redis-server style
    arguments and no save points (`--save ''`). See start_server for the keyword arguments."""
    kwargs.setdefault("name", "keyward")
    # Persistence off unless a test asks for it, like start_redis (Keyward's defaults are
    # Redis's: save points on).
    kwargs.setdefault("default_args", ("--save", ""))
    return start_server(keyward_binary(), extra_args, **kwargs)


def start_redis(extra_args=(), **kwargs):
    """Starts Debian's redis-server with persistence off (`--save '' --appendonly no`)."""
    kwargs.setdefault("name", "redis")
    kwargs.setdefault("default_args", ("--save", "", "--appendonly", "no"))
    return start_server(REDIS_SERVER, extra_args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Raw RESP
# ---------------------------------------------------------------------------------------------


class ConnectionClosed(Exception):
    """The server closed the connection (possibly in the middle of a reply)."""

    def __init__(self, partial=b""):
        super().__init__("connection closed by the server; partial data: %r" % bytes(partial[:200]))
        self.partial = bytes(partial)


class ProtocolMismatch(Exception):
    """The bytes received are not valid RESP."""


class _Incomplete(Exception):
    pass


def _to_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, bytearray):
        return bytes(a)
    if isinstance(a, str):
        return a.encode("utf-8")
    if isinstance(a, (int, float)):
        return repr(a).encode() if isinstance(a, float) else str(a).encode()
    raise TypeError("cannot send %r" % (a,))


def encode_command(*args):
    """A RESP multibulk request: *N\\r\\n$len\\r\\narg\\r\\n..."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _to_bytes(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


# Reply types whose payload is one line, whose payload is length-prefixed, and aggregates.
_LINE_TYPES = b"+-:_,#("
_BULK_TYPES = b"$!="
_ARRAY_TYPES = b"*~>"
_MAP_TYPES = b"%|"


def _scan_reply(buf, pos):
    """Returns the end offset of the complete reply starting at `pos` in `buf`. Raises
    _Incomplete if more bytes are needed, ProtocolMismatch for garbage."""
    if pos >= len(buf):
        raise _Incomplete()
    t = buf[pos]
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        raise _Incomplete()
    line_end = eol + 2
    if t in _LINE_TYPES:
        return line_end
    try:
        n = int(buf[pos + 1:eol])
    except ValueError:
        raise ProtocolMismatch("bad length in %r" % bytes(buf[pos:line_end]))
    if t in _BULK_TYPES:
        if n < 0:
            return line_end
        end = line_end + n + 2
        if len(buf) < end:
            raise _Incomplete()
        if buf[end - 2:end] != b"\r\n":
            raise ProtocolMismatch("bulk not terminated by CRLF at %d" % (end - 2))
        return end
    if t in _ARRAY_TYPES or t in _MAP_TYPES:
        if n < 0:
            return line_end
        count = n * 2 if t in _MAP_TYPES else n
        p = line_end
        for _ in range(count):
            p = _scan_reply(buf, p)
        if t == ord("|"):
            # An attribute is followed by the reply it decorates: both form one reply.
            p = _scan_reply(buf, p)
        return p
    raise ProtocolMismatch("unknown reply type %r at %r" % (chr(t), bytes(buf[pos:pos + 40])))


class RawClient:
    """A byte-level RESP client: send() whatever bytes, read_reply() one complete raw reply."""

    def __init__(self, host="127.0.0.1", port=None, unix=None, timeout=10.0, rcvbuf=None):
        """`rcvbuf` sets SO_RCVBUF before connecting: a small one makes what the client does not
        read pile up in the server's output buffer instead of the kernel's (slow consumers)."""
        if unix:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(unix)
            except OSError:
                self.sock.close()
                raise
        elif rcvbuf:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect((host, port))
            except OSError:
                self.sock.close()
                raise
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, data):
        self.sock.sendall(_to_bytes(data))

    def _recv_more(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionClosed(self.buf)
        self.buf += chunk

    def read_reply(self):
        """Exactly one complete reply (RESP2 or RESP3), as raw bytes."""
        while True:
            try:
                end = _scan_reply(self.buf, 0)
            except _Incomplete:
                self._recv_more()
                continue
            reply = bytes(self.buf[:end])
            del self.buf[:end]
            return reply

    def read_replies(self, n):
        return [self.read_reply() for _ in range(n)]

    def read_line(self):
        """One CRLF-terminated line (e.g. a MONITOR event), raw with its CRLF."""
        while True:
            eol = self.buf.find(b"\r\n")
            if eol >= 0:
                line = bytes(self.buf[:eol + 2])
                del self.buf[:eol + 2]
                return line
            self._recv_more()

    def read_exactly(self, n):
        while len(self.buf) < n:
            self._recv_more()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def call(self, *args):
        """Sends one multibulk command and returns its raw reply."""
        self.send(encode_command(*args))
        return self.read_reply()

    def call_inline(self, line):
        """Sends one inline command (a text line) and returns its raw reply."""
        self.send(_to_bytes(line) + b"\r\n")
        return self.read_reply()

    def pending(self, wait=0.0):
        """True if reply bytes are buffered or readable within `wait` seconds (0: now)."""
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def wait_closed(self, timeout=10.0):
        """Reads until the server closes the connection; returns the bytes received before EOF.
        Raises AssertionError if the connection is still open after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        data = bytes(self.buf)
        self.buf.clear()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("connection still open after %.1fs (received %r)"
                                     % (timeout, data[:200]))
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except (ConnectionResetError, BrokenPipeError):
                return data
            if not chunk:
                return data
            data += chunk

    def is_open(self):
        """True if the server has not closed the connection (non-blocking check)."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return True
        try:
            chunk = self.sock.recv(1 << 16, socket.MSG_PEEK)
        except (ConnectionResetError, BrokenPipeError):
            return False
        return bool(chunk)


# ---------------------------------------------------------------------------------------------
# Decoding (for normalising and for readable assertions; comparisons use the raw bytes)
# ---------------------------------------------------------------------------------------------


class Error(bytes):
    """A decoded error reply (-ERR ... / !N bulk error)."""


class Simple(bytes):
    """A decoded simple string reply (+OK)."""


def decode(raw):
    """Raw reply bytes -> Python value: Simple/Error/bytes/int/None/float/bool/list; maps become
    lists of (key, value) tuples; attributes are dropped. Raises on trailing garbage."""
    value, end = _decode(raw, 0)
    if end != len(raw):
        raise ProtocolMismatch("trailing bytes after reply: %r" % raw[end:end + 40])
    return value


def _decode(raw, pos):
    t = raw[pos:pos + 1]
    eol = raw.index(b"\r\n", pos)
    head = raw[pos + 1:eol]
    p = eol + 2
    if t == b"+":
        return Simple(head), p
    if t == b"-":
        return Error(head), p
    if t == b":":
        return int(head), p
    if t == b"(":
        return int(head), p
    if t == b"_":
        return None, p
    if t == b",":
        return float(head), p
    if t == b"#":
        return head == b"t", p
    n = int(head)
    if t in (b"$", b"!", b"="):
        if n < 0:
            return None, p
        data = raw[p:p + n]
        return (Error(data) if t == b"!" else bytes(data)), p + n + 2
    if t in (b"*", b"~", b">"):
        if n < 0:
            return None, p
        items = []
        for _ in range(n):
            v, p = _decode(raw, p)
            items.append(v)
        return items, p
    if t in (b"%", b"|"):
        pairs = []
        for _ in range(n):
            k, p = _decode(raw, p)
            v, p = _decode(raw, p)
            pairs.append((k, v))
        if t == b"|":
            return _decode(raw, p)
        return pairs, p
    raise ProtocolMismatch("unknown type %r" % t)


def split_aggregate(raw):
    """For a raw aggregate reply, (header line, [raw elements]); maps yield 2n elements."""
    eol = raw.index(b"\r\n")
    header = raw[:eol + 2]
    t = raw[0:1]
    n = int(raw[1:eol])
    if n < 0:
        return header, []
    count = n * 2 if t in (b"%", b"|") else n
    elems = []
    p = eol + 2
    for _ in range(count):
        end = _scan_reply(raw, p)
        elems.append(raw[p:end])
        p = end
    return header, elems


def unordered(raw, pairs=False):
    """Normalises an aggregate whose element order is unspecified (KEYS, CONFIG GET, ...):
    header plus the sorted raw elements (sorted as (name, value) pairs if `pairs`). Non-aggregate
    replies (errors) are returned unchanged."""
    if raw[:1] not in (b"*", b"~", b"%", b">"):
        return raw
    header, elems = split_aggregate(raw)
    if pairs or raw[:1] == b"%":
        items = sorted(zip(elems[0::2], elems[1::2]))
    else:
        items = sorted(elems)
    return (header, tuple(items))


# ---------------------------------------------------------------------------------------------
# unittest helpers
# ---------------------------------------------------------------------------------------------


class ServerTestCase(unittest.TestCase):
    """Starts servers that are stopped (and checked for sanitizer reports) when the test ends,
    whether it passed or not."""

    maxDiff = None

    def start_keyward(self, extra_args=(), **kwargs):
        srv = start_keyward(extra_args, **kwargs)
        self.addCleanup(srv.stop)
        return srv

    def start_redis(self, extra_args=(), **kwargs):
        srv = start_redis(extra_args, **kwargs)
        self.addCleanup(srv.stop)
        return srv

    def raw_client(self, srv, **kwargs):
        c = srv.client(**kwargs)
        self.addCleanup(c.close)
        return c

    def run_tool(self, argv, input=None, timeout=60, check=True):
        """Runs a command-line tool (redis-cli, redis-benchmark) to completion."""
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
        if check:
            self.assertEqual(proc.returncode, 0, "%s exited with %d\nstdout: %r\nstderr: %r"
                             % (" ".join(argv), proc.returncode, proc.stdout[-2000:],
                                proc.stderr[-2000:]))
        return proc



class SharedKeywardTestCase(ServerTestCase):
    """One keyward-server for every test of the class (started once, stopped at the end)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = start_keyward()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
