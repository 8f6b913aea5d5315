"""Client management on the real keyward-server binary: MONITOR output, CLIENT KILL (all
filters), CLIENT PAUSE / UNPAUSE (checked with conditions, never with timing), CLIENT LIST."""

import os
import re
import unittest

from keyward_harness import ServerTestCase, SharedKeywardTestCase, decode, encode_command, make_workdir, start_keyward
from keyward_harness import wait_for

MONITOR_LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)\r\n$")


def client_id(client):
    return decode(client.call("CLIENT", "ID"))


def client_fields(observer, cid):
    """The CLIENT LIST fields of client `cid`, seen from another connection."""
    text = decode(observer.call("CLIENT", "LIST", "ID", str(cid))).strip()
    if not text:
        return None
    return dict(f.split(b"=", 1) for f in text.split(b" "))


def local_addr(client):
    host, port = client.sock.getsockname()[:2]
    return ("%s:%d" % (host, port)).encode()


class Monitor(SharedKeywardTestCase):

    def monitor(self):
        m = self.raw_client(self.srv)
        self.assertEqual(m.call("MONITOR"), b"+OK\r\n")
        return m

    def expect_event(self, m, addr, db, args):
        line = m.read_line()
        match = MONITOR_LINE.match(line)
        self.assertIsNotNone(match, line)
        self.assertEqual(match.group(3), str(db).encode(), line)
        self.assertEqual(match.group(4), addr, line)
        self.assertEqual(match.group(5), args, line)

    def test_monitor_shows_commands(self):
        m = self.monitor()
        c = self.raw_client(self.srv)
        addr = local_addr(c)
        c.call("SET", "k", "v")
        c.call("get", "k")
        c.call("SET", b'a\x00b"c\n\\', b"\xff")
        c.send(b"ECHO inline\r\n")
        c.read_reply()
        c.call("SELECT", "3")
        c.call("INCR", "n")
        self.expect_event(m, addr, 0, b'"SET" "k" "v"')
        self.expect_event(m, addr, 0, b'"get" "k"')
        self.expect_event(m, addr, 0, b'"SET" "a\\x00b\\"c\\n\\\\" "\\xff"')
        self.expect_event(m, addr, 0, b'"ECHO" "inline"')
        # SELECT is shown with the database it selected.
        self.expect_event(m, addr, 3, b'"SELECT" "3"')
        self.expect_event(m, addr, 3, b'"INCR" "n"')

    def test_monitor_redacts_and_skips(self):
        m = self.monitor()
        c = self.raw_client(self.srv)
        addr = local_addr(c)
        c.call("AUTH", "secret")  # refused (no password set) but still shown, redacted
        c.call("HELLO", "2", "AUTH", "default", "secret")
        c.call("NOSUCHCOMMAND", "x")  # never executed: not shown
        c.call("GET")  # wrong arity: not shown
        c.call("CONFIG", "GET", "timeout")  # admin commands are not shown
        c.call("SET", "after", "1")
        self.expect_event(m, addr, 0, b'"AUTH" "(redacted)"')
        self.expect_event(m, addr, 0, b'"HELLO" "2" "AUTH" "(redacted)" "(redacted)"')
        self.expect_event(m, addr, 0, b'"SET" "after" "1"')

    def test_monitor_timestamps_and_several_monitors(self):
        m1, m2 = self.monitor(), self.monitor()
        c = self.raw_client(self.srv)
        reply = decode(c.call("TIME"))
        c.call("SET", "x", "1")
        for m in (m1, m2):
            line = m.read_line()
            match = MONITOR_LINE.match(line)
            self.assertIsNotNone(match, line)
            # The event's time is the server's clock around the command.
            self.assertLessEqual(abs(int(match.group(1)) - int(reply[0])), 2)

    def test_monitor_unix_socket_client(self):
        path = os.path.join(make_workdir(), "mon.sock")
        srv = self.start_keyward(["--unixsocket", path])
        m = self.raw_client(srv)
        self.assertEqual(m.call("MONITOR"), b"+OK\r\n")
        u = self.raw_client(srv, unix=True)
        u.call("SET", "k", "v")
        line = m.read_line()
        self.assertRegex(line, rb'^\+\d+\.\d{6} \[0 unix:%s\] "SET" "k" "v"\r\n$'
                         % re.escape(path.encode()))

    def test_monitor_client_can_quit(self):
        m = self.monitor()
        m.send(b"QUIT\r\n")
        self.assertEqual(m.wait_closed(), b"+OK\r\n")


