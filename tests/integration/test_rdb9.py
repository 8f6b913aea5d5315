"""Redis 6.2's RDB version 9 files (the ziplist era) load into Keyward exactly as into Redis 7.0.15.

There is no Redis 6.2 binary here, so this file carries a small RDB 9 writer (`Rdb9File` and the
encoders above it) that lays files out the way Redis 6.2's rdb.c, ziplist.c, intset.c and (for
the older zipmap) zipmap.c do. Every file is first put before the oracle: redis-check-rdb 7.0.15
must accept it, redis-server 7.0.15 must start on it and hold exactly the values the file was
built from (so a mistake in the writer fails here, not silently on both servers). Then Keyward
starts on a copy and, for every key of every database, TYPE, OBJECT ENCODING (Redis 7.0 turns
ziplists into listpacks while loading, and converts by its own thresholds), PEXPIRETIME (exact),
the value (GET / LRANGE / HGETALL sorted / SMEMBERS sorted / ZRANGE WITHSCORES) and DUMP's bytes
(except for hash tables, whose order is the table's) must equal what Redis reports, as must INFO's
rdb_last_load_keys_loaded / rdb_last_load_keys_expired.

Corrupted variants of every encoding are then loaded by both: when Redis refuses a file (it exits
with code 1; the test checks it logs the error the variant is about) Keyward must refuse it too,
exiting with an error rather than crashing; when Redis accepts one (with the default
`sanitize-dump-payload no` it checks only an intset's header, and no duplicates in a small plain
hash) Keyward must either refuse it or hold exactly what Redis holds. Empty values (a ziplist with
no entries, a container of length 0), which 6.2 never writes but Redis 7.0 loads by skipping the
key, must be skipped the same way.

    cd tests/integration
    PYTHONPATH=../support KEYWARD_SERVER=/work/main/build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest test_rdb9 -v

The RDB 9 layout, as Redis 6.2 writes it (rdbSaveRio):

    "REDIS0009"
    AUX (0xFA) redis-ver, redis-bits, ctime, used-mem, repl-stream-db, repl-id, repl-offset,
        aof-preamble: two strings each
    per non-empty database: SELECTDB (0xFE) <len db>, RESIZEDB (0xFB) <len keys> <len expires>,
        then per key: [EXPIRETIME_MS (0xFC) <8 bytes LE ms>] [IDLE (0xF8) <len> | FREQ (0xF9) <u8>]
        <type byte> <string key> <value>
    EOF (0xFF), then the CRC-64 (Jones polynomial, reflected, as crc64.c) of everything before it,
    8 bytes little endian (0 means "not checked").

A length (rdbSaveLen) is 00xxxxxx, 01xxxxxx xxxxxxxx (14 bits, big endian), 0x80 + 4 bytes big
endian or 0x81 + 8 bytes big endian. A string (rdbSaveRawString) of up to 11 bytes that is a
canonical integer fitting 32 bits is written as 0xC0 int8 / 0xC1 int16 / 0xC2 int32 (little
endian); with rdbcompression on, one longer than 20 bytes that LZF shrinks by at least 4 bytes as
0xC3 <len compressed> <len original> <LZF data>; anything else as <len> <bytes>. Key names go
through the same function (a key named "1000" is an int16).
"""

import math
import os
import re
import struct
import subprocess
import time
import unittest

from keyward_harness import (REDIS_SERVER, ServerTestCase, decode, keyward_binary, make_workdir,
                             start_server, wait_for)

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"

# ---------------------------------------------------------------------------------------------
# Primitive encodings
# ---------------------------------------------------------------------------------------------


def _crc64_table():
    # crc64.c: the Jones polynomial 0xad93d23594c935a9, reflected (0x95ac9329ac4bc9b5), init 0,
    # no final xor. crc64(b"123456789") == 0xe9c6d914c4b8d9ca.
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x95AC9329AC4BC9B5 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC64 = _crc64_table()


