"""Scripts that run past busy-reply-threshold, against the real binary: other clients get -BUSY,
SCRIPT KILL / FUNCTION KILL stop a script that has not written, UNKILLABLE otherwise, SHUTDOWN
NOSAVE is the way out, and the busy script's own client gets the kill error. Every wait polls a
condition (wait_for)."""

import unittest

from keyward_harness import encode_command, start_keyward, wait_for

BUSY_EVAL = (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
             b"SHUTDOWN NOSAVE.\r\n")
BUSY_FUNCTION = (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 b"SHUTDOWN NOSAVE.\r\n")


class BusyScriptTest(unittest.TestCase):
    def setUp(self):
        # A short threshold: the scripts below loop until killed, so this is no timing bet.
        self.srv = start_keyward(["--busy-reply-threshold", "50"])
        self.addCleanup(self.srv.stop)

    def start_script(self, *command):
        runner = self.srv.client(timeout=60)
        self.addCleanup(runner.close)
        runner.send(encode_command(*command))
        return runner

    def wait_busy(self, expected):
        probe = self.srv.client()
        self.addCleanup(probe.close)
        wait_for(lambda: probe.call("PING") == expected, timeout=30, message="the BUSY reply")
        return probe

    def test_script_kill_stops_a_read_only_script(self):
        runner = self.start_script("EVAL", "while true do end", "0")
        other = self.wait_busy(BUSY_EVAL)
        # Commands that may run during a busy script still run.
        self.assertEqual(other.call("FUNCTION", "KILL"),
                         b"-NOTBUSY No scripts in execution right now.\r\n")
        self.assertEqual(other.call("SCRIPT", "KILL"), b"+OK\r\n")
        reply = runner.read_reply()
        self.assertTrue(reply.startswith(b"-ERR Script killed by user with SCRIPT KILL..."), reply)
        self.assertEqual(other.call("PING"), b"+PONG\r\n")
        self.assertEqual(runner.call("PING"), b"+PONG\r\n")

    def test_a_script_that_wrote_cannot_be_killed(self):
        self.start_script("EVAL", "redis.call('set', 'x', '1') while true do end", "0")
        other = self.wait_busy(BUSY_EVAL)
        self.assertTrue(other.call("SCRIPT", "KILL").startswith(b"-UNKILLABLE Sorry the script "
                                                                b"already executed write"))
        # SHUTDOWN NOSAVE is the way out.
        other.send(encode_command("SHUTDOWN", "NOSAVE"))
        self.assertEqual(self.srv.wait_exit(), 0)

    def test_function_kill(self):
        loader = self.srv.client()
        self.addCleanup(loader.close)
        self.assertEqual(loader.call("FUNCTION", "LOAD",
                                     "#!lua name=spin\nredis.register_function('spin', "
                                     "function() while true do end end)"),
                         b"$4\r\nspin\r\n")
        runner = self.start_script("FCALL", "spin", "0")
        other = self.wait_busy(BUSY_FUNCTION)
        stats = other.call("FUNCTION", "STATS")
        self.assertIn(b"$4\r\nspin\r\n", stats)  # running_script names the function
        self.assertEqual(other.call("SCRIPT", "KILL"),
                         b"-NOTBUSY No scripts in execution right now.\r\n")
        self.assertEqual(other.call("FUNCTION", "KILL"), b"+OK\r\n")
        self.assertTrue(runner.read_reply().startswith(b"-ERR Script killed by user"))
        self.assertEqual(other.call("PING"), b"+PONG\r\n")

    def test_a_script_that_finishes_needs_no_kill(self):
        # Busy for a while (a loop of bounded length), then done: other clients are served again.
        runner = self.start_script("EVAL", "local n = 0 for i = 1, 3e8 do n = n + i end return 1", "0")
        self.assertEqual(runner.read_reply(), b":1\r\n")
        other = self.srv.client()
        self.addCleanup(other.close)
        self.assertEqual(other.call("PING"), b"+PONG\r\n")


if __name__ == "__main__":
    unittest.main()
