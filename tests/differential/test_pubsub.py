"""Differential tests of pub/sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBEs,
PUBLISH / SPUBLISH delivery, PUBSUB, RESP2 subscribed mode and RESP3 pushes, glob patterns, the
pub/sub part of INFO and CLIENT LIST, and CONFIG of notify-keyspace-events and
client-output-buffer-limit. Every reply and every delivered message is compared byte for byte.

Several connections per server take part: `self.r` / `self.k` publish, and subscriber pairs come
from `subscriber()`. Replies whose order depends on Redis's hash tables (PUBSUB CHANNELS, the
confirmations of an UNSUBSCRIBE of everything) are normalised before comparing.
"""

import unittest

from diff_support import DiffCase, mask_hello_id
from keyward_harness import (ConnectionClosed, _scan_reply, decode, encode_command,
                             split_aggregate, wait_for)

DEFAULT_OBUF = b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


def confirmations_unordered(raw):
    """Normalises the confirmations of an UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE of
    everything: Redis walks the client's hash table, so the names come in an unspecified order,
    but the kinds and the decreasing counts come in a fixed one."""
    headers, kinds, names, counts = [], [], [], []
    pos = 0
    while pos < len(raw):
        end = _scan_reply(raw, pos)
        header, elems = split_aggregate(raw[pos:end])
        headers.append(header)
        if len(elems) == 3:
            kinds.append(elems[0])
            names.append(elems[1])
            counts.append(elems[2])
        else:
            kinds.append(raw[pos:end])
        pos = end
    return (tuple(headers), tuple(kinds), tuple(sorted(names)), tuple(counts))


def info_field(raw, name):
    for line in decode(raw).split(b"\r\n"):
        if line.startswith(name + b":"):
            return line.split(b":", 1)[1]
    return None


class PubSubCase(DiffCase):
    """DiffCase plus helpers for several connections per server."""

    def setUp(self):
        super().setUp()
        # Subscribers of the previous test were closed by its cleanup; the servers notice the
        # close a little later. The counts below are global, so start from none.
        for client in (self.r, self.k):
            wait_for(lambda: self._pubsub_idle(client), message="pub/sub state of earlier "
                     "tests to be gone")

    @staticmethod
    def _pubsub_idle(client):
        return (client.call("PUBSUB", "CHANNELS") == b"*0\r\n"
                and client.call("PUBSUB", "SHARDCHANNELS") == b"*0\r\n"
                and client.call("PUBSUB", "NUMPAT") == b":0\r\n")

    def subscriber(self, resp=2):
        """A fresh pair of connections, switched to RESP3 if asked."""
        pair = self.new_pair()
        if resp == 3:
            self.check("HELLO", "3", pair=pair, normalize=mask_hello_id)
        return pair

    def sub(self, *cmd, pair, replies=None, normalize=None):
        """A (un)subscribe command whose replies are one confirmation per argument (or
        `replies` of them): all compared."""
        n = replies if replies is not None else max(1, len(cmd) - 1)
        return self.check_raw(encode_command(*cmd), n, pair=pair, normalize=normalize)

    def unsubscribe_all(self, *cmd, pair, replies):
        """UNSUBSCRIBE-style command with no names: confirmations in hash order in Redis."""
        return self.sub(*cmd, pair=pair, replies=replies, normalize=confirmations_unordered)

    def recv(self, pair, n=1, label="message"):
        """Reads the next `n` replies (messages, pushes) from both and compares them."""
        r, k = pair
        expected = b"".join(r.read_replies(n))
        try:
            actual = b"".join(k.read_replies(n))
        except (ConnectionClosed, OSError) as e:
            actual = ("<nothing received: %s>" % e).encode()
        with self.subTest(recv=label):
            self.assertEqual(actual, expected, "delivered %s" % label)
        return expected

    def quiet(self, pair):
        """Asserts that nothing else is waiting on the pair: the next reply is PING's."""
        self.check("PING", pair=pair)

    def restore_config(self):
        for c in (self.r, self.k):
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
            c.call("CONFIG", "SET", "client-output-buffer-limit", DEFAULT_OBUF)


