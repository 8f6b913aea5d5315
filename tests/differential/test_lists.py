"""Differential tests of the list commands (LPUSH ... LMPOP and the blocking BLPOP BRPOP BLMOVE
BRPOPLPUSH BLMPOP): Keyward vs redis-server 7.0.15, raw replies compared byte for byte.

Blocking tests order events without sleeping: a blocking command is sent without reading its
reply, then INFO clients (blocked_clients) is polled on a control connection until the server
counts one more blocked client, before anything else happens. Each step runs on redis first,
then on Keyward, and the blocked clients' replies are compared when they arrive.

Keyspace events use the marker technique of test_keyspace_events.py: a subscriber PSUBSCRIBEd
to "__key*@*__:*" reads everything up to a marker PUBLISHed after each step.

Environment (random part, as in test_random.py):
  KEYWARD_DIFF_SEED       seed to replay (printed at the start and on failure)
  KEYWARD_LIST_COMMANDS   commands in the random sequence (default 1500)
  KEYWARD_DIFF_EXCLUDE    comma-separated generator names not to use (push, pop, lpos, ...)
"""

import os
import random
import sys
import time
import unittest

from diff_support import BlockingMixin, DiffCase, show, EventsMixin
from keyward_harness import ConnectionClosed, decode, encode_command

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
BIN = b"a\r\nb\x00c\r\n\x00"
NUMERIC = ["123", "-0", "0", "-1", "007", INT64_MAX, INT64_MIN, "12345678901234567890",
           "9223372036854775808", "3.14", "1e3", " 1", "+1", "0x10"]



class ListCase(BlockingMixin, DiffCase):
    """Restores the configuration the tests change, and waits for clients blocked by an earlier
    test (closed connections) to be gone, so blocked-client counts start at zero."""

    RESTORE_CONFIG = (("list-max-listpack-size", "-2"), ("notify-keyspace-events", ""))

    def check_list(self, key, pair=None):
        self.check("LRANGE", key, "0", "-1", pair=pair)
        self.check("LLEN", key, pair=pair)


class ListPushPop(ListCase):
    def test_push_and_len(self):
        self.seq("""
            LPUSH l a; LPUSH l b c d; RPUSH l e f; LRANGE l 0 -1; LLEN l; LLEN missing; LPUSHX l x
            RPUSHX l y z; LPUSHX missing x; RPUSHX missing x y; EXISTS missing; LRANGE l 0 -1
            TYPE l; RPUSH l2 a a a; LRANGE l2 0 -1; lpush Lower v; rPuSh Lower w; LRANGE Lower 0 -1
            """)
        self.check("RPUSH", "e", "")
        self.check("LPUSH", "e", "")
        self.check_list("e")

    def test_pop(self):
        self.check("RPUSH", "l", *"abcdefghij")
        self.seq("""
            LPOP l; RPOP l; LPOP l 0; RPOP l 0; LPOP l 1; RPOP l 2; LPOP l 3; LRANGE l 0 -1
            RPOP l 100; EXISTS l; LPOP l; RPOP l; LPOP l 0; LPOP l 1; RPOP l 5; LPOP missing
            RPOP missing 0; RPUSH l a b; LPOP l -1; RPOP l -1; LPOP l abc; LPOP l 1.5
            LPOP l 9223372036854775807; LPOP l 9223372036854775808; LPOP l 1 2; RPOP l 1 extra
            LLEN l; LPOP l 2; EXISTS l
            """)

    def test_pop_single_to_empty_deletes(self):
        self.seq("""
            RPUSH l only; LPOP l; EXISTS l; TYPE l; RPUSH l only; RPOP l; EXISTS l; RPUSH l a
            LPOP l 1; EXISTS l
            """)


class ListRead(ListCase):
    def test_lrange(self):
        self.check("RPUSH", "l", *[str(i) for i in range(10)])
        for start, stop in (("0", "-1"), ("0", "0"), ("-1", "-1"), ("2", "5"), ("5", "2"),
                            ("-3", "-1"), ("-100", "100"), ("-100", "-50"), ("50", "100"),
                            ("9", "9"), ("10", "10"), ("-1", "0"), ("0", "-11"), ("0", "-10"),
                            (INT64_MIN, INT64_MAX), (INT64_MAX, INT64_MIN), ("1", "-2"),
                            ("abc", "1"), ("0", "1.5"), ("0", "99999999999999999999"),
                            ("-0", "-0"), ("", "1")):
            self.check("LRANGE", "l", start, stop)
        self.seq("""
            LRANGE missing 0 -1; LRANGE missing 5 1; LRANGE missing abc 1; LRANGE l 0
            LRANGE l 0 1 2
            """)

    def test_lindex(self):
        self.check("RPUSH", "l", "a", "b", "c", "d")
        for index in ("0", "1", "3", "4", "-1", "-4", "-5", "100", "-100", INT64_MAX, INT64_MIN,
                      "abc", "1.0", "", "-0"):
            self.check("LINDEX", "l", index)
        self.check("LINDEX", "missing", "0")
        self.check("LINDEX", "missing", "abc")
        self.check("LINDEX", "l")
        self.check("LINDEX", "l", "0", "1")

    def test_lpos(self):
        self.check("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c", "a", "x", "a")
        forms = [(), ("RANK", "1"), ("RANK", "2"), ("RANK", "3"), ("RANK", "4"), ("RANK", "-1"),
                 ("RANK", "-2"), ("RANK", "-4"), ("RANK", "0"), ("RANK", INT64_MIN),
                 ("RANK", "-9223372036854775807"), ("RANK", INT64_MAX), ("RANK", "abc"),
                 ("COUNT", "0"), ("COUNT", "1"), ("COUNT", "2"), ("COUNT", "10"),
                 ("COUNT", "-1"), ("COUNT", "x"), ("MAXLEN", "0"), ("MAXLEN", "1"),
                 ("MAXLEN", "5"), ("MAXLEN", "-1"), ("MAXLEN", "x"), ("RANK", "2", "COUNT", "0"),
                 ("RANK", "-1", "COUNT", "2"), ("COUNT", "0", "MAXLEN", "9"),
                 ("RANK", "-2", "MAXLEN", "3"), ("RANK", "-1", "COUNT", "0", "MAXLEN", "4"),
                 ("MAXLEN", "2", "RANK", "1", "COUNT", "3"), ("RANK", "1", "RANK", "2"),
                 ("RANK",), ("COUNT",), ("MAXLEN",), ("FOO", "1"), ("rank", "1", "count", "0")]
        for element in ("a", "c", "1", "missing", "x"):
            for form in forms:
                self.check("LPOS", "l", element, *form)
        for form in ((), ("COUNT", "0"), ("RANK", "0"), ("COUNT", "-1"), ("RANK", "-1")):
            self.check("LPOS", "missing", "a", *form)
        self.check("LPOS", "l")
        self.check("LPOS")


