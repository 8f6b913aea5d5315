"""Differential tests of the bitmap commands (SETBIT ... BITFIELD_RO) against redis-server."""

import unittest

from diff_support import DiffCase


class BitmapBits(DiffCase):
    def test_setbit_getbit(self):
        self.check_seq("""
            SETBIT b 7 1
            GET b
            SETBIT b 7 0
            SETBIT b 7 0
            GETBIT b 7
            SETBIT b 0 1
            SETBIT b 100 1
            STRLEN b
            GETBIT b 100
            GETBIT b 101
            GETBIT b 1000000
            GETBIT missing 0
            SETBIT b 1 2
            SETBIT b 1 -1
            SETBIT b 1 a
            SETBIT b -1 1
            SETBIT b a 1
            SETBIT b 4294967296 1
            SETBIT b 9223372036854775807 1
            GETBIT b -1
            GETBIT b 4294967296
            GETBIT b abc
            SET s foobar
            SETBIT s 0 1
            GET s
            GETBIT s 1
            SET n 10
            SETBIT n 0 1
            GET n
            SETBIT b 1
            GETBIT b
            SETBIT
            """)

    def test_bitcount(self):
        self.check("SET", "s", "foobar")
        for args in ((), (0, 0), (1, 1), (0, -1), (-2, -1), (5, 30), (-100, 100), (3, 1),
                     (0, 0, "BYTE"), (1, 1, "BIT"), (5, 30, "BIT"), (0, -1, "bit"),
                     (-5, -1, "BIT"), (-100, -50, "BIT"), (0, 1000, "BIT"),
                     (0, 0, "FOO"), (0,), (0, 1, "BIT", "x"), ("a", 1), (0, "b"),
                     ("9223372036854775807", "-9223372036854775808"),
                     ("-9223372036854775808", "9223372036854775807", "BIT")):
            self.check("BITCOUNT", "s", *args)
        self.check("BITCOUNT", "missing")
        self.check("BITCOUNT", "missing", 0, 10)
        self.check("BITCOUNT", "missing", 0, 10, "BIT")
        self.check("BITCOUNT", "missing", 0)
        self.check("SET", "e", "")
        self.check("BITCOUNT", "e")
        self.check("BITCOUNT", "e", "0", "-1")
        self.check("SET", "ff", b"\xff" * 100)
        self.check("BITCOUNT", "ff")
        self.check("BITCOUNT", "ff", 3, 77, "BIT")
        self.check("BITCOUNT")

    def test_bitpos(self):
        self.check("SET", "z", b"\xff\xf0\x00")
        self.check("SET", "o", b"\x00\x0f\xff")
        self.check("SET", "all1", b"\xff\xff")
        self.check("SET", "all0", b"\x00\x00")
        for key in ("z", "o", "all1", "all0", "missing"):
            for args in ((0,), (1,), (0, 1), (1, 1), (0, -1), (1, -1), (0, 1, 1), (1, 1, 1),
                         (0, 2, -1), (0, 0, -1, "BIT"), (1, 7, 15, "BIT"), (0, 7, 15, "BIT"),
                         (1, -5, -1, "BIT"), (0, 3, 2), (1, 100), (0, 100), (0, 0, 100, "BIT"),
                         (1, 0, 0, "BYTE"), (0, 0, 1, "FOO"), (2,), (-1,), ("a",),
                         (1, "x"), (1, 0, "y"), (0, 0, 0, "BIT", "extra")):
                self.check("BITPOS", key, *args)
        self.check("SET", "e", "")
        self.check("BITPOS", "e", "0")
        self.check("BITPOS", "e", "1")
        self.check("BITPOS", "z")
        self.check("BITPOS")