class Subscriptions(PubSubCase):
    def subscribe_unsubscribe(self, resp):
        s = self.subscriber(resp)
        # Nothing subscribed: one confirmation with a null name and count 0.
        self.sub("UNSUBSCRIBE", pair=s)
        self.sub("PUNSUBSCRIBE", pair=s)
        self.sub("SUNSUBSCRIBE", pair=s)
        self.sub("SUBSCRIBE", "a", pair=s)
        self.sub("SUBSCRIBE", "a", pair=s)  # again: confirmed, count unchanged
        self.sub("SUBSCRIBE", "b", "c", "a", "b", pair=s)
        self.sub("UNSUBSCRIBE", "zzz", pair=s)  # not held: confirmed all the same
        self.sub("UNSUBSCRIBE", "b", "b", pair=s)
        self.sub("PSUBSCRIBE", "p*", "q?", "p*", pair=s)
        self.sub("PUNSUBSCRIBE", "p*", "nope", pair=s)
        # Shard channels have their own count; channels and patterns share one.
        self.sub("SSUBSCRIBE", "s1", "s2", "s1", pair=s)
        self.sub("SUBSCRIBE", "d", pair=s)
        self.sub("SUNSUBSCRIBE", "s1", "nope", pair=s)
        self.sub("SUNSUBSCRIBE", pair=s)
        self.sub("SUNSUBSCRIBE", pair=s)
        self.sub("SUBSCRIBE", b"bin\x00\r\n\xff", "", pair=s)
        self.unsubscribe_all("UNSUBSCRIBE", pair=s, replies=5)  # a c d bin ""
        self.sub("UNSUBSCRIBE", pair=s)
        self.sub("PSUBSCRIBE", "x*", "y*", "z*", pair=s)
        self.sub("PUNSUBSCRIBE", pair=s, replies=4)  # q? x* y* z*: a list, in order
        self.sub("PUNSUBSCRIBE", pair=s)
        # Out of subscribed mode: ordinary commands work again in RESP2.
        self.check("SET", "k", "v", pair=s)
        self.check("GET", "k", pair=s)
        self.sub("SUBSCRIBE", "ch", pair=s)
        self.check("PUBLISH", "ch", "after")
        self.recv(s)
        self.quiet(s)

    def test_subscribe_unsubscribe_resp2(self):
        self.subscribe_unsubscribe(2)

    def test_subscribe_unsubscribe_resp3(self):
        self.subscribe_unsubscribe(3)

    def test_unsubscribe_all_many(self):
        s = self.subscriber()
        names = ["chan:%d" % i for i in range(40)]
        self.sub("SUBSCRIBE", *names, pair=s)
        self.sub("SSUBSCRIBE", *names[:7], pair=s)
        self.unsubscribe_all("UNSUBSCRIBE", pair=s, replies=40)
        self.unsubscribe_all("SUNSUBSCRIBE", pair=s, replies=7)
        self.check("GET", "k", pair=s)

    def test_subscribed_mode_resp2(self):
        s = self.subscriber()
        self.sub("SUBSCRIBE", "ch", pair=s)
        self.check_all(("GET", "k"), ("SET", "k", "v"), ("PUBLISH", "ch", "x"),
                       ("PUBSUB", "CHANNELS"), ("PUBSUB", "NUMPAT"), ("CLIENT", "ID"),
                       ("HELLO", "2"), ("ECHO", "x"), ("INFO",), ("SELECT", "1"),
                       ("CONFIG", "GET", "maxclients"), ("SPUBLISH", "ch", "x"), pair=s)
        # Unknown commands and wrong arities are refused before the subscribed-mode check.
        self.check_all(("NOSUCH",), ("GET",), ("PING", "a", "b"), ("SUBSCRIBE",),
                       ("PUBLISH", "ch"), ("PUBSUB", "FOO"), pair=s)
        self.check_all(("PING",), ("PING", "hello"), ("PING", ""), ("ping", b"\x00\xff"),
                       pair=s)
        self.check_raw(b"PING\r\nPING inline-arg\r\n", 2, pair=s)
        # A message between two PINGs comes in order.
        self.check("PING", "before", pair=s)
        self.check("PUBLISH", "ch", "between")
        self.check_raw(encode_command("PING", "after"), 2, pair=s)
        # Only shard channels held: still subscribed mode.
        self.sub("SSUBSCRIBE", "sh", pair=s)
        self.sub("UNSUBSCRIBE", pair=s)
        self.check("GET", "k", pair=s)
        self.sub("SUNSUBSCRIBE", pair=s)
        self.check("GET", "k", pair=s)
        self.sub("PSUBSCRIBE", "p*", pair=s)
        self.check("GET", "k", pair=s)
        # RESET leaves subscribed mode and drops every subscription, without confirmations.
        self.check("RESET", pair=s)
        self.check("GET", "k", pair=s)
        self.check("PUBSUB", "NUMPAT")
        self.check("PUBLISH", "ch", "nobody")
        self.quiet(s)

    def test_pipelined(self):
        # Commands after a SUBSCRIBE in the same batch already run in subscribed mode.
        s = self.subscriber()
        self.check_raw(b"SUBSCRIBE a b\r\nGET k\r\nPING\r\nUNSUBSCRIBE a\r\nSET k v\r\n"
                       b"UNSUBSCRIBE b\r\nSET k v\r\nGET k\r\n", 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1,
                       pair=s)
        data = b"".join(encode_command(*c) for c in (
            ("PSUBSCRIBE", "p*"), ("PUBLISH", "pa", "x"), ("PING", "y"), ("PUNSUBSCRIBE",),
            ("PUBLISH", "pa", "z")))
        self.check_raw(data, 5, pair=s)  # the first PUBLISH refused, the second runs
        s3 = self.subscriber(3)
        data = b"".join(encode_command(*c) for c in (
            ("SUBSCRIBE", "q"), ("PUBLISH", "q", "1"), ("UNSUBSCRIBE", "q"), ("PUBLISH", "q", "2"),
            ("PING",)))
        self.check_raw(data, 1 + 2 + 1 + 1 + 1, pair=s3)

    def test_quit_while_subscribed(self):
        s = self.subscriber()
        self.sub("SUBSCRIBE", "ch", pair=s)
        self.check_raw(b"QUIT\r\n", 1, pair=s)
        with self.subTest("closed after QUIT"):
            self.assertEqual(s[1].wait_closed(10), s[0].wait_closed(10))
        for c in (self.r, self.k):
            wait_for(lambda: c.call("PUBSUB", "NUMSUB", "ch") == b"*2\r\n$2\r\nch\r\n:0\r\n",
                     message="QUIT to drop the subscription")

    def test_resp3_pushes_interleave(self):
        s = self.subscriber(3)
        self.check("SET", "k", "v", pair=s)
        self.sub("SUBSCRIBE", "ch", pair=s)
        self.sub("PSUBSCRIBE", "c*", pair=s)
        # Ordinary commands work while subscribed in RESP3.
        self.check_all(("GET", "k"), ("PING",), ("PING", "x"), ("ECHO", "y"),
                       ("PUBSUB", "NUMSUB", "ch"), pair=s)
        self.check("PUBLISH", "ch", "m1")
        # The two pushes were sent before the reply to the GET sent afterwards.
        self.check_raw(encode_command("GET", "k"), 3, pair=s)
        # Publishing to itself: the pushes come before PUBLISH's own reply.
        self.check_raw(encode_command("PUBLISH", "ch", "self"), 3, pair=s)
        # A pipeline mixing replies and pushes.
        data = b"".join([encode_command("PUBLISH", "cx", "1"), encode_command("INCR", "n"),
                         encode_command("PUBLISH", "ch", "2"), encode_command("GET", "n")])
        self.check_raw(data, 1 + 1 + 1 + 2 + 1 + 1, pair=s)
        self.sub("UNSUBSCRIBE", "ch", pair=s)
        self.sub("PUNSUBSCRIBE", pair=s)
        self.check("PUBLISH", "ch", "nobody")
        self.quiet(s)

    def test_hello_2_while_subscribed_in_resp3(self):
        s = self.subscriber(3)
        self.sub("SUBSCRIBE", "ch", pair=s)
        self.check("HELLO", "2", pair=s, normalize=mask_hello_id)
        # Now a RESP2 connection holding a subscription: subscribed mode applies.
        self.check("GET", "k", pair=s)
        self.check("PUBLISH", "ch", "m")
        self.recv(s)
        self.check("PING", pair=s)


