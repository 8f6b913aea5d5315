"""The metrics endpoint (metrics-port): Prometheus's text format over HTTP, parsed here line by
line as Prometheus would, with the figures a user relies on: INFO's (clients, keyspace per
database, commands and errors with labels, replication lag per replica), and Keyward's lock
figures (acquisitions by outcome, fencing tokens, waits and their latency histograms, leases that
ran out while held). Off by default; anything but GET /metrics gets a clear HTTP status."""

import re
import socket
import unittest
import urllib.error
import urllib.request

from keyward_harness import ServerTestCase, decode, encode_command, free_port, wait_for

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value}, checking the format: every sample's family was
    declared (HELP and TYPE) before it, and a family's samples are contiguous."""
    samples, types, seen_families, current = {}, {}, set(), None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, "family %s declared twice" % name
            assert kind in ("gauge", "counter", "histogram"), line
            types[name] = kind
            current = name
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if types.get(
            re.sub(r"_(bucket|sum|count)$", "", name)) == "histogram" else name
        assert family == current, "sample %s outside its family (%s)" % (name, current)
        seen_families.add(family)
        parsed = frozenset(LABEL.findall(labels))
        assert len(parsed) == labels.count('="'), "bad labels: %r" % labels
        samples[(name, parsed)] = float(value)
    return samples, types


