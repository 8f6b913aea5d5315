"""Connection life cycle over real sockets, for cases the in-process fixture cannot show: a client
that closes itself while replies of its pipeline are still unsent (QUIT, CLIENT KILL of itself),
the query buffer limit of a client held by CLIENT PAUSE, and a held client's stream staying intact
once it is released. Waits are conditions (replies, closed sockets), never timings."""

import os
import unittest

from keyward_harness import ServerTestCase, encode_command, wait_for


def info_field(client, section, name):
    raw = client.call("INFO", section)
    for line in raw.split(b"\r\n"):
        if line.startswith(name.encode() + b":"):
            return int(line.split(b":", 1)[1]), len(raw)
    raise AssertionError("no %s in INFO %s" % (name, section))


class CloseAfterReply(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)

    def test_quit_after_a_pipeline_sends_and_counts_every_reply(self):
        before, info_reply = info_field(self.admin, "stats", "total_net_output_bytes")
        c = self.raw_client(self.srv)
        c.send(b"PING\r\n" * 1000 + b"QUIT\r\n")
        received = c.wait_closed()
        self.assertEqual(received, b"+PONG\r\n" * 1000 + b"+OK\r\n")
        after, _ = info_field(self.admin, "stats", "total_net_output_bytes")
        # Everything sent was counted (QUIT used to flush the pipeline's replies from under its
        # own accounting, which then subtracted them again).
        self.assertEqual(after - before, info_reply + len(received))

    def test_client_kill_of_itself_after_a_pipeline(self):
        c = self.raw_client(self.srv)
        cid = int(c.call("CLIENT", "ID")[1:-2])
        c.send(b"PING\r\n" * 100 + b"CLIENT KILL ID %d SKIPME no\r\nPING\r\n" % cid)
        # The reply to the kill goes out, then the connection closes; the last PING never runs.
        self.assertEqual(c.wait_closed(), b"+PONG\r\n" * 100 + b":1\r\n")
        self.assertEqual(self.admin.call("PING"), b"+PONG\r\n")

    def test_quit_with_reply_off_sends_nothing(self):
        c = self.raw_client(self.srv)
        c.send(b"CLIENT REPLY OFF\r\nPING\r\nQUIT\r\n")
        self.assertEqual(c.wait_closed(), b"")


def rss_bytes(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class OutputBuffers(ServerTestCase):
    def test_idle_connections_do_not_keep_a_big_reply_buffer(self):
        # Freed memory must leave the process for RSS to tell: no ASan quarantine, and values
        # above glibc's largest mmap threshold (32 MB) so a release build unmaps them too.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "quarantine_size_mb=0"]))
        srv = self.start_keyward(env=env)
        admin = self.raw_client(srv)
        size = 40 * 1024 * 1024
        self.assertEqual(admin.call("SET", "big", b"x" * size), b"+OK\r\n")
        expected = b"$%d\r\n" % size
        readers = [self.raw_client(srv) for _ in range(4)]
        before = rss_bytes(srv)
        for r in readers:
            r.send(b"GET big\r\n")
            self.assertEqual(r.read_exactly(len(expected)), expected)
            r.read_exactly(size + 2)
        self.assertEqual(admin.call("PING"), b"+PONG\r\n")
        # Each connection used to keep its output buffer and its write buffer at the size of the
        # largest reply it ever sent: 2 x 40 MB per idle reader here.
        grown = rss_bytes(srv) - before
        self.assertLess(grown, 2 * size, "server RSS grew by %d bytes" % grown)


class PausedClients(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)

    def test_paused_client_over_query_buffer_limit_is_closed(self):
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb"),
                         b"+OK\r\n")
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "100000", "WRITE"), b"+OK\r\n")
        w = self.raw_client(self.srv)
        w.send(encode_command("SET", "held", "1"))
        wait_for(lambda: b"flags=b" in self.admin.call("CLIENT", "LIST"),
                 message="the writer to be held")
        # 2 MB of complete commands behind the held one: the connection keeps reading while
        # paused, and must close the client once its buffer passes the limit.
        chunk = encode_command("SET", "k", "x" * 100000)
        try:
            for _ in range(20):
                w.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertEqual(w.wait_closed(), b"")
        n, _ = info_field(self.admin, "stats", "client_query_buffer_limit_disconnections")
        self.assertEqual(n, 1)
        self.assertEqual(self.admin.call("CLIENT", "UNPAUSE"), b"+OK\r\n")
        self.assertEqual(self.admin.call("EXISTS", "held", "k"), b":0\r\n")
        self.assertTrue(self.srv.alive())

    def test_released_client_stream_stays_intact(self):
        # A held command runs when the pause ends; what the client sends afterwards must be
        # parsed from where that command ended (a stale read offset once replayed old bytes).
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "100000", "WRITE"), b"+OK\r\n")
        w = self.raw_client(self.srv)
        w.send(b"SET a 1\r\n")
        wait_for(lambda: b"flags=b" in self.admin.call("CLIENT", "LIST"),
                 message="the writer to be held")
        self.assertEqual(self.admin.call("CLIENT", "UNPAUSE"), b"+OK\r\n")
        self.assertEqual(w.read_reply(), b"+OK\r\n")
        for i in range(20):
            self.assertEqual(w.call_inline("INCR a"), b":%d\r\n" % (i + 2))
        self.assertEqual(w.call_inline("GET a"), b"$2\r\n21\r\n")
        self.assertEqual(w.call_inline("ECHO tail"), b"$4\r\ntail\r\n")


if __name__ == "__main__":
    unittest.main()