class Delivery(PubSubCase):
    def test_message_and_pmessage(self):
        s1 = self.subscriber(2)
        s2 = self.subscriber(3)
        s3 = self.subscriber(2)
        s4 = self.subscriber(3)
        self.sub("SUBSCRIBE", "news", pair=s1)
        self.sub("PSUBSCRIBE", "n*", pair=s1)
        self.sub("SUBSCRIBE", "news", "other", pair=s2)
        self.sub("PSUBSCRIBE", "*s", pair=s3)
        self.sub("PSUBSCRIBE", "n?ws", pair=s4)
        self.check("PUBLISH", "news", "hello")
        self.recv(s1, 2, "message then pmessage")
        self.recv(s2)
        self.recv(s3)
        self.recv(s4)
        self.check("PUBLISH", "nothing-here", "x")
        self.check("PUBLISH", "nx", "only pattern")
        self.recv(s1)
        self.check("PUBLISH", "other", "")
        self.recv(s2)
        for payload in (b"\x00\r\n\xff", b"", b"y" * 100000, b"$5\r\n"):
            self.check("PUBLISH", "news", payload)
            self.recv(s1, 2, repr(payload[:10]))
            self.recv(s2)
            self.recv(s3)
            self.recv(s4)
        # The publisher's protocol does not matter; each receiver gets its own.
        self.check("HELLO", "3", normalize=mask_hello_id)
        self.check("PUBLISH", "news", "from resp3")
        self.recv(s1, 2)
        self.recv(s2)
        self.recv(s3)
        self.recv(s4)
        for s in (s1, s2, s3, s4):
            self.quiet(s)

    def test_publish_counts(self):
        subs = [self.subscriber() for _ in range(5)]
        for i, s in enumerate(subs):
            self.sub("SUBSCRIBE", "c", pair=s)
            self.check("PUBLISH", "c", str(i))
            for s2 in subs[:i + 1]:
                self.recv(s2)
        for s in subs[:2]:
            self.sub("PSUBSCRIBE", "c", "*", pair=s)
        self.check("PUBLISH", "c", "x")
        for s in subs[:2]:
            # message, then the two pmessages in an order Redis takes from a hash table.
            self.recv(s, 1)
            self.check_raw(b"", 2, pair=s, normalize=lambda raw: tuple(sorted(
                raw[i:_scan_reply(raw, i)] for i in _starts(raw))))
        for s in subs[2:]:
            self.recv(s)
        self.check("PUBLISH", "d", "pattern only")
        for s in subs[:2]:
            self.recv(s)

    def test_spublish(self):
        s1 = self.subscriber(2)
        s2 = self.subscriber(3)
        s3 = self.subscriber(2)
        self.sub("SSUBSCRIBE", "sch", pair=s1)
        self.sub("SUBSCRIBE", "sch", pair=s1)
        self.sub("SSUBSCRIBE", "sch", "sch2", pair=s2)
        self.sub("PSUBSCRIBE", "s*", pair=s3)
        self.check("SPUBLISH", "sch", "shard")  # shard subscribers only, no patterns
        self.recv(s1)
        self.recv(s2)
        self.check("PUBLISH", "sch", "plain")  # channel and pattern subscribers only
        self.recv(s1)
        self.recv(s3)
        self.check("SPUBLISH", "sch2", b"\x00bin")
        self.recv(s2)
        self.check("SPUBLISH", "nobody", "x")
        self.check_all(("SPUBLISH",), ("SPUBLISH", "a"), ("SPUBLISH", "a", "b", "c"))
        for s in (s1, s2, s3):
            self.quiet(s)

    def test_many_channels_one_connection(self):
        s = self.subscriber()
        names = ["m%d" % i for i in range(100)]
        self.sub("SUBSCRIBE", *names, pair=s)
        data = b"".join(encode_command("PUBLISH", n, "v" + n) for n in names)
        self.check_raw(data, len(names))
        self.recv(s, len(names))
        self.quiet(s)


