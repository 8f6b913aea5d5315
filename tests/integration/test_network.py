"""Network-facing behaviour of the real keyward-server binary: unix socket, requirepass/AUTH,
protected mode, maxclients, client-query-buffer-limit, proto-max-bulk-len, idle timeout."""

import os
import re
import socket
import stat
import unittest

from keyward_harness import (REDIS_CLI, ServerTestCase, encode_command, import_redis,
                             make_workdir, wait_for)

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


def client_count(client):
    """Number of connections the server lists (CLIENT LIST has one line per client)."""
    listing = client.call("CLIENT", "LIST")
    body = listing.split(b"\r\n", 1)[1]
    return len([line for line in body.split(b"\n") if line.startswith(b"id=")])


class UnixSocket(ServerTestCase):
    def test_unix_socket_only(self):
        path = os.path.join(make_workdir(), "keyward.sock")
        srv = self.start_keyward(["--port", "0", "--unixsocket", path, "--unixsocketperm", "700"])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700)
        self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
        c = self.raw_client(srv, unix=True)
        self.assertEqual(c.call("SET", "k", "v"), b"+OK\r\n")
        self.assertEqual(c.call("GET", "k"), b"$1\r\nv\r\n")
        info = c.call("CLIENT", "INFO")
        self.assertIn(b"addr=/", info)  # unix clients show the socket path
        self.assertIn(b"flags=U", info)
        self.assertEqual(c.call("CONFIG", "GET", "unixsocket"),
                         b"*2\r\n$10\r\nunixsocket\r\n$%d\r\n%s\r\n" % (len(path), path.encode()))
        self.assertEqual(c.call("CONFIG", "GET", "unixsocketperm"),
                         b"*2\r\n$14\r\nunixsocketperm\r\n$3\r\n700\r\n")
        proc = self.run_tool([REDIS_CLI, "-s", path, "get", "k"])
        self.assertEqual(proc.stdout, b"v\n")
        redis = import_redis()
        r = redis.Redis(unix_socket_path=path)
        self.addCleanup(r.close)
        self.assertEqual(r.get("k"), b"v")

    def test_tcp_and_unix_together(self):
        path = os.path.join(make_workdir(), "both.sock")
        srv = self.start_keyward(["--unixsocket", path])
        tcp = self.raw_client(srv)
        unix = self.raw_client(srv, unix=True)
        self.assertEqual(tcp.call("SET", "k", "from-tcp"), b"+OK\r\n")
        self.assertEqual(unix.call("GET", "k"), b"$8\r\nfrom-tcp\r\n")
        self.assertEqual(client_count(unix), 2)

    def test_socket_file_removed_on_shutdown(self):
        path = os.path.join(make_workdir(), "gone.sock")
        srv = self.start_keyward(["--unixsocket", path])
        self.assertTrue(os.path.exists(path))
        self.assertEqual(srv.stop(), 0)
        self.assertFalse(os.path.exists(path), "unix socket file left behind after shutdown")