class ListModify(ListCase):
    def test_lset(self):
        self.check("RPUSH", "l", "a", "b", "c")
        self.seq("""
            LSET l 0 x; LSET l -1 z; LSET l 1 123; LSET l -3 first; LRANGE l 0 -1; LSET l 3 out
            LSET l -4 out; LSET l 9223372036854775807 out; LSET l abc v; LSET missing 0 v
            LSET missing abc v; EXISTS missing; LSET l 0; LSET l 0 a b; LRANGE l 0 -1
            """)
        self.check("LSET", "l", "1", "y" * 10000)
        self.check("LSET", "l", "1", "")
        self.check_list("l")

    def test_linsert(self):
        self.check("RPUSH", "l", "a", "b", "c", "b")
        self.seq("""
            LINSERT l BEFORE b x; LINSERT l AFTER b y; LINSERT l before a first
            LINSERT l after c last; LINSERT l AFTER b end; LRANGE l 0 -1; LINSERT l BEFORE nosuch v
            LINSERT l AFTER nosuch v; LINSERT missing BEFORE a v; EXISTS missing
            LINSERT l MIDDLE a v; LINSERT l BEFORE a; LINSERT l BEFORE a v extra; LRANGE l 0 -1
            """)
        self.check("LINSERT", "l", "BEFORE", "", "empty-pivot")
        self.check("RPUSH", "l", "")
        self.check("LINSERT", "l", "AFTER", "", "after-empty")
        self.check_list("l")

    def test_lrem(self):
        self.check("RPUSH", "l", *"abacabadaba")
        for count, value in (("1", "a"), ("-1", "a"), ("2", "b"), ("-2", "a"), ("0", "c"),
                             ("5", "nosuch"), ("0", "a"), ("-100", "b"), ("abc", "a"),
                             ("1.5", "a"), (INT64_MIN, "d"), (INT64_MAX, "x")):
            self.check("LREM", "l", count, value)
            self.check_list("l")
        self.seq("""
            LREM missing 0 a; RPUSH l2 x x x; LREM l2 0 x; EXISTS l2; LREM l 1; LREM l 1 a b
            """)

    def test_ltrim(self):
        for start, stop in (("0", "-1"), ("1", "-2"), ("2", "3"), ("0", "0"), ("-2", "-1"),
                            ("-100", "100"), ("5", "2"), ("100", "200"), ("0", "-11"),
                            ("-1", "0"), (INT64_MIN, INT64_MAX), ("abc", "1"), ("0", "x")):
            self.check("DEL", "l")
            self.check("RPUSH", "l", *[str(i) for i in range(10)])
            self.check("LTRIM", "l", start, stop)
            self.check_list("l")
            self.check("EXISTS", "l")
        self.seq("""
            LTRIM missing 0 1; EXISTS missing; LTRIM l 0; LTRIM l 0 1 2
            """)


