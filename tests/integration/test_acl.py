"""ACL beyond single commands (tests/differential/test_acl.py has those): users from the config
file and from an ACL file, ACL LOAD and SAVE, CONFIG REWRITE of users, start-up errors, all
compared with redis-server 7.0.15; and Keyward's own: the @coordination category, LOCK.GUARD's
guarded write checked against the caller's permissions, a limited user's scripts, redis-py
connecting with a user name."""

import os
import re
import unittest

from keyward_harness import (REDIS_SERVER, ServerTestCase, decode, free_port, import_redis,
                             keyward_binary, make_workdir, startup_failure)

_RULE = re.compile(r"^[+-][^@]")


def sorted_rules(line):
    """A `user` line with each run of single-command rules sorted (Redis lists them in hash
    order); a selector's closing parenthesis stays at the end of its run."""
    out, run = [], []

    def flush():
        if run:
            closing = run[-1].endswith(")")
            items = sorted(t.rstrip(")") for t in run)
            if closing:
                items[-1] += ")"
            out.extend(items)
            run.clear()

    for t in line.split(" "):
        if _RULE.match(t):
            run.append(t)
            if t.endswith(")"):
                flush()
        else:
            flush()
            out.append(t)
    flush()
    return " ".join(out)


def acl_list(c):
    return [sorted_rules(line.decode()) for line in decode(c.call("ACL", "LIST"))]


USERS = [
    "user alice on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~app:* "
    "&events +@read +@write -flushdb",
    "user bob off resetchannels -@all +get",
    "user carol on nopass %R~* (~w:* +set) (&c -@all +publish)",
    "user default on nopass ~* &* +@all",
]


