"""Differential tests of the set commands (SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN):
Keyward vs redis-server 7.0.15, raw replies compared byte for byte.

What can be compared exactly is: every error, every integer reply, OBJECT ENCODING (intset and
hashtable, and when one becomes the other), and the members of intset-encoded sets, which both
servers keep sorted. Members of hashtable sets come in table order, which differs between the
two (Redis seeds its hash function at random): those replies are compared with check_unordered.
SPOP and SRANDMEMBER choose at random: their replies are compared by shape (type and length),
and their members checked against the set as it was.

Keyspace events use the marker technique of test_keyspace_events.py: a subscriber PSUBSCRIBEd
to "__key*@*__:*" reads everything up to a marker PUBLISHed after each step.

Environment (random part, as in test_random.py):
  KEYWARD_DIFF_SEED       seed to replay (printed at the start and on failure)
  KEYWARD_SET_COMMANDS    commands in the random sequence (default 1500)
"""

import os
import random
import sys
import time
import unittest

from diff_support import DiffCase, show, EventsMixin
from keyward_harness import ConnectionClosed, decode, encode_command, split_aggregate, unordered

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
BIN = b"a\r\nb\x00c\r\n\x00"
# Members that look like integers; only the canonical ones that fit in 64 bits are integers to
# Redis (string2ll), and only those keep a set an intset.
NUMERIC = ["0", "123", "-1", "-0", "007", "+1", " 1", "1 ", INT64_MAX, INT64_MIN,
           "9223372036854775808", "-9223372036854775809", "12345678901234567890", "3.14", "1e3",
           "0x10", "32767", "32768", "-32768", "-32769", "2147483647", "2147483648",
           "-2147483648", "-2147483649"]



def scan_normalized(raw):
    """An SSCAN reply with its members sorted (the cursor kept): for a full one-call scan."""
    if raw[:1] != b"*":
        return raw
    _, (cursor, members) = split_aggregate(raw)
    return (cursor, unordered(members))


def numbers(first, last):
    return [str(i) for i in range(first, last + 1)]


class SetCase(DiffCase):
    RESTORE_CONFIG = (("set-max-intset-entries", "512"), ("notify-keyspace-events", ""))


    def encoding(self, key):
        """OBJECT ENCODING compared; returns redis's (b"intset", b"hashtable", or an error)."""
        return decode(self.check("OBJECT", "ENCODING", key))

    def check_set(self, key, pair=None):
        """The set's encoding, size and members: exactly for an intset (both sort it), in any
        order for a hashtable."""
        enc = decode(self.check("OBJECT", "ENCODING", key, pair=pair))
        self.check("SCARD", key, pair=pair)
        if enc == b"intset":
            self.check("SMEMBERS", key, pair=pair)
        else:
            self.check_unordered("SMEMBERS", key, pair=pair)
        return enc

    def both_decoded(self, *cmd, pair=None):
        r, k = self.both(*cmd, pair=pair)
        return r, k, decode(r), (decode(k) if isinstance(k, bytes) and k[:1] != b"<" else k)

    def check_random_reply(self, cmd, members, unique, count, pair=None):
        """SPOP/SRANDMEMBER with a count: the same reply type and length on both, members of the
        set as it was (`members`), distinct when `unique`."""
        r_raw, k_raw, r, k = self.both_decoded(*cmd, pair=pair)
        with self.subTest(cmd=show(cmd)):
            self.assertEqual(k_raw[:1], r_raw[:1], "reply type of %s" % show(cmd))
            if isinstance(r, list):
                self.assertIsInstance(k, list, show(cmd))
                self.assertEqual(len(k), len(r), "reply length of %s" % show(cmd))
                if count is not None:
                    self.assertEqual(len(k), count, show(cmd))
                for m in k:
                    self.assertIn(m, members, show(cmd))
                if unique:
                    self.assertEqual(len(set(k)), len(k), "repeated members: %s" % show(cmd))
            elif r_raw[:1] == b"$" and r is not None:  # one member
                self.assertIn(k, members, show(cmd))
            else:
                self.assertEqual(k_raw, r_raw, show(cmd))
        return r, k


