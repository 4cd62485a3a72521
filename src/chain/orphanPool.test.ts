import assert from 'node:assert/strict';
import { it } from 'node:test';
import { regtest } from '../params/networks.js';
import { hashToHex } from '../primitives/hex.js';
import { decodeBlockHash } from '../primitives/identity.js';
import type { BlockHash } from '../primitives/types.js';
import { OrphanPool, type OrphanBlock } from './orphanPool.js';

/** A distinct 32-byte hash per one-letter name. */
const h = (name: string): BlockHash => decodeBlockHash(new Uint8Array(32).fill(name.charCodeAt(0)));
const name = (hash: BlockHash): string => String.fromCharCode(hash[0]!);

const orphan = (hash: string, prev: string, sizeBytes = 100): OrphanBlock => ({
  block: regtest.genesis,
  hash: h(hash),
  prevBlock: h(prev),
  sizeBytes,
});

it('OrphanPool: evicts the oldest by count and by bytes, indexes by parent, finds the root of a run', () => {
  const pool = new OrphanPool({ maxBlocks: 3, maxBytes: 250 });
  assert.deepEqual(pool.add(orphan('b', 'a')), { added: true, evicted: [] });
  assert.deepEqual(pool.add(orphan('c', 'b')), { added: true, evicted: [] });
  assert.equal(name(pool.getRoot(h('c'))!.hash), 'b', 'c waits for b, which waits for a');
  assert.deepEqual(pool.add(orphan('x', 'b')), { added: true, evicted: [h('b')] }, 'bytes 300 > 250: oldest out');
  assert.equal(pool.sizeBytes, 200);
  assert.deepEqual(pool.add(orphan('y', 'q', 10)), { added: true, evicted: [] });
  assert.deepEqual(pool.add(orphan('z', 'q', 10)), { added: true, evicted: [h('c')] }, 'count 4 > 3: oldest out');
  assert.deepEqual(pool.add(orphan('B', 'q', 251)), { added: false, evicted: [] });
  assert.deepEqual(pool.add(orphan('y', 'q', 10)), { added: false, evicted: [] }, 'already held');
  assert.equal(pool.has(decodeBlockHash(h('y'))), true, 'found by value, not by array identity');
  assert.equal(hashToHex(pool.get(h('y'))!.hash), hashToHex(h('y')));
  assert.deepEqual(pool.takeChildren(h('b')).map((o) => name(o.hash)), ['x']);
  assert.deepEqual(pool.takeChildren(h('q')).map((o) => name(o.hash)), ['y', 'z']);
  assert.equal(pool.size, 0);
  assert.equal(pool.sizeBytes, 0);
});
