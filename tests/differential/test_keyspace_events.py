"""Differential tests of keyspace notifications: the same commands run on Keyward and on
redis-server with the same notify-keyspace-events flags, and the complete ordered streams of
events seen by a subscriber PSUBSCRIBEd to "__key*__:*" must be identical byte for byte.

Each step ends with a marker PUBLISHed by the commanding connection: everything the step
notified reaches the subscriber before the marker, so the events of one step are exactly the
messages read up to it. Lazy expiry runs with active expiry off (DEBUG SET-ACTIVE-EXPIRE 0) on
keys SET with an absolute time in the past, which stay in place, logically expired, until a
command touches them; active expiry is awaited as an event.

Environment (random part, as in test_random.py):
  KEYWARD_DIFF_SEED      seed to replay
  KEYWARD_DIFF_COMMANDS  commands in the random sequence (default 1500)
"""

import os
import random
import sys
import time
import unittest

from diff_support import DiffCase, show
from keyward_harness import ConnectionClosed, decode, encode_command

try:
    import test_random
except ImportError:  # run from elsewhere without the differential directory on the path
    test_random = None

FAR = "99999999999"
FAR_MS = "99999999999000"
MARKER_CHANNEL = b"__keyspace@0__:\x00marker"

# The flag sets every hand-written sequence runs under.
FLAG_SETS = ["KEA", "Kg", "E$", "Exn", "KEAm", "KEAn", "KEAmn"]

