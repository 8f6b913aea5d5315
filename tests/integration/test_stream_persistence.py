"""Streams through persistence and propagation, against Debian's redis-server 7.0.15.

What is checked:
  * RDB both ways. The same streams (many entries over several small nodes, entries with and
    without the master entry's fields, XDEL tombstones, exact and approximate trims, empty streams
    made by XDEL and by XGROUP CREATE MKSTREAM, groups with known and unknown entries-read,
    consumers with and without pending entries, NOACK reads, pending entries whose message was
    deleted, XSETID ENTRIESADDED / MAXDELETEDID, binary and integer-looking fields, values, group
    and consumer names, a deadline) are built on one server and SAVEd; redis-check-rdb accepts
    the file; both servers start on a copy and hold the same: XINFO STREAM FULL (the seen and
    delivery times too: they were loaded), XINFO STREAM / GROUPS / CONSUMERS, XRANGE, XPENDING
    (summary and extended), PEXPIRETIME and the DUMP payload's bytes. Idle times are the only
    thing masked. Then the other way round, and DEBUG RELOAD.
  * RDB type 15 (STREAM_LISTPACKS, Redis 5 to 6.2): a type 19 DUMP payload rewritten to type 15
    with an RDB 9 footer, RESTOREd into both servers, and an RDB 9 file holding such values
    loaded by both: Redis 7.0.15 counts entries-added as the length, computes the first ID and
    estimates each group's entries-read; Keyward must hold the same.
  * AOF both ways, with `aof-use-rdb-preamble no`: after BGREWRITEAOF (the BASE as XADD / XSETID
    / XGROUP CREATE / XCLAIM / XGROUP CREATECONSUMER commands, rewriteStreamObject's), and the
    incremental file replayed without a rewrite. redis-check-aof accepts the directory, both
    servers load a copy and hold the same. Replaying an XCLAIM or XGROUP CREATECONSUMER sets a
    consumer's seen-time to the clock of the load, so seen-times are masked there (in XINFO
    STREAM FULL and inside the DUMP payload, which is parsed for that); delivery times come from
    XCLAIM's TIME and are compared.
  * Propagation: the same deterministic sequence of stream commands on both servers with the AOF
    on, then their incremental files compared command by command (RESP parsed; the value after
    TIME in XCLAIM, the server's clock, masked). Replies are compared on the way.
  * Corrupt payloads: DUMP payloads of small streams with groups (as dumped, with LZF; written
    back plainly; as type 15), truncated at every length, with bytes changed at every offset,
    and with each field of the format (counters, IDs, times, entries-read) set to edge values or
    a structural rule broken (a pending entry owned twice or by nobody, duplicate groups and
    consumers, nodes out of order ...); the CRC-64 footer is recomputed, so the payload reaches
    the stream decoder. RESTOREd into Keyward: it answers -ERR Bad data format, or holds a
    stream that then answers XINFO, XRANGE, XPENDING, XREADGROUP, XCLAIM, XAUTOCLAIM, XADD ...
    The server must stay up and print no sanitizer report. A server that goes away is noted and
    replaced, so one run lists every distinct failure.

Deterministic IDs: explicit IDs, `<ms>-*`, and `*` only on a stream whose last ID is far in the
future (FAR), where both servers make FAR-<seq+1>.

    cd tests/integration
    PYTHONPATH=../support KEYWARD_SERVER=/work/main/build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest test_stream_persistence -v

STREAM_FUZZ_SEED (default 5) seeds the random byte values of the corruption tests.
"""

import copy
import difflib
import os
import random
import re
import shutil
import struct
import subprocess
import unittest

from keyward_harness import (REDIS_SERVER, ConnectionClosed, Error, ServerTestCase, decode,
                             encode_command, keyward_binary, make_workdir, start_server,
                             wait_for)
from test_aof import aof_commands, check_aof, wait_loaded, wait_rewrite_done
from test_rdb9 import crc64, rdb_len

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"
AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"
FUZZ_SEED = int(os.environ.get("STREAM_FUZZ_SEED", "5"))

NODE_ENTRIES = 4  # stream-node-max-entries everywhere here: many small nodes
COMMON_ARGS = ["--stream-node-max-entries", str(NODE_ENTRIES), "--enable-debug-command", "yes"]
FAR = "99999999999999"  # ms far in the future: `*` after FAR-n is FAR-(n+1) on both servers
FAR_FUTURE_MS = 4102444800000  # 2100-01-01, a key's deadline
BAD_DATA = b"-ERR Bad data format\r\n"

BIN = b"\x00\xff\r\nbin\x00\r\n"
# Values stored as listpack integers (every width) or as strings that only look like numbers.
VALUES = [b"0", b"-1", b"12", b"127", b"-128", b"4095", b"-4096", b"32767", b"-32768",
          b"8388607", b"-8388608", b"2147483647", b"-2147483648", b"9223372036854775807",
          b"-9223372036854775808", b"18446744073709551615", b"007", b"-0", b"+5", b"3.14",
          b"1e3", b"", BIN, bytes(range(256)), b"v" * 70, b"w" * 5000]


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------


def run(c, *args):
    """Sends a command; fails on an error reply; returns the decoded reply."""
    reply = decode(c.call(*args))
    if isinstance(reply, Error):
        raise AssertionError("%r answered %r" % (args, reply))
    return reply


