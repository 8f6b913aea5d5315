"""Differential tests of the hash commands (HSET ... HSCAN): Keyward vs redis-server 7.0.15, raw
replies compared byte for byte, OBJECT ENCODING included.

What cannot be compared byte for byte is compared for what it must have in common:
  - HRANDFIELD picks at random: its replies are compared by shape (types, lengths, RESP3
    nesting) and checked for membership (every field is one of the hash's, with its value;
    distinct fields for a positive count). Where the result is determined (a count at least
    the hash's size on a listpack) the bytes must match.
  - A hashtable-encoded hash has the table's order, which depends on the hash function:
    HGETALL/HKEYS/HVALS of one are compared unordered, and HSCAN of one by full iteration
    (cursor values are implementation details). Listpack-encoded hashes have insertion order
    and must match exactly, HSCAN replies included (one call, cursor 0).

The thresholds are set explicitly on both servers before each test (Redis 7.0's defaults,
hash-max-listpack-entries 512 and hash-max-listpack-value 64), so OBJECT ENCODING compares
whatever Keyward's own defaults are; HashDefaults compares the defaults themselves.

Keyspace events use the marker technique of test_lists.py: a subscriber PSUBSCRIBEd to
"__key*@*__:*" reads everything up to a marker PUBLISHed after each step.

Environment (random part, as in test_lists.py):
  KEYWARD_DIFF_SEED       seed to replay (printed at the start and on failure)
  KEYWARD_HASH_COMMANDS   commands in the random sequence (default 1500)
"""

import os
import random
import sys
import time
import unittest

from diff_support import DiffCase, show, EventsMixin
from keyward_harness import ConnectionClosed, Error, decode, encode_command, unordered

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
BIN = b"a\r\nb\x00c\r\n\x00"
RANDOM_COMMANDS = {b"hrandfield"}
UNORDERED_COMMANDS = {b"hgetall", b"hkeys", b"hvals"}



def name_of(cmd):
    n = cmd[0]
    return (n if isinstance(n, bytes) else n.encode()).lower()


def as_bytes(x):
    return x if isinstance(x, bytes) else str(x).encode()


def shape(value):
    """The structure of a decoded reply without its strings: types and lengths, nested."""
    if isinstance(value, list):
        return ("list", len(value), tuple(shape(v) for v in value))
    if isinstance(value, Error):
        return ("error", bytes(value))
    if isinstance(value, bytes):
        return "bulk"
    return (type(value).__name__, value if isinstance(value, int) else None)