# Hand-written coverage of every write command Keyward has (and the reads that miss, for 'm').
# Each group's event stream is compared on its own, so a divergence points at a few commands.
SEQUENCES = [
    ("set", [
        ("SET", "k", "v"), ("SET", "k", "v2", "XX"), ("SET", "k", "v3", "NX"),
        ("SET", "n", "v", "NX"), ("SET", "missing", "v", "XX"), ("SET", "k", "v", "EX", "100"),
        ("SET", "k", "v", "PX", "100000", "GET"), ("SET", "k", "v", "KEEPTTL"),
        ("SET", "k", "v", "EXAT", FAR), ("SET", "k", "v", "PXAT", FAR_MS), ("SET", "k", "w", "GET"),
        ("SET", "new", "v", "GET"), ("SET", "n", "v", "NX", "GET"), ("SET", "k", "v", "EX", "0"),
        ("SET", "k", "v", "BADOPT"), ("SET", "k", "v", "XX", "EX", "10", "GET"),
    ]),
    ("setex", [
        ("SETEX", "se", "100", "v"), ("PSETEX", "pse", "100000", "v"), ("SETEX", "se", "0", "v"),
        ("PSETEX", "pse", "-5", "v"), ("SETEX", "se", "abc", "v"), ("SETNX", "se", "v"),
        ("SETNX", "nx", "v"), ("SETNX", "nx", "w"),
    ]),
    ("getset", [
        ("SET", "k", "v"), ("GETSET", "k", "v9"), ("GETSET", "newgs", "v"), ("GETDEL", "k"),
        ("GETDEL", "k"), ("GETDEL", "missing"), ("SET", "k", "v"), ("GETEX", "k"),
        ("GETEX", "k", "EX", "100"), ("GETEX", "k", "PX", "100000"), ("GETEX", "k", "PERSIST"),
        ("GETEX", "k", "PERSIST"), ("GETEX", "k", "EXAT", FAR), ("GETEX", "k", "PXAT", FAR_MS),
        ("GETEX", "k", "PXAT", "1"), ("GETEX", "missing"), ("GETEX", "missing", "EX", "10"),
        ("SET", "k", "v"), ("GETEX", "k", "EX", "0"), ("GETEX", "k", "EX", "-1"),
        ("GETEX", "k", "EXAT", "1"),
    ]),
    ("append_setrange", [
        ("APPEND", "ap", "a"), ("APPEND", "ap", "b"), ("APPEND", "ap", ""),
        ("APPEND", "ap2", ""), ("SETRANGE", "sr", "5", "x"), ("SETRANGE", "sr", "0", "yy"),
        ("SETRANGE", "sr", "0", ""), ("SETRANGE", "nosuch", "0", ""),
        ("SETRANGE", "nosuch", "3", ""), ("SETRANGE", "sr", "-1", "x"),
        ("SETRANGE", "sr", "536870912", "x"),
    ]),
    ("incr", [
        ("INCR", "i"), ("INCRBY", "i", "5"), ("DECR", "i"), ("DECRBY", "i", "2"),
        ("DECRBY", "d", "2"), ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "-1.5"),
        ("INCRBYFLOAT", "f2", "1e3"), ("SET", "s", "abc"), ("INCR", "s"), ("INCRBYFLOAT", "s", "1"),
        ("SET", "max", "9223372036854775807"), ("INCR", "max"), ("INCRBY", "i", "x"),
        ("INCRBYFLOAT", "f", "inf"),
    ]),
    ("mset", [
        ("MSET", "a", "1", "b", "2", "a", "3"), ("MSETNX", "c", "1", "d", "2"),
        ("MSETNX", "c", "1", "e", "2"), ("MSETNX", "e", "1", "e", "2"), ("MSET", "a"),
        ("MGET", "a", "missing", "b", "missing2"),
    ]),
    ("del", [
        ("MSET", "a", "1", "b", "2", "c", "3", "d", "4"), ("DEL", "a", "b", "missing"),
        ("DEL", "missing"), ("UNLINK", "c", "d", "c"), ("UNLINK", "missing"),
    ]),
    ("rename", [
        ("SET", "src", "v"), ("RENAME", "src", "dst"), ("RENAME", "dst", "dst"),
        ("RENAME", "missing", "x"), ("SET", "other", "o", "EX", "100"), ("RENAME", "dst", "other"),
        ("RENAMENX", "other", "fresh"), ("SET", "taken", "t"), ("RENAMENX", "fresh", "taken"),
        ("RENAMENX", "fresh", "fresh"), ("RENAMENX", "missing", "x"),
    ]),
    ("move_copy", [
        ("SET", "k", "v"), ("MOVE", "k", "1"), ("MOVE", "k", "1"), ("SELECT", "1"),
        ("MOVE", "k", "0"), ("SET", "k", "v1"), ("MOVE", "k", "0"), ("SELECT", "0"),
        ("MOVE", "missing", "1"), ("MOVE", "k", "0"), ("MOVE", "k", "99"),
        ("SET", "src", "v", "EX", "100"), ("COPY", "src", "dst"), ("COPY", "src", "dst"),
        ("COPY", "src", "dst", "REPLACE"), ("COPY", "src", "dst", "DB", "2"),
        ("COPY", "src", "dst", "DB", "2", "REPLACE"), ("COPY", "missing", "dst"),
        ("COPY", "src", "src"), ("COPY", "src", "d3", "DB", "0"),
    ]),
    ("expire", [
        ("SET", "x", "v"), ("EXPIRE", "x", "100"), ("PEXPIRE", "x", "100000"),
        ("EXPIREAT", "x", FAR), ("PEXPIREAT", "x", FAR_MS), ("EXPIRE", "x", "100", "NX"),
        ("EXPIRE", "x", "100", "XX"), ("EXPIREAT", "x", "99999999990", "GT"),
        ("EXPIREAT", "x", "99999999990", "LT"), ("PERSIST", "x"), ("PERSIST", "x"),
        ("EXPIRE", "x", "100", "XX"), ("EXPIRE", "missing", "10"), ("PERSIST", "missing"),
        ("EXPIRE", "x", "0"), ("SET", "x", "v"), ("EXPIRE", "x", "-5"), ("SET", "x", "v"),
        ("EXPIREAT", "x", "1"), ("SET", "x", "v"), ("PEXPIRE", "x", "0"), ("SET", "x", "v"),
        ("PEXPIREAT", "x", "1"), ("SET", "x", "v"), ("EXPIRE", "x", "abc"),
        ("EXPIRE", "x", "9223372036854775807"),
    ]),
    ("databases", [
        ("SELECT", "3"), ("SET", "k", "v"), ("DEL", "k"), ("SET", "k", "v"), ("SELECT", "0"),
        ("SET", "k", "v0"), ("SWAPDB", "0", "3"), ("GET", "k"), ("DEL", "k"), ("FLUSHDB",),
        ("SET", "k", "v"), ("FLUSHALL",), ("FLUSHDB",),
    ]),
    ("bitmaps", [
        ("SET", "a", "\xff"), ("SET", "b", "\x0f"), ("BITOP", "AND", "dst", "a", "b"),
        ("BITOP", "OR", "dst", "a", "missing"), ("BITOP", "XOR", "dst", "missing", "missing2"),
        ("BITOP", "NOT", "dst", "a"), ("BITOP", "NOT", "dst", "missing"),
        ("BITOP", "NOT", "dst", "missing"), ("SETBIT", "bm", "7", "1"),
        ("SETBIT", "bm", "7", "1"), ("SETBIT", "bm", "100", "0"), ("SETBIT", "bm2", "0", "0"),
        ("SETBIT", "bm", "x", "1"), ("BITFIELD", "bf", "SET", "u8", "0", "255"),
        ("BITFIELD", "bf", "GET", "u8", "0"), ("BITFIELD", "bf2", "GET", "u8", "0"),
        ("BITFIELD", "bf", "INCRBY", "u8", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "u8", "0",
         "255"),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255"),
        ("BITFIELD", "bf3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "7"),
        ("BITFIELD_RO", "bf", "GET", "u8", "0"), ("BITFIELD_RO", "missing", "GET", "u8", "0"),
    ]),
    ("ttl_carry", [
        ("SET", "t", "v", "EX", "100"), ("SET", "t", "w", "KEEPTTL"), ("RENAME", "t", "t2"),
        ("MOVE", "t2", "4"), ("SELECT", "4"), ("COPY", "t2", "t3", "DB", "0"),
        ("EXPIRE", "t2", "0"), ("SELECT", "0"), ("PERSIST", "t3"), ("INCRBYFLOAT", "nf", "2"),
        ("SET", "t3", "v", "PXAT", "1"), ("GETEX", "t3", "PERSIST"), ("GET", "t3"),
        ("SET", "big", "x" * 100), ("SETRANGE", "big", "200", "y"), ("GETDEL", "big"),
    ]),
    ("reads", [
        # Misses of read commands are 'm' events (keymiss); some reads never report one.
        ("GET", "missing"), ("MGET", "a", "missing", "b"), ("GETRANGE", "missing", "0", "1"),
        ("SUBSTR", "missing", "0", "1"), ("STRLEN", "missing"), ("GETBIT", "missing", "0"),
        ("BITCOUNT", "missing"), ("BITPOS", "missing", "1"), ("TYPE", "missing"),
        ("EXISTS", "missing"), ("TTL", "missing"), ("PTTL", "missing"),
        ("EXPIRETIME", "missing"), ("PEXPIRETIME", "missing"), ("TOUCH", "missing"),
        ("LCS", "missing", "missing2"), ("OBJECT", "ENCODING", "missing"),
        ("OBJECT", "FREQ", "missing"), ("GETEX", "missing"), ("GETDEL", "missing"),
        ("KEYS", "*"), ("DBSIZE",), ("SET", "present", "v"), ("GET", "present"),
        ("LCS", "present", "missing"), ("MGET", "present"), ("SCAN", "0"), ("RANDOMKEY",),
    ]),
]