class SetBasics(SetCase):
    def test_add_remove_and_membership(self):
        self.seq("""
            SADD s a b c; SADD s a d; SADD s a; SCARD s; SCARD missing; SISMEMBER s a
            SISMEMBER s z; SISMEMBER missing a; SMISMEMBER s a z d a; SMISMEMBER missing a b
            TYPE s; SREM s a z a; SREM missing a; SREM s b c d b; EXISTS s; SMEMBERS s
            SADD s x; SREM s x y; EXISTS s; sadd Lower v; sAdD Lower w; SCARD Lower
            """)
        self.check("SADD", "b", BIN, "", "x" * 100)
        self.check("SISMEMBER", "b", BIN)
        self.check("SISMEMBER", "b", "")
        self.check("SMISMEMBER", "b", "", BIN, "y")
        self.check_set("b")

    def test_arity(self):
        for cmd in (["SADD", "s"], ["SREM", "s"], ["SMEMBERS"], ["SMEMBERS", "a", "b"],
                    ["SISMEMBER", "s"], ["SISMEMBER", "s", "a", "b"], ["SMISMEMBER", "s"],
                    ["SCARD"], ["SCARD", "a", "b"], ["SPOP"], ["SPOP", "s", "1", "2"],
                    ["SRANDMEMBER"], ["SRANDMEMBER", "s", "1", "2"], ["SMOVE", "a", "b"],
                    ["SMOVE", "a", "b", "c", "d"], ["SINTER"], ["SINTERCARD", "1"],
                    ["SINTERSTORE", "d"], ["SUNION"], ["SUNIONSTORE", "d"], ["SDIFF"],
                    ["SDIFFSTORE", "d"], ["SSCAN", "s"]):
            self.check(*cmd)

    def test_wrongtype(self):
        self.seq("SET str v; RPUSH list a; SADD s a 1; SADD t 1")
        for key in ("str", "list"):
            for cmd in (["SADD", key, "x"], ["SREM", key, "x"], ["SMEMBERS", key],
                        ["SISMEMBER", key, "x"], ["SMISMEMBER", key, "x", "y"], ["SCARD", key],
                        ["SPOP", key], ["SPOP", key, "0"], ["SPOP", key, "2"],
                        ["SRANDMEMBER", key], ["SRANDMEMBER", key, "0"],
                        ["SRANDMEMBER", key, "-3"], ["SMOVE", key, "s", "a"],
                        ["SMOVE", "s", key, "a"], ["SMOVE", "missing", key, "a"],
                        ["SMOVE", key, "missing", "a"], ["SINTER", "s", key],
                        ["SINTER", "missing", key], ["SINTER", key, "missing"],
                        ["SINTERCARD", "2", "missing", key], ["SINTERSTORE", "d", "s", key],
                        ["SINTERSTORE", "d", "missing", key], ["SUNION", key, "s"],
                        ["SUNIONSTORE", "d", "missing", key], ["SDIFF", "s", key],
                        ["SDIFF", "missing", key], ["SDIFFSTORE", "d", "s", key],
                        ["SSCAN", key, "0"], ["SSCAN", key, "0", "COUNT", "0"],
                        ["SSCAN", key, "x"]):
                self.check(*cmd)
        self.check("EXISTS", "d")
        # Destinations of another type are overwritten, not refused.
        self.check("SUNIONSTORE", "str", "s", "t")
        self.check("TYPE", "str")
        self.check("SINTERSTORE", "list", "s", "t")
        self.check("TYPE", "list")
        self.check("SDIFFSTORE", "t", "s", "missing")
        self.check_set("t")


