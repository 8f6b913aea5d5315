#!/usr/bin/env python3
"""A fenced lock on Keyward from Python, with nothing but redis-py.

Two workers want to update order 42. Worker A takes the lock with a fencing token, writes, then
stalls (a GC pause, a slow disk) past the end of its lease. Worker B, blocked server-side in
LOCK.ACQUIRE ... WAIT, is handed the lock when A's lease ends, with a larger token. When A wakes
up and writes again, the write carries A's old token and Keyward refuses it: the stale holder
cannot overwrite B's work, although A still believes it holds the lock.

Usage: lock_example.py [redis://127.0.0.1:6379]
"""

import secrets
import sys

import redis
from redis.lock import Lock

RESOURCE = "orders:42"
STATUS = "orders:42:status"


def acquire(r, owner, ttl_ms, wait_ms):
    """LOCK.ACQUIRE with WAIT (block in the server's queue, woken by the release or expiry that
    hands the lock over) and FENCE (a fencing token in the same round trip). Returns the token,
    or None if the lock was not granted within wait_ms."""
    granted, token, _pttl = r.execute_command("LOCK.ACQUIRE", RESOURCE, owner, ttl_ms,
                                              "WAIT", wait_ms, "FENCE")
    return token if granted else None


def guarded_set(r, token, key, value):
    """SET through LOCK.GUARD: Keyward runs it only if no newer token has written already."""
    return r.execute_command("LOCK.GUARD", RESOURCE, token, "SET", key, value)


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379"
    worker_a = redis.Redis.from_url(url)
    worker_b = redis.Redis.from_url(url)
    # Owner values must be unique per acquisition: only the owner can extend or release.
    owner_a, owner_b = secrets.token_hex(20), secrets.token_hex(20)

    # A takes the lock for one second and writes under its token.
    token_a = acquire(worker_a, owner_a, ttl_ms=1000, wait_ms=5000)
    print("A holds %s with fencing token %d" % (RESOURCE, token_a))
    guarded_set(worker_a, token_a, STATUS, "packed by A")

    # The lock is an ordinary key: redis-py's own Lock on the same name is refused too.
    print("redis-py Lock while A holds it:",
          Lock(worker_b, RESOURCE).acquire(blocking=False))

    # A stalls and does not renew. B blocks in the server until A's lease ends.
    token_b = acquire(worker_b, owner_b, ttl_ms=10000, wait_ms=10000)
    print("B holds %s with fencing token %d (A's lease ended)" % (RESOURCE, token_b))
    guarded_set(worker_b, token_b, STATUS, "shipped by B")

    # A wakes up, still believing it holds the lock. Its write is refused...
    try:
        guarded_set(worker_a, token_a, STATUS, "packed again by A")
        print("A's stale write was accepted (this must not happen)")
    except redis.ResponseError as e:
        print("A's stale write refused:", e)
    # ...and so is its release, which would otherwise free B's lock.
    print("A releases:", worker_a.execute_command("LOCK.RELEASE", RESOURCE, owner_a))

    print("B releases:", worker_b.execute_command("LOCK.RELEASE", RESOURCE, owner_b))
    print("%s = %s" % (STATUS, worker_b.get(STATUS).decode()))
    worker_a.close()
    worker_b.close()


if __name__ == "__main__":
    main()
