"""FAILOVER (Redis 6.2 / 7.0's coordinated failover) on the real keyward-server, with Keyward and
Debian's redis-server 7.0.15 on either side of the hand-over, and redis-server as the oracle for
every reply compared.

    FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT

What users rely on:
- no acknowledged write is lost: while the master waits for its replica (`waiting-for-sync`)
  writes, scripts and PUBLISH are held, not answered; reads go on; once the replica took over the
  held writes are refused with -READONLY (never applied on the old master, never silently lost),
  the roles are swapped and the old master follows the new one (other replicas of the old master
  follow through it);
- FAILOVER ABORT, or a TIMEOUT without FORCE that the replica missed, leaves the master a master
  and the held writes run; with TO ... FORCE TIMEOUT the hand-over happens at the timeout anyway;
- while waiting with a TIMEOUT the master sends no PINGs (the stream stops growing, so the replica
  can catch up);
- the errors (a second FAILOVER, REPLICAOF meanwhile, an unknown target, FORCE without its
  arguments, FAILOVER on a replica, PSYNC ... FAILOVER misuse) are Redis's, byte for byte;
- Keyward's coordination state: a replica that took over through FAILOVER (having applied the old
  master's whole stream) keeps the old master's locks and their holders, grants free resources at
  once (no promotion delay, unlike REPLICAOF NO ONE) and issues fencing tokens above every token
  the old master issued.

Nothing sleeps to order events: every wait polls INFO, ROLE or CLIENT LIST with wait_for; a held
command is seen in CLIENT LIST (flag `b`), a stopped replica is SIGSTOPped.

    cd tests/integration
    PYTHONPATH=../support KEYWARD_SERVER=../../build-asan/bin/keyward-server \\
        /usr/bin/python3 -m unittest -v test_failover_command

With KEYWARD_SERVER=/usr/bin/redis-server every test runs Redis against Redis (the LOCK.* test is
skipped): that is how the expectations written here were checked against Redis itself.
"""

import os
import re
import signal
import threading
import unittest

from keyward_harness import (Error, RawClient, ServerTestCase, decode, encode_command,
                             free_port, keyward_binary, wait_for)
from test_persistence import key_differences, populate
from test_replication import info, replicated_dataset

SERVER_IS_REDIS = os.path.basename(keyward_binary()) == "redis-server"

# A full sync under ASan, a replica's once-a-second ACK, a reconnection at the next cron tick.
SYNC_TIMEOUT = 30.0

READONLY = b"-READONLY You can't write against a read only replica.\r\n"
OK = b"+OK\r\n"




def failover_state(c):
    return info(c)["master_failover_state"]


def role(c):
    return decode(c.call("ROLE"))


def held_commands(c):
    """The commands of the clients the server holds (CLIENT LIST flag `b`), sorted."""
    held = []
    for line in decode(c.call("CLIENT", "LIST")).decode().split("\n"):
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if "b" in fields.get("flags", ""):
            held.append(fields["cmd"])
    return sorted(held)


def bulk(value):
    value = value.encode() if isinstance(value, str) else value
    return b"$%d\r\n%s\r\n" % (len(value), value)


