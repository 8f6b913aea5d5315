"""Differential tests of client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO):
Keyward vs redis-server 7.0.15, the raw bytes each connection receives compared.

An invalidation is output to one connection caused by another one's command. Each check below
makes the change on one connection, then reads what the tracking (or redirect) connection has
received by sending it a PING and reading everything up to the PONG: the server writes the
invalidation before it reads that PING, so the bytes in front of the PONG are exactly the
invalidations, on both servers.

Client ids differ between the two servers: REDIRECT arguments are sent to each server with its
own id, and ids in replies are masked.
"""

import re

from diff_support import DiffCase, main
from keyward_harness import encode_command

# PING's reply, and its form on a RESP2 connection in subscribed mode.
PONG = (b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")


def mask_ids(raw):
    return re.sub(rb":\d+\r\n", b":<id>\r\n", raw)


class TrackingTest(DiffCase):
    SERVER_ARGS = ("--enable-debug-command", "yes")

    def resp3(self):
        pair = self.new_pair()
        for c in pair:
            c.send(encode_command("HELLO", "3"))
            c.read_reply()
        return pair

    def received(self, pair, label, normalize=lambda raw: raw):
        """What each server sent to `pair` before the reply to a PING, compared."""
        got = []
        for c in pair:
            c.send(encode_command("PING"))
            replies = []
            for _ in range(100):
                reply = c.read_reply()
                if reply in PONG:
                    break
                replies.append(reply)
            else:
                self.fail("no PONG")
            got.append(normalize(b"".join(replies)))
        with self.subTest(received=label):
            self.assertEqual(got[1], got[0], label)
        return got[0]

    def each(self, pair, make_cmd, expected_id=None):
        """Sends a per-server command (one built from that server's client ids) and compares
        the replies; an integer reply must be that server's `expected_id[server]`."""
        replies = []
        for c, name in zip(pair, ("r", "k")):
            c.send(encode_command(*make_cmd(name)))
            reply = c.read_reply()
            if expected_id is not None:
                self.assertEqual(reply, b":%d\r\n" % expected_id[name])
                reply = b":<id>\r\n"
            replies.append(reply)
        self.assertEqual(replies[1], replies[0])
        return replies[0]

    def client_ids(self, pair):
        ids = {}
        for c, name in zip(pair, ("r", "k")):
            c.send(encode_command("CLIENT", "ID"))
            ids[name] = int(c.read_reply()[1:-2])
        return ids

    def test_default_mode_resp3(self):
        a = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", pair=a)
        self.check("SET", "k", "v")
        self.check("GET", "k", pair=a)
        self.check("MGET", "k", "k2", "k3", pair=a)
        self.check("SET", "k", "w")
        self.assertNotEqual(self.received(a, "after SET k"), b"")
        # Forgotten until read again.
        self.check("SET", "k", "x")
        self.received(a, "second SET k")
        self.check("DEL", "k2")  # k2 was read (missing): a DEL of nothing changes nothing
        self.check("SET", "k3", "new")
        self.received(a, "SET k3")
        # Keys found by the key specs: numkeys forms track their keys, not their count.
        self.check("ZINTERCARD", "2", "z1", "z2", pair=a)
        self.check("SINTERCARD", "1", "s1", "LIMIT", "5", pair=a)
        self.check("ZADD", "z2", "1", "m")
        self.check("SADD", "s1", "m")
        self.check("SET", "2", "x")
        self.received(a, "numkeys reads")
        self.check("INFO", "stats", normalize=self.tracking_fields)
        self.check("INFO", "clients", normalize=self.tracking_fields)

    @staticmethod
    def tracking_fields(raw):
        return b"\n".join(sorted(l for l in raw.split(b"\r\n") if l.startswith(b"tracking")))

    def test_own_changes_come_after_the_reply_and_noloop(self):
        a = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", pair=a)
        self.check("GET", "k", pair=a)
        self.check_raw(encode_command("SET", "k", "v"), 2, pair=a)  # +OK, then the push
        self.check("GET", "k", pair=a)
        self.check("MULTI", pair=a)
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "w", pair=a)
        self.check("SET", "k", "z", pair=a)
        self.check_raw(encode_command("EXEC"), 2, pair=a)  # the whole EXEC, then one push
        self.received(a, "after EXEC")
        self.check("CLIENT", "TRACKING", "ON", "NOLOOP", pair=a)
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "own", pair=a)
        self.check("GET", "k", pair=a)
        self.received(a, "NOLOOP own write")
        self.check("SET", "k", "other")
        self.received(a, "NOLOOP other's write")

    def test_bcast_and_prefixes(self):
        a = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "job:",
                   pair=a)
        self.check("CLIENT", "TRACKINGINFO", pair=a)
        self.check("MSET", "user:2", "b", "user:1", "a", "other", "c", "job:9", "x")
        self.received(a, "MSET")
        self.check("DEL", "user:1", "user:2")
        self.received(a, "DEL")
        self.check("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "acct:", pair=a)
        self.check("CLIENT", "TRACKINGINFO", pair=a)
        self.check("SET", "acct:1", "v")
        self.received(a, "added prefix")
        b = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", pair=b)
        self.check("SET", "x", "1", pair=b)
        self.check("SET", "user:7", "1")
        self.received(b, "NOLOOP bcast")
        self.check("INFO", "stats", normalize=self.tracking_fields)

    def test_optin_optout(self):
        a = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", "OPTIN", pair=a)
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "1")
        self.received(a, "OPTIN without CACHING")
        self.check("CLIENT", "CACHING", "YES", pair=a)
        self.check("CLIENT", "TRACKINGINFO", pair=a)
        self.check("GET", "k", pair=a)
        self.check("CLIENT", "TRACKINGINFO", pair=a)
        self.check("SET", "k", "2")
        self.received(a, "OPTIN with CACHING")
        self.check("CLIENT", "TRACKING", "OFF", pair=a)
        self.check("CLIENT", "TRACKING", "ON", "OPTOUT", pair=a)
        self.check("CLIENT", "CACHING", "NO", pair=a)
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "3")
        self.received(a, "OPTOUT with CACHING NO")
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "4")
        self.received(a, "OPTOUT")

    def test_errors(self):
        self.seq("""
            CLIENT TRACKING maybe
            CLIENT TRACKING ON BOGUS
            CLIENT TRACKING ON PREFIX a
            CLIENT TRACKING ON BCAST OPTIN
            CLIENT TRACKING ON OPTIN OPTOUT
            CLIENT TRACKING ON BCAST PREFIX ab PREFIX a
            CLIENT TRACKING ON REDIRECT x
            CLIENT TRACKING ON REDIRECT 999999
            CLIENT TRACKING ON REDIRECT 0
            CLIENT CACHING YES
            CLIENT TRACKING
            CLIENT CACHING
            CLIENT GETREDIR
            CLIENT TRACKINGINFO
            CLIENT TRACKING OFF
            CLIENT TRACKING ON OPTIN
            CLIENT CACHING NO
            CLIENT CACHING maybe
            CLIENT TRACKING ON OPTOUT
            CLIENT TRACKING ON BCAST
            CLIENT GETREDIR
            CLIENT TRACKINGINFO
            CLIENT TRACKING OFF
            CLIENT TRACKING ON BCAST PREFIX a
            CLIENT TRACKING ON BCAST PREFIX ab
            CLIENT TRACKING ON BCAST PREFIX b
            CLIENT TRACKINGINFO
            CLIENT TRACKING ON
            CLIENT TRACKING OFF
            CLIENT TRACKINGINFO
            CLIENT HELP
        """)
        ids = self.client_ids((self.r, self.k))
        self.each((self.r, self.k), lambda s: ("CLIENT", "TRACKING", "ON", "REDIRECT",
                                               str(ids[s]), "REDIRECT", str(ids[s])))

    def test_redirect_to_a_resp2_subscriber(self):
        c = self.new_pair()
        ids = self.client_ids(c)
        self.check("SUBSCRIBE", "__redis__:invalidate", pair=c)
        a = self.new_pair()  # RESP2: it hears nothing itself, its redirect target does
        self.each(a, lambda s: ("CLIENT", "TRACKING", "ON", "REDIRECT", str(ids[s])))
        self.each(a, lambda s: ("CLIENT", "GETREDIR"), expected_id=ids)
        self.check("CLIENT", "TRACKINGINFO", pair=a, normalize=mask_ids)
        self.check("GET", "k", pair=a)
        self.check("SET", "k", "v")
        self.received(c, "redirected invalidation")
        self.check("GET", "k", pair=a)
        self.check("FLUSHALL")
        self.received(c, "redirected flush")
        # The target goes away: the tracking client is flagged; a RESP3 one is also told.
        b = self.resp3()
        self.each(b, lambda s: ("CLIENT", "TRACKING", "ON", "REDIRECT", str(ids[s])))
        self.check("GET", "k", pair=b)
        for client in c:
            client.close()
        self.check("SET", "k", "w")
        got = self.received(b, "broken redirect", normalize=mask_ids)
        self.assertIn(b"tracking-redir-broken", got)
        self.check("CLIENT", "TRACKINGINFO", pair=b, normalize=mask_ids)

    def test_flush_and_expiry(self):
        a = self.resp3()
        self.check("CLIENT", "TRACKING", "ON", pair=a)
        self.check("SET", "k", "v", "PX", "30")
        self.check("GET", "k", pair=a)
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        self.addCleanup(self.check, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.check("SET", "probe", "v", "PX", "30")
        for client in (self.r, self.k):
            while client.call("EXISTS", "probe") != b":0\r\n":
                pass
        self.check("GET", "k")  # deletes the expired key: an invalidation
        self.received(a, "expiry")
        self.check("GET", "k", pair=a)
        self.check("FLUSHDB")
        self.received(a, "FLUSHDB")
        self.check("FLUSHALL", pair=a)
        self.received(a, "own FLUSHALL")
        self.check("INFO", "stats", normalize=self.tracking_fields)

    def test_client_list_flags(self):
        def fields(raw):
            return b" ".join(f for f in raw.split(b" ") if f.split(b"=")[0] in (b"flags",))

        a = self.new_pair()
        self.check("CLIENT", "TRACKING", "ON", "BCAST", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("CLIENT", "TRACKING", "OFF", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("CLIENT", "TRACKING", "ON", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("RESET", pair=a)
        self.check("CLIENT", "INFO", pair=a, normalize=fields)
        self.check("CLIENT", "TRACKINGINFO", pair=a)


if __name__ == "__main__":
    main()
