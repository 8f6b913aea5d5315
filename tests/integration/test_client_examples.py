"""The client examples (examples/client/*.cc, built as example_*) run against real servers, and
docs/client.md shows exactly their code (tools/doc_snippets.py --check)."""

import os
import subprocess
import sys
import unittest

from keyward_harness import keyward_binary, start_keyward, start_redis

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def example(name):
    return os.path.join(os.path.dirname(keyward_binary()), "example_" + name)


def run(name, url):
    out = subprocess.run([example(name), url], capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout, out.stderr


class DocSnippetsTest(unittest.TestCase):
    def test_docs_show_the_compiled_examples(self):
        out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "doc_snippets.py"),
                              "--check", os.path.join(ROOT, "docs", "client.md")],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


class ExamplesAgainstRedisTest(unittest.TestCase):
    """Redis has every command the examples use (lists, MULTI, pub/sub)."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_redis()
        cls.url = "redis://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_sync_basics(self):
        code, out, err = run("sync_basics", self.url)
        self.assertEqual(code, 0, err)
        self.assertIn("visits = 42", out)
        self.assertIn("server error: ERR wrong number of arguments for 'incr' command", out)
        self.assertIn("pipeline: 4 replies", out)
        self.assertIn("transfer applied atomically", out)
        self.assertIn("BLPOP timed out", out)

    def test_async_concurrency(self):
        code, out, err = run("async_concurrency", self.url)
        self.assertEqual(code, 0, err)
        self.assertIn("50 workers x 100 INCR done on one connection", out)
        # 50 workers x 100 increments spread over visits:0..3.
        with self.server.client() as c:
            # Raw bulk replies: "$4\r\n1300\r\n".
            total = sum(int(c.call("GET", "visits:%d" % i).split(b"\r\n")[1]) for i in range(4))
        self.assertEqual(total, 5000)

    def test_async_pubsub(self):
        code, out, err = run("async_pubsub", self.url)
        self.assertEqual(code, 0, err)
        self.assertIn("message on news: hello", out)
        self.assertIn("pmessage on alerts.disk: 90% full", out)


class ExamplesAgainstKeywardTest(unittest.TestCase):
    def test_async_concurrency(self):
        with start_keyward() as srv:
            code, out, err = run("async_concurrency", "redis://127.0.0.1:%d" % srv.port)
            self.assertEqual(code, 0, err)
            self.assertIn("50 workers x 100 INCR done on one connection", out)

    def test_sync_basics_over_a_unix_socket(self):
        with start_keyward(["--unixsocket", "/tmp/keyward-example-%d.sock" % os.getpid()]) as srv:
            code, out, err = run("sync_basics", "unix:///tmp/keyward-example-%d.sock" % os.getpid())
            self.assertEqual(code, 0, err)
            self.assertIn("visits = 42", out)


if __name__ == "__main__":
    unittest.main()