def _starts(raw):
    pos = 0
    while pos < len(raw):
        yield pos
        pos = _scan_reply(raw, pos)


class RepliesOff(PubSubCase):
    """CLIENT REPLY OFF silences replies, not pushes: subscription confirmations and messages
    (the client's own publishes included) still arrive, in both protocols."""

    def test_resp2_subscribing_with_replies_off(self):
        pair = self.subscriber()
        self.check_raw(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SUBSCRIBE", "ch"),
                       1, pair=pair)
        self.check("PUBLISH", "ch", "m1")
        self.check_raw(b"", 1, pair=pair)  # the message
        # The unsubscribe confirmation arrives, PING's reply does not, and once replies are back
        # nothing stray is left in between.
        self.check_raw(encode_command("UNSUBSCRIBE", "ch") + encode_command("PING")
                       + encode_command("CLIENT", "REPLY", "ON") + encode_command("PING"),
                       3, pair=pair)

    def test_resp3_subscriber_turning_replies_off(self):
        pair = self.subscriber(resp=3)
        self.sub("SUBSCRIBE", "ch3", pair=pair)
        # Its own publish and a write reply nothing; the message it published to itself arrives.
        self.check_raw(encode_command("CLIENT", "REPLY", "OFF") + encode_command("PUBLISH", "ch3", "self")
                       + encode_command("SET", "k", "v"), 1, pair=pair)
        self.check("PUBLISH", "ch3", "other")
        self.check_raw(b"", 1, pair=pair)
        self.check_raw(encode_command("CLIENT", "REPLY", "ON") + encode_command("PING"), 2, pair=pair)

    def test_skip_silences_one_reply_not_the_pushes(self):
        pair = self.subscriber(resp=3)
        self.check_raw(encode_command("CLIENT", "REPLY", "SKIP") + encode_command("SUBSCRIBE", "s")
                       + encode_command("PING"), 2, pair=pair)


