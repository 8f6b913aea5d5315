"""Differential tests of MEMORY STATS, DOCTOR, MALLOC-STATS and HELP: Keyward vs redis-server
7.0.15. (MEMORY USAGE and PURGE are compared in the type suites.)

The figures are each server's own, so what is compared is:
  * HELP, the errors and the argument counts, byte for byte.
  * STATS: the field names, their order and each value's reply type (integer, double, map), in
    RESP2 and RESP3, with the per-database maps of the same databases; and Keyward's figures
    against each other and against INFO memory (the same accounting).
  * DOCTOR: byte for byte on an empty instance (both are under 5 MB); with data, every paragraph
    Keyward writes is one of Redis's (found in the redis-server binary itself), and the issues it
    reports are those MEMORY STATS's figures show.
  * MALLOC-STATS: Keyward's glibc report, or, in a sanitizer build, Redis's answer for an
    allocator without statistics.
"""

import struct
import unittest

from diff_support import DiffCase, first_byte
from keyward_harness import REDIS_SERVER, decode

MB = 1024 * 1024


def pairs(value):
    """A map reply (RESP3 tuples or a RESP2 flat array) as a list of (name, value)."""
    if value and isinstance(value[0], tuple):
        return [(k.decode(), v) for k, v in value]
    return [(value[i].decode(), value[i + 1]) for i in range(0, len(value), 2)]


def shape(value):
    """MEMORY STATS as [(name, type)], a database's map as [(name, its shape)]."""
    out = []
    for name, v in pairs(value):
        if isinstance(v, list):
            out.append((name, shape(v)))
        else:
            out.append((name, type(v).__name__))
    return out


def stats(client):
    return dict(pairs(decode(client.call("MEMORY", "STATS"))))


def info_memory(client):
    text = decode(client.call("INFO", "memory")).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


