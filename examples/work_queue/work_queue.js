// The reliable work queue of work_queue.py, from Node.js with ioredis: producers LPUSH onto
// `jobs`, workers take with BLMOVE jobs processing:<worker> RIGHT LEFT <timeout> and finish with
// LREM; a dead worker's processing list is moved back with LMOVE.
//
//   NODE_PATH=<dir with ioredis> node work_queue.js redis://127.0.0.1:6379 [jobs] [workers]
'use strict';
const Redis = require('ioredis');

const QUEUE = 'jobs';
const processing = (worker) => `processing:${worker}`;

async function take(r, worker, timeoutSeconds = 1) {
  return r.blmove(QUEUE, processing(worker), 'RIGHT', 'LEFT', timeoutSeconds);
}

async function requeue(r, worker) {
  const moved = [];
  for (;;) {
    const job = await r.lmove(processing(worker), QUEUE, 'RIGHT', 'RIGHT');
    if (job === null) return moved;
    moved.push(job);
  }
}

// Takes jobs until the queue stays empty for a second; with crashAfter, quits holding its
// crashAfter-th job, as a worker killed mid-job would.
async function runWorker(url, worker, results, crashAfter) {
  const r = new Redis(url);
  let taken = 0;
  try {
    for (;;) {
      const job = await take(r, worker);
      if (job === null) return;
      taken += 1;
      if (crashAfter !== undefined && taken === crashAfter) return;
      (results[job] = results[job] || []).push(worker);
      await r.lrem(processing(worker), 1, job);
    }
  } finally {
    r.disconnect();
  }
}

async function main() {
  const url = process.argv[2] || 'redis://127.0.0.1:6379';
  const count = Number(process.argv[3] || 200);
  const workers = Number(process.argv[4] || 4);
  const r = new Redis(url);
  await r.del(QUEUE, ...Array.from({ length: workers }, (_, i) => processing(`w${i}`)));
  const jobs = Array.from({ length: count }, (_, i) => `job:${i}`);
  const results = {};
  const running = Array.from({ length: workers }, (_, i) =>
    runWorker(url, `w${i}`, results, i === 0 ? 3 : undefined));
  await r.lpush(QUEUE, ...jobs);
  console.log(`enqueued ${count} jobs for ${workers} workers`);
  await Promise.all(running);
  const stranded = await r.lrange(processing('w0'), 0, -1);
  console.log(`w0 crashed holding ${stranded.length} job(s)`);
  const moved = await requeue(r, 'w0');
  console.log(`requeued ${moved.length} job(s)`);
  await runWorker(url, 'rescuer', results);
  const missing = jobs.filter((j) => !(j in results));
  const twice = Object.values(results).filter((ws) => ws.length > 1);
  console.log(`done ${Object.keys(results).length} of ${count} jobs, missing ${missing.length}, ` +
              `done twice ${twice.length}`);
  let left = await r.llen(QUEUE);
  for (let i = 0; i < workers; i++) left += await r.llen(processing(`w${i}`));
  console.log(`left in lists: ${left}`);
  r.disconnect();
  return missing.length === 0 && left === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(2); });
