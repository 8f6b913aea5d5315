"""Configuration of the real keyward-server binary: config files in a temporary directory,
command-line overrides, CONFIG GET / SET / REWRITE, and start-up errors (exit code and the
FATAL CONFIG FILE ERROR report, compared with redis-server's for the same input)."""

import os
import re
import subprocess
import unittest

from keyward_harness import (REDIS_SERVER, ServerTestCase, free_port, keyward_binary,
                             make_workdir)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def config_get(client, name):
    reply = client.call("CONFIG", "GET", name)
    parts = reply.split(b"\r\n")
    # *2 $len name $len value
    if not reply.startswith(b"*2\r\n"):
        return reply
    return parts[4].decode()


def startup_failure(binary, args, cwd):
    """Runs a server expected to refuse to start; returns (exit code, stdout+stderr)."""
    proc = subprocess.run([binary] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def normalize_fatal(text):
    """The FATAL CONFIG FILE ERROR report with the program name and version in its banner, and
    the log prefix of one-line fatal errors ("1234:C 21 Nov 2026 05:52:05.487 # "), removed."""
    text = re.sub(r"\*\*\* FATAL CONFIG FILE ERROR \([^)]*\) \*\*\*",
                  "*** FATAL CONFIG FILE ERROR (<server>) ***", text)
    text = re.sub(r"(?m)^\d+:[CMSX] \d+ \w+ \d+ [\d:.]+ [#*.-] ", "", text)
    return text.strip("\n")


class ConfigFile(ServerTestCase):
    def test_config_file_and_overrides(self):
        d = make_workdir()
        port = free_port()
        conf = write(os.path.join(d, "keyward.conf"),
                     "# test configuration\n"
                     "port %d\n"
                     "bind 127.0.0.1\n"
                     "timeout 5\n"
                     "maxclients 100\n"
                     "hz 20\n"
                     "requirepass \"with space\"\n"
                     "tcp-keepalive 60\n"
                     "slowlog-max-len 50\n" % port)
        # Command-line options override the file, in order.
        srv = self.start_keyward(["--timeout", "7", "--slowlog-max-len", "64"], config_file=conf,
                                 port=port)
        c = self.raw_client(srv)
        self.assertEqual(c.call("AUTH", "with space"), b"+OK\r\n")
        self.assertEqual(config_get(c, "timeout"), "7")
        self.assertEqual(config_get(c, "maxclients"), "100")
        self.assertEqual(config_get(c, "hz"), "20")
        self.assertEqual(config_get(c, "tcp-keepalive"), "60")
        self.assertEqual(config_get(c, "slowlog-max-len"), "64")
        self.assertEqual(config_get(c, "port"), str(port))
        self.assertEqual(config_get(c, "bind"), "127.0.0.1")

    def test_include(self):
        d = make_workdir()
        port = free_port()
        inc = write(os.path.join(d, "included.conf"), "maxclients 77\ntimeout 9\n")
        conf = write(os.path.join(d, "main.conf"),
                     "port %d\nbind 127.0.0.1\ninclude %s\ntimeout 11\n" % (port, inc))
        srv = self.start_keyward(config_file=conf, port=port)
        c = self.raw_client(srv)
        self.assertEqual(config_get(c, "maxclients"), "77")
        self.assertEqual(config_get(c, "timeout"), "11")

    def test_command_line_only(self):
        srv = self.start_keyward(["--hz", "25", "--databases", "4", "--maxclients", "123"])
        c = self.raw_client(srv)
        self.assertEqual(config_get(c, "hz"), "25")
        self.assertEqual(config_get(c, "databases"), "4")
        self.assertEqual(config_get(c, "maxclients"), "123")
        self.assertEqual(c.call("SELECT", "3"), b"+OK\r\n")
        self.assertEqual(c.call("SELECT", "4"), b"-ERR DB index is out of range\r\n")

    def test_config_set_and_get(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "SET", "timeout", "30", "maxclients", "500"),
                         b"+OK\r\n")
        self.assertEqual(config_get(c, "timeout"), "30")
        self.assertEqual(config_get(c, "maxclients"), "500")
        self.assertEqual(c.call("CONFIG", "SET", "databases", "8"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'databases') - "
                         b"can't set immutable config\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "nosuch", "1"),
                         b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n")
        # A failing multi-option CONFIG SET changes nothing.
        self.assertEqual(c.call("CONFIG", "SET", "timeout", "40", "maxclients", "abc"),
                         b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
                         b"argument couldn't be parsed into an integer\r\n")
        self.assertEqual(config_get(c, "timeout"), "30")
        self.assertEqual(c.call("CONFIG", "REWRITE"),
                         b"-ERR The server is running without a config file\r\n")

    def test_config_rewrite(self):
        d = make_workdir()
        port = free_port()
        conf = write(os.path.join(d, "rewrite.conf"),
                     "# a comment that must survive the rewrite\n"
                     "port %d\n"
                     "bind 127.0.0.1\n"
                     "\n"
                     "timeout 5\n"
                     "# another comment\n"
                     "maxclients 100\n" % port)
        srv = self.start_keyward(config_file=conf, port=port)
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "SET", "timeout", "123"), b"+OK\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "slowlog-max-len", "99"), b"+OK\r\n")
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", "new pass"), b"+OK\r\n")
        self.assertEqual(c.call("CONFIG", "REWRITE"), b"+OK\r\n")
        with open(conf) as f:
            text = f.read()
        lines = text.splitlines()
        self.assertIn("# a comment that must survive the rewrite", lines)
        self.assertIn("# another comment", lines)
        self.assertIn("port %d" % port, lines)
        self.assertIn("timeout 123", lines)
        self.assertIn("maxclients 100", lines)
        self.assertNotIn("timeout 5", lines)
        # An option changed at run time that was not in the file is appended after Redis's
        # marker; values with spaces are quoted.
        self.assertIn("# Generated by CONFIG REWRITE", lines)
        marker = lines.index("# Generated by CONFIG REWRITE")
        self.assertIn("slowlog-max-len 99", lines[marker:])
        self.assertIn('requirepass "new pass"', lines)
        # Options set in place keep their position: timeout stays before maxclients.
        self.assertLess(lines.index("timeout 123"), lines.index("maxclients 100"))
        self.assertEqual(srv.stop(), 0)

        # The rewritten file starts a server with the same configuration.
        srv2 = self.start_keyward(config_file=conf, port=port)
        c2 = self.raw_client(srv2)
        self.assertEqual(c2.call("AUTH", "new pass"), b"+OK\r\n")
        self.assertEqual(config_get(c2, "timeout"), "123")
        self.assertEqual(config_get(c2, "slowlog-max-len"), "99")
        self.assertEqual(config_get(c2, "maxclients"), "100")

    def test_rewrite_is_idempotent(self):
        d = make_workdir()
        port = free_port()
        conf = write(os.path.join(d, "same.conf"), "port %d\nbind 127.0.0.1\n" % port)
        srv = self.start_keyward(config_file=conf, port=port)
        c = self.raw_client(srv)
        self.assertEqual(c.call("CONFIG", "REWRITE"), b"+OK\r\n")
        with open(conf) as f:
            first = f.read()
        self.assertEqual(c.call("CONFIG", "REWRITE"), b"+OK\r\n")
        with open(conf) as f:
            # (Redis itself adds a blank line at the end on each rewrite.)
            self.assertEqual(f.read().rstrip("\n"), first.rstrip("\n"))


