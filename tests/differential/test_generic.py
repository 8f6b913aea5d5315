"""Differential tests of the generic keyspace commands (DEL ... SCAN) and the expire commands."""

import unittest

from diff_support import DiffCase
from keyward_harness import decode

FAR_SECONDS = "99999999999"  # an absolute time far in the future (year 5138)
FAR_MS = "99999999999000"


class GenericKeys(DiffCase):
    def test_del_unlink_exists_touch(self):
        self.check_seq("""
            MSET a 1 b 2 c 3 d 4
            EXISTS a
            EXISTS a b missing a
            DEL a
            DEL a
            DEL b c missing
            EXISTS a b c d
            UNLINK d missing
            UNLINK d
            MSET a 1 b 2
            TOUCH a b missing a
            TOUCH missing
            DBSIZE
            DEL
            UNLINK
            EXISTS
            TOUCH
            """)

    def test_type(self):
        self.check_seq("""
            SET s v
            SET n 12
            TYPE s
            TYPE n
            TYPE missing
            TYPE
            TYPE a b
            """)

    def test_keys(self):
        self.check("MSET", "one", "1", "two", "2", "three", "3", "four", "4", "five", "5",
                   "hello", "x", "hallo", "x", "hxllo", "x", "hllo", "x", "heeeello", "x",
                   "a*b", "x", "a?b", "x", "a[b", "x", "a\\b", "x", "", "empty-name")
        for pattern in ("*", "t*", "*o*", "?o*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo",
                        "h[a-b]llo", "a\\*b", "a\\?b", "a[*]b", "a\\[b", "a\\\\b", "missing*",
                        "", "[", "*[", "\\", "h[a-]llo", "h[]llo", "f*e", "*e", "????",
                        "[o-t]*", "[t-o]*", "[!a]*"):
            self.check_unordered("KEYS", pattern)
        self.check("KEYS")
        self.check("KEYS", "a", "b")

    def test_scan(self):
        keys = ["key:%d" % i for i in range(60)] + ["other:%d" % i for i in range(10)]
        args = []
        for i, key in enumerate(keys):
            args += [key, str(i)]
        self.check("MSET", *args)
        for options in ((), ("COUNT", "5"), ("MATCH", "key:1*"), ("MATCH", "other:*", "COUNT", "3"),
                        ("TYPE", "string"), ("TYPE", "list"), ("TYPE", "nosuchtype"),
                        ("MATCH", "nomatch*"), ("COUNT", "1000", "MATCH", "*:5")):
            self.check_scan(*options)
        for bad in (("abc",), ("0", "COUNT", "0"), ("0", "COUNT", "-1"), ("0", "COUNT", "abc"),
                    ("0", "COUNT"), ("0", "MATCH"), ("0", "TYPE"), ("0", "FOO", "bar"),
                    ("0", "FOO"), ("1.5",), ("-",), (" 0",)):
            self.check("SCAN", *bad)
        self.check("SCAN")
        self.check("FLUSHALL")
        self.check("SCAN", "0")
        self.check("SCAN", "0", "MATCH", "*", "COUNT", "10", "TYPE", "string")

    def test_rename(self):
        self.check_seq("""
            SET a 1
            RENAME a b
            GET a
            GET b
            RENAME missing x
            RENAME b b
            RENAME missing missing
            SET c 3
            RENAME b c
            GET c
            EXISTS b
            RENAMENX c d
            RENAMENX c d
            SET e 5
            RENAMENX d e
            GET d
            RENAMENX d d
            RENAMENX missing x
            SETEX t 100 v
            RENAME t t2
            TTL t2
            RENAME a
            RENAMENX a
            RENAME
            """)

    def test_move_copy_swapdb(self):
        r2, k2 = self.new_pair()
        self.check("SELECT", "1", pair=(r2, k2))
        self.check_seq("""
            SET a 1
            MOVE a 1
            EXISTS a
            MOVE a 1
            SET a 2
            MOVE a 1
            MOVE a 0
            MOVE a 16
            MOVE a -1
            MOVE a abc
            MOVE missing 1
            COPY a b
            GET b
            COPY a b
            COPY a b REPLACE
            COPY a a
            COPY missing b
            COPY a c DB 1
            COPY a c DB 1
            COPY a c DB 1 REPLACE
            COPY a c DB 16
            COPY a c DB -1
            COPY a c DB abc
            COPY a c FOO
            COPY a c DB
            COPY a c REPLACE REPLACE
            COPY a a DB 0
            COPY a a DB 1
            SETEX t 100 v
            COPY t t2
            TTL t2
            DBSIZE
            SWAPDB 0 1
            DBSIZE
            SWAPDB 0 0
            SWAPDB 0 16
            SWAPDB -1 0
            SWAPDB a 0
            SWAPDB 0 b
            SWAPDB 0
            MOVE
            COPY a
            """)
        for cmd in (("DBSIZE",), ("GET", "a"), ("GET", "c"), ("TTL", "t")):
            self.check(*cmd, pair=(r2, k2))

    def test_randomkey_dbsize_flush(self):
        self.check_seq("""
            RANDOMKEY
            DBSIZE
            SET only v
            RANDOMKEY
            DBSIZE
            FLUSHDB
            DBSIZE
            SET a 1
            FLUSHDB ASYNC
            DBSIZE
            SET a 1
            FLUSHDB SYNC
            FLUSHDB FOO
            FLUSHDB SYNC ASYNC
            SET a 1
            FLUSHALL SYNC
            DBSIZE
            FLUSHALL ASYNC
            FLUSHALL FOO
            RANDOMKEY x
            DBSIZE x
            """)

    def test_object(self):
        self.check("MSET", "int", "12345", "neg", "-5", "embstr", "hello", "lz", "007",
                   "big", "12345678901234567890", "raw", "x" * 50, "e44", "y" * 44,
                   "e45", "y" * 45, "small", "5", "space", " 5", "max", "9223372036854775807")
        for key in ("int", "neg", "embstr", "lz", "big", "raw", "e44", "e45", "small", "space",
                    "max", "missing"):
            self.check("OBJECT", "ENCODING", key)
        for key in ("int", "embstr", "small", "missing"):
            self.check("OBJECT", "REFCOUNT", key)
        self.check("APPEND", "embstr", "!")
        self.check("OBJECT", "ENCODING", "embstr")
        self.check("SETRANGE", "int", "0", "9")
        self.check("OBJECT", "ENCODING", "int")
        self.check("INCR", "int")
        self.check("OBJECT", "ENCODING", "int")
        self.check("INCRBYFLOAT", "small", "1")
        self.check("OBJECT", "ENCODING", "small")
        self.check("SETBIT", "bits", "1", "1")
        self.check("OBJECT", "ENCODING", "bits")
        self.check("OBJECT", "FREQ", "int")
        self.check("OBJECT", "HELP")
        self.check("OBJECT", "FOO", "int")
        self.check("OBJECT", "ENCODING")
        self.check("OBJECT", "ENCODING", "a", "b")
        self.check("OBJECT")

    def test_dump_restore(self):
        self.require_command("DUMP", "missing")
        self.require_command("RESTORE", "x", "0", "bad")
        self.check("SET", "s", "hello")
        self.check("SET", "n", "12345")
        self.check("SET", "r", "x" * 100)
        for key in ("s", "n", "r", "missing"):
            self.check("DUMP", key)
        payloads = {key: decode(self.r.call("DUMP", key)) for key in ("s", "n", "r")}
        for key, payload in payloads.items():
            self.check("RESTORE", key + "2", "0", payload)
            self.check("GET", key + "2")
        self.check("RESTORE", "s2", "0", payloads["s"])
        self.check("RESTORE", "s2", "0", payloads["n"], "REPLACE")
        self.check("GET", "s2")
        self.check("RESTORE", "t", "100000", payloads["s"])
        self.check("TTL", "t")
        self.check("RESTORE", "t2", FAR_MS, payloads["s"], "ABSTTL")
        self.check("PEXPIRETIME", "t2")
        self.check("RESTORE", "t3", "1", payloads["s"], "ABSTTL")
        self.check("EXISTS", "t3")
        self.check("RESTORE", "bad", "0", "garbage")
        self.check("RESTORE", "bad", "0", payloads["s"][:-1] + b"\x00")
        self.check("RESTORE", "bad", "-1", payloads["s"])
        self.check("RESTORE", "bad", "abc", payloads["s"])
        self.check("RESTORE", "bad", "0", payloads["s"], "FOO")
        self.check("RESTORE", "bad", "0", payloads["s"], "IDLETIME", "-1")
        self.check("RESTORE", "bad", "0", payloads["s"], "FREQ", "300")
        self.check("RESTORE", "bad", "0")
        self.check("DUMP")