class Introspection(PubSubCase):
    def test_pubsub_subcommands(self):
        s1, s2, s3, s4 = (self.subscriber() for _ in range(4))
        self.sub("SUBSCRIBE", "a", "b", "c", "bb", b"\x00z", pair=s1)
        self.sub("SUBSCRIBE", "b", pair=s2)
        self.sub("PSUBSCRIBE", "x*", "y*", pair=s2)
        self.sub("SSUBSCRIBE", "sa", "sb", "b", pair=s3)
        self.sub("PSUBSCRIBE", "x*", pair=s4)
        for resp in (2, 3):
            if resp == 3:
                self.check("HELLO", "3", normalize=mask_hello_id)
            for pattern in ((), ("*",), ("b*",), ("?",), ("nomatch",), ("",), (b"\x00*",),
                            ("[ab]",)):
                self.check_unordered("PUBSUB", "CHANNELS", *pattern)
                self.check_unordered("PUBSUB", "SHARDCHANNELS", *pattern)
            self.check_all(("PUBSUB", "NUMSUB", "a", "b", "c", "d", "sa", "x*"),
                           ("PUBSUB", "NUMSUB"), ("PUBSUB", "NUMSUB", "b", "b"),
                           ("PUBSUB", "SHARDNUMSUB", "sa", "sb", "b", "a"),
                           ("PUBSUB", "SHARDNUMSUB"), ("PUBSUB", "NUMPAT"),
                           ("pubsub", "numpat"), ("PubSub", "Channels", "a"))
        self.check("HELLO", "2", normalize=mask_hello_id)
        self.sub("PUNSUBSCRIBE", "x*", pair=s2)
        self.check("PUBSUB", "NUMPAT")
        self.sub("PUNSUBSCRIBE", "x*", pair=s4)
        self.check("PUBSUB", "NUMPAT")
        self.sub("UNSUBSCRIBE", "b", pair=s2)
        self.check("PUBSUB", "NUMSUB", "b")
        s1[0].close()
        s1[1].close()
        for c in (self.r, self.k):
            wait_for(lambda: c.call("PUBSUB", "NUMSUB", "a") == b"*2\r\n$1\r\na\r\n:0\r\n",
                     message="a closed connection to drop its subscriptions")
        self.check_unordered("PUBSUB", "CHANNELS")

    def test_pubsub_help_and_errors(self):
        self.check("PUBSUB", "HELP")
        self.check("pubsub", "help")
        self.check("HELLO", "3", normalize=mask_hello_id)
        self.check("PUBSUB", "HELP")
        self.check("HELLO", "2", normalize=mask_hello_id)
        self.check_all(("PUBSUB",), ("PUBSUB", "FOO"), ("PUBSUB", "foo", "bar"),
                       ("PUBSUB", "HELP", "x"), ("PUBSUB", "NUMPAT", "x"),
                       ("PUBSUB", "CHANNELS", "a", "b"), ("PUBSUB", "SHARDCHANNELS", "a", "b"),
                       ("SUBSCRIBE",), ("PSUBSCRIBE",), ("SSUBSCRIBE",), ("PUBLISH",),
                       ("PUBLISH", "a"), ("PUBLISH", "a", "b", "c"), ("publish", "a", "b"))

    def test_info_and_client_list(self):
        ids_r, ids_k = [], []
        pairs = []
        for _ in range(4):
            p = self.subscriber()
            ids_r.append(decode(p[0].call("CLIENT", "ID")))
            ids_k.append(decode(p[1].call("CLIENT", "ID")))
            pairs.append(p)
        s1, s2, s3, s4 = pairs
        self.sub("SUBSCRIBE", "a", "b", "c", pair=s1)
        self.sub("PSUBSCRIBE", "p*", pair=s1)
        self.sub("SUBSCRIBE", "a", pair=s2)
        self.sub("PSUBSCRIBE", "p*", "q*", pair=s2)
        self.sub("SSUBSCRIBE", "s1", "s2", pair=s3)
        # s4 holds nothing.

        def stats(raw):
            return tuple(info_field(raw, f) for f in
                         (b"pubsub_channels", b"pubsub_patterns", b"pubsubshard_channels"))

        self.check("INFO", "stats", normalize=stats)
        self.check("INFO", normalize=stats)

        def client_fields(raw):
            lines = decode(raw).strip().split(b"\n")
            out = []
            for line in lines:
                f = dict(x.split(b"=", 1) for x in line.split(b" "))
                out.append(tuple(f.get(n) for n in (b"flags", b"sub", b"psub", b"ssub")))
            return out

        r_list = client_fields(self.r.call("CLIENT", "LIST", "ID", *ids_r))
        k_list = client_fields(self.k.call("CLIENT", "LIST", "ID", *ids_k))
        self.assertEqual(k_list, r_list)
        self.assertEqual(r_list[0], (b"P", b"3", b"1", b"0"))  # sanity of the test itself
        def count_lines(raw):
            return len([x for x in decode(raw).split(b"\n") if x.strip()])

        self.check("CLIENT", "LIST", "TYPE", "pubsub", normalize=count_lines)
        self.check("RESET", pair=s1)
        self.check("INFO", "stats", normalize=stats)
        r_list = client_fields(self.r.call("CLIENT", "LIST", "ID", *ids_r))
        k_list = client_fields(self.k.call("CLIENT", "LIST", "ID", *ids_k))
        self.assertEqual(k_list, r_list)

    def test_client_types(self):
        # A subscriber is of type pubsub (CLIENT LIST / KILL TYPE); a MONITOR of type normal.
        s1, s2, mon = self.subscriber(), self.subscriber(3), self.subscriber()
        self.sub("SUBSCRIBE", "a", pair=s1)
        self.sub("SSUBSCRIBE", "b", pair=s2)
        self.check("MONITOR", pair=mon)

        def lines(raw):
            text = decode(raw)
            if not isinstance(text, bytes):
                return raw
            return sorted(dict(x.split(b"=", 1) for x in line.split(b" "))[b"flags"]
                          for line in text.split(b"\n") if line.strip())

        def monitors(raw):
            return decode(raw).count(b"flags=O ")

        self.check("CLIENT", "LIST", "TYPE", "pubsub", normalize=lines)
        # Redis lists a MONITOR client as normal, not replica (getClientType).
        self.check("CLIENT", "LIST", "TYPE", "replica", normalize=lines)
        self.check("CLIENT", "LIST", "TYPE", "slave", normalize=lines)
        self.check("CLIENT", "LIST", "TYPE", "normal", normalize=monitors)
        self.check("CLIENT", "KILL", "TYPE", "replica")
        expected, actual = self.both("CLIENT", "KILL", "TYPE", "pubsub")
        self.assertEqual(expected, b":2\r\n")
        with self.subTest(cmd="CLIENT KILL TYPE pubsub"):
            self.assertEqual(actual, expected)
        for pair in (s1, s2):
            self.assertEqual(pair[0].wait_closed(10), b"")
            if actual == expected:  # else waiting would only time out
                with self.subTest("killed subscriber"):
                    self.assertEqual(pair[1].wait_closed(10), b"")
        self.check("PUBSUB", "NUMSUB", "a")
        self.check("CLIENT", "LIST", "TYPE", "normal", normalize=monitors)


