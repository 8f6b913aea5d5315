"""A master partitioned away from its replicas and sentinels (it runs in a network namespace this
test creates and removes, joined by a veth pair whose link the test takes down: packets vanish
without a reset). The sentinels see it down and promote a replica; the old master, which clients
on its side of the partition still reach, stops taking writes once it has had no replica
acknowledgement for min-replicas-max-lag (`-NOREPLICAS`): what limits the writes a split brain
loses. When the link is back, the sentinels turn the old master into a replica of the new one,
and it ends with the new master's data (what it took during the partition is gone, which is what
asynchronous replication promises and why min-replicas-to-write matters).

Needs root (CI and the quick start run as root); `ip` is Debian's iproute2."""

import os
import unittest

from keyward_harness import (RawClient, ServerProcess, ServerTestCase, _wait_ready, decode,
                             free_port, keyward_binary, make_workdir, wait_for)
from sentinel_support import (FAILOVER_TIMEOUT, MASTER_NAME, call, info_dict, master_addr,
                              start_data_server, start_sentinel)
from test_replication_partition import IP, VethNamespace


class PartitionedMaster(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.net = VethNamespace.for_test(self, "s")

    def start_master_in_namespace(self):
        port = free_port()
        wd = make_workdir()
        # The test talks to it through a unix socket, which the partition does not cut: the
        # client "on the master's side".
        sock = os.path.join(wd, "master.sock")
        argv = [IP, "netns", "exec", self.net.ns, keyward_binary(), "--save", "", "--port",
                str(port), "--bind", self.net.inner_ip, "--unixsocket", sock,
                "--protected-mode", "no", "--repl-diskless-sync-delay", "0",
                "--min-replicas-to-write", "1", "--min-replicas-max-lag", "2",
                "--repl-timeout", "3"]
        srv = ServerProcess("keyward-master", argv, port, sock, wd, host=self.net.inner_ip)
        self.addCleanup(srv.stop)
        _wait_ready(srv, 30)
        return srv

    def test_failover_away_from_a_partitioned_master(self):
        master = self.start_master_in_namespace()
        m = RawClient(unix=master.unixsocket)
        self.addCleanup(m.close)
        # Replicas in this namespace, announcing the address both the sentinels and the old
        # master (inside its namespace, where 127.0.0.1 is its own) reach them on.
        replicas = []
        for _ in range(2):
            r = start_data_server(["--bind", "127.0.0.1 " + self.net.outer_ip, "--protected-mode",
                                   "no", "--replica-announce-ip", self.net.outer_ip, "--replicaof",
                                   self.net.inner_ip, master.port], bind_loopback=False)
            self.addCleanup(r.stop)
            replicas.append(r)
        for r in replicas:
            wait_for(lambda: info_dict(r, "replication").get("master_link_status") == "up",
                     timeout=30, message="replica in sync")
        self.assertEqual(m.call("SET", "before", "1"), b"+OK\r\n")
        self.assertEqual(decode(m.call("WAIT", "2", "5000")), 2)

        sentinels = []
        for _ in range(3):
            # They listen on 127.0.0.1: they announce it, not the address their connection to
            # the master (across the veth) comes from.
            s = start_sentinel(master.port, extra=("sentinel announce-ip 127.0.0.1",))
            self.addCleanup(s.stop)
            # Monitor the master at its namespace address (start_sentinel writes 127.0.0.1).
            self.assertEqual(call(s, "SENTINEL", "REMOVE", MASTER_NAME), b"OK")
            self.assertEqual(call(s, "SENTINEL", "MONITOR", MASTER_NAME, self.net.inner_ip,
                                  master.port, 2), b"OK")
            self.assertEqual(call(s, "SENTINEL", "SET", MASTER_NAME, "down-after-milliseconds",
                                  1000, "failover-timeout", 10000), b"OK")
            sentinels.append(s)
        replica_ports = {r.port for r in replicas}

        def discovered(s):
            fields = dict(zip(*[iter(call(s, "SENTINEL", "MASTER", MASTER_NAME))] * 2))
            return fields[b"num-slaves"] == b"2" and fields[b"num-other-sentinels"] == b"2"
        for s in sentinels:
            wait_for(lambda: discovered(s), timeout=60, interval=0.1,
                     message="sentinel %r discovering the replicas and sentinels" % s)

        self.net.cut()
        # The old master, cut off, refuses writes once its replicas' ACKs are older than
        # min-replicas-max-lag.
        wait_for(lambda: m.call("SET", "split", "x").startswith(b"-NOREPLICAS"), timeout=30,
                 message="the old master refusing writes")
        self.assertEqual(m.call("SET", "split", "x"),
                         b"-NOREPLICAS Not enough good replicas to write.\r\n")
        # Meanwhile the sentinels promote a replica.

        def switched():
            addrs = {master_addr(s) for s in sentinels}
            return len(addrs) == 1 and next(iter(addrs))[1] in replica_ports
        wait_for(switched, timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="the sentinels promoting a replica")
        new_port = master_addr(sentinels[0])[1]
        promoted = next(r for r in replicas if r.port == new_port)
        self.assertEqual(info_dict(promoted, "replication")["role"], "master")
        self.assertEqual(call(promoted, "SET", "after", "2"), b"OK")
        self.assertEqual(call(promoted, "GET", "before"), b"1")

        self.net.heal()

        # The sentinels' reconfiguration disconnects the old master's clients: a connection
        # per question.
        def old(*args):
            with RawClient(unix=master.unixsocket) as c:
                return decode(c.call(*args))
        # The old master comes back as a replica of the new one (+convert-to-slave) and ends
        # with its data.
        wait_for(lambda: old("ROLE")[0] == b"slave" and old("ROLE")[2] == new_port,
                 timeout=FAILOVER_TIMEOUT, interval=0.1,
                 message="the old master turned into a replica of the new one")
        wait_for(lambda: old("GET", "after") == b"2", timeout=30,
                 message="the old master syncing from the new one")
        self.assertIsNone(old("GET", "split"))
        self.assertEqual(old("GET", "before"), b"1")


if __name__ == "__main__":
    unittest.main()
