"""Differential tests of DUMP and RESTORE: Keyward vs redis-server 7.0.15.

What is compared, and how:
  * DUMP payloads byte for byte, for every type and encoding whose layout is deterministic:
    strings (integer, embstr, raw, LZF-compressed), listpack and multi-node quicklist lists,
    listpack hashes and sorted sets, intsets, skiplist sorted sets (written highest score first).
  * Hashtable sets and hashes iterate in table order, which differs between the servers (Redis
    seeds its hash function at random): their payloads are restored across (Redis's DUMP into
    Keyward, Keyward's into Redis) and the contents compared.
  * RESTORE of payloads Redis produced, for every type, under settings that make the restored
    value change encoding (or not); the restored key's DUMP, OBJECT ENCODING and contents.
  * RESTORE of payloads in the encodings Redis 6.2 and older wrote (RDB 9 and earlier: ziplists,
    quicklists of ziplists, zipmaps, linked lists, text scores), built here by Redis's rules with a
    version-9 footer: Redis 7.0 converts them, and Keyward must give the same values.
  * Every error reply byte for byte, and malformed payloads of every class. Redis runs with
    sanitize-dump-payload yes there (Keyward always sanitises; Redis's default, no, skips the
    checks that need a scan, such as duplicate fields in a listpack).
  * TTL, ABSTTL, REPLACE, IDLETIME and FREQ semantics, WATCH, and keyspace events.
"""

import os
import random
import struct
import sys
import unittest

from diff_support import DiffCase, EventsMixin
from keyward_harness import decode, unordered

FAR_MS = "99999999999000"  # an absolute time far in the future (year 5138)


# --- Payload building (Redis's formats) -----------------------------------------------------

def _crc64_table():
    poly = 0x95AC9329AC4BC9B5  # Jones, reflected
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data):
    crc = 0
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def footer(body, version=10):
    """A DUMP payload: the body, the RDB version and the CRC64 of both."""
    data = bytes(body) + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def body_of(payload):
    return payload[:-10]


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rdb_str(s):
    """A raw RDB string (never integer- or LZF-encoded)."""
    s = s.encode() if isinstance(s, str) else s
    return rdb_len(len(s)) + s


def canonical_int(s):
    """Redis's string2ll: the integer a string is the canonical text of, or None."""
    try:
        text = s.decode()
        v = int(text)
    except (UnicodeDecodeError, ValueError):
        return None
    if str(v) != text or not -2**63 <= v < 2**63:
        return None
    return v


def ziplist_entry(value, prevlen):
    """One ziplist entry as ziplistPush writes it (zipTryEncoding for integers)."""
    value = value.encode() if isinstance(value, str) else value
    head = bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
    v = canonical_int(value) if 0 < len(value) < 32 else None
    if v is None:
        n = len(value)
        if n < 64:
            enc = bytes([n])
        elif n < 16384:
            enc = bytes([0x40 | (n >> 8), n & 0xFF])
        else:
            enc = b"\x80" + struct.pack(">I", n)
        return head + enc + value
    if 0 <= v <= 12:
        return head + bytes([0xF1 + v])
    if -128 <= v <= 127:
        return head + b"\xfe" + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return head + b"\xc0" + struct.pack("<h", v)
    if -(1 << 23) <= v < (1 << 23):
        return head + b"\xf0" + struct.pack("<i", v)[:3]
    if -(1 << 31) <= v < (1 << 31):
        return head + b"\xd0" + struct.pack("<i", v)
    return head + b"\xe0" + struct.pack("<q", v)


def ziplist(values):
    body, prev, tail = b"", 0, 10
    for v in values:
        entry = ziplist_entry(v, prev)
        tail = 10 + len(body)
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, tail, min(len(values), 65535)) + body + b"\xff"


def zipmap(pairs):
    def zmlen(n):
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)
    out = bytes([min(len(pairs), 254)])
    for f, v in pairs:
        f = f.encode() if isinstance(f, str) else f
        v = v.encode() if isinstance(v, str) else v
        out += zmlen(len(f)) + f + zmlen(len(v)) + b"\x00" + v
    return out + b"\xff"


def intset(values, width=None):
    values = sorted(values)
    if width is None:
        width = 2
        for v in values:
            if not -2**15 <= v < 2**15:
                width = max(width, 4)
            if not -2**31 <= v < 2**31:
                width = 8
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def listpack_entry(value):
    """One listpack entry as lpAppend writes it (canonical integers as integers)."""
    value = value.encode() if isinstance(value, str) else value
    v = canonical_int(value) if len(value) <= 20 else None
    if v is None:
        n = len(value)
        if n < 64:
            enc = bytes([0x80 | n]) + value
        elif n < 4096:
            enc = bytes([0xE0 | (n >> 8), n & 0xFF]) + value
        else:
            enc = b"\xf0" + struct.pack("<I", n) + value
    elif 0 <= v <= 127:
        enc = bytes([v])
    elif -4096 <= v <= 4095:
        u = v & 0x1FFF
        enc = bytes([0xC0 | (u >> 8), u & 0xFF])
    elif -2**15 <= v < 2**15:
        enc = b"\xf1" + struct.pack("<h", v)
    elif -2**23 <= v < 2**23:
        enc = b"\xf2" + struct.pack("<i", v)[:3]
    elif -2**31 <= v < 2**31:
        enc = b"\xf3" + struct.pack("<i", v)
    else:
        enc = b"\xf4" + struct.pack("<q", v)
    n = len(enc)
    if n <= 127:
        back = bytes([n])
    elif n < 16383:
        back = bytes([n >> 7, (n & 127) | 128])
    else:
        back = bytes([n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128])
    return enc + back


