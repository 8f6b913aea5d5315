"""repl-diskless-load on a Keyward replica, against Keyward and Redis 7.0 masters: the RDB is
parsed straight from the socket (no file is written), in both forms a master sends ("$EOF:" from
a diskless master, "$<len>" from a disk-based one), with every type and the function libraries;
the stream goes on afterwards. swapdb keeps the replica's old dataset until the new one is in
place and puts it back when the load fails (the master dies in the middle); on-empty-db parses
from the socket only when the replica holds no key. Clients are answered -LOADING meanwhile."""

import os
import signal
import unittest

import test_replication
from keyward_harness import encode_command, wait_for
from test_replication import SYNC_TIMEOUT, ReplicationTestCase, info, ok


def dump_file(srv):
    return os.path.join(srv.workdir, "dump.rdb")


class DisklessLoad(ReplicationTestCase):
    def load_and_stream(self, master_kind, master_diskless, mode, to_parser_log):
        # The full-sync scenario (every type, the stream after, INFO, WAIT, ROLE), the replica
        # loading from the socket.
        m, mc, r, rc = test_replication.FullSyncAndStream.sync_and_stream(
            self, master_kind, "keyward", "--repl-diskless-sync", master_diskless,
            replica_args=("--repl-diskless-load", mode))
        self.assertIn(to_parser_log, r.output())
        # Parsed from the socket: the replica wrote no file.
        self.assertFalse(os.path.exists(dump_file(r)), os.listdir(r.workdir))
        return m, mc, r, rc

    def test_swapdb_from_a_keyward_master_eof_form(self):
        self.load_and_stream("keyward", "yes", "swapdb",
                             "receiving streamed RDB from master with EOF to parser")

    def test_swapdb_from_a_redis_master_eof_form(self):
        self.load_and_stream("redis", "yes", "swapdb",
                             "receiving streamed RDB from master with EOF to parser")

    def test_swapdb_from_a_redis_master_len_form(self):
        self.load_and_stream("redis", "no", "swapdb", "bytes from master to parser")

    def test_on_empty_db_from_a_keyward_master_len_form(self):
        self.load_and_stream("keyward", "no", "on-empty-db", "bytes from master to parser")


class DisklessLoadChoices(ReplicationTestCase):
    def replica_with_a_key(self, mode):
        """A master with k, and a server with a key of its own made its replica (synced), whose
        repl-diskless-load is `mode`."""
        m = self.start("keyward")
        ok(self.client(m), "SET", "k", "from-master")
        r = self.start("keyward", "--repl-diskless-load", mode)
        rc = self.client(r)
        ok(rc, "SET", "mine", "1")
        ok(rc, "REPLICAOF", "127.0.0.1", str(m.port))
        self.wait_up(rc)
        return m, r, rc

    def test_on_empty_db_uses_the_disk_when_the_replica_has_keys(self):
        m, r, rc = self.replica_with_a_key("on-empty-db")
        self.assertIn("from master with EOF to disk", r.output())
        self.assertEqual(ok(rc, "GET", "k"), b"from-master")
        self.assertIsNone(ok(rc, "GET", "mine"))

    def test_swapdb_puts_the_old_dataset_back_when_the_master_dies_mid_load(self):
        m = self.start("keyward", "--enable-debug-command", "yes")
        mc = self.client(m)
        # More than the sockets' buffers hold (about 20 MB): the master's death cuts the payload.
        ok(mc, "DEBUG", "POPULATE", "200000", "key", "100")
        # The replica, a master with data and a library of its own, loads slowly (20 us a key)
        # and answers clients every KB it parses.
        r = self.start("keyward", "--repl-diskless-load", "swapdb", "--key-load-delay", "20",
                       "--loading-process-events-interval-bytes", "1024")
        rc = self.client(r)
        ok(rc, "SET", "mine", "1")
        ok(rc, "RPUSH", "mylist", "a", "b")
        ok(rc, "FUNCTION", "LOAD",
           "#!lua name=mylib\nredis.register_function{function_name='mine', "
           "callback=function() return 7 end, flags={'no-writes'}}")
        ok(rc, "REPLICAOF", "127.0.0.1", str(m.port))
        # Clients are told the dataset is loading while it is parsed.
        other = self.client(r)
        wait_for(lambda: other.call("GET", "mine").startswith(b"-LOADING"),
                 timeout=SYNC_TIMEOUT, message="the replica loading from the socket")
        self.kill(m)
        wait_for(lambda: not other.call("GET", "mine").startswith(b"-LOADING"),
                 timeout=SYNC_TIMEOUT, message="the load given up")
        self.assertIn("Failed trying to load the MASTER synchronization DB from socket",
                      r.output())
        # Everything it had is back: keys, types, the library.
        self.assertEqual(ok(rc, "GET", "mine"), b"1")
        self.assertEqual(ok(rc, "LRANGE", "mylist", "0", "-1"), [b"a", b"b"])
        self.assertEqual(ok(rc, "DBSIZE"), 2)
        self.assertEqual(ok(rc, "FCALL_RO", "mine", "0"), 7)

    def test_swapdb_replaces_the_old_dataset_when_the_load_succeeds(self):
        m, r, rc = self.replica_with_a_key("swapdb")
        mc = self.client(m)
        self.assertEqual(ok(rc, "GET", "k"), b"from-master")
        self.assertIsNone(ok(rc, "GET", "mine"))
        self.assertEqual(ok(rc, "DBSIZE"), 1)
        # The stream follows the load.
        ok(mc, "SET", "after", "1")
        wait_for(lambda: ok(rc, "GET", "after") == b"1", timeout=SYNC_TIMEOUT,
                 message="the stream after the load")