class BitmapBitop(DiffCase):
    def test_bitop(self):
        self.check("SET", "a", "foobar")
        self.check("SET", "b", "abcdef")
        self.check("SET", "c", "x")
        self.check("SET", "e", "")
        for op in ("AND", "OR", "XOR", "and", "Or"):
            self.check("BITOP", op, "dest", "a", "b")
            self.check("GET", "dest")
            self.check("BITOP", op, "dest", "a", "c")
            self.check("GET", "dest")
            self.check("BITOP", op, "dest", "a", "missing")
            self.check("GET", "dest")
            self.check("BITOP", op, "dest", "a")
            self.check("GET", "dest")
            self.check("BITOP", op, "dest", "a", "b", "c", "e")
            self.check("GET", "dest")
        self.check("BITOP", "NOT", "dest", "a")
        self.check("GET", "dest")
        self.check("BITOP", "NOT", "dest", "a", "b")
        self.check("BITOP", "NOT", "dest", "missing")
        self.check("EXISTS", "dest")
        self.check("BITOP", "AND", "dest", "missing", "missing2")
        self.check("EXISTS", "dest")
        self.check("SET", "dest", "old")
        self.check("BITOP", "OR", "dest", "e")
        self.check("EXISTS", "dest")
        self.check("BITOP", "NAND", "dest", "a")
        self.check("BITOP", "AND", "dest")
        self.check("BITOP", "AND")
        self.check("BITOP", "AND", "a", "a", "a")
        self.check("GET", "a")
        self.check("SET", "n", "123")
        self.check("BITOP", "XOR", "n", "n", "a")
        self.check("GET", "n")
        self.check("SET", "big", "x" * 1000)
        self.check("BITOP", "AND", "d2", "big", "a")
        self.check("GET", "d2")
        self.check("BITOP", "XOR", "d2", "big", "a", "b")
        self.check("GET", "d2")


