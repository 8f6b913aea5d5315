"""Differential tests of transactions (MULTI EXEC DISCARD WATCH UNWATCH): Keyward vs
redis-server 7.0.15, raw replies compared byte for byte.

The WATCH sweep is the heart of it: for each kind of write (every family, no-op forms included,
flushes, SWAPDB, MOVE, RENAME, scripts, expiry) one connection WATCHes a key, a second one runs
the write, and the first one's MULTI / PING / EXEC must fail (a null reply) or succeed exactly as
it does on Redis. Which writes touch a key is Redis's signalModifiedKey, command by command.
"""

import unittest

from diff_support import DiffCase, main
from keyward_harness import encode_command

SETUPS = {
    "string": [("SET", "k", "v")],
    "int": [("SET", "k", "10")],
    "list": [("RPUSH", "k", "a", "b", "c")],
    "hash": [("HSET", "k", "f", "v", "n", "1")],
    "set": [("SADD", "k", "a", "b")],
    "intset": [("SADD", "k", "1", "2")],
    "zset": [("ZADD", "k", "1", "a", "2", "b")],
    "ttl": [("SET", "k", "v", "EX", "100")],
    "single": [("SADD", "k", "a")],
    "absent": [],
    "other": [("SET", "k2", "w"), ("RPUSH", "src", "x"), ("SADD", "s1", "a"), ("SADD", "s2", "b")],
}

