"""redis-cli and redis-benchmark against the real keyward-server binary: one-shot commands,
--pipe mass insertion, an interactive session through a pseudo-terminal, and a small benchmark."""

import os
import pty
import re
import select
import signal
import subprocess
import time
import unittest

from keyward_harness import REDIS_BENCHMARK, REDIS_CLI, ServerTestCase, SharedKeywardTestCase, encode_command


class InteractiveCli:
    """redis-cli running on a pseudo-terminal, as a person would use it."""

    def __init__(self, argv):
        self.master, slave = pty.openpty()
        env = dict(os.environ, TERM="dumb", HOME=os.environ.get("HOME", "/tmp"))
        # No history file: keep the user's ~/.rediscli_history untouched.
        env["REDISCLI_HISTFILE"] = "/dev/null"
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.output = b""

    def expect(self, pattern, timeout=15.0):
        """Reads the terminal until `pattern` (a bytes regex) matches the output received since
        the last match; returns the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output)
            if m:
                self.output = self.output[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("redis-cli output never matched %r; got %r"
                                     % (pattern, self.output[-500:]))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("redis-cli closed the terminal; output %r; waiting for %r"
                                         % (self.output[-500:], pattern))
                self.output += chunk

    def send_line(self, line):
        os.write(self.master, line.encode() + b"\r")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


class RedisCli(SharedKeywardTestCase):

    def setUp(self):
        self.raw_client(self.srv).call("FLUSHALL")

    def cli(self, *args, input=None, check=True):
        proc = self.run_tool([REDIS_CLI, "-p", str(self.srv.port)] + list(args), input=input,
                             check=check)
        return proc.stdout.decode("utf-8", "replace")

    def test_one_shot_commands(self):
        self.assertEqual(self.cli("set", "k", "v"), "OK\n")
        self.assertEqual(self.cli("get", "k"), "v\n")
        self.assertEqual(self.cli("get", "missing"), "\n")
        self.assertEqual(self.cli("ping"), "PONG\n")
        self.assertEqual(self.cli("incr", "n"), "1\n")
        self.assertEqual(self.cli("incrbyfloat", "f", "1.5"), "1.5\n")
        self.assertEqual(self.cli("mget", "k", "missing", "n"), "v\n\n1\n")
        self.assertEqual(self.cli("dbsize"), "3\n")
        self.assertEqual(self.cli("incr", "k"), "ERR value is not an integer or out of range\n\n")
        self.assertEqual(self.cli("config", "get", "maxclients"), "maxclients\n10000\n")
        self.assertEqual(self.cli("nosuch", "cmd"),
                         "ERR unknown command 'nosuch', with args beginning with: 'cmd' \n\n")

    def test_formatted_output(self):
        self.cli("mset", "a", "1", "b", "two")
        self.assertEqual(self.cli("--no-raw", "get", "missing"), "(nil)\n")
        self.assertEqual(self.cli("--no-raw", "mget", "a", "b", "missing"),
                         '1) "1"\n2) "two"\n3) (nil)\n')
        self.assertEqual(self.cli("--no-raw", "incr", "a"), "(integer) 2\n")
        self.assertEqual(self.cli("--no-raw", "incr", "b"),
                         "(error) ERR value is not an integer or out of range\n")

    def test_options(self):
        self.assertEqual(self.cli("-n", "2", "set", "x", "in-db2"), "OK\n")
        self.assertEqual(self.cli("-n", "2", "get", "x"), "in-db2\n")
        self.assertEqual(self.cli("get", "x"), "\n")
        self.assertEqual(self.cli("-r", "3", "incr", "n"), "1\n2\n3\n")
        self.assertEqual(self.cli("-x", "set", "sx", input=b"from stdin"), "OK\n")
        self.assertEqual(self.cli("get", "sx"), "from stdin\n")
        self.assertEqual(self.cli("-3", "get", "missing"), "\n")
        self.assertEqual(self.cli("-3", "--no-raw", "get", "missing"), "(nil)\n")
        self.assertEqual(self.cli("-3", "config", "get", "maxclients"), "maxclients 10000\n")
        self.assertEqual(self.cli("-h", "127.0.0.1", "echo", "hello world"), "hello world\n")

    def test_scan_and_bigkeys(self):
        self.cli("mset", "key:1", "a", "key:2", "bbbb", "other", "cc")
        self.assertEqual(sorted(self.cli("--scan", "--pattern", "key:*").split()),
                         ["key:1", "key:2"])
        self.assertEqual(sorted(self.cli("--scan").split()), ["key:1", "key:2", "other"])
        out = self.cli("--bigkeys")
        self.assertIn("Sampled 3 keys in the keyspace!", out)
        self.assertIn("Biggest string found '\"key:2\"' has 4 bytes", out)
        self.assertIn("3 strings with 7 bytes", out)

    def test_pipe_mass_insertion(self):
        count = 10000
        data = b"".join(encode_command("SET", "key:%d" % i, "value:%d" % i) for i in range(count))
        data += encode_command("INCRBY", "counter", "5")
        out = self.cli("--pipe", input=data)
        self.assertIn("All data transferred. Waiting for the last reply...", out)
        self.assertIn("Last reply received from server.", out)
        self.assertIn("errors: 0, replies: %d" % (count + 1), out)
        self.assertEqual(self.cli("dbsize"), "%d\n" % (count + 1))
        self.assertEqual(self.cli("get", "key:9999"), "value:9999\n")
        self.assertEqual(self.cli("get", "counter"), "5\n")

    def test_pipe_reports_errors(self):
        data = (encode_command("SET", "a", "x") + encode_command("INCR", "a") +
                encode_command("NOSUCH") + encode_command("GET", "a"))
        proc = self.run_tool([REDIS_CLI, "-p", str(self.srv.port), "--pipe"], input=data,
                             check=False)
        out = proc.stdout.decode() + proc.stderr.decode()
        self.assertIn("errors: 2, replies: 4", out)
        self.assertIn("ERR value is not an integer or out of range", out)

    def test_interactive_session(self):
        cli = InteractiveCli([REDIS_CLI, "-p", str(self.srv.port)])
        self.addCleanup(cli.close)
        prompt = ("127.0.0.1:%d> " % self.srv.port).encode()
        cli.expect(re.escape(prompt))
        cli.send_line("set greeting hello")
        cli.expect(rb"OK\r\n")
        cli.expect(re.escape(prompt))
        cli.send_line("get greeting")
        cli.expect(rb'"hello"\r\n')
        cli.expect(re.escape(prompt))
        cli.send_line("incr greeting")
        cli.expect(rb"\(error\) ERR value is not an integer or out of range\r\n")
        cli.send_line("incr counter")
        cli.expect(rb"\(integer\) 1\r\n")
        cli.send_line("mget greeting nothing")
        cli.expect(rb'1\) "hello"\r\n2\) \(nil\)\r\n')
        cli.send_line("select 3")
        cli.expect(rb"OK\r\n")
        cli.expect(re.escape(("127.0.0.1:%d[3]> " % self.srv.port).encode()))
        cli.send_line("get greeting")
        cli.expect(rb"\(nil\)\r\n")
        cli.send_line("nosuchcommand")
        cli.expect(rb"\(error\) ERR unknown command 'nosuchcommand'")
        cli.send_line("hello 3")
        cli.expect(rb'1# "server" => "redis"')
        cli.send_line("select 0")
        cli.expect(re.escape(prompt))
        cli.send_line("get missing")
        cli.expect(rb"\(nil\)\r\n")
        cli.send_line("quit")
        cli.proc.wait(15)
        self.assertEqual(cli.proc.returncode, 0)
        self.assertEqual(self.cli("get", "greeting"), "hello\n")


class RedisBenchmark(ServerTestCase):
    def test_tiny_benchmark(self):
        srv = self.start_keyward()
        proc = self.run_tool([REDIS_BENCHMARK, "-p", str(srv.port), "-n", "1000", "-q", "-t",
                              "set,get,incr,mset"], timeout=120)
        out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        lines = [line for line in re.split(r"[\r\n]+", out) if "requests per second" in line]
        names = [line.split(":")[0].strip() for line in lines]
        self.assertEqual(names, ["SET", "GET", "INCR", "MSET (10 keys)"], out)
        for bad in ("ERR", "rror", "WARNING", "Could not"):
            self.assertNotIn(bad, out)
        c = self.raw_client(srv)
        # -t incr increments "counter:__rand_int__" (no -r: the literal key) 1000 times.
        self.assertEqual(c.call("GET", "counter:__rand_int__"), b"$4\r\n1000\r\n")
        self.assertRegex(c.call("GET", "key:__rand_int__"), rb"^\$3\r\n...\r\n$")  # -d 3


if __name__ == "__main__":
    unittest.main(verbosity=2)
