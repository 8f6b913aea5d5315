"""Differential tests of DEBUG (debug_family.cc): Keyward vs redis-server 7.0.15.

  * PROTOCOL: every RESP type byte for byte in RESP2 and RESP3.
  * HELP: Keyward lists a subset of Redis's entries, each in Redis's words and order.
  * Argument counts and errors of every subcommand Keyward has, byte for byte.
  * CHANGE-REPL-ID: a new master_replid, the second ID cleared (INFO replication).
  * QUICKLIST-PACKED-THRESHOLD: the argument's parsing and limits, and lists built under small
    thresholds (plain nodes), compared through DUMP (the nodes and their containers) and DEBUG
    OBJECT (ql_nodes, ql_uncompressed_size, serializedlength), by hand and in a random sequence.
  * LISTPACK and QUICKLIST: their replies, and the structures printed on stdout (addresses
    masked), from a pair of servers of the test's own.
"""

import os
import random
import re
import sys
import unittest

from diff_support import DiffCase
from keyward_harness import decode, encode_command, start_keyward, start_redis, wait_for

_VALUE_AT = re.compile(rb"Value at:0x[0-9a-f]+ ")
_LRU = re.compile(rb"lru:\d+ lru_seconds_idle:\d+")


def debug_object(raw):
    """DEBUG OBJECT's line without the address and the LRU clock."""
    return _LRU.sub(b"lru:<n>", _VALUE_AT.sub(b"Value at:<addr> ", raw))


def help_entries(raw):
    """A HELP reply as [(entry line, [its indented lines])], the header left out."""
    lines = [line.decode() for line in decode(raw)[1:]]
    entries = []
    for line in lines:
        if line.startswith(" "):
            entries[-1][1].append(line)
        else:
            entries.append((line, []))
    return entries


