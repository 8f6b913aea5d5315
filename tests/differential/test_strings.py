"""Differential tests of the string commands (GET, SET ... LCS): Keyward vs redis-server 7.0.15,
raw replies compared byte for byte."""

import unittest

from diff_support import DiffCase

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"


class StringGetSet(DiffCase):
    def test_get_set_basic(self):
        self.check_seq("""
            GET missing
            SET k v
            GET k
            SET k v2
            GET k
            SET n 12345
            GET n
            SET neg -17
            GET neg
            SET big 123456789012345678901234567890
            GET big
            STRLEN k
            STRLEN n
            STRLEN missing
            """)
        self.check("SET", "empty", "")
        self.check("GET", "empty")
        self.check("STRLEN", "empty")
        self.check("SET", "bin", b"\x00\x01\xff\r\n\x00")
        self.check("GET", "bin")
        self.check("SET", b"key\x00with\r\nnul", "x")
        self.check("GET", b"key\x00with\r\nnul")
        self.check("SET", "long", "x" * 100000)
        self.check("GET", "long")
        self.check("STRLEN", "long")
        self.check("set", "Lower", "case")
        self.check("gEt", "Lower")

    def test_set_options(self):
        self.check_seq("""
            SET k v NX
            SET k v2 NX
            GET k
            SET k v3 XX
            GET k
            SET missing v XX
            GET missing
            SET k v4 GET
            SET missing2 v GET
            GET missing2
            SET k v5 NX GET
            SET k v6 XX GET
            SET nk v7 NX GET
            SET nk2 v8 XX GET
            EXISTS nk2
            SET k v nx
            SET k v xx get
            """)

    def test_set_expire_options(self):
        self.check_seq("""
            SET k v EX 100
            TTL k
            SET k v PX 100000
            TTL k
            SET k v EXAT 99999999999
            EXPIRETIME k
            SET k v PXAT 99999999999123
            PEXPIRETIME k
            EXPIRETIME k
            SET k v2 KEEPTTL
            PEXPIRETIME k
            GET k
            SET k v3
            TTL k
            SET k v EX 100 GET
            SET k v KEEPTTL GET
            TTL k
            SET k v EXAT 1
            GET k
            EXISTS k
            SET k v PXAT 1 GET
            SET k v PX 100000 NX
            SET k v PX 100000 XX
            TTL k
            """)

    def test_set_errors(self):
        self.check_seq("""
            SET k v NX XX
            SET k v XX NX
            SET k v EX 10 PX 10
            SET k v EX 10 EX 10
            SET k v EX 10 KEEPTTL
            SET k v KEEPTTL PX 10
            SET k v EX
            SET k v PX
            SET k v EXAT
            SET k v PXAT
            SET k v EX 0
            SET k v EX -1
            SET k v PX 0
            SET k v PX -5
            SET k v EXAT 0
            SET k v PXAT 0
            SET k v EX abc
            SET k v EX 1.5
            SET k v EX 9223372036854775807
            SET k v EX 9223372036854775
            SET k v EX 9223372036854776
            SET k v PX 9223372036854775807
            SET k v EXAT 9223372036854775807
            SET k v PXAT 9223372036854775807
            SET k v EX 99999999999999999999
            SET k v FOO
            SET k v GET GET
            SET k v NX NX
            SET k
            SET
            GET
            GET a b
            EXISTS k
            """)

    def test_setnx_setex_psetex_getset(self):
        self.check_seq("""
            SETNX k v
            SETNX k v2
            GET k
            SETEX k 100 v3
            GET k
            TTL k
            SETEX k 0 v
            SETEX k -10 v
            SETEX k abc v
            SETEX k 9223372036854775807 v
            PSETEX k 100000 v4
            GET k
            TTL k
            PSETEX k 0 v
            PSETEX k -1 v
            PSETEX k 9223372036854775807 v
            GETSET k v5
            TTL k
            GETSET newkey v
            GET newkey
            SETNX k
            SETEX k 10
            PSETEX k
            GETSET k
            """)

    def test_getdel_getex(self):
        self.check_seq("""
            SET k v
            GETDEL k
            GETDEL k
            EXISTS k
            GETEX missing
            GETEX missing EX 10
            SET k v
            GETEX k
            TTL k
            GETEX k EX 100
            TTL k
            GETEX k PX 200000
            TTL k
            GETEX k EXAT 99999999999
            EXPIRETIME k
            GETEX k PXAT 99999999999999
            PEXPIRETIME k
            GETEX k PERSIST
            TTL k
            GETEX k EX 0
            GETEX k EX -1
            GETEX k PX 0
            GETEX k EXAT 0
            GETEX k EX abc
            GETEX k EX 9223372036854775807
            GETEX k EX 10 PX 10
            GETEX k EX 10 PERSIST
            GETEX k PERSIST EX 10
            GETEX k EX
            GETEX k FOO
            GETEX k KEEPTTL
            GETEX k NX
            GETEX k EXAT 1
            EXISTS k
            GETDEL
            GETDEL a b
            GETEX
            """)

    def test_mget_mset_msetnx(self):
        self.check_seq("""
            MSET a 1 b 2 c 3
            MGET a b c missing a
            MSET a 10 a 11
            GET a
            MSET a
            MSET a 1 b
            MSET
            MGET
            MSETNX a 5 d 4
            EXISTS d
            MSETNX d 4 e 5
            MGET d e
            MSETNX d
            MSETNX x 1 x 2
            GET x
            """)

    def test_append_strlen(self):
        self.check_seq("""
            APPEND k hello
            APPEND k world
            GET k
            STRLEN k
            SET n 100
            APPEND n 5
            GET n
            INCR n
            APPEND n abc
            STRLEN n
            APPEND
            APPEND k
            STRLEN
            """)
        self.check("APPEND", "e", "")
        self.check("EXISTS", "e")
        self.check("GET", "e")


