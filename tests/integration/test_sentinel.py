"""Sentinel mode (`<server> sentinel.conf --sentinel`), Redis Sentinel 7.0 compatible: discovery
of replicas and other sentinels, the SENTINEL command's replies (shapes against a real Redis
Sentinel running beside it, errors byte for byte), automatic failover when the master is killed
or paused (the events published, the replicas re-pointed, the old master turned into a replica
when it comes back), SENTINEL FAILOVER, the persisted config file (myid, known replicas and
sentinels, epochs, the new master after a failover, a restart reading it back), runtime
MONITOR / SET / REMOVE, a quorum mixing these sentinels with a real Redis Sentinel, and what a
client relies on: redis-py's Sentinel support and the +switch-master message.

Which sentinel is tested is the only switch: KEYWARD_SENTINEL_UNDER_TEST (default
$KEYWARD_SERVER, keyward-server). The monitored servers are keyward-server, or Debian's
redis-server with SENTINEL_DATA_SERVER=redis. Every expectation here was checked against the real
Redis Sentinel 7.0.15, both with Keyward's and with Redis's data servers:

    cd tests/integration
    PYTHONPATH=../support KEYWARD_SERVER=../../build-asan/bin/keyward-server \\
        KEYWARD_SENTINEL_UNDER_TEST=/usr/bin/redis-server [SENTINEL_DATA_SERVER=redis] \\
        /usr/bin/python3 -m unittest -v test_sentinel

Nothing sleeps to order events: every wait polls a reply, a file or the recorded events with
wait_for, with generous deadlines (AddressSanitizer builds are slow). Failure detection uses
down-after-milliseconds 1000; tests that do not detect a failure, and every test once its
failover has been observed (Topology.settle), use 5000, so that a data server stalled for a
moment on a loaded machine does not start a failover nobody asked for.
"""

import re
import signal
import unittest

from keyward_harness import (RawClient, ServerTestCase, decode, import_redis, split_aggregate,
                             wait_for)
from sentinel_support import (DISCOVERY_TIMEOUT, FAILOVER_TIMEOUT, HEX40, MASTER_NAME,
                              QUIET_DOWN_AFTER_MS, REAL_SENTINEL, SYNC_TIMEOUT, Topology,
                              as_dict, call, config_lines, field_names, info_dict,
                              instance_ports, is_replica_of, known_replicas, master_addr,
                              raw_call, read_config, sentinel_under_test, start_data_server,
                              start_sentinel, subsequence_index)

# Reply fields, in order, of a master / replica / sentinel entry in a steady state (no
# s-down-time, o-down-time, failover-state ... which only appear in those states).
MASTER_FIELDS = ["name", "ip", "port", "runid", "flags", "link-pending-commands",
                 "link-refcount", "last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
                 "down-after-milliseconds", "info-refresh", "role-reported",
                 "role-reported-time", "config-epoch", "num-slaves", "num-other-sentinels",
                 "quorum", "failover-timeout", "parallel-syncs"]
REPLICA_FIELDS = ["name", "ip", "port", "runid", "flags", "link-pending-commands",
                  "link-refcount", "last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
                  "down-after-milliseconds", "info-refresh", "role-reported",
                  "role-reported-time", "master-link-down-time", "master-link-status",
                  "master-host", "master-port", "slave-priority", "slave-repl-offset",
                  "replica-announced"]
SENTINEL_FIELDS = ["name", "ip", "port", "runid", "flags", "link-pending-commands",
                   "link-refcount", "last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
                   "down-after-milliseconds", "last-hello-message", "voted-leader",
                   "voted-leader-epoch"]

CKQUORUM_3 = b"+OK 3 usable Sentinels. Quorum and failover authorization can be reached\r\n"
NOGOODSLAVE = b"-NOGOODSLAVE No suitable replica to promote\r\n"


def instance_text(kind, port, master_port):
    """How an event names a replica: `slave 127.0.0.1:P 127.0.0.1 P @ mymaster 127.0.0.1 M`."""
    return "%s 127.0.0.1:%d 127.0.0.1 %d @ %s 127.0.0.1 %d" % (kind, port, port, MASTER_NAME,
                                                                master_port)


def role(srv):
    return call(srv, "ROLE")


def is_master(srv):
    r = role(srv)
    return r[0] == b"master"


class SentinelTestCase(ServerTestCase):
    def assert_replica_of(self, srv, master_port, what):
        """Waits until `srv` replicates `master_port` with its link up, then checks ROLE."""
        wait_for(lambda: is_replica_of(srv, master_port), timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="%s replicating port %d" % (what, master_port))
        r = role(srv)
        self.assertEqual(r[:3], [b"slave", b"127.0.0.1", master_port])
        return r


# ---------------------------------------------------------------------------------------------
# 1. Discovery
# ---------------------------------------------------------------------------------------------