class DebugCommands(DiffCase):
    SERVER_ARGS = ("--enable-debug-command", "yes")
    TYPES = ("string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
             "push", "verbatim", "true", "false", "STRING", "nosuch")
    # The subcommands Keyward has, as DEBUG HELP names them.
    KEYWARD_SUBCOMMANDS = ["CHANGE-REPL-ID", "LOADAOF", "OBJECT", "POPULATE", "PROTOCOL", "RELOAD", "SEGFAULT",
                           "SET-ACTIVE-EXPIRE", "QUICKLIST-PACKED-THRESHOLD", "SLEEP", "LISTPACK",
                           "QUICKLIST", "HELP"]

    def test_debug_protocol(self):
        # Every RESP type, in both protocols (attributes and pushes are RESP3's; each is
        # followed by a real reply, read here as the next one).
        for t in self.TYPES:
            self.check_raw(encode_command("DEBUG", "PROTOCOL", t), 1)
        r3, k3 = self.resp3_pair()
        for t in self.TYPES:
            replies = 2 if t == "push" else 1  # an attribute is read with its reply
            self.check_raw(encode_command("DEBUG", "PROTOCOL", t), replies, pair=(r3, k3))
        self.check("DEBUG", "PROTOCOL")

    def test_debug_subcommands_redis_lacks(self):
        # Debian's 7.0.15 has no STRINGMATCH-LEN (nor does Keyward).
        self.check("DEBUG", "STRINGMATCH-LEN")

    def test_debug_help(self):
        r, k = self.both("DEBUG", "HELP")
        self.assertEqual(decode(k)[0], decode(r)[0])  # the header line
        redis_entries, keyward_entries = help_entries(r), help_entries(k)
        # Each of Keyward's entries is Redis's, word for word, and they come in Redis's order.
        names = [e[0].split(" ")[0] for e in keyward_entries]
        self.assertEqual(names, self.KEYWARD_SUBCOMMANDS)
        it = iter(redis_entries)
        for entry in keyward_entries:
            self.assertIn(entry, it, "not Redis's entry, or out of Redis's order: %r" % (entry,))
        self.check("DEBUG", "HELP", "x")
        self.assertEqual(self.k.call("debug", "help"), k)

    def test_debug_argument_counts(self):
        for cmd in (("DEBUG",), ("DEBUG", "nosuch"), ("DEBUG", "object"),
                    ("DEBUG", "OBJECT", "k", "extra"), ("DEBUG", "sleep"),
                    ("DEBUG", "sleep", "0", "x"), ("DEBUG", "set-active-expire"),
                    ("DEBUG", "populate"), ("DEBUG", "populate", "1", "p", "1", "x"),
                    ("DEBUG", "change-repl-id", "x"), ("DEBUG", "listpack"),
                    ("DEBUG", "listpack", "k", "x"), ("DEBUG", "quicklist"),
                    ("DEBUG", "quicklist", "k", "1", "2"),
                    ("DEBUG", "quicklist-packed-threshold"),
                    ("DEBUG", "quicklist-packed-threshold", "1kb", "x"),
                    ("DEBUG", "protocol", "string", "x")):
            self.check(*cmd)

    def test_debug_object(self):
        self.check_seq("SET s 12345; SET t hello; RPUSH l a b c; HSET h f v; SADD st 1 2")
        for key in ("s", "t", "l", "h", "st", "nosuch"):
            self.check("DEBUG", "OBJECT", key, normalize=debug_object)

    def test_change_repl_id(self):
        def replication(client):
            text = decode(client.call("INFO", "replication")).decode()
            return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

        before = replication(self.k)
        self.check("DEBUG", "CHANGE-REPL-ID")
        self.check("debug", "change-repl-id")
        after = replication(self.k)
        self.assertRegex(after["master_replid"], r"^[0-9a-f]{40}$")
        self.assertNotEqual(after["master_replid"], before["master_replid"])
        self.assertEqual(after["master_replid2"], "0" * 40)
        self.assertEqual(after["second_repl_offset"], "-1")
        # Redis clears the second ID the same way.
        self.assertEqual(replication(self.r)["master_replid2"], "0" * 40)

    def test_listpack_and_quicklist_replies(self):
        self.check_seq("""RPUSH l a b 1 2; HSET h f 1 name hello; ZADD z 1 m 2 n; SET s x
                          SADD st 1 2 3""")
        for cmd in (("LISTPACK", "h"), ("LISTPACK", "z"), ("LISTPACK", "l"), ("LISTPACK", "s"),
                    ("LISTPACK", "st"), ("LISTPACK", "nosuch"), ("QUICKLIST", "l"),
                    ("QUICKLIST", "l", "0"), ("QUICKLIST", "l", "1"), ("QUICKLIST", "l", "x"),
                    ("QUICKLIST", "h"), ("QUICKLIST", "s"), ("QUICKLIST", "nosuch"),
                    ("QUICKLIST", "nosuch", "1"), ("listpack", "H")):
            self.check("DEBUG", *cmd)
        # A hash past its listpack limits is a hashtable.
        self.check("HSET", "big", "f", "x" * 100)
        self.check("DEBUG", "LISTPACK", "big")