class OutputBufferClasses(PubSubCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.restore_config)

    def test_monitor_counts_as_normal_class(self):
        # redis.conf: "normal -> normal clients including MONITOR clients". Redis marks a
        # monitor as a replica internally but limits (and lists) it as a normal client.
        big = "x" * 65536
        for c, srv in ((self.r, self.redis_srv), (self.k, self.keyward_srv)):
            with self.subTest(server=srv.name):
                def monitors():
                    return decode(c.call("CLIENT", "LIST")).count(b"flags=O ")

                c.call("CONFIG", "SET", "client-output-buffer-limit",
                       "normal 0 0 0 slave 1mb 0 0")
                m = srv.client()
                self.addCleanup(m.close)
                self.assertEqual(m.call("MONITOR"), b"+OK\r\n")
                # ~13 MB of monitor output that nobody reads: far over 1 MB plus what the
                # kernel's socket buffers hold.
                for _ in range(200):
                    c.call("SET", "flood", big)
                self.assertEqual(monitors(), 1, "the replica limit applied to a MONITOR client")
                c.call("CONFIG", "SET", "client-output-buffer-limit",
                       "normal 1mb 0 0 slave 0 0 0")

                def gone():
                    c.call("SET", "flood", big)
                    return monitors() == 0

                wait_for(gone, timeout=60, message="the normal limit to close the monitor")