class Discovery(SentinelTestCase):
    def test_sentinels_find_replicas_and_each_other(self):
        topo = Topology(self, replicas=2, sentinels=3, down_after=QUIET_DOWN_AFTER_MS)
        topo.wait_discovered()
        replica_ports = {r.port for r in topo.replicas}
        ids = {}
        for s in topo.sentinels:
            with s.client() as c:
                myid = decode(c.call("SENTINEL", "MYID")).decode()
                self.assertRegex(myid, HEX40)
                ids[s.port] = myid
                replicas = [as_dict(e) for e in decode(c.call("SENTINEL", "REPLICAS",
                                                              MASTER_NAME))]
                self.assertEqual({int(e["port"]) for e in replicas}, replica_ports)
                for e in replicas:
                    self.assertEqual(e["ip"], "127.0.0.1")
                    self.assertEqual(e["name"], "127.0.0.1:%s" % e["port"])
                    self.assertIn("slave", e["flags"].split(","))
                sentinels = [as_dict(e) for e in decode(c.call("SENTINEL", "SENTINELS",
                                                               MASTER_NAME))]
                self.assertEqual({int(e["port"]) for e in sentinels},
                                 {o.port for o in topo.sentinels if o is not s})
                for e in sentinels:
                    self.assertRegex(e["runid"], HEX40)
                    self.assertEqual(e["name"], e["runid"])
                    self.assertIn("sentinel", e["flags"].split(","))
                master = as_dict(decode(c.call("SENTINEL", "MASTER", MASTER_NAME)))
                self.assertEqual(master["name"], MASTER_NAME)
                self.assertEqual((master["ip"], int(master["port"])),
                                 ("127.0.0.1", topo.master.port))
                self.assertEqual(master["flags"], "master")
                self.assertEqual(master["num-other-sentinels"], "2")
                self.assertEqual(master["num-slaves"], "2")
                self.assertEqual(master["quorum"], "2")
                self.assertEqual(master["down-after-milliseconds"], str(QUIET_DOWN_AFTER_MS))
                self.assertEqual(master["failover-timeout"], "10000")
                self.assertEqual(master["parallel-syncs"], "1")
                self.assertEqual(master["role-reported"], "master")
                self.assertEqual(master["config-epoch"], "0")
                # SENTINEL MASTERS: the same master, one entry.
                masters = decode(c.call("SENTINEL", "MASTERS"))
                self.assertEqual(len(masters), 1)
                self.assertEqual(as_dict(masters[0])["name"], MASTER_NAME)
                self.assertEqual(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME),
                                 b"*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n"
                                 % (len(str(topo.master.port)), topo.master.port))
                self.assertEqual(c.call("SENTINEL", "CKQUORUM", MASTER_NAME), CKQUORUM_3)
                self.assertEqual(c.call("ROLE"),
                                 b"*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n")
                self.assertEqual(c.call("PING"), b"+PONG\r\n")
                info = info_dict(c, "sentinel")
                self.assertEqual(info["sentinel_masters"], "1")
                self.assertEqual(info["sentinel_tilt"], "0")
                self.assertEqual(info["master0"],
                                 "name=mymaster,status=ok,address=127.0.0.1:%d,slaves=2,"
                                 "sentinels=3" % topo.master.port)
                # The whole INFO names sentinel mode.
                self.assertEqual(info_dict(c, "server")["redis_mode"], "sentinel")
        # Each sentinel knows the others by the ids they report themselves.
        for s in topo.sentinels:
            listed = {int(as_dict(e)["port"]): as_dict(e)["runid"]
                      for e in call(s, "SENTINEL", "SENTINELS", MASTER_NAME)}
            self.assertEqual(listed, {p: i for p, i in ids.items() if p != s.port})
        self.assertEqual(len(set(ids.values())), 3)


# ---------------------------------------------------------------------------------------------
# 2. Reply shapes and errors against a real Redis Sentinel beside the one under test
# ---------------------------------------------------------------------------------------------


def shape_info_cache(raw):
    """SENTINEL INFO-CACHE <name>: [name, [[ms, info text] per instance]] -> the name and, per
    instance, the types and the INFO's first line."""
    name, entries = decode(raw)
    return name, [(type(ms).__name__, info.split(b"\r\n", 1)[0]) for ms, info in entries]


def shape_pairs_keys(raw):
    """A flat name/value reply (SENTINEL DEBUG) -> its names in order."""
    return [bytes(k) for k in decode(raw)[0::2]]