class PackedThreshold(DiffCase):
    """Lists under small packed thresholds: elements at least that long get plain nodes."""

    SERVER_ARGS = ("--enable-debug-command", "yes")

    def setUp(self):
        super().setUp()
        self.addCleanup(self.reset_threshold)

    def reset_threshold(self):
        for srv in (self.redis_srv, self.keyward_srv):
            c = srv.client()
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
            c.call("CONFIG", "SET", "list-max-listpack-size", "-2")
            c.close()

    def compare_list(self, key):
        self.check("DUMP", key)
        self.check("DEBUG", "OBJECT", key, normalize=debug_object)
        self.check("LRANGE", key, "0", "-1")

    def test_threshold_argument(self):
        for arg in ("0", "1", "1b", "1K", "1k", "1kb", "1mb", "2gb", "4095mb", "4096mb",
                    "4294967295", "4293918720", "4293918721", "4gb", "-1", "1.5", "abc", "",
                    "99999999999999999999", "18446744073709551615", "1tb", "kb", "b", "GB",
                    "01", " 1"):
            self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", arg)
        self.check("debug", "quicklist-packed-threshold", "0")

    def test_pushes_make_plain_nodes(self):
        # "a" is packed; "ab" and longer (and "12", written as an integer) are plain at 2 bytes.
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "2b")
        self.check_seq("RPUSH l a ab abc 12 1 -5; LPUSH l xyz q; RPUSH l z")
        self.compare_list("l")
        for cmd in ("LINDEX l 2", "LINDEX l -3", "LPOS l abc", "LLEN l", "LRANGE l 1 3",
                    "LPOP l", "RPOP l 2", "LRANGE l 0 -1"):
            self.check(*cmd.split())
        self.compare_list("l")

    def test_insert_set_and_delete_around_plain_nodes(self):
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "10")
        big = "B" * 12
        self.check_seq("RPUSH l a b c d e f; RPUSH m 1 2 3")
        for cmd in (
                # A large element inside a packed node splits it; at an edge, it goes beside.
                ("LINSERT", "l", "AFTER", "c", big), ("LINSERT", "l", "BEFORE", "a", big + "1"),
                ("LINSERT", "l", "AFTER", "f", big + "2"), ("LINSERT", "l", "BEFORE", "e", big + "3"),
                # Small elements next to plain nodes.
                ("LINSERT", "l", "AFTER", big, "x"), ("LINSERT", "l", "BEFORE", big + "1", "y"),
                ("LINSERT", "l", "BEFORE", big, "w"),
                # LSET: small into small, large into packed (middle and edge), small into plain,
                # large into plain.
                ("LSET", "l", "1", "s"), ("LSET", "l", "3", big + "4"), ("LSET", "l", "-1", big + "5"),
                ("LSET", "l", "0", "small"), ("LSET", "l", "4", big + "6"),
                ("LSET", "m", "1", big), ("LSET", "m", "0", big + "7"), ("LSET", "m", "2", big + "8"),
                ("LSET", "m", "1", "tiny")):
            self.check(*cmd)
            self.compare_list(cmd[1])
        for cmd in (("LREM", "l", "0", big), ("LREM", "l", "1", "x"), ("LTRIM", "l", "1", "-2"),
                    ("RPOPLPUSH", "l", "m"), ("LMOVE", "m", "l", "LEFT", "LEFT"),
                    ("LMOVE", "m", "n", "RIGHT", "LEFT")):
            self.check(*cmd)
            for key in ("l", "m", "n"):
                self.compare_list(key)

    def test_threshold_applies_to_existing_lists_and_sort_store(self):
        self.check_seq("RPUSH l aaaa bbbb; RPUSH n 10 2 333")
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "3")
        self.check_seq("RPUSH l cccc; LPUSH l dd")
        self.compare_list("l")
        self.check("SORT", "n", "STORE", "sorted")
        self.compare_list("sorted")
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
        self.check_seq("RPUSH l eeee")
        self.compare_list("l")

    def test_restore_keeps_plain_nodes(self):
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "3")
        self.check_seq("RPUSH l a bbb c dddd 12345 e")
        payload = decode(self.r.call("DUMP", "l"))
        # Under the default threshold again, a payload's plain nodes stay plain.
        self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
        self.check("RESTORE", "copy", "0", payload)
        self.compare_list("copy")
        self.check("RPUSH", "copy", "ffff")
        self.compare_list("copy")

    def test_random_sequence(self):
        seed = int(os.environ.get("KEYWARD_DIFF_SEED") or random.randrange(1 << 30))
        rng = random.Random(seed)
        print("\nPackedThreshold.test_random_sequence seed %d" % seed, file=sys.stderr)
        for threshold, fill in (("4", "-2"), ("1", "3"), ("20", "-1"), ("7", "1")):
            self.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", threshold)
            self.check("CONFIG", "SET", "list-max-listpack-size", fill)
            self.check("DEL", "l")

            def value():
                return rng.choice(["v", "12", "-3", "xyz", "12345", "a" * rng.randrange(1, 40)])

            for step in range(250):
                op = rng.randrange(9)
                index = str(rng.randrange(-8, 8))
                cmd = [("RPUSH", "l", value(), value()), ("LPUSH", "l", value()),
                       ("LINSERT", "l", rng.choice(["BEFORE", "AFTER"]),
                        rng.choice(["v", "12", "xyz", "12345"]), value()),
                       ("LSET", "l", index, value()), ("LREM", "l", str(rng.randrange(-2, 3)), value()),
                       ("LTRIM", "l", str(rng.randrange(0, 3)), str(rng.randrange(-3, 40))),
                       ("LPOP", "l"), ("RPOP", "l", "2"), ("LINDEX", "l", index)][op]
                self.check(*cmd)
                if step % 25 == 0:
                    self.compare_list("l")
            self.compare_list("l")