class SetEncoding(SetCase):
    def test_integer_looking_members(self):
        for m in NUMERIC:
            self.check("DEL", "n")
            self.check("SADD", "n", m)
            self.check_set("n")
            self.check("SISMEMBER", "n", m)
        self.check("DEL", "n")
        self.check("SADD", "n", *NUMERIC)
        self.check_set("n")
        for m in NUMERIC:
            self.check("SISMEMBER", "n", m)
        # Canonical integers of every width, in an intset (upgraded 2 -> 4 -> 8 bytes).
        ints = [m for m in NUMERIC if m in ("0", "123", "-1", INT64_MAX, INT64_MIN, "32767",
                                            "32768", "-32768", "-32769", "2147483647",
                                            "2147483648", "-2147483648", "-2147483649")]
        for order in (ints, list(reversed(ints))):
            self.check("DEL", "i")
            for m in order:
                self.check("SADD", "i", m)
                self.check_set("i")
        for m in ints:
            self.check("SREM", "i", m)
            self.check_set("i")

    def test_conversions(self):
        self.check("SADD", "s", *numbers(1, 10))
        self.check_set("s")
        self.check("SADD", "s", "a")
        self.check_set("s")
        self.check("SREM", "s", "a")
        self.check_set("s")  # never back to an intset
        # The size limit, exactly at 512 and past it.
        self.check("SADD", "big", *numbers(1, 512))
        self.check_set("big")
        self.check("SADD", "big", "512")
        self.check_set("big")
        self.check("SADD", "big", "513")
        self.check_set("big")
        self.check("SREM", "big", "513", "1", "2")
        self.check_set("big")
        # One SADD that crosses the limit on the way.
        self.check("SADD", "cross", *numbers(1, 600))
        self.check_set("cross")

    def test_config_set_max_intset_entries(self):
        self.check("CONFIG", "GET", "set-max-intset-entries")
        for limit in ("0", "1", "3", "5"):
            self.set_both("set-max-intset-entries", limit)
            self.check("CONFIG", "GET", "set-max-intset-entries")
            key = "k" + limit
            for i in range(1, 8):
                self.check("SADD", key, str(i))
                self.check_set(key)
        # A lower limit leaves existing intsets alone until they grow.
        self.set_both("set-max-intset-entries", "512")
        self.check("SADD", "keep", *numbers(1, 10))
        self.set_both("set-max-intset-entries", "4")
        self.check_set("keep")
        self.check("SADD", "keep", "1")
        self.check_set("keep")
        self.check("SADD", "keep", "11")
        self.check_set("keep")
        # Destinations follow the limit too.
        self.check("SADD", "a", *numbers(1, 6))
        self.check("SUNIONSTORE", "u", "a")
        self.check_set("u")
        self.check("SINTERSTORE", "i", "a", "a")
        self.check_set("i")
        for bad in ("-1", "abc", "1.5"):
            self.check("CONFIG", "SET", "set-max-intset-entries", bad)

    def test_store_destination_encodings(self):
        # Results are built from an empty intset in Redis's order: integers only make an intset
        # whatever the sources' encodings.
        self.check("SADD", "h", "x", *numbers(1, 5))
        self.check("SADD", "i", *numbers(3, 8))
        self.check("SADD", "s", "x", "y", "3")
        for cmd in (["SINTERSTORE", "d", "h", "i"], ["SINTERSTORE", "d", "h", "s"],
                    ["SUNIONSTORE", "d", "i"], ["SUNIONSTORE", "d", "i", "h"],
                    ["SDIFFSTORE", "d", "h", "s"], ["SDIFFSTORE", "d", "s", "h"],
                    ["SDIFFSTORE", "d", "h", "i", "s"], ["SDIFFSTORE", "d", "i", "h"]):
            self.check(*cmd)
            self.check_set("d")
        # SDIFF with many small subtrahends adds the whole first set and then removes: a result
        # of 510 members stays a hashtable; one big subtrahend goes member by member.
        self.check("SADD", "a", *numbers(1, 600))
        keys = []
        for i in range(9):
            keys.append("b%d" % i)
            self.check("SADD", keys[-1], *numbers(i * 10 + 1, i * 10 + 10))
        self.check("SDIFFSTORE", "d", "a", *keys)
        self.check_set("d")
        self.check("SADD", "c", *numbers(91, 600))
        self.check("SDIFFSTORE", "d", "a", "c")
        self.check_set("d")
        self.check("SDIFFSTORE", "d", "a", "c", *keys)
        self.check_set("d")
        self.check_unordered("SDIFF", "a", *keys)
        self.check("SDIFF", "a", "c")
        # SUNIONSTORE of a hashtable of integers rebuilds it as an intset.
        self.check("SADD", "hi", "x", *numbers(1, 20))
        self.check("SREM", "hi", "x")
        self.check("SUNIONSTORE", "d", "hi")
        self.check_set("d")
        self.check("SUNION", "hi", "missing")
        # Too many for an intset.
        self.check("SUNIONSTORE", "d", "a", "c")
        self.check_set("d")


class SetMove(SetCase):
    def test_smove(self):
        self.seq("""
            SADD src 1 2 a; SADD dst x; SMOVE src dst a; SMOVE src dst a; SMOVE missing dst a
            SMOVE src new 1; OBJECT ENCODING new; SADD new 2; SMOVE src new 2; EXISTS src
            SMEMBERS new; SMOVE new new 1; SMOVE new new 9; SMOVE new missing 9; EXISTS missing
            SADD s2 b; SMOVE dst s2 x; SMOVE dst s2 a; EXISTS dst; SMOVE s2 s3 b
            """)
        self.check_set("s2")
        self.check_set("s3")
        # Moving a string into an intset converts it; an integer into a new key makes an intset.
        self.seq("SADD ints 1 2; SADD strs a 5; SMOVE strs ints a; SMOVE strs fresh 5")
        self.check_set("ints")
        self.check_set("fresh")
        # Past the limit.
        self.set_both("set-max-intset-entries", "2")
        self.seq("SADD lim 1 2; SADD from 3; SMOVE from lim 3")
        self.check_set("lim")