class HashCase(DiffCase):
    """Sets the thresholds on both servers (and restores them, and notifications, after)."""

    RESTORE_CONFIG = (("hash-max-listpack-entries", "512"), ("hash-max-listpack-value", "64"),
                      ("notify-keyspace-events", ""))

    def setUp(self):
        super().setUp()
        self.restore_config()  # also before: a suite that ran earlier may have left them changed


    def encoding(self, client, key):
        return decode(client.call("OBJECT", "ENCODING", key))

    def contents(self, client, key):
        """The hash as a dict (from HGETALL on the given connection, RESP2 or RESP3)."""
        reply = decode(client.call("HGETALL", key))
        if isinstance(reply, Error):
            return None
        if reply and isinstance(reply[0], tuple):
            return dict(reply)
        return dict(zip(reply[0::2], reply[1::2]))

    def scan_pairs(self, client, key, options):
        """Every (field, value) of a full HSCAN iteration, sorted; or a description of what
        went wrong."""
        cursor, seen = b"0", set()
        for _ in range(100000):
            reply = decode(client.call("HSCAN", key, cursor, *options))
            if not isinstance(reply, list) or len(reply) != 2 or len(reply[1]) % 2:
                return ("not an HSCAN reply", reply)
            cursor, items = reply
            seen.update(zip(items[0::2], items[1::2]))
            if cursor == b"0":
                return sorted(seen)
        return ("HSCAN did not terminate",)

    # --- comparisons that allow for randomness and table order -----------------------------

    def equivalent(self, cmd, expected, actual, pair=None):
        """None when Keyward's reply to `cmd` is acceptable given redis's, else the reason.
        Exact equality always is; otherwise the command must be one whose reply is random or
        in table order, on a hashtable-encoded hash where it is."""
        if actual == expected:
            return None
        r, k = pair or (self.r, self.k)
        name = name_of(cmd)
        if expected[:1] in (b"-", b"!") or actual[:1] in (b"-", b"!"):
            return "error replies differ"
        if name in RANDOM_COMMANDS:
            return self.random_reply_problem(cmd, expected, actual, k)
        if len(cmd) < 2:
            return "replies differ"
        key = cmd[1]
        if self.encoding(r, key) != b"hashtable" or self.encoding(k, key) != b"hashtable":
            return "replies differ (the hash is not hashtable-encoded: order must match)"
        if name in UNORDERED_COMMANDS:
            if unordered(actual, name == b"hgetall") == unordered(expected, name == b"hgetall"):
                return None
            return "replies differ as unordered collections"
        if name == b"hscan":
            options = cmd[3:]
            full_r = self.scan_pairs(r, key, options)
            full_k = self.scan_pairs(k, key, options)
            if full_r != full_k:
                return "full HSCAN iterations differ: redis %r, keyward %r" % (full_r, full_k)
            reply = decode(actual)
            if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)
                    and len(reply[1]) % 2 == 0):
                return "not an HSCAN reply"
            return None
        return "replies differ"

    def random_reply_problem(self, cmd, expected, actual, client):
        """HRANDFIELD: same shape as redis's, fields of the hash with their values, distinct
        for a positive count."""
        exp, act = decode(expected), decode(actual)
        if shape(act) != shape(exp):
            return "shapes differ: redis %r, keyward %r" % (shape(exp), shape(act))
        contents = self.contents(client, cmd[1]) or {}
        if isinstance(act, bytes):
            return None if act in contents else "%r is not a field" % act
        if not isinstance(act, list):
            return None
        withvalues = len(cmd) == 4
        if withvalues and act and isinstance(act[0], list):  # RESP3: [field, value] pairs
            pairs = [tuple(p) for p in act]
        elif withvalues:
            pairs = list(zip(act[0::2], act[1::2]))
        else:
            pairs = [(f, contents.get(f)) for f in act]
        for field, value in pairs:
            if field not in contents or contents[field] != value:
                return "%r -> %r is not in the hash" % (field, value)
        count = int(cmd[2])
        if count > 0 and len({f for f, _ in pairs}) != len(pairs):
            return "a positive count returned a field twice"
        return None

    def check_loose(self, *cmd, pair=None):
        """check(), allowing for randomness and table order as `equivalent` does."""
        expected, actual = self.both(*cmd, pair=pair)
        problem = self.equivalent(cmd, expected, actual, pair=pair)
        with self.subTest(cmd=show(cmd)):
            self.assertIsNone(problem, "%s\nredis:   %r\nkeyward: %r"
                              % (show(cmd), expected[:500], actual[:500]))
        return expected

    def check_hash(self, key, pair=None):
        """HGETALL, HKEYS, HVALS, HLEN and OBJECT ENCODING of `key` agree."""
        for cmd in (("HGETALL", key), ("HKEYS", key), ("HVALS", key)):
            self.check_loose(*cmd, pair=pair)
        self.check("HLEN", key, pair=pair)
        self.check("OBJECT", "ENCODING", key, pair=pair)

    def fill(self, key, n, prefix="f", pair=None):
        args = []
        for i in range(n):
            args += ["%s%d" % (prefix, i), "v%d" % i]
        return self.check("HSET", key, *args, pair=pair)


class HashDefaults(DiffCase):
    """The thresholds' defaults (no CONFIG SET in this class)."""

    def test_default_entries(self):
        self.check("CONFIG", "GET", "hash-max-listpack-entries")
        self.check_unordered("CONFIG", "GET", "hash-max-*", pairs=True)

    def test_default_value(self):
        self.check("CONFIG", "GET", "hash-max-listpack-value")
        self.check("HSET", "h", "f", "x" * 64)
        self.check("OBJECT", "ENCODING", "h")
        self.check("HSET", "h", "g", "x" * 65)
        self.check("OBJECT", "ENCODING", "h")


