"""Replication (PSYNC) on the real keyward-server, master and replica, against Debian's
redis-server 7.0.15 on the other end of the link and as the oracle for every reply compared.

Covered: a full sync of every type and encoding both ways and in both transfer forms (diskless
`$EOF:` and disk `$<len>`, a Keyward or a Redis master), several MB of RDB and multi-MB values,
the live stream after it (every type, scripts, functions, MULTI/EXEC, expiry, SELECT of other
databases, PUBLISH), writes held while the snapshot is produced (shared by replicas that arrive
meanwhile, counted against the replica output limit as Redis counts it), a sync waiting for a
running BGSAVE/BGREWRITEAOF, a replica with the AOF on, INFO replication and ROLE on both sides,
WAIT; chains (equal offsets, a middle replica moving to another master); partial
resynchronisation after the master link is killed, and a full one when the gap outgrew the
backlog; promotion with REPLICAOF NO ONE and the other replicas continuing partially (Keyward and
Redis on either side, sub-replicas of a chain too); read-only replicas; replica-serve-stale-data
no; min-replicas-to-write; replica-announce-ip/port; masterauth/masteruser; logically expired keys
on a replica; the replication commands' replies byte for byte; redis-cli --rdb and
--functions-rdb; a master killed and replaced by a new one on the same port; fencing counters,
guard marks, leases and the promotion delay across a failover.

Nothing sleeps to order events: every wait polls INFO (or a reply) with wait_for.

    cd tests/integration
    PYTHONPATH=../support KEYWARD_SERVER=../../build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest test_replication -v

With KEYWARD_SERVER=/usr/bin/redis-server every test runs Redis against Redis (the LOCK.* tests
are skipped): that is how the expectations written here were checked against Redis itself.
"""

import os
import re
import signal
import unittest

from keyward_harness import (REDIS_CLI, Error, ServerTestCase, decode, encode_command,
                             keyward_binary, make_workdir, wait_for)
from test_persistence import dataset, key_differences, populate

# Validation mode: the "Keyward" servers are redis-server too.
SERVER_IS_REDIS = os.path.basename(keyward_binary()) == "redis-server"

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"

# Replication waits: a full sync under ASan, or a reconnection at the next once-a-second cron.
SYNC_TIMEOUT = 30.0

WRITE_LIBRARY = ("#!lua name=repllib\n"
                 "redis.register_function('setit', function(keys, args)\n"
                 "  return redis.call('SET', keys[1], args[1]) end)\n"
                 "redis.register_function{function_name='bump', callback=function(keys)\n"
                 "  redis.call('INCR', keys[1]); return redis.call('SPOP', keys[2]) end}")

READONLY = b"-READONLY You can't write against a read only replica.\r\n"
NOREPLICAS = b"-NOREPLICAS Not enough good replicas to write.\r\n"
MASTERDOWN = (b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to "
              b"'no'.\r\n")


def info(c, section="replication"):
    """INFO <section> as a dict of str -> str."""
    text = decode(c.call("INFO", section)).decode()
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def stat(c, name):
    return int(info(c, "stats")[name])


def ok(c, *args):
    """Runs a command that must not fail; returns the decoded reply."""
    raw = c.call(*args)
    if raw.startswith(b"-"):
        raise AssertionError("%r failed: %r" % (args, raw))
    return decode(raw)


# Fields a replica legitimately computes for itself (Redis 7.0 replicas too): a consumer group's
# entries-read and lag (the propagated XCLAIM / XGROUP SETID leave them unknown) and a consumer's
# seen-time (set when the replica applies the command).
UNREPLICATED_STREAM_FIELDS = (b"entries-read", b"lag", b"seen-time", b"active-time")


def _without_local_fields(value):
    """A decoded XINFO STREAM FULL reply minus UNREPLICATED_STREAM_FIELDS, at every level (the
    stream, each group and each consumer is a flat field/value list with "length" or "name")."""
    if not isinstance(value, list):
        return value
    names = value[::2]
    is_map = (len(value) % 2 == 0 and all(isinstance(k, bytes) for k in names)
              and (b"length" in names or b"name" in names))
    if not is_map:
        return [_without_local_fields(v) for v in value]
    out = []
    for k, v in zip(names, value[1::2]):
        if k not in UNREPLICATED_STREAM_FIELDS:
            out += [k, _without_local_fields(v)]
    return out


def replicated_dataset(c):
    """dataset() in the terms a replica must reproduce:
    - "raw" and "embstr" alike: loading an RDB (a full sync) makes a short raw string embstr, in
      Redis as in Keyward; every other encoding must be the same;
    - a stream with consumer groups as XINFO STREAM FULL minus the fields a replica computes
      itself (DUMP differs there between a Redis master and its Redis replica);
    - the function libraries as FUNCTION LIST WITHCODE in name order (FUNCTION DUMP follows the
      order of a hash table)."""
    data = dataset(c)
    out = {}
    for key, entry in data.items():
        if key == "functions":
            continue
        enc, deadline, value = entry
        if enc in (b"raw", b"embstr"):
            enc = b"string"
        if enc == b"stream":
            db, name = key
            c.call("SELECT", str(db))
            full = decode(c.call("XINFO", "STREAM", name, "FULL"))
            c.call("SELECT", "0")
            groups = full[full.index(b"groups") + 1]
            if groups:
                value = _without_local_fields(full)
        out[key] = (enc, deadline, value)
    libraries = []
    for lib in decode(c.call("FUNCTION", "LIST", "WITHCODE")):
        fields = dict(zip(lib[::2], lib[1::2]))
        fields[b"functions"] = sorted(repr(f) for f in fields[b"functions"])
        libraries.append(sorted(fields.items()))
    out["functions"] = sorted(libraries)
    return out