class SetAlgebra(SetCase):
    def setUp(self):
        super().setUp()
        self.seq("""
            SADD a 1 2 3 4; SADD b 2 3 4 5 6; SADD c 3 4 x; SADD d x y z; SADD e 4
            """)

    def test_sinter(self):
        self.check("SINTER", "a", "b")
        self.check("SINTER", "a", "e")
        self.check("SINTER", "a", "a")
        self.check("SINTER", "a")
        self.check("SMEMBERS", "a")
        self.check_unordered("SINTER", "a", "b", "c")
        self.check_unordered("SINTER", "c", "d")
        self.check_unordered("SINTER", "d", "d")
        self.check("SINTER", "a", "d")
        self.check("SINTER", "a", "missing")
        self.check("SINTER", "missing", "a")
        self.check("SINTER", "missing")
        # Sets of equal size keep their order (glibc's qsort is a merge sort): the first one
        # named drives the iteration, and an intset replies sorted.
        self.seq("SADD i3 3 1 2; SADD h3 x 1 2 3; SREM h3 x; SADD h4 x 1 2 3 4; SREM h4 x 4")
        self.check("SINTER", "i3", "h3")
        self.check("SINTER", "i3", "h3", "h4")
        self.check_unordered("SINTER", "h3", "i3")
        self.check("SINTERSTORE", "r", "h3", "i3")
        self.check_set("r")

    def test_sintercard(self):
        self.seq("""
            SINTERCARD 2 a b; SINTERCARD 3 a b c; SINTERCARD 1 a; SINTERCARD 2 a missing
            SINTERCARD 2 a b LIMIT 2; SINTERCARD 2 a b LIMIT 0; SINTERCARD 2 a b limit 100
            SINTERCARD 2 a b LIMIT 5 LIMIT 1; SINTERCARD 2 c d LIMIT 1; SINTERCARD 1 d LIMIT 2
            SINTERCARD 0 a; SINTERCARD -1 a; SINTERCARD x a; SINTERCARD 1.5 a; SINTERCARD 3 a b
            SINTERCARD 9223372036854775807 a; SINTERCARD 9223372036854775808 a
            SINTERCARD 1 a LIMIT; SINTERCARD 1 a LIMIT -1; SINTERCARD 1 a LIMIT x
            SINTERCARD 1 a LIMIT 1.5; SINTERCARD 1 a b; SINTERCARD 1 a FOO 1; SINTERCARD 2 a
            """)
        self.check("SINTERCARD", "1", "a", "LIMIT", INT64_MAX)
        self.check("SINTERCARD", "1", "a", "LIMIT", "9223372036854775808")

    def test_sinterstore(self):
        self.check("SINTERSTORE", "r", "a", "b")
        self.check_set("r")
        self.check("SINTERSTORE", "r", "c", "d")
        self.check_set("r")
        self.check("SINTERSTORE", "r", "b", "c", "a")
        self.check_set("r")
        self.seq("""
            SINTERSTORE r a missing; EXISTS r; SINTERSTORE r a missing; SINTERSTORE r a d
            SET str v EX 100; SINTERSTORE str a b; TTL str; TYPE str; SINTERSTORE a a b
            SMEMBERS a; SINTERSTORE a a missing; EXISTS a
            """)

    def test_sunion(self):
        self.check("SUNION", "a", "b")
        self.check("SUNION", "a", "missing", "e")
        self.check_unordered("SUNION", "a", "c", "d")
        self.check("SUNION", "missing")
        self.check("SUNIONSTORE", "r", "a", "b")
        self.check_set("r")
        self.check("SUNIONSTORE", "r", "c", "d", "a")
        self.check_set("r")
        self.seq("SUNIONSTORE r missing; EXISTS r; SUNIONSTORE a a b; SMEMBERS a")

    def test_sdiff(self):
        self.check("SDIFF", "a", "b")
        self.check("SDIFF", "b", "a")
        self.check("SDIFF", "a", "a")
        self.check("SDIFF", "a", "missing")
        self.check("SDIFF", "missing", "a")
        self.check("SDIFF", "a", "b", "c", "e")
        self.check_unordered("SDIFF", "c", "a")
        self.check_unordered("SDIFF", "d", "c", "missing")
        self.check("SDIFFSTORE", "r", "b", "a")
        self.check_set("r")
        self.check("SDIFFSTORE", "r", "d", "c")
        self.check_set("r")
        self.seq("SDIFFSTORE r a a; EXISTS r; SDIFFSTORE r missing a; SDIFFSTORE b b a; SMEMBERS b")