# (label, command, how to compare: "bytes" or a normaliser of the raw reply)
PROBES = [
    ("unknown subcommand", ("SENTINEL", "NOSUCH"), "bytes"),
    ("unknown subcommand with args", ("SENTINEL", "NOSUCH", "a", "b"), "bytes"),
    ("no subcommand", ("SENTINEL",), "bytes"),
    ("MASTER unknown name", ("SENTINEL", "MASTER", "nosuch"), "bytes"),
    ("MASTER arity", ("SENTINEL", "MASTER"), "bytes"),
    ("MASTERS arity", ("SENTINEL", "MASTERS", "x"), "bytes"),
    ("MYID arity", ("SENTINEL", "MYID", "x"), "bytes"),
    ("REPLICAS unknown name", ("SENTINEL", "REPLICAS", "nosuch"), "bytes"),
    ("SLAVES unknown name", ("SENTINEL", "SLAVES", "nosuch"), "bytes"),
    ("SENTINELS unknown name", ("SENTINEL", "SENTINELS", "nosuch"), "bytes"),
    ("GET-MASTER-ADDR-BY-NAME unknown name (null)",
     ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"), "bytes"),
    ("GET-MASTER-ADDR-BY-NAME arity", ("SENTINEL", "GET-MASTER-ADDR-BY-NAME"), "bytes"),
    ("CKQUORUM", ("SENTINEL", "CKQUORUM", MASTER_NAME), "bytes"),
    ("CKQUORUM unknown name", ("SENTINEL", "CKQUORUM", "nosuch"), "bytes"),
    ("SET not a number", ("SENTINEL", "SET", MASTER_NAME, "quorum", "abc"), "bytes"),
    ("SET unknown option", ("SENTINEL", "SET", MASTER_NAME, "nosuchoption", "1"), "bytes"),
    ("SET unknown name", ("SENTINEL", "SET", "nosuch", "quorum", "2"), "bytes"),
    ("SET down-after 0", ("SENTINEL", "SET", MASTER_NAME, "down-after-milliseconds", "0"),
     "bytes"),
    ("SET arity (no option)", ("SENTINEL", "SET", MASTER_NAME), "bytes"),
    ("SET arity (no value)", ("SENTINEL", "SET", MASTER_NAME, "quorum"), "bytes"),
    ("MONITOR bad port", ("SENTINEL", "MONITOR", "x", "127.0.0.1", "abc", "2"), "bytes"),
    ("MONITOR quorum 0", ("SENTINEL", "MONITOR", "x", "127.0.0.1", "1234", "0"), "bytes"),
    ("MONITOR bad address", ("SENTINEL", "MONITOR", "x", "not an ip", "1234", "2"), "bytes"),
    ("MONITOR arity", ("SENTINEL", "MONITOR", "x", "127.0.0.1", "1234"), "bytes"),
    ("REMOVE unknown name", ("SENTINEL", "REMOVE", "nosuch"), "bytes"),
    ("REMOVE arity", ("SENTINEL", "REMOVE"), "bytes"),
    ("FAILOVER unknown name", ("SENTINEL", "FAILOVER", "nosuch"), "bytes"),
    ("RESET arity", ("SENTINEL", "RESET"), "bytes"),
    ("IS-MASTER-DOWN-BY-ADDR bad port",
     ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "abc", "0", "*"), "bytes"),
    ("IS-MASTER-DOWN-BY-ADDR bad epoch",
     ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "x", "*"), "bytes"),
    ("IS-MASTER-DOWN-BY-ADDR arity", ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1"),
     "bytes"),
    ("IS-MASTER-DOWN-BY-ADDR unknown master",
     ("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"), "bytes"),
    ("GET in sentinel mode", ("GET", "k"), "bytes"),
    ("SET in sentinel mode", ("SET", "k", "v"), "bytes"),
    ("CONFIG in sentinel mode", ("CONFIG", "GET", "port"), "bytes"),
    ("CONFIG GET resolve-hostnames", ("SENTINEL", "CONFIG", "GET", "resolve-hostnames"),
     "bytes"),
    ("CONFIG GET unknown", ("SENTINEL", "CONFIG", "GET", "nosuch"), "bytes"),
    ("CONFIG SET bad value", ("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"),
     "bytes"),
    ("DEBUG names", ("SENTINEL", "DEBUG"), shape_pairs_keys),
    ("INFO-CACHE shape", ("SENTINEL", "INFO-CACHE", MASTER_NAME), shape_info_cache),
    ("INFO-CACHE unknown name", ("SENTINEL", "INFO-CACHE", "nosuch"), "bytes"),
    ("PENDING-SCRIPTS", ("SENTINEL", "PENDING-SCRIPTS"), "bytes"),
    ("SIMULATE-FAILURE bad arg", ("SENTINEL", "SIMULATE-FAILURE", "bogus"), "bytes"),
    ("SIMULATE-FAILURE arity", ("SENTINEL", "SIMULATE-FAILURE"), "bytes"),
    ("HELP", ("SENTINEL", "HELP"), "bytes"),
    ("ROLE", ("ROLE",), "bytes"),
    ("PING", ("PING",), "bytes"),
]


