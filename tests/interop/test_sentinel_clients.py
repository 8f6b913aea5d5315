"""Clients following a failover done by keyward sentinels: ioredis's Sentinel support
(node/sentinel.test.js), and `keyward lock` with a redis+sentinel:// group as one lock instance,
whose fencing tokens keep growing across the failover (the promoted replica starts a fencing
epoch above anything the old master issued) and a write guarded by a token from before the
failover is refused once the new holder has written."""

import os
import re
import shutil
import subprocess
import unittest

from keyward_harness import ServerTestCase, keyward_binary
from sentinel_support import MASTER_NAME, Topology, call
from test_node_redlock import install_node_modules, run_node_tests


def keyward_cli():
    return os.path.join(os.path.dirname(keyward_binary()), "keyward")


class SentinelClients(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.topo = Topology(self)
        self.topo.wait_discovered()

    def sentinel_url(self):
        return "redis+sentinel://%s/%s" % (
            ",".join("127.0.0.1:%d" % s.port for s in self.topo.sentinels), MASTER_NAME)

    def test_ioredis_follows_a_failover(self):
        install_node_modules()
        env = {"KEYWARD_SENTINELS": ",".join("127.0.0.1:%d" % s.port
                                             for s in self.topo.sentinels),
               "KEYWARD_MASTER_PID": str(self.topo.master.proc.pid),
               "KEYWARD_MASTER_PORT": str(self.topo.master.port)}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            run_node_tests(self, [self.topo.master], test_file="sentinel.test.js")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def lock_token(self):
        proc = subprocess.run(
            [keyward_cli(), "lock", "--servers", self.sentinel_url(), "--ttl", "2000",
             "--wait", "60000", "--timeout", "1000", "fenced",
             "--", "sh", "-c", "echo token=$KEYWARD_FENCING_TOKEN"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return int(re.search(r"token=(\d+)", proc.stdout).group(1))

    def test_lock_through_a_sentinel_group_across_a_failover(self):
        first = self.lock_token()
        second = self.lock_token()
        self.assertGreater(second, first)
        # A guarded write with the newest token is accepted on the master, and replicated.
        self.assertEqual(call(self.topo.master, "LOCK.GUARD", "fenced", second, "SET", "data",
                              "v%d" % second), b"OK")
        self.assertEqual(call(self.topo.master, "WAIT", 2, 5000), 2)
        old = self.topo.master.port
        self.topo.kill_master()
        new_port = self.topo.wait_master_switched(old)
        promoted = self.topo.server_on(new_port)
        third = self.lock_token()
        self.assertGreater(third, second)
        # The promoted replica had the guarded write; the new holder's write goes through, and
        # then a write carrying the token from before the failover is refused.
        self.assertEqual(call(promoted, "GET", "data"), ("v%d" % second).encode())
        self.assertEqual(call(promoted, "LOCK.GUARD", "fenced", third, "SET", "data", "new"),
                         b"OK")
        refused = call(promoted, "LOCK.GUARD", "fenced", second, "SET", "data", "stale")
        self.assertTrue(bytes(refused).startswith(b"FENCED"), refused)
        self.assertEqual(call(promoted, "GET", "data"), b"new")


if __name__ == "__main__":
    unittest.main()