class SetRandom(SetCase):
    def members(self, key):
        return set(decode(self.r.call("SMEMBERS", key)) or [])

    def test_spop(self):
        self.seq("""
            SPOP missing; SPOP missing 0; SPOP missing 3; SPOP missing -1; SPOP missing x
            SPOP missing 1.5; SPOP missing 9223372036854775808; SADD one x; SPOP one; EXISTS one
            SADD one 5; SPOP one 0; SPOP one 1; EXISTS one; SADD s 1 2 3; SPOP s -1; SPOP s x
            """)
        # The whole set: the reply is a rebuilt copy (sorted when that is an intset), the key
        # deleted.
        self.check("SADD", "whole", "3", "1", "2")
        self.check("SPOP", "whole", "3")
        self.check("EXISTS", "whole")
        self.check("SADD", "whole", "3", "1", "2")
        self.check("SPOP", "whole", "100")
        self.check("SADD", "hi", "x", *numbers(1, 5))
        self.check("SREM", "hi", "x")
        self.check("SPOP", "hi", "5")
        self.check("SADD", "hs", "a", "b", "c")
        self.check_unordered("SPOP", "hs", "3")
        self.check("EXISTS", "hs")
        # Partial pops: each server picks its own members, so the sets are rebuilt alike after
        # every step from the members redis kept.
        for values in (numbers(1, 30), ["m%d" % i for i in range(30)],
                       numbers(1, 600), numbers(1, 15) + ["a", "b"]):
            for count in (None, "1", "3", "10", "20", "25"):
                self.check("DEL", "p")
                self.check("SADD", "p", *values)
                before = self.members("p")
                if count is None:
                    self.check_random_reply(["SPOP", "p"], before, True, None)
                else:
                    self.check_random_reply(["SPOP", "p", count], before, True,
                                            min(int(count), len(values)))
                self.check("SCARD", "p")
                homogeneous = all(v.isdigit() for v in values) or not any(
                    v.isdigit() for v in values)
                if homogeneous:  # else the survivors decide the encoding
                    self.check("OBJECT", "ENCODING", "p")
        # 600 integers are a hashtable; popping 590 rebuilds an intset from the survivors (and
        # keeps the TTL).
        self.check("DEL", "p")
        self.check("SADD", "p", *numbers(1, 600))
        self.check("EXPIRE", "p", "1000")
        self.check_random_reply(["SPOP", "p", "590"], {v.encode() for v in numbers(1, 600)},
                                True, 590)
        self.check("OBJECT", "ENCODING", "p")
        self.check("SCARD", "p")
        self.check("TTL", "p")

    def test_srandmember(self):
        self.seq("""
            SRANDMEMBER missing; SRANDMEMBER missing 0; SRANDMEMBER missing 5
            SRANDMEMBER missing -5; SRANDMEMBER missing x; SRANDMEMBER missing 1.5
            SRANDMEMBER missing -9223372036854775808; SRANDMEMBER missing 9223372036854775808
            SADD one x; SRANDMEMBER one; SRANDMEMBER one 1; SRANDMEMBER one -3; SRANDMEMBER one 5
            SRANDMEMBER one 0; SRANDMEMBER one -9223372036854775808; SADD i 3 1 2; SRANDMEMBER i 3
            SRANDMEMBER i 4; SRANDMEMBER i 9223372036854775807
            """)
        self.check_unordered("SRANDMEMBER", "one", "-3")
        for key, values in (("ints", numbers(1, 40)), ("strs", ["m%d" % i for i in range(40)]),
                            ("big", numbers(1, 600))):
            self.check("SADD", key, *values)
            members = set(v.encode() for v in values)
            r, k = self.both_decoded("SRANDMEMBER", key)[2:]
            with self.subTest(srandmember=key):
                self.assertIn(k, members)
            for count in (1, 2, 5, 13, 14, 20, 39, 40, 41, 100, 599, 600, 1000):
                want = min(count, len(values))
                self.check_random_reply(["SRANDMEMBER", key, str(count)], members, True, want)
                self.check_random_reply(["SRANDMEMBER", key, str(-count)], members, False, count)
            self.check("SCARD", key)
        # The whole of an intset comes sorted.
        self.check("SRANDMEMBER", "ints", "40")

    def test_resp3(self):
        p = self.resp3_pair()
        for cmd in ("SADD s 2 1", "SADD t 2 3", "SADD h a b", "SMEMBERS s", "SMEMBERS missing",
                    "SINTER s t", "SINTER s missing", "SUNION s t", "SUNION missing",
                    "SDIFF s t", "SDIFF missing t", "SPOP missing 2", "SPOP s 0", "SPOP missing",
                    "SRANDMEMBER missing", "SRANDMEMBER missing 2", "SRANDMEMBER s 2",
                    "SRANDMEMBER s 5", "SRANDMEMBER s 0", "SMISMEMBER s 1 5", "SSCAN s 0",
                    "SSCAN missing 0", "SINTERCARD 2 s t", "SCARD s", "SISMEMBER s 1",
                    "SPOP t 5", "SINTERSTORE d s s", "SMEMBERS d"):
            self.check(*cmd.split(), pair=p)
        self.check_unordered("SMEMBERS", "h", pair=p)
        self.check_unordered("SPOP", "h", "2", pair=p)
        self.check("SADD", "x", "a", "b", "c", "d", "e", "f", pair=p)
        values = {b"a", b"b", b"c", b"d", b"e", b"f"}
        self.check_random_reply(["SPOP", "x", "2"], values, True, 2, pair=p)
        self.check_random_reply(["SRANDMEMBER", "x", "-3"], values, False, 3, pair=p)
        self.check_random_reply(["SRANDMEMBER", "x", "2"], values, True, 2, pair=p)
        self.check_random_reply(["SPOP", "x", "3"], values, True, 3, pair=p)


