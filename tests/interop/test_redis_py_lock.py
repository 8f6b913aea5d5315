"""redis-py's `redis.lock.Lock` (Debian's python3-redis) against keyward-server, unchanged, and
its mutual exclusion with Keyward's native LOCK.* commands on the same key.

Both are the same ordinary string key (`SET resource owner NX PX ttl`), so a lock taken one way
is refused the other way, and a native waiter blocked in `LOCK.ACQUIRE ... WAIT` is handed the
lock when redis-py's release script deletes the key.
"""

import threading
import unittest
import uuid

from keyward_harness import SharedKeywardTestCase, import_redis, wait_for

redis = import_redis()
from redis.exceptions import LockError, LockNotOwnedError  # noqa: E402
from redis.lock import Lock  # noqa: E402


class RedisPyLockCase(SharedKeywardTestCase):

    def setUp(self):
        self.r = self.srv.redis_py()
        self.addCleanup(self.r.close)
        self.name = "interop:%s:%s" % (self._testMethodName, uuid.uuid4().hex[:8])

    def other_client(self):
        c = self.srv.redis_py()
        self.addCleanup(c.close)
        return c

    # Native commands, through redis-py's generic execute_command.

    def native_acquire(self, owner, ttl_ms, *options, client=None):
        reply = (client or self.r).execute_command("LOCK.ACQUIRE", self.name, owner, ttl_ms,
                                                   *options)
        self.assertEqual(len(reply), 3, reply)
        return reply  # [granted, token, pttl]

    def native_info(self, client=None):
        flat = (client or self.r).execute_command("LOCK.INFO", self.name)
        return {k.decode(): v for k, v in zip(flat[0::2], flat[1::2])}