class MemoryCommands(DiffCase):
    def test_help_and_errors(self):
        self.check("MEMORY", "HELP")
        self.check("memory", "help")
        for cmd in (("MEMORY",), ("MEMORY", "nosuch"), ("MEMORY", "STATS", "x"),
                    ("MEMORY", "DOCTOR", "x"), ("MEMORY", "MALLOC-STATS", "x"),
                    ("MEMORY", "HELP", "x"), ("MEMORY", "PURGE", "x"), ("MEMORY", "USAGE")):
            self.check(*cmd)

    def test_stats_names_order_and_types(self):
        r3, k3 = self.resp3_pair()
        for setup in ("", "SET a 1; EXPIRE a 100; RPUSH l x", "SELECT 3; SET b 2; SELECT 0"):
            self.check_seq(setup)
            for pair in ((self.r, self.k), (r3, k3)):
                r, k = self.both("MEMORY", "STATS", pair=pair)
                self.assertEqual(first_byte(k), first_byte(r))
                with self.subTest(setup=setup, resp3=pair[0] is r3):
                    self.assertEqual(shape(decode(k)), shape(decode(r)))

    def test_stats_figures(self):
        self.check_seq("MSET a 1 b 2 c 3; EXPIRE a 100; SELECT 5; SET d 4; SELECT 0")
        self.k.call("SCRIPT", "LOAD", "return 1")
        s = stats(self.k)
        info = info_memory(self.k)
        self.assertEqual(s["keys.count"], 4)
        self.assertEqual([n for n in s if n.startswith("db.")], ["db.0", "db.5"])
        db0 = dict(pairs(s["db.0"]))
        self.assertGreater(db0["overhead.hashtable.main"], 0)
        self.assertGreater(db0["overhead.hashtable.expires"], 0)
        self.assertEqual(db0["overhead.hashtable.slot-to-keys"], 0)
        self.assertEqual(dict(pairs(s["db.5"]))["overhead.hashtable.expires"], 0)
        # The overhead is the sum of its parts, the dataset what is left.
        parts = ("startup.allocated", "replication.backlog", "clients.slaves", "clients.normal",
                 "cluster.links", "aof.buffer", "lua.caches", "functions.caches")
        dbs = sum(v for name in ("db.0", "db.5") for _, v in pairs(s[name]))
        self.assertEqual(s["overhead.total"], sum(s[p] for p in parts) + dbs)
        self.assertEqual(s["dataset.bytes"], s["total.allocated"] - s["overhead.total"])
        net = s["total.allocated"] - s["startup.allocated"]
        self.assertEqual(s["keys.bytes-per-key"], net // 4)
        self.assertAlmostEqual(float(s["dataset.percentage"]), s["dataset.bytes"] * 100 / net,
                               places=3)
        self.assertGreaterEqual(s["peak.allocated"], s["total.allocated"])
        # Each ratio and its difference describe the same two figures.
        for ratio, diff, num, den in (
                ("allocator-fragmentation.ratio", "allocator-fragmentation.bytes",
                 "allocator.active", "allocator.allocated"),
                ("allocator-rss.ratio", "allocator-rss.bytes", "allocator.resident",
                 "allocator.active")):
            self.assertEqual(s[diff], s[num] - s[den])
            self.assertAlmostEqual(float(s[ratio]), s[num] / s[den], places=4)
        self.assertEqual(s["allocator.allocated"], s["total.allocated"])
        # The same accounting as INFO memory (the figures that do not move between two calls).
        self.assertEqual(s["startup.allocated"], int(info["used_memory_startup"]))
        self.assertEqual(s["lua.caches"], int(info["used_memory_scripts_eval"]))
        self.assertEqual(s["functions.caches"], int(info["used_memory_functions"]))
        self.assertGreater(s["lua.caches"], 0)
        for name in ("replication.backlog", "clients.slaves", "cluster.links", "aof.buffer"):
            self.assertEqual(s[name], 0, name)

    def test_stats_doubles_in_resp3(self):
        r3, k3 = self.resp3_pair()
        for client in (self.r, self.k):
            value = dict(pairs(decode(client.call("MEMORY", "STATS"))))
            self.assertIsInstance(value["fragmentation"], bytes)  # RESP2: a bulk string
        for client in (r3, k3):
            value = dict(pairs(decode(client.call("MEMORY", "STATS"))))
            self.assertIsInstance(value["fragmentation"], float)
            self.assertIsInstance(value["dataset.percentage"], float)

    def test_doctor_empty_instance(self):
        # Both instances are under 5 MB: Redis's text for an empty instance, in both protocols.
        self.check("MEMORY", "DOCTOR")
        self.check("MEMORY", "DOCTOR", pair=self.resp3_pair())

    def doctor_paragraphs(self, report):
        """The report's issue paragraphs, each checked to be one of Redis's own texts."""
        with open(REDIS_SERVER, "rb") as f:
            binary = f.read()
        no_issue = (b"Hi Sam, I can't find any memory issue in your instance. I can only account "
                    b"for what occurs on this base.\n")
        if report == no_issue:
            return []
        header = b"Sam, I detected a few issues in this Redis instance memory implants:\n\n"
        footer = b"I'm here to keep you safe, Sam. I want to help you.\n"
        self.assertTrue(report.startswith(header), report[:200])
        self.assertTrue(report.endswith(footer), report[-200:])
        for text in (no_issue, header, footer):
            self.assertIn(text.rstrip(b"\n"), binary)
        paragraphs = report[len(header):-len(footer)].split(b"\n\n")
        self.assertEqual(paragraphs[-1], b"")
        out = []
        for p in paragraphs[:-1]:
            # Redis's format puts the allocator's name in place of %s.
            template = p
            if p.startswith(b" * High total RSS"):
                template = p[:p.rindex(b'"', 0, len(p) - 2) + 1] + b'%s".'
            self.assertIn(template, binary, p[:120])
            out.append(p.split(b":", 1)[0].decode())
        return out

    def test_doctor_with_data(self):
        # A 24 MB peak, then 6 MB in use: more than Redis's 5 MB, and a peak above 150%. (INFO
        # records the peak at once; the cron would in its next 100 ms.)
        for c in (self.r, self.k):
            c.call("SET", "peak", "x" * (24 * MB))
            c.call("INFO", "memory")
            c.call("DEL", "peak")
            c.call("SET", "data", "y" * (6 * MB))
        for client in (self.r, self.k):
            report = decode(client.call("MEMORY", "DOCTOR"))
            self.doctor_paragraphs(report)  # Redis's own texts, for either server
        # Keyward's issues are those its figures show, by getMemoryDoctorReport's thresholds.
        s = stats(self.k)
        clients = int(dict(line.split(":", 1) for line in decode(
            self.k.call("INFO", "clients")).decode().split("\r\n") if ":" in line)
            ["connected_clients"])
        expected = []
        if s["peak.allocated"] / s["total.allocated"] > 1.5:
            expected.append(" * Peak memory")
        for name, ratio, diff, limit in (
                (" * High total RSS", "fragmentation", "fragmentation.bytes", 1.4),
                (" * High allocator fragmentation", "allocator-fragmentation.ratio",
                 "allocator-fragmentation.bytes", 1.1),
                (" * High allocator RSS overhead", "allocator-rss.ratio", "allocator-rss.bytes",
                 1.1),
                (" * High process RSS overhead", "rss-overhead.ratio", "rss-overhead.bytes", 1.1)):
            if float(s[ratio]) > limit and s[diff] > 10 * MB:
                expected.append(name)
        if s["clients.normal"] // clients > 200 * 1024:
            expected.append(" * Big client buffers")
        self.assertIn(" * Peak memory", expected)
        report = decode(self.k.call("MEMORY", "DOCTOR"))
        self.assertEqual(self.doctor_paragraphs(report), expected, report)
        r3, k3 = self.resp3_pair()
        self.assertTrue(k3.call("MEMORY", "DOCTOR").startswith(b"=%d\r\ntxt:" % (len(report) + 4)))

    def test_malloc_stats(self):
        r3, k3 = self.resp3_pair()
        for client in (self.r, r3):  # the oracle: jemalloc's report
            self.assertIn(b"jemalloc", client.call("MEMORY", "MALLOC-STATS")[:100])
        unsupported = b"Stats not supported for the current allocator"
        plain = self.k.call("MEMORY", "MALLOC-STATS")
        if decode(plain) == unsupported:
            # A sanitizer build: Redis's reply for an allocator without statistics, a bulk
            # string in either protocol.
            self.assertEqual(plain, b"$%d\r\n%s\r\n" % (len(unsupported), unsupported))
            self.assertEqual(k3.call("MEMORY", "MALLOC-STATS"), plain)
        else:
            # glibc's malloc_info report, verbatim text as Redis sends jemalloc's.
            self.assertTrue(decode(plain).startswith(b'<malloc version="'), plain[:100])
            self.assertTrue(k3.call("MEMORY", "MALLOC-STATS").startswith(b"="))


if __name__ == "__main__":
    unittest.main(verbosity=2)