class HashBasics(HashCase):
    def test_set_get(self):
        self.seq("""
            HSET h a 1; HSET h b 2 c 3; HSET h a one d 4; HGET h a; HGET h d; HGET h nope
            HGET missing a; HLEN h; HLEN missing; HEXISTS h a; HEXISTS h nope; HEXISTS missing a
            HGETALL h; HKEYS h; HVALS h; HGETALL missing; HKEYS missing; HVALS missing
            HSET d f 1 f 2 f 3; HGET d f; HLEN d; TYPE h; OBJECT ENCODING h; hset Lower v 1
            hGeT Lower v; HMGET h a b nope d; HMGET missing a b; HMGET h a
            """)
        self.check("HSET", "e", "", "")
        self.check("HGET", "e", "")
        self.check("HSTRLEN", "e", "")
        self.check("HSET", "b", BIN, BIN, "x", BIN)
        self.check("HGETALL", "b")
        self.check("HSET", "long", "f", "x" * 100000)
        self.check("HSTRLEN", "long", "f")
        self.check("OBJECT", "ENCODING", "long")

    def test_hmset_hsetnx(self):
        self.seq("""
            HMSET h a 1 b 2; HMSET h a 3; HGETALL h; HSETNX h a 9; HSETNX h c 9; HGETALL h
            HSETNX new f v; HGETALL new; HMSET h; HMSET h a; HMSET h a 1 b; HSETNX h a
            HSETNX h a 1 2
            """)

    def test_arity(self):
        self.seq("""
            HSET; HSET h; HSET h a; HSET h a 1 b; HSET h a 1 b 2 c; EXISTS h; HGET h; HGET h a b
            HMGET h; HDEL h; HLEN; HLEN h x; HSTRLEN h; HSTRLEN h a b; HEXISTS h; HKEYS; HKEYS h x
            HVALS h x; HGETALL h x; HINCRBY h a; HINCRBY h a 1 2; HINCRBYFLOAT h a
            HINCRBYFLOAT h a 1 2; HRANDFIELD; HSCAN h; HSETNX h; HMSET
            """)

    def test_integer_like_fields_and_values(self):
        fields = ["1", "01", "-1", "-0", "0", INT64_MAX, INT64_MIN, "9223372036854775808",
                  "12345678901234567890", "1.0", "+1", " 1", "0x10", "1e3", "007", "-007"]
        args = []
        for i, f in enumerate(fields):
            args += [f, fields[-1 - i]]
        self.check("HSET", "h", *args)
        self.check("HGETALL", "h")
        for f in fields + ["2", "1 ", "00"]:
            self.check("HGET", "h", f)
            self.check("HSTRLEN", "h", f)
            self.check("HEXISTS", "h", f)
        self.check("OBJECT", "ENCODING", "h")

    def test_hdel(self):
        self.seq("""
            HSET h a 1 b 2 c 3 d 4; HDEL h a; HDEL h a; HDEL h nope; HDEL h b b c; HGETALL h
            HDEL missing a; HDEL h d e f; EXISTS h; TYPE h; HGETALL h; HLEN h
            HSET h x 1; HDEL h x x x; EXISTS h
            """)

    def test_hdel_hashtable(self):
        self.fill("h", 600)
        self.check("OBJECT", "ENCODING", "h")
        for i in range(0, 600, 7):
            self.check("HDEL", "h", "f%d" % i, "nope", "f%d" % (i + 1))
        self.check_hash("h")
        self.check("HDEL", "h", *["f%d" % i for i in range(600)])
        self.check("EXISTS", "h")

    def test_wrongtype(self):
        self.check("SET", "s", "x")
        self.check("RPUSH", "l", "x")
        for key in ("s", "l"):
            self.seq("""
                HSET {k} f v; HMSET {k} f v; HSETNX {k} f v; HGET {k} f; HMGET {k} f a
                HDEL {k} f; HLEN {k}; HSTRLEN {k} f; HEXISTS {k} f; HKEYS {k}; HVALS {k}
                HGETALL {k}; HINCRBY {k} f 1; HINCRBY {k} f x; HINCRBYFLOAT {k} f 1
                HINCRBYFLOAT {k} f inf; HINCRBYFLOAT {k} f x; HRANDFIELD {k}; HRANDFIELD {k} 0
                HRANDFIELD {k} -5 WITHVALUES; HRANDFIELD {k} x; HRANDFIELD {k} 1 x
                HSCAN {k} 0; HSCAN {k} x; HSCAN {k} 0 COUNT 0; HSCAN {k} 0 TYPE hash
                HSET {k} f
                """.format(k=key))
        self.seq("GET s; LRANGE l 0 -1")
        self.check("HSET", "h", "a", "1")
        self.seq("GET h; LPUSH h x; INCR h; TYPE h")

    def test_other_commands(self):
        self.seq("""
            HSET h a 1 b 2; COPY h h2; HSET h a changed; HGETALL h2; OBJECT ENCODING h2
            RENAME h r; HGETALL r; EXISTS h; TYPE r; DEL r h2; EXISTS r
            """)
        self.fill("big", 700)
        self.check("COPY", "big", "big2")
        self.check("OBJECT", "ENCODING", "big2")
        self.check_hash("big2")
        self.check("DEL", "big", "big2")