def live_writes(c):
    """Writes of every type after the sync (call after populate(c)): the commands whose
    propagation Redis rewrites (relative expiry -> PXAT/PEXPIREAT, INCRBYFLOAT -> SET KEEPTTL,
    SPOP -> SREM, blocking pops -> plain pops, XREADGROUP -> XCLAIM, scripts and functions ->
    their effects in MULTI/EXEC), transactions, SELECT of other databases, a script that SELECTs
    itself, keys deleted by an expiry in the past."""
    # Strings.
    ok(c, "SET", "live:str", "v", "EX", "1000")
    ok(c, "APPEND", "live:str", "w")
    ok(c, "INCR", "live:counter")
    ok(c, "INCRBY", "int", "10")
    ok(c, "INCRBYFLOAT", "live:float", "1.5")
    ok(c, "SETRANGE", "live:range", "5", "x")
    ok(c, "SETBIT", "live:bits", "100", "1")
    ok(c, "BITFIELD", "live:bf", "SET", "u8", "0", "200", "INCRBY", "u8", "0", "100")
    ok(c, "GETEX", "embstr", "PX", "500000")
    ok(c, "GETDEL", "negative")
    ok(c, "MSET", "live:m1", "a", "live:m2", "b")
    ok(c, "SETEX", "live:setex", "1000", "x")
    ok(c, "SET", "live:keepttl", "1", "EX", "2000")
    ok(c, "SET", "live:keepttl", "2", "KEEPTTL")
    ok(c, "SET", "live:gone", "x")
    ok(c, "PEXPIREAT", "live:gone", "1")  # in the past: deleted, propagated as a DEL
    # Lists.
    ok(c, "LPUSH", "live:list", "a", "b", "c", "d")
    ok(c, "RPOP", "live:list")
    ok(c, "LINSERT", "live:list", "BEFORE", "b", "z")
    ok(c, "LSET", "live:list", "0", "first")
    ok(c, "LTRIM", "biglist", "0", "499")
    ok(c, "LMOVE", "list", "live:list", "LEFT", "RIGHT")
    ok(c, "RPOPLPUSH", "biglist", "live:list")
    ok(c, "LMPOP", "1", "biglist", "LEFT", "COUNT", "2")
    ok(c, "BLPOP", "biglist", "0")
    ok(c, "LREM", "biglist", "0", "element-100")
    # Hashes.
    ok(c, "HSET", "live:hash", "a", "1", "b", "2")
    ok(c, "HINCRBY", "live:hash", "a", "5")
    ok(c, "HINCRBYFLOAT", "live:hash", "b", "0.25")
    ok(c, "HSETNX", "live:hash", "c", "3")
    ok(c, "HDEL", "bighash", "field-1", "field-2")
    ok(c, "HSET", "hash", "f3", "x" * 100)  # converted to a hashtable
    # Sets.
    ok(c, "SADD", "live:set", "x", "y", "z")
    ok(c, "SREM", "set", "a")
    ok(c, "SPOP", "bigintset", "3")
    ok(c, "SMOVE", "live:set", "set", "x")
    ok(c, "SINTERSTORE", "live:inter", "intset", "bigintset")
    ok(c, "SDIFFSTORE", "live:diff", "bigintset", "intset")
    ok(c, "SADD", "intset", "not-an-int")  # intset -> hashtable
    # Sorted sets.
    ok(c, "ZADD", "live:zset", "1", "a", "2", "b", "3", "c")
    ok(c, "ZINCRBY", "live:zset", "2.5", "a")
    ok(c, "ZREM", "zset", "low")
    ok(c, "ZPOPMIN", "bigzset", "2")
    ok(c, "BZPOPMAX", "bigzset", "0")
    ok(c, "ZUNIONSTORE", "live:union", "2", "zset", "live:zset", "WEIGHTS", "1", "2")
    ok(c, "ZRANGESTORE", "live:rstore", "bigzset", "0", "9")
    ok(c, "ZREMRANGEBYSCORE", "bigzset", "100", "150")
    ok(c, "GEOADD", "live:geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
       "Catania")
    ok(c, "GEOSEARCHSTORE", "live:geostore", "live:geo", "FROMLONLAT", "15", "37", "BYRADIUS",
       "200", "km", "ASC")
    # HyperLogLog.
    ok(c, "PFADD", "hll", "d", "e")
    ok(c, "PFMERGE", "live:hll", "hll")
    ok(c, "PFCOUNT", "hll")  # refreshes the cached cardinality: propagated
    # Streams.
    ok(c, "XADD", "live:stream", "1-1", "a", "1")
    ok(c, "XADD", "live:stream", "*", "b", "2")
    ok(c, "XADD", "live:stream", "MAXLEN", "=", "10", "*", "c", "3")
    ok(c, "XGROUP", "CREATE", "live:stream", "g", "0")
    ok(c, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "live:stream", ">")
    ok(c, "XACK", "live:stream", "g", "1-1")
    ok(c, "XDEL", "live:stream", "1-1")
    ok(c, "XTRIM", "live:stream", "MAXLEN", "5")
    ok(c, "XADD", "live:stream", "*", "d", "4")
    ok(c, "XREADGROUP", "GROUP", "g", "carol", "STREAMS", "live:stream", ">")
    ok(c, "XAUTOCLAIM", "live:stream", "g", "dave", "0", "0-0", "COUNT", "1")
    ok(c, "XGROUP", "CREATE", "live:stream", "g2", "$", "MKSTREAM")
    ok(c, "XGROUP", "SETID", "live:stream", "g2", "0", "ENTRIESREAD", "0")
    ok(c, "XGROUP", "CREATECONSUMER", "live:stream", "g2", "erin")
    ok(c, "XGROUP", "DELCONSUMER", "live:stream", "g", "bob")
    ok(c, "XADD", "live:stream2", "NOMKSTREAM", "*", "x", "1")  # nothing created
    ok(c, "XADD", "live:stream3", "5-1", "x", "1")
    ok(c, "XSETID", "live:stream3", "10-0", "ENTRIESADDED", "3", "MAXDELETEDID", "4-0")
    # Generic.
    ok(c, "RENAME", "live:counter", "live:counter2")
    ok(c, "COPY", "list", "live:copy")
    ok(c, "DEL", "live:m1")
    ok(c, "UNLINK", "live:m2")
    ok(c, "EXPIRE", "live:list", "1000")
    ok(c, "PEXPIREAT", "live:hash", "4102444800000")
    ok(c, "PERSIST", "volatile")
    ok(c, "PEXPIRE", "live:set", "900000")
    ok(c, "SORT", "bigintset", "LIMIT", "0", "5", "STORE", "live:sorted")
    dump = ok(c, "DUMP", "hash")
    ok(c, "RESTORE", "live:restored", "0", dump)
    ok(c, "MOVE", "live:copy", "3")
    ok(c, "COPY", "live:hash", "live:hash-in-db-8", "DB", "8")
    ok(c, "RENAMENX", "live:counter2", "live:counter3")
    ok(c, "SETNX", "live:setnx", "1")
    ok(c, "GETSET", "live:setnx", "2")
    ok(c, "SET", "live:setget", "1", "GET")
    ok(c, "SET", "live:ttl-options", "x")
    ok(c, "EXPIRE", "live:ttl-options", "1000", "NX")
    ok(c, "EXPIRE", "live:ttl-options", "2000", "GT")
    ok(c, "EXPIRE", "live:ttl-options", "500", "XX")
    ok(c, "PEXPIRE", "live:setnx", "-1")  # deleted
    ok(c, "GETEX", "live:setget", "PERSIST")
    ok(c, "ZMPOP", "1", "bigzset", "MIN", "COUNT", "2")
    ok(c, "BZMPOP", "0", "1", "bigzset", "MAX")
    ok(c, "BLMOVE", "live:list", "live:list2", "RIGHT", "LEFT", "0")
    ok(c, "BLMPOP", "0", "1", "live:list", "RIGHT")
    ok(c, "BRPOPLPUSH", "live:list", "live:list2", "0")
    ok(c, "HINCRBYFLOAT", "live:float-hash", "f", "1e3")
    # Other databases, directly and inside a transaction.
    ok(c, "SELECT", "3")
    ok(c, "SET", "in-db-3", "x", "PX", "800000")
    ok(c, "HSET", "hash-in-db-3", "f", "v")
    ok(c, "SELECT", "9")
    ok(c, "SET", "flushed", "x")
    ok(c, "FLUSHDB")
    ok(c, "SELECT", "6")
    ok(c, "SET", "swapped", "6")
    ok(c, "SWAPDB", "6", "7")
    ok(c, "SELECT", "0")
    ok(c, "MULTI")
    for cmd in (("SET", "tx:a", "1"), ("INCR", "tx:a"), ("LPUSH", "tx:list", "x"),
                ("EXPIRE", "tx:list", "5000"), ("SELECT", "2"), ("SET", "tx:in-db-2", "y"),
                ("SELECT", "0"), ("SPOP", "set")):
        if c.call(*cmd) != b"+QUEUED\r\n":
            raise AssertionError("%r not queued" % (cmd,))
    ok(c, "EXEC")
    # Scripts: effects replication (SPOP, TIME and a SELECT inside the script).
    ok(c, "EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('INCR', KEYS[2]);"
       " return redis.call('SPOP', KEYS[3])", "3", "script:a", "script:n", "bigintset", "val")
    ok(c, "EVAL", "local t = redis.call('TIME'); redis.call('SET', KEYS[1], t[1] .. t[2]);"
       " return 1", "1", "script:time")
    ok(c, "EVAL", "redis.call('SELECT', '4'); redis.call('SET', 'in-script-db', 'y');"
       " redis.call('EXPIRE', 'in-script-db', 3000); return 1", "0")
    sha = ok(c, "SCRIPT", "LOAD", "return redis.call('RPUSH', KEYS[1], ARGV[1])")
    ok(c, "EVALSHA", sha, "1", "script:list", "e1")
    ok(c, "EVALSHA", sha, "1", "script:list", "e2")
    # The SELECT above was the script's own: this client is still in db 0.
    ok(c, "SET", "after-script", "db0")
    # Functions.
    ok(c, "FUNCTION", "LOAD", "REPLACE", WRITE_LIBRARY)
    ok(c, "FCALL", "setit", "1", "fcall:key", "value")
    ok(c, "FCALL", "bump", "2", "fcall:n", "bigintset")


PAD_KEYS = 200


def pad(c):
    ok(c, "MSET", *[x for i in range(PAD_KEYS) for x in ("pad:%d" % i, "x")])


def more_writes(c, tag):
    """A few writes, each naming `tag`, in two databases."""
    ok(c, "SET", "more:%s" % tag, tag)
    ok(c, "RPUSH", "more:list", tag)
    ok(c, "HSET", "more:hash", tag, "1")
    ok(c, "ZADD", "more:zset", "1", tag)
    ok(c, "SET", "more:ttl:%s" % tag, "x", "EX", "5000")
    ok(c, "SELECT", "1")
    ok(c, "SADD", "more:set", tag)
    ok(c, "SELECT", "0")


class ReplicationTestCase(ServerTestCase):
    """Servers by kind ("keyward" or "redis"), replicas attached at start-up, the waits."""

    def start(self, kind, *args, **kwargs):
        args = ["--repl-diskless-sync-delay", "0"] + [str(a) for a in args]
        if kind == "keyward":
            return self.start_keyward(args, **kwargs)
        return self.start_redis(args, **kwargs)

    def replica(self, kind, master, *args, **kwargs):
        return self.start(kind, "--replicaof", "127.0.0.1", master.port, *args, **kwargs)

    def client(self, srv):
        return self.raw_client(srv)

    def wait_up(self, *replica_clients):
        for rc in replica_clients:
            wait_for(lambda: info(rc).get("master_link_status") == "up", timeout=SYNC_TIMEOUT,
                     message="master_link_status:up")

    def wait_synced(self, master_c, *replica_clients):
        """Every replica's link up and its offset the master's (replicas in a chain too)."""
        def synced():
            want = info(master_c)["master_repl_offset"]
            for rc in replica_clients:
                i = info(rc)
                if i.get("master_link_status") != "up" or i["master_repl_offset"] != want:
                    return False
            return True
        wait_for(synced, timeout=SYNC_TIMEOUT, message="replicas caught up with the master")

    def start_slow_snapshot_master(self, *args, redis_delay_us=2000, diskless="no"):
        """A Keyward master (populated, plus PAD_KEYS keys) whose snapshots take PAD_KEYS x
        0.5 s, i.e. until the test runs CONFIG SET rdb-key-save-delay 0 (the in-process
        snapshot reads the setting at every key). In the validation mode the master is Redis,
        whose forked child never sees CONFIG SET: a short delay there instead."""
        delay = redis_delay_us if SERVER_IS_REDIS else 500000
        m = self.start("keyward", "--rdb-key-save-delay", delay, "--repl-diskless-sync", diskless,
                       *args)
        mc = self.client(m)
        populate(mc)
        pad(mc)
        return m, mc

    def wait_waiting_for_snapshot(self, master_c, field):
        wait_for(lambda: "state=wait_bgsave" in info(master_c).get(field, ""),
                 timeout=SYNC_TIMEOUT, message="%s waiting for its snapshot" % field)

    def wait_online(self, master_c, count=1):
        """The master lists `count` replicas as online (a Redis master puts a diskless replica
        online at its first ACK, after the replica already reports its link up)."""
        def online():
            i = info(master_c)
            return sum("state=online" in i.get("slave%d" % n, "") for n in range(count)) == count
        wait_for(online, timeout=SYNC_TIMEOUT, message="%d online replicas" % count)

    def assert_same_data(self, master_c, *replica_clients):
        want = replicated_dataset(master_c)
        for rc in replica_clients:
            self.assertEqual(key_differences(replicated_dataset(rc), want), [])
        return want

    def kill(self, srv):
        """SIGKILL (the cleanup registered by start() only collects it)."""
        srv.proc.kill()
        srv.proc.wait()


# ---------------------------------------------------------------------------------------------
# Scenario 1 and 2: full sync and live stream between Keyward and Redis
# ---------------------------------------------------------------------------------------------