class ReplyShapes(SentinelTestCase):
    def setUp(self):
        self.topo = Topology(self, replicas=1, sentinels=0, down_after=QUIET_DOWN_AFTER_MS)
        self.real = start_sentinel(self.topo.master.port, binary=REAL_SENTINEL,
                                   name="sentinel-real", down_after=QUIET_DOWN_AFTER_MS)
        self.addCleanup(self.real.stop)
        self.tested = self.topo.start_sentinel()
        self.topo.sentinels = [self.real, self.tested]
        self.topo.wait_discovered()

    def both(self, *args, resp3=False):
        out = []
        for s in (self.real, self.tested):
            with s.client() as c:
                if resp3:
                    self.assertEqual(c.call("HELLO", "3")[:1], b"%")
                out.append(c.call(*args))
        return out

    def test_entry_fields_match_redis(self):
        real, tested = self.both("SENTINEL", "MASTER", MASTER_NAME)
        self.assertEqual(field_names(decode(real)), MASTER_FIELDS)
        self.assertEqual(field_names(decode(tested)), field_names(decode(real)))
        real, tested = self.both("SENTINEL", "MASTERS")
        self.assertEqual([field_names(e) for e in decode(tested)],
                         [field_names(e) for e in decode(real)])
        self.assertEqual([field_names(e) for e in decode(real)], [MASTER_FIELDS])
        for sub in ("REPLICAS", "SLAVES"):
            real, tested = self.both("SENTINEL", sub, MASTER_NAME)
            self.assertEqual([field_names(e) for e in decode(real)], [REPLICA_FIELDS], sub)
            self.assertEqual([field_names(e) for e in decode(tested)],
                             [field_names(e) for e in decode(real)], sub)
        real, tested = self.both("SENTINEL", "SENTINELS", MASTER_NAME)
        self.assertEqual([field_names(e) for e in decode(real)], [SENTINEL_FIELDS])
        self.assertEqual([field_names(e) for e in decode(tested)],
                         [field_names(e) for e in decode(real)])
        # Each names the other, with the id the other reports as its own.
        self.assertEqual(as_dict(decode(real)[0])["runid"],
                         call(self.tested, "SENTINEL", "MYID").decode())
        self.assertEqual(as_dict(decode(tested)[0])["runid"],
                         call(self.real, "SENTINEL", "MYID").decode())
        # RESP3: the same entries as maps (an array of maps for the lists).
        for args in (("SENTINEL", "MASTER", MASTER_NAME), ("SENTINEL", "MASTERS"),
                     ("SENTINEL", "REPLICAS", MASTER_NAME), ("SENTINEL", "SENTINELS",
                                                               MASTER_NAME)):
            real, tested = self.both(*args, resp3=True)
            self.assertEqual(real[:1], tested[:1], args)
            if real[:1] == b"*":
                real_items = [raw[:1] for raw in split_aggregate(real)[1]]
                tested_items = [raw[:1] for raw in split_aggregate(tested)[1]]
                self.assertEqual(tested_items, real_items, args)
            self.assertEqual(self.resp3_keys(tested), self.resp3_keys(real), args)

    @staticmethod
    def resp3_keys(raw):
        value = decode(raw)
        if value and isinstance(value[0], tuple):
            return [k for k, _ in value]
        return [[k for k, _ in entry] for entry in value]

    def test_probes_match_redis(self):
        # A duplicate name names the master both monitor.
        probes = PROBES + [
            ("MONITOR duplicate name",
             ("SENTINEL", "MONITOR", MASTER_NAME, "127.0.0.1", str(self.topo.master.port), "2"),
             "bytes")]
        mismatches = []
        for label, args, how in probes:
            real, tested = self.both(*args)
            if how != "bytes":
                real, tested = how(real), how(tested)
            if real != tested:
                mismatches.append("%s %r:\n  redis:  %r\n  tested: %r"
                                  % (label, args, real[:400], tested[:400]))
        self.assertEqual(mismatches, [], "\n".join(mismatches))
        # The texts users see (pinned: the comparison above is empty when both are Redis).
        with self.tested.client() as c:
            self.assertEqual(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"), b"*-1\r\n")
            self.assertEqual(c.call("SENTINEL", "MASTER", "nosuch"),
                             b"-ERR No such master with that name\r\n")
            self.assertEqual(c.call("GET", "k"),
                             b"-ERR unknown command 'GET', with args beginning with: 'k' \r\n")
            self.assertEqual(c.call("SENTINEL", "NOSUCH"),
                             b"-ERR unknown subcommand 'NOSUCH'. Try SENTINEL HELP.\r\n")
            self.assertEqual(c.call("SENTINEL", "SET", MASTER_NAME, "quorum", "abc"),
                             b"-ERR Invalid argument 'abc' for SENTINEL SET 'quorum'\r\n")
            self.assertEqual(c.call("SENTINEL", "MONITOR", "x", "127.0.0.1", "1234", "0"),
                             b"-ERR Quorum must be 1 or greater.\r\n")
            self.assertEqual(c.call("SENTINEL", "PENDING-SCRIPTS"), b"*0\r\n")
            self.assertEqual(c.call("SENTINEL", "CONFIG", "GET", "resolve-hostnames"),
                             b"*2\r\n$17\r\nresolve-hostnames\r\n$2\r\nno\r\n")
            help_lines = decode(c.call("SENTINEL", "HELP"))
            self.assertEqual(help_lines[0],
                             b"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            # The failing probes changed nothing: still one master, still the same settings.
            masters = decode(c.call("SENTINEL", "MASTERS"))
            self.assertEqual([as_dict(m)["name"] for m in masters], [MASTER_NAME])
            self.assertEqual(as_dict(masters[0])["quorum"], "2")
            self.assertEqual(as_dict(masters[0])["down-after-milliseconds"],
                             str(QUIET_DOWN_AFTER_MS))
            # INFO-CACHE: the master and its replica, each with its last INFO.
            name, entries = decode(c.call("SENTINEL", "INFO-CACHE", MASTER_NAME))
            self.assertEqual(name, MASTER_NAME.encode())
            self.assertEqual(len(entries), 2)
            ports = {int(re.search(rb"\r\ntcp_port:(\d+)\r\n", info).group(1))
                     for _, info in entries}
            self.assertEqual(ports, {self.topo.master.port, self.topo.replicas[0].port})


# ---------------------------------------------------------------------------------------------
# 3. and 4. Automatic failover
# ---------------------------------------------------------------------------------------------

class AutomaticFailover(SentinelTestCase):
    def check_failover(self, take_down, bring_back):
        topo = Topology(self, replicas=2, sentinels=3)
        topo.wait_discovered()
        with topo.master.client() as c:
            self.assertEqual(c.call("SET", "before", "1"), b"+OK\r\n")
            self.assertEqual(c.call("WAIT", "2", "30000"), b":2\r\n")
        watchers = [topo.watch(s) for s in topo.sentinels]
        old = topo.master
        old_port = old.port
        take_down(old)
        new_port = topo.wait_master_switched(old_port)
        topo.settle()
        new = topo.server_on(new_port)
        other = [r for r in topo.replicas if r.port != new_port][0]
        switch = "%s 127.0.0.1 %d 127.0.0.1 %d" % (MASTER_NAME, old_port, new_port)

        # Every sentinel publishes the switch, in this exact form.
        for w in watchers:
            self.assertEqual(w.wait("+switch-master"), switch)
        # The leader (the one that promoted the replica) went through every step, in order.
        leaders = [w for w in watchers if w.find("+promoted-slave")]
        self.assertEqual(len(leaders), 1, [w.snapshot() for w in watchers])
        leader_events = leaders[0].snapshot()
        master_text = "master %s 127.0.0.1 %d" % (MASTER_NAME, old_port)
        chosen = instance_text("slave", new_port, old_port)
        wanted = [("+sdown", lambda m: m == master_text),
                  ("+odown", lambda m: m.startswith(master_text + " #quorum ")),
                  ("+try-failover", lambda m: m == master_text),
                  ("+elected-leader", lambda m: m == master_text),
                  ("+selected-slave", lambda m: m == chosen),
                  ("+promoted-slave", lambda m: m == chosen),
                  ("+switch-master", lambda m: m == switch)]
        self.assertIsNotNone(subsequence_index(leader_events, wanted),
                             "events out of order or missing on the leader: %r" % leader_events)
        odown = leaders[0].find("+odown")[0]
        votes, quorum = re.search(r"#quorum (\d+)/(\d+)$", odown).groups()
        self.assertEqual(quorum, "2")
        self.assertGreaterEqual(int(votes), 2)
        # The objective down took a quorum (2) of sentinels that saw it subjectively down
        # themselves, each of which published +sdown before the switch.
        saw_sdown = [w for w in watchers if subsequence_index(w.snapshot(), [
            ("+sdown", lambda m: m == master_text), ("+switch-master", lambda m: m == switch)])]
        self.assertGreaterEqual(len(saw_sdown), 2, [w.snapshot() for w in watchers])

        # The promoted replica is a master; the other replica follows it.
        self.assertTrue(is_master(new), role(new))
        self.assert_replica_of(other, new_port, "the other replica")
        self.assertEqual(int(info_dict(other, "replication")["master_port"]), new_port)
        for s in topo.sentinels:
            self.assertEqual(instance_ports(s, "REPLICAS"), {other.port, old_port},
                             "%r: old %d new %d other %d; replicas %r; events %r; log:\n%s"
                             % (s, old_port, new_port, other.port,
                                call(s, "SENTINEL", "REPLICAS", MASTER_NAME),
                                watchers[topo.sentinels.index(s)].snapshot(),
                                s.output()[-5000:]))
            # (Flagged "master,disconnected" until its link to the new master is up.)
            wait_for(lambda: as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))["flags"]
                     == "master", timeout=FAILOVER_TIMEOUT, interval=0.1,
                     message="%r's new master flagged master only" % s)

        self.assertEqual(call(new, "GET", "before"), b"1")
        self.assertEqual(call(new, "SET", "after", "2"), b"OK")

        # The old master comes back; the sentinels make it a replica of the new one, and it
        # takes the new master's data.
        back = bring_back(old)
        self.assert_replica_of(back, new_port, "the old master")
        convert = instance_text("slave", old_port, new_port)
        wait_for(lambda: any(w.find("+convert-to-slave", lambda m: m == convert)
                             for w in watchers),
                 timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="+convert-to-slave %s" % convert)
        # And the new master sees both replicas online.
        wait_for(lambda: int(info_dict(new, "replication")["connected_slaves"]) == 2,
                 timeout=SYNC_TIMEOUT, message="two replicas on the new master")
        wait_for(lambda: call(back, "GET", "after") == b"2", timeout=SYNC_TIMEOUT,
                 message="the old master receiving the new master's writes")
        self.assertEqual(call(back, "GET", "before"), b"1")

    def test_master_killed(self):
        def kill(master):
            master.signal(signal.SIGKILL)
            master.wait_exit()

        def restart_empty(old):
            srv = start_data_server(["--port", old.port])
            self.addCleanup(srv.stop)
            self.assertEqual(call(srv, "DBSIZE"), 0)
            return srv
        self.check_failover(kill, restart_empty)

    def test_master_paused(self):
        def pause(master):
            master.signal(signal.SIGSTOP)
            # Runs before the server's stop (cleanups run last-in first-out).
            self.addCleanup(master.signal, signal.SIGCONT)

        def resume(master):
            master.signal(signal.SIGCONT)
            return master
        self.check_failover(pause, resume)


