"""Native locks against the real keyward-server: waiters on real connections woken in arrival order
by a release, by the lease's expiry (the server's own timer, no client polling) and by a plain DEL;
a waiter that disconnects leaves the queue; what CLIENT LIST and INFO show about waiting clients;
the keyspace notifications of release and expiry; lock-restart-delay from the command line."""

import unittest

from keyward_harness import ServerTestCase, SharedKeywardTestCase, decode, wait_for


def acquire(conn, resource, owner, ttl, *options):
    return decode(conn.call("LOCK.ACQUIRE", resource, owner, ttl, *options))


class LockWaiting(SharedKeywardTestCase):
    def setUp(self):
        self.admin = self.raw_client(self.srv)
        self.admin.call("FLUSHALL")

    def blocked_count(self):
        info = decode(self.admin.call("INFO", "clients")).decode()
        return int(info.split("blocked_clients:")[1].split()[0])

    def start_waiters(self, resource, names, ttl=5000):
        waiters = []
        for i, name in enumerate(names):
            c = self.raw_client(self.srv)
            c.send(b"*7\r\n$12\r\nLOCK.ACQUIRE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%d\r\n"
                   b"$4\r\nWAIT\r\n$1\r\n0\r\n$5\r\nFENCE\r\n" % (
                       len(resource), resource.encode(), len(name), name.encode(),
                       len(str(ttl)), ttl))
            # Arrival order is what the queue keeps: wait until this one is queued.
            wait_for(lambda n=i + 1: self.blocked_count() == n, message="waiter queued")
            waiters.append(c)
        return waiters

    def test_release_hands_over_in_arrival_order(self):
        self.assertEqual(acquire(self.admin, "res", "holder", 60000)[0], 1)
        names = ["w%d" % i for i in range(5)]
        waiters = self.start_waiters("res", names)
        flags = decode(self.admin.call("CLIENT", "LIST")).decode()
        self.assertEqual(flags.count("flags=b"), 5)
        tokens = []
        owner, current = "holder", None
        for name, conn in zip(names, waiters):
            self.assertEqual(decode(self.admin.call("LOCK.RELEASE", "res", owner)), 1)
            granted, token, _ = decode(conn.read_reply())
            self.assertEqual(granted, 1)
            self.assertEqual(decode(self.admin.call("GET", "res")), name.encode())
            tokens.append(token)
            owner = name
        self.assertEqual(tokens, sorted(set(tokens)))
        self.assertEqual(self.blocked_count(), 0)

    def test_expiry_wakes_the_waiter(self):
        self.assertEqual(acquire(self.admin, "res", "crashed", 200)[0], 1)
        (waiter,) = self.start_waiters("res", ["next"])
        # Nobody releases and nobody polls: the lease's end hands the lock over.
        granted, _, pttl = decode(waiter.read_reply())
        self.assertEqual((granted, pttl), (1, 5000))
        self.assertEqual(decode(self.admin.call("GET", "res")), b"next")

    def test_plain_del_and_set_nx_locks_interoperate(self):
        self.assertEqual(decode(self.admin.call("SET", "res", "py", "NX", "PX", "60000")), b"OK")
        (waiter,) = self.start_waiters("res", ["native"])
        self.admin.call("DEL", "res")
        self.assertEqual(decode(waiter.read_reply())[0], 1)
        self.assertIsNone(decode(self.admin.call("SET", "res", "py", "NX", "PX", "1000")))

    def test_disconnected_waiter_leaves_the_queue(self):
        acquire(self.admin, "res", "holder", 60000)
        gone, stays = self.start_waiters("res", ["gone", "stays"])
        gone.close()
        wait_for(lambda: self.blocked_count() == 1, message="closed waiter dropped")
        self.admin.call("LOCK.RELEASE", "res", "holder")
        self.assertEqual(decode(stays.read_reply())[0], 1)
        self.assertEqual(decode(self.admin.call("GET", "res")), b"stays")

    def test_wait_timeout(self):
        acquire(self.admin, "res", "holder", 60000)
        c = self.raw_client(self.srv)
        granted, _, pttl = decode(c.call("LOCK.ACQUIRE", "res", "w", 1000, "WAIT", 50))
        self.assertEqual(granted, 0)
        self.assertGreater(pttl, 50000)
        self.assertEqual(decode(c.call("LOCK.WAIT", "res", 50)), 0)
        self.assertEqual(decode(c.call("PING")), b"PONG")


class LockNotifications(SharedKeywardTestCase):
    def test_release_and_expiry_are_keyspace_events(self):
        admin = self.raw_client(self.srv)
        admin.call("CONFIG", "SET", "notify-keyspace-events", "Eg$x")
        sub = self.raw_client(self.srv)
        sub.call("SUBSCRIBE", "__keyevent@0__:del", "__keyevent@0__:expired")
        sub.read_reply()
        acquire(admin, "released", "me", 60000)
        admin.call("LOCK.RELEASE", "released", "me")
        self.assertEqual(decode(sub.read_reply()),
                         [b"message", b"__keyevent@0__:del", b"released"])
        acquire(admin, "expiring", "me", 10)
        self.assertEqual(decode(sub.read_reply()),
                         [b"message", b"__keyevent@0__:expired", b"expiring"])


class RestartDelay(ServerTestCase):
    def test_restart_delay_keeps_a_fresh_instance_out_of_quorums(self):
        srv = self.start_keyward(["--lock-restart-delay", "600000"])
        c = self.raw_client(srv)
        refused = c.call("LOCK.ACQUIRE", "res", "me", 1000)
        self.assertTrue(refused.startswith(b"-RESTARTING lock acquisitions resume in "), refused)
        left = int(refused.split(b" in ")[1].split(b" ")[0])
        self.assertTrue(0 < left <= 600000, left)
        self.assertEqual(decode(c.call("EXISTS", "res")), 0)
        c.call("CONFIG", "SET", "lock-restart-delay", "0")
        self.assertEqual(decode(c.call("LOCK.ACQUIRE", "res", "me", 1000))[0], 1)


if __name__ == "__main__":
    unittest.main()
