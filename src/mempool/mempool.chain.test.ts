/**
 * The mempool following the chain: removeForBlock (confirmed and conflicting txs), addDisconnectedTxs after a reorg
 * in both call orders (re-add before or after the new branch is connected), and expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeTxid } from '../primitives/tx.js';
import type { SpendableCoin } from '../testing/txFactory.js';
import { ALICE, BOB, makeHarness, pay, START_MTP, txidOf } from '../testing/mempoolHarness.js';
import { hashToHex } from '../primitives/hex.js';

test('removeForBlock: confirmed txs leave (their children stay), conflicting txs leave with their descendants', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const c2 = h.fund(100_000n);
  const a = pay([c1], 1_000n);
  const a2 = pay([a.coin], 2_000n);
  const b = pay([c2], 1_000n);
  const b2 = pay([b.coin], 1_000n);
  for (const t of [a, a2, b, b2]) await h.mempool.acceptTransaction(t.tx);
  const d = pay([c2], 500n, { key: BOB });
  h.connect([a.tx, d.tx]);

  assert.deepEqual(h.removed, [
    { txid: txidOf(a.tx), reason: 'block' },
    ...[b, b2].map((t) => ({ txid: txidOf(t.tx), reason: 'conflict' as const })),
  ]);
  assert.equal(h.mempool.size, 1);
  const child = h.mempool.get(computeTxid(a2.tx))!;
  assert.equal(child.ancestorCount, 1);
  assert.equal(child.ancestorFees, 2_000n);
  assert.equal(child.ancestorSize, child.vsize);
  assert.equal(h.mempool.totalFees, 2_000n);
  assert.equal(h.mempool.getSpender(c2.outpoint), undefined);
});

test('reorg (re-add before connecting the new branch): valid txs return, linked to mempool children; invalid ones drop', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const t1 = pay([c1], 1_000n);
  const t2 = pay([t1.coin], 1_000n);
  const cheap = pay([h.fund(100_000n)], 50n); // below the min relay fee: only a block could confirm it
  const timeLocked = pay([h.fund(100_000n)], 1_000n, { locktime: START_MTP - 10 });
  const block = h.connect([t1.tx, t2.tx, cheap.tx, timeLocked.tx]);
  const m = pay([t2.coin], 3_000n);
  await h.mempool.acceptTransaction(m.tx);
  const q = pay([h.fund(100_000n)], 1_000n, { locktime: START_MTP - 10 });
  await h.mempool.acceptTransaction(q.tx);

  // The branch being disconnected had a higher median-time-past: the time locks no longer pass.
  h.disconnect(block);
  h.state.mtp = START_MTP - 100;
  await h.mempool.addDisconnectedTxs([timeLocked.tx, cheap.tx, t2.tx, t1.tx]);

  assert.ok(h.mempool.has(computeTxid(t1.tx)));
  assert.ok(h.mempool.has(computeTxid(t2.tx)));
  assert.ok(h.mempool.has(computeTxid(cheap.tx)), 're-adding skips the fee floors');
  assert.equal(h.mempool.has(computeTxid(timeLocked.tx)), false, 'non-final at the new tip');
  assert.deepEqual(h.removed, [{ txid: txidOf(q.tx), reason: 'reorg' }]);
  const e1 = h.mempool.get(computeTxid(t1.tx))!;
  const em = h.mempool.get(computeTxid(m.tx))!;
  assert.equal(e1.descendantCount, 3);
  assert.equal(e1.descendantFees, 5_000n);
  assert.equal(em.ancestorCount, 3);
  assert.equal(em.ancestorFees, 5_000n);
  assert.equal(em.ancestorSize, e1.vsize + h.mempool.get(computeTxid(t2.tx))!.vsize + em.vsize);
  assert.deepEqual(h.mempool.txidsByAncestorFeeRate().map(hashToHex).slice(0, 3), [t1, t2, m].map((t) => txidOf(t.tx)));

  // The new branch confirms a double spend of c1: t1 and everything built on it go.
  h.removed.length = 0;
  h.connect([pay([c1], 2_000n, { key: BOB }).tx]);
  assert.deepEqual(
    h.removed.map((r) => [r.txid, r.reason]),
    [t1, t2, m].map((t) => [txidOf(t.tx), 'conflict']),
  );
  assert.deepEqual([...h.mempool.entries()].map((e) => e.txidHex), [txidOf(cheap.tx)]);
});

test('reorg (Core order: connect the new branch, then re-add): conflicting txs drop with their mempool spenders', async () => {
  const h = makeHarness();
  const c1 = h.fund(100_000n);
  const t1 = pay([c1], 1_000n);
  const t5 = pay([h.fund(100_000n)], 1_000n);
  const block = h.connect([t1.tx, t5.tx]);
  const m = pay([t1.coin], 1_000n);
  await h.mempool.acceptTransaction(m.tx);

  h.disconnect(block);
  h.connect([pay([c1], 2_000n, { key: BOB }).tx]);
  assert.ok(h.mempool.has(computeTxid(m.tx)), 'm spends no outpoint the new block spends');
  await h.mempool.addDisconnectedTxs([t1.tx, t5.tx]);
  assert.equal(h.mempool.has(computeTxid(t1.tx)), false);
  assert.equal(h.mempool.has(computeTxid(m.tx)), false);
  assert.deepEqual(h.removed, [{ txid: txidOf(m.tx), reason: 'reorg' }]);
  assert.deepEqual([...h.mempool.entries()].map((e) => e.txidHex), [txidOf(t5.tx)]);
});

test('reorg: spends of a disconnected coinbase leave the mempool', async () => {
  const h = makeHarness({}, { coinbaseMaturity: 1 });
  const block = h.connect([]);
  const coinbase = block.block.txs[0]!;
  const cbCoin: SpendableCoin = { outpoint: { txid: computeTxid(coinbase), index: 0 }, output: coinbase.outputs[0]!, key: ALICE };
  const spendCb = pay([cbCoin], 1_000n);
  await h.mempool.acceptTransaction(spendCb.tx);
  h.disconnect(block);
  await h.mempool.addDisconnectedTxs([]);
  assert.deepEqual(h.removed, [{ txid: txidOf(spendCb.tx), reason: 'reorg' }]);
});

test('reorg updates fired without awaiting run in call order; whenReorgUpdatesDone waits for all of them', async () => {
  const h = makeHarness();
  const t1 = pay([h.fund(100_000n)], 1_000n);
  const t2 = pay([t1.coin], 1_000n);
  const first = h.connect([t1.tx]);
  const second = h.connect([t2.tx]);
  h.disconnect(second);
  h.disconnect(first);
  // As the node's tipChanged handler does: fire and forget, child's block first (two reorgs in a row).
  const order: string[] = [];
  void h.mempool.addDisconnectedTxs([t2.tx]).then(() => order.push('second'));
  void h.mempool.addDisconnectedTxs([t1.tx]).then(() => order.push('first'));
  assert.equal(h.mempool.size, 0, 'nothing re-added synchronously');
  await h.mempool.whenReorgUpdatesDone();
  assert.deepEqual(order, ['second', 'first']);
  // t2 came back before its parent did, so it was dropped as an orphan; t1 is back.
  assert.deepEqual([...h.mempool.entries()].map((e) => e.txidHex), [txidOf(t1.tx)]);
});

test('expire: txs older than expirySec leave with their descendants', async () => {
  const day = 24 * 3600;
  const h = makeHarness();
  const old = pay([h.fund(100_000n)], 1_000n);
  await h.mempool.acceptTransaction(old.tx);
  h.state.now += 10 * day;
  const child = pay([old.coin], 1_000n);
  const fresh = pay([h.fund(100_000n)], 1_000n);
  await h.mempool.acceptTransaction(child.tx);
  await h.mempool.acceptTransaction(fresh.tx);
  h.state.now += 4 * day;
  assert.equal(h.mempool.expire(), 0, 'exactly 14 days old is not expired');
  h.state.now += 1;
  assert.equal(h.mempool.expire(), 2);
  assert.deepEqual(h.removed.map((r) => r.reason), ['expiry', 'expiry']);
  assert.deepEqual(h.removed.map((r) => r.txid).sort(), [txidOf(old.tx), txidOf(child.tx)].sort());
  assert.deepEqual([...h.mempool.entries()].map((e) => e.txidHex), [txidOf(fresh.tx)]);
});
