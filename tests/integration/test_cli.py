"""The `keyward` command line against real keyward-servers: `lock` runs its command with the
fencing token in the environment and passes its exit code through, refuses with its documented
code when the lock is held, waits when asked, and stops the command (SIGTERM, then SIGKILL after
the grace period) when the lease is lost; `elect` runs the command only while leader and hands
over to a waiting candidate; `observe` and `status` report what the servers hold."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from keyward_harness import Error, ServerTestCase, decode, wait_for

CLI = os.environ.get("KEYWARD_CLI") or os.path.join(
    os.path.dirname(os.environ.get("KEYWARD_SERVER", "/work/main/build-asan/bin/x")), "keyward")

def read(path):
    with open(path) as f:
        return f.read()


def state(pid):
    """The process's state letter (R, S, T, Z ...), or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def group_stopped(pgid):
    """Whether no process of group `pgid` can run: each is stopped (T) or a zombie (Z: e.g. a
    child the stopped shell has not reaped yet), or a shell waiting in vfork() for a child
    stopped before its exec (it cannot stop itself: it shows D)."""
    states, children = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = read("/proc/%s/stat" % entry).rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                states[int(entry)] = fields[0]
                children[int(entry)] = [int(c) for c in
                                        read("/proc/%s/task/%s/children" % (entry, entry)).split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return bool(states) and all(
        s in ("T", "Z") or (s == "D" and any(states.get(c) == "T" for c in children[pid]))
        for pid, s in states.items())


def gone(pid):
    """Whether process `pid` has exited (a zombie nobody reaped counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


EXIT_NOT_ACQUIRED = 75
EXIT_LEASE_LOST = 76


class CliTestCase(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)
        self.servers = "redis://127.0.0.1:%d" % self.srv.port
        self.tmp = tempfile.mkdtemp(prefix="keyward-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start(self, args, **kwargs):
        proc = subprocess.Popen([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                **kwargs)
        self.addCleanup(self._reap, proc)
        return proc

    @staticmethod
    def _reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def run_cli(self, args, timeout=60):
        return subprocess.run([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)

    def marker(self, name):
        return os.path.join(self.tmp, name)


class LockCommand(CliTestCase):
    def test_runs_the_command_with_the_token_and_passes_its_exit_code(self):
        out = self.marker("env")
        script = 'echo "$KEYWARD_FENCING_TOKEN $KEYWARD_LOCK_RESOURCE" > %s; exit 7' % out
        result = self.run_cli(["lock", "job", "--servers", self.servers, "--", "sh", "-c", script])
        self.assertEqual(result.returncode, 7, result.stderr)
        token, resource = read(out).split()
        self.assertEqual(resource, "job")
        info = dict(zip(*[iter(decode(self.admin.call("LOCK.INFO", "job")))] * 2))
        self.assertEqual(int(token), info[b"token"])
        # Released after the command: free again.
        self.assertIsNone(info[b"owner"])

    def test_tokens_increase_across_runs(self):
        tokens = []
        for _ in range(3):
            r = self.run_cli(["lock", "job", "--servers", self.servers, "--",
                              "sh", "-c", 'echo $KEYWARD_FENCING_TOKEN'])
            self.assertEqual(r.returncode, 0, r.stderr)
            tokens.append(int(r.stdout))
        self.assertEqual(tokens, sorted(set(tokens)))

    def test_held_lock_is_refused_with_its_code(self):
        self.admin.call("SET", "job", "someone-else", "PX", "60000")
        r = self.run_cli(["lock", "job", "--servers", self.servers, "--", "true"])
        self.assertEqual(r.returncode, EXIT_NOT_ACQUIRED)
        self.assertIn(b"held by another owner", r.stderr)

    def test_wait_is_woken_by_the_release(self):
        self.admin.call("SET", "job", "someone-else", "PX", "60000")
        proc = self.start(["lock", "job", "--wait", "0", "--servers", self.servers, "--",
                           "sh", "-c", "exit 3"])
        wait_for(lambda: dict(zip(*[iter(decode(self.admin.call("LOCK.INFO", "job")))] * 2))
                 [b"waiters"] == 1, message="CLI queued")
        self.admin.call("LOCK.RELEASE", "job", "someone-else")
        self.assertEqual(proc.wait(timeout=60), 3)

    def test_lease_loss_stops_the_command(self):
        ready = self.marker("ready")
        # The child ignores SIGTERM: it is killed after the grace period.
        script = "trap '' TERM; touch %s; while :; do sleep 1; done" % ready
        proc = self.start(["lock", "job", "--ttl", "900", "--grace", "200",
                           "--servers", self.servers, "--", "sh", "-c", script])
        wait_for(lambda: os.path.exists(ready), timeout=30, message="child started")
        # Someone breaks the lock and takes it: the next renewal learns it is lost.
        self.admin.call("DEL", "job")
        self.admin.call("SET", "job", "intruder", "PX", "60000")
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)
        self.assertIn(b"lost", proc.stderr.read())

    # The command's whole process tree stops: a background job of a shell included.
    TREE = "sleep 1000 & echo $! > %s; echo $$ > %s; touch %s; wait"

    def wait_gone(self, pids):
        for pid in pids:
            wait_for(lambda: gone(pid), timeout=30, message="process %d stopped" % pid)

    def start_tree(self, extra=(), ignore_term=False):
        bg, sh, ready = self.marker("bg"), self.marker("sh"), self.marker("ready")
        # Ignoring SIGTERM (inherited by the background job): only SIGKILL ends the tree.
        script = ("trap '' TERM; " if ignore_term else "") + self.TREE % (bg, sh, ready)
        proc = self.start(["lock", "job", *extra, "--servers", self.servers, "--",
                           "sh", "-c", script])
        wait_for(lambda: os.path.exists(ready), timeout=30, message="child started")
        pids = (int(read(bg)), int(read(sh)))
        self.addCleanup(lambda: [os.kill(p, signal.SIGKILL) for p in pids if not gone(p)])
        return proc, pids

    def test_lease_loss_stops_the_whole_process_tree(self):
        proc, pids = self.start_tree(["--ttl", "900", "--grace", "200"])
        self.admin.call("DEL", "job")
        self.admin.call("SET", "job", "intruder", "PX", "60000")
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)
        self.wait_gone(pids)

    def test_killing_keyward_kills_the_command(self):
        # Without keyward nobody renews the lease: the command must not run on without it.
        proc, pids = self.start_tree()
        proc.kill()
        proc.wait(timeout=60)
        self.wait_gone(pids)

    def test_the_command_stops_before_an_unrenewed_lease_ends(self):
        # The server stops answering: no renewal. SIGTERM goes out a grace period before the
        # validity ends (not at the loss, when another client may already take the lock); the
        # tree ignores it, so SIGKILL must follow by the validity's end, the loss of the lease
        # (noticed meanwhile) notwithstanding.
        proc, pids = self.start_tree(["--ttl", "1500", "--grace", "300"], ignore_term=True)
        self.srv.signal(signal.SIGSTOP)
        self.addCleanup(self.srv.signal, signal.SIGCONT)
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)
        self.srv.signal(signal.SIGCONT)
        self.wait_gone(pids)
        err = proc.stderr.read()  # (only now: a survivor would hold the pipe open)
        self.assertIn(b"was not renewed with", err)
        left = int(err.split(b"was not renewed with ")[1].split()[0])
        self.assertGreater(left, 0, err)

    def test_a_stopped_keyward_cannot_let_the_command_outlive_the_lease(self):
        # keyward itself is stopped (SIGSTOP: a debugger, a cgroup freeze of its own, a starved
        # process): nobody renews and nobody stops the command from keyward. Its watchdog holds
        # the validity's end and kills the tree there, keyward still stopped.
        proc, pids = self.start_tree(["--ttl", "1500", "--grace", "300"], ignore_term=True)
        os.kill(proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGCONT))
        self.wait_gone(pids)
        self.assertEqual(state(proc.pid), "T", "keyward was continued")
        os.kill(proc.pid, signal.SIGCONT)
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)

    def test_a_renewed_lease_is_not_cut_short_by_the_watchdog_without_grace(self):
        # --grace 0: no early stop, so keyward looks for renewals shortly before the deadline
        # its watchdog holds, and moves it; the command runs its course over several TTLs.
        r = self.run_cli(["lock", "job", "--ttl", "600", "--grace", "0", "--servers",
                          self.servers, "--", "sh", "-c", "sleep 3; exit 7"])
        self.assertEqual(r.returncode, 7, r.stderr)

    def test_source_addr_binds_the_connections(self):
        # As Redis's bind-source-addr: the server sees the connections come from that address.
        srv = self.start_keyward(["--protected-mode", "no"])
        admin = self.raw_client(srv)
        ready = self.marker("ready")
        proc = self.start(["lock", "job", "--source-addr", "127.0.0.7", "--servers",
                           "redis://127.0.0.1:%d" % srv.port, "--", "sh", "-c",
                           "touch %s; sleep 1000" % ready])
        wait_for(lambda: os.path.exists(ready), timeout=30, message="child started")
        clients = admin.call("CLIENT", "LIST").decode()
        addrs = [f.split("=", 1)[1] for line in clients.splitlines() for f in line.split()
                 if f.startswith("addr=")]
        self.assertTrue(any(a.startswith("127.0.0.7:") for a in addrs), clients)
        proc.terminate()
        proc.wait(timeout=60)

    def test_a_loss_after_the_early_stop_still_ends_in_sigkill(self):
        # Renewals are held up (CLIENT PAUSE WRITE) until the early stop; then someone else takes
        # the lock, so the lease is lost while the tree, ignoring SIGTERM, still runs: SIGKILL
        # must still come at the validity's end.
        proc, pids = self.start_tree(["--ttl", "3000", "--grace", "1400"], ignore_term=True)
        self.admin.call("CLIENT", "PAUSE", "100000", "WRITE")
        self.addCleanup(lambda: self.raw_client(self.srv).call("CLIENT", "UNPAUSE"))
        self.assertIn(b"was not renewed with", proc.stderr.readline())
        self.admin.call("CLIENT", "UNPAUSE")
        self.admin.call("SET", "job", "someone-else", "PX", "60000")
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)
        self.wait_gone(pids)

    def test_ctrl_z_stops_the_command_and_a_lease_gone_meanwhile_is_never_continued(self):
        log, ready = self.marker("log"), self.marker("ready")
        # The log exists before `ready` does: a stop between the two would otherwise leave
        # nothing to count.
        script = ("touch %s %s; while :; do echo tick >> %s; sleep 0.02; done"
                  % (log, ready, log))
        # (A lease long enough that renewals keep it under a loaded machine until the stop: a
        # lease lost before it would stop the command another way.)
        proc = self.start(["lock", "job", "--ttl", "3000", "--grace", "200",
                           "--servers", self.servers, "--", "sh", "-c", script])
        wait_for(lambda: os.path.exists(ready), timeout=30, message="child started")
        proc.send_signal(signal.SIGTSTP)
        wait_for(lambda: state(proc.pid) == "T", timeout=30, message="keyward stopped")
        children = [int(p) for p in read("/proc/%d/task/%d/children" % (proc.pid, proc.pid))
                    .split()]
        # keyward's children: the command's shell, and the watchdog (keyward's own image).
        command = [p for p in children if read("/proc/%d/comm" % p).strip() == "sh"]
        self.assertEqual(len(command), 1, children)
        wait_for(lambda: group_stopped(command[0]), timeout=30, message="command stopped")
        ticks = read(log).count("tick")
        # Nobody renews the lease: it expires on the server, and someone else takes the lock.
        self.assertEqual(decode(self.admin.call("LOCK.WAIT", "job", "0")), 1)
        self.admin.call("SET", "job", "someone-else", "PX", "60000")
        proc.send_signal(signal.SIGCONT)
        self.assertEqual(proc.wait(timeout=60), EXIT_LEASE_LOST)
        self.wait_gone(command)
        self.assertEqual(read(log).count("tick"), ticks, "the command ran again without the lock")

    def test_signals_reach_the_command(self):
        ready = self.marker("ready")
        proc = self.start(["lock", "job", "--servers", self.servers, "--", "sh", "-c",
                           "trap 'exit 42' INT; touch %s; while :; do sleep 1; done" % ready])
        wait_for(lambda: os.path.exists(ready), timeout=30, message="child started")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=60), 42)
        self.assertEqual(decode(self.admin.call("EXISTS", "job")), 0)

    def test_missing_command(self):
        r = self.run_cli(["lock", "job", "--servers", self.servers, "--", "/no/such/binary"])
        self.assertEqual(r.returncode, 127)
        self.assertEqual(decode(self.admin.call("EXISTS", "job")), 0)

    def test_usage_errors(self):
        r = self.run_cli(["lock", "--servers", self.servers])
        self.assertEqual(r.returncode, 64)
        r = self.run_cli(["--help"])
        self.assertEqual(r.returncode, 0)
        for sub in (b"lock", b"elect", b"observe", b"status"):
            self.assertIn(sub, r.stdout)


class ElectAndObserve(CliTestCase):
    def test_only_the_leader_runs_and_a_waiting_candidate_takes_over(self):
        first_ready, first_stop = self.marker("a-ready"), self.marker("a-stop")
        a = self.start(["elect", "sched", "--value", "node-a", "--servers", self.servers, "--",
                        "sh", "-c", 'echo $KEYWARD_TERM > %s; while [ ! -e %s ]; do sleep 0.05;'
                        ' done' % (first_ready, first_stop)])
        wait_for(lambda: os.path.exists(first_ready) and read(first_ready).strip(),
                 timeout=30, message="a leads")
        observed = self.run_cli(["observe", "sched", "--once", "--servers", self.servers])
        self.assertEqual(observed.returncode, 0, observed.stderr)
        self.assertIn(b"value=node-a", observed.stdout)
        second = self.marker("b-term")
        b = self.start(["elect", "sched", "--value", "node-b", "--servers", self.servers, "--",
                        "sh", "-c", "echo $KEYWARD_TERM > %s" % second])
        wait_for(lambda: dict(zip(*[iter(decode(self.admin.call("LOCK.INFO", "sched")))] * 2))
                 [b"waiters"] >= 1 or os.path.exists(second), message="b campaigns")
        self.assertFalse(os.path.exists(second))  # not while a leads
        open(first_stop, "w").close()
        self.assertEqual(a.wait(timeout=60), 0)
        self.assertEqual(b.wait(timeout=60), 0)
        self.assertGreater(int(read(second)), int(read(first_ready)))

    def test_status(self):
        self.admin.call("LOCK.ACQUIRE", "job", "me", 60000, "FENCE")
        r = self.run_cli(["status", "job", "--servers", self.servers])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"me", r.stdout)
        self.assertIn(b"held on 1 of 1 servers", r.stdout)
        self.assertNotIn(b"counts no token", r.stdout)

    def test_status_names_a_server_that_has_not_caught_up(self):
        # Started without counters, guarding its restarts: it counts no token until caught up.
        guarded = self.start_keyward(["--lock-restart-delay", "100"])
        url = "redis://127.0.0.1:%d" % guarded.port
        r = self.run_cli(["status", "job", "--servers", "%s,%s" % (self.servers, url)])
        self.assertIn(url.encode() + b" started without its fencing counters", r.stdout)
        self.assertNotIn(self.servers.encode() + b" started without", r.stdout)
        admin = self.raw_client(guarded)
        wait_for(lambda: not isinstance(decode(admin.call("LOCK.CATCHUP")), Error),
                 message="restart delay over")
        state = decode(admin.call("LOCK.CATCHUP"))
        self.assertEqual(state[0], 0)
        self.assertEqual(decode(admin.call("LOCK.CATCHUP", state[1], state[3])), 1)
        r = self.run_cli(["status", "job", "--servers", "%s,%s" % (self.servers, url)])
        self.assertNotIn(b"counts no token", r.stdout)


if __name__ == "__main__":
    unittest.main()