class GenericExpire(DiffCase):
    def test_expire_ttl(self):
        self.check_seq("""
            SET k v
            TTL k
            PTTL k
            TTL missing
            PTTL missing
            EXPIRETIME k
            PEXPIRETIME k
            EXPIRETIME missing
            PEXPIRETIME missing
            EXPIRE k 100
            TTL k
            PEXPIRE k 200000
            TTL k
            EXPIREAT k 99999999999
            EXPIRETIME k
            PEXPIRETIME k
            TTL k
            PEXPIREAT k 99999999999123
            PEXPIRETIME k
            EXPIRETIME k
            PERSIST k
            PERSIST k
            PERSIST missing
            TTL k
            EXPIRE missing 100
            PEXPIRE missing 100
            EXPIREAT missing 100
            PEXPIREAT missing 100
            EXPIRE k 0
            EXISTS k
            SET k v
            EXPIRE k -1
            EXISTS k
            SET k v
            PEXPIRE k -100
            EXISTS k
            SET k v
            EXPIREAT k 1
            EXISTS k
            SET k v
            PEXPIREAT k 0
            GET k
            """)

    def test_expire_options(self):
        self.check_seq("""
            SET k v
            EXPIRE k 100 XX
            TTL k
            EXPIRE k 100 GT
            TTL k
            EXPIRE k 100 LT
            TTL k
            PERSIST k
            EXPIRE k 100 NX
            EXPIRE k 200 NX
            TTL k
            EXPIRE k 300 XX
            TTL k
            EXPIRE k 100 GT
            TTL k
            EXPIRE k 1000 GT
            TTL k
            EXPIRE k 2000 LT
            TTL k
            EXPIRE k 500 LT
            TTL k
            EXPIRE k 10 NX XX
            EXPIRE k 10 GT LT
            EXPIRE k 10 NX GT
            EXPIRE k 10 NX LT
            EXPIRE k 10 XX GT
            TTL k
            EXPIRE k 10 FOO
            EXPIRE k 10 nx
            EXPIRE k 10 xx lt
            TTL k
            EXPIRE k 20 GT GT
            PEXPIRE k 10000 GT
            PEXPIRE k 5000000 LT
            EXPIREAT k 99999999999 GT
            EXPIREAT k 99999999998 GT
            EXPIREAT k 99999999998 LT
            EXPIRETIME k
            PEXPIREAT k 99999999997000 LT
            PEXPIREAT k 99999999999000 NX
            PEXPIREAT k 99999999999000 XX
            PEXPIRETIME k
            SET k2 v
            EXPIRE k2 -1 GT
            EXISTS k2
            EXPIRE k2 -1 LT
            EXISTS k2
            SET k3 v
            EXPIRE k3 -1 XX
            EXISTS k3
            EXPIRE missing 10 NX
            """)

    def test_expire_errors_and_overflow(self):
        self.check("SET", "k", "v")
        for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
            for value in ("abc", "1.5", "", " 1", "9223372036854775807", "-9223372036854775808",
                          "9223372036854775", "9223372036854776", "99999999999999999999",
                          "-9223372036854775", "-9223372036854776", "9223372036854775806"):
                self.check(cmd, "k", value)
                self.check("EXISTS", "k")
                self.check("SET", "k", "v")
            self.check(cmd, "k")
            self.check(cmd)
        self.check("TTL")
        self.check("PTTL", "a", "b")
        self.check("EXPIRETIME")
        self.check("PEXPIRETIME", "a", "b")
        self.check("PERSIST")

    def test_set_clears_ttl(self):
        self.check_seq("""
            SET k v EX 100
            SET k v2
            TTL k
            SET k v EX 100
            APPEND k x
            TTL k
            INCR n
            EXPIRE n 100
            INCR n
            TTL n
            SETRANGE k 0 a
            TTL k
            SETBIT k 0 1
            TTL k
            GETSET k x
            TTL k
            EXPIRE k 100
            MSET k 1
            TTL k
            EXPIRE k 100
            RENAME k k2
            TTL k2
            GETDEL k2
            TTL k2
            """)

    def test_expired_keys_are_gone(self):
        # Expiry in the past: the key is gone at once on both servers, whatever reads it.
        self.check_seq("""
            SET a v PXAT 1
            SET b v EXAT 1
            MSET c 1 d 2
            PEXPIREAT c 1
            EXPIREAT d 1
            GET a
            EXISTS b c d
            DBSIZE
            KEYS *
            RANDOMKEY
            TTL a
            TYPE b
            """)


