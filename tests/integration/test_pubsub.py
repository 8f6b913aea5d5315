"""Pub/sub against the real keyward-server: redis-py's PubSub (Debian's python3-redis) as an
application uses it, fan-out to many subscribers, and client-output-buffer-limit closing the
clients that do not read (pubsub hard and soft limits, the normal class)."""

import threading
import unittest

from keyward_harness import (RawClient, ServerTestCase, SharedKeywardTestCase, decode,
                             encode_command, import_redis, wait_for)

redis = import_redis()


def client_ids(conn):
    """The ids of every connection the server lists."""
    text = decode(conn.call("CLIENT", "LIST"))
    return {int(dict(f.split(b"=", 1) for f in line.split(b" "))[b"id"])
            for line in text.split(b"\n") if line.strip()}


def client_field(conn, cid, name):
    """One field of one client's CLIENT LIST line, or None when it is gone."""
    text = decode(conn.call("CLIENT", "LIST", "ID", cid))
    for line in text.split(b"\n"):
        if line.strip():
            return dict(f.split(b"=", 1) for f in line.split(b" "))[name]
    return None


def slow_reader(srv):
    """A raw connection with a tiny receive buffer, so that what it does not read piles up in
    the server's output buffer rather than in the kernel."""
    return RawClient(srv.host, srv.port, rcvbuf=4096)


class RedisPyPubSub(SharedKeywardTestCase):
    def setUp(self):
        self.r = self.srv.redis_py()
        self.addCleanup(self.r.close)
        self.r.flushall()

    def pubsub(self, **kwargs):
        p = self.r.pubsub(**kwargs)
        self.addCleanup(p.close)
        return p

    @staticmethod
    def next_message(p):
        return wait_for(lambda: p.get_message(timeout=0.05), message="a pub/sub message")

    def test_subscribe_get_message(self):
        p = self.pubsub()
        p.subscribe("news", "sport")
        self.assertEqual(self.next_message(p),
                         {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1})
        self.assertEqual(self.next_message(p),
                         {"type": "subscribe", "pattern": None, "channel": b"sport", "data": 2})
        p.psubscribe("n*")
        self.assertEqual(self.next_message(p),
                         {"type": "psubscribe", "pattern": None, "channel": b"n*", "data": 3})
        self.assertEqual(self.r.publish("news", "hello"), 2)
        self.assertEqual(self.next_message(p),
                         {"type": "message", "pattern": None, "channel": b"news",
                          "data": b"hello"})
        self.assertEqual(self.next_message(p),
                         {"type": "pmessage", "pattern": b"n*", "channel": b"news",
                          "data": b"hello"})
        self.assertEqual(self.r.publish("sport", b"\x00bin"), 1)
        self.assertEqual(self.next_message(p)["data"], b"\x00bin")
        self.assertEqual(sorted(self.r.pubsub_channels()), [b"news", b"sport"])
        self.assertEqual(self.r.pubsub_numsub("news", "none"), [(b"news", 1), (b"none", 0)])
        self.assertEqual(self.r.pubsub_numpat(), 1)
        p.unsubscribe("news")
        self.assertEqual(self.next_message(p),
                         {"type": "unsubscribe", "pattern": None, "channel": b"news", "data": 2})
        p.punsubscribe()
        self.assertEqual(self.next_message(p),
                         {"type": "punsubscribe", "pattern": None, "channel": b"n*", "data": 1})
        self.assertEqual(self.r.publish("news", "nobody"), 0)
        self.assertEqual(self.r.pubsub_numpat(), 0)
        self.assertIsNone(p.get_message(timeout=0.05))

    def test_ignore_subscribe_messages_and_listen(self):
        p = self.pubsub(ignore_subscribe_messages=True)
        p.subscribe("events")
        # The confirmation is consumed (and dropped) by get_message.
        wait_for(lambda: self.r.pubsub_numsub("events") == [(b"events", 1)])
        for i in range(5):
            self.assertEqual(self.r.publish("events", "e%d" % i), 1)
        got = []
        for msg in p.listen():
            if msg is None or msg["type"] != "message":
                continue
            got.append(msg["data"])
            if len(got) == 5:
                break
        self.assertEqual(got, [b"e%d" % i for i in range(5)])

    def test_run_in_thread_handlers(self):
        received = []
        patterns = []
        lock = threading.Lock()

        def on_message(msg):
            with lock:
                received.append(msg["data"])

        def on_pattern(msg):
            with lock:
                patterns.append((msg["channel"], msg["data"]))

        p = self.pubsub(ignore_subscribe_messages=True)
        p.subscribe(**{"orders": on_message})
        p.psubscribe(**{"orders.*": on_pattern})
        thread = p.run_in_thread(sleep_time=0.01, daemon=True)
        self.addCleanup(thread.join, 10)
        self.addCleanup(thread.stop)
        wait_for(lambda: self.r.pubsub_numsub("orders") == [(b"orders", 1)]
                 and self.r.pubsub_numpat() == 1, message="the subscriptions")
        for i in range(20):
            self.r.publish("orders", "o%d" % i)
            self.r.publish("orders.eu", "eu%d" % i)

        def done():
            with lock:
                return len(received) == 20 and len(patterns) == 20

        wait_for(done, message="the handlers to see every message")
        self.assertEqual(received, [b"o%d" % i for i in range(20)])
        self.assertEqual(patterns, [(b"orders.eu", b"eu%d" % i) for i in range(20)])

    def test_keyspace_notifications(self):
        self.r.config_set("notify-keyspace-events", "KEA")
        self.addCleanup(self.r.config_set, "notify-keyspace-events", "")
        p = self.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyspace@0__:*")
        wait_for(lambda: self.r.pubsub_numpat() == 1)
        self.r.set("user:1", "x", ex=100)
        self.r.delete("user:1")
        events = [self.next_message(p) for _ in range(3)]
        self.assertEqual([(m["channel"], m["data"]) for m in events],
                         [(b"__keyspace@0__:user:1", b"set"),
                          (b"__keyspace@0__:user:1", b"expire"),
                          (b"__keyspace@0__:user:1", b"del")])


