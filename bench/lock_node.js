// node-redlock's side of the lock benchmark (compare_locks.py): npm `redlock` 5.0.0-beta.2 on
// `ioredis` 5, as pinned by tests/interop/node/package-lock.json (whose node_modules this script
// loads: run `npm ci` there first, or let tests/interop/test_node_redlock.py do it). Prints one
// JSON line with the same fields as keyward_lock_load's modes of the same name.
//
//   node bench/lock_node.js --addrs 127.0.0.1:7001,127.0.0.1:7002 --mode uncontended -n 5000
//
// Modes:
//   uncontended  One Redlock over N ioredis connections (retryCount 0: the lock is free). Each
//                iteration sends a PING to every instance in parallel on those connections (the
//                "PING round"), then redlock.acquire([resource], ttl) and lock.release(). Both
//                resolve once a quorum has answered, which is node-redlock's behaviour.
//   handoff      `--contenders` Redlocks, each with its own connections, take turns on one
//                resource: hold `--hold-ms`, release, and queue again once another contender holds
//                the lock (so every release finds contenders-1 waiters). Waiting is node-redlock's
//                own: retry every retryDelay +- retryJitter ms (its defaults, 200 and 100), with
//                retryCount -1 (no limit) so that nobody drops out. A hand-off is the time from
//                the start of the holder's release to a waiting contender's acquire() resolving.
//                Contenders start at random times within `--start-spread-ms` (default: the longest
//                retry delay); the `contenders` acquisitions after the last one started are not
//                counted, as in the other tools (the jitter alone would desynchronise them too).
// Plain CommonJS so that Debian 12's Node 18 runs it as well.
'use strict';

const path = require('node:path');
const { createRequire } = require('node:module');

const NODE_DIR = path.join(__dirname, '..', 'tests', 'interop', 'node');
const requireInterop = createRequire(path.join(NODE_DIR, 'package.json'));
const Redis = requireInterop('ioredis');
const { default: Redlock } = requireInterop('redlock');

function parseArgs(argv) {
  const args = {
    addrs: '',
    mode: 'uncontended',
    resource: '',
    iterations: 5000,
    ttl: 10000,
    contenders: 8,
    handoffs: 100,
    holdMs: 1,
    retryDelay: 200,
    retryJitter: 100,
    startSpread: -1,
  };
  const names = {
    '--addrs': 'addrs',
    '--mode': 'mode',
    '--resource': 'resource',
    '-n': 'iterations',
    '--ttl-ms': 'ttl',
    '--contenders': 'contenders',
    '--handoffs': 'handoffs',
    '--hold-ms': 'holdMs',
    '--retry-delay-ms': 'retryDelay',
    '--retry-jitter-ms': 'retryJitter',
    '--start-spread-ms': 'startSpread',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error('usage: node lock_node.js --addrs HOST:PORT[,...] ' +
                    `[--mode uncontended|handoff] [${Object.keys(names).join(' ')}]`);
      process.exit(2);
    }
    args[key] = typeof args[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  args.addrs = args.addrs.split(',').filter(Boolean).map((a) => {
    const i = a.lastIndexOf(':');
    return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
  });
  if (args.addrs.length === 0 || !['uncontended', 'handoff'].includes(args.mode)) {
    console.error('--addrs is required; --mode is uncontended or handoff');
    process.exit(2);
  }
  if (args.startSpread < 0) args.startSpread = args.retryDelay + args.retryJitter;
  return args;
}

const nowUs = () => Number(process.hrtime.bigint()) / 1000;

function percentile(samples, p) {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.floor((p / 100) * (sorted.length - 1))];
}

const opened = [];
function connect(args) {
  const clients = args.addrs.map((a) => new Redis({ host: a.host, port: a.port }));
  opened.push(...clients);
  return clients;
}

function newRedlock(clients, settings) {
  const redlock = new Redlock(clients, settings);
  // node-redlock emits every refused vote as an 'error' event; without a listener, EventEmitter
  // would throw it.
  redlock.on('error', () => {});
  return redlock;
}