class HashIncr(HashCase):
    def test_hincrby(self):
        self.seq(f"""
            HINCRBY h n 5; HINCRBY h n -7; HGET h n; HINCRBY h n 0; HINCRBY h m -1
            HSET h s abc big {INT64_MAX} small {INT64_MIN} lead 007 f 1.5
            HINCRBY h s 1; HINCRBY h lead 1; HINCRBY h f 1; HINCRBY h big 1; HINCRBY h big 0
            HINCRBY h small -1; HINCRBY h small 0; HINCRBY h big {INT64_MIN}
            HINCRBY h small {INT64_MAX}; HINCRBY h n x; HINCRBY h n 1.0
            HINCRBY h n 9223372036854775808; HINCRBY h n -9223372036854775809; HINCRBY h n +1
            HINCRBY h n 01; HINCRBY new n x; EXISTS new; HINCRBY new2 n {INT64_MIN}; HGETALL h
            OBJECT ENCODING h
            """)
        self.check("HINCRBY", "h", "n", "")
        self.check("HSET", "h", "empty", "")
        self.check("HINCRBY", "h", "empty", "1")
        self.check("HSET", "h", "space", " 1")
        self.check("HINCRBY", "h", "space", "1")

    def test_hincrbyfloat(self):
        self.seq("""
            HINCRBYFLOAT h x 1.5; HINCRBYFLOAT h x 1.5; HINCRBYFLOAT h x -0.25; HINCRBYFLOAT h x 1e3
            HINCRBYFLOAT h y 0.1; HINCRBYFLOAT h y 0.2; HINCRBYFLOAT h z 3.0e3; HINCRBYFLOAT h z -3000
            HINCRBYFLOAT h w -0; HINCRBYFLOAT h v 1e-5; HINCRBYFLOAT h u 0x10; HINCRBYFLOAT h t 10
            HINCRBYFLOAT h t 5.0000000000000000001; HINCRBYFLOAT h big 1e300; HINCRBYFLOAT h neg -1e20
            HSET h i 10 s abc; HINCRBYFLOAT h i 0.1; HINCRBYFLOAT h s 1; HINCRBYFLOAT h x abc
            HINCRBYFLOAT h x nan; HINCRBYFLOAT h x inf; HINCRBYFLOAT h x -inf; HINCRBYFLOAT h x +inf
            HINCRBYFLOAT h x 1e5000; HINCRBYFLOAT h x 1e-5000; HINCRBYFLOAT h x .5; HINCRBYFLOAT h x 5.
            HINCRBYFLOAT new x inf; EXISTS new; HINCRBYFLOAT new x abc; EXISTS new
            """)
        self.check_hash("h")  # 1e300's 301 digits made it a hashtable
        self.check("HSET", "h", "huge", "1e4932")
        self.check("HINCRBYFLOAT", "h", "huge", "1e4932")
        self.check("HINCRBYFLOAT", "h", "huge", "-1e4932")
        self.check("HSET", "h", "sp", " 1", "tr", "1 ", "e", "", "hex", "0x1p3", "inf", "inf")
        for f in ("sp", "tr", "e", "hex", "inf"):
            self.check("HINCRBYFLOAT", "h", f, "1")
        self.check("HINCRBYFLOAT", "h", "x", " 1")
        self.check("HINCRBYFLOAT", "h", "x", "")
        self.check("HINCRBYFLOAT", "h", "x", "1" * 5119)
        self.check("HINCRBYFLOAT", "h", "x", "1" * 5120)
        self.check_hash("h")

    def test_incr_creates_and_converts(self):
        self.set_both("hash-max-listpack-value", "4")
        self.seq("""
            HINCRBY a f 1234; OBJECT ENCODING a; HINCRBY a f 100000; OBJECT ENCODING a
            HINCRBY b longfield 1; OBJECT ENCODING b; HINCRBYFLOAT c f 1.25; OBJECT ENCODING c
            HINCRBYFLOAT c f 0.005; OBJECT ENCODING c; HGET c f
            HINCRBYFLOAT d f 1e70; OBJECT ENCODING d; HGET d f
            """)


