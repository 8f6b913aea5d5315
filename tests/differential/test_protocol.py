"""Differential tests of the wire protocol: inline commands, pipelining, requests split at every
byte, protocol errors (exact -ERR Protocol error text, then the connection is closed), and the
RESP3 encodings of the connection-independent replies."""

import random
import unittest

from diff_support import DiffCase, mask_hello_id
from keyward_harness import encode_command


class Inline(DiffCase):
    def test_inline_commands(self):
        lines = [
            b"PING", b"ping", b"SET k v", b"GET k", b"  GET   k  ", b"\tGET\tk", b"SET k2 \"a b\"",
            b"GET k2", b"SET k3 'single quoted'", b"GET k3", b'SET k4 "esc\\x41\\n\\r\\t\\b\\a\\\\\\""',
            b"GET k4", b"SET k5 'it\\'s'", b"GET k5", b'SET k6 ""', b"GET k6", b"STRLEN k6",
            b"ECHO \"\\xzz\"", b'ECHO "\\x4"', b'ECHO "a"', b"ECHO 'a'", b"MGET k k2 k3 nokey",
            b"NOSUCH inline command", b"GET", b"INCR n", b"INCRBY n 10",
            b"SET \"\" empty-key", b"GET \"\"", b"ECHO \"\\\\\"", b"HELLO 3", b"GET nokey",
            b"HELLO 2", b"ECHO \"multi word value\" ", b"ECHO \"\\u0041\"",
        ]
        for line in lines:
            self.check_raw(line + b"\r\n", 1, normalize=mask_hello_id)
        # A bare LF also ends an inline command.
        self.check_raw(b"SET lf value\nGET lf\n", 2)
        # Empty lines and blank lines are skipped without a reply.
        self.check_raw(b"\r\n\r\n   \r\n\nPING\r\n", 1)

    def test_inline_mixed_with_multibulk(self):
        data = (b"SET a 1\r\n" + encode_command("INCR", "a") + b"GET a\r\n" +
                encode_command("APPEND", "a", "x") + b"GET a\r\n")
        self.check_raw(data, 5)

    def test_inline_unbalanced_quotes(self):
        for line in (b'SET k "abc', b"SET k 'abc", b'SET k "a"b', b"SET k 'a'b", b'ECHO "\\"',
                     b'"', b'SET k """', b'SET k "a""b"'):
            self.check_closes(line + b"\r\n")

    def test_too_big_inline(self):
        self.check_closes(b"x" * 70000)
        self.check_closes(b"SET k " + b"v" * 70000)
        # A long inline request that does end within the limit is fine.
        self.check_raw(b"ECHO " + b"v" * 60000 + b"\r\n", 1)


class Pipelining(DiffCase):
    def test_pipeline_many_commands(self):
        cmds = []
        for i in range(200):
            cmds += [("SET", "k%d" % (i % 17), str(i)), ("INCR", "n"), ("GET", "k%d" % (i % 5)),
                     ("APPEND", "s", "x"), ("NOSUCH", "cmd"), ("GET",), ("STRLEN", "s")]
        data = b"".join(encode_command(*c) for c in cmds)
        self.check_raw(data, len(cmds))

    def test_request_split_at_every_byte(self):
        cmds = [("SET", "key", "value with spaces"), ("GET", "key"), ("MSET", "a", "1", "b", "2"),
                ("MGET", "a", "b", "missing"), ("INCRBY", "a", "41"), ("NOSUCH",)]
        data = b"".join(encode_command(*c) for c in cmds) + b"PING\r\nGET a\r\n"
        for client in (self.r, self.k):
            for i in range(len(data)):
                client.send(data[i:i + 1])
        expected = b"".join(self.r.read_replies(len(cmds) + 2))
        actual = b"".join(self.k.read_replies(len(cmds) + 2))
        self.assertEqual(actual, expected)

    def test_random_chunking(self):
        rng = random.Random(1234)
        cmds = [("SET", "k%d" % i, "v" * rng.randint(0, 3000)) for i in range(50)]
        cmds += [("GET", "k%d" % i) for i in range(50)]
        data = b"".join(encode_command(*c) for c in cmds)
        for client in (self.r, self.k):
            pos = 0
            while pos < len(data):
                n = rng.randint(1, 700)
                client.send(data[pos:pos + n])
                pos += n
        self.assertEqual(b"".join(self.k.read_replies(len(cmds))),
                         b"".join(self.r.read_replies(len(cmds))))

    def test_large_values(self):
        big = bytes(range(256)) * 4096  # 1 MiB
        self.check("SET", "big", big)
        self.check("STRLEN", "big")
        self.check("GET", "big")
        self.check("APPEND", "big", big)
        self.check("GETRANGE", "big", "1048570", "1048590")
        self.check("MGET", "big", "big")

    def test_error_does_not_break_pipeline(self):
        data = (encode_command("SET", "k", "v") + encode_command("INCR", "k") +
                encode_command("GET", "k") + b"NOSUCH\r\n" + encode_command("GET", "k"))
        self.check_raw(data, 5)