# ---------------------------------------------------------------------------------------------
# 5. redis-py's Sentinel client
# ---------------------------------------------------------------------------------------------


class RedisPyClient(SentinelTestCase):
    def test_master_for_follows_a_failover(self):
        redis = import_redis()
        from redis.sentinel import Sentinel
        topo = Topology(self, replicas=2, sentinels=3)
        topo.wait_discovered()
        sentinel = Sentinel([("127.0.0.1", s.port) for s in topo.sentinels], socket_timeout=5)
        self.assertEqual(sentinel.discover_master(MASTER_NAME), ("127.0.0.1", topo.master.port))
        self.assertEqual(sorted(sentinel.discover_slaves(MASTER_NAME)),
                         sorted(("127.0.0.1", r.port) for r in topo.replicas))
        master = sentinel.master_for(MASTER_NAME, socket_timeout=5)
        self.addCleanup(master.connection_pool.disconnect)
        self.assertTrue(master.set("before", "v1"))
        self.assertEqual(master.wait(2, 10000), 2)
        self.assertEqual(master.connection_pool.get_master_address(),
                         ("127.0.0.1", topo.master.port))

        old_port = topo.master.port
        topo.kill_master()

        def write_after():
            try:
                return master.set("after", "v2")
            except redis.RedisError:
                return False
        wait_for(write_after, timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="a write through master_for succeeding after the failover")
        new_port = topo.wait_master_switched(old_port)
        topo.settle()
        self.assertEqual(sentinel.discover_master(MASTER_NAME), ("127.0.0.1", new_port))
        new = topo.server_on(new_port)
        # The write landed on the promoted replica, which kept what was replicated before.
        self.assertEqual(call(new, "GET", "after"), b"v2")
        self.assertEqual(master.get("before"), b"v1")
        self.assertEqual(master.get("after"), b"v2")
        # slave_for reads from the remaining replica once the dead one is flagged down.
        other = [r for r in topo.replicas if r.port != new_port][0]
        wait_for(lambda: sentinel.discover_slaves(MASTER_NAME) == [("127.0.0.1", other.port)],
                 timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="discover_slaves listing the remaining replica only")
        replica = sentinel.slave_for(MASTER_NAME, socket_timeout=5)
        self.addCleanup(replica.connection_pool.disconnect)
        wait_for(lambda: replica.get("after") == b"v2", timeout=SYNC_TIMEOUT,
                 message="the write after the failover reaching the other replica")
        self.assertEqual(replica.get("before"), b"v1")


# ---------------------------------------------------------------------------------------------
# 6. The persisted config
# ---------------------------------------------------------------------------------------------


