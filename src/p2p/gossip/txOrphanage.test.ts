import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashToHex } from '../../primitives/hex.js';
import { computeTxid } from '../../primitives/tx.js';
import { buildSpend, coinsOf, makeTestKey, type SpendableCoin } from '../../testing/txFactory.js';
import { TxOrphanage } from './txOrphanage.js';
import { decodeTxid } from '../../primitives/identity.js';
import type { Txid } from '../../primitives/types.js';

const key = makeTestKey(31);
const funding: SpendableCoin = { outpoint: { txid: decodeTxid(new Uint8Array(32).fill(9)), index: 0 }, output: { value: 1_000_000n, scriptPubKey: key.scriptPubKey }, key };
const parent = buildSpend([funding], { key, valueSats: 500_000n }, 1_000n).tx;
const parentTxid = computeTxid(parent);
const [c0, c1] = coinsOf(parent, key);
const child = buildSpend([c0!], { key, valueSats: 100_000n }, 1_000n).tx;
const child2 = buildSpend([c1!], { key, valueSats: 100_000n }, 1_000n).tx;
const txid = (tx: typeof child): Txid => computeTxid(tx);

test('orphans are handed back when their parent is known, once', () => {
  const pool = new TxOrphanage();
  pool.add(child, txid(child), 'peerA');
  pool.add(child2, txid(child2), 'peerB');
  pool.add(child, txid(child), 'peerB');
  assert.equal(pool.size, 2);
  assert.deepEqual(pool.takeChildrenOf(decodeTxid(new Uint8Array(32))), []);
  const back = pool.takeChildrenOf(parentTxid);
  assert.deepEqual(back.map((o) => [hashToHex(o.txid), o.fromPeer]).sort(), [[hashToHex(txid(child)), 'peerA'], [hashToHex(txid(child2)), 'peerB']].sort());
  assert.equal(pool.size, 0);
  assert.deepEqual(pool.takeChildrenOf(parentTxid), []);
});

test('bounded: past the limit the oldest goes; after the expiry everything goes', () => {
  let now = 0;
  const pool = new TxOrphanage(1, 1000, () => now);
  pool.add(child, txid(child), 'p');
  pool.add(child2, txid(child2), 'p');
  assert.equal(pool.size, 1);
  assert.equal(pool.has(txid(child)), false);
  assert.equal(pool.has(txid(child2)), true);
  now = 5000;
  pool.add(child, txid(child), 'p');
  assert.equal(pool.has(txid(child2)), false, 'expired on the next add');
  assert.deepEqual(pool.takeChildrenOf(parentTxid).map((o) => o.txid), [txid(child)]);
});
