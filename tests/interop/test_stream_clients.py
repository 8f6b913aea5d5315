"""Streams and consumer groups from real client libraries, unchanged: redis-py (Debian's
python3-redis 4.3) and ioredis 5 (node/streams.test.js).

redis-py turns most stream replies into Python structures with parsers of its own (XRANGE and
XREADGROUP into (id, {field: value}) tuples, XPENDING into dicts, XAUTOCLAIM's three parts,
XINFO STREAM / GROUPS / CONSUMERS into dicts keyed by the reply's field names). Those parsers
assume Redis 7.0's exact shapes: a missing field, a pair out of place or a nil where a list
belongs raises inside the library, and a renamed or extra field shows up in the dict. So the
expected values below are whole dicts, as Redis 7.0.15 gives them, not a few fields picked out.
ioredis parses nothing for streams: its test checks the raw nesting a node program would index.

Blocking: a consumer blocked in XREADGROUP ... BLOCK is served by an XADD that another client
sends only once INFO clients reports the consumer blocked (polled, never slept on). Times that
the server measures (idle times, delivery times) are only checked against values the test set
itself (XCLAIM IDLE), never against a clock.

Choosing the server: the environment variable STREAM_SERVER, `keyward` (the default:
$KEYWARD_SERVER, else build-asan/bin/keyward-server) or `redis` (Debian's /usr/bin/redis-server,
which every expectation here was taken from: run it that way to check the test itself).

    cd tests/interop
    PYTHONPATH=../support STREAM_SERVER=redis /usr/bin/python3 -m unittest test_stream_clients -v
    PYTHONPATH=../support KEYWARD_SERVER=../../build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest test_stream_clients -v
"""

import os
import re
import threading
import unittest

from keyward_harness import ServerTestCase, import_redis, wait_for
from test_node_redlock import install_node_modules, run_node_tests

SERVER = os.environ.get("STREAM_SERVER", "keyward")
if SERVER not in ("keyward", "redis"):
    raise ValueError("STREAM_SERVER must be 'keyward' or 'redis', not %r" % SERVER)