class SetScan(SetCase):
    def test_sscan_errors_and_intsets(self):
        self.seq("""
            SSCAN missing 0; SSCAN missing 0 bogus; SSCAN missing 0 COUNT 0; SSCAN missing x
            SADD i 5 1 30 3; SSCAN i 0; SSCAN i 7 COUNT 1; SSCAN i 0 MATCH 3*; SSCAN i 0 match *
            SSCAN i 0 COUNT 0; SSCAN i 0 COUNT -1; SSCAN i 0 COUNT x; SSCAN i 0 TYPE set
            SSCAN i 0 MATCH; SSCAN i 0 COUNT; SSCAN i 0 bogus 1; SSCAN i x; SSCAN i -1
            SSCAN i 18446744073709551615; SSCAN i 18446744073709551616; SSCAN i 00
            SSCAN i 0 COUNT 1 MATCH 1 COUNT 2 MATCH 3*; SSCAN i 0 MATCH [13]*
            """)
        self.check("SSCAN", "i", "")
        self.check("SSCAN", "i", " 0")
        self.check("SSCAN", "i", "+0")

    def test_sscan_hashtables(self):
        self.check("SADD", "h", *["m%d" % i for i in range(300)])
        self.check("SADD", "small", "a", "b", "c")
        self.check("SSCAN", "h", "0", "COUNT", "0")
        for opts in ((), ("COUNT", "1"), ("COUNT", "7"), ("COUNT", "1000"), ("MATCH", "m1?"),
                     ("MATCH", "*5", "COUNT", "3"), ("MATCH", "nothing")):
            self.check_scan(*opts, command=("SSCAN", "h"))
        self.check_scan(command=("SSCAN", "small"))
        self.check("SSCAN", "small", "0", "COUNT", "1000", normalize=scan_normalized)
        self.check("SSCAN", "h", "0", "COUNT", "1000", normalize=scan_normalized)
        self.check("SADD", "big", *numbers(1, 600))
        self.check_scan("MATCH", "1*", command=("SSCAN", "big"))


class SetKeyspaceEvents(EventsMixin, SetCase):
    def setUp(self):
        super().setUp()
        self.subscribe_events()
        self.set_both("notify-keyspace-events", "KEA")

    def test_set_events(self):
        steps = [
            [("SADD", "s", "1", "2", "3"), ("SADD", "s", "1"), ("SADD", "s", "a")],
            [("SREM", "s", "9"), ("SREM", "s", "1"), ("SREM", "missing", "1")],
            [("SMOVE", "s", "d", "2"), ("SMOVE", "s", "d", "2"), ("SMOVE", "s", "s", "3"),
             ("SMOVE", "missing", "d", "1")],
            [("SADD", "d", "3"), ("SMOVE", "s", "d", "3"), ("SMOVE", "s", "d", "a")],
            [("SPOP", "d", "0"), ("SPOP", "missing"), ("SPOP", "missing", "2"),
             ("SADD", "one", "x"), ("SPOP", "one")],
            [("SADD", "p", "1", "2", "3"), ("SPOP", "p", "2"), ("SPOP", "p", "5")],
            [("SADD", "a", "1", "2"), ("SADD", "b", "2", "3"), ("SINTERSTORE", "x", "a", "b"),
             ("SUNIONSTORE", "x", "a", "b"), ("SDIFFSTORE", "y", "a", "b"),
             ("SDIFFSTORE", "x", "b", "b"), ("SINTERSTORE", "y", "a", "missing"),
             ("SINTERSTORE", "y", "a", "missing"), ("SUNIONSTORE", "z", "missing"),
             ("SDIFFSTORE", "a", "a", "b")],
            [("SINTER", "a", "b"), ("SMEMBERS", "a"), ("SRANDMEMBER", "a"), ("SCARD", "a"),
             ("SINTERCARD", "1", "a"), ("SSCAN", "a", "0"), ("SMEMBERS", "missing")],
            [("SET", "str", "v"), ("SINTERSTORE", "str", "a", "a"), ("DEL", "str")],
        ]
        for i, step in enumerate(steps):
            for cmd in step:
                if cmd[0] in ("SPOP", "SRANDMEMBER"):
                    self.both(*cmd)  # random members; the events must still match
                else:
                    self.check(*cmd)
            self.compare_events("step %d: %s" % (i, "; ".join(show(c) for c in step)))

    def test_new_and_miss_events(self):
        self.set_both("notify-keyspace-events", "KEAnm")
        for cmd in (("SADD", "s", "1"), ("SMEMBERS", "missing"), ("SISMEMBER", "missing", "x"),
                    ("SINTER", "s", "missing"), ("SUNIONSTORE", "u", "s", "missing"),
                    ("SMOVE", "s", "t", "1"), ("SRANDMEMBER", "missing"),
                    ("SSCAN", "missing", "0")):
            self.check(*cmd)
            self.compare_events(show(cmd))