def crc64(data, crc=0):
    for b in data:
        crc = _CRC64[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def lzf_compress(data, limit):
    """LZF as lzf_c.c lays it out (not byte for byte the same choices, but the same format,
    which is all lzf_decompress needs): a control byte 000LLLLL starts a run of LLLLL+1 literal
    bytes; LLLooooo oooooooo (LLL 1..6) copies LLL+2 bytes from offset+1 bytes back, and
    111ooooo <n> oooooooo copies n+9. Returns None when the result is longer than `limit` bytes
    (lzf_compress returns 0 then, and Redis stores the string uncompressed)."""
    out = bytearray()
    literal = bytearray()
    last = {}
    i, n = 0, len(data)

    def flush():
        if literal:
            out.append(len(literal) - 1)
            out.extend(literal)
            literal.clear()

    while i < n:
        if i + 2 < n:
            key = data[i:i + 3]
            ref = last.get(key)
            last[key] = i
            if ref is not None and i - ref - 1 < 8192:
                length = 3
                longest = min(264, n - i)
                while length < longest and data[ref + length] == data[i + length]:
                    length += 1
                flush()
                off = i - ref - 1
                code = length - 2
                if code < 7:
                    out.append((code << 5) | (off >> 8))
                else:
                    out.append((7 << 5) | (off >> 8))
                    out.append(code - 7)
                out.append(off & 0xFF)
                for j in range(i + 1, i + length - 2):
                    last[data[j:j + 3]] = j
                i += length
                continue
        literal.append(data[i])
        i += 1
        if len(literal) == 32:
            flush()
    flush()
    return bytes(out) if len(out) <= limit else None


def rdb_len(n):
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


_CANONICAL_INT = re.compile(rb"-?(0|[1-9][0-9]*)")


def string2ll(s):
    """The integer Redis's string2ll reads from `s` (the whole of it, canonical: no sign but '-',
    no leading zero, not "-0", fitting 64 bits), else None."""
    if not 0 < len(s) <= 20 or not _CANONICAL_INT.fullmatch(s) or s == b"-0":
        return None
    v = int(s)
    return v if -2 ** 63 <= v < 2 ** 63 else None


def rdb_string(s, compress=False):
    """rdbSaveRawString."""
    if len(s) <= 11:
        v = string2ll(s)
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -2 ** 31 <= v < 2 ** 31:
                return b"\xc2" + struct.pack("<i", v)
    if compress and len(s) > 20:
        packed = lzf_compress(s, len(s) - 4)
        if packed:
            return b"\xc3" + rdb_len(len(packed)) + rdb_len(len(s)) + packed
    return rdb_len(len(s)) + s


def d2string(x):
    """util.c's d2string, which 6.2's zset ziplists store scores with (then the ziplist stores
    an integral one as an integer entry)."""
    if math.isnan(x):
        return b"nan"
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    if x == 0:
        return b"-0" if math.copysign(1.0, x) < 0 else b"0"
    if -4503599627370495 < x < 4503599627370496 and x == int(x):
        return str(int(x)).encode()
    return ("%.17g" % x).encode()


def reply_score(x):
    """A score as Redis 7.0 replies it in RESP2 (addReplyDouble: inf, else %.17g)."""
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    return ("%.17g" % x).encode()


# ---------------------------------------------------------------------------------------------
# Ziplist (ziplist.c)
#
#   <zlbytes u32 LE> <zltail u32 LE: offset of the last entry> <zllen u16 LE, 0xFFFF = count
#   it> entries... <0xFF>
#   entry: <prevlen: 1 byte if the previous entry is < 254 bytes, else 0xFE + u32 LE> <encoding>
#   <data>; encoding: 00pppppp (string <= 63 bytes), 01pppppp qqqqqqqq (<= 16383, big endian),
#   10000000 + u32 big endian; 0xC0 int16, 0xD0 int32, 0xE0 int64, 0xF0 int24, 0xFE int8 (data
#   little endian), 0xF1..0xFD the immediate 0..12 (no data).
# ---------------------------------------------------------------------------------------------

ZIP_INT_16B, ZIP_INT_32B, ZIP_INT_64B, ZIP_INT_24B, ZIP_INT_8B = 0xC0, 0xD0, 0xE0, 0xF0, 0xFE
ZIP_STR = "str"
_ZIP_INT_FORMAT = {ZIP_INT_8B: "<b", ZIP_INT_16B: "<h", ZIP_INT_32B: "<i", ZIP_INT_64B: "<q"}


class Zl:
    """A ziplist entry spelled out. `value` is bytes or an int; `enc` forces the encoding
    (ZIP_STR: a string header even for digits; or one of the ZIP_INT_* bytes, e.g. a small
    number in a wider integer than ziplistPush would pick); `wide_prevlen` writes the prevlen
    in 5 bytes although it is < 254, as __ziplistCascadeUpdate leaves it (it never shrinks)."""

    def __init__(self, value, enc=None, wide_prevlen=False):
        self.value, self.enc, self.wide_prevlen = value, enc, wide_prevlen

    def logical(self):
        return str(self.value).encode() if isinstance(self.value, int) else self.value


def zl_value(e):
    """What reading entry `e` back gives: the bytes, or an integer's decimal digits."""
    if isinstance(e, Zl):
        return e.logical()
    return str(e).encode() if isinstance(e, int) else e


def _zip_int_encoding(v):
    """zipTryEncoding's choice: the smallest integer encoding holding v."""
    if 0 <= v <= 12:
        return 0xF1 + v
    if -128 <= v <= 127:
        return ZIP_INT_8B
    if -32768 <= v <= 32767:
        return ZIP_INT_16B
    if -(1 << 23) <= v < 1 << 23:
        return ZIP_INT_24B
    if -(1 << 31) <= v < 1 << 31:
        return ZIP_INT_32B
    return ZIP_INT_64B


def _zip_body(e):
    """<encoding><data> of one entry, as ziplistPush writes it unless `e` forces an encoding."""
    enc = None
    if isinstance(e, Zl):
        enc, e = e.enc, e.value
    if isinstance(e, int):
        v, s = e, None
    else:
        s = e
        v = string2ll(s) if enc is None and len(s) < 32 else None
    if enc == ZIP_STR or (v is None and enc is None):
        s = s if s is not None else str(v).encode()
        n = len(s)
        if n <= 0x3F:
            return bytes([n]) + s
        if n <= 0x3FFF:
            return bytes([0x40 | (n >> 8), n & 0xFF]) + s
        return b"\x80" + struct.pack(">I", n) + s
    if v is None:
        v = int(s)
    enc = enc if enc is not None else _zip_int_encoding(v)
    if 0xF1 <= enc <= 0xFD:
        assert v == enc - 0xF1
        return bytes([enc])
    if enc == ZIP_INT_24B:
        return bytes([enc]) + struct.pack("<i", v)[:3]
    return bytes([enc]) + struct.pack(_ZIP_INT_FORMAT[enc], v)


def ziplist_layout(entries):
    """(ziplist bytes, [offset of each entry]) for `entries` (bytes, ints or Zl)."""
    body = bytearray()
    offsets = []
    prev = 0
    for e in entries:
        wide = isinstance(e, Zl) and e.wide_prevlen
        prevlen = bytes([prev]) if prev < 254 and not wide else b"\xfe" + struct.pack("<I", prev)
        entry = prevlen + _zip_body(e)
        offsets.append(10 + len(body))
        body += entry
        prev = len(entry)
    zltail = offsets[-1] if offsets else 10
    head = struct.pack("<IIH", 10 + len(body) + 1, zltail, min(len(entries), 0xFFFF))
    return head + bytes(body) + b"\xff", offsets


def ziplist(entries):
    return ziplist_layout(entries)[0]


def intset(values, width=None):
    """intset.c: <encoding u32 LE: 2, 4 or 8> <length u32 LE> <sorted values, LE>. The width
    is the smallest that holds every value unless given; `values` are written in the order
    given (sorted unless a test wants them not to be)."""
    if width is None:
        width = 2
        for v in values:
            if not -32768 <= v <= 32767:
                width = max(width, 4)
            if not -(1 << 31) <= v < 1 << 31:
                width = 8
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(values)) + b"".join(struct.pack(fmt, v) for v in values)


def zipmap(pairs, free=None, count=None):
    """zipmap.c (Redis <= 2.4 hashes): <count u8, 254 = count it> then per pair <len>field
    <len><free u8>value<free bytes>, then 0xFF; <len> is one byte below 254, else 0xFE + u32 LE.
    `free` maps a field to the unused bytes left after its value by an update."""
    def enc_len(n):
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)
    free = free or {}
    out = bytearray([min(len(pairs), 254) if count is None else count])
    for f, v in pairs:
        spare = free.get(f, 0)
        out += enc_len(len(f)) + f + enc_len(len(v)) + bytes([spare]) + v + b"\0" * spare
    return bytes(out) + b"\xff"


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------

RDB_TYPE_STRING = 0
RDB_TYPE_LIST = 1
RDB_TYPE_SET = 2
RDB_TYPE_ZSET = 3
RDB_TYPE_HASH = 4
RDB_TYPE_ZSET_2 = 5
RDB_TYPE_HASH_ZIPMAP = 9
RDB_TYPE_LIST_ZIPLIST = 10
RDB_TYPE_SET_INTSET = 11
RDB_TYPE_ZSET_ZIPLIST = 12
RDB_TYPE_HASH_ZIPLIST = 13
RDB_TYPE_LIST_QUICKLIST = 14

CTIME = 1700000000  # the AUX ctime: 2023-11-14


