"""Differential tests of the stream commands (XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD
XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO): Keyward vs redis-server 7.0.15, raw
replies compared byte for byte.

Deterministic IDs. Redis makes a `*` ID from its clock, so the two servers would disagree. Tests
give explicit IDs, or `<ms>-*` (which only depends on the stream's last ID), and use a bare `*`
only on a stream whose last ID lies far in the future (FAR, in the year 5138): when the last ID's
milliseconds exceed the clock, Redis keeps them and increments the sequence, so `*` yields
FAR-<seq+1> on both servers. The few `*` on an ordinary stream have their reply masked.

Time fields. Idle times and delivery times (XPENDING's extended form, XINFO CONSUMERS' idle,
XINFO STREAM FULL's seen-time and the delivery times of its PELs) depend on each server's clock
and on when each ran the command: they are replaced by a placeholder before the byte comparison,
and the two values compared within LOOSE_MS instead (mask_stream_reply). Tests that need an idle
time to matter (XCLAIM / XAUTOCLAIM min-idle-time, XPENDING IDLE) make it large on purpose with
XCLAIM IDLE or TIME, and use thresholds far from every real idle time, never a value near one.

radix-tree-nodes. XINFO STREAM reports how many nodes Redis's radix tree has, an artefact of the
rax implementation. It is masked everywhere except in StreamNodes.test_radix_tree_nodes*, so that
a different count is reported once, in tests of its own, rather than in every test.
radix-tree-keys (the number of listpacks, which decides approximate trimming) is always compared.

Blocking tests order events as test_lists.py does, without sleeping: a blocking command is sent
without reading its reply, then INFO clients (blocked_clients) is polled until the server counts
one more blocked client. What happens to a blocked client after an event is learnt from Redis's
blocked-client count (settle()): a reply is then compared, or the client is unblocked with
CLIENT UNBLOCK on both servers and that reply compared.

Environment (random part, as in test_random.py):
  KEYWARD_DIFF_SEED        seed to replay (printed at the start and on failure)
  KEYWARD_STREAM_COMMANDS  commands in the random sequence (default 1500)
  KEYWARD_DIFF_EXCLUDE     comma-separated generator names not to use (xadd, xclaim, ...)
"""

import os
import random
import re
import sys
import unittest

from diff_support import (BlockingMixin, DiffCase, EventsMixin, excluded_generators, mask_hello_id,
                          random_seed, show)
from keyward_harness import ConnectionClosed, decode, encode_command

FAR = "99999999999999"  # milliseconds far in the future: `*` after FAR-n is FAR-(n+1)
U64_MAX = "18446744073709551615"
MAX_ID = U64_MAX + "-" + U64_MAX
INT64_MAX = "9223372036854775807"
BIN = b"a\r\nb\x00c\r\n\x00"
# How far apart the two servers' idle and delivery times may be (they run each command a few
# milliseconds apart; a sanitizer build on a loaded machine is slow).
LOOSE_MS = 5000
# Thresholds for idle-dependent commands: a real idle time in a test run is far below DAY_MS,
# and entries made old on purpose (XCLAIM IDLE TWO_DAYS_MS, TIME 1000) are far above it.
DAY_MS = "86400000"
TWO_DAYS_MS = "172800000"
NUMERIC = ["0", "-0", "1", "-1", "007", "123", "255", "256", "65535", "-32768", "4294967296",
           INT64_MAX, "-9223372036854775808", "9223372036854775808", "12345678901234567890",
           "3.14", "1e3", " 1", "+1", "0x10"]


# --- masking time-dependent fields ------------------------------------------------------------

class _Node:
    """One RESP value, kept so it can be written back byte for byte after masking."""

    __slots__ = ("t", "data", "kids")

    def __init__(self, t, data=None, kids=None):
        self.t, self.data, self.kids = t, data, kids


def _parse(raw, pos=0):
    t = raw[pos:pos + 1]
    eol = raw.index(b"\r\n", pos)
    head = raw[pos + 1:eol]
    p = eol + 2
    if t in (b"$", b"!", b"="):
        n = int(head)
        if n < 0:
            return _Node(t, None), p
        return _Node(t, raw[p:p + n]), p + n + 2
    if t in (b"*", b"~", b">", b"%"):
        n = int(head)
        if n < 0:
            return _Node(t, head), p
        kids = []
        for _ in range(n * 2 if t == b"%" else n):
            kid, p = _parse(raw, p)
            kids.append(kid)
        return _Node(t, None, kids), p
    return _Node(t, head, "line"), p


def _emit(node):
    if node.kids == "line":
        return node.t + node.data + b"\r\n"
    if node.t in (b"$", b"!", b"="):
        if node.data is None:
            return node.t + b"-1\r\n"
        return node.t + b"%d\r\n" % len(node.data) + node.data + b"\r\n"
    if node.kids is None:
        return node.t + node.data + b"\r\n"
    n = len(node.kids) // 2 if node.t == b"%" else len(node.kids)
    return node.t + b"%d\r\n" % n + b"".join(_emit(k) for k in node.kids)


def _items(node):
    """The elements of an aggregate (nothing for anything else)."""
    if node is None or not isinstance(node.kids, list):
        return []
    return node.kids


def _field(node, name):
    """The value of `name` in a RESP2 flat field/value list or a RESP3 map (None if absent)."""
    kids = _items(node)
    for i in range(0, len(kids) - 1, 2):
        if kids[i].kids == "line" or kids[i].t == b"$":
            if kids[i].data == name:
                return kids[i + 1]
    return None


def _mask_time(node, times):
    """Replaces an integer (a time) by a placeholder and appends it to `times`; with `times`
    None the time is left in place (compared exactly)."""
    if times is not None and node is not None and node.kids == "line" and node.t == b":":
        times.append(int(node.data))
        node.data = b"<time>"


def _word(arg):
    return (arg.decode("latin-1") if isinstance(arg, (bytes, bytearray)) else str(arg)).upper()


def mask_stream_reply(cmd, raw, nodes=False, mask_times=True):
    """Returns (raw with its time fields replaced by a placeholder, [the times]) for a reply to
    `cmd`; radix-tree-nodes is masked too unless `nodes`, the times only if `mask_times`.
    Errors and other commands' replies are returned unchanged."""
    times = []
    if not isinstance(raw, bytes) or raw[:1] not in (b"*", b"%"):
        return raw, times
    words = [_word(a) for a in cmd[:2]]
    kept = times if mask_times else None
    try:
        node, end = _parse(raw)
        if end != len(raw):
            return raw, times
        if words == ["XINFO", "STREAM"]:
            count = _field(node, b"radix-tree-nodes")
            if not nodes and count is not None and count.kids == "line":
                count.data = b"<nodes>"
            for group in _items(_field(node, b"groups")):
                for entry in _items(_field(group, b"pending")):
                    _mask_time(_items(entry)[2] if len(_items(entry)) == 4 else None, kept)
                for consumer in _items(_field(group, b"consumers")):
                    _mask_time(_field(consumer, b"seen-time"), kept)
                    _mask_time(_field(consumer, b"active-time"), kept)
                    for entry in _items(_field(consumer, b"pending")):
                        _mask_time(_items(entry)[1] if len(_items(entry)) == 3 else None, kept)
        elif words == ["XINFO", "CONSUMERS"]:
            for consumer in _items(node):
                _mask_time(_field(consumer, b"idle"), kept)
                _mask_time(_field(consumer, b"inactive"), kept)
        elif words[0] == "XPENDING" and len(cmd) > 3:
            for entry in _items(node):
                if len(_items(entry)) == 4:
                    _mask_time(entry.kids[2], kept)
        else:
            return raw, times
        return _emit(node), times
    except (ValueError, IndexError):
        return raw, times


def times_close(expected, actual):
    return (len(expected) == len(actual) and
            all(abs(e - a) <= LOOSE_MS for e, a in zip(expected, actual)))


_ID_REPLY = re.compile(rb"\$\d+\r\n\d+-\d+\r\n")


def mask_ids(raw):
    """Replaces every ID-looking bulk string (for the replies of `*` on an ordinary stream)."""
    return _ID_REPLY.sub(b"<id>", raw) if isinstance(raw, bytes) else raw


# --- the base class ---------------------------------------------------------------------------

class StreamCase(BlockingMixin, DiffCase):
    """Restores the configuration the tests change, waits for clients blocked by an earlier test
    to be gone, and compares stream replies with their time fields masked."""

    RESTORE_CONFIG = (("stream-node-max-entries", "100"), ("stream-node-max-bytes", "4096"),
                      ("notify-keyspace-events", ""))

    def xcheck(self, *cmd, pair=None, nodes=False):
        """check() with idle and delivery times masked and compared within LOOSE_MS."""
        seen = []

        def normalize(raw):
            masked, times = mask_stream_reply(cmd, raw, nodes)
            seen.append(times)
            return masked

        expected = self.check(*cmd, pair=pair, normalize=normalize)
        if len(seen) == 2 and (seen[0] or seen[1]):
            with self.subTest(cmd=show(cmd), times=True):
                self.assertTrue(times_close(seen[0], seen[1]),
                                "times of %s: redis %r, keyward %r" % (show(cmd), seen[0], seen[1]))
        return expected

    def xseq(self, text, pair=None):
        """check_seq() through xcheck()."""
        for line in text.replace(";", "\n").strip().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self.xcheck(*line.split(), pair=pair)

    def check_many(self, cmds, pair=None):
        """Pipelines `cmds` (in batches) to both servers and compares every reply; reports the
        first few mismatches only."""
        r, k = pair or (self.r, self.k)
        cmds = list(cmds)
        failures = 0
        for i in range(0, len(cmds), 200):
            batch = cmds[i:i + 200]
            data = b"".join(encode_command(*c) for c in batch)
            r.send(data)
            expected = r.read_replies(len(batch))
            k.send(data)
            for cmd, exp in zip(batch, expected):
                try:
                    actual = k.read_reply()
                except (ConnectionClosed, OSError) as e:
                    with self.subTest(cmd=show(cmd)):
                        self.fail("connection lost at %s: %s" % (show(cmd), e))
                    return
                if actual != exp and failures < 5:
                    failures += 1
                    with self.subTest(cmd=show(cmd)):
                        self.assertEqual(actual, exp, "command %s" % show(cmd))

    def xadd_many(self, key, ids, fields=None):
        """XADDs one entry per ID (pipelined, replies compared); `fields(i)` gives the i-th
        entry's field/value list."""
        fields = fields or (lambda i: ["f", "v%d" % i])
        self.check_many([["XADD", key, i] + list(fields(n)) for n, i in enumerate(ids)])

    def info(self, key, *extra, pair=None):
        return self.xcheck("XINFO", "STREAM", key, *extra, pair=pair)

    def state(self, key, pair=None):
        """Everything a stream shows: entries, length, XINFO STREAM (also FULL), its groups."""
        self.xcheck("XRANGE", key, "-", "+", pair=pair)
        self.xcheck("XLEN", key, pair=pair)
        self.info(key, pair=pair)
        self.info(key, "FULL", "COUNT", "0", pair=pair)
        self.xcheck("XINFO", "GROUPS", key, pair=pair)

    def group_state(self, key, group, pair=None):
        self.xcheck("XINFO", "GROUPS", key, pair=pair)
        self.xcheck("XINFO", "CONSUMERS", key, group, pair=pair)
        self.xcheck("XPENDING", key, group, pair=pair)
        self.xcheck("XPENDING", key, group, "-", "+", "1000", pair=pair)

    def dump(self, key):
        """DUMP on both, compared byte for byte (for streams whose payload holds no times)."""
        return decode(self.check("DUMP", key))

    @staticmethod
    def client_ids(pair):
        return [decode(c.call("CLIENT", "ID")) for c in pair]

    def unblock(self, ids, *mode):
        """CLIENT UNBLOCK of the clients `ids` (redis's, Keyward's), replies compared."""
        replies = [ctl.call("CLIENT", "UNBLOCK", i, *mode)
                   for ctl, i in ((self.r, ids[0]), (self.k, ids[1]))]
        with self.subTest(unblock=mode):
            self.assertEqual(replies[1], replies[0], "CLIENT UNBLOCK %s" % (mode,))

    def settle(self, pair, ids, blocked_before):
        """After an event that may or may not have served the blocked client of `pair`: if it is
        still blocked on redis (redis counts as many blocked clients as before), it is unblocked
        with CLIENT UNBLOCK ... ERROR on both; then its reply is compared either way."""
        self.check_blocked()
        if (self.blocked_count(self.r) or 0) >= blocked_before:
            self.unblock(ids, "ERROR")
        self.reply(pair)
        self.check_blocked()


# --- XADD -------------------------------------------------------------------------------------