# --- seeded random sequences ------------------------------------------------------------------

KEYS = ["s0", "s1", "s2", "str"]
VALUES = ["a", "b", "c", "1", "2", "3", "10", "-5", "-0", "007", INT64_MAX, INT64_MIN,
          "12345678901234567890", "", "x" * 40, BIN, "3.5", "40000", "-3000000000"]

# Replies whose element order is the table's.
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF"}


class Generator:
    """Random set commands (and a few others) over KEYS; some fail, on purpose."""

    WEIGHTS = {"add": 10, "rem": 5, "member": 4, "card": 2, "members": 4, "move": 3, "inter": 3,
               "intercard": 2, "store": 3, "union": 3, "diff": 3, "scan": 2, "pop": 2,
               "randmember": 2, "del": 1.5, "set": 0.5, "config": 0.4, "encoding": 1.5,
               "hello": 0.2, "invalid": 0.5}

    def __init__(self, rng):
        self.rng = rng
        self.gens = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("gen_")]
        self.weights = [self.WEIGHTS[g.__name__[4:]] for g in self.gens]

    def pick(self, *choices):
        return self.rng.choice(choices)

    def key(self):
        return self.rng.choice(KEYS if self.rng.random() < 0.1 else KEYS[:3])

    def keys(self):
        return [self.key() for _ in range(self.rng.randint(1, 3))] + (
            ["missing"] if self.rng.random() < 0.1 else [])

    def value(self, key=None):
        # s0 gets integers almost only (it stays an intset for long), the others a mix.
        if self.rng.random() < (0.97 if key == "s0" else 0.5):
            return str(self.rng.randint(-20, 40))
        return self.rng.choice(VALUES)

    def gen_add(self):
        key = self.key()
        return ["SADD", key] + [self.value(key) for _ in range(self.pick(1, 1, 2, 3, 5, 20))]

    def gen_rem(self):
        key = self.key()
        return ["SREM", key] + [self.value(key) for _ in range(self.pick(1, 1, 2, 5))]

    def gen_member(self):
        if self.rng.random() < 0.5:
            return ["SISMEMBER", self.key(), self.value()]
        return ["SMISMEMBER", self.key()] + [self.value() for _ in range(self.pick(1, 2, 4))]

    def gen_card(self):
        return [self.pick("SCARD", "EXISTS", "TYPE"), self.key()]

    def gen_members(self):
        return ["SMEMBERS", self.key()]

    def gen_move(self):
        return ["SMOVE", self.key(), self.key(), self.value()]

    def gen_inter(self):
        return ["SINTER"] + self.keys()

    def gen_intercard(self):
        keys = self.keys()
        n = str(len(keys)) if self.rng.random() < 0.93 else self.pick("0", "-1", "9", "x")
        return ["SINTERCARD", n] + keys + (
            ["LIMIT", self.pick("0", "1", "2", "5", "-1", "x")] if self.rng.random() < 0.4
            else [])

    def gen_store(self):
        return [self.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), self.key()] + self.keys()

    def gen_union(self):
        return ["SUNION"] + self.keys()

    def gen_diff(self):
        return ["SDIFF"] + self.keys()

    def gen_scan(self):
        return ["SSCAN", self.key(), "0", "COUNT", "1000"] + (
            ["MATCH", self.pick("1*", "*a*", "?", "-*")] if self.rng.random() < 0.3 else [])

    def gen_pop(self):
        return ["SPOP", self.key()] + (
            [self.pick("0", "1", "2", "3", "10", "100", "-1")] if self.rng.random() < 0.6
            else [])

    def gen_randmember(self):
        return ["SRANDMEMBER", self.key()] + (
            [self.pick("0", "1", "2", "5", "100", "-1", "-3", "-10", "x")]
            if self.rng.random() < 0.7 else [])

    def gen_del(self):
        return ["DEL", self.key()]

    def gen_set(self):
        # Mostly the key meant to hold a string; a set key now and then (until a DEL).
        return ["SET", "str" if self.rng.random() < 0.9 else self.key(), "v"]

    def gen_config(self):
        return ["CONFIG", "SET", "set-max-intset-entries", self.pick("2", "3", "5", "16", "512")]

    def gen_encoding(self):
        return ["OBJECT", "ENCODING", self.key()]

    def gen_hello(self):
        return ["HELLO", self.pick("2", "3")]

    def gen_invalid(self):
        cmd = self.command()
        shorter = self.rng.random() < 0.5
        # (Never shorter than the command name: an invalid command of an invalid command may be
        # down to one word.)
        return cmd[:-1] if shorter and len(cmd) > 1 else cmd + ["extra"]

    def command(self):
        return self.rng.choices(self.gens, self.weights)[0]()


