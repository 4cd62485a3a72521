import assert from 'node:assert/strict';
import { it } from 'node:test';
import { regtest } from '../params/networks.js';
import { OrphanPool, type OrphanBlock } from './orphanPool.js';

const orphan = (hashHex: string, prevHex: string, sizeBytes = 100): OrphanBlock => ({
  block: regtest.genesis,
  hashHex,
  prevHex,
  sizeBytes,
});

it('OrphanPool: evicts the oldest by count and by bytes, indexes by parent, finds the root of a run', () => {
  const pool = new OrphanPool({ maxBlocks: 3, maxBytes: 250 });
  assert.deepEqual(pool.add(orphan('b', 'a')), { added: true, evicted: [] });
  assert.deepEqual(pool.add(orphan('c', 'b')), { added: true, evicted: [] });
  assert.equal(pool.getRoot('c')?.hashHex, 'b', 'c waits for b, which waits for a');
  assert.deepEqual(pool.add(orphan('x', 'b')), { added: true, evicted: ['b'] }, 'bytes 300 > 250: oldest out');
  assert.equal(pool.sizeBytes, 200);
  assert.deepEqual(pool.add(orphan('y', 'q', 10)), { added: true, evicted: [] });
  assert.deepEqual(pool.add(orphan('z', 'q', 10)), { added: true, evicted: ['c'] }, 'count 4 > 3: oldest out');
  assert.deepEqual(pool.add(orphan('big', 'q', 251)), { added: false, evicted: [] });
  assert.deepEqual(pool.add(orphan('y', 'q', 10)), { added: false, evicted: [] }, 'already held');
  assert.deepEqual(pool.takeChildren('b').map((o) => o.hashHex), ['x']);
  assert.deepEqual(pool.takeChildren('q').map((o) => o.hashHex), ['y', 'z']);
  assert.equal(pool.size, 0);
  assert.equal(pool.sizeBytes, 0);
});
