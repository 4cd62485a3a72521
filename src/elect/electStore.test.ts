import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkElectBlock, NULL_HASH_HEX, type ElectBlock } from './block.js';
import { ElectError } from './electError.js';
import { ElectStore } from './electStore.js';
import { createGenesis } from './genesis.js';

const dir = mkdtempSync(join(tmpdir(), 'cairn-elect-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { genesis } = createGenesis({ peers: 3, minZeroBits: 4, maxZeroBits: 8, initialZeroBits: 4 });

function solve(height: number, prevHash: string, miner: number): { block: ElectBlock; hash: string } {
  for (let nonce = 0; ; nonce++) {
    const block = { height, prevHash, term: 1, leader: 0, zeroBits: 4, txs: [], timeSec: 1, miner, nonce };
    try {
      return { block, hash: checkElectBlock(genesis, block) };
    } catch {
      // next nonce
    }
  }
}

test('store: commits only the next height on the tip, refuses a second block at a height, and reopens with chain, vote and accepted block', () => {
  const path = join(dir, 'elect.sqlite');
  const store = ElectStore.open(path);
  const cert = (hash: string) => ({ term: 1, blockHash: hash, votes: [] });
  const b1 = solve(1, NULL_HASH_HEX, 0);
  assert.equal(store.commit({ block: b1.block, certificate: cert(b1.hash) }, b1.hash, 50n, 12, 1000), true);
  assert.equal(store.commit({ block: b1.block, certificate: cert(b1.hash) }, b1.hash, 50n, 12, 1000), false, 'a repeat is not a second commit');
  const other = solve(1, NULL_HASH_HEX, 1);
  assert.throws(() => store.commit({ block: other.block, certificate: cert(other.hash) }, other.hash, 50n, undefined, 1001), (e: unknown) => e instanceof ElectError && e.code === 'conflicting-commit');
  const skip = solve(3, b1.hash, 1);
  assert.throws(() => store.commit({ block: skip.block, certificate: cert(skip.hash) }, skip.hash, 50n, undefined, 1001), (e: unknown) => e instanceof ElectError && e.code === 'bad-height');
  const wrongPrev = solve(2, 'ab'.repeat(32), 1);
  assert.throws(() => store.commit({ block: wrongPrev.block, certificate: cert(wrongPrev.hash) }, wrongPrev.hash, 50n, undefined, 1001), (e: unknown) => e instanceof ElectError && e.code === 'bad-prevblk');
  const b2 = solve(2, b1.hash, 2);
  store.setElectionDurable({ term: 7, votedFor: 2 });
  store.setAccepted({ height: 2, term: 7, hash: b2.hash, block: b2.block });
  store.recordRefused({ code: 'bad-signature', from: 1, type: 'blockVote', reason: 'forged', atMs: 5 });
  store.close();

  const again = ElectStore.open(path);
  assert.equal(again.getTip()?.hash, b1.hash);
  assert.deepEqual(again.getElectionDurable(), { term: 7, votedFor: 2 });
  assert.equal(again.getAccepted()?.hash, b2.hash);
  assert.deepEqual(again.countRefused(), { 'bad-signature': 1 });
  again.commit({ block: b2.block, certificate: cert(b2.hash) }, b2.hash, 50n, undefined, 2000);
  assert.equal(again.getAccepted(), undefined, 'committing the accepted height clears it');
  assert.deepEqual([...again.getBalances()].sort(), [[0, 50n], [2, 50n]]);
  assert.deepEqual(again.getBlocks(1, 10).map((b) => b.hash), [b1.hash, b2.hash]);
  again.close();
});

test('store: with the 2/3 lock, another block cannot replace the accepted one at its height; the same block in a later term can', () => {
  const store = ElectStore.open(':memory:');
  try {
    const block = { height: 1, prevHash: '0'.repeat(64), term: 1, leader: 0, zeroBits: 4, txs: [], timeSec: 1, miner: 0, nonce: 0 };
    store.setAccepted({ height: 1, term: 1, hash: 'aa'.repeat(32), block }, { lock: true });
    assert.throws(() => store.setAccepted({ height: 1, term: 2, hash: 'bb'.repeat(32), block }, { lock: true }), (e: unknown) => e instanceof ElectError && e.code === 'locked');
    assert.equal(store.getAccepted()?.hash, 'aa'.repeat(32));
    store.setAccepted({ height: 1, term: 3, hash: 'aa'.repeat(32), block }, { lock: true });
    assert.equal(store.getAccepted()?.term, 3);
    // without the lock (majority quorum: Raft's rule), a later term replaces it
    store.setAccepted({ height: 1, term: 4, hash: 'bb'.repeat(32), block });
    assert.equal(store.getAccepted()?.hash, 'bb'.repeat(32));
  } finally {
    store.close();
  }
});