class FailoverTestCase(ServerTestCase):
    """Servers by kind ("keyward" or "redis"), a master with replicas, the waits."""

    def start(self, kind, *args):
        args = ["--repl-diskless-sync-delay", "0"] + [str(a) for a in args]
        if kind == "keyward":
            return self.start_keyward(args)
        return self.start_redis(args)

    def replica(self, kind, master, *args):
        return self.start(kind, "--replicaof", "127.0.0.1", master.port, *args)

    def wait_up(self, rc):
        wait_for(lambda: info(rc).get("master_link_status") == "up", timeout=SYNC_TIMEOUT,
                 message="master_link_status:up")

    def wait_online(self, mc, count=1):
        """The master lists `count` replicas as online (what FAILOVER TO requires)."""
        def online():
            i = info(mc)
            return sum("state=online" in i.get("slave%d" % n, "") for n in range(count)) == count
        wait_for(online, timeout=SYNC_TIMEOUT, message="%d online replica(s)" % count)

    def pair(self, master_kind="keyward", replica_kind="keyward", master_args=()):
        """A master and one replica, synced; returns (master, its client, replica, client)."""
        m = self.start(master_kind, *master_args)
        mc = self.raw_client(m)
        r = self.replica(replica_kind, m)
        rc = self.raw_client(r)
        self.wait_up(rc)
        self.wait_online(mc)
        return m, mc, r, rc

    def freeze(self, srv):
        """SIGSTOP: it can neither read the stream nor ACK. SIGCONT at cleanup (registered after
        the server's stop, so it runs before it)."""
        srv.signal(signal.SIGSTOP)
        self.addCleanup(srv.signal, signal.SIGCONT)

    def wait_state(self, c, state):
        wait_for(lambda: failover_state(c) == state, timeout=SYNC_TIMEOUT,
                 message="master_failover_state:%s" % state)

    def wait_held(self, c, *commands):
        """Until the server holds exactly these commands (CLIENT LIST flag b)."""
        want = sorted(commands)
        wait_for(lambda: held_commands(c) == want, timeout=SYNC_TIMEOUT,
                 message="held commands %r" % (want,))

    def send_held(self, srv, *args):
        """A new connection that sends one command and does not read its reply yet."""
        c = self.raw_client(srv, timeout=SYNC_TIMEOUT)
        c.send(encode_command(*args))
        return c

    def failover_then(self, srv, failover_args, *args):
        """FAILOVER and a command pipelined behind it on a new connection: the command reaches
        the server in the same read, so it is processed while the failover waits for sync
        (whatever the timeout), before any hand-over. Returns the connection, with the
        command's reply not read yet."""
        c = self.raw_client(srv, timeout=SYNC_TIMEOUT)
        c.send(encode_command("FAILOVER", *failover_args) + encode_command(*args))
        self.assertEqual(c.read_reply(), OK)
        return c

    def behind(self, mc, replica):
        """Freezes the replica, then writes: its acknowledged offset is below the master's, so
        a failover waits for it (a frozen replica that had acknowledged everything would be
        taken at once)."""
        self.freeze(replica)
        self.assertEqual(mc.call("SET", "written-after-the-freeze", "1"), OK)

    def wait_swapped(self, old_c, new_c, new_srv, old_srv):
        """The failover is over on both sides: the old master a connected replica of the new one,
        the new one a master that lists the old one as its replica."""
        def swapped():
            old, new = role(old_c), role(new_c)
            return (old[0] == b"slave" and old[2] == new_srv.port and old[3] == b"connected"
                    and new[0] == b"master"
                    and [int(p) for _, p, _ in new[2]] == [old_srv.port]
                    and failover_state(old_c) == "no-failover"
                    and info(old_c).get("master_link_status") == "up")
        wait_for(swapped, timeout=SYNC_TIMEOUT, message="roles swapped")

    def assert_follows(self, new_c, old_c, key="after-failover", value="written-on-new-master"):
        """A write on the new master reaches the old one, which refuses writes of its own."""
        self.assertEqual(new_c.call("SET", key, value), OK)
        wait_for(lambda: old_c.call("GET", key) == bulk(value), timeout=SYNC_TIMEOUT,
                 message="the old master following the new one")
        self.assertEqual(old_c.call("SET", key, "on-the-old-master"), READONLY)


# ---------------------------------------------------------------------------------------------
# The hand-over under write load
# ---------------------------------------------------------------------------------------------


class Writer(threading.Thread):
    """Writes to one server in a loop (SET of a new key, INCR of a counter, alternately) until a
    write is refused; records every acknowledged write and the refusal."""

    def __init__(self, n, port, stop):
        super().__init__(daemon=True)
        self.n = n
        self.port = port
        self.stop_event = stop
        self.acked_sets = {}  # key -> value
        self.acked_incrs = 0
        self.refused = None  # (args, raw reply)
        self.errors = []

    def counter(self):
        return "w%d:count" % self.n

    def acked(self):
        return len(self.acked_sets) + self.acked_incrs

    def run(self):
        try:
            c = RawClient(port=self.port, timeout=SYNC_TIMEOUT)
        except OSError as e:
            self.errors.append(repr(e))
            return
        try:
            i = 0
            while not self.stop_event.is_set():
                if i % 2 == 0:
                    key, value = "w%d:k%d" % (self.n, i), "v%d" % i
                    args = ("SET", key, value)
                else:
                    args = ("INCR", self.counter())
                raw = c.call(*args)
                if raw.startswith(b"-"):
                    self.refused = (args, raw)
                    return
                if args[0] == "SET":
                    if raw != OK:
                        self.errors.append((args, raw))
                        return
                    self.acked_sets[key] = value
                else:
                    if raw != b":%d\r\n" % (self.acked_incrs + 1):
                        self.errors.append((args, raw))
                        return
                    self.acked_incrs += 1
                i += 1
        except Exception as e:  # a dropped connection, a timeout: a failure of the test
            self.errors.append(repr(e))
        finally:
            c.close()