def build_streams(c):
    """The streams every persistence test saves and loads (deterministic IDs; the only clock
    values are delivery and seen times). Returns the replies, for comparing two servers."""
    out = []

    def x(*args):
        out.append(run(c, *args))

    run(c, "CONFIG", "SET", "stream-node-max-entries", str(NODE_ENTRIES))
    # "many": 41 entries over nodes of 4; most have the master entry's fields (SAMEFIELDS),
    # some another field set; integer-looking and binary values; a 5000-byte value.
    for i in range(1, 42):
        ms = 1000 + i
        if i % 7 == 0:
            fields = [b"other", b"%d" % i]
        elif i % 5 == 0:
            fields = [b"a", b"x", b"b", b"y", b"c", b"z"]
        elif i % 11 == 0:
            fields = [b"-5", b"1", BIN, b"bin-field"]  # integer and binary field names
        else:
            fields = [b"a", b"%d" % i, b"b", VALUES[i % len(VALUES)]]
        x("XADD", "many", "%d-%d" % (ms, i % 3), *fields)
    # Tombstones: the first entry, one in the middle, the last one (max-deleted-entry-id is then
    # the last ID), and every entry of one node (the node goes).
    x("XDEL", "many", "1001-1", "1010-1", "1041-2")
    x("XDEL", "many", "1013-1", "1014-2", "1015-0", "1016-1")
    # Groups.
    x("XGROUP", "CREATE", "many", "g1", "0")
    x("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "many", ">")
    x("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "many", ">")
    x("XACK", "many", "g1", "1003-0", "1008-2")
    x("XGROUP", "CREATECONSUMER", "many", "g1", "carol")  # no pending entries
    x("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "many", "0")  # history: counts go up
    x("XCLAIM", "many", "g1", "bob", "0", "1004-1", "JUSTID")  # changes owner
    x("XDEL", "many", "1005-2")  # pending, then deleted
    # An integer-looking group and consumer name (RDB strings stored as integers); NOACK.
    x("XGROUP", "CREATE", "many", "7", "0")
    x("XREADGROUP", "GROUP", "7", "42", "NOACK", "COUNT", "6", "STREAMS", "many", ">")
    x("XGROUP", "CREATE", "many", "at-end", "$")  # lag 0
    x("XGROUP", "CREATE", "many", "middle", "1020-2")  # entries-read unknown
    x("XGROUP", "CREATE", "many", "given", "1030-0", "ENTRIESREAD", "20")
    x("XGROUP", "CREATE", "many", BIN, "0")
    x("XREADGROUP", "GROUP", BIN, BIN, "COUNT", "2", "STREAMS", "many", ">")
    # "trimmed": an exact trim inside a node, then approximate trims (whole nodes only).
    for i in range(1, 31):
        x("XADD", "trimmed", "%d-0" % (100 * i), "f", "%d" % i)
    x("XTRIM", "trimmed", "MAXLEN", "25")
    x("XTRIM", "trimmed", "MINID", "~", "900")
    x("XADD", "trimmed", "MAXLEN", "~", "15", "3100-0", "f", "last")
    x("XGROUP", "CREATE", "trimmed", "g", "0")
    x("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "trimmed", ">")
    # Empty streams: every entry deleted (last ID kept), and made by MKSTREAM.
    x("XADD", "emptied", "5-5", "f", "v")
    x("XADD", "emptied", "6-0", "f", "v")
    x("XDEL", "emptied", "5-5", "6-0")
    x("XGROUP", "CREATE", "emptied", "g", "$")
    x("XGROUP", "CREATE", "mkstream", "grp", "$", "MKSTREAM")
    x("XGROUP", "CREATE", "mkstream", "grp2", "0")
    x("XGROUP", "CREATECONSUMER", "mkstream", "grp2", "idler")
    # XSETID with ENTRIESADDED and MAXDELETEDID.
    x("XADD", "setid", "1-1", "f", "v")
    x("XADD", "setid", "2-1", "f", "v")
    x("XSETID", "setid", "500-5", "ENTRIESADDED", "99", "MAXDELETEDID", "400-0")
    x("XGROUP", "CREATE", "setid", "g", "1-1")
    # A binary key name; `*` after a far-future ID; a deadline.
    x("XADD", b"key\x00\xff", "%s-0" % FAR, BIN, BIN)
    x("XADD", b"key\x00\xff", "*", "12", "-12")
    x("XADD", b"key\x00\xff", "%s-*" % FAR, "f", "v")
    x("XADD", "volatile", "1-1", "f", "v")
    x("PEXPIREAT", "volatile", str(FAR_FUTURE_MS))
    # A node per entry: each value is past stream-node-max-bytes (4096).
    for i in range(1, 4):
        x("XADD", "big", "%d-0" % i, "f", b"%d" % i * 4100)
    return out


# ---------------------------------------------------------------------------------------------
# DUMP payloads of streams (rdb.c's layout), parsed and written back
# ---------------------------------------------------------------------------------------------


def footer(body, version=10):
    data = bytes(body) + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def lzf_decompress(data, out_len):
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            out += data[i:i + ctrl + 1]
            i += ctrl + 1
        else:
            n = ctrl >> 5
            if n == 7:
                n += data[i]
                i += 1
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            for _ in range(n + 2):
                out.append(out[ref])
                ref += 1
    if len(out) != out_len:
        raise ValueError("LZF: %d bytes, %d expected" % (len(out), out_len))
    return bytes(out)


class RdbReader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def raw(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short payload")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def byte(self):
        return self.raw(1)[0]

    def _len(self):
        """(value, is_special)"""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if b == 0x80:
            return struct.unpack(">I", self.raw(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.raw(8))[0], False
        if kind == 3:
            return b & 0x3F, True
        raise ValueError("bad length byte %#x" % b)

    def length(self):
        n, special = self._len()
        if special:
            raise ValueError("special encoding where a length is expected")
        return n

    def string(self):
        n, special = self._len()
        if not special:
            return self.raw(n)
        if n == 0:
            return b"%d" % struct.unpack("<b", self.raw(1))[0]
        if n == 1:
            return b"%d" % struct.unpack("<h", self.raw(2))[0]
        if n == 2:
            return b"%d" % struct.unpack("<i", self.raw(4))[0]
        if n == 3:
            clen, ulen = self.length(), self.length()
            return lzf_decompress(self.raw(clen), ulen)
        raise ValueError("bad string encoding %d" % n)

    def ms_time(self):
        return struct.unpack("<q", self.raw(8))[0]

    def stream_id(self):
        return (self.length(), self.length())


def parse_stream(payload):
    """A stream's DUMP payload (type 15 or 19) as a dict; checks the footer."""
    body, version, crc = payload[:-10], struct.unpack("<H", payload[-10:-8])[0], payload[-8:]
    if struct.unpack("<Q", crc)[0] != crc64(payload[:-8]):
        raise ValueError("bad CRC")
    r = RdbReader(body)
    t = r.byte()
    if t not in (15, 19):
        raise ValueError("not a stream: type %d" % t)
    v2 = t == 19
    s = {"type": t, "version": version}
    s["nodes"] = [(r.string(), r.string()) for _ in range(r.length())]
    s["length"] = r.length()
    s["last_id"] = r.stream_id()
    if v2:
        s["first_id"] = r.stream_id()
        s["max_deleted_id"] = r.stream_id()
        s["entries_added"] = r.length()
    groups = []
    for _ in range(r.length()):
        g = {"name": r.string(), "last_id": r.stream_id()}
        if v2:
            g["entries_read"] = r.length()
        g["pel"] = [(r.raw(16), r.ms_time(), r.length()) for _ in range(r.length())]
        consumers = []
        for _ in range(r.length()):
            name, seen = r.string(), r.ms_time()
            consumers.append({"name": name, "seen": seen,
                              "pel": [r.raw(16) for _ in range(r.length())]})
        g["consumers"] = consumers
        groups.append(g)
    s["groups"] = groups
    if r.pos != len(body):
        raise ValueError("%d bytes after the stream" % (len(body) - r.pos))
    return s


def rdb_raw_string(b):
    return rdb_len(len(b)) + b


def encode_stream_body(s, rdb_type=19):
    """The object part of a payload (type byte included), every string written plainly."""
    out = bytearray([rdb_type])
    out += rdb_len(len(s["nodes"]))
    for key, lp in s["nodes"]:
        out += rdb_raw_string(key) + rdb_raw_string(lp)
    out += rdb_len(s["length"]) + rdb_len(s["last_id"][0]) + rdb_len(s["last_id"][1])
    if rdb_type == 19:
        for name in ("first_id", "max_deleted_id"):
            out += rdb_len(s[name][0]) + rdb_len(s[name][1])
        out += rdb_len(s["entries_added"])
    out += rdb_len(len(s["groups"]))
    for g in s["groups"]:
        out += rdb_raw_string(g["name"]) + rdb_len(g["last_id"][0]) + rdb_len(g["last_id"][1])
        if rdb_type == 19:
            out += rdb_len(g["entries_read"])
        out += rdb_len(len(g["pel"]))
        for rawid, t, count in g["pel"]:
            out += rawid + struct.pack("<q", t) + rdb_len(count)
        out += rdb_len(len(g["consumers"]))
        for cons in g["consumers"]:
            out += rdb_raw_string(cons["name"]) + struct.pack("<q", cons["seen"])
            out += rdb_len(len(cons["pel"])) + b"".join(cons["pel"])
    return bytes(out)


def encode_stream(s, rdb_type=19, version=10):
    return footer(encode_stream_body(s, rdb_type), version)


def masked_payload(payload, mask):
    """The parsed payload with the time fields `mask` names zeroed (see state())."""
    s = parse_stream(payload)
    for g in s["groups"]:
        if "delivery" in mask:
            g["pel"] = [(rawid, 0, n) for rawid, _, n in g["pel"]]
        for cons in g["consumers"]:
            if "seen" in mask:
                cons["seen"] = 0
    if "layout" in mask:
        s["nodes"] = "(node layout not compared)"
    return s


# ---------------------------------------------------------------------------------------------
# What a server holds
# ---------------------------------------------------------------------------------------------

IDLE = "<idle>"
MASKED = "<masked>"


def _pairs(flat):
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def mask_full(full, mask):
    """XINFO STREAM FULL (RESP2, decoded) with the time fields `mask` names masked."""
    out = []
    for k, v in _pairs(full):
        if k in (b"radix-tree-keys", b"radix-tree-nodes") and "layout" in mask:
            v = MASKED
        if k == b"groups" and isinstance(v, list):  # FULL: the groups; else their number
            v = [mask_full_group(g, mask) for g in v]
        out += [k, v]
    return out


def mask_full_group(g, mask):
    out = []
    for k, v in _pairs(g):
        if k == b"pending" and "delivery" in mask:
            v = [[e[0], e[1], MASKED, e[3]] for e in v]
        if k == b"consumers":
            cons = []
            for cflat in v:
                cm = []
                for ck, cv in _pairs(cflat):
                    if ck == b"seen-time" and "seen" in mask:
                        cv = MASKED
                    if ck == b"pending" and "delivery" in mask:
                        cv = [[e[0], MASKED, e[2]] for e in cv]
                    cm += [ck, cv]
                cons.append(cm)
            v = cons
        out += [k, v]
    return out


def state(c, mask=()):
    """Every key (all streams here) as the server holds it. Idle times are always masked (they
    depend on when one asks); `mask` may also hold "seen" (consumers' seen-times), "delivery"
    (delivery times of pending entries) and "layout" (how entries are split into nodes: an AOF
    rewrite rebuilds the nodes without tombstones)."""
    out = {}
    for key in sorted(decode(c.call("KEYS", "*"))):
        k = {}
        k["type"] = decode(c.call("TYPE", key))
        k["pexpiretime"] = decode(c.call("PEXPIRETIME", key))
        k["full"] = mask_full(decode(c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0")), mask)
        info = decode(c.call("XINFO", "STREAM", key))
        k["info"] = mask_full(info, mask)
        k["xrange"] = decode(c.call("XRANGE", key, "-", "+"))
        k["xrevrange"] = decode(c.call("XREVRANGE", key, "+", "-", "COUNT", "3"))
        k["xlen"] = decode(c.call("XLEN", key))
        groups = decode(c.call("XINFO", "GROUPS", key))
        k["groups"] = groups
        for g in groups:
            name = dict(_pairs(g))[b"name"]
            consumers = []
            for cflat in decode(c.call("XINFO", "CONSUMERS", key, name)):
                consumers.append([IDLE if i > 0 and cflat[i - 1] == b"idle" else v
                                  for i, v in enumerate(cflat)])
            k[("consumers", name)] = consumers
            k[("xpending", name)] = decode(c.call("XPENDING", key, name))
            k[("xpending-extended", name)] = [
                [e[0], e[1], IDLE, e[3]]
                for e in decode(c.call("XPENDING", key, name, "-", "+", "1000"))]
        dump = decode(c.call("DUMP", key))
        k["dump"] = masked_payload(dump, mask) if mask else dump
        out[key] = k
    return out


def _first_difference(a, b, path):
    """(path, a part, b part) of the first place where two decoded values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=repr):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), path + [k])
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, path + [i])
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, path + [i])
    return path, a, b


def differences(got, want, names=("got", "want")):
    """Readable differences between two state() results: per key and part, where the values
    first differ."""
    out = []
    for key in sorted(set(got) | set(want)):
        a, b = got.get(key), want.get(key)
        if a is None or b is None:
            out.append("key %r only in %s" % (key, names[0] if b is None else names[1]))
            continue
        for part in sorted(set(a) | set(b), key=repr):
            if a.get(part) != b.get(part):
                x, y = a.get(part), b.get(part)
                if part == "dump" and isinstance(x, bytes) and isinstance(y, bytes):
                    try:  # show where the payloads differ
                        x, y = parse_stream(x), parse_stream(y)
                    except ValueError:
                        pass
                path, x, y = _first_difference(x, y, [])
                out.append("key %r, %r at %r:\n  %s: %.400r\n  %s: %.400r"
                           % (key, part, path, names[0], x, names[1], y))
    return out


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


def read(path):
    with open(path, "rb") as f:
        return f.read()


def manifest_files(aof_dir):
    """(name, type) of every file the manifest names, in order."""
    out = []
    for line in read(os.path.join(aof_dir, MANIFEST)).decode().splitlines():
        parts = line.split()
        out.append((parts[parts.index("file") + 1], parts[parts.index("type") + 1]))
    return out


class StreamCase(ServerTestCase):
    def start(self, kind, workdir=None, args=()):
        """Starts `kind` ("keyward" or "redis") in `workdir` (a new one by default) with
        COMMON_ARGS and `args`, no save points, and waits until its dataset is loaded."""
        if kind == "redis":
            binary, defaults = REDIS_SERVER, ("--save", "", "--appendonly", "no")
        else:
            binary, defaults = keyward_binary(), ("--save", "")
        srv = start_server(binary, COMMON_ARGS + [str(a) for a in args], name=kind,
                           workdir=workdir or make_workdir(), default_args=defaults)
        self.addCleanup(srv.stop)
        c = self.raw_client(srv)
        wait_loaded(c)
        return srv, c

    def load_copy(self, kind, src, names, args=(), mask=()):
        """Starts `kind` on copies of `names` (files or directories) from directory `src`;
        returns state(mask) and stops it."""
        wd = make_workdir()
        for name in names:
            path = os.path.join(src, name)
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(wd, name))
            else:
                shutil.copy(path, os.path.join(wd, name))
        srv, c = self.start(kind, wd, args)
        result = state(c, mask)
        c.close()
        srv.stop()
        return result

    def assert_same(self, got, want, names):
        self.assertTrue(got, "no keys")
        diffs = differences(got, want, names)
        self.assertEqual(diffs, [], "\n".join(diffs))

    def check_rdb(self, path):
        proc = subprocess.run([REDIS_CHECK_RDB, path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        out = proc.stdout.decode(errors="replace")
        self.assertEqual(proc.returncode, 0, out[-3000:])
        self.assertIn("RDB looks OK", out)


# ---------------------------------------------------------------------------------------------
# RDB
# ---------------------------------------------------------------------------------------------


class RdbBothWays(StreamCase):
    def saved_by(self, kind):
        """Builds the streams on `kind`, SAVEs; (workdir, state before the save)."""
        srv, c = self.start(kind)
        build_streams(c)
        before = state(c)
        self.assertEqual(run(c, "SAVE"), b"OK")
        c.close()
        srv.stop()
        path = os.path.join(srv.workdir, "dump.rdb")
        self.check_rdb(path)
        return srv.workdir, before

    def test_keyward_rdb_loads_into_redis(self):
        d, before = self.saved_by("keyward")
        in_redis = self.load_copy("redis", d, ["dump.rdb"])
        in_keyward = self.load_copy("keyward", d, ["dump.rdb"])
        self.assert_same(in_keyward, in_redis, ("Keyward", "Redis"))
        self.assert_same(before, in_redis, ("Keyward before SAVE", "Redis"))

    def test_redis_rdb_loads_into_keyward(self):
        d, before = self.saved_by("redis")
        in_keyward = self.load_copy("keyward", d, ["dump.rdb"])
        in_redis = self.load_copy("redis", d, ["dump.rdb"])
        self.assert_same(in_keyward, in_redis, ("Keyward", "Redis"))
        self.assert_same(before, in_redis, ("Redis before SAVE", "Redis loaded"))

    def test_both_build_the_same_streams(self):
        # The workload itself, differentially: replies equal, and the same streams apart from
        # the clock's values (seen and delivery times, which the DUMPs hold too).
        srv_k, k = self.start("keyward")
        srv_r, r = self.start("redis")
        self.assertEqual(build_streams(k), build_streams(r))
        mask = ("seen", "delivery")
        self.assert_same(state(k, mask), state(r, mask), ("Keyward", "Redis"))

    def test_debug_reload_keeps_everything(self):
        srv, c = self.start("keyward")
        build_streams(c)
        before = state(c)
        self.assertEqual(run(c, "DEBUG", "RELOAD"), b"OK")
        self.assert_same(state(c), before, ("after DEBUG RELOAD", "before"))


# ---------------------------------------------------------------------------------------------
# RDB type 15 (Redis 5 to 6.2)
# ---------------------------------------------------------------------------------------------


def build_v1_sources(c):
    """Streams whose groups cover each case of streamEstimateDistanceFromFirstEverEntry once the
    stream is loaded from type 15 (entries-added = length, max-deleted-entry-id 0-0)."""
    for i in range(1, 11):
        run(c, "XADD", "plain", "%d-0" % i, "f", "%d" % i, "g", "x")
    for name, gid in (("before-first", "0"), ("at-first", "1-0"), ("middle", "5-0"),
                      ("between", "5-1"), ("at-last", "10-0"), ("past-last", "20-0")):
        run(c, "XGROUP", "CREATE", "plain", name, gid)
    run(c, "XREADGROUP", "GROUP", "middle", "reader", "COUNT", "2", "STREAMS", "plain", ">")
    run(c, "XGROUP", "CREATECONSUMER", "plain", "middle", "idle-one")
    # Tombstones, and a first entry that is not the node's master entry.
    for i in range(1, 16):
        run(c, "XADD", "holes", "%d-1" % i, "f", "%d" % i)
    run(c, "XDEL", "holes", "1-1", "7-1", "15-1")
    for name, gid in (("zero", "0"), ("first", "2-1"), ("mid", "9-1"), ("last", "14-1"),
                      ("deleted-last", "15-1")):
        run(c, "XGROUP", "CREATE", "holes", name, gid)
    run(c, "XREADGROUP", "GROUP", "zero", "z", "COUNT", "3", "STREAMS", "holes", ">")
    # Empty: never used, and emptied (last ID kept).
    run(c, "XGROUP", "CREATE", "fresh", "g", "0", "MKSTREAM")
    run(c, "XADD", "emptied", "3-3", "f", "v")
    run(c, "XDEL", "emptied", "3-3")
    run(c, "XGROUP", "CREATE", "emptied", "at", "3-3")
    run(c, "XGROUP", "CREATE", "emptied", "zero", "0")
    run(c, "XGROUP", "CREATE", "emptied", "past", "4-0")
    return ["plain", "holes", "fresh", "emptied"]


def v1_rdb_file(values):
    """An RDB 9 file (as Redis 6.2 writes one, minus the AUX fields) holding type 15 values:
    [(key, object part starting with the type byte)]."""
    body = bytearray(b"REDIS0009")
    body += b"\xfe\x00\xfb" + rdb_len(len(values)) + rdb_len(0)
    for key, obj in values:
        body += obj[:1] + rdb_raw_string(key) + obj[1:]
    body += b"\xff"
    return bytes(body) + struct.pack("<Q", crc64(bytes(body)))


class StreamListpacksV1(StreamCase):
    def v1_payloads(self):
        """(key, type 15 DUMP payload with an RDB 9 footer), made from Redis's type 19 DUMPs."""
        srv, c = self.start("redis")
        out = []
        for key in build_v1_sources(c):
            s = parse_stream(decode(c.call("DUMP", key)))
            out.append((key, encode_stream(s, rdb_type=15, version=9)))
        # The parser and writer are faithful: the type 19 payload written back plainly restores
        # to what Redis dumped.
        s = parse_stream(decode(c.call("DUMP", "holes")))
        run(c, "RESTORE", "copy", "0", encode_stream(s))
        self.assertEqual(parse_stream(decode(c.call("DUMP", "copy"))), s)
        return out

    def test_restore_type_15_payload(self):
        payloads = self.v1_payloads()
        results = []
        for kind in ("redis", "keyward"):
            srv, c = self.start(kind)
            for key, payload in payloads:
                self.assertEqual(run(c, "RESTORE", key, "0", payload), b"OK", kind)
            results.append(state(c))
        in_redis, in_keyward = results
        self.assert_same(in_keyward, in_redis, ("Keyward", "Redis"))
        # The estimates were exercised, not all unknown: some groups got a counter.
        groups = [dict(_pairs(g))[b"entries-read"] for g in in_redis[b"plain"]["groups"]]
        self.assertTrue(any(v is not None for v in groups) and None in groups, groups)

    def test_rdb9_file_with_type_15_values(self):
        payloads = self.v1_payloads()
        data = v1_rdb_file([(key.encode(), p[:-10]) for key, p in payloads])
        d = make_workdir()
        with open(os.path.join(d, "dump.rdb"), "wb") as f:
            f.write(data)
        self.check_rdb(os.path.join(d, "dump.rdb"))
        in_redis = self.load_copy("redis", d, ["dump.rdb"])
        self.assertEqual(sorted(in_redis), [b"emptied", b"fresh", b"holes", b"plain"])
        in_keyward = self.load_copy("keyward", d, ["dump.rdb"])
        self.assert_same(in_keyward, in_redis, ("Keyward", "Redis"))


# ---------------------------------------------------------------------------------------------
# AOF
# ---------------------------------------------------------------------------------------------

AOF_ARGS = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always"]


def after_rewrite(c):
    """Writes after a rewrite, so the new INCR file has stream commands too."""
    run(c, "XADD", "many", "2000-0", "a", "after", "b", "rewrite")
    run(c, "XREADGROUP", "GROUP", "g1", "dave", "COUNT", "2", "STREAMS", "many", ">")
    run(c, "XGROUP", "SETID", "many", "middle", "1030-0", "ENTRIESREAD", "21")
    run(c, "XDEL", "trimmed", "3100-0")


def aof_key(argv):
    """The key a command of an AOF BASE is about."""
    return argv[2] if argv[0].upper() == b"XGROUP" else argv[1]


def base_commands_by_key(path):
    """The commands of a BASE file of commands, grouped by key in their order (the keys
    themselves come in hash-table order), XCLAIM's TIME masked."""
    out = {}
    for _, _, argv in aof_commands(read(path)):
        if argv[0].upper() != b"SELECT":
            out.setdefault(aof_key(argv), []).append(mask_clock(argv))
    return out


def stream_part(st):
    """What an AOF replay must give back exactly in any case: the entries and the stream's own
    counters. (Redis 7.0.15 does not propagate everything about groups: a history read's
    delivery counts and times, a non-NOACK read's entries-read; and XCLAIM drops a pending
    entry whose message was deleted, so a rewrite loses it.)"""
    out = {}
    for key, k in st.items():
        info = dict(_pairs(k["info"]))
        out[key] = {"xrange": k["xrange"], "pexpiretime": k["pexpiretime"],
                    "info": {f: info[f] for f in (
                        b"length", b"last-generated-id", b"max-deleted-entry-id",
                        b"entries-added", b"recorded-first-entry-id", b"groups",
                        b"first-entry", b"last-entry")}}
    return out


class AofBothWays(StreamCase):
    def written_by(self, kind, rewrite):
        """Builds the streams on `kind` with the AOF on (BGREWRITEAOF midway if `rewrite`);
        returns (workdir, state before the stop, the BASE file's path)."""
        srv, c = self.start(kind, args=AOF_ARGS)
        build_streams(c)
        if rewrite:
            self.assertIn(b"rewriting", run(c, "BGREWRITEAOF"))
            wait_rewrite_done(c)
            after_rewrite(c)
        before = state(c)
        c.close()
        srv.stop()
        d = os.path.join(srv.workdir, AOF_DIR)
        files = manifest_files(d)
        base = [name for name, t in files if t == "b"]
        self.assertEqual(len(base), 1, files)
        self.assertTrue(base[0].endswith(".base.aof"), files)
        code, out = check_aof(os.path.join(d, MANIFEST))
        self.assertEqual(code, 0, out[-3000:])
        return srv.workdir, before, os.path.join(d, base[0])

    def both_load(self, d):
        """Redis and Keyward each load a copy of the AOF directory in `d`: they must hold the
        same (seen-times masked: replaying XCLAIM or XGROUP CREATECONSUMER sets them)."""
        in_redis = self.load_copy("redis", d, [AOF_DIR], AOF_ARGS, ("seen",))
        in_keyward = self.load_copy("keyward", d, [AOF_DIR], AOF_ARGS, ("seen",))
        self.assert_same(in_keyward, in_redis, ("Keyward", "Redis"))
        return in_redis

    def test_rewritten_aof_both_ways(self):
        kd, k_before, k_base = self.written_by("keyward", rewrite=True)
        rd, r_before, r_base = self.written_by("redis", rewrite=True)
        # The BASE files: rewriteStreamObject's commands, key by key.
        k_cmds, r_cmds = base_commands_by_key(k_base), base_commands_by_key(r_base)
        self.assertIn(b"many", r_cmds)
        for key in sorted(set(k_cmds) | set(r_cmds)):
            self.assertEqual(k_cmds.get(key), r_cmds.get(key), "BASE commands for %r" % key)
        from_keyward = self.both_load(kd)
        from_redis = self.both_load(rd)
        self.assert_same(stream_part(from_keyward), stream_part(k_before),
                         ("loaded", "Keyward before the stop"))
        # The two directories hold the same data but for the clock's values.
        mask = ("seen", "delivery")
        self.assert_same(mask_state(from_keyward, mask), mask_state(from_redis, mask),
                         ("Keyward's AOF loaded", "Redis's AOF loaded"))

    def test_incremental_aof_both_ways(self):
        kd, k_before, _ = self.written_by("keyward", rewrite=False)
        rd, r_before, _ = self.written_by("redis", rewrite=False)
        from_keyward = self.both_load(kd)
        from_redis = self.both_load(rd)
        self.assert_same(stream_part(from_keyward), stream_part(k_before),
                         ("loaded", "Keyward before the stop"))
        self.assert_same(stream_part(from_redis), stream_part(r_before),
                         ("loaded", "Redis before the stop"))
        # What Redis and Keyward propagated for the same commands gives the same data.
        mask = ("seen", "delivery")
        self.assert_same(mask_state(from_keyward, mask), mask_state(from_redis, mask),
                         ("Keyward's AOF loaded", "Redis's AOF loaded"))


def mask_state(st, mask):
    """A state() masked afterwards (a DUMP payload still in bytes is parsed)."""
    out = {}
    for key, k in st.items():
        k = dict(k)
        k["full"] = mask_full(k["full"], mask)
        k["info"] = mask_full(k["info"], mask)
        dump = k["dump"] if isinstance(k["dump"], bytes) else encode_stream(k["dump"])
        k["dump"] = masked_payload(dump, mask)
        out[key] = k
    return out


# ---------------------------------------------------------------------------------------------
# Propagation
# ---------------------------------------------------------------------------------------------


def propagation_sequence():
    """Stream commands whose propagated forms are deterministic but for XCLAIM's TIME."""
    far = FAR
    seq = [
        ("CONFIG", "SET", "stream-node-max-entries", "3"),
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "1-2", "f", "v", "g", "w"),
        ("XADD", "s", "2-*", "f", "v"),
        ("XADD", "s", "2-*", "f", "v"),
        ("XADD", "far", "%s-5" % far, "a", "b"),
        ("XADD", "far", "*", "a", "b"),
        ("XADD", "far", "MAXLEN", "1", "*", "c", "d"),
    ]
    seq += [("XADD", "s", "%d-0" % i, "f", "%d" % i) for i in range(3, 21)]
    seq += [
        ("XADD", "s", "MAXLEN", "~", "10", "21-0", "f", "v"),
        ("XADD", "s", "MINID", "~", "12", "22-0", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "3", "LIMIT", "3", "23-0", "f", "v"),
        ("XADD", "s", "MAXLEN", "=", "100", "24-0", "f", "v"),
        ("XTRIM", "s", "MAXLEN", "~", "6"),
        ("XTRIM", "s", "MINID", "~", "19", "LIMIT", "100"),
        ("XTRIM", "s", "MAXLEN", "~", "1000"),  # trims nothing: not propagated
        ("XADD", "s", "MINID", "19", "25-0", "f", "v"),
        ("XTRIM", "s", "MAXLEN", "5"),
    ]
    seq += [("XADD", "s", "%d-0" % i, "f", "%d" % i) for i in range(30, 45)]
    seq += [
        ("XDEL", "s", "1000-0"),  # nothing: not propagated
        ("XDEL", "s", "30-0", "31-0"),
        ("XGROUP", "CREATE", "s", "g1", "0"),
        ("XGROUP", "CREATE", "s", "g2", "$"),
        ("XGROUP", "CREATE", "s", "gn", "0", "ENTRIESREAD", "0"),
        ("XGROUP", "CREATE", "s", "g1", "0"),  # BUSYGROUP
        ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "gn", "nick", "NOACK", "COUNT", "4", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "s", "0"),  # history
        ("XREADGROUP", "GROUP", "g1", "newbie", "COUNT", "1", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g2", "empty-read", "STREAMS", "s", ">"),  # nothing new
        ("XGROUP", "CREATE", "far", "g1", "0"),
        ("XREADGROUP", "GROUP", "g1", "carl", "COUNT", "1", "STREAMS", "s", "far", ">", ">"),
        ("XACK", "s", "g1", "25-0", "9999-0"),
        ("XACK", "s", "g1", "9999-0"),  # nothing: not propagated
        # Pending now in g1: 21-0 22-0 23-0 (alice), 24-0 (bob), 32-0 (carl).
        ("XCLAIM", "s", "g1", "bob", "0", "32-0"),
        ("XCLAIM", "s", "g1", "bob", "0", "21-0", "IDLE", "5000", "RETRYCOUNT", "7", "JUSTID"),
        ("XCLAIM", "s", "g1", "dave", "0", "40-0", "FORCE"),  # not pending: FORCE adds it
        ("XCLAIM", "s", "g1", "dave", "0", "9999-0", "FORCE"),  # no such entry
        ("XCLAIM", "s", "g1", "dave", "0", "33-0"),  # not pending, no FORCE
        ("XCLAIM", "s", "g1", "erin", "0", "22-0", "LASTID", "41-0", "JUSTID"),
        ("XCLAIM", "s", "g1", "bob", "0", "23-0", "TIME", "1000", "JUSTID"),
        ("XCLAIM", "s", "g1", "fred", "86400000", "32-0"),  # too recent: nothing claimed
        ("XDEL", "s", "24-0", "40-0", "34-0"),  # two of them pending
        ("XCLAIM", "s", "g1", "gus", "0", "24-0"),  # pending, its entry deleted
        ("XAUTOCLAIM", "s", "g1", "hal", "86400000", "0-0"),  # only 23-0 (TIME 1000) is old
        ("XAUTOCLAIM", "s", "g1", "frank", "0", "0-0", "COUNT", "2"),
        ("XAUTOCLAIM", "s", "g1", "frank", "0", "22-0", "COUNT", "10", "JUSTID"),
        ("XGROUP", "CREATE", "s", "blk", "$"),
        ("<BLOCK>", "XREADGROUP", "GROUP", "blk", "waiter", "BLOCK", "0", "STREAMS", "s", ">"),
        ("XADD", "s", "45-0", "f", "served"),
        ("<SERVED>",),
        ("<BLOCK>", "XREADGROUP", "GROUP", "blk", "w2", "NOACK", "BLOCK", "0", "STREAMS", "s",
         ">"),
        ("XADD", "s", "46-0", "f", "served"),
        ("<SERVED>",),
        ("XGROUP", "CREATECONSUMER", "s", "g1", "gina"),
        ("XGROUP", "CREATECONSUMER", "s", "g1", "gina"),  # exists: 0
        ("XGROUP", "DELCONSUMER", "s", "g1", "bob"),
        ("XGROUP", "DELCONSUMER", "s", "g1", "nobody"),
        ("XGROUP", "SETID", "s", "g1", "5-0"),
        ("XGROUP", "SETID", "s", "g1", "$", "ENTRIESREAD", "10"),
        ("XGROUP", "SETID", "s", "gn", "0"),
        ("XGROUP", "DESTROY", "s", "g2"),
        ("XGROUP", "DESTROY", "s", "g2"),  # gone: 0
        ("XSETID", "s", "500-0"),
        ("XSETID", "s", "600-0", "ENTRIESADDED", "100", "MAXDELETEDID", "550-0"),
        ("XADD", "s", "NOMKSTREAM", "601-*", "f", "v"),
        ("XADD", "missing", "NOMKSTREAM", "1-1", "f", "v"),  # nothing: not propagated
        ("XGROUP", "CREATE", "new", "gx", "$", "MKSTREAM", "ENTRIESREAD", "0"),
        ("XREADGROUP", "GROUP", "gx", "r", "NOACK", "STREAMS", "new", ">"),
        ("MULTI",),
        ("XADD", "new", "7-*", "k", "v"),
        ("XREADGROUP", "GROUP", "gx", "r", "STREAMS", "new", ">"),
        ("XREADGROUP", "GROUP", "gx", "t", "NOACK", "STREAMS", "new", "0"),
        ("EXEC",),
        ("EVAL", "redis.call('XADD', KEYS[1], '8-*', 'k', 'v'); "
                 "return redis.call('XREADGROUP', 'GROUP', 'gx', 'r', 'STREAMS', KEYS[1], '>')",
         "1", "new"),
        ("XTRIM", "new", "MINID", "8-0"),
        ("XADD", "s", "MAXLEN", "0", "700-0", "f", "v"),
        ("DEL", "far"),
    ]
    return seq


def blocked_clients(c):
    info = decode(c.call("INFO", "clients")).decode()
    return int(info.split("blocked_clients:")[1].split()[0])


def run_sequence(srv, c, seq):
    """Runs `seq` on `c`; ("<BLOCK>", command...) sends a blocking command on a second
    connection and waits until the server counts it blocked, ("<SERVED>",) reads its reply.
    Returns the decoded replies."""
    replies = []
    other = srv.client()
    try:
        for cmd in seq:
            if cmd[0] == "<BLOCK>":
                before = blocked_clients(c)
                other.send(encode_command(*cmd[1:]))
                wait_for(lambda: blocked_clients(c) > before, message="the client blocked")
            elif cmd[0] == "<SERVED>":
                replies.append(decode(other.read_reply()))
            else:
                replies.append(decode(c.call(*cmd)))
    finally:
        other.close()
    return replies


def incr_commands(workdir):
    """The commands of the server's incremental AOF files, in order (argv lists)."""
    d = os.path.join(workdir, AOF_DIR)
    out = []
    for name, t in manifest_files(d):
        if t == "i":
            out += [argv for _, _, argv in aof_commands(read(os.path.join(d, name)))]
    return out


def mask_clock(argv):
    """`argv` with the value after TIME in an XCLAIM (the server's clock) masked."""
    argv = list(argv)
    if argv and argv[0].upper() == b"XCLAIM":
        for i in range(len(argv) - 1):
            if argv[i].upper() == b"TIME":
                argv[i + 1] = b"<now>"
    return argv


class Propagation(StreamCase):
    def test_incremental_files_match_redis_command_for_command(self):
        logs, replies = [], []
        for kind in ("redis", "keyward"):
            srv, c = self.start(kind, args=["--appendonly", "yes", "--appendfsync", "always"])
            replies.append(run_sequence(srv, c, propagation_sequence()))
            c.close()
            srv.stop()
            logs.append([mask_clock(argv) for argv in incr_commands(srv.workdir)])
        in_redis, in_keyward = logs
        seq = [cmd for cmd in propagation_sequence() if cmd[0] != "<BLOCK>"]
        for i, (a, b) in enumerate(zip(replies[1], replies[0])):
            self.assertEqual(a, b, "reply to %r" % (seq[i],))
        self.assertGreater(len(in_redis), 50)
        if in_keyward != in_redis:
            show = [" ".join(repr(a)[2:-1] for a in argv) for argv in in_redis], \
                   [" ".join(repr(a)[2:-1] for a in argv) for argv in in_keyward]
            diff = "\n".join(difflib.unified_diff(show[0], show[1], "Redis 7.0.15", "Keyward",
                                                  lineterm="", n=2))
            self.fail("the incremental files differ (TIME masked):\n" + diff)


# ---------------------------------------------------------------------------------------------
# Corrupt payloads
# ---------------------------------------------------------------------------------------------


def small_stream(c):
    """A small stream with tombstones, an entry with its own fields, two groups, consumers with
    and without pending entries; the name of the key."""
    run(c, "CONFIG", "SET", "stream-node-max-entries", "3")
    # The second node holds a compressible value: its listpack is LZF-compressed in the DUMP.
    for i, fields in enumerate([("a", "1"), ("a", "2"), ("b", "x", "c", "-7"), ("a", "300"),
                                ("a", ""), ("a", "xyz" * 12)], start=1):
        run(c, "XADD", "small", "%d-%d" % (i, i), *fields)
    run(c, "XDEL", "small", "2-2")
    run(c, "XGROUP", "CREATE", "small", "g", "0")
    run(c, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "small", ">")
    run(c, "XGROUP", "CREATECONSUMER", "small", "g", "c2")
    run(c, "XGROUP", "CREATE", "small", "h", "3-3")
    return "small"


I64_MIN, I64_MAX, U64_MAX = -2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1


def field_variants(s):
    """(name, parsed stream) pairs: `s` with one field set to an edge value, or one structural
    rule of the format broken (what changing single bytes rarely produces)."""
    out = []

    def variant(name, change):
        v = copy.deepcopy(s)
        change(v)
        out.append((name, v))

    def setter(path, value):
        def change(v):
            obj = v
            for p in path[:-1]:
                obj = obj[p]
            obj[path[-1]] = value
        return change

    def edit(path, fn):
        """A change applying fn to the list or dict at `path`."""
        def change(v):
            obj = v
            for p in path:
                obj = obj[p]
            fn(obj)
        return change

    counters = [0, 1, I64_MAX, I64_MAX + 1, U64_MAX]
    times = [I64_MIN, -1, 0, I64_MAX]
    for field in ("length", "entries_added"):
        for value in counters:
            variant("%s = %d" % (field, value), setter([field], value))
    for field in ("last_id", "first_id", "max_deleted_id"):
        for value in [(0, 0), (0, 1), (I64_MAX, 0), (U64_MAX, U64_MAX), (1, U64_MAX)]:
            variant("%s = %r" % (field, value), setter([field], value))
    for gi, g in enumerate(s["groups"]):
        for value in [(0, 0), (U64_MAX, U64_MAX), (1, U64_MAX)]:
            variant("group %d last_id = %r" % (gi, value), setter(["groups", gi, "last_id"], value))
        for value in counters + [U64_MAX - 1]:
            variant("group %d entries_read = %d" % (gi, value),
                    setter(["groups", gi, "entries_read"], value))
        for pi, (rawid, t, n) in enumerate(g["pel"]):
            for tv in times:
                variant("group %d pending %d delivery time %d" % (gi, pi, tv),
                        setter(["groups", gi, "pel", pi], (rawid, tv, n)))
            for nv in counters:
                variant("group %d pending %d delivery count %d" % (gi, pi, nv),
                        setter(["groups", gi, "pel", pi], (rawid, t, nv)))
        for ci, cons in enumerate(g["consumers"]):
            for tv in times:
                variant("group %d consumer %d seen-time %d" % (gi, ci, tv),
                        setter(["groups", gi, "consumers", ci, "seen"], tv))
        if g["pel"]:
            first = g["pel"][0][0]
            variant("group %d: a pending entry no consumer owns" % gi,
                    edit(["groups", gi, "consumers"], lambda cs: [c["pel"].clear() for c in cs]))
            variant("group %d: a pending entry two consumers own" % gi,
                    edit(["groups", gi, "consumers"],
                         lambda cs, first=first: [c.update(pel=[first]) for c in cs]))
            variant("group %d: a consumer owns an entry twice" % gi,
                    edit(["groups", gi, "consumers", 0, "pel"], lambda p: p.append(p[0])))
            variant("group %d: a consumer owns an entry the group does not list" % gi,
                    edit(["groups", gi, "consumers", 0, "pel"], lambda p: p.append(b"\1" * 16)))
            variant("group %d: the same pending entry twice" % gi,
                    edit(["groups", gi, "pel"], lambda p: p.append(p[0])))
            variant("group %d: pending entries out of order" % gi,
                    edit(["groups", gi, "pel"], lambda p: p.reverse()))
            variant("group %d: a pending entry past the last ID" % gi,
                    edit(["groups", gi], lambda g: (
                        g["pel"].append((b"\xff" * 16, 0, 1)),
                        g["consumers"][0]["pel"].append(b"\xff" * 16))))
        if g["consumers"]:
            variant("group %d: the same consumer twice" % gi,
                    edit(["groups", gi, "consumers"], lambda cs: cs.append(dict(cs[-1], pel=[]))))
    variant("the same group twice", edit(["groups"], lambda gs: gs.append(copy.deepcopy(gs[-1]))))
    variant("no groups", setter(["groups"], []))
    variant("no nodes", setter(["nodes"], []))
    variant("no nodes, length 0", lambda v: v.update(nodes=[], length=0))
    variant("nodes in reverse order", edit(["nodes"], lambda n: n.reverse()))
    variant("a node twice", edit(["nodes"], lambda n: n.append(n[-1])))
    for delta in (1, -1):
        variant("a node key %+d ms" % delta, edit(["nodes"], lambda n, delta=delta: n.__setitem__(
            0, (struct.pack(">QQ", struct.unpack(">QQ", n[0][0])[0] + delta,
                            struct.unpack(">QQ", n[0][0])[1]), n[0][1]))))
    variant("a node key of 15 bytes", edit(["nodes"], lambda n: n.__setitem__(
        0, (n[0][0][:15], n[0][1]))))
    variant("an empty listpack", edit(["nodes"], lambda n: n.__setitem__(
        0, (n[0][0], b"\x07\x00\x00\x00\x00\x00\xff"))))
    return out


def pipeline(c, calls):
    """Sends every call at once; returns the decoded replies."""
    c.send(b"".join(encode_command(*call) for call in calls))
    return [decode(r) for r in c.read_replies(len(calls))]


def exercise(c, key):
    """Every kind of access to a restored (possibly odd) stream; fails only if the connection
    breaks. Group and consumer names are taken from what the server reports."""
    groups = pipeline(c, [
        ("XINFO", "STREAM", key, "FULL"), ("XINFO", "STREAM", key), ("XLEN", key),
        ("XRANGE", key, "-", "+"), ("XREVRANGE", key, "+", "-"),
        ("XRANGE", key, "2", "4", "COUNT", "2"), ("XREAD", "STREAMS", key, "0"), ("DUMP", key),
        ("XINFO", "GROUPS", key)])[-1]
    names = [dict(_pairs(g)).get(b"name") for g in groups] if isinstance(groups, list) else []
    calls = []
    for g in names[:3]:
        calls.append(("XINFO", "CONSUMERS", key, g))
    consumers = pipeline(c, calls)
    calls = []
    for g, cons in zip(names, consumers):
        cnames = [dict(_pairs(x)).get(b"name") for x in cons] if isinstance(cons, list) else []
        some = cnames[0] if cnames else "c"
        calls += [("XPENDING", key, g), ("XPENDING", key, g, "-", "+", "10"),
                  ("XPENDING", key, g, "IDLE", "1", "-", "+", "10"),
                  ("XPENDING", key, g, "-", "+", "10", some),
                  ("XREADGROUP", "GROUP", g, "fz", "COUNT", "2", "STREAMS", key, ">"),
                  ("XREADGROUP", "GROUP", g, some, "STREAMS", key, "0"),
                  ("XAUTOCLAIM", key, g, "fz2", "1", "0-0", "COUNT", "5"),
                  ("XAUTOCLAIM", key, g, "fz2", "0", "0-0", "COUNT", "5"),
                  ("XCLAIM", key, g, "fz3", "1", "1-1", "3-3", "4-4"),
                  ("XCLAIM", key, g, "fz3", "0", "1-1", "3-3", "4-4", "FORCE"),
                  ("XACK", key, g, "1-1", "3-3"), ("XGROUP", "SETID", key, g, "$"),
                  ("XINFO", "CONSUMERS", key, g),
                  ("XGROUP", "DELCONSUMER", key, g, cnames[-1] if cnames else "c")]
    calls += [("DUMP", key), ("XADD", key, "*", "f", "v"),
              ("XADD", key, "MAXLEN", "2", "*", "f", "v"), ("XDEL", key, "1-1", "5-5"),
              ("XTRIM", key, "MINID", "~", "4"), ("XSETID", key, "99999999999999-0"),
              ("XINFO", "STREAM", key, "FULL"), ("XRANGE", key, "-", "+"),
              ("XREVRANGE", key, "+", "-", "COUNT", "3")]
    payload = pipeline(c, calls)[-9]
    calls = [("DEL", key)]
    if isinstance(payload, bytes):
        calls = [("RESTORE", key + "-again", "0", payload, "REPLACE"),
                 ("XRANGE", key + "-again", "-", "+"), ("DEL", key, key + "-again")]
    pipeline(c, calls)


class CorruptPayloads(StreamCase):
    def restore_each(self, payloads):
        """RESTOREs each (what, payload) into Keyward and exercises what loads. A server that
        goes away (or prints a sanitizer report) is noted and replaced, so that one run lists
        every distinct failure; the test then fails with them."""
        srv, c = self.start("keyward")
        small_stream(c)  # the source stays, so the server has something to write
        loaded = refused = 0
        failures = {}
        for what, payload in payloads:
            try:
                reply = c.call("RESTORE", "fz", "0", payload, "REPLACE")
                if reply == b"+OK\r\n":
                    loaded += 1
                    exercise(c, "fz")
                else:
                    self.assertEqual(reply, BAD_DATA, what)
                    refused += 1
                self.assertEqual(c.call("PING"), b"+PONG\r\n", what)
            except (ConnectionClosed, OSError) as e:
                wait_for(lambda: not srv.alive(), timeout=30, message="the server to exit")
                report = srv.sanitizer_report() or ("no sanitizer report; exit code %s: %s"
                                                    % (srv.proc.returncode, e))
                srv.expect_sanitizer_report = True  # reported below instead
                srv.stop()
                first = report.strip().splitlines()[0]
                failures.setdefault(_signature(first), (what, report))
                srv, c = self.start("keyward")
        report = srv.sanitizer_report()
        if report:
            srv.expect_sanitizer_report = True
            failures.setdefault(_signature(report.splitlines()[0]), ("(at the end)", report))
        if failures:
            self.fail("%d distinct failures:\n%s" % (len(failures), "\n".join(
                "after %s:\n%s" % (what, report[:1500]) for what, report in failures.values())))
        return loaded, refused

    def sources(self):
        """(name, DUMP payload) of two small streams with groups (small_stream's, and an emptied
        one): as dumped (listpacks LZF-compressed), written back plainly, and as type 15 with
        an RDB 9 footer. Also small_stream's parsed payload."""
        srv, c = self.start("keyward")
        run(c, "XADD", "emptied", "7-7", "f", "v")
        run(c, "XDEL", "emptied", "7-7")
        run(c, "XGROUP", "CREATE", "emptied", "g", "0")
        run(c, "XGROUP", "CREATECONSUMER", "emptied", "g", "c")
        out = []
        for key in (small_stream(c), "emptied"):
            dumped = decode(c.call("DUMP", key))
            s = parse_stream(dumped)
            plain = encode_stream(s)
            self.assertEqual(run(c, "RESTORE", "check", "0", plain), b"OK")
            self.assertEqual(parse_stream(decode(c.call("DUMP", "check"))), s)
            run(c, "DEL", "check")
            # small's second node is LZF-compressed; emptied has no node to compress.
            self.assertEqual(len(dumped) < len(plain), key == "small")
            out += [("%s plain" % key, plain),
                    ("%s type 15" % key, encode_stream(s, rdb_type=15, version=9)),
                    ("%s as dumped" % key, dumped)]
            if key == "small":
                small = s
        c.close()
        srv.stop()
        return small, out

    def test_truncated_payloads(self):
        cases = []
        for name, payload in self.sources()[1]:
            body, version = payload[:-10], struct.unpack("<H", payload[-10:-8])[0]
            cases += [("%s cut to %d bytes" % (name, n), footer(body[:n], version))
                      for n in range(len(body))]
            cases.append(("%s with a byte more" % name, footer(body + b"\x00", version)))
        loaded, refused = self.restore_each(cases)
        self.assertGreater(refused, len(cases) // 2)

    def test_every_byte_changed(self):
        rng = random.Random(FUZZ_SEED)
        cases, seen = [], set()
        for name, payload in self.sources()[1]:
            if payload in seen:
                continue  # an "as dumped" payload without LZF strings is the plain one
            seen.add(payload)
            body, version = payload[:-10], struct.unpack("<H", payload[-10:-8])[0]
            for i in range(len(body)):
                # Every bit flipped, one more, the sign bits of an 8-byte field, and a random
                # value; in LZF-compressed bytes (which mostly stop at the LZF check) fewer.
                if "dumped" in name:
                    values = {body[i] ^ 0xFF, 0x80, rng.randrange(256)}
                else:
                    values = {body[i] ^ 0xFF, (body[i] + 1) & 0xFF, 0x7F, 0x80,
                              rng.randrange(256)}
                for new in sorted(values - {body[i]}):
                    cases.append(("%s, byte %d set to %#x" % (name, i, new),
                                  footer(body[:i] + bytes([new]) + body[i + 1:], version)))
        loaded, refused = self.restore_each(cases)
        self.assertGreater(loaded, 0)
        self.assertGreater(refused, 0)

    def test_fields_set_to_edge_values(self):
        s, _ = self.sources()
        cases = []
        for name, v in field_variants(s):
            cases.append((name, encode_stream(v)))
            cases.append((name + " (type 15)", encode_stream(v, rdb_type=15, version=9)))
        loaded, refused = self.restore_each(cases)
        self.assertGreater(loaded, 0)
        self.assertGreater(refused, 0)


def _signature(line):
    """A sanitizer report's first line without its numbers (one entry per distinct bug)."""
    return re.sub(r"-?[0-9]{4,}", "N", line)


if __name__ == "__main__":
    unittest.main()