class RequirePass(ServerTestCase):
    def test_requirepass(self):
        srv = self.start_keyward(["--requirepass", "s3cret"])
        c = self.raw_client(srv)
        self.assertEqual(c.call("PING"), NOAUTH)
        self.assertEqual(c.call("GET", "k"), NOAUTH)
        # Command lookup comes before authentication in the gatekeeper.
        self.assertEqual(c.call("NOSUCHCOMMAND"),
                         b"-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \r\n")
        self.assertEqual(c.call("AUTH", "wrong"), WRONGPASS)
        self.assertEqual(c.call("AUTH", "default", "wrong"), WRONGPASS)
        self.assertEqual(c.call("AUTH", "nosuchuser", "s3cret"), WRONGPASS)
        self.assertEqual(c.call("AUTH"), b"-ERR wrong number of arguments for 'auth' command\r\n")
        self.assertEqual(c.call("PING"), NOAUTH)
        self.assertEqual(c.call("AUTH", "s3cret"), b"+OK\r\n")
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        self.assertEqual(c.call("SET", "k", "v"), b"+OK\r\n")

        c2 = self.raw_client(srv)
        self.assertEqual(c2.call("AUTH", "default", "s3cret"), b"+OK\r\n")
        self.assertEqual(c2.call("GET", "k"), b"$1\r\nv\r\n")

        # HELLO can authenticate; without AUTH it is refused like any command.
        c3 = self.raw_client(srv)
        self.assertEqual(c3.call("HELLO", "3"), b"-NOAUTH HELLO must be called with the client "
                         b"already authenticated, otherwise the HELLO AUTH <user> <pass> "
                         b"option can be used to authenticate the client and select the RESP "
                         b"protocol version at the same time\r\n")
        self.assertEqual(c3.call("HELLO", "3", "AUTH", "default", "wrong"), WRONGPASS)
        reply = c3.call("HELLO", "3", "AUTH", "default", "s3cret")
        self.assertTrue(reply.startswith(b"%7\r\n"), reply)
        self.assertEqual(c3.call("GET", "missing"), b"_\r\n")

        # The password is not shown by CONFIG GET in clear only when set: Redis shows it.
        self.assertEqual(c.call("CONFIG", "GET", "requirepass"),
                         b"*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n")

        # Changing the password at run time: existing connections stay authenticated.
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", "other"), b"+OK\r\n")
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        c4 = self.raw_client(srv)
        self.assertEqual(c4.call("AUTH", "s3cret"), WRONGPASS)
        self.assertEqual(c4.call("AUTH", "other"), b"+OK\r\n")
        # Removing it: new connections need no AUTH.
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", ""), b"+OK\r\n")
        c5 = self.raw_client(srv)
        self.assertEqual(c5.call("PING"), b"+PONG\r\n")

    def test_unauthenticated_protocol_limits(self):
        # Before AUTH, Redis refuses big multibulk requests to limit what a stranger can make it
        # allocate.
        srv = self.start_keyward(["--requirepass", "pw"])
        c = self.raw_client(srv)
        c.send(b"*11\r\n")
        self.assertEqual(c.wait_closed(),
                         b"-ERR Protocol error: unauthenticated multibulk length\r\n")
        c = self.raw_client(srv)
        c.send(b"*1\r\n$16385\r\n")
        self.assertEqual(c.wait_closed(), b"-ERR Protocol error: unauthenticated bulk length\r\n")
        c = self.raw_client(srv)
        self.assertEqual(c.call("AUTH", "pw"), b"+OK\r\n")
        self.assertEqual(c.call("ECHO", "x" * 20000), b"$20000\r\n" + b"x" * 20000 + b"\r\n")

    def test_clients_with_password(self):
        srv = self.start_keyward(["--requirepass", "pw"])
        proc = self.run_tool([REDIS_CLI, "-p", str(srv.port), "-a", "pw", "--no-auth-warning",
                              "set", "k", "v"])
        self.assertEqual(proc.stdout, b"OK\n")
        proc = self.run_tool([REDIS_CLI, "-p", str(srv.port), "get", "k"], check=False)
        self.assertIn(b"NOAUTH Authentication required.", proc.stdout + proc.stderr)
        redis = import_redis()
        r = srv.redis_py(password="pw")
        self.addCleanup(r.close)
        self.assertEqual(r.get("k"), b"v")
        bad = srv.redis_py(password="nope")
        self.addCleanup(bad.close)
        with self.assertRaises((redis.AuthenticationError, redis.ResponseError)) as cm:
            bad.get("k")
        self.assertIn("WRONGPASS", str(cm.exception))


