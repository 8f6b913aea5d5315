"""Client libraries' transaction APIs against a real keyward-server, unchanged: redis-py's
pipeline(transaction=True), its WATCH/MULTI/EXEC retry helper Redis.transaction() and explicit
pipe.watch() with WatchError; and ioredis's multi()/exec()/watch() (node/transactions.test.js).

A lost update is what WATCH exists to prevent: the concurrent counters below would come out short
if a conflicting write did not fail the transaction; the deterministic conflicts check that the
retry really happened and that the losing transaction ran nothing."""

import threading
import unittest

from keyward_harness import ServerTestCase, import_redis
from test_node_redlock import install_node_modules, run_node_tests


class RedisPyTransactions(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.redis = import_redis()
        self.srv = self.start_keyward()
        self.r = self.srv.redis_py()

    def test_pipeline_transaction(self):
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set("a", 1).incr("a").rpush("l", "x", "y").lrange("l", 0, -1).get("a")
            self.assertEqual(pipe.execute(), [True, 2, 2, [b"x", b"y"], b"2"])
        # A runtime error comes back in its place; the other commands ran.
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set("s", "text").incr("s").set("after", "yes")
            results = pipe.execute(raise_on_error=False)
        self.assertTrue(results[0])
        self.assertIsInstance(results[1], self.redis.ResponseError)
        self.assertEqual(self.r.get("after"), b"yes")

    def test_transaction_helper_retries_after_a_conflict(self):
        self.r.set("counter", 10)
        other = self.srv.redis_py()
        attempts = []

        def add_five(pipe):
            value = int(pipe.get("counter"))
            attempts.append(value)
            if len(attempts) == 1:
                other.set("counter", 100)  # someone else writes between WATCH and EXEC
            pipe.multi()
            pipe.set("counter", value + 5)

        self.r.transaction(add_five, "counter")
        # The first EXEC failed (WatchError, retried by redis-py); the second saw 100.
        self.assertEqual(attempts, [10, 100])
        self.assertEqual(int(self.r.get("counter")), 105)

    def test_watch_error_and_nothing_ran(self):
        self.r.set("k", "v")
        with self.r.pipeline() as pipe:
            pipe.watch("k")
            self.srv.redis_py().delete("k")
            pipe.multi()
            pipe.set("k", "mine").set("side", "effect")
            with self.assertRaises(self.redis.WatchError):
                pipe.execute()
        self.assertIsNone(self.r.get("k"))
        self.assertIsNone(self.r.get("side"))

    def test_concurrent_optimistic_increments_lose_nothing(self):
        self.r.set("n", 0)
        per_thread, threads = 100, 4
        errors = []

        def increment(pipe):
            value = int(pipe.get("n"))
            pipe.multi()
            pipe.set("n", value + 1)

        def worker():
            client = self.srv.redis_py()
            try:
                for _ in range(per_thread):
                    client.transaction(increment, "n")
            except Exception as e:  # reported below, not lost in the thread
                errors.append(e)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(int(self.r.get("n")), per_thread * threads)


class IoredisTransactions(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        install_node_modules()

    def test_ioredis_multi(self):
        counts = run_node_tests(self, [self.start_keyward()], "transactions.test.js")
        self.assertEqual(counts["pass"], 5)


if __name__ == "__main__":
    unittest.main()
