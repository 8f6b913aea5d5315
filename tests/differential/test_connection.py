"""Differential tests of the connection commands: PING ECHO SELECT HELLO AUTH CLIENT RESET QUIT."""

import unittest

from diff_support import DiffCase, mask_hello_id
from keyward_harness import decode


class Connection(DiffCase):
    def test_ping_echo(self):
        self.check("PING")
        self.check("PING", "hello")
        self.check("PING", "")
        self.check("PING", b"\x00\r\n")
        self.check("PING", "a", "b")
        self.check("ping")
        self.check("ECHO", "hello world")
        self.check("ECHO", "")
        self.check("ECHO", b"bin\x00\xff\r\n")
        self.check("ECHO", "x" * 70000)
        self.check("ECHO")
        self.check("ECHO", "a", "b")

    def test_client_unblock(self):
        # Nobody is blocked on either server: every form answers as Redis does.
        for args in (("987654",), ("987654", "TIMEOUT"), ("987654", "error"), ("abc",),
                     ("1", "later"), ("1", "timeout", "extra"), ()):
            self.check("CLIENT", "UNBLOCK", *args)
        self.check("COMMAND", "INFO", "client|unblock")

    def test_select(self):
        self.check_seq("""
            SET k db0
            SELECT 1
            GET k
            SET k db1
            SELECT 15
            SET k db15
            SELECT 0
            GET k
            SELECT 1
            GET k
            SELECT 16
            SELECT -1
            SELECT abc
            SELECT 1.0
            SELECT 9223372036854775808
            SELECT
            SELECT 1 2
            GET k
            """)
        self.check("SELECT", "")
        self.check("SELECT", " 1")
        r2, k2 = self.new_pair()
        self.check("GET", "k", pair=(r2, k2))

    def test_hello(self):
        for args in ((), ("2",), ("3",), ("2",), ("4",), ("1",), ("0",), ("-1",), ("abc",),
                     ("3.0",), ("9999999999999999999999",), ("3", "SETNAME", "myname"),
                     ("2", "SETNAME", "bad name"), ("2", "SETNAME"), ("3", "AUTH"),
                     ("3", "AUTH", "default"), ("3", "AUTH", "default", "anything"),
                     ("3", "AUTH", "nouser", "pw"), ("3", "FOO"), ("2", "FOO", "bar"),
                     ("3", "setname", "n2", "auth", "default", "x"), ("2",)):
            self.check("HELLO", *args, normalize=mask_hello_id)
        self.check("CLIENT", "GETNAME")

    def test_hello_resp3_switch(self):
        # After HELLO 3 the same commands encode nulls, maps and doubles the RESP3 way.
        self.check("HELLO", "3", normalize=mask_hello_id)
        self.check_seq("""
            GET missing
            SET k v
            GET k
            CLIENT GETNAME
            PING
            ECHO x
            CONFIG GET maxclients
            NOSUCHCOMMAND
            """)
        self.check("HELLO", normalize=mask_hello_id)
        self.check("HELLO", "2", normalize=mask_hello_id)
        self.check("GET", "missing")
        self.check("CONFIG", "GET", "maxclients")

    def test_client_setname_getname(self):
        self.check_seq("""
            CLIENT GETNAME
            CLIENT SETNAME myconn
            CLIENT GETNAME
            CLIENT SETNAME other-name_1
            CLIENT GETNAME
            CLIENT SETNAME
            CLIENT SETNAME a b
            CLIENT GETNAME x
            client setname lower
            client getname
            """)
        for bad in ("a b", "a\nb", "a\rb", "\x01", "\x7f", "tab\there", "\xff"):
            self.check("CLIENT", "SETNAME", bad.encode("latin-1"))
        self.check("CLIENT", "GETNAME")
        self.check("CLIENT", "SETNAME", "")
        self.check("CLIENT", "GETNAME")
        self.check("CLIENT", "SETNAME", "~!@#$%^&*()_+{}|:<>?")
        self.check("CLIENT", "GETNAME")

    # CLIENT HELP is not compared: Keyward lists only the subcommands it implements (no
    # TRACKING, CACHING, UNBLOCK yet), so its help is shorter than Redis's by design.

    def test_client_misc(self):
        self.check_seq("""
            CLIENT
            CLIENT FOO
            CLIENT foo bar
            CLIENT GETREDIR
            CLIENT NO-EVICT on
            CLIENT NO-EVICT off
            CLIENT NO-EVICT maybe
            CLIENT KILL 1.2.3.4:5
            CLIENT KILL ID 999999999
            CLIENT KILL ID abc
            CLIENT KILL ADDR 1.2.3.4:5
            CLIENT KILL LADDR 1.2.3.4:5
            CLIENT KILL FOO bar
            CLIENT KILL ID
            CLIENT KILL SKIPME maybe
            CLIENT KILL TYPE nosuchtype
            CLIENT KILL USER nosuchuser
            CLIENT PAUSE abc
            CLIENT PAUSE -1
            CLIENT PAUSE 0 FOO
            CLIENT PAUSE
            CLIENT UNPAUSE
            CLIENT UNPAUSE x
            CLIENT LIST TYPE nosuchtype
            CLIENT LIST ID abc
            CLIENT LIST FOO
            CLIENT ID x
            CLIENT INFO x
            """)
        r_id, k_id = self.both("CLIENT", "ID")
        with self.subTest(cmd="CLIENT ID"):
            self.assertRegex(k_id, rb"^:[1-9]\d*\r\n$")
        self.check("CLIENT", "KILL", "ID", decode(r_id) + 1000000)

    def test_client_info_fields(self):
        # Values (addresses, ages, memory) differ; the field names and their order must not.
        self.r.call("CLIENT", "SETNAME", "me")
        self.k.call("CLIENT", "SETNAME", "me")

        def field_names(raw):
            text = decode(raw)
            if not isinstance(text, bytes):
                return raw
            return [f.split(b"=", 1)[0] for f in text.strip().split(b" ")]

        def fields(raw):
            return dict(f.split(b"=", 1) for f in decode(raw).strip().split(b" "))

        self.check("CLIENT", "INFO", normalize=field_names)
        r2, k2 = self.new_pair()
        r2.call("SELECT", "3")
        k2.call("SELECT", "3")
        info_r, info_k = self.both("CLIENT", "INFO")
        self.assertEqual(fields(info_k)[b"name"], b"me")
        self.assertEqual(fields(info_k)[b"cmd"], fields(info_r)[b"cmd"])
        self.assertEqual(fields(info_k)[b"db"], b"0")
        info_r, info_k = self.both("CLIENT", "INFO", pair=(r2, k2))
        for name in (b"name", b"db", b"flags", b"multi", b"sub", b"psub", b"resp", b"cmd"):
            self.assertEqual(fields(info_k).get(name), fields(info_r).get(name), name)
        # CLIENT LIST lists one line per connection, with the same fields.
        list_r, list_k = self.both("CLIENT", "LIST")
        lines_r = decode(list_r).strip().split(b"\n")
        lines_k = decode(list_k).strip().split(b"\n")
        self.assertEqual(len(lines_k), 2, list_k)
        self.assertEqual([[f.split(b"=", 1)[0] for f in line.split(b" ")] for line in lines_k],
                         [[f.split(b"=", 1)[0] for f in line.split(b" ")] for line in lines_r])
        self.check("CLIENT", "LIST", "TYPE", "normal", normalize=lambda raw: raw[:1])
        self.check("CLIENT", "LIST", "TYPE", "pubsub")
        self.check("CLIENT", "LIST", "ID", "999999")

    def test_client_reply(self):
        self.check("CLIENT", "REPLY", "FOO")
        # OFF and SKIP send nothing: the next reply seen must be the one after ON.
        self.check_raw(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n", 2)
        self.check_raw(b"CLIENT REPLY SKIP\r\nINCR n\r\nINCR n\r\n", 1)
        self.check_raw(b"CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n", 2)

    def test_auth_without_password(self):
        self.check_seq("""
            AUTH
            AUTH pass
            AUTH default pass
            AUTH nosuchuser pass
            AUTH a b c
            """)

    def test_reset(self):
        self.check("SELECT", "2")
        self.check("CLIENT", "SETNAME", "before")
        self.check("HELLO", "3", normalize=mask_hello_id)
        self.check("SET", "k", "in-db2")
        self.check("RESET")
        self.check("RESET")
        self.check("CLIENT", "GETNAME")
        self.check("GET", "k")
        self.check("GET", "missing")
        self.check("RESET", "x")

    def test_quit(self):
        r, k = self.new_pair()
        self.check("SET", "k", "v", pair=(r, k))
        self.check_raw(b"QUIT\r\n", 1, pair=(r, k))
        with self.subTest("closed after QUIT"):
            self.assertEqual(k.wait_closed(10), r.wait_closed(10))
        self.check_closes(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
        self.check_closes(b"QUIT extra args\r\n")


class AuthRequired(DiffCase):
    """Both servers run with requirepass: replies before and after AUTH."""

    SERVER_ARGS = ("--requirepass", "pw")

    def setUp(self):
        self.r = self.redis_srv.client()
        self.k = self.keyward_srv.client()
        self.addCleanup(self.r.close)
        self.addCleanup(self.k.close)

    def test_before_auth(self):
        self.check_seq("""
            PING
            GET k
            SET k v
            NOSUCHCOMMAND
            GET
            SELECT 1
            CLIENT SETNAME x
            CONFIG GET timeout
            HELLO
            HELLO 3
            HELLO 2
            HELLO 3 SETNAME x
            HELLO 4
            HELLO 3 AUTH default wrong
            HELLO 3 AUTH default
            AUTH
            AUTH wrong
            AUTH default wrong
            AUTH nosuchuser pw
            AUTH a b c
            """)
        self.check("RESET")
        self.check("PING")

    def test_after_auth(self):
        self.check("AUTH", "pw")
        self.check_seq("""
            PING
            SET k v
            GET k
            AUTH wrong
            PING
            AUTH default pw
            RESET
            GET k
            """)
        self.check("HELLO", "2", "AUTH", "default", "pw", normalize=mask_hello_id)
        self.check("GET", "k")

    def test_unauthenticated_limits(self):
        for data in (b"*11\r\n", b"*1\r\n$16385\r\n", b"*100\r\n$3\r\nGET\r\n"):
            self.check_closes(data)
        self.check_raw(b"*10\r\n" + b"$1\r\nx\r\n" * 10, 1)
        self.check_raw(b"*2\r\n$4\r\nECHO\r\n$16384\r\n" + b"x" * 16384 + b"\r\n", 1)
        self.check_raw(b"ECHO " + b"y" * 20000 + b"\r\n", 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