class ClientKill(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)

    def test_kill_by_id(self):
        victim = self.raw_client(self.srv)
        vid = client_id(victim)
        self.assertEqual(self.admin.call("CLIENT", "KILL", "ID", str(vid)), b":1\r\n")
        self.assertEqual(victim.wait_closed(), b"")
        self.assertIsNone(client_fields(self.admin, vid))
        self.assertEqual(self.admin.call("CLIENT", "KILL", "ID", str(vid)), b":0\r\n")

    def test_kill_by_addr(self):
        victim = self.raw_client(self.srv)
        self.assertEqual(victim.call("PING"), b"+PONG\r\n")
        addr = local_addr(victim)
        self.assertEqual(self.admin.call("CLIENT", "KILL", "ADDR", addr), b":1\r\n")
        self.assertEqual(victim.wait_closed(), b"")
        victim2 = self.raw_client(self.srv)
        self.assertEqual(victim2.call("PING"), b"+PONG\r\n")
        # The old form: CLIENT KILL ip:port answers +OK.
        self.assertEqual(self.admin.call("CLIENT", "KILL", local_addr(victim2)), b"+OK\r\n")
        self.assertEqual(victim2.wait_closed(), b"")
        self.assertEqual(self.admin.call("CLIENT", "KILL", local_addr(victim2)),
                         b"-ERR No such client\r\n")

    def test_kill_self(self):
        me = client_id(self.admin)
        # The filter form skips the caller unless SKIPME no.
        self.assertEqual(self.admin.call("CLIENT", "KILL", "ID", str(me)), b":0\r\n")
        self.admin.send(encode_command("CLIENT", "KILL", "ID", str(me), "SKIPME", "no"))
        self.assertEqual(self.admin.wait_closed(), b":1\r\n")

    def test_kill_by_laddr_user_and_type(self):
        victims = [self.raw_client(self.srv) for _ in range(3)]
        for v in victims:
            self.assertEqual(v.call("PING"), b"+PONG\r\n")
        wait_for(lambda: decode(self.admin.call("CLIENT", "LIST")).count(b"\n") == 4,
                 message="four clients connected")
        laddr = ("127.0.0.1:%d" % self.srv.port).encode()
        self.assertEqual(self.admin.call("CLIENT", "KILL", "LADDR", laddr, "ID",
                                         str(client_id(victims[0]))), b":1\r\n")
        self.assertEqual(victims[0].wait_closed(), b"")
        self.assertEqual(self.admin.call("CLIENT", "KILL", "USER", "default"), b":2\r\n")
        for v in victims[1:]:
            self.assertEqual(v.wait_closed(), b"")
        self.assertEqual(self.admin.call("PING"), b"+PONG\r\n")
        more = self.raw_client(self.srv)
        self.assertEqual(more.call("PING"), b"+PONG\r\n")
        self.assertEqual(self.admin.call("CLIENT", "KILL", "TYPE", "normal"), b":1\r\n")
        self.assertEqual(more.wait_closed(), b"")
        self.assertEqual(self.admin.call("CLIENT", "KILL", "TYPE", "pubsub"), b":0\r\n")

    def test_kill_client_with_pending_request(self):
        victim = self.raw_client(self.srv)
        vid = client_id(victim)
        victim.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nhalf")
        wait_for(lambda: (client_fields(self.admin, vid) or {}).get(b"qbuf", b"0") != b"0",
                 message="the victim's partial request to reach the server")
        self.assertEqual(self.admin.call("CLIENT", "KILL", "ID", str(vid)), b":1\r\n")
        self.assertEqual(victim.wait_closed(), b"")
        self.assertEqual(self.admin.call("EXISTS", "k"), b":0\r\n")