class ListMove(ListCase):
    def test_lmove_directions(self):
        for wherefrom in ("LEFT", "RIGHT"):
            for whereto in ("LEFT", "RIGHT"):
                self.check("DEL", "src", "dst")
                self.check("RPUSH", "src", "a", "b", "c")
                self.check("RPUSH", "dst", "x", "y")
                self.check("LMOVE", "src", "dst", wherefrom, whereto)
                self.check("LMOVE", "src", "new", wherefrom, whereto)
                self.check_list("src")
                self.check_list("dst")
                self.check_list("new")
                # Same source and destination: a rotation (or nothing, LEFT LEFT / RIGHT RIGHT).
                self.check("LMOVE", "dst", "dst", wherefrom, whereto)
                self.check_list("dst")
                self.check("LMOVE", "src", "src", wherefrom, whereto)
                self.check("LMOVE", "src", "gone", wherefrom, whereto)
                self.check("EXISTS", "src")
                self.check("LMOVE", "missing", "dst", wherefrom, whereto)
                self.check("LMOVE", "missing", "missing", wherefrom, whereto)
                self.check("EXISTS", "missing")
        self.seq("""
            RPUSH one only; LMOVE one one LEFT RIGHT; LRANGE one 0 -1; LMOVE one dst left right
            LMOVE dst one UP DOWN; LMOVE dst one LEFT; LMOVE dst one LEFT RIGHT extra; LMOVE dst
            """)

    def test_rpoplpush(self):
        self.seq("""
            RPUSH src a b c; RPOPLPUSH src dst; RPOPLPUSH src dst; LRANGE dst 0 -1
            RPOPLPUSH dst dst; LRANGE dst 0 -1; RPOPLPUSH src src; RPOPLPUSH src dst; EXISTS src
            RPOPLPUSH src dst; RPOPLPUSH missing dst; SET str v; RPOPLPUSH dst str; LRANGE dst 0 -1
            RPOPLPUSH str dst; RPOPLPUSH missing str; LMOVE dst str LEFT LEFT; GET str
            RPOPLPUSH src; RPOPLPUSH a b c
            """)

    def test_lmpop(self):
        self.check("RPUSH", "a", "1", "2", "3", "4", "5")
        self.check("RPUSH", "b", "x", "y")
        self.seq("""
            LMPOP 1 a LEFT; LMPOP 1 a RIGHT; LMPOP 2 missing a LEFT COUNT 2
            LMPOP 2 missing b RIGHT COUNT 10; EXISTS b; LMPOP 3 missing b a RIGHT COUNT 1
            LMPOP 1 missing LEFT; LMPOP 2 missing missing2 RIGHT COUNT 3; LMPOP 0 a LEFT
            LMPOP -1 a LEFT; LMPOP abc a LEFT; LMPOP 2 a LEFT; LMPOP 3 a b LEFT; LMPOP 1 a b LEFT
            LMPOP 1 a MIDDLE; LMPOP 1 a LEFT COUNT 0; LMPOP 1 a LEFT COUNT -1
            LMPOP 1 a LEFT COUNT abc; LMPOP 1 a LEFT COUNT; LMPOP 1 a LEFT COUNT 1 COUNT 1
            LMPOP 1 a LEFT FOO 1; LMPOP 1 a left count 1; LMPOP 9223372036854775807 a LEFT
            LMPOP 2147483648 a LEFT; LMPOP 1; LMPOP; LRANGE a 0 -1
            """)


class ListErrors(ListCase):
    def test_wrongtype(self):
        self.check("SET", "s", "v")
        self.check("RPUSH", "l", "a", "b")
        for cmd in (("LPUSH", "s", "x"), ("RPUSH", "s", "x"), ("LPUSHX", "s", "x"),
                    ("RPUSHX", "s", "x"), ("LPOP", "s"), ("LPOP", "s", "2"), ("LPOP", "s", "0"),
                    ("RPOP", "s"), ("RPOP", "s", "1"), ("LLEN", "s"), ("LRANGE", "s", "0", "-1"),
                    ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
                    ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", "0", "a"),
                    ("LTRIM", "s", "0", "1"), ("LPOS", "s", "a"), ("LPOS", "s", "a", "COUNT", "0"),
                    ("LMOVE", "s", "l", "LEFT", "RIGHT"), ("LMOVE", "l", "s", "LEFT", "RIGHT"),
                    ("LMOVE", "s", "s", "LEFT", "LEFT"), ("LMOVE", "missing", "s", "LEFT", "LEFT"),
                    ("RPOPLPUSH", "s", "l"), ("RPOPLPUSH", "l", "s"), ("RPOPLPUSH", "s", "s"),
                    ("LMPOP", "1", "s", "LEFT"), ("LMPOP", "2", "missing", "s", "RIGHT"),
                    ("LMPOP", "2", "l", "s", "LEFT"), ("BLPOP", "s", "0"),
                    ("BRPOP", "missing", "s", "0"), ("BLMOVE", "s", "l", "LEFT", "LEFT", "0"),
                    # Pops of `l` last: a blocking command on an empty `l` would block (a timeout
                    # of 1 s, not 0, keeps a diverging Keyward from hanging the connection).
                    ("BLMOVE", "l", "s", "RIGHT", "LEFT", "1"), ("BRPOPLPUSH", "s", "l", "0"),
                    ("BRPOPLPUSH", "l", "s", "1"), ("BLMPOP", "0", "1", "s", "LEFT"),
                    ("BLMPOP", "0", "2", "missing", "s", "RIGHT", "COUNT", "2"),
                    ("BLPOP", "l", "s", "1")):
            self.check(*cmd)
        self.check("GET", "s")
        self.check_list("l")

    def test_arity(self):
        for name, ok in (("LPUSH", 2), ("RPUSH", 2), ("LPUSHX", 2), ("RPUSHX", 2), ("LPOP", 1),
                         ("RPOP", 1), ("LLEN", 1), ("LRANGE", 3), ("LINDEX", 2), ("LSET", 3),
                         ("LINSERT", 4), ("LREM", 3), ("LTRIM", 3), ("LPOS", 2), ("LMOVE", 4),
                         ("RPOPLPUSH", 2), ("LMPOP", 3), ("BLPOP", 2), ("BRPOP", 2),
                         ("BLMOVE", 5), ("BRPOPLPUSH", 3), ("BLMPOP", 4)):
            for n in range(ok):
                self.check(name, *(["k"] * n))
            self.check(name.lower())
        self.seq("""
            LLEN a b; LINDEX a 0 1; LSET a 0 v w; LREM a 0 v w; LTRIM a 0 1 2; LRANGE a 0 1 2
            LMOVE a b LEFT LEFT x; BLMOVE a b LEFT LEFT 0 x; BRPOPLPUSH a b 0 x; RPOPLPUSH a b c
            """)

    def test_blocking_argument_errors(self):
        self.check("RPUSH", "l", "a")
        # Only invalid timeouts ("0x10" is a valid 16 s: strtold reads hex; "-0.001" rounds to 0,
        # forever, see test_served_by_push).
        for timeout in ("-1", "-0.5", "abc", "", "1x", "nan", "inf", "-inf", "1e400",
                        "99999999999999999999", "9223372036854775807", "1e20", " 1"):
            self.check("BLPOP", "missing", timeout)
            self.check("BRPOP", "l", timeout)
            self.check("BLMOVE", "missing", "d", "LEFT", "RIGHT", timeout)
            self.check("BRPOPLPUSH", "missing", "d", timeout)
            self.check("BLMPOP", timeout, "1", "missing", "LEFT")
        self.seq("""
            BLMOVE l d UP LEFT 0; BLMOVE l d LEFT DOWN 0; BLMPOP 0 0 l LEFT; BLMPOP 0 -1 l LEFT
            BLMPOP 0 abc l LEFT; BLMPOP 0 2 l LEFT; BLMPOP 0 1 l MIDDLE; BLMPOP 0 1 l LEFT COUNT 0
            BLMPOP 0 1 l LEFT COUNT -5; BLMPOP 0 1 l LEFT COUNT; BLMPOP 0 1 l LEFT BAR
            BLMPOP abc 1 l LEFT; BLMPOP -1 1 l LEFT; LRANGE l 0 -1
            """)


