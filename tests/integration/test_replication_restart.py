"""A replica restarted with its data continues where it was: its RDB records the replication ID,
offset and stream database (the AUX fields of Redis's rdbSaveInfo), so after a restart it asks
its master for a partial resync and gets only what it missed, as a Redis 7.0 replica does. Both
directions with redis-server, and Keyward with Keyward."""

import unittest

from keyward_harness import RawClient, ServerTestCase, decode, start_keyward, start_redis, wait_for


def info_field(client, section, field):
    for line in decode(client.call("INFO", section)).split(b"\r\n"):
        if line.startswith(field.encode() + b":"):
            return line.split(b":", 1)[1].decode()
    return None


class ReplicaRestart(ServerTestCase):
    def check(self, start_master, start_replica):
        master = start_master(["--repl-diskless-sync-delay", "0"])
        self.addCleanup(master.stop)
        m = RawClient(port=master.port)
        self.addCleanup(m.close)
        m.call("SELECT", "3")
        for i in range(50):
            m.call("SET", "a:%d" % i, str(i))
        args = ["--replicaof", "127.0.0.1", str(master.port), "--save", "3600", "1"]
        replica = start_replica(args)
        r = RawClient(port=replica.port)
        wait_for(lambda: info_field(r, "replication", "master_link_status") == "up", timeout=30,
                 message="the first sync")
        wait_for(lambda: info_field(r, "replication", "slave_repl_offset") ==
                 info_field(m, "replication", "master_repl_offset"), message="catching up")
        # SHUTDOWN saves (save points are set), with the offset it had reached.
        r.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        replica.wait_exit()
        r.close()
        # Writes it misses while down, in the database the stream is in.
        for i in range(50, 80):
            m.call("SET", "a:%d" % i, str(i))
        full = int(info_field(m, "stats", "sync_full"))
        partial = int(info_field(m, "stats", "sync_partial_ok"))
        replica = start_replica(args, workdir=replica.workdir)
        self.addCleanup(replica.stop)
        r = RawClient(port=replica.port)
        self.addCleanup(r.close)
        wait_for(lambda: info_field(r, "replication", "master_link_status") == "up", timeout=30,
                 message="the sync after the restart")
        wait_for(lambda: info_field(r, "replication", "slave_repl_offset") ==
                 info_field(m, "replication", "master_repl_offset"), message="catching up")
        self.assertEqual(int(info_field(m, "stats", "sync_full")), full)
        self.assertEqual(int(info_field(m, "stats", "sync_partial_ok")), partial + 1)
        r.call("SELECT", "3")
        for i in range(80):
            self.assertEqual(r.call("GET", "a:%d" % i), b"$%d\r\n%d\r\n" % (len(str(i)), i))

    def test_keyward_replica_of_keyward(self):
        self.check(start_keyward, start_keyward)

    def test_keyward_replica_of_redis(self):
        self.check(start_redis, start_keyward)

    def test_redis_replica_of_keyward(self):
        self.check(start_keyward, start_redis)


if __name__ == "__main__":
    unittest.main()