class FullSyncAndStream(ReplicationTestCase):
    def sync_and_stream(self, master_kind, replica_kind, *master_args, replica_args=()):
        m = self.start(master_kind, *master_args)
        mc = self.client(m)
        populate(mc)
        r = self.replica(replica_kind, m, *replica_args)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        full = self.assert_same_data(mc, rc)
        self.assertGreater(len(full), 15)
        live_writes(mc)
        self.wait_synced(mc, rc)
        after = self.assert_same_data(mc, rc)
        self.assertIn((4, b"in-script-db"), after)
        self.assertIn((7, b"swapped"), after)
        self.assertNotIn((0, b"live:gone"), after)
        self.assertNotIn((9, b"flushed"), after)
        self.assertNotIn((0, b"live:setnx"), after)
        self.assertIn((8, b"live:hash-in-db-8"), after)
        # Nothing of the stream was refused by the replica.
        self.assertNotIn("CRITICAL", r.output())

        # INFO replication, both sides.
        self.wait_online(mc)
        mi, ri = info(mc), info(rc)
        self.assertEqual(mi["role"], "master")
        self.assertEqual(mi["connected_slaves"], "1")
        slave0 = dict(kv.split("=") for kv in mi["slave0"].split(","))
        self.assertEqual((slave0["ip"], slave0["port"], slave0["state"]),
                         ("127.0.0.1", str(r.port), "online"))
        self.assertEqual(ri["role"], "slave")
        self.assertEqual((ri["master_host"], ri["master_port"], ri["master_link_status"]),
                         ("127.0.0.1", str(m.port), "up"))
        self.assertEqual(ri["master_sync_in_progress"], "0")
        self.assertEqual(ri["master_replid"], mi["master_replid"])
        self.assertEqual(ri["slave_read_only"], "1")
        self.assertEqual(mi["repl_backlog_active"], "1")

        # WAIT: the write is acknowledged by the one replica.
        ok(mc, "SET", "waited", "1")
        self.assertEqual(mc.call("WAIT", "1", "10000"), b":1\r\n")
        self.assertEqual(ok(rc, "GET", "waited"), b"1")  # acknowledged means applied
        # Once the replica acknowledged, the slave0 line carries its offset.
        wait_for(lambda: info(mc)["slave0"].split("offset=")[1].split(",")[0]
                 == info(mc)["master_repl_offset"], message="slave0 offset")

        # ROLE, both sides.
        # (The offsets are bracketed by INFO before and after: a PING may go in between.)
        before = int(info(mc)["master_repl_offset"])
        role = decode(mc.call("ROLE"))
        self.assertEqual(role[0], b"master")
        self.assertTrue(before <= role[1] <= int(info(mc)["master_repl_offset"]), role)
        self.assertEqual(len(role[2]), 1)
        ip, port, acked = role[2][0]
        self.assertEqual((ip, port), (b"127.0.0.1", str(r.port).encode()))
        self.assertIsInstance(acked, bytes)
        self.assertLessEqual(int(acked), role[1])
        before = int(info(rc)["master_repl_offset"])
        rrole = decode(rc.call("ROLE"))
        self.assertEqual(rrole[:4], [b"slave", b"127.0.0.1", m.port, b"connected"])
        self.assertIsInstance(rrole[4], int)
        self.assertTrue(before <= rrole[4] <= int(info(rc)["master_repl_offset"]), rrole)
        return m, mc, r, rc

    def test_keyward_master_redis_replica_diskless_eof_form(self):
        m, mc, r, rc = self.sync_and_stream("keyward", "redis")  # the default: diskless
        self.assertIn("Starting BGSAVE for SYNC with target: replicas sockets", m.output())

    def test_keyward_master_redis_replica_disk_len_form(self):
        m, mc, r, rc = self.sync_and_stream("keyward", "redis", "--repl-diskless-sync", "no")
        self.assertIn("Starting BGSAVE for SYNC with target: disk", m.output())

    def test_redis_master_keyward_replica_diskless_eof_form(self):
        m, mc, r, rc = self.sync_and_stream("redis", "keyward")  # Redis's default: diskless
        self.assertIn("Starting BGSAVE for SYNC with target: replicas sockets", m.output())

    def test_redis_master_keyward_replica_disk_len_form(self):
        m, mc, r, rc = self.sync_and_stream("redis", "keyward", "--repl-diskless-sync", "no")
        self.assertIn("Starting BGSAVE for SYNC with target: disk", m.output())

    def test_keyward_master_keyward_replica_both_forms(self):
        for diskless in ("yes", "no"):
            with self.subTest(diskless=diskless):
                self.sync_and_stream("keyward", "keyward", "--repl-diskless-sync", diskless)

    def test_info_replication_fields_like_redis(self):
        # The field names, in order, that Sentinel and clients parse, on a master with one
        # online replica and on that replica.
        names = {}
        for kind in ("redis", "keyward"):
            m = self.start(kind)
            mc = self.client(m)
            r = self.replica(kind, m)
            rc = self.client(r)
            self.wait_synced(mc, rc)
            mi, ri = info(mc), info(rc)
            slave0 = [kv.split("=")[0] for kv in mi["slave0"].split(",")]
            names[kind] = (list(mi), slave0, list(ri))
        self.assertEqual(names["keyward"], names["redis"])

    def test_bind_source_addr_is_the_replicas_address_on_its_master(self):
        # (The fault-injection harness cuts links between nodes by their addresses.) Best
        # effort: an address that cannot be bound is left out, the link still comes up.
        for kind in ("redis", "keyward"):
            with self.subTest(replica=kind):
                m = self.start("keyward", "--protected-mode", "no")
                mc = self.client(m)
                r = self.replica(kind, m, "--bind-source-addr", "127.0.0.7")
                rc = self.client(r)
                self.wait_synced(mc, rc)
                self.assertTrue(info(mc)["slave0"].startswith("ip=127.0.0.7,"), info(mc))
                self.assertEqual(rc.call("CONFIG", "GET", "bind-source-addr"),
                                 b"*2\r\n$16\r\nbind-source-addr\r\n$9\r\n127.0.0.7\r\n")
                ok(rc, "CONFIG", "SET", "bind-source-addr", "192.0.2.1")
                ok(rc, "REPLICAOF", "NO", "ONE")
                ok(rc, "REPLICAOF", "127.0.0.1", m.port)
                self.wait_synced(mc, rc)
                self.assertTrue(info(mc)["slave0"].startswith("ip=127.0.0.1,"), info(mc))

    def test_wait_counts_the_replicas_that_acknowledged(self):
        m = self.start("keyward")
        mc = self.client(m)
        replicas = [self.replica(kind, m) for kind in ("keyward", "redis")]
        clients = [self.client(r) for r in replicas]
        self.wait_synced(mc, *clients)
        ok(mc, "SET", "k", "1")
        self.assertEqual(mc.call("WAIT", "2", "10000"), b":2\r\n")
        self.assertEqual(mc.call("WAIT", "3", "100"), b":2\r\n")  # the timeout ends it
        self.assertEqual(mc.call("WAIT", "1", "0"), b":2\r\n")
        ok(mc, "MULTI")
        mc.call("SET", "k", "2")
        mc.call("WAIT", "2", "0")  # inside MULTI: the count as it is, never blocking
        self.assertEqual(decode(mc.call("EXEC"))[0], b"OK")
        replicas[1].stop()
        wait_for(lambda: info(mc)["connected_slaves"] == "1", message="one replica left")
        ok(mc, "SET", "k", "3")
        self.assertEqual(mc.call("WAIT", "2", "100"), b":1\r\n")
        self.assertEqual(clients[0].call("GET", "k"), b"$1\r\n3\r\n")

    def test_large_dataset_and_values(self):
        # An RDB of several MB (sent in chunks; a diskless one's EOF mark found across reads)
        # and bulk values larger than a read in the stream.
        values = [os.urandom(10000) for _ in range(8)]  # incompressible
        for master_kind, replica_kind, extra in (
                ("keyward", "redis", ()), ("redis", "keyward", ()),
                ("redis", "keyward", ("--repl-diskless-sync", "no")),
                ("keyward", "keyward", ())):
            with self.subTest(master=master_kind, replica=replica_kind, extra=extra):
                m = self.start(master_kind, *extra)
                mc = self.client(m)
                for batch in range(5):
                    args = []
                    for i in range(80):
                        args += ["blob:%d:%d" % (batch, i), values[i % 8] + b"%d" % i]
                    ok(mc, "MSET", *args)
                ok(mc, "SET", "huge", os.urandom(3 << 20))
                r = self.replica(replica_kind, m)
                rc = self.client(r)
                self.wait_synced(mc, rc)
                ok(mc, "SET", "huge2", os.urandom(2 << 20))
                ok(mc, "RPUSH", "biglist", *[os.urandom(100000) for _ in range(10)])
                ok(mc, "APPEND", "huge", b"tail")
                self.wait_synced(mc, rc)
                self.assertEqual(ok(rc, "DBSIZE"), 403)
                for key in ("huge", "huge2"):
                    self.assertEqual(ok(rc, "GET", key), ok(mc, "GET", key))
                self.assertEqual(ok(rc, "LRANGE", "biglist", "0", "-1"),
                                 ok(mc, "LRANGE", "biglist", "0", "-1"))
                self.assertEqual(ok(rc, "MGET", *["blob:%d:%d" % (b, i) for b in range(5)
                                                  for i in range(80)]),
                                 ok(mc, "MGET", *["blob:%d:%d" % (b, i) for b in range(5)
                                                  for i in range(80)]))

    def test_replica_with_aof_keeps_what_it_replicated(self):
        m = self.start("keyward")
        mc = self.client(m)
        populate(mc)
        d = make_workdir()
        r = self.replica("keyward", m, "--appendonly", "yes", workdir=d)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        live_writes(mc)
        self.wait_synced(mc, rc)

        def rewrite_done():
            i = info(rc, "persistence")
            return (i["aof_rewrite_in_progress"], i["aof_rewrite_scheduled"]) == ("0", "0")
        wait_for(rewrite_done, timeout=SYNC_TIMEOUT, message="the replica's AOF rewritten")
        more_writes(mc, "after-rewrite")
        self.wait_synced(mc, rc)
        want = self.assert_same_data(mc, rc)
        self.assertEqual(info(rc, "persistence")["aof_last_bgrewrite_status"], "ok")
        r.stop()
        # The same directory, no master: the AOF alone holds it all.
        again = self.start("keyward", "--appendonly", "yes", workdir=d)
        ac = self.client(again)
        wait_for(lambda: ac.call("PING") == b"+PONG\r\n", timeout=SYNC_TIMEOUT,
                 message="the AOF loaded")  # the harness's start only waits for -LOADING
        self.assertEqual(key_differences(replicated_dataset(ac), want), [])

    def test_publish_reaches_subscribers_of_the_replica(self):
        # PUBLISH goes down the replication stream: a subscriber on a replica gets it.
        for master_kind, replica_kind in (("keyward", "keyward"), ("keyward", "redis"),
                                          ("redis", "keyward")):
            with self.subTest(master=master_kind, replica=replica_kind):
                m = self.start(master_kind)
                mc = self.client(m)
                r = self.replica(replica_kind, m)
                rc = self.client(r)
                self.wait_synced(mc, rc)
                sub = self.client(r)
                self.assertEqual(sub.call("SUBSCRIBE", "news"),
                                 b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
                before = int(info(mc)["master_repl_offset"])
                self.assertEqual(mc.call("PUBLISH", "news", "hello"), b":0\r\n")
                self.assertGreater(int(info(mc)["master_repl_offset"]), before,
                                   "PUBLISH did not enter the replication stream")
                wait_for(lambda: sub.pending(0.05), timeout=SYNC_TIMEOUT,
                         message="the message on the replica's subscriber")
                self.assertEqual(sub.read_reply(),
                                 b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")

    def test_replicas_arriving_during_one_snapshot_share_it(self):
        # The snapshot for replica 1 is held open; replica 2 arrives and is served by the same
        # snapshot, with the stream held since its start.
        m, mc = self.start_slow_snapshot_master()
        r1 = self.replica("redis", m)
        self.wait_waiting_for_snapshot(mc, "slave0")
        more_writes(mc, "between")
        r2 = self.replica("keyward", m)
        self.wait_waiting_for_snapshot(mc, "slave1")
        more_writes(mc, "after-both")
        if not SERVER_IS_REDIS:
            self.assertIn("state=wait_bgsave", info(mc)["slave0"])
        self.assertIn("Waiting for end of BGSAVE for SYNC", m.output())
        ok(mc, "CONFIG", "SET", "rdb-key-save-delay", "0")
        c1, c2 = self.client(r1), self.client(r2)
        self.wait_synced(mc, c1, c2)
        self.assert_same_data(mc, c1, c2)
        self.assertEqual(stat(mc, "sync_full"), 2)
        self.assertEqual(m.output().count("Starting BGSAVE for SYNC with target: disk"), 1)

    def test_replica_waits_for_a_running_background_save(self):
        # A BGSAVE (or BGREWRITEAOF) already running: the replica's snapshot starts after it.
        for job in ("BGSAVE", "BGREWRITEAOF"):
            with self.subTest(job=job):
                m, mc = self.start_slow_snapshot_master()
                ok(mc, job)
                r = self.replica("keyward", m)
                rc = self.client(r)
                self.wait_waiting_for_snapshot(mc, "slave0")
                more_writes(mc, "meanwhile")
                ok(mc, "CONFIG", "SET", "rdb-key-save-delay", "0")
                self.wait_synced(mc, rc)
                self.assert_same_data(mc, rc)

    def test_output_limit_on_the_held_stream_like_redis(self):
        # While its snapshot is written, what the replica will get next is held for it, counted
        # against client-output-buffer-limit replica. Redis 7.0 never applies a replica hard
        # limit below repl-backlog-size (1 MB here): 500 KB held past a 256 KB limit keeps the
        # replica; past 1 MB it is closed, comes back and syncs again.
        m, mc = self.start_slow_snapshot_master("--client-output-buffer-limit",
                                                "replica 256kb 0 0", redis_delay_us=50000)
        r = self.replica("keyward", m)
        rc = self.client(r)
        self.wait_waiting_for_snapshot(mc, "slave0")
        closed = "for overcoming of output buffer limits"
        for i in range(10):
            ok(mc, "SET", "bulk:%d" % i, "x" * 50000)  # 500 KB held
        self.assertEqual(info(mc)["connected_slaves"], "1")
        self.assertIn("state=wait_bgsave", info(mc)["slave0"])
        self.assertNotIn(closed, m.output())
        for i in range(10, 22):
            ok(mc, "SET", "bulk:%d" % i, "x" * 50000)  # 1.1 MB held: past the backlog size
        wait_for(lambda: closed in m.output(), timeout=SYNC_TIMEOUT,
                 message="the replica closed for its output limit")
        ok(mc, "CONFIG", "SET", "rdb-key-save-delay", "0")
        ok(mc, "CONFIG", "SET", "client-output-buffer-limit", "replica 0 0 0")
        self.wait_synced(mc, rc)
        self.assert_same_data(mc, rc)
        self.assertGreaterEqual(stat(mc, "sync_full"), 2)

    def test_writes_during_the_snapshot_are_held_and_follow_it(self):
        # Writes made while the replica waits for its snapshot reach it after the RDB, neither
        # lost nor applied twice. (With a Redis master the Keyward replica is the one tested.)
        for master_kind, replica_kind, diskless in (("keyward", "redis", "no"),
                                                    ("keyward", "redis", "yes"),
                                                    ("keyward", "keyward", "yes"),
                                                    ("redis", "keyward", "yes")):
            with self.subTest(master=master_kind, replica=replica_kind, diskless=diskless):
                if master_kind == "keyward":
                    m, mc = self.start_slow_snapshot_master(diskless=diskless)
                else:
                    m = self.start("redis", "--rdb-key-save-delay", "2000")
                    mc = self.client(m)
                    populate(mc)
                    pad(mc)
                r = self.replica(replica_kind, m)
                rc = self.client(r)
                self.wait_waiting_for_snapshot(mc, "slave0")
                for i in range(50):
                    ok(mc, "INCR", "during:counter")
                    ok(mc, "RPUSH", "during:list", str(i))
                ok(mc, "DEL", "pad:7")
                ok(mc, "SELECT", "8")
                ok(mc, "SET", "during:db8", "x")
                ok(mc, "SELECT", "0")
                if master_kind == "keyward" and not SERVER_IS_REDIS:
                    self.assertIn("state=wait_bgsave", info(mc)["slave0"])
                ok(mc, "CONFIG", "SET", "rdb-key-save-delay", "0")
                self.wait_synced(mc, rc)
                self.assert_same_data(mc, rc)
                self.assertEqual(ok(rc, "GET", "during:counter"), b"50")
                self.assertEqual(ok(rc, "LLEN", "during:list"), 50)


# ---------------------------------------------------------------------------------------------
# Scenario 3: a chain
# ---------------------------------------------------------------------------------------------


class Chain(ReplicationTestCase):
    def test_master_replica_and_replica_of_the_replica(self):
        m = self.start("keyward")
        mc = self.client(m)
        populate(mc)
        a = self.replica("keyward", m)
        ac = self.client(a)
        self.wait_synced(mc, ac)
        b = self.replica("keyward", a)
        bc = self.client(b)
        self.wait_synced(mc, ac, bc)
        live_writes(mc)
        more_writes(mc, "chain")
        self.wait_synced(mc, ac, bc)
        self.assert_same_data(mc, ac, bc)
        # Caught up means the same master_repl_offset on all three (polled: a PING may be in
        # flight).
        self.wait_synced(mc, ac, bc)
        self.assertEqual(len({info(x)["master_replid"] for x in (mc, ac, bc)}), 1)
        self.wait_online(ac)
        ai = info(ac)
        self.assertEqual((ai["role"], ai["connected_slaves"]), ("slave", "1"))
        self.assertIn("port=%d,state=online" % b.port, ai["slave0"])
        self.assertEqual(info(bc)["master_port"], str(a.port))
        # WAIT on the root counts its direct replica only.
        ok(mc, "SET", "chain:wait", "1")
        self.assertEqual(mc.call("WAIT", "1", "10000"), b":1\r\n")
        wait_for(lambda: bc.call("GET", "chain:wait") == b"$1\r\n1\r\n", timeout=SYNC_TIMEOUT,
                 message="write at the end of the chain")
        # FLUSHALL and FUNCTION FLUSH go down the chain too.
        ok(mc, "FLUSHALL")
        ok(mc, "FUNCTION", "FLUSH")
        ok(mc, "SET", "after-flush", "1")
        self.wait_synced(mc, ac, bc)
        self.assertEqual(len(self.assert_same_data(mc, ac, bc)), 2)  # the key, "functions"

    def test_middle_replica_moves_to_another_master(self):
        # M -> A -> B; A then follows M2 (another history): A full-syncs from M2 and B, dropped
        # by A, full-syncs from A. All three end with M2's data.
        m = self.start("keyward")
        mc = self.client(m)
        populate(mc)
        a = self.replica("keyward", m)
        ac = self.client(a)
        b = self.replica("keyward", a)
        bc = self.client(b)
        self.wait_synced(mc, ac, bc)
        m2 = self.start("keyward")
        mc2 = self.client(m2)
        more_writes(mc2, "m2")
        ok(mc2, "FUNCTION", "LOAD", WRITE_LIBRARY)
        a_full = stat(ac, "sync_full")
        self.assertEqual(ac.call("REPLICAOF", "127.0.0.1", str(m2.port)), b"+OK\r\n")
        self.wait_synced(mc2, ac, bc)
        data = self.assert_same_data(mc2, ac, bc)
        self.assertNotIn((0, b"embstr"), data)
        self.assertEqual(stat(mc2, "sync_full"), 1)
        self.assertEqual(stat(ac, "sync_full"), a_full + 1)
        self.assertEqual(info(bc)["master_replid"], info(mc2)["master_replid"])
        more_writes(mc2, "later")
        self.wait_synced(mc2, ac, bc)
        self.assert_same_data(mc2, ac, bc)


# ---------------------------------------------------------------------------------------------
# Scenario 4: partial resynchronisation after the link is killed
# ---------------------------------------------------------------------------------------------


class PartialResync(ReplicationTestCase):
    """CLIENT KILL TYPE master on the replica. While the link is down, the replica is kept from
    reconnecting by a wrong masterauth (the master has no password: its AUTH error ends each
    attempt, in Redis as in Keyward), so the writes of the gap are certainly made while it is
    away; clearing masterauth lets it back."""

    def cut_link(self, mc, rc):
        ok(rc, "CONFIG", "SET", "masterauth", "not-the-password")
        self.assertEqual(rc.call("CLIENT", "KILL", "TYPE", "master"), b":1\r\n")
        wait_for(lambda: info(mc)["connected_slaves"] == "0", timeout=SYNC_TIMEOUT,
                 message="the master sees its replica gone")
        self.assertEqual(info(rc)["master_link_status"], "down")

    def restore_link(self, rc):
        ok(rc, "CONFIG", "SET", "masterauth", "")

    def kill_link_and_continue(self, master_kind, replica_kind):
        m = self.start(master_kind)
        mc = self.client(m)
        populate(mc)
        r = self.replica(replica_kind, m)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        full, partial = stat(mc, "sync_full"), stat(mc, "sync_partial_ok")
        self.assertEqual((full, partial), (1, 0))
        replid = info(rc)["master_replid"]
        for round_ in range(2):
            self.cut_link(mc, rc)
            gap_start = int(info(mc)["master_repl_offset"])
            more_writes(mc, "gap%d" % round_)
            ok(mc, "DEL", "biglist")
            ok(mc, "EXPIRE", "bighash", "777777")
            ok(mc, "SELECT", "0")
            gap = int(info(mc)["master_repl_offset"]) - gap_start
            self.restore_link(rc)
            self.wait_synced(mc, rc)
            self.assert_same_data(mc, rc)
            # (A second partial sync in a round flaked once in a loaded full run: the logs
            # say which connection asked for it.)
            self.assertEqual(stat(mc, "sync_partial_ok"), partial + round_ + 1,
                             "master log:\n%s\nreplica log:\n%s"
                             % (m.output()[-6000:], r.output()[-6000:]))
            self.assertEqual(stat(mc, "sync_full"), full)
            self.assertEqual(info(rc)["master_replid"], replid)
            # The master sent the gap from its backlog (a PING may have joined it).
            sent = [int(n) for n in re.findall(
                r"Partial resynchronization request from \S+ accepted\. Sending (\d+) bytes",
                m.output())]
            self.assertEqual(len(sent), round_ + 1)
            self.assertGreaterEqual(sent[-1], gap)
            self.assertGreater(gap, 0)
        self.assertIn("Successful partial resynchronization with master.", r.output())
        return m, r

    def test_keyward_replica_of_keyward_master(self):
        self.kill_link_and_continue("keyward", "keyward")

    def test_keyward_replica_of_redis_master(self):
        self.kill_link_and_continue("redis", "keyward")

    def test_redis_replica_of_keyward_master(self):
        self.kill_link_and_continue("keyward", "redis")

    def test_gap_larger_than_the_backlog_means_a_full_resync(self):
        for master_kind, replica_kind in (("keyward", "keyward"), ("keyward", "redis"),
                                          ("redis", "keyward")):
            with self.subTest(master=master_kind, replica=replica_kind):
                m = self.start(master_kind, "--repl-backlog-size", "16384")
                mc = self.client(m)
                populate(mc)
                r = self.replica(replica_kind, m)
                rc = self.client(r)
                self.wait_synced(mc, rc)
                full, err = stat(mc, "sync_full"), stat(mc, "sync_partial_err")
                self.cut_link(mc, rc)
                for i in range(5):
                    ok(mc, "SET", "big:%d" % i, "x" * 10000)  # 50 KB: past the backlog
                self.restore_link(rc)
                self.wait_synced(mc, rc)
                self.assert_same_data(mc, rc)
                self.assertEqual(stat(mc, "sync_full"), full + 1)
                self.assertEqual(stat(mc, "sync_partial_err"), err + 1)
                self.assertEqual(stat(mc, "sync_partial_ok"), 0)


# ---------------------------------------------------------------------------------------------
# Scenario 5: promotion
# ---------------------------------------------------------------------------------------------


class Promotion(ReplicationTestCase):
    def promote(self, master_kind, promoted_kind, follower_kind):
        """M with replicas A and B; M dies; A is promoted, B follows A with a partial resync."""
        m = self.start(master_kind)
        mc = self.client(m)
        populate(mc)
        a = self.replica(promoted_kind, m)
        b = self.replica(follower_kind, m)
        ac, bc = self.client(a), self.client(b)
        more_writes(mc, "before")
        self.wait_synced(mc, ac, bc)
        self.assert_same_data(mc, ac, bc)
        old_replid = info(mc)["master_replid"]
        self.kill(m)
        wait_for(lambda: info(ac)["master_link_status"] == "down", message="A sees M down")
        # What A and B have of M's history (read once M is gone: no PING can follow).
        old_offset = int(info(ac)["master_repl_offset"])
        self.assertEqual(info(ac)["master_replid"], old_replid)
        self.assertEqual(int(info(bc)["master_repl_offset"]), old_offset)

        self.assertEqual(ac.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        ai = info(ac)
        self.assertEqual(ai["role"], "master")
        self.assertEqual(ai["master_replid2"], old_replid)
        self.assertEqual(int(ai["second_repl_offset"]), old_offset + 1)
        # The history goes on from there (a Keyward adds its fencing epoch record to its
        # stream at promotion, a Redis adds nothing) and the backlog still holds it.
        self.assertGreaterEqual(int(ai["master_repl_offset"]), old_offset)
        self.assertLessEqual(int(ai["repl_backlog_first_byte_offset"]), old_offset + 1)
        self.assertNotEqual(ai["master_replid"], old_replid)
        self.assertEqual(len(ai["master_replid"]), 40)
        new_replid = ai["master_replid"]
        full, partial = stat(ac, "sync_full"), stat(ac, "sync_partial_ok")
        self.assertEqual(ok(ac, "SET", "promoted:write", "1"), b"OK")  # writable now

        self.assertEqual(bc.call("REPLICAOF", "127.0.0.1", str(a.port)), b"+OK\r\n")
        self.wait_synced(ac, bc)
        self.assertEqual(stat(ac, "sync_partial_ok"), partial + 1)
        self.assertEqual(stat(ac, "sync_full"), full)
        bi = info(bc)
        self.assertEqual(bi["master_replid"], new_replid)
        self.assertEqual(bi["master_replid2"], old_replid)
        self.assertEqual(bi["master_port"], str(a.port))
        self.assertIn("Successful partial resynchronization with master.", b.output())
        more_writes(ac, "after")
        live_writes(ac)
        self.wait_synced(ac, bc)
        data = self.assert_same_data(ac, bc)
        self.assertIn((0, b"promoted:write"), data)
        self.assertIn((0, b"more:after"), data)
        self.assertEqual(ac.call("WAIT", "1", "10000"), b":1\r\n")

    def test_sub_replicas_follow_a_promotion_in_a_chain(self):
        # M -> A -> C and M -> B. M dies; B is promoted; A follows B (+CONTINUE with B's new
        # ID: A takes it and drops C so that C learns it); C continues from A. Then A itself is
        # promoted: C continues from A again. Every step partial.
        m = self.start("keyward")
        mc = self.client(m)
        populate(mc)
        a = self.replica("keyward", m)
        b = self.replica("keyward", m)
        ac, bc = self.client(a), self.client(b)
        self.wait_synced(mc, ac, bc)
        c = self.replica("keyward", a)
        cc = self.client(c)
        more_writes(mc, "before")
        self.wait_synced(mc, ac, bc, cc)
        self.kill(m)
        self.assertEqual(bc.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        new_replid = info(bc)["master_replid"]
        a_full = stat(ac, "sync_full")
        self.assertEqual(ac.call("REPLICAOF", "127.0.0.1", str(b.port)), b"+OK\r\n")
        more_writes(bc, "after-b")
        wait_for(lambda: info(cc)["master_replid"] == new_replid, timeout=SYNC_TIMEOUT,
                 message="C learns B's replication ID through A")
        self.wait_synced(bc, ac, cc)
        self.assert_same_data(bc, ac, cc)
        self.assertEqual((stat(bc, "sync_full"), stat(bc, "sync_partial_ok")), (0, 1))
        self.assertEqual(stat(ac, "sync_full"), a_full)  # C never needed a full sync
        self.assertGreaterEqual(stat(ac, "sync_partial_ok"), 1)
        # A promoted in turn: C (its replica) continues partially under A's new ID.
        a_partial = stat(ac, "sync_partial_ok")
        self.assertEqual(ac.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        more_writes(ac, "after-a")
        self.wait_synced(ac, cc)
        self.assert_same_data(ac, cc)
        self.assertEqual(stat(ac, "sync_partial_ok"), a_partial + 1)
        self.assertEqual(stat(ac, "sync_full"), a_full)
        self.assertEqual(info(cc)["master_replid"], info(ac)["master_replid"])

    def test_keyward_replica_follows_promoted_keyward_replica(self):
        self.promote("keyward", "keyward", "keyward")

    def test_redis_replica_follows_promoted_keyward_replica(self):
        self.promote("keyward", "keyward", "redis")

    def test_keyward_replica_follows_promoted_redis_replica(self):
        self.promote("redis", "redis", "keyward")


# ---------------------------------------------------------------------------------------------
# Scenario 6, 7, 8: what a replica or a master refuses
# ---------------------------------------------------------------------------------------------


class Refusals(ReplicationTestCase):
    def test_read_only_replica_like_redis(self):
        m = self.start("keyward")
        mc = self.client(m)
        ok(mc, "SET", "k", "from-master")
        ok(mc, "FUNCTION", "LOAD", WRITE_LIBRARY)
        replicas = {kind: self.replica(kind, m) for kind in ("redis", "keyward")}
        clients = {kind: self.client(srv) for kind, srv in replicas.items()}
        self.wait_synced(mc, *clients.values())
        seen = {}
        for kind, rc in clients.items():
            seen[kind] = [
                rc.call("SET", "k", "local"),
                rc.call("DEL", "k"),
                rc.call("GET", "k"),
                rc.call("EVAL", "return redis.call('SET', 'k', 'x')", "0"),
                rc.call("EVAL", "return redis.call('GET', 'k')", "0"),
                rc.call("FCALL", "setit", "1", "k", "x"),
                rc.call("MULTI"), rc.call("SET", "k", "x"), rc.call("EXEC"),
                rc.call("CONFIG", "SET", "replica-read-only", "no"),
                rc.call("SET", "local", "only-here"),
                rc.call("GET", "local"),
                rc.call("CONFIG", "SET", "replica-read-only", "yes"),
                rc.call("SET", "local", "again"),
            ]
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["keyward"][0], READONLY)
        self.assertEqual(seen["keyward"][10], b"+OK\r\n")
        # The local write stays local.
        self.assertEqual(mc.call("GET", "local"), b"$-1\r\n")

    def test_stale_data_no_answers_masterdown_like_redis(self):
        m = self.start("keyward")
        mc = self.client(m)
        ok(mc, "SET", "k", "v")
        replicas = {kind: self.replica(kind, m, "--replica-serve-stale-data", "no")
                    for kind in ("redis", "keyward")}
        clients = {kind: self.client(srv) for kind, srv in replicas.items()}
        self.wait_synced(mc, *clients.values())
        for rc in clients.values():
            self.assertEqual(rc.call("GET", "k"), b"$1\r\nv\r\n")  # link up: served
        self.kill(m)
        for rc in clients.values():
            wait_for(lambda: info(rc)["master_link_status"] == "down", timeout=SYNC_TIMEOUT,
                     message="link down")
        seen = {}
        for kind, rc in clients.items():
            replies = [rc.call("GET", "k"), rc.call("SET", "k", "x"), rc.call("PING"),
                       rc.call("DBSIZE"), rc.call("ECHO", "hi"), rc.call("EXISTS", "k"),
                       rc.call("CONFIG", "GET", "replica-serve-stale-data"),
                       rc.call("MULTI"), rc.call("GET", "k"), rc.call("EXEC"),
                       # Scripts: refused unless they declare allow-stale, and then only
                       # commands that may run on a stale replica.
                       rc.call("EVAL", "return 1", "0"),
                       rc.call("EVAL_RO", "return 1", "0"),
                       rc.call("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
                       rc.call("EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"),
                       rc.call("EVAL", "#!lua flags=no-writes,allow-stale\n"
                               "return redis.call('GET', 'k')", "0"),
                       rc.call("EVAL", "#!lua flags=no-writes,allow-stale\n"
                               "return redis.call('ECHO', 'e')", "0")]
            i = info(rc)  # INFO still works
            self.assertEqual((i["role"], i["master_link_status"]), ("slave", "down"))
            self.assertEqual(decode(rc.call("ROLE"))[0], b"slave")
            replies.append(rc.call("PSYNC", "?", "-1"))  # -NOMASTERLINK
            replies.append(rc.call("CONFIG", "SET", "replica-serve-stale-data", "yes"))
            replies.append(rc.call("GET", "k"))
            seen[kind] = replies
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["keyward"][0], MASTERDOWN)
        self.assertEqual(seen["keyward"][-1], b"$1\r\nv\r\n")

    def test_min_replicas_to_write(self):
        seen = {}
        for kind in ("redis", "keyward"):
            m = self.start(kind, "--min-replicas-to-write", "1")
            mc = self.client(m)
            seen[kind] = [mc.call("SET", "k", "v"), mc.call("GET", "k"),
                          mc.call("EVAL", "return redis.call('SET', 'k', 'v')", "0"),
                          mc.call("EVAL", "return redis.call('GET', 'k')", "0"),
                          mc.call("MULTI"), mc.call("SET", "k", "v"), mc.call("EXEC"),
                          info(mc).get("min_slaves_good_slaves")]
            if kind == "keyward":
                r = self.replica("keyward", m)
                rc = self.client(r)
                self.wait_up(rc)
                wait_for(lambda: info(mc)["min_slaves_good_slaves"] == "1",
                         timeout=SYNC_TIMEOUT, message="one good replica")
                self.assertEqual(mc.call("SET", "k", "v"), b"+OK\r\n")
                self.assertEqual(mc.call("WAIT", "1", "10000"), b":1\r\n")
                self.assertEqual(rc.call("GET", "k"), b"$1\r\nv\r\n")
                r.stop()
                wait_for(lambda: info(mc)["min_slaves_good_slaves"] == "0",
                         timeout=SYNC_TIMEOUT, message="no good replica")
                self.assertEqual(mc.call("SET", "k", "v2"), NOREPLICAS)
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["keyward"][0], NOREPLICAS)
        self.assertEqual(seen["keyward"][-1], "0")


class LinkOptions(ReplicationTestCase):
    def test_announced_address_like_redis(self):
        # replica-announce-ip / -port: what the master shows in INFO and ROLE.
        for master_kind, replica_kind in (("keyward", "keyward"), ("keyward", "redis"),
                                          ("redis", "keyward")):
            with self.subTest(master=master_kind, replica=replica_kind):
                m = self.start(master_kind)
                mc = self.client(m)
                r = self.replica(replica_kind, m, "--replica-announce-ip", "10.1.2.3",
                                 "--replica-announce-port", "7777")
                rc = self.client(r)
                self.wait_synced(mc, rc)
                self.wait_online(mc)
                self.assertIn("ip=10.1.2.3,port=7777,state=online", info(mc)["slave0"])
                self.assertEqual(decode(mc.call("ROLE"))[2][0][:2], [b"10.1.2.3", b"7777"])

    def test_masterauth_and_masteruser(self):
        for master_kind, replica_kind in (("keyward", "keyward"), ("keyward", "redis"),
                                          ("redis", "keyward")):
            with self.subTest(master=master_kind, replica=replica_kind):
                m = self.start(master_kind, "--requirepass", "s3cret")
                mc = self.client(m)
                ok(mc, "AUTH", "s3cret")
                if master_kind == "redis":
                    ok(mc, "ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf",
                       "+ping")
                    user, password = "repl", "replpw"
                else:  # Keyward has no ACL users: "default" with requirepass's password
                    user, password = "default", "s3cret"
                ok(mc, "SET", "k", "v")
                r1 = self.replica(replica_kind, m, "--masterauth", "s3cret")
                r2 = self.replica(replica_kind, m, "--masteruser", user, "--masterauth", password)
                c1, c2 = self.client(r1), self.client(r2)
                self.wait_synced(mc, c1, c2)
                ok(mc, "SET", "k", "v2")
                self.wait_synced(mc, c1, c2)
                for rc in (c1, c2):
                    self.assertEqual(rc.call("GET", "k"), b"$2\r\nv2\r\n")
                # A wrong password: the link never comes up, then the right one fixes it.
                r3 = self.replica(replica_kind, m, "--masterauth", "wrong")
                c3 = self.client(r3)
                wait_for(lambda: "Unable to AUTH to MASTER" in r3.output(),
                         timeout=SYNC_TIMEOUT, message="AUTH refused")
                self.assertEqual(info(c3)["master_link_status"], "down")
                ok(c3, "CONFIG", "SET", "masterauth", "s3cret")
                self.wait_synced(mc, c3)
                self.assertEqual(c3.call("GET", "k"), b"$2\r\nv2\r\n")


# ---------------------------------------------------------------------------------------------
# Scenario 9: logically expired keys on a replica
# ---------------------------------------------------------------------------------------------


class ExpiryOnReplica(ReplicationTestCase):
    def test_expired_key_hidden_but_kept_until_the_master_deletes_it(self):
        m = self.start("keyward", "--enable-debug-command", "yes")
        mc = self.client(m)
        ok(mc, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
        ok(mc, "SET", "keep", "1")
        replicas = {kind: self.replica(kind, m) for kind in ("redis", "keyward")}
        clients = {kind: self.client(srv) for kind, srv in replicas.items()}
        self.wait_synced(mc, *clients.values())
        ok(mc, "SET", "short", "v")
        ok(mc, "PEXPIRE", "short", "300")
        ok(mc, "SET", "short2", "v", "PX", "300")
        ok(mc, "HSET", "shorthash", "f", "v")
        ok(mc, "PEXPIRE", "shorthash", "300")
        self.wait_synced(mc, *clients.values())
        seen = {}
        for kind, rc in clients.items():
            wait_for(lambda: rc.call("GET", "short") == b"$-1\r\n", timeout=SYNC_TIMEOUT,
                     message="logical expiry on the %s replica" % kind)
            wait_for(lambda: rc.call("EXISTS", "short2", "shorthash") == b":0\r\n",
                     timeout=SYNC_TIMEOUT, message="logical expiry on the %s replica" % kind)
            seen[kind] = [rc.call("GET", "short"), rc.call("GET", "short2"),
                          rc.call("EXISTS", "short"), rc.call("TTL", "short"),
                          rc.call("PTTL", "short2"), rc.call("TYPE", "short"),
                          rc.call("STRLEN", "short"), rc.call("MGET", "short", "keep"),
                          rc.call("HGET", "shorthash", "f"), rc.call("HLEN", "shorthash"),
                          rc.call("KEYS", "*"), rc.call("SCAN", "0", "COUNT", "100"),
                          rc.call("DBSIZE"), rc.call("OBJECT", "ENCODING", "short"),
                          rc.call("DUMP", "short")]
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["keyward"][0], b"$-1\r\n")
        self.assertEqual(seen["keyward"][12], b":4\r\n")  # still stored on the replica
        # The master deletes the keys when it looks at them; its DELs reach the replicas.
        self.assertEqual(decode(mc.call("DBSIZE")), 4)
        self.assertEqual(mc.call("GET", "short"), b"$-1\r\n")
        self.assertEqual(mc.call("EXISTS", "short2", "shorthash"), b":0\r\n")
        self.assertEqual(decode(mc.call("DBSIZE")), 1)
        self.wait_synced(mc, *clients.values())
        for rc in clients.values():
            self.assertEqual(rc.call("DBSIZE"), b":1\r\n")


# ---------------------------------------------------------------------------------------------
# Scenario 9b: client-side caching on a replica across a full sync
# ---------------------------------------------------------------------------------------------


class TrackingOnReplica(ReplicationTestCase):
    def invalidation_on_full_sync(self, replica_kind, *replica_args):
        """The push a RESP3 client tracking a key on the replica receives when the replica
        moves to another master (a full sync replaces its dataset)."""
        first = self.start("keyward")
        ok(self.client(first), "SET", "k", "from-first")
        second = self.start("keyward")
        ok(self.client(second), "SET", "k", "from-second")
        r = self.replica(replica_kind, first, *replica_args)
        rc = self.client(r)
        self.wait_up(rc)
        cache = self.client(r)
        cache.call("HELLO", "3")
        self.assertEqual(cache.call("CLIENT", "TRACKING", "ON"), b"+OK\r\n")
        self.assertEqual(cache.call("GET", "k"), b"$10\r\nfrom-first\r\n")
        ok(rc, "REPLICAOF", "127.0.0.1", str(second.port))
        push = cache.read_reply()  # waits for it
        wait_for(lambda: ok(rc, "GET", "k") == b"from-second", timeout=SYNC_TIMEOUT,
                 message="the replica on the second master's data")
        return push

    def test_a_full_sync_invalidates_what_clients_cached_as_redis_does(self):
        want = self.invalidation_on_full_sync("redis")
        self.assertEqual(want, b">2\r\n$10\r\ninvalidate\r\n_\r\n")
        self.assertEqual(self.invalidation_on_full_sync("keyward"), want)
        self.assertEqual(
            self.invalidation_on_full_sync("keyward", "--repl-diskless-load", "swapdb"), want)


# ---------------------------------------------------------------------------------------------
# Scenario 10: the replication commands' replies, byte for byte
# ---------------------------------------------------------------------------------------------


class CommandReplies(ReplicationTestCase):
    def test_replies_and_errors_like_redis(self):
        m = self.start("keyward")
        seen = {}
        for kind in ("redis", "keyward"):
            srv = self.start(kind)
            c = self.client(srv)
            replies = [
                c.call("ROLE"),
                c.call("REPLICAOF", "NO", "ONE"),
                c.call("SLAVEOF", "no", "one"),
                c.call("REPLICAOF", "127.0.0.1", "notaport"),
                c.call("REPLICAOF", "127.0.0.1", "70000"),
                c.call("REPLICAOF", "127.0.0.1", "-1"),
                c.call("REPLICAOF", "127.0.0.1"),
                c.call("SLAVEOF", "127.0.0.1", "1", "2"),
                c.call("REPLCONF", "foo", "bar"),
                c.call("REPLCONF", "a"),
                c.call("REPLCONF", "listening-port", "abc"),
                c.call("REPLCONF", "listening-port", "1234", "capa", "eof", "capa", "whatever"),
                c.call("REPLCONF", "ip-address", "x" * 300),
                # What redis-cli 7.0 sends for --rdb, --replica and --functions-rdb.
                c.call("REPLCONF", "rdb-only", "1"),
                c.call("REPLCONF", "rdb-only", "0"),
                c.call("REPLCONF", "rdb-only", "2"),
                c.call("REPLCONF", "rdb-only", "abc"),
                c.call("REPLCONF", "rdb-filter-only", ""),
                c.call("REPLCONF", "rdb-filter-only", "functions"),
                c.call("REPLCONF", "rdb-filter-only", "keys"),
                c.call("WAIT", "x", "0"),
                c.call("WAIT", "0", "-1"),
                c.call("WAIT", "0", "abc"),
                c.call("WAIT", "0", "0"),
                c.call("WAIT", "1", "1"),
                c.call("WAIT", "1"),
                c.call("PSYNC", "?", "notanumber"),
                c.call("MULTI"), c.call("PSYNC", "?", "-1"), c.call("SYNC"),
                c.call("WAIT", "1", "0"), c.call("EXEC"),
                c.call("EVAL", "return redis.call('REPLICAOF', 'NO', 'ONE')", "0"),
                c.call("EVAL", "return redis.call('WAIT', '0', '0')", "0"),
                c.call("EVAL", "return redis.call('ROLE')", "0"),
            ]
            # Neither ACK nor GETACK from a normal client gets a reply.
            c.send(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n10\r\n"
                   b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n")
            replies.append(c.read_reply())
            replies += [c.call("SLAVEOF", "127.0.0.1", str(m.port)),
                        c.call("SLAVEOF", "127.0.0.1", str(m.port)),
                        c.call("REPLICAOF", "127.0.0.1", str(m.port))]
            self.wait_up(c)
            role = decode(c.call("ROLE"))
            replies += [role[:4], c.call("WAIT", "0", "0"), c.call("WAIT", "1", "1"),
                        c.call("REPLICAOF", "NO", "ONE"), decode(c.call("ROLE"))[0]]
            seen[kind] = replies
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["redis"][0], b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
        self.assertEqual(seen["redis"][-6], b"+OK Already connected to specified master\r\n")


class RedisCliSnapshots(ReplicationTestCase):
    def test_redis_cli_rdb_and_functions_rdb_like_redis(self):
        # redis-cli --rdb and --functions-rdb fetch a snapshot over the replication protocol
        # (REPLCONF rdb-only / rdb-filter-only, then SYNC).
        seen = {}
        for kind in ("redis", "keyward"):
            srv = self.start(kind)
            c = self.client(srv)
            populate(c)
            results = []
            for option in ("--rdb", "--functions-rdb"):
                path = os.path.join(make_workdir(), "fetched.rdb")
                proc = self.run_tool([REDIS_CLI, "-p", str(srv.port), option, path], check=False)
                check = self.run_tool([REDIS_CHECK_RDB, path], check=False)
                keys = re.findall(rb"\[info\] (\d+) keys read", check.stdout)
                # (redis-cli's last line names the transfer form: Keyward always sends
                # "$<len>", Redis "$EOF:" to a client with capa eof. Not compared.)
                results.append((option, proc.returncode, check.returncode, keys))
                if proc.returncode != 0:
                    results.append(proc.stderr.splitlines()[-1:])
                if proc.returncode == 0 and kind == "keyward":
                    # The file loads, with the library.
                    loaded = self.start("redis", "--dir", os.path.dirname(path),
                                        "--dbfilename", "fetched.rdb")
                    lc = self.client(loaded)
                    self.assertEqual(decode(lc.call("FCALL", "answer", "0")), 42)
                    self.assertEqual(decode(lc.call("DBSIZE")),
                                     0 if option == "--functions-rdb" else 17)
            seen[kind] = results
        self.assertEqual(seen["keyward"], seen["redis"])
        self.assertEqual(seen["redis"][1][1], 0)


# ---------------------------------------------------------------------------------------------
# Scenario 11: the master dies and a new one takes its port
# ---------------------------------------------------------------------------------------------


class MasterReplaced(ReplicationTestCase):
    def replace_master(self, master_kind, replica_kind):
        m = self.start(master_kind)
        mc = self.client(m)
        populate(mc)
        r = self.replica(replica_kind, m)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        old_replid = info(rc)["master_replid"]
        port = m.port
        self.kill(m)
        wait_for(lambda: info(rc)["master_link_status"] == "down", timeout=SYNC_TIMEOUT,
                 message="master_link_status:down")
        ri = info(rc)
        self.assertEqual(ri["role"], "slave")
        self.assertIn("master_link_down_since_seconds", ri)
        self.assertEqual(ok(rc, "GET", "embstr"), b"hello")  # stale data still served
        role = decode(rc.call("ROLE"))
        self.assertEqual(role[:3], [b"slave", b"127.0.0.1", port])
        self.assertIn(role[3], (b"connect", b"connecting"))

        m2 = self.start(master_kind, "--port", port)
        mc2 = self.client(m2)
        ok(mc2, "SET", "new-master", "yes")
        ok(mc2, "RPUSH", "new-list", "1", "2")
        ok(mc2, "SELECT", "2")
        ok(mc2, "SET", "new-in-db-2", "x")
        ok(mc2, "SELECT", "0")
        self.wait_synced(mc2, rc)
        data = self.assert_same_data(mc2, rc)
        self.assertNotIn((0, b"embstr"), data)  # the old data is gone
        self.assertIn((2, b"new-in-db-2"), data)
        self.assertEqual(stat(mc2, "sync_full"), 1)
        self.assertEqual(stat(mc2, "sync_partial_ok"), 0)
        self.assertNotEqual(info(rc)["master_replid"], old_replid)
        self.assertEqual(info(rc)["master_replid"], info(mc2)["master_replid"])
        ok(mc2, "SET", "later", "1")
        self.wait_synced(mc2, rc)
        self.assertEqual(rc.call("GET", "later"), b"$1\r\n1\r\n")

    def test_keyward_replica_of_killed_keyward_master(self):
        self.replace_master("keyward", "keyward")

    def test_keyward_replica_of_killed_redis_master(self):
        self.replace_master("redis", "keyward")

    def test_redis_replica_of_killed_keyward_master(self):
        self.replace_master("keyward", "redis")


# ---------------------------------------------------------------------------------------------
# Scenario 12: fencing state across a failover
# ---------------------------------------------------------------------------------------------


@unittest.skipIf(SERVER_IS_REDIS, "LOCK.* are Keyward's own commands")
class FencingFailover(ReplicationTestCase):
    def promote(self, c):
        """REPLICAOF NO ONE, with lock-promotion-delay (which refuses acquisitions for the
        longest lease after a promotion) set to 0 first: these tests are about the counters."""
        self.assertEqual(c.call("CONFIG", "SET", "lock-promotion-delay", "0"), b"+OK\r\n")
        self.assertEqual(c.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")

    def test_promotion_delay_grants_no_lock_for_the_longest_lease(self):
        # docs/replication.md: for lock-promotion-delay ms after a promotion (default: the
        # longest lease granted in this history, propagated as LOCK.LEASE) no lock is granted.
        m = self.start("keyward")
        mc = self.client(m)
        r = self.replica("keyward", m)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        self.assertEqual(ok(mc, "LOCK.ACQUIRE", "held", "me", "3000")[0], 1)
        self.assertEqual(ok(mc, "LOCK.RELEASE", "held", "me"), 1)
        self.wait_synced(mc, rc)
        self.kill(m)
        self.assertEqual(rc.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        refused = decode(rc.call("LOCK.ACQUIRE", "res", "other", "1000"))
        self.assertIsInstance(refused, Error)
        ms = re.fullmatch(rb"RESTARTING lock acquisitions resume in (\d+) ms "
                          rb"\(lock-promotion-delay\)", refused)
        self.assertIsNotNone(ms, refused)
        self.assertTrue(0 < int(ms.group(1)) <= 3000, refused)
        self.assertEqual(rc.call("SET", "res", "x", "NX", "PX", "1000"), b"$-1\r\n")
        self.assertEqual(ok(rc, "SET", "plain", "x"), b"OK")  # other writes go on
        granted, _, _ = ok(rc, "LOCK.ACQUIRE", "res", "other", "1000", "WAIT", "30000")
        self.assertEqual(granted, 1)

    def test_fence_replicas_holds_answers_until_enough_replicas_have_the_record(self):
        # lock-fence-replicas 2 with two replicas, one of them stopped: a fenced answer, given at
        # once or to a waiter granted later, waits for both replicas and then fails; the one
        # replica still running, or acknowledgements of older writes, do not count.
        m = self.start("keyward")
        mc = self.client(m)
        a = self.replica("keyward", m)
        b = self.replica("keyward", m)
        ac, bc = self.client(a), self.client(b)
        self.wait_synced(mc, ac, bc)
        self.wait_online(mc, 2)
        ok(mc, "CONFIG", "SET", "lock-fence-replicas", "2")
        ok(mc, "CONFIG", "SET", "lock-fence-timeout", "1500")
        granted, token, _ = ok(mc, "LOCK.ACQUIRE", "res", "holder", "60000", "FENCE")
        self.assertEqual(granted, 1)
        # Both replicas acknowledged the grant before it was answered.
        self.assertEqual(ok(ac, "LOCK.INFO", "res")[1], b"holder")
        self.assertEqual(ok(bc, "LOCK.INFO", "res")[1], b"holder")
        waiter = self.client(m)
        waiter.send(encode_command("LOCK.ACQUIRE", "res", "waiter", "60000", "WAIT", "0",
                                   "FENCE"))
        wait_for(lambda: info(mc, "clients")["blocked_clients"] == "1",
                 message="the waiter blocked")
        b.signal(signal.SIGSTOP)
        self.addCleanup(b.signal, signal.SIGCONT)
        self.assertEqual(ok(mc, "LOCK.RELEASE", "res", "holder"), 1)
        # The waiter has the lock; its answer waits for two replicas, and only one answers.
        self.assertEqual(decode(waiter.read_reply()),
                         Error(b"NOREPLICAS fencing record acknowledged by 1 of 2 replicas "
                               b"within lock-fence-timeout"))
        self.assertEqual(ok(mc, "GET", "res"), b"waiter")
        self.assertEqual(ok(mc, "LOCK.RELEASE", "res", "waiter"), 1)
        self.assertEqual(decode(mc.call("LOCK.ACQUIRE", "res", "next", "60000", "FENCE")),
                         Error(b"NOREPLICAS fencing record acknowledged by 1 of 2 replicas "
                               b"within lock-fence-timeout"))
        # (The lock was taken all the same; its token is simply never handed out.)
        self.assertEqual(ok(mc, "LOCK.RELEASE", "res", "next"), 1)
        # Both back: answers again, with a token above those of the lost answers.
        b.signal(signal.SIGCONT)
        granted, later, _ = ok(mc, "LOCK.ACQUIRE", "res", "o", "60000", "FENCE")
        self.assertEqual(granted, 1)
        self.assertEqual(later, token + 3)

    def test_locks_and_counters_through_a_redis_replica_in_a_chain(self):
        # Keyward master -> Redis replica -> Keyward replica: the lock (a key) reaches the Redis
        # replica intact, the fencing records pass through it to the Keyward one.
        k = self.start("keyward")  # boots first: its floor is below the master's tokens
        kc = self.client(k)
        m = self.start("keyward")
        mc = self.client(m)
        r = self.replica("redis", m)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        self.assertEqual(kc.call("REPLICAOF", "127.0.0.1", str(r.port)), b"+OK\r\n")
        self.wait_synced(mc, rc, kc)
        granted, t1, _ = ok(mc, "LOCK.ACQUIRE", "res", "me", "600000", "FENCE")
        self.assertEqual(granted, 1)
        granted, t2, _ = ok(mc, "LOCK.ACQUIRE", "res2", "me", "600000", "FENCE")
        self.assertEqual(ok(mc, "LOCK.GUARD", "res2", str(t2), "SET", "guarded", "1"), b"OK")
        ok(mc, "SET", "after", "1")
        self.wait_synced(mc, rc, kc)
        for c in (rc, kc):
            self.assertEqual(ok(c, "GET", "res"), b"me")
            self.assertEqual(ok(c, "PEXPIRETIME", "res"), ok(mc, "PEXPIRETIME", "res"))
            self.assertEqual(ok(c, "GET", "guarded"), b"1")
        self.assertNotIn("CRITICAL", r.output())
        for resource in ("res", "res2"):
            mine = dict(zip(*[iter(ok(mc, "LOCK.INFO", resource))] * 2))
            theirs = dict(zip(*[iter(ok(kc, "LOCK.INFO", resource))] * 2))
            for field in (b"owner", b"token", b"holder_token", b"seen"):
                self.assertEqual(theirs[field], mine[field], (resource, field))
        self.kill(m)
        self.promote(kc)
        self.assertEqual(ok(kc, "LOCK.RELEASE", "res", "me"), 1)
        granted, t3, _ = ok(kc, "LOCK.ACQUIRE", "res", "other", "10000", "WAIT", "30000",
                            "FENCE")
        self.assertEqual(granted, 1)
        self.assertGreater(t3, t1)
        self.assertTrue(decode(kc.call("LOCK.GUARD", "res2", str(t2 - 1), "SET", "guarded",
                                       "2")).startswith(b"FENCED"))

    def test_tokens_keep_growing_on_a_promoted_replica(self):
        # The replica boots first: its boot floor (unix ms * 1024) is below the master's, so a
        # promoted replica that had not received the counters would issue smaller tokens.
        b = self.start("keyward")
        bc = self.client(b)
        m = self.start("keyward")
        mc = self.client(m)
        granted, t1, _ = ok(mc, "LOCK.ACQUIRE", "res", "owner", "10000", "FENCE")
        self.assertEqual(granted, 1)
        _, floor_b, _ = ok(bc, "LOCK.ACQUIRE", "probe", "x", "10000")
        self.assertLess(floor_b, t1, "the test needs the replica's floor below the master's")
        ok(bc, "DEL", "probe")
        # "res" reaches the replica with the full sync, "res2" with the stream.
        self.assertEqual(bc.call("REPLICAOF", "127.0.0.1", str(m.port)), b"+OK\r\n")
        self.wait_synced(mc, bc)
        granted, t2, _ = ok(mc, "LOCK.ACQUIRE", "res2", "owner", "10000", "FENCE")
        self.assertEqual(granted, 1)
        self.assertEqual(ok(mc, "LOCK.GUARD", "res2", str(t2), "SET", "guarded", "1"), b"OK")
        self.assertEqual(ok(mc, "LOCK.RELEASE", "res", "owner"), 1)
        self.wait_synced(mc, bc)
        for resource in ("res", "res2"):
            mine = dict(zip(*[iter(ok(mc, "LOCK.INFO", resource))] * 2))
            theirs = dict(zip(*[iter(ok(bc, "LOCK.INFO", resource))] * 2))
            for field in (b"owner", b"token", b"holder_token", b"seen"):
                self.assertEqual(theirs[field], mine[field], (resource, field))
        self.assertEqual(ok(bc, "GET", "res2"), b"owner")
        self.kill(m)
        self.promote(bc)
        granted, t3, _ = ok(bc, "LOCK.ACQUIRE", "res", "owner2", "10000", "WAIT", "30000",
                            "FENCE")
        self.assertEqual(granted, 1)
        self.assertGreater(t3, t1)
        # The promotion's fencing epoch: every counter lifted lock-promotion-token-gap above
        # the highest known (docs/replication.md).
        gap = decode(bc.call("CONFIG", "GET", "lock-promotion-token-gap"))
        if gap:
            self.assertGreaterEqual(t3, t1 + int(gap[1]) + 1)
        # res2 is still held (its lease came with it): a release by its owner, then a new one.
        self.assertEqual(ok(bc, "LOCK.RELEASE", "res2", "owner"), 1)
        granted, t4, _ = ok(bc, "LOCK.ACQUIRE", "res2", "owner2", "10000", "WAIT", "30000",
                            "FENCE")
        self.assertEqual(granted, 1)
        self.assertGreater(t4, t2)
        # The guard mark came along: the old holder's token is refused.
        self.assertTrue(decode(bc.call("LOCK.GUARD", "res2", str(t2 - 1), "SET", "guarded", "2"))
                        .startswith(b"FENCED"))


if __name__ == "__main__":
    unittest.main()