class AclFileTest(ServerTestCase):
    def start_pair(self, text):
        servers = []
        for start in (self.start_redis, self.start_keyward):
            d = make_workdir()
            path = os.path.join(d, "users.acl")
            with open(path, "w") as f:
                f.write(text)
            servers.append((start(["--aclfile", path]), path))
        return servers

    def test_users_load_from_the_file_and_save_back(self):
        (redis, rpath), (keyward, kpath) = self.start_pair("\n".join(USERS) + "\n")
        r, k = self.raw_client(redis), self.raw_client(keyward)
        self.assertEqual(acl_list(k), acl_list(r))
        self.assertEqual(k.call("AUTH", "alice", "password"), b"+OK\r\n")
        self.assertEqual(k.call("GET", "app:1"), b"$-1\r\n")
        self.assertTrue(k.call("GET", "other").startswith(b"-NOPERM"))
        # ACL SAVE writes what ACL LIST shows; ACL LOAD reads it back.
        for c in (r, k):
            c.call("AUTH", "default", "x")
            self.assertEqual(c.call("ACL", "SETUSER", "dave", "on", ">pw", "~d:*", "+get"),
                             b"+OK\r\n")
            self.assertEqual(c.call("ACL", "SAVE"), b"+OK\r\n")
        with open(kpath) as f:
            saved = [sorted_rules(line) for line in f.read().splitlines()]
        self.assertEqual(saved, acl_list(k))
        with open(rpath) as f:
            self.assertEqual(saved, [sorted_rules(line) for line in f.read().splitlines()])
        for c in (r, k):
            self.assertEqual(c.call("ACL", "DELUSER", "dave"), b":1\r\n")
            self.assertEqual(c.call("ACL", "LOAD"), b"+OK\r\n")
        self.assertEqual(acl_list(k), acl_list(r))
        self.assertIn("user dave on", " ".join(acl_list(k)))

    def test_load_errors_change_nothing(self):
        (redis, rpath), (keyward, kpath) = self.start_pair("\n".join(USERS) + "\n")
        r, k = self.raw_client(redis), self.raw_client(keyward)
        before = acl_list(k)
        alice_r, alice_k = self.raw_client(redis), self.raw_client(keyward)
        for c in (alice_r, alice_k):
            c.call("AUTH", "alice", "password")
        bad_files = [
            "user alice on +nosuch +get\nuser x on bogus badrule\n",
            "\nuser ok on\n  \nnotuser x\n",
            "user dup on\nuser dup off\n",
            "user a (~x +get\n",
            "user a on #abc\n",
            "user a on <nopass ~x\n",
            "user a on ~* ~x &* &y\n",
        ]
        for text in bad_files:
            replies = []
            for c, path in ((r, rpath), (k, kpath)):
                with open(path, "w") as f:
                    f.write(text)
                reply = c.call("ACL", "LOAD").replace(path.encode(), b"<file>")
                replies.append(reply)
            self.assertEqual(replies[1], replies[0], text)
        self.assertEqual(acl_list(k), before)
        # The users' clients were left alone.
        self.assertEqual(alice_k.call("GET", "app:1"), b"$-1\r\n")
        self.assertTrue(alice_k.call("GET", "other").startswith(b"-NOPERM"))
        # A missing file.
        for c, path in ((r, rpath), (k, kpath)):
            os.unlink(path)
        replies = [c.call("ACL", "LOAD").replace(p.encode(), b"<file>")
                   for c, p in ((r, rpath), (k, kpath))]
        self.assertEqual(replies[1], replies[0])

    def test_load_replaces_users_and_disconnects_their_clients(self):
        (redis, rpath), (keyward, kpath) = self.start_pair("\n".join(USERS) + "\n")
        k = self.raw_client(keyward)
        alice = self.raw_client(keyward)
        self.assertEqual(alice.call("AUTH", "alice", "password"), b"+OK\r\n")
        default = self.raw_client(keyward)
        with open(kpath, "w") as f:
            f.write("user alice on nopass ~* +@all\nuser default on >newpass ~* &* +@all\n")
        self.assertEqual(k.call("ACL", "LOAD"), b"+OK\r\n")
        alice.wait_closed(10)
        # The default user is updated in place: its connections stay, new ones must AUTH.
        self.assertEqual(default.call("PING"), b"+PONG\r\n")
        fresh = self.raw_client(keyward)
        self.assertTrue(fresh.call("PING").startswith(b"-NOAUTH"))
        self.assertEqual(fresh.call("AUTH", "newpass"), b"+OK\r\n")
        self.assertEqual(decode(fresh.call("ACL", "USERS")), [b"alice", b"default"])

    def test_save_without_a_file_and_a_file_that_cannot_be_written(self):
        keyward = self.start_keyward()
        k = self.raw_client(keyward)
        self.assertTrue(k.call("ACL", "SAVE").startswith(b"-ERR This Redis instance is not"))
        d = make_workdir()
        path = os.path.join(d, "users.acl")
        open(path, "w").close()
        keyward = self.start_keyward(["--aclfile", path])
        k = self.raw_client(keyward)
        # The file's directory replaced by a plain file: the temporary file cannot be created
        # (whoever runs the test, root included).
        os.unlink(path)
        os.rmdir(d)
        open(d, "w").close()
        self.addCleanup(os.unlink, d)
        self.assertEqual(k.call("ACL", "SAVE"),
                         b"-ERR There was an error trying to save the ACLs. Please check the "
                         b"server logs for more information\r\n")
        self.assertIn("Opening temp ACL file for ACL SAVE", keyward.output())


