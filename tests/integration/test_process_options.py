"""The process options of redis.conf on the real binary: daemonize and the pid file, supervision
by systemd (READY=1 and STOPPING=1 over NOTIFY_SOCKET), the start-up logo, the process title,
the OOM score, transparent huge pages, the crash report, and protected configs."""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

from keyward_harness import (RawClient, ServerTestCase, decode, free_port, keyward_binary,
                             make_workdir, wait_for)


def config_get(client, name):
    value = decode(client.call("CONFIG", "GET", name))
    return value[1].decode() if value else None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class Daemonize(unittest.TestCase):
    def test_daemonize_writes_the_pid_file_and_shutdown_removes_it(self):
        d = make_workdir()
        port = free_port()
        pidfile = os.path.join(d, "keyward.pid")
        launcher = subprocess.run(
            [keyward_binary(), "--daemonize", "yes", "--port", str(port), "--bind", "127.0.0.1",
             "--pidfile", pidfile, "--logfile", os.path.join(d, "log"), "--dir", d],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        # The process started returns at once: the server runs on in the background.
        self.assertEqual(launcher.returncode, 0, launcher.stdout)
        wait_for(lambda: os.path.exists(pidfile) and read(pidfile).strip(), timeout=30,
                 message="the pid file")
        pid = int(read(pidfile))
        c = RawClient("127.0.0.1", port)
        self.assertEqual(c.call("PING"), b"+PONG\r\n")
        self.assertEqual(config_get(c, "daemonize"), "yes")
        self.assertEqual(config_get(c, "pidfile"), pidfile)
        # A session of its own, detached from the launcher.
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().split(")")[-1].split()
        self.assertEqual(int(fields[3]), pid)  # session id
        c.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
        wait_for(lambda: not pid_alive(pid), timeout=30, message="the daemon to exit")
        self.assertFalse(os.path.exists(pidfile))
        self.assertIn("Ready to accept connections", read(os.path.join(d, "log")))


class Supervised(ServerTestCase):
    def notify_socket(self):
        d = make_workdir()
        path = os.path.join(d, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(30)
        self.addCleanup(sock.close)
        return sock, path

    def check_systemd(self, mode):
        sock, path = self.notify_socket()
        env = dict(os.environ, NOTIFY_SOCKET=path)
        # Supervised: not daemonized even with daemonize yes (the supervisor tracks the process).
        srv = self.start_keyward(["--supervised", mode, "--daemonize", "yes"], env=env)
        self.assertEqual(sock.recv(256), b"STATUS=Ready to accept connections\n")
        self.assertEqual(sock.recv(256), b"READY=1\n")
        self.assertTrue(srv.alive())
        srv.client().send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
        self.assertEqual(sock.recv(256), b"STOPPING=1\n")
        srv.wait_exit()

    def test_systemd_is_told_when_the_server_is_ready_and_stopping(self):
        self.check_systemd("systemd")

    def test_auto_finds_systemd_by_its_socket(self):
        self.check_systemd("auto")

    def test_systemd_without_its_socket_is_a_warning(self):
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        srv = self.start_keyward(["--supervised", "systemd"], env=env)
        self.assertIn("NOTIFY_SOCKET environment variable is not set", srv.output())


class Banner(ServerTestCase):
    def test_always_show_logo_prints_the_logo_with_the_pid(self):
        d = make_workdir()
        log = os.path.join(d, "log")
        srv = self.start_keyward(["--always-show-logo", "yes", "--logfile", log])
        text = read(log)
        self.assertIn("PID: %d" % srv.proc.pid, text)
        self.assertIn("Port: %d" % srv.port, text)
        self.assertIn("Running in standalone mode", text)

    def test_without_the_logo_one_line_says_the_mode_and_port(self):
        d = make_workdir()
        log = os.path.join(d, "log")
        srv = self.start_keyward(["--logfile", log])
        text = read(log)
        self.assertIn("Running mode=standalone, port=%d." % srv.port, text)
        self.assertNotIn("PID: ", text)


class ProcessTitle(ServerTestCase):
    def cmdline(self, srv):
        with open("/proc/%d/cmdline" % srv.proc.pid, "rb") as f:
            return f.read().rstrip(b"\0").split(b"\0")[0].decode()

    def test_the_title_follows_the_template(self):
        srv = self.start_keyward()
        self.assertEqual(self.cmdline(srv), "%s 127.0.0.1:%d" % (keyward_binary(), srv.port))
        c = srv.client()
        self.assertEqual(c.call("CONFIG", "SET", "proc-title-template", "kw {port} {server-mode}"),
                         b"+OK\r\n")
        self.assertEqual(self.cmdline(srv), "kw %d" % srv.port)
        self.assertEqual(
            c.call("CONFIG", "SET", "proc-title-template", "{nosuch}"),
            b"-ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - "
            b"template format is invalid or contains unknown variables\r\n")
        self.assertEqual(config_get(c, "proc-title-template"), "kw {port} {server-mode}")

    def test_set_proc_title_no_leaves_the_command_line(self):
        srv = self.start_keyward(["--set-proc-title", "no"])
        self.assertEqual(self.cmdline(srv), keyward_binary())


class OomScore(ServerTestCase):
    def score(self, srv):
        return int(read("/proc/%d/oom_score_adj" % srv.proc.pid))

    def test_relative_absolute_and_back(self):
        base = int(read("/proc/self/oom_score_adj"))
        srv = self.start_keyward(["--oom-score-adj", "relative", "--oom-score-adj-values",
                                  "100 200 800"])
        self.assertEqual(self.score(srv), min(base + 100, 1000))
        c = srv.client()
        self.assertEqual(config_get(c, "oom-score-adj"), "yes")  # relative is shown as yes
        self.assertEqual(c.call("CONFIG", "SET", "oom-score-adj", "absolute"), b"+OK\r\n")
        self.assertEqual(self.score(srv), 100)
        self.assertEqual(c.call("CONFIG", "SET", "oom-score-adj-values", "250 300 900"),
                         b"+OK\r\n")
        self.assertEqual(self.score(srv), 250)
        self.assertEqual(c.call("CONFIG", "SET", "oom-score-adj", "no"), b"+OK\r\n")
        self.assertEqual(self.score(srv), base)
        self.assertEqual(
            c.call("CONFIG", "SET", "oom-score-adj-values", "1 2"),
            b"-ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - "
            b"wrong number of arguments\r\n")


class TransparentHugePages(ServerTestCase):
    def test_disable_thp_applies_when_the_kernel_has_them_always_on(self):
        always = "[always]" in read("/sys/kernel/mm/transparent_hugepage/enabled")
        for setting, disabled in (("yes", always), ("no", False)):
            with self.subTest(disable_thp=setting):
                srv = self.start_keyward(["--disable-thp", setting])
                status = read("/proc/%d/status" % srv.proc.pid)
                self.assertIn("THP_enabled:\t%d" % (0 if disabled else 1), status)
                srv.stop()


class CrashReport(ServerTestCase):
    def crash(self, args):
        d = make_workdir()
        log = os.path.join(d, "log")
        srv = self.start_keyward(["--enable-debug-command", "yes", "--logfile", log] + args)
        c = srv.client()
        # A sanitizer build reports the fault itself after Keyward's report: expected here.
        srv.expect_sanitizer_report = True
        c.send(b"*2\r\n$5\r\nDEBUG\r\n$8\r\nSEGFAULT\r\n")
        code = srv.wait_exit()
        self.assertNotEqual(code, 0)
        return read(log)

    def test_a_crash_is_reported_in_the_log(self):
        text = self.crash([])
        self.assertIn("=== KEYWARD BUG REPORT START", text)
        self.assertIn("crashed by signal: %d" % signal.SIGSEGV, text)
        # Redis's log line, its date written by the handler itself (no strftime there).
        line = re.search(r"(\d+):M (\d\d \w{3} \d{4} \d\d:\d\d:\d\d)\.000 # Keyward .* crashed",
                         text)
        self.assertIsNotNone(line, text)
        stamp = time.mktime(time.strptime(line.group(2), "%d %b %Y %H:%M:%S"))
        self.assertLess(abs(stamp - time.time()), 3600, line.group(0))
        self.assertIn("------ STACK TRACE ------", text)
        self.assertIn("=== KEYWARD BUG REPORT END.", text)
        # crash-memcheck-enabled (default yes): the memory test ran, or says why it could not.
        self.assertRegex(text, r"Fast memory test (PASSED|skipped)")

    def test_no_memory_test_without_crash_memcheck(self):
        text = self.crash(["--crash-memcheck-enabled", "no"])
        self.assertIn("crashed by signal", text)
        self.assertNotIn("memory test", text.lower())

    def test_no_report_without_crash_log(self):
        text = self.crash(["--crash-log-enabled", "no"])
        self.assertNotIn("BUG REPORT", text)


class ProtectedConfigs(ServerTestCase):
    def test_dir_is_protected_unless_allowed(self):
        d = make_workdir()
        for setting, allowed in (("no", False), ("local", True), ("yes", True)):
            with self.subTest(enable_protected_configs=setting):
                srv = self.start_keyward(["--enable-protected-configs", setting])
                reply = srv.client().call("CONFIG", "SET", "dir", d)
                if allowed:
                    self.assertEqual(reply, b"+OK\r\n")
                else:
                    self.assertEqual(reply, b"-ERR CONFIG SET failed (possibly related to argument "
                                            b"'dir') - can't set protected config\r\n")
                srv.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