class ProtocolErrors(DiffCase):
    def test_multibulk_errors_close_connection(self):
        for data in (
                b"*abc\r\n", b"*1\r\nfoo\r\n", b"*1\r\n$abc\r\n", b"*1\r\n$-1\r\n",
                b"*1\r\n$600000000\r\n", b"*1\r\n$536870913\r\n", b"*+1\r\n$4\r\nPING\r\n",
                b"*1\r\n$+4\r\nPING\r\n", b"*1\r\n$ 4\r\nPING\r\n", b"*01\r\n$4\r\nPING\r\n",
                b"*1\r\n$04\r\nPING\r\n", b"*2147483648\r\n", b"*1\r\n$2147483648\r\n",
                b"*1.5\r\n", b"*1\r\n$1.5\r\n", b"*1\r\n:4\r\n", b"*2\r\n$3\r\nGET\r\n*1\r\n",
                b"*" + b"1" * 70000, b"*1\r\n$" + b"1" * 70000, b"*\r\n", b"*1\r\n$\r\n",
                b"*1\r\n$-2\r\n"):
            self.check_closes(data)

    def test_replies_before_error_are_sent(self):
        # Complete commands before the bad one are answered, then the error, then close.
        self.check_closes(encode_command("SET", "k", "v") + encode_command("GET", "k") +
                          b"*1\r\n$x\r\n" + encode_command("PING"))

    def test_ignored_requests(self):
        # Empty and null multibulks are skipped without a reply; the connection stays usable.
        for data in (b"*0\r\n", b"*-1\r\n", b"*0\r\n*0\r\n", b"*-1\r\n*-1\r\n"):
            self.check_raw(data + b"PING\r\n", 1)
        self.check_raw(b"*1\r\n$0\r\n\r\n", 1)
        self.check_raw(b"*2\r\n$0\r\n\r\n$0\r\n\r\n", 1)

    def test_bulk_not_followed_by_crlf(self):
        # Redis reads `len` bytes and skips the next two without checking them.
        self.check_raw(b"*1\r\n$4\r\nPINGxx\r\nPING\r\n", 2)
        self.check_raw(b"*2\r\n$4\r\nECHO\r\n$1\r\nab\r\nPING\r\n", 2)

    def test_partial_request_then_more(self):
        self.check_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n", 0)
        self.check_raw(b"$1\r\nv\r\n", 1)
        self.check("GET", "k")


class Resp3Encodings(DiffCase):
    def setUp(self):
        super().setUp()
        self.r.call("HELLO", "3")
        self.k.call("HELLO", "3")

    def test_basic_types(self):
        self.check_seq("""
            PING
            RANDOMKEY
            SET k v
            GET k
            GET missing
            INCR n
            MGET k missing n
            EXISTS k missing
            TYPE k
            TTL k
            KEYS k
            SCAN 0 MATCH nothing
            CONFIG GET timeout
            CONFIG GET nosuch
            NOSUCH
            GET
            OBJECT ENCODING missing
            CLIENT GETNAME
            COMMAND INFO nosuch
            """)
        self.check_unordered("CONFIG", "GET", "time*", "hz", pairs=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