class WrongType(DiffCase):
    """String and bitmap commands on keys of other types."""

    def setUp(self):
        super().setUp()
        for cmd in (("LPUSH", "list", "a"), ("SADD", "set", "a"), ("HSET", "hash", "f", "v")):
            self.check(*cmd)

    def test_wrongtype(self):
        for key in ("list", "set", "hash"):
            for cmd in (("GET", key), ("SET", key, "v", "GET"), ("GETSET", key, "v"),
                        ("GETDEL", key), ("GETEX", key, "PERSIST"), ("APPEND", key, "x"),
                        ("STRLEN", key), ("INCR", key), ("DECRBY", key, "2"),
                        ("INCRBYFLOAT", key, "1"), ("GETRANGE", key, "0", "1"),
                        ("SETRANGE", key, "0", "x"), ("LCS", key, "other"), ("SETBIT", key, "0", "1"),
                        ("GETBIT", key, "0"), ("BITCOUNT", key), ("BITPOS", key, "1"),
                        ("BITOP", "AND", "dest", key), ("BITOP", "NOT", key, key),
                        ("BITFIELD", key, "GET", "u8", "0"), ("BITFIELD_RO", key, "GET", "u8", "0"),
                        ("TYPE", key), ("OBJECT", "ENCODING", key), ("MGET", key, "missing")):
                self.check(*cmd)
        self.check("SET", "list", "now-a-string")
        self.check("TYPE", "list")
        self.check("MSETNX", "set", "1", "fresh", "2")
        self.check("SETNX", "hash", "v")
        self.check("SET", "hash", "v", "NX")
        self.check("COPY", "set", "set2")
        self.check("TYPE", "set2")
        self.check_scan("TYPE", "set")


if __name__ == "__main__":
    unittest.main(verbosity=2)
