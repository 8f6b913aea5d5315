"""Sentinel topologies for the sentinel-mode tests (tests/integration/test_sentinel.py), built on
keyward_harness.

A sentinel is started as Redis starts one: `[binary, <its own writable sentinel.conf>,
"--sentinel"]`, each in its own temporary directory with its port in the config file.

Environment:
  KEYWARD_SENTINEL_UNDER_TEST  the binary whose sentinel mode is tested (default: $KEYWARD_SERVER,
                               i.e. keyward-server). /usr/bin/redis-server validates the tests
                               against the real Redis Sentinel 7.0.
  SENTINEL_DATA_SERVER         `redis` runs the monitored masters and replicas on Debian's
                               redis-server; anything else (the default) on keyward-server.

Pieces:
  write_sentinel_conf()        a sentinel.conf monitoring one master
  start_sentinel()             one sentinel process (a keyward_harness.ServerProcess, so the
                               harness tracks it and kills it at exit like any server)
  Topology                     1 master + N replicas + M sentinels, started and torn down
                               together, with waits for sync and for full discovery
  EventWatcher                 PSUBSCRIBE * on a sentinel, recording every event it publishes
  read_config()/config_lines() a sentinel's persisted config file
"""

import os
import re
import signal
import threading

from keyward_harness import (REDIS_SERVER, ConnectionClosed, RawClient, ServerError,
                             decode, free_port, keyward_binary, make_workdir, start_keyward,
                             start_redis, start_server, wait_for)

# Generous waits: under AddressSanitizer everything is several times slower.
DISCOVERY_TIMEOUT = float(os.environ.get("SENTINEL_DISCOVERY_TIMEOUT", "60"))
FAILOVER_TIMEOUT = float(os.environ.get("SENTINEL_FAILOVER_WAIT", "90"))
SYNC_TIMEOUT = 30.0

MASTER_NAME = "mymaster"
# Failure detection: short, so a killed or paused master is failed over within seconds.
DOWN_AFTER_MS = 1000
# Where detecting a failure is not the point (or once a failover has been observed): long
# enough that a data server stalled for a moment (an ASan build on a loaded machine) is not
# failed over behind the test's back, and no slower, since nothing waits for it.
QUIET_DOWN_AFTER_MS = 5000
FAILOVER_TIMEOUT_MS = 10000

REAL_SENTINEL = REDIS_SERVER

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def sentinel_under_test():
    return os.environ.get("KEYWARD_SENTINEL_UNDER_TEST") or keyward_binary()


def data_server_is_redis():
    return os.environ.get("SENTINEL_DATA_SERVER", "").lower() == "redis"


def start_data_server(extra_args=(), **kwargs):
    """A master or replica: Keyward's data server, or Debian's redis-server with
    SENTINEL_DATA_SERVER=redis. A diskless sync starts at once (Redis 7.0 waits 5 s by default),
    so replicas re-pointed by a failover catch up quickly."""
    args = ["--repl-diskless-sync-delay", "0"] + [str(a) for a in extra_args]
    if data_server_is_redis():
        return start_redis(args, **kwargs)
    return start_keyward(args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def call(srv_or_client, *args):
    """Runs one command on a server (a fresh connection) or a RawClient; the decoded reply."""
    if isinstance(srv_or_client, RawClient):
        return decode(srv_or_client.call(*args))
    with srv_or_client.client(timeout=10) as c:
        return decode(c.call(*args))


def raw_call(srv, *args):
    """Runs one command on a server over a fresh connection; the raw reply bytes."""
    with srv.client(timeout=10) as c:
        return c.call(*args)


def try_call(srv, *args, timeout=5):
    """Like call() but None when the server cannot be reached (killed, stopped)."""
    try:
        with RawClient(srv.host, srv.port, timeout=timeout) as c:
            return decode(c.call(*args))
    except (OSError, ConnectionClosed):
        return None


def as_dict(flat):
    """A flat [name, value, name, value, ...] reply (SENTINEL MASTER) as an ordered str dict."""
    return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}


def field_names(flat):
    return [flat[i].decode() for i in range(0, len(flat), 2)]