# Commands that find a logically expired key (active expiry off) and delete it on the way,
# each on its own key.
LAZY_TOUCHES = [
    ("GET", "{k}"), ("EXISTS", "{k}"), ("TTL", "{k}"), ("PTTL", "{k}"), ("TYPE", "{k}"),
    ("SET", "{k}", "new"), ("SET", "{k}", "new", "XX"), ("SET", "{k}", "new", "NX"),
    ("DEL", "{k}"), ("UNLINK", "{k}"), ("INCR", "{k}"), ("APPEND", "{k}", "x"),
    ("RENAME", "{k}", "dst"), ("RENAMENX", "{k}", "dst"), ("MGET", "{k}", "other"),
    ("EXPIRE", "{k}", "100"), ("PERSIST", "{k}"), ("COPY", "{k}", "dst"), ("MOVE", "{k}", "1"),
    ("GETDEL", "{k}"), ("GETEX", "{k}", "EX", "100"), ("SETRANGE", "{k}", "0", "x"),
    ("BITFIELD", "{k}", "SET", "u8", "0", "1"), ("BITOP", "AND", "dst", "{k}"),
    ("BITOP", "AND", "{k}", "other"), ("STRLEN", "{k}"), ("GETRANGE", "{k}", "0", "-1"),
    ("OBJECT", "ENCODING", "{k}"), ("TOUCH", "{k}"), ("GETBIT", "{k}", "0"),
    ("SETBIT", "{k}", "0", "1"), ("LCS", "{k}", "other"), ("SETNX", "{k}", "x"),
    ("MSETNX", "{k}", "x"), ("MSET", "{k}", "x"), ("GETSET", "{k}", "x"),
    ("INCRBYFLOAT", "{k}", "1"), ("SETEX", "{k}", "100", "x"), ("EXPIRETIME", "{k}"),
    ("BITCOUNT", "{k}"), ("BITPOS", "{k}", "1"), ("BITFIELD_RO", "{k}", "GET", "u8", "0"),
    ("KEYS", "*"), ("DBSIZE",), ("SCAN", "0"), ("COPY", "other", "{k}"),
    ("RENAME", "other", "{k}"), ("SELECT", "0"),
]


