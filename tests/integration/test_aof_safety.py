"""Keyward's AOF promises beyond Redis's: fencing tokens across lives without the AOF, nothing a
busy script published seen before its writes are on disk, a file with a stray MULTI does not stop
the AOF. Keyward only (Redis has no fencing tokens, and leaks a busy script's messages)."""

import socket
import unittest

from keyward_harness import Error, decode, encode_command, make_workdir, wait_for
from test_aof import AofTestCase, aof_path, kill9, read, write


def fence(c, resource):
    """A fenced acquisition and its release: the token."""
    granted, token, _ = decode(c.call("LOCK.ACQUIRE", resource, "owner", "60000", "FENCE"))
    assert granted in (1, 2), granted
    c.call("LOCK.RELEASE", resource, "owner")
    return token


class AofSafety(AofTestCase):
    server = "keyward"

    def test_a_life_without_the_aof_does_not_let_tokens_go_back(self):
        # Life 1 appends; life 2 runs with appendonly no on the same directory and issues tokens
        # the AOF never sees; life 3 loads the AOF again. Its tokens must stay above life 2's.
        wd = make_workdir()
        srv = self.start_aof(wd)
        first = fence(self.client(srv), "r")
        srv.stop()
        srv = self.start(wd, "--appendonly", "no")
        second = fence(self.client(srv), "r")
        self.assertGreater(second, first)
        srv.stop()
        self.assertIn(b"keyward-stale 1", read(aof_path(wd, "appendonly.aof.manifest")))
        srv = self.start_aof(wd)
        third = fence(self.client(srv), "r")
        self.assertGreater(third, second)

    def test_tokens_resume_exactly_when_the_aof_holds_every_counter(self):
        # No boot floor when every counter is in the AOF: the next token is the next integer.
        wd = make_workdir()
        srv = self.start_aof(wd)
        c = self.client(srv)
        first = fence(c, "r")
        self.assertEqual(fence(c, "r"), first + 1)
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(fence(self.client(srv), "r"), first + 2)

    def test_an_instance_not_caught_up_stays_so_across_restarts_until_it_is(self):
        # With lock-restart-delay, a new directory is a life that may follow lost ones: the
        # instance counts nothing until caught up (LOCK.CATCHUP), and its files must not make the
        # next start look complete either. Once caught up and rewritten, a restart is settled.
        wd = make_workdir()
        delay = ("--lock-restart-delay", "50")

        def settled_after_delay(srv):
            c = self.client(srv)
            wait_for(lambda: not isinstance(decode(c.call("LOCK.ACQUIRE", "probe", "p", "1")),
                                            Error), message="restart delay over")
            return decode(c.call("LOCK.CATCHUP"))

        srv = self.start_aof(wd, *delay)
        state = settled_after_delay(srv)
        self.assertEqual((state[0], state[4]), (0, 0))
        self.assertIn(b"keyward-stale 1", read(aof_path(wd, "appendonly.aof.manifest")))
        kill9(srv)
        srv = self.start_aof(wd, *delay)
        state = settled_after_delay(srv)
        self.assertEqual(state[0], 0, "a restart took this life's files for its whole history")
        c = self.client(srv)
        self.assertTrue(c.call("LOCK.FENCE", "r", "o", "1").startswith(b"-UNSETTLED"))
        raised = state[1] + 1000
        self.assertEqual(decode(c.call("LOCK.CATCHUP", raised, state[3])), 1)
        self.assertEqual(decode(c.call("BGREWRITEAOF")), b"Background append only file "
                         b"rewriting started")
        wait_for(lambda: b"keyward-stale" not in read(aof_path(wd, "appendonly.aof.manifest")),
                 message="a rewrite that clears the mark")
        kill9(srv)
        srv = self.start_aof(wd, *delay)
        state = settled_after_delay(srv)
        self.assertEqual((state[0], state[4]), (1, 1))
        self.assertGreaterEqual(state[1], raised)  # the catch-up was in the files
        self.assertEqual(fence(self.client(srv), "r"), raised + 1)

    def test_a_busy_scripts_message_is_not_seen_before_its_write_is_on_disk(self):
        # The script writes, publishes, then runs past busy-reply-threshold. The subscriber gets
        # the message; the server is killed at that moment; the write must have survived.
        wd = make_workdir()
        srv = self.start_aof(wd, "--busy-reply-threshold", "50")
        sub = socket.create_connection(("127.0.0.1", srv.port))
        self.addCleanup(sub.close)
        sub.sendall(encode_command("SUBSCRIBE", "ch"))
        wait_for(lambda: b"subscribe" in sub.recv(4096))
        c = self.client(srv)
        c.send(encode_command(
            "EVAL",
            "redis.call('SET', 'written', 'yes') redis.call('PUBLISH', 'ch', 'done') "
            "local t = tonumber(redis.call('TIME')[1]) "
            "while tonumber(redis.call('TIME')[1]) < t + 2 do end return 1", "0"))
        sub.settimeout(30)
        got = b""
        while b"done" not in got:
            chunk = sub.recv(4096)
            self.assertTrue(chunk, "the subscriber's connection closed")
            got += chunk
        kill9(srv)
        srv = self.start_aof(wd)
        self.assertEqual(decode(self.client(srv).call("GET", "written")), b"yes")

    def test_a_read_only_busy_script_after_a_write_lets_output_go(self):
        # A write and then, in the same turn, a script that only reads but runs past
        # busy-reply-threshold: the write's flush runs inside the script's unit, which will emit
        # nothing, so the output must be released there (else no client hears anything until
        # someone writes).
        wd = make_workdir()
        srv = self.start_aof(wd, "--busy-reply-threshold", "50")
        c = socket.create_connection(("127.0.0.1", srv.port))
        self.addCleanup(c.close)
        c.settimeout(30)  # only a server that holds the output forever reaches it
        c.sendall(encode_command("SET", "k", "v") + encode_command(
            "EVAL", "local t = tonumber(redis.call('TIME')[1]) "
            "while tonumber(redis.call('TIME')[1]) < t + 1 do end return 1", "0"))
        other = socket.create_connection(("127.0.0.1", srv.port))
        self.addCleanup(other.close)
        other.settimeout(30)
        other.sendall(encode_command("PING"))
        self.assertIn(other.recv(4096)[:5], (b"+PONG", b"-BUSY"))
        got = b""
        while not got.endswith(b":1\r\n"):
            chunk = c.recv(4096)
            self.assertTrue(chunk, "the connection closed")
            got += chunk
        self.assertEqual(got, b"+OK\r\n:1\r\n")

    def test_a_stray_multi_in_the_file_does_not_stop_the_aof(self):
        # A MULTI inside a transaction (and an EXEC outside one) are skipped on load, as Redis's
        # AOF client errors on them and goes on; the writes after the start still reach the file.
        wd = make_workdir()
        srv = self.start_aof(wd)
        self.client(srv).call("SET", "a", "1")
        srv.stop()
        incr = aof_path(wd, "appendonly.aof.1.incr.aof")
        write(incr, read(incr) + encode_command("MULTI") + encode_command("MULTI")
              + encode_command("SET", "b", "2") + encode_command("EXEC")
              + encode_command("EXEC"))
        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual(decode(c.call("GET", "b")), b"2")
        c.call("SET", "c", "3")
        kill9(srv)
        srv = self.start_aof(wd)
        c = self.client(srv)
        self.assertEqual([decode(c.call("GET", k)) for k in ("a", "b", "c")], [b"1", b"2", b"3"])


if __name__ == "__main__":
    unittest.main()
