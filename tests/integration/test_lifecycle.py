"""Life cycle of the real keyward-server binary: clean shutdown on SIGTERM and SIGINT (exit code
0), the SHUTDOWN command, the log file, the pid file, DEBUG SLEEP, version and help output."""

import os
import signal
import subprocess
import unittest

from keyward_harness import (REDIS_CLI, ServerTestCase, keyward_binary, make_workdir, wait_for)

DEBUG_REFUSED = (b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                 b"\"local\", you can run it from a local connection, otherwise you need to set "
                 b"this option in the configuration file, and then restart the server.\r\n")


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class Signals(ServerTestCase):
    def shutdown_by_signal(self, sig, name):
        d = make_workdir()
        log = os.path.join(d, "server.log")
        srv = self.start_keyward(["--logfile", log])
        c = self.raw_client(srv)
        self.assertEqual(c.call("SET", "k", "v"), b"+OK\r\n")
        srv.signal(sig)
        self.assertEqual(srv.wait_exit(), 0, srv.output()[-3000:])
        # Connected clients see the connection closed.
        self.assertEqual(c.wait_closed(), b"")
        text = read(log)
        self.assertIn("Received %s scheduling shutdown..." % name, text)
        return text

    def test_sigterm(self):
        self.shutdown_by_signal(signal.SIGTERM, "SIGTERM")

    def test_sigint(self):
        self.shutdown_by_signal(signal.SIGINT, "SIGINT")

    def test_sigterm_with_many_clients(self):
        srv = self.start_keyward()
        clients = [self.raw_client(srv) for _ in range(20)]
        for i, c in enumerate(clients):
            self.assertEqual(c.call("SET", "k%d" % i, "v"), b"+OK\r\n")
        # One client in the middle of a request when the signal arrives.
        clients[0].send(b"*3\r\n$3\r\nSET\r\n")
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(), 0, srv.output()[-3000:])


class ShutdownCommand(ServerTestCase):
    def test_shutdown(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        other = self.raw_client(srv)
        self.assertEqual(other.call("PING"), b"+PONG\r\n")
        c.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        # On success SHUTDOWN sends no reply: the connection just closes.
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(srv.wait_exit(), 0, srv.output()[-3000:])
        self.assertEqual(other.wait_closed(), b"")

    def test_shutdown_nosave(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        c.send(b"SHUTDOWN NOSAVE\r\n")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(srv.wait_exit(), 0, srv.output()[-3000:])

    def test_shutdown_errors(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        self.assertEqual(c.call("SHUTDOWN", "FOO"), b"-ERR syntax error\r\n")
        self.assertEqual(c.call("SHUTDOWN", "ABORT"), b"-ERR No shutdown in progress.\r\n")
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        self.assertTrue(srv.alive())

    def test_redis_cli_shutdown(self):
        srv = self.start_keyward()
        proc = self.run_tool([REDIS_CLI, "-p", str(srv.port), "shutdown"])
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(srv.wait_exit(), 0, srv.output()[-3000:])


class Files(ServerTestCase):
    def test_logfile(self):
        d = make_workdir()
        log = os.path.join(d, "keyward.log")
        srv = self.start_keyward(["--logfile", log, "--loglevel", "notice"])
        text = read(log)
        self.assertIn("Ready to accept connections", text)
        # Log lines look like Redis's: "<pid>:M 21 Nov 2026 05:24:29.123 * message", where the
        # level mark is one of . - * # (debug, verbose, notice, warning).
        first = text.splitlines()[0]
        self.assertRegex(first, r"^%d:[CM] \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] "
                         % srv.proc.pid)
        # With a log file, nothing is logged on standard output.
        self.assertNotIn("Ready to accept connections", srv.output())
        self.assertEqual(srv.stop(), 0)
        self.assertIn("Received SIGTERM scheduling shutdown...", read(log))

    def test_log_to_stdout(self):
        srv = self.start_keyward()
        wait_for(lambda: "Ready to accept connections" in srv.output(),
                 message="the ready line on standard output")

    def test_pidfile(self):
        d = make_workdir()
        pidfile = os.path.join(d, "keyward.pid")
        srv = self.start_keyward(["--pidfile", pidfile])
        self.assertEqual(read(pidfile).strip(), str(srv.proc.pid))
        self.assertEqual(srv.stop(), 0)
        self.assertFalse(os.path.exists(pidfile), "pid file left behind after shutdown")


class Debug(ServerTestCase):
    def test_debug_refused_by_default(self):
        srv = self.start_keyward()
        c = self.raw_client(srv)
        self.assertEqual(c.call("DEBUG", "SLEEP", "0"), DEBUG_REFUSED)
        self.assertEqual(c.call("CONFIG", "SET", "enable-debug-command", "yes"),
                         b"-ERR CONFIG SET failed (possibly related to argument "
                         b"'enable-debug-command') - can't set immutable config\r\n")

    def test_debug_sleep(self):
        for mode in ("yes", "local"):
            with self.subTest(mode=mode):
                srv = self.start_keyward(["--enable-debug-command", mode])
                c = self.raw_client(srv)
                self.assertEqual(c.call("DEBUG", "SLEEP", "0"), b"+OK\r\n")
                self.assertEqual(c.call("DEBUG", "SLEEP", "0.001"), b"+OK\r\n")
                self.assertEqual(c.call("PING"), b"+PONG\r\n")
                srv.stop()


class CommandLine(ServerTestCase):
    def test_version_and_help(self):
        for flag in ("-v", "--version"):
            proc = subprocess.run([keyward_binary(), flag], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=30)
            self.assertEqual(proc.returncode, 0)
            self.assertRegex(proc.stdout.decode(), r"v=\S+")
        proc = subprocess.run([keyward_binary(), "--help"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30)
        self.assertIn("Usage:", proc.stdout.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