class Persistence(SentinelTestCase):
    def test_config_file_records_state_and_survives_restart(self):
        topo = Topology(self, replicas=2, sentinels=3, down_after=QUIET_DOWN_AFTER_MS)
        topo.wait_discovered()
        ids = {s.port: call(s, "SENTINEL", "MYID").decode() for s in topo.sentinels}
        replica_ports = sorted(r.port for r in topo.replicas)

        def recorded(s):
            """The discovery state in s's file, once it is all there."""
            known_r = sorted(int(l[4]) for l in config_lines(s, "sentinel known-replica")
                             if l[2] == MASTER_NAME)
            known_s = sorted((int(l[4]), l[5]) for l in config_lines(s, "sentinel known-sentinel")
                             if l[2] == MASTER_NAME)
            want_s = sorted((p, i) for p, i in ids.items() if p != s.port)
            return known_r == replica_ports and known_s == want_s
        for s in topo.sentinels:
            wait_for(lambda: recorded(s), timeout=DISCOVERY_TIMEOUT, interval=0.1,
                     message="%r's file listing the replicas and sentinels:\n%s"
                     % (s, read_config(s)))
            self.assertEqual(config_lines(s, "sentinel myid"), [["sentinel", "myid", ids[s.port]]])
            self.assertEqual(config_lines(s, "sentinel monitor"),
                             [["sentinel", "monitor", MASTER_NAME, "127.0.0.1",
                               str(topo.master.port), "2"]])
            self.assertEqual(config_lines(s, "sentinel current-epoch"),
                             [["sentinel", "current-epoch", "0"]])
            for l in config_lines(s, "sentinel known-replica"):
                self.assertEqual(l[:4], ["sentinel", "known-replica", MASTER_NAME, "127.0.0.1"])
            for l in config_lines(s, "sentinel known-sentinel"):
                self.assertEqual(l[:4], ["sentinel", "known-sentinel", MASTER_NAME, "127.0.0.1"])
                self.assertEqual(len(l), 6)
            self.assertIn(["sentinel", "down-after-milliseconds", MASTER_NAME,
                           str(QUIET_DOWN_AFTER_MS)],
                          config_lines(s, "sentinel down-after-milliseconds"))

        # A restart reads it back: the same id, the replicas and sentinels known at once.
        first = topo.sentinels[0]
        self.assertEqual(first.stop(), 0)
        again = topo.restart_sentinel(first)
        self.assertEqual(call(again, "SENTINEL", "MYID").decode(), ids[first.port])
        self.assertEqual(instance_ports(again, "REPLICAS"), set(replica_ports))
        self.assertEqual(instance_ports(again, "SENTINELS"),
                         {p for p in ids if p != first.port})
        self.assertEqual(master_addr(again), ("127.0.0.1", topo.master.port))
        # The others still count it once, under its id.
        for s in topo.sentinels[1:]:
            wait_for(lambda: len(call(s, "SENTINEL", "SENTINELS", MASTER_NAME)) == 2
                     and as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))
                     ["num-other-sentinels"] == "2", timeout=DISCOVERY_TIMEOUT,
                     message="%r counting the restarted sentinel once" % s)
        self.assertEqual(raw_call(again, "SENTINEL", "CKQUORUM", MASTER_NAME), CKQUORUM_3)

        # After a failover every file names the new master, with the epoch that elected it.
        # (First the restarted sentinel reads each replica's INFO again: until it has, no
        # replica is one it may promote.)
        wait_for(lambda: known_replicas(again) == set(replica_ports), timeout=DISCOVERY_TIMEOUT,
                 interval=0.1, message="the restarted sentinel connected to the replicas")
        old_port = topo.master.port
        self.assertEqual(raw_call(again, "SENTINEL", "FAILOVER", MASTER_NAME), b"+OK\r\n")
        new_port = topo.wait_master_switched(old_port)

        def updated(s):
            monitor = config_lines(s, "sentinel monitor")
            epoch = config_lines(s, "sentinel config-epoch")
            return (monitor == [["sentinel", "monitor", MASTER_NAME, "127.0.0.1", str(new_port),
                                 "2"]]
                    and len(epoch) == 1 and epoch[0][2] == MASTER_NAME and int(epoch[0][3]) >= 1)
        for s in topo.sentinels:
            wait_for(lambda: updated(s), timeout=FAILOVER_TIMEOUT, interval=0.1,
                     message="%r's file naming the new master:\n%s" % (s, read_config(s)))
            current = config_lines(s, "sentinel current-epoch")
            self.assertEqual(len(current), 1)
            config_epoch = int(config_lines(s, "sentinel config-epoch")[0][3])
            self.assertGreaterEqual(int(current[0][2]), config_epoch)
            self.assertEqual(as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))["config-epoch"],
                             str(config_epoch))
            # The old master is now one of the known replicas.
            known = {int(l[4]) for l in config_lines(s, "sentinel known-replica")}
            self.assertIn(old_port, known)
            self.assertNotIn(new_port, known)


# ---------------------------------------------------------------------------------------------
# 7. SENTINEL FAILOVER
# ---------------------------------------------------------------------------------------------