class BitmapBitfield(DiffCase):
    def test_bitfield_get_set_incrby(self):
        cmds = [
            ("BITFIELD", "bf", "SET", "i8", "0", "100"),
            ("BITFIELD", "bf", "GET", "i8", "0"),
            ("BITFIELD", "bf", "GET", "u8", "0"),
            ("BITFIELD", "bf", "GET", "u4", "0", "GET", "i4", "4", "GET", "u1", "7"),
            ("BITFIELD", "bf", "SET", "u16", "#1", "65535", "GET", "u16", "#1"),
            ("BITFIELD", "bf", "INCRBY", "i5", "100", "1"),
            ("BITFIELD", "bf", "INCRBY", "i5", "100", "15"),
            ("BITFIELD", "bf", "INCRBY", "i5", "100", "-100"),
            ("BITFIELD", "bf", "GET", "i64", "0"),
            ("BITFIELD", "bf", "GET", "u63", "0"),
            ("BITFIELD", "bf", "SET", "i64", "0", "-9223372036854775808"),
            ("BITFIELD", "bf", "GET", "i64", "0"),
            ("BITFIELD", "bf", "SET", "u63", "0", "9223372036854775807"),
            ("BITFIELD", "bf", "GET", "u63", "0"),
            ("GET", "bf"),
            ("BITFIELD", "bf"),
            ("BITFIELD", "missing", "GET", "u8", "0"),
            ("EXISTS", "missing"),
            ("BITFIELD", "bf", "get", "i8", "0", "set", "i8", "0", "1", "incrby", "i8", "0", "1"),
            ("BITFIELD", "bf", "SET", "u8", "1000", "255"),
            ("STRLEN", "bf"),
            ("BITFIELD", "bf", "SET", "u8", "#3", "1", "GET", "u8", "24"),
        ]
        for cmd in cmds:
            self.check(*cmd)

    def test_bitfield_overflow(self):
        cmds = [
            ("BITFIELD", "o", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "10"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "10"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-1000"),
            ("BITFIELD", "o", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-1"),
            ("BITFIELD", "o", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "GET", "u8", "0"),
            ("BITFIELD", "o", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "-1"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "SET", "i8", "8", "1000", "GET", "i8", "8"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "SET", "i8", "8", "-1000", "GET", "i8", "8"),
            ("BITFIELD", "o", "OVERFLOW", "FAIL", "SET", "i8", "8", "200", "GET", "i8", "8"),
            ("BITFIELD", "o", "OVERFLOW", "WRAP", "SET", "i8", "8", "200", "GET", "i8", "8"),
            ("BITFIELD", "o", "SET", "i8", "8", "-129"),
            ("BITFIELD", "o", "OVERFLOW", "FAIL", "SET", "u2", "8", "4"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807",
             "INCRBY", "i64", "0", "9223372036854775807"),
            ("BITFIELD", "o", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "9223372036854775807"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-9223372036854775808",
             "INCRBY", "i64", "0", "-9223372036854775808"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "9223372036854775807",
             "INCRBY", "u63", "0", "1"),
            ("BITFIELD", "o", "OVERFLOW", "WRAP", "INCRBY", "u63", "0", "9223372036854775807"),
            ("BITFIELD", "o", "OVERFLOW", "sat", "INCRBY", "u3", "0", "5", "OVERFLOW", "fail",
             "INCRBY", "u3", "0", "5", "OVERFLOW", "wrap", "INCRBY", "u3", "0", "5"),
            ("BITFIELD", "o", "OVERFLOW", "SAT", "INCRBY", "i1", "0", "1"),
            ("BITFIELD", "o", "OVERFLOW", "WRAP", "INCRBY", "i1", "0", "1"),
            ("GET", "o"),
        ]
        for cmd in cmds:
            self.check(*cmd)

    def test_bitfield_errors(self):
        cmds = [
            ("BITFIELD", "e", "GET", "i65", "0"),
            ("BITFIELD", "e", "GET", "u64", "0"),
            ("BITFIELD", "e", "GET", "i0", "0"),
            ("BITFIELD", "e", "GET", "u0", "0"),
            ("BITFIELD", "e", "GET", "x8", "0"),
            ("BITFIELD", "e", "GET", "i", "0"),
            ("BITFIELD", "e", "GET", "i8"),
            ("BITFIELD", "e", "GET", "i8", "-1"),
            ("BITFIELD", "e", "GET", "i8", "#-1"),
            ("BITFIELD", "e", "GET", "i8", "abc"),
            ("BITFIELD", "e", "GET", "i8", "4294967296"),
            ("BITFIELD", "e", "GET", "i8", "4294967288"),
            ("BITFIELD", "e", "GET", "i8", "#536870912"),
            ("BITFIELD", "e", "SET", "i8", "0"),
            ("BITFIELD", "e", "SET", "i8", "0", "abc"),
            ("BITFIELD", "e", "SET", "i8", "0", "1.5"),
            ("BITFIELD", "e", "INCRBY", "i8", "0"),
            ("BITFIELD", "e", "INCRBY", "i8", "0", "x"),
            ("BITFIELD", "e", "OVERFLOW", "FOO", "GET", "i8", "0"),
            ("BITFIELD", "e", "OVERFLOW"),
            ("BITFIELD", "e", "FOO"),
            ("BITFIELD", "e", "GET", "i8", "0", "FOO"),
            ("BITFIELD", "e", "SET", "i8", "0", "1", "GET", "i65", "0"),
            ("EXISTS", "e"),
            ("BITFIELD",),
            ("BITFIELD_RO", "e", "GET", "u8", "0"),
            ("BITFIELD_RO", "e", "SET", "u8", "0", "1"),
            ("BITFIELD_RO", "e", "INCRBY", "u8", "0", "1"),
            ("BITFIELD_RO", "e", "OVERFLOW", "SAT"),
            ("BITFIELD_RO", "e", "GET", "u8", "0", "FOO"),
            ("BITFIELD_RO", "e", "GET", "u64", "0"),
            ("BITFIELD_RO", "e"),
            ("BITFIELD_RO",),
        ]
        for cmd in cmds:
            self.check(*cmd)

    def test_bitfield_ro(self):
        self.check("SET", "r", "abcdefgh")
        self.check("BITFIELD_RO", "r", "GET", "u8", "0", "GET", "i16", "#1", "GET", "u63", "1")
        self.check("BITFIELD_RO", "r", "GET", "i64", "100")
        self.check("BITFIELD_RO", "missing", "GET", "i64", "0")
        self.check("SET", "num", "12345")
        self.check("BITFIELD", "num", "GET", "u8", "0", "INCRBY", "u8", "0", "1")
        self.check("GET", "num")


class BitmapResp3(DiffCase):
    def setUp(self):
        super().setUp()
        self.r.call("HELLO", "3")
        self.k.call("HELLO", "3")

    def test_resp3(self):
        self.check("BITFIELD", "o", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "4",
                   "GET", "u2", "0")
        self.check("BITFIELD", "o")
        self.check("BITFIELD_RO", "o", "GET", "u2", "0")
        self.check("BITPOS", "missing", "1")
        self.check("BITCOUNT", "missing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