def listpack(values):
    body = b"".join(listpack_entry(v) for v in values)
    return struct.pack("<IH", 6 + len(body) + 1, min(len(values), 65535)) + body + b"\xff"


def text_double(d):
    """rdbSaveDoubleValue: the %.17g text with a length byte (253..255 for nan, +inf, -inf)."""
    if d != d:
        return b"\xfd"
    if d == float("inf"):
        return b"\xfe"
    if d == float("-inf"):
        return b"\xff"
    s = ("%.17g" % d).encode()
    return bytes([len(s)]) + s


# Strings of every encoding: integers (within int32, beyond it), non-canonical numbers, embstr
# up to 44 bytes, raw beyond, LZF-compressible ones, and binary bytes.
STRINGS = [
    "", "hello", "0", "-1", "127", "128", "-129", "32768", "2147483647", "2147483648",
    "-2147483649", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "012", "+1", " 1", "1.5", "x" * 44, "y" * 45, "z" * 100, "ab" * 200, "1" * 30,
    "a\r\nb\x00c", bytes(range(256)), "ünïcödé", "x" * 21, "abcdefghijklmnopqrstu",
]


class DumpCase(DiffCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.restore_config)

    def restore_config(self):
        for name, value in (("hash-max-listpack-entries", "512"),
                            ("hash-max-listpack-value", "64"),
                            ("zset-max-listpack-entries", "128"),
                            ("zset-max-listpack-value", "64"),
                            ("set-max-intset-entries", "512"),
                            ("list-max-listpack-size", "-2")):
            self.r.call("CONFIG", "SET", name, value)
            self.k.call("CONFIG", "SET", name, value)
        self.r.call("CONFIG", "SET", "sanitize-dump-payload", "no")

    def dump(self, key):
        """DUMP on both, compared byte for byte; Redis's payload."""
        return decode(self.check("DUMP", key))

    def contents(self, key, client):
        """A key's type, encoding and value (order-free for sets and hashes)."""
        t = decode(client.call("TYPE", key))
        enc = client.call("OBJECT", "ENCODING", key)
        if t == "string":
            value = client.call("GET", key)
        elif t == "list":
            value = client.call("LRANGE", key, "0", "-1")
        elif t == "set":
            value = unordered(client.call("SMEMBERS", key))
        elif t == "hash":
            value = unordered(client.call("HGETALL", key), pairs=True)
        elif t == "zset":
            value = client.call("ZRANGE", key, "0", "-1", "WITHSCORES")
        else:
            value = None
        return t, enc, value

    def check_contents(self, key_r, key_k=None):
        expected = self.contents(key_r, self.r)
        actual = self.contents(key_k or key_r, self.k)
        with self.subTest(contents=key_r):
            self.assertEqual(actual, expected, "contents of %r" % key_r)

    def restore_both(self, key, payload, *options, ttl="0"):
        """RESTORE the same payload on both, replies compared; then the result's DUMP (when it is
        deterministic), encoding and contents."""
        reply = self.check("RESTORE", key, ttl, payload, *options)
        self.check_contents(key)
        return reply


# --- DUMP: payload bytes ----------------------------------------------------------------------

class DumpPayloads(DumpCase):
    def test_strings(self):
        for i, s in enumerate(STRINGS):
            key = "s%d" % i
            self.check("SET", key, s)
            self.check("OBJECT", "ENCODING", key)
            self.dump(key)
        # A raw string made by APPEND (Redis keeps it raw), and one by SETRANGE.
        self.check("SET", "ap", "12")
        self.check("APPEND", "ap", "34")
        self.dump("ap")
        self.check("SETRANGE", "sr", "30", "tail")
        self.dump("sr")
        self.check("INCRBY", "cnt", "1000000")
        self.dump("cnt")
        self.check("DUMP", "missing")

    def test_lists(self):
        self.check("RPUSH", "small", "a", "1", "-1", "300", "70000", "3000000000", "012", "",
                   "x" * 100)
        self.dump("small")
        # Many nodes under the default 8 KB limit, then edits inside the list.
        self.check("RPUSH", "big", *["element-%d" % i for i in range(2000)])
        self.dump("big")
        self.check("LINSERT", "big", "BEFORE", "element-1000", "inserted")
        self.check("LREM", "big", "0", "element-5")
        self.check("LSET", "big", "10", "y" * 5000)
        self.check("LPUSH", "big", "head")
        self.check("LTRIM", "big", "3", "-4")
        self.dump("big")
        # Count-limited nodes, and elements too big to share a node.
        self.set_both("list-max-listpack-size", "5")
        self.check("RPUSH", "counted", *[str(i) for i in range(23)])
        self.dump("counted")
        self.set_both("list-max-listpack-size", "-2")
        self.check("RPUSH", "huge", "a", "b" * 9000, "c", "d" * 20000, "e")
        self.dump("huge")
        # LZF applies to a node's listpack when it saves space.
        self.check("RPUSH", "compressible", *["same-value"] * 300)
        self.dump("compressible")

    def test_hashes_listpack(self):
        self.check("HSET", "h", "f1", "v1", "n", "123", "neg", "-5", "big", "9223372036854775807",
                   "e", "")
        self.dump("h")
        self.check("HDEL", "h", "n")
        self.check("HSET", "h", "f1", "changed")
        self.check("HINCRBY", "h", "cnt", "7")
        self.dump("h")
        self.check("HSET", "long", *[x for i in range(100) for x in ("field%d" % i, "v" * 30)])
        self.dump("long")

    def test_zsets(self):
        self.check("ZADD", "z", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e",
                   "1e300", "f", "0", "g", "3", "1", "4611686018427387904", "h",
                   "-0.0", "i", "0.1", "j")
        self.dump("z")
        self.check("ZINCRBY", "z", "10", "a")
        self.check("ZREM", "z", "c")
        self.dump("z")
        # Skiplist: past zset-max-listpack-entries, and one with a long member.
        self.check("ZADD", "sl", *[x for i in range(300) for x in (str(i * 1.5), "m%d" % i)])
        self.check("OBJECT", "ENCODING", "sl")
        self.dump("sl")
        self.check("ZADD", "sl2", "1", "a", "2", "x" * 100, "2", "b", "-1", "c")
        self.check("OBJECT", "ENCODING", "sl2")
        self.dump("sl2")

    def test_intsets(self):
        self.check("SADD", "i16", "1", "2", "3", "-5", "100")
        self.dump("i16")
        self.check("SADD", "i32", "1", "70000")
        self.dump("i32")
        self.check("SADD", "i64", "-9223372036854775808", "9223372036854775807", "0")
        self.dump("i64")
        self.check("SREM", "i64", "0")
        self.dump("i64")

    def test_command_metadata(self):
        self.check("COMMAND", "INFO", "dump", "restore")
        self.check("COMMAND", "DOCS", "dump", "restore")
        self.check("COMMAND", "GETKEYSANDFLAGS", "restore", "k", "0", "payload", "REPLACE")
        self.check("COMMAND", "GETKEYSANDFLAGS", "dump", "k")

    def test_dump_reads_like_a_read(self):
        # An expired key is not dumped (lookupKeyRead).
        self.check("SET", "gone", "v", "PXAT", "1")
        self.check("DUMP", "gone")
        self.check("DUMP")
        self.check("DUMP", "a", "b")