class ProtectedMode(ServerTestCase):
    """Protected mode refuses clients from anywhere but 127.0.0.1 and ::1 (the rest of
    127.0.0.0/8 too, as Redis 7.0); loopback clients are served in every configuration."""

    def test_other_loopback_addresses_are_refused_as_by_redis(self):
        def ping_from(srv, source):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10,
                                          source_address=(source, 0)) as s:
                s.sendall(encode_command("PING"))
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                return data
        # Whatever the bind; not with protected mode off, nor with a password.
        for args, bind_loopback in (([], False), ([], True), (["--protected-mode", "no"], True),
                                    (["--requirepass", "pw"], True)):
            with self.subTest(args=args, bind_loopback=bind_loopback):
                replies = {}
                for name, srv in (("redis", self.start_redis(args, bind_loopback=bind_loopback)),
                                  ("keyward",
                                   self.start_keyward(args, bind_loopback=bind_loopback))):
                    replies[name] = (ping_from(srv, "127.0.0.9"), ping_from(srv, "127.0.0.1"))
                if not args:
                    self.assertTrue(
                        replies["redis"][0].startswith(b"-DENIED Redis is running in protected"),
                        replies["redis"])
                    self.assertEqual(replies["redis"][1], b"+PONG\r\n")
                else:
                    self.assertFalse(replies["redis"][0].startswith(b"-DENIED"), replies["redis"])
                self.assertEqual(replies["keyward"], replies["redis"])

    def test_default_config_serves_loopback(self):
        # No bind, no password, protected mode on: the configuration protected mode is for.
        srv = self.start_keyward(bind_loopback=False)
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "GET", "protected-mode"),
                         b"*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n")
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "protected-mode", "no"), b"+OK\r\n")
        self.assertEqual(c.call("CONFIG", "GET", "protected-mode"),
                         b"*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "protected-mode", "perhaps"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'protected-mode') "
                         b"- argument must be 'yes' or 'no'\r\n")

    def test_command_line_option(self):
        srv = self.start_keyward(["--protected-mode", "no"])
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "GET", "protected-mode"),
                         b"*2\r\n$14\r\nprotected-mode\r\n$2\r\nno\r\n")

    def test_ipv6_loopback(self):
        srv = self.start_keyward(["--bind", "127.0.0.1", "-::1"])
        try:
            s = socket.create_connection(("::1", srv.port), timeout=5)
        except OSError:
            self.skipTest("no IPv6 loopback here")
        s.sendall(encode_command("PING"))
        self.assertEqual(s.recv(100), b"+PONG\r\n")
        s.close()


class MaxClients(ServerTestCase):
    def test_maxclients(self):
        srv = self.start_keyward(["--maxclients", "2"])
        a = self.raw_client(srv)
        self.assertEqual(a.call("PING"), b"+PONG\r\n")
        # The harness's readiness probe has disconnected; wait until the server has noticed.
        wait_for(lambda: client_count(a) == 1, message="only one client connected")
        b = self.raw_client(srv)
        self.assertEqual(b.call("PING"), b"+PONG\r\n")
        c = self.raw_client(srv)
        self.assertEqual(c.wait_closed(), b"-ERR max number of clients reached\r\n")
        self.assertEqual(a.call("CONFIG", "GET", "maxclients"),
                         b"*2\r\n$10\r\nmaxclients\r\n$1\r\n2\r\n")
        # Once a slot frees up, a new client is accepted.
        b.close()
        wait_for(lambda: client_count(a) == 1, message="the second client to be gone")
        d = self.raw_client(srv)
        self.assertEqual(d.call("PING"), b"+PONG\r\n")
        # Raised at run time.
        self.assertEqual(a.call("CONFIG", "SET", "maxclients", "3"), b"+OK\r\n")
        e = self.raw_client(srv)
        self.assertEqual(e.call("PING"), b"+PONG\r\n")
        info = a.call("INFO", "stats")
        self.assertIn(b"rejected_connections:1\r\n", info)