class AsyncLoading(ReplicationTestCase):
    def resync_with_the_same_history(self, replica_kind):
        """A replica (swapdb) restarted with its RDB, whose partial resync is refused because
        the master's backlog no longer holds what it missed: a full sync of the same history.
        Returns what a client saw during the load (GET of a key the replica had) and the reply
        to a command flagged no-async-loading, and the replica's client."""
        m = self.start("keyward", "--enable-debug-command", "yes", "--repl-backlog-size", "16384")
        mc = self.client(m)
        ok(mc, "SET", "k", "before")
        ok(mc, "DEBUG", "POPULATE", "20000", "key", "10")
        args = ("--repl-diskless-load", "swapdb", "--loading-process-events-interval-bytes",
                "1024")
        r = self.replica(replica_kind, m, *args)
        rc = self.client(r)
        self.wait_synced(mc, rc)
        rc.send(encode_command("SHUTDOWN", "SAVE"))
        r.proc.wait()
        # Meanwhile the master writes past its backlog.
        ok(mc, "SET", "k", "after")
        for i in range(40):
            ok(mc, "SET", "pad%d" % i, "x" * 1000)
        # Back with its RDB (k = before), loading slowly: 20,000 x 100 us, at start-up and again
        # for the full sync.
        r = self.replica(replica_kind, m, *args, "--key-load-delay", "100", workdir=r.workdir)
        rc = self.client(r)
        wait_for(lambda: info(rc, "persistence").get("async_loading") == "1",
                 timeout=SYNC_TIMEOUT, message="the async load")
        during = ok(rc, "GET", "k")
        refused = rc.call("REPLICAOF", "NO", "ONE")  # flagged no-async-loading
        ok(rc, "CONFIG", "SET", "key-load-delay", "0")
        wait_for(lambda: info(rc, "persistence").get("async_loading") == "0",
                 timeout=SYNC_TIMEOUT, message="the end of the load")
        self.wait_synced(mc, rc)
        return during, refused, rc

    def test_the_old_data_is_served_while_the_same_history_loads_as_redis(self):
        for kind in ("redis", "keyward"):
            with self.subTest(replica=kind):
                during, refused, rc = self.resync_with_the_same_history(kind)
                self.assertEqual(during, b"before")  # the old data set, not -LOADING
                self.assertTrue(refused.startswith(b"-LOADING"), refused)
                self.assertEqual(ok(rc, "GET", "k"), b"after")
                self.assertEqual(ok(rc, "DBSIZE"), 20041)
                self.assertEqual(info(rc, "persistence")["loading"], "0")


if __name__ == "__main__":
    unittest.main()