async function uncontended(args) {
  const clients = connect(args);
  const redlock = newRedlock(clients, { retryCount: 0 });
  const resource = args.resource || 'bench:lock:uncontended';
  const warmup = Math.max(100, Math.floor(args.iterations / 100));
  const ping = [];
  const acquire = [];
  const acquireRelease = [];
  let lockUs = 0;
  for (let i = 0; i < warmup + args.iterations; ++i) {
    const t0 = nowUs();
    await Promise.all(clients.map((c) => c.ping()));
    const t1 = nowUs();
    const lock = await redlock.acquire([resource], args.ttl);
    const t3 = nowUs();
    await lock.release();
    const t4 = nowUs();
    if (i < warmup) continue;
    ping.push(t1 - t0);
    acquire.push(t3 - t1);
    acquireRelease.push(t4 - t1);
    lockUs += t4 - t1;
  }
  return {
    mode: 'uncontended',
    instances: args.addrs.length,
    iterations: args.iterations,
    ping_p50_us: percentile(ping, 50),
    ping_p99_us: percentile(ping, 99),
    acquire_p50_us: percentile(acquire, 50),
    acquire_p99_us: percentile(acquire, 99),
    acquire_release_p50_us: percentile(acquireRelease, 50),
    acquire_release_p99_us: percentile(acquireRelease, 99),
    acquire_release_per_s: args.iterations / (lockUs / 1e6),
  };
}

async function handoff(args) {
  const resource = args.resource || 'bench:lock:handoff';
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const state = {
    done: false,
    holder: -1,
    generation: 0,
    started: 0,
    warmupLeft: args.contenders,
    releaseStarted: null,
    wakeups: [],  // resolved at every acquisition
    handoffUs: [],
    waitUs: [],
    overlaps: 0,
    notWaiting: 0,
  };
  const taken = () => new Promise((resolve) => state.wakeups.push(resolve));
  const signalTaken = () => {
    const wakeups = state.wakeups;
    state.wakeups = [];
    for (const w of wakeups) w();
  };

  async function contender(id) {
    const redlock = newRedlock(connect(args), {
      retryCount: -1,
      retryDelay: args.retryDelay,
      retryJitter: args.retryJitter,
    });
    await sleep(Math.random() * args.startSpread);
    ++state.started;
    while (!state.done) {
      const called = nowUs();
      const lock = await redlock.acquire([resource], args.ttl);
      const held = nowUs();
      if (state.holder !== -1) ++state.overlaps;
      state.holder = id;
      ++state.generation;
      signalTaken();
      // Warm-up: until every contender has started, and then `contenders` more acquisitions.
      if (state.started === args.contenders && state.warmupLeft > 0) {
        --state.warmupLeft;
      } else if (!state.done && state.warmupLeft === 0) {
        state.waitUs.push(held - called);
        if (state.releaseStarted !== null && called < state.releaseStarted) {
          state.handoffUs.push(held - state.releaseStarted);
          if (state.handoffUs.length >= args.handoffs) state.done = true;
        } else if (state.releaseStarted !== null) {
          ++state.notWaiting;
        }
      }
      if (!state.done) await sleep(args.holdMs);
      state.holder = -1;
      state.releaseStarted = nowUs();
      // Read before the release: the next holder may be served before its reply.
      const generation = state.generation;
      await lock.release();
      // Queue again only once another contender holds the lock (or the run is over).
      while (!state.done && state.generation === generation) await taken();
    }
    signalTaken();  // the others may be waiting for an acquisition that will not come
  }

  const contenders = [];
  for (let i = 0; i < args.contenders; ++i) contenders.push(contender(i));
  await Promise.all(contenders);
  return {
    mode: 'handoff',
    instances: args.addrs.length,
    contenders: args.contenders,
    handoffs: state.handoffUs.length,
    hold_us: args.holdMs * 1000,
    handoff_p50_us: percentile(state.handoffUs, 50),
    handoff_p99_us: percentile(state.handoffUs, 99),
    handoff_max_us: percentile(state.handoffUs, 100),
    wait_p50_us: percentile(state.waitUs, 50),
    wait_max_us: percentile(state.waitUs, 100),
    overlaps: state.overlaps,
    not_waiting: state.notWaiting,
    retry_delay_ms: args.retryDelay,
    retry_jitter_ms: args.retryJitter,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    const result = args.mode === 'uncontended' ? await uncontended(args) : await handoff(args);
    console.log(JSON.stringify(result));
    if (result.overlaps) process.exitCode = 1;
  } finally {
    for (const c of opened) c.disconnect();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