class RedisPyLock(RedisPyLockCase):
    """redis-py's Lock on its own: what its users rely on works against Keyward."""

    def test_acquire_and_release(self):
        lock = Lock(self.r, self.name, timeout=10)
        self.assertFalse(lock.locked())
        self.assertTrue(lock.acquire(blocking=False))
        self.assertTrue(lock.locked())
        self.assertTrue(lock.owned())
        self.assertEqual(self.r.get(self.name), lock.local.token)
        self.assertTrue(0 < self.r.pttl(self.name) <= 10000)
        lock.release()
        self.assertFalse(lock.locked())
        self.assertEqual(self.r.exists(self.name), 0)
        with self.assertRaises(LockError):
            lock.release()

    def test_context_manager_and_no_timeout(self):
        with Lock(self.r, self.name) as lock:
            self.assertTrue(lock.owned())
            self.assertEqual(self.r.pttl(self.name), -1)  # no timeout: no TTL
        self.assertEqual(self.r.exists(self.name), 0)

    def test_non_blocking_and_blocking_timeout_while_held(self):
        holder = Lock(self.r, self.name, timeout=30)
        self.assertTrue(holder.acquire(blocking=False))
        other = Lock(self.other_client(), self.name, timeout=30)
        self.assertFalse(other.acquire(blocking=False))
        # Blocking with a deadline: redis-py polls SET NX until blocking_timeout, then gives up.
        self.assertFalse(other.acquire(blocking=True, blocking_timeout=0.2, sleep=0.01))
        self.assertEqual(self.r.get(self.name), holder.local.token)
        holder.release()

    def test_blocking_acquire_succeeds_after_release(self):
        holder = Lock(self.r, self.name, timeout=30)
        self.assertTrue(holder.acquire(blocking=False))
        waiter = Lock(self.other_client(), self.name, timeout=30, thread_local=False)
        refused = threading.Event()
        do_acquire = waiter.do_acquire

        def observed_do_acquire(token):
            ok = do_acquire(token)
            if not ok:
                refused.set()
            return ok

        waiter.do_acquire = observed_do_acquire
        result = []
        t = threading.Thread(target=lambda: result.append(
            waiter.acquire(blocking=True, blocking_timeout=60, sleep=0.01)))
        t.start()
        self.assertTrue(refused.wait(30), "the blocking acquire never tried")
        holder.release()
        t.join(60)
        self.assertEqual(result, [True])
        self.assertTrue(waiter.owned())
        waiter.release()

    def test_extend_and_reacquire(self):
        lock = Lock(self.r, self.name, timeout=10)
        self.assertTrue(lock.acquire(blocking=False))
        self.assertTrue(lock.extend(20))  # adds to the remaining TTL
        self.assertGreater(self.r.pttl(self.name), 20000)
        self.assertTrue(lock.extend(5, replace_ttl=True))
        self.assertTrue(0 < self.r.pttl(self.name) <= 5000)
        self.assertTrue(lock.reacquire())  # back to the lock's timeout
        self.assertGreater(self.r.pttl(self.name), 5000)
        self.assertEqual(self.r.get(self.name), lock.local.token)
        lock.release()

    def test_extend_refuses_a_lock_without_timeout(self):
        lock = Lock(self.r, self.name)
        self.assertTrue(lock.acquire(blocking=False))
        with self.assertRaises(LockError):
            lock.extend(10)
        lock.release()

    def test_expired_lock_is_not_owned(self):
        lock = Lock(self.r, self.name, timeout=30)
        self.assertTrue(lock.acquire(blocking=False))
        self.r.pexpire(self.name, 1)
        wait_for(lambda: self.r.exists(self.name) == 0, message="the lock to expire")
        self.assertFalse(lock.owned())
        with self.assertRaises(LockNotOwnedError):
            lock.extend(10)
        with self.assertRaises(LockNotOwnedError):
            lock.reacquire()
        # Someone else takes it meanwhile; the stale release must not delete their lock.
        other = Lock(self.other_client(), self.name, timeout=30)
        self.assertTrue(other.acquire(blocking=False))
        with self.assertRaises(LockNotOwnedError):
            lock.release()
        self.assertTrue(other.owned())
        other.release()

    def test_release_of_an_expired_lock_raises(self):
        lock = Lock(self.r, self.name, timeout=30)
        self.assertTrue(lock.acquire(blocking=False))
        self.r.pexpire(self.name, 1)
        wait_for(lambda: self.r.exists(self.name) == 0, message="the lock to expire")
        with self.assertRaises(LockNotOwnedError):
            lock.release()

    def test_threads_exclude_each_other(self):
        # Several clients, each in its own thread, increment a counter non-atomically under the
        # lock: a second holder would lose an update.
        threads, errors = 8, []
        rounds = 10
        counter = self.name + ":counter"
        holders = [0, 0]  # current, maximum
        guard = threading.Lock()

        def work():
            try:
                client = self.srv.redis_py()
                try:
                    for _ in range(rounds):
                        with Lock(client, self.name, timeout=30, sleep=0.005,
                                  blocking_timeout=60):
                            with guard:
                                holders[0] += 1
                                holders[1] = max(holders)
                            value = int(client.get(counter) or 0)
                            client.set(counter, value + 1)
                            with guard:
                                holders[0] -= 1
                finally:
                    client.close()
            except Exception as e:  # reported after the join
                errors.append(e)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(holders[1], 1)
        self.assertEqual(int(self.r.get(counter)), threads * rounds)