class ListValues(ListCase):
    def test_integer_looking_values(self):
        self.check("RPUSH", "l", *NUMERIC)
        self.check_list("l")
        for i in range(-len(NUMERIC) - 1, len(NUMERIC) + 1):
            self.check("LINDEX", "l", str(i))
        for v in NUMERIC + ["-9223372036854775809", "0123", "1.0", "00"]:
            self.check("LPOS", "l", v)
            self.check("LPOS", "l", v, "COUNT", "0")
        self.check("LINSERT", "l", "BEFORE", "-0", "before-minus-zero")
        self.check("LINSERT", "l", "AFTER", "0", "after-zero")
        self.check("LREM", "l", "0", "123")
        self.check("LREM", "l", "0", INT64_MAX)
        self.check("LSET", "l", "0", "-123")
        self.check("LPUSH", "l", "123", "-0", "0")
        self.check_list("l")
        self.check("LPOS", "l", "0", "RANK", "-1")
        self.check("LPOS", "l", "-0", "COUNT", "0")

    def test_binary_and_large_values(self):
        big = b"B" * 10000
        huge = bytes(range(256)) * 300
        self.check("RPUSH", "l", BIN, b"\x00", b"\r\n", big, b"", huge, "tail")
        self.check_list("l")
        for v in (BIN, b"\x00", big, huge, b"", b"\r"):
            self.check("LPOS", "l", v)
        self.check("LINSERT", "l", "AFTER", big, BIN)
        self.check("LINSERT", "l", "BEFORE", BIN, big)
        self.check("LSET", "l", "2", huge)
        self.check("LREM", "l", "-1", big)
        self.check("LINDEX", "l", "-2")
        self.check_list("l")
        self.check("LMOVE", "l", BIN, "LEFT", "RIGHT")
        self.check("RPUSH", b"k\x00\r\n", "v")
        self.check("LRANGE", b"k\x00\r\n", "0", "-1")
        self.check("LPOP", "l", "3")
        self.check("RPOP", "l", "3")
        self.check_list("l")

    def test_many_elements(self):
        for size in ("-2", "4", "-1", "1"):
            self.set_both("list-max-listpack-size", size)
            self.check("DEL", "l")
            for batch in range(10):
                self.check("RPUSH", "l", *["v%d-%d" % (batch, i) for i in range(50)])
                self.check("LPUSH", "l", *["%d" % (batch * 100 + i) for i in range(50)])
            self.check_list("l")
            for i in ("0", "1", "499", "500", "501", "999", "-1", "-500", "-1000", "1000"):
                self.check("LINDEX", "l", i)
                self.check("LSET", "l", i, "set-" + i)
            self.check("LRANGE", "l", "480", "520")
            self.check("LRANGE", "l", "-520", "-480")
            self.check("LINSERT", "l", "BEFORE", "v5-25", "ins1")
            self.check("LINSERT", "l", "AFTER", "305", "ins2")
            self.check("LPOS", "l", "v9-49")
            self.check("LPOS", "l", "ins2", "RANK", "-1", "MAXLEN", "600")
            self.check("LREM", "l", "3", "v4-10")
            self.check("RPUSH", "l", *(["dup"] * 30))
            self.check("LREM", "l", "-10", "dup")
            self.check("LPOS", "l", "dup", "COUNT", "0")
            self.check("LREM", "l", "0", "dup")
            self.check("LPOP", "l", "123")
            self.check("RPOP", "l", "77")
            self.check("LTRIM", "l", "100", "-100")
            self.check_list("l")
            self.check("OBJECT", "ENCODING", "l")
            self.check("LTRIM", "l", "1", "0")
            self.check("EXISTS", "l")


class ListEncoding(ListCase):
    def test_config(self):
        self.check("CONFIG", "GET", "list-max-listpack-size")
        self.check("CONFIG", "GET", "list-max-ziplist-size")
        for v in ("4", "-1", "-5", "-6", "0", "abc", "1.5", "-2"):
            self.check("CONFIG", "SET", "list-max-listpack-size", v)
            self.check("CONFIG", "GET", "list-max-listpack-size")

    def test_encoding_and_order(self):
        for size in ("4", "-1", "1", "2", "-2"):
            with self.subTest(size=size):
                self.set_both("list-max-listpack-size", size)
                self.check("DEL", "l", "big")
                self.check("RPUSH", "l", "a")
                self.check("OBJECT", "ENCODING", "l")
                self.check("RPUSH", "l", *[str(i) for i in range(20)])
                self.check("OBJECT", "ENCODING", "l")
                self.check("LINSERT", "l", "BEFORE", "10", "mid-before")
                self.check("LINSERT", "l", "AFTER", "3", "x" * 5000)
                self.check("LINSERT", "l", "AFTER", "19", "end")
                self.check("LSET", "l", "8", "y" * 9000)
                self.check("LSET", "l", "-3", "short")
                self.check("LREM", "l", "0", "5")
                self.check("LREM", "l", "1", "mid-before")
                self.check_list("l")
                self.check("LTRIM", "l", "2", "-2")
                self.check_list("l")
                self.check("OBJECT", "ENCODING", "l")
                self.check("RPUSH", "big", "z" * 10000, "small", "z" * 10000)
                self.check("OBJECT", "ENCODING", "big")
                self.check("LINSERT", "big", "AFTER", "small", "w" * 8200)
                self.check_list("big")
        self.check("OBJECT", "ENCODING", "missing")
        self.check("SET", "s", "v")
        self.check("OBJECT", "ENCODING", "s")