# Glob patterns against channel names: PSUBSCRIBE and PUBSUB CHANNELS share Redis's
# stringmatchlen.
PATTERNS = [
    b"*", b"?", b"h?llo", b"h*llo", b"h[ae]llo", b"h[^e]llo", b"h[a-b]llo", b"h[b-a]llo",
    b"\\*", b"a\\?b", b"hello\\", b"\\", b"", b"a\x00b", b"a\x00*", b"\xff*", b"[", b"[abc",
    b"[]", b"[a-", b"h[\\]]llo", b"*[", b"**", b"*a*b*", b"[!a]", b"[^]", b"x[\\-]y",
    b"h\\ello", b"[a-c]", b"[^a]", b"*\\", b"?*?", b"\\[a]", b"[*]", b"[?]", b"a[]b",
    b"*a", b"a*", b"[a-]", b"[-a]", b"[\\", b"a?", b"\x00", b"[\x00-\x01]", b"[^a-z]*",
]
CHANNELS = [
    b"hello", b"hallo", b"hbllo", b"hxllo", b"hllo", b"heeello", b"*", b"?", b"a?b", b"axb",
    b"hello\\", b"", b"a\x00b", b"a\x00cd", b"\xff\xfe", b"a", b"b", b"c", b"d", b"ab", b"[",
    b"]", b"a-", b"-", b"h]llo", b"x-y", b"x\\y", b"^", b"\\", b"abab", b"aab", b"ba", b"x",
    b"[a]", b"!", b"a[]b", b"\x00", b"\x01", b"Hello", b"hello world", b"ab\\",
]


class Globs(PubSubCase):
    def test_psubscribe_patterns(self):
        s = self.subscriber()
        for pattern in PATTERNS:
            with self.subTest(pattern=pattern):
                self.sub("PSUBSCRIBE", pattern, pair=s)
                data = b"".join(encode_command("PUBLISH", ch, b"to " + ch) for ch in CHANNELS)
                expected = self.check_raw(data, len(CHANNELS))
                matches = expected.count(b":1\r\n")
                if matches:
                    self.recv(s, matches, "pmessages for %r" % pattern)
                self.sub("PUNSUBSCRIBE", pattern, pair=s)
                self.quiet(s)

    def test_pubsub_channels_patterns(self):
        s = self.subscriber()
        self.sub("SUBSCRIBE", *CHANNELS, pair=s)
        self.sub("SSUBSCRIBE", *CHANNELS, pair=s)
        for pattern in PATTERNS:
            self.check_unordered("PUBSUB", "CHANNELS", pattern)
            self.check_unordered("PUBSUB", "SHARDCHANNELS", pattern)

    def test_pattern_and_channel_names_resp3(self):
        s = self.subscriber(3)
        self.sub("PSUBSCRIBE", b"a\x00*", b"", b"\xff*", pair=s)
        self.check("PUBLISH", b"a\x00b", b"v\x00")
        self.recv(s)
        self.check("PUBLISH", b"", b"empty")
        self.recv(s)
        self.check("PUBLISH", b"\xff\xfe", b"x")
        self.recv(s)
        self.sub("PUNSUBSCRIBE", b"a\x00*", b"a\x00", pair=s)
        self.quiet(s)


