// ioredis 5's Sentinel support against keyward sentinels: it finds the master through them, and
// after the master is killed its next commands reach the promoted replica (the value written
// before, replicated, is still there).
//
// Run by tests/interop/test_sentinel_clients.py, which starts the servers. Environment:
//   KEYWARD_SENTINELS    host:port of each sentinel, comma-separated
//   KEYWARD_MASTER_PID   the master's pid (this test kills it)
//   KEYWARD_MASTER_PORT  its port
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');

const sentinels = (process.env.KEYWARD_SENTINELS || '').split(',').filter(Boolean).map((a) => {
  const [host, port] = a.split(':');
  return { host, port: Number(port) };
});
if (sentinels.length === 0) throw new Error('KEYWARD_SENTINELS must name the sentinels');
const masterPid = Number(process.env.KEYWARD_MASTER_PID);
const masterPort = process.env.KEYWARD_MASTER_PORT;

const tcpPort = async (r) => (await r.info('server')).match(/tcp_port:(\d+)/)[1];

test('ioredis follows a failover done by keyward sentinels', async () => {
  const r = new Redis({
    sentinels,
    name: 'mymaster',
    sentinelRetryStrategy: () => 50,
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
  });
  try {
    await r.set('sentinel:k', 'before');
    assert.equal(await tcpPort(r), masterPort);
    assert.equal(await r.wait(1, 5000), 1);
    process.kill(masterPid, 'SIGKILL');
    // Commands wait for the reconnection, which asks the sentinels until they name the new
    // master.
    await r.set('sentinel:after', 'yes');
    assert.notEqual(await tcpPort(r), masterPort);
    assert.equal(await r.get('sentinel:k'), 'before');
    assert.equal((await r.role())[0], 'master');
  } finally {
    r.disconnect();
  }
});