class StreamAdd(StreamCase):
    def test_explicit_ids(self):
        self.xseq("""
            XADD s 1-1 f v; XADD s 1-2 f v; XADD s 1-2 f v; XADD s 1-1 f v; XADD s 0-5 f v
            XADD s 2 f v; XADD s 2 f v; XADD s 2-0 f v; XADD s 2-1 f v; XADD s 3-0 f v
            XADD s 10-18446744073709551615 f v; XADD s 10-* f v; XADD s 11-* f v; XADD s 0-0 f v
            XADD new 0-0 f v; EXISTS new; XADD new 0-1 f v; XADD new 0-* f v; XADD new2 0-* f v
            XADD new3 0 f v; EXISTS new3; XADD new4 00012-0003 f v; XADD new4 12-4 f v
            XRANGE new4 - +; XADD new5 -0 f v; XADD new6 0-00 f v; XRANGE s - +; XLEN s
            XRANGE new - +; XRANGE new2 - +
            """)
        self.state("s")

    def test_partial_ids(self):
        # <ms>-* takes the next sequence of the same millisecond, 0 for a later one, and fails
        # for an earlier one; no clock involved.
        self.xseq("""
            XADD s 5-* a 1; XADD s 5-* a 2; XADD s 5-* a 3; XADD s 4-* a 4; XADD s 6-* a 5
            XADD s 6-* a 6; XADD s 7 a 7; XADD s 7-* a 8; XADD s 5 a 9; XADD s 8-5 a 10
            XADD s 8-* a 11; XRANGE s - +; XINFO STREAM s; XADD t 0-* a 1; XADD t 0-* a 2
            XRANGE t - +
            """)
        self.xcheck("XADD", "s", U64_MAX + "-*", "a", "12")
        self.xcheck("XADD", "s", U64_MAX + "-*", "a", "13")
        self.xcheck("XRANGE", "s", "-", "+")

    def test_bad_ids(self):
        self.check("XADD", "s", "1-1", "f", "v")
        for bad in ("abc", "1-", "-1", "1-a", "1.5", "1--1", " 1", "1 ", "1-1 ", "1-+1", "+1",
                    "18446744073709551616", "18446744073709551616-0", "1-18446744073709551616",
                    "", "+", "-", "$", ">", "0x10", "*-*", "**", "*-1", "1-*-1", "1-**", "(5",
                    "99999999999999999999999", "-1-1", "1-1-1", "\x00", "5-\x00"):
            self.xcheck("XADD", "s", bad, "f", "v")
            self.xcheck("XADD", "fresh", bad, "f", "v")
        self.check("EXISTS", "fresh")
        self.xcheck("XRANGE", "s", "-", "+")

    def test_auto_ids(self):
        # A last ID in the future: `*` increments its sequence, on both servers alike.
        self.xseq("""
            XADD far 99999999999999-0 f v; XADD far * f v; XADD far * a b c d
            XADD far 99999999999999-* f v; XADD far 99999999999998-* f v; XADD far * x y
            XADD far 99999999999999-10 f v; XADD far * f v; XADD far NOMKSTREAM * f v
            XADD far MAXLEN 3 * f v; XADD far MINID 99999999999999-11 * f v; XRANGE far - +
            XSETID far 99999999999999-18446744073709551615; XADD far * f v
            XADD far 99999999999999-* f v; XADD far 100000000000000-* f v; XRANGE far - +
            XINFO STREAM far
            """)
        # IDs from the clock: only their shape and what they do to the stream are compared.
        for cmd in (("XADD", "clock", "*", "f", "v"), ("XADD", "clock", "*", "f", "w"),
                    ("XADD", "clock", "MAXLEN", "1", "*", "f", "x"),
                    ("XADD", "nomk", "NOMKSTREAM", "*", "f", "v")):
            self.check(*cmd, normalize=mask_ids)
        self.check("XLEN", "clock")
        self.check("EXISTS", "nomk")
        # The last possible ID: nothing can follow it, with `*` or otherwise.
        self.xseq("""
            XADD max 18446744073709551615-18446744073709551615 f v; XADD max * f v
            XADD max 18446744073709551615-* f v; XADD max 1-1 f v; XLEN max
            XADD max2 18446744073709551615-18446744073709551614 f v; XADD max2 * f v
            XADD max2 * f v; XRANGE max2 - +; XINFO STREAM max2
            XADD max3 18446744073709551614-18446744073709551615 f v; XADD max3 * f v
            XRANGE max3 - +
            """)

    def test_nomkstream(self):
        self.xseq("""
            XADD s NOMKSTREAM 1-1 f v; EXISTS s; XADD s nomkstream MAXLEN 0 1-1 f v
            XADD s NOMKSTREAM MINID 5 1-1 f v; EXISTS s; XADD s 1-1 f v; XADD s NOMKSTREAM 2-0 f v
            XADD s MAXLEN 5 NOMKSTREAM 3-0 f v; XADD s NOMKSTREAM NOMKSTREAM 4-0 f v
            XADD s NOMKSTREAM 4-0 f; XADD s NOMKSTREAM; XADD s NOMKSTREAM 1-1 f v
            XADD s NOMKSTREAM 0-0 f v; XADD s NOMKSTREAM bad f v; XRANGE s - +; SET str v
            XADD str NOMKSTREAM 1-1 f v; XADD missing NOMKSTREAM bad f v
            XADD missing NOMKSTREAM 0-0 f v; XADD missing NOMKSTREAM MAXLEN -1 1-1 f v
            """)

    def test_trimming(self):
        self.xadd_many("s", ["%d-0" % i for i in range(1, 21)])
        self.xseq("""
            XADD s MAXLEN 15 21-0 f v; XLEN s; XADD s MAXLEN = 10 22-0 f v; XLEN s
            XADD s MAXLEN ~ 5 23-0 f v; XLEN s; XADD s maxlen ~ 5 LIMIT 0 24-0 f v; XLEN s
            XADD s MINID 15 25-0 f v; XRANGE s - +; XADD s MINID = 20-0 26-0 f v; XRANGE s - +
            XADD s MINID ~ 23 27-0 f v; XLEN s; XADD s MINID 23-0 LIMIT 1 28-0 f v
            XADD s MAXLEN ~ 1 LIMIT 5 28-0 f v; XADD s MAXLEN ~ 1 LIMIT 0 29-0 f v; XLEN s
            XADD s MAXLEN 0 30-0 f v; XLEN s; XRANGE s - +; XINFO STREAM s; XADD s MAXLEN 1 31-0 f v
            XADD s MINID 40 32-0 f v; XLEN s; XINFO STREAM s; XADD s MINID 0 33-0 f v
            XADD s MINID - 34-0 f v; XADD s MINID + 35-0 f v; XADD s MINID (35 36-0 f v
            XADD s MINID 36-1 36-1 f v; XADD s MINID 40-0 36-2 f v; XLEN s
            XADD s MAXLEN 9223372036854775807 37-0 f v; XADD s LIMIT 10 MAXLEN ~ 1 38-0 f v
            XADD s MAXLEN ~ 0 LIMIT 9223372036854775807 39-0 f v; XADD s MAXLEN 5 MAXLEN 6 40-0 f v
            XADD s MINID 5 MINID 6 41-0 f v; XADD s MAXLEN = 3 LIMIT 0 42-0 f v; XRANGE s - +
            XINFO STREAM s FULL
            """)

    def test_option_errors(self):
        self.xadd_many("s", ["%d-0" % i for i in range(1, 6)])
        self.xseq("""
            XADD s MAXLEN 1 LIMIT 5 9-0 f v; XADD s MAXLEN = 1 LIMIT 5 9-0 f v
            XADD s MAXLEN ~ 1 LIMIT -1 9-0 f v; XADD s MAXLEN ~ 1 LIMIT abc 9-0 f v
            XADD s MAXLEN ~ 1 LIMIT 9-0 f v; XADD s MAXLEN -1 9-0 f v; XADD s MAXLEN abc 9-0 f v
            XADD s MAXLEN 1.5 9-0 f v; XADD s MAXLEN 9223372036854775808 9-0 f v
            XADD s MAXLEN ~ -5 9-0 f v; XADD s MAXLEN 9-0 f v; XADD s MAXLEN
            XADD s MINID abc 9-0 f v; XADD s MINID 9-0 f v; XADD s MINID ~ 9-0 f v
            XADD s MINID 1 MAXLEN 1 9-0 f v; XADD s MAXLEN 1 MINID 1 9-0 f v
            XADD s MAXLEN ~ 1 LIMIT 1 LIMIT -1 9-0 f v; XADD s LIMIT 5 9-0 f v
            XADD s LIMIT 5 MAXLEN 1 9-0 f v; XADD s MAXLEN = = 1 9-0 f v; XADD s MAXLEN ~= 1 9-0 f v
            XADD s MAXLEN~ 1 9-0 f v; XADD s MAXLEN 1 9-0; XADD s FOO 9-0 f v; XADD s 9-0 f v g
            XADD s MAXLEN 1 LIMIT 5; XADD s MAXLEN ~ 1 LIMIT 100001 9-0 f v
            XADD s MAXLEN ~ 1 LIMIT 1000000000 9-0 f v; XRANGE s - +; XLEN s
            """)
        self.xseq("""
            CONFIG SET stream-node-max-entries 0; XADD s MAXLEN ~ 1 LIMIT 5 9-0 f v
            XADD s MAXLEN ~ 1 9-1 f v; XLEN s
            """)

    def test_field_values(self):
        self.xcheck("XADD", "s", "1-1", BIN, BIN, b"", b"", b"\x00", b"\xff\xfe")
        self.xcheck("XADD", "s", "1-2", "f", "a", "f", "b", "f", "c")
        self.xcheck("XADD", "s", "1-3", *[x for i in range(60) for x in ("f%d" % i, "v%d" % i)])
        self.xcheck("XADD", "s", "1-4", *[x for v in NUMERIC for x in (v, v)])
        self.xcheck("XADD", "s", "1-5", "big", "x" * 10000, "y" * 5000, "")
        self.xcheck("XADD", "s", "1-6", "f", "a")
        self.xcheck("XADD", "s", "1-7", "f", "a", "g", "b")
        self.xcheck("XADD", "s", "1-8", "F", "a")
        self.xcheck("XADD", b"k\x00\r\n", "1-1", "f", "v")
        self.xcheck("XRANGE", "s", "-", "+")
        self.xcheck("XRANGE", b"k\x00\r\n", "-", "+")
        self.state("s")
        self.dump("s")

    def test_arity_and_wrongtype(self):
        self.check("SET", "str", "v")
        self.check("XADD", "s", "1-1", "f", "v")
        self.check("XGROUP", "CREATE", "s", "g", "0")
        for cmd in (("XADD", "str", "1-1", "f", "v"), ("XADD", "str", "NOMKSTREAM", "*", "f", "v"),
                    ("XADD", "str", "bad", "f", "v"), ("XRANGE", "str", "-", "+"),
                    ("XRANGE", "str", "bad", "+"), ("XREVRANGE", "str", "+", "-"),
                    ("XLEN", "str"), ("XDEL", "str", "1-1"), ("XDEL", "str", "bad"),
                    ("XTRIM", "str", "MAXLEN", "0"), ("XSETID", "str", "1-1"),
                    ("XREAD", "STREAMS", "str", "0"), ("XREAD", "STREAMS", "s", "str", "0", "0"),
                    ("XREAD", "BLOCK", "100", "STREAMS", "str", "$"),
                    ("XREAD", "BLOCK", "100", "STREAMS", "missing", "str", "$", "$"),
                    ("XGROUP", "CREATE", "str", "g", "$"),
                    ("XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"),
                    ("XGROUP", "SETID", "str", "g", "0"), ("XGROUP", "DESTROY", "str", "g"),
                    ("XGROUP", "CREATECONSUMER", "str", "g", "c"),
                    ("XGROUP", "DELCONSUMER", "str", "g", "c"),
                    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
                    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "str", ">", ">"),
                    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "str", ">"),
                    ("XACK", "str", "g", "1-1"), ("XPENDING", "str", "g"),
                    ("XPENDING", "str", "g", "-", "+", "10"),
                    ("XCLAIM", "str", "g", "c", "0", "1-1"),
                    ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
                    ("XINFO", "STREAM", "str"), ("XINFO", "STREAM", "str", "FULL"),
                    ("XINFO", "GROUPS", "str"), ("XINFO", "CONSUMERS", "str", "g")):
            self.xcheck(*cmd)
        for cmd in (("XADD",), ("XADD", "s"), ("XADD", "s", "1-2"), ("XADD", "s", "1-2", "f"),
                    ("XADD", "s", "MAXLEN", "5", "1-2", "f"), ("XRANGE",), ("XRANGE", "s"),
                    ("XRANGE", "s", "-"), ("XREVRANGE", "s", "+"), ("XLEN",), ("XLEN", "s", "t"),
                    ("XDEL",), ("XDEL", "s"), ("XTRIM",), ("XTRIM", "s"), ("XTRIM", "s", "MAXLEN"),
                    ("XSETID",), ("XSETID", "s"), ("XREAD",), ("XREAD", "STREAMS"),
                    ("XREAD", "STREAMS", "s"), ("XREAD", "COUNT", "1"), ("XGROUP",),
                    ("XGROUP", "CREATE", "s", "g"), ("XGROUP", "CREATE", "s"),
                    ("XGROUP", "SETID", "s", "g"), ("XGROUP", "DESTROY", "s"),
                    ("XGROUP", "CREATECONSUMER", "s", "g"), ("XGROUP", "DELCONSUMER", "s", "g"),
                    ("XGROUP", "DESTROY", "s", "g", "extra"), ("XGROUP", "HELP", "extra"),
                    ("XREADGROUP",), ("XREADGROUP", "GROUP", "g", "c"),
                    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"), ("XACK",),
                    ("XACK", "s", "g"), ("XPENDING",), ("XPENDING", "s"), ("XCLAIM",),
                    ("XCLAIM", "s", "g", "c", "0"), ("XAUTOCLAIM",),
                    ("XAUTOCLAIM", "s", "g", "c", "0"), ("XINFO",), ("XINFO", "STREAM"),
                    ("XINFO", "GROUPS"), ("XINFO", "CONSUMERS", "s"),
                    ("XINFO", "GROUPS", "s", "extra"), ("XINFO", "CONSUMERS", "s", "g", "x"),
                    ("XINFO", "HELP", "extra"), ("XINFO", "FOO"), ("XINFO", "FOO", "s"),
                    ("xadd", "s"), ("XaDd", "s", "1-2", "f")):
            self.xcheck(*cmd)
        self.check("GET", "str")
        self.state("s")


# --- node layout: many entries, small nodes, approximate trimming ----------------------------

