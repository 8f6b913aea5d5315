"""redis-py (Debian's python3-redis) against the real keyward-server binary: typed commands,
connection pools shared by threads, pipelines, reconnection, response parsing (INFO, CLIENT
LIST), and RESP3 when the installed redis-py supports it."""

import threading
import unittest

from keyward_harness import ServerTestCase, SharedKeywardTestCase, import_redis, start_keyward

redis = import_redis()


class RedisPy(SharedKeywardTestCase):

    def setUp(self):
        self.r = self.srv.redis_py()
        self.addCleanup(self.r.close)
        self.r.flushall()

    def test_string_commands(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), b"v")
        self.assertIsNone(r.get("missing"))
        self.assertIsNone(r.set("k", "x", nx=True))
        self.assertTrue(r.set("k", "x", xx=True, ex=100))
        self.assertEqual(r.ttl("k"), 100)
        self.assertEqual(r.set("k", "y", get=True), b"x")
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.incrby("n", 10), 11)
        self.assertEqual(r.decr("n"), 10)
        self.assertEqual(r.incrbyfloat("f", 1.5), 1.5)
        self.assertEqual(r.incrbyfloat("f", 0.25), 1.75)
        self.assertTrue(r.mset({"a": "1", "b": "2"}))
        self.assertEqual(r.mget("a", "b", "missing"), [b"1", b"2", None])
        self.assertFalse(r.msetnx({"a": "3", "c": "4"}))
        self.assertEqual(r.append("a", "23"), 3)
        self.assertEqual(r.strlen("a"), 3)
        self.assertEqual(r.getrange("a", 0, 1), b"12")
        self.assertEqual(r.setrange("a", 1, "xy"), 3)
        self.assertEqual(r.getdel("a"), b"1xy")
        self.assertEqual(r.getex("b", px=200000), b"2")
        self.assertEqual(r.ttl("b"), 200)
        self.assertEqual(r.getex("b", persist=True), b"2")
        self.assertEqual(r.ttl("b"), -1)
        self.assertEqual(r.getset("b", "new"), b"2")
        self.assertTrue(r.setex("e", 100, "v"))
        self.assertTrue(r.psetex("p", 100000, "v"))
        self.assertEqual(r.setnx("p", "w"), False)
        r.mset({"key1": "ohmytext", "key2": "mynewtext"})
        self.assertEqual(r.execute_command("LCS", "key1", "key2"), b"mytext")
        with self.assertRaises(redis.ResponseError) as cm:
            r.incr("k")
        self.assertEqual(str(cm.exception), "value is not an integer or out of range")
        with self.assertRaises(redis.ResponseError):
            r.execute_command("NOSUCHCOMMAND")

    def test_bitmap_commands(self):
        r = self.r
        self.assertEqual(r.setbit("b", 7, 1), 0)
        self.assertEqual(r.getbit("b", 7), 1)
        self.assertEqual(r.bitcount("b"), 1)
        self.assertEqual(r.bitpos("b", 1), 7)
        r.set("x", "foobar")
        self.assertEqual(r.bitop("AND", "dest", "x", "b"), 6)
        bf = r.bitfield("bf")
        bf.set("u8", 0, 200).incrby("u8", 0, 100).overflow("SAT").incrby("u8", 0, 100)
        self.assertEqual(bf.execute(), [0, 44, 144])
        self.assertEqual(r.execute_command("BITFIELD_RO", "bf", "GET", "u8", "0"), [144])

    def test_generic_commands(self):
        r = self.r
        r.mset({"a": "1", "b": "2", "c": "3"})
        self.assertEqual(r.exists("a", "b", "missing"), 2)
        self.assertEqual(sorted(r.keys("*")), [b"a", b"b", b"c"])
        self.assertEqual(sorted(r.scan_iter(match="*", count=1)), [b"a", b"b", b"c"])
        self.assertEqual(r.type("a"), b"string")
        self.assertTrue(r.expire("a", 100))
        self.assertEqual(r.ttl("a"), 100)
        self.assertTrue(r.persist("a"))
        self.assertTrue(r.rename("a", "z"))
        self.assertTrue(r.copy("z", "y"))
        self.assertTrue(r.move("y", 2))
        self.assertEqual(r.delete("z", "b", "missing"), 2)
        self.assertEqual(r.dbsize(), 1)
        self.assertEqual(r.object("encoding", "c"), b"int")
        self.assertTrue(r.swapdb(0, 2))
        self.assertEqual(r.get("y"), b"1")
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)

    def test_server_replies_parse(self):
        r = self.r
        info = r.info()
        self.assertIn("redis_version", info)
        self.assertIn("connected_clients", info)
        self.assertGreaterEqual(info["connected_clients"], 1)
        r.set("k", "v")
        keyspace = r.info("keyspace")
        self.assertEqual(keyspace["db0"]["keys"], 1)
        self.assertEqual(r.config_get("maxclients"), {"maxclients": "10000"})
        self.assertTrue(r.config_set("timeout", 0))
        self.assertTrue(r.client_setname("py-client"))
        self.assertEqual(r.client_getname(), "py-client")
        clients = r.client_list()
        self.assertTrue(any(c.get("name") == "py-client" for c in clients), clients)
        self.assertIsInstance(r.client_id(), int)
        info = r.client_info()
        self.assertEqual(info["name"], "py-client")
        self.assertEqual(r.echo("hi"), b"hi")
        seconds, micros = r.time()
        self.assertGreater(seconds, 1600000000)
        self.assertGreaterEqual(micros, 0)
        self.assertIsInstance(r.lastsave(), object)

    def test_decode_responses_and_db(self):
        r = self.srv.redis_py(decode_responses=True, db=3)
        self.addCleanup(r.close)
        r.set("k", "välue")
        self.assertEqual(r.get("k"), "välue")
        self.assertIsNone(self.r.get("k"))  # db 0
        self.assertEqual(int(r.client_info()["db"]), 3)
        url = redis.Redis.from_url("redis://127.0.0.1:%d/3" % self.srv.port)
        self.addCleanup(url.close)
        self.assertEqual(url.get("k"), "välue".encode())

    def test_pipeline_without_transaction(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(500):
            pipe.set("k%d" % i, i)
            pipe.incr("counter")
        pipe.get("k499")
        pipe.incr("k1", 1)
        results = pipe.execute()
        self.assertEqual(len(results), 1002)
        self.assertTrue(all(results[i] is True for i in range(0, 1000, 2)))
        self.assertEqual(results[999], 500)
        self.assertEqual(results[1000], b"499")
        self.assertEqual(results[1001], 2)
        self.assertEqual(self.r.dbsize(), 501)

    def test_pipeline_errors(self):
        pipe = self.r.pipeline(transaction=False)
        pipe.set("s", "text").incr("s").get("s")
        results = pipe.execute(raise_on_error=False)
        self.assertTrue(results[0])
        self.assertIsInstance(results[1], redis.ResponseError)
        self.assertEqual(results[2], b"text")

    def test_pipeline_transaction(self):
        # redis-py's default pipeline wraps the commands in MULTI/EXEC.
        with self.r.pipeline() as pipe:
            pipe.set("a", 1).incr("a").get("a")
            self.assertEqual(pipe.execute(), [True, 2, b"2"])

    def test_connection_pool_threads(self):
        pool = redis.ConnectionPool(host="127.0.0.1", port=self.srv.port, max_connections=8,
                                    socket_timeout=30)
        self.addCleanup(pool.disconnect)
        errors = []

        def worker(n):
            try:
                client = redis.Redis(connection_pool=pool)
                for i in range(200):
                    client.incr("shared")
                    client.set("t%d:%d" % (n, i), i)
                    if client.get("t%d:%d" % (n, i)) != str(i).encode():
                        errors.append("bad value t%d:%d" % (n, i))
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(self.r.get("shared"), b"1600")
        self.assertEqual(self.r.dbsize(), 1601)
        self.assertLessEqual(len(pool._created_connections and pool._available_connections), 8)

    def test_reconnect_after_server_side_close(self):
        pool = redis.ConnectionPool(host="127.0.0.1", port=self.srv.port, max_connections=1)
        self.addCleanup(pool.disconnect)
        client = redis.Redis(connection_pool=pool, retry_on_timeout=True)
        client.client_setname("victim")
        victim_id = client.client_id()
        self.assertEqual(self.r.client_kill_filter(_id=victim_id), 1)
        # The pooled connection is dead: redis-py sees the EOF when it takes the connection
        # from the pool and reconnects.
        self.assertTrue(client.ping())
        self.assertNotEqual(client.client_id(), victim_id)

    def test_resp3(self):
        try:
            r = self.srv.redis_py(protocol=3)
        except TypeError:
            self.skipTest("redis-py %s has no RESP3 support (protocol=3 needs redis-py 5)"
                          % redis.__version__)
        self.addCleanup(r.close)
        r.set("k", "v")
        self.assertEqual(r.get("k"), b"v")
        self.assertIsNone(r.get("missing"))
        self.assertEqual(r.config_get("maxclients"), {"maxclients": "10000"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