class HandOver(FailoverTestCase):
    def test_under_write_load_no_acknowledged_write_is_lost(self):
        m, mc, r, rc = self.pair()
        stop = threading.Event()
        writers = [Writer(n, m.port, stop) for n in range(3)]
        for w in writers:
            w.start()
        try:
            wait_for(lambda: sum(w.acked() for w in writers) >= 300, timeout=SYNC_TIMEOUT,
                     message="writes acknowledged by the master")
            self.assertEqual(mc.call("FAILOVER"), OK)
            # Each writer carries on until one of its writes is refused: the write held while
            # the replica caught up, or one sent after the hand-over.
            for w in writers:
                w.join(timeout=SYNC_TIMEOUT)
                self.assertFalse(w.is_alive(), "writer %d never had a write refused" % w.n)
        finally:
            stop.set()
        self.wait_swapped(mc, rc, r, m)
        self.assertEqual(failover_state(rc), "no-failover")
        for w in writers:
            self.assertEqual(w.errors, [], "writer %d" % w.n)
            args, raw = w.refused
            self.assertEqual(raw, READONLY, (w.n, args))
        # Every acknowledged write is on the new master; the refused ones nowhere.
        for c in (rc, mc):
            if c is mc:
                self.assert_follows(rc, mc)
            for w in writers:
                for key, value in w.acked_sets.items():
                    self.assertEqual(c.call("GET", key), bulk(value), key)
                self.assertEqual(c.call("GET", w.counter()),
                                 bulk(str(w.acked_incrs)) if w.acked_incrs else b"$-1\r\n")
                args, _ = w.refused
                if args[0] == "SET":
                    self.assertEqual(c.call("EXISTS", args[1]), b":0\r\n", args)

    def test_without_a_target_the_replica_that_caught_up_takes_over(self):
        # Two replicas, one frozen behind the master's last write: FAILOVER (no TO) hands over
        # to the other one; the frozen one, thawed, follows the old master, now a replica of the
        # new one (a chain).
        m = self.start("keyward")
        mc = self.raw_client(m)
        frozen = self.replica("keyward", m)
        fc = self.raw_client(frozen)
        live = self.replica("keyward", m)
        lc = self.raw_client(live)
        self.wait_up(fc)
        self.wait_up(lc)
        self.wait_online(mc, 2)
        self.freeze(frozen)
        self.assertEqual(mc.call("SET", "last", "before-failover"), OK)
        self.assertEqual(mc.call("FAILOVER"), OK)
        self.wait_swapped(mc, lc, live, m)
        self.assertEqual(lc.call("GET", "last"), bulk("before-failover"))
        frozen.signal(signal.SIGCONT)
        self.assertEqual(lc.call("SET", "chained", "from-the-new-master"), OK)
        wait_for(lambda: fc.call("GET", "chained") == bulk("from-the-new-master"),
                 timeout=SYNC_TIMEOUT, message="the other replica following through the chain")
        self.assertEqual(role(fc)[:3], [b"slave", b"127.0.0.1", m.port])
        self.assertEqual(fc.call("GET", "last"), bulk("before-failover"))


# ---------------------------------------------------------------------------------------------
# waiting-for-sync: writes held, reads answered; ABORT, TIMEOUT, FORCE
# ---------------------------------------------------------------------------------------------