class ForcedFailover(SentinelTestCase):
    def test_failover_of_a_healthy_master(self):
        topo = Topology(self, replicas=2, sentinels=1, quorum=1,
                        down_after=QUIET_DOWN_AFTER_MS)
        topo.wait_discovered()
        s = topo.sentinels[0]
        watcher = topo.watch(s)
        old_port = topo.master.port
        self.assertEqual(raw_call(s, "SENTINEL", "FAILOVER", MASTER_NAME), b"+OK\r\n")
        new_port = topo.wait_master_switched(old_port)
        self.assertEqual(watcher.wait("+switch-master"),
                         "%s 127.0.0.1 %d 127.0.0.1 %d" % (MASTER_NAME, old_port, new_port))
        self.assertIsNotNone(subsequence_index(watcher.snapshot(), [
            ("+new-epoch", None), ("+try-failover", None), ("+elected-leader", None),
            ("+selected-slave", None), ("+promoted-slave", None), ("+switch-master", None)]),
            watcher.snapshot())
        # Forced: no subjective or objective down of the master was needed.
        before_switch = watcher.snapshot()
        before_switch = before_switch[:[c for c, _ in before_switch].index("+switch-master")]
        self.assertEqual([e for e in before_switch if e[0] in ("+sdown", "+odown")], [])
        new = topo.server_on(new_port)
        self.assertTrue(is_master(new))
        other = [r for r in topo.replicas if r.port != new_port][0]
        self.assert_replica_of(other, new_port, "the other replica")
        # The old master, healthy all along, is turned into a replica of the new one.
        self.assert_replica_of(topo.master, new_port, "the old master")
        watcher.wait("+convert-to-slave", lambda m: m == instance_text("slave", old_port,
                                                                       new_port))
        self.assertEqual(as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))["config-epoch"],
                         "1")

    def test_no_replica_to_promote(self):
        topo = Topology(self, replicas=0, sentinels=1, quorum=1,
                        down_after=QUIET_DOWN_AFTER_MS)
        s = topo.sentinels[0]

        def connected():
            entry = as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))
            return entry["flags"] == "master" and HEX40.match(entry["runid"])
        wait_for(connected, timeout=DISCOVERY_TIMEOUT, interval=0.1,
                 message="the sentinel connected to the master and read its INFO")
        with s.client() as c:
            self.assertEqual(c.call("SENTINEL", "FAILOVER", MASTER_NAME), NOGOODSLAVE)
            # Nothing changed: no failover started, no new epoch.
            self.assertEqual(decode(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)),
                             [b"127.0.0.1", str(topo.master.port).encode()])
            entry = as_dict(decode(c.call("SENTINEL", "MASTER", MASTER_NAME)))
            self.assertEqual(entry["flags"], "master")
            self.assertEqual(entry["config-epoch"], "0")
        self.assertTrue(is_master(topo.master))


# ---------------------------------------------------------------------------------------------
# 8. MONITOR / SET / REMOVE at runtime
# ---------------------------------------------------------------------------------------------


