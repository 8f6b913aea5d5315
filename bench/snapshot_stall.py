"""How long a background snapshot holds up the event loop when one value is big.

Fills one set of N members (pipelined SADD, 1,000 members a command) on a fresh server, times a
foreground SAVE (the whole set serialised in one go), then times a BGSAVE while another
connection sends PING back to back, and prints the PING round trips seen while the BGSAVE ran:
the worst one is the longest the loop stalled.

    python3 bench/snapshot_stall.py build/bin/keyward-server [members]

Run it against two builds to compare them (docs/benchmarks.md). Keyward only: Redis forks, so
its loop never serialises a value.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
from keyward_harness import RawClient, encode_command, start_server  # noqa: E402

BATCH = 1000


def fill(client, members):
    """SADD bigset member-0 ... member-(members-1), 50 commands a write."""
    for start in range(0, members, BATCH * 50):
        starts = range(start, min(start + BATCH * 50, members), BATCH)
        client.send(b"".join(
            encode_command("SADD", "bigset", *["member-%d" % i
                                               for i in range(s, min(s + BATCH, members))])
            for s in starts))
        client.read_replies(len(starts))


def main():
    binary = os.path.abspath(sys.argv[1])
    members = int(sys.argv[2]) if len(sys.argv) > 2 else 3_000_000
    with start_server(binary, ["--save", ""], name="server") as srv:
        c = srv.client(timeout=60)
        fill(c, members)
        print("members", c.call("SCARD", "bigset").decode().strip())
        t0 = time.perf_counter()
        c.call("SAVE")
        print("SAVE (the whole set at once) %.0f ms" % ((time.perf_counter() - t0) * 1000))

        rtts = []
        stop = threading.Event()

        def pinger():
            pc = srv.client()
            while not stop.is_set():
                t = time.perf_counter()
                pc.call("PING")
                rtts.append(time.perf_counter() - t)

        thread = threading.Thread(target=pinger)
        thread.start()
        while len(rtts) < 100:  # the pinger is running
            time.sleep(0.001)
        first = len(rtts)
        t0 = time.perf_counter()
        c.call("BGSAVE")
        while b"rdb_bgsave_in_progress:1" in c.call("INFO", "persistence"):
            pass
        elapsed = time.perf_counter() - t0
        stop.set()
        thread.join()
        during = sorted(rtts[first:])
        print("BGSAVE %.0f ms; PINGs during it %d, slowest %.1f ms, p99 %.2f ms" %
              (elapsed * 1000, len(during), during[-1] * 1000,
               during[int(len(during) * 0.99)] * 1000))


if __name__ == "__main__":
    main()