class WaitingForSync(FailoverTestCase):
    def test_abort_releases_the_held_writes(self):
        m, mc, r, rc = self.pair()
        self.assertEqual(mc.call("SET", "k", "before"), OK)
        sub = self.raw_client(m)
        self.assertEqual(decode(sub.call("SUBSCRIBE", "ch")), [b"subscribe", b"ch", 1])
        self.behind(mc, r)
        self.assertEqual(mc.call("FAILOVER"), OK)
        self.assertEqual(failover_state(mc), "waiting-for-sync")
        setter = self.send_held(m, "SET", "k", "held")
        script = self.send_held(m, "EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1",
                                "scripted", "by-eval")
        publisher = self.send_held(m, "PUBLISH", "ch", "hello")
        self.wait_held(mc, "eval", "publish", "set")
        # Reads go on, on this connection and on a new one.
        self.assertEqual(mc.call("GET", "k"), bulk("before"))
        reader = self.raw_client(m)
        self.assertEqual(reader.call("GET", "k"), bulk("before"))
        self.assertEqual(reader.call("EXISTS", "scripted"), b":0\r\n")
        self.assertFalse(setter.pending() or script.pending() or publisher.pending()
                         or sub.pending())
        # CLIENT UNPAUSE ends a CLIENT PAUSE, not the failover's hold.
        self.assertEqual(mc.call("CLIENT", "UNPAUSE"), OK)
        self.wait_held(mc, "eval", "publish", "set")
        self.assertEqual(mc.call("GET", "k"), bulk("before"))
        self.assertEqual(failover_state(mc), "waiting-for-sync")

        self.assertEqual(mc.call("FAILOVER", "ABORT"), OK)
        self.assertEqual(setter.read_reply(), OK)
        self.assertEqual(script.read_reply(), OK)
        self.assertEqual(publisher.read_reply(), b":1\r\n")
        self.assertEqual(decode(sub.read_reply()), [b"message", b"ch", b"hello"])
        self.assertEqual(failover_state(mc), "no-failover")
        self.assertEqual(role(mc)[0], b"master")
        self.assertEqual(mc.call("GET", "k"), bulk("held"))
        self.assertEqual(mc.call("GET", "scripted"), bulk("by-eval"))
        self.assertEqual(mc.call("SET", "k", "after"), OK)
        # The replica, thawed, gets what was held and what followed.
        r.signal(signal.SIGCONT)
        wait_for(lambda: rc.call("GET", "k") == bulk("after"), timeout=SYNC_TIMEOUT,
                 message="the replica catching up after the abort")
        self.assertEqual(rc.call("GET", "scripted"), bulk("by-eval"))
        self.assertEqual(role(rc)[:3], [b"slave", b"127.0.0.1", m.port])

    def test_timeout_without_force_gives_up_and_the_held_write_succeeds(self):
        # PINGs every second: during the wait (TIMEOUT 2500 ms) none may be sent.
        m, mc, r, rc = self.pair(master_args=("--repl-ping-replica-period", "1"))
        self.behind(mc, r)
        # The master pings its replicas by itself (so the check below can see a PING)...
        start = int(info(mc)["master_repl_offset"])
        wait_for(lambda: int(info(mc)["master_repl_offset"]) > start, timeout=SYNC_TIMEOUT,
                 message="a PING growing the stream")
        setter = self.failover_then(m, ("TIMEOUT", "2500"), "SET", "k", "held")
        # ...but not while it waits: the offset stays where it was until the timeout.
        samples = []

        def gave_up():
            i = info(mc)
            samples.append((i["master_failover_state"], int(i["master_repl_offset"])))
            return i["master_failover_state"] == "no-failover"
        wait_for(gave_up, timeout=SYNC_TIMEOUT, interval=0.05, message="the failover timing out")
        waiting = [offset for state, offset in samples if state == "waiting-for-sync"]
        self.assertTrue(waiting)
        self.assertEqual(set(waiting), {waiting[0]}, "the stream grew while waiting for sync")
        self.assertEqual(set(state for state, _ in samples),
                         {"waiting-for-sync", "no-failover"})
        self.assertEqual(setter.read_reply(), OK)
        self.assertEqual(role(mc)[0], b"master")
        self.assertEqual(mc.call("GET", "k"), bulk("held"))
        self.assertIn("aborted: Replica never caught up before timeout", m.output())
        r.signal(signal.SIGCONT)
        wait_for(lambda: rc.call("GET", "k") == bulk("held"), timeout=SYNC_TIMEOUT,
                 message="the replica catching up")

    def test_force_hands_over_at_the_timeout(self):
        m, mc, r, rc = self.pair()
        self.freeze(r)
        self.assertEqual(mc.call("SET", "k", "before"), OK)  # the replica is behind
        setter = self.failover_then(m, ("TO", "127.0.0.1", str(r.port), "FORCE", "TIMEOUT",
                                        "300"), "SET", "k", "forced")
        self.wait_state(mc, "failover-in-progress")
        self.assertIn("time out exceeded, failing over", m.output())
        # A replica of the target already (its handshake waits for the frozen target), the
        # write still held, reads answered.
        self.assertEqual(role(mc)[:3], [b"slave", b"127.0.0.1", r.port])
        self.wait_held(mc, "set")
        self.assertFalse(setter.pending())
        self.assertEqual(mc.call("GET", "k"), bulk("before"))
        self.assertEqual(mc.call("FAILOVER"), b"-ERR FAILOVER already in progress.\r\n")
        self.assertEqual(mc.call("REPLICAOF", "NO", "ONE"),
                         b"-ERR REPLICAOF not allowed while failing over.\r\n")
        r.signal(signal.SIGCONT)
        self.wait_swapped(mc, rc, r, m)
        self.assertEqual(setter.read_reply(), READONLY)
        # FORCE may lose what the target had not applied ("before" may or may not have been
        # read by the target before it took over: Redis too), never the refused write; the old
        # master ends up with whatever the new one has.
        self.assertIn(rc.call("GET", "k"), (bulk("before"), b"$-1\r\n"))
        self.assert_follows(rc, mc)
        self.assertEqual(mc.call("GET", "k"), rc.call("GET", "k"))

    def test_abort_while_failover_in_progress_keeps_the_master(self):
        m, mc, r, rc = self.pair()
        self.behind(mc, r)
        setter = self.failover_then(m, ("TO", "127.0.0.1", str(r.port), "FORCE", "TIMEOUT",
                                        "300"), "SET", "k", "held")
        self.wait_state(mc, "failover-in-progress")
        self.wait_held(mc, "set")
        self.assertEqual(mc.call("FAILOVER", "ABORT"), OK)
        self.assertEqual(setter.read_reply(), OK)
        self.assertEqual(failover_state(mc), "no-failover")
        self.assertEqual(role(mc)[0], b"master")
        self.assertEqual(mc.call("GET", "k"), bulk("held"))
        # The target never took over: thawed, it is still the master's replica and catches up.
        r.signal(signal.SIGCONT)
        self.assertEqual(mc.call("SET", "k2", "after"), OK)
        wait_for(lambda: rc.call("GET", "k2") == bulk("after"), timeout=SYNC_TIMEOUT,
                 message="the target following the master again")
        self.assertEqual(role(rc)[:3], [b"slave", b"127.0.0.1", m.port])
        self.assertEqual(rc.call("GET", "k"), bulk("held"))

    def test_a_write_arriving_during_failover_in_progress_is_refused_at_once(self):
        m, mc, r, rc = self.pair()
        self.behind(mc, r)
        self.assertEqual(mc.call("FAILOVER", "TO", "127.0.0.1", str(r.port), "FORCE", "TIMEOUT",
                                 "300"), OK)
        self.wait_state(mc, "failover-in-progress")
        late = self.send_held(m, "SET", "k", "late")
        # Processed one way or the other: answered, or held.
        wait_for(lambda: late.pending() or held_commands(mc) == ["set"], timeout=SYNC_TIMEOUT,
                 message="the write processed")
        # The server is a replica already: the write is refused, not held (Redis checks
        # read-only before the pause), so even an abort does not run it.
        self.assertEqual(mc.call("FAILOVER", "ABORT"), OK)
        self.assertEqual(late.read_reply(), READONLY)
        self.assertEqual(mc.call("EXISTS", "k"), b":0\r\n")
        self.assertEqual(role(mc)[0], b"master")


