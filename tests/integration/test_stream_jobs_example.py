"""The stream job queue example (examples/stream_jobs/, built as example_stream_jobs) against real
servers: producers fill the stream, a worker is SIGKILLed in the middle of a job, another stalls
holding its account's lock, the live workers do the rest, the reaper reclaims the dead and the
stalled workers' jobs with XAUTOCLAIM, the stalled worker's late write is refused by the fence,
and the check finds every job done at least once, nothing pending, and no stale token accepted.

Events are ordered by what the processes print, never by sleeps: a worker started with
`--pause-job N --pause-at POINT` prints "paused in job ..." in the middle of its Nth job and waits
for a line on its stdin, so the test kills it there or lets it go on when it chooses.

The full run (stream, locks and ledgers on one keyward-server) needs Keyward's streams; the same
run with the stream on Redis and the locks on Keyward, and the queue alone on Redis (--no-lock),
need only what both servers already have.
"""

import os
import re
import signal
import subprocess
import threading
import unittest

from keyward_harness import ServerTestCase, decode, keyward_binary, wait_for

EXAMPLE = os.path.join(os.path.dirname(keyward_binary()), "example_stream_jobs")
# A stalled worker keeps its account's lock this long; the others wait for it once.
LOCK_TTL_MS = "2000"
# Generous bounds for a sanitizer build on a busy machine: failure guards, not ordering.
TIMEOUT = 120