class StringIntegers(DiffCase):
    def test_incr_decr(self):
        self.check_seq("""
            INCR n
            INCR n
            DECR n
            DECR n
            DECR n
            INCRBY n 100
            INCRBY n -1000
            DECRBY n 5
            DECRBY n -5
            GET n
            SET s abc
            INCR s
            DECR s
            INCRBY s 1
            SET f 1.5
            INCR f
            SET lz 007
            INCR lz
            SET plus +5
            INCR plus
            SET mz -0
            INCR mz
            INCRBY n abc
            INCRBY n 1.0
            INCRBY n 99999999999999999999
            DECRBY n abc
            INCR
            INCR a b
            INCRBY n
            DECRBY n
            """)
        self.check("SET", "e", "")
        self.check("INCR", "e")
        self.check("SET", "sp2", " 1")
        self.check("INCR", "sp2")
        self.check("SET", "sp3", "1 ")
        self.check("INCR", "sp3")
        self.check("SET", "nl", "1\n")
        self.check("INCR", "nl")

    def test_overflow(self):
        self.check("SET", "n", INT64_MAX)
        self.check("INCR", "n")
        self.check("INCRBY", "n", "1")
        self.check("GET", "n")
        self.check("DECR", "n")
        self.check("SET", "m", INT64_MIN)
        self.check("DECR", "m")
        self.check("DECRBY", "m", "1")
        self.check("INCRBY", "m", "-1")
        self.check("INCR", "m")
        self.check("SET", "z", "0")
        self.check("DECRBY", "z", INT64_MIN)
        self.check("INCRBY", "z", INT64_MIN)
        self.check("GET", "z")
        self.check("INCRBY", "z", INT64_MAX)
        self.check("INCRBY", "z", "1")
        self.check("SET", "over", "9223372036854775808")
        self.check("INCR", "over")
        self.check("SET", "under", "-9223372036854775809")
        self.check("DECR", "under")
        self.check("INCRBY", "q", "9223372036854775808")

    def test_incrbyfloat(self):
        for cmd in (
                ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "0.1"),
                ("INCRBYFLOAT", "f", "-0.2"), ("INCRBYFLOAT", "f", "1e3"),
                ("INCRBYFLOAT", "f", "5.0e3"), ("INCRBYFLOAT", "f", "-7000"),
                ("GET", "f"), ("INCRBYFLOAT", "g", "3"), ("GET", "g"),
                ("INCRBYFLOAT", "g", "0.0"), ("INCRBYFLOAT", "h", "1.1"),
                ("INCRBYFLOAT", "h", "2.2"), ("INCRBYFLOAT", "i", "10.50"),
                ("INCRBYFLOAT", "j", "1e-10"), ("INCRBYFLOAT", "j", "1e20"),
                ("INCRBYFLOAT", "k", "-0"), ("INCRBYFLOAT", "l", "123456789.123456789"),
                ("INCRBYFLOAT", "m", "0x10"), ("INCRBYFLOAT", "m", "abc"),
                ("INCRBYFLOAT", "m", "inf"), ("INCRBYFLOAT", "m", "-inf"),
                ("INCRBYFLOAT", "m", "nan"), ("INCRBYFLOAT", "m", "1e400"),
                ("INCRBYFLOAT", "m", ""), ("INCRBYFLOAT", "m", " 1"),
                ("INCRBYFLOAT", "m", "1 "), ("SET", "big", "1e308"),
                ("INCRBYFLOAT", "big", "1e308"), ("INCRBYFLOAT", "big", "1e308"),
                ("SET", "s", "abc"), ("INCRBYFLOAT", "s", "1"), ("SET", "n", "5"),
                ("INCRBYFLOAT", "n", "2.5"), ("INCRBY", "n", "1"), ("INCRBYFLOAT", "n", "-7.5"),
                ("INCR", "n"), ("SET", "sci", "1.5e2"), ("INCRBYFLOAT", "sci", "1"),
                ("INCRBYFLOAT", "tiny", "0.0000001"), ("INCRBYFLOAT", "p", "+3"),
                ("INCRBYFLOAT", "big2", "9223372036854775807"),
                ("INCRBYFLOAT", "big2", "1"),
                ("INCRBYFLOAT",), ("INCRBYFLOAT", "f"), ("INCRBYFLOAT", "f", "1", "2")):
            self.check(*cmd)


