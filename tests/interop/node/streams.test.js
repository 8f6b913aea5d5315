// ioredis 5's stream commands against keyward-server: XADD and XRANGE, XGROUP CREATE ... MKSTREAM
// and its errors, an XREADGROUP ... BLOCK served by an XADD from another connection, XACK and
// XPENDING, XCLAIM and XAUTOCLAIM, XINFO STREAM / GROUPS / CONSUMERS, XTRIM and XDEL.
//
// ioredis parses nothing for streams: a program gets Redis's nesting as JavaScript arrays (bulk
// strings as strings, integers as numbers, nil as null) and indexes into it, so the checks below
// are on that nesting, and on the order of the field names of XINFO's flat field/value lists.
// The expected values are Redis 7.0.15's.
//
// Run by tests/interop/test_stream_clients.py, which starts the server. Environment:
//   KEYWARD_ADDRS  host:port of the server under test.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');

const [host, port] = (process.env.KEYWARD_ADDRS || '').split(',')[0].split(':');
if (!port) throw new Error('KEYWARD_ADDRS must name the server (host:port)');
const HOUR_MS = 3600 * 1000;

// Every connection opened, closed at the end so that the process can exit (disconnect, not QUIT:
// a connection still blocked after a failure would never answer it).
const opened = [];
function connect() {
  const client = new Redis({ host, port: Number(port), lazyConnect: false });
  opened.push(client);
  return client;
}
after(() => opened.forEach((c) => c.disconnect()));

// Polls INFO clients until `n` clients are blocked: the only way this file waits for the server.
async function waitBlocked(control, n) {
  const deadline = Date.now() + 10000;  // only bounds a failing test
  for (;;) {
    const info = await control.info('clients');
    const m = /^blocked_clients:(\d+)\r?$/m.exec(info);
    if (m && Number(m[1]) === n) return;
    if (Date.now() > deadline) throw new Error(`never saw ${n} blocked client(s):\n${info}`);
  }
}

