import { test } from 'node:test';
import assert from 'node:assert/strict';
import { START_HEIGHT, makeHarness, pay, txidOf } from '../testing/mempoolHarness.js';
import { hashToHex } from '../primitives/hex.js';


test('harness: funded coins are spendable by real signed txs the mempool accepts', async () => {
  const h = makeHarness();
  const coin = h.fund(100_000n);
  const { tx } = pay([coin], 1_000n);
  const result = await h.mempool.acceptTransaction(tx);
  assert.equal(hashToHex(result.txid), txidOf(tx));
  assert.deepEqual(h.added, [txidOf(tx)]);
  const block = h.connect([tx]);
  assert.equal(h.mempool.size, 0);
  assert.deepEqual(h.removed, [{ txid: txidOf(tx), reason: 'block' }]);
  h.disconnect(block);
  assert.ok(h.view.getCoin(coin.outpoint), 'disconnect restores the spent coin');
  assert.equal(h.state.tipHeight, START_HEIGHT);
});