# ---------------------------------------------------------------------------------------------
# Keyward and Redis on either side
# ---------------------------------------------------------------------------------------------


class Interop(FailoverTestCase):
    def hand_over(self, master_kind, replica_kind, *failover_args):
        m, mc, r, rc = self.pair(master_kind, replica_kind)
        populate(mc)
        self.assertEqual(mc.call("RPUSH", "live", "a", "b"), b":2\r\n")
        want = replicated_dataset(mc)
        if failover_args == ("TO",):
            failover_args = ("TO", "127.0.0.1", str(r.port))
        self.assertEqual(mc.call("FAILOVER", *failover_args), OK)
        self.wait_swapped(mc, rc, r, m)
        self.assertEqual(failover_state(rc), "no-failover")
        # The new master kept everything; the old one (now its replica) too.
        self.assertEqual(key_differences(replicated_dataset(rc), want), [])
        self.assert_follows(rc, mc)
        self.assertEqual(rc.call("DEL", "after-failover"), b":1\r\n")
        wait_for(lambda: mc.call("EXISTS", "after-failover") == b":0\r\n", timeout=SYNC_TIMEOUT,
                 message="the old master following")
        self.assertEqual(key_differences(replicated_dataset(mc), want), [])
        # Partial resynchronisation both ways: the new master continued the old history.
        self.assertEqual(info(rc)["master_replid2"], info(mc)["master_replid2"])

    def test_keyward_master_hands_over_to_a_redis_replica(self):
        self.hand_over("keyward", "redis", "TO")

    def test_redis_master_hands_over_to_a_keyward_replica(self):
        self.hand_over("redis", "keyward")


