"""Differential testing: the same bytes go to Keyward and to Debian's redis-server 7.0.15, and the
raw replies must be identical byte for byte.

A DiffCase test class starts one Keyward and one redis-server for the whole class (starting a
sanitizer build per test would dominate the run time), and gives every test a fresh connection
to each after FLUSHALL. Every comparison runs as a unittest subTest, so one run reports every
mismatching command rather than only the first.
"""

import os
import re
import sys
import time
import unittest

from keyward_harness import (ConnectionClosed, decode, encode_command, start_keyward,
                             start_redis, unordered, wait_for)

# Client ids depend on how many connections each server has seen: masked in HELLO / CLIENT.
_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


def mask_hello_id(raw):
    return _HELLO_ID.sub(rb"\1:<id>\r\n", raw)


def show(cmd):
    """A command as a short readable string for failure messages."""
    if isinstance(cmd, (bytes, bytearray)):
        text = repr(bytes(cmd))
    else:
        text = " ".join(a if isinstance(a, str) else repr(a) for a in cmd)
    return text if len(text) < 300 else text[:300] + "..."


# Redis commands whose issue has not landed yet: skipped by check(), with the reason.
NOT_YET = {
    "wait": "WAIT lands with replication",
}

def first_byte(raw):
    """Only a reply's type (HELLO replies carry ids and versions)."""
    return raw[:1]