class Config(PubSubCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.restore_config)

    def test_notify_keyspace_events(self):
        for flags in ("", "K", "E", "g", "KEA", "AKE", "A", "KA", "Kg$", "KEg$lshzxetdmn",
                      "Em", "Kn", "KEAmn", "gE", "xK", "KKK", "AA", "$$", "KEAg", "Ag$",
                      "g$lshzxetd", "g$lshzxetdK", "KEd", "mn", "Et", "Kx", "e", "KEe", "nK",
                      "mK", "AmnKE", "lshz", "KEA "):
            with self.subTest(flags=flags):
                self.check("CONFIG", "SET", "notify-keyspace-events", flags)
                self.check("CONFIG", "GET", "notify-keyspace-events")
        # Not compared: values with a NUL byte, which Redis cuts at the NUL (C strings), and
        # sizes over 2^63 in client-output-buffer-limit, which Redis wraps around.
        for bad in ("Q", "KEAq", "1", " ", "kea", "KEA!", "G", "a", "M", "N", "KE$X"):
            with self.subTest(flags=bad):
                self.check("CONFIG", "SET", "notify-keyspace-events", bad)
                self.check("CONFIG", "GET", "notify-keyspace-events")
        self.check("CONFIG", "SET", "notify-keyspace-events")
        self.check("CONFIG", "GET", "notify-keyspace-events", "extra")
        self.check_unordered("CONFIG", "GET", "notify-*")

    def test_client_output_buffer_limit(self):
        self.check("CONFIG", "GET", "client-output-buffer-limit")
        # Normal-class limits stay far above any reply here: the connection doing the CONFIG SET
        # is a normal client itself.
        for value in ("normal 0 0 0", "pubsub 1mb 512kb 60", "normal 1mb 20mb 0 pubsub 1gb 0 10",
                      "slave 10 10 10", "replica 11 12 13", "NORMAL 1000000 2000000 3",
                      "normal 1MB 1Kb 0", "Normal 1Gb 2GB 0", "pubsub 1g 2m 0", "pubsub 2k 1k 5",
                      "normal 10mb 20mb 3 normal 4mb 5mb 6", "", "normal 0 0 0",
                      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
                      "pubsub 1 0 0", "normal 0 10mb 1", "normal 9223372036854775807 0 0",
                      "normal 1000000b 0 0", "slave 1 1 1 replica 2 2 2", "pubsub 0 0 0"):
            with self.subTest(value=value):
                self.check("CONFIG", "SET", "client-output-buffer-limit", value)
                self.check("CONFIG", "GET", "client-output-buffer-limit")
        for bad in ("normal 1 1", "normal a b c", "normal -1 0 0", "foo 1 2 3", "master 1 2 3",
                    "normal 1.5mb 0 0", "normal 0 0 -1", "normal 1 2 3 extra", "normal 1 2 x",
                    "pubsub 1mb 1xb 1", "normal", "1 2 3 4", "pubsub 1 2 3 normal",
                    "pubsub 1 2 3 foo 1 2 3",
                    "pubsub 1mb 512kb 60 normal x 0 0", "normal 1 -2 0", "normal 1mb 0 1s"):
            with self.subTest(value=bad):
                self.check("CONFIG", "SET", "client-output-buffer-limit", bad)
                self.check("CONFIG", "GET", "client-output-buffer-limit")
        # Both parameters in one CONFIG SET, one of them invalid: nothing changes.
        self.check("CONFIG", "SET", "notify-keyspace-events", "KEA", "client-output-buffer-limit",
                   "pubsub 1 2")
        self.check("CONFIG", "GET", "notify-keyspace-events")
        self.check("CONFIG", "SET", "notify-keyspace-events", "Kg", "client-output-buffer-limit",
                   "pubsub 1 2 3")
        self.check_unordered("CONFIG", "GET", "notify-keyspace-events")
        self.check("CONFIG", "GET", "client-output-buffer-limit")
        self.check("CONFIG", "SET", "notify-keyspace-events", "Q", "client-output-buffer-limit",
                   "pubsub 4 5 6")
        self.check("CONFIG", "GET", "client-output-buffer-limit")
        self.check("CONFIG", "GET", "notify-keyspace-events")


if __name__ == "__main__":
    unittest.main(verbosity=2)