class HashEncodings(HashCase):
    def test_entries_threshold(self):
        self.set_both("hash-max-listpack-entries", "4")
        self.seq("""
            HSET h f0 v0 f1 v1 f2 v2 f3 v3; OBJECT ENCODING h; HSET h f0 again; OBJECT ENCODING h
            HSETNX h f4 v4; OBJECT ENCODING h; HDEL h f0 f1 f2 f3; OBJECT ENCODING h; HGETALL h
            HSET d a 1 a 2 a 3 a 4 a 5; OBJECT ENCODING d; HLEN d
            HSET e a 1 b 2 c 3 d 4 e 5; OBJECT ENCODING e
            HMSET m a 1 b 2 c 3 d 4 e 5; OBJECT ENCODING m
            """)
        self.set_both("hash-max-listpack-entries", "10")
        self.seq("HSET k a 1 b 2 c 3 d 4 e 5; OBJECT ENCODING k")
        self.set_both("hash-max-listpack-entries", "3")
        self.seq("""
            OBJECT ENCODING k; HGET k a; OBJECT ENCODING k; HDEL k a; OBJECT ENCODING k
            HSETNX k b x; OBJECT ENCODING k; HSET k b x; OBJECT ENCODING k
            """)
        self.seq("""
            HSET n a 1 b 2 c 3 d 4 e 5; OBJECT ENCODING n; HINCRBY p a 1; HINCRBY p b 1
            HINCRBY p c 1; OBJECT ENCODING p; HINCRBY p d 1; OBJECT ENCODING p
            HINCRBYFLOAT q a 1; HINCRBYFLOAT q b 1; HINCRBYFLOAT q c 1; HINCRBYFLOAT q d 1
            OBJECT ENCODING q
            """)
        self.set_both("hash-max-ziplist-entries", "0")
        self.seq("""
            CONFIG GET hash-max-listpack-entries; HSET z f v; OBJECT ENCODING z; HSETNX y f v
            OBJECT ENCODING y; HINCRBY x f 1; OBJECT ENCODING x
            """)

    def test_value_threshold(self):
        self.set_both("hash-max-listpack-value", "4")
        self.seq("""
            HSET a f 1234; OBJECT ENCODING a; HSET a g 12345; OBJECT ENCODING a
            HSET b fffff 1; OBJECT ENCODING b; HSET c f 12345 f 1; OBJECT ENCODING c; HGET c f
            HSET d f v; HSETNX d f 123456; OBJECT ENCODING d; HSETNX d g 123456
            OBJECT ENCODING d; HMSET e f 12345; OBJECT ENCODING e
            HSET i 12345 1; OBJECT ENCODING i
            """)
        self.set_both("hash-max-ziplist-value", "0")
        self.seq("""
            CONFIG GET hash-max-listpack-value; HSET x 1 2; OBJECT ENCODING x
            """)
        # Empty fields and values fit in 0 bytes.
        for key, field, value in (("z", "f", ""), ("y", "", "v"), ("w", "", "")):
            self.check("HSET", key, field, value)
            self.check("OBJECT", "ENCODING", key)

    def test_default_thresholds(self):
        self.fill("h", 512)
        self.check("OBJECT", "ENCODING", "h")
        self.check("HGETALL", "h")  # still a listpack: exact order
        self.check("HSET", "h", "f512", "x")
        self.check("OBJECT", "ENCODING", "h")
        self.check_hash("h")
        self.check("HSET", "v", "f", "x" * 64)
        self.check("OBJECT", "ENCODING", "v")
        self.check("HSET", "v", "x" * 65, "f")
        self.check("OBJECT", "ENCODING", "v")

    def test_hashtable_operations(self):
        self.fill("h", 1000)
        self.check("OBJECT", "ENCODING", "h")
        for i in range(0, 1000, 13):
            self.check("HGET", "h", "f%d" % i)
            self.check("HSTRLEN", "h", "f%d" % i)
            self.check("HEXISTS", "h", "f%d" % i)
        self.check("HMGET", "h", *["f%d" % i for i in range(0, 1100, 50)])
        self.seq("""
            HSET h f1 changed new 1; HSETNX h f2 x; HSETNX h new2 y; HINCRBY h num 10
            HINCRBY h num -3; HINCRBYFLOAT h fl 2.5; HINCRBY h f3 1; HINCRBYFLOAT h f3 1
            HDEL h f4 f5 nope; HLEN h
            """)
        self.check_hash("h")


class HashRandField(HashCase):
    def test_arguments(self):
        self.seq(f"""
            HRANDFIELD missing; HRANDFIELD missing 5; HRANDFIELD missing -5 WITHVALUES
            HRANDFIELD missing 0; HSET h a 1; HRANDFIELD h; HRANDFIELD h 0; HRANDFIELD h 0 withvalues
            HRANDFIELD h x; HRANDFIELD h 1 values; HRANDFIELD h 1 withvalues x
            HRANDFIELD h x values; HRANDFIELD h 1.5; HRANDFIELD h ""
            HRANDFIELD h {INT64_MIN}; HRANDFIELD missing {INT64_MIN}; HRANDFIELD h {INT64_MAX}
            HRANDFIELD missing -4611686018427387904 WITHVALUES
            HRANDFIELD missing 4611686018427387904 WITHVALUES
            HRANDFIELD missing -4611686018427387903 WITHVALUES
            HRANDFIELD missing 4611686018427387903 WITHVALUES
            HRANDFIELD h -4611686018427387904 WITHVALUES; HRANDFIELD h 9223372036854775808
            HRANDFIELD h 1; HRANDFIELD h -1; HRANDFIELD h 1 WITHVALUES; HRANDFIELD h -1 WITHVALUES
            HRANDFIELD h 5 WITHVALUES; HRANDFIELD h -3; HRANDFIELD h -3 WITHVALUES
            """)

    def test_listpack_counts(self):
        self.check("HSET", "h", *[x for i in range(20) for x in ("f%d" % i, str(i * 7))])
        # At least the size: the whole hash in listpack order, exactly.
        for count in ("20", "21", "1000", INT64_MAX):
            self.check("HRANDFIELD", "h", count)
            self.check("HRANDFIELD", "h", count, "WITHVALUES")
        for _ in range(5):
            for count in ("1", "2", "6", "7", "10", "19", "-1", "-5", "-20", "-100"):
                self.check_loose("HRANDFIELD", "h", count)
                self.check_loose("HRANDFIELD", "h", count, "WITHVALUES")
            self.check_loose("HRANDFIELD", "h")

    def test_hashtable_counts(self):
        self.fill("h", 700)
        self.check("OBJECT", "ENCODING", "h")
        for count in ("1", "10", "233", "234", "500", "699", "700", "701", "5000", "-1", "-50",
                      "-1000"):
            self.check_loose("HRANDFIELD", "h", count)
            self.check_loose("HRANDFIELD", "h", count, "WITHVALUES")
        self.check_loose("HRANDFIELD", "h")

    def test_resp3(self):
        pair = self.resp3_pair()
        self.check("HSET", "h", "a", "1", "b", "2", "c", "3", pair=pair)
        self.seq("""
            HRANDFIELD missing; HRANDFIELD missing 3; HRANDFIELD missing -3 WITHVALUES
            HRANDFIELD h 3 WITHVALUES; HRANDFIELD h 10 WITHVALUES; HRANDFIELD h 3; HRANDFIELD h 0
            """, pair=pair)
        for count in ("1", "2", "-1", "-7"):
            self.check_loose("HRANDFIELD", "h", count, "WITHVALUES", pair=pair)
            self.check_loose("HRANDFIELD", "h", count, pair=pair)
        self.fill("t", 600, pair=pair)
        for count in ("5", "300", "-20"):
            self.check_loose("HRANDFIELD", "t", count, "WITHVALUES", pair=pair)