def info_dict(srv_or_client, section=None):
    """INFO [section] as a dict of str -> str."""
    reply = call(srv_or_client, *(("INFO", section) if section else ("INFO",)))
    out = {}
    for line in reply.decode().split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def master_addr(sentinel, name=MASTER_NAME):
    """SENTINEL GET-MASTER-ADDR-BY-NAME as (ip, port) (None when unknown or unreachable)."""
    reply = try_call(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
    if not isinstance(reply, list) or len(reply) != 2:
        return None
    return reply[0].decode(), int(reply[1])


def instance_ports(sentinel, what, name=MASTER_NAME):
    """Ports listed by SENTINEL REPLICAS / SENTINELS <name> (empty if unreachable)."""
    reply = try_call(sentinel, "SENTINEL", what, name)
    if not isinstance(reply, list):
        return set()
    return {int(as_dict(entry)["port"]) for entry in reply}


def known_replicas(sentinel, name=MASTER_NAME):
    """Ports of the replicas a sentinel lists as connected slaves whose INFO it has read."""
    reply = try_call(sentinel, "SENTINEL", "REPLICAS", name)
    if not isinstance(reply, list):
        return set()
    out = set()
    for entry in map(as_dict, reply):
        if (entry["flags"] == "slave" and HEX40.match(entry["runid"])
                and entry["master-link-status"] == "ok"):
            out.add(int(entry["port"]))
    return out


def replication_of(srv):
    """(role, master_port or None, link status or None) from INFO replication; None if down."""
    reply = try_call(srv, "INFO", "replication")
    if not isinstance(reply, bytes):
        return None
    info = {}
    for line in reply.decode().split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            info[k] = v
    port = info.get("master_port")
    return info.get("role"), (int(port) if port else None), info.get("master_link_status")


def is_replica_of(srv, master_port, linked=True):
    state = replication_of(srv)
    if state is None:
        return False
    role, port, link = state
    return role == "slave" and port == master_port and (not linked or link == "up")


# ---------------------------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------------------------


def write_sentinel_conf(path, port, masters=(), *, directory=None, extra=()):
    """Writes a sentinel.conf listening on 127.0.0.1:`port`. `masters` holds tuples
    (name, master_port, quorum, down_after_ms, failover_timeout_ms, parallel_syncs)."""
    lines = ["port %d" % port, "bind 127.0.0.1", "dir %s" % (directory or os.path.dirname(path))]
    for name, mport, quorum, down_after, failover_timeout, parallel in masters:
        lines += ["sentinel monitor %s 127.0.0.1 %d %d" % (name, mport, quorum),
                  "sentinel down-after-milliseconds %s %d" % (name, down_after),
                  "sentinel failover-timeout %s %d" % (name, failover_timeout),
                  "sentinel parallel-syncs %s %d" % (name, parallel)]
    lines += list(extra)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_config(sentinel):
    with open(sentinel.config_path) as f:
        return f.read()


def config_lines(sentinel, prefix):
    """The persisted config lines starting with `prefix` (e.g. "sentinel known-replica"), each
    split into words."""
    return [line.split() for line in read_config(sentinel).splitlines()
            if line.startswith(prefix + " ")]


# ---------------------------------------------------------------------------------------------
# Sentinel processes
# ---------------------------------------------------------------------------------------------


def start_sentinel(master_port=None, *, binary=None, name=None, quorum=2,
                   down_after=DOWN_AFTER_MS, failover_timeout=FAILOVER_TIMEOUT_MS,
                   parallel_syncs=1, master_name=MASTER_NAME, extra=(), restart_of=None,
                   attempts=3):
    """Starts `binary <workdir>/sentinel.conf --sentinel` (binary: the sentinel under test unless
    given) and waits until it answers PING. With `restart_of` (a stopped sentinel) the same
    binary, directory, config file and port are used again, the file as the sentinel left it.
    The process is tracked by the harness; the caller registers its stop as a cleanup.
    Attributes added: config_path, sentinel_binary."""
    if restart_of is not None:
        binary = restart_of.sentinel_binary
        srv = start_server(binary, ["--sentinel"], name=restart_of.name,
                           config_file=restart_of.config_path, port=restart_of.port,
                           workdir=restart_of.workdir, bind_loopback=False)
        srv.config_path = restart_of.config_path
        srv.sentinel_binary = binary
        return srv
    binary = binary or sentinel_under_test()
    name = name or ("sentinel-real" if binary == REAL_SENTINEL and binary != sentinel_under_test()
                    else "sentinel")
    masters = []
    if master_port is not None:
        masters.append((master_name, master_port, quorum, down_after, failover_timeout,
                        parallel_syncs))
    last_error = None
    for _ in range(attempts):
        wd = make_workdir("keyward-sentinel-")
        port = free_port()
        conf = os.path.join(wd, "sentinel.conf")
        write_sentinel_conf(conf, port, masters, directory=wd, extra=extra)
        try:
            srv = start_server(binary, ["--sentinel"], name=name, config_file=conf, port=port,
                               workdir=wd, bind_loopback=False)
        except ServerError as e:
            last_error = e
            if "in use" in str(e).lower():
                continue  # another process took the port meanwhile: another one
            raise
        srv.config_path = conf
        srv.sentinel_binary = binary
        return srv
    raise last_error


# ---------------------------------------------------------------------------------------------
# Event watcher
# ---------------------------------------------------------------------------------------------


class EventWatcher:
    """PSUBSCRIBE * on a sentinel; a thread records every (channel, message) it publishes, in
    arrival order. Ready (subscribed) when the constructor returns."""

    def __init__(self, sentinel, pattern="*"):
        self.sentinel = sentinel
        self.client = RawClient(sentinel.host, sentinel.port, timeout=None)
        self.client.sock.settimeout(None)
        reply = decode(self.client.call("PSUBSCRIBE", pattern))
        if reply[:1] != [b"psubscribe"]:
            raise AssertionError("PSUBSCRIBE answered %r" % (reply,))
        self.events = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._closed:
            try:
                msg = decode(self.client.read_reply())
            except (OSError, ConnectionClosed, ValueError):
                return
            if isinstance(msg, list) and len(msg) == 4 and msg[0] == b"pmessage":
                with self._lock:
                    self.events.append((msg[2].decode(), msg[3].decode()))

    def close(self):
        self._closed = True
        try:
            self.client.sock.shutdown(2)
        except OSError:
            pass
        self.client.close()
        self._thread.join(timeout=5)

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def find(self, channel, predicate=None):
        """The messages published on `channel` so far (those `predicate(message)` accepts)."""
        return [m for c, m in self.snapshot()
                if c == channel and (predicate is None or predicate(m))]

    def wait(self, channel, predicate=None, timeout=FAILOVER_TIMEOUT):
        """Waits for a message on `channel` (accepted by `predicate`); returns the first one."""
        found = wait_for(lambda: self.find(channel, predicate), timeout=timeout, interval=0.05,
                         message="event %s on %r (seen: %r)"
                         % (channel, self.sentinel, self.snapshot()[-30:]))
        return found[0]

    def channels(self):
        return [c for c, _ in self.snapshot()]


def subsequence_index(events, wanted):
    """Checks that `wanted` [(channel, predicate-or-None)] occur in `events` [(channel, msg)] in
    this order (other events may come between). Returns the list of matching messages, or None
    if they do not all occur in order."""
    out = []
    i = 0
    for channel, pred in wanted:
        while i < len(events):
            c, m = events[i]
            i += 1
            if c == channel and (pred is None or pred(m)):
                out.append(m)
                break
        else:
            return None
    return out


# ---------------------------------------------------------------------------------------------
# Topology
# ---------------------------------------------------------------------------------------------


class Topology:
    """1 master + `replicas` replicas (data servers) + sentinels monitoring the master as
    MASTER_NAME. `sentinel_binaries` lists one binary per sentinel (default: `sentinels` of the
    binary under test). `testcase.addCleanup` stops every process, sentinels first."""

    def __init__(self, testcase, replicas=2, sentinels=3, sentinel_binaries=None, quorum=2,
                 down_after=DOWN_AFTER_MS, failover_timeout=FAILOVER_TIMEOUT_MS,
                 parallel_syncs=1):
        self.testcase = testcase
        self.quorum = quorum
        self.down_after = down_after
        self.failover_timeout = failover_timeout
        self.parallel_syncs = parallel_syncs
        self.master = self._data_server()
        self.replicas = [self._data_server(["--replicaof", "127.0.0.1", self.master.port])
                         for _ in range(replicas)]
        self.wait_synced()
        binaries = sentinel_binaries or [sentinel_under_test()] * sentinels
        self.sentinels = [self.start_sentinel(b) for b in binaries]

    # --- processes --------------------------------------------------------------------------

    def _data_server(self, extra_args=(), **kwargs):
        srv = start_data_server(extra_args, **kwargs)
        self.testcase.addCleanup(srv.stop)
        return srv

    def restart_data_server(self, old):
        """A new, empty data server on the port `old` (stopped) had."""
        return self._data_server(["--port", old.port])

    def start_sentinel(self, binary=None):
        s = start_sentinel(self.master.port, binary=binary, quorum=self.quorum,
                           down_after=self.down_after, failover_timeout=self.failover_timeout,
                           parallel_syncs=self.parallel_syncs)
        self.testcase.addCleanup(s.stop)
        return s

    def restart_sentinel(self, old):
        s = start_sentinel(restart_of=old)
        self.testcase.addCleanup(s.stop)
        self.sentinels[self.sentinels.index(old)] = s
        return s

    def watch(self, sentinel):
        w = EventWatcher(sentinel)
        self.testcase.addCleanup(w.close)
        return w

    @property
    def data_servers(self):
        return [self.master] + self.replicas

    def server_on(self, port):
        for s in self.data_servers:
            if s.port == port:
                return s
        raise KeyError(port)

    # --- waits ------------------------------------------------------------------------------

    def wait_synced(self):
        """Every replica's link is up and the master lists each as online (so a sentinel's first
        INFO of the master names all of them)."""
        for r in self.replicas:
            wait_for(lambda: is_replica_of(r, self.master.port), timeout=SYNC_TIMEOUT,
                     message="replica %r in sync" % r)

        def online():
            info = info_dict(self.master, "replication")
            ports = {int(re.search(r"port=(\d+)", v).group(1))
                     for k, v in info.items() if re.match(r"slave\d+$", k) and "online" in v}
            return ports == {r.port for r in self.replicas}
        wait_for(online, timeout=SYNC_TIMEOUT, message="the master listing its replicas online")

    def wait_discovered(self, sentinels=None, replica_ports=None, timeout=DISCOVERY_TIMEOUT):
        """Waits until every sentinel lists every replica, connected and already described by
        its INFO (run id known, link to the master up: a replica a failover may select), and
        every other sentinel."""
        sentinels = sentinels or self.sentinels
        replica_ports = set(replica_ports or (r.port for r in self.replicas))
        for s in sentinels:
            others = {o.port for o in sentinels if o is not s}
            wait_for(lambda: known_replicas(s) >= replica_ports, timeout=timeout,
                     interval=0.1, message="%r listing replicas %s (now %r)"
                     % (s, sorted(replica_ports), try_call(s, "SENTINEL", "REPLICAS",
                                                           MASTER_NAME)))
            wait_for(lambda: instance_ports(s, "SENTINELS") >= others, timeout=timeout,
                     interval=0.1, message="%r listing sentinels %s" % (s, sorted(others)))

    def wait_master_switched(self, old_port, timeout=FAILOVER_TIMEOUT):
        """Waits until every live sentinel names the same new master, one of the replicas;
        returns its port."""
        candidates = {r.port for r in self.replicas}

        def agreed():
            addrs = {master_addr(s) for s in self.sentinels if s.alive()}
            if len(addrs) != 1:
                return None
            addr = addrs.pop()
            if addr is None or addr[1] == old_port or addr[1] not in candidates:
                return None
            return addr[1]
        return wait_for(agreed, timeout=timeout, interval=0.1,
                        message="all sentinels naming a promoted replica as the master (now %r)"
                        % [master_addr(s) for s in self.sentinels])

    def settle(self, name=MASTER_NAME):
        """After an observed failover: SENTINEL SET <name> down-after-milliseconds to
        QUIET_DOWN_AFTER_MS on every live sentinel, so the checks that follow are not
        disturbed by a second failover of a momentarily slow new master."""
        for s in self.sentinels:
            if s.alive():
                reply = raw_call(s, "SENTINEL", "SET", name, "down-after-milliseconds",
                                 str(QUIET_DOWN_AFTER_MS))
                if reply != b"+OK\r\n":
                    raise AssertionError("SENTINEL SET on %r answered %r" % (s, reply))

    def kill_master(self):
        self.master.signal(signal.SIGKILL)
        self.master.wait_exit()