class DiffCase(unittest.TestCase):
    """Base class: self.r / self.k are RawClients to redis / Keyward, both on an empty keyspace."""

    maxDiff = None
    SERVER_ARGS = ()  # extra redis-server style arguments for both servers
    # (option, value) pairs a suite's tests change: set back on both servers after each test.
    RESTORE_CONFIG = ()

    @classmethod
    def setUpClass(cls):
        cls.redis_srv = start_redis(cls.SERVER_ARGS)
        try:
            cls.keyward_srv = start_keyward(cls.SERVER_ARGS)
        except Exception:
            cls.redis_srv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.redis_srv.stop()
        # Raises if the sanitizer build reported a memory error while serving this class.
        cls.keyward_srv.stop()

    def setUp(self):
        if not self.keyward_srv.alive():
            self.fail("keyward-server died:\n" + self.keyward_srv.output()[-4000:])
        self.r = self.redis_srv.client()
        self.k = self.keyward_srv.client()
        self.addCleanup(self.r.close)
        self.addCleanup(self.k.close)
        self.r.call("FLUSHALL")
        self.k.call("FLUSHALL")
        if self.RESTORE_CONFIG:
            self.addCleanup(self.restore_config)

    def restore_config(self):
        """Sets RESTORE_CONFIG back on both servers, through fresh connections (the test's own
        may be blocked or subscribed)."""
        for srv in (self.redis_srv, self.keyward_srv):
            c = srv.client()
            for name, value in self.RESTORE_CONFIG:
                c.call("CONFIG", "SET", name, value)
            c.close()

    # --- helpers ------------------------------------------------------------------------------

    def new_pair(self):
        """A second connection to each server (closed after the test)."""
        r, k = self.redis_srv.client(), self.keyward_srv.client()
        self.addCleanup(r.close)
        self.addCleanup(k.close)
        return r, k

    def both(self, *cmd, pair=None):
        """Sends a command to both servers; returns (redis reply, keyward reply) unchecked."""
        r, k = pair or (self.r, self.k)
        data = encode_command(*cmd)
        r.send(data)
        expected = r.read_reply()
        k.send(data)
        try:
            actual = k.read_reply()
        except (ConnectionClosed, OSError) as e:
            actual = ("<connection lost: %s>" % e).encode()
        return expected, actual

    def check(self, *cmd, pair=None, normalize=None):
        """Sends a command to both servers and asserts identical raw replies. Returns redis's.

        A command Keyward does not know at all is reported once per test ("not implemented")
        rather than once per use."""
        name = cmd[0].lower() if isinstance(cmd[0], str) else cmd[0]
        if isinstance(name, str) and name in NOT_YET:
            return None
        missing = self.__dict__.setdefault("_missing_commands", set())
        expected, actual = self.both(*cmd, pair=pair)
        if normalize:
            expected, actual = normalize(expected), normalize(actual)
        if (isinstance(actual, bytes) and actual.startswith(b"-ERR unknown command '")
                and not expected.startswith(b"-ERR unknown command '")):
            if name not in missing:
                missing.add(name)
                with self.subTest(cmd=show(cmd)):
                    self.fail("Keyward does not implement %s (first use: %s; redis replied %r)"
                              % (cmd[0], show(cmd), expected[:200]))
            return expected
        with self.subTest(cmd=show(cmd)):
            self.assertEqual(actual, expected, "command %s" % show(cmd))
        return expected

    def require_command(self, *cmd):
        """Fails the test at once if Keyward does not know the command (avoids a cascade of
        mismatches in a test built around it)."""
        name = cmd[0].lower()
        if name in NOT_YET:
            self.skipTest("%s: %s" % (cmd[0], NOT_YET[name]))
        expected, actual = self.both(*cmd)
        if actual.startswith(b"-ERR unknown command '") and expected != actual:
            self.fail("Keyward does not implement %s (redis replied %r)" % (cmd[0], expected[:200]))

    def check_all(self, *cmds, pair=None):
        for cmd in cmds:
            self.check(*cmd, pair=pair)

    def check_unordered(self, *cmd, pairs=False, pair=None):
        """For replies whose element order is unspecified (KEYS, CONFIG GET, SMEMBERS...)."""
        return self.check(*cmd, pair=pair, normalize=lambda raw: unordered(raw, pairs))

    def check_raw(self, data, replies, pair=None, normalize=None):
        """Sends raw bytes to both and compares the next `replies` raw replies."""
        r, k = pair or (self.r, self.k)
        r.send(data)
        expected = b"".join(r.read_replies(replies))
        k.send(data)
        try:
            actual = b"".join(k.read_replies(replies))
        except (ConnectionClosed, OSError) as e:
            actual = ("<connection lost: %s>" % e).encode()
        if normalize:
            expected, actual = normalize(expected), normalize(actual)
        with self.subTest(raw=show(data)):
            self.assertEqual(actual, expected, "raw request %s" % show(data))
        return expected

    def check_closes(self, data, timeout=10.0):
        """Sends raw bytes that make redis close the connection (protocol errors): asserts that
        Keyward sends the same bytes before closing, and closes too. Uses fresh connections."""
        r, k = self.new_pair()
        r.send(data)
        try:
            expected = r.wait_closed(timeout)
        except AssertionError:
            self.fail("test error: redis-server itself keeps the connection open after %s"
                      % show(data))
        try:
            k.send(data)
        except OSError:
            pass
        try:
            actual = k.wait_closed(timeout)
        except AssertionError:
            actual = None
        with self.subTest(raw=show(data)):
            self.assertIsNotNone(actual, "Keyward kept the connection open after %s" % show(data))
            self.assertEqual(actual, expected, "raw request %s" % show(data))
        return expected

    def scan_all(self, client, command, options):
        """Iterates a SCAN-style command to completion (cursor values are implementation
        details); returns the sorted list of distinct elements returned."""
        cursor, seen = b"0", set()
        for _ in range(100000):
            reply = decode(client.call(*command, cursor, *options))
            if not isinstance(reply, list) or len(reply) != 2:
                return ("not a cursor reply", reply)
            cursor, batch = reply
            seen.update(batch)
            if cursor == b"0":
                return sorted(seen)
        return ("SCAN did not terminate",)

    def check_scan(self, *options, command=("SCAN",), pair=None):
        """Full SCAN iterations on both servers return the same set of keys."""
        r, k = pair or (self.r, self.k)
        expected = self.scan_all(r, command, options)
        actual = self.scan_all(k, command, options)
        with self.subTest(scan=show(list(command) + list(options))):
            self.assertEqual(actual, expected, "full iteration of %s"
                             % show(list(command) + list(options)))
        return expected

    def check_seq(self, text, pair=None):
        """Checks a sequence of commands given one per line or separated by ';', split on
        whitespace (no quoting): a compact way to write many simple commands."""
        for line in text.replace(";", "\n").strip().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self.check(*line.split(), pair=pair)

    # The collection suites' shorter name for check_seq.
    seq = check_seq

    def set_both(self, name, value):
        """CONFIG SET on both servers, the replies compared."""
        self.check("CONFIG", "SET", name, value)

    def resp3_pair(self):
        """A new pair of connections switched to RESP3 (HELLO's ids and versions not compared)."""
        pair = self.new_pair()
        self.check("HELLO", "3", pair=pair, normalize=first_byte)
        return pair