class HashScan(HashCase):
    def test_arguments(self):
        self.seq("""
            HSCAN missing 0; HSCAN missing abc; HSCAN missing -1; HSCAN missing 18446744073709551615
            HSCAN missing 18446744073709551616; HSCAN missing 0 COUNT 0; HSCAN missing 0 bogus
            HSET h a 1; HSCAN h 0 COUNT 0; HSCAN h 0 COUNT -1; HSCAN h 0 COUNT x; HSCAN h 0 COUNT
            HSCAN h 0 MATCH; HSCAN h 0 TYPE hash; HSCAN h 0 NOVALUES; HSCAN h 0 count 1 match a
            HSCAN h 0 MATCH * COUNT 1; HSCAN h 00; HSCAN h +5; HSCAN h -1; HSCAN h 0x10; HSCAN h 1.0
            HSCAN h 0 COUNT 9223372036854775807; HSCAN h 0 COUNT 9223372036854775808
            HSCAN h 0 MATCH a MATCH b; HSCAN h 0 MATCH b MATCH a
            """)
        self.check("HSCAN", "h", "")
        self.check("HSCAN", "h", " 0")
        self.check("HSCAN", "h", "0 ")

    def test_listpack_in_one_call(self):
        self.check("HSET", "h", *[x for i in range(30) for x in ("f%d" % i, "v%d" % i)])
        for opts in ((), ("COUNT", "1"), ("MATCH", "f1*"), ("MATCH", "v*"), ("MATCH", "*"),
                     ("MATCH", "f?", "COUNT", "2"), ("match", "F1*"), ("MATCH", "f[0-2]")):
            self.check("HSCAN", "h", "0", *opts)
            self.check("HSCAN", "h", "123", *opts)

    def test_hashtable_iteration(self):
        self.fill("h", 800)
        self.check("OBJECT", "ENCODING", "h")
        for opts in ((), ("COUNT", "1"), ("COUNT", "100"), ("COUNT", "5000"), ("MATCH", "f1*"),
                     ("MATCH", "v*"), ("MATCH", "f?", "COUNT", "3"), ("MATCH", "*")):
            with self.subTest(hscan=opts):
                self.assertEqual(self.scan_pairs(self.k, "h", opts),
                                 self.scan_pairs(self.r, "h", opts))
            self.check_loose("HSCAN", "h", "0", *opts)

    def test_resp3(self):
        pair = self.resp3_pair()
        self.check("HSET", "h", "a", "1", "b", "2", pair=pair)
        self.seq("HSCAN h 0; HSCAN missing 0; HSCAN h 0 MATCH a", pair=pair)


class HashResp3(HashCase):
    def test_shapes(self):
        pair = self.resp3_pair()
        self.seq("""
            HSET h a 1 b x; HGETALL h; HGETALL missing; HKEYS h; HKEYS missing; HVALS missing
            HGET h nope; HGET missing a; HMGET h a nope; HMGET missing a; HINCRBYFLOAT h a 1
            HINCRBY h a 1; HLEN h; HSTRLEN h b; HEXISTS h a; HSETNX h a 1; HMSET h c 3; HDEL h c
            HSET s x; HINCRBYFLOAT h b 1
            """, pair=pair)
        self.fill("big", 600, pair=pair)
        self.check_loose("HGETALL", "big", pair=pair)
        self.check_loose("HKEYS", "big", pair=pair)