class StringRanges(DiffCase):
    def test_getrange_substr(self):
        self.check("SET", "k", "Hello, World")
        for start, end in ((0, 4), (0, -1), (-5, -1), (-100, 100), (5, 3), (100, 200),
                           (-1, -5), (0, 0), (-1, -1), (11, 11), (12, 12), (3, -100),
                           ("9223372036854775807", "9223372036854775807"),
                           ("-9223372036854775808", "9223372036854775807")):
            self.check("GETRANGE", "k", start, end)
            self.check("SUBSTR", "k", start, end)
        self.check_seq("""
            GETRANGE missing 0 -1
            SET n 1234567
            GETRANGE n 1 3
            GETRANGE n -2 -1
            GETRANGE k a 1
            GETRANGE k 0 b
            GETRANGE k 0
            GETRANGE k 0 1 2
            SET e x
            GETRANGE e 0 -1
            """)
        self.check("SET", "empty", "")
        self.check("GETRANGE", "empty", "0", "-1")
        self.check("GETRANGE", "empty", "0", "0")

    def test_setrange(self):
        self.check_seq("""
            SETRANGE k 0 Hello
            GET k
            SETRANGE k 6 World
            GET k
            STRLEN k
            SETRANGE k 1 a
            GET k
            SETRANGE k 100 x
            STRLEN k
            SETRANGE k -1 x
            SETRANGE k abc x
            SETRANGE k 536870912 x
            SETRANGE k 9223372036854775807 x
            SETRANGE n 0 1
            SET n 1234
            SETRANGE n 2 x
            GET n
            SET num 42
            SETRANGE num 5 !
            GET num
            SETRANGE
            SETRANGE k 0
            """)
        self.check("GET", "k")
        self.check("SETRANGE", "missing", "0", "")
        self.check("EXISTS", "missing")
        self.check("SETRANGE", "missing", "10", "")
        self.check("EXISTS", "missing")
        self.check("SETRANGE", "k", "2", "")
        self.check("SETRANGE", "k", "536870912", "")
        self.check("SETRANGE", "missing", "536870912", "")
        self.check("SETRANGE", "missing", "-1", "")


class StringLcs(DiffCase):
    def test_lcs(self):
        self.check("MSET", "key1", "ohmytext", "key2", "mynewtext", "e", "", "n1", "12345",
                   "n2", "2345678")
        for cmd in (
                ("LCS", "key1", "key2"), ("LCS", "key1", "key2", "LEN"),
                ("LCS", "key1", "key2", "IDX"), ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"),
                ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
                ("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
                ("LCS", "key1", "key2", "WITHMATCHLEN", "IDX"),
                ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "0"),
                ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-3"),
                ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "abc"),
                ("LCS", "key1", "key2", "IDX", "MINMATCHLEN"),
                ("LCS", "key1", "key2", "LEN", "IDX"), ("LCS", "key1", "key2", "IDX", "LEN"),
                ("LCS", "key1", "key2", "LEN", "MINMATCHLEN", "2"),
                ("LCS", "key1", "key2", "WITHMATCHLEN"), ("LCS", "key1", "key2", "FOO"),
                ("LCS", "key1", "missing"), ("LCS", "missing", "missing2"),
                ("LCS", "missing", "missing2", "LEN"), ("LCS", "missing", "key1", "IDX"),
                ("LCS", "key1", "key1"), ("LCS", "key1", "key1", "IDX", "WITHMATCHLEN"),
                ("LCS", "e", "key1"), ("LCS", "e", "key1", "IDX"),
                ("LCS", "n1", "n2"), ("LCS", "n1", "n2", "IDX", "WITHMATCHLEN"),
                ("LCS", "key1"), ("LCS",), ("lcs", "key1", "key2", "len")):
            self.check(*cmd)
        self.check("MSET", "a", "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA", "b", "GTCGTTCGGAATGCCGTTGCTCTGTAAA")
        self.check("LCS", "a", "b")
        self.check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
        self.check("LCS", "a", "b", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN")


class StringResp3(DiffCase):
    """The same string commands after HELLO 3: nulls and maps change encoding."""

    def setUp(self):
        super().setUp()
        self.r.call("HELLO", "3")
        self.k.call("HELLO", "3")

    def test_resp3_replies(self):
        self.check_seq("""
            GET missing
            SET k v
            GET k
            SET k v2 GET
            SET missing2 v NX GET
            MGET k missing
            GETEX missing
            GETDEL missing
            INCRBYFLOAT f 1.5
            INCR n
            SET k v XX NX
            """)
        self.check("MSET", "key1", "ohmytext", "key2", "mynewtext")
        self.check("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN")
        self.check("LCS", "key1", "key2", "IDX")
        self.check("LCS", "key1", "key2", "LEN")


if __name__ == "__main__":
    unittest.main(verbosity=2)