class Metrics(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.metrics_port = free_port()
        self.srv = self.start_keyward(["--metrics-port", self.metrics_port])
        self.c = self.raw_client(self.srv)

    def scrape(self):
        url = "http://127.0.0.1:%d/metrics" % self.metrics_port
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            return parse(r.read().decode())

    def value(self, samples, name, **labels):
        return samples[(name, frozenset(labels.items()))]

    def test_info_figures(self):
        for i in range(5):
            self.c.call("SET", "k%d" % i, "v")
        self.c.call("EXPIRE", "k0", "100")
        self.c.call("SELECT", "3")
        self.c.call("SET", "other", "v")
        self.c.call("INCR", "other")  # an error reply
        samples, types = self.scrape()
        self.assertEqual(self.value(samples, "keyward_db_keys", db="0"), 5)
        self.assertEqual(self.value(samples, "keyward_db_expiring_keys", db="0"), 1)
        self.assertEqual(self.value(samples, "keyward_db_keys", db="3"), 1)
        self.assertEqual(self.value(samples, "keyward_command_calls_total", command="set"), 6)
        self.assertEqual(types["keyward_command_calls_total"], "counter")
        self.assertEqual(self.value(samples, "keyward_errors_total", error="ERR"), 1)
        self.assertGreaterEqual(self.value(samples, "keyward_connected_clients"), 1)
        info = [k for k in samples if k[0] == "keyward_info"]
        self.assertEqual(len(info), 1)
        self.assertIn(("role", "master"), info[0][1])
        self.assertIn(("redis_version", "7.0.15"), info[0][1])

    def test_lock_figures(self):
        self.c.call("LOCK.ACQUIRE", "r", "a", "60000", "FENCE")
        self.c.call("LOCK.ACQUIRE", "r", "a", "60000", "FENCE")  # re-entry
        self.c.call("LOCK.ACQUIRE", "r", "b", "60000")           # busy
        # A waiter, handed the lock when "a" releases.
        waiter = self.raw_client(self.srv)
        waiter.send(b"*6\r\n$12\r\nLOCK.ACQUIRE\r\n$1\r\nr\r\n$1\r\nw\r\n$5\r\n60000\r\n"
                    b"$4\r\nWAIT\r\n$5\r\n10000\r\n")
        wait_for(lambda: int(dict(line.split(":", 1) for line in decode(
            self.c.call("INFO", "clients")).decode().split("\r\n") if ":" in line)
            ["blocked_clients"]) == 1, message="the waiter blocked")
        self.assertEqual(decode(self.c.call("LOCK.RELEASE", "r", "a")), 1)
        self.assertEqual(decode(waiter.read_reply())[0], 1)
        # Two LOCK.WAIT ... HANDOFF waiters: the release wakes one of them.
        self.c.call("LOCK.ACQUIRE", "h", "x", "60000")
        herd = [self.raw_client(self.srv) for _ in range(2)]
        for i, c in enumerate(herd):  # one after the other: the queue's order is known
            c.send(encode_command("LOCK.WAIT", "h", "60000", "HANDOFF", "60000"))
            wait_for(lambda: int(dict(line.split(":", 1) for line in decode(
                self.c.call("INFO", "clients")).decode().split("\r\n") if ":" in line)
                ["blocked_clients"]) == i + 1, message="the LOCK.WAIT waiter blocked")
        self.assertEqual(decode(self.c.call("LOCK.RELEASE", "h", "x")), 1)
        self.assertEqual(decode(herd[0].read_reply()), 1)
        # A lock whose lease runs out while held.
        self.c.call("LOCK.ACQUIRE", "short", "x", "1")
        wait_for(lambda: decode(self.c.call("EXISTS", "short")) == 0,
                 message="the short lease to run out")
        samples, types = self.scrape()
        acq = "keyward_lock_acquisitions_total"
        self.assertEqual(self.value(samples, acq, result="granted"), 5)  # a, a, w, x, h
        # "b" refused, and the waiter's own first attempt (it then waited; being offered the
        # lock again later is not a new attempt).
        self.assertEqual(self.value(samples, acq, result="busy"), 2)
        self.assertEqual(self.value(samples, "keyward_lock_reentries_total"), 1)
        self.assertEqual(self.value(samples, "keyward_lock_fencing_tokens_total"), 1)
        self.assertEqual(self.value(samples, "keyward_lock_releases_total"), 2)  # "a" and "x" of "h"
        self.assertEqual(self.value(samples, "keyward_lock_lease_expiries_total"), 1)
        self.assertEqual(self.value(samples, "keyward_lock_waits_total", result="granted"), 1)
        self.assertEqual(self.value(samples, "keyward_lock_wait_wakeups_total"), 1)
        self.assertEqual(self.value(samples, "keyward_fencing_records"), 3)  # r, h, short
        for hist in ("keyward_lock_wait_seconds", "keyward_lock_handoff_seconds"):
            self.assertEqual(types[hist], "histogram")
            buckets = sorted(((float(dict(k[1])["le"]) if dict(k[1])["le"] != "+Inf"
                               else float("inf")), v)
                             for k, v in samples.items() if k[0] == hist + "_bucket")
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), "buckets are cumulative")
            self.assertEqual(buckets[-1], (float("inf"), 1))
            self.assertEqual(self.value(samples, hist + "_count"), 1)

    def test_replica_lag(self):
        replica = self.start_keyward(["--replicaof", "127.0.0.1", self.srv.port])
        wait_for(lambda: b"state=online" in decode(self.c.call("INFO", "replication")),
                 message="the replica online")
        samples, _ = self.scrape()
        offsets = [k for k in samples if k[0] == "keyward_replica_offset"]
        self.assertEqual(len(offsets), 1)
        self.assertIn(("replica", "127.0.0.1:%d" % replica.port), offsets[0][1])
        self.assertIn(("state", "online"), offsets[0][1])
        self.assertTrue(any(k[0] == "keyward_replica_lag_bytes" for k in samples))

    def test_other_requests(self):
        def status(path, method="GET"):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.metrics_port, path),
                                         method=method)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        self.assertEqual(status("/"), 404)
        self.assertEqual(status("/metrics", "POST"), 405)
        self.assertEqual(status("/metrics?x=1", "HEAD"), 200)
        # Not HTTP at all, and a header that never ends: answered and closed, never a hang.
        for junk, code in ((b"hello\r\n\r\n", b"400"), (b"GET /metrics HTTP/1.1\r\nX: " +
                                                         b"a" * 20000, b"431")):
            with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=10) as s:
                s.sendall(junk)
                reply = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                self.assertTrue(reply.startswith(b"HTTP/1.1 " + code), reply[:60])
        # The server itself is unaffected.
        self.assertEqual(self.c.call("PING"), b"+PONG\r\n")

    def test_served_after_the_client_port_moves(self):
        # CONFIG SET port reopens the client listeners only: the endpoint stays where it was.
        port = free_port()
        self.assertEqual(self.c.call("CONFIG", "SET", "port", port), b"+OK\r\n")
        samples, _ = self.scrape()
        self.assertIn(("keyward_connected_clients", frozenset()), samples)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"PING\r\n")
            self.assertEqual(s.recv(16), b"+PONG\r\n")

    def test_off_by_default(self):
        srv = self.start_keyward()
        self.assertEqual(decode(srv.client().call("CONFIG", "GET", "metrics-port")),
                         [b"metrics-port", b"0"])


if __name__ == "__main__":
    unittest.main()