class DumpRandomEdits(DumpCase):
    """Random edits of lists (every list-max-listpack-size class), listpack hashes and sorted
    sets and intsets, with the DUMP payloads compared after every edit: the payload shows the
    quicklist's node boundaries and every listpack's bytes, so any difference in how a value
    grows, splits or merges shows up. KEYWARD_DIFF_SEED replays a run."""

    STEPS = 250

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get("KEYWARD_DIFF_SEED") or random.randrange(1 << 32))
        self.rng = random.Random(self.seed)
        print("\n%s: KEYWARD_DIFF_SEED=%d" % (self.id(), self.seed), file=sys.stderr)

    def value(self):
        rng = self.rng
        if rng.random() < 0.3:
            return str(rng.choice([rng.randint(-100, 100), rng.randint(-2**40, 2**40)]))
        return rng.choice("abc") * rng.choice([1, 10, 60, 70, 300, 3000, 9000])

    def run_steps(self, key, make_command):
        for step in range(self.STEPS):
            cmd = make_command()
            if cmd is None:
                continue
            expected, actual = self.both(*cmd)
            with self.subTest(seed=self.seed, step=step, cmd=cmd[:2]):
                self.assertEqual(actual, expected, "reply to %r" % (cmd[:3],))
                expected, actual = self.both("DUMP", key)
                self.assertEqual(actual, expected, "DUMP after %r" % (cmd[:3],))
            if actual != expected:
                return

    def test_lists(self):
        rng = self.rng

        def command():
            n = decode(self.r.call("LLEN", "l"))
            op = rng.choice(["LPUSH", "RPUSH", "LINSERT", "LINSERT", "LSET", "LREM", "LTRIM",
                             "LPOP", "RPOP"])
            if op in ("LPUSH", "RPUSH"):
                return (op, "l", self.value())
            if n == 0:
                return None
            element = decode(self.r.call("LINDEX", "l", str(rng.randrange(n))))
            if op == "LINSERT":
                return (op, "l", rng.choice(["BEFORE", "AFTER"]), element, self.value())
            if op == "LSET":
                return (op, "l", str(rng.randrange(n)), self.value())
            if op == "LREM":
                return (op, "l", str(rng.randint(-2, 2)), element)
            if op == "LTRIM":
                return (op, "l", str(rng.randint(0, 3)), str(-rng.randint(1, 3)))
            return (op, "l")

        for fill in ("-2", "-1", "-5", "4", "1", "100"):
            self.set_both("list-max-listpack-size", fill)
            self.check("DEL", "l")
            self.check("RPUSH", "l", *["v%d" % i for i in range(300)])
            self.run_steps("l", command)

    def test_listpack_hashes_zsets_intsets(self):
        rng = self.rng

        def hash_command():
            if rng.random() < 0.3:
                return ("HDEL", "h", "f%d" % rng.randrange(40))
            return ("HSET", "h", "f%d" % rng.randrange(40), self.value()[:60])

        def zset_command():
            member = "m%d" % rng.randrange(40)
            op = rng.random()
            if op < 0.2:
                return ("ZREM", "z", member)
            if op < 0.4:
                return ("ZINCRBY", "z", str(rng.choice([1, -2.5, 1e10])), member)
            score = rng.choice([str(rng.randint(-5, 5)), str(rng.random()), "inf", "-inf",
                                str(2**62), str(-2**62 - 1)])
            return ("ZADD", "z", score, member)

        def set_command():
            v = str(rng.choice([rng.randint(-50, 50), rng.randint(-2**40, 2**40)]))
            return ("SREM" if rng.random() < 0.3 else "SADD", "s", v)

        self.run_steps("h", hash_command)
        self.run_steps("z", zset_command)
        self.run_steps("s", set_command)