// A flat [name, value, name, value, ...] reply as an object.
function fields(flat) {
  assert.ok(Array.isArray(flat) && flat.length % 2 === 0, `not a field list: ${flat}`);
  const o = {};
  for (let i = 0; i < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}
const names = (flat) => flat.filter((_, i) => i % 2 === 0);

async function fill(r, key, n) {
  for (let i = 1; i <= n; i++) await r.xadd(key, `1-${i}`, 'f', `v${i}`);
}

test('xadd and xrange: IDs and [id, [field, value, ...]] entries', async () => {
  const r = connect();
  assert.equal(await r.xadd('n:s', '1-1', 'f', 'v1'), '1-1');
  assert.equal(await r.xadd('n:s', '1-*', 'f', 'v2', 'g', 'w'), '1-2');
  const auto = await r.xadd('n:s', '*', 'f', 'v3');
  assert.match(auto, /^\d+-\d+$/);
  await assert.rejects(r.xadd('n:s', '1-2', 'f', 'x'), (e) => e.message ===
    'ERR The ID specified in XADD is equal or smaller than the target stream top item');
  assert.equal(await r.xadd('n:none', 'NOMKSTREAM', '*', 'f', 'v'), null);
  assert.equal(await r.xlen('n:s'), 3);
  assert.deepEqual(await r.xrange('n:s', '-', '+', 'COUNT', 2),
    [['1-1', ['f', 'v1']], ['1-2', ['f', 'v2', 'g', 'w']]]);
  assert.deepEqual(await r.xrevrange('n:s', '+', '-', 'COUNT', 1), [[auto, ['f', 'v3']]]);
  assert.deepEqual(await r.xrange('n:missing', '-', '+'), []);
});

test('xgroup create mkstream, BUSYGROUP and NOGROUP', async () => {
  const r = connect();
  await assert.rejects(r.xgroup('CREATE', 'n:q', 'g', '$'), /requires the key to exist/);
  assert.equal(await r.xgroup('CREATE', 'n:q', 'g', '$', 'MKSTREAM'), 'OK');
  assert.equal(await r.type('n:q'), 'stream');
  await assert.rejects(r.xgroup('CREATE', 'n:q', 'g', '$'),
    (e) => e.message === 'BUSYGROUP Consumer Group name already exists');
  await assert.rejects(r.xreadgroup('GROUP', 'nope', 'c', 'STREAMS', 'n:q', '>'), (e) =>
    e.message === "NOGROUP No such key 'n:q' or consumer group 'nope' in XREADGROUP with GROUP "
      + 'option');
  assert.equal(await r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', 'n:q', '>'), null);
});

test('a blocked xreadgroup is served by an xadd from another connection', async () => {
  const control = connect();
  const consumer = connect();
  const producer = connect();
  await control.xgroup('CREATE', 'n:jobs', 'workers', '$', 'MKSTREAM');
  const read = consumer.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 10, 'BLOCK', 0,
    'STREAMS', 'n:jobs', '>');
  await waitBlocked(control, 1);
  assert.equal(await producer.xadd('n:jobs', '7-1', 'job', 'build'), '7-1');
  assert.deepEqual(await read, [['n:jobs', [['7-1', ['job', 'build']]]]]);
  assert.deepEqual(await control.xpending('n:jobs', 'workers'), [1, '7-1', '7-1', [['w1', '1']]]);
  assert.equal(await consumer.xack('n:jobs', 'workers', '7-1'), 1);
  assert.deepEqual(await control.xpending('n:jobs', 'workers'), [0, null, null, null]);
  // A BLOCK that expires answers nil.
  assert.equal(await consumer.xreadgroup('GROUP', 'workers', 'w1', 'BLOCK', 1,
    'STREAMS', 'n:jobs', '>'), null);
});

test('xack and xpending, summary and extended', async () => {
  const r = connect();
  await fill(r, 'n:p', 4);
  await r.xgroup('CREATE', 'n:p', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 3, 'STREAMS', 'n:p', '>');
  await r.xreadgroup('GROUP', 'g', 'bob', 'STREAMS', 'n:p', '>');
  assert.deepEqual(await r.xpending('n:p', 'g'),
    [4, '1-1', '1-4', [['alice', '3'], ['bob', '1']]]);
  const detail = await r.xpending('n:p', 'g', '-', '+', 10);
  assert.deepEqual(detail.map((d) => [d[0], d[1], d[3]]),
    [['1-1', 'alice', 1], ['1-2', 'alice', 1], ['1-3', 'alice', 1], ['1-4', 'bob', 1]]);
  detail.forEach((d) => assert.equal(typeof d[2], 'number'));
  assert.deepEqual((await r.xpending('n:p', 'g', '-', '+', 10, 'bob')).map((d) => d[0]), ['1-4']);
  assert.deepEqual(await r.xpending('n:p', 'g', 'IDLE', HOUR_MS, '-', '+', 10), []);
  assert.equal(await r.xack('n:p', 'g', '1-1', '1-4', '9-9'), 2);
  assert.deepEqual(await r.xpending('n:p', 'g'), [2, '1-2', '1-3', [['alice', '2']]]);
});

test('xclaim and xautoclaim', async () => {
  const r = connect();
  await fill(r, 'n:c', 4);
  await r.xgroup('CREATE', 'n:c', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 'n:c', '>');
  assert.deepEqual(await r.xclaim('n:c', 'g', 'bob', HOUR_MS, '1-1'), []);
  assert.deepEqual(await r.xclaim('n:c', 'g', 'bob', 0, '1-1'), [['1-1', ['f', 'v1']]]);
  assert.deepEqual(await r.xclaim('n:c', 'g', 'bob', 0, '1-2', 'JUSTID'), ['1-2']);
  assert.deepEqual((await r.xpending('n:c', 'g', '-', '1-2', 10)).map((d) => [d[0], d[1], d[3]]),
    [['1-1', 'bob', 2], ['1-2', 'bob', 1]]);
  await r.xdel('n:c', '1-3');
  // [next cursor, claimed entries, IDs deleted from the stream (dropped from the PEL)]
  assert.deepEqual(await r.xautoclaim('n:c', 'g', 'carol', 0, '0-0', 'COUNT', 2),
    ['1-3', [['1-1', ['f', 'v1']], ['1-2', ['f', 'v2']]], []]);
  assert.deepEqual(await r.xautoclaim('n:c', 'g', 'carol', 0, '1-3', 'JUSTID'),
    ['0-0', ['1-4'], ['1-3']]);
  // min-idle-time: only the entry made idle for an hour by XCLAIM IDLE.
  await r.xclaim('n:c', 'g', 'carol', 0, '1-2', 'IDLE', HOUR_MS, 'JUSTID');
  assert.deepEqual(await r.xautoclaim('n:c', 'g', 'dave', HOUR_MS, '0-0'),
    ['0-0', [['1-2', ['f', 'v2']]], []]);
});

test('xinfo stream, groups and consumers: field names in order, values', async () => {
  const r = connect();
  await fill(r, 'n:i', 3);
  await r.xgroup('CREATE', 'n:i', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', 'n:i', '>');

  const stream = await r.xinfo('STREAM', 'n:i');
  assert.deepEqual(names(stream), ['length', 'radix-tree-keys', 'radix-tree-nodes',
    'last-generated-id', 'max-deleted-entry-id', 'entries-added', 'recorded-first-entry-id',
    'groups', 'first-entry', 'last-entry']);
  const s = fields(stream);
  assert.equal(typeof s['radix-tree-keys'], 'number');
  assert.equal(typeof s['radix-tree-nodes'], 'number');
  assert.deepEqual([s.length, s['last-generated-id'], s['max-deleted-entry-id'],
    s['entries-added'], s['recorded-first-entry-id'], s.groups, s['first-entry'],
    s['last-entry']],
  [3, '1-3', '0-0', 3, '1-1', 1, ['1-1', ['f', 'v1']], ['1-3', ['f', 'v3']]]);

  const groups = await r.xinfo('GROUPS', 'n:i');
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0], ['name', 'g', 'consumers', 1, 'pending', 2,
    'last-delivered-id', '1-2', 'entries-read', 2, 'lag', 1]);

  const consumers = await r.xinfo('CONSUMERS', 'n:i', 'g');
  assert.equal(consumers.length, 1);
  assert.deepEqual(names(consumers[0]), ['name', 'pending', 'idle']);
  assert.deepEqual([fields(consumers[0]).name, fields(consumers[0]).pending], ['alice', 2]);
  assert.equal(typeof fields(consumers[0]).idle, 'number');

  const full = fields(await r.xinfo('STREAM', 'n:i', 'FULL'));
  assert.deepEqual(full.entries,
    [['1-1', ['f', 'v1']], ['1-2', ['f', 'v2']], ['1-3', ['f', 'v3']]]);
  const group = fields(full.groups[0]);
  assert.deepEqual(names(full.groups[0]), ['name', 'last-delivered-id', 'entries-read', 'lag',
    'pel-count', 'pending', 'consumers']);
  assert.deepEqual(group.pending.map((p) => [p[0], p[1], p[3]]),
    [['1-1', 'alice', 1], ['1-2', 'alice', 1]]);
  const consumer = fields(group.consumers[0]);
  assert.deepEqual(names(group.consumers[0]), ['name', 'seen-time', 'pel-count', 'pending']);
  assert.deepEqual(consumer.pending.map((p) => [p[0], p[2]]), [['1-1', 1], ['1-2', 1]]);
});