HOUR_MS = 3600 * 1000
# Error texts as Redis 7.0.15 sends them; redis-py strips a leading "ERR ", not other codes.
XADD_ID_TOO_SMALL = "The ID specified in XADD is equal or smaller than the target stream top item"
XGROUP_NO_KEY = ("The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                 "want to use the MKSTREAM option to create an empty stream automatically.")
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"


class BlockedCall(threading.Thread):
    """Runs `fn` (a blocking client call) in a thread and keeps its result or its exception."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.fn()
        except Exception as e:  # re-raised in the test's thread by outcome()
            self.error = e

    def outcome(self, timeout=30):
        """The call's result, once it returned (the timeout only bounds a failing test)."""
        self.join(timeout)
        if self.is_alive():
            raise AssertionError("the blocked call did not return")
        if self.error is not None:
            raise self.error
        return self.result


class StreamTestCase(ServerTestCase):
    """Starts the server under test (STREAM_SERVER) for each test."""

    def start_server(self):
        return self.start_redis() if SERVER == "redis" else self.start_keyward()


class RedisPyStreams(StreamTestCase):

    def setUp(self):
        super().setUp()
        self.redis = import_redis()
        self.srv = self.start_server()
        self.r = self.client()

    def client(self):
        c = self.srv.redis_py()
        self.addCleanup(c.close)
        return c

    def blocked_clients(self):
        return int(self.r.info("clients")["blocked_clients"])

    def wait_blocked(self, n):
        wait_for(lambda: self.blocked_clients() == n, message="%d blocked client(s)" % n)

    def fill(self, key, n, seq_base=1):
        """Entries 1-<seq_base> ... with one field f = v<i>."""
        for i in range(seq_base, seq_base + n):
            self.r.xadd(key, {"f": "v%d" % i}, id="1-%d" % i)

    # --- XADD, XRANGE ----------------------------------------------------------------------

    def test_xadd_ids_and_ranges(self):
        r = self.r
        self.assertEqual(r.xadd("s", {"f": "v1"}, id="1-1"), b"1-1")
        # <ms>-*: the next sequence number within that millisecond.
        self.assertEqual(r.xadd("s", {"f": "v2", "g": "w"}, id="1-*"), b"1-2")
        auto = r.xadd("s", {"f": "v3"})
        self.assertRegex(auto, rb"^\d+-\d+$")
        self.assertGreater(int(auto.split(b"-")[0]), 1)
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xadd("s", {"f": "late"}, id="1-2")
        self.assertEqual(str(e.exception), XADD_ID_TOO_SMALL)
        self.assertIsNone(r.xadd("nokey", {"f": "v"}, nomkstream=True))
        self.assertEqual(r.exists("nokey"), 0)
        self.assertEqual(r.type("s"), b"stream")
        self.assertEqual(r.xlen("s"), 3)

        entries = r.xrange("s")
        self.assertEqual(entries[:2],
                         [(b"1-1", {b"f": b"v1"}), (b"1-2", {b"f": b"v2", b"g": b"w"})])
        # Fields keep the order they were added in.
        self.assertEqual(list(entries[1][1]), [b"f", b"g"])
        self.assertEqual(entries[2], (auto, {b"f": b"v3"}))
        self.assertEqual(r.xrange("s", "1-2", "+", count=1), [entries[1]])
        self.assertEqual(r.xrange("s", "(1-1", "1-2"), [entries[1]])
        self.assertEqual(r.xrevrange("s", "+", "-", count=2), [entries[2], entries[1]])
        self.assertEqual(r.xrange("s", "5-0", "4-0"), [])
        self.assertEqual(r.xrange("missing"), [])

        # MAXLEN = 2 (exact) trims the oldest as it appends.
        newest = r.xadd("s", {"f": "v4"}, maxlen=2, approximate=False)
        self.assertEqual([e[0] for e in r.xrange("s")], [auto, newest])

    # --- XGROUP ----------------------------------------------------------------------------

    def test_group_create_mkstream_and_errors(self):
        r = self.r
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xgroup_create("q", "g")
        self.assertEqual(str(e.exception), XGROUP_NO_KEY)
        self.assertTrue(r.xgroup_create("q", "g", id="$", mkstream=True))
        self.assertEqual(r.type("q"), b"stream")
        self.assertEqual(r.xlen("q"), 0)
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xgroup_create("q", "g", id="$")
        self.assertEqual(str(e.exception), BUSYGROUP)
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xreadgroup("nope", "alice", {"q": ">"})
        self.assertEqual(str(e.exception), "NOGROUP No such key 'q' or consumer group 'nope' in "
                                           "XREADGROUP with GROUP option")
        self.assertEqual(r.xinfo_groups("q"), [
            {"name": b"g", "consumers": 0, "pending": 0, "last-delivered-id": b"0-0",
             "entries-read": None, "lag": 0}])
        # Nothing to read yet: nil, which redis-py turns into [].
        self.assertEqual(r.xreadgroup("g", "alice", {"q": ">"}), [])

    def test_group_management(self):
        r = self.r
        self.fill("s", 3)
        r.xgroup_create("s", "g", id="0")
        r.xgroup_create("s", "other", id="$")
        self.assertEqual(r.xgroup_createconsumer("s", "g", "dave"), 1)
        self.assertEqual(r.xgroup_createconsumer("s", "g", "dave"), 0)
        r.xreadgroup("g", "bob", {"s": ">"}, count=2)
        self.assertEqual([c["name"] for c in r.xinfo_consumers("s", "g")], [b"bob", b"dave"])
        # DELCONSUMER answers how many pending entries the consumer had (now dropped).
        self.assertEqual(r.xgroup_delconsumer("s", "g", "bob"), 2)
        self.assertEqual(r.xpending("s", "g")["pending"], 0)
        self.assertTrue(r.xgroup_setid("s", "g", "1-1"))
        self.assertEqual(r.xreadgroup("g", "dave", {"s": ">"}),
                         [[b"s", [(b"1-2", {b"f": b"v2"}), (b"1-3", {b"f": b"v3"})]]])
        self.assertTrue(r.xgroup_destroy("s", "other"))
        self.assertFalse(r.xgroup_destroy("s", "other"))
        self.assertEqual([g["name"] for g in r.xinfo_groups("s")], [b"g"])

    # --- XREADGROUP ------------------------------------------------------------------------

    def test_xreadgroup_new_entries_and_history(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        self.assertEqual(r.xreadgroup("g", "alice", {"s": ">"}, count=2),
                         [[b"s", [(b"1-1", {b"f": b"v1"}), (b"1-2", {b"f": b"v2"})]]])
        self.assertEqual(r.xreadgroup("g", "bob", {"s": ">"}),
                         [[b"s", [(b"1-3", {b"f": b"v3"}), (b"1-4", {b"f": b"v4"}),
                                  (b"1-5", {b"f": b"v5"})]]])
        self.assertEqual(r.xreadgroup("g", "alice", {"s": ">"}), [])
        # "0": the consumer's own pending entries, whatever others hold.
        self.assertEqual(r.xreadgroup("g", "alice", {"s": "0"}),
                         [[b"s", [(b"1-1", {b"f": b"v1"}), (b"1-2", {b"f": b"v2"})]]])
        self.assertEqual(r.xreadgroup("g", "alice", {"s": "1-1"}),
                         [[b"s", [(b"1-2", {b"f": b"v2"})]]])
        self.assertEqual(r.xack("s", "g", "1-1", "1-2"), 2)
        # An empty history is an empty list under the key, not nil; BLOCK does not wait for it.
        self.assertEqual(r.xreadgroup("g", "alice", {"s": "0"}), [[b"s", []]])
        self.assertEqual(r.xreadgroup("g", "alice", {"s": "0"}, block=0), [[b"s", []]])
        # NOACK: delivered, never pending.
        r.xadd("s", {"f": "v6"}, id="1-6")
        self.assertEqual(r.xreadgroup("g", "carol", {"s": ">"}, noack=True),
                         [[b"s", [(b"1-6", {b"f": b"v6"})]]])
        self.assertEqual(r.xreadgroup("g", "carol", {"s": "0"}), [[b"s", []]])
        self.assertEqual(r.xpending("s", "g")["pending"], 3)

    def test_blocked_xreadgroup_is_served_by_a_later_xadd(self):
        r = self.r
        r.xgroup_create("s", "g", id="$", mkstream=True)
        consumer = self.client()
        call = BlockedCall(lambda: consumer.xreadgroup("g", "alice", {"s": ">"}, count=10,
                                                       block=0))
        call.start()
        self.wait_blocked(1)
        producer = self.client()
        self.assertEqual(producer.xadd("s", {"job": "1"}, id="7-1"), b"7-1")
        self.assertEqual(call.outcome(), [[b"s", [(b"7-1", {b"job": b"1"})]]])
        self.assertEqual(self.blocked_clients(), 0)
        # The entry is now pending for the consumer that was blocked.
        self.assertEqual(r.xpending("s", "g"), {
            "pending": 1, "min": b"7-1", "max": b"7-1",
            "consumers": [{"name": b"alice", "pending": 1}]})

    def test_blocked_consumers_are_served_in_the_order_they_blocked(self):
        r = self.r
        r.xgroup_create("s", "g", id="$", mkstream=True)
        calls = []
        for name in ("first", "second"):
            consumer = self.client()
            call = BlockedCall(lambda c=consumer, n=name: c.xreadgroup("g", n, {"s": ">"},
                                                                       block=0))
            call.start()
            calls.append(call)
            self.wait_blocked(len(calls))
        r.xadd("s", {"n": "1"}, id="7-1")
        self.assertEqual(calls[0].outcome(), [[b"s", [(b"7-1", {b"n": b"1"})]]])
        # The group had one new entry: the second consumer found nothing and still waits.
        self.assertEqual(self.blocked_clients(), 1)
        r.xadd("s", {"n": "2"}, id="7-2")
        self.assertEqual(calls[1].outcome(), [[b"s", [(b"7-2", {b"n": b"2"})]]])
        self.assertEqual(self.blocked_clients(), 0)

    def test_block_timeout_returns_nil(self):
        self.r.xgroup_create("s", "g", id="$", mkstream=True)
        self.assertEqual(self.r.xreadgroup("g", "alice", {"s": ">"}, block=1), [])
        self.assertEqual(self.blocked_clients(), 0)

    # --- XACK, XPENDING --------------------------------------------------------------------

    def test_xack_and_xpending(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "alice", {"s": ">"}, count=3)
        r.xreadgroup("g", "bob", {"s": ">"}, count=2)
        self.assertEqual(r.xpending("s", "g"), {
            "pending": 5, "min": b"1-1", "max": b"1-5",
            "consumers": [{"name": b"alice", "pending": 3}, {"name": b"bob", "pending": 2}]})
        detail = r.xpending_range("s", "g", "-", "+", 10)
        self.assertEqual([(d["message_id"], d["consumer"], d["times_delivered"]) for d in detail],
                         [(b"1-1", b"alice", 1), (b"1-2", b"alice", 1), (b"1-3", b"alice", 1),
                          (b"1-4", b"bob", 1), (b"1-5", b"bob", 1)])
        for d in detail:
            self.assertIsInstance(d["time_since_delivered"], int)
            self.assertGreaterEqual(d["time_since_delivered"], 0)
        self.assertEqual([d["message_id"] for d in
                          r.xpending_range("s", "g", "(1-1", "1-4", 2)], [b"1-2", b"1-3"])
        self.assertEqual([d["message_id"] for d in
                          r.xpending_range("s", "g", "-", "+", 10, consumername="bob")],
                         [b"1-4", b"1-5"])
        # Just delivered: nothing has been idle for an hour.
        self.assertEqual(r.xpending_range("s", "g", "-", "+", 10, idle=HOUR_MS), [])

        self.assertEqual(r.xack("s", "g", "1-1", "1-4", "9-9"), 2)
        self.assertEqual(r.xack("s", "g", "1-1"), 0)
        self.assertEqual(r.xack("s", "nogroup", "1-2"), 0)
        self.assertEqual(r.xpending("s", "g"), {
            "pending": 3, "min": b"1-2", "max": b"1-5",
            "consumers": [{"name": b"alice", "pending": 2}, {"name": b"bob", "pending": 1}]})
        r.xack("s", "g", "1-2", "1-3", "1-5")
        # An empty PEL: the summary's min, max and consumers are nil.
        self.assertEqual(r.xpending("s", "g"),
                         {"pending": 0, "min": None, "max": None, "consumers": []})
        self.assertEqual(r.xpending_range("s", "g", "-", "+", 10), [])

    # --- XCLAIM, XAUTOCLAIM ----------------------------------------------------------------

    def delivery(self, key, group, entry_id):
        found = [d for d in self.r.xpending_range(key, group, entry_id, entry_id, 1)]
        return (found[0]["consumer"], found[0]["times_delivered"]) if found else None

    def test_xclaim(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "alice", {"s": ">"}, count=4)
        # Nothing has been idle for an hour: nothing claimed.
        self.assertEqual(r.xclaim("s", "g", "bob", HOUR_MS, ["1-1", "1-2"]), [])
        self.assertEqual(self.delivery("s", "g", "1-1"), (b"alice", 1))
        # Claimed: the entry comes back, its owner changes and its delivery count grows.
        self.assertEqual(r.xclaim("s", "g", "bob", 0, ["1-1"]), [(b"1-1", {b"f": b"v1"})])
        self.assertEqual(self.delivery("s", "g", "1-1"), (b"bob", 2))
        # JUSTID: IDs only, and the delivery count stays.
        self.assertEqual(r.xclaim("s", "g", "bob", 0, ["1-2"], justid=True), [b"1-2"])
        self.assertEqual(self.delivery("s", "g", "1-2"), (b"bob", 1))
        # IDLE and RETRYCOUNT set what XPENDING reports.
        r.xclaim("s", "g", "carol", 0, ["1-3"], idle=HOUR_MS, retrycount=5, justid=True)
        (d,) = r.xpending_range("s", "g", "1-3", "1-3", 1)
        self.assertEqual((d["consumer"], d["times_delivered"]), (b"carol", 5))
        self.assertGreaterEqual(d["time_since_delivered"], HOUR_MS)
        self.assertLess(d["time_since_delivered"], 2 * HOUR_MS)
        self.assertEqual([d["message_id"] for d in
                          r.xpending_range("s", "g", "-", "+", 10, idle=HOUR_MS)], [b"1-3"])
        # An ID nobody was delivered is claimed only with FORCE.
        self.assertEqual(r.xclaim("s", "g", "bob", 0, ["1-5"]), [])
        self.assertIsNone(self.delivery("s", "g", "1-5"))
        self.assertEqual(r.xclaim("s", "g", "bob", 0, ["1-5"], force=True),
                         [(b"1-5", {b"f": b"v5"})])
        self.assertEqual(self.delivery("s", "g", "1-5")[0], b"bob")
        # A pending entry deleted from the stream is dropped from the PEL, not returned.
        r.xdel("s", "1-4")
        self.assertEqual(r.xclaim("s", "g", "bob", 0, ["1-4", "1-1"]), [(b"1-1", {b"f": b"v1"})])
        self.assertIsNone(self.delivery("s", "g", "1-4"))
        self.assertEqual([(c["name"], c["pending"]) for c in r.xinfo_consumers("s", "g")],
                         [(b"alice", 0), (b"bob", 3), (b"carol", 1)])

    def test_xautoclaim(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "alice", {"s": ">"})
        # [next cursor, entries, IDs deleted from the stream]; COUNT pages through the PEL.
        self.assertEqual(r.xautoclaim("s", "g", "bob", 0, "0-0", count=2),
                         [b"1-3", [(b"1-1", {b"f": b"v1"}), (b"1-2", {b"f": b"v2"})], []])
        self.assertEqual(self.delivery("s", "g", "1-1"), (b"bob", 2))
        r.xdel("s", "1-4")
        self.assertEqual(r.xautoclaim("s", "g", "bob", 0, "1-3"),
                         [b"0-0", [(b"1-3", {b"f": b"v3"}), (b"1-5", {b"f": b"v5"})], [b"1-4"]])
        self.assertIsNone(self.delivery("s", "g", "1-4"))
        # JUSTID: redis-py returns the claimed IDs alone; the delivery count stays.
        self.assertEqual(r.xautoclaim("s", "g", "carol", 0, "0-0", justid=True),
                         [b"1-1", b"1-2", b"1-3", b"1-5"])
        self.assertEqual(self.delivery("s", "g", "1-5"), (b"carol", 2))
        # Only entries idle for at least min-idle-time: one made so with XCLAIM IDLE.
        r.xclaim("s", "g", "carol", 0, ["1-2"], idle=HOUR_MS, justid=True)
        self.assertEqual(r.xautoclaim("s", "g", "dave", HOUR_MS, "0-0"),
                         [b"0-0", [(b"1-2", {b"f": b"v2"})], []])
        self.assertEqual(self.delivery("s", "g", "1-2"), (b"dave", 3))

    # --- XINFO -----------------------------------------------------------------------------

    def test_xinfo_stream(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        r.xdel("s", "1-5")
        info = r.xinfo_stream("s")
        # The radix tree's shape is the server's own business: integers, not values.
        for field in ("radix-tree-keys", "radix-tree-nodes"):
            self.assertIsInstance(info.pop(field), int, field)
        self.assertEqual(info, {
            "length": 4, "last-generated-id": b"1-5", "max-deleted-entry-id": b"1-5",
            "entries-added": 5, "recorded-first-entry-id": b"1-1", "groups": 1,
            "first-entry": (b"1-1", {b"f": b"v1"}), "last-entry": (b"1-4", {b"f": b"v4"})})

        r.xtrim("s", maxlen=0, approximate=False)
        info = r.xinfo_stream("s")
        for field in ("radix-tree-keys", "radix-tree-nodes"):
            self.assertIsInstance(info.pop(field), int, field)
        self.assertEqual(info, {
            "length": 0, "last-generated-id": b"1-5", "max-deleted-entry-id": b"1-5",
            "entries-added": 5, "recorded-first-entry-id": b"0-0", "groups": 1,
            "first-entry": None, "last-entry": None})
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xinfo_stream("missing")
        self.assertEqual(str(e.exception), "no such key")

    def test_xinfo_stream_full(self):
        r = self.r
        self.fill("s", 3)
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "alice", {"s": ">"}, count=2)
        info = r.xinfo_stream("s", full=True)
        for field in ("radix-tree-keys", "radix-tree-nodes"):
            self.assertIsInstance(info.pop(field), int, field)
        (group,) = info.pop("groups")
        self.assertEqual(info, {
            "length": 3, "last-generated-id": b"1-3", "max-deleted-entry-id": b"0-0",
            "entries-added": 3, "recorded-first-entry-id": b"1-1",
            "entries": {b"1-1": {b"f": b"v1"}, b"1-2": {b"f": b"v2"}, b"1-3": {b"f": b"v3"}}})
        # redis-py parses the group into a dict; its PEL and consumers stay nested lists.
        pending, consumers = group.pop("pending"), group.pop("consumers")
        self.assertEqual(group, {"name": b"g", "last-delivered-id": b"1-2", "entries-read": 2,
                                 "lag": 1, "pel-count": 2})
        self.assertEqual([(p[0], p[1], p[3]) for p in pending],
                         [(b"1-1", b"alice", 1), (b"1-2", b"alice", 1)])
        for p in pending:
            self.assertEqual(len(p), 4)
            self.assertIsInstance(p[2], int)  # delivery time, ms since the epoch
        (consumer,) = consumers
        fields = dict(zip(consumer[0::2], consumer[1::2]))
        self.assertEqual(consumer[0::2], [b"name", b"seen-time", b"pel-count", b"pending"])
        self.assertEqual(fields[b"name"], b"alice")
        self.assertIsInstance(fields[b"seen-time"], int)
        self.assertEqual(fields[b"pel-count"], 2)
        self.assertEqual([(p[0], p[2]) for p in fields[b"pending"]], [(b"1-1", 1), (b"1-2", 1)])
        self.assertEqual([p[1] for p in fields[b"pending"]], [p[2] for p in pending])
        # COUNT limits the entries and each PEL.
        limited = r.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
        limited = dict(zip(limited[0::2], limited[1::2]))
        self.assertEqual([e[0] for e in limited[b"entries"]], [b"1-1"])

    def test_xinfo_groups_and_consumers(self):
        r = self.r
        self.fill("s", 5)
        r.xgroup_create("s", "g", id="0")
        r.xgroup_create("s", "tail", id="$")
        r.xreadgroup("g", "alice", {"s": ">"}, count=2)
        r.xreadgroup("g", "bob", {"s": ">"}, count=1)
        self.assertEqual(r.xinfo_groups("s"), [
            {"name": b"g", "consumers": 2, "pending": 3, "last-delivered-id": b"1-3",
             "entries-read": 3, "lag": 2},
            {"name": b"tail", "consumers": 0, "pending": 0, "last-delivered-id": b"1-5",
             "entries-read": None, "lag": 0}])
        consumers = r.xinfo_consumers("s", "g")
        self.assertEqual([sorted(c) for c in consumers], [["idle", "name", "pending"]] * 2)
        self.assertEqual([(c["name"], c["pending"]) for c in consumers],
                         [(b"alice", 2), (b"bob", 1)])
        for c in consumers:
            self.assertIsInstance(c["idle"], int)
            self.assertGreaterEqual(c["idle"], 0)
        self.assertEqual(r.xinfo_consumers("s", "tail"), [])
        # A deletion between the group's position and the end makes the lag unknown: nil.
        r.xdel("s", "1-4")
        self.assertIsNone(r.xinfo_groups("s")[0]["lag"])
        # Read past the deletion, the lag is entries-added - entries-read again. Redis 7.0.15
        # counts read entries one by one as it delivers them, so the deleted 1-4 is never
        # counted: entries-read 4 and lag 1, not 5 and 0, with nothing left to read.
        self.assertEqual(r.xreadgroup("g", "alice", {"s": ">"}),
                         [[b"s", [(b"1-5", {b"f": b"v5"})]]])
        self.assertEqual(r.xinfo_groups("s")[0], {
            "name": b"g", "consumers": 2, "pending": 4, "last-delivered-id": b"1-5",
            "entries-read": 4, "lag": 1})
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xinfo_consumers("s", "nope")
        self.assertEqual(str(e.exception), "NOGROUP No such consumer group 'nope' for key name 's'")

    # --- XTRIM, XDEL -----------------------------------------------------------------------

    def test_xtrim(self):
        r = self.r
        self.fill("s", 10)
        self.assertEqual(r.xtrim("s", maxlen=7, approximate=False), 3)
        self.assertEqual(r.xrange("s", count=1)[0][0], b"1-4")
        self.assertEqual(r.xtrim("s", minid="1-6", approximate=False), 2)
        self.assertEqual(r.xrange("s", count=1)[0][0], b"1-6")
        self.assertEqual(r.xtrim("s", maxlen=10, approximate=False), 0)
        # "~": whole nodes only, so at most the exact count, and never below the threshold.
        removed = r.xtrim("s", maxlen=2)
        self.assertGreaterEqual(removed, 0)
        self.assertLessEqual(removed, 3)
        self.assertEqual(r.xlen("s"), 5 - removed)
        # LIMIT caps what one call removes (only with "~"); 0 means no cap.
        self.assertEqual(r.xtrim("s", maxlen=0, limit=0) + r.xlen("s"), 5 - removed)
        self.assertEqual(r.xlen("s"), 0)
        self.assertEqual(r.xinfo_stream("s")["last-generated-id"], b"1-10")
        with self.assertRaises(self.redis.ResponseError) as e:
            r.xtrim("s", maxlen=1, approximate=False, limit=10)
        self.assertEqual(str(e.exception), "syntax error, LIMIT cannot be used without the "
                                           "special ~ option")
        self.assertEqual(r.xtrim("missing", maxlen=0, approximate=False), 0)

    def test_xdel(self):
        r = self.r
        self.fill("s", 4)
        r.xgroup_create("s", "g", id="0")
        r.xreadgroup("g", "alice", {"s": ">"}, count=2)
        self.assertEqual(r.xdel("s", "1-1", "1-3", "9-9"), 2)
        self.assertEqual(r.xdel("s", "1-1"), 0)
        self.assertEqual(r.xlen("s"), 2)
        self.assertEqual(r.xrange("s"), [(b"1-2", {b"f": b"v2"}), (b"1-4", {b"f": b"v4"})])
        # A pending entry deleted from the stream stays pending: the history gives its ID with a
        # nil instead of the fields, which redis-py turns into {}.
        self.assertEqual(r.xreadgroup("g", "alice", {"s": "0"}),
                         [[b"s", [(b"1-1", {}), (b"1-2", {b"f": b"v2"})]]])
        self.assertEqual(r.xpending("s", "g")["pending"], 2)
        self.assertEqual(r.xinfo_stream("s")["max-deleted-entry-id"], b"1-3")
        # The group never sees the deleted 1-3.
        self.assertEqual(r.xreadgroup("g", "bob", {"s": ">"}), [[b"s", [(b"1-4", {b"f": b"v4"})]]])
        self.assertEqual(r.xdel("missing", "1-1"), 0)


class IoredisStreams(StreamTestCase):

    @classmethod
    def setUpClass(cls):
        install_node_modules()

    def test_ioredis_streams(self):
        counts = run_node_tests(self, [self.start_server()], "streams.test.js")
        self.assertEqual(counts["pass"], 7)


if __name__ == "__main__":
    unittest.main()