class ConfigErrors(ServerTestCase):
    """Start-up errors: exit code 1 and the same report redis-server prints."""

    CASES = {
        "bad_integer": "# comment\nport abc\n",
        "unknown_directive": "nosuchdirective 1\n",
        "missing_argument": "port\n",
        "out_of_range": "databases 0\n",
        "bad_bool": "protected-mode maybe\n",
        "bad_enum": "loglevel shouting\n",
        "bad_memory": "proto-max-bulk-len 12xb\n",
        "unbalanced_quotes": "requirepass \"abc\n",
        "error_after_good_lines": "timeout 5\nhz 20\n\ntimeout -1\n",
    }

    def check_same_failure(self, args, files=None):
        results = []
        for binary in (REDIS_SERVER, keyward_binary()):
            d = make_workdir()
            for name, text in (files or {}).items():
                write(os.path.join(d, name), text)
            results.append(startup_failure(binary, args, d))
        (redis_rc, redis_out), (keyward_rc, keyward_out) = results
        self.assertEqual(redis_rc, 1, redis_out)  # the oracle behaves as expected
        self.assertEqual(keyward_rc, 1, keyward_out)
        self.assertEqual(normalize_fatal(keyward_out), normalize_fatal(redis_out))

    def test_config_file_errors(self):
        for name, text in self.CASES.items():
            with self.subTest(case=name):
                self.check_same_failure(["bad.conf"], {"bad.conf": text})

    def test_command_line_errors(self):
        for args in (["--port", "abc"], ["--maxclients", "0"], ["--nosuchoption", "1"],
                     ["--timeout", "-5"], ["--hz"]):
            with self.subTest(args=args):
                self.check_same_failure(args)

    def test_missing_config_file(self):
        self.check_same_failure(["/nonexistent/keyward.conf"])
        self.check_same_failure(["main.conf"], {"main.conf": "include /nonexistent/other.conf\n"})

    def test_fatal_report_format(self):
        d = make_workdir()
        write(os.path.join(d, "bad.conf"), "# comment\nport abc\n")
        rc, out = startup_failure(keyward_binary(), ["bad.conf"], d)
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"\*\*\* FATAL CONFIG FILE ERROR \(.+\) \*\*\*\n"
                              r"Reading the configuration file, at line 2\n"
                              r">>> 'port abc'\n"
                              r"argument couldn't be parsed into an integer\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