_ADDR = re.compile(r"addr: 0x[0-9a-f]+")
# A Redis log line. Redis's stdout buffer goes out in blocks, so one may land inside a printed
# line (a signal handler's line is written at once).
_REDIS_LOG = re.compile(r"\d+:(?:[XCSM] \d\d \w{3} \d{4} [\d:.]+ [.*#-] |signal-handler \(\d+\) )"
                        r"[^\n]*\n")


def printed_structures(output):
    """The lines DEBUG LISTPACK / QUICKLIST print (they start with '{', '}' or a tab), addresses
    masked; log lines and blank lines left out."""
    output = _REDIS_LOG.sub("", output)
    lines = [line for line in output.splitlines() if line[:1] in ("{", "}", "\t")]
    return [_ADDR.sub("addr: <addr>", line) for line in lines]


class PrintedStructures(unittest.TestCase):
    """What DEBUG LISTPACK and DEBUG QUICKLIST print on stdout. Redis's stdout is a file here,
    written out when Redis exits, so each server of this test is its own and is stopped
    before the outputs are compared."""

    def test_printed_structures(self):
        args = ("--enable-debug-command", "yes")
        redis, keyward = start_redis(args), start_keyward(args)
        self.addCleanup(redis.stop)
        self.addCleanup(keyward.stop)
        script = [("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "4"),
                  ("RPUSH", "l", "a", "12345", "xyz", "1", "-5", "b" * 60, "-70000", "9" * 18),
                  ("CONFIG", "SET", "list-max-listpack-size", "2"),
                  ("RPUSH", "m", "1", "2", "3", "4", "5"),
                  ("HSET", "h", "f", "1", "name", "hello", "long", "z" * 50),
                  ("ZADD", "z", "1.5", "m", "-2", "n"),
                  ("DEBUG", "QUICKLIST", "l"), ("DEBUG", "QUICKLIST", "l", "1"),
                  ("DEBUG", "QUICKLIST", "m", "1"), ("DEBUG", "LISTPACK", "h"),
                  ("DEBUG", "LISTPACK", "z")]
        replies = []
        for srv in (redis, keyward):
            c = srv.client()
            replies.append([c.call(*cmd) for cmd in script])
            c.close()
        self.assertEqual(replies[1], replies[0])
        redis.stop()
        wait_for(lambda: printed_structures(keyward.output()), message="keyward's printout")
        expected = printed_structures(redis.output())
        actual = printed_structures(keyward.output())
        self.assertTrue(expected, "redis printed nothing")
        self.assertEqual(len(actual), len(expected), "\n".join(actual))
        for k, r in zip(actual, expected):
            if k.startswith("{ entry : ") and k.endswith(" }"):
                # Redis prints a plain node's element with "%s", but it is not NUL-terminated:
                # whatever follows it in memory is printed too.
                self.assertTrue(r.startswith(k[:-2]), "%r vs %r" % (k, r))
            else:
                self.assertEqual(k, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
