"""Differential tests of ACL (ACL SETUSER GETUSER DELUSER LIST USERS CAT WHOAMI LOG DRYRUN
GENPASS HELP, AUTH and HELLO AUTH with users, and every check a command passes): Keyward vs
redis-server 7.0.15, raw replies compared byte for byte.

One normalisation: Redis lists the single-command rules of a user ("+get +set") in its command
table's hash order, which changes from one run of redis-server to the next; each run of such
rules is sorted on both sides before comparing (same bytes, same length). Categories keep their
order: that part is deterministic, and Keyward's must be Redis's.

Keyward has one category Redis has not (@coordination, its LOCK.* commands): ACL CAT is compared
without it, and tests/integration/test_acl.py checks it.
"""

import re
import time
import unittest

from diff_support import DiffCase, main
from keyward_harness import ConnectionClosed, decode, encode_command

_RULE = re.compile(rb"^[+-][^@]")


def sort_single_rules(raw):
    """Sorts every run of single-command rules ("+get -set +config|get") in every line of a raw
    reply, keeping the rest (categories, keys, selectors' parentheses) in place."""
    out_lines = []
    for line in raw.split(b"\r\n"):
        tokens = line.split(b" ")
        result, run = [], []

        def flush():
            if run:
                closing = run[-1].endswith(b")")
                items = sorted(t.rstrip(b")") for t in run)
                if closing:
                    items[-1] += b")"
                result.extend(items)
                run.clear()

        for t in tokens:
            if _RULE.match(t) and not t.startswith(b"("):
                run.append(t)
                if t.endswith(b")"):
                    flush()
            else:
                flush()
                result.append(t)
        flush()
        out_lines.append(b" ".join(result))
    return b"\r\n".join(out_lines)


def without_coordination(raw):
    """ACL CAT's list without Keyward's own category."""
    items = decode(raw)
    return [i for i in items if i != b"coordination"] if isinstance(items, list) else raw


# Redis commands Keyward does not have (cluster mode, modules, MIGRATE) and Keyward's own: left
# out where a reply lists commands.
ABSENT = re.compile(rb"^(cluster|asking|readonly|readwrite|restore-asking|module|migrate)(\||$)")
KEYWARD_ONLY = re.compile(rb"^lock\.")


def common_commands(items):
    return sorted(i for i in items if not ABSENT.match(i) and not KEYWARD_ONLY.match(i))


def log_fields(entry):
    """An ACL LOG entry as a dict, from RESP2 (flat list) or RESP3 (pairs)."""
    if entry and isinstance(entry[0], tuple):
        return dict(entry)
    return dict(zip(entry[0::2], entry[1::2]))


class AclCase(DiffCase):
    RESTORE_CONFIG = (("requirepass", ""), ("acllog-max-len", "128"),
                      ("acl-pubsub-default", "resetchannels"))

    def setUp(self):
        super().setUp()
        self.addCleanup(self.drop_users)
        self.drop_users()

    def drop_users(self):
        """Back to the default user alone, as it starts, and an empty ACL LOG."""
        for srv in (self.redis_srv, self.keyward_srv):
            c = srv.client()
            c.call("AUTH", "default", "x")  # harmless when default is nopass
            c.call("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all",
                   "clearselectors")
            for name in decode(c.call("ACL", "USERS")):
                if name != b"default":
                    c.call("ACL", "DELUSER", name)
            c.call("ACL", "LOG", "RESET")
            c.close()

    def rules(self, *cmd, pair=None):
        return self.check(*cmd, pair=pair, normalize=sort_single_rules)

    def dryrun_lines(self, client, user):
        """ACL DRYRUN of every command both servers have, with as many arguments as its arity
        asks: which commands `user` may run, as the server says it."""
        lines = []
        for info in decode(client.call("COMMAND")):
            entries = [info] + list(info[9] if len(info) > 9 else [])
            for entry in entries:
                name, arity = entry[0], entry[1]
                if ABSENT.match(name) or KEYWARD_ONLY.match(name):
                    continue
                words = name.split(b"|")
                args = words + [b"x"] * max(0, abs(arity) - len(words))
                lines.append((name, decode(client.call("ACL", "DRYRUN", user, *args))))
        return sorted(lines)

    def check_same_permissions(self, user):
        """Where the two servers word a user's command rules differently (their command tables
        differ by the commands in ABSENT, so Redis's best-fit categories may differ), the rules
        must still allow exactly the same commands."""
        self.assertEqual(self.dryrun_lines(self.k, user), self.dryrun_lines(self.r, user))

    def user_pair(self, user, password="p"):
        """A pair of connections authenticated as `user`."""
        pair = self.new_pair()
        self.check("AUTH", user, password, pair=pair)
        return pair


