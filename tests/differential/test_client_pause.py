"""CLIENT PAUSE WRITE holds exactly the commands Redis 7.0 holds: writes, and the commands that
may cause a write to be propagated (EVAL, EVALSHA, FCALL, PUBLISH, SPUBLISH: Redis's may_replicate
flag, which COMMAND INFO does not show). Every command Keyward has is sent, with the right number
of placeholder arguments, by a client while another holds a CLIENT PAUSE WRITE; whether it was
held is read from CLIENT LIST (a held client shows the 'b' flag once its command is its current
one), on both servers.
"""

import unittest

from diff_support import DiffCase
from keyward_harness import decode, encode_command

# Commands that end or take over the connection, pause or unpause themselves, or sleep: sending
# them says nothing about the pause. LOCK.* are Keyward's own (Redis has no oracle for them).
SKIP = {"shutdown", "debug", "monitor", "subscribe", "psubscribe", "ssubscribe", "quit", "reset",
        "client|kill", "client|pause", "client|unpause", "client|reply", "hello", "auth"}


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class ClientPauseWrite(DiffCase):
    def commands(self):
        names = sorted(text(n) for n in decode(self.k.call("COMMAND", "LIST")))
        containers = {n.split("|")[0] for n in names if "|" in n}
        return [n for n in names
                if n not in SKIP and n not in containers and not n.startswith("lock.")]

    def held(self, server, name, args=None):
        """Whether `name` (with placeholder arguments, or `args`), sent while CLIENT PAUSE WRITE
        is on, was held on `server`."""
        pauser, sender = server.client(), server.client()
        try:
            if args is None:
                info = decode(pauser.call("COMMAND", "INFO", name))[0]
                argc = abs(info[1])
                words = name.split("|")
                args = words + ["x"] * max(0, argc - len(words))
            sender_id = decode(sender.call("CLIENT", "ID"))
            self.assertEqual(decode(pauser.call("CLIENT", "PAUSE", "100000", "WRITE")), b"OK")
            sender.send(encode_command(*args))
            # The command was read once CLIENT LIST names it as the sender's current command;
            # whether it then ran or waits shows in the flags. Each CLIENT LIST is served after
            # the sender's command in the server's single event loop, so no timing is involved.
            while True:
                line = text(decode(pauser.call("CLIENT", "LIST", "ID", str(sender_id))))
                fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
                if fields.get("cmd") == name:
                    return "b" in fields.get("flags", "")
        finally:
            pauser.call("CLIENT", "UNPAUSE")
            pauser.close()
            sender.close()

    def test_pause_write_holds_what_redis_holds(self):
        for name in self.commands():
            with self.subTest(command=name):
                self.assertEqual(self.held(self.keyward_srv, name),
                                 self.held(self.redis_srv, name), name)

    def test_an_expired_key_is_hidden_but_not_deleted_while_writes_are_paused(self):
        # Redis 7.0's expireIfNeeded: a deletion is a write, so during CLIENT PAUSE WRITE an
        # expired key reads as missing but stays (DBSIZE counts it, no DEL is propagated); the
        # first access after the pause deletes it.
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        self.addCleanup(self.both, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.check("FLUSHALL")
        self.check("SET", "k", "v", "PX", "1")
        self.check("CLIENT", "PAUSE", "100000", "WRITE")
        self.addCleanup(self.both, "CLIENT", "UNPAUSE")
        for c in (self.r, self.k):
            while c.call("PTTL", "k") != b":-2\r\n":
                pass  # one millisecond, however long that takes to pass on the server's clock
        self.check("GET", "k")
        self.check("EXISTS", "k")
        self.check("DBSIZE")
        self.check("CLIENT", "UNPAUSE")
        self.check("DBSIZE")
        self.check("GET", "k")
        self.check("DBSIZE")

    def test_scripts_are_held_by_the_flags_they_declare(self):
        library = ("#!lua name=pauselib\n"
                   "redis.register_function{function_name='ro', callback=function() return 1 end,"
                   " flags={'no-writes'}}\n"
                   "redis.register_function('rw', function() return 1 end)")
        for server in (self.redis_srv, self.keyward_srv):
            c = server.client()
            c.call("FUNCTION", "LOAD", "REPLACE", library)
            c.close()
        lines = [("eval", ["EVAL", "return 1", "0"]),
                 ("eval", ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
                 ("eval", ["EVAL", "#!lua\nreturn 1", "0"]),
                 ("eval", ["EVAL", "#!lua flags=allow-oom\nreturn 1", "0"]),
                 ("eval_ro", ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"]),
                 ("eval_ro", ["EVAL_RO", "#!lua\nreturn 1", "0"]),
                 ("fcall", ["FCALL", "ro", "0"]),
                 ("fcall", ["FCALL", "rw", "0"]),
                 ("fcall_ro", ["FCALL_RO", "ro", "0"]),
                 ("fcall", ["FCALL", "nosuchfunction", "0"])]
        for name, args in lines:
            with self.subTest(command=args):
                self.assertEqual(self.held(self.keyward_srv, name, args),
                                 self.held(self.redis_srv, name, args))

    def test_may_replicate_commands_are_held(self):
        # The ones a name check used to stand in for, among them.
        for name in ("eval", "evalsha", "fcall", "publish", "spublish"):
            with self.subTest(command=name):
                self.assertTrue(self.held(self.keyward_srv, name))
        for name in ("eval_ro", "evalsha_ro", "fcall_ro", "get"):
            with self.subTest(command=name):
                self.assertFalse(self.held(self.keyward_srv, name))


if __name__ == "__main__":
    unittest.main()
