// node-redlock (npm `redlock` 5.0.0-beta.2 on `ioredis` 5) against keyward-server, unchanged:
// acquire/extend/release, `using` with automatic extension and its loss signal, contention among
// several Redlock instances, ResourceLockedError, and mutual exclusion with Keyward's native
// LOCK.* commands on the same key (the lock is an ordinary string key in both cases).
//
// Run by tests/interop/test_node_redlock.py, which starts the servers. Environment:
//   KEYWARD_ADDRS  comma-separated host:port list, one entry per independent keyward-server
//                  (1 for a single-instance Redlock, 3 for a 3-instance one).
//
// Plain node:test + node:assert, CommonJS, so that Debian 12's Node 18 runs it as well.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const Redis = require('ioredis');
const { default: Redlock, ExecutionError, ResourceLockedError } = require('redlock');

const ADDRS = (process.env.KEYWARD_ADDRS || '')
  .split(',')
  .filter(Boolean)
  .map((a) => {
    const i = a.lastIndexOf(':');
    return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
  });
if (ADDRS.length === 0) {
  throw new Error('KEYWARD_ADDRS must list the keyward-servers (host:port,host:port,...)');
}
const N = ADDRS.length;
const TEST_TIMEOUT = 60000;

// Every connection opened by a test, closed at the end so the process can exit (disconnect, not
// QUIT: a connection still blocked in a native WAIT after a failure would never answer it).
const opened = [];
function connect() {
  const clients = ADDRS.map((a) => new Redis({ host: a.host, port: a.port, lazyConnect: false }));
  opened.push(...clients);
  return clients;
}
after(() => {
  for (const c of opened) c.disconnect();
});

// One connection per instance for assertions and native commands.
let admin;
function adminClients() {
  if (!admin) admin = connect();
  return admin;
}

function resource(name) {
  return `interop:${name}:${crypto.randomBytes(6).toString('hex')}`;
}

