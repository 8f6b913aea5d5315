"""Differential tests of LOLWUT: Keyward vs redis-server 7.0.15.

The drawings are random (rand() in Redis, the server's random source in Keyward) except where
Redis draws nothing at random, and those are compared byte for byte: the version line alone, a
"Schotter" of at most two rows of squares (the first two rows are never moved), a skyline one
pixel high (no building is taller than 0), and every argument error. The random drawings are
compared by shape: the same lines of the same widths, drawn with the same characters (Braille
cells, or the four colour cells), the same closing lines, and Schotter's first rows (which the
third row's moves cannot reach) byte for byte.
"""

import re
import unittest

from diff_support import DiffCase
from keyward_harness import decode

_COLOR_CELL = re.compile(rb"\x1b\[0;(?:30;40|90;100|37;47|97;107)m \x1b\[0m")


def text_of(raw):
    """The reply's text: a bulk string, or a verbatim one without its "txt:" prefix."""
    value = decode(raw)
    if raw.startswith(b"="):
        assert value.startswith(b"txt:"), raw[:20]
        value = value[4:]
    return value


class Lolwut(DiffCase):
    def check_both_protocols(self, *cmd):
        self.check(*cmd)
        self.check(*cmd, pair=self.pair3)

    def setUp(self):
        super().setUp()
        self.pair3 = self.resp3_pair()

    def test_version_line(self):
        for cmd in (("LOLWUT",), ("lolwut",), ("LOLWUT", "VERSION"), ("LOLWUT", "foo", "bar"),
                    ("LOLWUT", "10", "20"), ("LOLWUT", "VERSION", "4"), ("LOLWUT", "version", "7"),
                    ("LOLWUT", "VERSION", "59"), ("LOLWUT", "VERSION", "-1"),
                    ("LOLWUT", "VERSION", "0"), ("LOLWUT", "VERSION", "4294967297", "x")):
            self.check_both_protocols(*cmd)

    def test_argument_errors(self):
        for cmd in (("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "5.0"),
                    ("LOLWUT", "VERSION", "99999999999999999999"), ("LOLWUT", "VERSION", ""),
                    ("LOLWUT", "VERSION", "5", "x"), ("LOLWUT", "VERSION", "5", "1", "x"),
                    ("LOLWUT", "VERSION", "5", "1", "1", "x"), ("LOLWUT", "VERSION", "6", "x"),
                    ("LOLWUT", "VERSION", "6", "10", "1.5"), ("LOLWUT", "VERSION", "7", "x")):
            self.check(*cmd)

    def test_schotter_without_random_rows(self):
        # At most two rows of squares: nothing is drawn at random. Columns and squares per row
        # across their limits (1..1000, 1..200), canvases too small for padding, and version
        # numbers that wrap to 5.
        for args in (("66", "8", "2"), ("66", "8", "1"), ("1", "1", "1"), ("0", "0", "0"),
                     ("-5", "-5", "-5"), ("2", "1", "1"), ("3", "2", "2"), ("10", "3", "2"),
                     ("17", "5", "2"), ("40", "201", "1"), ("1001", "2", "1"),
                     ("100", "13", "2"), ("7", "1000", "2")):
            self.check_both_protocols("LOLWUT", "VERSION", "5", *args)
        self.check_both_protocols("LOLWUT", "VERSION", "4294967301", "20", "4", "2")
        self.check_both_protocols("LOLWUT", "VERSION", "-4294967291", "10", "2", "2")
        self.check_both_protocols("LOLWUT", "version", "5", "12", "3", "2", "extra")

    def test_schotter_shape(self):
        for args in ((), ("30",), ("50", "5", "6"), ("20", "3", "12")):
            r, k = self.both("LOLWUT", "VERSION", "5", *args)
            rl, kl = text_of(r).split(b"\n"), text_of(k).split(b"\n")
            with self.subTest(args=args):
                self.assertEqual(len(kl), len(rl))
                self.assertEqual(kl[-2:], rl[-2:])  # the credit line and the empty last one
                self.assertEqual(kl[-2], b"Georg Nees - schotter, plotter on paper, 1968. "
                                         b"Redis ver. 7.0.15")
                for line_k, line_r in zip(kl[:-3], rl[:-3]):
                    chars = line_k.decode()
                    self.assertEqual(len(chars), len(line_r.decode()))
                    self.assertTrue(all(0x2800 <= ord(ch) <= 0x28FF for ch in chars), chars)
        # The default drawing's first two rows of squares (16 pixels each) stay in place: its
        # first seven lines (28 pixel rows) are Redis's.
        r, k = self.both("LOLWUT", "VERSION", "5")
        self.assertEqual(text_of(k).split(b"\n")[:7], text_of(r).split(b"\n")[:7])

    def test_skyline_one_row(self):
        # One pixel high, every building is 0 pixels tall: a white row.
        for args in (("10", "1"), ("1", "1"), ("0", "0"), ("80", "-3"), ("1001", "1"),
                     ("3", "1", "extra")):
            self.check_both_protocols("LOLWUT", "VERSION", "6", *args)
        self.check_both_protocols("LOLWUT", "VERSION", "4294967302", "5", "1")

    def test_skyline_shape(self):
        for args, rows, cols in (((), 20, 80), (("30", "12"), 12, 30), (("7", "3"), 3, 7)):
            r, k = self.both("LOLWUT", "VERSION", "6", *args)
            rl, kl = text_of(r).split(b"\n"), text_of(k).split(b"\n")
            with self.subTest(args=args):
                self.assertEqual(len(kl), len(rl))
                self.assertEqual(len(kl), rows + 3)
                self.assertEqual(kl[-3:], rl[-3:])
                self.assertTrue(kl[-2].endswith(b"Redis ver. 7.0.15"))
                for line in kl[:rows]:
                    cells = _COLOR_CELL.findall(line)
                    self.assertEqual(len(cells), cols)
                    self.assertEqual(b"".join(cells), line)
                # The top row is sky (white) in both: no building is taller than the canvas.
                self.assertEqual(kl[0], rl[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