class FanOut(SharedKeywardTestCase):
    def test_200_subscribers_every_message_in_order(self):
        subscribers = []
        for _ in range(200):
            c = self.srv.client()
            self.addCleanup(c.close)
            c.send(encode_command("SUBSCRIBE", "fan"))
            subscribers.append(c)
        for c in subscribers:
            self.assertEqual(c.read_reply(), b"*3\r\n$9\r\nsubscribe\r\n$3\r\nfan\r\n:1\r\n")
        publishers = [self.srv.client() for _ in range(4)]
        for p in publishers:
            self.addCleanup(p.close)
        per_publisher = 50
        counts = {}
        errors = []

        def publish(idx, conn):
            try:
                replies = []
                for seq in range(per_publisher):
                    replies.append(conn.call("PUBLISH", "fan", "p%d:%d" % (idx, seq)))
                counts[idx] = replies
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=publish, args=(i, p)) for i, p in enumerate(publishers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        for idx in range(len(publishers)):
            self.assertEqual(counts[idx], [b":200\r\n"] * per_publisher)
        total = per_publisher * len(publishers)
        for n, c in enumerate(subscribers):
            seen = {i: [] for i in range(len(publishers))}
            for _ in range(total):
                kind, channel, data = decode(c.read_reply())
                self.assertEqual((kind, channel), (b"message", b"fan"))
                pub, seq = data.decode().split(":")
                seen[int(pub[1:])].append(int(seq))
            # Every message, each publisher's in the order it published them.
            for idx in seen:
                self.assertEqual(seen[idx], list(range(per_publisher)),
                                 "subscriber %d, publisher %d" % (n, idx))
            self.assertFalse(c.pending(), "subscriber %d got more than was published" % n)
        self.assertEqual(publishers[0].call("PUBSUB", "NUMSUB", "fan"),
                         b"*2\r\n$3\r\nfan\r\n:200\r\n")


class OutputBufferLimits(ServerTestCase):
    """A fresh server per test: these tests leave clients behind on purpose."""

    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)

    def subscribe_slow(self, channel):
        slow = slow_reader(self.srv)
        self.addCleanup(slow.close)
        slow_id = decode(slow.call("CLIENT", "ID"))
        self.assertEqual(decode(slow.call("SUBSCRIBE", channel)),
                         [b"subscribe", channel.encode(), 1])
        return slow, slow_id

    def test_pubsub_hard_limit_closes_only_the_slow_subscriber(self):
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                         "pubsub 1mb 512kb 60"), b"+OK\r\n")
        slow, slow_id = self.subscribe_slow("feed")
        reader = self.raw_client(self.srv)
        self.assertEqual(reader.call("SUBSCRIBE", "feed"),
                         b"*3\r\n$9\r\nsubscribe\r\n$4\r\nfeed\r\n:1\r\n")
        normal = self.raw_client(self.srv)
        payload = b"x" * (64 * 1024)
        published = []

        def publish_one():
            seq = len(published)
            reply = self.admin.call("PUBLISH", "feed", b"%08d" % seq + payload)
            published.append(reply)
            # The reading subscriber gets it at once, complete and in order.
            kind, channel, data = decode(reader.read_reply())
            self.assertEqual((kind, channel, data[:8], len(data)),
                             (b"message", b"feed", b"%08d" % seq, 8 + len(payload)))
            self.assertEqual(normal.call("PING"), b"+PONG\r\n")
            return slow_id not in client_ids(self.admin)

        wait_for(publish_one, timeout=120, interval=0,
                 message="the slow subscriber to be disconnected")
        # Until then every PUBLISH reached both subscribers, afterwards only the reader.
        self.assertEqual(published[0], b":2\r\n")
        self.assertEqual(self.admin.call("PUBSUB", "NUMSUB", "feed"),
                         b"*2\r\n$4\r\nfeed\r\n:1\r\n")
        self.assertEqual(self.admin.call("PUBLISH", "feed", "after"), b":1\r\n")
        self.assertEqual(decode(reader.read_reply()), [b"message", b"feed", b"after"])
        # The slow client sees what had been sent, then the end of the connection.
        slow.wait_closed(30)
        self.assertEqual(self.admin.call("PING"), b"+PONG\r\n")
        self.assertTrue(self.srv.alive())

    def test_pubsub_soft_limit_waits_for_its_seconds(self):
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                         "pubsub 0 256kb 1"), b"+OK\r\n")
        slow, slow_id = self.subscribe_slow("feed")
        payload = b"y" * (64 * 1024)

        def over_soft_limit():
            self.assertEqual(self.admin.call("PUBLISH", "feed", payload), b":1\r\n")
            omem = client_field(self.admin, slow_id, b"omem")
            # Still listed right after the publish that took it over the soft limit: a soft
            # limit is not a hard one.
            self.assertIsNotNone(omem, "disconnected as soon as the soft limit was exceeded")
            return int(omem) > 256 * 1024

        wait_for(over_soft_limit, timeout=60, interval=0, message="the soft limit to be exceeded")

        # Only output added afterwards makes the server look again; a small message each time.
        def gone():
            self.admin.call("PUBLISH", "feed", "tick")
            return client_field(self.admin, slow_id, b"omem") is None

        wait_for(gone, timeout=30, interval=0.05,
                 message="the client over its soft limit for > 1 s to be disconnected")
        slow.wait_closed(30)
        self.assertEqual(self.admin.call("PUBSUB", "NUMSUB", "feed"),
                         b"*2\r\n$4\r\nfeed\r\n:0\r\n")

    def test_soft_limit_forgiven_when_drained(self):
        # Under the soft limit again before its seconds are up: the client stays.
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                         "pubsub 0 256kb 1"), b"+OK\r\n")
        slow, slow_id = self.subscribe_slow("feed")
        payload = b"z" * (64 * 1024)
        sent = []

        def over():
            self.admin.call("PUBLISH", "feed", payload)
            sent.append(1)
            return int(client_field(self.admin, slow_id, b"omem")) > 256 * 1024

        wait_for(over, timeout=60, interval=0)
        # Drain everything it was sent, then let more than a second pass with output flowing.
        for _ in range(len(sent)):
            kind, _, data = decode(slow.read_reply())
            self.assertEqual((kind, len(data)), (b"message", len(payload)))
        wait_for(lambda: client_field(self.admin, slow_id, b"omem") == b"0")
        start = self.admin.call("TIME")

        def a_second_later():
            self.admin.call("PUBLISH", "feed", "tick")
            self.assertEqual(decode(slow.read_reply())[2], b"tick")
            now = decode(self.admin.call("TIME"))
            then = decode(start)
            return (int(now[0]) - int(then[0])) * 1000000 + int(now[1]) - int(then[1]) > 1500000

        wait_for(a_second_later, timeout=30, interval=0.05)
        self.assertEqual(client_field(self.admin, slow_id, b"sub"), b"1")

    def test_normal_class_limit(self):
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                         "normal 1mb 0 0"), b"+OK\r\n")
        self.assertEqual(self.admin.call("SET", "big", b"v" * (256 * 1024)), b"+OK\r\n")
        greedy = slow_reader(self.srv)
        self.addCleanup(greedy.close)
        greedy_id = decode(greedy.call("CLIENT", "ID"))
        errors = []

        def pipeline():
            # Many GETs of a big value, never reading a reply; the server closes the connection
            # under us at some point.
            try:
                greedy.sock.sendall(encode_command("GET", "big") * 2000)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=pipeline, daemon=True)
        t.start()
        self.addCleanup(t.join, 30)
        wait_for(lambda: greedy_id not in client_ids(self.admin), timeout=60,
                 message="the client over the normal limit to be disconnected")
        # Other normal clients, reading their replies, are unaffected.
        self.assertEqual(len(decode(self.admin.call("GET", "big"))), 256 * 1024)
        self.assertEqual(self.admin.call("PING"), b"+PONG\r\n")

    def test_limit_does_not_apply_to_other_classes(self):
        # A pubsub limit does not touch normal clients, and the normal (default: none) limit
        # does not touch subscribers.
        self.assertEqual(self.admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                         "pubsub 1mb 0 0 normal 0 0 0"), b"+OK\r\n")
        self.assertEqual(self.admin.call("SET", "big", b"v" * (256 * 1024)), b"+OK\r\n")
        greedy = slow_reader(self.srv)
        self.addCleanup(greedy.close)
        greedy_id = decode(greedy.call("CLIENT", "ID"))
        greedy.send(encode_command("GET", "big") * 40)  # ~10 MB of replies, none read yet

        wait_for(lambda: int(client_field(self.admin, greedy_id, b"omem")) > 2 * 1024 * 1024,
                 timeout=60, message="replies to pile up")
        for _ in range(40):
            self.assertEqual(len(decode(greedy.read_reply())), 256 * 1024)


if __name__ == "__main__":
    unittest.main(verbosity=2)