class SetRandomSequence(SetCase):
    def members(self, key):
        """The key's members on redis (an empty set when it is not a set)."""
        d = decode(self.r.call("SMEMBERS", key))
        return set(d) if isinstance(d, list) else set()

    def resync(self, key):
        """After a random pop: both servers get the set redis kept, built alike."""
        members = sorted(self.members(key))
        for c in (self.r, self.k):
            c.call("DEL", key)
            if members:
                c.call("SADD", key, *members)

    def compare(self, cmd, exp, actual):
        """Whether Keyward's reply matches redis's for `cmd`."""
        name = cmd[0].upper()
        if name == "SMEMBERS" and len(cmd) == 2 and (
                self.r.call("OBJECT", "ENCODING", cmd[1]) == b"$6\r\nintset\r\n"):
            return actual == exp  # an intset is sorted on both
        if name in UNORDERED:
            return unordered(actual) == unordered(exp)
        if name == "SSCAN":
            return scan_normalized(actual) == scan_normalized(exp)
        return actual == exp

    def test_random_sequence(self):
        env_seed = os.environ.get("KEYWARD_DIFF_SEED")
        if env_seed:
            seed = int(env_seed)
        elif os.environ.get("CI"):
            seed = 20261206
        else:
            seed = int(time.time() * 1000) % 1000000007
        count = int(os.environ.get("KEYWARD_SET_COMMANDS", "1500"))
        print("\nrandom set sequence: KEYWARD_DIFF_SEED=%d, %d commands" % (seed, count),
              file=sys.stderr)
        rng = random.Random(seed)
        gen = Generator(rng)
        history = []

        def fail(what, cmd, exp, actual):
            recent = "\n".join("  " + show(c) for c in history[-25:])
            self.fail("random set sequence diverged at command #%d (replay with "
                      "KEYWARD_DIFF_SEED=%d): %s\nlast commands:\n%s\ncommand: %s\n"
                      "redis:   %r\nkeyward: %r"
                      % (len(history), seed, what, recent, show(cmd), exp, actual))

        while len(history) < count:
            cmd = gen.command()
            name = cmd[0].upper()
            random_cmd = name in ("SPOP", "SRANDMEMBER")
            before = self.members(cmd[1]) if random_cmd and len(cmd) > 1 else set()
            data = encode_command(*cmd)
            self.r.send(data)
            exp = self.r.read_reply()
            self.k.send(data)
            try:
                actual = self.k.read_reply()
            except (ConnectionClosed, OSError) as e:
                actual = ("<connection lost: %s>" % e).encode()
            history.append(cmd)
            if name == "HELLO":
                if exp[:1] != actual[:1]:
                    fail("HELLO reply type", cmd, exp, actual)
                continue
            if not random_cmd:
                if not self.compare(cmd, exp, actual):
                    fail("reply", cmd, exp, actual)
                continue
            # SPOP / SRANDMEMBER: the same shape, members of the set as it was.
            if exp[:1] != actual[:1]:
                fail("reply type", cmd, exp, actual)
            e, a = decode(exp), decode(actual)
            if isinstance(e, list):
                if len(a) != len(e):
                    fail("reply length", cmd, exp, actual)
                if not set(a) <= before:
                    fail("members not in the set", cmd, exp, actual)
                positive = len(cmd) == 3 and not cmd[2].startswith("-")
                if positive and len(set(a)) != len(a):
                    fail("repeated members", cmd, exp, actual)
            elif exp[:1] == b"$" and e is not None:
                if a not in before:
                    fail("member not in the set", cmd, exp, actual)
            elif actual != exp:  # nil, an error
                fail("reply", cmd, exp, actual)
            if name == "SPOP" and exp[:1] != b"-":
                card = (self.r.call("SCARD", cmd[1]), self.k.call("SCARD", cmd[1]))
                if card[0] != card[1]:
                    fail("SCARD after SPOP", cmd, card[0], card[1])
                self.resync(cmd[1])
        for key in KEYS[:3]:
            self.check_set(key)


if __name__ == "__main__":
    unittest.main(verbosity=2)
