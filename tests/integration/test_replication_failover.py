"""Fencing across a failover, with real processes: clients contend for a fenced lock on a master
and append their token to a list through LOCK.GUARD; mid-run the master is killed (SIGKILL, so
whatever had not reached the replica is lost) and its replica promoted with REPLICAOF NO ONE; the
clients carry on against it. What users rely on:

- every token the promoted server hands out is greater than every token the old master handed
  out, even those whose records never reached the replica (the fencing epoch);
- no token is handed out twice;
- the guarded list on the promoted server only ever grew in token order (a write carrying an
  older token than one the list holds was never accepted), and a client still holding a token
  of the old master is refused;
- for the promotion delay (the longest lease granted) the promoted server grants no lock, so a
  lease the old master granted runs out before anyone else holds the resource."""

import os
import signal
import threading
import unittest

from keyward_harness import RawClient, ServerTestCase, decode, wait_for

LEASE_MS = 1500


class Contender(threading.Thread):
    """Acquires, appends its token under LOCK.GUARD, releases; against whichever server is the
    master now. Records what it was handed and by which server."""

    def __init__(self, name, target, stop):
        super().__init__(daemon=True)
        self.owner = name
        self.target = target  # a list holding the current master's port
        self.stop_event = stop
        self.issued = []  # (port, token, re-entered)
        self.errors = []

    def run(self):
        client, port = None, None
        while not self.stop_event.is_set():
            try:
                if port != self.target[0]:
                    if client is not None:
                        client.close()
                    port = self.target[0]
                    client = RawClient(port=port, timeout=5)
                reply = decode(client.call("LOCK.ACQUIRE", "res", self.owner, str(LEASE_MS),
                                           "FENCE"))
                # 1: acquired, 2: re-entered (it held the lock when the master died, and the
                # replica knew); 0 or an error: held by someone else, or the promotion delay.
                if not isinstance(reply, list) or reply[0] not in (1, 2):
                    continue
                token = reply[1]
                self.issued.append((port, token, reply[0] == 2))
                client.call("LOCK.GUARD", "res", str(token), "RPUSH", "log", str(token))
                client.call("LOCK.RELEASE", "res", self.owner)
            except Exception as e:  # the killed master: connect again, to the new one
                self.errors.append(repr(e))
                if client is not None:
                    client.close()
                client, port = None, None
        if client is not None:
            client.close()


class FailoverDuringContention(ServerTestCase):
    def test_tokens_never_go_backwards(self):
        master = self.start_keyward(["--repl-diskless-sync-delay", "0"])
        replica = self.start_keyward(["--replicaof", "127.0.0.1", str(master.port)])
        r = self.raw_client(replica)
        wait_for(lambda: b"master_link_status:up" in decode(r.call("INFO", "replication")),
                 timeout=30, message="the replica's sync")
        target = [master.port]
        stop = threading.Event()
        contenders = [Contender("c%d" % i, target, stop) for i in range(3)]
        for c in contenders:
            c.start()
        try:
            wait_for(lambda: sum(len(c.issued) for c in contenders) >= 200, timeout=60,
                     message="contention on the master")
            os.kill(master.proc.pid, signal.SIGKILL)
            master.wait_exit()
            self.assertEqual(r.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
            target[0] = replica.port
            wait_for(lambda: sum(1 for c in contenders for p, _, _ in c.issued
                                 if p == replica.port) >= 200,
                     timeout=60, message="contention on the promoted replica")
        finally:
            stop.set()
            for c in contenders:
                c.join(timeout=30)
        issued = [t for c in contenders for t in c.issued]
        before = [t for p, t, _ in issued if p == master.port]
        # Tokens newly handed out by the promoted server (a re-entry by the client that held the
        # lock when the master died keeps its token: it is still that one holder's).
        after = [t for p, t, reentered in issued if p == replica.port and not reentered]
        self.assertTrue(before and after)
        self.assertGreater(min(after), max(before))
        new_grants = [t for _, t, reentered in issued if not reentered]
        self.assertEqual(len(new_grants), len(set(new_grants)), "a token handed out twice")
        log = [int(x) for x in decode(r.call("LRANGE", "log", "0", "-1"))]
        self.assertEqual(log, sorted(log))
        # A token appears twice only when its holder wrote again after re-entering.
        reentered = {t for _, t, again in issued if again}
        repeated = {t for t in log if log.count(t) > 1}
        self.assertLessEqual(repeated, reentered)
        self.assertGreater(log[-1], max(before))
        # A holder of the old master's last token is fenced out.
        stale = decode(r.call("LOCK.GUARD", "res", str(max(before)), "RPUSH", "log", "stale"))
        self.assertTrue(stale.startswith(b"FENCED"), stale)
        self.assertEqual(r.call("LINDEX", "log", "-1"), b"$%d\r\n%d\r\n" % (
            len(str(log[-1])), log[-1]))

    def test_promotion_delay_outlasts_the_old_masters_lease(self):
        master = self.start_keyward(["--repl-diskless-sync-delay", "0"])
        replica = self.start_keyward(["--replicaof", "127.0.0.1", str(master.port)])
        m = self.raw_client(master)
        r = self.raw_client(replica)
        wait_for(lambda: b"master_link_status:up" in decode(r.call("INFO", "replication")),
                 timeout=30, message="the replica's sync")
        # The longest lease (60 s) reaches the replica with the stream; then the master grants
        # a lock the replica never hears of (the link is cut first).
        self.assertEqual(decode(m.call("LOCK.ACQUIRE", "long", "o", "60000"))[0], 1)
        wait_for(lambda: decode(r.call("GET", "long")) == b"o", message="the lease replicated")
        self.assertEqual(r.call("CONFIG", "SET", "repl-timeout", "1"), b"+OK\r\n")
        master.signal(signal.SIGSTOP)
        self.addCleanup(lambda: master.signal(signal.SIGCONT))
        self.assertEqual(r.call("REPLICAOF", "NO", "ONE"), b"+OK\r\n")
        # No lock granted on any resource while the old master's leases may run.
        refused = decode(r.call("LOCK.ACQUIRE", "other", "o2", "1000"))
        self.assertTrue(refused.startswith(b"RESTARTING"), refused)
        self.assertIn(b"lock-promotion-delay", refused)
        self.assertEqual(r.call("SET", "other", "o2", "NX", "PX", "1000"), b"$-1\r\n")
        # Reads and other writes go on.
        self.assertEqual(r.call("SET", "unrelated", "v"), b"+OK\r\n")
        self.assertEqual(r.call("GET", "long"), b"$1\r\no\r\n")


if __name__ == "__main__":
    unittest.main()