class ClientPause(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)
        self.writer = self.raw_client(self.srv)
        self.reader = self.raw_client(self.srv)
        self.writer_id = client_id(self.writer)

    def wait_until_seen(self, cid, cmd):
        """Waits until the server has read the client's command (CLIENT LIST shows it as the
        client's current command), without any fixed sleep."""
        wait_for(lambda: (client_fields(self.reader, cid) or {}).get(b"cmd") == cmd,
                 message="the server to receive %r from client %d" % (cmd, cid))

    def test_write_pause_blocks_writes_until_unpause(self):
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "100000", "WRITE"), b"+OK\r\n")
        self.writer.send(encode_command("SET", "k", "v"))
        self.wait_until_seen(self.writer_id, b"set")
        # The write is held: no reply yet, and not applied. Reads go on.
        self.assertFalse(self.writer.pending())
        self.assertEqual(self.reader.call("GET", "k"), b"$-1\r\n")
        self.assertEqual(self.reader.call("PING"), b"+PONG\r\n")
        self.assertEqual(self.admin.call("CLIENT", "UNPAUSE"), b"+OK\r\n")
        self.assertEqual(self.writer.read_reply(), b"+OK\r\n")
        self.assertEqual(self.reader.call("GET", "k"), b"$1\r\nv\r\n")

    def test_paused_client_keeps_pipeline_order(self):
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "100000", "WRITE"), b"+OK\r\n")
        self.writer.send(encode_command("INCR", "n") + encode_command("GET", "n") +
                         encode_command("INCR", "n"))
        self.wait_until_seen(self.writer_id, b"incr")
        self.assertFalse(self.writer.pending())
        self.assertEqual(self.admin.call("CLIENT", "UNPAUSE"), b"+OK\r\n")
        self.assertEqual(self.writer.read_replies(3), [b":1\r\n", b"$1\r\n1\r\n", b":2\r\n"])

    def test_pause_ends_by_itself(self):
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "200", "WRITE"), b"+OK\r\n")
        self.writer.send(encode_command("SET", "k", "v"))
        # Without UNPAUSE the write completes once the pause times out.
        self.assertEqual(self.writer.read_reply(), b"+OK\r\n")
        self.assertEqual(self.reader.call("GET", "k"), b"$1\r\nv\r\n")

    def test_pause_all_holds_reads_too(self):
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "300"), b"+OK\r\n")
        self.reader.send(encode_command("GET", "k"))
        self.assertEqual(self.reader.read_reply(), b"$-1\r\n")

    def test_disconnect_while_paused(self):
        self.assertEqual(self.admin.call("CLIENT", "PAUSE", "100000", "WRITE"), b"+OK\r\n")
        self.writer.send(encode_command("SET", "k", "v"))
        self.wait_until_seen(self.writer_id, b"set")
        self.writer.close()
        wait_for(lambda: client_fields(self.reader, self.writer_id) is None,
                 message="the closed client to leave CLIENT LIST")
        self.assertEqual(self.admin.call("CLIENT", "UNPAUSE"), b"+OK\r\n")
        self.assertEqual(self.reader.call("GET", "k"), b"$-1\r\n")
        self.assertIn(b"id=", self.reader.call("CLIENT", "LIST"))


class ClientList(ServerTestCase):
    def test_client_list(self):
        srv = self.start_keyward()
        a = self.raw_client(srv)
        b = self.raw_client(srv)
        a.call("CLIENT", "SETNAME", "alpha")
        b.call("SELECT", "5")
        ida, idb = client_id(a), client_id(b)
        self.assertLess(ida, idb)
        wait_for(lambda: decode(a.call("CLIENT", "LIST")).count(b"\n") == 2,
                 message="two clients listed")
        fa, fb = client_fields(b, ida), client_fields(a, idb)
        self.assertEqual(fa[b"name"], b"alpha")
        self.assertEqual(fa[b"addr"], local_addr(a))
        self.assertEqual(fa[b"laddr"], ("127.0.0.1:%d" % srv.port).encode())
        self.assertEqual(fb[b"db"], b"5")
        self.assertEqual(fb[b"flags"], b"N")
        both = decode(a.call("CLIENT", "LIST", "ID", str(ida), str(idb))).strip().split(b"\n")
        self.assertEqual(len(both), 2)
        self.assertEqual(decode(a.call("CLIENT", "LIST", "ID", "999999")), b"")
        # Listed in id order.
        ids = [int(re.match(rb"id=(\d+)", line).group(1))
               for line in decode(a.call("CLIENT", "LIST")).strip().split(b"\n")]
        self.assertEqual(ids, sorted(ids))


if __name__ == "__main__":
    unittest.main(verbosity=2)
