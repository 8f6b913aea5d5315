"""TLS on the server (tls-port and the tls-* options), checked against redis-server 7.0.15 where
Redis defines the behaviour: CONFIG GET and CONFIG SET replies and errors byte for byte, client
certificates by tls-auth-clients, what a plain client on the TLS port gets, start-up refusal
without a usable certificate. Then what users rely on: certificates renewed by CONFIG SET without
a restart (new connections get the new certificate, open ones keep working, a bad renewal changes
nothing), tls-port opened and closed at run time, encrypted keys, large values and pipelines over
TLS (redis-py and redis-cli), and replication over TLS in both directions with Redis peers
(tls-replication)."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

import sentinel_support
from keyward_harness import (RawClient, ServerError, ServerTestCase, decode, free_port,
                             import_redis, start_keyward, start_redis, wait_for)

KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Certs:
    """A test PKI in a temporary directory: ca.crt, a server certificate for 127.0.0.1 (as many
    as asked, each with its own CN), a client certificate, an unrelated CA, an encrypted key."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keyward-tls-")
        openssl("req", "-x509", *KEY, "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days",
                "2", "-subj", "/CN=Keyward Test CA", cwd=self.dir)
        openssl("req", "-x509", *KEY, "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.crt",
                "-days", "2", "-subj", "/CN=Other CA", cwd=self.dir)
        with open(self.path("san.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        self.issue("server", "server-1")
        self.issue("client", "client")

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, cn, ca="ca", passphrase=None):
        """name.crt / name.key signed by `ca`, with CN=cn; the key encrypted with `passphrase`."""
        key_opts = ["-passout", "pass:" + passphrase] if passphrase else ["-nodes"]
        openssl("req", *KEY, *key_opts, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn, cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", "san.cnf",
                cwd=self.dir)

    def server_args(self, tls_port, auth="yes"):
        return ["--tls-port", tls_port, "--tls-cert-file", self.path("server.crt"),
                "--tls-key-file", self.path("server.key"), "--tls-ca-cert-file",
                self.path("ca.crt"), "--tls-auth-clients", auth]

    def context(self, client_cert=True, ca="ca.crt", max_version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.path(ca))
        if client_cert:
            ctx.load_cert_chain(self.path("client.crt"), self.path("client.key"))
        if max_version:
            ctx.maximum_version = max_version
        return ctx

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def tls_client(port, ctx, timeout=10.0):
    """A RawClient over TLS (the handshake done)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    client = RawClient.__new__(RawClient)
    client.sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    client.timeout = timeout
    client.buf = bytearray()
    return client


def peer_cn(port, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            return subject["commonName"]


def refused(port, ctx):
    """Whether the server refuses the TLS connection: a failed handshake, or a connection closed
    before its first reply (TLS 1.3 reports a missing client certificate after the handshake)."""
    try:
        c = tls_client(port, ctx)
    except (ssl.SSLError, ConnectionError):
        return True
    try:
        c.send(b"*1\r\n$4\r\nPING\r\n")
        return c.read_reply() != b"+PONG\r\n"
    except (ssl.SSLError, ConnectionError, OSError, Exception):
        return True
    finally:
        c.close()


class TlsCase(ServerTestCase):

    def setUp(self):
        super().setUp()
        if shutil.which("openssl") is None:
            self.fail("the openssl command is required (install-deps installs it)")
        self.certs = Certs()
        self.addCleanup(self.certs.remove)

    def start_both(self, args_for):
        """A Keyward and a Redis server, each with args_for(tls_port); returns
        [(server, tls_port), ...] for Keyward then Redis."""
        servers = []
        for start in (self.start_keyward, self.start_redis):
            tls_port = free_port()
            servers.append((start(args_for(tls_port)), tls_port))
        return servers


class Differential(TlsCase):

    def test_config_get_and_set_as_redis(self):
        (k, kport), (r, rport) = self.start_both(self.certs.server_args)
        kc, rc = self.raw_client(k), self.raw_client(r)

        def config(c, port):
            pairs = decode(c.call("CONFIG", "GET", "tls-*"))
            return {key: value for key, value in zip(pairs[::2], pairs[1::2])
                    if key != b"tls-port"}
        self.assertEqual(config(kc, kport), config(rc, rport))
        self.assertEqual(len(config(kc, kport)), 19)  # every tls-* option but the port
        bad_dh = self.certs.path("ca.crt")  # a file, but no DH parameters in it
        sequence = [
            ("tls-cert-file", "/nonexistent"),
            ("tls-protocols", "bogus"),
            ("tls-protocols", "TLSv1.3"),
            ("tls-protocols", "tlsv1.2 TLSv1.3"),
            ("tls-ciphers", "NO-SUCH-CIPHER"),
            ("tls-ciphersuites", "NO_SUCH_SUITE"),
            ("tls-dh-params-file", "/nonexistent"),
            ("tls-dh-params-file", bad_dh),
            ("tls-dh-params-file", ""),
            ("tls-cert-file", self.certs.path("server.crt"), "tls-key-file",
             self.certs.path("ca.key")),
            ("tls-session-cache-size", "-1"),
            ("tls-auth-clients", "maybe"),
            ("tls-auth-clients", "no"),
            ("tls-ca-cert-file", ""),
            ("tls-auth-clients", "yes", "tls-ca-cert-file", ""),
            ("tls-replication", "yes"),
            ("tls-ca-cert-file", self.certs.path("ca.crt")),
            ("tls-auth-clients", "optional"),
            ("tls-key-file-pass", "secret"),
            ("tls-port", "0"),
            ("tls-cert-file", ""),
        ]
        for args in sequence:
            kr = kc.call("CONFIG", "SET", *args)
            rr = rc.call("CONFIG", "SET", *args)
            self.assertEqual(kr, rr, "CONFIG SET %s" % (args,))
        self.assertEqual(config(kc, kport), config(rc, rport))

    def test_client_certificates_by_tls_auth_clients(self):
        servers = self.start_both(self.certs.server_args)
        with_cert, without = self.certs.context(), self.certs.context(client_cert=False)
        untrusted = self.certs.context(ca="other-ca.crt")
        for srv, port in servers:
            c = self.raw_client(srv)
            with self.subTest(server=srv.name):
                self.assertFalse(refused(port, with_cert))
                self.assertTrue(refused(port, without), "yes: a certificate is required")
                self.assertTrue(refused(port, untrusted), "the server's CA is not trusted")
                self.assertEqual(c.call("CONFIG", "SET", "tls-auth-clients", "optional"), b"+OK\r\n")
                self.assertFalse(refused(port, without))
                self.assertFalse(refused(port, with_cert))
#A certificate from another CA is refused even when optional.
                self.certs.issue("stranger", "stranger", ca="other-ca")
                stranger = self.certs.context(client_cert=False)
                stranger.load_cert_chain(self.certs.path("stranger.crt"),
                                         self.certs.path("stranger.key"))
                self.assertTrue(refused(port, stranger))
                self.assertEqual(c.call("CONFIG", "SET", "tls-auth-clients", "no"), b"+OK\r\n")
                self.assertFalse(refused(port, without))
                self.assertFalse(refused(port, stranger))

    def test_a_plain_client_on_the_tls_port_is_dropped_and_logged(self):
        for srv, port in self.start_both(self.certs.server_args):
            with self.subTest(server=srv.name):
                c = RawClient(port=port)
                c.send(b"*1\r\n$4\r\nPING\r\n")
                c.wait_closed()  # closed, not left hanging (raises if still open)
                c.close()
                wait_for(lambda: "Error accepting a client connection" in srv.output(),
                         message="the refusal logged")
                self.assertTrue(srv.answers_ping())

    def test_start_up_without_a_usable_certificate_is_refused(self):
        for start in (start_keyward, start_redis):
            args = ["--tls-port", free_port(), "--tls-cert-file", "/nonexistent",
                    "--tls-key-file", self.certs.path("server.key"), "--tls-auth-clients", "no"]
            with self.assertRaises(ServerError) as e:
                start(args, ready_timeout=10, attempts=1)
            self.assertIn("Failed to load certificate: /nonexistent", str(e.exception))
            self.assertIn("Failed to configure TLS. Check logs for more info.", str(e.exception))
#Without a CA while client certificates are required.
            args = ["--tls-port", free_port(), "--tls-cert-file", self.certs.path("server.crt"),
                    "--tls-key-file", self.certs.path("server.key")]
            with self.assertRaises(ServerError) as e:
                start(args, ready_timeout=10, attempts=1)
            self.assertIn("Either tls-ca-cert-file or tls-ca-cert-dir must be specified",
                          str(e.exception))

    def test_tls_port_opened_and_closed_at_run_time(self):
        for start in (self.start_keyward, self.start_redis):
            srv = start([])
            c = self.raw_client(srv)
            port = free_port()
            with self.subTest(server=srv.name):
#No certificate yet : TLS cannot start.
                self.assertEqual(c.call("CONFIG", "SET", "tls-port", port),
                                 b"-ERR CONFIG SET failed (possibly related to argument "
                                 b"'tls-port') - Unable to update TLS configuration. Check "
                                 b"server logs.\r\n")
                self.assertEqual(decode(c.call("CONFIG", "GET", "tls-port")), [b"tls-port", b"0"])
                self.assertEqual(
                    c.call("CONFIG", "SET", "tls-cert-file", self.certs.path("server.crt"),
                           "tls-key-file", self.certs.path("server.key"), "tls-ca-cert-file",
                           self.certs.path("ca.crt"), "tls-port", port), b"+OK\r\n")
                self.assertFalse(refused(port, self.certs.context()))
                other = free_port()
                self.assertEqual(c.call("CONFIG", "SET", "tls-port", other), b"+OK\r\n")
                self.assertFalse(refused(other, self.certs.context()))
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", port), timeout=5)
                self.assertEqual(c.call("CONFIG", "SET", "tls-port", 0), b"+OK\r\n")
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", other), timeout=5)
                self.assertTrue(srv.answers_ping())


class Renewal(TlsCase):
    """Certificates renewed without a restart: CONFIG SET of the same paths reloads the files."""

    def test_new_connections_get_the_new_certificate_open_ones_keep_working(self):
        tls_port = free_port()
        srv = self.start_keyward(self.certs.server_args(tls_port))
        c = self.raw_client(srv)
        ctx = self.certs.context()
        self.assertEqual(peer_cn(tls_port, ctx), "server-1")
        old = tls_client(tls_port, ctx)
        self.assertEqual(old.call("SET", "k", "before"), b"+OK\r\n")

        self.certs.issue("server", "server-2")  # the files replaced in place, as certbot does
        self.assertEqual(peer_cn(tls_port, ctx), "server-1", "not reloaded before CONFIG SET")
        self.assertEqual(c.call("CONFIG", "SET", "tls-cert-file", self.certs.path("server.crt"),
                                "tls-key-file", self.certs.path("server.key")), b"+OK\r\n")
        self.assertEqual(peer_cn(tls_port, ctx), "server-2")
        self.assertEqual(old.call("GET", "k"), b"$6\r\nbefore\r\n")

#A renewal that fails(the key does not match) changes nothing.
        reply = c.call("CONFIG", "SET", "tls-key-file", self.certs.path("client.key"))
        self.assertTrue(reply.startswith(b"-ERR CONFIG SET failed"), reply)
        self.assertEqual(decode(c.call("CONFIG", "GET", "tls-key-file")),
                         [b"tls-key-file", self.certs.path("server.key").encode()])
        self.assertEqual(peer_cn(tls_port, ctx), "server-2")
#A new CA : clients of the old one are refused from then on.
        shutil.copy(self.certs.path("other-ca.crt"), self.certs.path("ca2.crt"))
        self.assertEqual(c.call("CONFIG", "SET", "tls-ca-cert-file", self.certs.path("ca2.crt")),
                         b"+OK\r\n")
        self.assertTrue(refused(tls_port, ctx))
        self.assertEqual(old.call("GET", "k"), b"$6\r\nbefore\r\n")
        old.close()

    def test_an_encrypted_key_with_its_passphrase(self):
        self.certs.issue("locked", "locked", passphrase="s3cret")
        base = ["--tls-cert-file", self.certs.path("locked.crt"), "--tls-key-file",
                self.certs.path("locked.key"), "--tls-ca-cert-file", self.certs.path("ca.crt")]
        with self.assertRaises(ServerError) as e:
            start_keyward(["--tls-port", free_port()] + base, ready_timeout=10, attempts=1)
        self.assertIn("Failed to load private key", str(e.exception))
        tls_port = free_port()
        srv = self.start_keyward(["--tls-port", tls_port, "--tls-key-file-pass", "s3cret"] + base)
        self.assertEqual(peer_cn(tls_port, self.certs.context()), "locked")
        c = self.raw_client(srv)
        self.assertEqual(decode(c.call("CONFIG", "GET", "tls-key-file-pass")),
                         [b"tls-key-file-pass", b"s3cret"])

    def test_protocols_limit_what_a_client_may_speak(self):
        tls_port = free_port()
        srv = self.start_keyward(self.certs.server_args(tls_port) + ["--tls-protocols", "TLSv1.3"])
        self.assertTrue(refused(tls_port, self.certs.context(max_version=ssl.TLSVersion.TLSv1_2)))
        self.assertFalse(refused(tls_port, self.certs.context()))
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "SET", "tls-protocols", "TLSv1.2"), b"+OK\r\n")
        self.assertFalse(refused(tls_port, self.certs.context(max_version=ssl.TLSVersion.TLSv1_2)))


class Clients(TlsCase):

    def test_large_values_and_pipelines_over_tls(self):
        redis = import_redis()
        tls_port = free_port()
        self.start_keyward(self.certs.server_args(tls_port))
        r = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=self.certs.path("ca.crt"),
                        ssl_certfile=self.certs.path("client.crt"),
                        ssl_keyfile=self.certs.path("client.key"), socket_timeout=30)
        big = os.urandom(8 << 20)  # many TLS records, written in the background
        self.assertTrue(r.set("big", big))
        self.assertEqual(r.get("big"), big)
        pipe = r.pipeline(transaction=False)
        for i in range(5000):
            pipe.incr("counter")
        self.assertEqual(pipe.execute()[-1], 5000)
        pipe = r.pipeline(transaction=False)
        for i in range(50):
            pipe.get("big")
        self.assertTrue(all(v == big for v in pipe.execute()))
        r.close()

    def test_a_peer_that_never_completes_the_handshake_is_dropped(self):
        tls_port = free_port()
        self.start_keyward(self.certs.server_args(tls_port))
        silent = RawClient(port=tls_port, timeout=60)
        silent.wait_closed(timeout=60)  # raises if the server keeps it open
        silent.close()

    def test_the_query_buffer_of_an_idle_tls_client_shrinks(self):
        for srv, port in self.start_both(self.certs.server_args):
            with self.subTest(server=srv.name):
                c = tls_client(port, self.certs.context())
                self.assertEqual(c.call("CLIENT", "SETNAME", "big"), b"+OK\r\n")
                self.assertEqual(c.call("SET", "big", b"x" * (4 << 20)), b"+OK\r\n")
                admin = self.raw_client(srv)

                def qbuf_free():
                    for line in decode(admin.call("CLIENT", "LIST")).decode().splitlines():
                        if " name=big " in line:
                            return int(line.split(" qbuf-free=")[1].split()[0])
                    raise AssertionError("the client is gone")
                wait_for(lambda: qbuf_free() < (64 << 10), timeout=30,
                         message="the 4 MB query buffer given back")
                self.assertEqual(c.call("STRLEN", "big"), b":%d\r\n" % (4 << 20))
                c.close()

    def test_redis_cli_over_tls(self):
        tls_port = free_port()
        self.start_keyward(self.certs.server_args(tls_port))
        tls = ["--tls", "--cacert", self.certs.path("ca.crt"), "--cert",
               self.certs.path("client.crt"), "--key", self.certs.path("client.key")]
        out = self.run_tool(["redis-cli", "-p", str(tls_port)] + tls + ["SET", "cli", "tls"])
        self.assertEqual(out.stdout.strip(), b"OK")
        out = self.run_tool(["redis-cli", "-p", str(tls_port)] + tls + ["GET", "cli"])
        self.assertEqual(out.stdout.strip(), b"tls")
#Without the client certificate, redis - cli is turned away.
        result = subprocess.run(["redis-cli", "-p", str(tls_port), "--tls", "--cacert",
                                 self.certs.path("ca.crt"), "PING"], capture_output=True,
                                text=True, timeout=30)
        self.assertNotIn("PONG", result.stdout)


class Replication(TlsCase):
    """tls-replication: the replica's link to its master is TLS, Keyward and Redis either way."""

    def replica_args(self, master_tls_port):
        return ["--tls-replication", "yes", "--tls-cert-file", self.certs.path("client.crt"),
                "--tls-key-file", self.certs.path("client.key"), "--tls-ca-cert-file",
                self.certs.path("ca.crt"), "--replicaof", "127.0.0.1", str(master_tls_port)]

    def check_pair(self, start_master, start_replica):
        tls_port = free_port()
        master = start_master(self.certs.server_args(tls_port))
        m = self.raw_client(master)
        for i in range(100):
            m.call("SET", "before:%d" % i, i)
        replica = start_replica(self.replica_args(tls_port))
        r = self.raw_client(replica)
        wait_for(lambda: b"master_link_status:up" in decode(r.call("INFO", "replication")),
                 timeout=30, message="the replica's link over TLS")
        for i in range(100):
            m.call("SET", "after:%d" % i, i)
        wait_for(lambda: r.call("DBSIZE") == b":200\r\n", timeout=30,
                 message="every key on the replica")
        self.assertEqual(r.call("GET", "after:99"), b"$2\r\n99\r\n")
#The master saw a TLS client : the replica, connected to the TLS port only.
        info = decode(m.call("INFO", "replication"))
        self.assertIn(b"connected_slaves:1", info)

    def test_keyward_replica_of_keyward_master(self):
        self.check_pair(self.start_keyward, self.start_keyward)

    def test_keyward_replica_of_redis_master(self):
        self.check_pair(self.start_redis, self.start_keyward)

    def test_redis_replica_of_keyward_master(self):
        self.check_pair(self.start_keyward, self.start_redis)

    def test_a_replica_that_does_not_trust_the_master_does_not_sync(self):
        tls_port = free_port()
        master = self.start_keyward(self.certs.server_args(tls_port))
        args = self.replica_args(tls_port)
        args[args.index("--tls-ca-cert-file") + 1] = self.certs.path("other-ca.crt")
        replica = self.start_keyward(args)
        r = self.raw_client(replica)
        wait_for(lambda: "Error condition on socket for SYNC" in replica.output()
                 or "certificate verify failed" in replica.output(), timeout=30,
                 message="the failed handshake reported")
        self.assertIn(b"master_link_status:down", decode(r.call("INFO", "replication")))
        self.assertIn(b"connected_slaves:0",
                      decode(self.raw_client(master).call("INFO", "replication")))


class Sentinel(TlsCase):
    """A sentinel with tls-replication reaches its master and the replicas over TLS only: the
    master and replica are given their TLS ports, their plain ports are never announced. The
    same checks run against redis-sentinel, so the topology is the one Redis builds."""

    def check(self, sentinel_binary):
        master_tls, replica_tls = free_port(), free_port()
        master = self.start_keyward(self.certs.server_args(master_tls))
        replica_args = self.certs.server_args(replica_tls) + [
            "--tls-replication", "yes", "--replicaof", "127.0.0.1", str(master_tls)]
        replica = self.start_keyward(replica_args)
        r = self.raw_client(replica)
        wait_for(lambda: b"master_link_status:up" in decode(r.call("INFO", "replication")),
                 timeout=30, message="the replica's link over TLS")
        tls_lines = ["tls-replication yes", "tls-port %d" % free_port(),
                     "tls-cert-file " + self.certs.path("client.crt"),
                     "tls-key-file " + self.certs.path("client.key"),
                     "tls-ca-cert-file " + self.certs.path("ca.crt")]
        sentinel = sentinel_support.start_sentinel(master_tls, binary=sentinel_binary,
                                                   quorum=1, extra=tls_lines)
        self.addCleanup(sentinel.stop)
        wait_for(lambda: sentinel_support.instance_ports(sentinel, "REPLICAS") == {replica_tls},
                 timeout=30, message="the replica found through the master's INFO over TLS")
        master_state = sentinel_support.as_dict(
            sentinel_support.call(sentinel, "SENTINEL", "MASTER", sentinel_support.MASTER_NAME))
        self.assertEqual(master_state["flags"], "master")
        self.assertEqual(master_state["port"], str(master_tls))
        wait_for(lambda: sentinel_support.as_dict(sentinel_support.call(
            sentinel, "SENTINEL", "REPLICAS", sentinel_support.MASTER_NAME)[0])["flags"] == "slave",
            timeout=30, message="the replica reached over TLS")
        self.assertTrue(master.alive())

    def test_keyward_sentinel_over_tls(self):
        self.check(sentinel_support.sentinel_under_test())

    def test_redis_sentinel_over_tls(self):
        self.check(sentinel_support.REAL_SENTINEL)


if __name__ == "__main__":
    unittest.main()