class StreamNodes(StreamCase):
    @staticmethod
    def shape(i):
        """Field lists that switch between the master entry's fields and others."""
        k = i % 7
        if k < 3:
            return ["name", "n%d" % i, "value", str(i)]
        if k == 3:
            return ["name", "n%d" % i]
        if k == 4:
            return ["other", str(i * 1000), "value", "-%d" % i]
        if k == 5:
            return ["name", "x" * (i % 50), "value", "", "extra", "1"]
        return ["value", str(i), "name", "n"]

    def ids(self, n, start=1):
        return ["%d-%d" % (start + i // 3, i % 3) for i in range(n)]

    def test_many_entries(self):
        self.xadd_many("s", self.ids(750), self.shape)
        self.state("s")
        self.dump("s")
        for start, end in (("-", "+"), ("30", "40"), ("33-1", "34-2"), ("(33-2", "(35-0"),
                           ("100", "101"), ("-", "2"), ("249", "+"), ("(249-2", "+")):
            self.xcheck("XRANGE", "s", start, end)
            self.xcheck("XREVRANGE", "s", end, start)
            self.xcheck("XRANGE", "s", start, end, "COUNT", "7")
            self.xcheck("XREVRANGE", "s", end, start, "COUNT", "101")
        # Deletions inside nodes, at their edges, and of whole nodes.
        self.check("XDEL", "s", *self.ids(40, start=1))
        self.check("XDEL", "s", *["%d-0" % i for i in range(30, 250, 2)])
        self.check("XDEL", "s", *self.ids(33, start=60))
        self.state("s")
        self.dump("s")
        self.xcheck("XRANGE", "s", "(60", "(80", "COUNT", "10")
        self.xcheck("XREVRANGE", "s", "80", "60")
        for cmd in (("XTRIM", "s", "MAXLEN", "~", "600"), ("XTRIM", "s", "MAXLEN", "~", "550"),
                    ("XTRIM", "s", "MINID", "~", "120"), ("XTRIM", "s", "MAXLEN", "~", "299"),
                    ("XTRIM", "s", "MAXLEN", "~", "100", "LIMIT", "150"),
                    ("XTRIM", "s", "MAXLEN", "=", "240"), ("XTRIM", "s", "MINID", "200-1")):
            self.xcheck(*cmd)
            self.state("s")
            self.dump("s")
        self.xadd_many("s", self.ids(300, start=300), self.shape)
        self.state("s")
        self.dump("s")

    def test_small_nodes(self):
        for entries, size in (("4", "4096"), ("1", "4096"), ("0", "200"), ("10", "0"),
                              ("3", "100"), ("2", "1"), ("0", "0")):
            with self.subTest(entries=entries, bytes=size):
                self.set_both("stream-node-max-entries", entries)
                self.set_both("stream-node-max-bytes", size)
                self.check("DEL", "s")
                self.xadd_many("s", self.ids(80), lambda i: (
                    ["f", "x" * (150 if i % 11 == 0 else i % 4), "g", str(i)]))
                self.state("s")
                self.dump("s")
                for cmd in (("XADD", "s", "MAXLEN", "~", "70", "100-0", "f", "v"),
                            ("XTRIM", "s", "MAXLEN", "~", "65"),
                            ("XTRIM", "s", "MAXLEN", "~", "40", "LIMIT", "5"),
                            ("XTRIM", "s", "MAXLEN", "~", "40", "LIMIT", "0"),
                            ("XDEL", "s", "14-1", "15-0", "15-1", "15-2", "16-0"),
                            ("XTRIM", "s", "MINID", "~", "18-1"),
                            ("XTRIM", "s", "MINID", "~", "22", "LIMIT", "3"),
                            ("XADD", "s", "MINID", "~", "24", "100-1", "f", "v"),
                            ("XTRIM", "s", "MAXLEN", "=", "15"), ("XTRIM", "s", "MAXLEN", "~", "1"),
                            ("XTRIM", "s", "MAXLEN", "~", "0")):
                    self.xcheck(*cmd)
                    self.info("s")
                    self.dump("s")
                self.state("s")

    def test_default_approx_limit(self):
        # With `~` and no LIMIT, Redis removes at most 100 * stream-node-max-entries entries.
        for entries in ("2", "3"):
            with self.subTest(entries=entries):
                self.set_both("stream-node-max-entries", entries)
                self.check("DEL", "s")
                self.xadd_many("s", self.ids(700))
                self.xcheck("XTRIM", "s", "MAXLEN", "~", "0")
                self.info("s")
                self.xcheck("XADD", "s", "MAXLEN", "~", "0", "999-0", "f", "v")
                self.info("s")
                self.xcheck("XTRIM", "s", "MINID", "~", "999")
                self.xcheck("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0")
                self.state("s")
                self.dump("s")

    def test_node_size_by_bytes(self):
        # Entries of growing size: the byte limit, not the count, decides where nodes end.
        self.xadd_many("s", self.ids(120), lambda i: ["f", "v" * (i * 7 % 300)])
        self.state("s")
        self.dump("s")
        self.set_both("stream-node-max-bytes", "1000")
        self.xadd_many("s", self.ids(60, start=100), lambda i: ["f", "w" * (i * 13 % 200)])
        self.state("s")
        self.dump("s")
        self.xcheck("XTRIM", "s", "MAXLEN", "~", "50")
        self.state("s")
        self.dump("s")

    def test_radix_tree_nodes(self):
        # Insert only: the node count of a radix tree holding these listpack keys.
        for entries, n in (("100", 1), ("100", 101), ("100", 1000), ("1", 40), ("1", 300),
                           ("7", 500)):
            with self.subTest(entries=entries, n=n):
                self.set_both("stream-node-max-entries", entries)
                self.check("DEL", "s")
                self.xadd_many("s", self.ids(n))
                self.xcheck("XINFO", "STREAM", "s", nodes=True)
                self.check("DEL", "w")
                self.xadd_many("w", ["%d-0" % (i * 1000003) for i in range(1, n + 1)])
                self.xcheck("XINFO", "STREAM", "w", nodes=True)
        self.check("XADD", "e", "1-1", "f", "v")
        self.check("XDEL", "e", "1-1")
        self.xcheck("XINFO", "STREAM", "e", nodes=True)
        self.check("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM")
        self.xcheck("XINFO", "STREAM", "m", nodes=True)

    def test_radix_tree_nodes_after_removals(self):
        self.set_both("stream-node-max-entries", "2")
        self.xadd_many("s", self.ids(400))
        for cmd in (("XTRIM", "s", "MAXLEN", "~", "350"), ("XDEL", "s", *self.ids(30, start=50)),
                    ("XTRIM", "s", "MINID", "100"), ("XDEL", "s", *self.ids(90, start=120)),
                    ("XTRIM", "s", "MAXLEN", "3"), ("XTRIM", "s", "MAXLEN", "0")):
            self.xcheck(*cmd)
            self.xcheck("XINFO", "STREAM", "s", nodes=True)


# --- XRANGE / XREVRANGE -----------------------------------------------------------------------

class StreamRange(StreamCase):
    BOUNDS = ["-", "+", "0", "0-0", "1", "1-1", "(1", "(1-1", "(1-2", "3-5", "(3-5", "5", "(5",
              "5-0", "(5-1", "10", "(10", "11", "(0-0", "(-", "(+", U64_MAX, "(" + U64_MAX,
              MAX_ID, "(" + MAX_ID, "abc", "(", "((1", "-1", "", "1-", "(5-*", "*"]

    def setUp(self):
        super().setUp()
        self.xadd_many("s", ["1-0", "1-1", "1-2", "2-0", "3-5", "5-0", "5-1", "10-0",
                             U64_MAX + "-0"])
        self.xadd_many("m", ["0-1", "7-7", U64_MAX + "-" + str(int(U64_MAX) - 1), MAX_ID])

    def test_bounds(self):
        for key in ("s", "m"):
            cmds = []
            for start in self.BOUNDS:
                for end in self.BOUNDS:
                    cmds.append(("XRANGE", key, start, end))
                    cmds.append(("XREVRANGE", key, end, start))
            self.check_many(cmds)
        for start, end in (("-", "+"), ("5", "5"), ("(1", "(2"), ("abc", "+")):
            self.xcheck("XRANGE", "missing", start, end)
            self.xcheck("XREVRANGE", "missing", end, start)

    def test_count(self):
        for count in ("0", "1", "2", "3", "9", "100", "-1", "-100", "abc", "1.5", "",
                      INT64_MAX, "9223372036854775808", "-9223372036854775808"):
            for args in (("XRANGE", "s", "-", "+"), ("XREVRANGE", "s", "+", "-"),
                         ("XRANGE", "s", "(1-0", "5"), ("XREVRANGE", "s", "(5-1", "1"),
                         ("XRANGE", "missing", "-", "+")):
                self.xcheck(*args, "COUNT", count)
        self.xseq("""
            XRANGE s - + COUNT; XRANGE s - + COUNT 1 COUNT 2; XRANGE s - + count 2
            XRANGE s - + FOO 1; XRANGE s - + 1; XREVRANGE s + - COUNT 2 extra; XRANGE s 5 1
            XREVRANGE s 1 5; XRANGE s (5 5; XRANGE s 5 (5; XRANGE s (5-0 (5-1; XRANGE s (5-0 (5-2
            XREVRANGE s (5-2 (5-0
            """)

    def test_after_deletions(self):
        self.check("XDEL", "s", "1-1", "5-0", "5-1")
        for start, end in (("-", "+"), ("1", "1"), ("5", "5"), ("(1-0", "(1-2"), ("2", "10")):
            self.xcheck("XRANGE", "s", start, end)
            self.xcheck("XREVRANGE", "s", end, start)
            self.xcheck("XRANGE", "s", start, end, "COUNT", "1")


# --- XLEN XDEL XTRIM XSETID -----------------------------------------------------------------

class StreamDelTrim(StreamCase):
    def test_xlen_xdel(self):
        self.xadd_many("s", ["%d-%d" % (i, j) for i in range(1, 11) for j in range(3)])
        self.xseq("""
            XLEN s; XLEN missing; XDEL s 1-0; XDEL s 1-0; XDEL s 2-0 2-1 2-2 99-0; XLEN s
            XDEL s 3-0 3-0 3-0; XDEL s 4 4-1; XDEL s 5-0 bad; XDEL s bad; XDEL s (6-0; XDEL s -
            XDEL s +; XDEL s 5-*; XDEL s 5-0 6-0 7-0 8-0; XDEL missing 1-0; XDEL missing bad; XLEN s
            XRANGE s - +; XINFO STREAM s; XDEL s 10-2; XINFO STREAM s
            XDEL s 1-1 1-2 3-1 3-2 4-2 5-1 5-2 6-1 6-2 7-1 7-2 8-1; XDEL s 8-2 9-0 9-1 9-2 10-0 10-1
            XLEN s; EXISTS s; TYPE s; XINFO STREAM s; XRANGE s - +; XADD s 10-2 f v; XADD s 10-3 f v
            XINFO STREAM s
            """)
        self.dump("s")

    def test_xtrim(self):
        self.xadd_many("s", ["%d-%d" % (i, j) for i in range(1, 31) for j in range(2)])
        self.xseq("""
            XTRIM s MAXLEN 100; XTRIM s MAXLEN 55; XLEN s; XTRIM s MAXLEN = 50; XTRIM s MAXLEN ~ 10
            XLEN s; XTRIM s MINID 10; XRANGE s - + COUNT 3; XTRIM s MINID = 12-1; XTRIM s MINID 12-1
            XTRIM s MINID ~ 20; XLEN s; XTRIM s MAXLEN ~ 0 LIMIT 3; XTRIM s MINID (20-0
            XTRIM s maxlen 30; XTRIM s MINID 0; XTRIM s MINID -; XTRIM s MINID +
            XTRIM s MAXLEN 9223372036854775807; XTRIM missing MAXLEN 0; EXISTS missing
            XTRIM s MAXLEN 1 LIMIT 5; XTRIM s MAXLEN ~ 1 LIMIT -1; XTRIM s MAXLEN -1
            XTRIM s MAXLEN abc; XTRIM s MINID abc; XTRIM s FOO 1; XTRIM s MAXLEN 1 MINID 1
            XTRIM s MAXLEN; XTRIM s MAXLEN ~; XTRIM s MINID; XTRIM s MAXLEN 1 extra
            XTRIM s NOMKSTREAM MAXLEN 1; XTRIM s LIMIT 1 MAXLEN ~ 1; XTRIM s MAXLEN ~ 1 LIMIT
            XTRIM s MAXLEN 5 MAXLEN 4; XLEN s; XRANGE s - +; XINFO STREAM s; XTRIM s MINID 25-0
            XTRIM s MAXLEN 0; XLEN s; EXISTS s; XINFO STREAM s; XTRIM s MAXLEN 0
            XTRIM s MINID 99999
            """)
        self.dump("s")

    def test_xsetid(self):
        self.xseq("""
            XSETID s 1-1; EXISTS s; XADD s 5-0 a 1; XSETID s 4-0; XSETID s 5-0; XSETID s 5
            XSETID s 6-0 ENTRIESADDED 0; XSETID s 6-0 ENTRIESADDED 1 MAXDELETEDID 7-0
            XSETID s 6-0 ENTRIESADDED 1 MAXDELETEDID 2-0; XINFO STREAM s
            XSETID s 6-0 ENTRIESADDED -1; XSETID s 6-0 ENTRIESADDED x
            XSETID s 6-0 ENTRIESADDED 9223372036854775807; XINFO STREAM s
            XSETID s 6-0 ENTRIESADDED 9223372036854775808; XSETID s 6-0 MAXDELETEDID x
            XSETID s 6-0 MAXDELETEDID 6-1; XSETID s 6-0 MAXDELETEDID 6-0; XSETID s 6-0 FOO 1
            XSETID s 6-0 ENTRIESADDED; XSETID s 6-0 MAXDELETEDID; XSETID s bad; XSETID s (7
            XSETID s 0-0; XSETID s *; XSETID s 7-*; XSETID s $; XSETID s -; XSETID s +
            XSETID s 18446744073709551615-18446744073709551615; XADD s * f v; XINFO STREAM s
            XSETID s 10-0 ENTRIESADDED 5 ENTRIESADDED 6; XSETID s 1 2
            """)
        # An empty stream accepts a last ID below its current one (and below its max deleted
        # entry ID, when no MAXDELETEDID is given).
        self.xseq("""
            XADD e 5-5 f v; XDEL e 5-5; XINFO STREAM e; XSETID e 0-0; XINFO STREAM e; XSETID e 3-0
            XSETID e 0-1 ENTRIESADDED 0; XSETID e 1-0 ENTRIESADDED 1 MAXDELETEDID 0-0
            XINFO STREAM e; XSETID e 1-0 ENTRIESADDED 1 MAXDELETEDID 0-5; XINFO STREAM e
            XADD e 0-5 f v; XADD e 1-1 f v; XINFO STREAM e; XRANGE e - +; XADD t 1-1 f v
            XADD t 2-2 f v; XDEL t 2-2; XSETID t 1-1; XSETID t 1-5; XSETID t 2-1; XINFO STREAM t
            """)
        self.dump("e")
        self.dump("t")


# --- DUMP / RESTORE / OBJECT ENCODING / TYPE --------------------------------------------------

class StreamDump(StreamCase):
    def test_dump_payloads(self):
        self.check("DUMP", "missing")
        self.check("XADD", "one", "1-1", "f", "v")
        self.dump("one")
        self.xadd_many("ints", ["%d-%d" % (i, i) for i in range(1, 30)],
                       lambda i: [NUMERIC[i % len(NUMERIC)], NUMERIC[(i * 3) % len(NUMERIC)]])
        self.dump("ints")
        self.xadd_many("mixed", ["1-%d" % i for i in range(150)], lambda i: (
            ["f", str(i)] if i % 4 else [BIN, "x" * (i * 30), "g", "-%d" % i]))
        self.dump("mixed")
        self.check("XDEL", "mixed", "1-0", "1-5", "1-99", "1-100", "1-149")
        self.dump("mixed")
        self.check("XTRIM", "mixed", "MAXLEN", "~", "40")
        self.dump("mixed")
        self.check("XSETID", "mixed", "50-0", "ENTRIESADDED", "1000", "MAXDELETEDID", "2-0")
        self.dump("mixed")
        # Groups without consumers hold no times: their payload is deterministic too.
        self.seq("""
            XGROUP CREATE mixed g1 0; XGROUP CREATE mixed g2 $ ENTRIESREAD 7
            XGROUP CREATE mixed g3 1-50; XGROUP SETID mixed g3 1-60 ENTRIESREAD 3
            XGROUP CREATE empty g $ MKSTREAM
            """)
        self.dump("mixed")
        self.dump("empty")
        self.check("XADD", "gone", "5-5", "f", "v")
        self.check("XDEL", "gone", "5-5")
        self.dump("gone")
        self.check("XADD", "nodes", "1-1", "f", "v")
        self.set_both("stream-node-max-entries", "3")
        self.xadd_many("nodes", ["2-%d" % i for i in range(20)])
        self.dump("nodes")
        self.check("DUMP", "one", "two")
        self.check("DUMP")

    def groups_with_consumers(self):
        """A stream whose groups have consumers and pending entries (a payload with times)."""
        self.xadd_many("s", ["%d-0" % i for i in range(1, 13)], lambda i: ["f", str(i)])
        self.seq("""
            XGROUP CREATE s g1 0; XGROUP CREATE s g2 5-0 ENTRIESREAD 4; XGROUP CREATE s g3 $
            XREADGROUP GROUP g1 alice COUNT 3 STREAMS s >
            XREADGROUP GROUP g1 bob COUNT 2 STREAMS s >; XREADGROUP GROUP g2 carol STREAMS s >
            XACK s g1 2-0; XGROUP CREATECONSUMER s g3 dave; XCLAIM s g1 bob 0 1-0 RETRYCOUNT 7
            XDEL s 4-0; XREADGROUP GROUP g1 alice NOACK STREAMS s >
            """)

    def test_restore_payloads_with_consumers(self):
        # Redis's payload restored on both: the times it carries are then the same on both.
        self.groups_with_consumers()
        payload = decode(self.r.call("DUMP", "s"))
        self.check("RESTORE", "copy", "0", payload)
        self.check("RESTORE", "copy", "0", payload)
        self.check("DUMP", "copy")
        self.xcheck("XINFO", "STREAM", "copy", "FULL")
        # The seen and delivery times were restored: the same on both, to the millisecond.
        self.check("XINFO", "STREAM", "copy", "FULL", normalize=lambda raw: mask_stream_reply(
            ("XINFO", "STREAM"), raw, mask_times=False)[0])
        self.xcheck("XRANGE", "copy", "-", "+")
        for group in ("g1", "g2", "g3"):
            self.group_state("copy", group)
        self.check("RESTORE", "copy", "0", payload, "REPLACE")
        self.check("XAUTOCLAIM", "copy", "g1", "erin", "0", "0")
        self.check("XADD", "copy", "20-0", "f", "v")
        self.xcheck("XREADGROUP", "GROUP", "g3", "dave", "STREAMS", "copy", ">")
        self.group_state("copy", "g1")
        self.group_state("copy", "g3")

    def test_restore_roundtrip(self):
        # Redis's payloads restored into Keyward, Keyward's into Redis: the same contents.
        self.groups_with_consumers()
        self.set_both("stream-node-max-entries", "2")
        self.xadd_many("small", ["1-%d" % i for i in range(9)])
        self.check("XGROUP", "CREATE", "small", "g", "0")
        self.check("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
        for key, group in (("s", "g1"), ("small", "g"), ("empty", "g")):
            from_r = decode(self.r.call("DUMP", key))
            from_k = decode(self.k.call("DUMP", key))
            with self.subTest(key=key):
                self.assertIsInstance(from_k, bytes, "Keyward's DUMP of %r" % key)
            if not isinstance(from_k, bytes):
                continue
            # Each payload restored on both servers: key:r from Redis's, key:k from Keyward's.
            self.check("RESTORE", key + ":r", "0", from_r)
            self.check("RESTORE", key + ":k", "0", from_k)
            for suffix in (":r", ":k"):
                self.state(key + suffix)
                self.xcheck("XPENDING", key + suffix, group)
                self.xcheck("XPENDING", key + suffix, group, "-", "+", "100")
                self.xcheck("XINFO", "CONSUMERS", key + suffix, group)

    def test_encoding_and_type(self):
        self.seq("""
            XADD s 1-1 f v; OBJECT ENCODING s; TYPE s; EXISTS s; XGROUP CREATE e g $ MKSTREAM
            TYPE e; OBJECT ENCODING e; XLEN e; XTRIM s MAXLEN 0; TYPE s; OBJECT ENCODING s
            OBJECT ENCODING missing; TYPE missing
            """)
        self.check_scan("TYPE", "stream")
        self.check_unordered("KEYS", "*")

    def test_copy_and_rename(self):
        self.groups_with_consumers()
        self.seq("""
            COPY s c1; RENAME c1 c2; EXISTS c1; COPY c2 s; COPY c2 s REPLACE; XADD c2 20-0 f v
            XLEN s; XLEN c2; RENAME c2 s; XLEN s; COPY s c3 DB 1
            """)
        for key in ("s", "c3"):
            self.xcheck("XRANGE", key, "-", "+")
            self.xcheck("XINFO", "GROUPS", key)
            self.xcheck("XPENDING", key, "g1")
            self.xcheck("XPENDING", key, "g1", "-", "+", "100")
            self.xcheck("XINFO", "STREAM", key, "FULL")
        self.check("SELECT", "1")
        self.xcheck("XINFO", "STREAM", "c3", "FULL")
        self.xcheck("XREADGROUP", "GROUP", "g3", "x", "STREAMS", "c3", "0")


# --- XREAD --------------------------------------------------------------------------------------

class StreamRead(StreamCase):
    def test_xread(self):
        self.xadd_many("a", ["1-%d" % i for i in range(5)])
        self.xadd_many("b", ["2-%d" % i for i in range(3)])
        self.check("SET", "str", "v")
        self.xseq("""
            XREAD STREAMS a 0; XREAD STREAMS a 0-0; XREAD STREAMS a 1-2; XREAD STREAMS a 1
            XREAD STREAMS a 1-4; XREAD STREAMS a $; XREAD STREAMS a 2
            XREAD STREAMS a 0-18446744073709551615; XREAD COUNT 2 STREAMS a 0
            XREAD COUNT 0 STREAMS a 0; XREAD COUNT -1 STREAMS a 0; XREAD COUNT 1 STREAMS a b 0 0
            XREAD STREAMS a b 1-3 0; XREAD STREAMS b a 0 1-3; XREAD STREAMS a b missing 1-1 2-1 0
            XREAD STREAMS missing 0; XREAD STREAMS missing $; XREAD STREAMS a a 0 1-3
            XREAD STREAMS a b $ $; XREAD count 3 streams a 1-1
            XREAD STREAMS a 18446744073709551615-18446744073709551615
            XREAD COUNT 2 COUNT 1 STREAMS a 0; XREAD BLOCK 0 STREAMS a 0
            XREAD BLOCK 0 COUNT 1 STREAMS b 2-1; XREAD BLOCK 9223372036854775807 STREAMS a b 0 0
            """)

    def test_xread_errors(self):
        self.xadd_many("a", ["1-1", "1-2"])
        self.xseq("""
            XREAD STREAMS a; XREAD STREAMS a b 0; XREAD STREAMS a b c 0 0; XREAD STREAMS
            XREAD COUNT 1 STREAMS a; XREAD STREAMS a >; XREAD STREAMS a bad; XREAD STREAMS a (1
            XREAD STREAMS a -; XREAD STREAMS a +; XREAD STREAMS a *; XREAD STREAMS a 1-*
            XREAD COUNT abc STREAMS a 0; XREAD COUNT STREAMS a 0; XREAD BLOCK -1 STREAMS a 0
            XREAD BLOCK abc STREAMS a 0; XREAD BLOCK 1.5 STREAMS a 0; XREAD BLOCK STREAMS a 0
            XREAD BLOCK 9223372036854775808 STREAMS a 0; XREAD NOACK STREAMS a 0
            XREAD GROUP g c STREAMS a 0; XREAD FOO STREAMS a 0; XREAD a 0; XREAD COUNT 1 a 0
            XREAD STREAMS STREAMS a 0; XREAD STREAMS a STREAMS 0 0; XREAD COUNT 1; XREAD BLOCK 0
            XREAD BLOCK 100 STREAMS a b 0
            """)


# --- blocking XREAD / XREADGROUP ---------------------------------------------------------------

class StreamBlocking(StreamCase):
    def test_timeouts(self):
        self.check("XADD", "s", "1-1", "f", "v")
        self.check("XGROUP", "CREATE", "s", "g", "$")
        for cmd in (("XREAD", "BLOCK", "10", "STREAMS", "missing", "$"),
                    ("XREAD", "BLOCK", "10", "STREAMS", "s", "$"),
                    ("XREAD", "BLOCK", "10", "COUNT", "5", "STREAMS", "s", "missing", "1-1", "0"),
                    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "NOACK", "STREAMS", "s", ">")):
            self.check(*cmd)
        self.group_state("s", "g")

    def test_xread_served_by_xadd(self):
        a = self.new_pair()
        self.check("XADD", "s", "1-1", "f", "v")
        for cmd, add in ((("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                          ("XADD", "s", "2-0", "a", "1")),
                         (("XREAD", "BLOCK", "0", "STREAMS", "s", "2-0"),
                          ("XADD", "s", "2-1", "a", "2")),
                         (("XREAD", "BLOCK", "100000", "COUNT", "1", "STREAMS", "s", "$"),
                          ("XADD", "s", "3-0", "a", "3")),
                         (("XREAD", "BLOCK", "0", "STREAMS", "new", "$"),
                          ("XADD", "new", "1-0", "x", "y")),
                         (("XREAD", "BLOCK", "0", "STREAMS", "new2", "0-0"),
                          ("XADD", "new2", "0-1", "x", "y")),
                         (("XREAD", "BLOCK", "0", "STREAMS", "s", "4"),
                          ("XADD", "s", "4-0", "a", "4")),
                         (("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                          ("XADD", "s", "MAXLEN", "1", "5-0", "a", "5"))):
            self.block(a, *cmd)
            self.check_blocked()
            self.check(*add)
            self.check_blocked()
            if (self.blocked_count(self.r) or 0) > 0:
                # Not served (4-0 is not after 4-0): a later entry serves it.
                self.check("XADD", add[1], add[-3].split("-")[0] + "-*", "late", "1")
            self.reply(a)
            self.check_blocked()
        self.state("s")

    def test_served_by_several_entries(self):
        a = self.new_pair()
        self.check("XADD", "s", "1-1", "f", "v")
        for count in ((), ("COUNT", "2"), ("COUNT", "5")):
            self.block(a, "XREAD", "BLOCK", "0", *count, "STREAMS", "s", "$")
            self.check("MULTI")
            for i in range(3):
                self.check("XADD", "s", "%d-*" % (10 + len(count)), "n", str(i))
            self.check("EXEC")
            self.reply(a)
        # A transaction that adds entries and trims them away (Redis 7.0 serves the client with
        # an empty list of entries), and the same with XADD MAXLEN 0.
        ids = self.client_ids(a)
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("MULTI")
        self.check("XADD", "s", "20-0", "f", "v")
        self.check("XTRIM", "s", "MAXLEN", "0")
        self.check("EXEC")
        self.settle(a, ids, 1)
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("XADD", "s", "MAXLEN", "0", "21-0", "f", "v")
        self.settle(a, ids, 1)

    def test_several_clients(self):
        a, b, c = self.new_pair(), self.new_pair(), self.new_pair()
        self.check("XADD", "s", "1-1", "f", "v")
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.block(b, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "0")
        self.reply(b)  # there was data after 0: answered at once
        self.check_blocked()
        self.block(b, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "1-1")
        self.block(c, "XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$")
        self.check_blocked()
        self.check("XADD", "s", "2-2", "f", "w")
        for p in (a, b, c):
            self.reply(p)
        self.check_blocked()
        # Several keys: the first one to get data serves the client, the rest are forgotten.
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "k1", "k2", "k3", "$", "$", "$")
        self.block(b, "XREAD", "BLOCK", "0", "STREAMS", "k3", "k1", "$", "$")
        self.check("XADD", "k2", "1-1", "f", "v")
        self.reply(a)
        self.check_blocked()
        self.check("XADD", "k1", "1-1", "f", "v")
        self.reply(b)
        self.check_blocked()

    def test_dollar_semantics(self):
        a = self.new_pair()
        ids = self.client_ids(a)
        self.check("XADD", "s", "5-0", "f", "v")
        # `$` is the last ID when the command blocked: an entry below it after the stream was
        # emptied and its ID moved back does not serve the client.
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("XDEL", "s", "5-0")
        self.check("XSETID", "s", "3-0")
        self.check("XADD", "s", "4-0", "f", "v")
        self.check_blocked()
        self.check("XADD", "s", "5-1", "f", "v")
        self.reply(a)
        # The stream deleted and created again while a client waits on it.
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("DEL", "s")
        self.check_blocked()
        self.check("XADD", "s", "1-0", "f", "v")
        self.check_blocked()
        self.check("XADD", "s", "9-0", "f", "v")
        self.reply(a)
        # `$` on a missing key means 0-0: any entry serves.
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "none", "$")
        self.check("SET", "none", "string")
        self.check_blocked()
        self.check("DEL", "none")
        self.check("XADD", "none", "0-1", "f", "v")
        self.reply(a)
        self.check_blocked()
        # A stream replaced by another type, then unblocked by hand.
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("SET", "s", "string")
        self.settle(a, ids, 1)

    def test_xreadgroup_served_in_arrival_order(self):
        a, b, c = self.new_pair(), self.new_pair(), self.new_pair()
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.block(a, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
        self.block(b, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "COUNT", "5", "STREAMS", "s",
                   ">")
        self.block(c, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
        self.check_blocked()
        self.check("XADD", "s", "1-1", "f", "v")
        self.reply(a)
        self.check_blocked()
        self.check("MULTI")
        self.check("XADD", "s", "2-1", "f", "v")
        self.check("XADD", "s", "2-2", "f", "v")
        self.check("EXEC")
        self.reply(b)
        self.check_blocked()
        self.check("XADD", "s", "3-1", "f", "v")
        self.reply(c)
        self.check_blocked()
        self.group_state("s", "g")
        # Readers of two groups and a plain reader: one entry serves one client of each group.
        self.check("XGROUP", "CREATE", "s", "h", "$")
        self.block(a, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">")
        self.block(b, "XREADGROUP", "GROUP", "h", "c1", "BLOCK", "0", "NOACK", "STREAMS", "s", ">")
        self.block(c, "XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "s", ">")
        d = self.new_pair()
        self.block(d, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("XADD", "s", "4-1", "f", "v")
        for p in (a, b, d):
            self.reply(p)
        self.check_blocked()
        self.check("XADD", "s", "5-1", "f", "v")
        self.reply(c)
        self.check_blocked()
        self.group_state("s", "g")
        self.group_state("s", "h")

    def test_xreadgroup_variants(self):
        a = self.new_pair()
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.check("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
        # A history read answers at once, even empty.
        self.check("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0")
        self.check("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "t", "0", ">")
        for opts, add in ((("COUNT", "2"), [("XADD", "s", "1-%d" % i, "f", "v") for i in range(3)]),
                          (("NOACK",), [("XADD", "s", "2-1", "f", "v")]),
                          (("NOACK", "COUNT", "1"), [("XADD", "t", "1-1", "f", "v"),
                                                     ("XADD", "t", "1-2", "f", "v")]),
                          (("COUNT", "1"), [("XADD", "t", "2-1", "f", "v"),
                                            ("XADD", "s", "3-1", "f", "v")])):
            self.block(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", *opts, "STREAMS",
                       "s", "t", ">", ">")
            self.check("MULTI")
            for cmd in add:
                self.check(*cmd)
            self.check("EXEC")
            self.reply(a)
            self.check_blocked()
            # What the served client left unread, read by another consumer.
            self.check("XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", "t", ">", ">")
        self.group_state("s", "g")
        self.group_state("t", "g")
        self.xcheck("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", "0", "0")

    def test_xreadgroup_when_the_key_goes(self):
        a = self.new_pair()
        ids = self.client_ids(a)
        blocking = ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        events = [[("DEL", "s")], [("UNLINK", "s")], [("SET", "s", "v")], [("RENAME", "s", "s2")],
                  [("FLUSHDB",)], [("FLUSHALL",)], [("SWAPDB", "0", "1")], [("MOVE", "s", "1")],
                  [("PEXPIREAT", "s", "1")], [("EXPIRE", "s", "0")],
                  [("MULTI",), ("DEL", "s"), ("XADD", "s", "9-9", "f", "v"), ("EXEC",)],
                  [("MULTI",), ("DEL", "s"), ("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"),
                   ("XADD", "s", "9-9", "f", "v"), ("EXEC",)],
                  [("XGROUP", "DESTROY", "s", "g")],
                  [("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "CREATE", "s", "g", "$"),
                   ("XADD", "s", "9-9", "f", "v")],
                  [("XGROUP", "DELCONSUMER", "s", "g", "c"), ("XADD", "s", "9-9", "f", "v")],
                  [("XGROUP", "SETID", "s", "g", "0"), ("XADD", "s", "9-9", "f", "v")],
                  [("XTRIM", "s", "MAXLEN", "0"), ("XDEL", "s", "1-1")],
                  [("RESTORE", "s", "0", "<payload>", "REPLACE")],
                  [("XADD", "s", "MAXLEN", "0", "9-9", "f", "v")]]
        for step in events:
            with self.subTest(step="; ".join(show(c) for c in step)):
                self.check("SELECT", "0")
                self.check("FLUSHALL")
                self.check("XADD", "other", "1-1", "f", "v")
                payload = decode(self.r.call("DUMP", "other"))
                self.check("XADD", "s", "1-1", "f", "v")
                self.check("XGROUP", "CREATE", "s", "g", "$")
                self.block(a, *blocking)
                for cmd in step:
                    self.check(*[payload if x == "<payload>" else x for x in cmd])
                self.settle(a, ids, 1)
                self.xcheck("XINFO", "STREAM", "s", "FULL")
                self.check("SELECT", "1")
                self.xcheck("XINFO", "STREAM", "s", "FULL")
                self.check("SELECT", "0")

    def test_xread_when_the_key_goes(self):
        a = self.new_pair()
        ids = self.client_ids(a)
        for step in ([("DEL", "s")], [("SET", "s", "v")], [("FLUSHALL",)], [("SWAPDB", "0", "1")],
                     [("RENAME", "s", "t")], [("DEL", "s"), ("XADD", "s", "2-0", "f", "v")]):
            with self.subTest(step="; ".join(show(c) for c in step)):
                self.check("FLUSHALL")
                self.check("XADD", "s", "1-1", "f", "v")
                self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
                for cmd in step:
                    self.check(*cmd)
                self.settle(a, ids, 1)

    def test_client_unblock(self):
        a = self.new_pair()
        ids = self.client_ids(a)
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        for cmd, mode in ((("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), ()),
                          (("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), ("TIMEOUT",)),
                          (("XREAD", "BLOCK", "0", "STREAMS", "s", "$"), ("ERROR",)),
                          (("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                           ("TIMEOUT",)),
                          (("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                           ("error",))):
            self.block(a, *cmd)
            self.unblock(ids, *mode)
            self.reply(a)
            self.check_blocked()
        self.group_state("s", "g")

    def test_other_db_and_type(self):
        a = self.new_pair()
        self.check("SELECT", "1", pair=a)
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("XADD", "s", "1-1", "f", "v")
        self.check("RPUSH", "s2", "x")
        self.check_blocked()
        self.check("SELECT", "1")
        self.check("XADD", "s", "1-1", "f", "v")
        self.reply(a)
        self.check_blocked()

    def test_resp3_blocked_clients(self):
        a = self.resp3_pair()
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.check("XADD", "s", "1-1", "f", "v")
        self.reply(a)
        self.block(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        self.check("XADD", "s", "1-2", "f", "v")
        self.reply(a)
        self.check("XREAD", "BLOCK", "10", "STREAMS", "s", "$", pair=a)
        self.check("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">", pair=a)
        ids = self.client_ids(a)
        self.block(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.unblock(ids, "TIMEOUT")
        self.reply(a)
        self.block(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        self.check("DEL", "s")
        self.reply(a)


# --- consumer groups ---------------------------------------------------------------------------

class StreamGroups(StreamCase):
    def fill(self, key="s", n=10):
        self.xadd_many(key, ["%d-0" % i for i in range(1, n + 1)], lambda i: ["f", str(i + 1)])

    def test_xgroup_create(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g1 0; XGROUP CREATE s g1 0; XGROUP CREATE s g2 $; XGROUP CREATE s g3 5
            XGROUP CREATE s g4 5-0 ENTRIESREAD 3; XGROUP CREATE s g5 0 ENTRIESREAD 100
            XGROUP CREATE s g6 $ ENTRIESREAD -1; XGROUP CREATE s g7 $ ENTRIESREAD -2
            XGROUP CREATE s g8 $ ENTRIESREAD abc; XGROUP CREATE s g9 bad; XGROUP CREATE s g9 >
            XGROUP CREATE s g9 (5; XGROUP CREATE s g9 5-*; XGROUP CREATE s g9 *
            XGROUP CREATE s g10 99-0; XGROUP CREATE s g11 -; XGROUP CREATE s g12 +
            XGROUP CREATE s g13 0 MKSTREAM; XGROUP CREATE s g14 0 FOO
            XGROUP CREATE s g15 0 ENTRIESREAD; XGROUP CREATE s g16 0 MKSTREAM ENTRIESREAD 2 MKSTREAM
            XGROUP create s G1 0; XGROUP CREATE missing g 0; XGROUP CREATE missing g $ MKSTREAM
            TYPE missing; XGROUP CREATE missing g $ MKSTREAM; XGROUP CREATE missing2 g 5-5 MKSTREAM
            XINFO STREAM missing2; XGROUP CREATE missing3 g bad MKSTREAM; EXISTS missing3
            XGROUP CREATE s 0; XINFO GROUPS s; XINFO GROUPS missing; XINFO GROUPS missing2
            XINFO STREAM s
            """)
        self.check("XGROUP", "CREATE", "s", BIN, "0")
        self.check("XGROUP", "CREATE", "s", "", "0")
        self.xcheck("XINFO", "GROUPS", "s")
        self.dump("s")

    def test_xgroup_setid(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XGROUP SETID s g 5; XINFO GROUPS s; XGROUP SETID s g $
            XINFO GROUPS s; XGROUP SETID s g 3-0 ENTRIESREAD 3; XINFO GROUPS s
            XGROUP SETID s g 0 ENTRIESREAD 0; XINFO GROUPS s; XGROUP SETID s g 0 ENTRIESREAD -1
            XINFO GROUPS s; XGROUP SETID s g 99-0 ENTRIESREAD 50; XINFO GROUPS s
            XGROUP SETID s g 0 ENTRIESREAD -3; XGROUP SETID s g bad; XGROUP SETID s g 0 FOO
            XGROUP SETID s g 0 ENTRIESREAD; XGROUP SETID s g 0 MKSTREAM; XGROUP SETID s nosuch 0
            XGROUP SETID missing g 0; XGROUP SETID s g 0 ENTRIESREAD 1 ENTRIESREAD 2; XINFO GROUPS s
            """)

    def test_consumers(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XGROUP CREATECONSUMER s g alice; XGROUP CREATECONSUMER s g alice
            XGROUP CREATECONSUMER s g bob; XGROUP CREATECONSUMER s nosuch x
            XGROUP CREATECONSUMER missing g x; XINFO CONSUMERS s g; XINFO GROUPS s
            XREADGROUP GROUP g alice COUNT 3 STREAMS s >
            XREADGROUP GROUP g carol COUNT 2 STREAMS s >; XINFO CONSUMERS s g
            XGROUP DELCONSUMER s g alice; XGROUP DELCONSUMER s g alice; XGROUP DELCONSUMER s g bob
            XGROUP DELCONSUMER s g nobody; XGROUP DELCONSUMER s nosuch x
            XGROUP DELCONSUMER missing g x; XINFO CONSUMERS s g; XPENDING s g; XPENDING s g - + 10
            XINFO CONSUMERS s nosuch; XINFO CONSUMERS missing g
            """)
        self.check("XGROUP", "CREATECONSUMER", "s", "g", "")
        self.check("XGROUP", "CREATECONSUMER", "s", "g", BIN)
        self.xcheck("XINFO", "CONSUMERS", "s", "g")

    def test_destroy(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XREADGROUP GROUP g c STREAMS s >; XGROUP DESTROY s g
            XGROUP DESTROY s g; XGROUP DESTROY missing g; XINFO GROUPS s; XPENDING s g
            XREADGROUP GROUP g c STREAMS s >; XGROUP CREATE s g $; XPENDING s g; XINFO STREAM s
            """)
        self.dump("s")

    def test_help_and_errors(self):
        self.fill()
        self.xseq("""
            XGROUP HELP; XGROUP help; XINFO HELP; XGROUP FOO; XGROUP FOO s; XINFO FOO s; XGROUP
            XINFO; XGROUP CREATE; XGROUP SETID s; XGROUP CREATECONSUMER s g; XGROUP DESTROY s g x
            """)

    def test_xreadgroup(self):
        self.fill()
        self.fill("t", 3)
        self.xseq("""
            XGROUP CREATE s g 0; XGROUP CREATE t g $; XREADGROUP GROUP g c1 COUNT 2 STREAMS s >
            XREADGROUP GROUP g c2 COUNT 1 STREAMS s >; XREADGROUP GROUP g c1 STREAMS s 0
            XREADGROUP GROUP g c1 STREAMS s 1-0; XREADGROUP GROUP g c1 STREAMS s 1
            XREADGROUP GROUP g c2 STREAMS s 0; XREADGROUP GROUP g c3 STREAMS s 0
            XREADGROUP GROUP g c1 COUNT 0 STREAMS s >; XPENDING s g
            XREADGROUP GROUP g c2 NOACK COUNT 2 STREAMS s >; XPENDING s g
            XREADGROUP GROUP g c2 COUNT 2 STREAMS s t > >; XADD t 10-0 f v
            XREADGROUP GROUP g c2 STREAMS s t > >; XREADGROUP GROUP g c2 STREAMS t s > >
            XREADGROUP GROUP g c2 STREAMS s t 0 0; XREADGROUP GROUP g c2 COUNT 1 STREAMS s t 0 0
            XREADGROUP GROUP g c2 STREAMS s 18446744073709551615-18446744073709551615
            XREADGROUP GROUP g c1 COUNT -1 STREAMS s 0; XINFO GROUPS s; XINFO GROUPS t
            """)
        self.group_state("s", "g")
        self.group_state("t", "g")
        # Entries deleted while pending: history reads show them with a nil field list.
        self.xseq("""
            XDEL s 1-0 3-0; XREADGROUP GROUP g c1 STREAMS s 0; XREADGROUP GROUP g c2 STREAMS s 0
            XREADGROUP GROUP g c1 COUNT 1 STREAMS s 0; XTRIM s MAXLEN 0
            XREADGROUP GROUP g c1 STREAMS s 0; XREADGROUP GROUP g c2 STREAMS s >
            """)
        self.group_state("s", "g")

    def test_xreadgroup_errors(self):
        self.fill()
        self.check("XGROUP", "CREATE", "s", "g", "0")
        self.xseq("""
            XREADGROUP GROUP nosuch c STREAMS s >; XREADGROUP GROUP g c STREAMS missing >
            XREADGROUP GROUP g c STREAMS s missing > >; XREADGROUP GROUP g c STREAMS s $
            XREADGROUP GROUP g c STREAMS s; XREADGROUP GROUP g c STREAMS s t >
            XREADGROUP GROUP g STREAMS s >; XREADGROUP GROUP STREAMS s >; XREADGROUP STREAMS s >
            XREADGROUP COUNT 1 STREAMS s >; XREADGROUP GROUP g c COUNT abc STREAMS s >
            XREADGROUP GROUP g c BLOCK -1 STREAMS s >; XREADGROUP GROUP g c BLOCK x STREAMS s >
            XREADGROUP GROUP g c STREAMS s bad; XREADGROUP GROUP g c STREAMS s (1
            XREADGROUP GROUP g c STREAMS s +; XREADGROUP GROUP g c STREAMS s -
            XREADGROUP GROUP g c FOO STREAMS s >; XREADGROUP GROUP g c NOACK NOACK STREAMS s >
            XREADGROUP GROUP g c GROUP g d STREAMS s >; XREADGROUP group g c streams s >
            XREADGROUP GROUP g c STREAMS s > 0; XPENDING s g
            """)

    def test_xack(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XREADGROUP GROUP g c STREAMS s >; XACK s g 1-0; XACK s g 1-0
            XACK s g 2-0 3-0 99-0; XACK s g 4; XACK s g 5-0 5-0; XACK s g bad; XACK s g 6-0 bad
            XACK s g (7; XACK s nosuch 6-0; XACK missing g 6-0; XACK s g 6-*; XPENDING s g
            XACK s g 6-0 7-0 8-0 9-0 10-0; XPENDING s g; XINFO CONSUMERS s g; XINFO GROUPS s
            """)

    def test_xpending(self):
        self.fill()
        self.xseq("""
            XPENDING s g; XGROUP CREATE s g 0; XPENDING s g; XPENDING s g - + 10
            XREADGROUP GROUP g alice COUNT 4 STREAMS s >; XREADGROUP GROUP g bob COUNT 3 STREAMS s >
            XREADGROUP GROUP g alice STREAMS s 0; XPENDING s g; XPENDING s g - + 10
            XPENDING s g - + 2; XPENDING s g - + 0; XPENDING s g - + -1; XPENDING s g 3 6 10
            XPENDING s g (3 (6 10; XPENDING s g (3-0 + 10; XPENDING s g - (6 10; XPENDING s g + - 10
            XPENDING s g - + 10 alice; XPENDING s g - + 10 bob; XPENDING s g - + 10 nobody
            XPENDING s g - + 2 alice; XPENDING s g IDLE 0 - + 10; XPENDING s g IDLE 86400000 - + 10
            XPENDING s g IDLE 0 - + 10 bob; XPENDING s g IDLE -1 - + 10
            XPENDING s g IDLE abc - + 10; XPENDING s g IDLE 0; XPENDING s g IDLE 0 - +
            XPENDING s g -; XPENDING s g - +; XPENDING s g - + abc; XPENDING s g bad + 10
            XPENDING s g - bad 10; XPENDING s g - + 10 alice extra; XPENDING s g (+ + 10
            XPENDING s g - (- 10; XPENDING s nosuch; XPENDING missing g; XPENDING missing g - + 10
            XPENDING s nosuch - + 10; XPENDING s g - + 9223372036854775807
            XPENDING s g - + 9223372036854775808
            """)
        # Made old on purpose: an IDLE filter between real idle times and these.
        self.xseq("""
            XCLAIM s g alice 0 2-0 IDLE 172800000; XCLAIM s g bob 0 6-0 TIME 1000 JUSTID
            XPENDING s g IDLE 86400000 - + 10; XPENDING s g IDLE 86400000 - + 10 alice
            XPENDING s g IDLE 86400000 (2-0 + 10; XPENDING s g - + 10
            """)

    def test_xclaim(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XREADGROUP GROUP g alice COUNT 5 STREAMS s >; XCLAIM s g bob 0 1-0
            XCLAIM s g bob 0 1-0 2-0 99-0; XCLAIM s g bob 86400000 3-0; XCLAIM s g bob 0 3-0 JUSTID
            XPENDING s g - + 10; XCLAIM s g bob 0 4-0 RETRYCOUNT 10
            XCLAIM s g carol 0 4-0 IDLE 172800000; XPENDING s g - + 10
            XCLAIM s g dave 86400000 4-0 JUSTID; XCLAIM s g erin 0 5-0 TIME 1000
            XCLAIM s g erin 86400000 5-0 4-0 3-0; XPENDING s g - + 10; XCLAIM s g frank 0 8-0
            XCLAIM s g frank 0 8-0 FORCE; XCLAIM s g frank 0 9-0 FORCE JUSTID
            XCLAIM s g frank 0 99-0 FORCE; XPENDING s g - + 10; XINFO GROUPS s
            XCLAIM s g frank 0 6-0 LASTID 7-0; XINFO GROUPS s; XCLAIM s g frank 0 6-0 LASTID 1-0
            XINFO GROUPS s; XCLAIM s g frank 0 6-0 FORCE LASTID 20-0; XINFO GROUPS s
            XCLAIM s g grace 0 1-0 IDLE 5 TIME 1000; XCLAIM s g grace 0 1-0 TIME 99999999999999
            XPENDING s g - + 10; XINFO CONSUMERS s g
            """)
        self.xseq("""
            XCLAIM s g c 0 bad; XCLAIM s g c -1 1-0; XCLAIM s g c abc 1-0; XCLAIM s g c 0 1-0 IDLE
            XCLAIM s g c 0 1-0 IDLE abc; XCLAIM s g c 0 1-0 IDLE -1; XCLAIM s g c 0 1-0 TIME abc
            XCLAIM s g c 0 1-0 TIME -5; XCLAIM s g c 0 1-0 RETRYCOUNT -1
            XCLAIM s g c 0 1-0 RETRYCOUNT x; XCLAIM s g c 0 1-0 LASTID bad; XCLAIM s g c 0 1-0 FOO
            XCLAIM s g c 0 1-0 bad JUSTID; XCLAIM s nosuch c 0 1-0; XCLAIM missing g c 0 1-0
            XCLAIM s g c 0 1-0 2-0 JUSTID FORCE; XCLAIM s g c 9223372036854775807 1-0
            XCLAIM s g c 0 1-0 IDLE 9223372036854775807
            XCLAIM s g c 0 1-0 justid idle 0 retrycount 3; XPENDING s g - + 10
            """)

    def test_xclaim_deleted_entries(self):
        self.fill()
        self.xseq("""
            XGROUP CREATE s g 0; XREADGROUP GROUP g alice STREAMS s >; XDEL s 2-0 4-0 6-0
            XCLAIM s g bob 0 1-0 2-0 3-0 4-0; XPENDING s g - + 10; XCLAIM s g bob 0 6-0 JUSTID
            XPENDING s g - + 10; XTRIM s MAXLEN 1; XCLAIM s g carol 0 7-0 8-0 9-0 10-0 JUSTID
            XPENDING s g; XCLAIM s g carol 0 5-0; XPENDING s g - + 10; XINFO CONSUMERS s g
            """)

    def test_xautoclaim(self):
        self.fill(n=20)
        self.xseq("""
            XGROUP CREATE s g 0; XREADGROUP GROUP g alice COUNT 15 STREAMS s >
            XAUTOCLAIM s g bob 0 0; XAUTOCLAIM s g bob 0 0 COUNT 3
            XAUTOCLAIM s g carol 0 5-0 COUNT 4; XAUTOCLAIM s g carol 0 (5-0 COUNT 4 JUSTID
            XAUTOCLAIM s g dave 86400000 0; XCLAIM s g alice 0 3-0 4-0 IDLE 172800000
            XAUTOCLAIM s g dave 86400000 0; XAUTOCLAIM s g dave 86400000 0 JUSTID
            XPENDING s g - + 20; XDEL s 6-0 7-0 10-0; XAUTOCLAIM s g erin 0 0 COUNT 5
            XPENDING s g - + 20; XAUTOCLAIM s g erin 0 0 COUNT 2
            XAUTOCLAIM s g erin 0 0 COUNT 100 JUSTID; XAUTOCLAIM s g frank 0 15-0
            XAUTOCLAIM s g frank 0 16-0; XAUTOCLAIM s g frank 0 -; XAUTOCLAIM s g frank 0 +
            XINFO CONSUMERS s g; XINFO GROUPS s; XTRIM s MAXLEN 0; XAUTOCLAIM s g grace 0 0 COUNT 3
            XAUTOCLAIM s g grace 0 0; XPENDING s g; XINFO CONSUMERS s g
            """)
        self.xseq("""
            XAUTOCLAIM s g c 0 0 COUNT 0; XAUTOCLAIM s g c 0 0 COUNT -1
            XAUTOCLAIM s g c 0 0 COUNT x; XAUTOCLAIM s g c 0 0 COUNT
            XAUTOCLAIM s g c 0 0 COUNT 1073741824; XAUTOCLAIM s g c 0 0 COUNT 9223372036854775807
            XAUTOCLAIM s g c -1 0; XAUTOCLAIM s g c x 0; XAUTOCLAIM s g c 0 bad
            XAUTOCLAIM s g c 0 0 FOO; XAUTOCLAIM s g c 0 0 JUSTID JUSTID; XAUTOCLAIM s nosuch c 0 0
            XAUTOCLAIM missing g c 0 0; XAUTOCLAIM s g c 0 (0; XAUTOCLAIM s g c 0 0-*
            """)

    def test_xautoclaim_cursor(self):
        # Walk the PEL with a small COUNT until the cursor comes back to 0-0.
        self.fill(n=30)
        self.check("XGROUP", "CREATE", "s", "g", "0")
        self.check("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
        self.check("XDEL", "s", *["%d-0" % i for i in range(3, 30, 4)])
        cursor = "0"
        for _ in range(40):
            reply = decode(self.xcheck("XAUTOCLAIM", "s", "g", "b", "0", cursor, "COUNT", "3"))
            if not isinstance(reply, list) or reply[0] == b"0-0":
                break
            cursor = reply[0]
        self.group_state("s", "g")

    def test_xinfo(self):
        self.fill()
        self.xseq("""
            XINFO STREAM s; XINFO STREAM s FULL; XINFO STREAM s FULL COUNT 3
            XINFO STREAM s FULL COUNT 0; XINFO STREAM s FULL COUNT -1; XINFO STREAM s FULL COUNT abc
            XINFO STREAM s FULL COUNT; XINFO STREAM s COUNT 3; XINFO STREAM s FOO
            XINFO STREAM s full; XINFO STREAM missing; XINFO STREAM missing FULL
            XINFO STREAM s FULL COUNT 1 extra; XGROUP CREATE s g1 0; XGROUP CREATE s g2 $
            XREADGROUP GROUP g1 alice COUNT 12 STREAMS s >; XREADGROUP GROUP g2 bob STREAMS s >
            XGROUP CREATECONSUMER s g2 carol; XINFO STREAM s; XINFO STREAM s FULL
            XINFO STREAM s FULL COUNT 2; XINFO STREAM s FULL COUNT 1000; XINFO GROUPS s
            XINFO CONSUMERS s g1; XINFO CONSUMERS s g2; XINFO CONSUMERS s g3; XDEL s 1-0 10-0
            XINFO STREAM s; XINFO STREAM s FULL COUNT 1
            """)
        # More than ten entries in a PEL: FULL's COUNT limits the PELs too.
        self.xadd_many("s", ["%d-0" % i for i in range(11, 41)])
        self.xcheck("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "s", ">")
        self.xcheck("XINFO", "STREAM", "s", "FULL")
        self.xcheck("XINFO", "STREAM", "s", "FULL", "COUNT", "15")
        self.xcheck("XINFO", "STREAM", "s", "FULL", "COUNT", "0")

    def test_lag(self):
        # entries-read and lag as the stream changes under the groups.
        self.fill()
        groups = [("g0", "0", ()), ("g5", "5-0", ()), ("gend", "$", ()),
                  ("gread", "3-0", ("ENTRIESREAD", "3")), ("gbad", "3-0", ("ENTRIESREAD", "7"))]
        for name, start, opts in groups:
            self.check("XGROUP", "CREATE", "s", name, start, *opts)
        steps = [("XREADGROUP", "GROUP", "g0", "c", "COUNT", "2", "STREAMS", "s", ">"),
                 ("XADD", "s", "11-0", "f", "v"),
                 ("XREADGROUP", "GROUP", "g5", "c", "COUNT", "1", "STREAMS", "s", ">"),
                 ("XDEL", "s", "8-0"),
                 ("XREADGROUP", "GROUP", "g0", "c", "COUNT", "3", "STREAMS", "s", ">"),
                 ("XDEL", "s", "1-0"), ("XDEL", "s", "11-0"), ("XADD", "s", "12-0", "f", "v"),
                 ("XREADGROUP", "GROUP", "gend", "c", "STREAMS", "s", ">"),
                 ("XREADGROUP", "GROUP", "gread", "c", "COUNT", "2", "STREAMS", "s", ">"),
                 ("XTRIM", "s", "MAXLEN", "5"),
                 ("XREADGROUP", "GROUP", "g5", "c", "STREAMS", "s", ">"),
                 ("XSETID", "s", "20-0", "ENTRIESADDED", "30", "MAXDELETEDID", "15-0"),
                 ("XGROUP", "SETID", "s", "g0", "10-0"),
                 ("XGROUP", "SETID", "s", "g5", "0", "ENTRIESREAD", "0"),
                 ("XADD", "s", "21-0", "f", "v"),
                 ("XREADGROUP", "GROUP", "gbad", "c", "STREAMS", "s", ">"),
                 ("XGROUP", "SETID", "s", "gread", "$"),
                 ("XREADGROUP", "GROUP", "g0", "c", "STREAMS", "s", ">"),
                 ("XTRIM", "s", "MAXLEN", "0"), ("XADD", "s", "22-0", "f", "v"),
                 ("XGROUP", "SETID", "s", "gend", "0")]
        self.xcheck("XINFO", "GROUPS", "s")
        for cmd in steps:
            self.xcheck(*cmd)
            self.xcheck("XINFO", "GROUPS", "s")
            self.xcheck("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
        # A group created on an empty stream, and lag when the first entry is deleted.
        self.xseq("""
            XGROUP CREATE e g 0 MKSTREAM; XINFO GROUPS e; XADD e 1-1 f v; XADD e 1-2 f v
            XINFO GROUPS e; XDEL e 1-1; XINFO GROUPS e; XREADGROUP GROUP g c COUNT 1 STREAMS e >
            XINFO GROUPS e; XDEL e 1-2; XINFO GROUPS e; XADD e 2-0 f v; XINFO GROUPS e
            XGROUP CREATE e h 1-1; XINFO GROUPS e; XGROUP CREATE e i 0-0 ENTRIESREAD 0
            XINFO GROUPS e; XGROUP CREATE e j 9-0; XINFO GROUPS e
            """)


# --- keyspace notifications -------------------------------------------------------------------

class StreamKeyspaceEvents(EventsMixin, StreamCase):
    STEPS = [
        [("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "1-1", "f", "v"),
         ("XADD", "s", "NOMKSTREAM", "2-0", "f", "v"),
         ("XADD", "n", "NOMKSTREAM", "2-0", "f", "v")],
        [("XADD", "s", "MAXLEN", "1", "3-0", "f", "v"),
         ("XADD", "s", "MAXLEN", "5", "4-0", "f", "v"),
         ("XADD", "s", "MINID", "4", "5-0", "f", "v"),
         ("XADD", "s", "MAXLEN", "~", "1", "6-0", "f", "v")],
        [("XDEL", "s", "4-0"), ("XDEL", "s", "4-0"), ("XDEL", "s", "5-0", "99-0"),
         ("XDEL", "missing", "1-1")],
        [("XTRIM", "s", "MAXLEN", "10"), ("XTRIM", "s", "MAXLEN", "0"),
         ("XTRIM", "s", "MAXLEN", "0"), ("XTRIM", "missing", "MAXLEN", "0"), ("EXISTS", "s")],
        [("XSETID", "s", "10-0"), ("XSETID", "s", "10-0"), ("XSETID", "s", "1-0"),
         ("XSETID", "missing", "1-0")],
        [("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g", "0"),
         ("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"), ("XGROUP", "CREATE", "x", "g", "$")],
        [("XGROUP", "CREATECONSUMER", "s", "g", "c"), ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
         ("XGROUP", "SETID", "s", "g", "$"), ("XGROUP", "SETID", "s", "nosuch", "$")],
        [("XADD", "s", "11-0", "f", "v"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
         ("XREADGROUP", "GROUP", "g", "new", "STREAMS", "s", "0"),
         ("XREADGROUP", "GROUP", "g", "new2", "STREAMS", "s", ">"),
         ("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">")],
        [("XACK", "s", "g", "11-0"), ("XACK", "s", "g", "11-0"), ("XADD", "s", "12-0", "f", "v"),
         ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
         ("XCLAIM", "s", "g", "d", "0", "12-0"), ("XCLAIM", "s", "g", "d2", "86400000", "12-0"),
         ("XCLAIM", "s", "g", "d3", "0", "99-0", "FORCE"),
         ("XAUTOCLAIM", "s", "g", "e", "0", "0"), ("XAUTOCLAIM", "s", "g", "e2", "86400000", "0")],
        [("XGROUP", "DELCONSUMER", "s", "g", "e"), ("XGROUP", "DELCONSUMER", "s", "g", "e"),
         ("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "DESTROY", "s", "g")],
        [("XADD", "s", "13-0", "f", "v"), ("XDEL", "s", "13-0"), ("DEL", "s"), ("DEL", "m"),
         ("XREAD", "STREAMS", "s", "0"), ("XRANGE", "s", "-", "+")],
    ]

    def setUp(self):
        super().setUp()
        self.subscribe_events()

    def run_steps(self, flags):
        self.check("FLUSHALL")
        self.compare_events("flush before %s" % flags)
        self.set_both("notify-keyspace-events", flags)
        for i, step in enumerate(self.STEPS):
            for cmd in step:
                self.xcheck(*cmd)
            self.compare_events("%s step %d: %s" % (flags, i, "; ".join(show(c) for c in step)))
        self.set_both("notify-keyspace-events", "")

    def test_stream_events(self):
        self.run_steps("KEA")

    def test_flag_filters(self):
        for flags in ("Kt", "Et", "Eg", "KEg$", "Ktd", "KEAm", "Kn", "KEAn"):
            with self.subTest(flags=flags):
                self.run_steps(flags)

    def test_served_blocked_client_events(self):
        self.set_both("notify-keyspace-events", "KEA")
        a = self.new_pair()
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.compare_events("create")
        for cmd in (("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "NOACK", "STREAMS", "s", ">")):
            self.block(a, *cmd)
            self.compare_events("%s blocked" % show(cmd))
            self.check("XADD", "s", "%d-*" % len(cmd), "f", "v")
            self.reply(a)
            self.compare_events("%s served" % show(cmd))
        self.block(a, "XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "s", ">")
        self.check("DEL", "s")
        self.reply(a)
        self.compare_events("blocked reader's stream deleted")


# --- transactions and RESP3 ------------------------------------------------------------------

class StreamTransactions(StreamCase):
    def test_multi_exec(self):
        self.xseq("""
            MULTI; XADD s 1-1 f v; XADD s 1-1 f v; XADD s 2-0 g w; XRANGE s - +; XLEN s
            XGROUP CREATE s g 0; XREADGROUP GROUP g c STREAMS s >; XACK s g 1-1; XPENDING s g
            XREAD STREAMS s 0; XDEL s 1-1; XTRIM s MAXLEN 0; XSETID s 5-0; XINFO GROUPS s; EXEC
            MULTI; XADD s; XADD s 6-0 f v; EXEC; XLEN s; MULTI; XREAD BLOCK 0 STREAMS s $
            XREADGROUP GROUP g c BLOCK 0 STREAMS s >; XREAD BLOCK 0 STREAMS missing 0
            XADD s 6-0 f v; XREAD BLOCK 0 STREAMS s 5-0; EXEC; MULTI
            XREADGROUP GROUP nosuch c STREAMS s >; XADD s 7-0 f v; EXEC; XRANGE s - +
            """)

    def test_watch(self):
        other = self.new_pair()
        self.check("XADD", "s", "1-1", "f", "v")
        self.check("XADD", "s", "1-2", "f", "v")
        self.check("XGROUP", "CREATE", "s", "g", "0")
        for cmd in (("XADD", "s", "2-*", "f", "v"), ("XDEL", "s", "99-0"), ("XDEL", "s", "2-0"),
                    ("XTRIM", "s", "MAXLEN", "100"), ("XSETID", "s", "2-0"), ("XSETID", "s", "3-0"),
                    ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
                    ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
                    ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"),
                    ("XACK", "s", "g", "1-1"), ("XACK", "s", "g", "1-1"),
                    ("XCLAIM", "s", "g", "d", "0", "1-2"), ("XAUTOCLAIM", "s", "g", "e", "0", "0"),
                    ("XPENDING", "s", "g"), ("XREAD", "STREAMS", "s", "0"),
                    ("XINFO", "STREAM", "s"),
                    ("XGROUP", "SETID", "s", "g", "0"), ("XGROUP", "DELCONSUMER", "s", "g", "e"),
                    ("XGROUP", "DELCONSUMER", "s", "g", "nobody"), ("XGROUP", "DESTROY", "s", "g"),
                    ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "DESTROY", "s", "nosuch")):
            with self.subTest(watched=show(cmd)):
                self.check("WATCH", "s")
                self.xcheck(*cmd, pair=other)
                self.check("MULTI")
                self.check("XLEN", "s")
                self.check("EXEC")

    def test_served_after_exec(self):
        a = self.new_pair()
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        self.block(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        self.check("MULTI")
        self.check("XADD", "s", "1-1", "f", "v")
        self.check("XADD", "s", "1-2", "f", "v")
        self.check("XDEL", "s", "1-1")
        self.check("EXEC")
        self.reply(a)
        self.check_blocked()
        self.group_state("s", "g")


class StreamResp3(StreamCase):
    def test_resp3_replies(self):
        p = self.resp3_pair()
        self.xadd_many("s", ["%d-0" % i for i in range(1, 8)])
        for cmd in (("XRANGE", "s", "-", "+"), ("XRANGE", "s", "-", "+", "COUNT", "0"),
                    ("XREVRANGE", "s", "+", "-", "COUNT", "2"), ("XRANGE", "missing", "-", "+"),
                    ("XREAD", "STREAMS", "s", "0"),
                    ("XREAD", "COUNT", "1", "STREAMS", "s", "s", "0", "5"),
                    ("XREAD", "STREAMS", "s", "$"), ("XREAD", "STREAMS", "missing", "0"),
                    ("XREAD", "BLOCK", "10", "STREAMS", "s", "$"), ("XLEN", "s"),
                    ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "h", "$"),
                    ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "h", "bob", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "h", "bob", "BLOCK", "10", "STREAMS", "s", ">"),
                    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
                    ("XDEL", "s", "2-0"),
                    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
                    ("XPENDING", "s", "g"), ("XPENDING", "s", "h"),
                    ("XPENDING", "s", "g", "-", "+", "10"),
                    ("XCLAIM", "s", "g", "carol", "0", "1-0", "2-0", "3-0"),
                    ("XCLAIM", "s", "g", "carol", "0", "4-0", "JUSTID"),
                    ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2"),
                    ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "JUSTID"),
                    ("XINFO", "STREAM", "s"), ("XINFO", "STREAM", "s", "FULL"),
                    ("XINFO", "STREAM", "s", "FULL", "COUNT", "1"), ("XINFO", "GROUPS", "s"),
                    ("XINFO", "CONSUMERS", "s", "g"), ("XINFO", "HELP"), ("XGROUP", "HELP"),
                    ("XSETID", "s", "9-0"), ("XTRIM", "s", "MAXLEN", "0"), ("XINFO", "STREAM", "s"),
                    ("XINFO", "STREAM", "s", "FULL"), ("XINFO", "GROUPS", "s"),
                    ("XADD", "e", "NOMKSTREAM", "1-1", "f", "v"), ("XINFO", "STREAM", "missing")):
            self.xcheck(*cmd, pair=p)
        self.check("DEL", "s")
        self.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM", pair=p)
        self.xcheck("XINFO", "STREAM", "s", pair=p)
        self.xcheck("XINFO", "STREAM", "s", "FULL", pair=p)
        self.xcheck("XINFO", "GROUPS", "s", pair=p)


# --- seeded random sequences ------------------------------------------------------------------

STREAM_KEYS = ["s0", "s1", "s2"]
FAR_KEY = "far"  # a stream whose last ID is FAR-n: `*` is deterministic there
GROUPS = ["g1", "g2", "g3"]
CONSUMERS = ["alice", "bob", "carol", "dave"]
FIELDS = ["f", "f", "f", "g", "name", "", "123"]
VALUES = ["v", "1", "-0", "123", INT64_MAX, "12345678901234567890", "", "x" * 40, "y" * 300,
          BIN, "3.5"]
RESTORE_KEY = "copy"


class Generator:
    """Random stream commands (and a few others) over STREAM_KEYS and FAR_KEY; many fail on
    purpose (IDs not above the top, unknown groups, bad arguments)."""

    WEIGHTS = {"xadd": 14, "xdel": 3, "xtrim": 1.5, "xrange": 4, "xlen": 1, "xread": 3,
               "xsetid": 1, "xgroup": 5, "xreadgroup": 7, "xack": 3, "xpending": 3, "xclaim": 3,
               "xautoclaim": 2, "xinfo": 3, "del": 0.5, "set": 0.3, "type": 0.5, "config": 0.3,
               "hello": 0.3, "multi": 0.5, "restore": 0.3, "invalid": 1}

    def __init__(self, rng, exclude=()):
        self.rng = rng
        self.clock = 1
        # IDs XADD returned and XREADGROUP delivered lately (fed by the test from Redis's replies,
        # which are deterministic for a given sequence), so that XDEL, XACK, XCLAIM... often
        # name existing and pending entries.
        self.added = []
        self.delivered = []  # (key, group, id)
        self.created = []  # (key, group) of successful XGROUP CREATEs
        self.gens = [getattr(self, n) for n in sorted(dir(self))
                     if n.startswith("gen_") and n[4:] not in exclude]
        self.weights = [self.WEIGHTS[g.__name__[4:]] for g in self.gens]

    def pick(self, *choices):
        return self.rng.choice(choices)

    def maybe(self, p, *args):
        return list(args) if self.rng.random() < p else []

    def key(self, far=True):
        r = self.rng.random()
        if far and r < 0.12:
            return FAR_KEY
        if r < 0.15:
            return self.pick("str", "missing")
        return self.rng.choice(STREAM_KEYS)

    def note_reply(self, cmd, reply):
        """Remembers the IDs and groups in Redis's reply to `cmd`."""
        if cmd[0] == "XADD" and isinstance(reply, bytes) and re.match(rb"\d+-\d+$", reply):
            self.added = (self.added + [reply.decode()])[-40:]
        elif cmd[:2] == ["XGROUP", "CREATE"] and reply == b"OK":
            self.created = (self.created + [(cmd[2], cmd[3])])[-20:]
        elif cmd[:2] == ["XGROUP", "DESTROY"] and reply == 1:
            self.created = [c for c in self.created if c != (cmd[2], cmd[3])]
        elif cmd[0] in ("DEL", "SET"):
            self.created = [c for c in self.created if c[0] != cmd[1]]
        elif cmd[0] == "XREADGROUP" and isinstance(reply, list):
            found = []
            for stream in reply:
                if not (isinstance(stream, (list, tuple)) and len(stream) == 2):
                    continue
                key, entries = stream[0].decode(), stream[1]
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, list) and entry and isinstance(entry[0], bytes):
                        found.append((key, cmd[2], entry[0].decode()))
            self.delivered = (self.delivered + found)[-40:]

    def pending_entry(self):
        """(key, group, id) of an entry some XREADGROUP delivered, or None."""
        if self.delivered and self.rng.random() < 0.7:
            return self.rng.choice(self.delivered)
        return None

    def key_group(self):
        """A key and a group, mostly one that was created."""
        if self.created and self.rng.random() < 0.7:
            return self.rng.choice(self.created)
        return self.key(), self.group()

    def old_id(self, far=True):
        """An ID that may well be in a stream (or have been); with far False, never one of
        FAR_KEY's (which would stop a stream from taking the generator's IDs)."""
        known = [i for i in self.added + [d[2] for d in self.delivered]
                 if far or not i.startswith(FAR)]
        if known and self.rng.random() < 0.6:
            return self.rng.choice(known)
        if far and self.rng.random() < 0.1:
            return "%s-%d" % (FAR, self.rng.randint(0, 30))
        ms = max(1, self.clock - self.rng.randint(0, 25))
        return "%d-%d" % (ms, self.rng.randint(0, 3)) if self.rng.random() < 0.85 else str(ms)

    def new_id(self, key):
        if key == FAR_KEY:
            return self.pick("*", "*", "*", FAR + "-*", "%s-%d" % (FAR, self.rng.randint(0, 60)))
        self.clock += self.rng.choice([0, 1, 1, 1, 2])
        r = self.rng.random()
        if r < 0.5:
            return "%d-%d" % (self.clock, self.rng.randint(0, 3))
        if r < 0.75:
            return "%d-*" % self.clock
        if r < 0.83:
            return str(self.clock)
        if r < 0.95:
            return self.old_id(far=False)
        return self.pick("0-0", "abc", "1-x", "0-*", "*-1", "")

    def bound(self, low):
        r = self.rng.random()
        if r < 0.3:
            return "-" if low else "+"
        if r < 0.8:
            return self.old_id()
        if r < 0.95:
            return "(" + self.old_id()
        return self.pick("abc", "(-", "(+", MAX_ID, "0", "(" + MAX_ID)

    def count(self):
        return str(self.rng.randint(0, 6)) if self.rng.random() < 0.9 else self.pick("-1", "abc")

    def group(self):
        return self.rng.choice(GROUPS) if self.rng.random() < 0.95 else "nosuch"

    def consumer(self):
        return self.rng.choice(CONSUMERS)

    def fields(self):
        n = self.pick(1, 1, 1, 2, 3)
        out = [x for _ in range(n) for x in (self.rng.choice(FIELDS), self.rng.choice(VALUES))]
        return out if self.rng.random() < 0.98 else out[:-1]

    def trim_args(self):
        if self.rng.random() < 0.5:
            strategy, threshold = "MAXLEN", str(self.rng.randint(0, 60))
            if self.rng.random() < 0.03:
                threshold = self.pick("-1", "abc")
        else:
            strategy, threshold = "MINID", "%d" % max(0, self.clock - self.rng.randint(5, 60))
        op = self.pick("~", "~", "=", None, None)
        args = [strategy] + ([op] if op else []) + [threshold]
        if self.rng.random() < (0.4 if op == "~" else 0.03):
            args += ["LIMIT", self.pick("0", "1", "3", "10", "-1")]
        return args

    def idle(self):
        return self.pick("0", "0", "0", DAY_MS)

    def gen_xadd(self):
        key = self.key()
        return (["XADD", key] + self.maybe(0.1, "NOMKSTREAM") +
                (self.trim_args() if self.rng.random() < 0.25 else []) +
                [self.new_id(key)] + self.fields())

    def gen_xdel(self):
        return ["XDEL", self.key()] + [self.old_id() for _ in range(self.pick(1, 1, 2, 4))]

    def gen_xtrim(self):
        return ["XTRIM", self.key()] + self.trim_args()

    def gen_xrange(self):
        name = self.pick("XRANGE", "XREVRANGE")
        lo, hi = self.bound(True), self.bound(False)
        args = [lo, hi] if name == "XRANGE" else [hi, lo]
        return [name, self.key()] + args + self.maybe(0.4, "COUNT", self.count())

    def gen_xlen(self):
        return self.pick(["XLEN"], ["EXISTS"], ["OBJECT", "ENCODING"]) + [self.key()]

    def gen_xread(self):
        keys = list(dict.fromkeys(self.key() for _ in range(self.pick(1, 1, 2, 3))))
        ids = [self.pick("0", "$", self.old_id(), self.old_id()) for _ in keys]
        if self.rng.random() < 0.03:
            ids = ids[:-1]
        return (["XREAD"] + self.maybe(0.4, "COUNT", self.count()) +
                self.maybe(0.1, "BLOCK", "1") + ["STREAMS"] + keys + ids)

    def gen_xsetid(self):
        key = self.key()
        if key == FAR_KEY:
            last = "%s-%d" % (FAR, self.rng.randint(0, 80))
        else:
            last = self.pick(str(self.clock), "%d-5" % self.clock, self.old_id(far=False), "0-0")
        return (["XSETID", key, last] +
                self.maybe(0.3, "ENTRIESADDED", str(self.rng.randint(0, 200))) +
                self.maybe(0.2, "MAXDELETEDID", self.old_id(far=key == FAR_KEY)))

    def gen_xgroup(self):
        key, group = self.key(), self.group()
        r = self.rng.random()
        if r < 0.45:
            return (["XGROUP", "CREATE", key, group, self.pick("0", "0", "$", self.old_id())] +
                    self.maybe(0.3, "MKSTREAM") +
                    self.maybe(0.2, "ENTRIESREAD", self.pick("0", "3", "-1", "1000")))
        if r < 0.62:
            return (["XGROUP", "SETID", key, group, self.pick("0", "$", self.old_id())] +
                    self.maybe(0.3, "ENTRIESREAD", self.pick("0", "3", "-1", "1000")))
        if r < 0.77:
            return ["XGROUP", "CREATECONSUMER", key, group, self.consumer()]
        if r < 0.9:
            return ["XGROUP", "DELCONSUMER", key, group, self.consumer()]
        if r < 0.97:
            return ["XGROUP", "DESTROY", key, group]
        return ["XGROUP", self.pick("HELP", "FOO")]

    def gen_xreadgroup(self):
        key, group = self.key_group()
        keys = list(dict.fromkeys([key] + [self.key() for _ in range(self.pick(0, 0, 0, 1))]))
        ids = [self.pick(">", ">", ">", "0", self.old_id()) for _ in keys]
        return (["XREADGROUP", "GROUP", group, self.consumer()] +
                self.maybe(0.5, "COUNT", self.count()) + self.maybe(0.15, "NOACK") +
                self.maybe(0.05, "BLOCK", "1") + ["STREAMS"] + keys + ids)

    def gen_xack(self):
        entry = self.pending_entry()
        key, group = entry[:2] if entry else self.key_group()
        return (["XACK", key, group] + ([entry[2]] if entry else []) +
                [self.old_id() for _ in range(self.pick(0, 1, 1, 2) if entry else self.pick(1, 2))])

    def gen_xpending(self):
        key, group = self.key_group()
        cmd = ["XPENDING", key, group]
        if self.rng.random() < 0.3:
            return cmd
        return (cmd + self.maybe(0.3, "IDLE", self.idle()) +
                [self.bound(True), self.bound(False), self.count()] +
                self.maybe(0.3, self.consumer()))

    def gen_xclaim(self):
        entry = self.pending_entry()
        key, group = entry[:2] if entry else self.key_group()
        cmd = ["XCLAIM", key, group, self.consumer(), self.idle()]
        cmd += ([entry[2]] if entry else []) + [self.old_id() for _ in range(self.pick(0, 1, 2))]
        if len(cmd) == 5:
            cmd.append(self.old_id())
        opts = [self.maybe(0.2, "IDLE", self.pick("0", TWO_DAYS_MS)),
                self.maybe(0.1, "TIME", "1000"),
                self.maybe(0.15, "RETRYCOUNT", self.pick("0", "5")),
                self.maybe(0.15, "FORCE"), self.maybe(0.3, "JUSTID"),
                self.maybe(0.1, "LASTID", self.old_id())]
        self.rng.shuffle(opts)
        return cmd + [a for o in opts for a in o]

    def gen_xautoclaim(self):
        key, group = self.key_group()
        return (["XAUTOCLAIM", key, group, self.consumer(), self.idle(),
                 self.pick("0", "0-0", self.old_id(), "(" + self.old_id())] +
                self.maybe(0.5, "COUNT", self.pick("1", "2", "5", "0")) + self.maybe(0.3, "JUSTID"))

    def gen_xinfo(self):
        key = self.key()
        r = self.rng.random()
        if r < 0.35:
            return ["XINFO", "STREAM", key]
        if r < 0.55:
            return (["XINFO", "STREAM", key, "FULL"] +
                    self.maybe(0.5, "COUNT", self.pick("0", "1", "3")))
        if r < 0.75:
            return ["XINFO", "GROUPS", key]
        if r < 0.97:
            return ["XINFO", "CONSUMERS", key, self.group()]
        return ["XINFO", "HELP"]

    def gen_del(self):
        return ["DEL", self.key(far=False)]

    def gen_set(self):
        return ["SET", "str" if self.rng.random() < 0.95 else self.key(far=False), "v"]

    def gen_type(self):
        return ["TYPE", self.key()]

    def gen_config(self):
        name = self.pick("stream-node-max-entries", "stream-node-max-bytes")
        value = (self.pick("1", "2", "5", "100", "0") if name.endswith("entries")
                 else self.pick("1", "100", "4096", "0"))
        return ["CONFIG", "SET", name, value]

    def gen_hello(self):
        return ["HELLO", self.pick("2", "3")]

    def gen_multi(self):
        # Only commands whose replies hold no times (EXEC's reply is not masked).
        gens = (self.gen_xadd, self.gen_xdel, self.gen_xrange, self.gen_xreadgroup, self.gen_xack,
                self.gen_xtrim, self.gen_xautoclaim)
        return ["<multi>"] + [self.rng.choice(gens)() for _ in range(self.pick(1, 2, 3))]

    def gen_restore(self):
        return ["<restore>", self.key(far=False)]

    def gen_invalid(self):
        cmd = self.command(plain=True)
        shorter = self.rng.random() < 0.5
        # (Never shorter than the command name: an invalid command of an invalid command may be
        # down to one word.)
        return cmd[:-1] if shorter and len(cmd) > 1 else cmd + ["extra"]

    def command(self, plain=False):
        while True:
            gen = self.rng.choices(self.gens, self.weights)[0]
            if plain and gen.__name__ in ("gen_multi", "gen_restore", "gen_invalid", "gen_type"):
                continue
            return gen()


class StreamRandom(StreamCase):
    def same(self, cmd, expected, actual):
        if expected == actual:
            return True
        if not isinstance(actual, bytes):
            return False
        if cmd[0] == "HELLO":
            return mask_hello_id(expected) == mask_hello_id(actual)
        em, et = mask_stream_reply(cmd, expected)
        am, at = mask_stream_reply(cmd, actual)
        return em == am and times_close(et, at)

    def run_batch(self, batch, history, seed, gen=None):
        data = b"".join(encode_command(*c) for c in batch)
        self.r.send(data)
        expected = self.r.read_replies(len(batch))
        self.k.send(data)
        for cmd, exp in zip(batch, expected):
            history.append(cmd)
            if gen and cmd[0] in ("XADD", "XREADGROUP", "XGROUP", "DEL", "SET") and \
                    exp[:1] not in (b"-", b"!"):
                gen.note_reply(cmd, decode(exp))
            try:
                actual = self.k.read_reply()
            except (ConnectionClosed, OSError) as e:
                actual = ("<connection lost: %s>" % e).encode()
            if not self.same(cmd, exp, actual):
                self.report(seed, history, cmd, exp, actual)

    def report(self, seed, history, cmd, expected, actual):
        recent = "\n".join("  " + show(c) for c in history[-30:])
        self.fail("random stream sequence diverged at command #%d (replay with "
                  "KEYWARD_DIFF_SEED=%d)\nlast commands:\n%s\ncommand: %s\n"
                  "redis:   %r\nkeyward: %r" % (len(history), seed, recent, show(cmd),
                                                expected, actual))

    def restore_copy(self, key, history, seed):
        """Redis's DUMP of `key` restored on both: what the copy shows must be the same,
        the times it carries included."""
        payload = decode(self.r.call("DUMP", key))
        if not isinstance(payload, bytes):
            return
        for cmd in (["RESTORE", RESTORE_KEY, "0", payload, "REPLACE"],
                    ["XINFO", "STREAM", RESTORE_KEY, "FULL"], ["DEL", RESTORE_KEY]):
            self.run_batch([cmd], history, seed)

    def test_random_sequence(self):
        seed = random_seed()
        count = int(os.environ.get("KEYWARD_STREAM_COMMANDS", "1500"))
        print("\nrandom stream sequence: KEYWARD_DIFF_SEED=%d, %d commands" % (seed, count),
              file=sys.stderr)
        rng = random.Random(seed)
        gen = Generator(rng, excluded_generators())
        history = []
        self.run_batch([["XADD", FAR_KEY, FAR + "-0", "f", "v"]], history, seed)
        while len(history) < count:
            batch = [gen.command() for _ in range(rng.choice([1, 1, 2, 3, 5]))]
            plain = []
            for cmd in batch:
                if cmd[0] in ("<multi>", "<restore>"):
                    if plain:
                        self.run_batch(plain, history, seed, gen)
                        plain = []
                    if cmd[0] == "<multi>":
                        self.run_batch([["MULTI"]] + cmd[1:] + [["EXEC"]], history, seed, gen)
                    else:
                        self.restore_copy(cmd[1], history, seed)
                else:
                    plain.append(cmd)
            if plain:
                self.run_batch(plain, history, seed, gen)
        for key in STREAM_KEYS + [FAR_KEY]:
            self.xcheck("XRANGE", key, "-", "+")
            self.xcheck("XINFO", "STREAM", key, "FULL", "COUNT", "0")
            self.xcheck("XINFO", "GROUPS", key)
            for group in GROUPS:
                self.xcheck("XPENDING", key, group, "-", "+", "1000")
                self.xcheck("XINFO", "CONSUMERS", key, group)


if __name__ == "__main__":
    unittest.main(verbosity=2)
