// ioredis 5's transaction API against keyward-server: multi() ... exec() with its per-command
// [error, result] pairs, a command refused while queueing (EXECABORT rejects the exec), a
// runtime error that does not stop the others, watch() with a conflicting write (exec resolves
// to null), and a pipeline-wrapped multi that mixes both.
//
// Run by tests/interop/test_transaction_clients.py, which starts the server. Environment:
//   KEYWARD_ADDRS  host:port of one keyward-server.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');

const [host, port] = (process.env.KEYWARD_ADDRS || '').split(',')[0].split(':');
if (!port) throw new Error('KEYWARD_ADDRS must name the keyward-server (host:port)');
const opened = [];
function connect() {
  const client = new Redis({ host, port: Number(port), lazyConnect: false });
  opened.push(client);
  return client;
}
after(() => opened.forEach((c) => c.disconnect()));

test('multi/exec returns each command\'s result in order', async () => {
  const r = connect();
  await r.del('tx:a');
  const res = await r.multi().set('tx:a', '1').incr('tx:a').get('tx:a').exec();
  assert.deepEqual(res, [[null, 'OK'], [null, 2], [null, '2']]);
});

test('a runtime error inside exec does not stop the other commands', async () => {
  const r = connect();
  await r.set('tx:s', 'text');
  const res = await r.multi().incr('tx:s').set('tx:b', 'x').exec();
  assert.match(res[0][0].message, /ERR value is not an integer or out of range/);
  assert.deepEqual(res[1], [null, 'OK']);
  assert.equal(await r.get('tx:b'), 'x');
});

test('a command refused while queueing aborts the whole transaction', async () => {
  const r = connect();
  await r.del('tx:c');
  const tx = r.multi().set('tx:c', '1');
  tx.call('get');  // wrong number of arguments: refused while queueing
  await assert.rejects(tx.exec(), /EXECABORT Transaction discarded because of previous errors/);
  assert.equal(await r.exists('tx:c'), 0);
});

test('watch: a conflicting write makes exec resolve to null and nothing runs', async () => {
  const r = connect();
  const other = connect();
  await r.set('tx:w', '1');
  await r.watch('tx:w');
  await other.set('tx:w', 'theirs');
  const res = await r.multi().set('tx:w', 'mine').exec();
  assert.equal(res, null);
  assert.equal(await r.get('tx:w'), 'theirs');
  // Without a conflict the same sequence goes through (exec unwatched the key).
  await r.watch('tx:w');
  assert.deepEqual(await r.multi().set('tx:w', 'mine').exec(), [[null, 'OK']]);
  assert.equal(await r.get('tx:w'), 'mine');
});

test('optimistic increments from several clients lose no update', async () => {
  const clients = [connect(), connect(), connect(), connect()];
  await clients[0].set('tx:n', '0');
  const PER = 50;

  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < PER; i++) {
      for (;;) {
        await c.watch('tx:n');
        const n = Number(await c.get('tx:n'));
        const res = await c.multi().set('tx:n', String(n + 1)).exec();
        if (res !== null) break;

      }
    }
  }));
  assert.equal(Number(await clients[0].get('tx:n')), clients.length * PER);
});