class HashKeyspaceEvents(EventsMixin, HashCase):
    def setUp(self):
        super().setUp()
        self.subscribe_events()
        self.set_both("notify-keyspace-events", "KEA")

    def test_hash_events(self):
        steps = [
            [("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HMSET", "h", "c", "3")],
            [("HSETNX", "h", "a", "9"), ("HSETNX", "h", "d", "4"), ("HSETNX", "n", "f", "v")],
            [("HINCRBY", "h", "i", "1"), ("HINCRBY", "h", "a", "x"), ("HINCRBY", "h", "c", "a")],
            [("HINCRBYFLOAT", "h", "f", "1.5"), ("HINCRBYFLOAT", "h", "f", "inf"),
             ("HINCRBYFLOAT", "new", "f", "inf")],
            [("HDEL", "h", "nope"), ("HDEL", "missing", "a"), ("HDEL", "h", "a", "b", "nope")],
            [("HDEL", "h", "c", "d", "i", "f"), ("HDEL", "n", "f")],
            [("HGET", "missing", "a"), ("HGETALL", "missing"), ("HRANDFIELD", "missing"),
             ("HSCAN", "missing", "0"), ("HMGET", "missing", "a"), ("HLEN", "missing")],
            [("SET", "s", "x"), ("HSET", "s", "a", "1"), ("HDEL", "s", "a")],
        ]
        for i, step in enumerate(steps):
            for cmd in step:
                self.check(*cmd)
            self.compare_events("step %d: %s" % (i, "; ".join(show(c) for c in step)))

    def test_hashtable_events(self):
        self.set_both("hash-max-listpack-entries", "2")
        for cmd in (("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HDEL", "h", "a", "b"),
                    ("HINCRBY", "h", "c", "1"), ("HDEL", "h", "c")):
            self.check(*cmd)
            self.compare_events(show(cmd))


# --- seeded random sequences ------------------------------------------------------------------

KEYS = ["h0", "h1", "h2", "s"]
FIELDS = ["a", "b", "c", "d", "e", "1", "2", "-1", "007", "", "f" * 10, BIN, INT64_MAX, "x y"]
VALUES = ["v", "w", "1", "-5", "0", "10", "3.5", "-0", "007", INT64_MAX, INT64_MIN, "",
          "1e3", "abc", BIN, "x" * 30]
LONG_VALUES = ["x" * 16, "x" * 17, "x" * 64, "x" * 65, "y" * 200]  # around the value thresholds