# ---------------------------------------------------------------------------------------------
# Replies and errors, byte for byte against redis-server
# ---------------------------------------------------------------------------------------------


class Replies(FailoverTestCase):
    def transcript(self, kind):
        """The same commands on a `kind` master and replica; a list of (label, raw reply)."""
        out = []
        m = self.start(kind)
        mc = self.raw_client(m)

        def note(label, c, *args):
            out.append((label, c.call(*args)))

        note("no replica", mc, "FAILOVER")
        note("abort with no failover", mc, "FAILOVER", "ABORT")
        r = self.replica(kind, m)
        rc = self.raw_client(r)
        self.wait_up(rc)
        self.wait_online(mc)
        port = str(r.port)
        note("timeout 0", mc, "FAILOVER", "TIMEOUT", "0")
        note("negative timeout", mc, "FAILOVER", "TIMEOUT", "-5")
        note("timeout not a number", mc, "FAILOVER", "TIMEOUT", "soon")
        note("port not a number", mc, "FAILOVER", "TO", "127.0.0.1", "sixty")
        note("unknown option", mc, "FAILOVER", "NOW")
        note("TO without a port", mc, "FAILOVER", "TO", "127.0.0.1")
        note("TIMEOUT twice", mc, "FAILOVER", "TIMEOUT", "10", "TIMEOUT", "10")
        note("FORCE twice", mc, "FAILOVER", "FORCE", "FORCE")
        note("ABORT with more", mc, "FAILOVER", "ABORT", "NOW")
        note("FORCE alone", mc, "FAILOVER", "FORCE")
        note("FORCE without TIMEOUT", mc, "FAILOVER", "TO", "127.0.0.1", port, "FORCE")
        note("FORCE without TO", mc, "FAILOVER", "FORCE", "TIMEOUT", "100")
        note("TO an unknown port", mc, "FAILOVER", "TO", "127.0.0.1", str(free_port()))
        note("TO an unknown host", mc, "FAILOVER", "TO", "10.255.255.1", port)
        note("TO the replica by name", mc, "FAILOVER", "TO", "localhost", port)
        note("on the replica", rc, "FAILOVER")
        note("on the replica with FORCE", rc, "FAILOVER", "TO", "127.0.0.1", port, "FORCE")
        note("ABORT on the replica", rc, "FAILOVER", "ABORT")
        note("PSYNC FAILOVER to a master", self.raw_client(m), "PSYNC", "0" * 40, "1",
             "FAILOVER")
        note("PSYNC FAILOVER with another replid", self.raw_client(r), "PSYNC", "f" * 40, "1",
             "FAILOVER")
        out.append(("state before", failover_state(mc)))
        # One in progress (the replica frozen and behind, it stays waiting-for-sync).
        self.behind(mc, r)
        note("start", mc, "FAILOVER")
        out.append(("state", failover_state(mc)))
        note("second", mc, "FAILOVER")
        note("second TO the replica", mc, "FAILOVER", "TO", "127.0.0.1", port)
        note("second TO an unknown port", mc, "FAILOVER", "TO", "127.0.0.1", "1")
        note("second with FORCE alone", mc, "FAILOVER", "FORCE")
        note("second with timeout 0", mc, "FAILOVER", "TIMEOUT", "0")
        note("REPLICAOF", mc, "REPLICAOF", "127.0.0.1", port)
        note("REPLICAOF NO ONE", mc, "REPLICAOF", "NO", "ONE")
        note("SLAVEOF", mc, "SLAVEOF", "127.0.0.1", port)
        note("PSYNC while failing over", self.raw_client(m), "PSYNC", "?", "-1")
        out.append(("role", role(mc)[0]))
        note("abort", mc, "FAILOVER", "ABORT")
        note("abort again", mc, "FAILOVER", "ABORT")
        out.append(("state after", failover_state(mc)))
        r.signal(signal.SIGCONT)
        return out

    def test_errors_like_redis(self):
        redis = self.transcript("redis")
        keyward = self.transcript("keyward")
        self.assertEqual([label for label, _ in keyward], [label for label, _ in redis])
        for (label, got), (_, want) in zip(keyward, redis):
            self.assertEqual(got, want, label)
        # The oracle says what the brief says (so a change of the oracle shows).
        replies = dict(redis)
        self.assertEqual(replies["second"], b"-ERR FAILOVER already in progress.\r\n")
        self.assertEqual(replies["REPLICAOF"],
                         b"-ERR REPLICAOF not allowed while failing over.\r\n")
        self.assertEqual(replies["TO an unknown port"],
                         b"-ERR FAILOVER target HOST and PORT is not a replica.\r\n")
        self.assertEqual(replies["FORCE alone"], b"-ERR FAILOVER with force option requires both "
                         b"a timeout and target HOST and IP.\r\n")
        self.assertEqual(replies["on the replica"],
                         b"-ERR FAILOVER is not valid when server is a replica.\r\n")