class ProtocolLimits(ServerTestCase):
    def test_proto_max_bulk_len(self):
        srv = self.start_keyward(["--proto-max-bulk-len", "1mb"])
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "GET", "proto-max-bulk-len"),
                         b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n")
        value = b"x" * (1024 * 1024)
        self.assertEqual(c.call("SET", "k", value), b"+OK\r\n")  # exactly the limit
        self.assertEqual(c.call("APPEND", "k", "y"),
                         b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        self.assertEqual(c.call("SETRANGE", "k", str(1024 * 1024), "y"),
                         b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        self.assertEqual(c.call("SETBIT", "b", str(8 * 1024 * 1024), "1"),
                         b"-ERR bit offset is not an integer or out of range\r\n")
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        self.assertEqual(c.wait_closed(), b"-ERR Protocol error: invalid bulk length\r\n")
        c2 = self.raw_client(srv)
        self.assertEqual(c2.call("STRLEN", "k"), b":1048576\r\n")
        self.assertEqual(c2.call("CONFIG", "SET", "proto-max-bulk-len", "2mb"), b"+OK\r\n")
        self.assertEqual(c2.call("APPEND", "k", "y"), b":1048577\r\n")

    def test_client_query_buffer_limit(self):
        srv = self.start_keyward(["--client-query-buffer-limit", "1mb"])
        victim = self.raw_client(srv)
        self.assertEqual(victim.call("PING"), b"+PONG\r\n")
        # A 2 MB argument that never completes: the query buffer passes the limit and the
        # server closes the connection without a reply.
        victim.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n")
        chunk = b"z" * 65536
        try:
            for _ in range(24):  # 1.5 MB
                victim.send(chunk)
        except OSError:
            pass  # closed while sending: expected
        self.assertEqual(victim.wait_closed(), b"")
        other = self.raw_client(srv)
        self.assertEqual(other.call("PING"), b"+PONG\r\n")
        self.assertEqual(other.call("EXISTS", "k"), b":0\r\n")
        # Under the limit, big requests are fine.
        ok = self.raw_client(srv)
        self.assertEqual(ok.call("SET", "k", b"q" * (900 * 1024)), b"+OK\r\n")
        self.assertEqual(ok.call("STRLEN", "k"), b":921600\r\n")

    def test_inline_limit(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        c.send(b"x" * (70 * 1024))
        self.assertEqual(c.wait_closed(), b"-ERR Protocol error: too big inline request\r\n")


class IdleTimeout(ServerTestCase):
    def test_idle_client_is_closed(self):
        srv = self.start_keyward(["--timeout", "1"])
        idle = self.raw_client(srv)
        self.assertEqual(idle.call("PING"), b"+PONG\r\n")
        # Closed without any reply once idle for more than a second (the cron checks at hz).
        self.assertEqual(idle.wait_closed(timeout=15), b"")
        # A client that keeps talking is not closed: each command resets the idle time.
        busy = self.raw_client(srv)
        self.assertEqual(busy.call("CONFIG", "GET", "timeout"),
                         b"*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n")
        self.assertEqual(busy.call("CONFIG", "SET", "timeout", "0"), b"+OK\r\n")
        quiet = self.raw_client(srv)
        self.assertEqual(quiet.call("PING"), b"+PONG\r\n")
        # With timeout 0 nothing is ever closed: the quiet client survives an idle period as
        # long as the one above needed to be closed (observed through a third client's
        # CLIENT LIST idle field, not by sleeping a fixed time).
        quiet_id = int(quiet.call("CLIENT", "ID")[1:-2])

        def quiet_idle_seconds():
            line = busy.call("CLIENT", "LIST", "ID", str(quiet_id))
            match = re.search(rb" idle=(\d+) ", line)
            return int(match.group(1)) if match else -1

        wait_for(lambda: quiet_idle_seconds() >= 2, timeout=20, interval=0.2,
                 message="the quiet client to be idle for 2 seconds")
        self.assertTrue(quiet.is_open())
        self.assertEqual(quiet.call("PING"), b"+PONG\r\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