class Rdb9File:
    """Builds one RDB 9 file. Each add_* method writes one key the way Redis 6.2 saves that
    type and encoding, and records what a loader must then hold (`self.want`: (db, key) ->
    (TYPE, value as read back, OBJECT ENCODING Redis 7.0.15 gives it, or None to not check)).
    A key whose deadline has passed is written but not wanted (a master drops it on load)."""

    def __init__(self, compress=False, checksum=True, now_ms=None):
        self.compress = compress
        self.checksum = checksum
        self.dbs = {}  # db -> [(record bytes, has expire)]
        self.want = {}
        self.expired = 0
        self.now_ms = now_ms

    def s(self, data):
        return rdb_string(data, self.compress)

    # --- raw access ---------------------------------------------------------------------------

    def add_raw(self, db, key, rdb_type, payload, want=None, expire_ms=None, idle=None,
                freq=None, expire_s=None):
        """One key: optional expiry (EXPIRETIME_MS, or the old seconds EXPIRETIME 0xFD), LRU
        idle seconds (IDLE) or LFU counter (FREQ), then <type> <key> <payload>."""
        rec = bytearray()
        if expire_ms is not None:
            rec += b"\xfc" + struct.pack("<q", expire_ms)
        if expire_s is not None:
            rec += b"\xfd" + struct.pack("<i", expire_s)
        if idle is not None:
            rec += b"\xf8" + rdb_len(idle)
        if freq is not None:
            rec += b"\xf9" + bytes([freq])
        rec += bytes([rdb_type]) + self.s(key) + payload
        has_expire = expire_ms is not None or expire_s is not None
        self.dbs.setdefault(db, []).append((bytes(rec), has_expire))
        deadline = expire_ms if expire_ms is not None else (
            expire_s * 1000 if expire_s is not None else None)
        if deadline is not None and self.now_ms is not None and deadline < self.now_ms:
            self.expired += 1
        elif want is not None:
            self.want[(db, key)] = want

    # --- Redis 6.2's encodings ------------------------------------------------------------------

    def add_string(self, db, key, value, encoding, **kw):
        self.add_raw(db, key, RDB_TYPE_STRING, self.s(value), ("string", value, encoding), **kw)

    def add_quicklist(self, db, key, nodes, **kw):
        """A list: quicklist of ziplists, one RDB string per node (`nodes`: lists of entries, or
        ready-made ziplist bytes)."""
        blobs = [n if isinstance(n, bytes) else ziplist(n) for n in nodes]
        values = [zl_value(e) for n in nodes if not isinstance(n, bytes) for e in n]
        payload = rdb_len(len(blobs)) + b"".join(self.s(b) for b in blobs)
        self.add_raw(db, key, RDB_TYPE_LIST_QUICKLIST, payload, ("list", values, "quicklist"),
                     **kw)

    def add_hash_ziplist(self, db, key, entries, encoding, **kw):
        """A hash as a ziplist of field, value, field, value..."""
        values = [zl_value(e) for e in entries]
        pairs = sorted(zip(values[0::2], values[1::2]))
        self.add_raw(db, key, RDB_TYPE_HASH_ZIPLIST, self.s(ziplist(entries)),
                     ("hash", pairs, encoding), **kw)

    def add_zset_ziplist(self, db, key, pairs, encoding, **kw):
        """A sorted set as a ziplist of member, score... in (score, member) order, the score as
        zzlInsertAt writes it (d2string, so an integral one becomes an integer entry)."""
        pairs = sorted(pairs, key=lambda p: (p[1], p[0]))
        entries = []
        for member, score in pairs:
            entries += [member, d2string(score)]
        self.add_raw(db, key, RDB_TYPE_ZSET_ZIPLIST, self.s(ziplist(entries)),
                     ("zset", self.zrange(pairs), encoding), **kw)

    def add_intset(self, db, key, values, encoding, width=None, **kw):
        values = sorted(values)
        self.add_raw(db, key, RDB_TYPE_SET_INTSET, self.s(intset(values, width)),
                     ("set", sorted(str(v).encode() for v in values), encoding), **kw)

    def add_set(self, db, key, members, encoding, **kw):
        payload = rdb_len(len(members)) + b"".join(self.s(m) for m in members)
        self.add_raw(db, key, RDB_TYPE_SET, payload, ("set", sorted(members), encoding), **kw)

    def add_hash(self, db, key, pairs, encoding, **kw):
        payload = rdb_len(len(pairs)) + b"".join(self.s(f) + self.s(v) for f, v in pairs)
        self.add_raw(db, key, RDB_TYPE_HASH, payload, ("hash", sorted(pairs), encoding), **kw)

    def add_zset2(self, db, key, pairs, encoding, **kw):
        """ZSET_2: binary double scores, greatest first (6.2 walks the skiplist from the tail)."""
        pairs = sorted(pairs, key=lambda p: (p[1], p[0]))
        payload = rdb_len(len(pairs)) + b"".join(
            self.s(m) + struct.pack("<d", sc) for m, sc in reversed(pairs))
        self.add_raw(db, key, RDB_TYPE_ZSET_2, payload,
                     ("zset", self.zrange(pairs, encoding), encoding), **kw)

    # --- older encodings a 6.2 (and 7.0) server still loads -----------------------------------

    def add_zipmap(self, db, key, pairs, encoding, free=None, **kw):
        self.add_raw(db, key, RDB_TYPE_HASH_ZIPMAP, self.s(zipmap(pairs, free)),
                     ("hash", sorted(pairs), encoding), **kw)

    def add_list_ziplist(self, db, key, entries, **kw):
        self.add_raw(db, key, RDB_TYPE_LIST_ZIPLIST, self.s(ziplist(entries)),
                     ("list", [zl_value(e) for e in entries], "quicklist"), **kw)

    def add_plain_list(self, db, key, items, **kw):
        payload = rdb_len(len(items)) + b"".join(self.s(i) for i in items)
        self.add_raw(db, key, RDB_TYPE_LIST, payload, ("list", list(items), "quicklist"), **kw)

    def add_zset_text(self, db, key, pairs, encoding, **kw):
        """ZSET (type 3): scores as text, one length byte (253 nan, 254 +inf, 255 -inf)."""
        def score(x):
            if math.isinf(x):
                return b"\xfe" if x > 0 else b"\xff"
            text = ("%.17g" % x).encode()
            return bytes([len(text)]) + text
        payload = rdb_len(len(pairs)) + b"".join(self.s(m) + score(sc) for m, sc in pairs)
        pairs = sorted(pairs, key=lambda p: (p[1], p[0]))
        self.add_raw(db, key, RDB_TYPE_ZSET, payload,
                     ("zset", self.zrange(pairs, encoding), encoding), **kw)

    @staticmethod
    def zrange(pairs, encoding=None):
        """ZRANGE WITHSCORES. A sorted set Redis 7.0 builds into a listpack from a skiplist
        (types 3 and 5) goes through zzlInsertAt, which stores an integral score as an integer
        (double2ll): -0 comes back as 0 then. (A 6.2 ziplist's "-0" string entry is kept.)"""
        out = []
        for member, score in pairs:
            if encoding == "listpack" and score == 0:
                score = 0.0
            out += [member, reply_score(score)]
        return out

    # --- the bytes ------------------------------------------------------------------------------

    def bytes(self):
        out = bytearray(b"REDIS0009")
        for k, v in ((b"redis-ver", b"6.2.14"), (b"redis-bits", b"64"),
                     (b"ctime", str(CTIME).encode()), (b"used-mem", b"873456"),
                     (b"repl-stream-db", b"0"),
                     (b"repl-id", b"8d2c5ba6e3a1b2f4c9d0e7f6a5b4c3d2e1f0a9b8"),
                     (b"repl-offset", b"0"), (b"aof-preamble", b"0")):
            out += b"\xfa" + self.s(k) + self.s(v)
        for db in sorted(self.dbs):
            records = self.dbs[db]
            out += b"\xfe" + rdb_len(db)
            out += b"\xfb" + rdb_len(len(records)) + rdb_len(sum(e for _, e in records))
            for rec, _ in records:
                out += rec
        out += b"\xff"
        return bytes(out) + struct.pack("<Q", crc64(out) if self.checksum else 0)