# (setup, write run by the second connection while the first watches k)
WRITES = [
    # strings
    ("string", ("SET", "k", "v")),
    ("string", ("SET", "k", "v2")),
    ("string", ("SET", "k", "x", "NX")),
    ("absent", ("SET", "k", "x", "XX")),
    ("string", ("SETNX", "k", "x")),
    ("absent", ("SETNX", "k", "x")),
    ("string", ("SETEX", "k", "100", "v")),
    ("string", ("PSETEX", "k", "100000", "v")),
    ("string", ("GETSET", "k", "v")),
    ("string", ("GETDEL", "k")),
    ("absent", ("GETDEL", "k")),
    ("string", ("GETEX", "k")),
    ("string", ("GETEX", "k", "PERSIST")),
    ("ttl", ("GETEX", "k", "PERSIST")),
    ("string", ("GETEX", "k", "EX", "100")),
    ("string", ("GET", "k")),
    ("string", ("APPEND", "k", "")),
    ("string", ("APPEND", "k", "x")),
    ("string", ("SETRANGE", "k", "0", "")),
    ("string", ("SETRANGE", "k", "1", "x")),
    ("int", ("INCRBY", "k", "0")),
    ("int", ("INCR", "k")),
    ("int", ("DECRBY", "k", "0")),
    ("int", ("INCRBYFLOAT", "k", "0")),
    ("string", ("INCR", "k")),
    ("absent", ("MSET", "k", "v", "k2", "w")),
    ("string", ("MSETNX", "k", "v", "k9", "w")),
    ("string", ("SETBIT", "k", "0", "0")),
    ("absent", ("SETBIT", "k", "0", "0")),
    ("string", ("BITFIELD", "k", "SET", "u8", "0", "118")),
    ("string", ("BITFIELD", "k", "GET", "u8", "0")),
    ("other", ("BITOP", "AND", "k", "k2", "k2")),
    ("absent", ("BITOP", "AND", "k", "nokey")),
    ("string", ("BITOP", "AND", "k", "nokey")),
    # generic
    ("string", ("DEL", "k")),
    ("absent", ("DEL", "k")),
    ("string", ("UNLINK", "k")),
    ("string", ("EXPIRE", "k", "100")),
    ("ttl", ("EXPIRE", "k", "100", "NX")),
    ("string", ("EXPIRE", "k", "100", "XX")),
    ("string", ("PEXPIRE", "k", "0")),
    ("string", ("EXPIREAT", "k", "1")),
    ("string", ("PERSIST", "k")),
    ("ttl", ("PERSIST", "k")),
    ("string", ("RENAME", "k", "k3")),
    ("other", ("RENAME", "k2", "k")),
    ("string", ("RENAME", "k", "k")),
    ("string", ("RENAMENX", "k", "k3")),
    ("other", ("RENAMENX", "k2", "k")),
    ("string", ("COPY", "k", "k3")),
    ("other", ("COPY", "k2", "k")),
    ("string", ("COPY", "k2", "k")),
    ("string", ("MOVE", "k", "1")),
    ("absent", ("MOVE", "k", "1")),
    ("string", ("TOUCH", "k")),
    ("string", ("OBJECT", "ENCODING", "k")),
    ("other", ("SORT", "src", "ALPHA", "STORE", "k")),
    ("string", ("SORT", "nokey", "STORE", "k")),
    ("absent", ("SORT", "nokey", "STORE", "k")),
    # lists
    ("list", ("LPUSH", "k", "x")),
    ("absent", ("RPUSHX", "k", "x")),
    ("list", ("LPOP", "k")),
    ("list", ("LPOP", "k", "0")),
    ("list", ("RPOP", "k", "3")),
    ("list", ("LREM", "k", "0", "zz")),
    ("list", ("LREM", "k", "0", "a")),
    ("list", ("LSET", "k", "0", "a")),
    ("list", ("LTRIM", "k", "0", "-1")),
    ("list", ("LTRIM", "k", "1", "1")),
    ("list", ("LINSERT", "k", "BEFORE", "zz", "x")),
    ("list", ("LINSERT", "k", "BEFORE", "a", "x")),
    ("list", ("LMOVE", "k", "k", "LEFT", "RIGHT")),
    ("other", ("LMOVE", "src", "k", "LEFT", "RIGHT")),
    ("list", ("LMPOP", "1", "k", "LEFT")),
    ("list", ("BLPOP", "k", "0")),
    ("list", ("LRANGE", "k", "0", "-1")),
    # hashes
    ("hash", ("HSET", "k", "f", "v")),
    ("hash", ("HSETNX", "k", "f", "v")),
    ("hash", ("HSETNX", "k", "g", "v")),
    ("hash", ("HDEL", "k", "nof")),
    ("hash", ("HDEL", "k", "f")),
    ("hash", ("HINCRBY", "k", "n", "0")),
    ("hash", ("HINCRBYFLOAT", "k", "n", "0")),
    ("hash", ("HGETALL", "k")),
    # sets
    ("set", ("SADD", "k", "a")),
    ("set", ("SADD", "k", "z")),
    ("intset", ("SADD", "k", "x")),
    ("set", ("SREM", "k", "zz")),
    ("set", ("SREM", "k", "a")),
    ("set", ("SPOP", "k", "0")),
    ("single", ("SPOP", "k")),
    ("set", ("SMOVE", "k", "k3", "a")),
    ("set", ("SMOVE", "k", "k3", "zz")),
    ("other", ("SMOVE", "s1", "k", "a")),
    ("absent", ("SINTERSTORE", "k", "s1", "s2")),
    ("set", ("SINTERSTORE", "k", "s1", "s2")),
    ("other", ("SUNIONSTORE", "k", "s1", "s2")),
    ("other", ("SDIFFSTORE", "k", "s1", "s2")),
    # sorted sets
    ("zset", ("ZADD", "k", "1", "a")),
    ("zset", ("ZADD", "k", "5", "a")),
    ("zset", ("ZADD", "k", "NX", "7", "a")),
    ("zset", ("ZADD", "k", "XX", "7", "zz")),
    ("zset", ("ZINCRBY", "k", "0", "a")),
    ("zset", ("ZREM", "k", "zz")),
    ("zset", ("ZREM", "k", "a")),
    ("zset", ("ZREMRANGEBYSCORE", "k", "100", "200")),
    ("zset", ("ZREMRANGEBYRANK", "k", "0", "0")),
    ("zset", ("ZPOPMIN", "k", "0")),
    ("zset", ("ZPOPMAX", "k")),
    ("absent", ("ZRANGESTORE", "k", "nokey", "0", "-1")),
    ("zset", ("ZRANGESTORE", "k", "nokey", "0", "-1")),
    ("zset", ("ZUNIONSTORE", "k", "1", "k")),
    ("absent", ("GEOADD", "k", "13.361389", "38.115556", "Palermo")),
    # the server
    ("string", ("FLUSHALL",)),
    ("absent", ("FLUSHALL",)),
    ("string", ("FLUSHDB",)),
    ("string", ("SWAPDB", "0", "1")),
    ("absent", ("SWAPDB", "0", "1")),
    # scripts
    ("string", ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k")),
    ("string", ("EVAL", "return redis.call('get', KEYS[1])", "1", "k")),
    ("string", ("EVAL", "return redis.call('del', 'nokey')", "0")),
]


class TransactionTest(DiffCase):
    SERVER_ARGS = ("--enable-debug-command", "yes")

    def tearDown(self):
        for client in (self.r, self.k):
            client.send(encode_command("SELECT", "0"))
            client.read_reply()

    def test_basics(self):
        self.seq("""
            EXEC ; DISCARD ; UNWATCH
            MULTI ; EXEC
            MULTI ; SET a 1 ; INCR a ; GET a ; EXEC
            MULTI ; MULTI ; SET b 1 ; EXEC
            MULTI ; WATCH a ; GET a ; EXEC
            MULTI ; SET c 1 ; DISCARD ; GET c ; DISCARD
            MULTI ; SET c 1 ; UNWATCH ; EXEC
            EXEC foo ; MULTI ; SET c 2 ; EXEC foo ; GET c
            WATCH ; MULTI ; DISCARD x ; EXEC
        """)

    def test_errors_while_queueing_abort(self):
        self.seq("""
            MULTI ; SET a 1 ; NOSUCHCOMMAND x ; SET b 2 ; EXEC ; EXISTS a b
            MULTI ; SET a 1 ; GET ; EXEC ; EXISTS a
            MULTI ; CONFIG NOSUCH ; EXEC
            MULTI ; SHUTDOWN ; EXEC
            MULTI ; WATCH a ; SET a 1 ; EXEC ; GET a
        """)

    def test_runtime_errors_do_not_abort(self):
        self.seq("""
            SET s text ; RPUSH l x
            MULTI ; INCR s ; LPUSH s x ; SET n 1 ; INCR n ; RPOP l ; HSET l f v ; EXEC
            GET n ; LLEN l
        """)
        self.check("MULTI")
        self.check("EVAL", "return redis.call('incr', KEYS[1])", "1", "s")
        self.check("EVAL", "return redis.error_reply('MY own')", "0")
        self.check("GET", "s")
        self.check("EXEC")
        self.check("INFO", "errorstats")

    def test_blocking_commands_do_not_block(self):
        self.seq("""
            MULTI ; BLPOP l1 0 ; BRPOP l1 1 ; BLMOVE l1 l2 LEFT LEFT 0 ; BRPOPLPUSH l1 l2 0
            BZPOPMIN z1 0 ; BZPOPMAX z1 0 ; BLMPOP 0 1 l1 LEFT ; BZMPOP 0 1 z1 MIN ; EXEC
            RPUSH l1 a b ; ZADD z1 1 m
            MULTI ; BLPOP l1 0 ; BLMOVE l1 l2 LEFT LEFT 0 ; BZPOPMIN z1 0 ; BLPOP l1 0 ; EXEC
            LRANGE l2 0 -1
        """)

    def test_select_and_other_dbs(self):
        self.seq("""
            MULTI ; SET a db0 ; SELECT 1 ; SET a db1 ; GET a ; EXEC
            GET a ; SELECT 0 ; GET a
            MULTI ; SELECT 99 ; SELECT 1 ; EXEC ; GET a ; SELECT 0
        """)

    def test_resp3_and_null_replies(self):
        pair = self.resp3_pair()
        self.check("WATCH", "k", pair=pair)
        self.check("SET", "k", "v")
        self.check("MULTI", pair=pair)
        self.check("HSET", "h", "f", "v", pair=pair)
        self.check("EXEC", pair=pair)
        self.check("MULTI", pair=pair)
        self.check("HSET", "h", "f", "v", pair=pair)
        self.check("HGETALL", "h", pair=pair)
        self.check("ZADD", "z", "1.5", "m", pair=pair)
        self.check("ZSCORE", "z", "m", pair=pair)
        self.check("EXEC", pair=pair)

    def test_pubsub_inside(self):
        self.seq("""
            MULTI ; PUBLISH ch x ; PING ; EXEC
            MULTI ; SUBSCRIBE ch ; PING ; EXEC
            PING
            UNSUBSCRIBE
        """)

    def test_watch_keeps_failing_once_dirty(self):
        a = self.new_pair()
        self.check("WATCH", "k", "k2", pair=a)
        self.check("SET", "k", "1")
        self.check("WATCH", "k3", pair=a)  # already dirty: no point
        self.check("SET", "k", "2")
        self.check("MULTI", pair=a)
        self.check("GET", "k", pair=a)
        self.check("EXEC", pair=a)
        # UNWATCH clears the failed state; EXEC unwatches.
        self.check("WATCH", "k", pair=a)
        self.check("SET", "k", "3")
        self.check("UNWATCH", pair=a)
        self.check("MULTI", pair=a)
        self.check("GET", "k", pair=a)
        self.check("EXEC", pair=a)
        self.check("WATCH", "k", pair=a)
        self.check("MULTI", pair=a)
        self.check("EXEC", pair=a)
        self.check("SET", "k", "4")
        self.check("MULTI", pair=a)
        self.check("EXEC", pair=a)
        # DISCARD unwatches too.
        self.check("WATCH", "k", pair=a)
        self.check("MULTI", pair=a)
        self.check("DISCARD", pair=a)
        self.check("SET", "k", "5")
        self.check("MULTI", pair=a)
        self.check("EXEC", pair=a)

    def test_own_writes_and_other_dbs(self):
        # A client's own write to a key it watches fails its transaction too; a write to the
        # same name in another database does not.
        self.seq("""
            WATCH k ; SET k mine ; MULTI ; PING ; EXEC
            WATCH k ; SELECT 1 ; SET k db1 ; MULTI ; PING ; EXEC ; SELECT 0
            WATCH k ; SELECT 1 ; MULTI ; PING ; EXEC ; SELECT 0
        """)

    def test_watch_sweep(self):
        a = self.new_pair()
        for setup, write in WRITES:
            with self.subTest(setup=setup, write=" ".join(write)):
                for client in (self.r, self.k):
                    client.call("FLUSHALL")
                for cmd in SETUPS[setup] + SETUPS["other"] * (setup != "other"):
                    self.check(*cmd)
                if write[0] == "SWAPDB" and setup == "absent":
                    self.check("SELECT", "1")
                    self.check("SET", "k", "in-db1")
                    self.check("SELECT", "0")
                self.check("WATCH", "k", pair=a)
                self.check(*write)
                self.check("MULTI", pair=a)
                self.check("PING", pair=a)
                self.check("EXEC", pair=a)

    def test_flushdb_of_another_db_and_swapdb_into_absent(self):
        a = self.new_pair()
        self.check("SET", "k", "v")
        self.check("WATCH", "k", pair=a)
        self.check("SELECT", "1")
        self.check("FLUSHDB")
        self.check("SELECT", "0")
        self.check("MULTI", pair=a)
        self.check("EXEC", pair=a)
        # SWAPDB: the key only exists in the other database.
        self.check("FLUSHALL")
        self.check("SELECT", "1")
        self.check("SET", "k", "v1")
        self.check("SELECT", "0")
        self.check("WATCH", "k", pair=a)
        self.check("SWAPDB", "1", "0")
        self.check("MULTI", pair=a)
        self.check("EXEC", pair=a)
        self.check("GET", "k")

    def wait_expired(self, probe):
        # The probe key was given the same deadline as the watched key, just after it: once the
        # probe is gone, the watched key is logically expired too (active expiry is off, so it
        # still sits in the table). Polls a condition, on both servers.
        for client in (self.r, self.k):
            for _ in range(100000):
                if client.call("EXISTS", probe) == b":0\r\n":
                    break
            else:
                self.fail("the probe key never expired")

    def test_watched_key_expiring_before_exec(self):
        a = self.new_pair()
        self.assertEqual(self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0"), b"+OK\r\n")
        self.addCleanup(self.check, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.check("SET", "k", "v", "PX", "30")
        self.check("WATCH", "k", pair=a)
        self.check("SET", "probe", "v", "PX", "30")
        self.wait_expired("probe")
        self.check("MULTI", pair=a)
        self.check("PING", pair=a)
        self.check("EXEC", pair=a)

    def test_watching_an_already_expired_key(self):
        # Watched while already expired, the key counts as absent: its deletion on access is no
        # change, but a new value is.
        a = self.new_pair()
        self.assertEqual(self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0"), b"+OK\r\n")
        self.addCleanup(self.check, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        for step in ("GET", "SET"):
            self.check("SET", "k", "v", "PX", "30")
            self.check("SET", "probe", "v", "PX", "30")
            self.wait_expired("probe")
            self.check("WATCH", "k", pair=a)
            self.check("GET", "k")  # deletes the expired key
            if step == "SET":
                self.check("SET", "k", "new")
            self.check("MULTI", pair=a)
            self.check("PING", pair=a)
            self.check("EXEC", pair=a)

    def test_client_list_fields(self):
        def fields(raw):
            keep = []
            for f in raw.split(b" "):
                if f.split(b"=")[0] in (b"flags", b"multi", b"cmd"):
                    keep.append(f.strip())
            return b" ".join(keep)

        a = self.new_pair()
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("MULTI", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("PING", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("EXEC", pair=a, normalize=fields)
        self.check("WATCH", "k", pair=a)
        self.check("SET", "k", "v")
        self.check("CLIENT", "INFO", pair=a, normalize=fields)

    def test_pipelined_transaction(self):
        # A client that pipelines MULTI ... EXEC without reading: every reply in order.
        data = b"".join(encode_command(*c) for c in [
            ("MULTI",), ("SET", "p", "1"), ("INCR", "p"), ("NOPE",), ("INCR", "p"), ("EXEC",),
            ("MULTI",), ("INCR", "p"), ("LPUSH", "p", "x"), ("EXEC",), ("GET", "p")])
        self.check_raw(data, 11)


if __name__ == "__main__":
    main()