# --- Cross-restore of hashtable encodings ------------------------------------------------------

class CrossRestore(DumpCase):
    def cross(self, key):
        """Redis's DUMP restored into Keyward and Keyward's into Redis, contents compared."""
        from_r = decode(self.r.call("DUMP", key))
        from_k = decode(self.k.call("DUMP", key))
        self.assertIsInstance(from_k, bytes, "Keyward's DUMP of %r" % key)
        self.assertEqual(self.k.call("RESTORE", key + ":r", "0", from_r), b"+OK\r\n")
        self.assertEqual(self.r.call("RESTORE", key + ":k", "0", from_k), b"+OK\r\n")
        # Each server's own key against the copy the other one made of it.
        with self.subTest(cross=key):
            self.assertEqual(self.contents(key + ":r", self.k), self.contents(key, self.r))
            self.assertEqual(self.contents(key + ":k", self.r), self.contents(key, self.k))

    def test_hashtable_sets(self):
        self.check("SADD", "s", *["member-%d" % i for i in range(50)])
        self.check("SADD", "s", "1", "", "a\r\n\x00b", "x" * 100)
        self.check("OBJECT", "ENCODING", "s")
        self.cross("s")
        self.check("SADD", "many", *[str(i) for i in range(600)])  # past the intset limit
        self.check("OBJECT", "ENCODING", "many")
        self.cross("many")

    def test_hashtable_hashes(self):
        self.check("HSET", "h", *[x for i in range(200) for x in ("f%d" % i, "v%d" % i)])
        self.check("OBJECT", "ENCODING", "h")
        self.cross("h")
        self.check("HSET", "long", "f", "v" * 100, "n", "1")
        self.check("OBJECT", "ENCODING", "long")
        self.cross("long")

    def test_every_type_both_ways(self):
        self.check("SET", "str", "x" * 300)
        self.check("RPUSH", "list", *[str(i) for i in range(1000)])
        self.check("HSET", "hash", "a", "1", "b", "2")
        self.check("SADD", "intset", "1", "2", "3")
        self.check("ZADD", "zset", "1", "a", "2", "b")
        self.check("ZADD", "skiplist", *[x for i in range(200) for x in (str(i), "m%d" % i)])
        for key in ("str", "list", "hash", "intset", "zset", "skiplist"):
            self.cross(key)


# --- RESTORE of Redis's payloads ------------------------------------------------------------------

class RestorePayloads(DumpCase):
    def test_every_type_restored(self):
        self.check("SET", "str", "hello")
        self.check("SET", "int", "123456")
        self.check("SET", "lzf", "a" * 200)
        self.check("RPUSH", "list", *[str(i) for i in range(3000)])
        self.check("HSET", "hash", "a", "1", "b", "2")
        self.check("HSET", "bighash", *[x for i in range(600) for x in ("f%d" % i, "v")])
        self.check("SADD", "intset", "5", "1", "3")
        self.check("SADD", "set", "a", "b", "c")
        self.check("ZADD", "zset", "1", "a", "2", "b")
        self.check("ZADD", "skiplist", *[x for i in range(200) for x in (str(i / 3), "m%d" % i)])
        for key in ("str", "int", "lzf", "list", "hash", "bighash", "intset", "set", "zset",
                    "skiplist"):
            payload = decode(self.r.call("DUMP", key))
            self.restore_both(key + "2", payload)
            self.check("OBJECT", "ENCODING", key + "2")
            if key not in ("bighash", "set"):
                self.dump(key + "2")

    def test_encoding_after_restore(self):
        """The restored value takes the encoding the receiving server's settings give it."""
        self.check("HSET", "h", *[x for i in range(10) for x in ("f%d" % i, "v%d" % i)])
        self.check("ZADD", "z", *[x for i in range(10) for x in (str(i), "m%d" % i)])
        self.check("SADD", "is", *[str(i) for i in range(10)])
        self.check("SADD", "hs", "a", *[str(i) for i in range(10)])
        self.check("RPUSH", "l", *[str(i) for i in range(100)])
        payloads = {k: decode(self.r.call("DUMP", k)) for k in ("h", "z", "is", "hs", "l")}
        self.set_both("hash-max-listpack-entries", "5")
        self.set_both("zset-max-listpack-entries", "5")
        self.set_both("set-max-intset-entries", "5")
        self.set_both("list-max-listpack-size", "4")
        for key, payload in payloads.items():
            self.restore_both(key + ":small", payload)
        self.dump("z:small")  # a skiplist: deterministic
        self.dump("l:small")  # the nodes are kept as they came
        self.set_both("hash-max-listpack-entries", "512")
        self.set_both("zset-max-listpack-entries", "128")
        self.set_both("set-max-intset-entries", "512")
        # A hashtable set of integers only becomes an intset again; a skiplist with few members
        # a listpack again (both are rebuilt on load).
        self.check("SADD", "ints", *[str(i) for i in range(600)])
        self.check("SREM", "ints", *[str(i) for i in range(20, 600)])
        self.restore_both("ints2", decode(self.r.call("DUMP", "ints")))
        self.dump("ints2")
        self.set_both("zset-max-listpack-entries", "1")
        self.check("ZADD", "few", "1", "a", "2", "b", "3", "c")
        payload = decode(self.r.call("DUMP", "few"))
        self.set_both("zset-max-listpack-entries", "128")
        self.restore_both("few2", payload)
        self.dump("few2")
        # A hash whose payload has a long value goes to a table at once; a listpack payload
        # with a long value stays a listpack (only its count is checked on load).
        self.check("HSET", "hl", "a", "1", "b", "x" * 100)
        self.set_both("hash-max-listpack-value", "10")
        self.restore_both("hl2", decode(self.r.call("DUMP", "hl")))
        self.set_both("hash-max-listpack-value", "64")

    def test_strings_round_trip(self):
        for i, s in enumerate(STRINGS):
            self.check("SET", "s%d" % i, s)
            payload = decode(self.r.call("DUMP", "s%d" % i))
            self.restore_both("r%d" % i, payload)
            self.dump("r%d" % i)