def main():
    unittest.main(verbosity=2)


if __name__ == "__main__":
    sys.exit("import this module from a test")


# A channel no keyspace notification can use (a NUL in the key part): the marker that ends a
# batch of collected events.
MARKER_CHANNEL = b"__keyspace@0__:\x00marker"


class EventsMixin:
    """Keyspace notifications compared between the servers: subscribe_events() opens a pair of
    subscribed connections (PSUBSCRIBE __key*@*__:*); compare_events() collects what each
    server published since the last call, up to a PUBLISHed marker, and asserts they match."""

    def subscribe_events(self):
        self.sub = self.new_pair()
        self.check("PSUBSCRIBE", "__key*@*__:*", pair=self.sub)
        self.markers = 0

    def collect(self, client, sub):
        marker = b"%d" % self.markers
        client.send(encode_command("PUBLISH", MARKER_CHANNEL, marker))
        client.read_reply()
        events = []
        for _ in range(10000):
            msg = sub.read_reply()
            d = decode(msg)
            if isinstance(d, list) and d[2:] == [MARKER_CHANNEL, marker]:
                return events
            events.append(msg)
        raise AssertionError("no marker after 10000 messages")

    def compare_events(self, label):
        self.markers += 1
        expected = self.collect(self.r, self.sub[0])
        try:
            actual = self.collect(self.k, self.sub[1])
        except (ConnectionClosed, OSError) as e:
            actual = ["<events lost: %s>" % e]
        with self.subTest(events=label):
            self.assertEqual(actual, expected, "%s\nredis: %r\nkeyward: %r" % (
                label, [decode(e) for e in expected],
                [decode(e) if isinstance(e, bytes) else e for e in actual]))
        return expected


def random_seed(ci_seed=20261121):
    """The seed of a random differential sequence: KEYWARD_DIFF_SEED to replay one, `ci_seed`
    under CI (reproducible), else a new one each run (local runs explore)."""
    env_seed = os.environ.get("KEYWARD_DIFF_SEED")
    if env_seed:
        return int(env_seed)
    if os.environ.get("CI"):
        return ci_seed
    return int(time.time() * 1000) % 1000000007


def excluded_generators():
    """KEYWARD_DIFF_EXCLUDE: comma-separated generator names a random sequence leaves out."""
    return {x.strip().lower() for x in os.environ.get("KEYWARD_DIFF_EXCLUDE", "").split(",")}


class BlockingMixin:
    """Blocking tests ordered without sleeping: block() sends a blocking command to both servers
    without reading its reply, then polls INFO clients (blocked_clients) on the control
    connections until each server counts one more blocked client; reply() compares the replies
    when they arrive. Each test starts once the clients an earlier test left blocked (closed
    connections) are gone, so blocked-client counts start at zero."""

    def setUp(self):
        super().setUp()
        for c in (self.r, self.k):
            wait_for(lambda: not self.blocked_count(c), message="earlier blocked clients gone")

    @staticmethod
    def blocked_count(ctl):
        """blocked_clients from INFO clients (None if the server does not report it)."""
        info = decode(ctl.call("INFO", "clients"))
        for line in info.split(b"\r\n"):
            if line.startswith(b"blocked_clients:"):
                return int(line.split(b":")[1])
        return None

    def block(self, pair, *cmd):
        """Sends `cmd` on both clients of `pair` without reading the reply, and returns once each
        server counts one more blocked client (or the client already has a reply)."""
        data = encode_command(*cmd)
        for ctl, c in ((self.r, pair[0]), (self.k, pair[1])):
            before = self.blocked_count(ctl) or 0
            c.send(data)
            wait_for(lambda: (self.blocked_count(ctl) or 0) > before or c.pending(),
                     message="%s to block" % show(cmd))

    def reply(self, pair):
        """Compares the next reply of each client of `pair` (a blocked client's, when served)."""
        return self.check_raw(b"", 1, pair=pair)

    def check_blocked(self):
        with self.subTest(blocked_clients=True):
            self.assertEqual(self.blocked_count(self.k), self.blocked_count(self.r),
                             "number of blocked clients")