class AclSetUserTest(AclCase):
    def test_rules_and_their_descriptions(self):
        setusers = [
            ("lim", "on", ">p", "~k*", "&ch*", "+@all", "-set", "+client", "-flushall"),
            ("ro", "on", ">p", "%R~*", "+@all"),
            ("wo", "on", "nopass", "%W~w*", "+@all"),
            ("t4", "%W~x", "%R~x", "~y", "%R~y", "%RW~z", "%wr~q"),
            ("t2", "%R"),
            ("u", "on", ">pw", "~k*", "%R~r*", "&ch", "-@all", "+@read", "-get"),
            ("v", "-@all", "+@write", "-@list", "+lpush"),
            ("w", "+@all", "-@dangerous", "-@admin"),
            ("w2", "+@all", "-@dangerous", "+flushdb", "-get"),
            ("w3", "allcommands", "-@keyspace", "-@string", "+@read"),
            ("x", "reset"),
            ("x2", "on", "reset"),
            ("y", "+select|0", "+config|get", "-@all", "+client|id", "+@hash", "-hset"),
            ("y1", "-@all", "+select|0", "+select|1", "+SELECT|0", "+debug|object"),
            ("y3", "+client", "-client|kill", "+config", "-config|set"),
            ("y10", "allkeys", "allchannels", "allcommands", "nopass", "on"),
            ("y11", ">a", ">b", "<a",
             "#ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
            ("y12", ">a", ">a", "#ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
            ("y13", "on", ">x", "nopass"),
            ("y14", "nopass", ">x", "resetpass"),
            ("y15", "~a", "~b", "resetkeys", "~c", "&a", "resetchannels", "&b"),
            ("y16", "skip-sanitize-payload"),
            ("y17", "skip-sanitize-payload", "sanitize-payload", "off", "on"),
            ("y18", "+@all", "nocommands", "+get"),
            ("y19", ""),
            ("y20", "(~x +get)", "(&c)", "(", ")"),
            ("y21", "(~x", "+get)", "(&c", "%R~d", "-@all", "+@read)"),
            ("y22", "(~x +get)", "clearselectors", "(+set ~y)"),
            ("y23", "(allkeys +@all)"),
            ("y24", "(resetchannels &a &b allchannels)"),
            ("y25", "+@ALL", "-@ALL", "+@Read"),
            ("y26", "&*", "resetchannels", "&x*"),
        ]
        for args in setusers:
            self.check("ACL", "SETUSER", *args)
        # w2 and w3 are worded with categories whose commands differ between the two servers'
        # tables (see ABSENT): compared by what they allow.
        worded_apart = {b"w2", b"w3"}
        self.check("ACL", "USERS")

        def without_worded_apart(raw):
            return [line for line in decode(raw) if line.split(b" ")[1] not in worded_apart]

        r, k = self.both("ACL", "LIST")
        self.assertEqual(without_worded_apart(sort_single_rules(k)),
                         without_worded_apart(sort_single_rules(r)))
        for args in setusers:
            if args[0].encode() in worded_apart:
                self.check_same_permissions(args[0])
            else:
                self.rules("ACL", "GETUSER", args[0])
        r3 = self.resp3_pair()
        for name in ("y20", "y21", "y11", "lim", "nosuch"):
            self.rules("ACL", "GETUSER", name, pair=r3)
        r, k = self.both("ACL", "LIST", pair=r3)
        self.assertEqual(without_worded_apart(sort_single_rules(k)),
                         without_worded_apart(sort_single_rules(r)))

    def test_rule_errors(self):
        bad = [
            ("y2", "+config|get|x"),
            ("y3", "+debug|"),
            ("y4", "+nosuch"),
            ("y4", "-nosuch"),
            ("y5", "+@nosuch"),
            ("y5", "-@"),
            ("y5", "+"),
            ("y6", "#abc"),
            ("y6", "#CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB"),
            ("y7", "<nope"),
            ("y7", "!ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
            ("y7", "!short"),
            ("y8", "~*", "~x"),
            ("y8", "allkeys", "%R~x"),
            ("y9", "&*", "&x"),
            ("y9", "allchannels", "&x"),
            ("t1", "%~k"),
            ("t1", "%RR~x"),
            ("t1", "%X~x"),
            ("t1", "~a b"),
            ("t1", "&a\tb"),
            ("t1", "bogus"),
            ("t1", "-select|0"),
            ("t1", "+config|nosuch"),
            ("bob", "on", "(+get"),
            ("bob", "on", "(+get", "~x"),
            ("bob", "(+get nosuch)"),
            ("bob", "(bogus)"),
            ("bo b", "on"),
            ("bo\x00b", "on"),
            ("ok", "on", ">p", "+get", "~k", "bogus"),  # nothing applied: ok stays absent
        ]
        for args in bad:
            self.check("ACL", "SETUSER", *args)
        self.check("ACL", "USERS")
        # A failed SETUSER leaves an existing user as it was.
        self.check("ACL", "SETUSER", "keep", "on", ">p", "~k", "+get")
        self.check("ACL", "SETUSER", "keep", "off", "-get", "bogus")
        self.rules("ACL", "GETUSER", "keep")

    def test_deluser_users_whoami_cat_genpass_help(self):
        self.check("ACL", "SETUSER", "a", "on")
        self.check("ACL", "SETUSER", "b")
        self.check("ACL", "DELUSER", "default")
        self.check("ACL", "DELUSER", "a", "default")
        self.check("ACL", "DELUSER", "a", "nosuch", "a")
        self.check("ACL", "DELUSER", "b")
        self.check("ACL", "USERS")
        self.check("ACL", "WHOAMI")
        self.check("ACL", "WHOAMI", "x")
        self.check("ACL", "CAT", "nosuch")
        self.check("ACL", "CAT", "a", "b")
        self.check("ACL", "CAT", "x" * 300)
        r, k = self.both("ACL", "CAT")
        self.assertEqual(without_coordination(k), decode(r))
        for category in ("keyspace", "read", "WRITE", "pubsub", "dangerous", "scripting",
                         "connection", "transaction", "blocking", "geo", "stream", "admin",
                         "fast", "slow", "string", "hash", "list", "set", "sortedset", "bitmap",
                         "hyperloglog"):
            r, k = self.both("ACL", "CAT", category)
            self.assertEqual(common_commands(decode(k)), common_commands(decode(r)), category)
        for bits in ("0", "-1", "4097", "x", "9999999999999999999999"):
            self.check("ACL", "GENPASS", bits)
        self.check("ACL", "GENPASS", "1", "2")
        for bits, length in ((None, 64), ("1", 1), ("5", 2), ("4096", 1024), ("255", 64)):
            cmd = ("ACL", "GENPASS") + ((bits,) if bits else ())
            r, k = self.both(*cmd)
            self.assertEqual(len(decode(k)), length)
            self.assertEqual(len(decode(r)), length)
            self.assertRegex(decode(k).decode(), "^[0-9a-f]+$")
        a, b = decode(self.k.call("ACL", "GENPASS")), decode(self.k.call("ACL", "GENPASS"))
        self.assertNotEqual(a, b)
        self.check("ACL", "HELP")
        self.check("ACL", "HELP", "x")
        self.check("ACL", "NOSUB")
        self.check("ACL")
        self.check("ACL", "SETUSER")
        self.check("ACL", "GETUSER")
        self.check("ACL", "LIST", "x")
        self.check("ACL", "LOAD")
        self.check("ACL", "SAVE")
        self.check("ACL", "LOG", "x")
        self.check("ACL", "LOG", "1", "2")
        self.check("ACL", "LOG", "-5")


class AclAuthTest(AclCase):
    def test_auth_with_users(self):
        self.check("ACL", "SETUSER", "alice", "on", ">secret", "+@all", "~*")
        self.check("ACL", "SETUSER", "off", "off", ">secret", "+@all", "~*")
        self.check("ACL", "SETUSER", "free", "on", "nopass", "+@all", "~*")
        self.check("ACL", "SETUSER", "none", "on", "+@all")
        pair = self.new_pair()
        for cmd in (("AUTH", "pw"),  # the default user has no password: the old form is refused
                    ("AUTH", "alice", "wrong"), ("AUTH", "nosuch", "x"), ("AUTH", "off", "secret"),
                    ("AUTH", "none", ""), ("AUTH", "a", "b", "c"), ("AUTH",),
                    ("ACL", "WHOAMI"), ("AUTH", "alice", "secret"), ("ACL", "WHOAMI"),
                    ("AUTH", "free", "anything"), ("ACL", "WHOAMI"),
                    ("HELLO", "2", "AUTH", "alice", "nope"), ("ACL", "WHOAMI"),
                    ("HELLO", "2", "AUTH", "nosuch", "x"),
                    ("AUTH", "ALICE", "secret"),  # user names are case-sensitive
                    # HELLO's options take effect in order.
                    ("HELLO", "2", "SETNAME", "a b", "AUTH", "alice", "secret"), ("ACL", "WHOAMI"),
                    ("HELLO", "2", "AUTH", "alice", "bad", "FOO"),
                    ("HELLO", "2", "SETNAME", "x", "AUTH", "alice", "bad"), ("CLIENT", "GETNAME"),
                    ("HELLO", "2", "AUTH", "alice", "secret", "SETNAME", "a b"), ("ACL", "WHOAMI"),
                    ("CLIENT", "GETNAME"),
                    ("RESET",), ("ACL", "WHOAMI")):
            self.check(*cmd, pair=pair)
        r, k = self.both("HELLO", "3", "AUTH", "alice", "secret", pair=pair)
        self.assertEqual(k[:1], r[:1])
        self.check("ACL", "WHOAMI", pair=pair)

    def test_requirepass_is_the_default_users_password(self):
        self.check("CONFIG", "SET", "requirepass", "pw")
        self.rules("ACL", "LIST")
        self.rules("ACL", "GETUSER", "default")
        fresh = self.new_pair()
        for cmd in (("GET", "k"), ("ACL", "WHOAMI"), ("AUTH", "wrong"), ("AUTH", "pw"),
                    ("GET", "k"), ("AUTH", "default", "pw")):
            self.check(*cmd, pair=fresh)
        # The default user can be given passwords and switched off through ACL SETUSER too.
        self.check("ACL", "SETUSER", "default", ">other")
        other = self.new_pair()
        for cmd in (("AUTH", "other"), ("AUTH", "pw"), ("PING",)):
            self.check(*cmd, pair=other)
        self.check("ACL", "SETUSER", "default", "off")
        off = self.new_pair()
        for cmd in (("PING",), ("AUTH", "pw"), ("HELLO", "2", "AUTH", "default", "pw")):
            self.check(*cmd, pair=off)
        self.check("ACL", "SETUSER", "default", "on")
        self.check("CONFIG", "SET", "requirepass", "")
        self.rules("ACL", "GETUSER", "default")
        self.check("CONFIG", "GET", "requirepass")
        self.check("PING", pair=self.new_pair())

    def test_unauthenticated_clients_see_noauth(self):
        self.check("ACL", "SETUSER", "default", "resetpass")
        pair = self.new_pair()
        for cmd in (("PING",), ("ACL", "WHOAMI"), ("HELLO", "3"), ("GET", "x"),
                    ("AUTH", "default", "x")):
            self.check(*cmd, pair=pair)


class AclPermissionTest(AclCase):
    def setUp(self):
        super().setUp()
        for rule in (
                ("lim", "on", ">p", "~k*", "&ch*", "+@all", "-set", "+client", "-flushall"),
                ("ro", "on", ">p", "%R~*", "+@all"),
                ("wo", "on", ">p", "%W~w*", "+@all"),
                ("sel", "on", ">p", "-@all", "+select|0", "+config|get", "+client|id",
                 "+auth", "+multi", "+exec", "+get", "~*"),
                ("multi", "on", ">p", "~k*", "(~x* +get)", "(%R~y* +@read)", "+set", "+multi",
                 "+exec", "+ping"),
                ("pub", "on", ">p", "resetchannels", "&news.*", "&lit[ab]", "+@all", "~*"),
        ):
            self.check("ACL", "SETUSER", *rule)
        self.check("SET", "k1", "v")
        self.check("RPUSH", "list", "c", "a", "b")
        self.check("SET", "wa", "1")
        self.check("SET", "wb", "2")

    def test_commands_keys_and_channels(self):
        pair = self.user_pair("lim")
        self.check_all(
            ("GET", "zz"), ("GET", "k1"), ("SET", "k1", "v"), ("SET", "zz", "v"), ("MGET", "k1", "zz"),
            ("MSET", "k1", "a", "k2", "b"), ("RENAME", "k1", "zz"), ("PUBLISH", "zz", "x"),
            ("PUBLISH", "ch1", "x"), ("SPUBLISH", "zz", "x"), ("CLIENT", "GETNAME"), ("FLUSHALL",),
            ("CLIENT", "NOSUB"), ("OBJECT", "ENCODING", "zz"), ("KEYS", "nomatch*"), ("DBSIZE",),
            ("EVAL", "return redis.call('set','k1','v')", "0"),
            ("EVAL", "return redis.call('get','zz')", "0"),
            ("EVAL", "return redis.pcall('get','zz')", "0"),
            ("EVAL", "return redis.call('publish','zz','x')", "0"),
            ("EVAL", "return redis.call('get','zz')", "1", "zz"),
            ("EVAL", "return redis.call('get','k1')", "1", "k1"),
            ("FCALL", "nosuch", "1", "zz"),
            ("LMOVE", "k1", "zz", "LEFT", "LEFT"), ("COPY", "k1", "zz"),
            ("SINTERSTORE", "k9", "k1", "zz"), ("ZUNIONSTORE", "zz", "1", "k1"),
            ("XREAD", "STREAMS", "k1", "zz", "0", "0"), ("BLPOP", "zz", "0.01"),
            ("SORT", "k1", "STORE", "zz"), ("GEOSEARCHSTORE", "zz", "k1", "FROMLONLAT", "0", "0",
                                              "BYRADIUS", "1", "km"),
            pair=pair)

    def test_read_and_write_patterns(self):
        ro = self.user_pair("ro")
        self.check_all(("GET", "k1"), ("SET", "k1", "b"), ("EXISTS", "k1"), ("TYPE", "k1"),
                       ("DEL", "k1"), ("LRANGE", "list", "0", "-1"), ("SORT", "list", "BY", "x"),
                       ("SORT", "list", "BY", "w*"), ("SORT", "list", "GET", "#"),
                       ("SORT", "list", "ALPHA"), ("SORT_RO", "list", "ALPHA", "GET", "w*"),
                       ("LMOVE", "list", "b", "LEFT", "LEFT"), ("EVAL", "return 1", "1", "k1"),
                       ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k1"),
                       ("SET", "k1", "v", "GET"), ("GETDEL", "k1"), ("BITFIELD", "k1", "GET", "u8", "0"),
                       ("BITFIELD", "k1", "SET", "u8", "0", "1"), ("COPY", "k1", "k2"),
                       pair=ro)
        wo = self.user_pair("wo")
        self.check_all(("SET", "w1", "v"), ("GET", "w1"), ("EXISTS", "w1"), ("EXISTS", "w1", "q"),
                       ("SORT", "wa", "GET", "x"), ("OBJECT", "ENCODING", "w1"), ("DEL", "wa"),
                       ("APPEND", "wb", "x"), ("INCR", "wb"), ("GETSET", "wb", "1"),
                       ("SET", "w1", "v", "GET"), ("RENAME", "wb", "wc"), ("LPUSH", "wl", "x"),
                       ("RPOPLPUSH", "wl", "wm"), ("EXPIRE", "wc", "100"), ("TTL", "wc"),
                       pair=wo)

    def test_first_args_and_subcommands(self):
        pair = self.user_pair("sel")
        self.check_all(("SELECT", "0"), ("SELECT", "1"), ("CONFIG", "GET", "maxmemory"),
                       ("CONFIG", "SET", "maxmemory", "0"), ("CLIENT", "GETNAME"),
                       ("GET", "k1"), ("SET", "k1", "v"), ("ACL", "WHOAMI"), ("PING",),
                       ("HELLO", "4"), pair=pair)
        for client in pair:  # allowed (its id differs between the servers)
            self.assertIsInstance(decode(client.call("CLIENT", "ID")), int)

    def test_selectors(self):
        pair = self.user_pair("multi")
        self.check_all(("SET", "k1", "v"), ("SET", "x1", "v"), ("GET", "x1"), ("GET", "k1"),
                       ("GET", "y1"), ("SET", "y1", "v"), ("LRANGE", "y1", "0", "1"),
                       ("LRANGE", "x1", "0", "1"), ("MGET", "x1", "y1"), ("MGET", "x1", "x2"),
                       ("MGET", "y1", "y2"), ("MGET", "k1", "x1"), ("PING",), pair=pair)
        for cmd in (("multi", "get", "x1"), ("multi", "get", "k1"), ("multi", "set", "y1", "v"),
                    ("multi", "mget", "y1", "x1"), ("multi", "lrange", "y1", "0", "1")):
            self.check("ACL", "DRYRUN", *cmd)

    def test_channels(self):
        pair = self.user_pair("pub")
        self.check_all(("PUBLISH", "news.a", "x"), ("PUBLISH", "news", "x"),
                       ("PUBLISH", "lita", "x"), ("PUBLISH", "litc", "x"),
                       ("PUBLISH", "lit[ab]", "x"), ("SPUBLISH", "news.b", "x"),
                       ("PUBSUB", "NUMSUB", "secret"), ("PUBSUB", "CHANNELS", "*"),
                       pair=pair)
        for cmd in (("SUBSCRIBE", "news.a", "secret"), ("PSUBSCRIBE", "news.*"),
                    ("PSUBSCRIBE", "news.a*"), ("PSUBSCRIBE", "lit[ab]"),
                    ("SSUBSCRIBE", "x"), ("UNSUBSCRIBE", "secret")):
            sub = self.user_pair("pub")
            self.check(*cmd, pair=sub)
        sub = self.user_pair("pub")
        self.check_raw(encode_command("SUBSCRIBE", "news.a", "news.b"), 2, pair=sub)
        self.check("PUNSUBSCRIBE", "nope.*", pair=sub)

    def test_dryrun(self):
        for cmd in (("lim", "get", "zz"), ("lim", "set", "k1", "v"), ("lim", "publish", "zz", "x"),
                    ("nouser", "get", "x"), ("lim", "nocmd"), ("lim", "get"),
                    ("lim", "config", "get", "x"), ("lim", "config", "nosub"), ("lim", "config"),
                    ("lim", "GET", "k1"), ("ro", "set", "k", "v"), ("ro", "get", "k"),
                    ("wo", "mset", "w1", "a", "x", "b"), ("sel", "select", "0"),
                    ("sel", "select", "5"), ("sel", "client", "kill", "id", "1"),
                    ("pub", "psubscribe", "news.*", "x"), ("pub", "subscribe", "news.q"),
                    ("lim", "auth", "a", "b"), ("lim", "eval", "return 1", "1", "zz")):
            self.check("ACL", "DRYRUN", *cmd)

    def test_transactions(self):
        pair = self.user_pair("lim")
        self.check_all(("MULTI",), ("GET", "k1"), ("GET", "zz"), ("EXEC",), pair=pair)
        self.check_all(("MULTI",), ("GET", "k1"), ("SET", "k1", "v"), ("DISCARD",), pair=pair)
        # Rules changed between queueing and EXEC: the commands now refused fail one by one.
        self.check_all(("MULTI",), ("GET", "k1"), ("PUBLISH", "ch1", "x"), ("INCR", "k2"),
                       pair=pair)
        self.check("ACL", "SETUSER", "lim", "-get", "resetchannels", "resetkeys", "~k1")
        self.check("EXEC", pair=pair)

    def test_acl_log(self):
        lim = self.user_pair("lim")
        self.check_all(("GET", "zz"), ("GET", "zz"), ("SET", "k1", "v"), ("PUBLISH", "zz", "x"),
                       ("EVAL", "return redis.call('get','zz')", "0"),
                       ("MULTI",), ("GET", "zz"), ("DISCARD",),
                       ("AUTH", "lim", "wrong"), ("auth", "nosuch", "x"),
                       ("HELLO", "2", "AUTH", "nosuch", "x"), pair=lim)

        def masked(raw):
            entries = decode(raw)
            out = []
            for e in entries:
                fields = log_fields(e)
                info = fields.pop(b"client-info")
                age = fields.pop(b"age-seconds")
                self.assertIn(b" user=", info)
                self.assertLess(float(age), 60)
                out.append(sorted(fields.items()))
            return out

        for args in ((), ("3",), ("0",), ("100",)):
            r, k = self.both("ACL", "LOG", *args)
            self.assertEqual(masked(k), masked(r), "ACL LOG %s" % (args,))
        r3 = self.resp3_pair()
        r, k = self.both("ACL", "LOG", "2", pair=r3)
        self.assertEqual(masked(k), masked(r))
        # The log's length follows acllog-max-len.
        self.check("CONFIG", "SET", "acllog-max-len", "2")
        self.check("GET", "zz2", pair=lim)
        r, k = self.both("ACL", "LOG")
        self.assertEqual(masked(k), masked(r))
        self.check("ACL", "LOG", "RESET")
        self.check("ACL", "LOG")

    def test_deleting_a_user_disconnects_its_clients(self):
        victim = self.user_pair("lim")
        bystander = self.user_pair("ro")
        self.check("ACL", "DELUSER", "lim")
        for client in victim:
            self.assertIsNotNone(client.wait_closed(10), "client of a deleted user left open")
        self.check("GET", "k1", pair=bystander)
        # A client deleting its own user gets its reply, then is closed.
        me = self.user_pair("ro")
        self.check("ACL", "DELUSER", "ro", pair=me)
        for client in me:
            self.assertIsNotNone(client.wait_closed(10))

    def test_revoked_channels_disconnect_subscribers(self):
        kept, dropped, other = self.user_pair("pub"), self.user_pair("pub"), self.user_pair("pub")
        self.check_raw(encode_command("SUBSCRIBE", "lita"), 1, pair=kept)
        self.check_raw(encode_command("PSUBSCRIBE", "news.*"), 1, pair=dropped)
        # Adding a channel keeps every subscriber; dropping one closes those that used it.
        self.check("ACL", "SETUSER", "pub", "&more")
        self.check("ACL", "SETUSER", "pub", "resetchannels", "&lit[ab]", "&more")
        for client in dropped:
            self.assertIsNotNone(client.wait_closed(10))
        self.check("PING", pair=other)
        self.check_raw(encode_command("PING"), 1, pair=kept)

    def test_client_list_and_kill_by_user(self):
        self.user_pair("ro")
        self.user_pair("ro")
        self.check("CLIENT", "KILL", "USER", "nosuch")
        self.check("CLIENT", "KILL", "USER", "ro")
        self.check("CLIENT", "KILL", "USER", "ro")
        pair = self.user_pair("lim")
        for client in pair:
            info = decode(client.call("CLIENT", "INFO"))
            self.assertIn(b" user=lim ", info)


if __name__ == "__main__":
    main()