# --- RESTORE of Redis 6.2-era and older encodings -----------------------------------------

LEGACY_VALUES = ["a", "1", "12", "13", "-1", "127", "-128", "200", "40000", "-40000",
                 "8000000", "3000000000", "-3000000000", "9223372036854775807", "012", "",
                 "x" * 70, "y" * 20000, "hello world"]


class RestoreLegacy(DumpCase):
    def restore_v9(self, key, type_byte, body):
        return self.restore_both(key, footer(bytes([type_byte]) + body, version=9))

    def test_list_ziplist(self):  # RDB_TYPE_LIST_ZIPLIST, Redis <= 3.0
        self.restore_v9("l", 10, rdb_str(ziplist(LEGACY_VALUES)))
        self.dump("l")
        self.restore_v9("l2", 10, rdb_str(ziplist([str(i) for i in range(500)])))
        self.dump("l2")

    def test_quicklist_of_ziplists(self):  # RDB_TYPE_LIST_QUICKLIST, Redis 3.2 .. 6.2
        nodes = [LEGACY_VALUES[:7], LEGACY_VALUES[7:], ["last"]]
        body = rdb_len(len(nodes)) + b"".join(rdb_str(ziplist(n)) for n in nodes)
        self.restore_v9("ql", 14, body)
        self.dump("ql")
        # An empty ziplist node is skipped; a list of empty nodes only is refused.
        body = rdb_len(2) + rdb_str(ziplist([])) + rdb_str(ziplist(["x"]))
        self.restore_v9("ql2", 14, body)
        self.dump("ql2")
        self.restore_v9("ql3", 14, rdb_len(1) + rdb_str(ziplist([])))

    def test_hash_ziplist(self):  # RDB_TYPE_HASH_ZIPLIST
        pairs = ["f1", "v1", "2", "200", "f3", "x" * 70, "", "empty-field"]
        self.restore_v9("h", 13, rdb_str(ziplist(pairs)))
        self.dump("h")
        self.set_both("hash-max-listpack-entries", "2")
        self.restore_v9("h2", 13, rdb_str(ziplist(pairs)))
        self.set_both("hash-max-listpack-entries", "512")
        self.restore_v9("odd", 13, rdb_str(ziplist(["f1", "v1", "f2"])))
        self.restore_v9("dup", 13, rdb_str(ziplist(["f1", "v1", "f1", "v2"])))
        self.restore_v9("dupint", 13, rdb_str(ziplist(["1", "v1", "1", "v2"])))
        self.restore_v9("empty", 13, rdb_str(ziplist([])))

    def test_zset_ziplist(self):  # RDB_TYPE_ZSET_ZIPLIST
        pairs = ["a", "1", "b", "1.5", "c", "2", "d", "3000000000", "e", "inf"]
        self.restore_v9("z", 12, rdb_str(ziplist(pairs)))
        self.dump("z")
        self.set_both("zset-max-listpack-entries", "2")
        self.restore_v9("z2", 12, rdb_str(ziplist(pairs)))
        self.dump("z2")
        self.set_both("zset-max-listpack-entries", "128")
        self.restore_v9("odd", 12, rdb_str(ziplist(["a", "1", "b"])))
        self.restore_v9("empty", 12, rdb_str(ziplist([])))

    def test_zipmap(self):  # RDB_TYPE_HASH_ZIPMAP, Redis <= 2.4
        pairs = [("name", "redis"), ("n", "12"), ("big", "x" * 300), ("", "")]
        self.restore_v9("zm", 9, rdb_str(zipmap(pairs)))
        self.restore_v9("zm2", 9, rdb_str(zipmap(pairs[:2])))
        self.dump("zm2")
        self.restore_v9("dup", 9, rdb_str(zipmap([("a", "1"), ("a", "2")])))
        self.restore_v9("empty", 9, rdb_str(zipmap([])))
        self.restore_v9("badcount", 9, rdb_str(b"\x05" + zipmap([("a", "1")])[1:]))

    def test_linked_list_and_plain_types(self):
        values = ["a", "1", "x" * 100, "-7"]
        body = rdb_len(len(values)) + b"".join(rdb_str(v) for v in values)
        self.restore_v9("l", 1, body)
        self.dump("l")
        # rdbLoadLen reads a special-encoding byte (0xC2) where a length is due as its low bits.
        self.restore_v9("enclen", 1, b"\xc2" + rdb_str("a") + rdb_str("b"))
        self.restore_v9("set", 2, rdb_len(3) + rdb_str("1") + rdb_str("2") + rdb_str("3"))
        self.dump("set")
        self.restore_v9("mixed", 2, rdb_len(2) + rdb_str("1") + rdb_str("a"))
        self.restore_v9("h", 4, rdb_len(2) + rdb_str("f") + rdb_str("v") + rdb_str("g")
                        + rdb_str("w"))
        self.dump("h")
        # RDB_TYPE_ZSET: scores as text (with the inf and -inf bytes).
        body = rdb_len(4) + b"".join(rdb_str(m) + text_double(s) for m, s in
                                      (("a", 1.5), ("b", float("inf")), ("c", float("-inf")),
                                       ("d", -2.0)))
        self.restore_v9("z", 3, body)
        self.dump("z")
        self.restore_v9("znan", 3, rdb_len(1) + rdb_str("a") + text_double(float("nan")))
        self.restore_v9("zprefix", 3, rdb_len(1) + rdb_str("a") + b"\x041.5x")
        self.restore_v9("zempty", 3, rdb_len(1) + rdb_str("a") + b"\x00")
        self.restore_v9("intset", 11, rdb_str(intset([3, 1, 2])))
        self.dump("intset")


