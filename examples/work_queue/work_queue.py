#!/usr/bin/env python3
"""A reliable work queue on a Keyward (or Redis) list, with redis-py and nothing else.

Producers LPUSH jobs onto `jobs`. A worker takes one with
`BLMOVE jobs processing:<worker> RIGHT LEFT <timeout>`: the job moves atomically to the
worker's own processing list, so it is never only in the worker's memory. When the job is done
the worker removes it with `LREM processing:<worker> 1 <job>`. A worker that dies mid-job leaves
the job in its processing list; `requeue(worker)` moves such jobs back onto `jobs`
(`LMOVE processing:<worker> jobs RIGHT RIGHT` until the list is empty), so every job is done at
least once. Waiting workers block in the server (no polling) and are woken in arrival order.

    python3 work_queue.py redis://127.0.0.1:6379 [jobs] [workers]

runs a producer and several worker threads, makes one worker crash after taking a job, requeues
its work, and prints a summary line per step.
"""

import sys
import threading

import redis

QUEUE = "jobs"


def processing(worker):
    return "processing:" + worker


def enqueue(r, jobs):
    """Adds jobs at the head; workers take from the tail (first in, first out)."""
    if jobs:
        r.lpush(QUEUE, *jobs)


def take(r, worker, timeout=1.0):
    """The next job, moved to the worker's processing list; None after `timeout` seconds."""
    job = r.blmove(QUEUE, processing(worker), timeout, "RIGHT", "LEFT")
    return None if job is None else job.decode()


def done(r, worker, job):
    """The job is finished: it leaves the processing list."""
    return r.lrem(processing(worker), 1, job)


def requeue(r, worker):
    """Moves what a dead worker was processing back to the front of the queue (the end workers
    take from). Returns the jobs moved."""
    moved = []
    while True:
        job = r.lmove(processing(worker), QUEUE, "RIGHT", "RIGHT")
        if job is None:
            return moved
        moved.append(job.decode())


def run_worker(url, worker, results, lock, crash_after=None):
    """Takes jobs until the queue stays empty for a second. With `crash_after`, stops without
    finishing its crash_after-th job, as a worker killed mid-job would."""
    r = redis.Redis.from_url(url)
    taken = 0
    try:
        while True:
            job = take(r, worker)
            if job is None:
                return
            taken += 1
            if crash_after is not None and taken == crash_after:
                return  # dies holding the job
            with lock:
                results.setdefault(job, []).append(worker)
            done(r, worker, job)
    finally:
        r.close()


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    r = redis.Redis.from_url(url)
    r.delete(QUEUE, *[processing("w%d" % i) for i in range(workers)])
    jobs = ["job:%d" % i for i in range(count)]
    results, lock = {}, threading.Lock()

    # The workers wait first: the queue is empty, so they block in the server.
    threads = [threading.Thread(target=run_worker,
                                args=(url, "w%d" % i, results, lock, 3 if i == 0 else None))
               for i in range(workers)]
    for t in threads:
        t.start()
    enqueue(r, jobs)
    print("enqueued %d jobs for %d workers" % (count, workers))
    for t in threads:
        t.join()

    stranded = r.lrange(processing("w0"), 0, -1)
    print("w0 crashed holding %d job(s)" % len(stranded))
    moved = requeue(r, "w0")
    print("requeued %d job(s)" % len(moved))
    run_worker(url, "rescuer", results, lock)

    missing = [j for j in jobs if j not in results]
    twice = [j for j, ws in results.items() if len(ws) > 1]
    print("done %d of %d jobs, missing %d, done twice %d" % (len(results), count, len(missing),
                                                             len(twice)))
    left = r.llen(QUEUE) + sum(r.llen(processing("w%d" % i)) for i in range(workers))
    print("left in lists: %d" % left)
    r.close()
    return 0 if not missing and left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