def unordered_keys(raw):
    """KEYS and a one-call SCAN list keys in hash order in Redis."""
    d = decode(raw)
    if isinstance(d, list) and len(d) == 2 and isinstance(d[1], list):
        return (d[0], sorted(d[1]))
    return sorted(d) if isinstance(d, list) else d


def describe(events):
    """Decoded events, one per line, for failure messages."""
    lines = []
    for raw in events:
        try:
            lines.append(repr(decode(raw)))
        except Exception:
            lines.append(repr(raw))
    return "\n".join("    " + line for line in lines) or "    (none)"


class KeyspaceEvents(DiffCase):
    SERVER_ARGS = ("--enable-debug-command", "yes")

    def setUp(self):
        super().setUp()
        self.addCleanup(self.restore)
        self.subscriber = self.new_pair()
        self.check("PSUBSCRIBE", "__key*__:*", pair=self.subscriber)
        self.markers = 0

    def restore(self):
        for c in (self.redis_srv.client(), self.keyward_srv.client()):
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            c.close()

    def set_flags(self, flags):
        self.check("CONFIG", "SET", "notify-keyspace-events", flags)

    # --- collecting events ----------------------------------------------------------------

    def collect(self, client, sub):
        """Publishes a marker through `client` and returns the raw messages `sub` received
        before it."""
        marker = b"%d" % self.markers
        client.send(encode_command("PUBLISH", MARKER_CHANNEL, marker))
        client.read_reply()
        events = []
        for _ in range(100000):
            msg = sub.read_reply()
            d = decode(msg)
            if isinstance(d, list) and d[2:] == [MARKER_CHANNEL, marker]:
                return events
            events.append(msg)
        raise AssertionError("no marker after 100000 messages")

    def compare_events(self, label, commands):
        self.markers += 1
        expected = self.collect(self.r, self.subscriber[0])
        try:
            actual = self.collect(self.k, self.subscriber[1])
        except (ConnectionClosed, OSError) as e:
            actual = ["<events lost: %s>" % e]
        if actual != expected:
            cmds = "\n".join("    " + show(c) for c in commands[-30:])
            self.fail("%s: event streams differ\ncommands:\n%s\nredis:\n%s\nkeyward:\n%s"
                      % (label, cmds, describe(expected), describe(actual)))
        return expected

    def run_sequence(self, label, commands):
        for cmd in commands:
            name = cmd[0].upper()
            self.check(*cmd, normalize=unordered_keys if name in ("KEYS", "SCAN") else None)
        return self.compare_events(label, commands)

    # --- hand-written sequences -----------------------------------------------------------

    def test_flags_and_commands(self):
        for flags in FLAG_SETS:
            for name, commands in SEQUENCES:
                with self.subTest(flags=flags, sequence=name):
                    self.r.call("FLUSHALL")
                    self.k.call("FLUSHALL")
                    self.set_flags(flags)
                    self.run_sequence("flags %r, %s" % (flags, name), commands)

    def test_sanity_events_arrive(self):
        # Guards the comparisons above against both servers sending nothing at all.
        self.set_flags("KEA")
        events = self.run_sequence("set", [("SET", "k", "v")])
        self.assertEqual([decode(e) for e in events],
                         [[b"pmessage", b"__key*__:*", b"__keyspace@0__:k", b"set"],
                          [b"pmessage", b"__key*__:*", b"__keyevent@0__:set", b"k"]])

    def test_no_flags_no_events(self):
        for flags in ("", "K", "E", "A", "g$"):
            with self.subTest(flags=flags):
                self.set_flags(flags)
                events = self.run_sequence("flags %r" % flags, SEQUENCES[0][1])
                self.assertEqual(events, [])

    def test_resp3_subscriber(self):
        sub = self.new_pair()
        self.check("HELLO", "3", pair=sub, normalize=lambda raw: raw[:1])
        self.check_raw(encode_command("SUBSCRIBE", "__keyevent@0__:set", "__keyspace@0__:k"), 2,
                       pair=sub)
        self.set_flags("KEA")
        self.check("SET", "k", "v")
        self.check("SET", "other", "v")
        self.check_raw(b"", 3, pair=sub)
        self.check("PING", pair=sub)

    def test_resp3_own_notifications(self):
        # A RESP3 connection that subscribes and runs commands itself: the pushes about its own
        # command come before or after the command's reply exactly where Redis puts them.
        pair = self.new_pair()
        self.check("HELLO", "3", pair=pair, normalize=lambda raw: raw[:1])
        self.check_raw(encode_command("PSUBSCRIBE", "__key*__:*"), 1, pair=pair)
        self.set_flags("KEAmn")
        for name, commands in SEQUENCES:
            self.r.call("FLUSHALL")
            self.k.call("FLUSHALL")
            for cmd in commands:
                self.check_own(pair, name, cmd)
        # Lazy expiry found by the connection's own command.
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        for touch in LAZY_TOUCHES:
            self.r.call("FLUSHALL")
            self.k.call("FLUSHALL")
            self.check_own(pair, "lazy", ("SET", "lazy", "v", "PXAT", "1"))
            self.check_own(pair, "lazy", tuple(a.replace("{k}", "lazy") for a in touch))
        self.check("PING", pair=pair)

    def check_own(self, pair, label, cmd):
        # A PING with a marker after the command: everything before its reply is the command's
        # reply and the pushes it caused, in the order they were sent.
        data = encode_command(*cmd) + encode_command("PING", MARKER_CHANNEL)
        pong = b"$%d\r\n%s\r\n" % (len(MARKER_CHANNEL), MARKER_CHANNEL)

        def until_pong(conn):
            out = []
            while not out or out[-1] != pong:
                out.append(conn.read_reply())
            return [unordered_keys(x) if cmd[0] in ("KEYS", "SCAN") and x[:1] != b">" else x
                    for x in out[:-1]]

        r, k = pair
        r.send(data)
        expected = until_pong(r)
        k.send(data)
        try:
            actual = until_pong(k)
        except (ConnectionClosed, OSError) as e:
            actual = ["<connection lost: %s>" % e]
        with self.subTest(sequence=label, cmd=show(cmd)):
            self.assertEqual(actual, expected)

    # --- expiry -----------------------------------------------------------------------------

    def test_lazy_expiry(self):
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        for flags in ("KEA", "KEAmn", "Ex", "Kg"):
            for touch in LAZY_TOUCHES:
                with self.subTest(flags=flags, touch=show(touch)):
                    self.r.call("FLUSHALL")
                    self.k.call("FLUSHALL")
                    self.set_flags(flags)
                    key = "lazy"
                    setup = [("SET", key, "v", "PXAT", "1"), ("SET", "other", "o"),
                             ("SELECT", "1"), ("SET", key, "v1", "PXAT", "1"), ("SELECT", "0")]
                    cmd = tuple(a.replace("{k}", key) for a in touch)
                    self.run_sequence("flags %r, lazy expiry by %s" % (flags, show(cmd)),
                                      setup + [cmd, ("DBSIZE",)])

    def test_active_expiry(self):
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        for flags in ("KEA", "Ex", "Kx"):
            with self.subTest(flags=flags):
                self.set_flags(flags)
                for db, key in (("0", "a"), ("5", "b:\x00bin")):
                    self.check("SELECT", db)
                    # No marker between the SET and the expiry: the events up to "expired",
                    # which comes by itself, are compared as one stream.
                    self.check("SET", key, "v", "PX", "30")
                    expected = self.read_until_expired(self.subscriber[0], flags)
                    try:
                        actual = self.read_until_expired(self.subscriber[1], flags)
                    except (ConnectionClosed, OSError) as e:
                        actual = ["<no expired event: %s>" % e]
                    self.assertEqual(actual, expected, "flags %r: events of SET PX then active "
                                     "expiry\nredis:\n%s\nkeyward:\n%s"
                                     % (flags, describe(expected), describe(actual)))
                    self.check("EXISTS", key)
                self.check("SELECT", "0")
                self.compare_events("flags %r, after active expiry" % flags, [])

    @staticmethod
    def read_until_expired(sub, flags):
        """Messages up to and including the last notification of an expiry: the keyevent one
        when 'E' is on (Redis sends it after the keyspace one), else the keyspace one."""
        events = []
        while True:
            msg = sub.read_reply()
            events.append(msg)
            d = decode(msg)
            if "E" in flags and d[2].endswith(b":expired"):
                return events
            if "E" not in flags and d[3] == b"expired":
                return events

    # --- random -----------------------------------------------------------------------------

    def test_random_sequence(self):
        if test_random is None:
            self.skipTest("test_random.py (its command generator) is not importable")
        env_seed = os.environ.get("KEYWARD_DIFF_SEED")
        if env_seed:
            seed = int(env_seed)
        elif os.environ.get("CI"):
            seed = 20261121  # CI is reproducible; local runs explore new seeds
        else:
            seed = int(time.time() * 1000) % 1000000007
        count = int(os.environ.get("KEYWARD_DIFF_COMMANDS", "1500"))
        print("\nrandom keyspace-event sequence: KEYWARD_DIFF_SEED=%d, %d commands"
              % (seed, count), file=sys.stderr)
        rng = random.Random(seed)
        gen = test_random.Generator(rng, set())
        same = test_random.RandomSequences.same
        self.set_flags("KEAmn")
        history = []
        sent = 0
        while sent < count:
            batch = [gen.command() for _ in range(rng.choice([1, 1, 2, 3, 5]))]
            batch = [c for c in batch if c[1:2] != ["<full>"]]  # SCAN iterations: not here
            sent += len(batch)
            if not batch:
                continue
            data = b"".join(encode_command(*c) for c in batch)
            self.r.send(data)
            expected = self.r.read_replies(len(batch))
            self.k.send(data)
            for i, cmd in enumerate(batch):
                history.append(cmd)
                try:
                    actual = self.k.read_reply()
                except (ConnectionClosed, OSError) as e:
                    actual = ("<connection lost: %s>" % e).encode()
                if not same(cmd, expected[i], actual):
                    self.fail("reply diverged at command #%d (KEYWARD_DIFF_SEED=%d): %s\n"
                              "redis:   %r\nkeyward: %r" % (len(history), seed, show(cmd),
                                                            expected[i], actual))
            self.compare_events("random sequence at command #%d (KEYWARD_DIFF_SEED=%d)"
                                % (len(history), seed), history)


if __name__ == "__main__":
    unittest.main(verbosity=2)
