"""Differential tests of LATENCY (LATEST HISTORY RESET GRAPH DOCTOR HISTOGRAM HELP), the latency
monitor's "command" event and the per-command latency histograms (INFO latencystats):
Keyward vs redis-server 7.0.15.

Errors, HELP and the empty replies are compared byte for byte. Replies that carry times
(timestamps, latencies, histogram buckets) are compared after masking those, by shape and by
call counts: DEBUG SLEEP makes a command slow by construction, so no assertion depends on a
measured duration.
"""

import re
import unittest

from diff_support import DiffCase
from keyward_harness import decode

def pairs(flat):
    """A RESP2 map (a flat array) as (key, value) pairs."""
    return list(zip(flat[::2], flat[1::2]))


LATENCY_SUBCOMMANDS = ("latest", "history", "reset", "graph", "doctor", "histogram", "help")


class LatencyTest(DiffCase):
    SERVER_ARGS = ("--enable-debug-command", "yes")

    def setUp(self):
        super().setUp()
        for c in (self.r, self.k):
            c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            c.call("CONFIG", "SET", "latency-tracking", "yes")
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
            c.call("LATENCY", "RESET")

    def both_decoded(self, *cmd):
        r, k = self.both(*cmd)
        return decode(r), decode(k)

    def test_help_and_errors(self):
        self.check("LATENCY", "HELP")
        self.check("latency", "help")
        for cmd in [
            ("LATENCY",),
            ("LATENCY", "FOO"),
            ("LATENCY", "HELP", "extra"),
            ("LATENCY", "LATEST", "extra"),
            ("LATENCY", "DOCTOR", "extra"),
            ("LATENCY", "HISTORY"),
            ("LATENCY", "HISTORY", "a", "b"),
            ("LATENCY", "GRAPH"),
            ("LATENCY", "GRAPH", "a", "b"),
            ("LATENCY", "GRAPH", "nosuch"),
            ("LATENCY", "GRAPH", "command"),
        ]:
            self.check(*cmd)

    def test_empty_monitor(self):
        self.check("LATENCY", "LATEST")
        self.check("LATENCY", "HISTORY", "command")
        self.check("LATENCY", "RESET")
        self.check("LATENCY", "RESET", "command", "fast-command")
        self.check("LATENCY", "HISTOGRAM", "nosuch", "a|b|c", "config|nosuch")
        # The monitor is off and has no events: Redis's refusal, byte for byte.
        self.check("LATENCY", "DOCTOR")

    def test_config_options(self):
        self.check_unordered("CONFIG", "GET", "latency-tracking*", pairs=True)
        # (Redis splits a CONFIG SET value on single spaces, Keyward like a config line: values with
        # stray spaces are left out.)
        for value in ["abc", "50 abc", "101", "-1", "inf", "nan", "1e400"]:
            self.check("CONFIG", "SET", "latency-tracking-info-percentiles", value)
        self.check("CONFIG", "GET", "latency-tracking-info-percentiles")
        for value in ["0 100 50.5 1e1", "-0", "99.99999", ""]:
            self.check("CONFIG", "SET", "latency-tracking-info-percentiles", value)
            self.check("CONFIG", "GET", "latency-tracking-info-percentiles")
        self.check("CONFIG", "SET", "latency-tracking", "maybe")
        self.check("CONFIG", "SET", "latency-tracking", "no")
        self.check("CONFIG", "GET", "latency-tracking")

    def test_command_info(self):
        # Redis lists a container's subcommands in its dictionary's order (hash-seeded): the
        # container's entry is compared with them sorted, each subcommand byte for byte.
        def sorted_subcommands(raw):
            info = decode(raw)
            return info[0][:9] + [sorted(info[0][9])]
        self.check("COMMAND", "INFO", "latency", normalize=sorted_subcommands)
        for sub in LATENCY_SUBCOMMANDS:
            self.check("COMMAND", "INFO", "latency|" + sub)
            self.check("COMMAND", "DOCS", "latency|" + sub)

    def slow_command(self):
        """Turns the monitor on and runs a command that lasts at least 10 ms, on both."""
        for c in (self.r, self.k):
            c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
            c.call("LATENCY", "RESET")
            c.call("DEBUG", "SLEEP", "0.01")

    def test_latest_history_reset(self):
        self.slow_command()
        r, k = self.both_decoded("LATENCY", "LATEST")
        mask = lambda v: [[e[0]] + ["<n>" if isinstance(x, int) else x for x in e[1:]] for e in v]
        self.assertEqual(mask(k), mask(r))
        self.assertEqual(mask(r), [[b"command", "<n>", "<n>", "<n>"]])

        r, k = self.both_decoded("LATENCY", "HISTORY", "command")
        # One sample per second: the DEBUG SLEEP's, maybe with the RESET's in another second.
        shape = lambda v: sorted({tuple(type(x).__name__ for x in s) for s in v})
        self.assertTrue(r and k)
        self.assertEqual(shape(k), shape(r))
        self.assertEqual(shape(r), [("int", "int")])
        self.check("LATENCY", "HISTORY", "COMMAND")  # exact names only: empty on both

        # GRAPH: a verbatim text (a bulk string in RESP2) led by the event's figures.
        r, k = self.both("LATENCY", "GRAPH", "command")
        for raw in (r, k):
            self.assertRegex(raw, rb"^\$\d+\r\ncommand - high \d+ ms, low \d+ ms "
                             rb"\(all time high \d+ ms\)\n-{80}\n")

        # DOCTOR: the same report once the figures are masked (and the machine-wide advice on
        # transparent huge pages, which depends on each process's mappings, left out).
        def doctor(raw):
            text = decode(raw).decode()
            text = "\n".join(l for l in text.split("\n") if "anonymous huge pages" not in l)
            return re.sub(r"\d+(\.\d+)?", "<n>", text)
        r, k = self.both("LATENCY", "DOCTOR")
        self.assertEqual(doctor(k), doctor(r))
        self.assertIn("<n>. command: <n> latency spikes", doctor(r))

        self.check("LATENCY", "RESET", "nosuch", "Command")  # case-insensitive: :1
        self.check("LATENCY", "LATEST")
        self.check("LATENCY", "HISTORY", "command")

    def test_histogram_calls(self):
        for c in (self.r, self.k):
            c.call("CONFIG", "RESETSTAT")
        for cmd in [("SET", "k", "v")] * 3 + [("GET", "k")] * 2 + [("DEBUG", "SLEEP", "0.01")]:
            self.check(*cmd)
        self.check("CONFIG", "GET", "maxmemory")

        def calls(reply):
            out = {}
            for name, cdf in pairs(reply):
                fields = dict(pairs(cdf))
                buckets = pairs(fields[b"histogram_usec"])
                # Cumulative counts, increasing, ending at the number of calls.
                counts = [c for _, c in buckets]
                self.assertEqual(counts, sorted(set(counts)))
                self.assertEqual(counts[-1], fields[b"calls"])
                self.assertTrue(all(isinstance(u, int) for u, _ in buckets))
                out[name] = fields[b"calls"]
            return out

        r, k = self.both_decoded("LATENCY", "HISTOGRAM", "set", "GET", "debug", "config", "nosuch")
        self.assertEqual(calls(k), calls(r))
        self.assertEqual(calls(r), {b"set": 3, b"get": 2, b"debug": 1, b"config|get": 1,
                                    b"config|resetstat": 1})
        # In the order asked for; a container's subcommands in Redis's (hash-seeded) dict order.
        names = lambda v: [name for name, _ in pairs(v)]
        self.assertEqual(names(k)[:3], names(r)[:3])
        self.assertEqual(sorted(names(k)[3:]), sorted(names(r)[3:]))
        r, k = self.both_decoded("LATENCY", "HISTOGRAM")
        self.assertEqual(calls(k), calls(r))

    def test_info_latencystats(self):
        for c in (self.r, self.k):
            c.call("CONFIG", "RESETSTAT")
        for cmd in [("SET", "k", "v"), ("GET", "k"), ("DEBUG", "SLEEP", "0.01"),
                    ("CONFIG", "GET", "maxmemory"), ("LATENCY", "LATEST")]:
            self.check(*cmd)

        def fields(raw):
            lines = decode(raw).decode().split("\r\n")
            self.assertEqual(lines[0], "# Latencystats")
            out = {}
            for line in filter(None, lines[1:]):
                name, _, values = line.partition(":")
                out[name] = [v.split("=")[0] for v in values.split(",")]
                for v in values.split(","):
                    self.assertRegex(v, r"^p[0-9.]+=\d+\.\d{3}$")
            return out

        r, k = self.both("INFO", "LATENCYSTATS")
        self.assertEqual(fields(k), fields(r))
        self.assertIn("latency_percentiles_usec_debug", fields(r))
        self.assertEqual(fields(r)["latency_percentiles_usec_set"], ["p50", "p99", "p99.9"])

        # No percentiles: the names alone, which can be compared whole (in any order).
        self.check("CONFIG", "SET", "latency-tracking-info-percentiles", "")
        r, k = self.both("INFO", "LATENCYSTATS")
        self.assertEqual(sorted(decode(k).split(b"\r\n")), sorted(decode(r).split(b"\r\n")))

        # Tracking off: the header only.
        self.check("CONFIG", "SET", "latency-tracking", "no")
        self.check("INFO", "LATENCYSTATS")
        self.check("CONFIG", "SET", "latency-tracking", "yes")
        self.check("CONFIG", "RESETSTAT")
        self.check("INFO", "LATENCYSTATS")


if __name__ == "__main__":
    unittest.main()