test('xtrim and xdel', async () => {
  const r = connect();
  await fill(r, 'n:t', 10);
  assert.equal(await r.xtrim('n:t', 'MAXLEN', '=', 7), 3);
  assert.equal(await r.xtrim('n:t', 'MINID', '=', '1-6'), 2);
  assert.deepEqual((await r.xrange('n:t', '-', '+')).map((e) => e[0]),
    ['1-6', '1-7', '1-8', '1-9', '1-10']);
  // A bare millisecond time is <ms>-0: every entry of millisecond 1 is below 2.
  assert.equal(await r.xtrim('n:t', 'MINID', 2), 5);
  assert.equal(await r.xlen('n:t'), 0);
  await fill(r, 'n:d', 4);
  assert.equal(await r.xdel('n:d', '1-1', '1-3', '9-9'), 2);
  assert.deepEqual(await r.xrange('n:d', '-', '+'), [['1-2', ['f', 'v2']], ['1-4', ['f', 'v4']]]);
  assert.equal(fields(await r.xinfo('STREAM', 'n:d'))['max-deleted-entry-id'], '1-3');
  // A pending entry deleted from the stream: the history gives [id, null].
  await r.xgroup('CREATE', 'n:d', 'g', '0');
  await r.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', 'n:d', '>');
  await r.xdel('n:d', '1-2');
  assert.deepEqual(await r.xreadgroup('GROUP', 'g', 'alice', 'STREAMS', 'n:d', '0'),
    [['n:d', [['1-2', null]]]]);
});