// Polls `condition` until it is truthy: the only way these tests wait for another party.
async function waitFor(condition, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function onAll(fn) {
  return Promise.all(adminClients().map(fn));
}

// LOCK.ACQUIRE resource owner ttl [options...] -> { granted, token, pttl }.
async function nativeAcquire(client, res, owner, ttl, ...options) {
  const reply = await client.call('LOCK.ACQUIRE', res, owner, String(ttl), ...options);
  assert.ok(Array.isArray(reply) && reply.length === 3, `LOCK.ACQUIRE reply ${reply}`);
  const [granted, token, pttl] = reply;
  return { granted, token, pttl };
}

// LOCK.INFO's flat RESP2 array of pairs as an object.
async function nativeInfo(client, res) {
  const flat = await client.call('LOCK.INFO', res);
  const info = {};
  for (let i = 0; i < flat.length; i += 2) info[flat[i]] = flat[i + 1];
  return info;
}

// node-redlock settles an operation as soon as a majority of instances voted; the others' votes
// (and their writes) may still be in flight. A test that looks at every instance first waits for
// every vote of the operation's last attempt: `lock` is a Lock or what release() resolves to.
async function allVotes(lock) {
  const stats = await lock.attempts[lock.attempts.length - 1];
  assert.equal(stats.votesFor.size + stats.votesAgainst.size, N);
  return stats;
}

// Waits for every vote and checks that every instance voted for the operation.
async function everywhere(lock) {
  const stats = await allVotes(lock);
  assert.equal(stats.votesFor.size, N, `votes against: ${[...stats.votesAgainst.values()]}`);
  return lock;
}

// The per-client errors of the first attempt of a failed Redlock operation.
async function votesAgainst(error) {
  assert.ok(error instanceof ExecutionError, `expected ExecutionError, got ${error}`);
  const stats = await error.attempts[0];
  return [...stats.votesAgainst.values()];
}

test('acquire, extend and release', { timeout: TEST_TIMEOUT }, async () => {
  const redlock = new Redlock(connect(), { retryCount: 0 });
  const res = resource('basic');

  const lock = await everywhere(await redlock.acquire([res], 10000));
  assert.equal(lock.attempts.length, 1);
  for (const value of await onAll((c) => c.get(res))) assert.equal(value, lock.value);
  for (const pttl of await onAll((c) => c.pttl(res))) assert.ok(pttl > 0 && pttl <= 10000, pttl);
  assert.ok(lock.expiration > Date.now());

  const extended = await everywhere(await lock.extend(60000));
  assert.equal(extended.value, lock.value);
  assert.equal(lock.expiration, 0, 'extend invalidates the old Lock object');
  for (const pttl of await onAll((c) => c.pttl(res))) assert.ok(pttl > 10000, pttl);

  await everywhere(await extended.release());
  assert.deepEqual(await onAll((c) => c.exists(res)), Array(N).fill(0));
  await assert.rejects(extended.extend(10000), /already-expired/);

  // Free again: a new acquisition succeeds with a new value.
  const again = await redlock.acquire([res], 10000);
  assert.notEqual(again.value, lock.value);
  await again.release();
});

test('a held resource is refused with ResourceLockedError', { timeout: TEST_TIMEOUT }, async () => {
  const holder = new Redlock(connect(), { retryCount: 0 });
  const other = new Redlock(connect(), { retryCount: 0 });
  const emitted = [];
  other.on('error', (e) => emitted.push(e));
  const res = resource('held');

  const lock = await everywhere(await holder.acquire([res], 10000));
  const error = await other.acquire([res], 10000).then(
    () => assert.fail('acquired a held resource'),
    (e) => e,
  );
  const against = await votesAgainst(error);
  assert.equal(against.length, N);
  for (const e of against) assert.ok(e instanceof ResourceLockedError, `${e}`);
  assert.ok(emitted.some((e) => e instanceof ResourceLockedError));
  // The failed attempt's clean-up (a release with its own value) left the holder's lock alone.
  for (const value of await onAll((c) => c.get(res))) assert.equal(value, lock.value);

  // Releasing a lock that is gone (expired, or deleted) fails the same way.
  await everywhere(await lock.release());
  const stale = await holder.release(lock).then(
    () => assert.fail('released a lock twice'),
    (e) => e,
  );
  for (const e of await votesAgainst(stale)) assert.ok(e instanceof ResourceLockedError, `${e}`);
});

test('using extends the lock automatically', { timeout: TEST_TIMEOUT }, async () => {
  const redlock = new Redlock(connect(), { retryCount: 0, automaticExtensionThreshold: 1000 });
  const res = resource('using');
  // Counts the automatic extensions (Lock.extend calls Redlock.extend on its instance).
  let extensions = 0;
  const extend = redlock.extend.bind(redlock);
  redlock.extend = async (...args) => {
    const lock = await extend(...args);
    extensions += 1;
    return lock;
  };

  const result = await redlock.using([res], 1500, async (signal) => {
    // using() does not hand out its Lock: wait until every instance has the same value.
    const value = await waitFor(async () => {
      const values = await onAll((c) => c.get(res));
      return values.every((v) => v && v === values[0]) && values[0];
    }, 'the lock on every instance');
    await waitFor(() => extensions >= 2, 'two automatic extensions');
    assert.equal(signal.aborted, false);
    // Still ours on every instance, with a live TTL.
    for (const v of await onAll((c) => c.get(res))) assert.equal(v, value);
    for (const pttl of await onAll((c) => c.pttl(res))) assert.ok(pttl > 0, pttl);
    return 'done';
  });
  assert.equal(result, 'done');
  await waitFor(async () => (await onAll((c) => c.exists(res))).every((n) => n === 0),
    'the release on every instance');
});

test('using signals a lost lock, which a native holder then has', { timeout: TEST_TIMEOUT },
  async () => {
    const redlock = new Redlock(connect(), { retryCount: 0, automaticExtensionThreshold: 1000 });
    const res = resource('lost');
    let aborted;
    let routineError;
    const run = redlock.using([res], 1500, async (signal) => {
      try {
        await waitFor(async () => (await onAll((c) => c.exists(res))).every((n) => n === 1),
          'the lock on every instance');
        // The lock disappears (as after a restart without persistence); LOCK.ACQUIRE takes it.
        await onAll((c) => c.del(res));
        for (const r of await onAll((c) => nativeAcquire(c, res, 'intruder', 60000))) {
          assert.equal(r.granted, 1);
        }
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        aborted = signal.error;
      } catch (e) {
        routineError = e;
      }
    });
    // The routine ends after the abort; node-redlock's final release then fails too.
    await assert.rejects(run, ExecutionError);
    if (routineError) throw routineError;
    assert.ok(aborted instanceof ExecutionError, `${aborted}`);
    for (const v of await onAll((c) => c.get(res))) assert.equal(v, 'intruder');
    for (const ok of await onAll((c) => c.call('LOCK.RELEASE', res, 'intruder'))) {
      assert.equal(ok, 1);
    }
  });

test('contending Redlock instances exclude each other', { timeout: TEST_TIMEOUT }, async () => {
  const WORKERS = 4;
  const ROUNDS = 5;
  const res = resource('contention');
  const counter = `${res}:counter`;
  let holders = 0;
  let maxHolders = 0;
  let acquisitions = 0;
  let retried = 0; // acquisitions that needed more than one attempt

  // Every worker connects first; then all start together (see the `retried` check below).
  let start;
  const started = new Promise((resolve) => {
    start = resolve;
  });
  let connected = 0;

  async function worker() {
    const clients = connect();
    const redlock = new Redlock(clients, { retryCount: 2000, retryDelay: 10, retryJitter: 5 });
    await Promise.all(clients.map((c) => c.ping()));
    if (++connected === WORKERS) start();
    await started;
    for (let i = 0; i < ROUNDS; i++) {
      const lock = await redlock.acquire([res], 5000);
      holders += 1;
      maxHolders = Math.max(maxHolders, holders);
      acquisitions += 1;
      if (lock.attempts.length > 1) retried += 1;
      // A non-atomic read-modify-write: a second holder would lose an update.
      const value = Number((await clients[0].get(counter)) || 0);
      await clients[0].set(counter, String(value + 1));
      holders -= 1;
      await allVotes(await lock.release());
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker));

  assert.equal(maxHolders, 1);
  assert.equal(acquisitions, WORKERS * ROUNDS);
  // The workers' first attempts were all sent in one turn of the event loop, and each instance
  // grants one of them: at most one worker wins the first round, the others contended for real.
  assert.ok(retried >= WORKERS - 1, `only ${retried} acquisitions were contended`);
  assert.equal(await adminClients()[0].get(counter), String(WORKERS * ROUNDS));
  assert.deepEqual(await onAll((c) => c.exists(res)), Array(N).fill(0));
});

test('a native LOCK.ACQUIRE holder excludes node-redlock', { timeout: TEST_TIMEOUT }, async () => {
  const redlock = new Redlock(connect(), { retryCount: 0 });
  const res = resource('native-holds');

  for (const r of await onAll((c) => nativeAcquire(c, res, 'native-owner', 30000, 'FENCE'))) {
    assert.equal(r.granted, 1);
    assert.equal(r.pttl, 30000);
  }
  for (const v of await onAll((c) => c.get(res))) assert.equal(v, 'native-owner');

  const error = await redlock.acquire([res], 10000).then(
    () => assert.fail('node-redlock acquired a natively held lock'),
    (e) => e,
  );
  for (const e of await votesAgainst(error)) assert.ok(e instanceof ResourceLockedError, `${e}`);
  for (const v of await onAll((c) => c.get(res))) assert.equal(v, 'native-owner');

  for (const ok of await onAll((c) => c.call('LOCK.RELEASE', res, 'native-owner'))) {
    assert.equal(ok, 1);
  }
  const lock = await everywhere(await redlock.acquire([res], 10000));
  for (const v of await onAll((c) => c.get(res))) assert.equal(v, lock.value);
  await everywhere(await lock.release());
});

test('node-redlock excludes LOCK.ACQUIRE, and its release wakes a native waiter',
  { timeout: TEST_TIMEOUT }, async () => {
    const redlock = new Redlock(connect(), { retryCount: 0 });
    const res = resource('redlock-holds');
    const lock = await everywhere(await redlock.acquire([res], 30000));

    for (const r of await onAll((c) => nativeAcquire(c, res, 'native-owner', 10000))) {
      assert.equal(r.granted, 0);
      assert.ok(r.pttl > 0 && r.pttl <= 30000, `pttl ${r.pttl}`);
    }
    for (const r of await onAll((c) => nativeAcquire(c, res, 'native-owner', 10000, 'FENCE'))) {
      assert.equal(r.granted, 0);
    }
    assert.deepEqual(await onAll((c) => c.call('LOCK.RELEASE', res, 'native-owner')),
      Array(N).fill(0));
    assert.deepEqual(await onAll((c) => c.call('LOCK.EXTEND', res, 'native-owner', '10000')),
      Array(N).fill(0));
    for (const info of await onAll((c) => nativeInfo(c, res))) {
      assert.equal(info.owner, lock.value);
      assert.ok(info.pttl > 0, `pttl ${info.pttl}`);
    }

    // A native waiter on every instance, each on its own connection (it blocks).
    const waiters = connect();
    const waiting = waiters.map((c) => nativeAcquire(c, res, 'waiter', 10000, 'WAIT', '0'));
    const queued = async () =>
      (await onAll((c) => nativeInfo(c, res))).every((info) => info.waiters === 1);
    await waitFor(queued, 'the native waiters to queue');

    await lock.release();
    for (const r of await Promise.all(waiting)) {
      assert.equal(r.granted, 1);
      assert.equal(r.pttl, 10000);
    }
    for (const v of await onAll((c) => c.get(res))) assert.equal(v, 'waiter');
    assert.deepEqual(await onAll((c) => c.call('LOCK.RELEASE', res, 'waiter')), Array(N).fill(1));
  });

test('a minority held natively does not stop a quorum', {
  timeout: TEST_TIMEOUT,
  skip: N < 3 && 'needs at least 3 instances',
}, async () => {
  const redlock = new Redlock(connect(), { retryCount: 0 });
  const res = resource('quorum');
  const [first, ...rest] = adminClients();
  assert.equal((await nativeAcquire(first, res, 'native-owner', 30000)).granted, 1);

  const lock = await redlock.acquire([res], 10000);
  const stats = await allVotes(lock);
  assert.equal(stats.votesFor.size, N - 1);
  assert.ok(stats.votesAgainst.get([...redlock.clients][0]) instanceof ResourceLockedError);
  assert.equal(await first.get(res), 'native-owner');
  for (const c of rest) assert.equal(await c.get(res), lock.value);
  await allVotes(await lock.release());
  assert.equal(await first.get(res), 'native-owner', 'release left the native holder alone');

  // A native majority refuses node-redlock.
  const majority = Math.floor(N / 2) + 1;
  for (const c of rest.slice(0, majority - 1)) {
    assert.equal((await nativeAcquire(c, res, 'native-owner', 30000)).granted, 1);
  }
  await assert.rejects(redlock.acquire([res], 10000), ExecutionError);
  await onAll((c) => c.call('LOCK.RELEASE', res, 'native-owner'));
});