# --- Errors -------------------------------------------------------------------------------------

class RestoreErrors(DumpCase):
    def setUp(self):
        super().setUp()
        self.check("SET", "s", "hello")
        self.payload = decode(self.r.call("DUMP", "s"))

    def test_arguments(self):
        p = self.payload
        for args in (
                ("RESTORE",), ("RESTORE", "k"), ("RESTORE", "k", "0"),
                ("RESTORE", "s", "0", p),                       # BUSYKEY
                ("RESTORE", "s", "abc", b"garbage"),            # BUSYKEY before the TTL
                ("RESTORE", "k", "abc", p),
                ("RESTORE", "k", "1.5", p),
                ("RESTORE", "k", "-1", p),
                ("RESTORE", "k", "99999999999999999999", p),
                ("RESTORE", "k", "0", p, "FOO"),
                ("RESTORE", "s", "0", p, "FOO"),                # options before BUSYKEY
                ("RESTORE", "k", "0", p, "IDLETIME"),
                ("RESTORE", "k", "0", p, "IDLETIME", "x"),
                ("RESTORE", "k", "0", p, "IDLETIME", "-1"),
                ("RESTORE", "k", "0", p, "FREQ"),
                ("RESTORE", "k", "0", p, "FREQ", "256"),
                ("RESTORE", "k", "0", p, "FREQ", "-1"),
                ("RESTORE", "k", "0", p, "FREQ", "x"),
                ("RESTORE", "k", "0", p, "IDLETIME", "1", "FREQ", "1"),
                ("RESTORE", "k", "0", p, "FREQ", "1", "IDLETIME", "1"),
                ("RESTORE", "s", "-1", p, "REPLACE", "FREQ", "300"),
                ("RESTORE", "k", "-5", b"bad payload"),
                ("RESTORE", "k", "0", b""),
                ("RESTORE", "k", "0", b"short"),
                ("RESTORE", "k", "0", p[:-1] + bytes([p[-1] ^ 1])),
                ("RESTORE", "k", "0", footer(body_of(p), version=11)),
                ("RESTORE", "k", "0", footer(body_of(p), version=0)),
                ("RESTORE", "k", "0", footer(b"")),
                ("RESTORE", "k", "0", footer(b"\x08\x01")),   # type 8: none
                ("RESTORE", "k", "0", footer(b"\x06\x01")),   # a module value
                ("RESTORE", "k", "0", footer(b"\x0f\x00")),   # a stream: not a Keyward type
                ("RESTORE", "k", "0", footer(b"\x16")),
                ("RESTORE", "k", "0", footer(body_of(p) + b"trailing")),  # accepted
        ):
            self.check(*args)
        self.check("GET", "k")
        self.check("GET", "s")
        # Options may repeat and mix case; REPLACE on an absent key is fine.
        self.check("RESTORE", "k2", "0", p, "replace", "REPLACE", "absttl", "IdleTime", "5")
        self.check("DUMP", "k2")

    def truncations(self, payload):
        body = body_of(payload)
        for cut in range(len(body)):
            self.check("RESTORE", "t", "0", footer(body[:cut]))
        self.check("EXISTS", "t")

    def test_truncated_payloads(self):
        self.check("RPUSH", "l", "a", "b", "1")
        self.check("HSET", "h", "f", "v", "g", "w")
        self.check("SADD", "is", "1", "2")
        self.check("SADD", "hs", "a", "b")
        self.check("ZADD", "z", "1", "a", "2", "b")
        self.check("ZADD", "sl", *[x for i in range(130) for x in (str(i), "m%d" % i)])
        self.check("HSET", "ht", *[x for i in range(130) for x in ("f%d" % i, "v")])
        self.check("SET", "lzf", "q" * 100)
        for key in ("s", "l", "h", "is", "hs", "z", "sl", "ht", "lzf"):
            self.truncations(decode(self.r.call("DUMP", key)))

    def malformed(self, label, type_byte, body):
        with self.subTest(malformed=label):
            self.check("RESTORE", "m", "0", footer(bytes([type_byte]) + body))
            self.check("EXISTS", "m")
            self.r.call("DEL", "m")
            self.k.call("DEL", "m")

    def test_malformed_classes(self):
        """Every class of malformed value Redis detects with sanitize-dump-payload yes."""
        self.r.call("CONFIG", "SET", "sanitize-dump-payload", "yes")
        lp_empty = listpack([])
        lp_ab = listpack(["a", "b"])  # 6-byte header, then "a" at 6..8 and "b" at 9..11
        lp_a1a2 = listpack(["a", "1", "a", "2"])
        m = self.malformed
        # Empty values.
        m("empty list", 1, rdb_len(0))
        m("empty set", 2, rdb_len(0))
        m("empty zset", 5, rdb_len(0))
        m("empty hash", 4, rdb_len(0))
        m("empty quicklist", 18, rdb_len(0))
        m("quicklist of an empty node", 18, rdb_len(1) + b"\x02" + rdb_str(lp_empty))
        m("empty hash listpack", 16, rdb_str(lp_empty))
        m("empty zset listpack", 17, rdb_str(lp_empty))
        m("empty intset", 11, rdb_str(struct.pack("<II", 2, 0)))
        m("empty node string", 18, rdb_len(1) + b"\x02" + rdb_str(b""))
        # Duplicates.
        m("set duplicate", 2, rdb_len(2) + rdb_str("a") + rdb_str("a"))
        m("intset-bound duplicate", 2, rdb_len(2) + rdb_str("1") + rdb_str("1"))
        m("hash duplicate", 4, rdb_len(2) + rdb_str("f") + rdb_str("1") + rdb_str("f")
          + rdb_str("2"))
        m("zset duplicate", 5, rdb_len(2) + rdb_str("a") + struct.pack("<d", 1)
          + rdb_str("a") + struct.pack("<d", 2))
        m("hash listpack duplicate", 16, rdb_str(lp_a1a2))
        m("zset listpack duplicate", 17, rdb_str(lp_a1a2))
        m("hash listpack odd", 16, rdb_str(listpack(["f", "v", "g"])))
        m("zset listpack odd", 17, rdb_str(listpack(["a", "1", "b"])))
        m("intset unsorted", 11, rdb_str(struct.pack("<IIhh", 2, 2, 5, 1)))
        m("intset duplicate", 11, rdb_str(struct.pack("<IIhh", 2, 2, 1, 1)))
        m("intset width", 11, rdb_str(struct.pack("<IIhh", 3, 2, 1, 2)))
        m("intset length", 11, rdb_str(struct.pack("<IIhh", 2, 3, 1, 2)))
        m("nan score", 5, rdb_len(1) + rdb_str("a") + struct.pack("<d", float("nan")))
        # Listpacks whose structure is wrong.
        m("listpack total bytes", 18, rdb_len(1) + b"\x02" + rdb_str(b"\x0c" + lp_ab[1:]))
        m("listpack count", 18, rdb_len(1) + b"\x02" + rdb_str(lp_ab[:4] + b"\x03" + lp_ab[5:]))
        m("listpack backlen", 18, rdb_len(1) + b"\x02" + rdb_str(lp_ab[:8] + b"\x03" + lp_ab[9:]))
        m("listpack encoding", 18, rdb_len(1) + b"\x02" + rdb_str(lp_ab[:6] + b"\xf5"
                                                                      + lp_ab[7:]))
        m("listpack no terminator", 18, rdb_len(1) + b"\x02" + rdb_str(lp_ab[:-1] + b"\x00"))
        m("listpack string past end", 18, rdb_len(1) + b"\x02"
          + rdb_str(lp_ab[:6] + b"\x8f" + lp_ab[7:]))
        m("quicklist container", 18, rdb_len(1) + b"\x03" + rdb_str(lp_ab))
        # Ziplists whose structure is wrong.
        zl = ziplist(["a", "bb", "1"])
        m("ziplist bytes", 10, rdb_str(b"\x00" + zl[1:]))
        m("ziplist tail", 10, rdb_str(zl[:4] + b"\x0b" + zl[5:]))
        m("ziplist count", 10, rdb_str(zl[:8] + b"\x05" + zl[9:]))
        m("ziplist prevlen", 10, rdb_str(zl[:13] + b"\x07" + zl[14:]))
        m("ziplist encoding", 10, rdb_str(zl[:11] + b"\xc5" + zl[12:]))
        m("ziplist string past end", 10, rdb_str(zl[:11] + b"\x3f" + zl[12:]))
        m("ziplist node", 14, rdb_len(1) + rdb_str(zl[:8] + b"\x09" + zl[9:]))
        m("hash ziplist dup", 13, rdb_str(ziplist(["a", "1", "a", "2"])))
        # Zipmaps.
        m("zipmap past end", 9, rdb_str(b"\x01\x05ab\x01\x00c\xff"))
        m("zipmap no end", 9, rdb_str(b"\x01\x01a\x01\x00c\x00"))
        # Lengths and strings.
        m("bad length encoding", 1, b"\x82")
        m("bad string encoding", 0, b"\xc4")
        m("lzf garbage", 0, b"\xc3\x05\x20" + b"\xff" * 5)
        m("lzf short", 0, b"\xc3\x10\x20" + b"\x01" * 3)

    def test_random_corruptions(self):
        """Corrupted payloads (re-checksummed) of types where Redis's sanitiser and Keyward's
        agree on everything: each is refused by both, or accepted by both with the same value."""
        self.r.call("CONFIG", "SET", "sanitize-dump-payload", "yes")
        self.check("RPUSH", "l", *["e%d" % i for i in range(40)], "1", "-300", "70000")
        self.check("HSET", "h", "f1", "v1", "f2", "22", "f3", "x" * 70)
        self.check("SADD", "is", "1", "-70000", "3000000000")
        self.check("SADD", "hs", "a", "b", "c")
        self.check("SET", "str", "v" * 100)
        self.check("HSET", "ht", *[x for i in range(130) for x in ("f%d" % i, "v")])
        rng = random.Random(20240607)
        for key in ("l", "h", "is", "hs", "str", "ht"):
            body = bytearray(body_of(decode(self.r.call("DUMP", key))))
            for _ in range(40):
                corrupt = bytearray(body)
                for _ in range(rng.randint(1, 3)):
                    corrupt[rng.randrange(1, len(corrupt))] = rng.randrange(256)
                payload = footer(corrupt)
                expected, actual = self.both("RESTORE", "c", "0", payload, "REPLACE")
                with self.subTest(key=key, payload=payload.hex()):
                    self.assertEqual(actual, expected)
                    if expected == b"+OK\r\n":
                        self.assertEqual(self.contents("c", self.k), self.contents("c", self.r))
                self.r.call("DEL", "c")
                self.k.call("DEL", "c")