class RuntimeMonitoring(SentinelTestCase):
    def test_monitor_set_remove(self):
        topo = Topology(self, replicas=0, sentinels=1, down_after=QUIET_DOWN_AFTER_MS)
        s = topo.sentinels[0]
        watcher = topo.watch(s)
        m2 = start_data_server()
        self.addCleanup(m2.stop)
        m2_text = "master m2 127.0.0.1 %d" % m2.port
        with s.client() as c:
            self.assertEqual(c.call("SENTINEL", "MONITOR", "m2", "127.0.0.1", str(m2.port), "2"),
                             b"+OK\r\n")
            self.assertEqual(watcher.wait("+monitor"), m2_text + " quorum 2")
            entry = as_dict(decode(c.call("SENTINEL", "MASTER", "m2")))
            self.assertEqual((entry["ip"], entry["port"], entry["quorum"]),
                             ("127.0.0.1", str(m2.port), "2"))
            self.assertEqual(entry["down-after-milliseconds"], "30000")  # the default
            self.assertEqual(decode(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m2")),
                             [b"127.0.0.1", str(m2.port).encode()])
            self.assertEqual(sorted(as_dict(m)["name"]
                                    for m in decode(c.call("SENTINEL", "MASTERS"))),
                             ["m2", MASTER_NAME])
            sentinel_role = decode(c.call("ROLE"))
            self.assertEqual(sentinel_role[0], b"sentinel")
            self.assertEqual(sorted(sentinel_role[1]), [b"m2", MASTER_NAME.encode()])
            self.assertIn("sentinel_masters:2", decode(c.call("INFO", "sentinel")).decode())
            self.assertIn(["sentinel", "monitor", "m2", "127.0.0.1", str(m2.port), "2"],
                          config_lines(s, "sentinel monitor"))

            self.assertEqual(c.call("SENTINEL", "SET", "m2", "down-after-milliseconds", "2000"),
                             b"+OK\r\n")
            self.assertEqual(watcher.wait("+set"), m2_text + " down-after-milliseconds 2000")
            self.assertEqual(
                as_dict(decode(c.call("SENTINEL", "MASTER", "m2")))["down-after-milliseconds"],
                "2000")
            self.assertIn(["sentinel", "down-after-milliseconds", "m2", "2000"],
                          config_lines(s, "sentinel down-after-milliseconds"))
            # Several options at once, each applied and recorded.
            self.assertEqual(c.call("SENTINEL", "SET", "m2", "quorum", "1", "failover-timeout",
                                    "20000"), b"+OK\r\n")
            entry = as_dict(decode(c.call("SENTINEL", "MASTER", "m2")))
            self.assertEqual((entry["quorum"], entry["failover-timeout"]), ("1", "20000"))
            self.assertIn(["sentinel", "monitor", "m2", "127.0.0.1", str(m2.port), "1"],
                          config_lines(s, "sentinel monitor"))
            self.assertIn(["sentinel", "failover-timeout", "m2", "20000"],
                          config_lines(s, "sentinel failover-timeout"))

            self.assertEqual(c.call("SENTINEL", "REMOVE", "m2"), b"+OK\r\n")
            self.assertEqual(watcher.wait("-monitor"), m2_text)
            self.assertEqual(c.call("SENTINEL", "MASTER", "m2"),
                             b"-ERR No such master with that name\r\n")
            self.assertEqual(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m2"), b"*-1\r\n")
            self.assertEqual(c.call("ROLE"), b"*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n")
        text = read_config(s)
        self.assertNotRegex(text, r"(?m)^sentinel \S+ m2\b")
        self.assertEqual(config_lines(s, "sentinel monitor"),
                         [["sentinel", "monitor", MASTER_NAME, "127.0.0.1",
                           str(topo.master.port), "2"]])
        # The file as left is one a sentinel starts from: the removal survives a restart.
        s.stop()
        again = start_sentinel(restart_of=s)
        self.addCleanup(again.stop)
        self.assertEqual([as_dict(m)["name"] for m in call(again, "SENTINEL", "MASTERS")],
                         [MASTER_NAME])


# ---------------------------------------------------------------------------------------------
# 9. A quorum of these sentinels and a real Redis Sentinel
# ---------------------------------------------------------------------------------------------


class MixedQuorum(SentinelTestCase):
    def test_failover_with_a_real_redis_sentinel(self):
        tested = sentinel_under_test()
        topo = Topology(self, replicas=2, sentinel_binaries=[tested, tested, REAL_SENTINEL])
        real = topo.sentinels[2]
        topo.wait_discovered()
        self.assertEqual(raw_call(real, "SENTINEL", "CKQUORUM", MASTER_NAME), CKQUORUM_3)
        watcher = topo.watch(real)
        old_port = topo.master.port
        topo.kill_master()
        new_port = topo.wait_master_switched(old_port)
        topo.settle()
        self.assertEqual({master_addr(s) for s in topo.sentinels}, {("127.0.0.1", new_port)})
        self.assertEqual(watcher.wait("+switch-master"),
                         "%s 127.0.0.1 %d 127.0.0.1 %d" % (MASTER_NAME, old_port, new_port))
        self.assertTrue(is_master(topo.server_on(new_port)))
        other = [r for r in topo.replicas if r.port != new_port][0]
        self.assert_replica_of(other, new_port, "the other replica")
        self.assertEqual(instance_ports(real, "SENTINELS"),
                         {s.port for s in topo.sentinels if s is not real})
        # All three agree on the epoch of the new configuration.
        epochs = {as_dict(call(s, "SENTINEL", "MASTER", MASTER_NAME))["config-epoch"]
                  for s in topo.sentinels}
        self.assertEqual(len(epochs), 1, epochs)
        self.assertGreaterEqual(int(epochs.pop()), 1)


class PasswordProtectedSentinels(SentinelTestCase):
    """Sentinels with requirepass (the default user's password) and ACL users, reaching each
    other with `sentinel sentinel-pass`, a real Redis Sentinel among them."""

    def test_authenticated_quorum_and_acl_users(self):
        master = start_data_server()
        self.addCleanup(master.stop)
        extra = ["requirepass s3cret", "sentinel sentinel-pass s3cret"]
        binaries = [sentinel_under_test(), sentinel_under_test(), REAL_SENTINEL]
        sentinels = []
        for binary in binaries:
            srv = start_sentinel(master.port, binary=binary, down_after=QUIET_DOWN_AFTER_MS,
                                 extra=extra)
            self.addCleanup(srv.stop)
            sentinels.append(srv)

        def authed(srv):
            c = srv.client(timeout=10)
            self.addCleanup(c.close)
            self.assertEqual(c.call("AUTH", "s3cret"), b"+OK\r\n")
            return c

        clients = [authed(s) for s in sentinels]
        # Each finds the other two although every one of them wants a password.
        for s, c in zip(sentinels, clients):
            others = {o.port for o in sentinels if o is not s}
            wait_for(lambda: {int(as_dict(e)["port"]) for e in
                              decode(c.call("SENTINEL", "SENTINELS", MASTER_NAME))} == others,
                     timeout=DISCOVERY_TIMEOUT, interval=0.1,
                     message="sentinel on %d discovering the others" % s.port)
        for c in clients:
            self.assertEqual(c.call("SENTINEL", "CKQUORUM", MASTER_NAME), CKQUORUM_3)
        # Without the password: NOAUTH, as on Redis's sentinel.
        for s in sentinels:
            with s.client(timeout=10) as c:
                self.assertEqual(c.call("SENTINEL", "MASTERS"),
                                 b"-NOAUTH Authentication required.\r\n")
        # ACL users on a sentinel: a monitoring user that may only read the master's address.
        tested, real = clients[0], clients[2]
        for c in (tested, real):
            self.assertEqual(c.call("ACL", "SETUSER", "monitor", "on", ">m",
                                    "+sentinel|get-master-addr-by-name", "+ping"), b"+OK\r\n")
        for s in (sentinels[0], sentinels[2]):
            with s.client(timeout=10) as c:
                self.assertEqual(c.call("AUTH", "monitor", "m"), b"+OK\r\n")
                self.assertEqual(decode(c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                               MASTER_NAME)),
                                 [b"127.0.0.1", str(master.port).encode()])
                self.assertEqual(c.call("SENTINEL", "MASTERS"),
                                 b"-NOPERM this user has no permissions to run the "
                                 b"'sentinel|masters' command\r\n")
        # The same users (single-command rules come in hash order on Redis: compared as sets).
        self.assertEqual([sorted(line.split()) for line in decode(tested.call("ACL", "LIST"))],
                         [sorted(line.split()) for line in decode(real.call("ACL", "LIST"))])


# ---------------------------------------------------------------------------------------------
# 10. A subscriber to +switch-master
# ---------------------------------------------------------------------------------------------


class SwitchMasterSubscriber(SentinelTestCase):
    def test_subscribe_switch_master(self):
        topo = Topology(self, replicas=1, sentinels=2, down_after=QUIET_DOWN_AFTER_MS)
        topo.wait_discovered()
        subscribers = []
        for s in topo.sentinels:
            c = RawClient(port=s.port, timeout=FAILOVER_TIMEOUT)
            self.addCleanup(c.close)
            self.assertEqual(c.call("SUBSCRIBE", "+switch-master"),
                             b"*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n")
            subscribers.append(c)
        old_port = topo.master.port
        new_port = topo.replicas[0].port
        # The forcing sentinel publishes it; the other learns the new configuration from it.
        self.assertEqual(raw_call(topo.sentinels[0], "SENTINEL", "FAILOVER", MASTER_NAME),
                         b"+OK\r\n")
        text = b"mymaster 127.0.0.1 %d 127.0.0.1 %d" % (old_port, new_port)
        for c in subscribers:
            self.assertEqual(c.read_reply(),
                             b"*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$%d\r\n%s\r\n"
                             % (len(text), text))
        self.assertEqual(topo.wait_master_switched(old_port), new_port)


if __name__ == "__main__":
    unittest.main()
