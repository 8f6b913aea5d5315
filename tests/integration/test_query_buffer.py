"""The query buffer as CLIENT LIST shows it (qbuf, qbuf-free), on Keyward and on Debian's
redis-server side by side: empty for a client that has sent nothing, grown by a big pipelined
request, given back once the client has been idle (Redis's clientsCronResizeQueryBuffer). The
sizes themselves depend on each server's allocator; what they do is compared."""

import time
import unittest

from keyward_harness import ServerTestCase, decode, encode_command, wait_for


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def client_info(c):
    return fields(decode(c.call("CLIENT", "INFO")).decode())


def client_list_entry(c, client_id):
    return fields(decode(c.call("CLIENT", "LIST", "ID", str(client_id))).decode())


class QueryBuffer(ServerTestCase):
    def scenario(self, srv):
        silent, busy, observer = srv.client(), srv.client(), srv.client()
        self.addCleanup(silent.close)
        self.addCleanup(busy.close)
        self.addCleanup(observer.close)
        silent_id = decode(silent.call("CLIENT", "ID"))
        busy_id = decode(busy.call("CLIENT", "ID"))
        out = {}
        # A client that has only sent one small command holds a read-sized buffer at most; one
        # that sent nothing yet (right after connecting) holds none.
        fresh = srv.client()
        self.addCleanup(fresh.close)
        ids = [fields(line)["id"] for line in decode(observer.call("CLIENT", "LIST")).decode()
               .splitlines()]
        fresh_entry = client_list_entry(observer, max(int(i) for i in ids))
        out["fresh"] = (int(fresh_entry["qbuf"]), int(fresh_entry["qbuf-free"]))
        # A long pipeline of small commands: a buffer of about one read, however long the
        # pipeline. CLIENT INFO comes last in the same batch, so it sees the buffer as it was
        # while the batch ran, before any cron could resize it.
        batch = b"".join(encode_command("SET", "k%d" % i, "v" * 1000) for i in range(2000))
        busy.send(batch + encode_command("CLIENT", "INFO"))
        busy.read_replies(2000)
        info = fields(decode(busy.read_reply()).decode())
        out["pipeline"] = int(info["qbuf"]) + int(info["qbuf-free"])
        # A big argument: the buffer grows to hold it.
        busy.send(encode_command("SET", "big", "x" * 300000) + encode_command("CLIENT", "INFO"))
        busy.read_reply()
        info = fields(decode(busy.read_reply()).decode())
        out["big"] = int(info["qbuf"]) + int(info["qbuf-free"])
        # Idle for more than 2 s: the server gives the memory back.
        deadline = time.monotonic() + 30
        while True:
            entry = client_list_entry(observer, busy_id)
            if int(entry["qbuf-free"]) == 0:
                break
            self.assertLess(time.monotonic(), deadline, "the query buffer was never shrunk")
            time.sleep(0.1)
        out["idle"] = (int(entry["qbuf"]), int(entry["qbuf-free"]))
        return out

    def test_the_query_buffer_grows_and_shrinks_as_redis(self):
        redis = self.scenario(self.start_redis())
        keyward = self.scenario(self.start_keyward())
        for name, got in (("redis", redis), ("keyward", keyward)):
            with self.subTest(server=name):
                # No read buffer before the first read (Redis's empty sds has a few bytes).
                self.assertEqual(got["fresh"][0], 0)
                self.assertLess(got["fresh"][1], 1024)
                self.assertGreaterEqual(got["pipeline"], 16 * 1024)
                self.assertLessEqual(got["pipeline"], 64 * 1024)
                self.assertGreaterEqual(got["big"], 300000)
                self.assertEqual(got["idle"], (0, 0))

    def stuck_subscriber(self, srv):
        """A subscriber that stops reading (the server's write to it stays pending) and then
        sends a big command. Returns its idle buffer as CLIENT LIST shows it."""
        sub, publisher = srv.client(), srv.client()
        self.addCleanup(sub.close)
        self.addCleanup(publisher.close)
        sub_id = decode(sub.call("CLIENT", "ID"))
        sub.send(encode_command("SUBSCRIBE", "ch"))
        sub.read_reply()
        # Publish until the server holds output it cannot write (the kernel's buffers are full),
        # then 6 MB more, so that the kernel's send buffer, which may still grow, cannot take it
        # all (below the pubsub class's 8 MB soft limit).
        message = "m" * 100000
        entry = None
        for _ in range(1000):
            publisher.call("PUBLISH", "ch", message)
            entry = client_list_entry(publisher, sub_id)
            if int(entry["omem"]) > 0:
                break
        self.assertGreater(int(entry["omem"]), 0, "the subscriber's output never backed up")
        for _ in range(60):
            publisher.call("PUBLISH", "ch", message)
        # A big PING (allowed while subscribed), all but its last bytes: the buffer holds them
        # while the output is stuck, whatever the cron does meanwhile.
        request = encode_command("PING", "x" * 300000)
        sub.send(request[:-10])
        entry = wait_for(lambda: (lambda e: int(e["qbuf"]) >= 299000 and e)(
            client_list_entry(publisher, sub_id)), timeout=30, message="the big request read")
        self.assertGreater(int(entry["omem"]), 0, "the subscriber's output drained")
        sub.send(request[-10:])
        # Executed (its reply queued behind the rest), the buffer is given back all the same.
        deadline = time.monotonic() + 30
        while True:
            entry = client_list_entry(publisher, sub_id)
            if int(entry["qbuf"]) == 0 and int(entry["qbuf-free"]) == 0:
                break
            self.assertLess(time.monotonic(), deadline, "the query buffer was never shrunk")
            time.sleep(0.1)
        self.assertGreater(int(entry["omem"]), 0)  # the write was still pending
        return int(entry["qbuf"]), int(entry["qbuf-free"])

    def test_a_client_whose_output_is_stuck_still_gets_its_query_buffer_shrunk(self):
        for name, srv in (("redis", self.start_redis()), ("keyward", self.start_keyward())):
            with self.subTest(server=name):
                self.assertEqual(self.stuck_subscriber(srv), (0, 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