# --- Semantics --------------------------------------------------------------------------------

class RestoreSemantics(DumpCase, EventsMixin):
    def setUp(self):
        super().setUp()
        self.check("SET", "s", "hello")
        self.payload = decode(self.r.call("DUMP", "s"))

    def test_ttl(self):
        p = self.payload
        # TTL and the reply in one transaction: the relative deadline is judged at one time.
        self.check_all(("MULTI",), ("RESTORE", "t", "100000", p), ("TTL", "t"), ("EXEC",))
        self.check("RESTORE", "a", FAR_MS, p, "ABSTTL")
        self.check("PEXPIRETIME", "a")
        self.check("RESTORE", "past", "1", p, "ABSTTL")
        self.check("EXISTS", "past")
        self.check("RESTORE", "zero", "0", p, "ABSTTL")
        self.check("TTL", "zero")
        # A past deadline with REPLACE deletes the old key; without an old key nothing happens.
        self.check("SET", "old", "x")
        self.check("RESTORE", "old", "1", p, "ABSTTL", "REPLACE")
        self.check("EXISTS", "old")
        self.check("RESTORE", "old", "1", p, "ABSTTL", "REPLACE")
        # A TTL so large that now + TTL wraps: a deadline in the past.
        self.check("RESTORE", "wrap", "9223372036854775807", p)
        self.check("EXISTS", "wrap")
        self.check("RESTORE", "far", "9223372036854775807", p, "ABSTTL")
        self.check("EXPIRETIME", "far")

    def test_replace(self):
        p = self.payload
        self.check("RPUSH", "l", "a")
        self.check("RESTORE", "l", "0", p)
        self.check("RESTORE", "l", "0", p, "REPLACE")
        self.check("TYPE", "l")
        self.check("GET", "l")
        self.check("SET", "v", "x", "EX", "100")
        self.check("RESTORE", "v", "0", p, "REPLACE")
        self.check("TTL", "v")
        # A key whose deadline passed does not make RESTORE busy.
        self.check("SET", "e", "x", "PXAT", "1")
        self.check("RESTORE", "e", "0", p)
        self.check("GET", "e")

    def test_idletime_and_freq(self):
        p = self.payload
        # In one transaction the LRU clock does not move between RESTORE and OBJECT.
        for idle in ("0", "100", "20000000", "9223372036854775807", "9223372036854775"):
            self.check_all(("MULTI",), ("RESTORE", "i", "0", p, "IDLETIME", idle, "REPLACE"),
                           ("OBJECT", "IDLETIME", "i"), ("EXEC",))
        # FREQ is validated, and ignored without an LFU maxmemory-policy: the key was just
        # accessed.
        self.check_all(("MULTI",), ("RESTORE", "f", "0", p, "FREQ", "200"),
                       ("OBJECT", "IDLETIME", "f"), ("EXEC",))
        self.check("OBJECT", "FREQ", "f")

    def test_encodings_of_restored_strings(self):
        for i, s in enumerate(["123", "-9223372036854775808", "x" * 44, "x" * 45, "012"]):
            self.check("SET", "src", s)
            payload = decode(self.r.call("DUMP", "src"))
            self.check("RESTORE", "d%d" % i, "0", payload)
            self.check("OBJECT", "ENCODING", "d%d" % i)
            self.check("OBJECT", "REFCOUNT", "d%d" % i)

    def test_watch(self):
        p = self.payload
        for key, option in (("w", ()), ("s", ("REPLACE",))):
            self.check("WATCH", key)
            pair = self.new_pair()
            self.check("RESTORE", key, "0", p, *option, pair=pair)
            self.check_all(("MULTI",), ("PING",), ("EXEC",))
        # A refused RESTORE changes nothing.
        self.check("WATCH", "s")
        pair = self.new_pair()
        self.check("RESTORE", "s", "0", p, pair=pair)
        self.check_all(("MULTI",), ("PING",), ("EXEC",))

    def test_keyspace_events(self):
        self.set_both("notify-keyspace-events", "KEA")
        self.subscribe_events()
        p = self.payload
        self.check("RESTORE", "n", "0", p)
        self.compare_events("restore of a new key")
        self.check("RESTORE", "n", "0", p, "REPLACE")
        self.compare_events("restore with REPLACE")
        self.check("RESTORE", "n", "1", p, "REPLACE", "ABSTTL")
        self.compare_events("restore with a past deadline")
        self.check("RESTORE", "n", "1", p, "REPLACE", "ABSTTL")
        self.check("RESTORE", "n", "0", b"bad")
        self.compare_events("restores that change nothing")
        self.check("DUMP", "s")
        self.check("DUMP", "missing")
        self.compare_events("DUMP")
        self.set_both("notify-keyspace-events", "")


if __name__ == "__main__":
    unittest.main()