class Generator:
    """Random hash commands (and a few others) over KEYS; some fail, on purpose."""

    WEIGHTS = {"hset": 10, "hsetnx": 3, "hmset": 2, "hget": 5, "hmget": 3, "hdel": 5, "hlen": 2,
               "hstrlen": 2, "hexists": 2, "hgetall": 3, "hkeys": 1, "hvals": 1, "hincrby": 4,
               "hincrbyfloat": 4, "hrandfield": 3, "hscan": 2, "del": 2, "set": 0.4,
               "config": 0.6, "encoding": 2, "hello": 0.3, "generic": 0.5, "bulk": 0.4,
               "invalid": 0.8}

    def __init__(self, rng):
        self.rng = rng
        self.gens = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("gen_")]
        self.weights = [self.WEIGHTS[g.__name__[4:]] for g in self.gens]

    def pick(self, *choices):
        return self.rng.choice(choices)

    def maybe(self, p, *args):
        return list(args) if self.rng.random() < p else []

    def key(self):
        return self.rng.choice(KEYS if self.rng.random() < 0.08 else KEYS[:3])

    def field(self):
        if self.rng.random() < 0.7:
            return self.rng.choice(FIELDS)
        return "k%d" % self.rng.randint(0, 40)

    def value(self):
        r = self.rng.random()
        if r < 0.03:
            return self.rng.choice(LONG_VALUES)
        return self.rng.choice(VALUES) if r < 0.8 else str(self.rng.randint(-9, 99))

    def integer(self):
        r = self.rng.random()
        if r < 0.8:
            return str(self.rng.randint(-20, 20))
        if r < 0.93:
            return self.pick(INT64_MAX, INT64_MIN, "-0", "9223372036854775806", "100000")
        return self.pick("abc", "", "1.5", "99999999999999999999", " 1", "+1")

    def gen_hset(self):
        pairs = self.pick(1, 1, 1, 2, 3, 5)
        args = [x for _ in range(pairs) for x in (self.field(), self.value())]
        return ["HSET", self.key()] + args

    def gen_hmset(self):
        return ["HMSET", self.key(), self.field(), self.value()] + self.maybe(
            0.5, self.field(), self.value())

    def gen_hsetnx(self):
        return ["HSETNX", self.key(), self.field(), self.value()]

    def gen_hget(self):
        return ["HGET", self.key(), self.field()]

    def gen_hmget(self):
        return ["HMGET", self.key()] + [self.field() for _ in range(self.pick(1, 2, 4))]

    def gen_hdel(self):
        return ["HDEL", self.key()] + [self.field() for _ in range(self.pick(1, 1, 2, 3, 6))]

    def gen_hlen(self):
        return ["HLEN", self.key()]

    def gen_hstrlen(self):
        return ["HSTRLEN", self.key(), self.field()]

    def gen_hexists(self):
        return ["HEXISTS", self.key(), self.field()]

    def gen_hgetall(self):
        return ["HGETALL", self.key()]

    def gen_hkeys(self):
        return ["HKEYS", self.key()]

    def gen_hvals(self):
        return ["HVALS", self.key()]

    def gen_hincrby(self):
        return ["HINCRBY", self.key(), self.field(), self.integer()]

    def gen_hincrbyfloat(self):
        incr = self.rng.random()
        if incr < 0.6:
            incr = self.pick("0.5", "-1.25", "3", "1e3", "-0.1", "2.5e-3", "10")
        else:
            incr = self.pick("inf", "-inf", "nan", "abc", "", "1e5000", "0x10", " 1", "1e300")
        return ["HINCRBYFLOAT", self.key(), self.field(), incr]

    def gen_hrandfield(self):
        k = self.key()
        r = self.rng.random()
        if r < 0.2:
            return ["HRANDFIELD", k]
        count = self.pick("0", "1", "2", "3", "5", "10", "100", "-1", "-3", "-10", "x",
                          INT64_MIN)
        return ["HRANDFIELD", k, count] + self.maybe(
            0.5, self.pick("WITHVALUES", "withvalues", "WITHVALUES", "bogus"))

    def gen_hscan(self):
        cursor = self.pick("0", "0", "0", "7", "abc", "")
        opts = [self.maybe(0.4, "MATCH", self.pick("*", "a*", "k1*", "?", "[a-c]")),
                self.maybe(0.4, "COUNT", self.pick("1", "2", "10", "100", "0", "x"))]
        self.rng.shuffle(opts)
        return ["HSCAN", self.key(), cursor] + [a for o in opts for a in o]

    def gen_del(self):
        return ["DEL", self.key()]

    def gen_set(self):
        # Mostly the key meant to hold a string; a hash key now and then (until a DEL).
        return ["SET", "s" if self.rng.random() < 0.9 else self.key(), "str"]

    def gen_config(self):
        if self.rng.random() < 0.5:
            return ["CONFIG", "SET", self.pick("hash-max-listpack-entries",
                                               "hash-max-ziplist-entries"),
                    self.pick("0", "1", "4", "16", "64", "512", "512")]
        return ["CONFIG", "SET", self.pick("hash-max-listpack-value", "hash-max-ziplist-value"),
                self.pick("0", "4", "16", "64", "64", "64", "64")]

    def gen_encoding(self):
        return ["OBJECT", "ENCODING", self.key()]

    def gen_hello(self):
        return ["HELLO", self.pick("2", "3")]

    def gen_generic(self):
        k = KEYS[:3]
        return self.pick(["EXISTS", self.key()], ["TYPE", self.key()],
                         ["COPY", self.rng.choice(k), self.rng.choice(k)],
                         ["RENAME", self.rng.choice(k), self.rng.choice(k)])

    def gen_bulk(self):
        # Enough fields at once to cross the entries threshold.
        args = [x for i in range(self.pick(10, 30, 150)) for x in ("b%d" % i, self.value())]
        return ["HSET", self.key()] + args

    def gen_invalid(self):
        cmd = self.command()
        shorter = self.rng.random() < 0.5
        # (Never shorter than the command name: an invalid command of an invalid command may be
        # down to one word.)
        return cmd[:-1] if shorter and len(cmd) > 1 else cmd + ["extra"]

    def command(self):
        return self.rng.choices(self.gens, self.weights)[0]()


class HashRandom(HashCase):
    def test_random_sequence(self):
        env_seed = os.environ.get("KEYWARD_DIFF_SEED")
        if env_seed:
            seed = int(env_seed)
        elif os.environ.get("CI"):
            seed = 20261121
        else:
            seed = int(time.time() * 1000) % 1000000007
        count = int(os.environ.get("KEYWARD_HASH_COMMANDS", "1500"))
        print("\nrandom hash sequence: KEYWARD_DIFF_SEED=%d, %d commands" % (seed, count),
              file=sys.stderr)
        rng = random.Random(seed)
        gen = Generator(rng)
        history = []
        while len(history) < count:
            cmd = gen.command()
            history.append(cmd)
            expected, actual = self.both(*cmd)
            if cmd[0] == "HELLO" and expected[:1] == actual[:1]:
                continue
            problem = self.equivalent(cmd, expected, actual)
            if problem is not None:
                recent = "\n".join("  " + show(c) for c in history[-25:])
                self.fail("random hash sequence diverged at command #%d (replay with "
                          "KEYWARD_DIFF_SEED=%d): %s\nlast commands:\n%s\ncommand: %s\n"
                          "redis:   %r\nkeyward: %r"
                          % (len(history), seed, problem, recent, show(cmd), expected[:500],
                             actual[:500]))
        for key in KEYS[:3]:
            self.check_hash(key)


if __name__ == "__main__":
    unittest.main(verbosity=2)