class ConfigUsersTest(ServerTestCase):
    def config(self, lines):
        d = make_workdir()
        path = os.path.join(d, "server.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def test_user_lines_in_the_config_file(self):
        lines = USERS[:3] + ["user default on >secret ~* &* +@all",
                             "user eve on >x \"(~a +get\" \"+set)\""]
        servers = []
        for start in (self.start_redis, self.start_keyward):
            servers.append(start(config_file=self.config(lines)))
        r, k = (self.raw_client(s) for s in servers)
        for c in (r, k):
            self.assertTrue(c.call("PING").startswith(b"-NOAUTH"))
            self.assertEqual(c.call("AUTH", "secret"), b"+OK\r\n")
        self.assertEqual(acl_list(k), acl_list(r))
        # CONFIG REWRITE writes the users (as ACL LIST has them), and a restart reads them.
        for c in (r, k):
            c.call("ACL", "SETUSER", "frank", "on", ">f", "~f:*", "+@hash")
            self.assertEqual(c.call("CONFIG", "REWRITE"), b"+OK\r\n")
        with open(servers[1].argv[1]) as f:
            written = [sorted_rules(l) for l in f.read().splitlines() if l.startswith("user ")]
        self.assertEqual(written, acl_list(k))
        restarted = self.start_keyward(config_file=servers[1].argv[1])
        c = self.raw_client(restarted)
        self.assertEqual(c.call("AUTH", "frank", "f"), b"+OK\r\n")
        self.assertEqual(c.call("HSET", "f:1", "a", "b"), b":1\r\n")

    def test_bad_user_lines_stop_the_start_as_redis_does(self):
        cases = [
            ["user alice on badrule"],
            ["user alice on +get badrule"],
            ["user alice on", "user alice off"],
            ["user alice on #abc"],
            ["user alice on +nosuch"],
            ["user alice on ~a b"],
            ["aclfile /nonexistent/users.acl", "user alice on"],
            ["aclfile /nonexistent/users.acl"],
        ]
        for lines in cases:
            results = []
            for binary in (REDIS_SERVER, keyward_binary()):
                d = make_workdir()
                path = os.path.join(d, "server.conf")
                with open(path, "w") as f:
                    f.write("\n".join(["port %d" % free_port()] + lines) + "\n")
                rc, out = startup_failure(binary, [path], d)
                # The log lines' prefixes (pid, time) differ: compare what follows '#'.
                text = "\n".join(l.split(" # ", 1)[-1] for l in out.splitlines()
                                 if "FATAL" in l or ">>>" in l or "Reading" in l
                                 or "Error" in l or "error" in l or "ACL" in l)
                results.append((rc, text))
            with self.subTest(lines=lines):
                self.assertEqual(results[1][0], 1, results[1])
                self.assertEqual(results[0][0], 1, results[0])
                self.assertEqual(results[1][1], results[0][1])


class CoordinationPermissionsTest(ServerTestCase):
    def setUp(self):
        self.srv = self.start_keyward()
        self.admin = self.raw_client(self.srv)
        for rule in (("locker", "on", ">p", "~locks:*", "+@coordination"),
                     ("guarded", "on", ">p", "~locks:*", "~data:*", "+lock.guard", "+set",
                      "+lock.acquire"),
                     ("reader", "on", ">p", "%R~*", "+@read", "+eval", "+lock.info")):
            self.assertEqual(self.admin.call("ACL", "SETUSER", *rule), b"+OK\r\n")

    def as_user(self, name):
        c = self.raw_client(self.srv)
        self.assertEqual(c.call("AUTH", name, "p"), b"+OK\r\n")
        return c

    def test_coordination_is_a_category_of_its_own(self):
        cat = decode(self.admin.call("ACL", "CAT"))
        self.assertEqual(cat[-1], b"coordination")
        members = set(decode(self.admin.call("ACL", "CAT", "coordination")))
        # (LOCK.CATCHUP too: the library catches a restarted instance up with it.)
        self.assertTrue({b"lock.acquire", b"lock.release", b"lock.extend", b"lock.fence",
                         b"lock.wait", b"lock.info", b"lock.guard", b"lock.catchup"} <= members)
        self.assertFalse(any(not m.startswith(b"lock.") for m in members), members)
        # The propagation stream's own commands are not a service's: @admin, not here.
        for internal in (b"lock.record", b"lock.floor", b"lock.epoch", b"lock.lease",
                         b"lock.holdoff"):
            self.assertNotIn(internal, members)
            self.assertIn(internal, set(decode(self.admin.call("ACL", "CAT", "admin"))))
        info = decode(self.admin.call("COMMAND", "INFO", "lock.acquire"))[0]
        self.assertIn(b"@coordination", info[6])
        c = self.as_user("locker")
        self.assertEqual(decode(c.call("LOCK.ACQUIRE", "locks:a", "me", "10000"))[0], 1)
        self.assertTrue(c.call("LOCK.ACQUIRE", "other", "me", "10000").startswith(
            b"-NOPERM this user has no permissions to access one of the keys"))
        self.assertEqual(c.call("GET", "locks:a"),
                         b"-NOPERM this user has no permissions to run the 'get' command\r\n")
        self.assertEqual(c.call("LOCK.RELEASE", "locks:a", "me"), b":1\r\n")
        # ACL LIST describes the rule with the category.
        self.assertIn(b"-@all +@coordination", self.admin.call("ACL", "GETUSER", "locker"))

    def test_the_guarded_write_is_checked_against_the_caller(self):
        c = self.as_user("guarded")
        token = decode(c.call("LOCK.ACQUIRE", "locks:g", "me", "10000", "FENCE"))
        fence = str(token[1])
        self.assertEqual(c.call("LOCK.GUARD", "locks:g", fence, "SET", "data:1", "v"),
                         b"+OK\r\n")
        # A key the user may not write: refused, whether the resource is allowed or not.
        self.assertTrue(c.call("LOCK.GUARD", "locks:g", fence, "SET", "other", "v").startswith(
            b"-NOPERM"))
        self.assertTrue(c.call("LOCK.GUARD", "locks:g", fence, "DEL", "data:1").startswith(
            b"-NOPERM"))
        self.assertEqual(self.admin.call("EXISTS", "other"), b":0\r\n")
        self.assertEqual(self.admin.call("GET", "data:1"), b"$1\r\nv\r\n")
        log = decode(self.admin.call("ACL", "LOG", "2"))
        self.assertEqual(log[0][1::2][1:4], [b"command", b"toplevel", b"del"])

    def test_guards_of_guards_and_fencing_records_need_write_access(self):
        c = self.as_user("reader")
        # Reading a resource does not allow raising its guard mark or writing its record.
        self.assertTrue(c.call("LOCK.GUARD", "res", "5", "SET", "k", "v").startswith(b"-NOPERM"))
        self.assertEqual(self.admin.call("ACL", "SETUSER", "rec", "on", ">p", "%R~*",
                                         "+lock.record"), b"+OK\r\n")
        rec = self.as_user("rec")
        self.assertTrue(rec.call("LOCK.RECORD", "res", "5", "5", "o", "5").startswith(
            b"-NOPERM this user has no permissions to access one of the keys"))
        # A line of nested guards is refused quickly, whoever sends it.
        nested = ["LOCK.GUARD", "r", "1"] * 20000 + ["SET", "k", "v"]
        g = self.as_user("guarded")
        self.assertTrue(g.call(*nested).startswith(b"-"))
        self.assertEqual(decode(self.admin.call("COMMAND", "GETKEYS", *nested)), [b"r"])

    def test_a_deleted_users_transaction_gets_no_rights(self):
        self.assertEqual(self.admin.call("ACL", "SETUSER", "mortal", "on", ">p", "~*", "+@all"),
                         b"+OK\r\n")
        self.assertEqual(self.admin.call("ACL", "SETUSER", "default", "resetpass", ">adminpw"),
                         b"+OK\r\n")
        c = self.as_user("mortal")
        for cmd in (("MULTI",), ("SET", "before", "1"), ("ACL", "DELUSER", "mortal"),
                    ("SET", "after", "1")):
            self.assertIn(c.call(*cmd), (b"+OK\r\n", b"+QUEUED\r\n"))
        reply = decode(c.call("EXEC"))
        self.assertEqual(reply[:2], [b"OK", 1])
        self.assertTrue(reply[2].startswith(b"NOPERM"), reply)
        self.assertEqual(self.admin.call("EXISTS", "before", "after"), b":1\r\n")

    def test_scripts_run_with_the_callers_permissions(self):
        c = self.as_user("reader")
        self.assertEqual(c.call("EVAL", "return redis.call('get', 'x')", "0"), b"$-1\r\n")
        reply = c.call("EVAL", "return redis.call('set', 'x', '1')", "0")
        self.assertTrue(reply.startswith(
            b"-ERR The user executing the script can't run this command or subcommand"), reply)
        self.assertEqual(self.admin.call("EXISTS", "x"), b":0\r\n")
        reply = c.call("EVAL", "return redis.call('lock.acquire', 'l', 'o', '1000')", "0")
        self.assertTrue(reply.startswith(b"-ERR The user executing the script"), reply)
        log = decode(self.admin.call("ACL", "LOG", "1"))[0]
        self.assertEqual(log[1::2][1:5], [b"command", b"lua", b"lock.acquire", b"reader"])

    def test_redis_py_connects_with_a_user(self):
        redis = import_redis()
        if redis is None:
            self.fail("python3-redis is not installed (it is in the test dependencies)")
        client = redis.Redis(host="127.0.0.1", port=self.srv.port, username="locker",
                             password="p")
        self.assertEqual(client.execute_command("LOCK.ACQUIRE", "locks:py", "me", "1000")[0], 1)
        with self.assertRaises(redis.exceptions.NoPermissionError):
            client.get("locks:a")
        bad = redis.Redis(host="127.0.0.1", port=self.srv.port, username="locker",
                          password="wrong")
        with self.assertRaisesRegex(redis.exceptions.RedisError, "WRONGPASS"):
            bad.ping()
        client.close()
        bad.close()


if __name__ == "__main__":
    unittest.main()
