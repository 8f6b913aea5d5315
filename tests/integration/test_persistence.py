"""RDB persistence on the real keyward-server, against Debian's redis-server 7.0.15: files go both
ways for every type and encoding (and redis-check-rdb accepts Keyward's), a background save holds
the dataset as it was when it started while writes go on, SHUTDOWN and SIGTERM save with save
points, fencing counters and locks survive a restart, a failed background save refuses writes
with Redis's -MISCONF, and a truncated or corrupted file is refused as Redis refuses it."""

import os
import shutil
import signal
import subprocess
import unittest

from keyward_harness import (REDIS_SERVER, RawClient, ServerTestCase, decode, keyward_binary,
                             make_workdir, start_server, wait_for)

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"
LIBRARY = "#!lua name=mylib\nredis.register_function('answer', function() return 42 end)"


def populate(c):
    """Every type in every encoding Redis 7.0 has for it, expiry, two databases, a library."""
    c.call("SET", "int", "12345")
    c.call("SET", "negative", "-7")
    c.call("SET", "bigint", "12345678901234567890")
    c.call("SET", "embstr", "hello")
    c.call("SET", "raw", "abc" * 40)  # compressible: LZF in the file
    c.call("SET", "binary", bytes(range(256)))
    c.call("SET", "volatile", "v", "PX", "600000")
    c.call("RPUSH", "list", "a", "1", "b")
    c.call("RPUSH", "biglist", *["element-%d" % i for i in range(1000)])  # several nodes
    c.call("HSET", "hash", "f1", "v1", "f2", "2")
    pairs = []
    for i in range(300):
        pairs += ["field-%d" % i, "value-%d" % i]
    c.call("HSET", "bighash", *pairs)  # hashtable
    c.call("SADD", "intset", "1", "2", "3", "-5")
    c.call("SADD", "bigintset", *[str(i) for i in range(600)])  # past set-max-intset-entries
    c.call("SADD", "set", "a", "b", "c")
    c.call("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "low", "+inf", "high")
    scored = []
    for i in range(200):
        scored += [str(i * 1.25), "member-%d" % i]
    c.call("ZADD", "bigzset", *scored)  # skiplist
    c.call("PFADD", "hll", "a", "b", "c")
    c.call("EXPIRE", "bighash", "100000")
    c.call("SELECT", "5")
    c.call("SET", "in-db-5", "x")
    c.call("RPUSH", "list-in-db-5", "x", "y")
    c.call("SELECT", "0")
    c.call("FUNCTION", "LOAD", LIBRARY)


def dataset(c):
    """Every key of every database: encoding, exact deadline, and the value (DUMP's bytes, or the
    sorted elements for hash tables, whose order depends on the table)."""
    out = {}
    for db in range(16):
        c.call("SELECT", str(db))
        for key in decode(c.call("KEYS", "*")):
            enc = decode(c.call("OBJECT", "ENCODING", key))
            kind = decode(c.call("TYPE", key))
            if enc == b"hashtable" and kind == b"set":
                value = sorted(decode(c.call("SMEMBERS", key)))
            elif enc == b"hashtable" and kind == b"hash":
                flat = decode(c.call("HGETALL", key))
                value = sorted(zip(flat[::2], flat[1::2]))
            else:
                value = decode(c.call("DUMP", key))
            out[(db, key)] = (enc, decode(c.call("PEXPIRETIME", key)), value)
    c.call("SELECT", "0")
    out["functions"] = decode(c.call("FUNCTION", "DUMP"))
    return out


def key_differences(got, want, ignore_encoding=False):
    """The keys (and "functions") whose entries differ, are missing or are extra."""
    out = []
    for key in sorted(set(got) | set(want), key=repr):
        a, b = got.get(key), want.get(key)
        if ignore_encoding and a is not None and b is not None and key != "functions":
            a, b = a[1:], b[1:]
        if a != b:
            out.append((key, a, b))
    return out


def info_field(c, name):
    info = decode(c.call("INFO", "persistence")).decode()
    return info.split(name + ":")[1].split()[0]


class RdbFiles(ServerTestCase):
    def start_in(self, binary, workdir, *args, **kwargs):
        srv = start_server(binary, list(args), workdir=workdir,
                           name=os.path.basename(binary), **kwargs)
        self.addCleanup(srv.stop)
        return srv

    def loaded_by_both(self, d):
        """The dataset each server holds after loading the dump in `d` (a copy each)."""
        results = []
        for binary in (REDIS_SERVER, keyward_binary()):
            wd = make_workdir()
            shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(wd, "dump.rdb"))
            args = ["--save", ""] + (["--appendonly", "no"] if binary == REDIS_SERVER else [])
            srv = self.start_in(binary, wd, *args)
            results.append(dataset(self.raw_client(srv)))
            srv.stop()
        return results

    def test_keyward_dump_loads_into_redis_and_passes_redis_check_rdb(self):
        d = make_workdir()
        kw = self.start_in(keyward_binary(), d, "--save", "")
        c = self.raw_client(kw)
        populate(c)
        before = dataset(c)
        self.assertEqual(decode(c.call("SAVE")), b"OK")
        kw.stop()
        path = os.path.join(d, "dump.rdb")
        check = subprocess.run([REDIS_CHECK_RDB, path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        self.assertEqual(check.returncode, 0, check.stdout.decode(errors="replace"))
        self.assertIn(b"RDB looks OK!", check.stdout)
        in_redis, in_keyward = self.loaded_by_both(d)
        self.assertEqual(key_differences(in_keyward, in_redis), [])
        # Loading changes nothing but a short raw string's encoding (embstr once loaded, as
        # Redis's loader makes it).
        self.assertEqual(key_differences(in_redis, before, ignore_encoding=True), [])

    def test_redis_dump_loads_into_keyward(self):
        d = make_workdir()
        r = self.start_in(REDIS_SERVER, d, "--save", "", "--appendonly", "no")
        c = self.raw_client(r)
        populate(c)
        self.assertEqual(decode(c.call("SAVE")), b"OK")
        r.stop()
        in_redis, in_keyward = self.loaded_by_both(d)
        self.assertEqual(key_differences(in_keyward, in_redis), [])
        kw = self.start_in(keyward_binary(), d, "--save", "")
        k = self.raw_client(kw)
        self.assertEqual(decode(k.call("FCALL", "answer", "0")), 42)
        self.assertEqual(info_field(k, "rdb_last_load_keys_loaded"), str(len(in_redis) - 1))

    def test_keys_expired_in_the_file_are_dropped_when_loading(self):
        d = make_workdir()
        kw = self.start_in(keyward_binary(), d, "--save", "", "--enable-debug-command", "yes")
        c = self.raw_client(kw)
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        c.call("SET", "gone", "x", "PX", "1")  # expires, and is never looked at again
        c.call("SET", "marker", "x", "PX", "1")
        wait_for(lambda: decode(c.call("EXISTS", "marker")) == 0, message="marker expired")
        c.call("SET", "kept", "x")
        c.call("SET", "later", "x", "PX", "100000")
        self.assertEqual(decode(c.call("DBSIZE")), 3)  # "gone" is still stored
        self.assertEqual(decode(c.call("SAVE")), b"OK")
        kw.stop()
        kw2 = self.start_in(keyward_binary(), d, "--save", "")
        c2 = self.raw_client(kw2)
        self.assertEqual(sorted(decode(c2.call("KEYS", "*"))), [b"kept", b"later"])
        self.assertEqual(info_field(c2, "rdb_last_load_keys_expired"), "1")
        self.assertEqual(info_field(c2, "rdb_last_load_keys_loaded"), "2")


class BackgroundSave(ServerTestCase):
    def test_snapshot_holds_the_dataset_as_of_bgsave_while_writes_go_on(self):
        d = make_workdir()
        kw = start_server(keyward_binary(), ["--save", "", "--rdb-key-save-delay", "20000"],
                          workdir=d, name="keyward")
        self.addCleanup(kw.stop)
        c = self.raw_client(kw)
        for i in range(100):
            c.call("SET", "key:%d" % i, "original-%d" % i)
        c.call("RPUSH", "queue", *["job-%d" % i for i in range(50)])
        want = dataset(c)
        self.assertEqual(decode(c.call("BGSAVE")), b"Background saving started")
        self.assertEqual(info_field(c, "rdb_bgsave_in_progress"), "1")
        self.assertEqual(decode(c.call("BGSAVE")),
                         b"ERR Background save already in progress")
        # Writes go on and are answered while the snapshot is written.
        for i in range(100):
            c.call("SET", "key:%d" % i, "changed-%d" % i)
            c.call("LPOP", "queue")
            c.call("SET", "new:%d" % i, "x")
        c.call("DEL", "key:5")
        self.assertEqual(info_field(c, "rdb_bgsave_in_progress"), "1")
        c.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        wait_for(lambda: info_field(c, "rdb_bgsave_in_progress") == "0", message="bgsave done")
        self.assertEqual(info_field(c, "rdb_last_bgsave_status"), "ok")
        self.assertEqual(info_field(c, "rdb_saves"), "1")
        kw.stop()
        # The file holds the dataset of the moment BGSAVE started, not a key more.
        kw2 = start_server(keyward_binary(), ["--save", ""], workdir=d, name="keyward")
        self.addCleanup(kw2.stop)
        self.assertEqual(dataset(self.raw_client(kw2)), want)

    def test_failed_background_save_refuses_writes_like_redis(self):
        replies = {}
        for binary in (REDIS_SERVER, keyward_binary()):
            d = make_workdir()
            srv = start_server(binary, ["--save", "3600 1", "--appendonly", "no"]
                               if binary == REDIS_SERVER else ["--save", "3600 1"],
                               workdir=d, name=os.path.basename(binary))
            self.addCleanup(srv.stop)
            # The final name is a directory: writing works, the rename fails.
            os.mkdir(os.path.join(d, "dump.rdb"))
            c = self.raw_client(srv)
            c.call("SET", "k", "v")
            seen = [decode(c.call("BGSAVE"))]
            wait_for(lambda: info_field(c, "rdb_bgsave_in_progress") == "0", message="bgsave")
            seen.append(info_field(c, "rdb_last_bgsave_status"))
            seen += [c.call("SET", "k", "v2"), c.call("PING"), c.call("GET", "k"),
                     c.call("EVAL", "return redis.call('set', 'k', 'v3')", "0"),
                     c.call("MULTI"), c.call("SET", "k", "v4"), c.call("EXEC"),
                     c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"),
                     c.call("SET", "k", "v5"),
                     c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"),
                     c.call("SET", "k", "v6")]
            # A save that works lifts the refusal.
            os.rmdir(os.path.join(d, "dump.rdb"))
            seen.append(c.call("SAVE"))
            seen.append(c.call("SET", "k", "v7"))
            replies[binary] = seen
            srv.stop()
        self.assertEqual(replies[keyward_binary()], replies[REDIS_SERVER])
        self.assertEqual(replies[REDIS_SERVER][1], "err")


class ShutdownAndRestart(ServerTestCase):
    def start_kw(self, d, *args):
        srv = start_server(keyward_binary(), list(args), workdir=d, name="keyward")
        self.addCleanup(srv.stop)
        return srv

    def test_sigterm_with_save_points_saves_and_shutdown_nosave_does_not(self):
        d = make_workdir()
        kw = self.start_kw(d, "--save", "3600 1")
        c = self.raw_client(kw)
        c.call("SET", "a", "1")
        kw.signal(signal.SIGTERM)
        self.assertEqual(kw.wait_exit(), 0)
        kw = self.start_kw(d, "--save", "3600 1")
        c = self.raw_client(kw)
        self.assertEqual(decode(c.call("GET", "a")), b"1")
        c.call("SET", "b", "2")
        c.send(b"SHUTDOWN NOSAVE\r\n")
        c.wait_closed()
        self.assertEqual(kw.wait_exit(), 0)
        kw = self.start_kw(d, "--save", "")
        c = self.raw_client(kw)
        self.assertEqual(sorted(decode(c.call("KEYS", "*"))), [b"a"])
        # No save points: SHUTDOWN does not save, SHUTDOWN SAVE does.
        c.call("SET", "c", "3")
        self.assertEqual(decode(c.call("SHUTDOWN", "SAVE", "NOSAVE")), decode(b"-ERR syntax error\r\n"))
        c.send(b"SHUTDOWN SAVE\r\n")
        c.wait_closed()
        kw.wait_exit()
        kw = self.start_kw(d, "--save", "")
        c = self.raw_client(kw)
        self.assertEqual(sorted(decode(c.call("KEYS", "*"))), [b"a", b"c"])
        before = int(decode(c.call("LASTSAVE")))
        self.assertEqual(decode(c.call("SAVE")), b"OK")
        self.assertGreaterEqual(int(decode(c.call("LASTSAVE"))), before)

    def test_fencing_counters_guard_marks_and_leases_survive_a_restart(self):
        d = make_workdir()
        kw = self.start_kw(d, "--save", "")
        c = self.raw_client(kw)
        granted, token, _ = decode(c.call("LOCK.ACQUIRE", "orders", "me", "600000", "FENCE"))
        self.assertEqual(granted, 1)
        self.assertEqual(decode(c.call("LOCK.GUARD", "orders", str(token), "SET", "x", "1")),
                         b"OK")
        info_before = decode(c.call("LOCK.INFO", "orders"))
        pexpire_before = decode(c.call("PEXPIRETIME", "orders"))
        c.send(b"SHUTDOWN SAVE\r\n")
        c.wait_closed()
        kw.wait_exit()
        kw = self.start_kw(d, "--save", "")
        c = self.raw_client(kw)
        info = dict(zip(*[iter(decode(c.call("LOCK.INFO", "orders")))] * 2))
        want = dict(zip(*[iter(info_before)] * 2))
        # The same holder, its token and the guard mark; the lease ends when it did. The counter
        # never goes back (with RDB alone the boot floor still lifts it: writes after the last
        # save may be lost in a crash).
        for field in (b"owner", b"holder_token", b"seen"):
            self.assertEqual(info[field], want[field], field)
        self.assertGreaterEqual(info[b"token"], want[b"token"])
        self.assertEqual(decode(c.call("PEXPIRETIME", "orders")), pexpire_before)
        # A stale token is still refused by the guard.
        self.assertTrue(decode(c.call("LOCK.GUARD", "orders", str(token - 1), "SET", "x", "2"))
                        .startswith(b"FENCED"))


class Loading(ServerTestCase):
    def test_clients_get_loading_while_the_file_loads_as_from_redis(self):
        seen = {}
        for binary in (REDIS_SERVER, keyward_binary()):
            d = make_workdir()
            extra = ["--appendonly", "no"] if binary == REDIS_SERVER else []
            srv = start_server(binary, ["--save", ""] + extra, workdir=d,
                               name=os.path.basename(binary))
            self.addCleanup(srv.stop)
            c = self.raw_client(srv)
            for start in range(0, 2000, 500):
                args = []
                for i in range(start, start + 500):
                    args += ["key:%d" % i, "value-%d" % i]
                c.call("MSET", *args)
            self.assertEqual(decode(c.call("SAVE")), b"OK")
            srv.stop()
            # A load that lasts until the test lets it go (10 ms per key until CONFIG SET,
            # which runs while loading), serving clients every KB of the file.
            srv = start_server(binary, ["--save", "", "--key-load-delay", "10000",
                                        "--loading-process-events-interval-bytes", "1024"] + extra,
                               workdir=d, name=os.path.basename(binary), wait=False)
            self.addCleanup(srv.stop)

            def connect():
                try:
                    return RawClient(port=srv.port)
                except OSError:
                    return None
            holder = []
            wait_for(lambda: holder.append(connect()) or holder[-1] is not None,
                     message="listening")
            conn = holder[-1]
            self.addCleanup(conn.close)
            during = [conn.call("PING"), conn.call("GET", "key:1"),
                      info_field(conn, "loading"),
                      conn.call("CONFIG", "SET", "key-load-delay", "0")]
            wait_for(lambda: decode(conn.call("PING")) == b"PONG", timeout=60, message="loaded")
            during += [info_field(conn, "loading"), decode(conn.call("DBSIZE")),
                       info_field(conn, "rdb_last_load_keys_loaded")]
            seen[binary] = during
            srv.stop()
        self.assertEqual(seen[keyward_binary()], seen[REDIS_SERVER])
        self.assertEqual(seen[REDIS_SERVER][0], b"-LOADING Redis is loading the dataset in memory\r\n")


class CorruptFiles(ServerTestCase):
    def outcome(self, binary, data):
        d = make_workdir()
        with open(os.path.join(d, "dump.rdb"), "wb") as f:
            f.write(data)
        args = ["--save", ""] + (["--appendonly", "no"] if binary == REDIS_SERVER else [])
        srv = start_server(binary, args, workdir=d, name=os.path.basename(binary), wait=False)
        self.addCleanup(srv.stop, check_sanitizer=False)
        wait_for(lambda: not srv.alive() or srv.answers_ping(), timeout=30,
                 message="start-up or exit")
        if not srv.alive():
            return "refused"
        c = self.raw_client(srv)
        keys = len(decode(c.call("KEYS", "*")))
        srv.stop()
        return "loaded %d keys" % keys

    def test_truncated_and_corrupted_files_are_refused_as_redis_refuses_them(self):
        d = make_workdir()
        kw = start_server(keyward_binary(), ["--save", ""], workdir=d, name="keyward")
        self.addCleanup(kw.stop)
        c = self.raw_client(kw)
        populate(c)
        c.call("SAVE")
        kw.stop()
        with open(os.path.join(d, "dump.rdb"), "rb") as f:
            good = f.read()
        cases = {}
        for cut in sorted({0, 5, 9, 20, len(good) // 4, len(good) // 2, len(good) - 9,
                           len(good) - 1}):
            cases["truncated at %d" % cut] = good[:cut]
        for at in (12, len(good) // 3, len(good) // 2, len(good) - 20):
            flipped = bytearray(good)
            flipped[at] ^= 0x10
            cases["bit flipped at %d" % at] = bytes(flipped)
        cases["bad magic"] = b"RADIS" + good[5:]
        cases["version 11"] = b"REDIS0011" + good[9:]
        results = {name: (self.outcome(keyward_binary(), data), self.outcome(REDIS_SERVER, data))
                   for name, data in cases.items()}
        for name, (kw_result, redis_result) in results.items():
            self.assertEqual(kw_result, redis_result, name)
        self.assertEqual(self.outcome(keyward_binary(), good), "loaded %d keys" % 17)


if __name__ == "__main__":
    unittest.main()