class Worker:
    """A running `example_stream_jobs work`, its output collected line by line as it comes."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        return "\n".join(self.lines)

    def wait_line(self, pattern):
        """The match of the first line that matches `pattern`, once the worker printed it."""
        def find():
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError("worker exited (%s) without printing %r:\n%s"
                                     % (self.proc.returncode, pattern, self.output()))
            return None
        return wait_for(find, timeout=TIMEOUT, message=pattern)

    def go_on(self):
        """Lets a paused worker continue."""
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(TIMEOUT)

    def finish(self):
        """Waits for the worker to exit by itself; returns its output."""
        self.proc.wait(TIMEOUT)
        self.reader.join(TIMEOUT)
        self.proc.stdin.close()
        return self.output()

    def stop(self):
        if self.proc.poll() is None:
            self.kill()
        self.reader.join(TIMEOUT)
        for f in (self.proc.stdin, self.proc.stdout):
            if not f.closed:
                f.close()


class StreamJobsExample(ServerTestCase):
    def example(self, *args):
        """Runs one mode to completion; returns its output (asserting a zero exit code)."""
        r = subprocess.run([EXAMPLE] + list(args) + self.servers, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, "%s failed:\n%s" % (" ".join(args), r.stdout))
        return r.stdout

    def worker(self, name, *args):
        w = Worker([EXAMPLE, "work", "--name", name] + list(args) + self.servers)
        self.addCleanup(w.stop)
        return w

    def run_fenced_queue(self, store):
        """The whole scenario; `store` is the keyward-server holding the locks and ledgers."""
        # Two producers fill the stream while nobody works: 300 jobs over 4 accounts.
        producers = [subprocess.Popen([EXAMPLE, "produce", "--jobs", "150", "--name", name]
                                      + self.servers, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
                     for name in ("p1", "p2")]
        for p in producers:
            out, _ = p.communicate(timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, out)
            self.assertRegex(out, r"p\d: added 150 jobs")

        # w3 works alone and dies in its second job: written to the ledger, not acknowledged.
        w3 = self.worker("w3", "--pause-job", "2", "--pause-at", "written")
        dead_job = w3.wait_line(r"^w3: paused in job (\S+) .*: written, not acknowledged$").group(1)
        w3.kill()

        # w4 stalls in its first job holding the account's lock and token (a long GC pause).
        w4 = self.worker("w4", "--pause-job", "1", "--pause-at", "locked")
        m = w4.wait_line(r"^w4: paused in job (\S+) \(account (\d+)\): "
                         r"holding account:\d+ with token (\d+), not written$")
        stalled_job, stalled_account, stale_token = m.group(1), m.group(2), m.group(3)

        # Two live workers do every other job (the stalled lock's account once its lease ended),
        # then each reads a stop entry and exits.
        live = [self.worker(name) for name in ("w1", "w2")]
        self.example("stop", "--workers", "2")
        for w in live:
            out = w.finish()
            self.assertEqual(w.proc.returncode, 0, out)
            self.assertRegex(out, r"stopped: taken \d+, done \d+, refused 0, failed 0")

        # Pending now: the dead worker's job and the stalled worker's. The reaper claims both.
        out = self.example("reap", "--min-idle-ms", "0")
        self.assertIn("reaper: reclaimed job %s" % dead_job, out)
        self.assertIn("reaper: reclaimed job %s (account %s)" % (stalled_job, stalled_account), out)
        self.assertIn("reaper: reclaimed 2, done 2, gone from the stream 0", out)

        # The stalled worker wakes up believing it holds the lock: its write carries a token
        # older than the reaper's, and the ledger refuses it. It does not acknowledge the job.
        self.example("stop", "--workers", "1")
        w4.go_on()
        out = w4.finish()
        self.assertEqual(w4.proc.returncode, 0, out)
        self.assertRegex(out, r"w4: job %s not done: FENCED token %s is older than \d+ for "
                         r"'account:%s'" % (re.escape(stalled_job), stale_token, stalled_account))
        self.assertIn("w4: stopped: taken 1, done 0, refused 1, failed 0", out)

        out = self.example("check", "--jobs", "300")
        self.assertIn("jobs: 300 in the stream, 300 done, 0 missing, 1 done more than once (%s)"
                      % dead_job, out)
        self.assertIn("pending: 0", out)
        self.assertIn("ledgers: 301 writes on 4 accounts, 301 under a fencing token, 0 stale", out)
        self.assertIn("check: OK", out)

        # The dead worker's write stayed (at least once: the reaper wrote the job again); the
        # stalled worker's token is nowhere in the ledger.
        ledger = [e.decode() for e in decode(self.raw_client(store).call(
            "LRANGE", "ledger:" + stalled_account, 0, -1))]
        self.assertFalse([e for e in ledger if e.split()[1] == stale_token], ledger)
        self.assertTrue([e for e in ledger if e.startswith(stalled_job + " ")
                         and e.endswith(" reaper")], ledger)

    def test_fenced_queue_on_keyward(self):
        srv = self.start_keyward()
        if decode(self.raw_client(srv).call("COMMAND", "INFO", "XAUTOCLAIM")) == [None]:
            self.fail("keyward-server has no streams yet (COMMAND INFO XAUTOCLAIM is empty)")
        self.servers = ["--port", str(srv.port), "--lock-ttl-ms", LOCK_TTL_MS]
        self.run_fenced_queue(srv)

    def test_fenced_queue_with_the_stream_on_redis(self):
        # The queue on a Redis, the locks and ledgers on a keyward-server.
        redis = self.start_redis()
        srv = self.start_keyward()
        self.servers = ["--port", str(srv.port), "--queue", "redis://127.0.0.1:%d" % redis.port,
                        "--lock-ttl-ms", LOCK_TTL_MS]
        self.run_fenced_queue(srv)

    def test_queue_alone_on_redis(self):
        # No locks: jobs are done at least once all the same. A worker restarted under its name
        # resumes its own pending job; the reaper takes the job of a worker that never came back.
        redis = self.start_redis()
        self.servers = ["--port", str(redis.port), "--no-lock"]
        self.assertIn("producer: added 200 jobs", self.example("produce", "--jobs", "200"))

        wa = self.worker("wa", "--pause-job", "1", "--pause-at", "taken")
        abandoned = wa.wait_line(r"^wa: paused in job (\S+) .*: taken, not started$").group(1)
        wa.kill()
        wb = self.worker("wb", "--pause-job", "3", "--pause-at", "written")
        resumed = wb.wait_line(r"^wb: paused in job (\S+) .*: written, not acknowledged$").group(1)
        wb.kill()

        live = [self.worker("wb"), self.worker("w1")]
        self.example("stop", "--workers", "2")
        outputs = [w.finish() for w in live]
        for w, out in zip(live, outputs):
            self.assertEqual(w.proc.returncode, 0, out)
        self.assertIn("wb: resuming job %s, taken before a restart" % resumed, outputs[0])

        out = self.example("reap", "--min-idle-ms", "0")
        self.assertIn("reaper: reclaimed job %s" % abandoned, out)
        self.assertIn("reaper: reclaimed 1, done 1, gone from the stream 0", out)

        out = self.example("check", "--jobs", "200")
        self.assertIn("jobs: 200 in the stream, 200 done, 0 missing, 1 done more than once (%s)"
                      % resumed, out)
        self.assertIn("pending: 0", out)
        self.assertIn("ledgers: 201 writes on 4 accounts, 0 under a fencing token, 0 stale", out)
        self.assertIn("check: OK", out)


if __name__ == "__main__":
    unittest.main()
