"""Replication across a real network partition: the replica runs in a network namespace this test
creates (and removes), joined to the master by a veth pair; the partition takes the link down, so
packets vanish without a reset, as when a switch or a cable fails. Both sides must notice through
repl-timeout alone (the replica: no data nor PING from the master; the master: no ACK), the
master keeps taking writes, and once the link is back the replica continues with a partial resync
and holds every write of both sides of the partition, fencing records included.

Needs root (CI and the quick start run as root); `ip` is Debian's iproute2."""

import os
import subprocess
import unittest

from keyward_harness import (RawClient, ServerProcess, ServerTestCase, _wait_ready, decode,
                             free_port, keyward_binary, make_workdir, wait_for)

IP = "/usr/sbin/ip"


def info_field(client, field):
    text = decode(client.call("INFO", "replication")) + decode(client.call("INFO", "stats"))
    for line in text.split(b"\r\n"):
        if line.startswith(field.encode() + b":"):
            return line.split(b":", 1)[1].decode()
    return None


def run(*argv):
    subprocess.run([IP] + list(argv), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class VethNamespace:
    """A namespace with one end of a veth pair; the other end stays in the test's namespace."""

    def __init__(self, tag):
        self.ns = "kwrepl%d%s" % (os.getpid() % 100000, tag)
        self.outer = "kwo%d%s" % (os.getpid() % 100000, tag)
        self.inner = "kwi%d%s" % (os.getpid() % 100000, tag)
        # A private /30 per test process, in a range a CI machine does not route.
        n = os.getpid() % 250
        self.outer_ip = "10.213.%d.1" % n
        self.inner_ip = "10.213.%d.2" % n

    @classmethod
    def for_test(cls, case, tag):
        """A namespace created for the test `case` (which must run as root), removed when it
        ends."""
        case.assertEqual(os.geteuid(), 0, "network namespaces need root (CI runs as root)")
        net = cls(tag)
        net.remove()  # a leftover of a crashed run with the same pid
        net.create()
        case.addCleanup(net.remove)
        return net

    def create(self):
        run("netns", "add", self.ns)
        run("link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        run("link", "set", self.inner, "netns", self.ns)
        run("addr", "add", self.outer_ip + "/30", "dev", self.outer)
        run("link", "set", self.outer, "up")
        run("-n", self.ns, "addr", "add", self.inner_ip + "/30", "dev", self.inner)
        run("-n", self.ns, "link", "set", self.inner, "up")
        run("-n", self.ns, "link", "set", "lo", "up")

    def cut(self):
        run("link", "set", self.outer, "down")

    def heal(self):
        run("link", "set", self.outer, "up")

    def remove(self):
        subprocess.run([IP, "link", "del", self.outer], stderr=subprocess.DEVNULL)
        subprocess.run([IP, "netns", "del", self.ns], stderr=subprocess.DEVNULL)


class PartitionedReplica(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.net = VethNamespace.for_test(self, "a")

    def start_replica_in_namespace(self, master_port):
        port = free_port()
        wd = make_workdir()
        # The test talks to it through a unix socket, which the partition does not cut.
        sock = os.path.join(wd, "replica.sock")
        argv = [IP, "netns", "exec", self.net.ns, keyward_binary(), "--save", "", "--port",
                str(port), "--bind", self.net.inner_ip, "--unixsocket", sock, "--repl-timeout",
                "2", "--replicaof", self.net.outer_ip, str(master_port)]
        srv = ServerProcess("keyward-replica", argv, port, sock, wd, host=self.net.inner_ip)
        self.addCleanup(srv.stop)
        _wait_ready(srv, 30)
        return srv

    def test_partition_then_partial_resync(self):
        # (The replica connects from the namespace's address: protected mode off, as Redis
        # 7.0 would refuse it whatever the bind.)
        master = self.start_keyward(["--bind", "127.0.0.1 " + self.net.outer_ip,
                                     "--protected-mode", "no", "--repl-timeout", "2", "--repl-diskless-sync-delay", "0",
                                     "--repl-ping-replica-period", "1"])
        m = self.raw_client(master)
        m.call("SET", "before", "1")
        token_before = decode(m.call("LOCK.ACQUIRE", "res", "o1", "600000", "FENCE"))[1]
        replica = self.start_replica_in_namespace(master.port)
        r = RawClient(unix=replica.unixsocket)
        self.addCleanup(r.close)
        wait_for(lambda: info_field(r, "master_link_status") == "up", timeout=30,
                 message="the replica's first sync")
        wait_for(lambda: r.call("GET", "before") == b"$1\r\n1\r\n", message="the first write")
        full_syncs = int(info_field(m, "sync_full"))
        partial_before = int(info_field(m, "sync_partial_ok"))

        self.net.cut()
        # Both sides find out by repl-timeout: no reset ever arrives.
        wait_for(lambda: info_field(r, "master_link_status") == "down", timeout=30,
                 message="the replica noticing the partition")
        wait_for(lambda: info_field(m, "connected_slaves") == "0", timeout=30,
                 message="the master dropping the silent replica")
        # The master goes on; the replica serves its (stale) data meanwhile.
        for i in range(100):
            self.assertEqual(m.call("SET", "during:%d" % i, str(i)), b"+OK\r\n")
        self.assertEqual(m.call("LOCK.RELEASE", "res", "o1"), b":1\r\n")
        token_during = decode(m.call("LOCK.ACQUIRE", "res", "o2", "600000", "FENCE"))[1]
        self.assertGreater(token_during, token_before)
        self.assertEqual(r.call("GET", "before"), b"$1\r\n1\r\n")
        self.assertEqual(r.call("GET", "during:0"), b"$-1\r\n")

        self.net.heal()
        wait_for(lambda: info_field(r, "master_link_status") == "up", timeout=30,
                 message="the replica reconnecting after the heal")
        wait_for(lambda: info_field(r, "slave_repl_offset") == info_field(m, "master_repl_offset"),
                 timeout=30, message="the replica catching up")
        # A partial resync from the backlog, not a second full sync.
        self.assertEqual(int(info_field(m, "sync_full")), full_syncs)
        self.assertGreater(int(info_field(m, "sync_partial_ok")), partial_before)
        for i in range(100):
            self.assertEqual(r.call("GET", "during:%d" % i), b"$%d\r\n%d\r\n" % (len(str(i)), i))
        # The fencing record crossed too: the replica knows the token handed out during the
        # partition.
        lock = decode(r.call("LOCK.INFO", "res"))
        fields = dict(zip(lock[::2], lock[1::2]))
        self.assertEqual(fields[b"owner"], b"o2")
        self.assertEqual(fields[b"holder_token"], token_during)

    def test_tokens_lost_with_the_master_stay_below_the_promoted_replicas(self):
        # What the master hands out while cut off from its replica is lost when it dies: the
        # promoted replica's epoch must still start above it.
        gap = os.environ.get("KEYWARD_TEST_TOKEN_GAP")  # a smaller gap shows the test can fail
        # The replica starts first: its own boot floor is then below the master's counters, so
        # only the epoch can put its tokens above the lost ones.
        master_port = free_port()
        replica = self.start_replica_in_namespace(master_port)
        master = self.start_keyward(["--port", str(master_port), "--bind",
                                     "127.0.0.1 " + self.net.outer_ip, "--protected-mode", "no",
                                     "--repl-timeout", "2",
                                     "--repl-diskless-sync-delay", "0"])
        m = self.raw_client(master)
        r = RawClient(unix=replica.unixsocket)
        self.addCleanup(r.close)
        if gap:
            r.call("CONFIG", "SET", "lock-promotion-token-gap", gap)
        r.call("CONFIG", "SET", "lock-promotion-delay", "0")
        wait_for(lambda: info_field(r, "master_link_status") == "up", timeout=30,
                 message="the replica's first sync")
        seen = []
        for i in range(20):
            seen.append(decode(m.call("LOCK.ACQUIRE", "res", "o%d" % i, "60000", "FENCE"))[1])
            m.call("LOCK.RELEASE", "res", "o%d" % i)
        wait_for(lambda: info_field(r, "slave_repl_offset") == info_field(m, "master_repl_offset"),
                 message="the replica holding every record so far")
        self.net.cut()
        lost = []
        for i in range(50):
            lost.append(decode(m.call("LOCK.ACQUIRE", "res", "x%d" % i, "60000", "FENCE"))[1])
            m.call("LOCK.RELEASE", "res", "x%d" % i)
        self.assertGreater(min(lost), max(seen))
        master.stop()
        self.assertEqual(r.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        token = decode(r.call("LOCK.ACQUIRE", "res", "after", "60000", "FENCE"))[1]
        self.assertGreater(token, max(lost))


if __name__ == "__main__":
    unittest.main()