class RedisPyLockAndNativeCommands(RedisPyLockCase):
    """redis-py's Lock and LOCK.* exclude each other on the same key (needs the lock commands)."""

    def test_redis_py_holder_refuses_native_acquire(self):
        lock = Lock(self.r, self.name, timeout=30)
        self.assertTrue(lock.acquire(blocking=False))
        granted, _token, pttl = self.native_acquire("native-owner", 10000)
        self.assertEqual(granted, 0)
        self.assertTrue(0 < pttl <= 30000, pttl)
        self.assertEqual(self.native_acquire("native-owner", 10000, "FENCE")[0], 0)
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "native-owner"), 0)
        self.assertEqual(self.r.execute_command("LOCK.EXTEND", self.name, "native-owner", 10), 0)
        info = self.native_info()
        self.assertEqual(info["owner"], lock.local.token)
        self.assertTrue(lock.owned())
        lock.release()
        self.assertEqual(self.native_acquire("native-owner", 10000)[0], 1)
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "native-owner"), 1)

    def test_native_holder_refuses_redis_py(self):
        granted, _token, pttl = self.native_acquire("native-owner", 30000, "FENCE")
        self.assertEqual((granted, pttl), (1, 30000))
        lock = Lock(self.r, self.name, timeout=10)
        self.assertTrue(lock.locked())
        self.assertFalse(lock.acquire(blocking=False))
        self.assertFalse(lock.acquire(blocking=True, blocking_timeout=0.1, sleep=0.01))
        self.assertEqual(self.r.get(self.name), b"native-owner")
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "native-owner"), 1)
        self.assertTrue(lock.acquire(blocking=False))
        lock.release()

    def test_native_commands_recognise_the_redis_py_token_as_owner(self):
        lock = Lock(self.r, self.name, timeout=10)
        self.assertTrue(lock.acquire(blocking=False))
        token = lock.local.token
        # Re-entrant acquisition by the same owner resets the TTL (granted 2: re-entered).
        self.assertEqual(self.native_acquire(token, 60000)[0::2], [2, 60000])
        self.assertEqual(self.r.execute_command("LOCK.EXTEND", self.name, token, 90000), 1)
        self.assertGreater(self.r.pttl(self.name), 60000)
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, token), 1)
        with self.assertRaises(LockNotOwnedError):
            lock.release()

    def test_redis_py_release_hands_the_lock_to_a_native_waiter(self):
        lock = Lock(self.r, self.name, timeout=30)
        self.assertTrue(lock.acquire(blocking=False))
        waiter_client = self.other_client()
        replies = []
        t = threading.Thread(daemon=True, target=lambda: replies.append(
            self.native_acquire("waiter", 20000, "WAIT", 0, client=waiter_client)))
        t.start()
        wait_for(lambda: self.native_info()["waiters"] == 1, message="the native waiter to queue")
        lock.release()
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(replies), 1)
        granted, _token, pttl = replies[0]
        self.assertEqual((granted, pttl), (1, 20000))
        self.assertEqual(self.r.get(self.name), b"waiter")
        self.assertFalse(Lock(self.r, self.name, timeout=10).acquire(blocking=False))
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "waiter"), 1)

    def test_expiry_of_a_redis_py_lock_hands_it_to_a_native_waiter(self):
        lock = Lock(self.r, self.name, timeout=30)
        self.assertTrue(lock.acquire(blocking=False))
        waiter_client = self.other_client()
        replies = []
        t = threading.Thread(daemon=True, target=lambda: replies.append(
            self.native_acquire("waiter", 20000, "WAIT", 0, client=waiter_client)))
        t.start()
        wait_for(lambda: self.native_info()["waiters"] == 1, message="the native waiter to queue")
        self.r.pexpire(self.name, 1)
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(replies[0][0], 1)
        self.assertEqual(self.r.get(self.name), b"waiter")
        with self.assertRaises(LockNotOwnedError):
            lock.release()
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "waiter"), 1)

    def test_native_release_hands_the_lock_to_the_queue_not_to_a_poller(self):
        # A native waiter queued before the release gets the lock in the release itself, so a
        # redis-py client polling with SET NX right after the release finds it taken.
        self.assertEqual(self.native_acquire("first", 30000)[0], 1)
        waiter_client = self.other_client()
        replies = []
        t = threading.Thread(daemon=True, target=lambda: replies.append(
            self.native_acquire("second", 20000, "WAIT", 0, client=waiter_client)))
        t.start()
        wait_for(lambda: self.native_info()["waiters"] == 1, message="the native waiter to queue")
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "first"), 1)
        self.assertFalse(Lock(self.r, self.name, timeout=10).acquire(blocking=False))
        t.join(30)
        self.assertEqual(replies[0][0], 1)
        self.assertEqual(self.r.get(self.name), b"second")
        self.assertEqual(self.r.execute_command("LOCK.RELEASE", self.name, "second"), 1)


if __name__ == "__main__":
    unittest.main()