class ListResp3(ListCase):
    def test_resp3_replies(self):
        p = self.resp3_pair()
        self.check("RPUSH", "l", "a", "b", "c", pair=p)
        for cmd in (("LPOP", "missing", "1"), ("RPOP", "missing", "0"), ("LPOP", "missing"),
                    ("LPOP", "l", "0"), ("LPOP", "l", "1"), ("LINDEX", "l", "10"),
                    ("LPOS", "l", "zz"), ("LPOS", "l", "zz", "COUNT", "0"), ("LPOS", "l", "c"),
                    ("LPOS", "l", "c", "COUNT", "2"), ("LRANGE", "l", "5", "1"),
                    ("RPOPLPUSH", "missing", "l"), ("LMOVE", "missing", "l", "LEFT", "LEFT"),
                    ("LMPOP", "1", "missing", "LEFT"), ("LMPOP", "2", "missing", "l", "RIGHT"),
                    ("BLPOP", "missing", "0.01"), ("RPUSH", "l", "x", "y"),
                    ("BRPOP", "missing", "l", "1"),
                    ("BLMOVE", "missing", "d", "LEFT", "LEFT", "0.01"),
                    ("BRPOPLPUSH", "missing", "d", "0.01"),
                    ("BLMPOP", "0.01", "1", "missing", "LEFT"),
                    ("BLMPOP", "1", "1", "l", "LEFT", "COUNT", "5"), ("LLEN", "l"),
                    ("LSET", "missing", "0", "v"), ("LPOP", "l", "-1")):
            self.check(*cmd, pair=p)
        self.check("LPOP", "missing", "1")  # and in RESP2