# ---------------------------------------------------------------------------------------------
# Locks and fencing across a FAILOVER (Keyward's own)
# ---------------------------------------------------------------------------------------------


@unittest.skipIf(SERVER_IS_REDIS, "LOCK.* are Keyward's own commands")
class Fencing(FailoverTestCase):
    def lock_info(self, c, resource):
        return dict(zip(*[iter(decode(c.call("LOCK.INFO", resource)))] * 2))

    def test_locks_survive_and_tokens_grow_without_a_promotion_delay(self):
        m, mc, r, rc = self.pair()
        issued = []
        for i in range(5):
            granted, token, _ = decode(mc.call("LOCK.ACQUIRE", "res%d" % i, "worker", "60000",
                                               "FENCE"))
            self.assertEqual(granted, 1)
            issued.append(token)
            self.assertEqual(mc.call("LOCK.RELEASE", "res%d" % i, "worker"), b":1\r\n")
        granted, alice_token, _ = decode(mc.call("LOCK.ACQUIRE", "held", "alice", "60000",
                                                 "FENCE"))
        self.assertEqual(granted, 1)
        issued.append(alice_token)
        self.assertEqual(mc.call("LOCK.GUARD", "held", str(alice_token), "SET", "guarded", "1"),
                         OK)
        before = self.lock_info(mc, "held")
        self.assertEqual(before[b"owner"], b"alice")

        # An acquisition sent while the master waits for its replica is held, then refused.
        self.behind(mc, r)
        late = self.failover_then(m, ("TO", "127.0.0.1", str(r.port)),
                                  "LOCK.ACQUIRE", "late", "mallory", "60000", "FENCE")
        self.wait_held(mc, "lock.acquire")
        r.signal(signal.SIGCONT)
        self.wait_swapped(mc, rc, r, m)
        self.assertEqual(late.read_reply(), READONLY)

        # (a) The lock held on the old master is held by the same owner, with the same token.
        after = self.lock_info(rc, "held")
        self.assertEqual(after[b"owner"], b"alice")
        self.assertEqual(after[b"holder_token"], alice_token)
        self.assertGreater(after[b"pttl"], 0)
        self.assertEqual(decode(rc.call("LOCK.ACQUIRE", "held", "bob", "60000", "FENCE"))[0], 0)
        self.assertEqual(decode(rc.call("LOCK.ACQUIRE", "held", "alice", "60000", "FENCE"))[:2],
                         [2, alice_token])
        self.assertEqual(rc.call("LOCK.GUARD", "held", str(alice_token), "SET", "guarded", "2"),
                         OK)
        self.assertTrue(decode(rc.call("LOCK.GUARD", "held", str(alice_token - 1), "SET",
                                       "guarded", "3")).startswith(b"FENCED"))
        self.assertIsNone(self.lock_info(rc, "late")[b"owner"])
        # (b) A free resource is granted at once, with a token above every earlier one.
        reply = decode(rc.call("LOCK.ACQUIRE", "fresh", "carol", "60000", "FENCE"))
        self.assertNotIsInstance(reply, Error)
        granted, fresh_token, ttl = reply
        self.assertEqual((granted, ttl), (1, 60000))
        self.assertGreater(fresh_token, max(issued))
        # (c) A new fencing epoch: the counters moved above the old master's.
        self.assertGreater(after[b"token"], before[b"token"])
        for i in range(5):
            granted, token, _ = decode(rc.call("LOCK.ACQUIRE", "res%d" % i, "worker2", "1000",
                                               "FENCE"))
            self.assertEqual(granted, 1)
            self.assertGreater(token, max(issued))

        # By contrast, a plain promotion of a server with the same history (the old master,
        # now a synced replica of the new one) refuses locks for the promotion delay.
        wait_for(lambda: self.lock_info(mc, "fresh")[b"owner"] == b"carol",
                 timeout=SYNC_TIMEOUT, message="the old master following")
        self.assertEqual(mc.call("REPLICAOF", "NO", "ONE"), OK)
        refused = decode(mc.call("LOCK.ACQUIRE", "other", "dave", "1000"))
        self.assertIsInstance(refused, Error)
        self.assertTrue(refused.startswith(b"RESTARTING"), refused)
        self.assertIn(b"lock-promotion-delay", refused)

    def test_a_delay_still_running_on_the_old_master_carries_over(self):
        # The master was promoted moments ago (a lease of the master before it may still run:
        # it grants no lock for lock-promotion-delay). A FAILOVER now must not end that wait:
        # the replica taking over waits out the rest (LOCK.HOLDOFF), then grants.
        first = self.start("keyward")
        fc = self.raw_client(first)
        m = self.replica("keyward", first)
        mc = self.raw_client(m)
        self.wait_up(mc)
        self.assertEqual(mc.call("CONFIG", "SET", "lock-promotion-delay", "60000"), OK)
        self.assertEqual(mc.call("REPLICAOF", "NO", "ONE"), OK)
        self.assertTrue(decode(mc.call("LOCK.ACQUIRE", "res", "a", "1000")).startswith(
            b"RESTARTING"))
        r = self.replica("keyward", m)
        rc = self.raw_client(r)
        self.wait_up(rc)
        self.wait_online(mc)
        self.assertEqual(mc.call("FAILOVER"), OK)
        self.wait_swapped(mc, rc, r, m)
        refused = decode(rc.call("LOCK.ACQUIRE", "res", "a", "1000"))
        self.assertIsInstance(refused, Error)
        left = re.fullmatch(rb"RESTARTING lock acquisitions resume in (\d+) ms "
                            rb"\(lock-promotion-delay\)", refused)
        self.assertIsNotNone(left, refused)
        self.assertTrue(0 < int(left.group(1)) <= 60000, refused)
        # Plain writes go on meanwhile.
        self.assertEqual(rc.call("SET", "plain", "1"), OK)
        fc.close()


if __name__ == "__main__":
    unittest.main()