def with_anchor(rdb_type, payload, key=b"bad"):
    """A file holding a plain string key and one key of `rdb_type` with `payload` (bytes that
    may be corrupt on purpose). Strings are not compressed, so `payload` is exactly what the file
    holds."""
    f = Rdb9File()
    f.add_string(0, b"anchor", b"still here", "embstr")
    f.add_raw(0, key, rdb_type, payload)
    return f.bytes()


# ---------------------------------------------------------------------------------------------
# Loading a file into a server and reading everything back
# ---------------------------------------------------------------------------------------------


def read_value(c, kind, key):
    if kind == "string":
        return decode(c.call("GET", key))
    if kind == "list":
        return decode(c.call("LRANGE", key, "0", "-1"))
    if kind == "hash":
        flat = decode(c.call("HGETALL", key))
        return sorted(zip(flat[0::2], flat[1::2]))
    if kind == "set":
        return sorted(decode(c.call("SMEMBERS", key)))
    if kind == "zset":
        return decode(c.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
    raise AssertionError("unexpected type %r of %r" % (kind, key))


def snapshot(c):
    """(db, key) -> {type, encoding, pexpiretime, value, dump} for every key of every database,
    plus the load counters of INFO persistence."""
    out = {}
    for db in range(16):
        assert decode(c.call("SELECT", str(db))) == b"OK"
        for key in sorted(decode(c.call("KEYS", "*"))):
            kind = decode(c.call("TYPE", key)).decode()
            enc = decode(c.call("OBJECT", "ENCODING", key)).decode()
            out[(db, key)] = {
                "type": kind,
                "encoding": enc,
                "pexpiretime": decode(c.call("PEXPIRETIME", key)),
                "value": read_value(c, kind, key),
                # A hash table's DUMP follows the table's order: compare the sorted value only.
                "dump": None if enc == "hashtable" else decode(c.call("DUMP", key)),
            }
    info = decode(c.call("INFO", "persistence")).decode()
    for field in ("rdb_last_load_keys_loaded", "rdb_last_load_keys_expired"):
        out[field] = info.split(field + ":")[1].split()[0]
    return out


class Refused:
    def __init__(self, code, output):
        self.code, self.output = code, output

    def __repr__(self):
        return "refused (exit code %s)" % self.code


def describe_difference(a, b):
    """Where `a` and `b` first differ, briefly (values can be kilobytes long)."""
    def short(v):
        r = repr(v)
        return r if len(r) <= 120 else "%s... (%d chars)" % (r[:120], len(r))
    if isinstance(a, (list, bytes)) and isinstance(b, type(a)):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                if isinstance(a, bytes):
                    return "byte %d: %s vs %s" % (i, short(a[i:i + 16]), short(b[i:i + 16]))
                return "element %d: %s" % (i, describe_difference(x, y))
        return "lengths %d vs %d" % (len(a), len(b))
    return "%s vs %s" % (short(a), short(b))


def differences(got, want, names=("Keyward", "Redis")):
    """One line per key and field that differ (or key missing on one side), as
    "<key> <field>: <names[0]> ... vs <names[1]> ..."."""
    out = []
    for key in sorted(set(got) | set(want), key=repr):
        a, b = got.get(key), want.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for field in sorted(set(a) | set(b)):
                if a.get(field) != b.get(field):
                    out.append("%r %s: %s vs %s: %s" % (key, field, names[0], names[1],
                                                       describe_difference(a.get(field),
                                                                           b.get(field))))
        elif a != b:
            out.append("%r: %s vs %s: %s" % (key, names[0], names[1], describe_difference(a, b)))
    return out


class Rdb9TestCase(ServerTestCase):
    def write(self, data, name="v9.rdb"):
        d = make_workdir()
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def check_rdb(self, data):
        """(exit code, output) of redis-check-rdb 7.0.15 (which sanitizes payloads deeply)."""
        proc = subprocess.run([REDIS_CHECK_RDB, self.write(data)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        return proc.returncode, proc.stdout.decode(errors="replace")

    def load(self, binary, data):
        """Starts `binary` on a copy of `data` (--dir/--dbfilename, no save points): a Refused if
        it exits, else the snapshot of what it holds."""
        path = self.write(data)
        args = ["--dir", os.path.dirname(path), "--dbfilename", os.path.basename(path),
                "--save", ""]
        if binary == REDIS_SERVER:
            args += ["--appendonly", "no"]
        srv = start_server(binary, args, name=os.path.basename(binary), wait=False)
        self.addCleanup(srv.stop)
        wait_for(lambda: not srv.alive() or srv.answers_ping(), timeout=60,
                 message="%s to start or exit" % srv.name)
        if not srv.alive():
            code = srv.wait_exit()
            report = srv.sanitizer_report()
            self.assertIsNone(report, "%s crashed on the file:\n%s" % (srv.name, report))
            return Refused(code, srv.output())
        c = self.raw_client(srv)
        wait_for(lambda: not decode(c.call("PING")).startswith(b"LOADING"), timeout=60,
                 message="%s to finish loading" % srv.name)
        result = snapshot(c)
        c.close()
        srv.stop()
        return result

    def assert_loads_like_redis(self, f):
        """The whole check for a good file: redis-check-rdb accepts it, Redis starts on it and
        holds what the file was built from, Keyward holds what Redis holds."""
        data = f.bytes()
        code, out = self.check_rdb(data)
        self.assertEqual(code, 0, "redis-check-rdb refused the file:\n" + out[-3000:])
        self.assertIn("RDB looks OK", out)
        in_redis = self.load(REDIS_SERVER, data)
        self.assertNotIsInstance(in_redis, Refused,
                                 "Redis refused the file:\n%s" % getattr(in_redis, "output", ""))
        # The oracle holds what the writer meant: type, value and (where given) encoding.
        held = {k: {"type": v["type"], "value": v["value"], "encoding": v["encoding"]}
                for k, v in in_redis.items() if isinstance(k, tuple)}
        meant = {}
        for k, (kind, value, enc) in f.want.items():
            if enc is None and k in held:
                enc = held[k]["encoding"]  # not checked
            meant[k] = {"type": kind, "value": value, "encoding": enc}
        self.assertEqual(differences(held, meant, ("Redis", "the file's writer")), [])
        self.assertEqual(in_redis["rdb_last_load_keys_loaded"], str(len(f.want)))
        self.assertEqual(in_redis["rdb_last_load_keys_expired"], str(f.expired))
        in_keyward = self.load(keyward_binary(), data)
        self.assertNotIsInstance(in_keyward, Refused, "Keyward refused a file Redis loads:\n%s"
                                 % getattr(in_keyward, "output", "")[-3000:])
        self.assertEqual(differences(in_keyward, in_redis), [])
        return in_redis


# ---------------------------------------------------------------------------------------------
# Values used by several files
# ---------------------------------------------------------------------------------------------

# Every ziplist integer encoding, at both ends of its range (and the immediates 0..12).
EVERY_INT_WIDTH = [0, 1, 12, 13, -1, 127, -128, 128, -129, 32767, -32768, 32768, -32769,
                   8388607, -8388608, 8388608, -8388609, 2147483647, -2147483648, 2147483648,
                   -2147483649, 9223372036854775807, -9223372036854775808]
BIG = b"B" * 300          # an entry > 253 bytes: the next entry's prevlen takes 5 bytes
HUGE = bytes(range(256)) * 70  # 17920 bytes: the 32-bit string header (> 16383)


class GoodFiles(Rdb9TestCase):
    def test_strings_and_integer_encoded_keys(self):
        f = Rdb9File()
        for key, value, enc in [
                (b"int8", b"-100", "int"), (b"int8-max", b"127", "int"),
                (b"int16", b"-32768", "int"), (b"int16-max", b"32767", "int"),
                (b"int32", b"100000", "int"), (b"int32-min", b"-2147483648", "int"),
                (b"int32-max", b"2147483647", "int"),
                (b"past-int32", b"2147483648", "int"),  # 10 digits, raw in the file
                (b"int64", b"9223372036854775807", "int"),
                (b"past-int64", b"9223372036854775808", "embstr"),
                (b"leading-zero", b"007", "embstr"), (b"plus", b"+5", "embstr"),
                (b"minus-zero", b"-0", "embstr"), (b"space", b" 5", "embstr"),
                (b"empty", b"", "embstr"), (b"short", b"hello", "embstr"),
                (b"44-bytes", b"x" * 44, "embstr"), (b"45-bytes", b"y" * 45, "raw"),
                (b"binary", bytes(range(256)), "raw"), (b"huge", HUGE, "raw")]:
            f.add_string(0, key, value, enc)
        # Key names a 6.2 server writes as integers.
        f.add_string(0, b"7", b"seven", "embstr")
        f.add_string(0, b"1000", b"thousand", "embstr")
        f.add_string(0, b"-70000", b"int32 key", "embstr")
        self.assert_loads_like_redis(f)

    def test_lzf_compressed_strings_keys_and_ziplists(self):
        f = Rdb9File(compress=True)
        f.add_string(0, b"k" * 30, b"a key name LZF compressed", "embstr")
        f.add_string(0, b"repetitive", b"abc" * 100, "raw")
        f.add_string(0, b"long-run", b"z" * 5000, "raw")
        f.add_string(0, b"incompressible", bytes(range(256)), "raw")  # stored as is
        f.add_string(0, b"21-bytes", b"aaaaaaaaaaaaaaaaaaaaa", "embstr")
        f.add_quicklist(0, b"list", [[b"element-%d" % (i % 7) for i in range(120)],
                                     [b"tail", 5, BIG]])
        f.add_hash_ziplist(0, b"hash", [b"field-1", b"value-value-value", b"field-2", 12345],
                           "listpack")
        f.add_zset_ziplist(0, b"zset", [(b"m%d" % i, i * 0.5) for i in range(40)], "listpack")
        f.add_intset(0, b"intset", list(range(0, 400, 3)), "intset")
        data = f.bytes()
        self.assertIn(b"\xc3", data)  # at least one LZF string
        self.assert_loads_like_redis(f)

    def test_lists_quicklist_of_ziplists(self):
        f = Rdb9File()
        f.add_quicklist(0, b"ints", [EVERY_INT_WIDTH])
        f.add_quicklist(0, b"strings", [
            [b"", b"a", b"s" * 63, b"t" * 64, BIG, b"after-big", Zl(b"wide", wide_prevlen=True),
             b"u" * 16383, b"v" * 16384, b"tail"],
            [HUGE],  # a big element alone in its node, as quicklist puts it
            [b"007", b"-0", b"+1", b"1.5", b"12345678901234567890", b"0x10", Zl(b"123", ZIP_STR),
             Zl(5, ZIP_INT_64B), Zl(-1, ZIP_INT_16B), Zl(100, ZIP_INT_24B), Zl(7, ZIP_INT_32B),
             Zl(3, ZIP_INT_8B)],
        ])
        f.add_quicklist(0, b"many-nodes", [[b"n%d-%d" % (n, i) for i in range(50)]
                                           for n in range(8)])
        f.add_quicklist(0, b"single", [[b"only"]])
        # zllen 0xFFFF means "count them": valid with any number of entries.
        blob = bytearray(ziplist([b"x", b"y", 3]))
        blob[8:10] = b"\xff\xff"
        f.add_quicklist(0, b"unknown-count", [bytes(blob)])
        f.want[(0, b"unknown-count")] = ("list", [b"x", b"y", b"3"], "quicklist")
        self.assert_loads_like_redis(f)

    def test_hashes_ziplist_and_plain(self):
        f = Rdb9File()
        f.add_hash_ziplist(0, b"small", [b"name", b"keyward", b"age", 7, b"n", b"-129",
                                         b"empty", b"", b"", b"empty-field"], "listpack")
        ints = []
        for i, v in enumerate(EVERY_INT_WIDTH):
            ints += [b"f%d" % i, v]
        f.add_hash_ziplist(0, b"every-int", ints, "listpack")
        # A 6.2 server with a larger hash-max-ziplist-value wrote a long value into the
        # ziplist; Redis 7.0 converts to a hash table by the count only, so it stays listpack.
        f.add_hash_ziplist(0, b"big-value", [b"a", BIG, b"b", b"after", b"c",
                                             Zl(b"w", wide_prevlen=True), BIG, b"big-field"],
                           "listpack")
        many = []
        for i in range(600):
            many += [b"field:%d" % i, i]
        f.add_hash_ziplist(0, b"past-512", many, "hashtable")
        f.add_hash(0, b"plain-small", [(b"a", b"1"), (b"b", b"two"), (b"c", b"")], "listpack")
        f.add_hash(0, b"plain-long-value", [(b"a", b"1"), (b"long", b"v" * 65)], "hashtable")
        f.add_hash(0, b"plain-long-field", [(b"f" * 65, b"x")], "hashtable")
        f.add_hash(0, b"plain-64", [(b"f" * 64, b"v" * 64)], "listpack")
        f.add_hash(0, b"plain-513", [(b"k%d" % i, b"%d" % i) for i in range(513)], "hashtable")
        f.add_hash(0, b"plain-512", [(b"k%d" % i, b"%d" % i) for i in range(512)], "listpack")
        self.assert_loads_like_redis(f)

    def test_sets_intset_and_plain(self):
        f = Rdb9File()
        f.add_intset(0, b"int16", [-32768, -5, 0, 1, 2, 32767], "intset")
        f.add_intset(0, b"int32", [-2147483648, -40000, 7, 40000, 2147483647], "intset")
        f.add_intset(0, b"int64", [-9223372036854775808, -1, 5, 9223372036854775807], "intset")
        f.add_intset(0, b"wide-for-small", [1, 2, 3], "intset", width=8)
        f.add_intset(0, b"past-512", list(range(-300, 300)), "hashtable")
        f.add_intset(0, b"exactly-512", list(range(512)), "intset")
        f.add_set(0, b"plain-ints", [b"3", b"1", b"-2", b"100000", b"9223372036854775807"],
                  "intset")
        f.add_set(0, b"plain-strings", [b"a", b"b", b"c"], "hashtable")
        f.add_set(0, b"ints-then-string", [b"1", b"2", b"007", b"3"], "hashtable")
        f.add_set(0, b"plain-513", [b"%d" % i for i in range(513)], "hashtable")
        self.assert_loads_like_redis(f)

    def test_sorted_sets_ziplist_and_plain(self):
        scores = [(b"one", 1.0), (b"half", 2.5), (b"neg", -3.0), (b"tenth", 0.1),
                  (b"zero", 0.0), (b"minus-zero", -0.0), (b"big", 1e20), (b"tiny", 1e-300),
                  (b"pos-inf", math.inf), (b"neg-inf", -math.inf), (b"2^53", 9007199254740992.0),
                  (b"12345", 12345.0), (b"-70000", -70000.0), (b"5", 5.0)]
        f = Rdb9File()
        f.add_zset_ziplist(0, b"ziplist", scores, "listpack")
        f.add_zset_ziplist(0, b"same-scores", [(b"b", 1.0), (b"a", 1.0), (b"ab", 1.0),
                                               (b"", 1.0)], "listpack")
        f.add_zset_ziplist(0, b"big-member", [(BIG, 1.0), (b"after", 2.0), (b"x" * 70, 3.0)],
                           "listpack")
        f.add_zset_ziplist(0, b"past-128", [(b"m%d" % i, i * 1.25) for i in range(200)]
                           + [(b"minus-zero", -0.0)],
                           "skiplist")
        f.add_zset_ziplist(0, b"exactly-128", [(b"m%d" % i, -i) for i in range(128)],
                           "listpack")
        f.add_zset2(0, b"plain-small", scores, "listpack")
        f.add_zset2(0, b"plain-long-member", [(b"a", 1.0), (b"m" * 65, 2.0), (b"mz", -0.0)],
                  "skiplist")
        f.add_zset2(0, b"plain-129", [(b"m%d" % i, i / 3) for i in range(129)], "skiplist")
        self.assert_loads_like_redis(f)

    def test_older_encodings_zipmap_list_ziplist_plain_list_text_scores(self):
        f = Rdb9File()
        f.add_zipmap(0, b"zipmap", [(b"name", b"redis 2.4"), (b"n", b"10"), (b"e", b"")],
                     "listpack")
        f.add_zipmap(0, b"zipmap-free", [(b"a", b"short"), (b"b", b"x")], "listpack",
                     free={b"a": 3, b"b": 1})
        f.add_zipmap(0, b"zipmap-long", [(b"f", b"v" * 300), (b"g", b"w")], "hashtable")
        f.add_zipmap(0, b"zipmap-65", [(b"f", b"v" * 65)], "hashtable")
        f.add_zipmap(0, b"zipmap-64", [(b"f" * 64, b"v" * 64)], "listpack")
        f.add_list_ziplist(0, b"list-ziplist", [b"a", 1, BIG, -70000, b"z"])
        f.add_plain_list(0, b"plain-list", [b"x", b"1", b"y" * 100, b""])
        f.add_zset_text(0, b"text-scores", [(b"a", 1.5), (b"b", math.inf), (b"c", -math.inf),
                                            (b"d", -2.0), (b"e", -0.0)], "listpack")
        f.add_string(0, b"seconds-expiry", b"old", "embstr", expire_s=2000000000)
        self.assert_loads_like_redis(f)

    def test_two_databases_expiry_lru_lfu_and_deadlines_in_the_past(self):
        now = int(time.time() * 1000)
        f = Rdb9File(compress=True, now_ms=now)
        future = now + 3600 * 1000
        f.add_string(0, b"plain", b"value", "embstr")
        f.add_string(0, b"volatile", b"v" * 30, "embstr", expire_ms=future + 123)
        f.add_string(0, b"far", b"1234", "int", expire_ms=4102444800000)
        f.add_string(0, b"gone", b"expired", None, expire_ms=now - 60000)
        f.add_quicklist(0, b"list", [[b"a", b"b", 1]], expire_ms=future + 7)
        f.add_hash_ziplist(0, b"gone-hash", [b"f", b"v"], None, expire_ms=1000)
        f.add_intset(0, b"idle", [1, 2, 3], "intset", idle=1000)
        f.add_string(0, b"freq", b"counted", "embstr", freq=5)
        f.add_string(3, b"plain", b"in db 3", "embstr")
        f.add_zset_ziplist(3, b"zset", [(b"a", 1.0), (b"b", 2.0)], "listpack",
                           expire_ms=future + 999)
        f.add_hash_ziplist(3, b"hash", [b"f", b"v"], "listpack", expire_ms=future)
        f.add_set(3, b"gone-set", [b"x"], None, expire_ms=now - 1)
        f.add_zipmap(15, b"last-db", [(b"f", b"v")], "listpack", expire_ms=future + 1)
        self.assertEqual(f.expired, 3)
        in_redis = self.assert_loads_like_redis(f)
        self.assertEqual(in_redis[(0, b"volatile")]["pexpiretime"], future + 123)
        self.assertEqual(in_redis[(0, b"plain")]["pexpiretime"], -1)
        self.assertEqual(sorted({db for db, _ in f.want}), [0, 3, 15])

    def test_checksum_zero_means_not_checked(self):
        f = Rdb9File(checksum=False)
        f.add_string(0, b"k", b"v", "embstr")
        f.add_quicklist(0, b"l", [[b"a", 1]])
        self.assert_loads_like_redis(f)


class EmptyValues(Rdb9TestCase):
    """Empty ziplists and containers: 6.2 never writes them, but Redis 7.0 loads a file holding
    one by skipping the key (or, in a quicklist, the node), while redis-check-rdb calls the file
    corrupt. One file per empty value, next to a plain string key."""

    def empty_values(self):
        empty_zl = ziplist([])
        out = [("hash ziplist", RDB_TYPE_HASH_ZIPLIST, rdb_string(empty_zl)),
               ("zset ziplist", RDB_TYPE_ZSET_ZIPLIST, rdb_string(empty_zl)),
               ("list ziplist (type 10)", RDB_TYPE_LIST_ZIPLIST, rdb_string(empty_zl)),
               ("quicklist of one empty ziplist", RDB_TYPE_LIST_QUICKLIST,
                rdb_len(1) + rdb_string(empty_zl)),
               ("quicklist of no nodes", RDB_TYPE_LIST_QUICKLIST, rdb_len(0))]
        for name, t in (("set", RDB_TYPE_SET), ("hash", RDB_TYPE_HASH),
                        ("zset (type 5)", RDB_TYPE_ZSET_2), ("zset (type 3)", RDB_TYPE_ZSET),
                        ("list (type 1)", RDB_TYPE_LIST)):
            out.append(("plain " + name + " of length 0", t, rdb_len(0)))
        return out

    def test_empty_values_are_skipped_as_redis_skips_them(self):
        for name, rdb_type, payload in self.empty_values():
            with self.subTest(name):
                data = with_anchor(rdb_type, payload, key=b"empty")
                code, out = self.check_rdb(data)
                self.assertNotEqual(code, 0, out)
                in_redis = self.load(REDIS_SERVER, data)
                self.assertNotIsInstance(in_redis, Refused, getattr(in_redis, "output", ""))
                self.assertEqual([k for k in in_redis if isinstance(k, tuple)], [(0, b"anchor")])
                in_keyward = self.load(keyward_binary(), data)
                self.assertNotIsInstance(in_keyward, Refused,
                                         "Keyward refused a file Redis loads:\n%s"
                                         % getattr(in_keyward, "output", "")[-3000:])
                self.assertEqual(differences(in_keyward, in_redis), [])

    def test_an_empty_quicklist_node_is_dropped_and_the_rest_loaded(self):
        # Skipping a node is no error: here redis-check-rdb agrees.
        f = Rdb9File()
        f.add_raw(0, b"list", RDB_TYPE_LIST_QUICKLIST,
                  rdb_len(3) + rdb_string(ziplist([b"a"])) + rdb_string(ziplist([]))
                  + rdb_string(ziplist([b"b", 2])),
                  want=("list", [b"a", b"b", b"2"], "quicklist"))
        self.assert_loads_like_redis(f)


# ---------------------------------------------------------------------------------------------
# Corrupted files
# ---------------------------------------------------------------------------------------------


def patched(blob, at, new):
    """`blob` with the bytes at offset `at` replaced by `new`."""
    return blob[:at] + new + blob[at + len(new):]


def set_zlbytes(blob, n):
    return patched(blob, 0, struct.pack("<I", n))


def corrupt_ziplists():
    """(name, ziplist bytes) pairs, each wrong in one way; the good one they come from is
    [b"first", 300, BIG, b"next", b"hello world"]."""
    entries = [b"first", 300, BIG, b"next", b"hello world"]
    good, offs = ziplist_layout(entries)
    n = len(good)
    out = []
    out.append(("zlbytes one more than the blob", set_zlbytes(good, n + 1)))
    out.append(("zlbytes one less than the blob", set_zlbytes(good, n - 1)))
    # The last entry says 11 bytes but only 8 are left before the end marker.
    cut = good[:n - 4] + good[n - 1:]
    out.append(("truncated last entry", set_zlbytes(cut, n - 3)))
    # The second entry's prevlen says 7, the first entry is 7 bytes long: make it 8.
    out.append(("1-byte prevlen that lies", patched(good, offs[1], bytes([good[offs[1]] + 1]))))
    # After BIG the prevlen takes 5 bytes: 0xFE + the 303-byte length; make it 304.
    big_prev = struct.unpack("<I", good[offs[3] + 1:offs[3] + 5])[0]
    out.append(("5-byte prevlen that lies",
                patched(good, offs[3] + 1, struct.pack("<I", big_prev + 1))))
    out.append(("zltail at the first entry", patched(good, 4, struct.pack("<I", offs[0]))))
    out.append(("zltail past the end", patched(good, 4, struct.pack("<I", n + 10))))
    out.append(("zllen one more than the entries", patched(good, 8, struct.pack("<H", 6))))
    out.append(("zllen one less than the entries", patched(good, 8, struct.pack("<H", 4))))
    out.append(("no end marker", good[:n - 1] + b"\xfe"))
    # 300 is an int16 entry (0xC0 + 2 bytes); 0xC1 is no encoding at all.
    out.append(("invalid encoding byte 0xC1", patched(good, offs[1] + 1, b"\xc1")))
    # A 32-bit string header claiming 4 GB for the 5 bytes that follow.
    out.append(("string length past the blob",
                struct.pack("<IIH", 22, 10, 1) + b"\x00\x80\xff\xff\xff\xf0abcde\xff"))
    return out


class CorruptFiles(Rdb9TestCase):
    def cases(self):
        """(name, file bytes, what Redis 7.0.15 logs when it refuses the file, or None when it
        loads it) for every corrupted variant."""
        zl_failed = "Ziplist integrity check failed"
        hash_failed = "Hash ziplist integrity check failed"
        zset_failed = "Zset ziplist integrity check failed"
        intset_failed = "Intset integrity check failed"
        zipmap_failed = "Zipmap integrity check failed"
        cases = [("quicklist node: " + name,
                  with_anchor(RDB_TYPE_LIST_QUICKLIST, rdb_len(1) + rdb_string(zl)), zl_failed)
                 for name, zl in corrupt_ziplists()]
        hash_zl = ziplist([b"f1", b"v1", b"f2", BIG])
        zset_zl = ziplist([b"a", 1, b"b", b"2.5"])

        def one(name, rdb_type, payload, reason):
            cases.append((name, with_anchor(rdb_type, payload), reason))

        one("hash ziplist: zlbytes one more than the blob", RDB_TYPE_HASH_ZIPLIST,
            rdb_string(set_zlbytes(hash_zl, len(hash_zl) + 1)), hash_failed)
        # The second entry's prevlen must be 4 (00 02 "f1").
        one("hash ziplist: prevlen that lies", RDB_TYPE_HASH_ZIPLIST,
            rdb_string(patched(hash_zl, 14, b"\x05")), hash_failed)
        one("hash ziplist: duplicate field", RDB_TYPE_HASH_ZIPLIST,
            rdb_string(ziplist([b"f", b"1", b"g", b"2", b"f", b"3"])), hash_failed)
        one("hash ziplist: odd number of entries", RDB_TYPE_HASH_ZIPLIST,
            rdb_string(ziplist([b"f", b"1", b"g"])), hash_failed)
        one("zset ziplist: zlbytes one less than the blob", RDB_TYPE_ZSET_ZIPLIST,
            rdb_string(set_zlbytes(zset_zl, len(zset_zl) - 1)), zset_failed)
        # "2.5" loses its "." but its header still says 3 bytes.
        one("zset ziplist: truncated entry", RDB_TYPE_ZSET_ZIPLIST,
            rdb_string(set_zlbytes(zset_zl[:-3] + zset_zl[-2:], len(zset_zl) - 1)), zset_failed)
        one("zset ziplist: duplicate member", RDB_TYPE_ZSET_ZIPLIST,
            rdb_string(ziplist([b"a", 1, b"a", 2])), zset_failed)
        one("zset ziplist: odd number of entries", RDB_TYPE_ZSET_ZIPLIST,
            rdb_string(ziplist([b"a", 1, b"b"])), zset_failed)
        one("list ziplist (type 10): prevlen that lies", RDB_TYPE_LIST_ZIPLIST,
            rdb_string(patched(ziplist([b"abc", b"def"]), 15, b"\x06")),
            "List ziplist integrity check failed")
        one("quicklist: a node of 0 bytes", RDB_TYPE_LIST_QUICKLIST,
            rdb_len(2) + rdb_string(ziplist([b"a"])) + rdb_len(0), "Short read or OOM")
        one("intset: encoding 3", RDB_TYPE_SET_INTSET,
            rdb_string(patched(intset([1, 2]), 0, b"\x03")), intset_failed)
        one("intset: length past the records", RDB_TYPE_SET_INTSET,
            rdb_string(patched(intset([1, 2, 3]), 4, struct.pack("<I", 4))), intset_failed)
        one("intset: records past the length", RDB_TYPE_SET_INTSET,
            rdb_string(patched(intset([1, 2, 3]), 4, struct.pack("<I", 2))), intset_failed)
        one("intset: empty", RDB_TYPE_SET_INTSET, rdb_string(intset([])), intset_failed)
        # Redis checks only an intset's header while loading (sanitize-dump-payload no): an
        # unsorted or duplicated one loads as it is (redis-check-rdb, which sanitizes deeply,
        # refuses both). Keyward may refuse it or hold the same.
        one("intset: unsorted (Redis loads it)", RDB_TYPE_SET_INTSET,
            rdb_string(intset([3, 1, 2])), None)
        one("intset: duplicate (Redis loads it)", RDB_TYPE_SET_INTSET,
            rdb_string(intset([1, 1, 2])), None)
        one("zipmap: count byte disagrees", RDB_TYPE_HASH_ZIPMAP,
            rdb_string(zipmap([(b"a", b"1"), (b"b", b"2")], count=3)), zipmap_failed)
        one("zipmap: no end marker", RDB_TYPE_HASH_ZIPMAP,
            rdb_string(zipmap([(b"a", b"1")])[:-1] + b"\x00"), zipmap_failed)
        one("zipmap: value length past the end", RDB_TYPE_HASH_ZIPMAP,
            rdb_string(patched(zipmap([(b"a", b"12")]), 3, b"\x09")), zipmap_failed)
        one("zipmap: duplicate field", RDB_TYPE_HASH_ZIPMAP,
            rdb_string(zipmap([(b"a", b"1"), (b"a", b"2")])), "Hash zipmap with dup elements")
        one("zipmap: empty", RDB_TYPE_HASH_ZIPMAP, rdb_string(zipmap([])), zipmap_failed)
        one("set: duplicate integer member", RDB_TYPE_SET,
            rdb_len(2) + rdb_string(b"1") + rdb_string(b"1"), "Duplicate set members detected")
        one("set: duplicate string member", RDB_TYPE_SET,
            rdb_len(3) + rdb_string(b"a") + rdb_string(b"b") + rdb_string(b"a"),
            "Duplicate set members detected")
        one("hash: duplicate field past 512 entries", RDB_TYPE_HASH,
            rdb_len(514) + b"".join(rdb_string(b"f%d" % i) + rdb_string(b"v") for i in range(513))
            + rdb_string(b"f0") + rdb_string(b"v"), "Duplicate hash fields detected")
        # Below hash-max-listpack-entries Redis appends pairs to a listpack without looking for
        # duplicates (sanitize-dump-payload no): it loads a hash holding the field twice.
        one("hash: duplicate field in a small hash (Redis loads it)", RDB_TYPE_HASH,
            rdb_len(2) + rdb_string(b"f") + rdb_string(b"1") + rdb_string(b"f")
            + rdb_string(b"2"), None)
        one("zset: duplicate member", RDB_TYPE_ZSET_2,
            rdb_len(2) + rdb_string(b"a") + struct.pack("<d", 1.0) + rdb_string(b"a")
            + struct.pack("<d", 2.0), "Duplicate zset fields detected")
        one("zset: NaN score", RDB_TYPE_ZSET_2,
            rdb_len(1) + rdb_string(b"a") + struct.pack("<d", math.nan),
            "Zset with NAN score detected")
        packed = lzf_compress(b"ab" * 20, 99)
        one("string: LZF with the wrong uncompressed length", RDB_TYPE_STRING,
            b"\xc3" + rdb_len(len(packed)) + rdb_len(41) + packed, "Invalid LZF compressed string")
        # A literal run of 32 bytes of which 2 are there.
        one("string: LZF stream cut short", RDB_TYPE_STRING,
            b"\xc3" + rdb_len(3) + rdb_len(40) + b"\x1fab", "Invalid LZF compressed string")
        good = with_anchor(RDB_TYPE_LIST_QUICKLIST, rdb_len(1) + rdb_string(ziplist([b"a", 1])))
        crc = struct.unpack("<Q", good[-8:])[0]
        cases.append(("file: CRC-64 off by one", good[:-8] + struct.pack("<Q", crc ^ 1),
                      "Wrong RDB checksum"))
        return cases

    def test_corrupted_variants_are_refused_as_redis_refuses_them(self):
        for name, data, reason in self.cases():
            with self.subTest(name):
                in_redis = self.load(REDIS_SERVER, data)
                # The oracle refuses the file, and for the reason the variant is about.
                if reason is None:
                    self.assertNotIsInstance(in_redis, Refused, getattr(in_redis, "output", ""))
                else:
                    self.assertIsInstance(in_redis, Refused)
                    self.assertIn(reason, in_redis.output)
                in_keyward = self.load(keyward_binary(), data)
                if isinstance(in_redis, Refused):
                    self.assertIsInstance(in_keyward, Refused,
                                          "Keyward loaded a file Redis refuses")
                    # An error exit as Redis's exit(1), not a crash.
                    self.assertGreater(in_keyward.code, 0, in_keyward.output[-3000:])
                elif not isinstance(in_keyward, Refused):
                    self.assertEqual(differences(in_keyward, in_redis), [])

    def test_redis_check_rdb_refuses_every_variant(self):
        # The checker sanitizes deeply: it refuses even the variants redis-server loads, which
        # shows they are corrupt indeed.
        for name, data, _ in self.cases():
            with self.subTest(name):
                code, out = self.check_rdb(data)
                self.assertNotEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