class ListBlocking(ListCase):
    def test_data_present_returns_at_once(self):
        self.check("RPUSH", "a", "1", "2", "3")
        self.check("RPUSH", "b", "x", "y", "z")
        # Every command finds data (traced by hand): none of them blocks on redis. Timeouts of
        # 0 (forever) on fresh keys, 1 s later: a diverging Keyward then costs 1 s, not a hang.
        self.seq("""
            BLPOP a 0; BRPOP a 0; BLMOVE b b RIGHT LEFT 0; BLPOP missing b a 1
            BRPOP missing a b 0.5; BLMOVE b dst LEFT RIGHT 1; BRPOPLPUSH dst b 1
            BLMPOP 1 2 missing b LEFT COUNT 5; RPUSH dst q; BLMPOP 1 1 dst RIGHT; LRANGE a 0 -1
            LRANGE b 0 -1; LRANGE dst 0 -1; EXISTS b dst
            """)

    def test_timeouts(self):
        for cmd in (("BLPOP", "e", "0.05"), ("BRPOP", "e", "e2", "0.05"),
                    ("BLMOVE", "e", "d", "LEFT", "LEFT", "0.05"), ("BRPOPLPUSH", "e", "d", "0.01"),
                    ("BLMPOP", "0.05", "2", "e", "e2", "RIGHT", "COUNT", "3")):
            self.check(*cmd)
        self.check("EXISTS", "e", "d")

    def test_sub_millisecond_timeouts(self):
        # Redis rounds up to 1 ms: these time out rather than block forever. Each on its own
        # connection with a short read timeout, so a server that blocks fails fast and alone.
        for cmd in (("BLPOP", "e", "0.001"), ("BLPOP", "e", "0.0001"), ("BRPOP", "e", "1e-9"),
                    ("BLMPOP", "0.0005", "1", "e", "LEFT")):
            pair = (self.redis_srv.client(timeout=3), self.keyward_srv.client(timeout=3))
            for c in pair:
                self.addCleanup(c.close)
            self.check(*cmd, pair=pair)

    def test_served_by_push(self):
        pair = self.new_pair()
        for cmd, push, key in ((("BLPOP", "q", "0"), ("RPUSH", "q", "a", "b"), "q"),
                               (("BRPOP", "q2", "100"), ("LPUSH", "q2", "a", "b"), "q2"),
                               (("BLMPOP", "100", "1", "q8", "LEFT"), ("RPUSH", "q8", "a"), "q8"),
                               (("BLMPOP", "0", "1", "q3", "RIGHT", "COUNT", "2"),
                                ("RPUSH", "q3", "a", "b", "c"), "q3"),
                               (("BLPOP", "q4", "0"), ("LPUSHX", "q4", "a"), "q4"),
                               (("BLPOP", "q5", "0"), ("LINSERT", "q5", "BEFORE", "a", "b"), "q5"),
                               (("BLPOP", "q6", "-0.001"), ("RPUSH", "q6", "a"), "q6"),
                               (("BRPOP", "q7", "-0"), ("RPUSH", "q7", "a"), "q7")):
            self.block(pair, *cmd)
            self.check(*push)
            if push[0] in ("LPUSHX", "LINSERT"):
                # Nothing pushed: still blocked; a real push serves it.
                self.check_blocked()
                self.check("RPUSH", key, "late")
            self.reply(pair)
            self.check_blocked()
            self.check_list(key)

    def test_blmove_and_brpoplpush_served(self):
        pair = self.new_pair()
        for cmd in (("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"),
                    ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"),
                    ("BLMOVE", "src", "src", "LEFT", "RIGHT", "0"),
                    ("BRPOPLPUSH", "src", "dst", "0")):
            self.check("DEL", "src")
            self.block(pair, *cmd)
            self.check("RPUSH", "src", "e1", "e2")
            self.reply(pair)
            self.check_list("src")
            self.check_list("dst")

    def test_clients_served_in_arrival_order(self):
        a, b, c = self.new_pair(), self.new_pair(), self.new_pair()
        self.block(a, "BLPOP", "q", "0")
        self.block(b, "BRPOP", "q", "0")
        self.block(c, "BLMOVE", "q", "out", "LEFT", "LEFT", "0")
        self.check_blocked()
        self.check("LPUSH", "q", "first")
        self.reply(a)
        self.check_blocked()
        self.check("LPUSH", "q", "second")
        self.reply(b)
        self.check_blocked()
        self.check("RPUSH", "q", "third")
        self.reply(c)
        self.check_blocked()
        self.check_list("q")
        self.check_list("out")
        # One push of several elements serves several waiters, in order.
        self.block(a, "BLPOP", "q", "0")
        self.block(b, "BLPOP", "q", "0")
        self.block(c, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5")
        self.check("RPUSH", "q", "1", "2", "3", "4", "5")
        for p in (a, b, c):
            self.reply(p)
        self.check_blocked()
        self.check("EXISTS", "q")

    def test_several_keys(self):
        a, b = self.new_pair(), self.new_pair()
        self.block(a, "BLPOP", "k1", "k2", "k3", "0")
        self.block(b, "BRPOP", "k3", "k1", "0")
        self.check("RPUSH", "k3", "x", "y")
        self.reply(a)
        self.reply(b)
        self.check("EXISTS", "k3")
        self.block(a, "BLMPOP", "0", "3", "k1", "k2", "k3", "RIGHT", "COUNT", "2")
        self.check("RPUSH", "k2", "p", "q", "r")
        self.reply(a)
        self.check_list("k2")

    def test_filled_by_move(self):
        a = self.new_pair()
        self.check("RPUSH", "src", "a", "b", "c")
        self.block(a, "BLPOP", "q", "0")
        self.check("LMOVE", "src", "q", "LEFT", "RIGHT")
        self.reply(a)
        self.block(a, "BRPOP", "q", "0")
        self.check("RPOPLPUSH", "src", "q")
        self.reply(a)
        # A chain: BLMOVE q -> r served, which serves the BLPOP waiting on r.
        b = self.new_pair()
        self.block(a, "BLMOVE", "q", "r", "LEFT", "LEFT", "0")
        self.block(b, "BLPOP", "r", "0")
        self.check("LMPOP", "1", "src", "LEFT")  # pops into nowhere: nobody served
        self.check_blocked()
        self.check("RPUSH", "q", "chain")
        self.reply(a)
        self.reply(b)
        self.check_blocked()
        for key in ("src", "q", "r"):
            self.check_list(key)

    def test_blocked_through_type_changes(self):
        a = self.new_pair()
        self.block(a, "BLPOP", "q", "0")
        self.check("SET", "q", "string")
        self.check_blocked()
        self.check("DEL", "q")
        self.check("RPUSH", "q", "v")
        self.reply(a)
        # The destination became a string while blocked: the waiter gets an error.
        self.block(a, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        self.check("SET", "dst", "string")
        self.check("RPUSH", "src", "v1")
        self.reply(a)
        self.check_blocked()
        self.check_list("src")
        self.check("GET", "dst")

    def test_push_in_transaction(self):
        # Waiters are served after EXEC, with what the whole transaction left in the list.
        a = self.new_pair()
        self.block(a, "BLPOP", "q", "0")
        self.check("MULTI")
        self.check("LPUSH", "q", "x")
        self.check("LPOP", "q")
        self.check("EXEC")
        self.check_blocked()
        self.check("MULTI")
        self.check("LPUSH", "q", "y", "z")
        self.check("LLEN", "q")
        self.check("EXEC")
        self.reply(a)
        self.check_list("q")

    def test_push_in_other_db(self):
        a = self.new_pair()
        self.check("SELECT", "1")
        self.block(a, "BLPOP", "q", "0")
        self.check("RPUSH", "q", "db1")
        self.check_blocked()
        self.check("SELECT", "0")
        self.check("RPUSH", "other", "n")
        self.check("RPOPLPUSH", "other", "q")
        self.reply(a)
        self.check_blocked()

    def test_resp3_blocked_client(self):
        a = self.resp3_pair()
        self.block(a, "BLPOP", "q", "0")
        self.check("RPUSH", "q", "v")
        self.reply(a)
        self.block(a, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2")
        self.check("RPUSH", "q", "v", "w", "x")
        self.reply(a)
        self.check("BLPOP", "nothing", "0.01", pair=a)

    def test_client_unblock(self):
        a = self.new_pair()
        ids = [decode(c.call("CLIENT", "ID")) for c in a]
        for cmd, mode in ((("BLPOP", "q", "0"), ()), (("BLMOVE", "q", "d", "LEFT", "LEFT", "0"),
                                                      ("TIMEOUT",)),
                          (("BLMPOP", "0", "1", "q", "LEFT"), ("ERROR",)),
                          (("BRPOPLPUSH", "q", "d", "0"), ("error",))):
            self.block(a, *cmd)
            replies = [ctl.call("CLIENT", "UNBLOCK", i, *mode)
                       for ctl, i in ((self.r, ids[0]), (self.k, ids[1]))]
            with self.subTest(unblock=show(cmd)):
                self.assertEqual(replies[1], replies[0])
            self.reply(a)
            self.check_blocked()


class ListKeyspaceEvents(EventsMixin, ListCase):
    def setUp(self):
        super().setUp()
        self.subscribe_events()
        self.set_both("notify-keyspace-events", "KEA")

    def test_sanity(self):
        self.check("RPUSH", "l", "a")
        events = self.compare_events("rpush")
        self.assertEqual(len(events), 2)

    def test_list_events(self):
        steps = [
            [("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c", "d", "e", "f")],
            [("LPUSHX", "l", "x"), ("RPUSHX", "l", "y"), ("LPUSHX", "no", "x"),
             ("RPUSHX", "no", "y")],
            [("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "0"),
             ("LPOP", "missing"), ("RPOP", "missing", "3")],
            [("LINSERT", "l", "BEFORE", "d", "n"), ("LINSERT", "l", "AFTER", "nosuch", "n"),
             ("LINSERT", "missing", "AFTER", "a", "n")],
            [("LSET", "l", "0", "s"), ("LSET", "l", "100", "s"), ("LSET", "missing", "0", "s")],
            [("RPUSH", "l", "d", "d"), ("LREM", "l", "1", "d"), ("LREM", "l", "0", "nosuch"),
             ("LREM", "l", "0", "d")],
            [("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "-1"), ("LTRIM", "l", "5", "1"),
             ("LTRIM", "missing", "0", "1")],
            [("RPUSH", "src", "1", "2", "3"), ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
             ("LMOVE", "src", "src", "RIGHT", "LEFT"), ("RPOPLPUSH", "src", "dst"),
             ("LMOVE", "src", "dst", "RIGHT", "LEFT"), ("RPOPLPUSH", "missing", "dst")],
            [("LMPOP", "2", "missing", "dst", "LEFT", "COUNT", "1"),
             ("LMPOP", "1", "dst", "RIGHT", "COUNT", "10"),
             ("RPUSH", "x", "1"), ("LPOP", "x", "5"), ("RPUSH", "x", "1"), ("RPOP", "x", "1")],
            [("RPUSH", "b", "1", "2"), ("BLPOP", "b", "0"), ("BRPOP", "b", "1"),
             ("RPUSH", "b", "1"), ("BLMOVE", "b", "c", "LEFT", "RIGHT", "0"),
             ("BRPOPLPUSH", "c", "c", "1"), ("BLMPOP", "1", "1", "c", "LEFT"),
             ("DEL", "l")],
        ]
        for i, step in enumerate(steps):
            for cmd in step:
                self.check(*cmd)
            self.compare_events("step %d: %s" % (i, "; ".join(show(c) for c in step)))

    def test_served_blocked_client_events(self):
        a = self.new_pair()
        for cmd, push in ((("BLPOP", "q", "0"), ("RPUSH", "q", "v")),
                          (("BRPOP", "q", "0"), ("LPUSH", "q", "v", "w")),
                          (("BLMOVE", "q", "d", "RIGHT", "LEFT", "0"), ("RPUSH", "q", "v")),
                          (("BRPOPLPUSH", "q", "d", "0"), ("RPUSH", "q", "v")),
                          (("BLMPOP", "0", "1", "q", "LEFT", "COUNT", "3"), ("RPUSH", "q", "v"))):
            self.check("DEL", "q")
            self.block(a, *cmd)
            self.check(*push)
            self.reply(a)
            self.compare_events("%s served by %s" % (show(cmd), show(push)))


# --- seeded random sequences ------------------------------------------------------------------

KEYS = ["l0", "l1", "l2", "s"]
VALUES = ["a", "b", "c", "a", "b", "1", "-0", "123", INT64_MAX, "12345678901234567890", "",
          "x" * 40, BIN, "3.5"]


class Generator:
    """Random list commands (and a few others) over KEYS; about a third fail, on purpose."""

    WEIGHTS = {"push": 10, "pop": 5, "lrange": 4, "lindex": 3, "lset": 3, "linsert": 3,
               "lrem": 3, "ltrim": 2, "lpos": 4, "lmove": 3, "lmpop": 2, "llen": 2, "blocking": 0.3,
               "del": 1, "set": 0.5, "config": 0.4, "encoding": 0.5, "hello": 0.2, "invalid": 0.5}

    def __init__(self, rng, exclude=()):
        self.rng = rng
        self.gens = [getattr(self, n) for n in sorted(dir(self))
                     if n.startswith("gen_") and n[4:] not in exclude]
        self.weights = [self.WEIGHTS[g.__name__[4:]] for g in self.gens]

    def pick(self, *choices):
        return self.rng.choice(choices)

    def key(self):
        return self.rng.choice(KEYS if self.rng.random() < 0.1 else KEYS[:3])

    def value(self):
        return self.rng.choice(VALUES) if self.rng.random() < 0.85 else str(self.rng.randint(0, 50))

    def index(self):
        r = self.rng.random()
        if r < 0.9:
            return str(self.rng.randint(-12, 12))
        if r < 0.96:
            return self.pick(INT64_MAX, INT64_MIN, "-0", "100")
        return self.pick("abc", "", "1.5", "99999999999999999999")

    def side(self):
        return self.pick("LEFT", "RIGHT", "left") if self.rng.random() < 0.98 else "UP"

    def count(self):
        return str(self.rng.randint(0, 6)) if self.rng.random() < 0.9 else self.pick("-1", "abc")

    def maybe(self, p, *args):
        return list(args) if self.rng.random() < p else []

    def gen_push(self):
        return ([self.pick("LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"), self.key()]
                + [self.value() for _ in range(self.pick(1, 1, 2, 3, 5, 20))])

    def gen_pop(self):
        return [self.pick("LPOP", "RPOP"), self.key()] + self.maybe(0.4, self.count())

    def gen_llen(self):
        return [self.pick("LLEN", "EXISTS", "TYPE"), self.key()]

    def gen_lrange(self):
        return ["LRANGE", self.key()] + self.pick(["0", "-1"], [self.index(), self.index()])

    def gen_lindex(self):
        return ["LINDEX", self.key(), self.index()]

    def gen_lset(self):
        return ["LSET", self.key(), self.index(), self.value()]

    def gen_linsert(self):
        where = self.pick("BEFORE", "AFTER", "after") if self.rng.random() < 0.97 else "MIDDLE"
        return ["LINSERT", self.key(), where, self.value(), self.value()]

    def gen_lrem(self):
        return ["LREM", self.key(), self.pick("0", "1", "-1", "2", "-2", "5", "abc"), self.value()]

    def gen_ltrim(self):
        if self.rng.random() < 0.7:  # mostly trims that keep something
            return ["LTRIM", self.key(), str(self.rng.randint(0, 2)), str(-self.rng.randint(1, 3))]
        return ["LTRIM", self.key(), self.index(), self.index()]

    def gen_lpos(self):
        opts = [self.maybe(0.4, "RANK", self.pick("1", "2", "-1", "-2", "3", "0")),
                self.maybe(0.4, "COUNT", self.count()),
                self.maybe(0.3, "MAXLEN", self.pick("0", "1", "3", "10", "-1"))]
        self.rng.shuffle(opts)
        return ["LPOS", self.key(), self.value()] + [a for o in opts for a in o]

    def gen_lmove(self):
        if self.rng.random() < 0.3:
            return ["RPOPLPUSH", self.key(), self.key()]
        return ["LMOVE", self.key(), self.key(), self.side(), self.side()]

    def gen_lmpop(self):
        keys = [self.key() for _ in range(self.rng.randint(1, 3))]
        n = str(len(keys)) if self.rng.random() < 0.93 else self.pick("0", "-1", "9", "x")
        return ["LMPOP", n] + keys + [self.side()] + self.maybe(0.5, "COUNT", self.count())

    def gen_blocking(self):
        # Nobody else pushes: these either find data or time out after 10 ms.
        k, t = self.key(), "0.01"
        return self.pick(["BLPOP", k, self.key(), t], ["BRPOP", k, t],
                         ["BLMOVE", k, self.key(), self.side(), self.side(), t],
                         ["BRPOPLPUSH", k, self.key(), t],
                         ["BLMPOP", t, "2", k, self.key(), self.side(), "COUNT", "2"])

    def gen_del(self):
        return ["DEL", self.key()]

    def gen_set(self):
        # Mostly the key meant to hold a string; a list key now and then (until a DEL).
        return ["SET", "s" if self.rng.random() < 0.9 else self.key(), "str"]

    def gen_config(self):
        return ["CONFIG", "SET", "list-max-listpack-size", self.pick("-2", "-1", "1", "2", "3",
                                                                     "128")]

    def gen_encoding(self):
        return ["OBJECT", "ENCODING", self.key()]

    def gen_hello(self):
        return ["HELLO", self.pick("2", "3")]

    def gen_invalid(self):
        # A missing or an extra argument (a blocking command then fails rather than blocks).
        cmd = self.command()
        shorter = self.rng.random() < 0.5
        # (Never shorter than the command name: an invalid command of an invalid command may be
        # down to one word.)
        return cmd[:-1] if shorter and len(cmd) > 1 else cmd + ["extra"]

    def command(self):
        return self.rng.choices(self.gens, self.weights)[0]()


class ListRandom(ListCase):
    def test_random_sequence(self):
        env_seed = os.environ.get("KEYWARD_DIFF_SEED")
        if env_seed:
            seed = int(env_seed)
        elif os.environ.get("CI"):
            seed = 20261121
        else:
            seed = int(time.time() * 1000) % 1000000007
        count = int(os.environ.get("KEYWARD_LIST_COMMANDS", "1500"))
        print("\nrandom list sequence: KEYWARD_DIFF_SEED=%d, %d commands" % (seed, count),
              file=sys.stderr)
        rng = random.Random(seed)
        exclude = {x.strip().lower() for x in os.environ.get("KEYWARD_DIFF_EXCLUDE", "").split(",")}
        gen = Generator(rng, exclude)
        history = []
        while len(history) < count:
            batch = [gen.command() for _ in range(rng.choice([1, 1, 2, 3, 5]))]
            data = b"".join(encode_command(*c) for c in batch)
            self.r.send(data)
            expected = self.r.read_replies(len(batch))
            self.k.send(data)
            for cmd, exp in zip(batch, expected):
                history.append(cmd)
                try:
                    actual = self.k.read_reply()
                except (ConnectionClosed, OSError) as e:
                    actual = ("<connection lost: %s>" % e).encode()
                if cmd[0] == "HELLO" and exp[:1] == actual[:1]:
                    continue
                if actual != exp:
                    recent = "\n".join("  " + show(c) for c in history[-25:])
                    self.fail("random list sequence diverged at command #%d (replay with "
                              "KEYWARD_DIFF_SEED=%d)\nlast commands:\n%s\ncommand: %s\n"
                              "redis:   %r\nkeyward: %r"
                              % (len(history), seed, recent, show(cmd), exp, actual))
        for key in KEYS:
            self.check("LRANGE", key, "0", "-1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
